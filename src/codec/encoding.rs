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
