//! The dentry cache: (parent dentry, name) -> child dentry. Two variants behind one trait:
//!
//! | Variant     | Type            | Lookup                    | Memory                         |
//! |-------------|-----------------|---------------------------|--------------------------------|
//! | `off`       | [`NoDcache`]    | `Inode::lookup` every step | none: dentries die with users |
//! | `hashbrown` | [`HashDcache`]  | one hash probe            | one entry per name walked, unused leaves evicted past a limit |
//!
//! Only positive entries are cached (a name that exists), so creating a name needs no
//! invalidation; the [`Vfs`](crate::Vfs) removes or moves entries on unlink, rmdir, rename and
//! umount. The hash cache evicts only dentries nobody else holds, so a cached name keeps one
//! dentry object for as long as anyone uses it.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use hashbrown::{Equivalent, HashMap};
use tessera_sync::SubsystemLock;

use crate::dentry::Dentry;

/// Hit and miss counters of a dentry cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DcacheStats {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that went to the file system.
    pub misses: u64,
    /// Entries currently cached.
    pub entries: usize,
}

/// A dentry cache variant. Methods take `&self`: implementations lock internally, never
/// while calling into a file system.
pub trait Dcache: Send + Sync {
    /// Variant name for the boot banner ("off", "hashbrown").
    const NAME: &'static str;
    /// Whether [`Dcache::insert`] keeps anything (a walk that would only build a dentry
    /// to insert it can skip it when not).
    const CACHES: bool;

    /// The cached child `name` of the dentry with id `parent`.
    fn get(&self, parent: u64, name: &[u8]) -> Option<Arc<Dentry>>;
    /// Remember `child` as the child `name` of `parent` (replacing any previous entry).
    fn insert(&self, parent: u64, name: &[u8], child: Arc<Dentry>);
    /// Forget the child `name` of `parent`, returning it.
    fn remove(&self, parent: u64, name: &[u8]) -> Option<Arc<Dentry>>;
    /// Forget every dentry of the mount `mount_id` (it was unmounted).
    fn remove_mount(&self, mount_id: u64);
    /// Hit/miss counters and size.
    fn stats(&self) -> DcacheStats;
}

/// Variant `off`: caches nothing.
#[derive(Debug, Default)]
pub struct NoDcache {
    misses: AtomicU64,
}

impl Dcache for NoDcache {
    const NAME: &'static str = "off";
    const CACHES: bool = false;

    fn get(&self, _parent: u64, _name: &[u8]) -> Option<Arc<Dentry>> {
        self.misses.fetch_add(1, Ordering::Relaxed);
        None
    }
    fn insert(&self, _parent: u64, _name: &[u8], _child: Arc<Dentry>) {}
    fn remove(&self, _parent: u64, _name: &[u8]) -> Option<Arc<Dentry>> {
        None
    }
    fn remove_mount(&self, _mount_id: u64) {}
    fn stats(&self) -> DcacheStats {
        DcacheStats {
            hits: 0,
            misses: self.misses.load(Ordering::Relaxed),
            entries: 0,
        }
    }
}

/// Owned key of the hash cache.
#[derive(Hash, PartialEq, Eq)]
struct Key {
    parent: u64,
    name: Vec<u8>,
}

/// Borrowed key: hashes exactly like [`Key`] (a `Vec<u8>` hashes as its slice), so lookups
/// need no allocation.
#[derive(Hash)]
struct KeyRef<'a> {
    parent: u64,
    name: &'a [u8],
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.parent == key.parent && self.name == key.name.as_slice()
    }
}

/// Entries past which [`HashDcache::default`] sweeps out unused dentries.
pub const DEFAULT_DCACHE_LIMIT: usize = 8192;

/// Entries the hash table has room for from the start (at most the limit): a table kept
/// mostly empty answers a probe from its first group almost always, and does not rehash
/// while a system boots.
pub const DCACHE_INITIAL_CAPACITY: usize = 1024;

