//! The tmpfs inode and its [`Inode`] implementation.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use spin::Mutex;
use tessera_abi::fs::{NAME_MAX, PATH_MAX, S_IFMT, S_ISGID, S_ISUID, S_IXGRP, Timespec};
use tessera_abi::{Errno, KResult};
use tessera_vfs::{DirEntry, DirSink, FileType, Inode, Metadata};

use crate::dir::DirData;
use crate::file::{FileData, PAGE_SIZE};
use crate::{Shared, TmpfsStats, stats_of};

/// Linux's tmpfs counts 20 bytes of directory size per entry (`BOGO_DIRENT_SIZE`), and two
/// for `.` and `..`.
const BOGO_DIRENT_SIZE: u64 = 20;
/// Symlink targets longer than this take a page (`SHORT_SYMLINK_LEN`), shorter ones none.
const SHORT_SYMLINK_LEN: usize = 128;
/// Entries copied out of a directory per lock hold during readdir.
const READDIR_BATCH: usize = 32;

enum Content {
    Dir(DirData),
    File(FileData),
    Symlink(Vec<u8>),
    /// Device node, fifo or socket: no data here.
    Special,
}

/// The mutable part of an inode.
struct State {
    /// `S_IALLUGO` bits.
    perm: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    content: Content,
}

impl State {
    fn dir(&self) -> &DirData {
        match &self.content {
            Content::Dir(d) => d,
            _ => unreachable!("only directories reach directory code (checked by type)"),
        }
    }

    fn dir_mut(&mut self) -> &mut DirData {
        match &mut self.content {
            Content::Dir(d) => d,
            _ => unreachable!("only directories reach directory code (checked by type)"),
        }
    }

    fn file_mut(&mut self) -> &mut FileData {
        match &mut self.content {
            Content::File(f) => f,
            _ => unreachable!("only regular files reach file code (checked by type)"),
        }
    }

    /// Content changed: mtime and ctime.
    fn modified(&mut self, now: Timespec) {
        self.mtime = now;
        self.ctime = now;
    }

    /// Access with `relatime`: only if the atime is not newer than mtime/ctime or a day old.
    fn accessed(&mut self, now: Timespec) {
        if self.atime <= self.mtime || self.atime <= self.ctime || now.sec - self.atime.sec >= 86_400 {
            self.atime = now;
        }
    }
}

/// An inode of a tmpfs. The inode number, type and `rdev` are immutable and outside the lock.
pub struct TmpInode {
    ino: u64,
    kind: FileType,
    rdev: u64,
    fs: Arc<Shared>,
    /// This inode's own `Arc` (for handing out `Arc<dyn Inode>` and parent pointers).
    this: Weak<TmpInode>,
    state: Mutex<State>,
}

/// What a new inode starts with.
enum Init {
    Dir(Option<Weak<TmpInode>>),
    File,
    Symlink(Vec<u8>),
    Special,
}

impl TmpInode {
    /// The root directory of a new instance (its `..` is itself).
    pub(crate) fn new_root(fs: &Arc<Shared>) -> Arc<TmpInode> {
        Self::new(fs, FileType::Directory, 0o1777, 0, Init::Dir(None))
    }

    fn new(fs: &Arc<Shared>, kind: FileType, perm: u32, rdev: u64, init: Init) -> Arc<TmpInode> {
        let now = fs.now();
        Arc::new_cyclic(|this| {
            let (content, nlink) = match init {
                Init::Dir(parent) => (Content::Dir(DirData::new(parent.unwrap_or_else(|| this.clone()))), 2),
                Init::File => (Content::File(FileData::default()), 1),
                Init::Symlink(target) => (Content::Symlink(target), 1),
                Init::Special => (Content::Special, 1),
            };
            TmpInode {
                ino: fs.new_ino(),
                kind,
                rdev,
                fs: fs.clone(),
                this: this.clone(),
                state: Mutex::new(State {
                    perm: perm & 0o7777,
                    uid: 0,
                    gid: 0,
                    nlink,
                    atime: now,
                    mtime: now,
                    ctime: now,
                    content,
                }),
            }
        })
    }

    /// This inode's `Arc`.
    fn arc(&self) -> Arc<TmpInode> {
        self.this.upgrade().expect("a TmpInode is only reachable through its Arc")
    }

    /// Usage figures of the tmpfs this inode belongs to (for `statfs`).
    pub fn fs_stats(&self) -> TmpfsStats {
        stats_of(&self.fs)
    }

