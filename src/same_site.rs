//! [`SameSite`]: the cookie attribute, as this crate's own type.

/// The cookie's `SameSite` attribute ([`SessionLayer::with_same_site`](crate::SessionLayer::with_same_site);
/// [`without_same_site`](crate::SessionLayer::without_same_site) omits it).
///
/// ```
/// use tower_cookie_session::{Key, SameSite, SessionLayer};
///
/// let layer = SessionLayer::new(Key::generate()).with_same_site(SameSite::Strict);
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// Sent only with requests that start on the site itself.
    Strict,
    /// Also sent with top-level navigations from other sites (the default).
    Lax,
    /// Sent with cross-site requests too; requires `Secure`.
    None,
}

/// For code written against the `cookie` crate's type, which this crate
/// re-exported before 0.2.
impl From<cookie::SameSite> for SameSite {
    fn from(same_site: cookie::SameSite) -> Self {
        match same_site {
            cookie::SameSite::Strict => Self::Strict,
            cookie::SameSite::Lax => Self::Lax,
            cookie::SameSite::None => Self::None,
        }
    }
}

impl From<SameSite> for cookie::SameSite {
    fn from(same_site: SameSite) -> Self {
        match same_site {
            SameSite::Strict => Self::Strict,
            SameSite::Lax => Self::Lax,
            SameSite::None => Self::None,
        }
    }
}
