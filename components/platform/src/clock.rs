//! Monotonic time from the TSC, calibrated against the PIT at boot.
//!
//! Nanoseconds are TSC cycles since boot times `mult`, shifted right by [`SHIFT`] bits
//! (Linux's clocksource scaling: a multiply, no division), with `mult` = 10^9 * 2^32 / the
//! TSC frequency rounded down, so the clock runs behind the exact quotient by at most 1 ns
//! per 2^32 cycles (2.2 us an hour at 2.6 GHz), the same for every reader. User space reads the same formula in the vDSO ([`params`]),
//! so a clock read there and one read by a system call agree to the nanosecond.
//!
//! Under `qemu -icount shift=0` the TSC advances one tick per guest instruction and the PIT
//! follows the same virtual clock, so the calibrated clock reads virtual nanoseconds: a guest
//! program timing a loop with clock_gettime measures guest instructions (docs/benchmarks.md).

use core::sync::atomic::{AtomicU64, Ordering};

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// ns per cycle scaled by 2^SHIFT (0 before calibration: the clock reads 0).
static MULT: AtomicU64 = AtomicU64::new(0);

/// The right shift of the cycles-to-nanoseconds scaling.
pub const SHIFT: u32 = 32;

/// The monotonic clock's formula, for a reader outside the kernel (the vDSO): nanoseconds
/// are `((tsc - tsc_base) * mult) >> shift`, in 128-bit arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockParams {
    pub tsc_base: u64,
    pub mult: u64,
    pub shift: u32,
}

/// The clock's formula (`mult` 0 before calibration).
pub fn params() -> ClockParams {
    ClockParams {
        tsc_base: TSC_AT_BOOT.load(Ordering::Relaxed),
        mult: MULT.load(Ordering::Relaxed),
        shift: SHIFT,
    }
}

/// `mult` for a TSC of `hz` (at least 1). Public for the kernel's self-test of the scaling.
pub fn mult_for(hz: u64) -> u64 {
    ((1_000_000_000u128 << SHIFT) / u128::from(hz.max(1))) as u64
}

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
    MULT.store(mult_for(hz), Ordering::Relaxed);
    TSC_AT_BOOT.store(rdtsc(), Ordering::Relaxed);
}

/// TSC frequency found by calibration (0 before init).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since the clock was calibrated (0 before).
pub fn now_ns() -> u64 {
    let cycles = rdtsc().wrapping_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    scale(cycles, MULT.load(Ordering::Relaxed))
}

/// `cycles` in nanoseconds at `mult`.
pub fn scale(cycles: u64, mult: u64) -> u64 {
    ((u128::from(cycles) * u128::from(mult)) >> SHIFT) as u64
}
