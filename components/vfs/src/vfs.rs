//! The [`Vfs`] object: the root dentry, the mount table and the dentry cache; one-step
//! lookups that keep the cache coherent and cross mounts.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use hashbrown::HashMap;
use tessera_abi::{Errno, KResult};
use tessera_sync::SubsystemLock;

use crate::dcache::Dcache;
use crate::dentry::{Dentry, Mount, MountInfo};
use crate::inode::{Inode, inode_key};

/// Source of mount ids (the root mount of every `Vfs` included).
static NEXT_MOUNT_ID: AtomicU64 = AtomicU64::new(1);

/// Key of the mount table: the mount holding the covered directory and the covered inode.
/// Keying by inode (not dentry) lets a walk recognise a mount point even when the dentry
/// cache is off and every walk builds a new dentry for it.
type MountKey = (u64, usize);

/// The file system tree: a root file system, the file systems mounted on it, and the dentry
/// cache variant `C`. One per kernel.
pub struct Vfs<C: Dcache> {
    root: Arc<Dentry>,
    pub(crate) cache: C,
    /// Covered directory -> root dentry of the file system mounted on it.
    mounts: SubsystemLock<HashMap<MountKey, Arc<Dentry>>>,
    /// Number of entries in `mounts`: walks skip the table while nothing is mounted.
    mount_count: AtomicUsize,
}

impl<C: Dcache + Default> Vfs<C> {
    /// A tree whose root is the directory `root_fs` (the root of the root file system).
    pub fn new(root_fs: Arc<dyn Inode>) -> Vfs<C> {
        Vfs::with_cache(root_fs, C::default())
    }

    /// Like [`Vfs::new`], the root file system described by `info`.
    pub fn new_with_info(root_fs: Arc<dyn Inode>, info: MountInfo) -> Vfs<C> {
        Vfs::build(root_fs, C::default(), info)
    }
}

impl<C: Dcache> Vfs<C> {
    /// Like [`Vfs::new`] with a given cache (e.g. a [`HashDcache`](crate::HashDcache) with a
    /// small limit).
    pub fn with_cache(root_fs: Arc<dyn Inode>, cache: C) -> Vfs<C> {
        Vfs::build(root_fs, cache, MountInfo::default())
    }

    fn build(root_fs: Arc<dyn Inode>, cache: C, info: MountInfo) -> Vfs<C> {
        let mount = Arc::new(Mount {
            id: NEXT_MOUNT_ID.fetch_add(1, Ordering::Relaxed),
            mountpoint: None,
            info,
        });
        Vfs {
            root: Dentry::new_root(root_fs, mount),
            cache,
            mounts: SubsystemLock::new(HashMap::new()),
            mount_count: AtomicUsize::new(0),
        }
    }

    /// The root dentry: the initial root and working directory of the first process.
    pub fn root(&self) -> &Arc<Dentry> {
        &self.root
    }

    /// The dentry cache (for its [`stats`](Dcache::stats)).
    pub fn dcache(&self) -> &C {
        &self.cache
    }

    /// Mount the file system whose root directory is `fs_root` on the directory `at`,
    /// hiding what `at` contains; returns the root dentry of the new mount. Mounting on a
    /// mount point stacks on top of what is mounted there. ENOTDIR unless both are
    /// directories, ENOENT if `at` was removed.
    pub fn mount(&self, at: &Arc<Dentry>, fs_root: Arc<dyn Inode>) -> KResult<Arc<Dentry>> {
        self.mount_with(at, fs_root, MountInfo::default())
    }

    /// [`Vfs::mount`], recording `info` with the mount ([`Dentry::mount_info`],
    /// [`Vfs::mount_roots`]).
    pub fn mount_with(
        &self,
        at: &Arc<Dentry>,
        fs_root: Arc<dyn Inode>,
        info: MountInfo,
    ) -> KResult<Arc<Dentry>> {
        if !at.is_dir() || !fs_root.file_type().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if at.is_deleted() {
            return Err(Errno::ENOENT);
        }
        let at = self.cross_mounts(at.clone());
        let key = (at.mount_id(), inode_key(at.inode()));
        let mount = Arc::new(Mount {
            id: NEXT_MOUNT_ID.fetch_add(1, Ordering::Relaxed),
            mountpoint: Some(at),
            info,
        });
        let root = Dentry::new_root(fs_root, mount);
        self.mounts.lock().insert(key, root.clone());
        self.mount_count.fetch_add(1, Ordering::Relaxed);
        Ok(root)
    }

