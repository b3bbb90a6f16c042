//! Cookie attributes and the layer's settings, with secure defaults.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cache::DecodeCache;
use crate::codec::raw::RawMap;
use crate::codec::{Codec, Format, Key};
use crate::cookie::attributes::Attributes;
use crate::cookie::chunk::{Budget, MAX_CHUNKS_CAP};
use crate::cookie::names::Names;
use crate::policy::{Compression, OversizePolicy};
use crate::profile::Profile;
use crate::ConfigError;

/// Werkzeug's `MAX_COOKIE_SIZE`, the lowest per-cookie limit seen in browsers.
pub(crate) const DEFAULT_MAX_COOKIE_BYTES: usize = 4093;
/// Leaves room under the 8 KiB `Cookie` line of nginx, Apache and Heroku.
pub(crate) const DEFAULT_MAX_TOTAL_BYTES: usize = 7168;
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
    /// The cookie side's settings (`src/cookie/`).
    pub(crate) names: Names,
    pub(crate) attributes: Attributes,
    pub(crate) budget: Budget,
    pub(crate) max_age: Duration,
    pub(crate) refresh_each_request: bool,
    pub(crate) save_on_server_error: bool,
    pub(crate) oversize: OversizePolicy,
    pub(crate) compression: Compression,
    pub(crate) cache_bytes: usize,
    /// Rebuilt by every builder call, so entries verified under one
    /// configuration (keys, salt, name…) never serve another.
    pub(crate) cache: Option<Arc<DecodeCache>>,
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
        let names = Names::new(profile.cookie_name).expect("the profiles' names are tokens");
        codec.set_context(&names.name);
        Self {
            codec,
            profile,
            names,
            attributes: Attributes::default(),
            budget: Budget {
                max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
                max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
                max_chunks: MAX_CHUNKS_CAP,
            },
            max_age: profile.max_age,
            refresh_each_request: profile.refresh_each_request,
            save_on_server_error: false,
            oversize: OversizePolicy::ServerError,
            compression: profile.compression,
            cache_bytes: DEFAULT_DECODE_CACHE_BYTES,
            cache: None,
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
        // A fixed end date is an `Expires` only.
        let fixed_end = self.expires_at.is_some();
        self.attributes.max_age_attribute = self.profile.max_age_attribute && !fixed_end;
        self.attributes.expires_attribute = self.profile.expires_attribute || fixed_end;
        self.attributes.deletion_max_age = self.profile.deletion_max_age;
        self.attributes.rebuild();
    }

    /// Defaults with a throwaway key, to measure sessions built outside a layer.
    pub(crate) fn detached() -> Self {
        Self::new(Key::new([0u8; 32]).expect("non-empty"))
    }

    pub(crate) fn set_name(&mut self, name: &str) -> Result<(), ConfigError> {
        self.names = Names::new(name)?;
        self.codec.set_context(name);
        Ok(())
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
        self.budget.max_total_bytes.max(BROWSER_COOKIE_BYTES)
    }
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
    fn the_cookie_lifetime_is_capped_at_400_days_but_the_age_check_is_not() {
        let mut c = config();
        c.max_age = Duration::MAX;
        assert_eq!(c.cookie_lifetime_secs(), 400 * 24 * 3600);
        assert_eq!(c.max_age_secs(), u64::MAX);
    }
}
