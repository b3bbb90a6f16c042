//! Every public error type of the crate.

use std::fmt;

/// A configuration mistake, reported when a [`Key`](crate::Key), a
/// [`Codec`](crate::codec::Codec) or a [`SessionLayer`](crate::SessionLayer) is built.
///
/// ```
/// use tower_cookie_session::{ConfigError, Key};
///
/// let err = Key::new("").unwrap_err();
/// assert!(matches!(err, ConfigError::EmptyKey));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The secret key is empty.
    EmptyKey,
    /// The cookie name is not an RFC 9110 token (it is empty, or holds a space, `:`, `;`, `=`…).
    InvalidCookieName {
        /// The rejected name.
        name: String,
    },
    /// The cookie domain is malformed.
    InvalidDomain {
        /// The rejected domain.
        domain: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The cookie path is malformed.
    InvalidPath {
        /// The rejected path.
        path: String,
    },
    /// A `__Host-` cookie must be `Secure`, have `Path=/` and no `Domain`
    /// (browsers refuse it otherwise; the prefix is matched
    /// case-insensitively, as RFC 6265bis does).
    HostPrefix {
        /// The cookie name.
        name: String,
    },
    /// A `__Secure-` cookie must be `Secure`.
    SecurePrefix {
        /// The cookie name.
        name: String,
    },
    /// `Partitioned` (CHIPS) cookies must be `Secure`.
    PartitionedNotSecure,
    /// `SameSite=None` cookies must be `Secure`.
    SameSiteNoneNotSecure,
    /// Chromium caps the cookies of one partition at 10 KiB in all: a
    /// `Partitioned` layer's budget must fit.
    PartitionedBudget {
        /// The configured `with_max_total_bytes`.
        max_total_bytes: usize,
        /// 10 240.
        limit: usize,
    },
    /// `with_max_cookie_bytes` lets a cookie's name and value exceed the
    /// 4096 bytes browsers store: they would silently drop it.
    CookieTooLarge {
        /// The configured `with_max_cookie_bytes`.
        max_cookie_bytes: usize,
        /// The largest value that keeps name and value within 4096 bytes.
        limit: usize,
    },
    /// `with_max_chunks` must be 1 to 99 (chunk names stay two digits).
    ChunkCount {
        /// The configured count.
        chunks: usize,
    },
    /// A duration option is out of range.
    InvalidDuration {
        /// The builder, e.g. `"with_max_age"`.
        option: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyKey => f.write_str("the secret key is empty"),
            Self::InvalidCookieName { name } => write!(
                f,
                "cookie name {name:?} is not a valid token (letters, digits and !#$%&'*+-.^_`|~ only)"
            ),
            Self::InvalidDomain { domain, reason } => {
                write!(f, "cookie domain {domain:?} is invalid: {reason}")
            }
            Self::InvalidPath { path } => write!(
                f,
                "cookie path {path:?} is invalid: it must start with '/' and hold no control characters or ';'"
            ),
            Self::HostPrefix { name } => write!(
                f,
                "cookie {name:?} has the __Host- prefix, which browsers accept only with Secure, Path=/ and no Domain"
            ),
            Self::SecurePrefix { name } => write!(
                f,
                "cookie {name:?} has the __Secure- prefix, which browsers accept only with Secure"
            ),
            Self::PartitionedNotSecure => {
                f.write_str("a Partitioned cookie must also be Secure: call with_secure(true)")
            }
            Self::SameSiteNoneNotSecure => {
                f.write_str("SameSite=None cookies must also be Secure: call with_secure(true)")
            }
            Self::PartitionedBudget {
                max_total_bytes,
                limit,
            } => write!(
                f,
                "a Partitioned cookie set may hold at most {limit} bytes in Chromium; \
                 with_max_total_bytes({max_total_bytes}) exceeds it"
            ),
            Self::CookieTooLarge {
                max_cookie_bytes,
                limit,
            } => write!(
                f,
                "with_max_cookie_bytes({max_cookie_bytes}) lets a cookie's name and value exceed the \
                 4096 bytes browsers store, and they would drop it; at most {limit} with these attributes"
            ),
            Self::ChunkCount { chunks } => write!(
                f,
                "with_max_chunks({chunks}) is out of range: 1 to 99 chunk cookies"
            ),
            Self::InvalidDuration { option, reason } => write!(f, "{option}: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why a cookie value was rejected by [`Codec::decode`](crate::codec::Codec::decode).
///
/// The reason is kept for logs and tests; the middleware turns every one of
/// them into an empty session, as Flask does.
///
/// ```
/// use tower_cookie_session::codec::{Codec, DecodeErrorKind, Key};
///
/// let codec = Codec::new(Key::new("secret").unwrap());
/// let err = codec.decode("no-dots-here", 0, None).unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::Malformed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    detail: &'static str,
}

/// The class of a [`DecodeError`].
///
/// ```
/// use tower_cookie_session::codec::{Codec, DecodeErrorKind, Key};
///
/// let codec = Codec::new(Key::new("k").unwrap());
/// let kind = codec.decode("a.b.c", 0, None).unwrap_err().kind();
/// assert!(matches!(kind, DecodeErrorKind::Malformed | DecodeErrorKind::BadSignature));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The value is not `payload.timestamp.signature` in strict URL-safe base64.
    Malformed,
    /// No configured key produced this signature: a wrong key or salt, or tampering.
    BadSignature,
    /// The signature is valid but older than `max_age`, or dated in the future.
    Expired,
    /// The signature is valid but the payload is not zlib, UTF-8, JSON or an object.
    BadPayload,
}

impl DecodeError {
    pub(crate) const fn new(kind: DecodeErrorKind, detail: &'static str) -> Self {
        Self { kind, detail }
    }

    /// The class of failure.
    #[must_use]
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            DecodeErrorKind::Malformed => "malformed session cookie",
            DecodeErrorKind::BadSignature => "bad session cookie signature",
            DecodeErrorKind::Expired => "expired session cookie",
            DecodeErrorKind::BadPayload => "undecodable session payload",
        };
        write!(f, "{kind}: {}", self.detail)
    }
}

