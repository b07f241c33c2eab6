//! A small procfs: `/proc/meminfo`, `/proc/uptime`, `/proc/self`, and per-process
//! `/proc/<pid>/{stat,cmdline,comm,status}` and the `/proc/<pid>/exe` link, enough for `ps`,
//! `free`, `uptime` and BusyBox running its applets through `/proc/self/exe`.
//! Generated on every read from the kernel's live state.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::Ordering;

use tessera_abi::fs::{S_IFDIR, S_IFLNK, S_IFREG};
use tessera_abi::{Errno, KResult};
use tessera_vfs::{DirEntry, DirSink, FileType, Inode, Metadata};

use crate::process::task::{self, TaskState};

const PROC_DEV: u64 = 4;

fn meta(ino: u64, mode: u32, size: u64) -> Metadata {
    let now = crate::fs::now();
    Metadata {
        ino,
        mode,
        nlink: 1,
        uid: 0,
        gid: 0,
        size,
        blocks: 0,
        blksize: 1024,
        atime: now,
        mtime: now,
        ctime: now,
        rdev: 0,
        dev: PROC_DEV,
    }
}

/// The root of a procfs mount.
/// A new `proc` file system for `mount -t proc`.
pub fn mount() -> KResult<Arc<dyn Inode>> {
    Ok(new_procfs())
}

fn new_procfs() -> Arc<dyn Inode> {
    Arc::new(Root)
}

struct Root;

enum Node {
    MemInfo,
    Uptime,
    SelfLink,
    PidDir(u32),
}

fn lookup_root(name: &[u8]) -> Option<Node> {
    match name {
        b"meminfo" => Some(Node::MemInfo),
        b"uptime" => Some(Node::Uptime),
        b"self" => Some(Node::SelfLink),
        _ => core::str::from_utf8(name)
            .ok()?
            .parse()
            .ok()
            .filter(|&pid| task::find(pid).is_some())
            .map(Node::PidDir),
    }
}

impl Inode for Root {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(1, S_IFDIR | 0o555, 0))
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
        Ok(match lookup_root(name).ok_or(Errno::ENOENT)? {
            Node::MemInfo => Arc::new(Generated {
                ino: 2,
                make: meminfo,
            }),
            Node::Uptime => Arc::new(Generated {
                ino: 3,
                make: uptime,
            }),
            Node::SelfLink => Arc::new(SelfLink),
            Node::PidDir(pid) => Arc::new(PidDir { pid }),
        })
    }
    fn readdir(&self, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        let mut entries: Vec<(u64, FileType, Vec<u8>)> = Vec::from([
            (1, FileType::Directory, b".".to_vec()),
            (1, FileType::Directory, b"..".to_vec()),
            (2, FileType::Regular, b"meminfo".to_vec()),
            (3, FileType::Regular, b"uptime".to_vec()),
            (4, FileType::Symlink, b"self".to_vec()),
        ]);
        for t in task::all() {
            entries.push((
                1000 + u64::from(t.pid),
                FileType::Directory,
                format!("{}", t.pid).into_bytes(),
            ));
        }
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

struct SelfLink;

impl Inode for SelfLink {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(4, S_IFLNK | 0o777, 0))
    }
    fn file_type(&self) -> FileType {
        FileType::Symlink
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn readlink(&self) -> KResult<Vec<u8>> {
        Ok(format!("{}", crate::process::current().pid).into_bytes())
    }
}

/// A read-only file whose contents are made at each read.
struct Generated {
    ino: u64,
    make: fn() -> String,
}

impl Inode for Generated {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(self.ino, S_IFREG | 0o444, 0))
    }
    fn file_type(&self) -> FileType {
        FileType::Regular
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        read_text(&(self.make)(), offset, buf)
    }
}

fn read_text(text: &str, offset: u64, buf: &mut [u8]) -> KResult<usize> {
    let bytes = text.as_bytes();
    let start = (offset as usize).min(bytes.len());
    let n = buf.len().min(bytes.len() - start);
    buf[..n].copy_from_slice(&bytes[start..start + n]);
    Ok(n)
}

