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

use crate::codec::raw::RawMap;

const SHARDS: usize = 16;

/// A verified session.
pub(crate) struct Entry {
    pub(crate) map: Arc<RawMap>,
    pub(crate) timestamp: u64,
    pub(crate) permanent: bool,
    cost: usize,
}

impl Entry {
    /// An entry for a verified token of `token_len` bytes; its cost is the
    /// heap it really holds: the payload text, the index, owned values.
    pub(crate) fn new(map: Arc<RawMap>, timestamp: u64, permanent: bool, token_len: usize) -> Self {
        let cost = ENTRY_OVERHEAD + 2 * (token_len + ALLOC_OVERHEAD) + map.heap_bytes();
        Self {
            map,
            timestamp,
            permanent,
            cost,
        }
    }
}

/// What an allocation costs beyond its size (glibc: 8 bytes of header,
/// rounded to 16).
const ALLOC_OVERHEAD: usize = 16;
/// The fixed part of an entry: its `Arc<Entry>`, the `Arc` around the map,
/// the bucket slot, the FIFO entry and the hash table's share, each with
/// its allocation overhead.
const ENTRY_OVERHEAD: usize = 256;

struct Slot {
    token: Arc<[u8]>,
    entry: Arc<Entry>,
    /// Which insertion this is: a token removed and cached again is a new
    /// slot, and only its own place in `order` may evict it.
    seq: u64,
}

#[derive(Default)]
struct Shard {
    /// Buckets by [`bucket_of`]; a bucket holds the tokens sharing it,
    /// compared in full.
    buckets: HashMap<u64, Vec<Slot>>,
    /// Insertion order, for first-in first-out eviction: `(bucket, seq)`.
    /// May name slots `remove` already dropped; those are skipped.
    order: VecDeque<(u64, u64)>,
    next_seq: u64,
    bytes: usize,
    len: usize,
}

impl Shard {
    fn find(&self, bucket: u64, token: &[u8]) -> Option<&Slot> {
        self.buckets
            .get(&bucket)?
            .iter()
            .find(|s| &*s.token == token)
    }

    /// Unlinks the entry and hands it back, so that the caller frees it
    /// after releasing the shard lock.
    fn remove(&mut self, bucket: u64, token: &[u8]) -> Option<Slot> {
        self.remove_where(bucket, |s| &*s.token == token)
    }

    fn remove_where(&mut self, bucket: u64, which: impl Fn(&Slot) -> bool) -> Option<Slot> {
        let slots = self.buckets.get_mut(&bucket)?;
        let i = slots.iter().position(which)?;
        let slot = slots.swap_remove(i);
        self.bytes -= slot.entry.cost;
        self.len -= 1;
        if slots.is_empty() {
            self.buckets.remove(&bucket);
        }
        Some(slot)
    }
}

