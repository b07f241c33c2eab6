//! Time syscalls: argument decoding around the clocks of [`crate::time`], sleeps and
//! interval timers.

use tessera_abi::time::{CLOCK_REALTIME, ITIMER_PROF, ITIMER_REAL, TIMER_ABSTIME};
use tessera_abi::{Errno, KResult};
use tessera_platform::clock;

use super::Args;
use crate::process::{current, sched};
use crate::time::{self, now};
use crate::user;

fn timespec(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    b[8..].copy_from_slice(&(ns % 1_000_000_000).to_le_bytes());
    b
}

/// A user timespec in ns; EINVAL for nsec out of range or negative seconds.
pub(super) fn read_timespec(addr: u64) -> KResult<u64> {
    let mut b = [0u8; 16];
    user::read_into(addr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().expect("8"));
    let nsec = i64::from_le_bytes(b[8..].try_into().expect("8"));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(time::to_ns(sec as u64, nsec as u64))
}

pub fn clock_gettime(a: &Args) -> KResult<isize> {
    let ns = now(a[0])?;
    user::write_bytes(a[1], &timespec(ns))?;
    Ok(0)
}

pub fn clock_getres(a: &Args) -> KResult<isize> {
    now(a[0])?;
    if a[1] != 0 {
        user::write_bytes(a[1], &timespec(1))?;
    }
    Ok(0)
}

pub fn gettimeofday(a: &Args) -> KResult<isize> {
    if a[0] != 0 {
        let ns = now(CLOCK_REALTIME)?;
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
        b[8..].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
        user::write_bytes(a[0], &b)?;
    }
    if a[1] != 0 {
        // The kernel's time zone (Linux's `sys_tz`): never set here, so zeros.
        user::write_bytes(a[1], &[0u8; 8])?;
    }
    Ok(0)
}

/// getcpu(cpu, node, cache): one CPU and one node, both 0; the cache argument is unused, as
/// on Linux since 2.6.24.
pub fn getcpu(a: &Args) -> KResult<isize> {
    for addr in [a[0], a[1]] {
        if addr != 0 {
            user::write_bytes(addr, &0u32.to_le_bytes())?;
        }
    }
    Ok(0)
}

pub fn time(a: &Args) -> KResult<isize> {
    let secs = now(CLOCK_REALTIME)? / 1_000_000_000;
    if a[0] != 0 {
        user::write_u64(a[0], secs)?;
    }
    Ok(secs as isize)
}

fn sleep(duration_ns: u64, remaining: u64) -> KResult<isize> {
    sleep_to(time::deadline_in(duration_ns), remaining)
}

/// Sleeps until `deadline` (clock ns). Interrupted by a signal: the time left goes to
/// `remaining` (unless 0), and the restart block keeps the deadline, so that when no handler
/// runs (a stop and continue, an ignored signal) the sleep goes on where it was
/// (`restart_syscall`), and a handler sees EINTR.
fn sleep_to(deadline: u64, remaining: u64) -> KResult<isize> {
    match sched::sleep_until(deadline) {
        Ok(()) => Ok(0),
        Err(e) => {
            if remaining != 0 {
                user::write_bytes(
                    remaining,
                    &timespec(deadline.saturating_sub(clock::now_ns())),
                )?;
            }
            *current().restart_sleep.lock() = (deadline, remaining);
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
    sleep_to(deadline, remaining)
}

pub fn nanosleep(a: &Args) -> KResult<isize> {
    sleep(read_timespec(a[0])?, a[1])
}

pub fn clock_nanosleep(a: &Args) -> KResult<isize> {
    let (clock_id, flags, req, rem) = (a[0], a[1] as u32, a[2], a[3]);
    let start = now(clock_id)?;
    let value = read_timespec(req)?;
    let duration = if flags & TIMER_ABSTIME != 0 {
        value.saturating_sub(start)
    } else {
        value
    };
    sleep(duration, if flags & TIMER_ABSTIME != 0 { 0 } else { rem })
}

pub fn sched_yield() -> KResult<isize> {
    sched::schedule();
    Ok(0)
}

/// alarm(unsigned int seconds): SIGALRM after that many seconds (0 cancels); returns the
/// seconds left of the old one.
pub fn alarm(a: &Args) -> KResult<isize> {
    let task = crate::process::current();
    let seconds = u64::from(a[0] as u32);
    let deadline = if seconds == 0 {
        0
    } else {
        time::deadline_in(time::to_ns(seconds, 0))
    };
    let (left, _) = sched::set_real_timer(&task, deadline, 0);
    Ok(left.div_ceil(1_000_000_000) as isize)
}

fn timeval_ns(raw: &[u8]) -> KResult<u64> {
    let sec = i64::from_le_bytes(raw[..8].try_into().expect("8"));
    let usec = i64::from_le_bytes(raw[8..16].try_into().expect("8"));
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(Errno::EINVAL);
    }
    Ok(time::to_ns(sec as u64, usec as u64 * 1000))
}

fn itimerval(interval: u64, value: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (at, ns) in [(0, interval), (16, value)] {
        b[at..at + 8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
        b[at + 8..at + 16].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
    }
    b
}

/// setitimer: ITIMER_REAL only (the virtual and profiling timers need CPU-time accounting).
pub fn setitimer(a: &Args) -> KResult<isize> {
    if a[0] > ITIMER_PROF {
        return Err(Errno::EINVAL);
    }
    let new = if a[1] != 0 {
        Some(user::read_bytes(a[1], 32)?)
    } else {
        None
    };
    let (interval, value) = match &new {
        Some(raw) => (timeval_ns(&raw[..16])?, timeval_ns(&raw[16..])?),
        None => (0, 0),
    };
    if a[0] != ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let task = crate::process::current();
    let deadline = if value == 0 {
        0
    } else {
        time::deadline_in(value)
    };
    let (left, old_interval) = sched::set_real_timer(&task, deadline, interval);
    if a[2] != 0 {
        user::write_bytes(a[2], &itimerval(old_interval, left))?;
    }
    Ok(0)
}

pub fn getitimer(a: &Args) -> KResult<isize> {
    if a[0] > ITIMER_PROF {
        return Err(Errno::EINVAL);
    }
    let task = crate::process::current();
    let (deadline, interval) = if a[0] == ITIMER_REAL {
        *task.process.real_timer.lock()
    } else {
        (0, 0)
    };
    let left = if deadline == 0 {
        0
    } else {
        deadline.saturating_sub(clock::now_ns()).max(1)
    };
    user::write_bytes(a[1], &itimerval(interval, left))?;
    Ok(0)
}

/// clock_settime: only CLOCK_REALTIME can be set (EINVAL for the others, as Linux), and not
/// past [`time::SETTOD_SEC_MAX`] (EINVAL, as Linux's `timespec64_valid_settod`).
pub fn clock_settime(a: &Args) -> KResult<isize> {
    now(a[0])?;
    if a[0] != CLOCK_REALTIME {
        return Err(Errno::EINVAL);
    }
    let target = read_timespec(a[1])?;
    if target >= time::to_ns(time::SETTOD_SEC_MAX, 0) {
        return Err(Errno::EINVAL);
    }
    time::set_realtime_ns(target);
    Ok(0)
}
