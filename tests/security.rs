//! Security review, as tests: the signature check is constant-time, no
//! `Debug` or error message shows a secret or a session value, cookie
//! prefix rules are enforced when the layer is applied, and a short key
//! warns once.
//!
//! Every key in this file is at least 32 bytes long except in
//! `a_short_key_warns_once`: the warning is emitted once per process.

use std::convert::Infallible;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use http::header::{COOKIE, SET_COOKIE};
use http::{Request, Response};
use serde_json::json;
use tower::{service_fn, Layer, ServiceExt};
use tower_cookie_session::codec::{Codec, Digest, KeyDerivation};
use tower_cookie_session::{ConfigError, Key, SameSite, Session, SessionLayer};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;

const SECRET: &str = "Zq8vKx2pLm9wRt4yNc7bHs3dFg6jQe1uXo5iAa0M";
const OLD_SECRET: &str = "Pw3nGk8sTz1qVb6rYh4mLc9xDf2jKu7eRo0tWq5N";
const VALUE: &str = "Vx7Qp2Lk9Wm4Rt8Yz3Hb";

fn key() -> Key {
    Key::new(SECRET).unwrap()
}

/// Fails if `shown` holds any 8-byte window of a secret or of the value.
fn assert_discreet(shown: &str) {
    for secret in [SECRET, OLD_SECRET, VALUE] {
        for window in secret.as_bytes().windows(8) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(!shown.contains(window), "{window:?} shown in: {shown}");
        }
    }
}

#[test]
fn the_signature_check_is_constant_time() {
    // Review note, enforced: the only signature comparison is the `hmac`
    // crate's `verify_slice` (constant-time via `subtle`), never `==`.
    let key_rs = include_str!("../src/codec/key.rs");
    let verify = &key_rs[key_rs.find("fn verify(").expect("Signer::verify")..];
    let verify = &verify[..verify.find("\n    }\n").unwrap()];
    assert_eq!(
        verify.matches(".verify_slice(signature)").count(),
        2,
        "{verify}"
    );
    assert!(!verify.contains("=="), "{verify}");
    let mod_rs = include_str!("../src/codec/mod.rs");
    assert!(mod_rs.contains(".any(|s| s.verify(signed.as_bytes(), &sig[..sig_len]))"));
    for source in [key_rs, mod_rs] {
        for line in source.lines() {
            let l = line.replace(' ', "");
            assert!(
                !(l.contains("sig==") || l.contains("==sig") || l.contains("signature==")),
                "a plain comparison of signatures: {line}"
            );
        }
    }

    // And behaviourally: a signature of the right length but wrong bytes,
    // truncated, extended or empty, never verifies.
    let codec = Codec::new(key());
    let cookie = codec.encode(json!({"a": 1}).as_object().unwrap(), 100);
    let (signed, sig) = cookie.rsplit_once('.').unwrap();
    let zeros = "A".repeat(sig.len());
    for bad in [
        format!("{signed}.{zeros}"),
        format!("{signed}.{}", &sig[..sig.len() - 4]),
        format!("{signed}.{sig}AAAA"),
        format!("{signed}."),
    ] {
        assert!(codec.decode(&bad, 100, None).is_err(), "{bad}");
    }
}

#[test]
fn debug_output_shows_no_secret_and_no_session_value() {
    let fallback = Key::new(OLD_SECRET).unwrap();
    let k = key();
    assert_discreet(&format!("{k:?} {k:#?}"));
    assert_eq!(
        format!("{k:?}"),
        format!("Key {{ len: {}, .. }}", SECRET.len())
    );

    let codec = Codec::new(key())
        .with_fallback_keys([fallback.clone()])
        .with_digest(Digest::Sha256)
        .with_key_derivation(KeyDerivation::DjangoConcat);
    assert_discreet(&format!("{codec:?} {codec:#?}"));

    let layer = SessionLayer::new(key()).with_fallback_keys([fallback]);
    assert_discreet(&format!("{layer:?} {layer:#?}"));
    let svc = layer.layer(service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(Response::new(()))
    }));
    assert_discreet(&format!("{svc:?} {svc:#?}"));

    let session = Session::default();
    session.insert("password", VALUE).unwrap();
    session.insert(VALUE, 1).unwrap();
    let shown = format!("{session:?} {session:#?}");
    assert_discreet(&shown);
    assert!(!shown.contains("password"), "{shown}");
}