    /// Unmount the file system whose root dentry is `at` (what resolving the mount point's
    /// path returns). EINVAL if `at` is not the root of a mount (or is the root of the whole
    /// tree), EBUSY if another file system is mounted inside it. Dentries of the unmounted
    /// file system that processes still hold keep working, detached from the tree.
    pub fn umount(&self, at: &Arc<Dentry>) -> KResult<()> {
        let Some(mountpoint) = at.mount().mountpoint.clone() else {
            return Err(Errno::EINVAL);
        };
        if !at.is_mount_root() {
            return Err(Errno::EINVAL);
        }
        let key = (mountpoint.mount_id(), inode_key(mountpoint.inode()));
        let removed = {
            let mut mounts = self.mounts.lock();
            match mounts.get(&key) {
                Some(r) if Arc::ptr_eq(r, at) => {}
                _ => return Err(Errno::EINVAL),
            }
            if mounts
                .keys()
                .any(|&(parent_mount, _)| parent_mount == at.mount_id())
            {
                return Err(Errno::EBUSY);
            }
            mounts.remove(&key)
        };
        self.mount_count.fetch_sub(1, Ordering::Relaxed);
        self.cache.remove_mount(at.mount_id());
        drop(removed);
        Ok(())
    }

    /// The root dentry of every mounted file system, in the order they were mounted (the
    /// root file system first): what `/proc/mounts` lists. A mount's place in the tree is its
    /// root's [`Dentry::path`].
    pub fn mount_roots(&self) -> alloc::vec::Vec<Arc<Dentry>> {
        let mut roots: alloc::vec::Vec<Arc<Dentry>> =
            self.mounts.lock().values().cloned().collect();
        roots.sort_by_key(|root| root.mount_id());
        roots.insert(0, self.root.clone());
        roots
    }

    /// Whether a file system is mounted on the directory `d`.
    pub fn is_mountpoint(&self, d: &Dentry) -> bool {
        d.is_dir() && self.has_mounts() && self.mounted_on(d.mount_id(), d.inode()).is_some()
    }

    /// Follow mounts down from `d`: the root of the topmost file system mounted on it, or
    /// `d` itself.
    pub(crate) fn cross_mounts(&self, mut d: Arc<Dentry>) -> Arc<Dentry> {
        if !self.has_mounts() {
            return d;
        }
        while d.is_dir() {
            match self.mounted_on(d.mount_id(), d.inode()) {
                Some(root) => d = root,
                None => break,
            }
        }
        d
    }

    /// Whether anything is mounted (walks skip the mount table otherwise).
    pub(crate) fn has_mounts(&self) -> bool {
        self.mount_count.load(Ordering::Relaxed) != 0
    }

    /// The root dentry of the file system mounted on the directory `inode` of the mount
    /// `mount_id`, if any (the top of a stack of mounts is found by asking again).
    pub(crate) fn mounted_on(&self, mount_id: u64, inode: &Arc<dyn Inode>) -> Option<Arc<Dentry>> {
        self.mounts
            .lock()
            .get(&(mount_id, inode_key(inode)))
            .cloned()
    }

    /// The child `name` of the directory `dir`, following mounts on it: what a path walk
    /// step gives. ENOTDIR if `dir` is not a directory, ENAMETOOLONG for a name longer than
    /// `NAME_MAX`; `name` must not be `.`, `..` or contain `/`.
    pub fn lookup_child(&self, dir: &Arc<Dentry>, name: &[u8]) -> KResult<Arc<Dentry>> {
        let child = self.lookup_raw(dir, name)?;
        Ok(self.cross_mounts(child))
    }

    /// The child `name` of `dir` without following mounts (the covered directory of a
    /// mount point), from the cache or the file system.
    pub(crate) fn lookup_raw(&self, dir: &Arc<Dentry>, name: &[u8]) -> KResult<Arc<Dentry>> {
        if !dir.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if name.len() > tessera_abi::fs::NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let cached = dir.caches_children();
        if cached && let Some(child) = self.cache.get(dir.id(), name) {
            return Ok(child);
        }
        let inode = dir.inode().lookup(name)?;
        let child = Dentry::new_child(dir, name, inode);
        if cached {
            self.cache.insert(dir.id(), name, child.clone());
        }
        Ok(child)
    }

    /// Record a child just created in `dir` (so later walks find this dentry).
    pub(crate) fn add_child(
        &self,
        dir: &Arc<Dentry>,
        name: &[u8],
        inode: Arc<dyn Inode>,
    ) -> Arc<Dentry> {
        let child = Dentry::new_child(dir, name, inode);
        if dir.caches_children() {
            self.cache.insert(dir.id(), name, child.clone());
        }
        child
    }

    /// Forget the cached child `name` of `dir`. Needed only after changing a directory by
    /// calling its inode directly instead of through the `Vfs`.
    pub fn invalidate_child(&self, dir: &Dentry, name: &[u8]) {
        drop(self.cache.remove(dir.id(), name));
    }
}
