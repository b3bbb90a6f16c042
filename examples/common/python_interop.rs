//! The HTTP contract shared by the Rust halves of the live Starlette,
//! Django and Quart suites (`tests/live/`), each the same routes behind its
//! framework's layer. The Python halves (`examples/*_interop_app.py`)
//! implement the same routes with the real framework.
//!
//! Environment: `SECRET_KEY` (required), `SECRET_KEY_FALLBACKS`
//! (comma-separated older keys, optional), `PORT` (default 3000).
//!
//! Routes (all JSON):
//! * `GET /ping` → `{"ok": true}`, never touches the session;
//! * `GET /state` → `{"session": {...}, "keys": [...]}`: the values
//!   `serde_json` can hold, and every key in the session's own order (a
//!   value it cannot hold, such as `2**64` from Python, is listed in `keys`
//!   and carried through writes untouched);
//! * `POST /set` with `{"key", "value"}`; `POST /remove` with `{"key"}`;
//! * `POST /clear` (logout); `POST /counter` → `{"counter": n}`.

use std::env;
use std::net::Ipv4Addr;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower_cookie_session::{Session, SessionLayer};

type Reply = Result<Json<Value>, (StatusCode, String)>;

fn internal(err: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, err.to_string())
}

async fn state(session: Session) -> Json<Value> {
    let keys = session.keys();
    let values: Map<String, Value> = keys
        .iter()
        .filter_map(|k| Some((k.clone(), session.get_value(k)?)))
        .collect();
    Json(json!({ "session": values, "keys": keys }))
}

#[derive(Deserialize)]
struct SetBody {
    key: String,
    value: Value,
}

async fn set(session: Session, Json(body): Json<SetBody>) -> Reply {
    session.insert(&body.key, body.value).map_err(internal)?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct KeyBody {
    key: String,
}

async fn remove(session: Session, Json(body): Json<KeyBody>) -> Json<Value> {
    session.remove(&body.key);
    Json(json!({ "ok": true }))
}

async fn clear(session: Session) -> Json<Value> {
    session.clear();
    Json(json!({ "ok": true }))
}

async fn counter(session: Session) -> Reply {
    let n = session
        .get::<i64>("counter")
        .map_err(internal)?
        .unwrap_or(0)
        + 1;
    session.insert("counter", n).map_err(internal)?;
    Ok(Json(json!({ "counter": n })))
}

/// Serves the contract's routes behind `layer` on `127.0.0.1:$PORT`.
pub(crate) async fn serve(
    name: &str,
    layer: SessionLayer,
) -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port: u16 = match env::var("PORT") {
        Ok(p) => p.parse()?,
        Err(_) => 3000,
    };
    let app = Router::new()
        .route("/ping", get(|| async { Json(json!({ "ok": true })) }))
        .route("/state", get(state))
        .route("/set", post(set))
        .route("/remove", post(remove))
        .route("/clear", post(clear))
        .route("/counter", post(counter))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!("{name} listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
