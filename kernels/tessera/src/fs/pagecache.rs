//! Frames shared by `MAP_SHARED` mappings of files, so that stores through a mapping and
//! read/write on the file see each other at once, as on Linux.
//!
//! tmpfs keeps file data in its own buffers, not in frames. While a page of a file is mapped
//! shared, its frame here is the authoritative copy: reads of the file overlay it, writes go
//! to both, and when the last mapping of the page goes away the frame is written back to the
//! file and freed. Private mappings copy the file on first touch and never come here.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec;

use tessera_abi::{Errno, KResult};
use tessera_platform::mm::{PAGE_SIZE, Pfn, frame};
use tessera_sync::{IrqSave, SpinLock};
use tessera_vfs::{Inode, inode_key};

use crate::memory::{alloc_user_frame, release_user_frame, share_user_frame, user_frame_refs};

struct Cached {
    pfn: Pfn,
    inode: Arc<dyn Inode>,
}

/// (inode, page index) -> frame. The cache holds one reference to each frame; every mapping
/// of it holds another.
static CACHE: SpinLock<BTreeMap<(usize, u64), Cached>, IrqSave> = SpinLock::new(BTreeMap::new());

/// Which cached page a shared file mapping of `inode` at byte `offset` uses.
pub fn key(inode: &Arc<dyn Inode>, offset: u64) -> (usize, u64) {
    (inode_key(inode), offset / PAGE_SIZE as u64)
}

/// The frame of page `index` of `inode` for one more shared mapping (one reference taken).
pub fn map_page(inode: &Arc<dyn Inode>, index: u64) -> KResult<Pfn> {
    let mut cache = CACHE.lock();
    if let Some(cached) = cache.get(&(inode_key(inode), index)) {
        share_user_frame(cached.pfn);
        return Ok(cached.pfn);
    }
    let pfn = alloc_user_frame().map_err(|_| Errno::ENOMEM)?;
    let mut buf = vec![0u8; PAGE_SIZE];
    let n = inode
        .read_at(index * PAGE_SIZE as u64, &mut buf)
        .unwrap_or(0);
    frame::write(pfn, 0, &buf[..n]);
    share_user_frame(pfn);
    cache.insert(
        (inode_key(inode), index),
        Cached {
            pfn,
            inode: inode.clone(),
        },
    );
    Ok(pfn)
}

/// A shared mapping of a cached page went away (its reference already dropped): with no
/// mapping left, the page is written back (within the file's size) and freed.
pub fn unmapped(key: (usize, u64)) {
    let mut cache = CACHE.lock();
    let Some(cached) = cache.get(&key) else {
        return;
    };
    if user_frame_refs(cached.pfn) > 1 {
        return;
    }
    let cached = cache.remove(&key).expect("present");
    drop(cache);
    let at = key.1 * PAGE_SIZE as u64;
    let size = cached.inode.metadata().map_or(0, |m| m.size);
    let len = size.saturating_sub(at).min(PAGE_SIZE as u64) as usize;
    if len > 0 {
        let mut buf = vec![0u8; len];
        frame::read(cached.pfn, 0, &mut buf);
        let _ = cached.inode.write_at(at, &buf);
    }
    release_user_frame(cached.pfn);
}

/// After a read of `inode` at `offset` into `buf`, replaces bytes of shared-mapped pages with
/// the mapped (newest) contents.
pub fn overlay_read(inode: &Arc<dyn Inode>, offset: u64, buf: &mut [u8]) {
    for_each_cached(inode, offset, buf.len(), |pfn, page_offset, range| {
        frame::read(pfn, page_offset, &mut buf[range]);
    });
}

/// After a write of `data` at `offset`, updates shared-mapped pages too.
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
    let page = PAGE_SIZE as u64;
    let (first, last) = (offset / page, (offset + len as u64 - 1) / page);
    for (&(_, index), cached) in cache.range((id, first)..=(id, last)) {
        let start = (index * page).max(offset);
        let end = ((index + 1) * page).min(offset + len as u64);
        let range = (start - offset) as usize..(end - offset) as usize;
        f(cached.pfn, (start - index * page) as usize, range);
    }
}
