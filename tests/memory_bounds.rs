//! What a request and the decode cache really allocate, counted by a global
//! allocator: work for an unverified cookie is bounded by its length, and
//! the cache's bound holds in real bytes.
//!
//! The tests take turns (one lock) and run on a current-thread runtime, so
//! the counters see one request at a time.

use std::alloc::System;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tower::ServiceExt as _;
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{Key, Session, SessionLayer};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes handed out since `region` began (stats_alloc counts a
/// reallocation's growth as allocated, its shrinking as freed).
fn allocated(region: &Region<'_, System>) -> usize {
    region.change().bytes_allocated
}

/// Bytes still held since `region` began.
fn live(region: &Region<'_, System>) -> isize {
    let stats = region.change();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

static TURN: Mutex<()> = Mutex::new(());

const SECRET: &str = "memory-bounds-secret-key-0123456789abcdef";

fn key() -> Key {
    Key::new(SECRET).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn app(layer: SessionLayer) -> Router {
    async fn read(session: Session) -> Json<Value> {
        Json(json!({ "len": session.len() }))
    }
    async fn write(session: Session) -> Json<Value> {
        session.insert("n", 1).unwrap();
        Json(json!({}))
    }
    async fn untouched() -> &'static str {
        "ok"
    }
    Router::new()
        .route("/read", get(read))
        .route("/write", get(write))
        .route("/untouched", get(untouched))
        .layer(layer)
}

fn request(path: &str, cookie: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// `session=.<base64url(zlib(1 MiB of spaces))>.<ts>.<27 junk chars>`: 1.4 KB
/// that claims to inflate to a megabyte, with a signature that is not one.
fn zlib_bomb_cookie() -> String {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![b' '; 1 << 20]).unwrap();
    let payload = URL_SAFE_NO_PAD.encode(z.finish().unwrap());
    let ts = URL_SAFE_NO_PAD.encode(&now().to_be_bytes()[4..]);
    format!("session=.{payload}.{ts}.{}", "A".repeat(27))
}

#[test]
fn a_forged_zlib_cookie_allocates_in_proportion_to_its_length_only() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let cookie = zlib_bomb_cookie();
    assert!(cookie.len() < 2000, "{}", cookie.len());
    let rt = runtime();
    let app = app(SessionLayer::new(key()));
    // Warm up every route (lazy statics, thread-locals, the router).
    for path in ["/untouched", "/read", "/write"] {
        rt.block_on(app.clone().oneshot(request(path, "a=b")))
            .unwrap();
    }
    for path in ["/untouched", "/read", "/write"] {
        let req = request(path, &cookie);
        let region = Region::new(GLOBAL);
        let res = rt.block_on(app.clone().oneshot(req)).unwrap();
        let spent = allocated(&region);
        assert_eq!(res.status(), StatusCode::OK);
        drop(res);
        // The request, the router and the response need a few KiB; an
        // inflation would need a megabyte.
        let bound = 8 * cookie.len() + 16 * 1024;
        assert!(
            spent <= bound,
            "{path}: {spent} bytes allocated for a {}-byte forged cookie (bound {bound})",
            cookie.len()
        );
    }
}

#[test]
fn the_decode_cache_bound_holds_in_real_bytes() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    const BOUND: usize = 2 << 20;
    let codec = Codec::new(key());
    // Small JSON that decodes into many B-tree nodes: the shape that
    // costs most heap per cookie byte.
    let tokens: Vec<String> = (0..4000u64)
        .map(|i| {
            let items: Vec<Value> = (0..24).map(|j| json!({ "k": i * 100 + j })).collect();
            let session = json!({ "items": items, "id": i });
            codec.encode(session.as_object().unwrap(), now())
        })
        .collect();
    let rt = runtime();
    let app = app(SessionLayer::new(key()).with_decode_cache_bytes(BOUND));
    rt.block_on(app.clone().oneshot(request("/read", "a=b")))
        .unwrap();
    let region = Region::new(GLOBAL);
    for token in &tokens {
        let res = rt
            .block_on(
                app.clone()
                    .oneshot(request("/read", &format!("session={token}"))),
            )
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let grown = usize::try_from(live(&region)).unwrap_or(0);
    assert!(
        grown <= BOUND + BOUND / 8,
        "the cache holds {grown} bytes against a bound of {BOUND}"
    );
    assert!(
        grown >= BOUND / 4,
        "the cache does hold entries: {grown} bytes"
    );
}
