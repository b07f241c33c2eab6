//! The benchmark program and its initramfs.
//!
//! `userland/bench/{bench.c,cases.c}` become one static executable (`cc -static -O2`, the
//! flags of the userland tests, glibc as Debian ships it) and `exec_target.c` the tiny
//! program fork_exec runs (`-nostdlib`: no libc start-up in the figure). The archive holds
//! them as `/init` and `/bench-exec-target`, plus `/bench-args`: the program's arguments
//! (`quick`, `only=a,b`, `peer=10.0.2.2:PORT`), read from a file because Tessera starts init
//! without arguments. The same archive boots Tessera and Linux, except that Linux's archive
//! for the network boot also has `/bench-modules/`: the virtio-net modules and their load
//! order (`order`), which the program loads.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cpio::Archive;
use crate::initrd;

/// The two executables.
pub struct Programs {
    pub bench: PathBuf,
    pub exec_target: PathBuf,
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

/// Builds both programs into `target/userland/bench/`.
pub fn build() -> Result<Programs, String> {
    let out = crate::kernel::target_dir().join("userland/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let programs = Programs {
        bench: out.join("bench"),
        exec_target: out.join("bench-exec-target"),
    };
    compile(
        &["bench.c", "cases.c", "net.c"],
        &["-static", "-O2", "-Wall", "-Werror"],
        &programs.bench,
    )?;
    compile(
        &["exec_target.c"],
        &["-static", "-nostdlib", "-O2", "-Wall", "-Werror"],
        &programs.exec_target,
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

/// The archive: the skeleton every initramfs has, the program as `/init`, the exec target,
/// the arguments and the kernel modules to load (file name and contents, in load order).
pub fn archive(
    bench: Vec<u8>,
    exec_target: Vec<u8>,
    args: &str,
    modules: Vec<(String, Vec<u8>)>,
) -> Archive {
    let mut archive = Archive::new();
    initrd::skeleton(&mut archive);
    archive
        .file("init", 0o755, bench)
        .file("bench-exec-target", 0o755, exec_target)
        .file("bench-args", 0o644, args.as_bytes().to_vec());
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
    archive
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the archive for these arguments and modules (files, in load order) as this
/// process's `target/initrd/<name>-<pid>.cpio`, deleted when the result is dropped.
pub fn initrd(
    name: &str,
    programs: &Programs,
    args: &str,
    modules: &[PathBuf],
) -> Result<initrd::Private, String> {
    let mut packed = Vec::new();
    for path in modules {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: not a module file name", path.display()))?;
        packed.push((name.to_string(), read(path)?));
    }
    initrd::Private::write(
        name,
        &archive(
            read(&programs.bench)?,
            read(&programs.exec_target)?,
            args,
            packed,
        ),
    )
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

    #[test]
    fn archive_has_init_target_args_and_console() {
        let archive = archive(b"BENCH".to_vec(), b"EXIT".to_vec(), "quick\n", vec![]);
        let entries = parse(&archive.to_bytes());
        let get = |n: &str| entries.iter().find(|e| e.name == n).unwrap();
        assert_eq!(get("init").data, b"BENCH");
        assert_eq!(get("init").mode, 0o100755);
        assert_eq!(get("bench-exec-target").data, b"EXIT");
        assert_eq!(get("bench-args").data, b"quick\n");
        assert_eq!(get("dev/console").rdev, (5, 1));
        assert!(!entries.iter().any(|e| e.name.starts_with("bench-modules")));
    }

    #[test]
    fn modules_go_with_their_load_order() {
        let modules = vec![
            ("virtio_ring.ko".to_string(), b"RING".to_vec()),
            ("virtio.ko".to_string(), b"VIRTIO".to_vec()),
        ];
        let entries = parse(&archive(vec![], vec![], "\n", modules).to_bytes());
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
        assert!(header.contains("#define EXEC_TARGET \"/bench-exec-target\""));
        let main = std::fs::read_to_string(source_dir().join("bench.c")).unwrap();
        assert!(main.contains("open(\"/bench-args\""));
        let net = std::fs::read_to_string(source_dir().join("net.c")).unwrap();
        assert!(net.contains("#define MODULE_DIR \"/bench-modules\""));
        assert!(net.contains("MODULE_DIR \"/order\""));
    }
}
