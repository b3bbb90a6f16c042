//! The session as the verified JSON text it arrived as, plus an index of
//! its top-level members.
//!
//! Keys are decoded once; values stay raw text until a handler asks for one.
//! A value inserted by a handler is stored as the JSON text the codec will
//! write (Flask's exact bytes, tags and all). Writing the session copies
//! untouched values byte for byte: nothing a peer wrote is lost or
//! rewritten, whether or not `serde_json` could represent it.
//!
//! Members keep the order they arrived in (new keys last), as a Python
//! dict does; the Flask writer sorts them, as `json.dumps(sort_keys=True)`,
//! and the Starlette and Django writers keep that order.
//!
//! A map is parsed and written in one [`Format`]: "canonical" below means
//! "as that framework writes it".

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::json::{self, Style};
use super::scan::{self, Member};
use super::tagged::{self, DICT};
use super::Format;
use crate::{DecodeError, DecodeErrorKind};

/// Text that lives either in the payload (a byte range) or on its own.
#[derive(Debug, Clone)]
enum Text {
    Span(u32, u32),
    Owned(Arc<str>),
}

#[derive(Debug, Clone)]
struct Entry {
    /// The key, decoded.
    key: Text,
    /// The key's contents as they arrived, when they differ from `key`
    /// (escapes): written back as they were.
    key_json: Option<(u32, u32)>,
    /// The key's code points as Python holds them, when it has a lone
    /// surrogate (`key` then shows U+FFFD in its place): two such keys are
    /// two keys, compared and sorted as Python does, and no handler's key
    /// (a Rust `str`) is ever equal to one.
    lone: Option<Arc<[u32]>>,
    /// The value's JSON text.
    value: Text,
    /// The key, as it arrived, is how Flask writes it.
    key_canonical: bool,
    /// The value, as it arrived, is how Flask writes it (see
    /// [`Member::canonical`]); else it is rewritten in that form on save.
    canonical: bool,
}

/// A session: verified JSON text and the index of its members.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawMap {
    text: Option<Arc<String>>,
    entries: Vec<Entry>,
    /// Entries are in strictly increasing key order: binary search applies.
    sorted: bool,
}

fn span(range: std::ops::Range<usize>) -> Option<(u32, u32)> {
    Some((
        u32::try_from(range.start).ok()?,
        u32::try_from(range.end).ok()?,
    ))
}

fn bad(detail: &'static str) -> DecodeError {
    DecodeError::new(DecodeErrorKind::BadPayload, detail)
}

impl RawMap {
    /// Indexes a verified Flask payload (see [`RawMap::parse`]).
    #[cfg(any(test, fuzzing))]
    pub(crate) fn parse_flask(payload: Vec<u8>) -> Result<Self, DecodeError> {
        Self::parse(payload, Format::Flask)
    }

