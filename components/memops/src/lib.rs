//! The memory functions the kernel links against: `memcpy`, `memmove`, `memset`, `memcmp`,
//! `bcmp`, plus whole-page zero and copy, in two swappable variants.
//!
//! Rust code (slice copies, struct moves, `[0; N]` initialisers) compiles to calls to these C
//! symbols, so on bare metal someone has to provide them. compiler_builtins ships weak
//! definitions; with the `c-abi` feature this crate exports strong ones that win at link time,
//! which is what makes the variant an A/B-benchmarkable choice in the kernel config.
//!
//! # Variants (Cargo features)
//!
//! | Feature / module | Bulk                                   | Tail (< 8 bytes)          |
//! |------------------|----------------------------------------|---------------------------|
//! | `simple`         | 8-byte word loop (unaligned u64)       | byte loop                 |
//! | `erms`           | `rep movsq` / `rep stosq` (n/8 qwords) | `rep movsb` / `rep stosb` |
//!
//! `memcmp` and `bcmp` are the same word-at-a-time loop in both variants (x86 has no fast
//! `rep cmps`), shared from one private module and re-exported by each variant module.
//!
//! ## Why `erms` is not `rep movsb` throughout
//! On real CPUs with ERMS/FSRM (Enhanced/Fast Short REP MOVSB) a plain `rep movsb` is the
//! fastest copy. But the deterministic benchmark mode runs QEMU with `-icount`, where a
//! `rep movsb` retires one instruction *per byte*: it would look 8x worse than `rep movsq` for
//! reasons that have nothing to do with hardware. So the bulk moves n/8 qwords with
//! `rep movsq`/`rep stosq` and only the < 8 byte tail uses `rep movsb`/`rep stosb`; the page
//! functions are a single `rep stosq`/`rep movsq` with rcx = 512. The host benchmark also times
//! a raw `rep movsb` copy so the ERMS argument can be checked on real hardware.
//!
//! ## The direction flag
//! The kernel runs with DF = 0, and both the SysV ABI and Rust's inline-assembly rules require
//! DF to be clear at every function boundary and on exit from every `asm!` block. Forward copies
//! rely on that. `erms::memmove` with a destination overlapping above its source has to copy
//! backwards: it sets DF (`std`), copies the top tail with `rep movsb` and the qwords below it
//! with `rep movsq`, and clears DF (`cld`) before leaving the block. An interrupt taken inside
//! that window runs with DF = 1, so interrupt entry must not assume DF = 0; LLVM's
//! `x86-interrupt` ABI emits a `cld` in every handler prologue, and hand-written entry stubs
//! must do the same.
//!
//! # Operations
//!
//! Each variant module provides (all `unsafe`: raw pointers with C's contracts):
//!
//! | Function               | Does                                                     |
//! |------------------------|----------------------------------------------------------|
//! | `memcpy(dst, src, n)`  | copy `n` bytes, regions must not overlap; returns `dst`  |
//! | `memmove(dst, src, n)` | copy `n` bytes, regions may overlap; returns `dst`       |
//! | `memset(s, c, n)`      | fill `n` bytes with the low byte of `c`; returns `s`     |
//! | `memcmp(a, b, n)`      | <0 / 0 / >0 by the first differing byte (unsigned)       |
//! | `bcmp(a, b, n)`        | 0 iff the `n` bytes are equal                            |
//! | `zero_page(p)`         | zero 4096 bytes                                          |
//! | `copy_page(dst, src)`  | copy 4096 non-overlapping bytes                          |
//! | `NAME`                 | the variant's name, `"simple"` or `"erms"`               |
//!
//! The crate root also has the safe `zero_page(&mut [u8; 4096])`, `copy_page(&mut [u8; 4096],
//! &[u8; 4096])` and `VARIANT`, all resolving to the active variant; with `c-abi` the C symbols
//! forward to it too. The active variant is `erms` when its feature is on, else `simple`
//! (compiled then even without its feature). That a kernel enables exactly one is not checked
//! here, so that host tests and benches build with both: the kernel's config validation
//! checks it, and its selection point (`variants.rs`) refuses two or none with a
//! `compile_error!`.
//!
//! # Which variant did the kernel get?
//! The kernel proves its choice at run time by printing `tessera_memops::VARIANT` in its boot
//! log, where the benchmark harness can read and check it against the config; the linked code
//! itself can be checked by disassembling the kernel's `memcpy` symbol (`rep movsq` means
//! `erms`). Host builds run a test that `VARIANT` names the active variant.
//!
//! # Adding a variant
//! 1. Add a feature to `Cargo.toml` with a comment saying what the variant does.
//! 2. Write `src/<name>.rs` with the functions of the table above (re-export
//!    `crate::compare::{memcmp, bcmp}` unless the variant has its own) and `pub const NAME`.
//! 3. Declare it below as `#[cfg(feature = "<name>")] pub mod <name>;` and give it its place
//!    in the `use ... as variant` order of `src/active.rs`.
//! 4. Add it to the `variant_suite!` list in `tests/memops.rs` and to `benches/memops.rs`.
//!
//! # Safety and `#![no_builtins]`
//! This crate is part of the platform layer and uses `unsafe`: C-ABI memory functions take raw
//! pointers. Every `unsafe` block carries a `// SAFETY:` comment. The crate is `#![no_builtins]`
//! and its loop-based functions are `#[inline(never)]`, so the compiler cannot turn the
//! implementation of `memcpy` into a call to `memcpy` (reasons at the attribute below).

#![cfg_attr(not(test), no_std)]
// LLVM recognises a byte or word copy loop as "this is memcpy" and replaces it with a call to
// `memcpy` (likewise memset). Inside the functions that *are* memcpy and memset that call would
// be infinite recursion. `no_builtins` tells LLVM that no libc builtins may be assumed here, which
// turns that idiom recognition off for this crate. It only covers code generated *in* this crate:
// rustc may still instantiate small leaf functions inside their callers' crates (automatic
// cross-crate inlining), where the loops would become memset/memcpy calls again. So every
// function built from such a loop (`simple`, `compare`) is `#[inline(never)]`.
#![no_builtins]
#![warn(missing_docs)]

#[cfg(all(feature = "erms", not(target_arch = "x86_64")))]
compile_error!("tessera-memops: the `erms` variant uses x86_64 string instructions");

/// Size in bytes of the pages `zero_page` and `copy_page` work on.
pub const PAGE_SIZE: usize = 4096;

mod compare;

// Compiled with its feature, and without any variant feature (then it is the active one).
#[cfg(any(feature = "simple", not(feature = "erms")))]
pub mod simple;

#[cfg(feature = "erms")]
pub mod erms;

mod active;

pub use active::{VARIANT, copy_page, zero_page};
