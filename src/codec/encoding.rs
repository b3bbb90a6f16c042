//! URL-safe base64 without padding, standard base64 with it (Starlette's
//! payload), itsdangerous' timestamp bytes and Django's base62 timestamps.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// Appends the padded standard base64 of `bytes` (Python's `b64encode`).
pub(crate) fn std_b64_append(bytes: &[u8], out: &mut String) {
    STANDARD.encode_string(bytes, out);
}

/// Strict decode of padded standard base64.
pub(crate) fn std_b64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Django's `b62_encode`.
pub(crate) fn base62_append(mut n: u64, out: &mut String) {
    let mut digits = [0u8; 11];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = BASE62[(n % 62) as usize];
        n /= 62;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|d| char::from(*d)));
}

/// Django's `b62_decode` for what Django writes: digits only (no sign),
/// `None` beyond `u64` or on any other character.
pub(crate) fn base62_decode(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |n, c| {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        };
        n.checked_mul(62)?.checked_add(u64::from(digit))
    })
}

/// Appends the unpadded URL-safe base64 of `bytes` to `out`: vectorised,
/// as the decode is, since a written payload is the bulk of a write.
pub(crate) fn b64_append(bytes: &[u8], out: &mut String) {
    base64_simd::URL_SAFE_NO_PAD.encode_append(bytes, out);
}

/// Strict decode: no padding, no `+`/`/`, no stray bits (itsdangerous is
/// lenient, but everything Flask writes is canonical). The payload is the
/// bulk of a cookie: vectorised (SSE4.1/AVX2, scalar elsewhere).
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    // base64-simd refuses non-zero trailing bits too (`decoding_is_strict`).
    base64_simd::URL_SAFE_NO_PAD.decode_to_vec(text).ok()
}

pub(crate) fn b64_decode_into(text: &str, out: &mut [u8]) -> Option<usize> {
    URL_SAFE_NO_PAD.decode_slice(text, out).ok()
}

/// A byte string as it can appear inside base64 text: however it is
/// aligned on base64's 3-byte groups, the whole groups inside it encode to a
/// fixed run of characters at a 4-aligned position. One run per alignment.
pub(crate) struct B64Needle {
    runs: [([u8; 40], usize); 3],
}

impl B64Needle {
    /// `needle` holds 5 to 30 bytes.
    pub(crate) fn new(needle: &[u8]) -> Self {
        debug_assert!((5..=30).contains(&needle.len()));
        let run = |skip: usize| {
            // `skip` bytes of `needle` complete the group it starts in.
            let groups = (needle.len() - skip) / 3;
            let mut run = [0u8; 40];
            let n = URL_SAFE_NO_PAD
                .encode_slice(&needle[skip..skip + 3 * groups], &mut run)
                .unwrap_or(0);
            (run, n)
        };
        Self {
            runs: [run(0), run(1), run(2)],
        }
    }

    /// Whether the bytes that the base64 `text` encodes may contain the
    /// needle, judged on the text as it is: no decoding, no allocation, one
    /// pass. Finding none of the runs proves the needle absent; a match may
    /// be a false positive, never a false negative.
    pub(crate) fn may_be_in(&self, text: &[u8]) -> bool {
        let runs = self.runs.map(|(run, n)| (run, n, run[0]));
        (0..text.len()).step_by(4).any(|i| {
            let first = text[i];
            runs.iter()
                .any(|(run, n, head)| first == *head && *n > 0 && text[i..].starts_with(&run[..*n]))
        })
    }
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
                assert!(
                    B64Needle::new(needle).may_be_in(text.as_bytes()),
                    "{pad} {tail}"
                );
            }
        }
        for raw in [
            &b"{\"permanent\":true}"[..],
            b"{\"_perm\":1,\"anent\":2}",
            b"",
        ] {
            let mut text = String::new();
            b64_append(raw, &mut text);
            assert!(
                !B64Needle::new(needle).may_be_in(text.as_bytes()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn base62_is_djangos() {
        // Django's `signing.b62_encode`.
        for (n, text) in [(0, "0"), (61, "z"), (62, "10"), (1_700_000_000, "1r31eq")] {
            let mut out = String::new();
            base62_append(n, &mut out);
            assert_eq!(out, text);
            assert_eq!(base62_decode(text), Some(n));
        }
        let mut out = String::new();
        base62_append(u64::MAX, &mut out);
        assert_eq!(base62_decode(&out), Some(u64::MAX));
        for bad in ["", "-1", "1.5", "zzzzzzzzzzzz", "a b"] {
            assert_eq!(base62_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn standard_base64_is_padded_and_strict() {
        let mut out = String::new();
        std_b64_append(b"\xfb\xff", &mut out);
        assert_eq!(out, "+/8=");
        assert_eq!(std_b64_decode("+/8=").as_deref(), Some(&b"\xfb\xff"[..]));
        assert!(std_b64_decode("+/8").is_none(), "padding required");
        assert!(std_b64_decode("-_8=").is_none(), "no URL-safe alphabet");
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
