//! `Codec::decode` on arbitrary input never panics.
//!
//! The first byte picks what the rest is:
//! 0. a cookie value as it is (bytes made UTF-8 lossily), decoded by codecs
//!    with every digest and key derivation;
//! 1. a payload signed with the right key (so JSON parsing is reached);
//! 2. a payload zlib-compressed, then signed (the compressed path);
//! 3. bytes *claimed* to be zlib, signed (inflate on arbitrary streams).
//!
//! Whatever decodes must re-encode to a cookie that decodes to the same map.
#![no_main]

use std::sync::OnceLock;

use fuzz_support::{codec, sign_as_compressed, sign_compressed, sign_raw, SEED_TS};
use libfuzzer_sys::fuzz_target;
use tower_cookie_session::codec::{Codec, Digest, KeyDerivation};
use tower_cookie_session::{Key, Session};

fn other_codecs() -> &'static [Codec] {
    static CODECS: OnceLock<Vec<Codec>> = OnceLock::new();
    CODECS.get_or_init(|| {
        let key = || Key::new(fuzz_support::SECRET).expect("non-empty");
        vec![
            Codec::new(key()).with_digest(Digest::Sha256),
            Codec::new(key()).with_key_derivation(KeyDerivation::Concat),
            Codec::new(key()).with_key_derivation(KeyDerivation::DjangoConcat),
            Codec::new(key()).with_key_derivation(KeyDerivation::None),
            Codec::new(key()).with_salt(""),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = match mode % 4 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            for c in other_codecs() {
                let _ = c.decode(&text, SEED_TS, Some(0));
            }
            text.into_owned()
        }
        1 => sign_raw(rest, SEED_TS),
        2 => sign_compressed(rest, SEED_TS),
        _ => sign_as_compressed(rest, SEED_TS),
    };
    let codec = codec();
    for (now, max_age) in [
        (SEED_TS, None),
        (SEED_TS, Some(0)),
        (SEED_TS + 1, Some(0)),
        (0, None),
        (u64::MAX, Some(u64::MAX)),
        (u64::MAX, Some(1)),
    ] {
        let Ok(map) = codec.decode(&token, now, max_age) else {
            continue;
        };
        let again = codec.encode(&map, SEED_TS);
        assert_eq!(
            codec.decode(&again, SEED_TS, None).as_ref(),
            Ok(&map),
            "a decoded session must survive re-encoding"
        );
        let session = Session::from_tagged(map);
        for k in session.keys() {
            let _ = session.get_value(&k);
        }
        let _ = session.to_tagged();
    }
});
