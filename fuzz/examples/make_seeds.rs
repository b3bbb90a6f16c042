//! Writes the seed corpus under `fuzz/seeds/<target>/`: real cookies signed
//! with the fuzz key at `SEED_TS`, chunk markers and chunk sets, Flask's
//! tagged values, and a few hostile payloads.
//!
//! ```text
//! cd fuzz && cargo run --example make_seeds
//! ```

use std::fs;
use std::path::Path;

use fuzz_support::{codec, incompressible, sign_as_compressed, sign_compressed, sign_raw, SEED_TS};
use serde_json::{json, Value};

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("mkdir");
    fs::write(dir.join(name), bytes).expect("write seed");
}

fn token(v: Value) -> String {
    codec().encode(v.as_object().expect("an object"), SEED_TS)
}

/// `session=chunks-N; session.1=…` for `token` split into `n` parts.
fn chunked(name: &str, token: &str, n: usize) -> String {
    let size = token.len().div_ceil(n);
    let mut parts = vec![format!("{name}=chunks-{n}")];
    for (i, part) in token.as_bytes().chunks(size).enumerate() {
        parts.push(format!(
            "{name}.{}={}",
            i + 1,
            std::str::from_utf8(part).expect("ASCII")
        ));
    }
    parts.join("; ")
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let small = token(json!({"user_id": 42, "n": 7}));
    let flask = token(json!({
        "_flashes": [{" t": ["message", "Hello"]}],
        "_permanent": true,
        "csrf_token": "0123456789abcdef",
        "b": {" b": "AAH+/w=="},
    }));
    let big = token(json!({"blob": incompressible(9000, 1), "n": 1}));
    let compressed = token(json!({"cart": vec!["apple"; 400]}));

    // `formats`: the first byte is format (% 4) and mode (/ 4 % 4).
    let formats = root.join("formats");
    let spaced = br#"{"b": [1, 2.5, {"z": null, "a": "\u00e9"}], "a": 18446744073709551616}"#;
    let compact = br#"{"b":[1,2.5,{"z":null,"a":"\u00e9"}],"a":18446744073709551616}"#;
    for (name, mode, payload) in [
        ("quart-signed", 1 + 4, &compact[..]),
        ("starlette-rewrite", 2, &spaced[..]),
        ("starlette-signed", 2 + 4, &spaced[..]),
        ("django-rewrite", 3, &compact[..]),
        ("django-signed", 3 + 4, &compact[..]),
        ("django-zlib", 3 + 8, &compact[..]),
        ("django-claimed-zlib", 3 + 12, b"x\x9c\x01\x00\x00\xff\xff"),
    ] {
        write(&formats, name, &[&[mode][..], payload].concat());
    }

    let decode = root.join("decode");
    write(&decode, "plain", &[&[0u8][..], small.as_bytes()].concat());
    write(&decode, "flask", &[&[0u8][..], flask.as_bytes()].concat());
    write(
        &decode,
        "compressed",
        &[&[0u8][..], compressed.as_bytes()].concat(),
    );
    write(
        &decode,
        "json-object",
        b"\x01{\"a\":[1,2.5,\"\\u00e9\",null]}",
    );
    write(&decode, "json-array", b"\x01[[[[[[]]]]]]");
    write(&decode, "zlib-object", b"\x02{\"k\":{\" t\":[1,2]}}");
    write(
        &decode,
        "zlib-deep",
        &[&b"\x02"[..], &b"[".repeat(200)].concat(),
    );
    let zlib_stream = sign_compressed(b"{\"x\":1}", SEED_TS);
    write(
        &decode,
        "zlib-stream",
        &[&[0u8][..], zlib_stream.as_bytes()].concat(),
    );
    write(
        &decode,
        "zlib-raw",
        b"\x03\x78\x9c\xab\x56\x4a\xac\x54\xb2\x32\xac\x05\x00\x0b\x9c\x02\x82",
    );

    let tagged = root.join("tagged_json");
    let tagged_seeds = [
        json!({"user_id": 42}),
        json!({"_flashes": [{" t": ["message", "Hi"]}], "_permanent": true}),
        json!({"t": {" t": [1, "a", null]}, "b": {" b": "AAH+/w=="}, "m": {" m": "<b>x</b>"}}),
        json!({"u": {" u": "12345678123456781234567812345678"}, "d": {" d": "Thu, 29 Feb 2024 18:59:59 GMT"}}),
        json!({"e": {" di": {" t__": {" t": [1, 2]}}}, "two": {" b": 2, " t": 1}}),
        json!({" di": {" u__": "x"}}),
        json!({" t": ["a", "b"]}),
        json!({"f": [1.5, -0.0, 1e300, 5e-324, 18_446_744_073_709_551_615u64, -9_223_372_036_854_775_808i64]}),
        json!({"s": "\u{0}\u{1f}\u{7f}\u{e9}\u{20ac}\u{1f600}\"\\"}),
    ];
    for (i, v) in tagged_seeds.iter().enumerate() {
        write(&tagged, &format!("seed-{i}"), v.to_string().as_bytes());
    }
    write(&tagged, "big-int", b"{\"n\":18446744073709551616}");

    let request = root.join("request");
    let seeds: Vec<(&str, u8, u8, String)> = vec![
        ("empty", 3, 0, String::new()),
        ("plain", 3, 0, format!("session={small}")),
        ("flask-read", 2, 0, format!("session={flask}; other=1")),
        ("chunked-read", 2, 8, chunked("session", &big, 3)),
        ("chunked-write", 3, 8, chunked("session", &big, 3)),
        ("chunked-small-cookies", 3, 9, chunked("session", &small, 2)),
        ("chunked-split-headers", 2, 8, chunked("session", &big, 3).replace("; ", "\n")),
        ("chunked-logout", 5, 8, chunked("session", &big, 4)),
        ("host-prefix", 3, 16, format!("__Host-s={small}")),
        ("over-budget", 4 + 8 * 31, 0, format!("session={small}")),
        ("blob-chunks", 4 + 8 * 20, 8, String::new()),
        ("tiny-cookies", 4 + 8 * 3, 11, String::new()),
        ("markers", 2, 0, "session=chunks-0\nsession=chunks-99; session.99=x\nsession=chunks-18446744073709551616".into()),
        ("stale-chunks", 6, 0, format!("session={small}; session.1=a; session.2=b; session.7=c")),
        ("duplicates", 2, 0, format!("session=junk; session={small}; session.1=x; session.1=y")),
        ("non-utf8", 1, 0, "session=\u{ff}\u{fe}abc; x=\"q\"".into()),
        ("permanent-untouched", 0, 0, format!("session={flask}")),
        ("bad-payload", 2, 0, format!("session={}", sign_raw(b"[1,2]", SEED_TS))),
        ("bad-zlib", 2, 0, format!("session={}", sign_as_compressed(b"\x78\x9cjunk", SEED_TS))),
    ];
    for (name, op, config, headers) in seeds {
        let mut bytes = vec![op, config];
        bytes.extend_from_slice(headers.as_bytes());
        write(&request, name, &bytes);
    }
    // Raw non-UTF-8 bytes in a header value (obs-text).
    write(
        &request,
        "latin1",
        b"\x02\x00session=\xff\xfe\x80; session.1=\xe9",
    );
    println!("seeds written under {}", root.display());
}
