//! Splitting a signed token over several cookies, under a byte budget.
//!
//! ```text
//! fits:      session=<token>
//! too large: session=chunks-3   session.1=<part 1>   session.2=<part 2>   session.3=<part 3>
//! ```
//!
//! The marker says how many chunks to join, so stale chunks are never read;
//! the signature over the joined token catches reordered, missing, stale or
//! mixed chunks. Pure functions, no HTTP.

use std::ops::Range;

use crate::cookie::names::Names;
use crate::SessionTooLarge;

/// mod_auth_openidc's cap; chunk names stay two digits.
pub(crate) const MAX_CHUNKS_CAP: usize = 99;

/// What the session may cost the client: per cookie (name, value and
/// attributes), in the request's `Cookie` line, and in chunks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) max_cookie_bytes: usize,
    pub(crate) max_total_bytes: usize,
    pub(crate) max_chunks: usize,
}

pub(crate) const MARKER_PREFIX: &str = "chunks-";

/// A set of chunk indices `1..=99`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChunkSet(u128);

impl ChunkSet {
    pub(crate) fn insert(&mut self, index: usize) {
        self.0 |= 1 << index;
    }

    pub(crate) fn contains(self, index: usize) -> bool {
        index <= MAX_CHUNKS_CAP && self.0 & (1 << index) != 0
    }

    /// The indices, ascending: one step per member, not per possible index.
    pub(crate) fn iter(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(i)
        })
    }
}

/// `Some(i)` if `name` is exactly `{base}.{i}` with `1 <= i <= 99` written
/// canonically. Names are matched exactly, never by prefix scans.
pub(crate) fn index_of(name: &str, base: &str) -> Option<usize> {
    let digits = name.strip_prefix(base)?.strip_prefix('.')?;
    if digits.is_empty()
        || digits.len() > 2
        || digits.starts_with('0')
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok()
}

