//! The benchmark program and its initramfs.
//!
//! `userland/bench/{bench.c,cases.c,workloads.c,net.c}` become one static executable (`cc
//! -static -O2`, the flags of the userland tests, glibc as Debian ships it), `exec_target.c`
//! the tiny program fork_exec runs and `big_target.c` the one with a 2 MiB text that
//! fork_exec_2mb and sh_big_exec run (both `-nostdlib`: no libc start-up in the figure),
//! and `dynamic_target.c` the dynamically linked glibc program fork_exec_dynamic runs.
//! The archive holds them as `/init`, `/bench-exec-target` and `/bench-big-target`, plus
//! `/bench-args`: the program's arguments (`quick`, `only=a,b`, `peer=10.0.2.2:PORT`), read
//! from a file because Tessera starts init without arguments. When a workload is selected,
//! it also holds Debian's BusyBox with its applet links (`/bin/sh`, `/usr/bin/awk`, ...),
//! as the interactive system's archive does; when fork_exec_dynamic is selected,
//! `/bench-dynamic-target` and the interpreter and libraries it loads (ld.so, libc.so.6, at
//! their paths). The Debian benchmarks' boot has an archive of its own: Debian's root file
//! system (`target/rootfs/debian`) with the same files added ([`debian_archive`]). The
//! same archive boots Tessera and Linux,
//! except that Linux's archive for the network boot also has `/bench-modules/`: the
//! virtio-net modules and their load order (`order`), which the program loads.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::catalog;
use crate::busybox;
use crate::cpio::Archive;
use crate::initrd;

/// The four executables.
pub struct Programs {
    pub bench: PathBuf,
    pub exec_target: PathBuf,
    pub big_target: PathBuf,
    pub dynamic_target: PathBuf,
}

/// The dynamically linked program and what it loads: (path in the guest, bytes).
pub struct Dynamic {
    pub target: Vec<u8>,
    pub libraries: Vec<(String, Vec<u8>)>,
}

/// What an archive holds besides the programs every boot has, by what is selected.
#[derive(Default)]
pub struct Extras {
    /// BusyBox, for the workloads.
    pub busybox: Option<Busybox>,
    /// The dynamic program and its libraries, for fork_exec_dynamic.
    pub dynamic: Option<Dynamic>,
}

/// BusyBox when `selected` has a workload, the dynamic program when it has
/// fork_exec_dynamic: an archive without them is what it was before they existed.
pub fn extras_for(programs: &Programs, selected: &[&str]) -> Result<Extras, String> {
    let dynamic = if selected.contains(&"fork_exec_dynamic") {
        let target = crate::userland::Program {
            name: "bench-dynamic-target".into(),
            path: programs.dynamic_target.clone(),
            libc: crate::userland::Libc::GlibcDynamic,
        };
        let mut libraries = Vec::new();
        for (guest, host) in crate::userland::libraries(&[target])? {
            libraries.push((guest, read(&host)?));
        }
        Some(Dynamic {
            target: read(&programs.dynamic_target)?,
            libraries,
        })
    } else {
        None
    };
    Ok(Extras {
        busybox: busybox_for(selected)?,
        dynamic,
    })
}

/// BusyBox for the workloads: the executable and its applets (archive paths).
pub struct Busybox {
    pub binary: Vec<u8>,
    pub applets: Vec<String>,
}

/// BusyBox (fetched on first use) when `selected` has a workload; `None` otherwise, so an
/// archive without workloads is what it was before they existed.
fn busybox_for(selected: &[&str]) -> Result<Option<Busybox>, String> {
    if !selected.iter().any(|name| catalog::is_workload(name)) {
        return Ok(None);
    }
    let path = busybox::binary()?;
    Ok(Some(Busybox {
        binary: read(&path)?,
        applets: busybox::applets(&path)?,
    }))
}

/// Where the sources are.
pub fn source_dir() -> PathBuf {
    crate::root().join("userland/bench")
}

/// Compiles `sources` into `output` with `flags` (through a temporary file, so a failed
/// build never leaves a binary behind).
fn compile(sources: &[&str], flags: &[&str], output: &Path) -> Result<(), String> {
    let temporary = output.with_extension("tmp");
    let dir = source_dir();
    let result = Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(&temporary)
        .args(sources.iter().map(|s| dir.join(s)))
        .stdout(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "cannot run cc ({e}): the benchmark needs a C compiler with static glibc \
                 (Debian/Ubuntu: apt-get install gcc libc6-dev)"
            )
        })?;
    if !result.status.success() {
        return Err(format!(
            "compiling {} failed:\n{}",
            sources.join(" "),
            String::from_utf8_lossy(&result.stderr)
        ));
    }
    std::fs::rename(&temporary, output).map_err(|e| format!("{}: {e}", output.display()))
}

