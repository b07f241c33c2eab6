//! `cargo xtask fuzz --config NAME [--seed S] [--calls N] [--minutes M] [--batch B] [--log]
//! [--verbose]`: the seeded syscall fuzzer (`userland/fuzz/fuzz.c`) as `/init` of a kernel,
//! and a verdict.
//!
//! The initramfs holds the fuzzer and `/fuzz.conf` (seed, calls, seconds, batch, log, leak).
//! The fuzzer runs batches of random system calls in forked children and prints a progress
//! line after each; this side watches the console and fails the run when:
//!
//! - the kernel panics or takes a CPU exception (QEMU's exit code, the report on the console);
//! - no `fuzz: ` line arrives for [`HANG`] (a hang: a batch is bounded by seconds, its
//!   processes must go after SIGKILL within ten more, so a silent minute is the kernel), or the
//!   run outlasts `--minutes` by [`HANG`] twice;
//! - the fuzzer reports a failure (`fuzz: FAIL`: processes SIGKILL did not end);
//! - the kernel's usage (`/proc/kernel_usage`, read by the fuzzer after the first batch and
//!   after the last, every other process gone) shows a leak: a task or an open file more
//!   than before, more than [`HEAP_SLACK`] bytes of heap in use, or more than [`PAGE_SLACK`]
//!   pages fewer free (free, cached and the heap's pages together: cached file pages are
//!   given back on demand, and the heap's free lists keep frames for reuse; a leak in the
//!   heap shows in its bytes in use).
//!
//! Every batch's calls follow from the seed and the batch number, and each batch starts from
//! the same files, so a failure is replayed as one batch with every call logged
//! (`--batch B --log`): the last call logged before the panic or hang is printed with the
//! seed and the command that reproduces it. docs/reliability.md has the figures of the runs.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::args::Args;
use crate::console::Console;
use crate::exit::{Code, Verdict};
use crate::kernel::{self, Kernel};
use crate::qemu::{Boot, Mode};

/// No progress line for this long is a hang.
pub const HANG: Duration = Duration::from_secs(60);
/// Heap bytes that may stay in use after a run: tables that grow once (the set of unknown
/// syscalls already reported, the dentry cache's buckets) and allocator rounding.
pub const HEAP_SLACK: i64 = 64 * 1024;
/// Pages that may stay in use after a run (free and cached pages counted together): the
/// heap's slack in whole pages and the page tables of the supervisor's own growth.
pub const PAGE_SLACK: i64 = 128;
/// Calls when neither `--calls` nor `--minutes` is given.
const DEFAULT_CALLS: u64 = 10_000;

/// What one run is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    pub calls: u64,
    pub minutes: Option<u64>,
    /// Run this batch alone.
    pub batch: Option<u64>,
    /// Print every call before it is made.
    pub log: bool,
    /// Leave a zombie before the last reading: a leak the check must report.
    pub leak_on_purpose: bool,
}

impl Options {
    pub fn new(seed: u64, calls: u64) -> Options {
        Options {
            seed,
            calls,
            minutes: None,
            batch: None,
            log: false,
            leak_on_purpose: false,
        }
    }

    fn conf(&self) -> String {
        format!(
            "seed={}\ncalls={}\nseconds={}\nbatch={}\nlog={}\nleak={}\n",
            self.seed,
            self.calls,
            self.minutes.map_or(0, |m| m * 60),
            self.batch.map_or(-1, |b| b as i64),
            u8::from(self.log),
            if self.leak_on_purpose {
                "zombie"
            } else {
                "none"
            }
        )
    }
}

/// The kernel's usage as the fuzzer printed it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub free: i64,
    pub cached: i64,
    /// Frames the kernel heap holds (its free lists included).
    pub heap_pages: i64,
    pub heap: i64,
    pub tasks: i64,
    pub files: i64,
}

/// What a run printed.
#[derive(Debug, Default)]
pub struct Run {
    pub verdict: Option<Verdict>,
    /// No progress for [`HANG`] (or past the time budget): QEMU was stopped.
    pub hung: bool,
    pub output: String,
    pub seconds: f64,
}

/// The figures of the last progress or `done` line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub batch: Option<u64>,
    pub calls: u64,
    pub distinct: u64,
    pub implemented: u64,
    pub done: bool,
}

