//! Reading the benchmark program's console lines (protocol: `userland/bench/bench.c`).
//!
//! ```text
//! BENCH-START quick=0 benchmarks=getpid,pipe
//! BENCH name=getpid iters=200000 total_ns=68800000 ns_per_op=344.0
//! BENCH name=pipe iters=20000 total_ns=210300000 ns_per_op=10515.0 bytes_per_op=4096 mb_per_s=389.5
//! BENCH name=fork_exec error=execve: ENOENT
//! BENCH-DONE
//! ```
//!
//! Everything else on the console (boot messages, kernel logs) is ignored. The figures used
//! are `iters` and `total_ns` (exact integers); `ns_per_op` and `mb_per_s` are derived from
//! them here, so rounding in the guest never matters. A line that starts like a result but
//! cannot be read is an error of that benchmark, never a number.

use std::collections::BTreeMap;

/// The line that ends the program's output.
pub const DONE: &str = "BENCH-DONE";

/// One benchmark's measured figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Operations timed.
    pub iters: u64,
    /// Nanoseconds (guest instructions under icount) for all of them.
    pub total_ns: u64,
    /// Bytes one operation moves, for throughput benchmarks.
    pub bytes_per_op: Option<u64>,
}

impl Measurement {
    /// Nanoseconds per operation.
    pub fn ns_per_op(&self) -> f64 {
        self.total_ns as f64 / self.iters as f64
    }

    /// Throughput in MB/s (10^6 bytes per second), for throughput benchmarks.
    pub fn mb_per_s(&self) -> Option<f64> {
        let bytes = self.bytes_per_op? as f64 * self.iters as f64;
        (self.total_ns > 0).then(|| bytes * 1000.0 / self.total_ns as f64)
    }
}

/// What a run said about one benchmark.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// It ran and was timed.
    Measured(Measurement),
    /// It reported an error, its line was unreadable, or it never reported.
    Failed(String),
    /// It does not apply to this kernel (a network benchmark on a kernel without network):
    /// neither a figure nor a failure.
    NotApplicable(String),
}

/// Everything read from one run's console.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    /// `BENCH-START quick=`: whether the small iteration counts were used.
    pub quick: Option<bool>,
    /// `BENCH-START benchmarks=`: what the program was going to run, in order.
    pub planned: Vec<String>,
    /// Each reported benchmark, by name.
    pub outcomes: BTreeMap<String, Outcome>,
    /// Whether `BENCH-DONE` was printed.
    pub done: bool,
    /// Problems not tied to one benchmark: `BENCH-ERROR` lines, unreadable lines.
    pub errors: Vec<String>,
}

