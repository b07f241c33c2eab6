//! A slot holding the CPU's current task, readable without a lock.
//!
//! The scheduler stores an `Arc` of the running task here on every switch; syscalls read it
//! on every entry (getpid is little more than this read). A lock and an `Option<Arc>` clone
//! cost more than the syscall itself, so the slot is an atomic pointer that owns one strong
//! reference, and [`CurrentSlot::get`] adds a reference with interrupts off.

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

    /// A new reference to what the slot holds.
    pub fn get(&self) -> Option<Arc<T>> {
        x86_64::instructions::interrupts::without_interrupts(|| {
            let ptr = self.ptr.load(Ordering::Acquire);
            if ptr.is_null() {
                return None;
            }
            // SAFETY: ptr came from Arc::into_raw and the slot still owns its reference: with
            // interrupts off on the only CPU nothing can replace the slot between the load and
            // the increment, so the object is alive when its count goes up.
            unsafe {
                Arc::increment_strong_count(ptr);
                Some(Arc::from_raw(ptr))
            }
        })
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
