//! Clocks. All clocks read the TSC-based monotonic clock of the platform; the realtime clock
//! is it plus an offset that starts at a fixed epoch (there is no RTC driver yet) and that
//! clock_settime moves.

use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::time::*;
use tessera_abi::{Errno, KResult};
use tessera_platform::clock;

/// Realtime at boot: 2026-01-01T00:00:00Z (no RTC is read), moved by clock_settime.
const BOOT_EPOCH_SECS: u64 = 1_767_225_600;
static REALTIME_OFFSET_NS: AtomicU64 = AtomicU64::new(BOOT_EPOCH_SECS * 1_000_000_000);

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

/// Sets the realtime clock to `ns` since the epoch.
pub fn set_realtime_ns(ns: u64) {
    let offset = ns.saturating_sub(clock::now_ns());
    REALTIME_OFFSET_NS.store(offset, Ordering::Relaxed);
}
