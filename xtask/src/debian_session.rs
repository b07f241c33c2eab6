//! `cargo xtask debian-session [--config NAME] [--kernel tessera|linux|both] [--timeout S]
//! [--verbose]`: the scripted session on the Debian root file system, under Tessera and
//! under Debian's Linux 6.1 in the same QEMU, outputs compared line by line.
//!
//! Both kernels boot the same archive: the default Debian tree (`rootfs.rs`), rootfs-init
//! as `/init` running `bash /opt/session/session.sh` (`userland/debian/session.sh`, which
//! runs `session.py` from the same directory), with [`rootfs_boot::DEFAULT_MEMORY_MIB`].
//! The script normalizes what differs from run to run or kernel to kernel itself, next to
//! the command concerned (its header says how); what is compared is the console from the
//! script's first `== ` line through `== session done`, without kernel log lines
//! (`[    1.234] ...`, as `conform` drops them) and carriage returns.
//!
//! A run passes when its lines end with `== session done`, none starts with `FAIL`,
//! rootfs-init reported exit status 0, and the kernel powered off within the timeout (a
//! hang is a failure). With both kernels, Linux must pass and Tessera's lines must equal
//! Linux's; a difference prints a unified diff (`-` Linux, `+` Tessera).
//!
//! Known gaps ([`KNOWN_GAPS`]): lines where Tessera is known to print something else, each
//! with the exact line Linux prints, the exact line Tessera prints instead, and why. Such a
//! Tessera line counts as Linux's (any other difference still fails) and every run names
//! the gaps it met; a gap whose line no longer appears is reported too, so that the entry
//! goes once the kernel is fixed.

use std::time::{Duration, Instant};

use crate::args::Args;
use crate::exit::{Code, Verdict};
use crate::qemu::{self, Boot, Mode};
use crate::{conform, kernel, linux, rootfs_boot};

/// Per kernel. The session takes about 40 s on Linux and 11 s on Tessera under TCG (on a
/// shared 2-core host); the limit catches a hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(240);

/// Where the scripts go in the archive, and the command rootfs-init runs.
const DIR: &str = "opt/session";
const SCRIPTS: [&str; 2] = ["session.sh", "session.py"];

/// The last line the script prints.
const DONE: &str = "== session done";

