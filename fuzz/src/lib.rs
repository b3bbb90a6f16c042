//! Helpers shared by the fuzz targets and the seed generator: a fixed key,
//! a signer that signs *arbitrary* payload bytes the way itsdangerous does
//! (so the fuzzers reach the code behind the signature check), the layers
//! under test and a tiny executor.
//!
//! Only the crate's public API is used.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderValue, Request, Response, StatusCode};
use serde_json::{Map, Value};
use sha1::Sha1;
use tower::{service_fn, Layer, ServiceExt};
use tower_cookie_session::codec::Codec;
use tower_cookie_session::{Key, OversizePolicy, Session, SessionLayer, SessionTooLarge};

/// The secret every target signs with (>= 32 bytes: no short-key warning).
pub const SECRET: &str = "fuzz-secret-key-0123456789abcdef-0123456789";
/// A fallback key, so verification walks more than one signer.
pub const FALLBACK: &str = "fuzz-old-secret-key-0123456789abcdef-012345";
/// Seeds are signed at this time; the layers accept 100 years of age, so the
/// committed seed corpus stays valid.
pub const SEED_TS: u64 = 1_700_000_000;
/// The max age of the layers under test.
pub const MAX_AGE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The main key.
pub fn key() -> Key {
    Key::new(SECRET).expect("non-empty")
}

/// A codec with Flask's defaults, the main key and one fallback.
pub fn codec() -> &'static Codec {
    static CODEC: OnceLock<Codec> = OnceLock::new();
    CODEC.get_or_init(|| {
        Codec::new(key()).with_fallback_keys([Key::new(FALLBACK).expect("non-empty")])
    })
}

/// itsdangerous' signature over `payload_text` (already base64url, with the
/// leading `.` when it claims to be compressed) and `ts`, with Flask's HMAC
/// key derivation and salt.
pub fn sign_text(payload_text: &str, ts: u64) -> String {
    static MAC: OnceLock<Hmac<Sha1>> = OnceLock::new();
    let mac = MAC.get_or_init(|| {
        let mut derive =
            <Hmac<Sha1> as Mac>::new_from_slice(SECRET.as_bytes()).expect("any length");
        derive.update(b"cookie-session");
        let derived = derive.finalize().into_bytes();
        <Hmac<Sha1> as Mac>::new_from_slice(&derived).expect("any length")
    });
    let ts_bytes = ts.to_be_bytes();
    let first = ts_bytes.iter().position(|b| *b != 0).unwrap_or(8);
    let mut out = format!(
        "{payload_text}.{}",
        URL_SAFE_NO_PAD.encode(&ts_bytes[first..])
    );
    let mut mac = mac.clone();
    mac.update(out.as_bytes());
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    out
}

/// A validly signed Starlette cookie whose payload is `raw` (standard
/// base64 with padding; itsdangerous' `TimestampSigner` defaults).
pub fn sign_starlette(raw: &[u8], ts: u64) -> String {
    use base64::engine::general_purpose::STANDARD;
    use sha1::Digest as _;
    let derived = Sha1::new()
        .chain_update(b"itsdangerous.Signer")
        .chain_update(b"signer")
        .chain_update(SECRET.as_bytes())
        .finalize();
    let ts_bytes = ts.to_be_bytes();
    let first = ts_bytes.iter().position(|b| *b != 0).unwrap_or(8);
    let mut out = format!(
        "{}.{}",
        STANDARD.encode(raw),
        URL_SAFE_NO_PAD.encode(&ts_bytes[first..])
    );
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&derived).expect("any length");
    mac.update(out.as_bytes());
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    out
}

