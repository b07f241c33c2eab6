//! The initramfs archives QEMU hands the kernel with `-initrd`, written to
//! `target/initrd/<name>.cpio`.
//!
//! | archive | `/init` | what else |
//! |---|---|---|
//! | `busybox.cpio` ([`busybox`]) | a `#!/bin/sh` script that mounts proc, devtmpfs and tmpfs and runs `/bin/sh` | `/bin/busybox` and its applet links, `/etc/passwd`, `/etc/group`, the test programs in `/tests` |
//! | `conform-N.cpio` ([`conform`]) | the test runner | one boot's batch of the test programs in `/tests` |
//! | `single-init.cpio` ([`single_init`]) | one given static binary | nothing |
//!
//! Archives that belong to one command or boot (the benchmarks') are [`Private`]: the
//! process id in the name, deleted after use.
//!
//! Every archive has the same skeleton ([`skeleton`]): `/dev/console` (Linux opens it for
//! init's stdin, stdout and stderr before running `/init`; without it init has no output),
//! and empty `/proc`, `/sys`, `/dev`, `/tmp` and `/root` to mount on or live in.

use std::path::{Path, PathBuf};

use crate::busybox;
use crate::cpio::Archive;
use crate::userland::{self, Program, Programs};

/// Where the archives go.
pub fn dir() -> PathBuf {
    crate::kernel::target_dir().join("initrd")
}

/// The search path the interactive shell starts with.
pub const PATH: &str = "/bin:/sbin:/usr/bin:/usr/sbin";

/// The interactive system's `/init`.
pub fn init_script() -> String {
    format!(
        "#!/bin/sh\n\
         # /init of Tessera's BusyBox initramfs (written by cargo xtask, xtask/src/initrd.rs).\n\
         export PATH={PATH} HOME=/\n\
         mount -t proc proc /proc\n\
         mount -t devtmpfs devtmpfs /dev\n\
         mount -t tmpfs tmpfs /tmp\n\
         cd /\n\
         echo 'Welcome to BusyBox on Tessera: /tests/runner runs the test programs, poweroff -f leaves.'\n\
         exec /bin/sh\n"
    )
}

/// What every archive has: the console device and the mount points.
pub fn skeleton(archive: &mut Archive) {
    archive
        .char_device("dev/console", 0o600, 5, 1)
        .dir("proc", 0o555)
        .dir("sys", 0o555)
        .dir("tmp", 0o1777)
        .dir("root", 0o700);
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `archive` as `target/initrd/<name>.cpio` and returns the path. Through a
/// temporary name, renamed into place: a QEMU that opens the archive meanwhile reads the
/// old one or the new one, never half of one.
pub fn write(name: &str, archive: &Archive) -> Result<PathBuf, String> {
    let dir = dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.cpio"));
    let partial = dir.join(format!(".{name}.cpio.{}.partial", std::process::id()));
    std::fs::write(&partial, archive.to_bytes())
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            format!("{}: {e}", path.display())
        })?;
    Ok(path)
}

/// An archive of this process alone, `target/initrd/<name>-<pid>.cpio`, deleted when
/// dropped: for archives whose contents belong to one command or one boot (the benchmark
/// program's arguments, the host peer's port), so that two commands in one checkout never
/// boot each other's. Dereferences to its path.
pub struct Private(PathBuf);

impl Private {
    pub fn write(name: &str, archive: &Archive) -> Result<Private, String> {
        write(&format!("{name}-{}", std::process::id()), archive).map(Private)
    }
}

