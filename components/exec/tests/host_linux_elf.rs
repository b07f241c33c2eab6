//! Differential tests against the host Linux kernel (x86_64 Linux hosts with a C compiler;
//! otherwise each test prints why it is skipped and passes): ELF plans and stack layout.
//!
//! `tests/c/probe.c` is built with `cc -static` and `cc -static-pie`: real static glibc
//! binaries. Linux runs them and the probe reports what Linux did; the tests check that
//! - `parse_elf` gives Linux's `AT_ENTRY`, `AT_PHDR`, `AT_PHNUM`, `AT_PHENT`, that
//!   `elf_auxv` gives Linux's values for its keys, and that the segments cover exactly the
//!   probe's own mappings, with the same execute permission;
//! - `build_stack`, fed the same strings and auxv, puts every string, `AT_RANDOM`,
//!   `AT_PLATFORM`, `AT_EXECFN` and rsp at the addresses Linux used.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod support;

use std::path::PathBuf;
use support::probe::{Report, probe, run_probe};
use tessera_abi::auxv::*;
use tessera_exec::*;

#[test]
fn stack_layout_matches_linux() {
    let Some(path) = probe("-static") else { return };
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case; 4] = [
        (&[], &[("PROBE_LAYOUT", "1")]),
        (
            &["one", "", "three with spaces"],
            &[("PROBE_LAYOUT", "1"), ("B", "2"), ("EMPTY", "")],
        ),
        (
            &["x"],
            &[("PROBE_LAYOUT", "1"), ("LONGER_VALUE", "abcdefghijklmnopq")],
        ),
        (
            &["a", "bb", "ccc", "dddd"],
            &[("PROBE_LAYOUT", "1"), ("C", "3"), ("D", "4"), ("E", "5")],
        ),
    ];
    for (args, env) in cases {
        let linux = run_probe(path, args, env);
        let execfn_addr = linux.aux(AT_EXECFN);
        let top = execfn_addr + linux.execfn.len() as u64 + 1 + 8;
        assert_eq!(
            top % 4096,
            0,
            "Linux leaves one zero word at the top of the stack"
        );

        let argv: Vec<&[u8]> = linux.args.iter().map(|(_, s)| s.as_slice()).collect();
        let envp: Vec<&[u8]> = linux.envs.iter().map(|(_, s)| s.as_slice()).collect();
        let ours_fill = [AT_RANDOM, AT_EXECFN, AT_PLATFORM];
        let caller: Vec<(u64, u64)> = linux
            .aux
            .iter()
            .copied()
            .filter(|(k, _)| !ours_fill.contains(k))
            .collect();
        let image = build_stack(
            top,
            &argv,
            &envp,
            &linux.execfn,
            &caller,
            [7; 16],
            &linux.platform,
        )
        .unwrap();

        // Strings: exact addresses, randomisation or not (it only moves what is below them).
        let word = |addr: u64| {
            let at = (addr - image.start) as usize;
            u64::from_le_bytes(image.bytes[at..at + 8].try_into().unwrap())
        };
        for (i, (addr, _)) in linux.args.iter().enumerate() {
            assert_eq!(
                word(image.start + 8 + 8 * i as u64),
                *addr,
                "argv[{i}] of {args:?}"
            );
        }
        let envp_at = image.start + 8 * (argv.len() as u64 + 2);
        for (i, (addr, _)) in linux.envs.iter().enumerate() {
            assert_eq!(word(envp_at + 8 * i as u64), *addr, "envp[{i}]");
        }
        assert_eq!(image.arg_start, linux.args[0].0);
        assert_eq!(image.env_end, execfn_addr);

        let auxv_at = envp_at + 8 * (envp.len() as u64 + 1);
        let ours: Vec<(u64, u64)> = (0..linux.aux.len() as u64)
            .map(|i| (word(auxv_at + 16 * i), word(auxv_at + 16 * i + 8)))
            .collect();
        let ours_value = |key: u64| ours.iter().find(|(k, _)| *k == key).unwrap().1;
        assert_eq!(ours_value(AT_EXECFN), execfn_addr);
        if linux.norandom {
            assert_eq!(image.start, linux.rsp, "rsp");
            assert_eq!(ours_value(AT_RANDOM), linux.aux(AT_RANDOM));
            assert_eq!(ours_value(AT_PLATFORM), linux.aux(AT_PLATFORM));
        } else {
            // Linux put a random gap above the platform string; everything below it keeps
            // the same distances.
            eprintln!("note: ADDR_NO_RANDOMIZE refused; comparing rsp relative to AT_RANDOM");
            assert_eq!(
                ours_value(AT_RANDOM) - image.start,
                linux.aux(AT_RANDOM) - linux.rsp
            );
        }
        // The rest of Linux's pairs, values unchanged.
        for pair in &caller {
            assert!(ours.contains(pair), "{pair:?}");
        }
    }
}

