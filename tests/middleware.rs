//! Flask's `save_session` table and the request side, through tower `oneshot`.

mod common;

use std::time::Duration;

use common::{call, is_deletion, key, layer, Jar, SECRET};
use http::StatusCode;
use serde_json::{json, Map, Value};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{Key, SameSite, Session, SessionLayer};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn mint(v: Value) -> String {
    mint_at(v, now())
}

fn mint_at(v: Value, ts: u64) -> String {
    Codec::new(key()).encode(v.as_object().unwrap(), ts)
}

fn decode(value: &str) -> Map<String, Value> {
    Codec::new(key()).decode(value, now(), None).unwrap()
}

const OK: StatusCode = StatusCode::OK;

#[tokio::test]
async fn no_cookie_untouched_session_writes_nothing() {
    let reply = call(&layer(), &[], |_| OK).await;
    assert!(reply.set_cookies().is_empty());
    assert!(!reply.varies_on_cookie());
    assert_eq!(reply.body.as_deref(), Some("handler body"));
}

#[tokio::test]
async fn a_write_sets_a_flask_cookie_with_secure_defaults() {
    let reply = call(&layer(), &[], |s| {
        s.insert("user_id", 42).unwrap();
        OK
    })
    .await;
    let c = reply.set_cookie("session").expect("a cookie");
    assert_eq!(
        decode(c.value()),
        *json!({"user_id": 42}).as_object().unwrap()
    );
    assert_eq!(c.secure(), Some(true));
    assert_eq!(c.http_only(), Some(true));
    assert_eq!(c.same_site(), Some(cookie::SameSite::Lax));
    assert_eq!(c.path(), Some("/"));
    assert_eq!(
        c.expires(),
        None,
        "non-permanent sessions are browser-session cookies"
    );
    assert_eq!(c.max_age(), None, "Flask never sets Max-Age");
    assert!(reply.varies_on_cookie());
}

#[tokio::test]
async fn read_only_adds_vary_but_no_cookie() {
    let cookie = format!("session={}", mint(json!({"a": 1})));
    let reply = call(&layer(), &[cookie], |s| {
        assert_eq!(s.get::<u8>("a").unwrap(), Some(1));
        OK
    })
    .await;
    assert!(reply.set_cookies().is_empty());
    assert!(reply.varies_on_cookie());
}

#[tokio::test]
async fn untouched_valid_cookie_writes_nothing() {
    let cookie = format!("session={}", mint(json!({"a": 1})));
    let reply = call(&layer(), &[cookie], |_| OK).await;
    assert!(reply.set_cookies().is_empty());
    assert!(!reply.varies_on_cookie());
}

#[tokio::test]
async fn untouched_permanent_session_is_refreshed_with_expires() {
    let old = now() - 100;
    let cookie = format!(
        "session={}",
        mint_at(json!({"_permanent": true, "a": 1}), old)
    );
    let reply = call(&layer(), &[cookie], |_| OK).await;
    let c = reply.set_cookie("session").expect("refreshed");
    let expires = c.expires_datetime().expect("Expires").unix_timestamp() as u64;
    let want = now() + 31 * 24 * 3600;
    assert!(expires.abs_diff(want) <= 2, "{expires} vs {want}");
    let ts_codec = Codec::new(key());
    assert!(
        ts_codec.decode(c.value(), now(), Some(5)).is_ok(),
        "new timestamp"
    );
    assert!(reply.varies_on_cookie());

    let no_refresh = layer().with_refresh_each_request(false);
    let cookie = format!("session={}", mint(json!({"_permanent": true})));
    let reply = call(&no_refresh, &[cookie], |_| OK).await;
    assert!(reply.set_cookies().is_empty());
    assert!(!reply.varies_on_cookie());
}

#[tokio::test]
async fn clear_deletes_the_cookie_with_the_same_attributes() {
    let layer = layer()
        .with_domain("example.com")
        .unwrap()
        .with_path("/app")
        .with_same_site(SameSite::Strict);
    for cookies in [vec![format!("session={}", mint(json!({"a": 1})))], vec![]] {
        let reply = call(&layer, &cookies, |s| {
            s.clear();
            OK
        })
        .await;
        let c = reply.set_cookie("session").expect("deletion");
        assert!(is_deletion(&c), "{c}");
        assert_eq!(c.expires_datetime().unwrap().unix_timestamp(), 0);
        assert_eq!(c.domain(), Some("example.com"));
        assert_eq!(c.path(), Some("/app"));
        assert_eq!(c.same_site(), Some(cookie::SameSite::Strict));
        assert_eq!(c.secure(), Some(true));
        assert!(reply.varies_on_cookie());
    }
}

#[tokio::test]
async fn removing_a_missing_key_is_not_a_modification() {
    let reply = call(&layer(), &[], |s| {
        assert_eq!(s.remove("missing"), None);
        OK
    })
    .await;
    assert!(reply.set_cookies().is_empty());
    assert!(reply.varies_on_cookie());
}

