use alloc::vec::Vec;

use proptest::prelude::*;
use tessera_abi::Errno;

use crate::*;

const A: Owner = Owner(1);
const B: Owner = Owner(2);
const C: Owner = Owner(3);

fn r(start: u64, end: u64) -> Range {
    Range { start, end }
}

fn locks_of(t: &RangeLocks, owner: Owner) -> Vec<(LockType, u64, u64)> {
    t.iter()
        .filter(|l| l.owner == owner)
        .map(|l| (l.kind, l.range.start, l.range.end))
        .collect()
}

use LockType::{Read, Write};

#[test]
fn posix_range_follows_linux() {
    let max = OFFSET_MAX as i64;
    assert_eq!(posix_range(0, 10, 5), Ok(r(10, 14)));
    assert_eq!(posix_range(0, 10, 0), Ok(r(10, OFFSET_MAX)));
    assert_eq!(posix_range(100, -10, 5), Ok(r(90, 94)));
    // A negative length locks the bytes before the start.
    assert_eq!(posix_range(0, 10, -4), Ok(r(6, 9)));
    assert_eq!(posix_range(0, 10, -10), Ok(r(0, 9)));
    assert_eq!(posix_range(0, 10, -11), Err(Errno::EINVAL));
    assert_eq!(posix_range(0, 0, -1), Err(Errno::EINVAL));
    assert_eq!(posix_range(0, -1, 1), Err(Errno::EINVAL));
    assert_eq!(posix_range(5, -6, 0), Err(Errno::EINVAL));
    assert_eq!(posix_range(0, i64::MIN, 0), Err(Errno::EINVAL));
    // Past OFFSET_MAX.
    assert_eq!(posix_range(1, max, 0), Err(Errno::EOVERFLOW));
    assert_eq!(posix_range(0, max, 1), Ok(r(OFFSET_MAX, OFFSET_MAX)));
    assert_eq!(posix_range(0, max, 2), Err(Errno::EOVERFLOW));
    assert_eq!(posix_range(0, 1, max), Ok(r(1, OFFSET_MAX)));
    assert_eq!(posix_range(0, 2, max), Err(Errno::EOVERFLOW));
    assert_eq!(posix_range(max, 0, -max), Ok(r(0, OFFSET_MAX - 1)));
    assert_eq!(posix_range(max, 0, i64::MIN), Err(Errno::EINVAL));
}

#[test]
fn unlocking_the_middle_splits() {
    let mut t = RangeLocks::new();
    assert_eq!(t.set(A, 1, false, Some(Write), r(0, 99)).conflict, None);
    let out = t.set(A, 1, false, None, r(40, 59));
    assert!(out.released);
    assert_eq!(locks_of(&t, A), [(Write, 0, 39), (Write, 60, 99)]);
    assert_eq!(t.test(B, Read, r(40, 59)), None);
    assert_eq!(t.test(B, Read, r(39, 39)).map(|l| l.range), Some(r(0, 39)));
    // Locking the hole again merges the three.
    assert!(!t.set(A, 1, false, Some(Write), r(40, 59)).released);
    assert_eq!(locks_of(&t, A), [(Write, 0, 99)]);
}

#[test]
fn different_types_split_and_same_types_merge() {
    let mut t = RangeLocks::new();
    t.set(A, 1, false, Some(Read), r(0, 9));
    t.set(A, 1, false, Some(Read), r(10, 19));
    assert_eq!(locks_of(&t, A), [(Read, 0, 19)]);
    t.set(A, 1, false, Some(Write), r(5, 7));
    assert_eq!(
        locks_of(&t, A),
        [(Read, 0, 4), (Write, 5, 7), (Read, 8, 19)]
    );
    // Back to read: one lock again.
    assert!(t.set(A, 1, false, Some(Read), r(5, 7)).released);
    assert_eq!(locks_of(&t, A), [(Read, 0, 19)]);
    // Unlocking what is not locked is fine and releases nothing.
    assert!(!t.set(A, 1, false, None, r(100, 200)).released);
    assert!(t.set(A, 1, false, None, Range::ALL).released);
    assert!(t.is_empty());
}

