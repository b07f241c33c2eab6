//! File syscalls: descriptors, I/O, paths, directories, metadata, poll/select, mounts.
//!
//! Arguments are decoded as the prototypes of `include/linux/syscalls.h` type them
//! (`syscall/args.rs`), and checked in Linux's order (`fs/read_write.c`, `fs/open.c`,
//! `fs/namei.c`, `fs/stat.c`...): where Linux looks at an offset, a flags word or a buffer's
//! range before the descriptor, so does each handler here.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};
use tessera_vfs::{FileType, OpenHow};

use super::args::{Args, Decode, UserPtr, user_range};
use crate::fs::file::*;
use crate::fs::inode_stat;
use crate::fs::stat::{S_IFMT, S_IFREG, StatxExtra};
use crate::fs::{self as kfs, DentryRef, OpenFile, vfs};
use crate::process::{current, sched};
use crate::user;

use tessera_abi::fs::{
    __O_TMPFILE, AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR,
    AT_STATX_SYNC_TYPE, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD,
    F_GETFL, F_GETLK, F_GETPIPE_SZ, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETFD, F_SETFL,
    F_SETLK, F_SETLKW, F_SETPIPE_SZ, FD_CLOEXEC, FIOCLEX, FIONBIO, FIONCLEX, MAX_FILE_OFFSET,
    MAX_RW_COUNT, MNT_DETACH, MNT_EXPIRE, MNT_FORCE, O_CREAT, O_DIRECTORY, O_LARGEFILE, O_NOFOLLOW,
    R_OK, RENAME_NOREPLACE, S_IALLUGO, S_IFDIR, S_IFIFO, S_IFSOCK, S_IRWXUGO, S_IXUGO, SEEK_CUR,
    SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, STATX__RESERVED, STATX_ATTR_APPEND,
    STATX_ATTR_AUTOMOUNT, STATX_ATTR_DAX, STATX_ATTR_IMMUTABLE, STATX_ATTR_MOUNT_ROOT,
    STATX_ATTR_NODUMP, STATX_BTIME, STATX_MNT_ID, UMOUNT_NOFOLLOW, UTIME_NOW, UTIME_OMIT, W_OK,
    X_OK,
};

/// Reads and writes move through a kernel buffer of at most this many bytes per step.
const CHUNK: usize = 64 * 1024;

/// The open file of a descriptor (`int fd` or `unsigned int fd`, decoded by `Decode::fd`).
fn file(fd: i32) -> KResult<Arc<OpenFile>> {
    sched::on_current(|task| task.files.lock().get(fd))
}

/// (start, root) for a path relative to `dirfd`.
fn at(dirfd: i32, path: &[u8]) -> KResult<(DentryRef, DentryRef)> {
    let task = current();
    let fs = task.fs.lock().clone();
    if path.first() == Some(&b'/') || dirfd == AT_FDCWD {
        return Ok((fs.cwd, fs.root));
    }
    let dir = task
        .files
        .lock()
        .get(dirfd)?
        .ops
        .dentry()
        .ok_or(Errno::ENOTDIR)?;
    if !dir.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok((dir, fs.root))
}

/// The inode of (dirfd, path) through the config's `lookup` variant.
fn lookup_inode_at(dirfd: i32, path: &[u8], follow: bool) -> KResult<Arc<dyn tessera_vfs::Inode>> {
    let (start, root) = at(dirfd, path)?;
    vfs().lookup_inode(&start, &root, path, follow)
}

fn resolve_at(dirfd: i32, path: &[u8], follow: bool) -> KResult<DentryRef> {
    let (start, root) = at(dirfd, path)?;
    vfs().resolve(&start, &root, path, follow)
}

/// A path argument of an `*at` call that takes `AT_EMPTY_PATH`: an empty string is allowed
/// with the flag (it then names `dirfd` itself), ENOENT without it. Inlined: the path may
/// be a page-sized buffer, which a return would copy.
#[inline(always)]
fn path_at_flags(path: UserPtr, flags: u32) -> KResult<user::UserPath> {
    match path.read_path() {
        Err(Errno::ENOENT) if flags & AT_EMPTY_PATH != 0 => Ok(user::UserPath::Heap(Vec::new())),
        other => other,
    }
}

/// The dentry an `*at` call names: (dirfd, path), or with an empty path (`AT_EMPTY_PATH`)
/// the file `dirfd` refers to, the working directory for `AT_FDCWD` (Linux's
/// `LOOKUP_EMPTY`). EINVAL for an open file with no name (a pipe, a socket).
fn dentry_at(dirfd: i32, path: &[u8], follow: bool) -> KResult<DentryRef> {
    if !path.is_empty() {
        return resolve_at(dirfd, path, follow);
    }
    if dirfd == AT_FDCWD {
        return Ok(current().fs.lock().cwd.clone());
    }
    file(dirfd)?.path().ok_or(Errno::EINVAL)
}

fn current_umask() -> u32 {
    current().fs.lock().umask
}

// ---- read and write ----

/// Linux's `vfs_read` for `count` bytes into `buf` at the file offset
/// ([`OpenFile::read_user`]: EBADF, EFAULT for the whole range, at most MAX_RW_COUNT).
#[inline(always)]
fn read_from(f: &OpenFile, buf: UserPtr, count: usize) -> KResult<isize> {
    Ok(f.read_user(buf.addr(), count)? as isize)
}

