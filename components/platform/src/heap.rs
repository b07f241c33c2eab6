//! The kernel heap (`#[global_allocator]`), built on frames from the page allocator.
//!
//! Small requests (up to 2 KiB) come from power-of-two size classes: each class keeps a free
//! list threaded through its free blocks and refills from one fresh frame at a time. Larger
//! requests take 2^order frames straight from the page allocator and give them back on free.
//! Power-of-two blocks carved from page-aligned frames are naturally aligned, so alignment up
//! to 4 KiB costs nothing; larger alignments round the order up.
//!
//! The page allocator is a component the kernel chooses by config, so the heap reaches it
//! through the [`FrameSource`] the kernel registers with [`init`]. Before that, every
//! allocation fails (and the out-of-memory panic says so).
//!
//! A size class keeps the frames it took, so that a burst of small allocations freed again
//! (tens of thousands of files created and removed) would keep its frames from user memory
//! for good. [`reclaim`], which the kernel calls when memory is short, gives back every frame
//! whose blocks are all free: it counts the free blocks of each frame in a side table (one
//! `u16` a frame of the span [`init`] is given, zero between calls), so that allocating and
//! freeing pay nothing for it.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicUsize, Ordering};

use spin::{Mutex, Once};

use crate::mm::{PAGE_SIZE, PHYS_OFFSET, phys_to_virt};

/// Where the heap gets frames: implemented by the kernel over its page allocator.
pub trait FrameSource: Sync {
    /// 2^order contiguous, naturally aligned frames; returns the first frame number.
    fn alloc_frames(&self, order: u32) -> Option<usize>;
    /// Gives back frames obtained from `alloc_frames(order)`.
    fn free_frames(&self, pfn: usize, order: u32);
}

const CLASSES: [usize; 8] = [16, 32, 64, 128, 256, 512, 1024, 2048];

/// Where [`reclaim`]'s per-frame counts of free blocks live: the first frame of the span, how many
/// frames it has, and the address of its `u16` counts (0 before [`init`]).
#[derive(Clone, Copy)]
struct Counts {
    first_pfn: usize,
    pages: usize,
    base: usize,
}

/// A count's mark during [`reclaim`]: the frame's blocks are out of the free list and the
/// frame goes back to the page allocator.
const RECLAIMING: u16 = u16::MAX;

struct Heap {
    /// Head of each size class's free list (0 = empty); the next pointer lives in the block.
    free: Mutex<[usize; CLASSES.len()]>,
    /// [`reclaim`]'s counts (used under `free`'s lock).
    counts: Once<Counts>,
    source: Once<&'static dyn FrameSource>,
    in_use: AtomicUsize,
    /// Frames taken from the page allocator and not given back: the size classes keep
    /// theirs for good (their blocks return to the free lists), large blocks give theirs
    /// back on free.
    frames: AtomicUsize,
}

static HEAP: Heap = Heap {
    free: Mutex::new([0; CLASSES.len()]),
    counts: Once::new(),
    source: Once::new(),
    in_use: AtomicUsize::new(0),
    frames: AtomicUsize::new(0),
};

#[global_allocator]
static GLOBAL: KernelHeap = KernelHeap;

struct KernelHeap;

/// Connects the heap to the kernel's page allocator, whose frames are `pages` frames from
/// `first_pfn` on: [`reclaim`]'s counts come from it (two bytes a frame; without them, if
/// they cannot be had, the size classes keep their frames for good).
pub fn init(source: &'static dyn FrameSource, first_pfn: usize, pages: usize) {
    HEAP.source.call_once(|| source);
    let bytes = pages * core::mem::size_of::<u16>();
    let order = bytes
        .div_ceil(PAGE_SIZE)
        .next_power_of_two()
        .trailing_zeros();
    if let Some(pfn) = source.alloc_frames(order) {
        let base = frame_addr(pfn);
        // SAFETY: the 2^order frames were just given to us, are mapped in the direct map and
        // hold at least `bytes` bytes; they are never given back.
        unsafe { core::ptr::write_bytes(base as *mut u8, 0, bytes) };
        HEAP.counts.call_once(|| Counts {
            first_pfn,
            pages,
            base,
        });
    }
}

/// Gives every frame of a size class whose blocks are all free back to the page allocator;
/// returns how many. Counts each frame's free blocks by walking the free lists, unlinks the
/// blocks of the frames whose blocks are all there, and frees those frames (a few ms with
/// tens of thousands of free blocks): for when memory is short, not for every allocation.
pub fn reclaim() -> usize {
    let (Some(counts), Some(source)) = (HEAP.counts.get().copied(), HEAP.source()) else {
        return 0;
    };
    let mut freed = 0;
    x86_64::instructions::interrupts::without_interrupts(|| {
        let mut free = HEAP.free.lock();
        let mut marked = false;
        for (class, head) in free.iter_mut().enumerate() {
            let per_frame = (PAGE_SIZE / CLASSES[class]) as u16;
            // Both walks: every block in a free list is a free block of this class, in a
            // frame of the span, whose first word is the next block (0 at the end); `prev`
            // points at the list head or at a kept block's first word. Blocks of marked
            // frames are unlinked and left untouched until their frame is freed, after the
            // walks. The free lists' lock is held, so the counts are ours.
            // SAFETY: see above.
            unsafe {
                let mut block = *head;
                while block != 0 {
                    *count_of(&counts, block) += 1;
                    block = *(block as *const usize);
                }
                let mut prev: *mut usize = head;
                let mut block = *prev;
                while block != 0 {
                    let next = *(block as *const usize);
                    let count = count_of(&counts, block);
                    if *count == per_frame || *count == RECLAIMING {
                        *count = RECLAIMING;
                        marked = true;
                        *prev = next;
                    } else {
                        prev = block as *mut usize;
                    }
                    block = next;
                }
            }
        }
        for index in 0..counts.pages {
            // SAFETY: index < pages: a count of the span, in frames we own.
            let count = unsafe { &mut *(counts.base as *mut u16).add(index) };
            if marked && *count == RECLAIMING {
                source.free_frames(counts.first_pfn + index, 0);
                freed += 1;
            }
            *count = 0;
        }
        HEAP.frames.fetch_sub(freed, Ordering::Relaxed);
    });
    freed
}

