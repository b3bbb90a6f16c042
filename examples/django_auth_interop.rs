//! Rust half of the live Django auth / CSRF suite (`tests/live/run.sh
//! django-auth`): one cookie jar alternates between this app and
//! `examples/django_auth_interop_app.py` (Django 5.2, `signed_cookies`
//! sessions, `django.contrib.auth`, `CsrfViewMiddleware`) with the same
//! secret. A login on either side is the login on both, a password changed
//! in Django logs the Rust side out, and forms post across.
//!
//! The user table is Django's; this example reads the users' stored
//! password fields from the JSON file the Python app exports on every
//! save (`USERS_FILE`) — in a real service, a query on `auth_user`.
//!
//! ```sh
//! SECRET_KEY=dev-secret-key-0123456789abcdef USERS_FILE=users.json PORT=3000 \
//!     cargo run --example django_auth_interop
//! ```
//!
//! Environment: `SECRET_KEY`, `SECRET_KEY_FALLBACKS`, `PORT`, `USERS_FILE`,
//! `CSRF_TRUSTED_ORIGINS` (comma-separated).

#[path = "common/keys.rs"]
mod keys;
#[path = "common/login_interop.rs"]
mod login_interop;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_cookie_session::csrf::{CsrfLayer, CsrfToken};
use tower_cookie_session::login::DjangoAuth;
use tower_cookie_session::{Session, SessionLayer};

#[derive(Clone)]
struct App {
    auth: DjangoAuth,
    users_file: Arc<str>,
}

/// The stored password field of an active user: the row Django's
/// `ModelBackend.get_user` would load.
async fn password_of(users_file: &str, id: &str) -> std::io::Result<Option<String>> {
    let text = tokio::fs::read_to_string(users_file).await?;
    let users: Value = serde_json::from_str(&text)?;
    let user = &users[id];
    Ok((user["is_active"] == true)
        .then(|| user["password"].as_str().map(str::to_owned))
        .flatten())
}

async fn whoami(State(app): State<App>, session: Session) -> Result<Json<Value>, StatusCode> {
    let user = app
        .auth
        .user(&session, |id| async move {
            password_of(&app.users_file, &id).await
        })
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json!({ "user": user })))
}

async fn log_in(
    State(app): State<App>,
    session: Session,
    csrf: CsrfToken,
    body: Bytes,
) -> Result<Json<Value>, StatusCode> {
    // Authentication is the app's concern; the suite logs in by id on both sides.
    let user_id = login_interop::form_field(&body, "user_id").unwrap_or_default();
    let password = password_of(&app.users_file, &user_id)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .ok_or(StatusCode::NOT_FOUND)?;
    app.auth.login(&session, &user_id, &password, Some(&csrf));
    Ok(Json(json!({ "user": user_id })))
}

async fn log_out(State(app): State<App>, session: Session) -> Json<Value> {
    app.auth.logout(&session);
    Json(json!({ "user": null }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (key, fallbacks) = keys::keys_from_env()?;
    let users_file: Arc<str> = std::env::var("USERS_FILE")
        .map_err(|_| "USERS_FILE must be set")?
        .into();
    let trusted: Vec<String> = std::env::var("CSRF_TRUSTED_ORIGINS")
        .unwrap_or_default()
        .split(',')
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    let auth = DjangoAuth::new(key.clone()).with_fallback_keys(fallbacks.clone());
    let app = Router::new()
        .route("/whoami", get(whoami))
        .route("/form", get(login_interop::form))
        .route("/login", post(log_in))
        .route("/logout", post(log_out))
        .route("/submit", post(login_interop::submit))
        .with_state(App { auth, users_file })
        .layer(CsrfLayer::django().with_trusted_origins(trusted))
        // Plain HTTP on loopback: the cookie must not be `Secure`.
        .layer(
            SessionLayer::django(key)
                .with_fallback_keys(fallbacks)
                .with_secure(false),
        );
    login_interop::serve("django_auth_interop", app).await
}
