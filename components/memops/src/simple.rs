//! Variant `simple`: plain Rust loops moving one 8-byte word at a time with unaligned u64 loads
//! and stores (on x86 an unaligned `mov` costs the same as an aligned one), then a byte loop for
//! the < 8 byte tail. No assembly: this is the version to read first, and the "before" that the
//! `erms` variant is measured against.
//!
//! Every function here is `#[inline(never)]`: inlined into a crate without `#![no_builtins]`,
//! LLVM would turn these loops into calls to `memset`/`memcpy` (see the crate root).

use core::ptr::{read_unaligned, write_unaligned};

pub use crate::compare::{bcmp, memcmp};

/// This variant's name, as reported by the crate-root `VARIANT`.
pub const NAME: &str = "simple";

/// Copies `n` bytes from `src` to `dst`; the regions must not overlap. Returns `dst`.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of `n` bytes (any alignment), and the two
/// regions must not overlap.
#[inline(never)]
pub unsafe fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract is a superset of copy_forward's (non-overlapping regions
    // are in particular "dst not above an overlapping src").
    unsafe { copy_forward(dst, src, n) };
    dst
}

/// Copies `n` bytes from `src` to `dst`; the regions may overlap. Returns `dst`.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of `n` bytes (any alignment).
#[inline(never)]
pub unsafe fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let (d, s) = (dst as usize, src as usize);
    if d <= s || d >= s + n {
        // SAFETY: dst is below src or past its end, which is copy_forward's contract; the
        // caller vouched for both regions.
        unsafe { copy_forward(dst, src, n) };
    } else {
        // SAFETY: dst overlaps src from above, which is copy_backward's contract; the caller
        // vouched for both regions.
        unsafe { copy_backward(dst, src, n) };
    }
    dst
}

/// Fills `n` bytes at `s` with the low byte of `c` (C passes the byte as an `int`). Returns `s`.
///
/// # Safety
/// `s` must be valid for writes of `n` bytes (any alignment).
#[inline(never)]
pub unsafe fn memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
    let byte = c as u8;
    let word = u64::from_ne_bytes([byte; 8]);
    let mut i = 0;
    while n - i >= 8 {
        // SAFETY: i + 8 <= n, inside the caller's region; unaligned store.
        unsafe { write_unaligned(s.add(i).cast::<u64>(), word) };
        i += 8;
    }
    while i < n {
        // SAFETY: i < n, inside the caller's region.
        unsafe { *s.add(i) = byte };
        i += 1;
    }
    s
}

/// Zeroes the 4096 bytes at `p` with 512 u64 stores.
///
/// # Safety
/// `p` must be valid for writes of 4096 bytes. Pages are 4096-aligned in practice, but the
/// stores are unaligned-tolerant so no alignment is required.
#[inline(never)]
pub unsafe fn zero_page(p: *mut u8) {
    for i in 0..crate::PAGE_SIZE / 8 {
        // SAFETY: i < 512, so word i lies inside the 4096 bytes the caller vouched for.
        unsafe { write_unaligned(p.cast::<u64>().add(i), 0) };
    }
}

/// Copies the 4096 bytes at `src` to `dst` with 512 u64 loads and stores.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of 4096 bytes, not overlapping. No
/// alignment is required.
#[inline(never)]
pub unsafe fn copy_page(dst: *mut u8, src: *const u8) {
    for i in 0..crate::PAGE_SIZE / 8 {
        // SAFETY: i < 512, so word i lies inside both 4096-byte regions the caller vouched for.
        unsafe {
            let word = read_unaligned(src.cast::<u64>().add(i));
            write_unaligned(dst.cast::<u64>().add(i), word);
        }
    }
}

/// Copies `n` bytes upwards from the lowest address: words first, then the byte tail.
///
/// # Safety
/// `src` valid for reads and `dst` for writes of `n` bytes, and `dst` must not overlap `src`
/// from above (`dst <= src`, or the regions disjoint): every word is loaded before it is stored,
/// so a destination below its source never clobbers bytes still to be read.
unsafe fn copy_forward(dst: *mut u8, src: *const u8, n: usize) {
    let mut i = 0;
    while n - i >= 8 {
        // SAFETY: i + 8 <= n, inside both regions; unaligned accesses.
        unsafe {
            let word = read_unaligned(src.add(i).cast::<u64>());
            write_unaligned(dst.add(i).cast::<u64>(), word);
        }
        i += 8;
    }
    while i < n {
        // SAFETY: i < n, inside both regions.
        unsafe { *dst.add(i) = *src.add(i) };
        i += 1;
    }
}

/// Copies `n` bytes downwards from the highest address: words from the top first, then the
/// byte tail at the bottom, so a destination above an overlapping source only overwrites
/// source bytes that have already been read.
///
/// # Safety
/// `src` valid for reads and `dst` for writes of `n` bytes (any overlap allowed, meant for
/// `dst > src`).
unsafe fn copy_backward(dst: *mut u8, src: *const u8, n: usize) {
    let mut i = n;
    while i >= 8 {
        i -= 8;
        // SAFETY: i + 8 <= n, inside both regions; unaligned accesses.
        unsafe {
            let word = read_unaligned(src.add(i).cast::<u64>());
            write_unaligned(dst.add(i).cast::<u64>(), word);
        }
    }
    while i > 0 {
        i -= 1;
        // SAFETY: i < n, inside both regions.
        unsafe { *dst.add(i) = *src.add(i) };
    }
}
