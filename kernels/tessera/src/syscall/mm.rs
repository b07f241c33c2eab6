//! Memory syscalls: brk, mmap, munmap, mprotect, mremap, madvise.

use tessera_abi::mm::{
    MADV_COLLAPSE, MADV_DONTNEED, MADV_FREE, MADV_HWPOISON, MADV_NORMAL, MADV_SOFT_OFFLINE,
    MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE,
    PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_WRITE,
};
use tessera_abi::{Errno, KResult};

use super::Args;
use crate::mm::vm::{Backing, Prot, Vm};
use crate::process::current;

const PAGE: u64 = 4096;

fn with_vm<T>(f: impl FnOnce(&mut Vm) -> KResult<T>) -> KResult<T> {
    let task = current();
    let mut vm = task.vm.lock();
    f(vm.as_mut().ok_or(Errno::EFAULT)?)
}

fn prot(bits: u64) -> KResult<Prot> {
    Prot::from_bits(bits as u32).ok_or(Errno::EINVAL)
}

pub fn brk(a: &Args) -> KResult<isize> {
    with_vm(|vm| Ok(vm.set_brk(a[0]) as isize))
}

pub fn mmap(a: &Args) -> KResult<isize> {
    let (addr, len, prot_bits, flags, fd, offset) = (a[0], a[1], a[2], a[3], a[4] as i32, a[5]);
    let prot = prot(prot_bits)?;
    // Only the types MAP_SHARED and MAP_PRIVATE are supported (both bits are
    // MAP_SHARED_VALIDATE, refused).
    let kind = flags & (MAP_SHARED | MAP_PRIVATE);
    if len == 0 || offset % PAGE != 0 || !(kind == MAP_SHARED || kind == MAP_PRIVATE) {
        return Err(Errno::EINVAL);
    }
    if len > (1 << 46) {
        return Err(Errno::ENOMEM);
    }
    let shared = kind == MAP_SHARED;
    let backing = if flags & MAP_ANONYMOUS != 0 {
        Backing::Anonymous
    } else {
        let file = current().files.lock().get(fd)?;
        if !file.readable() || !file.ops.seekable() {
            return Err(if file.ops.seekable() {
                Errno::EACCES
            } else {
                Errno::ENODEV
            });
        }
        if shared && prot.contains(Prot::WRITE) && !file.writable() {
            return Err(Errno::EACCES);
        }
        // Linux (file_mmap_ok): no page of a file mapping may lie past the largest file
        // offset (MAX_LFS_FILESIZE), which also keeps offset arithmetic from wrapping.
        if offset
            .checked_add(len)
            .is_none_or(|end| end > tessera_abi::fs::MAX_FILE_OFFSET)
        {
            return Err(Errno::EOVERFLOW);
        }
        let dentry = file.ops.dentry().ok_or(Errno::ENODEV)?;
        Backing::File {
            inode: dentry.inode().clone(),
            offset,
            limit: u64::MAX,
            name: dentry,
        }
    };
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    with_vm(|vm| {
        if flags & MAP_FIXED_NOREPLACE != 0 && vm.find(addr).is_some() {
            return Err(Errno::EEXIST);
        }
        Ok(vm.map(addr, len, prot, shared, backing, fixed)? as isize)
    })
}

pub fn munmap(a: &Args) -> KResult<isize> {
    let (addr, len) = (a[0], a[1]);
    if addr % PAGE != 0 || len == 0 {
        return Err(Errno::EINVAL);
    }
    with_vm(|vm| {
        vm.unmap(addr, len.next_multiple_of(PAGE));
        Ok(0)
    })
}

pub fn mprotect(a: &Args) -> KResult<isize> {
    let (addr, len, prot_bits) = (a[0], a[1], a[2]);
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let access = PROT_READ | PROT_WRITE | PROT_EXEC;
    if prot_bits & !(access | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    let prot = prot(prot_bits & access)?;
    if len == 0 {
        return Ok(0);
    }
    with_vm(|vm| {
        vm.protect(addr, len.next_multiple_of(PAGE), prot)
            .map(|()| 0)
    })
}

pub fn mremap(a: &Args) -> KResult<isize> {
    let (old, old_len, new_len, flags) = (a[0], a[1], a[2], a[3]);
    if flags & !MREMAP_MAYMOVE != 0 {
        return Err(Errno::EINVAL);
    }
    with_vm(|vm| Ok(vm.remap(old, old_len, new_len, flags & MREMAP_MAYMOVE != 0)? as isize))
}

pub fn madvise(a: &Args) -> KResult<isize> {
    let (addr, len, advice) = (a[0], a[1], a[2] as i32);
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
    if advice == MADV_DONTNEED {
        // Private anonymous pages read as zero afterwards: drop them (they refill on touch).
        with_vm(|vm| {
            vm.discard(addr, len.next_multiple_of(PAGE));
            Ok(0)
        })
    } else {
        Ok(0)
    }
}
