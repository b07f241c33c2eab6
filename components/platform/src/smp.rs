//! Several CPUs: finding them in the ACPI MADT and starting the others (the application
//! processors, APs) from the boot CPU, as the Intel SDM vol. 3, 8.4.4 ("MP Initialization
//! Example") describes: an INIT IPI, 10 ms, then a STARTUP IPI (SIPI) whose vector is the page
//! number of the real-mode code the AP starts in, 200 µs, and a second SIPI if the AP has
//! not answered yet.
//!
//! The AP starts in real mode at `TRAMPOLINE` (a page below 1 MiB, which the page allocator
//! never hands out): the trampoline below loads a GDT of its own, enters protected mode,
//! turns on paging with the boot page tables (which map that page and the kernel image),
//! enters long mode, and jumps into the kernel image, where `ap_high` switches to the
//! kernel's page tables and its stack and calls [`ap_main`].
//!
//! This is the first step of SMP: an AP loads the kernel's GDT and IDT, says it is up and
//! halts with interrupts off. Nothing is scheduled on it yet; the boot CPU runs everything.

use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use tessera_acpi::{AcpiError, PhysMemory};

use crate::mm::{PAGE_SIZE, direct_map_end, phys_to_virt};

/// Physical address of the trampoline: page 8, SIPI vector 0x08.
const TRAMPOLINE: u64 = 0x8000;

global_asm!(
    concat!(
        r#"
    .equ AP_TRAMPOLINE_ADDR, 0x8000
    .section .rodata.ap_trampoline, "a"
    .global AP_TRAMPOLINE_START
    .global AP_TRAMPOLINE_ARGS
    .global AP_TRAMPOLINE_END
    .code16
AP_TRAMPOLINE_START:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl (ap_gdtr - AP_TRAMPOLINE_START)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $(AP_TRAMPOLINE_ADDR + ap_prot - AP_TRAMPOLINE_START)

    .code32
ap_prot:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    /* CR4.PAE; CR3 = the boot tables; EFER.LME|NXE; CR0.PG|WP: as boot.rs does. */
"#,
        crate::boot::enter_long_mode!(),
        r#"
    ljmp $0x18, $(AP_TRAMPOLINE_ADDR + ap_long - AP_TRAMPOLINE_START)

    .code64
ap_long:
    mov $(AP_TRAMPOLINE_ADDR + AP_TRAMPOLINE_ARGS - AP_TRAMPOLINE_START), %esi
    mov 0(%rsi), %rbx                /* the kernel's page tables */
    mov 8(%rsi), %rcx                /* the AP's stack top */
    mov 16(%rsi), %rdi               /* its index */
    movabs $ap_high, %rax
    jmp *%rax

    .p2align 3
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff         /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff         /* 0x10: data */
    .quad 0x00af9a000000ffff         /* 0x18: 64-bit code */
ap_gdtr:
    .short ap_gdtr - ap_gdt - 1
    .long AP_TRAMPOLINE_ADDR + ap_gdt - AP_TRAMPOLINE_START
    .p2align 3
AP_TRAMPOLINE_ARGS:
    .quad 0, 0, 0
AP_TRAMPOLINE_END:

    .section .text.ap_high, "ax"
ap_high:
    mov %rbx, %cr3
    mov %rcx, %rsp
    xor %ebp, %ebp
    movabs $tessera_ap_main, %rax
    call *%rax
1:
    hlt
    jmp 1b
"#
    ),
    options(att_syntax)
);

unsafe extern "C" {
    static AP_TRAMPOLINE_START: u8;
    static AP_TRAMPOLINE_ARGS: u8;
    static AP_TRAMPOLINE_END: u8;
}

/// APs that reached [`ap_main`].
static ONLINE: AtomicUsize = AtomicUsize::new(0);

/// Each AP's stack.
const AP_STACK_SIZE: usize = 16 * 1024;

/// What [`start_cpus`] found and started.
#[derive(Clone, Copy, Debug)]
pub struct Cpus {
    /// CPUs the MADT lists (the boot CPU included), or 1 without a usable MADT.
    pub found: usize,
    /// CPUs running: the boot CPU and every AP that answered.
    pub online: usize,
    /// Why the MADT could not be read, if it could not.
    pub error: Option<AcpiError>,
}

/// Physical memory through the direct map, for the ACPI parser.
struct DirectMap;

