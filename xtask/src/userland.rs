//! The userland test programs: `userland/tests/*.c` compiled into Linux executables under
//! `target/userland/bin/`, each four times: statically against glibc by the host's C
//! compiler (`NAME`), statically against musl by Debian's `musl-gcc` wrapper
//! (`NAME-musl`), and dynamically against each (`NAME-dyn`, `NAME-musl-dyn`: PIEs that the
//! kernel starts through their ELF interpreter, glibc's ld.so, which maps libc.so.6, or
//! musl's, which is its libc; the archives that carry these builds carry the interpreters
//! and libraries too, see [`Programs::libraries`]).
//!
//! Each `.c` file is one program (`runner.c` is the conformance `/init`, the others are the
//! tests it runs); the headers next to them are shared. A program is rebuilt when its
//! source, any header or this file (the flags) is newer than its binary. The flags are
//! fixed: `-static -O2 -s -Wall -Werror` (the dynamic builds: the same without `-static`),
//! so the glibc binaries are the same kind Debian ships (stripped, as Debian's are). The two C libraries reach the kernel differently
//! (thread creation, cancellation, robust and priority-inheritance mutexes, `errno` of the
//! wrappers, start-up): a kernel that runs both builds of a program runs more of the ABI.
//! The runner is built against glibc only; [`MUSL_EXCLUDED`] lists the test programs that
//! have no musl build, with the reason.
//!
//! A missing `cc` is installed as root through apt-get (`gcc libc6-dev`), a missing
//! `musl-gcc` likewise (`musl-tools`); otherwise the error says what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::busybox;

/// The program that runs the others (`/init` of the conformance initramfs).
pub const RUNNER: &str = "runner";

/// The C library a program is linked with, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Libc {
    /// The host's glibc, through `cc`, statically.
    Glibc,
    /// musl, through Debian's `musl-gcc` wrapper (package `musl-tools`), statically.
    Musl,
    /// The host's glibc, through `cc`, dynamically: a PIE with ld.so as its interpreter.
    GlibcDynamic,
    /// musl, through `musl-gcc`, dynamically: a PIE with musl's libc as its interpreter.
    MuslDynamic,
}

impl Libc {
    /// Every build of the test programs, in the order they are built.
    pub const ALL: [Libc; 4] = [
        Libc::Glibc,
        Libc::Musl,
        Libc::GlibcDynamic,
        Libc::MuslDynamic,
    ];

    /// `glibc`, `musl`, `glibc-dynamic` or `musl-dynamic` (the values of `conform --libc`).
    pub fn name(self) -> &'static str {
        match self {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
            Libc::GlibcDynamic => "glibc-dynamic",
            Libc::MuslDynamic => "musl-dynamic",
        }
    }

    /// The compiler driver.
    fn compiler(self) -> &'static str {
        match self {
            Libc::Glibc | Libc::GlibcDynamic => "cc",
            Libc::Musl | Libc::MuslDynamic => MUSL_GCC,
        }
    }

    /// Whether the build links the C library into the program.
    pub fn is_static(self) -> bool {
        matches!(self, Libc::Glibc | Libc::Musl)
    }

    /// The name of the program built from `stem.c`: `stem` (glibc), `stem-musl`,
    /// `stem-dyn`, `stem-musl-dyn`.
    pub fn program_name(self, stem: &str) -> String {
        match self {
            Libc::Glibc => stem.to_string(),
            Libc::Musl => format!("{stem}-musl"),
            Libc::GlibcDynamic => format!("{stem}-dyn"),
            Libc::MuslDynamic => format!("{stem}-musl-dyn"),
        }
    }

    pub fn parse(text: &str) -> Result<Libc, String> {
        Libc::ALL
            .into_iter()
            .find(|l| l.name() == text)
            .ok_or_else(|| {
                format!("--libc {text}: allowed: glibc, musl, glibc-dynamic, musl-dynamic")
            })
    }
}

/// The musl compiler wrapper of Debian's `musl-tools`.
const MUSL_GCC: &str = "musl-gcc";

