//! Futexes (Linux's `futex(2)`): the table of waiters by key, waking and requeueing, PI
//! locks, and what a task's exit and exec do with its robust list and `clear_child_tid`.
//! `syscall/futex.rs` decodes the arguments; `docs/architecture.md` ("Futexes") has the
//! design.
//!
//! - **Keys.** A private futex (FUTEX_PRIVATE_FLAG) is (address space, address), the
//!   address space named by [`mm_key`]. A shared one in a MAP_SHARED mapping (anonymous or
//!   file) is the physical frame and the offset in it: every mapping of a shared page, in
//!   any process, maps that one frame (fork shares the frames of shared areas, a shared
//!   file mapping maps the page cache's frame). Each queued waiter of such a key holds a
//!   reference on the frame, so it cannot be freed and reused for something else while the
//!   key is in the table (Linux uses inode sequence numbers for the same guarantee). A
//!   shared futex in a private mapping is the address space's, as on Linux (mm + address),
//!   but distinct from the private futex at the same address (Linux's FUT_OFF_MMSHARED).
//! - **Atomicity.** The kernel runs on one CPU and is not preemptible, and no access to user
//!   memory sleeps (a fault allocates or reads tmpfs, never blocks). So between reading a
//!   futex word and queueing on it, or reading a PI word and writing it back, nothing else
//!   runs: what Linux gets from its hash-bucket lock and `cmpxchg`. The table lock protects
//!   the table only and is never held across a user-memory access, a wake-up or a frame
//!   reference update: it takes nothing but the heap.
//! - **Priority inheritance** is a no-op: the scheduler is round robin without priorities,
//!   so there is nothing to lend. The PI operations keep the rest of their contract: the
//!   owner's thread id in the word, FUTEX_WAITERS while the kernel has waiters, the lock
//!   handed to the first waiter on unlock, FUTEX_OWNER_DIED when the owner dies.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use tessera_abi::futex::{
    FUTEX_BITSET_MATCH_ANY, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS,
    ROBUST_LIST_FUTEX_OFFSET, ROBUST_LIST_LIMIT, ROBUST_LIST_OP_PENDING, ROBUST_LIST_PI, WakeOp,
};
use tessera_abi::{Errno, KResult};
use tessera_platform::mm::{PAGE_SIZE, Pfn};

use super::sched::{self, Wakeup};
use super::task::{self, Pid, Task, TaskState};
use crate::mm::user_frames::{release_user_frame, share_user_frame};
use crate::mm::vm::{self, Backing, Prot};
use crate::user;
use crate::variants::SubsystemLock;

/// The identity of `task`'s address space in private futex keys: the address of the shared
/// holder of its `Vm`, the same for every task cloned with CLONE_VM (threads, a vfork child)
/// and stable while the address space lives (a queued waiter's task holds it).
fn mm_key(task: &Task) -> usize {
    Arc::as_ptr(&task.vm()) as usize
}

/// Whether another task uses `task`'s address space (Linux's `mm_users > 1`), which decides
/// whether `clear_child_tid` is cleared and woken at exit: the tasks holding it, less the
/// reference taken here.
fn mm_shared(task: &Task) -> bool {
    Arc::strong_count(&task.vm()) > 2
}

/// The thread id the futex protocol uses (PI owners, robust lists).
fn tid(task: &Task) -> u32 {
    task.tid
}

/// What a task keeps for futexes (its `futex` field).
pub struct TaskFutex {
    /// set_robust_list's head (0: none).
    robust_list: AtomicU64,
    /// The exit cleanup has run: a PI word naming this task names an owner that is gone.
    exited: AtomicBool,
    /// The timed wait a signal interrupted, for `restart_syscall` (its deadline is the
    /// task's `restart_sleep`).
    restart: SubsystemLock<Option<WaitRestart>>,
}

impl TaskFutex {
    pub const fn new() -> TaskFutex {
        TaskFutex {
            robust_list: AtomicU64::new(0),
            exited: AtomicBool::new(false),
            restart: SubsystemLock::new(None),
        }
    }
}

