//! Flask-Login's session keys, `_id` fingerprint and remember-me cookie
//! (`flask_login/{utils,login_manager}.py`, 0.6.3).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde_json::Value;
use sha2::{Digest as _, Sha512};
use subtle::ConstantTimeEq;

use super::RememberCookie;
use crate::cookie::attributes::{Attributes, CookieExpiry};
use crate::cookie::request::request_cookie_first;
use crate::{Key, Session};

/// Flask-Login's `SESSION_KEYS`: what a strong-protection failure removes.
const SESSION_KEYS: [&str; 6] = [
    "_user_id",
    "_remember",
    "_remember_seconds",
    "_id",
    "_fresh",
    "next",
];
/// `REMEMBER_COOKIE_DURATION`: 365 days.
const REMEMBER_DAYS: u64 = 365;

/// Which Flask-Login computes the `_id` fingerprint.
///
/// ```
/// use tower_cookie_session::login::{FlaskLogin, FlaskLoginVersion};
/// use tower_cookie_session::Key;
///
/// let login = FlaskLogin::new(Key::new("flask-secret")?).with_version(FlaskLoginVersion::V0_7);
/// # let _ = login;
/// # Ok::<_, tower_cookie_session::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FlaskLoginVersion {
    /// 0.6.3, the release on PyPI: the first `X-Forwarded-For` entry if the
    /// header is present (the client controls it), else the peer address;
    /// `b'…'|b'…'` (Python's bytes repr) hashed with SHA-512.
    #[default]
    V0_6,
    /// The unreleased 0.7 (main branch): always the peer address, never
    /// `X-Forwarded-For`; `addr|user-agent`.
    V0_7,
}

/// Flask-Login's `SESSION_PROTECTION`.
///
/// ```
/// use tower_cookie_session::login::{FlaskLogin, SessionProtection};
/// use tower_cookie_session::Key;
///
/// let login = FlaskLogin::new(Key::new("flask-secret")?).with_session_protection(SessionProtection::Strong);
/// # let _ = login;
/// # Ok::<_, tower_cookie_session::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionProtection {
    /// No fingerprint check.
    Off,
    /// A session from another client stays logged in but is no longer
    /// fresh (Flask-Login's default).
    #[default]
    Basic,
    /// A session from another client is logged out (unless permanent).
    Strong,
}

/// Whether a login also sets the remember-me cookie.
///
/// ```
/// use std::time::Duration;
/// use tower_cookie_session::login::Remember;
///
/// let remember = Remember::For(Duration::from_secs(86_400));
/// # let _ = remember;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remember {
    /// No remember cookie: the login ends with the session.
    No,
    /// For Flask-Login's `REMEMBER_COOKIE_DURATION` (365 days).
    Yes,
    /// For this long (`login_user(…, duration=…)`, kept in the session as
    /// `_remember_seconds`).
    For(Duration),
}

/// The client as Flask-Login fingerprints it: its headers and the peer
/// address the Python app would see as `REMOTE_ADDR` (behind one proxy
/// without `ProxyFix`, both see the proxy).
///
/// ```
/// use tower_cookie_session::login::Client;
///
/// let headers = http::HeaderMap::new();
/// let client = Client::new(&headers, Some([203, 0, 113, 7].into()));
/// # let _ = client;
/// ```
#[derive(Clone, Copy)]
pub struct Client<'a> {
    headers: &'a HeaderMap,
    remote_addr: Option<IpAddr>,
}

impl std::fmt::Debug for Client<'_> {
    /// The peer address only: the headers hold the session and remember
    /// cookies, which are credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}

impl<'a> Client<'a> {
    /// The request's headers and its peer address (axum's `ConnectInfo`).
    #[must_use]
    pub fn new(headers: &'a HeaderMap, remote_addr: Option<IpAddr>) -> Self {
        Self {
            headers,
            remote_addr,
        }
    }
}

/// Who is logged in, as Flask-Login's `current_user` says.
///
/// ```
/// use tower_cookie_session::login::FlaskUser;
///
/// fn greet(user: &FlaskUser) -> String {
///     format!("user {} ({})", user.id, if user.fresh { "fresh" } else { "remembered" })
/// }
/// # let _ = greet;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlaskUser {
    /// `_user_id`: what the Python app's `get_id()` returned, as text.
    pub id: String,
    /// `login_fresh()`: logged in with credentials in this session, not
    /// restored from the remember cookie or flagged by session protection.
    pub fresh: bool,
}

