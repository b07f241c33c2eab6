//! What every kernel has of signals, with handlers (`signal.rs`) or without them
//! (`no_signal.rs`, `[subsystems] signals = false`): the siginfo record, the default actions,
//! the job-control side effects of sending, ending a whole process, and what a return to user
//! mode does when no handler runs. Both modules re-export it, so the rest of the kernel names
//! all of it `process::signal`.
//!
//! The code here works on the signal state types of whichever of the two is compiled
//! (`Pending` of a process, `SignalState` of a thread) through what both give them: a
//! `pending` set with `post` and `discard`.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use tessera_abi::process::{WCOREFLAG, exit_code, term_sig};
use tessera_abi::signal::*;
use tessera_platform::trap::TrapFrame;

use super::task::{Process, Task};

/// Who sent a signal and why: what a SA_SIGINFO handler finds in its `siginfo_t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigInfo {
    pub code: i32,
    pub pid: u32,
    pub uid: u32,
    /// SIGCHLD: the exit status or the signal.
    pub status: i32,
    /// Fault signals: the faulting address.
    pub addr: u64,
}

impl SigInfo {
    /// From kill/tkill by `pid`.
    pub fn user(code: i32, pid: u32) -> Self {
        SigInfo {
            code,
            pid,
            ..SigInfo::default()
        }
    }

    /// From the kernel itself (SIGPIPE, terminal signals).
    pub fn kernel() -> Self {
        SigInfo {
            code: SI_KERNEL,
            ..SigInfo::default()
        }
    }

    /// SIGCHLD's (and waitid's) for child `pid` that ended with wait status `status`.
    pub fn of_child(pid: u32, status: i32) -> Self {
        let (code, status) = match term_sig(status) {
            0 => (CLD_EXITED, exit_code(status)),
            sig if status & WCOREFLAG != 0 => (CLD_DUMPED, sig),
            sig => (CLD_KILLED, sig),
        };
        SigInfo {
            code,
            pid,
            status,
            ..SigInfo::default()
        }
    }

    /// Whether the fields are a fault's (the address) rather than a sender's.
    pub fn is_fault(self, sig: u32) -> bool {
        matches!(sig, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) && self.code > 0
    }

    /// The `siginfo_t`.
    pub fn to_bytes(self, sig: u32) -> [u8; SIGINFO_SIZE] {
        let mut b = [0u8; SIGINFO_SIZE];
        b[0..4].copy_from_slice(&(sig as i32).to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        if self.is_fault(sig) {
            b[16..24].copy_from_slice(&self.addr.to_le_bytes());
        } else {
            b[16..20].copy_from_slice(&self.pid.to_le_bytes());
            b[20..24].copy_from_slice(&self.uid.to_le_bytes());
            b[24..28].copy_from_slice(&self.status.to_le_bytes());
        }
        b
    }
}

/// The bit of `sig` (1..=64) in a signal set.
pub const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// What a signal does when its action is SIG_DFL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum DefaultAction {
    Terminate,
    CoreDump,
    Ignore,
    Stop,
}

pub(super) fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH | SIGCONT => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => DefaultAction::CoreDump,
        _ => DefaultAction::Terminate,
    }
}

/// Whether `sig`'s default action ends the process (terminate or core; SIGKILL always).
pub(super) fn fatal_by_default(sig: u32) -> bool {
    sig == SIGKILL
        || matches!(
            default_action(sig),
            DefaultAction::Terminate | DefaultAction::CoreDump
        )
}

/// What `/proc/PID/status` shows of a task's signals (`SigPnd`, `ShdPnd`, `SigBlk`, `SigIgn`,
/// `SigCgt`).
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub struct SigMasks {
    /// Sent to the thread.
    pub pending: u64,
    /// Sent to the process.
    pub shared: u64,
    pub blocked: u64,
    pub ignored: u64,
    /// With a handler.
    pub caught: u64,
}

/// Job control side effects of sending `sig` to a process (Linux's `prepare_signal`):
/// SIGCONT (and SIGKILL) continues a stopped process and cancels pending stops; a stop
/// cancels a pending SIGCONT.
pub(super) fn prepare(process: &Process, sig: u32) {
    let discard = |sigs: &[u32]| {
        for thread in process.live_threads() {
            let mut state = thread.signals.lock();
            for &s in sigs {
                state.pending.discard(s);
            }
        }
        let mut shared = process.shared_pending.lock();
        for &s in sigs {
            shared.discard(s);
        }
    };
    if sig == SIGCONT || sig == SIGKILL {
        discard(&[SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]);
        super::exit::continue_process(process);
    } else if matches!(sig, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU) {
        discard(&[SIGCONT]);
    }
}

