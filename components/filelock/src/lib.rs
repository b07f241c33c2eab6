//! Advisory file locks with Linux's semantics (`fs/locks.c`): the lock tables of one file and
//! the graph of blocked POSIX waiters, as plain data structures. Nothing here sleeps or
//! knows about tasks: an operation either completes or names the lock in the way, and the
//! kernel does the waiting, the waking and the bookkeeping of which file a table belongs to.
//!
//! | type | Linux | what it holds |
//! |---|---|---|
//! | [`RangeLocks`] | `flc_posix` | byte-range locks of `fcntl`: POSIX ones (owner: the descriptor table) and OFD ones (owner: the open file description), which conflict with each other |
//! | [`FlockLocks`] | `flc_flock` | whole-file `flock` locks (owner: the open file description), independent of the range locks |
//! | [`WaitGraph`] | `blocked_hash` | who waits for whom, for `EDEADLK` (`posix_locks_deadlock`) |
//! | [`posix_range`] | `flock64_to_posix_lock` | `l_whence`/`l_start`/`l_len` to a byte range, with Linux's `EINVAL`/`EOVERFLOW` |
//!
//! | operation | what it does | kernel's follow-up |
//! |---|---|---|
//! | [`RangeLocks::test`] | the first lock that conflicts with a request (`F_GETLK`) | report it, or `F_UNLCK` |
//! | [`RangeLocks::set`] | take, convert or release a range: splits and merges the owner's locks | on a conflict: `EAGAIN`, or wait; when `released`: wake the waiters |
//! | [`RangeLocks::remove_owner`] | drop every lock of an owner (close, exit, last reference) | wake the waiters |
//! | [`FlockLocks::set`] | take, convert (old lock dropped first) or release | as above |
//! | [`WaitGraph::would_deadlock`] | whether waiting for a holder closes a cycle of POSIX owners | `EDEADLK` |
//!
//! Owners are opaque numbers ([`Owner`]); the kernel uses the addresses of the objects that
//! own the locks, which differ while both are alive.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod deadlock;
mod flock;
mod range;
#[cfg(test)]
mod tests;

pub use deadlock::WaitGraph;
pub use flock::FlockLocks;
pub use range::RangeLocks;

use tessera_abi::Errno;

/// The largest file offset, Linux's `OFFSET_MAX`: a lock whose end is this runs to the end
/// of the file, however far it grows.
pub const OFFSET_MAX: u64 = i64::MAX as u64;

/// Shared (`F_RDLCK`, `LOCK_SH`) or exclusive (`F_WRLCK`, `LOCK_EX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockType {
    Read,
    Write,
}

/// Who holds a lock: two locks of one owner never conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner(pub usize);

/// Bytes `start..=end` of a file (`end` is [`OFFSET_MAX`] for "to the end").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

impl Range {
    /// The whole file.
    pub const ALL: Range = Range {
        start: 0,
        end: OFFSET_MAX,
    };

    pub fn overlaps(&self, other: &Range) -> bool {
        self.end >= other.start && other.end >= self.start
    }
}

/// One lock held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    pub owner: Owner,
    /// The process that took it (what `F_GETLK` reports for a POSIX lock).
    pub pid: u32,
    pub kind: LockType,
    pub range: Range,
    /// An open file description's lock (`F_OFD_SETLK`), not a process's.
    pub ofd: bool,
}

impl Lock {
    /// Whether this held lock stands in the way of `other` (Linux's `posix_locks_conflict`
    /// without the overlap test for whole-file locks): another owner, and one of them
    /// exclusive.
    fn blocks(&self, owner: Owner, kind: LockType) -> bool {
        self.owner != owner && (self.kind == LockType::Write || kind == LockType::Write)
    }
}

/// What a [`RangeLocks::set`] or [`FlockLocks::set`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetOutcome {
    /// Some lock the owner held was released or weakened (shrunk, split, downgraded,
    /// dropped): tasks waiting on this file should look again.
    pub released: bool,
    /// The first lock in the way: nothing was taken (for `flock`, a lock being converted
    /// was already dropped: `released` says so).
    pub conflict: Option<Lock>,
}

/// Linux's `flock64_to_posix_lock`: the byte range of a `struct flock`. `base` is where
/// `l_whence` counts from (0, the file offset or the file size: never negative).
/// `EOVERFLOW` when the start or the end lies past [`OFFSET_MAX`], `EINVAL` when the start
/// (also after a negative `l_len`) lies before 0.
pub fn posix_range(base: i64, l_start: i64, l_len: i64) -> Result<Range, Errno> {
    debug_assert!(base >= 0);
    let max = OFFSET_MAX as i64;
    if l_start > max - base {
        return Err(Errno::EOVERFLOW);
    }
    let start = base + l_start;
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    let (start, end) = if l_len > 0 {
        if l_len - 1 > max - start {
            return Err(Errno::EOVERFLOW);
        }
        (start, start + (l_len - 1))
    } else if l_len < 0 {
        // POSIX-2001: the bytes before `start`.
        if start + l_len < 0 {
            return Err(Errno::EINVAL);
        }
        (start + l_len, start - 1)
    } else {
        (start, max)
    };
    Ok(Range {
        start: start as u64,
        end: end as u64,
    })
}
