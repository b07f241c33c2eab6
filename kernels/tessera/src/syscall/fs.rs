//! File syscalls: descriptors, I/O, paths, directories, metadata, poll/select, mounts.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};
use tessera_vfs::{FileType, OpenHow};

use super::Args;
use crate::fs::file::*;
use crate::fs::inode_stat;
use crate::fs::stat::{S_IFMT, S_IFREG};
use crate::fs::{self as kfs, DentryRef, OpenFile, vfs};
use crate::process::{current, sched};
use crate::user;

use tessera_abi::fs::{
    __O_TMPFILE, AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR,
    AT_STATX_SYNC_TYPE, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD,
    F_GETFL, F_GETLK, F_GETPIPE_SZ, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETFD, F_SETFL,
    F_SETLK, F_SETLKW, F_SETPIPE_SZ, FD_CLOEXEC, FIOCLEX, FIONBIO, FIONCLEX, MAX_FILE_OFFSET,
    MAX_RW_COUNT, O_CREAT, O_DIRECTORY, O_NOFOLLOW, R_OK, RENAME_NOREPLACE, S_IALLUGO, S_IFDIR,
    S_IFIFO, S_IRWXUGO, S_IXUGO, SEEK_CUR, SEEK_END, SEEK_SET, UTIME_NOW, UTIME_OMIT, W_OK, X_OK,
};

/// Reads and writes move through a kernel buffer of at most this many bytes per step.
const CHUNK: usize = 64 * 1024;

fn file(fd: u64) -> KResult<Arc<OpenFile>> {
    sched::on_current(|task| task.files.lock().get(fd as i32))
}

/// (start, root) for a path relative to `dirfd`.
fn at(dirfd: u64, path: &[u8]) -> KResult<(DentryRef, DentryRef)> {
    let task = current();
    let fs = task.fs.lock().clone();
    if path.first() == Some(&b'/') || dirfd as i32 == AT_FDCWD {
        return Ok((fs.cwd, fs.root));
    }
    let dir = task
        .files
        .lock()
        .get(dirfd as i32)?
        .ops
        .dentry()
        .ok_or(Errno::ENOTDIR)?;
    if !dir.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok((dir, fs.root))
}

/// The inode of (dirfd, path) through the config's `lookup` variant.
fn lookup_inode_at(dirfd: u64, path: &[u8], follow: bool) -> KResult<Arc<dyn tessera_vfs::Inode>> {
    let (start, root) = at(dirfd, path)?;
    vfs().lookup_inode(&start, &root, path, follow)
}

fn resolve_at(dirfd: u64, path: &[u8], follow: bool) -> KResult<DentryRef> {
    let (start, root) = at(dirfd, path)?;
    vfs().resolve(&start, &root, path, follow)
}

fn current_umask() -> u32 {
    current().fs.lock().umask
}

// ---- read and write ----

pub fn read(a: &Args) -> KResult<isize> {
    let f = file(a[0])?;
    Ok(f.read_user(a[1], (a[2] as usize).min(MAX_RW_COUNT))? as isize)
}

