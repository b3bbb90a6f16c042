//! The request side: find our cookies in every `Cookie` header, keep them
//! undecoded until the session is first used.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use cookie::Cookie;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value};

use crate::chunk::{self, ChunkSet};
use crate::codec::Codec;
use crate::config::{unix_now, Config};

/// A cookie value located in a request header, shared rather than copied.
#[derive(Debug)]
enum Slice {
    Shared(HeaderValue, Range<usize>),
    /// From a header that is not UTF-8 (another cookie held raw bytes).
    Owned(String),
}

impl Slice {
    fn as_str(&self) -> &str {
        match self {
            Self::Shared(header, range) => {
                std::str::from_utf8(&header.as_bytes()[range.clone()]).unwrap_or("")
            }
            Self::Owned(s) => s,
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
        let has_value = self.base.as_ref().is_some_and(|b| !b.as_str().is_empty());
        has_value.then(|| Pending {
            cookies: self,
            config: Arc::clone(config),
        })
    }

    /// The signed token, joined from chunks when the base holds a marker.
    fn token(&self, config: &Config) -> Option<Cow<'_, str>> {
        let base = self.base.as_ref()?.as_str();
        let Some(n) = chunk::parse_marker(base) else {
            return Some(Cow::Borrowed(base));
        };
        let Some(n) = n.filter(|n| (1..=config.max_chunks).contains(n)) else {
            tracing::debug!(
                cookie = %config.name,
                marker = base,
                max_chunks = config.max_chunks,
                "session chunk marker out of range; starting an empty session"
            );
            return None;
        };
        let parts: Vec<&str> = (1..=n)
            .filter_map(|i| {
                self.chunks
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map(|(_, s)| s.as_str())
            })
            .filter(|s| !s.is_empty())
            .collect();
        if parts.len() != n {
            tracing::debug!(
                cookie = %config.name,
                "only {} of {} session chunks arrived, {} bytes; a client or proxy limit may have been exceeded; starting an empty session",
                parts.len(),
                n,
                parts.iter().map(|p| p.len()).sum::<usize>()
            );
            return None;
        }
        Some(Cow::Owned(parts.concat()))
    }
}

impl Pending {
    /// Whether the cookie could hold a permanent session, without verifying
    /// it: any JSON spelling of a top-level `_permanent` key contains
    /// `"_permanent"`. A "no" lets an untouched request skip the HMAC and
    /// the parse; a forged "no" only skips a refresh; a "yes" is verified.
    pub(crate) fn may_be_permanent(&self) -> bool {
        const KEY: &[u8] = b"\"_permanent\"";
        let Some(token) = self.cookies.token(&self.config) else {
            return false;
        };
        Codec::unverified_payload(&token).is_some_and(|p| p.windows(KEY.len()).any(|w| w == KEY))
    }

    pub(crate) fn decode(self) -> Option<Map<String, Value>> {
        let config = &self.config;
        let token = self.cookies.token(config)?;
        match config
            .codec
            .decode(&token, unix_now(), Some(config.max_age_secs()))
        {
            Ok(map) => Some(map),
            Err(error) => {
                // A bad cookie is an empty session, as in Flask; never an error.
                tracing::debug!(cookie = %config.name, %error, "ignoring session cookie");
                None
            }
        }
    }
}

fn locate(text: &str, value: &str, header: Option<&HeaderValue>) -> Slice {
    let start = (value.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    match header {
        Some(header)
            if start
                .checked_add(value.len())
                .and_then(|end| text.get(start..end))
                == Some(value) =>
        {
            Slice::Shared(header.clone(), start..start + value.len())
        }
        _ => Slice::Owned(value.to_owned()),
    }
}
