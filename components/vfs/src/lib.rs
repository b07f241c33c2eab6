//! The virtual file system: the [`Inode`] trait file systems implement, the [`Dentry`] tree
//! of walked names, the mount table, path resolution with Linux's rules, the namespace
//! operations (`open`/`mkdir`/`rename`/...), a switchable dentry cache, and the initramfs
//! (cpio newc) unpacker.
//!
//! | Operation | Function | Linux |
//! |---|---|---|
//! | walk a path | [`Vfs::resolve`] | `filename_lookup` (stat, chdir, execve, ...) |
//! | the inode a path names | `Vfs::lookup_inode` ([`Vfs::lookup_inode_full`] / [`Vfs::lookup_inode_fast`]) | `filename_lookup` + `d_inode` (stat, access, readlink, execve) |
//! | walk to the parent | [`Vfs::resolve_parent`] -> [`ParentPath`] | `filename_parentat` |
//! | one step | [`Vfs::lookup_child`] | `lookup_one` + `follow_mount` |
//! | open / create | [`Vfs::open`] with [`OpenHow`] | `do_filp_open` (namespace part) |
//! | create names | [`Vfs::mknod`], [`Vfs::mkdir`], [`Vfs::symlink`], [`Vfs::link`] | `do_mknodat`, ... |
//! | remove names | [`Vfs::unlink`], [`Vfs::rmdir`] | `do_unlinkat`, `do_rmdir` |
//! | move names | [`Vfs::rename`] | `do_renameat2` (no `RENAME_EXCHANGE`) |
//! | mounts | [`Vfs::mount`] / [`Vfs::mount_with`], [`Vfs::umount`], [`Vfs::is_mountpoint`] | `do_new_mount`, `umount` |
//! | the mount table | [`Vfs::mount_roots`], [`Dentry::mount_info`] ([`MountInfo`]) | `/proc/mounts`' walk of the namespace |
//! | getcwd | [`Dentry::path`], [`Dentry::path_from`], [`Dentry::is_deleted`] | `d_path` |
//! | file I/O, stat, chmod, readdir, ... | the [`Inode`] methods, on `dentry.inode()` | `file_operations` |
//! | initramfs | [`unpack_cpio_newc`], [`CpioReader`] | `init/initramfs.c` |
//!
//! # How the kernel uses it
//! At boot: `let vfs = Vfs::<C>::new(tmpfs_root)` (`C` the dentry cache its config picked),
//! then [`unpack_cpio_newc`]`(&vfs, vfs.root(), initrd)`, then [`Vfs::mount`] for `/dev`,
//! `/proc`, ... Each process holds
//! two `Arc<Dentry>`: its root (initially `vfs.root()`) and its working directory. A syscall
//! taking a path passes the working directory (or the dirfd's dentry) as `start` and the
//! process root as `root`, then calls the inode of the dentry it gets (`read_at`,
//! `metadata`, ...); a syscall that only needs the inode (`stat`, `access`, `readlink`,
//! `execve`) calls `Vfs::lookup_inode` instead, with the same arguments. Open files keep
//! their `Arc<Dentry>` (for `fchdir`, `/proc/self/fd`, and so that an unlinked file stays
//! readable). The kernel recognises its own inode types (console, pipes, device nodes by
//! `rdev`) with [`Inode::as_any`] or by file type.
//!
//! All namespace changes go through the `Vfs` so the dentry cache stays coherent; a file
//! system whose directories change by themselves opts out of caching with
//! [`Inode::cache_children`].
//!
//! # The dentry cache variants
//! [`Vfs`] is generic over a [`Dcache`]: [`NoDcache`] (variant `off`) or [`HashDcache`]
//! (variant `hashbrown`). Both are always compiled and the tests run against both; the
//! kernel names the one its config picks. See [`dcache`] for the trade-offs.
//!
//! # Path arguments
//! [`path_arg`] reads a system call's path argument from user memory in one of two ways
//! (config key `path-buf`): [`StackPath`] or [`HeapPath`].
//!
//! # The inode lookup variants
//! `Vfs::lookup_inode` is [`Vfs::lookup_inode_full`] (feature `lookup-full`: the dentry walk
//! of `resolve`, then its inode) or [`Vfs::lookup_inode_fast`] (feature `lookup-fast`: a
//! walk that builds no dentries and allocates nothing, falling back to the full walk on `..`,
//! symlinks to follow and errors, so that both give the same inode or error). Both methods
//! are always compiled and public, so the tests compare them (with each other and with
//! `resolve`) in one run; the feature only decides which one `lookup_inode` calls and what
//! `KERNEL_LOOKUP` says. The kernel enables exactly one; both is a compile error, and with
//! neither `lookup_inode` does not exist. See [`lookup`].
//!
//! # Locks
//! Every lock here (the hash cache's map, each dentry's links, the mount table) is a
//! [`SubsystemLock`](tessera_sync::SubsystemLock): the VFS never runs in interrupt context,
//! so the kernel config's `lock` variant (irq-save or no-irq) applies to it. None is held
//! while calling into a file system.
//!
//! # Limits
//! - No permission checks: every caller is treated as privileged (root), as every process
//!   of the kernel is today. `O_TMPFILE`, `RENAME_EXCHANGE`, bind mounts and mount
//!   propagation are not implemented.
//! - With the cache off, a dentry held across a rename of itself or of an ancestor (a
//!   working directory, a mount point) keeps the parents it was walked through: its inode
//!   and everything below it stay right, its [`Dentry::path`] and `..` are those of its old
//!   place. The hashbrown variant moves it, as Linux does.
//! - Changes made by calling a directory inode directly, not through the `Vfs`, leave stale
//!   cache entries unless followed by [`Vfs::invalidate_child`].
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod cpio;
pub mod dcache;
mod dentry;
mod initramfs;
mod inode;
pub mod lookup;
mod ops;
pub mod path_arg;
mod vfs;
mod walk;

pub use cpio::{CpioEntry, CpioError, CpioErrorKind, CpioReader};
pub use dcache::{Dcache, DcacheStats, HashDcache, NoDcache};
pub use dentry::{Dentry, MountInfo};
pub use initramfs::{UnpackError, UnpackStats, unpack_cpio_newc, unpack_cpio_newc_detailed};
pub use inode::{DirEntry, DirSink, FileType, Inode, Metadata, inode_key};
pub use ops::{OpenHow, Opened};
pub use path_arg::{HeapPath, PathArg, PathReader, StackPath};
pub use tessera_abi::fs::Timespec;
pub use vfs::Vfs;
pub use walk::{Last, ParentPath};

/// The inode lookup variant `Vfs::lookup_inode` uses, for the boot banner (feature
/// `lookup-full`).
#[cfg(all(feature = "lookup-full", not(feature = "lookup-fast")))]
pub const KERNEL_LOOKUP: &str = "full";

/// The inode lookup variant `Vfs::lookup_inode` uses, for the boot banner (feature
/// `lookup-fast`).
#[cfg(all(feature = "lookup-fast", not(feature = "lookup-full")))]
pub const KERNEL_LOOKUP: &str = "fast";
