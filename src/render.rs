//! What a write sends, computed once: the session completed for the write
//! (login stamp, `_permanent`), its cookie's lifetime, its token and the
//! chunk layout. The response side writes what this returns, and
//! [`Session::encoded_len`](crate::Session::encoded_len) measures with the
//! same function, so the two cannot disagree.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::cache::Entry;
use crate::codec::raw::RawMap;
use crate::codec::MAX_PAYLOAD_BYTES;
use crate::config::{Config, MAX_COOKIE_LIFETIME};
use crate::cookie::attributes::CookieExpiry;
use crate::cookie::chunk::{self, Plan};
use crate::expiry::SessionExpiry;
use crate::{lifecycle, SessionTooLarge};

/// A session ready to be written.
pub(crate) struct Rendered {
    pub(crate) token: String,
    /// The decode-cache entry the token will be on the next request.
    pub(crate) entry: Entry,
    pub(crate) plan: Plan,
    pub(crate) expiry: CookieExpiry,
}

/// Completes `map` for a write at `now` (seconds) / `now_us`, then encodes
/// and lays it out. `map` is changed only by the completion (copied first
/// if shared).
///
/// # Errors
///
/// [`SessionTooLarge`] when the session's JSON exceeds
/// [`MAX_PAYLOAD_BYTES`] (a reader would refuse it), or its cookies the
/// budget.
pub(crate) fn render(
    config: &Config,
    map: &mut Arc<RawMap>,
    now: u64,
    now_us: u64,
) -> Result<Rendered, SessionTooLarge> {
    complete(config, map, now_us);
    let permanent = config.is_permanent(map);
    let expiry = cookie_expiry(config, map, permanent, now, now_us);
    let policy = |json_len| config.compression.deflate(json_len);
    let (token, json_len) = config.codec.encode_raw(map, now, policy);
    if json_len > MAX_PAYLOAD_BYTES {
        return Err(SessionTooLarge::payload(json_len, MAX_PAYLOAD_BYTES));
    }
    let plan = chunk::plan(
        &config.names,
        &config.budget,
        token.len(),
        config.attributes.attributes_len(&expiry),
    )?;
    let entry = Entry::new(Arc::clone(map), now, permanent, token.len());
    Ok(Rendered {
        token,
        entry,
        plan,
        expiry,
    })
}

/// What a write adds to a session that lacks it: under
/// `with_max_lifetime`, a login stamp; under `with_expiry` with permanent
/// sessions, Flask's `_permanent`, so Flask peers agree.
fn complete(config: &Config, map: &mut Arc<RawMap>, now_us: u64) {
    let stamp = config.max_lifetime.is_some();
    let permanent = config.mark_permanent && config.format().tagged();
    if (!stamp && !permanent) || map.is_empty() {
        return;
    }
    if stamp && lifecycle::issued_at_us(map).is_none() {
        let stamp = lifecycle::stamp_json(now_us, config.format());
        Arc::make_mut(map).insert_json(crate::LOGIN_KEY, stamp);
    }
    if permanent && map.permanent_flag().is_none() {
        Arc::make_mut(map).insert_json("_permanent", "true".to_owned());
    }
}

/// The cookie's lifetime: Django's `_session_expiry` under the Django
/// format; else a browser-session cookie unless permanent; else the fixed
/// end of `Expiry::AtDateTime` or the max age. Never more than the 400
/// days browsers keep (which also keeps every date inside year 9999).
fn cookie_expiry(
    config: &Config,
    map: &RawMap,
    permanent: bool,
    now: u64,
    now_us: u64,
) -> CookieExpiry {
    let own = config
        .profile
        .session_expiry_key
        .and_then(|key| map.get_json(key))
        .and_then(SessionExpiry::from_json);
    let max_age = match own {
        Some(expiry) => match expiry.max_age(now_us) {
            // Django sends a negative `Max-Age` for a date already past;
            // browsers drop the cookie alike for 0.
            Some(secs) => u64::try_from(secs).unwrap_or(0),
            None => return CookieExpiry::Session,
        },
        None if !permanent => return CookieExpiry::Session,
        None => match config.expires_at_secs() {
            Some(end) => end.saturating_sub(now),
            None => config.cookie_lifetime_secs(),
        },
    };
    let max_age = max_age.min(MAX_COOKIE_LIFETIME.as_secs());
    let at = i64::try_from(now.saturating_add(max_age)).unwrap_or(i64::MAX);
    CookieExpiry::At {
        // `now` is a real clock reading: within the date range whatever
        // the setting.
        expires: OffsetDateTime::from_unix_timestamp(at)
            .unwrap_or_else(|_| OffsetDateTime::now_utc()),
        max_age,
    }
}
