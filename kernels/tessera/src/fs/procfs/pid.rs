//! `/proc/PID/`: one process's files, in the formats of Linux's `fs/proc/array.c` (`stat`,
//! `status`), `base.c` (`cmdline`, `comm`, `exe`), `fd.c` (`fd/`) and `task_mmu.c` (`maps`).
//!
//! Locks: a task's address space and fd table are read under their locks into plain lists
//! first; nothing that touches a file (its metadata, its path) runs while they are held, so
//! reading these files cannot take a file system lock inside the address space lock (the
//! deadlock class of issue 10).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use tessera_abi::fs::{S_IFLNK, major, minor};
use tessera_abi::{Errno, KResult};
use tessera_platform::mm::PAGE_SIZE;
use tessera_vfs::{FileType, Inode, Metadata};

use super::{Dir, Link, Listing, Text, meta, pid_ino};
use crate::fs::DentryRef;
use crate::mm::vm::{Backing, Prot};
use crate::process::sched;
use crate::process::task::{self, Task, TaskState};

/// The entries of `/proc/PID/`: name, number (see [`pid_ino`]) and type.
const FILES: [(&[u8], u64, FileType); 13] = [
    (b"stat", 1, FileType::Regular),
    (b"cmdline", 2, FileType::Regular),
    (b"comm", 3, FileType::Regular),
    (b"status", 4, FileType::Regular),
    (b"exe", 5, FileType::Symlink),
    (b"fd", 6, FileType::Directory),
    (b"maps", 7, FileType::Regular),
    (b"mounts", 8, FileType::Regular),
    (b"task", TASK_DIR, FileType::Directory),
    (b"environ", ENVIRON, FileType::Regular),
    (b"statm", STATM, FileType::Regular),
    (b"oom_score", OOM_SCORE, FileType::Regular),
    (b"oom_score_adj", OOM_SCORE_ADJ, FileType::Regular),
];

/// The numbers of `environ`, `statm`, `oom_score` and `oom_score_adj` (after the
/// directories' numbers).
const ENVIRON: u64 = 11;
const STATM: u64 = 12;
const OOM_SCORE: u64 = 13;
const OOM_SCORE_ADJ: u64 = 14;

/// The number of `task/`, and of each `task/TID/` directory (numbered from the tid, like the
/// files in it, but apart from `/proc/TID` itself so that no directory has its ancestor's
/// number).
const TASK_DIR: u64 = 9;
const THREAD_DIR: u64 = 10;

/// Inode numbers of `fd/N` start here (fds are below 4096).
const FD_INO: u64 = 4096;

fn task_of(pid: u32) -> KResult<Arc<Task>> {
    task::find(pid).ok_or(Errno::ESRCH)
}

/// The leader of `pid`'s process (what `/proc/TID/` of a thread shows process-wide values of).
fn leader_of(pid: u32) -> KResult<Arc<Task>> {
    task_of(pid)?.process.leader().ok_or(Errno::ESRCH)
}

/// A write to `oom_score_adj`, as Linux's `oom_score_adj_write`: at most 12 bytes are read
/// (`PROC_NUMBUF` less its terminator), an integer (`kstrtoint` after `strstrip`) from -1000
/// to 1000, EINVAL otherwise. Everyone is root here, so lowering it needs no check (Linux:
/// `CAP_SYS_RESOURCE` below the value root last set).
fn set_oom_score_adj(pid: u32, bytes: &[u8]) -> KResult<()> {
    let value = super::parse_int(&bytes[..bytes.len().min(12)])?;
    if !(crate::mm::oom::OOM_SCORE_ADJ_MIN..=crate::mm::oom::OOM_SCORE_ADJ_MAX).contains(&value) {
        return Err(Errno::EINVAL);
    }
    task_of(pid)?
        .process
        .oom_score_adj
        .store(value, Ordering::Relaxed);
    Ok(())
}

fn name_of(pid: u32) -> KResult<String> {
    Ok(task_of(pid)?.name.lock().clone())
}

/// `/proc/PID/`, or `/proc/PID/task/TID/` (a thread's view: the same files, less `task`).
pub struct PidDir {
    pid: u32,
    /// For `task/TID/`: the process's pid.
    thread_of: Option<u32>,
}