pub fn write(a: &Args) -> KResult<isize> {
    let f = file(a[0])?;
    let len = (a[2] as usize).min(MAX_RW_COUNT);
    // Most writes complete in one step (pipes and devices always do); an error then is the
    // syscall's. Files take one step per kernel chunk; a later error ends the write short.
    let mut done = f.write_user(a[1], len)?;
    while done < len && f.ops.write_continues() && sched::keep_going() {
        match f.write_user(a[1] + done as u64, len - done) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    Ok(done as isize)
}

pub fn pread64(a: &Args) -> KResult<isize> {
    let f = file(a[0])?;
    if (a[3] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(f.pread_user(a[3], a[1], (a[2] as usize).min(MAX_RW_COUNT))? as isize)
}

pub fn pwrite64(a: &Args) -> KResult<isize> {
    let f = file(a[0])?;
    if (a[3] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(f.pwrite_user(a[3], a[1], (a[2] as usize).min(MAX_RW_COUNT))? as isize)
}

/// readv/writev: `step` (read or write) over each buffer in turn, stopping at the first
/// short transfer; an error is the syscall's only if nothing moved yet.
fn vectored(a: &Args, step: fn(&Args) -> KResult<isize>) -> KResult<isize> {
    let mut total = 0isize;
    for (base, len) in user::read_iovecs(a[1], a[2], Errno::EINVAL)? {
        if len == 0 {
            continue;
        }
        if total > 0 && !sched::keep_going() {
            break;
        }
        let n = match step(&[a[0], base, len as u64, 0, 0, 0]) {
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
    vectored(a, read)
}

pub fn writev(a: &Args) -> KResult<isize> {
    vectored(a, write)
}

pub fn lseek(a: &Args) -> KResult<isize> {
    let f = file(a[0])?;
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let mut offset = f.offset.lock();
    let base = match a[2] as u32 {
        SEEK_SET => 0,
        SEEK_CUR => *offset as i64,
        SEEK_END => f.ops.size() as i64,
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(a[1] as i64).ok_or(Errno::EOVERFLOW)?;
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    *offset = new as u64;
    Ok(new as isize)
}

// ---- opening and closing ----

fn do_open(dirfd: u64, path_ptr: u64, flags: u32, mode: u32) -> KResult<isize> {
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
    let path = user::read_path(path_ptr)?;
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
fn open_fd_link(dirfd: u64, path: &[u8], flags: u32) -> Option<KResult<isize>> {
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

pub fn open(a: &Args) -> KResult<isize> {
    do_open(AT_FDCWD as u64, a[0], a[1] as u32, a[2] as u32)
}

/// creat(path, mode): open(path, O_CREAT | O_WRONLY | O_TRUNC, mode).
pub fn creat(a: &Args) -> KResult<isize> {
    do_open(
        AT_FDCWD as u64,
        a[0],
        O_CREAT | O_WRONLY | O_TRUNC,
        a[1] as u32,
    )
}

pub fn openat(a: &Args) -> KResult<isize> {
    do_open(a[0], a[1], a[2] as u32, a[3] as u32)
}

pub fn close(a: &Args) -> KResult<isize> {
    current().files.lock().close(a[0] as i32)?;
    Ok(0)
}

pub fn dup(a: &Args) -> KResult<isize> {
    let task = current();
    let mut files = task.files.lock();
    let f = files.get(a[0] as i32)?;
    Ok(files.insert(f, false)? as isize)
}

fn dup_to(old: u64, new: u64, cloexec: bool) -> KResult<isize> {
    let task = current();
    let mut files = task.files.lock();
    let f = files.get(old as i32)?;
    if new as usize >= files.limit {
        return Err(Errno::EBADF);
    }
    files.set(new as usize, f, cloexec);
    Ok(new as isize)
}

pub fn dup2(a: &Args) -> KResult<isize> {
    if a[0] == a[1] {
        file(a[0])?;
        return Ok(a[1] as isize);
    }
    dup_to(a[0], a[1], false)
}

pub fn dup3(a: &Args) -> KResult<isize> {
    if a[0] == a[1] || a[2] as u32 & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    dup_to(a[0], a[1], a[2] as u32 & O_CLOEXEC != 0)
}

pub fn fcntl(a: &Args) -> KResult<isize> {
    let cmd = a[1] as u32;
    if matches!(
        cmd,
        F_GETLK | F_SETLK | F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW
    ) {
        return super::locks::fcntl(a[0] as i32, cmd, a[2]);
    }
    let task = current();
    let mut files = task.files.lock();
    let f = files.get(a[0] as i32)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            if a[2] as usize >= files.limit {
                return Err(Errno::EINVAL);
            }
            Ok(files.insert_from(a[2] as usize, f, cmd == F_DUPFD_CLOEXEC)? as isize)
        }
        F_GETFD => Ok(if files.cloexec(a[0] as i32)? {
            FD_CLOEXEC as isize
        } else {
            0
        }),
        F_SETFD => {
            files.set_cloexec(a[0] as i32, a[2] as u32 & FD_CLOEXEC != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(f.flags() as isize),
        F_SETFL => {
            let settable = O_APPEND | O_NONBLOCK;
            let old = f.flags();
            f.flags.store(
                (old & !settable) | (a[2] as u32 & settable),
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

pub fn pipe(a: &Args) -> KResult<isize> {
    pipe2(&[a[0], 0, 0, 0, 0, 0])
}

pub fn pipe2(a: &Args) -> KResult<isize> {
    let flags = a[1] as u32;
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
    let mut fds = [0u8; 8];
    fds[..4].copy_from_slice(&rfd.to_le_bytes());
    fds[4..].copy_from_slice(&wfd.to_le_bytes());
    if let Err(e) = user::write_bytes(a[0], &fds) {
        let mut files = task.files.lock();
        let _ = files.close(rfd);
        let _ = files.close(wfd);
        return Err(e);
    }
    Ok(0)
}

pub fn ioctl(a: &Args) -> KResult<isize> {
    let f = file(a[0])?;
    match a[1] as u32 {
        FIOCLEX | FIONCLEX => {
            current()
                .files
                .lock()
                .set_cloexec(a[0] as i32, a[1] as u32 == FIOCLEX)?;
            Ok(0)
        }
        FIONBIO => {
            let on = user::read_u32(a[2])? != 0;
            let old = f.flags();
            let new = if on {
                old | O_NONBLOCK
            } else {
                old & !O_NONBLOCK
            };
            f.flags.store(new, core::sync::atomic::Ordering::Relaxed);
            Ok(0)
        }
        cmd => f.ops.ioctl(cmd, a[2]),
    }
}

pub fn fsync(a: &Args) -> KResult<isize> {
    file(a[0])?;
    Ok(0)
}

pub fn sync() -> KResult<isize> {
    Ok(0)
}

pub fn truncate(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let dentry = kfs::lookup(&path, true)?;
    match dentry.inode().file_type() {
        FileType::Directory => Err(Errno::EISDIR),
        FileType::Regular => {
            let _write = kfs::write_access::get(dentry.inode())?;
            kfs::truncate(dentry.inode(), a[1]).map(|()| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn ftruncate(a: &Args) -> KResult<isize> {
    let f = file(a[0])?;
    if (a[1] as i64) < 0 || !f.writable() {
        return Err(Errno::EINVAL);
    }
    f.ops.truncate(a[1]).map(|()| 0)
}

// ---- metadata ----

fn write_stat(addr: u64, st: crate::fs::stat::Stat) -> KResult<isize> {
    user::write_bytes(addr, &st.to_stat_bytes())?;
    Ok(0)
}

pub fn stat(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    let stat = match kfs::lookup_inode(&path, true) {
        Ok(inode) => inode_stat(&inode)?,
        // As in stat_at: a /proc/PID/fd/N link of a pipe.
        Err(e) => fd_link_target(AT_FDCWD as u64, &path).map_or(Err(e), |f| f.ops.stat())?,
    };
    write_stat(a[1], stat)
}

pub fn lstat(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    write_stat(a[1], inode_stat(&kfs::lookup_inode(&path, false)?)?)
}

/// fadvise64(fd, offset, len, advice): advice about a file's page cache, which Tessera
/// takes and ignores, as Linux does for tmpfs (no backing device): EBADF, ESPIPE for a
/// pipe, EINVAL for a negative length or an unknown advice, else 0.
pub fn fadvise64(a: &Args) -> KResult<isize> {
    /// POSIX_FADV_NORMAL (0) to POSIX_FADV_NOREUSE (5), `linux/fadvise.h`.
    const LAST_ADVICE: u64 = 5;
    let file = file(a[0])?;
    if file.ops.stat()?.mode & S_IFMT == S_IFIFO {
        return Err(Errno::ESPIPE);
    }
    if (a[2] as i64) < 0 || a[3] > LAST_ADVICE {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// getxattr(path, name, value, size) and lgetxattr (`follow` false): no file here has
/// extended attributes, and the answer is tmpfs's for one that is not set (Linux 6.1's
/// shmem handlers): ENODATA for `security.*`, `trusted.*` and the POSIX ACLs
/// (`ls -l` asks for `security.selinux` and `system.posix_acl_access`), EOPNOTSUPP for any
/// other name, after the path's own errors and ERANGE for an empty name or one of 256
/// bytes or more.
pub fn getxattr(a: &Args, follow: bool) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    kfs::lookup(&path, follow)?;
    no_xattr(a[1])
}

/// fgetxattr(fd, name, value, size): as [`getxattr`] for an open file.
pub fn fgetxattr(a: &Args) -> KResult<isize> {
    file(a[0])?;
    no_xattr(a[1])
}

/// listxattr(path, list, size) and llistxattr: an empty list (0 bytes).
pub fn listxattr(a: &Args, follow: bool) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    kfs::lookup(&path, follow)?;
    Ok(0)
}

/// flistxattr(fd, list, size): an empty list.
pub fn flistxattr(a: &Args) -> KResult<isize> {
    file(a[0])?;
    Ok(0)
}

/// What tmpfs answers for the attribute named at `name_ptr`, which no file has.
fn no_xattr(name_ptr: u64) -> KResult<isize> {
    /// XATTR_NAME_MAX + 1 (`linux/limits.h`): the name with its NUL.
    const NAME_BUF: usize = 256;
    let name = user::read_cstr(name_ptr, NAME_BUF, Errno::ERANGE)?;
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

pub fn fstat(a: &Args) -> KResult<isize> {
    write_stat(a[1], file(a[0])?.ops.stat()?)
}

/// The stat of (dirfd, path, flags), with AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW.
fn stat_at(dirfd: u64, path_ptr: u64, flags: u32) -> KResult<crate::fs::stat::Stat> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = match user::read_path(path_ptr) {
        Err(Errno::ENOENT) if flags & AT_EMPTY_PATH != 0 => user::UserPath::Heap(Vec::new()),
        other => other?,
    };
    if path.is_empty() {
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
fn fd_link_target(dirfd: u64, path: &[u8]) -> Option<Arc<OpenFile>> {
    let (start, root) = at(dirfd, path).ok()?;
    let link = vfs().resolve(&start, &root, path, false).ok()?;
    kfs::procfs::fd_link_file(link.inode().as_ref())
}

pub fn newfstatat(a: &Args) -> KResult<isize> {
    write_stat(a[2], stat_at(a[0], a[1], a[3] as u32)?)
}

pub fn statx(a: &Args) -> KResult<isize> {
    let st = stat_at(a[0], a[1], a[2] as u32)?;
    user::write_bytes(a[4], &st.to_statx_bytes())?;
    Ok(0)
}

pub fn access(a: &Args) -> KResult<isize> {
    access_at(AT_FDCWD as u64, a[0], a[1] as u32, 0)
}

/// faccessat has no flags argument (the register after `mode` is whatever the caller left
/// there); faccessat2 has one.
pub fn faccessat(a: &Args) -> KResult<isize> {
    access_at(a[0], a[1], a[2] as u32, 0)
}

pub fn faccessat2(a: &Args) -> KResult<isize> {
    access_at(a[0], a[1], a[2] as u32, a[3] as u32)
}

/// Linux's do_faccessat: the mode, then the flags, then the lookup.
fn access_at(dirfd: u64, path_ptr: u64, mode: u32, flags: u32) -> KResult<isize> {
    if mode & !(R_OK | W_OK | X_OK) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = match user::read_path(path_ptr) {
        Err(Errno::ENOENT) if flags & AT_EMPTY_PATH != 0 => user::UserPath::Heap(Vec::new()),
        other => other?,
    };
    let file_mode = if path.is_empty() {
        // AT_EMPTY_PATH: the file dirfd refers to (or the working directory).
        if dirfd as i32 == AT_FDCWD {
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

pub fn umask(a: &Args) -> KResult<isize> {
    let task = current();
    let mut fs = task.fs.lock();
    let old = fs.umask;
    fs.umask = a[0] as u32 & S_IRWXUGO;
    Ok(old as isize)
}

fn chmod_dentry(dentry: &DentryRef, mode: u64) -> KResult<isize> {
    dentry.inode().set_mode(mode as u32 & S_IALLUGO)?;
    Ok(0)
}

pub fn chmod(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    chmod_dentry(&kfs::lookup(&path, true)?, a[1])
}

pub fn fchmod(a: &Args) -> KResult<isize> {
    chmod_dentry(&file(a[0])?.ops.dentry().ok_or(Errno::EINVAL)?, a[1])
}

pub fn fchmodat(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[1])?;
    chmod_dentry(&resolve_at(a[0], &path, true)?, a[2])
}

pub fn chown(a: &Args) -> KResult<isize> {
    // Only root exists; ownership changes are accepted and recorded.
    let path = user::read_path(a[0]);
    if let Ok(path) = path {
        let dentry = kfs::lookup(&path, true)?;
        let id = |v: u64| (v as u32 != u32::MAX).then_some(v as u32);
        dentry.inode().set_owner(id(a[1]), id(a[2]))?;
        return Ok(0);
    }
    // fchown / lchown with an fd or bad pointer.
    file(a[0]).map(|_| 0)
}

pub fn fchownat(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[1])?;
    let dentry = resolve_at(a[0], &path, a[4] as u32 & AT_SYMLINK_NOFOLLOW == 0)?;
    let id = |v: u64| (v as u32 != u32::MAX).then_some(v as u32);
    dentry.inode().set_owner(id(a[2]), id(a[3]))?;
    Ok(0)
}

fn read_times(
    addr: u64,
) -> KResult<(
    Option<tessera_abi::fs::Timespec>,
    Option<tessera_abi::fs::Timespec>,
)> {
    if addr == 0 {
        let now = kfs::now();
        return Ok((Some(now), Some(now)));
    }
    let raw = user::read_bytes(addr, 32)?;
    let word = |i: usize| i64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8"));
    let one = |sec: i64, nsec: i64| -> KResult<Option<tessera_abi::fs::Timespec>> {
        match nsec {
            UTIME_NOW => Ok(Some(kfs::now())),
            UTIME_OMIT => Ok(None),
            0..1_000_000_000 => Ok(Some(tessera_abi::fs::Timespec { sec, nsec })),
            _ => Err(Errno::EINVAL),
        }
    };
    Ok((one(word(0), word(1))?, one(word(2), word(3))?))
}

pub fn utimensat(a: &Args) -> KResult<isize> {
    let (atime, mtime) = read_times(a[2])?;
    let dentry = if a[1] == 0 {
        file(a[0])?.ops.dentry().ok_or(Errno::EINVAL)?
    } else {
        let path = user::read_path(a[1])?;
        resolve_at(a[0], &path, a[3] as u32 & AT_SYMLINK_NOFOLLOW == 0)?
    };
    dentry.inode().set_times(atime, mtime)?;
    Ok(0)
}

pub fn utimes(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    let dentry = kfs::lookup(&path, true)?;
    let now = kfs::now();
    dentry.inode().set_times(Some(now), Some(now))?;
    Ok(0)
}

pub fn utime(a: &Args) -> KResult<isize> {
    utimes(a)
}

// ---- directories and names ----

pub fn getcwd(a: &Args) -> KResult<isize> {
    let task = current();
    let fs = task.fs.lock().clone();
    let mut path = fs.cwd.path_from(&fs.root).unwrap_or_else(|| fs.cwd.path());
    path.push(0);
    if path.len() > a[1] as usize {
        return Err(Errno::ERANGE);
    }
    user::write_bytes(a[0], &path)?;
    Ok(path.len() as isize)
}

fn set_cwd(dentry: DentryRef) -> KResult<isize> {
    if !dentry.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    current().fs.lock().cwd = dentry;
    Ok(0)
}

pub fn chdir(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    set_cwd(kfs::lookup(&path, true)?)
}

pub fn fchdir(a: &Args) -> KResult<isize> {
    set_cwd(file(a[0])?.ops.dentry().ok_or(Errno::ENOTDIR)?)
}

pub fn chroot(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    let dentry = kfs::lookup(&path, true)?;
    if !dentry.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    current().fs.lock().root = dentry;
    Ok(0)
}

pub fn mkdir(a: &Args) -> KResult<isize> {
    mkdirat(&[AT_FDCWD as u64, a[0], a[1], 0, 0, 0])
}

pub fn mkdirat(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[1])?;
    let (start, root) = at(a[0], &path)?;
    vfs().mkdir(
        &start,
        &root,
        &path,
        a[2] as u32 & S_IALLUGO & !current_umask(),
    )?;
    Ok(0)
}

pub fn mknod(a: &Args) -> KResult<isize> {
    mknodat(&[AT_FDCWD as u64, a[0], a[1], a[2], 0, 0])
}

pub fn mknodat(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[1])?;
    let (start, root) = at(a[0], &path)?;
    let mut mode = a[2] as u32;
    if mode & S_IFMT == 0 {
        mode |= S_IFREG;
    }
    let perms = mode & S_IALLUGO & !current_umask();
    vfs().mknod(&start, &root, &path, (mode & S_IFMT) | perms, a[3])?;
    Ok(0)
}

pub fn rmdir(a: &Args) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    let (start, root) = at(AT_FDCWD as u64, &path)?;
    vfs().rmdir(&start, &root, &path).map(|()| 0)
}

pub fn unlink(a: &Args) -> KResult<isize> {
    unlinkat(&[AT_FDCWD as u64, a[0], 0, 0, 0, 0])
}

pub fn unlinkat(a: &Args) -> KResult<isize> {
    let flags = a[2] as u32;
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let path = user::read_path(a[1])?;
    let (start, root) = at(a[0], &path)?;
    if flags & AT_REMOVEDIR != 0 {
        vfs().rmdir(&start, &root, &path)
    } else {
        vfs().unlink(&start, &root, &path)
    }
    .map(|()| 0)
}

pub fn rename(a: &Args) -> KResult<isize> {
    rename_at(AT_FDCWD as u64, a[0], AT_FDCWD as u64, a[1], 0)
}

/// renameat has no flags argument (r8 holds whatever the caller left there); renameat2 has.
pub fn renameat(a: &Args) -> KResult<isize> {
    rename_at(a[0], a[1], a[2], a[3], 0)
}

pub fn renameat2(a: &Args) -> KResult<isize> {
    rename_at(a[0], a[1], a[2], a[3], a[4] as u32)
}

fn rename_at(old_dir: u64, old_ptr: u64, new_dir: u64, new_ptr: u64, flags: u32) -> KResult<isize> {
    if flags & !RENAME_NOREPLACE != 0 {
        return Err(Errno::EINVAL);
    }
    let old = user::read_path(old_ptr)?;
    let new = user::read_path(new_ptr)?;
    let (old_start, root) = at(old_dir, &old)?;
    let (new_start, _) = at(new_dir, &new)?;
    vfs()
        .rename(
            &old_start,
            &old,
            &new_start,
            &new,
            &root,
            flags & RENAME_NOREPLACE != 0,
        )
        .map(|()| 0)
}

pub fn link(a: &Args) -> KResult<isize> {
    linkat(&[AT_FDCWD as u64, a[0], AT_FDCWD as u64, a[1], 0, 0])
}

pub fn linkat(a: &Args) -> KResult<isize> {
    let old = user::read_path(a[1])?;
    let new = user::read_path(a[3])?;
    let (old_start, root) = at(a[0], &old)?;
    let (new_start, _) = at(a[2], &new)?;
    vfs().link(
        &old_start,
        &old,
        &new_start,
        &new,
        &root,
        a[4] as u32 & AT_SYMLINK_FOLLOW != 0,
    )?;
    Ok(0)
}

pub fn symlink(a: &Args) -> KResult<isize> {
    symlinkat(&[a[0], AT_FDCWD as u64, a[1], 0, 0, 0])
}

pub fn symlinkat(a: &Args) -> KResult<isize> {
    let target = user::read_path(a[0])?;
    let path = user::read_path(a[2])?;
    let (start, root) = at(a[1], &path)?;
    vfs().symlink(&target, &start, &root, &path)?;
    Ok(0)
}

pub fn readlink(a: &Args) -> KResult<isize> {
    readlinkat(&[AT_FDCWD as u64, a[0], a[1], a[2], 0, 0])
}

pub fn readlinkat(a: &Args) -> KResult<isize> {
    if (a[3] as i64) <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = user::read_path(a[1])?;
    let inode = lookup_inode_at(a[0], &path, false)?;
    if inode.file_type() != FileType::Symlink {
        return Err(Errno::EINVAL);
    }
    let target = inode.readlink()?;
    let n = target.len().min(a[3] as usize);
    user::write_bytes(a[2], &target[..n])?;
    Ok(n as isize)
}

pub fn getdents64(a: &Args) -> KResult<isize> {
    let f = file(a[0])?;
    let mut buf = vec![0u8; (a[2] as usize).min(CHUNK)];
    let mut offset = f.offset.lock();
    let (used, next) = f.ops.getdents(*offset, &mut buf)?;
    user::write_bytes(a[1], &buf[..used])?;
    *offset = next;
    Ok(used as isize)
}

// ---- mounts ----

pub fn mount(a: &Args) -> KResult<isize> {
    let source = if a[0] != 0 {
        Some(user::read_cstr(
            a[0],
            tessera_platform::mm::PAGE_SIZE,
            Errno::ENAMETOOLONG,
        )?)
    } else {
        None
    };
    let target = user::read_path(a[1])?;
    let kind = if a[2] != 0 {
        user::read_cstr(a[2], 64, Errno::ENODEV)?
    } else {
        Vec::new()
    };
    // The options: a string for tmpfs, at most a page (Linux copies one page of `data`).
    let data = if a[4] != 0 {
        user::read_cstr(a[4], tessera_platform::mm::PAGE_SIZE, Errno::EINVAL)?
    } else {
        Vec::new()
    };
    kfs::mount::mount(source.as_deref(), &target, &kind, a[3], &data).map(|()| 0)
}

/// statfs and fstatfs: what the file system holding the file is (`fs::mount::statfs`).
pub fn statfs(a: &Args) -> KResult<isize> {
    let dentry = kfs::lookup(&user::read_path(a[0])?, true)?;
    write_statfs(a[1], &kfs::mount::statfs(&dentry))
}

pub fn fstatfs(a: &Args) -> KResult<isize> {
    let file = file(a[0])?;
    let stat = match file.path() {
        Some(dentry) => kfs::mount::statfs(&dentry),
        None => kfs::mount::statfs_unnamed(file.ops.stat()?.mode),
    };
    write_statfs(a[1], &stat)
}

fn write_statfs(addr: u64, s: &kfs::mount::StatFs) -> KResult<isize> {
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
    user::write_bytes(addr, &w.bytes)?;
    Ok(0)
}

pub fn umount(a: &Args) -> KResult<isize> {
    let target = user::read_path(a[0])?;
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

/// copy_file_range(fd_in, off_in, fd_out, off_out, len, flags): copies between two regular
/// files of one file system through a kernel buffer, at the given offsets (the file offsets,
/// advanced, where a pointer is NULL), as Linux's generic path (`fs/read_write.c`,
/// `generic_copy_file_checks`, then `do_splice_direct`): flags must be 0 (EINVAL);
/// directories are EISDIR, other non-regular files EINVAL; fd_in must be open for reading
/// and fd_out for writing without O_APPEND (EBADF); files on different file systems are
/// EXDEV; an offset the length carries past 2^64 (a negative one) EOVERFLOW; the copy
/// stops at the end of the input; overlapping ranges of one file are EINVAL.
pub fn copy_file_range(a: &Args) -> KResult<isize> {
    let (input, out) = (file(a[0])?, file(a[2])?);
    if a[5] != 0 {
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
    let read_offset = |ptr: u64, f: &OpenFile| -> KResult<u64> {
        match ptr {
            0 => Ok(*f.offset.lock()),
            _ => user::read_u64(ptr),
        }
    };
    let (mut pos_in, mut pos_out) = (read_offset(a[1], &input)?, read_offset(a[3], &out)?);
    // Linux adds the (unsigned) length to each offset and refuses a wrap: EOVERFLOW, which
    // is what a negative offset gets unless the length is 0; then EINVAL (rw_verify_area).
    let len = a[4];
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
    let count = (a[4] as usize)
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
    for (ptr, f, at) in [(a[1], &input, pos_in), (a[3], &out, pos_out)] {
        if ptr != 0 {
            user::write_u64(ptr, at)?;
        } else {
            *f.offset.lock() = at;
        }
    }
    Ok(total as isize)
}

/// close_range(first, last, flags): closes (with CLOSE_RANGE_CLOEXEC, marks close-on-exec)
/// every open descriptor from `first` to `last`; EINVAL for unknown flags or `first` past
/// `last` (Linux's `fs/file.c`, `__close_range`). CLOSE_RANGE_UNSHARE first gives the
/// caller a table of its own when it shares one (CLONE_FILES), so the other tasks keep
/// their descriptors.
pub fn close_range(a: &Args) -> KResult<isize> {
    const CLOSE_RANGE_UNSHARE: u64 = 1 << 1;
    const CLOSE_RANGE_CLOEXEC: u64 = 1 << 2;
    // Linux's arguments are unsigned int.
    let (first, last, flags) = (a[0] as u32, a[1] as u32, a[2] as u32 as u64);
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

/// sendfile: copies between two files through a kernel buffer.
pub fn sendfile(a: &Args) -> KResult<isize> {
    let (out, input) = (file(a[0])?, file(a[1])?);
    if !out.writable() || !input.readable() {
        return Err(Errno::EBADF);
    }
    let mut offset = if a[2] != 0 {
        Some(user::read_u64(a[2])?)
    } else {
        None
    };
    let count = (a[3] as usize).min(MAX_RW_COUNT);
    // Linux (rw_verify_area): a negative offset, or one the count would carry past the
    // largest, is EINVAL; so the offset's advance below cannot overflow.
    if offset.is_some_and(|at| {
        at.checked_add(count as u64)
            .is_none_or(|end| end > MAX_FILE_OFFSET)
    }) {
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
    }
    if let (Some(at), true) = (offset, a[2] != 0) {
        user::write_u64(a[2], at)?;
    }
    Ok(total as isize)
}
