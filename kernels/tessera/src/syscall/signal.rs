//! The signal-handling system calls (`[subsystems] signals = true`): actions, masks, the
//! alternate stack, the return from a handler, waits for signals (sigsuspend, sigtimedwait,
//! the masks of ppoll, pselect6 and epoll_pwait) and signalfd. Sending (kill, tkill,
//! tgkill) is in `kill.rs`, in every kernel; `no_signal.rs` stands in for this file in a
//! kernel without handlers.

use tessera_abi::{Errno, KResult};
use tessera_platform::trap::TrapFrame;

use super::args::{Args, Decode, UserPtr};
use crate::process::signal::{
    self as sig, NSIG, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSET_SIZE, SIGSTOP,
    SigAction,
};
use tessera_abi::events::{SFD_CLOEXEC, SFD_NONBLOCK};

use super::events::{file, install};
use crate::fs::signalfd::SignalFd;
use crate::process::{current, sched};

/// A signal number from an `int`: 1 to NSIG, else EINVAL.
fn valid(signal: i32) -> KResult<u32> {
    match u32::try_from(signal) {
        Ok(signal @ 1..=NSIG) => Ok(signal),
        _ => Err(Errno::EINVAL),
    }
}

/// rt_sigaction(int sig, const struct sigaction *act, struct sigaction *oact, size_t
/// sigsetsize), in Linux's order: the size (EINVAL), the new action read (EFAULT), then the
/// signal (EINVAL, also for a new action of SIGKILL or SIGSTOP), the old action written last.
pub fn rt_sigaction(a: &Args) -> KResult<isize> {
    let (new, old) = (a.ptr(1), a.ptr(2));
    if a.size(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let new = match new.nonnull() {
        Some(new) => {
            let mut b = [0u8; 32];
            new.read_into(&mut b)?;
            Some(SigAction::from_bytes(&b))
        }
        None => None,
    };
    let signal = valid(a.int(0))?;
    if new.is_some() && (signal == SIGKILL || signal == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let task = current();
    let previous = {
        let mut hand = task.sighand.lock();
        let previous = hand.action(signal);
        if let Some(action) = new {
            hand.actions[signal as usize - 1] = action;
        }
        previous
    };
    // Setting SIG_IGN discards a pending instance, for the process and its threads (POSIX).
    if new.is_some_and(|action| action.handler == sig::SIG_IGN) {
        for thread in task.process.live_threads() {
            thread.signals.lock().pending.discard(signal);
        }
        task.process.shared_pending.lock().discard(signal);
    }
    if let Some(old) = old.nonnull() {
        old.write_bytes(&previous.to_bytes())?;
    }
    Ok(0)
}

/// rt_sigprocmask(int how, sigset_t *nset, sigset_t *oset, size_t sigsetsize).
pub fn rt_sigprocmask(a: &Args) -> KResult<isize> {
    let (how, set, old) = (a.int(0) as u32, a.ptr(1), a.ptr(2));
    if a.size(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let task = current();
    let previous = task.signals.lock().blocked;
    if let Some(set) = set.nonnull() {
        let set = set.read_u64()? & !(sig::bit(SIGKILL) | sig::bit(SIGSTOP));
        let mut state = task.signals.lock();
        crate::process::sched::set_signal_hint(&task, true);
        state.blocked = match how {
            SIG_BLOCK => state.blocked | set,
            SIG_UNBLOCK => state.blocked & !set,
            SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        };
    }
    if let Some(old) = old.nonnull() {
        old.write_u64(previous)?;
    }
    Ok(0)
}

pub fn rt_sigreturn(frame: &mut TrapFrame) -> KResult<isize> {
    let task = current();
    if sig::sigreturn(&task, frame).is_err() {
        crate::process::exit::exit_task(task, sig::SIGSEGV as i32);
    }
    // rax is the restored register, not a result.
    Ok(frame.rax as isize)
}

/// rt_sigpending(sigset_t *uset, size_t sigsetsize): a size above a sigset's is EINVAL, and
/// as many bytes of the set as the size says are written (Linux's `kernel/signal.c`).
pub fn rt_sigpending(a: &Args) -> KResult<isize> {
    let size = a.size(1);
    if size > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let task = current();
    let pending = sig::pending(&task) & task.signals.lock().blocked;
    a.ptr(0).write_bytes(&pending.to_le_bytes()[..size])?;
    Ok(0)
}

/// rt_sigsuspend(sigset_t *unewset, size_t sigsetsize): waits with a temporary mask until a
/// signal is delivered; always EINTR.
pub fn rt_sigsuspend(a: &Args) -> KResult<isize> {
    if a.size(1) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask = a.ptr(0).read_u64()?;
    let task = current();
    {
        let mut state = task.signals.lock();
        crate::process::sched::set_signal_hint(&task, true);
        state.saved_mask = Some(state.blocked);
        state.blocked = mask & !(sig::bit(SIGKILL) | sig::bit(SIGSTOP));
    }
    let queue = sched::WaitQueue::new();
    let _ = queue.wait_until(true, || None::<()>);
    // Restored by the handler's frame (saved_mask); if no handler ran, restore here.
    let mut state = task.signals.lock();
    if !sig::has_deliverable_locked(&task, &state)
        && let Some(saved) = state.saved_mask.take()
    {
        state.blocked = saved;
    }
    Err(Errno::EINTR)
}

/// Runs `wait` with the signal mask at `mask_addr` (unless 0) in place of the thread's, as
/// ppoll, pselect6 and epoll_pwait take one (Linux's `set_user_sigmask`: EINVAL unless
/// `size` is a sigset's, EFAULT for a bad address). The old mask comes back when the call
/// returns, except when a signal interrupted it (EINTR): then it comes back after the
/// handler (the frame's saved mask) or, without one, on the way back to user mode.
pub fn with_wait_mask(
    mask_addr: UserPtr,
    size: usize,
    wait: impl FnOnce() -> KResult<isize>,
) -> KResult<isize> {
    if mask_addr.is_null() {
        return wait();
    }
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask = mask_addr.read_u64()?;
    let task = current();
    {
        let mut state = task.signals.lock();
        state.saved_mask = Some(state.blocked);
        state.blocked = mask & !(sig::bit(SIGKILL) | sig::bit(SIGSTOP));
        sched::set_signal_hint(&task, true);
    }
    let result = wait();
    if result != Err(Errno::EINTR) {
        let mut state = task.signals.lock();
        if let Some(saved) = state.saved_mask.take() {
            state.blocked = saved;
        }
    }
    result
}

/// sigaltstack(const stack_t *ss, stack_t *old_ss): the thread's alternate signal stack.
/// Changing it while running on it is EPERM, as Linux's `do_sigaltstack`.
pub fn sigaltstack(a: &Args, frame: &TrapFrame) -> KResult<isize> {
    let (new, old) = (a.ptr(0), a.ptr(1));
    let task = current();
    let current_stack = task.signals.lock().altstack;
    if let Some(new) = new.nonnull() {
        let mut b = [0u8; sig::STACK_T_SIZE];
        new.read_into(&mut b)?;
        let stack = sig::AltStack::from_bytes(&b)?;
        if current_stack.on(frame.rsp) {
            return Err(Errno::EPERM);
        }
        task.signals.lock().altstack = stack;
    }
    if let Some(old) = old.nonnull() {
        old.write_bytes(&current_stack.to_bytes(frame.rsp))?;
    }
    Ok(0)
}

/// rt_sigtimedwait(const sigset_t *uthese, siginfo_t *uinfo, const struct __kernel_timespec
/// *uts, size_t sigsetsize): takes a pending signal of `set` (normally blocked) without
/// running its handler; EAGAIN at the timeout, EINTR if another signal is delivered
/// meanwhile.
pub fn rt_sigtimedwait(a: &Args) -> KResult<isize> {
    if a.size(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set = a.ptr(0).read_u64()? & !(sig::bit(SIGKILL) | sig::bit(SIGSTOP));
    let deadline = a
        .ptr(2)
        .nonnull()
        .map(UserPtr::read_timespec)
        .transpose()?
        .map(crate::time::deadline_in);
    let task = current();
    // Every signal posted to the process wakes its signalfd queue. A deadline already
    // reached (a zero timeout) only looks: Linux does not sleep then, even for a pending
    // signal of another set.
    let taken = if deadline.is_some_and(|d| d <= tessera_platform::clock::now_ns()) {
        sig::take_in(&task, set)
    } else {
        task.process
            .signalfd_wait
            .wait_until_deadline(true, deadline, || sig::take_in(&task, set))?
    };
    let (signal, info) = taken.ok_or(Errno::EAGAIN)?;
    if let Some(uinfo) = a.ptr(1).nonnull() {
        uinfo.write_bytes(&info.to_bytes(signal))?;
    }
    Ok(signal as isize)
}

/// signalfd(int fd, const sigset_t *mask, size_t sizemask).
pub fn signalfd(a: &Args) -> KResult<isize> {
    signalfd_with(a.fd(0), a.ptr(1), a.size(2), 0)
}

/// signalfd4(int fd, const sigset_t *mask, size_t sizemask, int flags): flags (EINVAL),
/// the size (EINVAL unless 8), the mask (EFAULT), then a new signalfd for fd -1, or a new
/// mask for an existing one (EBADF, EINVAL if not a signalfd).
pub fn signalfd4(a: &Args) -> KResult<isize> {
    signalfd_with(a.fd(0), a.ptr(1), a.size(2), a.uint(3))
}

fn signalfd_with(fd: i32, mask_addr: UserPtr, size: usize, flags: u32) -> KResult<isize> {
    if flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 || size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask = mask_addr.read_u64()?;
    if fd == -1 {
        return install(
            crate::fs::signalfd::new_signalfd(mask, flags),
            flags & SFD_CLOEXEC != 0,
        );
    }
    let file = file(fd)?;
    SignalFd::of(&file).ok_or(Errno::EINVAL)?.set_mask(mask);
    Ok(fd as isize)
}
