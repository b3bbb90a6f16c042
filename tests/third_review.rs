//! The third review's findings (issue "ten defects in the new features"),
//! each as requests through a real axum `Router` with the layer's clock
//! moved by the test, so days pass without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use cookie::Cookie;
use hmac::{Hmac, Mac};
use http_body_util::BodyExt as _;
use serde_json::{json, Map, Value};
use sha1::Sha1;
use tower::ServiceExt as _;
use tower_cookie_session::codec::{Codec, MAX_PAYLOAD_BYTES};
use tower_cookie_session::{Compression, Expiry, Key, Session, SessionInfo, SessionLayer};

const SECRET: &str = "third-review-secret-key-0123456789";
const DAY: u64 = 24 * 3600;
/// 2023-11-14T22:13:20Z.
const T0: u64 = 1_700_000_000;

fn key() -> Key {
    Key::new(SECRET).unwrap()
}

/// A clock the test moves: seconds since the epoch.
#[derive(Clone)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn at(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }

    fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }

    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn install(&self, layer: SessionLayer) -> SessionLayer {
        let clock = self.clone();
        layer.with_clock(move || UNIX_EPOCH + Duration::from_secs(clock.now()))
    }
}

struct Served {
    status: StatusCode,
    set_cookies: Vec<Cookie<'static>>,
    vary_cookie: bool,
    body: String,
}

impl Served {
    fn named(&self, name: &str) -> Option<&Cookie<'static>> {
        self.set_cookies.iter().find(|c| c.name() == name)
    }

    fn deletes(&self, name: &str) -> bool {
        self.named(name)
            .is_some_and(|c| c.max_age() == Some(cookie::time::Duration::ZERO))
    }

    /// `name=value; …` of every cookie set and not deleted.
    fn jar(&self) -> String {
        self.set_cookies
            .iter()
            .filter(|c| c.max_age() != Some(cookie::time::Duration::ZERO))
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn serve(app: &Router, path: &str, cookies: &str) -> Served {
    let mut req = Request::builder().uri(path);
    if !cookies.is_empty() {
        req = req.header(header::COOKIE, cookies);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let set_cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
        .collect();
    let vary_cookie = res
        .headers()
        .get_all(header::VARY)
        .iter()
        .any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("cookie"));
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Served {
        status,
        set_cookies,
        vary_cookie,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Routes: `/none` never touches the session, `/read` returns its JSON,
/// `/write?…` sets `w` to a string of the asked length, `/len` returns
/// `encoded_len` after the same write.
fn app(layer: SessionLayer) -> Router {
    async fn read(session: Session) -> String {
        Value::Object(session.to_tagged()).to_string()
    }
    async fn write(
        session: Session,
        axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    ) -> String {
        let len: usize = q.get("len").map_or(1, |l| l.parse().unwrap());
        let fill = q.get("fill").map_or("x", String::as_str);
        session.insert("w", fill.repeat(len)).unwrap();
        match session.encoded_len() {
            Ok(n) => n.to_string(),
            Err(e) => format!("err {e}"),
        }
    }
    Router::new()
        .route("/none", get(|| async { "ok" }))
        .route("/read", get(read))
        .route("/write", get(write))
        .layer(layer)
}

/// A Flask cookie over any payload text (itsdangerous, Flask's key
/// derivation): lets a test send what a Python peer could sign.
fn flask_token(payload_text: &str, ts: u64) -> String {
    let ts_bytes = ts.to_be_bytes();
    let first = ts_bytes.iter().position(|b| *b != 0).unwrap_or(8);
    let mut message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload_text),
        URL_SAFE_NO_PAD.encode(&ts_bytes[first..])
    );
    let mut derive = <Hmac<Sha1> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    derive.update(b"cookie-session");
    let derived = derive.finalize().into_bytes();
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&derived).unwrap();
    mac.update(message.as_bytes());
    message.push('.');
    message.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    message
}

