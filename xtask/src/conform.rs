//! `cargo xtask conform [--config NAME] [--kernel tessera|linux|both] [--only NAME,NAME]
//! [--libc glibc|musl|glibc-dynamic|musl-dynamic] [--timeout S] [--verbose]`: the userland
//! test programs on Tessera and on Linux, compared line by line.
//!
//! Both kernels boot the same initramfs on the same QEMU machine with the config's memory
//! size, once per batch of programs: the static builds (glibc, musl), then the dynamic
//! ones (with the interpreters and libraries they load), cut into batches of at most
//! [`ARCHIVE_BUDGET`] bytes (`target/initrd/conform-N.cpio`: the runner as `/init`, the
//! batch in `/tests`), as every program in one archive no longer fits beside Linux in
//! 128 MiB; each boot is compared on its own. `--only` and `--libc` pack a subset instead
//! ([`userland::Programs::select`]: `--only thread` is every `thread-*` program, every
//! build), in archives of this run's own. The runner frames each program's output
//! with `=== <name>` / `=== <name> exit <n>` lines and ends with `=== done`; what is
//! compared is what lies between the first `===` line and `=== done`, minus kernel log
//! lines (`[    1.234] ...`, the timestamped format of both Linux's printk and Tessera's
//! logger), so boot messages never count.
//!
//! A run passes when its output has `=== done`, every program ran and exited 0 with no
//! `FAIL` line, and the kernel then powered off (Linux: QEMU exits 0 after ACPI power-off
//! and no kernel panic was printed; Tessera: its success exit code). With `--kernel both`
//! (the default) Linux must pass and Tessera's lines must equal Linux's; a mismatch prints
//! a unified diff (`-` Linux, `+` Tessera). `--kernel linux` validates the tests alone.
//!
//! Each Tessera boot is also checked for leaks ([`leak_check`]): the runner prints the
//! kernel's usage (`/proc/kernel_usage`, the page cache dropped first) before the first
//! program and after `=== done`, once every child is reaped and `/tmp` emptied, and the two
//! readings are judged as the fuzzer's are (`fuzz::leaks`: the same tasks and open files,
//! at most `fuzz::HEAP_SLACK` more heap bytes and `fuzz::PAGE_SLACK` fewer pages).
//! [`leak_can_fail`] shows the check fails on a zombie the runner leaves on purpose.

use std::time::{Duration, Instant};

use crate::args::Args;
use crate::exit::{Code, Verdict};
use crate::qemu::{self, Boot, Mode};
use crate::{fuzz, initrd, kernel, linux, userland};

/// Generous: Linux boots and runs every program (both builds) in about 20 s under TCG.
/// A hang is caught; the runner's own watchdog kills a program after 60 s.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Lines of context around each difference in the diff.
const CONTEXT: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Tessera,
    Linux,
    Both,
}

/// One kernel's run of the programs.
struct Run {
    kernel: &'static str,
    verdict: Verdict,
    output: String,
    /// The compared lines, or why there are none.
    lines: Result<Vec<String>, String>,
    seconds: f64,
}

pub fn conform_command(args: &mut Args) -> Result<Code, String> {
    let config = args.value("config")?.unwrap_or_else(|| "fast".into());
    let which = match args.value("kernel")?.as_deref() {
        None | Some("both") => Which::Both,
        Some("tessera") => Which::Tessera,
        Some("linux") => Which::Linux,
        Some(other) => return Err(format!("--kernel {other}: allowed: tessera, linux, both")),
    };
    let timeout = match args.value("timeout")? {
        None => DEFAULT_TIMEOUT,
        Some(t) => Duration::from_secs(
            t.parse()
                .map_err(|_| format!("--timeout {t}: a number of seconds"))?,
        ),
    };
    let only = args.value("only")?;
    let libc = args
        .value("libc")?
        .map(|l| userland::Libc::parse(&l))
        .transpose()?;
    let verbose = args.flag("verbose");
    args.finish()?;

    let config = kernel::load_config(&config)?;
    let programs = userland::build()?;
    let selected = programs.select(only.as_deref(), libc)?;
    let whole = selected.len() == programs.tests.len();
    let batches = batches(&selected, &programs.libraries, ARCHIVE_BUDGET)?;
    let mut code = Code::Ok;
    for (i, batch) in batches.iter().enumerate() {
        let batch_code = conform_batch(
            &config,
            &programs,
            batch,
            (i + 1, batches.len()),
            whole,
            which,
            timeout,
            verbose,
        )?;
        if code == Code::Ok {
            code = batch_code;
        }
    }
    println!(
        "conform: {}",
        if code == Code::Ok { "passed" } else { "FAILED" }
    );
    Ok(code)
}