#[tokio::test]
async fn a_request_session_debug_shows_no_cookie() {
    let cookie = Codec::new(key()).encode(json!({"token": VALUE}).as_object().unwrap(), 1);
    let seen = Arc::new(Mutex::new(String::new()));
    let out = seen.clone();
    let svc = SessionLayer::new(key()).layer(service_fn(move |req: Request<()>| {
        let out = out.clone();
        async move {
            let session = req.extensions().get::<Session>().unwrap();
            // Before and after the lazy decode.
            let before = format!("{session:?} {req:?}");
            let _ = session.len();
            *out.lock().unwrap() = format!("{before} {session:#?}");
            Ok::<_, Infallible>(Response::new(()))
        }
    }));
    let mut req = Request::new(());
    req.headers_mut()
        .insert(COOKIE, format!("session={cookie}").parse().unwrap());
    let res = svc.oneshot(req).await.unwrap();
    let shown = seen.lock().unwrap().clone();
    // The request's own Debug shows its headers, the cookie included; the
    // session's part must add nothing: strip the header and check the rest.
    let without_header = shown.replace(&cookie, "");
    assert_discreet(&without_header);
    assert_discreet(&format!("{res:?}"));
}

#[test]
fn error_messages_echo_no_key_and_no_cookie() {
    let codec = Codec::new(key()).with_fallback_keys([Key::new(OLD_SECRET).unwrap()]);
    let good = codec.encode(json!({"token": VALUE}).as_object().unwrap(), 1000);
    let foreign = Codec::new(Key::new("a-different-key-of-32-bytes-or-more!!").unwrap())
        .encode(json!({"token": VALUE}).as_object().unwrap(), 1000);
    let cases = [
        (good.clone(), 999, None),
        (good.clone(), 5000, Some(1)),
        (foreign, 1000, None),
        (format!("{good}x"), 1000, None),
        ("no-dots".to_owned(), 1000, None),
        (good.replace('.', ".."), 1000, None),
    ];
    for (cookie, now, max_age) in cases {
        let err = codec.decode(&cookie, now, max_age).unwrap_err();
        let shown = format!("{err} {err:?} {:?}", err.kind());
        assert_discreet(&shown);
        assert!(!shown.contains(&cookie), "{shown}");
    }
    let err = Key::new("").unwrap_err();
    assert_eq!(err, ConfigError::EmptyKey);
    assert_discreet(&format!("{err} {err:?}"));

    let session = Session::default();
    session.insert("n", 1).unwrap();
    let noise: Vec<u64> = (0..4000u64)
        .map(|i| i.wrapping_mul(2_654_435_761) % 1_000_003)
        .collect();
    session.insert("noise", noise).unwrap();
    let too_large = session.encoded_len().unwrap_err();
    assert_discreet(&format!("{too_large} {too_large:?}"));
}

/// `Session::get` of a value of the wrong type: the error names the type
/// mismatch. serde_json's message quotes the stored string, so a session
/// value can end up in a log line that prints the error.
#[test]
fn conversion_errors_echo_no_session_value() {
    let session = Session::default();
    session.insert("token", VALUE).unwrap();
    let err = session.get::<u64>("token").unwrap_err();
    assert_discreet(&format!("{err} {err:?}"));
}

