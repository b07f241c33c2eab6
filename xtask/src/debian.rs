//! Debian packages with their dependencies, for a root file system (`rootfs.rs`): which
//! packages a set needs, and their `.deb` files, fetched once into `target/cache/debian/`.
//!
//! | function | what |
//! |---|---|
//! | [`resolve`] | the packages that satisfy the `Depends` and `Pre-Depends` of a set, recursively |
//! | [`parse_depends`] | `apt-cache depends` output as dependency groups (alternatives, providers) |
//! | [`fetch`] | the candidate `.deb` of each package, from the cache or `apt-get download` |
//!
//! The resolution is apt's rule for a fresh install, without apt's solver (which would
//! need root and a dpkg database): each dependency is a group of alternatives
//! (`a | b`); a group one of whose alternatives (or a package providing it) is already
//! chosen is satisfied, otherwise its first real package is chosen, or for a virtual
//! package (`<debconf-2.0>`) its first provider. Recommends, Suggests, Conflicts, Breaks,
//! Replaces and Enhances are not followed, as `apt-get install --no-install-recommends`
//! would not. Versions are apt's candidates (`apt-get download --print-uris`), so the
//! set is what `apt-get install` would fetch today.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::busybox;

/// Where the `.deb` files are kept.
pub fn cache_dir() -> PathBuf {
    crate::kernel::target_dir().join("cache/debian")
}

/// One alternative of a dependency: a package name, or a virtual package and the real
/// packages that provide it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alternative {
    Package(String),
    Virtual(String, Vec<String>),
}

/// One dependency: any of its alternatives satisfies it.
pub type Group = Vec<Alternative>;

/// `apt-cache depends --no-recommends ... P Q` output: each package's `Depends` and
/// `PreDepends` groups. A line `|Depends: a` continues into the next line's alternative;
/// `Depends: <v>` is a virtual package, the deeper-indented lines under it its providers
/// (under a real package they list other providers, which the real package makes moot).
pub fn parse_depends(text: &str) -> BTreeMap<String, Vec<Group>> {
    let mut packages: BTreeMap<String, Vec<Group>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut open: Group = Vec::new();
    let mut continues = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            current = Some(line.trim().to_string());
            packages.entry(line.trim().to_string()).or_default();
            continue;
        }
        let Some(package) = &current else { continue };
        let trimmed = line.trim();
        let (alternative, field) = match trimmed.strip_prefix('|') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let Some((kind, name)) = field.split_once(':') else {
            // A provider of the virtual package just named.
            let groups = packages.get_mut(package).expect("entry made above");
            let last = if continues {
                open.last_mut()
            } else {
                groups.last_mut().and_then(|g| g.last_mut())
            };
            if let Some(Alternative::Virtual(_, providers)) = last {
                providers.push(trimmed.to_string());
            }
            continue;
        };
        if !matches!(kind, "Depends" | "PreDepends") {
            continue;
        }
        let name = name.trim();
        open.push(
            match name.strip_prefix('<').and_then(|n| n.strip_suffix('>')) {
                Some(virtual_name) => Alternative::Virtual(virtual_name.to_string(), Vec::new()),
                None => Alternative::Package(name.to_string()),
            },
        );
        continues = alternative;
        if !alternative {
            let groups = packages.get_mut(package).expect("entry made above");
            groups.push(std::mem::take(&mut open));
        }
    }
    packages
}

/// The names that can satisfy an alternative.
fn names(alternative: &Alternative) -> Vec<&str> {
    match alternative {
        Alternative::Package(name) => vec![name.as_str()],
        Alternative::Virtual(_, providers) => providers.iter().map(String::as_str).collect(),
    }
}

/// The closure of `roots` under the groups of `depends` (which must describe every package
/// reachable: `apt-cache depends --recurse`), chosen as the module doc says. Sorted.
pub fn resolve(
    roots: &[String],
    depends: &BTreeMap<String, Vec<Group>>,
) -> Result<Vec<String>, String> {
    let mut chosen: BTreeSet<String> = BTreeSet::new();
    let mut batch: Vec<String> = roots.to_vec();
    while !batch.is_empty() {
        batch.retain(|p| !chosen.contains(p));
        batch.sort();
        batch.dedup();
        chosen.extend(batch.iter().cloned());
        let mut next: Vec<String> = Vec::new();
        for package in &batch {
            let groups = depends
                .get(package)
                .ok_or_else(|| format!("apt knows no package {package}"))?;
            for group in groups {
                let taken = |n: &&str| chosen.contains(*n) || next.iter().any(|p| p == n);
                if group.iter().flat_map(names).any(|n| taken(&n)) {
                    continue;
                }
                let pick = group.iter().flat_map(names).next().ok_or_else(|| {
                    format!("{package}: nothing satisfies the dependency {group:?}")
                })?;
                next.push(pick.to_string());
            }
        }
        batch = next;
    }
    Ok(chosen.into_iter().collect())
}

/// `apt-cache depends --recurse` of `packages` with only Depends and Pre-Depends: every
/// package reachable, each once (one call: apt takes about half a second to start).
pub fn apt_depends(packages: &[String]) -> Result<BTreeMap<String, Vec<Group>>, String> {
    let out = Command::new("apt-cache")
        .args(["depends", "--recurse"])
        .args([
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
        ])
        .args(packages)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run apt-cache: {e}"))?;
    if !out.status.success() {
        return Err(format!("apt-cache depends {} failed", packages.join(" ")));
    }
    Ok(parse_depends(&String::from_utf8_lossy(&out.stdout)))
}