impl Default for TaskFutex {
    fn default() -> Self {
        Self::new()
    }
}

/// set_robust_list: where the task's list head is (not read until exit or exec).
pub fn set_robust_list(task: &Task, head: u64) {
    task.futex.robust_list.store(head, Ordering::Relaxed);
}

/// get_robust_list: the task's list head (0 once its exit cleanup has run).
pub fn robust_list(task: &Task) -> u64 {
    task.futex.robust_list.load(Ordering::Relaxed)
}

/// A timed FUTEX_WAIT or FUTEX_WAIT_BITSET that a signal interrupted: what
/// `restart_syscall` needs to wait again until the same deadline (Linux's
/// `restart_block.futex`).
#[derive(Clone, Copy, Debug)]
pub struct WaitRestart {
    pub uaddr: u64,
    pub shared: bool,
    pub val: u32,
    pub bitset: u32,
}

/// Keeps the restart block of an interrupted timed wait.
pub fn save_restart(task: &Task, restart: WaitRestart) {
    *task.futex.restart.lock() = Some(restart);
}

/// Takes the restart block of an interrupted timed wait, if any (also to forget it when a
/// handler ends the wait with EINTR).
pub fn take_restart(task: &Task) -> Option<WaitRestart> {
    task.futex.restart.lock().take()
}

/// A futex's identity: which waiters an operation finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    /// An address in an address space ([`mm_key`]): a private futex, or (`shared_op`) a
    /// shared futex in a private mapping.
    Mm {
        mm: usize,
        addr: u64,
        shared_op: bool,
    },
    /// A futex in a MAP_SHARED mapping: its frame and the offset in the frame.
    Frame { pfn: Pfn, offset: u16 },
}