/// Reads a run's console output.
pub fn parse(output: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for line in output.lines().map(str::trim_end) {
        if line == DONE {
            parsed.done = true;
        } else if let Some(rest) = line.strip_prefix("BENCH-START ") {
            start_line(rest, &mut parsed);
        } else if let Some(rest) = line.strip_prefix("BENCH-ERROR ") {
            parsed.errors.push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix("BENCH name=") {
            result_line(rest, line, &mut parsed);
        } else if line.starts_with("BENCH") {
            parsed.errors.push(format!("unreadable line: {line}"));
        }
    }
    parsed
}

fn start_line(rest: &str, parsed: &mut Parsed) {
    for field in rest.split_whitespace() {
        match field.split_once('=') {
            Some(("quick", value)) => parsed.quick = Some(value == "1"),
            Some(("benchmarks", list)) => {
                parsed.planned = list
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            _ => parsed
                .errors
                .push(format!("unreadable BENCH-START field `{field}`")),
        }
    }
}

/// `rest` is the line after `BENCH name=`.
fn result_line(rest: &str, line: &str, parsed: &mut Parsed) {
    let (name, fields) = rest.split_once(' ').unwrap_or((rest, ""));
    if name.is_empty() {
        parsed.errors.push(format!("unreadable line: {line}"));
        return;
    }
    let outcome = match fields.strip_prefix("error=") {
        Some(error) => Outcome::Failed(error.to_string()),
        None => match measurement(fields) {
            Ok(m) => Outcome::Measured(m),
            Err(why) => Outcome::Failed(format!("unreadable result ({why}): {line}")),
        },
    };
    if parsed.outcomes.contains_key(name) {
        parsed.outcomes.insert(
            name.to_string(),
            Outcome::Failed("reported more than once".into()),
        );
    } else {
        parsed.outcomes.insert(name.to_string(), outcome);
    }
}

fn measurement(fields: &str) -> Result<Measurement, String> {
    let mut iters = None;
    let mut total_ns = None;
    let mut bytes_per_op = None;
    for field in fields.split_whitespace() {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("`{field}` is not key=value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{key}={value} is not a whole number"))
        };
        match key {
            "iters" => iters = Some(number()?),
            "total_ns" => total_ns = Some(number()?),
            "bytes_per_op" => bytes_per_op = Some(number()?),
            // Derived figures, recomputed from the exact ones; other keys are for humans.
            _ => {}
        }
    }
    let iters = iters.ok_or("no iters")?;
    if iters == 0 {
        return Err("iters=0".into());
    }
    Ok(Measurement {
        iters,
        total_ns: total_ns.ok_or("no total_ns")?,
        bytes_per_op,
    })
}

impl Parsed {
    /// The outcome of each requested benchmark, in the order given: a benchmark that never
    /// reported is a failure that says where the run stopped.
    pub fn outcomes_for(&self, requested: &[&str]) -> Vec<(String, Outcome)> {
        requested
            .iter()
            .map(|&name| {
                let outcome = self.outcomes.get(name).cloned().unwrap_or_else(|| {
                    Outcome::Failed(if self.done {
                        "not run (the program did not know it?)".into()
                    } else {
                        "no result: the run ended before it (hang, crash or timeout)".into()
                    })
                });
                (name.to_string(), outcome)
            })
            .collect()
    }

