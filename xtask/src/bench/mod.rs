//! `cargo xtask bench` and `cargo xtask ab`: the system-call benchmark on Tessera and on
//! Linux under the same QEMU, and A/B comparisons of two kernels (docs/benchmarks.md).
//!
//! | command | what it does |
//! |---|---|
//! | `bench [--config NAME\|linux] [--mode icount\|wall] [--quick] [--only a,b]` | one run: table on stdout, `target/bench/<label>-<mode>[-quick].json` |
//! | `ab [--a SPEC] [--b SPEC] [--mode icount\|wall\|both] [--runs N] [--quick] [--only a,b]` | A and B interleaved N times: medians, min/max, B/A, verdict; `target/bench/ab-<a>-<b>-<mode>.{md,json,svg}`; `both`: the two comparisons and `ab-<a>-<b>-both.md`, the views side by side |
//! | `bench --smoke`, [`smoke`], [`workload_smoke`], [`net_smoke`] | for `cargo xtask test`: quick icount runs on `fast`, twice, identical figures; the workloads and the Debian benchmarks (output checked) and quick network runs on `fast` and Linux |
//!
//! A SPEC is `linux`, a config (`fast`, `path/x.toml`) or an ablation of one
//! (`fast,dcache=off`: see [`target`]). Every kernel boots the same initramfs (the program as
//! `/init`, see [`program`]) on the same machine (`qemu::Boot`: q35, `-cpu max`, the config's
//! memory, one CPU). A run counts only if the program printed every requested result and
//! `BENCH-DONE` and the kernel then powered off; a hang, crash, timeout or error line is a
//! failure, reported as such and never as a number.
//!
//! The network benchmarks need more: a virtio-net card, the host peer, and (Linux) the
//! card's modules. They run in a boot of their own ([`network`]), always in the wall view,
//! whatever `--mode` says for the system-call benchmarks; on a kernel without network
//! they are "not applicable", which is neither a figure nor a failure.
//!
//! The workloads ([`catalog::Group::Workload`]: BusyBox scripts, file-tree work) run in the
//! system-call boot, whose archive then carries BusyBox; one operation is one run of the
//! workload, and the program checks each run's output. They run only when asked for
//! (`--only workload` or by name).
//!
//! The Debian benchmarks ([`catalog::Group::Debian`]: Debian's python3 and bash) need
//! Debian's root file system: they run in a boot of their own ([`debian`]), whose archive
//! is that tree with the program and whose machine has more memory, the same for every
//! kernel; only when asked for (`--only debian` or by name).
//!
//! Modules: [`program`] (build + initramfs), [`target`] (specs, ablations, identity),
//! [`network`] and [`peer`] (the network boot and the host side), [`parse`] (console
//! lines), [`stats`] (median, ranges, verdicts), [`report`] (tables, Markdown, JSON),
//! [`svg`] (the A/B chart), [`views`] (`ab --mode both`: icount and wall side by side),
//! [`catalog`] (names, descriptions, units).

pub mod catalog;
pub mod debian;
pub mod json;
pub mod network;
pub mod parse;
pub mod peer;
pub mod program;
pub mod report;
pub mod stats;
pub mod svg;
pub mod target;
pub mod views;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::exit::{Code, Verdict};
use crate::qemu::{self, Mode};
use crate::{kernel, setup};
use parse::Outcome;
use target::{Prepared, Spec};

