//! `parse_shebang` and `script_argv` by example. Each expectation is Linux's behaviour; the
//! same kinds of lines are run through the host kernel in host_linux.rs.

use tessera_exec::{BINPRM_BUF_SIZE, Shebang, parse_shebang, script_argv};

fn parsed(head: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    parse_shebang(head).map(|sb| (sb.interpreter, sb.optional_arg))
}

#[test]
fn interpreter_and_optional_argument() {
    assert_eq!(
        parsed(b"#!/bin/sh\necho hi\n"),
        Some((&b"/bin/sh"[..], None))
    );
    assert_eq!(
        parsed(b"#!/bin/sh -e\n"),
        Some((&b"/bin/sh"[..], Some(&b"-e"[..])))
    );
    // One argument: the rest of the line, inner blanks kept, outer blanks trimmed.
    assert_eq!(
        parsed(b"#!  /bin/sh  -e -x  \n"),
        Some((&b"/bin/sh"[..], Some(&b"-e -x"[..])))
    );
    assert_eq!(
        parsed(b"#!\t/usr/bin/env\tpython3 -u\t\n"),
        Some((&b"/usr/bin/env"[..], Some(&b"python3 -u"[..])))
    );
}

#[test]
fn carriage_return_is_not_blank() {
    assert_eq!(parsed(b"#!/bin/sh\r\n"), Some((&b"/bin/sh\r"[..], None)));
    assert_eq!(
        parsed(b"#!/bin/sh -e\r\n"),
        Some((&b"/bin/sh"[..], Some(&b"-e\r"[..])))
    );
}

#[test]
fn file_without_newline() {
    // Short file: NUL padding ends the names.
    assert_eq!(parsed(b"#!/bin/sh"), Some((&b"/bin/sh"[..], None)));
    assert_eq!(
        parsed(b"#!/bin/sh -x"),
        Some((&b"/bin/sh"[..], Some(&b"-x"[..])))
    );
}

#[test]
fn only_the_first_256_bytes_count() {
    // The argument is cut at byte 255 when no newline is in the buffer...
    let mut long = b"#!/bin/sh ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 300));
    long.push(b'\n');
    let (interp, arg) = parsed(&long).unwrap();
    assert_eq!(interp, b"/bin/sh");
    assert_eq!(arg.unwrap().len(), BINPRM_BUF_SIZE - 1 - 10);
    // ... and the same line given as just its first 256 bytes parses the same.
    assert_eq!(parsed(&long[..BINPRM_BUF_SIZE]), parsed(&long));
    // A newline at index 255 is inside the buffer; the argument ends before it.
    let mut edge = b"#!/bin/sh ".to_vec();
    edge.extend(std::iter::repeat_n(b'b', 245));
    edge.push(b'\n');
    assert_eq!(edge.len(), BINPRM_BUF_SIZE);
    assert_eq!(parsed(&edge).unwrap().1.unwrap().len(), 245);
}

#[test]
fn truncated_interpreter_is_refused() {
    // No blank, NUL or newline after the name inside the buffer: it may be cut short.
    let mut long = b"#!/".to_vec();
    long.extend(std::iter::repeat_n(b'a', 300));
    assert_eq!(parsed(&long), None);
    long.push(b'\n');
    assert_eq!(parsed(&long), None);
    // With a newline inside the buffer the (long) name is complete.
    assert_eq!(
        parsed(
            &long[..200]
                .iter()
                .copied()
                .chain(*b"\n")
                .collect::<Vec<u8>>()
        )
        .unwrap()
        .0
        .len(),
        198
    );
}

#[test]
fn not_scripts_and_empty_lines() {
    for head in [
        &b""[..],
        b"#",
        b"# !/bin/sh\n",
        b"!#/bin/sh\n",
        b"\x7fELF",
        b"#!\n",
        b"#!   \n",
        b"#! \t \n",
    ] {
        assert_eq!(parsed(head), None, "{:?}", String::from_utf8_lossy(head));
    }
}

#[test]
fn nul_bytes_end_names_like_c_strings() {
    assert_eq!(parsed(b"#!/bin/s\0h\n"), Some((&b"/bin/s"[..], None)));
    assert_eq!(
        parsed(b"#!/bin/sh -a\0b\n"),
        Some((&b"/bin/sh"[..], Some(&b"-a"[..])))
    );
    // A NUL right where a name starts gives an empty one, which Linux keeps: an empty
    // argument is passed, an empty interpreter fails its path lookup (ENOENT).
    assert_eq!(
        parsed(b"#!/bin/sh \0x\n"),
        Some((&b"/bin/sh"[..], Some(&b""[..])))
    );
    assert_eq!(parsed(b"#!\0\n"), Some((&b""[..], None)));
    assert_eq!(parsed(b"#!"), Some((&b""[..], None)));
    assert_eq!(parsed(b"#! \t"), Some((&b""[..], None)));
}

#[test]
fn argv_rewrite() {
    let sb = Shebang {
        interpreter: b"/bin/sh",
        optional_arg: Some(b"-e"),
    };
    let argv: [&[u8]; 3] = [b"whatever-argv0", b"x", b"y"];
    assert_eq!(
        script_argv(&sb, b"./run.sh", &argv),
        [&b"/bin/sh"[..], b"-e", b"./run.sh", b"x", b"y"]
    );
    let bare = Shebang {
        interpreter: b"/bin/sh",
        optional_arg: None,
    };
    assert_eq!(
        script_argv(&bare, b"/s", &argv[..1]),
        [&b"/bin/sh"[..], b"/s"]
    );
    assert_eq!(script_argv(&bare, b"/s", &[]), [&b"/bin/sh"[..], b"/s"]);
}
