//! Open files and file descriptor tables.
//!
//! An [`OpenFile`] is what an fd refers to (shared by dup and fork): the object's operations,
//! the file offset and the status flags. Operations are a trait so that regular files,
//! directories, pipes, the console and device files share one fd table.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use tessera_abi::fs::MAX_RW_COUNT;
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_sync::SubsystemLock;

use super::stat::Stat;
use crate::process::sched::WaitQueue;

pub use tessera_abi::fs::{
    O_ACCMODE, O_APPEND, O_CLOEXEC, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
};

/// What an open file can do. Defaults are the errors Linux gives for objects that lack the
/// operation.
pub trait FileOps: Send + Sync {
    /// Reads at `offset` (ignored by streams); may block unless `nonblock`.
    fn read(&self, offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize>;
    /// Writes at `offset` (ignored by streams); may block unless `nonblock`.
    fn write(&self, offset: u64, buf: &[u8], nonblock: bool) -> KResult<usize>;
    /// Reads into user memory. The default goes through a kernel buffer; streams override it
    /// to copy straight from their buffer, so that a bad user pointer consumes nothing.
    fn read_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        let mut buf = alloc::vec![0u8; len.min(USER_CHUNK)];
        let n = self.read(offset, &mut buf, nonblock)?;
        crate::user::write_bytes(addr, &buf[..n])?;
        Ok(n)
    }
    /// Whether a write(2) that one step left short goes on with another (the default: steps
    /// are this kernel's chunks of a longer write). A file whose write moves one record
    /// whatever the length (eventfd's 8 bytes) says no: its first step is the call's answer.
    fn write_continues(&self) -> bool {
        true
    }
    /// Writes from user memory (default: through a kernel buffer, one chunk).
    fn write_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        let buf = crate::user::read_bytes(addr, len.min(USER_CHUNK))?;
        self.write(offset, &buf, nonblock)
    }
    fn stat(&self) -> KResult<Stat>;
    /// Whether lseek and pread/pwrite make sense (regular files, directories, block devices).
    fn seekable(&self) -> bool {
        false
    }
    /// Whether reads and writes use and advance the file offset (devices like /dev/null
    /// accept lseek but ignore the offset, so their reads skip it).
    fn positional(&self) -> bool {
        self.seekable()
    }
    /// The size, for SEEK_END and O_APPEND.
    fn size(&self) -> u64 {
        0
    }
    fn truncate(&self, _len: u64) -> KResult<()> {
        Err(Errno::EINVAL)
    }
    /// The ioctl; `arg` is the raw user argument.
    fn ioctl(&self, _cmd: u32, _arg: u64) -> KResult<isize> {
        Err(Errno::ENOTTY)
    }
    /// Current readiness (POLLIN/POLLOUT/POLLHUP...). Files are always ready.
    fn poll(&self) -> PollEvents {
        PollEvents::IN | PollEvents::OUT
    }
    /// Whether the file has a poll operation of its own (Linux's `file_can_poll`): epoll
    /// refuses the others (EPERM), poll and select find them always ready. Regular files,
    /// directories and most devices have none.
    fn can_poll(&self) -> bool {
        false
    }
    /// Tells `add` each wait queue on which the file announces that `poll`'s answer may
    /// have changed (Linux's `poll_wait` calls in a file's `poll`): poll, select and epoll
    /// wait for the file there. A file whose readiness never changes has none.
    fn wait_queues(&self, _add: &mut dyn FnMut(&WaitQueue)) {}
    /// The object behind the file, for the calls that take one kind of file only
    /// (`epoll_ctl`'s epoll, `timerfd_settime`, a signalfd's update: where Linux compares
    /// the file's operations).
    fn as_any(&self) -> Option<&dyn core::any::Any> {
        None
    }
    /// Directory entries from `cookie` into linux_dirent64 records in `buf`; returns the
    /// bytes written and the next cookie.
    fn getdents(&self, _cookie: u64, _buf: &mut [u8]) -> KResult<(usize, u64)> {
        Err(Errno::ENOTDIR)
    }
    /// The VFS node behind this file, for fchdir, fstatat(fd, ""), mmap and *at lookups.
    fn dentry(&self) -> Option<super::DentryRef> {
        None
    }
    /// What mmap maps of this file (Linux: what the file's `mmap` operation sets up). The
    /// default is ENODEV, Linux's error for files without one: pipes, sockets, ttys,
    /// procfs files, directories.
    fn mmap(&self) -> KResult<MapTarget> {
        Err(Errno::ENODEV)
    }
    /// Called when the last fd referring to this open file is closed.
    fn release(&self) {}
    /// The last reference to `file` (open on this object) is gone: epoll forgets the
    /// file's registrations (only a file that can poll has any: Linux's
    /// `eventpoll_release`, before the release), then [`FileOps::release`]. Not meant to be
    /// overridden: for the many files that cannot poll, the check compiles away.
    fn closed(&self, file: &OpenFile) {
        if self.can_poll() {
            super::epoll::file_closed(file);
        }
        self.release();
    }
    /// What `/proc/PID/fd/N` names when the file was not opened by a path: Linux's
    /// `pipe:[ino]` and `socket:[ino]` by the file's type and inode number, else
    /// `anon_inode:[name]` (objects that override this name themselves).
    #[allow(dead_code, reason = "for procfs, which a config may leave out")]
    fn link_name(&self) -> Vec<u8> {
        use tessera_abi::fs::{S_IFIFO, S_IFMT, S_IFSOCK};
        match self.stat() {
            Ok(st) if st.mode & S_IFMT == S_IFIFO => alloc::format!("pipe:[{}]", st.ino).into(),
            Ok(st) if st.mode & S_IFMT == S_IFSOCK => alloc::format!("socket:[{}]", st.ino).into(),
            _ => b"anon_inode:[unknown]".to_vec(),
        }
    }
}