/// A full run: generous for TCG (a full icount run of `fast` takes a few minutes; the
/// unoptimised `baseline` and Linux's boot take longer).
const FULL_TIMEOUT: Duration = Duration::from_secs(40 * 60);
/// A quick run.
const QUICK_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long a kernel has to power off once the program printed `BENCH-DONE` (it takes
/// well under a second): a hang there fails the run at once instead of at the timeout.
const POWER_OFF_GRACE: Duration = Duration::from_secs(60);

/// The benchmarks [`smoke`] runs.
pub const SMOKE_BENCHMARKS: &[&str] = &["getpid", "pipe", "stat", "fork_exit"];

/// What [`workload_smoke`] runs: the workload group and the two targeted benchmarks that
/// need the programs it packs, and the Debian group (in its own boot).
pub const WORKLOAD_SMOKE_BENCHMARKS: &[&str] =
    &["workload", "file_fault", "fork_exec_2mb", "debian"];

/// The kernels [`workload_smoke`] runs the workloads on.
pub const WORKLOAD_SMOKE_KERNELS: &[&str] = &["fast", "linux"];

/// The kernels [`net_smoke`] runs the network benchmarks on.
pub const NET_SMOKE_KERNELS: &[&str] = &["fast", "linux"];

/// Interleaved network boots per side in `ab --mode icount`, where one run of each
/// deterministic side is enough for the system-call benchmarks but the network figures,
/// being wall figures, need several to show their spread.
pub const NET_RUNS_ICOUNT: usize = 3;

/// The machine every run of a report used.
#[derive(Clone, Debug)]
pub struct Machine {
    /// First line of `qemu-system-x86_64 --version`.
    pub qemu: String,
    /// The guest CPU model given to QEMU (`qemu::Boot` always passes `-cpu max`).
    pub cpu_model: &'static str,
    /// The host's CPU (`model name` of /proc/cpuinfo): matters for the wall view.
    pub host_cpu: String,
    pub memory_mib: u32,
    /// The memory of the Debian boots, when they ran.
    pub debian_memory_mib: Option<u32>,
}

impl Machine {
    fn describe(memory_mib: u32, debian: bool) -> Machine {
        let qemu = setup::qemu_version().unwrap_or_else(|| "unknown".into());
        let host_cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        Machine {
            qemu,
            cpu_model: "max",
            host_cpu,
            memory_mib,
            debian_memory_mib: debian.then_some(debian::MEMORY_MIB),
        }
    }
}

/// Which boot of a kernel a run is: each has an archive of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootKind {
    /// The system-call benchmarks, the threads and the workloads: the config's memory.
    System,
    /// The network benchmarks: a virtio-net card and the host peer.
    Network,
    /// The Debian benchmarks: Debian's root file system, [`debian::MEMORY_MIB`].
    Debian,
}

/// One boot of one kernel with the benchmark program.
#[derive(Clone, Debug)]
pub struct Run {
    /// Each requested benchmark's outcome, in program order.
    pub outcomes: Vec<(String, Outcome)>,
    /// What is wrong with the run as a whole (empty when it finished properly).
    pub problems: Vec<String>,
    pub verdict: Verdict,
    /// Host seconds the boot took.
    pub seconds: f64,
    /// The console, for diagnosing failures.
    pub console: String,
    /// Which boot it was.
    pub boot: BootKind,
    /// Whether a kernel booted (not for a run of benchmarks that do not apply).
    pub booted: bool,
}

impl Run {
    /// A run that needed no boot: every benchmark gets `outcome` (not applicable, or a
    /// failure known in advance).
    pub fn without_boot(benchmarks: &[&str], outcome: Outcome, boot: BootKind) -> Run {
        Run {
            outcomes: benchmarks
                .iter()
                .map(|name| (name.to_string(), outcome.clone()))
                .collect(),
            problems: Vec::new(),
            verdict: Verdict::QemuStatus(0),
            seconds: 0.0,
            console: String::new(),
            boot,
            booted: false,
        }
    }

    /// Whether every requested benchmark has a figure (or does not apply) and the run
    /// ended properly.
    pub fn complete(&self) -> bool {
        self.problems.is_empty()
            && self
                .outcomes
                .iter()
                .all(|(_, o)| matches!(o, Outcome::Measured(_) | Outcome::NotApplicable(_)))
    }

    /// "boot", "network boot" or "Debian boot", for messages.
    pub fn kind(&self) -> &'static str {
        match self.boot {
            BootKind::System => "boot",
            BootKind::Network => "network boot",
            BootKind::Debian => "Debian boot",
        }
    }

    /// The exit code of a run that is not complete.
    fn failure_code(&self) -> Code {
        match self.verdict {
            Verdict::Timeout | Verdict::Panic => self.verdict.code(),
            _ => Code::TestFailure,
        }
    }

    /// The problems, then the last console lines.
    fn diagnosis(&self) -> String {
        let mut text = String::new();
        for problem in &self.problems {
            text.push_str(&format!("  {problem}\n"));
        }
        for (name, outcome) in &self.outcomes {
            if let Outcome::Failed(why) = outcome {
                text.push_str(&format!("  {name}: {why}\n"));
            }
        }
        text.push_str("  --- last console lines:\n");
        for line in crate::console::tail(&self.console, 15).lines() {
            text.push_str(&format!("  {line}\n"));
        }
        text
    }
}