#[test]
fn conflicts_between_owners() {
    let mut t = RangeLocks::new();
    t.set(A, 1, false, Some(Read), r(0, 9));
    // Readers share, a writer conflicts with either.
    assert_eq!(t.set(B, 2, false, Some(Read), r(5, 14)).conflict, None);
    let c = t.set(C, 3, false, Some(Write), r(8, 8)).conflict.unwrap();
    assert_eq!((c.owner, c.pid, c.range), (A, 1, r(0, 9)));
    assert_eq!(t.test(C, Write, r(12, 20)).map(|l| l.owner), Some(B));
    assert_eq!(t.test(C, Write, r(15, 20)), None);
    // An owner's own locks never conflict; A upgrades only where B does not read.
    assert_eq!(t.set(A, 1, false, Some(Write), r(0, 4)).conflict, None);
    assert_eq!(
        t.set(A, 1, false, Some(Write), r(0, 9))
            .conflict
            .map(|l| l.owner),
        Some(B)
    );
    // Nothing changed on conflict.
    assert_eq!(locks_of(&t, A), [(Write, 0, 4), (Read, 5, 9)]);
    assert!(t.remove_owner(B));
    assert!(!t.remove_owner(B));
    assert_eq!(t.set(C, 3, false, Some(Write), r(10, 20)).conflict, None);
}

#[test]
fn the_first_conflict_is_the_first_owners() {
    let mut t = RangeLocks::new();
    t.set(B, 2, false, Some(Read), r(50, 59));
    t.set(A, 1, false, Some(Read), r(0, 9));
    t.set(B, 2, false, Some(Read), r(0, 9));
    // B locked first, so its locks come first.
    assert_eq!(t.test(C, Write, Range::ALL).map(|l| l.range), Some(r(0, 9)));
    assert_eq!(t.test(C, Write, Range::ALL).map(|l| l.owner), Some(B));
}

#[test]
fn flock_conversion_drops_the_old_lock_first() {
    let mut t = FlockLocks::new();
    assert_eq!(t.set(A, 1, Some(Read)).conflict, None);
    assert_eq!(t.set(B, 2, Some(Read)).conflict, None);
    // Same type again: nothing happens.
    assert_eq!(
        t.set(A, 1, Some(Read)),
        SetOutcome {
            released: false,
            conflict: None
        }
    );
    // A's upgrade meets B's shared lock and leaves A with nothing.
    let out = t.set(A, 1, Some(Write));
    assert!(out.released);
    assert_eq!(out.conflict.map(|l| l.owner), Some(B));
    assert_eq!(t.iter().count(), 1);
    assert!(t.remove_owner(B));
    assert_eq!(t.set(A, 1, Some(Write)).conflict, None);
    assert_eq!(t.set(B, 2, Some(Read)).conflict.map(|l| l.owner), Some(A));
    // Downgrading is a conversion too.
    assert!(t.set(A, 1, Some(Read)).released);
    assert_eq!(t.set(B, 2, Some(Read)).conflict, None);
    assert!(!t.set(C, 3, None).released);
}

#[test]
fn deadlock_chains() {
    let mut g = WaitGraph::new();
    // A waits for B: B waiting for A would close the cycle.
    g.wait(10, A, 7, B);
    assert!(g.would_deadlock(B, A));
    assert!(!g.would_deadlock(C, A));
    // A longer chain: C waits for A, and B asks to wait for C.
    g.wait(11, C, 8, A);
    assert!(g.would_deadlock(B, C));
    // B releasing its lock on file 7 wakes A: no cycle any more.
    g.wake(7, B);
    assert!(!g.would_deadlock(B, C));
    g.stop_waiting(11);
    assert!(g.is_empty());
}

