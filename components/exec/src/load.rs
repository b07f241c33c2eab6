//! ELF64 executables and ELF interpreters: from file bytes to a [`LoadPlan`].

use alloc::vec::Vec;
use elf::abi::{
    EM_X86_64, ET_DYN, ET_EXEC, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR, PT_TLS,
};
use elf::endian::LittleEndian;
use elf::file::{Class, FileHeader};
use elf::segment::{ProgramHeader, SegmentTable};
use tessera_abi::{Errno, KResult};

use crate::segment::{Segment, plan_segment, sort_and_check_overlap};
use crate::{PAGE_SIZE, page_down};

/// Size of `e_ident`, the identification bytes at the start of every ELF file.
const IDENT_SIZE: usize = 16;
/// Size of the ELF64 file header.
const EHDR_SIZE: usize = 64;
/// Size of one ELF64 program header; the only `e_phentsize` accepted.
pub const PHDR_SIZE: u16 = 56;
/// Largest program header table accepted, in bytes (Linux's `elf_read_phdrs` limit).
const MAX_PHDR_TABLE: usize = 65536;

/// Which kind of executable the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfKind {
    /// `ET_EXEC`: linked at fixed addresses, load bias 0 (with or without an interpreter).
    Exec,
    /// `ET_DYN` without `PT_INTERP`: a static PIE (or an ELF interpreter, loaded as the
    /// program's [`LoadPlan::interpreter`]), placed at the base the kernel chose.
    StaticPie,
    /// `ET_DYN` with `PT_INTERP`: a dynamically linked PIE, placed at the base the kernel
    /// chose; its interpreter relocates it.
    DynamicPie,
}

/// Linux's `PATH_MAX`: the longest `PT_INTERP` accepted, its NUL included.
pub const INTERP_MAX: u64 = 4096;

/// Where a dynamically linked program names its ELF interpreter (`PT_INTERP`): a
/// NUL-terminated path in the file, checked to lie in it and to be 2 to [`INTERP_MAX`]
/// bytes long. The kernel reads those bytes and gives them to [`interpreter_path`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterpRef {
    /// File offset of the path (`p_offset`).
    pub file_offset: u64,
    /// Its length, the terminating NUL included (`p_filesz`).
    pub size: u64,
}

/// The interpreter's path from the `PT_INTERP` bytes ([`InterpRef`]): up to the first NUL.
/// ENOEXEC if the last byte is not a NUL (Linux's `load_elf_binary` checks that byte only:
/// an empty path is looked up too: Linux's `open_exec` walks it from the working directory
/// and finds a directory, EACCES, where an empty path given to `execve` is ENOENT).
pub fn interpreter_path(bytes: &[u8]) -> KResult<&[u8]> {
    if bytes.last() != Some(&0) {
        return Err(Errno::ENOEXEC);
    }
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(0);
    Ok(&bytes[..end])
}

/// The `PT_TLS` segment: the initial image of each thread's thread-local storage.
///
/// Informational: libc finds it itself through `AT_PHDR` and sets up `%fs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsTemplate {
    /// Address of the initialised part (`.tdata`) in memory, load bias applied.
    pub addr: u64,
    /// Bytes of initialised data (`p_filesz`).
    pub file_size: u64,
    /// Total size of one thread's block, initialised part plus zeroed `.tbss` (`p_memsz`).
    pub mem_size: u64,
    /// Required alignment of the block (`p_align`).
    pub align: u64,
}

/// Everything the kernel needs to map a static executable and fill its auxiliary vector.
///
/// All addresses are final: the load bias is already applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// `ET_EXEC` or static PIE.
    pub kind: ElfKind,
    /// Where the first instruction is (`e_entry` + bias; `AT_ENTRY`).
    pub entry: u64,
    /// What was added to every link-time address: 0 for `ET_EXEC`, `pie_base` minus the
    /// lowest segment page for a static PIE (two's complement if the PIE was linked above
    /// the base).
    pub load_bias: u64,
    /// The mappings to create, sorted by address, none sharing a page.
    pub segments: Vec<Segment>,
    /// Address of the program header table in memory (`AT_PHDR`), or 0 if no segment maps
    /// it (Linux passes 0 too; static glibc needs it, hand-made binaries may not).
    pub phdr_addr: u64,
    /// Number of program headers (`e_phnum`; `AT_PHNUM`).
    pub phnum: u16,
    /// Size of one program header (`e_phentsize`, always 56; `AT_PHENT`).
    pub phentsize: u16,
    /// Initial program break: the page-aligned end of the highest segment.
    pub brk: u64,
    /// Whether `PT_GNU_STACK` asks for an executable stack. Without `PT_GNU_STACK` the
    /// stack is not executable, as on Linux x86_64 for 64-bit programs.
    pub stack_executable: bool,
    /// The `PT_TLS` segment, if the program has thread-local storage.
    pub tls: Option<TlsTemplate>,
    /// The ELF interpreter a dynamically linked program names (`PT_INTERP`, the first one
    /// as on Linux): the kernel loads it too ([`parse_elf_prefix`] on its file, at a base
    /// of the kernel's choosing), enters it instead of [`LoadPlan::entry`], and passes its
    /// base as `AT_BASE` (see [`crate::elf_auxv`]).
    pub interpreter: Option<InterpRef>,
}

