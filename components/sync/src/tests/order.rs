//! Lock order checking (`--features tracking`), for every policy.
//!
//! A class is a creation site, so every test creates its locks on lines of its own; the two
//! instances of a test (one per policy) share those classes and make the same orders, so they
//! may run at once.

use std::panic::{self, AssertUnwindSafe};

use super::serial;
use crate::tracking::{held, ordered_before};
use crate::{IrqPolicy, IrqSave, NoIrq, SpinLock, assert_no_locks_held, interrupt_context};

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("must panic");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

/// `file:line` of this file, as panic messages print places (with a column after).
fn at(line: u32) -> String {
    format!("{}:{line}:", file!())
}

fn consistent_order_is_silent<P: IrqPolicy>() {
    let a: SpinLock<u32, P> = SpinLock::new(0);
    let b: SpinLock<u32, P> = SpinLock::new(0);
    for _ in 0..2 {
        let ga = a.lock();
        let gb = b.lock();
        assert_eq!(held(), 2);
        drop(gb);
        drop(ga);
    }
    assert_eq!(held(), 0);
    assert!(ordered_before(&a, &b));
    assert!(!ordered_before(&b, &a));
}

fn inversion_panics_with_both_places<P: IrqPolicy>() {
    let a: SpinLock<u32, P> = SpinLock::new(0);
    let (a_made, b_made) = (line!() - 1, line!() + 1);
    let b: SpinLock<u32, P> = SpinLock::new(0);
    {
        let _ga = a.lock();
        let _gb = b.lock();
    }
    let (a_first, b_second) = (line!() - 3, line!() - 2);
    let message = panic_message(|| {
        let _gb = b.lock();
        let _ga = a.lock();
    });
    let (b_held, a_wanted) = (line!() - 3, line!() - 2);
    assert!(message.starts_with("lock order inversion: "), "{message}");
    for (what, line) in [
        ("a's class", a_made),
        ("b's class", b_made),
        ("the first order's holder", a_first),
        ("the first order's taker", b_second),
        ("the lock held now", b_held),
        ("the lock wanted now", a_wanted),
    ] {
        assert!(
            message.contains(&at(line)),
            "{what} missing from: {message}"
        );
    }
    assert_eq!(held(), 0, "unwinding released b");
    // The order stays recorded; the inverted one was never added.
    assert!(ordered_before(&a, &b) && !ordered_before(&b, &a));
}

fn transitive_inversion_panics<P: IrqPolicy>() {
    let a: SpinLock<u32, P> = SpinLock::new(0);
    let b: SpinLock<u32, P> = SpinLock::new(0);
    let c: SpinLock<u32, P> = SpinLock::new(0);
    {
        let _ga = a.lock();
        let _gb = b.lock();
    }
    {
        let _gb = b.lock();
        let _gc = c.lock();
    }
    assert!(ordered_before(&a, &c), "a before b before c");
    let message = panic_message(|| {
        let _gc = c.lock();
        let _ga = a.lock();
    });
    assert!(message.starts_with("lock order inversion: "), "{message}");
    assert!(message.contains("; then "), "the chain a, b, c: {message}");
}

/// Every lock this creates is one class.
fn lock_of_one_class<P: IrqPolicy>() -> SpinLock<u32, P> {
    SpinLock::new(0)
}

fn one_class_nests_both_ways<P: IrqPolicy>() {
    let (x, y) = (lock_of_one_class::<P>(), lock_of_one_class::<P>());
    {
        let _gx = x.lock();
        let _gy = y.lock();
    }
    {
        let _gy = y.lock();
        let _gx = x.lock();
    }
    assert!(!ordered_before(&x, &y));
}

fn try_lock_adds_no_order<P: IrqPolicy>() {
    let a: SpinLock<u32, P> = SpinLock::new(0);
    let b: SpinLock<u32, P> = SpinLock::new(0);
    {
        let _gb = b.lock();
        let _ga = a.try_lock().expect("free");
        assert_eq!(held(), 2, "a try_lock'ed lock is held");
    }
    assert!(!ordered_before(&b, &a));
    let _ga = a.lock();
    let _gb = b.lock();
}

fn interrupt_handlers_start_an_order_of_their_own<P: IrqPolicy>() {
    let a: SpinLock<u32, P> = SpinLock::new(0);
    let b: SpinLock<u32, P> = SpinLock::new(0);
    {
        let _ga = a.lock();
        interrupt_context(|| drop(b.lock()));
    }
    assert!(!ordered_before(&a, &b));
    {
        let _gb = b.lock();
        let _ga = a.lock();
    }
    let _ga = a.lock();
    let message = panic_message(|| interrupt_context(|| drop(a.lock())));
    assert!(
        message.ends_with("deadlock?"),
        "a handler taking what it interrupted holds: {message}"
    );
    assert_eq!(held(), 1);
}

fn guards_may_drop_in_any_order<P: IrqPolicy>() {
    let a: SpinLock<u32, P> = SpinLock::new(0);
    let b: SpinLock<u32, P> = SpinLock::new(0);
    let c: SpinLock<u32, P> = SpinLock::new(0);
    let ga = a.lock();
    let gb = b.lock();
    let gc = c.lock();
    drop(ga);
    assert_eq!(held(), 2);
    drop(gc);
    drop(gb);
    assert_eq!(held(), 0);
    assert_no_locks_held("the end of the test");
}

fn holding_a_lock_where_none_may_be_held_panics<P: IrqPolicy>() {
    let a: SpinLock<u32, P> = SpinLock::new(0);
    let _ga = a.lock();
    let taken = line!() - 1;
    let message = panic_message(|| assert_no_locks_held("a context switch"));
    assert!(message.contains("at a context switch"), "{message}");
    assert!(message.contains(&at(taken)), "{message}");
}

fn the_same_lock_twice_is_a_deadlock_at_once<P: IrqPolicy>() {
    let a: SpinLock<u32, P> = SpinLock::new(0);
    let _ga = a.lock();
    let message = panic_message(|| drop(a.lock_no_irq()));
    assert!(message.ends_with("deadlock?"), "{message}");
}

/// One test per (case, policy), each holding the interrupt flag's turn (irq-save locks
/// change the one emulated flag).
macro_rules! every_policy {
    ($($case:ident),* $(,)?) => {
        mod irq_save {
            $(#[test]
            fn $case() {
                let _turn = super::serial(true);
                super::$case::<super::IrqSave>();
            })*
        }
        mod no_irq {
            $(#[test]
            fn $case() {
                let _turn = super::serial(true);
                super::$case::<super::NoIrq>();
            })*
        }
    };
}

every_policy!(
    consistent_order_is_silent,
    inversion_panics_with_both_places,
    transitive_inversion_panics,
    one_class_nests_both_ways,
    try_lock_adds_no_order,
    interrupt_handlers_start_an_order_of_their_own,
    guards_may_drop_in_any_order,
    holding_a_lock_where_none_may_be_held_panics,
    the_same_lock_twice_is_a_deadlock_at_once,
);
