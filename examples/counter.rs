//! The README's demo: a visit counter kept in a signed session cookie.
//!
//! ```text
//! cargo run --example counter
//! curl -c jar -b jar http://127.0.0.1:3000/   # run it twice
//! ```
//!
//! `SECRET_KEY` sets the key (Flask's `SECRET_KEY`; a random one otherwise)
//! and `PORT` the port. The cookie is not `Secure` so that it works over
//! plain HTTP on localhost; keep the default (`Secure`) in production.

use axum::{routing::get, Router};
use tower_cookie_session::{Key, Session, SessionLayer};

async fn count(session: Session) -> String {
    let visits: u64 = session.get("visits").ok().flatten().unwrap_or(0) + 1;
    session.insert("visits", visits).expect("a number is JSON");
    format!("You have visited this page {visits} time(s).\n")
}

async fn forget(session: Session) -> &'static str {
    session.clear();
    "Forgotten.\n"
}

#[tokio::main]
async fn main() {
    let key = match std::env::var("SECRET_KEY") {
        Ok(secret) => Key::new(secret).expect("SECRET_KEY must not be empty"),
        Err(_) => Key::generate(),
    };
    let app = Router::new()
        .route("/", get(count))
        .route("/forget", get(forget))
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
