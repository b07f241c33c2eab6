//! No syscall profiler in this kernel (`[profile] syscall-profiler = false`): nothing is
//! counted and nothing is printed.

/// The entry time stamp: none.
#[inline(always)]
pub fn start() -> u64 {
    0
}

/// Nothing to account.
#[inline(always)]
pub fn record(_nr: u64, _started: u64) {}

/// Nothing to print.
pub fn report(_top: usize) {}
