//! Every Flask vector, read, given one more key and written under Flask's
//! compression rule, is byte for byte the cookie Flask itself writes for
//! that session at that second (`rewritten` in the fixture, made by real
//! Flask: `tests/flask/gen_vectors.py`). That holds for the values a
//! `serde_json::Value` cannot hold too: they are never parsed.

use serde_json::Value;

use super::{Codec, Deflate, Digest, Key, KeyDerivation};

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn codec_for(case: &Value) -> Codec {
    let field = |name: &str| case[name].as_str().expect(name);
    let key = |h: &str| Key::new(hex(h)).expect("non-empty");
    let derivation = match field("key_derivation") {
        "hmac" => KeyDerivation::Hmac,
        "concat" => KeyDerivation::Concat,
        "django-concat" => KeyDerivation::DjangoConcat,
        "none" => KeyDerivation::None,
        other => panic!("{other}"),
    };
    let digest = match field("digest") {
        "sha1" => Digest::Sha1,
        "sha256" => Digest::Sha256,
        other => panic!("{other}"),
    };
    let fallbacks: Vec<Key> = case["fallbacks_hex"]
        .as_array()
        .map(|l| l.iter().map(|k| key(k.as_str().unwrap())).collect())
        .unwrap_or_default();
    Codec::new(key(field("secret_hex")))
        .with_fallback_keys(fallbacks)
        .with_salt(field("salt"))
        .with_key_derivation(derivation)
        .with_digest(digest)
}

#[test]
fn every_flask_vector_round_trips_byte_exact_through_a_write_of_another_key() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/flask_codec.json"
    );
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    let mut failed = Vec::new();
    for list in ["valid", "unsupported"] {
        for case in fixture[list].as_array().unwrap() {
            let Some(expected) = case["rewritten"].as_str() else {
                continue;
            };
            let name = case["name"].as_str().unwrap();
            let codec = codec_for(case);
            let now = case["now"].as_u64().unwrap();
            let cookie = case["cookie"].as_str().unwrap();
            let (mut map, _) = codec
                .decode_raw(cookie, now, None, 0)
                .unwrap_or_else(|e| panic!("{list}/{name}: {e}"));
            map.insert_json("rust_added", "1".to_owned());
            let (written, _) = codec.encode_raw(&map, now, |_| Deflate::Flask);
            if written != expected {
                failed.push(format!("{list}/{name}"));
            }
            checked += 1;
        }
    }
    assert!(failed.is_empty(), "not Flask's bytes: {failed:?}");
    assert!(checked >= 70, "only {checked} vectors carry a rewrite");
}
