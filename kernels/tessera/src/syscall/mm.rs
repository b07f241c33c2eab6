//! Memory syscalls: brk, mmap, munmap, mprotect, mremap, madvise.

use tessera_abi::fs::O_PATH;
use tessera_abi::mm::{
    LEGACY_MAP_MASK, MADV_COLLAPSE, MADV_DONTNEED, MADV_FREE, MADV_HWPOISON, MADV_NORMAL,
    MADV_SOFT_OFFLINE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED,
    MAP_SHARED_VALIDATE, MAP_TYPE, MREMAP_MAYMOVE, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP,
    PROT_READ, PROT_SEM, PROT_WRITE,
};
use tessera_abi::{Errno, KResult};
use tessera_platform::vm::USER_END;

use super::args::{Args, Decode};
use crate::fs::OpenFile;
use crate::fs::file::MapTarget;
use crate::mm::vm::{Backing, Prot, SharedAnon, with_current as with_vm};
use crate::process::current;

const PAGE: u64 = 4096;

/// `len` rounded up to whole pages (Linux's `PAGE_ALIGN`), if the range it makes from `addr`
/// ends below 2^64; `None` when the rounding or the end wraps (each call gives Linux's errno
/// for that: its `end <= start` and `len_in && !len` checks).
fn page_len(addr: u64, len: u64) -> Option<u64> {
    let len = len.checked_next_multiple_of(PAGE)?;
    addr.checked_add(len).map(|_| len)
}

/// The access bits of a `prot` word (the others are checked, or not, by each call).
fn access(prot: u64) -> Prot {
    Prot::from_bits_truncate((prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) as u32)
}

/// brk(unsigned long brk).
pub fn brk(a: &Args) -> KResult<isize> {
    with_vm(|vm| Ok(vm.set_brk(a.ulong(0)) as isize))
}

/// mmap(unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags,
/// unsigned long fd, unsigned long off) (`arch/x86/kernel/sys_x86_64.c`): the fd is
/// looked up as an `unsigned int`; `prot` bits beyond read, write and exec are ignored, as
/// Linux's `do_mmap` ignores them.
pub fn mmap(a: &Args) -> KResult<isize> {
    let (addr, len, prot, flags, fd, offset) = (
        a.ulong(0),
        a.ulong(1),
        access(a.ulong(2)),
        a.ulong(3),
        a.fd(4),
        a.ulong(5),
    );
    // Linux's order: the offset (x86's mmap), the fd (ksys_mmap_pgoff: EBADF before anything
    // about the mapping), then do_mmap's checks.
    if offset % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let file = if flags & MAP_ANONYMOUS == 0 {
        let file = current().files.lock().get(fd)?;
        // An O_PATH descriptor is no file to map (Linux's fget refuses it).
        if file.flags() & O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        Some(file)
    } else {
        None
    };
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    if len > (1 << 46) {
        return Err(Errno::ENOMEM);
    }
    let kind = flags & MAP_TYPE;
    let (shared, backing) = match &file {
        // Anonymous memory takes the two classic types only: MAP_SHARED_VALIDATE is EINVAL.
        None => match kind {
            MAP_SHARED => (
                true,
                Backing::SharedAnon {
                    pages: SharedAnon::new(),
                    offset: 0,
                    shm: None,
                },
            ),
            MAP_PRIVATE => (false, Backing::Anonymous),
            _ => return Err(Errno::EINVAL),
        },
        Some(file) => file_backing(file, kind, flags, prot, offset, len)?,
    };
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    with_vm(|vm| {
        if flags & MAP_FIXED_NOREPLACE != 0 && vm.find(addr).is_some() {
            return Err(Errno::EEXIST);
        }
        Ok(vm.map(addr, len, prot, shared, backing, fixed)? as isize)
    })
}

