//! Time syscalls: argument decoding around the clocks of [`crate::time`], sleeps and
//! interval timers.

use tessera_abi::time::{CLOCK_REALTIME, ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL, TIMER_ABSTIME};
use tessera_abi::{Errno, KResult};
use tessera_platform::clock;

use super::args::{Args, Decode, UserPtr, timespec_bytes, timeval_bytes, timeval_ns};
use crate::process::{current, sched};
use crate::time::{self, now};

/// A `clockid_t` (an `int`) for [`now`]: a negative one (Linux's CPU clocks of other
/// processes and threads, not here) is no clock.
fn clock_id(a: &Args, i: usize) -> u64 {
    u64::try_from(a.int(i)).unwrap_or(u64::MAX)
}

/// clock_gettime(clockid_t which_clock, struct __kernel_timespec *tp).
pub fn clock_gettime(a: &Args) -> KResult<isize> {
    let ns = now(clock_id(a, 0))?;
    a.ptr(1).write_bytes(&timespec_bytes(ns))?;
    Ok(0)
}

/// clock_getres(clockid_t which_clock, struct __kernel_timespec *tp).
pub fn clock_getres(a: &Args) -> KResult<isize> {
    now(clock_id(a, 0))?;
    if let Some(tp) = a.ptr(1).nonnull() {
        tp.write_bytes(&timespec_bytes(1))?;
    }
    Ok(0)
}

/// gettimeofday(struct __kernel_old_timeval *tv, struct timezone *tz).
pub fn gettimeofday(a: &Args) -> KResult<isize> {
    if let Some(tv) = a.ptr(0).nonnull() {
        tv.write_bytes(&timeval_bytes(now(CLOCK_REALTIME)?))?;
    }
    if let Some(tz) = a.ptr(1).nonnull() {
        // The kernel's time zone (Linux's `sys_tz`): never set here, so zeros.
        tz.write_bytes(&[0u8; 8])?;
    }
    Ok(0)
}

/// getcpu(unsigned *cpu, unsigned *node, struct getcpu_cache *cache): one CPU and one
/// node, both 0; the cache argument is unused, as on Linux since 2.6.24.
pub fn getcpu(a: &Args) -> KResult<isize> {
    for addr in [a.ptr(0), a.ptr(1)] {
        if let Some(addr) = addr.nonnull() {
            addr.write_u32(0)?;
        }
    }
    Ok(0)
}

/// time(__kernel_old_time_t *tloc).
pub fn time(a: &Args) -> KResult<isize> {
    let secs = now(CLOCK_REALTIME)? / 1_000_000_000;
    if let Some(tloc) = a.ptr(0).nonnull() {
        tloc.write_u64(secs)?;
    }
    Ok(secs as isize)
}

fn sleep(duration_ns: u64, remaining: UserPtr) -> KResult<isize> {
    sleep_to(time::deadline_in(duration_ns), remaining)
}

/// Sleeps until `deadline` (clock ns). Interrupted by a signal: the time left goes to
/// `remaining` (unless 0), and the restart block keeps the deadline, so that when no handler
/// runs (a stop and continue, an ignored signal) the sleep goes on where it was
/// (`restart_syscall`), and a handler sees EINTR.
fn sleep_to(deadline: u64, remaining: UserPtr) -> KResult<isize> {
    match sched::sleep_until(deadline) {
        Ok(()) => Ok(0),
        Err(e) => {
            if let Some(remaining) = remaining.nonnull() {
                remaining.write_bytes(&timespec_bytes(deadline.saturating_sub(clock::now_ns())))?;
            }
            *current().restart_sleep.lock() = (deadline, remaining.addr());
            Err(e)
        }
    }
}

/// restart_syscall: the rest of an interrupted sleep or timed futex wait (its restart
/// block); EINTR without one, as Linux's `do_no_restart_syscall`.
pub fn restart_syscall() -> KResult<isize> {
    let task = current();
    let (deadline, remaining) = core::mem::take(&mut *task.restart_sleep.lock());
    let futex_wait = crate::process::futex::take_restart(&task);
    if deadline == 0 {
        return Err(Errno::EINTR);
    }
    if let Some(wait) = futex_wait {
        return super::futex::wait_restart(wait, deadline);
    }
    sleep_to(deadline, UserPtr::new(remaining))
}

