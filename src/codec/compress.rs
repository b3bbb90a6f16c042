//! Flask's "zlib when it saves at least two bytes" rule, with reused state.
//!
//! A fresh deflate state allocates and zeroes ~300 KB, which would cost more
//! than the rest of a request: each thread keeps one and resets it. Flask's
//! rule runs on C zlib because only it reproduces Flask's bytes, and so
//! Flask's decision, for every payload. The fast level runs on libdeflate,
//! 2.5–3.5× faster than C zlib's level 1 on session payloads for the same
//! size (BENCHMARKS.md, "Deflate backends"); Flask inflates either. Without
//! the `c-zlib` feature both run on miniz_oxide (pure Rust, through
//! flate2): zlib streams every framework inflates, not Flask's exact bytes.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::MAX_PAYLOAD_BYTES;

/// zlib cannot encode a non-empty input in fewer than 9 bytes (2 header,
/// 4 checksum, 3 of deflate), so below this it never saves two bytes.
const MIN_COMPRESSIBLE: usize = 11;

/// How hard to deflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deflate {
    /// Do not try.
    Skip,
    /// zlib level 6, Flask's: the same bytes, so the same decision.
    Flask,
    /// libdeflate level 1: a zlib stream as small as C zlib's level 1, in
    /// a third of the time.
    Fast,
}

thread_local! {
    static DEFLATE: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(6), true));
    static INFLATE: RefCell<Decompress> = RefCell::new(Decompress::new(true));
}

#[cfg(feature = "c-zlib")]
thread_local! {
    static DEFLATE_FAST: RefCell<libdeflater::Compressor> =
        RefCell::new(libdeflater::Compressor::new(
            libdeflater::CompressionLvl::new(1).expect("1 is a valid level"),
        ));
}

#[cfg(not(feature = "c-zlib"))]
thread_local! {
    static DEFLATE_FAST: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(1), true));
}

/// The zlib stream of `raw` if it is at least two bytes shorter, else `None`.
pub(crate) fn compress_if_smaller(raw: &[u8], how: Deflate) -> Option<Vec<u8>> {
    if how == Deflate::Skip || raw.len() < MIN_COMPRESSIBLE {
        return None;
    }
    // Any output that does not fit `len - 2` bytes is not worth keeping, so
    // the compressor may stop as soon as the buffer is full.
    let limit = raw.len() - 2;
    #[cfg(feature = "c-zlib")]
    if how == Deflate::Fast {
        return DEFLATE_FAST.with(|cell| {
            let mut c = cell.borrow_mut();
            // libdeflate wants room for its worst case, not for the result.
            let mut out = vec![0; c.zlib_compress_bound(raw.len())];
            let written = c.zlib_compress(raw, &mut out).ok()?;
            out.truncate(written);
            (written <= limit).then_some(out)
        });
    }
    #[cfg(not(feature = "c-zlib"))]
    if how == Deflate::Fast {
        return DEFLATE_FAST.with(|cell| deflate_with(&mut cell.borrow_mut(), 1, raw, limit));
    }
    DEFLATE.with(|cell| deflate_with(&mut cell.borrow_mut(), 6, raw, limit))
}

/// One zlib stream of `raw` from a reused state, if it fits `limit` bytes.
/// C zlib finishes in one call when the output fits; miniz_oxide may hand
/// its output over in several, so call until the stream ends, the buffer
/// is full (too long: give up) or nothing moves.
fn deflate_with(z: &mut Compress, level: u32, raw: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(limit);
    z.reset();
    loop {
        let consumed = usize::try_from(z.total_in()).ok()?;
        let before = (consumed, out.len());
        let status = z.compress_vec(&raw[consumed..], &mut out, FlushCompress::Finish);
        let stuck = (usize::try_from(z.total_in()).ok()?, out.len()) == before;
        match status {
            Ok(Status::StreamEnd) => return (out.len() <= limit).then_some(out),
            Ok(_) if out.len() < limit && !stuck => {}
            _ => {
                abandon(z, level);
                return None;
            }
        }
    }
}