/// What a run asks the program for.
#[derive(Clone, Debug)]
pub struct Request {
    pub mode: Mode,
    pub quick: bool,
    /// The benchmarks, in program order.
    pub benchmarks: Vec<&'static str>,
    pub timeout: Duration,
    /// Copy the console to stderr as it arrives.
    pub echo: bool,
}

/// Boots `kernel` with `initrd` as the boot of `kind` (the network boot with a card, the
/// Debian boot with [`debian::MEMORY_MIB`]) and reads what the program printed.
pub fn run(
    kernel: &Prepared,
    initrd: &Path,
    request: &Request,
    kind: BootKind,
) -> Result<Run, String> {
    let started = Instant::now();
    let mut boot = kernel.boot(request.mode, initrd, kind == BootKind::Network);
    if kind == BootKind::Debian {
        boot.memory_mib = debian::MEMORY_MIB;
    }
    let captured = qemu::run_captured_until(
        &boot,
        request.timeout,
        request.echo,
        Some((parse::DONE, POWER_OFF_GRACE)),
    )?;
    let parsed = parse::parse(&captured.output);
    let mut problems = parsed.run_problems(&request.benchmarks, request.quick);
    if parsed.done && captured.verdict == Verdict::Timeout {
        problems.push(format!(
            "the kernel did not power off within {} s of {} (QEMU killed)",
            POWER_OFF_GRACE.as_secs(),
            parse::DONE
        ));
    }
    // Tessera powers off with its success code; Linux's power-off exits QEMU with 0, which
    // a panic (init died, panic=-1 reboots, -no-reboot stops) also does: look for it.
    let expected = match kernel.identity.kind {
        "linux" => Verdict::QemuStatus(0),
        _ => Verdict::Success,
    };
    if captured.verdict != expected {
        problems.push(format!(
            "the kernel ended with: {}",
            captured.verdict.describe()
        ));
    }
    if kernel.identity.kind == "linux" && captured.output.contains("Kernel panic") {
        problems.push("Linux panicked".into());
    }
    Ok(Run {
        outcomes: parsed.outcomes_for(&request.benchmarks),
        problems,
        verdict: captured.verdict,
        seconds: started.elapsed().as_secs_f64(),
        console: captured.output,
        boot: kind,
        booted: true,
    })
}

/// The options `bench` and `ab` share.
struct Common {
    mode: Mode,
    quick: bool,
    /// The system-call benchmarks selected (the main boot), in program order.
    system: Vec<&'static str>,
    /// The network benchmarks selected (the network boot), in program order.
    network: Vec<&'static str>,
    /// The Debian benchmarks selected (the Debian boot), in program order.
    debian: Vec<&'static str>,
    /// The view of the network boot: wall, unless `bench --net-mode icount` asks for the
    /// experiment of docs/benchmarks.md.
    net_mode: Mode,
    timeout: Duration,
    echo: bool,
}

fn common_options(args: &mut Args) -> Result<Common, String> {
    let mode = Mode::parse(&args.value("mode")?.unwrap_or_else(|| "icount".into()))?;
    let quick = args.flag("quick");
    let only = args.value("only")?;
    let benchmarks = catalog::select(only.as_deref())?;
    let timeout = match args.value("timeout")? {
        Some(t) => Duration::from_secs(
            t.parse()
                .map_err(|_| format!("--timeout {t}: a number of seconds"))?,
        ),
        None if quick => QUICK_TIMEOUT,
        None => FULL_TIMEOUT,
    };
    let (network, others): (Vec<&str>, Vec<&str>) =
        benchmarks.into_iter().partition(|n| catalog::is_network(n));
    let (debian, system): (Vec<&str>, Vec<&str>) =
        others.into_iter().partition(|n| catalog::is_debian(n));
    Ok(Common {
        mode,
        quick,
        system,
        network,
        debian,
        net_mode: Mode::Wall,
        timeout,
        echo: args.flag("verbose"),
    })
}

