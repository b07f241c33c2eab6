//! One test per rule of `parse_elf`: what it accepts, what it computes, what it refuses.

mod support;

use support::*;
use tessera_abi::Errno;
use tessera_exec::{
    DEFAULT_PIE_BASE, ElfKind, INTERP_MAX, InterpRef, MIN_USER_ADDR, USER_TOP, interpreter_path,
    parse_elf,
};

const BASE: u64 = 0x40_0000;

/// An ET_EXEC with one R+X segment over the headers and `extra` more program headers.
fn exec_with(extra: &[Phdr]) -> ElfWriter {
    let mut w = ElfWriter::new(ET_EXEC, BASE + 0x100);
    w.phdrs.push(Phdr::load(PF_R | PF_X, 0, BASE, 0x200, 0x200));
    w.phdrs.extend_from_slice(extra);
    w.len = 0x200;
    w
}

fn enoexec(image: &[u8]) {
    assert_eq!(parse_elf(image, DEFAULT_PIE_BASE), Err(Errno::ENOEXEC));
}

#[test]
fn minimal_exec_is_accepted() {
    let plan = parse_elf(&exec_with(&[]).to_bytes(), 0).unwrap();
    assert_eq!(plan.segments.len(), 1);
    assert_eq!(plan.entry, BASE + 0x100);
    assert_eq!(plan.brk, BASE + 0x1000);
}

#[test]
fn identification_is_checked() {
    let good = exec_with(&[]).to_bytes();
    for (index, value) in [
        (0, 0x7e), // magic
        (3, b'G'), // magic
        (4, 1),    // ELFCLASS32
        (4, 3),    // no such class
        (5, 2),    // big-endian
        (6, 2),    // EI_VERSION
        (18, 3),   // e_machine = EM_386
        (16, 1),   // ET_REL
        (16, 4),   // ET_CORE
        (16, 0),   // ET_NONE
        (54, 32),  // e_phentsize
        (56, 0),   // e_phnum = 0 (low byte; high byte is 0)
    ] {
        let mut bad = good.clone();
        bad[index] = value;
        assert_eq!(
            parse_elf(&bad, 0),
            Err(Errno::ENOEXEC),
            "byte {index} = {value}"
        );
    }
    // Any OS/ABI byte is fine (GNU toolchains write 3 for ELFOSABI_GNU).
    let mut gnu = good.clone();
    gnu[7] = 3;
    assert!(parse_elf(&gnu, 0).is_ok());
}

#[test]
fn truncated_files_are_refused() {
    let good = exec_with(&[]).to_bytes();
    for len in [0, 4, 16, 63, 64, 64 + 55] {
        enoexec(&good[..len]);
    }
}

