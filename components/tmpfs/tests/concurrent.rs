//! `stat` racing a writer, for both stat variants: threads hammer `metadata()` on a file while
//! another thread writes, truncates, chmods, chowns, links and sets times on it. Every field a
//! reader sees must be a value the writer produced (the lock-free variant may mix fields of
//! different moments, never invent one), and a time stamp is never torn. With the locked
//! variant every whole `stat` must also be a state the file was in between two operations.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use tessera_abi::fs::{S_IFMT, S_IFREG, S_ISGID, S_ISUID, Timespec};
use tessera_tmpfs::{LockedStat, StatVariant, Tmpfs};
use tessera_vfs::{Inode, Metadata};

/// Ticks of [`clock`]: every reading is a new one.
static TICK: AtomicI64 = AtomicI64::new(1);

/// The nanoseconds that go with `sec` in every time stamp of this test, so a stamp made of the
/// seconds of one write and the nanoseconds of another is recognisable.
fn nsec_of(sec: i64) -> i64 {
    (sec * 7919) % 1_000_000_000
}

/// A clock whose readings all differ in both seconds and nanoseconds.
fn clock() -> Timespec {
    let sec = TICK.fetch_add(1, Ordering::Relaxed);
    Timespec::new(sec, nsec_of(sec))
}

/// Operations the writer performs.
const WRITER_OPS: usize = 20_000;
/// Threads calling `metadata()` meanwhile.
const READERS: usize = 3;

/// A `Metadata` as a hashable array (same field order as the struct).
fn key(m: &Metadata) -> [i64; 16] {
    [
        m.ino as i64,
        i64::from(m.mode),
        i64::from(m.nlink),
        i64::from(m.uid),
        i64::from(m.gid),
        m.size as i64,
        m.blocks as i64,
        i64::from(m.blksize),
        m.atime.sec,
        m.atime.nsec,
        m.mtime.sec,
        m.mtime.nsec,
        m.ctime.sec,
        m.ctime.nsec,
        m.rdev as i64,
        m.dev as i64,
    ]
}

/// One step of the writer, chosen by `i`.
fn write_step(dir: &Arc<dyn Inode>, f: &Arc<dyn Inode>, i: usize) {
    let n = i as u64;
    match i % 8 {
        0 => drop(f.write_at((n * 1237) % 20_000, &[i as u8; 700]).unwrap()),
        1 => f.truncate((n * 3671) % 30_000).unwrap(),
        2 => f
            .set_mode(S_ISUID | S_ISGID | ((n as u32 * 37) % 0o777))
            .unwrap(),
        3 => f.set_owner(Some(i as u32 % 5), None).unwrap(),
        4 => f.set_owner(None, Some(i as u32 % 7)).unwrap(),
        5 => {
            let t = |sec: i64| Some(Timespec::new(sec, nsec_of(sec)));
            f.set_times(t(1_000_000 + i as i64), t(2_000_000 + i as i64))
                .unwrap()
        }
        6 => dir.link(b"g", f).unwrap(),
        _ => dir.unlink(b"g").unwrap(),
    }
}

fn stat_sees_only_values_writers_produced<S: StatVariant>() {
    let fs = Tmpfs::<S>::new(9, clock);
    let dir = fs.root();
    let f = dir.create(b"f", S_IFREG | 0o644, 0).unwrap();
    // Every state of the file between two writer operations (the writer is the only one
    // changing it, so its own `stat` after each operation sees exactly that state).
    let states = Mutex::new(vec![f.metadata().unwrap()]);
    let done = AtomicBool::new(false);
    let started = AtomicUsize::new(0);
    // Each reader keeps the distinct whole `stat`s it saw (as keys), and how many it took.
    let seen: Vec<(HashSet<[i64; 16]>, usize)> = thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                s.spawn(|| {
                    let (mut seen, mut count) = (HashSet::new(), 0);
                    started.fetch_add(1, Ordering::Relaxed);
                    while !done.load(Ordering::Relaxed) {
                        seen.insert(key(&f.metadata().unwrap()));
                        count += 1;
                    }
                    (seen, count)
                })
            })
            .collect();
        // Write only once every reader is running, so that they overlap.
        while started.load(Ordering::Relaxed) < READERS {
            thread::yield_now();
        }
        for i in 0..WRITER_OPS {
            write_step(&dir, &f, i);
            states.lock().unwrap().push(f.metadata().unwrap());
        }
        done.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let states = states.into_inner().unwrap();
    let keys: Vec<[i64; 16]> = states.iter().map(key).collect();
    // Per field: every value some state had.
    let fields: Vec<HashSet<i64>> = (0..16)
        .map(|i| keys.iter().map(|k| k[i]).collect())
        .collect();
    let stamps: HashSet<(i64, i64)> = states
        .iter()
        .flat_map(|m| [m.atime, m.mtime, m.ctime])
        .map(|t| (t.sec, t.nsec))
        .collect();
    let whole: HashSet<[i64; 16]> = keys.iter().copied().collect();
    assert!(seen.iter().all(|(_, count)| *count > 0), "every reader ran");
    for k in seen.iter().flat_map(|(keys, _)| keys) {
        for (i, (v, produced)) in k.iter().zip(&fields).enumerate() {
            assert!(
                produced.contains(v),
                "field {i} = {v} never produced: {k:?}"
            );
        }
        for (sec, nsec) in [(k[8], k[9]), (k[10], k[11]), (k[12], k[13])] {
            assert_eq!(nsec, nsec_of(sec), "torn time stamp in {k:?}");
            assert!(stamps.contains(&(sec, nsec)), "stamp never produced: {k:?}");
        }
        assert_eq!(k[1] as u32 & S_IFMT, S_IFREG);
        if S::NAME == <LockedStat as StatVariant>::NAME {
            assert!(whole.contains(k), "locked stat is a snapshot: {k:?}");
        }
    }
}

both_stats!(stat_sees_only_values_writers_produced);
