//! The C symbols the compiler emits calls to, forwarding to the enabled variant. They are
//! strong definitions, so at link time they override the weak ones in compiler_builtins.
//! Only the kernel enables `c-abi`: in a hosted binary they would replace libc's.

use super::variant;

/// C `memcpy`.
///
/// # Safety
/// C's contract: `src` readable and `dst` writable for `n` bytes, not overlapping.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract is the variant's memcpy contract.
    unsafe { variant::memcpy(dst, src, n) }
}

/// C `memmove`.
///
/// # Safety
/// C's contract: `src` readable and `dst` writable for `n` bytes; they may overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract is the variant's memmove contract.
    unsafe { variant::memmove(dst, src, n) }
}

/// C `memset`.
///
/// # Safety
/// C's contract: `s` writable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract is the variant's memset contract.
    unsafe { variant::memset(s, c, n) }
}

/// C `memcmp`.
///
/// # Safety
/// C's contract: `a` and `b` readable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract is the variant's memcmp contract.
    unsafe { variant::memcmp(a, b, n) }
}

/// C `bcmp` (LLVM emits it for equality-only comparisons such as `==` on byte slices).
///
/// # Safety
/// C's contract: `a` and `b` readable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract is the variant's bcmp contract.
    unsafe { variant::bcmp(a, b, n) }
}
