//! [`SessionLayer`]: configuration and `impl Layer`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use crate::codec::{Codec, Digest, Key, KeyDerivation};
use crate::config::Config;
use crate::policy::{Compression, OversizePolicy};
use crate::{ConfigError, SameSite, SessionService};

/// Keeps a session in signed cookies that a Flask (or Quart), Starlette
/// (or FastAPI) or Django app with the same secret reads and writes too.
///
/// [`SessionLayer::new`] speaks Flask's format, [`SessionLayer::starlette`]
/// and [`SessionLayer::django`] those frameworks'. Defaults are the
/// framework's where they concern the format (for Flask: cookie `session`,
/// salt `cookie-session`, 31-day lifetime, refresh each request) and secure
/// ones where they concern the browser (`Secure`, `HttpOnly`,
/// `SameSite=Lax`). The configuration is checked when the layer is applied:
/// a `__Host-` name without `Secure`, say, panics at start-up rather than
/// failing at request time.
///
/// See the [crate docs](crate) for more.
///
/// ```
/// use std::time::Duration;
/// use tower_cookie_session::{Key, SameSite, SessionLayer};
///
/// let layer = SessionLayer::new(Key::generate())
///     .with_cookie_name("__Host-session").unwrap()
///     .with_same_site(SameSite::Strict)
///     .with_max_age(Duration::from_secs(12 * 3600));
/// # let _ = layer;
/// ```
#[derive(Clone)]
#[must_use]
pub struct SessionLayer {
    config: Arc<Config>,
}

impl SessionLayer {
    /// A layer signing with `key` in Flask's format (Quart's too).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::new(std::env::var("SECRET_KEY").unwrap_or("dev".into())).unwrap());
    /// # let _ = layer;
    /// ```
    pub fn new(key: Key) -> Self {
        Self::for_codec(Codec::new(key))
    }

    /// A layer that shares its session with a Quart app signing with the
    /// same `SECRET_KEY`: Flask's format and defaults, with keys written in
    /// insertion order as Quart writes them ([`Codec::quart`]). A Flask app
    /// reads these cookies too, and this layer reads Flask's. Quart's own
    /// default has no `SameSite`; this layer sends `Lax`, as for Flask.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::quart(Key::new("the Quart app's SECRET_KEY").unwrap());
    /// # let _ = layer;
    /// ```
    pub fn quart(key: Key) -> Self {
        Self::for_codec(Codec::quart(key))
    }

    /// A layer that shares its session with a Starlette or FastAPI app's
    /// `SessionMiddleware` signing with the same `secret_key`: the cookie
    /// format of [`Codec::starlette`] and Starlette's defaults — cookie
    /// `session`, `max_age` two weeks sent as `Max-Age` on every write, a
    /// cookie written only when the session changed (no sliding refresh),
    /// a deletion only when the request carried a valid session. Values
    /// are plain JSON (no Flask tags; a [`flask`](crate::flask) wrapper is
    /// an error). As for Flask, `Secure` stays on by default, where
    /// Starlette's `https_only` is off: call `with_secure(false)` for
    /// plain-HTTP development. Every `with_*` builder still applies.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// // The `secret_key` the FastAPI app passes to SessionMiddleware.
    /// let layer = SessionLayer::starlette(Key::new("the FastAPI app's secret_key").unwrap());
    /// # let _ = layer;
    /// ```
    pub fn starlette(key: Key) -> Self {
        Self::for_codec(Codec::starlette(key))
    }

    /// A layer that shares its session with a Django app using the
    /// `signed_cookies` session backend with the same `SECRET_KEY`: the
    /// cookie format of [`Codec::django`] and Django's defaults — cookie
    /// `sessionid`, `SESSION_COOKIE_AGE` two weeks sent as `Max-Age` and
    /// `Expires`, a cookie written only when the session changed
    /// (`SESSION_SAVE_EVERY_REQUEST` is
    /// [`with_refresh_each_request(true)`](Self::with_refresh_each_request)),
    /// a deletion only when the request carried the cookie.
    /// `SECRET_KEY_FALLBACKS` are [`with_fallback_keys`](Self::with_fallback_keys).
    /// Values are plain JSON (no Flask tags). As for Flask, `Secure` stays
    /// on by default, where Django's `SESSION_COOKIE_SECURE` is off.
    ///
    /// Django's `auth` keeps its login in the session (`_auth_user_id`,
    /// `_auth_user_backend`, `_auth_user_hash`): a Rust route can read who
    /// is logged in from the cookie alone.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::django(Key::new("django-insecure-the-settings-secret").unwrap())
    ///     .with_fallback_keys([Key::new("the previous SECRET_KEY").unwrap()]);
    /// # let _ = layer;
    /// ```
    pub fn django(key: Key) -> Self {
        Self::for_codec(Codec::django(key))
    }

