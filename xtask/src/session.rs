//! A scripted BusyBox session over the serial console: the test that the default system
//! works as a person would use it. Each step types a line (or a control character) and waits
//! for text that only the command's output can contain (never the echo of the line typed),
//! with a per-step timeout; a missing answer, a crash or a hang fails the test.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::exit::Verdict;
use crate::qemu::{self, Boot};

/// (what to type, what the output must then contain).
type Step = (&'static str, &'static str);

/// The session: files, redirections, a three-command pipeline, `$?`, background jobs and
/// `wait`, Ctrl-C interrupting `sleep`, `find`, `sort`, `sh -c`, a process killed by a signal.
const STEPS: &[Step] = &[
    (
        "echo hi > /tmp/a && cat /tmp/a && echo ok-$((40+2))\n",
        "hi\r\nok-42",
    ),
    (
        "mkdir -p /tmp/d/e && touch /tmp/d/e/f && cp /tmp/a /tmp/d/g && ls /tmp/d | tr '\\n' ,\n",
        "e,g,",
    ),
    (
        "mv /tmp/d/g /tmp/d/h && rm /tmp/a && ls /tmp | tr '\\n' ,; echo\n",
        "d,",
    ),
    (
        "printf 'pear\\napple\\nfig\\n' | sort | tr a-z A-Z | tr '\\n' ' '; echo\n",
        "APPLE FIG PEAR",
    ),
    (
        "false; echo status=$?; true; echo status=$?\n",
        "status=1\r\nstatus=0",
    ),
    (
        "ls /nonexistent 2>/tmp/err >/tmp/out; echo rc=$?; wc -c < /tmp/out; grep -c No /tmp/err\n",
        "rc=1\r\n0\r\n1",
    ),
    (
        "sleep 1 & echo started-bg; wait; echo waited-$?\n",
        "waited-0",
    ),
    (
        "find /tmp/d -type f | sort | tr '\\n' ' '; echo\n",
        "/tmp/d/e/f /tmp/d/h",
    ),
    ("sh -c 'exit 7'; echo sh-said-$?\n", "sh-said-7"),
    ("sh -c 'kill -9 $$'; echo killed-$?\n", "killed-137"),
    ("cat /proc/meminfo | head -1 | cut -d: -f1\n", "MemTotal"),
    ("sleep 30\n", "sleep 30"),
    ("\u{3}", "^C"),
    ("echo after-ctrl-c-$?\n", "after-ctrl-c-130"),
    ("ps | grep -c sh | tr -d '\\n'; echo ' shells'\n", " shells"),
];

/// Runs the session against a Tessera boot of the BusyBox initramfs.
pub fn run(boot: &Boot, verbose: bool) -> Result<(), String> {
    let mut child = qemu::spawn_piped(boot)?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let output = Arc::new(Mutex::new(String::new()));
    let sink = output.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if verbose {
                eprint!("{text}");
            }
            sink.lock().expect("output lock").push_str(&text);
        }
    });
    let result = (|| -> Result<(), String> {
        let mut seen = wait_for(&output, 0, "/ # ", Duration::from_secs(90))?;
        for (typed, expect) in STEPS {
            stdin
                .write_all(typed.as_bytes())
                .and_then(|()| stdin.flush())
                .map_err(|e| e.to_string())?;
            seen = wait_for(&output, seen, expect, Duration::from_secs(30))
                .map_err(|e| format!("after typing {typed:?}: {e}"))?;
            // The next prompt, so that the next line is not typed ahead of the shell.
            if !typed.starts_with("sleep 30") {
                seen = wait_for(&output, seen, "/ # ", Duration::from_secs(30))
                    .map_err(|e| format!("no prompt after {typed:?}: {e}"))?;
            } else {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        stdin.write_all(b"exit 0\n").map_err(|e| e.to_string())?;
        wait_for(
            &output,
            seen,
            "init exited with status 0",
            Duration::from_secs(30),
        )?;
        Ok(())
    })();
    let status = wait_exit(&mut child, Duration::from_secs(30));
    let _ = reader.join();
    let tail = tail(&output.lock().expect("output lock"), 25);
    result.map_err(|e| format!("{e}\n--- console tail:\n{tail}"))?;
    match status {
        Verdict::Success => Ok(()),
        other => Err(format!("{}\n--- console tail:\n{tail}", other.describe())),
    }
}

/// Waits until `needle` appears in the output after byte `from`; returns where it ended.
fn wait_for(
    output: &Mutex<String>,
    from: usize,
    needle: &str,
    timeout: Duration,
) -> Result<usize, String> {
    let start = Instant::now();
    loop {
        if let Some(at) = output
            .lock()
            .expect("output lock")
            .get(from..)
            .and_then(|rest| rest.find(needle))
        {
            return Ok(from + at + needle.len());
        }
        if start.elapsed() > timeout {
            return Err(format!("no {needle:?} within {} s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_exit(child: &mut std::process::Child, timeout: Duration) -> Verdict {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Verdict::from_qemu_status(status.code());
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Verdict::Timeout;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
