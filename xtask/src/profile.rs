//! `cargo xtask profile [--config NAME] [--mode icount|wall] -- PROGRAM [ARGS...]`: runs one
//! program under the in-kernel syscall profiler and prints the syscalls it spent its time in.
//!
//! The config is built once more with `[profile] syscall-profiler = true` (as
//! `target/configs/<name>-profile.toml`, so the normal validation applies). PROGRAM is a
//! static binary on the host (packed as `/bin/profiled`) or a command of the BusyBox system;
//! `/init` mounts the usual file systems, runs it, and powers off, and the kernel prints its
//! profile as it stops.

use std::path::Path;
use std::time::Duration;

use crate::args::Args;
use crate::exit::Code;
use crate::qemu::{self, Boot, Mode};
use crate::{busybox, initrd, kernel, userland};

/// A copy of the config text with `syscall-profiler = true` in its `[profile]` table.
pub fn with_profiler(text: &str) -> String {
    let mut out = String::new();
    let mut has_profile = false;
    for line in text.lines() {
        if line.trim_start().starts_with("syscall-profiler") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.trim() == "[profile]" {
            has_profile = true;
            out.push_str("syscall-profiler = true\n");
        }
    }
    if !has_profile {
        out.push_str("\n[profile]\nsyscall-profiler = true\n");
    }
    out
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

pub fn profile_command(args: &mut Args) -> Result<Code, String> {
    let config = args.value("config")?.unwrap_or_else(|| "fast".into());
    let mode = Mode::parse(&args.value("mode")?.unwrap_or_else(|| "icount".into()))?;
    let command = args.rest();
    args.finish()?;
    if command.is_empty() {
        return Err(
            "usage: cargo xtask profile [--config NAME] [--mode icount|wall] -- PROGRAM [ARGS...]"
                .into(),
        );
    }
    let base = kernel::load_config(&config)?;
    let text =
        std::fs::read_to_string(&base.path).map_err(|e| format!("{}: {e}", base.path.display()))?;
    let dir = kernel::target_dir().join("configs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{}-profile.toml", base.name));
    std::fs::write(&path, with_profiler(&text)).map_err(|e| format!("{}: {e}", path.display()))?;
    let built = kernel::build(&kernel::load_config(&path.to_string_lossy())?)?;

    let binary = busybox::binary()?;
    let programs = userland::build()?;
    let mut archive = initrd::busybox_archive(
        &std::fs::read(&binary).map_err(|e| e.to_string())?,
        &busybox::applets(&binary)?,
        &programs,
    )?;
    let mut words: Vec<String> = command.clone();
    let host = Path::new(&command[0]);
    if host.is_file() {
        archive.file(
            "bin/profiled",
            0o755,
            std::fs::read(host).map_err(|e| format!("{}: {e}", host.display()))?,
        );
        words[0] = "/bin/profiled".into();
    }
    let line: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
    let init = format!(
        "#!/bin/sh\nexport PATH={}\nmount -t proc proc /proc\nmount -t devtmpfs devtmpfs /dev\nmount -t tmpfs tmpfs /tmp\n{}\necho \"profiled command exited $?\"\npoweroff -f\n",
        initrd::PATH,
        line.join(" ")
    );
    archive.file("init", 0o755, init.into_bytes());
    let image = initrd::write("profile", &archive)?;
    let mut boot = Boot::tessera(&built, "", mode);
    boot.initrd = Some(image);
    let run = qemu::run_captured(&boot, Duration::from_secs(1200), false)?;
    print!(
        "{}",
        run.output
            .lines()
            .filter(|l| !l.starts_with("  ") && !l.starts_with("selftest"))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    if !run.output.contains("PROFILE syscall") {
        return Err(format!(
            "no profile in the output ({})",
            run.verdict.describe()
        ));
    }
    Ok(run.verdict.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profiler_is_switched_on_once() {
        let text = "description = \"x\"\n[profile]\nopt-level = 2\nsyscall-profiler = false\n[components]\n";
        let out = with_profiler(text);
        assert_eq!(out.matches("syscall-profiler").count(), 1);
        assert!(out.contains("[profile]\nsyscall-profiler = true\n"));
        let bare = with_profiler("description = \"x\"\n");
        assert!(bare.ends_with("[profile]\nsyscall-profiler = true\n"));
    }

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
