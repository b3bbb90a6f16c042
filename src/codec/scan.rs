//! One pass over a verified payload: where each top-level key and value is.
//!
//! The session is kept as the JSON text it arrived as. This scan checks the
//! whole text against the grammar Python's `json.loads` accepts (JSON plus
//! `NaN`, `Infinity` and `-Infinity`, and lone surrogate escapes) and
//! records, for the top-level object only, the byte range of every key's
//! contents and every value's text. Values are not decoded: a handler that
//! reads one key parses that value only, and values nobody reads go back to
//! the peer byte for byte, whatever they hold (integers of any size, the
//! non-finite floats, nesting of any depth).
//!
//! Iterative (an explicit stack of open containers, no recursion), linear
//! in the text, and allocating nothing per value.

use std::ops::Range;

use super::json::Style;

/// One top-level member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// The key's contents, between its quotes, as written.
    pub(crate) key: Range<usize>,
    /// Whether the key holds a backslash escape (else its text is its value).
    pub(crate) key_escaped: bool,
    /// The value's JSON text.
    pub(crate) value: Range<usize>,
    /// Whether the key is written as Flask writes it (`ensure_ascii`,
    /// lowercase `\uXXXX` only where needed).
    pub(crate) key_canonical: bool,
    /// Whether the value is written exactly as the framework's `json.dumps`
    /// would write it: `ensure_ascii`, floats in `repr`, and the separators
    /// and key order of the scan's [`Style`] (Flask: compact, keys sorted).
    /// Anything the framework signed is; a value that is not is rewritten in
    /// that form when the session is saved, as the framework would.
    pub(crate) canonical: bool,
}

/// The text is not a JSON object Python would read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanError {
    /// Byte offset where the text stopped making sense.
    pub(crate) at: usize,
}

/// The members of the object `text` holds, in order of appearance.
///
/// # Errors
///
/// If `text` is not exactly one JSON object (surrounding whitespace aside).
pub(crate) fn scan_object(text: &[u8], style: Style) -> Result<Vec<Member>, ScanError> {
    let mut cursor = Cursor {
        text,
        at: 0,
        canonical: true,
        style,
    };
    let mut open = Vec::new();
    let mut members = Vec::new();
    cursor.skip_ws();
    cursor.expect(b'{')?;
    cursor.skip_ws();
    if cursor.peek() == Some(b'}') {
        cursor.at += 1;
    } else {
        loop {
            cursor.canonical = true;
            let (key, key_escaped) = cursor.key(false)?;
            let key_canonical = cursor.canonical;
            cursor.skip_ws();
            let start = cursor.at;
            cursor.canonical = true;
            cursor.value(&mut open)?;
            members.push(Member {
                key,
                key_escaped,
                value: start..cursor.at,
                key_canonical,
                canonical: cursor.canonical,
            });
            cursor.skip_ws();
            match cursor.next()? {
                b',' => cursor.skip_ws(),
                b'}' => break,
                _ => return Err(cursor.error_before()),
            }
        }
    }
    cursor.skip_ws();
    if cursor.at != text.len() {
        return Err(cursor.error());
    }
    Ok(members)
}

/// Decodes a JSON string's contents (between the quotes, already checked
/// by the scan). A lone surrogate escape, which Python allows and Rust
/// strings cannot hold, becomes U+FFFD.
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    decode(raw, |piece| match piece {
        Piece::Text(text) => out.push_str(text),
        Piece::Unit(unit) => out.push(unit.unwrap_or('\u{fffd}')),
    });
    out
}

/// The code points of a JSON string's contents as Python holds them: lone
/// surrogates included, as themselves. `None` when it holds none (the
/// decoded `str` is then exact).
pub(crate) fn lone_surrogate_code_points(raw: &str) -> Option<Vec<u32>> {
    let mut points = Vec::with_capacity(raw.len());
    let mut lone = false;
    decode(raw, |piece| match piece {
        Piece::Text(text) => points.extend(text.chars().map(u32::from)),
        Piece::Unit(Ok(c)) => points.push(u32::from(c)),
        Piece::Unit(Err(surrogate)) => {
            lone = true;
            points.push(u32::from(surrogate));
        }
    });
    lone.then_some(points)
}

/// A run of a JSON string without escapes, or one escape's character
/// (`Err`: a lone surrogate).
enum Piece<'a> {
    Text(&'a str),
    Unit(Result<char, u16>),
}

