//! `cargo xtask test`: everything CI checks, in one command.
//!
//! 1. Host tests of every crate (each component's shared suite runs against every variant),
//!    plus the feature combinations a single `cargo test` cannot cover.
//! 2. Lints: the lint configuration (`unsafe` only in the platform layer, each block
//!    justified) in place, and clippy clean, warnings denied, on the host and on every
//!    config's kernel.
//! 3. Build refusals: a bad config and a hand-picked feature set that disagrees with a config.
//! 4. Every config in `configs/` built and booted under QEMU with a timeout: banner naming
//!    each component's variant, self-tests passed, success exit code. A hang, panic, missing
//!    banner or missing result fails.
//! 5. Deliberate faults: the report (vector, RIP, CR2, registers, symbolized backtrace) and
//!    the panic exit code.
//! 6. Link checks: the memops variant in each image is the configured one.
//! 7. A scripted BusyBox session on every config (files, pipelines, jobs, Ctrl-C, signals).
//! 8. The userland test programs on Tessera (fast and baseline) compared with Linux
//!    (`cargo xtask conform`), each Tessera boot checked for leaks, and that leak check
//!    shown to fail on a zombie.
//! 9. Networking on every config with `net = "smoltcp"` (`nettest`): transfers both ways
//!    through QEMU's user network, connection churn, an abandoned transfer, `nc`.
//! 10. The syscall fuzzer (`cargo xtask fuzz`) on `debug` and `fast` with fixed seeds and on
//!     `debug` with the seed of the day, and its leak check shown to fail on a zombie; the
//!     kernel's memory run out through files and pipes (`exhaust/fast`): errors, no panic,
//!     the memory back.
//! 11. The benchmark harness end to end: quick icount runs (identical twice), the
//!     workloads and the Debian benchmarks in quick mode on `fast` and on Linux (every
//!     run's output checked by the program), and quick network runs on `fast` and on Linux (its modules loaded by the
//!     benchmark program), every figure backed by traffic the host peer verified.
//! 12. The Debian session (`cargo xtask debian-session`): Debian's bash, coreutils, tar, xz,
//!     procps and python3 on a root file system of Debian's packages, a scripted session on
//!     `fast` compared line by line with Linux's.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::exit::{Code, Verdict};
use crate::kernel::{self, Kernel};
use crate::qemu::{self, Boot, Mode};

/// Generous: a hang is caught, a slow CI machine is not failed. Boots take about a second.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

struct Report {
    passed: usize,
    failed: Vec<String>,
}

impl Report {
    fn record(&mut self, name: &str, started: Instant, result: Result<(), String>) {
        let secs = started.elapsed().as_secs_f64();
        match result {
            Ok(()) => {
                println!("test {name} ... ok ({secs:.1} s)");
                self.passed += 1;
            }
            Err(why) => {
                println!("test {name} ... FAILED ({secs:.1} s)\n{}", indent(&why));
                self.failed.push(name.to_string());
            }
        }
    }

