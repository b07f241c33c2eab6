//! The [`Inode`] trait every file system implements, and the plain data it returns.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use tessera_abi::fs::{
    DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO,
    S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, Timespec,
};
use tessera_abi::{Errno, KResult};

/// The type of a file: the `S_IFMT` bits of its mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileType {
    /// Regular file.
    Regular,
    /// Directory.
    Directory,
    /// Symbolic link.
    Symlink,
    /// Character device (I/O done by the kernel's driver for its `rdev`).
    CharDevice,
    /// Block device.
    BlockDevice,
    /// Named pipe (I/O done by the kernel's pipe code).
    Fifo,
    /// Unix domain socket.
    Socket,
}

impl FileType {
    /// The type encoded in `mode & S_IFMT`, or `None` for an invalid type.
    pub const fn from_mode(mode: u32) -> Option<FileType> {
        match mode & S_IFMT {
            S_IFREG => Some(FileType::Regular),
            S_IFDIR => Some(FileType::Directory),
            S_IFLNK => Some(FileType::Symlink),
            S_IFCHR => Some(FileType::CharDevice),
            S_IFBLK => Some(FileType::BlockDevice),
            S_IFIFO => Some(FileType::Fifo),
            S_IFSOCK => Some(FileType::Socket),
            _ => None,
        }
    }

    /// The `S_IF*` bits of this type.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => S_IFREG,
            FileType::Directory => S_IFDIR,
            FileType::Symlink => S_IFLNK,
            FileType::CharDevice => S_IFCHR,
            FileType::BlockDevice => S_IFBLK,
            FileType::Fifo => S_IFIFO,
            FileType::Socket => S_IFSOCK,
        }
    }

    /// The `d_type` of a directory entry of this type (`DT_*`).
    pub const fn dirent_type(self) -> u8 {
        match self {
            FileType::Regular => DT_REG,
            FileType::Directory => DT_DIR,
            FileType::Symlink => DT_LNK,
            FileType::CharDevice => DT_CHR,
            FileType::BlockDevice => DT_BLK,
            FileType::Fifo => DT_FIFO,
            FileType::Socket => DT_SOCK,
        }
    }

    /// Whether this is [`FileType::Directory`].
    pub const fn is_dir(self) -> bool {
        matches!(self, FileType::Directory)
    }
}

/// What `stat` reports about an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// Inode number, unique within the file system.
    pub ino: u64,
    /// File type (`S_IFMT` bits) and permissions (`S_IALLUGO` bits).
    pub mode: u32,
    /// Number of hard links (directories: 2 + number of subdirectories).
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (symlinks: length of the target).
    pub size: u64,
    /// Space used, in 512-byte units.
    pub blocks: u64,
    /// Preferred I/O size.
    pub blksize: u32,
    /// Last access.
    pub atime: Timespec,
    /// Last content change.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
    /// Device number a device node stands for ([`tessera_abi::fs::makedev`]), 0 otherwise.
    pub rdev: u64,
    /// Device number of the file system holding the inode.
    pub dev: u64,
}

impl Metadata {
    /// The file type in `mode`, `None` if the file system reported an invalid one.
    pub const fn file_type(&self) -> Option<FileType> {
        FileType::from_mode(self.mode)
    }
}

/// One directory entry handed to a [`Inode::readdir`] sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry<'a> {
    /// Inode number of the entry.
    pub ino: u64,
    /// Its type (`d_type` is [`FileType::dirent_type`]).
    pub kind: FileType,
    /// Its name (`.` and `..` included).
    pub name: &'a [u8],
    /// The cookie that continues the listing after this entry (`d_off`). Cookies stay valid
    /// across changes to the directory: entries removed meanwhile are skipped, entries added
    /// meanwhile may or may not appear, every other entry appears exactly once.
    pub next: u64,
}

