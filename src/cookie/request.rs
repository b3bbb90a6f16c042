//! Finding our cookies in a request's `Cookie` headers: the base cookie and
//! its chunks, located (not copied) in the header bytes, and the token they
//! join into. No decoding here.

use std::borrow::Cow;
use std::ops::Range;

use cookie::Cookie;
use http::header::GetAll;
use http::HeaderValue;
use memchr::memmem::Finder;

use crate::cookie::chunk::{self, ChunkSet, MAX_CHUNKS_CAP};

/// The request's `Cookie` header values, as they came: a reference count
/// each, parsed only when needed. HTTP/2 may split the `Cookie` header into
/// several fields (RFC 9113 §8.2.3).
#[derive(Debug, Default)]
pub(crate) struct CookieHeaders {
    first: Option<HeaderValue>,
    rest: Vec<HeaderValue>,
}

impl CookieHeaders {
    pub(crate) fn new(values: GetAll<'_, HeaderValue>) -> Self {
        let mut values = values.iter().cloned();
        Self {
            first: values.next(),
            rest: values.collect(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &HeaderValue> {
        self.first.iter().chain(&self.rest)
    }

    /// Whether a cookie named `name` or `name.N` may be among them: a
    /// byte search, no parsing. A "no" is certain; a "yes" is checked by
    /// parsing.
    pub(crate) fn may_hold(&self, name: &Finder<'_>) -> bool {
        let len = name.needle().len();
        // A vectorised substring search: a 2 KB header of other cookies
        // costs ~0.1 µs where a byte-by-byte window scan cost ~1.1 µs.
        self.iter().any(|h| {
            let h = h.as_bytes();
            name.find_iter(h)
                .any(|i| matches!(h.get(i + len), Some(b'=' | b'.' | b' ' | b'\t')))
        })
    }

    /// Whether a chunk cookie `name.N` may be among them, given a searcher
    /// for `name.`: as [`CookieHeaders::may_hold`], a "no" is certain.
    pub(crate) fn may_hold_chunk(&self, prefix: &Finder<'_>) -> bool {
        let len = prefix.needle().len();
        self.iter().any(|h| {
            let h = h.as_bytes();
            prefix
                .find_iter(h)
                .any(|i| h.get(i + len).is_some_and(u8::is_ascii_digit))
        })
    }
}

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

impl RequestCookies {
    /// The cookie `name` and its chunks, from every header.
    pub(crate) fn parse(headers: &CookieHeaders, name: &str) -> Self {
        let mut found = Self::default();
        for header in headers.iter() {
            match std::str::from_utf8(header.as_bytes()) {
                Ok(text) => found.scan(text, Some(header), name),
                Err(_) => found.scan(&String::from_utf8_lossy(header.as_bytes()), None, name),
            }
        }
        found
    }

    fn scan(&mut self, text: &str, header: Option<&HeaderValue>, base: &str) {
        for cookie in Cookie::split_parse(text).flatten() {
            let name = cookie.name();
            // Werkzeug unquotes `name="value"`; Flask never quotes, but proxies may.
            if name == base {
                // The first cookie with the name wins, as in Werkzeug.
                if self.base.is_none() {
                    self.base = Some(locate(text, cookie.value_trimmed(), header));
                }
            } else if let Some(index) = chunk::index_of(name, base) {
                if !self.carried.contains(index) {
                    self.carried.insert(index);
                    self.chunks
                        .push((index, locate(text, cookie.value_trimmed(), header)));
                }
            }
        }
    }

    /// Whether the request carried a non-empty session cookie.
    pub(crate) fn has_base(&self) -> bool {
        self.base.as_ref().is_some_and(|b| !b.as_bytes().is_empty())
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
    /// bounded by the layer's budget, not by what a client sends: `limit`
    /// is the longest token it could have written. `name` only labels the
    /// events.
    pub(crate) fn token(&self, name: &str, limit: usize) -> Option<Cow<'_, [u8]>> {
        let base = self.base.as_ref()?.as_bytes();
        let Some(n) = chunk::parse_marker(base) else {
            if base.len() > limit {
                tracing::debug!(
                    cookie = %name,
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
                cookie = %name,
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
                cookie = %name,
                "only {found} of {n} session chunks arrived, {total} bytes; a client or proxy limit may have been exceeded; starting an empty session"
            );
            return None;
        }
        if total > limit {
            tracing::debug!(
                cookie = %name,
                len = total,
                limit,
                "chunked session longer than this layer ever writes; starting an empty session"
            );
            return None;
        }
        Some(Cow::Owned(parts[..n].concat()))
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

/// The last value of the request cookie `name`, as Django's cookie dict
/// keeps it.
pub(crate) fn request_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(Cookie::split_parse)
        .flatten()
        .filter(|c| c.name() == name)
        .last()
        .map(|c| c.value_trimmed().to_owned())
}

/// The first value of the request cookie `name`, as Werkzeug's cookie dict
/// keeps it (a host-only and a domain cookie of one name: the first wins).
pub(crate) fn request_cookie_first(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(Cookie::split_parse)
        .flatten()
        .find(|c| c.name() == name)
        .map(|c| c.value_trimmed().to_owned())
}
