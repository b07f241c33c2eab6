//! The out-of-memory killer: when user memory runs out (a page fault finds no frame above the
//! kernel's reserve, `user_frames::user_reserve`), one process is killed so that the others,
//! and the kernel, go on, as Linux's `mm/oom_kill.c` does.
//!
//! Policy (Linux's `oom_badness`, without its adjustments): the process with the most
//! resident pages, init excepted, and none that is already exiting (its memory is on its
//! way back). It gets SIGKILL, and a line in the kernel log (`dmesg`) names it. The task that
//! ran out waits for the victim to go before it tries again.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use crate::process::task::{self, Task};
use crate::process::{sched, signal};

/// What a task that found memory exhausted does next.
pub enum Outcome {
    /// A process was killed for memory: try again once it is gone.
    Retry,
    /// The task itself was chosen: it dies of SIGKILL on its way back to user mode.
    Killed,
    /// Nothing can be killed: the fault fails (the caller's error).
    Nothing,
}

/// Resident pages of a process's address space.
fn resident(leader: &Task) -> usize {
    let cell = leader
        .process
        .live_threads()
        .first()
        .map(|t| t.vm())
        .unwrap_or_else(|| leader.vm());
    let mut guard = cell.lock();
    guard.as_mut().map_or(0, |vm| vm.resident_pages())
}

/// Kills the process with the most resident pages (see the module comment). Called by
/// `current`'s fault path with no lock held.
pub fn out_of_memory(current: &Arc<Task>) -> Outcome {
    let victim = task::all_processes()
        .into_iter()
        .filter(|p| p.tgid() != 1 && !p.process.exited())
        .filter(|p| !p.process.group_exit.load(Ordering::Relaxed))
        .map(|p| (resident(&p), p))
        .filter(|(pages, _)| *pages > 0)
        .max_by_key(|(pages, _)| *pages);
    let Some((pages, victim)) = victim else {
        return Outcome::Nothing;
    };
    log::warn!(
        "out of memory: killed process {} ({}), {} kB resident",
        victim.tgid(),
        victim.name.lock().as_str(),
        pages * 4
    );
    signal::send_info(&victim, signal::SIGKILL, signal::SigInfo::kernel());
    if Arc::ptr_eq(&victim.process, &current.process) {
        return Outcome::Killed;
    }
    // Let the victim run its exit (and give its memory back) before trying again.
    let process = victim.process.clone();
    drop(victim);
    for _ in 0..10_000 {
        if process.exited() || signal::has_deliverable(current) {
            break;
        }
        sched::schedule();
    }
    Outcome::Retry
}