    /// Indexes a verified payload of `format`. A payload that is not an
    /// object, or that Flask would not read as a session (a top-level tag
    /// other than its dict escape), is a bad payload.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::BadPayload`].
    pub(crate) fn parse(payload: Vec<u8>, format: Format) -> Result<Self, DecodeError> {
        let text = match format {
            Format::Django => super::latin1_as_utf8(payload),
            Format::Flask | Format::Quart | Format::Starlette | Format::Encrypted => {
                String::from_utf8(payload).map_err(|_| bad("payload is not UTF-8"))?
            }
        };
        let members = scan::scan_object(text.as_bytes(), format.style())
            .map_err(|_| bad("not a JSON object"))?;
        let mut map = Self {
            entries: Vec::with_capacity(members.len()),
            text: None,
            sorted: true,
        };
        if let ([only], true) = (members.as_slice(), format.tagged()) {
            let key = Self::decode_key(&text, only);
            if tagged::is_tag(&key) {
                if key != DICT {
                    return Err(bad("a tagged value, not a dict, at the top level"));
                }
                // `{" di": {"<key>__": value}}`: a session whose one key looks like a tag.
                let inner_text = &text.as_bytes()[only.value.clone()];
                let inner = scan::scan_object(inner_text, Style::FLASK)
                    .ok()
                    .and_then(|m| m.into_iter().next())
                    .ok_or_else(|| bad("a malformed dict tag at the top level"))?;
                let offset = only.value.start;
                let shifted = Member {
                    key: inner.key.start + offset..inner.key.end + offset,
                    key_escaped: inner.key_escaped,
                    value: inner.value.start + offset..inner.value.end + offset,
                    key_canonical: inner.key_canonical,
                    canonical: inner.canonical,
                };
                let mut key = Self::decode_key(&text, &shifted);
                // TagDict.to_python drops the last two characters, whatever they are.
                let keep = key.char_indices().rev().nth(1).map_or(0, |(i, _)| i);
                key.truncate(keep);
                let value = span(shifted.value).ok_or_else(|| bad("payload too large"))?;
                map.entries.push(Entry {
                    key: Text::Owned(key.into()),
                    key_json: None,
                    lone: None,
                    value: Text::Span(value.0, value.1),
                    key_canonical: true,
                    canonical: shifted.canonical,
                });
                map.text = Some(Arc::new(text));
                return Ok(map);
            }
        }
        for member in &members {
            let value = span(member.value.clone()).ok_or_else(|| bad("payload too large"))?;
            let key_span = span(member.key.clone()).ok_or_else(|| bad("payload too large"))?;
            let (key, key_json, lone) = if member.key_escaped {
                let raw = &text[member.key.clone()];
                let lone = scan::lone_surrogate_code_points(raw).map(Arc::from);
                (
                    Text::Owned(scan::unescape(raw).into()),
                    Some(key_span),
                    lone,
                )
            } else {
                (Text::Span(key_span.0, key_span.1), None, None)
            };
            map.entries.push(Entry {
                key,
                key_json,
                lone,
                value: Text::Span(value.0, value.1),
                key_canonical: member.key_canonical,
                canonical: member.canonical,
            });
        }
        map.text = Some(Arc::new(text));
        map.sorted = map.is_strictly_sorted();
        if !map.sorted {
            map.dedup();
        }
        Ok(map)
    }

    fn decode_key(text: &str, member: &Member) -> String {
        let raw = &text[member.key.clone()];
        if member.key_escaped {
            scan::unescape(raw)
        } else {
            raw.to_owned()
        }
    }

    /// A session holding `map`'s values, already in tagged form.
    pub(crate) fn from_map(map: &Map<String, Value>) -> Self {
        let mut raw = Self {
            sorted: true,
            ..Self::default()
        };
        for (key, value) in map {
            let mut out = Vec::new();
            json::write_value(value, &mut out);
            raw.insert_json(key, into_string(out));
        }
        raw
    }

    fn text<'a>(&'a self, t: &'a Text) -> &'a str {
        match t {
            Text::Span(start, end) => self.span_text(*start, *end),
            Text::Owned(s) => s,
        }
    }

    fn span_text(&self, start: u32, end: u32) -> &str {
        self.text
            .as_deref()
            .and_then(|s| s.get(start as usize..end as usize))
            .unwrap_or_default()
    }

    fn key_of<'a>(&'a self, e: &'a Entry) -> &'a str {
        self.text(&e.key)
    }

    /// Python's order of two keys: by code point, lone surrogates included.
    fn key_cmp(&self, a: &Entry, b: &Entry) -> std::cmp::Ordering {
        match (&a.lone, &b.lone) {
            (None, None) => self.key_of(a).cmp(self.key_of(b)),
            _ => {
                let points = |e: &Entry| -> Vec<u32> {
                    e.lone.as_deref().map_or_else(
                        || self.key_of(e).chars().map(u32::from).collect(),
                        <[u32]>::to_vec,
                    )
                };
                points(a).cmp(&points(b))
            }
        }
    }

    /// Sorted, and searchable by a handler's key: no key with a lone
    /// surrogate (its `str` form is not its identity).
    fn is_strictly_sorted(&self) -> bool {
        self.entries.iter().all(|e| e.lone.is_none())
            && self
                .entries
                .windows(2)
                .all(|w| self.key_of(&w[0]) < self.key_of(&w[1]))
    }

