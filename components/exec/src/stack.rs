//! The initial process stack: argc, argv, envp and the auxiliary vector, laid out as Linux's
//! `create_elf_tables` does on x86_64 (with stack randomisation off).
//!
//! From `stack_top` down:
//!
//! ```text
//! stack_top ->  8 zero bytes
//!               execfn string                      <- AT_EXECFN
//!               envp strings (envp[0] lowest)      <- env_start .. env_end
//!               argv strings (argv[0] lowest)      <- arg_start .. arg_end
//!               0..15 bytes, to a 16-byte boundary
//!               platform string                    <- AT_PLATFORM
//!               16 random bytes                    <- AT_RANDOM
//!               0..15 bytes, so that rsp is 16-byte aligned
//!               auxv pairs ..., AT_NULL 0
//!               NULL, envp pointers
//!               NULL, argv pointers
//! rsp ->        argc
//! ```

use alloc::vec;
use alloc::vec::Vec;
use tessera_abi::auxv::{AT_EXECFN, AT_NULL, AT_PLATFORM, AT_RANDOM};
use tessera_abi::process::MAX_ARG_STRLEN;
use tessera_abi::{Errno, KResult};

/// Most bytes the strings (argv, envp and the execfn path, NULs included) and the argv and
/// envp pointers may take together. Linux allows a quarter of the stack rlimit, which is
/// 2 MiB with the default 8 MiB limit; Tessera fixes it there.
pub const MAX_ARG_TOTAL: usize = 2 * 1024 * 1024;

/// The bytes to copy to the top of a new process's stack, and where things landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    /// The image: `bytes[0]` goes at `start`, the last byte at `stack_top - 1`.
    pub bytes: Vec<u8>,
    /// The initial `rsp`: 16-byte aligned, pointing at argc.
    pub start: u64,
    /// First byte of the argv strings (Linux's `mm->arg_start`, for `/proc/<pid>/cmdline`).
    pub arg_start: u64,
    /// End of the argv strings (`mm->arg_end`).
    pub arg_end: u64,
    /// First byte of the envp strings (`mm->env_start`, for `/proc/<pid>/environ`).
    pub env_start: u64,
    /// End of the envp strings (`mm->env_end`).
    pub env_end: u64,
}

/// Builds the initial stack image of a process whose stack ends at `stack_top`.
///
/// `argv`, `envp`, `execfn` (the path given to execve) and `platform` (`b"x86_64"`, or empty
/// for no `AT_PLATFORM`) are strings without their NUL; `auxv` holds the caller's pairs
/// (`AT_PHDR`, `AT_PHENT`, `AT_PHNUM`, `AT_PAGESZ`, `AT_ENTRY`, ... see
/// [`crate::elf_auxv`]). This function adds `AT_RANDOM` (pointing at `random`),
/// `AT_EXECFN`, `AT_PLATFORM` and the final `AT_NULL`, all pointing into the image.
///
/// An empty `argv` becomes `[""]`, as Linux (5.18 and later) does so that no program sees
/// `argc == 0`.
///
/// Errors:
/// - E2BIG if one string is longer than [`MAX_ARG_STRLEN`] or all of them together with
///   the argv/envp pointers exceed [`MAX_ARG_TOTAL`].
/// - EINVAL if `stack_top` is not 16-byte aligned, a string contains a NUL byte, or `auxv`
///   holds a key this function fills in itself (`AT_NULL`, `AT_RANDOM`, `AT_EXECFN`,
///   `AT_PLATFORM`).
/// - ENOMEM if the image would extend below address 0.
pub fn build_stack(
    stack_top: u64,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    auxv: &[(u64, u64)],
    random: [u8; 16],
    platform: &[u8],
) -> KResult<StackImage> {
    let argv: &[&[u8]] = if argv.is_empty() { &[b""] } else { argv };
    check_inputs(stack_top, argv, envp, execfn, auxv, platform)?;
    let low = |addr: u64, len: usize| addr.checked_sub(len as u64).ok_or(Errno::ENOMEM);

    // Strings, from the top down, like Linux's copy_strings (which copies the last first).
    let execfn_addr = low(stack_top - 8, execfn.len() + 1)?;
    let env_addrs = string_addrs(execfn_addr, envp)?;
    let env_start = env_addrs.first().copied().unwrap_or(execfn_addr);
    let arg_addrs = string_addrs(env_start, argv)?;
    let arg_start = arg_addrs.first().copied().unwrap_or(env_start);

    // arch_align_stack without the random offset, then platform string and random bytes.
    let mut p = arg_start & !15;
    let platform_addr = if platform.is_empty() {
        None
    } else {
        p = low(p, platform.len() + 1)?;
        Some(p)
    };
    let random_addr = low(p, random.len())?;

    let mut pairs = Vec::with_capacity(auxv.len() + 4);
    pairs.extend_from_slice(auxv);
    pairs.push((AT_RANDOM, random_addr));
    pairs.push((AT_EXECFN, execfn_addr));
    pairs.extend(platform_addr.map(|addr| (AT_PLATFORM, addr)));
    pairs.push((AT_NULL, 0));

    // argc, argv pointers and NULL, envp pointers and NULL, then the auxv words; rounded
    // down so that rsp is 16-byte aligned (STACK_ROUND).
    let words = 1 + (argv.len() + 1) + (envp.len() + 1) + 2 * pairs.len();
    let rsp = low(random_addr, 8 * words)? & !15;

    let mut image = Image {
        base: rsp,
        bytes: vec![0; (stack_top - rsp) as usize],
    };
    let mut at = rsp;
    image.word(&mut at, argv.len() as u64);
    for &addr in arg_addrs.iter().chain(&[0]).chain(&env_addrs).chain(&[0]) {
        image.word(&mut at, addr);
    }
    for &(key, value) in &pairs {
        image.word(&mut at, key);
        image.word(&mut at, value);
    }
    image.put(random_addr, &random);
    if let Some(addr) = platform_addr {
        image.put(addr, platform);
    }
    for (&addr, s) in arg_addrs.iter().zip(argv).chain(env_addrs.iter().zip(envp)) {
        image.put(addr, s);
    }
    image.put(execfn_addr, execfn);

    Ok(StackImage {
        bytes: image.bytes,
        start: rsp,
        arg_start,
        arg_end: env_start,
        env_start,
        env_end: execfn_addr,
    })
}