/// Ends every thread of `process` but `except` (the caller of exit_group or execve): each
/// gets SIGKILL, which it takes on its way back to user mode. With `exit`, the process is
/// exiting as a whole with that wait status (exit_group, a fatal signal), which every
/// thread ends with.
pub fn kill_group(process: &Process, exit: Option<i32>, except: Option<&Arc<Task>>) {
    if let Some(status) = exit {
        process.exit_status.store(status, Ordering::Relaxed);
        process.group_exit.store(true, Ordering::Relaxed);
    }
    for thread in process.live_threads() {
        if except.is_some_and(|e| Arc::ptr_eq(e, &thread)) {
            continue;
        }
        thread
            .signals
            .lock()
            .pending
            .post(SIGKILL, SigInfo::kernel());
        if thread.state() == super::task::TaskState::Stopped {
            *thread.state.lock() = super::task::TaskState::Blocked;
        }
        wake_for_signal(&thread);
    }
}

/// A signal for `task` is pending: its return-to-user path looks, and a sleep ends.
pub(super) fn wake_for_signal(task: &Arc<Task>) {
    crate::process::sched::set_signal_hint(task, true);
    super::sched::wake(task);
}

/// How a system call a signal interrupted (EINTR) goes on if no handler runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// It returns EINTR.
    No,
    /// It runs again with its arguments (SA_RESTART for a handler).
    Syscall,
    /// It goes on from its restart block (`restart_syscall`); a handler sees EINTR.
    Block,
    /// It runs again with its arguments, after a handler too (Linux's ERESTARTNOINTR: a
    /// futex PI lock wait).
    Always,
}

/// Back to the `syscall` instruction (2 bytes), to run the interrupted call again with its
/// number (kept in `error_code` at entry) and its arguments.
pub(super) fn restart_syscall(frame: &mut TrapFrame) {
    frame.rax = frame.error_code;
    frame.rip -= 2;
}

/// A return to user mode where no handler runs: the call a signal interrupted goes on, as
/// `restart` says (again with its arguments, or from its restart block through
/// restart_syscall), or returns EINTR.
pub(super) fn restart_without_handler(frame: &mut TrapFrame, restart: Restart) {
    match restart {
        Restart::Syscall | Restart::Always => restart_syscall(frame),
        Restart::Block => {
            frame.rax = tessera_abi::sysno::restart_syscall;
            frame.rip -= 2;
        }
        Restart::No => {}
    }
}

/// Another thread took a stop signal: this one stops too, until SIGCONT. Whether it stopped.
pub(super) fn stop_if_group_stopped(task: &Arc<Task>) -> bool {
    let process = &task.process;
    let stops =
        process.group_stop.load(Ordering::Relaxed) && !process.group_exit.load(Ordering::Relaxed);
    if stops {
        super::exit::stop_current(task);
    }
    stops
}

/// The process is exiting, or another thread's execve is ending this one: the thread ends
/// (never returns), whatever it was sent. Else gives the task back.
pub(super) fn end_if_exiting(task: Arc<Task>) -> Arc<Task> {
    let exec_owner = task.process.exec_owner.load(Ordering::Relaxed);
    if task.process.group_exit.load(Ordering::Relaxed)
        || (exec_owner != 0 && exec_owner != task.tid)
    {
        super::exit::exit_task(task, 0);
    }
    task
}

/// Runs the default action of `sig` taken by `task`, the current task: a fatal one ends the
/// process (never returns); otherwise the task comes back, for the next signal. Init takes
/// no default action but a fault's and SIGKILL's (Linux's SIGNAL_UNKILLABLE, checked again at
/// delivery): what it blocked was kept at sending for sigwait and signalfd, and goes here.
pub(super) fn run_default(task: Arc<Task>, sig: u32) -> Arc<Task> {
    if task.tgid() == 1 && !matches!(sig, SIGKILL | SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) {
        return task;
    }
    match default_action(sig) {
        _ if sig == SIGKILL => super::exit::exit_group(task, sig as i32),
        DefaultAction::Ignore => task,
        DefaultAction::Stop => {
            super::exit::stop_process(&task, sig);
            task
        }
        // RLIMIT_CORE is 0: no core file is written, so no core flag (0x80), as Linux.
        DefaultAction::Terminate | DefaultAction::CoreDump => {
            super::exit::exit_group(task, sig as i32)
        }
    }
}
