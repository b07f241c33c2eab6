//! Physical memory: the direct map, the kernel's page tables, and safe access to frames.
//!
//! After [`init`], all physical memory below [`direct_map_end`] is mapped at
//! `PHYS_OFFSET + paddr` (2 MiB pages, no-execute), the kernel image stays at `KERNEL_VMA +
//! paddr`, and the identity map of the first GiB used during boot is gone. The frames left
//! over after the kernel image, boot structures and boot-time allocations are the
//! [`free_regions`] handed to the page allocator.
//!
//! No reference into frame memory ever leaves this module: the kernel reads, writes, zeroes
//! and copies frames through [`frame`] functions that check the frame is RAM given out as free.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::{Mutex, Once};
use x86_64::PhysAddr;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;

use crate::bootinfo::{BootInfo, PhysRange};

/// Where the kernel image is linked: the top 2 GiB.
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;
/// Where all physical memory is mapped.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
/// The size of a page and of a frame.
pub const PAGE_SIZE: usize = 4096;
/// A physical frame number.
pub type Pfn = usize;

const MAX_FREE: usize = 64;
const HUGE: u64 = 2 << 20;
const PTE_PRESENT: u64 = 1;
const PTE_WRITABLE: u64 = 1 << 1;
const PTE_HUGE: u64 = 1 << 7;
const PTE_GLOBAL: u64 = 1 << 8;
const PTE_NX: u64 = 1 << 63;

unsafe extern "C" {
    static __kernel_phys_start: u8;
    static __kernel_end: u8;
}

static DIRECT_MAP_END: AtomicU64 = AtomicU64::new(0);
static KERNEL_ROOT: AtomicU64 = AtomicU64::new(0);

/// The physical address of the kernel's PML4 (kernel half only).
pub(crate) fn kernel_root() -> u64 {
    KERNEL_ROOT.load(Ordering::Relaxed)
}
/// Free RAM while the kernel still carves boot-time allocations out of it.
static FREE: Mutex<FreeRegions> = Mutex::new(FreeRegions {
    ranges: [PhysRange { start: 0, end: 0 }; MAX_FREE],
    count: 0,
});
/// Free RAM as handed to the page allocator: fixed from the first call of [`free_regions`].
static FROZEN: Once<FreeRegions> = Once::new();

#[derive(Clone, Copy)]
struct FreeRegions {
    ranges: [PhysRange; MAX_FREE],
    count: usize,
}

/// The physical range the kernel image occupies (boot stub, code, data, bss, symbols).
pub fn kernel_image() -> PhysRange {
    // Only the addresses of the linker-defined symbols are taken, never their contents.
    let (start, end) = (
        core::ptr::addr_of!(__kernel_phys_start) as u64,
        core::ptr::addr_of!(__kernel_end) as u64 - KERNEL_VMA,
    );
    PhysRange { start, end }
}

/// End of the direct map (exclusive physical address).
pub fn direct_map_end() -> u64 {
    DIRECT_MAP_END.load(Ordering::Relaxed)
}

/// Free RAM, page-aligned, after all boot-time reservations: what the page allocator manages.
/// The first call fixes the list: [`reserve_static`] is refused afterwards.
pub fn free_regions() -> &'static [PhysRange] {
    let free = FROZEN.call_once(|| *FREE.lock());
    &free.ranges[..free.count]
}

/// The free regions once fixed, or none before (for the panic path, which may run earlier).
pub(crate) fn free_regions_if_ready() -> &'static [PhysRange] {
    FROZEN.get().map_or(&[], |free| &free.ranges[..free.count])
}

/// Takes zeroed memory for `words` u64s out of free RAM for the rest of the kernel's life: for
/// data structures needed before the heap exists, such as the page allocator's metadata.
/// Panics once [`free_regions`] has been handed out, or if no free region is large enough.
pub fn reserve_static(words: usize) -> &'static mut [u64] {
    assert!(
        FROZEN.get().is_none(),
        "reserve_static after free_regions was handed out"
    );
    let bytes = (words * 8).next_multiple_of(PAGE_SIZE) as u64;
    let mut free = FREE.lock();
    let count = free.count;
    let region = free.ranges[..count]
        .iter_mut()
        .find(|r| r.len() >= bytes)
        .unwrap_or_else(|| panic!("no free region of {bytes} bytes for reserve_static"));
    let start = region.start;
    region.start += bytes;
    free.compact();
    let ptr = phys_to_virt(start) as *mut u64;
    // SAFETY: [start, start + bytes) was free RAM, is mapped in the direct map, and has just
    // been removed from the free regions, so this is the only reference to it, forever.
    unsafe {
        core::ptr::write_bytes(ptr, 0, bytes as usize / 8);
        core::slice::from_raw_parts_mut(ptr, words)
    }
}

