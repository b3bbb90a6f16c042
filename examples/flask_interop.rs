//! Rust half of the live Flask interop suite (`tests/interop/run.sh`).
//!
//! This axum app implements the same HTTP contract as
//! `examples/flask_interop_app.py`, a real Flask app: one client cookie jar
//! alternates between the two, and each side must see every write of the
//! other — typed values (tuple, bytes, datetime, UUID, Markup), flashed
//! messages, the permanent flag — and accept cookies signed with a fallback key.
//!
//! Configuration (environment):
//! * `SECRET_KEY` — the current key (required);
//! * `SECRET_KEY_FALLBACKS` — comma-separated older keys, still accepted (optional);
//! * `PORT` — port to bind on 127.0.0.1 (default 3000);
//! * `COMPRESSION` — `flask` (default: Flask's exact bytes), `auto` or `never`,
//! * `MAX_TOTAL_BYTES` — the session's cookie budget,
//!   [`SessionLayer::with_max_total_bytes`] (optional, default 7168);
//! * `MAX_CHUNKS` — [`SessionLayer::with_max_chunks`] (optional, default 99;
//!   `1` never chunks, so every session stays readable by Flask);
//! * `CLOCK_OFFSET_SECS` — run this node's clock that far ahead
//!   ([`SessionLayer::with_clock`]; the clock-skew checks).
//!
//! ```sh
//! SECRET_KEY=dev PORT=3000 cargo run --example flask_interop
//! curl -c jar -b jar -X POST localhost:3000/counter
//! curl -b jar localhost:3000/state
//! ```
//!
//! Routes (all JSON):
//! * `GET /state` → `{"session": {...}}`, the whole session in natural form
//!   (tuples and bytes as arrays, UUIDs hyphenated, datetimes RFC 3339 UTC);
//! * `POST /write/{kind}/{key}` with `{"value": ...}`, kind one of `str`, `int`,
//!   `tuple` (array), `bytes` (array of ints), `datetime` (unix seconds),
//!   `uuid` (hyphenated), `markup` (string) — stored with the Python type;
//! * `POST /flash` with `{"category", "message"}`; `GET /flashes` pops them;
//! * `POST /permanent` with `{"on": bool}`; `POST /clear`; `POST /counter`;
//! * `POST /login` with `{"user"}`, `POST /logout` (clears the session),
//!   `GET /whoami` → `{"user": name or null}`;
//! * `POST /renew` ([`Session::renew`]) and `GET /issued` →
//!   `{"issued_at_us": n or null}`, the login stamp (microseconds);
//! * `POST /cart/add` with `{"item", "qty"}` (a `{item: qty}` object under
//!   `cart`), `GET /cart` → `{"cart": {...}}`.
//!
//! The mixed-fleet suite (`tests/e2e/run.sh`) runs this app and the Flask
//! one behind nginx.

use std::env;
use std::net::Ipv4Addr;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower_cookie_session::{flask, Compression, Key, Session, SessionLayer};

type Reply = Result<Json<Value>, (StatusCode, String)>;

fn bad_request(msg: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, msg.into())
}

fn internal(err: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, err.to_string())
}

/// The whole session in natural form.
async fn state(session: Session) -> Json<Value> {
    let mut out = Map::new();
    for key in session.keys() {
        if let Some(value) = session.get_value(&key) {
            out.insert(key, value);
        }
    }
    Json(json!({ "session": out }))
}

#[derive(Deserialize)]
struct WriteBody {
    value: Value,
}

