//! Monotonic time from the TSC, calibrated against the PIT at boot.
//!
//! Under `qemu -icount shift=0` the TSC advances one tick per guest instruction and the PIT
//! follows the same virtual clock, so the calibrated clock reads virtual nanoseconds: a guest
//! program timing a loop with clock_gettime measures guest instructions (docs/benchmarks.md).

use core::sync::atomic::{AtomicU64, Ordering};

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects; CR4.TSD is clear so it is allowed in every ring.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Calibrates the TSC against 50 ms of the PIT (interrupts must be off).
pub(crate) fn init() {
    const PIT_TICKS: u16 = (crate::timer::PIT_HZ / 20) as u16;
    let cycles = crate::timer::measure_tsc(PIT_TICKS);
    let hz = cycles * u64::from(crate::timer::PIT_HZ) / u64::from(PIT_TICKS);
    TSC_HZ.store(hz.max(1), Ordering::Relaxed);
    TSC_AT_BOOT.store(rdtsc(), Ordering::Relaxed);
}

/// TSC frequency found by calibration (0 before init).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since the clock was calibrated (0 before).
pub fn now_ns() -> u64 {
    let hz = TSC_HZ.load(Ordering::Relaxed);
    if hz == 0 {
        return 0;
    }
    let cycles = rdtsc().wrapping_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    (u128::from(cycles) * 1_000_000_000 / u128::from(hz)) as u64
}
