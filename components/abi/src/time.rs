//! Clocks and timers (`linux/time.h`, `asm-generic/param.h`).
//!
//! Clock and interval timer ids are `u64`, compared with the raw system call argument.

/// `CLOCK_REALTIME`: wall-clock time, settable.
pub const CLOCK_REALTIME: u64 = 0;
/// `CLOCK_MONOTONIC`: time since boot, not counting suspend.
pub const CLOCK_MONOTONIC: u64 = 1;
/// `CLOCK_PROCESS_CPUTIME_ID`.
pub const CLOCK_PROCESS_CPUTIME_ID: u64 = 2;
/// `CLOCK_THREAD_CPUTIME_ID`.
pub const CLOCK_THREAD_CPUTIME_ID: u64 = 3;
/// `CLOCK_MONOTONIC_RAW`.
pub const CLOCK_MONOTONIC_RAW: u64 = 4;
/// `CLOCK_REALTIME_COARSE`.
pub const CLOCK_REALTIME_COARSE: u64 = 5;
/// `CLOCK_MONOTONIC_COARSE`.
pub const CLOCK_MONOTONIC_COARSE: u64 = 6;
/// `CLOCK_BOOTTIME`.
pub const CLOCK_BOOTTIME: u64 = 7;
/// `CLOCK_REALTIME_ALARM`.
pub const CLOCK_REALTIME_ALARM: u64 = 8;
/// `CLOCK_BOOTTIME_ALARM`.
pub const CLOCK_BOOTTIME_ALARM: u64 = 9;
/// `CLOCK_TAI`.
pub const CLOCK_TAI: u64 = 11;

/// `ITIMER_REAL`: the interval timer that sends SIGALRM.
pub const ITIMER_REAL: u64 = 0;
/// `ITIMER_VIRTUAL`: the interval timer of user CPU time (SIGVTALRM).
pub const ITIMER_VIRTUAL: u64 = 1;
/// `ITIMER_PROF`: the interval timer of user and system CPU time (SIGPROF).
pub const ITIMER_PROF: u64 = 2;

/// `TIMER_ABSTIME`: `clock_nanosleep`'s time is a deadline, not a duration.
pub const TIMER_ABSTIME: u32 = 1;

/// `USER_HZ` (`asm-generic/param.h`): ticks per second of the clock `times()` reports in
/// (`AT_CLKTCK`). Fixed by the ABI, whatever the kernel's timer runs at.
pub const USER_HZ: u64 = 100;
