//! Interrupt and exception entry: the IDT, the entry stubs and the saved register frame.
//!
//! Every vector 0..48 has a stub that pushes a uniform frame (a zero error code where the CPU
//! pushes none, then the vector number), then `trap_common` saves the general registers and
//! calls [`trap_dispatch`] with a [`TrapFrame`]. `swapgs` runs only when the trap came from
//! user mode (CS.RPL = 3), so the kernel's GS base is always the one in use here.

use core::arch::global_asm;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

use crate::gdt;

/// Vectors with a stub: the 32 CPU exceptions and the 16 legacy PIC interrupts.
pub const VECTORS: usize = 48;
/// The vector of the first PIC interrupt (IRQ 0, the timer).
pub const IRQ_BASE: u8 = 32;

/// The registers of the interrupted context, as `trap_common` saved them.
#[repr(C)]
#[derive(Clone, Debug, Default)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    /// Whether the trap interrupted user mode.
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }
}

/// Pushes the general registers in [`TrapFrame`] order: the one place that defines the
/// frame's layout, shared by `trap_common` and the SYSCALL entry (`usermode.rs`).
macro_rules! push_general_registers {
    () => {
        "
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
"
    };
}
pub(crate) use push_general_registers;

global_asm!(
    concat!(
        r#"
    .section .text.trap_entry, "ax"
    .p2align 4
trap_common:
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:
"#,
        push_general_registers!(),
        r#"    cld
    mov %rsp, %rdi
    call trap_dispatch
    .global trap_return
trap_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:
    add $16, %rsp
    iretq

trap_stub_0:
    push $0
    push $0
    jmp trap_common
trap_stub_1:
    push $0
    push $1
    jmp trap_common
trap_stub_2:
    push $0
    push $2
    jmp trap_common
trap_stub_3:
    push $0
    push $3
    jmp trap_common
trap_stub_4:
    push $0
    push $4
    jmp trap_common
trap_stub_5:
    push $0
    push $5
    jmp trap_common
trap_stub_6:
    push $0
    push $6
    jmp trap_common
trap_stub_7:
    push $0
    push $7
    jmp trap_common
trap_stub_8:
    push $8
    jmp trap_common
trap_stub_9:
    push $0
    push $9
    jmp trap_common
trap_stub_10:
    push $10
    jmp trap_common
trap_stub_11:
    push $11
    jmp trap_common
trap_stub_12:
    push $12
    jmp trap_common
trap_stub_13:
    push $13
    jmp trap_common
trap_stub_14:
    push $14
    jmp trap_common
trap_stub_15:
    push $0
    push $15
    jmp trap_common
trap_stub_16:
    push $0
    push $16
    jmp trap_common
trap_stub_17:
    push $17
    jmp trap_common
trap_stub_18:
    push $0
    push $18
    jmp trap_common
trap_stub_19:
    push $0
    push $19
    jmp trap_common
trap_stub_20:
    push $0
    push $20
    jmp trap_common
trap_stub_21:
    push $21
    jmp trap_common
trap_stub_22:
    push $0
    push $22
    jmp trap_common
trap_stub_23:
    push $0
    push $23
    jmp trap_common
trap_stub_24:
    push $0
    push $24
    jmp trap_common
trap_stub_25:
    push $0
    push $25
    jmp trap_common
trap_stub_26:
    push $0
    push $26
    jmp trap_common
trap_stub_27:
    push $0
    push $27
    jmp trap_common
trap_stub_28:
    push $0
    push $28
    jmp trap_common
trap_stub_29:
    push $29
    jmp trap_common
trap_stub_30:
    push $30
    jmp trap_common
trap_stub_31:
    push $0
    push $31
    jmp trap_common
trap_stub_32:
    push $0
    push $32
    jmp trap_common
trap_stub_33:
    push $0
    push $33
    jmp trap_common
trap_stub_34:
    push $0
    push $34
    jmp trap_common
trap_stub_35:
    push $0
    push $35
    jmp trap_common
trap_stub_36:
    push $0
    push $36
    jmp trap_common
trap_stub_37:
    push $0
    push $37
    jmp trap_common
trap_stub_38:
    push $0
    push $38
    jmp trap_common
trap_stub_39:
    push $0
    push $39
    jmp trap_common
trap_stub_40:
    push $0
    push $40
    jmp trap_common
trap_stub_41:
    push $0
    push $41
    jmp trap_common
trap_stub_42:
    push $0
    push $42
    jmp trap_common
trap_stub_43:
    push $0
    push $43
    jmp trap_common
trap_stub_44:
    push $0
    push $44
    jmp trap_common
trap_stub_45:
    push $0
    push $45
    jmp trap_common
trap_stub_46:
    push $0
    push $46
    jmp trap_common
trap_stub_47:
    push $0
    push $47
    jmp trap_common

    .section .rodata.trap_stubs, "a"
    .p2align 3
TRAP_STUBS:
    .quad trap_stub_0
    .quad trap_stub_1
    .quad trap_stub_2
    .quad trap_stub_3
    .quad trap_stub_4
    .quad trap_stub_5
    .quad trap_stub_6
    .quad trap_stub_7
    .quad trap_stub_8
    .quad trap_stub_9
    .quad trap_stub_10
    .quad trap_stub_11
    .quad trap_stub_12
    .quad trap_stub_13
    .quad trap_stub_14
    .quad trap_stub_15
    .quad trap_stub_16
    .quad trap_stub_17
    .quad trap_stub_18
    .quad trap_stub_19
    .quad trap_stub_20
    .quad trap_stub_21
    .quad trap_stub_22
    .quad trap_stub_23
    .quad trap_stub_24
    .quad trap_stub_25
    .quad trap_stub_26
    .quad trap_stub_27
    .quad trap_stub_28
    .quad trap_stub_29
    .quad trap_stub_30
    .quad trap_stub_31
    .quad trap_stub_32
    .quad trap_stub_33
    .quad trap_stub_34
    .quad trap_stub_35
    .quad trap_stub_36
    .quad trap_stub_37
    .quad trap_stub_38
    .quad trap_stub_39
    .quad trap_stub_40
    .quad trap_stub_41
    .quad trap_stub_42
    .quad trap_stub_43
    .quad trap_stub_44
    .quad trap_stub_45
    .quad trap_stub_46
    .quad trap_stub_47
"#
    ),
    options(att_syntax)
);

