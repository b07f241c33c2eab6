//! Whole-file `flock` locks of one file (Linux's `flc_flock` list).

use alloc::vec::Vec;

use crate::{Lock, LockType, Owner, Range, SetOutcome};

/// The `flock` locks of one file: at most one per owner (an open file description), in the
/// order they were taken. They neither see nor are seen by [`crate::RangeLocks`].
#[derive(Default, Debug)]
pub struct FlockLocks {
    locks: Vec<Lock>,
}

impl FlockLocks {
    pub const fn new() -> Self {
        FlockLocks { locks: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }

    /// Every lock, in the order they were taken.
    pub fn iter(&self) -> impl Iterator<Item = &Lock> {
        self.locks.iter()
    }

    /// `flock(LOCK_SH | LOCK_EX)` (`None`: `LOCK_UN`). Holding the same type already is
    /// success; a conversion drops the old lock first, as Linux's `flock_lock_inode` does,
    /// so a conversion that meets a conflict leaves the owner with no lock at all.
    pub fn set(&mut self, owner: Owner, pid: u32, kind: Option<LockType>) -> SetOutcome {
        let mut released = false;
        if let Some(i) = self.locks.iter().position(|l| l.owner == owner) {
            if Some(self.locks[i].kind) == kind {
                return SetOutcome {
                    released,
                    conflict: None,
                };
            }
            self.locks.remove(i);
            released = true;
        }
        let Some(kind) = kind else {
            return SetOutcome {
                released,
                conflict: None,
            };
        };
        if let Some(conflict) = self.locks.iter().find(|l| l.blocks(owner, kind)) {
            return SetOutcome {
                released,
                conflict: Some(*conflict),
            };
        }
        self.locks.push(Lock {
            owner,
            pid,
            kind,
            range: Range::ALL,
            ofd: true,
        });
        SetOutcome {
            released,
            conflict: None,
        }
    }

    /// Drops the lock of `owner` (its open file description's last reference went);
    /// `true` if it held one.
    pub fn remove_owner(&mut self, owner: Owner) -> bool {
        self.set(owner, 0, None).released
    }
}
