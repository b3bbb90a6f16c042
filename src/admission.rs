//! Whether a verified session may be used: the fixed end of
//! `Expiry::AtDateTime`, the absolute lifetime counted from the login
//! stamp, Django's per-session expiry, then the application's validator.
//! Decided once per request, on the map the cache or the codec gave.

use crate::codec::raw::RawMap;
use crate::config::Config;
use crate::expiry::SessionExpiry;
use crate::lifecycle::{issued_at_us, SessionInfo};

/// Why a verified session is not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Past the absolute lifetime counted from its login stamp.
    Lifetime,
    /// The application's validator said no.
    Validator,
    /// Past the lifetime Django's `set_expiry` gave the session.
    SessionExpiry,
}

/// Whether a verified session may be used at `now`: within the absolute
/// lifetime, then accepted by the validator (run here, once per request).
pub(crate) fn admit(
    config: &Config,
    map: &RawMap,
    signed_at: u64,
    now: u64,
) -> Result<(), Refusal> {
    if config.expires_at_secs().is_some_and(|end| now > end) {
        return Err(Refusal::Lifetime);
    }
    let own = config
        .profile
        .session_expiry_key
        .and_then(|key| map.get_json(key))
        .and_then(SessionExpiry::from_json);
    if own.is_some_and(|expiry| expiry.is_past(signed_at, now)) {
        return Err(Refusal::SessionExpiry);
    }
    if let Some(lifetime) = config.max_lifetime {
        let expired = issued_at_us(map)
            .is_some_and(|at| now.saturating_sub(at / 1_000_000) > lifetime.as_secs());
        if expired {
            return Err(Refusal::Lifetime);
        }
    }
    if let Some(validator) = &config.validator {
        let info = SessionInfo {
            map,
            format: config.format(),
            signed_at,
        };
        if !validator(&info) {
            return Err(Refusal::Validator);
        }
    }
    Ok(())
}
