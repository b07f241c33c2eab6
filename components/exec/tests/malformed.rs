//! `parse_elf` against hostile input (random bytes, random program headers, mutated
//! fixtures: never a panic, and any accepted plan is sound), and against a model for
//! generated well-formed layouts (exactly the plan the model predicts).

mod support;

use proptest::prelude::*;
use support::*;
use tessera_exec::{
    ElfKind, LoadPlan, MIN_USER_ADDR, PAGE_SIZE, Prot, Segment, USER_TOP, parse_elf,
};

/// What every accepted plan must satisfy, whatever the input was.
fn assert_sound(image: &[u8], plan: &LoadPlan) {
    let segs = &plan.segments;
    assert!(!segs.is_empty());
    for s in segs {
        assert!(
            s.start % PAGE_SIZE == 0 && s.end % PAGE_SIZE == 0 && s.start < s.end,
            "{s:?}"
        );
        assert!(s.start >= MIN_USER_ADDR && s.end <= USER_TOP, "{s:?}");
        assert_eq!(s.file_offset % PAGE_SIZE, 0);
        assert!(s.file_size <= s.len());
        assert!(s.file_offset + s.file_size <= image.len() as u64);
        assert_eq!(s.file_bytes(image).len() as u64, s.file_size);
        assert!(s.zero_start <= s.zero_end && s.zero_end <= s.end);
        assert!(s.zero_start >= s.start + s.file_size);
        assert!(s.zero_end - s.zero_start < PAGE_SIZE);
    }
    for pair in segs.windows(2) {
        assert!(pair[0].end <= pair[1].start, "overlap: {pair:?}");
    }
    let mapped = |addr: u64| segs.iter().any(|s| s.contains(addr));
    assert!(mapped(plan.entry));
    assert!(plan.phdr_addr == 0 || mapped(plan.phdr_addr));
    assert_eq!(plan.brk, segs.last().unwrap().end);
    assert_eq!(plan.phentsize, 56);
    if let Some(tls) = plan.tls {
        assert!(tls.file_size <= tls.mem_size);
    }
}

fn parse_and_check(image: &[u8], pie_base: u64) {
    if let Ok(plan) = parse_elf(image, pie_base) {
        assert_sound(image, &plan);
    }
}

/// Values that sit on the edges the checks care about.
fn edgy_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(0xfff),
        Just(0x1000),
        Just(0x40_0000),
        Just(MIN_USER_ADDR),
        Just(USER_TOP - 0x1000),
        Just(USER_TOP),
        Just(0x0000_8000_0000_0000),
        Just(u64::MAX),
        Just(u64::MAX - 0xfff),
        0u64..0x2000,
        any::<u64>(),
    ]
}

/// A program header with any field on an edge value.
fn wild_phdr() -> impl Strategy<Value = Phdr> {
    let p_type = prop_oneof![
        Just(PT_LOAD),
        Just(PT_PHDR),
        Just(PT_TLS),
        Just(PT_GNU_STACK),
        Just(PT_INTERP),
        any::<u32>()
    ];
    (
        p_type,
        0u32..8,
        edgy_u64(),
        edgy_u64(),
        edgy_u64(),
        edgy_u64(),
        edgy_u64(),
    )
        .prop_map(
            |(p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz, p_align)| Phdr {
                p_type,
                p_flags,
                p_offset,
                p_vaddr,
                p_filesz,
                p_memsz,
                p_align,
            },
        )
}

