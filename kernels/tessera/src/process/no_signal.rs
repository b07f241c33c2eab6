//! Signals without handlers (`[subsystems] signals = false`): every signal does its default
//! action (terminate, stop, continue, ignore), so there are no actions to keep, no masks, no
//! alternate stacks, no signal frames and no siginfo queues. The calls that install or wait
//! for handlers (rt_sigaction, rt_sigprocmask, rt_sigreturn, sigaltstack, signalfd...) are
//! ENOSYS (`syscall/no_signal.rs`): a program that needs them fails at once instead of
//! running without what it asked for. The API is `signal.rs`'s; what both share is in
//! `sigcommon.rs`.
//!
//! What can be pending is little: a stop signal not yet taken (sent to the process, or to a
//! thread with tkill), SIGKILL (a group exit), a fault. Terminating signals end the process
//! at sending, as `signal.rs` does for a fatal signal nobody blocks.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use tessera_platform::trap::TrapFrame;

use super::task::Task;

pub use super::sigcommon::*;
pub use tessera_abi::signal::*;

/// Pending signals: a bit each (no handler reads a siginfo).
#[derive(Clone, Default)]
pub struct Pending {
    bits: u64,
}

impl Pending {
    /// Makes `sig` pending.
    pub fn post(&mut self, sig: u32, _info: SigInfo) {
        self.bits |= bit(sig);
    }

    /// Drops pending `sig`.
    pub fn discard(&mut self, sig: u32) {
        self.bits &= !bit(sig);
    }

    /// Takes the lowest pending signal.
    fn take(&mut self) -> Option<u32> {
        let sig = (self.bits != 0).then(|| self.bits.trailing_zeros() + 1)?;
        self.discard(sig);
        Some(sig)
    }
}

/// The signal actions: every one is the default, so there is nothing to keep (a struct with
/// braces: the task code makes it with `SigHand::default()`, as `signal.rs`'s).
#[derive(Clone, Default)]
pub struct SigHand {}

impl SigHand {
    /// What exec and CLONE_CLEAR_SIGHAND do to handlers: there are none.
    pub fn clear_handlers(&mut self) {}
}

/// A thread's signal state: the signals sent to it.
#[derive(Clone, Default)]
pub struct SignalState {
    pub pending: Pending,
}

impl SignalState {
    /// A fresh state (there is no mask to keep).
    pub fn with_mask_of(_other: &SignalState) -> SignalState {
        SignalState::default()
    }
}

/// Sends `sig` from the kernel to `task`'s process.
pub fn send(task: &Arc<Task>, sig: u32) {
    send_info(task, sig, SigInfo::kernel());
}

/// Whether `sig` does nothing when it arrives: ignored by default, or sent to init, which
/// takes no default action but a fault's (as `signal.rs` drops init's signals without a
/// handler).
fn dropped(task: &Task, sig: u32) -> bool {
    default_action(sig) == DefaultAction::Ignore || task.tgid() == 1
}

/// What sending `sig` does before it is pending (0 only checks that the target exists):
/// the job-control side effects, then a terminating signal ends the process at once.
/// Whether `sig` is still to be posted (a stop).
fn arrives(task: &Task, sig: u32) -> bool {
    if sig == 0 || sig > NSIG {
        return false;
    }
    prepare(&task.process, sig);
    if dropped(task, sig) {
        return false;
    }
    if fatal_by_default(sig) {
        if !task.process.group_exit.load(Ordering::Relaxed) {
            kill_group(&task.process, Some(sig as i32), None);
        }
        return false;
    }
    true
}

/// Sends `sig` to `task`'s process: a stop is taken by the running thread if it is one of
/// the process's, else by the first.
pub fn send_info(task: &Arc<Task>, sig: u32, info: SigInfo) {
    if !arrives(task, sig) {
        return;
    }
    let process = &task.process;
    process.shared_pending.lock().post(sig, info);
    let threads = process.live_threads();
    let me = super::sched::current_tid();
    if let Some(target) = threads.iter().find(|t| t.tid == me).or(threads.first()) {
        wake_for_signal(target);
    }
}

/// Sends `sig` to one thread (tkill, tgkill, SIGPIPE).
pub fn send_thread(task: &Arc<Task>, sig: u32, info: SigInfo) {
    if arrives(task, sig) {
        task.signals.lock().pending.post(sig, info);
        wake_for_signal(task);
    }
}

/// SIGPIPE for a write to a pipe or socket nobody reads: to the writing thread, as Linux.
pub fn sigpipe() {
    send_thread(&super::current(), SIGPIPE, SigInfo::kernel());
}

/// A synchronous fault signal for `task`, the current task: it kills the process.
pub fn force(task: &Arc<Task>, sig: u32, info: SigInfo) {
    task.signals.lock().pending.post(sig, info);
    super::sched::set_signal_hint(task, true);
}

/// Nothing to inherit at clone: no mask, no alternate stack.
pub fn inherit(_parent: &Task, _child: &Task, _keeps_altstack: bool) {}

/// Nothing for execve to reset.
pub fn reset_on_exec(_task: &Task) {}

/// SA_NOCLDSTOP needs rt_sigaction: never set.
pub fn nocldstop(_parent: &Task) -> bool {
    false
}

/// A task's signal sets for `/proc/PID/status`: pending ones only.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn masks(task: &Task) -> SigMasks {
    SigMasks {
        pending: task.signals.lock().pending.bits,
        shared: task.process.shared_pending.lock().bits,
        blocked: 0,
        ignored: 0,
        caught: 0,
    }
}

/// Whether `task` is being killed (SIGKILL pending; see `signal.rs`).
pub fn fatal_pending(task: &Task) -> bool {
    task.signals.lock().pending.bits & bit(SIGKILL) != 0
}

/// Whether `task` has a signal that would interrupt a blocking syscall: any pending one
/// (nothing is blocked).
pub fn has_deliverable(task: &Task) -> bool {
    task.signals.lock().pending.bits != 0 || task.process.shared_pending.lock().bits != 0
}

/// Called before returning to user mode: runs the default action of each pending signal,
/// the thread's first, then the process's; the interrupted call goes on as `restart` says.
pub fn deliver(task: Arc<Task>, frame: &mut TrapFrame, restart: Restart) {
    let mut task = task;
    loop {
        if stop_if_group_stopped(&task) {
            continue;
        }
        let taken = {
            let mut state = task.signals.lock();
            let taken = state
                .pending
                .take()
                .or_else(|| task.process.shared_pending.lock().take());
            if taken.is_none() {
                // Nothing pending: nothing to look at until a send sets the hint again.
                super::sched::set_signal_hint(&task, false);
            }
            taken
        };
        let Some(sig) = taken else {
            restart_without_handler(frame, restart);
            return;
        };
        task = run_default(end_if_exiting(task), sig);
    }
}