/// A readdir sink: gets each entry in order, returns `false` to stop (buffer full); the
/// entry it refused is the next one listed from the cookie of the last entry it accepted.
pub type DirSink<'s> = dyn FnMut(&DirEntry<'_>) -> bool + 's;

/// An inode of some file system: a file, directory, symlink, device node or fifo.
///
/// Only [`metadata`](Inode::metadata), [`file_type`](Inode::file_type) and
/// [`as_any`](Inode::as_any) are required; every other operation has a default that fails the
/// way Linux does when the file system lacks it: directory operations on a non-directory fail
/// with ENOTDIR, namespace changes in a directory that does not support them with EPERM, data
/// I/O on a directory with EISDIR and on anything else with EINVAL, attribute changes with
/// EPERM. A directory without [`lookup`](Inode::lookup) or [`readdir`](Inode::readdir) behaves
/// as an empty directory.
///
/// Names given to directory operations are single components: never empty, `.`, `..`, nor
/// containing `/` or NUL (the VFS filters those), at most `NAME_MAX` bytes.
///
/// Kernel-implemented inodes (console, pipes) may block inside `read_at`/`write_at`. The VFS
/// never holds one of its locks while calling an inode.
pub trait Inode: Send + Sync {
    /// `stat`.
    fn metadata(&self) -> KResult<Metadata>;

    /// The file type. Must be cheap (no lock): path resolution asks it at every step. It
    /// never changes during the inode's life.
    fn file_type(&self) -> FileType;

    /// The inode as `Any`, so the kernel can recognise its own inode types (downcast).
    fn as_any(&self) -> &dyn Any;

    /// When the inode was made (statx's `stx_btime`), for file systems that keep it (tmpfs,
    /// as Linux's shmem since 5.18); `None` for the others.
    fn btime(&self) -> Option<Timespec> {
        None
    }

    /// Whether the VFS may cache this directory's children. File systems whose directories
    /// change without going through the VFS (e.g. a procfs listing processes) say `false`.
    fn cache_children(&self) -> bool {
        true
    }

