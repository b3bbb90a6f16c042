//! Django's Origin and Referer checks (`CsrfViewMiddleware._origin_verified`
//! and `_check_referer`, 5.2), with Python's `urlsplit` reduced to the
//! scheme and the network location they compare.

/// `CSRF_TRUSTED_ORIGINS`, split the way the middleware caches it.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedOrigins {
    /// Entries without `*`: compared whole with the `Origin` header.
    exact: Vec<String>,
    /// `(scheme, netloc without leading "*")` of entries with `*`.
    wildcard: Vec<(String, String)>,
    /// Every entry's netloc without leading `*`, for the Referer check.
    hosts: Vec<String>,
}

impl TrustedOrigins {
    pub(crate) fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(origins: I) -> Self {
        let mut trusted = Self::default();
        for origin in origins {
            let origin = origin.as_ref();
            let (scheme, netloc) = split(origin).unwrap_or_default();
            let host = netloc.trim_start_matches('*').to_owned();
            if origin.contains('*') {
                trusted.wildcard.push((scheme, host.clone()));
            } else {
                trusted.exact.push(origin.to_owned());
            }
            trusted.hosts.push(host);
        }
        trusted
    }
}

/// What the request says about where it is served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Served<'a> {
    /// `request.get_host()`: the `Host` header, port included.
    pub(crate) host: Option<&'a str>,
    /// `request.is_secure()`.
    pub(crate) secure: bool,
    /// `request.get_port()`.
    pub(crate) port: Option<&'a str>,
    /// `CSRF_COOKIE_DOMAIN` (or `SESSION_COOKIE_DOMAIN` under sessions).
    pub(crate) cookie_domain: Option<&'a str>,
}

/// `urlsplit(url)` → `(scheme lowercased, netloc)`; `None` where Python
/// raises `ValueError` (an unbalanced `[` in the netloc).
fn split(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = match url.find(':') {
        Some(i)
            if url[..i].starts_with(|c: char| c.is_ascii_alphabetic())
                && url[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            (url[..i].to_ascii_lowercase(), &url[i + 1..])
        }
        _ => (String::new(), url),
    };
    let netloc = match rest.strip_prefix("//") {
        Some(after) => &after[..after.find(['/', '?', '#']).unwrap_or(after.len())],
        None => "",
    };
    if netloc.contains('[') != netloc.contains(']') {
        return None;
    }
    Some((scheme, netloc.to_owned()))
}

/// `django.utils.http.is_same_domain`: the pattern is lowercased, the host
/// is not; a leading `.` matches the domain and its subdomains.
pub(crate) fn is_same_domain(host: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix('.') {
        Some(bare) => host.ends_with(&pattern) || host == bare,
        None => pattern == host,
    }
}

/// `_origin_verified`.
pub(crate) fn origin_verified(origin: &str, served: Served<'_>, trusted: &TrustedOrigins) -> bool {
    if let Some(host) = served.host {
        let scheme = if served.secure { "https" } else { "http" };
        if origin.len() == scheme.len() + 3 + host.len()
            && origin.starts_with(scheme)
            && origin[scheme.len()..].starts_with("://")
            && &origin[scheme.len() + 3..] == host
        {
            return true;
        }
    }
    if trusted.exact.iter().any(|o| o == origin) {
        return true;
    }
    let Some((scheme, netloc)) = split(origin) else {
        return false;
    };
    trusted
        .wildcard
        .iter()
        .any(|(s, host)| *s == scheme && is_same_domain(&netloc, host))
}

/// `_check_referer` for a secure request: `Err` carries Django's reason.
pub(crate) fn check_referer(
    referer: Option<&str>,
    served: Served<'_>,
    trusted: &TrustedOrigins,
) -> Result<(), String> {
    let referer = referer.ok_or("Referer checking failed - no Referer.")?;
    let malformed = || "Referer checking failed - Referer is malformed.".to_owned();
    let (scheme, netloc) = split(referer).ok_or_else(malformed)?;
    if scheme.is_empty() || netloc.is_empty() {
        return Err(malformed());
    }
    if scheme != "https" {
        return Err("Referer checking failed - Referer is insecure while host is secure.".into());
    }
    if trusted.hosts.iter().any(|h| is_same_domain(&netloc, h)) {
        return Ok(());
    }
    let bad = || {
        // `referer.geturl()`: the scheme comes back lowercased.
        let url = format!("{scheme}{}", &referer[scheme.len()..]);
        format!("Referer checking failed - {url} does not match any trusted origins.")
    };
    let good = match served.cookie_domain {
        None => served.host.ok_or_else(bad)?.to_owned(),
        Some(domain) => match served.port {
            Some(port) if port != "443" && port != "80" => format!("{domain}:{port}"),
            _ => domain.to_owned(),
        },
    };
    if is_same_domain(&netloc, &good) {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_urlsplit_for_what_the_checks_read() {
        assert_eq!(
            split("HTTPS://a.b:8/x?y#z"),
            Some(("https".into(), "a.b:8".into()))
        );
        assert_eq!(split("null"), Some((String::new(), String::new())));
        assert_eq!(split("http://[::1"), None);
        assert_eq!(split("//host/path"), Some((String::new(), "host".into())));
    }

    #[test]
    fn same_domain_lowercases_only_the_pattern() {
        assert!(is_same_domain("a.example.com", ".EXAMPLE.com"));
        assert!(is_same_domain("example.com", ".example.com"));
        assert!(!is_same_domain("EXAMPLE.com", "example.com"));
        assert!(!is_same_domain("x", ""));
    }
}
