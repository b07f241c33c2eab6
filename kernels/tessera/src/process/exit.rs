//! Process exit and reaping: zombies, orphans, SIGCHLD, wait4.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use tessera_abi::process::{
    __WALL, __WCLONE, CONTINUED_STATUS, WCONTINUED, WNOHANG, WUNTRACED, stopped_status,
};
use tessera_abi::{Errno, KResult};
use tessera_platform::vm;

use super::sched;
use super::signal::{self, SIGCHLD};
use super::task::{self, Pid, Process, Task, TaskState};

/// Ends the whole process of `task` (the current task) with a wait status (`code << 8`, or
/// the signal number): exit_group, or a fatal signal. The other threads get SIGKILL and end
/// on their way back to user mode. Never returns.
pub fn exit_group(task: Arc<Task>, wait_status: i32) -> ! {
    if !task.process.group_exit.load(Ordering::Relaxed) {
        signal::kill_group(&task.process, Some(wait_status), Some(&task));
    }
    exit_task(task, wait_status)
}

/// Ends the thread `task` (the current task): exit, or a thread ended by exit_group. The
/// last thread of a process ends the process, with the group's status if it is exiting as
/// a whole, else with its own. Never returns.
pub fn exit_task(task: Arc<Task>, wait_status: i32) -> ! {
    let process = task.process.clone();
    // Release what the thread holds: its files and address space (after leaving it).
    task.files.release();
    let last = {
        let mut threads = process.threads.lock();
        threads.retain(|t| !Arc::ptr_eq(t, &task));
        threads.is_empty()
    };
    // Without a group exit, the process ends with its last thread's status (what Linux
    // reports when the leader exits first).
    if last && !process.group_exit.load(Ordering::Relaxed) {
        process.exit_status.store(wait_status, Ordering::Relaxed);
    }
    if last && task.tgid() == 1 {
        crate::userspace::init_exited(process.exit_status.load(Ordering::Relaxed));
    }
    super::futex::exit_robust_and_tid(&task);
    vm::activate_kernel();
    drop(task.replace_vm(Arc::new(tessera_sync::SubsystemLock::new(None))));
    task.end_vfork();
    {
        let (user, system) = (
            task.utime_ticks.load(Ordering::Relaxed),
            task.stime_ticks.load(Ordering::Relaxed),
        );
        let mut dead = process.dead_ticks.lock();
        dead.0 += user;
        dead.1 += system;
    }
    process.thread_exited.wake_all();
    if last {
        exit_process(&process);
    }
    let release = !task.is_leader();
    drop(task);
    drop(process);
    sched::exit_current(release);
}

/// The last thread of `process` has exited: the process becomes a zombie for its parent.
fn exit_process(process: &Arc<Process>) {
    // SEM_UNDO adjustments go back before the parent hears (Linux's exit_sem in do_exit).
    crate::ipc::sem::exit_process(process.tgid);
    drop(core::mem::take(&mut *process.exe_deny.lock()));
    // Orphans go to init, which reaps them.
    let orphans: Vec<Arc<Task>> = core::mem::take(&mut *process.children.lock());
    if !orphans.is_empty()
        && let Some(init) = task::find(1)
    {
        for orphan in orphans {
            *orphan.process.parent.lock() = Arc::downgrade(&init);
            let zombie = orphan.process.exited();
            init.process.children.lock().push(orphan);
            if zombie {
                init.process.child_exited.wake_all();
            }
        }
    }
    if let Some(parent) = process.parent() {
        let status = process.exit_status.load(Ordering::Relaxed);
        let info = signal::SigInfo::of_child(process.tgid, status);
        signal::send_info(&parent, process.exit_signal.load(Ordering::Relaxed), info);
        parent.process.child_exited.wake_all();
    }
}