/// What an mmap of an open file maps ([`FileOps::mmap`]).
pub enum MapTarget {
    /// Pages of this file, through the page cache.
    File(Arc<dyn tessera_vfs::Inode>),
    /// Zero-filled memory, as an anonymous mapping (`/dev/zero`).
    Zeroes,
}

/// The most bytes one default read_user/write_user step moves through the kernel.
pub const USER_CHUNK: usize = 64 * 1024;

/// An open file description.
pub struct OpenFile {
    pub ops: Arc<dyn FileOps>,
    pub offset: SubsystemLock<u64>,
    /// O_ACCMODE, O_APPEND, O_NONBLOCK... (as fcntl F_GETFL reports them).
    pub flags: AtomicU32,
    /// The name it was opened by (Linux's `f_path`), when opened by a path: device nodes
    /// and fifos, whose operations do not keep it themselves.
    opened_at: Option<super::DentryRef>,
}

impl OpenFile {
    pub fn new(ops: Arc<dyn FileOps>, flags: u32) -> Arc<OpenFile> {
        Self::build(ops, flags, None)
    }

    /// An open file that was opened by the path `dentry` names.
    pub fn new_at(ops: Arc<dyn FileOps>, flags: u32, dentry: super::DentryRef) -> Arc<OpenFile> {
        Self::build(ops, flags, Some(dentry))
    }

    fn build(
        ops: Arc<dyn FileOps>,
        flags: u32,
        opened_at: Option<super::DentryRef>,
    ) -> Arc<OpenFile> {
        OPEN.fetch_add(1, Ordering::Relaxed);
        Arc::new(OpenFile {
            ops,
            offset: SubsystemLock::new(0),
            flags: AtomicU32::new(flags & !O_CLOEXEC),
            opened_at,
        })
    }

    /// The name this file was opened by, if it was opened by a path.
    pub fn path(&self) -> Option<super::DentryRef> {
        self.opened_at.clone().or_else(|| self.ops.dentry())
    }