/// Every page of the plan is mapped in the probe with the plan's execute permission, and
/// every mapping Linux made from the file lies inside the plan.
fn check_maps(plan: &LoadPlan, linux: &Report) {
    let covering = |addr: u64| {
        linux
            .maps
            .iter()
            .find(|(s, e, _, _)| *s <= addr && addr < *e)
    };
    for seg in &plan.segments {
        for page in (seg.start..seg.end).step_by(PAGE_SIZE as usize) {
            let (_, _, perms, _) = covering(page).unwrap_or_else(|| panic!("{page:#x} not mapped"));
            assert_eq!(
                perms.contains('x'),
                seg.prot.exec,
                "page {page:#x}: {perms}"
            );
        }
    }
    for (start, end, _, kind) in linux.maps.iter().filter(|m| m.3 == "exe") {
        assert!(
            plan.segments
                .iter()
                .any(|s| s.start <= *start && *end <= s.end),
            "{kind} {start:#x}-{end:#x} outside the plan"
        );
    }
}

#[test]
fn static_exec_plan_matches_linux() {
    let Some(path) = probe("-static") else { return };
    let image = std::fs::read(path).unwrap();
    let plan = parse_elf(&image, DEFAULT_PIE_BASE).unwrap();
    assert_eq!(plan.kind, ElfKind::Exec);
    let linux = run_probe(path, &[], &[]);
    assert_eq!(plan.entry, linux.aux(AT_ENTRY));
    assert_eq!(plan.phdr_addr, linux.aux(AT_PHDR));
    assert_eq!(u64::from(plan.phnum), linux.aux(AT_PHNUM));
    assert_eq!(u64::from(plan.phentsize), linux.aux(AT_PHENT));
    assert!(plan.tls.is_some(), "glibc's static binaries have TLS");
    // The caller's auxv pairs, with the host's ids and hwcap: Linux's values exactly.
    let ids = Credentials {
        uid: linux.aux(AT_UID) as u32,
        euid: linux.aux(AT_EUID) as u32,
        gid: linux.aux(AT_GID) as u32,
        egid: linux.aux(AT_EGID) as u32,
    };
    let hwcap2 = linux.aux(AT_HWCAP2);
    for (key, value) in elf_auxv(&plan, 0, ids, linux.aux(AT_HWCAP), hwcap2) {
        assert_eq!(value, linux.aux(key), "auxv key {key}");
    }
    assert!(!plan.stack_executable);
    check_maps(&plan, &linux);
}

#[test]
fn static_pie_plan_matches_linux() {
    let Some(path) = probe("-static-pie") else {
        return;
    };
    let image = std::fs::read(path).unwrap();
    let first = parse_elf(&image, DEFAULT_PIE_BASE).unwrap();
    assert_eq!(first.kind, ElfKind::StaticPie);
    let linux = run_probe(path, &[], &[]);
    // Place the plan where Linux placed the program, then everything must agree.
    let base = DEFAULT_PIE_BASE.wrapping_add(linux.aux(AT_ENTRY).wrapping_sub(first.entry));
    let plan = parse_elf(&image, base).unwrap();
    assert_eq!(plan.entry, linux.aux(AT_ENTRY));
    assert_eq!(plan.phdr_addr, linux.aux(AT_PHDR));
    assert_eq!(u64::from(plan.phnum), linux.aux(AT_PHNUM));
    check_maps(&plan, &linux);
}

