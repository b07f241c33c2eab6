//! File system numbers: file types and permission bits (`st_mode`), directory entry types,
//! name limits, `open`/`*at`/`access`/`fcntl` flags, timestamps, device numbers and I/O
//! limits, splice flags, mount flags and `statfs` numbers (`linux/stat.h`,
//! `asm-generic/fcntl.h`, `linux/fcntl.h`, `unistd.h`, `linux/limits.h`, `linux/kdev_t.h`,
//! `linux/fs.h`, `linux/splice.h`, `linux/mount.h`, `linux/uio.h`, `linux/magic.h`,
//! `linux/statfs.h`).
//!
//! The generic file ioctls (`FIONREAD`, `FIONBIO`, `FIOCLEX`, `FIONCLEX`) are defined with the
//! terminal ones in [`crate::termios`] (they share `asm-generic/ioctls.h`) and re-exported here.

pub use crate::termios::{FIOCLEX, FIONBIO, FIONCLEX, FIONREAD};

/// The largest file offset (Linux's `MAX_LFS_FILESIZE` on 64-bit): no file, and no page of a
/// file mapping, reaches past it.
pub const MAX_FILE_OFFSET: u64 = i64::MAX as u64;
/// The most bytes one `read` or `write` moves (`MAX_RW_COUNT` of `linux/fs.h`: `INT_MAX`
/// rounded down to a page); larger counts are cut to it.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;
/// Most buffers in one `readv`/`writev`/`sendmsg` (`UIO_MAXIOV` of `linux/uio.h`).
pub const UIO_MAXIOV: u64 = 1024;
/// Bytes of one `struct iovec` (`linux/uio.h`): base pointer and length.
pub const IOVEC_SIZE: usize = 16;

/// Mask of the file type bits of a mode.
pub const S_IFMT: u32 = 0o170_000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140_000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120_000;
/// Regular file.
pub const S_IFREG: u32 = 0o100_000;
/// Block device.
pub const S_IFBLK: u32 = 0o060_000;
/// Directory.
pub const S_IFDIR: u32 = 0o040_000;
/// Character device.
pub const S_IFCHR: u32 = 0o020_000;
/// Named pipe (FIFO).
pub const S_IFIFO: u32 = 0o010_000;
/// Set-user-ID on execution.
pub const S_ISUID: u32 = 0o4000;
/// Set-group-ID on execution.
pub const S_ISGID: u32 = 0o2000;
/// Sticky bit (restricted deletion in directories).
pub const S_ISVTX: u32 = 0o1000;
/// Owner may read, write and execute.
pub const S_IRWXU: u32 = 0o700;
/// Owner may read.
pub const S_IRUSR: u32 = 0o400;
/// Owner may write.
pub const S_IWUSR: u32 = 0o200;
/// Owner may execute (search, for a directory).
pub const S_IXUSR: u32 = 0o100;
/// Group may read, write and execute.
pub const S_IRWXG: u32 = 0o070;
/// Group may read.
pub const S_IRGRP: u32 = 0o040;
/// Group may write.
pub const S_IWGRP: u32 = 0o020;
/// Group may execute.
pub const S_IXGRP: u32 = 0o010;
/// Others may read, write and execute.
pub const S_IRWXO: u32 = 0o007;
/// Others may read.
pub const S_IROTH: u32 = 0o004;
/// Others may write.
pub const S_IWOTH: u32 = 0o002;
/// Others may execute.
pub const S_IXOTH: u32 = 0o001;
/// Every bit `chmod` may change: permissions plus setuid, setgid and sticky.
pub const S_IALLUGO: u32 = 0o7777;
/// Read, write and execute for everyone (`S_IRWXUGO`): the bits a umask may hold.
pub const S_IRWXUGO: u32 = 0o777;
/// Execute for anyone (`S_IXUGO`).
pub const S_IXUGO: u32 = 0o111;

