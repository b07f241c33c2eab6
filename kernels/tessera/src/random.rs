//! Random bytes for getrandom, AT_RANDOM and /dev/urandom: a xorshift generator stirred
//! with the TSC. Unpredictable enough for hash seeds and stack canaries in a test kernel;
//! not a cryptographic generator (no entropy source is read yet).

use core::sync::atomic::{AtomicU64, Ordering};

static STATE: AtomicU64 = AtomicU64::new(0);

fn next() -> u64 {
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = tessera_platform::clock::rdtsc() | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ tessera_platform::clock::rdtsc()
}

/// Fills `buf` with unpredictable (not cryptographic) bytes.
pub fn fill(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let word = next().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}
