//! Interrupt policies: what a lock does with the interrupt flag around its critical section.

use crate::irq_flag;

/// What a lock does with interrupts around its critical section.
///
/// `enter` runs before the lock is acquired (so an interrupt cannot arrive while this CPU
/// spins for or holds the lock) and `exit` runs after it is released.
pub trait IrqPolicy {
    /// Short name for benchmark reports and tests, e.g. `"irq-save"`.
    const NAME: &'static str;
    /// The CPU state `enter` remembers for `exit`. `Copy` because it is a snapshot of
    /// flags, and it lets the guard hand it back on drop without unsafe code.
    type Saved: Copy;
    /// Called before acquiring; returns what `exit` needs to undo it.
    fn enter() -> Self::Saved;
    /// Called after releasing, with what the matching `enter` returned.
    fn exit(saved: Self::Saved);
}

/// Save the interrupt flag and disable interrupts while the lock is held; on release restore the
/// flag as it was (pushfq; cli ... popfq). Nested irq-save locks therefore restore in LIFO order:
/// only the outermost release re-enables interrupts.
#[derive(Debug, Clone, Copy, Default)]
pub struct IrqSave;

impl IrqPolicy for IrqSave {
    const NAME: &'static str = "irq-save";
    /// Whether interrupts were enabled before `enter`.
    type Saved = bool;

    #[inline]
    fn enter() -> bool {
        let were_enabled = irq_flag::are_enabled();
        // Unconditional, like `cli` after `pushfq`: cheaper than branching on the flag.
        irq_flag::disable();
        were_enabled
    }

    #[inline]
    fn exit(were_enabled: bool) {
        if were_enabled {
            irq_flag::enable();
        }
    }
}

/// Leave interrupts alone: the lock is only a spin lock. Sound only for locks never taken from
/// interrupt context (else a handler can spin forever on a lock its own CPU holds).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIrq;

impl IrqPolicy for NoIrq {
    const NAME: &'static str = "no-irq";
    type Saved = ();

    #[inline(always)]
    fn enter() {}

    #[inline(always)]
    fn exit(_: ()) {}
}
