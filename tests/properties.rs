//! Property tests: what is encoded decodes to itself, any edit of a cookie
//! is rejected, and chunking splits and joins without loss for any size and
//! budget.

mod common;

use std::sync::{Arc, Mutex};

use common::{call, incompressible, key, Jar};
use http::StatusCode;
use proptest::prelude::*;
use serde_json::{Map, Value};
use tower_cookie_session::codec::{Codec, Digest};
use tower_cookie_session::{Key, SessionLayer};

const TS: u64 = 1_700_000_000;

fn codec() -> Codec {
    Codec::new(key())
}

/// Any character, with extra weight on the ones JSON and Flask escape:
/// controls, DEL, astral-plane (surrogate pairs in Flask's JSON).
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => prop::char::range('\u{0}', '\u{7f}'),
        1 => prop::char::range('\u{0}', '\u{1f}'),
        1 => prop::char::range('\u{10000}', '\u{10ffff}'),
        1 => prop::sample::select(vec!['"', '\\', '\u{7f}', '\u{2028}', '\u{ffff}', '\u{fffd}']),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// Keys, including every Flask tag name and Flask's own keys.
fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(vec![
            " t", " di", " b", " m", " u", " d", " t__", " di__", "_permanent", "_flashes", "",
        ])
        .prop_map(str::to_owned),
        3 => text(12),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0, 1]).prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        any::<f64>()
            .prop_filter("JSON floats are finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![
            0.0,
            -0.0,
            0.1,
            1e16,
            1e-5,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            1.234_567_890_123_456_7e-7,
        ])
        .prop_map(Value::from),
        text(24).prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(10, 200, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key_text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn session_map() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key_text(), value(), 0..8).prop_map(|m| m.into_iter().collect())
}

/// One edit of a cookie value.
#[derive(Debug, Clone)]
enum Edit {
    Replace(prop::sample::Index, char),
    Insert(prop::sample::Index, char),
    Delete(prop::sample::Index),
}

/// The characters a cookie is made of (the most dangerous edits), or any.
fn edit_char() -> impl Strategy<Value = char> {
    let alphabet: Vec<char> =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
            .chars()
            .collect();
    prop_oneof![3 => prop::sample::select(alphabet), 1 => any_char()]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<prop::sample::Index>(), edit_char()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<prop::sample::Index>(), edit_char()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<prop::sample::Index>().prop_map(Edit::Delete),
    ]
}