/// A dynamically linked PIE (`cc -pie`): Linux runs its interpreter, placed at `AT_BASE`;
/// the plans of program and interpreter, placed where Linux put them, cover what Linux
/// mapped, and `elf_auxv` gives Linux's values (`AT_BASE` and `AT_ENTRY` included).
#[test]
fn dynamic_pie_and_interpreter_match_linux() {
    let Some(path) = probe("-pie") else { return };
    let image = std::fs::read(path).unwrap();
    let first = parse_elf(&image, DEFAULT_PIE_BASE).unwrap();
    assert_eq!(first.kind, ElfKind::DynamicPie);
    let interp = first
        .interpreter
        .expect("a dynamic program names its interpreter");
    let at = interp.file_offset as usize;
    let ld_path = interpreter_path(&image[at..at + interp.size as usize]).unwrap();
    let linux = run_probe(path, &[], &[]);
    let base = DEFAULT_PIE_BASE.wrapping_add(linux.aux(AT_ENTRY).wrapping_sub(first.entry));
    let plan = parse_elf(&image, base).unwrap();
    assert_eq!(plan.entry, linux.aux(AT_ENTRY));
    assert_eq!(plan.phdr_addr, linux.aux(AT_PHDR));
    check_maps(&plan, &linux);

    use std::os::unix::ffi::OsStrExt;
    let ld = std::fs::read(std::ffi::OsStr::from_bytes(ld_path)).unwrap();
    let at_base = linux.aux(AT_BASE);
    assert_ne!(at_base, 0);
    let ld_plan = parse_elf(&ld, at_base).unwrap();
    assert_eq!(
        ld_plan.kind,
        ElfKind::StaticPie,
        "ld.so is ET_DYN without PT_INTERP"
    );
    assert_eq!(ld_plan.interpreter, None);
    assert_eq!(ld_plan.load_bias, at_base, "ld.so is linked at 0");
    for seg in &ld_plan.segments {
        for page in (seg.start..seg.end).step_by(PAGE_SIZE as usize) {
            let (_, _, perms, _) = linux
                .maps
                .iter()
                .find(|(s, e, _, _)| *s <= page && page < *e)
                .unwrap_or_else(|| panic!("ld.so page {page:#x} not mapped"));
            assert_eq!(perms.contains('x'), seg.prot.exec, "{page:#x}: {perms}");
        }
    }
    let ids = Credentials {
        uid: linux.aux(AT_UID) as u32,
        euid: linux.aux(AT_EUID) as u32,
        gid: linux.aux(AT_GID) as u32,
        egid: linux.aux(AT_EGID) as u32,
    };
    let (hwcap, hwcap2) = (linux.aux(AT_HWCAP), linux.aux(AT_HWCAP2));
    for (key, value) in elf_auxv(&plan, ld_plan.load_bias, ids, hwcap, hwcap2) {
        assert_eq!(value, linux.aux(key), "auxv key {key}");
    }
}

/// Debian's busybox-static, the shell Tessera is meant to run, when the host has it (or
/// `TESSERA_BUSYBOX` names a copy).
#[test]
fn debian_busybox_if_present() {
    let path = std::env::var_os("TESSERA_BUSYBOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/bin/busybox"));
    let Ok(image) = std::fs::read(&path) else {
        eprintln!(
            "note: skipping: no {} (set TESSERA_BUSYBOX)",
            path.display()
        );
        return;
    };
    let plan = parse_elf(&image, DEFAULT_PIE_BASE).unwrap();
    assert_ne!(plan.phdr_addr, 0);
    assert!(
        plan.segments
            .iter()
            .any(|s| s.prot.exec && s.contains(plan.entry))
    );
    assert!(plan.tls.is_some(), "static glibc has TLS");
    assert!(!plan.stack_executable);
}