/// Builds the free list from the boot memory map, then the direct map, and switches to it.
pub(crate) fn init(boot: &BootInfo) {
    let mut free = FreeRegions {
        ranges: [PhysRange::default(); MAX_FREE],
        count: 0,
    };
    for ram in boot.ram() {
        let start = ram.start.max(1 << 20).next_multiple_of(PAGE_SIZE as u64);
        let end = ram.end & !(PAGE_SIZE as u64 - 1);
        if end > start && free.count < MAX_FREE {
            free.ranges[free.count] = PhysRange { start, end };
            free.count += 1;
        }
    }
    free.remove(kernel_image());
    free.remove(boot.info_range);
    for module in boot.modules() {
        free.remove(*module);
    }
    let top = free.ranges[..free.count]
        .iter()
        .map(|r| r.end)
        .max()
        .unwrap_or(0);
    // Map at least 4 GiB so that device memory below 4 GiB (LAPIC, PCI BARs) is reachable.
    let map_end = top.max(4 << 30).next_multiple_of(1 << 30);
    build_direct_map(&mut free, map_end);
    DIRECT_MAP_END.store(map_end, Ordering::Relaxed);
    *FREE.lock() = free;
}

impl FreeRegions {
    fn remove(&mut self, hole: PhysRange) {
        let hole = PhysRange {
            start: hole.start & !(PAGE_SIZE as u64 - 1),
            end: hole.end.next_multiple_of(PAGE_SIZE as u64),
        };
        let mut i = 0;
        while i < self.count {
            let r = self.ranges[i];
            if hole.end <= r.start || hole.start >= r.end {
                i += 1;
                continue;
            }
            let below = PhysRange {
                start: r.start,
                end: hole.start,
            };
            let above = PhysRange {
                start: hole.end,
                end: r.end,
            };
            self.ranges[i] = below;
            if !above.is_empty() && self.count < MAX_FREE {
                self.ranges[self.count] = above;
                self.count += 1;
            }
            i += 1;
        }
        self.compact();
    }

    fn compact(&mut self) {
        let mut kept = 0;
        for i in 0..self.count {
            if !self.ranges[i].is_empty() {
                self.ranges[kept] = self.ranges[i];
                kept += 1;
            }
        }
        self.count = kept;
    }

    /// Takes one zeroed frame below 1 GiB (reachable through the boot map): for page tables.
    fn take_frame(&mut self) -> u64 {
        let region = self.ranges[..self.count]
            .iter_mut()
            .find(|r| r.len() >= PAGE_SIZE as u64 && r.start < (1 << 30))
            .expect("no free memory below 1 GiB for the kernel page tables");
        let frame = region.start;
        region.start += PAGE_SIZE as u64;
        // SAFETY: the frame is free RAM below 1 GiB, mapped at KERNEL_VMA by the boot page
        // tables, and nothing else refers to it.
        unsafe { core::ptr::write_bytes((KERNEL_VMA + frame) as *mut u8, 0, PAGE_SIZE) };
        self.compact();
        frame
    }
}

/// Fills a page table entry, during boot, through the boot map of the first GiB.
fn set_entry(table: u64, index: u64, value: u64) {
    // SAFETY: `table` is a page-table frame taken by take_frame (or the boot PML4/PDPT), below
    // 1 GiB and mapped at KERNEL_VMA; index < 512 keeps the write inside it.
    unsafe { core::ptr::write_volatile((KERNEL_VMA + table + index * 8) as *mut u64, value) };
}