impl Common {
    fn request(&self) -> Request {
        Request {
            mode: self.mode,
            quick: self.quick,
            benchmarks: self.system.clone(),
            timeout: self.timeout,
            echo: self.echo,
        }
    }

    /// The initramfs of the system-call boot (this command's own).
    fn initrd(&self, name: &str) -> Result<crate::initrd::Private, String> {
        let programs = program::build()?;
        let args = program::args_text(self.quick, &self.system, None);
        let extras = program::extras_for(&programs, &self.system)?;
        program::initrd(name, &programs, &args, &[], extras)
    }

    /// The Debian boots' archive and settings, when Debian benchmarks are selected.
    fn debian(&self) -> Result<Option<debian::DebianBench>, String> {
        if self.debian.is_empty() {
            return Ok(None);
        }
        debian::DebianBench::start(Request {
            benchmarks: self.debian.clone(),
            ..self.request()
        })
        .map(Some)
    }

    /// The network boots' host peer and settings, when network benchmarks are selected.
    fn network(&self) -> Result<Option<network::NetBench>, String> {
        if self.network.is_empty() {
            return Ok(None);
        }
        network::NetBench::start(Request {
            mode: self.net_mode,
            quick: self.quick,
            benchmarks: self.network.clone(),
            timeout: self.timeout,
            echo: self.echo,
        })
        .map(Some)
    }

    /// Every benchmark of one kernel: the system-call boot, the Debian boot and the
    /// network boot, as selected.
    fn run_all(
        &self,
        kernel: &Prepared,
        initrd: Option<&Path>,
        debian: Option<&debian::DebianBench>,
        net: Option<&network::NetBench>,
    ) -> Result<Vec<Run>, String> {
        let mut runs = Vec::new();
        if let Some(initrd) = initrd {
            runs.push(run(kernel, initrd, &self.request(), BootKind::System)?);
        }
        if let Some(debian) = debian {
            runs.push(debian.run(kernel)?);
        }
        if let Some(net) = net {
            runs.push(net.run(kernel)?);
        }
        Ok(runs)
    }
}

/// `icount` or `wall`.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Icount => "icount",
        Mode::Wall => "wall",
    }
}

/// The memory Linux gets: the Tessera side's, or `fast`'s when no side is Tessera.
fn linux_memory(prepared: &[&Prepared]) -> Result<u32, String> {
    match prepared.iter().find(|p| p.identity.kind == "tessera") {
        Some(p) => Ok(p.memory_mib),
        None => Ok(kernel::load_config("fast")?.memory_mib),
    }
}

/// Builds or fetches the kernels of `specs`, Tessera first so Linux gets their memory size.
fn prepare_all(specs: &[&Spec]) -> Result<Vec<Prepared>, String> {
    let mut done: Vec<Option<Prepared>> = specs.iter().map(|_| None).collect();
    for (i, spec) in specs.iter().enumerate() {
        if **spec != Spec::Linux {
            done[i] = Some(target::prepare(spec, 0)?);
        }
    }
    let present: Vec<&Prepared> = done.iter().flatten().collect();
    let memory = linux_memory(&present)?;
    for (i, spec) in specs.iter().enumerate() {
        if **spec == Spec::Linux {
            done[i] = Some(target::prepare(spec, memory)?);
        }
    }
    Ok(done.into_iter().flatten().collect())
}