fn meminfo() -> String {
    let (total, free) = crate::mm::page_counts();
    // Cached file pages are given back when memory is short, so they count as available.
    let cached = crate::mm::pagecache::cached_frames();
    let kib = |pages: usize| pages * 4;
    format!(
        "MemTotal:       {:>8} kB\nMemFree:        {:>8} kB\nMemAvailable:   {:>8} kB\nBuffers:               0 kB\nCached:         {:>8} kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n",
        kib(total),
        kib(free),
        kib(free + cached),
        kib(cached)
    )
}

fn uptime() -> String {
    let ns = tessera_platform::clock::now_ns();
    format!(
        "{}.{:02} 0.00\n",
        ns / 1_000_000_000,
        (ns / 10_000_000) % 100
    )
}

struct PidDir {
    pid: u32,
}

const PID_FILES: [&[u8]; 4] = [b"stat", b"cmdline", b"comm", b"status"];

impl Inode for PidDir {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(1000 + u64::from(self.pid), S_IFDIR | 0o555, 0))
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
        if name == b"exe" {
            return Ok(Arc::new(ExeLink { pid: self.pid }));
        }
        let which = PID_FILES
            .iter()
            .position(|f| *f == name)
            .ok_or(Errno::ENOENT)?;
        Ok(Arc::new(PidFile {
            pid: self.pid,
            which,
        }))
    }
    fn readdir(&self, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        let ino = 1000 + u64::from(self.pid);
        let mut entries: Vec<(FileType, &[u8])> = Vec::from([
            (FileType::Directory, &b"."[..]),
            (FileType::Directory, &b".."[..]),
        ]);
        entries.extend(PID_FILES.iter().map(|f| (FileType::Regular, *f)));
        entries.push((FileType::Symlink, b"exe"));
        for (i, (kind, name)) in entries.iter().enumerate().skip(cookie as usize) {
            if !sink(&DirEntry {
                ino,
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

/// `/proc/<pid>/exe`: a link to the program file the process runs, by its path (Linux's
/// is a magic link that reaches the file even after a rename; this one follows the path).
struct ExeLink {
    pid: u32,
}

impl Inode for ExeLink {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(
            100_000 + u64::from(self.pid) * 8 + 7,
            S_IFLNK | 0o777,
            0,
        ))
    }
    fn file_type(&self) -> FileType {
        FileType::Symlink
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn readlink(&self) -> KResult<Vec<u8>> {
        let task = task::find(self.pid).ok_or(Errno::ENOENT)?;
        let exe = task.exe.lock().clone().ok_or(Errno::ENOENT)?;
        Ok(exe.path())
    }
}

struct PidFile {
    pid: u32,
    which: usize,
}

impl Inode for PidFile {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(
            100_000 + u64::from(self.pid) * 8 + self.which as u64,
            S_IFREG | 0o444,
            0,
        ))
    }
    fn file_type(&self) -> FileType {
        FileType::Regular
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let t = task::find(self.pid).ok_or(Errno::ESRCH)?;
        let name = t.name.lock().clone();
        let state = match t.state() {
            TaskState::Runnable => 'R',
            TaskState::Blocked => 'S',
            TaskState::Zombie => 'Z',
            TaskState::Stopped => 'T',
        };
        let rss = t.vm.lock().as_mut().map_or(0, |vm| vm.resident_pages());
        let text = match self.which {
            // Fields as proc(5) lists them: tty_nr..cstime are zero (no accounting yet),
            // priority 20, nice 0, one thread, then vsize and rss, and the rest zero.
            0 => format!(
                "{} ({}) {} {} {} {} 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 0 {} {} 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                t.pid,
                name,
                state,
                t.ppid(),
                t.pgid.load(Ordering::Relaxed),
                t.sid.load(Ordering::Relaxed),
                rss * 4096,
                rss
            ),
            1 => format!("{name}\0"),
            2 => format!("{name}\n"),
            _ => format!(
                "Name:\t{name}\nState:\t{state}\nPid:\t{}\nPPid:\t{}\nVmRSS:\t{} kB\n",
                t.pid,
                t.ppid(),
                rss * 4
            ),
        };
        read_text(&text, offset, buf)
    }
}
