//! Mutual exclusion and the non-interrupt parts of the API.

use std::thread;

use super::serial;
use crate::{IrqPolicy, IrqSave, NoIrq, SpinLock};

const THREADS: u64 = 4;
const ROUNDS: u64 = 10_000;

/// Several threads do a deliberately non-atomic read-modify-write under the lock; any lost
/// update means two of them were inside at once.
fn hammer<P: IrqPolicy>() {
    let lock: SpinLock<u64, P> = SpinLock::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..ROUNDS {
                    let mut g = lock.lock();
                    let seen = *g;
                    std::hint::spin_loop();
                    *g = seen + 1;
                }
            });
        }
    });
    assert!(!lock.is_locked());
    assert_eq!(lock.into_inner(), THREADS * ROUNDS);
}

#[test]
fn irq_save_lock_excludes_threads() {
    // The threads share the one emulated flag, so they would disturb other tests' view of it.
    let _turn = serial(true);
    hammer::<IrqSave>();
}

#[test]
fn no_irq_lock_excludes_threads() {
    hammer::<NoIrq>();
}

#[test]
fn try_lock_fails_while_held() {
    let lock: SpinLock<u32, NoIrq> = SpinLock::new(1);
    let g = lock.lock();
    assert!(lock.is_locked());
    assert!(lock.try_lock().is_none());
    drop(g);
    assert!(!lock.is_locked());
    let mut g = lock.try_lock().expect("free after release");
    *g = 2;
    drop(g);
    assert_eq!(lock.into_inner(), 2);
}

#[test]
fn get_mut_default_and_debug() {
    let mut lock: SpinLock<Vec<u8>, NoIrq> = SpinLock::default();
    lock.get_mut().push(3);
    assert_eq!(*lock.lock(), [3]);
    assert_eq!(
        format!("{lock:?}"),
        "SpinLock { policy: \"no-irq\", locked: false, .. }"
    );
    assert_eq!(format!("{:?}", lock.lock()), "[3]");
}

#[test]
fn unsized_values_can_be_locked() {
    let lock: &SpinLock<[u8], NoIrq> = &SpinLock::new([1, 2, 3]);
    lock.lock()[1] = 20;
    assert_eq!(&*lock.lock(), &[1, 20, 3]);
}