/// `None`: not a marker (a token). `Some(None)`: a marker with an unusable
/// count. `Some(Some(n))`: join `n` chunks.
pub(crate) fn parse_marker(value: &[u8]) -> Option<Option<usize>> {
    let count = value.strip_prefix(MARKER_PREFIX.as_bytes())?;
    let valid = !count.is_empty() && count.len() <= 3 && count.iter().all(u8::is_ascii_digit);
    Some(valid.then(|| count.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0'))))
}

pub(crate) fn marker(n: usize) -> String {
    format!("{MARKER_PREFIX}{n}")
}

/// How a token will be written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Empty: one cookie holds the token. Otherwise the byte ranges of
    /// `name.1`, `name.2`, …
    pub(crate) chunks: Vec<Range<usize>>,
    /// What the cookies add to the request `Cookie` line, `"; "` included.
    pub(crate) request_bytes: usize,
}

/// Lays out `token_len` bytes. `attrs_len` is the measured length of the
/// attribute part of each `Set-Cookie` value (`; Path=/; …`).
///
/// # Errors
///
/// When the token needs more than the per-cookie limit allows in
/// `max_chunks` chunks, or more than `max_total_bytes` in the request.
pub(crate) fn plan(
    names: &Names,
    budget: &Budget,
    token_len: usize,
    attrs_len: usize,
) -> Result<Plan, SessionTooLarge> {
    let pair = |name: &str, value_len: usize| name.len() + 1 + value_len;
    let single = pair(&names.name, token_len);
    if single + attrs_len <= budget.max_cookie_bytes {
        let request_bytes = single + 2;
        return if request_bytes <= budget.max_total_bytes {
            Ok(Plan {
                chunks: Vec::new(),
                request_bytes,
            })
        } else {
            Err(SessionTooLarge {
                needed: request_bytes,
                allowed: budget.max_total_bytes,
                chunks: 0,
                payload: false,
            })
        };
    }
    let mut chunks = Vec::new();
    let mut bytes = 0;
    let mut pos = 0;
    while pos < token_len {
        let i = chunks.len() + 1;
        let name_len = if i <= MAX_CHUNKS_CAP {
            names.chunk_names[i - 1].len()
        } else {
            names.name.len() + 1 + i.to_string().len()
        };
        let capacity = budget
            .max_cookie_bytes
            .saturating_sub(name_len + 1 + attrs_len);
        if capacity == 0 {
            // Not even one byte fits: report the token as the need.
            return Err(SessionTooLarge {
                needed: single + 2,
                allowed: budget.max_total_bytes,
                chunks: 0,
                payload: false,
            });
        }
        let end = token_len.min(pos + capacity);
        bytes += name_len + 1 + (end - pos) + 2;
        chunks.push(pos..end);
        pos = end;
    }
    let n = chunks.len();
    bytes += pair(&names.name, marker(n).len()) + 2;
    if n > budget.max_chunks || bytes > budget.max_total_bytes {
        return Err(SessionTooLarge {
            needed: bytes,
            allowed: budget.max_total_bytes,
            chunks: n,
            payload: false,
        });
    }
    Ok(Plan {
        chunks,
        request_bytes: bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layer's defaults: `session`, 4093 bytes a cookie, 7168 in all,
    /// 99 chunks.
    struct Config {
        names: Names,
        budget: Budget,
    }

    fn config() -> Config {
        Config {
            names: Names::new("session").unwrap(),
            budget: Budget {
                max_cookie_bytes: 4093,
                max_total_bytes: 7168,
                max_chunks: MAX_CHUNKS_CAP,
            },
        }
    }

    fn plan(c: &Config, token_len: usize, attrs_len: usize) -> Result<Plan, SessionTooLarge> {
        super::plan(&c.names, &c.budget, token_len, attrs_len)
    }

    #[test]
    fn chunk_names_are_matched_exactly() {
        assert_eq!(index_of("session.1", "session"), Some(1));
        assert_eq!(index_of("session.99", "session"), Some(99));
        for name in [
            "session.0",
            "session.01",
            "session.100",
            "session.",
            "session1",
            "sessions.1",
            "session.1a",
            "session",
        ] {
            assert_eq!(index_of(name, "session"), None, "{name}");
        }
    }

    #[test]
    fn markers() {
        assert_eq!(parse_marker(b"chunks-3"), Some(Some(3)));
        assert_eq!(parse_marker(b"chunks-"), Some(None));
        assert_eq!(parse_marker(b"chunks--1"), Some(None));
        assert_eq!(parse_marker(b"chunks-18446744073709551616"), Some(None));
        assert_eq!(parse_marker(b"eyJh.x.y"), None);
    }

    #[test]
    fn fits_exactly_at_the_limit_and_splits_one_byte_over() {
        let c = config();
        let attrs = 20;
        let fits = c.budget.max_cookie_bytes - attrs - "session=".len();
        let plan = plan(&c, fits, attrs).unwrap();
        assert!(plan.chunks.is_empty());
        let over = plan_len(&c, fits + 1, attrs);
        assert_eq!(over, 2);
    }

    fn plan_len(c: &Config, len: usize, attrs: usize) -> usize {
        plan(c, len, attrs).unwrap().chunks.len()
    }

    #[test]
    fn split_then_join_is_the_identity_and_respects_the_per_cookie_limit() {
        let mut c = config();
        c.budget.max_total_bytes = 1 << 20;
        for (len, attrs, max) in [
            (5000, 30, 4093),
            (12_345, 60, 4093),
            (900, 10, 200),
            (4000, 0, 1000),
        ] {
            c.budget.max_cookie_bytes = max;
            let token: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let plan = plan(&c, len, attrs).unwrap();
            let joined: String = plan.chunks.iter().map(|r| &token[r.clone()]).collect();
            assert_eq!(joined, token);
            for (i, r) in plan.chunks.iter().enumerate() {
                assert!(c.names.chunk_names[i].len() + 1 + r.len() + attrs <= max);
            }
        }
    }

    #[test]
    fn over_budget_reports_needed_and_allowed() {
        let c = config();
        let err = plan(&c, 9000, 30).unwrap_err();
        assert!(
            err.needed > 9000 && err.allowed == 7168 && err.chunks == 3,
            "{err:?}"
        );
        let mut small = config();
        small.budget.max_chunks = 1;
        assert_eq!(plan(&small, 5000, 30).unwrap_err().chunks, 2);
    }

    #[test]
    fn chunk_set() {
        let mut s = ChunkSet::default();
        s.insert(1);
        s.insert(99);
        assert_eq!(s.iter().collect::<Vec<_>>(), [1, 99]);
        assert!(!s.contains(100));
    }
}
