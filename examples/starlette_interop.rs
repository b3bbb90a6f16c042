//! Rust half of the live Starlette/FastAPI interop suite (`tests/live/run.sh starlette`): one
//! client cookie jar alternates between this app and
//! `examples/starlette_interop_app.py`, a FastAPI app with Starlette's `SessionMiddleware` (uvicorn) with the same secret, and each side sees every
//! write of the other.
//!
//! Starlette has one key: `SECRET_KEY_FALLBACKS` lets this side verify old
//! cookies during a rotation, which Starlette itself cannot.
//!
//! ```sh
//! SECRET_KEY=dev PORT=3000 cargo run --example starlette_interop
//! curl -c jar -b jar -X POST localhost:3000/counter
//! curl -b jar localhost:3000/state
//! ```
//!
//! The routes are in `examples/common/python_interop.rs`.

#[path = "common/keys.rs"]
mod keys;
#[path = "common/python_interop.rs"]
mod python_interop;

use tower_cookie_session::SessionLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (key, fallbacks) = keys::keys_from_env()?;
    // Plain HTTP on loopback: the cookie must not be `Secure`.
    let layer = SessionLayer::starlette(key)
        .with_fallback_keys(fallbacks)
        .with_secure(false);
    python_interop::serve("starlette_interop", layer).await
}