#[tokio::test]
async fn bad_cookies_become_an_empty_session() {
    let good = mint(json!({"user": "ada"}));
    let mut tampered = good.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let expired = mint_at(json!({"user": "ada"}), now() - 32 * 24 * 3600);
    let future = mint_at(json!({"user": "ada"}), now() + 60);
    let foreign = Codec::new(Key::new("another key").unwrap())
        .encode(json!({"user": "ada"}).as_object().unwrap(), now());
    for bad in [
        tampered,
        expired,
        future,
        foreign,
        "garbage".into(),
        String::new(),
        "a.b.c".into(),
        "%%%".into(),
    ] {
        let cookie = format!("session={bad}");
        let reply = call(&layer(), std::slice::from_ref(&cookie), |s| {
            assert!(s.is_empty());
            OK
        })
        .await;
        assert_eq!(reply.status, OK);
        assert!(
            reply.set_cookies().is_empty(),
            "the bad cookie is left alone, as Flask does"
        );
        let reply = call(&layer(), &[cookie], |s| {
            s.insert("fresh", true).unwrap();
            OK
        })
        .await;
        let c = reply.set_cookie("session").unwrap();
        assert_eq!(
            decode(c.value()),
            *json!({"fresh": true}).as_object().unwrap()
        );
    }
}

#[tokio::test]
async fn server_errors_write_nothing_unless_configured() {
    let write_then_fail = |s: &Session| {
        s.insert("a", 1).unwrap();
        StatusCode::INTERNAL_SERVER_ERROR
    };
    let reply = call(&layer(), &[], write_then_fail).await;
    assert!(reply.set_cookies().is_empty());
    assert!(reply.varies_on_cookie());
    let reply = call(
        &layer().with_save_on_server_error(true),
        &[],
        write_then_fail,
    )
    .await;
    assert!(reply.set_cookie("session").is_some());
}

#[tokio::test]
async fn the_first_session_cookie_wins_and_every_cookie_header_is_read() {
    let a = mint(json!({"who": "first"}));
    let b = mint(json!({"who": "second"}));
    let who = |cookies: Vec<String>| async move {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen2 = seen.clone();
        call(&layer(), &cookies, move |s| {
            *seen2.lock().unwrap() = s.get::<String>("who").unwrap();
            OK
        })
        .await;
        let out = seen.lock().unwrap().clone();
        out
    };
    assert_eq!(
        who(vec![format!("session={a}; session={b}")])
            .await
            .as_deref(),
        Some("first")
    );
    assert_eq!(
        who(vec![format!("x=1; session=bad; session={b}")]).await,
        None,
        "first wins even if bad"
    );
    // HTTP/2 may split the Cookie header; the session can be in any field.
    assert_eq!(
        who(vec!["theme=dark".into(), format!("session={b}")])
            .await
            .as_deref(),
        Some("second")
    );
    assert_eq!(
        who(vec![format!("session=\"{a}\"")]).await.as_deref(),
        Some("first"),
        "quoted value"
    );
}

#[tokio::test]
async fn fallback_keys_are_accepted_and_writes_resign_with_the_new_key() {
    let old = Key::new("old-secret").unwrap();
    let by_old = Codec::new(old.clone()).encode(json!({"n": 1}).as_object().unwrap(), now());
    let rotated = layer().with_fallback_keys([old.clone()]);
    let reply = call(&rotated, &[format!("session={by_old}")], |s| {
        let n: u8 = s.get("n").unwrap().unwrap();
        s.insert("n", n + 1).unwrap();
        OK
    })
    .await;
    let c = reply.set_cookie("session").unwrap();
    assert_eq!(decode(c.value())["n"], json!(2));
    assert!(
        Codec::new(old).decode(c.value(), now(), None).is_err(),
        "signed with the main key"
    );
}

#[tokio::test]
async fn a_handler_set_cookie_of_the_same_name_is_replaced() {
    use tower::{service_fn, Layer, ServiceExt};
    let svc = layer().layer(service_fn(|req: http::Request<()>| async move {
        req.extensions()
            .get::<Session>()
            .unwrap()
            .insert("a", 1)
            .unwrap();
        let res = http::Response::builder()
            .header("set-cookie", "session=handler; Path=/")
            .header("set-cookie", "other=1")
            .header("vary", "Accept-Encoding")
            .body(())
            .unwrap();
        Ok::<_, std::convert::Infallible>(res)
    }));
    let res = svc.oneshot(http::Request::new(())).await.unwrap();
    let lines: Vec<_> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.contains(&"other=1"));
    assert!(lines.iter().any(|l| l.starts_with("session=ey")));
    let vary: Vec<_> = res
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["Accept-Encoding", "Cookie"]);
}

#[tokio::test]
async fn attributes_follow_the_configuration() {
    let layer = layer()
        .with_cookie_name("__Host-sid")
        .unwrap()
        .without_same_site()
        .with_partitioned(true)
        .with_http_only(false);
    let reply = call(&layer, &[], |s| {
        s.set_permanent(true);
        OK
    })
    .await;
    let line = reply.set_cookie_lines().pop().unwrap();
    assert!(line.starts_with("__Host-sid="), "{line}");
    assert!(
        line.contains("Partitioned") && line.contains("Secure") && line.contains("Expires="),
        "{line}"
    );
    assert!(
        !line.contains("SameSite") && !line.contains("HttpOnly") && !line.contains("Domain"),
        "{line}"
    );
}

