//! Rust half of the live Flask-Login / Flask-WTF suite
//! (`tests/live/run.sh flask-login`): one cookie jar alternates between this
//! app and `examples/flask_login_interop_app.py` (Flask, Flask-Login,
//! Flask-WTF's `CSRFProtect`) with the same secret. A login on either side
//! is the login on both; a form rendered by one posts to the other; a
//! logout on either side, remember-me included, holds on both.
//!
//! ```sh
//! SECRET_KEY=dev-secret-key-0123456789abcdef PORT=3000 cargo run --example flask_login_interop
//! curl -c jar -b jar localhost:3000/form          # the csrf_token field
//! curl -c jar -b jar -d 'csrf_token=…&user_id=42&remember=1' localhost:3000/login
//! curl -b jar localhost:3000/whoami
//! ```
//!
//! Environment: `SECRET_KEY`, `SECRET_KEY_FALLBACKS`, `PORT`, and the
//! Flask app's `SESSION_PROTECTION` (basic|strong) and `WTF_CSRF_TIME_LIMIT`.

#[path = "common/keys.rs"]
mod keys;
#[path = "common/login_interop.rs"]
mod login_interop;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tower_cookie_session::csrf::CsrfLayer;
use tower_cookie_session::login::{Client, FlaskLogin, Remember, SessionProtection};
use tower_cookie_session::{Session, SessionLayer};

type Peer = ConnectInfo<SocketAddr>;

async fn whoami(
    State(login): State<FlaskLogin>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    session: Session,
) -> impl IntoResponse {
    let user = login.user(&session, &Client::new(&headers, Some(peer.ip())));
    Json(json!({
        "user": user.as_ref().map(|u| u.id.clone()),
        "fresh": user.is_some_and(|u| u.fresh),
    }))
}

async fn log_in(
    State(login): State<FlaskLogin>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    session: Session,
    body: Bytes,
) -> impl IntoResponse {
    // Authentication is the app's concern; the suite logs in by id on both sides.
    let user_id = login_interop::form_field(&body, "user_id").unwrap_or_default();
    let remember = match login_interop::form_field(&body, "remember").as_deref() {
        Some("1") => Remember::For(Duration::from_secs(86_400)),
        _ => Remember::No,
    };
    let client = Client::new(&headers, Some(peer.ip()));
    let cookie = login.login(&session, &client, &user_id, remember);
    (cookie, Json(json!({ "user": user_id })))
}

async fn log_out(
    State(login): State<FlaskLogin>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    session: Session,
) -> impl IntoResponse {
    let cookie = login.logout(&session, &Client::new(&headers, Some(peer.ip())));
    (cookie, Json(json!({ "user": null })))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (key, fallbacks) = keys::keys_from_env()?;
    let protection = match std::env::var("SESSION_PROTECTION").as_deref() {
        Ok("strong") => SessionProtection::Strong,
        Ok("off") => SessionProtection::Off,
        _ => SessionProtection::Basic,
    };
    let time_limit = match std::env::var("WTF_CSRF_TIME_LIMIT") {
        Ok(s) if s == "None" => None,
        Ok(s) => Some(Duration::from_secs(s.parse()?)),
        Err(_) => Some(Duration::from_secs(3600)),
    };
    let login = FlaskLogin::new(key.clone()).with_session_protection(protection);
    let app = Router::new()
        .route("/whoami", get(whoami))
        .route("/form", get(login_interop::form))
        .route("/login", post(log_in))
        .route("/logout", post(log_out))
        .route("/submit", post(login_interop::submit))
        .with_state(login)
        // Inside the session layer: Flask-WTF's raw token lives in the session.
        .layer(CsrfLayer::flask_wtf(key.clone()).with_time_limit(time_limit))
        // Plain HTTP on loopback: the cookie must not be `Secure`.
        .layer(
            SessionLayer::new(key)
                .with_fallback_keys(fallbacks)
                .with_secure(false),
        );
    login_interop::serve("flask_login_interop", app).await
}
