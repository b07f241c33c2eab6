//! System V IPC: shared memory ([`shm`]), semaphores ([`sem`]) and message queues ([`msg`]),
//! over the decisions of `components/ipc`. Each kind is one table under one lock; a waiting
//! task waits on a [`Slot`] that whoever completes its request fills, after letting go of
//! the table (the wake-up takes the scheduler's locks).

pub mod msg;
pub mod sem;
pub mod shm;

use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tessera_ipc::Cred;

use crate::process::{Task, sched};
use crate::variants::SubsystemLock;

/// Who the caller is, to the permission checks: every process runs as root with every
/// capability today, so they never refuse.
const CALLER: Cred = Cred::ROOT;

/// Seconds since the epoch: the `*_time` fields.
fn now() -> i64 {
    (crate::time::realtime_ns() / 1_000_000_000) as i64
}

/// The caller's process id: `sempid`, `shm_lpid`, `msg_lspid`...
fn pid() -> i32 {
    sched::current_pid() as i32
}

/// Names one waiting request among all of a kind's queues.
fn ticket() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Where a blocked task finds the outcome of its request, filled by whoever completes it.
pub struct Slot<R> {
    task: Weak<Task>,
    done: AtomicBool,
    result: SubsystemLock<Option<R>>,
}

impl<R> Slot<R> {
    /// A slot for the current task.
    fn new() -> Arc<Self> {
        Arc::new(Slot {
            task: Arc::downgrade(&crate::process::current()),
            done: AtomicBool::new(false),
            result: SubsystemLock::new(None),
        })
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Fills the slot and wakes its task (called with no table locked).
    fn complete(&self, result: R) {
        *self.result.lock() = Some(result);
        self.done.store(true, Ordering::Release);
        if let Some(task) = self.task.upgrade() {
            sched::wake(&task);
        }
    }

    fn take(&self) -> Option<R> {
        self.result.lock().take()
    }
}

/// Completes the waiters a table operation handed back.
fn complete_all<R>(woken: alloc::vec::Vec<(Arc<Slot<R>>, R)>) {
    for (slot, result) in woken {
        slot.complete(result);
    }
}