fn build_direct_map(free: &mut FreeRegions, map_end: u64) {
    let (boot_pml4, _) = Cr3::read();
    let boot_pml4 = boot_pml4.start_address().as_u64();
    let pml4 = free.take_frame();
    // The kernel image mapping (PML4[511]) is kept from the boot tables.
    // SAFETY: reading the boot PML4's last entry, mapped at KERNEL_VMA (it lies in the image).
    let kernel_entry =
        unsafe { core::ptr::read_volatile((KERNEL_VMA + boot_pml4 + 511 * 8) as *const u64) };
    set_entry(pml4, 511, kernel_entry);
    let pml4_index = (PHYS_OFFSET >> 39) & 511;
    let mut gib = 0;
    while gib * (1 << 30) < map_end {
        let pml4_slot = pml4_index + gib / 512;
        let pdpt = {
            // SAFETY: reading an entry of the PML4 we are building (mapped as above).
            let entry = unsafe {
                core::ptr::read_volatile((KERNEL_VMA + pml4 + pml4_slot * 8) as *const u64)
            };
            if entry & PTE_PRESENT != 0 {
                entry & 0x000f_ffff_ffff_f000
            } else {
                let table = free.take_frame();
                set_entry(pml4, pml4_slot, table | PTE_PRESENT | PTE_WRITABLE);
                table
            }
        };
        let pd = free.take_frame();
        set_entry(pdpt, gib % 512, pd | PTE_PRESENT | PTE_WRITABLE);
        for i in 0..512 {
            let paddr = gib * (1 << 30) + i * HUGE;
            set_entry(
                pd,
                i,
                paddr | PTE_PRESENT | PTE_WRITABLE | PTE_HUGE | PTE_GLOBAL | PTE_NX,
            );
        }
        gib += 1;
    }
    KERNEL_ROOT.store(pml4, Ordering::Relaxed);
    let frame = PhysFrame::containing_address(PhysAddr::new(pml4));
    // SAFETY: the new PML4 maps the kernel image exactly as before (same PML4[511] subtree), so
    // the code, stack and data in use stay mapped; it drops only the identity map of the first
    // GiB, which nothing uses after boot.rs jumped to the higher half.
    unsafe { Cr3::write(frame, Cr3Flags::empty()) };
}

/// The kernel virtual address of a physical address in the direct map.
pub(crate) fn phys_to_virt(paddr: u64) -> u64 {
    debug_assert!(paddr < direct_map_end());
    PHYS_OFFSET + paddr
}

/// Safe access to free frames: the memory the page allocator hands out.
pub mod frame {
    use super::{PAGE_SIZE, Pfn, free_regions, phys_to_virt};

    /// Panics unless `pfn` lies in the free regions (so kernel image and page tables can never
    /// be reached through these functions).
    fn virt(pfn: Pfn) -> *mut u8 {
        let paddr = (pfn * PAGE_SIZE) as u64;
        assert!(
            free_regions()
                .iter()
                .any(|r| paddr >= r.start && paddr < r.end),
            "frame {pfn:#x} is not free RAM"
        );
        phys_to_virt(paddr) as *mut u8
    }

    /// Sets a whole frame to zero, with the configured memops variant's `zero_page`.
    pub fn zero(pfn: Pfn) {
        // SAFETY: virt() checked the frame is free RAM mapped in the direct map; the reference
        // lives only for this call and the caller owns the frame (it came from the allocator).
        let page = unsafe { &mut *(virt(pfn) as *mut [u8; PAGE_SIZE]) };
        tessera_memops::zero_page(page);
    }

    /// Copies frame `src` to frame `dst` with the configured `copy_page`.
    pub fn copy(dst: Pfn, src: Pfn) {
        assert_ne!(dst, src, "copying a frame onto itself");
        // SAFETY: both checked by virt(); distinct frames do not overlap; references end here.
        let (d, s) = unsafe {
            (
                &mut *(virt(dst) as *mut [u8; PAGE_SIZE]),
                &*(virt(src) as *const [u8; PAGE_SIZE]),
            )
        };
        tessera_memops::copy_page(d, s);
    }

    /// Writes `data` into the frame at `offset`.
    pub fn write(pfn: Pfn, offset: usize, data: &[u8]) {
        assert!(
            offset + data.len() <= PAGE_SIZE,
            "write past the end of a frame"
        );
        // SAFETY: bounds checked above, frame checked by virt(); `data` is ordinary kernel
        // memory and cannot overlap a free frame the caller owns.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), virt(pfn).add(offset), data.len()) };
    }

    /// Lets `f` write the whole frame in place (e.g. a file's bytes read straight into it);
    /// the frame's previous contents are what `f` sees, so it must set every byte it does
    /// not want to keep.
    pub fn fill<R>(pfn: Pfn, f: impl FnOnce(&mut [u8; PAGE_SIZE]) -> R) -> R {
        // SAFETY: virt() checked the frame is free RAM mapped in the direct map; the caller
        // owns the frame (it came from the allocator) and the reference lives only for `f`.
        let page = unsafe { &mut *(virt(pfn) as *mut [u8; PAGE_SIZE]) };
        f(page)
    }

    /// Reads from the frame at `offset` into `buf`.
    pub fn read(pfn: Pfn, offset: usize, buf: &mut [u8]) {
        assert!(
            offset + buf.len() <= PAGE_SIZE,
            "read past the end of a frame"
        );
        // SAFETY: as in write().
        unsafe {
            core::ptr::copy_nonoverlapping(virt(pfn).add(offset), buf.as_mut_ptr(), buf.len())
        };
    }
}
