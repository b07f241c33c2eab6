//! The userland test programs: `userland/tests/*.c` compiled by the host's C compiler into
//! static Linux executables under `target/userland/bin/`.
//!
//! Each `.c` file is one program (`runner.c` is the conformance `/init`, the others are the
//! tests it runs); the headers next to them are shared. A program is rebuilt when its
//! source, any header or this file (the flags) is newer than its binary. The flags are
//! fixed: `cc -static -O2 -s -Wall -Werror` against glibc, so the binaries are the same
//! kind Debian ships (stripped, as Debian's are).
//!
//! A missing `cc` is installed as root through apt-get (`gcc libc6-dev`); otherwise the
//! error says what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::busybox;

/// The program that runs the others (`/init` of the conformance initramfs).
pub const RUNNER: &str = "runner";

/// One built program.
#[derive(Clone, Debug)]
pub struct Program {
    /// The file stem of its source (`files` for `files.c`).
    pub name: String,
    /// The static executable.
    pub path: PathBuf,
}

/// Every program, built.
pub struct Programs {
    /// `runner`, the conformance `/init`.
    pub runner: Program,
    /// The test programs, sorted by name (the order the runner uses).
    pub tests: Vec<Program>,
}

/// Where the sources are.
pub fn source_dir() -> PathBuf {
    crate::root().join("userland/tests")
}

/// Where the binaries go.
pub fn bin_dir() -> PathBuf {
    crate::kernel::target_dir().join("userland/bin")
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `output` must be rebuilt from `inputs`.
fn stale(output: &Path, inputs: &[PathBuf]) -> bool {
    let Some(built) = modified(output) else {
        return true;
    };
    inputs
        .iter()
        .any(|input| modified(input).is_none_or(|m| m > built))
}

/// The sources (`*.c`) and shared headers (`*.h`) in `dir`, each sorted.
fn sources(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let mut c = Vec::new();
    let mut h = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("c") => c.push(path),
            Some("h") => h.push(path),
            _ => {}
        }
    }
    c.sort();
    h.sort();
    Ok((c, h))
}

fn cc_works() -> bool {
    Command::new("cc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The C compiler, installed when possible.
fn ensure_cc() -> Result<(), String> {
    if cc_works() {
        return Ok(());
    }
    if busybox::can_install() {
        eprintln!("xtask: cc not found; installing Debian's gcc and libc6-dev (apt-get)");
        busybox::apt_install(&["gcc", "libc6-dev"])?;
        if cc_works() {
            return Ok(());
        }
    }
    Err(
        "the userland test programs need a C compiler with static glibc: \
         install gcc and libc6-dev (Debian/Ubuntu: sudo apt-get install gcc libc6-dev)"
            .into(),
    )
}

/// Builds every program that is out of date and returns them all.
pub fn build() -> Result<Programs, String> {
    let (c_files, headers) = sources(&source_dir())?;
    let out_dir = bin_dir();
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut programs = Vec::new();
    let mut compiles = Vec::new();
    for source in &c_files {
        let name = source
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("{}: not a UTF-8 name", source.display()))?
            .to_string();
        let path = out_dir.join(&name);
        let mut inputs = headers.clone();
        inputs.push(source.clone());
        // The compiler flags live here: a change to them rebuilds every program.
        inputs.push(crate::root().join("xtask/src/userland.rs"));
        if stale(&path, &inputs) {
            if compiles.is_empty() {
                ensure_cc()?;
            }
            compiles.push(compile(source, &path)?);
        }
        programs.push(Program { name, path });
    }
    // The compilers run in parallel; each writes a temporary file renamed on success, so
    // an interrupted build never leaves a binary that looks up to date.
    let mut errors = Vec::new();
    for (child, temporary, path) in compiles {
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            std::fs::rename(&temporary, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let hint = if stderr.contains("cannot find -lc") {
                "\n(static glibc is missing: install libc6-dev)"
            } else {
                ""
            };
            errors.push(format!("{stderr}{hint}"));
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "compiling the userland test programs failed:\n{}",
            errors.join("\n")
        ));
    }
    let runner = programs
        .iter()
        .position(|p| p.name == RUNNER)
        .map(|i| programs.remove(i))
        .ok_or_else(|| format!("no {RUNNER}.c in {}", source_dir().display()))?;
    Ok(Programs {
        runner,
        tests: programs,
    })
}

