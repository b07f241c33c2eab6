//! User address spaces: 4-level page tables whose lower half belongs to one process and whose
//! upper half is the kernel's (shared entries copied from the kernel's PML4).
//!
//! The platform only builds and walks page tables. What a mapping means (which frame, shared
//! or copy-on-write, reference counts) is the kernel's business: it passes frames in and gets
//! them back from [`PageTable::unmap`]. Intermediate tables come from the kernel's
//! [`FrameSource`](crate::heap::FrameSource) and are freed by [`PageTable::destroy`].

use x86_64::PhysAddr;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;

use crate::heap::FrameSource;
use crate::mm::{PAGE_SIZE, Pfn, phys_to_virt};

/// First address above user space (the lower canonical half).
pub const USER_END: u64 = 0x0000_8000_0000_0000;

bitflags::bitflags! {
    /// Properties of a user page mapping (a subset of the x86 PTE bits, plus one software bit).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PageFlags: u64 {
        const WRITABLE = 1 << 1;
        /// Software bit (ignored by the CPU): the page is copy-on-write.
        const COW = 1 << 9;
        /// Software bit: the page is shared (MAP_SHARED), never copied on write.
        const SHARED = 1 << 10;
        /// Software bit: PROT_NONE. x86 cannot forbid reads of a present page, so such a
        /// page is kept not-present (the frame stays recorded in the entry) until its
        /// protection changes.
        const NO_ACCESS = 1 << 11;
        const NO_EXECUTE = 1 << 63;
    }
}

const PRESENT: u64 = 1;
/// An entry that holds a frame: present, or parked by NO_ACCESS.
fn holds_frame(entry: u64) -> bool {
    entry & PRESENT != 0 || entry & PageFlags::NO_ACCESS.bits() != 0
}

fn frame_of(entry: u64) -> Pfn {
    ((entry & ADDR_MASK) / PAGE_SIZE as u64) as Pfn
}

fn leaf_value(pfn: Pfn, flags: PageFlags) -> u64 {
    let present = if flags.contains(PageFlags::NO_ACCESS) {
        0
    } else {
        PRESENT
    };
    (pfn * PAGE_SIZE) as u64 | present | USER | (flags.bits() & FLAG_MASK)
}
const USER: u64 = 1 << 2;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
const FLAG_MASK: u64 = PageFlags::all().bits();

/// Switches to the kernel's own page tables (no user half), e.g. before destroying the
/// address space of an exiting task.
pub fn activate_kernel() {
    let frame = PhysFrame::containing_address(PhysAddr::new(crate::mm::kernel_root()));
    // SAFETY: the kernel PML4 maps the kernel half exactly as every PageTable does.
    unsafe { Cr3::write(frame, Cr3Flags::empty()) };
}

/// Why a mapping failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No frame for an intermediate table.
    NoMemory,
    /// Not a canonical user address, or not page-aligned.
    BadAddress,
}

/// A process's page tables.
pub struct PageTable {
    root: u64,
}

fn entry_ptr(table: u64, index: u64) -> *mut u64 {
    (phys_to_virt(table) + index * 8) as *mut u64
}

fn read_entry(table: u64, index: u64) -> u64 {
    // SAFETY: `table` is a page-table frame owned by a PageTable (or the kernel's PML4), mapped
    // in the direct map; index < 512.
    unsafe { entry_ptr(table, index).read_volatile() }
}

/// The first index in `from..to` whose entry is not zero: the walks over mostly empty
/// tables (fork, exit, munmap) spend their time here, so the entries are read four at a
/// time as plain memory (one OR and one branch per four) instead of one volatile read each.
/// A racing hardware update of an accessed or dirty bit changes only non-zero entries,
/// which the caller reads again with `read_entry`.
fn next_used(table: u64, from: u64, to: u64) -> Option<u64> {
    // SAFETY: `table` is a page-table frame owned by a PageTable (or the kernel's PML4),
    // mapped in the direct map, 4 KiB long and 8-byte aligned: 512 u64 entries.
    let entries = unsafe { &*(phys_to_virt(table) as *const [u64; 512]) };
    let (from, to) = (from as usize, (to as usize).min(512));
    let mut index = from;
    while index + 4 <= to {
        let chunk = &entries[index..index + 4];
        if chunk[0] | chunk[1] | chunk[2] | chunk[3] != 0 {
            break;
        }
        index += 4;
    }
    (index..to).find(|&i| entries[i] != 0).map(|i| i as u64)
}