    /// The target of `/proc/PID/fd/N` for this file: its path (`(deleted)` appended once
    /// unlinked, as Linux's `d_path`), or [`FileOps::link_name`].
    #[allow(dead_code, reason = "for procfs, which a config may leave out")]
    pub fn link_target(&self) -> Vec<u8> {
        match self.path() {
            Some(dentry) => {
                let mut path = dentry.path();
                if dentry.is_deleted() {
                    path.extend_from_slice(b" (deleted)");
                }
                path
            }
            None => self.ops.link_name(),
        }
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn readable(&self) -> bool {
        self.flags() & O_ACCMODE != O_WRONLY && self.flags() & O_PATH == 0
    }

    pub fn writable(&self) -> bool {
        self.flags() & O_ACCMODE != O_RDONLY && self.flags() & O_PATH == 0
    }

    fn nonblock(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }

    /// read(2) into user memory, as Linux's `vfs_read`: EBADF unless open for reading,
    /// EFAULT unless all `count` bytes from `addr` are user memory (`access_ok`, before any
    /// byte moves), then at most `MAX_RW_COUNT` bytes at the file offset, advancing it only
    /// by what reached the user (a fault consumes nothing). Inlined into read's path.
    #[inline(always)]
    pub fn read_user(&self, addr: u64, count: usize) -> KResult<usize> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if !crate::user::access_ok(addr, count as u64) {
            return Err(Errno::EFAULT);
        }
        let len = count.min(MAX_RW_COUNT);
        if !self.ops.positional() {
            return self.ops.read_user(0, addr, len, self.nonblock());
        }
        let mut offset = self.offset.lock();
        let n = self.ops.read_user(*offset, addr, len, self.nonblock())?;
        *offset += n as u64;
        Ok(n)
    }

    /// write(2) from user memory, one step of at most `MAX_RW_COUNT` bytes (the caller loops
    /// for long writes), checked as [`OpenFile::read_user`] (Linux's `vfs_write`). Inlined
    /// into write's path.
    #[inline(always)]
    pub fn write_user(&self, addr: u64, count: usize) -> KResult<usize> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if !crate::user::access_ok(addr, count as u64) {
            return Err(Errno::EFAULT);
        }
        let len = count.min(MAX_RW_COUNT);
        if !self.ops.positional() {
            return self.ops.write_user(0, addr, len, self.nonblock());
        }
        let mut offset = self.offset.lock();
        if self.flags() & O_APPEND != 0 {
            *offset = self.ops.size();
        }
        let n = self.ops.write_user(*offset, addr, len, self.nonblock())?;
        *offset += n as u64;
        Ok(n)
    }

    /// read(2): at the file offset, advancing it.
    pub fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if !self.ops.seekable() {
            return self.ops.read(0, buf, self.nonblock());
        }
        let mut offset = self.offset.lock();
        let n = self.ops.read(*offset, buf, self.nonblock())?;
        *offset += n as u64;
        Ok(n)
    }

    /// write(2): at the offset (or the end with O_APPEND), advancing it.
    pub fn write(&self, buf: &[u8]) -> KResult<usize> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if !self.ops.seekable() {
            return self.ops.write(0, buf, self.nonblock());
        }
        let mut offset = self.offset.lock();
        if self.flags() & O_APPEND != 0 {
            *offset = self.ops.size();
        }
        let n = self.ops.write(*offset, buf, self.nonblock())?;
        *offset += n as u64;
        Ok(n)
    }

    /// pread64 (no offset change); also what file-backed mmap reads with.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        if !self.ops.seekable() {
            return Err(Errno::ESPIPE);
        }
        self.ops.read(offset, buf, self.nonblock())
    }

    /// pread: `len` bytes at `offset` into user memory at `addr`, the file offset unchanged.
    pub fn pread_user(&self, offset: u64, addr: u64, len: usize) -> KResult<usize> {
        if !self.ops.seekable() {
            return Err(Errno::ESPIPE);
        }
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        self.ops.read_user(offset, addr, len, self.nonblock())
    }

    /// pwrite: `len` bytes of user memory at `addr` to `offset`, the file offset unchanged.
    pub fn pwrite_user(&self, offset: u64, addr: u64, len: usize) -> KResult<usize> {
        if !self.ops.seekable() {
            return Err(Errno::ESPIPE);
        }
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        self.ops.write_user(offset, addr, len, self.nonblock())
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
        super::locks::description_closed(self);
        self.ops.closed(self);
    }
}

/// Open file descriptions alive (Linux's `nr_files`): what the leak accounting counts.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// How many open file descriptions exist, whoever holds them.
pub fn open_count() -> usize {
    OPEN.load(Ordering::Relaxed)
}

/// The hard ceiling of RLIMIT_NOFILE (Linux's nr_open is larger; this kernel keeps tables small).
pub const MAX_FDS: usize = 4096;
/// The default soft RLIMIT_NOFILE, as on Linux.
pub const DEFAULT_FD_LIMIT: usize = 1024;

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

