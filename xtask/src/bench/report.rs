//! The reports: one kernel's run ([`Single`]: a terminal table and JSON) and an A/B
//! comparison ([`Comparison`]: Markdown, which is also what the terminal shows, and JSON).
//!
//! Every report names what produced it: the kernels (config, variants, profile, or the
//! Linux package and version string), the git commit, QEMU's version, the guest CPU model,
//! the host CPU, the mode, whether the counts were the quick ones, and the command. A
//! failed benchmark appears as its error, never as a figure; one that does not apply (a
//! network benchmark on a kernel without network) says so, and is neither.
//!
//! The network benchmarks get a section of their own: their figures come from another
//! boot, in the wall view whatever the mode, and their operation is a MB or a connection,
//! shown as time per MB or per connection (lower is better, like every other figure, so
//! B/A and the verdicts read the same way) with the rate beside it.

use std::collections::BTreeSet;

use super::catalog::{self, Group, Op};
use super::json;
use super::parse::Outcome;
use super::stats::{self, Summary};
use super::target::Identity;
use super::{BootKind, Machine, Run, mode_name};
use crate::qemu::Mode;

/// The command line that produced a report (`cargo xtask ab --a baseline ...`).
pub fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo xtask {}", args.join(" "))
}

/// What a figure is, in this mode.
pub fn unit(mode: Mode) -> &'static str {
    match mode {
        Mode::Icount => "guest instructions per operation (user loop included)",
        Mode::Wall => "nanoseconds per operation (TCG wall time)",
    }
}

fn short_unit(mode: Mode) -> &'static str {
    match mode {
        Mode::Icount => "instr/op",
        Mode::Wall => "ns/op",
    }
}

/// The first column, the count and the unit of a table of system-call benchmarks or, when
/// `workload`, of workloads (whose operation is one run of the workload).
fn table_words(mode: Mode, workload: bool) -> (&'static str, &'static str, &'static str) {
    match (workload, mode) {
        (false, _) => ("benchmark", "iters", short_unit(mode)),
        (true, Mode::Icount) => ("workload", "runs", "instr/run"),
        (true, Mode::Wall) => ("workload", "runs", "ns/run"),
    }
}

/// `1,234,567` for large figures, `344.5` below 1000.
pub fn figure(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if x.abs() < 1000.0 {
        return format!("{x:.1}");
    }
    let out = count(x.abs().round() as u64);
    if x < 0.0 { format!("-{out}") } else { out }
}

/// `200,000`: a count with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A kernel's identity in one line.
pub fn describe_identity(id: &Identity) -> String {
    let what = match &id.linux_version {
        Some(version) => format!("Linux {version}"),
        None => {
            let variants: Vec<String> = id
                .components
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("Tessera: {}; {}", variants.join(", "), id.profile)
        }
    };
    let modified = match id.modified.len() {
        0 => String::new(),
        n if n <= 3 => format!("; modified: {}", id.modified.join(", ")),
        n => format!("; {n} files modified, e.g. {}", id.modified[..3].join(", ")),
    };
    format!(
        "`{}`: {what} (tree {} at {}{modified})",
        id.label, id.git_describe, id.git_commit
    )
}

fn identity_json(id: &Identity) -> json::Kernel {
    json::Kernel {
        label: id.label.clone(),
        kind: id.kind.into(),
        components: id.components.iter().cloned().collect(),
        profile: id.profile.clone(),
        linux_version: id.linux_version.clone(),
        git_describe: id.git_describe.clone(),
        git_commit: id.git_commit.clone(),
        modified: id.modified.clone(),
    }
}

fn machine_json(m: &Machine) -> json::Machine {
    json::Machine {
        qemu: m.qemu.clone(),
        cpu_model: m.cpu_model.into(),
        host_cpu: m.host_cpu.clone(),
        memory_mib: m.memory_mib,
        debian_memory_mib: m.debian_memory_mib,
        smp: 1,
    }
}

fn what(name: &str) -> Option<String> {
    catalog::info(name).map(|i| i.what.to_string())
}

/// What one operation of `name` is (calls for unknown names).
fn op(name: &str) -> Op {
    catalog::info(name).map_or(Op::Call, |i| i.op)
}

