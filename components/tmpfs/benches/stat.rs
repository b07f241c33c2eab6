//! Host benchmark: `metadata()` (what `stat`/`fstat` call) of a tmpfs file and directory, for
//! both stat variants, in ns per call.
//!
//! `cargo bench -p tessera-tmpfs` prints real figures (cargo passes `--bench`). Without that
//! argument, as when `cargo test --all-targets` runs this target, it does a tiny smoke run so
//! the code stays exercised; those numbers mean nothing.
//!
//! The host build's `SubsystemLock` is the irq-save flavour with the interrupt flag emulated by
//! a global atomic (see tessera-sync), so the locked variant pays a spin lock plus two relaxed
//! atomic accesses here; in the kernel it pays the spin lock plus `pushfq; cli ... popfq` or
//! nothing extra, as the config's `lock` says.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use tessera_abi::fs::{S_IFREG, Timespec};
use tessera_tmpfs::{LockedStat, LockfreeStat, StatVariant, Tmpfs};
use tessera_vfs::Inode;

fn clock() -> Timespec {
    Timespec::new(1_700_000_000, 0)
}

/// Best ns/op over `rounds` of `iters` calls of `op`.
fn best(rounds: usize, iters: usize, mut op: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                op();
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// A tmpfs holding a 3-page file and a directory of 10 entries: (file, directory).
fn tree<S: StatVariant>(fs: &Tmpfs<S>) -> (Arc<dyn Inode>, Arc<dyn Inode>) {
    let root = fs.root();
    let file = root.create(b"f", S_IFREG | 0o644, 0).unwrap();
    file.write_at(0, &[7u8; 10_000]).unwrap();
    let dir = root.mkdir(b"d", 0o755).unwrap();
    for i in 0..10u8 {
        dir.create(&[b'a' + i], S_IFREG | 0o644, 0).unwrap();
    }
    (file, dir)
}

fn rows<S: StatVariant>(rounds: usize, iters: usize) {
    let fs = Tmpfs::<S>::new(1, clock);
    let (file, dir) = tree(&fs);
    for (what, inode) in [("file", &file), ("directory", &dir)] {
        let ns = best(rounds, iters, || {
            black_box(black_box(inode).metadata().unwrap());
        });
        println!(
            "  {:<40} {ns:>10.1} ns/op",
            format!("metadata() of a {what}, {}", S::NAME)
        );
    }
}

fn main() {
    let real = std::env::args().any(|a| a == "--bench");
    let (rounds, iters) = if real { (20, 1_000_000) } else { (1, 16) };
    println!(
        "tessera-tmpfs stat{}",
        if real {
            ""
        } else {
            " (smoke run: numbers are meaningless)"
        }
    );
    rows::<LockedStat>(rounds, iters);
    rows::<LockfreeStat>(rounds, iters);
}
