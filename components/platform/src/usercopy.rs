//! Copies between kernel memory and user memory, the only way the kernel touches user pages.
//!
//! Each copy first checks that the whole user range lies in the user half (so no user pointer
//! can reach kernel memory), then runs `rep movsq`/`rep stosq` for the 8-byte part and
//! `rep movsb`/`rep stosb` for the tail between STAC/CLAC (SMAP allows user access only
//! there). The 8-byte moves matter under `-icount`, which counts a `rep` instruction once per
//! iteration: a 4 KiB copy is 512 counted instructions instead of 4096. A page fault inside the copy is offered to the kernel
//! ([`Hooks::user_page_fault_in_kernel`](crate::usermode::Hooks)): demand paging or
//! copy-on-write resolves it and the copy resumes where it stopped (`rep` instructions are
//! restartable); otherwise the fault handler moves RIP to the copy's fixup, which returns the
//! number of bytes not copied, and the caller gets [`Fault`] (the syscall returns EFAULT).

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::vm::USER_END;

/// A user address that is not mapped or not accessible: the syscall's EFAULT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault;

/// Whether the copy routines execute STAC/CLAC (only when the CPU has SMAP).
#[unsafe(no_mangle)]
static USERCOPY_SMAP: AtomicBool = AtomicBool::new(false);

global_asm!(
    r#"
    .section .text.usercopy, "ax"
    .global usercopy_start, usercopy_end, usercopy_qword_fault, usercopy_fixup_qword, usercopy_fixup_byte
    /* u64 copy_user(dst, src, len) -> bytes not copied: 8-byte moves, then the tail */
usercopy_start:
copy_user:
    mov %rdx, %rcx
    shr $3, %rcx
    and $7, %edx
    cmpb $0, USERCOPY_SMAP(%rip)
    je 1f
    stac
1:
usercopy_movsq:
    rep movsq
    mov %edx, %ecx
    rep movsb
    jmp usercopy_done
    /* u64 fill_user(dst, byte, len) -> bytes not written */
fill_user:
    mov %rdx, %rcx
    shr $3, %rcx
    and $7, %edx
    movzbl %sil, %eax
    movabs $0x0101010101010101, %r8
    imul %r8, %rax
    cmpb $0, USERCOPY_SMAP(%rip)
    je 1f
    stac
1:
usercopy_stosq:
    rep stosq
    mov %edx, %ecx
    rep stosb
usercopy_done:
    cmpb $0, USERCOPY_SMAP(%rip)
    je 1f
    clac
1:
    mov %rcx, %rax
    ret
usercopy_end:
    /* A fault in the 8-byte part: rcx qwords and rdx tail bytes were left. */
usercopy_fixup_qword:
    lea (%rdx, %rcx, 8), %rcx
    jmp usercopy_done
    /* A fault in the byte tail: rcx bytes were left. */
usercopy_fixup_byte:
    jmp usercopy_done
usercopy_qword_fault:
    .quad usercopy_movsq, usercopy_stosq
"#,
    options(att_syntax)
);

unsafe extern "C" {
    fn copy_user(dst: *mut u8, src: *const u8, len: usize) -> usize;
    fn fill_user(dst: *mut u8, byte: u32, len: usize) -> usize;
    static usercopy_start: u8;
    static usercopy_end: u8;
    static usercopy_fixup_qword: u8;
    static usercopy_fixup_byte: u8;
    /// Addresses of the two `rep movsq`/`rep stosq` instructions.
    static usercopy_qword_fault: [u64; 2];
}

pub(crate) fn init(smap: bool) {
    USERCOPY_SMAP.store(smap, Ordering::Relaxed);
}

/// If `rip` is inside a copy routine, where the fault handler resumes on an unresolved fault
/// (the fixup that turns the registers into the count of bytes left).
pub(crate) fn fixup_for(rip: u64) -> Option<u64> {
    let start = core::ptr::addr_of!(usercopy_start) as u64;
    let end = core::ptr::addr_of!(usercopy_end) as u64;
    if !(start..end).contains(&rip) {
        return None;
    }
    // SAFETY: a read-only table of two addresses defined in the asm above.
    let qword = unsafe { usercopy_qword_fault };
    Some(if qword.contains(&rip) {
        core::ptr::addr_of!(usercopy_fixup_qword) as u64
    } else {
        core::ptr::addr_of!(usercopy_fixup_byte) as u64
    })
}

fn check_range(addr: u64, len: usize) -> Result<(), Fault> {
    match addr.checked_add(len as u64) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(Fault),
    }
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), Fault> {
    check_range(src, dst.len())?;
    // SAFETY: `src..src+len` is in the user half (checked), so the copy cannot read kernel
    // memory; faults on it are fixed up (module doc); `dst` is a valid kernel buffer.
    let left = unsafe { copy_user(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    if left == 0 { Ok(()) } else { Err(Fault) }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), Fault> {
    check_range(dst, src.len())?;
    // SAFETY: as in copy_from_user, with the roles swapped: only user memory is written.
    let left = unsafe { copy_user(dst as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 { Ok(()) } else { Err(Fault) }
}

/// Sets `len` bytes at user address `dst` to `byte`.
pub fn fill_user_bytes(dst: u64, byte: u8, len: usize) -> Result<(), Fault> {
    check_range(dst, len)?;
    // SAFETY: only user memory is written, faults are fixed up.
    let left = unsafe { fill_user(dst as *mut u8, u32::from(byte), len) };
    if left == 0 { Ok(()) } else { Err(Fault) }
}

/// Reads a NUL-terminated string from user address `src` into `buf`; returns its length
/// (without the NUL). `Ok(None)` if no NUL within `buf.len()` bytes.
pub fn read_user_cstr(src: u64, buf: &mut [u8]) -> Result<Option<usize>, Fault> {
    let mut done = 0;
    while done < buf.len() {
        // Copy up to the end of the page: the rest of a mapped page is readable.
        let addr = src.checked_add(done as u64).ok_or(Fault)?;
        let chunk = ((4096 - (addr % 4096)) as usize).min(buf.len() - done);
        copy_from_user(&mut buf[done..done + chunk], addr)?;
        if let Some(nul) = buf[done..done + chunk].iter().position(|&b| b == 0) {
            return Ok(Some(done + nul));
        }
        done += chunk;
    }
    Ok(None)
}
