//! Shared helpers for the Flask known-answer tests.
//!
//! The fixtures are written by `tests/flask/gen_vectors.py` from real Flask;
//! see that script for how each case was produced.
#![allow(dead_code)] // each test binary uses a different subset

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tower_cookie_session::codec::{Codec, DecodeErrorKind, Digest, Key, KeyDerivation};

pub(crate) fn load_fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The named list of a fixture, which must not be empty.
pub(crate) fn cases<'a>(fixture: &'a Value, list: &str) -> &'a [Value] {
    let cases = fixture[list]
        .as_array()
        .unwrap_or_else(|| panic!("fixture has no {list:?} list"));
    assert!(!cases.is_empty(), "fixture list {list:?} is empty");
    cases
}

pub(crate) fn str_field<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: {field:?} is not a string", case["name"]))
}

pub(crate) fn u64_field(case: &Value, field: &str) -> u64 {
    case[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: {field:?} is not a u64", case["name"]))
}

pub(crate) fn map_field(case: &Value, field: &str) -> Map<String, Value> {
    case[field]
        .as_object()
        .unwrap_or_else(|| panic!("{}: {field:?} is not an object", case["name"]))
        .clone()
}

pub(crate) fn hex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

pub(crate) fn key(secret_hex: &str) -> Key {
    Key::new(hex(secret_hex)).expect("fixture secrets are non-empty")
}

/// A codec configured like the case's signer (secret, fallbacks, salt,
/// key derivation, digest).
pub(crate) fn codec_for(case: &Value) -> Codec {
    let derivation = match str_field(case, "key_derivation") {
        "hmac" => KeyDerivation::Hmac,
        "concat" => KeyDerivation::Concat,
        "django-concat" => KeyDerivation::DjangoConcat,
        "none" => KeyDerivation::None,
        other => panic!("unknown key derivation {other:?}"),
    };
    let digest = match str_field(case, "digest") {
        "sha1" => Digest::Sha1,
        "sha256" => Digest::Sha256,
        other => panic!("unknown digest {other:?}"),
    };
    let fallbacks: Vec<Key> = case["fallbacks_hex"]
        .as_array()
        .map(|list| list.iter().map(|k| key(k.as_str().unwrap())).collect())
        .unwrap_or_default();
    Codec::new(key(str_field(case, "secret_hex")))
        .with_fallback_keys(fallbacks)
        .with_salt(str_field(case, "salt"))
        .with_key_derivation(derivation)
        .with_digest(digest)
}

pub(crate) fn kind_name(kind: DecodeErrorKind) -> &'static str {
    match kind {
        DecodeErrorKind::Malformed => "malformed",
        DecodeErrorKind::BadSignature => "bad_signature",
        DecodeErrorKind::Expired => "expired",
        DecodeErrorKind::BadPayload => "bad_payload",
        _ => "unknown",
    }
}

/// Whether `kind` satisfies a fixture's `expected_kind`.
pub(crate) fn kind_matches(expected: &str, kind: DecodeErrorKind) -> bool {
    let name = kind_name(kind);
    match expected {
        "any" => true,
        "malformed_or_bad_signature" => matches!(name, "malformed" | "bad_signature"),
        exact => exact == name,
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Collects failures so one run reports every bad case, not just the first.
#[derive(Default)]
pub(crate) struct Report {
    pub(crate) checked: usize,
    pub(crate) failures: Vec<String>,
}

impl Report {
    pub(crate) fn check(&mut self, ok: bool, failure: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.failures.push(failure());
        }
    }

    pub(crate) fn finish(self, what: &str, expected_checks: usize) {
        assert!(
            self.failures.is_empty(),
            "{} of {} {what} checks failed:\n{}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n")
        );
        assert!(
            self.checked >= expected_checks && expected_checks > 0,
            "{what}: only {} checks ran, expected at least {expected_checks}",
            self.checked
        );
    }
}
