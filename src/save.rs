//! The response side: the framework's save rules (Flask's `save_session`
//! table, Starlette's and Django's middleware), plus chunk cleanup.

use cookie::Cookie;
use http::header::{SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Response};

use crate::chunk::{self, ChunkSet};
use crate::config::{Config, CookieExpiry};
use crate::profile::DeleteWhen;
use crate::render::Rendered;
use crate::state::{RequestInfo, State};
use crate::SessionTooLarge;

impl RequestInfo {
    /// Chunks the request carried that its base cookie does not name.
    fn orphans(self) -> impl Iterator<Item = usize> {
        self.carried.iter().filter(move |i| *i > self.referenced)
    }
}

/// What [`save`] did to the client's cookies.
enum Saved {
    /// Nothing written: carried cookies stay as they are.
    Nothing,
    /// The session was written or deleted, stale chunks included.
    Everything,
}

/// Applies the session outcome to `res`.
///
/// | session after the handler | response |
/// |---|---|
/// | accessed | `Vary: Cookie` |
/// | empty and modified | deletion cookies (base and every carried chunk): Flask always; Django if the request carried the cookie; Starlette if it carried a valid session |
/// | modified, or permanent with refresh-each-request | new cookie(s); carried chunks it does not rewrite are expired (Starlette and Django sessions are permanent unless `_permanent` is false) |
/// | status 5xx and not `save_on_server_error` | no cookie |
///
/// Two rules keep a response from undoing a write it already carries: an
/// unmodified session (a refresh) never replaces a `Set-Cookie` the inner
/// service set for our cookie at our path and domain, and a refresh that
/// no longer fits the budget is skipped with a warning, never a 500.
/// Whatever else happens, chunks the request carried that its base cookie
/// does not name are expired.
///
/// # Errors
///
/// [`SessionTooLarge`], before anything was written, when the handler
/// modified a session beyond the budget.
impl State {
    pub(crate) fn finish<B>(
        &self,
        config: &Config,
        res: &mut Response<B>,
    ) -> Result<(), SessionTooLarge> {
        finish(config, self, res)
    }
}

fn finish<B>(
    config: &Config,
    session: &State,
    res: &mut Response<B>,
) -> Result<(), SessionTooLarge> {
    let request = session.request_info();
    let saved = save(config, session, request, res)?;
    if matches!(saved, Saved::Nothing) && request.orphans().next().is_some() {
        // The inner service's own cookies are read only when they matter.
        let handler = HandlerCookies::scan(config, res.headers());
        let orphans: Vec<(&str, &str)> = request
            .orphans()
            .filter(|i| !handler.chunks.contains(*i))
            .map(|i| (config.chunk_names[i - 1].as_str(), ""))
            .collect();
        if !orphans.is_empty() {
            tracing::debug!(
                cookie = %config.name,
                orphans = orphans.len(),
                "expiring session chunks that the session cookie does not name"
            );
            write(config, res.headers_mut(), &orphans, &CookieExpiry::Delete);
            add_vary_cookie(res.headers_mut());
        }
    }
    Ok(())
}

fn save<B>(
    config: &Config,
    session: &State,
    request: RequestInfo,
    res: &mut Response<B>,
) -> Result<Saved, SessionTooLarge> {
    let now = config.now();
    if !session.is_accessed() && !session.is_modified() {
        // Untouched: only Flask's refresh of a permanent session can apply.
        let may_refresh = config.refresh_each_request && request.had_session_cookie;
        if !may_refresh || !session.may_be_permanent() || !session.refresh_due(config, now) {
            return Ok(Saved::Nothing);
        }
    }
    // Read after the refresh check: loading the session may revoke it
    // (lifetime, validator), which modifies it.
    let (empty, permanent) = session.save_state(config);
    let accessed = session.is_accessed();
    let modified = session.is_modified();
    if accessed {
        add_vary_cookie(res.headers_mut());
    }
    if res.status().is_server_error() && !config.save_on_server_error {
        return Ok(Saved::Nothing);
    }
    if empty {
        if !modified || !deletes(config, session, request) {
            return Ok(Saved::Nothing);
        }
        let mut cookies = vec![(config.name.as_str(), config.profile.deletion_value)];
        cookies.extend(request.carried.iter().map(|i| {
            (
                config.chunk_names[i - 1].as_str(),
                config.profile.deletion_value,
            )
        }));
        write(config, res.headers_mut(), &cookies, &CookieExpiry::Delete);
        // What the response sets depends on the request's cookies, as
        // every write does: shared caches must not serve it to others.
        add_vary_cookie(res.headers_mut());
        session.evict_request_token();
        return Ok(Saved::Everything);
    }
    if !(modified || (permanent && config.refresh_each_request)) {
        return Ok(Saved::Nothing);
    }
    if !modified && !session.refresh_due(config, now) {
        return Ok(Saved::Nothing);
    }
    if !modified && HandlerCookies::scan(config, res.headers()).any() {
        // A refresh only renews what the client has; the inner service's
        // own cookie (a proxied logout, a handler's write) is newer.
        tracing::debug!(
            cookie = %config.name,
            "the response already sets the session cookie; not refreshing it"
        );
        return Ok(Saved::Nothing);
    }
    let rendered = match session.render(config, now, true) {
        Ok(rendered) => rendered,
        Err(e) if !modified => {
            // The client's cookie is still valid: leave it, and its
            // requests, alone rather than fail every one of them.
            tracing::warn!(
                cookie = %config.name,
                needed = e.needed(),
                allowed = e.allowed(),
                chunks = e.chunks(),
                max_chunks = config.max_chunks,
                "session too large to refresh within the budget; the client keeps its cookie as it is"
            );
            return Ok(Saved::Nothing);
        }
        Err(e) => {
            tracing::error!(
                cookie = %config.name,
                needed = e.needed(),
                allowed = e.allowed(),
                chunks = e.chunks(),
                max_chunks = config.max_chunks,
                max_cookie_bytes = config.max_cookie_bytes,
                payload_limit = e.exceeds_payload_limit(),
                "session too large to store in cookies; nothing was written (see SessionLayer::with_max_total_bytes)"
            );
            return Err(e);
        }
    };
    let Rendered {
        token,
        entry,
        plan,
        expiry,
    } = rendered;
    // The client will send this token back: make its next read a hit, and
    // drop the one it replaces.
    session.evict_request_token();
    if let Some(cache) = &config.cache {
        cache.insert(token.as_bytes(), entry);
    }
    let marker;
    let mut cookies: Vec<(&str, &str)> = Vec::with_capacity(plan.chunks.len() + 1);
    if plan.chunks.is_empty() {
        cookies.push((&config.name, &token));
    } else {
        marker = chunk::marker(plan.chunks.len());
        cookies.push((&config.name, &marker));
        for (i, range) in plan.chunks.iter().enumerate() {
            cookies.push((&config.chunk_names[i], &token[range.clone()]));
        }
    }
    write(config, res.headers_mut(), &cookies, &expiry);
    let stale: Vec<(&str, &str)> = request
        .carried
        .iter()
        .filter(|i| *i > plan.chunks.len())
        .map(|i| (config.chunk_names[i - 1].as_str(), ""))
        .collect();
    if !stale.is_empty() {
        write(config, res.headers_mut(), &stale, &CookieExpiry::Delete);
    }
    add_vary_cookie(res.headers_mut());
    Ok(Saved::Everything)
}

