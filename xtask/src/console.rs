//! The one driver of a guest's serial console: QEMU started with the console on its
//! standard output (and, for a scripted session, its standard input), a thread that keeps
//! everything the guest writes, waiting for text with a timeout, typing, and waiting for
//! QEMU to stop with a timeout. Every boot that a command checks goes through it: the
//! captured boots of tests and benchmarks ([`crate::qemu::run_captured`]) and the scripted
//! shell sessions (the BusyBox session, the network test).
//!
//! A missing answer is an error naming what was awaited; a guest that does not stop in time
//! is killed and its verdict is [`Verdict::Timeout`]; a console dropped while its QEMU still
//! runs kills it, so an error never leaves a guest behind.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::exit::Verdict;
use crate::qemu::Boot;
use crate::setup;

/// BusyBox's shell prompt (as root in `/`).
pub const PROMPT: &str = "/ # ";

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(20);

/// A running guest and its serial console.
pub struct Console {
    child: Child,
    /// `None` for a captured boot (QEMU's standard input is empty).
    stdin: Option<ChildStdin>,
    /// Everything the guest wrote so far, as it came.
    output: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    /// What QEMU itself wrote to its standard error.
    errors: Option<JoinHandle<String>>,
    /// How far [`Console::wait_for`] has read.
    seen: usize,
    /// QEMU's verdict, once it stopped.
    verdict: Option<Verdict>,
}

