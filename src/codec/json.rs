//! Python's JSON text as the frameworks write it: Flask's
//! `json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=True)`,
//! and Starlette's and Django's variants of it ([`Style`]).
//!
//! serde_json writes raw UTF-8, leaves DEL unescaped and prints floats as
//! `1e16`; Flask escapes every non-printable-ASCII character as lowercase
//! `\uXXXX` (surrogate pairs above U+FFFF) and prints floats with Python's
//! `repr`. Matching it byte for byte is what lets a Flask peer and this crate
//! produce the same cookie for the same session.

use serde_json::{Map, Number, Value};

/// How a framework's `json.dumps` lays out its text. Every one writes
/// `ensure_ascii` strings and Python's float `repr`; they differ in key
/// order and separators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Style {
    /// `sort_keys=True` (Flask), else the map's own order (a Python dict
    /// keeps insertion order).
    pub(crate) sort_keys: bool,
    /// `", "` and `": "` (`json.dumps`' defaults, Starlette), else `","`
    /// and `":"`.
    pub(crate) spaced: bool,
}

impl Style {
    /// `separators=(",", ":"), sort_keys=True`.
    pub(crate) const FLASK: Self = Self {
        sort_keys: true,
        spaced: false,
    };
    /// `json.dumps(session)`.
    pub(crate) const STARLETTE: Self = Self {
        sort_keys: false,
        spaced: true,
    };
    /// Flask's serializer outside a Flask app: no `sort_keys`.
    pub(crate) const QUART: Self = Self {
        sort_keys: false,
        spaced: false,
    };
    /// `separators=(",", ":")`.
    pub(crate) const DJANGO: Self = Self {
        sort_keys: false,
        spaced: false,
    };

    pub(crate) fn comma(self) -> &'static [u8] {
        if self.spaced {
            b", "
        } else {
            b","
        }
    }

    pub(crate) fn colon(self) -> &'static [u8] {
        if self.spaced {
            b": "
        } else {
            b":"
        }
    }
}

/// Appends the JSON text of `map`, laid out as `style` says.
pub(crate) fn write_map_in(map: &Map<String, Value>, style: Style, out: &mut Vec<u8>) {
    out.push(b'{');
    // serde_json's Map is a BTreeMap (code point order, as Python sorts str)
    // unless some crate in the build enables `preserve_order`.
    if !style.sort_keys || map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b) {
        write_entries(map.iter(), style, out);
    } else {
        let mut entries: Vec<_> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        write_entries(entries.into_iter(), style, out);
    }
    out.push(b'}');
}

fn write_entries<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    style: Style,
    out: &mut Vec<u8>,
) {
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.extend_from_slice(style.comma());
        }
        write_str(key, out);
        out.extend_from_slice(style.colon());
        write_value_in(value, style, out);
    }
}

/// Appends the Flask JSON text of `value`.
pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) {
    write_value_in(value, Style::FLASK, out);
}

/// Appends the JSON text of `value`, laid out as `style` says.
pub(crate) fn write_value_in(value: &Value, style: Style, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(style.comma());
                }
                write_value_in(item, style, out);
            }
            out.push(b']');
        }
        Value::Object(map) => write_map_in(map, style, out),
    }
}

/// Appends JSON `text`, already checked by the scan, with every character
/// beyond ASCII (they can only be inside strings) as the `\uXXXX` escapes
/// `ensure_ascii` writes: the same JSON, in bytes every framework reads the
/// same way (Django reads its payload as Latin-1).
pub(crate) fn write_ascii_text(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, c) in text.char_indices().filter(|(_, c)| !c.is_ascii()) {
        out.extend_from_slice(&bytes[start..i]);
        start = i + c.len_utf8();
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            push_u_escape(*unit, out);
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

fn push_u_escape(u: u16, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[
        b'\\',
        b'u',
        HEX[usize::from(u >> 12)],
        HEX[usize::from((u >> 8) & 0xf)],
        HEX[usize::from((u >> 4) & 0xf)],
        HEX[usize::from(u & 0xf)],
    ]);
}

pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            ' '..='~' => continue,
            _ => b"",
        };
        out.extend_from_slice(&bytes[start..i]);
        start = i + c.len_utf8();
        if !escape.is_empty() {
            out.extend_from_slice(escape);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            push_u_escape(*unit, out);
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(i) = n.as_i64() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(u) = n.as_u64() {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(f) = n.as_f64() {
        write_python_float(f, out);
    }
}

/// Whether the JSON text holds an integer literal outside `i64`/`u64`.
///
/// Python ints are unbounded and serde_json would silently read such a
/// literal as a rounded float, which a write would then send back to Flask
/// as a float: such a session is refused instead of corrupted.
pub(crate) fn has_out_of_range_integer(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < text.len()
                    && matches!(text[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let literal = &text[start..i];
                let integer = !literal.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
                if integer {
                    let fits = std::str::from_utf8(literal)
                        .is_ok_and(|l| l.parse::<i64>().is_ok() || l.parse::<u64>().is_ok());
                    if !fits {
                        return true;
                    }
                }
            }
            _ => i += 1,
        }
    }
    false
}

/// Python's `float.__repr__`: the shortest digits that round-trip, in
/// positional notation when the decimal exponent is in [-4, 16), otherwise
/// scientific with a sign and at least two exponent digits.
pub(crate) fn write_python_float(f: f64, out: &mut Vec<u8>) {
    if !f.is_finite() {
        // serde_json cannot hold these; kept for completeness (Flask writes the
        // same invalid-JSON literals).
        out.extend_from_slice(if f.is_nan() {
            b"NaN"
        } else if f > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
        return;
    }
    // `{:e}` prints the shortest round-trip digits: "1.2345e-7", "-0e0".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if negative {
        out.push(b'-');
    }
    // Python's rule in terms of the position of the decimal point.
    let point = exp + 1;
    if (-3..=16).contains(&point) {
        let n = digits.len() as i32;
        if point <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-point) as usize));
            out.extend_from_slice(digits.as_bytes());
        } else if point >= n {
            out.extend_from_slice(digits.as_bytes());
            out.extend(std::iter::repeat_n(b'0', (point - n) as usize));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits.as_bytes()[..point as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[point as usize..]);
        }
    } else {
        out.extend_from_slice(&digits.as_bytes()[..1]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(abs.to_string().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(v: &Value) -> String {
        let mut out = Vec::new();
        write_value(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn float(f: f64) -> String {
        let mut out = Vec::new();
        write_python_float(f, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (100.0, "100.0"),
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1.5e300, "1.5e+300"),
            (1234567890123456.0, "1234567890123456.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (123.456, "123.456"),
            (1e22, "1e+22"),
            (1.2345e-7, "1.2345e-07"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (12345678901234567.0, "1.2345678901234568e+16"),
        ];
        for (f, want) in cases {
            assert_eq!(float(f), want, "{f:?}");
        }
    }

    #[test]
    fn strings_are_ensure_ascii_with_lowercase_escapes() {
        let v = json!("a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{7f}é€😀/<>&");
        assert_eq!(
            text(&v),
            r#""a\"b\\c\n\r\t\b\f\u0001\u007f\u00e9\u20ac\ud83d\ude00/<>&""#
        );
    }

    #[test]
    fn objects_are_compact_and_sorted_by_code_point() {
        let v = json!({"b": [1, -2, true, null], "a": {"z": 1, "\u{ffff}": 2, "😀": 3}});
        assert_eq!(
            text(&v),
            r#"{"a":{"z":1,"\uffff":2,"\ud83d\ude00":3},"b":[1,-2,true,null]}"#
        );
    }

    #[test]
    fn integers_beyond_64_bits_are_found_outside_strings_only() {
        assert!(has_out_of_range_integer(b"{\"big\":18446744073709551616}"));
        assert!(has_out_of_range_integer(b"[-9223372036854775809]"));
        assert!(has_out_of_range_integer(
            b"{\"a\":[1,{\"b\":100000000000000000000000000000}]}"
        ));
        assert!(!has_out_of_range_integer(
            b"{\"max\":18446744073709551615,\"min\":-9223372036854775808}"
        ));
        assert!(!has_out_of_range_integer(
            b"{\"f\":1.8446744073709552e+19,\"g\":1e400}"
        ));
        assert!(!has_out_of_range_integer(
            b"{\"s\":\"18446744073709551616\\\"99999999999999999999\"}"
        ));
    }

    #[test]
    fn large_unsigned_integers_print_exactly() {
        assert_eq!(text(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(text(&json!(i64::MIN)), "-9223372036854775808");
    }
}
