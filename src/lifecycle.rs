//! The session's lifecycle beyond its signature: the login stamp that
//! [`Session::renew`](crate::Session::renew) writes, the absolute lifetime
//! counted from it, and the application's validator.
//!
//! The stamp lives in the session itself, under one reserved key
//! ([`LOGIN_KEY`]) holding `{"at_us": <unix microseconds>, "nonce": "<random>"}`:
//! plain JSON that Flask, Quart, Starlette and Django carry along untouched,
//! so a session keeps its stamp whichever side writes it next.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;

use crate::codec::raw::RawMap;
use crate::codec::{json, Format};
use crate::Error;

/// The reserved session key of the login stamp.
///
/// ```
/// assert_eq!(tower_cookie_session::LOGIN_KEY, "_tcs_login");
/// ```
pub const LOGIN_KEY: &str = "_tcs_login";

/// A validator: `false` revokes the session.
pub(crate) type Validator = Arc<dyn Fn(&SessionInfo<'_>) -> bool + Send + Sync>;

/// What a validator ([`SessionLayer::with_validator`](crate::SessionLayer::with_validator))
/// sees of a session whose signature verified: its login stamp, its signed
/// timestamp and typed access to its values. `Debug` shows the times only,
/// never a value.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use tower_cookie_session::{Key, SessionInfo, SessionLayer};
///
/// // Sessions of user 7 issued before this moment are revoked.
/// let not_before = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let layer = SessionLayer::new(Key::generate()).with_validator(move |info: &SessionInfo| {
///     match info.get::<u64>("user_id") {
///         Ok(Some(7)) => info.issued_at().is_some_and(|at| at >= not_before),
///         _ => true,
///     }
/// });
/// # let _ = layer;
/// ```
pub struct SessionInfo<'a> {
    pub(crate) map: &'a RawMap,
    pub(crate) format: Format,
    pub(crate) signed_at: u64,
}

impl SessionInfo<'_> {
    /// When the session was stamped by [`Session::renew`](crate::Session::renew)
    /// (or by its first write under [`with_max_lifetime`](crate::SessionLayer::with_max_lifetime)):
    /// `None` for a session never stamped, such as one a Python peer wrote.
    #[must_use]
    pub fn issued_at(&self) -> Option<SystemTime> {
        issued_at_us(self.map).map(us_to_system_time)
    }

    /// The timestamp the cookie was signed at: its last write or refresh.
    #[must_use]
    pub fn signed_at(&self) -> SystemTime {
        to_system_time(self.signed_at)
    }

    /// The value under `key`, as [`Session::get`](crate::Session::get) reads it.
    ///
    /// # Errors
    ///
    /// If the stored value does not deserialize as `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.map.read(key, self.format.tagged())
    }

    /// Whether `key` is present.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.get_json(key).is_some()
    }
}

impl fmt::Debug for SessionInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionInfo")
            .field("issued_at", &self.issued_at())
            .field("signed_at", &self.signed_at())
            .finish_non_exhaustive()
    }
}

fn to_system_time(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub(crate) fn us_to_system_time(us: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(us)
}

/// The login stamp's time in microseconds since the epoch, if the session
/// holds a well-formed stamp. Microseconds, not the signature's whole
/// seconds (nor milliseconds: CI logged out and in again within one): a
/// login right after a logout-everywhere must be told apart from the
/// sessions that logout revoked. Integers up to 2^53, exact in JSON
/// readers of every language.
pub(crate) fn issued_at_us(map: &RawMap) -> Option<u64> {
    let json = map.get_json(LOGIN_KEY)?;
    serde_json::from_str::<serde_json::Value>(json)
        .ok()?
        .get("at_us")?
        .as_u64()
}

/// A fresh stamp at `now_us` as JSON text in `format`'s layout. The nonce
/// makes every stamped cookie differ from every earlier one, even within
/// the same microsecond.
pub(crate) fn stamp_json(now_us: u64, format: Format) -> String {
    let value = serde_json::json!({ "at_us": now_us, "nonce": nonce() });
    let mut out = Vec::with_capacity(48);
    json::write_value_in(&value, format.style(), &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// 128 random bits; should the OS source fail, a process-wide counter with
/// the time still never repeats within the process.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        bytes[8..].copy_from_slice(&(nanos as u64).to_le_bytes());
    }
    URL_SAFE_NO_PAD.encode(bytes)
}
