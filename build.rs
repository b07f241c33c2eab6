//! Build script of the kernel crates (`kernels/*/Cargo.toml` say `build = "../../build.rs"`).
//!
//! It reads the config named by `TESSERA_CONFIG` (a name under `configs/` or a path; `cargo
//! xtask build` sets it, default `fast`), and
//! - fails the build with the config's own error (file, key, allowed values) if it is invalid;
//! - checks that the crate was compiled with exactly the Cargo features and profile the
//!   config asks for (xtask derives them from it; a hand-written `cargo build` that disagrees
//!   is refused instead of producing a kernel whose banner lies);
//! - writes the config's constants to `$OUT_DIR/config.rs` (included by the kernel);
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
            wrong.push(format!("{}{feature}", if enabled { "+" } else { "-" }));
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

    let script = root.join("components/platform/linker.ld");
    let script = script.canonicalize().unwrap_or(script);
    println!("cargo:rerun-if-changed={}", script.display());
    println!(
        "cargo:rustc-link-arg-bins=-T{}",
        Path::new(&script).display()
    );
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
}
