//! The tmpfs inode and its [`Inode`] implementation.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use spin::Mutex;
use tessera_abi::fs::{PATH_MAX, S_IFMT, S_ISGID, S_ISUID, S_IXGRP, Timespec};
use tessera_abi::{Errno, KResult};
use tessera_vfs::{DirSink, FileType, Inode, Metadata};

use crate::dir::DirData;
use crate::file::{FileData, PAGE_SIZE};
use crate::namespace::check_name;
use crate::{Shared, TmpfsStats, stats_of};

/// Linux's tmpfs counts 20 bytes of directory size per entry (`BOGO_DIRENT_SIZE`), and two
/// for `.` and `..`.
const BOGO_DIRENT_SIZE: u64 = 20;
/// Symlink targets longer than this take a page (`SHORT_SYMLINK_LEN`), shorter ones none.
const SHORT_SYMLINK_LEN: usize = 128;

pub(crate) enum Content {
    Dir(DirData),
    File(FileData),
    Symlink(Vec<u8>),
    /// Device node, fifo or socket: no data here.
    Special,
}

/// The mutable part of an inode.
pub(crate) struct State {
    /// `S_IALLUGO` bits.
    pub(crate) perm: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) nlink: u32,
    pub(crate) atime: Timespec,
    pub(crate) mtime: Timespec,
    pub(crate) ctime: Timespec,
    pub(crate) content: Content,
}

impl State {
    pub(crate) fn dir(&self) -> &DirData {
        match &self.content {
            Content::Dir(d) => d,
            _ => unreachable!("only directories reach directory code (checked by type)"),
        }
    }

    pub(crate) fn dir_mut(&mut self) -> &mut DirData {
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
    pub(crate) fn modified(&mut self, now: Timespec) {
        self.mtime = now;
        self.ctime = now;
    }

    /// Access with `relatime`: only if the atime is not newer than mtime/ctime or a day old.
    pub(crate) fn accessed(&mut self, now: Timespec) {
        if self.atime <= self.mtime
            || self.atime <= self.ctime
            || now.sec - self.atime.sec >= 86_400
        {
            self.atime = now;
        }
    }
}

/// An inode of a tmpfs. The inode number, type and `rdev` are immutable and outside the lock.
pub struct TmpInode {
    pub(crate) ino: u64,
    pub(crate) kind: FileType,
    rdev: u64,
    pub(crate) fs: Arc<Shared>,
    /// This inode's own `Arc` (for handing out `Arc<dyn Inode>` and parent pointers).
    pub(crate) this: Weak<TmpInode>,
    pub(crate) state: Mutex<State>,
}

/// What a new inode starts with.
pub(crate) enum Init {
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

    pub(crate) fn new(
        fs: &Arc<Shared>,
        kind: FileType,
        perm: u32,
        rdev: u64,
        init: Init,
    ) -> Arc<TmpInode> {
        let now = fs.now();
        Arc::new_cyclic(|this| {
            let (content, nlink) = match init {
                Init::Dir(parent) => (
                    Content::Dir(DirData::new(parent.unwrap_or_else(|| this.clone()))),
                    2,
                ),
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
    pub(crate) fn arc(&self) -> Arc<TmpInode> {
        self.this
            .upgrade()
            .expect("a TmpInode is only reachable through its Arc")
    }

    /// Usage figures of the tmpfs this inode belongs to (for `statfs`).
    pub fn fs_stats(&self) -> TmpfsStats {
        stats_of(&self.fs)
    }

    /// The other inode as one of this tmpfs, or EXDEV.
    pub(crate) fn same_fs<'a>(&self, other: &'a Arc<dyn Inode>) -> KResult<&'a TmpInode> {
        match other.as_any().downcast_ref::<TmpInode>() {
            Some(t) if Arc::ptr_eq(&t.fs, &self.fs) => Ok(t),
            _ => Err(Errno::EXDEV),
        }
    }

    pub(crate) fn require_dir(&self) -> KResult<()> {
        if self.kind.is_dir() {
            Ok(())
        } else {
            Err(Errno::ENOTDIR)
        }
    }

    /// The entry `name` (not `.`/`..`): ENOENT if absent.
    pub(crate) fn child(&self, name: &[u8]) -> KResult<Arc<TmpInode>> {
        self.state
            .lock()
            .dir()
            .get(name)
            .cloned()
            .ok_or(Errno::ENOENT)
    }

    /// The directory holding this one (itself for the root).
    pub(crate) fn parent_dir(&self) -> Arc<TmpInode> {
        self.state
            .lock()
            .dir()
            .parent
            .upgrade()
            .unwrap_or_else(|| self.arc())
    }
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
            Content::Symlink(t) => (
                t.len() as u64,
                if t.len() > SHORT_SYMLINK_LEN { 8 } else { 0 },
            ),
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
        self.add(
            name,
            FileType::Symlink,
            0o777,
            0,
            Init::Symlink(target.to_vec()),
        )
    }

    fn link(&self, name: &[u8], inode: &Arc<dyn Inode>) -> KResult<()> {
        self.link_inode(name, inode)
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        self.remove_file(name)
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        self.remove_dir(name)
    }

    fn rename(&self, old_name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8]) -> KResult<()> {
        self.move_entry(old_name, new_dir, new_name)
    }

    fn readdir(&self, cookie: u64, sink: &mut DirSink<'_>) -> KResult<()> {
        self.list(cookie, sink)
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
