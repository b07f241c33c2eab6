//! `memcmp` and `bcmp`, shared by every variant: x86 has no fast `rep cmps` (it is microcoded
//! byte by byte even with ERMS), so the best portable choice is the same 8-byte word loop
//! everywhere, and keeping one copy means the variants cannot drift apart. `#[inline(never)]`
//! keeps the loops compiled under this crate's `#![no_builtins]` (see the crate root).

use core::ptr::read_unaligned;

/// Compares `n` bytes at `a` and `b` like C's `memcmp`: negative, zero or positive as the first
/// differing byte, taken as unsigned, is smaller in `a`, absent, or larger in `a`.
///
/// # Safety
/// `a` and `b` must each be valid for reads of `n` bytes (any alignment).
#[inline(never)]
pub unsafe fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while n - i >= 8 {
        // SAFETY: i + 8 <= n, so both 8-byte reads are inside the regions the caller vouched
        // for; read_unaligned has no alignment requirement.
        let (x, y) = unsafe {
            (
                read_unaligned(a.add(i).cast::<[u8; 8]>()),
                read_unaligned(b.add(i).cast::<[u8; 8]>()),
            )
        };
        if x != y {
            // Read big-endian, the byte at the lowest address is the most significant, so the
            // integer order of the words is the order of their first differing byte.
            return if u64::from_be_bytes(x) < u64::from_be_bytes(y) {
                -1
            } else {
                1
            };
        }
        i += 8;
    }
    while i < n {
        // SAFETY: i < n, inside both regions.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// Compares `n` bytes at `a` and `b` for equality only: zero iff they are all equal, nonzero
/// otherwise (without memcmp's ordering, so there is no byte swap on a mismatch).
///
/// # Safety
/// `a` and `b` must each be valid for reads of `n` bytes (any alignment).
#[inline(never)]
pub unsafe fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while n - i >= 8 {
        // SAFETY: i + 8 <= n, so both 8-byte reads are inside the caller's regions; unaligned
        // reads have no alignment requirement.
        let (x, y) = unsafe {
            (
                read_unaligned(a.add(i).cast::<u64>()),
                read_unaligned(b.add(i).cast::<u64>()),
            )
        };
        if x != y {
            return 1;
        }
        i += 8;
    }
    while i < n {
        // SAFETY: i < n, inside both regions.
        if unsafe { *a.add(i) != *b.add(i) } {
            return 1;
        }
        i += 1;
    }
    0
}
