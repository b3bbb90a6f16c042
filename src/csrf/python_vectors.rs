//! Django's and Flask-WTF's own outputs (`tests/fixtures/login_vectors.json`,
//! made by `tests/login/gen_vectors.py` with the pinned packages) replayed
//! through the CSRF primitives.

use serde_json::Value;

use super::origin::{check_referer, is_same_domain, origin_verified, Served, TrustedOrigins};
use super::{django, flask_wtf};
use crate::Key;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/login_vectors.json")).unwrap()
}

fn list<'a>(v: &'a Value, section: &str, name: &str) -> &'a Vec<Value> {
    let list = v[section][name].as_array().unwrap();
    assert!(!list.is_empty(), "{section}.{name} is empty");
    list
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn django_masks_and_unmasks_as_django() {
    let v = vectors();
    for case in list(&v, "django_csrf", "mask") {
        assert_eq!(
            django::mask_with(s(&case["secret"]), s(&case["mask"])),
            s(&case["token"]),
            "{}",
            case["case"]
        );
    }
    for case in list(&v, "django_csrf", "unmask") {
        assert_eq!(
            django::unmask(s(&case["token"])),
            s(&case["secret"]),
            "{}",
            case["case"]
        );
    }
}

#[test]
fn django_token_matching_agrees_with_django() {
    let v = vectors();
    for case in list(&v, "django_csrf", "match") {
        let got = django::token_matches(s(&case["token"]), s(&case["secret"]));
        match case["error"].as_str() {
            Some(reason) => assert_eq!(
                got.map_err(django::FormatError::as_str),
                Err(reason),
                "{}",
                case["case"]
            ),
            None => assert_eq!(got, Ok(case["ok"].as_bool().unwrap()), "{}", case["case"]),
        }
    }
}

/// `request.get_host()`: the Host, unless ALLOWED_HOSTS refuses it.
fn allowed_host(case: &Value) -> Option<&str> {
    let host = s(&case["host"]);
    let domain = host
        .rsplit_once(':')
        .map_or(host, |(d, _)| d)
        .to_ascii_lowercase();
    case["allowed_hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| s(p) == "*" || is_same_domain(&domain, s(p)))
        .then_some(host)
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(s).collect()
}

#[test]
fn django_origin_checks_agree_with_django() {
    let v = vectors();
    for case in list(&v, "django_csrf", "origin") {
        let served = Served {
            host: allowed_host(case),
            secure: case["secure"].as_bool().unwrap(),
            port: None,
            cookie_domain: None,
        };
        let trusted = TrustedOrigins::new(strings(&case["trusted_origins"]));
        let ok = origin_verified(s(&case["origin"]), served, &trusted);
        assert_eq!(ok, case["ok"].as_bool().unwrap(), "{}", case["case"]);
    }
}

#[test]
fn django_referer_checks_agree_with_django() {
    let v = vectors();
    for case in list(&v, "django_csrf", "referer") {
        let domain_key = if case["use_sessions"].as_bool().unwrap() {
            "session_cookie_domain"
        } else {
            "cookie_domain"
        };
        let served = Served {
            host: allowed_host(case),
            secure: true,
            port: case["server_port"].as_str(),
            cookie_domain: case[domain_key].as_str(),
        };
        let trusted = TrustedOrigins::new(strings(&case["trusted_origins"]));
        let got = check_referer(case["referer"].as_str(), served, &trusted);
        match case["reason"].as_str() {
            None => assert_eq!(got, Ok(()), "{}", case["case"]),
            Some(reason) => assert_eq!(got, Err(reason.to_owned()), "{}", case["case"]),
        }
    }
}

#[test]
fn flask_wtf_tokens_are_flask_wtfs() {
    let v = vectors();
    let signer = flask_wtf::signer(&Key::new(s(&v["flask_wtf"]["secret_key"])).unwrap());
    for case in list(&v, "flask_wtf", "tokens") {
        let ts = case["timestamp"].as_u64().unwrap();
        assert_eq!(
            flask_wtf::sign(&signer, s(&case["raw"]), ts),
            s(&case["token"])
        );
    }
}

#[test]
fn flask_wtf_validation_agrees_with_flask_wtf() {
    let v = vectors();
    let signer = flask_wtf::signer(&Key::new(s(&v["flask_wtf"]["secret_key"])).unwrap());
    for case in list(&v, "flask_wtf", "validate") {
        let got = flask_wtf::validate(
            &signer,
            s(&case["data"]),
            case["raw"].as_str(),
            case["now"].as_u64().unwrap(),
            case["time_limit"].as_u64(),
        );
        let want = case["error"].as_str();
        assert_eq!(
            got.err().map(flask_wtf::Refusal::as_str),
            want,
            "{}",
            case["case"]
        );
    }
}
