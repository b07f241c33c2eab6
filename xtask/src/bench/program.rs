//! The benchmark program and its initramfs.
//!
//! `userland/bench/{bench.c,cases.c}` become one static executable (`cc -static -O2`, the
//! flags of the userland tests, glibc as Debian ships it) and `exec_target.c` the tiny
//! program fork_exec runs (`-nostdlib`: no libc start-up in the figure). The archive holds
//! them as `/init` and `/bench-exec-target`, plus `/bench-args`: the program's arguments
//! (`quick`, `only=a,b`), read from a file because Tessera starts init without arguments.
//! The same archive boots Tessera and Linux.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cpio::Archive;
use crate::initrd;

/// The two executables.
pub struct Programs {
    pub bench: PathBuf,
    pub exec_target: PathBuf,
}

/// Where the sources are.
pub fn source_dir() -> PathBuf {
    crate::root().join("userland/bench")
}

/// Compiles `sources` into `output` with `flags` (through a temporary file, so a failed
/// build never leaves a binary behind).
fn compile(sources: &[&str], flags: &[&str], output: &Path) -> Result<(), String> {
    let temporary = output.with_extension("tmp");
    let dir = source_dir();
    let result = Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(&temporary)
        .args(sources.iter().map(|s| dir.join(s)))
        .stdout(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "cannot run cc ({e}): the benchmark needs a C compiler with static glibc \
                 (Debian/Ubuntu: apt-get install gcc libc6-dev)"
            )
        })?;
    if !result.status.success() {
        return Err(format!(
            "compiling {} failed:\n{}",
            sources.join(" "),
            String::from_utf8_lossy(&result.stderr)
        ));
    }
    std::fs::rename(&temporary, output).map_err(|e| format!("{}: {e}", output.display()))
}

/// Builds both programs into `target/userland/bench/`.
pub fn build() -> Result<Programs, String> {
    let out = crate::kernel::target_dir().join("userland/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let programs = Programs {
        bench: out.join("bench"),
        exec_target: out.join("bench-exec-target"),
    };
    compile(
        &["bench.c", "cases.c", "net.c"],
        &["-static", "-O2", "-Wall", "-Werror"],
        &programs.bench,
    )?;
    compile(
        &["exec_target.c"],
        &["-static", "-nostdlib", "-O2", "-Wall", "-Werror"],
        &programs.exec_target,
    )?;
    Ok(programs)
}

/// The text of `/bench-args`: `quick` and `only=...` (left out when every benchmark runs).
pub fn args_text(quick: bool, selected: &[&str], everything: bool) -> String {
    let mut words = Vec::new();
    if quick {
        words.push("quick".to_string());
    }
    if !everything {
        words.push(format!("only={}", selected.join(",")));
    }
    words.join(" ") + "\n"
}

/// The archive: the skeleton every initramfs has, the program as `/init`, the exec target
/// and the arguments.
pub fn archive(bench: Vec<u8>, exec_target: Vec<u8>, args: &str) -> Archive {
    let mut archive = Archive::new();
    initrd::skeleton(&mut archive);
    archive
        .file("init", 0o755, bench)
        .file("bench-exec-target", 0o755, exec_target)
        .file("bench-args", 0o644, args.as_bytes().to_vec());
    archive
}

/// Writes `target/initrd/<name>.cpio` for these arguments.
pub fn initrd(name: &str, programs: &Programs, args: &str) -> Result<PathBuf, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    initrd::write(
        name,
        &archive(read(&programs.bench)?, read(&programs.exec_target)?, args),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpio::tests::parse;

    #[test]
    fn arguments_file() {
        assert_eq!(args_text(false, &["getpid", "pipe"], true), "\n");
        assert_eq!(
            args_text(true, &["getpid", "pipe"], false),
            "quick only=getpid,pipe\n"
        );
    }

    #[test]
    fn archive_has_init_target_args_and_console() {
        let archive = archive(b"BENCH".to_vec(), b"EXIT".to_vec(), "quick\n");
        let entries = parse(&archive.to_bytes());
        let get = |n: &str| entries.iter().find(|e| e.name == n).unwrap();
        assert_eq!(get("init").data, b"BENCH");
        assert_eq!(get("init").mode, 0o100755);
        assert_eq!(get("bench-exec-target").data, b"EXIT");
        assert_eq!(get("bench-args").data, b"quick\n");
        assert_eq!(get("dev/console").rdev, (5, 1));
    }

    /// The paths the C program uses are the ones packed here.
    #[test]
    fn c_paths_match_the_archive() {
        let header = std::fs::read_to_string(source_dir().join("bench.h")).unwrap();
        assert!(header.contains("#define EXEC_TARGET \"/bench-exec-target\""));
        let main = std::fs::read_to_string(source_dir().join("bench.c")).unwrap();
        assert!(main.contains("open(\"/bench-args\""));
    }
}
