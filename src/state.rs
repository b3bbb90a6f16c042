//! The per-request state: the request's cookie headers, the session map,
//! the `accessed`/`modified` flags, and (in `save.rs`) the response
//! decision. Every [`Session`](crate::Session) handle of a request shares
//! one; the response future holds it too.
//!
//! Nothing is done before it is needed: the `Cookie` headers are kept as
//! they came (a reference count each) and parsed on the first access, or by
//! the response side only when a refresh or a chunk cleanup might apply;
//! the cookie is verified and indexed on the first read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::header::COOKIE;
use http::HeaderMap;

use crate::admission;
use crate::cache::Entry;
use crate::codec::raw::RawMap;
use crate::codec::{Codec, Format};
use crate::config::Config;
use crate::cookie::request::{CookieHeaders, RequestCookies};
use crate::render::{self, Rendered};
use crate::{DecodeError, DecodeErrorKind, SessionTooLarge};

pub(crate) struct State {
    pub(crate) config: Option<Arc<Config>>,
    data: Mutex<Data>,
    accessed: AtomicBool,
    modified: AtomicBool,
}

pub(crate) struct Data {
    cookies: Cookies,
    loaded: bool,
    /// The request's cookie verified (Starlette deletes only such a session).
    verified: bool,
    /// The verified session's signed timestamp.
    signed_at: Option<u64>,
    /// The session, shared with the decode cache until a write copies its
    /// index (never its values).
    pub(crate) map: Arc<RawMap>,
}

enum Cookies {
    Unparsed(CookieHeaders),
    Parsed(RequestCookies),
}

/// What the response side needs to know of the request's cookies.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RequestInfo {
    pub(crate) had_session_cookie: bool,
    pub(crate) carried: crate::cookie::chunk::ChunkSet,
    /// The chunks the base cookie's marker names (`1..=referenced`).
    pub(crate) referenced: usize,
}

impl State {
    pub(crate) fn new(config: Arc<Config>, headers: &HeaderMap) -> Self {
        Self::with(Some(config), CookieHeaders::new(headers.get_all(COOKIE)))
    }

    /// A session outside any layer (`Session::default`).
    pub(crate) fn detached() -> Self {
        Self::with(None, CookieHeaders::default())
    }