impl LoadPlan {
    /// Bytes from the first segment's page to the end of the last: the span a kernel must
    /// find free to place an `ET_DYN` image (an interpreter) as one block, as Linux's
    /// `total_mapping_size`.
    pub fn span(&self) -> u64 {
        match (self.segments.first(), self.segments.last()) {
            (Some(first), Some(last)) => last.end - first.start,
            _ => 0,
        }
    }
}

/// Parses an ELF64 x86_64 executable (or ELF interpreter) and plans where each segment goes.
///
/// `pie_base` is where an `ET_DYN` image's lowest page is placed (page-aligned, e.g.
/// [`crate::DEFAULT_PIE_BASE`]); it is ignored for `ET_EXEC`.
///
/// Errors:
/// - ENOEXEC for anything that is not a well-formed x86_64 executable: bad magic,
///   not ELF64 little-endian, not x86_64, not `ET_EXEC`/`ET_DYN`, a program header table
///   that is empty, of the wrong entry size, larger than 64 KiB or outside the file, a
///   `PT_LOAD` with `p_filesz > p_memsz`, file bytes beyond the end of the file, `p_offset`
///   and `p_vaddr` disagreeing within the page, addresses that overflow, that fall below
///   [`crate::MIN_USER_ADDR`] or reach [`crate::USER_TOP`] (the kernel half and Linux's
///   guard page), two segments sharing a page, no non-empty `PT_LOAD`, an entry point or
///   `PT_PHDR` outside every segment, or a `PT_TLS` with `p_filesz > p_memsz`.
/// - ENOEXEC for a `PT_INTERP` shorter than 2 or longer than [`INTERP_MAX`] bytes; EIO for
///   one that does not lie inside the file (Linux's short read of it).
/// - EINVAL when a static PIE is given a `pie_base` that is not page-aligned.
///
/// Never panics, whatever the bytes.
pub fn parse_elf(image: &[u8], pie_base: u64) -> KResult<LoadPlan> {
    parse_elf_prefix(image, image.len() as u64, pie_base)
}

