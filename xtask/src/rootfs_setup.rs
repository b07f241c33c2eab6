//! What Debian's maintainer scripts and installer would have set up in an unpacked root
//! file system, done from the host without root or a dpkg database ([`configure`]). Each
//! step applies when its package is in the tree (its source file exists) and copies or
//! links what the package's `postinst` would; nothing runs in the tree.

use std::path::Path;
use std::process::Command;

/// `install_from_default`-style copies of a postinst: (package, shipped file, where the
/// script copies it when it is missing).
const COPIES: &[(&str, &str, &str)] = &[
    // base-passwd: the accounts and groups of every Debian system (root, daemon, bin...).
    (
        "base-passwd",
        "usr/share/base-passwd/passwd.master",
        "etc/passwd",
    ),
    (
        "base-passwd",
        "usr/share/base-passwd/group.master",
        "etc/group",
    ),
    // base-files: the login shell's defaults.
    ("base-files", "usr/share/base-files/profile", "etc/profile"),
    (
        "base-files",
        "usr/share/base-files/dot.profile",
        "root/.profile",
    ),
    (
        "base-files",
        "usr/share/base-files/dot.bashrc",
        "root/.bashrc",
    ),
    ("base-files", "usr/share/base-files/motd", "etc/motd"),
    (
        "libc-bin",
        "usr/share/libc-bin/nsswitch.conf",
        "etc/nsswitch.conf",
    ),
    ("debianutils", "usr/share/debianutils/shells", "etc/shells"),
    (
        "readline-common",
        "usr/share/readline/inputrc",
        "etc/inputrc",
    ),
];

/// `update-alternatives --install LINK NAME PATH` of the postinsts, the highest priority
/// of each name: (name, link, path). The link points at `/etc/alternatives/NAME`, which
/// points at the path, as update-alternatives leaves them; an alternative whose path is
/// not in the tree is skipped.
const ALTERNATIVES: &[(&str, &str, &str)] = &[
    ("awk", "/usr/bin/awk", "/usr/bin/gawk"),
    // less (priority 77) over util-linux's more (50).
    ("pager", "/usr/bin/pager", "/usr/bin/less"),
    ("which", "/usr/bin/which", "/usr/bin/which.debianutils"),
    ("lzma", "/usr/bin/lzma", "/usr/bin/xz"),
    ("unlzma", "/usr/bin/unlzma", "/usr/bin/unxz"),
    ("lzcat", "/usr/bin/lzcat", "/usr/bin/xzcat"),
    ("rmt", "/usr/sbin/rmt", "/usr/sbin/rmt-tar"),
];

/// base-files' postinst: directories (path, mode) and symbolic links (path, target).
const DIRECTORIES: &[(&str, u32)] = &[
    ("etc", 0o755),
    ("mnt", 0o755),
    ("srv", 0o755),
    ("opt", 0o755),
    ("etc/opt", 0o755),
    ("var/opt", 0o755),
    ("media", 0o755),
    ("var/mail", 0o2775),
    ("run/lock", 0o1777),
    ("usr/local/bin", 0o755),
    ("usr/local/sbin", 0o755),
    ("usr/local/lib", 0o755),
    ("usr/local/include", 0o755),
    ("usr/local/share/man", 0o755),
    ("usr/local/src", 0o755),
    ("usr/local/etc", 0o755),
    ("usr/local/games", 0o755),
    ("root", 0o700),
    ("tmp", 0o1777),
    ("var/tmp", 0o1777),
    ("proc", 0o555),
    ("sys", 0o555),
    ("dev", 0o755),
];

const LINKS: &[(&str, &str)] = &[
    ("var/spool/mail", "../mail"),
    ("var/run", "/run"),
    ("var/lock", "/run/lock"),
    ("usr/local/man", "share/man"),
    // What systemd or the installer would make: mount(8) and df read the kernel's table.
    ("etc/mtab", "../proc/self/mounts"),
];

