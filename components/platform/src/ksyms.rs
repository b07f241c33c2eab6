//! The kernel's own symbol table, for symbolized backtraces.
//!
//! The linker reserves the `.ksyms` section (last in the image, so its contents move nothing);
//! after linking, `cargo xtask build` writes the sorted function symbols into it. Layout
//! (little-endian): magic `TSYM`, u32 count, u32 offset of the string table, then `count`
//! entries of {u64 address, u64 size, u32 name offset, u32 name length}, then the names
//! (demangled, without hashes). A kernel whose table was never written reports bare addresses.

use core::arch::global_asm;

/// Bytes reserved for the table: the build tool fails if the table does not fit.
pub const CAPACITY: usize = 2 * 1024 * 1024;

global_asm!(
    r#"
    .section .ksyms, "a"
    .p2align 12
    .global __ksyms
__ksyms:
    .skip 2 * 1024 * 1024
"#,
    options(att_syntax)
);

unsafe extern "C" {
    /// An extern static: the compiler cannot assume its contents (they are written after
    /// linking), so every read really reads the image.
    static __ksyms: [u8; CAPACITY];
}

fn table() -> &'static [u8] {
    // SAFETY: __ksyms is CAPACITY bytes of read-only data in the kernel image; nothing writes
    // it at run time.
    unsafe { &__ksyms }
}

fn u32_at(table: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        table.get(offset..offset + 4)?.try_into().ok()?,
    ))
}

fn u64_at(table: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        table.get(offset..offset + 8)?.try_into().ok()?,
    ))
}

const ENTRY: usize = 24;

/// The function containing `addr` and the offset into it.
pub fn lookup(addr: u64) -> Option<(&'static str, u64)> {
    let table = table();
    if table.get(..4)? != b"TSYM" {
        return None;
    }
    let count = u32_at(table, 4)? as usize;
    let strings = u32_at(table, 8)? as usize;
    let entry_addr = |i: usize| u64_at(table, 12 + i * ENTRY);
    // Binary search for the last symbol starting at or below addr.
    let (mut lo, mut hi) = (0, count);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if entry_addr(mid)? <= addr {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let i = lo.checked_sub(1)?;
    let base = 12 + i * ENTRY;
    let start = u64_at(table, base)?;
    let size = u64_at(table, base + 8)?;
    if addr >= start + size.max(1) {
        return None;
    }
    let name_off = strings + u32_at(table, base + 16)? as usize;
    let name_len = u32_at(table, base + 20)? as usize;
    let name = core::str::from_utf8(table.get(name_off..name_off + name_len)?).ok()?;
    Some((name, addr - start))
}
