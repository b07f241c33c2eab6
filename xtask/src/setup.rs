//! What the other commands need on the machine, installed when possible, otherwise a message
//! that says exactly what to install.
//!
//! - the `x86_64-unknown-none` Rust target: `rustup target add` (rust-toolchain.toml lists it,
//!   but a toolchain installed earlier without it does not get it automatically);
//! - `qemu-system-x86_64`: as root on Debian/Ubuntu, `apt-get install qemu-system-x86`;
//!   otherwise an error naming the package for common systems;
//! - the C compilers of the userland test programs, `cc` with static glibc and `musl-gcc`:
//!   as root on Debian/Ubuntu, `apt-get install gcc libc6-dev` and `musl-tools`
//!   (`userland::ensure_compilers`); otherwise an error naming the packages.

use std::process::{Command, Stdio};

pub const KERNEL_TARGET: &str = "x86_64-unknown-none";
pub const QEMU: &str = "qemu-system-x86_64";

fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn output(command: &mut Command) -> Option<String> {
    let out = command.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The first line of `qemu-system-x86_64 --version`, if QEMU runs.
pub fn qemu_version() -> Option<String> {
    output(Command::new(QEMU).arg("--version"))
        .and_then(|text| text.lines().next().map(str::to_string))
}

/// The Rust target for the kernel.
pub fn ensure_kernel_target() -> Result<(), String> {
    let installed =
        output(Command::new("rustc").args(["--print", "target-libdir", "--target", KERNEL_TARGET]))
            .is_some_and(|dir| {
                std::fs::read_dir(dir).is_ok_and(|mut entries| {
                    entries.any(|e| {
                        e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libcore"))
                    })
                })
            });
    if installed {
        return Ok(());
    }
    eprintln!("xtask: installing the Rust target {KERNEL_TARGET} (rustup target add)");
    if succeeds(
        Command::new("rustup")
            .args(["target", "add", KERNEL_TARGET])
            .current_dir(crate::root()),
    ) {
        Ok(())
    } else {
        Err(format!(
            "the Rust target {KERNEL_TARGET} is missing and `rustup target add {KERNEL_TARGET}` failed; \
             run it by hand (rustup is needed: https://rustup.rs)"
        ))
    }
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).as_deref() == Some("0")
}

/// QEMU, installed through apt-get when running as root on a Debian-like system.
pub fn ensure_qemu() -> Result<(), String> {
    if succeeds(Command::new(QEMU).arg("--version")) {
        return Ok(());
    }
    let has_apt = succeeds(Command::new("apt-get").arg("--version"));
    if has_apt && is_root() {
        eprintln!("xtask: {QEMU} not found; installing Debian's qemu-system-x86 (apt-get)");
        let update = Command::new("apt-get").args(["update", "-q"]).status();
        let install = Command::new("apt-get")
            .args(["install", "-y", "-q", "qemu-system-x86"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        if update.is_ok_and(|s| s.success())
            && install.is_ok_and(|s| s.success())
            && succeeds(Command::new(QEMU).arg("--version"))
        {
            return Ok(());
        }
        return Err(format!(
            "installing qemu-system-x86 with apt-get failed; {QEMU} is needed to boot kernels"
        ));
    }
    Err(format!(
        "{QEMU} not found. Install QEMU for x86_64 and run again:\n  \
         Debian/Ubuntu: sudo apt-get install qemu-system-x86\n  \
         Fedora:        sudo dnf install qemu-system-x86\n  \
         Arch:          sudo pacman -S qemu-system-x86\n  \
         macOS:         brew install qemu"
    ))
}

pub fn ensure_all() -> Result<(), String> {
    ensure_kernel_target()?;
    ensure_qemu()?;
    crate::userland::ensure_compilers()
}
