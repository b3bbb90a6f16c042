//! The rules a configuration must meet, checked when the layer is applied
//! and by `SessionLayer::validate`: each broken rule is its own
//! [`ConfigError`].

use crate::config::{Config, BROWSER_COOKIE_BYTES, PARTITIONED_MAX_BYTES};
use crate::cookie::attributes::CookieExpiry;
use crate::cookie::chunk::MAX_CHUNKS_CAP;
use crate::{ConfigError, SameSite};

impl Config {
    /// Every rule a configuration must meet, checked when the layer is
    /// applied (and by `SessionLayer::validate`): the first one broken.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let name = &self.names.name;
        let (attrs, budget) = (&self.attributes, &self.budget);
        if !attrs.path.starts_with('/')
            || attrs
                .path
                .bytes()
                .any(|b| b == b';' || b.is_ascii_control())
        {
            return Err(ConfigError::InvalidPath {
                path: attrs.path.clone(),
            });
        }
        // RFC 6265bis matches the prefixes case-insensitively.
        let has_prefix = |prefix: &str| {
            name.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        };
        if has_prefix("__Host-") && (!attrs.secure || attrs.path != "/" || attrs.domain.is_some()) {
            return Err(ConfigError::HostPrefix { name: name.clone() });
        }
        if has_prefix("__Secure-") && !attrs.secure {
            return Err(ConfigError::SecurePrefix { name: name.clone() });
        }
        if attrs.partitioned && !attrs.secure {
            return Err(ConfigError::PartitionedNotSecure);
        }
        if attrs.partitioned && budget.max_total_bytes > PARTITIONED_MAX_BYTES {
            return Err(ConfigError::PartitionedBudget {
                max_total_bytes: budget.max_total_bytes,
                limit: PARTITIONED_MAX_BYTES,
            });
        }
        if attrs.same_site == Some(SameSite::None) && !attrs.secure {
            return Err(ConfigError::SameSiteNoneNotSecure);
        }
        // A chunk's `Set-Cookie` is `name.NN=value` plus its attributes, and
        // browsers keep name and value up to 4096 bytes. The bound must hold
        // for the shortest attributes the layer writes (a browser-session
        // cookie): that chunk carries the most name and value.
        let limit = BROWSER_COOKIE_BYTES + 1 + attrs.attributes_len(&CookieExpiry::Session);
        if budget.max_cookie_bytes > limit {
            return Err(ConfigError::CookieTooLarge {
                max_cookie_bytes: budget.max_cookie_bytes,
                limit,
            });
        }
        if !(1..=MAX_CHUNKS_CAP).contains(&budget.max_chunks) {
            return Err(ConfigError::ChunkCount {
                chunks: budget.max_chunks,
            });
        }
        let duration = |option, reason| Err(ConfigError::InvalidDuration { option, reason });
        if self.max_age.as_secs() == 0 {
            return duration(
                "with_max_age",
                "at least one second: every cookie would be expired on arrival",
            );
        }
        if self.max_lifetime.is_some_and(|l| l.as_secs() == 0) {
            return duration(
                "with_max_lifetime",
                "at least one second: every session would be revoked",
            );
        }
        if self.refresh_after.is_some_and(|r| r >= self.max_age) {
            return duration(
                "with_refresh_after",
                "must be shorter than the max age, or a session expires before its refresh is due",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Key;

    fn config() -> Config {
        Config::new(Key::new("k").unwrap())
    }

    #[test]
    fn prefix_rules() {
        let mut c = config();
        c.set_name("__Host-s").unwrap();
        assert!(c.validate().is_ok());
        c.attributes.path = "/app".into();
        assert!(c.validate().unwrap_err().to_string().contains("__Host-"));
        c.attributes.path = "/".into();
        c.attributes.set_domain("example.com").unwrap();
        assert!(c.validate().is_err());
        let mut c = config();
        c.set_name("__Secure-s").unwrap();
        c.attributes.secure = false;
        assert!(c.validate().is_err());
        let mut c = config();
        c.attributes.partitioned = true;
        c.attributes.secure = false;
        assert!(c.validate().is_err());
    }

    #[test]
    fn prefixes_are_matched_case_insensitively() {
        for name in ["__host-s", "__HOST-s", "__Host-s"] {
            let mut c = config();
            c.set_name(name).unwrap();
            c.attributes.path = "/app".into();
            assert!(c.validate().is_err(), "{name}");
        }
        for name in ["__secure-s", "__SECURE-s"] {
            let mut c = config();
            c.set_name(name).unwrap();
            c.attributes.secure = false;
            assert!(c.validate().is_err(), "{name}");
        }
    }

    #[test]
    fn partitioned_budgets_fit_chromiums_partition_cap() {
        let mut c = config();
        c.attributes.partitioned = true;
        assert!(c.validate().is_ok(), "the default budget fits");
        c.budget.max_total_bytes = 16 * 1024;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("Partitioned"));
    }
}
