//! futex, set_robust_list, get_robust_list: argument decoding around `process::futex`.
//!
//! `futex(uaddr, op, val, timeout, uaddr2, val3)` as Linux's prototype types it: `op` is an
//! `int`, `val` and `val3` are `u32`, and the timeout argument is also `val2` (a `u32`: the
//! requeue count of the requeue operations, the second wake count of FUTEX_WAKE_OP) for the
//! operations that take no timeout. The counts are `int`s: a negative requeue count is
//! EINVAL, a wake count below 1 still wakes one.

use tessera_abi::futex::{
    FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK, FUTEX_CMP_REQUEUE,
    FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE,
    FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI,
    FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP, ROBUST_LIST_HEAD_SIZE,
};
use tessera_abi::{Errno, KResult};
use tessera_platform::clock;

use super::args::{Args, Decode, UserPtr};
use crate::process::futex::{self, WaitRestart};
use crate::process::{current, signal::Restart, task};

/// Whether `cmd` reads its fourth argument as a timeout (Linux's `futex_cmd_has_timeout`).
fn has_timeout(cmd: u32) -> bool {
    matches!(
        cmd,
        FUTEX_WAIT | FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI
    )
}

pub fn futex(a: &Args) -> KResult<isize> {
    // `op` is an `int`, taken apart as bits.
    let (uaddr, op, val, uaddr2, val3) = (
        a.ptr(0).addr(),
        a.int(1) as u32,
        a.uint(2),
        a.ptr(4).addr(),
        a.uint(5),
    );
    let cmd = op & FUTEX_CMD_MASK;
    // The timeout is read and checked before anything else, even the operation's flags.
    let time = if has_timeout(cmd) {
        a.ptr(3).nonnull().map(UserPtr::read_timespec).transpose()?
    } else {
        None
    };
    let shared = op & FUTEX_PRIVATE_FLAG == 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    if realtime
        && !matches!(
            cmd,
            FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2
        )
    {
        return Err(Errno::ENOSYS);
    }
    // An absolute deadline on the monotonic clock, which the scheduler sleeps on.
    let absolute = |realtime: bool| {
        time.map(|ns| {
            if realtime {
                crate::time::realtime_to_monotonic(ns)
            } else {
                ns
            }
        })
    };
    // Without a timeout, the fourth argument is `val2`, a `u32`.
    let val2 = a.uint(3);
    match cmd {
        // Relative, on the monotonic clock.
        FUTEX_WAIT => wait(
            WaitRestart {
                uaddr,
                shared,
                val,
                bitset: FUTEX_BITSET_MATCH_ANY,
            },
            time.map(|ns| clock::now_ns().saturating_add(ns)),
        ),
        FUTEX_WAIT_BITSET => wait(
            WaitRestart {
                uaddr,
                shared,
                val,
                bitset: val3,
            },
            absolute(realtime),
        ),
        FUTEX_WAKE => futex::wake(uaddr, shared, val as i32, FUTEX_BITSET_MATCH_ANY),
        FUTEX_WAKE_BITSET => futex::wake(uaddr, shared, val as i32, val3),
        FUTEX_REQUEUE => futex::requeue(uaddr, shared, uaddr2, val as i32, val2 as i32, None),
        FUTEX_CMP_REQUEUE => {
            futex::requeue(uaddr, shared, uaddr2, val as i32, val2 as i32, Some(val3))
        }
        FUTEX_WAKE_OP => futex::wake_op(uaddr, shared, uaddr2, val as i32, val2 as i32, val3),
        // FUTEX_LOCK_PI's timeout is always on the realtime clock.
        FUTEX_LOCK_PI => futex::lock_pi(uaddr, shared, absolute(true), false),
        FUTEX_LOCK_PI2 => futex::lock_pi(uaddr, shared, absolute(realtime), false),
        FUTEX_TRYLOCK_PI => futex::lock_pi(uaddr, shared, None, true),
        FUTEX_UNLOCK_PI => futex::unlock_pi(uaddr, shared),
        // Requeueing onto PI futexes (no longer used by glibc's condition variables) is not
        // implemented; FUTEX_FD is gone from Linux too.
        FUTEX_WAIT_REQUEUE_PI | FUTEX_CMP_REQUEUE_PI => Err(Errno::ENOSYS),
        _ => Err(Errno::ENOSYS),
    }
}

/// A wait; interrupted by a signal, a timed one keeps its restart block (the deadline in
/// `restart_sleep`, the rest in the task's futex state): when no handler runs, it goes on
/// through `restart_syscall` until the same deadline, and a handler sees EINTR (Linux's
/// ERESTART_RESTARTBLOCK). An untimed one is restarted as a whole ([`restart`]).
fn wait(args: WaitRestart, deadline: Option<u64>) -> KResult<isize> {
    let result = futex::wait(args.uaddr, args.shared, args.val, deadline, args.bitset);
    if result == Err(Errno::EINTR)
        && let Some(deadline) = deadline
    {
        let task = current();
        futex::save_restart(&task, args);
        // Never 0, which means "no restart block": a deadline at 0 has passed anyway.
        *task.restart_sleep.lock() = (deadline.max(1), 0);
    }
    result
}

/// `restart_syscall` of an interrupted timed wait: the same wait until the same deadline.
pub fn wait_restart(args: WaitRestart, deadline: u64) -> KResult<isize> {
    wait(args, Some(deadline))
}

/// How a futex call that returned EINTR goes on when it has no restart block (the timed
/// waits have one): an untimed wait runs again if no handler runs or the handler has
/// SA_RESTART (Linux's ERESTARTSYS); a PI lock wait runs again after any handler (Linux's
/// ERESTARTNOINTR). `op` is the call's second argument, as its register holds it.
pub fn restart(op: u64) -> Restart {
    match op as u32 & FUTEX_CMD_MASK {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => Restart::Syscall,
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 => Restart::Always,
        _ => Restart::No,
    }
}

/// set_robust_list(struct robust_list_head *head, size_t len): `len` must be the size of
/// `struct robust_list_head`.
pub fn set_robust_list(a: &Args) -> KResult<isize> {
    if a.size(1) as u64 != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    futex::set_robust_list(&current(), a.ptr(0).addr());
    Ok(0)
}

/// get_robust_list(pid, head_ptr, len_ptr): the head of `pid` (an `int`; 0 for the caller),
/// ESRCH if there is no such task. The length is stored first, as Linux does.
pub fn get_robust_list(a: &Args) -> KResult<isize> {
    let task = match a.int(0) {
        0 => current(),
        p if p > 0 => task::find(p as u32).ok_or(Errno::ESRCH)?,
        _ => return Err(Errno::ESRCH),
    };
    let head = futex::robust_list(&task);
    a.ptr(2).write_u64(ROBUST_LIST_HEAD_SIZE)?;
    a.ptr(1).write_u64(head)?;
    Ok(0)
}