impl Key {
    fn bucket(&self) -> usize {
        let (a, b) = match *self {
            Key::Mm { mm, addr, .. } => (mm as u64, addr),
            Key::Frame { pfn, offset } => (pfn as u64, u64::from(offset)),
        };
        let hash = (a ^ b.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (hash >> (64 - BUCKET_BITS)) as usize
    }
}

/// How the futex word will be accessed: the PI operations and FUTEX_WAKE_OP's second word
/// write it, so their shared keys need a writable mapping.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// The key of the futex at `uaddr`, with Linux's checks (`get_futex_key`): 4-byte aligned
/// (EINVAL), below the end of user space (EFAULT); a shared one must be in a mapping that
/// can be read (and written, for [`Access::Write`]), whose page is faulted in here (EFAULT
/// otherwise). A private key needs no mapping: the word is read or written later, if at
/// all (FUTEX_WAKE never touches it).
fn key_of(task: &Task, uaddr: u64, shared: bool, access: Access) -> KResult<Key> {
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    if uaddr
        .checked_add(4)
        .is_none_or(|end| end > tessera_exec::USER_TOP)
    {
        return Err(Errno::EFAULT);
    }
    if !shared {
        return Ok(Key::Mm {
            mm: mm_key(task),
            addr: uaddr,
            shared_op: false,
        });
    }
    // Two rounds at most: look, fault the page in, look again.
    for _ in 0..2 {
        {
            let cell = task.vm();
            let mut guard = cell.lock();
            let space = guard.as_mut().ok_or(Errno::EFAULT)?;
            let area = space.find(uaddr).ok_or(Errno::EFAULT)?;
            if area.prot.is_empty() {
                return Err(Errno::EFAULT);
            }
            if !area.shared {
                // As Linux's get_user_pages(FOLL_WRITE): a writable private page is faulted
                // in writable (copy-on-write broken). A read-only one will do for a read,
                // but a read-only private anonymous page never changes: EFAULT (Linux).
                let writable = area.prot.contains(Prot::WRITE);
                let anonymous = matches!(area.backing, Backing::Anonymous);
                if !writable && (access == Access::Write || anonymous) {
                    return Err(Errno::EFAULT);
                }
                drop(guard);
                vm::resolve_fault(&task.vm(), uaddr, writable, false).map_err(|_| Errno::EFAULT)?;
                return Ok(Key::Mm {
                    mm: mm_key(task),
                    addr: uaddr,
                    shared_op: true,
                });
            }
            if let Some((pfn, writable)) = space.frame_at(uaddr)
                && (access == Access::Read || writable)
            {
                return Ok(Key::Frame {
                    pfn,
                    offset: (uaddr % PAGE_SIZE as u64) as u16,
                });
            }
        }
        vm::resolve_fault(&task.vm(), uaddr, access == Access::Write, false)
            .map_err(|_| Errno::EFAULT)?;
    }
    Err(Errno::EFAULT)
}

/// A reference on the frame of a shared key, held by the key's queued waiters (see the
/// module comment); dropped with the table unlocked.
struct FramePin(Pfn);

impl FramePin {
    fn of(key: Key) -> Option<Arc<FramePin>> {
        match key {
            Key::Frame { pfn, .. } => {
                share_user_frame(pfn);
                Some(Arc::new(FramePin(pfn)))
            }
            Key::Mm { .. } => None,
        }
    }
}

impl Drop for FramePin {
    fn drop(&mut self) {
        release_user_frame(self.0);
    }
}

/// Still queued.
const QUEUED: u8 = 0;
/// Taken off the queue by a waker (for a PI waiter: handed the lock by its owner).
const WOKEN: u8 = 1;
/// A PI waiter handed the lock because its owner died: it fixes the word up itself.
const OWNER_DIED: u8 = 2;

/// A task blocked on a futex.
struct Waiter {
    task: Arc<Task>,
    /// FUTEX_WAIT_BITSET's mask (all ones for FUTEX_WAIT, 0 for a PI waiter).
    bitset: u32,
    /// Waiting in FUTEX_LOCK_PI: only the PI operations may take it off the queue.
    pi: bool,
    /// [`QUEUED`], [`WOKEN`] or [`OWNER_DIED`], changed under the table lock.
    state: AtomicU8,
}

/// A queued waiter and the key it waits on (which a requeue changes).
struct Entry {
    key: Key,
    pin: Option<Arc<FramePin>>,
    waiter: Arc<Waiter>,
}

/// A PI futex with waiters: the thread the kernel holds as its owner. It exists exactly
/// while the key has PI waiters (Linux's `pi_state`, whose rt-mutex has no work to do here).
struct PiState {
    key: Key,
    owner: Pid,
}

const BUCKET_BITS: u32 = 6;
const BUCKETS: usize = 1 << BUCKET_BITS;

/// Every queued waiter, hashed by key; each bucket in queueing order (Linux's FIFO among
/// tasks of equal priority, which all are here).
struct Table {
    buckets: [Vec<Entry>; BUCKETS],
    pi: Vec<PiState>,
}

static FUTEXES: SubsystemLock<Table> = SubsystemLock::new(Table {
    buckets: [const { Vec::new() }; BUCKETS],
    pi: Vec::new(),
});

impl Table {
    fn queue(&mut self, key: Key, pin: Option<Arc<FramePin>>, waiter: Arc<Waiter>) {
        self.buckets[key.bucket()].push(Entry { key, pin, waiter });
    }

    /// The first waiter of `key` (Linux's `futex_top_waiter`).
    fn top(&self, key: Key) -> Option<&Entry> {
        self.buckets[key.bucket()].iter().find(|e| e.key == key)
    }

    fn pi_state(&mut self, key: Key) -> Option<&mut PiState> {
        self.pi.iter_mut().find(|s| s.key == key)
    }

    /// Forgets `key`'s PI state once it has no waiter left.
    fn drop_pi_state_if_idle(&mut self, key: Key) {
        if self.top(key).is_none() {
            self.pi.retain(|s| s.key != key);
        }
    }

    /// Takes `waiter` off its queue (wherever a requeue left it).
    fn unqueue(&mut self, waiter: &Arc<Waiter>) -> Option<Entry> {
        self.buckets.iter_mut().find_map(|bucket| {
            let at = bucket.iter().position(|e| Arc::ptr_eq(&e.waiter, waiter))?;
            Some(bucket.remove(at))
        })
    }