    /// Problems with the run as a whole, given what was asked: no start line, a different
    /// plan or iteration mode, no `BENCH-DONE`, error lines.
    pub fn run_problems(&self, requested: &[&str], quick: bool) -> Vec<String> {
        let mut found = self.errors.clone();
        match self.quick {
            None => found.push("no BENCH-START line: did the benchmark program run?".into()),
            Some(q) if q != quick => found.push(format!(
                "the program ran with quick={} but quick={} was asked",
                q as u8, quick as u8
            )),
            Some(_) => {
                if self.planned != requested {
                    found.push(format!(
                        "the program planned [{}] but [{}] was asked",
                        self.planned.join(","),
                        requested.join(",")
                    ));
                }
            }
        }
        if !self.done {
            found.push("no BENCH-DONE: the run did not finish".into());
        }
        for name in self.outcomes.keys() {
            if !requested.contains(&name.as_str()) {
                found.push(format!("unexpected result for `{name}`"));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
Tessera 0.1.0 -- config \"fast\"
[    0.010] INFO  some kernel log line
BENCH-START quick=1 benchmarks=getpid,pipe,fork_exec
BENCH name=getpid iters=2000 total_ns=688000 ns_per_op=344.0
BENCH name=pipe iters=200 total_ns=2103001 ns_per_op=10515.0 bytes_per_op=4096 mb_per_s=389.5\r
BENCH name=fork_exec error=execve: ENOENT
BENCH-DONE
tessera: power off
";

    #[test]
    fn good_lines_give_exact_figures() {
        let parsed = parse(GOOD);
        assert_eq!(parsed.quick, Some(true));
        assert_eq!(parsed.planned, ["getpid", "pipe", "fork_exec"]);
        assert!(parsed.done);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let Outcome::Measured(getpid) = &parsed.outcomes["getpid"] else {
            panic!("getpid failed");
        };
        assert_eq!((getpid.iters, getpid.total_ns), (2000, 688000));
        assert_eq!(getpid.ns_per_op(), 344.0);
        assert_eq!(getpid.mb_per_s(), None);
        let Outcome::Measured(pipe) = &parsed.outcomes["pipe"] else {
            panic!("pipe failed");
        };
        // Recomputed from the exact integers, not the guest's rounded text.
        assert_eq!(pipe.ns_per_op(), 2103001.0 / 200.0);
        let mb = pipe.mb_per_s().unwrap();
        assert!((mb - 4096.0 * 200.0 * 1000.0 / 2103001.0).abs() < 1e-9);
        assert!(
            parsed
                .run_problems(&["getpid", "pipe", "fork_exec"], true)
                .is_empty()
        );
    }

    #[test]
    fn an_error_line_is_a_failure_with_its_message() {
        let parsed = parse(GOOD);
        assert_eq!(
            parsed.outcomes["fork_exec"],
            Outcome::Failed("execve: ENOENT".into())
        );
    }

    #[test]
    fn missing_results_and_done_are_failures() {
        let cut = "BENCH-START quick=0 benchmarks=getpid,stat\n\
                   BENCH name=getpid iters=10 total_ns=100 ns_per_op=10.0\n";
        let parsed = parse(cut);
        let outcomes = parsed.outcomes_for(&["getpid", "stat"]);
        assert!(matches!(outcomes[0].1, Outcome::Measured(_)));
        let Outcome::Failed(why) = &outcomes[1].1 else {
            panic!("a missing result must fail");
        };
        assert!(why.contains("run ended before it"), "{why}");
        let problems = parsed.run_problems(&["getpid", "stat"], false);
        assert!(problems.iter().any(|p| p.contains("no BENCH-DONE")));
        // Nothing at all: the program never started.
        let nothing = parse("Kernel panic - not syncing: No working init found.\n");
        let problems = nothing.run_problems(&["getpid"], false);
        assert!(problems.iter().any(|p| p.contains("no BENCH-START")));
        assert!(matches!(
            nothing.outcomes_for(&["getpid"])[0].1,
            Outcome::Failed(_)
        ));
    }

    #[test]
    fn garbage_never_becomes_a_number() {
        let text = "BENCH-START quick=0 benchmarks=getpid,stat,pipe,open_close\n\
                    BENCH name=getpid iters=abc total_ns=100\n\
                    BENCH name=stat total_ns=100\n\
                    BENCH name=pipe iters=0 total_ns=5\n\
                    BENCH name=open_close iters=5 total_ns=50 junk\n\
                    BENCHMARK nonsense\n\
                    BENCH name=\n\
                    BENCH-ERROR unknown benchmark `nope`\n\
                    BENCH-DONE\n";
        let parsed = parse(text);
        for name in ["getpid", "stat", "pipe", "open_close"] {
            assert!(
                matches!(&parsed.outcomes[name], Outcome::Failed(why) if why.contains("unreadable")),
                "{name}: {:?}",
                parsed.outcomes[name]
            );
        }
        assert_eq!(parsed.errors.len(), 3, "{:?}", parsed.errors);
        assert!(parsed.errors[2].contains("unknown benchmark"));
    }

    #[test]
    fn a_result_reported_twice_is_a_failure() {
        let parsed =
            parse("BENCH name=getpid iters=1 total_ns=1\nBENCH name=getpid iters=1 total_ns=2\n");
        assert!(matches!(parsed.outcomes["getpid"], Outcome::Failed(_)));
    }

    #[test]
    fn the_run_must_match_what_was_asked() {
        let parsed = parse(GOOD);
        let problems = parsed.run_problems(&["getpid", "pipe", "fork_exec"], false);
        assert!(
            problems.iter().any(|p| p.contains("quick=1")),
            "{problems:?}"
        );
        let problems = parsed.run_problems(&["getpid", "pipe"], true);
        assert!(
            problems.iter().any(|p| p.contains("planned")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("unexpected result for `fork_exec`"))
        );
    }
}
