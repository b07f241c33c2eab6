//! Namespace operations with Linux's semantics and error order: `open` (with `O_CREAT`),
//! `mknod`, `mkdir`, `symlink`, `link`, `unlink`, `rmdir`, `rename`. Each resolves its
//! path(s), calls the file system, and keeps the dentry cache coherent. Permission checks are
//! not done: callers are privileged (root), as every process of the kernel is today.

use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::fs::{
    O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, PATH_MAX, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO,
    S_IFMT, S_IFREG, S_IFSOCK,
};
use tessera_abi::{Errno, KResult};

use crate::dcache::Dcache;
use crate::dentry::Dentry;
use crate::inode::{FileType, inode_key};
use crate::vfs::Vfs;
use crate::walk::Last;

/// What [`Vfs::open`] does with a path, from the `open` flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenHow {
    /// `O_CREAT`: create a regular file if the name does not exist.
    pub create: bool,
    /// `O_EXCL` (with `create`): EEXIST if the name exists, even as a symlink.
    pub exclusive: bool,
    /// Not `O_NOFOLLOW`: follow a symlink in the last component (with `O_NOFOLLOW`, a
    /// symlink there is ELOOP).
    pub follow: bool,
    /// `O_DIRECTORY`: ENOTDIR unless the result is a directory.
    pub directory: bool,
    /// `O_PATH`: a handle on the name, not its contents; with `O_NOFOLLOW` a symlink at
    /// the end is opened itself (glibc's `fchmodat(AT_SYMLINK_NOFOLLOW)`, which tar calls
    /// on every link it extracts, opens links so). `O_CREAT` and `O_EXCL` are ignored then.
    pub path_only: bool,
    /// Permissions of a created file, umask already applied.
    pub mode: u32,
}

impl OpenHow {
    /// From `open`'s `flags` and `mode` (the caller applies the umask to `mode` first).
    /// With `O_PATH`, only `O_DIRECTORY` and `O_NOFOLLOW` count (Linux's
    /// `build_open_flags`).
    pub fn from_flags(flags: u32, mode: u32) -> OpenHow {
        let path_only = flags & O_PATH != 0;
        OpenHow {
            create: flags & O_CREAT != 0 && !path_only,
            exclusive: flags & O_CREAT != 0 && flags & O_EXCL != 0 && !path_only,
            follow: flags & O_NOFOLLOW == 0,
            directory: flags & O_DIRECTORY != 0,
            path_only,
            mode,
        }
    }
}

/// Result of [`Vfs::open`].
#[derive(Clone, Debug)]
pub struct Opened {
    /// What was opened.
    pub dentry: Arc<Dentry>,
    /// Whether `open` created it (then it is an empty regular file: no `O_TRUNC` needed).
    pub created: bool,
}

impl<C: Dcache> Vfs<C> {
    /// The namespace half of `open`: find, or with `create` make, the file `path` names.
    /// Access modes, `O_TRUNC`, `O_APPEND` and device/fifo opening are the kernel's. A
    /// dangling symlink is followed to create its target, as Linux does. Errors beyond
    /// [`Vfs::resolve`]'s: EEXIST (`exclusive`), EISDIR (`create` on a directory, `.`, `..`
    /// or a name with a trailing slash), ELOOP (symlink and not `follow`, unless
    /// `path_only`), ENOTDIR
    /// (`directory` on a non-directory), EINVAL (`create` with `directory`).
    pub fn open(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        how: &OpenHow,
    ) -> KResult<Opened> {
        let mut links = 0;
        if !how.create {
            let dentry = self.resolve_counting(start, root, path, how.follow, &mut links)?;
            if dentry.file_type() == FileType::Symlink && !how.path_only {
                return Err(Errno::ELOOP);
            }
            if how.directory && !dentry.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(Opened {
                dentry,
                created: false,
            });
        }
        if how.directory {
            return Err(Errno::EINVAL);
        }
        let mut start = start.clone();
        // The path being created: `path`, then the targets of dangling symlinks met at its end.
        let mut link_target: Option<Vec<u8>> = None;
        loop {
            let p = link_target.as_deref().unwrap_or(path);
            let parent = self.resolve_parent_counting(&start, root, p, &mut links)?;
            let Last::Normal(name) = parent.last else {
                return Err(Errno::EISDIR);
            };
            if parent.trailing_slash {
                return Err(Errno::EISDIR);
            }
            let child = match self.lookup_child(&parent.dir, name) {
                Ok(child) => child,
                Err(Errno::ENOENT) => {
                    let inode =
                        parent
                            .dir
                            .inode()
                            .create(name, S_IFREG | (how.mode & 0o7777), 0)?;
                    let dentry = self.add_child(&parent.dir, name, inode);
                    return Ok(Opened {
                        dentry,
                        created: true,
                    });
                }
                Err(e) => return Err(e),
            };
            if how.exclusive {
                return Err(Errno::EEXIST);
            }
            match child.file_type() {
                FileType::Symlink if how.follow => {
                    links += 1;
                    if links > tessera_abi::fs::MAXSYMLINKS {
                        return Err(Errno::ELOOP);
                    }
                    let target = child.inode().readlink()?;
                    if target.is_empty() {
                        return Err(Errno::ENOENT);
                    }
                    start = parent.dir.clone();
                    link_target = Some(target);
                }
                FileType::Symlink => return Err(Errno::ELOOP),
                FileType::Directory => return Err(Errno::EISDIR),
                _ => {
                    return Ok(Opened {
                        dentry: child,
                        created: false,
                    });
                }
            }
        }
    }

