//! Variant `buddy`: the classic binary buddy allocator.
//!
//! Free memory is a set of naturally aligned blocks, one free list per order. `alloc(k)` pops
//! the smallest free block of order >= k and splits it, pushing the unused halves back;
//! `free` merges a block with its buddy (the block at `pfn ^ 2^k`) for as long as the buddy is
//! free too. Everything is O(`MAX_ORDER`) because the free lists are doubly linked (so a buddy
//! can be unlinked from the middle of its list) and each frame carries a state byte (so
//! "is my buddy a free block of order k?" is one lookup).
//!
//! `meta` holds, for the managed frames indexed from `base` with u32 indices:
//! - `links[i]`: when frame `i` heads a free block, the next (low 32 bits) and previous
//!   (high 32 bits) heads in that order's list, `NIL` at the ends. Unused otherwise.
//! - `state`: one byte per frame, eight per word; see the constants below. Invariant: a frame
//!   that does not head a block is `TAIL` or `RESERVED`, so a stale order byte inside a
//!   bigger block can never make `free()` accept a wrong pfn.
//!
//! u32 indices cap one allocator at 2^32 - 1 frames (16 TiB); frames past that are treated
//! as outside the managed range.

use crate::{AllocError, PageAllocator, Pfn};

/// End of a free list.
const NIL: u32 = u32::MAX;
/// Frame never added: not part of any block.
const RESERVED: u8 = 0xFF;
/// Frame inside a block but not its first frame.
const TAIL: u8 = 0xFE;
/// `FREE | order`: first frame of a free block, linked in list `order`.
const FREE: u8 = 0x40;
/// `ALLOCATED | order`: first frame of a block handed out by `alloc(order)`.
const ALLOCATED: u8 = 0x80;

/// Frame indices are u32 and NIL is taken: at most 2^32 - 1 frames (16 TiB) per allocator;
/// frames past that are treated as outside the managed range.
const MAX_PAGES: usize = NIL as usize;

/// Largest order; a module constant because the free-list array's length needs it.
const MAX_ORDER: u32 = 10;
const ORDERS: usize = MAX_ORDER as usize + 1;

/// Binary buddy page allocator; see the module documentation.
pub struct BuddyAllocator {
    links: &'static mut [u64],
    state: &'static mut [u64],
    /// First block of each order's free list.
    heads: [u32; ORDERS],
    base: Pfn,
    pages: usize,
    free_pages: usize,
    total_pages: usize,
}

impl BuddyAllocator {
    fn state(&self, i: u32) -> u8 {
        (self.state[i as usize / 8] >> (i % 8 * 8)) as u8
    }

    fn set_state(&mut self, i: u32, s: u8) {
        let word = &mut self.state[i as usize / 8];
        let shift = i % 8 * 8;
        *word = (*word & !(0xFF << shift)) | (u64::from(s) << shift);
    }

    fn next(&self, i: u32) -> u32 {
        self.links[i as usize] as u32
    }

    fn prev(&self, i: u32) -> u32 {
        (self.links[i as usize] >> 32) as u32
    }

    fn set_links(&mut self, i: u32, next: u32, prev: u32) {
        self.links[i as usize] = u64::from(next) | (u64::from(prev) << 32);
    }

    /// Make frame `i` the head of a free block of `order` at the front of its list.
    fn push(&mut self, order: u32, i: u32) {
        let old = self.heads[order as usize];
        if old != NIL {
            self.set_links(old, self.next(old), i);
        }
        self.set_links(i, old, NIL);
        self.heads[order as usize] = i;
        self.set_state(i, FREE | order as u8);
    }

    /// Unlink the free block headed by `i` from list `order`. Its state is the caller's.
    fn unlink(&mut self, order: u32, i: u32) {
        let (next, prev) = (self.next(i), self.prev(i));
        if prev == NIL {
            self.heads[order as usize] = next;
        } else {
            self.set_links(prev, next, self.prev(prev));
        }
        if next != NIL {
            self.set_links(next, self.next(next), prev);
        }
    }