/// Store `value` under `key` with the Python type named by `kind`.
async fn write(
    session: Session,
    Path((kind, key)): Path<(String, String)>,
    Json(WriteBody { value }): Json<WriteBody>,
) -> Reply {
    let stored = match kind.as_str() {
        "str" => {
            let s = value
                .as_str()
                .ok_or_else(|| bad_request("str expects a string"))?;
            session.insert(&key, s)
        }
        "int" => {
            let n = value
                .as_i64()
                .ok_or_else(|| bad_request("int expects an integer"))?;
            session.insert(&key, n)
        }
        "tuple" => {
            let items = value
                .as_array()
                .ok_or_else(|| bad_request("tuple expects an array"))?;
            session.insert(&key, flask::Tuple(items.clone()))
        }
        "bytes" => {
            let bytes = serde_json::from_value::<Vec<u8>>(value)
                .map_err(|e| bad_request(format!("bytes expects an array of 0..=255: {e}")))?;
            session.insert(&key, flask::Bytes(bytes))
        }
        "datetime" => {
            let secs = value
                .as_u64()
                .ok_or_else(|| bad_request("datetime expects unix seconds"))?;
            session.insert(
                &key,
                flask::DateTime(UNIX_EPOCH + Duration::from_secs(secs)),
            )
        }
        "uuid" => {
            let s = value
                .as_str()
                .ok_or_else(|| bad_request("uuid expects a string"))?;
            let uuid =
                uuid::Uuid::parse_str(s).map_err(|e| bad_request(format!("bad uuid: {e}")))?;
            session.insert(&key, flask::Uuid(uuid.as_u128()))
        }
        "markup" => {
            let s = value
                .as_str()
                .ok_or_else(|| bad_request("markup expects a string"))?;
            session.insert(&key, flask::Markup(s.to_owned()))
        }
        other => return Err((StatusCode::NOT_FOUND, format!("unknown kind {other:?}"))),
    };
    stored.map_err(internal)?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct FlashBody {
    #[serde(default = "default_category")]
    category: String,
    #[serde(default)]
    message: String,
}

fn default_category() -> String {
    "message".to_owned()
}

async fn flash(session: Session, Json(body): Json<FlashBody>) -> Reply {
    flask::flash(&session, &body.message, &body.category).map_err(internal)?;
    Ok(Json(json!({ "ok": true })))
}

/// Pops the flashed messages, like `get_flashed_messages(with_categories=True)`.
async fn flashes(session: Session) -> Json<Value> {
    Json(json!({ "flashes": flask::take_flashes(&session) }))
}

#[derive(Deserialize)]
struct PermanentBody {
    on: bool,
}

async fn permanent(session: Session, Json(body): Json<PermanentBody>) -> Json<Value> {
    session.set_permanent(body.on);
    Json(json!({ "permanent": session.is_permanent() }))
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

#[derive(Deserialize)]
struct LoginBody {
    user: String,
}

async fn login(session: Session, Json(body): Json<LoginBody>) -> Reply {
    session.insert("user", &body.user).map_err(internal)?;
    Ok(Json(json!({ "user": body.user })))
}

/// Logging out forgets everything, as `session.clear()` does in Flask.
async fn logout(session: Session) -> Json<Value> {
    session.clear();
    Json(json!({ "user": null }))
}

async fn whoami(session: Session) -> Reply {
    let user = session.get::<String>("user").map_err(internal)?;
    Ok(Json(json!({ "user": user })))
}

#[derive(Deserialize)]
struct CartBody {
    item: String,
    #[serde(default = "one")]
    qty: i64,
}

fn one() -> i64 {
    1
}

async fn cart_add(session: Session, Json(body): Json<CartBody>) -> Reply {
    let mut cart = session
        .get::<Map<String, Value>>("cart")
        .map_err(internal)?
        .unwrap_or_default();
    let qty = cart.get(&body.item).and_then(Value::as_i64).unwrap_or(0) + body.qty;
    cart.insert(body.item, qty.into());
    session.insert("cart", &cart).map_err(internal)?;
    Ok(Json(json!({ "cart": cart })))
}

async fn cart(session: Session) -> Reply {
    let cart = session
        .get::<Map<String, Value>>("cart")
        .map_err(internal)?
        .unwrap_or_default();
    Ok(Json(json!({ "cart": cart })))
}

/// A new login stamp ([`Session::renew`]); returns it in microseconds.
async fn renew(session: Session) -> Json<Value> {
    session.renew();
    issued(session).await
}

async fn issued(session: Session) -> Json<Value> {
    let us = session
        .issued_at()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_micros() as u64);
    Json(json!({ "issued_at_us": us }))
}

fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/state", get(state))
        .route("/write/{kind}/{key}", post(write))
        .route("/flash", post(flash))
        .route("/flashes", get(flashes))
        .route("/permanent", post(permanent))
        .route("/clear", post(clear))
        .route("/counter", post(counter))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/whoami", get(whoami))
        .route("/cart", get(cart))
        .route("/cart/add", post(cart_add))
        .route("/renew", post(renew))
        .route("/issued", get(issued))
        .layer(layer)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let secret = env::var("SECRET_KEY").map_err(|_| "SECRET_KEY must be set")?;
    let fallbacks = env::var("SECRET_KEY_FALLBACKS")
        .unwrap_or_default()
        .split(',')
        .filter(|k| !k.is_empty())
        .map(Key::new)
        .collect::<Result<Vec<_>, _>>()?;
    let port: u16 = match env::var("PORT") {
        Ok(p) => p.parse()?,
        Err(_) => 3000,
    };

    // Plain http on loopback: the cookie must not be `Secure`.
    // Compression::Flask (the default here) makes every cookie byte-identical
    // to the one Flask writes for the same session and second; the suite
    // checks that, and with COMPRESSION=auto that Flask reads ours too.
    let compression = match env::var("COMPRESSION").as_deref() {
        Ok("auto") => Compression::Auto,
        Ok("never") => Compression::Never,
        _ => Compression::Flask,
    };
    let mut layer = SessionLayer::new(Key::new(secret)?)
        .with_fallback_keys(fallbacks)
        .with_compression(compression)
        .with_secure(false);
    if let Ok(bytes) = env::var("MAX_TOTAL_BYTES") {
        layer = layer.with_max_total_bytes(bytes.parse()?);
    }
    if let Ok(chunks) = env::var("MAX_CHUNKS") {
        layer = layer.with_max_chunks(chunks.parse()?);
    }
    // The clock-skew suite runs this node ahead of the Flask one.
    if let Ok(offset) = env::var("CLOCK_OFFSET_SECS") {
        let offset = Duration::from_secs(offset.parse()?);
        layer = layer.with_clock(move || std::time::SystemTime::now() + offset);
    }

    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!(
        "flask_interop listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app(layer)).await?;
    Ok(())
}
