//! The page allocator chosen by the config, fed with the free RAM the platform found, and the
//! kernel heap on top of it.

use core::sync::atomic::{AtomicUsize, Ordering};

use tessera_page_alloc::{AllocError, PageAllocator, Pfn};
use tessera_platform::BootInfo;
use tessera_platform::heap::{self, FrameSource};
use tessera_platform::mm::{self, PAGE_SIZE};
use tessera_sync::{IrqSave, Once, SpinLock};

use crate::variants::PageAlloc;

/// The page allocator. IRQ-saving: the heap may be entered with interrupts in any state.
static FRAMES: Once<SpinLock<PageAlloc, IrqSave>> = Once::new();

/// Frames user memory leaves to the kernel (`user_frames`): a user frame is not taken when
/// no more than this many are free, so that the kernel's own allocations (its heap, page
/// tables, a new task's stack) still succeed when user memory runs out, and the OOM killer
/// (`mm::oom`) can make room (as Linux's `min_free_kbytes` watermark does): 1/64 of RAM,
/// between 64 frames (256 KiB) and 1024 (4 MiB), set once RAM is known.
#[allow(dead_code, reason = "for user memory, which a config may leave out")]
pub(super) static USER_RESERVE: AtomicUsize = AtomicUsize::new(64);

pub(super) fn frames() -> &'static SpinLock<PageAlloc, IrqSave> {
    FRAMES.get().expect("mm::init has not run")
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
    USER_RESERVE.store(
        (alloc.total_pages() / 64).clamp(64, 1024),
        Ordering::Relaxed,
    );
    FRAMES.call_once(|| SpinLock::new(alloc));
    SPAN.call_once(|| (first as Pfn, pages));
    heap::init(&HEAP_FRAMES, first as usize, pages);
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

/// The page allocator as the platform's frame source (for page tables and the network card).
#[allow(dead_code, reason = "for user space, which a config may leave out")]
pub fn frame_source() -> &'static dyn FrameSource {
    &HEAP_FRAMES
}

/// (first managed pfn, number of pages): the span the user frames' reference counts cover.
pub(super) static SPAN: Once<(Pfn, usize)> = Once::new();