/// Walks a JSON string's contents, piece by piece.
fn decode<'a>(raw: &'a str, mut emit: impl FnMut(Piece<'a>)) {
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        emit(Piece::Text(&rest[..i]));
        let escape = &rest[i + 1..];
        let mut consumed = 1;
        match escape.as_bytes().first() {
            Some(b'n') => emit(Piece::Unit(Ok('\n'))),
            Some(b't') => emit(Piece::Unit(Ok('\t'))),
            Some(b'r') => emit(Piece::Unit(Ok('\r'))),
            Some(b'b') => emit(Piece::Unit(Ok('\u{8}'))),
            Some(b'f') => emit(Piece::Unit(Ok('\u{c}'))),
            Some(b'u') => {
                let hex = |s: &str| s.get(1..5).and_then(|h| u16::from_str_radix(h, 16).ok());
                consumed = 5;
                match hex(escape) {
                    Some(high @ 0xd800..=0xdbff) => {
                        let low = escape
                            .get(5..)
                            .filter(|s| s.starts_with("\\u"))
                            .and_then(|s| hex(&s[1..]))
                            .filter(|low| (0xdc00..=0xdfff).contains(low));
                        match low {
                            Some(low) => {
                                let c = 0x10000
                                    + ((u32::from(high) - 0xd800) << 10)
                                    + (u32::from(low) - 0xdc00);
                                emit(Piece::Unit(Ok(char::from_u32(c).unwrap_or('\u{fffd}'))));
                                consumed = 11;
                            }
                            None => emit(Piece::Unit(Err(high))),
                        }
                    }
                    Some(code) => emit(Piece::Unit(char::from_u32(u32::from(code)).ok_or(code))),
                    None => emit(Piece::Unit(Ok('\u{fffd}'))),
                }
            }
            // `"`, `\`, `/`: the character itself.
            Some(&c) => emit(Piece::Unit(Ok(char::from(c)))),
            None => {}
        }
        rest = escape.get(consumed..).unwrap_or("");
    }
    emit(Piece::Text(rest));
}

/// An open container: an array, or an object and the last key seen in it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Array,
    Object { key: (usize, usize), escaped: bool },
}

struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
    /// Cleared by anything the framework's writer would not have written.
    canonical: bool,
    style: Style,
}