    fn with(config: Option<Arc<Config>>, headers: CookieHeaders) -> Self {
        Self {
            config,
            data: Mutex::new(Data {
                cookies: Cookies::Unparsed(headers),
                loaded: false,
                verified: false,
                signed_at: None,
                map: empty_map(),
            }),
            accessed: AtomicBool::new(false),
            modified: AtomicBool::new(false),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Data> {
        // A panic in another holder cannot leave the map half-written: every
        // critical section is a single map operation.
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn touch(&self) {
        self.accessed.store(true, Ordering::Release);
    }

    pub(crate) fn mark_modified(&self) {
        self.modified.store(true, Ordering::Release);
    }

    pub(crate) fn is_accessed(&self) -> bool {
        self.accessed.load(Ordering::Acquire)
    }

    pub(crate) fn is_modified(&self) -> bool {
        self.modified.load(Ordering::Acquire)
    }

    /// The session map, verified, admitted (lifetime, validator) and
    /// indexed on first use.
    pub(crate) fn map<'a>(&self, data: &'a mut Data) -> &'a mut Arc<RawMap> {
        if !data.loaded {
            data.loaded = true;
            if let Some(config) = &self.config {
                let now = config.now();
                if let Some((map, ts)) = data.cookies(config).and_then(|c| load(config, c, now)) {
                    data.verified = true;
                    data.signed_at = Some(ts);
                    match admission::admit(config, &map, ts, now) {
                        Ok(()) => data.map = map,
                        Err(refusal) => {
                            // An empty session, modified: the response
                            // deletes the cookie.
                            tracing::debug!(cookie = %config.names.name, ?refusal, "session revoked");
                            self.mark_modified();
                        }
                    }
                }
            }
        }
        &mut data.map
    }

    /// The clock of the layer (the system's outside one), in microseconds.
    pub(crate) fn now_us(&self) -> u64 {
        match &self.config {
            Some(config) => config.now_us(),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        }
    }

    /// Whether a refresh is due under `with_refresh_after`: the session's
    /// signed timestamp is at least that old. Judged from the verified
    /// session, else the cache, else the token's text unverified (a forged
    /// young timestamp only skips a refresh; an old one goes on to verify).
    pub(crate) fn refresh_due(&self, config: &Config) -> bool {
        let Some(after) = config.refresh_after else {
            return true;
        };
        let now = config.now();
        let mut data = self.lock();
        let ts = if data.loaded {
            data.signed_at
        } else {
            data.cookies(config)
                .and_then(|c| c.token(&config.names.name, config.max_token_bytes()))
                .and_then(|token| {
                    config
                        .cache
                        .as_ref()
                        .and_then(|c| c.get(&token))
                        .map(|e| e.timestamp)
                        .or_else(|| config.codec.timestamp_unverified(&token))
                })
        };
        ts.is_none_or(|ts| now.saturating_sub(ts) >= after.as_secs())
    }

    /// The map, for writing: copies a shared index first.
    pub(crate) fn map_mut<'a>(&self, data: &'a mut Data) -> &'a mut RawMap {
        Arc::make_mut(self.map(data))
    }

    /// A clear: the map is empty, whatever the cookie held.
    pub(crate) fn reset(&self, data: &mut Data) {
        if self
            .config
            .as_ref()
            .is_some_and(|c| c.profile.clear_needs_verification)
        {
            // Whether the response deletes the cookie depends on whether
            // it was valid: find out before forgetting it.
            self.map(data);
        }
        data.loaded = true;
        data.map = empty_map();
    }

    /// Whether the request carried a session that verified.
    pub(crate) fn request_verified(&self) -> bool {
        let mut data = self.lock();
        self.map(&mut data);
        data.verified
    }

    /// The format of the session's values (Flask's outside a layer).
    pub(crate) fn format(&self) -> Format {
        self.config.as_ref().map_or(Format::Flask, |c| c.format())
    }

    /// Whether the session might be permanent (and so need Flask's refresh
    /// when untouched): from the map once loaded, else from the cache, else
    /// from the token's text without verifying it. A "no" lets an untouched
    /// request skip HMAC and parsing; a forged "no" only skips a refresh; a
    /// "yes" (and every compressed payload) is verified by the load that
    /// follows. Nothing is decoded, inflated or allocated for the payload.
    pub(crate) fn may_be_permanent(&self) -> bool {
        let Some(config) = &self.config else {
            return false;
        };
        let mut data = self.lock();
        if data.loaded {
            return config.is_permanent(&data.map);
        }
        let Some(token) = data
            .cookies(config)
            .and_then(|c| c.token(&config.names.name, config.max_token_bytes()))
        else {
            return false;
        };
        if let Some(entry) = config.cache.as_ref().and_then(|c| c.get(&token)) {
            return entry.permanent && config.is_fresh(entry.timestamp, config.now());
        }
        if config.permanent_default == Some(true) {
            // Permanent unless `_permanent` says otherwise: the load decides,
            // as it does on a cache hit or for a route that reads.
            return true;
        }
        // Without the text to judge by, permanent unless `_permanent` says
        // otherwise: the load decides.
        !config.profile.permanence_in_text || Codec::may_be_permanent_unverified(&token)
    }

    /// What the request carried, parsing the headers only if they may hold
    /// our cookies. `chunks_only`: the caller needs only the chunks (an
    /// untouched session that is never refreshed, where nothing but stale
    /// chunks can need expiring), so headers without `name.` are not parsed.
    pub(crate) fn request_info(&self, chunks_only: bool) -> RequestInfo {
        let Some(config) = &self.config else {
            return RequestInfo::default();
        };
        let mut data = self.lock();
        if let Cookies::Unparsed(headers) = &data.cookies {
            let may_hold = if chunks_only {
                headers.may_hold_chunk(&config.names.chunk_finder)
            } else {
                headers.may_hold(&config.names.finder)
            };
            if !may_hold {
                return RequestInfo::default();
            }
        }
        data.cookies(config)
            .map(|c| RequestInfo {
                had_session_cookie: c.has_base(),
                carried: c.carried,
                referenced: c.referenced(),
            })
            .unwrap_or_default()
    }

    /// The response replaced the request's token: its cache entry is dead.
    pub(crate) fn evict_request_token(&self) {
        let Some(config) = &self.config else {
            return;
        };
        let Some(cache) = &config.cache else {
            return;
        };
        let mut data = self.lock();
        if let Some(token) = data
            .cookies(config)
            .and_then(|c| c.token(&config.names.name, config.max_token_bytes()))
        {
            cache.remove(&token);
        }
    }
}

impl State {
    /// Empty and permanent, without marking the session accessed.
    pub(crate) fn save_state(&self, config: &Config) -> (bool, bool) {
        let mut data = self.lock();
        let map = self.map(&mut data);
        (map.is_empty(), config.is_permanent(map))
    }

    /// The session rendered for a write at `now` ([`render::render`]):
    /// completing the session itself when `commit`, else a copy (the map is
    /// shared, so only what the completion adds is copied).
    pub(crate) fn render(
        &self,
        config: &Config,
        now: u64,
        commit: bool,
    ) -> Result<Rendered, SessionTooLarge> {
        let mut data = self.lock();
        let map = self.map(&mut data);
        let now_us = config.now_us();
        if commit {
            render::render(config, map, now, now_us)
        } else {
            render::render(config, &mut Arc::clone(map), now, now_us)
        }
    }
}

