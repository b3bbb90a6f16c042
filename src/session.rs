//! The handle a handler uses: [`Session`].

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::codec::raw::RawMap;
use crate::codec::{json, tagged, tagging};
use crate::config::Config;
use crate::state::State;
use crate::{Error, SessionTooLarge};

const PERMANENT: &str = "_permanent";

/// The session of the current request: a map of JSON values, shared by
/// every clone of the handle.
///
/// All methods are synchronous and hold an internal lock only for the call
/// itself, so a `Session` can be used freely across `.await` points. The
/// cookie is decoded on first use; a request whose handler never touches
/// the session pays nothing for it.
///
/// Reads follow Flask's rules (`accessed`, `modified`): any method marks the
/// session accessed (the response then gets `Vary: Cookie`); `insert`,
/// `clear`, `set_permanent` and a `remove` that removes something mark it
/// modified (the response then carries a new cookie).
///
/// See the [crate docs](crate) for the middleware and extractor.
///
/// ```
/// use tower_cookie_session::Session;
///
/// let session = Session::default();
/// session.insert("user_id", 42).unwrap();
/// assert_eq!(session.get::<u64>("user_id").unwrap(), Some(42));
/// assert_eq!(session.remove("user_id"), Some(serde_json::json!(42)));
/// assert!(session.is_empty());
/// ```
#[derive(Clone)]
pub struct Session {
    state: Arc<State>,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            state: Arc::new(State::detached()),
        }
    }
}

impl Session {
    pub(crate) fn from_state(state: Arc<State>) -> Self {
        Self { state }
    }

    /// A session holding `map`, a session in Flask's tagged-JSON form (as
    /// [`Codec::decode`](crate::codec::Codec::decode) returns it).
    ///
    /// ```
    /// use serde_json::json;
    /// use tower_cookie_session::Session;
    ///
    /// let wire = json!({"_flashes": [{" t": ["message", "Hi"]}]});
    /// let session = Session::from_tagged(wire.as_object().unwrap().clone());
    /// assert_eq!(session.get::<Vec<(String, String)>>("_flashes").unwrap().unwrap()[0].1, "Hi");
    /// ```
    #[must_use]
    pub fn from_tagged(map: Map<String, Value>) -> Self {
        let session = Self::default();
        let state = &session.state;
        let mut data = state.lock();
        state.reset(&mut data);
        data.map = Arc::new(RawMap::from_map(&tagged::unwrap_top_level(map)));
        drop(data);
        session
    }

    /// The session in Flask's tagged-JSON form, as it would be written.
    ///
    /// ```
    /// use tower_cookie_session::{flask, Session};
    ///
    /// let session = Session::default();
    /// session.insert("t", flask::Tuple((1, 2))).unwrap();
    /// assert_eq!(serde_json::Value::Object(session.to_tagged()), serde_json::json!({"t": {" t": [1, 2]}}));
    /// ```
    #[must_use]
    pub fn to_tagged(&self) -> Map<String, Value> {
        let map = self.shared().to_tagged_map();
        tagged::wrap_top_level(&map).unwrap_or(map)
    }

    fn touch(&self) {
        self.state.touch();
    }

    fn mark_modified(&self) {
        self.state.mark_modified();
    }

    fn read<R>(&self, f: impl FnOnce(&RawMap) -> R) -> R {
        f(&self.shared())
    }

    fn write<R>(&self, f: impl FnOnce(&mut RawMap) -> R) -> R {
        self.touch();
        let mut data = self.state.lock();
        f(self.state.map_mut(&mut data))
    }

