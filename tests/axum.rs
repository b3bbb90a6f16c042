//! The extractor through a real axum `Router`.
#![cfg(feature = "axum")]

mod common;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use common::{layer, Jar, Reply};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_cookie_session::Session;

async fn send(app: &Router, jar: &Jar, path: &str) -> (Reply, String) {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    for h in jar.header() {
        req.headers_mut().append("cookie", h.parse().unwrap());
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let text = String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: Some(text.clone()),
        },
        text,
    )
}

async fn counter(session: Session) -> String {
    let n: u64 = session.get("n").unwrap().unwrap_or(0) + 1;
    session.insert("n", n).unwrap();
    n.to_string()
}

async fn maybe(session: Option<Session>) -> &'static str {
    if session.is_some() {
        "layer"
    } else {
        "no layer"
    }
}

#[tokio::test]
async fn the_extractor_shares_the_session_across_requests() {
    let app = Router::new().route("/", get(counter)).layer(layer());
    let mut jar = Jar::default();
    for want in ["1", "2", "3"] {
        let (reply, text) = send(&app, &jar, "/").await;
        assert_eq!(text, want);
        jar.apply(&reply);
    }
}

#[tokio::test]
async fn without_the_layer_the_extractor_is_a_500_naming_it() {
    let app = Router::new()
        .route("/", get(counter))
        .route("/maybe", get(maybe));
    let (reply, text) = send(&app, &Jar::default(), "/").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(text.contains("SessionLayer"), "{text}");
    let (_, text) = send(&app, &Jar::default(), "/maybe").await;
    assert_eq!(text, "no layer");
    let app = app.layer(layer());
    let (_, text) = send(&app, &Jar::default(), "/maybe").await;
    assert_eq!(text, "layer");
}

#[tokio::test]
async fn route_layers_and_nested_routers_work() {
    let app = Router::new()
        .nest(
            "/api",
            Router::new()
                .route("/count", get(counter))
                .route_layer(layer()),
        )
        .route("/plain", get(|| async { "plain" }));
    let mut jar = Jar::default();
    let (reply, text) = send(&app, &jar, "/api/count").await;
    assert_eq!(text, "1");
    jar.apply(&reply);
    let (_, text) = send(&app, &jar, "/api/count").await;
    assert_eq!(text, "2");
    let (reply, _) = send(&app, &jar, "/plain").await;
    assert!(reply.set_cookies().is_empty());
}
