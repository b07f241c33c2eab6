//! Directory contents: names in insertion order, each with a readdir cookie that never
//! changes and is never reused, so a listing in progress survives unlinks and creations.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use crate::inode::TmpInode;
use crate::stat::StatVariant;

/// Cookie of the first real entry: 0 is `.`, 1 is `..`.
pub(crate) const FIRST_COOKIE: u64 = 2;

/// The entries of a directory.
pub(crate) struct DirData<S: StatVariant> {
    /// Name -> (cookie, inode): the lookup path.
    by_name: BTreeMap<Vec<u8>, (u64, Arc<TmpInode<S>>)>,
    /// Cookie -> name: the readdir order.
    by_cookie: BTreeMap<u64, Vec<u8>>,
    next_cookie: u64,
    /// The directory holding this one (itself for the root); changed by rename.
    pub(crate) parent: Weak<TmpInode<S>>,
    /// Removed by rmdir: nothing may be created in it, readdir fails.
    pub(crate) dead: bool,
}

impl<S: StatVariant> DirData<S> {
    /// An empty directory inside `parent`.
    pub(crate) fn new(parent: Weak<TmpInode<S>>) -> DirData<S> {
        DirData {
            by_name: BTreeMap::new(),
            by_cookie: BTreeMap::new(),
            next_cookie: FIRST_COOKIE,
            parent,
            dead: false,
        }
    }

    /// The child `name`.
    pub(crate) fn get(&self, name: &[u8]) -> Option<&Arc<TmpInode<S>>> {
        self.by_name.get(name).map(|(_, inode)| inode)
    }

    /// Number of entries (without `.` and `..`).
    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Add `name` (which must be absent) at the end of the listing.
    pub(crate) fn insert(&mut self, name: &[u8], inode: Arc<TmpInode<S>>) {
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        self.by_cookie.insert(cookie, name.to_vec());
        self.by_name.insert(name.to_vec(), (cookie, inode));
    }

    /// Remove `name`, returning its inode.
    pub(crate) fn remove(&mut self, name: &[u8]) -> Option<Arc<TmpInode<S>>> {
        let (cookie, inode) = self.by_name.remove(name)?;
        self.by_cookie.remove(&cookie);
        Some(inode)
    }

    /// Up to `max` entries with cookie >= `from`: (cookie, name, inode).
    pub(crate) fn batch(&self, from: u64, max: usize) -> Vec<(u64, Vec<u8>, Arc<TmpInode<S>>)> {
        self.by_cookie
            .range(from.max(FIRST_COOKIE)..)
            .take(max)
            .filter_map(|(&cookie, name)| {
                let (_, inode) = self.by_name.get(name)?;
                Some((cookie, name.clone(), inode.clone()))
            })
            .collect()
    }
}