    /// Python keeps the last of duplicate keys, at the first one's place.
    fn dedup(&mut self) {
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by(|a, b| {
            self.key_cmp(&self.entries[*a], &self.entries[*b])
                .then(a.cmp(b))
        });
        let mut dropped = vec![false; self.entries.len()];
        // Equal keys are adjacent in `order`, earliest first.
        let mut first = order.first().copied().unwrap_or(0);
        for pair in order.windows(2) {
            let (before, later) = (pair[0], pair[1]);
            if self
                .key_cmp(&self.entries[before], &self.entries[later])
                .is_eq()
            {
                self.entries[first].value = self.entries[later].value.clone();
                self.entries[first].canonical = self.entries[later].canonical;
                dropped[later] = true;
            } else {
                first = later;
            }
        }
        let mut i = 0;
        self.entries.retain(|_| {
            i += 1;
            !dropped[i - 1]
        });
    }

    fn find(&self, key: &str) -> Option<usize> {
        if self.sorted {
            self.entries
                .binary_search_by(|e| self.key_of(e).cmp(key))
                .ok()
        } else {
            self.entries
                .iter()
                .position(|e| e.lone.is_none() && self.key_of(e) == key)
        }
    }

    /// The raw JSON text of `key`'s value.
    pub(crate) fn get_json(&self, key: &str) -> Option<&str> {
        self.find(key).map(|i| self.text(&self.entries[i].value))
    }

    /// `key`'s value deserialized from its natural form (untagged when the
    /// format has Flask's tags).
    ///
    /// # Errors
    ///
    /// If the stored value does not deserialize as `T`.
    pub(crate) fn read<T: DeserializeOwned>(
        &self,
        key: &str,
        tags: bool,
    ) -> Result<Option<T>, crate::Error> {
        let Some(json) = self.get_json(key) else {
            return Ok(None);
        };
        let error = || crate::Error::deserialize(key, std::any::type_name::<T>());
        // Only an object whose key starts with a space can be a Flask tag:
        // without `" ` anywhere, or in a format without tags, the text is
        // already the natural value.
        if !tags || !json.as_bytes().windows(2).any(|w| w == b"\" ") {
            return serde_json::from_str(json).map(Some).map_err(|_| error());
        }
        let wire: Value = serde_json::from_str(json).map_err(|_| error())?;
        serde_json::from_value(tagged::untag(&wire))
            .map(Some)
            .map_err(|_| error())
    }

    /// Sets `key` to the JSON text `json`: in place if present (a Python
    /// dict keeps a key's position), else last.
    pub(crate) fn insert_json(&mut self, key: &str, json: String) {
        let value = Text::Owned(json.into());
        if let Some(i) = self.find(key) {
            self.entries[i].value = value;
            self.entries[i].canonical = true;
            return;
        }
        self.sorted = self.sorted
            && self
                .entries
                .last()
                .is_none_or(|last| self.key_of(last) < key);
        self.entries.push(Entry {
            key: Text::Owned(key.into()),
            key_json: None,
            lone: None,
            value,
            key_canonical: true,
            canonical: true,
        });
    }