/// A name usable in a file name.
fn file_part(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Where reports go.
pub fn output_dir() -> PathBuf {
    kernel::target_dir().join("bench")
}

/// `cargo xtask bench`.
pub fn bench_command(args: &mut Args) -> Result<Code, String> {
    if args.flag("smoke") {
        args.finish()?;
        println!(
            "bench: smoke check: quick icount runs of {} on fast, twice; quick icount runs of \
             {} on {}; quick network runs on {}",
            SMOKE_BENCHMARKS.join(","),
            WORKLOAD_SMOKE_BENCHMARKS.join(","),
            WORKLOAD_SMOKE_KERNELS.join(" and "),
            NET_SMOKE_KERNELS.join(" and ")
        );
        return match smoke()
            .and_then(|()| workload_smoke())
            .and_then(|()| net_smoke())
        {
            Ok(()) => {
                println!(
                    "bench: smoke check passed: icount runs complete and identical, workloads \
                     complete with their output checked, network runs complete and verified \
                     by the host peer"
                );
                Ok(Code::Ok)
            }
            Err(why) => {
                println!("bench: smoke check FAILED: {why}");
                Ok(Code::TestFailure)
            }
        };
    }
    let spec = Spec::parse(&args.value("config")?.unwrap_or_else(|| "fast".into()))?;
    let net_mode = args.value("net-mode")?;
    let mut common = common_options(args)?;
    args.finish()?;
    if let Some(mode) = net_mode {
        common.net_mode = Mode::parse(&mode)?;
    }
    let initrd = match common.system.is_empty() {
        true => None,
        false => Some(common.initrd("bench")?),
    };
    let kernel = prepare_all(&[&spec])?.remove(0);
    let debian = common.debian()?;
    let net = common.network()?;
    println!(
        "bench: {} ({} mode{}): {} benchmarks{}{}",
        kernel.identity.label,
        mode_name(common.mode),
        if common.quick { ", quick" } else { "" },
        common.system.len() + common.debian.len() + common.network.len(),
        match &debian {
            Some(_) => format!(
                "; the {} Debian benchmarks in a boot of their own (Debian's root file \
                 system, {} MiB)",
                common.debian.len(),
                debian::MEMORY_MIB
            ),
            None => String::new(),
        },
        match &net {
            Some(_) => format!(
                "; the {} network benchmarks in a boot of their own ({} view, virtio-net \
                 card, a host peer on 127.0.0.1 of its own)",
                common.network.len(),
                mode_name(common.net_mode),
            ),
            None => String::new(),
        }
    );
    let single = report::Single {
        identity: kernel.identity.clone(),
        machine: Machine::describe(kernel.memory_mib, debian.is_some()),
        mode: common.mode,
        net_mode: common.net_mode,
        quick: common.quick,
        runs: common.run_all(&kernel, initrd.as_deref(), debian.as_ref(), net.as_ref())?,
    };
    print!("{}", report::single_table(&single));
    let path = output_dir().join(format!(
        "{}-{}{}.json",
        file_part(&single.identity.label),
        mode_name(common.mode),
        if common.quick { "-quick" } else { "" }
    ));
    write_file(&path, &json::render(&report::single_json(&single)))?;
    println!("bench: wrote {}", kernel::display_path(&path));
    match single.runs.iter().find(|r| !r.complete()) {
        None => Ok(Code::Ok),
        Some(failed) => {
            for run in single.runs.iter().filter(|r| !r.complete()) {
                println!("bench: {} FAILED\n{}", run.kind(), run.diagnosis());
            }
            Ok(failed.failure_code())
        }
    }
}

/// `cargo xtask ab`. `--mode both` runs the icount comparison and then the wall one, and
/// adds a table of the two side by side ([`views`]).
pub fn ab_command(args: &mut Args) -> Result<Code, String> {
    let a = Spec::parse(&args.value("a")?.unwrap_or_else(|| "baseline".into()))?;
    let b = Spec::parse(&args.value("b")?.unwrap_or_else(|| "fast".into()))?;
    let runs = args.value("runs")?;
    let modes = match args.value("mode")?.as_deref() {
        Some("both") => vec![Mode::Icount, Mode::Wall],
        other => vec![
            Mode::parse(other.unwrap_or("icount")).map_err(|e| format!("{e}, both (ab only)"))?,
        ],
    };
    let mut common = common_options(args)?;
    args.finish()?;
    let runs = match runs {
        Some(n) => Some(
            n.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("--runs {n}: a positive number"))?,
        ),
        None => None,
    };
    let mut kernels = prepare_all(&[&a, &b])?;
    let (kb, ka) = (kernels.remove(1), kernels.remove(0));
    let mut comparisons = Vec::new();
    let mut code = Code::Ok;
    let network = std::mem::take(&mut common.network);
    for &mode in &modes {
        common.mode = mode;
        // The network benchmarks are wall figures whatever the mode: with both views,
        // they run once, with the wall comparison.
        common.network = match (modes.len(), mode) {
            (2, Mode::Icount) => Vec::new(),
            _ => network.clone(),
        };
        let (comparison, pass) = ab_pass(&common, [&ka, &kb], runs)?;
        if code == Code::Ok {
            code = pass;
        }
        comparisons.push(comparison);
    }
    if let [icount, wall] = &comparisons[..] {
        let text = views::markdown(icount, wall);
        print!("\n{text}");
        let path = output_dir().join(format!(
            "ab-{}-{}-both{}.md",
            file_part(&ka.identity.label),
            file_part(&kb.identity.label),
            if common.quick { "-quick" } else { "" }
        ));
        write_file(&path, &text)?;
        println!("ab: wrote {}", kernel::display_path(&path));
    }
    Ok(code)
}

