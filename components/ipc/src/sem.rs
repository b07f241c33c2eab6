//! A semaphore set (Linux's `struct sem_array`, `ipc/sem.c`).
//!
//! `semop` applies its operations in order, all or nothing: an operation that would take a
//! value below zero, or wait for zero on a non-zero value, blocks the whole call (EAGAIN with
//! `IPC_NOWAIT` on that operation) and nothing is applied; one that would take a value past
//! `SEMVMX`, or a `SEM_UNDO` adjustment past `SEMAEM`, fails with ERANGE. A blocked call is
//! queued with the operation it blocked on; each successful change retries the queue in
//! order and completes whoever can go, on their behalf (so a value a waiter takes is gone
//! before the waker returns, as on Linux). The blocking operation is what `GETNCNT` and
//! `GETZCNT` count (a waiter counts on one semaphore only, Linux's rule since 4.6).
//!
//! `SEM_UNDO` adjustments are kept per process (by tgid) in the set; at exit they are added
//! back, clamped to `0..=SEMVMX` (`exit_sem`). `SETVAL` and `SETALL` clear them.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;

use crate::{Errno, IPC_NOWAIT};

/// Most semaphores in a set.
pub const SEMMSL: i32 = 32000;
/// Most sets.
pub const SEMMNI: usize = 32000;
/// Most semaphores in all sets.
pub const SEMMNS: i64 = SEMMNI as i64 * SEMMSL as i64;
/// Most operations in one semop.
pub const SEMOPM: usize = 500;
/// Largest value.
pub const SEMVMX: i32 = 32767;
/// Largest undo adjustment.
pub const SEMAEM: i32 = SEMVMX;
/// `seminfo`'s other figures (the defaults Linux reports).
pub const SEMUME: i32 = SEMOPM as i32;
pub const SEMMNU: i64 = SEMMNS;
pub const SEMMAP: i64 = SEMMNS;
pub const SEMUSZ: i32 = 20;

/// An operation's flag: undone at exit.
pub const SEM_UNDO: i16 = 0x1000;

/// semctl's commands beyond `IPC_*`.
pub const GETPID: i32 = 11;
pub const GETVAL: i32 = 12;
pub const GETALL: i32 = 13;
pub const GETNCNT: i32 = 14;
pub const GETZCNT: i32 = 15;
pub const SETVAL: i32 = 16;
pub const SETALL: i32 = 17;
pub const SEM_STAT: i32 = 18;
pub const SEM_INFO: i32 = 19;
pub const SEM_STAT_ANY: i32 = 20;

/// One operation (`struct sembuf`: 6 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemBuf {
    pub num: u16,
    pub op: i16,
    pub flags: i16,
}

impl SemBuf {
    pub const SIZE: usize = 6;

    pub fn from_bytes(b: &[u8]) -> SemBuf {
        SemBuf {
            num: u16::from_le_bytes([b[0], b[1]]),
            op: i16::from_le_bytes([b[2], b[3]]),
            flags: i16::from_le_bytes([b[4], b[5]]),
        }
    }

    fn undo(&self) -> bool {
        self.flags & SEM_UNDO != 0
    }
}

/// One semaphore.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sem {
    pub value: i32,
    /// The tgid of the last process that changed it (`sempid`).
    pub pid: i32,
}

/// A queued `semop`.
struct Pending<W> {
    ticket: u64,
    ops: Vec<SemBuf>,
    pid: i32,
    /// The operation it waits on.
    blocking: SemBuf,
    waiter: W,
}

/// A `semop` that could not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// It must wait; this operation is the one it waits on.
    On(SemBuf),
}

/// Waiters whose operations completed (or failed: ERANGE, EIDRM), to wake.
pub type Woken<W> = Vec<(W, Result<(), Errno>)>;

/// A semaphore set.
pub struct SemSet<W> {
    pub sems: Vec<Sem>,
    /// Last semop (seconds), last change by semctl or creation.
    pub otime: i64,
    pub ctime: i64,
    pending: VecDeque<Pending<W>>,
    /// `SEM_UNDO` adjustments by process.
    undo: BTreeMap<i32, Vec<i32>>,
}

/// What an attempt at a list of operations gives.
enum Attempt {
    Done,
    Blocked(SemBuf),
    Failed(Errno),
}

