//! Process syscalls: fork, vfork, clone, execve, exit, wait4, ids, process groups, sessions.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use tessera_abi::mm::TASK_SIZE_MAX;
use tessera_abi::process::{
    __WALL, __WCLONE, __WNOTHREAD, CLONE_ARGS_SIZE, CLONE_ARGS_SIZE_VER0, CLONE_CHILD_CLEARTID,
    CLONE_CHILD_SETTID, CLONE_CLEAR_SIGHAND, CLONE_FILES, CLONE_FS, CLONE_INTO_CGROUP,
    CLONE_NEW_NAMESPACES, CLONE_NEWTIME, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD,
    CLONE_SETTLS, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VFORK, CLONE_VM, CSIGNAL,
    P_ALL, P_PGID, P_PID, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WUNTRACED, exited_status,
};
use tessera_abi::{Errno, KResult};
use tessera_platform::trap::TrapFrame;
use tessera_sync::{SpinLock, SubsystemLock};

use super::args::{Args, Decode};
use crate::process::exit::{self, WaitFor};
use crate::process::task::{self, Files, Shares, Task};
use crate::process::{current, exec, sched, signal};
use crate::user;

pub fn getpid() -> KResult<isize> {
    Ok(sched::current_pid() as isize)
}

pub fn gettid() -> KResult<isize> {
    Ok(sched::current_tid() as isize)
}

pub fn getppid() -> KResult<isize> {
    Ok(current().ppid() as isize)
}

/// What clone and clone3 ask for, decoded.
struct CloneRequest {
    flags: u64,
    /// The signal the parent gets when the child's process ends (0: none).
    exit_signal: u32,
    /// The child's stack pointer (0: the parent's).
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
}

impl CloneRequest {
    /// Refuses what Linux's `copy_process` refuses, with its errno, and what this kernel
    /// does not have (namespaces, pidfds, cgroups: EINVAL).
    fn check(&self) -> KResult<()> {
        let f = self.flags;
        let has = |flag: u64| f & flag != 0;
        if has(CLONE_NEW_NAMESPACES) || has(CLONE_PIDFD) || has(CLONE_INTO_CGROUP) {
            return Err(Errno::EINVAL);
        }
        // Thread groups share signal handlers; shared handlers need a shared address space.
        if has(CLONE_THREAD) && !has(CLONE_SIGHAND) {
            return Err(Errno::EINVAL);
        }
        if has(CLONE_SIGHAND) && !has(CLONE_VM) {
            return Err(Errno::EINVAL);
        }
        if has(CLONE_SIGHAND) && has(CLONE_CLEAR_SIGHAND) {
            return Err(Errno::EINVAL);
        }
        // Init has no parent to share and no siblings (Linux: SIGNAL_UNKILLABLE).
        if has(CLONE_PARENT) && sched::current_pid() == 1 {
            return Err(Errno::EINVAL);
        }
        if has(CLONE_SETTLS) && self.tls >= TASK_SIZE_MAX {
            return Err(Errno::EPERM);
        }
        Ok(())
    }
}

