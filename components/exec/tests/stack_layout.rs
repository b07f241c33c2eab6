//! `build_stack`: decode the image back the way a libc's `_start` reads it and compare with
//! the inputs; the limits and refusals.

use proptest::prelude::*;
use tessera_abi::Errno;
use tessera_abi::auxv::*;
use tessera_exec::{MAX_ARG_STRLEN, MAX_ARG_TOTAL, StackImage, build_stack};

const TOP: u64 = 0x7fff_ffff_f000;
const RANDOM: [u8; 16] = *b"0123456789abcdef";

/// What a program finds at rsp, decoded independently of the builder.
#[derive(Debug)]
struct Decoded {
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    auxv: Vec<(u64, u64)>,
}

struct Reader<'a> {
    image: &'a StackImage,
    top: u64,
}

impl Reader<'_> {
    fn offset(&self, addr: u64) -> usize {
        assert!(
            addr >= self.image.start && addr < self.top,
            "{addr:#x} outside the image"
        );
        (addr - self.image.start) as usize
    }
    fn word(&self, addr: u64) -> u64 {
        let at = self.offset(addr);
        u64::from_le_bytes(self.image.bytes[at..at + 8].try_into().unwrap())
    }
    fn c_str(&self, addr: u64) -> Vec<u8> {
        let bytes = &self.image.bytes[self.offset(addr)..];
        bytes[..bytes
            .iter()
            .position(|&b| b == 0)
            .expect("string without NUL")]
            .to_vec()
    }
    fn bytes(&self, addr: u64, len: usize) -> &[u8] {
        &self.image.bytes[self.offset(addr)..][..len]
    }
}

fn decode(image: &StackImage, top: u64) -> Decoded {
    assert_eq!(image.start % 16, 0, "rsp must be 16-byte aligned at entry");
    assert_eq!(image.start + image.bytes.len() as u64, top);
    assert_eq!(
        &image.bytes[image.bytes.len() - 8..],
        &[0; 8],
        "zero word at the top"
    );
    let r = Reader { image, top };
    let mut at = image.start;
    let mut next = || {
        let w = r.word(at);
        at += 8;
        w
    };
    let argc = next();
    let argv: Vec<u64> = (0..argc).map(|_| next()).collect();
    assert_eq!(next(), 0, "argv NULL");
    let envp: Vec<u64> = std::iter::from_fn(|| Some(next()).filter(|&p| p != 0)).collect();
    let mut auxv = Vec::new();
    loop {
        let (key, value) = (next(), next());
        if key == AT_NULL {
            break;
        }
        auxv.push((key, value));
    }
    Decoded {
        argv: argv.iter().map(|&p| r.c_str(p)).collect(),
        envp: envp.iter().map(|&p| r.c_str(p)).collect(),
        auxv,
    }
}

fn aux(d: &Decoded, key: u64) -> u64 {
    let found: Vec<u64> = d
        .auxv
        .iter()
        .filter(|(k, _)| *k == key)
        .map(|&(_, v)| v)
        .collect();
    assert_eq!(found.len(), 1, "key {key} once");
    found[0]
}

fn build(argv: &[&[u8]], envp: &[&[u8]], auxv: &[(u64, u64)]) -> StackImage {
    build_stack(TOP, argv, envp, b"/bin/prog", auxv, RANDOM, b"x86_64").unwrap()
}

#[test]
fn round_trip() {
    let argv: [&[u8]; 3] = [b"prog", b"-l", b""];
    let envp: [&[u8]; 2] = [b"PATH=/bin", b"HOME=/"];
    let caller = [(AT_PAGESZ, 4096), (AT_ENTRY, 0x401000), (AT_PHNUM, 7)];
    let image = build(&argv, &envp, &caller);
    let d = decode(&image, TOP);
    assert_eq!(d.argv, argv);
    assert_eq!(d.envp, envp);
    // The caller's pairs first, in order, then the three the builder adds.
    assert_eq!(&d.auxv[..3], &caller);
    assert_eq!(d.auxv.len(), 6);
    let r = Reader {
        image: &image,
        top: TOP,
    };
    assert_eq!(r.bytes(aux(&d, AT_RANDOM), 16), RANDOM);
    assert_eq!(r.c_str(aux(&d, AT_PLATFORM)), b"x86_64");
    assert_eq!(r.c_str(aux(&d, AT_EXECFN)), b"/bin/prog");
    // execfn ends right below the zero word at the top.
    assert_eq!(aux(&d, AT_EXECFN) + 10, TOP - 8);
}

