//! The kernel side of files: the VFS instance with tmpfs as root, open files and fd tables,
//! device files, pipes and the console.

#[cfg(feature = "tty")]
pub mod console;
#[cfg(not(feature = "tty"))]
#[path = "raw_console.rs"]
pub mod console;
mod devices;
pub mod epoll;
pub mod eventfd;
pub mod file;
mod inode_file;
pub mod locks;
pub mod mount;
pub mod poll;

pub mod pipe;
#[cfg(feature = "procfs")]
pub mod procfs;
#[cfg(not(feature = "procfs"))]
#[path = "no_procfs.rs"]
pub mod procfs;
#[cfg(feature = "signals")]
pub mod signalfd;
pub mod stat;
pub mod timerfd;
pub mod write_access;

use alloc::sync::Arc;

use tessera_abi::fs::Timespec;
use tessera_abi::{Errno, KResult};
use tessera_sync::Once;
use tessera_vfs::{Dentry, FileType, Inode, Vfs};

pub use devices::populate_devtmpfs;
pub use file::{FdTable, OpenFile};

/// stat of an inode.
pub fn inode_stat(inode: &Arc<dyn Inode>) -> KResult<stat::Stat> {
    inode_file::stat_of(inode)
}

/// The name PID 1's console shows in `/proc/PID/fd`: it is opened before `/dev` exists and
/// has no path of its own; on Linux it is the initramfs's `/dev/console`.
pub const CONSOLE_PATH: &[u8] = b"/dev/console";

/// What both consoles (with or without the line discipline) answer to fstat: the character
/// device 5:1, `/dev/console`.
pub fn console_stat() -> stat::Stat {
    stat::Stat {
        mode: stat::S_IFCHR | 0o620,
        rdev: stat::makedev(5, 1),
        nlink: 1,
        blksize: 1024,
        dev: 5,
        ..stat::Stat::default()
    }
}

/// What fstat says of the files that have no inode of their own (epoll, eventfd, timerfd,
/// signalfd): Linux gives them all one inode of its anonymous inode file system, mode 0600
/// with no file type bits.
pub fn anon_inode_stat() -> stat::Stat {
    stat::Stat {
        mode: tessera_abi::fs::S_IRUSR | tessera_abi::fs::S_IWUSR,
        ino: 1,
        nlink: 1,
        blksize: 4096,
        dev: 13,
        ..stat::Stat::default()
    }
}

/// fds 0, 1 and 2 on the console (with or without its line discipline), for PID 1.
pub fn stdio_table() -> FdTable {
    let console = OpenFile::new(console::file(), file::O_RDWR);
    let mut table = FdTable::default();
    for fd in 0..3 {
        table.set(fd, console.clone(), false);
    }
    table
}

/// A reference to a dentry (what cwd, root and dirfds hold).
pub type DentryRef = Arc<Dentry>;

/// The dentry cache chosen by the config.
pub use crate::variants::Dcache as Cache;

static VFS: Once<Vfs<Cache>> = Once::new();

/// The mounted file systems.
pub fn vfs() -> &'static Vfs<Cache> {
    VFS.get().expect("fs::init_root has not run")
}

/// A process's view of the file system: working directory, root, umask.
#[derive(Clone)]
pub struct FsContext {
    pub cwd: DentryRef,
    pub root: DentryRef,
    pub umask: u32,
}

/// The clock file systems stamp times with.
pub fn now() -> Timespec {
    let ns = crate::time::realtime_ns();
    Timespec {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as i64,
    }
}

static NEXT_DEV: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0x20);

/// A new, empty tmpfs (each with its own device number).
pub fn new_tmpfs() -> Arc<dyn Inode> {
    new_tmpfs_with(tessera_tmpfs::Limits::default())
}

/// A new, empty tmpfs with `limits` (`mount -t tmpfs -o size=...,nr_inodes=...`). Every
/// tmpfs, limited or not, also stops short of the memory the kernel keeps for itself
/// (`mm::user_frames::headroom`: ENOSPC).
pub fn new_tmpfs_with(limits: tessera_tmpfs::Limits) -> Arc<dyn Inode> {
    let dev = NEXT_DEV.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let limits = tessera_tmpfs::Limits {
        room: Some(|pages| crate::mm::user_frames::headroom(pages as usize)),
        ..limits
    };
    tessera_tmpfs::KernelTmpfs::with_limits(dev, now, limits).root()
}

