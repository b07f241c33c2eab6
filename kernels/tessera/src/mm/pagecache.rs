//! The page cache: frames holding pages of files, mapped into every process that maps them.
//!
//! tmpfs keeps file data in its own buffers, not in frames, so a page of a file gets a frame
//! here the first time a mapping needs it (copied once from the file), and from then on
//! every mapping of that page maps the same frame, as Linux maps its page cache:
//! - `MAP_SHARED` mappings map it as it is, writable if the mapping is; stores through them
//!   are the file's newest bytes: reads of the file overlay cached pages, writes go to both,
//!   and a page stored through is written back to the file when its last mapping goes.
//! - `MAP_PRIVATE` mappings (program text, read-only data) map it read-only and
//!   copy-on-write: every process running a program shares its text, a fork child maps the
//!   same frames, and under TCG the code is translated once, not once per copy.
//!
//! A cached page stays after its last mapping goes (the next exec of the program finds it)
//! until memory is short ([`shrink`], called when a user frame cannot be had), its file is
//! truncated past it ([`truncated`]), or its file is gone ([`forget_if_last`], and [`shrink`]
//! for files that went by another way). The cache holds one reference to each frame (see
//! `memory`), every mapping another, so a cached frame with one reference is mapped nowhere;
//! it holds files weakly, so caching a page never keeps a deleted file alive.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};
use tessera_platform::mm::{PAGE_SIZE, Pfn, frame};
use tessera_sync::{IrqSave, SpinLock};
use tessera_vfs::{Inode, inode_key};

use crate::mm::user_frames::{
    alloc_user_frame_filled, release_user_frame, share_user_frame, user_frame_refs,
};

const PAGE: u64 = PAGE_SIZE as u64;

struct Cached {
    pfn: Pfn,
    /// The file, for write-back; dead once the file is gone.
    inode: Weak<dyn Inode>,
    /// Stored to through a shared writable mapping since the last write-back.
    dirty: bool,
}

/// (inode, page index) -> frame. An inode's key is its address, which cannot be reused
/// while a `Weak` to it exists, so a key never names two files.
static CACHE: SpinLock<BTreeMap<(usize, u64), Cached>, IrqSave> = SpinLock::new(BTreeMap::new());

/// Which cached page a mapping of `inode` at byte `offset` uses.
pub fn key(inode: &Arc<dyn Inode>, offset: u64) -> (usize, u64) {
    (inode_key(inode), offset / PAGE)
}

/// The frame of page `index` of `inode`, with one reference taken for the caller's mapping;
/// read from the file into a new frame on a miss. `dirty`: the mapping is shared and
/// writable, so the page must be written back when its last mapping goes.
pub fn get_page(inode: &Arc<dyn Inode>, index: u64, dirty: bool) -> KResult<Pfn> {
    let key = (inode_key(inode), index);
    if let Some(pfn) = take_cached(key, dirty) {
        return Ok(pfn);
    }
    // Filled outside the lock: allocating may shrink the cache.
    let pfn = alloc_user_frame_filled(|pfn| {
        frame::fill(pfn, |page| {
            let n = crate::fs::read_full(inode, index * PAGE, page).unwrap_or(0);
            page[n..].fill(0);
        })
    })
    .map_err(|_| Errno::ENOMEM)?;
    let mut cache = CACHE.lock();
    if let Some(cached) = cache.get_mut(&key) {
        // Filled meanwhile by someone else (a file read can sleep): use theirs.
        cached.dirty |= dirty;
        share_user_frame(cached.pfn);
        let theirs = cached.pfn;
        drop(cache);
        release_user_frame(pfn);
        return Ok(theirs);
    }
    share_user_frame(pfn);
    cache.insert(
        key,
        Cached {
            pfn,
            inode: Arc::downgrade(inode),
            dirty,
        },
    );
    Ok(pfn)
}

fn take_cached(key: (usize, u64), dirty: bool) -> Option<Pfn> {
    let mut cache = CACHE.lock();
    let cached = cache.get_mut(&key)?;
    cached.dirty |= dirty;
    share_user_frame(cached.pfn);
    Some(cached.pfn)
}

/// At most this many pages for [`with_cached`].
pub const MAX_AROUND: usize = 16;

/// Fault-around: calls `f` with the cached pages of `inode` whose indices lie in `indices`
/// (at most [`MAX_AROUND`]), as (index, frame) in index order, with the cache locked so
/// none of them can go meanwhile; `f` maps those it wants and takes a reference for each
/// (`memory::share_user_frames`). Pages not in the cache are skipped, never read.
pub fn with_cached(
    inode: &Arc<dyn Inode>,
    indices: core::ops::Range<u64>,
    f: impl FnOnce(&[(u64, Pfn)]),
) {
    let id = inode_key(inode);
    let cache = CACHE.lock();
    let mut pages = [(0, 0); MAX_AROUND];
    let mut n = 0;
    for (&(_, index), cached) in cache.range((id, indices.start)..(id, indices.end)) {
        if n == MAX_AROUND {
            break;
        }
        pages[n] = (index, cached.pfn);
        n += 1;
    }
    f(&pages[..n]);
}

