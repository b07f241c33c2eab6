//! Advisory file locks: `fcntl`'s POSIX and OFD record locks and `flock`, with Linux's
//! semantics (`fs/locks.c`). The rules (ranges, conflicts, conversions, deadlocks) are
//! `tessera_filelock`'s; this module keeps one table per locked file, makes blocking
//! requests wait, and drops locks when their owner goes:
//!
//! - a POSIX lock belongs to a descriptor table (Linux's `files_struct`: the threads of a
//!   process share it, a forked child gets its own, execve keeps it), named by the table's
//!   address ([`super::FdTable::lock_owner`]); closing any descriptor of the file releases
//!   all of the table's locks on it ([`fd_closed`]), and so does exit;
//! - an OFD lock and a `flock` lock belong to an open file description, named by its
//!   address: dup and fork share them, and they go with its last reference
//!   ([`description_closed`]).
//!
//! A file is its inode (the one its path names) or, for files opened without a path (pipes,
//! sockets), the object behind the description. One lock, `LOCKS`, covers every table and
//! the waiter graph; it takes nothing but the heap, and wake-ups happen after it is released.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use tessera_abi::{Errno, KResult};
use tessera_filelock::{FlockLocks, Lock, LockType, Owner, Range, RangeLocks, WaitGraph};
use tessera_sync::SubsystemLock;

use super::OpenFile;
use crate::process::sched::{self, WaitQueue};

/// The locks of one file, and the queue its blocked requests wait on.
struct FileLocks {
    ranges: RangeLocks,
    flocks: FlockLocks,
    /// A waiter holds a clone while it waits, which keeps the entry (see [`tidy`]).
    queue: Arc<WaitQueue>,
}

struct Registry {
    files: BTreeMap<usize, FileLocks>,
    graph: WaitGraph,
}

static LOCKS: SubsystemLock<Registry> = SubsystemLock::new(Registry {
    files: BTreeMap::new(),
    graph: WaitGraph::new(),
});

/// How many files have a table: close and the last reference of an open file look no
/// further while it is 0 (the common case, which costs them one load).
static FILES: AtomicUsize = AtomicUsize::new(0);

/// Which kind of lock a request takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// `F_SETLK`: owned by the descriptor table, deadlocks detected.
    Posix,
    /// `F_OFD_SETLK`: owned by the open file description.
    Ofd,
    /// `flock`: whole file, owned by the open file description.
    Flock,
}

/// The key of the file `file` is open on.
fn file_key(file: &OpenFile) -> usize {
    match file.path() {
        Some(dentry) => tessera_vfs::inode_key(dentry.inode()),
        None => Arc::as_ptr(&file.ops) as *const () as usize,
    }
}

/// The owner an open file description's OFD and `flock` locks have.
pub fn description_owner(file: &OpenFile) -> Owner {
    Owner(file as *const OpenFile as usize)
}

