//! `/proc/sys/kernel/`: the system's names, as Linux's `kernel/utsname_sysctl.c` shows them
//! (read-only here): `ostype`, `osrelease`, `version`, `hostname`, `domainname`, each a
//! line. procps reads `osrelease` to learn the kernel's version (top shows the steal
//! column from 2.6.11 on); `hostname` is what sethostname set. And `pid_max`, the bound
//! of process ids, which root may change (`process/pid.rs`).
//!
//! `/proc/sys/vm/drop_caches` (write-only, as Linux's `fs/drop_caches.c`): bit 1 frees the
//! page cache's pages no mapping uses, bit 2 (Linux: the slab caches) the frames of the
//! kernel heap's size classes that hold no block in use, 4 (quiet) changes nothing here;
//! anything but 1 to 4 is EINVAL. The conformance runner's leak check writes
//! it before each usage reading.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};
use tessera_vfs::{FileType, Inode};

use super::{Dir, Listing, Text, parse_int, parse_sysctl_int};
use crate::process::pid;

/// Inode numbers: `/proc/sys` 11 (a file of the root), `kernel` 12, its files from 13,
/// `vm` 19 and its file 20.
const SYS_INO: u64 = 11;
const KERNEL_INO: u64 = 12;
const VM_INO: u64 = 19;
const DROP_CACHES_INO: u64 = 20;

/// The files of `/proc/sys/kernel`: name, inode number.
const KERNEL_FILES: [(&[u8], u64); 6] = [
    (b"ostype", 13),
    (b"osrelease", 14),
    (b"version", 15),
    (b"hostname", 16),
    (b"domainname", 17),
    (b"pid_max", PID_MAX_INO),
];

const PID_MAX_INO: u64 = 18;

/// `/proc/sys`.
pub(super) fn sys() -> Arc<dyn Inode> {
    Arc::new(Dir(Sys))
}

struct Sys;

impl Listing for Sys {
    fn ino(&self) -> u64 {
        SYS_INO
    }
    fn parent_ino(&self) -> u64 {
        1
    }
    fn mode(&self) -> u32 {
        0o555
    }
    fn child(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        match name {
            b"kernel" => Ok(Arc::new(Dir(Kernel))),
            b"vm" => Ok(Arc::new(Dir(Vm))),
            _ => Err(Errno::ENOENT),
        }
    }
    fn entries(&self) -> KResult<Vec<(u64, FileType, Vec<u8>)>> {
        Ok(alloc::vec![
            (KERNEL_INO, FileType::Directory, b"kernel".to_vec()),
            (VM_INO, FileType::Directory, b"vm".to_vec()),
        ])
    }
}

struct Vm;

impl Listing for Vm {
    fn ino(&self) -> u64 {
        VM_INO
    }
    fn parent_ino(&self) -> u64 {
        SYS_INO
    }
    fn mode(&self) -> u32 {
        0o555
    }
    fn child(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        match name {
            b"drop_caches" => Ok(Text::writable(
                DROP_CACHES_INO,
                0o200,
                || Err(Errno::EACCES),
                drop_caches,
            )),
            _ => Err(Errno::ENOENT),
        }
    }
    fn entries(&self) -> KResult<Vec<(u64, FileType, Vec<u8>)>> {
        Ok(alloc::vec![(
            DROP_CACHES_INO,
            FileType::Regular,
            b"drop_caches".to_vec()
        )])
    }
}

/// A write to `drop_caches`: 1 to 4 (Linux's `drop_caches_sysctl_handler`, bounded by
/// `SYSCTL_ONE` and `SYSCTL_FOUR`); bit 1 frees the unused page cache, bit 2 the heap's
/// unused frames.
fn drop_caches(bytes: &[u8]) -> KResult<()> {
    let value = parse_int(bytes).map_err(|_| Errno::EINVAL)?;
    if !(1..=4).contains(&value) {
        return Err(Errno::EINVAL);
    }
    if value & 1 != 0 {
        crate::mm::pagecache::shrink();
    }
    if value & 2 != 0 {
        tessera_platform::heap::reclaim();
    }
    Ok(())
}

struct Kernel;

impl Listing for Kernel {
    fn ino(&self) -> u64 {
        KERNEL_INO
    }
    fn parent_ino(&self) -> u64 {
        SYS_INO
    }
    fn mode(&self) -> u32 {
        0o555
    }
    fn child(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let &(_, ino) = KERNEL_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or(Errno::ENOENT)?;
        if ino == PID_MAX_INO {
            return Ok(Text::writable(
                ino,
                0o644,
                || Ok(format!("{}\n", pid::max())),
                |bytes| pid::set_max(parse_sysctl_int(bytes)?),
            ));
        }
        Ok(Text::inode(ino, 0o444, move || Ok(value(ino))))
    }
    fn entries(&self) -> KResult<Vec<(u64, FileType, Vec<u8>)>> {
        Ok(KERNEL_FILES
            .iter()
            .map(|&(name, ino)| (ino, FileType::Regular, name.to_vec()))
            .collect())
    }
}

/// The text of file `ino`: its value and a newline.
fn value(ino: u64) -> String {
    let text = match ino {
        13 => String::from("Linux"),
        14 => String::from(crate::syscall::misc::RELEASE),
        15 => String::from(crate::syscall::misc::VERSION),
        16 => String::from_utf8_lossy(&crate::syscall::misc::node_name()).into_owned(),
        _ => String::from_utf8_lossy(&crate::syscall::misc::domain_name()).into_owned(),
    };
    format!("{text}\n")
}