/// `fuzz: batch N calls C distinct D implemented I ...` and `fuzz: done batches B calls C
/// distinct D implemented I seconds T`: the last of them.
pub fn progress(output: &str) -> Progress {
    let mut found = Progress::default();
    for line in output.lines() {
        let Some(rest) = line.strip_prefix("fuzz: ") else {
            continue;
        };
        let done = rest.starts_with("done ");
        if !(done || rest.starts_with("batch ")) {
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let value = |key: &str| -> Option<u64> {
            let at = words.iter().position(|w| *w == key)?;
            words.get(at + 1)?.parse().ok()
        };
        found.calls = value("calls").unwrap_or(found.calls);
        found.distinct = value("distinct").unwrap_or(found.distinct);
        found.implemented = value("implemented").unwrap_or(found.implemented);
        if done {
            found.done = true;
        } else {
            found.batch = value("batch");
        }
    }
    found
}

/// `WHO: usage WHEN: free F cached C heap-pages P heap H tasks T files O`, the last such line:
/// what the fuzzer (`fuzz`) and the conformance runner (`runner`) print of
/// `/proc/kernel_usage`.
pub fn usage(output: &str, who: &str, when: &str) -> Option<Usage> {
    let prefix = format!("{who}: usage {when}: ");
    let line = output.lines().rev().find_map(|l| l.strip_prefix(&prefix))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let value = |key: &str| -> Option<i64> {
        let at = words.iter().position(|w| *w == key)?;
        words.get(at + 1)?.parse().ok()
    };
    Some(Usage {
        free: value("free")?,
        cached: value("cached")?,
        heap_pages: value("heap-pages")?,
        heap: value("heap")?,
        tasks: value("tasks")?,
        files: value("files")?,
    })
}

/// What the second reading holds that the first did not, beyond the tolerances; empty when
/// nothing leaked.
pub fn leaks(before: &Usage, after: &Usage) -> Vec<String> {
    let mut found = Vec::new();
    if after.tasks != before.tasks {
        found.push(format!(
            "tasks: {} before, {} after",
            before.tasks, after.tasks
        ));
    }
    if after.files != before.files {
        found.push(format!(
            "open files: {} before, {} after",
            before.files, after.files
        ));
    }
    let heap = after.heap - before.heap;
    if heap > HEAP_SLACK {
        found.push(format!(
            "heap: {heap} bytes more in use (tolerance {HEAP_SLACK})"
        ));
    }
    let pages = pages_not_lost(before) - pages_not_lost(after);
    if pages > PAGE_SLACK {
        found.push(format!(
            "memory: {pages} pages fewer free (tolerance {PAGE_SLACK})"
        ));
    }
    found
}

/// Two readings side by side, one line: `tasks 1 -> 1, open files 2 -> 2, heap +N bytes,
/// free pages +M`.
pub fn account(before: &Usage, after: &Usage) -> String {
    format!(
        "tasks {} -> {}, open files {} -> {}, heap {:+} bytes, free pages {:+}",
        before.tasks,
        after.tasks,
        before.files,
        after.files,
        after.heap - before.heap,
        pages_not_lost(after) - pages_not_lost(before)
    )
}

/// Pages nothing but the heap holds: free, cached (given back on demand), and the heap's
/// (whose free lists keep the frames of a burst of small allocations for good: not a leak;
/// a leak inside the heap shows in its bytes in use).
fn pages_not_lost(usage: &Usage) -> i64 {
    usage.free + usage.cached + usage.heap_pages
}

/// The seed of the day: the date (UTC) as the number YYYYMMDD.
pub fn date_seed() -> u64 {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    (y as u64) * 10_000 + u64::from(m) * 100 + u64::from(d)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (the usual era arithmetic: 400-year
/// eras of 146,097 days, years starting in March so that the leap day comes last).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Boots `kernel` with the fuzzer as `/init` and watches it until QEMU stops, no progress
/// comes for [`HANG`], or the time budget is over by twice that.
pub fn run(kernel: &Kernel, options: &Options, echo: bool) -> Result<Run, String> {
    let program = crate::userland::fuzz()?;
    let bytes = std::fs::read(&program).map_err(|e| format!("{}: {e}", program.display()))?;
    let mut archive = crate::cpio::Archive::new();
    crate::initrd::skeleton(&mut archive);
    archive
        .file("init", 0o755, bytes)
        .file("fuzz.conf", 0o644, options.conf().into_bytes());
    let initrd = crate::initrd::Private::write("fuzz", &archive)?;
    let mut boot = Boot::tessera(kernel, "", Mode::Wall);
    boot.initrd = Some(initrd.to_path_buf());
    let started = Instant::now();
    let limit = options
        .minutes
        .map(|m| Duration::from_secs(m * 60) + 2 * HANG);
    let mut console = Console::start(&boot, false, echo)?;
    let mut last_progress = Instant::now();
    let mut hung = false;
    let verdict = loop {
        if console.new_lines().iter().any(|l| l.starts_with("fuzz: ")) {
            last_progress = Instant::now();
        }
        if let Some(verdict) = console.stopped()? {
            break verdict;
        }
        if last_progress.elapsed() > HANG || limit.is_some_and(|l| started.elapsed() > l) {
            hung = true;
            break console.wait_exit(Duration::ZERO, None)?;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Run {
        verdict: Some(verdict),
        hung,
        output: console.into_output(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A logged call (`fuzz: call B.K pid P nr N args A0 ... A5`) with the call's name.
pub fn describe_call(line: &str) -> Option<String> {
    let rest = line
        .strip_prefix("fuzz: call ")
        .or_else(|| line.strip_prefix("fuzz: last call: "))?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let at = |key: &str| words.iter().position(|w| *w == key);
    let nr: u64 = words.get(at("nr")? + 1)?.parse().ok()?;
    let pid = words.get(at("pid")? + 1)?;
    let args = &words[at("args")? + 1..];
    let args: Vec<&str> = args
        .iter()
        .take_while(|a| a.starts_with("0x"))
        .copied()
        .collect();
    let name = tessera_abi::sysno::name(nr).unwrap_or("unknown");
    Some(format!("pid {pid}: {name} ({nr}) ({})", args.join(", ")))
}

/// The lines of a kernel panic report (from its `!!! KERNEL PANIC` line), at most 40.
fn panic_report(output: &str) -> Option<String> {
    let at = output.find("!!! KERNEL PANIC")?;
    Some(output[at..].lines().take(40).collect::<Vec<_>>().join("\n"))
}

/// The console's last `count` lines, readable: batches write random bytes to the console,
/// so anything but printable ASCII shows as `.` and long lines are cut.
fn readable_tail(output: &str, count: usize) -> String {
    crate::console::tail(output, count)
        .lines()
        .map(|line| {
            let mut shown: String = line
                .chars()
                .take(160)
                .map(|c| {
                    if c == ' ' || c.is_ascii_graphic() {
                        c
                    } else {
                        '.'
                    }
                })
                .collect();
            if line.chars().count() > 160 {
                shown.push_str("...");
            }
            shown
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The figures of a finished run, one line.
pub fn figures(run: &Run) -> String {
    let p = progress(&run.output);
    format!(
        "{} calls, {} distinct syscalls ({} not ENOSYS), {:.0} s",
        p.calls, p.distinct, p.implemented, run.seconds
    )
}

/// Runs the fuzzer and judges the run: `Ok` with its figures, or the exit code and what
/// went wrong (with the seed, the last call, and the command that reproduces it).
pub fn check(kernel: &Kernel, options: &Options, echo: bool) -> Result<String, (Code, String)> {
    let run = run(kernel, options, echo).map_err(|e| (Code::ToolError, e))?;
    let log = save_console(kernel, options, &run.output);
    let verdict = run.verdict.unwrap_or(Verdict::Timeout);
    let p = progress(&run.output);
    let tail = readable_tail(&run.output, 30);
    let mut problem = None;
    if run.hung {
        problem = Some((
            Code::Timeout,
            format!(
                "no progress for {} s: a hang (or the run outlasted --minutes); the console's \
                 last lines:\n{tail}",
                HANG.as_secs()
            ),
        ));
    } else if verdict == Verdict::Panic {
        let report = panic_report(&run.output).unwrap_or_else(|| tail.clone());
        problem = Some((Code::KernelPanic, format!("the kernel panicked:\n{report}")));
    } else if verdict != Verdict::Success || !p.done {
        let fails: Vec<&str> = run
            .output
            .lines()
            .filter(|l| l.starts_with("fuzz: FAIL") || l.starts_with("fuzz: last call"))
            .collect();
        let why = if fails.is_empty() {
            format!("{}\n{tail}", verdict.describe())
        } else {
            let mut lines: Vec<String> = fails.iter().map(|l| l.to_string()).collect();
            lines.extend(fails.iter().filter_map(|l| describe_call(l)));
            lines.join("\n")
        };
        let code = if verdict == Verdict::Success {
            Code::TestFailure
        } else {
            verdict.code()
        };
        problem = Some((code, why));
    }
    if let Some((code, why)) = problem {
        let batch = if options.batch.is_some() {
            options.batch
        } else {
            // The batch after the last one reported is the one that was running.
            Some(p.batch.map_or(0, |b| b + 1))
        };
        let mut message = format!(
            "seed {}: {why}\n(after {} calls; the last batch reported: {}; the console: {log})",
            options.seed,
            p.calls,
            p.batch.map_or("none".into(), |b| b.to_string())
        );
        if let Some(batch) = batch {
            message.push_str(&format!(
                "\n{}\nreproduce: cargo xtask fuzz --config {} --seed {} --batch {batch} --log",
                last_call(kernel, options, batch, echo),
                kernel.config.name,
                options.seed
            ));
        }
        return Err((code, message));
    }
    if options.batch.is_some() {
        return Ok(figures(&run));
    }
    let (Some(before), Some(after)) = (
        usage(&run.output, "fuzz", "before"),
        usage(&run.output, "fuzz", "after"),
    ) else {
        return Err((
            Code::TestFailure,
            format!("the fuzzer printed no usage readings\n{tail}"),
        ));
    };
    let found = leaks(&before, &after);
    let account = account(&before, &after);
    if !found.is_empty() {
        return Err((
            Code::TestFailure,
            format!(
                "seed {}: a leak after every fuzz process is gone: {}\n(usage: {account})",
                options.seed,
                found.join("; ")
            ),
        ));
    }
    Ok(format!("{}; usage {account}", figures(&run)))
}

/// Keeps a run's console in `target/fuzz/CONFIG-seed-SEED[-batch-B].log`; returns its path
/// for messages (or why it could not be written).
fn save_console(kernel: &Kernel, options: &Options, output: &str) -> String {
    let dir = kernel::target_dir().join("fuzz");
    let name = format!(
        "{}-seed-{}{}.log",
        kernel.config.name,
        options.seed,
        options
            .batch
            .map_or(String::new(), |b| format!("-batch-{b}"))
    );
    let path = dir.join(name);
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, output)) {
        Ok(()) => kernel::display_path(&path),
        Err(e) => format!("not kept ({}: {e})", path.display()),
    }
}

/// Replays `batch` alone with every call logged and names the last call made before the
/// kernel stopped (or a note that the replay did not end the same way).
fn last_call(kernel: &Kernel, options: &Options, batch: u64, echo: bool) -> String {
    let mut replay = options.clone();
    replay.batch = Some(batch);
    replay.log = true;
    replay.leak_on_purpose = false;
    let run = match run(kernel, &replay, echo) {
        Ok(run) => run,
        Err(e) => return format!("(the replay of batch {batch} failed to start: {e})"),
    };
    let log = save_console(kernel, &replay, &run.output);
    let last = run
        .output
        .lines()
        .rev()
        .find(|l| l.starts_with("fuzz: call "))
        .and_then(describe_call);
    let ended = if run.hung {
        "hung".to_string()
    } else {
        run.verdict.map_or("?".into(), |v| v.describe())
    };
    let reproduced = run.hung || run.verdict != Some(Verdict::Success);
    let found = match (last, reproduced) {
        (Some(call), true) => {
            format!("last call (batch {batch} replayed alone, which {ended}): {call}")
        }
        (Some(call), false) => {
            format!("batch {batch} replayed alone did not fail ({ended}); its last call: {call}")
        }
        (None, _) => format!("batch {batch} replayed alone logged no call ({ended})"),
    };
    format!("{found}\n(the replay's console: {log})")
}

/// `cargo xtask fuzz`.
pub fn fuzz_command(args: &mut Args) -> Result<Code, String> {
    let config = args.value("config")?.unwrap_or_else(|| "fast".into());
    let number = |name: &str, text: Option<String>| -> Result<Option<u64>, String> {
        text.map(|t| {
            t.parse::<u64>()
                .map_err(|_| format!("--{name} {t}: a whole number"))
        })
        .transpose()
    };
    let seed = number("seed", args.value("seed")?)?;
    let calls = number("calls", args.value("calls")?)?;
    let minutes = number("minutes", args.value("minutes")?)?;
    let batch = number("batch", args.value("batch")?)?;
    let log = args.flag("log");
    let verbose = args.flag("verbose");
    args.finish()?;
    let seed = seed.unwrap_or_else(date_seed);
    let calls = calls.unwrap_or(if minutes.is_some() {
        u64::MAX
    } else {
        DEFAULT_CALLS
    });
    let kernel = kernel::build(&kernel::load_config(&config)?)?;
    let options = Options {
        seed,
        calls,
        minutes,
        batch,
        log,
        leak_on_purpose: false,
    };
    println!(
        "fuzz: config {}, seed {seed}, {}{}{}",
        kernel.config.name,
        if calls == u64::MAX {
            "no call limit".to_string()
        } else {
            format!("up to {calls} calls")
        },
        minutes.map_or(String::new(), |m| format!(", up to {m} minutes")),
        batch.map_or(String::new(), |b| format!(", batch {b} alone"))
    );
    if log {
        // Every call on the console as it comes.
        let run = run(&kernel, &options, true)?;
        println!("fuzz: {}", figures(&run));
        return Ok(if run.hung {
            Code::Timeout
        } else {
            run.verdict.map_or(Code::Timeout, Verdict::code)
        });
    }
    match check(&kernel, &options, verbose) {
        Ok(figures) => {
            println!("fuzz: {figures}\nfuzz: passed");
            Ok(Code::Ok)
        }
        Err((code, why)) => {
            println!("fuzz: FAILED: {why}");
            Ok(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let seed = date_seed();
        assert!((20_200_101..22_000_101).contains(&seed), "{seed}");
    }

    const OUTPUT: &str = "\
fuzz: seed 7 calls 400 seconds 0
garbage from a batch fuzz: batch 99
fuzz: batch 0 calls 200 distinct 150 implemented 80 ended exit 0
fuzz: batch 1 calls 391 distinct 230 implemented 120 ended signal 11
fuzz: done batches 2 calls 391 distinct 230 implemented 120 seconds 3
fuzz: usage before: free 1000 cached 10 heap-pages 300 heap 500000 tasks 1 files 4
fuzz: usage after: free 990 cached 12 heap-pages 301 heap 501000 tasks 2 files 4
";

    #[test]
    fn progress_and_usage_are_read() {
        let p = progress(OUTPUT);
        assert_eq!(
            p,
            Progress {
                batch: Some(1),
                calls: 391,
                distinct: 230,
                implemented: 120,
                done: true
            }
        );
        let before = usage(OUTPUT, "fuzz", "before").unwrap();
        let after = usage(OUTPUT, "fuzz", "after").unwrap();
        assert_eq!(before.heap, 500_000);
        assert_eq!(after.tasks, 2);
        assert_eq!(progress("nothing\n"), Progress::default());
    }

    #[test]
    fn leaks_are_judged_with_their_tolerances() {
        let before = Usage {
            free: 1000,
            cached: 10,
            heap_pages: 300,
            heap: 500_000,
            tasks: 1,
            files: 4,
        };
        assert!(leaks(&before, &before).is_empty());
        let within = Usage {
            free: 1000 - PAGE_SLACK - 400 + 2,
            cached: 8,
            heap_pages: 700,
            heap: 500_000 + HEAP_SLACK,
            ..before
        };
        assert!(
            leaks(&before, &within).is_empty(),
            "{:?}",
            leaks(&before, &within)
        );
        let zombie = Usage { tasks: 2, ..before };
        assert_eq!(leaks(&before, &zombie), ["tasks: 1 before, 2 after"]);
        let file = Usage { files: 5, ..before };
        assert_eq!(leaks(&before, &file).len(), 1);
        let heap = Usage {
            heap: 500_001 + HEAP_SLACK,
            ..before
        };
        assert!(leaks(&before, &heap)[0].starts_with("heap: "));
        let pages = Usage {
            free: 1000 - PAGE_SLACK - 1,
            ..before
        };
        assert!(leaks(&before, &pages)[0].starts_with("memory: "));
    }

    #[test]
    fn logged_calls_are_named() {
        assert_eq!(
            describe_call(
                "fuzz: call 3.17 pid 42 nr 257 args 0xffffff9c 0x200001000 0x0 0x1 0x0 0x0"
            )
            .as_deref(),
            Some("pid 42: openat (257) (0xffffff9c, 0x200001000, 0x0, 0x1, 0x0, 0x0)")
        );
        assert_eq!(
            describe_call("fuzz: last call: batch 3 call 17 pid 42 nr 999 args 0x1 0x2 0x3 0x4 0x5 0x6 (in progress)")
                .as_deref(),
            Some("pid 42: unknown (999) (0x1, 0x2, 0x3, 0x4, 0x5, 0x6)")
        );
        assert_eq!(describe_call("fuzz: batch 1"), None);
    }

    #[test]
    fn the_conf_file_says_everything() {
        let mut options = Options::new(5, 100);
        options.minutes = Some(2);
        options.leak_on_purpose = true;
        assert_eq!(
            options.conf(),
            "seed=5\ncalls=100\nseconds=120\nbatch=-1\nlog=0\nleak=zombie\n"
        );
    }
}