/// The view a benchmark's figures are in: network ones always come from a wall boot
/// (`net_mode` only differs for `bench --net-mode icount`, the experiment).
pub fn view(mode: Mode, net_mode: Mode, name: &str) -> Mode {
    if catalog::is_network(name) {
        net_mode
    } else {
        mode
    }
}

/// A network benchmark's time per operation in its unit (`85.3 ms/MB`).
pub fn time_text(op: Op, ns: f64) -> String {
    let (unit, factor) = op.time_unit();
    format!("{} {unit}", figure(ns * factor))
}

/// Its rate (`11.7 MB/s`), or nothing for a call.
pub fn rate_text(op: Op, ns: f64) -> String {
    op.rate(ns)
        .map(|r| format!("{} {}", figure(r), op.rate_unit()))
        .unwrap_or_default()
}

/// The amount a network benchmark moved (`16 MB`, `200 connections`).
fn amount(op: Op, iters: u64) -> String {
    match op {
        Op::Call => count(iters),
        Op::Megabyte => format!("{} MB", count(iters)),
        Op::Connection => format!("{} connections", count(iters)),
    }
}

/// The view's words for network figures.
fn network_view(net_mode: Mode) -> &'static str {
    match net_mode {
        Mode::Wall => "wall view: a boot of its own with a virtio-net card and the host peer",
        Mode::Icount => {
            "ICOUNT view (the --net-mode experiment): NOT meaningful and NOT deterministic \
             (docs/benchmarks.md)"
        }
    }
}

fn group_name(name: &str) -> &'static str {
    catalog::info(name)
        .map_or(Group::Extended, |i| i.group)
        .name()
}

/// One kernel's run: the system-call boot and the network boot, as selected.
pub struct Single {
    pub identity: Identity,
    pub machine: Machine,
    pub mode: Mode,
    /// The view of the network boot (wall, unless the experiment asked for icount).
    pub net_mode: Mode,
    pub quick: bool,
    pub runs: Vec<Run>,
}

impl Single {
    /// Every outcome, in program order (the system-call boot comes first).
    fn outcomes(&self) -> impl Iterator<Item = &(String, Outcome)> {
        self.runs.iter().flat_map(|r| &r.outcomes)
    }
}

/// The terminal table of one run.
pub fn single_table(s: &Single) -> String {
    let mut out = String::new();
    let (network, system): (Vec<_>, Vec<_>) = s
        .outcomes()
        .partition(|(name, _)| catalog::is_network(name));
    let (workloads, calls): (Vec<_>, Vec<_>) = system
        .into_iter()
        .partition(|(name, _)| catalog::per_run(name));
    for (workload, rows) in [(false, calls), (true, workloads)] {
        if !rows.is_empty() {
            let (first, iters, unit) = table_words(s.mode, workload);
            out.push_str(&format!(
                "{first:<16} {iters:>8} {unit:>14} {:>10}\n",
                if workload { "" } else { "MB/s" }
            ));
        }
        for (name, outcome) in rows {
            match outcome {
                Outcome::Measured(m) => out.push_str(&format!(
                    "{name:<16} {:>8} {:>14} {:>10}\n",
                    m.iters,
                    figure(m.ns_per_op()),
                    m.mb_per_s().map(figure).unwrap_or_default()
                )),
                Outcome::Failed(why) => out.push_str(&format!("{name:<16} FAILED: {why}\n")),
                Outcome::NotApplicable(why) => {
                    out.push_str(&format!("{name:<16} not applicable: {why}\n"))
                }
            }
        }
    }
    if !network.is_empty() {
        out.push_str(&format!(
            "network ({}):\n{:<16} {:>16} {:>16} {:>16}\n",
            network_view(s.net_mode),
            "benchmark",
            "amount",
            "time",
            "rate"
        ));
    }
    for (name, outcome) in network {
        match outcome {
            Outcome::Measured(m) => out.push_str(&format!(
                "{name:<16} {:>16} {:>16} {:>16}\n",
                amount(op(name), m.iters),
                time_text(op(name), m.ns_per_op()),
                rate_text(op(name), m.ns_per_op())
            )),
            Outcome::Failed(why) => out.push_str(&format!("{name:<16} FAILED: {why}\n")),
            Outcome::NotApplicable(why) => {
                out.push_str(&format!("{name:<16} not applicable: {why}\n"))
            }
        }
    }
    let has_system = s.outcomes().any(|(name, _)| !catalog::is_network(name));
    out.push_str(&format!(
        "{}; {}{} ({:.0} s)\n",
        describe_identity(&s.identity),
        if has_system {
            unit(s.mode)
        } else {
            "network only"
        },
        if s.quick { "; QUICK counts" } else { "" },
        s.runs.iter().map(|r| r.seconds).sum::<f64>()
    ));
    out
}

