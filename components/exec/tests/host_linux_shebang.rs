//! Differential tests against the host Linux kernel (x86_64 Linux hosts with a C compiler;
//! otherwise each test prints why it is skipped and passes): `#!` scripts.
//!
//! The statically linked probe (`tests/c/probe.c`) serves as interpreter and prints the argv
//! it receives. For hand-picked and random `#!` lines, `parse_shebang` + `script_argv` must
//! predict whether Linux refuses the script (ENOEXEC), fails on the interpreter path, or runs
//! it, and with exactly which argv.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod support;

use proptest::prelude::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use support::probe::{parse_report, probe};
use tessera_exec::{parse_shebang, script_argv};

const ENOEXEC: i32 = 8;

/// Linux's verdict on a script: its argv if it ran the probe, else the errno.
fn linux_runs_script(dir: &Path, name: &str, contents: &[u8]) -> Result<Vec<Vec<u8>>, i32> {
    let script = dir.join(name);
    std::fs::write(&script, contents).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = Command::new(&script);
    cmd.arg0("ARGV0").args(["x1", "x 2"]).env_clear();
    let result = support::output_retrying(&mut cmd);
    std::fs::remove_file(&script).unwrap();
    match result {
        Ok(out) => {
            assert!(out.status.success(), "{out:?}");
            Ok(parse_report(&out.stdout)
                .args
                .into_iter()
                .map(|(_, s)| s)
                .collect())
        }
        Err(e) => Err(e.raw_os_error().unwrap()),
    }
}

/// Checks our prediction for one script against what Linux does with it.
fn agree_with_linux(probe: &Path, dir: &Path, name: &str, contents: &[u8]) {
    let linux = linux_runs_script(dir, name, contents);
    let script_path = dir.join(name);
    let script_path = script_path.as_os_str().as_bytes();
    match parse_shebang(contents) {
        None => assert_eq!(
            linux,
            Err(ENOEXEC),
            "{:?}",
            String::from_utf8_lossy(contents)
        ),
        Some(sb) if sb.interpreter == probe.as_os_str().as_bytes() => {
            let expected = script_argv(&sb, script_path, &[b"ARGV0", b"x1", b"x 2"]);
            assert_eq!(
                linux,
                Ok(expected.iter().map(|s| s.to_vec()).collect()),
                "{:?}",
                String::from_utf8_lossy(contents)
            );
        }
        // Another interpreter path that happens to exist (a prefix of the probe's path
        // can be a directory or another file): what Linux does then depends on that file.
        Some(sb) if Path::new(OsStr::from_bytes(sb.interpreter)).is_file() => {}
        // Another interpreter path: Linux accepted the line and failed to find or run it.
        Some(sb) => assert!(
            matches!(linux, Err(errno) if errno != ENOEXEC),
            "{:?}: predicted interpreter {:?}, Linux {linux:?}",
            String::from_utf8_lossy(contents),
            String::from_utf8_lossy(sb.interpreter)
        ),
    }
}

#[test]
fn shebang_cases_match_linux() {
    let Some(probe) = probe("-static") else {
        return;
    };
    let dir = support::TempDir::new("sb-cases");
    let p = probe.to_str().unwrap();
    let long_arg = "a".repeat(300);
    let cases: Vec<String> = vec![
        format!("#!{p}\necho"),
        format!("#!{p} -e\n"),
        format!("#!  {p}  -e -x  \n"),
        format!("#!\t{p}\targ\twith\ttabs\t\n"),
        format!("#!{p}\r\n"),
        format!("#!{p}"),
        format!("#!{p} -x"),
        format!("#!{p} {long_arg}"),
        format!("#!{p} {long_arg}\n"),
        format!("#!{p}\0 ignored\n"),
        format!("#!{p} -a\0b\n"),
        format!("#!{p} \0x\n"),
        format!("#!{p}{long_arg}\n"),
        format!("#!/{long_arg}\n"),
        "#!".to_string(),
        "#!\n".to_string(),
        "#!   \n".to_string(),
        "#! \t".to_string(),
        "#!\0\n".to_string(),
        "# !/bin/sh\n".to_string(),
        "echo hi\n".to_string(),
    ];
    for (i, case) in cases.iter().enumerate() {
        agree_with_linux(probe, &dir.0, &format!("s{i}"), case.as_bytes());
    }
    // The 256-byte buffer edge: the newline at index 254, 255, 256 and 257.
    for newline_at in 254..258 {
        let pad = newline_at - 3 - p.len();
        let case = format!("#!{p} {}\n", "b".repeat(pad));
        assert_eq!(case.as_bytes()[newline_at], b'\n');
        agree_with_linux(probe, &dir.0, &format!("edge{newline_at}"), case.as_bytes());
    }
}

fn arb_line(probe: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop_oneof![6 => Just(&b"#!"[..]), 1 => Just(&b"#"[..]), 1 => Just(&b""[..])];
    let blanks = proptest::collection::vec(prop_oneof![Just(b' '), Just(b'\t')], 0..4);
    let interp = prop_oneof![4 => Just(probe.len()), 1 => 0..probe.len()];
    let tail_byte = prop_oneof![4 => Just(b'a'), 2 => Just(b' '), 1 => Just(b'\t'), 1 => Just(b'-'), 1 => Just(0u8), 1 => Just(b'\n'), 1 => Just(b'\r')];
    let tail = proptest::collection::vec(tail_byte, 0..300);
    (prefix, blanks, interp, tail).prop_map(move |(prefix, blanks, cut, tail)| {
        let mut line = prefix.to_vec();
        line.extend(blanks);
        line.extend_from_slice(&probe.as_bytes()[..cut]);
        line.extend(tail);
        line
    })
}

#[test]
fn random_shebang_lines_match_linux() {
    let Some(probe) = probe("-static") else {
        return;
    };
    let dir = support::TempDir::new("sb-random");
    let probe_str: &'static str = probe.to_str().unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let counter = std::cell::Cell::new(0);
    runner
        .run(&arb_line(probe_str), |line| {
            counter.set(counter.get() + 1);
            agree_with_linux(probe, &dir.0, &format!("r{}", counter.get()), &line);
            Ok(())
        })
        .unwrap();
}