fn write_entry(table: u64, index: u64, value: u64) {
    // SAFETY: as in read_entry; the PageTable that owns `table` is borrowed mutably.
    unsafe { entry_ptr(table, index).write_volatile(value) }
}

fn indices(va: u64) -> [u64; 4] {
    [
        (va >> 39) & 511,
        (va >> 30) & 511,
        (va >> 21) & 511,
        (va >> 12) & 511,
    ]
}

fn new_table(frames: &dyn FrameSource) -> Result<u64, MapError> {
    let pfn = frames.alloc_frames(0).ok_or(MapError::NoMemory)?;
    let paddr = (pfn * PAGE_SIZE) as u64;
    // SAFETY: a fresh frame from the page allocator, mapped in the direct map, owned by us.
    unsafe { core::ptr::write_bytes(phys_to_virt(paddr) as *mut u8, 0, PAGE_SIZE) };
    Ok(paddr)
}

fn flush(va: u64) {
    x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
}

impl PageTable {
    /// An empty user half with the kernel half of the running page tables.
    pub fn new(frames: &dyn FrameSource) -> Result<Self, MapError> {
        let root = new_table(frames)?;
        let kernel = crate::mm::kernel_root();
        for index in 256..512 {
            write_entry(root, index, read_entry(kernel, index));
        }
        Ok(PageTable { root })
    }

    fn is_active(&self) -> bool {
        assert!(self.root != 0, "use of a destroyed page table");
        Cr3::read().0.start_address().as_u64() == self.root
    }

    /// Makes this the address space of the CPU.
    pub fn activate(&self) {
        if !self.is_active() {
            let frame = PhysFrame::containing_address(PhysAddr::new(self.root));
            // SAFETY: the kernel half is identical in every PageTable (copied from the kernel's
            // PML4 at creation, and the kernel never adds top-level entries after boot), so
            // kernel code, data and stacks stay mapped across the switch.
            unsafe { Cr3::write(frame, Cr3Flags::empty()) };
        }
    }

    /// The leaf entry for `va`, creating intermediate tables if `create`.
    fn leaf(
        &mut self,
        va: u64,
        create: Option<&dyn FrameSource>,
    ) -> Result<Option<*mut u64>, MapError> {
        let table = self.leaf_table(va, create)?;
        Ok(table.map(|table| entry_ptr(table, indices(va)[3])))
    }

    /// The last-level table (physical address) that maps `va`, creating intermediate tables
    /// if `create`. Inlined into its callers as the walk was before it had two (map's
    /// fault path is 26 instructions longer with a call here).
    #[inline(always)]
    fn leaf_table(
        &mut self,
        va: u64,
        create: Option<&dyn FrameSource>,
    ) -> Result<Option<u64>, MapError> {
        if va >= USER_END || !va.is_multiple_of(PAGE_SIZE as u64) {
            return Err(MapError::BadAddress);
        }
        let idx = indices(va);
        let mut table = self.root;
        for &index in &idx[..3] {
            let entry = read_entry(table, index);
            table = if entry & PRESENT != 0 {
                entry & ADDR_MASK
            } else if let Some(frames) = create {
                let next = new_table(frames)?;
                write_entry(
                    table,
                    index,
                    next | PRESENT | PageFlags::WRITABLE.bits() | USER,
                );
                next
            } else {
                return Ok(None);
            };
        }
        Ok(Some(table))
    }

    /// Maps the page at `va` to frame `pfn`, replacing any previous mapping (whose frame the
    /// caller must have taken back with unmap first, or it is leaked).
    pub fn map(
        &mut self,
        va: u64,
        pfn: Pfn,
        flags: PageFlags,
        frames: &dyn FrameSource,
    ) -> Result<(), MapError> {
        let leaf = self.leaf(va, Some(frames))?.expect("created");
        // SAFETY: leaf points into a page table this PageTable owns (see read_entry).
        let old = unsafe { leaf.replace(leaf_value(pfn, flags)) };
        if old & PRESENT != 0 && self.is_active() {
            flush(va);
        }
        Ok(())
    }

