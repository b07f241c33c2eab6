//! Process exit and reaping: zombies, orphans, SIGCHLD, wait4.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use tessera_abi::process::{CONTINUED_STATUS, WCONTINUED, WNOHANG, WUNTRACED, stopped_status};
use tessera_abi::{Errno, KResult};
use tessera_platform::vm;

use super::sched;
use super::signal::{self, SIGCHLD};
use super::task::{self, Pid, Task, TaskState};

/// Ends `task` (the current task) with a wait status (`code << 8`, or the signal number).
/// Never returns: the task becomes a zombie for its parent to reap.
pub fn exit_task(task: Arc<Task>, wait_status: i32) -> ! {
    if task.pid == 1 {
        crate::userspace::init_exited(wait_status);
    }
    task.exit_status.store(wait_status, Ordering::Relaxed);
    super::futex::exit_robust_and_tid(&task);
    // Release what the process holds: files, address space (after leaving it).
    task.files.lock().close_all();
    drop(task.exe_deny.lock().take());
    vm::activate_kernel();
    let own = task.vm.lock().take();
    drop(task.end_vfork(own));
    // Orphans go to init, which reaps them.
    let orphans: Vec<Arc<Task>> = core::mem::take(&mut *task.children.lock());
    if !orphans.is_empty()
        && let Some(init) = task::find(1)
    {
        for orphan in orphans {
            *orphan.parent.lock() = Arc::downgrade(&init);
            let zombie = orphan.state() == TaskState::Zombie;
            init.children.lock().push(orphan);
            if zombie {
                init.child_exited.wake_all();
            }
        }
    }
    *task.state.lock() = TaskState::Zombie;
    if let Some(parent) = task.parent() {
        let info = signal::SigInfo::of_child(task.pid, wait_status);
        signal::send_info(&parent, SIGCHLD, info);
        parent.child_exited.wake_all();
    }
    drop(task);
    sched::exit_current();
}

/// Stops the current task (a stop signal's default action) until SIGCONT or SIGKILL; the
/// parent hears of it (SIGCHLD unless SA_NOCLDSTOP, and wait4 with WUNTRACED).
pub fn stop_current(task: &Arc<Task>, sig: u32) {
    *task.job_report.lock() = Some(stopped_status(sig as i32));
    *task.state.lock() = TaskState::Stopped;
    notify_parent(task, signal::CLD_STOPPED, sig as i32);
    sched::schedule();
}

/// SIGCONT (or SIGKILL) for a stopped task: runnable again; wait4 with WCONTINUED hears of it.
pub fn continue_task(task: &Arc<Task>) {
    let was_stopped = {
        let mut state = task.state.lock();
        let stopped = *state == TaskState::Stopped;
        if stopped {
            *state = TaskState::Blocked;
        }
        stopped
    };
    if was_stopped {
        *task.job_report.lock() = Some(CONTINUED_STATUS);
        sched::wake(task);
        notify_parent(task, signal::CLD_CONTINUED, signal::SIGCONT as i32);
    }
}

fn notify_parent(task: &Arc<Task>, code: i32, status: i32) {
    if let Some(parent) = task.parent() {
        let nocldstop =
            parent.signals.lock().actions[SIGCHLD as usize - 1].flags & signal::SA_NOCLDSTOP != 0;
        if !nocldstop {
            signal::send_info(
                &parent,
                SIGCHLD,
                signal::SigInfo {
                    code,
                    pid: task.pid,
                    status,
                    ..Default::default()
                },
            );
        }
        parent.child_exited.wake_all();
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
    let matches = |child: &Arc<Task>| match which {
        WaitFor::Any => true,
        WaitFor::Pid(pid) => child.pid == pid,
        WaitFor::Group(pgid) => child.pgid.load(Ordering::Relaxed) == pgid,
    };
    if !parent.children.lock().iter().any(matches) {
        return Err(Errno::ECHILD);
    }
    let reap = || {
        let mut children = parent.children.lock();
        if let Some(index) = children
            .iter()
            .position(|c| matches(c) && c.state() == TaskState::Zombie)
        {
            let child = children.remove(index);
            drop(children);
            child.unregister();
            return Some((child.pid, child.exit_status.load(Ordering::Relaxed)));
        }
        // Stops (WUNTRACED) and continues (WCONTINUED) are reported once each.
        children.iter().filter(|c| matches(c)).find_map(|child| {
            let mut report = child.job_report.lock();
            let wanted = match *report {
                Some(CONTINUED_STATUS) => options & WCONTINUED != 0,
                Some(_) => options & WUNTRACED != 0,
                None => false,
            };
            if wanted {
                report.take().map(|status| (child.pid, status))
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
