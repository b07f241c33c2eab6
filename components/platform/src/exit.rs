//! Leaving QEMU with a status the build tool understands.
//!
//! QEMU's `isa-debug-exit` device (I/O port 0xf4) makes QEMU exit with `(value << 1) | 1`.
//! QEMU itself exits 0 on a triple fault with `-no-reboot`, so success is a distinct odd value,
//! never 0. `cargo xtask` maps these to its own exit codes (see docs/exit-codes.md).

use x86_64::instructions::port::Port;

/// Why the kernel stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Everything asked of the kernel worked: QEMU exits 33.
    Success = 0x10,
    /// A self-test or test program failed: QEMU exits 35.
    TestFailure = 0x11,
    /// A kernel panic or CPU exception: QEMU exits 37.
    Panic = 0x12,
}

/// Stops the machine: exits QEMU through the debug-exit device, or halts forever elsewhere.
pub fn exit(code: ExitCode) -> ! {
    let mut port = Port::<u32>::new(0xf4);
    // SAFETY: port 0xf4 is QEMU's debug-exit device as configured by the build tool; on a
    // machine without it, the write is ignored and we halt below.
    unsafe { port.write(code as u32) };
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