fn object(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

// 1 ------------------------------------------------------------------------

#[tokio::test]
async fn a_budget_validate_accepts_never_makes_a_cookie_browsers_drop() {
    // The reviewer's value: over the bound for a browser-session cookie.
    assert!(SessionLayer::new(key())
        .with_max_cookie_bytes(4168)
        .validate()
        .is_err());
    let mut accepted = 0;
    for max in (4000..=4200).step_by(7) {
        let layer = SessionLayer::new(key())
            .with_max_cookie_bytes(max)
            .with_max_total_bytes(64 * 1024)
            .with_compression(Compression::Never);
        if layer.validate().is_err() {
            continue;
        }
        accepted += 1;
        // Flask's default: not permanent, a browser-session cookie, so the
        // attributes are the shortest the layer writes.
        let served = serve(&app(layer), "/write?len=9000", "").await;
        assert_eq!(served.status, StatusCode::OK, "{max}");
        assert!(served.set_cookies.len() > 2, "{max}: chunked");
        for c in &served.set_cookies {
            assert!(c.expires().is_none() && c.max_age().is_none());
            let kept = c.name().len() + c.value().len();
            assert!(kept <= 4096, "{max}: {} carries {kept} bytes", c.name());
        }
    }
    assert!(accepted > 5, "the bound is not below the default");
}

// 3 ------------------------------------------------------------------------

#[tokio::test]
async fn a_session_is_never_written_that_the_next_request_would_read_as_empty() {
    let app = app(SessionLayer::new(key()));
    let first = serve(&app, "/write?len=10", "").await;
    let jar = first.jar();
    // 1.2 MB of zeros deflates to a couple of KiB: it would fit the budget.
    let too_much = serve(&app, "/write?len=1200000&fill=0", &jar).await;
    assert_eq!(too_much.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        too_much.set_cookies.is_empty(),
        "the previous cookie is kept"
    );
    let still = serve(&app, "/read", &jar).await;
    assert_eq!(still.body, json!({"w": "x".repeat(10)}).to_string());
    // Under the limit, however large, what is written reads back whole.
    let len = MAX_PAYLOAD_BYTES - 100;
    let fits = serve(&app, &format!("/write?len={len}&fill=0"), &jar).await;
    assert_eq!(fits.status, StatusCode::OK);
    let back = serve(&app, "/read", &fits.jar()).await;
    assert_eq!(back.body.len(), len + r#"{"w":""}"#.len());
}

#[test]
fn the_payload_error_says_which_limit() {
    let session = Session::default();
    session.insert("w", "0".repeat(MAX_PAYLOAD_BYTES)).unwrap();
    let e = session.encoded_len().unwrap_err();
    assert!(e.exceeds_payload_limit());
    assert_eq!(e.allowed(), MAX_PAYLOAD_BYTES);
    assert!(e.to_string().contains("MAX_PAYLOAD_BYTES"), "{e}");
}

// 4, 5 ---------------------------------------------------------------------

#[tokio::test]
async fn an_end_date_is_kept_whatever_the_max_age() {
    let clock = Clock::at(T0);
    let end = UNIX_EPOCH + Duration::from_secs(T0 + 60 * DAY);
    let app = app(clock.install(SessionLayer::new(key()).with_expiry(Expiry::AtDateTime(end))));
    let written = serve(&app, "/write", "").await;
    let cookie = written.named("session").unwrap();
    assert_eq!(
        cookie.expires_datetime().unwrap().unix_timestamp() as u64,
        T0 + 60 * DAY
    );
    let jar = written.jar();
    // Past the default 31-day max age, before the date.
    clock.set(T0 + 40 * DAY);
    assert_eq!(
        serve(&app, "/read", &jar).await.body,
        r#"{"_permanent":true,"w":"x"}"#
    );
    clock.set(T0 + 60 * DAY);
    assert_ne!(serve(&app, "/read", &jar).await.body, "{}");
    clock.set(T0 + 60 * DAY + 1);
    let late = serve(&app, "/read", &jar).await;
    assert_eq!(late.body, "{}");
    assert!(late.deletes("session"));
}

#[tokio::test]
async fn an_end_date_past_year_9999_is_clamped_never_1970() {
    let clock = Clock::at(T0);
    let far = UNIX_EPOCH + Duration::from_secs(300_000_000_000);
    let layer = clock.install(SessionLayer::new(key()).with_expiry(Expiry::AtDateTime(far)));
    layer.validate().unwrap();
    let app = app(layer);
    let written = serve(&app, "/write", "").await;
    let expires = written
        .named("session")
        .unwrap()
        .expires_datetime()
        .unwrap()
        .unix_timestamp() as u64;
    assert_eq!(expires, T0 + 400 * DAY, "clamped as the max age is");
    assert_ne!(serve(&app, "/read", &written.jar()).await.body, "{}");
}

// 7 ------------------------------------------------------------------------

#[tokio::test]
async fn an_idle_timeout_slides_on_every_route_with_or_without_the_cache() {
    // A Flask peer's session without `_permanent`: permanent here by the
    // layer's `Expiry::OnInactivity`.
    let cookie = format!(
        "session={}",
        Codec::new(key()).encode(&object(json!({"user": 7})), T0)
    );
    for cache in [0, 1 << 20] {
        for route in ["/none", "/read"] {
            let clock = Clock::at(T0 + 600);
            let layer = clock.install(
                SessionLayer::new(key())
                    .with_expiry(Expiry::OnInactivity(Duration::from_secs(3600)))
                    .with_decode_cache_bytes(cache),
            );
            let served = serve(&app(layer), route, &cookie).await;
            let refreshed = served
                .named("session")
                .unwrap_or_else(|| panic!("cache {cache}, {route}: not refreshed"));
            assert_eq!(
                refreshed.expires_datetime().unwrap().unix_timestamp() as u64,
                T0 + 600 + 3600,
                "cache {cache}, {route}"
            );
        }
    }
}

// 8 ------------------------------------------------------------------------

#[tokio::test]
async fn a_response_that_deletes_the_session_varies_on_cookie() {
    let layer = SessionLayer::new(key())
        .with_validator(|info: &SessionInfo| info.get::<u64>("user").ok().flatten() != Some(13));
    let app = app(layer);
    let revoked = Codec::new(key()).encode(
        &object(json!({"_permanent": true, "user": 13})),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let served = serve(&app, "/none", &format!("session={revoked}")).await;
    assert!(served.deletes("session"), "the revoked cookie is deleted");
    assert!(served.vary_cookie, "and the deletion varies on Cookie");
    // Chunks the base cookie does not name are expired, on an untouched
    // route too: that also depends on the request's cookies.
    let orphans = serve(&app, "/none", "session.3=stale").await;
    assert!(orphans.deletes("session.3"));
    assert!(orphans.vary_cookie);
    // Without refresh, an untouched route reads the header only for
    // chunks: a stale one is still expired, a lone base cookie is left be.
    let quiet = self::app(SessionLayer::new(key()).with_refresh_each_request(false));
    let orphans = serve(
        &quiet,
        "/none",
        &format!("session={revoked}; session.3=stale"),
    )
    .await;
    assert!(
        orphans.deletes("session.3"),
        "refresh off: the orphan is expired"
    );
    assert!(
        !orphans.deletes("session"),
        "and the untouched session kept"
    );
    let untouched = serve(&quiet, "/none", &format!("session={revoked}")).await;
    assert!(!untouched.deletes("session") && !untouched.vary_cookie);
}

// 10 -----------------------------------------------------------------------

#[tokio::test]
async fn encoded_len_is_what_the_write_sends() {
    let layers = [
        SessionLayer::new(key()),
        SessionLayer::new(key()).with_expiry(Expiry::OnInactivity(Duration::from_secs(3600))),
        SessionLayer::new(key()).with_max_lifetime(Duration::from_secs(3600)),
        SessionLayer::new(key())
            .with_expiry(Expiry::OnInactivity(Duration::from_secs(3600)))
            .with_max_lifetime(Duration::from_secs(3600)),
        SessionLayer::django(key()).with_max_lifetime(Duration::from_secs(3600)),
    ];
    for (i, layer) in layers.into_iter().enumerate() {
        let app = app(layer.with_compression(Compression::Never));
        for len in [1, 500, 3000, 4800] {
            let served = serve(&app, &format!("/write?len={len}"), "").await;
            let sent: usize = served
                .set_cookies
                .iter()
                .map(|c| c.name().len() + 1 + c.value().len() + 2)
                .sum();
            assert_eq!(served.body, sent.to_string(), "layer {i}, len {len}");
        }
    }
}

// 2 ------------------------------------------------------------------------

#[tokio::test]
async fn a_django_session_keeps_its_own_expiry() {
    let clock = Clock::at(T0);
    let app = app(clock.install(SessionLayer::django(key())));
    let codec = Codec::django(key());
    // "Don't remember me": a browser-session cookie after a Rust write.
    let forget = codec.encode(&object(json!({"a": 1, "_session_expiry": 0})), T0);
    let written = serve(&app, "/write", &format!("sessionid={forget}")).await;
    let cookie = written.named("sessionid").unwrap();
    assert!(cookie.max_age().is_none() && cookie.expires().is_none());
    // Five minutes: the cookie says so, and so does the server.
    let short = codec.encode(&object(json!({"a": 1, "_session_expiry": 300})), T0);
    let jar = format!("sessionid={short}");
    let written = serve(&app, "/write", &jar).await;
    let cookie = written.named("sessionid").unwrap();
    assert_eq!(cookie.max_age(), Some(cookie::time::Duration::seconds(300)));
    clock.set(T0 + 300);
    assert_ne!(serve(&app, "/read", &jar).await.body, "{}");
    clock.set(T0 + 301);
    let late = serve(&app, "/read", &jar).await;
    assert_eq!(late.body, "{}");
    assert!(late.deletes("sessionid"));
}

// 6 ------------------------------------------------------------------------

#[tokio::test]
async fn keys_with_two_different_lone_surrogates_both_survive_a_write() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cookie = flask_token(r#"{"k\ud800":1,"k\udc00":2}"#, now);
    let app = app(SessionLayer::new(key()));
    let written = serve(&app, "/write", &format!("session={cookie}")).await;
    let token = written.named("session").unwrap().value().to_owned();
    let session = Codec::new(key())
        .decode_lossless(&token, now + 1, None)
        .unwrap();
    assert_eq!(session.len(), 3);
    assert_eq!(session.to_json(), r#"{"k\ud800":1,"k\udc00":2,"w":"x"}"#);
}

// 11 -----------------------------------------------------------------------

#[test]
fn the_public_codec_reads_every_cookie_flask_writes() {
    // Flask's own cookie for `{"big": 2**64}` (secret "secret", signed at T0).
    let cookie = "eyJiaWciOjE4NDQ2NzQ0MDczNzA5NTUxNjE2fQ.ZVPxAA.M5jaVvWZbTIdoSBRZCwnHjk8BGE";
    let codec = Codec::new(Key::new("secret").unwrap());
    let session = codec.decode_lossless(cookie, T0, None).unwrap();
    assert_eq!(session.get_json("big"), Some("18446744073709551616"));
    assert_eq!(
        session.get::<f64>("big").unwrap(),
        Some(18446744073709551616.0)
    );
    assert_eq!(session.timestamp(), T0);
    assert_eq!(session.to_json(), r#"{"big":18446744073709551616}"#);
    // Every format has the lossless decode.
    let django = Codec::django(Key::new("secret").unwrap());
    let token = django.encode(&object(json!({"a": 1})), T0);
    assert_eq!(
        django
            .decode_lossless(&token, T0, None)
            .unwrap()
            .get::<u8>("a")
            .unwrap(),
        Some(1)
    );
}