/// A package's `.deb` as apt names it: `NAME_VERSION_ARCH.deb` (an epoch's `:` as `%3a`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deb {
    pub package: String,
    pub file: String,
}

/// `apt-get download --print-uris` output: one `'URI' FILE SIZE HASH` line per package.
pub fn parse_print_uris(text: &str) -> Vec<Deb> {
    text.lines()
        .filter_map(|line| {
            let file = line.split_whitespace().nth(1)?;
            let package = file.split('_').next()?;
            file.ends_with(".deb").then(|| Deb {
                package: package.to_string(),
                file: file.to_string(),
            })
        })
        .collect()
}

/// The candidate `.deb` of each package in the cache: those already there are used as
/// they are, the others fetched with one `apt-get download` (no root needed). Older
/// versions of these packages are removed from the cache. Returns the paths, in the
/// packages' order.
pub fn fetch(packages: &[String]) -> Result<Vec<PathBuf>, String> {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    busybox::ensure_candidate(&packages[0])?;
    let out = Command::new("apt-get")
        .args(["download", "--print-uris"])
        .args(packages)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "apt-get download --print-uris {} failed",
            packages.join(" ")
        ));
    }
    let debs = parse_print_uris(&String::from_utf8_lossy(&out.stdout));
    for package in packages {
        if !debs.iter().any(|d| &d.package == package) {
            return Err(format!("apt-get download offers no .deb of {package}"));
        }
    }
    remove_stale(&dir, &debs);
    let missing: Vec<&Deb> = debs
        .iter()
        .filter(|d| !dir.join(&d.file).is_file())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "xtask: fetching {} Debian packages into {}",
            missing.len(),
            crate::kernel::display_path(&dir)
        );
        let status = Command::new("apt-get")
            .args(["download", "-q"])
            .args(missing.iter().map(|d| d.package.as_str()))
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        if !status.success() {
            return Err("apt-get download failed".into());
        }
    }
    debs.iter()
        .map(|d| {
            let path = dir.join(&d.file);
            path.is_file()
                .then(|| path.clone())
                .ok_or_else(|| format!("apt-get download wrote no {}", path.display()))
        })
        .collect()
}

/// Removes other versions of the packages of `debs` from the cache.
fn remove_stale(dir: &Path, debs: &[Deb]) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(package) = name.split('_').next() else {
            continue;
        };
        if name.ends_with(".deb")
            && debs.iter().any(|d| d.package == package)
            && !debs.iter().any(|d| d.file == name)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPENDS: &str = "\
libpam-modules
  PreDepends: libc6
 |PreDepends: debconf
  PreDepends: <debconf-2.0>
    cdebconf
    debconf
util-linux
  PreDepends: libc6
  PreDepends: libsystemd0
    libelogind0
  Depends: util-linux-extra
  Recommends: sensible-utils
usr-is-merged
";

    fn package(name: &str) -> Alternative {
        Alternative::Package(name.into())
    }

    #[test]
    fn depends_groups_alternatives_and_providers() {
        let parsed = parse_depends(DEPENDS);
        assert_eq!(
            parsed["libpam-modules"],
            vec![
                vec![package("libc6")],
                vec![
                    package("debconf"),
                    Alternative::Virtual(
                        "debconf-2.0".into(),
                        vec!["cdebconf".into(), "debconf".into()]
                    )
                ],
            ]
        );
        assert_eq!(
            parsed["util-linux"],
            vec![
                vec![package("libc6")],
                vec![package("libsystemd0")],
                vec![package("util-linux-extra")],
            ],
            "a real package's other providers and Recommends are not followed"
        );
        assert_eq!(parsed["usr-is-merged"], Vec::<Group>::new());
    }

    #[test]
    fn resolve_takes_a_chosen_alternative_or_the_first() {
        let depends = parse_depends(
            "a\n  Depends: b\n |Depends: usrmerge\n  Depends: usr-is-merged\n\
             usr-is-merged\n\
             b\n |Depends: c\n  Depends: d\n  Depends: <v>\n    e\n\
             usrmerge\n  Depends: perl\n\
             c\n  Depends: a\n\
             d\n\
             <v>\n\
             e\n",
        );
        let got = resolve(&["a".into(), "usr-is-merged".into()], &depends).unwrap();
        assert_eq!(got, ["a", "b", "c", "e", "usr-is-merged"]);
        let unknown = resolve(&["x".into()], &depends).unwrap_err();
        assert!(unknown.contains("no package x"), "{unknown}");
    }

    #[test]
    fn print_uris_names_the_files() {
        let text = "'http://deb.debian.org/debian/pool/main/a/attr/libattr1_2.5.1-4_amd64.deb' \
                    libattr1_1%3a2.5.1-4_amd64.deb 22164 SHA256:c4\n\
                    'http://x/bash_5.2.15-2+b13_amd64.deb' bash_5.2.15-2+b13_amd64.deb 1 SHA256:0\n";
        assert_eq!(
            parse_print_uris(text),
            [
                Deb {
                    package: "libattr1".into(),
                    file: "libattr1_1%3a2.5.1-4_amd64.deb".into()
                },
                Deb {
                    package: "bash".into(),
                    file: "bash_5.2.15-2+b13_amd64.deb".into()
                },
            ]
        );
    }
}
