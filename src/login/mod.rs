//! Who is logged in, shared with Flask-Login and Django's auth: a Rust
//! route sees the Python login, logs in and out in a way the Python side
//! honours — and, for apps with no Python side, the same shape natively.
//!
//! - [`FlaskLogin`]: Flask-Login's `_user_id`, `_fresh`, `_id` and its
//!   remember-me cookie.
//! - [`DjangoAuth`]: Django's `_auth_user_id`, `_auth_user_backend` and
//!   `_auth_user_hash`, checked against the user's stored password field.
//! - [`Auth`]: `login(user)`, `logout()`, `user()` with a per-user auth
//!   hash, for Rust-only apps (where axum-login users come from).
//!
//! They work on the [`Session`](crate::Session) a handler extracts, so the
//! session layer's format must be the framework's: `SessionLayer::new`
//! for Flask, `SessionLayer::django` for Django (`signed_cookies`). See
//! "Sharing the login" in `docs/migrating-from-python.md`.

mod django;
mod flask;
mod native;
#[cfg(test)]
mod python_vectors;

use http::{HeaderValue, Response};

pub use self::django::DjangoAuth;
pub use self::flask::{
    Client, FlaskLogin, FlaskLoginVersion, FlaskUser, Remember, SessionProtection,
};
pub use self::native::{Auth, AuthUser, HASH_KEY, USER_KEY};

/// The remember-me cookie a Flask-Login login sets or a logout deletes:
/// return it with the response (it is an axum `IntoResponseParts`), or
/// [`apply`](Self::apply) it.
///
/// ```
/// use tower_cookie_session::login::{Client, FlaskLogin, Remember};
/// use tower_cookie_session::{Key, Session};
///
/// let login = FlaskLogin::new(Key::new("flask-secret-key")?);
/// let headers = http::HeaderMap::new();
/// let cookie = login.login(&Session::default(), &Client::new(&headers, None), "42", Remember::Yes);
/// let mut res = http::Response::new(());
/// cookie.apply(&mut res);
/// assert!(res.headers()["set-cookie"].to_str()?.starts_with("remember_token=42|"));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[must_use = "the remember cookie must reach the response, or a logout does not stick"]
pub struct RememberCookie(pub(crate) Option<HeaderValue>);

impl std::fmt::Debug for RememberCookie {
    /// Whether there is a cookie, never its value: a remember cookie logs
    /// its holder in.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RememberCookie")
            .field("set_cookie", &self.0.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RememberCookie {
    /// The `Set-Cookie` value, if there is one to send.
    #[must_use]
    pub fn header(&self) -> Option<&HeaderValue> {
        self.0.as_ref()
    }

    /// Adds the `Set-Cookie` to `res`.
    pub fn apply<B>(self, res: &mut Response<B>) {
        if let Some(value) = self.0 {
            res.headers_mut().append(http::header::SET_COOKIE, value);
        }
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponseParts for RememberCookie {
    type Error = std::convert::Infallible;

    fn into_response_parts(
        self,
        mut res: axum_core::response::ResponseParts,
    ) -> Result<axum_core::response::ResponseParts, Self::Error> {
        if let Some(value) = self.0 {
            res.headers_mut().append(http::header::SET_COOKIE, value);
        }
        Ok(res)
    }
}
