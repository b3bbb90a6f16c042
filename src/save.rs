//! The response side: the framework's save rules (Flask's `save_session`
//! table, Starlette's and Django's middleware), plus chunk cleanup.

use http::Response;

use crate::config::Config;
use crate::cookie::attributes::CookieExpiry;
use crate::cookie::chunk;
use crate::cookie::response::{add_vary_cookie, write, HandlerCookies};
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
    // Read once: the save below acts on this answer, whatever a handle
    // kept elsewhere does meanwhile.
    let untouched = !session.is_accessed() && !session.is_modified();
    let request = session.request_info(untouched && !config.refresh_each_request);
    let saved = save(config, session, request, untouched, res)?;
    if matches!(saved, Saved::Nothing) && request.orphans().next().is_some() {
        // The inner service's own cookies are read only when they matter.
        let handler = HandlerCookies::scan(&config.names, &config.attributes, res.headers());
        let orphans: Vec<(&str, &str)> = request
            .orphans()
            .filter(|i| !handler.chunks.contains(*i))
            .map(|i| (config.names.chunk(i), ""))
            .collect();
        if !orphans.is_empty() {
            tracing::debug!(
                cookie = %config.names.name,
                orphans = orphans.len(),
                "expiring session chunks that the session cookie does not name"
            );
            write(
                &config.attributes,
                res.headers_mut(),
                &orphans,
                &CookieExpiry::Delete,
            );
            add_vary_cookie(res.headers_mut());
        }
    }
    Ok(())
}

/// What the response does with the session's cookies: decided first, as a
/// value, then applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Leave the client's cookies as they are.
    Nothing,
    /// Delete the session cookie and every chunk the request carried.
    Delete,
    /// Write the session: the handler changed it.
    Write,
    /// Write the session unchanged, to renew its cookie and timestamp.
    Refresh,
}

/// The one refresh rule: a session the handler left unchanged is
/// re-signed when the layer refreshes on each request (Flask's
/// `SESSION_REFRESH_EACH_REQUEST`, Django's `SESSION_SAVE_EVERY_REQUEST`),
/// the request carried it, it is permanent, and `with_refresh_after` says
/// a refresh is due. Before the session is loaded (`permanent` is `None`),
/// permanence and age are judged without verifying (a "yes" is confirmed
/// by the load); after, the loaded session's permanence is passed in.
fn refresh_wanted(
    config: &Config,
    session: &State,
    request: RequestInfo,
    permanent: Option<bool>,
) -> bool {
    config.refresh_each_request
        && request.had_session_cookie
        && permanent.unwrap_or_else(|| session.may_be_permanent())
        && session.refresh_due(config)
}

/// What to do with the session the handler left, once it is loaded.
fn decide(config: &Config, session: &State, request: RequestInfo, server_error: bool) -> Decision {
    let (empty, permanent) = session.save_state(config);
    let modified = session.is_modified();
    if server_error && !config.save_on_server_error {
        Decision::Nothing
    } else if empty {
        if modified && deletes(config, session, request) {
            Decision::Delete
        } else {
            Decision::Nothing
        }
    } else if modified {
        Decision::Write
    } else if refresh_wanted(config, session, request, Some(permanent)) {
        Decision::Refresh
    } else {
        Decision::Nothing
    }
}

fn save<B>(
    config: &Config,
    session: &State,
    request: RequestInfo,
    untouched: bool,
    res: &mut Response<B>,
) -> Result<Saved, SessionTooLarge> {
    // An untouched session can only be refreshed: when the rule says no
    // from the token's text, it is never loaded (nor the clock read).
    if untouched && !refresh_wanted(config, session, request, None) {
        return Ok(Saved::Nothing);
    }
    let now = config.now();
    // Decided after loading: loading may revoke the session (lifetime,
    // validator), which modifies it.
    let decision = decide(config, session, request, res.status().is_server_error());
    if session.is_accessed() {
        add_vary_cookie(res.headers_mut());
    }
    let modified = match decision {
        Decision::Nothing => return Ok(Saved::Nothing),
        Decision::Delete => {
            delete(config, session, request, res);
            return Ok(Saved::Everything);
        }
        Decision::Write => true,
        Decision::Refresh => false,
    };
    if !modified && HandlerCookies::scan(&config.names, &config.attributes, res.headers()).any() {
        // A refresh only renews what the client has; the inner service's
        // own cookie (a proxied logout, a handler's write) is newer.
        tracing::debug!(
            cookie = %config.names.name,
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
                cookie = %config.names.name,
                needed = e.needed(),
                allowed = e.allowed(),
                chunks = e.chunks(),
                max_chunks = config.budget.max_chunks,
                "session too large to refresh within the budget; the client keeps its cookie as it is"
            );
            return Ok(Saved::Nothing);
        }
        Err(e) => {
            tracing::error!(
                cookie = %config.names.name,
                needed = e.needed(),
                allowed = e.allowed(),
                chunks = e.chunks(),
                max_chunks = config.budget.max_chunks,
                max_cookie_bytes = config.budget.max_cookie_bytes,
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
        cookies.push((&config.names.name, &token));
    } else {
        marker = chunk::marker(plan.chunks.len());
        cookies.push((&config.names.name, &marker));
        for (i, range) in plan.chunks.iter().enumerate() {
            cookies.push((&config.names.chunk_names[i], &token[range.clone()]));
        }
    }
    write(&config.attributes, res.headers_mut(), &cookies, &expiry);
    let stale: Vec<(&str, &str)> = request
        .carried
        .iter()
        .filter(|i| *i > plan.chunks.len())
        .map(|i| (config.names.chunk(i), ""))
        .collect();
    if !stale.is_empty() {
        write(
            &config.attributes,
            res.headers_mut(),
            &stale,
            &CookieExpiry::Delete,
        );
    }
    add_vary_cookie(res.headers_mut());
    Ok(Saved::Everything)
}

/// Deletes the session cookie and every chunk the request carried.
fn delete<B>(config: &Config, session: &State, request: RequestInfo, res: &mut Response<B>) {
    let value = config.profile.deletion_value;
    let mut cookies = vec![(config.names.name.as_str(), value)];
    cookies.extend(
        request
            .carried
            .iter()
            .map(|i| (config.names.chunk(i), value)),
    );
    write(
        &config.attributes,
        res.headers_mut(),
        &cookies,
        &CookieExpiry::Delete,
    );
    // What the response sets depends on the request's cookies, as every
    // write does: shared caches must not serve it to others.
    add_vary_cookie(res.headers_mut());
    session.evict_request_token();
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
