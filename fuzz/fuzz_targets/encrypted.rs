//! The encrypted format's reader on arbitrary input: nothing panics,
//! nothing forged opens, and what was sealed opens to itself.
//!
//! The first byte picks what the rest is:
//! 0. a token as it is (bytes made UTF-8 lossily): it must be refused
//!    unless it happens to be a real token (it never is);
//! 1. a JSON payload sealed under the fuzz key, then opened: it opens iff
//!    the layer indexes that payload, to the layer's rewrite of it;
//! 2. the same token with one byte (position and value from the input)
//!    changed: it must be refused;
//! 3. arbitrary bytes sealed as if they were a zlib stream (inflate on
//!    arbitrary, authenticated streams): never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_cookie_session::fuzzing::{rewrite, seal, unseal};

const TS: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            let token = String::from_utf8_lossy(rest);
            assert!(unseal(&token, TS).is_none(), "a forged token opened");
        }
        1 => {
            let token = seal(rest, false, TS);
            // Format 3 indexes as Django does; the encrypted format reads
            // UTF-8, so compare only what both read alike.
            let opened = unseal(&token, TS);
            if rest.is_ascii() {
                assert_eq!(opened, rewrite(rest, 3), "sealed then opened");
            }
            assert!(unseal(&token, TS + 1).is_some() == opened.is_some());
        }
        2 => {
            let Some((&pos, rest)) = rest.split_first() else {
                return;
            };
            let Some((&delta, rest)) = rest.split_first() else {
                return;
            };
            let token = seal(rest, false, TS);
            let mut bytes = token.into_bytes();
            let at = usize::from(pos) % bytes.len();
            const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let i = B64.iter().position(|c| *c == bytes[at]).unwrap_or(0);
            bytes[at] = B64[(i + 1 + usize::from(delta) % 63) % 64];
            let forged = String::from_utf8(bytes).expect("base64url");
            assert!(
                unseal(&forged, TS).is_none(),
                "a changed byte at {at} opened"
            );
        }
        _ => {
            let _ = unseal(&seal(rest, true, TS), TS);
        }
    }
});