/// One comparison of A and B in `common.mode`: `runs` interleaved boots per side (by
/// default one per deterministic side in icount mode, three when Linux is a side, five in
/// wall mode), the report printed and written. Returns it with the exit code it implies.
fn ab_pass(
    common: &Common,
    [ka, kb]: [&Prepared; 2],
    runs: Option<usize>,
) -> Result<(report::Comparison, Code), String> {
    let linux = ka.identity.kind == "linux" || kb.identity.kind == "linux";
    let runs = match runs {
        Some(n) => n,
        // Tessera under icount is deterministic: one run each says everything. Linux's
        // figures vary a little from boot to boot (random choices), so three runs show
        // by how much.
        None if common.mode == Mode::Icount && !linux => 1,
        None if common.mode == Mode::Icount => 3,
        None => 5,
    };
    // The network boots are wall figures in every mode: in icount mode, at least
    // NET_RUNS_ICOUNT of them per side.
    let net_runs = match common.mode {
        Mode::Icount => runs.max(NET_RUNS_ICOUNT),
        Mode::Wall => runs,
    };
    let system_runs = if common.system.is_empty() { 0 } else { runs };
    let initrd = match system_runs {
        0 => None,
        _ => Some(common.initrd("bench")?),
    };
    let debian_runs = if common.debian.is_empty() { 0 } else { runs };
    let debian = common.debian()?;
    let net = common.network()?;
    let request = common.request();
    let mut a_runs = Vec::new();
    let mut b_runs = Vec::new();
    let rounds = system_runs
        .max(debian_runs)
        .max(if net.is_some() { net_runs } else { 0 });
    // Interleaved, so slow phases of a shared host hit both sides alike.
    for round in 1..=rounds {
        for (kernel, into) in [(ka, &mut a_runs), (kb, &mut b_runs)] {
            let mut boots = Vec::new();
            if let Some(initrd) = initrd.as_deref().filter(|_| round <= system_runs) {
                println!(
                    "ab: run {round}/{system_runs}: {} ({} mode)",
                    kernel.identity.label,
                    mode_name(common.mode)
                );
                boots.push(run(kernel, initrd, &request, BootKind::System)?);
            }
            if let Some(debian) = debian.as_ref().filter(|_| round <= debian_runs) {
                println!(
                    "ab: Debian run {round}/{debian_runs}: {} ({} mode)",
                    kernel.identity.label,
                    mode_name(common.mode)
                );
                boots.push(debian.run(kernel)?);
            }
            if let Some(net) = net.as_ref().filter(|_| round <= net_runs) {
                if net.applies(ka) && net.applies(kb) {
                    println!(
                        "ab: network run {round}/{net_runs}: {} (wall view)",
                        kernel.identity.label
                    );
                    boots.push(net.run(kernel)?);
                } else if round == 1 && !net.applies(kernel) {
                    // Not applicable to this side: no boot, and none of the other side
                    // either (there is nothing to compare it with).
                    boots.push(net.run(kernel)?);
                }
            }
            for result in boots {
                if !result.complete() {
                    println!(
                        "ab: {} {} {round} FAILED\n{}",
                        kernel.identity.label,
                        result.kind(),
                        result.diagnosis()
                    );
                }
                into.push(result);
            }
        }
    }
    let benchmarks: Vec<&str> = common
        .system
        .iter()
        .chain(&common.debian)
        .chain(&common.network)
        .copied()
        .collect();
    let comparison = report::Comparison::new(
        [ka.identity.clone(), kb.identity.clone()],
        Machine::describe(ka.memory_mib, debian.is_some()),
        common.mode,
        common.quick,
        &benchmarks,
        [&a_runs, &b_runs],
    );
    print!("{}", report::comparison_markdown(&comparison));
    let stem = format!(
        "ab-{}-{}-{}{}",
        file_part(&ka.identity.label),
        file_part(&kb.identity.label),
        mode_name(common.mode),
        if common.quick { "-quick" } else { "" }
    );
    let dir = output_dir();
    write_file(
        &dir.join(format!("{stem}.md")),
        &report::comparison_markdown(&comparison),
    )?;
    write_file(
        &dir.join(format!("{stem}.json")),
        &json::render(&report::comparison_json(&comparison)),
    )?;
    write_file(&dir.join(format!("{stem}.svg")), &svg::chart(&comparison))?;
    println!(
        "ab: wrote {}.{{md,json,svg}}",
        kernel::display_path(&dir.join(&stem))
    );
    let failed: Vec<&Run> = a_runs
        .iter()
        .chain(&b_runs)
        .filter(|r| !r.complete())
        .collect();
    let code = match failed.first() {
        None if comparison.rows.iter().all(|r| !r.result.failed()) => Code::Ok,
        None => Code::TestFailure,
        Some(run) => run.failure_code(),
    };
    Ok((comparison, code))
}

