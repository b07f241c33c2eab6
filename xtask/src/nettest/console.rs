//! The guest's serial console: type lines, wait for what they print.

use std::io::{Read, Write};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::exit::Verdict;
use crate::qemu::{self, Boot};

/// The guest's serial console: type lines, wait for output.
pub struct Console {
    child: Child,
    stdin: std::process::ChildStdin,
    output: Arc<Mutex<String>>,
    seen: usize,
}

impl Console {
    /// Boots `boot` with the console piped and waits for the first shell prompt.
    pub fn start(boot: &Boot, verbose: bool) -> Result<Console, String> {
        let mut child = qemu::spawn_piped(boot)?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let output = Arc::new(Mutex::new(String::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if verbose {
                    eprint!("{text}");
                }
                sink.lock().expect("console lock").push_str(&text);
            }
        });
        let mut console = Console {
            child,
            stdin,
            output,
            seen: 0,
        };
        console.wait_for("/ # ", Duration::from_secs(90))?;
        Ok(console)
    }

    /// Waits for `needle` after what was already seen; returns the text up to it.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        let start = Instant::now();
        loop {
            {
                let out = self.output.lock().expect("console lock");
                if let Some(at) = out[self.seen..].find(needle) {
                    let text = out[self.seen..self.seen + at].to_string();
                    self.seen += at + needle.len();
                    return Ok(text);
                }
            }
            if start.elapsed() > timeout {
                return Err(format!("no {needle:?} within {} s", timeout.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `line`, waits for `marker` (which the line's echo must not contain: build it
    /// from pieces in the command), then for the next prompt.
    pub fn run(&mut self, line: &str, marker: &str, timeout: Duration) -> Result<String, String> {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| e.to_string())?;
        let text = self
            .wait_for(marker, timeout)
            .map_err(|e| format!("after `{line}`: {e}"))?;
        self.wait_for("/ # ", Duration::from_secs(30))?;
        Ok(text)
    }

    /// The last lines of output.
    pub fn tail(&self) -> String {
        let out = self.output.lock().expect("console lock");
        let lines: Vec<&str> = out.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }

    /// Powers the guest off; its verdict.
    pub fn finish(mut self) -> Verdict {
        let _ = self.stdin.write_all(b"poweroff -f\n");
        let _ = self.stdin.flush();
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Verdict::from_qemu_status(status.code());
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Verdict::Timeout;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
