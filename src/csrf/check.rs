//! The decision: accept, or refuse with the framework's reason. Takes the
//! request's head, the session and the submitted token; returns a value.

use std::fmt;

use http::header::{CONTENT_TYPE, HOST, ORIGIN, REFERER};
use http::request::Parts;
use http::{HeaderMap, Method, Response, StatusCode};

use super::layer::{Config, Scheme};
use super::origin::{self, Served};
use super::token::{now, session_raw, session_secret};
use super::{django, flask_wtf};
use crate::cookie::request::request_cookie;
use crate::Session;

/// Why [`CsrfLayer`](crate::csrf::CsrfLayer) refused a request: in the
/// refusal's extensions (for a custom error page) and its body.
///
/// ```
/// use tower_cookie_session::csrf::CsrfRejection;
///
/// fn describe(res: &http::Response<String>) -> Option<String> {
///     res.extensions().get::<CsrfRejection>().map(|r| format!("{}: {}", r.status(), r.reason()))
/// }
/// # let _ = describe;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfRejection {
    status: StatusCode,
    reason: String,
}

impl CsrfRejection {
    pub(crate) fn forbidden(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            reason: reason.into(),
        }
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            reason: format!("Form body over {limit} bytes; the CSRF token could not be read."),
        }
    }

    pub(crate) fn unreadable() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            reason: "The form body could not be read.".to_owned(),
        }
    }

    /// 403; 413 for a form body over the limit, 400 for one that failed to
    /// arrive.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The framework's own reason, e.g. Django's `CSRF cookie not set.` or
    /// Flask-WTF's `The CSRF token has expired.`
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    pub(crate) fn into_response<B: From<String>>(self) -> Response<B> {
        let text = format!("Forbidden ({})\n", self.reason);
        let mut res = Response::new(B::from(text));
        *res.status_mut() = self.status;
        res.headers_mut().insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res.extensions_mut().insert(self);
        res
    }
}

impl fmt::Display for CsrfRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CSRF check failed: {}", self.reason)
    }
}

impl std::error::Error for CsrfRejection {}

/// The methods each framework checks: Django every method but GET, HEAD,
/// OPTIONS and TRACE; Flask-WTF its `WTF_CSRF_METHODS`, POST, PUT, PATCH
/// and DELETE.
pub(crate) fn is_checked(config: &Config, method: &Method) -> bool {
    match config.scheme {
        Scheme::Django { .. } => !matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ),
        Scheme::FlaskWtf { .. } => matches!(
            *method,
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        ),
    }
}

/// The secret the request carries for Django's cookie mode: `Ok(None)`
/// without a cookie, `Err` with a malformed one.
pub(crate) fn django_cookie_secret(
    config: &Config,
    headers: &HeaderMap,
) -> Result<Option<String>, django::FormatError> {
    // Under CSRF_USE_SESSIONS Django never reads the cookie (another app's
    // `csrftoken` on the domain must not disturb the session's secret).
    let Scheme::Django {
        cookie_name,
        sessions: false,
        ..
    } = &config.scheme
    else {
        return Ok(None);
    };
    request_cookie(headers, cookie_name)
        .map(|v| django::secret_of(&v))
        .transpose()
}

