//! Entering and leaving user mode: SYSCALL entry, per-CPU data, kernel stacks and context
//! switching, and the hooks through which the kernel handles syscalls and user traps.
//!
//! A syscall builds the same [`TrapFrame`] as an interrupt (vector [`SYSCALL_VECTOR`]) on the
//! current task's kernel stack, so that the kernel handles both alike and every return to
//! user mode goes through one path (`trap_return`, `iretq`): after a syscall, after an
//! interrupt or exception from user mode, and for a new task. Before that return the kernel's
//! return-to-user hook runs: the place for rescheduling and signal delivery.

use core::arch::global_asm;
use core::sync::atomic::Ordering;

use x86_64::VirtAddr;
use x86_64::registers::model_specific::{
    Efer, EferFlags, FsBase, GsBase, KernelGsBase, LStar, SFMask, Star,
};
use x86_64::registers::rflags::RFlags;

use crate::gdt;
use crate::trap::TrapFrame;

/// The `vector` field of a frame built by the SYSCALL entry.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// The kernel's handlers, defined in the kernel crate with [`crate::user_mode_hooks!`] and
/// called directly (no registration, no indirect call on the syscall path):
/// - syscall: number in `rax`, arguments in `rdi, rsi, rdx, r10, r8, r9`, result in `rax`;
///   the frame may be changed (execve, signal delivery, rt_sigreturn);
/// - user exception: a CPU exception in user mode (CR2 for page faults);
/// - page fault in usercopy: a kernel-mode fault at a user address inside a copy routine;
///   true if the kernel made the page accessible (demand paging, copy-on-write), so the copy
///   resumes; false makes the copy fail with EFAULT;
/// - return to user: runs before every return to user mode, interrupts disabled.
pub(crate) mod hooks {
    use crate::trap::TrapFrame;

    unsafe extern "Rust" {
        fn tessera_hook_syscall(frame: &mut TrapFrame);
        fn tessera_hook_user_exception(frame: &mut TrapFrame, cr2: u64);
        fn tessera_hook_user_page_fault_in_kernel(addr: u64, error_code: u64) -> bool;
        fn tessera_hook_return_to_user(frame: &mut TrapFrame);
    }

    pub fn syscall(frame: &mut TrapFrame) {
        // SAFETY: user_mode_hooks! in the kernel defines the symbol with this signature.
        unsafe { tessera_hook_syscall(frame) }
    }

    pub fn user_exception(frame: &mut TrapFrame, cr2: u64) {
        // SAFETY: as above.
        unsafe { tessera_hook_user_exception(frame, cr2) }
    }

    pub fn user_page_fault_in_kernel(addr: u64, error_code: u64) -> bool {
        // SAFETY: as above.
        unsafe { tessera_hook_user_page_fault_in_kernel(addr, error_code) }
    }

    pub fn return_to_user(frame: &mut TrapFrame) {
        // SAFETY: as above.
        unsafe { tessera_hook_return_to_user(frame) }
    }
}

/// Per-CPU data reached through GS in the entry path (one CPU for now).
#[repr(C)]
struct PerCpu {
    /// Scratch slot for the user RSP while the SYSCALL entry switches stacks (offset 0).
    user_rsp: u64,
    /// Top of the current task's kernel stack (offset 8).
    kernel_rsp: u64,
}

static mut PER_CPU: PerCpu = PerCpu {
    user_rsp: 0,
    kernel_rsp: 0,
};

