//! What the layer does with large sessions: when it deflates them, and
//! what it answers when one exceeds the budget.

use crate::codec::Deflate;

/// What the layer does with a session that exceeds its byte budget.
///
/// Either way nothing is written, so the client keeps its previous, still
/// valid cookies, and a `tracing` error names the needed and allowed bytes.
///
/// ```
/// use tower_cookie_session::{Key, OversizePolicy, SessionLayer};
///
/// let layer = SessionLayer::new(Key::generate()).with_oversize_policy(OversizePolicy::PassThrough);
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OversizePolicy {
    /// Replace the handler's response by an empty `500 Internal Server Error`
    /// carrying the [`SessionTooLarge`](crate::SessionTooLarge) in its extensions.
    #[default]
    ServerError,
    /// Send the handler's response unchanged, without the session's cookies.
    PassThrough,
}

/// When the layer deflates the session payload.
///
/// Flask reads the cookie under every policy: it inflates any payload that
/// starts with `.`. [`Codec::encode`](crate::codec::Codec::encode) always
/// keeps Flask's rule.
///
/// ```
/// use tower_cookie_session::{Compression, Key, SessionLayer};
///
/// let layer = SessionLayer::new(Key::generate()).with_compression(Compression::Never);
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// Deflate payloads of at least [`Compression::AUTO_MIN_JSON_BYTES`] of
    /// JSON at level 1 (libdeflate), keeping the result when it is at least
    /// two bytes shorter. Below that size deflate saves a few bytes
    /// for several microseconds.
    #[default]
    Auto,
    /// Flask's rule: try every payload at level 6, keep it if two bytes
    /// shorter. The cookie is then byte-identical to the one Flask writes,
    /// at the price of a deflate attempt (~10 µs) on every write, even of a
    /// 100-byte session where it saves a few bytes or nothing.
    Flask,
    /// Never deflate: the fastest writes, the largest cookies.
    Never,
}

impl Compression {
    /// The JSON size from which [`Compression::Auto`] tries deflate.
    ///
    /// ```
    /// assert_eq!(tower_cookie_session::Compression::AUTO_MIN_JSON_BYTES, 1536);
    /// ```
    ///
    /// From
    /// here even random alphanumeric values shed about 450 bytes (30%), and
    /// typical sessions two thirds; below it, deflate's fixed cost (~7 µs
    /// per write) buys a few hundred bytes at most. Sessions large enough to
    /// need a second cookie are always above it.
    pub const AUTO_MIN_JSON_BYTES: usize = 1536;

    pub(crate) fn deflate(self, json_len: usize) -> Deflate {
        match self {
            Self::Auto if json_len >= Self::AUTO_MIN_JSON_BYTES => Deflate::Fast,
            Self::Flask => Deflate::Flask,
            Self::Auto | Self::Never => Deflate::Skip,
        }
    }
}
