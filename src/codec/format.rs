//! Which Python framework's cookie a codec speaks.

use super::json::Style;

/// The frameworks whose session cookies this crate reads and writes.
///
/// | | Flask | Quart | Starlette / FastAPI | Django `signed_cookies` |
/// |---|---|---|---|---|
/// | payload | tagged JSON, keys sorted, compact | as Flask, insertion order | `json.dumps` (`", "`, `": "`), insertion order | compact, insertion order |
/// | encoding | zlib if 2 bytes shorter (`.` prefix), base64url | as Flask | standard base64 with `=` padding, never compressed | as Flask |
/// | separator | `.` | `.` | `.` | `:` |
/// | timestamp | base64url of its bytes | as Flask | as Flask | base62 |
/// | signature | HMAC-SHA1, key `HMAC(secret, salt)` | as Flask | HMAC-SHA1, key `SHA1(salt + "signer" + secret)` | HMAC-SHA256, key `SHA256(salt + "signer" + secret)` |
/// | future timestamps | rejected | rejected | rejected | accepted |
///
/// Quart reuses Flask's serializer, which sorts keys only inside a Flask
/// app context: under Quart, keys keep insertion order. Each reads the
/// other's cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Flask,
    Quart,
    Starlette,
    Django,
    /// This crate's own encrypted format (`sealed.rs`): no Python peer.
    Encrypted,
}

impl Format {
    /// How the payload's JSON is laid out.
    pub(crate) fn style(self) -> Style {
        match self {
            Self::Flask => Style::FLASK,
            Self::Quart => Style::QUART,
            Self::Starlette => Style::STARLETTE,
            Self::Django | Self::Encrypted => Style::DJANGO,
        }
    }

    /// Whether values carry Flask's tags (` t`, ` b`, ` di`…).
    pub(crate) fn tagged(self) -> bool {
        matches!(self, Self::Flask | Self::Quart)
    }

    /// The separator between payload, timestamp and signature.
    pub(crate) fn separator(self) -> char {
        match self {
            Self::Flask | Self::Quart | Self::Starlette => '.',
            Self::Django => ':',
            // Unused: an encrypted token is one base64url string.
            Self::Encrypted => '.',
        }
    }

    /// itsdangerous rejects a timestamp in the future; Django does not.
    pub(crate) fn rejects_future(self) -> bool {
        self != Self::Django
    }

    /// Whether the format has a compressed form (Starlette's has none).
    pub(crate) fn compresses(self) -> bool {
        self != Self::Starlette
    }
}
