//! A scripted BusyBox session over the serial console: the test that the default system
//! works as a person would use it. Each step types a line (or a control character) and waits
//! for text that only the command's output can contain (never the echo of the line typed),
//! with a per-step timeout; a missing answer, a crash or a hang fails the test.

use std::time::Duration;

use crate::console::{Console, PROMPT};
use crate::qemu::Boot;

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
    let mut console = Console::shell(boot, verbose)?;
    let result = steps(&mut console);
    let verdict = console.wait_exit(Duration::from_secs(30), None);
    console.judge(result.and(verdict))
}

/// Types each step, then `exit 0`, which must end init with status 0.
fn steps(console: &mut Console) -> Result<(), String> {
    let step = Duration::from_secs(30);
    for (typed, expect) in STEPS {
        console.send(typed)?;
        console
            .wait_for(expect, step)
            .map_err(|e| format!("after typing {typed:?}: {e}"))?;
        // The next prompt, so that the next line is not typed ahead of the shell.
        if !typed.starts_with("sleep 30") {
            console
                .wait_for(PROMPT, step)
                .map_err(|e| format!("no prompt after {typed:?}: {e}"))?;
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    console.send("exit 0\n")?;
    console.wait_for("init exited with status 0", step)?;
    Ok(())
}
