//! The tmpfs inode and its [`Inode`] implementation.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;

use tessera_abi::fs::{PATH_MAX, S_IFMT, S_ISGID, S_ISUID, S_IXGRP, Timespec};
use tessera_abi::{Errno, KResult};
use tessera_sync::SubsystemLock;
use tessera_vfs::{DirSink, FileType, Inode, Metadata};

use crate::dir::DirData;
use crate::file::{FileData, PAGE_SIZE};
use crate::namespace::check_name;
use crate::stat::{Attrs, StatVariant, Usage};
use crate::{Shared, TmpfsStats, stats_of};

/// Linux's tmpfs counts 20 bytes of directory size per entry (`BOGO_DIRENT_SIZE`), and two
/// for `.` and `..`.
const BOGO_DIRENT_SIZE: u64 = 20;
/// Symlink targets longer than this take a page (`SHORT_SYMLINK_LEN`), shorter ones none.
const SHORT_SYMLINK_LEN: usize = 128;

pub(crate) enum Content<S: StatVariant> {
    Dir(DirData<S>),
    File(FileData),
    Symlink(Vec<u8>),
    /// Device node, fifo or socket: no data here.
    Special,
}

impl<S: StatVariant> Content<S> {
    /// `st_size` and `st_blocks` of these contents, as Linux's tmpfs reports them.
    pub(crate) fn usage(&self) -> Usage {
        let (size, blocks) = match self {
            Content::Dir(d) => (BOGO_DIRENT_SIZE * (2 + d.len() as u64), 0),
            Content::File(f) => (f.size(), f.pages() * (PAGE_SIZE as u64 / 512)),
            Content::Symlink(t) => (
                t.len() as u64,
                if t.len() > SHORT_SYMLINK_LEN { 8 } else { 0 },
            ),
            Content::Special => (0, 0),
        };
        Usage { size, blocks }
    }
}

/// The part of an inode behind its lock.
pub(crate) struct State<S: StatVariant> {
    /// The mutable `stat` fields, if the variant keeps them here (`stat-locked`).
    pub(crate) attrs: S::InLock,
    pub(crate) content: Content<S>,
}

impl<S: StatVariant> State<S> {
    pub(crate) fn dir(&self) -> &DirData<S> {
        match &self.content {
            Content::Dir(d) => d,
            _ => unreachable!("only directories reach directory code (checked by type)"),
        }
    }

    pub(crate) fn dir_mut(&mut self) -> &mut DirData<S> {
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
}

/// An inode of a tmpfs whose `stat` works as the variant `S` says. The inode number, type and
/// `rdev` are immutable and outside the lock; where the other `stat` fields live is `S`'s choice.
pub struct TmpInode<S: StatVariant> {
    pub(crate) ino: u64,
    pub(crate) kind: FileType,
    rdev: u64,
    /// When it was made (`stx_btime`), which never changes.
    created: Timespec,
    pub(crate) fs: Arc<Shared>,
    /// This inode's own `Arc` (for handing out `Arc<dyn Inode>` and parent pointers).
    pub(crate) this: Weak<TmpInode<S>>,
    /// The mutable `stat` fields, if the variant keeps them outside the lock (`stat-lockfree`).
    pub(crate) cells: S::Unlocked,
    pub(crate) state: SubsystemLock<State<S>>,
}

/// What a new inode starts with.
pub(crate) enum Init<S: StatVariant> {
    Dir(Option<Weak<TmpInode<S>>>),
    File,
    Symlink(Vec<u8>),
    Special,
}

impl<S: StatVariant> TmpInode<S> {
    /// The root directory of a new instance (its `..` is itself).
    pub(crate) fn new_root(fs: &Arc<Shared>) -> Arc<TmpInode<S>> {
        Self::new(fs, FileType::Directory, 0o1777, 0, Init::Dir(None))
            .expect("a new instance has room for its root")
    }

    /// A new inode; ENOSPC past the instance's inode limit.
    pub(crate) fn new(
        fs: &Arc<Shared>,
        kind: FileType,
        perm: u32,
        rdev: u64,
        init: Init<S>,
    ) -> KResult<Arc<TmpInode<S>>> {
        let now = fs.now();
        let ino = fs.new_ino()?;
        Ok(Arc::new_cyclic(|this| {
            let (content, nlink) = match init {
                Init::Dir(parent) => (
                    Content::Dir(DirData::new(parent.unwrap_or_else(|| this.clone()))),
                    2,
                ),
                Init::File => (Content::File(FileData::default()), 1),
                Init::Symlink(target) => (Content::Symlink(target), 1),
                Init::Special => (Content::Special, 1),
            };
            let attrs = Attrs {
                perm: perm & 0o7777,
                uid: 0,
                gid: 0,
                nlink,
                atime: now,
                mtime: now,
                ctime: now,
            };
            let (in_lock, cells) = S::new(attrs, content.usage());
            TmpInode {
                ino,
                kind,
                rdev,
                created: now,
                fs: fs.clone(),
                this: this.clone(),
                cells,
                state: SubsystemLock::new(State {
                    attrs: in_lock,
                    content,
                }),
            }
        }))
    }

