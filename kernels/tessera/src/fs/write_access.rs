//! Who may write a file while it runs: Linux's `i_writecount`. A regular file open for
//! writing cannot be executed, and a file some process runs cannot be opened for writing or
//! truncated; both get ETXTBSY (fs/namei.c `do_open` and `get_write_access`, fs/exec.c
//! `deny_write_access`).
//!
//! Per inode one count: above zero, the number of open files that may write it; below
//! zero, the number of processes running it. The guards give their count back when dropped.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::num::NonZeroUsize;

use tessera_abi::{Errno, KResult};
use tessera_sync::SubsystemLock;
use tessera_vfs::{Inode, inode_key};

/// inode key -> count (absent: 0).
static COUNTS: SubsystemLock<BTreeMap<usize, i32>> = SubsystemLock::new(BTreeMap::new());

/// Adds `by` to the inode's count unless that would cross zero; false if it would.
fn add(key: usize, by: i32) -> bool {
    let mut counts = COUNTS.lock();
    let count = counts.entry(key).or_insert(0);
    if *count != 0 && count.signum() != by.signum() {
        return false;
    }
    *count += by;
    if *count == 0 {
        counts.remove(&key);
    }
    true
}

/// Gives back one unit of `by` (what [`add`] took).
fn release(key: usize, by: i32) {
    let mut counts = COUNTS.lock();
    let count = counts.entry(key).or_insert(0);
    debug_assert!(
        count.signum() == by.signum(),
        "write access count out of balance"
    );
    *count -= by;
    if *count == 0 {
        counts.remove(&key);
    }
}

/// An open file's right to write its inode (held by the open file). It keeps the inode's
/// key, not the inode: whoever holds the guard holds the inode too (an open file its dentry,
/// a task its executable), so the key cannot name another inode meanwhile, and the guard
/// does not keep a deleted file's pages alive.
pub struct WriteAccess {
    /// Never 0 (an inode's address), so `Option<WriteAccess>` is one word.
    key: NonZeroUsize,
}

/// The right to write `inode`: ETXTBSY while a process runs it.
pub fn get(inode: &Arc<dyn Inode>) -> KResult<WriteAccess> {
    let key = inode_key(inode);
    match NonZeroUsize::new(key) {
        Some(key) if add(key.get(), 1) => Ok(WriteAccess { key }),
        _ => Err(Errno::ETXTBSY),
    }
}

impl Drop for WriteAccess {
    fn drop(&mut self) {
        release(self.key.get(), 1);
    }
}

/// A process's hold on the file it runs: nobody may write it meanwhile (the inode's key, as
/// in [`WriteAccess`]).
pub struct DenyWrite {
    key: usize,
}

/// Denies writing `inode` while the guard lives: ETXTBSY while an open file may write it.
pub fn deny(inode: &Arc<dyn Inode>) -> KResult<DenyWrite> {
    let key = inode_key(inode);
    if add(key, -1) {
        Ok(DenyWrite { key })
    } else {
        Err(Errno::ETXTBSY)
    }
}

/// A forked child runs the same file: one more hold.
impl Clone for DenyWrite {
    fn clone(&self) -> Self {
        let held = add(self.key, -1);
        debug_assert!(held, "a denied file had writers");
        DenyWrite { key: self.key }
    }
}

impl Drop for DenyWrite {
    fn drop(&mut self) {
        release(self.key, -1);
    }
}