    /// `mknod`: create a regular file (type 0 or `S_IFREG`), device node, fifo or socket
    /// with `mode` (umask applied) and device number `rdev`. EPERM for `S_IFDIR`, EINVAL for
    /// another type; EEXIST if the name exists (symlinks are not followed), ENOENT for a
    /// missing name with a trailing slash.
    pub fn mknod(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        mode: u32,
        rdev: u64,
    ) -> KResult<Arc<Dentry>> {
        let mode = match mode & S_IFMT {
            0 => mode | S_IFREG,
            S_IFREG | S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => mode,
            S_IFDIR => return Err(Errno::EPERM),
            _ => return Err(Errno::EINVAL),
        };
        let (dir, name) = self.prepare_create(start, root, path, false)?;
        let inode = dir.inode().create(name, mode & (S_IFMT | 0o7777), rdev)?;
        Ok(self.add_child(&dir, name, inode))
    }

    /// `mkdir` with permissions `mode` (umask applied; only `0o1777` is kept, as Linux).
    /// EEXIST if the name exists (also for `.`, `..`, `/`).
    pub fn mkdir(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        mode: u32,
    ) -> KResult<Arc<Dentry>> {
        let (dir, name) = self.prepare_create(start, root, path, true)?;
        let inode = dir.inode().mkdir(name, mode & 0o1777)?;
        Ok(self.add_child(&dir, name, inode))
    }

