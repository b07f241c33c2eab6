//! procfs: the kernel's state as files, generated on every read, in the formats of Linux's
//! `fs/proc/*.c` and `fs/proc_namespace.c` as `proc(5)` documents them. `docs/procfs.md`
//! lists every file, where its figures come from and what is approximated.
//!
//! | module | files |
//! |---|---|
//! | this one | the root directory, `/proc/self`, `/proc/mounts` (a link to `self/mounts`, as on Linux) |
//! | [`system`] | `meminfo`, `uptime`, `stat`, `loadavg`, `kmsg`, `kernel_usage` (Tessera's own) |
//! | [`cpuinfo`] | `cpuinfo` |
//! | [`pid`] | `/proc/PID/`: `stat`, `cmdline`, `comm`, `status`, `exe`, `fd/`, `maps`, `oom_score`, `oom_score_adj` |
//! | [`mounts`] | `/proc/PID/mounts` |
//! | [`sysctl`] | `/proc/sys/kernel/`: `ostype`, `osrelease`, `version`, `hostname`, `domainname`, `pid_max`; `/proc/sys/vm/drop_caches` |
//!
//! Inode numbers: the root is 1, the files of the root are small fixed numbers, and
//! everything under `/proc/PID` is numbered from the pid ([`pid_ino`]), so a number names
//! one file for as long as the process lives.

mod cpuinfo;
mod mounts;
mod pid;
mod sysctl;
mod system;

pub use pid::fd_link_file;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use tessera_abi::fs::{S_IFDIR, S_IFLNK, S_IFREG};
use tessera_abi::{Errno, KResult};
use tessera_vfs::{DirEntry, DirSink, FileType, Inode, Metadata};

use crate::process::task;

const PROC_DEV: u64 = 4;

fn meta(ino: u64, mode: u32, nlink: u32) -> Metadata {
    let now = crate::fs::now();
    Metadata {
        ino,
        mode,
        nlink,
        uid: 0,
        gid: 0,
        size: 0,
        blocks: 0,
        blksize: 1024,
        atime: now,
        mtime: now,
        ctime: now,
        rdev: 0,
        dev: PROC_DEV,
    }
}

/// The inode number of entry `sub` of `/proc/<pid>`: 0 is the directory itself, 1..64 its
/// files, `FD_INO + fd` the links of its `fd` directory.
pub fn pid_ino(pid: u32, sub: u64) -> u64 {
    (1 << 40) + (u64::from(pid) << 13) + sub
}

/// A new `proc` file system (its root directory) for `mount -t proc`.
pub fn mount() -> KResult<Arc<dyn Inode>> {
    Ok(Arc::new(Dir(Root)))
}

/// Opening a procfs file whose reads are a stream rather than a text at an offset
/// (`/proc/kmsg`): its own file operations, `None` for every other file.
pub fn open_stream(dentry: &crate::fs::DentryRef) -> Option<Arc<dyn crate::fs::file::FileOps>> {
    if dentry.mount_info().fs_type != b"proc" {
        return None;
    }
    system::open_stream(dentry.inode())
}

/// The files of the root directory: name, inode number, type, what to make of it.
const ROOT_FILES: [(&[u8], u64, FileType); 12] = [
    (b"self", 2, FileType::Symlink),
    (b"mounts", 3, FileType::Symlink),
    (b"meminfo", 4, FileType::Regular),
    (b"uptime", 5, FileType::Regular),
    (b"stat", 6, FileType::Regular),
    (b"loadavg", 7, FileType::Regular),
    (b"cpuinfo", 8, FileType::Regular),
    (b"kmsg", 9, FileType::Regular),
    (b"kernel_usage", 10, FileType::Regular),
    (b"sys", 11, FileType::Directory),
    (b"version", VERSION_INO, FileType::Regular),
    (b"filesystems", FILESYSTEMS_INO, FileType::Regular),
];

/// Inode numbers of `version` and `filesystems` (after `sys/`'s, 11 to 20).
const VERSION_INO: u64 = 30;
const FILESYSTEMS_INO: u64 = 31;

