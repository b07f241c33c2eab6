//! What the kernel says when it dies: CPU exception reports, panics and backtraces.
//!
//! Both end the same way: a report on the serial console (vector and error code, RIP, CR2,
//! every register, a symbolized frame-pointer backtrace), then QEMU exits with the panic code.
//! The kernel is built with frame pointers (`.cargo/config.toml`), so RBP chains every frame.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::registers::control::Cr2;

use crate::exit::{ExitCode, exit};
use crate::trap::TrapFrame;

static DYING: AtomicBool = AtomicBool::new(false);

macro_rules! say {
    ($($arg:tt)*) => ($crate::console::emergency_print(format_args!("{}\n", format_args!($($arg)*))));
}

const EXCEPTIONS: [&str; 32] = [
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack-segment fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 floating point",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD floating point",
    "#VE virtualization",
    "#CP control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security",
    "reserved",
];

/// Stops the machine on the second death (a fault inside the report): no infinite loops.
fn enter_dying() {
    x86_64::instructions::interrupts::disable();
    if DYING.swap(true, Ordering::SeqCst) {
        say!("!!! fault while reporting a fault; stopping");
        exit(ExitCode::Panic);
    }
}

/// An instruction address, shown with its function.
fn symbol(addr: u64) -> SymbolDisplay {
    SymbolDisplay {
        addr,
        is_return: false,
    }
}

/// A return address: it points past the call, which may be past the end of a function that
/// never returns, so the function is looked up at `addr - 1`.
fn return_symbol(addr: u64) -> SymbolDisplay {
    SymbolDisplay {
        addr,
        is_return: true,
    }
}

struct SymbolDisplay {
    addr: u64,
    is_return: bool,
}

impl core::fmt::Display for SymbolDisplay {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let back = u64::from(self.is_return);
        match crate::ksyms::lookup(self.addr - back) {
            Some((name, offset)) => write!(f, "{:#018x} {name}+{:#x}", self.addr, offset + back),
            None => write!(f, "{:#018x} ?", self.addr),
        }
    }
}

/// Whether `addr..addr+16` lies on a kernel stack or in RAM (so reading a frame cannot fault).
fn on_kernel_stack(addr: u64) -> bool {
    unsafe extern "C" {
        static BOOT_STACK_BOTTOM: u8;
        static BOOT_STACK_TOP: u8;
    }
    let boot = (
        core::ptr::addr_of!(BOOT_STACK_BOTTOM) as u64,
        core::ptr::addr_of!(BOOT_STACK_TOP) as u64,
    );
    // Stacks allocated later (one per task) live in the direct map, which maps only memory.
    let ram = crate::mm::free_regions_if_ready().iter().map(|r| {
        (
            crate::mm::PHYS_OFFSET + r.start,
            crate::mm::PHYS_OFFSET + r.end,
        )
    });
    addr.is_multiple_of(8)
        && [boot]
            .into_iter()
            .chain(crate::gdt::ist_stacks())
            .chain(ram)
            .any(|(lo, hi)| addr >= lo && addr + 16 <= hi)
}

/// Prints the return addresses of the frame-pointer chain starting at `rbp`.
fn backtrace(rip: u64, mut rbp: u64) {
    say!("backtrace:");
    say!("  #0  {}", symbol(rip));
    for depth in 1..48 {
        if !on_kernel_stack(rbp) {
            break;
        }
        // SAFETY: rbp was checked to be an aligned address within a kernel stack, so both words
        // are mapped, readable memory; a corrupt chain yields garbage values, not faults.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret == 0 {
            break;
        }
        say!("  #{depth:<2} {}", return_symbol(ret));
        if next <= rbp {
            break;
        }
        rbp = next;
    }
}

fn registers(f: &TrapFrame) {
    say!(
        "  RAX {:#018x}  RBX {:#018x}  RCX {:#018x}",
        f.rax,
        f.rbx,
        f.rcx
    );
    say!(
        "  RDX {:#018x}  RSI {:#018x}  RDI {:#018x}",
        f.rdx,
        f.rsi,
        f.rdi
    );
    say!(
        "  RBP {:#018x}  RSP {:#018x}  R8  {:#018x}",
        f.rbp,
        f.rsp,
        f.r8
    );
    say!(
        "  R9  {:#018x}  R10 {:#018x}  R11 {:#018x}",
        f.r9,
        f.r10,
        f.r11
    );
    say!(
        "  R12 {:#018x}  R13 {:#018x}  R14 {:#018x}",
        f.r12,
        f.r13,
        f.r14
    );
    say!(
        "  R15 {:#018x}  RFLAGS {:#010x}  CS {:#x}  SS {:#x}",
        f.r15,
        f.rflags,
        f.cs,
        f.ss
    );
}

/// Reports a CPU exception in the kernel and stops the machine with the panic code.
pub(crate) fn exception(frame: &TrapFrame) -> ! {
    enter_dying();
    let vector = frame.vector as usize;
    let cr2 = Cr2::read_raw();
    say!("");
    say!(
        "!!! KERNEL PANIC: CPU exception {vector} ({}), error code {:#x}",
        EXCEPTIONS[vector],
        frame.error_code
    );
    if vector == 14 {
        let e = frame.error_code;
        say!(
            "    page fault: {} access to {} page in {} mode{}",
            if e & 2 != 0 {
                "write"
            } else if e & 16 != 0 {
                "instruction fetch"
            } else {
                "read"
            },
            if e & 1 != 0 {
                "a present"
            } else {
                "a non-present"
            },
            if e & 4 != 0 { "user" } else { "kernel" },
            if e & 8 != 0 {
                " (reserved bit set)"
            } else {
                ""
            },
        );
    }
    say!("  RIP {}", symbol(frame.rip));
    say!("  CR2 {cr2:#018x}");
    registers(frame);
    backtrace(frame.rip, frame.rbp);
    say!("exiting with the panic code");
    exit(ExitCode::Panic);
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    enter_dying();
    say!("");
    match info.location() {
        Some(loc) => say!(
            "!!! KERNEL PANIC at {}:{}:{}: {}",
            loc.file(),
            loc.line(),
            loc.column(),
            info.message()
        ),
        None => say!("!!! KERNEL PANIC: {}", info.message()),
    }
    let rbp: u64;
    // SAFETY: reads the frame pointer register; no memory access, no side effects.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags))
    };
    let rip = panic as *const () as u64;
    backtrace(rip, rbp);
    say!("exiting with the panic code");
    exit(ExitCode::Panic);
}
