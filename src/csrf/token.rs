//! [`CsrfToken`]: the per-request handle a handler renders its form with.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderValue;

use super::layer::{Config, Scheme};
use super::{django, flask_wtf};
use crate::cookie::attributes::CookieExpiry;
use crate::Session;

/// Django's session key under `CSRF_USE_SESSIONS`.
pub(crate) const DJANGO_SESSION_KEY: &str = "_csrftoken";
/// Flask-WTF's `WTF_CSRF_FIELD_NAME`, also its session key.
pub(crate) const FLASK_WTF_SESSION_KEY: &str = "csrf_token";

/// The CSRF token of this request, for a form or a script: what
/// [`CsrfLayer`](crate::csrf::CsrfLayer) puts in the request extensions
/// (and an axum extractor).
///
/// [`token`](Self::token) returns what Django's `get_token` or Flask-WTF's
/// `generate_csrf` would: a new masked token each call for Django, a
/// signed timestamped one for Flask-WTF; both verify on either side. It
/// creates the secret if there is none yet (setting Django's `csrftoken`
/// cookie, or writing the session).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use axum::{routing::get, Router};
/// use tower::ServiceExt;
/// use tower_cookie_session::csrf::{CsrfLayer, CsrfToken};
/// use tower_cookie_session::{Key, SessionLayer};
///
/// let key = Key::new("flask-secret-key-0123456789abcdef")?;
/// let app = Router::new()
///     .route("/", get(|csrf: CsrfToken| async move { csrf.token() }))
///     .layer(CsrfLayer::flask_wtf(key.clone()))
///     .layer(SessionLayer::new(key));
/// let res = app.oneshot(http::Request::get("/").body(axum::body::Body::empty())?).await?;
/// // The raw token went into the session cookie; the body holds its signed copy.
/// assert!(res.headers()["set-cookie"].to_str()?.starts_with("session="));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct CsrfToken {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    config: Arc<Config>,
    session: Option<Session>,
    /// Django's cookie mode: the secret the request's cookie held, or the
    /// one made for this response.
    secret: Option<String>,
    /// The `csrftoken` cookie goes out with the response (Django renews it
    /// whenever a token is rendered).
    send_cookie: bool,
}

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfToken").finish_non_exhaustive()
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl CsrfToken {
    pub(crate) fn new(
        config: Arc<Config>,
        session: Option<Session>,
        secret: Option<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                config,
                session,
                secret,
                send_cookie: false,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code panics while holding it; a poisoned lock still holds
        // consistent data.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A token for a form field or a header, valid on both sides.
    #[must_use]
    pub fn token(&self) -> String {
        let mut inner = self.lock();
        let inner = &mut *inner;
        match &inner.config.scheme {
            Scheme::Django {
                sessions: false, ..
            } => {
                inner.send_cookie = true;
                django::mask(inner.secret.get_or_insert_with(django::new_secret))
            }
            Scheme::Django { sessions: true, .. } => {
                let session = inner.session.as_ref();
                let secret = session.and_then(session_secret).unwrap_or_else(|| {
                    let secret = django::new_secret();
                    if let Some(s) = session {
                        let _ = s.insert(DJANGO_SESSION_KEY, &secret);
                    }
                    secret
                });
                django::mask(&secret)
            }
            Scheme::FlaskWtf { signer, .. } => {
                let session = inner.session.as_ref();
                let raw = session.and_then(session_raw).unwrap_or_else(|| {
                    let raw = flask_wtf::new_raw_token();
                    if let Some(s) = session {
                        let _ = s.insert(FLASK_WTF_SESSION_KEY, &raw);
                    }
                    raw
                });
                flask_wtf::sign(signer, &raw, now())
            }
        }
    }

    /// A new secret, as Django's `rotate_token` (which its `login()` calls):
    /// tokens rendered before no longer verify. For Flask-WTF, a new raw
    /// token in the session (Flask-WTF itself never rotates).
    pub fn rotate(&self) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        match &inner.config.scheme {
            Scheme::Django {
                sessions: false, ..
            } => {
                inner.secret = Some(django::new_secret());
                inner.send_cookie = true;
            }
            Scheme::Django { sessions: true, .. } => {
                if let Some(s) = &inner.session {
                    let _ = s.insert(DJANGO_SESSION_KEY, django::new_secret());
                }
            }
            Scheme::FlaskWtf { .. } => {
                if let Some(s) = &inner.session {
                    let _ = s.insert(FLASK_WTF_SESSION_KEY, flask_wtf::new_raw_token());
                }
            }
        }
    }

    /// The form field the token goes in: `csrfmiddlewaretoken` (Django) or
    /// `csrf_token` (Flask-WTF).
    #[must_use]
    pub fn field_name(&self) -> &'static str {
        self.lock().config.field()
    }

    /// Django's cookie mode: the `Set-Cookie` this response carries.
    pub(crate) fn cookie_to_send(&self) -> Option<HeaderValue> {
        let inner = self.lock();
        if !inner.send_cookie {
            return None;
        }
        let Scheme::Django {
            cookie,
            cookie_name,
            cookie_age,
            ..
        } = &inner.config.scheme
        else {
            return None;
        };
        let max_age = *cookie_age;
        let expires = time::OffsetDateTime::from_unix_timestamp(
            i64::try_from(now().saturating_add(max_age)).unwrap_or(i64::MAX),
        )
        .ok()?;
        cookie.set_cookie(
            cookie_name,
            inner.secret.as_deref()?,
            &CookieExpiry::At { expires, max_age },
        )
    }
}

/// Django's session-mode secret, if the session holds a well-formed one.
pub(crate) fn session_secret(session: &Session) -> Option<String> {
    let stored: String = session.get(DJANGO_SESSION_KEY).ok().flatten()?;
    django::secret_of(&stored).ok()
}

/// Flask-WTF's raw token, if the session holds one.
pub(crate) fn session_raw(session: &Session) -> Option<String> {
    session.get(FLASK_WTF_SESSION_KEY).ok().flatten()
}

#[cfg(feature = "axum")]
mod extract {
    use axum_core::extract::FromRequestParts;
    use http::request::Parts;
    use http::StatusCode;

    use super::CsrfToken;

    impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
        type Rejection = (StatusCode, &'static str);

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            parts.extensions.get::<Self>().cloned().ok_or_else(|| {
                tracing::error!("CsrfToken extracted on a route without a CsrfLayer");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "CsrfToken used without a CsrfLayer",
                )
            })
        }
    }
}
