//! The cookie value, exactly as Flask writes it. No HTTP in here.
//!
//! A [`Codec`] is the equivalent of the itsdangerous `URLSafeTimedSerializer`
//! that Flask's `SecureCookieSessionInterface` builds:
//!
//! ```text
//! value   = [ "." ] b64url(payload) "." b64url(timestamp) "." b64url(signature)
//!           └ present iff the payload is zlib-compressed
//! payload = Flask tagged JSON: compact, keys sorted, ASCII only
//! key     = HMAC-SHA1(secret, salt = "cookie-session")
//! sig     = HMAC-SHA1(key, everything before the last ".")
//! ```
//!
//! The session map is handled in its *tagged* form, the JSON Flask puts on
//! the wire (a tuple is `{" t": [..]}`), so that values this crate never
//! looks at go back to Flask unchanged.
//!
//! # Example
//!
//! ```
//! use serde_json::{json, Map, Value};
//! use tower_cookie_session::codec::{Codec, DecodeErrorKind, Key};
//!
//! let codec = Codec::new(Key::new("flask-vectors-secret-key").unwrap());
//! let session: Map<String, Value> = json!({"user_id": 42}).as_object().unwrap().clone();
//!
//! let cookie = codec.encode(&session, 1_700_000_000);
//! assert_eq!(cookie, "eyJ1c2VyX2lkIjo0Mn0.ZVPxAA.e6maAnB5EaHOGVBYCzI827N87LM");
//!
//! let max_age = Some(31 * 24 * 3600);
//! assert_eq!(codec.decode(&cookie, 1_700_000_100, max_age).unwrap(), session);
//! let late = codec.decode(&cookie, 1_800_000_000, max_age).unwrap_err();
//! assert_eq!(late.kind(), DecodeErrorKind::Expired);
//! ```

mod compress;
pub(crate) use self::compress::Deflate;
mod encoding;
pub(crate) mod json;
mod key;
pub(crate) mod raw;
#[cfg(test)]
mod rewrite_tests;
pub(crate) mod scan;
pub(crate) mod tagged;
pub(crate) mod tagging;

use std::fmt;

use serde_json::{Map, Value};

use self::key::Signer;
pub use self::key::{Digest, Key, KeyDerivation};
pub use crate::error::{DecodeError, DecodeErrorKind};

/// The salt Flask uses for session cookies.
///
/// ```
/// assert_eq!(tower_cookie_session::codec::FLASK_SALT, "cookie-session");
/// ```
pub const FLASK_SALT: &str = "cookie-session";

/// Signs, verifies, compresses and (de)serializes session cookie values.
///
/// See the [module docs](self) for the format and more examples.
///
/// ```
/// use serde_json::Map;
/// use tower_cookie_session::codec::{Codec, Key};
///
/// let codec = Codec::new(Key::generate());
/// let token = codec.encode(&Map::new(), 42);
/// assert_eq!(codec.decode(&token, 42, Some(0)).unwrap(), Map::new());
/// ```
#[derive(Clone)]
#[must_use]
pub struct Codec {
    key: Key,
    fallbacks: Vec<Key>,
    salt: String,
    derivation: KeyDerivation,
    digest: Digest,
    /// Derived from the fields above; `signers[0]` signs, all verify.
    signers: Vec<Signer>,
}

impl Codec {
    /// A codec with Flask's defaults: salt `cookie-session`, HMAC key
    /// derivation, SHA-1, no fallback keys.
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// let codec = Codec::new(Key::generate());
    /// # let _ = codec;
    /// ```
    pub fn new(key: Key) -> Self {
        let mut codec = Self {
            key,
            fallbacks: Vec::new(),
            salt: FLASK_SALT.to_owned(),
            derivation: KeyDerivation::Hmac,
            digest: Digest::Sha1,
            signers: Vec::new(),
        };
        codec.derive();
        codec
    }