    /// A layer that keeps the session **encrypted**, for applications with
    /// no Python peer: the client can neither read nor change it.
    ///
    /// AES-256-GCM-SIV with a random nonce per write, under a key derived
    /// from `key` with HKDF-SHA256 and a purpose label (never the secret
    /// itself, never a signing key). The cookie name is associated data (a
    /// cookie moved to another name fails), the signed timestamp is inside
    /// the authenticated plaintext, and the token starts with a version
    /// byte; see the README, "Signed or encrypted?". Everything else works
    /// as for the signed formats: fallback keys decrypt while the main key
    /// encrypts ([`with_fallback_keys`](Self::with_fallback_keys)), the
    /// max age is an authenticated expiry, sessions are chunked under the
    /// budget, the decode cache and lazy values apply, and so do the
    /// lifecycle options. Values are plain JSON (no Flask tags).
    ///
    /// Defaults: cookie `session`, two weeks, `Max-Age` and `Expires` on
    /// every write, a cookie written only when the session changed, and
    /// **no compression** (see [`with_compression`](Self::with_compression)
    /// for why). `with_salt`, `with_key_derivation` and `with_digest` have
    /// no effect on this format.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::encrypted(Key::generate())
    ///     .with_fallback_keys([Key::new("the previous secret, still decrypting").unwrap()]);
    /// # let _ = layer;
    /// ```
    pub fn encrypted(key: Key) -> Self {
        Self::for_codec(Codec::encrypted(key, "session"))
    }

    fn for_codec(codec: Codec) -> Self {
        let len = codec.key_len();
        if len < 32 {
            warn_short_key_once(len);
        }
        Self {
            config: Arc::new(Config::for_codec(codec)),
        }
    }

    fn update(mut self, f: impl FnOnce(&mut Config)) -> Self {
        let config = Arc::make_mut(&mut self.config);
        f(config);
        config.rebuild();
        self
    }

    /// Old keys still accepted, never used to sign (Flask's `SECRET_KEY_FALLBACKS`).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_fallback_keys([Key::new("the old secret").unwrap()]);
    /// # let _ = layer;
    /// ```
    pub fn with_fallback_keys(self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.update(|c| c.codec = c.codec.clone().with_fallback_keys(keys))
    }

    /// The signing salt (default `cookie-session`, Flask's).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_salt("admin-session");
    /// # let _ = layer;
    /// ```
    pub fn with_salt(self, salt: impl Into<String>) -> Self {
        self.update(|c| c.codec = c.codec.clone().with_salt(salt))
    }

    /// The key derivation (default [`KeyDerivation::Hmac`], Flask's).
    ///
    /// ```
    /// use tower_cookie_session::codec::KeyDerivation;
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_key_derivation(KeyDerivation::Hmac);
    /// # let _ = layer;
    /// ```
    pub fn with_key_derivation(self, derivation: KeyDerivation) -> Self {
        self.update(|c| c.codec = c.codec.clone().with_key_derivation(derivation))
    }

    /// The digest (default [`Digest::Sha1`], Flask's).
    ///
    /// ```
    /// use tower_cookie_session::codec::Digest;
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_digest(Digest::Sha256);
    /// # let _ = layer;
    /// ```
    pub fn with_digest(self, digest: Digest) -> Self {
        self.update(|c| c.codec = c.codec.clone().with_digest(digest))
    }

