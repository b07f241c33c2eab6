//! Host benchmark of every enabled variant, plus a raw `rep movsb` copy as the ERMS reference.
//!
//! `cargo bench -p tessera-memops` prints real figures (cargo passes `--bench`). Without that
//! argument, as when `cargo test --all-targets` runs this target, it does a quick smoke run so
//! the code stays exercised without costing CI time; those numbers mean nothing.
//!
//! Host numbers show real-CPU behaviour, where `rep movsb` on ERMS/FSRM hardware is typically
//! the fastest; the kernel's deterministic QEMU `-icount` benchmark counts instructions instead
//! and ranks it last. See the crate docs.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One memory operation under test: `(dst, src, n)`. Page operations ignore `n`. Its caller
/// must pass `dst` writable and `src` readable for `n` bytes (4096 for the page operations),
/// not overlapping: the contract of every function below.
type Op = unsafe fn(*mut u8, *const u8, usize);

/// Sizes for memcpy and memset.
const SIZES: [usize; 5] = [8, 64, 256, 4096, 65536];

/// How long each measurement runs; short enough for the whole table to take a few seconds.
const REAL_TIME: Duration = Duration::from_millis(100);

/// `rep movsb` for the whole length: the copy ERMS/FSRM CPUs are tuned for.
///
/// # Safety
/// `src` readable and `dst` writable for `n` bytes, not overlapping.
unsafe fn rep_movsb(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: with DF = 0 (guaranteed on asm! entry) this moves exactly the caller's n bytes
    // upwards; string moves write no flags and use no stack.
    unsafe {
        std::arch::asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
}

/// Times `op` on `n` bytes and returns nanoseconds per call. Doubles the batch until one batch
/// takes at least `budget`, so the clock's resolution and overhead disappear in the mean.
fn time(op: Op, dst: *mut u8, src: *const u8, n: usize, budget: Duration) -> f64 {
    let mut iters: u64 = 1;
    loop {
        let start = Instant::now();
        for _ in 0..iters {
            // SAFETY: the callers pass buffers of at least `n` (and at least one page) bytes
            // that do not overlap; black_box keeps the call from being hoisted or dropped.
            unsafe { op(black_box(dst), black_box(src), black_box(n)) };
        }
        let elapsed = start.elapsed();
        if elapsed >= budget || iters >= 1 << 40 {
            return elapsed.as_nanos() as f64 / iters as f64;
        }
        iters *= 2;
    }
}

/// Prints one table row.
fn row(op: &str, variant: &str, n: usize, ns: f64) {
    let gbps = n as f64 / ns; // bytes per nanosecond = GB/s
    println!("{op:<10} {variant:<8} {n:>7} {ns:>11.2} {gbps:>8.2}");
}

/// The benchmarked functions of one variant, as `Op`s.
struct Variant {
    name: &'static str,
    memcpy: Op,
    memset: Op,
    zero_page: Op,
    copy_page: Op,
}

/// Wraps a variant module's functions into a [`Variant`].
macro_rules! variant {
    ($m:ident) => {
        Variant {
            name: tessera_memops::$m::NAME,
            // SAFETY: the caller keeps `Op`'s contract, which is memcpy's.
            memcpy: |d, s, n| unsafe {
                tessera_memops::$m::memcpy(d, s, n);
            },
            // SAFETY: `Op`'s contract: `d` is writable for `n` bytes, all memset needs.
            memset: |d, _, n| unsafe {
                tessera_memops::$m::memset(d, 0x5a, n);
            },
            // SAFETY: `Op`'s contract for a page operation: `d` is writable for 4096 bytes.
            zero_page: |d, _, _| unsafe { tessera_memops::$m::zero_page(d) },
            // SAFETY: `Op`'s contract for a page operation: 4096 bytes each, not overlapping.
            copy_page: |d, s, _| unsafe { tessera_memops::$m::copy_page(d, s) },
        }
    };
}

fn main() {
    let real = std::env::args().any(|a| a == "--bench");
    let budget = if real {
        REAL_TIME
    } else {
        Duration::from_micros(50)
    };
    let variants = [
        #[cfg(feature = "simple")]
        variant!(simple),
        #[cfg(feature = "erms")]
        variant!(erms),
    ];

    // u64 storage gives 8-byte-aligned buffers, like kernel pages and most copies.
    let src_store = vec![0x33u64; SIZES[4] / 8];
    let mut dst_store = vec![0u64; SIZES[4] / 8];
    let src = src_store.as_ptr().cast::<u8>();
    let dst = dst_store.as_mut_ptr().cast::<u8>();

    if !real {
        println!("smoke run (use `cargo bench -p tessera-memops` for real figures)");
    }
    println!(
        "{:<10} {:<8} {:>7} {:>11} {:>8}",
        "op", "variant", "bytes", "ns/op", "GB/s"
    );
    for n in SIZES {
        for v in &variants {
            row("memcpy", v.name, n, time(v.memcpy, dst, src, n, budget));
        }
        row("memcpy", "movsb", n, time(rep_movsb, dst, src, n, budget));
    }
    for n in SIZES {
        for v in &variants {
            row("memset", v.name, n, time(v.memset, dst, src, n, budget));
        }
    }
    for v in &variants {
        row(
            "zero_page",
            v.name,
            4096,
            time(v.zero_page, dst, src, 4096, budget),
        );
    }
    for v in &variants {
        row(
            "copy_page",
            v.name,
            4096,
            time(v.copy_page, dst, src, 4096, budget),
        );
    }
    // Keep the buffers (and so every store into them) observable.
    black_box((&src_store, &mut dst_store));
}