    /// Maps, in one walk, the pages of [start, end) that have no mapping yet: `f(va)` gives
    /// the frame for each (or `None` to leave it unmapped). The range must lie within one
    /// last-level table (2 MiB, aligned), which must exist (`start` was just mapped, say).
    /// Entries that were empty cannot be in the TLB, so nothing is flushed. Returns how many
    /// pages were mapped.
    pub fn map_absent(
        &mut self,
        start: u64,
        end: u64,
        flags: PageFlags,
        mut f: impl FnMut(u64) -> Option<Pfn>,
    ) -> usize {
        const TABLE_SPAN: u64 = 512 * PAGE_SIZE as u64;
        assert!(
            start < end && end <= USER_END && start / TABLE_SPAN == (end - 1) / TABLE_SPAN,
            "map_absent across page tables or past the user half"
        );
        let Ok(Some(table)) = self.leaf_table(start, None) else {
            return 0;
        };
        let first_index = (start >> 12) & 511;
        let mut mapped = 0;
        for (i, va) in (start..end).step_by(PAGE_SIZE).enumerate() {
            let index = first_index + i as u64;
            if holds_frame(read_entry(table, index)) {
                continue;
            }
            if let Some(pfn) = f(va) {
                write_entry(table, index, leaf_value(pfn, flags));
                mapped += 1;
            }
        }
        mapped
    }

    /// Removes the mapping at `va`, returning its frame and flags.
    pub fn unmap(&mut self, va: u64) -> Option<(Pfn, PageFlags)> {
        let leaf = self.leaf(va, None).ok()??;
        // SAFETY: as in map().
        let old = unsafe { leaf.replace(0) };
        if !holds_frame(old) {
            return None;
        }
        if self.is_active() {
            flush(va);
        }
        Some((
            ((old & ADDR_MASK) / PAGE_SIZE as u64) as Pfn,
            PageFlags::from_bits_truncate(old),
        ))
    }

    /// The frame and flags mapped at `va`.
    pub fn query(&mut self, va: u64) -> Option<(Pfn, PageFlags)> {
        let leaf = self.leaf(va & !(PAGE_SIZE as u64 - 1), None).ok()??;
        // SAFETY: as in map().
        let entry = unsafe { leaf.read() };
        (entry & PRESENT != 0).then(|| {
            (
                ((entry & ADDR_MASK) / PAGE_SIZE as u64) as Pfn,
                PageFlags::from_bits_truncate(entry),
            )
        })
    }

    /// Changes the flags of the mapping at `va`; false if nothing is mapped there.
    pub fn protect(&mut self, va: u64, flags: PageFlags) -> bool {
        let Some((pfn, _)) = self.query(va) else {
            return false;
        };
        let Ok(Some(leaf)) = self.leaf(va, None) else {
            return false;
        };
        // SAFETY: as in map().
        unsafe { leaf.write(leaf_value(pfn, flags)) };
        if self.is_active() {
            flush(va);
        }
        true
    }

    /// Calls `f` for every leaf entry holding a frame in [start, end), visiting only the
    /// table indices that overlap the range. `f` returns the new entry value (or the same).
    fn visit(
        &self,
        table: u64,
        level: u32,
        base: u64,
        start: u64,
        end: u64,
        f: &mut dyn FnMut(u64, u64) -> u64,
    ) {
        let shift = 39 - 9 * level;
        let span = 1u64 << shift;
        let limit = if level == 0 { 256 } else { 512 };
        let first = start.saturating_sub(base) >> shift;
        let last = ((end - 1).saturating_sub(base) >> shift).min(limit - 1);
        let mut next = first;
        while let Some(index) = next_used(table, next, last + 1) {
            next = index + 1;
            let va = base + index * span;
            let entry = read_entry(table, index);
            if level == 3 {
                if holds_frame(entry) {
                    let new = f(va, entry);
                    if new != entry {
                        write_entry(table, index, new);
                    }
                }
            } else if entry & PRESENT != 0 {
                self.visit(
                    entry & ADDR_MASK,
                    level + 1,
                    va,
                    start.max(va),
                    end.min(va + span),
                    f,
                );
            }
        }
    }