unsafe extern "C" {
    static TRAP_STUBS: [u64; VECTORS];
}

/// One IDT gate descriptor (Intel SDM vol. 3, 6.14.1).
#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

const EMPTY_GATE: Gate = Gate {
    offset_low: 0,
    selector: 0,
    ist: 0,
    attributes: 0,
    offset_mid: 0,
    offset_high: 0,
    reserved: 0,
};

static mut IDT: [Gate; 256] = [EMPTY_GATE; 256];

/// Installs the IDT: every stub as an interrupt gate (interrupts off on entry); the double
/// fault and NMI run on their own stacks so that a kernel stack overflow is still reported.
pub(crate) fn init() {
    for vector in 0..VECTORS {
        // SAFETY: TRAP_STUBS is a read-only table of VECTORS addresses defined in the asm above.
        let handler = unsafe { TRAP_STUBS[vector] };
        let ist = match vector {
            2 => gdt::IST_NMI,
            8 => gdt::IST_DOUBLE_FAULT,
            _ => 0,
        };
        let gate = Gate {
            offset_low: handler as u16,
            selector: gdt::KERNEL_CODE.0,
            ist,
            attributes: 0x8e, // present, DPL 0, 64-bit interrupt gate
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        };
        // SAFETY: init runs once on the boot CPU before interrupts are enabled, so nothing else
        // reads or writes the IDT while it is filled.
        unsafe { IDT[vector] = gate };
    }
    load_idt();
}

