//! Shared helpers: a settable fake clock, name-based shortcuts over the `Inode` trait, and the
//! both-variants test macro.
#![allow(dead_code)]

use std::cell::Cell;
use std::sync::Arc;

use tessera_abi::KResult;
use tessera_abi::fs::Timespec;
use tessera_tmpfs::{StatVariant, Tmpfs};
use tessera_vfs::{FileType, Inode};

thread_local! {
    static NOW: Cell<i64> = const { Cell::new(1_000) };
}

/// The fake clock handed to tmpfs: the time set by [`set_time`] (per test thread).
pub fn clock() -> Timespec {
    NOW.with(|n| Timespec::new(n.get(), 0))
}

/// Set the fake clock.
pub fn set_time(sec: i64) {
    NOW.with(|n| n.set(sec));
}

/// Device number the tests give their tmpfs.
pub const DEV: u64 = 0x2a;

/// A fresh tmpfs of stat variant `S`.
pub fn tmpfs<S: StatVariant>() -> Tmpfs<S> {
    Tmpfs::new(DEV, clock)
}

/// Instantiate generic test functions `fn name<S: StatVariant>()` once per stat variant:
/// `locked::name` and `lockfree::name`.
#[macro_export]
macro_rules! both_stats {
    ($($name:ident),* $(,)?) => {
        mod locked {
            $( #[test] fn $name() { super::$name::<tessera_tmpfs::LockedStat>() } )*
        }
        mod lockfree {
            $( #[test] fn $name() { super::$name::<tessera_tmpfs::LockfreeStat>() } )*
        }
    };
}

/// A listed entry: name, inode number, type, next cookie.
pub type Listed = (Vec<u8>, u64, FileType, u64);

/// The entries of `dir` from `cookie`, `.` and `..` included.
pub fn list_from(dir: &Arc<dyn Inode>, cookie: u64) -> KResult<Vec<Listed>> {
    let mut out = Vec::new();
    dir.readdir(cookie, &mut |e| {
        out.push((e.name.to_vec(), e.ino, e.kind, e.next));
        true
    })?;
    Ok(out)
}

/// The names in `dir`, without `.` and `..`, in listing order.
pub fn names(dir: &Arc<dyn Inode>) -> Vec<String> {
    list_from(dir, 0)
        .unwrap()
        .into_iter()
        .map(|(n, ..)| String::from_utf8(n).unwrap())
        .filter(|n| n != "." && n != "..")
        .collect()
}

/// Everything `file` contains.
pub fn contents(file: &Arc<dyn Inode>) -> Vec<u8> {
    let size = file.metadata().unwrap().size as usize;
    let mut buf = vec![0xee; size + 16];
    let n = file.read_at(0, &mut buf).unwrap();
    assert_eq!(n, size, "read_at from 0 returns the whole file");
    buf.truncate(n);
    buf
}