    /// The value under `key`, deserialized from its natural form (a Flask
    /// tuple reads as a sequence, bytes as `Vec<u8>`, a UUID as its
    /// hyphenated string, a datetime as an RFC 3339 string).
    ///
    /// # Errors
    ///
    /// If the stored value does not deserialize as `T`, including a value
    /// `T` cannot hold that a Python peer wrote (an integer beyond `T`'s
    /// range, `NaN`, a lone surrogate): the value stays in the session as
    /// written, and only this read fails. The error names the key and the
    /// type, never the stored value (it may be a secret).
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// assert_eq!(session.get::<String>("missing").unwrap(), None);
    /// session.insert("cart", vec!["apple", "pear"]).unwrap();
    /// assert_eq!(session.get::<Vec<String>>("cart").unwrap().unwrap().len(), 2);
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.shared().read(key, self.state.format().tagged())
    }

    /// The value under `key` in its natural JSON form. `None` if absent,
    /// or if no `serde_json::Value` can hold it (`NaN`, `Infinity`, an
    /// integer beyond 64 bits, a lone surrogate, nesting past 128 levels):
    /// such a value stays in the session as written.
    ///
    /// Only the value read is parsed: the session keeps the JSON text its
    /// cookie carried, and values nobody reads are never decoded.
    ///
    /// ```
    /// use tower_cookie_session::{flask, Session};
    ///
    /// let session = Session::default();
    /// session.insert("raw", flask::Bytes(vec![1, 2])).unwrap();
    /// assert_eq!(session.get_value("raw"), Some(serde_json::json!([1, 2])));
    /// ```
    #[must_use]
    pub fn get_value(&self, key: &str) -> Option<Value> {
        natural(
            key,
            self.shared().get_json(key)?,
            self.state.format().tagged(),
        )
    }

    /// The map, shared: read without holding the lock.
    fn shared(&self) -> Arc<RawMap> {
        self.touch();
        let mut data = self.state.lock();
        Arc::clone(self.state.map(&mut data))
    }

    /// Stores `value` under `key` and marks the session modified (even if the
    /// value is unchanged, as Flask does).
    ///
    /// Under the Flask format, an object whose only key looks like a Flask
    /// tag (`" t"`, `" b"`…) is escaped so that Flask reads it back as the
    /// same object; use the [`flask`](crate::flask) wrappers to store
    /// tuples, bytes and the like. Under the Starlette and Django formats
    /// values are plain JSON, as those frameworks store them.
    ///
    /// # Errors
    ///
    /// If `value` cannot be represented as JSON (a map with non-string keys,
    /// or a serializer error), or nests arrays and objects more than 124
    /// levels deep (the cookie could not be parsed back). Under the
    /// Starlette and Django formats, a [`flask`](crate::flask) wrapper is an
    /// error too: those frameworks have no tuple, bytes or datetime type in
    /// their sessions, and a silent conversion would surprise the Python
    /// side (store the plain value instead). The session is unchanged then.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.insert("user", serde_json::json!({"name": "Zoë"})).unwrap();
    /// assert!(session.is_modified());
    /// ```
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), Error> {
        let text = self.to_json(key, &value)?;
        self.write(|map| map.insert_json(key, text));
        self.mark_modified();
        Ok(())
    }

    /// Stores `value` under `key` only if it differs from the stored one,
    /// and marks the session modified only then; returns whether it
    /// changed. [`insert`](Self::insert) always marks it modified, as
    /// Flask does, which re-sends the cookie. Values are compared as the
    /// JSON text the cookie would carry.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// assert!(session.insert_if_changed("theme", "dark").unwrap());
    /// let session = Session::from_tagged(session.to_tagged());
    /// assert!(!session.insert_if_changed("theme", "dark").unwrap());
    /// assert!(!session.is_modified());
    /// ```
    #[doc(alias = "set_if_changed")]
    pub fn insert_if_changed<T: Serialize>(&self, key: &str, value: T) -> Result<bool, Error> {
        let text = self.to_json(key, &value)?;
        if self.read(|map| map.get_json(key) == Some(text.as_str())) {
            return Ok(false);
        }
        self.write(|map| map.insert_json(key, text));
        self.mark_modified();
        Ok(true)
    }

    /// Removes `key` and returns its value as a `T` (actix-session's name).
    /// A value that is not a `T` stays in the session, and the error says
    /// so; [`remove`](Self::remove) returns the natural JSON value instead.
    ///
    /// # Errors
    ///
    /// If the stored value does not deserialize as `T`.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.insert("user_id", 7).unwrap();
    /// assert!(session.remove_as::<String>("user_id").is_err());
    /// assert_eq!(session.remove_as::<u64>("user_id").unwrap(), Some(7));
    /// assert_eq!(session.remove_as::<u64>("user_id").unwrap(), None);
    /// ```
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let Some(value) = self.get::<T>(key)? else {
            return Ok(None);
        };
        self.write(|map| map.remove(key));
        self.mark_modified();
        Ok(Some(value))
    }

    /// Replaces `key`'s value by `f(current)`, starting from `default` when
    /// absent; stores and returns the new value (a counter in one line).
    ///
    /// # Errors
    ///
    /// If the stored value does not deserialize as `T` (it is left as it
    /// is), or the new one cannot be stored.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// assert_eq!(session.update_or("visits", 0u64, |n| n + 1).unwrap(), 1);
    /// assert_eq!(session.update_or("visits", 0u64, |n| n + 1).unwrap(), 2);
    /// ```
    pub fn update_or<T, F>(&self, key: &str, default: T, f: F) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned + Clone,
        F: FnOnce(T) -> T,
    {
        let current = self.get::<T>(key)?.unwrap_or(default);
        let next = f(current);
        self.insert(key, next.clone())?;
        Ok(next)
    }

    /// `value` as the JSON text this session's format stores.
    fn to_json<T: Serialize>(&self, key: &str, value: &T) -> Result<String, Error> {
        let format = self.state.format();
        let value = if format.tagged() {
            tagging::to_tagged_value(&value)
        } else {
            tagging::to_plain_value(&value)
        }
        .map_err(Error::serialize)?;
        if depth_exceeds(&value, MAX_VALUE_DEPTH) {
            return Err(Error::too_deep(key, MAX_VALUE_DEPTH));
        }
        let mut text = Vec::with_capacity(32);
        json::write_value_in(&value, format.style(), &mut text);
        // The writer emits ASCII only.
        Ok(String::from_utf8(text)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// Removes `key` and returns its value in natural form. Marks the session
    /// modified only if the key was present. A value no `serde_json::Value`
    /// can hold is removed all the same, and `None` is returned for it (see
    /// [`Session::get_value`]).
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// assert_eq!(session.remove("nothing"), None);
    /// assert!(!session.is_modified());
    /// ```
    pub fn remove(&self, key: &str) -> Option<Value> {
        // Only copy a shared map when there is something to remove.
        if self.read(|map| map.get_json(key).is_none()) {
            return None;
        }
        let removed = self.write(|map| map.remove(key));
        let json = removed?;
        self.mark_modified();
        natural(key, &json, self.state.format().tagged())
    }

    /// Removes everything. Always marks the session modified, so the
    /// response deletes the cookie (logout).
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.clear();
    /// assert!(session.is_modified() && session.is_empty());
    /// ```
    #[doc(alias = "flush")]
    #[doc(alias = "purge")]
    #[doc(alias = "logout")]
    pub fn clear(&self) {
        self.touch();
        self.state.reset(&mut self.state.lock());
        self.mark_modified();
    }

    /// Whether `key` is present.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// assert!(!Session::default().contains_key("a"));
    /// ```
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.read(|map| map.get_json(key).is_some())
    }

    /// Number of keys (Flask's `_permanent` and `_flashes` included).
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.insert("a", 1).unwrap();
    /// assert_eq!(session.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.read(RawMap::len)
    }

    /// Whether the session holds no key.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// assert!(Session::default().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.read(RawMap::is_empty)
    }

    /// The keys, in the order the framework writes them: sorted for Flask
    /// (a `Session` outside a layer too); for Starlette and Django, the
    /// order they arrived in with new keys last, as a Python dict keeps them.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.insert("b", 1).unwrap();
    /// session.insert("a", 2).unwrap();
    /// assert_eq!(session.keys(), ["a", "b"]);
    /// ```
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        let sorted = self.state.format().style().sort_keys;
        self.read(|map| {
            let mut keys: Vec<String> = map.keys().map(str::to_owned).collect();
            if sorted {
                keys.sort_unstable();
            }
            keys
        })
    }

    /// Flask's `session.permanent = value`: a permanent session's cookie gets
    /// an `Expires` of now + max age, and (with refresh-each-request, the
    /// default) is re-issued on every response, a sliding expiry. It is
    /// stored as Flask does, under the key `_permanent`.
    ///
    /// Under the Starlette and Django formats every session is permanent
    /// (its cookie carries `Max-Age`, as those frameworks write it) unless
    /// this sets `false`, which makes the cookie a browser-session cookie;
    /// the `_permanent` key then travels with the session, and Python
    /// carries it along untouched.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.set_permanent(true);
    /// assert!(session.is_permanent());
    /// ```
    pub fn set_permanent(&self, permanent: bool) {
        self.touch();
        let value = if permanent { "true" } else { "false" };
        self.write(|map| map.insert_json(PERMANENT, value.to_owned()));
        self.mark_modified();
    }

    /// Flask's `session.permanent`; under the Starlette and Django formats,
    /// `true` unless [`set_permanent(false)`](Self::set_permanent) was
    /// stored.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// assert!(!Session::default().is_permanent());
    /// ```
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        match &self.state.config {
            Some(config) => self.read(|map| config.is_permanent(map)),
            None => self.read(RawMap::is_permanent),
        }
    }

    /// Starts a new login: call it at login and at every privilege change
    /// (OWASP ASVS 5.0 V7.2.4). Stamps the session with the login time and
    /// a random nonce under the reserved key [`LOGIN_KEY`](crate::LOGIN_KEY)
    /// and marks it modified, so the response carries a cookie that differs
    /// from every earlier one, and a validator can tell this login from
    /// older copies ([`SessionInfo::issued_at`](crate::SessionInfo::issued_at)).
    /// The absolute lifetime ([`SessionLayer::with_max_lifetime`](crate::SessionLayer::with_max_lifetime))
    /// counts from here. The session's values are kept: to start from
    /// nothing, [`clear`](Self::clear) first.
    ///
    /// A stateless cookie cannot be revoked by the server on its own: the
    /// previous cookie still verifies until its timestamp expires, unless a
    /// validator rejects its older stamp (see the README, "Logging out for
    /// real").
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.insert("user_id", 7).unwrap();
    /// session.renew();
    /// assert!(session.issued_at().is_some() && session.is_modified());
    /// ```
    #[doc(alias = "cycle_id")]
    #[doc(alias = "regenerate")]
    pub fn renew(&self) {
        let stamp = crate::lifecycle::stamp_json(self.state.now_us(), self.state.format());
        self.write(|map| map.insert_json(crate::LOGIN_KEY, stamp));
        self.mark_modified();
    }

    /// When this session's login began: the stamp [`renew`](Self::renew)
    /// wrote (or the first write under
    /// [`with_max_lifetime`](crate::SessionLayer::with_max_lifetime)).
    /// `None` for a session never stamped.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// assert_eq!(Session::default().issued_at(), None);
    /// ```
    #[must_use]
    pub fn issued_at(&self) -> Option<std::time::SystemTime> {
        self.read(crate::lifecycle::issued_at_us)
            .map(crate::lifecycle::us_to_system_time)
    }

    /// Whether the session was changed during this request.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// let _ = session.get::<u8>("x");
    /// assert!(!session.is_modified());
    /// ```
    #[must_use]
    pub fn is_modified(&self) -> bool {
        self.state.is_modified()
    }

    /// Whether the session was used at all during this request.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// assert!(!session.is_accessed());
    /// let _ = session.len();
    /// assert!(session.is_accessed());
    /// ```
    #[must_use]
    pub fn is_accessed(&self) -> bool {
        self.state.is_accessed()
    }

    /// The bytes this session's cookies would add to the request `Cookie`
    /// line if it were written now, or the [`SessionTooLarge`] error the
    /// layer would answer with. Lets a handler act before the response (trim
    /// a cart, tell the user).
    ///
    /// A session that does not come from a [`SessionLayer`](crate::SessionLayer)
    /// is measured with the layer's defaults and a throwaway key.
    ///
    /// # Errors
    ///
    /// [`SessionTooLarge`] when the session exceeds the layer's budget.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::default();
    /// session.insert("user_id", 42).unwrap();
    /// assert!(session.encoded_len().unwrap() < 100);
    /// let noise: Vec<u64> = (0..4000u64).map(|i| i.wrapping_mul(2_654_435_761) % 1_000_003).collect();
    /// session.insert("noise", noise).unwrap();
    /// assert!(session.encoded_len().is_err());
    /// ```
    pub fn encoded_len(&self) -> Result<usize, SessionTooLarge> {
        self.touch();
        let detached;
        let config = match &self.state.config {
            Some(config) => config,
            None => {
                detached = Config::detached();
                &detached
            }
        };
        // The save's own rendering, on a copy: what the write would add
        // (login stamp, `_permanent`) is counted, and nothing is kept.
        self.state
            .render(config, config.now(), false)
            .map(|rendered| rendered.plan.request_bytes)
    }

    /// The cookie name of the layer that created this session, if any.
    pub(crate) fn cookie_name(&self) -> Option<&str> {
        self.state.config.as_deref().map(|c| c.names.name.as_str())
    }
}

