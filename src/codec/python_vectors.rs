//! The Starlette and Django vectors (`tests/fixtures/{starlette,django}_codec.json`,
//! made by the real frameworks: `tests/frameworks/gen_vectors.py`), checked
//! against the indexed session, where values `serde_json` cannot hold
//! (integers beyond 64 bits) and key order survive.
//!
//! * `valid`: verifies at `now`, with the signed timestamp, and writes back
//!   as exactly the JSON the framework wrote (`session_json`);
//! * `rejected`: refused with the expected kind;
//! * `produce`: the framework's JSON, indexed and signed at `timestamp`, is
//!   byte for byte the cookie the framework sent.

use serde_json::Value;

use super::raw::RawMap;
use super::{Codec, DecodeErrorKind, Deflate, Format, Key};

fn fixture(format: Format) -> Value {
    let text = match format {
        Format::Starlette => include_str!("../../tests/fixtures/starlette_codec.json"),
        Format::Django => include_str!("../../tests/fixtures/django_codec.json"),
        Format::Flask | Format::Quart | Format::Encrypted => unreachable!("not these vectors"),
    };
    serde_json::from_str(text).expect("fixture is JSON")
}

fn codec(format: Format, case: &Value) -> Codec {
    let key = |v: &Value| Key::new(v.as_str().expect("secret")).expect("non-empty");
    let fallbacks: Vec<Key> = case["fallbacks"]
        .as_array()
        .map(|l| l.iter().map(key).collect())
        .unwrap_or_default();
    let main = key(&case["secret"]);
    match format {
        Format::Starlette => Codec::starlette(main),
        Format::Django => Codec::django(main),
        Format::Flask | Format::Quart | Format::Encrypted => unreachable!(),
    }
    .with_fallback_keys(fallbacks)
}

fn u64_of(case: &Value, field: &str) -> u64 {
    case[field].as_u64().unwrap_or_else(|| panic!("{field}"))
}

fn str_of<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field].as_str().unwrap_or_else(|| panic!("{field}"))
}

fn cases<'a>(fixture: &'a Value, list: &str) -> &'a [Value] {
    let cases = fixture[list].as_array().expect(list);
    assert!(cases.len() >= 10, "{list}: only {} cases", cases.len());
    cases
}

fn written(map: &RawMap, format: Format) -> String {
    let mut out = Vec::new();
    map.write(format, &mut out);
    String::from_utf8(out).expect("ASCII")
}

/// Payloads the generator signed by hand (whitespace, raw UTF-8, another
/// zlib level) are read, then written as the framework would write them,
/// not as they came.
fn rewritten_by_us(case: &Value) -> bool {
    case["note"]
        .as_str()
        .is_some_and(|note| note.starts_with("hand-signed"))
}

fn check_valid(format: Format) {
    let fixture = fixture(format);
    for case in cases(&fixture, "valid") {
        let name = str_of(case, "name");
        let codec = codec(format, case);
        let (now, max_age) = (u64_of(case, "now"), u64_of(case, "max_age"));
        let (map, ts) = codec
            .decode_raw(str_of(case, "cookie"), now, Some(max_age), 0)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ts, u64_of(case, "timestamp"), "{name}");
        let expected_keys: Vec<&str> = case["session"]
            .as_object()
            .expect("session")
            .keys()
            .map(String::as_str)
            .collect();
        // serde_json's Map sorts the fixture's keys; the order itself is
        // checked by the byte comparison below.
        let mut keys: Vec<&str> = map.keys().collect();
        keys.sort_unstable();
        assert_eq!(keys, expected_keys, "{name}");
        if rewritten_by_us(case) {
            let ours: Value = serde_json::from_str(&written(&map, format)).expect("JSON");
            assert_eq!(ours, case["session"], "{name}");
        } else {
            assert_eq!(
                written(&map, format),
                str_of(case, "session_json"),
                "{name}"
            );
        }
        // The public API agrees where serde_json can hold the values.
        if !super::json::has_out_of_range_integer(str_of(case, "session_json").as_bytes()) {
            let decoded = codec
                .decode(str_of(case, "cookie"), now, Some(max_age))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(Value::Object(decoded), case["session"], "{name}");
        }
    }
}

fn check_rejected(format: Format) {
    let fixture = fixture(format);
    for case in cases(&fixture, "rejected") {
        let name = str_of(case, "name");
        let codec = codec(format, case);
        let (now, max_age) = (u64_of(case, "now"), u64_of(case, "max_age"));
        let cookie = str_of(case, "cookie");
        let expected = str_of(case, "expected_kind");
        let result = codec.decode_raw(cookie, now, Some(max_age), 0);
        if expected == "any" && str_of(case, "framework_result").starts_with("accepted") {
            // The framework accepts it (Django reads raw UTF-8 as Latin-1):
            // either answer is defensible, but an answer must not panic.
            continue;
        }
        let kind = match result {
            Ok(_) => panic!("{name}: accepted, expected {expected}"),
            Err(e) => e.kind(),
        };
        let ok = match expected {
            "malformed" => kind == DecodeErrorKind::Malformed,
            "bad_signature" => kind == DecodeErrorKind::BadSignature,
            "expired" => kind == DecodeErrorKind::Expired,
            "bad_payload" => kind == DecodeErrorKind::BadPayload,
            "malformed_or_bad_signature" => {
                matches!(
                    kind,
                    DecodeErrorKind::Malformed | DecodeErrorKind::BadSignature
                )
            }
            "any" => true,
            other => panic!("{name}: unknown kind {other}"),
        };
        assert!(ok, "{name}: got {kind:?}, expected {expected}");
        assert!(codec.decode(cookie, now, Some(max_age)).is_err(), "{name}");
    }
}

fn check_produce(format: Format) {
    let fixture = fixture(format);
    for case in cases(&fixture, "produce") {
        let name = str_of(case, "name");
        let codec = codec(format, case);
        let json = str_of(case, "session_json");
        let map = RawMap::parse(json.as_bytes().to_vec(), format)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (cookie, _) = codec.encode_raw(&map, u64_of(case, "timestamp"), |_| Deflate::Flask);
        assert_eq!(cookie, str_of(case, "cookie"), "{name}");
    }
}

#[test]
fn starlette_valid_vectors_read_and_write_back_exactly() {
    check_valid(Format::Starlette);
}

#[test]
fn starlette_rejected_vectors_are_refused() {
    check_rejected(Format::Starlette);
}

#[test]
fn starlette_cookies_are_produced_byte_for_byte() {
    check_produce(Format::Starlette);
}

#[test]
fn django_valid_vectors_read_and_write_back_exactly() {
    check_valid(Format::Django);
}

#[test]
fn django_rejected_vectors_are_refused() {
    check_rejected(Format::Django);
}

// Django's compressed cookies are C zlib's bytes.
#[cfg(feature = "c-zlib")]
#[test]
fn django_cookies_are_produced_byte_for_byte() {
    check_produce(Format::Django);
}
