//! [`CsrfLayer`]: which framework's tokens, and the few settings each has.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use super::origin::TrustedOrigins;
use super::service::CsrfService;
use crate::codec::key::Signer;
use crate::cookie::attributes::Attributes;
use crate::{Key, SameSite};

/// Django's `CSRF_COOKIE_AGE`: 52 weeks.
const DJANGO_COOKIE_AGE: u64 = 31_449_600;
/// Flask-WTF's `WTF_CSRF_TIME_LIMIT`.
const FLASK_WTF_TIME_LIMIT: u64 = 3600;
/// Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`.
const DEFAULT_BODY_LIMIT: usize = 2_621_440;

#[derive(Clone)]
pub(crate) enum Scheme {
    Django {
        /// `CSRF_USE_SESSIONS`: the secret is the session's `_csrftoken`.
        sessions: bool,
        cookie_name: String,
        cookie: Attributes,
        cookie_age: u64,
    },
    FlaskWtf {
        signer: Signer,
        time_limit: Option<u64>,
    },
}

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) scheme: Scheme,
    pub(crate) trusted: TrustedOrigins,
    /// Requests reach the app over HTTPS (`request.is_secure()`).
    pub(crate) secure: bool,
    pub(crate) body_limit: usize,
    /// Paths not checked (`csrf_exempt`, `csrf.exempt`).
    pub(crate) exempt: Vec<String>,
    /// `CSRF_COOKIE_DOMAIN` (or `SESSION_COOKIE_DOMAIN`) as configured,
    /// leading dot kept: the Referer check's domain pattern.
    pub(crate) referer_domain: Option<String>,
}

impl Config {
    pub(crate) fn field(&self) -> &'static str {
        match self.scheme {
            Scheme::Django { .. } => "csrfmiddlewaretoken",
            Scheme::FlaskWtf { .. } => "csrf_token",
        }
    }

    pub(crate) fn needs_session(&self) -> bool {
        matches!(
            self.scheme,
            Scheme::FlaskWtf { .. } | Scheme::Django { sessions: true, .. }
        )
    }
}

/// Checks CSRF tokens the way Django or Flask-WTF does; see the
/// [module documentation](crate::csrf).
///
/// ```
/// use std::time::Duration;
/// use tower_cookie_session::csrf::CsrfLayer;
/// use tower_cookie_session::Key;
///
/// let django = CsrfLayer::django()
///     .with_trusted_origins(["https://*.example.com"])
///     .with_secure(true);
/// let flask = CsrfLayer::flask_wtf(Key::new("flask-secret-key")?)
///     .with_time_limit(Some(Duration::from_secs(1800)))
///     .exempt("/webhook");
/// # let _ = (django, flask);
/// # Ok::<_, tower_cookie_session::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct CsrfLayer {
    config: Arc<Config>,
}

impl CsrfLayer {
    fn new(scheme: Scheme) -> Self {
        Self {
            config: Arc::new(Config {
                scheme,
                trusted: TrustedOrigins::default(),
                secure: false,
                body_limit: DEFAULT_BODY_LIMIT,
                exempt: Vec::new(),
                referer_domain: None,
            }),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Django's default: the secret in the unsigned `csrftoken` cookie,
    /// set as Django sets it (`Max-Age` 52 weeks, `Path=/`, `SameSite=Lax`,
    /// readable by scripts). Needs no key and no session, so it also
    /// protects Rust routes of a Django app that keeps its sessions in a
    /// database.
    ///
    /// ```
    /// let layer = tower_cookie_session::csrf::CsrfLayer::django();
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn django() -> Self {
        let mut cookie = Attributes::default();
        cookie.secure = false;
        cookie.http_only = false;
        cookie.max_age_attribute = true;
        cookie.expires_attribute = true;
        Self::new(Scheme::Django {
            sessions: false,
            cookie_name: "csrftoken".to_owned(),
            cookie: cookie.rebuilt(),
            cookie_age: DJANGO_COOKIE_AGE,
        })
    }

    /// Django with `CSRF_USE_SESSIONS = True`: the secret is the session's
    /// `_csrftoken` (needs the [`SessionLayer`](crate::SessionLayer)).
    ///
    /// ```
    /// let layer = tower_cookie_session::csrf::CsrfLayer::django_with_sessions();
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn django_with_sessions() -> Self {
        let mut layer = Self::django();
        if let Scheme::Django { sessions, .. } = &mut layer.config_mut().scheme {
            *sessions = true;
        }
        layer
    }

    /// Flask-WTF's `CSRFProtect`, with the app's `SECRET_KEY` (or its
    /// `WTF_CSRF_SECRET_KEY`). Like Flask-WTF, fallback keys are not
    /// consulted: tokens issued before a key rotation fail for up to the
    /// time limit.
    ///
    /// ```
    /// use tower_cookie_session::{csrf::CsrfLayer, Key};
    ///
    /// let layer = CsrfLayer::flask_wtf(Key::new("flask-secret-key")?);
    /// # let _ = layer;
    /// # Ok::<_, tower_cookie_session::ConfigError>(())
    /// ```
    #[must_use]
    pub fn flask_wtf(key: Key) -> Self {
        Self::new(Scheme::FlaskWtf {
            signer: super::flask_wtf::signer(&key),
            time_limit: Some(FLASK_WTF_TIME_LIMIT),
        })
    }

    /// Django's `CSRF_TRUSTED_ORIGINS`: origins (`https://app.example.com`,
    /// or `https://*.example.com` for subdomains) whose unsafe requests are
    /// accepted. Ignored by Flask-WTF, which checks no Origin.
    ///
    /// ```
    /// let layer = tower_cookie_session::csrf::CsrfLayer::django()
    ///     .with_trusted_origins(["https://admin.example.com"]);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_trusted_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.config_mut().trusted = TrustedOrigins::new(origins);
        self
    }

    /// Requests reach the app over HTTPS (Django's `request.is_secure()`,
    /// Flask's `request.is_secure`; behind a proxy that ends TLS, say so
    /// here). Then Django's Origin check expects `https://`, and both
    /// frameworks require a same-site `Referer` on requests without an
    /// `Origin` (Django) or always (Flask-WTF's `WTF_CSRF_SSL_STRICT`).
    /// Default `false`.
    ///
    /// ```
    /// let layer = tower_cookie_session::csrf::CsrfLayer::django().with_secure(true);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.config_mut().secure = secure;
        if let Scheme::Django { cookie, .. } = &mut self.config_mut().scheme {
            cookie.secure = secure;
            cookie.rebuild();
        }
        self
    }

