//! The page allocator chosen by the config, fed with the free RAM the platform found, and the
//! kernel heap on top of it.

use tessera_page_alloc::{AllocError, PageAllocator, PageZero, Pfn};
use tessera_platform::BootInfo;
use tessera_platform::heap::{self, FrameSource};
use tessera_platform::mm::{self, PAGE_SIZE};
use tessera_sync::{IrqSave, Once, SpinLock};

use crate::variants::PageAlloc;

/// The page allocator. IRQ-saving: the heap may be entered with interrupts in any state.
static FRAMES: Once<SpinLock<PageAlloc, IrqSave>> = Once::new();

fn frames() -> &'static SpinLock<PageAlloc, IrqSave> {
    FRAMES.get().expect("memory::init has not run")
}

/// Sets up the page allocator over all RAM and connects the heap to it.
pub fn init(boot: &BootInfo) {
    let page = PAGE_SIZE as u64;
    let first = boot
        .ram()
        .iter()
        .map(|r| r.start.max(1 << 20))
        .min()
        .unwrap_or(0)
        / page;
    let end = boot.ram().iter().map(|r| r.end).max().unwrap_or(0) / page;
    let pages = (end - first) as usize;
    let meta = mm::reserve_static(PageAlloc::metadata_words(pages));
    let mut alloc = PageAlloc::new(meta, first as Pfn, pages);
    for region in mm::free_regions() {
        alloc.add_free_range((region.start / page) as Pfn, (region.len() / page) as usize);
    }
    FRAMES.call_once(|| SpinLock::new(alloc));
    SPAN.call_once(|| (first as Pfn, pages));
    heap::init(&HEAP_FRAMES);
}

/// (managed, free) page counts.
pub fn page_counts() -> (usize, usize) {
    let frames = frames().lock();
    (frames.total_pages(), frames.free_pages())
}

/// Allocates 2^order frames.
pub fn alloc_frames(order: u32) -> Result<Pfn, AllocError> {
    frames().lock().alloc(order)
}

/// Frees 2^order frames obtained from [`alloc_frames`].
pub fn free_frames(pfn: Pfn, order: u32) -> Result<(), AllocError> {
    frames().lock().free(pfn, order)
}

struct HeapFrames;

static HEAP_FRAMES: HeapFrames = HeapFrames;

impl FrameSource for HeapFrames {
    fn alloc_frames(&self, order: u32) -> Option<usize> {
        alloc_frames(order).ok()
    }

    fn free_frames(&self, pfn: usize, order: u32) {
        free_frames(pfn, order).expect("heap freed frames it does not own");
    }
}

/// The page allocator as the platform's frame source (for page tables).
pub fn frame_source() -> &'static dyn FrameSource {
    &HEAP_FRAMES
}

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
        let (first, pages) = *SPAN.get().expect("memory::init has not run");
        tessera_sync::SubsystemLock::new(FrameRefs {
            first,
            counts: alloc::vec![0; pages],
        })
    })
}

static SPAN: Once<(Pfn, usize)> = Once::new();

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
/// `fs::pagecache::shrink`) and the allocation is tried once more. Never call this with the
/// page cache's lock held.
pub fn alloc_user_frame_filled(fill: impl FnOnce(Pfn)) -> Result<Pfn, AllocError> {
    let pfn = take_user_frame().or_else(retry_after_shrink)?;
    fill(pfn);
    let mut refs = refs().lock();
    let first = refs.first;
    refs.counts[pfn - first] = 1;
    Ok(pfn)
}

/// Out of frames: gives back the unmapped page cache pages, then tries once more.
#[cold]
#[inline(never)]
fn retry_after_shrink(error: AllocError) -> Result<Pfn, AllocError> {
    if crate::mm::pagecache::shrink() > 0 {
        take_user_frame()
    } else {
        Err(error)
    }
}

fn take_user_frame() -> Result<Pfn, AllocError> {
    if <crate::variants::PageZero as PageZero>::WHILE_ALLOCATING {
        let mut frames = frames().lock();
        let pfn = frames.alloc(0)?;
        tessera_platform::mm::frame::zero(pfn);
        Ok(pfn)
    } else {
        alloc_frames(0)
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
