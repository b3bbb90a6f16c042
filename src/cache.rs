//! A bounded, process-wide cache of verified sessions, keyed by the exact
//! cookie token.
//!
//! Most requests only read the session. A token this process already
//! verified (or wrote) need not pay HMAC, inflate and JSON parsing again:
//! the cache maps *all* bytes of the token to the decoded session and its
//! timestamp. Only verified tokens are inserted, so a flood of forged
//! cookies adds nothing; max age is still enforced from the cached
//! timestamp on every hit. Sixteen independently locked shards keep
//! concurrent requests off a global lock, and each lock is held only for a
//! map lookup.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

const SHARDS: usize = 16;

/// A verified session.
pub(crate) struct Entry {
    pub(crate) map: Arc<Map<String, Value>>,
    pub(crate) timestamp: u64,
    pub(crate) permanent: bool,
    cost: usize,
}

impl Entry {
    /// `json_len` is the payload's JSON size, from which the decoded map's
    /// heap size is estimated (serde_json values take ~3x their text).
    pub(crate) fn new(
        map: Arc<Map<String, Value>>,
        timestamp: u64,
        permanent: bool,
        token_len: usize,
        json_len: usize,
    ) -> Self {
        let cost = 2 * token_len + 3 * json_len + 256;
        Self {
            map,
            timestamp,
            permanent,
            cost,
        }
    }

    /// Whether the cached signature is still within `max_age` at `now`.
    pub(crate) fn is_fresh(&self, now: u64, max_age: u64) -> bool {
        self.timestamp <= now && now - self.timestamp <= max_age
    }
}

#[derive(Default)]
struct Shard {
    entries: HashMap<Arc<str>, Arc<Entry>>,
    /// Insertion order, for first-in first-out eviction.
    order: VecDeque<Arc<str>>,
    bytes: usize,
}

pub(crate) struct DecodeCache {
    shards: Box<[Mutex<Shard>]>,
    shard_budget: usize,
}

impl DecodeCache {
    /// `None` when `bytes` is 0: caching off.
    pub(crate) fn new(bytes: usize) -> Option<Self> {
        (bytes > 0).then(|| Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_budget: bytes / SHARDS,
        })
    }

    fn shard(&self, token: &str) -> &Mutex<Shard> {
        // The token ends with its signature: uniform bytes that need no hashing.
        let tail = token
            .as_bytes()
            .iter()
            .rev()
            .take(2)
            .fold(0usize, |h, b| h * 31 + usize::from(*b));
        &self.shards[tail % SHARDS]
    }

    pub(crate) fn get(&self, token: &str) -> Option<Arc<Entry>> {
        let shard = self
            .shard(token)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        shard.entries.get(token).cloned()
    }

    pub(crate) fn remove(&self, token: &str) {
        let mut shard = self
            .shard(token)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = shard.entries.remove(token) {
            shard.bytes -= entry.cost;
        }
    }

    /// Caches a *verified* token. Entries larger than a shard are skipped.
    pub(crate) fn insert(&self, token: &str, entry: Entry) {
        if entry.cost > self.shard_budget {
            return;
        }
        let mut guard = self
            .shard(token)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *guard;
        if shard.entries.contains_key(token) {
            return;
        }
        while shard.bytes + entry.cost > self.shard_budget {
            let Some(oldest) = shard.order.pop_front() else {
                break;
            };
            if let Some(old) = shard.entries.remove(&oldest) {
                shard.bytes -= old.cost;
            }
        }
        let key: Arc<str> = Arc::from(token);
        shard.bytes += entry.cost;
        shard.order.push_back(Arc::clone(&key));
        shard.entries.insert(key, Arc::new(entry));
        // `order` may hold keys removed by `remove`; keep it from growing without bound.
        if shard.order.len() > 2 * shard.entries.len() + 16 {
            let entries = &shard.entries;
            shard.order.retain(|k| entries.contains_key(k));
        }
    }

    /// Bytes accounted for, over all shards.
    pub(crate) fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).bytes)
            .sum()
    }

    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entries
                    .len()
            })
            .sum()
    }
}

impl fmt::Debug for DecodeCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the tokens: they are credentials.
        f.debug_struct("DecodeCache")
            .field("bound", &(self.shard_budget * SHARDS))
            .field("bytes", &self.bytes())
            .field("entries", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json_len: usize) -> Entry {
        Entry::new(Arc::new(Map::new()), 100, false, 40, json_len)
    }

    #[test]
    fn never_exceeds_its_bound() {
        let cache = DecodeCache::new(64 * 1024).unwrap();
        for i in 0..10_000 {
            cache.insert(&format!("token-{i}.sig{i:04}"), entry(100));
            assert!(cache.bytes() <= 64 * 1024);
        }
        assert!(cache.len() > 50, "it does cache: {}", cache.len());
        assert!(
            cache.get("token-9999.sig9999").is_some(),
            "the newest entry is kept"
        );
        assert!(
            cache.get("token-0.sig0000").is_none(),
            "the oldest was evicted"
        );
    }

    #[test]
    fn oversized_entries_are_skipped_and_removal_frees_bytes() {
        let cache = DecodeCache::new(16 * 1024).unwrap();
        cache.insert("huge.x", entry(10_000));
        assert_eq!(cache.len(), 0);
        cache.insert("small.x", entry(10));
        let before = cache.bytes();
        assert!(before > 0);
        cache.remove("small.x");
        assert_eq!(cache.bytes(), 0);
        assert!(DecodeCache::new(0).is_none());
    }

    #[test]
    fn freshness_uses_the_signed_timestamp() {
        let e = entry(1);
        assert!(e.is_fresh(100, 0));
        assert!(e.is_fresh(110, 10));
        assert!(!e.is_fresh(111, 10));
        assert!(!e.is_fresh(99, 10), "a future timestamp is not fresh");
    }
}
