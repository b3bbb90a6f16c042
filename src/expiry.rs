//! [`Expiry`]: one knob for when a session ends, over Flask's three.

use std::time::{Duration, SystemTime};

/// When a session ends: the front door over Flask's three knobs
/// ([`with_max_age`](crate::SessionLayer::with_max_age), the per-session
/// [`set_permanent`](crate::Session::set_permanent) and
/// [`with_refresh_each_request`](crate::SessionLayer::with_refresh_each_request)),
/// for [`SessionLayer::with_expiry`](crate::SessionLayer::with_expiry).
/// Each variant is written so that a Flask (or Quart) peer with the same
/// settings agrees on every cookie.
///
/// ```
/// use std::time::Duration;
/// use tower_cookie_session::{Expiry, Key, SessionLayer};
///
/// // Logged out after an hour without a request, as tower-sessions'
/// // `Expiry::OnInactivity` would.
/// let layer = SessionLayer::new(Key::generate())
///     .with_expiry(Expiry::OnInactivity(Duration::from_secs(3600)));
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiry {
    /// A browser-session cookie (no `Expires`, no `Max-Age`): it ends when
    /// the browser says so. Sessions are not permanent unless a handler
    /// (or a Flask peer) makes them so; the signature still expires after
    /// the max age. Flask's default (`session.permanent = False`).
    OnSessionEnd,
    /// Ends after this long without a request: every session is permanent
    /// (the layer sets Flask's `_permanent` on first write, so Flask peers
    /// treat it alike), the max age is this duration and each request
    /// re-signs it (throttle with
    /// [`with_refresh_after`](crate::SessionLayer::with_refresh_after)). In
    /// Flask: `session.permanent = True`, `PERMANENT_SESSION_LIFETIME` =
    /// this, `SESSION_REFRESH_EACH_REQUEST = True`.
    OnInactivity(Duration),
    /// Ends at this time, whatever happens until then: the cookie's
    /// `Expires` is this date (no `Max-Age`), no refresh, and a session
    /// presented later is refused. Until then the max age does not apply:
    /// a session written today is read until the date, even 60 days on.
    /// Browsers keep a cookie at most 400 days, so a date further away is
    /// written as 400 days from the write (never a date past year 9999).
    /// Flask has no fixed date: its peers apply
    /// `PERMANENT_SESSION_LIFETIME`, which must then reach at least this far.
    AtDateTime(SystemTime),
}

/// The session key where Django's `request.session.set_expiry()` keeps a
/// session's own expiry.
pub(crate) const DJANGO_EXPIRY_KEY: &str = "_session_expiry";

/// A Django session's own expiry (`_session_expiry`), read as Django 5.2's
/// `SessionBase.get_expiry_age` and `get_expire_at_browser_close` do. Only
/// the Django format reads it; to the others it is one more value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionExpiry {
    /// `set_expiry(0)`: a browser-session cookie. Python's `False == 0`, so
    /// `false` is one too.
    BrowserClose,
    /// `set_expiry(n)`: `n` seconds after the last write (the cookie's
    /// `Max-Age`). `true` is Python's `1`.
    Seconds(i64),
    /// `set_expiry(datetime)`, stored as its `isoformat()`: ends then, in
    /// microseconds since the Unix epoch.
    AtMicros(i64),
}

impl SessionExpiry {
    /// The expiry `json` (the raw value of `_session_expiry`) asks for, or
    /// `None` where Django falls back to `SESSION_COOKIE_AGE` (`null`, `""`,
    /// any other falsy value) or would raise (a string `fromisoformat`
    /// refuses: logged, and the default applies).
    pub(crate) fn from_json(json: &str) -> Option<Self> {
        match serde_json::from_str::<serde_json::Value>(json).ok()? {
            serde_json::Value::Bool(false) => Some(Self::BrowserClose),
            serde_json::Value::Bool(true) => Some(Self::Seconds(1)),
            serde_json::Value::Number(n) => {
                // Django's `set_cookie` takes `int(max_age)`: truncated.
                let secs = n.as_i64().or_else(|| {
                    n.as_f64()
                        .map(|f| f.trunc().clamp(i64::MIN as f64, i64::MAX as f64) as i64)
                })?;
                Some(if secs == 0 && n.as_f64() == Some(0.0) {
                    Self::BrowserClose
                } else {
                    Self::Seconds(secs)
                })
            }
            serde_json::Value::String(s) if s.is_empty() => None,
            serde_json::Value::String(s) => {
                let at = parse_isoformat(&s);
                if at.is_none() {
                    tracing::warn!(value = %s, "`_session_expiry` is not a date Django could read; the default lifetime applies");
                }
                at.map(Self::AtMicros)
            }
            _ => None,
        }
    }