/// Builds the programs into `target/userland/bench/`.
pub fn build() -> Result<Programs, String> {
    let out = crate::kernel::target_dir().join("userland/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let programs = Programs {
        bench: out.join("bench"),
        exec_target: out.join("bench-exec-target"),
        big_target: out.join("bench-big-target"),
        dynamic_target: out.join("bench-dynamic-target"),
    };
    compile(
        &["bench.c", "cases.c", "workloads.c", "debian.c", "net.c"],
        &["-static", "-O2", "-Wall", "-Werror"],
        &programs.bench,
    )?;
    let no_libc = ["-static", "-nostdlib", "-O2", "-Wall", "-Werror"];
    compile(&["exec_target.c"], &no_libc, &programs.exec_target)?;
    compile(&["big_target.c"], &no_libc, &programs.big_target)?;
    compile(
        &["dynamic_target.c"],
        &["-pie", "-fPIE", "-O2", "-s", "-Wall", "-Werror"],
        &programs.dynamic_target,
    )?;
    Ok(programs)
}

/// The text of `/bench-args`: `quick`, `only=...` (always: a boot runs either the
/// system-call or the network benchmarks) and, for the network boot, `peer=ADDRESS:PORT`.
pub fn args_text(quick: bool, selected: &[&str], peer: Option<&str>) -> String {
    let mut words = Vec::new();
    if quick {
        words.push("quick".to_string());
    }
    words.push(format!("only={}", selected.join(",")));
    if let Some(peer) = peer {
        words.push(format!("peer={peer}"));
    }
    words.join(" ") + "\n"
}

/// What an archive holds: the programs' bytes, the arguments, the kernel modules to load
/// (file name and contents, in load order), BusyBox (for workloads) and the dynamic program.
pub struct Contents {
    pub bench: Vec<u8>,
    pub exec_target: Vec<u8>,
    pub big_target: Vec<u8>,
    pub args: String,
    pub modules: Vec<(String, Vec<u8>)>,
    pub extras: Extras,
}

/// The archive: the skeleton every initramfs has, the program as `/init`, the exec
/// targets, the arguments, the modules and BusyBox.
pub fn archive(contents: Contents) -> Archive {
    let mut archive = Archive::new();
    fill(&mut archive, contents);
    archive
}

/// The archive of the Debian boot: the Debian tree, then what [`archive`] holds (the
/// program as `/init`; Tessera and Linux start it as they start rootfs-init).
pub fn debian_archive(tree: &Path, contents: Contents) -> Result<Archive, String> {
    let mut archive = Archive::new();
    crate::rootfs_boot::add_tree(&mut archive, tree, "")?;
    fill(&mut archive, contents);
    Ok(archive)
}

