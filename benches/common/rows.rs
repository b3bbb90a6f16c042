//! The request rows: an axum `Router` each, driven with `oneshot`, and the
//! `Cookie` header each is sent with.
//!
//! Every router is materialised with `.with_state(())` (or its key state)
//! before use, as `axum::serve` does, so layers are applied once, not per
//! request. A row is compared with the `bare` router of its size: a no-op
//! `Identity` layer sent the same `Cookie` header, so building and parsing
//! the header costs both sides alike.

use std::hint::black_box;
use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use axum_extra::extract::cookie::{Cookie, Key as JarKey, PrivateCookieJar, SignedCookieJar};
use serde_json::{Map, Value};
use tower::layer::util::Identity;
use tower::ServiceExt;
use tower_cookie_session::{Compression, Key, Session, SessionLayer};
use tower_sessions::{MemoryStore, SessionManagerLayer};

use super::{write_value, READ_KEY, SECRET, WRITE_KEY};

/// One row: what is measured, the router, and the request's `Cookie` header.
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) router: Router,
    pub(crate) cookie: Option<HeaderValue>,
}

/// Sends `GET /` with `cookie` through a clone of `router` (an `Arc` clone).
pub(crate) async fn send(router: &Router, cookie: Option<&HeaderValue>) -> Response {
    let mut req = Request::new(Body::empty());
    if let Some(cookie) = cookie {
        req.headers_mut().insert(COOKIE, cookie.clone());
    }
    match router.clone().oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

/// The layer every row of ours uses: defaults, plus a 64 KiB budget so the
/// 16 KiB payload fits (in chunks).
pub(crate) fn our_layer() -> SessionLayer {
    SessionLayer::new(Key::new(SECRET).expect("non-empty")).with_max_total_bytes(64 * 1024)
}

async fn plain() -> &'static str {
    "ok"
}

async fn read(session: Session) -> &'static str {
    black_box(session.get::<String>(READ_KEY).expect("a string"));
    "ok"
}

/// Read one key, write one key.
async fn read_write(session: Session) -> &'static str {
    black_box(session.get::<String>(READ_KEY).expect("a string"));
    session
        .insert(WRITE_KEY, write_value())
        .expect("a string is JSON");
    "ok"
}

async fn ts_read_write(session: tower_sessions::Session) -> &'static str {
    black_box(
        session
            .get::<String>(READ_KEY)
            .await
            .expect("memory store never fails"),
    );
    session
        .insert(WRITE_KEY, write_value())
        .await
        .expect("memory store never fails");
    "ok"
}

/// tower-sessions' read-only peer of our `read` row: read one key.
async fn ts_read(session: tower_sessions::Session) -> &'static str {
    black_box(
        session
            .get::<String>(READ_KEY)
            .await
            .expect("memory store never fails"),
    );
    "ok"
}

/// axum-extra's signed jar, `get` + `add` of the payload's JSON text: the
/// jar's own work only (HMAC-SHA256, percent-encoding), no JSON.
async fn jar_add_get(jar: SignedCookieJar) -> (SignedCookieJar, &'static str) {
    let value = jar
        .get("session")
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    (jar.add(Cookie::new("session", value)), "ok")
}

/// The same jar used as a session store: parse the JSON, read one key,
/// write one key, serialize.
async fn jar_json(jar: SignedCookieJar) -> (SignedCookieJar, &'static str) {
    let mut map: Map<String, Value> = jar
        .get("session")
        .and_then(|c| serde_json::from_str(c.value()).ok())
        .unwrap_or_default();
    black_box(map.get(READ_KEY));
    map.insert(WRITE_KEY.to_owned(), Value::from(write_value()));
    let text = serde_json::to_string(&map).expect("a map is JSON");
    (jar.add(Cookie::new("session", text)), "ok")
}

/// axum-extra's private (AES-256-GCM) jar used as a session store, the
/// same work as our encrypted `read_write` row: decrypt, parse the JSON,
/// read one key, write one key, serialize, encrypt.
async fn private_jar_json(jar: PrivateCookieJar) -> (PrivateCookieJar, &'static str) {
    let mut map: Map<String, Value> = jar
        .get("session")
        .and_then(|c| serde_json::from_str(c.value()).ok())
        .unwrap_or_default();
    black_box(map.get(READ_KEY));
    map.insert(WRITE_KEY.to_owned(), Value::from(write_value()));
    let text = serde_json::to_string(&map).expect("a map is JSON");
    (jar.add(Cookie::new("session", text)), "ok")
}

/// The private jar's read-only peer of our encrypted `read` row.
async fn private_jar_read(jar: PrivateCookieJar) -> &'static str {
    let map: Map<String, Value> = jar
        .get("session")
        .and_then(|c| serde_json::from_str(c.value()).ok())
        .unwrap_or_default();
    black_box(map.get(READ_KEY));
    "ok"
}