#[derive(Clone)]
struct Config {
    key: Key,
    version: FlaskLoginVersion,
    protection: SessionProtection,
    remember_name: String,
    remember: Attributes,
    remember_duration: Duration,
}

/// Logs users in and out the way Flask-Login does, in the session a Flask
/// app shares: a Rust route sees the Flask login, a Rust login is one
/// Flask-Login accepts (under "basic" and "strong" protection), and a
/// logout on either side holds on both, remember-me included.
///
/// ```
/// use std::net::Ipv4Addr;
/// use tower_cookie_session::login::{Client, FlaskLogin, Remember};
/// use tower_cookie_session::{Key, Session};
///
/// let login = FlaskLogin::new(Key::new("flask-secret-key")?);
/// let session = Session::default();
/// let headers = http::HeaderMap::new();
/// let client = Client::new(&headers, Some(Ipv4Addr::LOCALHOST.into()));
///
/// let cookie = login.login(&session, &client, "42", Remember::Yes);
/// assert!(cookie.header().is_some()); // remember_token=42|…
/// assert_eq!(login.user(&session, &client).map(|u| u.id), Some("42".to_owned()));
/// let cookie = login.logout(&session, &client);
/// assert_eq!(login.user(&session, &client), None);
/// # let _ = cookie;
/// # Ok::<_, tower_cookie_session::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct FlaskLogin {
    config: Arc<Config>,
}

impl std::fmt::Debug for FlaskLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlaskLogin")
            .field("version", &self.config.version)
            .field("protection", &self.config.protection)
            .field("remember_cookie", &self.config.remember_name)
            .finish_non_exhaustive()
    }
}