/// `d_type` of a directory entry whose type is not known.
pub const DT_UNKNOWN: u8 = 0;
/// `d_type` of a FIFO.
pub const DT_FIFO: u8 = 1;
/// `d_type` of a character device.
pub const DT_CHR: u8 = 2;
/// `d_type` of a directory.
pub const DT_DIR: u8 = 4;
/// `d_type` of a block device.
pub const DT_BLK: u8 = 6;
/// `d_type` of a regular file.
pub const DT_REG: u8 = 8;
/// `d_type` of a symbolic link.
pub const DT_LNK: u8 = 10;
/// `d_type` of a socket.
pub const DT_SOCK: u8 = 12;

/// Longest file name (one path component), in bytes.
pub const NAME_MAX: usize = 255;
/// Size of the longest path including its NUL: a path of `PATH_MAX` bytes or more is refused.
pub const PATH_MAX: usize = 4096;
/// Most symbolic links followed while resolving one path (`MAXSYMLINKS`).
pub const MAXSYMLINKS: u32 = 40;
/// Writes to a pipe of at most this many bytes are atomic (`PIPE_BUF` of `linux/limits.h`).
pub const PIPE_BUF: usize = 4096;

/// `splice`, `tee` and `vmsplice` flags (`linux/splice.h`): move pages instead of copying
/// (a hint).
pub const SPLICE_F_MOVE: u32 = 0x01;
/// Do not block on the pipe (the other end blocks as its own file's flags say).
pub const SPLICE_F_NONBLOCK: u32 = 0x02;
/// More data follows (a hint for sockets).
pub const SPLICE_F_MORE: u32 = 0x04;
/// `vmsplice`: the pages are a gift to the kernel (a hint).
pub const SPLICE_F_GIFT: u32 = 0x08;
/// Every flag the calls accept; any other bit is EINVAL (`SPLICE_F_ALL`).
pub const SPLICE_F_ALL: u32 = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;

/// `dirfd` meaning "the current working directory".
pub const AT_FDCWD: i32 = -100;
/// Do not follow a symbolic link in the last component.
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `unlinkat`: remove a directory (rmdir) instead of a file.
pub const AT_REMOVEDIR: u32 = 0x200;
/// `faccessat2`: check with the effective ids, not the real ones (same bit as
/// `AT_REMOVEDIR`, for another call).
pub const AT_EACCESS: u32 = 0x200;
/// `linkat`: follow a symbolic link in the old path.
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
/// Do not trigger an automount of the last component (`fstatat`, `statx`).
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
/// An empty path names `dirfd` itself.
pub const AT_EMPTY_PATH: u32 = 0x1000;
/// `statx`: mask of the bits that say how to synchronise with a remote file system.
pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;

/// `statx` mask: every field of `struct stat` (`STATX_BASIC_STATS` of `linux/stat.h`).
pub const STATX_BASIC_STATS: u32 = 0x7ff;
/// `statx` mask: the birth time (`stx_btime`).
pub const STATX_BTIME: u32 = 0x800;
/// `statx` mask: the mount id (`stx_mnt_id`).
pub const STATX_MNT_ID: u32 = 0x1000;
/// `statx` mask: a bit reserved for extending `struct statx`; asking for it is EINVAL.
pub const STATX__RESERVED: u32 = 0x8000_0000;
/// `stx_attributes`: the file cannot be changed (`chattr +i`).
pub const STATX_ATTR_IMMUTABLE: u64 = 0x10;
/// `stx_attributes`: the file can only be appended to (`chattr +a`).
pub const STATX_ATTR_APPEND: u64 = 0x20;
/// `stx_attributes`: the file is not a candidate for backup (`chattr +d`).
pub const STATX_ATTR_NODUMP: u64 = 0x40;
/// `stx_attributes`: a directory that is an automount trigger.
pub const STATX_ATTR_AUTOMOUNT: u64 = 0x1000;
/// `stx_attributes`: the root of a mount.
pub const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;
/// `stx_attributes`: the file is in the DAX (direct access) state.
pub const STATX_ATTR_DAX: u64 = 0x20_0000;

/// `access`: does the file exist (`F_OK`).
pub const F_OK: u32 = 0;
/// `access`: may it be executed (`X_OK`).
pub const X_OK: u32 = 1;
/// `access`: may it be written (`W_OK`).
pub const W_OK: u32 = 2;
/// `access`: may it be read (`R_OK`).
pub const R_OK: u32 = 4;

