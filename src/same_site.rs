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

impl From<SameSite> for cookie::SameSite {
    fn from(same_site: SameSite) -> Self {
        match same_site {
            SameSite::Strict => Self::Strict,
            SameSite::Lax => Self::Lax,
            SameSite::None => Self::None,
        }
    }
}