impl Data {
    fn cookies(&mut self, config: &Config) -> Option<&RequestCookies> {
        if let Cookies::Unparsed(headers) = &self.cookies {
            self.cookies = Cookies::Parsed(RequestCookies::parse(headers, &config.names.name));
        }
        match &self.cookies {
            Cookies::Parsed(cookies) => Some(cookies),
            Cookies::Unparsed(_) => None,
        }
    }
}

/// The session and its signed timestamp, from the cache or by verifying
/// and indexing the cookie. A bad cookie is no session, as in Flask; never
/// an error.
fn load(config: &Config, cookies: &RequestCookies, now: u64) -> Option<(Arc<RawMap>, u64)> {
    let token = cookies.token(&config.names.name, config.max_token_bytes())?;
    if let Some(cache) = &config.cache {
        if let Some(entry) = cache.get(&token) {
            if config.is_fresh(entry.timestamp, now) {
                return Some((Arc::clone(&entry.map), entry.timestamp));
            }
            cache.remove(&token);
            tracing::debug!(cookie = %config.names.name, "ignoring session cookie: expired");
            return None;
        }
    }
    let decoded = std::str::from_utf8(&token)
        .map_err(|_| DecodeError::new(DecodeErrorKind::Malformed, "not ASCII"))
        .and_then(|text| {
            config
                .codec
                .decode_raw(text, now, config.age_limit_secs(), config.clock_skew_secs())
        });
    match decoded {
        Ok((map, ts)) => {
            let map = Arc::new(map);
            if let Some(cache) = &config.cache {
                let permanent = config.is_permanent(&map);
                cache.insert(
                    &token,
                    Entry::new(Arc::clone(&map), ts, permanent, token.len()),
                );
            }
            Some((map, ts))
        }
        Err(error) => {
            tracing::debug!(cookie = %config.names.name, %error, "ignoring session cookie");
            None
        }
    }
}

