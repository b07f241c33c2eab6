//! Spin locks whose interrupt behaviour is a policy type parameter.
//!
//! A [`SpinLock<T, P>`] protects a `T`; its policy `P: IrqPolicy` says what happens to the
//! CPU's interrupt flag (RFLAGS.IF) around the critical section. The point is A/B benchmarking:
//! subsystems that are never entered from interrupt context use [`SubsystemLock`], and the kernel
//! config chooses, through a Cargo feature, whether those locks pay for saving and disabling
//! interrupts or not. Locks shared with interrupt handlers name [`IrqSave`] explicitly and are
//! not affected by the config. The design follows Theseus' `irq_safety` locks.
//!
//! # Variants (policies)
//!
//! | Policy      | `NAME`     | Acquire                     | Release (after unlocking)   |
//! |-------------|------------|-----------------------------|-----------------------------|
//! | [`IrqSave`] | `irq-save` | remember IF, `cli`, spin    | `sti` only if IF was set    |
//! | [`NoIrq`]   | `no-irq`   | spin                        | nothing                     |
//!
//! [`SubsystemPolicy`] is `NoIrq` with feature `subsystem-no-irq`, else `IrqSave` (feature
//! `subsystem-irq-save`, the default). That "exactly one" is enabled is not checked here, so that
//! host tests build with any set of the features (`--features subsystem-no-irq` on top of the
//! default runs the suite with `NoIrq`): a kernel's config validation checks it, and its
//! selection point (`variants.rs`) refuses two or none with a `compile_error!`.
//!
//! # Operations
//!
//! | Operation                     | Interrupts while held           | Notes                           |
//! |-------------------------------|---------------------------------|---------------------------------|
//! | [`SpinLock::new`]             | -                               | `const`, usable in statics      |
//! | [`SpinLock::lock`]            | as the lock's policy `P` says   | spins until acquired            |
//! | [`SpinLock::try_lock`]        | as `P` says                     | `None` if held; IF untouched    |
//! | [`SpinLock::lock_irq_save`]   | disabled, restored on release   | forces [`IrqSave`]              |
//! | [`SpinLock::lock_no_irq`]     | unchanged                       | forces [`NoIrq`]                |
//! | [`SpinLock::is_locked`]       | -                               | a racy hint, not synchronisation |
//! | [`SpinLock::into_inner`]      | -                               | consumes the lock               |
//! | [`SpinLock::get_mut`]         | -                               | `&mut` proves exclusivity       |
//!
//! Dropping a [`SpinLockGuard`] releases the lock *then* restores interrupts, so an interrupt
//! handler that runs as soon as IF is set again finds the lock free.
//!
//! # Features
//!
//! - `subsystem-irq-save` (default) / `subsystem-no-irq`: choose [`SubsystemPolicy`].
//! - `tracking`: debug lock tracking (module `tracking`): every acquire records its call site in
//!   the lock (`SpinLock::holder`), every release clears it, a global counter
//!   (`tracking::acquisitions`) counts acquisitions, and a spin longer than
//!   `tracking::DEADLOCK_SPINS` iterations panics with
//!   `lock held since <file:line>, wanted at <file:line>: deadlock?`. Every acquire is also
//!   checked against the lock order seen so far (module `order`): each CPU keeps a stack of the
//!   locks it holds, and taking a lock of class B while holding one of class A, when A was
//!   taken while B was held before, panics with
//!   `lock order inversion: ... wanted at <place> while holding ... (taken at <place>), but
//!   earlier ...` and the places of the earlier order; taking a lock this CPU already holds
//!   panics as a deadlock at once. A class is where the lock was created (`SpinLock::new`'s
//!   call site). [`interrupt_context`], [`assert_no_locks_held`], [`ordered_before`] and
//!   [`locks_held`] exist with and without the feature (without it they do nothing). Without
//!   the feature the lock has no extra fields and does no extra work.
//!
//! # The interrupt flag on the host
//!
//! `cli`/`sti` are privileged, so on the host (`cfg(not(target_os = "none"))`) the flag is
//! emulated by one global atomic, readable and settable through the host-only `host_irq`
//! module; the policy code is the same on both. On the kernel target the flag is the real RFLAGS.IF, through the `x86_64`
//! crate's safe wrappers.
//!
//! # Adding a policy
//!
//! 1. Add a unit struct in `policy.rs` and implement [`IrqPolicy`] for it: a unique `NAME`, the
//!    CPU state to remember in `Saved`, and `enter`/`exit`, which must be exact inverses.
//! 2. If a config should be able to pick it for subsystems, add a `subsystem-<name>` feature in
//!    `Cargo.toml` and a branch for it in the `SubsystemPolicy` selection below (the kernel's
//!    config schema and `variants.rs` check that a kernel enables exactly one).
//! 3. Add host tests in `src/tests/irq.rs` for what it does to the emulated interrupt flag.
//!
//! Also re-exported for kernels: [`Once`], [`LazyLock`] and its older name [`Lazy`] from `spin`.

#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