impl Console {
    /// Boots `boot` with the console on pipes; `input`: the console takes typed text.
    /// `echo` copies the console to this process's standard error as it arrives.
    pub fn start(boot: &Boot, input: bool, echo: bool) -> Result<Console, String> {
        setup::ensure_qemu()?;
        let mut qemu = boot.command();
        qemu.args(["-serial", "stdio", "-monitor", "none"])
            .stdin(if input { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = qemu
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", setup::QEMU))?;
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = output.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                if echo {
                    let _ = std::io::stderr().write_all(&buf[..n]);
                }
                sink.lock()
                    .expect("console lock")
                    .extend_from_slice(&buf[..n]);
            }
        });
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Ok(Console {
            child,
            stdin,
            output,
            reader: Some(reader),
            errors: Some(errors),
            seen: 0,
            verdict: None,
        })
    }

    /// Boots `boot` for a scripted session and waits for the shell's first prompt.
    pub fn shell(boot: &Boot, echo: bool) -> Result<Console, String> {
        let mut console = Console::start(boot, true, echo)?;
        match console.wait_for(PROMPT, Duration::from_secs(90)) {
            Ok(_) => Ok(console),
            Err(e) => Err(format!("{e}\n--- console tail:\n{}", console.tail(25))),
        }
    }

    /// Waits until `needle` appears after what earlier waits consumed; returns the text
    /// before it and consumes both.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        let start = Instant::now();
        loop {
            {
                let out = self.output.lock().expect("console lock");
                if let Some(at) = find(&out[self.seen..], needle.as_bytes()) {
                    let text = String::from_utf8_lossy(&out[self.seen..self.seen + at]);
                    self.seen += at + needle.len();
                    return Ok(text.into_owned());
                }
            }
            if start.elapsed() > timeout {
                return Err(format!("no {needle:?} within {} s", timeout.as_secs()));
            }
            std::thread::sleep(POLL);
        }
    }

    /// The whole lines the guest wrote after what earlier waits and calls consumed (each
    /// without its `\r\n`), consumed; a partial last line stays for the next call.
    pub fn new_lines(&mut self) -> Vec<String> {
        let out = self.output.lock().expect("console lock");
        let rest = &out[self.seen..];
        let Some(end) = rest.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let text = String::from_utf8_lossy(&rest[..end + 1]).into_owned();
        self.seen += end + 1;
        text.lines()
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect()
    }

    /// QEMU's verdict if it has stopped, without waiting.
    pub fn stopped(&mut self) -> Result<Option<Verdict>, String> {
        if self.verdict.is_none()
            && let Some(status) = self.child.try_wait().map_err(|e| e.to_string())?
        {
            self.verdict = Some(Verdict::from_qemu_status(status.code()));
        }
        Ok(self.verdict)
    }

    /// Types `text` (a line needs its `\n`; `\u{3}` is Ctrl-C).
    pub fn send(&mut self, text: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("this console takes no input")?;
        stdin
            .write_all(text.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("typing {text:?}: {e}"))
    }

    /// Types `line`, waits for `marker` (which the line's echo must not contain: build it
    /// from pieces in the command), then for the next prompt; returns the text before the
    /// marker.
    pub fn run(&mut self, line: &str, marker: &str, timeout: Duration) -> Result<String, String> {
        self.send(&format!("{line}\n"))?;
        let text = self
            .wait_for(marker, timeout)
            .map_err(|e| format!("after `{line}`: {e}"))?;
        self.wait_for(PROMPT, Duration::from_secs(30))?;
        Ok(text)
    }

    /// Types `poweroff -f` and waits (30 s) for QEMU to stop: its verdict.
    pub fn power_off(&mut self) -> Result<Verdict, String> {
        // A guest that already stopped takes no input; its verdict says so.
        let _ = self.send("poweroff -f\n");
        self.wait_exit(Duration::from_secs(30), None)
    }

    /// `Ok` for a session whose checks and guest both succeeded; otherwise what went wrong
    /// with the console's last lines.
    pub fn judge(&self, verdict: Result<Verdict, String>) -> Result<(), String> {
        let problem = match verdict {
            Ok(Verdict::Success) => return Ok(()),
            Ok(other) => other.describe(),
            Err(e) => e,
        };
        Err(format!("{problem}\n--- console tail:\n{}", self.tail(25)))
    }

    /// Waits for QEMU to stop (its verdict), killing it after `timeout`. With
    /// `finish = Some((line, grace))`: once the console printed `line` (a whole line), QEMU
    /// has `grace` left to stop, so a kernel that hangs on its way to power-off is caught
    /// in seconds, not at the end of the whole timeout.
    pub fn wait_exit(
        &mut self,
        timeout: Duration,
        finish: Option<(&str, Duration)>,
    ) -> Result<Verdict, String> {
        if let Some(verdict) = self.verdict {
            return Ok(verdict);
        }
        let verdict = match finish {
            None => wait_exit(&mut self.child, Some(timeout), None)?,
            Some((line, grace)) => {
                let output = &self.output;
                let mut scanned = 0;
                let mut printed = || {
                    let out = output.lock().expect("console lock");
                    let rest = &out[scanned..];
                    let found = has_line(rest, line);
                    // The next look starts at the last partial line.
                    scanned += rest.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    found
                };
                wait_exit(&mut self.child, Some(timeout), Some((grace, &mut printed)))?
            }
        };
        self.verdict = Some(verdict);
        Ok(verdict)
    }

    /// Everything the guest wrote, lines ending in `\n` (a `\r` before it dropped), and
    /// what QEMU wrote to its standard error, if anything. Meant for after
    /// [`Console::wait_exit`]; a QEMU still running is killed.
    pub fn into_output(mut self) -> String {
        if self.verdict.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let raw = std::mem::take(&mut *self.output.lock().expect("console lock"));
        let mut text = lines(&raw);
        let errors = self
            .errors
            .take()
            .and_then(|e| e.join().ok())
            .unwrap_or_default();
        if !errors.trim().is_empty() {
            text.push_str(&format!("[qemu stderr] {}\n", errors.trim()));
        }
        text
    }

    /// The last `count` lines of output.
    pub fn tail(&self, count: usize) -> String {
        tail(
            &String::from_utf8_lossy(&self.output.lock().expect("console lock")),
            count,
        )
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if self.verdict.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for `child` (QEMU) to exit, killing it after `timeout` (if any) or, with
/// `grace = Some((limit, finished))`, `limit` after `finished()` first said yes.
pub fn wait_exit(
    child: &mut Child,
    timeout: Option<Duration>,
    mut grace: Option<(Duration, &mut dyn FnMut() -> bool)>,
) -> Result<Verdict, String> {
    let start = Instant::now();
    let mut finished: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Verdict::from_qemu_status(status.code()));
        }
        if finished.is_none()
            && let Some((_, finished_now)) = &mut grace
            && finished_now()
        {
            finished = Some(Instant::now());
        }
        let late = finished
            .zip(grace.as_ref())
            .is_some_and(|(at, (limit, _))| at.elapsed() > *limit);
        if late || timeout.is_some_and(|t| start.elapsed() > t) {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Verdict::Timeout);
        }
        std::thread::sleep(POLL);
    }
}

