//! Host benchmark: `lookup_inode` of a 3-component path (`/a/b/c`, what `stat` of it walks),
//! both variants, with no dentry cache and with the hash cache, in ns per call. Also a path
//! whose last component is missing (ENOENT), where the fast walk hands over to the full one.
//!
//! `cargo bench -p tessera-vfs` prints real figures (cargo passes `--bench`). Without that
//! argument, as when `cargo test --all-targets` runs this target, it does a tiny smoke run so
//! the code stays exercised; those numbers mean nothing.
//!
//! The file system is tmpfs; its locks (and the VFS's) are the host's irq-save flavour with an
//! emulated interrupt flag (see tessera-sync), the same for every row.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use tessera_abi::KResult;
use tessera_abi::fs::{S_IFREG, Timespec};
use tessera_tmpfs::{LockfreeStat, Tmpfs};
use tessera_vfs::{Dcache, Dentry, HashDcache, Inode, NoDcache, Vfs};

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

/// A VFS over a tmpfs holding `/a/b/c` (a file).
fn tree<C: Dcache + Default>() -> Vfs<C> {
    let fs = Tmpfs::<LockfreeStat>::new(1, clock);
    let vfs = Vfs::<C>::new(fs.root());
    let r = vfs.root().clone();
    vfs.mkdir(&r, &r, b"/a", 0o755).unwrap();
    vfs.mkdir(&r, &r, b"/a/b", 0o755).unwrap();
    vfs.mknod(&r, &r, b"/a/b/c", S_IFREG | 0o644, 0).unwrap();
    vfs
}

/// One of the two variants, as a plain function.
type Lookup<C> = fn(&Vfs<C>, &Arc<Dentry>, &Arc<Dentry>, &[u8], bool) -> KResult<Arc<dyn Inode>>;

fn rows<C: Dcache + Default>(rounds: usize, iters: usize) {
    let vfs = tree::<C>();
    let r = vfs.root().clone();
    let variants: [(&str, Lookup<C>); 2] = [
        ("full", Vfs::<C>::lookup_inode_full),
        ("fast", Vfs::<C>::lookup_inode_fast),
    ];
    for (path, expect_ok) in [(&b"/a/b/c"[..], true), (&b"/a/b/nope"[..], false)] {
        for (name, lookup) in variants {
            let ns = best(rounds, iters, || {
                let got = lookup(&vfs, &r, &r, black_box(path), true);
                assert_eq!(black_box(got).is_ok(), expect_ok);
            });
            let label = format!(
                "{name:<4} {:<9} dcache {}",
                std::str::from_utf8(path).unwrap(),
                C::NAME
            );
            println!("  {label:<40} {ns:>10.1} ns/op");
        }
    }
}

fn main() {
    let real = std::env::args().any(|a| a == "--bench");
    let (rounds, iters) = if real { (20, 200_000) } else { (1, 16) };
    println!(
        "tessera-vfs lookup_inode{}",
        if real {
            ""
        } else {
            " (smoke run: numbers are meaningless)"
        }
    );
    rows::<NoDcache>(rounds, iters);
    rows::<HashDcache>(rounds, iters);
}
