//! A typical tower-sessions app (login storing a user id, a counter,
//! logout, one hour of inactivity) ported to this crate as
//! `docs/coming-from-tower-sessions.md` shows, run against a real `Router`;
//! and each friction point of that port: `Expiry`, the typed data methods,
//! `validate`, `SameSite`, `Error` at the edge.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use common::{call, is_deletion, Jar};
use serde_json::json;
use tower::ServiceExt;
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{
    ConfigError, Error, ErrorKind, Expiry, Key, SameSite, Session, SessionLayer,
};

const SECRET: &str = "coming-from-tower-sessions-secret-0123";

fn key() -> Key {
    Key::new(SECRET).unwrap()
}

// ---- the ported app: each handler as it reads after the port

async fn login(session: Session) -> Result<StatusCode, Error> {
    session.insert("user_id", 42_u64)?;
    session.renew(); // tower-sessions: session.cycle_id().await
    Ok(StatusCode::NO_CONTENT)
}

async fn counter(session: Session) -> Result<String, Error> {
    let n = session.update_or("counter", 0_u64, |n| n + 1)?;
    Ok(n.to_string())
}

async fn whoami(session: Session) -> Result<String, Error> {
    Ok(match session.get::<u64>("user_id")? {
        Some(id) => format!("user {id}"),
        None => "anonymous".to_owned(),
    })
}

async fn logout(session: Session) -> StatusCode {
    session.clear(); // tower-sessions: session.flush().await
    StatusCode::NO_CONTENT
}

fn app(clock: &Arc<AtomicU64>) -> Router {
    let clock = Arc::clone(clock);
    let layer = SessionLayer::new(key())
        .with_expiry(Expiry::OnInactivity(Duration::from_secs(3600)))
        .with_secure(false)
        .with_clock(move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst)));
    Router::new()
        .route("/login", post(login))
        .route("/counter", post(counter))
        .route("/whoami", get(whoami))
        .route("/logout", post(logout))
        .layer(layer)
}

struct Browser {
    app: Router,
    cookie: Option<String>,
}