    /// The cookie name (default `session`, Flask's `SESSION_COOKIE_NAME`).
    /// Chunks are named `{name}.1`, `{name}.2`, …
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidCookieName`] if `name` is not an RFC 9110 token.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_cookie_name("__Host-session").unwrap();
    /// assert!(SessionLayer::new(Key::generate()).with_cookie_name("a:b").is_err());
    /// # let _ = layer;
    /// ```
    pub fn with_cookie_name(mut self, name: impl AsRef<str>) -> Result<Self, ConfigError> {
        let config = Arc::make_mut(&mut self.config);
        config.set_name(name.as_ref())?;
        config.rebuild();
        Ok(self)
    }

    /// How long a session stays valid (default 31 days, Flask's
    /// `PERMANENT_SESSION_LIFETIME`): the server rejects older cookies, and
    /// permanent sessions get an `Expires` this far ahead.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_max_age(Duration::from_secs(8 * 3600));
    /// # let _ = layer;
    /// ```
    pub fn with_max_age(self, max_age: Duration) -> Self {
        self.update(|c| c.max_age = max_age)
    }

    /// The cookie `Path` (default `/`).
    ///
    /// # Panics
    ///
    /// When the layer is applied, if the path does not start with `/` or
    /// holds `;` or control characters.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_path("/app");
    /// # let _ = layer;
    /// ```
    pub fn with_path(self, path: impl Into<String>) -> Self {
        self.update(|c| c.attributes.path = path.into())
    }

    /// The cookie `Domain` (default none: the cookie goes to this host only).
    /// A leading dot is dropped, as Werkzeug does.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidDomain`] for an empty domain, a port, or
    /// characters outside ASCII letters, digits, `-` and `.`.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_domain("example.com").unwrap();
    /// assert!(SessionLayer::new(Key::generate()).with_domain("example.com:443").is_err());
    /// # let _ = layer;
    /// ```
    pub fn with_domain(mut self, domain: impl AsRef<str>) -> Result<Self, ConfigError> {
        let config = Arc::make_mut(&mut self.config);
        config.attributes.set_domain(domain.as_ref())?;
        config.rebuild();
        Ok(self)
    }

    /// The `Secure` attribute (default `true`; turn off only for plain-HTTP
    /// development, or to mirror Flask's default).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_secure(false);
    /// # let _ = layer;
    /// ```
    pub fn with_secure(self, secure: bool) -> Self {
        self.update(|c| c.attributes.secure = secure)
    }

    /// The `HttpOnly` attribute (default `true`: scripts cannot read the session).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_http_only(true);
    /// # let _ = layer;
    /// ```
    pub fn with_http_only(self, http_only: bool) -> Self {
        self.update(|c| c.attributes.http_only = http_only)
    }

    /// The `SameSite` attribute (default [`SameSite::Lax`]).
    /// [`SameSite::None`] requires `Secure` (checked when the layer is
    /// applied).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SameSite, SessionLayer};
    ///
    /// let strict = SessionLayer::new(Key::generate()).with_same_site(SameSite::Strict);
    /// # let _ = strict;
    /// ```
    pub fn with_same_site(self, same_site: impl Into<SameSite>) -> Self {
        let same_site = same_site.into();
        self.update(|c| c.attributes.same_site = Some(same_site))
    }

    /// Sends no `SameSite` attribute, as Flask, Quart and Django do unless
    /// configured (browsers then treat the cookie as `Lax`, mostly).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).without_same_site();
    /// # let _ = layer;
    /// ```
    pub fn without_same_site(self) -> Self {
        self.update(|c| c.attributes.same_site = None)
    }

    /// The `Partitioned` attribute (CHIPS; default `false`). Requires `Secure`.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_partitioned(true);
    /// # let _ = layer;
    /// ```
    pub fn with_partitioned(self, partitioned: bool) -> Self {
        self.update(|c| c.attributes.partitioned = partitioned)
    }

    /// Re-issue permanent sessions on every response, renewing their
    /// timestamp and `Expires` (default `true`, Flask's `SESSION_REFRESH_EACH_REQUEST`).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_refresh_each_request(false);
    /// # let _ = layer;
    /// ```
    pub fn with_refresh_each_request(self, refresh: bool) -> Self {
        self.update(|c| c.refresh_each_request = refresh)
    }