fn applies(layer: SessionLayer) -> Result<(), String> {
    let svc = service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
    catch_unwind(AssertUnwindSafe(|| {
        let _ = layer.layer(svc);
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

#[test]
fn cookie_prefix_rules_are_enforced_when_the_layer_is_applied() {
    let base = || SessionLayer::new(key());
    let host = || base().with_cookie_name("__Host-session").unwrap();
    let secure = || base().with_cookie_name("__Secure-session").unwrap();

    for (what, layer) in [
        ("__Host- without Secure", host().with_secure(false)),
        ("__Host- with a Path", host().with_path("/app")),
        (
            "__Host- with a Domain",
            host().with_domain("example.com").unwrap(),
        ),
        ("__Secure- without Secure", secure().with_secure(false)),
        (
            "Partitioned without Secure",
            base().with_partitioned(true).with_secure(false),
        ),
        (
            "SameSite=None without Secure",
            base().with_same_site(SameSite::None).with_secure(false),
        ),
        ("a relative Path", base().with_path("app")),
        ("a Path with ';'", base().with_path("/a;b")),
        ("a Path with a control", base().with_path("/a\nb")),
    ] {
        let message = applies(layer).expect_err(what);
        assert!(
            message.starts_with("invalid SessionLayer configuration"),
            "{what}: {message}"
        );
        assert_discreet(&message);
    }
    for (what, layer) in [
        ("defaults", base()),
        ("__Host- with defaults", host()),
        (
            "__Secure- with a Domain",
            secure().with_domain("example.com").unwrap(),
        ),
        ("__Secure- with a Path", secure().with_path("/app")),
        ("Partitioned", base().with_partitioned(true)),
        ("SameSite=None", base().with_same_site(SameSite::None)),
        ("plain HTTP development", base().with_secure(false)),
    ] {
        assert_eq!(applies(layer), Ok(()), "{what}");
    }
}

#[tokio::test]
async fn cookies_are_secure_http_only_and_lax_by_default() {
    let svc = SessionLayer::new(key()).layer(service_fn(|req: Request<()>| async move {
        req.extensions()
            .get::<Session>()
            .unwrap()
            .insert("a", 1)
            .unwrap();
        Ok::<_, Infallible>(Response::new(()))
    }));
    let res = svc.oneshot(Request::new(())).await.unwrap();
    let line = res.headers()[SET_COOKIE].to_str().unwrap();
    for attr in ["; HttpOnly", "; Secure", "; SameSite=Lax", "; Path=/"] {
        assert!(line.contains(attr), "{line}");
    }
}

/// Collects what a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// Every event of this thread, at every level, into a buffer, while the
/// guard lives.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .finish();
    (captured, subscriber.set_default())
}

#[test]
fn a_short_key_warns_once() {
    let (captured, guard) = capture();
    let _ = SessionLayer::new(Key::generate());
    let _ = SessionLayer::new(key());
    assert!(
        captured.0.lock().unwrap().is_empty(),
        "no warning for keys of 32 bytes or more"
    );
    let _ = SessionLayer::new(Key::new("tiny-secret").unwrap());
    let _ = SessionLayer::new(Key::new("other-tiny").unwrap());
    let _ = SessionLayer::new(Key::new([7u8; 31]).unwrap());
    drop(guard);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(log.matches("shorter than 32 bytes").count(), 1, "{log}");
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("key_len=11"), "{log}");
    assert!(!log.contains("tiny-secret"), "{log}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_clients_chunk_marker_is_logged_truncated() {
    let (captured, guard) = capture();
    let marker = format!("chunks-{}", "9".repeat(3000));
    let svc = SessionLayer::new(key()).layer(service_fn(|req: Request<()>| async move {
        let session = req.extensions().get::<Session>().unwrap();
        assert!(session.is_empty());
        Ok::<_, Infallible>(Response::new(()))
    }));
    let req = Request::builder()
        .header(COOKIE, format!("session={marker}"))
        .body(())
        .unwrap();
    svc.oneshot(req).await.unwrap();
    drop(guard);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("chunk marker out of range"), "{log}");
    assert!(log.contains("marker_len=3007"), "{log}");
    assert!(
        !log.contains(&"9".repeat(100)),
        "the marker is truncated: {log:.400}"
    );
}
