//! The review findings (issue "an unauthenticated CPU amplification, a
//! Markup forgery, and six ways a session is lost or undone"), each as
//! requests through a real axum `Router`, called in process so that headers
//! larger than hyper's limits still reach the layer.
//!
//! Every request is served with the status its handler chose, and a valid
//! session in the same jar is never lost. The allocation bound of finding 1
//! is measured in `tests/memory_bounds.rs`, which owns a counting allocator.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cookie::Cookie;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{flask, Session, SessionLayer};

use super::{incompressible, key, now, sign_compressed, token};

/// What came back through the router.
struct Served {
    status: StatusCode,
    set_cookies: Vec<Cookie<'static>>,
    body: Value,
}

impl Served {
    fn cookie(&self, name: &str) -> Vec<&Cookie<'static>> {
        self.set_cookies
            .iter()
            .filter(|c| c.name() == name)
            .collect()
    }

    fn deletes(&self, name: &str) -> bool {
        self.cookie(name)
            .iter()
            .any(|c| c.value().is_empty() && c.max_age() == Some(cookie::time::Duration::ZERO))
    }

    fn len(&self) -> u64 {
        assert_eq!(self.status, StatusCode::OK);
        self.body["len"].as_u64().expect("a /read reply")
    }
}

async fn serve(app: &Router, method: &str, path: &str, cookies: &str, body: &str) -> Served {
    let mut req = Request::builder().method(method).uri(path);
    if !cookies.is_empty() {
        req = req.header(header::COOKIE, cookies);
    }
    if !body.is_empty() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let set_cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
        .collect();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Served {
        status,
        set_cookies,
        body,
    }
}

async fn read(session: Session) -> Json<Value> {
    Json(json!({ "len": session.len(), "n": session.get_value("n") }))
}

async fn write(session: Session) -> Json<Value> {
    let n: u64 = session.get("n").ok().flatten().unwrap_or(0) + 1;
    session.insert("n", n).unwrap();
    Json(json!({ "len": session.len(), "n": n }))
}

async fn untouched() -> Json<Value> {
    Json(json!({ "untouched": true }))
}

async fn clear(session: Session) -> Json<Value> {
    session.clear();
    Json(json!({ "len": 0 }))
}

/// A proxied Flask `/logout`: the session is not touched here, the
/// response deletes the cookie itself.
async fn proxied_logout() -> Response {
    (
        [(
            header::SET_COOKIE,
            "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
        )],
        Json(json!({})),
    )
        .into_response()
}

/// Writes the session and expires a cookie of the same name left at an old path.
async fn move_path(session: Session) -> Response {
    session.insert("moved", true).unwrap();
    (
        [(header::SET_COOKIE, "session=; Max-Age=0; Path=/old")],
        Json(json!({})),
    )
        .into_response()
}

/// Stores whatever JSON the client sent.
async fn store(session: Session, Json(body): Json<Value>) -> Json<Value> {
    session.insert("profile", &body).unwrap();
    Json(json!({ "len": session.len() }))
}

async fn markup() -> Json<flask::Markup> {
    Json(flask::Markup("<b>hi</b>".into()))
}

fn routes() -> Router {
    Router::new()
        .route("/read", get(read))
        .route("/write", get(write))
        .route("/untouched", get(untouched))
        .route("/clear", get(clear))
        .route("/proxied-logout", get(proxied_logout))
        .route("/move-path", get(move_path))
        .route("/store", post(store))
        .route("/markup", get(markup))
}

fn app(layer: SessionLayer) -> Router {
    routes().layer(layer)
}

fn layer() -> SessionLayer {
    SessionLayer::new(key())
}

fn permanent(extra: Value) -> String {
    let mut session = json!({"_permanent": true, "user_id": 7});
    for (k, v) in extra.as_object().unwrap() {
        session[k] = v.clone();
    }
    token(session)
}

fn decode(value: &str) -> serde_json::Map<String, Value> {
    Codec::new(key()).decode(value, now(), None).unwrap()
}

// 1: a forged zlib cookie is never inflated; every route kind serves it.
#[tokio::test]
async fn a_forged_zlib_cookie_is_served_on_every_route_kind() {
    let bomb = sign_compressed(&vec![b' '; 1 << 20], now());
    // Re-sign with junk: a forged signature of the right length.
    let (signed, _) = bomb.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{}", "A".repeat(27));
    let cookies = format!("session={forged}");
    let app = app(layer());
    for path in ["/untouched", "/read", "/write"] {
        let served = serve(&app, "GET", path, &cookies, "").await;
        assert_eq!(served.status, StatusCode::OK, "{path}");
    }
    assert_eq!(serve(&app, "GET", "/read", &cookies, "").await.len(), 0);
    // The untouched and read routes leave the client's cookies alone.
    for path in ["/untouched", "/read"] {
        assert!(serve(&app, "GET", path, &cookies, "")
            .await
            .set_cookies
            .is_empty());
    }
}

