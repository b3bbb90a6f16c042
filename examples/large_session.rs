//! A shopping cart that outgrows one cookie: the session is split over
//! `session=chunks-N` plus `session.1` … `session.N`.
//!
//! ```text
//! cargo run --example large_session
//! # then, in a browser (or curl -c jar -b jar):
//! http://127.0.0.1:3000/cart/add?count=6&size=1000   # now chunked
//! http://127.0.0.1:3000/cart                         # {"bytes":6000,"digest":"…","items":6}
//! http://127.0.0.1:3000/size                         # bytes the cookies add to a request
//! http://127.0.0.1:3000/cart/shrink?keep=1           # back to one cookie; stale chunks expire
//! http://127.0.0.1:3000/cart/clear                   # every session cookie deleted
//! ```
//!
//! Items are pseudo-random base62 text, so zlib cannot make them vanish.
//! Once the cookies would exceed the budget (7168 request bytes by default,
//! `MAX_TOTAL_BYTES` to change it) an add answers `500` and the browser
//! keeps its previous cart. `SECRET_KEY` sets the key (a random one
//! otherwise) and `PORT` the port. The cookies are not `Secure`, so they
//! work over plain HTTP on 127.0.0.1; keep the default in production.

use axum::extract::Query;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_cookie_session::{Key, Session, SessionLayer};

const CART: &str = "cart";
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Item `index` of the cart: `size` bytes of base62 from an xorshift
/// seeded by the index, so the same cart always has the same content.
pub(crate) fn item(index: usize, size: usize) -> String {
    let mut x = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(BASE62[(x % 62) as usize])
        })
        .collect()
}

/// FNV-1a over every item, so a client can check the cart came back intact.
pub(crate) fn digest(items: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in items.iter().flat_map(|i| i.bytes().chain([0xff])) {
        h = (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn cart(session: &Session) -> Vec<String> {
    session.get(CART).ok().flatten().unwrap_or_default()
}

fn summary(items: &[String]) -> Json<Value> {
    let bytes: usize = items.iter().map(String::len).sum();
    Json(json!({ "items": items.len(), "bytes": bytes, "digest": digest(items) }))
}

#[derive(Deserialize)]
struct Add {
    count: Option<usize>,
    size: Option<usize>,
}

#[derive(Deserialize)]
struct Keep {
    keep: usize,
}

async fn show(session: Session) -> Json<Value> {
    summary(&cart(&session))
}

/// If the cart no longer fits the budget, the layer answers 500 and writes
/// nothing; a real shop would check `session.encoded_len()` first.
async fn add(session: Session, Query(q): Query<Add>) -> Json<Value> {
    let mut items = cart(&session);
    let size = q.size.unwrap_or(1000).min(64 * 1024);
    let start = items.len();
    items.extend((start..start + q.count.unwrap_or(1).min(100)).map(|i| item(i, size)));
    session.insert(CART, &items).expect("strings are JSON");
    summary(&items)
}

async fn shrink(session: Session, Query(q): Query<Keep>) -> Json<Value> {
    let mut items = cart(&session);
    items.truncate(q.keep);
    session.insert(CART, &items).expect("strings are JSON");
    summary(&items)
}

async fn clear(session: Session) -> Json<Value> {
    session.clear();
    summary(&[])
}

async fn size(session: Session) -> Json<Value> {
    match session.encoded_len() {
        Ok(n) => Json(json!({ "encoded_len": n })),
        Err(e) => Json(json!({ "encoded_len": e.to_string() })),
    }
}

/// The app: cart routes behind a non-`Secure` session layer.
pub(crate) fn app(key: Key, max_total_bytes: Option<usize>) -> Router {
    let mut layer = SessionLayer::new(key).with_secure(false);
    if let Some(bytes) = max_total_bytes {
        layer = layer.with_max_total_bytes(bytes);
    }
    Router::new()
        .route("/cart", get(show))
        .route("/cart/add", get(add).post(add))
        .route("/cart/shrink", get(shrink).post(shrink))
        .route("/cart/clear", get(clear).post(clear))
        .route("/size", get(size))
        .layer(layer)
}

#[tokio::main]
async fn main() {
    let key = match std::env::var("SECRET_KEY") {
        Ok(secret) => Key::new(secret).expect("SECRET_KEY must not be empty"),
        Err(_) => Key::generate(),
    };
    let max_total = std::env::var("MAX_TOTAL_BYTES").ok().map(|v| {
        v.parse()
            .expect("MAX_TOTAL_BYTES must be a number of bytes")
    });
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
    axum::serve(listener, app(key, max_total))
        .await
        .expect("server");
}
