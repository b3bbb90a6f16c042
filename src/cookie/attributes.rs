//! `Set-Cookie` rendering: the session cookie's attributes, rendered once
//! per configuration, and the lines for a write, a refresh or a deletion.
//! Knows cookies, not sessions.

use std::fmt::Write as _;

use cookie::Cookie;
use http::HeaderValue;
use time::OffsetDateTime;

use crate::codec::tagged;
use crate::{ConfigError, SameSite};

/// How long the browser keeps a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CookieExpiry {
    /// A browser-session cookie (no `Expires`, no `Max-Age`).
    Session,
    /// A persistent cookie that expires at `expires`, `max_age` seconds
    /// from now: `Expires` and `Max-Age` as the framework sends them.
    At {
        expires: OffsetDateTime,
        max_age: u64,
    },
    Delete,
}

/// The attributes every cookie of the session carries.
#[derive(Debug, Clone)]
pub(crate) struct Attributes {
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: Option<SameSite>,
    pub(crate) partitioned: bool,
    /// What a persistent cookie carries: `Max-Age`, `Expires`.
    pub(crate) max_age_attribute: bool,
    pub(crate) expires_attribute: bool,
    /// Whether a deletion adds `Max-Age=0` to its epoch `Expires`.
    pub(crate) deletion_max_age: bool,
    /// `; HttpOnly; SameSite=Lax; Secure; Path=/…` as the `cookie` crate
    /// renders it, without and with the deletion attributes: rendered once
    /// per configuration ([`Attributes::rebuild`]), not per response.
    suffix: String,
    delete_suffix: String,
}

impl Default for Attributes {
    /// Secure defaults: `Path=/`, `Secure`, `HttpOnly`, `SameSite=Lax`.
    fn default() -> Self {
        Self {
            path: "/".to_owned(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
            partitioned: false,
            max_age_attribute: false,
            expires_attribute: true,
            deletion_max_age: true,
            suffix: String::new(),
            delete_suffix: String::new(),
        }
        .rebuilt()
    }
}

impl Attributes {
    pub(crate) fn rebuilt(mut self) -> Self {
        self.rebuild();
        self
    }

    /// Renders the attribute suffixes again: after every change.
    pub(crate) fn rebuild(&mut self) {
        let render = |expiry| {
            let full = self.cookie("", "", &expiry).to_string();
            full.strip_prefix('=').unwrap_or(&full).to_owned()
        };
        let (suffix, delete_suffix) = (render(CookieExpiry::Session), render(CookieExpiry::Delete));
        self.suffix = suffix;
        self.delete_suffix = delete_suffix;
    }

    pub(crate) fn set_domain(&mut self, domain: &str) -> Result<(), ConfigError> {
        let invalid = |reason| ConfigError::InvalidDomain {
            domain: domain.to_owned(),
            reason,
        };
        // Werkzeug strips a leading dot; browsers ignore it.
        let trimmed = domain.strip_prefix('.').unwrap_or(domain);
        if trimmed.is_empty() || trimmed.len() > 253 {
            return Err(invalid("it must hold 1 to 253 characters"));
        }
        if trimmed.contains(':') {
            return Err(invalid("a cookie domain has no port"));
        }
        if !trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(invalid(
                "only ASCII letters, digits, '-' and '.' are allowed (use the punycode form)",
            ));
        }
        if trimmed
            .split('.')
            .any(|label| label.is_empty() || label.len() > 63)
        {
            return Err(invalid("every label must hold 1 to 63 characters"));
        }
        self.domain = Some(trimmed.to_ascii_lowercase());
        Ok(())
    }