    /// Wakes up to `nr` waiters of `key` whose mask shares a bit with `bitset` (at least one,
    /// as Linux: its loop counts before comparing), moving them to `woken`. EINVAL on
    /// meeting a PI waiter: a plain wake-up must not take one off its lock (the ones before
    /// it are woken all the same).
    fn wake(&mut self, key: Key, nr: i32, bitset: u32, woken: &mut Vec<Entry>) -> KResult<i32> {
        let bucket = &mut self.buckets[key.bucket()];
        let mut count = 0i32;
        let mut at = 0;
        while at < bucket.len() {
            let entry = &bucket[at];
            if entry.key != key {
                at += 1;
                continue;
            }
            if entry.waiter.pi {
                return Err(Errno::EINVAL);
            }
            if entry.waiter.bitset & bitset == 0 {
                at += 1;
                continue;
            }
            let entry = bucket.remove(at);
            entry.waiter.state.store(WOKEN, Ordering::Relaxed);
            woken.push(entry);
            count += 1;
            if count >= nr {
                break;
            }
        }
        Ok(count)
    }
}

/// Makes the tasks of `woken` runnable, then drops the entries (and their frame
/// references): with the table unlocked.
fn finish_wakes(woken: Vec<Entry>) {
    for entry in &woken {
        sched::wake(&entry.waiter.task);
    }
}

/// Blocks until `waiter` is woken, the deadline (monotonic clock ns) passes, or a signal
/// arrives. Ok(state) when woken (also when a waker came just before the deadline or the
/// signal); ETIMEDOUT or EINTR once it has taken itself off its queue.
fn block(waiter: &Arc<Waiter>, deadline: Option<u64>) -> KResult<u8> {
    // 0 means no deadline to the scheduler; a deadline at 0 has long passed anyway.
    let deadline_ns = deadline.map_or(0, |d| d.max(1));
    let end = sched::block_until(deadline_ns, || {
        waiter.state.load(Ordering::Relaxed) != QUEUED
    });
    let entry = {
        let mut table = FUTEXES.lock();
        let state = waiter.state.load(Ordering::Relaxed);
        if end == Wakeup::Done || state != QUEUED {
            return Ok(state);
        }
        let entry = table.unqueue(waiter);
        if let Some(entry) = &entry
            && waiter.pi
        {
            table.drop_pi_state_if_idle(entry.key);
        }
        entry
    };
    drop(entry);
    Err(if end == Wakeup::TimedOut {
        Errno::ETIMEDOUT
    } else {
        Errno::EINTR
    })
}

/// FUTEX_WAIT and FUTEX_WAIT_BITSET: blocks while the word at `uaddr` holds `val`, until a
/// wake-up whose mask meets `bitset`, the deadline (monotonic clock ns) or a signal (EINTR;
/// the caller arranges the restart).
pub fn wait(
    uaddr: u64,
    shared: bool,
    val: u32,
    deadline: Option<u64>,
    bitset: u32,
) -> KResult<isize> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let task = task::current();
    let key = key_of(&task, uaddr, shared, Access::Read)?;
    if user::read_u32(uaddr)? != val {
        return Err(Errno::EAGAIN);
    }
    let waiter = Arc::new(Waiter {
        task,
        bitset,
        pi: false,
        state: AtomicU8::new(QUEUED),
    });
    let pin = FramePin::of(key);
    FUTEXES.lock().queue(key, pin, waiter.clone());
    block(&waiter, deadline).map(|_| 0)
}

/// FUTEX_WAKE and FUTEX_WAKE_BITSET: wakes up to `nr` waiters (at least one) whose mask meets
/// `bitset`; returns how many.
pub fn wake(uaddr: u64, shared: bool, nr: i32, bitset: u32) -> KResult<isize> {
    wake_from(&task::current(), uaddr, shared, nr, bitset)
}

fn wake_from(task: &Task, uaddr: u64, shared: bool, nr: i32, bitset: u32) -> KResult<isize> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let key = key_of(task, uaddr, shared, Access::Read)?;
    let mut woken = Vec::new();
    let result = FUTEXES.lock().wake(key, nr, bitset, &mut woken);
    finish_wakes(woken);
    result.map(|n| n as isize)
}