/// A new task as `req` asks: a thread of the caller's process (CLONE_THREAD) or a new
/// process, sharing or copying the address space, files, fs context and signal actions
/// flag by flag; the child returns 0 from the syscall.
fn clone_task(frame: &TrapFrame, req: &CloneRequest) -> KResult<Arc<Task>> {
    let parent = current();
    let has = |flag: u64| req.flags & flag != 0;
    let vm = if has(CLONE_VM) {
        parent.vm()
    } else {
        let copy = match parent.vm().lock().as_mut() {
            Some(vm) => Some(vm.fork()?),
            None => None,
        };
        Arc::new(SubsystemLock::new(copy))
    };
    let files = if has(CLONE_FILES) {
        parent.files.arc().share()
    } else {
        Files::new(parent.files.lock().clone())
    };
    let fs = if has(CLONE_FS) {
        parent.fs.arc()
    } else {
        Arc::new(SubsystemLock::new(parent.fs.lock().clone()))
    };
    let sighand = if has(CLONE_SIGHAND) {
        parent.sighand.clone()
    } else {
        let mut copy = parent.sighand.lock().clone();
        if has(CLONE_CLEAR_SIGHAND) {
            copy.clear_handlers();
        }
        Arc::new(SpinLock::new(copy))
    };
    let shares = Shares {
        vm,
        files,
        fs,
        sighand,
        process: has(CLONE_THREAD).then(|| parent.process.clone()),
    };
    let child = Task::new(&parent.name.lock(), shares)?;
    if !has(CLONE_THREAD) {
        let (from, to) = (&parent.process, &child.process);
        // CLONE_PARENT: a sibling of the caller, not its child.
        let new_parent = if has(CLONE_PARENT) {
            from.parent()
        } else {
            from.leader()
        };
        *to.exe.lock() = from.exe.lock().clone();
        *to.exe_deny.lock() = from.exe_deny.lock().clone();
        *to.rlimits.lock() = *from.rlimits.lock();
        to.oom_score_adj.store(
            from.oom_score_adj.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        to.pgid
            .store(from.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
        to.sid
            .store(from.sid.load(Ordering::Relaxed), Ordering::Relaxed);
        to.exit_signal.store(req.exit_signal, Ordering::Relaxed);
        if let Some(new_parent) = new_parent {
            *to.parent.lock() = Arc::downgrade(&new_parent);
            new_parent.process.children.lock().push(child.clone());
        }
    }
    // A thread with its own stack starts without the alternate one (Linux's sas_ss_reset
    // for CLONE_VM without CLONE_VFORK).
    signal::inherit(&parent, &child, !has(CLONE_VM) || has(CLONE_VFORK));
    // The parent's registers are live (the kernel never touches them): saved straight into
    // the child's image.
    child.fpu.lock().save();
    let fs_base = if has(CLONE_SETTLS) {
        req.tls
    } else {
        parent.fs_base.load(Ordering::Relaxed)
    };
    child.fs_base.store(fs_base, Ordering::Relaxed);
    let mut child_frame = frame.clone();
    child_frame.rax = 0;
    if req.stack != 0 {
        child_frame.rsp = req.stack;
    }
    child
        .kernel_stack
        .lock()
        .as_mut()
        .expect("a new task has a stack")
        .init_user_return(&child_frame, sched::context(child.slot()));
    Ok(child)
}

/// Creates the task `req` asks for and starts it; returns its id. Both tid stores happen
/// after the child exists and, as on Linux (kernel_clone and schedule_tail), a store to a
/// bad address is ignored: the child runs all the same. A vfork parent waits until the
/// child execs or exits.
fn do_clone(frame: &TrapFrame, req: &CloneRequest) -> KResult<isize> {
    req.check()?;
    let child = clone_task(frame, req)?;
    let tid = child.tid;
    if req.flags & CLONE_PARENT_SETTID != 0 {
        let _ = user::write_u32(req.parent_tid, tid);
    }
    if req.flags & CLONE_CHILD_CLEARTID != 0 {
        child
            .clear_child_tid
            .store(req.child_tid, Ordering::Relaxed);
    }
    if req.flags & CLONE_CHILD_SETTID != 0 {
        // In the child's memory: its own copy of the page, or the shared one.
        let _ = crate::mm::vm::write_user(&child.vm(), req.child_tid, &tid.to_le_bytes());
    }
    if req.flags & CLONE_VFORK != 0 {
        child.in_vfork.store(true, Ordering::Relaxed);
        sched::spawn(child.clone());
        let _ = child.vfork_done.wait_until(false, || {
            (!child.in_vfork.load(Ordering::Relaxed)).then_some(())
        });
    } else {
        sched::spawn(child);
    }
    Ok(tid as isize)
}

pub fn fork(frame: &TrapFrame) -> KResult<isize> {
    let req = CloneRequest {
        flags: 0,
        exit_signal: signal::SIGCHLD,
        stack: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
    };
    do_clone(frame, &req)
}

/// vfork: the child runs in the parent's memory while the parent waits, until the child
/// execs or exits.
pub fn vfork(frame: &TrapFrame) -> KResult<isize> {
    let req = CloneRequest {
        flags: CLONE_VM | CLONE_VFORK,
        exit_signal: signal::SIGCHLD,
        stack: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
    };
    do_clone(frame, &req)
}

/// clone(unsigned long flags, void *stack, int *parent_tid, int *child_tid, unsigned long
/// tls): the exit signal is the low byte of the flags, not checked (as Linux: one above
/// NSIG is never sent).
pub fn clone(a: &Args, frame: &mut TrapFrame) -> KResult<isize> {
    let flags = a.ulong(0);
    let req = CloneRequest {
        flags: flags & !CSIGNAL & !(CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP),
        exit_signal: (flags & CSIGNAL) as u32,
        stack: a.ulong(1),
        parent_tid: a.ptr(2).addr(),
        child_tid: a.ptr(3).addr(),
        tls: a.ulong(4),
    };
    do_clone(frame, &req)
}

/// unshare(flags): gives the caller its own copy of what it shares with other tasks, as
/// Linux's `ksys_unshare`: CLONE_FILES (the descriptor table), CLONE_FS (working
/// directory, root, umask), CLONE_SYSVSEM (like exit: the caller's SEM_UNDO adjustments
/// are applied and dropped). CLONE_THREAD, CLONE_SIGHAND and CLONE_VM cannot be unshared
/// and succeed only when there is nothing to unshare (else EINVAL); CLONE_VM implies
/// CLONE_SIGHAND, which implies CLONE_THREAD, as on Linux. Namespaces are EINVAL, as on a
/// Linux built without them; other bits EINVAL.
pub fn unshare(a: &Args) -> KResult<isize> {
    // Linux's prototype: unsigned long unshare_flags.
    let mut flags = a.ulong(0);
    let known = CLONE_THREAD
        | CLONE_FS
        | CLONE_SIGHAND
        | CLONE_VM
        | CLONE_FILES
        | CLONE_SYSVSEM
        | CLONE_NEW_NAMESPACES
        | CLONE_NEWTIME;
    if flags & !known != 0 || flags & (CLONE_NEW_NAMESPACES | CLONE_NEWTIME) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_VM != 0 {
        flags |= CLONE_SIGHAND;
    }
    if flags & CLONE_SIGHAND != 0 {
        flags |= CLONE_THREAD;
    }
    let task = current();
    if flags & CLONE_THREAD != 0 && task.process.threads.lock().len() > 1 {
        return Err(Errno::EINVAL);
    }
    // One reference per task sharing them (for the address space, one more: `vm()`'s).
    if flags & CLONE_SIGHAND != 0 && Arc::strong_count(&task.sighand) > 1 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_VM != 0 && Arc::strong_count(&task.vm()) > 2 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_FS != 0 {
        task.unshare_fs();
    }
    if flags & CLONE_FILES != 0 {
        task.unshare_files();
    }
    if flags & CLONE_SYSVSEM != 0 {
        crate::ipc::sem::exit_process(task.tgid());
    }
    Ok(0)
}

/// clone3(struct clone_args *args, size_t size): the arguments in a versioned struct, read
/// as Linux's `copy_clone_args_from_user`: smaller than version 0 is EINVAL, larger than a
/// page E2BIG, and bytes past what this kernel knows must be zero (E2BIG).
pub fn clone3(a: &Args, frame: &mut TrapFrame) -> KResult<isize> {
    let (at, size) = (a.ptr(0), a.size(1));
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > tessera_platform::mm::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    let raw = at.read_bytes(size)?;
    if raw
        .get(CLONE_ARGS_SIZE..)
        .is_some_and(|rest| rest.iter().any(|&b| b != 0))
    {
        return Err(Errno::E2BIG);
    }
    let field = |i: usize| {
        raw.get(i * 8..i * 8 + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let (flags, _pidfd, child_tid, parent_tid, exit_signal) =
        (field(0), field(1), field(2), field(3), field(4));
    let (stack, stack_size, tls, _set_tid, set_tid_size) =
        (field(5), field(6), field(7), field(8), field(9));
    // The exit signal is a whole field here, not clone's low byte.
    if exit_signal & !CSIGNAL != 0 || exit_signal > u64::from(signal::NSIG) {
        return Err(Errno::EINVAL);
    }
    if flags & CSIGNAL != 0 || set_tid_size != 0 {
        return Err(Errno::EINVAL);
    }
    // A stack is given as its lowest address and size: both or neither.
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    let top = stack.checked_add(stack_size).ok_or(Errno::EINVAL)?;
    let req = CloneRequest {
        flags,
        exit_signal: exit_signal as u32,
        stack: top,
        parent_tid,
        child_tid,
        tls,
    };
    do_clone(frame, &req)
}

/// execve(const char *filename, const char *const *argv, const char *const *envp).
pub fn execve(a: &Args, frame: &mut TrapFrame) -> KResult<isize> {
    let path = a.ptr(0).read_path()?;
    let argv = a.ptr(1).read_string_array()?;
    let envp = a.ptr(2).read_string_array()?;
    exec::execve(&path, argv, envp, frame)?;
    Ok(0)
}

/// exit(int error_code): ends the calling thread (the process when it is the last one).
pub fn exit(a: &Args) -> KResult<isize> {
    exit::exit_task(current(), exited_status(a.int(0)))
}

/// exit_group(int error_code): ends every thread of the process.
pub fn exit_group(a: &Args) -> KResult<isize> {
    exit::exit_group(current(), exited_status(a.int(0)))
}

/// set_tid_address(int *tidptr).
pub fn set_tid_address(a: &Args) -> KResult<isize> {
    let task = current();
    task.clear_child_tid
        .store(a.ptr(0).addr(), Ordering::Relaxed);
    Ok(task.tid as isize)
}

/// wait4(pid_t upid, int *stat_addr, int options, struct rusage *ru). WNOWAIT is waitid's
/// alone: wait4 refuses it (EINVAL), as Linux's `kernel_wait4`.
pub fn wait4(a: &Args) -> KResult<isize> {
    let (pid, status_ptr, options) = (a.pid(0), a.ptr(1), a.uint(2));
    const KNOWN: u32 = WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE;
    if options & !KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    // -INT_MIN has no pid_t: ESRCH, as Linux's kernel_wait4 (and kill).
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    let task = current();
    let which = match pid {
        -1 => WaitFor::Any,
        0 => WaitFor::Group(task.process.pgid.load(Ordering::Relaxed)),
        p if p < -1 => WaitFor::Group(p.unsigned_abs()),
        p => WaitFor::Pid(p as u32),
    };
    match exit::wait_child(&task, which, options)? {
        Some((pid, status)) => {
            if let Some(status_ptr) = status_ptr.nonnull() {
                status_ptr.write_u32(status as u32)?;
            }
            if let Some(ru) = a.ptr(3).nonnull() {
                ru.write_bytes(&[0u8; 144])?;
            }
            Ok(pid as isize)
        }
        None => Ok(0),
    }
}

/// waitid(int which, pid_t upid, struct siginfo *infop, int options, struct rusage *ru),
/// checked as Linux's `kernel_waitid`: unknown options are EINVAL, so is a pid below 1 for
/// P_PID and below 0 for P_PGID, where 0 is the caller's own group. Only exits are waited
/// for here: without WEXITED the call is EINVAL (Linux would wait for stops or continues).
pub fn waitid(a: &Args) -> KResult<isize> {
    let (idtype, id, infop, options) = (a.int(0) as u32, a.pid(1), a.ptr(2), a.uint(3));
    const KNOWN: u32 =
        WNOHANG | WNOWAIT | WEXITED | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL;
    if options & !KNOWN != 0 || options & WEXITED == 0 {
        return Err(Errno::EINVAL);
    }
    let task = current();
    let which = match idtype {
        P_ALL => WaitFor::Any,
        P_PID if id > 0 => WaitFor::Pid(id as u32),
        P_PGID if id > 0 => WaitFor::Group(id as u32),
        P_PGID if id == 0 => WaitFor::Group(task.process.pgid.load(Ordering::Relaxed)),
        _ => return Err(Errno::EINVAL),
    };
    let reaped = exit::wait_child(&task, which, options & (WNOHANG | __WALL | __WCLONE))?;
    if let Some(infop) = infop.nonnull() {
        let info = match reaped {
            Some((pid, status)) => signal::SigInfo::of_child(pid, status).to_bytes(signal::SIGCHLD),
            None => [0u8; signal::SIGINFO_SIZE],
        };
        infop.write_bytes(&info)?;
    }
    Ok(0)
}

/// The process a `pid_t` names (0: the caller's; no process has a negative id).
fn target(pid: i32) -> KResult<Arc<Task>> {
    match pid {
        0 => Ok(current()),
        p if p > 0 => task::find_process(p as u32).ok_or(Errno::ESRCH),
        _ => Err(Errno::ESRCH),
    }
}

/// setpgid(pid_t pid, pid_t pgid): moves the caller or one of its children that has not
/// run execve yet into process group `pgid` of the caller's session, with Linux's checks
/// in its order (`kernel/sys.c`): EINVAL for a negative group or a thread that is not its
/// process's leader, ESRCH for an unknown id or a process that is neither the caller nor
/// its child, EPERM for a child in another session, EACCES for a child past execve, EPERM
/// for a session leader and for a group that does not exist in the caller's session.
pub fn setpgid(a: &Args) -> KResult<isize> {
    let caller = current();
    let pid = match a.pid(0) {
        0 => caller.tgid(),
        pid => pid as u32,
    };
    let pgid = match a.pid(1) {
        0 => pid as i32,
        pgid => pgid,
    };
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let pgid = pgid as u32;
    let target = task::find(pid).ok_or(Errno::ESRCH)?;
    if !target.is_leader() {
        return Err(Errno::EINVAL);
    }
    let session = caller.process.sid.load(Ordering::Relaxed);
    let process = &target.process;
    if process.tgid != caller.tgid() {
        if target.ppid() != caller.tgid() {
            return Err(Errno::ESRCH);
        }
        if process.sid.load(Ordering::Relaxed) != session {
            return Err(Errno::EPERM);
        }
        if process.did_exec.load(Ordering::Relaxed) {
            return Err(Errno::EACCES);
        }
    }
    if process.sid.load(Ordering::Relaxed) == process.tgid {
        return Err(Errno::EPERM);
    }
    if pgid != pid
        && !task::all_processes().iter().any(|t| {
            t.process.pgid.load(Ordering::Relaxed) == pgid
                && t.process.sid.load(Ordering::Relaxed) == session
        })
    {
        return Err(Errno::EPERM);
    }
    process.pgid.store(pgid, Ordering::Relaxed);
    Ok(0)
}

/// getpgid(pid_t pid).
pub fn getpgid(a: &Args) -> KResult<isize> {
    Ok(target(a.pid(0))?.process.pgid.load(Ordering::Relaxed) as isize)
}

pub fn getpgrp() -> KResult<isize> {
    Ok(current().process.pgid.load(Ordering::Relaxed) as isize)
}

/// getsid(pid_t pid).
pub fn getsid(a: &Args) -> KResult<isize> {
    Ok(target(a.pid(0))?.process.sid.load(Ordering::Relaxed) as isize)
}

pub fn setsid() -> KResult<isize> {
    let task = current();
    let (process, pid) = (&task.process, task.tgid());
    // Linux: EPERM for a session leader, and whenever a process group with the caller's
    // id exists (its own, or one it left that still has members).
    if task::all_processes()
        .iter()
        .any(|t| t.process.pgid.load(Ordering::Relaxed) == pid)
    {
        return Err(Errno::EPERM);
    }
    process.sid.store(pid, Ordering::Relaxed);
    process.pgid.store(pid, Ordering::Relaxed);
    Ok(pid as isize)
}