/// The size limits and the rules on NULs and reserved auxv keys.
fn check_inputs(
    stack_top: u64,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    auxv: &[(u64, u64)],
    platform: &[u8],
) -> KResult<()> {
    if !stack_top.is_multiple_of(16) || stack_top < 8 {
        return Err(Errno::EINVAL);
    }
    let strings = || argv.iter().chain(envp).copied().chain([execfn]);
    if strings().chain([platform]).any(|s| s.contains(&0)) {
        return Err(Errno::EINVAL);
    }
    let reserved = [AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM];
    if auxv.iter().any(|(key, _)| reserved.contains(key)) {
        return Err(Errno::EINVAL);
    }
    if strings().any(|s| s.len() + 1 > MAX_ARG_STRLEN) {
        return Err(Errno::E2BIG);
    }
    // Linux charges the pointers against the same budget (bprm_stack_limits).
    let pointers = 8 * (argv.len() + envp.len());
    let total = strings().fold(pointers, |sum, s| sum.saturating_add(s.len() + 1));
    if total > MAX_ARG_TOTAL {
        return Err(Errno::E2BIG);
    }
    Ok(())
}

/// Addresses of `strings` packed (with NULs) in ascending order so that the last one ends
/// at `top`.
fn string_addrs(top: u64, strings: &[&[u8]]) -> KResult<Vec<u64>> {
    let mut addrs = vec![0; strings.len()];
    let mut p = top;
    for (addr, s) in addrs.iter_mut().zip(strings).rev() {
        p = p.checked_sub(s.len() as u64 + 1).ok_or(Errno::ENOMEM)?;
        *addr = p;
    }
    Ok(addrs)
}

/// The image being filled: `bytes[0]` is at address `base`. Every address written to was
/// computed above inside `[base, stack_top)`, and the bytes start zeroed, so NULs, NULL
/// pointers and padding need no writes.
struct Image {
    base: u64,
    bytes: Vec<u8>,
}

impl Image {
    fn put(&mut self, addr: u64, data: &[u8]) {
        let offset = (addr - self.base) as usize;
        self.bytes[offset..offset + data.len()].copy_from_slice(data);
    }

    /// Stores a little-endian word at `*at` and advances it.
    fn word(&mut self, at: &mut u64, value: u64) {
        self.put(*at, &value.to_le_bytes());
        *at += 8;
    }
}