impl PidDir {
    pub fn new(pid: u32) -> PidDir {
        PidDir {
            pid,
            thread_of: None,
        }
    }

    fn files(&self) -> impl Iterator<Item = &'static (&'static [u8], u64, FileType)> {
        let thread = self.thread_of.is_some();
        FILES.iter().filter(move |f| !(thread && f.1 == TASK_DIR))
    }
}

impl Listing for PidDir {
    fn ino(&self) -> u64 {
        match self.thread_of {
            Some(_) => pid_ino(self.pid, THREAD_DIR),
            None => pid_ino(self.pid, 0),
        }
    }
    fn parent_ino(&self) -> u64 {
        match self.thread_of {
            Some(process) => pid_ino(process, TASK_DIR),
            None => 1,
        }
    }
    fn mode(&self) -> u32 {
        0o555
    }
    fn child(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let &(_, sub, _) = self
            .files()
            .find(|(n, _, _)| *n == name)
            .ok_or(Errno::ENOENT)?;
        let (pid, ino) = (self.pid, pid_ino(self.pid, sub));
        Ok(match sub {
            1 => Text::inode(ino, 0o444, move || stat(&*task_of(pid)?)),
            2 => Text::bytes(ino, 0o444, move || {
                strings(&*task_of(pid)?, |vm| vm.args.clone())
            }),
            STATM => Text::inode(ino, 0o444, move || statm(&*task_of(pid)?)),
            OOM_SCORE => Text::inode(ino, 0o444, move || {
                Ok(format!("{}\n", crate::mm::oom::score(&*leader_of(pid)?)))
            }),
            OOM_SCORE_ADJ => Text::writable(
                ino,
                0o644,
                move || {
                    let adj = task_of(pid)?.process.oom_score_adj.load(Ordering::Relaxed);
                    Ok(format!("{adj}\n"))
                },
                move |bytes| set_oom_score_adj(pid, bytes),
            ),
            ENVIRON => Text::bytes(ino, 0o400, move || {
                strings(&*task_of(pid)?, |vm| vm.env.clone())
            }),
            3 => Text::inode(ino, 0o644, move || Ok(format!("{}\n", name_of(pid)?))),
            4 => Text::inode(ino, 0o444, move || status(&*task_of(pid)?)),
            5 => Arc::new(Link::new(ino, move || {
                let exe = task_of(pid)?
                    .process
                    .exe
                    .lock()
                    .clone()
                    .ok_or(Errno::ENOENT)?;
                Ok(exe.path())
            })),
            6 => Arc::new(Dir(FdDir { pid })),
            7 => Text::inode(ino, 0o444, move || maps(&*task_of(pid)?)),
            TASK_DIR => Arc::new(Dir(TaskDir { pid })),
            _ => Text::inode(ino, 0o444, move || {
                let root = task_of(pid)?.fs.lock().root.clone();
                Ok(super::mounts::text(&root))
            }),
        })
    }
    fn entries(&self) -> KResult<Vec<(u64, FileType, Vec<u8>)>> {
        let files = self.files();
        Ok(files
            .map(|&(name, sub, kind)| (pid_ino(self.pid, sub), kind, name.to_vec()))
            .collect())
    }
}

/// `cmdline` or `environ`: the bytes of the argument or environment strings in the
/// process's memory where execve put them (`range` picks which), as Linux reads them
/// (`get_mm_cmdline`, `environ_read`): what the process may have written over them since
/// included; nothing for a process without memory (a zombie). Unlike Linux's `cmdline`, no
/// search past the end when the last byte is no longer NUL (a program that rewrote its
/// arguments, `setproctitle`).
fn strings(
    task: &Task,
    range: impl Fn(&crate::mm::vm::Vm) -> core::ops::Range<u64>,
) -> KResult<Vec<u8>> {
    let cell = task.vm();
    let Some(range) = cell.lock().as_ref().map(range) else {
        return Ok(Vec::new());
    };
    let len = usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(0);
    let mut bytes = alloc::vec![0u8; len.min(tessera_exec::MAX_ARG_TOTAL)];
    let got = crate::mm::vm::read_user(&cell, range.start, &mut bytes);
    bytes.truncate(got);
    Ok(bytes)
}