/// Starts `qemu` with its standard output copied to ours as it arrives (standard input and
/// error inherited), waits for it to stop (killing it after `timeout`, if any), and
/// returns its verdict and the last 64 KiB it wrote, as text.
pub fn tee(
    qemu: &mut std::process::Command,
    timeout: Option<Duration>,
) -> Result<(Verdict, String), String> {
    const KEEP: usize = 64 << 10;
    let mut child = qemu
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", setup::QEMU))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let copier = std::thread::spawn(move || {
        let mut kept: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        let mut out = std::io::stdout();
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 2 * KEEP {
                kept.drain(..kept.len() - KEEP);
            }
        }
        kept
    });
    let verdict = wait_exit(&mut child, timeout, None)?;
    let kept = copier.join().unwrap_or_default();
    Ok((verdict, String::from_utf8_lossy(&kept).into_owned()))
}

/// The last `count` lines of `text`.
pub fn tail(text: &str, count: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(count)..].join("\n")
}

/// Where `needle` starts in `haystack` (an empty needle: at once).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `text` has `line` as a whole line (ended by `\n`, a `\r` before it ignored).
fn has_line(text: &[u8], line: &str) -> bool {
    text.split(|&b| b == b'\n')
        .rev()
        .skip(1) // the part after the last `\n` is not a whole line yet
        .any(|l| l.strip_suffix(b"\r").unwrap_or(l) == line.as_bytes())
}

/// `raw` as text, each line ending in `\n` without the `\r` before it.
fn lines(raw: &[u8]) -> String {
    let mut text = String::new();
    for line in String::from_utf8_lossy(raw).split_inclusive('\n') {
        text.push_str(line.trim_end_matches(['\r', '\n']));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A process that keeps running after the marker is killed once the grace is over;
    /// one that exits in time keeps its status. Only verdicts are asserted, no durations
    /// (a loaded host stretches them): without the grace this test would wait out the
    /// sleeper's hour instead of passing.
    #[test]
    fn the_grace_after_the_marker_is_enforced() {
        let grace = Duration::from_millis(200);
        let mut sleeper = Command::new("sleep").arg("3600").spawn().unwrap();
        let hour = Some(Duration::from_secs(7200));
        let verdict = wait_exit(&mut sleeper, hour, Some((grace, &mut || true))).unwrap();
        assert_eq!(verdict, Verdict::Timeout);
        let mut quick = Command::new("true").spawn().unwrap();
        let minute = Some(Duration::from_secs(60));
        let verdict = wait_exit(&mut quick, minute, Some((grace, &mut || true))).unwrap();
        assert_eq!(verdict, Verdict::from_qemu_status(Some(0)));
    }

    #[test]
    fn whole_lines_only() {
        assert!(has_line(
            b"boot\r\nall tests passed\r\n",
            "all tests passed"
        ));
        assert!(has_line(b"all tests passed\n", "all tests passed"));
        assert!(
            !has_line(b"boot\nall tests passed", "all tests passed"),
            "not ended yet"
        );
        assert!(!has_line(b"not all tests passed\n", "all tests passed"));
    }

    #[test]
    fn output_lines_lose_their_carriage_returns() {
        assert_eq!(lines(b"a\r\nb\n\nc"), "a\nb\n\nc\n");
        assert_eq!(lines(b""), "");
        assert_eq!(find(b"abc", b"bc"), Some(1));
        assert_eq!(find(b"abc", b""), Some(0));
        assert_eq!(find(b"abc", b"x"), None);
        assert_eq!(tail("1\n2\n3\n", 2), "2\n3");
    }
}