/// The count of the frame holding `block` (a size class's block, so a frame of the span).
///
/// # Safety
/// `block` lies in a frame of `counts`' span; the caller holds the free lists' lock.
unsafe fn count_of(counts: &Counts, block: usize) -> &'static mut u16 {
    let pfn = (block as u64 - PHYS_OFFSET) as usize / PAGE_SIZE;
    let index = pfn - counts.first_pfn;
    debug_assert!(index < counts.pages);
    // SAFETY: per the contract, index is within the span's counts, which we own; the lock
    // makes this the only reference.
    unsafe { &mut *(counts.base as *mut u16).add(index) }
}

/// Bytes currently allocated from the heap (requested sizes rounded to their block).
pub fn bytes_in_use() -> usize {
    HEAP.in_use.load(Ordering::Relaxed)
}

/// Frames the heap holds: those of large blocks in use and every frame a size class ever
/// took (free blocks included). Memory in the heap's free lists is not free to the page
/// allocator, but it is not lost either: a leak check counts it apart (see
/// [`bytes_in_use`]).
pub fn frames_held() -> usize {
    HEAP.frames.load(Ordering::Relaxed)
}

fn class_of(layout: &Layout) -> Option<usize> {
    let size = layout.size().max(layout.align());
    CLASSES.iter().position(|&class| class >= size)
}

fn order_of(layout: &Layout) -> u32 {
    let pages = layout.size().max(layout.align()).div_ceil(PAGE_SIZE);
    pages.next_power_of_two().trailing_zeros()
}

fn frame_addr(pfn: usize) -> usize {
    phys_to_virt((pfn * PAGE_SIZE) as u64) as usize
}

impl Heap {
    fn source(&self) -> Option<&'static dyn FrameSource> {
        self.source.get().copied()
    }

    fn alloc_small(&self, class: usize) -> *mut u8 {
        x86_64::instructions::interrupts::without_interrupts(|| {
            let mut free = self.free.lock();
            if free[class] == 0 {
                let Some(pfn) = self.source().and_then(|s| s.alloc_frames(0)) else {
                    return null_mut();
                };
                self.frames.fetch_add(1, Ordering::Relaxed);
                let base = frame_addr(pfn);
                let size = CLASSES[class];
                // Thread the fresh frame's blocks into the free list, last block first.
                for block in (0..PAGE_SIZE / size).rev() {
                    let addr = base + block * size;
                    // SAFETY: addr lies in a frame the page allocator just gave us, mapped in the
                    // direct map, 16-byte aligned and at least 16 bytes long.
                    unsafe { (addr as *mut usize).write(free[class]) };
                    free[class] = addr;
                }
            }
            let block = free[class];
            // SAFETY: block is the head of this class's free list: a free block whose first
            // word holds the next free block (written on refill or free).
            free[class] = unsafe { (block as *const usize).read() };
            block as *mut u8
        })
    }

    fn free_small(&self, class: usize, ptr: *mut u8) {
        x86_64::instructions::interrupts::without_interrupts(|| {
            let mut free = self.free.lock();
            // SAFETY: ptr is a block of this class being returned by its owner, so it is ours to
            // reuse; it is at least 16 bytes and aligned for a usize.
            unsafe { (ptr as *mut usize).write(free[class]) };
            free[class] = ptr as usize;
        });
    }
}

// SAFETY: blocks come from distinct frames or distinct offsets of one frame, are handed out
// once until freed, and satisfy the layout's size and alignment (see the module doc).
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = match class_of(&layout) {
            Some(class) => HEAP.alloc_small(class),
            None => match HEAP
                .source()
                .and_then(|s| s.alloc_frames(order_of(&layout)))
            {
                Some(pfn) => {
                    HEAP.frames
                        .fetch_add(1 << order_of(&layout), Ordering::Relaxed);
                    frame_addr(pfn) as *mut u8
                }
                None => null_mut(),
            },
        };
        if !ptr.is_null() {
            HEAP.in_use.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.in_use.fetch_sub(layout.size(), Ordering::Relaxed);
        match class_of(&layout) {
            Some(class) => HEAP.free_small(class, ptr),
            None => {
                let pfn = (ptr as u64 - PHYS_OFFSET) as usize / PAGE_SIZE;
                if let Some(source) = HEAP.source() {
                    source.free_frames(pfn, order_of(&layout));
                    HEAP.frames
                        .fetch_sub(1 << order_of(&layout), Ordering::Relaxed);
                }
            }
        }
    }
}
