//! BusyBox for the interactive system: Debian's `busybox-static` package, fetched once into
//! `target/cache/busybox/` and unpacked there, giving `target/cache/busybox/bin/busybox`
//! (never committed). Its applet list comes from running that static binary on the host
//! (`busybox --list-full`), so the initramfs links exactly the applets it has.
//!
//! The Debian package helpers used by the other fetchers live here too: `linux.rs` fetches
//! the kernel package the same way, `userland.rs` installs the C compiler.
//!
//! | function | what |
//! |---|---|
//! | [`binary`] | the busybox executable, fetched on first use |
//! | [`applets`] | its applets as archive paths (`bin/ls`, `usr/bin/awk`, ...) |
//! | [`download`] | `apt-get download PACKAGE` into a directory (no root needed) |
//! | [`candidate`] | the candidate version in `apt-cache policy` output |
//! | [`apt_install`] | `apt-get install -y` (root only) |

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Debian package with a statically linked BusyBox.
pub const PACKAGE: &str = "busybox-static";

/// Where the package is unpacked.
pub fn cache_dir() -> PathBuf {
    crate::kernel::target_dir().join("cache/busybox")
}

/// The static busybox executable, fetched and unpacked on first use.
pub fn binary() -> Result<PathBuf, String> {
    let dir = cache_dir();
    let busybox = dir.join("bin/busybox");
    if busybox.is_file() {
        return Ok(busybox);
    }
    eprintln!("xtask: fetching Debian's {PACKAGE} into {}", dir.display());
    let deb = download(PACKAGE, &dir)?;
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&dir))?;
    let _ = std::fs::remove_file(&deb);
    if !busybox.is_file() {
        return Err(format!(
            "{} has no bin/busybox (did the package change?)",
            deb.display()
        ));
    }
    Ok(busybox)
}

/// The applets of `busybox` as paths inside the archive (`bin/ls`), from `--list-full`.
pub fn applets(busybox: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(busybox)
        .arg("--list-full")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", busybox.display()))?;
    if !out.status.success() {
        return Err(format!("{} --list-full failed", busybox.display()));
    }
    let list = parse_applets(&String::from_utf8_lossy(&out.stdout));
    if list.is_empty() {
        return Err(format!("{} --list-full listed nothing", busybox.display()));
    }
    Ok(list)
}

/// The `--list-full` output as sorted relative paths, without blank lines, absolute or
/// parent-relative names (never outside the archive) or busybox itself.
pub fn parse_applets(text: &str) -> Vec<String> {
    let mut list: Vec<String> = text
        .lines()
        .map(|l| l.trim().trim_start_matches('/'))
        .filter(|l| !l.is_empty() && !l.split('/').any(|c| c == ".." || c.is_empty()))
        .filter(|l| *l != "bin/busybox")
        .map(str::to_string)
        .collect();
    list.sort();
    list.dedup();
    list
}

// Debian packages.

fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

fn output(command: &mut Command) -> Option<String> {
    let out = command.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|id| id.trim() == "0")
}

fn has_apt() -> bool {
    output(Command::new("apt-get").arg("--version")).is_some()
}

/// Whether packages can be installed here: root on a system with apt-get.
pub fn can_install() -> bool {
    has_apt() && is_root()
}

/// `apt-get install -y PACKAGES` after `apt-get update` (call only when [`can_install`]).
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// The `Candidate:` version in `apt-cache policy` output, if there is one.
pub fn candidate(policy: &str) -> Option<String> {
    policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "(none)")
        .map(str::to_string)
}

/// The package's candidate version; when the package lists lack it, runs `apt-get update`
/// first if root, otherwise explains.
pub fn ensure_candidate(package: &str) -> Result<String, String> {
    let policy = || output(Command::new("apt-cache").args(["policy", package]));
    if !has_apt() || policy().is_none() {
        return Err(format!(
            "fetching the Debian package {package} needs apt (apt-cache, apt-get) and \
             dpkg-deb, as on Debian or Ubuntu"
        ));
    }
    if let Some(version) = policy().as_deref().and_then(candidate) {
        return Ok(version);
    }
    if !is_root() {
        return Err(format!(
            "apt knows no version of {package}: the package lists are missing or stale; \
             run `sudo apt-get update` and try again"
        ));
    }
    eprintln!("xtask: apt knows no {package}; running apt-get update");
    run(Command::new("apt-get").args(["update", "-q"]))?;
    policy()
        .as_deref()
        .and_then(candidate)
        .ok_or_else(|| format!("apt has no candidate version of {package}, even after an update"))
}

/// `apt-get download PACKAGE` into `dir` (no root needed) and the `.deb` it wrote.
pub fn download(package: &str, dir: &Path) -> Result<PathBuf, String> {
    ensure_candidate(package)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let debs = |dir: &Path| -> Vec<PathBuf> {
        let prefix = format!("{package}_");
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
            })
            .collect()
    };
    for stale in debs(dir) {
        let _ = std::fs::remove_file(stale);
    }
    // As root, apt warns that its sandbox user cannot write here and downloads anyway.
    run(Command::new("apt-get")
        .args(["download", "-q", package])
        .current_dir(dir))?;
    debs(dir)
        .into_iter()
        .next()
        .ok_or_else(|| format!("apt-get download {package} wrote no .deb"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_of_apt_cache_policy() {
        let known = "busybox-static:\n  Installed: (none)\n  Candidate: 1:1.35.0-4+deb12u1+b1\n  \
                     Version table:\n     1:1.35.0-4+deb12u1+b1 500\n";
        assert_eq!(candidate(known).as_deref(), Some("1:1.35.0-4+deb12u1+b1"));
        let unknown =
            "busybox-static:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n";
        assert_eq!(candidate(unknown), None);
        assert_eq!(candidate(""), None, "no lists at all: apt prints nothing");
    }

    #[test]
    fn applet_list_is_sorted_relative_and_safe() {
        let text =
            "usr/bin/[\nbin/sh\n\nsbin/acpid\nlinuxrc\nbin/busybox\n/bin/ls\n../etc/x\nbin/sh\n";
        assert_eq!(
            parse_applets(text),
            ["bin/ls", "bin/sh", "linuxrc", "sbin/acpid", "usr/bin/["]
        );
    }
}