/// A known difference: (why, the line Linux prints, the line Tessera prints instead).
type Gap = (&'static str, &'static str, &'static str);

/// None today: `/proc/PID/cmdline` was the last (it held the process's name, not its
/// arguments, until execve recorded where it put them).
pub const KNOWN_GAPS: &[Gap] = &[];

/// Tessera's lines with the known gaps' lines as Linux prints them, and which gaps (their
/// indices in [`KNOWN_GAPS`]) were met.
fn with_known_gaps(lines: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut met = Vec::new();
    let lines = lines
        .iter()
        .map(
            |line| match KNOWN_GAPS.iter().position(|(_, _, t)| t == line) {
                Some(at) => {
                    if !met.contains(&at) {
                        met.push(at);
                    }
                    KNOWN_GAPS[at].1.to_string()
                }
                None => line.clone(),
            },
        )
        .collect();
    (lines, met)
}

pub fn command(args: &mut Args) -> Result<Code, String> {
    let config = args.value("config")?.unwrap_or_else(|| "fast".into());
    let (linux, tessera) = match args.value("kernel")?.as_deref() {
        None | Some("both") => (true, true),
        Some("linux") => (true, false),
        Some("tessera") => (false, true),
        Some(other) => return Err(format!("--kernel {other}: allowed: tessera, linux, both")),
    };
    let timeout = match args.value("timeout")? {
        None => DEFAULT_TIMEOUT,
        Some(t) => Duration::from_secs(
            t.parse()
                .map_err(|_| format!("--timeout {t}: a number of seconds"))?,
        ),
    };
    let verbose = args.flag("verbose");
    args.finish()?;
    let config = kernel::load_config(&config)?;
    match run(&config, linux, tessera, timeout, verbose) {
        Ok(()) => {
            println!("debian-session: passed");
            Ok(Code::Ok)
        }
        Err(why) => {
            println!("{why}\ndebian-session: FAILED");
            Ok(Code::TestFailure)
        }
    }
}

/// The session on the chosen kernels; `Err` says what failed.
pub fn run(
    config: &tessera_config::Config,
    on_linux: bool,
    on_tessera: bool,
    timeout: Duration,
    verbose: bool,
) -> Result<(), String> {
    let started = Instant::now();
    let tree = rootfs_boot::tree("debian")?;
    let mut extra = Vec::new();
    for script in SCRIPTS {
        let path = crate::root().join("userland/debian").join(script);
        let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        extra.push((format!("{DIR}/{script}"), 0o755, text));
    }
    let command = ["/bin/bash".to_string(), format!("/{DIR}/session.sh")];
    let archive = rootfs_boot::archive(&tree, &command, &extra)?;
    println!(
        "debian-session: {} ready ({:.1} s)",
        kernel::display_path(&archive),
        started.elapsed().as_secs_f64()
    );
    let memory = rootfs_boot::DEFAULT_MEMORY_MIB;
    let mut problems = Vec::new();
    let mut linux_lines = None;
    if on_linux {
        let image = linux::kernel()?;
        let boot = linux::boot(&image, memory, &archive, Mode::Wall);
        let (lines, found) = session("linux", &boot, timeout, verbose)?;
        problems.extend(found);
        linux_lines = Some(lines);
    }
    if on_tessera {
        let built = kernel::build(config)?;
        let mut boot = Boot::tessera(&built, "", Mode::Wall);
        boot.initrd = Some(archive.to_path_buf());
        boot.memory_mib = memory;
        let (lines, found) = session("tessera", &boot, timeout, verbose)?;
        problems.extend(found);
        let (lines, met) = with_known_gaps(&lines);
        let mut reasons: Vec<&str> = met.iter().map(|&at| KNOWN_GAPS[at].0).collect();
        reasons.dedup();
        for reason in reasons {
            let count = met.iter().filter(|&&at| KNOWN_GAPS[at].0 == reason).count();
            println!("debian-session: known gap, still open: {reason} ({count} lines)");
        }
        for (at, gap) in KNOWN_GAPS
            .iter()
            .enumerate()
            .filter(|(at, _)| !met.contains(at))
        {
            println!(
                "debian-session: known gap {at} not met (fixed? then remove it from \
                 KNOWN_GAPS): {} ({:?})",
                gap.0, gap.1
            );
        }
        if let Some(expected) = &linux_lines {
            match conform::unified_diff(expected, &lines, "linux", "tessera") {
                None => println!(
                    "debian-session: Tessera's output equals Linux's ({} lines)",
                    lines.len()
                ),
                Some(diff) => {
                    problems.push(format!("Tessera's output differs from Linux's:\n{diff}"))
                }
            }
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems.join("\n")),
    }
}

/// One boot of the session: its compared lines and what is wrong with the run.
fn session(
    kernel: &str,
    boot: &Boot,
    timeout: Duration,
    verbose: bool,
) -> Result<(Vec<String>, Vec<String>), String> {
    println!("debian-session: booting {kernel}");
    let started = Instant::now();
    let captured = qemu::run_captured(boot, timeout, verbose)?;
    let lines = extract(&captured.output);
    let mut found: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("FAIL"))
        .map(|l| format!("{kernel}: {l}"))
        .collect();
    if lines.last().is_none_or(|l| l != DONE) {
        found.push(format!("{kernel}: the session did not reach `{DONE}`"));
    }
    let status = rootfs_boot::status(&captured.output);
    if status != Some(0) {
        found.push(format!(
            "{kernel}: the script's status is {status:?}, not 0"
        ));
    }
    let powered_off = match kernel {
        "linux" => captured.verdict == Verdict::QemuStatus(0),
        _ => captured.verdict == Verdict::Success,
    };
    if !powered_off {
        found.push(format!(
            "{kernel}: ended with: {}",
            captured.verdict.describe()
        ));
    }
    println!(
        "debian-session: {kernel}: {} lines, {} ({:.1} s)",
        lines.len(),
        if found.is_empty() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if !found.is_empty() {
        found.push(format!(
            "--- {kernel}: last console lines:\n{}",
            crate::console::tail(&captured.output, 40)
        ));
    }
    Ok((lines, found))
}

/// The compared lines: from the first `== ` line through [`DONE`] (or the end of the
/// output), without kernel log lines.
pub fn extract(output: &str) -> Vec<String> {
    let lines: Vec<&str> = output.lines().map(|l| l.trim_end_matches('\r')).collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("== ")) else {
        return Vec::new();
    };
    let end = lines[start..]
        .iter()
        .position(|l| *l == DONE)
        .map_or(lines.len(), |at| start + at + 1);
    lines[start..end]
        .iter()
        .filter(|l| !conform::is_kernel_log(l))
        .map(|l| l.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_gaps_count_as_linux_lines_and_are_named() {
        let lines: Vec<String> = ["== x", "other"].iter().map(|l| l.to_string()).collect();
        let (fixed, met) = with_known_gaps(&lines);
        assert_eq!(
            fixed, lines,
            "no gap is known today: every line stays as it is"
        );
        assert!(met.is_empty());
        for (why, linux, tessera) in KNOWN_GAPS {
            assert!(!why.is_empty() && linux != tessera);
        }
    }

    #[test]
    fn extract_from_the_first_section_to_done_without_kernel_lines() {
        let output = "boot\n== bash\r\nok a\n[    1.234] WARN  x\nFAIL b\n== session done\nrootfs-init: exit status 0\n";
        assert_eq!(
            extract(output),
            ["== bash", "ok a", "FAIL b", "== session done"]
        );
        assert_eq!(extract("no session\n"), Vec::<String>::new());
        assert_eq!(extract("== bash\nhung"), ["== bash", "hung"]);
    }
}