/// [`parse_elf`] from the start of the file only: `head` holds at least the ELF header and
/// the program headers, `file_len` is the whole file's length (segments are checked against
/// it). A kernel uses this to load a large executable without reading it into one buffer:
/// it copies each segment's bytes from the file itself ([`Segment::file_offset`],
/// [`Segment::file_size`]). ENOEXEC if the program headers lie beyond `head`.
pub fn parse_elf_prefix(head: &[u8], file_len: u64, pie_base: u64) -> KResult<LoadPlan> {
    let image = head;
    let bad = Errno::ENOEXEC;
    let ehdr = parse_header(image)?;
    let kind = match ehdr.e_type {
        ET_EXEC => ElfKind::Exec,
        ET_DYN => ElfKind::StaticPie,
        _ => return Err(bad),
    };
    if kind == ElfKind::StaticPie && !pie_base.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let phdrs = program_headers(image, &ehdr)?;
    let interpreter = match phdrs.iter().find(|ph| ph.p_type == PT_INTERP) {
        Some(ph) if !(2..=INTERP_MAX).contains(&ph.p_filesz) => return Err(bad),
        Some(ph)
            if ph
                .p_offset
                .checked_add(ph.p_filesz)
                .is_none_or(|end| end > file_len) =>
        {
            return Err(Errno::EIO);
        }
        Some(ph) => Some(InterpRef {
            file_offset: ph.p_offset,
            size: ph.p_filesz,
        }),
        None => None,
    };
    let kind = match kind {
        ElfKind::StaticPie if interpreter.is_some() => ElfKind::DynamicPie,
        kind => kind,
    };
    let loads = || {
        phdrs
            .iter()
            .filter(|ph| ph.p_type == PT_LOAD && ph.p_memsz > 0)
    };

    // Every address is placed relative to the lowest segment page: for ET_EXEC that page
    // stays where it is, for a PIE it moves to `pie_base`.
    let lowest = loads().map(|ph| page_down(ph.p_vaddr)).min().ok_or(bad)?;
    let base = match kind {
        ElfKind::Exec => lowest,
        ElfKind::StaticPie | ElfKind::DynamicPie => pie_base,
    };
    let relocate = |vaddr: u64| -> KResult<u64> {
        let from_lowest = vaddr.checked_sub(lowest).ok_or(bad)?;
        base.checked_add(from_lowest).ok_or(bad)
    };

    let image_len = file_len;
    let mut segments = loads()
        .map(|ph| plan_segment(ph, image_len, relocate))
        .collect::<KResult<Vec<Segment>>>()?;
    sort_and_check_overlap(&mut segments)?;
    let mapped = |addr: u64| segments.iter().any(|s| s.contains(addr));

    let entry = relocate(ehdr.e_entry)?;
    if !mapped(entry) {
        return Err(bad);
    }
    let phdr_addr = match phdrs.iter().find(|ph| ph.p_type == PT_PHDR) {
        Some(ph) => {
            let addr = relocate(ph.p_vaddr)?;
            if !mapped(addr) {
                return Err(bad);
            }
            addr
        }
        // No PT_PHDR (typical of static binaries): the table is wherever the segment whose
        // file bytes include `e_phoff` puts it, as Linux computes AT_PHDR.
        None => loads()
            .find(|ph| ph.p_offset <= ehdr.e_phoff && ehdr.e_phoff - ph.p_offset < ph.p_filesz)
            .map(|ph| {
                let vaddr = ph.p_vaddr.checked_add(ehdr.e_phoff - ph.p_offset);
                relocate(vaddr.ok_or(bad)?)
            })
            .transpose()?
            .unwrap_or(0),
    };
    let tls = match phdrs.iter().find(|ph| ph.p_type == PT_TLS) {
        Some(ph) if ph.p_filesz > ph.p_memsz => return Err(bad),
        Some(ph) => Some(TlsTemplate {
            addr: relocate(ph.p_vaddr)?,
            file_size: ph.p_filesz,
            mem_size: ph.p_memsz,
            align: ph.p_align,
        }),
        None => None,
    };
    let stack_executable = phdrs
        .iter()
        .find(|ph| ph.p_type == PT_GNU_STACK)
        .is_some_and(|ph| ph.p_flags & PF_X != 0);
    // Sorted and non-overlapping, so the last segment ends highest.
    let brk = segments.last().map_or(0, |s| s.end);

    Ok(LoadPlan {
        kind,
        entry,
        load_bias: base.wrapping_sub(lowest),
        segments,
        phdr_addr,
        phnum: ehdr.e_phnum,
        phentsize: ehdr.e_phentsize,
        brk,
        stack_executable,
        tls,
        interpreter,
    })
}

/// Decodes and checks the file header: ELF64, little-endian, x86_64.
fn parse_header(image: &[u8]) -> KResult<FileHeader<LittleEndian>> {
    let bad = Errno::ENOEXEC;
    let ident = image.get(..IDENT_SIZE).ok_or(bad)?;
    let ident = elf::file::parse_ident::<LittleEndian>(ident).map_err(|_| bad)?;
    if ident.1 != Class::ELF64 {
        return Err(bad);
    }
    let tail = image.get(IDENT_SIZE..EHDR_SIZE).ok_or(bad)?;
    let ehdr = FileHeader::parse_tail(ident, tail).map_err(|_| bad)?;
    if ehdr.e_machine != EM_X86_64 {
        return Err(bad);
    }
    Ok(ehdr)
}

/// Decodes the program header table. Section headers are never read: like Linux, loading
/// does not need them, so a stripped or truncated section table does not matter.
fn program_headers(image: &[u8], ehdr: &FileHeader<LittleEndian>) -> KResult<Vec<ProgramHeader>> {
    let bad = Errno::ENOEXEC;
    if ehdr.e_phentsize != PHDR_SIZE || ehdr.e_phnum == 0 {
        return Err(bad);
    }
    let size = usize::from(ehdr.e_phnum) * usize::from(PHDR_SIZE);
    if size > MAX_PHDR_TABLE {
        return Err(bad);
    }
    let from = usize::try_from(ehdr.e_phoff).map_err(|_| bad)?;
    let bytes = image
        .get(from..from.checked_add(size).ok_or(bad)?)
        .ok_or(bad)?;
    let table = SegmentTable::new(LittleEndian, Class::ELF64, bytes);
    let phdrs: Vec<ProgramHeader> = table.iter().collect();
    // The bytes were sized for exactly e_phnum entries; a short count means a decode failure.
    if phdrs.len() != usize::from(ehdr.e_phnum) {
        return Err(bad);
    }
    Ok(phdrs)
}
