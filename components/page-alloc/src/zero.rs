//! When a frame for user memory is cleared: the `page-zero` config key.
//!
//! A frame handed to user space must hold zeros. The allocators here never touch frame
//! contents; the kernel clears the frame, and this policy says where.

/// Where the kernel clears a user frame; the kernel picks one implementor at build time.
pub trait PageZero {
    /// The variant's name in the config (`page-zero = "..."`).
    const NAME: &'static str;
    /// Clear the frame while the allocator's lock is held, as allocators that hand out only
    /// zeroed frames do, and then once more where every user frame is filled (`true`); or
    /// only there, after the lock is released (`false`).
    const WHILE_ALLOCATING: bool;
}

/// `page-zero = "once"`: one clear, after the allocator's lock is released.
pub struct ZeroOnce;

impl PageZero for ZeroOnce {
    const NAME: &'static str = "once";
    const WHILE_ALLOCATING: bool = false;
}

/// `page-zero = "twice"`, the "before" of this optimization: the frame is also cleared under
/// the allocator's lock, so it is cleared twice and the lock is held longer (Kevlar's blog
/// post "Beating Linux: Syscall Performance in a Rust Kernel" counts the double clear among
/// the costs it removed).
pub struct ZeroTwice;

impl PageZero for ZeroTwice {
    const NAME: &'static str = "twice";
    const WHILE_ALLOCATING: bool = true;
}
