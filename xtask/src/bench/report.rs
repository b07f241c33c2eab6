//! The reports: one run ([`Single`]: a terminal table and JSON) and an A/B comparison
//! ([`Comparison`]: Markdown, which is also what the terminal shows, and JSON).
//!
//! Every report names what produced it: the kernels (config, variants, profile, or the
//! Linux package and version string), the git commit, QEMU's version, the guest CPU model,
//! the host CPU, the mode, whether the counts were the quick ones, and the command. A
//! failed benchmark appears as its error, never as a figure.

use std::collections::BTreeSet;

use super::catalog::{self, Group};
use super::json::Json;
use super::parse::Outcome;
use super::stats::{self, Summary};
use super::target::Identity;
use super::{Machine, Run, mode_name};
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

fn identity_json(id: &Identity) -> Json {
    Json::obj([
        ("label", Json::str(&id.label)),
        ("kind", Json::str(id.kind)),
        (
            "components",
            Json::obj(id.components.iter().map(|(k, v)| (k.clone(), Json::str(v)))),
        ),
        ("profile", Json::str(&id.profile)),
        (
            "linux_version",
            id.linux_version.as_ref().map_or(Json::Null, Json::str),
        ),
        ("git_describe", Json::str(&id.git_describe)),
        ("git_commit", Json::str(&id.git_commit)),
        (
            "modified",
            Json::Arr(id.modified.iter().map(Json::str).collect()),
        ),
    ])
}

fn machine_json(m: &Machine) -> Json {
    Json::obj([
        ("qemu", Json::str(&m.qemu)),
        ("cpu_model", Json::str(m.cpu_model)),
        ("host_cpu", Json::str(&m.host_cpu)),
        ("memory_mib", Json::Int(m.memory_mib.into())),
        ("smp", Json::Int(1)),
    ])
}

fn what(name: &str) -> Json {
    catalog::info(name).map_or(Json::Null, |i| Json::str(i.what))
}

fn group_name(name: &str) -> &'static str {
    match catalog::info(name).map(|i| i.group) {
        Some(Group::Core) => "core",
        Some(Group::Network) => "network",
        Some(Group::Extended) | None => "extended",
    }
}

/// One run of one kernel.
pub struct Single {
    pub identity: Identity,
    pub machine: Machine,
    pub mode: Mode,
    pub quick: bool,
    pub run: Run,
}

/// The terminal table of one run.
pub fn single_table(s: &Single) -> String {
    let mut out = format!(
        "{:<16} {:>8} {:>14} {:>10}\n",
        "benchmark",
        "iters",
        short_unit(s.mode),
        "MB/s"
    );
    for (name, outcome) in &s.run.outcomes {
        match outcome {
            Outcome::Measured(m) => out.push_str(&format!(
                "{name:<16} {:>8} {:>14} {:>10}\n",
                m.iters,
                figure(m.ns_per_op()),
                m.mb_per_s().map(figure).unwrap_or_default()
            )),
            Outcome::Failed(why) => out.push_str(&format!("{name:<16} FAILED: {why}\n")),
        }
    }
    out.push_str(&format!(
        "{}; {}{} ({:.0} s)\n",
        describe_identity(&s.identity),
        unit(s.mode),
        if s.quick { "; QUICK counts" } else { "" },
        s.run.seconds
    ));
    out
}

/// The JSON of one run.
pub fn single_json(s: &Single) -> Json {
    let benchmarks = s.run.outcomes.iter().map(|(name, outcome)| match outcome {
        Outcome::Measured(m) => Json::obj([
            ("name", Json::str(name)),
            ("group", Json::str(group_name(name))),
            ("what", what(name)),
            ("iters", Json::Int(m.iters)),
            ("total_ns", Json::Int(m.total_ns)),
            ("ns_per_op", Json::Num(m.ns_per_op())),
            ("bytes_per_op", m.bytes_per_op.map_or(Json::Null, Json::Int)),
            ("mb_per_s", m.mb_per_s().map_or(Json::Null, Json::Num)),
        ]),
        Outcome::Failed(why) => Json::obj([
            ("name", Json::str(name)),
            ("group", Json::str(group_name(name))),
            ("error", Json::str(why)),
        ]),
    });
    Json::obj([
        ("report", Json::str("bench")),
        ("command", Json::str(command_line())),
        ("kernel", identity_json(&s.identity)),
        ("machine", machine_json(&s.machine)),
        ("mode", Json::str(mode_name(s.mode))),
        ("unit", Json::str(unit(s.mode))),
        ("quick", Json::Bool(s.quick)),
        ("complete", Json::Bool(s.run.complete())),
        (
            "problems",
            Json::Arr(s.run.problems.iter().map(Json::str).collect()),
        ),
        ("seconds", Json::Num(s.run.seconds)),
        ("benchmarks", Json::Arr(benchmarks.collect())),
    ])
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

/// One row of a comparison.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    /// The iteration count (the same on both sides, or the row is an error).
    pub iters: Option<u64>,
    pub result: Result<Compared, String>,
}

/// An A/B comparison.
pub struct Comparison {
    pub identities: [Identity; 2],
    pub machine: Machine,
    pub mode: Mode,
    pub quick: bool,
    /// Runs per side.
    pub runs: usize,
    pub rows: Vec<Row>,
    /// What went wrong in each side's runs as a whole.
    pub problems: [Vec<String>; 2],
    pub command: String,
}

const SIDES: [&str; 2] = ["A", "B"];