/// Where a token lives. A token ends with its signature, uniform bytes an
/// outsider cannot choose for a token that verified (only those are
/// inserted), so its last 16 bytes stand in for a hash of the whole token:
/// hashing kilobytes of cookie on every request would cost more than the
/// lookup saves. Equality still compares every byte.
fn bucket_of(token: &[u8]) -> u64 {
    let tail = &token[token.len().saturating_sub(16)..];
    tail.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
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

    fn shard(&self, bucket: u64) -> std::sync::MutexGuard<'_, Shard> {
        let index = usize::try_from(bucket >> 60).unwrap_or(0) % SHARDS;
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self, token: &[u8]) -> Option<Arc<Entry>> {
        let bucket = bucket_of(token);
        self.shard(bucket)
            .find(bucket, token)
            .map(|s| Arc::clone(&s.entry))
    }

    pub(crate) fn remove(&self, token: &[u8]) {
        let bucket = bucket_of(token);
        let removed = self.shard(bucket).remove(bucket, token);
        // Freeing a session map walks all of it: never under the lock.
        drop(removed);
    }

    /// Caches a *verified* token. Entries larger than a shard are skipped.
    pub(crate) fn insert(&self, token: &[u8], entry: Entry) {
        if entry.cost > self.shard_budget {
            return;
        }
        let bucket = bucket_of(token);
        let token: Arc<[u8]> = Arc::from(token);
        let entry = Arc::new(entry);
        let mut evicted = Vec::new();
        let mut shard = self.shard(bucket);
        if shard.find(bucket, &token).is_some() {
            return;
        }
        while shard.bytes + entry.cost > self.shard_budget {
            let Some((old_bucket, old_seq)) = shard.order.pop_front() else {
                break;
            };
            evicted.extend(shard.remove_where(old_bucket, |s| s.seq == old_seq));
        }
        let seq = shard.next_seq;
        shard.next_seq += 1;
        shard.bytes += entry.cost;
        shard.len += 1;
        shard.order.push_back((bucket, seq));
        shard
            .buckets
            .entry(bucket)
            .or_default()
            .push(Slot { token, entry, seq });
        // `order` may still name slots `remove` dropped: drop those once
        // they outnumber the live ones, so this stays amortized O(1).
        if shard.order.len() > 2 * shard.len + 16 {
            let Shard { order, buckets, .. } = &mut *shard;
            order.retain(|(b, seq)| {
                buckets
                    .get(b)
                    .is_some_and(|slots| slots.iter().any(|s| s.seq == *seq))
            });
        }
        drop(shard);
        // Freed here, after the lock: other requests on this shard wait
        // only for the bookkeeping.
        drop(evicted);
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
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len)
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

    fn entry(string_len: usize) -> Entry {
        let mut map = RawMap::default();
        map.insert_json("k", format!("\"{}\"", "x".repeat(string_len)));
        Entry::new(Arc::new(map), 100, false, 40)
    }

    #[test]
    fn never_exceeds_its_bound() {
        let cache = DecodeCache::new(256 * 1024).unwrap();
        for i in 0..10_000 {
            cache.insert(format!("token-{i}.sig{i:04}").as_bytes(), entry(100));
            assert!(cache.bytes() <= 256 * 1024);
        }
        assert!(cache.len() > 50, "it does cache: {}", cache.len());
        assert!(
            cache.get(b"token-9999.sig9999").is_some(),
            "the newest entry is kept"
        );
        assert!(
            cache.get(b"token-0.sig0000").is_none(),
            "the oldest was evicted"
        );
    }

    #[test]
    fn oversized_entries_are_skipped_and_removal_frees_bytes() {
        let cache = DecodeCache::new(32 * 1024).unwrap();
        cache.insert(b"huge.x", entry(10_000));
        assert_eq!(cache.len(), 0);
        cache.insert(b"small.x", entry(10));
        let before = cache.bytes();
        assert!(before > 0);
        cache.remove(b"small.x");
        assert_eq!(cache.bytes(), 0);
        assert!(DecodeCache::new(0).is_none());
    }

    #[test]
    fn tokens_sharing_a_bucket_are_told_apart_by_every_byte() {
        let cache = DecodeCache::new(1 << 20).unwrap();
        let a = b"AAAA.same-sixteen-bytes!";
        let b = b"BBBB.same-sixteen-bytes!";
        assert_eq!(bucket_of(a), bucket_of(b));
        cache.insert(a, entry(1));
        assert!(cache.get(a).is_some());
        assert!(cache.get(b).is_none());
        cache.insert(b, entry(2));
        cache.remove(a);
        assert!(cache.get(a).is_none() && cache.get(b).is_some());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_token_cached_removed_and_cached_again_keeps_the_order_bounded() {
        // What a write does to the token it replaces, while other requests
        // still carry it. (Regression: each round left one more entry
        // naming the live slot in `order`, and every insert then walked
        // them all comparing tokens.)
        let cache = DecodeCache::new(1 << 20).unwrap();
        for i in 0..20_000 {
            cache.insert(b"request-token.sig", entry(10));
            cache.remove(b"request-token.sig");
            cache.insert(format!("written-{}.sig", i % 3).as_bytes(), entry(10));
        }
        for shard in cache.shards.iter() {
            let shard = shard.lock().unwrap();
            assert!(
                shard.order.len() <= 2 * shard.len + 17,
                "{}",
                shard.order.len()
            );
        }
        assert_eq!(cache.len(), 3);
    }
}
