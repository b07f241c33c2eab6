//! epoll, eventfd and timerfd: argument decoding and Linux's checks, in Linux's order
//! (`fs/eventpoll.c`, `fs/eventfd.c`, `fs/timerfd.c`); the objects are `fs::epoll`,
//! `fs::eventfd` and `fs::timerfd`. signalfd is with the signal calls (`signal.rs`).

use alloc::sync::Arc;

use tessera_abi::events::*;
use tessera_abi::time::{
    CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
};
use tessera_abi::{Errno, KResult};

use super::args::{self, Args, Decode, UserPtr, user_range};
use crate::fs::OpenFile;
use crate::fs::epoll::{self, Epoll, Timeout};
use crate::fs::timerfd::TimerFd;
use crate::process::current;

/// Installs `file` at the lowest free fd.
pub(super) fn install(file: Arc<OpenFile>, cloexec: bool) -> KResult<isize> {
    Ok(current().files.lock().insert(file, cloexec)? as isize)
}

pub(super) fn file(fd: i32) -> KResult<Arc<OpenFile>> {
    current().files.lock().get(fd)
}

/// epoll_create(int size): any positive size (it is only a hint).
pub fn epoll_create(a: &Args) -> KResult<isize> {
    if a.int(0) <= 0 {
        return Err(Errno::EINVAL);
    }
    install(epoll::new_epoll_file(), false)
}

/// epoll_create1(int flags): EPOLL_CLOEXEC only.
pub fn epoll_create1(a: &Args) -> KResult<isize> {
    let flags = a.uint(0);
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    install(epoll::new_epoll_file(), flags & EPOLL_CLOEXEC != 0)
}

