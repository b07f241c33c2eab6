//! `/proc/PID/mounts` (and `/proc/mounts`, a link to `self/mounts`): the mount table as
//! Linux's `fs/proc_namespace.c` (`show_vfsmnt`) prints it, one line per mount in mount
//! order: source, mount point, type, options, and two zeros (the `fstab` dump and pass
//! fields). Paths are those the process sees from its root directory; mounts outside it
//! (after `chroot`) are left out, as Linux does.

use alloc::string::String;

use tessera_abi::fs::{
    MS_DIRSYNC, MS_LAZYTIME, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID,
    MS_NOSYMFOLLOW, MS_RDONLY, MS_RELATIME, MS_SYNCHRONOUS,
};
use tessera_vfs::Dentry;

/// Appends `bytes` with space, tab, newline and backslash written as octal escapes (`\040`),
/// as Linux's `mangle` does, so that every line splits into six fields.
fn mangle(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => {
                out.push('\\');
                for shift in [6, 3, 0] {
                    out.push(char::from(b'0' + ((b >> shift) & 7)));
                }
            }
            _ => out.push(char::from(b)),
        }
    }
}

/// The options field: `ro`/`rw`, the superblock's flags (`sync`, `dirsync`, `lazytime`), the
/// mount's (`nosuid`, `nodev`, `noexec`, `noatime`, `nodiratime`, `relatime`,
/// `nosymfollow`), then the file system's own: tmpfs and its kin say `inode64` (their inode
/// numbers are 64-bit). Linux's tmpfs also shows a size, inode and mode limit when one was
/// set; Tessera's have none, and mount's data string is not kept.
fn options(out: &mut String, flags: u64, fs_type: &[u8]) {
    out.push_str(if flags & MS_RDONLY != 0 { "ro" } else { "rw" });
    for (flag, name) in [
        (MS_SYNCHRONOUS, ",sync"),
        (MS_DIRSYNC, ",dirsync"),
        (MS_LAZYTIME, ",lazytime"),
        (MS_NOSUID, ",nosuid"),
        (MS_NODEV, ",nodev"),
        (MS_NOEXEC, ",noexec"),
        (MS_NOATIME, ",noatime"),
        (MS_NODIRATIME, ",nodiratime"),
        (MS_RELATIME, ",relatime"),
        (MS_NOSYMFOLLOW, ",nosymfollow"),
    ] {
        if flags & flag != 0 {
            out.push_str(name);
        }
    }
    if crate::fs::mount::is_tmpfs_like(fs_type) {
        out.push_str(",inode64");
    }
}

/// The mount table as seen from the root directory `root`.
pub fn text(root: &Dentry) -> String {
    let mut text = String::new();
    for mount_root in crate::fs::vfs().mount_roots() {
        let Some(path) = mount_root.path_from(root) else {
            continue;
        };
        let info = mount_root.mount_info();
        mangle(
            &mut text,
            if info.source.is_empty() {
                b"none"
            } else {
                &info.source
            },
        );
        text.push(' ');
        mangle(&mut text, &path);
        text.push(' ');
        mangle(&mut text, &info.fs_type);
        text.push(' ');
        options(&mut text, info.flags, &info.fs_type);
        text.push_str(" 0 0\n");
    }
    text
}