/// One side's figures for `name` over its runs, or why there are none.
fn side(runs: &[Run], name: &str, label: &str) -> Result<(Summary, BTreeSet<u64>), String> {
    let mut samples = Vec::new();
    let mut iters = BTreeSet::new();
    for (k, run) in runs.iter().enumerate() {
        match run.outcomes.iter().find(|(n, _)| n == name).map(|(_, o)| o) {
            Some(Outcome::Measured(m)) => {
                samples.push(m.ns_per_op());
                iters.insert(m.iters);
            }
            Some(Outcome::Failed(why)) => return Err(format!("{label} run {}: {why}", k + 1)),
            None => return Err(format!("{label} run {}: not run", k + 1)),
        }
    }
    Ok((
        Summary::of(&samples).ok_or(format!("{label}: no runs"))?,
        iters,
    ))
}

impl Comparison {
    /// Compares the runs of A (`runs[0]`) and B (`runs[1]`) benchmark by benchmark.
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
                let a = side(runs[0], name, SIDES[0]);
                let b = side(runs[1], name, SIDES[1]);
                let (iters, result) = match (a, b) {
                    (Err(why), _) | (_, Err(why)) => (None, Err(why)),
                    (Ok((a, ia)), Ok((b, ib))) => {
                        let all: BTreeSet<u64> = ia.union(&ib).copied().collect();
                        if all.len() != 1 {
                            (
                                None,
                                Err(format!(
                                    "iteration counts differ (A {ia:?}, B {ib:?}): not comparable"
                                )),
                            )
                        } else {
                            let judgement = stats::judge(mode, &a, &b);
                            let ratio = b.median / a.median;
                            (
                                all.first().copied(),
                                Ok(Compared {
                                    a,
                                    b,
                                    ratio,
                                    judgement,
                                }),
                            )
                        }
                    }
                };
                Row {
                    name: name.to_string(),
                    iters,
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
                        .map(move |p| format!("run {}: {p}", k + 1))
                })
                .collect()
        });
        Comparison {
            identities,
            machine,
            mode,
            quick,
            runs: runs[0].len(),
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

/// The Markdown report of a comparison.
pub fn comparison_markdown(c: &Comparison) -> String {
    let [a, b] = &c.identities;
    let varied = c.rows.iter().any(|r| {
        r.result
            .as_ref()
            .is_ok_and(|r| r.judgement.basis == stats::Basis::Variation)
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
             difference counts only beyond noise, when the min–max ranges do not overlap.\n",
            unit(c.mode),
            c.runs
        ),
    });
    out.push_str(&format!(
        "- Iteration counts: {}\n- Command: `{}`\n\n",
        if c.quick {
            "QUICK (small; not for publishing)"
        } else {
            "full"
        },
        c.command
    ));
    let u = short_unit(c.mode);
    out.push_str(&format!(
        "| benchmark | iters | A {u} | B {u} | B/A | verdict |\n|---|---:|---:|---:|---:|---|\n"
    ));
    for row in &c.rows {
        match &row.result {
            Ok(r) => out.push_str(&format!(
                "| {} | {} | {} | {} | {:.3} | {} |\n",
                row.name,
                row.iters.map(count).unwrap_or_default(),
                cell(c.mode, &r.a),
                cell(c.mode, &r.b),
                r.ratio,
                r.judgement.describe()
            )),
            Err(why) => out.push_str(&format!(
                "| {} | | | | | FAILED: {} |\n",
                row.name,
                why.replace('|', "\\|")
            )),
        }
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

fn summary_json(s: &Summary) -> Json {
    Json::obj([
        (
            "samples",
            Json::Arr(s.samples.iter().map(|&x| Json::Num(x)).collect()),
        ),
        ("median", Json::Num(s.median)),
        ("min", Json::Num(s.min)),
        ("max", Json::Num(s.max)),
    ])
}

/// The JSON of a comparison.
pub fn comparison_json(c: &Comparison) -> Json {
    let rows = c.rows.iter().map(|row| {
        let mut pairs = vec![
            ("name", Json::str(&row.name)),
            ("group", Json::str(group_name(&row.name))),
            ("what", what(&row.name)),
        ];
        match &row.result {
            Ok(r) => pairs.extend([
                ("iters", row.iters.map_or(Json::Null, Json::Int)),
                ("a", summary_json(&r.a)),
                ("b", summary_json(&r.b)),
                ("ratio", Json::Num(r.ratio)),
                ("verdict", Json::str(r.judgement.key())),
                ("basis", Json::str(r.judgement.basis_key())),
                ("verdict_text", Json::str(r.judgement.describe())),
            ]),
            Err(why) => pairs.push(("error", Json::str(why))),
        }
        Json::obj(pairs)
    });
    Json::obj([
        ("report", Json::str("ab")),
        ("command", Json::str(&c.command)),
        ("a", identity_json(&c.identities[0])),
        ("b", identity_json(&c.identities[1])),
        ("machine", machine_json(&c.machine)),
        ("mode", Json::str(mode_name(c.mode))),
        ("unit", Json::str(unit(c.mode))),
        ("quick", Json::Bool(c.quick)),
        ("runs_per_side", Json::Int(c.runs as u64)),
        ("benchmarks", Json::Arr(rows.collect())),
        (
            "problems",
            Json::obj([
                (
                    "a",
                    Json::Arr(c.problems[0].iter().map(Json::str).collect()),
                ),
                (
                    "b",
                    Json::Arr(c.problems[1].iter().map(Json::str).collect()),
                ),
            ]),
        ),
    ])
}

#[cfg(test)]
pub mod tests;