/// `statm`: size, resident, shared, text, lib (0, as Linux since 2.6), data and dirty (0)
/// pages (Linux's `proc_pid_statm`).
fn statm(task: &Task) -> KResult<String> {
    let exe = task
        .process
        .exe
        .lock()
        .as_ref()
        .map(|d| tessera_vfs::inode_key(d.inode()));
    let [size, resident, shared, text, data] =
        task.vm().lock().as_mut().map_or([0; 5], |vm| vm.statm(exe));
    Ok(format!("{size} {resident} {shared} {text} 0 {data} 0\n"))
}

/// The one-letter state of `stat` and `status`.
fn state_letter(task: &Task) -> char {
    match task.state() {
        TaskState::Runnable => 'R',
        TaskState::Blocked => 'S',
        TaskState::Zombie => 'Z',
        TaskState::Stopped => 'T',
    }
}

/// The state's name after its letter in `status` (Linux's `task_state_array`).
fn state_name(task: &Task) -> &'static str {
    match task.state() {
        TaskState::Runnable => "running",
        TaskState::Blocked => "sleeping",
        TaskState::Zombie => "zombie",
        TaskState::Stopped => "stopped",
    }
}

/// Address space size and resident pages, read under the address space's lock (no file is
/// touched there).
fn memory_of(task: &Task) -> (u64, usize) {
    task.vm().lock().as_mut().map_or((0, 0), |vm| {
        let size = vm.areas().map(|a| a.end - a.start).sum();
        (size, vm.resident_pages())
    })
}

/// `stat`: the 52 fields of proc(5). Filled: pid, comm, state, ppid, pgrp, session, utime,
/// stime (in `USER_HZ` ticks, from the scheduler's tick accounting), priority 20, nice 0,
/// one thread, starttime (ticks after boot), vsize, rss, rsslim (unlimited), exit_signal
/// SIGCHLD. The rest are 0: no controlling terminal number, fault counts, children's
/// times, addresses or signal masks are reported (tpgid is -1, as for a process without a
/// terminal).
fn stat(task: &Task) -> KResult<String> {
    let name = task.name.lock().clone();
    let (vsize, rss) = memory_of(task);
    // A process's times are its threads' (a thread's own under `task/TID` of a thread
    // other than the leader).
    let (utime, stime) = if task.is_leader() {
        task.process_ticks()
    } else {
        (
            task.utime_ticks.load(Ordering::Relaxed),
            task.stime_ticks.load(Ordering::Relaxed),
        )
    };
    let (utime, stime) = (
        sched::ticks_to_clock_t(utime),
        sched::ticks_to_clock_t(stime),
    );
    let start = task.start_ns / (1_000_000_000 / sched::USER_HZ);
    Ok(format!(
        "{} ({name}) {} {} {} {} 0 -1 0 0 0 0 0 {utime} {stime} 0 0 20 0 1 0 {start} {vsize} {rss} 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
        task.tid,
        state_letter(task),
        task.ppid(),
        task.process.pgid.load(Ordering::Relaxed),
        task.process.sid.load(Ordering::Relaxed),
    ))
}

/// `status`: the fields `ps` and `top` read.
fn status(task: &Task) -> KResult<String> {
    let name = task.name.lock().clone();
    let (vsize, rss) = memory_of(task);
    let crate::process::signal::SigMasks {
        pending,
        shared,
        blocked,
        ignored,
        caught,
    } = crate::process::signal::masks(task);
    Ok(format!(
        "Name:\t{name}\nState:\t{} ({})\nTgid:\t{}\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0\n\
         Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmSize:\t{:>8} kB\nVmRSS:\t{:>8} kB\nThreads:\t{}\n\
         SigPnd:\t{pending:016x}\nShdPnd:\t{shared:016x}\nSigBlk:\t{blocked:016x}\n\
         SigIgn:\t{ignored:016x}\nSigCgt:\t{caught:016x}\n",
        state_letter(task),
        state_name(task),
        task.process.tgid,
        task.tid,
        task.ppid(),
        vsize / 1024,
        rss * PAGE_SIZE / 1024,
        task.process.threads.lock().len(),
    ))
}

