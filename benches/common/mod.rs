//! Shared by the benchmarks and `examples/bench_server.rs`: the payloads,
//! the floor (the least work a signed JSON cookie needs), and the request
//! rows (an axum `Router` per row, with the `Cookie` header it is sent).
//!
//! Every row of every size uses the same payload: a JSON map of string keys
//! (`k000`, `k001`, …) to 24-character pseudo-random alphanumeric values,
//! from a fixed seed.
#![allow(dead_code)] // each bench target uses a different part of this module

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha1::Sha1;

/// The secret every row signs with (64 bytes, as `Key::generate` makes).
pub(crate) const SECRET: &[u8; 64] =
    b"bench-secret-0123456789abcdef0123456789abcdef0123456789abcdef012";

/// Signing time used by the codec rows; `NOW` is one second later.
pub(crate) const TS: u64 = 1_700_000_000;
pub(crate) const NOW: u64 = TS + 1;
/// Flask's default `PERMANENT_SESSION_LIFETIME` (31 days), as the layer uses.
pub(crate) const MAX_AGE: u64 = 31 * 24 * 3600;

/// The key every read row reads, and the key every write row writes.
pub(crate) const READ_KEY: &str = "k000";
pub(crate) const WRITE_KEY: &str = "k001";

/// The value every write row writes: a new one on every call, so that a
/// store that skips unchanged values (tower-sessions) really saves, and 24
/// characters like the values already there, so the cookie keeps its size.
pub(crate) fn write_value() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static WRITES: AtomicU64 = AtomicU64::new(0);
    format!("w{:023}", WRITES.fetch_add(1, Ordering::Relaxed))
}

/// Payload sizes: label and target JSON length in bytes (the payload is the
/// largest map of whole entries not above it).
pub(crate) const SIZES: [(&str, usize); 4] = [
    ("100B", 106),
    ("1KiB", 1024),
    ("4KiB", 4096),
    ("16KiB", 16 * 1024),
];

/// What the 24-character values are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Pseudo-random `[A-Za-z0-9]`: the payload of every request row.
    Alnum,
    /// Drawn from four fixed words: deflate shrinks it to 8–20%.
    Compressible,
    /// Pseudo-random over the 92 printable ASCII characters JSON does not
    /// escape: the least compressible of the three (deflate still saves
    /// 25–30% from 1 KiB, so Flask's rule still compresses it).
    Incompressible,
}

impl Kind {
    pub(crate) const ALL: [Self; 3] = [Self::Alnum, Self::Compressible, Self::Incompressible];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Alnum => "alnum",
            Self::Compressible => "compressible",
            Self::Incompressible => "incompressible",
        }
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() >> 33) as usize % n
    }
}

fn value(rng: &mut Rng, kind: Kind) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const WORDS: [&str; 4] = [
        "item-apple-green-000001",
        "item-pear-yellow-0000002",
        "item-plum-purple-0000003",
        "item-kiwi-brown-00000004",
    ];
    match kind {
        Kind::Alnum => (0..24)
            .map(|_| char::from(ALNUM[rng.below(ALNUM.len())]))
            .collect(),
        Kind::Compressible => format!("{:<24}", WORDS[rng.below(WORDS.len())]),
        Kind::Incompressible => {
            let printable: Vec<u8> = (b' '..=b'~').filter(|b| !b"\"\\".contains(b)).collect();
            (0..24)
                .map(|_| char::from(printable[rng.below(printable.len())]))
                .collect()
        }
    }
}

/// The payload of about `target` JSON bytes (`{"k000":"…","k001":"…"}`,
/// 34 bytes per entry plus one).
pub(crate) fn payload(kind: Kind, target: usize) -> Map<String, Value> {
    let entries = (target - 1) / 34;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..entries)
        .map(|i| (format!("k{i:03}"), Value::String(value(&mut rng, kind))))
        .collect()
}

/// Compact JSON length of `map`.
pub(crate) fn json_len(map: &Map<String, Value>) -> usize {
    serde_json::to_vec(map).map_or(0, |v| v.len())
}