/// A validly signed Django cookie over `payload_text` (base64url, with the
/// leading `.` when it claims to be compressed).
pub fn sign_django(payload_text: &str, ts: u64) -> String {
    use sha2::{Digest as _, Sha256};
    let derived = Sha256::new()
        .chain_update(b"django.contrib.sessions.backends.signed_cookies")
        .chain_update(b"signer")
        .chain_update(SECRET.as_bytes())
        .finalize();
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let (mut n, mut digits) = (ts, Vec::new());
    loop {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    let mut out = format!(
        "{payload_text}:{}",
        String::from_utf8(digits).expect("ASCII")
    );
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&derived).expect("any length");
    mac.update(out.as_bytes());
    out.push(':');
    out.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    out
}

/// zlib at level 6, as Flask and Django compress.
pub fn zlib(raw: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    z.write_all(raw).expect("in memory");
    z.finish().expect("in memory")
}

/// A validly signed cookie whose (uncompressed) payload is `raw`.
pub fn sign_raw(raw: &[u8], ts: u64) -> String {
    sign_text(&URL_SAFE_NO_PAD.encode(raw), ts)
}

/// A validly signed cookie whose payload is `raw`, zlib-compressed.
pub fn sign_compressed(raw: &[u8], ts: u64) -> String {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    z.write_all(raw).expect("in memory");
    sign_as_compressed(&z.finish().expect("in memory"), ts)
}

/// A validly signed cookie that *claims* `bytes` are a zlib stream.
pub fn sign_as_compressed(bytes: &[u8], ts: u64) -> String {
    sign_text(&format!(".{}", URL_SAFE_NO_PAD.encode(bytes)), ts)
}

/// Polls `f` to completion with a no-op waker. The layer and the handlers
/// here never wait on I/O, so a future that stays pending is a bug.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("the session layer left a request pending without any I/O");
}

/// `len` pseudo-random base62 characters (zlib cannot shrink them much).
pub fn incompressible(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % 62) as usize])
        })
        .collect()
}

/// One layer configuration of the `request` target.
#[derive(Debug)]
pub struct Setup {
    /// The layer, with a small decode cache (bounded memory across the
    /// 256 configurations).
    pub layer: SessionLayer,
    /// The same configuration without the decode cache: reads back what
    /// `layer` wrote by verifying and parsing it, as another process would.
    pub reader: SessionLayer,
    /// Its cookie name.
    pub name: &'static str,
    /// Its per-cookie limit.
    pub max_cookie_bytes: usize,
}

/// The layer for config byte `b` (256 configurations, built once each).
pub fn setup(b: u8) -> &'static Setup {
    static SETUPS: OnceLock<Vec<Setup>> = OnceLock::new();
    let setups = SETUPS.get_or_init(|| (0..=255u8).map(build_setup).collect());
    &setups[usize::from(b)]
}

fn build_setup(b: u8) -> Setup {
    let max_cookie_bytes = [4093, 1000, 300, 120][usize::from(b & 3)];
    let max_total_bytes = [7168, 2000, 64 * 1024, 500][usize::from((b >> 2) & 3)];
    let mut layer = SessionLayer::new(key())
        .with_fallback_keys([Key::new(FALLBACK).expect("non-empty")])
        .with_max_age(MAX_AGE)
        .with_max_cookie_bytes(max_cookie_bytes)
        .with_max_total_bytes(max_total_bytes);
    let name = if b & 16 != 0 { "__Host-s" } else { "session" };
    if b & 16 != 0 {
        layer = layer
            .with_cookie_name("__Host-s")
            .expect("a valid cookie name");
    }
    if b & 32 != 0 {
        layer = layer.with_oversize_policy(OversizePolicy::PassThrough);
    }
    if b & 64 != 0 {
        layer = layer.with_refresh_each_request(false);
    }
    if b & 128 != 0 {
        layer = layer.with_max_chunks(3);
    }
    let layer = layer.with_decode_cache_bytes(256 * 1024);
    Setup {
        reader: layer.clone().with_decode_cache_bytes(0),
        layer,
        name,
        max_cookie_bytes,
    }
}

