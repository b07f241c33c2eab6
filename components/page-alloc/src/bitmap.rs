//! Variant `bitmap`: one bit per frame and a linear search for a free, aligned run.
//!
//! The "before" of config key `page-alloc`: Kevlar's blog post "Beating Linux: Syscall
//! Performance in a Rust Kernel" calls its own bitmap allocator a placeholder, blames part of
//! its `mmap_fault` gap on it and names a buddy allocator as the replacement. Easy to read and
//! obviously correct, but `alloc` scans words, so it slows down as memory fills up. A next-fit
//! hint (the word of the last allocation) keeps a stream of single-page allocations from
//! rescanning the full prefix.
//!
//! `meta` holds three bitmaps of equal length:
//! - `free`: the frame can be handed out. The search reads only this map.
//! - `used`: the frame is allocated. A frame in neither map is reserved (never added).
//! - `head`: the frame is the first of an allocated block. `free()` needs it, together with
//!   `used`, to tell a block's true order from a wrong one without storing orders.
//!
//! Bit `i` stands for frame `origin + i`, where `origin` is `base` rounded down to
//! 2^`MAX_ORDER`. Natural alignment in frame numbers is then alignment in bit positions: a block
//! below order 6 never straddles two words, and a larger block is a run of whole words.

use crate::{AllocError, PageAllocator, Pfn};

/// Frames in the largest block; `origin` is aligned to it.
const SPAN: usize = 1 << BitmapAllocator::MAX_ORDER;

/// Bitmap page allocator; see the module documentation.
pub struct BitmapAllocator {
    free: &'static mut [u64],
    used: &'static mut [u64],
    head: &'static mut [u64],
    /// Frame number of bit 0.
    origin: Pfn,
    /// Managed frames are [base, end).
    base: Pfn,
    end: Pfn,
    /// Word where the next search starts.
    hint: usize,
    free_pages: usize,
    total_pages: usize,
}

/// Words in each of the three bitmaps.
fn map_words(pages: usize) -> usize {
    pages.saturating_add(SPAN - 1).div_ceil(64)
}

/// `(word, mask)` pairs covering bits [start, start + len).
fn masks(start: usize, len: usize) -> impl Iterator<Item = (usize, u64)> {
    let end = start + len;
    (start / 64..end.div_ceil(64)).map(move |w| {
        let lo = start.max(w * 64) - w * 64;
        let hi = end.min(w * 64 + 64) - w * 64;
        (w, (u64::MAX << lo) & (u64::MAX >> (64 - hi)))
    })
}

/// Bit `i` of the result is set iff bits `i..i + 2^order` of `w` are all set and `i` is a
/// multiple of 2^order. Only for order < 6 (the run fits in the word).
fn run_starts(w: u64, order: u32) -> u64 {
    let mut runs = w;
    for step in 0..order {
        // Before: runs of 2^step set bits start here; after: runs of 2^(step+1).
        runs &= runs >> (1 << step);
    }
    // One set bit every 2^order positions: 0b1111.., 0b0101.., 0b0001_0001.., ...
    runs & (u64::MAX / (u64::MAX >> (64 - (1 << order))))
}

fn test(map: &[u64], bit: usize) -> bool {
    map.get(bit / 64)
        .is_some_and(|w| w & (1 << (bit % 64)) != 0)
}

fn all_set(map: &[u64], start: usize, len: usize) -> bool {
    masks(start, len).all(|(w, m)| map[w] & m == m)
}

fn any_set(map: &[u64], start: usize, len: usize) -> bool {
    masks(start, len).any(|(w, m)| map[w] & m != 0)
}

fn assign(map: &mut [u64], start: usize, len: usize, value: bool) {
    for (w, m) in masks(start, len) {
        map[w] = if value { map[w] | m } else { map[w] & !m };
    }
}

impl BitmapAllocator {
    /// Numbers of the `step`-word groups to search, from the hint's group to the end and then
    /// from 0 (next fit). A block of order >= 6 is one group of `step` = 2^(order-6) words;
    /// smaller blocks search single words. A trailing partial group is skipped because bits
    /// past `end` are never free.
    fn groups(&self, step: usize) -> impl Iterator<Item = usize> + use<> {
        let groups = self.free.len() / step;
        let first = (self.hint / step).min(groups);
        (first..groups).chain(0..first)
    }