/// The floor: `b64url(json) "." b64url(HMAC-SHA1(key, b64url(json)))`,
/// with the HMAC key pads computed once (cloned per call, as the codec does).
#[derive(Clone)]
pub(crate) struct Floor {
    mac: Hmac<Sha1>,
}

impl Floor {
    pub(crate) fn new() -> Self {
        Self {
            mac: <Hmac<Sha1> as Mac>::new_from_slice(SECRET).expect("any key length"),
        }
    }

    /// serde_json serialize + base64url + HMAC-SHA1.
    pub(crate) fn sign(&self, map: &Map<String, Value>) -> String {
        let json = serde_json::to_vec(map).expect("a map of strings is JSON");
        let mut out = String::with_capacity(json.len().div_ceil(3) * 4 + 28);
        URL_SAFE_NO_PAD.encode_string(&json, &mut out);
        self.append_signature(&mut out);
        out
    }

    /// Appends `.` and the HMAC-SHA1 of everything before it.
    fn append_signature(&self, out: &mut String) {
        let sig = self
            .mac
            .clone()
            .chain_update(out.as_bytes())
            .finalize()
            .into_bytes();
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, out);
    }

    /// The payload part of `token`, once its HMAC-SHA1 verifies.
    fn checked<'a>(&self, token: &'a str) -> &'a str {
        let (payload, sig_text) = token.rsplit_once('.').expect("a signed token");
        let mut sig = [0u8; 32];
        let n = URL_SAFE_NO_PAD
            .decode_slice(sig_text, &mut sig)
            .expect("base64url signature");
        self.mac
            .clone()
            .chain_update(payload.as_bytes())
            .verify_slice(&sig[..n])
            .expect("valid signature");
        payload
    }

    /// [`Floor::sign`] with the deflate the default layer does
    /// (`Compression::Auto`: libdeflate level 1 from 1536 bytes of JSON,
    /// kept when two bytes shorter), before base64.
    pub(crate) fn sign_deflate(&self, map: &Map<String, Value>) -> String {
        let json = serde_json::to_vec(map).expect("a map of strings is JSON");
        let mut compressed = None;
        if json.len() >= 1536 {
            let mut z = libdeflater::Compressor::new(
                libdeflater::CompressionLvl::new(1).expect("a valid level"),
            );
            let mut out = vec![0; z.zlib_compress_bound(json.len())];
            let n = z
                .zlib_compress(&json, &mut out)
                .expect("room for the bound");
            out.truncate(n);
            if n + 2 <= json.len() {
                compressed = Some(out);
            }
        }
        let payload = compressed.as_deref().unwrap_or(&json);
        let mut out = String::with_capacity(payload.len().div_ceil(3) * 4 + 29);
        if compressed.is_some() {
            out.push('.');
        }
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        self.append_signature(&mut out);
        out
    }

    /// [`Floor::verify`] of a [`Floor::sign_deflate`] token: inflates (C
    /// zlib, as the layer does) before parsing.
    pub(crate) fn verify_inflate(&self, token: &str) -> Map<String, Value> {
        use std::io::Read as _;
        let payload = self.checked(token);
        let json = match payload.strip_prefix('.') {
            Some(z) => {
                let bytes = URL_SAFE_NO_PAD.decode(z).expect("base64url payload");
                let mut out = Vec::with_capacity(bytes.len() * 4);
                flate2::read::ZlibDecoder::new(&bytes[..])
                    .read_to_end(&mut out)
                    .expect("zlib");
                out
            }
            None => URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"),
        };
        serde_json::from_slice(&json).expect("a JSON object")
    }

    /// HMAC-SHA1 verify + base64url decode + serde_json parse.
    pub(crate) fn verify(&self, token: &str) -> Map<String, Value> {
        let payload = self.checked(token);
        let json = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
        serde_json::from_slice(&json).expect("a JSON object")
    }

    /// The least a signed cookie's reader can do: HMAC-SHA1 verify and
    /// base64url decode of the payload, no JSON (issue 22's floor).
    pub(crate) fn verify_bytes(&self, token: &str) -> Vec<u8> {
        let payload = self.checked(token);
        URL_SAFE_NO_PAD.decode(payload).expect("base64url payload")
    }
}

pub(crate) mod rows;
