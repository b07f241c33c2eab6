//! poll and select: waiting for any of several files to become ready.

use tessera_abi::KResult;
use tessera_abi::poll::PollEvents;

use crate::process::{current, sched};

/// Waits until one of `fds` (fd, events) is ready or the deadline passes; fills revents.
pub fn poll_fds(
    fds: &mut [(i32, PollEvents, PollEvents)],
    deadline: Option<u64>,
) -> KResult<usize> {
    loop {
        let mut ready = 0;
        {
            let task = current();
            let files = task.files.lock();
            for (fd, events, revents) in fds.iter_mut() {
                *revents = if *fd < 0 {
                    PollEvents::empty()
                } else {
                    match files.get(*fd) {
                        Ok(f) => f.ops.poll() & (*events | PollEvents::ERR | PollEvents::HUP),
                        Err(_) => PollEvents::NVAL,
                    }
                };
                if !revents.is_empty() {
                    ready += 1;
                }
            }
        }
        if ready > 0 {
            return Ok(ready);
        }
        let now = tessera_platform::clock::now_ns();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(0);
        }
        // Readiness changes wake no one here: poll again every tick (coarse, but correct).
        let next = now + 10_000_000;
        sched::sleep_until(deadline.map_or(next, |d| d.min(next)))?;
    }
}
