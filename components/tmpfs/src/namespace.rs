//! Directory operations of tmpfs inodes: adding, linking, removing, moving and listing
//! names. Lock order: a directory before its child; `rename` takes one lock at a time.

use alloc::sync::Arc;

use tessera_abi::fs::NAME_MAX;
use tessera_abi::{Errno, KResult};
use tessera_vfs::{DirEntry, DirSink, FileType, Inode};

use crate::inode::{Init, TmpInode};
use crate::stat::StatVariant;

/// Entries copied out of a directory per lock hold during readdir.
const READDIR_BATCH: usize = 32;

impl<S: StatVariant> TmpInode<S> {
    /// Create a new inode of `kind` as `name` (`Inode::create`, `mkdir`, `symlink`);
    /// EEXIST if taken, ENOENT in a removed directory.
    pub(crate) fn add(
        &self,
        name: &[u8],
        kind: FileType,
        perm: u32,
        rdev: u64,
        init: Init<S>,
    ) -> KResult<Arc<dyn Inode>> {
        self.require_dir()?;
        check_new_name(name)?;
        let now = self.fs.now();
        let mut st = self.state.lock();
        let dir = st.dir_mut();
        if dir.dead {
            return Err(Errno::ENOENT);
        }
        if dir.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let child = TmpInode::new(&self.fs, kind, perm, rdev, init)?;
        dir.insert(name, child.clone());
        self.content_changed(&st);
        self.update(&mut st, |a| {
            if kind.is_dir() {
                a.nlink += 1;
            }
            a.modified(now);
        });
        Ok(child)
    }

    /// Whether `self` is `d` or one of its ancestors (both directories).
    fn is_ancestor_or_self_of(&self, d: &TmpInode<S>) -> bool {
        let mut cur = d.arc();
        loop {
            if cur.ino == self.ino {
                return true;
            }
            let parent = cur.parent_dir();
            if Arc::ptr_eq(&parent, &cur) {
                return false;
            }
            cur = parent;
        }
    }

    /// `Inode::link`.
    pub(crate) fn link_inode(&self, name: &[u8], inode: &Arc<dyn Inode>) -> KResult<()> {
        self.require_dir()?;
        let target = self.same_fs(inode)?;
        if target.kind.is_dir() {
            return Err(Errno::EPERM);
        }
        check_new_name(name)?;
        if target.attrs(&target.state.lock()).nlink == 0 {
            // Linux refuses to give a name back to an unlinked file (no O_TMPFILE here).
            return Err(Errno::ENOENT);
        }
        let now = self.fs.now();
        {
            let mut st = self.state.lock();
            let dir = st.dir_mut();
            if dir.dead {
                return Err(Errno::ENOENT);
            }
            if dir.get(name).is_some() {
                return Err(Errno::EEXIST);
            }
            dir.insert(name, target.arc());
            self.content_changed(&st);
            self.update(&mut st, |a| a.modified(now));
        }
        let mut t = target.state.lock();
        target.update(&mut t, |a| {
            a.nlink += 1;
            a.ctime = now;
        });
        Ok(())
    }

    /// `Inode::unlink`.
    pub(crate) fn remove_file(&self, name: &[u8]) -> KResult<()> {
        self.require_dir()?;
        check_name(name)?;
        if is_dots(name) {
            return Err(Errno::EISDIR);
        }
        let now = self.fs.now();
        let child = {
            let mut st = self.state.lock();
            let dir = st.dir_mut();
            match dir.get(name) {
                None => return Err(Errno::ENOENT),
                Some(c) if c.kind.is_dir() => return Err(Errno::EISDIR),
                Some(_) => {}
            }
            let child = dir.remove(name);
            self.content_changed(&st);
            self.update(&mut st, |a| a.modified(now));
            child
        };
        if let Some(child) = child {
            let mut c = child.state.lock();
            child.update(&mut c, |a| {
                a.nlink = a.nlink.saturating_sub(1);
                a.ctime = now;
            });
        }
        Ok(())
    }

