//! Slots holding an `Arc` that code reads without a lock: the CPU's current task, and a
//! task's replaceable shared objects ([`SwapSlot`]).
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

/// An `Arc<T>` that the task owning it may replace, and that anyone may borrow without a
/// lock or a reference count: a task's file descriptor table, which CLONE_FILES shares
/// between tasks and which `unshare(CLONE_FILES)`, `close_range(CLOSE_RANGE_UNSHARE)` and
/// execve replace by a private copy (Linux's `current->files`, read by its task without a
/// lock). Reading it must cost what reading an `Arc` field costs: every read and write of
/// a descriptor goes through it.
///
/// The contract that makes borrows sound, which the kernel keeps:
/// - only the task that owns the slot replaces it, at most once per system call;
/// - a borrow by another task is not held across a block (it is a spin-lock guard of the
///   table, or shorter), and the kernel runs on one CPU and is not preemptible.
///
/// The slot keeps the object it replaced last alive (besides the one it holds), so a
/// borrow taken by the owner before its replacement stays valid until the end of that
/// system call, and another task's borrow never sees a replacement at all (the owner cannot
/// run while that task runs without blocking).
pub struct SwapSlot<T> {
    /// Never null: the slot owns one strong reference, from `Arc::into_raw`.
    ptr: AtomicPtr<T>,
    retired: spin::Mutex<Option<Arc<T>>>,
}

impl<T> SwapSlot<T> {
    pub fn new(value: Arc<T>) -> Self {
        SwapSlot {
            ptr: AtomicPtr::new(Arc::into_raw(value) as *mut T),
            retired: spin::Mutex::new(None),
        }
    }

    /// The object, borrowed for as long as the slot is (see the contract above).
    pub fn get(&self) -> &T {
        // SAFETY: ptr came from Arc::into_raw and the slot owns that reference until a
        // replacement, after which `retired` owns one until the next; by the contract no
        // borrow outlives the next replacement, so the object is alive for the borrow.
        unsafe { &*self.ptr.load(Ordering::Acquire) }
    }

    /// A new reference to the object.
    pub fn arc(&self) -> Arc<T> {
        let ptr = self.ptr.load(Ordering::Acquire);
        // SAFETY: as in `get`, ptr points to a live object whose count the slot holds one
        // of; the increment makes the returned Arc's own.
        unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        }
    }

    /// Puts `value` in the slot; returns a reference to the object it held (which the slot
    /// also keeps until its next replacement). Only the owning task calls this.
    pub fn replace(&self, value: Arc<T>) -> Arc<T> {
        let old = self
            .ptr
            .swap(Arc::into_raw(value) as *mut T, Ordering::AcqRel);
        // SAFETY: old came from Arc::into_raw (in `new` or an earlier `replace`) and the
        // slot owned that reference; it is taken back exactly once, here.
        let old = unsafe { Arc::from_raw(old) };
        let previous = self.retired.lock().replace(old.clone());
        drop(previous);
        old
    }
}

impl<T> Drop for SwapSlot<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from Arc::into_raw and the slot owns that reference;
        // nothing borrows the slot any more (`&mut self`).
        drop(unsafe { Arc::from_raw(*self.ptr.get_mut()) });
    }
}

impl<T> core::ops::Deref for SwapSlot<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.get()
    }
}

// SAFETY: the slot hands out &T and Arc<T> across tasks as an Arc<T> field would, so it is
// Send/Sync under the same bounds as Arc<T>.
unsafe impl<T: Send + Sync> Sync for SwapSlot<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for SwapSlot<T> {}