/// nanosleep(struct __kernel_timespec *rqtp, struct __kernel_timespec *rmtp).
pub fn nanosleep(a: &Args) -> KResult<isize> {
    sleep(a.ptr(0).read_timespec()?, a.ptr(1))
}

/// clock_nanosleep(clockid_t which_clock, int flags, const struct __kernel_timespec *rqtp,
/// struct __kernel_timespec *rmtp).
pub fn clock_nanosleep(a: &Args) -> KResult<isize> {
    let (flags, req, rem) = (a.uint(1), a.ptr(2), a.ptr(3));
    let start = now(clock_id(a, 0))?;
    let value = req.read_timespec()?;
    if flags & TIMER_ABSTIME != 0 {
        sleep(value.saturating_sub(start), UserPtr::new(0))
    } else {
        sleep(value, rem)
    }
}

pub fn sched_yield() -> KResult<isize> {
    sched::schedule();
    Ok(0)
}

/// alarm(unsigned int seconds): SIGALRM after that many seconds (0 cancels); returns the
/// seconds left of the old one.
pub fn alarm(a: &Args) -> KResult<isize> {
    let task = crate::process::current();
    let seconds = u64::from(a.uint(0));
    let deadline = if seconds == 0 {
        0
    } else {
        time::deadline_in(time::to_ns(seconds, 0))
    };
    let (left, _) = sched::set_real_timer(&task, deadline, 0);
    Ok(left.div_ceil(1_000_000_000) as isize)
}

fn itimerval(interval: u64, value: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&timeval_bytes(interval));
    b[16..].copy_from_slice(&timeval_bytes(value));
    b
}

/// An interval timer's `int which`: ITIMER_REAL, ITIMER_VIRTUAL or ITIMER_PROF, else EINVAL.
fn which_timer(a: &Args) -> KResult<u64> {
    match u64::try_from(a.int(0)) {
        Ok(which @ (ITIMER_REAL | ITIMER_VIRTUAL | ITIMER_PROF)) => Ok(which),
        _ => Err(Errno::EINVAL),
    }
}

/// setitimer(int which, struct __kernel_old_itimerval *value, struct __kernel_old_itimerval
/// *ovalue), in Linux's order: the new value read (EFAULT) and checked (EINVAL), then the
/// timer (EINVAL). ITIMER_REAL only (the virtual and profiling timers need CPU-time
/// accounting).
pub fn setitimer(a: &Args) -> KResult<isize> {
    let (interval, value) = match a.ptr(1).nonnull() {
        Some(new) => {
            let mut raw = [0u8; 32];
            new.read_into(&mut raw)?;
            (timeval_ns(&raw[..16])?, timeval_ns(&raw[16..])?)
        }
        None => (0, 0),
    };
    if which_timer(a)? != ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let task = crate::process::current();
    let deadline = if value == 0 {
        0
    } else {
        time::deadline_in(value)
    };
    let (left, old_interval) = sched::set_real_timer(&task, deadline, interval);
    if let Some(old) = a.ptr(2).nonnull() {
        old.write_bytes(&itimerval(old_interval, left))?;
    }
    Ok(0)
}

/// getitimer(int which, struct __kernel_old_itimerval *value).
pub fn getitimer(a: &Args) -> KResult<isize> {
    let which = which_timer(a)?;
    let task = crate::process::current();
    let (deadline, interval) = if which == ITIMER_REAL {
        *task.process.real_timer.lock()
    } else {
        (0, 0)
    };
    let left = if deadline == 0 {
        0
    } else {
        deadline.saturating_sub(clock::now_ns()).max(1)
    };
    a.ptr(1).write_bytes(&itimerval(interval, left))?;
    Ok(0)
}

/// clock_settime(clockid_t which_clock, const struct __kernel_timespec *tp): only
/// CLOCK_REALTIME can be set (EINVAL for the others, as Linux), and not past
/// [`time::SETTOD_SEC_MAX`] (EINVAL, as Linux's `timespec64_valid_settod`).
pub fn clock_settime(a: &Args) -> KResult<isize> {
    if now(clock_id(a, 0)).is_err() || clock_id(a, 0) != CLOCK_REALTIME {
        return Err(Errno::EINVAL);
    }
    let target = a.ptr(1).read_timespec()?;
    if target >= time::to_ns(time::SETTOD_SEC_MAX, 0) {
        return Err(Errno::EINVAL);
    }
    time::set_realtime_ns(target);
    Ok(0)
}