global_asm!(
    concat!(
        r#"
    .section .text.syscall_entry, "ax"
    .global syscall_entry
    .p2align 4
syscall_entry:
    swapgs
    mov %rsp, %gs:0
    mov %gs:8, %rsp
    push $0x1b                       /* ss: user data */
    push %gs:0                       /* user rsp */
    push %r11                        /* rflags */
    push $0x23                       /* cs: user code */
    push %rcx                        /* rip */
    push $0                          /* error code */
    push $0x100                      /* vector: SYSCALL_VECTOR */
"#,
        crate::trap::push_general_registers!(),
        r#"    cld
    xor %ebp, %ebp                   /* backtraces stop at the user boundary */
    mov %rsp, %rdi
    call syscall_dispatch
    jmp trap_return

    /* A new task's first switch lands here (see KernelStack::init_user_return). */
    .global task_start_user
task_start_user:
    jmp trap_return

    /* switch_context(from: *mut u64, to: u64): save callee-saved registers, swap stacks. */
    .global switch_context
switch_context:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
"#
    ),
    options(att_syntax)
);

unsafe extern "C" {
    fn syscall_entry();
    fn task_start_user();
    fn switch_context(from: *mut u64, to: u64);
}

#[unsafe(no_mangle)]
extern "C" fn syscall_dispatch(frame: &mut TrapFrame) {
    x86_64::instructions::interrupts::enable();
    hooks::syscall(frame);
    x86_64::instructions::interrupts::disable();
    hooks::return_to_user(frame);
}

/// Programs SYSCALL/SYSRET and the per-CPU pointer.
pub(crate) fn init() {
    // SAFETY: the MSR writes configure SYSCALL to enter `syscall_entry` with the kernel
    // selectors of our GDT and interrupts masked; KernelGsBase points at the static per-CPU
    // block the entry path expects. EFER.SCE only enables the instruction.
    unsafe {
        Efer::update(|flags| *flags |= EferFlags::SYSTEM_CALL_EXTENSIONS);
        Star::write(
            gdt::USER_CODE,
            gdt::USER_DATA,
            gdt::KERNEL_CODE,
            gdt::KERNEL_DATA,
        )
        .expect("GDT layout suits SYSRET");
        LStar::write(VirtAddr::new(syscall_entry as *const () as u64));
        SFMask::write(
            RFlags::INTERRUPT_FLAG
                | RFlags::DIRECTION_FLAG
                | RFlags::TRAP_FLAG
                | RFlags::ALIGNMENT_CHECK,
        );
        // In the kernel GS points at the per-CPU block; the user's GS waits in KernelGsBase
        // (swapped on every entry from and return to user mode).
        GsBase::write(VirtAddr::new(core::ptr::addr_of!(PER_CPU) as u64));
        KernelGsBase::write(VirtAddr::new(0));
    }
}

/// Per-task kernel stack. Unoptimised builds (opt-level 0) use several times the stack of
/// optimised ones; 64 KiB covers the deepest syscall paths there with room to spare.
const KERNEL_STACK_SIZE: usize = 64 * 1024;
/// Written at the bottom of every kernel stack and checked on every switch: an overflow
/// is reported instead of silently corrupting the heap below.
const STACK_CANARY: u64 = 0x5354_4143_4b21_2121;

/// A task's kernel stack: syscalls and interrupts from its user mode run on it.
pub struct KernelStack {
    memory: alloc::boxed::Box<StackMemory>,
}

#[repr(C, align(16))]
struct StackMemory([u8; KERNEL_STACK_SIZE]);

/// The saved kernel stack pointer of a task that is not running. Interior mutability lets the
/// scheduler switch between contexts it reaches through shared references (e.g. a static
/// table indexed by task slot).
#[derive(Debug, Default)]
pub struct TaskContext {
    rsp: core::sync::atomic::AtomicU64,
}

