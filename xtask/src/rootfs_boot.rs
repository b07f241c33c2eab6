//! Booting a root file system tree (`cargo xtask run --rootfs debian|DIR [-- CMD ARGS...]`):
//! the tree packed as the initramfs with our `/init` (`userland/debian/init.c`), on
//! Tessera or on Linux.
//!
//! The archive ([`archive`]) is the whole tree (owner root, the tree's modes, hard links
//! as separate copies), the skeleton every archive has (`/dev/console`, the mount
//! points), `/init` (rootfs-init, a static program: mounts proc, devtmpfs and a tmpfs on
//! `/tmp`, then runs the command or Debian's bash as a login shell on the console), and
//! for a command `/etc/rootfs-run` (its arguments, each ended by a NUL). It is this run's
//! own (`target/initrd/rootfs-<pid>.cpio`, deleted afterwards): about 80 MB for the
//! default tree, written in about a second.
//!
//! When the program ends, init prints `rootfs-init: exit status N` (or `killed by signal
//! N`) and powers off; [`status`] reads that line, and `run` exits with the command's
//! status (128 + N for a signal), as a shell would.

use std::path::{Path, PathBuf};

use crate::cpio::Archive;
use crate::initrd::{self, Private};

/// RAM for a root file system boot unless `--memory` says otherwise. The default tree
/// (77 MB) is held twice, as the archive and as the root tmpfs (Tessera keeps the
/// archive; Linux frees it after unpacking but limits its root tmpfs to half of RAM), and
/// Python, the session's files in `/tmp` and the page tables need room besides.
pub const DEFAULT_MEMORY_MIB: u32 = 512;

/// Where the command goes in the archive (read by rootfs-init).
pub const COMMAND_FILE: &str = "etc/rootfs-run";

/// The tree `--rootfs SPEC` names: `debian` (the default set, built when not current) or
/// a directory.
pub fn tree(spec: &str) -> Result<PathBuf, String> {
    if spec == "debian" {
        let output = crate::rootfs::default_output();
        crate::rootfs::build(None, &output)?;
        return Ok(output);
    }
    let dir = PathBuf::from(spec);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("--rootfs {spec}: neither `debian` nor a directory"))
    }
}

/// The archive of `tree` with rootfs-init as `/init`, `command` (when not empty) in
/// [`COMMAND_FILE`], and `extra` files (path in the archive, mode, contents).
pub fn archive(
    tree: &Path,
    command: &[String],
    extra: &[(String, u32, Vec<u8>)],
) -> Result<Private, String> {
    let mut archive = Archive::new();
    add_tree(&mut archive, tree, "")?;
    initrd::skeleton(&mut archive);
    let init = crate::userland::rootfs_init()?;
    let bytes = std::fs::read(&init).map_err(|e| format!("{}: {e}", init.display()))?;
    archive.file("init", 0o755, bytes);
    if !command.is_empty() {
        let mut argv = Vec::new();
        for arg in command {
            argv.extend_from_slice(arg.as_bytes());
            argv.push(0);
        }
        archive.file(COMMAND_FILE, 0o644, argv);
    }
    for (path, mode, contents) in extra {
        archive.file(path, *mode, contents.clone());
    }
    Private::write("rootfs", &archive)
}

/// Adds everything under `dir` at `prefix` in the archive.
pub fn add_tree(archive: &mut Archive, dir: &Path, prefix: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_symlink() {
            let target =
                std::fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            archive.symlink(&name, &target.to_string_lossy());
        } else if meta.is_dir() {
            archive.dir(&name, mode);
            add_tree(archive, &path, &format!("{name}/"))?;
        } else if meta.is_file() {
            let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            archive.file(&name, mode, data);
        }
        // Sockets, pipes and device nodes: packages ship none; the kernel makes /dev.
    }
    Ok(())
}

/// The program's status from rootfs-init's last line on the console: its exit status, or
/// 128 + the signal that killed it.
pub fn status(output: &str) -> Option<i32> {
    output.lines().rev().find_map(|line| {
        let line = line.trim_end_matches('\r');
        if let Some(n) = line.strip_prefix("rootfs-init: exit status ") {
            return n.trim().parse().ok();
        }
        line.strip_prefix("rootfs-init: killed by signal ")
            .and_then(|n| n.trim().parse::<i32>().ok())
            .map(|n| 128 + n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpio::tests::parse;

    #[test]
    fn status_from_the_last_init_line() {
        assert_eq!(
            status("x\nrootfs-init: exit status 3\r\n[ 1.0] power off\n"),
            Some(3)
        );
        assert_eq!(status("rootfs-init: killed by signal 9\n"), Some(137));
        assert_eq!(
            status("rootfs-init: exit status 0\nrootfs-init: exit status 1\n"),
            Some(1)
        );
        assert_eq!(status("no line\n"), None);
    }

    #[test]
    fn tree_modes_links_and_the_command() {
        let dir = std::env::temp_dir().join(format!("xtask-rootfs-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("usr/bin")).unwrap();
        std::fs::write(dir.join("usr/bin/true"), "ELF").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let exec = std::fs::Permissions::from_mode(0o4755);
            std::fs::set_permissions(dir.join("usr/bin/true"), exec).unwrap();
        }
        std::os::unix::fs::symlink("usr/bin", dir.join("bin")).unwrap();
        let mut archive = Archive::new();
        add_tree(&mut archive, &dir, "").unwrap();
        let entries = parse(&archive.to_bytes());
        let get = |n: &str| {
            entries
                .iter()
                .find(|e| e.name == n)
                .unwrap_or_else(|| panic!("{n}"))
        };
        assert_eq!(get("usr/bin/true").mode, 0o104755);
        assert_eq!(get("usr/bin/true").data, b"ELF");
        assert_eq!(get("bin").mode & 0o170000, 0o120000);
        assert_eq!(get("bin").data, b"usr/bin");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
