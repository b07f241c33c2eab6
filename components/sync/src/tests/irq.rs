//! What each policy does to the (emulated) interrupt flag.

use core::sync::atomic::{AtomicBool, Ordering};

use super::serial;
use crate::host_irq::are_enabled;
use crate::{IrqPolicy, IrqSave, NoIrq, SpinLock, SubsystemLock, SubsystemPolicy};

#[test]
fn irq_save_disables_while_held_and_restores_enabled() {
    let _turn = serial(true);
    let lock: SpinLock<u32, IrqSave> = SpinLock::new(0);
    {
        let mut g = lock.lock();
        *g += 1;
        assert!(
            !are_enabled(),
            "IF must be clear while an irq-save lock is held"
        );
    }
    assert!(
        are_enabled(),
        "IF was set before the lock, so release must set it again"
    );
    assert_eq!(lock.into_inner(), 1);
}

#[test]
fn irq_save_keeps_disabled_interrupts_disabled() {
    let _turn = serial(false);
    let lock: SpinLock<u32, IrqSave> = SpinLock::new(0);
    {
        let _g = lock.lock();
        assert!(!are_enabled());
    }
    assert!(
        !are_enabled(),
        "IF was clear before the lock, release must not set it"
    );
}

#[test]
fn nested_irq_save_locks_restore_in_lifo_order() {
    let _turn = serial(true);
    let outer: SpinLock<(), IrqSave> = SpinLock::new(());
    let inner: SpinLock<(), IrqSave> = SpinLock::new(());
    let a = outer.lock();
    assert!(!are_enabled());
    let b = inner.lock();
    assert!(!are_enabled());
    drop(b);
    assert!(
        !are_enabled(),
        "inner release restores the state the inner acquire saw: clear"
    );
    drop(a);
    assert!(
        are_enabled(),
        "outer release restores the state before everything: set"
    );
}

#[test]
fn no_irq_leaves_the_flag_alone() {
    for enabled in [true, false] {
        let _turn = serial(enabled);
        let lock: SpinLock<u32, NoIrq> = SpinLock::new(0);
        {
            let _g = lock.lock();
            assert_eq!(are_enabled(), enabled);
        }
        assert_eq!(are_enabled(), enabled);
        let _g = lock.try_lock().expect("lock is free");
        assert_eq!(are_enabled(), enabled);
    }
}

#[test]
fn forced_flavours_ignore_the_lock_policy() {
    let _turn = serial(true);
    let no_irq_lock: SpinLock<(), NoIrq> = SpinLock::new(());
    {
        let _g = no_irq_lock.lock_irq_save();
        assert!(
            !are_enabled(),
            "lock_irq_save disables even on a NoIrq lock"
        );
    }
    assert!(are_enabled());
    let irq_save_lock: SpinLock<(), IrqSave> = SpinLock::new(());
    {
        let _g = irq_save_lock.lock_no_irq();
        assert!(
            are_enabled(),
            "lock_no_irq leaves IF set even on an IrqSave lock"
        );
    }
    assert!(are_enabled());
}

#[test]
fn failed_try_lock_restores_the_flag() {
    let _turn = serial(true);
    let lock: SpinLock<(), IrqSave> = SpinLock::new(());
    let held = lock.lock_no_irq();
    assert!(lock.try_lock().is_none());
    assert!(
        are_enabled(),
        "a failed irq-save try_lock must undo its cli"
    );
    drop(held);
    let g = lock.try_lock().expect("lock is free again");
    assert!(
        !are_enabled(),
        "a successful irq-save try_lock holds with IF clear"
    );
    drop(g);
    assert!(are_enabled());
}

/// Set by [`Probe::exit`]: whether [`PROBED`] was already unlocked when interrupts came back.
static UNLOCKED_BEFORE_RESTORE: AtomicBool = AtomicBool::new(false);
static PROBED: SpinLock<(), Probe> = SpinLock::new(());

/// A policy whose `exit` observes the lock it belongs to.
struct Probe;

impl IrqPolicy for Probe {
    const NAME: &'static str = "probe";
    type Saved = ();
    fn enter() {}
    fn exit(_: ()) {
        UNLOCKED_BEFORE_RESTORE.store(!PROBED.is_locked(), Ordering::SeqCst);
    }
}

#[test]
fn guard_releases_the_lock_before_restoring_interrupts() {
    UNLOCKED_BEFORE_RESTORE.store(false, Ordering::SeqCst);
    drop(PROBED.lock());
    assert!(UNLOCKED_BEFORE_RESTORE.load(Ordering::SeqCst));
}

#[test]
fn subsystem_lock_uses_the_configured_policy() {
    let expected = if cfg!(feature = "subsystem-no-irq") {
        NoIrq::NAME
    } else {
        IrqSave::NAME
    };
    assert_eq!(SubsystemPolicy::NAME, expected);

    let _turn = serial(true);
    let lock: SubsystemLock<u32> = SubsystemLock::new(7);
    let g = lock.lock();
    assert_eq!(*g, 7);
    assert_eq!(are_enabled(), SubsystemPolicy::NAME == NoIrq::NAME);
    drop(g);
    assert!(are_enabled());
}