/// One line of `maps`, taken from an area under the address space's lock.
struct Area {
    start: u64,
    end: u64,
    prot: Prot,
    shared: bool,
    /// The file, its name and the offset of `start` in it.
    file: Option<(Arc<dyn Inode>, DentryRef, u64)>,
    /// The name of a kernel-owned area (`[vdso]`, `[vvar]`).
    special: Option<&'static str>,
}

/// `maps`: one line per area, as Linux's `show_map_vma`: the range, `rwx` and `p`
/// (private) or `s` (shared), the file offset, the file's device and inode number, and the
/// path (`(deleted)` appended once unlinked), `[heap]` for the area `brk` grew, `[stack]`
/// for the stack. Anonymous shared areas are named `/dev/zero (deleted)` as Linux names its
/// shared memory objects for them (with device and inode 0 here). Differences: the `bss` of
/// a program is part of its last file area (Linux shows the part past the file's last page
/// as an anonymous area), and there is no `[vdso]`, `[vvar]` or `[vsyscall]`.
fn maps(task: &Task) -> KResult<String> {
    let (areas, brk_start, brk, stack_top) = {
        let cell = task.vm();
        let vm = cell.lock();
        let Some(vm) = vm.as_ref() else {
            return Ok(String::new());
        };
        let areas: Vec<Area> = vm
            .areas()
            .map(|a| Area {
                start: a.start,
                end: a.end,
                prot: a.prot,
                shared: a.shared,
                file: match &a.backing {
                    Backing::File {
                        inode,
                        offset,
                        name,
                        ..
                    } => Some((inode.clone(), name.clone(), *offset)),
                    Backing::Anonymous | Backing::SharedAnon { .. } | Backing::Special { .. } => {
                        None
                    }
                },
                special: match &a.backing {
                    Backing::Special { name, .. } => Some(*name),
                    _ => None,
                },
            })
            .collect();
        (areas, vm.brk_start, vm.brk, vm.stack_top)
    };
    let page = PAGE_SIZE as u64;
    let heap = brk_start.next_multiple_of(page)..brk.next_multiple_of(page);
    let mut text = String::new();
    for area in areas {
        let (offset, dev, ino, name) = match &area.file {
            Some((inode, dentry, offset)) => {
                let m = inode.metadata()?;
                let mut path = dentry.path();
                if dentry.is_deleted() {
                    path.extend_from_slice(b" (deleted)");
                }
                (
                    *offset,
                    m.dev,
                    m.ino,
                    Some(String::from_utf8_lossy(&path).into_owned()),
                )
            }
            None if area.special.is_some() => (0, 0, 0, area.special.map(String::from)),
            None if area.shared => (0, 0, 0, Some(String::from("/dev/zero (deleted)"))),
            None if heap.contains(&area.start) => (0, 0, 0, Some(String::from("[heap]"))),
            None if area.start < stack_top && area.end >= stack_top => {
                (0, 0, 0, Some(String::from("[stack]")))
            }
            None => (0, 0, 0, None),
        };
        let line_start = text.len();
        let flag = |on: bool, c: char| if on { c } else { '-' };
        let _ = write!(
            text,
            "{:08x}-{:08x} {}{}{}{} {offset:08x} {:02x}:{:02x} {ino} ",
            area.start,
            area.end,
            flag(area.prot.contains(Prot::READ), 'r'),
            flag(area.prot.contains(Prot::WRITE), 'w'),
            flag(area.prot.contains(Prot::EXEC), 'x'),
            if area.shared { 's' } else { 'p' },
            major(dev),
            minor(dev),
        );
        if let Some(name) = name {
            // The name starts in column 74 (Linux pads to 25 + 6 * sizeof(void *) - 1
            // columns, then one space).
            while text.len() - line_start < 72 {
                text.push(' ');
            }
            text.push(' ');
            text.push_str(&name.replace('\n', "\\012"));
        }
        text.push('\n');
    }
    Ok(text)
}

/// `/proc/PID/fd/`: a link per open descriptor, named by its number (mode 0500 as Linux's).
/// `/proc/PID/task/`: a directory per thread of the process that has not exited.
struct TaskDir {
    pid: u32,
}

