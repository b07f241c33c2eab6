//! The modules Linux needs to drive the benchmarks' virtio-net card.
//!
//! Debian builds virtio-net and its transport as modules (`CONFIG_VIRTIO_NET=m`,
//! `CONFIG_VIRTIO_PCI=m` in bookworm), so the network benchmark's initramfs carries them and
//! the benchmark program loads them with `finit_module(2)`. Which files, and in which
//! order, is read from the package itself rather than listed by hand: every module's
//! `.modinfo` section names the modules it needs (`depends=`, written by modpost; modules
//! built into the kernel never appear there), `lib/modules/<version>/modules.builtin`
//! lists what is built in, and `boot/config-<version>` must agree for the two modules the
//! card needs ([`ROOTS`]). The result is a dependency-first load order, cached next to the
//! image as `modules/<version>/<name>.ko` plus the list [`ORDER_FILE`], written last, so a
//! cache without it is incomplete.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSection};

/// The modules the card needs (module name, config symbol): the PCI transport and the
/// network driver. Their dependencies come from `.modinfo`.
pub const ROOTS: &[(&str, &str)] = &[
    ("virtio_pci", "CONFIG_VIRTIO_PCI"),
    ("virtio_net", "CONFIG_VIRTIO_NET"),
];

/// The load order, one file name per line, in `modules/<version>/`.
pub const ORDER_FILE: &str = "virtio-net.order";

/// A module's name as the kernel knows it: the file stem with `-` as `_`.
pub fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.strip_suffix(".ko").unwrap_or(file).replace('-', "_")
}

