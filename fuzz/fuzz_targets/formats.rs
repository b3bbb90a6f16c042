//! The Quart, Starlette and Django formats on arbitrary input: nothing
//! panics, what the layer indexes it writes back stably, and what a codec
//! decodes survives re-encoding.
//!
//! The first byte picks the format (`% 4`: Flask, Quart, Starlette, Django)
//! and what the rest is (`/ 4 % 4`):
//! 0. a cookie value as it is (bytes made UTF-8 lossily);
//! 1. a payload signed with the right key in that format (Flask and Quart:
//!    base64url; Starlette: padded standard base64; Django: base64url, `:`);
//! 2. Django: a payload zlib-compressed, then signed;
//! 3. Django: bytes *claimed* to be zlib, signed.
//!
//! Independently of the signature, the rest is indexed as that format's
//! payload and written back: the rewrite must be indexed again to itself,
//! and (for the formats without tags, when serde_json reads both) hold the
//! same object.
#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fuzz_support::{key, sign_django, sign_raw, sign_starlette, zlib, SEED_TS};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::fuzzing::rewrite;

fn codecs() -> &'static [Codec; 4] {
    static CODECS: OnceLock<[Codec; 4]> = OnceLock::new();
    CODECS.get_or_init(|| {
        [
            Codec::new(key()),
            Codec::quart(key()),
            Codec::starlette(key()),
            Codec::django(key()),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let format = mode % 4;
    if let Some(written) = rewrite(rest, format) {
        let again = rewrite(&written, format).expect("the rewrite is a session");
        assert_eq!(again, written, "a rewrite is stable");
        // Django reads its payload as Latin-1: compare ASCII input only.
        if format >= 2 && rest.is_ascii() {
            if let (Ok(theirs), Ok(back)) = (
                serde_json::from_slice::<Map<String, Value>>(rest),
                serde_json::from_slice::<Map<String, Value>>(&written),
            ) {
                assert_eq!(back, theirs, "the rewrite holds the same object");
            }
        }
    }
    let token = match (format, (mode / 4) % 4) {
        (_, 0) => String::from_utf8_lossy(rest).into_owned(),
        (0 | 1, _) => sign_raw(rest, SEED_TS),
        (2, _) => sign_starlette(rest, SEED_TS),
        (_, 1) => sign_django(&URL_SAFE_NO_PAD.encode(rest), SEED_TS),
        (_, 2) => sign_django(&format!(".{}", URL_SAFE_NO_PAD.encode(zlib(rest))), SEED_TS),
        _ => sign_django(&format!(".{}", URL_SAFE_NO_PAD.encode(rest)), SEED_TS),
    };
    for (i, codec) in codecs().iter().enumerate() {
        for (now, max_age) in [(SEED_TS, None), (SEED_TS - 1, Some(0)), (u64::MAX, Some(1))] {
            let Ok(map) = codec.decode(&token, now, max_age) else {
                continue;
            };
            let again = codec.encode(&map, SEED_TS);
            assert_eq!(
                codec.decode(&again, SEED_TS, None).as_ref(),
                Ok(&map),
                "codec {i}: a decoded session must survive re-encoding"
            );
        }
    }
});