    /// This inode's `Arc`.
    pub(crate) fn arc(&self) -> Arc<TmpInode<S>> {
        self.this
            .upgrade()
            .expect("a TmpInode is only reachable through its Arc")
    }

    /// Usage figures of the tmpfs this inode belongs to (for `statfs`).
    pub fn fs_stats(&self) -> TmpfsStats {
        stats_of(&self.fs)
    }

    /// The other inode as one of this tmpfs, or EXDEV.
    pub(crate) fn same_fs<'a>(&self, other: &'a Arc<dyn Inode>) -> KResult<&'a TmpInode<S>> {
        match other.as_any().downcast_ref::<TmpInode<S>>() {
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
    pub(crate) fn child(&self, name: &[u8]) -> KResult<Arc<TmpInode<S>>> {
        self.state
            .lock()
            .dir()
            .get(name)
            .cloned()
            .ok_or(Errno::ENOENT)
    }

    /// The directory holding this one (itself for the root).
    pub(crate) fn parent_dir(&self) -> Arc<TmpInode<S>> {
        self.state
            .lock()
            .dir()
            .parent
            .upgrade()
            .unwrap_or_else(|| self.arc())
    }

    /// This inode's mutable `stat` fields; `st` is its locked state.
    pub(crate) fn attrs(&self, st: &State<S>) -> Attrs {
        S::get(&st.attrs, &self.cells)
    }

    /// Change this inode's mutable `stat` fields; `st` is its locked state (so writers are
    /// serialised, whichever variant stores them).
    pub(crate) fn update(&self, st: &mut State<S>, change: impl FnOnce(&mut Attrs)) {
        let old = S::get(&st.attrs, &self.cells);
        let mut new = old;
        change(&mut new);
        S::set(&mut st.attrs, &self.cells, &old, &new);
    }

    /// The contents in `st` (this inode's locked state) changed size: record it for `stat`.
    pub(crate) fn content_changed(&self, st: &State<S>) {
        S::set_usage(&self.cells, st.content.usage());
    }
}

impl<S: StatVariant> Drop for TmpInode<S> {
    fn drop(&mut self) {
        if let Content::File(f) = &self.state.get_mut().content {
            self.fs.free_pages(f.pages());
        }
        self.fs.inode_gone();
    }
}

impl<S: StatVariant> Inode for TmpInode<S> {
    /// Locks the inode or not, as the variant `S` says (see [`StatVariant`]).
    fn metadata(&self) -> KResult<Metadata> {
        let (a, usage) = S::stat(self);
        Ok(Metadata {
            ino: self.ino,
            mode: self.kind.mode_bits() | a.perm,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            size: usage.size,
            blocks: usage.blocks,
            blksize: PAGE_SIZE as u32,
            atime: a.atime,
            mtime: a.mtime,
            ctime: a.ctime,
            rdev: self.rdev,
            dev: self.fs.dev,
        })
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn btime(&self) -> Option<Timespec> {
        Some(self.created)
    }

    /// Regular files (Linux's `shmem_mmap`); directories and the rest have no `mmap`.
    fn mappable(&self) -> bool {
        self.kind == FileType::Regular
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
        self.update(&mut st, |a| a.accessed(now));
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
        self.content_changed(&st);
        self.update(&mut st, |a| a.modified(now));
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
            self.content_changed(&st);
            self.update(&mut st, |a| a.modified(now));
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
        self.update(&mut st, |a| {
            a.perm = mode & 0o7777;
            a.ctime = now;
        });
        Ok(())
    }

    /// Like Linux, a chown of a non-directory clears setuid, and setgid if group-executable.
    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        let now = self.fs.now();
        let mut st = self.state.lock();
        let is_dir = self.kind.is_dir();
        self.update(&mut st, |a| {
            if let Some(uid) = uid {
                a.uid = uid;
            }
            if let Some(gid) = gid {
                a.gid = gid;
            }
            if !is_dir && (uid.is_some() || gid.is_some()) {
                a.perm &= !S_ISUID;
                if a.perm & S_IXGRP != 0 {
                    a.perm &= !S_ISGID;
                }
            }
            a.ctime = now;
        });
        Ok(())
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
        let now = self.fs.now();
        let mut st = self.state.lock();
        self.update(&mut st, |a| {
            if let Some(t) = atime {
                a.atime = t;
            }
            if let Some(t) = mtime {
                a.mtime = t;
            }
            a.ctime = now;
        });
        Ok(())
    }
}
