//! Rust half of the live Quart interop suite (`tests/live/run.sh quart`): one
//! client cookie jar alternates between this app and
//! `examples/quart_interop_app.py`, a Quart app (hypercorn), whose cookie is Flask's format with keys in
//! insertion order with the same secret, and each side sees every
//! write of the other.
//!
//! `SECRET_KEY_FALLBACKS` is Quart's (Flask's) setting of the same name.
//!
//! ```sh
//! SECRET_KEY=dev PORT=3000 cargo run --example quart_interop
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
    let layer = SessionLayer::quart(key)
        .with_fallback_keys(fallbacks)
        .with_secure(false);
    python_interop::serve("quart_interop", layer).await
}
