//! Byte-range locks of one file: `fcntl`'s POSIX and OFD locks (Linux's `flc_posix` list).

use alloc::vec::Vec;

use crate::{Lock, LockType, Owner, Range, SetOutcome};

/// The byte-range locks of one file. As in Linux's list, each owner's locks sit together,
/// owners in the order they first locked, and one owner's locks sorted by start, never
/// overlapping, never two of one type side by side (they are merged). So the first
/// conflicting lock [`RangeLocks::test`] reports is the one Linux reports.
#[derive(Default, Debug)]
pub struct RangeLocks {
    locks: Vec<Lock>,
}

impl RangeLocks {
    pub const fn new() -> Self {
        RangeLocks { locks: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }

    /// Every lock, in the table's order.
    pub fn iter(&self) -> impl Iterator<Item = &Lock> {
        self.locks.iter()
    }

    /// The first lock that keeps `owner` from taking `kind` over `range` (`F_GETLK`).
    pub fn test(&self, owner: Owner, kind: LockType, range: Range) -> Option<Lock> {
        self.locks
            .iter()
            .find(|l| l.range.overlaps(&range) && l.blocks(owner, kind))
            .copied()
    }

    /// Takes `kind` over `range` for `owner` (`None`: unlocks it), replacing what the owner
    /// held there: a lock of another type is cut (split in two when the range lies inside
    /// it), locks of the same type that touch or overlap become one. Nothing changes when
    /// another owner's lock conflicts: the first one is returned.
    pub fn set(
        &mut self,
        owner: Owner,
        pid: u32,
        ofd: bool,
        kind: Option<LockType>,
        range: Range,
    ) -> SetOutcome {
        if let Some(kind) = kind
            && let Some(conflict) = self.test(owner, kind, range)
        {
            return SetOutcome {
                released: false,
                conflict: Some(conflict),
            };
        }
        // The owner's group, taken out and put back at the same place (at the end for a
        // new owner).
        let at = self
            .locks
            .iter()
            .position(|l| l.owner == owner)
            .unwrap_or(self.locks.len());
        let count = self.locks[at..]
            .iter()
            .take_while(|l| l.owner == owner)
            .count();
        let mut pieces = Vec::with_capacity(count + 2);
        let mut released = false;
        for old in self.locks.drain(at..at + count) {
            if !old.range.overlaps(&range) {
                pieces.push(old);
                continue;
            }
            released |= Some(old.kind) != kind;
            if old.range.start < range.start {
                pieces.push(Lock {
                    range: Range {
                        start: old.range.start,
                        end: range.start - 1,
                    },
                    ..old
                });
            }
            if old.range.end > range.end {
                pieces.push(Lock {
                    range: Range {
                        start: range.end + 1,
                        end: old.range.end,
                    },
                    ..old
                });
            }
        }
        if let Some(kind) = kind {
            pieces.push(Lock {
                owner,
                pid,
                kind,
                range,
                ofd,
            });
        }
        pieces.sort_by_key(|l| l.range.start);
        let mut merged: Vec<Lock> = Vec::with_capacity(pieces.len());
        for lock in pieces {
            // Ends are at most OFFSET_MAX, so end + 1 cannot overflow.
            if let Some(last) = merged.last_mut()
                && last.kind == lock.kind
                && last.range.end + 1 >= lock.range.start
            {
                last.range.end = last.range.end.max(lock.range.end);
                continue;
            }
            merged.push(lock);
        }
        self.locks.splice(at..at, merged);
        SetOutcome {
            released,
            conflict: None,
        }
    }

    /// Drops every lock of `owner` (a process closing the file, an open file description
    /// going away); `true` if it held any.
    pub fn remove_owner(&mut self, owner: Owner) -> bool {
        let before = self.locks.len();
        self.locks.retain(|l| l.owner != owner);
        self.locks.len() != before
    }
}
