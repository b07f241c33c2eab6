//! The file system types `mount` knows, mounting them, and what `statfs` says about them.
//!
//! Each mount records what it was mounted as ([`MountInfo`]: `mount(2)`'s source and type,
//! and its per-mount flags as Linux's `path_mount` keeps them), which `/proc/mounts` shows
//! and `statfs` reports. The flags are recorded and shown, not enforced: a mount made
//! `MS_RDONLY` says `ro` but its files can still be written.

use tessera_abi::fs::{
    DEVPTS_SUPER_MAGIC, MS_DIRSYNC, MS_LAZYTIME, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC,
    MS_NOSUID, MS_NOSYMFOLLOW, MS_RDONLY, MS_RELATIME, MS_STRICTATIME, MS_SYNCHRONOUS, NAME_MAX,
    PIPEFS_MAGIC, PROC_SUPER_MAGIC, SOCKFS_MAGIC, ST_NOATIME, ST_NODEV, ST_NODIRATIME, ST_NOEXEC,
    ST_NOSUID, ST_NOSYMFOLLOW, ST_RDONLY, ST_RELATIME, ST_SYNCHRONOUS, ST_VALID, SYSFS_MAGIC,
    TMPFS_MAGIC,
};
use tessera_abi::{Errno, KResult};
use tessera_vfs::{Dentry, MountInfo};

use super::{lookup, new_tmpfs, populate_devtmpfs, procfs, vfs};

/// The flags a mount keeps: those `mount(2)` takes per mount, with Linux's default of
/// `relatime` unless `noatime` or `strictatime` is asked for.
fn mount_flags(requested: u64) -> u64 {
    let kept = MS_RDONLY
        | MS_NOSUID
        | MS_NODEV
        | MS_NOEXEC
        | MS_SYNCHRONOUS
        | MS_DIRSYNC
        | MS_NOSYMFOLLOW
        | MS_NOATIME
        | MS_NODIRATIME
        | MS_LAZYTIME;
    let mut flags = requested & kept;
    if requested & (MS_NOATIME | MS_STRICTATIME) == 0 {
        flags |= MS_RELATIME;
    }
    flags
}

/// What the root file system (the tmpfs the initramfs is unpacked into) is mounted as:
/// Linux's `rootfs`, made by the kernel itself, so without `relatime`.
pub fn root_info() -> MountInfo {
    MountInfo {
        source: b"rootfs".to_vec(),
        fs_type: b"rootfs".to_vec(),
        flags: 0,
    }
}

/// Mounts a new file system of type `kind` (`tmpfs`, `devtmpfs`, `proc`, ...) on the
/// directory `target`, recording `source` (`None`: Linux's `none`) and `flags`: ENOTDIR,
/// ENODEV for an unknown type.
pub fn mount(source: Option<&[u8]>, target: &[u8], kind: &[u8], flags: u64) -> KResult<()> {
    let at_dentry = lookup(target, true)?;
    if !at_dentry.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let fs_root = match kind {
        b"tmpfs" | b"ramfs" => new_tmpfs(),
        b"devtmpfs" => {
            let root = new_tmpfs();
            populate_devtmpfs(&root)?;
            root
        }
        b"proc" => procfs::mount()?,
        b"sysfs" | b"devpts" => new_tmpfs(),
        _ => return Err(Errno::ENODEV),
    };
    let info = MountInfo {
        source: source.unwrap_or(b"none").to_vec(),
        fs_type: kind.to_vec(),
        flags: mount_flags(flags),
    };
    vfs().mount_with(&at_dentry, fs_root, info).map(drop)
}

/// Unmounts the file system mounted on `target`.
pub fn umount(target: &[u8]) -> KResult<()> {
    let dentry = lookup(target, true)?;
    vfs().umount(&dentry)
}

/// Whether a file system type keeps its files in memory pages as tmpfs does.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn is_tmpfs_like(fs_type: &[u8]) -> bool {
    matches!(fs_type, b"rootfs" | b"tmpfs" | b"ramfs" | b"devtmpfs")
}

/// `struct statfs` (`asm-generic/statfs.h`), the fields Tessera fills.
pub struct StatFs {
    pub kind: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub namelen: u64,
    pub frsize: u64,
    pub flags: u64,
}

/// statfs of an open file that has no path: pipes and sockets are in Linux's internal pipefs
/// and sockfs (no blocks); anything else (the console PID 1 starts with) is taken to be on
/// the root file system, as Linux's `/dev/console` of the initramfs is.
pub fn statfs_unnamed(mode: u32) -> StatFs {
    use tessera_abi::fs::{S_IFIFO, S_IFMT, S_IFSOCK};
    let pseudo = |kind| StatFs {
        kind,
        bsize: 4096,
        blocks: 0,
        bfree: 0,
        bavail: 0,
        files: 0,
        ffree: 0,
        namelen: NAME_MAX as u64,
        frsize: 4096,
        flags: ST_VALID,
    };
    match mode & S_IFMT {
        S_IFIFO => pseudo(PIPEFS_MAGIC),
        S_IFSOCK => pseudo(SOCKFS_MAGIC),
        _ => statfs(vfs().root()),
    }
}

/// statfs of the file system holding `dentry`, as Linux answers for its type: tmpfs and its
/// kin count the kernel's free pages as their free blocks (they have no size limit of their
/// own; Linux's default tmpfs is capped at half of memory); proc, sysfs and devpts have no
/// blocks. `f_files` is 0 as on a tmpfs without an inode limit. `f_flags` are the mount's.
pub fn statfs(dentry: &Dentry) -> StatFs {
    let info = dentry.mount_info();
    let (total, free) = crate::mm::page_counts();
    let (kind, blocks, bfree) = match &info.fs_type[..] {
        b"proc" => (PROC_SUPER_MAGIC, 0, 0),
        b"sysfs" => (SYSFS_MAGIC, 0, 0),
        b"devpts" => (DEVPTS_SUPER_MAGIC, 0, 0),
        _ => (TMPFS_MAGIC, total as u64, free as u64),
    };
    let mut flags = ST_VALID;
    for (ms, st) in [
        (MS_RDONLY, ST_RDONLY),
        (MS_NOSUID, ST_NOSUID),
        (MS_NODEV, ST_NODEV),
        (MS_NOEXEC, ST_NOEXEC),
        (MS_SYNCHRONOUS, ST_SYNCHRONOUS),
        (MS_NOATIME, ST_NOATIME),
        (MS_NODIRATIME, ST_NODIRATIME),
        (MS_RELATIME, ST_RELATIME),
        (MS_NOSYMFOLLOW, ST_NOSYMFOLLOW),
    ] {
        if info.flags & ms != 0 {
            flags |= st;
        }
    }
    StatFs {
        kind,
        bsize: 4096,
        blocks,
        bfree,
        bavail: bfree,
        files: 0,
        ffree: 0,
        namelen: NAME_MAX as u64,
        frsize: 4096,
        flags,
    }
}