    /// Keys that are still accepted but never sign: Flask's
    /// `SECRET_KEY_FALLBACKS`, for rotating the secret without logging users out.
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, Key};
    /// # use serde_json::Map;
    ///
    /// let old = Codec::new(Key::new("old").unwrap());
    /// let cookie = old.encode(&Map::new(), 100);
    ///
    /// let rotated = Codec::new(Key::new("new").unwrap()).with_fallback_keys([Key::new("old").unwrap()]);
    /// assert!(rotated.decode(&cookie, 100, None).is_ok());
    /// ```
    pub fn with_fallback_keys(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.fallbacks = keys.into_iter().collect();
        self.derive();
        self
    }

    /// The salt mixed into the key (default `cookie-session`).
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// let codec = Codec::new(Key::new("s").unwrap()).with_salt("my-salt");
    /// # let _ = codec;
    /// ```
    pub fn with_salt(mut self, salt: impl Into<String>) -> Self {
        self.salt = salt.into();
        self.derive();
        self
    }

    /// How the signing key is derived (default [`KeyDerivation::Hmac`]).
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, Key, KeyDerivation};
    ///
    /// let codec = Codec::new(Key::new("s").unwrap()).with_key_derivation(KeyDerivation::Concat);
    /// # let _ = codec;
    /// ```
    pub fn with_key_derivation(mut self, derivation: KeyDerivation) -> Self {
        self.derivation = derivation;
        self.derive();
        self
    }

    /// The hash used for derivation and signature (default [`Digest::Sha1`]).
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, Digest, Key};
    ///
    /// let codec = Codec::new(Key::new("s").unwrap()).with_digest(Digest::Sha256);
    /// # let _ = codec;
    /// ```
    pub fn with_digest(mut self, digest: Digest) -> Self {
        self.digest = digest;
        self.derive();
        self
    }

    fn derive(&mut self) {
        let salt = self.salt.as_bytes();
        // Flask tries SECRET_KEY first, then the fallbacks from the last
        // configured to the first.
        self.signers = std::iter::once(&self.key)
            .chain(self.fallbacks.iter().rev())
            .map(|k| Signer::new(k, salt, self.derivation, self.digest))
            .collect();
    }

    /// The cookie value for `session` (tagged-JSON form) signed at `timestamp`
    /// (seconds since the Unix epoch).
    ///
    /// The bytes are Flask's: compact sorted JSON with `ensure_ascii`, zlib
    /// level 6 when that saves at least two bytes, then the signed timestamp.
    ///
    /// ```
    /// use serde_json::json;
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// let codec = Codec::new(Key::new("secret").unwrap());
    /// let big = json!({"cart": "x".repeat(500)});
    /// let cookie = codec.encode(big.as_object().unwrap(), 1_700_000_000);
    /// assert!(cookie.starts_with('.'), "compressed payloads start with a dot");
    /// ```
    #[must_use]
    pub fn encode(&self, session: &Map<String, Value>, timestamp: u64) -> String {
        self.encode_with(session, timestamp, |_| Deflate::Flask).0
    }

    /// Encodes, deflating as `deflate(json_len)` says (Flask always tries
    /// level 6); returns the token and the JSON length.
    pub(crate) fn encode_with(
        &self,
        session: &Map<String, Value>,
        timestamp: u64,
        deflate: impl FnOnce(usize) -> Deflate,
    ) -> (String, usize) {
        let mut raw = Vec::with_capacity(128);
        json::write_map(session, &mut raw);
        let compressed = compress::compress_if_smaller(&raw, deflate(raw.len()));
        (
            self.sign_raw(&raw, compressed.as_deref(), timestamp),
            raw.len(),
        )
    }

    /// Encodes a session kept as raw JSON, deflating as `deflate(json_len)`
    /// says; returns the token and the JSON length.
    pub(crate) fn encode_raw(
        &self,
        session: &raw::RawMap,
        timestamp: u64,
        deflate: impl FnOnce(usize) -> Deflate,
    ) -> (String, usize) {
        let mut text = Vec::with_capacity(128);
        session.write_flask(&mut text);
        let compressed = compress::compress_if_smaller(&text, deflate(text.len()));
        (
            self.sign_raw(&text, compressed.as_deref(), timestamp),
            text.len(),
        )
    }

    /// Verifies `value` and indexes its payload without parsing its values.
    pub(crate) fn decode_raw(
        &self,
        value: &str,
        now: u64,
        max_age: Option<u64>,
    ) -> Result<(raw::RawMap, u64), DecodeError> {
        let (payload, timestamp) = self.verify(value, now, max_age)?;
        Ok((raw::RawMap::parse_flask(payload)?, timestamp))
    }

    #[cfg(test)]
    pub(crate) fn sign_payload(&self, raw: &[u8], timestamp: u64) -> String {
        let compressed = compress::compress_if_smaller(raw, Deflate::Flask);
        self.sign_raw(raw, compressed.as_deref(), timestamp)
    }

    fn sign_raw(&self, raw: &[u8], compressed: Option<&[u8]>, timestamp: u64) -> String {
        let payload = compressed.unwrap_or(raw);
        let sig_len = self.signers[0].output_len().div_ceil(3) * 4;
        let mut out = String::with_capacity(payload.len().div_ceil(3) * 4 + 12 + sig_len);
        if compressed.is_some() {
            out.push('.');
        }
        encoding::b64_append(payload, &mut out);
        out.push('.');
        encoding::timestamp_append(timestamp, &mut out);
        let mut sig = Vec::with_capacity(32);
        self.signers[0].sign(out.as_bytes(), &mut sig);
        out.push('.');
        encoding::b64_append(&sig, &mut out);
        out
    }

    /// Verifies `value` and returns its session in tagged-JSON form.
    ///
    /// `now` is the current time in seconds since the Unix epoch. With
    /// `max_age`, a value older than that many seconds is rejected (an age of
    /// exactly `max_age` is accepted, as in itsdangerous). A timestamp in the
    /// future is always rejected.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] whose [`kind`](DecodeError::kind) says whether the
    /// value was malformed, carried no valid signature for any key, was
    /// expired, or held an undecodable or non-object payload.
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, DecodeErrorKind, Key};
    ///
    /// let codec = Codec::new(Key::new("flask-vectors-secret-key").unwrap());
    /// let tampered = "eyJ1c2VyX2lkIjo0M30.ZVPxAA.e6maAnB5EaHOGVBYCzI827N87LM";
    /// let err = codec.decode(tampered, 1_700_000_000, None).unwrap_err();
    /// assert_eq!(err.kind(), DecodeErrorKind::BadSignature);
    /// ```
    pub fn decode(
        &self,
        value: &str,
        now: u64,
        max_age: Option<u64>,
    ) -> Result<Map<String, Value>, DecodeError> {
        let (raw, _) = self.verify(value, now, max_age)?;
        parse_payload(&raw)
    }

    /// Whether the payload of `value` may hold a top-level `"_permanent"`
    /// key, judged **without** verifying, inflating or decoding anything
    /// (see [`encoding::B64Needle`]): only for decisions that are safe on
    /// forged input, and that a "yes" sends to the verifying path. A
    /// compressed payload is always a "may": inflating unverified bytes
    /// would let a forged cookie cost up to a megabyte of work.
    pub(crate) fn may_be_permanent_unverified(value: &[u8]) -> bool {
        static NEEDLE: std::sync::OnceLock<encoding::B64Needle> = std::sync::OnceLock::new();
        let Some(signed) = value.rsplitn(2, |b| *b == b'.').nth(1) else {
            return false;
        };
        let Some(payload) = signed.rsplitn(2, |b| *b == b'.').nth(1) else {
            return false;
        };
        payload.starts_with(b".")
            || NEEDLE
                .get_or_init(|| encoding::B64Needle::new(b"\"_permanent\""))
                .may_be_in(payload)
    }

    /// Checks signature and age; returns the (inflated) payload bytes and
    /// the signed timestamp.
    pub(crate) fn verify(
        &self,
        value: &str,
        now: u64,
        max_age: Option<u64>,
    ) -> Result<(Vec<u8>, u64), DecodeError> {
        use DecodeErrorKind::{BadPayload, BadSignature, Expired, Malformed};
        // Split from the right: a compressed payload itself starts with '.'.
        let (signed, sig_text) = value
            .rsplit_once('.')
            .ok_or(DecodeError::new(Malformed, "no signature separator"))?;
        let mut sig = [0u8; 64];
        let sig_len = encoding::b64_decode_into(sig_text, &mut sig)
            .ok_or(DecodeError::new(Malformed, "signature is not base64url"))?;
        if !self
            .signers
            .iter()
            .any(|s| s.verify(signed.as_bytes(), &sig[..sig_len]))
        {
            return Err(DecodeError::new(
                BadSignature,
                "no key matches the signature",
            ));
        }
        let (payload, ts_text) = signed
            .rsplit_once('.')
            .ok_or(DecodeError::new(Malformed, "timestamp missing"))?;
        let ts = encoding::timestamp_decode(ts_text)
            .ok_or(DecodeError::new(Malformed, "malformed timestamp"))?;
        if ts > now {
            return Err(DecodeError::new(Expired, "timestamp is in the future"));
        }
        if max_age.is_some_and(|max| now - ts > max) {
            return Err(DecodeError::new(Expired, "older than max_age"));
        }
        let (compressed, payload) = match payload.strip_prefix('.') {
            Some(rest) => (true, rest),
            None => (false, payload),
        };
        let bytes = encoding::b64_decode(payload)
            .ok_or(DecodeError::new(BadPayload, "payload is not base64url"))?;
        let raw = if compressed {
            compress::decompress(&bytes).ok_or(DecodeError::new(
                BadPayload,
                "payload is not a valid zlib stream",
            ))?
        } else {
            bytes
        };
        Ok((raw, ts))
    }
}