/// The JSON of one run.
pub fn single_json(s: &Single) -> json::SingleReport {
    let benchmarks = s.outcomes().map(|(name, outcome)| json::Benchmark {
        name: name.clone(),
        group: group_name(name).into(),
        outcome: match outcome {
            Outcome::Measured(m) => {
                let rate = op(name).rate(m.ns_per_op());
                json::Outcome::Measured(json::Measured {
                    what: what(name),
                    view: mode_name(view(s.mode, s.net_mode, name)).into(),
                    iters: m.iters,
                    total_ns: m.total_ns,
                    ns_per_op: m.ns_per_op(),
                    bytes_per_op: m.bytes_per_op,
                    mb_per_s: m.mb_per_s(),
                    rate,
                    rate_unit: rate.map(|_| op(name).rate_unit().into()),
                })
            }
            Outcome::Failed(why) => json::Outcome::Failed { error: why.clone() },
            Outcome::NotApplicable(why) => json::Outcome::NotApplicable {
                not_applicable: why.clone(),
            },
        },
    });
    json::SingleReport {
        report: "bench".into(),
        command: command_line(),
        kernel: identity_json(&s.identity),
        machine: machine_json(&s.machine),
        mode: mode_name(s.mode).into(),
        unit: unit(s.mode).into(),
        network_view: network_view(s.net_mode).into(),
        quick: s.quick,
        complete: s.runs.iter().all(Run::complete),
        problems: s
            .runs
            .iter()
            .flat_map(|r| r.problems.iter().map(move |p| format!("{}: {p}", r.kind())))
            .collect(),
        seconds: s.runs.iter().map(|r| r.seconds).sum::<f64>(),
        benchmarks: benchmarks.collect(),
    }
}

/// One benchmark compared.
#[derive(Clone, Debug)]
pub struct Compared {
    pub a: Summary,
    pub b: Summary,
    /// B's median over A's.
    pub ratio: f64,
    pub judgement: stats::Judgement,
}

/// What a row of a comparison says.
#[derive(Clone, Debug)]
pub enum RowResult {
    Compared(Compared),
    /// The benchmark does not apply to one side (or both): why.
    NotApplicable(String),
    /// A side failed it, or the two are not comparable: why.
    Failed(String),
}

impl RowResult {
    pub fn failed(&self) -> bool {
        matches!(self, RowResult::Failed(_))
    }
}

/// One row of a comparison.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    /// The iteration count (the same on both sides, or the row is an error).
    pub iters: Option<u64>,
    /// The view its figures are in (network rows: wall in every mode).
    pub view: Mode,
    pub op: Op,
    pub result: RowResult,
}

impl Row {
    pub fn network(&self) -> bool {
        catalog::is_network(&self.name)
    }
}

/// An A/B comparison.
pub struct Comparison {
    pub identities: [Identity; 2],
    pub machine: Machine,
    pub mode: Mode,
    pub quick: bool,
    /// System-call boots per side.
    pub runs: usize,
    /// Network boots per side (the side with more of them).
    pub net_runs: usize,
    pub rows: Vec<Row>,
    /// What went wrong in each side's runs as a whole.
    pub problems: [Vec<String>; 2],
    pub command: String,
}

const SIDES: [&str; 2] = ["A", "B"];

/// One side's figures for a benchmark.
enum Side {
    Measured(Summary, BTreeSet<u64>),
    NotApplicable(String),
}

