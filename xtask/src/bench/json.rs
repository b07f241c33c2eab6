//! The schema of the JSON reports in `target/bench/` (`bench`: [`SingleReport`], `ab`:
//! [`ComparisonReport`]), written and read with serde. Fields are written in declaration
//! order, objects indented by two spaces, so the files diff well between runs.
//!
//! A figure that is not a number (NaN, an infinity) is written as `null`, serde_json's rule,
//! and read back as NaN.

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};

/// The text of a report: pretty-printed, with a final newline.
pub fn render(report: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("reports serialize");
    text.push('\n');
    text
}

/// `null` (a non-finite figure when written) as NaN.
fn figure<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn figures<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let figures = Vec::<Option<f64>>::deserialize(d)?;
    Ok(figures.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
}

/// A kernel's identity (`target::Identity`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kernel {
    pub label: String,
    /// `tessera` or `linux`.
    pub kind: String,
    /// Key = variant, in the config's order; empty for Linux.
    pub components: IndexMap<String, String>,
    pub profile: String,
    pub linux_version: Option<String>,
    pub git_describe: String,
    pub git_commit: String,
    pub modified: Vec<String>,
}

/// The machine the runs used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub qemu: String,
    pub cpu_model: String,
    pub host_cpu: String,
    pub memory_mib: u32,
    /// The memory of the Debian benchmarks' boots, when they ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debian_memory_mib: Option<u32>,
    pub smp: u32,
}

/// A benchmark's result: its figures (`M`), its error, or why it does not apply. Written as
/// the fields of the object that holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outcome<M> {
    Measured(M),
    Failed { error: String },
    NotApplicable { not_applicable: String },
}

/// `bench`: one kernel's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SingleReport {
    /// `bench`.
    pub report: String,
    pub command: String,
    pub kernel: Kernel,
    pub machine: Machine,
    pub mode: String,
    pub unit: String,
    pub network_view: String,
    pub quick: bool,
    pub complete: bool,
    pub problems: Vec<String>,
    #[serde(deserialize_with = "figure")]
    pub seconds: f64,
    pub benchmarks: Vec<Benchmark>,
}

/// One benchmark of a [`SingleReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Benchmark {
    pub name: String,
    pub group: String,
    #[serde(flatten)]
    pub outcome: Outcome<Measured>,
}

/// A benchmark's figures in one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// What one operation is (`null` for a name the catalog does not know).
    pub what: Option<String>,
    /// The mode its figures were taken in.
    pub view: String,
    pub iters: u64,
    pub total_ns: u64,
    #[serde(deserialize_with = "figure")]
    pub ns_per_op: f64,
    pub bytes_per_op: Option<u64>,
    pub mb_per_s: Option<f64>,
    /// Network benchmarks: operations (MB, connections) per second, and their unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_unit: Option<String>,
}

/// `ab`: two kernels compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonReport {
    /// `ab`.
    pub report: String,
    pub command: String,
    pub a: Kernel,
    pub b: Kernel,
    pub machine: Machine,
    pub mode: String,
    pub unit: String,
    pub quick: bool,
    pub runs_per_side: u64,
    pub network_runs_per_side: u64,
    pub benchmarks: Vec<Row>,
    pub problems: Problems,
}

/// One benchmark of a [`ComparisonReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    pub group: String,
    pub what: Option<String>,
    pub view: String,
    #[serde(flatten)]
    pub outcome: Outcome<Compared>,
}

/// A benchmark measured on both sides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compared {
    pub iters: Option<u64>,
    pub a: Summary,
    pub b: Summary,
    /// B's median over A's.
    #[serde(deserialize_with = "figure")]
    pub ratio: f64,
    pub verdict: String,
    pub basis: String,
    pub verdict_text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_unit: Option<String>,
}

/// One side's figures over its runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(deserialize_with = "figures")]
    pub samples: Vec<f64>,
    #[serde(deserialize_with = "figure")]
    pub median: f64,
    #[serde(deserialize_with = "figure")]
    pub min: f64,
    #[serde(deserialize_with = "figure")]
    pub max: f64,
}

/// What went wrong in each side's runs as a whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problems {
    pub a: Vec<String>,
    pub b: Vec<String>,
}
