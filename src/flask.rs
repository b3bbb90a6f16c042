//! Values that Flask reads back as Python types, and flashed messages.
//!
//! A Rust value inserted into the session becomes plain JSON: a Rust tuple or
//! `Vec<u8>` reaches Flask as a `list`. Wrap it to give Flask the type it
//! expects: [`Tuple`], [`Bytes`], [`Markup`], [`Uuid`], [`DateTime`]. Each
//! wrapper also reads back from the session, so code can use one type both
//! ways.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use tower_cookie_session::{flask, Session};
//!
//! let session = Session::default();
//! session.insert("pair", flask::Tuple((1, "a"))).unwrap();
//! session.insert("raw", flask::Bytes(vec![0, 255])).unwrap();
//! session.insert("when", flask::DateTime(UNIX_EPOCH + Duration::from_secs(1_709_233_199))).unwrap();
//!
//! // What Flask finds in the cookie:
//! let wire = serde_json::Value::Object(session.to_tagged());
//! assert_eq!(wire["pair"], serde_json::json!({" t": [1, "a"]}));
//! assert_eq!(wire["raw"], serde_json::json!({" b": "AP8="}));
//! assert_eq!(wire["when"], serde_json::json!({" d": "Thu, 29 Feb 2024 18:59:59 GMT"}));
//!
//! // What Rust reads back:
//! assert_eq!(session.get::<(u8, String)>("pair").unwrap(), Some((1, "a".to_owned())));
//! assert_eq!(session.get::<flask::Bytes>("raw").unwrap(), Some(flask::Bytes(vec![0, 255])));
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{Deserialize, Deserializer, Error as _};
use serde::ser::{Serialize, Serializer};

use crate::codec::tagged;
use crate::codec::tagging::{BYTES_NAME, DATETIME_NAME, MARKUP_NAME, TUPLE_NAME, UUID_NAME};
use crate::{Error, Session};

/// Each wrapper serializes as a newtype struct under a private name whose
/// inner value is its plain form: `serde_json` and every other serializer
/// write the plain value; only the session's own serializer writes the tag.
fn serialize_wrapped<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    name: &'static str,
    plain: &T,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_newtype_struct(name, plain)
}

/// A Python `tuple`. Flask's flashed messages are `(category, message)` tuples.
///
/// ```
/// use tower_cookie_session::{flask, Session};
///
/// let session = Session::default();
/// session.insert("point", flask::Tuple([3, 4])).unwrap();
/// assert_eq!(session.get::<flask::Tuple<Vec<i32>>>("point").unwrap(), Some(flask::Tuple(vec![3, 4])));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple<T>(pub T);

impl<T: Serialize> Serialize for Tuple<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_wrapped(serializer, TUPLE_NAME, &self.0)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tuple<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

/// Python `bytes`.
///
/// ```
/// use tower_cookie_session::{flask, Session};
///
/// let session = Session::default();
/// session.insert("b", flask::Bytes(b"\x00\x01".to_vec())).unwrap();
/// assert_eq!(session.get::<Vec<u8>>("b").unwrap(), Some(vec![0, 1]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_wrapped(serializer, BYTES_NAME, &self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<u8>::deserialize(deserializer).map(Self)
    }
}

/// `markupsafe.Markup`: HTML that Jinja renders without escaping.
///
/// Only wrap trusted HTML; Flask will not escape it.
///
/// ```
/// use tower_cookie_session::{flask, Session};
///
/// let session = Session::default();
/// session.insert("banner", flask::Markup("<b>hi</b>".into())).unwrap();
/// assert_eq!(session.get::<String>("banner").unwrap().as_deref(), Some("<b>hi</b>"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Markup(pub String);

impl Serialize for Markup {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_wrapped(serializer, MARKUP_NAME, &self.0)
    }
}

impl<'de> Deserialize<'de> for Markup {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// `uuid.UUID`, as its 128-bit value (`uuid::Uuid::as_u128` / `from_u128`).
///
/// It reads back from the hyphenated string form that the `uuid` crate parses.
///
/// ```
/// use tower_cookie_session::{flask, Session};
///
/// let session = Session::default();
/// session.insert("id", flask::Uuid(0x12345678_1234_5678_1234_567812345678)).unwrap();
/// assert_eq!(
///     session.get::<String>("id").unwrap().as_deref(),
///     Some("12345678-1234-5678-1234-567812345678")
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Uuid(pub u128);

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let hex = format!("{:032x}", self.0);
        let hyphenated = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        serialize_wrapped(serializer, UUID_NAME, &hyphenated)
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return Err(D::Error::custom("a UUID has 32 hex digits"));
        }
        u128::from_str_radix(&hex, 16)
            .map(Self)
            .map_err(D::Error::custom)
    }
}

/// `datetime.datetime`, in UTC to the second (Flask drops sub-seconds).
///
/// It reads back from the RFC 3339 form (`2024-02-29T18:59:59Z`).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tower_cookie_session::{flask, Session};
///
/// let when = UNIX_EPOCH + Duration::from_secs(1_709_233_199);
/// let session = Session::default();
/// session.insert("when", flask::DateTime(when)).unwrap();
/// assert_eq!(session.get::<String>("when").unwrap().as_deref(), Some("2024-02-29T18:59:59Z"));
/// assert_eq!(session.get::<flask::DateTime>("when").unwrap(), Some(flask::DateTime(when)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime(pub SystemTime);

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let secs = match self.0.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            // Round towards the past, as Python's datetime does before the epoch.
            Err(e) => -i64::try_from(e.duration().as_secs_f64().ceil() as u64).unwrap_or(i64::MAX),
        };
        let date = tagged::unix_to_rfc3339(secs)
            .ok_or_else(|| serde::ser::Error::custom("date out of range"))?;
        serialize_wrapped(serializer, DATETIME_NAME, &date)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let secs = tagged::rfc3339_to_unix(&text)
            .ok_or_else(|| D::Error::custom("not an RFC 3339 date"))?;
        let time = if secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        };
        Ok(Self(time))
    }
}

