//! Rust half of the live Django interop suite (`tests/live/run.sh django`): one
//! client cookie jar alternates between this app and
//! `examples/django_interop_app.py`, a Django 5.2 app with the `signed_cookies` session backend (waitress) with the same secret, and each side sees every
//! write of the other.
//!
//! `SECRET_KEY_FALLBACKS` is Django's setting of the same name.
//!
//! ```sh
//! SECRET_KEY=dev PORT=3000 cargo run --example django_interop
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
    let layer = SessionLayer::django(key)
        .with_fallback_keys(fallbacks)
        .with_secure(false);
    python_interop::serve("django_interop", layer).await
}