    /// Removes `key`, returning its raw JSON text.
    pub(crate) fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.find(key)?;
        let json = self.text(&self.entries[i].value).to_owned();
        self.entries.remove(i);
        Some(json)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys in arrival order (new keys last).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| self.key_of(e))
    }

    /// `(key, raw JSON)` in arrival order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (self.key_of(e), self.text(&e.value)))
    }

    /// Flask's `session.permanent`: Python truthiness of `_permanent`.
    pub(crate) fn is_permanent(&self) -> bool {
        self.permanent_flag().unwrap_or(false)
    }

    /// `_permanent`'s truthiness, if the session holds it.
    pub(crate) fn permanent_flag(&self) -> Option<bool> {
        self.get_json("_permanent").map(truthy)
    }

    /// The natural values, as a map (values `serde_json` cannot hold, such
    /// as `NaN` or integers beyond 64 bits, are left out).
    pub(crate) fn to_tagged_map(&self) -> Map<String, Value> {
        self.iter()
            .filter_map(|(k, v)| {
                if json::has_out_of_range_integer(v.as_bytes()) {
                    return None;
                }
                serde_json::from_str(v).ok().map(|v| (k.to_owned(), v))
            })
            .collect()
    }

    /// The framework's JSON text of the session.
    pub(crate) fn write(&self, format: Format, out: &mut Vec<u8>) {
        if format.tagged() && self.write_escaped_tag_key(format.style(), out) {
            return;
        }
        match format {
            Format::Flask => self.write_sorted(out),
            Format::Quart | Format::Starlette | Format::Django | Format::Encrypted => {
                self.write_in_order(format.style(), out);
            }
        }
    }

    /// A session whose one key looks like a tag, escaped as `TagDict` does
    /// (`{" di": {"<key>__": value}}`); `false` if the session is not one.
    fn write_escaped_tag_key(&self, style: Style, out: &mut Vec<u8>) -> bool {
        let [only] = self.entries.as_slice() else {
            return false;
        };
        let key = self.key_of(only);
        if !tagged::is_tag(key) {
            return false;
        }
        out.extend_from_slice(b"{\" di\":{");
        json::write_str(&format!("{key}__"), out);
        out.push(b':');
        self.write_value(only, style, out);
        out.extend_from_slice(b"}}");
        true
    }

    /// Starlette's and Django's JSON text: keys in the map's order, values
    /// as they are.
    fn write_in_order(&self, style: Style, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(style.comma());
            }
            self.write_key(e, out);
            out.extend_from_slice(style.colon());
            self.write_value(e, style, out);
        }
        out.push(b'}');
    }

    /// Flask's JSON text of the session: keys sorted by code point, values
    /// as they are, a lone tag-like key escaped as `TagDict` does.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn write_flask(&self, out: &mut Vec<u8>) {
        self.write(Format::Flask, out);
    }

    /// Flask's layout: keys sorted by code point.
    fn write_sorted(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        if self.sorted {
            for (i, e) in self.entries.iter().enumerate() {
                self.write_entry(i, e, out);
            }
        } else {
            let mut order: Vec<&Entry> = self.entries.iter().collect();
            order.sort_by(|a, b| self.key_cmp(a, b));
            for (i, e) in order.into_iter().enumerate() {
                self.write_entry(i, e, out);
            }
        }
        out.push(b'}');
    }

    fn write_entry(&self, i: usize, e: &Entry, out: &mut Vec<u8>) {
        if i > 0 {
            out.push(b',');
        }
        self.write_key(e, out);
        out.push(b':');
        self.write_value(e, Style::FLASK, out);
    }

    /// The key as it came if the framework would have written it so.
    fn write_key(&self, e: &Entry, out: &mut Vec<u8>) {
        let raw_key = match (e.key_json, &e.key) {
            // A lone surrogate survives only in the text it came as; in
            // ASCII when it came otherwise, so Django's Latin-1 reading
            // cannot grow it on every save (the `formats` fuzz target).
            (Some((start, end)), _) if e.lone.is_some() => {
                let raw = self.span_text(start, end);
                if raw.is_ascii() {
                    Some(raw)
                } else {
                    out.push(b'"');
                    json::write_ascii_text(raw, out);
                    out.push(b'"');
                    return;
                }
            }
            _ if !e.key_canonical => None,
            (Some((start, end)), _) => Some(self.span_text(start, end)),
            // Arrived without escapes: its text is what was written.
            (None, Text::Span(..)) => Some(self.key_of(e)),
            (None, Text::Owned(_)) => None,
        };
        match raw_key {
            Some(raw) => {
                out.push(b'"');
                out.extend_from_slice(raw.as_bytes());
                out.push(b'"');
            }
            None => json::write_str(self.key_of(e), out),
        }
    }

    /// The value as it came if the framework would have written it so;
    /// else as it writes what `json.loads` makes of it. A value `serde_json`
    /// cannot hold keeps its text, with any character beyond ASCII escaped
    /// (Django would read raw UTF-8 as Latin-1; the fuzz target `formats`
    /// found a rewrite that grew on every save).
    fn write_value(&self, e: &Entry, style: Style, out: &mut Vec<u8>) {
        let text = self.text(&e.value);
        if !e.canonical {
            if !json::has_out_of_range_integer(text.as_bytes()) {
                if let Ok(value) = serde_json::from_str::<Value>(text) {
                    json::write_value_in(&value, style, out);
                    return;
                }
            }
            json::write_ascii_text(text, out);
            return;
        }
        out.extend_from_slice(text.as_bytes());
    }

    /// The heap this map holds, for the decode cache's accounting.
    pub(crate) fn heap_bytes(&self) -> usize {
        const ALLOC: usize = 16;
        let text = self.text.as_ref().map_or(0, |t| t.capacity() + 40 + ALLOC);
        let index = self.entries.capacity() * std::mem::size_of::<Entry>() + ALLOC;
        let owned: usize = self
            .entries
            .iter()
            .map(|e| {
                let size = |t: &Text| match t {
                    Text::Span(..) => 0,
                    Text::Owned(s) => s.len() + 16 + ALLOC,
                };
                size(&e.key) + size(&e.value)
            })
            .sum();
        text + index + owned
    }
}