/// Mounts a tmpfs root, unpacks the initramfs into it, and returns PID 1's view.
pub fn init_root(initrd: &[u8]) -> KResult<FsContext> {
    let vfs = VFS.call_once(|| Vfs::new_with_info(new_tmpfs(), mount::root_info()));
    let root = vfs.root().clone();
    tessera_vfs::unpack_cpio_newc(vfs, &root, initrd)?;
    Ok(FsContext {
        cwd: root.clone(),
        root,
        umask: 0o022,
    })
}

/// Resolves `path` for the current process (relative to its cwd).
pub fn lookup(path: &[u8], follow: bool) -> KResult<DentryRef> {
    let task = crate::process::current();
    let fs = task.fs.lock().clone();
    vfs().resolve(&fs.cwd, &fs.root, path, follow)
}

/// The inode `path` names for the current process (the config's `lookup` variant: no
/// dentry is built when the fast walk applies).
pub fn lookup_inode(path: &[u8], follow: bool) -> KResult<Arc<dyn Inode>> {
    crate::process::sched::on_current(|task| {
        let fs = task.fs.lock();
        vfs().lookup_inode(&fs.cwd, &fs.root, path, follow)
    })
}

/// A file execve may run: EACCES unless a regular file with an execute bit. Returns its
/// dentry (for `/proc/PID/exe`) and size; the loader reads only the headers and maps the
/// segments, so no buffer as large as the program is ever needed.
pub fn executable(path: &[u8]) -> KResult<(DentryRef, u64)> {
    let dentry = lookup(path, true)?;
    let inode = dentry.inode();
    if inode.file_type() != FileType::Regular {
        return Err(Errno::EACCES);
    }
    let meta = inode.metadata()?;
    if meta.mode & tessera_abi::fs::S_IXUGO == 0 {
        return Err(Errno::EACCES);
    }
    Ok((dentry, meta.size))
}

/// Sets a regular file's size to `len`, keeping its mappings and cached pages in step: when
/// the file shrinks, every process's pages of it past the new end go (touching them again is
/// SIGBUS, as on Linux).
pub fn truncate(inode: &Arc<dyn Inode>, len: u64) -> KResult<()> {
    let old = inode.metadata()?.size;
    inode.truncate(len)?;
    if len < old {
        crate::process::file_truncated(inode, len);
        crate::mm::pagecache::truncated(inode, len);
    }
    Ok(())
}

/// Reads up to `buf.len()` bytes at `offset`, looping over short reads; returns the count.
pub fn read_full(inode: &Arc<dyn Inode>, offset: u64, buf: &mut [u8]) -> KResult<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = inode.read_at(offset + done as u64, &mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// Opens what `dentry` names as an open file with `flags` (device nodes become their
/// devices, fifos their pipes). Regular files, directories and `O_PATH` opens keep their
/// dentry in their operations (`InodeFile`); devices, fifos and procfs streams keep it beside
/// theirs, for `/proc/PID/fd`.
pub fn open_dentry(dentry: DentryRef, flags: u32) -> KResult<Arc<OpenFile>> {
    let special: Option<Arc<dyn file::FileOps>> = if flags & file::O_PATH != 0 {
        None
    } else {
        match dentry.file_type() {
            FileType::CharDevice => Some(devices::open(dentry.inode().metadata()?.rdev)?),
            FileType::Fifo => Some(pipe::open_fifo(&dentry, flags)?),
            FileType::Regular => procfs::open_stream(&dentry),
            _ => None,
        }
    };
    Ok(match special {
        Some(ops) => OpenFile::new_at(ops, flags, dentry),
        None => {
            // An open file that may write a regular file holds write access: ETXTBSY while
            // a process runs it.
            let writes = flags & file::O_ACCMODE != file::O_RDONLY && flags & file::O_PATH == 0;
            let write = if writes && dentry.file_type() == FileType::Regular {
                Some(write_access::get(dentry.inode())?)
            } else {
                None
            };
            OpenFile::new(Arc::new(inode_file::InodeFile::new(dentry, write)), flags)
        }
    })
}
