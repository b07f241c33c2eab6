//! `cargo xtask`: Tessera's build tool. Every user-facing command goes through here (the
//! justfile only forwards), so a fresh machine with rustup and cargo needs nothing else.
//!
//! | command | what it does |
//! |---|---|
//! | `build [--config NAME]` | builds `target/kernels/NAME/kernel.elf` from `configs/NAME.toml` |
//! | `run [--config NAME] [--append ARGS] [--mode icount\|wall] [--timeout S] [--initrd FILE \| --init PATH \| --rootfs debian\|DIR] [--kernel tessera\|linux] [--memory MIB] [--hostfwd RULE]... [-- CMD ARGS...]` | builds and boots it in QEMU on this terminal (with the BusyBox initramfs unless told otherwise; a config with networking gets a card, host 127.0.0.1:8080 (or the next free port) forwarded to the guest's port 80 unless `--hostfwd` says otherwise); `--rootfs`: a root file system with Debian's bash, or CMD, whose status `run` exits with |
//! | `rootfs debian [--packages a,b] [--output DIR]` | a Debian root file system from Debian's packages (`target/rootfs/debian/`) |
//! | `debian-session [--config NAME] [--kernel tessera\|linux\|both]` | the scripted session on the Debian root file system, Tessera compared with Linux |
//! | `conform [--config NAME] [--kernel tessera\|linux\|both] [--only NAME,NAME] [--libc glibc\|musl]` | runs the userland test programs on Tessera and Linux and compares their output |
//! | `fuzz [--config NAME] [--seed S] [--calls N] [--minutes M] [--batch B] [--log]` | random system calls from a seed (`userland/fuzz/fuzz.c`); fails on a panic, a hang or a leak (docs/reliability.md) |
//! | `bench [--config NAME\|linux] [--mode icount\|wall] [--quick] [--only a,b]` | the system-call and network benchmarks on one kernel: table and `target/bench/*.json` (docs/benchmarks.md) |
//! | `ab [--a SPEC] [--b SPEC] [--mode icount\|wall] [--runs N]` | two kernels compared (SPEC: `linux`, a config, `fast,key=variant`): Markdown, JSON, SVG in `target/bench/` |
//! | `test` | host tests of every crate, then every config booted under QEMU, fault reports, link checks |
//! | `nettest [--config NAME] [--bench]` | the network checks (or their timings) on a config with `net = "smoltcp"` |
//! | `size [--config NAME \| --all] [--markdown]` | lines of Rust compiled into a config's kernel, by crate, and the image's size (docs/size.md) |
//! | `docs` | regenerates `docs/configs.md` (config schema) and `docs/syscalls.md` (dispatch table) |
//! | `profile [--config NAME] -- PROGRAM ARGS` | runs a program under the syscall profiler |
//! | `trace --only BENCHMARK [--a SPEC] [--b SPEC]` | kernel instructions per operation of one benchmark, by function; two kernels side by side |
//! | `setup` | installs what the others need (rustup target, QEMU, gcc and musl-gcc) |
//!
//! Exit codes: see [`exit`] and `docs/exit-codes.md`.

mod args;
mod bench;
mod busybox;
mod checks;
mod conform;
mod console;
mod cpio;
mod debian;
mod debian_session;
mod exit;
mod fuzz;
mod initrd;
mod kernel;
mod ksyms;
mod linux;
mod loopback;
mod nettest;
mod profile;
mod qemu;
mod rootfs;
mod rootfs_boot;
mod rootfs_setup;
mod session;
mod setup;
mod size;
mod syscall_docs;
mod test;
mod tour;
mod trace;
mod userland;

use std::path::PathBuf;
use std::process::ExitCode;

use args::Args;

