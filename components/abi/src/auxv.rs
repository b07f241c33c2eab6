//! Auxiliary vector keys (`include/uapi/linux/auxvec.h`, `arch/x86/include/uapi/asm/auxvec.h`).
//!
//! The auxiliary vector is the list of `(key, value)` pairs the kernel leaves on a new
//! process's stack after the environment pointers, ending with [`AT_NULL`]; libc reads it to
//! find its program headers, the page size, 16 random bytes for its stack protector, etc.

/// End of the vector; its value is ignored.
pub const AT_NULL: u64 = 0;
/// Entry to be ignored.
pub const AT_IGNORE: u64 = 1;
/// File descriptor of the program (binfmt_misc); not used by ELF loading.
pub const AT_EXECFD: u64 = 2;
/// Address of the program headers in memory.
pub const AT_PHDR: u64 = 3;
/// Size of one program header entry.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// System page size.
pub const AT_PAGESZ: u64 = 6;
/// Base address of the ELF interpreter (0 for a static executable).
pub const AT_BASE: u64 = 7;
/// Flags (always 0 on Linux).
pub const AT_FLAGS: u64 = 8;
/// Entry point of the program (after its load bias).
pub const AT_ENTRY: u64 = 9;
/// Program is not ELF.
pub const AT_NOTELF: u64 = 10;
/// Real user id.
pub const AT_UID: u64 = 11;
/// Effective user id.
pub const AT_EUID: u64 = 12;
/// Real group id.
pub const AT_GID: u64 = 13;
/// Effective group id.
pub const AT_EGID: u64 = 14;
/// Address of a NUL-terminated string naming the platform (`"x86_64"`).
pub const AT_PLATFORM: u64 = 15;
/// Machine-dependent CPU capability hints (x86: CPUID leaf 1 EDX).
pub const AT_HWCAP: u64 = 16;
/// Frequency of `times()` ticks (USER_HZ, 100 on Linux).
pub const AT_CLKTCK: u64 = 17;
/// Non-zero when the program runs with elevated privileges (setuid/setgid exec).
pub const AT_SECURE: u64 = 23;
/// Address of a string naming the real platform (not used on x86).
pub const AT_BASE_PLATFORM: u64 = 24;
/// Address of 16 random bytes (stack protector and pointer guard seeds).
pub const AT_RANDOM: u64 = 25;
/// Extension of AT_HWCAP (x86: ring-3 MONITOR/MWAIT, FSGSBASE).
pub const AT_HWCAP2: u64 = 26;
/// rseq: supported feature size.
pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
/// rseq: required alignment of the rseq area.
pub const AT_RSEQ_ALIGN: u64 = 28;
/// Further extension of AT_HWCAP.
pub const AT_HWCAP3: u64 = 29;
/// Further extension of AT_HWCAP.
pub const AT_HWCAP4: u64 = 30;
/// Address of the NUL-terminated path name passed to execve.
pub const AT_EXECFN: u64 = 31;
/// Address of the vDSO ELF image.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// Minimal stack size for signal delivery (x86).
pub const AT_MINSIGSTKSZ: u64 = 51;