/// FUTEX_REQUEUE and FUTEX_CMP_REQUEUE: wakes up to `nr_wake` waiters of `uaddr` and moves up
/// to `nr_requeue` more to `uaddr2`; with `expected`, only if the word at `uaddr` still
/// holds it (EAGAIN). Returns how many were woken or moved.
pub fn requeue(
    uaddr: u64,
    shared: bool,
    uaddr2: u64,
    nr_wake: i32,
    nr_requeue: i32,
    expected: Option<u32>,
) -> KResult<isize> {
    if nr_wake < 0 || nr_requeue < 0 {
        return Err(Errno::EINVAL);
    }
    let task = task::current();
    let from = key_of(&task, uaddr, shared, Access::Read)?;
    let to = key_of(&task, uaddr2, shared, Access::Read)?;
    if let Some(expected) = expected
        && user::read_u32(uaddr)? != expected
    {
        return Err(Errno::EAGAIN);
    }
    let pin = FramePin::of(to);
    let mut woken = Vec::new();
    let mut unpinned = Vec::new();
    let mut count = 0i32;
    let mut result = Ok(());
    {
        let mut table = FUTEXES.lock();
        let source = from.bucket();
        let mut at = 0;
        while at < table.buckets[source].len() {
            // count <= MAX_TASKS and nr_wake >= 0: no overflow.
            if count - nr_wake >= nr_requeue {
                break;
            }
            let entry = &table.buckets[source][at];
            if entry.key != from {
                at += 1;
                continue;
            }
            if entry.waiter.pi {
                result = Err(Errno::EINVAL);
                break;
            }
            count += 1;
            if count <= nr_wake {
                let entry = table.buckets[source].remove(at);
                entry.waiter.state.store(WOKEN, Ordering::Relaxed);
                woken.push(entry);
            } else if from == to {
                at += 1;
            } else {
                let mut entry = table.buckets[source].remove(at);
                entry.key = to;
                unpinned.push(core::mem::replace(&mut entry.pin, pin.clone()));
                table.buckets[to.bucket()].push(entry);
            }
        }
    }
    finish_wakes(woken);
    drop(unpinned);
    result.map(|()| count as isize)
}

/// FUTEX_WAKE_OP: applies `encoded`'s operation to the word at `uaddr2`, wakes up to
/// `nr_wake` waiters of `uaddr` and, if the word's old value passes `encoded`'s comparison,
/// up to `nr_wake2` of `uaddr2`; returns how many in all.
pub fn wake_op(
    uaddr: u64,
    shared: bool,
    uaddr2: u64,
    nr_wake: i32,
    nr_wake2: i32,
    encoded: u32,
) -> KResult<isize> {
    let task = task::current();
    let key = key_of(&task, uaddr, shared, Access::Read)?;
    let key2 = key_of(&task, uaddr2, shared, Access::Write)?;
    let op = WakeOp::decode(encoded);
    // Linux's order: an unknown operation before touching the word, an unknown comparison
    // after changing it.
    if apply(&op, 0).is_none() {
        return Err(Errno::ENOSYS);
    }
    let old = user::read_u32(uaddr2)?;
    user::write_u32(uaddr2, apply(&op, old).unwrap_or(old))?;
    let passed = compare(&op, old).ok_or(Errno::ENOSYS)?;
    let mut woken = Vec::new();
    let result = {
        let mut table = FUTEXES.lock();
        table
            .wake(key, nr_wake, FUTEX_BITSET_MATCH_ANY, &mut woken)
            .and_then(|n| {
                if passed {
                    let n2 = table.wake(key2, nr_wake2, FUTEX_BITSET_MATCH_ANY, &mut woken)?;
                    Ok(n + n2)
                } else {
                    Ok(n)
                }
            })
    };
    finish_wakes(woken);
    result.map(|n| n as isize)
}

