//! The syscall profiler (`[profile] syscall-profiler = true`): per syscall, the number of
//! calls and the total, minimum and maximum TSC cycles from entry to return (blocking time
//! included: a `wait4` that sleeps counts its sleep). Printed, top first by total cycles,
//! when the machine stops. Compiled out entirely when off (`no_profiler.rs`).

use core::sync::atomic::{AtomicU64, Ordering};

use tessera_platform::println;

/// Numbers below this are profiled (x86_64 syscalls end below 470).
const SLOTS: usize = 512;

struct Slot {
    count: AtomicU64,
    total: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
}

static SLOTS_TABLE: [Slot; SLOTS] = [const {
    Slot {
        count: AtomicU64::new(0),
        total: AtomicU64::new(0),
        min: AtomicU64::new(u64::MAX),
        max: AtomicU64::new(0),
    }
}; SLOTS];

/// The entry time stamp.
#[inline(always)]
pub fn start() -> u64 {
    tessera_platform::clock::rdtsc()
}

/// Accounts syscall `nr` that started at `started`.
#[inline(always)]
pub fn record(nr: u64, started: u64) {
    if nr as usize >= SLOTS {
        return;
    }
    let cycles = tessera_platform::clock::rdtsc().wrapping_sub(started);
    let slot = &SLOTS_TABLE[nr as usize];
    slot.count.fetch_add(1, Ordering::Relaxed);
    slot.total.fetch_add(cycles, Ordering::Relaxed);
    slot.min.fetch_min(cycles, Ordering::Relaxed);
    slot.max.fetch_max(cycles, Ordering::Relaxed);
}

/// Prints the `top` syscalls by total cycles.
pub fn report(top: usize) {
    let mut rows: alloc::vec::Vec<(usize, u64, u64, u64, u64)> = SLOTS_TABLE
        .iter()
        .enumerate()
        .filter(|(_, s)| s.count.load(Ordering::Relaxed) > 0)
        .map(|(nr, s)| {
            let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
            (
                nr,
                load(&s.count),
                load(&s.total),
                load(&s.min),
                load(&s.max),
            )
        })
        .collect();
    rows.sort_by_key(|row| core::cmp::Reverse(row.2));
    println!(
        "syscall profile (TSC cycles; {} MHz):",
        tessera_platform::clock::tsc_hz() / 1_000_000
    );
    println!(
        "PROFILE {:<18} {:>10} {:>14} {:>10} {:>10} {:>12}",
        "syscall", "calls", "total", "mean", "min", "max"
    );
    for (nr, count, total, min, max) in rows.into_iter().take(top) {
        println!(
            "PROFILE {:<18} {:>10} {:>14} {:>10} {:>10} {:>12}",
            tessera_abi::sysno::name(nr as u64).unwrap_or("?"),
            count,
            total,
            total / count,
            min,
            max
        );
    }
}