    fn check(&mut self, name: &str, f: impl FnOnce() -> Result<(), String>) {
        let started = Instant::now();
        let result = f();
        self.record(name, started, result);
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Cargo invocations on the host, tests and clippy: (name, arguments).
const HOST_SUITES: &[(&str, &[&str])] = &[
    ("host/workspace", &["test", "--all-targets"]),
    (
        "host/sync-tracking",
        &["test", "-p", "tessera-sync", "--features", "tracking"],
    ),
    // Lock tracking with the subsystem policy the `debug` kernel uses.
    (
        "host/sync-tracking-no-irq",
        &[
            "test",
            "-p",
            "tessera-sync",
            "--no-default-features",
            "--features",
            "subsystem-no-irq,tracking",
        ],
    ),
    (
        "host/sync-no-irq",
        &[
            "test",
            "-p",
            "tessera-sync",
            "--no-default-features",
            "--features",
            "subsystem-no-irq",
        ],
    ),
    (
        "host/memops-simple-only",
        &[
            "test",
            "-p",
            "tessera-memops",
            "--no-default-features",
            "--features",
            "simple",
        ],
    ),
    (
        "host/memops-erms-only",
        &[
            "test",
            "-p",
            "tessera-memops",
            "--no-default-features",
            "--features",
            "erms",
        ],
    ),
    // The VFS and tmpfs suites with each kernel variant feature on, which also compiles the
    // cases that check the kernel's aliases name the chosen variant.
    (
        "host/vfs-lookup-full",
        &["test", "-p", "tessera-vfs", "--features", "lookup-full"],
    ),
    (
        "host/vfs-lookup-fast",
        &["test", "-p", "tessera-vfs", "--features", "lookup-fast"],
    ),
    (
        "host/tmpfs-stat-locked",
        &["test", "-p", "tessera-tmpfs", "--features", "stat-locked"],
    ),
    (
        "host/tmpfs-stat-lockfree",
        &["test", "-p", "tessera-tmpfs", "--features", "stat-lockfree"],
    ),
    // Clippy on the host crates (the workspace's default members: the kernel builds only for
    // its own target, below), tests and benches included.
    (
        "lint/host",
        &["clippy", "--all-targets", "--", "-D", "warnings"],
    ),
];

fn cargo() -> Command {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(crate::root()).env_remove("RUSTFLAGS");
    cargo
}

pub fn test_command(args: &mut Args) -> Result<Code, String> {
    let verbose = args.flag("verbose");
    args.finish()?;
    crate::setup::ensure_all()?;
    let mut report = Report {
        passed: 0,
        failed: Vec::new(),
    };

    for (name, cargo_args) in HOST_SUITES {
        report.check(name, || {
            let status = cargo()
                .args(*cargo_args)
                .status()
                .map_err(|e| e.to_string())?;
            status
                .success()
                .then_some(())
                .ok_or(format!("cargo {} failed", cargo_args.join(" ")))
        });
    }
    report.check("source/lint-config", || {
        crate::checks::lint_config(&crate::root())
    });
    report.check("source/features-in-one-place", || {
        crate::checks::feature_tests_in_one_place(&crate::root())
    });
    report.check("source/typed-syscall-args", || {
        crate::checks::typed_syscall_args(&crate::root())
    });
    let configs = tessera_config::available_configs(&crate::root().join("configs"));
    for name in &configs {
        // Each config compiles different variants (and cfg'd code) of the kernel and its
        // components: clippy sees what that kernel compiles.
        report.check(&format!("lint/kernel-{name}"), || {
            kernel::clippy(&kernel::load_config(name)?)
        });
    }
    report.check("build/refuses-bad-config", refuses_bad_config);
    report.check(
        "build/refuses-mismatched-features",
        refuses_mismatched_features,
    );

    let mut kernels = Vec::new();
    for name in configs {
        let started = Instant::now();
        match kernel::load_config(&name).and_then(|c| kernel::build(&c)) {
            Ok(kernel) => {
                report.record(&format!("build/{name}"), started, Ok(()));
                kernels.push(kernel);
            }
            Err(why) => report.record(&format!("build/{name}"), started, Err(why)),
        }
    }
    for kernel in &kernels {
        let name = &kernel.config.name;
        report.check(&format!("boot/{name}"), || {
            boot_and_selftest(kernel, verbose)
        });
        report.check(&format!("link/{name}/memops"), || {
            crate::checks::memops_linked(
                &kernel.elf,
                kernel.config.variant("memops").unwrap_or("?"),
            )
        });
    }
    if let Some(fast) = kernels.iter().find(|k| k.config.name == "fast") {
        for (kind, expect) in FAULTS {
            report.check(&format!("fault/{kind}"), || {
                deliberate_fault(fast, kind, expect, verbose)
            });
        }
    }
    report.check("size/ladder", || {
        crate::size::check_ladder().map(|figures| println!("{figures}"))
    });
    if let Some(fast) = kernels.iter().find(|k| k.config.name == "fast") {
        report.check("leaks/fast", || leaks(fast, false, verbose));
        report.check("leaks/can-fail", || leaks(fast, true, verbose));
        report.check("exhaust/fast", || exhaust(fast, verbose));
    }
    // The syscall fuzzer (docs/reliability.md): fixed seeds on debug (overflow checks, lock
    // tracking) and fast, the seed of the day, and a leak on purpose the check must report.
    let date_seed = crate::fuzz::date_seed();
    for (config, seed, calls) in [
        ("debug", FUZZ_DEBUG_SEED, FUZZ_CALLS),
        ("fast", FUZZ_FAST_SEED, FUZZ_CALLS),
        ("debug", date_seed, FUZZ_CALLS),
    ] {
        if let Some(kernel) = kernels.iter().find(|k| k.config.name == config) {
            report.check(&format!("fuzz/{config}-seed-{seed}"), || {
                crate::fuzz::check(kernel, &crate::fuzz::Options::new(seed, calls), verbose)
                    .map(|figures| println!("fuzz: {config}, seed {seed}: {figures}"))
                    .map_err(|(_, why)| why)
            });
        }
    }
    if let Some(fast) = kernels.iter().find(|k| k.config.name == "fast") {
        report.check("fuzz/leak-can-fail", || fuzz_leak_can_fail(fast, verbose));
        // The conform runs' leak check (each Tessera boot of conform/* below) must fail on
        // a zombie left on purpose.
        report.check("conform/leak-can-fail", || {
            crate::conform::leak_can_fail(&fast.config, verbose)
        });
    }
    if let Some(debug) = kernels.iter().find(|k| k.config.name == "debug") {
        report.check("smp/debug", || smp(debug, verbose));
    }
    for kernel in kernels.iter().filter(|k| k.config.userland == "hello") {
        report.check(&format!("hello/{}", kernel.config.name), || {
            hello(kernel, verbose)
        });
    }
    for kernel in kernels.iter().filter(|k| k.config.userland == "busybox") {
        report.check(&format!("busybox-session/{}", kernel.config.name), || {
            let mut boot = Boot::tessera(kernel, "", Mode::Wall);
            boot.initrd = Some(crate::initrd::busybox()?);
            crate::session::run(&boot, verbose)
        });
    }
    for kernel in kernels
        .iter()
        .filter(|k| k.config.variant("net") == Some("smoltcp"))
    {
        report.check(&format!("net/{}", kernel.config.name), || {
            crate::nettest::run(kernel, verbose)
        });
    }
    // The benchmark harness end to end: quick icount runs, twice, identical figures; the
    // network benchmarks on fast and Linux (speed is measured, never asserted).
    report.check("bench/smoke", crate::bench::smoke);
    // The workloads (BusyBox scripts, file-tree work) and the Debian benchmarks (python3,
    // bash) on fast and Linux, each run's output checked by the program: a wrong output is
    // an error line, and fails.
    report.check("bench/workload-smoke", crate::bench::workload_smoke);
    report.check("bench/net-smoke", crate::bench::net_smoke);
    // Debian's own programs on a Debian root file system (bash, coreutils, tar, xz, procps,
    // python3...), Tessera's session compared with Linux's (cargo xtask debian-session).
    if let Some(fast) = kernels.iter().find(|k| k.config.name == "fast") {
        report.check("debian-session/fast", || {
            crate::debian_session::run(
                &fast.config,
                true,
                true,
                crate::debian_session::DEFAULT_TIMEOUT,
                verbose,
            )
        });
    }
    for config in ["fast", "baseline"] {
        // The userland programs on Tessera, compared line by line with Linux 6.1 in the same
        // QEMU (cargo xtask conform; Linux is fetched once into target/cache).
        report.check(&format!("conform/{config}"), || {
            xtask_subcommand(&["conform", "--config", config])
        });
    }

    println!();
    if !report.failed.is_empty() {
        println!("failed: {}", report.failed.join(", "));
    }
    println!(
        "tests: {} passed, {} failed",
        report.passed,
        report.failed.len()
    );
    Ok(if report.failed.is_empty() {
        Code::Ok
    } else {
        Code::TestFailure
    })
}

fn boot(kernel: &Kernel, append: &str, verbose: bool) -> Result<qemu::Captured, String> {
    let boot = Boot::tessera(kernel, append, Mode::Wall);
    qemu::run_captured(&boot, BOOT_TIMEOUT, verbose)
}

fn tail(output: &str, lines: usize) -> String {
    let all: Vec<&str> = output.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Checks that each needle appears in the output, in order.
fn expect_in_order(output: &str, needles: &[String]) -> Result<(), String> {
    let mut rest = output;
    for needle in needles {
        match rest.find(needle.as_str()) {
            Some(at) => rest = &rest[at + needle.len()..],
            None => {
                return Err(format!(
                    "console output lacks {needle:?} (in order)\n--- last lines:\n{}",
                    tail(output, 30)
                ));
            }
        }
    }
    Ok(())
}

fn boot_and_selftest(kernel: &Kernel, verbose: bool) -> Result<(), String> {
    let run = boot(kernel, "", verbose)?;
    let config = &kernel.config;
    let mut needles = vec![format!(
        "Tessera {} -- config \"{}\"",
        env!("CARGO_PKG_VERSION"),
        config.name
    )];
    needles.extend(
        config
            .components
            .iter()
            // A component user space alone uses shows "(not compiled)" after the variant
            // in a kernel without user space.
            .map(|(key, variant)| format!("component  {key} = {variant}")),
    );
    needles.push(format!(
        "opt-level = {}, lto = {}, debug-assertions = {}, lock-tracking = {}",
        config.opt_level, config.lto, config.debug_assertions, config.lock_tracking
    ));
    needles.push("selftest timer ... ok".into());
    expect_in_order(&run.output, &needles)?;
    let summary = run
        .output
        .lines()
        .find_map(|l| l.strip_prefix("selftests: "))
        .ok_or_else(|| format!("no self-test summary\n{}", tail(&run.output, 30)))?;
    if !summary.ends_with(" 0 failed") || summary.starts_with("0 passed") {
        return Err(format!("self-tests: {summary}\n{}", tail(&run.output, 30)));
    }
    succeeded(&run)
}

/// Ok if the kernel reported success, else its verdict and the console's last lines.
fn succeeded(run: &qemu::Captured) -> Result<(), String> {
    if run.verdict == Verdict::Success {
        Ok(())
    } else {
        Err(format!(
            "{}\n{}",
            run.verdict.describe(),
            tail(&run.output, 30)
        ))
    }
}

/// The `hello` program as /init: its line on the console, init's exit status 0, and a clean
/// power-off.
fn hello(kernel: &Kernel, verbose: bool) -> Result<(), String> {
    let mut boot = Boot::tessera(kernel, "", Mode::Wall);
    boot.initrd = crate::initrd::for_config(&kernel.config)?;
    let run = qemu::run_captured(&boot, BOOT_TIMEOUT, verbose)?;
    expect_in_order(
        &run.output,
        &[
            "selftests: ".into(),
            "hello from user space\n".into(),
            "tessera: init exited with status 0".into(),
        ],
    )?;
    succeeded(&run)
}

/// Several CPUs: the kernel finds them in the ACPI MADT and starts them all (wall mode with
/// 4, icount with 2: a wait of the boot CPU must never depend on QEMU scheduling another
/// vCPU), then runs its self-tests on the boot CPU and powers off.
fn smp(kernel: &Kernel, verbose: bool) -> Result<(), String> {
    for (cpus, mode) in [(4, Mode::Wall), (2, Mode::Icount)] {
        let mut boot = Boot::tessera(kernel, "", mode);
        boot.cpus = cpus;
        let run = qemu::run_captured(&boot, BOOT_TIMEOUT, verbose)?;
        expect_in_order(
            &run.output,
            &[
                format!("  cpus       {cpus} online of {cpus} in the ACPI MADT"),
                "selftests: ".into(),
            ],
        )
        .map_err(|why| format!("-smp {cpus}: {why}"))?;
        succeeded(&run)?;
    }
    Ok(())
}

/// Processes that exit or die of a signal give back all they held (userland/checks/leaks.c);
/// with `zombies`, 300 children are left unreaped and the check must say so.
fn leaks(kernel: &Kernel, zombies: bool, verbose: bool) -> Result<(), String> {
    let mut archive = crate::cpio::Archive::new();
    crate::initrd::skeleton(&mut archive);
    let program = crate::userland::leaks()?;
    let bytes = std::fs::read(&program).map_err(|e| format!("{}: {e}", program.display()))?;
    archive.file("init", 0o755, bytes);
    if zombies {
        archive.file("zombies", 0o644, Vec::new());
    }
    let initrd = crate::initrd::Private::write("leaks", &archive)?;
    let mut boot = Boot::tessera(kernel, "", Mode::Wall);
    boot.initrd = Some(initrd.to_path_buf());
    let run = qemu::run_captured(&boot, BOOT_TIMEOUT, verbose)?;
    let line = run
        .output
        .lines()
        .find(|l| l.starts_with("leaks: "))
        .ok_or_else(|| format!("no leaks line\n{}", tail(&run.output, 30)))?;
    let reported = line.starts_with("leaks: FAIL");
    if reported != zombies || run.verdict != Verdict::Success {
        return Err(format!("{line}\n{}", run.verdict.describe()));
    }
    println!("{line}");
    Ok(())
}

/// RAM of the `exhaust` boot: small, so that running it out is quick.
const EXHAUST_MEMORY_MIB: u32 = 64;

/// The kernel's memory run out through what users may make it hold (a file and many files in
/// the root file system, pipes in many processes; userland/checks/exhaust.c): every step
/// must fail with its errno, the machine must go on, and the usage readings before and after
/// must pass the leak check of the fuzzer and conform.
fn exhaust(kernel: &Kernel, verbose: bool) -> Result<(), String> {
    let mut archive = crate::cpio::Archive::new();
    crate::initrd::skeleton(&mut archive);
    let program = crate::userland::exhaust()?;
    let bytes = std::fs::read(&program).map_err(|e| format!("{}: {e}", program.display()))?;
    archive.file("init", 0o755, bytes);
    let initrd = crate::initrd::Private::write("exhaust", &archive)?;
    let mut boot = Boot::tessera(kernel, "", Mode::Wall);
    boot.initrd = Some(initrd.to_path_buf());
    boot.memory_mib = EXHAUST_MEMORY_MIB;
    let run = qemu::run_captured(&boot, BOOT_TIMEOUT, verbose)?;
    let lines: Vec<&str> = run
        .output
        .lines()
        .filter(|l| l.starts_with("exhaust: ") && !l.starts_with("exhaust: usage "))
        .collect();
    let done = lines.last() == Some(&"exhaust: done");
    if !done || run.verdict != Verdict::Success {
        return Err(format!(
            "{}\n{}\n{}",
            lines.join("\n"),
            run.verdict.describe(),
            tail(&run.output, 30)
        ));
    }
    let (Some(before), Some(after)) = (
        crate::fuzz::usage(&run.output, "exhaust", "before"),
        crate::fuzz::usage(&run.output, "exhaust", "after"),
    ) else {
        return Err("no usage readings".into());
    };
    let account = crate::fuzz::account(&before, &after);
    let found = crate::fuzz::leaks(&before, &after);
    if !found.is_empty() {
        return Err(format!("a leak: {} (usage: {account})", found.join("; ")));
    }
    println!("{}\nexhaust: usage {account}", lines.join("\n"));
    Ok(())
}

/// The fuzz runs' fixed seeds and budget (calls per run): about 20 s each on `debug`.
const FUZZ_DEBUG_SEED: u64 = 1;
const FUZZ_FAST_SEED: u64 = 2;
const FUZZ_CALLS: u64 = 20_000;

/// A fuzz run that leaves a zombie before its last reading: the leak check must name it.
fn fuzz_leak_can_fail(kernel: &Kernel, verbose: bool) -> Result<(), String> {
    let mut options = crate::fuzz::Options::new(FUZZ_FAST_SEED, 400);
    options.leak_on_purpose = true;
    match crate::fuzz::check(kernel, &options, verbose) {
        Err((Code::TestFailure, why)) if why.contains("tasks: ") => {
            println!("fuzz: the zombie left on purpose was reported");
            Ok(())
        }
        Err((_, why)) => Err(format!("expected a leak of one task, got: {why}")),
        Ok(figures) => Err(format!(
            "a zombie left on purpose was not reported: {figures}"
        )),
    }
}

/// (tessera.fault kind, what the report must contain, in order).
const FAULTS: [(&str, &[&str]); 3] = [
    (
        "page",
        &[
            "KERNEL PANIC: CPU exception 14 (#PF page fault)",
            "write access to a non-present page in kernel mode",
            "RIP 0x",
            "fault_on_purpose",
            "CR2 0x00000deadbeef000",
            "RAX 0x",
            "R15 0x",
            "backtrace:",
            "kernel_main",
        ],
    ),
    (
        "invalid-opcode",
        &[
            "CPU exception 6 (#UD invalid opcode)",
            "RIP 0x",
            "fault_on_purpose",
            "backtrace:",
            "kernel_main",
        ],
    ),
    (
        "panic",
        &[
            "KERNEL PANIC at kernels/tessera/src/selftest.rs",
            "deliberate panic",
            "backtrace:",
            "fault_on_purpose",
            "kernel_main",
        ],
    ),
];

fn deliberate_fault(
    kernel: &Kernel,
    kind: &str,
    expect: &[&str],
    verbose: bool,
) -> Result<(), String> {
    let run = boot(kernel, &format!("tessera.fault={kind}"), verbose)?;
    expect_in_order(
        &run.output,
        &expect.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )?;
    if run.verdict != Verdict::Panic {
        return Err(format!(
            "expected the panic exit code, got: {}",
            run.verdict.describe()
        ));
    }
    Ok(())
}

/// Runs another `cargo xtask` command; its output goes to the console, its exit code decides.
fn xtask_subcommand(args: &[&str]) -> Result<(), String> {
    let status = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(args)
        .current_dir(crate::root())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo xtask {} exited {:?}",
            args.join(" "),
            status.code()
        ))
    }
}

