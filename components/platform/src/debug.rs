//! Deliberate faults, so tests can prove that a kernel bug produces a report and the panic
//! exit code (`tessera.fault=KIND` on the kernel command line).

/// The kinds of deliberate fault.
pub const FAULT_KINDS: [&str; 3] = ["page", "invalid-opcode", "general-protection"];

/// Raises the named CPU exception in kernel mode. Returns only for an unknown kind.
#[inline(never)]
pub fn fault_on_purpose(kind: &str) {
    // Each access below faults before it has any effect; the fault handler reports it and
    // stops the machine, so no state is ever corrupted.
    match kind {
        // SAFETY: nothing is mapped at this user-half address; the write faults (#PF).
        "page" => unsafe { core::ptr::write_volatile(0x0000_0dea_dbee_f000 as *mut u64, 1) },
        // SAFETY: ud2 raises #UD and does nothing else.
        "invalid-opcode" => unsafe { core::arch::asm!("ud2") },
        // SAFETY: a non-canonical address faults (#GP) before any memory is read.
        "general-protection" => unsafe {
            core::ptr::read_volatile(0x8000_0000_0000_0000u64 as *const u64);
        },
        _ => {}
    }
}
