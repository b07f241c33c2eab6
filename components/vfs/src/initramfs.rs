//! Unpacking the initramfs (a newc cpio archive) into the root file system, the way Linux's
//! `init/initramfs.c` does: directories, regular files, symlinks, device nodes, fifos and
//! sockets with their owner, permissions and mtime; hard-link groups (`nlink >= 2`, same
//! `ino`/`dev`) become links; an existing name of another type is replaced; directory
//! mtimes are set at the end (creating children would change them). Unlike Linux, missing
//! parent directories are created (mode 0755) and file system errors stop the unpacking.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use tessera_abi::fs::{S_IFDIR, S_IFMT, Timespec, makedev};
use tessera_abi::{Errno, KResult};

use crate::cpio::{CpioEntry, CpioError, CpioReader};
use crate::dcache::Dcache;
use crate::dentry::Dentry;
use crate::inode::FileType;
use crate::ops::OpenHow;
use crate::vfs::Vfs;

/// Why unpacking stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnpackError<'a> {
    /// The archive is malformed.
    Malformed(CpioError),
    /// An entry has an invalid file type in its mode.
    BadType {
        /// The entry's path.
        name: &'a [u8],
        /// Its mode.
        mode: u32,
    },
    /// The file system refused an entry.
    Fs {
        /// The entry's path.
        name: &'a [u8],
        /// The error.
        errno: Errno,
    },
}

impl UnpackError<'_> {
    /// The error number for a syscall-style caller: EINVAL for a malformed archive.
    pub fn errno(&self) -> Errno {
        match self {
            UnpackError::Malformed(_) | UnpackError::BadType { .. } => Errno::EINVAL,
            UnpackError::Fs { errno, .. } => *errno,
        }
    }
}

impl From<UnpackError<'_>> for Errno {
    fn from(e: UnpackError<'_>) -> Errno {
        e.errno()
    }
}

impl fmt::Display for UnpackError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnpackError::Malformed(e) => write!(f, "initramfs: {e}"),
            UnpackError::BadType { name, mode } => {
                let name = alloc::string::String::from_utf8_lossy(name);
                write!(f, "initramfs: {name}: invalid file type in mode {mode:#o}")
            }
            UnpackError::Fs { name, errno } => {
                let name = alloc::string::String::from_utf8_lossy(name);
                write!(f, "initramfs: {name}: {errno}")
            }
        }
    }
}

/// What an unpacking created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Entries applied (trailers not counted).
    pub entries: usize,
    /// Bytes of regular file data written.
    pub file_bytes: u64,
}

/// Unpack the newc archive `archive` under the directory `root` of `vfs` (paths in the
/// archive are relative to it; leading `/` and `./` are ignored, `.` is `root` itself).
/// EINVAL for a malformed archive, the file system's error otherwise; never panics.
pub fn unpack_cpio_newc<C: Dcache>(
    vfs: &Vfs<C>,
    root: &Arc<Dentry>,
    archive: &[u8],
) -> KResult<()> {
    unpack_cpio_newc_detailed(vfs, root, archive)
        .map(|_| ())
        .map_err(Errno::from)
}

/// [`unpack_cpio_newc`] with statistics and an error that names the culprit (for the boot log).
pub fn unpack_cpio_newc_detailed<'a, C: Dcache>(
    vfs: &Vfs<C>,
    root: &Arc<Dentry>,
    archive: &'a [u8],
) -> Result<UnpackStats, UnpackError<'a>> {
    let mut unpacker = Unpacker {
        vfs,
        root,
        links: BTreeMap::new(),
        dir_times: Vec::new(),
        stats: UnpackStats::default(),
    };
    for entry in CpioReader::new(archive) {
        let entry = entry.map_err(UnpackError::Malformed)?;
        let Some(kind) = FileType::from_mode(entry.mode) else {
            return Err(UnpackError::BadType {
                name: entry.name,
                mode: entry.mode,
            });
        };
        unpacker
            .apply(&entry, kind)
            .map_err(|errno| UnpackError::Fs {
                name: entry.name,
                errno,
            })?;
        unpacker.stats.entries += 1;
    }
    for (dir, mtime) in unpacker.dir_times.drain(..) {
        let t = Some(Timespec::new(i64::from(mtime), 0));
        dir.inode()
            .set_times(t, t)
            .map_err(|errno| UnpackError::Fs {
                name: b"(directory mtime)",
                errno,
            })?;
    }
    Ok(unpacker.stats)
}

/// Identity of a hard-link group: (ino, dev major, dev minor, file type bits).
type LinkKey = (u32, u32, u32, u32);

struct Unpacker<'v, C: Dcache> {
    vfs: &'v Vfs<C>,
    root: &'v Arc<Dentry>,
    /// First path seen of each hard-link group.
    links: BTreeMap<LinkKey, Vec<u8>>,
    /// Directory mtimes, applied after all entries.
    dir_times: Vec<(Arc<Dentry>, u32)>,
    stats: UnpackStats,
}

