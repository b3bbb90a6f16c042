//! A serde serializer that turns a handler's value straight into Flask's
//! tagged JSON.
//!
//! The [`flask`](crate::flask) wrappers serialize as a newtype struct under
//! a private name whose inner value is their plain form, so every other
//! serializer (axum's `Json`, a log line, `serde_json::to_string`) sees the
//! plain value only. This serializer alone recognises those names and writes
//! the tag. Data that came from a client never calls
//! `serialize_newtype_struct` with such a name, so it can never forge a tag:
//! an object of its own whose only key looks like a tag is escaped as Flask's
//! `TagDict` does.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::ser::{self, Impossible, Serialize};
use serde_json::{Error, Map, Value};

use super::tagged::{self, BYTES, DATETIME, MARKUP, TUPLE, UUID};

/// The private newtype-struct names of the wrappers. The leading NUL keeps
/// them out of reach of any derive.
pub(crate) const TUPLE_NAME: &str = "\0tower_cookie_session::flask::Tuple";
pub(crate) const BYTES_NAME: &str = "\0tower_cookie_session::flask::Bytes";
pub(crate) const MARKUP_NAME: &str = "\0tower_cookie_session::flask::Markup";
pub(crate) const UUID_NAME: &str = "\0tower_cookie_session::flask::Uuid";
pub(crate) const DATETIME_NAME: &str = "\0tower_cookie_session::flask::DateTime";

/// serde_json's private name for `RawValue`, honoured as serde_json does.
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// `value` in Flask's tagged (wire) form.
pub(crate) fn to_tagged_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(Tagger { flask: true })
}

/// `value` as plain JSON, for the formats that have no tags (Starlette,
/// Django): a [`flask`](crate::flask) wrapper is an error there, not a
/// silent conversion, and no key is escaped.
pub(crate) fn to_plain_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(Tagger { flask: false })
}

fn plain() -> serde_json::value::Serializer {
    serde_json::value::Serializer
}

fn custom(msg: &str) -> Error {
    <Error as ser::Error>::custom(msg)
}

/// A one-key object `{key: value}`, escaped if `key` is a tag name.
fn single(key: String, value: Value, flask: bool) -> Value {
    let mut map = Map::new();
    map.insert(key, value);
    object(map, flask)
}

/// A handler's object: under Flask, escaped as `TagDict` does when its only
/// key is a tag.
fn object(map: Map<String, Value>, flask: bool) -> Value {
    if flask && map.len() == 1 {
        if let Some((key, _)) = map.iter().next() {
            if tagged::is_tag(key) {
                let (key, value) = map.into_iter().next().expect("one entry");
                return tagged::escape_dict(key, value);
            }
        }
    }
    Value::Object(map)
}

/// A real tag, built from a wrapper's plain form.
fn tag(name: &str, plain: Value) -> Result<Value, Error> {
    let (tag, payload) = match (name, plain) {
        (TUPLE_NAME, items @ Value::Array(_)) => (TUPLE, items),
        (TUPLE_NAME, _) => return Err(custom("flask::Tuple must wrap a sequence")),
        (MARKUP_NAME, text @ Value::String(_)) => (MARKUP, text),
        (BYTES_NAME, Value::Array(items)) => {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect();
            let bytes = bytes.ok_or_else(|| custom("flask::Bytes holds bytes"))?;
            (BYTES, Value::String(STANDARD.encode(bytes)))
        }
        (UUID_NAME, Value::String(text)) => {
            let hex: String = text.chars().filter(|c| *c != '-').collect();
            (UUID, Value::String(hex))
        }
        (DATETIME_NAME, Value::String(text)) => {
            let date = tagged::rfc3339_to_unix(&text)
                .and_then(tagged::http_date)
                .ok_or_else(|| custom("date out of range"))?;
            (DATETIME, Value::String(date))
        }
        _ => return Err(custom("a flask wrapper serialized an unexpected value")),
    };
    let mut map = Map::new();
    map.insert(tag.to_owned(), payload);
    Ok(Value::Object(map))
}

/// `flask`: write Flask's tags (else a wrapper is an error).
#[derive(Clone, Copy)]
struct Tagger {
    flask: bool,
}

