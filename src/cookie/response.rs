//! The response's cookie headers: our `Set-Cookie` lines (replacing any
//! the inner service set for the same cookie), the cookies the inner
//! service already set, and `Vary: Cookie`. Knows cookies, not sessions.

use cookie::Cookie;
use http::header::{SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue};

use crate::cookie::attributes::{Attributes, CookieExpiry};
use crate::cookie::chunk::{self, ChunkSet};
use crate::cookie::names::Names;

/// Our cookie names that the inner service already set, at our path and
/// domain (the cookies a write of ours would replace in the browser).
#[derive(Default)]
pub(crate) struct HandlerCookies {
    base: bool,
    pub(crate) chunks: ChunkSet,
}

impl HandlerCookies {
    pub(crate) fn scan(names: &Names, attributes: &Attributes, headers: &HeaderMap) -> Self {
        let mut found = Self::default();
        for value in headers.get_all(SET_COOKIE) {
            let Some(cookie) = parse_set_cookie(value) else {
                continue;
            };
            if !collides(attributes, &cookie) {
                continue;
            }
            if cookie.name() == names.name {
                found.base = true;
            } else if let Some(i) = chunk::index_of(cookie.name(), &names.name) {
                found.chunks.insert(i);
            }
        }
        found
    }

    pub(crate) fn any(&self) -> bool {
        self.base || self.chunks != ChunkSet::default()
    }
}

fn parse_set_cookie(value: &HeaderValue) -> Option<Cookie<'_>> {
    Cookie::parse(value.to_str().ok()?).ok()
}

/// Whether `cookie` would overwrite, in the browser, a cookie of ours with
/// the same name: same path and domain. A cookie without `Path` gets the
/// request's directory, unknown here, so it is taken to collide.
fn collides(attributes: &Attributes, cookie: &Cookie<'_>) -> bool {
    let path_matches = cookie.path().is_none_or(|p| p == attributes.path);
    let domain = cookie
        .domain()
        .map(|d| d.strip_prefix('.').unwrap_or(d).to_ascii_lowercase());
    path_matches && domain.as_deref() == attributes.domain.as_deref()
}

/// Appends one `Set-Cookie` per cookie, after dropping any the handler set
/// that it would replace (same name, path and domain; RFC 6265bis: never
/// two for one cookie). A handler's cookie at another path or domain, such
/// as the expiry of a cookie left at an old path, is kept.
pub(crate) fn write(
    attributes: &Attributes,
    headers: &mut HeaderMap,
    cookies: &[(&str, &str)],
    expiry: &CookieExpiry,
) {
    if headers.contains_key(SET_COOKIE) {
        let ours = |v: &HeaderValue| {
            parse_set_cookie(v).is_some_and(|c| {
                cookies.iter().any(|(name, _)| c.name() == *name) && collides(attributes, &c)
            })
        };
        if headers.get_all(SET_COOKIE).iter().any(ours) {
            let kept: Vec<HeaderValue> = headers
                .get_all(SET_COOKIE)
                .iter()
                .filter(|v| !ours(v))
                .cloned()
                .collect();
            headers.remove(SET_COOKIE);
            for v in kept {
                headers.append(SET_COOKIE, v);
            }
        }
    }
    for (name, value) in cookies {
        match attributes.set_cookie(name, value, expiry) {
            Some(v) => {
                headers.append(SET_COOKIE, v);
            }
            None => {
                tracing::error!(cookie = %name, "session cookie is not a valid header value; not sent")
            }
        }
    }
}

/// Adds `Vary: Cookie` unless the response already varies on it (or on
/// everything).
pub(crate) fn add_vary_cookie(headers: &mut HeaderMap) {
    let present = headers.get_all(VARY).iter().any(|v| {
        v.to_str()
            .unwrap_or("")
            .split(',')
            .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case("cookie"))
    });
    if !present {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
}
