//! poll and select: waiting for any of several files to become ready.
//!
//! As Linux's `do_poll`: each pass looks at every file; while none is ready, the waiting
//! task puts one [`TaskWaker`] on each wait queue the files name ([`FileOps::wait_queues`])
//! and sleeps until one of them is woken, the deadline passes or a signal arrives. Nothing
//! looks again before a wake-up: a poll on an idle file costs nothing while it waits.
//!
//! [`FileOps::wait_queues`]: super::file::FileOps::wait_queues

use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use x86_64::instructions::interrupts;

use crate::process::sched::{self, TaskWaker, Watch};
use crate::process::{current, signal};

/// What poll reports of a file without a poll operation (Linux's `DEFAULT_POLLMASK`).
const DEFAULT_POLLMASK: PollEvents = PollEvents::IN
    .union(PollEvents::OUT)
    .union(PollEvents::RDNORM)
    .union(PollEvents::WRNORM);

/// Waits until one of `fds` (fd, events) is ready or the deadline passes; fills revents.
pub fn poll_fds(
    fds: &mut [(i32, PollEvents, PollEvents)],
    deadline: Option<u64>,
) -> KResult<usize> {
    let task = current();
    let mut timed_out = false;
    loop {
        let files: Vec<_> = {
            let table = task.files.lock();
            fds.iter()
                .map(|&(fd, _, _)| (fd >= 0).then(|| table.get(fd)))
                .collect()
        };
        // Interrupts off from the first registration to the sleep: a wake-up in between
        // (from an interrupt handler) is not lost.
        let saved = interrupts::are_enabled();
        interrupts::disable();
        let waker = TaskWaker::for_current();
        let as_watch: Arc<dyn Watch> = waker.clone();
        let weak = Arc::downgrade(&as_watch);
        let mut ready = 0;
        for ((_, events, revents), file) in fds.iter_mut().zip(&files) {
            *revents = match file {
                None => PollEvents::empty(),
                Some(Err(_)) => PollEvents::NVAL,
                // A file without a poll operation is always ready (Linux's
                // DEFAULT_POLLMASK) and never announces anything.
                Some(Ok(file)) if !file.ops.can_poll() => DEFAULT_POLLMASK & *events,
                Some(Ok(file)) => {
                    // Once something is ready the call will not sleep: no more waiting.
                    if ready == 0 && !timed_out {
                        file.ops
                            .wait_queues(&mut |queue| queue.add_watch(weak.clone()));
                    }
                    file.ops.poll() & (*events | PollEvents::ERR | PollEvents::HUP)
                }
            };
            if !revents.is_empty() {
                ready += 1;
            }
        }
        // Linux's order: what is ready, else a signal, else the timeout.
        let outcome = if ready > 0 {
            Some(Ok(ready))
        } else if signal::has_deliverable(&task) {
            Some(Err(Errno::EINTR))
        } else if timed_out || deadline.is_some_and(|d| tessera_platform::clock::now_ns() >= d) {
            Some(Ok(0))
        } else {
            sched::block_current(&task, deadline);
            timed_out = deadline.is_some_and(|d| tessera_platform::clock::now_ns() >= d);
            None
        };
        // The waker goes, and with it every registration it made.
        drop(as_watch);
        drop(waker);
        if saved {
            interrupts::enable();
        }
        drop(files);
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
}
