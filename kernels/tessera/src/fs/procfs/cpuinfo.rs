//! `/proc/cpuinfo`: the CPU as CPUID describes it (through `tessera_platform::cpu::cpuid`),
//! in the format of Linux's `arch/x86/kernel/cpu/proc.c` (`show_cpuinfo`), for the one CPU
//! Tessera runs on.
//!
//! The `flags` are the CPUID feature bits Linux names (`arch/x86/include/asm/cpufeatures.h`),
//! in Linux's order (by its feature word). Not reproduced: the flags Linux makes up itself
//! (`rep_good`, `nopl`, `cpuid`, `constant_tsc`, ...) or turns off, the `microcode` line
//! (an MSR), `bugs` (Linux's own vulnerability list) and `TLB size`. `cpu MHz` is the TSC
//! frequency measured at boot, `bogomips` is derived from it as Linux derives it from its
//! TSC calibration (`loops_per_jiffy` = TSC kHz * 1000 / HZ).

use alloc::string::String;
use core::fmt::Write;

use tessera_platform::cpu::{Cpuid, cpuid};

/// A feature word: where CPUID reports it and the names of its bits (Linux's names; bits
/// Linux does not name, or names `""`, are left out).
struct Word {
    leaf: u32,
    subleaf: u32,
    register: fn(&Cpuid) -> u32,
    names: &'static [(u8, &'static str)],
}

const fn word(
    leaf: u32,
    subleaf: u32,
    register: fn(&Cpuid) -> u32,
    names: &'static [(u8, &'static str)],
) -> Word {
    Word {
        leaf,
        subleaf,
        register,
        names,
    }
}

