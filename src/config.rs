//! Cookie attributes and the layer's settings, with secure defaults.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cookie::Cookie;
use http::HeaderValue;
use time::OffsetDateTime;

use crate::cache::DecodeCache;
use crate::codec::raw::RawMap;
use crate::codec::{tagged, Codec, Format, Key};
use crate::policy::{Compression, OversizePolicy};
use crate::profile::Profile;
use crate::{ConfigError, SameSite};

/// Werkzeug's `MAX_COOKIE_SIZE`, the lowest per-cookie limit seen in browsers.
pub(crate) const DEFAULT_MAX_COOKIE_BYTES: usize = 4093;
/// Leaves room under the 8 KiB `Cookie` line of nginx, Apache and Heroku.
pub(crate) const DEFAULT_MAX_TOTAL_BYTES: usize = 7168;
/// mod_auth_openidc's cap; chunk names stay two digits.
pub(crate) const MAX_CHUNKS_CAP: usize = 99;
pub(crate) const DEFAULT_MAX_CHUNKS: usize = MAX_CHUNKS_CAP;
/// The largest cookie (name and value) browsers store: a single Flask
/// cookie may be this large whatever this layer's budget.
pub(crate) const BROWSER_COOKIE_BYTES: usize = 4096;
/// RFC 6265bis caps `Expires`/`Max-Age` at 400 days and browsers clamp
/// there; sending more gains nothing, and past year 9999 the date cannot
/// be written at all.
pub(crate) const MAX_COOKIE_LIFETIME: Duration = Duration::from_secs(400 * 24 * 3600);
/// Chromium caps the cookies of one partition (CHIPS) at 10 KiB in all.
pub(crate) const PARTITIONED_MAX_BYTES: usize = 10 * 1024;

/// Default bound of the verified-session cache.
pub(crate) const DEFAULT_DECODE_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Everything a [`SessionLayer`](crate::SessionLayer) was configured with.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) codec: Codec,
    /// The framework's facts (`src/profile.rs`).
    pub(crate) profile: Profile,
    pub(crate) name: String,
    /// `name.1` … `name.99`, built once so requests compare names exactly.
    pub(crate) chunk_names: Vec<String>,
    pub(crate) max_age: Duration,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: Option<SameSite>,
    pub(crate) partitioned: bool,
    pub(crate) refresh_each_request: bool,
    pub(crate) save_on_server_error: bool,
    pub(crate) max_cookie_bytes: usize,
    pub(crate) max_total_bytes: usize,
    pub(crate) max_chunks: usize,
    pub(crate) oversize: OversizePolicy,
    pub(crate) compression: Compression,
    pub(crate) cache_bytes: usize,
    /// Rebuilt by every builder call, so entries verified under one
    /// configuration (keys, salt, name…) never serve another.
    pub(crate) cache: Option<Arc<DecodeCache>>,
    /// `; HttpOnly; SameSite=Lax; Secure; Path=/…` as the `cookie` crate
    /// renders it, without and with the deletion attributes: rendered once
    /// per configuration, not per response.
    suffix: String,
    delete_suffix: String,
    /// Lifecycle (`src/lifecycle.rs`): absolute lifetime from the login
    /// stamp, the application's validator, refresh throttling, clock skew.
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) validator: Option<crate::lifecycle::Validator>,
    pub(crate) refresh_after: Option<Duration>,
    pub(crate) clock_skew: Duration,
    /// The time source; the system clock when `None`.
    pub(crate) clock: Option<Clock>,
    /// `with_expiry`: whether a session without `_permanent` is permanent
    /// (else the format's default), whether the layer writes `_permanent`
    /// into Flask-format sessions that lack it, and a fixed end.
    pub(crate) permanent_default: Option<bool>,
    pub(crate) mark_permanent: bool,
    pub(crate) expires_at: Option<SystemTime>,
}

/// A time source (`SessionLayer::with_clock`).
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How far in the future a signed timestamp may be. In a fleet whose clocks
/// differ by half a second, a cookie written by a node ahead and read within
/// the same second by a node behind is one second in the future (both round
/// down); itsdangerous rejects it and logs the user out. Five seconds covers
/// that and clocks a few seconds apart, and extends no cookie's life by
/// more than that.
pub(crate) const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5);

pub(crate) enum CookieExpiry {
    /// A browser-session cookie (no `Expires`, no `Max-Age`).
    Session,
    /// A persistent cookie that expires at `expires`, `max_age` seconds
    /// from now: `Expires` (Flask, Django) and `Max-Age` (Starlette,
    /// Django), as the framework sends.
    At {
        expires: OffsetDateTime,
        max_age: u64,
    },
    Delete,
}