/// Drops the table of `key` if it holds nothing and nobody waits on it.
fn tidy(reg: &mut Registry, key: usize) {
    if reg.files.get(&key).is_some_and(|e| {
        e.ranges.is_empty() && e.flocks.is_empty() && Arc::strong_count(&e.queue) == 1
    }) {
        reg.files.remove(&key);
        FILES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `F_GETLK`: the first range lock that keeps `owner` from taking `kind` over `range`.
pub fn test(file: &OpenFile, owner: Owner, kind: LockType, range: Range) -> Option<Lock> {
    if FILES.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let key = file_key(file);
    let reg = LOCKS.lock();
    reg.files.get(&key)?.ranges.test(owner, kind, range)
}

/// A lock request, tried again after every wake-up.
struct Request {
    key: usize,
    owner: Owner,
    pid: u32,
    flavour: Flavour,
    kind: Option<LockType>,
    range: Range,
    /// Names this request in the waiter graph (the task's id: a task waits for one lock).
    waiter: u64,
}

enum Attempt {
    Done,
    Wait(Arc<WaitQueue>),
}

/// One try at `req`: done, or the queue to wait on (only when `wait`), or EAGAIN/EDEADLK.
fn attempt(req: &Request, wait: bool) -> KResult<Attempt> {
    let mut wake = None;
    let result = {
        let mut guard = LOCKS.lock();
        let reg = &mut *guard;
        reg.graph.stop_waiting(req.waiter);
        if req.kind.is_none() && !reg.files.contains_key(&req.key) {
            return Ok(Attempt::Done);
        }
        let entry = reg.files.entry(req.key).or_insert_with(|| {
            FILES.fetch_add(1, Ordering::Relaxed);
            FileLocks {
                ranges: RangeLocks::new(),
                flocks: FlockLocks::new(),
                queue: Arc::new(WaitQueue::new()),
            }
        });
        let out = match req.flavour {
            Flavour::Flock => entry.flocks.set(req.owner, req.pid, req.kind),
            Flavour::Posix | Flavour::Ofd => entry.ranges.set(
                req.owner,
                req.pid,
                req.flavour == Flavour::Ofd,
                req.kind,
                req.range,
            ),
        };
        if out.released {
            reg.graph.wake(req.key, req.owner);
            wake = Some(entry.queue.clone());
        }
        let result = match out.conflict {
            None => Ok(Attempt::Done),
            Some(_) if !wait => Err(Errno::EAGAIN),
            Some(held) => {
                if req.flavour == Flavour::Posix && reg.graph.would_deadlock(req.owner, held.owner)
                {
                    Err(Errno::EDEADLK)
                } else {
                    if req.flavour != Flavour::Flock && !held.ofd {
                        reg.graph.wait(req.waiter, req.owner, req.key, held.owner);
                    }
                    Ok(Attempt::Wait(entry.queue.clone()))
                }
            }
        };
        tidy(reg, req.key);
        result
    };
    if let Some(queue) = wake {
        queue.wake_all();
    }
    result
}

/// Takes, converts or (`kind` None) releases a lock on `file`'s file. Without `wait` a
/// conflict is EAGAIN; with it the task sleeps until the lock is free (EDEADLK if a POSIX
/// request would wait for itself, EINTR if a signal comes first).
pub fn set(
    file: &OpenFile,
    owner: Owner,
    flavour: Flavour,
    kind: Option<LockType>,
    range: Range,
    wait: bool,
) -> KResult<()> {
    let req = Request {
        key: file_key(file),
        owner,
        pid: sched::current_pid(),
        flavour,
        kind,
        range,
        waiter: u64::from(sched::current_tid()),
    };
    let queue = match attempt(&req, wait)? {
        Attempt::Done => return Ok(()),
        Attempt::Wait(queue) => queue,
    };
    let result = queue.wait_until(true, || match attempt(&req, true) {
        Ok(Attempt::Done) => Some(Ok(())),
        Ok(Attempt::Wait(_)) => None,
        Err(e) => Some(Err(e)),
    });
    drop(queue);
    let mut reg = LOCKS.lock();
    reg.graph.stop_waiting(req.waiter);
    tidy(&mut reg, req.key);
    result?
}

/// Releases `owner`'s locks on `file`'s file (with `flocks`, its `flock` lock too). Out of
/// line and cold: close and exit call it only while some file has locks, and the check
/// before it should cost them no more than a load.
#[cold]
#[inline(never)]
fn release(file: &OpenFile, owner: Owner, flocks: bool) {
    let key = file_key(file);
    let wake = {
        let mut guard = LOCKS.lock();
        let reg = &mut *guard;
        let Some(entry) = reg.files.get_mut(&key) else {
            return;
        };
        let mut released = entry.ranges.remove_owner(owner);
        if flocks {
            released |= entry.flocks.remove_owner(owner);
        }
        let queue = released.then(|| entry.queue.clone());
        if released {
            reg.graph.wake(key, owner);
        }
        tidy(reg, key);
        queue
    };
    if let Some(queue) = wake {
        queue.wake_all();
    }
}

/// Whether some file has locks (or waiters): while not, closing files has nothing to
/// release.
#[inline]
pub fn any() -> bool {
    FILES.load(Ordering::Relaxed) != 0
}

/// A descriptor of `file` left the table `owner` ([`super::FdTable::lock_owner`]): the
/// table's POSIX locks on the file go (Linux's `locks_remove_posix`).
#[inline]
pub fn fd_closed(file: &OpenFile, owner: usize) {
    if any() {
        release(file, Owner(owner), false);
    }
}

/// The last reference to `file` went: its OFD and `flock` locks go (Linux's
/// `locks_remove_file`).
#[inline]
pub fn description_closed(file: &OpenFile) {
    if any() {
        release(file, description_owner(file), true);
    }
}