/// Linux's feature words that come straight from CPUID, in its order.
#[rustfmt::skip]
const WORDS: &[Word] = &[
    // Word 0: leaf 1, EDX.
    word(1, 0, |r| r.edx, &[
        (0, "fpu"), (1, "vme"), (2, "de"), (3, "pse"), (4, "tsc"), (5, "msr"), (6, "pae"),
        (7, "mce"), (8, "cx8"), (9, "apic"), (11, "sep"), (12, "mtrr"), (13, "pge"),
        (14, "mca"), (15, "cmov"), (16, "pat"), (17, "pse36"), (18, "pn"), (19, "clflush"),
        (21, "dts"), (22, "acpi"), (23, "mmx"), (24, "fxsr"), (25, "sse"), (26, "sse2"),
        (27, "ss"), (28, "ht"), (29, "tm"), (30, "ia64"), (31, "pbe"),
    ]),
    // Word 1: leaf 0x8000_0001, EDX (the bits that repeat leaf 1's are not named again).
    word(0x8000_0001, 0, |r| r.edx, &[
        (11, "syscall"), (19, "mp"), (20, "nx"), (22, "mmxext"), (25, "fxsr_opt"),
        (26, "pdpe1gb"), (27, "rdtscp"), (29, "lm"), (30, "3dnowext"), (31, "3dnow"),
    ]),
    // Word 4: leaf 1, ECX.
    word(1, 0, |r| r.ecx, &[
        (0, "pni"), (1, "pclmulqdq"), (2, "dtes64"), (3, "monitor"), (4, "ds_cpl"),
        (5, "vmx"), (6, "smx"), (7, "est"), (8, "tm2"), (9, "ssse3"), (10, "cid"),
        (11, "sdbg"), (12, "fma"), (13, "cx16"), (14, "xtpr"), (15, "pdcm"), (17, "pcid"),
        (18, "dca"), (19, "sse4_1"), (20, "sse4_2"), (21, "x2apic"), (22, "movbe"),
        (23, "popcnt"), (24, "tsc_deadline_timer"), (25, "aes"), (26, "xsave"),
        (28, "avx"), (29, "f16c"), (30, "rdrand"), (31, "hypervisor"),
    ]),
    // Word 6: leaf 0x8000_0001, ECX.
    word(0x8000_0001, 0, |r| r.ecx, &[
        (0, "lahf_lm"), (1, "cmp_legacy"), (2, "svm"), (3, "extapic"), (4, "cr8_legacy"),
        (5, "abm"), (6, "sse4a"), (7, "misalignsse"), (8, "3dnowprefetch"), (9, "osvw"),
        (10, "ibs"), (11, "xop"), (12, "skinit"), (13, "wdt"), (15, "lwp"), (16, "fma4"),
        (17, "tce"), (19, "nodeid_msr"), (21, "tbm"), (22, "topoext"),
        (23, "perfctr_core"), (24, "perfctr_nb"), (26, "bpext"), (27, "ptsc"),
        (28, "perfctr_llc"), (29, "mwaitx"),
    ]),
    // Word 9: leaf 7, EBX.
    word(7, 0, |r| r.ebx, &[
        (0, "fsgsbase"), (1, "tsc_adjust"), (2, "sgx"), (3, "bmi1"), (4, "hle"),
        (5, "avx2"), (7, "smep"), (8, "bmi2"), (9, "erms"), (10, "invpcid"), (11, "rtm"),
        (12, "cqm"), (14, "mpx"), (15, "rdt_a"), (16, "avx512f"), (17, "avx512dq"),
        (18, "rdseed"), (19, "adx"), (20, "smap"), (21, "avx512ifma"), (23, "clflushopt"),
        (24, "clwb"), (25, "intel_pt"), (26, "avx512pf"), (27, "avx512er"),
        (28, "avx512cd"), (29, "sha_ni"), (30, "avx512bw"), (31, "avx512vl"),
    ]),
    // Word 10: leaf 0xd subleaf 1, EAX.
    word(0xd, 1, |r| r.eax, &[
        (0, "xsaveopt"), (1, "xsavec"), (2, "xgetbv1"), (3, "xsaves"),
    ]),
    // Word 12: leaf 7 subleaf 1, EAX.
    word(7, 1, |r| r.eax, &[(4, "avx_vnni"), (5, "avx512_bf16")]),
    // Word 13: leaf 0x8000_0008, EBX.
    word(0x8000_0008, 0, |r| r.ebx, &[
        (0, "clzero"), (1, "irperf"), (2, "xsaveerptr"), (4, "rdpru"), (9, "wbnoinvd"),
        (25, "virt_ssbd"),
    ]),
    // Word 14: leaf 6, EAX.
    word(6, 0, |r| r.eax, &[
        (0, "dtherm"), (1, "ida"), (2, "arat"), (4, "pln"), (6, "pts"), (7, "hwp"),
        (8, "hwp_notify"), (9, "hwp_act_window"), (10, "hwp_epp"), (11, "hwp_pkg_req"),
    ]),
    // Word 15: leaf 0x8000_000a, EDX (read only when the CPU has SVM).
    word(0x8000_000a, 0, |r| r.edx, &[
        (0, "npt"), (1, "lbrv"), (2, "svm_lock"), (3, "nrip_save"), (4, "tsc_scale"),
        (5, "vmcb_clean"), (6, "flushbyasid"), (7, "decodeassists"), (10, "pausefilter"),
        (12, "pfthreshold"), (13, "avic"), (15, "v_vmsave_vmload"), (16, "vgif"),
        (20, "v_spec_ctrl"),
    ]),
    // Word 16: leaf 7, ECX.
    word(7, 0, |r| r.ecx, &[
        (1, "avx512vbmi"), (2, "umip"), (3, "pku"), (4, "ospke"), (5, "waitpkg"),
        (6, "avx512_vbmi2"), (8, "gfni"), (9, "vaes"), (10, "vpclmulqdq"),
        (11, "avx512_vnni"), (12, "avx512_bitalg"), (13, "tme"), (14, "avx512_vpopcntdq"),
        (16, "la57"), (22, "rdpid"), (24, "bus_lock_detect"), (25, "cldemote"),
        (27, "movdiri"), (28, "movdir64b"), (29, "enqcmd"), (30, "sgx_lc"),
    ]),
    // Word 17: leaf 0x8000_0007, EBX.
    word(0x8000_0007, 0, |r| r.ebx, &[(0, "overflow_recov"), (1, "succor"), (3, "smca")]),
    // Word 18: leaf 7, EDX.
    word(7, 0, |r| r.edx, &[
        (2, "avx512_4vnniw"), (3, "avx512_4fmaps"), (4, "fsrm"),
        (8, "avx512_vp2intersect"), (10, "md_clear"), (14, "serialize"), (16, "tsxldtrk"),
        (18, "pconfig"), (19, "arch_lbr"), (20, "ibt"), (22, "amx_bf16"),
        (23, "avx512_fp16"), (24, "amx_tile"), (25, "amx_int8"), (28, "flush_l1d"),
        (29, "arch_capabilities"),
    ]),
];

#[rustfmt::skip]
/// Names of the power management bits (leaf 0x8000_0007, EDX), as Linux's
/// `x86_power_flags`; an unnamed bit shows as `[n]`, bit 8 (the invariant TSC, shown as
/// `constant_tsc` among Linux's own flags) not at all.
const POWER: [&str; 13] = [
    "ts", "fid", "vid", "ttp", "tm", "stc", "100mhzsteps", "hwpstate", "", "cpb",
    "eff_freq_ro", "proc_feedback", "acc_power",
];