    /// The largest form body read to find the token (default 2.5 MiB,
    /// Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`); a larger one is refused
    /// with 413 before the handler runs.
    ///
    /// ```
    /// let layer = tower_cookie_session::csrf::CsrfLayer::django().with_body_limit(64 * 1024);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.config_mut().body_limit = bytes;
        self
    }

    /// Flask-WTF's `WTF_CSRF_TIME_LIMIT` (default one hour; `None`: no
    /// limit, and then a token from the future is accepted too, as in
    /// Flask-WTF). Ignored by Django, whose tokens do not expire.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{csrf::CsrfLayer, Key};
    ///
    /// let layer = CsrfLayer::flask_wtf(Key::new("k")?).with_time_limit(Some(Duration::from_secs(600)));
    /// # let _ = layer;
    /// # Ok::<_, tower_cookie_session::ConfigError>(())
    /// ```
    #[must_use]
    pub fn with_time_limit(mut self, limit: Option<Duration>) -> Self {
        if let Scheme::FlaskWtf { time_limit, .. } = &mut self.config_mut().scheme {
            *time_limit = limit.map(|d| d.as_secs());
        }
        self
    }

    /// Django's `CSRF_COOKIE_DOMAIN` (for a secret shared across
    /// subdomains); also the domain the Referer check accepts. Under
    /// [`django_with_sessions`](Self::django_with_sessions) no `csrftoken`
    /// cookie is set and Django's Referer check uses `SESSION_COOKIE_DOMAIN`
    /// instead: give that domain here.
    ///
    /// ```
    /// let layer = tower_cookie_session::csrf::CsrfLayer::django().with_cookie_domain(".example.com")?;
    /// # let _ = layer;
    /// # Ok::<_, tower_cookie_session::ConfigError>(())
    /// ```
    pub fn with_cookie_domain(mut self, domain: &str) -> Result<Self, crate::ConfigError> {
        let config = self.config_mut();
        if let Scheme::Django { cookie, .. } = &mut config.scheme {
            cookie.set_domain(domain)?;
            cookie.rebuild();
            // `.example.com` matches its subdomains in Django's Referer check.
            config.referer_domain = Some(domain.trim().to_ascii_lowercase());
        }
        Ok(self)
    }

    /// Django's `CSRF_COOKIE_SAMESITE` (default `Lax`).
    ///
    /// ```
    /// use tower_cookie_session::{csrf::CsrfLayer, SameSite};
    ///
    /// let layer = CsrfLayer::django().with_cookie_same_site(SameSite::Strict);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_cookie_same_site(mut self, same_site: SameSite) -> Self {
        if let Scheme::Django { cookie, .. } = &mut self.config_mut().scheme {
            cookie.same_site = Some(same_site);
            cookie.rebuild();
        }
        self
    }

    /// Leaves requests to `path` unchecked (Django's `@csrf_exempt`,
    /// Flask-WTF's `csrf.exempt`): for webhooks that sign their own bodies.
    ///
    /// ```
    /// let layer = tower_cookie_session::csrf::CsrfLayer::django().exempt("/hooks/stripe");
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn exempt(mut self, path: impl Into<String>) -> Self {
        self.config_mut().exempt.push(path.into());
        self
    }
}

impl fmt::Debug for CsrfLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.config.scheme {
            Scheme::Django {
                sessions: false, ..
            } => "django",
            Scheme::Django { sessions: true, .. } => "django (sessions)",
            Scheme::FlaskWtf { .. } => "flask-wtf",
        };
        f.debug_struct("CsrfLayer")
            .field("scheme", &scheme)
            .field("secure", &self.config.secure)
            .field("body_limit", &self.config.body_limit)
            .field("exempt", &self.config.exempt)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for CsrfLayer {
    type Service = CsrfService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CsrfService::new(inner, Arc::clone(&self.config))
    }
}
