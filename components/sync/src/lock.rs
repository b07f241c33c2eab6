//! [`SpinLock`] and its guard.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use spin::mutex::{SpinMutex, SpinMutexGuard};

use crate::policy::{IrqPolicy, IrqSave, NoIrq};

/// A spin lock whose [`lock`](Self::lock) uses interrupt policy `P`.
/// [`lock_irq_save`](Self::lock_irq_save) and [`lock_no_irq`](Self::lock_no_irq) force a flavour
/// regardless of `P`.
pub struct SpinLock<T: ?Sized, P: IrqPolicy = IrqSave> {
    /// `fn() -> P`: the policy is a compile-time choice, it must not affect `Send`/`Sync`.
    policy: PhantomData<fn() -> P>,
    /// Where the current holder acquired the lock.
    #[cfg(feature = "tracking")]
    holder: crate::tracking::HolderSlot,
    /// Last, because `T` may be unsized.
    inner: SpinMutex<T>,
}

impl<T, P: IrqPolicy> SpinLock<T, P> {
    /// Creates an unlocked lock holding `value`. With lock tracking, the call site is the
    /// lock's class (see module `order`): every lock created here is ordered as one.
    #[cfg_attr(feature = "tracking", track_caller)]
    pub const fn new(value: T) -> Self {
        Self {
            policy: PhantomData,
            #[cfg(feature = "tracking")]
            holder: crate::tracking::HolderSlot::new(),
            inner: SpinMutex::new(value),
        }
    }

    /// Consumes the lock and returns the protected value.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized, P: IrqPolicy> SpinLock<T, P> {
    /// Acquires the lock with the lock's policy `P`, spinning until it is free.
    #[inline]
    #[cfg_attr(feature = "tracking", track_caller)]
    pub fn lock(&self) -> SpinLockGuard<'_, T, P> {
        self.acquire()
    }

    /// Acquires the lock with policy `P` if it is free right now. On failure the interrupt
    /// flag is left as it was.
    #[inline]
    #[cfg_attr(feature = "tracking", track_caller)]
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T, P>> {
        let saved = P::enter();
        match self.inner.try_lock() {
            Some(data) => Some(self.guard(data, saved)),
            None => {
                P::exit(saved);
                None
            }
        }
    }

    /// Acquires the lock without touching interrupts, whatever `P` is.
    #[inline]
    #[cfg_attr(feature = "tracking", track_caller)]
    pub fn lock_no_irq(&self) -> SpinLockGuard<'_, T, NoIrq> {
        self.acquire()
    }

    /// Acquires the lock with interrupts saved and disabled until the guard drops, whatever
    /// `P` is.
    #[inline]
    #[cfg_attr(feature = "tracking", track_caller)]
    pub fn lock_irq_save(&self) -> SpinLockGuard<'_, T, IrqSave> {
        self.acquire()
    }

    /// Whether someone holds the lock. Out of date as soon as it returns: a hint for
    /// assertions and diagnostics, never for synchronisation.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// The protected value, without locking: `&mut self` already proves nobody else holds it.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Where the current holder acquired the lock, or `None` if it is free (or the holder is
    /// between acquiring and recording). Racy like [`is_locked`](Self::is_locked). Always
    /// `None` without the `tracking` feature, which records nothing.
    pub fn holder(&self) -> Option<&'static core::panic::Location<'static>> {
        #[cfg(feature = "tracking")]
        return self.holder.get();
        #[cfg(not(feature = "tracking"))]
        None
    }

    /// Where the lock was created: its class for lock order checking. Always `None`
    /// without the `tracking` feature.
    pub fn created_at(&self) -> Option<&'static core::panic::Location<'static>> {
        #[cfg(feature = "tracking")]
        return Some(self.holder.created_at());
        #[cfg(not(feature = "tracking"))]
        None
    }

    #[cfg(feature = "tracking")]
    pub(crate) fn tracking(&self) -> &crate::tracking::HolderSlot {
        &self.holder
    }

    /// Interrupts first, then the lock: once this CPU holds the lock no interrupt handler on it
    /// can run and spin on it.
    #[inline]
    #[cfg_attr(feature = "tracking", track_caller)]
    fn acquire<Q: IrqPolicy>(&self) -> SpinLockGuard<'_, T, Q> {
        let saved = Q::enter();
        #[cfg(not(feature = "tracking"))]
        let data = self.inner.lock();
        #[cfg(feature = "tracking")]
        let data = crate::tracking::spin_acquire(&self.inner, &self.holder);
        self.guard(data, saved)
    }

    /// Wraps a freshly acquired spin guard, recording the holder when tracking.
    #[inline]
    #[cfg_attr(feature = "tracking", track_caller)]
    fn guard<'a, Q: IrqPolicy>(
        &'a self,
        data: SpinMutexGuard<'a, T>,
        saved: Q::Saved,
    ) -> SpinLockGuard<'a, T, Q> {
        SpinLockGuard {
            #[cfg(feature = "tracking")]
            _held: crate::tracking::Held::record(&self.holder),
            data,
            _irq: IrqRestore { saved },
        }
    }
}

impl<T: Default, P: IrqPolicy> Default for SpinLock<T, P> {
    #[cfg_attr(feature = "tracking", track_caller)]
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized, P: IrqPolicy> fmt::Debug for SpinLock<T, P> {
    /// Does not lock (that would touch the interrupt flag, or spin): shows policy and state only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpinLock")
            .field("policy", &P::NAME)
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

/// Access to a [`SpinLock`]'s value, acquired with policy `P`. Dropping it releases the lock,
/// then restores interrupts as `P` says.
#[must_use = "dropping the guard releases the lock at once"]
pub struct SpinLockGuard<'a, T: ?Sized, P: IrqPolicy> {
    // Fields drop in declaration order, and that order is the release protocol:
    // forget the holder (while still holding), unlock, then restore interrupts.
    #[cfg(feature = "tracking")]
    _held: crate::tracking::Held<'a>,
    data: SpinMutexGuard<'a, T>,
    _irq: IrqRestore<P>,
}

impl<T: ?Sized, P: IrqPolicy> Deref for SpinLockGuard<'_, T, P> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: ?Sized, P: IrqPolicy> DerefMut for SpinLockGuard<'_, T, P> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<T: ?Sized + fmt::Debug, P: IrqPolicy> fmt::Debug for SpinLockGuard<'_, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Undoes `P::enter` when dropped; the last field of the guard, so it runs after unlocking.
struct IrqRestore<P: IrqPolicy> {
    saved: P::Saved,
}

impl<P: IrqPolicy> Drop for IrqRestore<P> {
    #[inline]
    fn drop(&mut self) {
        P::exit(self.saved);
    }
}
