//! Building a kernel from a config: features and profile from the TOML, one output directory
//! per config (`target/kernels/NAME/kernel.elf`) so that A and B of a comparison never
//! overwrite each other, and the symbol table written into the image.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use tessera_config::Config;

use crate::args::Args;
use crate::exit::Code;
use crate::setup::{self, KERNEL_TARGET};

/// A built kernel image and the config it came from.
pub struct Kernel {
    pub config: Config,
    pub elf: PathBuf,
}

/// Loads a config by name (under `configs/`) or path, with the config crate's error messages.
pub fn load_config(name_or_path: &str) -> Result<Config, String> {
    // A relative configs dir keeps error messages short: `configs/x.toml: ...`.
    let root = crate::root();
    let configs = if std::env::current_dir().is_ok_and(|d| d == root) {
        PathBuf::from("configs")
    } else {
        root.join("configs")
    };
    tessera_config::load(name_or_path, &configs).map_err(|e| e.to_string())
}

/// `cargo xtask build [--config NAME]`.
pub fn build_command(args: &mut Args) -> Result<Code, String> {
    let config = args.value("config")?.unwrap_or_else(|| "fast".into());
    args.finish()?;
    let kernel = build(&load_config(&config)?)?;
    println!("{}", kernel.elf.display());
    Ok(Code::Ok)
}

/// Cargo options that build tessera-memops without debug assertions and overflow checks
/// under LTO. The crate is `#![no_builtins]`, which keeps it out of LTO, and the panic
/// functions of core its checks would call are not kept for it: the link fails. Without
/// LTO it follows the config like every crate.
fn memops_checks(config: &Config) -> Vec<String> {
    if !config.lto || !config.debug_assertions {
        return Vec::new();
    }
    ["debug-assertions", "overflow-checks"]
        .iter()
        .flat_map(|key| {
            [
                "--config".to_string(),
                format!("profile.kernel.package.tessera-memops.{key}=false"),
            ]
        })
        .collect()
}

/// `cargo SUBCOMMAND` (`build`, `clippy`) on the kernel crate as `config` builds it: the
/// kernel target and profile, the config's features and profile settings, and the
/// environment the build script checks them against.
fn kernel_cargo(config: &Config, subcommand: &str) -> Command {
    let features = config.cargo_features().join(",");
    let debug = config.debug_assertions.to_string();
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(crate::root())
        .args([
            subcommand,
            "--quiet",
            "--package",
            "tessera-kernel",
            "--bin",
            "tessera",
        ])
        .args([
            "--target",
            KERNEL_TARGET,
            "--profile",
            "kernel",
            "--no-default-features",
        ])
        .args(["--features", &features])
        .args([
            "--config",
            &format!("profile.kernel.opt-level={}", config.opt_level),
        ])
        .args([
            "--config",
            &format!("profile.kernel.lto={:?}", config.cargo_lto()),
        ])
        .args([
            "--config",
            &format!("profile.kernel.debug-assertions={debug}"),
        ])
        .args([
            "--config",
            &format!("profile.kernel.overflow-checks={debug}"),
        ])
        .args(memops_checks(config))
        .env(
            "TESSERA_CONFIG",
            config
                .path
                .canonicalize()
                .unwrap_or_else(|_| config.path.clone()),
        )
        .env(tessera_config::LTO_ENV, config.cargo_lto())
        .env_remove("RUSTFLAGS");
    cargo
}

/// Builds the kernel for `config` and returns where its image is.
pub fn build(config: &Config) -> Result<Kernel, String> {
    build_reporting(config).map(|(kernel, _)| kernel)
}

/// One crate compiled by a build: cargo's `compiler-artifact` message.
#[derive(Clone, Debug, Deserialize)]
pub struct Artifact {
    /// `path+file:///.../components/vfs#tessera-vfs@0.1.0`, `registry+...#smoltcp@0.12.0`.
    pub package_id: String,
    /// What the build wrote: `deps/libNAME-HASH.rlib` and `.rmeta` for a library, the
    /// copied executable for a binary; for a crate compiled for the host (a build script,
    /// a procedural macro) a path outside `target/x86_64-unknown-none/`.
    pub filenames: Vec<PathBuf>,
}

/// A line of cargo's `--message-format=json` output; only artifacts are kept.
#[derive(Deserialize)]
#[serde(tag = "reason")]
enum Message {
    #[serde(rename = "compiler-artifact")]
    Artifact(Artifact),
    #[serde(other)]
    Other,
}

/// [`build`], and the crates the build compiled (fresh ones included): every crate of
/// the kernel and the build scripts and procedural macros compiled for the host.
pub fn build_reporting(config: &Config) -> Result<(Kernel, Vec<Artifact>), String> {
    setup::ensure_kernel_target()?;
    let mut child = kernel_cargo(config, "build")
        // Artifact messages on stdout (for `size`), diagnostics on stderr as usual.
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut artifacts = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cargo's output: {e}"))?;
        match serde_json::from_str(&line) {
            Ok(Message::Artifact(artifact)) => artifacts.push(artifact),
            Ok(Message::Other) => {}
            // Not a message: a build script or cargo itself printed it; pass it on.
            Err(_) => println!("{line}"),
        }
    }
    let status = child.wait().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the kernel for config `{}` failed",
            config.name
        ));
    }
    let built = target_dir().join(KERNEL_TARGET).join("kernel/tessera");
    let out_dir = target_dir().join("kernels").join(&config.name);
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let elf = out_dir.join("kernel.elf");
    let mut image = std::fs::read(&built).map_err(|e| format!("{}: {e}", built.display()))?;
    crate::ksyms::write_table(&mut image)?;
    std::fs::write(&elf, image).map_err(|e| format!("{}: {e}", elf.display()))?;
    let kernel = Kernel {
        config: config.clone(),
        elf,
    };
    Ok((kernel, artifacts))
}

/// `cargo clippy` on the kernel crate (and the workspace crates it compiles) for the kernel
/// target, with `config`'s features and profile: warnings are errors. Returns clippy's report.
pub fn clippy(config: &Config) -> Result<(), String> {
    setup::ensure_kernel_target()?;
    let out = kernel_cargo(config, "clippy")
        .args(["--", "-D", "warnings"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Cargo's target directory (respecting CARGO_TARGET_DIR).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                crate::root().join(dir)
            }
        }
        None => crate::root().join("target"),
    }
}

/// Whether `path` is inside the repository's configs directory (for messages).
pub fn display_path(path: &Path) -> String {
    path.strip_prefix(crate::root())
        .unwrap_or(path)
        .display()
        .to_string()
}
