//! The cookie value, exactly as the framework writes it. No HTTP in here.
//!
//! [`Codec::new`] is Flask's; [`Codec::quart`], [`Codec::starlette`] and
//! [`Codec::django`] are those frameworks' (each documents its format). The
//! Flask codec is the equivalent of the itsdangerous
//! `URLSafeTimedSerializer` that Flask's `SecureCookieSessionInterface`
//! builds:
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

pub(crate) mod compress;
pub(crate) use self::compress::Deflate;

/// The largest session JSON, in bytes, that this crate reads or writes.
///
/// A reader refuses a payload that inflates past it: a cookie of a few KiB
/// never legitimately does, and a zlib bomb must not allocate without
/// bound. The writer refuses to write one
/// ([`SessionTooLarge::exceeds_payload_limit`](crate::SessionTooLarge::exceeds_payload_limit)),
/// so a session the layer wrote is never lost on the next request, however
/// well it compresses.
///
/// ```
/// assert_eq!(tower_cookie_session::codec::MAX_PAYLOAD_BYTES, 1 << 20);
/// ```
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
pub(crate) mod encoding;
mod format;
pub(crate) use self::format::Format;
pub(crate) mod json;
pub(crate) mod key;
mod lossless;
#[cfg(test)]
mod python_vectors;
pub(crate) mod raw;
// Byte-exact against Flask's zlib: C zlib only.
#[cfg(all(test, feature = "c-zlib"))]
mod rewrite_tests;
pub(crate) mod scan;
mod sealed;
pub(crate) mod tagged;
pub(crate) mod tagging;

use std::fmt;

use serde_json::{Map, Value};

use self::key::Signer;
pub use self::key::{Digest, Key, KeyDerivation};
pub use self::lossless::RawSession;
pub use crate::error::{DecodeError, DecodeErrorKind};

/// The salt Flask uses for session cookies.
///
/// ```
/// assert_eq!(tower_cookie_session::codec::FLASK_SALT, "cookie-session");
/// ```
pub const FLASK_SALT: &str = "cookie-session";

/// The salt Starlette's `SessionMiddleware` signs with: itsdangerous'
/// default for a `TimestampSigner`.
///
/// ```
/// assert_eq!(tower_cookie_session::codec::STARLETTE_SALT, "itsdangerous.Signer");
/// ```
pub const STARLETTE_SALT: &str = "itsdangerous.Signer";

