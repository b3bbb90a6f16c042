//! The request side: find our cookies in every `Cookie` header, keep them
//! undecoded until the session is first used.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use cookie::Cookie;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use crate::cache::Entry;
use crate::chunk::{self, ChunkSet};
use crate::codec::raw::RawMap;
use crate::codec::Codec;
use crate::config::{unix_now, Config, MAX_CHUNKS_CAP};
use crate::{DecodeError, DecodeErrorKind};

/// A cookie value located in a request header, shared rather than copied.
#[derive(Debug)]
enum Slice {
    Shared(HeaderValue, Range<usize>),
    /// From a header that is not UTF-8 (another cookie held raw bytes).
    Owned(String),
}

impl Slice {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Shared(header, range) => header.as_bytes().get(range.clone()).unwrap_or_default(),
            Self::Owned(s) => s.as_bytes(),
        }
    }
}

/// Our cookies as the request carried them.
#[derive(Debug, Default)]
pub(crate) struct RequestCookies {
    base: Option<Slice>,
    chunks: Vec<(usize, Slice)>,
    /// Every `name.i` the request carried, to expire the ones a write drops.
    pub(crate) carried: ChunkSet,
}

/// The request's session cookie(s), decoded on first access.
#[derive(Debug)]
pub(crate) struct Pending {
    cookies: RequestCookies,
    config: Arc<Config>,
}

impl RequestCookies {
    pub(crate) fn from_headers(headers: &HeaderMap, config: &Config) -> Self {
        let mut found = Self::default();
        // HTTP/2 may split the Cookie header into several fields (RFC 9113 §8.2.3).
        for header in headers.get_all(COOKIE) {
            match std::str::from_utf8(header.as_bytes()) {
                Ok(text) => found.scan(text, Some(header), config),
                Err(_) => found.scan(&String::from_utf8_lossy(header.as_bytes()), None, config),
            }
        }
        found
    }

    fn scan(&mut self, text: &str, header: Option<&HeaderValue>, config: &Config) {
        for cookie in Cookie::split_parse(text).flatten() {
            let name = cookie.name();
            // Werkzeug unquotes `name="value"`; Flask never quotes, but proxies may.
            if name == config.name {
                // The first cookie with the name wins, as in Werkzeug.
                if self.base.is_none() {
                    self.base = Some(locate(text, cookie.value_trimmed(), header));
                }
            } else if let Some(index) = chunk::index_of(name, &config.name) {
                if !self.carried.contains(index) {
                    self.carried.insert(index);
                    self.chunks
                        .push((index, locate(text, cookie.value_trimmed(), header)));
                }
            }
        }
    }

    pub(crate) fn into_pending(self, config: &Arc<Config>) -> Option<Pending> {
        let has_value = self.base.as_ref().is_some_and(|b| !b.as_bytes().is_empty());
        has_value.then(|| Pending {
            cookies: self,
            config: Arc::clone(config),
        })
    }

    /// The chunks the base cookie names (`chunks-N` names `1..=N`); any
    /// other chunk the request carried is an orphan.
    pub(crate) fn referenced(&self) -> usize {
        let base = self.base.as_ref().map_or(&[][..], Slice::as_bytes);
        match chunk::parse_marker(base) {
            Some(Some(n)) if n <= MAX_CHUNKS_CAP => n,
            _ => 0,
        }
    }

    /// The signed token, joined from chunks when the base holds a marker.
    /// Bytes, not text: a cache hit needs no UTF-8 validation.
    ///
    /// A token longer than anything this layer could have written is
    /// refused here, before any base64, HMAC or copy: its cost must stay
    /// bounded by the layer's budget, not by what a client sends.
    fn token(&self, config: &Config) -> Option<Cow<'_, [u8]>> {
        let base = self.base.as_ref()?.as_bytes();
        let limit = config.max_token_bytes();
        let Some(n) = chunk::parse_marker(base) else {
            if base.len() > limit {
                tracing::debug!(
                    cookie = %config.name,
                    len = base.len(),
                    limit,
                    "session cookie longer than this layer ever writes; starting an empty session"
                );
                return None;
            }
            return Some(Cow::Borrowed(base));
        };
        // The reader accepts every count the format allows: lowering
        // `with_max_chunks` must not log out sessions written before.
        let Some(n) = n.filter(|n| (1..=MAX_CHUNKS_CAP).contains(n)) else {
            tracing::debug!(
                cookie = %config.name,
                marker = %String::from_utf8_lossy(&base[..base.len().min(16)]),
                marker_len = base.len(),
                "session chunk marker out of range; starting an empty session"
            );
            return None;
        };
        let mut parts: [&[u8]; MAX_CHUNKS_CAP] = [&[]; MAX_CHUNKS_CAP];
        let mut found = 0;
        let mut total = 0usize;
        for (i, slice) in &self.chunks {
            if *i <= n && parts[i - 1].is_empty() {
                let bytes = slice.as_bytes();
                if !bytes.is_empty() {
                    parts[i - 1] = bytes;
                    found += 1;
                    total += bytes.len();
                }
            }
        }
        if found != n {
            tracing::debug!(
                cookie = %config.name,
                "only {found} of {n} session chunks arrived, {total} bytes; a client or proxy limit may have been exceeded; starting an empty session"
            );
            return None;
        }
        if total > limit {
            tracing::debug!(
                cookie = %config.name,
                len = total,
                limit,
                "chunked session longer than this layer ever writes; starting an empty session"
            );
            return None;
        }
        Some(Cow::Owned(parts[..n].concat()))
    }
}

