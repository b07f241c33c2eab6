//! The file system types `mount` knows, and mounting them.

use tessera_abi::{Errno, KResult};

use super::{lookup, new_tmpfs, populate_devtmpfs, procfs, vfs};

/// Mounts a new file system of type `kind` (`tmpfs`, `devtmpfs`, `proc`, ...) on the
/// directory `target`: ENOTDIR, ENODEV for an unknown type.
pub fn mount(target: &[u8], kind: &[u8]) -> KResult<()> {
    let at_dentry = lookup(target, true)?;
    if !at_dentry.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let fs_root = match kind {
        b"tmpfs" | b"ramfs" => new_tmpfs(),
        b"devtmpfs" => {
            let root = new_tmpfs();
            populate_devtmpfs(&root)?;
            root
        }
        b"proc" => procfs::mount()?,
        b"sysfs" | b"devpts" => new_tmpfs(),
        _ => return Err(Errno::ENODEV),
    };
    vfs().mount(&at_dentry, fs_root).map(drop)
}

/// Unmounts the file system mounted on `target`.
pub fn umount(target: &[u8]) -> KResult<()> {
    let dentry = lookup(target, true)?;
    vfs().umount(&dentry)
}