/// Test programs without a musl build, and why: only for what is glibc's by nature, never
/// for C that could be written portably (`docs/userland.md` lists them too).
pub const MUSL_EXCLUDED: &[(&str, &str)] = &[];

/// One built program.
#[derive(Clone, Debug)]
pub struct Program {
    /// Its name in `/tests`: the file stem of its source (`files` for `files.c`), with
    /// `-musl` for the musl build.
    pub name: String,
    /// The static executable.
    pub path: PathBuf,
    /// The C library it is linked with.
    pub libc: Libc,
}

/// Every program, built.
pub struct Programs {
    /// `runner`, the conformance `/init`.
    pub runner: Program,
    /// The test programs, sorted by name (the order the runner uses).
    pub tests: Vec<Program>,
    /// What the dynamic builds need at run time: the ELF interpreter and the shared
    /// libraries, as (absolute path in the guest, file on the build machine). They are the
    /// files the host's linker and loader resolve for these programs (`ldd`), placed in
    /// the archive at the paths the programs name them by, so the guest's ld.so finds them
    /// where the build machine's does.
    pub libraries: Vec<(String, PathBuf)>,
}

impl Programs {
    /// The test programs `--only` and `--libc` select (`None`: no filter). An item of
    /// `only` selects the program of that name and every program whose name continues it
    /// after a `-`: `files` selects `files` and `files-musl`, `thread` every `thread-*`
    /// program in both builds. An item that selects nothing is an error (a typo must not
    /// pass as "nothing to run"), as is an empty selection.
    pub fn select(&self, only: Option<&str>, libc: Option<Libc>) -> Result<Vec<Program>, String> {
        let items: Vec<&str> = match only {
            None => Vec::new(),
            Some(list) => {
                let items: Vec<&str> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .collect();
                if items.is_empty() {
                    return Err("--only needs at least one program name".into());
                }
                items
            }
        };
        let matches = |item: &str, name: &str| {
            name == item
                || name
                    .strip_prefix(item)
                    .is_some_and(|rest| rest.starts_with('-'))
        };
        for item in &items {
            if !self.tests.iter().any(|p| matches(item, &p.name)) {
                let names: Vec<&str> = self.tests.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "--only: no test program `{item}` nor `{item}-*`; programs: {}",
                    names.join(", ")
                ));
            }
        }
        let chosen: Vec<Program> = self
            .tests
            .iter()
            .filter(|p| items.is_empty() || items.iter().any(|i| matches(i, &p.name)))
            .filter(|p| libc.is_none_or(|l| p.libc == l))
            .cloned()
            .collect();
        if chosen.is_empty() {
            return Err("--only and --libc together select no test program".into());
        }
        Ok(chosen)
    }
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
pub(crate) fn stale(output: &Path, inputs: &[PathBuf]) -> bool {
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

fn musl_works() -> bool {
    Command::new(MUSL_GCC)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// musl's compiler wrapper, installed when possible.
fn ensure_musl() -> Result<(), String> {
    if musl_works() {
        return Ok(());
    }
    if busybox::can_install() {
        eprintln!("xtask: {MUSL_GCC} not found; installing Debian's musl-tools (apt-get)");
        busybox::apt_install(&["musl-tools"])?;
        if musl_works() {
            return Ok(());
        }
    }
    Err(format!(
        "the musl builds of the userland test programs need {MUSL_GCC}: install musl-tools \
         (Debian/Ubuntu: sudo apt-get install musl-tools)"
    ))
}

/// Both compilers of the test programs, installed when possible (`cargo xtask setup`, and
/// `cargo xtask test` before it starts, so that a missing one is said at once).
pub fn ensure_compilers() -> Result<(), String> {
    Libc::ALL.into_iter().try_for_each(ensure_compiler)
}

/// Makes sure the compiler for `libc` is there (installing it when possible).
fn ensure_compiler(libc: Libc) -> Result<(), String> {
    match libc {
        Libc::Glibc | Libc::GlibcDynamic => ensure_cc(),
        Libc::Musl | Libc::MuslDynamic => ensure_musl(),
    }
}

/// Whether `stem.c` is built against `libc`: the runner against static glibc only, a test
/// program in every build unless [`MUSL_EXCLUDED`] names it (for musl).
fn built_with(stem: &str, libc: Libc) -> bool {
    match libc {
        Libc::Glibc => true,
        Libc::GlibcDynamic => stem != RUNNER,
        Libc::Musl | Libc::MuslDynamic => {
            stem != RUNNER && !MUSL_EXCLUDED.iter().any(|(name, _)| *name == stem)
        }
    }
}

/// Builds every program that is out of date and returns them all.
pub fn build() -> Result<Programs, String> {
    let (c_files, headers) = sources(&source_dir())?;
    let out_dir = bin_dir();
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut programs = Vec::new();
    let mut jobs = Vec::new();
    let mut ready = Vec::new();
    for source in &c_files {
        let stem = source
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("{}: not a UTF-8 name", source.display()))?
            .to_string();
        for libc in Libc::ALL.into_iter().filter(|&l| built_with(&stem, l)) {
            let name = libc.program_name(&stem);
            let path = out_dir.join(&name);
            let mut inputs = headers.clone();
            inputs.push(source.clone());
            // The compiler flags live here: a change to them rebuilds every program.
            inputs.push(crate::root().join("xtask/src/userland.rs"));
            if stale(&path, &inputs) {
                if !ready.contains(&libc) {
                    ensure_compiler(libc)?;
                    ready.push(libc);
                }
                jobs.push((source.clone(), path.clone(), libc));
            }
            programs.push(Program { name, path, libc });
        }
    }
    // The compilers run in parallel, as many at once as the machine has CPUs; each writes a
    // temporary file renamed on success, so an interrupted build never leaves a binary that
    // looks up to date.
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut errors = Vec::new();
    let mut running: std::collections::VecDeque<Compile> = std::collections::VecDeque::new();
    let mut jobs = jobs.into_iter();
    loop {
        while running.len() < parallel {
            let Some((source, path, libc)) = jobs.next() else {
                break;
            };
            running.push_back(compile(&source, &path, libc)?);
        }
        let Some((child, temporary, path, libc)) = running.pop_front() else {
            break;
        };
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            std::fs::rename(&temporary, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let hint = match libc {
                _ if !stderr.contains("cannot find -lc") => "",
                Libc::Glibc => "\n(static glibc is missing: install libc6-dev)",
                Libc::GlibcDynamic => {
                    "\n(glibc's development files are missing: install libc6-dev)"
                }
                Libc::Musl | Libc::MuslDynamic => "\n(musl's library is missing: install musl-dev)",
            };
            errors.push(format!(
                "{} ({}):\n{stderr}{hint}",
                path.display(),
                libc.name()
            ));
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
    // Byte order, as the runner's strcmp sorts them: `files` < `files-musl` < `filemap`
    // is not what source order gives.
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    let libraries = libraries(&programs)?;
    Ok(Programs {
        runner,
        tests: programs,
        libraries,
    })
}

/// The interpreters and shared libraries the dynamic builds in `programs` load: each
/// program's interpreter (its `PT_INTERP`; musl's is its libc too), and for glibc's builds
/// what `ldd` (glibc's, beside the compiler that linked them) resolves, each `=> /path`,
/// once each, sorted. The vDSO line (no file) is skipped. Also `libgcc_s.so.1`, which no
/// program links but glibc opens (`dlopen`) for the unwinder of `pthread_exit` and
/// `pthread_cancel`, placed beside `libc.so.6`.
pub fn libraries(programs: &[Program]) -> Result<Vec<(String, PathBuf)>, String> {
    let mut found = std::collections::BTreeMap::new();
    for program in programs.iter().filter(|p| !p.libc.is_static()) {
        let image =
            std::fs::read(&program.path).map_err(|e| format!("{}: {e}", program.path.display()))?;
        let interp = pt_interp(&image)
            .ok_or_else(|| format!("{} names no interpreter", program.path.display()))?;
        found.insert(interp.clone(), PathBuf::from(interp));
    }
    let glibc: Vec<&Program> = programs
        .iter()
        .filter(|p| p.libc == Libc::GlibcDynamic)
        .collect();
    if glibc.is_empty() {
        return Ok(found.into_iter().collect());
    }
    for program in glibc {
        let out = Command::new("ldd")
            .arg(&program.path)
            .output()
            .map_err(|e| format!("cannot run ldd (glibc's libc-bin): {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "ldd {} failed: {}",
                program.path.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        for path in ldd_paths(&String::from_utf8_lossy(&out.stdout)) {
            found.insert(path.clone(), PathBuf::from(path));
        }
    }
    let libc_dir = found
        .keys()
        .find_map(|p| p.strip_suffix("/libc.so.6"))
        .ok_or("ldd found no libc.so.6 for the dynamic builds")?
        .to_string();
    let out = Command::new("cc")
        .arg("-print-file-name=libgcc_s.so.1")
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    let libgcc = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !libgcc.is_absolute() || !libgcc.is_file() {
        return Err("cc knows no libgcc_s.so.1 (install libgcc-s1)".into());
    }
    found.insert(format!("{libc_dir}/libgcc_s.so.1"), libgcc);
    Ok(found.into_iter().collect())
}

/// The path in an ELF64 little-endian file's `PT_INTERP`, up to its NUL.
fn pt_interp(image: &[u8]) -> Option<String> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(image.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(image.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(image.get(at..at + 8)?.try_into().ok()?));
    if image.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let (phentsize, phnum) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    (0..phnum).find_map(|i| {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(ph)? != 3 {
            return None; // not PT_INTERP
        }
        let offset = usize::try_from(u64_at(ph + 8)?).ok()?;
        let size = usize::try_from(u64_at(ph + 32)?).ok()?;
        let bytes = image.get(offset..offset.checked_add(size)?)?;
        let path = bytes.split(|&b| b == 0).next()?;
        String::from_utf8(path.to_vec()).ok()
    })
}

/// The absolute paths in `ldd` output: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x..)`
/// gives the path after `=>`, `/lib64/ld-linux-x86-64.so.2 (0x..)` its own.
fn ldd_paths(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let path = match line.split_once("=>") {
                Some((_, right)) => right.trim(),
                None => line,
            };
            let path = path.split_whitespace().next()?;
            path.starts_with('/').then(|| path.to_string())
        })
        .collect()
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

/// `userland/checks/exhaust.c`: the kernel's memory run out through files, pipes...: errors,
/// not panics, and the memory back (static glibc).
pub fn exhaust() -> Result<PathBuf, String> {
    single("userland/checks/exhaust.c", "exhaust", &[])
}

/// `userland/fuzz/fuzz.c`: the seeded syscall fuzzer (`cargo xtask fuzz`). Without the stack
/// protector: its call loop goes on whatever FS base a call left (glibc keeps the canary
/// behind FS).
pub fn fuzz() -> Result<PathBuf, String> {
    single("userland/fuzz/fuzz.c", "fuzz", &["-fno-stack-protector"])
}

/// `userland/debian/init.c`: `/init` of a root file system boot (`run --rootfs`).
pub fn rootfs_init() -> Result<PathBuf, String> {
    single("userland/debian/init.c", "rootfs-init", &[])
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

/// A running compiler: the child, its temporary output, the final path, the C library.
type Compile = (std::process::Child, PathBuf, PathBuf, Libc);

fn compile(source: &Path, output: &Path, libc: Libc) -> Result<Compile, String> {
    let temporary = output.with_extension("tmp");
    let linking: &[&str] = if libc.is_static() {
        &["-static"]
    } else {
        &["-pie", "-fPIE"]
    };
    let child = Command::new(libc.compiler())
        .args(linking)
        // -s: no symbol table. The BusyBox archive carries every program and holds them in
        // memory twice (archive and tmpfs); the symbols would take about 1 MB of each copy,
        // more than the minimal config has to spare.
        .args(["-O2", "-s", "-Wall", "-Werror", "-o"])
        .arg(&temporary)
        .arg(source)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", libc.compiler()))?;
    Ok((child, temporary, output.to_path_buf(), libc))
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

    fn programs(names: &[&str]) -> Programs {
        let program = |name: &str| Program {
            name: name.to_string(),
            path: PathBuf::from(name),
            libc: if name.ends_with("-musl") {
                Libc::Musl
            } else if name.ends_with("-musl-dyn") {
                Libc::MuslDynamic
            } else if name.ends_with("-dyn") {
                Libc::GlibcDynamic
            } else {
                Libc::Glibc
            },
        };
        Programs {
            runner: program(RUNNER),
            tests: names.iter().map(|n| program(n)).collect(),
            libraries: Vec::new(),
        }
    }

    #[test]
    fn ldd_output_gives_the_interpreter_and_the_libraries() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd5b3f2000)\n\
                    \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e1c200000)\n\
                    \t/lib64/ld-linux-x86-64.so.2 (0x00007f0e1c42f000)\n";
        assert_eq!(
            ldd_paths(text),
            [
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
        assert!(ldd_paths("\tnot a dynamic executable\n").is_empty());
    }

    #[test]
    fn pt_interp_of_a_minimal_image() {
        let mut image = vec![0u8; 0x100];
        image[..5].copy_from_slice(b"\x7fELF\x02");
        image[0x20] = 0x40; // e_phoff
        image[0x36] = 56; // e_phentsize
        image[0x38] = 1; // e_phnum
        image[0x40] = 3; // PT_INTERP
        image[0x48] = 0xe0; // p_offset
        image[0x60] = 8; // p_filesz
        image[0xe0..0xe8].copy_from_slice(b"/lib/ld\0");
        assert_eq!(pt_interp(&image).as_deref(), Some("/lib/ld"));
        image[0x40] = 1; // PT_LOAD: no interpreter
        assert_eq!(pt_interp(&image), None);
        assert_eq!(pt_interp(b"\x7fELF"), None);
    }

    fn names(selected: &[Program]) -> Vec<&str> {
        selected.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn only_selects_a_name_and_its_dash_continuations() {
        let all = programs(&[
            "files",
            "files-musl",
            "filemap",
            "filemap-musl",
            "thread-basic",
            "thread-basic-musl",
            "thread-sync",
            "thread-sync-musl",
        ]);
        assert_eq!(names(&all.select(None, None).unwrap()).len(), 8);
        assert_eq!(
            names(&all.select(Some("files"), None).unwrap()),
            ["files", "files-musl"],
            "not filemap: a name continues only after a dash"
        );
        assert_eq!(
            names(&all.select(Some("thread"), Some(Libc::Glibc)).unwrap()),
            ["thread-basic", "thread-sync"]
        );
        assert_eq!(
            names(&all.select(Some("thread-sync-musl,files"), None).unwrap()),
            ["files", "files-musl", "thread-sync-musl"],
            "in program order"
        );
        assert_eq!(
            names(&all.select(None, Some(Libc::Musl)).unwrap()),
            [
                "files-musl",
                "filemap-musl",
                "thread-basic-musl",
                "thread-sync-musl"
            ]
        );
        let typo = all.select(Some("files,thraed"), None).unwrap_err();
        assert!(typo.contains("`thraed`"), "{typo}");
        assert!(all.select(Some(","), None).is_err());
        let none = programs(&["files"]);
        assert!(none.select(Some("files"), Some(Libc::Musl)).is_err());
    }

    #[test]
    fn libc_names_and_program_names() {
        assert_eq!(Libc::parse("musl").unwrap(), Libc::Musl);
        assert_eq!(Libc::parse("glibc").unwrap(), Libc::Glibc);
        assert!(Libc::parse("uclibc").unwrap_err().contains("glibc, musl"));
        assert_eq!(Libc::parse("glibc-dynamic").unwrap(), Libc::GlibcDynamic);
        assert_eq!(Libc::Glibc.program_name("files"), "files");
        assert_eq!(Libc::Musl.program_name("files"), "files-musl");
        assert!(built_with(RUNNER, Libc::Glibc) && !built_with(RUNNER, Libc::Musl));
        for (name, why) in MUSL_EXCLUDED {
            assert!(!built_with(name, Libc::Musl) && !why.is_empty());
        }
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