impl TaskContext {
    /// An empty context: filled by the first switch away from it, or by init_user_return.
    pub const fn new() -> Self {
        TaskContext {
            rsp: core::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl KernelStack {
    /// A stack on the heap (not cleared: a stack is written before it is read, and clearing
    /// 64 KiB would be most of the cost of a fork).
    pub fn new() -> Self {
        Self::try_new().unwrap_or_else(|| {
            alloc::alloc::handle_alloc_error(core::alloc::Layout::new::<StackMemory>())
        })
    }

    /// [`new`](Self::new), or `None` when the heap has no 64 KiB for it (a fork that finds no
    /// memory fails with ENOMEM instead of panicking).
    pub fn try_new() -> Option<Self> {
        // Built in place: 64 KiB would not fit a kernel stack as a temporary.
        let layout = core::alloc::Layout::new::<StackMemory>();
        // SAFETY: the layout is non-zero-sized; a null result is returned as None; the memory
        // holds arbitrary bytes, and every byte pattern is a valid [u8; N]; the Box owns it.
        let memory = unsafe {
            let ptr = alloc::alloc::alloc(layout) as *mut StackMemory;
            if ptr.is_null() {
                return None;
            }
            alloc::boxed::Box::from_raw(ptr)
        };
        let mut stack = KernelStack { memory };
        stack.memory.0[..8].copy_from_slice(&STACK_CANARY.to_le_bytes());
        Some(stack)
    }

    /// Panics if the stack overflowed its bottom (the canary was overwritten).
    pub fn check(&self) {
        let canary = u64::from_le_bytes(self.memory.0[..8].try_into().expect("8 bytes"));
        assert!(
            canary == STACK_CANARY,
            "kernel stack overflow: the canary at {:#x} was overwritten",
            self.memory.0.as_ptr() as u64
        );
    }

    /// The address just above the stack.
    pub fn top(&self) -> u64 {
        self.memory.0.as_ptr() as u64 + KERNEL_STACK_SIZE as u64
    }

    /// Prepares the stack, and `context`, so that the next [`switch`] to `context` enters user
    /// mode with the registers of `frame` (for a new process or a fork child).
    pub fn init_user_return(&mut self, frame: &TrapFrame, context: &TaskContext) {
        let top = self.top();
        let frame_at = top - core::mem::size_of::<TrapFrame>() as u64;
        // Below the frame: what switch_context pops (six registers) and its return address.
        let switch_at = frame_at - 7 * 8;
        // SAFETY: both writes land inside this stack's memory (frame_at and switch_at are
        // above its bottom, below its top, 8-aligned), which we own exclusively (&mut self).
        unsafe {
            core::ptr::write(frame_at as *mut TrapFrame, frame.clone());
            let words = switch_at as *mut u64;
            for i in 0..6 {
                words.add(i).write(0);
            }
            words.add(6).write(task_start_user as *const () as u64);
        }
        context.rsp.store(switch_at, Ordering::Relaxed);
    }
}

impl Default for KernelStack {
    fn default() -> Self {
        Self::new()
    }
}

/// Makes `stack` the one the CPU enters on from user mode (TSS.RSP0 and the SYSCALL entry).
pub fn set_kernel_stack(top: u64) {
    gdt::set_rsp0(top);
    // SAFETY: single CPU, interrupts are off in the scheduler that calls this; the entry path
    // reads this field only on a later entry from user mode.
    unsafe { (*core::ptr::addr_of_mut!(PER_CPU)).kernel_rsp = top };
}

/// Switches from the running task (its context is saved into `from`) to `to`. Returns when
/// some later switch resumes `from`. The kernel guarantees that the kernel stack of `to` is
/// alive and that `to` was saved by a switch or prepared by `init_user_return`.
pub fn switch(from: &TaskContext, to: &TaskContext) {
    let to_rsp = to.rsp.load(Ordering::Relaxed);
    // SAFETY: switch_context saves callee-saved registers and RSP into `from` and resumes the
    // stack saved in `to`, which holds exactly what switch_context pushed (or what
    // init_user_return prepared), per the contract above.
    unsafe { switch_context(from.rsp.as_ptr(), to_rsp) };
}

/// Sets the user's FS base (the thread pointer, `arch_prctl(ARCH_SET_FS)`); part of a task's
/// context, restored on every switch.
pub fn set_fs_base(base: u64) {
    // FS is not used by the kernel, so changing its base never affects kernel code.
    FsBase::write(VirtAddr::new_truncate(base));
}
