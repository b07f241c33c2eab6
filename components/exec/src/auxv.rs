//! The caller's part of the auxiliary vector for an executable.

use alloc::vec::Vec;
use tessera_abi::auxv::{
    AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2,
    AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_SECURE, AT_UID,
};
use tessera_abi::time::USER_HZ;

use crate::{LoadPlan, PAGE_SIZE};

/// The user and group ids the new program runs with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Real user id.
    pub uid: u32,
    /// Effective user id.
    pub euid: u32,
    /// Real group id.
    pub gid: u32,
    /// Effective group id.
    pub egid: u32,
}

/// The auxv pairs [`crate::build_stack`] expects from its caller, for `plan`: `AT_PHDR`,
/// `AT_PHENT`, `AT_PHNUM`, `AT_PAGESZ`, `AT_ENTRY` (the program's entry, also when the
/// interpreter is entered first), `AT_BASE` (`interp_base`: where the ELF interpreter was
/// placed, 0 without one), `AT_FLAGS` (0), the four ids, `AT_SECURE`, `AT_HWCAP`,
/// `AT_HWCAP2` and `AT_CLKTCK`.
///
/// `AT_SECURE` is 1 when real and effective ids differ (a setuid/setgid exec, the case
/// where Linux sets it without an LSM). `hwcap` is CPUID leaf 1 EDX on x86; `hwcap2`
/// Linux's `elf_hwcap2` (bit 1, `HWCAP2_FSGSBASE`, when the kernel lets user space use the
/// FSGSBASE instructions). There is no
/// `AT_SYSINFO_EHDR` (no vDSO: libc falls back to real syscalls) and no `AT_MINSIGSTKSZ`
/// (libc then assumes its built-in minimum signal stack size).
pub fn elf_auxv(
    plan: &LoadPlan,
    interp_base: u64,
    ids: Credentials,
    hwcap: u64,
    hwcap2: u64,
) -> Vec<(u64, u64)> {
    let secure = ids.uid != ids.euid || ids.gid != ids.egid;
    Vec::from([
        (AT_PHDR, plan.phdr_addr),
        (AT_PHENT, u64::from(plan.phentsize)),
        (AT_PHNUM, u64::from(plan.phnum)),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_ENTRY, plan.entry),
        (AT_BASE, interp_base),
        (AT_FLAGS, 0),
        (AT_UID, u64::from(ids.uid)),
        (AT_EUID, u64::from(ids.euid)),
        (AT_GID, u64::from(ids.gid)),
        (AT_EGID, u64::from(ids.egid)),
        (AT_SECURE, u64::from(secure)),
        (AT_HWCAP, hwcap),
        (AT_HWCAP2, hwcap2),
        (AT_CLKTCK, USER_HZ),
    ])
}