/// One shared empty map: most requests never write, and need no allocation.
fn empty_map() -> Arc<RawMap> {
    static EMPTY: std::sync::OnceLock<Arc<RawMap>> = std::sync::OnceLock::new();
    Arc::clone(EMPTY.get_or_init(Arc::default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::DecodeCache;
    use crate::config::unix_now;
    use crate::Key;
    use serde_json::json;

    fn config(cache_bytes: usize) -> Arc<Config> {
        let mut config = Config::new(Key::new("cache-test-key").unwrap());
        config.cache_bytes = cache_bytes;
        config.rebuild();
        Arc::new(config)
    }

    fn state(config: &Arc<Config>, token: &str) -> State {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, format!("session={token}").parse().unwrap());
        State::new(Arc::clone(config), &headers)
    }

    /// The map the request's cookie gives (empty when refused).
    fn load(config: &Arc<Config>, token: &str) -> Arc<RawMap> {
        let state = state(config, token);
        let mut data = state.lock();
        Arc::clone(state.map(&mut data))
    }

    fn token(config: &Config, v: serde_json::Value, ts: u64) -> String {
        config.codec.encode(v.as_object().unwrap(), ts)
    }

    fn cache(config: &Config) -> &DecodeCache {
        config.cache.as_deref().unwrap()
    }

    #[test]
    fn a_verified_token_is_cached_and_then_hit() {
        let config = config(1 << 20);
        let t = token(&config, json!({"user": "ada"}), unix_now());
        assert_eq!(cache(&config).len(), 0);
        let first = load(&config, &t);
        assert_eq!(cache(&config).len(), 1, "a miss verifies and inserts");
        let second = load(&config, &t);
        assert!(
            Arc::ptr_eq(&first, &second),
            "a hit shares the indexed map, no decode"
        );
    }

    #[test]
    fn invalid_tokens_are_never_cached() {
        let config = config(1 << 20);
        let good = token(&config, json!({"a": 1}), unix_now());
        let forged = Codec::new(Key::new("attacker").unwrap())
            .encode(json!({"a": 2}).as_object().unwrap(), unix_now());
        let expired = token(&config, json!({"a": 3}), unix_now() - 40 * 24 * 3600);
        for i in 0..1000 {
            let mut flipped = good.clone().into_bytes();
            flipped[i % 10] ^= 1;
            let flipped = String::from_utf8(flipped).unwrap();
            for bad in [&flipped, &forged, &expired, &format!("junk{i}.x.y")] {
                assert!(load(&config, bad).is_empty());
            }
        }
        assert_eq!(cache(&config).len(), 0);
        assert_eq!(cache(&config).bytes(), 0);
    }

    #[test]
    fn cached_entries_still_expire_with_max_age() {
        let config = config(1 << 20);
        let max_age = config.max_age_secs();
        let t = token(&config, json!({"a": 1}), unix_now() - max_age + 2);
        assert!(!load(&config, &t).is_empty());
        assert_eq!(cache(&config).len(), 1);
        // The same token, judged by a layer whose max age is shorter: the
        // entry is there, but too old.
        let mut short = (*config).clone();
        short.max_age = std::time::Duration::from_secs(1);
        assert!(load(&Arc::new(short), &t).is_empty());
    }

    #[test]
    fn the_cache_answers_the_refresh_question() {
        let config = config(1 << 20);
        let permanent = token(&config, json!({"_permanent": true}), unix_now());
        let plain = token(&config, json!({"a": 1}), unix_now());
        load(&config, &permanent);
        load(&config, &plain);
        assert!(state(&config, &permanent).may_be_permanent());
        assert!(!state(&config, &plain).may_be_permanent());
    }

    #[test]
    fn the_refresh_question_is_answered_from_the_text_without_the_cache() {
        let config = config(0);
        let permanent = token(&config, json!({"_permanent": true, "a": 1}), unix_now());
        let plain = token(&config, json!({"a": 1}), unix_now());
        assert!(state(&config, &permanent).may_be_permanent());
        assert!(!state(&config, &plain).may_be_permanent());
        assert!(state(&config, ".eJzLSM3JyVcozy_KSQEAGgQEXQ.x.y").may_be_permanent());
    }

    #[test]
    fn disabled_cache_still_decodes() {
        let config = config(0);
        assert!(config.cache.is_none());
        let t = token(&config, json!({"a": 1}), unix_now());
        assert_eq!(load(&config, &t).len(), 1);
    }

    #[test]
    fn headers_without_our_cookie_are_never_parsed() {
        let config = config(1 << 20);
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "theme=dark; lang=en".parse().unwrap());
        let state = State::new(Arc::clone(&config), &headers);
        let info = state.request_info(false);
        assert!(!info.had_session_cookie);
        assert!(matches!(state.lock().cookies, Cookies::Unparsed(_)));
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "theme=dark; session.2=x".parse().unwrap());
        let info = State::new(Arc::clone(&config), &headers).request_info(false);
        assert!(info.carried.contains(2) && !info.had_session_cookie);
        let info = State::new(Arc::clone(&config), &headers).request_info(true);
        assert!(
            info.carried.contains(2),
            "a chunk is found when only chunks matter"
        );
        // Only chunks matter: our base cookie alone is not even parsed.
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "theme=dark; session=abc".parse().unwrap());
        let state = State::new(Arc::clone(&config), &headers);
        assert!(state.request_info(true).carried.iter().next().is_none());
        assert!(matches!(state.lock().cookies, Cookies::Unparsed(_)));
        assert!(
            State::new(config, &headers)
                .request_info(false)
                .had_session_cookie
        );
    }

    #[test]
    fn a_reconfigured_layer_does_not_trust_the_old_cache() {
        use crate::SessionLayer;
        use tower_layer::Layer;
        let old = Key::new("old-key").unwrap();
        let layer = SessionLayer::new(old.clone());
        let config = layer.clone().layer(()).config_for_tests();
        let t = config
            .codec
            .encode(json!({"a": 1}).as_object().unwrap(), unix_now());
        assert!(!load(&config, &t).is_empty());
        // Rotating the key on a clone rebuilds the cache: the token signed by
        // the old key is verified again, and refused.
        let rotated = layer.with_salt("another-salt").layer(()).config_for_tests();
        assert!(!Arc::ptr_eq(
            rotated.cache.as_ref().unwrap(),
            config.cache.as_ref().unwrap()
        ));
        assert!(load(&rotated, &t).is_empty());
    }

    #[tokio::test]
    async fn a_written_token_is_a_hit_on_the_next_request() {
        use crate::{Session, SessionLayer};
        use tower::{service_fn, Layer, ServiceExt};
        let svc = SessionLayer::new(Key::new("write-key").unwrap()).layer(service_fn(
            |req: http::Request<()>| async move {
                req.extensions()
                    .get::<Session>()
                    .unwrap()
                    .insert("n", 1)
                    .unwrap();
                Ok::<_, std::convert::Infallible>(http::Response::new(()))
            },
        ));
        let config = svc.config_for_tests();
        let res = svc.oneshot(http::Request::new(())).await.unwrap();
        let set_cookie = res.headers()["set-cookie"].to_str().unwrap();
        let t = set_cookie
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("session=");
        let entry = cache(&config)
            .get(t.as_bytes())
            .expect("the written token is cached");
        assert_eq!(entry.map.get_json("n"), Some("1"));
    }
}
