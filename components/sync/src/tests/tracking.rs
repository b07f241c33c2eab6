//! Debug lock tracking (`--features tracking`).

use std::panic;

use super::serial;
use crate::tracking::{DEADLOCK_SPINS, acquisitions};
use crate::{IrqSave, NoIrq, SpinLock};

#[test]
fn holder_is_recorded_while_held_and_cleared_on_release() {
    let lock: SpinLock<(), NoIrq> = SpinLock::new(());
    assert!(lock.holder().is_none());

    let g = lock.lock();
    let site = (file!(), line!() - 1);
    let holder = lock.holder().expect("recorded on acquire");
    assert_eq!((holder.file(), holder.line()), site);
    drop(g);
    assert!(lock.holder().is_none(), "cleared on release");

    let g = lock.try_lock().expect("free");
    let site = (file!(), line!() - 1);
    let holder = lock.holder().expect("try_lock records too");
    assert_eq!((holder.file(), holder.line()), site);
    drop(g);
    assert!(lock.holder().is_none());
}

#[test]
fn forced_flavours_are_tracked_too() {
    let _turn = serial(true);
    let lock: SpinLock<(), NoIrq> = SpinLock::new(());
    let g = lock.lock_irq_save();
    assert!(lock.holder().is_some());
    drop(g);
    assert!(lock.holder().is_none());

    let lock: SpinLock<(), IrqSave> = SpinLock::new(());
    let g = lock.lock_no_irq();
    assert!(lock.holder().is_some());
    drop(g);
    assert!(lock.holder().is_none());
}

#[test]
fn acquisitions_are_counted() {
    let lock: SpinLock<(), NoIrq> = SpinLock::new(());
    // Tests run concurrently and their locks count too, so only a lower bound is exact.
    let before = acquisitions();
    drop(lock.lock());
    drop(lock.try_lock());
    drop(lock.lock_no_irq());
    assert!(acquisitions() >= before + 3);
}

#[test]
#[should_panic(expected = "deadlock?")]
fn self_deadlock_panics() {
    const {
        assert!(
            DEADLOCK_SPINS < 50_000_000,
            "tests must use the lowered bound"
        )
    };
    let lock: SpinLock<(), NoIrq> = SpinLock::new(());
    let _held = lock.lock();
    let _again = lock.lock();
}

#[test]
fn deadlock_message_names_both_sites() {
    let lock: SpinLock<(), NoIrq> = SpinLock::new(());
    let _held = lock.lock();
    let held_line = line!() - 1;
    let wanted_line = line!() + 1;
    let message = panic::catch_unwind(panic::AssertUnwindSafe(|| drop(lock.lock())))
        .expect_err("a second lock on the same thread must be detected")
        .downcast::<String>()
        .expect("a formatted panic message");
    let file = file!();
    assert_eq!(
        *message,
        format!("lock held since {file}:{held_line}, wanted at {file}:{wanted_line}: deadlock?")
    );
}