    /// `symlink`: create `path` as a symbolic link to `target` (stored as given, not
    /// resolved). ENOENT for an empty target, ENAMETOOLONG for one of `PATH_MAX` bytes or more.
    pub fn symlink(
        &self,
        target: &[u8],
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
    ) -> KResult<Arc<Dentry>> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let (dir, name) = self.prepare_create(start, root, path, false)?;
        let inode = dir.inode().symlink(name, target)?;
        Ok(self.add_child(&dir, name, inode))
    }

    /// `linkat`: a new name `new_path` for the file `old_path` names (its last symlink
    /// followed if `follow`). EPERM for a directory, EXDEV across mounts, EEXIST if the new
    /// name exists.
    #[allow(clippy::too_many_arguments)]
    pub fn link(
        &self,
        old_start: &Arc<Dentry>,
        old_path: &[u8],
        new_start: &Arc<Dentry>,
        new_path: &[u8],
        root: &Arc<Dentry>,
        follow: bool,
    ) -> KResult<Arc<Dentry>> {
        let old = self.resolve(old_start, root, old_path, follow)?;
        let (dir, name) = self.prepare_create(new_start, root, new_path, false)?;
        if old.mount_id() != dir.mount_id() {
            return Err(Errno::EXDEV);
        }
        if old.is_dir() {
            return Err(Errno::EPERM);
        }
        dir.inode().link(name, old.inode())?;
        Ok(self.add_child(&dir, name, old.inode().clone()))
    }

    /// `unlink`: remove a non-directory name. EISDIR for a directory (or `.`, `..`, `/`),
    /// ENOTDIR for a non-directory named with a trailing slash.
    pub fn unlink(&self, start: &Arc<Dentry>, root: &Arc<Dentry>, path: &[u8]) -> KResult<()> {
        let parent = self.resolve_parent(start, root, path)?;
        let Last::Normal(name) = parent.last else {
            return Err(Errno::EISDIR);
        };
        let child = self.lookup_raw(&parent.dir, name)?;
        if child.is_dir() {
            return Err(Errno::EISDIR);
        }
        if parent.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        parent.dir.inode().unlink(name)?;
        self.forget(&parent.dir, name, &child);
        Ok(())
    }

    /// `rmdir`: remove an empty directory. ENOTDIR for a non-directory, ENOTEMPTY for a
    /// non-empty one or `..`, EINVAL for `.`, EBUSY for a mount point or `/`.
    pub fn rmdir(&self, start: &Arc<Dentry>, root: &Arc<Dentry>, path: &[u8]) -> KResult<()> {
        let parent = self.resolve_parent(start, root, path)?;
        let name = match parent.last {
            Last::Normal(name) => name,
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Root => return Err(Errno::EBUSY),
        };
        let child = self.lookup_raw(&parent.dir, name)?;
        if !child.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if self.is_mountpoint(&child) {
            return Err(Errno::EBUSY);
        }
        parent.dir.inode().rmdir(name)?;
        self.forget(&parent.dir, name, &child);
        Ok(())
    }

    /// `renameat2` without `RENAME_EXCHANGE`: move `old_path` to `new_path`, replacing a
    /// compatible target unless `noreplace` (then EEXIST). EXDEV across mounts; EBUSY for
    /// `.`, `..`, `/` or a mount point; ENOENT if the source is missing; ENOTDIR (directory
    /// over non-directory, or a trailing slash on a non-directory source or target); EISDIR
    /// (non-directory over directory); EINVAL (a directory into its own subtree); ENOTEMPTY
    /// (over a non-empty directory, or over an ancestor of the source). Renaming a name onto
    /// another name of the same inode does nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn rename(
        &self,
        old_start: &Arc<Dentry>,
        old_path: &[u8],
        new_start: &Arc<Dentry>,
        new_path: &[u8],
        root: &Arc<Dentry>,
        noreplace: bool,
    ) -> KResult<()> {
        let old = self.resolve_parent(old_start, root, old_path)?;
        let new = self.resolve_parent(new_start, root, new_path)?;
        if old.dir.mount_id() != new.dir.mount_id() {
            return Err(Errno::EXDEV);
        }
        let Last::Normal(old_name) = old.last else {
            return Err(Errno::EBUSY);
        };
        let Last::Normal(new_name) = new.last else {
            return Err(if noreplace {
                Errno::EEXIST
            } else {
                Errno::EBUSY
            });
        };
        let source = self.lookup_raw(&old.dir, old_name)?;
        let target = match self.lookup_raw(&new.dir, new_name) {
            Ok(target) => Some(target),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(e),
        };
        if noreplace && target.is_some() {
            return Err(Errno::EEXIST);
        }
        if !source.is_dir() && (old.trailing_slash || new.trailing_slash) {
            return Err(Errno::ENOTDIR);
        }
        if is_ancestor_or_self(&source, &new.dir) {
            return Err(Errno::EINVAL);
        }
        if let Some(target) = &target {
            if is_ancestor_or_self(target, &old.dir) {
                return Err(Errno::ENOTEMPTY);
            }
            if inode_key(target.inode()) == inode_key(source.inode()) {
                return Ok(());
            }
            match (source.is_dir(), target.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                _ => {}
            }
            if self.is_mountpoint(target) {
                return Err(Errno::EBUSY);
            }
        }
        if self.is_mountpoint(&source) {
            return Err(Errno::EBUSY);
        }
        old.dir
            .inode()
            .rename(old_name, new.dir.inode(), new_name)?;
        if let Some(target) = &target {
            self.forget(&new.dir, new_name, target);
        }
        // Move the source's dentry (the cached one, if any, is `source` itself) so that its
        // subtree, held working directories and `..` follow the rename.
        drop(self.cache.remove(old.dir.id(), old_name));
        source.move_to(&new.dir, new_name);
        if new.dir.caches_children() {
            self.cache.insert(new.dir.id(), new_name, source);
        }
        Ok(())
    }

    /// The directory and name `path` would create, with Linux's `filename_create` errors:
    /// EEXIST for `.`, `..`, `/` or an existing name; ENOENT for a missing name with a
    /// trailing slash unless creating a directory.
    fn prepare_create<'p>(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &'p [u8],
        want_dir: bool,
    ) -> KResult<(Arc<Dentry>, &'p [u8])> {
        let parent = self.resolve_parent(start, root, path)?;
        let Last::Normal(name) = parent.last else {
            return Err(Errno::EEXIST);
        };
        if parent.trailing_slash && !want_dir {
            return match self.lookup_raw(&parent.dir, name) {
                Ok(_) => Err(Errno::EEXIST),
                Err(Errno::ENOENT) => Err(Errno::ENOENT),
                Err(e) => Err(e),
            };
        }
        Ok((parent.dir, name))
    }

    /// A name was removed from `dir`: drop it from the cache and mark its dentry deleted.
    fn forget(&self, dir: &Dentry, name: &[u8], child: &Dentry) {
        drop(self.cache.remove(dir.id(), name));
        child.mark_deleted();
    }
}

/// Whether `ancestor` is `d` or one of its ancestors within `d`'s mount (renames never
/// cross mounts, so nothing above the mount root matters).
fn is_ancestor_or_self(ancestor: &Dentry, d: &Arc<Dentry>) -> bool {
    let mut cur = d.clone();
    loop {
        if cur.same_location(ancestor) {
            return true;
        }
        match cur.parent() {
            Some(parent) => cur = parent,
            None => return false,
        }
    }
}