/// The most bytes of programs (and libraries) one boot's archive carries. Linux holds its
/// initramfs twice while unpacking it (the archive and the files), beside itself, in the
/// config's memory: with 128 MiB, an archive of 25 MB made it fail programs (short writes,
/// SIGBUS) and one of 28 MB made it panic unpacking. 12 MiB leaves room for the programs'
/// own files and memory.
const ARCHIVE_BUDGET: u64 = 12 << 20;

/// `selected` in boots: the static builds first, then the dynamic ones (which need the
/// interpreters and libraries, counted in each of their batches), each cut, in name order,
/// into batches of at most `budget` bytes (a program larger than that alone).
fn batches(
    selected: &[userland::Program],
    libraries: &[(String, std::path::PathBuf)],
    budget: u64,
) -> Result<Vec<Vec<userland::Program>>, String> {
    let size = |path: &std::path::Path| {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut shared = 0;
    for (_, host) in libraries {
        shared += size(host)?;
    }
    let mut batches = Vec::new();
    for dynamic in [false, true] {
        let base = if dynamic { shared } else { 0 };
        let (mut batch, mut bytes) = (Vec::new(), base);
        for program in selected.iter().filter(|p| p.libc.is_static() != dynamic) {
            let len = size(&program.path)?;
            if !batch.is_empty() && bytes + len > budget {
                batches.push(std::mem::take(&mut batch));
                bytes = base;
            }
            batch.push(program.clone());
            bytes += len;
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
    }
    Ok(batches)
}

/// Boots the kernels on `batch` (number `index.0` of `index.1`) and compares; the batch's
/// exit code. A whole run's archives are `target/initrd/conform-N.cpio`; a subset's are
/// this run's own (deleted after it), so that they never stand in for the whole set.
#[allow(clippy::too_many_arguments)]
fn conform_batch(
    config: &tessera_config::Config,
    programs: &userland::Programs,
    batch: &[userland::Program],
    index: (usize, usize),
    whole: bool,
    which: Which,
    timeout: Duration,
    verbose: bool,
) -> Result<Code, String> {
    let tests: Vec<String> = batch.iter().map(|p| p.name.clone()).collect();
    let subset = match whole {
        true => None,
        false => Some(initrd::conform_subset(programs, batch)?),
    };
    let archive = match &subset {
        None => initrd::conform(programs, batch, &format!("conform-{}", index.0))?,
        Some(private) => private.to_path_buf(),
    };
    println!(
        "conform: boot {} of {}: {} test programs in {}: {}",
        index.0,
        index.1,
        tests.len(),
        kernel::display_path(&archive),
        tests.join(" ")
    );

    let mut runs = Vec::new();
    if which != Which::Tessera {
        let image = linux::kernel()?;
        println!("conform: booting Linux ({})", kernel::display_path(&image));
        let boot = linux::boot(&image, config.memory_mib, &archive, Mode::Wall);
        runs.push(run("linux", &boot, timeout, verbose)?);
    }
    if which != Which::Linux {
        let built = kernel::build(config)?;
        println!(
            "conform: booting Tessera ({})",
            kernel::display_path(&built.elf)
        );
        let mut boot = Boot::tessera(&built, "", Mode::Wall);
        boot.initrd = Some(archive.clone());
        runs.push(run("tessera", &boot, timeout, verbose)?);
    }

    let mut code = Code::Ok;
    for run in &runs {
        let expected = if run.kernel == "linux" {
            Verdict::QemuStatus(0)
        } else {
            Verdict::Success
        };
        let mut found = assess(run, expected, &tests);
        if run.kernel == "linux" && run.output.contains("Kernel panic") {
            found.push("Linux panicked (did the runner fail to power off?)".into());
        }
        if run.kernel == "tessera" && found.is_empty() {
            match leak_check(&run.output) {
                Ok(account) => println!("conform: tessera: no leak ({account})"),
                Err(leak) => found.push(leak),
            }
        }
        report(run, &found);
        if !found.is_empty() {
            code = worse(code, run.verdict, expected);
        }
    }
    if let [linux, tessera] = runs.as_slice()
        && let (Ok(expected), Ok(got)) = (&linux.lines, &tessera.lines)
    {
        match unified_diff(expected, got, "linux", "tessera") {
            None => println!(
                "conform: Tessera's output equals Linux's ({} lines)",
                got.len()
            ),
            Some(diff) => {
                println!("conform: Tessera's output differs from Linux's:\n{diff}");
                code = worse(code, Verdict::TestFailure, Verdict::Success);
            }
        }
    }
    Ok(code)
}

/// The leak check of a Tessera run: the runner's usage readings before the first program and
/// after the last, compared as the fuzzer compares its own (`fuzz::leaks`). `Ok` with both
/// readings side by side, or what leaked.
pub fn leak_check(output: &str) -> Result<String, String> {
    let (Some(before), Some(after)) = (
        fuzz::usage(output, "runner", "before"),
        fuzz::usage(output, "runner", "after"),
    ) else {
        return Err("the runner printed no usage readings (`runner: usage before/after`)".into());
    };
    let account = fuzz::account(&before, &after);
    let found = fuzz::leaks(&before, &after);
    if found.is_empty() {
        return Ok(account);
    }
    Err(format!(
        "a leak once every test process was gone: {} (usage: {account})",
        found.join("; ")
    ))
}

/// The leak check must fail when something leaks: `config`'s kernel runs one small program
/// with the runner told (`/conform-leak`) to leave a zombie before its last reading, and the
/// check must report one task more.
pub fn leak_can_fail(config: &tessera_config::Config, verbose: bool) -> Result<(), String> {
    let programs = userland::build()?;
    let selected = programs.select(Some(LEAK_PROGRAM), Some(userland::Libc::Glibc))?;
    let archive = initrd::conform_leaking(&programs, &selected)?;
    let built = kernel::build(config)?;
    let mut boot = Boot::tessera(&built, "", Mode::Wall);
    boot.initrd = Some(archive.to_path_buf());
    let run = run("tessera", &boot, DEFAULT_TIMEOUT, verbose)?;
    let tests: Vec<String> = selected.iter().map(|p| p.name.clone()).collect();
    let found = assess(&run, Verdict::Success, &tests);
    if !found.is_empty() {
        return Err(format!("the run itself failed: {}", found.join("; ")));
    }
    match leak_check(&run.output) {
        Err(leak) if leak.contains("tasks: 1 before, 2 after") => {
            println!("conform: the zombie left on purpose was reported: {leak}");
            Ok(())
        }
        Err(other) => Err(format!("expected a leak of one task, got: {other}")),
        Ok(account) => Err(format!(
            "a zombie left on purpose was not reported (usage: {account})"
        )),
    }
}

/// The program [`leak_can_fail`] runs (its static glibc build): small and quick.
const LEAK_PROGRAM: &str = "fpu";

/// The exit code after a failure: a hang or panic says so, anything else is a test failure.
fn worse(current: Code, verdict: Verdict, expected: Verdict) -> Code {
    if current != Code::Ok {
        return current;
    }
    match verdict {
        v if v == expected => Code::TestFailure,
        Verdict::Timeout | Verdict::Panic => verdict.code(),
        _ => Code::TestFailure,
    }
}

fn run(kernel: &'static str, boot: &Boot, timeout: Duration, echo: bool) -> Result<Run, String> {
    let started = Instant::now();
    let captured = qemu::run_captured(boot, timeout, echo)?;
    Ok(Run {
        kernel,
        verdict: captured.verdict,
        lines: extract(&captured.output),
        output: captured.output,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn report(run: &Run, problems: &[String]) {
    let counts = run.lines.as_ref().map_or((0, 0), |lines| {
        let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
        (count("ok "), count("FAIL "))
    });
    let ending = match (run.kernel, run.verdict) {
        ("linux", Verdict::QemuStatus(0)) => "QEMU exited 0 (power off or reset)".to_string(),
        (_, verdict) => verdict.describe(),
    };
    println!(
        "conform: {}: {} checks ok, {} failed, {ending} ({:.1} s)",
        run.kernel, counts.0, counts.1, run.seconds
    );
    if !problems.is_empty() {
        for problem in problems {
            println!("    {problem}");
        }
        println!("    --- last console lines:");
        for line in crate::console::tail(&run.output, 30).lines() {
            println!("    {line}");
        }
    }
}

/// Everything wrong with one run: no complete output, a program that failed, a wrong end.
fn assess(run: &Run, expected: Verdict, tests: &[String]) -> Vec<String> {
    let mut found = match &run.lines {
        Ok(lines) => problems(lines, tests),
        Err(why) => vec![why.clone()],
    };
    if run.verdict != expected {
        found.push(format!(
            "{} ended with: {} (expected: {})",
            run.kernel,
            run.verdict.describe(),
            expected.describe()
        ));
    }
    found
}

/// Whether a console line is a kernel log line: `[    1.234567] ...` (Linux printk with
/// timestamps) or `[    1.234] WARN  ...` (Tessera's logger).
pub fn is_kernel_log(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((stamp, _)) = rest.split_once(']') else {
        return false;
    };
    let stamp = stamp.trim_start();
    match stamp.split_once('.') {
        Some((secs, frac)) => {
            !secs.is_empty()
                && !frac.is_empty()
                && secs.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The compared lines: from the runner's first `===` line through `=== done` (or to the
/// end of the output when the runner did not finish, so a hang still shows what ran),
/// without kernel log lines.
pub fn extract(output: &str) -> Result<Vec<String>, String> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("=== "))
        .ok_or("the runner printed no `===` line (did /init run?)")?;
    let end = lines[start..]
        .iter()
        .position(|l| *l == "=== done")
        .map_or(lines.len(), |at| start + at + 1);
    Ok(lines[start..end]
        .iter()
        .filter(|l| !is_kernel_log(l))
        .map(|l| l.to_string())
        .collect())
}

/// What is wrong in the runner's lines: FAIL lines, programs that did not exit 0, programs
/// missing or unexpected.
pub fn problems(lines: &[String], tests: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<&str> = None;
    let mut finished = Vec::new();
    for line in lines {
        if let Some(frame) = line.strip_prefix("=== ") {
            if frame == "done" {
                break;
            }
            match frame.split_once(" exit ") {
                Some((name, status)) => {
                    if status != "0" {
                        found.push(format!("{name}: exit {status}"));
                    }
                    finished.push(name.to_string());
                    current = None;
                }
                None => {
                    if !tests.iter().any(|t| t == frame) {
                        found.push(format!("{frame}: not a test program of this build"));
                    }
                    current = Some(frame);
                }
            }
        } else if line.starts_with("FAIL ") {
            found.push(format!(
                "{}: {line}",
                current.unwrap_or("(outside a program)")
            ));
        }
    }
    for test in tests {
        if !finished.contains(test) {
            found.push(format!("{test}: did not run to the end"));
        }
    }
    if lines.last().is_none_or(|l| l != "=== done") {
        found.push("no `=== done`: the runner did not finish".into());
    }
    found
}

/// One step of an edit script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edit {
    Same(usize, usize),
    Remove(usize),
    Add(usize),
}

/// A shortest edit script from `a` to `b` (longest common subsequence, O(n·m): the outputs
/// are a few hundred lines).
fn edits(a: &[String], b: &[String]) -> Vec<Edit> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut script = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            script.push(Edit::Same(i, j));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] > lcs[i + 1][j]) {
            script.push(Edit::Add(j));
            j += 1;
        } else {
            script.push(Edit::Remove(i));
            i += 1;
        }
    }
    script
}

/// A unified diff (`---`/`+++` header, `@@ -a,n +b,m @@` hunks with [`CONTEXT`] lines of
/// context), or `None` when the line lists are equal.
pub fn unified_diff(a: &[String], b: &[String], a_name: &str, b_name: &str) -> Option<String> {
    let script = edits(a, b);
    let changed: Vec<usize> = (0..script.len())
        .filter(|&k| !matches!(script[k], Edit::Same(..)))
        .collect();
    if changed.is_empty() {
        return None;
    }
    let mut out = format!("--- {a_name}\n+++ {b_name}\n");
    let mut k = 0;
    while k < changed.len() {
        // A hunk spans changes closer than 2 * CONTEXT unchanged lines apart.
        let first = changed[k];
        let mut last = first;
        while k + 1 < changed.len() && changed[k + 1] - last <= 2 * CONTEXT + 1 {
            k += 1;
            last = changed[k];
        }
        k += 1;
        let from = first.saturating_sub(CONTEXT);
        let to = (last + CONTEXT + 1).min(script.len());
        let hunk = &script[from..to];
        // Where the hunk starts in each file: the first line of that side in the hunk, or
        // (for an empty side) the line before it, as diff -u writes it.
        let start = |side: fn(&Edit) -> Option<usize>, before: usize| -> (usize, usize) {
            let count = hunk.iter().filter(|e| side(e).is_some()).count();
            let first = hunk.iter().find_map(side).map_or(before, |i| i + 1);
            (if count == 0 { before } else { first }, count)
        };
        let a_before = script[..from]
            .iter()
            .filter(|e| a_side(e).is_some())
            .count();
        let b_before = script[..from]
            .iter()
            .filter(|e| b_side(e).is_some())
            .count();
        let (a_start, a_count) = start(a_side, a_before);
        let (b_start, b_count) = start(b_side, b_before);
        out.push_str(&format!(
            "@@ -{a_start},{a_count} +{b_start},{b_count} @@\n"
        ));
        for edit in hunk {
            match *edit {
                Edit::Same(i, _) => out.push_str(&format!(" {}\n", a[i])),
                Edit::Remove(i) => out.push_str(&format!("-{}\n", a[i])),
                Edit::Add(j) => out.push_str(&format!("+{}\n", b[j])),
            }
        }
    }
    Some(out)
}

fn a_side(edit: &Edit) -> Option<usize> {
    match *edit {
        Edit::Same(i, _) | Edit::Remove(i) => Some(i),
        Edit::Add(_) => None,
    }
}

fn b_side(edit: &Edit) -> Option<usize> {
    match *edit {
        Edit::Same(_, j) | Edit::Add(j) => Some(j),
        Edit::Remove(_) => None,
    }
}

#[cfg(test)]
mod tests;