/// A process's file descriptors.
#[derive(Clone)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    /// RLIMIT_NOFILE's soft limit: fds must be below it.
    pub limit: usize,
}

impl Default for FdTable {
    fn default() -> Self {
        FdTable {
            slots: Vec::new(),
            limit: DEFAULT_FD_LIMIT,
        }
    }
}

impl FdTable {
    pub fn get(&self, fd: i32) -> KResult<Arc<OpenFile>> {
        usize::try_from(fd)
            .ok()
            .and_then(|fd| self.slots.get(fd))
            .and_then(|slot| slot.as_ref())
            .map(|slot| slot.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// The lowest free fd at or above `min`.
    pub fn insert_from(&mut self, min: usize, file: Arc<OpenFile>, cloexec: bool) -> KResult<i32> {
        let fd = (min..self.limit)
            .find(|&fd| self.slots.get(fd).is_none_or(|s| s.is_none()))
            .ok_or(Errno::EMFILE)?;
        self.set(fd, file, cloexec);
        Ok(fd as i32)
    }

    pub fn insert(&mut self, file: Arc<OpenFile>, cloexec: bool) -> KResult<i32> {
        self.insert_from(0, file, cloexec)
    }

    /// Puts `file` at `fd`, closing what was there.
    pub fn set(&mut self, fd: usize, file: Arc<OpenFile>, cloexec: bool) {
        if self.slots.len() <= fd {
            self.slots.resize(fd + 1, None);
        }
        let old = self.slots[fd].replace(Slot { file, cloexec });
        self.closed(old);
    }

    pub fn close(&mut self, fd: i32) -> KResult<()> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|fd| self.slots.get_mut(fd))
            .ok_or(Errno::EBADF)?
            .take()
            .ok_or(Errno::EBADF)?;
        self.closed(Some(slot));
        Ok(())
    }

    /// The owner of the POSIX locks taken through this table (Linux's `files_struct`):
    /// the table's address, which stays put while its `Files` lives (the tasks that share
    /// the table share the locks; fork copies the table, execve keeps it).
    pub fn lock_owner(&self) -> usize {
        self as *const FdTable as usize
    }

    /// A descriptor left the table: the table's POSIX locks on its file go with it.
    fn closed(&self, slot: Option<Slot>) {
        if let Some(slot) = slot {
            super::locks::fd_closed(&slot.file, self.lock_owner());
        }
    }

    pub fn cloexec(&self, fd: i32) -> KResult<bool> {
        self.get(fd)?;
        Ok(self.slots[fd as usize].as_ref().is_some_and(|s| s.cloexec))
    }

    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> KResult<()> {
        self.get(fd)?;
        if let Some(slot) = self.slots[fd as usize].as_mut() {
            slot.cloexec = on;
        }
        Ok(())
    }

    /// close_range: closes the open descriptors from `first` to `last` (or, with `cloexec`,
    /// marks them close-on-exec); the closed files, for the caller to drop unlocked.
    pub fn close_range(&mut self, first: usize, last: usize, cloexec: bool) -> Vec<Arc<OpenFile>> {
        let end = last.saturating_add(1).min(self.slots.len());
        let mut closed = Vec::new();
        for slot in self.slots.get_mut(first..end).into_iter().flatten() {
            match slot {
                Some(open) if cloexec => open.cloexec = true,
                Some(_) => closed.extend(slot.take().map(|s| s.file)),
                None => {}
            }
        }
        closed
    }

    /// execve: closes the O_CLOEXEC descriptors.
    pub fn close_on_exec(&mut self) {
        let owner = self.lock_owner();
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|s| s.cloexec)
                && let Some(slot) = slot.take()
            {
                super::locks::fd_closed(&slot.file, owner);
            }
        }
    }

    pub fn close_all(&mut self) {
        if super::locks::any() {
            let owner = self.lock_owner();
            for slot in self.slots.iter().flatten() {
                super::locks::fd_closed(&slot.file, owner);
            }
        }
        self.slots.clear();
    }

    /// Every open descriptor with its file, in fd order (`/proc/PID/fd`).
    #[allow(dead_code, reason = "for procfs, which a config may leave out")]
    pub fn open_fds(&self) -> Vec<(i32, Arc<OpenFile>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(fd, slot)| Some((fd as i32, slot.as_ref()?.file.clone())))
            .collect()
    }
}
