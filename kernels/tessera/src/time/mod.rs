//! Clocks. All clocks read the TSC-based monotonic clock of the platform; the realtime clock
//! is it plus an offset: the date the CMOS real-time clock gave at boot (`tessera_platform::rtc`;
//! QEMU's follows the host's clock), moved by clock_settime.

use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::time::*;
use tessera_abi::{Errno, KResult};
use tessera_platform::clock;

/// Realtime at boot when the RTC cannot be read: 2026-01-01T00:00:00Z.
const FALLBACK_EPOCH_SECS: u64 = 1_767_225_600;
/// Realtime minus the monotonic clock, in ns: what CLOCK_REALTIME adds.
static REALTIME_OFFSET_NS: AtomicU64 = AtomicU64::new(FALLBACK_EPOCH_SECS * 1_000_000_000);

/// Sets the realtime clock from the RTC's reading at boot (the fallback epoch stays, with a
/// warning, when there was none).
pub fn init() {
    match tessera_platform::rtc::boot_reading() {
        Some((seconds, read_at_ns)) => {
            set_offset((seconds * 1_000_000_000).saturating_sub(read_at_ns));
        }
        None => log::warn!("time: no reading from the CMOS RTC; the date starts at 2026-01-01"),
    }
}

/// Realtime minus the monotonic clock, in ns (what the vDSO's page holds).
#[allow(dead_code, reason = "for the vDSO, which a config may leave out")]
pub fn realtime_offset_ns() -> u64 {
    REALTIME_OFFSET_NS.load(Ordering::Relaxed)
}

/// Moves the realtime clock: the offset, and the vDSO's copy of it.
fn set_offset(offset_ns: u64) {
    REALTIME_OFFSET_NS.store(offset_ns, Ordering::Relaxed);
    crate::mm::vdso::set_realtime_offset(offset_ns);
}

/// Realtime at boot in seconds since the epoch (`/proc/stat`'s `btime`): as Linux, the
/// current realtime minus the time since boot, so clock_settime moves it too.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn boot_time_secs() -> u64 {
    REALTIME_OFFSET_NS.load(Ordering::Relaxed) / 1_000_000_000
}

/// `sec` seconds and `sub_ns` nanoseconds (a user's timespec or timeval, already checked)
/// in nanoseconds, saturating: as Linux's `ktime_set` and `timespec64_to_ns`, a time past the
/// clock's range is the largest one, which no deadline reaches.
pub fn to_ns(sec: u64, sub_ns: u64) -> u64 {
    sec.saturating_mul(1_000_000_000).saturating_add(sub_ns)
}

/// The most a time value holds, in ns (Linux's `KTIME_MAX`): where a user's timespec
/// saturates.
pub const KTIME_MAX: u64 = i64::MAX as u64;

/// The monotonic clock's reading `ns` from now (saturating, as [`to_ns`]).
pub fn deadline_in(ns: u64) -> u64 {
    clock::now_ns().saturating_add(ns)
}

/// The largest realtime clock_settime accepts, in seconds (Linux's `TIME_SETTOD_SEC_MAX`:
/// `KTIME_SEC_MAX` less 30 years of uptime, so that realtime never overflows).
pub const SETTOD_SEC_MAX: u64 = 9_223_372_036 - 946_080_000;

/// Clock `clock_id` in ns (EINVAL for an unknown clock).
pub fn now(clock_id: u64) -> KResult<u64> {
    let ns = clock::now_ns();
    match clock_id {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM | CLOCK_TAI => {
            Ok(ns + REALTIME_OFFSET_NS.load(Ordering::Relaxed))
        }
        CLOCK_MONOTONIC
        | CLOCK_PROCESS_CPUTIME_ID
        | CLOCK_THREAD_CPUTIME_ID
        | CLOCK_MONOTONIC_RAW
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_BOOTTIME_ALARM => Ok(ns),
        _ => Err(Errno::EINVAL),
    }
}

/// Wall-clock time in ns since the epoch (file time stamps).
pub fn realtime_ns() -> u64 {
    clock::now_ns() + REALTIME_OFFSET_NS.load(Ordering::Relaxed)
}

/// The monotonic clock's reading when the realtime clock reads `ns` (0 for a time before
/// boot): an absolute realtime deadline for the scheduler, which sleeps on the monotonic
/// clock. A later clock_settime does not move a deadline converted before it.
pub fn realtime_to_monotonic(ns: u64) -> u64 {
    ns.saturating_sub(REALTIME_OFFSET_NS.load(Ordering::Relaxed))
}

/// Sets the realtime clock to `ns` since the epoch.
pub fn set_realtime_ns(ns: u64) {
    set_offset(ns.saturating_sub(clock::now_ns()));
}
