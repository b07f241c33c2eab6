//! Linux on the same emulator: Debian's packaged kernel, the reference `cargo xtask conform`
//! compares Tessera against and the baseline of `cargo xtask bench`.
//!
//! The image comes from the versioned package that the metapackage `linux-image-amd64`
//! depends on (`apt-cache depends`), fetched once with `apt-get download` into
//! `target/cache/linux/`. Unpacked from it: `boot/vmlinuz-*` and `boot/config-*` (serial
//! console, tmpfs, proc and devtmpfs are built into Debian's kernel) and the few modules
//! the network benchmarks need to drive a virtio-net card ([`modules`]: found through their
//! `.modinfo` dependencies, kept as `modules/<version>/`); then the `.deb` is deleted.
//!
//! The modules matter to the network benchmarks only ([`for_benchmarks`]): a cache with the
//! image but not them (one written before they were needed) is completed by fetching again
//! for the benchmarks, and if that fails, or the package's modules cannot be worked out,
//! the cached image still serves everything else (`conform`, the system-call benchmarks)
//! and only the network benchmarks fail, saying why. `LINUX_KERNEL=path` uses another
//! image instead (without modules: the network benchmarks then fail and say so).
//!
//! It boots through the same [`Boot`] as Tessera (machine, CPU, memory, QEMU flags), with
//! `console=ttyS0 quiet panic=-1 no_timer_check`: the console on the serial port, kernel
//! messages kept off it, an exit of QEMU (via `-no-reboot`) if init dies, and no boot-time
//! check that the timer interrupt arrives through the IO-APIC within a few ticks: on a
//! loaded host TCG can miss that window and Linux then panics with "IO-APIC + timer doesn't
//! work!" (seen here at a load of 8 on 2 CPUs). `no_timer_check` is Linux's documented
//! parameter for that check (Documentation/admin-guide/kernel-parameters.txt); it changes
//! nothing after boot.

pub mod modules;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::busybox;
use crate::qemu::{Boot, Mode};

/// The metapackage that names the current kernel package.
pub const METAPACKAGE: &str = "linux-image-amd64";

/// Linux's command line for conformance runs.
pub const APPEND: &str = "console=ttyS0 quiet panic=-1 no_timer_check";

/// The environment variable that points at another kernel image.
pub const OVERRIDE: &str = "LINUX_KERNEL";

/// Where the image is cached.
pub fn cache_dir() -> PathBuf {
    crate::kernel::target_dir().join("cache/linux")
}

/// The Linux image to boot: `$LINUX_KERNEL`, or the cached Debian kernel (fetched once).
/// Whether the cache has the network modules does not matter here.
pub fn kernel() -> Result<PathBuf, String> {
    if let Some(path) = overridden()? {
        return Ok(path);
    }
    let dir = cache_dir();
    match cached_image(&dir) {
        Some(image) => Ok(image),
        None => Ok(fetch(&dir).map_err(with_hint)?.image),
    }
}

/// Linux for the benchmarks: the image, and the modules the program loads for the
/// virtio-net card (in load order) or why there are none. Only a missing image is an error.
pub fn for_benchmarks() -> Result<(PathBuf, Result<Vec<PathBuf>, String>), String> {
    if let Some(path) = overridden()? {
        let why = format!(
            "{OVERRIDE} is set: the network benchmarks need the modules of Debian's package \
             (unset it to use the cached Debian kernel)"
        );
        return Ok((path, Err(why)));
    }
    with_modules(&cache_dir(), fetch)
}

/// `$LINUX_KERNEL`, if set (and then it must be a file).
fn overridden() -> Result<Option<PathBuf>, String> {
    match std::env::var_os(OVERRIDE).map(PathBuf::from) {
        Some(path) if path.is_file() => Ok(Some(path)),
        Some(path) => Err(format!("{OVERRIDE}={}: no such file", path.display())),
        None => Ok(None),
    }
}

fn with_hint(why: String) -> String {
    format!("{why}\n(or set {OVERRIDE}=path/to/bzImage)")
}

/// [`for_benchmarks`] with the cache in `dir`, fetched into by `fetch`: a cached image
/// without its modules is fetched again, and kept when that fails.
fn with_modules(
    dir: &Path,
    fetch: impl FnOnce(&Path) -> Result<Fetched, String>,
) -> Result<(PathBuf, Result<Vec<PathBuf>, String>), String> {
    let Some(image) = cached_image(dir) else {
        let fetched = fetch(dir).map_err(with_hint)?;
        return Ok((fetched.image, fetched.modules));
    };
    let version = version(&image);
    let missing = match modules::cached(dir, &version) {
        Ok(modules) => return Ok((image, Ok(modules))),
        Err(why) => why,
    };
    eprintln!(
        "xtask: the cached Linux {version} has no virtio-net modules ({missing}): fetching \
         Debian's package again"
    );
    match fetch(dir) {
        Ok(fetched) => Ok((fetched.image, fetched.modules)),
        Err(why) => {
            eprintln!(
                "xtask: warning: {why}\nxtask: using the cached Linux {version} without \
                 modules: its network benchmarks will fail"
            );
            Ok((
                image,
                Err(format!(
                    "the cached Linux {version} has no virtio-net modules ({missing}), and \
                     fetching Debian's package again failed: {why}"
                )),
            ))
        }
    }
}