#[test]
fn deadlock_search_gives_up_on_long_chains() {
    let mut g = WaitGraph::new();
    // Owner i waits for owner i + 1; owner 0 asks to wait for owner 1.
    for i in 1..=30 {
        g.wait(i, Owner(i as usize), 0, Owner(i as usize + 1));
    }
    g.wait(100, Owner(31), 0, Owner(0));
    assert!(!g.would_deadlock(Owner(0), Owner(1)));
    assert!(g.would_deadlock(Owner(0), Owner(25)));
}

/// The model: for each of three owners, the lock type held on each of 32 bytes.
const BYTES: u64 = 32;

#[derive(Clone, Debug)]
enum Op {
    Set(usize, Option<LockType>, u64, u64),
    Remove(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let kind = prop_oneof![Just(None), Just(Some(Read)), Just(Some(Write))];
    prop_oneof![
        8 => (0..3usize, kind, 0..BYTES, 0..BYTES).prop_map(|(o, k, a, b)| Op::Set(
            o,
            k,
            a.min(b),
            a.max(b)
        )),
        1 => (0..3usize).prop_map(Op::Remove),
    ]
}

fn expand(t: &RangeLocks, owner: Owner) -> [Option<LockType>; BYTES as usize] {
    let mut bytes = [None; BYTES as usize];
    for l in t.iter().filter(|l| l.owner == owner) {
        for b in l.range.start..=l.range.end.min(BYTES - 1) {
            assert!(
                bytes[b as usize].is_none(),
                "overlapping locks of one owner"
            );
            bytes[b as usize] = Some(l.kind);
        }
    }
    bytes
}

fn check_shape(t: &RangeLocks) {
    let locks: Vec<&Lock> = t.iter().collect();
    let mut seen = Vec::new();
    for (i, l) in locks.iter().enumerate() {
        if i == 0 || locks[i - 1].owner != l.owner {
            assert!(
                !seen.contains(&l.owner),
                "an owner's locks are not together"
            );
            seen.push(l.owner);
        } else {
            let prev = locks[i - 1];
            assert!(prev.range.end < l.range.start, "not sorted");
            assert!(
                prev.kind != l.kind || prev.range.end + 1 < l.range.start,
                "two locks of one type side by side"
            );
        }
    }
}

proptest! {
    #[test]
    fn range_locks_match_a_byte_model(ops in proptest::collection::vec(op(), 1..60)) {
        let owners = [A, B, C];
        let mut t = RangeLocks::new();
        let mut model = [[None; BYTES as usize]; 3];
        for op in ops {
            match op {
                Op::Set(o, kind, start, end) => {
                    let conflict = kind.and_then(|k| {
                        (0..3).filter(|&other| other != o).find(|&other| {
                            (start..=end).any(|b| match model[other][b as usize] {
                                None => false,
                                Some(held) => held == Write || k == Write,
                            })
                        })
                    });
                    if let Some(k) = kind {
                        prop_assert_eq!(t.test(owners[o], k, r(start, end)).is_some(), conflict.is_some());
                    }
                    let out = t.set(owners[o], o as u32, false, kind, r(start, end));
                    prop_assert_eq!(out.conflict.is_some(), conflict.is_some());
                    if let Some(c) = out.conflict {
                        prop_assert!(c.owner != owners[o] && c.range.overlaps(&r(start, end)));
                    } else {
                        let weakened = (start..=end)
                            .any(|b| model[o][b as usize].is_some_and(|held| Some(held) != kind));
                        prop_assert_eq!(out.released, weakened);
                        for b in start..=end {
                            model[o][b as usize] = kind;
                        }
                    }
                }
                Op::Remove(o) => {
                    let held = model[o].iter().any(Option::is_some);
                    prop_assert_eq!(t.remove_owner(owners[o]), held);
                    model[o] = [None; BYTES as usize];
                }
            }
            check_shape(&t);
            for o in 0..3 {
                prop_assert_eq!(expand(&t, owners[o]), model[o]);
            }
        }
    }
}
