//! CPU features the kernel turns on: NX (already on from boot), SMEP, SMAP, global pages,
//! x87/SSE and (through [`crate::fpu`]) XSAVE with AVX.

use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::registers::control::{Cr4, Cr4Flags};

static SMEP: AtomicBool = AtomicBool::new(false);
static SMAP: AtomicBool = AtomicBool::new(false);

/// Enables what the CPU model offers. SMEP stops the kernel executing user pages; SMAP stops
/// it touching them outside usercopy (which brackets its accesses with STAC/CLAC).
pub(crate) fn init() {
    let max_leaf = core::arch::x86_64::__cpuid(0).eax;
    let leaf7 = core::arch::x86_64::__cpuid_count(7, 0);
    let smep = max_leaf >= 7 && leaf7.ebx & (1 << 7) != 0;
    let smap = max_leaf >= 7 && leaf7.ebx & (1 << 20) != 0;
    let mut flags = Cr4::read() | Cr4Flags::PAGE_GLOBAL;
    if smep {
        flags |= Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION;
    }
    if smap {
        flags |= Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION;
    }
    // SAFETY: enabling global pages, SMEP and SMAP only restricts what the kernel may do; the
    // kernel never executes or touches user memory at this point (there is none yet).
    unsafe { Cr4::write(flags) };
    // x87/SSE for user programs: CR0.MP set, CR0.EM clear, CR4.OSFXSR and OSXMMEXCPT. The
    // kernel itself is soft-float and never touches these registers.
    // SAFETY: enabling FXSAVE/SSE changes no memory and the kernel does not use the FPU.
    unsafe {
        use x86_64::registers::control::{Cr0, Cr0Flags};
        Cr0::update(|cr0| {
            cr0.remove(Cr0Flags::EMULATE_COPROCESSOR);
            cr0.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|cr4| cr4.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
    }
    // XSAVE and AVX where the CPU has them (CR4.OSXSAVE, XCR0).
    crate::fpu::init();
    crate::usercopy::init(smap);
    SMEP.store(smep, Ordering::Relaxed);
    SMAP.store(smap, Ordering::Relaxed);
}

/// Whether SMEP / SMAP are on.
pub fn protections() -> (bool, bool) {
    (SMEP.load(Ordering::Relaxed), SMAP.load(Ordering::Relaxed))
}

/// The four registers CPUID returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpuid {
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
}

/// CPUID of `leaf` (and `subleaf`, for the leaves that have them). A leaf above the highest
/// one the CPU offers (leaf 0's EAX for basic leaves, leaf 0x8000_0000's for extended ones)
/// returns what the CPU returns for it, which the caller should not trust.
pub fn cpuid(leaf: u32, subleaf: u32) -> Cpuid {
    let r = core::arch::x86_64::__cpuid_count(leaf, subleaf);
    Cpuid {
        eax: r.eax,
        ebx: r.ebx,
        ecx: r.ecx,
        edx: r.edx,
    }
}