impl std::ops::Deref for Private {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Adds the test programs under `/tests`: all of them, or (`interactive`) only the glibc
/// builds and the runner as `/tests/runner` (it skips itself when listing the directory).
/// The interactive system leaves the other builds to the conform archives: it holds its archive
/// twice in memory (the archive and its tmpfs copy), and the `minimal` config has little to
/// spare.
fn add_tests(archive: &mut Archive, programs: &Programs, interactive: bool) -> Result<(), String> {
    let packed: Vec<Program> = programs
        .tests
        .iter()
        .filter(|p| !interactive || p.libc == userland::Libc::Glibc)
        .cloned()
        .collect();
    add_programs(archive, &packed, &programs.libraries)?;
    if interactive {
        archive.file(
            &format!("tests/{}", userland::RUNNER),
            0o755,
            read(&programs.runner.path)?,
        );
    }
    Ok(())
}

/// Adds `programs` under `/tests`, and if one of them is a dynamic build, the interpreter
/// and libraries those load (`libraries`, at their paths).
fn add_programs(
    archive: &mut Archive,
    programs: &[Program],
    libraries: &[(String, PathBuf)],
) -> Result<(), String> {
    for program in programs {
        archive.file(
            &format!("tests/{}", program.name),
            0o755,
            read(&program.path)?,
        );
    }
    if programs.iter().any(|p| !p.libc.is_static()) {
        for (guest, host) in libraries {
            archive.file(guest, 0o755, read(host)?);
        }
    }
    Ok(())
}

/// The interactive BusyBox system, in an archive.
pub fn busybox_archive(
    busybox: &[u8],
    applets: &[String],
    programs: &Programs,
) -> Result<Archive, String> {
    let mut archive = Archive::new();
    skeleton(&mut archive);
    add_busybox(&mut archive, busybox, applets);
    archive
        .file("init", 0o755, init_script().into_bytes())
        .file(
            "etc/passwd",
            0o644,
            b"root:x:0:0:root:/root:/bin/sh\n".to_vec(),
        )
        .file("etc/group", 0o644, b"root:x:0:\n".to_vec());
    add_tests(&mut archive, programs, true)?;
    Ok(archive)
}

/// Adds `/bin/busybox` and a symbolic link to it for each applet (`bin/ls`, `usr/bin/awk`).
pub fn add_busybox(archive: &mut Archive, busybox: &[u8], applets: &[String]) {
    archive
        .file("bin/busybox", 0o755, busybox.to_vec())
        .dir("usr/bin", 0o755)
        .dir("usr/sbin", 0o755)
        .dir("sbin", 0o755);
    for applet in applets {
        archive.symlink(applet, "/bin/busybox");
    }
}

/// `target/initrd/busybox.cpio`: the default initramfs of `cargo xtask run`. Fetches
/// BusyBox and builds the test programs when needed.
pub fn busybox() -> Result<PathBuf, String> {
    let binary = busybox::binary()?;
    let applets = busybox::applets(&binary)?;
    let programs = userland::build()?;
    write(
        "busybox",
        &busybox_archive(&read(&binary)?, &applets, &programs)?,
    )
}

/// `target/initrd/NAME.cpio`: the runner as `/init` and `batch` (one boot's share of the
/// test programs, `conform`'s batches) in `/tests`, with the interpreters and libraries if
/// a dynamic build is among them.
pub fn conform(programs: &Programs, batch: &[Program], name: &str) -> Result<PathBuf, String> {
    write(name, &runner_archive(programs, batch)?)
}

/// The runner as `/init` and `batch` in `/tests` (with the libraries the dynamic builds load).
fn runner_archive(programs: &Programs, batch: &[Program]) -> Result<Archive, String> {
    let mut archive = Archive::new();
    skeleton(&mut archive);
    archive.file("init", 0o755, read(&programs.runner.path)?);
    add_programs(&mut archive, batch, &programs.libraries)?;
    Ok(archive)
}

/// `conform --only`: the runner as `/init` and only `selected` in `/tests`, as this
/// process's own archive (`target/initrd/conform-only-<pid>.cpio`, deleted when dropped).
pub fn conform_subset(programs: &Programs, selected: &[Program]) -> Result<Private, String> {
    Private::write("conform-only", &runner_archive(programs, selected)?)
}

/// [`conform_subset`] with `/conform-leak`, which tells the runner to leave a zombie before
/// its last usage reading: the archive of the leak check's can-fail test.
pub fn conform_leaking(programs: &Programs, selected: &[Program]) -> Result<Private, String> {
    let mut archive = runner_archive(programs, selected)?;
    archive.file("conform-leak", 0o644, Vec::new());
    Private::write("conform-leak", &archive)
}

/// `target/initrd/single-init.cpio`: one static binary as `/init`.
/// The user space a config boots by default (`kernel.userland`): none, the `hello` program as
/// `/init`, or the interactive BusyBox system.
pub fn for_config(config: &tessera_config::Config) -> Result<Option<PathBuf>, String> {
    match config.userland.as_str() {
        "none" => Ok(None),
        "hello" => {
            let mut archive = Archive::new();
            skeleton(&mut archive);
            archive.file("init", 0o755, read(&userland::hello()?)?);
            write("hello", &archive).map(Some)
        }
        _ => busybox().map(Some),
    }
}

pub fn single_init(binary: &Path) -> Result<PathBuf, String> {
    let mut archive = Archive::new();
    skeleton(&mut archive);
    archive.file("init", 0o755, read(binary)?);
    write("single-init", &archive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpio::tests::parse;

    fn fake_programs(dir: &Path) -> Programs {
        std::fs::create_dir_all(dir).unwrap();
        let program = |name: &str| {
            let path = dir.join(name);
            std::fs::write(&path, format!("ELF {name}")).unwrap();
            Program {
                name: name.into(),
                path,
                libc: match name.ends_with("-musl") {
                    true => userland::Libc::Musl,
                    false => userland::Libc::Glibc,
                },
            }
        };
        Programs {
            runner: program("runner"),
            tests: vec![program("files"), program("files-musl"), program("pipes")],
            libraries: Vec::new(),
        }
    }

    #[test]
    fn busybox_archive_has_init_applets_tests_and_console() {
        let dir = std::env::temp_dir().join(format!("xtask-initrd-{}", std::process::id()));
        let programs = fake_programs(&dir);
        let applets = [
            "bin/sh".to_string(),
            "usr/bin/awk".into(),
            "sbin/poweroff".into(),
        ];
        let archive = busybox_archive(b"BUSYBOX", &applets, &programs).unwrap();
        let entries = parse(&archive.to_bytes());
        let get = |n: &str| {
            entries
                .iter()
                .find(|e| e.name == n)
                .unwrap_or_else(|| panic!("no {n}"))
        };
        assert_eq!(get("bin/busybox").data, b"BUSYBOX");
        assert_eq!(get("usr/bin/awk").data, b"/bin/busybox");
        assert_eq!(
            get("bin/sh").mode & 0o170000,
            0o120000,
            "applets are symlinks"
        );
        let init = String::from_utf8(get("init").data.clone()).unwrap();
        assert!(init.starts_with("#!/bin/sh\n"));
        for line in [
            "mount -t proc proc /proc",
            "mount -t devtmpfs devtmpfs /dev",
            "mount -t tmpfs tmpfs /tmp",
            "exec /bin/sh",
            "PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/",
        ] {
            assert!(init.contains(line), "init lacks {line:?}");
        }
        assert_eq!(get("init").mode, 0o100755);
        assert!(String::from_utf8_lossy(&get("etc/passwd").data).starts_with("root:x:0:0:"));
        assert_eq!(get("dev/console").rdev, (5, 1));
        assert_eq!(get("tmp").mode, 0o041777);
        assert_eq!(get("tests/files").data, b"ELF files");
        assert_eq!(get("tests/runner").data, b"ELF runner");
        assert!(
            !entries.iter().any(|e| e.name == "tests/files-musl"),
            "the musl builds are conform's"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn conform_archives_have_the_runner_as_init_and_every_build_or_the_subset() {
        let dir = std::env::temp_dir().join(format!("xtask-conform-{}", std::process::id()));
        let programs = fake_programs(&dir);
        let mut archive = Archive::new();
        skeleton(&mut archive);
        add_tests(&mut archive, &programs, false).unwrap();
        let entries = parse(&archive.to_bytes());
        for name in ["tests/files", "tests/files-musl", "tests/pipes"] {
            assert!(entries.iter().any(|e| e.name == name), "{name}");
        }
        assert!(!entries.iter().any(|e| e.name == "tests/runner"));
        let subset = conform_subset(&programs, &programs.tests[1..2]).unwrap();
        let entries = parse(&std::fs::read(&*subset).unwrap());
        let tests: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.name.strip_prefix("tests/"))
            .collect();
        assert_eq!(tests, ["files-musl"]);
        let init = entries.iter().find(|e| e.name == "init").unwrap();
        assert_eq!(init.data, b"ELF runner");
        drop(subset);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_private_archive_is_this_process_s_and_goes_with_it() {
        let mut archive = Archive::new();
        skeleton(&mut archive);
        let private = Private::write("test-private", &archive).unwrap();
        let name = private.file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(name, format!("test-private-{}.cpio", std::process::id()));
        assert_eq!(std::fs::read(&*private).unwrap(), archive.to_bytes());
        let partial = format!(".{name}.{}.partial", std::process::id());
        assert!(
            !dir().join(partial).exists(),
            "written through a renamed file"
        );
        let path = private.to_path_buf();
        drop(private);
        assert!(!path.exists());
    }

    #[test]
    fn skeleton_has_the_console_and_mount_points() {
        let mut archive = Archive::new();
        skeleton(&mut archive);
        for path in ["dev/console", "proc", "sys", "tmp", "root", "dev"] {
            assert!(archive.contains(path), "{path}");
        }
    }
}