/// FUTEX_WAKE_OP's operation on the old value: the new one, or None for an unknown
/// operation (the `int` arithmetic of Linux's, wrapping).
fn apply(op: &WakeOp, old: u32) -> Option<u32> {
    use tessera_abi::futex::{
        FUTEX_OP_ADD, FUTEX_OP_ANDN, FUTEX_OP_OR, FUTEX_OP_SET, FUTEX_OP_XOR,
    };
    let arg = op.oparg as u32;
    Some(match op.op {
        FUTEX_OP_SET => arg,
        FUTEX_OP_ADD => old.wrapping_add(arg),
        FUTEX_OP_OR => old | arg,
        FUTEX_OP_ANDN => old & !arg,
        FUTEX_OP_XOR => old ^ arg,
        _ => return None,
    })
}

/// FUTEX_WAKE_OP's comparison of the old value (signed), or None for an unknown one.
fn compare(op: &WakeOp, old: u32) -> Option<bool> {
    use tessera_abi::futex::{
        FUTEX_OP_CMP_EQ, FUTEX_OP_CMP_GE, FUTEX_OP_CMP_GT, FUTEX_OP_CMP_LE, FUTEX_OP_CMP_LT,
        FUTEX_OP_CMP_NE,
    };
    let (old, arg) = (old as i32, op.cmparg);
    Some(match op.cmp {
        FUTEX_OP_CMP_EQ => old == arg,
        FUTEX_OP_CMP_NE => old != arg,
        FUTEX_OP_CMP_LT => old < arg,
        FUTEX_OP_CMP_GE => old >= arg,
        FUTEX_OP_CMP_LE => old <= arg,
        FUTEX_OP_CMP_GT => old > arg,
        _ => return None,
    })
}