/// The `key=value` strings of a `.modinfo` section (NUL-separated, padded with NULs).
pub fn modinfo_fields(section: &[u8]) -> Vec<(String, String)> {
    section
        .split(|&b| b == 0)
        .filter_map(|field| {
            let text = String::from_utf8_lossy(field);
            text.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// A module's name (`name=`, or `None` when absent) and dependencies (`depends=`).
pub fn modinfo(elf: &[u8]) -> Result<(Option<String>, Vec<String>), String> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF object: {e}"))?;
    let section = file
        .section_by_name(".modinfo")
        .ok_or("no .modinfo section")?;
    let data = section.data().map_err(|e| e.to_string())?;
    let mut name = None;
    let mut depends = Vec::new();
    for (key, value) in modinfo_fields(data) {
        match key.as_str() {
            "name" => name = Some(value),
            "depends" => depends.extend(
                value
                    .split(',')
                    .filter(|d| !d.is_empty())
                    .map(|d| d.replace('-', "_")),
            ),
            _ => {}
        }
    }
    Ok((name, depends))
}

/// What the package says about its modules (gathered in one pass over its files).
#[derive(Debug, Default)]
pub struct Index {
    /// Every loadable module: name -> (path in the package, dependencies).
    pub modules: BTreeMap<String, (String, Vec<String>)>,
    /// The names in `modules.builtin`.
    pub builtin: BTreeSet<String>,
    /// `boot/config-<version>`.
    pub config: String,
}

impl Index {
    /// Looks at one file of the package (`path` without the leading `./`): a module or
    /// `modules.builtin` (the caller reads `boot/config-*` into [`Index::config`]).
    pub fn add(&mut self, path: &str, data: &mut dyn Read) -> Result<(), String> {
        let mut read = || -> Result<Vec<u8>, String> {
            let mut bytes = Vec::new();
            data.read_to_end(&mut bytes)
                .map_err(|e| format!("{path}: {e}"))?;
            Ok(bytes)
        };
        if path.starts_with("lib/modules/") && path.ends_with(".ko") {
            let (name, depends) = modinfo(&read()?).map_err(|e| format!("{path}: {e}"))?;
            let name = name.unwrap_or_else(|| module_name(path));
            self.modules.insert(name, (path.to_string(), depends));
        } else if path.starts_with("lib/modules/") && path.ends_with("/modules.builtin") {
            let text = String::from_utf8_lossy(&read()?).into_owned();
            self.builtin
                .extend(text.lines().filter(|l| !l.is_empty()).map(module_name));
        }
        Ok(())
    }

    /// The value of `symbol` in the config (`y`, `m`), or `None` when it is not set.
    pub fn config_value(&self, symbol: &str) -> Option<&str> {
        self.config
            .lines()
            .find_map(|l| l.strip_prefix(symbol)?.strip_prefix('='))
    }

    /// The modules to load for [`ROOTS`], dependencies first. A root built into the kernel
    /// needs nothing; one the config leaves out, a missing dependency or a cycle is an error.
    pub fn load_order(&self) -> Result<Vec<String>, String> {
        if self.config.is_empty() {
            return Err("the package has no boot/config-*".into());
        }
        let mut order = Vec::new();
        for (root, symbol) in ROOTS {
            let built_in = self.builtin.contains(*root);
            match (self.config_value(symbol), built_in) {
                (Some("y"), true) => continue,
                (Some("m"), false) => self.visit(root, &mut Vec::new(), &mut order)?,
                (value, _) => {
                    return Err(format!(
                        "{symbol}={} but modules.builtin {} {root}: this kernel cannot drive \
                         the virtio-net card as expected",
                        value.unwrap_or("(not set)"),
                        if built_in { "lists" } else { "does not list" }
                    ));
                }
            }
        }
        Ok(order)
    }

    /// Depth first: `name`'s dependencies, then `name` (once).
    fn visit(
        &self,
        name: &str,
        path: &mut Vec<String>,
        order: &mut Vec<String>,
    ) -> Result<(), String> {
        if order.iter().any(|n| n == name) {
            return Ok(());
        }
        if path.iter().any(|n| n == name) {
            return Err(format!(
                "modules depend on each other in a cycle: {} -> {name}",
                path.join(" -> ")
            ));
        }
        let (_, depends) = self.modules.get(name).ok_or_else(|| {
            format!(
                "module {name} is needed{} but the package has no {name}.ko",
                path.last().map(|p| format!(" by {p}")).unwrap_or_default()
            )
        })?;
        path.push(name.to_string());
        for dependency in depends {
            self.visit(dependency, path, order)?;
        }
        path.pop();
        order.push(name.to_string());
        Ok(())
    }
}

/// Where the modules of Linux `version` are cached.
pub fn dir(cache: &Path, version: &str) -> PathBuf {
    cache.join("modules").join(version)
}

/// The cached modules of Linux `version` in load order, or why the cache is incomplete.
pub fn cached(cache: &Path, version: &str) -> Result<Vec<PathBuf>, String> {
    let dir = dir(cache, version);
    let list = dir.join(ORDER_FILE);
    let text = std::fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    let files: Vec<PathBuf> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|name| dir.join(name))
        .collect();
    if files.is_empty() {
        return Err(format!("{} lists no module", list.display()));
    }
    match files.iter().find(|f| !f.is_file()) {
        Some(missing) => Err(format!("{}: missing", missing.display())),
        None => Ok(files),
    }
}

/// Writes `name.ko` for each module of `order` (`files`: name -> bytes) and then the order
/// list that marks the cache complete.
pub fn store(
    cache: &Path,
    version: &str,
    order: &[String],
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    let dir = dir(cache, version);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut list = String::new();
    for name in order {
        let bytes = files
            .get(name)
            .ok_or_else(|| format!("{name}.ko was not found on the second pass"))?;
        let path = dir.join(format!("{name}.ko"));
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        list.push_str(&format!("{name}.ko\n"));
    }
    let path = dir.join(ORDER_FILE);
    std::fs::write(&path, list).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bookworm package (6.1.0-57-amd64), as `.modinfo` and the config describe it.
    fn bookworm() -> Index {
        let mut index = Index {
            config: "CONFIG_VIRTIO=m\nCONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO_PCI_LEGACY=y\n\
                     CONFIG_VIRTIO_NET=m\n# CONFIG_FOO is not set\n"
                .into(),
            ..Index::default()
        };
        for (name, depends) in [
            ("virtio_net", "virtio_ring,virtio,net_failover"),
            ("net_failover", "failover"),
            ("failover", ""),
            (
                "virtio_pci",
                "virtio_ring,virtio_pci_modern_dev,virtio_pci_legacy_dev,virtio",
            ),
            ("virtio_pci_legacy_dev", ""),
            ("virtio_pci_modern_dev", ""),
            ("virtio", "virtio_ring"),
            ("virtio_ring", ""),
            ("virtio_blk", "virtio_ring,virtio"),
        ] {
            let deps = depends
                .split(',')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect();
            index
                .modules
                .insert(name.into(), (format!("lib/modules/x/{name}.ko"), deps));
        }
        index.builtin.insert("virtio_mmio".into());
        index
    }

    #[test]
    fn names_and_fields() {
        assert_eq!(
            module_name("lib/modules/6.1/kernel/drivers/char/hw_random/virtio-rng.ko"),
            "virtio_rng"
        );
        assert_eq!(module_name("kernel/net/core/failover.ko"), "failover");
        let fields = modinfo_fields(b"alias=pci:v1AF4\0depends=a,b\0vermagic=6.1 SMP\0\0\0");
        assert_eq!(fields[1], ("depends".into(), "a,b".into()));
        assert_eq!(fields[2], ("vermagic".into(), "6.1 SMP".into()));
        assert!(modinfo(b"not an elf").is_err());
        // An ELF file that is no module (this test program).
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(modinfo(&exe).unwrap_err(), "no .modinfo section");
    }

    #[test]
    fn load_order_puts_dependencies_first() {
        let order = bookworm().load_order().unwrap();
        assert_eq!(
            order,
            [
                "virtio_ring",
                "virtio_pci_modern_dev",
                "virtio_pci_legacy_dev",
                "virtio",
                "virtio_pci",
                "failover",
                "net_failover",
                "virtio_net"
            ]
        );
    }

    #[test]
    fn built_in_roots_need_nothing_and_disagreements_fail() {
        let mut index = bookworm();
        index.config = index
            .config
            .replace("CONFIG_VIRTIO_PCI=m", "CONFIG_VIRTIO_PCI=y");
        index.builtin.insert("virtio_pci".into());
        let order = index.load_order().unwrap();
        assert_eq!(order.first().map(String::as_str), Some("virtio_ring"));
        assert!(!order.contains(&"virtio_pci".to_string()));
        assert!(!order.contains(&"virtio_pci_modern_dev".to_string()));
        // The config says built in, modules.builtin does not: refuse rather than guess.
        index.builtin.remove("virtio_pci");
        let err = index.load_order().unwrap_err();
        assert!(err.contains("CONFIG_VIRTIO_PCI=y"), "{err}");
        let mut none = bookworm();
        none.config = none.config.replace("CONFIG_VIRTIO_NET=m\n", "");
        assert!(none.load_order().unwrap_err().contains("(not set)"));
    }

    #[test]
    fn missing_modules_and_cycles_are_errors() {
        let mut index = bookworm();
        index.modules.remove("failover");
        let err = index.load_order().unwrap_err();
        assert!(err.contains("failover is needed by net_failover"), "{err}");
        let mut index = bookworm();
        index.modules.get_mut("virtio_ring").unwrap().1 = vec!["virtio".into()];
        let err = index.load_order().unwrap_err();
        assert!(err.contains("cycle"), "{err}");
    }

    #[test]
    fn the_cache_is_complete_only_with_its_order_file() {
        let cache = std::env::temp_dir().join(format!("xtask-modules-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&cache);
        assert!(cached(&cache, "6.1").is_err());
        let order = vec!["virtio_ring".to_string(), "virtio".to_string()];
        let files: BTreeMap<String, Vec<u8>> = order
            .iter()
            .map(|n| (n.clone(), n.as_bytes().to_vec()))
            .collect();
        store(&cache, "6.1", &order, &files).unwrap();
        let got = cached(&cache, "6.1").unwrap();
        assert_eq!(
            got,
            [
                dir(&cache, "6.1").join("virtio_ring.ko"),
                dir(&cache, "6.1").join("virtio.ko")
            ]
        );
        std::fs::remove_file(&got[1]).unwrap();
        assert!(cached(&cache, "6.1").unwrap_err().contains("missing"));
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
