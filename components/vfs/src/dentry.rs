//! Dentries: the names the VFS has walked, linked to their parents, so that `..`, `getcwd`
//! and mount points work whatever the file system knows about its own tree.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use tessera_sync::SubsystemLock;

use crate::inode::{FileType, Inode, inode_key};

/// Source of dentry ids: unique for the whole kernel, never reused, so a dentry cache keyed by
/// parent id can never confuse a dead parent with a new one.
static NEXT_DENTRY_ID: AtomicU64 = AtomicU64::new(1);

/// One mounted file system instance: its id, where it is mounted and what it was mounted as.
pub(crate) struct Mount {
    /// Unique id (the root mount has one too), in mount order.
    pub(crate) id: u64,
    /// The covered dentry in the parent mount; `None` for the root mount.
    pub(crate) mountpoint: Option<Arc<Dentry>>,
    /// Source, type and flags, as the mounter gave them.
    pub(crate) info: MountInfo,
}

/// What a file system was mounted as: `mount(2)`'s source, type and flags. The VFS keeps it
/// with the mount and never interprets it; the kernel shows it (`/proc/mounts`) and answers
/// `statfs` from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountInfo {
    /// The source: a device path, or any name (`proc`, `tmpfs`, `none`...).
    pub source: Vec<u8>,
    /// The file system type (`tmpfs`, `proc`...).
    pub fs_type: Vec<u8>,
    /// Flags of the mount (Linux's `MS_*` values, as the kernel chose to record them).
    pub flags: u64,
}

/// The parts of a dentry that `rename` and `unlink` change.
struct Links {
    name: Vec<u8>,
    /// `None` for the root of a mount (its `..` is found through [`Mount::mountpoint`]).
    parent: Option<Arc<Dentry>>,
    /// Unlinked or removed through the VFS (`getcwd` then fails with ENOENT).
    deleted: bool,
}

/// A name of an inode in the tree the VFS has walked: the inode, its name, its parent
/// dentry and the mount it belongs to.
///
/// Processes hold dentries as their working and root directories, open files hold the dentry
/// they were opened by. With the hashbrown dentry cache a cached name has exactly one dentry,
/// which `rename` moves and `unlink` marks deleted. With the cache off every walk builds new
/// dentries, so a dentry held across a rename of itself or of an ancestor keeps the path it
/// was resolved by (its `..` and [`Dentry::path`] are those of that path).
pub struct Dentry {
    id: u64,
    inode: Arc<dyn Inode>,
    kind: FileType,
    /// Asked once of the inode (see [`Inode::cache_children`]), so walks need no extra call.
    cache_children: bool,
    mount: Arc<Mount>,
    links: SubsystemLock<Links>,
}

impl Dentry {
    /// The root dentry of `mount`.
    pub(crate) fn new_root(inode: Arc<dyn Inode>, mount: Arc<Mount>) -> Arc<Dentry> {
        Self::build(Vec::new(), inode, None, mount)
    }

    /// A child `name` of `parent`, in the parent's mount.
    pub(crate) fn new_child(
        parent: &Arc<Dentry>,
        name: &[u8],
        inode: Arc<dyn Inode>,
    ) -> Arc<Dentry> {
        Self::build(
            name.to_vec(),
            inode,
            Some(parent.clone()),
            parent.mount.clone(),
        )
    }

    fn build(
        name: Vec<u8>,
        inode: Arc<dyn Inode>,
        parent: Option<Arc<Dentry>>,
        mount: Arc<Mount>,
    ) -> Arc<Dentry> {
        Arc::new(Dentry {
            id: NEXT_DENTRY_ID.fetch_add(1, Ordering::Relaxed),
            kind: inode.file_type(),
            cache_children: inode.file_type().is_dir() && inode.cache_children(),
            inode,
            mount,
            links: SubsystemLock::new(Links {
                name,
                parent,
                deleted: false,
            }),
        })
    }

    /// Unique id of this dentry (never reused).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The inode this name refers to.
    pub fn inode(&self) -> &Arc<dyn Inode> {
        &self.inode
    }

    /// The inode's file type (cached: no call into the file system).
    pub fn file_type(&self) -> FileType {
        self.kind
    }

