//! `cargo xtask rootfs debian [--packages a,b,...] [--output DIR]`: a Debian root file
//! system built from Debian's own packages, for `cargo xtask run --rootfs debian`.
//!
//! 1. The packages ([`DEFAULT_PACKAGES`], or `--packages`, which adds to
//!    [`BASE_PACKAGES`]) and their dependencies ([`debian::resolve`]), fetched once into
//!    `target/cache/debian/` ([`debian::fetch`]).
//! 2. Each `.deb` unpacked with `dpkg-deb -x`, as dpkg would unpack it, into
//!    `DIR.partial`, without documentation ([`EXCLUDED`], as dpkg's `--path-exclude`
//!    leaves it out of Debian's slim container images).
//! 3. `/usr` merged as on every Debian 12 system: what packages still ship under `/bin`,
//!    `/sbin`, `/lib` and `/lib64` moves into `/usr`, and those become symbolic links
//!    (`/bin -> usr/bin`; libc6's `/lib64/ld-linux-x86-64.so.2`, the interpreter every
//!    program names, then resolves through `/lib64 -> usr/lib64` and `/lib -> usr/lib`).
//! 4. What the maintainer scripts would have done that programs need (`configure`):
//!    `/etc/passwd` and `/etc/group` from base-passwd's masters, `/etc/profile`,
//!    `/root/.profile` and `/root/.bashrc` from base-files, `/etc/nsswitch.conf`,
//!    `/etc/shells`, `/etc/inputrc`, the alternatives (`awk`, `pager`, `which`, `lzma`...),
//!    base-files' directories; then what an installer writes (`/etc/hostname`,
//!    `/etc/hosts`, `/etc/fstab`, `/etc/mtab`) and dpkg's `/var/lib/dpkg/status`, so that
//!    `dpkg -l` lists the packages.
//! 5. `DIR.partial` renamed to `DIR` (default `target/rootfs/debian/`); `DIR.stamp` lists
//!    the `.deb` files it was built from, and a later build with the same files (and no
//!    newer xtask) does nothing.
//!
//! Not done: no maintainer script runs (they need root and a dpkg database), so what
//! they do beyond the list above is missing: no `ld.so.cache` (Debian's `ld.so` searches
//! `/lib/x86_64-linux-gnu` and `/usr/lib/x86_64-linux-gnu` without one), no Python byte
//! code (`py3compile`: Python compiles what it imports, into `__pycache__` in RAM), no
//! `/etc/shadow`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::args::Args;
use crate::debian;
use crate::exit::Code;

/// What every Debian root file system here has, whatever `--packages` says: the base a
/// Debian system starts from (Essential packages programs rely on: the C library and its
/// tools, the accounts, `/bin/sh`, the terminal descriptions), and `usr-is-merged`, which says `/usr` is merged (and
/// keeps the resolver from choosing `usrmerge`, the conversion tool, which needs Perl).
pub const BASE_PACKAGES: &[&str] = &[
    "base-files",
    "base-passwd",
    "libc6",
    "libc-bin",
    "dash",
    "ncurses-base",
    "usr-is-merged",
];

/// The default set (with [`BASE_PACKAGES`]): the shell, the usual tools (`mount`,
/// `hostname` and `pidof`, from `sysvinit-utils`, are packages of their own), and Python.
pub const DEFAULT_PACKAGES: &[&str] = &[
    "bash",
    "coreutils",
    "grep",
    "sed",
    "gawk",
    "findutils",
    "diffutils",
    "tar",
    "gzip",
    "xz-utils",
    "procps",
    "util-linux",
    "mount",
    "hostname",
    "sysvinit-utils",
    "less",
    "python3",
];

/// What is left out of the tree, as dpkg's `--path-exclude` would: manual pages, info
/// pages, translations and documentation (the copyright files stay). About 40 MB of the
/// default set's 116, which every boot would otherwise hold in memory twice.
pub const EXCLUDED: &[&str] = &[
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
];

/// The host name the tree gets.
pub const HOSTNAME: &str = "debian";

