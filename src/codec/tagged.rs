//! Flask's tagged JSON (`flask/json/tag.py`) on top of `serde_json::Value`.
//!
//! Sessions are stored in their tagged (wire) form so untouched values go
//! back to Flask unchanged. Handlers read a *natural* view: a tuple is an
//! array, bytes are an array of integers, a UUID is its hyphenated string, a
//! datetime is an RFC 3339 string and Markup is its string.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub(crate) const DICT: &str = " di";
pub(crate) const TUPLE: &str = " t";
pub(crate) const BYTES: &str = " b";
pub(crate) const MARKUP: &str = " m";
pub(crate) const UUID: &str = " u";
pub(crate) const DATETIME: &str = " d";

/// Every key Flask's `TaggedJSONSerializer` registers.
const TAGS: [&str; 6] = [DICT, TUPLE, BYTES, MARKUP, UUID, DATETIME];

pub(crate) fn is_tag(key: &str) -> bool {
    TAGS.contains(&key)
}

fn single_entry(map: &Map<String, Value>) -> Option<(&String, &Value)> {
    let mut it = map.iter();
    match (it.next(), it.next()) {
        (Some(entry), None) => Some(entry),
        _ => None,
    }
}

/// The natural view of a tagged value, untagged bottom-up like Flask's
/// `_untag_scan`. A malformed tagged value is returned as written rather
/// than dropped.
pub(crate) fn untag(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(untag).collect()),
        Value::Object(map) => {
            let inner: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), untag(v))).collect();
            match single_entry(&inner) {
                Some((key, payload)) if is_tag(key) => {
                    untag_one(key, payload).unwrap_or(Value::Object(inner))
                }
                _ => Value::Object(inner),
            }
        }
        other => other.clone(),
    }
}

fn untag_one(tag: &str, payload: &Value) -> Option<Value> {
    Some(match (tag, payload) {
        (TUPLE, Value::Array(_)) | (MARKUP, Value::String(_)) => payload.clone(),
        (BYTES, Value::String(b64)) => Value::Array(
            STANDARD
                .decode(b64)
                .ok()?
                .into_iter()
                .map(Value::from)
                .collect(),
        ),
        (UUID, Value::String(hex)) => Value::String(hyphenate_uuid(hex)?),
        // Flask's parse_date gives None for junk rather than failing.
        (DATETIME, Value::String(date)) => {
            http_date_to_rfc3339(date).map_or(Value::Null, Value::String)
        }
        (DICT, Value::Object(inner)) => {
            let (key, value) = single_entry(inner)?;
            // TagDict.to_python strips the last two characters, whatever they are.
            let keep = key.char_indices().rev().nth(1).map_or(0, |(i, _)| i);
            let mut map = Map::new();
            map.insert(key[..keep].to_owned(), value.clone());
            Value::Object(map)
        }
        _ => return None,
    })
}

fn hyphenate_uuid(hex: &str) -> Option<String> {
    let hex = hex.to_ascii_lowercase();
    let simple: String = hex.chars().filter(|c| *c != '-').collect();
    if simple.len() != 32 || !simple.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}-{}-{}",
        &simple[..8],
        &simple[8..12],
        &simple[12..16],
        &simple[16..20],
        &simple[20..]
    ))
}

const HTTP_DATE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// `werkzeug.http.http_date`: `Thu, 29 Feb 2024 18:59:59 GMT`.
pub(crate) fn http_date(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(HTTP_DATE)
        .ok()
}

fn http_date_to_rfc3339(date: &str) -> Option<String> {
    let parsed = time::PrimitiveDateTime::parse(date.trim(), HTTP_DATE)
        .map(time::PrimitiveDateTime::assume_utc)
        .ok()
        .or_else(|| {
            let t = httpdate::parse_http_date(date.trim()).ok()?;
            let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
            OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()
        })?;
    parsed.format(&Rfc3339).ok()
}

/// `2024-02-29T18:59:59Z`: the natural form of a Flask datetime.
pub(crate) fn unix_to_rfc3339(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

pub(crate) fn rfc3339_to_unix(text: &str) -> Option<i64> {
    Some(OffsetDateTime::parse(text, &Rfc3339).ok()?.unix_timestamp())
}

pub(crate) fn escape_dict(key: String, value: Value) -> Value {
    let mut inner = Map::new();
    inner.insert(key + "__", value);
    let mut outer = Map::new();
    outer.insert(DICT.to_owned(), Value::Object(inner));
    Value::Object(outer)
}

/// The session as Flask writes it: a session whose only key is a tag name
/// is itself escaped.
pub(crate) fn wrap_top_level(map: &Map<String, Value>) -> Option<Map<String, Value>> {
    let (key, value) = single_entry(map)?;
    if !is_tag(key) {
        return None;
    }
    match escape_dict(key.clone(), value.clone()) {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Reverses [`wrap_top_level`] on a decoded session.
pub(crate) fn unwrap_top_level(map: Map<String, Value>) -> Map<String, Value> {
    let is_escaped = matches!(single_entry(&map), Some((k, Value::Object(inner))) if k == DICT && inner.len() == 1);
    if !is_escaped {
        return map;
    }
    match untag_one(DICT, &map[DICT]) {
        Some(Value::Object(m)) => m,
        _ => map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn untags_every_flask_type() {
        let wire = json!({
            "t": {" t": [1, "a", null]},
            "b": {" b": "AAH+/w=="},
            "m": {" m": "<b>x</b>"},
            "u": {" u": "12345678123456781234567812345678"},
            "d": {" d": "Thu, 29 Feb 2024 18:59:59 GMT"},
            "e": {" di": {" t__": {" t": [1, 2]}}},
            "f": [{" t": ["message", "Hello"]}],
            "two": {" b": 2, " t": 1},
            "junk_date": {" d": "yesterday"},
        });
        assert_eq!(
            untag(&wire),
            json!({
                "t": [1, "a", null],
                "b": [0, 1, 254, 255],
                "m": "<b>x</b>",
                "u": "12345678-1234-5678-1234-567812345678",
                "d": "2024-02-29T18:59:59Z",
                "e": {" t": [1, 2]},
                "f": [["message", "Hello"]],
                "two": {" b": 2, " t": 1},
                "junk_date": null,
            })
        );
    }

    #[test]
    fn malformed_tags_are_kept_as_written() {
        let wire = json!({" u": "not-a-uuid"});
        assert_eq!(untag(&wire), wire);
    }

    #[test]
    fn top_level_escape_round_trips() {
        let session = json!({" u": "x"}).as_object().unwrap().clone();
        let wire = wrap_top_level(&session).unwrap();
        assert_eq!(Value::Object(wire.clone()), json!({" di": {" u__": "x"}}));
        assert_eq!(unwrap_top_level(wire), session);
    }

    #[test]
    fn http_dates_match_werkzeug() {
        assert_eq!(
            http_date(1_709_233_199).unwrap(),
            "Thu, 29 Feb 2024 18:59:59 GMT"
        );
        assert_eq!(rfc3339_to_unix("2024-02-29T18:59:59Z"), Some(1_709_233_199));
    }
}