    /// Write the session on `5xx` responses too (default `false`: a failed
    /// request leaves the client's cookie as it was).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_save_on_server_error(true);
    /// # let _ = layer;
    /// ```
    pub fn with_save_on_server_error(self, save: bool) -> Self {
        self.update(|c| c.save_on_server_error = save)
    }

    /// The largest `Set-Cookie` value (`name=value; attributes`) per cookie,
    /// as Werkzeug measures it (default 4093). Larger sessions are chunked.
    /// A value that would let a cookie's name and value exceed the 4096
    /// bytes browsers store is a [`ConfigError::CookieTooLarge`].
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_max_cookie_bytes(4000);
    /// # let _ = layer;
    /// ```
    pub fn with_max_cookie_bytes(self, bytes: usize) -> Self {
        self.update(|c| c.budget.max_cookie_bytes = bytes)
    }

    /// The most bytes the session's cookies may add to the request `Cookie`
    /// line (default 7168, to stay under the 8 KiB header line of nginx,
    /// Apache and Heroku). See the crate docs, "Large sessions", before
    /// raising it.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_max_total_bytes(40 * 1024);
    /// # let _ = layer;
    /// ```
    pub fn with_max_total_bytes(self, bytes: usize) -> Self {
        self.update(|c| c.budget.max_total_bytes = bytes)
    }

    /// The most chunk cookies a session may use (default and hard cap 99;
    /// outside 1 to 99 is a [`ConfigError::ChunkCount`], never clamped).
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_max_chunks(4);
    /// # let _ = layer;
    /// ```
    pub fn with_max_chunks(self, chunks: usize) -> Self {
        self.update(|c| c.budget.max_chunks = chunks)
    }

    /// What to do with a session over budget (default
    /// [`OversizePolicy::ServerError`]).
    ///
    /// ```
    /// use tower_cookie_session::{Key, OversizePolicy, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_oversize_policy(OversizePolicy::PassThrough);
    /// # let _ = layer;
    /// ```
    pub fn with_oversize_policy(self, policy: OversizePolicy) -> Self {
        self.update(|c| c.oversize = policy)
    }

    /// When to deflate the payload (default [`Compression::Auto`]: from 1536
    /// bytes of JSON, where it sheds hundreds of bytes per request). [`Compression::Flask`] reproduces Flask's cookies byte for byte.
    /// Starlette's format has no compressed form: there it changes nothing.
    ///
    /// # Encrypted sessions
    ///
    /// Under [`SessionLayer::encrypted`] the default is
    /// [`Compression::Never`], and turning it on is a security decision:
    /// compressing data an attacker can influence (a search term, a form
    /// field echoed into the session) together with a secret (a CSRF token,
    /// an API key) and then encrypting it leaks the secret through the
    /// cookie's length, one guessed character at a time (the CRIME and
    /// BREACH attacks). Opt in only for sessions that hold no secret, or no
    /// attacker-influenced data.
    ///
    /// ```
    /// use tower_cookie_session::{Compression, Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_compression(Compression::Flask);
    /// # let _ = layer;
    /// ```
    pub fn with_compression(self, compression: Compression) -> Self {
        self.update(|c| c.compression = compression)
    }

    /// Bound, in bytes, of the process-wide cache of verified sessions
    /// (default 16 MiB; `0` turns it off). A request carrying a token this
    /// layer already verified or wrote skips HMAC, inflate and JSON parsing;
    /// max age is still enforced on every request. Only valid tokens are
    /// cached, so forged cookies cannot fill it.
    ///
    /// ```
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_decode_cache_bytes(64 * 1024 * 1024);
    /// # let _ = layer;
    /// ```
    pub fn with_decode_cache_bytes(self, bytes: usize) -> Self {
        self.update(|c| c.cache_bytes = bytes)
    }