/// Where the tree goes by default.
pub fn default_output() -> PathBuf {
    crate::kernel::target_dir().join("rootfs/debian")
}

/// `rootfs debian [--packages a,b] [--output DIR]`.
pub fn rootfs_command(args: &mut Args) -> Result<Code, String> {
    let packages = args.value("packages")?;
    let output = args.value("output")?.map(PathBuf::from);
    let distribution = args.command();
    args.finish()?;
    match distribution.as_deref() {
        Some("debian") => {}
        Some(other) => return Err(format!("rootfs {other}: only `debian` is known")),
        None => return Err("rootfs: which one? (`cargo xtask rootfs debian`)".into()),
    }
    let packages = packages.as_deref().map(parse_packages);
    let output = output.unwrap_or_else(default_output);
    let started = std::time::Instant::now();
    build(packages.as_deref(), &output)?;
    println!(
        "rootfs: {} ({:.1} s)",
        crate::kernel::display_path(&output),
        started.elapsed().as_secs_f64()
    );
    Ok(Code::Ok)
}

/// `a,b,c` as package names.
pub fn parse_packages(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// The tree for `packages` (default: [`DEFAULT_PACKAGES`]; [`BASE_PACKAGES`] always) in
/// `output`, built unless it is current.
pub fn build(packages: Option<&[String]>, output: &Path) -> Result<(), String> {
    let mut roots: Vec<String> = BASE_PACKAGES.iter().map(|p| p.to_string()).collect();
    match packages {
        Some(list) => roots.extend(list.iter().cloned()),
        None => roots.extend(DEFAULT_PACKAGES.iter().map(|p| p.to_string())),
    }
    let all = debian::resolve(&roots, &debian::apt_depends(&roots)?)?;
    let debs = debian::fetch(&all)?;
    let stamp = output.with_extension("stamp");
    let listing: String = debs
        .iter()
        .filter_map(|d| d.file_name()?.to_str())
        .map(|n| format!("{n}\n"))
        .collect();
    if output.is_dir()
        && std::fs::read_to_string(&stamp).is_ok_and(|s| s == listing)
        && !crate::userland::stale(&stamp, &sources())
    {
        return Ok(());
    }
    eprintln!(
        "xtask: unpacking {} Debian packages into {}",
        debs.len(),
        crate::kernel::display_path(output)
    );
    let partial = output.with_extension("partial");
    remove(&partial)?;
    std::fs::create_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    for deb in &debs {
        run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&partial))?;
    }
    for excluded in EXCLUDED {
        remove(&partial.join(excluded))?;
    }
    remove_docs(&partial.join("usr/share/doc"))?;
    merge_usr(&partial)?;
    crate::rootfs_setup::configure(&partial, &debs)?;
    remove(output)?;
    let _ = std::fs::remove_file(&stamp);
    std::fs::rename(&partial, output).map_err(|e| format!("{}: {e}", output.display()))?;
    std::fs::write(&stamp, listing).map_err(|e| format!("{}: {e}", stamp.display()))
}

/// The xtask sources that shape the tree: a newer one rebuilds it.
fn sources() -> Vec<PathBuf> {
    ["rootfs.rs", "rootfs_setup.rs", "debian.rs"]
        .iter()
        .map(|f| crate::root().join("xtask/src").join(f))
        .collect()
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("{command:?} failed ({status})"))
}

/// Removes a file or a tree, if there is one.
fn remove(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
    .map_err(|e| format!("{}: {e}", path.display()))
}

/// Keeps only each package's `copyright` under `usr/share/doc`.
fn remove_docs(doc: &Path) -> Result<(), String> {
    for entry in std::fs::read_dir(doc).into_iter().flatten().flatten() {
        let path = entry.path();
        if !path.is_dir() || path.is_symlink() {
            remove(&path)?;
            continue;
        }
        for inner in std::fs::read_dir(&path).into_iter().flatten().flatten() {
            if inner.file_name() != "copyright" {
                remove(&inner.path())?;
            }
        }
    }
    Ok(())
}

