//! Flask-Login's and Django's own outputs (`tests/fixtures/login_vectors.json`)
//! replayed through the login primitives.

use std::net::IpAddr;

use http::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::django::auth_hash;
use super::flask::identifier_of;
use super::{DjangoAuth, FlaskLogin, FlaskLoginVersion};
use crate::{Key, Session};

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/login_vectors.json")).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// The bytes a real server received for the text Werkzeug handed Python:
/// Werkzeug decodes header bytes as Latin-1.
fn latin1(text: &str) -> Option<HeaderValue> {
    let bytes: Option<Vec<u8>> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    HeaderValue::from_bytes(&bytes?).ok()
}

#[test]
fn flask_login_identifiers_are_flask_logins() {
    let v = vectors();
    for (list, version) in [
        ("identifier_v06", FlaskLoginVersion::V0_6),
        ("identifier_v07", FlaskLoginVersion::V0_7),
    ] {
        let cases = v["flask_login"][list].as_array().unwrap();
        assert!(cases.len() > 5);
        for case in cases {
            let mut headers = HeaderMap::new();
            if let Some(ua) = case["user_agent"].as_str() {
                headers.insert("user-agent", latin1(ua).expect("a Latin-1 header"));
            }
            if let Some(xff) = case["forwarded_for"].as_str() {
                headers.insert("x-forwarded-for", latin1(xff).expect("a Latin-1 header"));
            }
            let addr: Option<IpAddr> = case["remote_addr"].as_str().map(|a| a.parse().unwrap());
            assert_eq!(
                identifier_of(version, &headers, addr),
                s(&case["id"]),
                "{list}: {}",
                case["case"]
            );
        }
    }
}

#[test]
fn remember_cookies_are_flask_logins() {
    let v = vectors();
    let login = FlaskLogin::new(Key::new(s(&v["flask_login"]["secret_key"])).unwrap());
    for case in v["flask_login"]["remember_encode"].as_array().unwrap() {
        assert_eq!(
            login.remember_cookie_value(s(&case["user_id"])),
            s(&case["cookie"]),
            "{}",
            case["case"]
        );
    }
    for case in v["flask_login"]["remember_decode"].as_array().unwrap() {
        assert_eq!(
            login.decode_remember_cookie(s(&case["cookie"])).as_deref(),
            case["user_id"].as_str(),
            "{}",
            case["case"]
        );
    }
}

#[test]
fn flask_login_session_is_flask_logins() {
    let v = vectors();
    let login = FlaskLogin::new(Key::new(s(&v["flask_login"]["secret_key"])).unwrap());
    let mut headers = HeaderMap::new();
    headers.insert("user-agent", HeaderValue::from_static("Mozilla/5.0"));
    let client = super::Client::new(&headers, Some("203.0.113.7".parse().unwrap()));
    let session = Session::default();
    let cookie = login.login(
        &session,
        &client,
        "42",
        super::Remember::For(std::time::Duration::from_secs(86_400)),
    );
    let want = v["flask_login"]["login_session"].as_object().unwrap();
    let mut got = session.to_tagged();
    assert!(
        got.remove(crate::LOGIN_KEY).is_some(),
        "the login renews the session"
    );
    assert_eq!(&got, want);
    let header = cookie.header().unwrap().to_str().unwrap();
    let value = header
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("remember_token=")
        .unwrap();
    assert_eq!(value, s(&v["flask_login"]["login_remember_cookie"]));
}

#[test]
fn django_auth_hashes_are_djangos() {
    let v = vectors();
    for case in v["django_auth"]["hashes"].as_array().unwrap() {
        let key = Key::new(s(&case["secret"])).unwrap();
        assert_eq!(auth_hash(&key, s(&case["password"])), s(&case["hash"]));
    }
}

#[test]
fn django_login_session_is_djangos() {
    let v = vectors();
    let auth = DjangoAuth::new(Key::new(s(&v["django_auth"]["secret_key"])).unwrap());
    let session = Session::default();
    auth.login(&session, "42", s(&v["django_auth"]["login_password"]), None);
    let want = v["django_auth"]["login_session"].as_object().unwrap();
    let mut got = session.to_tagged();
    assert!(
        got.remove(crate::LOGIN_KEY).is_some(),
        "the login renews the session"
    );
    assert_eq!(&got, want);
    let keys: Vec<&String> = want.keys().collect();
    let ours: Vec<String> = session
        .keys()
        .into_iter()
        .filter(|k| k != crate::LOGIN_KEY)
        .collect();
    assert_eq!(ours.iter().collect::<Vec<_>>(), keys, "insertion order");
}
