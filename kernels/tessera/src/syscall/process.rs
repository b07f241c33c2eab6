//! Process syscalls: fork, vfork, clone, execve, exit, wait4, ids, process groups, sessions.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use tessera_abi::process::{
    __WALL, __WCLONE, __WNOTHREAD, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_PARENT_SETTID,
    CLONE_SETTLS, CLONE_THREAD, CLONE_VFORK, CLONE_VM, P_ALL, P_PGID, P_PID, WCONTINUED, WEXITED,
    WNOHANG, WNOWAIT, WUNTRACED, exited_status,
};
use tessera_abi::{Errno, KResult};
use tessera_platform::trap::TrapFrame;

use super::Args;
use crate::process::exit::{self, WaitFor};
use crate::process::task::{self, Task};
use crate::process::{current, exec, sched, signal};
use crate::user;

pub fn getpid() -> KResult<isize> {
    Ok(sched::current_pid() as isize)
}

pub fn gettid() -> KResult<isize> {
    getpid()
}

pub fn getppid() -> KResult<isize> {
    Ok(current().ppid() as isize)
}

/// A copy of the current process: copy-on-write memory, shared open files (dup'ed table),
/// same signal actions and mask; the child returns 0 from the syscall.
/// With `share_vm` (vfork), the child borrows the parent's address space instead.
fn fork_task(frame: &TrapFrame, share_vm: bool) -> KResult<Arc<Task>> {
    let parent = current();
    let vm = if share_vm {
        None
    } else {
        match parent.vm.lock().as_mut() {
            Some(vm) => Some(vm.fork()?),
            None => None,
        }
    };
    let files = parent.files.lock().clone();
    let fs = parent.fs.lock().clone();
    let child = Task::new(&parent.name.lock(), vm, files, fs)?;
    *child.parent.lock() = Arc::downgrade(&parent);
    *child.exe.lock() = parent.exe.lock().clone();
    *child.exe_deny.lock() = parent.exe_deny.lock().clone();
    child
        .pgid
        .store(parent.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
    child
        .sid
        .store(parent.sid.load(Ordering::Relaxed), Ordering::Relaxed);
    {
        let mut signals = child.signals.lock();
        *signals = parent.signals.lock().clone();
        signals.clear_pending();
    }
    // The parent's registers are live (the kernel never touches them): saved straight into
    // the child's image.
    child.fpu.lock().save();
    child
        .fs_base
        .store(parent.fs_base.load(Ordering::Relaxed), Ordering::Relaxed);
    let mut child_frame = frame.clone();
    child_frame.rax = 0;
    child
        .kernel_stack
        .lock()
        .as_mut()
        .expect("a new task has a stack")
        .init_user_return(&child_frame, sched::context(child.slot));
    if share_vm {
        *child.vm.lock() = parent.vm.lock().take();
        *child.vfork_parent.lock() = Some(parent.clone());
        child.in_vfork.store(true, Ordering::Relaxed);
    }
    parent.children.lock().push(child.clone());
    Ok(child)
}

/// Runs a vfork child and waits until it execs or exits (the parent's memory is the child's
/// until then).
fn run_vfork_child(child: Arc<Task>) {
    sched::spawn(child.clone());
    let _ = child.vfork_done.wait_until(false, || {
        (!child.in_vfork.load(Ordering::Relaxed)).then_some(())
    });
}

pub fn fork(frame: &TrapFrame) -> KResult<isize> {
    let child = fork_task(frame, false)?;
    let pid = child.pid;
    sched::spawn(child);
    Ok(pid as isize)
}

/// vfork: the child runs in the parent's memory while the parent waits, until the child
/// execs or exits.
pub fn vfork(frame: &TrapFrame) -> KResult<isize> {
    let child = fork_task(frame, true)?;
    let pid = child.pid;
    run_vfork_child(child);
    Ok(pid as isize)
}

pub fn clone(a: &Args, frame: &mut TrapFrame) -> KResult<isize> {
    let (flags, stack, parent_tid, child_tid, tls) = (a[0], a[1], a[2], a[3], a[4]);
    if flags & CLONE_THREAD != 0 || (flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0) {
        // Threads are not supported: static single-threaded programs never ask for them.
        return Err(Errno::ENOSYS);
    }
    let mut child_frame = frame.clone();
    if stack != 0 {
        child_frame.rsp = stack;
    }
    let child = fork_task(
        &child_frame,
        flags & CLONE_VFORK != 0 && flags & CLONE_VM != 0,
    )?;
    let pid = child.pid;
    if flags & CLONE_SETTLS != 0 {
        child.fs_base.store(tls, Ordering::Relaxed);
    }
    // Both tid stores happen after the child exists and, as on Linux (kernel_clone and
    // schedule_tail), a store to a bad address is ignored: the child runs all the same.
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = user::write_u32(parent_tid, pid);
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        child.clear_child_tid.store(child_tid, Ordering::Relaxed);
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        // The child's copy of the page gets its own tid.
        if child.vm.lock().is_some() {
            let _ = crate::mm::vm::write_user(&child.vm, child_tid, &pid.to_le_bytes());
        }
    }
    if flags & CLONE_VFORK != 0 {
        child.in_vfork.store(true, Ordering::Relaxed);
        run_vfork_child(child);
    } else {
        sched::spawn(child);
    }
    Ok(pid as isize)
}

