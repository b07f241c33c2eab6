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

use super::{lookup, new_tmpfs, new_tmpfs_with, populate_devtmpfs, procfs, vfs};

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

/// The file system types mount takes (`/proc/filesystems` lists them; the `match` in
/// [`mount`] makes them).
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub const TYPES: [&str; 6] = ["sysfs", "tmpfs", "ramfs", "devtmpfs", "proc", "devpts"];

/// What the root file system (the tmpfs the initramfs is unpacked into) is mounted as:
/// Linux's `rootfs`, made by the kernel itself, so without `relatime`.
pub fn root_info() -> MountInfo {
    MountInfo {
        source: b"rootfs".to_vec(),
        fs_type: b"rootfs".to_vec(),
        flags: 0,
    }
}

/// A tmpfs's `size=`, `nr_inodes=` and `mode=` mount options, as Linux's `shmem_parse_one`
/// reads them: sizes in bytes with an optional K, M, G, T, P or E suffix (`memparse`), or a
/// percentage of RAM for `size`; 0 for no limit. Without them, a tmpfs mounted from user
/// space gets Linux's defaults: half of RAM, and as many inodes as half of RAM has pages.
/// `uid=`, `gid=`, `huge=`, `mpol=`, `inode32`, `inode64` and `noswap` are accepted and have
/// no effect (one user, no swap, no huge pages, no NUMA); anything else is EINVAL.
pub fn tmpfs_options(data: &[u8]) -> KResult<(tessera_tmpfs::Limits, Option<u32>)> {
    let (total_pages, _) = crate::mm::page_counts();
    let half = total_pages as u64 / 2;
    let mut limits = tessera_tmpfs::Limits {
        pages: Some(half),
        inodes: Some(half),
        ..Default::default()
    };
    let mut mode = None;
    let data = data.split(|&b| b == 0).next().unwrap_or_default();
    for option in data.split(|&b| b == b',').filter(|o| !o.is_empty()) {
        let (key, value) = match option.iter().position(|&b| b == b'=') {
            Some(at) => (&option[..at], Some(&option[at + 1..])),
            None => (option, None),
        };
        match (key, value) {
            (b"size", Some(value)) => {
                let bytes = match value.strip_suffix(b"%") {
                    Some(percent) => {
                        let percent = memparse(percent)?;
                        percent
                            .checked_mul(total_pages as u64 * PAGE_SIZE)
                            .ok_or(Errno::EINVAL)?
                            / 100
                    }
                    None => memparse(value)?,
                };
                limits.pages = nonzero(bytes.div_ceil(PAGE_SIZE));
            }
            (b"nr_blocks", Some(value)) => limits.pages = nonzero(memparse(value)?),
            (b"nr_inodes", Some(value)) => limits.inodes = nonzero(memparse(value)?),
            (b"mode", Some(value)) => {
                let text = core::str::from_utf8(value).map_err(|_| Errno::EINVAL)?;
                mode = Some(u32::from_str_radix(text, 8).map_err(|_| Errno::EINVAL)? & 0o7777);
            }
            (b"uid" | b"gid" | b"huge" | b"mpol", Some(_))
            | (b"inode32" | b"inode64" | b"noswap", None) => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok((limits, mode))
}

const PAGE_SIZE: u64 = tessera_platform::mm::PAGE_SIZE as u64;

/// A limit of 0 means none.
fn nonzero(n: u64) -> Option<u64> {
    (n != 0).then_some(n)
}

/// Linux's `memparse`: a number (decimal, 0x hexadecimal, 0 octal) with an optional
/// binary suffix (K, M, G, T, P, E, either case); EINVAL for anything else or an overflow.
fn memparse(text: &[u8]) -> KResult<u64> {
    let (digits, shift) = match text.last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&text[..text.len() - 1], 10),
        Some(b'M') => (&text[..text.len() - 1], 20),
        Some(b'G') => (&text[..text.len() - 1], 30),
        Some(b'T') => (&text[..text.len() - 1], 40),
        Some(b'P') => (&text[..text.len() - 1], 50),
        Some(b'E') => (&text[..text.len() - 1], 60),
        _ => (text, 0),
    };
    let digits = core::str::from_utf8(digits).map_err(|_| Errno::EINVAL)?;
    let value = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse::<u64>()
    }
    .map_err(|_| Errno::EINVAL)?;
    value.checked_mul(1 << shift).ok_or(Errno::EINVAL)
}

/// Mounts a new file system of type `kind` (`tmpfs`, `devtmpfs`, `proc`, ...) on the
/// directory `target`, recording `source` (`None`: Linux's `none`) and `flags`, with the
/// type's options `data` (only tmpfs reads them; see [`tmpfs_options`]): ENOTDIR, ENODEV
/// for an unknown type.
pub fn mount(
    source: Option<&[u8]>,
    target: &[u8],
    kind: &[u8],
    flags: u64,
    data: &[u8],
) -> KResult<()> {
    let at_dentry = lookup(target, true)?;
    if !at_dentry.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let fs_root = match kind {
        b"tmpfs" => {
            let (limits, mode) = tmpfs_options(data)?;
            let root = new_tmpfs_with(limits);
            if let Some(mode) = mode {
                root.set_mode(mode)?;
            }
            root
        }
        b"ramfs" => new_tmpfs(),
        b"devtmpfs" => {
            let root = new_tmpfs();
            populate_devtmpfs(&root)?;
            root
        }
        b"proc" => procfs::mount()?,
        b"sysfs" | b"devpts" => new_tmpfs(),
        // Keep TYPES (what /proc/filesystems lists) in step with these arms.
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

/// statfs of the file system holding `dentry`, as Linux answers for its type: a tmpfs with
/// limits reports them (blocks and inodes, and what is left of each); without (the root
/// file system, devtmpfs, ramfs: kernel mounts, which Linux does not limit) it has no blocks
/// or inodes of its own to count, and counts the kernel's pages instead; proc, sysfs and
/// devpts have none. `f_flags` are the mount's.
pub fn statfs(dentry: &Dentry) -> StatFs {
    let info = dentry.mount_info();
    let (total, free) = crate::mm::page_counts();
    let tmpfs = dentry
        .inode()
        .as_any()
        .downcast_ref::<tessera_tmpfs::KernelTmpInode>()
        .map(|inode| inode.fs_stats());
    let (mut files, mut ffree) = (0, 0);
    let (kind, blocks, bfree) = match &info.fs_type[..] {
        b"proc" => (PROC_SUPER_MAGIC, 0, 0),
        b"sysfs" => (SYSFS_MAGIC, 0, 0),
        b"devpts" => (DEVPTS_SUPER_MAGIC, 0, 0),
        _ => {
            let stats = tmpfs.filter(|s| s.page_limit.is_some() || s.inode_limit.is_some());
            if let Some(limit) = stats.and_then(|s| s.inode_limit) {
                files = limit;
                ffree = limit.saturating_sub(stats.map_or(0, |s| s.inodes));
            }
            match stats.and_then(|s| s.page_limit.map(|limit| (limit, s.used_pages))) {
                Some((limit, used)) => (TMPFS_MAGIC, limit, limit.saturating_sub(used)),
                None => (TMPFS_MAGIC, total as u64, free as u64),
            }
        }
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
        files,
        ffree,
        namelen: NAME_MAX as u64,
        frsize: 4096,
        flags,
    }
}