/// A quick icount boot of `kernel` with `benchmarks`; an error unless every one of them
/// has a figure and the run finished properly.
fn quick_run(kernel: &Prepared, name: &str, benchmarks: &[&'static str]) -> Result<Run, String> {
    let programs = program::build()?;
    let args = program::args_text(true, benchmarks, None);
    let extras = program::extras_for(&programs, benchmarks)?;
    let initrd = program::initrd(name, &programs, &args, &[], extras)?;
    let request = Request {
        mode: Mode::Icount,
        quick: true,
        benchmarks: benchmarks.to_vec(),
        timeout: QUICK_TIMEOUT,
        echo: false,
    };
    fully_measured(kernel, run(kernel, &initrd, &request, BootKind::System)?)
}

/// `result`, if it is complete with every benchmark measured; otherwise an error.
fn fully_measured(kernel: &Prepared, result: Run) -> Result<Run, String> {
    let measured = result
        .outcomes
        .iter()
        .all(|(_, o)| matches!(o, Outcome::Measured(_)));
    if result.complete() && measured {
        Ok(result)
    } else {
        Err(format!(
            "{}: quick {} incomplete:\n{}",
            kernel.identity.label,
            result.kind(),
            result.diagnosis()
        ))
    }
}

/// The end-to-end check for `cargo xtask test`: the quick mode of [`SMOKE_BENCHMARKS`] on
/// `fast` in icount mode, twice. Both runs must complete with every benchmark measured,
/// and give identical figures (icount is deterministic: a difference is a bug in the
/// harness, the program or the kernel's clock).
pub fn smoke() -> Result<(), String> {
    let kernel = target::prepare(&Spec::parse("fast")?, 0)?;
    let first = quick_run(&kernel, "bench-smoke", SMOKE_BENCHMARKS)?;
    let second = quick_run(&kernel, "bench-smoke", SMOKE_BENCHMARKS)?;
    let differences = identical(&first, &second);
    if differences.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "icount runs differ (they must be identical):\n{}",
            differences.join("\n")
        ))
    }
}

