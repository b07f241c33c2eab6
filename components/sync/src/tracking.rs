//! Debug lock tracking (feature `tracking`).
//!
//! The cost Kevlar's blog post "Beating Linux: Syscall Performance in a Rust Kernel" found in
//! its debug builds: deadlock tracking in the spin lock, an atomic store on every release, so
//! that turning debug assertions off made each acquire/release about 10 ns cheaper there.
//! Here it is a feature of its own (config `profile.lock-tracking`): every acquire stores its
//! call site in the lock and bumps a global counter, every release clears the call site (one
//! atomic store), and waiting spins count iterations so a deadlock panics with both call
//! sites instead of hanging. Every acquire is also checked against the lock order seen so far
//! (module `order`, re-exported here): an order inversion panics with the places of both
//! orders, and taking a lock this CPU already holds panics as a deadlock at once.

use core::panic::Location;
use core::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::atomic::AtomicCell;
use spin::mutex::{SpinMutex, SpinMutexGuard};

use crate::order::{self, ClassSlot};
pub use crate::order::{MAX_CLASSES, MAX_EDGES, MAX_HELD, classes, held, last_held, orders};

/// Spin iterations after which a waiting acquire gives up and panics as a presumed deadlock.
/// Far above any legitimate wait in the kernel (tens of milliseconds of `pause`); tests use a
/// lower bound so the deadlock test is quick, but high enough that a lock holder the host OS
/// preempts is not mistaken for a deadlock.
pub const DEADLOCK_SPINS: u64 = if cfg!(test) { 1 << 22 } else { 50_000_000 };

/// Successful acquisitions of all tracked locks since boot.
static ACQUISITIONS: AtomicU64 = AtomicU64::new(0);

/// How many times any [`SpinLock`](crate::SpinLock) has been acquired (by any method, including
/// successful `try_lock`s) since boot.
pub fn acquisitions() -> u64 {
    ACQUISITIONS.load(Ordering::Relaxed)
}

/// What a lock records for tracking: where its current holder acquired it (`&'static
/// Location` fits one word, so this is a plain atomic load/store), and its class (where the
/// lock was created).
pub(crate) struct HolderSlot {
    holder: AtomicCell<Option<&'static Location<'static>>>,
    class: ClassSlot,
}

impl HolderSlot {
    /// The slot of a lock created at the caller's call site.
    #[track_caller]
    pub(crate) const fn new() -> Self {
        Self {
            holder: AtomicCell::new(None),
            class: ClassSlot::new(),
        }
    }

    pub(crate) fn get(&self) -> Option<&'static Location<'static>> {
        self.holder.load()
    }

    /// Which lock this is (its slot's address: one per lock).
    fn id(&self) -> usize {
        core::ptr::from_ref(self).addr()
    }

    /// The lock's class index in the order graph, if it has one.
    pub(crate) fn class(&self) -> Option<u16> {
        self.class.index()
    }

    /// Where the lock was created.
    pub(crate) fn created_at(&self) -> &'static Location<'static> {
        self.class.site()
    }
}

/// Proof that the holder was recorded; clears the record when dropped. The guard drops it
/// before unlocking, so it never erases the record of the next holder.
pub(crate) struct Held<'a>(&'a HolderSlot);

impl<'a> Held<'a> {
    /// Records the caller as holder of the (just acquired) lock owning `slot`, and the lock
    /// as held by this CPU.
    #[inline]
    #[track_caller]
    pub(crate) fn record(slot: &'a HolderSlot) -> Self {
        let site = Location::caller();
        slot.holder.store(Some(site));
        ACQUISITIONS.fetch_add(1, Ordering::Relaxed);
        order::acquired(slot.id(), slot.class(), site);
        Self(slot)
    }
}

impl Drop for Held<'_> {
    #[inline]
    fn drop(&mut self) {
        order::released(self.0.id());
        self.0.holder.store(None);
    }
}

/// Whether the order graph has a chain of recorded orders from `first`'s class to `then`'s:
/// a lock of `then`'s class was taken while one of `first`'s was held (or through other
/// classes). For self-tests, which cannot provoke the panic of an inversion.
pub fn ordered_before<T: ?Sized, P: crate::IrqPolicy, U: ?Sized, Q: crate::IrqPolicy>(
    first: &crate::SpinLock<T, P>,
    then: &crate::SpinLock<U, Q>,
) -> bool {
    match (first.tracking().class(), then.tracking().class()) {
        (Some(a), Some(b)) => order::ordered(a, b),
        _ => false,
    }
}

/// `SpinMutex::lock`, but checking the lock order first (see module `order`) and then
/// counting spins, panicking after [`DEADLOCK_SPINS`] of them.
#[inline]
#[track_caller]
pub(crate) fn spin_acquire<'a, T: ?Sized>(
    mutex: &'a SpinMutex<T>,
    holder: &HolderSlot,
) -> SpinMutexGuard<'a, T> {
    order::before_acquire(holder.id(), holder.class(), Location::caller());
    let mut spins: u64 = 0;
    loop {
        if let Some(data) = mutex.try_lock_weak() {
            return data;
        }
        // Spin on a plain load rather than retrying the CAS, like `SpinMutex::lock`: the cache
        // line stays shared until the holder releases it.
        while mutex.is_locked() {
            core::hint::spin_loop();
            spins += 1;
            if spins >= DEADLOCK_SPINS {
                deadlock(holder.get(), Location::caller());
            }
        }
    }
}

#[cold]
#[inline(never)]
pub(crate) fn deadlock(held: Option<&'static Location<'static>>, wanted: &Location<'_>) -> ! {
    match held {
        Some(held) => panic!(
            "lock held since {}:{}, wanted at {}:{}: deadlock?",
            held.file(),
            held.line(),
            wanted.file(),
            wanted.line()
        ),
        // The holder is between acquiring and recording, or stalled between clearing and
        // unlocking: still worth reporting, just without its site.
        None => panic!(
            "lock held since <unrecorded>, wanted at {}:{}: deadlock?",
            wanted.file(),
            wanted.line()
        ),
    }
}