impl std::error::Error for DecodeError {}

/// A value could not be converted to or from the session's JSON.
///
/// Returned by [`Session::get`](crate::Session::get) and
/// [`Session::insert`](crate::Session::insert).
///
/// ```
/// use tower_cookie_session::Session;
///
/// let session = Session::default();
/// session.insert("n", "not a number").unwrap();
/// assert!(session.get::<u32>("n").is_err());
/// ```
#[derive(Debug)]
pub struct Error {
    repr: Repr,
}

/// What an [`Error`] is about ([`Error::kind`]).
///
/// ```
/// use tower_cookie_session::{ErrorKind, Session};
///
/// let session = Session::default();
/// session.insert("n", "text").unwrap();
/// assert_eq!(session.get::<u32>("n").unwrap_err().kind(), ErrorKind::Deserialize);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value could not be stored as JSON (a map with non-string keys, a
    /// `flask::` wrapper under a format without tags, a serializer error).
    Serialize,
    /// A stored value is not of the requested type.
    Deserialize,
    /// A value nests deeper than a cookie can carry back.
    TooDeep,
}

#[derive(Debug)]
enum Repr {
    /// Serializing an inserted value failed (a map with non-string keys…).
    Serialize(serde_json::Error),
    /// A stored value is not a `target`. serde's message is not kept: it
    /// quotes the stored value, which may be a secret a log must not show.
    Deserialize { key: String, target: &'static str },
    /// The value nests deeper than a cookie can carry back.
    TooDeep { key: String, limit: usize },
}

impl Error {
    pub(crate) fn serialize(inner: serde_json::Error) -> Self {
        Self {
            repr: Repr::Serialize(inner),
        }
    }

    pub(crate) fn deserialize(key: &str, target: &'static str) -> Self {
        Self {
            repr: Repr::Deserialize {
                key: key.to_owned(),
                target,
            },
        }
    }

    pub(crate) fn too_deep(key: &str, limit: usize) -> Self {
        Self {
            repr: Repr::TooDeep {
                key: key.to_owned(),
                limit,
            },
        }
    }

