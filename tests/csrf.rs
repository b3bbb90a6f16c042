//! The CSRF layer end to end through axum: what it accepts, what it
//! refuses (status and the framework's reason), that a form body reaches
//! the handler whole and a header token never touches the body.

use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use axum::Router;
use http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE, VARY};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_cookie_session::csrf::{CsrfLayer, CsrfRejection, CsrfToken};
use tower_cookie_session::{Key, SessionLayer};

const SECRET: &str = "csrf-test-secret-key-0123456789abcdef";

fn key() -> Key {
    Key::new(SECRET).unwrap()
}

async fn echo(body: Bytes) -> Bytes {
    body
}

fn app(csrf: CsrfLayer, session: SessionLayer) -> Router {
    Router::new()
        .route("/form", get(|csrf: CsrfToken| async move { csrf.token() }))
        .route("/submit", post(echo).put(echo).delete(echo))
        .route("/hook", post(echo))
        .route(
            "/rotate",
            post(|csrf: CsrfToken| async move {
                csrf.rotate();
                csrf.token()
            }),
        )
        .layer(csrf)
        .layer(session.with_secure(false))
}

fn django() -> Router {
    app(
        CsrfLayer::django()
            .with_trusted_origins(["https://*.trusted.example"])
            .exempt("/hook"),
        SessionLayer::django(key()),
    )
}

struct Got {
    status: StatusCode,
    res: Response<Body>,
    body: String,
}

impl Got {
    fn cookie(&self, name: &str) -> Option<String> {
        self.res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with(&format!("{name}=")))
    }

    fn cookie_value(&self, name: &str) -> Option<String> {
        let line = self.cookie(name)?;
        Some(line[name.len() + 1..].split(';').next().unwrap().to_owned())
    }

    fn reason(&self) -> Option<String> {
        self.res
            .extensions()
            .get::<CsrfRejection>()
            .map(|r| r.reason().to_owned())
    }
}

