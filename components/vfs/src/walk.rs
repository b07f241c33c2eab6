//! Path resolution: `resolve` (the whole path) and `resolve_parent` (all but the last
//! component), with Linux's rules for `.`, `..`, mounts, symlinks and slashes.
//!
//! The walk is iterative: a symlink met on the way pushes its target on a small stack of
//! pending paths, so nesting costs heap, not kernel stack. A path frame whose rest is only
//! slashes is dropped before a link is followed, so "is this the last component" is simply
//! "one frame left and nothing but slashes after".

use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::fs::{MAXSYMLINKS, NAME_MAX, PATH_MAX};
use tessera_abi::{Errno, KResult};

use crate::dcache::Dcache;
use crate::dentry::Dentry;
use crate::inode::FileType;
use crate::vfs::Vfs;

/// The last component of a path as [`Vfs::resolve_parent`] sees it. The namespace operations
/// map the special ones to Linux's errors (e.g. `mkdir("x/.")` is EEXIST, `rmdir("x/..")`
/// ENOTEMPTY, `unlink("/")` EISDIR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Last<'p> {
    /// An ordinary name (at most `NAME_MAX` bytes).
    Normal(&'p [u8]),
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// The path has no components: it is only slashes (`/`).
    Root,
}

/// Result of [`Vfs::resolve_parent`]: the directory the last component is in, and that
/// component.
#[derive(Clone, Debug)]
pub struct ParentPath<'p> {
    /// The directory (mounts on it followed).
    pub dir: Arc<Dentry>,
    /// The last component.
    pub last: Last<'p>,
    /// Whether slashes follow the last component (`mkdir("a/")` is fine, `unlink("f/")` is
    /// ENOTDIR).
    pub trailing_slash: bool,
}

/// What a walk is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    /// The dentry the whole path names.
    Full { follow_last: bool },
    /// The parent directory and the last component.
    Parent,
}

enum Outcome<'p> {
    Found(Arc<Dentry>),
    Parent(ParentPath<'p>),
}

/// A symlink target being walked, and how far.
struct LinkFrame {
    path: Vec<u8>,
    pos: usize,
}

/// The next component of `bytes` from `*pos`: (start, end, slashes follow, only slashes
/// follow). Advances `*pos` past the component; `None` if only slashes remain.
pub(crate) fn next_component(bytes: &[u8], pos: &mut usize) -> Option<(usize, usize, bool, bool)> {
    let mut start = *pos;
    while start < bytes.len() && bytes[start] == b'/' {
        start += 1;
    }
    if start == bytes.len() {
        *pos = start;
        return None;
    }
    let end = bytes[start..]
        .iter()
        .position(|&b| b == b'/')
        .map_or(bytes.len(), |i| start + i);
    *pos = end;
    let only_slashes = bytes[end..].iter().all(|&b| b == b'/');
    Some((start, end, end < bytes.len(), only_slashes))
}