/// An installer's files: (path, contents).
fn installer_files() -> Vec<(&'static str, String)> {
    let host = crate::rootfs::HOSTNAME;
    vec![
        ("etc/hostname", format!("{host}\n")),
        (
            "etc/hosts",
            format!(
                "127.0.0.1\tlocalhost\n127.0.1.1\t{host}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            ),
        ),
        (
            "etc/fstab",
            "# <file system> <mount point> <type> <options> <dump> <pass>\n".into(),
        ),
    ]
}

/// Everything above, then `/var/lib/dpkg/status` for `debs`.
pub fn configure(root: &Path, debs: &[std::path::PathBuf]) -> Result<(), String> {
    let err = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    for (dir, mode) in DIRECTORIES {
        let path = root.join(dir);
        std::fs::create_dir_all(&path).map_err(|e| err(&path, e))?;
        set_mode(&path, *mode)?;
    }
    for (_package, from, to) in COPIES {
        let (from, to) = (root.join(from), root.join(to));
        if from.is_file() && std::fs::symlink_metadata(&to).is_err() {
            std::fs::copy(&from, &to).map_err(|e| err(&to, e))?;
        }
    }
    for (name, link, path) in ALTERNATIVES {
        let (link, path) = (link.trim_start_matches('/'), path.trim_start_matches('/'));
        if !root.join(path).exists() || std::fs::symlink_metadata(root.join(link)).is_ok() {
            continue;
        }
        let managed = root.join("etc/alternatives").join(name);
        std::fs::create_dir_all(root.join("etc/alternatives")).map_err(|e| err(root, e))?;
        symlink(&format!("/{path}"), &managed)?;
        symlink(&format!("/etc/alternatives/{name}"), &root.join(link))?;
    }
    for (path, target) in LINKS {
        let path = root.join(path);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && !m.is_symlink()) {
            std::fs::remove_dir(&path).map_err(|e| err(&path, e))?;
        }
        if std::fs::symlink_metadata(&path).is_err() {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
            }
            symlink(target, &path)?;
        }
    }
    for (path, contents) in installer_files() {
        let path = root.join(path);
        std::fs::write(&path, contents).map_err(|e| err(&path, e))?;
    }
    dpkg_status(root, debs)
}

fn symlink(target: &str, path: &Path) -> Result<(), String> {
    std::os::unix::fs::symlink(target, path).map_err(|e| format!("{}: {e}", path.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `/var/lib/dpkg/status`: each package's control fields (`dpkg-deb -f`) with
/// `Status: install ok installed` after its name, as dpkg records an installed package.
fn dpkg_status(root: &Path, debs: &[std::path::PathBuf]) -> Result<(), String> {
    let mut status = String::new();
    for deb in debs {
        let out = Command::new("dpkg-deb")
            .arg("-f")
            .arg(deb)
            .output()
            .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
        if !out.status.success() {
            return Err(format!("dpkg-deb -f {} failed", deb.display()));
        }
        status.push_str(&installed(&String::from_utf8_lossy(&out.stdout)));
        status.push('\n');
    }
    let dir = root.join("var/lib/dpkg");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("status"), status).map_err(|e| format!("{}: {e}", dir.display()))
}

/// A package's control fields with the status line of an installed package.
fn installed(control: &str) -> String {
    let mut out = String::new();
    for line in control.lines() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("Package:") {
            out.push_str("Status: install ok installed\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_package_line() {
        assert_eq!(
            installed("Package: bash\nVersion: 5.2\n"),
            "Package: bash\nStatus: install ok installed\nVersion: 5.2\n"
        );
    }

    #[test]
    fn configure_copies_links_and_alternatives() {
        let root = std::env::temp_dir().join(format!("xtask-configure-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["usr/share/base-passwd", "usr/bin", "var/run", "root"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(
            root.join("usr/share/base-passwd/passwd.master"),
            "root:x:0:0",
        )
        .unwrap();
        std::fs::write(root.join("usr/bin/gawk"), "gawk").unwrap();
        configure(&root, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("etc/passwd")).unwrap(),
            "root:x:0:0"
        );
        assert!(
            !root.join("etc/profile").exists(),
            "base-files is not there"
        );
        assert_eq!(
            std::fs::read_link(root.join("usr/bin/awk")).unwrap(),
            Path::new("/etc/alternatives/awk")
        );
        assert_eq!(
            std::fs::read_link(root.join("etc/alternatives/awk")).unwrap(),
            Path::new("/usr/bin/gawk")
        );
        assert!(
            !root.join("usr/bin/pager").is_symlink(),
            "less is not there"
        );
        assert_eq!(
            std::fs::read_link(root.join("var/run")).unwrap(),
            Path::new("/run")
        );
        assert_eq!(
            std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
            "debian\n"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap(),
            ""
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
