//! How the kernel drives a pipe: the `pipe` config key, one policy type per variant.
//!
//! The state machine in [`Pipe`](crate::Pipe) is the same for both; what differs is what the
//! kernel does around it: when it checks readiness against enqueueing on a wait queue, whom
//! it wakes, and how bytes get between user memory and the ring.

/// The kernel's choices around a pipe; the kernel picks one implementor at build time.
pub trait PipePolicy {
    /// The variant's name in the config (`pipe = "..."`).
    const NAME: &'static str;
    /// Try the operation before joining the wait queue (`true`), or join the queue before
    /// every check and leave it after (`false`: two queue-lock round trips per call).
    const TRY_BEFORE_WAIT: bool;
    /// Wake the other side only when someone sleeps there (`true`), or take the queue's lock
    /// and wake all on every transfer (`false`).
    const WAKE_ONLY_WAITERS: bool;
    /// Copy straight between user memory and the ring (`true`: one copy, and a fault consumes
    /// nothing), or through a kernel buffer allocated per call (`false`: two copies).
    const DIRECT_COPY: bool;
}

/// `pipe = "simple"`: enqueue before every check, wake through the lock on every transfer,
/// copy through a kernel buffer. The obviously correct version, and the "before" of the
/// optimization.
#[cfg(feature = "simple")]
pub struct Simple;

#[cfg(feature = "simple")]
impl PipePolicy for Simple {
    const NAME: &'static str = "simple";
    const TRY_BEFORE_WAIT: bool = false;
    const WAKE_ONLY_WAITERS: bool = false;
    const DIRECT_COPY: bool = false;
}

/// `pipe = "fast"`: try first, wake only sleepers, copy directly between user memory and the
/// ring.
#[cfg(feature = "fast")]
pub struct Fast;

#[cfg(feature = "fast")]
impl PipePolicy for Fast {
    const NAME: &'static str = "fast";
    const TRY_BEFORE_WAIT: bool = true;
    const WAKE_ONLY_WAITERS: bool = true;
    const DIRECT_COPY: bool = true;
}
