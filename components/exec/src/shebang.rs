//! `#!` scripts, parsed by the rules of Linux's `fs/binfmt_script.c` (5.0 and later).
//!
//! The kernel reads the first [`BINPRM_BUF_SIZE`] bytes of the file. If they start with
//! `#!`, the rest of the first line names an interpreter and at most one argument, and the
//! program actually started is the interpreter with the argument vector from
//! [`script_argv`]. The rules, bit for bit as Linux:
//! - Only the first line counts, and only its part inside the 256-byte buffer. A line with
//!   no newline in the buffer is cut at byte 255, but only if the interpreter name is
//!   visibly complete (followed by a space, tab or NUL); otherwise the script is refused
//!   rather than run with a truncated interpreter path.
//! - Spaces and tabs (not `\r`) before the interpreter and at the end of the line are
//!   trimmed.
//! - The interpreter name ends at the first space, tab or NUL; everything after the next
//!   non-blank byte is one single argument, inner blanks included (`#!/bin/sh -e -x` gives
//!   the argument `-e -x`). Both end at a NUL byte, being C strings in Linux.
//! - A file shorter than the buffer reads as if padded with NUL bytes.

use alloc::vec::Vec;
use tessera_abi::process::BINPRM_BUF_SIZE;

/// How many interpreters may be stacked (a script whose interpreter is a script, ...)
/// before Linux's execve fails with ELOOP (`BINPRM_MAX_RECURSION`).
pub const MAX_INTERPRETER_DEPTH: usize = 4;

/// The interpreter line of a `#!` script; both parts borrow from the bytes given to
/// [`parse_shebang`], and neither contains a NUL byte.
///
/// Either part is empty only when a NUL byte sits right where it starts. Linux keeps those
/// as they are (the path lookup of an empty interpreter then fails with ENOENT; an empty
/// argument is passed), and so does this parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shebang<'a> {
    /// Path of the interpreter to execute instead of the script.
    pub interpreter: &'a [u8],
    /// The one optional argument: the rest of the line after the interpreter.
    pub optional_arg: Option<&'a [u8]>,
}

/// Parses the head of a file as a `#!` script.
///
/// `head` is the start of the file; bytes past [`BINPRM_BUF_SIZE`] are ignored and a
/// shorter head reads as NUL-padded, so passing the whole file or its first 256 bytes gives
/// the same answer. `None` means "not a script" or "a script Linux refuses" (no interpreter
/// name, or one cut off by the buffer end): either way execve fails with ENOEXEC.
pub fn parse_shebang(head: &[u8]) -> Option<Shebang<'_>> {
    let buf = Buf(head);
    if buf.at(0) != b'#' || buf.at(1) != b'!' {
        return None;
    }
    // Index of the last byte of the buffer; inclusive bounds below mirror the C code.
    let buf_end = BINPRM_BUF_SIZE - 1;
    let mut i_end = match (0..BINPRM_BUF_SIZE).find(|&i| buf.at(i) == b'\n') {
        Some(newline) => newline,
        None => {
            // No newline: refuse if the interpreter name may run past the buffer.
            let first = buf.next_non_blank(2, buf_end)?;
            buf.next_terminator(first, buf_end)?;
            buf_end
        }
    };
    // Trim trailing blanks. Stops at the '!' of "#!" at the latest, so i_end stays >= 2.
    while is_blank(buf.at(i_end - 1)) {
        i_end -= 1;
    }
    let i_name = buf.next_non_blank(2, i_end)?;
    if i_name == i_end {
        return None;
    }
    let i_sep = buf.next_terminator(i_name, i_end);
    let i_arg = match i_sep {
        Some(sep) if buf.at(sep) != 0 => buf.next_non_blank(sep, i_end),
        _ => None,
    };
    // Linux writes NULs at i_end and i_sep and uses C strings from i_name and i_arg.
    let interpreter = buf.c_str(i_name, i_sep.unwrap_or(i_end))?;
    let optional_arg = match i_arg {
        Some(arg) => Some(buf.c_str(arg, i_end)?),
        None => None,
    };
    Some(Shebang {
        interpreter,
        optional_arg,
    })
}

/// The argument vector the interpreter receives: `[interpreter, arg?, script_path,
/// argv[1..]...]`.
///
/// `script_path` is the path given to execve (Linux's `bprm->filename`), which replaces the
/// script's own `argv[0]`. The kernel then execs `shebang.interpreter` with this vector and
/// the unchanged environment; `AT_EXECFN` stays the script's path.
pub fn script_argv<'a>(
    shebang: &Shebang<'a>,
    script_path: &'a [u8],
    argv: &[&'a [u8]],
) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(argv.len() + 2);
    out.push(shebang.interpreter);
    out.extend(shebang.optional_arg);
    out.push(script_path);
    out.extend(argv.iter().skip(1).copied());
    out
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// The file head seen as Linux's zero-padded `bprm->buf`.
struct Buf<'a>(&'a [u8]);

impl<'a> Buf<'a> {
    fn at(&self, i: usize) -> u8 {
        if i < BINPRM_BUF_SIZE {
            self.0.get(i).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// First index in `first..=last` that is not a space or tab (`next_non_spacetab`).
    fn next_non_blank(&self, first: usize, last: usize) -> Option<usize> {
        (first..=last).find(|&i| !is_blank(self.at(i)))
    }

    /// First index in `first..=last` holding a space, tab or NUL (`next_terminator`).
    fn next_terminator(&self, first: usize, last: usize) -> Option<usize> {
        (first..=last).find(|&i| is_blank(self.at(i)) || self.at(i) == 0)
    }

    /// The C string starting at `from`, cut at `end` or at the first NUL before it. Bytes
    /// past the real head are NUL, so the result always lies inside the head.
    fn c_str(&self, from: usize, end: usize) -> Option<&'a [u8]> {
        let nul = (from..end).find(|&i| self.at(i) == 0).unwrap_or(end);
        self.0.get(from..nul)
    }
}
