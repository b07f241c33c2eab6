//! tmpfs: the in-memory file system the kernel uses as its root (and for `/tmp`, `/dev`).
//!
//! Implements every [`Inode`] operation of `tessera-vfs` for:
//!
//! | File type | Contents | Notes |
//! |---|---|---|
//! | directory | entries in insertion order | readdir cookies stable across concurrent unlinks and creations; `.` and `..` listed first |
//! | regular file | sparse 4 KiB pages | holes read as zeros and use no memory; writes past the end extend; truncate both ways |
//! | symlink | its target | `readlink` |
//! | char/block device, fifo, socket | nothing but `rdev` | the kernel recognises them by type and does their I/O |
//!
//! Hard links count in `nlink` (directories: 2 + subdirectories); an unlinked file stays
//! readable and writable by whoever holds its inode. `stat` reports what Linux's tmpfs
//! does: `blocks` in 512-byte units of pages really allocated, `blksize` 4096, directory size
//! 40 + 20 per entry, the `dev` given at creation, inode numbers unique per file system (the
//! root is 1). Timestamps come from the clock given at creation, following Linux's rules
//! (creation and removal touch the directory's mtime/ctime, writes the file's, attribute
//! changes the ctime, reads the atime with `relatime`).
//!
//! Errors are Linux's: EEXIST, ENOENT, ENOTEMPTY, EISDIR, ENOTDIR, EINVAL (a directory
//! renamed into its own subtree), EXDEV (links and renames to another file system), EPERM
//! (hard link to a directory), EFBIG (past `i64::MAX`), ENOSPC (page limit or memory
//! exhausted: allocation is fallible), ENAMETOOLONG.
//!
//! # How the kernel uses it
//! `KernelTmpfs::new(dev, clock)` (or [`Tmpfs::with_page_limit`]) and hand [`Tmpfs::root`]
//! to `Vfs::new` or `Vfs::mount`. Everything else goes through the `Inode` trait. For
//! `statfs`, downcast an inode to `KernelTmpInode` and ask [`TmpInode::fs_stats`].
//!
//! # The stat variants
//! [`Tmpfs`] and [`TmpInode`] are generic over a [`StatVariant`], which says where an inode
//! keeps the `stat` fields that change and whether `metadata()` takes the inode's lock:
//!
//! | Feature | Type | `metadata()` |
//! |---|---|---|
//! | `stat-locked` | [`LockedStat`] | takes the inode's lock and copies the fields out (the "before") |
//! | `stat-lockfree` | [`LockfreeStat`] | relaxed atomic loads, no lock; writers update the atomics under the lock (the "after") |
//!
//! In both, the inode number, type, `rdev`, `dev` and `blksize` never change and live outside
//! the lock. A lock-free `stat` concurrent with a writer may see a mix of old and new fields
//! (each one a value some writer stored; time stamps are never torn): see [`StatVariant`].
//! Both variants are always compiled, and the tests run the same suite against each (a
//! generic test per behaviour, instantiated for both). The kernel enables exactly one feature
//! (both is a compile error), which defines the aliases `KernelStat`, `KernelTmpfs` and
//! `KernelTmpInode`; with neither those aliases do not exist.
//!
//! # Locks
//! Each inode has one [`SubsystemLock`](tessera_sync::SubsystemLock): tmpfs never runs in
//! interrupt context, so the kernel config's `lock` variant (irq-save or no-irq) applies. An
//! operation holds at most a directory's lock and one child's (parent first), never while
//! calling out (readdir copies entries out in small batches).
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

mod dir;
mod file;
mod inode;
mod namespace;
mod stat;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::fs::Timespec;
use tessera_abi::{Errno, KResult};
use tessera_vfs::Inode;

pub use file::{MAX_FILE_SIZE, PAGE_SIZE};
pub use inode::TmpInode;
pub use stat::{LockedStat, LockfreeStat, StatVariant};

/// The stat variant the kernel's config picked (feature `stat-locked`).
#[cfg(all(feature = "stat-locked", not(feature = "stat-lockfree")))]
pub type KernelStat = LockedStat;

/// The stat variant the kernel's config picked (feature `stat-lockfree`).
#[cfg(all(feature = "stat-lockfree", not(feature = "stat-locked")))]
pub type KernelStat = LockfreeStat;

/// The kernel's tmpfs, with the stat variant its config picked.
#[cfg(any(feature = "stat-locked", feature = "stat-lockfree"))]
pub type KernelTmpfs = Tmpfs<KernelStat>;

/// The kernel's tmpfs inode (to downcast to, e.g. for `statfs`).
#[cfg(any(feature = "stat-locked", feature = "stat-lockfree"))]
pub type KernelTmpInode = TmpInode<KernelStat>;

/// State shared by all inodes of one tmpfs instance.
pub(crate) struct Shared {
    pub(crate) dev: u64,
    pub(crate) clock: fn() -> Timespec,
    next_ino: AtomicU64,
    used_pages: AtomicU64,
    page_limit: Option<u64>,
    live_inodes: AtomicU64,
    inode_limit: Option<u64>,
    room: Option<fn(u64) -> bool>,
}

impl Shared {
    /// The current time.
    pub(crate) fn now(&self) -> Timespec {
        (self.clock)()
    }