/// The salt of Django's `signed_cookies` session backend.
///
/// ```
/// assert_eq!(
///     tower_cookie_session::codec::DJANGO_SALT,
///     "django.contrib.sessions.backends.signed_cookies"
/// );
/// ```
pub const DJANGO_SALT: &str = "django.contrib.sessions.backends.signed_cookies";

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
    format: Format,
    /// Derived from the fields above; `signers[0]` signs, all verify.
    signers: Vec<Signer>,
    /// The encrypted format's ciphers (`keys[0]` seals, all open).
    sealer: Option<sealed::Sealer>,
    /// The cookie name, the encrypted format's associated data.
    context: String,
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
        Self::build(
            key,
            Format::Flask,
            FLASK_SALT,
            KeyDerivation::Hmac,
            Digest::Sha1,
        )
    }

    /// A codec for Quart's `SecureCookieSessionInterface`: Flask's format
    /// (salt, derivation, digest, tags, compression), with the keys in
    /// insertion order, as Quart writes them (it reuses Flask's serializer,
    /// which sorts only inside a Flask app). Flask and Quart read each
    /// other's cookies; this codec writes Quart's exact bytes.
    ///
    /// ```
    /// use serde_json::json;
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// let codec = Codec::quart(Key::new("quart-secret").unwrap());
    /// let cookie = codec.encode(json!({"a": [1, 2]}).as_object().unwrap(), 1_700_000_000);
    /// // Everything but the order of keys is Flask's: Flask verifies it.
    /// let flask = Codec::new(Key::new("quart-secret").unwrap());
    /// assert!(flask.decode(&cookie, 1_700_000_000, None).is_ok());
    /// ```
    pub fn quart(key: Key) -> Self {
        Self::build(
            key,
            Format::Quart,
            FLASK_SALT,
            KeyDerivation::Hmac,
            Digest::Sha1,
        )
    }

    /// A codec for Starlette's (and so FastAPI's) `SessionMiddleware`:
    /// `json.dumps` of the session in insertion order, standard base64
    /// with padding, never compressed, signed by an itsdangerous
    /// `TimestampSigner` with its defaults (salt [`STARLETTE_SALT`],
    /// `django-concat` derivation, SHA-1). Values are plain JSON: no Flask
    /// tags. Starlette has one key; fallback keys still verify here, for a
    /// rotation on the Rust side.
    ///
    /// ```
    /// use serde_json::json;
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// let codec = Codec::starlette(Key::new("starlette-secret").unwrap());
    /// let session = json!({"user": "ada", "n": [1, 2]});
    /// let cookie = codec.encode(session.as_object().unwrap(), 1_700_000_000);
    /// // base64 of `{"n": [1, 2], "user": "ada"}`: `json.dumps`' spacing.
    /// assert!(cookie.starts_with("eyJuIjogWzEsIDJdLCAidXNlciI6ICJhZGEifQ==."));
    /// assert_eq!(codec.decode(&cookie, 1_700_000_000, None).unwrap(), *session.as_object().unwrap());
    /// ```
    pub fn starlette(key: Key) -> Self {
        Self::build(
            key,
            Format::Starlette,
            STARLETTE_SALT,
            KeyDerivation::DjangoConcat,
            Digest::Sha1,
        )
    }

    /// A codec for Django's `signed_cookies` session backend (the
    /// `JSONSerializer`): compact JSON in insertion order, zlib when that
    /// saves at least two bytes (a `.` before the payload, inside the
    /// signature), a base62 timestamp, `:` separators, HMAC-SHA256 with the
    /// key `SHA256(salt + "signer" + SECRET_KEY)` (salt [`DJANGO_SALT`]).
    /// [`with_fallback_keys`](Self::with_fallback_keys) takes
    /// `SECRET_KEY_FALLBACKS`. Values are plain JSON: no Flask tags. Django
    /// does not reject timestamps in the future, and neither does this codec.
    ///
    /// ```
    /// use serde_json::json;
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// let codec = Codec::django(Key::new("django-insecure-secret").unwrap());
    /// let session = json!({"_auth_user_id": "1"});
    /// let cookie = codec.encode(session.as_object().unwrap(), 1_700_000_000);
    /// assert_eq!(cookie.split(':').nth(1), Some("1r31eq"), "base62 timestamp");
    /// assert_eq!(codec.decode(&cookie, 1_700_000_000, None).unwrap(), *session.as_object().unwrap());
    /// ```
    pub fn django(key: Key) -> Self {
        Self::build(
            key,
            Format::Django,
            DJANGO_SALT,
            KeyDerivation::DjangoConcat,
            Digest::Sha256,
        )
    }

    /// The encrypted format of [`SessionLayer::encrypted`](crate::SessionLayer::encrypted)
    /// (AES-256-GCM-SIV, key derived from the secret with HKDF), for tokens
    /// of the cookie named `cookie_name`: a token is bound to its cookie's
    /// name, so one moved to another cookie does not open. Lets a tool read
    /// what the layer wrote.
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// let codec = Codec::encrypted(Key::new("encryption-secret-0123456789abcdef")?, "session");
    /// let token = codec.encode(serde_json::json!({"user": 7}).as_object().unwrap(), 1_700_000_000);
    /// let session = codec.decode_lossless(&token, 1_700_000_000, None)?;
    /// assert_eq!(session.get_json("user"), Some("7"));
    /// let other = Codec::encrypted(Key::new("encryption-secret-0123456789abcdef")?, "other");
    /// assert!(other.decode_lossless(&token, 1_700_000_000, None).is_err());
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn encrypted(key: Key, cookie_name: &str) -> Self {
        let context = cookie_name;
        let mut codec = Self::build(
            key,
            Format::Encrypted,
            "",
            KeyDerivation::Hmac,
            Digest::Sha256,
        );
        context.clone_into(&mut codec.context);
        codec
    }

    /// The cookie name an encrypted token is bound to.
    pub(crate) fn set_context(&mut self, context: &str) {
        context.clone_into(&mut self.context);
    }

    fn build(
        key: Key,
        format: Format,
        salt: &str,
        derivation: KeyDerivation,
        digest: Digest,
    ) -> Self {
        let mut codec = Self {
            key,
            fallbacks: Vec::new(),
            salt: salt.to_owned(),
            derivation,
            digest,
            format,
            signers: Vec::new(),
            sealer: None,
            context: String::new(),
        };
        codec.derive();
        codec
    }

    pub(crate) fn format(&self) -> Format {
        self.format
    }

    pub(crate) fn key_len(&self) -> usize {
        self.key.len()
    }

    /// Keys that are still accepted but never sign: Flask's and Django's
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

    /// The salt mixed into the key (default: the framework's, e.g.
    /// `cookie-session` for Flask).
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
        self.sealer = (self.format == Format::Encrypted).then(|| {
            sealed::Sealer::new(std::iter::once(&self.key).chain(self.fallbacks.iter().rev()))
        });
    }

    /// The cookie value for `session` signed at `timestamp` (seconds since
    /// the Unix epoch): for Flask, `session` is in tagged-JSON form; for
    /// Starlette and Django, plain JSON written in the map's order.
    ///
    /// The bytes are the framework's: for Flask, compact sorted JSON with
    /// `ensure_ascii`, zlib level 6 when that saves at least two bytes, then
    /// the signed timestamp (see [`Codec::starlette`] and [`Codec::django`]
    /// for theirs).
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
        json::write_map_in(session, self.format.style(), &mut raw);
        let compressed = self.compress(&raw, deflate);
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
        session.write(self.format, &mut text);
        let compressed = self.compress(&text, deflate);
        (
            self.sign_raw(&text, compressed.as_deref(), timestamp),
            text.len(),
        )
    }

    fn compress(&self, json: &[u8], deflate: impl FnOnce(usize) -> Deflate) -> Option<Vec<u8>> {
        if self.format.compresses() {
            compress::compress_if_smaller(json, deflate(json.len()))
        } else {
            None
        }
    }

    /// Verifies `value` and indexes its payload without parsing its values.
    /// `skew`: how far in the future a timestamp may be (the layer's
    /// `with_clock_skew`; itsdangerous allows none).
    pub(crate) fn decode_raw(
        &self,
        value: &str,
        now: u64,
        max_age: Option<u64>,
        skew: u64,
    ) -> Result<(raw::RawMap, u64), DecodeError> {
        let (payload, timestamp) = self.verify(value, now, max_age, skew)?;
        Ok((raw::RawMap::parse(payload, self.format)?, timestamp))
    }

    #[cfg(test)]
    pub(crate) fn sign_payload(&self, raw: &[u8], timestamp: u64) -> String {
        let compressed = self.compress(raw, |_| Deflate::Flask);
        self.sign_raw(raw, compressed.as_deref(), timestamp)
    }

    pub(crate) fn sign_raw(&self, raw: &[u8], compressed: Option<&[u8]>, timestamp: u64) -> String {
        let payload = compressed.unwrap_or(raw);
        if let Some(sealer) = &self.sealer {
            return sealer.seal(&self.context, timestamp, payload, compressed.is_some());
        }
        let separator = self.format.separator();
        let sig_len = self.signers[0].output_len().div_ceil(3) * 4;
        let mut out = String::with_capacity(payload.len().div_ceil(3) * 4 + 16 + sig_len);
        if compressed.is_some() {
            out.push('.');
        }
        match self.format {
            Format::Starlette => encoding::std_b64_append(payload, &mut out),
            Format::Flask | Format::Quart | Format::Django | Format::Encrypted => {
                encoding::b64_append(payload, &mut out)
            }
        }
        out.push(separator);
        match self.format {
            Format::Django => encoding::base62_append(timestamp, &mut out),
            Format::Flask | Format::Quart | Format::Starlette | Format::Encrypted => {
                encoding::timestamp_append(timestamp, &mut out)
            }
        }
        let mut sig = Vec::with_capacity(32);
        self.signers[0].sign(out.as_bytes(), &mut sig);
        out.push(separator);
        encoding::b64_append(&sig, &mut out);
        out
    }

    /// Verifies `value` and returns its session: for Flask in tagged-JSON
    /// form, for Starlette and Django as the plain JSON it is.
    ///
    /// A `serde_json::Map` cannot hold everything Python writes: a session
    /// holding an integer beyond 64 bits is refused (rather than rounded),
    /// and `NaN` or a lone surrogate cannot be represented.
    /// [`Codec::decode_lossless`] reads every such session, as the layer does.
    ///
    /// `now` is the current time in seconds since the Unix epoch. With
    /// `max_age`, a value older than that many seconds is rejected (an age of
    /// exactly `max_age` is accepted, as in itsdangerous and Django). A
    /// timestamp in the future is always rejected, except by the Django
    /// codec (Django accepts one).
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
        let (raw, _) = self.verify(value, now, max_age, 0)?;
        match self.format {
            Format::Django => parse_payload(latin1_as_utf8(raw).as_bytes()),
            Format::Flask | Format::Quart | Format::Starlette | Format::Encrypted => {
                parse_payload(&raw)
            }
        }
    }

    /// Verifies `value` and returns its session losslessly: every value as
    /// the writer wrote it, whatever `serde_json` can hold (integers beyond
    /// 64 bits, `NaN`, lone surrogates), with its timestamp. What the layer
    /// reads, for tools built on the codec; [`Codec::decode`] gives a
    /// `serde_json::Map` and refuses what one cannot hold.
    ///
    /// # Errors
    ///
    /// As [`Codec::decode`], except for values a `Map` cannot hold.
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// // Flask's cookie for `{"big": 2**64}`.
    /// let codec = Codec::new(Key::new("secret").unwrap());
    /// let cookie = "eyJiaWciOjE4NDQ2NzQ0MDczNzA5NTUxNjE2fQ.ZVPxAA.M5jaVvWZbTIdoSBRZCwnHjk8BGE";
    /// assert!(codec.decode(cookie, 1_700_000_000, None).is_err());
    /// let session = codec.decode_lossless(cookie, 1_700_000_000, None).unwrap();
    /// assert_eq!(session.get_json("big"), Some("18446744073709551616"));
    /// ```
    pub fn decode_lossless(
        &self,
        value: &str,
        now: u64,
        max_age: Option<u64>,
    ) -> Result<RawSession, DecodeError> {
        let verified = self.verified(value, now, max_age, 0)?;
        let map = raw::RawMap::parse(verified.payload, self.format)?;
        Ok(RawSession::new(
            map,
            self.format,
            verified.timestamp,
            verified.compressed,
        ))
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
        skew: u64,
    ) -> Result<(Vec<u8>, u64), DecodeError> {
        self.verified(value, now, max_age, skew)
            .map(|v| (v.payload, v.timestamp))
    }

    fn verified(
        &self,
        value: &str,
        now: u64,
        max_age: Option<u64>,
        skew: u64,
    ) -> Result<Verified, DecodeError> {
        use DecodeErrorKind::{BadPayload, BadSignature, Malformed};
        if let Some(sealer) = &self.sealer {
            let opened = sealer.open(&self.context, value)?;
            self.check_age(opened.timestamp, now, max_age, skew)?;
            let payload = if opened.deflated {
                compress::decompress(&opened.payload).ok_or(DecodeError::new(
                    BadPayload,
                    "payload is not a valid zlib stream",
                ))?
            } else {
                opened.payload
            };
            return Ok(Verified {
                payload,
                timestamp: opened.timestamp,
                compressed: opened.deflated,
            });
        }
        let separator = self.format.separator();
        // Split from the right: a compressed payload itself starts with '.'.
        let (signed, sig_text) = value
            .rsplit_once(separator)
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
            .rsplit_once(separator)
            .ok_or(DecodeError::new(Malformed, "timestamp missing"))?;
        let ts = match self.format {
            Format::Django => encoding::base62_decode(ts_text),
            Format::Flask | Format::Quart | Format::Starlette | Format::Encrypted => {
                encoding::timestamp_decode(ts_text)
            }
        }
        .ok_or(DecodeError::new(Malformed, "malformed timestamp"))?;
        self.check_age(ts, now, max_age, skew)?;
        let (compressed, payload) = match payload.strip_prefix('.') {
            Some(rest) if self.format.compresses() => (true, rest),
            _ => (false, payload),
        };
        let bytes = match self.format {
            Format::Starlette => encoding::std_b64_decode(payload),
            Format::Flask | Format::Quart | Format::Django | Format::Encrypted => {
                encoding::b64_decode(payload)
            }
        }
        .ok_or(DecodeError::new(BadPayload, "payload is not base64"))?;
        let raw = if compressed {
            compress::decompress(&bytes).ok_or(DecodeError::new(
                BadPayload,
                "payload is not a valid zlib stream",
            ))?
        } else {
            bytes
        };
        Ok(Verified {
            payload: raw,
            timestamp: ts,
            compressed,
        })
    }
}