impl<W> SemSet<W> {
    /// A set of `nsems` semaphores at 0, created at `now` (the caller checked `nsems`).
    pub fn new(nsems: usize, now: i64) -> Self {
        SemSet {
            sems: vec![Sem::default(); nsems],
            otime: 0,
            ctime: now,
            pending: VecDeque::new(),
            undo: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.sems.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sems.is_empty()
    }

    /// Applies `ops` for process `pid` if all can go (`perform_atomic_semop`): each
    /// operation sees the values the ones before it left; on a block or an error every
    /// value is put back.
    fn attempt(&mut self, ops: &[SemBuf], pid: i32) -> Attempt {
        let saved: Vec<i32> = ops
            .iter()
            .map(|op| self.sems[usize::from(op.num)].value)
            .collect();
        let no_adjustments = Vec::new();
        let adjustments = self.undo.get(&pid).unwrap_or(&no_adjustments);
        let mut outcome = Attempt::Done;
        for op in ops {
            let sem = &mut self.sems[usize::from(op.num)];
            let value = sem.value;
            if op.op == 0 && value != 0 {
                outcome = Attempt::Blocked(*op);
                break;
            }
            let result = value + i32::from(op.op);
            if result < 0 {
                outcome = Attempt::Blocked(*op);
                break;
            }
            if result > SEMVMX {
                outcome = Attempt::Failed(Errno::ERANGE);
                break;
            }
            if op.undo() {
                let adj = adjustments.get(usize::from(op.num)).copied().unwrap_or(0);
                let undo = adj - i32::from(op.op);
                if !(-SEMAEM - 1..=SEMAEM).contains(&undo) {
                    outcome = Attempt::Failed(Errno::ERANGE);
                    break;
                }
            }
            sem.value = result;
        }
        if !matches!(outcome, Attempt::Done) {
            // Put back in reverse order: a semaphore named twice gets its first value.
            for (op, value) in ops.iter().zip(saved).rev() {
                self.sems[usize::from(op.num)].value = value;
            }
            return outcome;
        }
        let nsems = self.sems.len();
        for op in ops {
            self.sems[usize::from(op.num)].pid = pid;
            if op.undo() {
                let adj = self.undo.entry(pid).or_insert_with(|| vec![0; nsems]);
                adj[usize::from(op.num)] -= i32::from(op.op);
            }
        }
        Attempt::Done
    }

    /// `semop` for process `pid` at time `now` (the caller checked that every `num` is in
    /// the set: EFBIG otherwise). `Ok(woken)` when it completed (with the waiters it let
    /// go); `Err(Ok(Blocked))` when it must wait ([`SemSet::enqueue`]); `Err(Err(errno))`:
    /// ERANGE, or EAGAIN when the operation it would wait on has `IPC_NOWAIT`.
    pub fn semop(
        &mut self,
        ops: &[SemBuf],
        pid: i32,
        now: i64,
    ) -> Result<Woken<W>, Result<Blocked, Errno>> {
        match self.attempt(ops, pid) {
            Attempt::Done => {
                self.otime = now;
                if ops.iter().any(|op| op.op != 0) {
                    Ok(self.update_queue(now))
                } else {
                    Ok(Vec::new())
                }
            }
            Attempt::Blocked(op) if i32::from(op.flags) & IPC_NOWAIT != 0 => {
                Err(Err(Errno::EAGAIN))
            }
            Attempt::Blocked(op) => Err(Ok(Blocked::On(op))),
            Attempt::Failed(errno) => Err(Err(errno)),
        }
    }

    /// Queues a blocked `semop` (at the end: waiters go in order).
    pub fn enqueue(&mut self, ticket: u64, ops: Vec<SemBuf>, pid: i32, on: Blocked, waiter: W) {
        let Blocked::On(blocking) = on;
        self.pending.push_back(Pending {
            ticket,
            ops,
            pid,
            blocking,
            waiter,
        });
    }

    /// Takes a waiter off the queue (timed out, interrupted); false when it is no longer
    /// there (its operation completed or failed: its result was handed out).
    pub fn cancel(&mut self, ticket: u64) -> bool {
        let before = self.pending.len();
        self.pending.retain(|p| p.ticket != ticket);
        self.pending.len() != before
    }

    /// Retries the queue after a change (`update_queue`), in order, starting again from
    /// the front after each completed operation that changed a value.
    fn update_queue(&mut self, now: i64) -> Woken<W> {
        let mut woken = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            let ops = core::mem::take(&mut self.pending[i].ops);
            let pid = self.pending[i].pid;
            let outcome = self.attempt(&ops, pid);
            self.pending[i].ops = ops;
            match outcome {
                Attempt::Blocked(op) => {
                    self.pending[i].blocking = op;
                    i += 1;
                }
                Attempt::Failed(errno) => {
                    let p = self.pending.remove(i).expect("in range");
                    woken.push((p.waiter, Err(errno)));
                }
                Attempt::Done => {
                    self.otime = now;
                    let p = self.pending.remove(i).expect("in range");
                    let altered = p.ops.iter().any(|op| op.op != 0);
                    woken.push((p.waiter, Ok(())));
                    if altered {
                        i = 0;
                    }
                }
            }
        }
        woken
    }