/// A stop signal's default action: the process stops (every thread, as each comes back to
/// user mode) until SIGCONT or SIGKILL; the parent hears of it (SIGCHLD unless
/// SA_NOCLDSTOP, and wait4 with WUNTRACED).
pub fn stop_process(task: &Arc<Task>, sig: u32) {
    let process = &task.process;
    *process.job_report.lock() = Some(stopped_status(sig as i32));
    process.group_stop.store(true, Ordering::Relaxed);
    for thread in process.live_threads() {
        if !Arc::ptr_eq(&thread, task) {
            // A runnable thread stops where it is; a blocked one when it comes back.
            let mut state = thread.state.lock();
            if *state == TaskState::Runnable {
                *state = TaskState::Stopped;
            }
            drop(state);
            sched::set_signal_hint(&thread, true);
        }
    }
    notify_parent(process, signal::CLD_STOPPED, sig as i32);
    stop_current(task);
}

/// Stops the current thread until its process is continued.
pub fn stop_current(task: &Arc<Task>) {
    *task.state.lock() = TaskState::Stopped;
    sched::schedule();
}

/// SIGCONT (or SIGKILL) for a stopped process: every thread runnable again; wait4 with
/// WCONTINUED hears of it.
pub fn continue_process(process: &Process) {
    if !process.group_stop.swap(false, Ordering::Relaxed) {
        return;
    }
    for thread in process.live_threads() {
        let mut state = thread.state.lock();
        if *state == TaskState::Stopped {
            *state = TaskState::Blocked;
            drop(state);
            sched::wake(&thread);
        }
    }
    *process.job_report.lock() = Some(CONTINUED_STATUS);
    notify_parent(process, signal::CLD_CONTINUED, signal::SIGCONT as i32);
}

fn notify_parent(process: &Process, code: i32, status: i32) {
    if let Some(parent) = process.parent() {
        if !signal::nocldstop(&parent) {
            signal::send_info(
                &parent,
                SIGCHLD,
                signal::SigInfo {
                    code,
                    pid: process.tgid,
                    status,
                    ..Default::default()
                },
            );
        }
        parent.process.child_exited.wake_all();
    }
}

/// Which children wait4 accepts.
#[derive(Clone, Copy)]
pub enum WaitFor {
    Any,
    Pid(Pid),
    Group(Pid),
}

/// wait4: reaps a zombie child; returns (pid, wait status).
/// None with WNOHANG and no zombie yet.
pub fn wait_child(parent: &Arc<Task>, which: WaitFor, options: u32) -> KResult<Option<(Pid, i32)>> {
    // Without __WALL, a child whose exit signal is not SIGCHLD (a "clone" child) is waited
    // for only with __WCLONE, and the others only without it.
    let kind = |child: &Arc<Task>| {
        options & __WALL != 0
            || (child.process.exit_signal.load(Ordering::Relaxed) != SIGCHLD)
                == (options & __WCLONE != 0)
    };
    let matches = |child: &Arc<Task>| {
        kind(child)
            && match which {
                WaitFor::Any => true,
                WaitFor::Pid(pid) => child.tid == pid,
                WaitFor::Group(pgid) => child.process.pgid.load(Ordering::Relaxed) == pgid,
            }
    };
    let parent = &parent.process;
    if !parent.children.lock().iter().any(matches) {
        return Err(Errno::ECHILD);
    }
    let reap = || {
        let mut children = parent.children.lock();
        if let Some(index) = children
            .iter()
            .position(|c| matches(c) && c.process.exited())
        {
            let child = children.remove(index);
            drop(children);
            child.unregister();
            // The child's CPU time, and its children's, count as the parent's children's.
            let (user, system) = child.process_ticks();
            let (child_user, child_system) = *child.process.children_ticks.lock();
            let mut ticks = parent.children_ticks.lock();
            ticks.0 += user + child_user;
            ticks.1 += system + child_system;
            drop(ticks);
            return Some((child.tid, child.process.exit_status.load(Ordering::Relaxed)));
        }
        // Stops (WUNTRACED) and continues (WCONTINUED) are reported once each.
        children.iter().filter(|c| matches(c)).find_map(|child| {
            let mut report = child.process.job_report.lock();
            let wanted = match *report {
                Some(CONTINUED_STATUS) => options & WCONTINUED != 0,
                Some(_) => options & WUNTRACED != 0,
                None => false,
            };
            if wanted {
                report.take().map(|status| (child.tid, status))
            } else {
                None
            }
        })
    };
    if options & WNOHANG != 0 {
        return Ok(reap());
    }
    parent.child_exited.wait_until(true, reap).map(Some)
}