/// A stream given up half-way. miniz_oxide's `reset` keeps the output it
/// had not handed over yet, which the next stream would start with: start
/// afresh there. C zlib's `reset` is complete.
fn abandon(z: &mut Compress, level: u32) {
    if cfg!(not(feature = "c-zlib")) {
        *z = Compress::new(Compression::new(level), true);
    }
}

/// Inflates a zlib stream; trailing bytes after its end are ignored, as in
/// Python's `zlib.decompress`.
pub(crate) fn decompress(data: &[u8]) -> Option<Vec<u8>> {
    INFLATE.with(|cell| {
        let mut z = cell.borrow_mut();
        z.reset(true);
        let mut out = Vec::with_capacity((data.len() * 4).clamp(64, MAX_PAYLOAD_BYTES));
        loop {
            let consumed = usize::try_from(z.total_in()).ok()?;
            let before = (consumed, out.len());
            // `None`, not `Finish`: miniz_oxide takes `Finish` as a promise
            // that the output buffer is large enough, which it grows here.
            let status = z
                .decompress_vec(&data[consumed..], &mut out, FlushDecompress::None)
                .ok()?;
            match status {
                Status::StreamEnd => return (out.len() <= MAX_PAYLOAD_BYTES).then_some(out),
                _ if out.len() == out.capacity() => {
                    if out.len() >= MAX_PAYLOAD_BYTES {
                        return None;
                    }
                    out.reserve_exact(out.len().min(MAX_PAYLOAD_BYTES - out.len()));
                }
                _ if (usize::try_from(z.total_in()).ok()?, out.len()) == before => return None,
                _ => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_only_when_it_saves_two_bytes() {
        assert!(compress_if_smaller(b"{\"user_id\":42}", Deflate::Flask).is_none());
        let raw = vec![b'a'; 1000];
        let z = compress_if_smaller(&raw, Deflate::Flask).unwrap();
        assert!(z.len() < raw.len() - 1);
        assert_eq!(&z[..2], &[0x78, 0x9c], "zlib header, level 6");
        assert_eq!(decompress(&z).unwrap(), raw);
    }

    #[test]
    fn the_fast_level_writes_zlib_that_inflates() {
        let raw: Vec<u8> = (0..4000u32)
            .flat_map(|i| format!("{},", i * 7919 % 1000).into_bytes())
            .collect();
        let fast = compress_if_smaller(&raw, Deflate::Fast).unwrap();
        assert_eq!(fast[0] & 0x0f, 8, "a zlib header: deflate");
        assert_eq!(decompress(&fast).unwrap(), raw);
        let flask = compress_if_smaller(&raw, Deflate::Flask).unwrap();
        assert_eq!(decompress(&flask).unwrap(), raw);
        // libdeflate's level 1 is as small as zlib's; miniz's is not.
        #[cfg(feature = "c-zlib")]
        assert!(
            fast.len() < flask.len() * 11 / 10,
            "{} vs {}",
            fast.len(),
            flask.len()
        );
        assert!(compress_if_smaller(&[7u8; 64], Deflate::Skip).is_none());
    }

    #[test]
    fn inflate_rejects_truncation_and_bombs() {
        let z = compress_if_smaller(&vec![b'x'; 5000], Deflate::Fast).unwrap();
        assert!(decompress(&z[..z.len() - 3]).is_none());
        let bomb = compress_if_smaller(&vec![0u8; MAX_PAYLOAD_BYTES + 1], Deflate::Fast).unwrap();
        assert!(decompress(&bomb).is_none());
        let mut trailing = z.clone();
        trailing.extend_from_slice(b"junk");
        assert_eq!(decompress(&trailing).unwrap().len(), 5000);
        assert!(decompress(b"not zlib").is_none());
    }
}