/// `open`: read only (access mode).
pub const O_RDONLY: u32 = 0;
/// `open`: write only (access mode).
pub const O_WRONLY: u32 = 1;
/// `open`: read and write (access mode).
pub const O_RDWR: u32 = 2;
/// `open`: mask of the access mode.
pub const O_ACCMODE: u32 = 3;
/// `open`: create the file if it does not exist.
pub const O_CREAT: u32 = 0o100;
/// `open`: with `O_CREAT`, fail with EEXIST if the name exists (symlinks not followed).
pub const O_EXCL: u32 = 0o200;
/// `open`: do not make a terminal the controlling terminal.
pub const O_NOCTTY: u32 = 0o400;
/// `open`: truncate a regular file to length 0.
pub const O_TRUNC: u32 = 0o1000;
/// `open`: every write appends.
pub const O_APPEND: u32 = 0o2000;
/// `open`: non-blocking I/O.
pub const O_NONBLOCK: u32 = 0o4000;
/// `open`: synchronous data writes.
pub const O_DSYNC: u32 = 0o10000;
/// `open`: large file offsets (always on for 64-bit; the kernel's value).
pub const O_LARGEFILE: u32 = 0o100_000;
/// `open`: fail with ENOTDIR unless the path names a directory.
pub const O_DIRECTORY: u32 = 0o200_000;
/// `open`: fail with ELOOP if the last component is a symbolic link.
pub const O_NOFOLLOW: u32 = 0o400_000;
/// `open`: do not update the access time.
pub const O_NOATIME: u32 = 0o1_000_000;
/// `open`: close on `execve`.
pub const O_CLOEXEC: u32 = 0o2_000_000;
/// `open`: synchronous writes (data and metadata; includes `O_DSYNC`).
pub const O_SYNC: u32 = 0o4_010_000;
/// `open`: a handle to the location only, no I/O.
pub const O_PATH: u32 = 0o10_000_000;
/// `open`: the bit of its own that `O_TMPFILE` adds to `O_DIRECTORY` (`__O_TMPFILE`).
pub const __O_TMPFILE: u32 = 0o20_000_000;
/// `open`: an unnamed temporary file in the given directory (includes `O_DIRECTORY`).
pub const O_TMPFILE: u32 = __O_TMPFILE | O_DIRECTORY;

/// `fcntl`: duplicate to the lowest free descriptor at or above the argument.
pub const F_DUPFD: u32 = 0;
/// `fcntl`: read the descriptor flags ([`FD_CLOEXEC`]).
pub const F_GETFD: u32 = 1;
/// `fcntl`: set the descriptor flags.
pub const F_SETFD: u32 = 2;
/// `fcntl`: read the file status flags (`O_*`).
pub const F_GETFL: u32 = 3;
/// `fcntl`: set the file status flags (`O_APPEND`, `O_NONBLOCK`, ...).
pub const F_SETFL: u32 = 4;
/// `fcntl`: test for a record lock (`struct flock`).
pub const F_GETLK: u32 = 5;
/// `fcntl`: take or release a record lock without waiting.
pub const F_SETLK: u32 = 6;
/// `fcntl`: take or release a record lock, waiting for it.
pub const F_SETLKW: u32 = 7;
/// `fcntl`: [`F_DUPFD`] with close-on-exec set on the new descriptor (`linux/fcntl.h`).
pub const F_DUPFD_CLOEXEC: u32 = 1030;
/// `fcntl`: set a pipe's capacity (`linux/fcntl.h`).
pub const F_SETPIPE_SZ: u32 = 1031;
/// `fcntl`: read a pipe's capacity (`linux/fcntl.h`).
pub const F_GETPIPE_SZ: u32 = 1032;
/// The descriptor flag close-on-exec (`F_GETFD`/`F_SETFD`).
pub const FD_CLOEXEC: u32 = 1;
/// `fcntl`: [`F_GETLK`] for an open file description's lock (`linux/fcntl.h`).
pub const F_OFD_GETLK: u32 = 36;
/// `fcntl`: [`F_SETLK`] for an open file description's lock.
pub const F_OFD_SETLK: u32 = 37;
/// `fcntl`: [`F_SETLKW`] for an open file description's lock.
pub const F_OFD_SETLKW: u32 = 38;
/// `l_type` of a `struct flock`: a shared (read) lock.
pub const F_RDLCK: i16 = 0;
/// `l_type` of a `struct flock`: an exclusive (write) lock.
pub const F_WRLCK: i16 = 1;
/// `l_type` of a `struct flock`: no lock (what `F_GETLK` reports when nothing conflicts).
pub const F_UNLCK: i16 = 2;
/// `flock`: a shared lock.
pub const LOCK_SH: u32 = 1;
/// `flock`: an exclusive lock.
pub const LOCK_EX: u32 = 2;
/// `flock`: fail with EWOULDBLOCK instead of waiting.
pub const LOCK_NB: u32 = 4;
/// `flock`: release the lock.
pub const LOCK_UN: u32 = 8;
/// `flock`: the old "mandatory" flag, ignored since Linux 5.15 (the call returns 0).
pub const LOCK_MAND: u32 = 32;