/// Applies `edit` to the ASCII `cookie`; the result always differs.
fn apply(edit: &Edit, cookie: &str) -> String {
    let mut chars: Vec<char> = cookie.chars().collect();
    match edit {
        Edit::Replace(i, c) => {
            let i = i.index(chars.len());
            chars[i] = if chars[i] == *c {
                if *c == 'A' {
                    'B'
                } else {
                    'A'
                }
            } else {
                *c
            };
        }
        Edit::Insert(i, c) => chars.insert(i.index(chars.len() + 1), *c),
        Edit::Delete(i) => {
            chars.remove(i.index(chars.len()));
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `decode(encode(m)) == m` for any JSON map: deep values, every
    /// character (astral, controls), tag-like keys, finite floats, the
    /// whole i64 and u64 ranges.
    #[test]
    fn decode_of_encode_is_the_identity(map in session_map(), ts in 1u64..(1 << 40)) {
        let c = codec();
        let cookie = c.encode(&map, ts);
        prop_assert!(cookie.is_ascii());
        prop_assert_eq!(c.decode(&cookie, ts, Some(0)), Ok(map.clone()));
        let sha256 = codec().with_digest(Digest::Sha256);
        prop_assert_eq!(sha256.decode(&sha256.encode(&map, ts), ts, None), Ok(map));
    }

    /// Replacing, inserting or deleting one character anywhere (payload,
    /// the compression dot, timestamp, separators, signature) is rejected:
    /// an edit never yields another valid cookie.
    #[test]
    fn any_single_edit_is_rejected(map in session_map(), edit in edit()) {
        let c = codec();
        let cookie = c.encode(&map, TS);
        let tampered = apply(&edit, &cookie);
        prop_assert_ne!(&tampered, &cookie);
        prop_assert!(
            c.decode(&tampered, TS, None).is_err(),
            "{:?} accepted: {}", edit, tampered
        );
    }
}

/// The same, exhaustively, on a plain and a compressed cookie: every
/// position, every character of the token alphabet.
#[test]
fn every_single_edit_of_two_cookies_is_rejected() {
    let c = codec();
    let plain = c.encode(
        serde_json::json!({"user_id": 42, "csrf": "abc"})
            .as_object()
            .unwrap(),
        TS,
    );
    let compressed = c.encode(
        serde_json::json!({"cart": vec!["apple"; 50]})
            .as_object()
            .unwrap(),
        TS,
    );
    assert!(compressed.starts_with('.'));
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=";
    let mut tried = 0;
    for cookie in [&plain, &compressed] {
        let chars: Vec<char> = cookie.chars().collect();
        let mut variants = Vec::new();
        for i in 0..=chars.len() {
            if i < chars.len() {
                let mut deleted = chars.clone();
                deleted.remove(i);
                variants.push(deleted);
            }
            for a in alphabet.chars() {
                let mut inserted = chars.clone();
                inserted.insert(i, a);
                variants.push(inserted);
                if i < chars.len() && chars[i] != a {
                    let mut replaced = chars.clone();
                    replaced[i] = a;
                    variants.push(replaced);
                }
            }
        }
        for v in variants {
            let v: String = v.into_iter().collect();
            assert_ne!(&v, cookie);
            assert!(c.decode(&v, TS, None).is_err(), "accepted: {v}");
            tried += 1;
        }
    }
    assert!(tried > 10_000, "{tried}");
}

/// Values nested 100 deep (arrays and objects) survive a round trip.
#[test]
fn deeply_nested_values_round_trip() {
    let c = codec();
    for depth in [1, 10, 50, 100] {
        let mut v = Value::from("leaf");
        for i in 0..depth {
            v = if i % 2 == 0 {
                Value::Array(vec![v])
            } else {
                let mut m = Map::new();
                m.insert(" t".into(), v);
                Value::Object(m)
            };
        }
        let mut map = Map::new();
        map.insert("deep".into(), v);
        let cookie = c.encode(&map, TS);
        assert_eq!(c.decode(&cookie, TS, None), Ok(map), "depth {depth}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Request bytes of a jar's cookies as the layer counts them (`name=value; `).
fn request_bytes(jar: &Jar) -> usize {
    jar.cookies
        .iter()
        .map(|(k, v)| k.len() + 1 + v.len() + 2)
        .sum()
}

/// Stores `len` incompressible bytes through `layer`; returns the reply and
/// the jar after it.
fn store(layer: &SessionLayer, len: usize, seed: u64, permanent: bool) -> (common::Reply, Jar) {
    let reply = runtime().block_on(call(layer, &[], move |s| {
        s.insert("blob", incompressible(len, seed)).unwrap();
        if permanent {
            s.set_permanent(true);
        }
        StatusCode::OK
    }));
    let mut jar = Jar::default();
    jar.apply(&reply);
    (reply, jar)
}

/// Reads `key` from the session `jar` carries, through a twin of `layer`
/// without the decode cache: the layer caches the tokens it writes, and the
/// point is to verify, inflate and parse the cookies as another process
/// would.
fn read(layer: &SessionLayer, jar: &Jar, key: &'static str) -> Option<Value> {
    let layer = &layer.clone().with_decode_cache_bytes(0);
    let seen = Arc::new(Mutex::new(None));
    let out = seen.clone();
    let reply = runtime().block_on(call(layer, &jar.header(), move |s| {
        *out.lock().unwrap() = s.get_value(key);
        StatusCode::OK
    }));
    assert_eq!(reply.status, StatusCode::OK);
    let v = seen.lock().unwrap().take();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Through the public layer: a value of any length, under any
    /// per-cookie limit and budget, is either stored in cookies that each
    /// fit the limit and together fit the budget, and read back unchanged
    /// from a browser-like jar; or refused with the over-budget 500 that
    /// writes nothing, and only when it really does not fit.
    #[test]
    fn chunk_split_then_join_is_the_identity(
        len in 0usize..20_000,
        seed in any::<u64>(),
        max_cookie in 60usize..=4093,
        max_total in 64usize..40_000,
        name in prop::sample::select(vec!["session", "__Host-s", "s"]),
        permanent in any::<bool>(),
    ) {
        let layer = SessionLayer::new(key())
            .with_cookie_name(name)
            .unwrap()
            .with_max_cookie_bytes(max_cookie)
            .with_max_total_bytes(max_total);
        let (reply, jar) = store(&layer, len, seed, permanent);
        if reply.status == StatusCode::INTERNAL_SERVER_ERROR {
            prop_assert!(reply.set_cookies().is_empty(), "over budget writes nothing");
            // Justified: without the budget it needs more than allowed.
            let roomy = layer.clone().with_max_total_bytes(1 << 24);
            let (roomy_reply, roomy_jar) = store(&roomy, len, seed, permanent);
            if roomy_reply.status == StatusCode::OK {
                let chunks = roomy_jar.cookies.len().saturating_sub(1);
                prop_assert!(
                    request_bytes(&roomy_jar) > max_total || chunks > 99,
                    "refused {} bytes under a budget of {}", request_bytes(&roomy_jar), max_total
                );
            }
            return Ok(());
        }
        prop_assert_eq!(reply.status, StatusCode::OK);
        for line in reply.set_cookie_lines() {
            prop_assert!(line.len() <= max_cookie, "{} > {}: {:.80}", line.len(), max_cookie, line);
        }
        prop_assert!(request_bytes(&jar) <= max_total);
        prop_assert!(jar.cookies.len() <= 100);
        let marker = jar.cookies[name].clone();
        if let Some(n) = marker.strip_prefix("chunks-") {
            let n: usize = n.parse().unwrap();
            prop_assert!((2..=99).contains(&n));
            prop_assert_eq!(jar.cookies.len(), n + 1);
        } else {
            prop_assert_eq!(jar.cookies.len(), 1);
        }
        prop_assert_eq!(
            read(&layer, &jar, "blob"),
            Some(Value::String(incompressible(len, seed)))
        );
    }

    /// Through the public layer: any value inserted under any key is read
    /// back by the next request unchanged.
    #[test]
    fn inserted_values_read_back_through_the_layer(k in key_text(), v in value()) {
        let layer = SessionLayer::new(key()).with_max_total_bytes(1 << 20);
        let (kk, vv) = (k.clone(), v.clone());
        let reply = runtime().block_on(call(&layer, &[], move |s| {
            s.insert(&kk, &vv).unwrap();
            StatusCode::OK
        }));
        prop_assert_eq!(reply.status, StatusCode::OK);
        let mut jar = Jar::default();
        jar.apply(&reply);
        let seen = Arc::new(Mutex::new(None));
        let out = seen.clone();
        let uncached = layer.with_decode_cache_bytes(0);
        runtime().block_on(call(&uncached, &jar.header(), move |s| {
            *out.lock().unwrap() = Some((s.keys(), s.get_value(&k)));
            StatusCode::OK
        }));
        let (keys, got) = seen.lock().unwrap().take().unwrap();
        prop_assert_eq!(keys.len(), 1);
        prop_assert_eq!(got, Some(v));
    }
}

/// A key shorter than 32 bytes still round-trips (Flask accepts any key).
#[test]
fn short_keys_round_trip() {
    let c = Codec::new(Key::new("k").unwrap());
    let map = serde_json::json!({"a": 1}).as_object().unwrap().clone();
    assert_eq!(c.decode(&c.encode(&map, TS), TS, None), Ok(map));
}

/// A session the layer writes must read back. serde_json refuses JSON
/// nested deeper than 128 levels, so a value 127 arrays deep (128 with the
/// session object) is written but the next request reads an empty session:
/// the whole session is lost. (Flask reads it: Python's limit is ~1000.)
#[test]
fn values_nested_past_the_json_recursion_limit_are_not_lost() {
    // serde_json parses at most 128 levels: a deeper value is refused when
    // inserted (the session stays as it was), never written and then lost.
    let layer = SessionLayer::new(key());
    let nest = |levels: usize| {
        let mut v = Value::from(1);
        for _ in 0..levels {
            v = Value::Array(vec![v]);
        }
        v
    };
    let (too_deep, deep) = (nest(127), nest(120));
    let stored = deep.clone();
    let reply = runtime().block_on(call(&layer, &[], move |s| {
        assert!(s.insert("too_deep", &too_deep).is_err());
        s.insert("deep", &stored).unwrap();
        s.insert("user_id", 42).unwrap();
        StatusCode::OK
    }));
    let mut jar = Jar::default();
    jar.apply(&reply);
    assert_eq!(read(&layer, &jar, "user_id"), Some(Value::from(42)));
    assert_eq!(read(&layer, &jar, "deep"), Some(deep));
    assert_eq!(read(&layer, &jar, "too_deep"), None);
}