    /// When sessions end, in one setting ([`Expiry`](crate::Expiry)):
    /// sets the max age, whether sessions are permanent by default, and
    /// the refresh, so that a Flask peer configured alike agrees on every
    /// cookie. Later `with_*` calls still override its parts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{Expiry, Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate())
    ///     .with_expiry(Expiry::OnInactivity(Duration::from_secs(3600)));
    /// # let _ = layer;
    /// ```
    pub fn with_expiry(self, expiry: crate::Expiry) -> Self {
        self.update(|c| {
            c.expires_at = None;
            match expiry {
                crate::Expiry::OnSessionEnd => {
                    c.permanent_default = Some(false);
                    c.mark_permanent = false;
                    c.refresh_each_request = false;
                }
                crate::Expiry::OnInactivity(idle) => {
                    c.permanent_default = Some(true);
                    c.mark_permanent = true;
                    c.refresh_each_request = true;
                    c.max_age = idle;
                }
                crate::Expiry::AtDateTime(end) => {
                    c.permanent_default = Some(true);
                    c.mark_permanent = true;
                    c.refresh_each_request = false;
                    c.expires_at = Some(end);
                }
            }
        })
    }

    /// An absolute lifetime (OWASP ASVS 5.0 V7.1), counted from the login
    /// stamp that [`Session::renew`](crate::Session::renew) writes, which no
    /// refresh extends: past it the session is empty and the response
    /// deletes the cookie. A session without a stamp (written by a Python
    /// peer, or before this option) is stamped on its first write by this
    /// layer. The max age ([`with_max_age`](Self::with_max_age)) remains the
    /// idle timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// // Idle for 30 minutes, or 12 hours after login, whichever comes first.
    /// let layer = SessionLayer::new(Key::generate())
    ///     .with_max_age(Duration::from_secs(30 * 60))
    ///     .with_max_lifetime(Duration::from_secs(12 * 3600));
    /// # let _ = layer;
    /// ```
    pub fn with_max_lifetime(self, lifetime: Duration) -> Self {
        self.update(|c| c.max_lifetime = Some(lifetime))
    }

    /// A check of every verified session, run at most once per request,
    /// after the signature verifies and before a handler sees any value or
    /// a refresh re-signs the session: `false` makes the session empty and
    /// deletes the cookie. [`SessionInfo`](crate::SessionInfo) gives the
    /// login stamp, the signed timestamp and the values.
    ///
    /// This is how a logout can stick for a stateless cookie (OWASP ASVS
    /// 5.0 V7.4.1, "disallowing tokens produced before a per-user date and
    /// time"): keep, per user, the time of their last logout-everywhere, and
    /// reject sessions stamped before it. The validator runs on every request
    /// that uses the session, cache hits included (a revoked cookie never
    /// lives on in the decode cache), with the session's lock held: it must
    /// be an in-memory lookup (a map the application refreshes from its
    /// database), never I/O. See `examples/logout_everywhere.rs`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::{Arc, RwLock};
    /// use std::time::SystemTime;
    /// use tower_cookie_session::{Key, SessionInfo, SessionLayer};
    ///
    /// let revoked_before: Arc<RwLock<HashMap<u64, SystemTime>>> = Arc::default();
    /// let table = Arc::clone(&revoked_before);
    /// let layer = SessionLayer::new(Key::generate()).with_validator(move |info: &SessionInfo| {
    ///     let Ok(Some(user)) = info.get::<u64>("user_id") else { return true };
    ///     match (table.read().unwrap().get(&user), info.issued_at()) {
    ///         (Some(cutoff), Some(issued)) => issued > *cutoff,
    ///         (Some(_), None) => false,
    ///         (None, _) => true,
    ///     }
    /// });
    /// # let _ = layer;
    /// ```
    pub fn with_validator<F>(self, validator: F) -> Self
    where
        F: Fn(&crate::SessionInfo<'_>) -> bool + Send + Sync + 'static,
    {
        self.update(|c| c.validator = Some(Arc::new(validator)))
    }

    /// Refresh a permanent session only when its signed timestamp is at
    /// least this old (default: on every request, as Flask does with
    /// `SESSION_REFRESH_EACH_REQUEST`). A 31-day session re-signed at most
    /// once a minute loses nothing of its sliding expiry, and saves a
    /// `Set-Cookie` and an HMAC on every other request; an untouched request
    /// within the interval does not even verify the cookie. Applies to
    /// [`with_refresh_each_request`](Self::with_refresh_each_request) under
    /// every format (Django's `SESSION_SAVE_EVERY_REQUEST` too).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_refresh_after(Duration::from_secs(60));
    /// # let _ = layer;
    /// ```
    pub fn with_refresh_after(self, interval: Duration) -> Self {
        self.update(|c| c.refresh_after = Some(interval))
    }

    /// Accept signed timestamps up to this far in the future (default 5 s;
    /// whole seconds). itsdangerous rejects any: in a fleet whose clocks
    /// differ by half a second, a cookie written by a node ahead and read by
    /// a node behind within the same second is one second in the future,
    /// and the user is logged out. This only widens what this layer
    /// accepts: a Flask, Quart or Starlette node still rejects a cookie
    /// signed by a node ahead of it (Django accepts any), so keep the clocks
    /// of a mixed fleet synchronised (NTP); see the README, "Logging out for
    /// real". `Duration::ZERO` is itsdangerous' rule.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_clock_skew(Duration::from_secs(2));
    /// # let _ = layer;
    /// ```
    pub fn with_clock_skew(self, skew: Duration) -> Self {
        self.update(|c| c.clock_skew = skew)
    }

    /// The time source for signing, ages, lifetimes and refreshes (default:
    /// the system clock). For tests and simulations: move time forward
    /// without sleeping, or run a node whose clock is off.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use tower_cookie_session::{Key, SessionLayer};
    ///
    /// // A node whose clock runs two seconds ahead.
    /// let layer = SessionLayer::new(Key::generate())
    ///     .with_clock(|| SystemTime::now() + Duration::from_secs(2));
    /// # let _ = layer;
    /// ```
    pub fn with_clock<F>(self, clock: F) -> Self
    where
        F: Fn() -> std::time::SystemTime + Send + Sync + 'static,
    {
        self.update(|c| c.clock = Some(Arc::new(clock)))
    }
}

fn warn_short_key_once(len: usize) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            key_len = len,
            "the session secret key is shorter than 32 bytes; it works (Flask accepts any key), \
             but a long random key (Key::generate) resists brute force"
        );
    });
}