impl Browser {
    async fn send(&mut self, method: &str, uri: &str) -> (StatusCode, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, format!("session={c}"));
        }
        let res = self
            .app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        if let Some(line) = res.headers().get(header::SET_COOKIE) {
            let c = cookie::Cookie::parse(line.to_str().unwrap().to_owned()).unwrap();
            self.cookie = (!is_deletion(&c)).then(|| c.value().to_owned());
        }
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_ported_app_logs_in_counts_logs_out_and_expires_after_an_hour_idle() {
    let clock = Arc::new(AtomicU64::new(now()));
    let mut browser = Browser {
        app: app(&clock),
        cookie: None,
    };
    assert_eq!(browser.send("GET", "/whoami").await.1, "anonymous");
    // An anonymous visitor's counter is a permanent session too: no handler
    // had to call set_permanent.
    assert_eq!(browser.send("POST", "/counter").await.1, "1");
    let token = browser.cookie.clone().expect("a cookie");
    let flask_view = Codec::new(key()).decode(&token, now() + 1, None).unwrap();
    assert_eq!(
        flask_view["_permanent"],
        json!(true),
        "Flask agrees: permanent"
    );
    assert_eq!(
        browser.send("POST", "/login").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(browser.send("GET", "/whoami").await.1, "user 42");
    assert_eq!(browser.send("POST", "/counter").await.1, "2");
    // Activity keeps it alive: 50 minutes, a request, 50 more minutes.
    clock.fetch_add(50 * 60, Ordering::SeqCst);
    assert_eq!(browser.send("GET", "/whoami").await.1, "user 42");
    clock.fetch_add(50 * 60, Ordering::SeqCst);
    assert_eq!(browser.send("GET", "/whoami").await.1, "user 42");
    // An hour and a second without a request: logged out.
    clock.fetch_add(3601, Ordering::SeqCst);
    assert_eq!(browser.send("GET", "/whoami").await.1, "anonymous");
    // Logout deletes the cookie.
    browser.send("POST", "/login").await;
    assert_eq!(
        browser.send("POST", "/logout").await.0,
        StatusCode::NO_CONTENT
    );
    assert!(browser.cookie.is_none());
    assert_eq!(browser.send("GET", "/whoami").await.1, "anonymous");
}

#[tokio::test]
async fn expiry_variants_set_the_flask_knobs_flask_agrees_with() {
    let write = |s: &Session| {
        s.insert("a", 1).unwrap();
        StatusCode::OK
    };
    // OnSessionEnd: a browser-session cookie, even under Django's format.
    for layer in [SessionLayer::new(key()), SessionLayer::django(key())] {
        let reply = call(&layer.with_expiry(Expiry::OnSessionEnd), &[], write).await;
        let c = reply.set_cookies().pop().unwrap();
        assert_eq!((c.expires(), c.max_age()), (None, None));
    }
    // OnInactivity: permanent, Expires = now + idle, re-sent on every request.
    let idle = SessionLayer::new(key()).with_expiry(Expiry::OnInactivity(Duration::from_secs(600)));
    let reply = call(&idle, &[], write).await;
    let c = reply.set_cookie("session").unwrap();
    let expires = c.expires_datetime().unwrap().unix_timestamp() as u64;
    assert!((now() + 599..=now() + 601).contains(&expires), "{expires}");
    let header = vec![format!("session={}", c.value())];
    let again = call(&idle, &header, |_| StatusCode::OK).await;
    assert!(again.set_cookie("session").is_some(), "refreshed untouched");
    // AtDateTime: that Expires, no refresh, refused afterwards.
    let end = UNIX_EPOCH + Duration::from_secs(now() + 7200);
    let fixed = SessionLayer::new(key()).with_expiry(Expiry::AtDateTime(end));
    let reply = call(&fixed, &[], write).await;
    let c = reply.set_cookie("session").unwrap();
    assert_eq!(
        c.expires_datetime().unwrap().unix_timestamp() as u64,
        now() + 7200
    );
    assert_eq!(c.max_age(), None);
    let header = vec![format!("session={}", c.value())];
    assert!(call(&fixed, &header, |_| StatusCode::OK)
        .await
        .set_cookies()
        .is_empty());
    let past = SessionLayer::new(key())
        .with_expiry(Expiry::AtDateTime(end))
        .with_clock(move || end + Duration::from_secs(1));
    call(&past, &header, |s: &Session| {
        assert!(s.is_empty(), "past the date");
        StatusCode::OK
    })
    .await;
}

#[tokio::test]
async fn typed_data_methods() {
    let session = Session::default();
    assert_eq!(session.update_or("n", 10_i32, |n| n * 2).unwrap(), 20);
    assert_eq!(session.remove_as::<i32>("n").unwrap(), Some(20));
    session.insert("s", "text").unwrap();
    let err = session.remove_as::<i32>("s").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Deserialize);
    assert!(
        session.contains_key("s"),
        "a failed remove_as keeps the value"
    );
    assert!(session.update_or("s", 0_i32, |n| n + 1).is_err());

    // insert_if_changed: an unchanged value leaves the session unmodified,
    // so the response writes no cookie.
    let layer = SessionLayer::new(key()).with_refresh_each_request(false);
    let mut jar = Jar::default();
    let reply = call(&layer, &jar.header(), |s: &Session| {
        assert!(s.insert_if_changed("theme", "dark").unwrap());
        StatusCode::OK
    })
    .await;
    jar.apply(&reply);
    let reply = call(&layer, &jar.header(), |s: &Session| {
        assert!(!s.insert_if_changed("theme", "dark").unwrap());
        assert!(!s.is_modified());
        StatusCode::OK
    })
    .await;
    assert!(reply.set_cookies().is_empty());
    let reply = call(&layer, &jar.header(), |s: &Session| {
        assert!(s.insert_if_changed("theme", "light").unwrap());
        StatusCode::OK
    })
    .await;
    assert!(reply.set_cookie("session").is_some());
}

