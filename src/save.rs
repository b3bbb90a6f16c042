//! The response side: Flask's `save_session` table, plus chunk cleanup.

use cookie::Cookie;
use http::header::{SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Response};
use time::OffsetDateTime;

use crate::chunk::{self, ChunkSet};
use crate::config::{unix_now, Config, Expiry};
use crate::{Session, SessionTooLarge};

/// What the service learnt about the request's cookies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestInfo {
    pub(crate) had_session_cookie: bool,
    pub(crate) carried: ChunkSet,
}

/// Applies the session outcome to `res`.
///
/// | session after the handler | response |
/// |---|---|
/// | accessed | `Vary: Cookie` |
/// | empty and modified | deletion cookies (base and every carried chunk) |
/// | modified, or permanent with refresh-each-request | new cookie(s); carried chunks it does not rewrite are expired |
/// | status 5xx and not `save_on_server_error` | no cookie |
///
/// # Errors
///
/// [`SessionTooLarge`], before anything was written.
pub(crate) fn finish<B>(
    config: &Config,
    session: &Session,
    request: RequestInfo,
    res: &mut Response<B>,
) -> Result<(), SessionTooLarge> {
    let accessed = session.is_accessed();
    let modified = session.is_modified();
    if !accessed && !modified {
        // Untouched: only Flask's refresh of a permanent session can apply.
        let may_refresh = config.refresh_each_request && request.had_session_cookie;
        if !may_refresh || !session.may_be_permanent() {
            return Ok(());
        }
    }
    if accessed {
        add_vary_cookie(res.headers_mut());
    }
    if res.status().is_server_error() && !config.save_on_server_error {
        return Ok(());
    }
    let (empty, permanent) = session.save_state();
    if empty {
        if modified {
            let mut cookies = vec![(config.name.as_str(), String::new())];
            cookies.extend(
                request
                    .carried
                    .iter()
                    .map(|i| (config.chunk_names[i - 1].as_str(), String::new())),
            );
            write(config, res.headers_mut(), &cookies, &Expiry::Delete);
        }
        return Ok(());
    }
    if !(modified || (permanent && config.refresh_each_request)) {
        return Ok(());
    }
    let now = unix_now();
    let expiry = if permanent {
        let at = i64::try_from(now.saturating_add(config.max_age_secs())).unwrap_or(i64::MAX);
        Expiry::At(OffsetDateTime::from_unix_timestamp(at).unwrap_or(OffsetDateTime::UNIX_EPOCH))
    } else {
        Expiry::Session
    };
    let (token, entry) = session.encode_for_save(config, now);
    let plan = chunk::plan(config, token.len(), config.attributes_len(&expiry)).inspect_err(|e| {
        tracing::error!(
            cookie = %config.name,
            needed = e.needed(),
            allowed = config.max_total_bytes,
            chunks = e.chunks(),
            max_chunks = config.max_chunks,
            max_cookie_bytes = config.max_cookie_bytes,
            "session too large to store in cookies; nothing was written (see SessionLayer::with_max_total_bytes)"
        );
    })?;
    // The client will send this token back: make its next read a hit.
    if let Some(cache) = &config.cache {
        cache.insert(token.as_bytes(), entry);
    }
    let mut cookies: Vec<(&str, String)> = Vec::with_capacity(plan.chunks.len() + 1);
    if plan.chunks.is_empty() {
        cookies.push((&config.name, token));
    } else {
        cookies.push((&config.name, chunk::marker(plan.chunks.len())));
        for (i, range) in plan.chunks.iter().enumerate() {
            cookies.push((&config.chunk_names[i], token[range.clone()].to_owned()));
        }
    }
    write(config, res.headers_mut(), &cookies, &expiry);
    let stale: Vec<(&str, String)> = request
        .carried
        .iter()
        .filter(|i| *i > plan.chunks.len())
        .map(|i| (config.chunk_names[i - 1].as_str(), String::new()))
        .collect();
    if !stale.is_empty() {
        write(config, res.headers_mut(), &stale, &Expiry::Delete);
    }
    add_vary_cookie(res.headers_mut());
    Ok(())
}

/// Appends one `Set-Cookie` per cookie, after dropping any the handler set
/// under the same names (RFC 6265bis: never two for one name).
fn write(config: &Config, headers: &mut HeaderMap, cookies: &[(&str, String)], expiry: &Expiry) {
    if headers.contains_key(SET_COOKIE) {
        let ours = |v: &HeaderValue| {
            v.to_str()
                .ok()
                .and_then(|s| Cookie::parse(s).ok())
                .is_some_and(|c| cookies.iter().any(|(name, _)| c.name() == *name))
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