fn root_file(ino: u64) -> Arc<dyn Inode> {
    match ino {
        2 => Arc::new(Link::new(ino, || {
            Ok(format!("{}", crate::process::sched::current_pid()).into_bytes())
        })),
        3 => Arc::new(Link::new(ino, || Ok(b"self/mounts".to_vec()))),
        4 => Text::inode(ino, 0o444, || Ok(system::meminfo())),
        5 => Text::inode(ino, 0o444, || Ok(system::uptime())),
        6 => Text::inode(ino, 0o444, || Ok(system::stat())),
        7 => Text::inode(ino, 0o444, || Ok(system::loadavg())),
        8 => Text::inode(ino, 0o444, || Ok(cpuinfo::cpuinfo())),
        10 => Text::inode(ino, 0o444, || Ok(system::kernel_usage())),
        11 => sysctl::sys(),
        // Linux's format (fs/proc/version.c): uname's sysname, release, who built it, and
        // its version string.
        VERSION_INO => Text::inode(ino, 0o444, || {
            Ok(format!(
                "Linux version {} (tessera) {}\n",
                crate::syscall::misc::RELEASE,
                crate::syscall::misc::VERSION
            ))
        }),
        // The file system types mount knows, `nodev` for those without a device (all of
        // them), as Linux lists them (fs/filesystems.c).
        FILESYSTEMS_INO => Text::inode(ino, 0o444, || {
            Ok(crate::fs::mount::TYPES
                .iter()
                .map(|t| format!("nodev\t{t}\n"))
                .collect())
        }),
        _ => system::kmsg(ino),
    }
}

struct Root;

impl Listing for Root {
    fn ino(&self) -> u64 {
        1
    }
    fn parent_ino(&self) -> u64 {
        1
    }
    fn mode(&self) -> u32 {
        0o555
    }
    fn child(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        if let Some(&(_, ino, _)) = ROOT_FILES.iter().find(|(n, _, _)| *n == name) {
            return Ok(root_file(ino));
        }
        let pid = core::str::from_utf8(name)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|&pid| task::find(pid).is_some())
            .ok_or(Errno::ENOENT)?;
        Ok(Arc::new(Dir(pid::PidDir::new(pid))))
    }
    fn entries(&self) -> KResult<Vec<(u64, FileType, Vec<u8>)>> {
        let files = ROOT_FILES
            .iter()
            .map(|&(name, ino, kind)| (ino, kind, name.to_vec()));
        let pids = task::all_processes().into_iter().map(|t| {
            let name = format!("{}", t.tid).into_bytes();
            (pid_ino(t.tid, 0), FileType::Directory, name)
        });
        Ok(files.chain(pids).collect())
    }
}

/// What a procfs directory holds, made afresh at each call (processes and fds come and go).
trait Listing: Send + Sync + 'static {
    fn ino(&self) -> u64;
    /// The inode number `..` lists.
    fn parent_ino(&self) -> u64;
    /// Permission bits.
    fn mode(&self) -> u32;
    /// The entry `name`: ENOENT if there is none.
    fn child(&self, name: &[u8]) -> KResult<Arc<dyn Inode>>;
    /// Every entry but `.` and `..`: inode number, type, name.
    fn entries(&self) -> KResult<Vec<(u64, FileType, Vec<u8>)>>;
}

/// A procfs directory: its entries are a [`Listing`]'s, never cached by the VFS.
struct Dir<L: Listing>(L);

impl<L: Listing> Inode for Dir<L> {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(self.0.ino(), S_IFDIR | self.0.mode(), 2))
    }
    fn file_type(&self) -> FileType {
        FileType::Directory
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn cache_children(&self) -> bool {
        false
    }
    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        self.0.child(name)
    }
    fn readdir(&self, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        let dots = [
            (self.0.ino(), FileType::Directory, b".".to_vec()),
            (self.0.parent_ino(), FileType::Directory, b"..".to_vec()),
        ];
        let entries: Vec<_> = dots.into_iter().chain(self.0.entries()?).collect();
        // A listing's position is its index.
        for (i, (ino, kind, name)) in entries.iter().enumerate().skip(cookie as usize) {
            if !sink(&DirEntry {
                ino: *ino,
                kind: *kind,
                name,
                next: i as u64 + 1,
            }) {
                break;
            }
        }
        Ok(())
    }
}

type MakeText = Box<dyn Fn() -> KResult<Vec<u8>> + Send + Sync>;
type StoreText = Box<dyn Fn(&[u8]) -> KResult<()> + Send + Sync>;

/// A file whose text is made at each read (Linux's `seq_file` files make theirs at each read
/// too; a reader that reads in several calls may see the state change between them, which
/// Linux limits to record boundaries), and, for the few that take a value
/// ([`Text::writable`]), stored by each write.
struct Text {
    ino: u64,
    mode: u32,
    make: MakeText,
    store: Option<StoreText>,
}

