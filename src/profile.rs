//! One table of framework facts: everything the layer decides per
//! framework, beside the codec's wire format (`src/codec/format.rs`).
//!
//! A new format is a codec entry, a row here and a constructor; the
//! `match` in [`Profile::of`] has no wildcard, so a missing row is a
//! compile error, never a silent default. Outside the codec and this file
//! no code matches on the format.

use std::time::Duration;

use crate::codec::Format;
use crate::policy::Compression;

/// Flask's `PERMANENT_SESSION_LIFETIME`.
const THIRTY_ONE_DAYS: Duration = Duration::from_secs(31 * 24 * 3600);
/// Starlette's `max_age` and Django's `SESSION_COOKIE_AGE`.
const TWO_WEEKS: Duration = Duration::from_secs(14 * 24 * 3600);

/// When a session emptied by the handler is deleted from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeleteWhen {
    /// Flask: always (a deletion cookie even without a request cookie).
    Always,
    /// Django: if the request carried the cookie at all.
    CarriedCookie,
    /// Starlette: if the request carried a session that verified.
    CarriedValidSession,
}

/// A framework's defaults and rules, as its own middleware has them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// `SESSION_COOKIE_NAME` / `session_cookie`.
    pub(crate) cookie_name: &'static str,
    /// The default max age.
    pub(crate) max_age: Duration,
    /// What a persistent cookie carries: `Max-Age`, `Expires`.
    pub(crate) max_age_attribute: bool,
    pub(crate) expires_attribute: bool,
    /// The value a deletion cookie carries.
    pub(crate) deletion_value: &'static str,
    /// Whether the deletion adds `Max-Age=0` to the epoch `Expires`.
    pub(crate) deletion_max_age: bool,
    pub(crate) delete_when: DeleteWhen,
    /// Flask re-signs a permanent session on every request; the others
    /// only when told to (`SESSION_SAVE_EVERY_REQUEST`).
    pub(crate) refresh_each_request: bool,
    /// Whether a session without `_permanent` is permanent (persistent
    /// cookie): Flask's `session.permanent` defaults to false.
    pub(crate) permanent_by_default: bool,
    /// Whether `_permanent` can be judged from the token's text before it
    /// verifies (uncompressed base64 of the JSON), to skip a refresh.
    pub(crate) permanence_in_text: bool,
    /// The session key of a per-session expiry the framework honours
    /// (Django's `set_expiry`).
    pub(crate) session_expiry_key: Option<&'static str>,
    /// Whether a clear must first learn whether the request's session
    /// verified (Starlette's deletion rule depends on it).
    pub(crate) clear_needs_verification: bool,
    /// The default compression policy.
    pub(crate) compression: Compression,
}

impl Profile {
    /// The row of `format`.
    pub(crate) const fn of(format: Format) -> Self {
        const FLASK: Profile = Profile {
            cookie_name: "session",
            max_age: THIRTY_ONE_DAYS,
            max_age_attribute: false,
            expires_attribute: true,
            deletion_value: "",
            deletion_max_age: true,
            delete_when: DeleteWhen::Always,
            refresh_each_request: true,
            permanent_by_default: false,
            permanence_in_text: true,
            session_expiry_key: None,
            clear_needs_verification: false,
            compression: Compression::Auto,
        };
        match format {
            Format::Flask | Format::Quart => FLASK,
            Format::Starlette => Self {
                max_age: TWO_WEEKS,
                max_age_attribute: true,
                expires_attribute: false,
                deletion_value: "null",
                deletion_max_age: false,
                delete_when: DeleteWhen::CarriedValidSession,
                refresh_each_request: false,
                permanent_by_default: true,
                permanence_in_text: false,
                clear_needs_verification: true,
                ..FLASK
            },
            Format::Django => Self {
                cookie_name: "sessionid",
                max_age: TWO_WEEKS,
                max_age_attribute: true,
                expires_attribute: true,
                deletion_value: "\"\"",
                delete_when: DeleteWhen::CarriedCookie,
                refresh_each_request: false,
                permanent_by_default: true,
                permanence_in_text: false,
                session_expiry_key: Some(crate::expiry::DJANGO_EXPIRY_KEY),
                ..FLASK
            },
            // Compressing attacker-influenced data with secrets and then
            // encrypting leaks through the length (CRIME, BREACH): the
            // encrypted format compresses only when asked to.
            Format::Encrypted => Self {
                max_age: TWO_WEEKS,
                max_age_attribute: true,
                expires_attribute: true,
                delete_when: DeleteWhen::CarriedCookie,
                refresh_each_request: false,
                permanent_by_default: true,
                permanence_in_text: false,
                compression: Compression::Never,
                ..FLASK
            },
        }
    }
}

// The table's invariants, checked at compile time.
const _: () = {
    assert!(Profile::of(Format::Flask).refresh_each_request);
    assert!(!Profile::of(Format::Starlette).expires_attribute);
    assert!(Profile::of(Format::Django).session_expiry_key.is_some());
    assert!(matches!(
        Profile::of(Format::Encrypted).compression,
        Compression::Never
    ));
};