/// The `Cookie` header a browser would send back after `res`: every
/// non-deleted `name=value` of its `Set-Cookie` lines.
pub(crate) fn cookie_from(res: &Response) -> HeaderValue {
    let pairs: Vec<&str> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .filter(|pair| !pair.ends_with('='))
        .collect();
    assert!(!pairs.is_empty(), "the response set no cookie");
    HeaderValue::from_str(&pairs.join("; ")).expect("cookies are header-safe")
}

fn bare(cookie: Option<HeaderValue>, name: &'static str) -> Row {
    Row {
        name,
        router: Router::new()
            .route("/", get(plain))
            .layer(Identity::new())
            .with_state(()),
        cookie,
    }
}

/// A visitor without a session who carries 2 KB of other sites' cookies
/// (analytics, consent): the layer must look through them to know.
pub(crate) fn others_cookie() -> HeaderValue {
    let header: Vec<String> = (0..40)
        .map(|i| format!("_ga_{i}=GA1.1.{}", "x".repeat(40)))
        .collect();
    HeaderValue::from_str(&header.join("; ")).expect("a valid header")
}

/// Rows that do not depend on the payload: no `Cookie` header at all, and
/// a header of other cookies only.
pub(crate) fn no_cookie_rows() -> Vec<Row> {
    let ours = |cookie, name| Row {
        name,
        router: Router::new()
            .route("/", get(plain))
            .layer(our_layer())
            .with_state(()),
        cookie,
    };
    vec![
        bare(None, "bare_nocookie"),
        ours(None, "ours_nocookie"),
        bare(Some(others_cookie()), "bare_othercookies"),
        ours(Some(others_cookie()), "ours_othercookies"),
    ]
}

