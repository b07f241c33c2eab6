//! The scheduling policy: which runnable task the CPU runs next, and when the running task's
//! time slice is over.
//!
//! One trait, [`SchedPolicy`], generic over the task handle `T` it queues (the kernel's
//! `Arc<Task>`, plain integers in the host tests), and one variant per Cargo feature:
//!
//! | Variant       | Type                          | Idea                                                 |
//! |---------------|-------------------------------|------------------------------------------------------|
//! | `round-robin` | [`round_robin::RoundRobin`]   | one FIFO queue, [`round_robin::TIME_SLICE_TICKS`] ticks each |
//!
//! The policy holds only runnable tasks that are not running. Everything else stays in the
//! kernel (`process/sched.rs`): the running task, task states, wait queues, timed sleeps, the
//! context switch, and the lock around the policy. So a policy never sleeps, allocates only
//! inside its queue, and is tested on the host like any collection.
//!
//! | Operation            | The kernel calls it when                                          | `round-robin`                 |
//! |----------------------|-------------------------------------------------------------------|-------------------------------|
//! | [`enqueue`]          | a task becomes runnable: created (fork, init) or woken            | to the back, O(1) amortised   |
//! | [`requeue`]          | the running task leaves the CPU still runnable: slice over, yield | to the back, O(1) amortised   |
//! | [`pick_next`]        | the CPU needs a task (every `schedule()`); starts a new slice     | the front, O(1)               |
//! | [`remove`]           | a queued task must not be picked (it is leaving)                  | first match, O(queued)        |
//! | [`tick`]             | every timer tick; `true`: the slice is over, reschedule           | count to `TIME_SLICE_TICKS`   |
//! | [`len`]              | every 5 s, for the load averages                                  | O(1)                          |
//!
//! The kernel may hand back a task [`pick_next`] returned without running it (it found the
//! task no longer runnable): a policy keeps no record of what it handed out.
//!
//! What every variant guarantees (the shared suite in `tests/` checks each one): a task is
//! picked once per [`enqueue`] or [`requeue`], never twice and never after [`remove`]; tasks
//! are picked in the order they were queued (FIFO), so a runnable task waits for at most the
//! tasks queued before it: no starvation; [`tick`] says the slice is over after
//! [`SLICE_TICKS`](SchedPolicy::SLICE_TICKS) ticks since the last [`pick_next`], and on every
//! tick after that until the next one.
//!
//! # Adding a variant
//! 1. Write `src/<name>.rs` with a type implementing [`SchedPolicy`] (no `unsafe`, no
//!    panics on any call sequence).
//! 2. Add a `<name> = []` feature (documented) to `Cargo.toml` and to `default`, and a
//!    `#[cfg(feature = "<name>")] pub mod <name>;` line below.
//! 3. Add one line to the `variant_suite!` invocation in `tests/suite.rs`: the shared unit and
//!    property tests then run against it. A variant that is not FIFO (priorities, one queue
//!    per CPU) says what it guarantees instead and brings its own model.
//! 4. Kernel side: a `sched-<name>` feature, the schema entry in `xtask/config` and an arm in
//!    `kernels/tessera/src/variants.rs`.
//!
//! [`enqueue`]: SchedPolicy::enqueue
//! [`requeue`]: SchedPolicy::requeue
//! [`pick_next`]: SchedPolicy::pick_next
//! [`remove`]: SchedPolicy::remove
//! [`tick`]: SchedPolicy::tick
//! [`len`]: SchedPolicy::len
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(feature = "round-robin")]
pub mod round_robin;

#[cfg(feature = "round-robin")]
pub use round_robin::RoundRobin;

/// A scheduling policy over task handles `T`: the run queue and the time slice of one CPU.
///
/// The kernel keeps one behind a lock and calls it with interrupts off; see the crate docs
/// for when each operation is called.
pub trait SchedPolicy<T>: Sized {
    /// The variant's name in the config (`sched = "..."`) and the boot banner.
    const NAME: &'static str;
    /// Timer ticks a task runs before [`tick`](SchedPolicy::tick) says its slice is over.
    const SLICE_TICKS: u64;
    /// An empty policy: no task queued, a slice just started. A constant, so that the
    /// kernel's policy can be a `static`.
    const EMPTY: Self;

    /// Queues a task that has become runnable (new, or woken from a wait).
    fn enqueue(&mut self, task: T);

    /// Queues the task that was running and stays runnable: its slice ended, or it yielded.
    fn requeue(&mut self, task: T);

    /// Takes the task to run next, if any, and starts a new time slice.
    fn pick_next(&mut self) -> Option<T>;

    /// Takes the first queued task for which `which` is true out of the queue.
    fn remove(&mut self, which: impl FnMut(&T) -> bool) -> Option<T>;

    /// Charges one timer tick to the running task's slice; `true` when the slice is over.
    fn tick(&mut self) -> bool;

    /// Tasks queued.
    fn len(&self) -> usize;

    /// Whether no task is queued.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
