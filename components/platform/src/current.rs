//! A slot holding the CPU's current task, readable without a lock.
//!
//! The scheduler stores an `Arc` of the running task here on every switch; syscalls read it
//! on every entry (getpid is little more than this read). A lock and an `Option<Arc>` clone
//! cost more than the syscall itself, so the slot is an atomic pointer that owns one strong
//! reference, and [`CurrentSlot::get`] adds one more.
//!
//! The slot changes only in the scheduler, which runs in task context with interrupts off;
//! an interrupt that arrives while the kernel runs never switches tasks (the platform calls
//! the kernel's return-to-user hook only for interrupts of user mode). So between reading
//! the pointer and taking the reference nothing can replace the slot and drop the task.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicPtr, Ordering};

/// An `Option<Arc<T>>` with a lock-free `get`.
pub struct CurrentSlot<T> {
    ptr: AtomicPtr<T>,
}

impl<T> CurrentSlot<T> {
    pub const fn new() -> Self {
        CurrentSlot {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Puts `value` in the slot and returns what was there.
    pub fn replace(&self, value: Option<Arc<T>>) -> Option<Arc<T>> {
        let new = value.map_or(core::ptr::null_mut(), |arc| Arc::into_raw(arc) as *mut T);
        let old = x86_64::instructions::interrupts::without_interrupts(|| {
            self.ptr.swap(new, Ordering::AcqRel)
        });
        // SAFETY: a non-null pointer in the slot always came from Arc::into_raw above, and the
        // slot owned that one reference, which is handed back here exactly once.
        (!old.is_null()).then(|| unsafe { Arc::from_raw(old) })
    }

    /// A new reference to what the slot holds. Must not be called by an interrupt handler
    /// that interrupted [`CurrentSlot::replace`] (the platform never does: see the module).
    pub fn get(&self) -> Option<Arc<T>> {
        let ptr = self.ptr.load(Ordering::Acquire);
        if ptr.is_null() {
            return None;
        }
        // SAFETY: ptr came from Arc::into_raw and the slot still owns its reference. Only
        // `replace` changes the slot, with interrupts off, and on the only CPU no code runs
        // between this load and the increment that could call it (module doc), so the object
        // is alive when its count goes up.
        unsafe {
            Arc::increment_strong_count(ptr);
            Some(Arc::from_raw(ptr))
        }
    }

    /// Runs `f` with the object in the slot, without taking a reference (the syscall paths
    /// that only look at the current task: its fd table, its pid). Contract of the slot's
    /// user, which the kernel keeps: an object put in the slot stays alive while its code
    /// runs, even if `f` blocks and other tasks run meanwhile (the kernel's task table holds
    /// every task until it is reaped, and only exited tasks, which never run again, are).
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let ptr = self.ptr.load(Ordering::Acquire);
        if ptr.is_null() {
            return None;
        }
        // SAFETY: ptr came from Arc::into_raw, so it points to a live T now (the slot owns a
        // reference); the contract above keeps it alive for as long as `f` runs on this task.
        Some(f(unsafe { &*ptr }))
    }

    /// Whether the slot holds `value` (no reference taken).
    pub fn holds(&self, value: &Arc<T>) -> bool {
        core::ptr::eq(self.ptr.load(Ordering::Acquire), Arc::as_ptr(value))
    }
}

impl<T> Default for CurrentSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: the slot hands out Arc<T> across contexts, exactly like a Mutex<Option<Arc<T>>>
// would, so it is Send/Sync under the same bounds as Arc<T>.
unsafe impl<T: Send + Sync> Sync for CurrentSlot<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for CurrentSlot<T> {}