impl TaskDir {
    fn threads(&self) -> KResult<Vec<u32>> {
        let mut tids: Vec<u32> = task_of(self.pid)?
            .process
            .live_threads()
            .iter()
            .map(|t| t.tid)
            .collect();
        tids.sort_unstable();
        Ok(tids)
    }
}

impl Listing for TaskDir {
    fn ino(&self) -> u64 {
        pid_ino(self.pid, TASK_DIR)
    }
    fn parent_ino(&self) -> u64 {
        pid_ino(self.pid, 0)
    }
    fn mode(&self) -> u32 {
        0o555
    }
    fn child(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let tid = core::str::from_utf8(name)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|tid| self.threads().is_ok_and(|t| t.contains(tid)))
            .ok_or(Errno::ENOENT)?;
        Ok(Arc::new(Dir(PidDir {
            pid: tid,
            thread_of: Some(self.pid),
        })))
    }
    fn entries(&self) -> KResult<Vec<(u64, FileType, Vec<u8>)>> {
        Ok(self
            .threads()?
            .into_iter()
            .map(|tid| {
                let name = format!("{tid}").into_bytes();
                (pid_ino(tid, THREAD_DIR), FileType::Directory, name)
            })
            .collect())
    }
}

struct FdDir {
    pid: u32,
}

impl Listing for FdDir {
    fn ino(&self) -> u64 {
        pid_ino(self.pid, 6)
    }
    fn parent_ino(&self) -> u64 {
        pid_ino(self.pid, 0)
    }
    fn mode(&self) -> u32 {
        0o500
    }
    fn child(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let fd: i32 = core::str::from_utf8(name)
            .ok()
            .filter(|s| !s.starts_with('+') && (s.len() == 1 || !s.starts_with('0')))
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::ENOENT)?;
        let file = task_of(self.pid)?
            .files
            .lock()
            .get(fd)
            .map_err(|_| Errno::ENOENT)?;
        Ok(Arc::new(FdLink {
            pid: self.pid,
            fd,
            mode: S_IFLNK
                | if file.readable() { 0o500 } else { 0 }
                | if file.writable() { 0o300 } else { 0 },
        }))
    }
    /// The open descriptors, read under the fd table's lock.
    fn entries(&self) -> KResult<Vec<(u64, FileType, Vec<u8>)>> {
        let fds = task_of(self.pid)?.files.lock().open_fds();
        Ok(fds
            .iter()
            .map(|(fd, _)| {
                let ino = pid_ino(self.pid, FD_INO + *fd as u64);
                (ino, FileType::Symlink, format!("{fd}").into_bytes())
            })
            .collect())
    }
}

/// The open file a `/proc/PID/fd/N` link stands for, if `inode` is one whose descriptor is
/// still open: what opening the link reaches where its text names nothing (a pipe's
/// `pipe:[ino]`; `fs::open_fd_link`).
pub fn fd_link_file(inode: &dyn Inode) -> Option<Arc<crate::fs::OpenFile>> {
    let link = inode.as_any().downcast_ref::<FdLink>()?;
    task_of(link.pid).ok()?.files.lock().get(link.fd).ok()
}

/// `/proc/PID/fd/N`: its target is the file's path, or Linux's `pipe:[ino]`, `socket:[ino]`,
/// `anon_inode:[...]` ([`crate::fs::OpenFile::link_target`]); its mode says how the file
/// is open (read: `r-x`, write: `-wx`, as Linux's).
struct FdLink {
    pid: u32,
    fd: i32,
    mode: u32,
}

impl Inode for FdLink {
    fn metadata(&self) -> KResult<Metadata> {
        Ok(meta(
            pid_ino(self.pid, FD_INO + self.fd as u64),
            self.mode,
            1,
        ))
    }
    fn file_type(&self) -> FileType {
        FileType::Symlink
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn readlink(&self) -> KResult<Vec<u8>> {
        let file = task_of(self.pid)?
            .files
            .lock()
            .get(self.fd)
            .map_err(|_| Errno::ENOENT)?;
        Ok(file.link_target())
    }
}