impl FlaskLogin {
    /// With the Flask app's `SECRET_KEY`, which signs the remember cookie
    /// (Flask-Login uses it raw, and no fallback key: a key rotation ends
    /// every remember-me login).
    #[must_use]
    pub fn new(secret_key: Key) -> Self {
        let key = latin1_key(secret_key);
        let mut remember = Attributes::default();
        // Flask-Login's defaults: not Secure, HttpOnly, no SameSite, Expires only.
        remember.secure = false;
        remember.same_site = None;
        remember.max_age_attribute = false;
        remember.expires_attribute = true;
        Self {
            config: Arc::new(Config {
                key,
                version: FlaskLoginVersion::default(),
                protection: SessionProtection::default(),
                remember_name: "remember_token".to_owned(),
                remember: remember.rebuilt(),
                remember_duration: Duration::from_secs(REMEMBER_DAYS * 86_400),
            }),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Which release's `_id` to write and check (default 0.6.3).
    #[must_use]
    pub fn with_version(mut self, version: FlaskLoginVersion) -> Self {
        self.config_mut().version = version;
        self
    }

    /// The Python app's `SESSION_PROTECTION` (default basic).
    #[must_use]
    pub fn with_session_protection(mut self, protection: SessionProtection) -> Self {
        self.config_mut().protection = protection;
        self
    }

    /// `REMEMBER_COOKIE_DURATION` (default 365 days).
    #[must_use]
    pub fn with_remember_duration(mut self, duration: Duration) -> Self {
        self.config_mut().remember_duration = duration;
        self
    }

    /// `REMEMBER_COOKIE_SECURE` (default `false`, as Flask-Login).
    #[must_use]
    pub fn with_remember_secure(mut self, secure: bool) -> Self {
        let config = self.config_mut();
        config.remember.secure = secure;
        config.remember.rebuild();
        self
    }

    /// The `_id` Flask-Login computes for this client.
    #[must_use]
    pub fn identifier(&self, client: &Client<'_>) -> String {
        identifier(self.config.version, client)
    }

    /// `current_user` (Flask-Login's `_load_user`): session protection,
    /// then `_user_id`, else the remember cookie — which, as in Flask,
    /// restores `_user_id` with `_fresh: false`. Under strong protection a
    /// session from another client is emptied of the login keys and
    /// `_remember: "clear"` tells the Flask side to delete the cookie.
    #[must_use]
    pub fn user(&self, session: &Session, client: &Client<'_>) -> Option<FlaskUser> {
        if self.protection_failed(session, client) {
            return None;
        }
        if let Some(id) = session.get_value("_user_id").and_then(id_text) {
            let fresh = session.get_value("_fresh") == Some(Value::Bool(true));
            return Some(FlaskUser { id, fresh });
        }
        let remembered = request_cookie_first(client.headers, &self.config.remember_name)?;
        if session.get_value("_remember") == Some(Value::from("clear")) {
            return None;
        }
        let id = self.decode_remember_cookie(&remembered)?;
        let _ = session.insert("_user_id", &id);
        let _ = session.insert("_fresh", false);
        Some(FlaskUser { id, fresh: false })
    }

    /// `_session_protection_failed`.
    fn protection_failed(&self, session: &Session, client: &Client<'_>) -> bool {
        let protection = self.config.protection;
        if protection == SessionProtection::Off || session.is_empty() {
            return false;
        }
        let ident = self.identifier(client);
        if session.get_value("_id").as_ref().and_then(Value::as_str) == Some(ident.as_str()) {
            return false;
        }
        // Flask-Login reads `session.get("_permanent", False)`: the key,
        // not the layer's default permanence.
        let permanent = session.get_value("_permanent") == Some(Value::Bool(true));
        if protection == SessionProtection::Basic || permanent {
            if session.get_value("_fresh") != Some(Value::Bool(false)) {
                let _ = session.insert("_fresh", false);
            }
            return false;
        }
        for key in SESSION_KEYS {
            session.remove(key);
        }
        let _ = session.insert("_remember", "clear");
        true
    }

    /// `login_user(user, remember=…)`: `_user_id` (as text, what
    /// `UserMixin.get_id()` returns), `_fresh`, `_id`; with `remember`, the
    /// remember cookie to send (Flask-Login would send it from its
    /// `after_request` hook; here the handler returns it).
    pub fn login(
        &self,
        session: &Session,
        client: &Client<'_>,
        user_id: &str,
        remember: Remember,
    ) -> RememberCookie {
        // A new login stamp (`Session::renew`): `with_max_lifetime` and a
        // logout-everywhere validator count from here, as for any login.
        session.renew();
        let _ = session.insert("_user_id", user_id);
        let _ = session.insert("_fresh", true);
        let _ = session.insert("_id", self.identifier(client));
        session.remove("_remember");
        let duration = match remember {
            Remember::No => {
                session.remove("_remember_seconds");
                return RememberCookie(None);
            }
            Remember::Yes => session
                .get_value("_remember_seconds")
                .and_then(|v| v.as_f64())
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .unwrap_or(self.config.remember_duration),
            Remember::For(duration) => {
                let _ = session.insert("_remember_seconds", duration.as_secs_f64());
                duration
            }
        };
        let value = self.remember_cookie_value(user_id);
        // A duration past year 9999 (`Duration::MAX`: "forever") is capped
        // there rather than overflowing the date.
        let expires = time::Duration::try_from(duration)
            .ok()
            .and_then(|d| time::OffsetDateTime::now_utc().checked_add(d))
            .unwrap_or_else(|| {
                time::OffsetDateTime::new_utc(
                    time::Date::from_calendar_date(9999, time::Month::December, 31)
                        .unwrap_or(time::Date::MAX),
                    time::Time::MIDNIGHT,
                )
            });
        let expiry = CookieExpiry::At {
            expires,
            max_age: duration.as_secs(),
        };
        let mut header =
            self.config
                .remember
                .set_cookie(&self.config.remember_name, &value, &expiry);
        // HTTP/2 must not index a credential (HPACK's never-indexed form).
        if let Some(h) = &mut header {
            h.set_sensitive(true);
        }
        RememberCookie(header)
    }

    /// `logout_user()`: removes `_user_id`, `_fresh`, `_id` (other keys,
    /// a cart or `csrf_token`, stay) and, if the request carries the
    /// remember cookie, deletes it — and writes `_remember: "clear"`, so a
    /// Flask request that still sees the cookie deletes it instead of
    /// logging the user back in.
    pub fn logout(&self, session: &Session, client: &Client<'_>) -> RememberCookie {
        for key in ["_user_id", "_fresh", "_id"] {
            session.remove(key);
        }
        if request_cookie_first(client.headers, &self.config.remember_name).is_none() {
            return RememberCookie(None);
        }
        let _ = session.insert("_remember", "clear");
        session.remove("_remember_seconds");
        RememberCookie(self.config.remember.set_cookie(
            &self.config.remember_name,
            "",
            &CookieExpiry::Delete,
        ))
    }

    /// `encode_cookie(user_id)`: `id|HMAC-SHA512(SECRET_KEY, id)` in hex.
    #[must_use]
    pub fn remember_cookie_value(&self, user_id: &str) -> String {
        format!("{user_id}|{}", hex(&self.digest(user_id)))
    }

    /// `decode_cookie(value)`: the user id if the digest verifies.
    #[must_use]
    pub fn decode_remember_cookie(&self, value: &str) -> Option<String> {
        let (id, digest) = value.rsplit_once('|')?;
        let expected = hex(&self.digest(id));
        bool::from(expected.as_bytes().ct_eq(digest.as_bytes())).then(|| id.to_owned())
    }

    fn digest(&self, payload: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(self.config.key.bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Flask-Login's `_secret_key`: a `str` `SECRET_KEY` is encoded as Latin-1
/// (the session's itsdangerous uses UTF-8). A key given as UTF-8 text whose
/// characters all fit Latin-1 is re-encoded; any other key is used as is
/// (Python could not encode it: its remember cookies fail there too).
fn latin1_key(key: Key) -> Key {
    let Ok(text) = std::str::from_utf8(key.bytes()) else {
        return key;
    };
    if text.is_ascii() {
        return key;
    }
    let latin1: Option<Vec<u8>> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    latin1.and_then(|bytes| Key::new(bytes).ok()).unwrap_or(key)
}

/// `_user_id` as Flask-Login hands it to `user_loader`: text; a number
/// written by another writer is read as its text.
fn id_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A header's text as Werkzeug hands it to Python: each byte one Latin-1
/// character, so `.encode("utf-8")` doubles bytes over 0x7F.
fn latin1_utf8(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|b| char::from(*b))
        .collect::<String>()
        .into_bytes()
}

/// Python's `str(bytes)`: `b'…'` with its escapes.
fn py_bytes_repr(bytes: &[u8], out: &mut String) {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.push('b');
    out.push(char::from(quote));
    for &c in bytes {
        match c {
            b'\\' => out.push_str("\\\\"),
            _ if c == quote => {
                out.push('\\');
                out.push(char::from(c));
            }
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(char::from(c)),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(char::from(quote));
}

/// `_create_identifier()` for `version`.
fn identifier(version: FlaskLoginVersion, client: &Client<'_>) -> String {
    let header = |name: &str| client.headers.get(name).map(|v| latin1_utf8(v.as_bytes()));
    let user_agent = header("user-agent");
    let mut base = String::new();
    match version {
        FlaskLoginVersion::V0_6 => {
            let addr = header("x-forwarded-for")
                .or_else(|| client.remote_addr.map(|a| a.to_string().into_bytes()))
                .map(|a| {
                    let first = a.split(|b| *b == b',').next().unwrap_or_default();
                    first.trim_ascii().to_vec()
                });
            match addr {
                Some(a) => py_bytes_repr(&a, &mut base),
                None => base.push_str("None"),
            }
            base.push('|');
            match user_agent {
                Some(ua) => py_bytes_repr(&ua, &mut base),
                None => base.push_str("None"),
            }
        }
        FlaskLoginVersion::V0_7 => {
            match client.remote_addr {
                Some(a) => base.push_str(&a.to_string()),
                None => base.push_str("None"),
            }
            base.push('|');
            base.push_str(&String::from_utf8_lossy(&user_agent.unwrap_or_default()));
        }
    }
    hex(&Sha512::digest(base.as_bytes()))
}

/// For the vectors: the identifier of explicit inputs.
#[cfg(test)]
pub(crate) fn identifier_of(
    version: FlaskLoginVersion,
    headers: &HeaderMap,
    addr: Option<IpAddr>,
) -> String {
    identifier(version, &Client::new(headers, addr))
}