impl Config {
    /// Flask's defaults.
    pub(crate) fn new(key: Key) -> Self {
        Self::for_codec(Codec::new(key))
    }

    /// The defaults of `codec`'s framework: cookie name, lifetime and
    /// refresh; the browser-facing ones (Secure, HttpOnly, SameSite=Lax)
    /// are the same for all.
    pub(crate) fn for_codec(mut codec: Codec) -> Self {
        let profile = Profile::of(codec.format());
        let name = profile.cookie_name.to_owned();
        codec.set_context(&name);
        Self {
            codec,
            profile,
            chunk_names: chunk_names(&name),
            name,
            max_age: profile.max_age,
            path: "/".to_owned(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
            partitioned: false,
            refresh_each_request: profile.refresh_each_request,
            save_on_server_error: false,
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_chunks: DEFAULT_MAX_CHUNKS,
            oversize: OversizePolicy::ServerError,
            compression: profile.compression,
            cache_bytes: DEFAULT_DECODE_CACHE_BYTES,
            cache: None,
            suffix: String::new(),
            delete_suffix: String::new(),
            max_lifetime: None,
            validator: None,
            refresh_after: None,
            clock_skew: DEFAULT_CLOCK_SKEW,
            clock: None,
            permanent_default: None,
            mark_permanent: false,
            expires_at: None,
        }
        .rebuilt()
    }

    pub(crate) fn format(&self) -> Format {
        self.codec.format()
    }

    /// Now, in seconds since the Unix epoch, by the layer's clock.
    pub(crate) fn now(&self) -> u64 {
        match &self.clock {
            Some(_) => self.now_us() / 1_000_000,
            None => unix_now(),
        }
    }

    /// Now, in microseconds since the Unix epoch, by the layer's clock.
    pub(crate) fn now_us(&self) -> u64 {
        let now = self.clock.as_ref().map_or_else(SystemTime::now, |c| c());
        now.duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    pub(crate) fn clock_skew_secs(&self) -> u64 {
        self.clock_skew.as_secs()
    }

    /// Whether the cookie is persistent: Flask's `_permanent` flag;
    /// under Starlette and Django always, unless the session says
    /// `_permanent: false`.
    pub(crate) fn is_permanent(&self, map: &RawMap) -> bool {
        map.permanent_flag().unwrap_or_else(|| {
            self.permanent_default
                .unwrap_or(self.profile.permanent_by_default)
        })
    }

    /// `Expiry::AtDateTime`'s end, in seconds since the epoch.
    pub(crate) fn expires_at_secs(&self) -> Option<u64> {
        self.expires_at
            .map(|t| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    }

    /// What a persistent cookie carries: (`Max-Age`, `Expires`). A fixed
    /// end date is an `Expires` only.
    fn lifetime_attributes(&self) -> (bool, bool) {
        if self.expires_at.is_some() {
            return (false, true);
        }
        (
            self.profile.max_age_attribute,
            self.profile.expires_attribute,
        )
    }

    /// Whether a session signed at `ts` is still good at `now`, by the
    /// framework's rules (the decode cache's check).
    pub(crate) fn is_fresh(&self, ts: u64, now: u64) -> bool {
        self.codec
            .check_age(ts, now, self.age_limit_secs(), self.clock_skew_secs())
            .is_ok()
    }

    /// The signature's age limit. Under `Expiry::AtDateTime` the session
    /// ends at its date, whatever its age ([`crate::admission::admit`]
    /// refuses it from then on), so the max age does not apply.
    pub(crate) fn age_limit_secs(&self) -> Option<u64> {
        match self.expires_at {
            Some(_) => None,
            None => Some(self.max_age_secs()),
        }
    }

    fn rebuilt(mut self) -> Self {
        self.rebuild();
        self
    }

    /// Derives what the builders' settings imply: a fresh cache and the
    /// rendered attributes. Called after every change.
    pub(crate) fn rebuild(&mut self) {
        self.cache = DecodeCache::new(self.cache_bytes).map(Arc::new);
        let render = |expiry| {
            let full = self.cookie("", "", &expiry).to_string();
            full.strip_prefix('=').unwrap_or(&full).to_owned()
        };
        let (suffix, delete_suffix) = (render(CookieExpiry::Session), render(CookieExpiry::Delete));
        self.suffix = suffix;
        self.delete_suffix = delete_suffix;
    }

    /// Defaults with a throwaway key, to measure sessions built outside a layer.
    pub(crate) fn detached() -> Self {
        Self::new(Key::new([0u8; 32]).expect("non-empty"))
    }

    pub(crate) fn set_name(&mut self, name: &str) -> Result<(), ConfigError> {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ConfigError::InvalidCookieName {
                name: name.to_owned(),
            });
        }
        name.clone_into(&mut self.name);
        self.chunk_names = chunk_names(name);
        self.codec.set_context(name);
        Ok(())
    }

    pub(crate) fn set_domain(&mut self, domain: &str) -> Result<(), ConfigError> {
        let invalid = |reason| ConfigError::InvalidDomain {
            domain: domain.to_owned(),
            reason,
        };
        // Werkzeug strips a leading dot; browsers ignore it.
        let trimmed = domain.strip_prefix('.').unwrap_or(domain);
        if trimmed.is_empty() || trimmed.len() > 253 {
            return Err(invalid("it must hold 1 to 253 characters"));
        }
        if trimmed.contains(':') {
            return Err(invalid("a cookie domain has no port"));
        }
        if !trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(invalid(
                "only ASCII letters, digits, '-' and '.' are allowed (use the punycode form)",
            ));
        }
        if trimmed
            .split('.')
            .any(|label| label.is_empty() || label.len() > 63)
        {
            return Err(invalid("every label must hold 1 to 63 characters"));
        }
        self.domain = Some(trimmed.to_ascii_lowercase());
        Ok(())
    }