/// One side's figures for `name` over the runs that had it, or why there are none.
fn side(runs: &[Run], name: &str, label: &str) -> Result<Side, String> {
    let mut samples = Vec::new();
    let mut iters = BTreeSet::new();
    for (k, run) in runs.iter().enumerate() {
        match run.outcomes.iter().find(|(n, _)| n == name).map(|(_, o)| o) {
            Some(Outcome::Measured(m)) => {
                samples.push(m.ns_per_op());
                iters.insert(m.iters);
            }
            Some(Outcome::Failed(why)) => {
                return Err(format!("{label} {} {}: {why}", run.kind(), k + 1));
            }
            Some(Outcome::NotApplicable(why)) => {
                return Ok(Side::NotApplicable(format!("{label}: {why}")));
            }
            None => {}
        }
    }
    match Summary::of(&samples) {
        Some(summary) => Ok(Side::Measured(summary, iters)),
        None => Err(format!("{label}: not run")),
    }
}

/// One row from both sides.
fn compare(
    view: Mode,
    a: Result<Side, String>,
    b: Result<Side, String>,
) -> (Option<u64>, RowResult) {
    match (a, b) {
        // Not applicable to one side: nothing to compare, whatever the other side did.
        (Ok(Side::NotApplicable(x)), Ok(Side::NotApplicable(y))) => {
            (None, RowResult::NotApplicable(format!("{x}; {y}")))
        }
        (Ok(Side::NotApplicable(why)), _) | (_, Ok(Side::NotApplicable(why))) => {
            (None, RowResult::NotApplicable(why))
        }
        (Err(why), _) | (_, Err(why)) => (None, RowResult::Failed(why)),
        (Ok(Side::Measured(a, ia)), Ok(Side::Measured(b, ib))) => {
            let all: BTreeSet<u64> = ia.union(&ib).copied().collect();
            if all.len() != 1 {
                return (
                    None,
                    RowResult::Failed(format!(
                        "iteration counts differ (A {ia:?}, B {ib:?}): not comparable"
                    )),
                );
            }
            let judgement = stats::judge(view, &a, &b);
            let ratio = b.median / a.median;
            (
                all.first().copied(),
                RowResult::Compared(Compared {
                    a,
                    b,
                    ratio,
                    judgement,
                }),
            )
        }
    }
}

impl Comparison {
    /// Compares the runs of A (`runs[0]`) and B (`runs[1]`) benchmark by benchmark. A
    /// side's runs are its system-call and network boots together: each benchmark takes
    /// its samples from the runs that had it.
    pub fn new(
        identities: [Identity; 2],
        machine: Machine,
        mode: Mode,
        quick: bool,
        benchmarks: &[&str],
        runs: [&[Run]; 2],
    ) -> Comparison {
        let rows = benchmarks
            .iter()
            .map(|&name| {
                let view = view(mode, Mode::Wall, name);
                let (iters, result) = compare(
                    view,
                    side(runs[0], name, SIDES[0]),
                    side(runs[1], name, SIDES[1]),
                );
                Row {
                    name: name.to_string(),
                    iters,
                    view,
                    op: op(name),
                    result,
                }
            })
            .collect();
        let problems = runs.map(|side_runs| {
            side_runs
                .iter()
                .enumerate()
                .flat_map(|(k, run)| {
                    run.problems
                        .iter()
                        .map(move |p| format!("{} {}: {p}", run.kind(), k + 1))
                })
                .collect()
        });
        let count = |kind: BootKind| {
            runs.iter()
                .map(|r| r.iter().filter(|r| r.boot == kind && r.booted).count())
                .max()
                .unwrap_or(0)
        };
        Comparison {
            identities,
            machine,
            mode,
            quick,
            // The system-call and Debian boots run as many times each (either may be
            // absent).
            runs: count(BootKind::System).max(count(BootKind::Debian)),
            net_runs: count(BootKind::Network),
            rows,
            problems,
            command: command_line(),
        }
    }
}

fn cell(mode: Mode, s: &Summary) -> String {
    match mode {
        Mode::Icount if s.constant() => figure(s.median),
        _ => format!("{} ({}–{})", figure(s.median), figure(s.min), figure(s.max)),
    }
}