    /// The child named `name`: ENOENT if there is none.
    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let _ = name;
        Err(dir_op_error(self.file_type(), Errno::ENOENT))
    }

    /// Create a non-directory child (`mknod`/`open(O_CREAT)`): `mode` holds the type
    /// (`S_IFREG`, `S_IFCHR`, `S_IFBLK`, `S_IFIFO`, `S_IFSOCK`) and the permissions (umask
    /// already applied), `rdev` the device number of a device node. EEXIST if the name exists.
    fn create(&self, name: &[u8], mode: u32, rdev: u64) -> KResult<Arc<dyn Inode>> {
        let _ = (name, mode, rdev);
        Err(dir_op_error(self.file_type(), Errno::EPERM))
    }

    /// Create a subdirectory with permissions `mode`. EEXIST if the name exists.
    fn mkdir(&self, name: &[u8], mode: u32) -> KResult<Arc<dyn Inode>> {
        let _ = (name, mode);
        Err(dir_op_error(self.file_type(), Errno::EPERM))
    }

    /// Create a symbolic link `name` whose contents are `target`. EEXIST if the name exists.
    fn symlink(&self, name: &[u8], target: &[u8]) -> KResult<Arc<dyn Inode>> {
        let _ = (name, target);
        Err(dir_op_error(self.file_type(), Errno::EPERM))
    }

    /// Add a hard link `name` to `inode`: EXDEV if `inode` is of another file system, EPERM
    /// for a directory, EEXIST if the name exists.
    fn link(&self, name: &[u8], inode: &Arc<dyn Inode>) -> KResult<()> {
        let _ = (name, inode);
        Err(dir_op_error(self.file_type(), Errno::EPERM))
    }

    /// Remove the non-directory `name`: ENOENT if absent, EISDIR for a directory.
    fn unlink(&self, name: &[u8]) -> KResult<()> {
        let _ = name;
        Err(dir_op_error(self.file_type(), Errno::EPERM))
    }

    /// Remove the empty directory `name`: ENOENT, ENOTDIR, ENOTEMPTY.
    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        let _ = name;
        Err(dir_op_error(self.file_type(), Errno::EPERM))
    }

    /// Move `old_name` of this directory to `new_name` of `new_dir`, replacing a compatible
    /// target. EXDEV if `new_dir` is of another file system; ENOENT if `old_name` is absent;
    /// ENOTDIR (directory over non-directory), EISDIR (non-directory over directory),
    /// ENOTEMPTY (over a non-empty directory), EINVAL (a directory into itself or its
    /// subtree). Renaming a name onto another link of the same inode does nothing.
    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8]) -> KResult<()> {
        let _ = (old_name, new_dir, new_name);
        Err(dir_op_error(self.file_type(), Errno::EPERM))
    }

    /// List entries from `cookie` (0 = start; `.` and `..` first) into `sink` until it
    /// returns `false` or the listing ends. The sink runs without the directory locked.
    fn readdir(&self, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        if !self.file_type().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let ino = self.metadata()?.ino;
        for (c, name) in [(0u64, &b"."[..]), (1, &b".."[..])] {
            let entry = DirEntry {
                ino,
                kind: FileType::Directory,
                name,
                next: c + 1,
            };
            if c >= cookie && !sink(&entry) {
                break;
            }
        }
        Ok(())
    }

    /// Read at `offset` into `buf`; returns the bytes read, 0 at or past the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let _ = (offset, buf);
        Err(data_op_error(self.file_type()))
    }

    /// Whether mmap may map the file's pages (Linux: the file has an `mmap` file operation).
    /// A mappable file's pages are read through [`read_at`](Inode::read_at) at page-aligned
    /// offsets, and a read that returns nothing means the page lies past the end of the file
    /// (SIGBUS when touched), so its reads must behave like a regular file's. The default is
    /// no: mmap fails with ENODEV, as Linux's does for files without `mmap` (procfs files,
    /// directories).
    fn mappable(&self) -> bool {
        false
    }

    /// Write `buf` at `offset`, extending the file; returns the bytes written.
    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        let _ = (offset, buf);
        Err(data_op_error(self.file_type()))
    }

    /// Set the size to `len`, dropping data past it or extending with zeros.
    fn truncate(&self, len: u64) -> KResult<()> {
        let _ = len;
        Err(data_op_error(self.file_type()))
    }

    /// The target of a symbolic link; EINVAL for anything else.
    fn readlink(&self) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }

    /// `chmod`: set the `S_IALLUGO` bits (the type bits of `mode` are ignored).
    fn set_mode(&self, mode: u32) -> KResult<()> {
        let _ = mode;
        Err(Errno::EPERM)
    }

    /// `chown`: set the owner and/or group (`None` leaves it unchanged).
    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        let _ = (uid, gid);
        Err(Errno::EPERM)
    }

    /// `utimensat`: set the access and/or modification time (`None` leaves it unchanged;
    /// the kernel resolves `UTIME_NOW` to its clock). The change time becomes now.
    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
        let _ = (atime, mtime);
        Err(Errno::EPERM)
    }

    /// `fsync`: make the data durable. In-memory file systems have nothing to do.
    fn fsync(&self) -> KResult<()> {
        Ok(())
    }
}

/// The error of a directory operation a file system lacks: ENOTDIR on a non-directory, else
/// `dir_error` (ENOENT for lookup, EPERM for namespace changes, as Linux's VFS).
fn dir_op_error(kind: FileType, dir_error: Errno) -> Errno {
    if kind.is_dir() {
        dir_error
    } else {
        Errno::ENOTDIR
    }
}

/// The error of a data operation a file system lacks: EISDIR on a directory, else EINVAL.
fn data_op_error(kind: FileType) -> Errno {
    if kind.is_dir() {
        Errno::EISDIR
    } else {
        Errno::EINVAL
    }
}