/// The top-level directories Debian 12 keeps in `/usr`, each a symbolic link at the top.
pub const MERGED: &[&str] = &["bin", "sbin", "lib", "lib64"];

/// Moves `/bin`, `/sbin`, `/lib` and `/lib64` into `/usr` and links them there.
pub fn merge_usr(root: &Path) -> Result<(), String> {
    for dir in MERGED {
        let top = root.join(dir);
        let usr = root.join("usr").join(dir);
        if std::fs::symlink_metadata(&top).is_ok_and(|m| m.is_dir()) {
            move_into(&top, &usr)?;
            std::fs::remove_dir(&top).map_err(|e| format!("{}: {e}", top.display()))?;
        }
        std::fs::create_dir_all(&usr).map_err(|e| format!("{}: {e}", usr.display()))?;
        if std::fs::symlink_metadata(&top).is_err() {
            std::os::unix::fs::symlink(format!("usr/{dir}"), &top)
                .map_err(|e| format!("{}: {e}", top.display()))?;
        }
    }
    Ok(())
}

/// Moves everything in `from` into `to`, merging directories; a file both have must be
/// the same (as usrmerge's conversion requires).
fn move_into(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let source_meta = std::fs::symlink_metadata(&source).map_err(|e| e.to_string())?;
        match std::fs::symlink_metadata(&target) {
            Err(_) => std::fs::rename(&source, &target)
                .map_err(|e| format!("{}: {e}", target.display()))?,
            Ok(meta) if meta.is_dir() && source_meta.is_dir() => {
                move_into(&source, &target)?;
                std::fs::remove_dir(&source).map_err(|e| e.to_string())?;
            }
            Ok(_) if same(&source, &target) => remove(&source)?,
            Ok(_) => {
                return Err(format!(
                    "merging /usr: {} and {} differ",
                    source.display(),
                    target.display()
                ));
            }
        }
    }
    Ok(())
}

/// Whether two paths are the same symbolic link or files of the same contents.
fn same(a: &Path, b: &Path) -> bool {
    match (std::fs::read_link(a), std::fs::read_link(b)) {
        (Ok(x), Ok(y)) => x == y,
        (Err(_), Err(_)) => std::fs::read(a).ok() == std::fs::read(b).ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_from_a_list() {
        assert_eq!(
            parse_packages("bash, tar,,python3"),
            ["bash", "tar", "python3"]
        );
    }

    #[test]
    fn usr_merge_moves_and_links() {
        let root = std::env::temp_dir().join(format!("xtask-usrmerge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in [
            "bin",
            "usr/bin",
            "lib/x86_64-linux-gnu",
            "usr/lib/x86_64-linux-gnu",
            "lib64",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("bin/bash"), "bash").unwrap();
        std::fs::write(root.join("usr/bin/env"), "env").unwrap();
        std::fs::write(root.join("lib/x86_64-linux-gnu/libc.so.6"), "libc").unwrap();
        std::os::unix::fs::symlink(
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            root.join("lib64/ld-linux-x86-64.so.2"),
        )
        .unwrap();
        merge_usr(&root).unwrap();
        assert_eq!(
            std::fs::read_link(root.join("bin")).unwrap(),
            Path::new("usr/bin")
        );
        assert_eq!(
            std::fs::read_link(root.join("sbin")).unwrap(),
            Path::new("usr/sbin")
        );
        assert_eq!(std::fs::read(root.join("bin/bash")).unwrap(), b"bash");
        assert_eq!(std::fs::read(root.join("bin/env")).unwrap(), b"env");
        assert_eq!(
            std::fs::read(root.join("usr/lib/x86_64-linux-gnu/libc.so.6")).unwrap(),
            b"libc"
        );
        assert!(root.join("usr/lib64/ld-linux-x86-64.so.2").is_symlink());
        // A file shipped at both places with different contents stops the merge.
        let _ = std::fs::remove_file(root.join("bin"));
        std::fs::create_dir(root.join("bin")).unwrap();
        std::fs::write(root.join("bin/env"), "other").unwrap();
        assert!(merge_usr(&root).unwrap_err().contains("differ"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
