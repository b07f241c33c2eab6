//! The emulated interrupt flag used on the host.
//!
//! `cli`/`sti` fault outside ring 0, so host builds replace RFLAGS.IF with one global flag. It is
//! global, not per thread: host threads stand in for CPUs only for mutual exclusion, and tests
//! that look at the flag must not run concurrently with other lock users.

use core::sync::atomic::{AtomicBool, Ordering};

/// The emulated IF. Starts set, like a kernel past early boot.
static INTERRUPTS_ENABLED: AtomicBool = AtomicBool::new(true);

/// Whether the emulated interrupt flag is set (what `pushfq` would report).
pub fn are_enabled() -> bool {
    // Relaxed: the flag guards no data; it only records what the policies did.
    INTERRUPTS_ENABLED.load(Ordering::Relaxed)
}

/// Sets (`sti`) or clears (`cli`) the emulated interrupt flag.
pub fn set_enabled(enabled: bool) {
    INTERRUPTS_ENABLED.store(enabled, Ordering::Relaxed);
}