/// A mapping of a cached page went away (its reference already dropped): with no mapping
/// left, a page stored to through a shared mapping is written back to the file. The page
/// stays cached.
pub fn unmapped(key: (usize, u64)) {
    let mut cache = CACHE.lock();
    let Some(cached) = cache.get_mut(&key) else {
        return;
    };
    if !cached.dirty || user_frame_refs(cached.pfn) > 1 {
        return;
    }
    cached.dirty = false;
    let (pfn, inode) = (cached.pfn, cached.inode.upgrade());
    drop(cache);
    if let Some(inode) = inode {
        write_back(&inode, key.1, pfn);
    }
}

/// Writes a cached page back to its file, within the file's size.
fn write_back(inode: &Arc<dyn Inode>, index: u64, pfn: Pfn) {
    let at = index * PAGE;
    let size = inode.metadata().map_or(0, |m| m.size);
    let len = size.saturating_sub(at).min(PAGE) as usize;
    if len > 0 {
        let mut buf = alloc::vec![0u8; len];
        frame::read(pfn, 0, &mut buf);
        let _ = inode.write_at(at, &buf);
    }
}

/// Gives back every cached page that no mapping uses (writing back those stored to, and
/// dropping those of files that are gone): what memory pressure calls. One pass, no
/// allocation. Returns how many frames were freed.
pub fn shrink() -> usize {
    let mut freed = 0;
    CACHE.lock().retain(|&(_, index), cached| {
        if user_frame_refs(cached.pfn) > 1 {
            return true;
        }
        if cached.dirty
            && let Some(inode) = cached.inode.upgrade()
        {
            write_back(&inode, index, cached.pfn);
        }
        release_user_frame(cached.pfn);
        freed += 1;
        false
    });
    freed
}

/// Frees the cached pages of `inode` if the caller holds its last reference (the file is
/// gone once the caller drops it): called where a mapping or an open file lets go of a file.
/// No mapping can use them then: every mapping holds a reference.
pub fn forget_if_last(inode: &Arc<dyn Inode>) {
    if Arc::strong_count(inode) == 1 {
        drop_pages(inode, 0, |_| true);
    }
}

/// The file was truncated to `len` bytes: cached pages past the end are freed (or zeroed
/// while still mapped), and the tail of the last page is zeroed, so that growing the file
/// again shows zeros, as the file itself does.
pub fn truncated(inode: &Arc<dyn Inode>, len: u64) {
    let tail = (len % PAGE) as usize;
    if tail != 0 {
        let cache = CACHE.lock();
        if let Some(cached) = cache.get(&(inode_key(inode), len / PAGE)) {
            frame::fill(cached.pfn, |page| page[tail..].fill(0));
        }
    }
    drop_pages(inode, len.div_ceil(PAGE), |pfn| {
        frame::fill(pfn, |page| page.fill(0));
        false
    });
}

/// Removes the cached pages of `inode` from index `first` on that no mapping uses; for a
/// mapped one, `mapped(pfn)` says whether to drop it from the cache anyway.
fn drop_pages(inode: &Arc<dyn Inode>, first: u64, mut mapped: impl FnMut(Pfn) -> bool) {
    let id = inode_key(inode);
    let gone: Vec<Pfn> = {
        let mut cache = CACHE.lock();
        let keys: Vec<(usize, u64)> = cache
            .range((id, first)..=(id, u64::MAX))
            .filter(|(_, c)| user_frame_refs(c.pfn) == 1 || mapped(c.pfn))
            .map(|(&key, _)| key)
            .collect();
        keys.iter()
            .filter_map(|key| cache.remove(key))
            .map(|c| c.pfn)
            .collect()
    };
    for pfn in gone {
        release_user_frame(pfn);
    }
}

/// Frames held by the cache (for /proc/meminfo's `Cached`).
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn cached_frames() -> usize {
    CACHE.lock().len()
}

/// After a read of `inode` at `offset` into `buf`, replaces bytes of cached pages with the
/// cached (newest) contents.
pub fn overlay_read(inode: &Arc<dyn Inode>, offset: u64, buf: &mut [u8]) {
    for_each_cached(inode, offset, buf.len(), |pfn, page_offset, range| {
        frame::read(pfn, page_offset, &mut buf[range]);
    });
}

/// After a write of `data` at `offset`, updates cached pages too.
pub fn write_through(inode: &Arc<dyn Inode>, offset: u64, data: &[u8]) {
    for_each_cached(inode, offset, data.len(), |pfn, page_offset, range| {
        frame::write(pfn, page_offset, &data[range]);
    });
}

fn for_each_cached(
    inode: &Arc<dyn Inode>,
    offset: u64,
    len: usize,
    mut f: impl FnMut(Pfn, usize, core::ops::Range<usize>),
) {
    if len == 0 {
        return;
    }
    let cache = CACHE.lock();
    let id = inode_key(inode);
    let (first, last) = (offset / PAGE, (offset + len as u64 - 1) / PAGE);
    for (&(_, index), cached) in cache.range((id, first)..=(id, last)) {
        let start = (index * PAGE).max(offset);
        let end = ((index + 1) * PAGE).min(offset + len as u64);
        let range = (start - offset) as usize..(end - offset) as usize;
        f(cached.pfn, (start - index * PAGE) as usize, range);
    }
}
