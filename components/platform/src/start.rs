//! From the boot stub to the kernel's main: bring up the CPU and the machine, in order.

use spin::Once;

use crate::bootinfo::{self, BootInfo};

static BOOT_INFO: Once<BootInfo> = Once::new();

unsafe extern "Rust" {
    /// The kernel's entry point, defined by [`crate::entry_point!`] in the kernel crate.
    fn tessera_kernel_main(boot: &'static BootInfo) -> !;
}

/// Called by boot.rs in 64-bit mode on the boot stack, interrupts off.
#[unsafe(no_mangle)]
extern "C" fn platform_start64(magic: u32, info: u32) -> ! {
    crate::serial::init();
    crate::gdt::init();
    crate::trap::init();
    let boot = BOOT_INFO.call_once(|| bootinfo::parse(magic, u64::from(info)));
    crate::cpu::init();
    crate::usermode::init();
    crate::mm::init(boot);
    crate::clock::init();
    crate::rtc::init();
    // SAFETY: the kernel crate defines tessera_kernel_main through entry_point!, with exactly
    // this signature; the platform is initialised as it expects.
    unsafe { tessera_kernel_main(boot) }
}

/// Starts the periodic timer at `hz` and enables interrupts.
pub fn start_timer(hz: u32) {
    crate::timer::init(hz);
    x86_64::instructions::interrupts::enable();
}