/// A summary in `op`'s time unit (ms/MB, µs/conn).
fn scaled(s: &Summary, op: Op) -> Summary {
    let factor = op.time_unit().1;
    Summary {
        samples: s.samples.iter().map(|x| x * factor).collect(),
        median: s.median * factor,
        min: s.min * factor,
        max: s.max * factor,
    }
}

/// A table row that is not a comparison: the name, the verdict cell (the sixth) saying
/// why, the other cells of `columns` empty.
fn uncompared(name: &str, columns: usize, verdict: &str, why: &str) -> String {
    let mut cells = vec![name.to_string(); 1];
    cells.resize(5, String::new());
    cells.push(format!("{verdict}: {}", why.replace('|', "\\|")));
    cells.resize(columns, String::new());
    let cells: Vec<String> = cells
        .iter()
        .map(|c| match c.is_empty() {
            true => " ".to_string(),
            false => format!(" {c} "),
        })
        .collect();
    format!("|{}|\n", cells.join("|"))
}

/// The Markdown report of a comparison.
pub fn comparison_markdown(c: &Comparison) -> String {
    let [a, b] = &c.identities;
    let (network, system): (Vec<&Row>, Vec<&Row>) = c.rows.iter().partition(|r| r.network());
    let varied = system.iter().any(|r| {
        matches!(&r.result, RowResult::Compared(r) if r.judgement.basis == stats::Basis::Variation)
    });
    let mut out = format!(
        "# A/B: {} vs {} ({} mode)\n\n- A: {}\n- B: {}\n",
        a.label,
        b.label,
        mode_name(c.mode),
        describe_identity(a),
        describe_identity(b)
    );
    out.push_str(&format!(
        "- Machine: {}, `-cpu {}`, {} MiB, 1 CPU, TCG; host CPU: {}\n",
        c.machine.qemu, c.machine.cpu_model, c.machine.memory_mib, c.machine.host_cpu
    ));
    if let Some(mib) = c.machine.debian_memory_mib {
        out.push_str(&format!(
            "- Debian benchmarks: boots of their own, Debian's root file system as the \
             archive, {mib} MiB for both kernels\n"
        ));
    }
    if !system.is_empty() {
        out.push_str(&match c.mode {
            Mode::Icount if !varied => format!(
                "- Figures: {}. Every run gave the same count ({} run(s) per side), so any \
                 difference between A and B is real.\n",
                unit(c.mode),
                c.runs
            ),
            Mode::Icount => format!(
                "- Figures: {}: median (min–max) of {} runs per side where they differed. \
                 Identical runs make a difference real; where a side's runs differed (as \
                 Linux's do), it counts only beyond that variation.\n",
                unit(c.mode),
                c.runs
            ),
            Mode::Wall => format!(
                "- Figures: {}: median (min–max) of {} interleaved runs per side. A \
                 difference counts only beyond noise, when the min–max ranges do not \
                 overlap.\n",
                unit(c.mode),
                c.runs
            ),
        });
    }
    let compared = |r: &&Row| matches!(r.result, RowResult::Compared(_));
    if network.iter().any(compared) {
        out.push_str(&format!(
            "- Network figures: TCG wall time in every mode, from boots of their own with a \
             virtio-net card on QEMU's user network, talking to a peer on the host \
             (docs/benchmarks.md says why not icount): median (min–max) of {} interleaved \
             boots per side, as time per MB or per connection (lower is better; B/A and the \
             verdict compare these times; the rates are those of the medians). A difference \
             counts only beyond noise.\n",
            c.net_runs
        ));
    }
    out.push_str(&format!(
        "- Iteration counts: {}\n- Command: `{}`\n\n",
        if c.quick {
            "QUICK (small; not for publishing)"
        } else {
            "full"
        },
        c.command
    ));
    let (workloads, calls): (Vec<&Row>, Vec<&Row>) =
        system.iter().partition(|r| catalog::per_run(&r.name));
    for (workload, rows) in [(false, calls), (true, workloads)] {
        if rows.is_empty() {
            continue;
        }
        let (first, iters, u) = table_words(c.mode, workload);
        if workload && out.ends_with("|\n") {
            out.push('\n');
        }
        out.push_str(&format!(
            "| {first} | {iters} | A {u} | B {u} | B/A | verdict |\n|---|---:|---:|---:|---:|---|\n"
        ));
        for row in rows {
            out.push_str(&match &row.result {
                RowResult::Compared(r) => format!(
                    "| {} | {} | {} | {} | {:.3} | {} |\n",
                    row.name,
                    row.iters.map(count).unwrap_or_default(),
                    cell(c.mode, &r.a),
                    cell(c.mode, &r.b),
                    r.ratio,
                    r.judgement.describe()
                ),
                RowResult::Failed(why) => uncompared(&row.name, 6, "FAILED", why),
                RowResult::NotApplicable(why) => uncompared(&row.name, 6, "not applicable", why),
            });
        }
    }
    if !network.is_empty() {
        if !system.is_empty() {
            out.push('\n');
        }
        out.push_str(
            "Network (wall view):\n\n\
             | benchmark | amount | A | B | B/A | verdict | A rate | B rate |\n\
             |---|---:|---:|---:|---:|---|---:|---:|\n",
        );
    }
    for row in &network {
        out.push_str(&match &row.result {
            RowResult::Compared(r) => {
                let unit = row.op.time_unit().0;
                format!(
                    "| {} | {} | {} {unit} | {} {unit} | {:.3} | {} | {} | {} |\n",
                    row.name,
                    row.iters.map(|n| amount(row.op, n)).unwrap_or_default(),
                    cell(Mode::Wall, &scaled(&r.a, row.op)),
                    cell(Mode::Wall, &scaled(&r.b, row.op)),
                    r.ratio,
                    r.judgement.describe(),
                    rate_text(row.op, r.a.median),
                    rate_text(row.op, r.b.median)
                )
            }
            RowResult::Failed(why) => uncompared(&row.name, 8, "FAILED", why),
            RowResult::NotApplicable(why) => uncompared(&row.name, 8, "not applicable", why),
        });
    }
    for (label, problems) in SIDES.iter().zip(&c.problems) {
        if !problems.is_empty() {
            out.push_str(&format!("\n{label}'s runs had problems:\n\n"));
            for problem in problems {
                out.push_str(&format!("- {problem}\n"));
            }
        }
    }
    out
}