/// A key that identifies an inode object while it is alive (its address). Two `Arc`s to the
/// same inode give the same key; file systems return the same `Arc` for the same inode from
/// every lookup, which is what mounts and ancestor checks rely on.
pub fn inode_key(inode: &Arc<dyn Inode>) -> usize {
    Arc::as_ptr(inode) as *const () as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// The smallest possible file system: one inode of a given type, nothing implemented.
    struct Bare(FileType);

    impl Inode for Bare {
        fn metadata(&self) -> KResult<Metadata> {
            Ok(Metadata {
                ino: 7,
                mode: self.0.mode_bits() | 0o755,
                nlink: 1,
                uid: 0,
                gid: 0,
                size: 0,
                blocks: 0,
                blksize: 4096,
                atime: Timespec::ZERO,
                mtime: Timespec::ZERO,
                ctime: Timespec::ZERO,
                rdev: 0,
                dev: 0,
            })
        }
        fn file_type(&self) -> FileType {
            self.0
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    #[test]
    fn defaults_fail_like_linux() {
        let file: Arc<dyn Inode> = Arc::new(Bare(FileType::Regular));
        let dir: Arc<dyn Inode> = Arc::new(Bare(FileType::Directory));
        let mut buf = [0u8; 4];
        assert_eq!(file.lookup(b"x").err(), Some(Errno::ENOTDIR));
        assert_eq!(file.mkdir(b"x", 0o755).err(), Some(Errno::ENOTDIR));
        assert_eq!(file.readdir(0, &mut |_| true).err(), Some(Errno::ENOTDIR));
        assert_eq!(file.read_at(0, &mut buf).err(), Some(Errno::EINVAL));
        assert_eq!(file.readlink().err(), Some(Errno::EINVAL));
        assert_eq!(file.set_mode(0o644).err(), Some(Errno::EPERM));
        assert_eq!(dir.lookup(b"x").err(), Some(Errno::ENOENT));
        assert_eq!(dir.create(b"x", S_IFREG, 0).err(), Some(Errno::EPERM));
        assert_eq!(dir.unlink(b"x").err(), Some(Errno::EPERM));
        assert_eq!(dir.rename(b"x", &dir, b"y").err(), Some(Errno::EPERM));
        assert_eq!(dir.read_at(0, &mut buf).err(), Some(Errno::EISDIR));
        assert_eq!(dir.write_at(0, b"x").err(), Some(Errno::EISDIR));
        assert_eq!(dir.truncate(0).err(), Some(Errno::EISDIR));
        assert_eq!(dir.fsync(), Ok(()));
        assert!(
            !file.mappable() && !dir.mappable(),
            "no mmap unless a file system says so"
        );
        assert!(file.as_any().downcast_ref::<Bare>().is_some());
    }

    #[test]
    fn default_readdir_lists_dot_entries_from_any_cookie() {
        let dir: Arc<dyn Inode> = Arc::new(Bare(FileType::Directory));
        let mut names = vec![];
        dir.readdir(0, &mut |e| {
            names.push((e.name.to_vec(), e.next));
            true
        })
        .unwrap();
        assert_eq!(names, vec![(b".".to_vec(), 1), (b"..".to_vec(), 2)]);
        names.clear();
        dir.readdir(1, &mut |e| {
            names.push((e.name.to_vec(), e.next));
            true
        })
        .unwrap();
        assert_eq!(names, vec![(b"..".to_vec(), 2)]);
    }

    #[test]
    fn file_types_round_trip_through_mode_bits() {
        use FileType::*;
        for t in [
            Regular,
            Directory,
            Symlink,
            CharDevice,
            BlockDevice,
            Fifo,
            Socket,
        ] {
            assert_eq!(FileType::from_mode(t.mode_bits() | 0o644), Some(t));
        }
        assert_eq!(FileType::from_mode(0o644), None);
        assert_eq!(Directory.dirent_type(), 4);
        assert_eq!(Regular.dirent_type(), 8);
    }
}