/// The checks every path gets before the walk: ENOENT if empty, ENAMETOOLONG if `PATH_MAX`
/// bytes or longer (its NUL would not fit).
pub(crate) fn check_path(path: &[u8]) -> KResult<()> {
    if path.is_empty() {
        Err(Errno::ENOENT)
    } else if path.len() >= PATH_MAX {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

impl<C: Dcache> Vfs<C> {
    /// The dentry `path` names. Relative paths start at `start` (working directory or
    /// dirfd), absolute ones at `root` (the process root: `..` never goes above it). Mounts
    /// are followed, symlinks too (at most 40: ELOOP), the last one only if `follow_last` or
    /// the path ends in a slash. Errors: ENOENT (empty path, missing component, empty symlink
    /// target), ENOTDIR (a non-directory used as a directory, including a trailing slash
    /// after one), ENAMETOOLONG (a component over 255 bytes or a path of 4096 or more), ELOOP.
    pub fn resolve(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        follow_last: bool,
    ) -> KResult<Arc<Dentry>> {
        self.resolve_counting(start, root, path, follow_last, &mut 0)
    }

    /// The directory holding the last component of `path`, and that component, for the
    /// operations that create, remove or rename names. Symlinks before the last component
    /// are followed; the last is never looked up. Errors as [`Vfs::resolve`]; ENOTDIR if the
    /// directory is not one; ENAMETOOLONG if the last name is over 255 bytes.
    pub fn resolve_parent<'p>(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &'p [u8],
    ) -> KResult<ParentPath<'p>> {
        self.resolve_parent_counting(start, root, path, &mut 0)
    }

    /// [`Vfs::resolve`] adding the symlinks it follows to `links` (shared with the caller's
    /// own following, e.g. `open(O_CREAT)` through a dangling link).
    pub(crate) fn resolve_counting(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &[u8],
        follow_last: bool,
        links: &mut u32,
    ) -> KResult<Arc<Dentry>> {
        match self.walk(start, root, path, Goal::Full { follow_last }, links)? {
            Outcome::Found(d) => Ok(d),
            Outcome::Parent(_) => unreachable!("a full walk returns the dentry"),
        }
    }

    /// [`Vfs::resolve_parent`] adding the symlinks it follows to `links`.
    pub(crate) fn resolve_parent_counting<'p>(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &'p [u8],
        links: &mut u32,
    ) -> KResult<ParentPath<'p>> {
        match self.walk(start, root, path, Goal::Parent, links)? {
            Outcome::Parent(p) => Ok(p),
            Outcome::Found(_) => unreachable!("a parent walk returns the parent"),
        }
    }

    fn walk<'p>(
        &self,
        start: &Arc<Dentry>,
        root: &Arc<Dentry>,
        path: &'p [u8],
        goal: Goal,
        links: &mut u32,
    ) -> KResult<Outcome<'p>> {
        check_path(path)?;
        let mut cur = if path[0] == b'/' {
            root.clone()
        } else {
            start.clone()
        };
        // Frame 0 is `path` itself (at `pos`, while `path_live`); symlink targets stack above.
        let mut pos = 0;
        let mut path_live = true;
        let mut frames: Vec<LinkFrame> = Vec::new();
        // A trailing slash of a frame dropped to follow its last component as a link.
        let mut inherited_slash = false;
        loop {
            let step = match frames.last_mut() {
                Some(f) => next_component(&f.path, &mut f.pos),
                None => next_component(path, &mut pos),
            };
            let nframes = frames.len() + usize::from(path_live);
            let Some((s, e, slash_after, only_slashes_after)) = step else {
                if nframes > 1 {
                    // A symlink target is done; the frame below continues.
                    frames.pop();
                    continue;
                }
                // No component left at all: the path was only slashes, or ended in a link
                // to one.
                return Ok(match goal {
                    Goal::Parent => Outcome::Parent(ParentPath {
                        dir: cur,
                        last: Last::Root,
                        trailing_slash: false,
                    }),
                    Goal::Full { .. } => Outcome::Found(cur),
                });
            };
            let is_last = nframes == 1 && only_slashes_after;
            let must_be_dir = is_last && (slash_after || inherited_slash);
            // Every component, `.` and `..` included, is looked up in a directory.
            if !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            let name: &[u8] = match frames.last() {
                Some(f) => &f.path[s..e],
                None => &path[s..e],
            };
            if goal == Goal::Parent && is_last {
                // Only frame 0 can hold the last component of a parent walk: a frame is
                // dropped only to follow its last component, which a parent walk never does.
                debug_assert!(frames.is_empty() && path_live);
                let last = match &path[s..e] {
                    b"." => Last::Dot,
                    b".." => Last::DotDot,
                    n if n.len() > NAME_MAX => return Err(Errno::ENAMETOOLONG),
                    n => Last::Normal(n),
                };
                return Ok(Outcome::Parent(ParentPath {
                    dir: cur,
                    last,
                    trailing_slash: must_be_dir,
                }));
            }
            let next = match name {
                b"." => cur.clone(),
                b".." => self.dotdot(cur.clone(), root),
                _ => self.lookup_child(&cur, name)?,
            };
            let follow =
                !is_last || must_be_dir || matches!(goal, Goal::Full { follow_last: true });
            if next.file_type() == FileType::Symlink && follow {
                *links += 1;
                if *links > MAXSYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = next.inode().readlink()?;
                if target.is_empty() {
                    return Err(Errno::ENOENT);
                }
                if only_slashes_after {
                    // This frame is used up: drop it (remembering a trailing slash) so that
                    // "last component" stays "one frame left".
                    inherited_slash |= slash_after;
                    if frames.pop().is_none() {
                        path_live = false;
                    }
                }
                if target[0] == b'/' {
                    cur = root.clone();
                }
                frames.push(LinkFrame {
                    path: target,
                    pos: 0,
                });
                continue;
            }
            if is_last {
                if must_be_dir && !next.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
                return Ok(Outcome::Found(next));
            }
            cur = next;
        }
    }

    /// `..` of `cur`: itself at the process root; at the root of a mount, `..` of the
    /// directory it is mounted on. Mounts on the result are followed, as Linux does (so
    /// `/..` enters a file system mounted over the process root, while `/` does not).
    fn dotdot(&self, mut cur: Arc<Dentry>, root: &Arc<Dentry>) -> Arc<Dentry> {
        loop {
            if cur.same_location(root) {
                return self.cross_mounts(cur);
            }
            if let Some(parent) = cur.parent() {
                return self.cross_mounts(parent);
            }
            match &cur.mount().mountpoint {
                Some(mountpoint) => cur = mountpoint.clone(),
                // The top of the tree (or of a detached mount): `..` stays.
                None => return cur,
            }
        }
    }
}