#[test]
fn program_header_table_must_be_in_the_file() {
    let mut w = exec_with(&[]);
    w.len = 0;
    let mut image = w.to_bytes();
    image[32..40].copy_from_slice(&0x1000u64.to_le_bytes()); // e_phoff past the end
    enoexec(&image);
    image[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // offset + size overflows
    enoexec(&image);
}

#[test]
fn program_header_table_size_is_limited_like_linux() {
    // 1170 * 56 <= 64 KiB < 1171 * 56.
    for (count, ok) in [(1170, true), (1171, false)] {
        let mut w = exec_with(&vec![Phdr::marker(0, 0); count - 1]);
        w.phdrs[0] = Phdr::load(PF_R | PF_X, 0, BASE, 0x100, 0x100);
        w.entry = BASE;
        let image = w.to_bytes();
        assert_eq!(parse_elf(&image, 0).is_ok(), ok, "{count} headers");
    }
}

/// A PT_INTERP naming `len` bytes at file offset 0x100 (inside the first segment).
fn interp(len: u64) -> Phdr {
    Phdr {
        p_type: PT_INTERP,
        p_flags: PF_R,
        p_offset: 0x100,
        p_vaddr: BASE + 0x100,
        p_filesz: len,
        p_memsz: len,
        p_align: 1,
    }
}

#[test]
fn dynamic_executables_name_their_interpreter() {
    let plan = parse_elf(&exec_with(&[interp(28)]).to_bytes(), DEFAULT_PIE_BASE).unwrap();
    assert_eq!(plan.kind, ElfKind::Exec);
    assert_eq!(
        plan.interpreter,
        Some(InterpRef {
            file_offset: 0x100,
            size: 28
        })
    );
    let mut pie = exec_with(&[interp(28)]);
    pie.e_type = ET_DYN;
    let plan = parse_elf(&pie.to_bytes(), DEFAULT_PIE_BASE).unwrap();
    assert_eq!(plan.kind, ElfKind::DynamicPie);
    assert_eq!(plan.load_bias, DEFAULT_PIE_BASE - BASE);
    assert!(plan.interpreter.is_some());
    // Only the first PT_INTERP counts, as on Linux.
    let two = parse_elf(&exec_with(&[interp(8), interp(9)]).to_bytes(), 0).unwrap();
    assert_eq!(two.interpreter.unwrap().size, 8);
    // Static programs have none.
    assert_eq!(
        parse_elf(&exec_with(&[]).to_bytes(), 0)
            .unwrap()
            .interpreter,
        None
    );
}

#[test]
fn interpreter_path_rules() {
    // Linux: 2 to PATH_MAX bytes (ENOEXEC), inside the file (a short read: EIO).
    enoexec(&exec_with(&[interp(1)]).to_bytes());
    enoexec(&exec_with(&[interp(0)]).to_bytes());
    enoexec(&exec_with(&[interp(INTERP_MAX + 1)]).to_bytes());
    let mut past_end = interp(0x101);
    past_end.p_offset = 0x100;
    assert_eq!(
        parse_elf(&exec_with(&[past_end]).to_bytes(), 0),
        Err(Errno::EIO)
    );
    let mut wraps = interp(16);
    wraps.p_offset = u64::MAX - 7;
    assert_eq!(
        parse_elf(&exec_with(&[wraps]).to_bytes(), 0),
        Err(Errno::EIO)
    );
    // The bytes: NUL-terminated, the path is what comes before the first NUL.
    assert_eq!(
        interpreter_path(b"/lib64/ld-linux-x86-64.so.2\0"),
        Ok(&b"/lib64/ld-linux-x86-64.so.2"[..])
    );
    assert_eq!(interpreter_path(b"/lib/ld\0junk\0"), Ok(&b"/lib/ld"[..]));
    assert_eq!(interpreter_path(b"/lib/ld"), Err(Errno::ENOEXEC));
    assert_eq!(interpreter_path(b"\0\0"), Ok(&b""[..]));
    assert_eq!(interpreter_path(b""), Err(Errno::ENOEXEC));
}

#[test]
fn span_covers_every_segment() {
    let mut w = exec_with(&[Phdr::load(PF_R | PF_W, 0x200, BASE + 0x5200, 0x10, 0x3000)]);
    w.e_type = ET_DYN;
    w.len = 0x300;
    let plan = parse_elf(&w.to_bytes(), DEFAULT_PIE_BASE).unwrap();
    assert_eq!(plan.span(), 0x9000);
}

#[test]
fn segment_file_range_must_be_in_the_file() {
    // One byte past the end of the file.
    enoexec(&exec_with(&[Phdr::load(PF_R, 0x100, BASE + 0x1100, 0x101, 0x101)]).to_bytes());
    // p_offset + p_filesz wraps around.
    let wraps = Phdr::load(PF_R, u64::MAX - 7, BASE + 0x1ff8, 0x10, 0x10);
    enoexec(&exec_with(&[wraps]).to_bytes());
    // Exactly up to the end is fine.
    assert!(
        parse_elf(
            &exec_with(&[Phdr::load(PF_R, 0x100, BASE + 0x1100, 0x100, 0x100)]).to_bytes(),
            0
        )
        .is_ok()
    );
}

#[test]
fn filesz_may_not_exceed_memsz() {
    enoexec(&exec_with(&[Phdr::load(PF_R, 0x100, BASE + 0x1100, 0x10, 0xf)]).to_bytes());
}

#[test]
fn offset_and_address_must_agree_within_the_page() {
    enoexec(&exec_with(&[Phdr::load(PF_R, 0x100, BASE + 0x1108, 0x10, 0x10)]).to_bytes());
    // Without file bytes the offset means nothing (Linux maps anonymous memory).
    assert!(
        parse_elf(
            &exec_with(&[Phdr::load(PF_R, 0x100, BASE + 0x1108, 0, 0x10)]).to_bytes(),
            0
        )
        .is_ok()
    );
}

#[test]
fn addresses_must_stay_in_the_user_half() {
    for (vaddr, memsz) in [
        (0x0000_8000_0000_0000, 0x1000),  // kernel half
        (0xffff_ffff_8000_0000, 0x1000),  // kernel image
        (USER_TOP - 0x1000, 0x1001),      // runs into the guard page
        (USER_TOP, 0x1000),               // the guard page itself
        (!0xfff, 0x2000),                 // wraps
        (0, 0x1000),                      // NULL page
        (MIN_USER_ADDR - 0x1000, 0x1000), // below mmap_min_addr
    ] {
        let mut w = ElfWriter::new(ET_EXEC, vaddr);
        w.phdrs
            .push(Phdr::load(PF_R | PF_X, 0, vaddr, 0x100, memsz));
        w.len = 0x100;
        assert_eq!(
            parse_elf(&w.to_bytes(), 0),
            Err(Errno::ENOEXEC),
            "{vaddr:#x}+{memsz:#x}"
        );
    }
    // The highest page that is allowed.
    let top = USER_TOP - 0x1000;
    let mut w = ElfWriter::new(ET_EXEC, top);
    w.phdrs.push(Phdr::load(PF_R | PF_X, 0, top, 0x100, 0x1000));
    w.len = 0x100;
    assert_eq!(parse_elf(&w.to_bytes(), 0).unwrap().brk, USER_TOP);
}

#[test]
fn segments_may_not_share_a_page() {
    // Second segment starts in the page where the first ends.
    let overlap = Phdr::load(PF_R | PF_W, 0x1f0, BASE + 0x1f0, 0x10, 0x10);
    enoexec(&exec_with(&[overlap]).to_bytes());
    // Same, found through bss: the first segment's memsz reaches the second one's page.
    let mut w = exec_with(&[Phdr::load(PF_R | PF_W, 0x100, BASE + 0x2100, 0x10, 0x10)]);
    w.phdrs[0].p_memsz = 0x2001;
    enoexec(&w.to_bytes());
    // Adjacent pages are fine, in any header order; the plan is sorted.
    let mut w = exec_with(&[]);
    w.phdrs
        .insert(0, Phdr::load(PF_R | PF_W, 0x100, BASE + 0x1100, 0x10, 0x10));
    let plan = parse_elf(&w.to_bytes(), 0).unwrap();
    let starts: Vec<u64> = plan.segments.iter().map(|s| s.start).collect();
    assert_eq!(starts, [BASE, BASE + 0x1000]);
    assert_eq!(plan.brk, BASE + 0x2000);
}

#[test]
fn something_must_be_loaded() {
    let mut w = exec_with(&[]);
    w.phdrs[0].p_type = PT_GNU_STACK;
    enoexec(&w.to_bytes());
    // Empty PT_LOADs are skipped, like Linux maps nothing for them.
    let mut w = exec_with(&[Phdr::load(PF_R, 0, 0x7000_0000, 0, 0)]);
    assert_eq!(parse_elf(&w.to_bytes(), 0).unwrap().segments.len(), 1);
    w.phdrs.remove(0);
    enoexec(&w.to_bytes());
}

#[test]
fn entry_must_be_mapped() {
    let mut w = exec_with(&[]);
    w.entry = BASE + 0x1000;
    enoexec(&w.to_bytes());
    w.entry = 0;
    enoexec(&w.to_bytes());
}

#[test]
fn phdr_address_comes_from_pt_phdr_or_the_covering_load() {
    let pt_phdr = |vaddr| Phdr {
        p_type: PT_PHDR,
        p_vaddr: vaddr,
        p_offset: 64,
        ..Phdr::default()
    };
    let plan = parse_elf(&exec_with(&[pt_phdr(BASE + 0x40)]).to_bytes(), 0).unwrap();
    assert_eq!(plan.phdr_addr, BASE + 0x40);
    enoexec(&exec_with(&[pt_phdr(BASE + 0x1000)]).to_bytes());
    // Without PT_PHDR, a segment that does not map file offset 64 gives no address.
    let mut w = exec_with(&[]);
    w.phdrs[0] = Phdr::load(PF_R | PF_X, 0x1000, BASE + 0x1000, 0x100, 0x100);
    w.entry = BASE + 0x1000;
    w.len = 0x1100;
    assert_eq!(parse_elf(&w.to_bytes(), 0).unwrap().phdr_addr, 0);
}

#[test]
fn bss_tail_and_pure_bss_segments() {
    let mut w = exec_with(&[
        // 0x30 file bytes, bss to the end of the page and 1 byte into the next one.
        Phdr::load(PF_R | PF_W, 0x1d0, BASE + 0x11d0, 0x30, 0xe31),
        // All bss: nothing to copy (p_offset is irrelevant), zero range in its first page.
        Phdr::load(PF_R | PF_W, 0x1234, BASE + 0x5800, 0, 0x100),
    ]);
    w.len = 0x200;
    let plan = parse_elf(&w.to_bytes(), 0).unwrap();
    let data = plan.segments[1];
    assert_eq!((data.start, data.end), (BASE + 0x1000, BASE + 0x3000));
    assert_eq!((data.file_offset, data.file_size), (0, 0x200));
    assert_eq!(
        (data.zero_start, data.zero_end),
        (BASE + 0x1200, BASE + 0x2000)
    );
    let bss = plan.segments[2];
    assert_eq!(
        (bss.start, bss.end, bss.file_size),
        (BASE + 0x5000, BASE + 0x6000, 0)
    );
    assert_eq!(
        (bss.zero_start, bss.zero_end),
        (BASE + 0x5800, BASE + 0x5900)
    );
    assert_eq!(plan.brk, BASE + 0x6000);
}

#[test]
fn stack_executable_only_with_pt_gnu_stack_x() {
    let exec_stack = |extra: &[Phdr]| {
        parse_elf(&exec_with(extra).to_bytes(), 0)
            .unwrap()
            .stack_executable
    };
    assert!(!exec_stack(&[]), "x86_64 default: not executable");
    assert!(!exec_stack(&[Phdr::marker(PT_GNU_STACK, PF_R | PF_W)]));
    assert!(exec_stack(&[Phdr::marker(
        PT_GNU_STACK,
        PF_R | PF_W | PF_X
    )]));
}

#[test]
fn tls_is_reported_and_checked() {
    let tls = Phdr {
        p_type: PT_TLS,
        p_vaddr: BASE + 0x180,
        p_filesz: 8,
        p_memsz: 32,
        p_align: 16,
        ..Phdr::default()
    };
    let plan = parse_elf(&exec_with(&[tls]).to_bytes(), 0).unwrap();
    let t = plan.tls.unwrap();
    assert_eq!(
        (t.addr, t.file_size, t.mem_size, t.align),
        (BASE + 0x180, 8, 32, 16)
    );
    enoexec(&exec_with(&[Phdr { p_memsz: 4, ..tls }]).to_bytes());
}

#[test]
fn section_headers_are_ignored() {
    let mut image = exec_with(&[]).to_bytes();
    image[40..48].copy_from_slice(&u64::MAX.to_le_bytes()); // e_shoff
    image[58..64].copy_from_slice(&[1, 0, 0xff, 0xff, 0xff, 0xff]); // shentsize, shnum, shstrndx
    assert!(parse_elf(&image, 0).is_ok());
}

#[test]
fn pie_base_rules() {
    let mut w = exec_with(&[]);
    w.e_type = ET_DYN;
    let image = w.to_bytes();
    assert_eq!(parse_elf(&image, DEFAULT_PIE_BASE + 8), Err(Errno::EINVAL));
    // Linked at 0x400000 but placed lower: the bias is negative, in two's complement.
    let plan = parse_elf(&image, 0x10_0000).unwrap();
    assert_eq!(plan.load_bias, 0x10_0000u64.wrapping_sub(BASE));
    assert_eq!(plan.entry, 0x10_0100);
    // A base that pushes the image out of the user half.
    assert_eq!(parse_elf(&image, USER_TOP), Err(Errno::ENOEXEC));
    // ET_EXEC ignores the base, even a misaligned one.
    assert_eq!(
        parse_elf(&exec_with(&[]).to_bytes(), 7).unwrap().load_bias,
        0
    );
}
