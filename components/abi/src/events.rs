//! Event files: epoll, eventfd, timerfd and signalfd (`linux/eventpoll.h`,
//! `linux/eventfd.h`, `linux/timerfd.h`, `linux/signalfd.h`).
//!
//! The readiness bits epoll reports are `poll`'s ([`crate::poll::PollEvents`], same values);
//! what is here are epoll's own flags in the `events` word, the `epoll_ctl` operations, each
//! object's creation flags and the layouts of what user space reads and writes.

use crate::fs::{O_CLOEXEC, O_NONBLOCK};

/// `EPOLL_CTL_ADD`: register a file descriptor.
pub const EPOLL_CTL_ADD: i32 = 1;
/// `EPOLL_CTL_DEL`: remove a registration.
pub const EPOLL_CTL_DEL: i32 = 2;
/// `EPOLL_CTL_MOD`: change a registration's events and data.
pub const EPOLL_CTL_MOD: i32 = 3;

/// `EPOLLEXCLUSIVE`: wake one of several epoll instances waiting on the same file.
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
/// `EPOLLWAKEUP`: keep the system from suspending while the event is pending.
pub const EPOLLWAKEUP: u32 = 1 << 29;
/// `EPOLLONESHOT`: report one event, then disable the registration until `EPOLL_CTL_MOD`.
pub const EPOLLONESHOT: u32 = 1 << 30;
/// `EPOLLET`: edge-triggered: report a change once, not a state for as long as it lasts.
pub const EPOLLET: u32 = 1 << 31;
/// The flags of the `events` word that are not readiness bits (Linux's `EP_PRIVATE_BITS`).
pub const EPOLL_PRIVATE_BITS: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/// What may accompany `EPOLLEXCLUSIVE` (Linux's `EPOLLEXCLUSIVE_OK_BITS`): `EPOLLIN`,
/// `EPOLLOUT`, `EPOLLERR`, `EPOLLHUP`, `EPOLLWAKEUP`, `EPOLLET`.
pub const EPOLLEXCLUSIVE_OK_BITS: u32 =
    0x001 | 0x004 | 0x008 | 0x010 | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/// `EPOLL_CLOEXEC`: `epoll_create1`'s only flag (`O_CLOEXEC`'s value).
pub const EPOLL_CLOEXEC: u32 = O_CLOEXEC;
/// Bytes of `struct epoll_event` on x86_64: `u32 events` and `u64 data`, packed.
pub const EPOLL_EVENT_SIZE: usize = 12;
/// The most events one `epoll_wait` may ask for (`EP_MAX_EVENTS`: `INT_MAX` over the size
/// of an event).
pub const EPOLL_MAX_EVENTS: i32 = i32::MAX / EPOLL_EVENT_SIZE as i32;
/// How deep epoll instances may watch one another (`EP_MAX_NESTS`).
pub const EPOLL_MAX_NESTS: usize = 4;

/// `EFD_SEMAPHORE`: each read takes 1 from the counter instead of all of it.
pub const EFD_SEMAPHORE: u32 = 1;
/// `EFD_CLOEXEC`.
pub const EFD_CLOEXEC: u32 = O_CLOEXEC;
/// `EFD_NONBLOCK`.
pub const EFD_NONBLOCK: u32 = O_NONBLOCK;
/// The largest value an eventfd counter holds (`ULLONG_MAX - 1`); a write that would pass
/// it blocks.
pub const EVENTFD_MAX: u64 = u64::MAX - 1;

/// `TFD_CLOEXEC`.
pub const TFD_CLOEXEC: u32 = O_CLOEXEC;
/// `TFD_NONBLOCK`.
pub const TFD_NONBLOCK: u32 = O_NONBLOCK;
/// `TFD_TIMER_ABSTIME`: `timerfd_settime`'s `it_value` is a time on the timer's clock, not
/// a duration.
pub const TFD_TIMER_ABSTIME: u32 = 1;
/// `TFD_TIMER_CANCEL_ON_SET`: reads fail with ECANCELED once the realtime clock is set.
pub const TFD_TIMER_CANCEL_ON_SET: u32 = 2;
/// Bytes of `struct itimerspec`: two `struct timespec` (interval, then value).
pub const ITIMERSPEC_SIZE: usize = 32;

/// `SFD_CLOEXEC`.
pub const SFD_CLOEXEC: u32 = O_CLOEXEC;
/// `SFD_NONBLOCK`.
pub const SFD_NONBLOCK: u32 = O_NONBLOCK;
/// Bytes of `struct signalfd_siginfo`.
pub const SIGNALFD_SIGINFO_SIZE: usize = 128;
/// Offsets in `struct signalfd_siginfo` of the fields a signal can fill: `ssi_signo` (u32),
/// `ssi_errno` (i32), `ssi_code` (i32), `ssi_pid` (u32), `ssi_uid` (u32), `ssi_fd` (i32),
/// `ssi_tid` (u32), `ssi_band` (u32), `ssi_overrun` (u32), `ssi_trapno` (u32),
/// `ssi_status` (i32), `ssi_int` (i32), `ssi_ptr` (u64), `ssi_utime` (u64), `ssi_stime`
/// (u64), `ssi_addr` (u64).
pub const SSI_SIGNO: usize = 0;
/// See [`SSI_SIGNO`].
pub const SSI_CODE: usize = 8;
/// See [`SSI_SIGNO`].
pub const SSI_PID: usize = 12;
/// See [`SSI_SIGNO`].
pub const SSI_UID: usize = 16;
/// See [`SSI_SIGNO`].
pub const SSI_STATUS: usize = 40;
/// See [`SSI_SIGNO`].
pub const SSI_ADDR: usize = 72;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_linux_s() {
        assert_eq!(EPOLLET, 0x8000_0000);
        assert_eq!(EPOLL_CLOEXEC, 0o2_000_000);
        assert_eq!(EPOLL_MAX_EVENTS, 178_956_970);
        assert_eq!(EPOLLEXCLUSIVE_OK_BITS, 0xb000_001d);
        assert_eq!(EFD_NONBLOCK, 0o4000);
    }
}