impl Pending {
    /// Whether the cookie could hold a permanent session, answered by the
    /// cache when it can, else without verifying: any JSON spelling of a
    /// top-level `_permanent` key contains `"_permanent"`, which is looked
    /// for in the base64 text as it is. A "no" lets an untouched request
    /// skip HMAC and parsing; a forged "no" only skips a refresh; a "yes"
    /// (and every compressed payload) is verified by the full load that
    /// follows. Nothing is decoded, inflated or allocated for the payload.
    pub(crate) fn may_be_permanent(&self) -> bool {
        const KEY: &[u8] = b"\"_permanent\"";
        let config = &self.config;
        let Some(token) = self.cookies.token(config) else {
            return false;
        };
        if let Some(entry) = config.cache.as_ref().and_then(|c| c.get(&token)) {
            return entry.permanent && entry.is_fresh(unix_now(), config.max_age_secs());
        }
        Codec::unverified_may_contain(&token, KEY)
    }

    /// Forgets the request's token in the cache: the response replaced it.
    pub(crate) fn evict(&self) {
        if let (Some(cache), Some(token)) = (&self.config.cache, self.cookies.token(&self.config)) {
            cache.remove(&token);
        }
    }

    /// The session, from the cache or by verifying and indexing the cookie.
    /// A bad cookie is no session, as in Flask; never an error.
    pub(crate) fn load(&self) -> Option<Arc<RawMap>> {
        let config = &self.config;
        let token = self.cookies.token(config)?;
        let (now, max_age) = (unix_now(), config.max_age_secs());
        if let Some(cache) = &config.cache {
            if let Some(entry) = cache.get(&token) {
                if entry.is_fresh(now, max_age) {
                    return Some(Arc::clone(&entry.map));
                }
                cache.remove(&token);
                tracing::debug!(cookie = %config.name, "ignoring session cookie: expired");
                return None;
            }
        }
        let decoded = std::str::from_utf8(&token)
            .map_err(|_| DecodeError::new(DecodeErrorKind::Malformed, "not ASCII"))
            .and_then(|text| config.codec.decode_raw(text, now, Some(max_age)));
        match decoded {
            Ok((map, ts)) => {
                let map = Arc::new(map);
                if let Some(cache) = &config.cache {
                    let permanent = map.is_permanent();
                    cache.insert(
                        &token,
                        Entry::new(Arc::clone(&map), ts, permanent, token.len()),
                    );
                }
                Some(map)
            }
            Err(error) => {
                tracing::debug!(cookie = %config.name, %error, "ignoring session cookie");
                None
            }
        }
    }
}

/// `value` borrows from `text`, which is `header`'s bytes: record where,
/// rather than copying the value.
fn locate(text: &str, value: &str, header: Option<&HeaderValue>) -> Slice {
    let start = (value.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    let end = start.wrapping_add(value.len());
    match header {
        Some(header) if start <= end && end <= text.len() => {
            Slice::Shared(header.clone(), start..end)
        }
        _ => Slice::Owned(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::DecodeCache;
    use crate::Key;
    use serde_json::json;

    fn config(cache_bytes: usize) -> Arc<Config> {
        let mut config = Config::new(Key::new("cache-test-key").unwrap());
        config.cache_bytes = cache_bytes;
        config.rebuild();
        Arc::new(config)
    }

    fn pending(config: &Arc<Config>, token: &str) -> Pending {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, format!("session={token}").parse().unwrap());
        RequestCookies::from_headers(&headers, config)
            .into_pending(config)
            .unwrap()
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
        let first = pending(&config, &t).load().unwrap();
        assert_eq!(cache(&config).len(), 1, "a miss verifies and inserts");
        let second = pending(&config, &t).load().unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "a hit shares the decoded map, no decode"
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
                assert!(pending(&config, bad).load().is_none());
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
        assert!(pending(&config, &t).load().is_some());
        assert_eq!(cache(&config).len(), 1);
        // The same token, judged by a layer whose max age is shorter: the
        // entry is there, but too old.
        let mut short = (*config).clone();
        short.max_age = std::time::Duration::from_secs(1);
        let short = Arc::new(short);
        assert!(pending(&short, &t).load().is_none());
    }

    #[test]
    fn the_cache_answers_the_refresh_question() {
        let config = config(1 << 20);
        let permanent = token(&config, json!({"_permanent": true}), unix_now());
        let plain = token(&config, json!({"a": 1}), unix_now());
        pending(&config, &permanent).load();
        pending(&config, &plain).load();
        assert!(pending(&config, &permanent).may_be_permanent());
        assert!(!pending(&config, &plain).may_be_permanent());
    }

    #[test]
    fn disabled_cache_still_decodes() {
        let config = config(0);
        assert!(config.cache.is_none());
        let t = token(&config, json!({"a": 1}), unix_now());
        assert!(pending(&config, &t).load().is_some());
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
        assert!(pending(&config, &t).load().is_some());
        // Rotating the key on a clone rebuilds the cache: the token signed by
        // the old key is verified again, and refused.
        let rotated = layer.with_salt("another-salt").layer(()).config_for_tests();
        assert!(!Arc::ptr_eq(
            rotated.cache.as_ref().unwrap(),
            config.cache.as_ref().unwrap()
        ));
        assert!(pending(&rotated, &t).load().is_none());
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