impl ser::Serializer for Tagger {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Object;
    type SerializeStruct = Object;
    type SerializeStructVariant = Object;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        plain().serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        plain().serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        plain().serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        plain().serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        plain().serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        plain().serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        plain().serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        plain().serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        plain().serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        plain().serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        plain().serialize_u128(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        plain().serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        plain().serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        plain().serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        plain().serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        plain().serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<Value, Error> {
        plain().serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        plain().serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Value, Error> {
        plain().serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        plain().serialize_unit_variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        let plain = value.serialize(self)?;
        match name {
            TUPLE_NAME | BYTES_NAME | MARKUP_NAME | UUID_NAME | DATETIME_NAME if self.flask => {
                tag(name, plain)
            }
            TUPLE_NAME | BYTES_NAME | MARKUP_NAME | UUID_NAME | DATETIME_NAME => Err(custom(
                "a flask:: wrapper holds a Python type that only the Flask format can store; \
                 store its plain value under this format",
            )),
            _ => Ok(plain),
        }
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        Ok(single(
            variant.to_owned(),
            value.serialize(self)?,
            self.flask,
        ))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Error> {
        Ok(Seq {
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            variant: None,
            tagger: self,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq, Error> {
        let mut seq = self.serialize_seq(Some(len))?;
        seq.variant = Some(variant);
        Ok(seq)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object, Error> {
        Ok(Object::new(self, None, false))
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Object, Error> {
        Ok(Object::new(self, None, name == RAW_VALUE))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object, Error> {
        Ok(Object::new(self, Some(variant), false))
    }
}

struct Seq {
    items: Vec<Value>,
    variant: Option<&'static str>,
    tagger: Tagger,
}

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.items.push(value.serialize(self.tagger)?);
        Ok(())
    }

    fn finish(self) -> Value {
        let array = Value::Array(self.items);
        match self.variant {
            Some(variant) => single(variant.to_owned(), array, self.tagger.flask),
            None => array,
        }
    }
}

/// The four sequence traits share one body: push each element, end with
/// the array (wrapped in its variant's name for a tuple variant).
macro_rules! impl_seq {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(impl ser::$trait for Seq {
            type Ok = Value;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<Value, Error> {
                Ok(self.finish())
            }
        })*
    };
}

impl_seq!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

struct Object {
    tagger: Tagger,
    map: Map<String, Value>,
    next_key: Option<String>,
    variant: Option<&'static str>,
    raw_value: bool,
}

impl Object {
    fn new(tagger: Tagger, variant: Option<&'static str>, raw_value: bool) -> Self {
        Self {
            tagger,
            map: Map::new(),
            next_key: None,
            variant,
            raw_value,
        }
    }

    fn finish(self) -> Result<Value, Error> {
        if self.raw_value {
            // serde_json's RawValue serializes as this one-field struct
            // holding its JSON text.
            return match self.map.get(RAW_VALUE) {
                Some(Value::String(text)) => {
                    let parsed: Value = serde_json::from_str(text)?;
                    parsed.serialize(self.tagger)
                }
                _ => Err(custom("malformed RawValue")),
            };
        }
        let flask = self.tagger.flask;
        let object = object(self.map, flask);
        Ok(match self.variant {
            Some(variant) => single(variant.to_owned(), object, flask),
            None => object,
        })
    }
}

/// A map key as serde_json writes it: strings, and numbers and booleans as
/// their text.
fn map_key<T: Serialize + ?Sized>(key: &T) -> Result<String, Error> {
    match key.serialize(KeySerializer)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(custom("key must be a string")),
    }
}

impl ser::SerializeMap for Object {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.next_key = Some(map_key(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| custom("serialize_value called before serialize_key"))?;
        self.map.insert(key, value.serialize(self.tagger)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Object {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let value = if self.raw_value {
            value.serialize(plain())?
        } else {
            value.serialize(self.tagger)?
        };
        self.map.insert(key.to_owned(), value);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Object {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.map
            .insert(key.to_owned(), value.serialize(self.tagger)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        self.finish()
    }
}

/// Map keys: scalars only (a unit variant is its name, a newtype its inner key).
struct KeySerializer;

macro_rules! key_scalar {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<Value, Error> {
            plain().$method(v)
        })*
    };
}

impl ser::Serializer for KeySerializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Impossible<Value, Error>;
    type SerializeTuple = Impossible<Value, Error>;
    type SerializeTupleStruct = Impossible<Value, Error>;
    type SerializeTupleVariant = Impossible<Value, Error>;
    type SerializeMap = Impossible<Value, Error>;
    type SerializeStruct = Impossible<Value, Error>;
    type SerializeStructVariant = Impossible<Value, Error>;

    key_scalar!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char, serialize_str: &str,
    );

    fn serialize_bytes(self, _: &[u8]) -> Result<Value, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Value, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(custom("key must be a string"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(custom("key must be a string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_objects_that_look_like_tags_are_escaped() {
        let client = json!({"a": {" m": "<script>"}, " t": [1], "n": [{" b": "AA=="}]});
        assert_eq!(
            to_tagged_value(&client).unwrap(),
            json!({
                "a": {" di": {" m__": "<script>"}},
                " t": [1],
                "n": [{" di": {" b__": "AA=="}}],
            })
        );
    }

    #[test]
    fn a_struct_named_like_a_wrapper_by_serde_json_is_not_a_tag() {
        // Only serialize_newtype_struct with the private name tags; a map
        // whose key is the name is an ordinary key.
        let forged = json!({MARKUP_NAME: "<script>"});
        assert_eq!(to_tagged_value(&forged).unwrap(), forged);
    }
}
