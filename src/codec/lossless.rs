//! [`RawSession`]: a verified session exactly as its writer wrote it, for
//! tools built on the codec (inspectors, migration scripts).

use std::fmt;

use serde::de::DeserializeOwned;

use super::raw::RawMap;
use super::Format;
use crate::Error;

/// A verified session kept as the JSON text it arrived in, from
/// [`Codec::decode_lossless`](super::Codec::decode_lossless): nothing the
/// Python side wrote is lost, whatever `serde_json` could hold (integers
/// beyond 64 bits, `NaN`, `Infinity`, lone surrogates, any nesting). The
/// layer keeps sessions the same way.
///
/// `Debug` shows the keys and the timestamp, never a value (values can be
/// secrets).
///
/// ```
/// use tower_cookie_session::codec::{Codec, Key};
///
/// let codec = Codec::new(Key::new("secret").unwrap());
/// let cookie = codec.encode(serde_json::json!({"n": 1}).as_object().unwrap(), 1_700_000_000);
/// let session = codec.decode_lossless(&cookie, 1_700_000_000, None).unwrap();
/// assert_eq!(session.get::<u64>("n").unwrap(), Some(1));
/// assert_eq!(session.timestamp(), 1_700_000_000);
/// ```
#[derive(Clone)]
pub struct RawSession {
    map: RawMap,
    format: Format,
    timestamp: u64,
    compressed: bool,
}

impl RawSession {
    pub(crate) fn new(map: RawMap, format: Format, timestamp: u64, compressed: bool) -> Self {
        Self {
            map,
            format,
            timestamp,
            compressed,
        }
    }

    /// When the cookie was signed, in seconds since the Unix epoch.
    ///
    /// ```
    /// # use tower_cookie_session::codec::{Codec, Key};
    /// # let codec = Codec::django(Key::new("secret").unwrap());
    /// # let cookie = codec.encode(&serde_json::Map::new(), 1_700_000_000);
    /// let session = codec.decode_lossless(&cookie, 1_700_000_000, None).unwrap();
    /// assert_eq!(session.timestamp(), 1_700_000_000);
    /// ```
    #[must_use]
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// Whether the payload was deflated (a leading `.` in the signed
    /// formats, a flag in the encrypted one).
    ///
    /// ```
    /// # use tower_cookie_session::codec::{Codec, Key};
    /// let codec = Codec::new(Key::new("secret").unwrap());
    /// let cookie = codec.encode(serde_json::json!({"s": "x".repeat(500)}).as_object().unwrap(), 1_700_000_000);
    /// assert!(codec.decode_lossless(&cookie, 1_700_000_000, None).unwrap().is_compressed());
    /// ```
    #[must_use]
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// The value under `key`, deserialized from its natural form (Flask's
    /// tags removed, as [`Session::get`](crate::Session::get) reads it).
    ///
    /// # Errors
    ///
    /// If the stored value does not deserialize as `T` (a `u64` cannot
    /// hold `2**64`: read such a value with [`get_json`](Self::get_json)).
    ///
    /// ```
    /// # use tower_cookie_session::codec::{Codec, Key};
    /// # let codec = Codec::new(Key::new("secret").unwrap());
    /// # let cookie = codec.encode(serde_json::json!({"user": "ada"}).as_object().unwrap(), 1_700_000_000);
    /// let session = codec.decode_lossless(&cookie, 1_700_000_000, None).unwrap();
    /// assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("ada"));
    /// assert_eq!(session.get::<String>("missing").unwrap(), None);
    /// assert!(session.get::<u64>("user").is_err());
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.map.read(key, self.format.tagged())
    }

    /// The raw JSON text of `key`'s value, as the writer wrote it (Flask's
    /// tags included).
    ///
    /// ```
    /// # use tower_cookie_session::codec::{Codec, Key};
    /// # let codec = Codec::new(Key::new("secret").unwrap());
    /// # let cookie = codec.encode(serde_json::json!({"n": [1, 2]}).as_object().unwrap(), 1_700_000_000);
    /// let session = codec.decode_lossless(&cookie, 1_700_000_000, None).unwrap();
    /// assert_eq!(session.get_json("n"), Some("[1,2]"));
    /// ```
    #[must_use]
    pub fn get_json(&self, key: &str) -> Option<&str> {
        self.map.get_json(key)
    }

    /// `(key, raw JSON text)` of every member, in the order they arrived.
    /// A key holding a lone surrogate shows U+FFFD in its place here; its
    /// JSON in [`to_json`](Self::to_json) keeps it.
    ///
    /// ```
    /// # use tower_cookie_session::codec::{Codec, Key};
    /// # let codec = Codec::django(Key::new("secret").unwrap());
    /// # let cookie = codec.encode(serde_json::json!({"a": 1, "b": true}).as_object().unwrap(), 1_700_000_000);
    /// let session = codec.decode_lossless(&cookie, 1_700_000_000, None).unwrap();
    /// let members: Vec<_> = session.iter().collect();
    /// assert_eq!(members, [("a", "1"), ("b", "true")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter()
    }

    /// How many members the session holds.
    ///
    /// ```
    /// # use tower_cookie_session::codec::{Codec, Key};
    /// # let codec = Codec::new(Key::new("secret").unwrap());
    /// # let cookie = codec.encode(&serde_json::Map::new(), 1_700_000_000);
    /// let session = codec.decode_lossless(&cookie, 1_700_000_000, None).unwrap();
    /// assert_eq!(session.len(), 0);
    /// assert!(session.is_empty());
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the session holds no member.
    ///
    /// ```
    /// # use tower_cookie_session::codec::{Codec, Key};
    /// # let codec = Codec::new(Key::new("secret").unwrap());
    /// # let cookie = codec.encode(&serde_json::Map::new(), 1_700_000_000);
    /// assert!(codec.decode_lossless(&cookie, 1_700_000_000, None).unwrap().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The session's JSON as its framework writes it (Flask: keys sorted,
    /// compact; Starlette: with spaces; …), every untouched value byte for
    /// byte.
    ///
    /// ```
    /// use tower_cookie_session::codec::{Codec, Key};
    ///
    /// // A Flask cookie holding 2**64, as Python writes it.
    /// let codec = Codec::new(Key::new("secret").unwrap());
    /// let cookie = "eyJiaWciOjE4NDQ2NzQ0MDczNzA5NTUxNjE2fQ.ZVPxAA.M5jaVvWZbTIdoSBRZCwnHjk8BGE";
    /// let session = codec.decode_lossless(cookie, 1_700_000_000, None).unwrap();
    /// assert_eq!(session.to_json(), r#"{"big":18446744073709551616}"#);
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.map.write(self.format, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl fmt::Debug for RawSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSession")
            .field("keys", &self.map.keys().collect::<Vec<_>>())
            .field("timestamp", &self.timestamp)
            .field("compressed", &self.compressed)
            .finish()
    }
}