/// epoll_ctl(int epfd, int op, int fd, struct epoll_event *event), checked in Linux's order:
/// the event is read (EFAULT) for every op but DEL, then both fds (EBADF), the target's
/// poll support (EPERM), the epoll itself (EINVAL: not an epoll, or the target is the same
/// file), EPOLLEXCLUSIVE's limits (EINVAL), then the operation (ELOOP, EEXIST, ENOENT,
/// EINVAL for an unknown op).
pub fn epoll_ctl(a: &Args) -> KResult<isize> {
    let (epfd, op, fd) = (a.fd(0), a.int(1), a.fd(2));
    let (events, data) = if op != EPOLL_CTL_DEL {
        let mut raw = [0u8; EPOLL_EVENT_SIZE];
        a.ptr(3).read_into(&mut raw)?;
        (
            u32::from_le_bytes(raw[..4].try_into().expect("4 bytes")),
            u64::from_le_bytes(raw[4..].try_into().expect("8 bytes")),
        )
    } else {
        (0, 0)
    };
    let ep_file = file(epfd)?;
    let target = file(fd)?;
    if !target.ops.can_poll() {
        return Err(Errno::EPERM);
    }
    let ep = match Epoll::of(&ep_file) {
        Some(ep) if !Arc::ptr_eq(&ep_file, &target) => ep,
        _ => return Err(Errno::EINVAL),
    };
    if op != EPOLL_CTL_DEL
        && events & EPOLLEXCLUSIVE != 0
        && (op == EPOLL_CTL_MOD
            || (op == EPOLL_CTL_ADD
                && (Epoll::of(&target).is_some() || events & !EPOLLEXCLUSIVE_OK_BITS != 0)))
    {
        return Err(Errno::EINVAL);
    }
    match op {
        EPOLL_CTL_ADD => ep.add(fd, &target, events, data)?,
        EPOLL_CTL_DEL => ep.delete(fd, &target)?,
        EPOLL_CTL_MOD => ep.modify(fd, &target, events, data)?,
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// epoll_wait's checks and wait: `maxevents` in 1..=EP_MAX_EVENTS (EINVAL), the events
/// array in user space (EFAULT), the fd (EBADF) an epoll (EINVAL).
fn do_epoll_wait(epfd: i32, events: UserPtr, maxevents: i32, timeout: Timeout) -> KResult<isize> {
    if maxevents <= 0 || maxevents > EPOLL_MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let events = user_range(events, maxevents as u64 * EPOLL_EVENT_SIZE as u64)?;
    let ep_file = file(epfd)?;
    let ep = Epoll::of(&ep_file).ok_or(Errno::EINVAL)?;
    let n = ep.wait(maxevents as usize, timeout, &mut |i, revents, data| {
        let mut raw = [0u8; EPOLL_EVENT_SIZE];
        raw[..4].copy_from_slice(&revents.to_le_bytes());
        raw[4..].copy_from_slice(&data.to_le_bytes());
        // In bounds: i < maxevents, and the array was checked above.
        events
            .at(i as u64 * EPOLL_EVENT_SIZE as u64)
            .write_bytes(&raw)
    })?;
    Ok(n as isize)
}

/// An `int` timeout in ms: negative waits forever, 0 not at all.
fn ms_timeout(ms: i32) -> Timeout {
    match ms {
        ..0 => Timeout::Never,
        0 => Timeout::Now,
        ms => Timeout::At(tessera_platform::clock::now_ns().saturating_add(ms as u64 * 1_000_000)),
    }
}

/// epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout).
pub fn epoll_wait(a: &Args) -> KResult<isize> {
    do_epoll_wait(a.fd(0), a.ptr(1), a.int(2), ms_timeout(a.int(3)))
}

/// epoll_pwait(..., int timeout, const sigset_t *sigmask, size_t sigsetsize): the mask is
/// set first (EINVAL, EFAULT), held during the wait and restored after it (after the
/// handler, when a signal interrupts it).
pub fn epoll_pwait(a: &Args) -> KResult<isize> {
    let timeout = ms_timeout(a.int(3));
    super::signal::with_wait_mask(a.ptr(4), a.size(5), || {
        do_epoll_wait(a.fd(0), a.ptr(1), a.int(2), timeout)
    })
}

/// epoll_pwait2(..., const struct timespec *timeout, const sigset_t *sigmask, size_t
/// sigsetsize): the timeout is read and checked first (EFAULT, EINVAL); NULL waits forever.
pub fn epoll_pwait2(a: &Args) -> KResult<isize> {
    let timeout = match a.ptr(3).nonnull().map(UserPtr::read_timespec).transpose()? {
        None => Timeout::Never,
        Some(0) => Timeout::Now,
        Some(ns) => Timeout::At(tessera_platform::clock::now_ns().saturating_add(ns)),
    };
    super::signal::with_wait_mask(a.ptr(4), a.size(5), || {
        do_epoll_wait(a.fd(0), a.ptr(1), a.int(2), timeout)
    })
}

/// eventfd(unsigned int initval).
pub fn eventfd(a: &Args) -> KResult<isize> {
    eventfd_with(a.uint(0), 0)
}

/// eventfd2(unsigned int initval, int flags): EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE.
pub fn eventfd2(a: &Args) -> KResult<isize> {
    eventfd_with(a.uint(0), a.uint(1))
}

fn eventfd_with(initial: u32, flags: u32) -> KResult<isize> {
    if flags & !(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    install(
        crate::fs::eventfd::new_eventfd(initial, flags),
        flags & EFD_CLOEXEC != 0,
    )
}

/// timerfd_create(int clockid, int flags): the realtime, monotonic and boottime clocks (and
/// their alarm forms, which here are the same clocks); TFD_CLOEXEC, TFD_NONBLOCK.
pub fn timerfd_create(a: &Args) -> KResult<isize> {
    let (clock, flags) = (a.int(0), a.uint(1));
    let clock = match u64::try_from(clock) {
        Ok(CLOCK_REALTIME | CLOCK_REALTIME_ALARM) => CLOCK_REALTIME,
        Ok(CLOCK_MONOTONIC) => CLOCK_MONOTONIC,
        Ok(CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM) => CLOCK_BOOTTIME,
        _ => return Err(Errno::EINVAL),
    };
    if flags & !(TFD_CLOEXEC | TFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    install(
        crate::fs::timerfd::new_timerfd(clock, flags),
        flags & TFD_CLOEXEC != 0,
    )
}

fn itimerspec_bytes(value: u64, interval: u64) -> [u8; ITIMERSPEC_SIZE] {
    let mut b = [0u8; ITIMERSPEC_SIZE];
    b[..16].copy_from_slice(&args::timespec_bytes(interval));
    b[16..].copy_from_slice(&args::timespec_bytes(value));
    b
}

fn timerfd_of(fd: i32) -> KResult<Arc<OpenFile>> {
    let file = file(fd)?;
    if TimerFd::of(&file).is_none() {
        return Err(Errno::EINVAL);
    }
    Ok(file)
}

/// timerfd_settime(int fd, int flags, const struct itimerspec *new, struct itimerspec *old):
/// the new value is read first (EFAULT), then the flags and times checked (EINVAL), then
/// the fd (EBADF, EINVAL if not a timerfd); the old value is written last.
pub fn timerfd_settime(a: &Args) -> KResult<isize> {
    let (fd, flags) = (a.fd(0), a.uint(1));
    let mut raw = [0u8; ITIMERSPEC_SIZE];
    a.ptr(2).read_into(&mut raw)?;
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let interval = args::timespec_ns(&raw[..16])?;
    let value = args::timespec_ns(&raw[16..])?;
    let file = timerfd_of(fd)?;
    let timer = TimerFd::of(&file).ok_or(Errno::EINVAL)?;
    let (left, old_interval) = timer.set(flags, value, interval);
    if let Some(old) = a.ptr(3).nonnull() {
        old.write_bytes(&itimerspec_bytes(left, old_interval))?;
    }
    Ok(0)
}

/// timerfd_gettime(int fd, struct itimerspec *curr): time left and interval.
pub fn timerfd_gettime(a: &Args) -> KResult<isize> {
    let file = timerfd_of(a.fd(0))?;
    let timer = TimerFd::of(&file).ok_or(Errno::EINVAL)?;
    let (left, interval) = timer.get();
    a.ptr(1).write_bytes(&itimerspec_bytes(left, interval))?;
    Ok(0)
}
