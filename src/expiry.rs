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
    /// presented later is refused. Flask has no fixed date: its peers apply
    /// `PERMANENT_SESSION_LIFETIME`, which must then reach at least this far.
    AtDateTime(SystemTime),
}
