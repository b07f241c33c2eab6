//! A kernel without user space (`[subsystems] userspace = false`): it boots, runs its
//! self-tests and stops. Nothing here runs a program; the platform's user-mode entry points
//! exist only because the platform links against them, and are never reached.

use tessera_platform::exit::{ExitCode, exit};
use tessera_platform::trap::TrapFrame;
use tessera_platform::{BootInfo, println};

/// Nothing to start.
pub fn init(_boot: &BootInfo) {}

/// No scheduler and no network: the tick has nothing to do.
pub fn on_tick(_ticks: u64, _from_user: bool) {}

/// An initramfs was given, but this kernel cannot run programs: say so and stop.
pub fn run(_initrd: &[u8], init: &str) -> ! {
    println!(
        "tessera: this kernel has no user space (subsystems.userspace = false); not running {init}"
    );
    exit(ExitCode::Success)
}

tessera_platform::user_mode_hooks!(
    syscall: never,
    user_exception: never_exception,
    user_page_fault_in_kernel: never_fault,
    return_to_user: never,
);

fn never(_frame: &mut TrapFrame) {
    unreachable!("no user space: no system call can arrive");
}

fn never_exception(_frame: &mut TrapFrame, _cr2: u64) {
    unreachable!("no user space: no user exception can arrive");
}

fn never_fault(_addr: u64, _error_code: u64) -> bool {
    false
}