    /// `GETNCNT` (`zero` false: waiting for an increase) and `GETZCNT` (waiting for zero).
    pub fn waiting(&self, num: usize, zero: bool) -> usize {
        self.pending
            .iter()
            .filter(|p| {
                usize::from(p.blocking.num) == num
                    && (p.blocking.op == 0) == zero
                    && p.blocking.op <= 0
            })
            .count()
    }

    /// `SETVAL` (the caller checked the range, 0..=SEMVMX, and `num`): clears every
    /// process's adjustment of it.
    pub fn set_value(&mut self, num: usize, value: i32, pid: i32, now: i64) -> Woken<W> {
        for adj in self.undo.values_mut() {
            adj[num] = 0;
        }
        self.sems[num] = Sem { value, pid };
        self.ctime = now;
        self.update_queue(now)
    }

    /// `SETALL` (the caller checked every value): clears every adjustment.
    pub fn set_all(&mut self, values: &[u16], pid: i32, now: i64) -> Woken<W> {
        self.undo.clear();
        for (sem, &value) in self.sems.iter_mut().zip(values) {
            *sem = Sem {
                value: i32::from(value),
                pid,
            };
        }
        self.ctime = now;
        self.update_queue(now)
    }

    /// Whether process `pid` has adjustments here.
    pub fn has_undo(&self, pid: i32) -> bool {
        self.undo.contains_key(&pid)
    }

    /// Process `pid` exits: its adjustments are added back, each value clamped to
    /// `0..=SEMVMX` (`exit_sem`).
    pub fn exit(&mut self, pid: i32, now: i64) -> Woken<W> {
        let Some(adjustments) = self.undo.remove(&pid) else {
            return Vec::new();
        };
        for (sem, adj) in self.sems.iter_mut().zip(adjustments) {
            if adj != 0 {
                sem.value = (sem.value + adj).clamp(0, SEMVMX);
                sem.pid = pid;
            }
        }
        self.update_queue(now)
    }

