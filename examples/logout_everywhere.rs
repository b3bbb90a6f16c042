//! Logout that sticks: a copied cookie stops working after a
//! logout-everywhere, with the decode cache on.
//!
//! A signed cookie is valid until its timestamp expires, wherever it was
//! copied to. This app keeps, per user, the time of their last
//! "log out everywhere" in memory (in production: a map refreshed from the
//! database) and a validator rejects every session whose login stamp
//! ([`Session::renew`]) is older. That is OWASP ASVS 5.0 V7.4.1's first
//! technique, "disallowing tokens produced before a per-user date and time".
//!
//! ```sh
//! cargo run --example logout_everywhere            # runs the scenario and checks it
//! PORT=3000 cargo run --example logout_everywhere  # then serves the app
//! ```
//!
//! Routes: `POST /login?user=ada`, `GET /me`, `POST /logout` (this browser),
//! `POST /logout-everywhere` (every session of the user).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use axum::extract::{Query, State};
use axum::http::{header, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use tower::ServiceExt;
use tower_cookie_session::{Key, Session, SessionInfo, SessionLayer};

/// Per user: sessions stamped at or before this time are revoked.
#[derive(Clone, Default)]
struct Revocations(Arc<RwLock<HashMap<String, SystemTime>>>);

impl Revocations {
    fn revoke_all(&self, user: &str) {
        let mut table = self.0.write().unwrap_or_else(|e| e.into_inner());
        table.insert(user.to_owned(), SystemTime::now());
    }

    /// The validator: an in-memory lookup, as it runs on every request.
    fn admits(&self, info: &SessionInfo<'_>) -> bool {
        let Ok(Some(user)) = info.get::<String>("user") else {
            return true; // not logged in: nothing to revoke
        };
        let table = self.0.read().unwrap_or_else(|e| e.into_inner());
        match (table.get(&user), info.issued_at()) {
            (None, _) => true,
            (Some(cutoff), Some(issued)) => issued > *cutoff,
            // A login without a stamp predates this scheme: revoke it too.
            (Some(_), None) => false,
        }
    }
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

async fn login(session: Session, Query(Login { user }): Query<Login>) -> StatusCode {
    session.clear();
    if session.insert("user", &user).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    // A new login: a new stamp, a cookie unlike any earlier one.
    session.renew();
    StatusCode::NO_CONTENT
}

async fn me(session: Session) -> String {
    session
        .get::<String>("user")
        .ok()
        .flatten()
        .unwrap_or_else(|| "nobody".to_owned())
}

async fn logout(session: Session) -> StatusCode {
    session.clear();
    StatusCode::NO_CONTENT
}

async fn logout_everywhere(State(revocations): State<Revocations>, session: Session) -> StatusCode {
    if let Ok(Some(user)) = session.get::<String>("user") {
        revocations.revoke_all(&user);
    }
    session.clear();
    StatusCode::NO_CONTENT
}

fn app(key: Key) -> Router {
    let revocations = Revocations::default();
    let check = revocations.clone();
    let layer = SessionLayer::new(key)
        .with_secure(false) // plain HTTP on loopback
        .with_validator(move |info| check.admits(info));
    Router::new()
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/logout", post(logout))
        .route("/logout-everywhere", post(logout_everywhere))
        .with_state(revocations)
        .layer(layer)
}

/// One request; returns the body and the `session=…` value set, if any.
async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
) -> (String, Option<String>) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("session={cookie}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(axum::body::Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let set = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    (body, set)
}

/// The scenario: a laptop and a copied cookie, one logout-everywhere.
async fn demonstrate(app: &Router) {
    let (_, laptop) = send(app, "POST", "/login?user=ada", None).await;
    let laptop = laptop.expect("login sets a cookie");
    let copied = laptop.clone(); // stolen, or a second device
    assert_eq!(send(app, "GET", "/me", Some(&copied)).await.0, "ada");
    println!("before: the copied cookie is logged in as ada (and now cached)");

    let (_, cleared) = send(app, "POST", "/logout-everywhere", Some(&laptop)).await;
    assert!(cleared.is_some(), "the laptop's cookie is deleted");
    let (who, set) = send(app, "GET", "/me", Some(&copied)).await;
    assert_eq!(who, "nobody", "the copied cookie must not log anyone in");
    assert!(set.is_some(), "and the response deletes it");
    println!("after logout-everywhere: the copied cookie is nobody, and is deleted");

    let (_, fresh) = send(app, "POST", "/login?user=ada", None).await;
    let fresh = fresh.expect("a new login");
    assert_ne!(fresh, copied, "a renewed cookie never equals an old one");
    assert_eq!(send(app, "GET", "/me", Some(&fresh)).await.0, "ada");
    assert_eq!(send(app, "GET", "/me", Some(&copied)).await.0, "nobody");
    println!("a new login works; the old copy stays revoked");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = match std::env::var("SECRET_KEY") {
        Ok(secret) => Key::new(secret)?,
        Err(_) => Key::generate(),
    };
    let app = app(key);
    demonstrate(&app).await;
    if let Ok(port) = std::env::var("PORT") {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port.parse()?)).await?;
        println!(
            "logout_everywhere listening on http://{}",
            listener.local_addr()?
        );
        axum::serve(listener, app).await?;
    }
    Ok(())
}