#[test]
fn one_way_to_fail_on_bad_configuration() {
    let base = || SessionLayer::new(key());
    type Expect = fn(&ConfigError) -> bool;
    let cases: Vec<(SessionLayer, Expect)> = vec![
        (
            base()
                .with_cookie_name("__Host-s")
                .unwrap()
                .with_path("/app"),
            |e| matches!(e, ConfigError::HostPrefix { .. }),
        ),
        (
            base()
                .with_cookie_name("__secure-s")
                .unwrap()
                .with_secure(false),
            |e| matches!(e, ConfigError::SecurePrefix { .. }),
        ),
        (base().with_partitioned(true).with_secure(false), |e| {
            matches!(e, ConfigError::PartitionedNotSecure)
        }),
        (
            base()
                .with_partitioned(true)
                .with_max_total_bytes(16 * 1024),
            |e| matches!(e, ConfigError::PartitionedBudget { .. }),
        ),
        (
            base().with_same_site(SameSite::None).with_secure(false),
            |e| matches!(e, ConfigError::SameSiteNoneNotSecure),
        ),
        (base().with_max_cookie_bytes(8192), |e| {
            matches!(e, ConfigError::CookieTooLarge { .. })
        }),
        (base().with_max_chunks(0), |e| {
            matches!(e, ConfigError::ChunkCount { chunks: 0 })
        }),
        (base().with_max_chunks(100), |e| {
            matches!(e, ConfigError::ChunkCount { chunks: 100 })
        }),
        (base().with_max_age(Duration::ZERO), |e| {
            matches!(
                e,
                ConfigError::InvalidDuration {
                    option: "with_max_age",
                    ..
                }
            )
        }),
        (base().with_max_lifetime(Duration::ZERO), |e| {
            matches!(
                e,
                ConfigError::InvalidDuration {
                    option: "with_max_lifetime",
                    ..
                }
            )
        }),
        (
            base().with_refresh_after(Duration::from_secs(40 * 24 * 3600)),
            |e| {
                matches!(
                    e,
                    ConfigError::InvalidDuration {
                        option: "with_refresh_after",
                        ..
                    }
                )
            },
        ),
        (base().with_path("no-slash"), |e| {
            matches!(e, ConfigError::InvalidPath { .. })
        }),
    ];
    for (layer, expected) in cases {
        let err = layer.validate().unwrap_err();
        assert!(expected(&err), "{err:?}");
        // layer() panics with that error's message.
        let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = tower::Layer::layer(
                &layer,
                tower::service_fn(|_: Request<Body>| async {
                    Ok::<_, std::convert::Infallible>(())
                }),
            );
        }))
        .unwrap_err();
        let text = message.downcast_ref::<String>().unwrap();
        assert!(text.ends_with(&err.to_string()), "{text}");
    }
    assert!(base().validate().is_ok());
    assert!(base()
        .with_max_chunks(99)
        .with_max_cookie_bytes(4096)
        .validate()
        .is_ok());
}

#[tokio::test]
async fn same_site_is_ours_and_can_be_omitted() {
    for (layer, expected) in [
        (SessionLayer::new(key()), Some("SameSite=Lax")),
        (
            SessionLayer::new(key()).with_same_site(SameSite::Strict),
            Some("SameSite=Strict"),
        ),
        (SessionLayer::new(key()).without_same_site(), None),
    ] {
        let reply = call(&layer, &[], |s: &Session| {
            s.insert("a", 1).unwrap();
            StatusCode::OK
        })
        .await;
        let line = reply.set_cookie_lines().pop().unwrap();
        match expected {
            Some(attr) => assert!(line.contains(attr), "{line}"),
            None => assert!(!line.contains("SameSite"), "{line}"),
        }
    }
}

#[tokio::test]
async fn a_handler_can_question_mark_a_session_error_into_a_500_without_values() {
    async fn handler(session: Session) -> Result<String, Error> {
        let n: u32 = session.get("n")?.unwrap_or(0);
        Ok(n.to_string())
    }
    let layer = SessionLayer::new(key()).with_secure(false);
    let app = Router::new().route("/", get(handler)).layer(layer);
    let token = Codec::new(key()).encode(json!({"n": "secret-value"}).as_object().unwrap(), now());
    let res = app
        .oneshot(
            Request::get("/")
                .header(header::COOKIE, format!("session={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        !body.contains("secret") && !body.contains("\"n\""),
        "{body}"
    );
}