/// The payload JSON as a session map. Integers beyond 64 bits are refused:
/// serde_json would round them to floats, and a write would send Flask a
/// float where it stored an int.
pub(crate) fn parse_payload(raw: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    if json::has_out_of_range_integer(raw) {
        return Err(DecodeError::new(
            DecodeErrorKind::BadPayload,
            "an integer beyond 64 bits would lose precision",
        ));
    }
    serde_json::from_slice(raw)
        .map_err(|_| DecodeError::new(DecodeErrorKind::BadPayload, "not a JSON object"))
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("key", &self.key)
            .field("fallback_keys", &self.fallbacks.len())
            .field("salt", &self.salt)
            .field("key_derivation", &self.derivation)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codec() -> Codec {
        Codec::new(Key::new("flask-vectors-secret-key").unwrap())
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn round_trips_compressed_and_plain() {
        let c = codec();
        for v in [
            json!({}),
            json!({"a": 1}),
            json!({"cart": vec!["item"; 200], "u": "ü"}),
        ] {
            let cookie = c.encode(&map(v.clone()), 10);
            assert_eq!(c.decode(&cookie, 10, Some(0)).unwrap(), map(v));
        }
    }

    #[test]
    fn rejects_each_kind_of_bad_value() {
        let c = codec();
        let good = c.encode(&map(json!({"user_id": 42})), 1000);
        let kind = |v: &str, now, max| c.decode(v, now, max).unwrap_err().kind();
        assert_eq!(kind(&good, 999, None), DecodeErrorKind::Expired);
        assert_eq!(kind(&good, 1011, Some(10)), DecodeErrorKind::Expired);
        assert!(
            c.decode(&good, 1010, Some(10)).is_ok(),
            "age == max_age is valid"
        );
        assert_eq!(kind("", 0, None), DecodeErrorKind::Malformed);
        assert_eq!(
            kind("a.b", 0, None),
            DecodeErrorKind::Malformed,
            "1-char signature"
        );
        assert_eq!(kind("a.bbbb", 0, None), DecodeErrorKind::BadSignature);
        for cut in 1..good.len() {
            let k = kind(&good[..cut], 1000, None);
            assert!(
                matches!(
                    k,
                    DecodeErrorKind::Malformed | DecodeErrorKind::BadSignature
                ),
                "{cut}: {k:?}"
            );
        }
        let other = Codec::new(Key::new("other").unwrap()).encode(&map(json!({"a": 1})), 1000);
        assert_eq!(kind(&other, 1000, None), DecodeErrorKind::BadSignature);
        let salted = codec().with_salt("x").encode(&map(json!({"a": 1})), 1000);
        assert_eq!(kind(&salted, 1000, None), DecodeErrorKind::BadSignature);
    }

    #[test]
    fn signed_non_objects_are_bad_payloads() {
        let c = codec();
        for payload in [&b"42"[..], b"[]", b"null", b"\"ab\"", b"{", b"\xff"] {
            let cookie = c.sign_payload(payload, 5);
            let err = c.decode(&cookie, 5, None).unwrap_err();
            assert_eq!(err.kind(), DecodeErrorKind::BadPayload, "{payload:?}");
        }
    }

    #[test]
    fn fallback_keys_verify_but_never_sign() {
        let old = Key::new("old").unwrap();
        let c = Codec::new(Key::new("new").unwrap()).with_fallback_keys([old.clone()]);
        let by_old = Codec::new(old.clone()).encode(&map(json!({"a": 1})), 7);
        assert!(c.decode(&by_old, 7, None).is_ok());
        let by_rotated = c.encode(&map(json!({"a": 1})), 7);
        assert!(Codec::new(old).decode(&by_rotated, 7, None).is_err());
    }

    #[test]
    fn debug_shows_no_secret() {
        let c = Codec::new(Key::new("topsecretvalue").unwrap())
            .with_fallback_keys([Key::new("oldsecretvalue").unwrap()]);
        let shown = format!("{c:?}");
        assert!(!shown.contains("secretvalue"), "{shown}");
    }
}
