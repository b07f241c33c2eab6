//! The out-of-memory killer: when user memory runs out (a page fault finds no frame above the
//! kernel's reserve, `user_frames::user_reserve`), one process is killed so that the others,
//! and the kernel, go on, as Linux's `mm/oom_kill.c` does.
//!
//! Policy (Linux 6.1's `oom_badness` and `select_bad_process`): each process's badness is its
//! resident pages plus `oom_score_adj` thousandths of RAM (`adj * (total / 1000)` pages);
//! the process with the highest badness is chosen (of equals, the one with the highest pid,
//! as Linux's walk from the oldest keeps the last), never init, never a process with
//! `oom_score_adj` -1000, none without an address space, and none that is already exiting
//! (its memory is on its way back). It gets SIGKILL, and a line in the kernel log (`dmesg`)
//! names it. The task that ran out waits for the victim to go before it tries again.
//! `/proc/PID/oom_score` shows the same badness scaled to 0..2000 ([`score`]). Linux also
//! counts page-table pages and swap; Tessera has no swap and counts resident pages only.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use crate::process::task::{self, Task};
use crate::process::{sched, signal};

/// `oom_score_adj`'s range (Linux's `OOM_SCORE_ADJ_MIN`, `OOM_SCORE_ADJ_MAX`); the minimum
/// exempts the process from the OOM killer.
pub const OOM_SCORE_ADJ_MIN: i32 = -1000;
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub const OOM_SCORE_ADJ_MAX: i32 = 1000;

/// What a task that found memory exhausted does next.
pub enum Outcome {
    /// A process was killed for memory: try again once it is gone.
    Retry,
    /// The task itself was chosen: it dies of SIGKILL on its way back to user mode.
    Killed,
    /// Nothing can be killed: the fault fails (the caller's error).
    Nothing,
}

/// Resident pages of a process's address space; `None` without one (every thread gone).
fn resident(leader: &Task) -> Option<usize> {
    let cell = leader
        .process
        .live_threads()
        .first()
        .map(|t| t.vm())
        .unwrap_or_else(|| leader.vm());
    let mut guard = cell.lock();
    guard.as_mut().map(|vm| vm.resident_pages())
}

/// Linux's `oom_badness`: resident pages plus `oom_score_adj` thousandths of `total` pages;
/// `None` for a process the OOM killer never chooses (init, `oom_score_adj` -1000, no
/// address space).
pub fn badness(leader: &Task, total: usize) -> Option<i64> {
    let adj = leader.process.oom_score_adj.load(Ordering::Relaxed);
    if leader.tgid() == 1 || adj == OOM_SCORE_ADJ_MIN || leader.process.exited() {
        return None;
    }
    let pages = resident(leader)? as i64;
    Some(pages + i64::from(adj) * (total / 1000) as i64)
}

/// `/proc/PID/oom_score`: the badness scaled to 0..2000 as Linux's `proc_oom_score` shows
/// it (`(1000 + badness * 1000 / total) * 2 / 3`), 0 for a process never chosen.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn score(leader: &Task) -> u64 {
    let total = crate::mm::page_counts().0.max(1);
    badness(leader, total).map_or(0, |b| {
        ((1000 + b * 1000 / total as i64) * 2 / 3).max(0) as u64
    })
}

/// Kills the process with the highest badness (see the module comment). Called by
/// `current`'s fault path with no lock held.
pub fn out_of_memory(current: &Arc<Task>) -> Outcome {
    let total = crate::mm::page_counts().0;
    let victim = task::all_processes()
        .into_iter()
        .filter(|p| !p.process.group_exit.load(Ordering::Relaxed))
        .filter_map(|p| Some((badness(&p, total)?, p)))
        .max_by_key(|(points, _)| *points);
    let Some((_, victim)) = victim else {
        return Outcome::Nothing;
    };
    log::warn!(
        "out of memory: killed process {} ({}), {} kB resident, oom_score_adj {}",
        victim.tgid(),
        victim.name.lock().as_str(),
        resident(&victim).unwrap_or(0) * 4,
        victim.process.oom_score_adj.load(Ordering::Relaxed)
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
