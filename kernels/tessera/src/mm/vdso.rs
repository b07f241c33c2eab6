//! The vDSO (`vdso = "on"`): a small shared object the kernel maps into every process, whose
//! functions (`clock_gettime`, `gettimeofday`, `time`, `getcpu`) answer in user mode what would
//! otherwise take a system call, as Linux's. Its code is C (`kernels/tessera/vdso/vdso.c`),
//! built by the build script with the host's C compiler and included here; it reads the
//! clocks from one page the kernel keeps up to date, the vvar page (layout: `vdso.h` there,
//! [`VvarPage`] here), mapped read-only one page below it.
//!
//! Both are frames allocated once at boot, whose one reference the kernel keeps for good:
//! processes map them (`Backing::Special`, read-only and copy-on-write, so that a debugger
//! that writes a breakpoint into its vDSO gets a copy of its own), fork shares them, and
//! unmapping them never frees them. `execve` maps them at the top of the stack region, the
//! stack just below, and passes the image's address as `AT_SYSINFO_EHDR`.

use alloc::vec::Vec;

use tessera_platform::clock;
use tessera_platform::mm::{PAGE_SIZE, Pfn, frame};
use tessera_sync::Once;

use crate::mm::user_frames::alloc_user_frame;
use crate::mm::vm::{Backing, Prot, Vm, Vma};

const PAGE: u64 = PAGE_SIZE as u64;

/// The vDSO as the build script produced it.
static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// Bytes the vDSO takes at the top of the stack region: the vvar page, then the image.
pub const SPAN: u64 = (1 + IMAGE.len().div_ceil(PAGE_SIZE)) as u64 * PAGE;

/// The frames: `pages[0]` is the vvar page, the rest hold the image.
static FRAMES: Once<Vec<Pfn>> = Once::new();

/// Byte offsets of the vvar page's fields (`struct vvar_page` in `vdso.h`).
struct VvarPage;

impl VvarPage {
    const SEQ: usize = 0;
    const TSC_CLOCK: usize = 4;
    const TSC_BASE: usize = 8;
    const MULT: usize = 16;
    const SHIFT: usize = 24;
    const REALTIME_OFFSET: usize = 32;
}

/// Allocates the frames, copies the image in and fills the vvar page. Once, at boot, after
/// the clocks are set.
pub fn init() {
    FRAMES.call_once(|| {
        let pages = 1 + IMAGE.len().div_ceil(PAGE_SIZE);
        let frames: Vec<Pfn> = (0..pages)
            .map(|_| alloc_user_frame().expect("frames for the vDSO at boot"))
            .collect();
        for (chunk, &pfn) in IMAGE.chunks(PAGE_SIZE).zip(&frames[1..]) {
            frame::write(pfn, 0, chunk);
        }
        let params = clock::params();
        let vvar = frames[0];
        frame::write(
            vvar,
            VvarPage::TSC_CLOCK,
            &u32::from(params.mult != 0).to_le_bytes(),
        );
        frame::write(vvar, VvarPage::TSC_BASE, &params.tsc_base.to_le_bytes());
        frame::write(vvar, VvarPage::MULT, &params.mult.to_le_bytes());
        frame::write(vvar, VvarPage::SHIFT, &params.shift.to_le_bytes());
        frames
    });
    set_realtime_offset(crate::time::realtime_offset_ns());
}

/// The realtime clock moved: the vvar page's offset follows, under its sequence count (odd
/// while the field changes, so that a reader that saw the old and the new half retries).
/// Nothing before [`init`].
pub fn set_realtime_offset(offset_ns: u64) {
    let Some(frames) = FRAMES.get() else {
        return;
    };
    let vvar = frames[0];
    let mut seq = [0u8; 4];
    frame::read(vvar, VvarPage::SEQ, &mut seq);
    let seq = u32::from_le_bytes(seq);
    frame::write(vvar, VvarPage::SEQ, &seq.wrapping_add(1).to_le_bytes());
    frame::write(vvar, VvarPage::REALTIME_OFFSET, &offset_ns.to_le_bytes());
    frame::write(vvar, VvarPage::SEQ, &seq.wrapping_add(2).to_le_bytes());
}

/// Maps the clock page (`[vvar]`) at `at` and, right above it, the image (`[vdso]`), [`SPAN`]
/// bytes in all (`execve` places them above the stack); the image's address, for
/// `AT_SYSINFO_EHDR`.
pub fn map(vm: &mut Vm, at: u64) -> Option<u64> {
    let frames: &'static [Pfn] = FRAMES.get().expect("mm::vdso::init has not run");
    let area = |start, end, prot, frames, name| Vma {
        start,
        end,
        prot,
        shared: false,
        backing: Backing::Special {
            frames,
            offset: 0,
            name,
        },
        private_pages: false,
    };
    vm.insert(area(at, at + PAGE, Prot::READ, &frames[..1], "[vvar]"));
    vm.insert(area(
        at + PAGE,
        at + SPAN,
        Prot::READ | Prot::EXEC,
        &frames[1..],
        "[vdso]",
    ));
    Some(at + PAGE)
}
