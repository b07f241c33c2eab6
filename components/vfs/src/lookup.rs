//! Inode lookup: the inode a path names, for the syscalls that need no dentry (`stat`,
//! `access`, `readlink`, `execve`, ...). Two variants, the pair `lookup-full` / `lookup-fast`:
//!
//! | Variant | Method | Per component |
//! |---|---|---|
//! | `full` | [`Vfs::lookup_inode_full`] | the dentry walk of [`Vfs::resolve`]: on a cache miss a new `Arc<Dentry>` holding a copy of the name, chained to its parent |
//! | `fast` | [`Vfs::lookup_inode_fast`] | with a dentry cache, the full walk's cached step (a dentry only on a miss, kept in the cache); without one, no dentry and no allocation: `Inode::lookup` on the bare inode |
//!
//! The fast walk handles the common case: components that are names or `.`, through
//! directories and mount points, ending anywhere but on a symlink it must follow. On `..`, on
//! a symlink to follow (anywhere, the last component included), and on any error, it starts
//! over with the full walk, so results, errors and their order are exactly those of
//! `resolve(..).inode()`.
//!
//! With a dentry cache (`dcache = "hashbrown"`), a step from a dentry whose directory caches
//! its children is the full walk's own step (`Vfs::lookup_raw`): the cache first, and on a
//! miss a new dentry that goes into the cache, so a cached name (even one left stale by a
//! change made behind the VFS's back) gives the same inode both ways and the next walk hits.
//! What the fast walk saves there is the full walk's bookkeeping (symlink frames, the parent
//! goal, a dentry reference per step kept by the caller). Sharing the step also keeps one
//! probe of the cache in the kernel: with a probe of its own, LLVM stopped inlining the hash
//! lookup into the full walk that `open` uses, and `open` paid for the fast variant.
//!
//! Without a cache, the fast walk never builds a dentry: it asks the file system on the bare
//! inodes (the full walk would build a dentry per component and drop it). Mounts are found by
//! (mount id, covered inode), which the fast walk knows without dentries.
//!
//! Costs: without a cache the fast walk allocates nothing, provided the file system's
//! `lookup` does not (tmpfs's does not: a map probe and an `Arc` clone); with one it allocates
//! only on a cache miss, as the full walk does. A path that fails, or needs `..` or a
//! symlink, pays for the fast attempt and then the full walk: `stat` of a missing file costs
//! both.

use alloc::sync::Arc;

use tessera_abi::KResult;
use tessera_abi::fs::NAME_MAX;

use crate::dcache::Dcache;
use crate::dentry::Dentry;
use crate::inode::{FileType, Inode};
use crate::vfs::Vfs;
use crate::walk::{check_path, next_component};

/// Where the fast walk stands.
enum At {
    /// On a dentry (the start, a cached child, the root of a mount): the cache applies.
    Dentry(Arc<Dentry>),
    /// On an inode with no dentry, in the mount with this id.
    Inode(Arc<dyn Inode>, u64),
}

impl At {
    fn file_type(&self) -> FileType {
        match self {
            At::Dentry(d) => d.file_type(),
            At::Inode(inode, _) => inode.file_type(),
        }
    }

    fn into_inode(self) -> Arc<dyn Inode> {
        match self {
            At::Dentry(d) => d.inode().clone(),
            At::Inode(inode, _) => inode,
        }
    }
}

impl<C: Dcache> Vfs<C> {
    /// The inode `path` names: what [`Vfs::resolve`]`(start, root, path, follow_last)` gives
    /// the inode of, with the same errors, by the variant the kernel's config picked (here
    /// `full`, feature `lookup-full`).
    #[cfg(all(feature = "lookup-full", not(feature = "lookup-fast")))]
    #[inline]
    pub fn lookup_inode(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        follow_last: bool,
    ) -> KResult<Arc<dyn Inode>> {
        self.lookup_inode_full(start, root, path, follow_last)
    }

    /// The inode `path` names: what [`Vfs::resolve`]`(start, root, path, follow_last)` gives
    /// the inode of, with the same errors, by the variant the kernel's config picked (here
    /// `fast`, feature `lookup-fast`).
    #[cfg(all(feature = "lookup-fast", not(feature = "lookup-full")))]
    #[inline]
    pub fn lookup_inode(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        follow_last: bool,
    ) -> KResult<Arc<dyn Inode>> {
        self.lookup_inode_fast(start, root, path, follow_last)
    }

    /// Variant `full`: the inode of [`Vfs::resolve`]`(start, root, path, follow_last)`.
    pub fn lookup_inode_full(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        follow_last: bool,
    ) -> KResult<Arc<dyn Inode>> {
        self.resolve(start, root, path, follow_last)
            .map(|d| d.inode().clone())
    }

    /// Variant `fast`: the same inode (or error) as [`Vfs::lookup_inode_full`], walking
    /// without dentries or allocation when the path allows (see the [module](self) docs).
    pub fn lookup_inode_fast(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        follow_last: bool,
    ) -> KResult<Arc<dyn Inode>> {
        match self.walk_fast(start, root, path, follow_last) {
            Some(inode) => Ok(inode),
            None => self.lookup_inode_full(start, root, path, follow_last),
        }
    }

    /// The inode `path` names, or `None` where the full walk must decide (`..`, a symlink to
    /// follow, any error). Each step checks what `walk` and `lookup_raw` check, in their order.
    fn walk_fast(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        follow_last: bool,
    ) -> Option<Arc<dyn Inode>> {
        check_path(path).ok()?;
        // Like `walk`: the start is not crossed into mounts on it, only what is looked up.
        let mut at = At::Dentry(if path[0] == b'/' {
            root.clone()
        } else {
            start.clone()
        });
        let mut pos = 0;
        loop {
            let Some((s, e, slash_after, last)) = next_component(path, &mut pos) else {
                // Only slashes: the start itself.
                return Some(at.into_inode());
            };
            if !at.file_type().is_dir() {
                return None;
            }
            let next = match &path[s..e] {
                b"." => at,
                b".." => return None,
                name => self.fast_child(&at, name)?,
            };
            let kind = next.file_type();
            if kind == FileType::Symlink && (!last || slash_after || follow_last) {
                return None;
            }
            if last {
                if slash_after && !kind.is_dir() {
                    return None;
                }
                return Some(next.into_inode());
            }
            at = next;
        }
    }

    /// The child `name` of the directory `at`, mounts on it followed; `None` on any error.
    fn fast_child(&self, at: &At, name: &[u8]) -> Option<At> {
        if name.len() > NAME_MAX {
            return None;
        }
        let (inode, mount_id) = match at {
            // With a cache, a step from a dentry is the full walk's own step (a miss fills
            // the cache, so the next walk hits): one probe of the cache in the kernel, whose
            // code both walks share.
            At::Dentry(dir) if C::CACHES && dir.caches_children() => {
                let child = self.lookup_raw(dir, name).ok()?;
                return Some(At::Dentry(self.cross_mounts(child)));
            }
            At::Dentry(dir) => (dir.inode().lookup(name).ok()?, dir.mount_id()),
            At::Inode(dir, mount_id) => (dir.lookup(name).ok()?, *mount_id),
        };
        if inode.file_type().is_dir()
            && self.has_mounts()
            && let Some(mounted) = self.mounted_on(mount_id, &inode)
        {
            return Some(At::Dentry(self.cross_mounts(mounted)));
        }
        Some(At::Inode(inode, mount_id))
    }
}
