//! The platform layer: the one crate of Tessera (with `tessera-memops`) that uses `unsafe`.
//!
//! It owns everything that touches the machine directly and offers safe interfaces to the
//! rest of the kernel, which denies `unsafe_code`:
//!
//! | module | what it does |
//! |---|---|
//! | [`boot`](self) | PVH note, Multiboot2 header, 32-bit stub to 64-bit higher half |
//! | [`bootinfo`] | memory map, command line and modules from PVH or Multiboot2 |
//! | [`mm`] | direct map of physical memory, free RAM, safe frame access ([`mm::frame`]) |
//! | [`heap`] | the `#[global_allocator]`, on frames from the kernel's page allocator |
//! | `gdt`, [`trap`] | segments, TSS with interrupt stacks, IDT, entry stubs, [`trap::TrapFrame`] |
//! | [`timer`], [`clock`] | PIC + PIT periodic interrupt; TSC clock calibrated against the PIT |
//! | [`rtc`] | the CMOS real-time clock, read once at boot (the date) |
//! | `report`, [`ksyms`] | exception and panic reports with symbolized backtraces |
//! | [`usermode`] | SYSCALL entry, kernel stacks, context switch, kernel hooks |
//! | [`fpu`] | user x87/SSE/AVX state: XSAVE (XCR0 set at boot) or FXSAVE, signal-frame images |
//! | [`vm`] | user page tables |
//! | [`current`] | the current-task slot, readable without a lock |
//! | [`usercopy`] | copies to and from user memory, with fault fixup (EFAULT) |
//! | [`pci`] | PCI configuration space (ports 0xCF8/0xCFC): find a device, its IRQ line, enable DMA |
//! | [`virtio`] | the virtio-net card (`virtio-drivers`) behind a safe send/receive/MAC API |
//! | [`exit`] | QEMU debug-exit codes |
//! | [`debug`] | deliberate faults for the tests of the fault report |
//! | [`console`] | `print!`, `println!` and the `log` backend on COM1 |
//! | [`klog`] | the kernel log in memory (every console line and `log` record) for `syslog(2)` |
//!
//! The kernel crate names its entry with [`entry_point!`]; the platform calls it once the
//! CPU, memory map, direct map and clock are up, with interrupts still off.
//!
//! On any target but `x86_64-unknown-none` the crate is empty, so host `cargo test` of the
//! workspace can include it.
#![cfg(target_os = "none")]
#![no_std]

extern crate alloc;

mod boot;
pub mod bootinfo;
pub mod clock;
pub mod console;
pub mod cpu;
pub mod current;
pub mod debug;
pub mod exit;
pub mod fpu;
mod gdt;
pub mod heap;
pub mod klog;
pub mod ksyms;
pub mod mm;
#[cfg(feature = "virtio")]
pub mod pci;
mod report;
pub mod rtc;
mod serial;
pub mod smp;
mod start;
pub mod timer;
pub mod trap;
pub mod usercopy;
pub mod usermode;
#[cfg(feature = "virtio")]
pub mod virtio;
pub mod vm;

pub use bootinfo::BootInfo;
pub use start::start_timer;

/// Declares the kernel's entry point: `entry_point!(path::to::main)` where
/// `fn main(boot: &'static BootInfo) -> !`. The symbol it defines is what the platform calls;
/// the attribute that names it lives here, so the kernel crate stays free of `unsafe`.
#[macro_export]
macro_rules! entry_point {
    ($main:path) => {
        #[unsafe(export_name = "tessera_kernel_main")]
        fn __tessera_kernel_main(boot: &'static $crate::BootInfo) -> ! {
            let main: fn(&'static $crate::BootInfo) -> ! = $main;
            main(boot)
        }
    };
}

/// Defines the kernel's user-mode handlers the platform calls directly (see
/// [`usermode`]): `user_mode_hooks!(syscall: f, user_exception: g,
/// user_page_fault_in_kernel: h, return_to_user: r)`. As with [`entry_point!`], the
/// attribute naming the symbols lives here, so the kernel crate stays free of `unsafe`.
#[macro_export]
macro_rules! user_mode_hooks {
    (
        syscall: $syscall:path,
        user_exception: $exception:path,
        user_page_fault_in_kernel: $fault:path,
        return_to_user: $ret:path $(,)?
    ) => {
        #[unsafe(export_name = "tessera_hook_syscall")]
        fn __tessera_hook_syscall(frame: &mut $crate::trap::TrapFrame) {
            $syscall(frame)
        }
        #[unsafe(export_name = "tessera_hook_user_exception")]
        fn __tessera_hook_user_exception(frame: &mut $crate::trap::TrapFrame, cr2: u64) {
            $exception(frame, cr2)
        }
        #[unsafe(export_name = "tessera_hook_user_page_fault_in_kernel")]
        fn __tessera_hook_user_page_fault_in_kernel(addr: u64, error_code: u64) -> bool {
            $fault(addr, error_code)
        }
        #[unsafe(export_name = "tessera_hook_return_to_user")]
        fn __tessera_hook_return_to_user(frame: &mut $crate::trap::TrapFrame) {
            $ret(frame)
        }
    };
}