/// Loads the IDT on this CPU (the boot CPU's `init` filled it).
pub(crate) fn load_idt() {
    let pointer = DescriptorTablePointer {
        limit: (core::mem::size_of::<[Gate; 256]>() - 1) as u16,
        base: VirtAddr::new(core::ptr::addr_of!(IDT) as u64),
    };
    // SAFETY: the IDT is a static (lives forever) filled with valid gates for every vector that
    // has a stub; the remaining gates are not present and fault as #NP -> #DF, which is reported.
    unsafe { lidt(&pointer) };
}

static TICKS: AtomicU64 = AtomicU64::new(0);
static TICK_HOOK: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
/// Interrupts taken per PIC line (spurious ones not counted), for `/proc/stat`'s `intr`.
static IRQ_COUNTS: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

/// Timer interrupts since boot.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Interrupts taken since boot on each PIC line (IRQ 0 is the timer).
pub fn irq_counts() -> [u64; 16] {
    core::array::from_fn(|irq| IRQ_COUNTS[irq].load(Ordering::Relaxed))
}

/// Registers a function the timer interrupt calls after counting a tick (e.g. the scheduler),
/// with the tick count and whether the interrupted code was user mode.
pub fn set_tick_hook(hook: fn(u64, bool)) {
    TICK_HOOK.store(hook as *mut (), Ordering::Release);
}

#[unsafe(no_mangle)]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let vector = frame.vector as u8;
    if vector < IRQ_BASE {
        exception(frame);
    } else {
        interrupt(frame, vector - IRQ_BASE);
    }
    if frame.from_user() {
        crate::usermode::hooks::return_to_user(frame);
    }
}

const PAGE_FAULT: u64 = 14;

fn exception(frame: &mut TrapFrame) {
    let cr2 = x86_64::registers::control::Cr2::read_raw();
    if frame.from_user() {
        crate::usermode::hooks::user_exception(frame, cr2);
        return;
    } else if frame.vector == PAGE_FAULT
        && cr2 < crate::vm::USER_END
        && let Some(fixup) = crate::usercopy::fixup_for(frame.rip)
    {
        let resolved = crate::usermode::hooks::user_page_fault_in_kernel(cr2, frame.error_code);
        if !resolved {
            frame.rip = fixup;
        }
        return;
    }
    crate::report::exception(frame);
}

fn interrupt(frame: &mut TrapFrame, irq: u8) {
    if crate::timer::is_spurious(irq) {
        return;
    }
    IRQ_COUNTS[usize::from(irq & 15)].fetch_add(1, Ordering::Relaxed);
    if irq == 0 {
        let now = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
        crate::timer::end_of_interrupt(irq);
        let hook = TICK_HOOK.load(Ordering::Acquire);
        if !hook.is_null() {
            // SAFETY: TICK_HOOK only ever holds a `fn(u64, bool)` stored by set_tick_hook.
            let hook: fn(u64, bool) = unsafe { core::mem::transmute(hook) };
            hook(now, frame.from_user());
        }
    } else {
        crate::timer::end_of_interrupt(irq);
        let hook = IRQ_HOOKS[usize::from(irq)].load(Ordering::Acquire);
        if !hook.is_null() {
            // SAFETY: IRQ_HOOKS entries only ever hold a `fn()` stored by set_irq_hook.
            let hook: fn() = unsafe { core::mem::transmute(hook) };
            hook();
        }
    }
}

static IRQ_HOOKS: [AtomicPtr<()>; 16] = [const { AtomicPtr::new(core::ptr::null_mut()) }; 16];

/// Registers the handler of a PIC interrupt line (1..16; 0 is the timer, see set_tick_hook)
/// and unmasks it.
pub fn set_irq_hook(irq: u8, hook: fn()) {
    IRQ_HOOKS[usize::from(irq)].store(hook as *mut (), Ordering::Release);
    crate::timer::unmask_irq(irq);
}