/// The workloads end to end, for `cargo xtask test`: [`WORKLOAD_SMOKE_BENCHMARKS`] in quick
/// mode (one run of each workload after its warm-up run) on each of
/// [`WORKLOAD_SMOKE_KERNELS`], icount view: the workloads in the system-call boot, the
/// Debian benchmarks in the Debian boot. The program checks every run's output, so a wrong
/// result is an error line and fails this, as does a missing one. Speed is not checked.
pub fn workload_smoke() -> Result<(), String> {
    let (debian, benchmarks): (Vec<&str>, Vec<&str>) =
        catalog::select(Some(&WORKLOAD_SMOKE_BENCHMARKS.join(",")))?
            .into_iter()
            .partition(|n| catalog::is_debian(n));
    let specs: Vec<Spec> = WORKLOAD_SMOKE_KERNELS
        .iter()
        .map(|s| Spec::parse(s))
        .collect::<Result<_, _>>()?;
    let debian = debian::DebianBench::start(Request {
        mode: Mode::Icount,
        quick: true,
        benchmarks: debian,
        timeout: QUICK_TIMEOUT,
        echo: false,
    })?;
    for kernel in prepare_all(&specs.iter().collect::<Vec<_>>())? {
        quick_run(&kernel, "bench-workload-smoke", &benchmarks)?;
        fully_measured(&kernel, debian.run(&kernel)?)?;
    }
    Ok(())
}

/// The network path end to end, for `cargo xtask test`: the quick network benchmarks on
/// each of [`NET_SMOKE_KERNELS`] (Tessera's card set up at boot; Linux's modules loaded by
/// the program). Every benchmark must have a figure backed by traffic the host peer
/// verified, and nothing may have gone wrong on either side. Speed is not checked.
pub fn net_smoke() -> Result<(), String> {
    let benchmarks: Vec<&'static str> = catalog::CATALOG
        .iter()
        .filter(|b| b.network())
        .map(|b| b.name)
        .collect();
    let net = network::NetBench::start(Request {
        mode: Mode::Wall,
        quick: true,
        benchmarks,
        timeout: QUICK_TIMEOUT,
        echo: false,
    })?;
    let specs: Vec<Spec> = NET_SMOKE_KERNELS
        .iter()
        .map(|s| Spec::parse(s))
        .collect::<Result<_, _>>()?;
    let kernels = prepare_all(&specs.iter().collect::<Vec<_>>())?;
    for kernel in &kernels {
        let result = net.run(kernel)?;
        let measured = result
            .outcomes
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Measured(_)));
        if !result.complete() || !measured {
            return Err(format!(
                "{}: network run incomplete:\n{}",
                kernel.identity.label,
                result.diagnosis()
            ));
        }
    }
    Ok(())
}

/// The benchmarks whose figures differ between two runs, described.
fn identical(first: &Run, second: &Run) -> Vec<String> {
    first
        .outcomes
        .iter()
        .zip(&second.outcomes)
        .filter(|(x, y)| x != y)
        .map(|((name, x), (_, y))| format!("  {name}: {x:?} then {y:?}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use parse::Measurement;

    fn run_with(outcomes: &[(&str, Outcome)]) -> Run {
        Run {
            outcomes: outcomes
                .iter()
                .map(|(n, o)| (n.to_string(), o.clone()))
                .collect(),
            problems: Vec::new(),
            verdict: Verdict::Success,
            seconds: 1.0,
            console: String::new(),
            boot: BootKind::System,
            booted: true,
        }
    }

    fn measured(total_ns: u64) -> Outcome {
        Outcome::Measured(Measurement {
            iters: 10,
            total_ns,
            bytes_per_op: None,
        })
    }

    #[test]
    fn completeness_needs_every_figure_and_no_problem() {
        let good = run_with(&[("getpid", measured(100))]);
        assert!(good.complete());
        let failed = run_with(&[("getpid", Outcome::Failed("x".into()))]);
        assert!(!failed.complete());
        let mut hung = good.clone();
        hung.problems.push("no BENCH-DONE".into());
        hung.verdict = Verdict::Timeout;
        assert!(!hung.complete());
        assert_eq!(hung.failure_code(), Code::Timeout);
    }

    #[test]
    fn identical_compares_exact_figures() {
        let a = run_with(&[("getpid", measured(100)), ("stat", measured(500))]);
        assert!(identical(&a, &a.clone()).is_empty());
        let b = run_with(&[("getpid", measured(100)), ("stat", measured(501))]);
        let diff = identical(&a, &b);
        assert_eq!(diff.len(), 1);
        assert!(diff[0].contains("stat"));
    }

    #[test]
    fn file_names_stay_plain() {
        assert_eq!(file_part("fast+dcache=off"), "fast+dcache=off");
        assert_eq!(file_part("a/b c"), "a_b_c");
    }
}