fn summary_json(s: &Summary) -> json::Summary {
    json::Summary {
        samples: s.samples.clone(),
        median: s.median,
        min: s.min,
        max: s.max,
    }
}

/// The JSON of a comparison.
pub fn comparison_json(c: &Comparison) -> json::ComparisonReport {
    let rows = c.rows.iter().map(|row| json::Row {
        name: row.name.clone(),
        group: group_name(&row.name).into(),
        what: what(&row.name),
        view: mode_name(row.view).into(),
        outcome: match &row.result {
            RowResult::Compared(r) => {
                let rates = row.op.rate(r.a.median).zip(row.op.rate(r.b.median));
                json::Outcome::Measured(json::Compared {
                    iters: row.iters,
                    a: summary_json(&r.a),
                    b: summary_json(&r.b),
                    ratio: r.ratio,
                    verdict: r.judgement.key().into(),
                    basis: r.judgement.basis_key().into(),
                    verdict_text: r.judgement.describe(),
                    a_rate: rates.map(|(a, _)| a),
                    b_rate: rates.map(|(_, b)| b),
                    rate_unit: rates.map(|_| row.op.rate_unit().into()),
                })
            }
            RowResult::Failed(why) => json::Outcome::Failed { error: why.clone() },
            RowResult::NotApplicable(why) => json::Outcome::NotApplicable {
                not_applicable: why.clone(),
            },
        },
    });
    json::ComparisonReport {
        report: "ab".into(),
        command: c.command.clone(),
        a: identity_json(&c.identities[0]),
        b: identity_json(&c.identities[1]),
        machine: machine_json(&c.machine),
        mode: mode_name(c.mode).into(),
        unit: unit(c.mode).into(),
        quick: c.quick,
        runs_per_side: c.runs as u64,
        network_runs_per_side: c.net_runs as u64,
        benchmarks: rows.collect(),
        problems: json::Problems {
            a: c.problems[0].clone(),
            b: c.problems[1].clone(),
        },
    }
}

#[cfg(test)]
pub mod tests;