    /// Index of the buddy of block `i` of `order`, if it lies in the managed range.
    fn buddy(&self, i: u32, order: u32) -> Option<u32> {
        let pfn = (self.base + i as usize) ^ (1 << order);
        let b = pfn.checked_sub(self.base)?;
        (b < self.pages).then_some(b as u32)
    }

    /// Give the block `i` of `order` back to the free lists, merging with free buddies.
    fn release(&mut self, mut i: u32, mut order: u32) {
        while order < Self::MAX_ORDER {
            let Some(b) = self
                .buddy(i, order)
                .filter(|&b| self.state(b) == FREE | order as u8)
            else {
                break;
            };
            self.unlink(order, b);
            // The merged block starts at the lower of the two; the upper head becomes a tail.
            self.set_state(i.max(b), TAIL);
            i = i.min(b);
            order += 1;
        }
        self.push(order, i);
    }
}

impl PageAllocator for BuddyAllocator {
    const NAME: &'static str = "buddy";
    const MAX_ORDER: u32 = MAX_ORDER;

    fn metadata_words(pages: usize) -> usize {
        let pages = pages.min(MAX_PAGES);
        pages + pages.div_ceil(8)
    }

    fn new(meta: &'static mut [u64], base: Pfn, pages: usize) -> Self {
        let pages = pages.min(MAX_PAGES).min(usize::MAX - base);
        assert!(
            meta.len() >= Self::metadata_words(pages),
            "buddy: metadata array too small"
        );
        let (links, rest) = meta.split_at_mut(pages);
        let state = &mut rest[..pages.div_ceil(8)];
        // All bytes RESERVED. `links` needs no init: it is only read for free-block heads,
        // which `push` writes first.
        state.fill(u64::MAX);
        BuddyAllocator {
            links,
            state,
            heads: [NIL; ORDERS],
            base,
            pages,
            free_pages: 0,
            total_pages: 0,
        }
    }

    fn add_free_range(&mut self, start: Pfn, count: usize) {
        let end = start.saturating_add(count).min(self.base + self.pages);
        let (first, end) = (
            start.max(self.base) - self.base,
            end.saturating_sub(self.base),
        );
        // Frame by frame: each merge removes a free block that an earlier frame created, so
        // the merges over the whole range are at most one per frame and the total is O(count),
        // ending in the same maximal aligned blocks as a clever range decomposition.
        for i in first..end {
            let i = i as u32;
            if self.state(i) == RESERVED {
                self.total_pages += 1;
                self.free_pages += 1;
                self.release(i, 0);
            }
        }
    }

    fn alloc(&mut self, order: u32) -> Result<Pfn, AllocError> {
        if order > Self::MAX_ORDER {
            return Err(AllocError::InvalidOrder);
        }
        let mut have = (order..=Self::MAX_ORDER)
            .find(|&k| self.heads[k as usize] != NIL)
            .ok_or(AllocError::NoMemory)?;
        let i = self.heads[have as usize];
        self.unlink(have, i);
        while have > order {
            // Keep the lower half, free the upper one.
            have -= 1;
            self.push(have, i + (1 << have));
        }
        self.set_state(i, ALLOCATED | order as u8);
        self.free_pages -= 1 << order;
        Ok(self.base + i as usize)
    }

    fn free(&mut self, pfn: Pfn, order: u32) -> Result<(), AllocError> {
        if order > Self::MAX_ORDER {
            return Err(AllocError::InvalidOrder);
        }
        let i = match pfn.checked_sub(self.base) {
            Some(i) if i < self.pages && pfn.is_multiple_of(1 << order) => i as u32,
            _ => return Err(AllocError::InvalidFree),
        };
        // Only a block head carries an ALLOCATED byte (tails are TAIL), and it records the
        // order it was allocated with.
        if self.state(i) != ALLOCATED | order as u8 {
            return Err(AllocError::InvalidFree);
        }
        self.free_pages += 1 << order;
        self.release(i, order);
        Ok(())
    }

    fn free_pages(&self) -> usize {
        self.free_pages
    }

    fn total_pages(&self) -> usize {
        self.total_pages
    }
}