/// The rows for one payload. Each session is first filled with `payload`
/// through its own middleware; the `Cookie` header sent is the one a client
/// gets back from a read + write response.
///
/// Our warm rows share one layer, as the routes of one app do, and so its
/// cache of verified tokens. The `_cold` rows turn the cache off and
/// compression too (`Compression::Never`): every request verifies and
/// indexes the cookie, as on another instance or after a restart. Every row
/// resends the same `Cookie` header, so a warm write row meets the token its
/// previous write evicted from the cache: it measures a miss.
pub(crate) async fn rows(payload: &Map<String, Value>) -> Vec<Row> {
    let payload = Arc::new(payload.clone());
    let with =
        |router: Router<()>, layer: &SessionLayer| router.layer(layer.clone()).with_state(());
    let layer = our_layer();
    let cold = our_layer()
        .with_decode_cache_bytes(0)
        .with_compression(Compression::Never);
    let norefresh = our_layer().with_refresh_each_request(false);
    let flask = our_layer().with_compression(Compression::Flask);

    // Ours.
    let seed = {
        let payload = Arc::clone(&payload);
        get(move |session: Session| async move {
            for (k, v) in payload.iter() {
                session.insert(k, v).expect("JSON");
            }
        })
    };
    let seeded = send(&with(Router::new().route("/", seed), &layer), None).await;
    let rw = with(Router::new().route("/", get(read_write)), &layer);
    let res = send(&rw, Some(&cookie_from(&seeded))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let ours = cookie_from(&res);
    let res = send(&rw, Some(&ours)).await;
    // Deflate may shift a byte or two as the written value changes.
    assert!(
        cookie_from(&res).len().abs_diff(ours.len()) <= 16,
        "the cookie keeps its size"
    );
    let rw_flask = with(Router::new().route("/", get(read_write)), &flask);
    let ours_flask = cookie_from(&send(&rw_flask, Some(&ours)).await);
    let rw_cold = with(Router::new().route("/", get(read_write)), &cold);
    let ours_cold = cookie_from(&send(&rw_cold, Some(&ours)).await);

    // tower-sessions, memory store: the seeding and measured routers share it.
    let ts_layer = SessionManagerLayer::new(MemoryStore::default());
    let ts_seed = {
        let payload = Arc::clone(&payload);
        get(move |session: tower_sessions::Session| async move {
            for (k, v) in payload.iter() {
                session.insert(k, v).await.expect("memory store");
            }
        })
    };
    let ts_seeded = send(
        &Router::new()
            .route("/", ts_seed)
            .layer(ts_layer.clone())
            .with_state(()),
        None,
    )
    .await;
    let ts_cookie = cookie_from(&ts_seeded);
    let ts = Router::new()
        .route("/", get(ts_read_write))
        .layer(ts_layer.clone())
        .with_state(());
    assert_eq!(send(&ts, Some(&ts_cookie)).await.status(), StatusCode::OK);
    let ts_read = Router::new()
        .route("/", get(ts_read))
        .layer(ts_layer)
        .with_state(());

    // axum-extra SignedCookieJar (key from router state).
    let jar_key = JarKey::from(&SECRET[..]);
    let text = serde_json::to_string(&*payload).expect("JSON");
    let jar_seed = get(move |jar: SignedCookieJar| {
        let text = text.clone();
        async move { (jar.add(Cookie::new("session", text)), "ok") }
    });
    let jar_router =
        |route| -> Router { Router::new().route("/", route).with_state(jar_key.clone()) };
    let jar_seeded = send(&jar_router(jar_seed), None).await;
    let jar_cookie = cookie_from(&jar_seeded);
    let jar = jar_router(get(jar_add_get));
    let res = send(&jar, Some(&jar_cookie)).await;
    assert_eq!(
        cookie_from(&res),
        jar_cookie,
        "the jar round-trips the value"
    );
    let jar_session = jar_router(get(jar_json));
    // Same size but for the signature's percent-encoded `/`, `+` and `=`.
    let written = cookie_from(&send(&jar_session, Some(&jar_cookie)).await);
    assert!(written.len().abs_diff(jar_cookie.len()) <= 8);

    // Ours, encrypted: the same routes behind `SessionLayer::encrypted`.
    let enc = SessionLayer::encrypted(Key::new(SECRET).expect("non-empty"))
        .with_max_total_bytes(64 * 1024);
    let enc_cold = enc.clone().with_decode_cache_bytes(0);
    let enc_seed = {
        let payload = Arc::clone(&payload);
        get(move |session: Session| async move {
            for (k, v) in payload.iter() {
                session.insert(k, v).expect("JSON");
            }
        })
    };
    let enc_seeded = send(&with(Router::new().route("/", enc_seed), &enc), None).await;
    let enc_rw = with(Router::new().route("/", get(read_write)), &enc);
    let enc_cookie = cookie_from(&send(&enc_rw, Some(&cookie_from(&enc_seeded))).await);
    let enc_rw_cold = with(Router::new().route("/", get(read_write)), &enc_cold);

    // axum-extra PrivateCookieJar (AES-256-GCM, key from router state).
    let private_text = serde_json::to_string(&*payload).expect("JSON");
    let private_seed = get(move |jar: PrivateCookieJar| {
        let text = private_text.clone();
        async move { (jar.add(Cookie::new("session", text)), "ok") }
    });
    let private_key = JarKey::from(&SECRET[..]);
    let private_router = |route| -> Router {
        Router::new()
            .route("/", route)
            .with_state(private_key.clone())
    };
    let private_cookie = cookie_from(&send(&private_router(private_seed), None).await);
    let private_rw = private_router(get(private_jar_json));
    let private_read = private_router(get(private_jar_read));

    let row = |name, router, cookie: &HeaderValue| Row {
        name,
        router,
        cookie: Some(cookie.clone()),
    };
    let plain_with = |layer| with(Router::new().route("/", get(plain)), layer);
    let read_with = |layer| with(Router::new().route("/", get(read)), layer);
    let rows = vec![
        bare(Some(ours.clone()), "bare"),
        bare(Some(ours_cold.clone()), "bare_cold"),
        row("untouched", plain_with(&layer), &ours),
        row("untouched_cold", plain_with(&cold), &ours_cold),
        row("untouched_norefresh", plain_with(&norefresh), &ours),
        row("read", read_with(&layer), &ours),
        row("read_cold", read_with(&cold), &ours_cold),
        row("read_write", rw, &ours),
        row("read_write_cold", rw_cold, &ours_cold),
        row("read_write_flask", rw_flask, &ours_flask),
        bare(Some(ts_cookie.clone()), "bare_ts"),
        row("tower_sessions", ts, &ts_cookie),
        row("tower_sessions_read", ts_read, &ts_cookie),
        bare(Some(jar_cookie.clone()), "bare_jar"),
        row("jar_add_get", jar, &jar_cookie),
        row("jar_json", jar_session, &jar_cookie),
        bare(Some(enc_cookie.clone()), "bare_enc"),
        row("enc_read", read_with(&enc), &enc_cookie),
        row("enc_read_cold", read_with(&enc_cold), &enc_cookie),
        row("enc_read_write", enc_rw, &enc_cookie),
        row("enc_read_write_cold", enc_rw_cold, &enc_cookie),
        bare(Some(private_cookie.clone()), "bare_private"),
        row("private_jar_read", private_read, &private_cookie),
        row("private_jar_json", private_rw, &private_cookie),
    ];
    for row in &rows {
        let res = send(&row.router, row.cookie.as_ref()).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", row.name);
        let wrote = res.headers().contains_key(SET_COOKIE);
        // tower-sessions sets its cookie again when it saves a change.
        let writes = row.name.starts_with("read_write")
            || row.name.starts_with("enc_read_write")
            || row.name.starts_with("jar_")
            || row.name == "private_jar_json"
            || row.name == "tower_sessions";
        assert_eq!(wrote, writes, "{}: Set-Cookie", row.name);
    }
    rows
}