/// The repository root (xtask lives one level below it).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent")
        .to_path_buf()
}

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  build  [--config NAME|PATH]            build target/kernels/NAME/kernel.elf
  run    [--config NAME|PATH] [--append ARGS] [--mode icount|wall] [--timeout SECONDS]
         [--initrd FILE.cpio | --init STATIC-BINARY | --rootfs debian|DIR]
         [--kernel tessera|linux] [--memory MIB] [--cpus N] [--hostfwd RULE]... [-- CMD ARGS...]
                                         build and boot in QEMU (default config: fast) with
                                         the BusyBox initramfs, or the given archive, or one
                                         binary packed as /init, or a root file system tree
                                         (debian: built by `rootfs debian`) with Debian's
                                         bash on the console, or CMD run there (run exits
                                         with its status); --kernel linux boots Debian's
                                         Linux 6.1 instead; --memory: RAM in MiB (default:
                                         the config's; 512 for a root file system); --cpus:
                                         CPUs (default: the config's kernel.cpus; Linux 1)
  rootfs debian [--packages a,b,...] [--output DIR]
                                         a Debian root file system from Debian's .debs and
                                         their dependencies (fetched once into
                                         target/cache/debian; default output
                                         target/rootfs/debian); --packages replaces the
                                         default set (bash, coreutils, python3...), the base
                                         (libc6, base-files, dash...) always comes
  debian-session [--config NAME|PATH] [--kernel tessera|linux|both] [--timeout SECONDS]
         [--verbose]                     the scripted session (userland/debian/session.sh)
                                         on the Debian root file system, on Tessera and
                                         Linux, outputs compared
  conform [--config NAME|PATH] [--kernel tessera|linux|both] [--only NAME,NAME]
          [--libc glibc|musl] [--timeout SECONDS] [--verbose]
                                         run userland/tests on Linux and Tessera, compare;
                                         every program is built with glibc (NAME) and musl
                                         (NAME-musl); --only NAME selects NAME and NAME-*
                                         (--only thread: the thread programs)
  fuzz   [--config NAME|PATH] [--seed S] [--calls N] [--minutes M] [--batch B] [--log]
         [--verbose]                     random system calls from a seed (default: the date)
                                         with the fuzzer as /init (default 10000 calls); fails
                                         on a panic, a hang (no progress for 60 s) or a leak;
                                         --batch B --log replays one batch, every call shown
  bench  [--config NAME|PATH|linux] [--mode icount|wall] [--quick] [--only NAME,NAME]
         [--timeout SECONDS] [--verbose] [--net-mode icount (an experiment: not meaningful)]
                                         run the system-call and network benchmarks
                                         (docs/benchmarks.md; network: wall view only);
                                         --only takes groups too: core, extended, threads,
                                         workload (BusyBox workloads) and debian (python3,
                                         bash on Debian's tree; both run only when asked),
                                         network
  bench  --smoke                         quick icount runs on fast, twice: must be identical;
                                         the workloads, the Debian benchmarks and quick
                                         network runs on fast and Linux
  ab     [--a SPEC] [--b SPEC] [--mode icount|wall|both] [--runs N] [--quick]
         [--only NAME,NAME] [--timeout SECONDS] [--verbose]
                                         compare two kernels (default: baseline vs fast);
                                         SPEC is linux, a config, or NAME,key=variant,...;
                                         both: icount and wall, then the two side by side
  test                                   run every test (what CI runs)
  nettest [--config NAME] [--bench]      network checks (or timings) through QEMU's user net
  profile [--config NAME] [--mode icount|wall] -- PROGRAM [ARGS...]
                                         run PROGRAM under the in-kernel syscall profiler
  trace  --only BENCHMARK [--a SPEC] [--b SPEC] [--top N]
                                         kernel instructions per operation of one system-call
                                         benchmark, by function (QEMU traces every
                                         instruction; slow); with --b, two kernels compared
  size   [--config NAME|PATH | --all] [--markdown]
                                         build, then print the lines of Rust compiled into
                                         the kernel by crate, and the image size
                                         (docs/size.md); --all: every config in configs/
  docs                                   regenerate docs/configs.md and docs/syscalls.md
  setup                                  install the rustup target, QEMU and the C compilers
                                         of the test programs (gcc, musl-gcc) if missing
";

fn main() -> ExitCode {
    let mut args = Args::from_env();
    let command = args.command();
    if command.as_deref() == Some("run") {
        // Its exit code may be a guest program's status (`run --rootfs DIR -- CMD`).
        return qemu::run_command(&mut args).unwrap_or_else(|message| {
            eprintln!("error: {message}");
            exit::Code::ToolError.into()
        });
    }
    let result = match command.as_deref() {
        Some("build") => kernel::build_command(&mut args),
        Some("test") => test::test_command(&mut args),
        Some("rootfs") => rootfs::rootfs_command(&mut args),
        Some("debian-session") => debian_session::command(&mut args),
        Some("conform") => conform::conform_command(&mut args),
        Some("fuzz") => fuzz::fuzz_command(&mut args),
        Some("bench") => bench::bench_command(&mut args),
        Some("ab") => bench::ab_command(&mut args),
        Some("docs") => write_docs(&mut args),
        Some("nettest") => nettest::nettest_command(&mut args),
        Some("profile") => profile::profile_command(&mut args),
        Some("trace") => trace::trace_command(&mut args),
        Some("size") => size::size_command(&mut args),
        Some("setup") => args
            .finish()
            .and_then(|()| setup::ensure_all())
            .map(|()| exit::Code::Ok),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(exit::Code::Ok)
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(code) => code.into(),
        Err(message) => {
            eprintln!("error: {message}");
            exit::Code::ToolError.into()
        }
    }
}

fn write_docs(args: &mut Args) -> Result<exit::Code, String> {
    args.finish()?;
    let path = root().join("docs/configs.md");
    std::fs::write(&path, tessera_config::reference_markdown())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    let path = root().join("docs/syscalls.md");
    std::fs::write(&path, syscall_docs::render(&root())?)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(exit::Code::Ok)
}