impl Text {
    /// A text file whose contents `make` produces at each open.
    fn inode(
        ino: u64,
        mode: u32,
        make: impl Fn() -> KResult<String> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Self::bytes(ino, mode, move || make().map(String::into_bytes))
    }

    /// A file of bytes (not always text: `cmdline`, `environ`) made at each read.
    fn bytes(
        ino: u64,
        mode: u32,
        make: impl Fn() -> KResult<Vec<u8>> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Arc::new(Text {
            ino,
            mode,
            make: Box::new(make),
            store: None,
        })
    }

    /// A text file that takes a value: each write hands its bytes (the whole value: Linux's
    /// writers of such files parse each write on its own, whatever the offset) to `store`,
    /// and counts them all written when `store` accepts them. Opening it with `O_TRUNC`
    /// changes nothing, as on Linux.
    fn writable(
        ino: u64,
        mode: u32,
        make: impl Fn() -> KResult<String> + Send + Sync + 'static,
        store: impl Fn(&[u8]) -> KResult<()> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Arc::new(Text {
            ino,
            mode,
            make: Box::new(move || make().map(String::into_bytes)),
            store: Some(Box::new(store)),
        })
    }
}

/// A decimal (or, with `0x` or `0`, hexadecimal or octal) integer written to a procfs file,
/// as Linux's `kstrtoint` reads it after `strstrip` (`oom_score_adj`): white space around
/// it is allowed, anything else is EINVAL, a value outside `int` ERANGE. (Sysctl files read
/// theirs with `proc_dointvec`, whose overflow is EINVAL: their callers map it.)
fn parse_int(bytes: &[u8]) -> KResult<i32> {
    let text = core::str::from_utf8(bytes)
        .map_err(|_| Errno::EINVAL)?
        .trim();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return Err(Errno::EINVAL);
    }
    let magnitude = i64::from_str_radix(digits, radix).map_err(|_| Errno::ERANGE)?;
    let value = if negative { -magnitude } else { magnitude };
    i32::try_from(value).map_err(|_| Errno::ERANGE)
}

impl Inode for Text {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(self.ino, S_IFREG | self.mode, 1))
    }
    fn file_type(&self) -> FileType {
        FileType::Regular
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        read_text(&(self.make)()?, offset, buf)
    }
    fn write_at(&self, _offset: u64, buf: &[u8]) -> KResult<usize> {
        let store = self.store.as_ref().ok_or(Errno::EINVAL)?;
        store(buf)?;
        Ok(buf.len())
    }
    fn truncate(&self, _len: u64) -> KResult<()> {
        self.store.as_ref().map(|_| ()).ok_or(Errno::EINVAL)
    }
}

/// The integer a write to a `/proc/sys` file holds, parsed as Linux's `proc_dointvec_minmax`
/// parses it (with `sysctl_writes_strict`): spaces, an optional sign, decimal digits, then
/// only spaces or a newline; anything else, an empty write or a number out of `i64` is
/// EINVAL (the caller checks the range).
fn parse_sysctl_int(text: &[u8]) -> KResult<i64> {
    let text = text.trim_ascii();
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Errno::EINVAL);
    }
    let magnitude = digits.iter().try_fold(0i64, |n, d| {
        n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
    });
    let magnitude = magnitude.ok_or(Errno::EINVAL)?;
    Ok(if negative { -magnitude } else { magnitude })
}

fn read_text(bytes: &[u8], offset: u64, buf: &mut [u8]) -> KResult<usize> {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let n = buf.len().min(bytes.len() - start);
    buf[..n].copy_from_slice(&bytes[start..start + n]);
    Ok(n)
}

type MakeTarget = Box<dyn Fn() -> KResult<Vec<u8>> + Send + Sync>;

/// A symbolic link whose target is made at each readlink (`self`, `mounts`, `PID/exe`,
/// `PID/fd/N`). The kernel's links are followed by their text: `PID/exe` and `PID/fd/N`
/// reach the file by its path, not, as Linux's "magic" links do, the open file itself.
struct Link {
    ino: u64,
    mode: u32,
    target: MakeTarget,
}

impl Link {
    fn new(ino: u64, target: impl Fn() -> KResult<Vec<u8>> + Send + Sync + 'static) -> Link {
        Link {
            ino,
            mode: 0o777,
            target: Box::new(target),
        }
    }
}

impl Inode for Link {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(self.ino, S_IFLNK | self.mode, 1))
    }
    fn file_type(&self) -> FileType {
        FileType::Symlink
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn readlink(&self) -> KResult<Vec<u8>> {
        (self.target)()
    }
}