    /// `IPC_RMID`: every waiter gets EIDRM.
    pub fn remove(&mut self) -> Woken<W> {
        self.undo.clear();
        self.pending
            .drain(..)
            .map(|p| (p.waiter, Err(Errno::EIDRM)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(num: u16, op: i16, flags: i16) -> SemBuf {
        SemBuf { num, op, flags }
    }

    fn values(set: &SemSet<u32>) -> Vec<i32> {
        set.sems.iter().map(|s| s.value).collect()
    }

    #[test]
    fn all_or_nothing() {
        let mut set: SemSet<u32> = SemSet::new(2, 1);
        set.semop(&[op(0, 2, 0)], 10, 2).unwrap();
        // The second operation blocks: the first is not applied.
        assert_eq!(
            set.semop(&[op(0, -1, 0), op(1, -1, 0)], 11, 3).err(),
            Some(Ok(Blocked::On(op(1, -1, 0))))
        );
        assert_eq!(values(&set), [2, 0]);
        assert_eq!(
            set.semop(&[op(0, -1, 0), op(1, -1, IPC_NOWAIT as i16)], 11, 3)
                .err(),
            Some(Err(Errno::EAGAIN))
        );
        // Operations see the values the earlier ones left: -2 then wait-for-zero goes.
        set.semop(&[op(0, -2, 0), op(0, 0, 0)], 11, 3).unwrap();
        assert_eq!(values(&set), [0, 0]);
        assert_eq!(set.sems[0].pid, 11);
        assert_eq!(set.otime, 3);
        // Past SEMVMX: ERANGE, nothing applied.
        assert_eq!(
            set.semop(&[op(1, 1, 0), op(0, 32767, 0), op(0, 1, 0)], 11, 4)
                .err(),
            Some(Err(Errno::ERANGE))
        );
        assert_eq!(values(&set), [0, 0]);
    }

    #[test]
    fn waiters_are_completed_by_the_waker_in_order() {
        let mut set: SemSet<u32> = SemSet::new(1, 1);
        let blocked = set.semop(&[op(0, -1, 0)], 20, 2).unwrap_err().unwrap();
        set.enqueue(1, vec![op(0, -1, 0)], 20, blocked, 100);
        let blocked = set.semop(&[op(0, -1, 0)], 21, 2).unwrap_err().unwrap();
        set.enqueue(2, vec![op(0, -1, 0)], 21, blocked, 101);
        let zero = set.semop(&[op(0, 0, 0)], 22, 2);
        assert!(zero.is_ok(), "0 is zero: no wait");
        assert_eq!(set.waiting(0, false), 2);
        // Each increment is taken at once by the first waiter still queued: the waker
        // completes its operation, so the value is 0 when the waker returns.
        assert_eq!(
            set.semop(&[op(0, 1, 0)], 10, 2).unwrap(),
            vec![(100, Ok(()))]
        );
        assert_eq!(values(&set), [0]);
        assert_eq!(set.sems[0].pid, 20);
        assert_eq!(
            set.semop(&[op(0, 2, 0)], 10, 3).unwrap(),
            vec![(101, Ok(()))]
        );
        assert_eq!(values(&set), [1]);
        assert_eq!(set.waiting(0, false), 0);
    }

    #[test]
    fn zero_waiters_and_counts() {
        let mut set: SemSet<u32> = SemSet::new(2, 1);
        set.semop(&[op(1, 1, 0)], 10, 1).unwrap();
        let blocked = set.semop(&[op(1, 0, 0)], 11, 1).unwrap_err().unwrap();
        set.enqueue(1, vec![op(1, 0, 0)], 11, blocked, 7);
        assert_eq!((set.waiting(1, true), set.waiting(1, false)), (1, 0));
        assert!(set.cancel(1));
        assert!(!set.cancel(1));
        let blocked = set.semop(&[op(1, 0, 0)], 11, 1).unwrap_err().unwrap();
        set.enqueue(2, vec![op(1, 0, 0)], 11, blocked, 8);
        assert_eq!(
            set.semop(&[op(1, -1, 0)], 10, 1).unwrap(),
            vec![(8, Ok(()))]
        );
    }

    #[test]
    fn undo_at_exit_and_setval() {
        let mut set: SemSet<u32> = SemSet::new(2, 1);
        set.semop(&[op(0, 5, SEM_UNDO), op(1, 3, 0)], 30, 1)
            .unwrap();
        set.semop(&[op(0, -2, SEM_UNDO)], 30, 1).unwrap();
        assert!(set.has_undo(30));
        // Another process takes the rest: exit's -3 clamps at 0.
        set.semop(&[op(0, -3, 0)], 31, 1).unwrap();
        set.exit(30, 2);
        assert_eq!(values(&set), [0, 3]);
        assert_eq!(set.sems[0].pid, 30);
        assert!(!set.has_undo(30));
        set.semop(&[op(1, -1, SEM_UNDO)], 32, 1).unwrap();
        set.set_value(1, 9, 33, 3);
        set.exit(32, 4);
        assert_eq!(values(&set), [0, 9]);
        // The adjustment's range: -SEMAEM-1..=SEMAEM.
        set.set_value(0, SEMVMX, 1, 5);
        set.semop(&[op(0, -SEMVMX as i16, SEM_UNDO)], 34, 5)
            .unwrap();
        set.set_value(0, SEMVMX, 1, 5);
        // SETVAL cleared it, so this is again within range.
        set.semop(&[op(0, -1, SEM_UNDO)], 34, 5).unwrap();
    }

    #[test]
    fn undo_range_is_erange() {
        let mut set: SemSet<u32> = SemSet::new(1, 1);
        set.semop(&[op(0, 32767, SEM_UNDO)], 1, 1).unwrap();
        set.semop(&[op(0, -32767, 0)], 2, 1).unwrap();
        // -32768 is still within range, one more is not.
        set.semop(&[op(0, 1, SEM_UNDO)], 1, 1).unwrap();
        set.semop(&[op(0, -1, 0)], 2, 1).unwrap();
        assert_eq!(
            set.semop(&[op(0, 1, SEM_UNDO)], 1, 1).err(),
            Some(Err(Errno::ERANGE))
        );
        set.semop(&[op(0, 1, 0)], 1, 1).unwrap();
    }

    #[test]
    fn removal_hands_out_eidrm() {
        let mut set: SemSet<u32> = SemSet::new(1, 1);
        let blocked = set.semop(&[op(0, -1, 0)], 1, 1).unwrap_err().unwrap();
        set.enqueue(1, vec![op(0, -1, 0)], 1, blocked, 5);
        assert_eq!(set.remove(), vec![(5, Err(Errno::EIDRM))]);
    }
}
