//! One loadable segment (`PT_LOAD`) turned into "map these pages, copy these bytes".

use crate::{MIN_USER_ADDR, PAGE_SIZE, USER_TOP, page_down, page_up};
use tessera_abi::{Errno, KResult};

/// Access rights of a mapped segment, from the program header's `p_flags` (`PF_R/W/X`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prot {
    /// Readable (`PF_R`).
    pub read: bool,
    /// Writable (`PF_W`).
    pub write: bool,
    /// Executable (`PF_X`).
    pub exec: bool,
}

impl Prot {
    /// Rights from ELF `p_flags`; unknown (OS/processor-specific) bits are ignored, like Linux.
    pub const fn from_p_flags(flags: u32) -> Prot {
        Prot {
            read: flags & elf::abi::PF_R != 0,
            write: flags & elf::abi::PF_W != 0,
            exec: flags & elf::abi::PF_X != 0,
        }
    }
}

/// What the kernel does for one `PT_LOAD`: map `[start, end)` as fresh zeroed pages with
/// `prot`, then copy `file_size` bytes of the file from `file_offset` to `start`.
///
/// The copy starts at the beginning of the first page, as Linux's file mapping does: the
/// bytes of that page before `p_vaddr` are the file's bytes before `p_offset` (this is how
/// the ELF header and program headers become visible in the first segment of a typical
/// binary). Everything after the copied bytes up to `end` is bss and reads as zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First byte of the mapping (page-aligned, load bias applied).
    pub start: u64,
    /// End of the mapping, exclusive (page-aligned: `page_up(p_vaddr + p_memsz)` + bias).
    pub end: u64,
    /// File offset of the first byte to copy (page-aligned: `p_offset` rounded down).
    pub file_offset: u64,
    /// Number of bytes to copy to `start`; 0 for a segment that is all bss.
    pub file_size: u64,
    /// Start of the bss bytes that share the last file-backed page with file data.
    ///
    /// `[zero_start, zero_end)` must read as zero. Copying into fresh zeroed pages already
    /// gives that; a kernel that maps file pages from a page cache must clear it (Linux's
    /// `padzero`). Empty (`zero_start == zero_end`) when there is no such tail.
    pub zero_start: u64,
    /// End (exclusive) of the bss tail inside the last file-backed page.
    pub zero_end: u64,
    /// Access rights of the whole mapping.
    pub prot: Prot,
}

impl Segment {
    /// The file bytes to copy to `start`: `image[file_offset..file_offset + file_size]`.
    ///
    /// [`crate::parse_elf`] checked this range against the same image, so this only comes
    /// back empty when called with a different (shorter) image.
    pub fn file_bytes<'a>(&self, image: &'a [u8]) -> &'a [u8] {
        let range = usize::try_from(self.file_offset).ok().and_then(|from| {
            let len = usize::try_from(self.file_size).ok()?;
            image.get(from..from.checked_add(len)?)
        });
        range.unwrap_or(&[])
    }

    /// Number of bytes the mapping spans (`end - start`, a multiple of [`PAGE_SIZE`]).
    pub const fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the mapping is empty; never true for a segment [`crate::parse_elf`] returns.
    pub const fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `addr` lies inside the mapping.
    pub const fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }
}

/// Checks one `PT_LOAD` with `p_memsz > 0` against the image and builds its [`Segment`].
///
/// `relocate` turns a link-time address into its final one (adds the load bias); it fails
/// with ENOEXEC for an address below the image's lowest page.
pub(crate) fn plan_segment(
    ph: &elf::segment::ProgramHeader,
    image_len: u64,
    relocate: impl Fn(u64) -> KResult<u64>,
) -> KResult<Segment> {
    let bad = Errno::ENOEXEC;
    if ph.p_filesz > ph.p_memsz {
        return Err(bad);
    }
    let page_offset = ph.p_vaddr % PAGE_SIZE;
    // Only segments with file bytes have a file range to check; for pure bss, p_offset is
    // meaningless (Linux maps anonymous memory without looking at it).
    if ph.p_filesz > 0 {
        // The file range must exist in the image, without wrapping.
        let file_end = ph.p_offset.checked_add(ph.p_filesz).ok_or(bad)?;
        if file_end > image_len {
            return Err(bad);
        }
        // A page of memory shows one page of the file, so offset and address must agree
        // within the page (the ELF rule p_vaddr = p_offset mod p_align, for our page size).
        // Linux's mmap would fail on such a file too.
        if ph.p_offset % PAGE_SIZE != page_offset {
            return Err(bad);
        }
    }
    let vaddr = relocate(ph.p_vaddr)?;
    let mem_end = vaddr.checked_add(ph.p_memsz).ok_or(bad)?;
    let start = page_down(vaddr);
    let end = page_up(mem_end).ok_or(bad)?;
    if start < MIN_USER_ADDR || end > USER_TOP {
        return Err(bad);
    }
    let (file_offset, file_size) = if ph.p_filesz == 0 {
        (0, 0)
    } else {
        (ph.p_offset - page_offset, page_offset + ph.p_filesz)
    };
    // The bss bytes in the page where the file data stops: from the end of the data to the
    // end of that page, or to the end of the segment if that comes first.
    let data_end = vaddr + ph.p_filesz;
    let zero_end = page_up(data_end).ok_or(bad)?.min(mem_end);
    Ok(Segment {
        start,
        end,
        file_offset,
        file_size,
        zero_start: data_end,
        zero_end,
        prot: Prot::from_p_flags(ph.p_flags),
    })
}

/// Sorts the segments by address and fails with ENOEXEC if two share a page.
///
/// Linux lets a later mapping silently replace an earlier one; a linker never emits that,
/// so here it is a malformed file rather than something to reproduce.
pub(crate) fn sort_and_check_overlap(segments: &mut [Segment]) -> KResult<()> {
    segments.sort_unstable_by_key(|s| s.start);
    if segments.windows(2).any(|w| w[0].end > w[1].start) {
        return Err(Errno::ENOEXEC);
    }
    Ok(())
}