/// A program header close to what a linker writes (small pages near 0x400000, offset and
/// address mostly congruent, memsz mostly >= filesz), so that many tables are accepted or
/// fail on one subtle rule (overlap, congruence, file end) rather than on everything.
fn plausible_phdr() -> impl Strategy<Value = Phdr> {
    let p_type = prop_oneof![8 => Just(PT_LOAD), 1 => Just(PT_PHDR), 1 => Just(PT_TLS), 1 => Just(PT_GNU_STACK)];
    (
        p_type,
        0u32..8,
        0u64..16,
        0u64..3,
        0u64..PAGE_SIZE,
        prop_oneof![9 => Just(0u64), 1 => 1u64..PAGE_SIZE],
        0u64..0x800,
        0u64..0x3000,
    )
        .prop_map(
            |(p_type, p_flags, page, file_page, page_offset, skew, p_filesz, bss)| Phdr {
                p_type,
                p_flags,
                p_offset: file_page * PAGE_SIZE + page_offset,
                p_vaddr: 0x40_0000 + page * PAGE_SIZE + page_offset + skew,
                p_filesz,
                p_memsz: (p_filesz + bss).saturating_sub(if bss == 0 { 1 } else { 0 }),
                p_align: PAGE_SIZE,
            },
        )
}

fn arb_phdr() -> impl Strategy<Value = Phdr> {
    prop_oneof![wild_phdr(), plausible_phdr()]
}

/// One edit of an image: overwrite a byte, overwrite a word with an edge value, or cut.
#[derive(Clone, Debug)]
enum Mutation {
    Byte(usize, u8),
    Word(usize, u64),
    Truncate(usize),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..5000, any::<u8>()).prop_map(|(at, v)| Mutation::Byte(at, v)),
        // Header and program header fields are 8-byte aligned or at fixed small offsets.
        (0usize..600, edgy_u64()).prop_map(|(at, v)| Mutation::Word(at, v)),
        (0usize..5000).prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut image: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        match *m {
            Mutation::Byte(at, v) if at < image.len() => image[at] = v,
            Mutation::Word(at, v) if at + 8 <= image.len() => {
                image[at..at + 8].copy_from_slice(&v.to_le_bytes())
            }
            Mutation::Truncate(len) => image.truncate(len),
            _ => {}
        }
    }
    image
}

/// A well-formed segment for the model test: page slot, offset in page, sizes, flags.
#[derive(Clone, Debug)]
struct SegSpec {
    slot_gap: u64,
    page_offset: u64,
    filesz: u64,
    extra_pages: u64,
    bss: u64,
    flags: u32,
}

fn arb_segspec() -> impl Strategy<Value = SegSpec> {
    (
        0u64..3,
        0u64..PAGE_SIZE,
        0u64..300,
        0u64..3,
        0u64..5000,
        0u32..8,
    )
        .prop_map(
            |(slot_gap, page_offset, filesz, extra_pages, bss, flags)| SegSpec {
                slot_gap,
                page_offset,
                filesz,
                extra_pages,
                bss,
                flags,
            },
        )
}