    pub(crate) fn cookie<'a>(
        &self,
        name: &'a str,
        value: &'a str,
        expiry: &CookieExpiry,
    ) -> Cookie<'a> {
        let mut cookie = Cookie::build((name, value))
            .path(self.path.clone())
            .secure(self.secure)
            .http_only(self.http_only)
            .partitioned(self.partitioned);
        if let Some(same_site) = self.same_site {
            cookie = cookie.same_site(same_site.into());
        }
        if let Some(domain) = &self.domain {
            cookie = cookie.domain(domain.clone());
        }
        match expiry {
            CookieExpiry::Session => {}
            CookieExpiry::At { expires, max_age } => {
                let (with_max_age, with_expires) = (self.max_age_attribute, self.expires_attribute);
                if with_max_age {
                    let secs = i64::try_from(*max_age).unwrap_or(i64::MAX);
                    cookie = cookie.max_age(time::Duration::seconds(secs));
                }
                if with_expires {
                    cookie = cookie.expires(*expires);
                }
            }
            CookieExpiry::Delete => {
                cookie = cookie.expires(OffsetDateTime::UNIX_EPOCH);
                if self.deletion_max_age {
                    cookie = cookie.max_age(time::Duration::ZERO);
                }
            }
        }
        cookie.build()
    }

    /// The `Set-Cookie` value, or `None` if it could not be a header (never
    /// for validated names and our token alphabet). The same bytes as the
    /// `cookie` crate's rendering (a test pins this), from the attributes
    /// rendered once in [`Attributes::rebuild`].
    pub(crate) fn set_cookie(
        &self,
        name: &str,
        value: &str,
        expiry: &CookieExpiry,
    ) -> Option<HeaderValue> {
        let mut line =
            String::with_capacity(name.len() + value.len() + self.attributes_len(expiry) + 1);
        line.push_str(name);
        line.push('=');
        line.push_str(value);
        match expiry {
            CookieExpiry::Session => line.push_str(&self.suffix),
            CookieExpiry::Delete => line.push_str(&self.delete_suffix),
            CookieExpiry::At { expires, max_age } => {
                line.push_str(&self.suffix);
                let (with_max_age, with_expires) = (self.max_age_attribute, self.expires_attribute);
                if with_max_age {
                    // Writing to a `String` cannot fail.
                    let _ = write!(line, "; Max-Age={max_age}");
                }
                if with_expires {
                    line.push_str("; Expires=");
                    push_http_date(&mut line, expires.unix_timestamp())?;
                }
            }
        }
        HeaderValue::try_from(line).ok()
    }

    /// Length of the attribute part of a `Set-Cookie` value for this
    /// expiry: exact, from the rendered attributes (never estimated).
    pub(crate) fn attributes_len(&self, expiry: &CookieExpiry) -> usize {
        match expiry {
            CookieExpiry::Session => self.suffix.len(),
            CookieExpiry::Delete => self.delete_suffix.len(),
            CookieExpiry::At { max_age, .. } => {
                let (with_max_age, with_expires) = (self.max_age_attribute, self.expires_attribute);
                let mut len = self.suffix.len();
                if with_max_age {
                    len += "; Max-Age=".len() + decimal_digits(*max_age);
                }
                if with_expires {
                    // "; Expires=" + an IMF-fixdate of 29 characters (years
                    // 1000-9999: the write clamps every date into them).
                    len += 10 + 29;
                }
                len
            }
        }
    }
}

/// Appends `Expires`' date. Every response of the same second sends the
/// same one: each thread formats it once per second.
fn push_http_date(line: &mut String, unix: i64) -> Option<()> {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> =
            const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != unix {
            *last = (unix, tagged::http_date(unix)?);
        }
        line.push_str(&last.1);
        Some(())
    })
}

fn decimal_digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Attributes {
        Attributes::default()
    }

    #[test]
    fn domains_are_checked_and_normalised() {
        let mut c = config();
        c.set_domain(".Example.com").unwrap();
        assert_eq!(c.domain.as_deref(), Some("example.com"));
        for bad in [
            "",
            ".",
            "example.com:8080",
            "exa mple.com",
            "a..b",
            "ex;ample.com",
        ] {
            assert!(c.set_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deletion_cookie_expires_at_the_epoch() {
        let c = config();
        let v = c.set_cookie("session", "", &CookieExpiry::Delete).unwrap();
        let text = v.to_str().unwrap();
        assert!(text.starts_with("session=;"), "{text}");
        assert!(text.contains("Max-Age=0"), "{text}");
        assert!(
            text.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            "{text}"
        );
        assert!(
            text.contains("Secure") && text.contains("HttpOnly") && text.contains("SameSite=Lax")
        );
        assert!(text.contains("Path=/"));
    }

    #[test]
    fn prerendered_lines_equal_the_cookie_crates_rendering() {
        use crate::codec::Format;
        use crate::profile::Profile;
        for format in [Format::Flask, Format::Starlette, Format::Django] {
            let profile = Profile::of(format);
            let mut c = config();
            c.max_age_attribute = profile.max_age_attribute;
            c.expires_attribute = profile.expires_attribute;
            c.deletion_max_age = profile.deletion_max_age;
            prerendered_lines_for(c);
        }
    }

    fn prerendered_lines_for(mut c: Attributes) {
        c.set_domain("example.com").unwrap();
        c.path = "/app".into();
        c.same_site = Some(SameSite::Strict);
        c.partitioned = true;
        c.rebuild();
        let at = OffsetDateTime::from_unix_timestamp(1_702_678_400).unwrap();
        for expiry in [
            CookieExpiry::Session,
            CookieExpiry::Delete,
            CookieExpiry::At {
                expires: at,
                max_age: 31 * 24 * 3600,
            },
            CookieExpiry::At {
                expires: at,
                max_age: 7,
            },
        ] {
            let ours = c.set_cookie("session", "abc.def.ghi", &expiry).unwrap();
            let theirs = c.cookie("session", "abc.def.ghi", &expiry).to_string();
            assert_eq!(ours.to_str().unwrap(), theirs);
            assert_eq!(
                theirs.len(),
                "session=abc.def.ghi".len() + c.attributes_len(&expiry)
            );
        }
    }

    #[test]
    fn attribute_length_is_measured() {
        let c = config();
        let full = c
            .cookie("session", "abc", &CookieExpiry::Session)
            .to_string();
        assert_eq!(
            full.len(),
            "session=abc".len() + c.attributes_len(&CookieExpiry::Session)
        );
    }
}