struct HashInner {
    map: HashMap<Key, Arc<Dentry>>,
    /// Size at which the next sweep runs: max(limit, twice what the last sweep kept), so
    /// sweeps cost O(1) amortised per insert even when most entries are in use.
    sweep_at: usize,
}

impl HashInner {
    /// A table that grew for many names (tens of thousands of files made and removed) gives
    /// its memory back once it is less than an eighth full: its entries move to a table of
    /// twice their number (at least the initial capacity), when one can be had. Geometric, so
    /// O(1) amortised per removal.
    fn shrink_if_sparse(&mut self) {
        let (len, capacity) = (self.map.len(), self.map.capacity());
        if capacity <= 4 * DCACHE_INITIAL_CAPACITY || len >= capacity / 8 {
            return;
        }
        let mut smaller = HashMap::default();
        if smaller
            .try_reserve((2 * len).max(DCACHE_INITIAL_CAPACITY))
            .is_ok()
        {
            smaller.extend(self.map.drain());
            self.map = smaller;
        }
    }
}

/// Variant `hashbrown`: a hash map (parent dentry id, name) -> child dentry.
pub struct HashDcache {
    inner: SubsystemLock<HashInner>,
    limit: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl HashDcache {
    /// A cache that, once it holds `limit` entries, evicts the dentries only it refers to
    /// (no process, open file, child dentry or mount uses them).
    pub fn with_limit(limit: usize) -> HashDcache {
        HashDcache {
            inner: SubsystemLock::new(HashInner {
                map: HashMap::with_capacity(limit.clamp(1, DCACHE_INITIAL_CAPACITY)),
                sweep_at: limit.max(1),
            }),
            limit: limit.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl Default for HashDcache {
    fn default() -> HashDcache {
        HashDcache::with_limit(DEFAULT_DCACHE_LIMIT)
    }
}

impl Dcache for HashDcache {
    const NAME: &'static str = "hashbrown";
    const CACHES: bool = true;

    fn get(&self, parent: u64, name: &[u8]) -> Option<Arc<Dentry>> {
        let found = self.inner.lock().map.get(&KeyRef { parent, name }).cloned();
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn insert(&self, parent: u64, name: &[u8], child: Arc<Dentry>) {
        let key = Key {
            parent,
            name: name.to_vec(),
        };
        let mut inner = self.inner.lock();
        // A table that cannot grow (memory is short: its doubling is one large allocation)
        // leaves the dentry uncached rather than panicking: a cache may miss.
        if inner.map.try_reserve(1).is_err() {
            return;
        }
        // Dentries leaving the cache are dropped unlocked: dropping one may drop its inode,
        // which is file system code.
        let replaced = inner.map.insert(key, child);
        if inner.map.len() < inner.sweep_at {
            drop(inner);
            drop(replaced);
            return;
        }
        // Repeat: dropping an evicted leaf can leave its parent referenced only by the cache.
        loop {
            let mut unused = Vec::new();
            inner.map.retain(|_, d| {
                let keep = Arc::strong_count(d) > 1;
                if !keep {
                    unused.push(d.clone());
                }
                keep
            });
            if unused.is_empty() {
                break;
            }
            drop(inner);
            drop(unused);
            inner = self.inner.lock();
        }
        inner.sweep_at = (inner.map.len() * 2).max(self.limit);
        drop(inner);
        drop(replaced);
    }

    fn remove(&self, parent: u64, name: &[u8]) -> Option<Arc<Dentry>> {
        let mut inner = self.inner.lock();
        let removed = inner.map.remove(&KeyRef { parent, name });
        inner.shrink_if_sparse();
        removed
    }

    fn remove_mount(&self, mount_id: u64) {
        let mut removed = Vec::new();
        self.inner.lock().map.retain(|_, d| {
            if d.mount_id() == mount_id {
                removed.push(d.clone());
                false
            } else {
                true
            }
        });
        drop(removed);
    }

    fn stats(&self) -> DcacheStats {
        DcacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.inner.lock().map.len(),
        }
    }
}