    /// The other inode as one of this tmpfs, or EXDEV.
    fn same_fs<'a>(&self, other: &'a Arc<dyn Inode>) -> KResult<&'a TmpInode> {
        match other.as_any().downcast_ref::<TmpInode>() {
            Some(t) if Arc::ptr_eq(&t.fs, &self.fs) => Ok(t),
            _ => Err(Errno::EXDEV),
        }
    }

    fn require_dir(&self) -> KResult<()> {
        if self.kind.is_dir() { Ok(()) } else { Err(Errno::ENOTDIR) }
    }

    /// The entry `name` (not `.`/`..`): ENOENT if absent.
    fn child(&self, name: &[u8]) -> KResult<Arc<TmpInode>> {
        self.state.lock().dir().get(name).cloned().ok_or(Errno::ENOENT)
    }

    /// The directory holding this one (itself for the root).
    fn parent_dir(&self) -> Arc<TmpInode> {
        self.state.lock().dir().parent.upgrade().unwrap_or_else(|| self.arc())
    }

    /// Add a new inode built by `make` as `name`; EEXIST if taken, ENOENT in a removed
    /// directory.
    fn add(&self, name: &[u8], kind: FileType, perm: u32, rdev: u64, init: Init) -> KResult<Arc<dyn Inode>> {
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
        let child = TmpInode::new(&self.fs, kind, perm, rdev, init);
        dir.insert(name, child.clone());
        if kind.is_dir() {
            st.nlink += 1;
        }
        st.modified(now);
        Ok(child)
    }

    /// Whether `self` is `d` or one of its ancestors (both directories).
    fn is_ancestor_or_self_of(&self, d: &TmpInode) -> bool {
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
}

/// Validate a name to create: ENAMETOOLONG, EEXIST for `.`/`..`, EINVAL for an empty name
/// or one with `/` or NUL (the VFS never passes those).
fn check_new_name(name: &[u8]) -> KResult<()> {
    check_name(name)?;
    if is_dots(name) { Err(Errno::EEXIST) } else { Ok(()) }
}

fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > NAME_MAX {
        Err(Errno::ENAMETOOLONG)
    } else if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
        Err(Errno::EINVAL)
    } else {
        Ok(())
    }
}