pub fn execve(a: &Args, frame: &mut TrapFrame) -> KResult<isize> {
    let path = user::read_path(a[0])?;
    let argv = user::read_string_array(a[1])?;
    let envp = user::read_string_array(a[2])?;
    exec::execve(&path, argv, envp, frame)?;
    Ok(0)
}

pub fn exit(a: &Args) -> KResult<isize> {
    exit::exit_task(current(), exited_status(a[0] as i32))
}

pub fn exit_group(a: &Args) -> KResult<isize> {
    exit(a)
}

pub fn set_tid_address(a: &Args) -> KResult<isize> {
    let task = current();
    task.clear_child_tid.store(a[0], Ordering::Relaxed);
    Ok(task.pid as isize)
}

pub fn wait4(a: &Args) -> KResult<isize> {
    let (pid, status_ptr, options) = (a[0] as i32, a[1], a[2] as u32);
    const KNOWN: u32 = WNOHANG | WUNTRACED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE;
    if options & !KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    let task = current();
    let which = match pid {
        -1 => WaitFor::Any,
        0 => WaitFor::Group(task.pgid.load(Ordering::Relaxed)),
        p if p < -1 => WaitFor::Group((-p) as u32),
        p => WaitFor::Pid(p as u32),
    };
    match exit::wait_child(&task, which, options)? {
        Some((pid, status)) => {
            if status_ptr != 0 {
                user::write_u32(status_ptr, status as u32)?;
            }
            if a[3] != 0 {
                user::write_bytes(a[3], &[0u8; 144])?;
            }
            Ok(pid as isize)
        }
        None => Ok(0),
    }
}

pub fn waitid(a: &Args) -> KResult<isize> {
    let (idtype, id, infop, options) = (a[0] as u32, a[1] as u32, a[2], a[3] as u32);
    if options & WEXITED == 0 {
        return Err(Errno::EINVAL);
    }
    let which = match idtype {
        P_ALL => WaitFor::Any,
        P_PID => WaitFor::Pid(id),
        P_PGID => WaitFor::Group(id),
        _ => return Err(Errno::EINVAL),
    };
    let task = current();
    let reaped = exit::wait_child(&task, which, options & WNOHANG)?;
    if infop != 0 {
        let info = match reaped {
            Some((pid, status)) => signal::SigInfo::of_child(pid, status).to_bytes(signal::SIGCHLD),
            None => [0u8; signal::SIGINFO_SIZE],
        };
        user::write_bytes(infop, &info)?;
    }
    Ok(0)
}

fn target(pid: u64) -> KResult<Arc<Task>> {
    if pid == 0 {
        Ok(current())
    } else {
        task::find(pid as u32).ok_or(Errno::ESRCH)
    }
}

pub fn setpgid(a: &Args) -> KResult<isize> {
    if (a[1] as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let task = target(a[0])?;
    let pgid = if a[1] as i32 == 0 {
        task.pid
    } else {
        a[1] as u32
    };
    task.pgid.store(pgid, Ordering::Relaxed);
    Ok(0)
}

pub fn getpgid(a: &Args) -> KResult<isize> {
    Ok(target(a[0])?.pgid.load(Ordering::Relaxed) as isize)
}

pub fn getpgrp() -> KResult<isize> {
    Ok(current().pgid.load(Ordering::Relaxed) as isize)
}

pub fn getsid(a: &Args) -> KResult<isize> {
    Ok(target(a[0])?.sid.load(Ordering::Relaxed) as isize)
}

pub fn setsid() -> KResult<isize> {
    let task = current();
    if task.pgid.load(Ordering::Relaxed) == task.pid {
        return Err(Errno::EPERM);
    }
    task.sid.store(task.pid, Ordering::Relaxed);
    task.pgid.store(task.pid, Ordering::Relaxed);
    Ok(task.pid as isize)
}
