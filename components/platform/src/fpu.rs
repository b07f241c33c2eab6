//! User FPU and SIMD state: x87, SSE and, where the CPU has XSAVE, AVX.
//!
//! The kernel is soft-float and never touches these registers, so they always hold the
//! running task's state: the scheduler saves them when a task leaves the CPU and loads the
//! next task's image when it enters. Two ways of doing that, chosen once at boot:
//!
//! - **XSAVE** (CPUID.1:ECX.XSAVE): CR4.OSXSAVE is set and XCR0 enables the components the
//!   kernel manages, x87 | SSE | AVX as far as CPUID.(0xD,0).EAX offers them. An image is the
//!   standard (non-compacted) XSAVE layout, [`xstate_size`] bytes, at most [`AREA_SIZE`].
//!   MPX (bits 3-4) stays off (Linux dropped it too); AVX-512 would not fit the area; PKRU
//!   (bit 9) stays off because the kernel has no protection keys (CR4.PKE off, so the
//!   register does not exist for user code) and enabling it would move the image to 2696
//!   bytes (PKRU lies at offset 2688 in the standard layout) for nothing.
//! - **FXSAVE** otherwise: the 512-byte legacy image (x87 and SSE).
//!
//! Every [`FpuState`] is valid for XRSTOR / FXRSTOR by construction: the initial state, what
//! the CPU saved, or an image from a signal frame that [`FpuState::from_sigframe`] checked
//! (MXCSR reserved bits clear, XSTATE_BV within XCR0, the header's other bytes zero). So
//! restoring can never fault.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use x86_64::registers::control::{Cr4, Cr4Flags};

/// The space reserved for an image in every task: enough for x87 | SSE | AVX (832 bytes in
/// the standard layout). Checked at boot against what CPUID reports.
pub const AREA_SIZE: usize = 1024;
/// The legacy (FXSAVE) region at the start of every image.
pub const LEGACY_SIZE: usize = 512;
/// The XSAVE header that follows the legacy region.
const HEADER_SIZE: usize = 64;

/// State components (XCR0 / XSTATE_BV bits).
pub const X87: u64 = 1 << 0;
pub const SSE: u64 = 1 << 1;
pub const AVX: u64 = 1 << 2;
/// The components the kernel is willing to manage.
const MANAGED: u64 = X87 | SSE | AVX;

/// Offsets in the legacy region.
const FCW: usize = 0;
const MXCSR: usize = 24;
const MXCSR_MASK: usize = 28;
/// Offset of XSTATE_BV (the first 8 bytes of the header).
const XSTATE_BV: usize = LEGACY_SIZE;

/// XCR0 as set at boot; 0 when the CPU has no XSAVE (the FXSAVE path).
static XFEATURES: AtomicU64 = AtomicU64::new(0);
/// Bytes of an image: CPUID.(0xD,0).EBX for XCR0, or 512 without XSAVE.
static XSTATE_SIZE: AtomicU32 = AtomicU32::new(LEGACY_SIZE as u32);
/// MXCSR bits the CPU accepts (from FXSAVE's MXCSR_MASK; 0xffbf when it reports 0).
static MXCSR_FEATURES: AtomicU32 = AtomicU32::new(0xffbf);

