//! The signal-handling system calls of a kernel without handlers (`[subsystems] signals =
//! false`, `process/no_signal.rs`): ENOSYS, as Linux answers a call its build left out. A
//! kernel that cannot run a handler does not take one it would never call: the program learns
//! at once, as it would from a kernel built without the call. Sending (`kill.rs`) works: each
//! signal does its default action.

use tessera_abi::{Errno, KResult};
use tessera_platform::trap::TrapFrame;

use super::args::{Args, UserPtr};

enosys!(
    rt_sigaction,
    rt_sigprocmask,
    rt_sigpending,
    rt_sigsuspend,
    rt_sigtimedwait,
    signalfd,
    signalfd4,
);

/// rt_sigreturn: no handler ever ran.
pub fn rt_sigreturn(_frame: &mut TrapFrame) -> KResult<isize> {
    Err(Errno::ENOSYS)
}

/// sigaltstack: no handler runs on it.
pub fn sigaltstack(_a: &Args, _frame: &TrapFrame) -> KResult<isize> {
    Err(Errno::ENOSYS)
}

/// The wait of ppoll, pselect6 and epoll_pwait: without a mask as it is; a mask, which this
/// kernel cannot hold, is ENOSYS.
pub fn with_wait_mask(
    mask_addr: UserPtr,
    _size: usize,
    wait: impl FnOnce() -> KResult<isize>,
) -> KResult<isize> {
    if mask_addr.is_null() {
        wait()
    } else {
        Err(Errno::ENOSYS)
    }
}