/// Whether `leaf` is one the CPU answers (up to leaf 0's or 0x8000_0000's maximum).
fn offered(leaf: u32, max_basic: u32, max_extended: u32) -> bool {
    if leaf >= 0x8000_0000 {
        leaf <= max_extended
    } else {
        leaf <= max_basic
    }
}

/// The text of CPUID registers as bytes in order (vendor and brand strings).
fn push_register_text(out: &mut String, registers: &[u32]) {
    for r in registers {
        for b in r.to_le_bytes() {
            if b != 0 {
                out.push(char::from(b));
            }
        }
    }
}

pub fn cpuinfo() -> String {
    let leaf0 = cpuid(0, 0);
    let max_basic = leaf0.eax;
    let max_extended = cpuid(0x8000_0000, 0).eax;
    let has = |leaf| offered(leaf, max_basic, max_extended);
    let get = |leaf, subleaf| {
        if has(leaf) {
            cpuid(leaf, subleaf)
        } else {
            Cpuid::default()
        }
    };
    let leaf1 = get(1, 0);

    let mut vendor = String::new();
    push_register_text(&mut vendor, &[leaf0.ebx, leaf0.edx, leaf0.ecx]);
    let mut brand = String::new();
    if has(0x8000_0004) {
        for leaf in 0x8000_0002..=0x8000_0004 {
            let r = cpuid(leaf, 0);
            push_register_text(&mut brand, &[r.eax, r.ebx, r.ecx, r.edx]);
        }
    }
    let brand = brand.trim();
    // Family, model and stepping as Linux's x86_family/x86_model decode leaf 1's EAX.
    let stepping = leaf1.eax & 0xf;
    let mut family = (leaf1.eax >> 8) & 0xf;
    let mut model = (leaf1.eax >> 4) & 0xf;
    if family == 0xf {
        family += (leaf1.eax >> 20) & 0xff;
    }
    if family >= 6 {
        model += ((leaf1.eax >> 16) & 0xf) << 4;
    }
    let khz = tessera_platform::clock::tsc_hz() / 1000;
    let apic_id = leaf1.ebx >> 24;
    let clflush = ((leaf1.ebx >> 8) & 0xff) * 8;

    let mut text = String::new();
    let _ = write!(
        text,
        "processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\nmodel name\t: {}\nstepping\t: {stepping}\ncpu MHz\t\t: {}.{:03}\n",
        if brand.is_empty() { "unknown" } else { brand },
        khz / 1000,
        khz % 1000,
    );
    if has(0x8000_0006) {
        let _ = writeln!(text, "cache size\t: {} KB", cpuid(0x8000_0006, 0).ecx >> 16);
    }
    let _ = write!(
        text,
        "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\napicid\t\t: {apic_id}\ninitial apicid\t: {apic_id}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {max_basic}\nwp\t\t: yes\nflags\t\t:"
    );
    let svm = get(0x8000_0001, 0).ecx & (1 << 2) != 0;
    let leaf7_subleaves = get(7, 0).eax;
    for w in WORDS {
        let absent = !has(w.leaf)
            || (w.leaf == 0x8000_000a && !svm)
            || (w.leaf == 7 && w.subleaf > leaf7_subleaves);
        if absent {
            continue;
        }
        let value = (w.register)(&cpuid(w.leaf, w.subleaf));
        for &(bit, name) in w.names {
            if value & (1 << bit) != 0 {
                text.push(' ');
                text.push_str(name);
            }
        }
    }
    // bogomips = loops_per_jiffy / (500000 / HZ), with Linux's TSC-derived loops_per_jiffy.
    let _ = write!(
        text,
        "\nbogomips\t: {}.{:02}\nclflush size\t: {clflush}\ncache_alignment\t: {clflush}\n",
        khz / 500,
        (khz / 5) % 100
    );
    if has(0x8000_0008) {
        let sizes = cpuid(0x8000_0008, 0).eax;
        let _ = writeln!(
            text,
            "address sizes\t: {} bits physical, {} bits virtual",
            sizes & 0xff,
            (sizes >> 8) & 0xff
        );
    }
    text.push_str("power management:");
    let power = get(0x8000_0007, 0).edx;
    for bit in 0..32 {
        if power & (1 << bit) == 0 {
            continue;
        }
        match POWER.get(bit) {
            Some(&"") => {}
            Some(name) => {
                text.push(' ');
                text.push_str(name);
            }
            None => {
                let _ = write!(text, " [{bit}]");
            }
        }
    }
    text.push_str("\n\n");
    text
}