    /// Every mapped page in [start, end): (va, frame, flags), in address order.
    pub fn mapped_pages(&mut self, start: u64, end: u64) -> alloc::vec::Vec<(u64, Pfn, PageFlags)> {
        let mut pages = alloc::vec::Vec::new();
        let end = end.min(USER_END);
        if start < end {
            self.visit(self.root, 0, 0, start, end, &mut |va, entry| {
                pages.push((va, frame_of(entry), PageFlags::from_bits_truncate(entry)));
                entry
            });
        }
        pages
    }

    /// How many pages are mapped in [start, end) (without allocating: the OOM killer counts
    /// with memory exhausted).
    pub fn count_mapped(&mut self, start: u64, end: u64) -> usize {
        let mut count = 0;
        let end = end.min(USER_END);
        if start < end {
            self.visit(self.root, 0, 0, start, end, &mut |_, entry| {
                count += 1;
                entry
            });
        }
        count
    }

    /// Removes every mapping in [start, end), calling `f(va, frame, flags)` for each, with one
    /// TLB flush at the end instead of one per page.
    pub fn unmap_range(&mut self, start: u64, end: u64, mut f: impl FnMut(u64, Pfn, PageFlags)) {
        let end = end.min(USER_END);
        if start >= end {
            return;
        }
        let mut any = false;
        self.visit(self.root, 0, 0, start, end, &mut |va, entry| {
            f(va, frame_of(entry), PageFlags::from_bits_truncate(entry));
            any = true;
            0
        });
        if any && self.is_active() {
            x86_64::instructions::tlb::flush_all();
        }
    }

    /// fork: maps the pages of [start, end) into `child` in one walk. `f(va, frame, flags)`
    /// gives the flags for (this table, the child): e.g. both copy-on-write for private
    /// writable pages. The caller flushes the TLB afterwards ([`PageTable::flush_all`]).
    pub fn clone_into(
        &mut self,
        child: &mut PageTable,
        start: u64,
        end: u64,
        frames: &dyn FrameSource,
        mut f: impl FnMut(u64, Pfn, PageFlags) -> (PageFlags, PageFlags),
    ) -> Result<(), MapError> {
        let end = end.min(USER_END);
        if start >= end {
            return Ok(());
        }
        let mut result = Ok(());
        self.visit(self.root, 0, 0, start, end, &mut |va, entry| {
            let pfn = frame_of(entry);
            let (mine, theirs) = f(va, pfn, PageFlags::from_bits_truncate(entry));
            if result.is_ok() {
                result = child.map(va, pfn, theirs, frames);
            }
            leaf_value(pfn, mine)
        });
        result
    }

    /// Flushes this address space's TLB entries if it is the active one.
    pub fn flush_all(&self) {
        if self.is_active() {
            x86_64::instructions::tlb::flush_all();
        }
    }

    /// Frees the intermediate tables and the root; the table is unusable afterwards (any use
    /// panics). Leaf frames must have been unmapped (or are the caller's to account for).
    pub fn destroy(&mut self, frames: &dyn FrameSource) {
        assert!(!self.is_active(), "destroying the active address space");
        assert!(self.root != 0, "page table destroyed twice");
        // Frees the tables below `table` (a level 0 to 2 table): a level 2 entry names a
        // last-level table, freed without looking inside (its pages were unmapped before).
        fn free_level(table: u64, level: u32, frames: &dyn FrameSource) {
            let count = if level == 0 { 256 } else { 512 };
            let mut from = 0;
            while let Some(index) = next_used(table, from, count) {
                from = index + 1;
                let entry = read_entry(table, index);
                if entry & PRESENT != 0 {
                    let next = entry & ADDR_MASK;
                    if level < 2 {
                        free_level(next, level + 1, frames);
                    }
                    frames.free_frames((next / PAGE_SIZE as u64) as usize, 0);
                }
            }
        }
        free_level(self.root, 0, frames);
        frames.free_frames((self.root / PAGE_SIZE as u64) as usize, 0);
        self.root = 0;
    }
}
