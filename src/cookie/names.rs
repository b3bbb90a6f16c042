//! The session cookie's name and its chunks' names, checked once.

use crate::cookie::chunk::MAX_CHUNKS_CAP;
use crate::ConfigError;

/// `name`, and `name.1` … `name.99` built once so requests compare names
/// exactly, never by prefix.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    pub(crate) name: String,
    pub(crate) chunk_names: Vec<String>,
    /// A substring searcher for `name`, built once: building one costs
    /// more than searching a short header with it.
    pub(crate) finder: memchr::memmem::Finder<'static>,
    /// The same for `name.`, the chunks' common prefix.
    pub(crate) chunk_finder: memchr::memmem::Finder<'static>,
}

impl Names {
    /// # Errors
    ///
    /// [`ConfigError::InvalidCookieName`] unless `name` is an RFC 9110
    /// token.
    pub(crate) fn new(name: &str) -> Result<Self, ConfigError> {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ConfigError::InvalidCookieName {
                name: name.to_owned(),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            chunk_names: (1..=MAX_CHUNKS_CAP)
                .map(|i| format!("{name}.{i}"))
                .collect(),
            finder: memchr::memmem::Finder::new(name.as_bytes()).into_owned(),
            chunk_finder: memchr::memmem::Finder::new(format!("{name}.").as_bytes()).into_owned(),
        })
    }

    /// The name of chunk `i` (`1..=99`).
    pub(crate) fn chunk(&self, i: usize) -> &str {
        &self.chunk_names[i - 1]
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_tokens() {
        for bad in ["", "a:b", "a b", "a;b", "a=b", "sess\u{e9}", "a,b", "(x)"] {
            assert!(Names::new(bad).is_err(), "{bad:?}");
        }
        for good in [
            "session",
            "__Host-session",
            "my_app.sid",
            "a!#$%&'*+-.^_`|~1",
        ] {
            assert!(Names::new(good).is_ok(), "{good:?}");
        }
        assert_eq!(
            Names::new("a!#$%&'*+-.^_`|~1").unwrap().chunk_names[0],
            "a!#$%&'*+-.^_`|~1.1"
        );
    }
}
