//! Authentication in the shape axum-login users know: a user loader, a login
//! route that renews the session, a protected route, logout. The session is
//! a signed cookie: no store, one hour of inactivity.
//!
//! ```sh
//! cargo run --example auth
//! curl -c jar -b jar -d 'name=ada&password=lovelace' localhost:3000/login
//! curl -b jar localhost:3000/protected
//! curl -c jar -b jar -X POST localhost:3000/logout
//! ```
//!
//! Passwords are compared in plain text to keep the example short: store
//! and check a password hash (argon2) in a real application.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tower_cookie_session::{Error, Expiry, Key, Session, SessionLayer};

/// The session key of the logged-in user's id.
const USER_ID: &str = "user_id";

#[derive(Clone, Debug)]
struct User {
    id: u64,
    name: String,
    password: String,
}

/// The user loader: where `AuthSession` finds the user of a session.
#[derive(Clone, Default)]
struct Users(Arc<HashMap<u64, User>>);

impl Users {
    fn demo() -> Self {
        let ada = User {
            id: 1,
            name: "ada".into(),
            password: "lovelace".into(),
        };
        Self(Arc::new(HashMap::from([(ada.id, ada)])))
    }

    fn get(&self, id: u64) -> Option<User> {
        self.0.get(&id).cloned()
    }

    fn authenticate(&self, name: &str, password: &str) -> Option<User> {
        self.0
            .values()
            .find(|u| u.name == name && u.password == password)
            .cloned()
    }
}

/// The extractor handlers use, as axum-login's `AuthSession`: the session
/// and the user loader together.
struct AuthSession {
    session: Session,
    users: Users,
}

impl AuthSession {
    fn user(&self) -> Result<Option<User>, Error> {
        Ok(self
            .session
            .get::<u64>(USER_ID)?
            .and_then(|id| self.users.get(id)))
    }

    /// Logs `user` in: a fresh session (no value from before the login
    /// survives) with a new login stamp.
    fn login(&self, user: &User) -> Result<(), Error> {
        self.session.clear();
        self.session.insert(USER_ID, user.id)?;
        self.session.renew();
        Ok(())
    }

    fn logout(&self) {
        self.session.clear();
    }
}

impl<S> FromRequestParts<S> for AuthSession
where
    S: Send + Sync,
    Users: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            session,
            users: Users::from_ref(state),
        })
    }
}

#[derive(Deserialize)]
struct Credentials {
    name: String,
    password: String,
}

async fn login(
    auth: AuthSession,
    State(users): State<Users>,
    Form(creds): Form<Credentials>,
) -> Result<Response, Error> {
    let Some(user) = users.authenticate(&creds.name, &creds.password) else {
        return Ok((StatusCode::UNAUTHORIZED, "wrong name or password").into_response());
    };
    auth.login(&user)?;
    Ok(format!("welcome, {}", user.name).into_response())
}

async fn protected(auth: AuthSession) -> Result<Response, Error> {
    Ok(match auth.user()? {
        Some(user) => format!("hello {} (user {})", user.name, user.id).into_response(),
        None => (StatusCode::UNAUTHORIZED, "log in first").into_response(),
    })
}

async fn logout(auth: AuthSession) -> StatusCode {
    auth.logout();
    StatusCode::NO_CONTENT
}

fn app(key: Key, users: Users) -> Router {
    let sessions = SessionLayer::new(key)
        .with_expiry(Expiry::OnInactivity(Duration::from_secs(3600)))
        // Throttle the sliding refresh: one re-signed cookie a minute.
        .with_refresh_after(Duration::from_secs(60))
        // Plain HTTP on localhost; keep the default `Secure` behind TLS.
        .with_secure(false);
    Router::new()
        .route("/login", post(login))
        .route("/protected", get(protected))
        .route("/logout", post(logout))
        .with_state(users)
        .layer(sessions)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = match std::env::var("SECRET_KEY") {
        Ok(secret) => Key::new(secret)?,
        Err(_) => Key::generate(),
    };
    let port: u16 = std::env::var("PORT").map_or(Ok(3000), |p| p.parse())?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!("auth example on http://{}", listener.local_addr()?);
    axum::serve(listener, app(key, Users::demo())).await?;
    Ok(())
}