/// What the handler does with the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Never touches it.
    Untouched,
    /// `len()`.
    Len,
    /// Every key, every natural value, `get::<u64>("n")`.
    ReadAll,
    /// Increments the counter `n`.
    Increment,
    /// Stores `n` bytes of incompressible text under `blob`.
    Blob(usize),
    /// `clear()` (logout).
    Clear,
    /// `set_permanent(true)`.
    Permanent,
    /// Removes the first key.
    RemoveFirst,
}

impl Op {
    /// The op for an input byte.
    pub fn from_byte(b: u8) -> Self {
        match b % 8 {
            0 => Self::Untouched,
            1 => Self::Len,
            2 => Self::ReadAll,
            3 => Self::Increment,
            4 => Self::Blob(usize::from(b / 8) * 400),
            5 => Self::Clear,
            6 => Self::Permanent,
            _ => Self::RemoveFirst,
        }
    }

    fn apply(self, session: &Session) {
        match self {
            Self::Untouched => {}
            Self::Len => {
                let _ = session.len();
            }
            Self::ReadAll => {
                for k in session.keys() {
                    let _ = session.get_value(&k);
                    let _ = session.get::<String>(&k);
                }
                let _ = session.get::<u64>("n");
                let _ = session.is_permanent();
            }
            Self::Increment => {
                let n = session.get::<u64>("n").ok().flatten().unwrap_or(0);
                session
                    .insert("n", n.saturating_add(1))
                    .expect("a u64 is JSON");
            }
            Self::Blob(len) => session
                .insert("blob", incompressible(len, len as u64))
                .expect("a string is JSON"),
            Self::Clear => session.clear(),
            Self::Permanent => session.set_permanent(true),
            Self::RemoveFirst => {
                if let Some(k) = session.keys().into_iter().next() {
                    let _ = session.remove(&k);
                }
            }
        }
    }
}

/// A response, reduced to what the targets check.
#[derive(Debug)]
pub struct Outcome {
    /// The status.
    pub status: StatusCode,
    /// Every `Set-Cookie` line.
    pub set_cookies: Vec<String>,
    /// Whether the layer attached a [`SessionTooLarge`].
    pub too_large: bool,
    /// The session after the handler, in tagged form (read after the
    /// response was built, so reading it changes nothing).
    pub session: Map<String, Value>,
}

/// Sends one request carrying `cookie_headers` through `layer` to a handler
/// doing `op`.
pub fn run(layer: &SessionLayer, cookie_headers: &[HeaderValue], op: Op) -> Outcome {
    let seen: std::sync::Arc<std::sync::Mutex<Option<Session>>> = Default::default();
    let out = seen.clone();
    let svc = layer.layer(service_fn(move |req: Request<()>| {
        let session = req
            .extensions()
            .get::<Session>()
            .expect("the layer inserts a session")
            .clone();
        op.apply(&session);
        *out.lock().expect("not poisoned") = Some(session);
        async { Ok::<_, Infallible>(Response::new(())) }
    }));
    let mut req = Request::new(());
    for h in cookie_headers {
        req.headers_mut().append(COOKIE, h.clone());
    }
    let res = block_on(svc.oneshot(req)).expect("infallible");
    let session = seen
        .lock()
        .expect("not poisoned")
        .take()
        .expect("the handler ran");
    Outcome {
        status: res.status(),
        set_cookies: res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("Set-Cookie is ASCII").to_owned())
            .collect(),
        too_large: res.extensions().get::<SessionTooLarge>().is_some(),
        session: session.to_tagged(),
    }
}

/// `name=value` of a `Set-Cookie` line, or `None` for a deletion.
pub fn kept_pair(line: &str) -> Option<(&str, &str)> {
    let pair = line.split(';').next()?;
    let (name, value) = pair.split_once('=')?;
    let deleted = value.is_empty() && line.contains("Max-Age=0");
    (!deleted).then_some((name, value))
}
