//! Reading and changing the interrupt flag: the real RFLAGS.IF on the kernel target, the
//! `crate::host_irq` emulation on the host. Policies use only these three functions.

#[cfg(target_os = "none")]
pub(crate) use x86_64::instructions::interrupts::{are_enabled, disable, enable};

#[cfg(not(target_os = "none"))]
pub(crate) use crate::host_irq::are_enabled;

/// Emulated `cli`.
#[cfg(not(target_os = "none"))]
#[inline]
pub(crate) fn disable() {
    crate::host_irq::set_enabled(false);
}

/// Emulated `sti`.
#[cfg(not(target_os = "none"))]
#[inline]
pub(crate) fn enable() {
    crate::host_irq::set_enabled(true);
}
