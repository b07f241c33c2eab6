//! `sched = "round-robin"`: one FIFO run queue, a fixed time slice.
//!
//! New, woken and preempted tasks all go to the back of one queue; the front runs next, for
//! [`TIME_SLICE_TICKS`] timer ticks. With `n` tasks runnable each runs within `n - 1` slices
//! of the last time it ran: fair in turns, though not in time (a task that blocks early
//! gives the rest of its slice away).

use alloc::collections::VecDeque;

use crate::SchedPolicy;

/// Time slice: timer ticks a task may run while others wait (20 ms at the default 100 Hz).
/// The kernel is not preemptible, so the switch happens on the task's next way back to user
/// mode.
pub const TIME_SLICE_TICKS: u64 = 2;

/// The round-robin policy: a `VecDeque` of runnable tasks and a tick count.
pub struct RoundRobin<T> {
    queue: VecDeque<T>,
    ticks_in_slice: u64,
}

impl<T> SchedPolicy<T> for RoundRobin<T> {
    const NAME: &'static str = "round-robin";
    const SLICE_TICKS: u64 = TIME_SLICE_TICKS;
    const EMPTY: Self = RoundRobin {
        queue: VecDeque::new(),
        ticks_in_slice: 0,
    };

    fn enqueue(&mut self, task: T) {
        self.queue.push_back(task);
    }

    fn requeue(&mut self, task: T) {
        self.queue.push_back(task);
    }

    fn pick_next(&mut self) -> Option<T> {
        self.ticks_in_slice = 0;
        self.queue.pop_front()
    }

    fn remove(&mut self, which: impl FnMut(&T) -> bool) -> Option<T> {
        let at = self.queue.iter().position(which)?;
        self.queue.remove(at)
    }

    fn tick(&mut self) -> bool {
        self.ticks_in_slice = self.ticks_in_slice.saturating_add(1);
        self.ticks_in_slice >= TIME_SLICE_TICKS
    }

    fn len(&self) -> usize {
        self.queue.len()
    }
}
