//! What a benchmark runs on: `linux`, a config (`fast`, `configs/x.toml`), or a config with
//! keys replaced for an ablation (`fast,dcache=off,lock=irq-save`).
//!
//! An ablation is written as a real config file, `target/configs/<label>.toml`: the base
//! file with each key's value replaced in place (and its description saying so), then
//! loaded through the usual validation, so an unknown key or variant fails with the normal
//! error naming the allowed values. The label (`fast+dcache=off`) names the kernel's build
//! directory and the report files.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::kernel;
use crate::linux;
use crate::qemu::{Boot, Mode};

/// A parsed `--config` / `--a` / `--b` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    /// Debian's Linux kernel (`linux::for_benchmarks`).
    Linux,
    /// A Tessera config, by name or path, with `key=value` replacements.
    Config {
        base: String,
        overrides: Vec<(String, String)>,
    },
}

/// Characters allowed in override keys and values (they end up in a file name).
fn plain(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Spec {
    /// `linux`, `NAME`, or `NAME,key=value,...`.
    pub fn parse(text: &str) -> Result<Spec, String> {
        let mut parts = text.split(',');
        let base = parts.next().unwrap_or_default().trim().to_string();
        if base.is_empty() {
            return Err(format!(
                "`{text}`: a config name comes first (`fast,key=variant`)"
            ));
        }
        let mut overrides = Vec::new();
        for part in parts {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                format!("`{text}`: `{part}` is not key=variant (e.g. `fast,dcache=off`)")
            })?;
            let (key, value) = (key.trim(), value.trim());
            if !plain(key) || !plain(value) {
                return Err(format!(
                    "`{text}`: `{part}`: keys and variants are letters, digits, - _ ."
                ));
            }
            if overrides.iter().any(|(k, _)| k == key) {
                return Err(format!("`{text}`: `{key}` is given twice"));
            }
            overrides.push((key.to_string(), value.to_string()));
        }
        if base == "linux" {
            return if overrides.is_empty() {
                Ok(Spec::Linux)
            } else {
                Err(format!("`{text}`: Linux takes no config keys"))
            };
        }
        Ok(Spec::Config { base, overrides })
    }

    /// The name in reports and file names: `linux`, `fast`, `fast+dcache=off`.
    pub fn label(&self) -> String {
        match self {
            Spec::Linux => "linux".into(),
            Spec::Config { base, overrides } => {
                let stem = Path::new(base)
                    .file_stem()
                    .map_or_else(|| base.clone(), |s| s.to_string_lossy().into_owned());
                let mut label = stem;
                for (key, value) in overrides {
                    label.push_str(&format!("+{key}={value}"));
                }
                label
            }
        }
    }
}

