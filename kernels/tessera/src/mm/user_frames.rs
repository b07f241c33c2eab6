//! Frames mapped into user space: allocation (cleared as the config's `page-zero` says, or
//! filled by the caller), and the reference counts that fork's copy-on-write, MAP_SHARED and
//! the page cache share them by.

use core::sync::atomic::Ordering;

use tessera_page_alloc::{AllocError, PageAllocator, PageZero, Pfn};
use tessera_sync::Once;

use super::frames::{SPAN, USER_RESERVE, frames, free_frames};
use crate::variants;

/// Reference counts of frames mapped into user space (shared by fork's copy-on-write and
/// MAP_SHARED), indexed by pfn - first managed pfn.
struct FrameRefs {
    first: Pfn,
    counts: alloc::vec::Vec<u16>,
}

/// Never touched from interrupt context: the config's subsystem lock flavour.
static REFS: Once<tessera_sync::SubsystemLock<FrameRefs>> = Once::new();

fn refs() -> &'static tessera_sync::SubsystemLock<FrameRefs> {
    REFS.call_once(|| {
        let (first, pages) = *SPAN.get().expect("mm::init has not run");
        tessera_sync::SubsystemLock::new(FrameRefs {
            first,
            counts: alloc::vec![0; pages],
        })
    })
}

/// Whether `pages` more frames can go to what a user's request makes the kernel hold (file
/// data in a tmpfs, a pipe's buffer) and still leave `USER_RESERVE` free: such requests
/// stop where user memory stops, so that the kernel's own allocations, whose failure panics
/// (the heap cannot report it), keep the reserve. When short, the page cache first gives back
/// the pages no mapping uses and the heap the frames of its size classes that hold no block
/// in use ([`reclaim`]). The caller fails the request (ENOSPC, ENOMEM) on `false`.
pub fn headroom(pages: usize) -> bool {
    let enough = || {
        let free = frames().lock().free_pages();
        free >= USER_RESERVE.load(Ordering::Relaxed).saturating_add(pages)
    };
    enough() || (reclaim() > 0 && enough())
}

/// Memory is short: gives back the page cache's pages no mapping uses and the heap's frames
/// that hold no block in use (`tessera_platform::heap::reclaim`); how many frames came back.
#[cold]
#[inline(never)]
pub fn reclaim() -> usize {
    crate::mm::pagecache::shrink() + tessera_platform::heap::reclaim()
}

/// A zeroed frame for user memory, with one reference.
///
/// How often it is cleared is the config's `page-zero` variant
/// (`tessera_page_alloc::PageZero`).
pub fn alloc_user_frame() -> Result<Pfn, AllocError> {
    alloc_user_frame_filled(tessera_platform::mm::frame::zero)
}

/// A frame for user memory with one reference, its contents set by `fill`, which must set
/// every byte (a page of a file read straight into it needs no zeroing first).
///
/// When RAM is exhausted, the page cache gives back the file pages nobody maps (see
/// `mm::pagecache::shrink`), the heap its unused frames, and the allocation is tried once
/// more. Never call this with the
/// page cache's lock held.
pub fn alloc_user_frame_filled(fill: impl FnOnce(Pfn)) -> Result<Pfn, AllocError> {
    let pfn = take_user_frame().or_else(retry_after_shrink)?;
    fill(pfn);
    let mut refs = refs().lock();
    let first = refs.first;
    refs.counts[pfn - first] = 1;
    Ok(pfn)
}

/// Out of frames: gives back the unmapped page cache pages and the heap's unused frames
/// ([`reclaim`]), then tries once more.
#[cold]
#[inline(never)]
fn retry_after_shrink(error: AllocError) -> Result<Pfn, AllocError> {
    if reclaim() > 0 {
        take_user_frame()
    } else {
        Err(error)
    }
}

fn take_user_frame() -> Result<Pfn, AllocError> {
    let mut frames = frames().lock();
    if frames.free_pages() <= USER_RESERVE.load(Ordering::Relaxed) {
        return Err(AllocError::NoMemory);
    }
    if <variants::PageZero as PageZero>::WHILE_ALLOCATING {
        let pfn = frames.alloc(0)?;
        tessera_platform::mm::frame::zero(pfn);
        Ok(pfn)
    } else {
        frames.alloc(0)
    }
}

/// One more mapping of a user frame.
pub fn share_user_frame(pfn: Pfn) {
    let mut refs = refs().lock();
    let first = refs.first;
    refs.counts[pfn - first] += 1;
}

/// One more mapping of each of `pfns`, under one acquisition of the lock.
pub fn share_user_frames(pfns: &[Pfn]) {
    let mut refs = refs().lock();
    let first = refs.first;
    for &pfn in pfns {
        refs.counts[pfn - first] += 1;
    }
}

/// One mapping fewer; the frame is freed with the last.
pub fn release_user_frame(pfn: Pfn) {
    let last = {
        let mut refs = refs().lock();
        let first = refs.first;
        let count = &mut refs.counts[pfn - first];
        *count -= 1;
        *count == 0
    };
    if last {
        free_frames(pfn, 0).expect("user frame freed twice");
    }
}

/// How many mappings a user frame has.
pub fn user_frame_refs(pfn: Pfn) -> u16 {
    let refs = refs().lock();
    refs.counts[pfn - refs.first]
}
