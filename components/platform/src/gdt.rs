//! Segments: the GDT (laid out for SYSCALL/SYSRET) and the TSS with its interrupt stacks.

use spin::Once;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::segmentation::SegmentSelector;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::{PrivilegeLevel, VirtAddr};

/// Kernel code selector (GDT index 1).
pub const KERNEL_CODE: SegmentSelector = SegmentSelector::new(1, PrivilegeLevel::Ring0);
/// Kernel data selector (index 2).
pub const KERNEL_DATA: SegmentSelector = SegmentSelector::new(2, PrivilegeLevel::Ring0);
/// User data selector (index 3): SYSRET loads SS = STAR[63:48] + 8.
pub const USER_DATA: SegmentSelector = SegmentSelector::new(3, PrivilegeLevel::Ring3);
/// User code selector (index 4): SYSRET loads CS = STAR[63:48] + 16.
pub const USER_CODE: SegmentSelector = SegmentSelector::new(4, PrivilegeLevel::Ring3);
/// TSS selector (indices 5-6).
const TSS_SELECTOR: SegmentSelector = SegmentSelector::new(5, PrivilegeLevel::Ring0);

/// IST slot (1-based, as in the gate descriptor) for the double fault handler.
pub(crate) const IST_DOUBLE_FAULT: u8 = 1;
/// IST slot for NMIs.
pub(crate) const IST_NMI: u8 = 2;

const IST_STACK_SIZE: usize = 16 * 1024;

/// Memory the CPU switches to; only its address is used from Rust.
#[repr(align(16))]
struct Stack(#[allow(dead_code)] [u8; IST_STACK_SIZE]);

static mut DOUBLE_FAULT_STACK: Stack = Stack([0; IST_STACK_SIZE]);
static mut NMI_STACK: Stack = Stack([0; IST_STACK_SIZE]);
static mut TSS: TaskStateSegment = TaskStateSegment::new();
static GDT: Once<GlobalDescriptorTable> = Once::new();

fn stack_top(stack: *const Stack) -> VirtAddr {
    VirtAddr::from_ptr(stack) + IST_STACK_SIZE as u64
}

/// The kernel stacks the CPU may switch to: (bottom, top) pairs, for backtrace bounds.
pub(crate) fn ist_stacks() -> [(u64, u64); 2] {
    let df = core::ptr::addr_of!(DOUBLE_FAULT_STACK) as u64;
    let nmi = core::ptr::addr_of!(NMI_STACK) as u64;
    [
        (df, df + IST_STACK_SIZE as u64),
        (nmi, nmi + IST_STACK_SIZE as u64),
    ]
}

/// Sets the stack the CPU switches to on an interrupt from user mode (TSS.RSP0).
pub(crate) fn set_rsp0(top: u64) {
    // SAFETY: single CPU; the CPU reads RSP0 only on a privilege change, which cannot happen
    // during this store (the caller runs in kernel mode with interrupts off).
    unsafe { (*core::ptr::addr_of_mut!(TSS)).privilege_stack_table[0] = VirtAddr::new(top) };
}

pub(crate) fn init() {
    // SAFETY: runs once at boot before interrupts are enabled; nothing else uses the TSS yet,
    // and afterwards only set_rsp0 writes it (single CPU, interrupts off).
    let tss: &'static TaskStateSegment = unsafe {
        let tss = &mut *core::ptr::addr_of_mut!(TSS);
        tss.interrupt_stack_table[usize::from(IST_DOUBLE_FAULT - 1)] =
            stack_top(core::ptr::addr_of!(DOUBLE_FAULT_STACK));
        tss.interrupt_stack_table[usize::from(IST_NMI - 1)] =
            stack_top(core::ptr::addr_of!(NMI_STACK));
        &*core::ptr::addr_of!(TSS)
    };
    let gdt = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let selectors = [
            gdt.append(Descriptor::kernel_code_segment()),
            gdt.append(Descriptor::kernel_data_segment()),
            gdt.append(Descriptor::user_data_segment()),
            gdt.append(Descriptor::user_code_segment()),
            gdt.append(Descriptor::tss_segment(tss)),
        ];
        assert_eq!(
            selectors.map(|s| s.index()),
            [KERNEL_CODE, KERNEL_DATA, USER_DATA, USER_CODE, TSS_SELECTOR].map(|s| s.index())
        );
        gdt
    });
    load_with_segments(gdt);
    // SAFETY: the selector indexes the TSS descriptor appended above, in the GDT just loaded,
    // which lives forever in a static and points at a static TSS.
    unsafe { load_tss(TSS_SELECTOR) };
}

/// Loads `gdt` and the kernel's code and data selectors into the segment registers.
fn load_with_segments(gdt: &'static GlobalDescriptorTable) {
    gdt.load();
    // SAFETY: the selectors index the kernel code and data descriptors that `init` appended
    // (and checked) in this GDT, just loaded; it lives forever in a static.
    unsafe {
        CS::set_reg(KERNEL_CODE);
        DS::set_reg(KERNEL_DATA);
        ES::set_reg(KERNEL_DATA);
        SS::set_reg(KERNEL_DATA);
    }
}

/// Loads the boot CPU's GDT on another CPU and its segment registers (not the TSS: its
/// descriptor is marked busy by the boot CPU, and a parked CPU never changes privilege).
pub(crate) fn load_on_other_cpu() {
    load_with_segments(GDT.get().expect("the boot CPU loads the GDT first"));
}
