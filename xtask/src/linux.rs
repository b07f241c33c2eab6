//! Linux on the same emulator: Debian's packaged kernel, the reference `cargo xtask conform`
//! compares Tessera against.
//!
//! The image comes from the versioned package that the metapackage `linux-image-amd64`
//! depends on (`apt-cache depends`), fetched once with `apt-get download` into
//! `target/cache/linux/`; only `boot/vmlinuz-*` is unpacked from it (the modules are not
//! needed: serial console, tmpfs, proc and devtmpfs are built into Debian's kernel) and the
//! `.deb` is deleted. `LINUX_KERNEL=path` uses another image instead.
//!
//! It boots through the same [`Boot`] as Tessera (machine, CPU, memory, QEMU flags), with
//! `console=ttyS0 quiet panic=-1`: the console on the serial port, kernel messages kept
//! off it, and an exit of QEMU (via `-no-reboot`) if init dies.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::busybox;
use crate::qemu::{Boot, Mode};

/// The metapackage that names the current kernel package.
pub const METAPACKAGE: &str = "linux-image-amd64";

/// Linux's command line for conformance runs.
pub const APPEND: &str = "console=ttyS0 quiet panic=-1";

/// The environment variable that points at another kernel image.
pub const OVERRIDE: &str = "LINUX_KERNEL";

/// Where the image is cached.
pub fn cache_dir() -> PathBuf {
    crate::kernel::target_dir().join("cache/linux")
}

/// The Linux image to boot: `$LINUX_KERNEL`, or the cached Debian kernel (fetched once).
pub fn kernel() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(OVERRIDE) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{OVERRIDE}={}: no such file", path.display()))
        };
    }
    let dir = cache_dir();
    if let Some(image) = cached_image(&dir) {
        return Ok(image);
    }
    fetch(&dir).map_err(|e| format!("{e}\n(or set {OVERRIDE}=path/to/bzImage)"))
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

fn fetch(dir: &Path) -> Result<PathBuf, String> {
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
    // Only the image: `dpkg-deb --fsys-tarfile` piped into tar, which extracts one path.
    let mut unpack = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(&deb)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    let tar = Command::new("tar")
        .args(["-x", "--wildcards", "-C"])
        .arg(dir)
        .arg("./boot/vmlinuz-*")
        .stdin(unpack.stdout.take().expect("piped stdout"))
        .status()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let dpkg = unpack.wait().map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&deb);
    if !tar.success() || !dpkg.success() {
        return Err(format!(
            "unpacking boot/vmlinuz-* from {} failed",
            deb.display()
        ));
    }
    cached_image(dir).ok_or_else(|| format!("{} held no boot/vmlinuz-*", deb.display()))
}

/// A boot of Linux with `initrd`, on the machine and memory Tessera gets.
pub fn boot(image: &Path, memory_mib: u32, initrd: &Path, mode: Mode) -> Boot {
    Boot {
        image: image.to_path_buf(),
        memory_mib,
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
