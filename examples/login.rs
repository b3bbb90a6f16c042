//! Login and logout with flashed messages, as a Flask app would do them.
//!
//! ```text
//! cargo run --example login
//! open http://127.0.0.1:3000/
//! ```
//!
//! Flashed messages are stored exactly as Flask's `flash()` stores them, so
//! a Flask app sharing the secret shows them too.

use axum::{
    extract::Form,
    response::{Html, IntoResponse, Redirect},
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use tower_cookie_session::{flask, Key, Session, SessionLayer};

#[derive(Deserialize)]
struct Login {
    username: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index(session: Session) -> Html<String> {
    let flashes: String = flask::take_flashes(&session)
        .into_iter()
        .map(|(category, message)| {
            format!(
                "<p class=\"{}\">{}</p>",
                escape(&category),
                escape(&message)
            )
        })
        .collect();
    let body = match session.get::<String>("username").ok().flatten() {
        Some(user) => format!(
            "<p>Logged in as {}.</p><form method=post action=/logout><button>Log out</button></form>",
            escape(&user)
        ),
        None => "<form method=post action=/login><input name=username><button>Log in</button></form>".to_owned(),
    };
    Html(format!(
        "<!doctype html><title>login</title>{flashes}{body}"
    ))
}

async fn login(session: Session, Form(form): Form<Login>) -> impl IntoResponse {
    let name = form.username.trim();
    if name.is_empty() {
        let _ = flask::flash(&session, "Please enter a user name.", "error");
    } else {
        session.insert("username", name).expect("a string is JSON");
        let _ = flask::flash(&session, &format!("Welcome, {name}!"), "message");
    }
    Redirect::to("/")
}

async fn logout(session: Session) -> impl IntoResponse {
    session.clear();
    let _ = flask::flash(&session, "You were logged out.", "message");
    Redirect::to("/")
}

#[tokio::main]
async fn main() {
    let key = match std::env::var("SECRET_KEY") {
        Ok(secret) => Key::new(secret).expect("SECRET_KEY must not be empty"),
        Err(_) => Key::generate(),
    };
    let app = Router::new()
        .route("/", get(index))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .layer(SessionLayer::new(key).with_secure(false));
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("bound")
    );
    axum::serve(listener, app).await.expect("server");
}
