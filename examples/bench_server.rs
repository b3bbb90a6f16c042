//! Loopback server for the throughput script `benches/wrk.sh`.
//!
//! `GET /` reads one key and writes one key of a ~100 B session (the payload
//! of the benchmarks: three 24-character values); a request without a
//! session cookie gets the payload. `GET /read` only reads. With
//! `LAYER=off` the same routes return the same body without any session, so
//! the two servers differ by the layer alone (the client sends both the same
//! `Cookie` header). `LAYER=tower-sessions` serves the same routes with
//! tower-sessions 0.15 and its `MemoryStore`, the server-side peer.
//!
//! Environment: `PORT` (default 3000, bound on 127.0.0.1), `LAYER` (`on`,
//! the default, `off` or `tower-sessions`).
//!
//! ```sh
//! LAYER=on PORT=3000 cargo run --release --example bench_server
//! curl -i localhost:3000/
//! ```

#[path = "../benches/common/mod.rs"]
mod common;

use std::net::Ipv4Addr;

use axum::routing::get;
use axum::Router;
use common::{payload, write_value, Kind, READ_KEY, SECRET, SIZES, WRITE_KEY};
use tower_cookie_session::{Key, Session, SessionLayer};

async fn read_write(session: Session) -> &'static str {
    match session.get::<String>(READ_KEY) {
        Ok(Some(_)) => session
            .insert(WRITE_KEY, write_value())
            .expect("a string is JSON"),
        _ => {
            for (k, v) in payload(Kind::Alnum, SIZES[0].1) {
                session.insert(&k, v).expect("a string is JSON");
            }
        }
    }
    "ok"
}

async fn read(session: Session) -> &'static str {
    std::hint::black_box(session.get::<String>(READ_KEY).ok());
    "ok"
}

async fn ts_read_write(session: tower_sessions::Session) -> &'static str {
    match session.get::<String>(READ_KEY).await {
        Ok(Some(_)) => session
            .insert(WRITE_KEY, write_value())
            .await
            .expect("the memory store"),
        _ => {
            for (k, v) in payload(Kind::Alnum, SIZES[0].1) {
                session.insert(&k, v).await.expect("the memory store");
            }
        }
    }
    "ok"
}

async fn ts_read(session: tower_sessions::Session) -> &'static str {
    std::hint::black_box(session.get::<String>(READ_KEY).await.ok());
    "ok"
}

async fn plain() -> &'static str {
    "ok"
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let layer = std::env::var("LAYER").unwrap_or_else(|_| "on".to_owned());
    let app = match layer.as_str() {
        "on" => Router::new()
            .route("/", get(read_write))
            .route("/read", get(read))
            .layer(SessionLayer::new(Key::new(SECRET).expect("non-empty")).with_secure(false)),
        "off" => Router::new()
            .route("/", get(plain))
            .route("/read", get(plain)),
        "tower-sessions" => Router::new()
            .route("/", get(ts_read_write))
            .route("/read", get(ts_read))
            .layer(
                tower_sessions::SessionManagerLayer::new(tower_sessions::MemoryStore::default())
                    .with_secure(false),
            ),
        other => panic!("LAYER must be `on`, `off` or `tower-sessions`, not {other:?}"),
    };
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .expect("bind 127.0.0.1:PORT");
    eprintln!("bench_server listening on 127.0.0.1:{port}, LAYER={layer}");
    axum::serve(listener, app).await.expect("server");
}
