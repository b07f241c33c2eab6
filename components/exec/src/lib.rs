//! The pure part of `execve`: what to map for an ELF executable and its ELF interpreter, how a `#!` script
//! turns into its interpreter's command line, and the bytes of the new process's initial
//! stack.
//!
//! Nothing here touches memory, files or processes: the kernel reads the file, maps and
//! copies; this crate decides what to map and what the stack holds, so all of it is
//! tested on the host (against real static binaries and the host Linux kernel's own
//! behaviour where one is available).
//!
//! | operation | what it does |
//! |---|---|
//! | [`parse_elf`]`(image, pie_base)` | checks an ELF64 x86_64 executable (`ET_EXEC`, static or dynamic PIE) or ELF interpreter and returns its [`LoadPlan`]: entry, load bias, [`Segment`]s to map, `AT_PHDR`/`AT_PHNUM`/`AT_PHENT`, initial brk, executable-stack bit, TLS template, where `PT_INTERP` names the interpreter ([`InterpRef`]); ENOEXEC for anything malformed |
//! | [`interpreter_path`]`(bytes)` | the interpreter's path from the `PT_INTERP` bytes |
//! | [`LoadPlan::span`] | the bytes an `ET_DYN` image covers, to find room for an interpreter |
//! | [`Segment::file_bytes`]`(image)` | the file bytes one segment copies to its start |
//! | [`parse_shebang`]`(head)` | recognises `#!interpreter [arg]` with Linux's rules ([`Shebang`]) |
//! | [`script_argv`]`(shebang, path, argv)` | the interpreter's argv: `[interp, arg?, path, argv[1..]...]` |
//! | [`elf_auxv`]`(plan, interp_base, ids, hwcap, hwcap2)` | the caller's auxv pairs for a [`LoadPlan`] |
//! | [`build_stack`]`(top, argv, envp, execfn, auxv, random, platform)` | the initial stack image ([`StackImage`]): argc, argv, envp, auxv, strings, `AT_RANDOM` bytes, `AT_PLATFORM`, `AT_EXECFN`, rsp 16-byte aligned; E2BIG past [`MAX_ARG_TOTAL`] |
//!
//! # How the kernel uses it
//!
//! ```text
//! execve(path, argv, envp):
//!   head = first 256 bytes of the file at path
//!   if let Some(sb) = parse_shebang(head):          // at most MAX_INTERPRETER_DEPTH times
//!       argv = script_argv(&sb, path, argv); file = sb.interpreter; start over
//!   plan = parse_elf(whole file, DEFAULT_PIE_BASE)?  // ENOEXEC: not runnable
//!   new address space; for seg in plan.segments:
//!       map [seg.start, seg.end) zeroed with seg.prot (writable while copying)
//!       copy seg.file_bytes(file) to seg.start
//!   if let Some(i) = plan.interpreter:                 // a dynamically linked program
//!       ld = the file at interpreter_path(file[i.file_offset..][..i.size])?
//!       base = a free range of parse_elf(ld, any base)?.span() bytes
//!       interp = parse_elf(ld, base)?; map its segments as above
//!       enter at interp.entry instead of plan.entry; interp_base = interp.load_bias
//!   map the stack below STACK_TOP (plan.stack_executable says whether PROT_EXEC)
//!   auxv  = elf_auxv(&plan, interp_base or 0, ids, cpuid_1_edx, hwcap2)
//!   stack = build_stack(STACK_TOP, argv, envp, path, &auxv, random16, b"x86_64")?
//!   copy stack.bytes to stack.start; brk = plan.brk
//!   enter user mode at plan.entry with rsp = stack.start, rdx = 0 (no atexit hook),
//!   all other registers zero
//! ```
//!
//! Everything that can fail (E2BIG, ENOEXEC) fails before the old address space is
//! dropped, so the kernel can call these first and only then commit.
//!
//! # ELF decoding: the `elf` crate
//!
//! Headers are decoded with [`elf`] 0.8 (`default-features = false`): no_std and
//! allocation-free, safe Rust only, no dependencies, fuzz-tested upstream for panics, and it
//! builds on stable for `x86_64-unknown-none`. Only its header and program header decoders
//! are used (`parse_ident`, `FileHeader::parse_tail`, `SegmentTable`): loading, like Linux,
//! never reads section headers. `object` (already in the workspace) would do too but is a
//! far larger crate for the same two tables; `xmas-elf` reinterprets the bytes in place
//! (through the `zero` crate, unsafe inside) and has had panics on truncated files. The
//! crate only decodes: every check that makes a file loadable is ours, in [`parse_elf`],
//! and `tests/malformed.rs` feeds it random and mutated images.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod auxv;
mod load;
mod segment;
mod shebang;
mod stack;

pub use auxv::{Credentials, elf_auxv};
pub use load::{
    ElfKind, INTERP_MAX, InterpRef, LoadPlan, PHDR_SIZE, TlsTemplate, interpreter_path, parse_elf,
    parse_elf_prefix,
};
pub use segment::{Prot, Segment};
pub use shebang::{MAX_INTERPRETER_DEPTH, Shebang, parse_shebang, script_argv};
pub use stack::{MAX_ARG_TOTAL, StackImage, build_stack};
/// Linux's limits on the bytes of a file `execve` looks at and on one argument string
/// (defined in `tessera-abi`).
pub use tessera_abi::process::{BINPRM_BUF_SIZE, MAX_ARG_STRLEN};

/// Page size of the user address space; segments are mapped in whole pages.
pub const PAGE_SIZE: u64 = 4096;

/// End of the user address space (Linux's `TASK_SIZE_MAX`): no segment may reach past it.
/// The kernel half starts at `0x0000_8000_0000_0000`; Linux keeps the last user page
/// unmapped too, because `sysret` to a non-canonical successor address faults in ring 0 on
/// Intel CPUs.
pub const USER_TOP: u64 = 0x0000_7fff_ffff_f000;

/// Lowest address a segment may start at (Linux's default `vm.mmap_min_addr`), so that a
/// NULL pointer dereference in the kernel or the program always faults.
pub const MIN_USER_ADDR: u64 = 0x1_0000;

/// Suggested `pie_base` for [`parse_elf`]: where Linux places a PIE when address
/// randomisation is off (`ELF_ET_DYN_BASE`, two thirds of the user address space, as seen
/// in gdb: `0x555555554000`). Far from both the usual `ET_EXEC` address (`0x400000`) and
/// the stack at the top.
pub const DEFAULT_PIE_BASE: u64 = 0x0000_5555_5555_4000;

/// `addr` rounded down to a page boundary.
pub(crate) const fn page_down(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

/// `addr` rounded up to a page boundary, or `None` if that overflows.
pub(crate) const fn page_up(addr: u64) -> Option<u64> {
    match addr.checked_add(PAGE_SIZE - 1) {
        Some(sum) => Some(page_down(sum)),
        None => None,
    }
}
