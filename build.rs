//! Build script of the kernel crates (`kernels/*/Cargo.toml` say `build = "../../build.rs"`).
//!
//! It reads the config named by `TESSERA_CONFIG` (a name under `configs/` or a path; `cargo
//! xtask build` sets it, default `fast`), and
//! - fails the build with the config's own error (file, key, allowed values) if it is invalid;
//! - checks that the crate was compiled with exactly the Cargo features and profile the
//!   config asks for (xtask derives them from it; a hand-written `cargo build` that disagrees
//!   is refused instead of producing a kernel whose banner lies);
//! - writes the config's constants to `$OUT_DIR/config.rs` (included by the kernel);
//! - with `vdso = "on"`, builds the vDSO (`kernels/tessera/vdso/`) with the host's C
//!   compiler into `$OUT_DIR/vdso.so` (included by the kernel), and refuses one that needs
//!   relocating;
//! - links with the platform's linker script.

use std::path::{Path, PathBuf};
use std::{env, fs, process};

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    process::exit(1);
}

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..");
    println!("cargo:rerun-if-env-changed=TESSERA_CONFIG");
    let name = env::var("TESSERA_CONFIG").unwrap_or_else(|_| "fast".to_string());
    let config =
        tessera_config::load(&name, &root.join("configs")).unwrap_or_else(|e| fail(&e.to_string()));
    println!("cargo:rerun-if-changed={}", config.path.display());

    let wanted = config.cargo_features();
    let mut wrong = Vec::new();
    for feature in tessera_config::all_cargo_features() {
        let var = format!("CARGO_FEATURE_{}", feature.to_uppercase().replace('-', "_"));
        let enabled = env::var_os(var).is_some();
        if enabled != wanted.contains(&feature) {
            // The key the feature belongs to, with the config's value of it.
            let key = tessera_config::feature_key(&feature)
                .and_then(|key| Some(format!(" ({key} = {})", config.value(&key)?)))
                .unwrap_or_default();
            wrong.push(format!("{}{feature}{key}", if enabled { "+" } else { "-" }));
        }
    }
    let opt_level = env::var("OPT_LEVEL").unwrap_or_default();
    if opt_level != config.opt_level.to_string() {
        wrong.push(format!(
            "opt-level {opt_level} (config: {})",
            config.opt_level
        ));
    }
    // Cargo does not tell build scripts the profile's `lto`; xtask passes what it set.
    println!("cargo:rerun-if-env-changed={}", tessera_config::LTO_ENV);
    let lto = env::var(tessera_config::LTO_ENV).unwrap_or_default();
    let wanted_lto = config.cargo_lto();
    if lto != wanted_lto {
        wrong.push(format!(
            "lto {:?} (config: {wanted_lto:?})",
            if lto.is_empty() { "unknown" } else { &lto }
        ));
    }
    let debug_assertions = env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some();
    if debug_assertions != config.debug_assertions {
        wrong.push(format!(
            "debug-assertions {debug_assertions} (config: {})",
            config.debug_assertions
        ));
    }
    if !wrong.is_empty() {
        fail(&format!(
            "{}: the kernel is being compiled with settings that differ from this config: {}.\n\
             Build kernels with `cargo xtask build --config {}`, which derives features and \
             profile from the config.",
            config.path.display(),
            wrong.join(", "),
            config.name
        ));
    }

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("config.rs"), config.rust_constants()).expect("write config.rs");

    if env::var_os("CARGO_FEATURE_VDSO_ON").is_some() {
        build_vdso(&manifest.join("vdso"), &out.join("vdso.so"));
    }

    let script = root.join("components/platform/linker.ld");
    let script = script.canonicalize().unwrap_or(script);
    println!("cargo:rerun-if-changed={}", script.display());
    println!(
        "cargo:rustc-link-arg-bins=-T{}",
        Path::new(&script).display()
    );
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
}

/// Compiles the vDSO from `dir` into `output`: a shared object with one loadable segment
/// from file offset 0 and no dynamic relocations (it runs wherever the kernel maps it,
/// unrelocated), or the build fails saying why.
fn build_vdso(dir: &Path, output: &Path) {
    for file in ["vdso.c", "vdso.h", "vdso.lds"] {
        println!("cargo:rerun-if-changed={}", dir.join(file).display());
    }
    let result = process::Command::new("cc")
        .args([
            "-shared",
            "-fPIC",
            "-nostdlib",
            "-ffreestanding",
            "-fno-builtin",
            "-fno-stack-protector",
            "-O2",
            "-Wall",
            "-Werror",
            "-Wl,--hash-style=both",
            "-Wl,-soname=linux-vdso.so.1",
            "-Wl,--no-undefined",
            "-Wl,-z,max-page-size=4096",
            "-Wl,-z,norelro",
            "-Wl,--build-id=none",
        ])
        .arg(format!("-Wl,-T,{}", dir.join("vdso.lds").display()))
        .arg("-o")
        .arg(output)
        .arg(dir.join("vdso.c"))
        .output()
        .unwrap_or_else(|e| {
            fail(&format!(
                "vdso = \"on\" needs the host's C compiler (cc) to build the vDSO: {e}; \
                 install gcc (Debian: apt-get install gcc) or set vdso = \"off\""
            ))
        });
    if !result.status.success() {
        fail(&format!(
            "building the vDSO failed:\n{}",
            String::from_utf8_lossy(&result.stderr)
        ));
    }
    let image = fs::read(output).expect("read the vDSO");
    if let Err(why) = check_vdso(&image) {
        fail(&format!("the vDSO ({}) {why}", output.display()));
    }
}

/// Checks what the kernel relies on: ELF64, one PT_LOAD at offset and address 0, and a
/// dynamic section without relocations.
fn check_vdso(image: &[u8]) -> Result<(), String> {
    let u16_at = |at: usize| {
        image
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        image
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    };
    let u64_at = |at: usize| {
        image
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    if image.get(..5) != Some(b"\x7fELF\x02") {
        return Err("is not an ELF64 file".into());
    }
    let phoff = u64_at(0x20).ok_or("is truncated")? as usize;
    let phnum = usize::from(u16_at(0x38).ok_or("is truncated")?);
    let (mut loads, mut dynamic) = (0, None);
    for i in 0..phnum {
        let ph = phoff + i * 56;
        let kind = u32_at(ph).ok_or("is truncated")?;
        let offset = u64_at(ph + 8).ok_or("is truncated")?;
        let vaddr = u64_at(ph + 16).ok_or("is truncated")?;
        match kind {
            1 if offset != 0 || vaddr != 0 => {
                return Err("has a PT_LOAD that does not start at offset and address 0".into());
            }
            1 => loads += 1,
            2 => dynamic = Some((offset as usize, u64_at(ph + 32).ok_or("is truncated")?)),
            _ => {}
        }
    }
    if loads != 1 {
        return Err(format!("has {loads} PT_LOAD segments, not one"));
    }
    let (at, size) = dynamic.ok_or("has no dynamic section")?;
    for entry in (at..at + size as usize).step_by(16) {
        // DT_RELA, DT_REL, DT_TEXTREL, DT_JMPREL: something to relocate.
        if let Some(tag @ (7 | 17 | 22 | 23)) = u64_at(entry) {
            return Err(format!("needs relocating (dynamic tag {tag})"));
        }
    }
    Ok(())
}
