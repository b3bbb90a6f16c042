//! Arbitrary `Cookie` headers through a `SessionLayer` service.
//!
//! Input: one byte for the handler's operation, one for the layer's
//! configuration (per-cookie limit, budget, name, oversize policy, refresh,
//! chunk cap), then `Cookie` header values separated by `\n`.
//!
//! Never panics; the status is 200, or the documented over-budget 500 (with
//! its `SessionTooLarge`, and nothing written); every cookie written fits
//! the per-cookie limit; and a session that was written reads back
//! unchanged from a browser-like jar holding only what was set, through a
//! twin layer without the decode cache (so it is verified and parsed).
#![no_main]

use fuzz_support::{kept_pair, run, setup, Op};
use http::{HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [op, config, rest @ ..] = data else {
        return;
    };
    let setup = setup(*config);
    let headers: Vec<HeaderValue> = rest
        .split(|b| *b == b'\n')
        .filter_map(|h| HeaderValue::from_bytes(h).ok())
        .collect();
    let first = run(&setup.layer, &headers, Op::from_byte(*op));
    match first.status {
        StatusCode::OK => assert!(!first.too_large),
        StatusCode::INTERNAL_SERVER_ERROR => {
            assert!(first.too_large, "a 500 that is not the over-budget one");
            assert!(first.set_cookies.is_empty(), "over budget writes nothing");
            return;
        }
        other => panic!("unexpected status {other}"),
    }
    let mut jar = Vec::new();
    for line in &first.set_cookies {
        if let Some((name, value)) = kept_pair(line) {
            assert!(
                line.len() <= setup.max_cookie_bytes,
                "{} bytes > {}: {line}",
                line.len(),
                setup.max_cookie_bytes
            );
            jar.push(format!("{name}={value}"));
        }
    }
    if !first
        .set_cookies
        .iter()
        .filter_map(|l| kept_pair(l))
        .any(|(name, _)| name == setup.name)
    {
        return;
    }
    let header = HeaderValue::from_str(&jar.join("; ")).expect("cookies we wrote");
    let second = run(&setup.reader, &[header], Op::ReadAll);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(
        second.session, first.session,
        "the written session reads back"
    );
});