async fn send(app: &Router, req: Request<Body>) -> Got {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    Got {
        status,
        res: Response::from_parts(parts, Body::empty()),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get_req(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.body(Body::empty()).unwrap()
}

fn form_post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("host", "app.example")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

/// A Django form: the `csrftoken` cookie and a masked token.
async fn django_form(app: &Router) -> (String, String) {
    let got = send(app, get_req("/form", None)).await;
    let secret = got.cookie_value("csrftoken").expect("csrftoken set");
    (format!("csrftoken={secret}"), got.body)
}

#[tokio::test]
async fn django_issues_the_cookie_as_django_does_and_accepts_its_form() {
    let app = django();
    let got = send(&app, get_req("/form", None)).await;
    let line = got.cookie("csrftoken").unwrap();
    assert!(
        line.contains("Max-Age=31449600")
            && line.contains("Path=/")
            && line.contains("SameSite=Lax")
    );
    assert!(
        !line.contains("HttpOnly") && !line.contains("Secure"),
        "{line}"
    );
    assert_eq!(
        got.res
            .headers()
            .get_all(VARY)
            .iter()
            .filter(|v| *v == "Cookie")
            .count(),
        1
    );
    let secret = got.cookie_value("csrftoken").unwrap();
    assert_eq!((secret.len(), got.body.len()), (32, 64));

    let cookie = format!("csrftoken={secret}");
    let form = format!("text=h%C3%A9&csrfmiddlewaretoken={}&more=1", got.body);
    let ok = send(&app, form_post("/submit", &cookie, &form)).await;
    assert_eq!(ok.status, 200, "{:?}", ok.reason());
    assert_eq!(ok.body, form, "the handler reads the whole form");
    // The bare secret is accepted too, as Django does.
    let ok = send(
        &app,
        form_post("/submit", &cookie, &format!("csrfmiddlewaretoken={secret}")),
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn django_refusals_carry_djangos_reasons() {
    let app = django();
    let (cookie, token) = django_form(&app).await;
    let mut flipped = token.clone().into_bytes();
    flipped[40] = if flipped[40] == b'a' { b'b' } else { b'a' };
    let flipped = String::from_utf8(flipped).unwrap();
    let cases = [
        (
            "",
            format!("csrfmiddlewaretoken={token}"),
            "CSRF cookie not set.",
        ),
        (cookie.as_str(), "text=1".to_owned(), "CSRF token missing."),
        (
            cookie.as_str(),
            format!("csrfmiddlewaretoken={flipped}"),
            "CSRF token from POST incorrect.",
        ),
        (
            cookie.as_str(),
            "csrfmiddlewaretoken=short".to_owned(),
            "CSRF token from POST has incorrect length.",
        ),
        (
            "csrftoken=bad",
            format!("csrfmiddlewaretoken={token}"),
            "CSRF cookie has incorrect length.",
        ),
    ];
    for (cookie, form, reason) in cases {
        let got = send(&app, form_post("/submit", cookie, &form)).await;
        assert_eq!(
            (got.status, got.reason().as_deref()),
            (StatusCode::FORBIDDEN, Some(reason))
        );
        assert!(got.body.contains(reason));
    }
    // A malformed cookie is replaced in the refusal, as Django's process_request does.
    let got = send(&app, form_post("/submit", "csrftoken=bad", "")).await;
    assert_eq!(got.cookie_value("csrftoken").map(|v| v.len()), Some(32));
}

#[tokio::test]
async fn unsafe_methods_are_checked_safe_ones_and_exempt_paths_are_not() {
    let app = django();
    for method in ["PUT", "DELETE"] {
        let req = Request::builder()
            .method(method)
            .uri("/submit")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, req).await.status, 403, "{method}");
    }
    for method in ["GET", "HEAD", "OPTIONS"] {
        let req = Request::builder()
            .method(method)
            .uri("/form")
            .body(Body::empty())
            .unwrap();
        assert_ne!(send(&app, req).await.status, 403, "{method}");
    }
    let got = send(&app, form_post("/hook", "", "payload=1")).await;
    assert_eq!(
        (got.status, got.body.as_str()),
        (StatusCode::OK, "payload=1")
    );
}

#[tokio::test]
async fn a_header_token_leaves_the_body_to_the_handler() {
    let (cookie, token) = django_form(&django()).await;
    // A streamed JSON body, larger than the form limit would allow.
    let big = format!("{{\"text\":\"{}\"}}", "x".repeat(1 << 20));
    let app_small_limit = app(
        CsrfLayer::django().with_body_limit(1024),
        SessionLayer::django(key()),
    );
    let req = Request::post("/submit")
        .header(COOKIE, &cookie)
        .header(CONTENT_TYPE, "application/json")
        .header("X-CSRFToken", &token)
        .body(Body::from(big.clone()))
        .unwrap();
    let got = send(&app_small_limit, req).await;
    assert_eq!(got.status, 200, "{:?}", got.reason());
    assert_eq!(got.body.len(), big.len());
}

#[tokio::test]
async fn a_form_over_the_limit_is_refused_with_413_before_the_handler() {
    let app = app(
        CsrfLayer::django().with_body_limit(100),
        SessionLayer::django(key()),
    );
    let (cookie, token) = django_form(&app).await;
    let form = format!("csrfmiddlewaretoken={token}&text={}", "x".repeat(100));
    let got = send(&app, form_post("/submit", &cookie, &form)).await;
    assert_eq!(got.status, StatusCode::PAYLOAD_TOO_LARGE);
    let form = format!("csrfmiddlewaretoken={token}");
    assert_eq!(
        send(&app, form_post("/submit", &cookie, &form))
            .await
            .status,
        200
    );
    // Streamed in pieces, without a size hint: refused once past the limit.
    let pieces: Vec<Result<String, std::io::Error>> = vec![
        Ok(format!("csrfmiddlewaretoken={token}")),
        Ok("&text=".into()),
        Ok("y".repeat(100)),
    ];
    let req = Request::post("/submit")
        .header(COOKIE, &cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from_stream(futures_util::stream::iter(pieces)))
        .unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn django_origin_and_referer_checks() {
    let app = django();
    let (cookie, token) = django_form(&app).await;
    let with = |origin: Option<&str>| {
        let mut req = form_post("/submit", &cookie, &format!("csrfmiddlewaretoken={token}"));
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        req
    };
    let got = send(&app, with(Some("http://evil.example"))).await;
    assert_eq!(
        got.reason().as_deref(),
        Some("Origin checking failed - http://evil.example does not match any trusted origins.")
    );
    assert_eq!(
        send(&app, with(Some("http://app.example"))).await.status,
        200
    );
    assert_eq!(
        send(&app, with(Some("https://a.trusted.example")))
            .await
            .status,
        200
    );
    assert_eq!(
        send(&app, with(Some("http://a.trusted.example")))
            .await
            .status,
        403
    );

    // Over HTTPS without an Origin, the Referer must be this site.
    let secure = app_with_secure();
    let (cookie, token) = django_form(&secure).await;
    let mut req = form_post("/submit", &cookie, &format!("csrfmiddlewaretoken={token}"));
    let got = send(&secure, req).await;
    assert_eq!(
        got.reason().as_deref(),
        Some("Referer checking failed - no Referer.")
    );
    req = form_post("/submit", &cookie, &format!("csrfmiddlewaretoken={token}"));
    req.headers_mut()
        .insert("referer", "https://app.example/form".parse().unwrap());
    assert_eq!(send(&secure, req).await.status, 200);
}

fn app_with_secure() -> Router {
    app(
        CsrfLayer::django().with_secure(true),
        SessionLayer::django(key()),
    )
}

#[tokio::test]
async fn rotation_retires_the_old_tokens() {
    let app = django();
    let (cookie, old) = django_form(&app).await;
    let got = send(
        &app,
        form_post("/rotate", &cookie, &format!("csrfmiddlewaretoken={old}")),
    )
    .await;
    assert_eq!(got.status, 200);
    let new_cookie = format!("csrftoken={}", got.cookie_value("csrftoken").unwrap());
    assert_ne!(new_cookie, cookie);
    let refused = send(
        &app,
        form_post(
            "/submit",
            &new_cookie,
            &format!("csrfmiddlewaretoken={old}"),
        ),
    )
    .await;
    assert_eq!(refused.status, 403);
    let ok = send(
        &app,
        form_post(
            "/submit",
            &new_cookie,
            &format!("csrfmiddlewaretoken={}", got.body),
        ),
    )
    .await;
    assert_eq!(ok.status, 200);
}

fn session_cookie(got: &Got, name: &str) -> String {
    format!("{name}={}", got.cookie_value(name).expect("session cookie"))
}

#[tokio::test]
async fn flask_wtf_keeps_the_raw_token_in_the_session() {
    let app = app(CsrfLayer::flask_wtf(key()), SessionLayer::new(key()));
    let got = send(&app, get_req("/form", None)).await;
    assert!(got.cookie("csrftoken").is_none());
    let session = session_cookie(&got, "session");
    let token = got.body.clone();
    assert_eq!(token.matches('.').count(), 2);

    let ok = send(
        &app,
        form_post("/submit", &session, &format!("csrf_token={token}&x=1")),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.reason());
    // Flask-WTF accepts a prefixed field and either header.
    let ok = send(
        &app,
        form_post("/submit", &session, &format!("login-csrf_token={token}")),
    )
    .await;
    assert_eq!(ok.status, 200);
    for header in ["X-CSRFToken", "X-CSRF-Token"] {
        let req = Request::post("/submit")
            .header(COOKIE, &session)
            .header(header, &token)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, req).await.status, 200, "{header}");
    }
    let cases = [
        (
            session.as_str(),
            String::new(),
            "The CSRF token is missing.",
        ),
        (
            "",
            format!("csrf_token={token}"),
            "The CSRF session token is missing.",
        ),
        (
            session.as_str(),
            format!("csrf_token={token}x"),
            "The CSRF token is invalid.",
        ),
    ];
    for (cookie, form, reason) in cases {
        let got = send(&app, form_post("/submit", cookie, &form)).await;
        assert_eq!(
            (got.status, got.reason().as_deref()),
            (StatusCode::FORBIDDEN, Some(reason))
        );
    }
    // A token for another session's raw value.
    let other = send(&app, get_req("/form", None)).await.body;
    let got = send(
        &app,
        form_post("/submit", &session, &format!("csrf_token={other}")),
    )
    .await;
    assert_eq!(
        got.reason().as_deref(),
        Some("The CSRF tokens do not match.")
    );
}

#[tokio::test]
async fn session_schemes_without_the_session_layer_are_a_clear_500() {
    let app = Router::new()
        .route("/", post(|| async { "never" }))
        .layer(CsrfLayer::flask_wtf(key()));
    let got = send(&app, Request::post("/").body(Body::empty()).unwrap()).await;
    assert_eq!(got.status, 500);
}

#[tokio::test]
async fn django_session_mode_keeps_the_secret_in_the_session() {
    let app = app(
        CsrfLayer::django_with_sessions(),
        SessionLayer::django(key()),
    );
    let got = send(&app, get_req("/form", None)).await;
    assert!(got.cookie("csrftoken").is_none());
    let session = session_cookie(&got, "sessionid");
    let ok = send(
        &app,
        form_post(
            "/submit",
            &session,
            &format!("csrfmiddlewaretoken={}", got.body),
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.reason());
    let refused = send(
        &app,
        form_post("/submit", "", &format!("csrfmiddlewaretoken={}", got.body)),
    )
    .await;
    assert_eq!(refused.reason().as_deref(), Some("CSRF cookie not set."));
}

#[tokio::test]
async fn session_mode_ignores_another_apps_csrftoken_cookie() {
    let app = app(
        CsrfLayer::django_with_sessions(),
        SessionLayer::django(key()),
    );
    let got = send(&app, get_req("/form", None)).await;
    let session = session_cookie(&got, "sessionid");
    // A starlette-csrf cookie of the same name on the domain.
    let cookies = format!("{session}; csrftoken=InN0YXJsZXR0ZSI.xyz");
    let again = send(&app, get_req("/form", Some(&cookies))).await;
    assert!(
        again.cookie("sessionid").is_none(),
        "the session's secret did not change"
    );
    let form = format!("csrfmiddlewaretoken={}", got.body);
    assert_eq!(
        send(&app, form_post("/submit", &cookies, &form))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn each_framework_checks_its_own_methods() {
    let propfind = || {
        Request::builder()
            .method("PROPFIND")
            .uri("/any")
            .body(Body::empty())
            .unwrap()
    };
    let router = |csrf: CsrfLayer, session: SessionLayer| {
        Router::new()
            .route("/any", axum::routing::any(|| async { "ok" }))
            .layer(csrf)
            .layer(session.with_secure(false))
    };
    let flask = router(CsrfLayer::flask_wtf(key()), SessionLayer::new(key()));
    assert_eq!(
        send(&flask, propfind()).await.status,
        200,
        "not in WTF_CSRF_METHODS"
    );
    let django = router(CsrfLayer::django(), SessionLayer::django(key()));
    assert_eq!(
        send(&django, propfind()).await.status,
        403,
        "Django checks every unsafe method"
    );
}

#[tokio::test]
async fn a_dotted_cookie_domain_accepts_subdomain_referers() {
    let app = app(
        CsrfLayer::django()
            .with_secure(true)
            .with_cookie_domain(".example.com")
            .unwrap(),
        SessionLayer::django(key()),
    );
    let (cookie, token) = django_form(&app).await;
    let mut req = form_post("/submit", &cookie, &format!("csrfmiddlewaretoken={token}"));
    req.headers_mut()
        .insert("referer", "https://app.example.com/form".parse().unwrap());
    let got = send(&app, req).await;
    assert_eq!(got.status, 200, "{:?}", got.reason());
}

#[tokio::test]
async fn flask_wtf_over_https_compares_the_origin_as_werkzeug_does() {
    let app = app(
        CsrfLayer::flask_wtf(key()).with_secure(true),
        SessionLayer::new(key()),
    );
    let got = send(&app, get_req("/form", None)).await;
    let session = session_cookie(&got, "session");
    let post = |host: Option<&str>, referer: &str| {
        let mut req = Request::post("/submit")
            .header(COOKIE, &session)
            .header("X-CSRFToken", &got.body)
            .header("referer", referer);
        if let Some(h) = host {
            req = req.header("host", h);
        }
        req.body(Body::empty()).unwrap()
    };
    assert_eq!(
        send(
            &app,
            post(Some("example.com:443"), "https://Example.com/page")
        )
        .await
        .status,
        200
    );
    let refused = send(&app, post(Some("example.com"), "https://evil.example/page")).await;
    assert_eq!(
        refused.reason().as_deref(),
        Some("The referrer does not match the host.")
    );
    let refused = send(&app, post(Some("example.com"), "http://example.com/page")).await;
    assert_eq!(refused.status, 403, "an http Referer on an https site");
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_refused_unread() {
    let app = app(
        CsrfLayer::django().with_body_limit(16),
        SessionLayer::django(key()),
    );
    let (cookie, _) = django_form(&app).await;
    // Content-Length (the body's exact size hint) says 64 bytes.
    let got = send(&app, form_post("/submit", &cookie, &"x".repeat(64))).await;
    assert_eq!(got.status, StatusCode::PAYLOAD_TOO_LARGE);
}