const FLASHES: &str = "_flashes";

/// `flask.flash(message, category)`: queues a message for the next page,
/// on either side of a mixed Flask/Rust deployment. The arguments come in
/// Flask's order, message first; Flask's default category is `"message"`.
///
/// # Errors
///
/// If the session's `_flashes` holds something other than a list of pairs.
///
/// ```
/// use tower_cookie_session::{flask, Session};
///
/// let session = Session::default();
/// flask::flash(&session, "Welcome back", "message").unwrap();
/// assert_eq!(flask::take_flashes(&session), vec![("message".to_owned(), "Welcome back".to_owned())]);
/// assert!(flask::take_flashes(&session).is_empty());
/// ```
pub fn flash(session: &Session, message: &str, category: &str) -> Result<(), Error> {
    let mut flashes: Vec<Tuple<(String, String)>> = session.get(FLASHES)?.unwrap_or_default();
    flashes.push(Tuple((category.to_owned(), message.to_owned())));
    session.insert(FLASHES, flashes)
}

/// `get_flashed_messages(with_categories=True)`: removes and returns the
/// queued `(category, message)` pairs. Entries that are not pairs of
/// strings are dropped from the result (and from the session, as in Flask).
///
/// ```
/// use tower_cookie_session::{flask, Session};
///
/// assert!(flask::take_flashes(&Session::default()).is_empty());
/// ```
#[must_use]
pub fn take_flashes(session: &Session) -> Vec<(String, String)> {
    let Some(value) = session.remove(FLASHES) else {
        return Vec::new();
    };
    match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrappers_serialize_as_their_plain_value_outside_the_session() {
        let when = UNIX_EPOCH + Duration::from_secs(1_709_233_199);
        assert_eq!(serde_json::to_string(&Markup("x".into())).unwrap(), "\"x\"");
        assert_eq!(
            serde_json::to_string(&Tuple((1, "a"))).unwrap(),
            "[1,\"a\"]"
        );
        assert_eq!(
            serde_json::to_string(&Bytes(vec![0, 255])).unwrap(),
            "[0,255]"
        );
        assert_eq!(
            serde_json::to_string(&Uuid(0x1234_5678_1234_5678_1234_5678_1234_5678)).unwrap(),
            "\"12345678-1234-5678-1234-567812345678\""
        );
        assert_eq!(
            serde_json::to_string(&DateTime(when)).unwrap(),
            "\"2024-02-29T18:59:59Z\""
        );
        // And the plain value reads back as the wrapper.
        let uuid: Uuid = serde_json::from_str("\"12345678-1234-5678-1234-567812345678\"").unwrap();
        assert_eq!(uuid, Uuid(0x1234_5678_1234_5678_1234_5678_1234_5678));
        let date: DateTime = serde_json::from_str("\"2024-02-29T18:59:59Z\"").unwrap();
        assert_eq!(date, DateTime(when));
    }

    #[test]
    fn inside_the_session_they_are_flask_tags() {
        let session = Session::default();
        session.insert("m", Markup("<b>".into())).unwrap();
        session.insert("t", Tuple([1, 2])).unwrap();
        session.insert("b", Bytes(vec![0, 255])).unwrap();
        session.insert("u", Uuid(0xff)).unwrap();
        session
            .insert(
                "d",
                DateTime(UNIX_EPOCH + Duration::from_secs(1_709_233_199)),
            )
            .unwrap();
        session.insert("nested", json!({"x": [1]})).unwrap();
        session.insert("in_vec", vec![Markup("a".into())]).unwrap();
        assert_eq!(
            serde_json::Value::Object(session.to_tagged()),
            json!({
                "m": {" m": "<b>"},
                "t": {" t": [1, 2]},
                "b": {" b": "AP8="},
                "u": {" u": "000000000000000000000000000000ff"},
                "d": {" d": "Thu, 29 Feb 2024 18:59:59 GMT"},
                "nested": {"x": [1]},
                "in_vec": [{" m": "a"}],
            })
        );
    }

    #[test]
    fn client_json_never_becomes_a_tag() {
        // Whatever a client sends, stored as a value, is data to Flask: an
        // object shaped like a tag is escaped, and there is no marker to forge.
        let session = Session::default();
        for client in [
            json!({" m": "<script>alert(1)</script>"}),
            json!({"\u{0}tower-cookie-session-tag:00": {" m": "<script>"}}),
            json!({"\u{0}tower_cookie_session::flask::Markup": "<script>"}),
            json!([{" t": [1]}, {" b": "AA=="}]),
        ] {
            session.insert("c", &client).unwrap();
            assert_eq!(session.get_value("c"), Some(client.clone()));
            let wire = serde_json::to_string(&session.to_tagged()).unwrap();
            assert!(!wire.contains("{\" m\":\"<script"), "{wire}");
            assert!(!wire.contains("{\" t\":[1]}"), "{wire}");
        }
    }

    #[test]
    fn flash_takes_message_then_category() {
        let session = Session::default();
        flash(&session, "Saved", "info").unwrap();
        assert_eq!(
            take_flashes(&session),
            vec![("info".to_owned(), "Saved".to_owned())]
        );
    }
}