proptest! {
    // No regression files: a failure prints its shrunk input, which then becomes a test in
    // elf_rules.rs.
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), base in edgy_u64()) {
        parse_and_check(&bytes, base);
    }

    #[test]
    fn random_program_headers_never_panic(
        pie in any::<bool>(),
        entry in edgy_u64(),
        entry_from_phdr in any::<bool>(),
        phdrs in proptest::collection::vec(arb_phdr(), 0..6),
        len in 0u64..0x3000,
        base in edgy_u64(),
    ) {
        let entry = if entry_from_phdr { phdrs.first().map_or(entry, |p| p.p_vaddr) } else { entry };
        let mut w = ElfWriter::new(if pie { ET_DYN } else { ET_EXEC }, entry);
        w.phdrs = phdrs;
        w.len = len;
        parse_and_check(&w.to_bytes(), base);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in any::<bool>(),
        mutations in proptest::collection::vec(arb_mutation(), 1..8),
        base in edgy_u64(),
    ) {
        let image = if which { exit42() } else { hello_pie() };
        parse_and_check(&mutate(image, &mutations), base);
    }

    /// Generated well-formed executables: the plan is exactly what a direct computation of
    /// Linux's mapping rules gives.
    #[test]
    fn plan_matches_model(
        pie in any::<bool>(),
        specs in proptest::collection::vec(arb_segspec(), 1..6),
        base_page in 0x10u64..0x10_0000,
        shuffle in any::<u64>(),
    ) {
        let link = if pie { 0 } else { 0x40_0000 };
        let mut w = ElfWriter::new(if pie { ET_DYN } else { ET_EXEC }, 0);
        // The model, in link-time addresses: segments at ascending pages, each with its file
        // data at a fresh file page.
        let mut expected = Vec::new();
        let (mut page, mut file_page) = (0, 1);
        for s in &specs {
            page += s.slot_gap;
            let start = link + page * PAGE_SIZE;
            let vaddr = start + s.page_offset;
            let memsz = s.filesz + s.extra_pages * PAGE_SIZE + s.bss;
            if memsz == 0 {
                continue;
            }
            let offset = file_page * PAGE_SIZE + s.page_offset;
            w.put(offset, &vec![0x5a; s.filesz as usize]);
            w.phdrs.push(Phdr::load(s.flags, offset, vaddr, s.filesz, memsz));
            let data_end = vaddr + s.filesz;
            let end = (vaddr + memsz).div_ceil(PAGE_SIZE) * PAGE_SIZE;
            expected.push(Segment {
                start,
                end,
                file_offset: if s.filesz == 0 { 0 } else { file_page * PAGE_SIZE },
                file_size: if s.filesz == 0 { 0 } else { s.page_offset + s.filesz },
                zero_start: data_end,
                zero_end: (data_end.div_ceil(PAGE_SIZE) * PAGE_SIZE).min(vaddr + memsz),
                prot: Prot { read: s.flags & PF_R != 0, write: s.flags & PF_W != 0, exec: s.flags & PF_X != 0 },
            });
            page = (end - link) / PAGE_SIZE;
            file_page += 1;
        }
        prop_assume!(!expected.is_empty());
        // ET_EXEC stays where it is linked; a PIE's lowest page moves to the base.
        let base = base_page * PAGE_SIZE;
        let bias = if pie { base.wrapping_sub(expected[0].start) } else { 0 };
        for seg in &mut expected {
            seg.start = seg.start.wrapping_add(bias);
            seg.end = seg.end.wrapping_add(bias);
            seg.zero_start = seg.zero_start.wrapping_add(bias);
            seg.zero_end = seg.zero_end.wrapping_add(bias);
        }
        w.entry = w.phdrs[0].p_vaddr;
        // Program headers in any order: the plan is sorted anyway.
        let n = w.phdrs.len();
        w.phdrs.rotate_left((shuffle % n as u64) as usize);
        let image = w.to_bytes();
        let plan = parse_elf(&image, base).unwrap();
        prop_assert_eq!(plan.kind, if pie { ElfKind::StaticPie } else { ElfKind::Exec });
        prop_assert_eq!(plan.load_bias, bias);
        prop_assert_eq!(&plan.segments, &expected);
        prop_assert_eq!(plan.entry, w.entry.wrapping_add(bias));
        prop_assert_eq!(plan.brk, expected.last().unwrap().end);
        // Program headers live in file page 0, which no segment maps here.
        prop_assert_eq!(plan.phdr_addr, 0);
        assert_sound(&image, &plan);
    }
}

/// The soundness checks above only bite on accepted inputs: make sure the generators
/// produce plenty of those, not just rejections.
#[test]
fn generators_reach_accepted_plans() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut mutated_ok, mut random_ok) = (0, 0);
    for _ in 0..2000 {
        let mutations = proptest::collection::vec(arb_mutation(), 1..3)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let image = mutate(hello_pie(), &mutations);
        mutated_ok += usize::from(parse_elf(&image, 0x10_0000).is_ok());
        let phdrs = proptest::collection::vec(arb_phdr(), 1..3)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut w = ElfWriter::new(ET_EXEC, phdrs[0].p_vaddr);
        w.phdrs = phdrs;
        w.len = 0x3000;
        random_ok += usize::from(parse_elf(&w.to_bytes(), 0).is_ok());
    }
    println!("accepted: {mutated_ok} mutated, {random_ok} random of 2000 each");
    assert!(mutated_ok > 200, "{mutated_ok}");
    assert!(random_ok > 20, "{random_ok}");
}
