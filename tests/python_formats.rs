//! The Starlette, Django and Quart layers through the whole request and
//! response path: key order, chunking, budgets, the decode cache,
//! compression, values, cookie defaults and save rules. Byte-exactness
//! against the real frameworks is in `src/codec/python_vectors.rs`, their
//! save tables in `tests/python_save_table.rs`, and live in `tests/live/`.

mod common;

use std::time::Duration;

use common::{call, incompressible, is_deletion, Jar};
use http::StatusCode;
use serde_json::{json, Value};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{flask, Compression, Key, SessionLayer};

const SECRET: &str = "python-formats-test-secret-0123456789";
const OK: StatusCode = StatusCode::OK;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framework {
    Quart,
    Starlette,
    Django,
}

const ALL: [Framework; 3] = [Framework::Quart, Framework::Starlette, Framework::Django];

impl Framework {
    fn layer(self) -> SessionLayer {
        let key = Key::new(SECRET).unwrap();
        match self {
            Self::Quart => SessionLayer::quart(key),
            Self::Starlette => SessionLayer::starlette(key),
            Self::Django => SessionLayer::django(key),
        }
    }

    fn codec(self) -> Codec {
        let key = Key::new(SECRET).unwrap();
        match self {
            Self::Quart => Codec::quart(key),
            Self::Starlette => Codec::starlette(key),
            Self::Django => Codec::django(key),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Django => "sessionid",
            Self::Quart | Self::Starlette => "session",
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Requests through `layer` with a jar; returns what the handler saw.
async fn round(
    layer: &SessionLayer,
    jar: &mut Jar,
    handler: impl Fn(&tower_cookie_session::Session) -> StatusCode + Clone + Send + 'static,
) -> common::Reply {
    let reply = call(layer, &jar.header(), handler).await;
    jar.apply(&reply);
    reply
}

#[tokio::test]
async fn keys_keep_arrival_order_new_keys_last_with_and_without_the_cache() {
    for framework in ALL {
        for cache in [true, false] {
            let mut layer = framework.layer();
            if !cache {
                layer = layer.with_decode_cache_bytes(0);
            }
            let mut jar = Jar::default();
            round(&layer, &mut jar, |s| {
                s.insert("b", 1).unwrap();
                s.insert("a", 2).unwrap();
                OK
            })
            .await;
            round(&layer, &mut jar, |s| {
                assert_eq!(s.keys(), ["b", "a"]);
                s.insert("c", 3).unwrap();
                s.insert("b", 10).unwrap();
                OK
            })
            .await;
            round(&layer, &mut jar, move |s| {
                assert_eq!(s.keys(), ["b", "a", "c"], "{framework:?} cache {cache}");
                assert_eq!(s.get::<i32>("b").unwrap(), Some(10));
                OK
            })
            .await;
            // The cookie holds that order too, as the framework writes it.
            let value = &jar.cookies[framework.name()];
            let decoded = framework.codec().decode(value, now(), None).unwrap();
            assert_eq!(Value::Object(decoded), json!({"a": 2, "b": 10, "c": 3}));
        }
    }
}

#[tokio::test]
async fn large_sessions_are_chunked_read_back_and_shrunk_under_every_format() {
    for framework in ALL {
        let layer = framework.layer();
        let mut jar = Jar::default();
        let blob = incompressible(4500, 7);
        let stored = blob.clone();
        round(&layer, &mut jar, move |s| {
            s.insert("blob", &stored).unwrap();
            OK
        })
        .await;
        let chunks = jar.names().iter().filter(|n| n.contains('.')).count();
        assert!(chunks >= 2, "{framework:?}: {:?}", jar.names());
        round(&layer, &mut jar, move |s| {
            assert_eq!(
                s.get::<String>("blob").unwrap().as_deref(),
                Some(blob.as_str())
            );
            s.remove("blob");
            s.insert("small", 1).unwrap();
            OK
        })
        .await;
        assert_eq!(
            jar.names(),
            [framework.name()],
            "{framework:?}: stale chunks expired"
        );
        // Over the budget: a clear error, nothing written.
        let too_big = incompressible(40_000, 8);
        let reply = round(&layer, &mut jar, move |s| {
            s.insert("blob", &too_big).unwrap();
            OK
        })
        .await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{framework:?}"
        );
        assert!(reply.set_cookies().is_empty());
    }
}

#[tokio::test]
async fn compression_follows_the_policy_except_where_the_format_has_none() {
    let large = "abc".repeat(1000);
    for framework in ALL {
        for (policy, compressed) in [(Compression::Auto, true), (Compression::Never, false)] {
            let layer = framework.layer().with_compression(policy);
            let value = large.clone();
            let reply = call(&layer, &[], move |s| {
                s.insert("text", &value).unwrap();
                OK
            })
            .await;
            let cookie = reply.set_cookie(framework.name()).unwrap();
            // Starlette has no compressed form: its payload is never deflated.
            let expected = compressed && framework != Framework::Starlette;
            assert_eq!(
                cookie.value().starts_with('.'),
                expected,
                "{framework:?} {policy:?}"
            );
        }
    }
}

#[tokio::test]
async fn values_are_plain_json_and_flask_wrappers_are_errors_outside_flask_formats() {
    for framework in [Framework::Starlette, Framework::Django] {
        let reply = call(&framework.layer(), &[], |s| {
            let err = s.insert("t", flask::Tuple((1, 2))).unwrap_err();
            assert!(err.to_string().contains("t"), "{err}");
            // A key that looks like a Flask tag is plain data here.
            s.insert("x", json!({" t": [1, 2]})).unwrap();
            assert_eq!(s.get_value("x"), Some(json!({" t": [1, 2]})));
            OK
        })
        .await;
        let cookie = reply.set_cookie(framework.name()).unwrap();
        let decoded = framework
            .codec()
            .decode(cookie.value(), now(), None)
            .unwrap();
        assert_eq!(Value::Object(decoded), json!({"x": {" t": [1, 2]}}));
    }
    // Quart is Flask's format: tags apply.
    let reply = call(&Framework::Quart.layer(), &[], |s| {
        s.insert("t", flask::Tuple((1, 2))).unwrap();
        OK
    })
    .await;
    let cookie = reply.set_cookie("session").unwrap();
    let decoded = Codec::new(Key::new(SECRET).unwrap())
        .decode(cookie.value(), now(), None)
        .unwrap();
    assert_eq!(Value::Object(decoded), json!({"t": {" t": [1, 2]}}));
}

#[tokio::test]
async fn cookie_defaults_are_the_frameworks_with_secure_on() {
    let two_weeks = time::Duration::seconds(14 * 24 * 3600);
    for framework in [Framework::Starlette, Framework::Django] {
        let reply = call(&framework.layer(), &[], |s| {
            s.insert("a", 1).unwrap();
            OK
        })
        .await;
        let c = reply.set_cookie(framework.name()).unwrap();
        assert_eq!(c.max_age(), Some(two_weeks), "{framework:?}");
        assert_eq!(c.expires().is_some(), framework == Framework::Django);
        assert_eq!(c.secure(), Some(true));
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.path(), Some("/"));
        // An untouched or read-only request writes nothing: no sliding refresh.
        let header = vec![format!("{}={}", framework.name(), c.value())];
        let read = call(&framework.layer(), &header, |s| {
            assert_eq!(s.get::<i32>("a").unwrap(), Some(1));
            assert!(s.is_permanent());
            OK
        })
        .await;
        assert!(read.set_cookies().is_empty(), "{framework:?}");
        assert!(read.varies_on_cookie());
        // Logout deletes, in the framework's form.
        let out = call(&framework.layer(), &header, |s| {
            s.clear();
            OK
        })
        .await;
        let deleted = out.set_cookie(framework.name()).unwrap();
        assert!(is_deletion(&deleted), "{deleted}");
        let value = if framework == Framework::Django {
            "\"\""
        } else {
            "null"
        };
        assert_eq!(deleted.value(), value);
    }
}

#[tokio::test]
async fn a_browser_session_cookie_is_one_flag_away() {
    let reply = call(&Framework::Django.layer(), &[], |s| {
        s.insert("a", 1).unwrap();
        s.set_permanent(false);
        assert!(!s.is_permanent());
        OK
    })
    .await;
    let c = reply.set_cookie("sessionid").unwrap();
    assert_eq!((c.max_age(), c.expires()), (None, None));
}

#[tokio::test]
async fn django_accepts_future_timestamps_and_starlette_does_not() {
    for (framework, accepted) in [(Framework::Django, true), (Framework::Starlette, false)] {
        let cookie = framework
            .codec()
            .encode(json!({"a": 1}).as_object().unwrap(), now() + 60);
        let header = vec![format!("{}={cookie}", framework.name())];
        call(&framework.layer(), &header, move |s| {
            assert_eq!(
                s.get::<i32>("a").unwrap().is_some(),
                accepted,
                "{framework:?}"
            );
            OK
        })
        .await;
    }
}

#[tokio::test]
async fn save_every_request_refreshes_django_sessions() {
    let layer = Framework::Django
        .layer()
        .with_refresh_each_request(true)
        .with_max_age(Duration::from_secs(600));
    let old = Codec::django(Key::new(SECRET).unwrap())
        .encode(json!({"a": 1}).as_object().unwrap(), now() - 100);
    let header = vec![format!("sessionid={old}")];
    let reply = call(&layer, &header, |_| OK).await;
    let c = reply.set_cookie("sessionid").expect("refreshed");
    assert_ne!(c.value(), old);
    assert_eq!(c.max_age(), Some(time::Duration::seconds(600)));
    // Without the setting (Django's default), an untouched request writes nothing.
    let reply = call(&Framework::Django.layer(), &header, |_| OK).await;
    assert!(reply.set_cookies().is_empty());
}

#[tokio::test]
async fn starlette_deletes_only_a_session_that_verified() {
    let header = vec!["session=garbage-value-123".to_owned()];
    let reply = call(&Framework::Starlette.layer(), &header, |s| {
        s.clear();
        OK
    })
    .await;
    assert!(reply.set_cookies().is_empty());
    // Django deletes whatever the request carried.
    let header = vec!["sessionid=garbage-value-123".to_owned()];
    let reply = call(&Framework::Django.layer(), &header, |s| {
        s.clear();
        OK
    })
    .await;
    assert!(is_deletion(&reply.set_cookie("sessionid").unwrap()));
}