    /// Every rule a configuration must meet, checked when the layer is
    /// applied (and by `SessionLayer::validate`): the first one broken.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let name = &self.name;
        if !self.path.starts_with('/')
            || self.path.bytes().any(|b| b == b';' || b.is_ascii_control())
        {
            return Err(ConfigError::InvalidPath {
                path: self.path.clone(),
            });
        }
        // RFC 6265bis matches the prefixes case-insensitively.
        let has_prefix = |prefix: &str| {
            name.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        };
        if has_prefix("__Host-") && (!self.secure || self.path != "/" || self.domain.is_some()) {
            return Err(ConfigError::HostPrefix { name: name.clone() });
        }
        if has_prefix("__Secure-") && !self.secure {
            return Err(ConfigError::SecurePrefix { name: name.clone() });
        }
        if self.partitioned && !self.secure {
            return Err(ConfigError::PartitionedNotSecure);
        }
        if self.partitioned && self.max_total_bytes > PARTITIONED_MAX_BYTES {
            return Err(ConfigError::PartitionedBudget {
                max_total_bytes: self.max_total_bytes,
                limit: PARTITIONED_MAX_BYTES,
            });
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return Err(ConfigError::SameSiteNoneNotSecure);
        }
        // A chunk's `Set-Cookie` is `name.NN=value` plus its attributes, and
        // browsers keep name and value up to 4096 bytes. The bound must hold
        // for the shortest attributes the layer writes (a browser-session
        // cookie): that chunk carries the most name and value.
        let limit = BROWSER_COOKIE_BYTES + 1 + self.attributes_len(&CookieExpiry::Session);
        if self.max_cookie_bytes > limit {
            return Err(ConfigError::CookieTooLarge {
                max_cookie_bytes: self.max_cookie_bytes,
                limit,
            });
        }
        if !(1..=MAX_CHUNKS_CAP).contains(&self.max_chunks) {
            return Err(ConfigError::ChunkCount {
                chunks: self.max_chunks,
            });
        }
        let duration = |option, reason| Err(ConfigError::InvalidDuration { option, reason });
        if self.max_age.as_secs() == 0 {
            return duration(
                "with_max_age",
                "at least one second: every cookie would be expired on arrival",
            );
        }
        if self.max_lifetime.is_some_and(|l| l.as_secs() == 0) {
            return duration(
                "with_max_lifetime",
                "at least one second: every session would be revoked",
            );
        }
        if self.refresh_after.is_some_and(|r| r >= self.max_age) {
            return duration(
                "with_refresh_after",
                "must be shorter than the max age, or a session expires before its refresh is due",
            );
        }
        Ok(())
    }

    pub(crate) fn cookie<'a>(
        &self,
        name: &'a str,
        value: &'a str,
        expiry: &CookieExpiry,
    ) -> Cookie<'a> {
        let mut cookie = Cookie::build((name, value))
            .path(self.path.clone())
            .secure(self.secure)
            .http_only(self.http_only)
            .partitioned(self.partitioned);
        if let Some(same_site) = self.same_site {
            cookie = cookie.same_site(same_site.into());
        }
        if let Some(domain) = &self.domain {
            cookie = cookie.domain(domain.clone());
        }
        match expiry {
            CookieExpiry::Session => {}
            CookieExpiry::At { expires, max_age } => {
                let (with_max_age, with_expires) = self.lifetime_attributes();
                if with_max_age {
                    let secs = i64::try_from(*max_age).unwrap_or(i64::MAX);
                    cookie = cookie.max_age(time::Duration::seconds(secs));
                }
                if with_expires {
                    cookie = cookie.expires(*expires);
                }
            }
            CookieExpiry::Delete => {
                cookie = cookie.expires(OffsetDateTime::UNIX_EPOCH);
                if self.profile.deletion_max_age {
                    cookie = cookie.max_age(time::Duration::ZERO);
                }
            }
        }
        cookie.build()
    }

    /// The `Set-Cookie` value, or `None` if it could not be a header (never
    /// for validated names and our token alphabet). The same bytes as the
    /// `cookie` crate's rendering (a test pins this), from the attributes
    /// rendered once in [`Config::rebuild`].
    pub(crate) fn set_cookie(
        &self,
        name: &str,
        value: &str,
        expiry: &CookieExpiry,
    ) -> Option<HeaderValue> {
        let mut line =
            String::with_capacity(name.len() + value.len() + self.attributes_len(expiry) + 1);
        line.push_str(name);
        line.push('=');
        line.push_str(value);
        match expiry {
            CookieExpiry::Session => line.push_str(&self.suffix),
            CookieExpiry::Delete => line.push_str(&self.delete_suffix),
            CookieExpiry::At { expires, max_age } => {
                line.push_str(&self.suffix);
                let (with_max_age, with_expires) = self.lifetime_attributes();
                if with_max_age {
                    // Writing to a `String` cannot fail.
                    let _ = write!(line, "; Max-Age={max_age}");
                }
                if with_expires {
                    line.push_str("; Expires=");
                    push_http_date(&mut line, expires.unix_timestamp())?;
                }
            }
        }
        HeaderValue::try_from(line).ok()
    }

    /// Length of the attribute part of a `Set-Cookie` value for this
    /// expiry: exact, from the rendered attributes (never estimated).
    pub(crate) fn attributes_len(&self, expiry: &CookieExpiry) -> usize {
        match expiry {
            CookieExpiry::Session => self.suffix.len(),
            CookieExpiry::Delete => self.delete_suffix.len(),
            CookieExpiry::At { max_age, .. } => {
                let (with_max_age, with_expires) = self.lifetime_attributes();
                let mut len = self.suffix.len();
                if with_max_age {
                    len += "; Max-Age=".len() + decimal_digits(*max_age);
                }
                if with_expires {
                    // "; Expires=" + an IMF-fixdate of 29 characters (years
                    // 1000-9999: the write clamps every date into them).
                    len += 10 + 29;
                }
                len
            }
        }
    }

    pub(crate) fn max_age_secs(&self) -> u64 {
        self.max_age.as_secs()
    }

    /// What the browser is told: the max age, capped at 400 days. The
    /// server-side age check keeps the configured value.
    pub(crate) fn cookie_lifetime_secs(&self) -> u64 {
        self.max_age.min(MAX_COOKIE_LIFETIME).as_secs()
    }

    /// The longest token this layer could have written, or a Flask peer
    /// could have set in one cookie: longer ones are refused unread.
    pub(crate) fn max_token_bytes(&self) -> usize {
        self.max_total_bytes.max(BROWSER_COOKIE_BYTES)
    }
}