/// Replaces each `key` of `overrides` in config text: the line `key = ...` in whichever
/// section has it (a dotted `section.key` picks the section), keeping its quoting; a key the
/// file does not have is added to `[components]`, where validation will name it.
pub fn apply_overrides(text: &str, overrides: &[(String, String)]) -> Result<String, String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (dotted, value) in overrides {
        let (want_section, key) = match dotted.split_once('.') {
            Some((section, key)) => (Some(section), key),
            None => (None, dotted.as_str()),
        };
        let mut section = String::new();
        let mut found = None;
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim();
            if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                section = name.trim().to_string();
            } else if let Some((k, v)) = trimmed.split_once('=')
                && k.trim() == key
                && want_section.is_none_or(|s| s == section)
            {
                found = Some((i, v.trim_start().starts_with('"')));
                break;
            }
        }
        let quoted = |q: bool| {
            if q {
                format!("{value:?}")
            } else {
                value.clone()
            }
        };
        match found {
            Some((i, was_quoted)) => {
                lines[i] = format!("{key} = {}   # ablation override", quoted(was_quoted));
            }
            None => {
                let section = want_section.unwrap_or("components");
                let header = lines
                    .iter()
                    .position(|l| l.trim() == format!("[{section}]"))
                    .ok_or_else(|| {
                        format!("the config has no [{section}] section for `{dotted}`")
                    })?;
                let numeric = value.parse::<i64>().is_ok() || value == "true" || value == "false";
                lines.insert(header + 1, format!("{key} = {}", quoted(!numeric)));
            }
        }
    }
    let summary: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut out = String::new();
    for line in lines {
        if let Some(rest) = line.trim().strip_prefix("description")
            && rest.trim_start().starts_with('=')
        {
            let old = rest.trim_start()[1..].trim().trim_matches('"');
            out.push_str(&format!(
                "description = {:?}\n",
                format!("{old} (ablation: {})", summary.join(", "))
            ));
        } else {
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Who ran: enough to reproduce a figure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identity {
    /// `tessera` or `linux`.
    pub kind: &'static str,
    /// `fast`, `fast+dcache=off`, `linux`.
    pub label: String,
    /// Tessera: the config's component variants; empty for Linux.
    pub components: Vec<(String, String)>,
    /// Tessera: `opt-level=2 lto=true debug-assertions=false lock-tracking=false`.
    pub profile: String,
    /// Linux: the package (`linux-image-6.1.0-56-amd64`) and the image's version string.
    pub linux_version: Option<String>,
    /// `git describe --always --dirty` of the tree the kernel (or harness) was built from.
    pub git_describe: String,
    /// `git rev-parse HEAD`.
    pub git_commit: String,
    /// Tracked files that differ from that commit (`git diff --name-only HEAD`), so "-dirty" can be judged:
    /// a regenerated Cargo.lock is not a kernel change.
    pub modified: Vec<String>,
}

/// How a kernel gets onto the network benchmarks' card.
#[derive(Clone, Debug, PartialEq)]
pub enum Network {
    /// It configures the card itself at boot (Tessera with `net = "smoltcp"`).
    Kernel,
    /// Linux: the benchmark program loads these modules (in this order) and configures
    /// the interfaces.
    Modules(Vec<PathBuf>),
    /// It has no network (Tessera with `net = "none"`): the network benchmarks do not
    /// apply. Says why.
    Absent(String),
    /// It should have one, but the benchmarks cannot set it up (Linux from `LINUX_KERNEL`,
    /// or a cached Debian kernel whose modules could not be fetched or worked out): a
    /// failure of the network benchmarks only. Says why.
    Unavailable(String),
}

/// A kernel ready to boot.
pub struct Prepared {
    pub identity: Identity,
    pub image: PathBuf,
    pub append: String,
    pub memory_mib: u32,
    pub network: Network,
}

impl Prepared {
    /// The boot of this kernel with `initrd`, on the same machine for every kernel; with a
    /// virtio-net card on QEMU's user network when `card` (no port forwarded: the guest
    /// connects out).
    pub fn boot(&self, mode: Mode, initrd: &Path, card: bool) -> Boot {
        Boot {
            image: self.image.clone(),
            memory_mib: self.memory_mib,
            // One CPU for every kernel and config: the benchmarks measure one CPU's work.
            cpus: 1,
            append: self.append.clone(),
            mode,
            initrd: Some(initrd.to_path_buf()),
            net: card.then(Vec::new),
        }
    }
}

fn git(args: &[&str]) -> String {
    Command::new("git")
        .current_dir(crate::root())
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The git identity of the working tree: describe, commit, modified tracked files.
pub fn git_identity() -> (String, String, Vec<String>) {
    let changed = git(&["diff", "--name-only", "HEAD"]);
    let modified = match changed.as_str() {
        "unknown" => Vec::new(),
        text => text.lines().map(str::to_string).collect(),
    };
    (
        git(&["describe", "--always", "--dirty", "--tags"]),
        git(&["rev-parse", "HEAD"]),
        modified,
    )
}

/// The version string a bzImage carries (boot protocol header: `HdrS` at 0x202, the
/// string's offset minus 0x200 at 0x20e).
pub fn bzimage_version(image: &[u8]) -> Option<String> {
    if image.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let offset = u16::from_le_bytes([*image.get(0x20e)?, *image.get(0x20f)?]) as usize + 0x200;
    let tail = image.get(offset..)?;
    let end = tail.iter().take(256).position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&tail[..end]).into_owned())
}

/// Builds (or fetches) the kernel of `spec`. Linux gets `linux_memory_mib` (the Tessera
/// side's memory, so both run on the same machine).
pub fn prepare(spec: &Spec, linux_memory_mib: u32) -> Result<Prepared, String> {
    let (git_describe, git_commit, modified) = git_identity();
    match spec {
        Spec::Linux => {
            let (image, modules) = linux::for_benchmarks()?;
            let bytes = std::fs::read(&image).map_err(|e| format!("{}: {e}", image.display()))?;
            let package = image
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("vmlinuz-"))
                .map(|v| format!("linux-image-{v}"));
            let version = [package, bzimage_version(&bytes)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            Ok(Prepared {
                identity: Identity {
                    kind: "linux",
                    label: spec.label(),
                    linux_version: Some(version),
                    git_describe,
                    git_commit,
                    modified,
                    ..Identity::default()
                },
                image,
                append: linux::APPEND.into(),
                memory_mib: linux_memory_mib,
                network: match modules {
                    Ok(modules) => Network::Modules(modules),
                    Err(why) => Network::Unavailable(why),
                },
            })
        }
        Spec::Config { base, overrides } => {
            let config = if overrides.is_empty() {
                kernel::load_config(base)?
            } else {
                let original = kernel::load_config(base)?;
                let text = std::fs::read_to_string(&original.path)
                    .map_err(|e| format!("{}: {e}", original.path.display()))?;
                let dir = kernel::target_dir().join("configs");
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let path = dir.join(format!("{}.toml", spec.label()));
                std::fs::write(&path, apply_overrides(&text, overrides)?)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                kernel::load_config(&path.to_string_lossy())?
            };
            let built = kernel::build(&config)?;
            Ok(Prepared {
                identity: Identity {
                    kind: "tessera",
                    label: spec.label(),
                    components: config.components.clone(),
                    profile: format!(
                        "opt-level={} lto={} debug-assertions={} lock-tracking={}",
                        config.opt_level, config.lto, config.debug_assertions, config.lock_tracking
                    ),
                    linux_version: None,
                    git_describe,
                    git_commit,
                    modified,
                },
                image: built.elf,
                append: String::new(),
                memory_mib: config.memory_mib,
                network: match config.variant("net") {
                    Some("smoltcp") => Network::Kernel,
                    other => Network::Absent(format!(
                        "`{}` has no network (net = \"{}\")",
                        spec.label(),
                        other.unwrap_or("none")
                    )),
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base: &str, overrides: &[(&str, &str)]) -> Spec {
        Spec::Config {
            base: base.into(),
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn specs_and_labels() {
        assert_eq!(Spec::parse("linux").unwrap(), Spec::Linux);
        assert_eq!(Spec::parse("fast").unwrap(), config("fast", &[]));
        let spec = Spec::parse("fast,dcache=off, lock=irq-save").unwrap();
        assert_eq!(
            spec,
            config("fast", &[("dcache", "off"), ("lock", "irq-save")])
        );
        assert_eq!(spec.label(), "fast+dcache=off+lock=irq-save");
        assert_eq!(Spec::parse("configs/fast.toml").unwrap().label(), "fast");
        for bad in [
            "",
            ",dcache=off",
            "fast,dcache",
            "fast,a=b,a=c",
            "linux,x=y",
            "fast,k=a/b",
        ] {
            assert!(Spec::parse(bad).is_err(), "`{bad}` must be refused");
        }
    }

    const FAST: &str = "\
description = \"Every optimization on\"
[profile]
opt-level = 2              # what the kernel ships with
[components]
page-alloc = \"buddy\"       # O(1) free lists
dcache = \"hashbrown\"
[kernel]
memory-mib = 128
";

    #[test]
    fn overrides_replace_in_place_and_keep_quoting() {
        let out = apply_overrides(
            FAST,
            &[
                ("dcache".into(), "off".into()),
                ("opt-level".into(), "0".into()),
                ("kernel.memory-mib".into(), "256".into()),
            ],
        )
        .unwrap();
        assert!(
            out.contains("dcache = \"off\"   # ablation override\n"),
            "{out}"
        );
        assert!(
            out.contains("opt-level = 0   # ablation override\n"),
            "{out}"
        );
        assert!(
            out.contains("memory-mib = 256   # ablation override\n"),
            "{out}"
        );
        assert!(out.contains("page-alloc = \"buddy\""));
        assert!(out.contains(
            "description = \"Every optimization on (ablation: dcache=off, opt-level=0, \
             kernel.memory-mib=256)\""
        ));
    }

    #[test]
    fn an_unknown_key_is_added_for_validation_to_name() {
        let out = apply_overrides(FAST, &[("pipe".into(), "simple".into())]).unwrap();
        assert!(out.contains("[components]\npipe = \"simple\"\n"), "{out}");
        let err = apply_overrides(FAST, &[("nosuch.key".into(), "1".into())]).unwrap_err();
        assert!(err.contains("no [nosuch] section"), "{err}");
    }

    #[test]
    fn real_configs_validate_after_overrides() {
        let path = crate::root().join("configs/fast.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let ok = apply_overrides(&text, &[("dcache".into(), "off".into())]).unwrap();
        let config = tessera_config::parse(Path::new("fast+dcache=off.toml"), &ok).unwrap();
        assert_eq!(config.variant("dcache"), Some("off"));
        assert_eq!(config.name, "fast+dcache=off");
        let bad = apply_overrides(&text, &[("dcache".into(), "bogus".into())]).unwrap();
        let err = tessera_config::parse(Path::new("x.toml"), &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("dcache") && err.contains("allowed"), "{err}");
        let unknown = apply_overrides(&text, &[("nosuch".into(), "x".into())]).unwrap();
        assert!(tessera_config::parse(Path::new("x.toml"), &unknown).is_err());
    }

    #[test]
    fn bzimage_version_string() {
        let mut image = vec![0u8; 0x400];
        image[0x202..0x206].copy_from_slice(b"HdrS");
        image[0x20e..0x210].copy_from_slice(&0x100u16.to_le_bytes());
        let version = b"6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP\0";
        image[0x300..0x300 + version.len()].copy_from_slice(version);
        assert_eq!(
            bzimage_version(&image).as_deref(),
            Some("6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP")
        );
        assert_eq!(bzimage_version(&[0u8; 0x400]), None);
        assert_eq!(bzimage_version(b"short"), None);
    }
}
