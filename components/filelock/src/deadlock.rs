//! Deadlock detection for blocking POSIX locks (Linux's `posix_locks_deadlock`).

use alloc::vec::Vec;

use crate::Owner;

/// How many owners the search follows before giving up (Linux's `MAX_DEADLK_ITERATIONS`:
/// threads sharing a descriptor table can wait for several locks at once, so the chain is
/// not always a simple path).
pub const MAX_DEADLOCK_ITERATIONS: usize = 10;

/// One blocked request: `owner` waits for a lock `holder` holds on `file`.
#[derive(Clone, Copy, Debug)]
struct Edge {
    waiter: u64,
    owner: Owner,
    file: usize,
    holder: Owner,
}

/// Who waits for whom, over every file (a deadlock may span several). Only requests
/// blocked by a process's lock are recorded (Linux hashes a waiter only when its blocker is
/// a POSIX lock and not an OFD one), and only a process's request is checked: an open file
/// description is not tied to a thread of execution.
#[derive(Default, Debug)]
pub struct WaitGraph {
    edges: Vec<Edge>,
}

impl WaitGraph {
    pub const fn new() -> Self {
        WaitGraph { edges: Vec::new() }
    }

    /// Whether `caller`, about to wait for a lock of `holder`, would wait for itself:
    /// `holder` waits for an owner that waits ... for `caller`.
    pub fn would_deadlock(&self, caller: Owner, holder: Owner) -> bool {
        let mut owner = holder;
        let mut steps = 0;
        while let Some(next) = self.waiting_for(owner) {
            if steps > MAX_DEADLOCK_ITERATIONS {
                return false;
            }
            steps += 1;
            if next == caller {
                return true;
            }
            owner = next;
        }
        false
    }

    /// The owner whose lock `owner` waits for (its latest request, as Linux's hash finds
    /// the latest first).
    fn waiting_for(&self, owner: Owner) -> Option<Owner> {
        self.edges
            .iter()
            .rev()
            .find(|e| e.owner == owner)
            .map(|e| e.holder)
    }

    /// Records that request `waiter` (unique while it waits) of `owner` waits for a lock
    /// `holder` holds on `file`.
    pub fn wait(&mut self, waiter: u64, owner: Owner, file: usize, holder: Owner) {
        self.edges.push(Edge {
            waiter,
            owner,
            file,
            holder,
        });
    }

    /// Request `waiter` stopped waiting (it got the lock, gave up, or looks again).
    pub fn stop_waiting(&mut self, waiter: u64) {
        self.edges.retain(|e| e.waiter != waiter);
    }

    /// `holder` released a lock on `file`: the requests waiting for it are woken and wait
    /// for nobody until they look again (Linux's `__locks_wake_up_blocks`).
    pub fn wake(&mut self, file: usize, holder: Owner) {
        self.edges
            .retain(|e| !(e.file == file && e.holder == holder));
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }
}