    /// Is `bit` allocated but not the first frame of its block?
    fn is_tail(&self, bit: usize) -> bool {
        test(self.used, bit) && !test(self.head, bit)
    }

    /// First bit of a free aligned run of 2^order frames, searching from the hint.
    fn find(&self, order: u32) -> Option<usize> {
        if order < 6 {
            self.groups(1).find_map(|w| {
                let runs = run_starts(self.free[w], order);
                (runs != 0).then(|| w * 64 + runs.trailing_zeros() as usize)
            })
        } else {
            let step = 1 << (order - 6);
            self.groups(step)
                .find(|g| self.free[g * step..][..step].iter().all(|&w| w == u64::MAX))
                .map(|g| g * step * 64)
        }
    }
}

impl PageAllocator for BitmapAllocator {
    const NAME: &'static str = "bitmap";
    const MAX_ORDER: u32 = 10;

    fn metadata_words(pages: usize) -> usize {
        map_words(pages).saturating_mul(3)
    }

    fn new(meta: &'static mut [u64], base: Pfn, pages: usize) -> Self {
        let words = map_words(pages);
        assert!(meta.len() >= 3 * words, "bitmap: metadata array too small");
        let (free, rest) = meta.split_at_mut(words);
        let (used, rest) = rest.split_at_mut(words);
        let head = &mut rest[..words];
        for map in [&mut *free, &mut *used, &mut *head] {
            map.fill(0);
        }
        BitmapAllocator {
            free,
            used,
            head,
            origin: base & !(SPAN - 1),
            base,
            end: base.saturating_add(pages),
            hint: 0,
            free_pages: 0,
            total_pages: 0,
        }
    }

    fn add_free_range(&mut self, start: Pfn, count: usize) {
        let first = start.max(self.base);
        let end = start.saturating_add(count).min(self.end);
        if first >= end {
            return;
        }
        let mut added = 0;
        for (w, m) in masks(first - self.origin, end - first) {
            // Only reserved frames become free; free or allocated ones are already usable.
            let newly = m & !self.free[w] & !self.used[w];
            self.free[w] |= newly;
            added += newly.count_ones() as usize;
        }
        self.free_pages += added;
        self.total_pages += added;
    }

    fn alloc(&mut self, order: u32) -> Result<Pfn, AllocError> {
        if order > Self::MAX_ORDER {
            return Err(AllocError::InvalidOrder);
        }
        let bit = self.find(order).ok_or(AllocError::NoMemory)?;
        let len = 1 << order;
        assign(self.free, bit, len, false);
        assign(self.used, bit, len, true);
        assign(self.head, bit, 1, true);
        self.hint = bit / 64;
        self.free_pages -= len;
        Ok(self.origin + bit)
    }

    fn free(&mut self, pfn: Pfn, order: u32) -> Result<(), AllocError> {
        if order > Self::MAX_ORDER {
            return Err(AllocError::InvalidOrder);
        }
        let len = 1 << order;
        let in_range = pfn >= self.base && pfn.checked_add(len).is_some_and(|e| e <= self.end);
        if !in_range || !pfn.is_multiple_of(len) {
            return Err(AllocError::InvalidFree);
        }
        let bit = pfn - self.origin;
        // The block [bit, bit + len) was allocated with this order iff it is all used, starts
        // at a head, contains no other head (else order too big), and the frame after it is
        // not the inside of an allocated block (else order too small).
        let is_block = all_set(self.used, bit, len)
            && test(self.head, bit)
            && !any_set(self.head, bit + 1, len - 1)
            && !self.is_tail(bit + len);
        if !is_block {
            return Err(AllocError::InvalidFree);
        }
        assign(self.used, bit, len, false);
        assign(self.head, bit, 1, false);
        assign(self.free, bit, len, true);
        self.free_pages += len;
        Ok(())
    }

    fn free_pages(&self) -> usize {
        self.free_pages
    }

    fn total_pages(&self) -> usize {
        self.total_pages
    }
}