/// Turns on XSAVE (CR4.OSXSAVE, XCR0) when the CPU has it; runs once at boot after CR0/CR4
/// enabled x87/SSE (cpu::init). Panics if the enabled components need more than
/// [`AREA_SIZE`] bytes.
pub(crate) fn init() {
    let mut probe = FpuState([0; AREA_SIZE]);
    // SAFETY: FXSAVE64 writes 512 bytes into a 64-byte aligned area we own; CR4.OSFXSR is set.
    unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) probe.0.as_mut_ptr(), options(nostack)) };
    let mask = read_u32(&probe.0, MXCSR_MASK);
    MXCSR_FEATURES.store(if mask == 0 { 0xffbf } else { mask }, Ordering::Relaxed);

    let max_leaf = core::arch::x86_64::__cpuid(0).eax;
    let xsave = core::arch::x86_64::__cpuid(1).ecx & (1 << 26) != 0;
    if !xsave || max_leaf < 0xd {
        return;
    }
    let leaf = core::arch::x86_64::__cpuid_count(0xd, 0);
    let supported = u64::from(leaf.eax) | (u64::from(leaf.edx) << 32);
    let xcr0 = supported & MANAGED;
    if xcr0 & (X87 | SSE) != X87 | SSE {
        // XCR0 must have x87 and should have SSE; a CPU without both keeps FXSAVE.
        return;
    }
    // SAFETY: CPUID says XSAVE exists, so CR4.OSXSAVE is a valid bit; with it set, XSETBV
    // with ECX = 0 loads XCR0 from a mask that has x87 (required) and only bits CPUID.(0xD,0)
    // reports supported, with AVX only together with SSE (the architectural rule), so it
    // cannot fault. The kernel uses none of these registers, so nothing live changes.
    unsafe {
        Cr4::update(|cr4| cr4.insert(Cr4Flags::OSXSAVE));
        core::arch::asm!(
            "xsetbv",
            in("ecx") 0u32,
            in("eax") xcr0 as u32,
            in("edx") (xcr0 >> 32) as u32,
            options(nostack, nomem),
        );
    }
    // EBX now reports the size for the XCR0 just set.
    let size = core::arch::x86_64::__cpuid_count(0xd, 0).ebx as usize;
    assert!(
        (LEGACY_SIZE + HEADER_SIZE..=AREA_SIZE).contains(&size),
        "XSAVE: the state for XCR0 {xcr0:#x} takes {size} bytes, more than the {AREA_SIZE} \
         reserved per task (fpu::AREA_SIZE)"
    );
    XSTATE_SIZE.store(size as u32, Ordering::Relaxed);
    XFEATURES.store(xcr0, Ordering::Relaxed);
}

/// XCR0, the components in every image; 0 when the CPU has no XSAVE (FXSAVE images).
pub fn xfeatures() -> u64 {
    XFEATURES.load(Ordering::Relaxed)
}

/// Bytes of an image: the XSAVE size for [`xfeatures`], or 512 (FXSAVE).
pub fn xstate_size() -> usize {
    XSTATE_SIZE.load(Ordering::Relaxed) as usize
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// A user task's FPU/SIMD registers: an XSAVE image (standard layout) or an FXSAVE one.
#[repr(C, align(64))]
#[derive(Clone)]
pub struct FpuState([u8; AREA_SIZE]);

/// The initial state: as after FNINIT, MXCSR 0x1f80 (all exceptions masked), XSTATE_BV 0
/// (every component in its initial configuration), reserved bytes zero.
static INIT: FpuState = FpuState::initial();

impl Default for FpuState {
    fn default() -> Self {
        INIT.clone()
    }
}

/// Why a signal frame's FPU image was refused (the caller kills the task, as Linux's
/// rt_sigreturn ends in SIGSEGV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadImage {
    /// MXCSR has bits the CPU reserves.
    Mxcsr,
    /// XSTATE_BV names a component not in XCR0.
    Components,
    /// XCOMP_BV or the 8 bytes after it are not zero (the compacted form, which these
    /// images never use, or reserved bytes XRSTOR checks).
    Header,
}

impl FpuState {
    const fn initial() -> Self {
        let mut area = [0u8; AREA_SIZE];
        area[FCW] = 0x7f;
        area[FCW + 1] = 0x03;
        area[MXCSR] = 0x80;
        area[MXCSR + 1] = 0x1f;
        FpuState(area)
    }

    /// The image as a signal frame stores it ([`xstate_size`] bytes).
    pub fn image(&self) -> &[u8] {
        &self.0[..xstate_size()]
    }