/// `lseek`: from the start.
pub const SEEK_SET: u32 = 0;
/// `lseek`: from the current offset.
pub const SEEK_CUR: u32 = 1;
/// `lseek`: from the end.
pub const SEEK_END: u32 = 2;
/// `lseek`: the next data at or after the offset.
pub const SEEK_DATA: u32 = 3;
/// `lseek`: the next hole at or after the offset (the end of a file is one); the last
/// `whence` (`SEEK_MAX`).
pub const SEEK_HOLE: u32 = 4;

/// `umount2` flags (`include/linux/fs.h`): force, lazy (detach), expire, don't follow.
pub const MNT_FORCE: u32 = 1;
pub const MNT_DETACH: u32 = 2;
pub const MNT_EXPIRE: u32 = 4;
pub const UMOUNT_NOFOLLOW: u32 = 8;

/// `renameat2`: fail with EEXIST instead of replacing the target.
pub const RENAME_NOREPLACE: u32 = 1;
/// `renameat2`: atomically exchange source and target.
pub const RENAME_EXCHANGE: u32 = 2;
/// `renameat2`: leave a whiteout (overlay file systems).
pub const RENAME_WHITEOUT: u32 = 4;

/// `utimensat`: `tv_nsec` value meaning "set this time to now".
pub const UTIME_NOW: i64 = (1 << 30) - 1;
/// `utimensat`: `tv_nsec` value meaning "leave this time unchanged".
pub const UTIME_OMIT: i64 = (1 << 30) - 2;

/// `statfs` magic number of tmpfs (`f_type`).
pub const TMPFS_MAGIC: u64 = 0x0102_1994;
/// `statfs` magic number of proc (`PROC_SUPER_MAGIC`).
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
/// `statfs` magic number of sysfs.
pub const SYSFS_MAGIC: u64 = 0x6265_6572;
/// `statfs` magic number of devpts (`DEVPTS_SUPER_MAGIC`).
pub const DEVPTS_SUPER_MAGIC: u64 = 0x1cd1;
/// `statfs` magic number of pipefs, where Linux keeps pipes.
pub const PIPEFS_MAGIC: u64 = 0x5049_5045;
/// `statfs` magic number of sockfs, where Linux keeps sockets.
pub const SOCKFS_MAGIC: u64 = 0x534f_434b;

