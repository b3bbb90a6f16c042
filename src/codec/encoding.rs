//! URL-safe base64 without padding, and itsdangerous' timestamp bytes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Appends the unpadded URL-safe base64 of `bytes` to `out`.
pub(crate) fn b64_append(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out);
}

/// Strict decode: no padding, no `+`/`/`, no stray bits (itsdangerous is
/// lenient, but everything Flask writes is canonical).
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

pub(crate) fn b64_decode_into(text: &str, out: &mut [u8]) -> Option<usize> {
    URL_SAFE_NO_PAD.decode_slice(text, out).ok()
}

/// Whether the bytes that the base64 `text` encodes may contain `needle`
/// (at most 30 bytes), judged on the text as it is: no decoding, no
/// allocation. However `needle` is aligned on base64's 3-byte groups, the
/// whole groups inside it encode to a fixed run of characters at a 4-aligned
/// position; finding none of the three runs proves `needle` absent. A match
/// may be a false positive, never a false negative.
pub(crate) fn b64_may_contain(text: &[u8], needle: &[u8]) -> bool {
    debug_assert!((5..=30).contains(&needle.len()));
    // `skip` bytes of `needle` complete the group it starts in.
    (0..3).any(|skip| {
        let groups = (needle.len() - skip) / 3;
        let mut run = [0u8; 40];
        let Ok(n) = URL_SAFE_NO_PAD.encode_slice(&needle[skip..skip + 3 * groups], &mut run) else {
            return true;
        };
        let run = &run[..n];
        (0..text.len())
            .step_by(4)
            .any(|i| text[i..].starts_with(run))
    })
}

/// `ts.to_bytes(8, "big").lstrip(b"\0")`.
pub(crate) fn timestamp_append(ts: u64, out: &mut String) {
    let bytes = ts.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    b64_append(&bytes[first..], out);
}

/// `int.from_bytes(b64decode(text).rjust(8, b"\0"), "big")`; `None` if not
/// base64 or longer than 8 bytes.
pub(crate) fn timestamp_decode(text: &str) -> Option<u64> {
    let mut buf = [0u8; 9];
    let n = b64_decode_into(text, &mut buf)?;
    if n > 8 {
        return None;
    }
    Some(
        buf[..n]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_minimal_big_endian() {
        for (ts, text) in [
            (1_700_000_000, "ZVPxAA"),
            (0, ""),
            (255, "_w"),
            (1 << 32, "AQAAAAA"),
        ] {
            let mut out = String::new();
            timestamp_append(ts, &mut out);
            assert_eq!(out, text);
            assert_eq!(timestamp_decode(text), Some(ts));
        }
        assert_eq!(timestamp_decode("AQAAAAAAAAAA"), None, "9 bytes");
        assert_eq!(timestamp_decode("ZVPxAA=="), None, "padding");
    }

    #[test]
    fn may_contain_finds_a_needle_at_every_alignment_and_nothing_else() {
        let needle = b"\"_permanent\"";
        for pad in 0..9 {
            for tail in 0..4 {
                let mut raw = vec![b'x'; pad];
                raw.extend_from_slice(b"{");
                raw.extend_from_slice(needle);
                raw.extend_from_slice(&b":true}"[..tail.min(6)]);
                let mut text = String::new();
                b64_append(&raw, &mut text);
                assert!(b64_may_contain(text.as_bytes(), needle), "{pad} {tail}");
            }
        }
        for raw in [
            &b"{\"permanent\":true}"[..],
            b"{\"_perm\":1,\"anent\":2}",
            b"",
        ] {
            let mut text = String::new();
            b64_append(raw, &mut text);
            assert!(!b64_may_contain(text.as_bytes(), needle), "{raw:?}");
        }
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(
            b64_decode("e6maAnB5EaHOGVBYCzI827N87LM").map(|v| v.len()),
            Some(20)
        );
        assert!(
            b64_decode("e6maAnB5EaHOGVBYCzI827N87LN").is_none(),
            "trailing bits"
        );
        assert!(b64_decode("e6maAnB5EaHOGVBYCzI827N87LM=").is_none());
        assert!(b64_decode("e6ma+nB5EaHOGVBYCzI827N87LM").is_none());
    }
}
