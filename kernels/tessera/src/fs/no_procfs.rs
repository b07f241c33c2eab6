//! No `proc` file system in this kernel (`[subsystems] procfs = false`).

use alloc::sync::Arc;

use tessera_abi::{Errno, KResult};
use tessera_vfs::Inode;

/// `mount -t proc`: ENODEV, as Linux answers for a file system type it does not know.
pub fn mount() -> KResult<Arc<dyn Inode>> {
    Err(Errno::ENODEV)
}

/// No procfs files, so no procfs streams.
pub fn open_stream(_dentry: &super::DentryRef) -> Option<Arc<dyn super::file::FileOps>> {
    None
}

/// No `/proc/PID/fd/N` links.
pub fn fd_link_file(_inode: &dyn Inode) -> Option<Arc<super::OpenFile>> {
    None
}