    /// Whether the inode is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind.is_dir()
    }

    /// The last component of the name (empty for the root of a mount).
    pub fn name(&self) -> Vec<u8> {
        self.links.lock().name.clone()
    }

    /// The parent dentry in the same mount; `None` for the root of a mount.
    pub fn parent(&self) -> Option<Arc<Dentry>> {
        self.links.lock().parent.clone()
    }

    /// Id of the mount this dentry belongs to.
    pub fn mount_id(&self) -> u64 {
        self.mount.id
    }

    /// Whether this is the root of a mount (of the whole tree, or of a mounted file system).
    pub fn is_mount_root(&self) -> bool {
        self.links.lock().parent.is_none()
    }

    /// Whether this name no longer leads to this inode: removed through the VFS (unlink,
    /// rmdir, replaced by rename), or, asking the file system, absent from its parent
    /// directory or naming another inode there. `getcwd` fails with ENOENT for a deleted
    /// working directory. Costs one `Inode::lookup`.
    pub fn is_deleted(&self) -> bool {
        let (name, parent) = {
            let links = self.links.lock();
            if links.deleted {
                return true;
            }
            match &links.parent {
                Some(parent) => (links.name.clone(), parent.clone()),
                None => return false,
            }
        };
        match parent.inode.lookup(&name) {
            Ok(found) => inode_key(&found) != inode_key(&self.inode),
            Err(_) => true,
        }
    }

    /// Whether both dentries name the same inode in the same mount (the same place in the
    /// tree, whether or not they are the same dentry object).
    pub fn same_location(&self, other: &Dentry) -> bool {
        self.mount.id == other.mount.id && inode_key(&self.inode) == inode_key(&other.inode)
    }

    /// The absolute path of this dentry from the top of the tree, crossing mounts upwards:
    /// `/` for the root.
    pub fn path(&self) -> Vec<u8> {
        self.path_until(None).0
    }

    /// The path of this dentry as seen by a process whose root directory is `root` (chroot):
    /// `None` if `root` is not an ancestor of this dentry (Linux's getcwd then says
    /// "(unreachable)").
    pub fn path_from(&self, root: &Dentry) -> Option<Vec<u8>> {
        let (path, reached) = self.path_until(Some(root));
        reached.then_some(path)
    }

    /// Walk up to `stop` (or the top), collecting names; returns the path and whether `stop`
    /// was reached.
    fn path_until(&self, stop: Option<&Dentry>) -> (Vec<u8>, bool) {
        let mut names: Vec<Vec<u8>> = Vec::new();
        let mut reached = false;
        let mut cur: Option<Arc<Dentry>> = None;
        loop {
            let d: &Dentry = cur.as_deref().unwrap_or(self);
            if stop.is_some_and(|s| d.same_location(s)) {
                reached = true;
                break;
            }
            let next = {
                let links = d.links.lock();
                match &links.parent {
                    Some(p) => {
                        names.push(links.name.clone());
                        Some(p.clone())
                    }
                    None => d.mount.mountpoint.clone(),
                }
            };
            match next {
                Some(n) => cur = Some(n),
                None => break,
            }
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        (path, reached || stop.is_none())
    }

    /// The mount this dentry belongs to.
    pub(crate) fn mount(&self) -> &Arc<Mount> {
        &self.mount
    }

    /// What the file system holding this dentry was mounted as.
    pub fn mount_info(&self) -> &MountInfo {
        &self.mount.info
    }

    /// The directory the file system holding this dentry is mounted on (in the file system
    /// below it); `None` in the root file system.
    pub fn mountpoint(&self) -> Option<Arc<Dentry>> {
        self.mount.mountpoint.clone()
    }

    /// Whether the VFS may cache this directory's children.
    pub(crate) fn caches_children(&self) -> bool {
        self.cache_children
    }

    /// `rename` moved this name to `name` in `parent`.
    pub(crate) fn move_to(&self, parent: &Arc<Dentry>, name: &[u8]) {
        let mut links = self.links.lock();
        links.parent = Some(parent.clone());
        links.name = name.to_vec();
    }

    /// The name was removed from its directory.
    pub(crate) fn mark_deleted(&self) {
        self.links.lock().deleted = true;
    }
}

impl Drop for Dentry {
    /// Drop the chain of parents iteratively: a deep directory tree would otherwise recurse
    /// once per level and could overflow a kernel stack.
    fn drop(&mut self) {
        let mut next = self.links.get_mut().parent.take();
        while let Some(parent) = next {
            next = match Arc::into_inner(parent) {
                Some(mut last_ref) => last_ref.links.get_mut().parent.take(),
                None => None,
            };
        }
    }
}

impl core::fmt::Debug for Dentry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dentry")
            .field("id", &self.id)
            .field(
                "path",
                &alloc::string::String::from_utf8_lossy(&self.path()),
            )
            .field("type", &self.kind)
            .field("mount", &self.mount.id)
            .finish()
    }
}