impl Cursor<'_> {
    fn error(&self) -> ScanError {
        ScanError { at: self.at }
    }

    fn error_before(&self) -> ScanError {
        ScanError {
            at: self.at.saturating_sub(1),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Result<u8, ScanError> {
        let b = self.peek().ok_or_else(|| self.error())?;
        self.at += 1;
        Ok(b)
    }

    fn expect(&mut self, b: u8) -> Result<(), ScanError> {
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Whitespace inside a value: after a separator (`after_separator`),
    /// one space in the spaced style and none in the compact one; none
    /// anywhere else.
    fn ws_in_value(&mut self, after_separator: bool) {
        let start = self.at;
        self.skip_ws();
        let expected: &[u8] = if after_separator && self.style.spaced {
            b" "
        } else {
            b""
        };
        if &self.text[start..self.at] != expected {
            self.canonical = false;
        }
    }

    fn word(&mut self, word: &[u8]) -> Result<(), ScanError> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// A key and its colon: the contents' range. `in_value`: a nested key,
    /// where whitespace before the colon is not canonical.
    fn key(&mut self, in_value: bool) -> Result<(Range<usize>, bool), ScanError> {
        if self.peek() != Some(b'"') {
            return Err(self.error());
        }
        let start = self.at + 1;
        let escaped = self.string()?;
        let key = start..self.at - 1;
        if in_value {
            self.ws_in_value(false);
        } else {
            self.skip_ws();
        }
        self.expect(b':')?;
        Ok((key, escaped))
    }

    /// A string starting at its opening quote; whether it held an escape.
    fn string(&mut self) -> Result<bool, ScanError> {
        self.at += 1;
        let mut escaped = false;
        loop {
            // Runs of plain printable ASCII, the bulk of any payload, in one
            // tight search for the next byte that needs a decision.
            self.at += plain_run(&self.text[self.at..]);
            match self.next()? {
                b'"' => return Ok(escaped),
                b'\\' => {
                    escaped = true;
                    match self.next()? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'/' => self.canonical = false,
                        b'u' => {
                            let hex = self.text.get(self.at..self.at + 4);
                            let Some(hex) = hex.filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                            else {
                                return Err(self.error());
                            };
                            if !canonical_u_escape(hex) {
                                self.canonical = false;
                            }
                            self.at += 4;
                        }
                        _ => return Err(self.error_before()),
                    }
                }
                // Python's strict mode, like JSON, refuses raw control characters.
                0..=0x1f => return Err(self.error_before()),
                // `ensure_ascii` escapes DEL and everything beyond ASCII.
                _ => self.canonical = false,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, or `-Infinity`.
    fn number(&mut self) -> Result<(), ScanError> {
        let start = self.at;
        self.number_token()?;
        let token = &self.text[start..self.at];
        if token.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
            // A float: Flask writes Python's `repr`.
            let canonical = std::str::from_utf8(token)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .is_some_and(|f| {
                    let mut repr = Vec::with_capacity(token.len());
                    super::json::write_python_float(f, &mut repr);
                    repr == token
                });
            if !canonical {
                self.canonical = false;
            }
        } else if token == b"-0" {
            self.canonical = false;
        }
        Ok(())
    }

    fn number_token(&mut self) -> Result<(), ScanError> {
        if self.peek() == Some(b'-') {
            self.at += 1;
            if self.peek() == Some(b'I') {
                return self.word(b"Infinity");
            }
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error()),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.error());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error());
            }
        }
        Ok(())
    }

    /// A nested object's key: with sorted keys (Flask), also checks that
    /// they come in order (strictly increasing code points; a repeat is
    /// never written).
    fn nested_key(&mut self, open: &mut [Open]) -> Result<(), ScanError> {
        let start = self.at + 1;
        let (key, escaped) = self.key(true)?;
        if !self.style.sort_keys {
            return Ok(());
        }
        let current = (start, key.end);
        if let Some(Open::Object {
            key: last,
            escaped: last_escaped,
        }) = open.last_mut()
        {
            if last.1 != 0 && !self.in_order(*last, *last_escaped, current, escaped) {
                self.canonical = false;
            }
            *last = current;
            *last_escaped = escaped;
        }
        Ok(())
    }

    fn in_order(
        &self,
        a: (usize, usize),
        a_escaped: bool,
        b: (usize, usize),
        b_escaped: bool,
    ) -> bool {
        let raw = |(start, end): (usize, usize)| &self.text[start..end];
        if !a_escaped && !b_escaped {
            return raw(a) < raw(b);
        }
        let decode = |r| unescape(std::str::from_utf8(raw(r)).unwrap_or_default());
        decode(a) < decode(b)
    }

    /// One complete value at the cursor, nested containers included, with
    /// `open` as the stack of containers entered (empty on return).
    fn value(&mut self, open: &mut Vec<Open>) -> Result<(), ScanError> {
        debug_assert!(open.is_empty());
        let fresh_object = Open::Object {
            key: (0, 0),
            escaped: false,
        };
        'value: loop {
            // A value starts here.
            match self.peek().ok_or_else(|| self.error())? {
                b'{' => {
                    self.at += 1;
                    self.ws_in_value(false);
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                    } else {
                        open.push(fresh_object);
                        self.nested_key(open)?;
                        self.ws_in_value(true);
                        continue 'value;
                    }
                }
                b'[' => {
                    self.at += 1;
                    self.ws_in_value(false);
                    if self.peek() == Some(b']') {
                        self.at += 1;
                    } else {
                        open.push(Open::Array);
                        continue 'value;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => self.number()?,
                b't' => self.word(b"true")?,
                b'f' => self.word(b"false")?,
                b'n' => self.word(b"null")?,
                b'N' => self.word(b"NaN")?,
                b'I' => self.word(b"Infinity")?,
                _ => return Err(self.error()),
            }
            // A value ended: close what it ends, or move to the next one.
            loop {
                let Some(&kind) = open.last() else {
                    return Ok(());
                };
                self.ws_in_value(false);
                match (kind, self.next()?) {
                    (_, b',') => {
                        self.ws_in_value(true);
                        if kind != Open::Array {
                            self.nested_key(open)?;
                            self.ws_in_value(true);
                        }
                        continue 'value;
                    }
                    (Open::Object { .. }, b'}') | (Open::Array, b']') => {
                        open.pop();
                    }
                    _ => return Err(self.error_before()),
                }
            }
        }
    }
}