#[test]
fn string_areas_are_contiguous_like_linux() {
    let image = build(&[b"a", b"bc"], &[b"X=1"], &[]);
    // argv strings, then envp strings, then execfn, packed with their NULs.
    assert_eq!(image.arg_end - image.arg_start, 2 + 3);
    assert_eq!(image.env_start, image.arg_end);
    assert_eq!(image.env_end - image.env_start, 4);
    let d = decode(&image, TOP);
    assert_eq!(image.env_end, aux(&d, AT_EXECFN));
    let r = Reader {
        image: &image,
        top: TOP,
    };
    assert_eq!(r.bytes(image.arg_start, 9), b"a\0bc\0X=1\0");
    // Platform string sits below the 16-aligned string area, random bytes right below it.
    assert_eq!(aux(&d, AT_PLATFORM), (image.arg_start & !15) - 7);
    assert_eq!(aux(&d, AT_RANDOM), aux(&d, AT_PLATFORM) - 16);
}

#[test]
fn alignment_holds_for_every_parity() {
    // rsp stays 16-aligned whatever the number of words and string bytes.
    for argc in 1..5usize {
        for envc in 0..4usize {
            for extra in 0..3usize {
                let arg = vec![b'a'; extra + argc];
                let argv: Vec<&[u8]> = (0..argc).map(|_| &arg[..]).collect();
                let envp: Vec<&[u8]> = (0..envc).map(|_| &b"K=V"[..]).collect();
                let auxv: Vec<(u64, u64)> = (0..extra as u64).map(|i| (AT_HWCAP + i, i)).collect();
                let d = decode(&build(&argv, &envp, &auxv), TOP);
                assert_eq!((d.argv.len(), d.envp.len()), (argc, envc));
            }
        }
    }
}

#[test]
fn empty_argv_becomes_one_empty_string() {
    let d = decode(&build(&[], &[], &[]), TOP);
    assert_eq!(d.argv, [b""]);
}

#[test]
fn empty_platform_omits_at_platform() {
    let image = build_stack(TOP, &[b"p"], &[], b"p", &[], RANDOM, b"").unwrap();
    let d = decode(&image, TOP);
    assert!(d.auxv.iter().all(|&(k, _)| k != AT_PLATFORM));
    assert_eq!(aux(&d, AT_RANDOM), (image.arg_start & !15) - 16);
}

#[test]
fn single_string_limit() {
    let ok = vec![b'x'; MAX_ARG_STRLEN - 1];
    assert!(build_stack(TOP, &[&ok], &[], b"p", &[], RANDOM, b"x86_64").is_ok());
    let long = vec![b'x'; MAX_ARG_STRLEN];
    assert_eq!(
        build_stack(TOP, &[&long], &[], b"p", &[], RANDOM, b"x86_64"),
        Err(Errno::E2BIG)
    );
    assert_eq!(
        build_stack(TOP, &[b"p"], &[&long], b"p", &[], RANDOM, b"x86_64"),
        Err(Errno::E2BIG)
    );
}