/// Whether a session modified to empty is deleted: Flask always sends the
/// deletion; Django only if the request carried the cookie; Starlette only
/// if it carried a session that verified.
fn deletes(config: &Config, session: &State, request: RequestInfo) -> bool {
    let carried = request.had_session_cookie || request.carried.iter().next().is_some();
    match config.profile.delete_when {
        DeleteWhen::Always => true,
        DeleteWhen::CarriedCookie => carried,
        DeleteWhen::CarriedValidSession => carried && session.request_verified(),
    }
}

/// Our cookie names that the inner service already set, at our path and
/// domain (the cookies a write of ours would replace in the browser).
#[derive(Default)]
struct HandlerCookies {
    base: bool,
    chunks: ChunkSet,
}

impl HandlerCookies {
    fn scan(config: &Config, headers: &HeaderMap) -> Self {
        let mut found = Self::default();
        for value in headers.get_all(SET_COOKIE) {
            let Some(cookie) = parse_set_cookie(value) else {
                continue;
            };
            if !collides(config, &cookie) {
                continue;
            }
            if cookie.name() == config.name {
                found.base = true;
            } else if let Some(i) = chunk::index_of(cookie.name(), &config.name) {
                found.chunks.insert(i);
            }
        }
        found
    }

    fn any(&self) -> bool {
        self.base || self.chunks != ChunkSet::default()
    }
}

fn parse_set_cookie(value: &HeaderValue) -> Option<Cookie<'_>> {
    Cookie::parse(value.to_str().ok()?).ok()
}

/// Whether `cookie` would overwrite, in the browser, a cookie of ours with
/// the same name: same path and domain. A cookie without `Path` gets the
/// request's directory, unknown here, so it is taken to collide.
fn collides(config: &Config, cookie: &Cookie<'_>) -> bool {
    let path_matches = cookie.path().is_none_or(|p| p == config.path);
    let domain = cookie
        .domain()
        .map(|d| d.strip_prefix('.').unwrap_or(d).to_ascii_lowercase());
    path_matches && domain.as_deref() == config.domain.as_deref()
}

/// Appends one `Set-Cookie` per cookie, after dropping any the handler set
/// that it would replace (same name, path and domain; RFC 6265bis: never
/// two for one cookie). A handler's cookie at another path or domain, such
/// as the expiry of a cookie left at an old path, is kept.
fn write(
    config: &Config,
    headers: &mut HeaderMap,
    cookies: &[(&str, &str)],
    expiry: &CookieExpiry,
) {
    if headers.contains_key(SET_COOKIE) {
        let ours = |v: &HeaderValue| {
            parse_set_cookie(v).is_some_and(|c| {
                cookies.iter().any(|(name, _)| c.name() == *name) && collides(config, &c)
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
        match config.set_cookie(name, value, expiry) {
            Some(v) => {
                headers.append(SET_COOKIE, v);
            }
            None => {
                tracing::error!(cookie = %name, "session cookie is not a valid header value; not sent")
            }
        }
    }
}

fn add_vary_cookie(headers: &mut HeaderMap) {
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