/// The file checks of Linux's `do_mmap`, in its order: whether the mapping is shared and
/// what backs it.
fn file_backing(
    file: &OpenFile,
    kind: u64,
    flags: u64,
    prot: Prot,
    offset: u64,
    len: u64,
) -> KResult<(bool, Backing)> {
    // Linux (file_mmap_ok): no page of a file mapping may lie past the largest file offset
    // (MAX_LFS_FILESIZE), which also keeps offset arithmetic from wrapping.
    if offset
        .checked_add(len)
        .is_none_or(|end| end > tessera_abi::fs::MAX_FILE_OFFSET)
    {
        return Err(Errno::EOVERFLOW);
    }
    let shared = match kind {
        MAP_SHARED | MAP_SHARED_VALIDATE => {
            // MAP_SHARED ignores flags it does not know (old programs pass any bits);
            // MAP_SHARED_VALIDATE refuses them. No file here supports a flag beyond the
            // legacy ones (MAP_SYNC is for DAX files), so the legacy mask is the whole list.
            if kind == MAP_SHARED_VALIDATE && flags & !LEGACY_MAP_MASK != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            if prot.contains(Prot::WRITE) && !file.writable() {
                return Err(Errno::EACCES);
            }
            true
        }
        MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    if !file.readable() {
        return Err(Errno::EACCES);
    }
    let backing = match file.ops.mmap()? {
        MapTarget::File(inode) => Backing::File {
            inode,
            offset,
            limit: u64::MAX,
            name: file.ops.dentry().ok_or(Errno::ENODEV)?,
        },
        MapTarget::Zeroes if shared => Backing::SharedAnon {
            pages: SharedAnon::new(),
            offset: 0,
            shm: None,
        },
        MapTarget::Zeroes => Backing::Anonymous,
    };
    Ok((shared, backing))
}

/// munmap(unsigned long addr, size_t len).
pub fn munmap(a: &Args) -> KResult<isize> {
    let (addr, len) = (a.ulong(0), a.size(1) as u64);
    // Linux (do_vmi_munmap): EINVAL past the user half too.
    if addr % PAGE != 0 || len == 0 || addr > USER_END || len > USER_END - addr {
        return Err(Errno::EINVAL);
    }
    let len = page_len(addr, len).ok_or(Errno::EINVAL)?;
    with_vm(|vm| {
        vm.unmap(addr, len);
        Ok(0)
    })
}

/// mprotect(unsigned long start, size_t len, unsigned long prot), checked in the order of
/// Linux's `do_mprotect_pkey`: both grow bits, then the alignment (EINVAL); a zero length
/// changes nothing; a range that wraps is ENOMEM; then bits other than read, write, exec and
/// `PROT_SEM` (`arch_validate_prot`) are EINVAL.
pub fn mprotect(a: &Args) -> KResult<isize> {
    let (addr, len, bits) = (a.ulong(0), a.size(1) as u64, a.ulong(2));
    let grows = bits & (PROT_GROWSDOWN | PROT_GROWSUP);
    if grows == PROT_GROWSDOWN | PROT_GROWSUP || addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let len = page_len(addr, len).ok_or(Errno::ENOMEM)?;
    if (bits & !grows) & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) != 0 {
        return Err(Errno::EINVAL);
    }
    with_vm(|vm| vm.protect(addr, len, access(bits)).map(|()| 0))
}

/// mremap(unsigned long addr, unsigned long old_len, unsigned long new_len, unsigned long
/// flags, unsigned long new_addr).
pub fn mremap(a: &Args) -> KResult<isize> {
    let (old, old_len, new_len, flags) = (a.ulong(0), a.ulong(1), a.ulong(2), a.ulong(3));
    if flags & !MREMAP_MAYMOVE != 0 {
        return Err(Errno::EINVAL);
    }
    with_vm(|vm| Ok(vm.remap(old, old_len, new_len, flags & MREMAP_MAYMOVE != 0)? as isize))
}

/// madvise(unsigned long start, size_t len, int behavior).
pub fn madvise(a: &Args) -> KResult<isize> {
    let (addr, len, advice) = (a.ulong(0), a.size(1) as u64, a.int(2));
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let known = matches!(
        advice,
        MADV_NORMAL..=MADV_DONTNEED | MADV_FREE..=MADV_COLLAPSE | MADV_HWPOISON | MADV_SOFT_OFFLINE
    );
    if !known {
        return Err(Errno::EINVAL);
    }
    let len = page_len(addr, len).ok_or(Errno::EINVAL)?;
    if advice == MADV_DONTNEED {
        // Private anonymous pages read as zero afterwards: drop them (they refill on touch).
        with_vm(|vm| {
            vm.discard(addr, len);
            Ok(0)
        })
    } else {
        Ok(0)
    }
}