fn served<'a>(config: &'a Config, parts: &'a Parts) -> Served<'a> {
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let port = host.and_then(|h| {
        h.rsplit_once(':')
            .map(|(_, p)| p)
            .filter(|p| !p.contains(']'))
    });
    let cookie_domain = config.referer_domain.as_deref();
    Served {
        host,
        secure: config.secure,
        port: port.or(Some(if config.secure { "443" } else { "80" })),
        cookie_domain,
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Django's checks that need no token, run before any body is read:
/// Origin, else (over HTTPS) Referer, then the secret. Returns the secret.
pub(crate) fn django_before_token(
    config: &Config,
    parts: &Parts,
    session: Option<&Session>,
) -> Result<String, CsrfRejection> {
    let Scheme::Django { sessions, .. } = &config.scheme else {
        return Ok(String::new());
    };
    let served = served(config, parts);
    if let Some(origin) = header(&parts.headers, ORIGIN.as_str()) {
        if !origin::origin_verified(origin, served, &config.trusted) {
            return Err(CsrfRejection::forbidden(format!(
                "Origin checking failed - {origin} does not match any trusted origins."
            )));
        }
    } else if config.secure {
        origin::check_referer(
            header(&parts.headers, REFERER.as_str()),
            served,
            &config.trusted,
        )
        .map_err(CsrfRejection::forbidden)?;
    }
    let secret = if *sessions {
        session.and_then(session_secret)
    } else {
        django_cookie_secret(config, &parts.headers)
            .map_err(|e| CsrfRejection::forbidden(format!("CSRF cookie {}.", e.as_str())))?
    };
    secret.ok_or_else(|| CsrfRejection::forbidden("CSRF cookie not set."))
}

/// Whether the token may be in the body: a form, and for Django a `POST`.
pub(crate) fn reads_form(config: &Config, parts: &Parts) -> bool {
    let form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    form && (parts.method == Method::POST || matches!(config.scheme, Scheme::FlaskWtf { .. }))
}

/// Where the token was found, for Django's reasons.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    Form,
    Header,
}

/// The token from the form (if read) or else the headers.
pub(crate) fn submitted(
    config: &Config,
    headers: &HeaderMap,
    form: Option<&[u8]>,
) -> Option<(String, Source)> {
    let flask = matches!(config.scheme, Scheme::FlaskWtf { .. });
    if let Some(token) = form.and_then(|f| super::body::form_field(f, config.field(), flask)) {
        return Some((token, Source::Form));
    }
    let names: &[&str] = if flask {
        &["x-csrftoken", "x-csrf-token"]
    } else {
        &["x-csrftoken"]
    };
    names
        .iter()
        .find_map(|n| header(headers, n).filter(|v| !v.is_empty()))
        .map(|v| (v.to_owned(), Source::Header))
}

/// The token check itself, after [`django_before_token`] for Django.
pub(crate) fn verify(
    config: &Config,
    parts: &Parts,
    session: Option<&Session>,
    django_secret: &str,
    token: Option<(String, Source)>,
) -> Result<(), CsrfRejection> {
    match &config.scheme {
        Scheme::Django { .. } => {
            let (token, source) =
                token.ok_or_else(|| CsrfRejection::forbidden("CSRF token missing."))?;
            let source = match source {
                Source::Form => "POST",
                // `parse_header_name(CSRF_HEADER_NAME)`, title-cased, as Django prints it.
                Source::Header => "the 'X-Csrftoken' HTTP header",
            };
            match django::token_matches(&token, django_secret) {
                Ok(true) => Ok(()),
                Ok(false) => Err(CsrfRejection::forbidden(format!(
                    "CSRF token from {source} incorrect."
                ))),
                Err(e) => Err(CsrfRejection::forbidden(format!(
                    "CSRF token from {source} {}.",
                    e.as_str()
                ))),
            }
        }
        Scheme::FlaskWtf { signer, time_limit } => {
            let data = token.map(|(t, _)| t).unwrap_or_default();
            let raw = session.and_then(session_raw);
            flask_wtf::validate(signer, &data, raw.as_deref(), now(), *time_limit)
                .map_err(|e| CsrfRejection::forbidden(e.as_str()))?;
            if config.secure {
                flask_ssl_strict(parts)?;
            }
            Ok(())
        }
    }
}

/// Flask-WTF's `WTF_CSRF_SSL_STRICT`: over HTTPS the Referer must be this
/// host (`same_origin(referrer, f"https://{host}/")`: scheme, host name
/// and port; Werkzeug's `request.host` drops the default `:443`).
fn flask_ssl_strict(parts: &Parts) -> Result<(), CsrfRejection> {
    let referer = header(&parts.headers, REFERER.as_str())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| CsrfRejection::forbidden("The referrer header is missing."))?;
    let host = header(&parts.headers, HOST.as_str())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or_default();
    let origin = |netloc: &str| {
        // Userinfo is not part of the origin.
        let netloc = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
        netloc
            .strip_suffix(":443")
            .unwrap_or(netloc)
            .to_ascii_lowercase()
    };
    let rest = referer
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &referer[8..]);
    let netloc = rest.map(|r| &r[..r.find(['/', '?', '#']).unwrap_or(r.len())]);
    if netloc.is_some_and(|n| origin(n) == origin(host)) {
        Ok(())
    } else {
        Err(CsrfRejection::forbidden(
            "The referrer does not match the host.",
        ))
    }
}