    /// `Inode::rmdir`.
    pub(crate) fn remove_dir(&self, name: &[u8]) -> KResult<()> {
        self.require_dir()?;
        check_name(name)?;
        match name {
            b"." => return Err(Errno::EINVAL),
            b".." => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        let now = self.fs.now();
        let mut st = self.state.lock();
        let child = st.dir().get(name).cloned().ok_or(Errno::ENOENT)?;
        if !child.kind.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        {
            // Parent before child: the lock order of this file system.
            let mut c = child.state.lock();
            let cdir = c.dir_mut();
            if !cdir.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            cdir.dead = true;
            child.update(&mut c, |a| {
                a.nlink = 0;
                a.ctime = now;
            });
        }
        st.dir_mut().remove(name);
        self.content_changed(&st);
        self.update(&mut st, |a| {
            a.nlink -= 1;
            a.modified(now);
        });
        Ok(())
    }

    /// `Inode::rename`: checks first, then changes one inode at a time.
    pub(crate) fn move_entry(
        &self,
        old_name: &[u8],
        new_dir: &Arc<dyn Inode>,
        new_name: &[u8],
    ) -> KResult<()> {
        self.require_dir()?;
        let new_dir = self.same_fs(new_dir)?;
        new_dir.require_dir()?;
        for name in [old_name, new_name] {
            check_name(name)?;
            if is_dots(name) {
                return Err(Errno::EBUSY);
            }
        }
        let src = self.child(old_name)?;
        let dst = new_dir.child(new_name).ok();
        if dst.as_ref().is_some_and(|d| Arc::ptr_eq(d, &src)) {
            return Ok(());
        }
        if src.kind.is_dir() && src.is_ancestor_or_self_of(new_dir) {
            return Err(Errno::EINVAL);
        }
        if let Some(dst) = &dst {
            match (src.kind.is_dir(), dst.kind.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !dst.state.lock().dir().is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        if new_dir.state.lock().dir().dead {
            return Err(Errno::ENOENT);
        }
        // All checks passed: change one inode at a time.
        let now = self.fs.now();
        let moves_dir = src.kind.is_dir() && self.ino != new_dir.ino;
        {
            let mut st = self.state.lock();
            st.dir_mut().remove(old_name);
            self.content_changed(&st);
            self.update(&mut st, |a| {
                if moves_dir {
                    a.nlink -= 1;
                }
                a.modified(now);
            });
        }
        {
            let mut st = new_dir.state.lock();
            let replaced = st.dir_mut().remove(new_name);
            st.dir_mut().insert(new_name, src.clone());
            new_dir.content_changed(&st);
            let replaced_dir = replaced.is_some_and(|r| r.kind.is_dir());
            new_dir.update(&mut st, |a| {
                if moves_dir {
                    a.nlink += 1;
                }
                if replaced_dir {
                    a.nlink -= 1;
                }
                a.modified(now);
            });
        }
        if let Some(dst) = dst {
            let mut d = dst.state.lock();
            let is_dir = dst.kind.is_dir();
            if is_dir {
                d.dir_mut().dead = true;
            }
            dst.update(&mut d, |a| {
                a.nlink = if is_dir { 0 } else { a.nlink.saturating_sub(1) };
                a.ctime = now;
            });
        }
        let mut s = src.state.lock();
        src.update(&mut s, |a| a.ctime = now);
        if src.kind.is_dir() {
            s.dir_mut().parent = new_dir.this.clone();
        }
        Ok(())
    }

    /// `Inode::readdir`: `.` and `..`, then entries copied out in batches.
    pub(crate) fn list(&self, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        self.require_dir()?;
        let now = self.fs.now();
        {
            let mut st = self.state.lock();
            if st.dir().dead {
                return Err(Errno::ENOENT);
            }
            self.update(&mut st, |a| a.accessed(now));
        }
        let parent_ino = self.parent_dir().ino;
        for (c, name, ino) in [(0u64, &b"."[..], self.ino), (1, &b".."[..], parent_ino)] {
            let entry = DirEntry {
                ino,
                kind: FileType::Directory,
                name,
                next: c + 1,
            };
            if c >= cookie && !sink(&entry) {
                return Ok(());
            }
        }
        let mut from = cookie;
        loop {
            let batch = self.state.lock().dir().batch(from, READDIR_BATCH);
            if batch.is_empty() {
                return Ok(());
            }
            for (c, name, inode) in batch {
                let entry = DirEntry {
                    ino: inode.ino,
                    kind: inode.kind,
                    name: &name,
                    next: c + 1,
                };
                if !sink(&entry) {
                    return Ok(());
                }
                from = c + 1;
            }
        }
    }
}

/// Validate a name to create: ENAMETOOLONG, EEXIST for `.`/`..`, EINVAL for an empty name
/// or one with `/` or NUL (the VFS never passes those).
pub(crate) fn check_new_name(name: &[u8]) -> KResult<()> {
    check_name(name)?;
    if is_dots(name) {
        Err(Errno::EEXIST)
    } else {
        Ok(())
    }
}

/// Validate any name: ENAMETOOLONG, EINVAL for an empty name or one with `/` or NUL.
pub(crate) fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > NAME_MAX {
        Err(Errno::ENAMETOOLONG)
    } else if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
        Err(Errno::EINVAL)
    } else {
        Ok(())
    }
}

/// Whether `name` is `.` or `..`.
pub(crate) fn is_dots(name: &[u8]) -> bool {
    name == b"." || name == b".."
}