/// How many bytes at the start of `bytes` need no decision inside a string:
/// printable ASCII other than `"` and `\`. Eight at a time (SWAR), the
/// last few bytes padded with zeros (which stop the run) into a final word.
fn plain_run(bytes: &[u8]) -> usize {
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        if let Some(at) = first_special(u64::from_le_bytes(w)) {
            return i + at;
        }
        i += 8;
    }
    let rest = &bytes[i..];
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    i + first_special(u64::from_le_bytes(w)).map_or(rest.len(), |at| at.min(rest.len()))
}

/// The index of the first byte of `w` (little-endian) that is `"`, `\`, a
/// control character, DEL or not ASCII. Each test below sets the high bit
/// of the bytes it matches, and may set it in bytes above a match (a
/// borrow), never below one: the lowest set bit is exact.
fn first_special(w: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let hit = zero(w ^ (ONES * u64::from(b'"')))
        | zero(w ^ (ONES * u64::from(b'\\')))
        | zero(w ^ (ONES * 0x7f))
        | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
        | (w & HIGH);
    (hit != 0).then(|| hit.trailing_zeros() as usize / 8)
}

/// Whether `\uXXXX` is how Flask writes that code unit: lowercase hex, for
/// a unit that has neither a printable ASCII form nor a short escape.
fn canonical_u_escape(hex: &[u8]) -> bool {
    if hex.iter().any(u8::is_ascii_uppercase) {
        return false;
    }
    let unit = hex.iter().fold(0u32, |n, h| {
        n * 16 + char::from(*h).to_digit(16).unwrap_or(0)
    });
    !matches!(unit, 0x20..=0x7e | 0x08 | 0x09 | 0x0a | 0x0c | 0x0d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> Vec<bool> {
        canonical_in(text, Style::FLASK)
    }

    fn canonical_in(text: &str, style: Style) -> Vec<bool> {
        scan_object(text.as_bytes(), style)
            .unwrap()
            .into_iter()
            .map(|m| m.canonical)
            .collect()
    }

    #[test]
    fn marks_values_flask_would_write_differently() {
        assert_eq!(
            canonical(
                r#"{"a":"caf\u00e9","b":[1,2.5,{"x":1,"y":[]}],"c":NaN,"d":1e+16,"e":"\ud83d\ude00\n"}"#
            ),
            [true; 5]
        );
        for (value, why) in [
            ("[1, 2]", "whitespace"),
            (r#""caf\u00E9""#, "uppercase escape"),
            (r#""\u0041""#, "escaped printable ASCII"),
            (r#""\u000a""#, "a short escape exists"),
            (r#""a\/b""#, "escaped slash"),
            ("\"caf\u{e9}\"", "raw UTF-8"),
            ("1.50", "not repr"),
            ("1E5", "not repr"),
            ("1e16", "not repr"),
            ("-0", "-0 is 0"),
            ("{\"z\":1,\"y\":2}", "unsorted"),
            ("{\"y\":1,\"y\":2}", "a repeated key"),
            ("[{\"b\":{\"d\":1,\"c\":1}}]", "unsorted, deep"),
        ] {
            let text = format!("{{\"k\":{value}}}");
            assert_eq!(canonical(&text), [false], "{why}: {text}");
        }
    }

    #[test]
    fn each_style_has_its_own_canonical_layout() {
        // Starlette: `json.dumps` defaults, insertion order.
        let spaced = r#"{"a": [1, 2], "b": {"z": 1, "y": {}}, "c": []}"#;
        assert_eq!(canonical_in(spaced, Style::STARLETTE), [true; 3]);
        assert_eq!(canonical_in(spaced, Style::DJANGO), [false, false, true]);
        // Django: compact, insertion order.
        let compact = r#"{"a":[1,2],"b":{"z":1,"y":{}}}"#;
        assert_eq!(canonical_in(compact, Style::DJANGO), [true, true]);
        assert_eq!(canonical_in(compact, Style::FLASK), [true, false]);
        assert_eq!(canonical_in(compact, Style::STARLETTE), [false, false]);
        for (value, why) in [
            ("[1,  2]", "two spaces"),
            ("[ 1, 2]", "space after ["),
            ("[1 , 2]", "space before ,"),
            ("{\"a\" : 1}", "space before :"),
            ("{\"a\":1}", "no space after :"),
        ] {
            let text = format!("{{\"k\": {value}}}");
            assert_eq!(
                canonical_in(&text, Style::STARLETTE),
                [false],
                "{why}: {text}"
            );
        }
    }

    fn members(text: &str) -> Vec<(String, String)> {
        scan_object(text.as_bytes(), Style::FLASK)
            .unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
            .into_iter()
            .map(|m| (text[m.key].to_owned(), text[m.value].to_owned()))
            .collect()
    }

    #[test]
    fn finds_every_top_level_member_as_written() {
        assert_eq!(members("{}"), []);
        assert_eq!(members(" { } "), []);
        assert_eq!(
            members(r#"{"a":1,"b":[1,{"c":"}"}],"d":{"e":[]} , "f" : "x\"y" }"#),
            [
                ("a".into(), "1".into()),
                ("b".into(), r#"[1,{"c":"}"}]"#.into()),
                ("d".into(), r#"{"e":[]}"#.into()),
                ("f".into(), r#""x\"y""#.into()),
            ]
        );
    }

    #[test]
    fn carries_what_python_writes_and_serde_json_cannot_hold() {
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let text = format!(
            r#"{{"big":18446744073709551616,"nan":NaN,"inf":[Infinity,-Infinity],"s":"\ud800","deep":{deep}}}"#
        );
        let found = members(&text);
        assert_eq!(found[0].1, "18446744073709551616");
        assert_eq!(found[1].1, "NaN");
        assert_eq!(found[2].1, "[Infinity,-Infinity]");
        assert_eq!(found[3].1, r#""\ud800""#);
        assert_eq!(found[4].1, deep);
    }

    #[test]
    fn refuses_what_python_refuses() {
        for bad in [
            "",
            "[]",
            "1",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":1}x",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":1e}",
            "{\"a\":-}",
            "{\"a\":[1,]}",
            "{\"a\":[1}",
            "{\"a\":{\"b\":1]}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":tru}",
            "{\"a\":nan}",
            "{a:1}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":\"unterminated}",
        ] {
            for style in [Style::FLASK, Style::STARLETTE, Style::DJANGO] {
                assert!(scan_object(bad.as_bytes(), style).is_err(), "{bad:?}");
            }
        }
    }

    #[test]
    fn plain_runs_stop_at_every_byte_that_needs_a_decision() {
        for stop in [b'"', b'\\', 0x00, 0x1f, 0x7f, 0x80, 0xff] {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 24];
                bytes[at] = stop;
                assert_eq!(plain_run(&bytes), at, "{stop:#x} at {at}");
            }
        }
        assert_eq!(plain_run(b" ~!#[]{}abcXYZ019"), 17);
        assert_eq!(plain_run(b""), 0);
    }

    #[test]
    fn plain_runs_agree_with_a_byte_loop() {
        let naive = |bytes: &[u8]| {
            bytes
                .iter()
                .position(|b| matches!(b, b'"' | b'\\' | 0..=0x1f | 0x7f..))
                .unwrap_or(bytes.len())
        };
        // Every byte value at every place of every length up to 17, after
        // plain bytes and after bytes just beside the special ranges.
        for len in 0..=17 {
            for at in 0..len {
                for stop in 0..=255u8 {
                    for fill in [b'a', b' ', b'~', b'!', b'#', b'[', b']'] {
                        let mut bytes = vec![fill; len];
                        bytes[at] = stop;
                        assert_eq!(plain_run(&bytes), naive(&bytes), "{bytes:?}");
                    }
                }
            }
        }
        // Pseudo-random buffers, several specials each.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    let r = x.rotate_left(i as u32 * 7);
                    if r % 11 == 0 {
                        (r >> 8) as u8
                    } else {
                        b' ' + (r % 95) as u8
                    }
                })
                .collect();
            assert_eq!(plain_run(&bytes), naive(&bytes), "{bytes:?}");
        }
    }

    #[test]
    fn unescapes_like_python_with_lone_surrogates_replaced() {
        assert_eq!(
            unescape(r#"a\n\t\"\\\/\u00e9\ud83d\ude00"#),
            "a\n\t\"\\/é😀"
        );
        assert_eq!(unescape(r"\ud800x"), "\u{fffd}x");
        assert_eq!(unescape(r"\udc00"), "\u{fffd}");
        assert_eq!(unescape("plain"), "plain");
    }
}