    /// What went wrong, for a caller that handles kinds differently.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self.repr {
            Repr::Serialize(_) => ErrorKind::Serialize,
            Repr::Deserialize { .. } => ErrorKind::Deserialize,
            Repr::TooDeep { .. } => ErrorKind::TooDeep,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Serialize(e) => write!(f, "session value cannot be stored as JSON: {e}"),
            Repr::Deserialize { key, target } => {
                write!(f, "session value under {key:?} is not a {target}")
            }
            Repr::TooDeep { key, limit } => write!(
                f,
                "session value under {key:?} nests deeper than {limit} levels, which the cookie could not be read back with"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            Repr::Serialize(e) => Some(e),
            _ => None,
        }
    }
}

/// The session could not be written because it exceeds the cookie budget.
///
/// Returned by [`Session::encoded_len`](crate::Session::encoded_len) checks and
/// attached to the 500 response the layer sends instead of a cookie a browser
/// would drop. See the crate docs, "Large sessions".
///
/// ```
/// use tower_cookie_session::Session;
///
/// let session = Session::default();
/// let noise: Vec<u64> = (0..4000u64).map(|i| i.wrapping_mul(2_654_435_761) % 1_000_003).collect();
/// session.insert("noise", noise).unwrap();
/// let too_large = session.encoded_len().unwrap_err();
/// assert!(too_large.needed() > too_large.allowed());
/// assert_eq!(too_large.allowed(), 7168);
/// assert!(too_large.chunks() >= 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTooLarge {
    pub(crate) needed: usize,
    pub(crate) allowed: usize,
    pub(crate) chunks: usize,
    /// The limit broken is the JSON size, not the cookie budget.
    pub(crate) payload: bool,
}

impl SessionTooLarge {
    /// Over [`MAX_PAYLOAD_BYTES`](crate::codec::MAX_PAYLOAD_BYTES) of JSON:
    /// however small it compresses, no reader would take it back.
    pub(crate) fn payload(json_len: usize, limit: usize) -> Self {
        Self {
            needed: json_len,
            allowed: limit,
            chunks: 0,
            payload: true,
        }
    }

    /// Bytes the session's cookies would add to the request `Cookie` line;
    /// when [`exceeds_payload_limit`](Self::exceeds_payload_limit), the
    /// bytes of its JSON.
    #[must_use]
    pub fn needed(&self) -> usize {
        self.needed
    }

    /// The configured budget in the same unit; when
    /// [`exceeds_payload_limit`](Self::exceeds_payload_limit),
    /// [`MAX_PAYLOAD_BYTES`](crate::codec::MAX_PAYLOAD_BYTES).
    #[must_use]
    pub fn allowed(&self) -> usize {
        self.allowed
    }

    /// Whether the session's JSON is over
    /// [`MAX_PAYLOAD_BYTES`](crate::codec::MAX_PAYLOAD_BYTES), the most any
    /// reader of this crate inflates, rather than its cookies over the
    /// budget: even a session that deflates into one small cookie is
    /// refused then, or the next request would read it as empty.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.insert("zeros", "0".repeat(2 << 20)).unwrap();
    /// let too_large = session.encoded_len().unwrap_err();
    /// assert!(too_large.exceeds_payload_limit());
    /// assert_eq!(too_large.allowed(), 1 << 20);
    /// ```
    #[must_use]
    pub fn exceeds_payload_limit(&self) -> bool {
        self.payload
    }

    /// How many chunk cookies the session would need.
    #[must_use]
    pub fn chunks(&self) -> usize {
        self.chunks
    }
}

impl fmt::Display for SessionTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.payload {
            return write!(
                f,
                "session too large: its JSON is {} bytes, over the {} bytes a reader inflates (codec::MAX_PAYLOAD_BYTES)",
                self.needed, self.allowed
            );
        }
        write!(
            f,
            "session too large: its cookies need {} bytes in {} chunk(s) but the budget allows {} bytes",
            self.needed, self.chunks, self.allowed
        )
    }
}

impl std::error::Error for SessionTooLarge {}

/// The request has no [`Session`](crate::Session): the [`SessionLayer`](crate::SessionLayer)
/// is not installed on this route.
///
/// With the `axum` feature it is the extractor's rejection: a `500` whose
/// body names the missing layer.
///
/// ```
/// use tower_cookie_session::MissingSession;
///
/// assert!(MissingSession.to_string().contains("SessionLayer"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MissingSession;

impl fmt::Display for MissingSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no session in the request extensions: is `SessionLayer` installed on this route?",
        )
    }
}

impl std::error::Error for MissingSession {}