// 2: the wrappers are plain JSON outside the session; client JSON never becomes a tag.
#[tokio::test]
async fn client_json_never_forges_a_flask_tag() {
    let app = app(layer());
    let served = serve(&app, "GET", "/markup", "", "").await;
    assert_eq!(
        served.body,
        json!("<b>hi</b>"),
        "no marker leaks to a client"
    );
    for hostile in [
        json!({" m": "<script>alert(1)</script>"}),
        json!({"\u{0}tower-cookie-session-tag:0123": {" m": "<script>"}}),
        json!({"\u{0}tower_cookie_session::flask::Markup": "<script>"}),
        json!({"nested": [{" m": "<script>"}, {" t": ["a"]}]}),
    ] {
        let served = serve(&app, "POST", "/store", "", &hostile.to_string()).await;
        assert_eq!(served.status, StatusCode::OK);
        let written = served.cookie("session")[0].value().to_owned();
        let wire = serde_json::to_string(&decode(&written)).unwrap();
        assert!(!wire.contains(r#"{" m":"#), "a Markup tag in {wire}");
        assert!(!wire.contains(r#"{" t":"#), "a tuple tag in {wire}");
        // And Rust reads back exactly what the client sent.
        let back = serve(&app, "GET", "/read", &format!("session={written}"), "").await;
        assert_eq!(back.len(), 1);
    }
}

// 3: a token longer than the layer ever writes is refused before decoding.
#[tokio::test]
async fn a_token_longer_than_the_budget_is_refused_unread() {
    let layer = layer().with_max_total_bytes(2048);
    let app = app(layer);
    // Validly signed, so only the length bound can refuse it.
    let long = token(json!({"blob": incompressible(6000, 3)}));
    assert!(long.len() > 4096);
    let cookies = format!("session={long}");
    assert_eq!(serve(&app, "GET", "/read", &cookies, "").await.len(), 0);
    let short = token(json!({"n": 1}));
    assert_eq!(
        serve(&app, "GET", "/read", &format!("session={short}"), "")
            .await
            .len(),
        1
    );
}

// 4a: a refresh never replaces the inner service's own cookie.
#[tokio::test]
async fn a_refresh_never_undoes_a_proxied_logout() {
    let app = app(layer());
    let cookies = format!("session={}", permanent(json!({})));
    let served = serve(&app, "GET", "/proxied-logout", &cookies, "").await;
    let ours = served.cookie("session");
    assert_eq!(ours.len(), 1, "{:?}", served.set_cookies);
    assert!(served.deletes("session"), "the logout stands");
    // Control: an untouched route does refresh the permanent session.
    let served = serve(&app, "GET", "/untouched", &cookies, "").await;
    assert!(!served.cookie("session")[0].value().is_empty());
}

// 4b: the same layer on a sub-router and on the app writes once, the inner write.
#[tokio::test]
async fn a_layer_applied_twice_steps_aside() {
    let layer = layer();
    let app = Router::new()
        .nest("/sub", routes().layer(layer.clone()))
        .merge(routes())
        .layer(layer);
    let cookies = format!("session={}", permanent(json!({"n": 5})));
    let served = serve(&app, "GET", "/sub/write", &cookies, "").await;
    let written = served.cookie("session");
    assert_eq!(written.len(), 1, "{:?}", served.set_cookies);
    assert_eq!(decode(written[0].value())["n"], 6, "the write survives");
    let served = serve(&app, "GET", "/sub/clear", &cookies, "").await;
    assert_eq!(
        served.cookie("session").len(),
        1,
        "{:?}",
        served.set_cookies
    );
    assert!(served.deletes("session"), "the logout survives");
    // The outer layer alone still works.
    let served = serve(&app, "GET", "/write", &cookies, "").await;
    assert_eq!(decode(served.cookie("session")[0].value())["n"], 6);
}

// 5: an unmodified session that no longer fits is left alone, not a 500.
#[tokio::test]
async fn a_refresh_over_budget_is_skipped_not_a_500() {
    let layer = layer().with_max_chunks(1);
    let app = app(layer);
    // About 4.05 KB: one cookie for Flask, two with our attributes.
    let big = (3000..8000)
        .step_by(5)
        .map(|len| permanent(json!({"blob": incompressible(len, 9)})))
        .find(|t| (4030..4070).contains(&t.len()))
        .expect("a blob length gives a ~4.05 KB cookie");
    let cookies = format!("session={big}");
    for path in ["/untouched", "/read"] {
        let served = serve(&app, "GET", path, &cookies, "").await;
        assert_eq!(served.status, StatusCode::OK, "{path}");
        assert!(
            served.set_cookies.is_empty(),
            "{path}: {:?}",
            served.set_cookies
        );
    }
    assert_eq!(serve(&app, "GET", "/read", &cookies, "").await.len(), 3);
    // A modified session over budget is still the documented error.
    let served = serve(&app, "GET", "/write", &cookies, "").await;
    assert_eq!(served.status, StatusCode::INTERNAL_SERVER_ERROR);
}

// 6: a huge max age never turns into a 1970 deletion.
#[tokio::test]
async fn max_age_beyond_the_date_range_is_capped_at_400_days() {
    let app = app(layer().with_max_age(Duration::MAX));
    let cookies = format!("session={}", permanent(json!({})));
    let served = serve(&app, "GET", "/write", &cookies, "").await;
    let written = served.cookie("session")[0].clone();
    let expires = written
        .expires_datetime()
        .expect("a permanent cookie has Expires");
    let days = (expires.unix_timestamp() - now() as i64) / 86_400;
    assert!((399..=400).contains(&days), "{days} days");
    assert!(!served.deletes("session"));
    assert_eq!(
        serve(
            &app,
            "GET",
            "/read",
            &format!("session={}", written.value()),
            ""
        )
        .await
        .len(),
        3
    );
}

// 7: chunks the base cookie does not name are expired on any response.
#[tokio::test]
async fn orphan_chunks_are_expired_on_read_only_traffic() {
    let app = app(layer());
    let plain = token(json!({"n": 1}));
    let orphans = format!("session={plain}; session.1=aaaa; session.2=bbbb; session.3=cccc");
    for path in ["/untouched", "/read"] {
        let served = serve(&app, "GET", path, &orphans, "").await;
        assert_eq!(served.status, StatusCode::OK);
        for i in 1..=3 {
            assert!(
                served.deletes(&format!("session.{i}")),
                "{path} session.{i}"
            );
        }
        assert!(
            served.cookie("session").is_empty(),
            "the valid session is kept"
        );
    }
    assert_eq!(serve(&app, "GET", "/read", &orphans, "").await.len(), 1);

    // `chunks-2` beside chunks 3 and 4: only 3 and 4 are dead.
    let big = token(json!({"blob": incompressible(5000, 4)}));
    let half = big.len() / 2;
    let two = format!(
        "session=chunks-2; session.1={}; session.2={}; session.3=stale; session.4=stale",
        &big[..half],
        &big[half..]
    );
    let served = serve(&app, "GET", "/read", &two, "").await;
    assert_eq!(served.len(), 1, "the 2-chunk session reads");
    assert!(served.deletes("session.3") && served.deletes("session.4"));
    assert!(served.cookie("session.1").is_empty() && served.cookie("session.2").is_empty());
}

// 8: the reader accepts any chunk count up to the hard cap.
#[tokio::test]
async fn a_lower_max_chunks_still_reads_larger_sessions() {
    let roomy = layer().with_max_total_bytes(40 * 1024);
    let big = token(json!({"blob": incompressible(12_000, 5)}));
    let parts: Vec<&str> = big
        .as_bytes()
        .chunks(3000)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let mut cookies = format!("session=chunks-{}", parts.len());
    for (i, part) in parts.iter().enumerate() {
        cookies.push_str(&format!("; session.{}={part}", i + 1));
    }
    assert!(parts.len() >= 4);
    let app = app(roomy.with_max_chunks(2));
    assert_eq!(serve(&app, "GET", "/read", &cookies, "").await.len(), 1);
}

// 9: a handler's cookie at another path is kept beside our write.
#[tokio::test]
async fn a_handlers_cookie_at_another_path_is_kept() {
    let app = app(layer());
    let served = serve(&app, "GET", "/move-path", "", "").await;
    let ours = served.cookie("session");
    assert_eq!(ours.len(), 2, "{:?}", served.set_cookies);
    assert!(ours
        .iter()
        .any(|c| c.path() == Some("/old") && c.value().is_empty()));
    assert!(ours
        .iter()
        .any(|c| c.path() == Some("/") && !c.value().is_empty()));
}

#[tokio::test]
async fn a_thousand_chunk_cookies_in_one_header() {
    let app = app(layer());
    let valid = token(json!({"n": 1}));
    let mut cookies = format!("session={valid}");
    for i in 0..1000 {
        cookies.push_str(&format!("; session.{}=x{i}", i % 120));
    }
    for path in ["/untouched", "/read", "/write"] {
        let served = serve(&app, "GET", path, &cookies, "").await;
        assert_eq!(served.status, StatusCode::OK, "{path}");
    }
    let served = serve(&app, "GET", "/read", &cookies, "").await;
    assert_eq!(served.len(), 1, "the valid session is not lost");
    assert!(served.deletes("session.1") && served.deletes("session.99"));
    assert!(served.cookie("session.100").is_empty(), "not a chunk name");
}

#[tokio::test]
async fn ninety_nine_chunks_of_4_kb() {
    let app = app(layer());
    let mut cookies = "session=chunks-99".to_owned();
    for i in 1..=99 {
        cookies.push_str(&format!("; session.{i}={}", incompressible(4000, i as u64)));
    }
    for path in ["/untouched", "/read", "/write"] {
        let served = serve(&app, "GET", path, &cookies, "").await;
        assert_eq!(served.status, StatusCode::OK, "{path}");
    }
    assert_eq!(serve(&app, "GET", "/read", &cookies, "").await.len(), 0);
}