    /// A fresh inode number (counted as live until [`Shared::inode_gone`]); ENOSPC when the
    /// instance has its inode limit's worth alive (Linux's `shmem_reserve_inode`).
    pub(crate) fn new_ino(&self) -> KResult<u64> {
        if !self.has_room(1) {
            return Err(Errno::ENOSPC);
        }
        let limit = self.inode_limit.unwrap_or(u64::MAX);
        self.live_inodes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
                (live < limit).then_some(live + 1)
            })
            .map_err(|_| Errno::ENOSPC)?;
        Ok(self.next_ino.fetch_add(1, Ordering::Relaxed))
    }

    /// An inode was freed.
    pub(crate) fn inode_gone(&self) {
        self.live_inodes.fetch_sub(1, Ordering::Relaxed);
    }

    /// Whether memory has room for `pages` more (see [`Limits::room`]).
    fn has_room(&self, pages: u64) -> bool {
        self.room.is_none_or(|room| room(pages))
    }

    /// A zeroed page, within the page limit and without panicking when memory runs out.
    pub(crate) fn alloc_page(&self) -> KResult<Box<[u8]>> {
        if !self.has_room(1) {
            return Err(Errno::ENOSPC);
        }
        let used = self.used_pages.fetch_add(1, Ordering::Relaxed);
        if self.page_limit.is_some_and(|limit| used >= limit) {
            self.used_pages.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        let mut page = Vec::new();
        if page.try_reserve_exact(PAGE_SIZE).is_err() {
            self.used_pages.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        page.resize(PAGE_SIZE, 0u8);
        Ok(page.into_boxed_slice())
    }

    /// `n` pages were freed.
    pub(crate) fn free_pages(&self, n: u64) {
        self.used_pages.fetch_sub(n, Ordering::Relaxed);
    }
}

/// The size limits of a tmpfs instance (`None`: none).
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// Most pages of file data.
    pub pages: Option<u64>,
    /// Most inodes alive, the root included.
    pub inodes: Option<u64>,
    /// Whether memory has room for `n` more pages (the kernel's headroom check): asked
    /// before each page of file data and each new inode, ENOSPC when it says no, so that a
    /// file system without a size limit (the root file system, as Linux's rootfs) fills up
    /// instead of exhausting the kernel's memory. `None`: always room (host tests).
    pub room: Option<fn(u64) -> bool>,
}

/// Usage figures of a tmpfs instance, for `statfs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TmpfsStats {
    /// Data pages in use.
    pub used_pages: u64,
    /// Most data pages allowed (`None`: as much as memory allows).
    pub page_limit: Option<u64>,
    /// Inodes alive (linked, or unlinked but still held), the root included.
    pub inodes: u64,
    /// Most inodes allowed (`None`: no limit).
    pub inode_limit: Option<u64>,
    /// The device number given at creation.
    pub dev: u64,
}

/// One tmpfs instance, whose inodes answer `stat` as the variant `S` says.
pub struct Tmpfs<S: StatVariant> {
    shared: Arc<Shared>,
    root: Arc<TmpInode<S>>,
}

impl<S: StatVariant> Tmpfs<S> {
    /// An empty tmpfs with device number `dev`, reading the time from `clock`. Its root
    /// directory is owned by root with mode 01777, Linux's tmpfs default; for the root file
    /// system the kernel sets 0755 with `set_mode` (or lets the initramfs entry `.` do it).
    pub fn new(dev: u64, clock: fn() -> Timespec) -> Tmpfs<S> {
        Self::build(dev, clock, Limits::default())
    }

    /// Like [`Tmpfs::new`], with at most `max_pages` pages of file data (ENOSPC beyond).
    pub fn with_page_limit(dev: u64, clock: fn() -> Timespec, max_pages: u64) -> Tmpfs<S> {
        Self::with_limits(
            dev,
            clock,
            Limits {
                pages: Some(max_pages),
                ..Limits::default()
            },
        )
    }

    /// Like [`Tmpfs::new`], with `limits` (Linux's `size=` and `nr_inodes=`): a write
    /// past the page limit, or a new inode past the inode limit (the root counts), is
    /// ENOSPC. An inode limit of 0 is taken as 1: the root exists.
    pub fn with_limits(dev: u64, clock: fn() -> Timespec, limits: Limits) -> Tmpfs<S> {
        Self::build(dev, clock, limits)
    }

    fn build(dev: u64, clock: fn() -> Timespec, limits: Limits) -> Tmpfs<S> {
        let shared = Arc::new(Shared {
            dev,
            clock,
            next_ino: AtomicU64::new(1),
            used_pages: AtomicU64::new(0),
            page_limit: limits.pages,
            live_inodes: AtomicU64::new(0),
            inode_limit: limits.inodes.map(|n| n.max(1)),
            room: limits.room,
        });
        let root = TmpInode::new_root(&shared);
        Tmpfs { shared, root }
    }

    /// The root directory, to mount.
    pub fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }

    /// Usage figures.
    pub fn stats(&self) -> TmpfsStats {
        stats_of(&self.shared)
    }
}

/// Usage figures of the instance `shared` describes.
pub(crate) fn stats_of(shared: &Shared) -> TmpfsStats {
    TmpfsStats {
        used_pages: shared.used_pages.load(Ordering::Relaxed),
        page_limit: shared.page_limit,
        inodes: shared.live_inodes.load(Ordering::Relaxed),
        inode_limit: shared.inode_limit,
        dev: shared.dev,
    }
}