/// The natural view of a stored value: parsed, untagged. `None` for what
/// `serde_json::Value` cannot hold (NaN, ±Infinity, integers beyond 64
/// bits, lone surrogates, nesting past 128): it stays in the session as
/// written, readable with [`Session::get`] into a type that can hold it.
fn natural(key: &str, json: &str, tagged: bool) -> Option<Value> {
    let wire = if json::has_out_of_range_integer(json.as_bytes()) {
        None
    } else {
        serde_json::from_str::<Value>(json).ok()
    };
    if wire.is_none() {
        tracing::debug!(
            key,
            "session value has no serde_json::Value form; kept as written"
        );
    }
    if tagged {
        wire.map(|w| tagged::untag(&w))
    } else {
        wire
    }
}

/// serde_json refuses to parse JSON nested deeper than 128 levels (which
/// keeps parsing stack-safe). The session object is one level, and a
/// top-level escape (`{" di": {…}}`) two more: a value nested deeper than
/// this would be written, then read back as no session at all.
const MAX_VALUE_DEPTH: usize = 124;

/// Whether `value` nests arrays and objects deeper than `limit`, without
/// recursion (the value may come from anywhere).
fn depth_exceeds(value: &Value, limit: usize) -> bool {
    let mut stack = vec![(value, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::Array(_) if depth > limit => return true,
            Value::Object(_) if depth > limit => return true,
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    false
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Session values can be secrets (tokens, CSRF keys): show the shape only.
        f.debug_struct("Session")
            .field("accessed", &self.is_accessed())
            .field("modified", &self.is_modified())
            .finish_non_exhaustive()
    }
}