/// Bad configs, each refused by `cargo xtask build` with exit 1 and a message naming the file,
/// the key and (where a value is wrong) the allowed values: (the key whose line of fast's
/// `[components]` is replaced, what replaces it, what the message must contain).
const BAD_CONFIGS: [(&str, &str, &[&str]); 5] = [
    (
        "page-alloc",
        "page-alloc = \"slab\"",
        &[
            "bad.toml",
            "components.page-alloc",
            "\"slab\"",
            "\"bitmap\"",
            "\"buddy\"",
        ],
    ),
    // Two variants of one key, as a list or as the key twice.
    (
        "page-alloc",
        "page-alloc = [\"bitmap\", \"buddy\"]",
        &["bad.toml", "components.page-alloc", "\"bitmap\", \"buddy\""],
    ),
    (
        "page-alloc",
        "page-alloc = \"buddy\"\npage-alloc = \"bitmap\"",
        &["bad.toml", "page-alloc = \"bitmap\"", "duplicate key"],
    ),
    // A component with one variant is still checked, and still required.
    (
        "sched",
        "sched = \"cfs\"",
        &["bad.toml", "components.sched", "\"cfs\"", "\"round-robin\""],
    ),
    (
        "sched",
        "",
        &[
            "bad.toml",
            "missing required key components.sched",
            "\"round-robin\"",
        ],
    ),
];