/// `mount` flag (`linux/mount.h`): read-only.
pub const MS_RDONLY: u64 = 1;
/// `mount` flag: set-user-ID and set-group-ID bits are ignored.
pub const MS_NOSUID: u64 = 2;
/// `mount` flag: device nodes cannot be opened.
pub const MS_NODEV: u64 = 4;
/// `mount` flag: programs cannot be executed.
pub const MS_NOEXEC: u64 = 8;
/// `mount` flag: writes are synchronous.
pub const MS_SYNCHRONOUS: u64 = 16;
/// `mount` flag: change the flags of an existing mount.
pub const MS_REMOUNT: u64 = 32;
/// `mount` flag: directory changes are synchronous.
pub const MS_DIRSYNC: u64 = 128;
/// `mount` flag: symbolic links are not followed.
pub const MS_NOSYMFOLLOW: u64 = 256;
/// `mount` flag: access times are never updated.
pub const MS_NOATIME: u64 = 1024;
/// `mount` flag: directory access times are never updated.
pub const MS_NODIRATIME: u64 = 2048;
/// `mount` flag: make a bind mount.
pub const MS_BIND: u64 = 4096;
/// `mount` flag: move a mount.
pub const MS_MOVE: u64 = 8192;
/// `mount` flag: access times are updated only when older than the modification time (Linux's
/// default for every mount made through `mount(2)`).
pub const MS_RELATIME: u64 = 1 << 21;
/// `mount` flag: always update access times (clears the relatime default).
pub const MS_STRICTATIME: u64 = 1 << 24;
/// `mount` flag: timestamps are updated in memory only.
pub const MS_LAZYTIME: u64 = 1 << 25;

/// `statfs` `f_flags` (`linux/statfs.h`): mounted read-only.
pub const ST_RDONLY: u64 = 1;
/// `f_flags`: set-user-ID bits ignored.
pub const ST_NOSUID: u64 = 2;
/// `f_flags`: device nodes cannot be opened.
pub const ST_NODEV: u64 = 4;
/// `f_flags`: no execution.
pub const ST_NOEXEC: u64 = 8;
/// `f_flags`: synchronous writes.
pub const ST_SYNCHRONOUS: u64 = 16;
/// `f_flags`: the flags are valid (always set by Linux since 2.6.36).
pub const ST_VALID: u64 = 0x20;
/// `f_flags`: no access time updates.
pub const ST_NOATIME: u64 = 1024;
/// `f_flags`: no directory access time updates.
pub const ST_NODIRATIME: u64 = 2048;
/// `f_flags`: relative access time updates.
pub const ST_RELATIME: u64 = 4096;
/// `f_flags`: symbolic links not followed.
pub const ST_NOSYMFOLLOW: u64 = 0x2000;

/// `struct timespec`: seconds and nanoseconds since the Unix epoch (or since boot, for
/// monotonic clocks). Same layout as Linux x86_64: two 64-bit fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(C)]
pub struct Timespec {
    /// Whole seconds.
    pub sec: i64,
    /// Nanoseconds, 0..=999_999_999.
    pub nsec: i64,
}

impl Timespec {
    /// The epoch (or boot) itself.
    pub const ZERO: Timespec = Timespec { sec: 0, nsec: 0 };

    /// A time of `sec` seconds and `nsec` nanoseconds.
    pub const fn new(sec: i64, nsec: i64) -> Timespec {
        Timespec { sec, nsec }
    }
}

/// A device number (`dev_t`) from its major and minor numbers, in the encoding of glibc's
/// `makedev`, which for majors below 4096 and minors below 2^20 equals the kernel's
/// `new_encode_dev` used for `st_dev`/`st_rdev` in x86_64 `struct stat`: minor bits 0-7 in
/// bits 0-7, major bits 0-11 in bits 8-19, minor bits 8-31 in bits 20-43, major bits 12-31 in
/// bits 44-63.
#[inline]
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32)
        | ((major & 0x0000_0fff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0x0000_00ff)
}

/// The major number of a device number made by [`makedev`].
#[inline]
pub const fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff)) as u32
}

/// The minor number of a device number made by [`makedev`].
#[inline]
pub const fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_round_trip_and_match_linux() {
        // /dev/tty1 is 4:1 and /dev/null 1:3; Linux's new_encode_dev gives these values.
        assert_eq!(makedev(4, 1), 0x401);
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(makedev(259, 0x12345), 0x1231_0345);
        for (ma, mi) in [
            (0, 0),
            (4095, 255),
            (4096, 256),
            (0xffff_ffff, 0xffff_ffff),
            (8, 17),
        ] {
            let dev = makedev(ma, mi);
            assert_eq!((major(dev), minor(dev)), (ma, mi));
        }
    }

    #[test]
    fn file_type_bits_are_disjoint_from_permissions() {
        for t in [
            S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO,
        ] {
            assert_eq!(t & S_IFMT, t);
            assert_eq!(t & S_IALLUGO, 0);
        }
    }
}