fn is_dots(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

impl Drop for TmpInode {
    fn drop(&mut self) {
        if let Content::File(f) = &self.state.get_mut().content {
            self.fs.free_pages(f.pages());
        }
        self.fs.inode_gone();
    }
}

impl Inode for TmpInode {
    fn metadata(&self) -> KResult<Metadata> {
        let st = self.state.lock();
        let (size, blocks) = match &st.content {
            Content::Dir(d) => (BOGO_DIRENT_SIZE * (2 + d.len() as u64), 0),
            Content::File(f) => (f.size(), f.pages() * (PAGE_SIZE as u64 / 512)),
            Content::Symlink(t) => (t.len() as u64, if t.len() > SHORT_SYMLINK_LEN { 8 } else { 0 }),
            Content::Special => (0, 0),
        };
        Ok(Metadata {
            ino: self.ino,
            mode: self.kind.mode_bits() | st.perm,
            nlink: st.nlink,
            uid: st.uid,
            gid: st.gid,
            size,
            blocks,
            blksize: PAGE_SIZE as u32,
            atime: st.atime,
            mtime: st.mtime,
            ctime: st.ctime,
            rdev: self.rdev,
            dev: self.fs.dev,
        })
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        self.require_dir()?;
        check_name(name)?;
        Ok(match name {
            b"." => self.arc(),
            b".." => self.parent_dir(),
            _ => self.child(name)?,
        })
    }

    fn create(&self, name: &[u8], mode: u32, rdev: u64) -> KResult<Arc<dyn Inode>> {
        let kind = match mode & S_IFMT {
            0 => FileType::Regular,
            _ => FileType::from_mode(mode).ok_or(Errno::EINVAL)?,
        };
        let (init, rdev) = match kind {
            FileType::Regular => (Init::File, 0),
            FileType::CharDevice | FileType::BlockDevice => (Init::Special, rdev),
            FileType::Fifo | FileType::Socket => (Init::Special, 0),
            FileType::Directory | FileType::Symlink => return Err(Errno::EINVAL),
        };
        self.add(name, kind, mode, rdev, init)
    }

    fn mkdir(&self, name: &[u8], mode: u32) -> KResult<Arc<dyn Inode>> {
        let parent = self.this.clone();
        self.add(name, FileType::Directory, mode, 0, Init::Dir(Some(parent)))
    }

    fn symlink(&self, name: &[u8], target: &[u8]) -> KResult<Arc<dyn Inode>> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        self.add(name, FileType::Symlink, 0o777, 0, Init::Symlink(target.to_vec()))
    }

    fn link(&self, name: &[u8], inode: &Arc<dyn Inode>) -> KResult<()> {
        self.require_dir()?;
        let target = self.same_fs(inode)?;
        if target.kind.is_dir() {
            return Err(Errno::EPERM);
        }
        check_new_name(name)?;
        if target.state.lock().nlink == 0 {
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
            st.modified(now);
        }
        let mut t = target.state.lock();
        t.nlink += 1;
        t.ctime = now;
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
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
            st.modified(now);
            child
        };
        if let Some(child) = child {
            let mut c = child.state.lock();
            c.nlink = c.nlink.saturating_sub(1);
            c.ctime = now;
        }
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
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
            c.nlink = 0;
            c.ctime = now;
        }
        st.dir_mut().remove(name);
        st.nlink -= 1;
        st.modified(now);
        Ok(())
    }

    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8]) -> KResult<()> {
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
            if moves_dir {
                st.nlink -= 1;
            }
            st.modified(now);
        }
        {
            let mut st = new_dir.state.lock();
            let replaced = st.dir_mut().remove(new_name);
            st.dir_mut().insert(new_name, src.clone());
            if moves_dir {
                st.nlink += 1;
            }
            if replaced.is_some_and(|r| r.kind.is_dir()) {
                st.nlink -= 1;
            }
            st.modified(now);
        }
        if let Some(dst) = dst {
            let mut d = dst.state.lock();
            if dst.kind.is_dir() {
                d.dir_mut().dead = true;
                d.nlink = 0;
            } else {
                d.nlink = d.nlink.saturating_sub(1);
            }
            d.ctime = now;
        }
        let mut s = src.state.lock();
        s.ctime = now;
        if src.kind.is_dir() {
            s.dir_mut().parent = new_dir.this.clone();
        }
        Ok(())
    }

    fn readdir(&self, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        self.require_dir()?;
        let now = self.fs.now();
        {
            let mut st = self.state.lock();
            if st.dir().dead {
                return Err(Errno::ENOENT);
            }
            st.accessed(now);
        }
        let parent_ino = self.parent_dir().ino;
        for (c, name, ino) in [(0u64, &b"."[..], self.ino), (1, &b".."[..], parent_ino)] {
            let entry = DirEntry { ino, kind: FileType::Directory, name, next: c + 1 };
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
                let entry = DirEntry { ino: inode.ino, kind: inode.kind, name: &name, next: c + 1 };
                if !sink(&entry) {
                    return Ok(());
                }
                from = c + 1;
            }
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match self.kind {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        let now = self.fs.now();
        let mut st = self.state.lock();
        let n = st.file_mut().read(offset, buf);
        st.accessed(now);
        Ok(n)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        match self.kind {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let now = self.fs.now();
        let mut st = self.state.lock();
        let n = st.file_mut().write(offset, buf, &self.fs)?;
        st.modified(now);
        Ok(n)
    }

    fn truncate(&self, len: u64) -> KResult<()> {
        match self.kind {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        let now = self.fs.now();
        let mut st = self.state.lock();
        let file = st.file_mut();
        if file.size() != len {
            file.truncate(len, &self.fs)?;
            st.modified(now);
        }
        Ok(())
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        match &self.state.lock().content {
            Content::Symlink(target) => Ok(target.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        let now = self.fs.now();
        let mut st = self.state.lock();
        st.perm = mode & 0o7777;
        st.ctime = now;
        Ok(())
    }

    /// Like Linux, a chown of a non-directory clears setuid, and setgid if group-executable.
    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        let now = self.fs.now();
        let mut st = self.state.lock();
        if let Some(uid) = uid {
            st.uid = uid;
        }
        if let Some(gid) = gid {
            st.gid = gid;
        }
        if !self.kind.is_dir() && (uid.is_some() || gid.is_some()) {
            st.perm &= !S_ISUID;
            if st.perm & S_IXGRP != 0 {
                st.perm &= !S_ISGID;
            }
        }
        st.ctime = now;
        Ok(())
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
        let now = self.fs.now();
        let mut st = self.state.lock();
        if let Some(t) = atime {
            st.atime = t;
        }
        if let Some(t) = mtime {
            st.mtime = t;
        }
        st.ctime = now;
        Ok(())
    }
}