fn refuses_bad_config() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("tessera-bad-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = BAD_CONFIGS
        .iter()
        .try_for_each(|(key, line, named)| refuses_one(&dir, key, line, named));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn refuses_one(dir: &std::path::Path, key: &str, line: &str, named: &[&str]) -> Result<(), String> {
    let path = dir.join("bad.toml");
    let fast = std::fs::read_to_string(crate::root().join("configs/fast.toml"))
        .map_err(|e| e.to_string())?;
    let original = fast
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .ok_or(format!("configs/fast.toml has no `{key} = ` line"))?;
    std::fs::write(&path, fast.replace(original, line)).map_err(|e| e.to_string())?;
    let out = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["build", "--config", &path.to_string_lossy()])
        .current_dir(crate::root())
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(Code::ToolError as i32)
        || !named.iter().all(|n| stderr.contains(n))
    {
        return Err(format!(
            "{line:?}: expected exit 1 and a message naming {named:?}; got {:?}:\n{stderr}",
            out.status.code()
        ));
    }
    Ok(())
}

fn refuses_mismatched_features() -> Result<(), String> {
    let out = cargo()
        .args([
            "build",
            "-p",
            "tessera-kernel",
            "--target",
            crate::setup::KERNEL_TARGET,
            "--profile",
            "kernel",
        ])
        .args([
            "--no-default-features",
            "--features",
            "page-alloc-bitmap,page-alloc-buddy,memops-erms,lock-no-irq",
        ])
        .env("TESSERA_CONFIG", "fast")
        // The shared target directory: the dependencies this compiles are the fast config's.
        .env("CARGO_TARGET_DIR", kernel::target_dir())
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success()
        || !stderr.contains("configs/fast.toml")
        || !stderr.contains("+page-alloc-bitmap (components.page-alloc = \"buddy\")")
        || !stderr.contains("lto \"unknown\"")
        || !stderr.contains("cargo xtask build")
    {
        return Err(format!(
            "a kernel build with two page allocators (and no lto from xtask) must be refused, naming the config file and the key:\n{stderr}"
        ));
    }
    Ok(())
}