impl PhysMemory for DirectMap {
    fn read(&self, paddr: u64, buf: &mut [u8]) -> bool {
        let Some(end) = paddr.checked_add(buf.len() as u64) else {
            return false;
        };
        if end > direct_map_end() {
            return false;
        }
        // SAFETY: [paddr, end) lies below the end of the direct map, which maps all of it
        // (RAM, firmware tables and device memory alike); reading firmware tables and RAM
        // has no side effects, and the bytes are copied out, not referenced.
        unsafe {
            core::ptr::copy_nonoverlapping(
                phys_to_virt(paddr) as *const u8,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        true
    }
}

/// The local APIC's registers (Intel SDM vol. 3, 10.4.1), through the direct map.
struct LocalApic {
    base: u64,
}

impl LocalApic {
    const ID: u64 = 0x20;
    const ICR_LOW: u64 = 0x300;
    const ICR_HIGH: u64 = 0x310;
    const DELIVERY_PENDING: u32 = 1 << 12;

    fn read(&self, reg: u64) -> u32 {
        // SAFETY: `base` is the local APIC's page from the MADT, below 4 GiB and so in the
        // direct map; its registers are 32-bit, 16-byte aligned, and reading ID or ICR has
        // no side effect.
        unsafe { core::ptr::read_volatile(phys_to_virt(self.base + reg) as *const u32) }
    }

    fn write(&self, reg: u64, value: u32) {
        // SAFETY: as in read; writing the ICR sends an IPI, which is what the callers ask.
        unsafe { core::ptr::write_volatile(phys_to_virt(self.base + reg) as *mut u32, value) }
    }

    fn id(&self) -> u32 {
        self.read(Self::ID) >> 24
    }

    /// Sends an IPI to `apic_id`: delivery mode and vector in `command` (ICR bits 0-15, with
    /// level assert) and waits until the APIC has sent it.
    fn send(&self, apic_id: u32, command: u32) {
        self.write(Self::ICR_HIGH, apic_id << 24);
        self.write(Self::ICR_LOW, command | 1 << 14);
        while self.read(Self::ICR_LOW) & Self::DELIVERY_PENDING != 0 {
            core::hint::spin_loop();
        }
    }
}

fn delay_ns(ns: u64) {
    let until = crate::clock::now_ns() + ns;
    while crate::clock::now_ns() < until {
        core::hint::spin_loop();
    }
}

/// Finds the CPUs in the MADT and starts every one but the boot CPU (which calls this, once,
/// with interrupts off and before anything else uses the first MiB or the APs' stacks).
pub fn start_cpus() -> Cpus {
    let madt = tessera_acpi::find_rsdp(&DirectMap, None)
        .ok_or(AcpiError::NoRsdp)
        .and_then(|rsdp| tessera_acpi::read_madt(&DirectMap, rsdp));
    let madt = match madt {
        Ok(madt) if madt.lapic_address + PAGE_SIZE as u64 <= direct_map_end() => madt,
        Ok(_) => {
            return Cpus {
                found: 1,
                online: 1,
                error: Some(AcpiError::BadTable(*b"APIC")),
            };
        }
        Err(error) => {
            return Cpus {
                found: 1,
                online: 1,
                error: Some(error),
            };
        }
    };
    let apic = LocalApic {
        base: madt.lapic_address,
    };
    let me = apic.id();
    let others = madt.apic_ids().iter().filter(|&&id| id != me);
    let found = madt.apic_ids().len().max(1);
    if found > 1 {
        install_trampoline();
    }
    for (index, &apic_id) in others.enumerate() {
        start_one(&apic, apic_id, index + 1);
    }
    Cpus {
        found,
        online: 1 + ONLINE.load(Ordering::Acquire),
        error: None,
    }
}

/// Copies the trampoline to its page below 1 MiB.
fn install_trampoline() {
    let start = core::ptr::addr_of!(AP_TRAMPOLINE_START);
    let len = core::ptr::addr_of!(AP_TRAMPOLINE_END) as usize - start as usize;
    assert!(len <= PAGE_SIZE, "the AP trampoline is larger than a page");
    // SAFETY: the trampoline's bytes are `len` bytes of the kernel image's read-only data;
    // the page at TRAMPOLINE is below 1 MiB, which the page allocator never hands out and
    // nothing else uses after boot (the real-mode IVT and BIOS data end at 0x500, the EBDA
    // starts above 0x80000), and it is in the direct map.
    unsafe {
        core::ptr::copy_nonoverlapping(start, phys_to_virt(TRAMPOLINE) as *mut u8, len);
    }
}

/// Starts the AP `apic_id` as CPU `index` and waits (at most 200 ms) for it to answer.
fn start_one(apic: &LocalApic, apic_id: u32, index: usize) {
    let stack = alloc::vec![0u8; AP_STACK_SIZE].leak();
    let stack_top = stack.as_ptr() as u64 + AP_STACK_SIZE as u64;
    let args_offset = core::ptr::addr_of!(AP_TRAMPOLINE_ARGS) as u64
        - core::ptr::addr_of!(AP_TRAMPOLINE_START) as u64;
    let args = phys_to_virt(TRAMPOLINE + args_offset) as *mut u64;
    // SAFETY: the three argument words lie in the trampoline page copied above (8-byte
    // aligned: `.p2align 3`); no AP reads them before the IPIs below.
    unsafe {
        args.write_volatile(crate::mm::kernel_root());
        args.add(1).write_volatile(stack_top);
        args.add(2).write_volatile(index as u64);
    }
    let before = ONLINE.load(Ordering::Acquire);
    let answered = || ONLINE.load(Ordering::Acquire) > before;
    const INIT: u32 = 0b101 << 8;
    const STARTUP: u32 = 0b110 << 8;
    let vector = (TRAMPOLINE / PAGE_SIZE as u64) as u32;
    apic.send(apic_id, INIT);
    delay_ns(10_000_000);
    for _ in 0..2 {
        apic.send(apic_id, STARTUP | vector);
        delay_ns(200_000);
        if answered() {
            return;
        }
    }
    let until = crate::clock::now_ns() + 200_000_000;
    while !answered() && crate::clock::now_ns() < until {
        core::hint::spin_loop();
    }
}

/// An AP's first Rust code, on its own stack with the kernel's page tables: it loads the
/// kernel's GDT and IDT, says it is up, and halts with interrupts off.
#[unsafe(no_mangle)]
extern "C" fn tessera_ap_main(_index: u64) -> ! {
    crate::gdt::load_on_other_cpu();
    crate::trap::load_idt();
    ONLINE.fetch_add(1, Ordering::AcqRel);
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