impl SessionLayer {
    /// Checks every rule the configuration must meet; the first one broken
    /// is the error. [`Layer::layer`] panics with that error's message, so
    /// call this at start-up to fail with an error of your own instead.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the rule: `__Host-`/`__Secure-` prefixes,
    /// `Partitioned` and `SameSite=None` without `Secure`, a `Partitioned`
    /// budget over Chromium's 10 KiB, a per-cookie size browsers drop, a
    /// chunk count outside 1 to 99, a zero max age or lifetime, a refresh
    /// interval not shorter than the max age, a malformed path.
    ///
    /// ```
    /// use tower_cookie_session::{ConfigError, Key, SessionLayer};
    ///
    /// let layer = SessionLayer::new(Key::generate()).with_max_cookie_bytes(8192);
    /// assert!(matches!(layer.validate(), Err(ConfigError::CookieTooLarge { .. })));
    /// assert!(SessionLayer::new(Key::generate()).validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.config.validate()
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        if let Err(problem) = self.config.validate() {
            panic!("invalid SessionLayer configuration: {problem}");
        }
        SessionService::new(inner, Arc::clone(&self.config))
    }
}

impl fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("config", &self.config)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("codec", &self.codec)
            .field("name", &self.names.name)
            .field("max_age", &self.max_age)
            .field("path", &self.attributes.path)
            .field("domain", &self.attributes.domain)
            .field("secure", &self.attributes.secure)
            .field("http_only", &self.attributes.http_only)
            .field("same_site", &self.attributes.same_site)
            .field("partitioned", &self.attributes.partitioned)
            .field("refresh_each_request", &self.refresh_each_request)
            .field("save_on_server_error", &self.save_on_server_error)
            .field("max_cookie_bytes", &self.budget.max_cookie_bytes)
            .field("max_total_bytes", &self.budget.max_total_bytes)
            .field("max_chunks", &self.budget.max_chunks)
            .field("oversize", &self.oversize)
            .field("compression", &self.compression)
            .field("decode_cache", &self.cache)
            .field("max_lifetime", &self.max_lifetime)
            .field("validator", &self.validator.is_some())
            .field("refresh_after", &self.refresh_after)
            .field("clock_skew", &self.clock_skew)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .finish()
    }
}
