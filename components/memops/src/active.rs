//! The active variant: `erms` when its feature is on, else `simple` (see the crate docs). The
//! safe page wrappers and `VARIANT` at the crate root, and (with `c-abi`) the exported C
//! symbols, all resolve to it here.

#[cfg(feature = "c-abi")]
mod c_abi;

#[cfg(not(feature = "erms"))]
use crate::simple as variant;

#[cfg(feature = "erms")]
use crate::erms as variant;

use crate::PAGE_SIZE;

/// Name of the variant this build resolves to: `"simple"` or `"erms"`.
pub const VARIANT: &str = variant::NAME;

/// Zeroes one page with the enabled variant.
pub fn zero_page(page: &mut [u8; PAGE_SIZE]) {
    // SAFETY: the exclusive borrow makes all 4096 bytes valid for writes; the variants need no
    // alignment.
    unsafe { variant::zero_page(page.as_mut_ptr()) }
}

/// Copies one page from `src` to `dst` with the enabled variant.
pub fn copy_page(dst: &mut [u8; PAGE_SIZE], src: &[u8; PAGE_SIZE]) {
    // SAFETY: both borrows cover 4096 valid bytes, and a `&mut` cannot alias a live `&`, so the
    // regions do not overlap; the variants need no alignment.
    unsafe { variant::copy_page(dst.as_mut_ptr(), src.as_ptr()) }
}
