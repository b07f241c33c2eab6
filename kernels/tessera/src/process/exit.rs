//! Process exit and reaping: zombies, orphans, SIGCHLD, wait4.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use tessera_abi::{Errno, KResult};
use tessera_platform::vm;

use super::sched;
use super::signal::{self, SIGCHLD};
use super::task::{self, Pid, Task, TaskState};

/// Ends `task` (the current task) with a wait status (`code << 8`, or the signal number).
/// Never returns: the task becomes a zombie for its parent to reap.
pub fn exit_task(task: Arc<Task>, wait_status: i32) -> ! {
    if task.pid == 1 {
        crate::init_exited(wait_status);
    }
    task.exit_status.store(wait_status, Ordering::Relaxed);
    // Release what the process holds: files, address space (after leaving it).
    task.files.lock().close_all();
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
        signal::send(&parent, SIGCHLD);
        parent.child_exited.wake_all();
    }
    drop(task);
    sched::exit_current();
}

/// Which children wait4 accepts.
#[derive(Clone, Copy)]
pub enum WaitFor {
    Any,
    Pid(Pid),
    Group(Pid),
}

pub const WNOHANG: u32 = 1;

/// wait4: reaps a zombie child; returns (pid, wait status, user+system time in ticks).
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
        let index = children
            .iter()
            .position(|c| matches(c) && c.state() == TaskState::Zombie)?;
        let child = children.remove(index);
        drop(children);
        child.unregister();
        Some((child.pid, child.exit_status.load(Ordering::Relaxed)))
    };
    if options & WNOHANG != 0 {
        return Ok(reap());
    }
    parent.child_exited.wait_until(true, reap).map(Some)
}