/// Appends `Expires`' date. Every response of the same second sends the
/// same one: each thread formats it once per second.
fn push_http_date(line: &mut String, unix: i64) -> Option<()> {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> =
            const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != unix {
            *last = (unix, tagged::http_date(unix)?);
        }
        line.push_str(&last.1);
        Some(())
    })
}

fn decimal_digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

fn chunk_names(name: &str) -> Vec<String> {
    (1..=MAX_CHUNKS_CAP)
        .map(|i| format!("{name}.{i}"))
        .collect()
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new(Key::new("k").unwrap())
    }

    #[test]
    fn names_must_be_tokens() {
        let mut c = config();
        for bad in ["", "a:b", "a b", "a;b", "a=b", "sess\u{e9}", "a,b", "(x)"] {
            assert!(c.set_name(bad).is_err(), "{bad:?}");
        }
        for good in [
            "session",
            "__Host-session",
            "my_app.sid",
            "a!#$%&'*+-.^_`|~1",
        ] {
            assert!(c.set_name(good).is_ok(), "{good:?}");
        }
        assert_eq!(c.chunk_names[0], "a!#$%&'*+-.^_`|~1.1");
    }

    #[test]
    fn domains_are_checked_and_normalised() {
        let mut c = config();
        c.set_domain(".Example.com").unwrap();
        assert_eq!(c.domain.as_deref(), Some("example.com"));
        for bad in [
            "",
            ".",
            "example.com:8080",
            "exa mple.com",
            "a..b",
            "ex;ample.com",
        ] {
            assert!(c.set_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefix_rules() {
        let mut c = config();
        c.set_name("__Host-s").unwrap();
        assert!(c.validate().is_ok());
        c.path = "/app".into();
        assert!(c.validate().unwrap_err().to_string().contains("__Host-"));
        c.path = "/".into();
        c.set_domain("example.com").unwrap();
        assert!(c.validate().is_err());
        let mut c = config();
        c.set_name("__Secure-s").unwrap();
        c.secure = false;
        assert!(c.validate().is_err());
        let mut c = config();
        c.partitioned = true;
        c.secure = false;
        assert!(c.validate().is_err());
    }

    #[test]
    fn prefixes_are_matched_case_insensitively() {
        for name in ["__host-s", "__HOST-s", "__Host-s"] {
            let mut c = config();
            c.set_name(name).unwrap();
            c.path = "/app".into();
            assert!(c.validate().is_err(), "{name}");
        }
        for name in ["__secure-s", "__SECURE-s"] {
            let mut c = config();
            c.set_name(name).unwrap();
            c.secure = false;
            assert!(c.validate().is_err(), "{name}");
        }
    }

    #[test]
    fn partitioned_budgets_fit_chromiums_partition_cap() {
        let mut c = config();
        c.partitioned = true;
        assert!(c.validate().is_ok(), "the default budget fits");
        c.max_total_bytes = 16 * 1024;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("Partitioned"));
    }

    #[test]
    fn the_cookie_lifetime_is_capped_at_400_days_but_the_age_check_is_not() {
        let mut c = config();
        c.max_age = Duration::MAX;
        assert_eq!(c.cookie_lifetime_secs(), 400 * 24 * 3600);
        assert_eq!(c.max_age_secs(), u64::MAX);
    }

    #[test]
    fn deletion_cookie_expires_at_the_epoch() {
        let c = config();
        let v = c.set_cookie("session", "", &CookieExpiry::Delete).unwrap();
        let text = v.to_str().unwrap();
        assert!(text.starts_with("session=;"), "{text}");
        assert!(text.contains("Max-Age=0"), "{text}");
        assert!(
            text.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            "{text}"
        );
        assert!(
            text.contains("Secure") && text.contains("HttpOnly") && text.contains("SameSite=Lax")
        );
        assert!(text.contains("Path=/"));
    }

    #[test]
    fn prerendered_lines_equal_the_cookie_crates_rendering() {
        for codec in [
            Codec::new(Key::new("k").unwrap()),
            Codec::starlette(Key::new("k").unwrap()),
            Codec::django(Key::new("k").unwrap()),
        ] {
            prerendered_lines_for(Config::for_codec(codec));
        }
    }

    fn prerendered_lines_for(mut c: Config) {
        c.set_domain("example.com").unwrap();
        c.path = "/app".into();
        c.same_site = Some(SameSite::Strict);
        c.partitioned = true;
        c.rebuild();
        let at = OffsetDateTime::from_unix_timestamp(1_702_678_400).unwrap();
        for expiry in [
            CookieExpiry::Session,
            CookieExpiry::Delete,
            CookieExpiry::At {
                expires: at,
                max_age: c.cookie_lifetime_secs(),
            },
            CookieExpiry::At {
                expires: at,
                max_age: 7,
            },
        ] {
            let ours = c.set_cookie("session", "abc.def.ghi", &expiry).unwrap();
            let theirs = c.cookie("session", "abc.def.ghi", &expiry).to_string();
            assert_eq!(ours.to_str().unwrap(), theirs);
            assert_eq!(
                theirs.len(),
                "session=abc.def.ghi".len() + c.attributes_len(&expiry)
            );
        }
    }

    #[test]
    fn attribute_length_is_measured() {
        let c = config();
        let full = c
            .cookie("session", "abc", &CookieExpiry::Session)
            .to_string();
        assert_eq!(
            full.len(),
            "session=abc".len() + c.attributes_len(&CookieExpiry::Session)
        );
    }
}