#[tokio::test]
async fn max_age_limits_the_server_side_age() {
    let short = layer().with_max_age(Duration::from_secs(60));
    let cookie = format!("session={}", mint_at(json!({"a": 1}), now() - 61));
    let reply = call(&short, &[cookie], |s| {
        assert!(s.is_empty());
        OK
    })
    .await;
    assert_eq!(reply.status, OK);
}

#[tokio::test]
async fn a_session_survives_a_round_trip_through_a_jar() {
    let mut jar = Jar::default();
    for expected in 1..=3u32 {
        let reply = call(&layer(), &jar.header(), move |s| {
            let n: u32 = s.get("n").unwrap().unwrap_or(0) + 1;
            assert_eq!(n, expected);
            s.insert("n", n).unwrap();
            OK
        })
        .await;
        jar.apply(&reply);
    }
    assert_eq!(jar.names(), ["session"]);
}

#[test]
#[should_panic(expected = "__Host-")]
fn host_prefix_without_secure_panics_at_start_up() {
    use tower::Layer;
    let layer = layer()
        .with_cookie_name("__Host-s")
        .unwrap()
        .with_secure(false);
    let _ = layer.layer(tower::service_fn(|_: http::Request<()>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(()))
    }));
}

#[test]
#[should_panic(expected = "Partitioned")]
fn partitioned_without_secure_panics_at_start_up() {
    use tower::Layer;
    let layer = layer().with_partitioned(true).with_secure(false);
    let _ = layer.layer(tower::service_fn(|_: http::Request<()>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(()))
    }));
}

#[test]
fn invalid_names_and_domains_are_config_errors() {
    assert!(layer().with_cookie_name("a:b").is_err());
    assert!(layer().with_cookie_name("").is_err());
    assert!(layer().with_domain("bad domain").is_err());
}

#[test]
fn debug_never_shows_keys() {
    let layer = SessionLayer::new(Key::new(SECRET).unwrap())
        .with_fallback_keys([Key::new("fallback-secret-xyz").unwrap()]);
    let shown = format!("{layer:?} {:?}", key());
    assert!(
        !shown.contains(SECRET) && !shown.contains("fallback-secret-xyz"),
        "{shown}"
    );
    assert!(!shown.contains("109, 105"), "no byte dumps either: {shown}");
}

#[test]
fn the_handle_is_send_sync_and_shared_by_clones() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Session>();
    let a = Session::default();
    let b = a.clone();
    b.insert("k", "v").unwrap();
    assert_eq!(a.get::<String>("k").unwrap().as_deref(), Some("v"));
}

#[tokio::test]
async fn integers_beyond_64_bits_are_carried_never_rounded() {
    // What Flask writes for {"big": 2**64, "user": "gina"}. `Codec::decode`
    // returns a serde_json map, which cannot hold it: refused there. The
    // layer keeps the session as its text: the user stays logged in, and
    // a write hands Flask its integer back unchanged.
    let codec = Codec::new(key());
    let text = br#"{"big":18446744073709551616,"user":"gina"}"#;
    let token = {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let ts = now().to_be_bytes();
        let signed = format!(
            "{}.{}",
            b64(text),
            b64(&ts[ts.iter().position(|b| *b != 0).unwrap()..])
        );
        use hmac::{Hmac, Mac};
        let derived = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes())
            .unwrap()
            .chain_update(b"cookie-session")
            .finalize()
            .into_bytes();
        let sig = Hmac::<sha1::Sha1>::new_from_slice(&derived)
            .unwrap()
            .chain_update(signed.as_bytes())
            .finalize()
            .into_bytes();
        format!("{signed}.{}", b64(&sig))
    };
    let err = codec.decode(&token, now(), None).unwrap_err();
    assert_eq!(
        err.kind(),
        tower_cookie_session::DecodeErrorKind::BadPayload
    );
    let reply = call(&layer(), &[format!("session={token}")], |s| {
        assert_eq!(s.len(), 2);
        assert_eq!(s.get::<String>("user").unwrap().as_deref(), Some("gina"));
        assert_eq!(s.get::<u128>("big").unwrap(), Some(1u128 << 64));
        let err = s.get::<u64>("big").unwrap_err().to_string();
        assert!(
            err.contains("big") && !err.contains("18446744073709551616"),
            "{err}"
        );
        assert_eq!(s.get_value("big"), None, "no serde_json::Value holds it");
        s.insert("n", 1).unwrap();
        OK
    })
    .await;
    assert_eq!(reply.status, OK);
    let written = reply.set_cookie("session").unwrap();
    let (signed, _) = written.value().rsplit_once('.').unwrap();
    let (payload, _) = signed.rsplit_once('.').unwrap();
    use base64::Engine as _;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    assert_eq!(json, br#"{"big":18446744073709551616,"n":1,"user":"gina"}"#);
}