#[test]
fn total_limit_counts_strings_and_pointers() {
    // n strings of len bytes: n * (len + 1) string bytes + 8 n pointers, plus "p\0" execfn.
    let len = 1000;
    let fits = (MAX_ARG_TOTAL - 2) / (len + 1 + 8);
    let s = vec![b'e'; len];
    let envp: Vec<&[u8]> = vec![&s[..]; fits - 1];
    let argv: [&[u8]; 1] = [&s];
    let image = build_stack(TOP, &argv, &envp, b"p", &[], RANDOM, b"x86_64").unwrap();
    assert_eq!(decode(&image, TOP).envp.len(), fits - 1);
    let envp: Vec<&[u8]> = vec![&s[..]; fits];
    assert_eq!(
        build_stack(TOP, &argv, &envp, b"p", &[], RANDOM, b"x86_64"),
        Err(Errno::E2BIG)
    );
    // Exactly at the limit is allowed: fill the remainder with one more string.
    let used = (fits) * (len + 1 + 8) + 2;
    let rest = vec![b'r'; MAX_ARG_TOTAL - used - 8 - 1];
    let mut envp: Vec<&[u8]> = vec![&s[..]; fits - 1];
    envp.push(&rest);
    assert!(build_stack(TOP, &argv, &envp, b"p", &[], RANDOM, b"x86_64").is_ok());
    let rest = vec![b'r'; MAX_ARG_TOTAL - used - 8];
    *envp.last_mut().unwrap() = &rest;
    assert_eq!(
        build_stack(TOP, &argv, &envp, b"p", &[], RANDOM, b"x86_64"),
        Err(Errno::E2BIG)
    );
}

#[test]
fn refusals() {
    let call = |top, argv: &[&[u8]], execfn: &[u8], auxv: &[(u64, u64)], platform: &[u8]| {
        build_stack(top, argv, &[], execfn, auxv, RANDOM, platform)
    };
    assert_eq!(
        call(TOP - 8, &[b"p"], b"p", &[], b"x86_64"),
        Err(Errno::EINVAL),
        "unaligned top"
    );
    assert_eq!(
        call(TOP, &[b"a\0b"], b"p", &[], b"x86_64"),
        Err(Errno::EINVAL),
        "NUL in argv"
    );
    assert_eq!(
        call(TOP, &[b"p"], b"p\0", &[], b"x86_64"),
        Err(Errno::EINVAL),
        "NUL in execfn"
    );
    assert_eq!(
        call(TOP, &[b"p"], b"p", &[], b"x86\x0064"),
        Err(Errno::EINVAL),
        "NUL in platform"
    );
    for key in [AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM] {
        assert_eq!(
            call(TOP, &[b"p"], b"p", &[(key, 1)], b"x86_64"),
            Err(Errno::EINVAL),
            "key {key}"
        );
    }
    assert_eq!(
        call(0x40, &[b"p"], b"p", &[], b"x86_64"),
        Err(Errno::ENOMEM),
        "below address 0"
    );
}

fn arb_string() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(1u8..=255, 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_input_round_trips(
        argv in proptest::collection::vec(arb_string(), 1..8),
        envp in proptest::collection::vec(arb_string(), 0..8),
        execfn in arb_string(),
        // Keys above AT_EXECFN (31): none of them is one the builder reserves.
        auxv in proptest::collection::vec((32u64..60, any::<u64>()), 0..20),
        random in any::<[u8; 16]>(),
        top_pages in 1u64..0x7_ffff_ffff,
    ) {
        let top = top_pages * 4096;
        let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let envp: Vec<&[u8]> = envp.iter().map(Vec::as_slice).collect();
        let image = build_stack(top, &argv, &envp, &execfn, &auxv, random, b"x86_64").unwrap();
        let d = decode(&image, top);
        prop_assert_eq!(&d.argv, &argv);
        prop_assert_eq!(&d.envp, &envp);
        prop_assert_eq!(&d.auxv[..auxv.len()], &auxv[..]);
        let r = Reader { image: &image, top };
        prop_assert_eq!(r.bytes(aux(&d, AT_RANDOM), 16), &random[..]);
        prop_assert_eq!(&r.c_str(aux(&d, AT_EXECFN)), &execfn);
        prop_assert_eq!(r.c_str(aux(&d, AT_PLATFORM)), b"x86_64");
        // Everything in the image is accounted for: padding is at most 15 bytes twice.
        let strings: usize = argv.iter().chain(&envp).map(|s| s.len() + 1).sum::<usize>() + execfn.len() + 1;
        let words = 1 + argv.len() + 1 + envp.len() + 1 + 2 * (auxv.len() + 4);
        let used = 8 * words + 16 + 7 + strings + 8;
        prop_assert!(image.bytes.len() >= used && image.bytes.len() < used + 32);
    }
}