/// Linux's `vfs_write` from `buf`, as [`read_from`]. Most writes complete in one step
/// (pipes and devices always do); an error then is the syscall's. Files take one step per
/// kernel chunk; a later error ends the write short.
#[inline(always)]
fn write_to(f: &OpenFile, buf: UserPtr, count: usize) -> KResult<isize> {
    let mut done = f.write_user(buf.addr(), count)?;
    let len = count.min(MAX_RW_COUNT);
    while done < len && f.ops.write_continues() && sched::keep_going() {
        match f.write_user(buf.at(done as u64).addr(), len - done) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    Ok(done as isize)
}

/// read(unsigned int fd, char *buf, size_t count).
pub fn read(a: &Args) -> KResult<isize> {
    read_from(&*file(a.fd(0))?, a.ptr(1), a.size(2))
}

/// write(unsigned int fd, const char *buf, size_t count).
pub fn write(a: &Args) -> KResult<isize> {
    write_to(&*file(a.fd(0))?, a.ptr(1), a.size(2))
}

/// The checks pread64 and pwrite64 share (`ksys_pread64`, `vfs_read`, `rw_verify_area`): a
/// negative position is EINVAL before the descriptor is looked at; then EBADF, ESPIPE for
/// a file without positions, EBADF for the access mode (`allowed`), EFAULT for the buffer,
/// and EINVAL when the position and the count together pass the largest offset.
fn positioned(
    a: &Args,
    allowed: fn(&OpenFile) -> bool,
) -> KResult<(Arc<OpenFile>, u64, UserPtr, usize)> {
    let pos = a.offset(3, Errno::EINVAL)?;
    let (f, buf, count) = (file(a.fd(0))?, a.ptr(1), a.size(2));
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    if !allowed(&f) {
        return Err(Errno::EBADF);
    }
    user_range(buf, count as u64)?;
    // Both are below 2^63 here (a user range is shorter than the user half).
    if pos + count as u64 > MAX_FILE_OFFSET {
        return Err(Errno::EINVAL);
    }
    Ok((f, pos, buf, count.min(MAX_RW_COUNT)))
}

/// pread64(unsigned int fd, char *buf, size_t count, loff_t pos).
pub fn pread64(a: &Args) -> KResult<isize> {
    let (f, pos, buf, count) = positioned(a, OpenFile::readable)?;
    Ok(f.pread_user(pos, buf.addr(), count)? as isize)
}

/// pwrite64(unsigned int fd, const char *buf, size_t count, loff_t pos).
pub fn pwrite64(a: &Args) -> KResult<isize> {
    let (f, pos, buf, count) = positioned(a, OpenFile::writable)?;
    Ok(f.pwrite_user(pos, buf.addr(), count)? as isize)
}

/// readv and writev (unsigned long fd, const struct iovec *vec, unsigned long vlen), as
/// Linux's `do_readv` and `vfs_readv`: the descriptor (EBADF), then the array, whose length
/// `import_iovec` takes as an `unsigned int` (EFAULT, EINVAL), then the access mode (EBADF,
/// even for no buffers); then each buffer in turn, stopping at the first short transfer.
/// An error is the syscall's only if nothing moved yet.
fn vectored(a: &Args, write: bool) -> KResult<isize> {
    let f = file(a.fd(0))?;
    let iovecs = user::read_iovecs(a.ptr(1).addr(), u64::from(a.uint(2)), Errno::EINVAL)?;
    if !(if write { f.writable() } else { f.readable() }) {
        return Err(Errno::EBADF);
    }
    let mut total = 0isize;
    for (base, len) in iovecs {
        if len == 0 {
            continue;
        }
        if total > 0 && !sched::keep_going() {
            break;
        }
        let buf = UserPtr::new(base);
        let step = if write {
            write_to(&f, buf, len)
        } else {
            read_from(&f, buf, len)
        };
        let n = match step {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if (n as usize) < len {
            break;
        }
    }
    Ok(total)
}

pub fn readv(a: &Args) -> KResult<isize> {
    vectored(a, false)
}

pub fn writev(a: &Args) -> KResult<isize> {
    vectored(a, true)
}

/// lseek(unsigned int fd, off_t offset, unsigned int whence), as Linux's `ksys_lseek` and
/// `generic_file_llseek_size`: a `whence` past `SEEK_HOLE` is EINVAL before a pipe's
/// ESPIPE; a new offset below 0 (a sum that wraps included) is EINVAL. `SEEK_DATA` and
/// `SEEK_HOLE` see a regular file as all data with a hole at its end (ENXIO at or past
/// the end); other files refuse them (EINVAL).
pub fn lseek(a: &Args) -> KResult<isize> {
    let (f, offset, whence) = (file(a.fd(0))?, a.long(1), a.uint(2));
    if whence > SEEK_HOLE {
        return Err(Errno::EINVAL);
    }
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let mut pos = f.offset.lock();
    let new = match whence {
        SEEK_SET => offset,
        SEEK_CUR => (*pos as i64).wrapping_add(offset),
        SEEK_END => (f.ops.size() as i64).wrapping_add(offset),
        _ => {
            if f.ops.stat()?.mode & S_IFMT != S_IFREG {
                return Err(Errno::EINVAL);
            }
            let size = f.ops.size();
            if offset as u64 >= size {
                return Err(Errno::ENXIO);
            }
            if whence == SEEK_DATA {
                offset
            } else {
                size as i64
            }
        }
    };
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    *pos = new as u64;
    Ok(new as isize)
}

// ---- opening and closing ----

/// open, openat and creat: `flags` as the call's `int`, `mode` as its `umode_t`. On a 64-bit
/// kernel every open is a large-file open (Linux's `force_o_largefile`): the file's flags
/// carry `O_LARGEFILE` whether the caller passed it (musl) or not (glibc).
fn do_open(dirfd: i32, path: UserPtr, flags: u32, mode: u32) -> KResult<isize> {
    let flags = flags | O_LARGEFILE;
    if flags & __O_TMPFILE != 0 {
        // O_TMPFILE needs O_DIRECTORY and write access; unnamed files are not supported.
        if flags & O_DIRECTORY == 0 || flags & O_ACCMODE == O_RDONLY {
            return Err(Errno::EINVAL);
        }
        return Err(Errno::EOPNOTSUPP);
    }
    // O_PATH keeps only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC (Linux's build_open_flags):
    // no access mode, no O_TRUNC, no O_CREAT.
    let flags = match flags & O_PATH {
        0 => flags,
        _ => flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
    };
    let path = path.read_path()?;
    let (start, root) = at(dirfd, &path)?;
    let how = OpenHow::from_flags(flags, mode & S_IALLUGO & !current_umask());
    let opened = match vfs().open(&start, &root, &path, &how) {
        Ok(opened) => opened,
        Err(e) => return open_fd_link(dirfd, &path, flags).unwrap_or(Err(e)),
    };
    let dentry = opened.dentry;
    let kind = dentry.inode().file_type();
    if kind == FileType::Directory && flags & O_ACCMODE != O_RDONLY {
        return Err(Errno::EISDIR);
    }
    // The open file takes write access first (ETXTBSY for a running program), then truncates.
    let truncate = flags & O_TRUNC != 0
        && kind == FileType::Regular
        && flags & O_ACCMODE != O_RDONLY
        && !opened.created;
    let file = kfs::open_dentry(dentry.clone(), flags)?;
    if truncate {
        kfs::truncate(dentry.inode(), 0)?;
    }
    let fd = current()
        .files
        .lock()
        .insert(file, flags & O_CLOEXEC != 0)?;
    Ok(fd as isize)
}

/// Opening `/proc/PID/fd/N` of a pipe, whose text (`pipe:[ino]`) names nothing: Linux's
/// links there are "magic" and reach the open file itself, here a new end of the same pipe
/// (bash's process substitution opens `/dev/fd/63`, a link into `/proc/self/fd`). Tried
/// only when the ordinary open failed (with or without `O_CREAT`: `>(...)` opens with
/// it); `None` when `path` is no such link, and the open's own error stands.
fn open_fd_link(dirfd: i32, path: &[u8], flags: u32) -> Option<KResult<isize>> {
    if flags & (O_NOFOLLOW | O_PATH) != 0 {
        return None;
    }
    let file = fd_link_target(dirfd, path)?;
    let reopened = kfs::pipe::reopen(&file, flags & (O_ACCMODE | O_NONBLOCK))?;
    Some(reopened.and_then(|file| {
        let fd = current()
            .files
            .lock()
            .insert(file, flags & O_CLOEXEC != 0)?;
        Ok(fd as isize)
    }))
}

/// open(const char *filename, int flags, umode_t mode).
pub fn open(a: &Args) -> KResult<isize> {
    do_open(AT_FDCWD, a.ptr(0), a.uint(1), a.mode(2))
}

/// creat(const char *pathname, umode_t mode): open(path, O_CREAT | O_WRONLY | O_TRUNC, mode).
pub fn creat(a: &Args) -> KResult<isize> {
    do_open(AT_FDCWD, a.ptr(0), O_CREAT | O_WRONLY | O_TRUNC, a.mode(1))
}

/// openat(int dfd, const char *filename, int flags, umode_t mode).
pub fn openat(a: &Args) -> KResult<isize> {
    do_open(a.fd(0), a.ptr(1), a.uint(2), a.mode(3))
}

/// close(unsigned int fd).
pub fn close(a: &Args) -> KResult<isize> {
    current().files.lock().close(a.fd(0))?;
    Ok(0)
}

/// dup(unsigned int fildes).
pub fn dup(a: &Args) -> KResult<isize> {
    let task = current();
    let mut files = task.files.lock();
    let f = files.get(a.fd(0))?;
    Ok(files.insert(f, false)? as isize)
}

/// `old` to `new` (an `unsigned int`): EBADF for `new` at or past the descriptor limit.
fn dup_to(old: u32, new: u32, cloexec: bool) -> KResult<isize> {
    let task = current();
    let mut files = task.files.lock();
    let f = files.get(old as i32)?;
    if new as usize >= files.limit {
        return Err(Errno::EBADF);
    }
    files.set(new as usize, f, cloexec);
    Ok(new as isize)
}

/// dup2(unsigned int oldfd, unsigned int newfd): the two compared as 32-bit numbers.
pub fn dup2(a: &Args) -> KResult<isize> {
    let (old, new) = (a.uint(0), a.uint(1));
    if old == new {
        file(old as i32)?;
        return Ok(new as isize);
    }
    dup_to(old, new, false)
}

/// dup3(unsigned int oldfd, unsigned int newfd, int flags): the flags, then old == new
/// (EINVAL both), then the descriptors (Linux's `ksys_dup3`).
pub fn dup3(a: &Args) -> KResult<isize> {
    let (old, new, flags) = (a.uint(0), a.uint(1), a.uint(2));
    if flags & !O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    dup_to(old, new, flags & O_CLOEXEC != 0)
}

/// fcntl(unsigned int fd, unsigned int cmd, unsigned long arg). The commands that take a
/// number read it as Linux's `do_fcntl` does, an `int` (F_DUPFD's lowest descriptor is then
/// an `unsigned int`: a negative one is past the limit, EINVAL).
pub fn fcntl(a: &Args) -> KResult<isize> {
    let (fd, cmd, arg) = (a.fd(0), a.uint(1), a.ulong(2));
    if matches!(
        cmd,
        F_GETLK | F_SETLK | F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW
    ) {
        return super::locks::fcntl(fd, cmd, a.ptr(2).addr());
    }
    let argi = arg as u32;
    let task = current();
    let mut files = task.files.lock();
    let f = files.get(fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            if argi as usize >= files.limit {
                return Err(Errno::EINVAL);
            }
            Ok(files.insert_from(argi as usize, f, cmd == F_DUPFD_CLOEXEC)? as isize)
        }
        F_GETFD => Ok(if files.cloexec(fd)? {
            FD_CLOEXEC as isize
        } else {
            0
        }),
        F_SETFD => {
            files.set_cloexec(fd, arg & u64::from(FD_CLOEXEC) != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(f.flags() as isize),
        F_SETFL => {
            let settable = O_APPEND | O_NONBLOCK;
            let old = f.flags();
            f.flags.store(
                (old & !settable) | (argi & settable),
                core::sync::atomic::Ordering::Relaxed,
            );
            Ok(0)
        }
        // Pipes have a fixed 64 KiB ring; F_SETPIPE_SZ reports that size.
        F_GETPIPE_SZ | F_SETPIPE_SZ if f.ops.stat()?.mode & S_IFMT == S_IFIFO => {
            Ok(tessera_pipe::PIPE_CAPACITY as isize)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// pipe(int *fildes).
pub fn pipe(a: &Args) -> KResult<isize> {
    make_pipe(a.ptr(0), 0)
}

/// pipe2(int *fildes, int flags).
pub fn pipe2(a: &Args) -> KResult<isize> {
    make_pipe(a.ptr(0), a.uint(1))
}

/// A pipe whose two descriptors are stored at `fds`; on EFAULT neither stays open.
fn make_pipe(fds: UserPtr, flags: u32) -> KResult<isize> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let (r, w) = kfs::pipe::new_pipe(flags);
    let task = current();
    let mut files = task.files.lock();
    let cloexec = flags & O_CLOEXEC != 0;
    let rfd = files.insert(r, cloexec)?;
    let wfd = match files.insert(w, cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = files.close(rfd);
            return Err(e);
        }
    };
    drop(files);
    let mut pair = [0u8; 8];
    pair[..4].copy_from_slice(&rfd.to_le_bytes());
    pair[4..].copy_from_slice(&wfd.to_le_bytes());
    if let Err(e) = fds.write_bytes(&pair) {
        let mut files = task.files.lock();
        let _ = files.close(rfd);
        let _ = files.close(wfd);
        return Err(e);
    }
    Ok(0)
}

/// ioctl(unsigned int fd, unsigned int cmd, unsigned long arg).
pub fn ioctl(a: &Args) -> KResult<isize> {
    let (fd, cmd, arg) = (a.fd(0), a.uint(1), a.ulong(2));
    let f = file(fd)?;
    match cmd {
        FIOCLEX | FIONCLEX => {
            current().files.lock().set_cloexec(fd, cmd == FIOCLEX)?;
            Ok(0)
        }
        FIONBIO => {
            let on = user::read_u32(a.ptr(2).addr())? != 0;
            let old = f.flags();
            let new = if on {
                old | O_NONBLOCK
            } else {
                old & !O_NONBLOCK
            };
            f.flags.store(new, core::sync::atomic::Ordering::Relaxed);
            Ok(0)
        }
        cmd => f.ops.ioctl(cmd, arg),
    }
}

/// fsync and fdatasync (unsigned int fd).
pub fn fsync(a: &Args) -> KResult<isize> {
    file(a.fd(0))?;
    Ok(0)
}

pub fn sync() -> KResult<isize> {
    Ok(0)
}

/// truncate(const char *path, long length): a negative length is EINVAL before the path
/// is read (Linux's `do_sys_truncate`).
pub fn truncate(a: &Args) -> KResult<isize> {
    let length = a.offset(1, Errno::EINVAL)?;
    let path = a.ptr(0).read_path()?;
    let dentry = kfs::lookup(&path, true)?;
    match dentry.inode().file_type() {
        FileType::Directory => Err(Errno::EISDIR),
        FileType::Regular => {
            let _write = kfs::write_access::get(dentry.inode())?;
            kfs::truncate(dentry.inode(), length).map(|()| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// ftruncate(unsigned int fd, unsigned long length), which Linux's `do_sys_ftruncate`
/// takes as a `loff_t`: negative is EINVAL before the descriptor; an `O_PATH` descriptor is
/// EBADF (`fdget`); one not open for writing EINVAL.
pub fn ftruncate(a: &Args) -> KResult<isize> {
    let length = a.offset(1, Errno::EINVAL)?;
    let f = file(a.fd(0))?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    f.ops.truncate(length).map(|()| 0)
}

// ---- metadata ----

fn write_stat(buf: UserPtr, st: crate::fs::stat::Stat) -> KResult<isize> {
    buf.write_bytes(&st.to_stat_bytes())?;
    Ok(0)
}

/// stat(const char *filename, struct stat *statbuf).
pub fn stat(a: &Args) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    let stat = match kfs::lookup_inode(&path, true) {
        Ok(inode) => inode_stat(&inode)?,
        // As in stat_at: a /proc/PID/fd/N link of a pipe.
        Err(e) => fd_link_target(AT_FDCWD, &path).map_or(Err(e), |f| f.ops.stat())?,
    };
    write_stat(a.ptr(1), stat)
}

/// lstat(const char *filename, struct stat *statbuf).
pub fn lstat(a: &Args) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    write_stat(a.ptr(1), inode_stat(&kfs::lookup_inode(&path, false)?)?)
}

/// fadvise64(int fd, loff_t offset, size_t len, int advice): advice about a file's page
/// cache, which Tessera takes and ignores, as Linux does for tmpfs (no backing device):
/// EBADF, ESPIPE for a pipe, EINVAL for a length that is negative as a `loff_t` or an
/// unknown advice (an `int`), else 0; the offset is not checked (`generic_fadvise`).
pub fn fadvise64(a: &Args) -> KResult<isize> {
    /// POSIX_FADV_NORMAL (0) to POSIX_FADV_NOREUSE (5), `linux/fadvise.h`.
    const ADVICE: core::ops::RangeInclusive<i32> = 0..=5;
    let file = file(a.fd(0))?;
    if file.ops.stat()?.mode & S_IFMT == S_IFIFO {
        return Err(Errno::ESPIPE);
    }
    a.offset(2, Errno::EINVAL)?;
    if !ADVICE.contains(&a.int(3)) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// getxattr(const char *pathname, const char *name, void *value, size_t size) and
/// lgetxattr (`follow` false): no file here has extended attributes, and the answer is
/// tmpfs's for one that is not set (Linux 6.1's shmem handlers): ENODATA for `security.*`,
/// `trusted.*` and the POSIX ACLs (`ls -l` asks for `security.selinux` and
/// `system.posix_acl_access`), EOPNOTSUPP for any other name, after the path's own errors
/// and ERANGE for an empty name or one of 256 bytes or more.
pub fn getxattr(a: &Args, follow: bool) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    kfs::lookup(&path, follow)?;
    no_xattr(a.ptr(1))
}

/// fgetxattr(int fd, const char *name, void *value, size_t size): as [`getxattr`] for an
/// open file.
pub fn fgetxattr(a: &Args) -> KResult<isize> {
    file(a.fd(0))?;
    no_xattr(a.ptr(1))
}

/// listxattr(const char *pathname, char *list, size_t size) and llistxattr: an empty list
/// (0 bytes).
pub fn listxattr(a: &Args, follow: bool) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    kfs::lookup(&path, follow)?;
    Ok(0)
}

/// flistxattr(int fd, char *list, size_t size): an empty list.
pub fn flistxattr(a: &Args) -> KResult<isize> {
    file(a.fd(0))?;
    Ok(0)
}

/// What tmpfs answers for the attribute named at `name_ptr`, which no file has.
fn no_xattr(name_ptr: UserPtr) -> KResult<isize> {
    /// XATTR_NAME_MAX + 1 (`linux/limits.h`): the name with its NUL.
    const NAME_BUF: usize = 256;
    let name = user::read_cstr(name_ptr.addr(), NAME_BUF, Errno::ERANGE)?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    let prefixed = |prefix: &[u8]| name.starts_with(prefix);
    if name == b"security." || name == b"trusted." {
        return Err(Errno::EINVAL);
    }
    if prefixed(b"security.")
        || prefixed(b"trusted.")
        || name == b"system.posix_acl_access"
        || name == b"system.posix_acl_default"
    {
        Err(Errno::ENODATA)
    } else {
        Err(Errno::EOPNOTSUPP)
    }
}

/// fstat(unsigned int fd, struct stat *statbuf).
pub fn fstat(a: &Args) -> KResult<isize> {
    write_stat(a.ptr(1), file(a.fd(0))?.ops.stat()?)
}

/// The stat of (dirfd, path, flags), with AT_EMPTY_PATH (the file of `dirfd`, the working
/// directory for `AT_FDCWD`) and AT_SYMLINK_NOFOLLOW; unknown flags are EINVAL before the
/// path is read (Linux's `vfs_statx`).
fn stat_at(dirfd: i32, path: UserPtr, flags: u32) -> KResult<crate::fs::stat::Stat> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = path_at_flags(path, flags)?;
    if path.is_empty() {
        if dirfd == AT_FDCWD {
            let cwd = current().fs.lock().cwd.clone();
            return inode_stat(cwd.inode());
        }
        return file(dirfd)?.ops.stat();
    }
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    match lookup_inode_at(dirfd, &path, follow) {
        Ok(inode) => inode_stat(&inode),
        // A /proc/PID/fd/N link whose text names nothing (a pipe's): the open file's stat,
        // as Linux's magic link gives (diff stats its /dev/fd/63 before opening it).
        Err(e) if follow => fd_link_target(dirfd, &path).map_or(Err(e), |f| f.ops.stat()),
        Err(e) => Err(e),
    }
}

/// The open file `path` names if it ends at a `/proc/PID/fd/N` link (not followed).
fn fd_link_target(dirfd: i32, path: &[u8]) -> Option<Arc<OpenFile>> {
    let (start, root) = at(dirfd, path).ok()?;
    let link = vfs().resolve(&start, &root, path, false).ok()?;
    kfs::procfs::fd_link_file(link.inode().as_ref())
}

/// newfstatat(int dfd, const char *filename, struct stat *statbuf, int flag).
pub fn newfstatat(a: &Args) -> KResult<isize> {
    write_stat(a.ptr(2), stat_at(a.fd(0), a.ptr(1), a.uint(3))?)
}

/// statx(int dfd, const char *filename, unsigned flags, unsigned int mask,
/// struct statx *buffer), as Linux 6.1's `do_statx` and `vfs_statx`: the reserved mask bit
/// and both sync-type flags at once are EINVAL, then the flags and the path as `fstatat`
/// (AT_EMPTY_PATH with `dfd`, or the working directory). Every file reports the basic
/// fields and its mount id (STATX_MNT_ID); tmpfs files (tmpfs, devtmpfs, the root file
/// system: Linux's shmem) also their birth time when `mask` asks for STATX_BTIME (shmem's
/// `getattr`), and the attributes shmem can hold in `stx_attributes_mask`. Every file
/// system can report STATX_ATTR_AUTOMOUNT, _DAX (never set here) and _MOUNT_ROOT (set for
/// the root of a mount).
pub fn statx(a: &Args) -> KResult<isize> {
    let (dirfd, path, flags, mask) = (a.fd(0), a.ptr(1), a.uint(2), a.uint(3));
    if mask & STATX__RESERVED != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        return Err(Errno::EINVAL);
    }
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = path_at_flags(path, flags)?;
    let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
    // The file: a dentry (a name in a mount), or an open file without one (a pipe, a
    // socket, the console; what a /proc/PID/fd/N link of a pipe leads to).
    let found = if path.is_empty() && dirfd != AT_FDCWD {
        let f = file(dirfd)?;
        f.path().ok_or(f)
    } else {
        match dentry_at(dirfd, &path, follow) {
            Ok(dentry) => Ok(dentry),
            Err(e) if follow => Err(fd_link_target(dirfd, &path).ok_or(e)?),
            Err(e) => return Err(e),
        }
    };
    let mut extra = StatxExtra {
        mask: STATX_MNT_ID,
        attributes_mask: STATX_ATTR_AUTOMOUNT | STATX_ATTR_DAX | STATX_ATTR_MOUNT_ROOT,
        ..Default::default()
    };
    let st = match found {
        Ok(dentry) => {
            let inode = dentry.inode();
            extra.mnt_id = dentry.mount_id();
            if dentry.is_mount_root() {
                extra.attributes |= STATX_ATTR_MOUNT_ROOT;
            }
            let shmem = matches!(
                &dentry.mount_info().fs_type[..],
                b"tmpfs" | b"devtmpfs" | b"rootfs"
            );
            if shmem {
                extra.attributes_mask |=
                    STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE | STATX_ATTR_NODUMP;
                if let Some(t) = inode.btime().filter(|_| mask & STATX_BTIME != 0) {
                    extra.mask |= STATX_BTIME;
                    extra.btime = Some(crate::fs::stat::Time {
                        sec: t.sec,
                        nsec: t.nsec as u32,
                    });
                }
            }
            inode_stat(inode)?
        }
        Err(f) => {
            let st = f.ops.stat()?;
            extra.mnt_id = match st.mode & S_IFMT {
                S_IFIFO => PIPEFS_MOUNT_ID,
                S_IFSOCK => SOCKFS_MOUNT_ID,
                _ => vfs().root().mount_id(),
            };
            st
        }
    };
    a.ptr(4).write_bytes(&st.to_statx_bytes(&extra))?;
    Ok(0)
}

/// statx's mount ids of Linux's internal mounts, pipefs and sockfs, which have no dentry
/// here (the VFS numbers its mounts from 1 up).
const PIPEFS_MOUNT_ID: u64 = u32::MAX as u64 - 1;
const SOCKFS_MOUNT_ID: u64 = u32::MAX as u64 - 2;

/// access(const char *filename, int mode).
pub fn access(a: &Args) -> KResult<isize> {
    access_at(AT_FDCWD, a.ptr(0), a.uint(1), 0)
}

/// faccessat(int dfd, const char *filename, int mode) has no flags argument (the register
/// after `mode` is whatever the caller left there); faccessat2 has one.
pub fn faccessat(a: &Args) -> KResult<isize> {
    access_at(a.fd(0), a.ptr(1), a.uint(2), 0)
}

/// faccessat2(int dfd, const char *filename, int mode, int flags).
pub fn faccessat2(a: &Args) -> KResult<isize> {
    access_at(a.fd(0), a.ptr(1), a.uint(2), a.uint(3))
}

/// Linux's do_faccessat: the mode, then the flags, then the lookup.
fn access_at(dirfd: i32, path: UserPtr, mode: u32, flags: u32) -> KResult<isize> {
    if mode & !(R_OK | W_OK | X_OK) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = path_at_flags(path, flags)?;
    let file_mode = if path.is_empty() {
        // AT_EMPTY_PATH: the file dirfd refers to (or the working directory).
        if dirfd == AT_FDCWD {
            current().fs.lock().cwd.inode().metadata()?.mode
        } else {
            file(dirfd)?.ops.stat()?.mode
        }
    } else {
        lookup_inode_at(dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0)?
            .metadata()?
            .mode
    };
    // Root may do anything, except execute a file with no execute bit at all.
    if mode & X_OK != 0 && file_mode & S_IFMT != S_IFDIR && file_mode & S_IXUGO == 0 {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

/// umask(int mask).
pub fn umask(a: &Args) -> KResult<isize> {
    let task = current();
    let mut fs = task.fs.lock();
    let old = fs.umask;
    fs.umask = a.uint(0) & S_IRWXUGO;
    Ok(old as isize)
}

fn chmod_dentry(dentry: &DentryRef, mode: u32) -> KResult<isize> {
    dentry.inode().set_mode(mode & S_IALLUGO)?;
    Ok(0)
}

/// chmod(const char *filename, umode_t mode).
pub fn chmod(a: &Args) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    chmod_dentry(&kfs::lookup(&path, true)?, a.mode(1))
}

/// fchmod(unsigned int fd, umode_t mode).
pub fn fchmod(a: &Args) -> KResult<isize> {
    chmod_dentry(
        &file(a.fd(0))?.ops.dentry().ok_or(Errno::EINVAL)?,
        a.mode(1),
    )
}

/// fchmodat(int dfd, const char *filename, umode_t mode).
pub fn fchmodat(a: &Args) -> KResult<isize> {
    let path = a.ptr(1).read_path()?;
    chmod_dentry(&resolve_at(a.fd(0), &path, true)?, a.mode(2))
}

/// A `uid_t` or `gid_t` of chown: -1 (as 32 bits) leaves the id as it is.
fn owner_id(id: u32) -> Option<u32> {
    (id != u32::MAX).then_some(id)
}

/// chown(const char *filename, uid_t user, gid_t group) and lchown (`follow` false). Only
/// root exists; ownership changes are accepted and recorded.
pub fn chown(a: &Args, follow: bool) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    let dentry = kfs::lookup(&path, follow)?;
    dentry
        .inode()
        .set_owner(owner_id(a.uint(1)), owner_id(a.uint(2)))?;
    Ok(0)
}

/// fchown(unsigned int fd, uid_t user, gid_t group): a file without a name (a pipe, a
/// socket) takes it and keeps nothing.
pub fn fchown(a: &Args) -> KResult<isize> {
    if let Some(dentry) = file(a.fd(0))?.path() {
        dentry
            .inode()
            .set_owner(owner_id(a.uint(1)), owner_id(a.uint(2)))?;
    }
    Ok(0)
}

/// fchownat(int dfd, const char *filename, uid_t user, gid_t group, int flag): flags other
/// than AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH are EINVAL before the path is read
/// (Linux's `do_fchownat`).
pub fn fchownat(a: &Args) -> KResult<isize> {
    let flags = a.uint(4);
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = path_at_flags(a.ptr(1), flags)?;
    let dentry = dentry_at(a.fd(0), &path, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    dentry
        .inode()
        .set_owner(owner_id(a.uint(2)), owner_id(a.uint(3)))?;
    Ok(0)
}

type Times = (
    Option<tessera_abi::fs::Timespec>,
    Option<tessera_abi::fs::Timespec>,
);

/// The four words of two `struct __kernel_timespec` or `__kernel_old_timeval` (EFAULT).
fn read_time_words(times: UserPtr) -> KResult<[i64; 4]> {
    let mut raw = [0u8; 32];
    times.read_into(&mut raw)?;
    Ok(core::array::from_fn(|i| {
        i64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8"))
    }))
}

/// The two times of utimensat's words, UTIME_NOW and UTIME_OMIT as Linux's `vfs_utimes`:
/// any other nanoseconds outside 0..10^9 are EINVAL.
fn timespec_times(words: [i64; 4]) -> KResult<Times> {
    let one = |sec: i64, nsec: i64| -> KResult<Option<tessera_abi::fs::Timespec>> {
        match nsec {
            UTIME_NOW => Ok(Some(kfs::now())),
            UTIME_OMIT => Ok(None),
            0..1_000_000_000 => Ok(Some(tessera_abi::fs::Timespec { sec, nsec })),
            _ => Err(Errno::EINVAL),
        }
    };
    Ok((one(words[0], words[1])?, one(words[2], words[3])?))
}

/// Both times now (a NULL times pointer).
fn now_times() -> Times {
    let now = kfs::now();
    (Some(now), Some(now))
}

/// utimensat(int dfd, const char *filename, struct __kernel_timespec *utimes, int flags),
/// in Linux's order (`fs/utimes.c`): the times are read (EFAULT) and two UTIME_OMITs do
/// nothing at all, not even look at the path; then the flags (only AT_SYMLINK_NOFOLLOW and
/// AT_EMPTY_PATH, else EINVAL); a NULL filename names `dfd` itself, where no flag is
/// allowed (`do_utimes_fd`) and AT_FDCWD is EFAULT (no path to read); then the path, and
/// only then the nanoseconds (EINVAL, `vfs_utimes`).
pub fn utimensat(a: &Args) -> KResult<isize> {
    const BOTH_OMITTED: [bool; 2] = [true, true];
    let (dirfd, path, times, flags) = (a.fd(0), a.ptr(1), a.ptr(2), a.uint(3));
    let words = match times.nonnull() {
        Some(times) => Some(read_time_words(times)?),
        None => None,
    };
    if words.is_some_and(|w| [w[1], w[3]].map(|nsec| nsec == UTIME_OMIT) == BOTH_OMITTED) {
        return Ok(0);
    }
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let dentry = if path.is_null() && dirfd != AT_FDCWD {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        file(dirfd)?.path().ok_or(Errno::EINVAL)?
    } else {
        let path = path_at_flags(path, flags)?;
        dentry_at(dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0)?
    };
    let (atime, mtime) = match words {
        Some(words) => timespec_times(words)?,
        None => now_times(),
    };
    dentry.inode().set_times(atime, mtime)?;
    Ok(0)
}

/// Sets the times of `path` (followed): utimes and utime.
fn set_path_times(path: UserPtr, (atime, mtime): Times) -> KResult<isize> {
    let path = path.read_path()?;
    kfs::lookup(&path, true)?.inode().set_times(atime, mtime)?;
    Ok(0)
}

/// utimes(char *filename, struct __kernel_old_timeval *utimes): two `timeval`s read and
/// checked before the path, microseconds outside 0..10^6 EINVAL (Linux's `do_futimesat`);
/// NULL is now.
pub fn utimes(a: &Args) -> KResult<isize> {
    let times = match a.ptr(1).nonnull() {
        None => now_times(),
        Some(times) => {
            let w = read_time_words(times)?;
            let one = |sec: i64, usec: i64| match usec {
                0..1_000_000 => Ok(Some(tessera_abi::fs::Timespec {
                    sec,
                    nsec: usec * 1000,
                })),
                _ => Err(Errno::EINVAL),
            };
            (one(w[0], w[1])?, one(w[2], w[3])?)
        }
    };
    set_path_times(a.ptr(0), times)
}

/// utime(char *filename, struct utimbuf *times): whole seconds (`actime`, `modtime`);
/// NULL is now.
pub fn utime(a: &Args) -> KResult<isize> {
    let times = match a.ptr(1).nonnull() {
        None => now_times(),
        Some(times) => {
            let mut raw = [0u8; 16];
            times.read_into(&mut raw)?;
            let sec = |i: usize| tessera_abi::fs::Timespec {
                sec: i64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8")),
                nsec: 0,
            };
            (Some(sec(0)), Some(sec(1)))
        }
    };
    set_path_times(a.ptr(0), times)
}

// ---- directories and names ----

/// getcwd(char *buf, unsigned long size).
pub fn getcwd(a: &Args) -> KResult<isize> {
    let task = current();
    let fs = task.fs.lock().clone();
    let mut path = fs.cwd.path_from(&fs.root).unwrap_or_else(|| fs.cwd.path());
    path.push(0);
    if path.len() as u64 > a.ulong(1) {
        return Err(Errno::ERANGE);
    }
    a.ptr(0).write_bytes(&path)?;
    Ok(path.len() as isize)
}

fn set_cwd(dentry: DentryRef) -> KResult<isize> {
    if !dentry.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    current().fs.lock().cwd = dentry;
    Ok(0)
}

/// chdir(const char *filename).
pub fn chdir(a: &Args) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    set_cwd(kfs::lookup(&path, true)?)
}

/// fchdir(unsigned int fd).
pub fn fchdir(a: &Args) -> KResult<isize> {
    set_cwd(file(a.fd(0))?.ops.dentry().ok_or(Errno::ENOTDIR)?)
}

/// chroot(const char *filename).
pub fn chroot(a: &Args) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    let dentry = kfs::lookup(&path, true)?;
    if !dentry.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    current().fs.lock().root = dentry;
    Ok(0)
}

/// mkdir(const char *pathname, umode_t mode).
pub fn mkdir(a: &Args) -> KResult<isize> {
    make_dir(AT_FDCWD, a.ptr(0), a.mode(1))
}

/// mkdirat(int dfd, const char *pathname, umode_t mode).
pub fn mkdirat(a: &Args) -> KResult<isize> {
    make_dir(a.fd(0), a.ptr(1), a.mode(2))
}

fn make_dir(dirfd: i32, path: UserPtr, mode: u32) -> KResult<isize> {
    let path = path.read_path()?;
    let (start, root) = at(dirfd, &path)?;
    vfs().mkdir(&start, &root, &path, mode & S_IALLUGO & !current_umask())?;
    Ok(0)
}

/// mknod(const char *filename, umode_t mode, unsigned dev).
pub fn mknod(a: &Args) -> KResult<isize> {
    make_node(AT_FDCWD, a.ptr(0), a.mode(1), a.uint(2))
}

/// mknodat(int dfd, const char *filename, umode_t mode, unsigned int dev): `dev` is 32
/// bits (Linux's `new_decode_dev` encoding, which glibc's and musl's `makedev` give for
/// majors below 4096 and minors below 2^20).
pub fn mknodat(a: &Args) -> KResult<isize> {
    make_node(a.fd(0), a.ptr(1), a.mode(2), a.uint(3))
}

fn make_node(dirfd: i32, path: UserPtr, mode: u32, dev: u32) -> KResult<isize> {
    let path = path.read_path()?;
    let (start, root) = at(dirfd, &path)?;
    let mut mode = mode;
    if mode & S_IFMT == 0 {
        mode |= S_IFREG;
    }
    let perms = mode & S_IALLUGO & !current_umask();
    vfs().mknod(
        &start,
        &root,
        &path,
        (mode & S_IFMT) | perms,
        u64::from(dev),
    )?;
    Ok(0)
}

/// rmdir(const char *pathname).
pub fn rmdir(a: &Args) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    let (start, root) = at(AT_FDCWD, &path)?;
    vfs().rmdir(&start, &root, &path).map(|()| 0)
}

/// unlink(const char *pathname).
pub fn unlink(a: &Args) -> KResult<isize> {
    remove(AT_FDCWD, a.ptr(0), 0)
}

/// unlinkat(int dfd, const char *pathname, int flag).
pub fn unlinkat(a: &Args) -> KResult<isize> {
    remove(a.fd(0), a.ptr(1), a.uint(2))
}

fn remove(dirfd: i32, path: UserPtr, flags: u32) -> KResult<isize> {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let path = path.read_path()?;
    let (start, root) = at(dirfd, &path)?;
    if flags & AT_REMOVEDIR != 0 {
        vfs().rmdir(&start, &root, &path)
    } else {
        vfs().unlink(&start, &root, &path)
    }
    .map(|()| 0)
}

/// rename(const char *oldname, const char *newname).
pub fn rename(a: &Args) -> KResult<isize> {
    rename_at((AT_FDCWD, a.ptr(0)), (AT_FDCWD, a.ptr(1)), 0)
}

/// renameat(int olddfd, const char *oldname, int newdfd, const char *newname) has no
/// flags argument (r8 holds whatever the caller left there); renameat2 has.
pub fn renameat(a: &Args) -> KResult<isize> {
    rename_at((a.fd(0), a.ptr(1)), (a.fd(2), a.ptr(3)), 0)
}

/// renameat2(int olddfd, const char *oldname, int newdfd, const char *newname,
/// unsigned int flags).
pub fn renameat2(a: &Args) -> KResult<isize> {
    rename_at((a.fd(0), a.ptr(1)), (a.fd(2), a.ptr(3)), a.uint(4))
}

fn rename_at(old: (i32, UserPtr), new: (i32, UserPtr), flags: u32) -> KResult<isize> {
    if flags & !RENAME_NOREPLACE != 0 {
        return Err(Errno::EINVAL);
    }
    let noreplace = flags & RENAME_NOREPLACE != 0;
    two_paths(old, new, |o, op, n, np, root| {
        vfs().rename(o, op, n, np, root, noreplace)
    })
}

/// What rename and link share: both paths read (the old one first), each resolved from
/// its directory, then `op` on (old start, old path, new start, new path, root).
fn two_paths(
    (old_dir, old_ptr): (i32, UserPtr),
    (new_dir, new_ptr): (i32, UserPtr),
    op: impl FnOnce(&DentryRef, &[u8], &DentryRef, &[u8], &DentryRef) -> KResult<()>,
) -> KResult<isize> {
    let old = old_ptr.read_path()?;
    let new = new_ptr.read_path()?;
    let (old_start, root) = at(old_dir, &old)?;
    let (new_start, _) = at(new_dir, &new)?;
    op(&old_start, &old, &new_start, &new, &root).map(|()| 0)
}

/// link(const char *oldname, const char *newname).
pub fn link(a: &Args) -> KResult<isize> {
    make_link((AT_FDCWD, a.ptr(0)), (AT_FDCWD, a.ptr(1)), 0)
}

/// linkat(int olddfd, const char *oldname, int newdfd, const char *newname, int flags):
/// flags other than AT_SYMLINK_FOLLOW and AT_EMPTY_PATH are EINVAL before the paths are
/// read (Linux's `do_linkat`).
pub fn linkat(a: &Args) -> KResult<isize> {
    make_link((a.fd(0), a.ptr(1)), (a.fd(2), a.ptr(3)), a.uint(4))
}

fn make_link(old: (i32, UserPtr), new: (i32, UserPtr), flags: u32) -> KResult<isize> {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let follow = flags & AT_SYMLINK_FOLLOW != 0;
    two_paths(old, new, |o, op, n, np, root| {
        vfs().link(o, op, n, np, root, follow).map(|_| ())
    })
}

/// symlink(const char *oldname, const char *newname).
pub fn symlink(a: &Args) -> KResult<isize> {
    make_symlink(a.ptr(0), AT_FDCWD, a.ptr(1))
}

/// symlinkat(const char *oldname, int newdfd, const char *newname).
pub fn symlinkat(a: &Args) -> KResult<isize> {
    make_symlink(a.ptr(0), a.fd(1), a.ptr(2))
}

fn make_symlink(target: UserPtr, dirfd: i32, path: UserPtr) -> KResult<isize> {
    let target = target.read_path()?;
    let path = path.read_path()?;
    let (start, root) = at(dirfd, &path)?;
    vfs().symlink(&target, &start, &root, &path)?;
    Ok(0)
}

/// readlink(const char *path, char *buf, int bufsiz).
pub fn readlink(a: &Args) -> KResult<isize> {
    read_link(AT_FDCWD, a.ptr(0), a.ptr(1), a.int(2))
}

/// readlinkat(int dfd, const char *pathname, char *buf, int bufsiz): a size of 0 or below
/// (as an `int`) is EINVAL first.
pub fn readlinkat(a: &Args) -> KResult<isize> {
    read_link(a.fd(0), a.ptr(1), a.ptr(2), a.int(3))
}

fn read_link(dirfd: i32, path: UserPtr, buf: UserPtr, size: i32) -> KResult<isize> {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = path.read_path()?;
    let inode = lookup_inode_at(dirfd, &path, false)?;
    if inode.file_type() != FileType::Symlink {
        return Err(Errno::EINVAL);
    }
    let target = inode.readlink()?;
    let n = target.len().min(size as usize);
    buf.write_bytes(&target[..n])?;
    Ok(n as isize)
}

/// getdents64(unsigned int fd, struct linux_dirent64 *dirent, unsigned int count): the
/// buffer is not checked ahead (Linux's `filldir64` finds a bad one when it writes an
/// entry: EFAULT; at the end of the directory nothing is written).
pub fn getdents64(a: &Args) -> KResult<isize> {
    let (f, buf, count) = (file(a.fd(0))?, a.ptr(1), a.uint(2) as usize);
    let mut kbuf = vec![0u8; count.min(CHUNK)];
    let mut offset = f.offset.lock();
    let (used, next) = f.ops.getdents(*offset, &mut kbuf)?;
    if used > 0 {
        buf.write_bytes(&kbuf[..used])?;
    }
    *offset = next;
    Ok(used as isize)
}

// ---- mounts ----

/// mount(char *dev_name, char *dir_name, char *type, unsigned long flags, void *data).
pub fn mount(a: &Args) -> KResult<isize> {
    let page = tessera_platform::mm::PAGE_SIZE;
    let source = match a.ptr(0).nonnull() {
        Some(at) => Some(user::read_cstr(at.addr(), page, Errno::ENAMETOOLONG)?),
        None => None,
    };
    let target = a.ptr(1).read_path()?;
    let kind = match a.ptr(2).nonnull() {
        Some(at) => user::read_cstr(at.addr(), 64, Errno::ENODEV)?,
        None => Vec::new(),
    };
    // The options: a string for tmpfs, at most a page (Linux copies one page of `data`).
    let data = match a.ptr(4).nonnull() {
        Some(at) => user::read_cstr(at.addr(), page, Errno::EINVAL)?,
        None => Vec::new(),
    };
    kfs::mount::mount(source.as_deref(), &target, &kind, a.ulong(3), &data).map(|()| 0)
}

/// statfs(const char *pathname, struct statfs *buf) and fstatfs: what the file system
/// holding the file is (`fs::mount::statfs`).
pub fn statfs(a: &Args) -> KResult<isize> {
    let dentry = kfs::lookup(&a.ptr(0).read_path()?, true)?;
    write_statfs(a.ptr(1), &kfs::mount::statfs(&dentry))
}

/// fstatfs(unsigned int fd, struct statfs *buf).
pub fn fstatfs(a: &Args) -> KResult<isize> {
    let file = file(a.fd(0))?;
    let stat = match file.path() {
        Some(dentry) => kfs::mount::statfs(&dentry),
        None => kfs::mount::statfs_unnamed(file.ops.stat()?.mode),
    };
    write_statfs(a.ptr(1), &stat)
}

fn write_statfs(buf: UserPtr, s: &kfs::mount::StatFs) -> KResult<isize> {
    let mut w = user::StructWriter::new(120);
    w.u64(0, s.kind)
        .u64(8, s.bsize)
        .u64(16, s.blocks)
        .u64(24, s.bfree)
        .u64(32, s.bavail)
        .u64(40, s.files)
        .u64(48, s.ffree)
        .u64(64, s.namelen)
        .u64(72, s.frsize)
        .u64(80, s.flags);
    buf.write_bytes(&w.bytes)?;
    Ok(0)
}

/// umount2(char *name, int flags): flags other than MNT_FORCE, MNT_DETACH, MNT_EXPIRE and
/// UMOUNT_NOFOLLOW are EINVAL before the path is read (Linux's `ksys_umount`); the known
/// ones change nothing here (no file system is busy in a way they would override).
pub fn umount(a: &Args) -> KResult<isize> {
    if a.uint(1) & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let target = a.ptr(0).read_path()?;
    kfs::mount::umount(&target).map(|()| 0)
}

/// Moves up to `count` bytes through a kernel buffer a chunk at a time (sendfile's and
/// copy_file_range's loop): `read(done, buf)` fills `buf` from `done` bytes into the copy
/// (0 at the end of the input), `write(done, data)` takes `data` there. It stops at the end,
/// at a short write, or at an error, which is the call's only if nothing moved yet; between
/// chunks the others may run, and a task being killed stops. The bytes written.
fn copy_chunks(
    count: usize,
    mut read: impl FnMut(u64, &mut [u8]) -> KResult<usize>,
    mut write: impl FnMut(u64, &[u8]) -> KResult<usize>,
) -> KResult<usize> {
    let mut buf = vec![0u8; count.min(CHUNK)];
    let mut total = 0;
    while total < count && (total == 0 || sched::keep_going()) {
        let want = (count - total).min(buf.len());
        let n = match read(total as u64, &mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        let written = match write(total as u64, &buf[..n]) {
            Ok(w) => w,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += written;
        if written < n {
            break;
        }
    }
    Ok(total)
}

/// copy_file_range(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
/// unsigned int flags): copies between two regular files of one file system through a
/// kernel buffer, at the given offsets (the file offsets, advanced, where a pointer is
/// NULL), as Linux's generic path (`fs/read_write.c`: the descriptors (EBADF), the offsets
/// (EFAULT), the flags (not 0: EINVAL), then `generic_copy_file_checks` and
/// `do_splice_direct`): directories are EISDIR, other non-regular files EINVAL; fd_in must
/// be open for reading and fd_out for writing without O_APPEND (EBADF); files on different
/// file systems are EXDEV; an offset the length carries past 2^64 (a negative one)
/// EOVERFLOW; the copy stops at the end of the input; overlapping ranges of one file are
/// EINVAL.
pub fn copy_file_range(a: &Args) -> KResult<isize> {
    let (off_in, off_out, len) = (a.ptr(1), a.ptr(3), a.size(4));
    let (input, out) = (file(a.fd(0))?, file(a.fd(2))?);
    let read_offset = |ptr: UserPtr, f: &OpenFile| -> KResult<u64> {
        match ptr.nonnull() {
            None => Ok(*f.offset.lock()),
            Some(ptr) => ptr.read_u64(),
        }
    };
    let (mut pos_in, mut pos_out) = (read_offset(off_in, &input)?, read_offset(off_out, &out)?);
    if a.uint(5) != 0 {
        return Err(Errno::EINVAL);
    }
    let (in_stat, out_stat) = (input.ops.stat()?, out.ops.stat()?);
    let kind = |st: &crate::fs::stat::Stat| st.mode & S_IFMT;
    if kind(&in_stat) == S_IFDIR || kind(&out_stat) == S_IFDIR {
        return Err(Errno::EISDIR);
    }
    if kind(&in_stat) != S_IFREG || kind(&out_stat) != S_IFREG {
        return Err(Errno::EINVAL);
    }
    if !input.readable() || !out.writable() || out.flags() & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    // Linux adds the (unsigned) length to each offset and refuses a wrap: EOVERFLOW, which
    // is what a negative offset gets unless the length is 0; then EINVAL (rw_verify_area).
    let len = len as u64;
    if pos_in.checked_add(len).is_none() || pos_out.checked_add(len).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    if (pos_in as i64) < 0 || (pos_out as i64) < 0 || (len as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if in_stat.dev != out_stat.dev {
        return Err(Errno::EXDEV);
    }
    // As far as the input goes, at most MAX_RW_COUNT, and never past the largest offset.
    let count = (len as usize)
        .min(MAX_RW_COUNT)
        .min(in_stat.size.saturating_sub(pos_in) as usize);
    if pos_out
        .checked_add(count as u64)
        .is_none_or(|end| end > MAX_FILE_OFFSET)
    {
        return Err(Errno::EFBIG);
    }
    if in_stat.ino == out_stat.ino
        && pos_out + (count as u64) > pos_in
        && pos_out < pos_in + count as u64
    {
        return Err(Errno::EINVAL);
    }
    let total = copy_chunks(
        count,
        |done, buf| input.ops.read(pos_in + done, buf, false),
        |done, data| out.ops.write(pos_out + done, data, false),
    )?;
    pos_in += total as u64;
    pos_out += total as u64;
    for (ptr, f, at) in [(off_in, &input, pos_in), (off_out, &out, pos_out)] {
        match ptr.nonnull() {
            Some(ptr) => ptr.write_u64(at)?,
            None => *f.offset.lock() = at,
        }
    }
    Ok(total as isize)
}

/// close_range(unsigned int fd, unsigned int max_fd, unsigned int flags): closes (with
/// CLOSE_RANGE_CLOEXEC, marks close-on-exec) every open descriptor from `fd` to `max_fd`;
/// EINVAL for unknown flags or `fd` past `max_fd` (Linux's `fs/file.c`, `__close_range`).
/// CLOSE_RANGE_UNSHARE first gives the caller a table of its own when it shares one
/// (CLONE_FILES), so the other tasks keep their descriptors.
pub fn close_range(a: &Args) -> KResult<isize> {
    const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
    const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
    let (first, last, flags) = (a.uint(0), a.uint(1), a.uint(2));
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let task = current();
    if flags & CLOSE_RANGE_UNSHARE != 0 {
        task.unshare_files();
    }
    // Closed files go after the lock is released (a last close may do file work).
    let closed = task.files.lock().close_range(
        first as usize,
        last as usize,
        flags & CLOSE_RANGE_CLOEXEC != 0,
    );
    drop(closed);
    Ok(0)
}

/// sendfile(int out_fd, int in_fd, loff_t *offset, size_t count) (x86_64's is Linux's
/// sendfile64): copies between two files through a kernel buffer, checked in Linux's order
/// (`fs/read_write.c`, `do_sendfile`): the offset is read first (EFAULT); then the input
/// (EBADF, EBADF unless open for reading, ESPIPE for an offset on a file without
/// positions), the position with the whole count (`rw_verify_area`: EINVAL when it is
/// negative or the two pass the largest offset), the count cut to MAX_RW_COUNT, then the
/// output (EBADF, EBADF unless open for writing), then EINVAL for a pipe as the input.
pub fn sendfile(a: &Args) -> KResult<isize> {
    let (offset_ptr, count) = (a.ptr(2), a.size(3));
    let mut offset = match offset_ptr.nonnull() {
        Some(ptr) => Some(ptr.read_u64()?),
        None => None,
    };
    let input = file(a.fd(1))?;
    if !input.readable() {
        return Err(Errno::EBADF);
    }
    if offset.is_some() && !input.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let pos = offset.unwrap_or_else(|| match input.ops.seekable() {
        true => *input.offset.lock(),
        false => 0,
    });
    if pos > MAX_FILE_OFFSET || pos.wrapping_add(count as u64) > MAX_FILE_OFFSET {
        return Err(Errno::EINVAL);
    }
    let count = count.min(MAX_RW_COUNT);
    let out = file(a.fd(0))?;
    if !out.writable() {
        return Err(Errno::EBADF);
    }
    // Linux 6.1 moves the bytes with `do_splice_direct`, which needs the input's
    // `splice_read`: a pipe has none.
    if input.ops.stat()?.mode & S_IFMT == S_IFIFO {
        return Err(Errno::EINVAL);
    }
    let total = copy_chunks(
        count,
        |done, buf| match offset {
            Some(at) => input.read_at(at + done, buf),
            None => input.read(buf),
        },
        |_, data| out.write(data),
    )?;
    if let Some(at) = offset.as_mut() {
        *at += total as u64;
        offset_ptr.write_u64(*at)?;
    }
    Ok(total as isize)
}
