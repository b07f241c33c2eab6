//! `userland/net/inet.c`: built for the guest's initramfs, run on the host's Linux, its
//! lines compared.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `userland/net/inet.c`, built like the userland tests (`cc -static -O2 -Wall -Werror`,
/// with their `check.h`) into `target/userland/bin/net-inet`.
pub fn build_inet() -> Result<PathBuf, String> {
    let source = crate::root().join("userland/net/inet.c");
    let output = crate::userland::bin_dir().join("net-inet");
    let out = Command::new("cc")
        .args(["-static", "-O2", "-Wall", "-Werror", "-I"])
        .arg(crate::userland::source_dir())
        .arg("-o")
        .arg(&output)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "compiling {}:\n{}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(output)
}

/// The BusyBox initramfs plus `/bin/inet-checks` (`target/initrd/busybox-net.cpio`).
pub fn initrd_with(inet: &Path) -> Result<PathBuf, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let programs = crate::userland::build()?;
    let busybox = crate::busybox::binary()?;
    let applets = crate::busybox::applets(&busybox)?;
    let mut archive = crate::initrd::busybox_archive(&read(&busybox)?, &applets, &programs)?;
    archive.file("bin/inet-checks", 0o755, read(inet)?);
    crate::initrd::write("busybox-net", &archive)
}

/// The `ok`/`FAIL` lines of a check program's output.
pub fn check_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with("ok ") || l.starts_with("FAIL "))
        .map(str::to_string)
        .collect()
}

/// Runs the inet checks on the host: its lines, which must all be `ok`.
pub fn inet_on_host(inet: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(inet)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", inet.display()))?;
    let lines = check_lines(&String::from_utf8_lossy(&out.stdout));
    if !out.status.success() || lines.iter().any(|l| l.starts_with("FAIL")) || lines.is_empty() {
        return Err(format!(
            "userland/net/inet.c fails on the host's Linux (exit {:?}):\n{}",
            out.status.code(),
            lines.join("\n")
        ));
    }
    Ok(lines)
}