    /// Builds a state from a signal frame's image, as Linux's rt_sigreturn restores it:
    /// - `components: Some(mask)` (the frame's magic numbers were valid): an XSAVE image of
    ///   [`xstate_size`] bytes; components in `mask` and XSTATE_BV are loaded, the others
    ///   reset to their initial state (MXCSR too when `mask` has neither SSE nor AVX);
    /// - `None`: only the 512-byte legacy region (x87 and SSE) counts, everything else is
    ///   reset.
    ///
    /// `image` must hold at least 512 bytes, and [`xstate_size`] with `Some`.
    pub fn from_sigframe(image: &[u8], components: Option<u64>) -> Result<Self, BadImage> {
        let mut state = INIT.clone();
        let xcr0 = xfeatures();
        let mxcsr = read_u32(image, MXCSR);
        if mxcsr & !MXCSR_FEATURES.load(Ordering::Relaxed) != 0 {
            return Err(BadImage::Mxcsr);
        }
        // The legacy region up to its reserved part (bytes 416.. are not state).
        state.0[..416].copy_from_slice(&image[..416]);
        match components {
            Some(mask) if xcr0 != 0 => {
                let size = xstate_size();
                let header = &image[LEGACY_SIZE..LEGACY_SIZE + HEADER_SIZE];
                let xstate_bv = read_u64(header, 0);
                if xstate_bv & !xcr0 != 0 {
                    return Err(BadImage::Components);
                }
                // XRSTOR checks header bytes 8..24; the rest of the header is ignored (and
                // stays zero here: only XSTATE_BV is taken from the image).
                if header[8..24].iter().any(|&b| b != 0) {
                    return Err(BadImage::Header);
                }
                state.0[LEGACY_SIZE + HEADER_SIZE..size]
                    .copy_from_slice(&image[LEGACY_SIZE + HEADER_SIZE..size]);
                let load = mask & xcr0;
                state.0[XSTATE_BV..XSTATE_BV + 8]
                    .copy_from_slice(&(xstate_bv & load).to_le_bytes());
                if load & (SSE | AVX) == 0 {
                    state.0[MXCSR..MXCSR + 4].copy_from_slice(&0x1f80u32.to_le_bytes());
                }
            }
            _ if xcr0 != 0 => {
                // FXRSTOR semantics: x87 and SSE from the image, AVX and the rest initial.
                state.0[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&(X87 | SSE).to_le_bytes());
            }
            _ => {}
        }
        Ok(state)
    }

    /// Saves the CPU's registers here.
    #[inline]
    pub fn save(&mut self) {
        let mask = xfeatures();
        if mask != 0 {
            // SAFETY: XSAVE64 (CR4.OSXSAVE set at boot, since mask != 0) writes at most
            // xstate_size() <= AREA_SIZE bytes into this 64-byte aligned area we own; it
            // updates XSTATE_BV for the components in EDX:EAX = XCR0 and leaves the rest of
            // the header as it was (zero, this type's invariant).
            unsafe {
                core::arch::asm!(
                    "xsave64 [{}]",
                    in(reg) self.0.as_mut_ptr(),
                    in("eax") mask as u32,
                    in("edx") (mask >> 32) as u32,
                    options(nostack),
                )
            };
        } else {
            // SAFETY: FXSAVE64 writes 512 bytes to a 64-byte aligned area we own.
            unsafe {
                core::arch::asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack))
            };
        }
    }

    /// Loads the CPU's registers from here.
    #[inline]
    pub fn restore(&self) {
        let mask = xfeatures();
        if mask != 0 {
            // SAFETY: XRSTOR64 reads at most xstate_size() bytes from this 64-byte aligned
            // area, which is valid by construction (see the module doc): reserved MXCSR bits
            // clear, XSTATE_BV within XCR0, header bytes 8..64 zero, so it cannot fault.
            unsafe {
                core::arch::asm!(
                    "xrstor64 [{}]",
                    in(reg) self.0.as_ptr(),
                    in("eax") mask as u32,
                    in("edx") (mask >> 32) as u32,
                    options(nostack, readonly),
                )
            };
        } else {
            // SAFETY: FXRSTOR64 reads 512 bytes from a 16-byte aligned image whose reserved
            // MXCSR bits are clear (the invariant above), so it cannot fault.
            unsafe {
                core::arch::asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr(), options(nostack, readonly))
            };
        }
    }

    /// Loads the initial state into the CPU's registers (execve, signal handler entry),
    /// without building an image.
    pub fn restore_initial() {
        INIT.restore();
    }
}