/// The kernel version of an image named `vmlinuz-<version>`.
pub fn version(image: &Path) -> String {
    image
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.strip_prefix("vmlinuz-").unwrap_or(n).to_string())
        .unwrap_or_default()
}

/// The most recently unpacked `boot/vmlinuz-*` under `dir` (by modification time, then name).
fn cached_image(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir.join("boot"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .max_by_key(|p| {
            (
                std::fs::metadata(p).and_then(|m| m.modified()).ok(),
                p.clone(),
            )
        })
}

/// The versioned image package in `apt-cache depends linux-image-amd64` output.
pub fn image_package(depends: &str) -> Option<String> {
    depends
        .lines()
        .filter_map(|l| l.trim().trim_start_matches('|').strip_prefix("Depends:"))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-") && !p.contains('<') && !p.contains(' '))
        .map(str::to_string)
}

/// What a fetch unpacked: the image, and the network modules or why they could not be
/// worked out or stored (which fails the network benchmarks only).
struct Fetched {
    image: PathBuf,
    modules: Result<Vec<PathBuf>, String>,
}

fn fetch(dir: &Path) -> Result<Fetched, String> {
    busybox::ensure_candidate(METAPACKAGE)?;
    let depends = Command::new("apt-cache")
        .args(["depends", METAPACKAGE])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run apt-cache: {e}"))?;
    let text = String::from_utf8_lossy(&depends.stdout);
    let package = image_package(&text).ok_or_else(|| {
        format!("`apt-cache depends {METAPACKAGE}` names no linux-image package:\n{text}")
    })?;
    eprintln!(
        "xtask: fetching Debian's {package} (about 70 MB) into {}",
        dir.display()
    );
    let deb = busybox::download(&package, dir)?;
    let result = unpack(&deb, dir);
    let _ = std::fs::remove_file(&deb);
    result
}

/// Two passes over the package's files: the first keeps the image and its config and reads
/// every module's dependencies, the second the modules the card needs. Only a missing
/// image is an error; a module problem is the [`Fetched::modules`] error.
fn unpack(deb: &Path, dir: &Path) -> Result<Fetched, String> {
    let boot = dir.join("boot");
    std::fs::create_dir_all(&boot).map_err(|e| format!("{}: {e}", boot.display()))?;
    let mut index = modules::Index::default();
    let mut image = None;
    each_file(deb, |path, data| {
        if let Some(name) = path.strip_prefix("boot/")
            && (name.starts_with("vmlinuz-") || name.starts_with("config-"))
        {
            let mut bytes = Vec::new();
            data.read_to_end(&mut bytes)
                .map_err(|e| format!("{path}: {e}"))?;
            let target = boot.join(name);
            // Through a temporary name: a half-written image is never "cached".
            let partial = boot.join(format!(".{name}.partial"));
            std::fs::write(&partial, &bytes)
                .and_then(|()| std::fs::rename(&partial, &target))
                .map_err(|e| format!("{}: {e}", target.display()))?;
            if name.starts_with("vmlinuz-") {
                image = Some(target);
            } else {
                index.config = String::from_utf8_lossy(&bytes).into_owned();
            }
            return Ok(());
        }
        index.add(path, data)
    })?;
    let image = image.ok_or_else(|| format!("{} held no boot/vmlinuz-*", deb.display()))?;
    let version = version(&image);
    let modules = net_modules(deb, dir, &version, &index);
    match &modules {
        Ok(files) => eprintln!(
            "xtask: Linux {version}: virtio-net modules in load order: {}",
            files
                .iter()
                .filter_map(|f| f.file_stem()?.to_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(why) => eprintln!("xtask: warning: Linux {version}: {why}"),
    }
    Ok(Fetched { image, modules })
}

/// The second pass: the modules of `index`'s load order, stored in the cache.
fn net_modules(
    deb: &Path,
    dir: &Path,
    version: &str,
    index: &modules::Index,
) -> Result<Vec<PathBuf>, String> {
    let order = index
        .load_order()
        .map_err(|e| format!("Linux {version}: {e}"))?;
    let wanted: BTreeMap<&str, &str> = order
        .iter()
        .map(|name| (index.modules[name].0.as_str(), name.as_str()))
        .collect();
    let mut files = BTreeMap::new();
    each_file(deb, |path, data| {
        if let Some(name) = wanted.get(path) {
            let mut bytes = Vec::new();
            data.read_to_end(&mut bytes)
                .map_err(|e| format!("{path}: {e}"))?;
            files.insert(name.to_string(), bytes);
        }
        Ok(())
    })?;
    modules::store(dir, version, &order, &files)?;
    modules::cached(dir, version)
}

/// Calls `f` with the path (without `./`) and contents of each regular file of a `.deb`.
fn each_file(
    deb: &Path,
    mut f: impl FnMut(&str, &mut dyn Read) -> Result<(), String>,
) -> Result<(), String> {
    let mut dpkg = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    let stdout = dpkg.stdout.take().expect("piped stdout");
    let result = (|| -> Result<(), String> {
        let mut archive = tar::Archive::new(stdout);
        let entries = archive
            .entries()
            .map_err(|e| format!("{}: {e}", deb.display()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("{}: {e}", deb.display()))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = entry
                .path()
                .map_err(|e| e.to_string())?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            f(&path, &mut entry)?;
        }
        Ok(())
    })();
    let status = dpkg.wait().map_err(|e| e.to_string())?;
    result?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("dpkg-deb --fsys-tarfile {} failed", deb.display()))
    }
}

/// A boot of Linux with `initrd`, on the machine and memory Tessera gets.
pub fn boot(image: &Path, memory_mib: u32, initrd: &Path, mode: Mode) -> Boot {
    Boot {
        image: image.to_path_buf(),
        memory_mib,
        cpus: 1,
        append: APPEND.into(),
        mode,
        initrd: Some(initrd.to_path_buf()),
        net: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_package_of_apt_cache_depends() {
        let bookworm = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(
            image_package(bookworm).as_deref(),
            Some("linux-image-6.1.0-56-amd64")
        );
        let with_others = "linux-image-amd64\n  Recommends: firmware-linux-free\n \
                           |Depends: <linux-image-virtual>\n  Depends: linux-image-6.12.9-amd64\n";
        assert_eq!(
            image_package(with_others).as_deref(),
            Some("linux-image-6.12.9-amd64")
        );
        assert_eq!(image_package("linux-image-amd64\n"), None);
    }

    /// A cache at `dir` with an image of `version`, and its modules when `with_modules`.
    fn fake_cache(dir: &Path, version: &str, with_modules: bool) -> PathBuf {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir.join("boot")).unwrap();
        let image = dir.join(format!("boot/vmlinuz-{version}"));
        std::fs::write(&image, "bzImage").unwrap();
        if with_modules {
            let order = vec!["virtio".to_string()];
            let files = BTreeMap::from([("virtio".to_string(), b"ELF".to_vec())]);
            modules::store(dir, version, &order, &files).unwrap();
        }
        image
    }

    /// Module trouble never costs the image: a failed refetch keeps the cached one, whose
    /// network benchmarks then fail with both reasons; `kernel()`'s users never refetch.
    #[test]
    fn a_failed_refetch_keeps_the_cached_image() {
        let dir = std::env::temp_dir().join(format!("xtask-linux-refetch-{}", std::process::id()));
        let unreachable = |_: &Path| -> Result<Fetched, String> { panic!("no fetch expected") };
        let offline = |_: &Path| -> Result<Fetched, String> { Err("apt-get: offline".into()) };

        let image = fake_cache(&dir, "6.1.0-57-amd64", true);
        let (got, modules) = with_modules(&dir, unreachable).unwrap();
        assert_eq!(got, image);
        assert_eq!(modules.unwrap().len(), 1);

        let image = fake_cache(&dir, "6.1.0-57-amd64", false);
        assert_eq!(
            cached_image(&dir),
            Some(image.clone()),
            "what kernel() boots"
        );
        let (got, modules) = with_modules(&dir, offline).unwrap();
        assert_eq!(got, image);
        let why = modules.unwrap_err();
        assert!(
            why.contains("6.1.0-57-amd64 has no virtio-net modules") && why.contains("offline"),
            "{why}"
        );

        // A refetch that works brings the (possibly newer) image with its modules.
        let (got, modules) = with_modules(&dir, |dir: &Path| {
            Ok(Fetched {
                image: fake_cache(dir, "6.1.0-58-amd64", true),
                modules: modules::cached(dir, "6.1.0-58-amd64"),
            })
        })
        .unwrap();
        assert!(got.ends_with("boot/vmlinuz-6.1.0-58-amd64"));
        assert!(modules.is_ok());

        // No image at all: that is an error.
        std::fs::remove_dir_all(&dir).unwrap();
        let err = with_modules(&dir, offline).unwrap_err();
        assert!(err.contains("offline") && err.contains(OVERRIDE), "{err}");
    }

    #[test]
    fn cached_image_picks_the_newest_vmlinuz() {
        let dir = std::env::temp_dir().join(format!("xtask-linux-cache-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("boot")).unwrap();
        assert_eq!(cached_image(&dir), None);
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for name in [
            "vmlinuz-6.1.0-9-amd64",
            "vmlinuz-6.1.0-10-amd64",
            "config-6.1.0-10-amd64",
        ] {
            let file = std::fs::File::create(dir.join("boot").join(name)).unwrap();
            if name == "vmlinuz-6.1.0-9-amd64" {
                file.set_modified(old).unwrap();
            }
        }
        // The later download wins, although "9" sorts after "10".
        assert_eq!(
            cached_image(&dir).unwrap(),
            dir.join("boot/vmlinuz-6.1.0-10-amd64")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