/// The `hello` program (`userland/hello/hello.c`): no C library, two system calls. Built when
/// out of date; returns the binary's path.
pub fn hello() -> Result<PathBuf, String> {
    single(
        "userland/hello/hello.c",
        "hello",
        &["-nostdlib", "-fno-stack-protector", "-fno-pie", "-no-pie"],
    )
}

/// `userland/checks/leaks.c`: the kernel's memory after many processes die (static glibc).
pub fn leaks() -> Result<PathBuf, String> {
    single("userland/checks/leaks.c", "leaks", &[])
}

/// `userland/fuzz/fuzz.c`: the seeded syscall fuzzer (`cargo xtask fuzz`). Without the stack
/// protector: its call loop goes on whatever FS base a call left (glibc keeps the canary
/// behind FS).
pub fn fuzz() -> Result<PathBuf, String> {
    single("userland/fuzz/fuzz.c", "fuzz", &["-fno-stack-protector"])
}

/// One static program from `source` (relative to the repository), built into the binary
/// directory as `name` when out of date, with `flags` besides `-static -O2 -s -Wall -Werror`.
fn single(source: &str, name: &str, flags: &[&str]) -> Result<PathBuf, String> {
    let source = crate::root().join(source);
    let out_dir = bin_dir();
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let path = out_dir.join(name);
    if stale(
        &path,
        &[source.clone(), crate::root().join("xtask/src/userland.rs")],
    ) {
        ensure_cc()?;
        let temporary = path.with_extension("tmp");
        let out = Command::new("cc")
            .arg("-static")
            .args(flags)
            .args(["-O2", "-s", "-Wall", "-Werror", "-o"])
            .arg(&temporary)
            .arg(&source)
            .output()
            .map_err(|e| format!("cannot run cc: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "compiling {} failed:\n{}",
                source.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::rename(&temporary, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}

type Compile = (std::process::Child, PathBuf, PathBuf);

fn compile(source: &Path, output: &Path) -> Result<Compile, String> {
    let temporary = output.with_extension("tmp");
    let child = Command::new("cc")
        // -s: no symbol table. The BusyBox archive carries every program and holds them in
        // memory twice (archive and tmpfs); the symbols would take about 1 MB of each copy,
        // more than the minimal config (32 MiB) has to spare.
        .args(["-static", "-O2", "-s", "-Wall", "-Werror", "-o"])
        .arg(&temporary)
        .arg(source)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    Ok((child, temporary, output.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_follows_modification_times() {
        let dir = std::env::temp_dir().join(format!("xtask-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("a.c");
        let binary = dir.join("a");
        std::fs::write(&source, "int main(void) { return 0; }").unwrap();
        assert!(
            stale(&binary, std::slice::from_ref(&source)),
            "a missing binary is stale"
        );
        std::fs::write(&binary, "").unwrap();
        let past = SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&source)
            .unwrap()
            .set_modified(past)
            .unwrap();
        assert!(
            !stale(&binary, std::slice::from_ref(&source)),
            "newer binary is current"
        );
        assert!(
            stale(&binary, &[source, dir.join("missing.h")]),
            "a missing input forces a rebuild"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_sources_include_the_runner_and_tests() {
        let (c, h) = sources(&source_dir()).unwrap();
        let names: Vec<String> = c
            .iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.contains(&RUNNER.to_string()));
        assert!(names.len() > 1, "at least one test besides the runner");
        assert!(h.iter().any(|p| p.ends_with("check.h")));
    }
}