/// A value whose signature (or tag) verified.
struct Verified {
    /// The payload, inflated.
    payload: Vec<u8>,
    timestamp: u64,
    compressed: bool,
}

impl Codec {
    /// Whether a value signed at `ts` is still good at `now`: the
    /// framework's age rules (see [`Codec::decode`]), with timestamps up to
    /// `skew` seconds in the future accepted.
    pub(crate) fn check_age(
        &self,
        ts: u64,
        now: u64,
        max_age: Option<u64>,
        skew: u64,
    ) -> Result<(), DecodeError> {
        use DecodeErrorKind::Expired;
        if ts > now {
            return if self.format.rejects_future() && ts - now > skew {
                Err(DecodeError::new(Expired, "timestamp is in the future"))
            } else {
                // Django, or within the skew: a negative age is never past
                // max_age.
                Ok(())
            };
        }
        if max_age.is_some_and(|max| now - ts > max) {
            return Err(DecodeError::new(Expired, "older than max_age"));
        }
        Ok(())
    }
}

impl Codec {
    /// The signed timestamp as `token`'s text states it, **unverified**:
    /// only for decisions that are safe on forged input (whether a refresh
    /// is due).
    pub(crate) fn timestamp_unverified(&self, token: &[u8]) -> Option<u64> {
        let separator = u8::try_from(self.format.separator()).ok()?;
        let mut parts = token.rsplitn(3, |b| *b == separator);
        let (_sig, ts) = (parts.next()?, parts.next()?);
        parts.next()?;
        let ts = std::str::from_utf8(ts).ok()?;
        match self.format {
            Format::Django => encoding::base62_decode(ts),
            Format::Flask | Format::Quart | Format::Starlette | Format::Encrypted => {
                encoding::timestamp_decode(ts)
            }
        }
    }
}

/// Django reads the payload as Latin-1 (it writes ASCII only): a byte
/// beyond ASCII is the code point of the same number.
pub(crate) fn latin1_as_utf8(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) if text.is_ascii() => text,
        Ok(text) => text.bytes().map(char::from).collect(),
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
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
            .field("format", &self.format)
            .field("sealer", &self.sealer)
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