fn into_string(bytes: Vec<u8>) -> String {
    // The JSON writer emits ASCII only.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Python truthiness of a JSON value's text.
fn truthy(json: &str) -> bool {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Null | Value::Bool(false)) => false,
        Ok(Value::Number(n)) => n.as_f64() != Some(0.0),
        Ok(Value::String(s)) => !s.is_empty(),
        Ok(Value::Array(a)) => !a.is_empty(),
        Ok(Value::Object(o)) => !o.is_empty(),
        Ok(Value::Bool(true)) => true,
        // NaN, ±Infinity, integers beyond 64 bits (never 0), strings with
        // lone surrogates (never empty): all true to Python.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RawMap {
        RawMap::parse_flask(text.as_bytes().to_vec()).unwrap()
    }

    fn flask(map: &RawMap) -> String {
        let mut out = Vec::new();
        map.write_flask(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn untouched_values_are_written_back_byte_for_byte() {
        let text = r#"{"_permanent":true,"big":18446744073709551616,"f":1e400,"n":NaN,"s":"\ud800","t":{" t":[1,2]}}"#;
        let mut map = parse(text);
        assert_eq!(flask(&map), text);
        map.insert_json("m", "1".into());
        assert_eq!(
            flask(&map),
            r#"{"_permanent":true,"big":18446744073709551616,"f":1e400,"m":1,"n":NaN,"s":"\ud800","t":{" t":[1,2]}}"#
        );
        assert!(map.is_permanent());
        assert_eq!(map.get_json("big"), Some("18446744073709551616"));
    }

    #[test]
    fn arrival_order_is_kept_and_new_keys_go_last() {
        let mut map = parse(r#"{"b":1,"a":2}"#);
        map.insert_json("c", "3".into());
        map.insert_json("b", "4".into());
        assert_eq!(map.keys().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(flask(&map), r#"{"a":2,"b":4,"c":3}"#);
        assert_eq!(map.remove("a").as_deref(), Some("2"));
        assert_eq!(map.get_json("a"), None);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn values_flask_would_write_differently_are_written_as_flask_does() {
        let map = parse("{ \"b\" : [1, 2],\n \"a\" : {\"z\":1.50,\"y\":\"caf\u{e9}\"} }");
        assert_eq!(flask(&map), r#"{"a":{"y":"caf\u00e9","z":1.5},"b":[1,2]}"#);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_at_the_first_place() {
        let map = parse(r#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "3"), ("b", "2")]);
        // The value keeps its own form: a repeat in a non-Flask form is
        // rewritten as Flask would (found by the `scan` fuzz target).
        let map = parse(r#"{"e":1.0,"b":2,"e":0.33333333333333333}"#);
        assert_eq!(flask(&map), r#"{"b":2,"e":0.3333333333333333}"#);
    }

    #[test]
    fn escaped_keys_are_decoded_and_written_as_they_came() {
        let text = r#"{"caf\u00e9":1,"x\ud800":2}"#;
        let map = parse(text);
        assert_eq!(map.get_json("café"), Some("1"));
        // A key with a lone surrogate is no Rust `str`: not named by one.
        assert_eq!(map.get_json("x\u{fffd}"), None);
        assert_eq!(map.keys().nth(1), Some("x\u{fffd}"));
        assert_eq!(flask(&map), text);
    }

    #[test]
    fn keys_with_different_lone_surrogates_stay_two_keys() {
        let text = r#"{"k\udc00":2,"k\ud800":1,"k\ue000":3,"k":0}"#;
        let mut map = parse(text);
        assert_eq!(map.len(), 4);
        // Python's order: by code point, surrogates between U+D7FF and U+E000.
        assert_eq!(
            flask(&map),
            r#"{"k":0,"k\ud800":1,"k\udc00":2,"k\ue000":3}"#
        );
        // A handler's key never names one; a write keeps both.
        assert_eq!(map.get_json("k\u{fffd}"), None);
        map.insert_json("k\u{fffd}", "9".into());
        assert_eq!(map.len(), 5);
        // The same lone surrogate twice is one key: the last value wins.
        let map = parse(r#"{"k\ud800":1,"k\uD800":2}"#);
        assert_eq!(map.len(), 1);
        assert_eq!(flask(&map), r#"{"k\ud800":2}"#);
    }

    #[test]
    fn a_lone_surrogate_key_with_raw_utf8_is_written_in_ascii() {
        // Found by the `formats` fuzz target: under Django the key grew on
        // every save (its raw UTF-8 read back as Latin-1).
        let text = "{\"\u{e9}k\\udfff\":1}".as_bytes().to_vec();
        for format in [Format::Flask, Format::Starlette, Format::Django] {
            let map = RawMap::parse(text.clone(), format).unwrap();
            let mut once = Vec::new();
            map.write(format, &mut once);
            let again = RawMap::parse(once.clone(), format).unwrap();
            let mut twice = Vec::new();
            again.write(format, &mut twice);
            assert_eq!(once, twice, "{format:?}");
            assert!(once.is_ascii(), "{format:?}");
        }
    }

    #[test]
    fn the_top_level_dict_escape_round_trips() {
        let text = r#"{" di":{" t__":[1]}}"#;
        let map = parse(text);
        assert_eq!(map.iter().collect::<Vec<_>>(), [(" t", "[1]")]);
        assert_eq!(flask(&map), text);
        assert!(RawMap::parse_flask(br#"{" t":[1]}"#.to_vec()).is_err());
        assert!(RawMap::parse_flask(b"[1]".to_vec()).is_err());
    }

    #[test]
    fn a_kept_value_is_written_in_ascii_so_django_reads_it_back_the_same() {
        // Raw UTF-8 beside an integer serde_json cannot hold: the value keeps
        // its text, escaped; Django's Latin-1 reading then changes nothing.
        let text = "{\"a\":[18446744073709551616,\"\u{e9}\u{1f600}\"]}"
            .as_bytes()
            .to_vec();
        for format in [Format::Flask, Format::Starlette, Format::Django] {
            let map = RawMap::parse(text.clone(), format).unwrap();
            let mut once = Vec::new();
            map.write(format, &mut once);
            let again = RawMap::parse(once.clone(), format).unwrap();
            let mut twice = Vec::new();
            again.write(format, &mut twice);
            assert_eq!(once, twice, "{format:?}");
            assert!(once.is_ascii(), "{format:?}");
        }
        let map = RawMap::parse(text, Format::Flask).unwrap();
        assert_eq!(
            flask(&map),
            r#"{"a":[18446744073709551616,"\u00e9\ud83d\ude00"]}"#
        );
    }

    #[test]
    fn permanence_is_python_truthiness() {
        for (value, permanent) in [
            ("true", true),
            ("false", false),
            ("null", false),
            ("0", false),
            ("0.0", false),
            ("1", true),
            ("\"\"", false),
            ("\"x\"", true),
            ("[]", false),
            ("NaN", true),
            ("18446744073709551616", true),
        ] {
            let map = parse(&format!("{{\"_permanent\":{value}}}"));
            assert_eq!(map.is_permanent(), permanent, "{value}");
        }
    }
}