/// The archive path relative to the root: leading `/` and `./` removed; empty means the
/// root itself.
fn relative(mut name: &[u8]) -> &[u8] {
    loop {
        if let Some(rest) = name.strip_prefix(b"/") {
            name = rest;
        } else if let Some(rest) = name.strip_prefix(b"./") {
            name = rest;
        } else if name == b"." {
            return b"";
        } else {
            return name;
        }
    }
}

impl<C: Dcache> Unpacker<'_, C> {
    fn apply(&mut self, e: &CpioEntry<'_>, kind: FileType) -> KResult<()> {
        let path = relative(e.name);
        let time = Some(Timespec::new(i64::from(e.mtime), 0));
        if path.is_empty() {
            // The root itself: only its attributes can change.
            if kind != FileType::Directory {
                return Err(Errno::EEXIST);
            }
            self.set_attrs(self.root, e, kind)?;
            self.dir_times.push((self.root.clone(), e.mtime));
            return Ok(());
        }
        self.make_parents(path)?;
        let existing = match self.vfs.resolve(self.root, self.root, path, false) {
            Ok(d) => Some(d),
            Err(Errno::ENOENT) => None,
            Err(err) => return Err(err),
        };
        let link_to = if kind == FileType::Directory {
            None
        } else {
            self.hard_link_source(path, e)
        };
        // Like Linux's clean_path: a name of another type goes, and so does any old name that
        // is not a directory or regular file (re-created with the new attributes) or that a
        // hard link replaces.
        let keep = existing.as_ref().is_some_and(|d| {
            d.file_type() == kind
                && matches!(kind, FileType::Directory | FileType::Regular)
                && link_to.is_none()
        });
        if let (Some(old), false) = (&existing, keep) {
            if old.is_dir() {
                self.vfs.rmdir(self.root, self.root, path)?;
            } else {
                self.vfs.unlink(self.root, self.root, path)?;
            }
        }
        if kind == FileType::Directory {
            let dir = match existing.filter(|_| keep) {
                Some(d) => d,
                None => self.vfs.mkdir(self.root, self.root, path, e.mode)?,
            };
            self.set_attrs(&dir, e, kind)?;
            self.dir_times.push((dir, e.mtime));
            return Ok(());
        }
        let dentry = match (link_to, kind) {
            // The data of a hard-link group comes with its last member: written below into
            // the shared inode, not truncating what earlier members brought.
            (Some(first), _) => self
                .vfs
                .link(self.root, &first, self.root, path, self.root, false)?,
            (None, FileType::Symlink) => self.vfs.symlink(e.data, self.root, self.root, path)?,
            (None, FileType::Regular) => {
                let how = OpenHow {
                    create: true,
                    follow: false,
                    mode: e.mode & 0o7777,
                    ..OpenHow::default()
                };
                let d = self.vfs.open(self.root, self.root, path, &how)?.dentry;
                d.inode().truncate(0)?;
                d
            }
            (None, _) => {
                let rdev = makedev(e.rdev_major, e.rdev_minor);
                self.vfs.mknod(
                    self.root,
                    self.root,
                    path,
                    (e.mode & !S_IFMT) | kind.mode_bits(),
                    rdev,
                )?
            }
        };
        if kind == FileType::Regular && !e.data.is_empty() {
            write_all(&dentry, e.data)?;
            self.stats.file_bytes += e.data.len() as u64;
        }
        self.set_attrs(&dentry, e, kind)?;
        dentry.inode().set_times(time, time)
    }

    /// Owner and permissions (symlinks have no permissions of their own).
    fn set_attrs(&self, d: &Dentry, e: &CpioEntry<'_>, kind: FileType) -> KResult<()> {
        d.inode().set_owner(Some(e.uid), Some(e.gid))?;
        if kind != FileType::Symlink {
            d.inode().set_mode(e.mode & 0o7777)?;
        }
        Ok(())
    }

    /// For a member of a hard-link group seen before, the path of the group's first member
    /// (to link to); otherwise remember `path` as the first member.
    fn hard_link_source(&mut self, path: &[u8], e: &CpioEntry<'_>) -> Option<Vec<u8>> {
        if e.nlink < 2 {
            return None;
        }
        let key = (e.ino, e.dev_major, e.dev_minor, e.mode & S_IFMT);
        match self.links.get(&key) {
            Some(first) => Some(first.clone()),
            None => {
                self.links.insert(key, path.to_vec());
                None
            }
        }
    }

    /// Create the missing directories leading to `path`.
    fn make_parents(&self, path: &[u8]) -> KResult<()> {
        match self.vfs.resolve_parent(self.root, self.root, path) {
            Err(Errno::ENOENT) => {}
            other => return other.map(|_| ()),
        }
        for (i, _) in path
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'/' && i > 0)
        {
            match self
                .vfs
                .mkdir(self.root, self.root, &path[..i], S_IFDIR | 0o755)
            {
                Ok(_) | Err(Errno::EEXIST) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

/// Write all of `data` at offset 0 of a fresh regular file.
fn write_all(d: &Dentry, data: &[u8]) -> KResult<()> {
    let mut done = 0;
    while done < data.len() {
        match d.inode().write_at(done as u64, &data[done..])? {
            0 => return Err(Errno::EIO),
            n => done += n,
        }
    }
    Ok(())
}
