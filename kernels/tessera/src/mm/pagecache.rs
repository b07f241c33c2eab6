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

/// The frame of page `index` of `inode` if the cache holds it, with one reference taken for
/// the caller's mapping. `dirty`: the mapping is shared and writable, so the page must be
/// written back when its last mapping goes. No file operation: what the fault path calls with
/// an address space locked. A cached page always holds file data (see [`read_page`] and
/// [`truncated`]), so a hit needs no check of the file's size.
pub fn lookup(inode: &Arc<dyn Inode>, index: u64, dirty: bool) -> Option<Pfn> {
    take_cached((inode_key(inode), index), dirty)
}

/// Why [`read_page`] has no page to give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The page holds no byte of the file: it starts at or past the end.
    PastEnd,
    /// No frame could be had.
    NoMemory,
}

/// Page `index` of `inode`, read from the file into a new cached frame on a miss: the frame
/// with one reference taken for the caller (not marked dirty: [`lookup`] does that for the
/// mapping that stores). A file operation, so never called with an address space locked.
/// A page whose read returns nothing lies at or past the end of the file: it is not cached
/// (so that every cached page holds file data) and the answer is [`ReadError::PastEnd`]. The
/// read and the insertion are not separated by anything that sleeps, so a truncation cannot
/// come between them on this one CPU.
pub fn read_page(inode: &Arc<dyn Inode>, index: u64) -> Result<Pfn, ReadError> {
    let key = (inode_key(inode), index);
    if let Some(pfn) = take_cached(key, false) {
        return Ok(pfn);
    }
    // Filled outside the lock: allocating may shrink the cache.
    let mut past_end = false;
    let pfn = alloc_user_frame_filled(|pfn| {
        frame::fill(pfn, |page| {
            let n = crate::fs::read_full(inode, index * PAGE, page).unwrap_or(0);
            past_end = n == 0;
            page[n..].fill(0);
        })
    })
    .map_err(|_| ReadError::NoMemory)?;
    if past_end {
        release_user_frame(pfn);
        return Err(ReadError::PastEnd);
    }
    let mut cache = CACHE.lock();
    if let Some(cached) = cache.get_mut(&key) {
        // Filled meanwhile by someone else (a file read can sleep): use theirs.
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
            dirty: false,
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
/// left, a page stored to through a shared mapping must be written back to the file. That is
/// a file operation and the caller holds an address space's lock, so it is handed back as a
/// [`WriteBack`] to run once the lock is released. The page stays cached.
pub fn unmapped(key: (usize, u64)) -> Option<WriteBack> {
    let mut cache = CACHE.lock();
    let cached = cache.get_mut(&key)?;
    if !cached.dirty || user_frame_refs(cached.pfn) > 1 {
        return None;
    }
    cached.dirty = false;
    let inode = cached.inode.upgrade()?;
    share_user_frame(cached.pfn);
    Some(WriteBack {
        inode,
        index: key.1,
        pfn: cached.pfn,
    })
}

/// A cached page to write back to its file, produced under an address space's lock by
/// [`unmapped`] and run after it is released ([`WriteBack::run`]). Holds a reference to the
/// frame (so memory pressure cannot free it meanwhile) and to the file.
#[must_use = "a write-back must be run, or the page's stores never reach the file"]
pub struct WriteBack {
    inode: Arc<dyn Inode>,
    index: u64,
    pfn: Pfn,
}

impl WriteBack {
    /// Writes the page back (within the file's size) and lets go of frame and file; the
    /// file's cached pages go too if this was the last reference to a deleted file.
    pub fn run(self) {
        let at = self.index * PAGE;
        let size = self.inode.metadata().map_or(0, |m| m.size);
        let len = size.saturating_sub(at).min(PAGE) as usize;
        if len > 0 {
            let mut buf = alloc::vec![0u8; len];
            frame::read(self.pfn, 0, &mut buf);
            let _ = self.inode.write_at(at, &buf);
        }
        release_user_frame(self.pfn);
        forget_if_last(&self.inode);
    }
}

/// Gives back every clean cached page that no mapping uses (and those of files that are
/// gone): what memory pressure calls, possibly with an address space locked, so it does no
/// file operation. A dirty page always has a reference besides the cache's (a shared
/// writable mapping, or the [`WriteBack`] its last unmapping produced), so none is skipped
/// for long. One pass, no allocation. Returns how many frames were freed.
pub fn shrink() -> usize {
    let mut freed = 0;
    CACHE.lock().retain(|_, cached| {
        if user_frame_refs(cached.pfn) > 1 || cached.dirty {
            return true;
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
        drop_pages(inode, 0, false);
    }
}

/// The file was truncated to `len` bytes: cached pages past the end leave the cache (zeroed
/// first, for whoever still holds a reference: every mapping of them is gone already, see
/// `Vm::file_truncated`), so that a cached page always holds file data; and the tail of
/// the last page is zeroed, so that growing the file again shows zeros, as the file itself
/// does.
pub fn truncated(inode: &Arc<dyn Inode>, len: u64) {
    let tail = (len % PAGE) as usize;
    if tail != 0 {
        let cache = CACHE.lock();
        if let Some(cached) = cache.get(&(inode_key(inode), len / PAGE)) {
            frame::fill(cached.pfn, |page| page[tail..].fill(0));
        }
    }
    drop_pages(inode, len.div_ceil(PAGE), true);
}

/// Removes the cached pages of `inode` from index `first` on; with `zero_held`, a page that
/// someone besides the cache still holds a reference to is zeroed first.
fn drop_pages(inode: &Arc<dyn Inode>, first: u64, zero_held: bool) {
    let id = inode_key(inode);
    let gone: Vec<Pfn> = {
        let mut cache = CACHE.lock();
        let keys: Vec<(usize, u64)> = cache
            .range((id, first)..=(id, u64::MAX))
            .map(|(&key, _)| key)
            .collect();
        keys.iter()
            .filter_map(|key| cache.remove(key))
            .map(|c| c.pfn)
            .collect()
    };
    for pfn in gone {
        if zero_held && user_frame_refs(pfn) > 1 {
            frame::fill(pfn, |page| page.fill(0));
        }
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