// The host's lock tracking keeps each thread's held locks in a thread-local.
#[cfg(all(feature = "tracking", not(target_os = "none"), not(test)))]
extern crate std;

#[cfg(not(target_os = "none"))]
pub mod host_irq;
mod irq_flag;
mod lock;
#[cfg(feature = "tracking")]
mod order;
mod policy;
#[cfg(feature = "tracking")]
pub mod tracking;

#[cfg(test)]
mod tests;

pub use lock::{SpinLock, SpinLockGuard};
pub use policy::{IrqPolicy, IrqSave, NoIrq};
pub use spin::{LazyLock, Once};

/// Runs `f`, an interrupt handler, as a context of its own for lock order checking (with
/// feature `tracking`; without it, this is `f()`): the locks the interrupted code holds are
/// not ordered before those `f` takes, since on one CPU a handler never waits for the code
/// it interrupted (it would deadlock whatever the order, and taking one of those very locks
/// is reported as a deadlock).
#[inline(always)]
pub fn interrupt_context<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "tracking")]
    {
        let base = order::enter_interrupt();
        let result = f();
        order::leave_interrupt(base);
        result
    }
    #[cfg(not(feature = "tracking"))]
    f()
}

/// With feature `tracking`, panics if this CPU holds a lock, naming where the last one was
/// taken and `what` the caller is about to do; without it, nothing. For places that must
/// hold none: a context switch (the CPU's record of held locks would mix two tasks', and a
/// task asleep with a spin lock stops everyone who wants it).
#[inline(always)]
pub fn assert_no_locks_held(what: &str) {
    #[cfg(feature = "tracking")]
    if let Some(site) = order::last_held() {
        panic!(
            "{} lock(s) held at {what}, the last taken at {site}",
            order::held()
        );
    }
    #[cfg(not(feature = "tracking"))]
    let _ = what;
}

/// With feature `tracking`, whether a lock of `then`'s class has been taken while one of
/// `first`'s was held (directly, or through other classes): the order graph lock order
/// checking keeps. Without the feature, `false`. For self-tests, which cannot provoke the
/// panic of an inversion.
pub fn ordered_before<T: ?Sized, P: IrqPolicy, U: ?Sized, Q: IrqPolicy>(
    first: &SpinLock<T, P>,
    then: &SpinLock<U, Q>,
) -> bool {
    #[cfg(feature = "tracking")]
    return tracking::ordered_before(first, then);
    #[cfg(not(feature = "tracking"))]
    {
        let _ = (first, then);
        false
    }
}

/// One order lock tracking recorded: a lock created at `taken` was taken while one created at
/// `held` was held, first seen with the held lock taken at `held_at` and the other at
/// `taken_at`.
#[derive(Clone, Copy, Debug)]
pub struct LockOrder {
    /// Where the locks of the class held first were created.
    pub held: &'static core::panic::Location<'static>,
    /// Where the locks of the class taken second were created.
    pub taken: &'static core::panic::Location<'static>,
    /// Where the first lock was taken, the first time this order was seen.
    pub held_at: &'static core::panic::Location<'static>,
    /// Where the second lock was taken, the first time this order was seen.
    pub taken_at: &'static core::panic::Location<'static>,
}

/// With feature `tracking`, calls `f` with every order recorded so far (what lock order
/// checking checks against), in the order first seen; without it, never.
pub fn lock_orders(mut f: impl FnMut(&LockOrder)) {
    #[cfg(feature = "tracking")]
    order::for_each_order(|held, taken, held_at, taken_at| {
        f(&LockOrder {
            held,
            taken,
            held_at,
            taken_at,
        })
    });
    #[cfg(not(feature = "tracking"))]
    let _ = &mut f;
}

/// With feature `tracking`, how many locks this CPU holds; without it, 0.
pub fn locks_held() -> usize {
    #[cfg(feature = "tracking")]
    return order::held();
    #[cfg(not(feature = "tracking"))]
    0
}

/// A value initialised on first access: `spin::LazyLock` under the name `spin` 0.9 used and
/// many kernels still spell (spin 0.12 deprecates its own `Lazy` alias).
pub type Lazy<T, F = fn() -> T> = spin::LazyLock<T, F>;

/// The interrupt policy of locks in subsystems never entered from interrupt context, chosen by
/// the kernel config: here [`IrqSave`] (feature `subsystem-irq-save`, or no `subsystem-*`
/// feature at all).
#[cfg(not(feature = "subsystem-no-irq"))]
pub type SubsystemPolicy = IrqSave;

/// The interrupt policy of locks in subsystems never entered from interrupt context, chosen by
/// the kernel config: here [`NoIrq`] (feature `subsystem-no-irq`).
#[cfg(feature = "subsystem-no-irq")]
pub type SubsystemPolicy = NoIrq;

/// The lock for subsystems never entered from interrupt context: its [`SpinLock::lock`] uses
/// [`SubsystemPolicy`], which the kernel config picks. Never share one with an interrupt handler:
/// under `subsystem-no-irq` the handler could spin forever on a lock its own CPU holds.
pub type SubsystemLock<T> = SpinLock<T, SubsystemPolicy>;
