//! The physical page allocator: hands out naturally aligned blocks of 2^order contiguous frames.
//!
//! One trait, [`PageAllocator`], and two interchangeable variants, each behind a Cargo feature
//! of the same name:
//!
//! | Variant  | Type                         | Idea                                                  |
//! |----------|------------------------------|-------------------------------------------------------|
//! | `bitmap` | [`bitmap::BitmapAllocator`]  | one bit per frame, linear search from a next-fit hint |
//! | `buddy`  | [`buddy::BuddyAllocator`]    | per-order free lists, split on alloc, merge on free   |
//!
//! The allocator never reads or writes the frames it manages (the kernel zeroes pages itself):
//! all its state lives in a caller-provided `&'static mut [u64]` metadata array, sized with
//! [`PageAllocator::metadata_words`]. That keeps the crate free of `unsafe` and usable before
//! the kernel has any heap.
//!
//! Frames start reserved; [`PageAllocator::add_free_range`] makes them usable (typically once per
//! usable region of the boot memory map). Alignment is absolute: a block of order `k` starts at a
//! frame number that is a multiple of 2^k, whatever the managed range's base.
//!
//! | Operation             | `bitmap`                            | `buddy`                      |
//! |-----------------------|-------------------------------------|------------------------------|
//! | `alloc(order)`        | O(frames / 64) worst case word scan | O(`MAX_ORDER`)               |
//! | `free(pfn, order)`    | O(2^order / 64)                     | O(`MAX_ORDER`)               |
//! | `add_free_range`      | O(count / 64)                       | O(count), amortised          |
//! | `free_pages`, `total` | O(1)                                | O(1)                         |
//! | metadata              | 3 bits per frame + about 48 words   | 9 bytes per frame            |
//!
//! # Policies for user frames
//!
//! Two more config keys choose what the kernel does with the frames it hands to user space:
//! each is one trait and two unit types, always compiled (they are a few constants), of which
//! the kernel's `variants.rs` names one.
//!
//! | Key            | Trait           | Variants                          |
//! |----------------|-----------------|-----------------------------------|
//! | `page-zero`    | [`PageZero`]    | [`ZeroOnce`], [`ZeroTwice`]       |
//! | `file-private` | [`FilePrivate`] | [`PrivateCopy`], [`PrivateShare`] |
//!
//! # Adding a variant
//! 1. Write `src/<name>.rs` with a type implementing [`PageAllocator`] (no `unsafe`, state only
//!    in `meta`, `alloc` never panics, `free` rejects bad blocks without changing state).
//! 2. Add a `<name> = []` feature (documented) to `Cargo.toml` and to `default`, and a
//!    `#[cfg(feature = "<name>")] pub mod <name>;` line below.
//! 3. Add one line to the `variant_suite!` invocation in `src/testsuite/mod.rs`: the shared
//!    unit and property tests then run against it.
//! 4. Add it to the variant list in `benches/page_alloc.rs`.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

#[cfg(feature = "bitmap")]
pub mod bitmap;
#[cfg(feature = "buddy")]
pub mod buddy;
mod file_private;
#[cfg(test)]
mod testsuite;
mod zero;

pub use file_private::{FileFrame, FilePrivate, PrivateCopy, PrivateShare};
pub use zero::{PageZero, ZeroOnce, ZeroTwice};

/// A physical frame number (physical address >> 12).
pub type Pfn = usize;

/// Why an allocator operation failed. Failing operations leave the allocator unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// No free block of the requested order.
    NoMemory,
    /// order > MAX_ORDER (returned by both `alloc` and `free`).
    InvalidOrder,
    /// free() of a block that is not allocated with that order, out of range, or misaligned
    InvalidFree,
}

/// A physical page allocator over one contiguous range of frame numbers.
pub trait PageAllocator: Send {
    /// Variant name shown in the kernel's boot banner ("bitmap", "buddy").
    const NAME: &'static str;
    /// Largest supported order (a block of 2^order pages). 10 (4 MiB) for both variants.
    const MAX_ORDER: u32;

    /// Number of u64 words of metadata needed to manage `pages` frames, whatever the base.
    fn metadata_words(pages: usize) -> usize;

    /// Manage frames [base, base + pages). All frames start UNAVAILABLE (reserved) until added.
    ///
    /// `meta.len() >= metadata_words(pages)`; contents on entry are arbitrary.
    ///
    /// # Panics
    /// If `meta` is shorter than `metadata_words(pages)`: a boot-time sizing bug.
    fn new(meta: &'static mut [u64], base: Pfn, pages: usize) -> Self;

    /// Make frames [start, start+count) available.
    ///
    /// Ranges may be unaligned and arbitrary; the buddy variant coalesces them into maximal
    /// aligned blocks. Parts outside the managed range are ignored, and so are frames that are
    /// already available or allocated (adding twice does not count a frame twice).
    fn add_free_range(&mut self, start: Pfn, count: usize);

    /// Allocate 2^order contiguous frames, NATURALLY ALIGNED (pfn % 2^order == 0). Never panics.
    fn alloc(&mut self, order: u32) -> Result<Pfn, AllocError>;

    /// Return a block obtained from `alloc(order)`.
    ///
    /// Detects double free, wrong order and foreign or misaligned pfns and returns
    /// [`AllocError::InvalidFree`] without corrupting state; an order above `MAX_ORDER` gives
    /// [`AllocError::InvalidOrder`].
    fn free(&mut self, pfn: Pfn, order: u32) -> Result<(), AllocError>;

    /// Frames currently available for allocation.
    fn free_pages(&self) -> usize;

    /// Frames added as usable (free or allocated), i.e. everything but reserved frames.
    fn total_pages(&self) -> usize;
}