    /// The cookie's `Max-Age` for a write at `now_us`: `None` for a
    /// browser-session cookie. As Django: `delta.days * 86400 +
    /// delta.seconds`, the whole seconds to the date rounded down.
    pub(crate) fn max_age(self, now_us: u64) -> Option<i64> {
        match self {
            Self::BrowserClose => None,
            Self::Seconds(secs) => Some(secs),
            Self::AtMicros(at) => {
                let now = i64::try_from(now_us).unwrap_or(i64::MAX);
                Some(at.saturating_sub(now).div_euclid(1_000_000))
            }
        }
    }

    /// Whether a session signed at `signed_at` is past this expiry at `now`
    /// (seconds). Django's signed-cookie backend checks only
    /// `SESSION_COOKIE_AGE` on read (Django ticket #19201); the layer also
    /// holds the session to the lifetime its cookie was given, so a copied
    /// cookie lives no longer than the browser's would.
    pub(crate) fn is_past(self, signed_at: u64, now: u64) -> bool {
        match self {
            Self::BrowserClose => false,
            Self::Seconds(secs) => {
                let age = i64::try_from(now.saturating_sub(signed_at)).unwrap_or(i64::MAX);
                age > secs
            }
            Self::AtMicros(at) => {
                let now_us = i64::try_from(now.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
                now_us > at
            }
        }
    }
}

/// Python's `datetime.fromisoformat` for what Django writes
/// (`datetime.isoformat()`: `YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]`), in
/// microseconds since the Unix epoch. A date without an offset (Django
/// with `USE_TZ = False`, local time) is taken as UTC.
fn parse_isoformat(text: &str) -> Option<i64> {
    use time::format_description::well_known::Iso8601;
    let at = time::OffsetDateTime::parse(text, &Iso8601::DEFAULT)
        .or_else(|_| {
            time::PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).map(|t| t.assume_utc())
        })
        .ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn djangos_expiry_values_read_as_django_reads_them() {
        use SessionExpiry::{AtMicros, BrowserClose, Seconds};
        let t0 = 1_700_000_000_000_000;
        for (json, expected) in [
            ("0", Some(BrowserClose)),
            ("0.0", Some(BrowserClose)),
            ("false", Some(BrowserClose)),
            ("true", Some(Seconds(1))),
            ("300", Some(Seconds(300))),
            ("300.9", Some(Seconds(300))),
            ("-5", Some(Seconds(-5))),
            ("null", None),
            ("\"\"", None),
            ("\"not a date\"", None),
            ("[]", None),
            (
                "\"2023-11-15T22:13:20.250000+00:00\"",
                Some(AtMicros(t0 + 86_400_000_000 + 250_000)),
            ),
            (
                "\"2023-11-15T22:13:20+00:00\"",
                Some(AtMicros(t0 + 86_400_000_000)),
            ),
            (
                "\"2023-11-15T23:13:20+01:00\"",
                Some(AtMicros(t0 + 86_400_000_000)),
            ),
            (
                "\"2023-11-15T22:13:20\"",
                Some(AtMicros(t0 + 86_400_000_000)),
            ),
        ] {
            assert_eq!(SessionExpiry::from_json(json), expected, "{json}");
        }
    }

    #[test]
    fn the_max_age_is_the_whole_seconds_to_the_date_rounded_down() {
        let now = 1_700_000_000_000_000u64;
        let at = |us: i64| SessionExpiry::AtMicros(now as i64 + us);
        assert_eq!(at(86_400_250_000).max_age(now), Some(86_400));
        assert_eq!(at(-1).max_age(now), Some(-1));
        assert_eq!(at(-3_600_000_000).max_age(now), Some(-3600));
        assert_eq!(SessionExpiry::BrowserClose.max_age(now), None);
        assert_eq!(SessionExpiry::Seconds(300).max_age(now), Some(300));
    }

    #[test]
    fn a_session_is_held_to_its_own_expiry() {
        let s = SessionExpiry::Seconds(300);
        assert!(!s.is_past(1000, 1300));
        assert!(s.is_past(1000, 1301));
        assert!(!SessionExpiry::BrowserClose.is_past(0, u64::MAX / 2));
        let at = SessionExpiry::AtMicros(2_000_000_000);
        assert!(!at.is_past(0, 2000));
        assert!(at.is_past(0, 2001));
    }
}