/// Adds to `archive` what [`archive`] holds.
fn fill(archive: &mut Archive, contents: Contents) {
    let Contents {
        bench,
        exec_target,
        big_target,
        args,
        modules,
        extras: Extras { busybox, dynamic },
    } = contents;
    initrd::skeleton(archive);
    archive
        .file("init", 0o755, bench)
        .file("bench-exec-target", 0o755, exec_target)
        .file("bench-big-target", 0o755, big_target)
        .file("bench-args", 0o644, args.into_bytes());
    if let Some(busybox) = busybox {
        initrd::add_busybox(archive, &busybox.binary, &busybox.applets);
    }
    if let Some(dynamic) = dynamic {
        archive.file("bench-dynamic-target", 0o755, dynamic.target);
        for (path, bytes) in dynamic.libraries {
            archive.file(&path, 0o755, bytes);
        }
    }
    if !modules.is_empty() {
        let order: String = modules
            .iter()
            .map(|(name, _)| format!("{name}\n"))
            .collect();
        archive.dir("bench-modules", 0o755);
        for (name, bytes) in modules {
            archive.file(&format!("bench-modules/{name}"), 0o644, bytes);
        }
        archive.file("bench-modules/order", 0o644, order.into_bytes());
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the archive for these arguments, modules (files, in load order) and extras as
/// this process's `target/initrd/<name>-<pid>.cpio`, deleted when the result is dropped.
pub fn initrd(
    name: &str,
    programs: &Programs,
    args: &str,
    modules: &[PathBuf],
    extras: Extras,
) -> Result<initrd::Private, String> {
    let mut packed = Vec::new();
    for path in modules {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: not a module file name", path.display()))?;
        packed.push((name.to_string(), read(path)?));
    }
    initrd::Private::write(name, &archive(contents(programs, args, packed, extras)?))
}

/// What an archive holds for these programs, arguments, modules and extras.
fn contents(
    programs: &Programs,
    args: &str,
    modules: Vec<(String, Vec<u8>)>,
    extras: Extras,
) -> Result<Contents, String> {
    Ok(Contents {
        bench: read(&programs.bench)?,
        exec_target: read(&programs.exec_target)?,
        big_target: read(&programs.big_target)?,
        args: args.to_string(),
        modules,
        extras,
    })
}

/// Writes the Debian boot's archive (the tree at `tree`, the programs, these arguments)
/// as this process's `target/initrd/<name>-<pid>.cpio`, deleted when the result is dropped.
pub fn debian_initrd(
    name: &str,
    programs: &Programs,
    args: &str,
    tree: &Path,
) -> Result<initrd::Private, String> {
    let contents = contents(programs, args, Vec::new(), Extras::default())?;
    initrd::Private::write(name, &debian_archive(tree, contents)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpio::tests::parse;

    #[test]
    fn arguments_file() {
        assert_eq!(
            args_text(false, &["getpid", "pipe"], None),
            "only=getpid,pipe\n"
        );
        assert_eq!(
            args_text(true, &["tcp_tx"], Some("10.0.2.2:4000")),
            "quick only=tcp_tx peer=10.0.2.2:4000\n"
        );
    }

    fn contents(modules: Vec<(String, Vec<u8>)>, busybox: Option<Busybox>) -> Contents {
        Contents {
            bench: b"BENCH".to_vec(),
            exec_target: b"EXIT".to_vec(),
            big_target: b"BIG".to_vec(),
            args: "quick\n".into(),
            modules,
            extras: Extras {
                busybox,
                dynamic: None,
            },
        }
    }

    #[test]
    fn archive_has_init_targets_args_and_console() {
        let archive = archive(contents(vec![], None));
        let entries = parse(&archive.to_bytes());
        let get = |n: &str| entries.iter().find(|e| e.name == n).unwrap();
        assert_eq!(get("init").data, b"BENCH");
        assert_eq!(get("init").mode, 0o100755);
        assert_eq!(get("bench-exec-target").data, b"EXIT");
        assert_eq!(get("bench-big-target").data, b"BIG");
        assert_eq!(get("bench-args").data, b"quick\n");
        assert_eq!(get("dev/console").rdev, (5, 1));
        assert!(!entries.iter().any(|e| e.name.starts_with("bench-modules")));
        assert!(!entries.iter().any(|e| e.name.starts_with("bin")));
    }

    #[test]
    fn workloads_get_busybox_and_its_applets() {
        let busybox = Busybox {
            binary: b"BUSYBOX".to_vec(),
            applets: vec!["bin/sh".into(), "usr/bin/awk".into()],
        };
        let entries = parse(&archive(contents(vec![], Some(busybox))).to_bytes());
        let get = |n: &str| entries.iter().find(|e| e.name == n).unwrap();
        assert_eq!(get("bin/busybox").data, b"BUSYBOX");
        assert_eq!(get("usr/bin/awk").data, b"/bin/busybox");
        assert_eq!(get("bin/sh").mode & 0o170000, 0o120000);
        assert!(busybox_for(&["getpid", "tcp_tx"]).unwrap().is_none());
    }

    #[test]
    fn the_debian_archive_is_the_tree_plus_the_program() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("usr/bin")).unwrap();
        std::fs::write(dir.join("usr/bin/python3"), "PY").unwrap();
        std::os::unix::fs::symlink("usr/bin", dir.join("bin")).unwrap();
        let entries = parse(
            &debian_archive(&dir, contents(vec![], None))
                .unwrap()
                .to_bytes(),
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let get = |n: &str| entries.iter().find(|e| e.name == n).unwrap();
        assert_eq!(get("usr/bin/python3").data, b"PY");
        assert_eq!(get("bin").data, b"usr/bin");
        assert_eq!(get("init").data, b"BENCH");
        assert_eq!(get("bench-args").data, b"quick\n");
        assert_eq!(get("dev/console").rdev, (5, 1));
        // The other boots' archive is exactly what it was: no tree in it.
        let plain = parse(&archive(contents(vec![], None)).to_bytes());
        assert!(!plain.iter().any(|e| e.name.starts_with("usr")));
    }

    #[test]
    fn modules_go_with_their_load_order() {
        let modules = vec![
            ("virtio_ring.ko".to_string(), b"RING".to_vec()),
            ("virtio.ko".to_string(), b"VIRTIO".to_vec()),
        ];
        let entries = parse(&archive(contents(modules, None)).to_bytes());
        let get = |n: &str| entries.iter().find(|e| e.name == n).unwrap();
        assert_eq!(get("bench-modules/virtio.ko").data, b"VIRTIO");
        assert_eq!(
            get("bench-modules/order").data,
            b"virtio_ring.ko\nvirtio.ko\n"
        );
    }

    /// The paths the C program uses are the ones packed here.
    #[test]
    fn c_paths_match_the_archive() {
        let header = std::fs::read_to_string(source_dir().join("bench.h")).unwrap();
        let debian = std::fs::read_to_string(source_dir().join("debian.c")).unwrap();
        assert!(debian.contains("#define PYTHON \"/usr/bin/python3\""));
        assert!(debian.contains("#define BASH \"/bin/bash\""));
        assert!(header.contains("#define EXEC_TARGET \"/bench-exec-target\""));
        assert!(header.contains("#define BIG_TARGET \"/bench-big-target\""));
        assert!(header.contains("#define DYNAMIC_TARGET \"/bench-dynamic-target\""));
        let main = std::fs::read_to_string(source_dir().join("bench.c")).unwrap();
        assert!(main.contains("open(\"/bench-args\""));
        let net = std::fs::read_to_string(source_dir().join("net.c")).unwrap();
        assert!(net.contains("#define MODULE_DIR \"/bench-modules\""));
        assert!(net.contains("MODULE_DIR \"/order\""));
    }
}