/// Whether the PI word `uval` agrees with the kernel's owner of a futex with waiters
/// (Linux's `attach_to_pi_state` checks: a word that was tampered with is EINVAL).
fn check_pi_word(uval: u32, owner: Pid) -> KResult<()> {
    let word_owner = uval & FUTEX_TID_MASK;
    if word_owner == owner || (word_owner == 0 && uval & FUTEX_OWNER_DIED != 0) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// Whether the thread `owner` is gone for the futex protocol: no such task, a zombie, or
/// past its exit cleanup (Linux's FUTEX_STATE_DEAD).
fn owner_gone(owner: Pid) -> bool {
    task::find(owner)
        .is_none_or(|t| t.futex.exited.load(Ordering::Relaxed) || t.state() == TaskState::Zombie)
}

/// FUTEX_LOCK_PI, FUTEX_LOCK_PI2 and (`trylock`) FUTEX_TRYLOCK_PI: takes the PI lock at
/// `uaddr`, waiting (until the deadline, monotonic clock ns) for its owner to hand it over.
/// EDEADLK if the caller owns it already, ESRCH if the owner named in the word is gone,
/// EAGAIN for a trylock that would wait, EINTR on a signal (restarted as Linux's
/// ERESTARTNOINTR).
pub fn lock_pi(uaddr: u64, shared: bool, deadline: Option<u64>, trylock: bool) -> KResult<isize> {
    let task = task::current();
    let me = tid(&task);
    let key = key_of(&task, uaddr, shared, Access::Write)?;
    let uval = user::read_u32(uaddr)?;
    if uval & FUTEX_TID_MASK == me {
        return Err(Errno::EDEADLK);
    }
    // Who the kernel holds as owner, if the futex has waiters.
    let state = {
        let mut table = FUTEXES.lock();
        match table.top(key).map(|e| e.waiter.pi) {
            Some(false) => return Err(Errno::EINVAL),
            Some(true) => Some(table.pi_state(key).expect("PI waiters have a state").owner),
            None => None,
        }
    };
    let owner = match state {
        Some(owner) => {
            check_pi_word(uval, owner)?;
            owner
        }
        None if uval & FUTEX_TID_MASK == 0 => {
            // Free: take it, keeping only FUTEX_OWNER_DIED (a stale FUTEX_WAITERS goes).
            user::write_u32(uaddr, (uval & FUTEX_OWNER_DIED) | me)?;
            return Ok(0);
        }
        None => {
            // The first waiter: FUTEX_WAITERS first (so the owner's unlock comes to the
            // kernel), then the owner named in the word, which must exist.
            user::write_u32(uaddr, uval | FUTEX_WAITERS)?;
            let owner = uval & FUTEX_TID_MASK;
            if owner_gone(owner) {
                return Err(Errno::ESRCH);
            }
            owner
        }
    };
    if trylock {
        return Err(Errno::EAGAIN);
    }
    let waiter = Arc::new(Waiter {
        task,
        bitset: 0,
        pi: true,
        state: AtomicU8::new(QUEUED),
    });
    let pin = FramePin::of(key);
    {
        let mut table = FUTEXES.lock();
        if table.pi_state(key).is_none() {
            table.pi.push(PiState { key, owner });
        }
        table.queue(key, pin, waiter.clone());
    }
    if block(&waiter, deadline)? == OWNER_DIED {
        // The owner died: the lock is ours, and the word says so with FUTEX_OWNER_DIED
        // (Linux's fixup_pi_state_owner).
        user::write_u32(uaddr, me | FUTEX_WAITERS | FUTEX_OWNER_DIED)?;
    }
    Ok(0)
}

/// FUTEX_UNLOCK_PI: releases the PI lock at `uaddr`, which the caller must own (EPERM),
/// handing it to the first waiter (the word becomes its id with FUTEX_WAITERS), or leaving
/// the word 0.
pub fn unlock_pi(uaddr: u64, shared: bool) -> KResult<isize> {
    let task = task::current();
    let me = tid(&task);
    // Linux reads the word before looking at the address (an unaligned one is EPERM here).
    let uval = user::read_u32(uaddr)?;
    if uval & FUTEX_TID_MASK != me {
        return Err(Errno::EPERM);
    }
    let key = key_of(&task, uaddr, shared, Access::Write)?;
    let next = {
        let mut table = FUTEXES.lock();
        match table.top(key).map(|e| (e.waiter.pi, e.waiter.task.clone())) {
            Some((false, _)) => return Err(Errno::EINVAL),
            Some((true, next)) => {
                if table.pi_state(key).is_none_or(|s| s.owner != me) {
                    return Err(Errno::EINVAL);
                }
                Some(next)
            }
            None => None,
        }
    };
    let Some(next) = next else {
        user::write_u32(uaddr, 0)?;
        return Ok(0);
    };
    user::write_u32(uaddr, FUTEX_WAITERS | tid(&next))?;
    let entry = {
        let mut table = FUTEXES.lock();
        let at = table.buckets[key.bucket()]
            .iter()
            .position(|e| e.key == key)
            .expect("the first waiter is still queued");
        let entry = table.buckets[key.bucket()].remove(at);
        entry.waiter.state.store(WOKEN, Ordering::Relaxed);
        if let Some(state) = table.pi_state(key) {
            state.owner = tid(&next);
        }
        table.drop_pi_state_if_idle(key);
        entry
    };
    finish_wakes(alloc::vec![entry]);
    Ok(0)
}

/// The PI futexes `task` owns with waiters go to their first waiter, which marks the word
/// FUTEX_OWNER_DIED when it runs (Linux's `exit_pi_state_list`).
fn hand_over_pi(task: &Task) {
    let me = tid(task);
    let mut woken = Vec::new();
    {
        let mut table = FUTEXES.lock();
        if table.pi.is_empty() {
            return;
        }
        let owned: Vec<Key> = table
            .pi
            .iter()
            .filter(|s| s.owner == me)
            .map(|s| s.key)
            .collect();
        for key in owned {
            let bucket = &mut table.buckets[key.bucket()];
            if let Some(at) = bucket.iter().position(|e| e.key == key) {
                let entry = bucket.remove(at);
                entry.waiter.state.store(OWNER_DIED, Ordering::Relaxed);
                let next = tid(&entry.waiter.task);
                woken.push(entry);
                if let Some(state) = table.pi_state(key) {
                    state.owner = next;
                }
            }
            table.drop_pi_state_if_idle(key);
        }
    }
    finish_wakes(woken);
}

/// Reads a robust list pointer: the address (bit 0 cleared) and whether it is a PI futex.
fn robust_entry(at: u64) -> Option<(u64, bool)> {
    let value = user::read_u64(at).ok()?;
    Some((value & !ROBUST_LIST_PI, value & ROBUST_LIST_PI != 0))
}

/// The robust futex at `uaddr` of a dying `task` (Linux's `handle_futex_death`): if `task`
/// holds it, the word becomes FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and, for a non-PI
/// futex with waiters, one is woken (a PI one goes to its waiter in [`hand_over_pi`]). A
/// `pending` non-PI entry whose word is 0 (released, its waiter not yet woken) gets its
/// wake-up. Err: the walk stops (a misaligned or unreadable or unwritable word).
fn handle_death(task: &Task, uaddr: u64, pi: bool, pending: bool) -> Result<(), ()> {
    if !uaddr.is_multiple_of(4) {
        return Err(());
    }
    let uval = user::read_u32(uaddr).map_err(|_| ())?;
    if pending && !pi && uval == 0 {
        let _ = wake_from(task, uaddr, true, 1, FUTEX_BITSET_MATCH_ANY);
        return Ok(());
    }
    if uval & FUTEX_TID_MASK != tid(task) {
        return Ok(());
    }
    user::write_u32(uaddr, (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED).map_err(|_| ())?;
    if !pi && uval & FUTEX_WAITERS != 0 {
        let _ = wake_from(task, uaddr, true, 1, FUTEX_BITSET_MATCH_ANY);
    }
    Ok(())
}

/// Walks the robust list at `head` (Linux's `exit_robust_list`): at most
/// `ROBUST_LIST_LIMIT` entries, each futex at the entry's address plus the head's
/// `futex_offset`, then the `list_op_pending` entry; any unreadable pointer ends the walk.
/// Addresses are the user's: every sum wraps, and reading past the end of user space fails.
fn walk_robust_list(task: &Task, head: u64) {
    let Some((mut entry, mut pi)) = robust_entry(head) else {
        return;
    };
    let Ok(offset) = user::read_u64(head.wrapping_add(ROBUST_LIST_FUTEX_OFFSET)) else {
        return;
    };
    let Some((pending, pending_pi)) = robust_entry(head.wrapping_add(ROBUST_LIST_OP_PENDING))
    else {
        return;
    };
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        // The next pointer first: handling the entry may release it.
        let next = robust_entry(entry);
        if entry != pending && handle_death(task, entry.wrapping_add(offset), pi, false).is_err() {
            return;
        }
        let Some((next_entry, next_pi)) = next else {
            return;
        };
        (entry, pi) = (next_entry, next_pi);
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        let _ = handle_death(task, pending.wrapping_add(offset), pending_pi, true);
    }
}

/// At exit, with the task's address space still in place (and current): the robust list
/// walked, the PI futexes it owns handed on, then `clear_child_tid` cleared and woken if
/// another task may be using the address space (as Linux's `exit_mm_release`).
pub fn exit_robust_and_tid(task: &Arc<Task>) {
    release(task, true);
}

/// At exec, before the old address space goes: the same as at exit, but the task lives on
/// (Linux's `exec_mm_release`).
pub fn exec_robust_and_tid(task: &Arc<Task>) {
    release(task, false);
}

fn release(task: &Arc<Task>, exiting: bool) {
    let head = task.futex.robust_list.swap(0, Ordering::Relaxed);
    if head != 0 {
        walk_robust_list(task, head);
    }
    hand_over_pi(task);
    if exiting {
        task.futex.exited.store(true, Ordering::Relaxed);
    }
    let tid_addr = task.clear_child_tid.swap(0, Ordering::Relaxed);
    if tid_addr != 0 && mm_shared(task) {
        // As Linux: a bad address is ignored, and the wake-up is tried all the same.
        let _ = user::write_u32(tid_addr, 0);
        let _ = wake_from(task, tid_addr, true, 1, FUTEX_BITSET_MATCH_ANY);
    }
}
