//! The configs and docs checked into the repository: every config loads and yields a sane
//! build, and `docs/configs.md` matches the schema.

use std::fs;
use std::path::PathBuf;

use tessera_config::{
    Config, all_cargo_features, available_configs, load, reference_markdown, schema,
};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn repo_configs() -> Vec<Config> {
    let dir = repo_root().join("configs");
    let names = available_configs(&dir);
    assert!(!names.is_empty(), "no configs in {}", dir.display());
    names
        .iter()
        .map(|name| load(name, &dir).unwrap_or_else(|err| panic!("{err}")))
        .collect()
}

fn find<'a>(configs: &'a [Config], name: &str) -> &'a Config {
    configs
        .iter()
        .find(|config| config.name == name)
        .unwrap_or_else(|| panic!("configs/{name}.toml missing"))
}

#[test]
fn the_four_documented_configs_exist() {
    let names = available_configs(&repo_root().join("configs"));
    for name in ["baseline", "debug", "fast", "minimal"] {
        assert!(
            names.iter().any(|n| n == name),
            "configs/{name}.toml missing"
        );
    }
}

#[test]
fn every_config_enables_exactly_one_variant_per_component() {
    let all = all_cargo_features();
    let components = schema::find_section(schema::COMPONENTS).expect("components section");
    for config in repo_configs() {
        let features = config.cargo_features();
        for key in components.keys {
            let prefix = format!("{}-", key.name);
            let chosen: Vec<&String> = features
                .iter()
                .filter(|feature| feature.starts_with(&prefix) && *feature != "lock-tracking")
                .collect();
            assert_eq!(
                chosen.len(),
                1,
                "{}: {} gives {chosen:?}",
                config.name,
                key.name
            );
        }
        for feature in &features {
            assert!(
                all.contains(feature),
                "{}: undeclared feature {feature}",
                config.name
            );
        }
        assert_eq!(
            features.iter().any(|feature| feature == "lock-tracking"),
            config.lock_tracking,
            "{}",
            config.name
        );
    }
}

#[test]
fn every_config_generates_its_constants() {
    for config in repo_configs() {
        let constants = config.rust_constants();
        let expected = [
            format!("pub const CONFIG_NAME: &str = {:?};", config.name),
            format!("pub const OPT_LEVEL: u8 = {};", config.opt_level),
            format!("pub const MEMORY_MIB: u32 = {};", config.memory_mib),
            format!("pub const LOG_LEVEL: &str = {:?};", config.log_level),
        ];
        for line in expected {
            assert!(
                constants.lines().any(|l| l == line),
                "{}: no `{line}`",
                config.name
            );
        }
        let components = constants
            .lines()
            .find(|l| l.starts_with("pub const COMPONENTS: &[(&str, &str)] = &["))
            .unwrap_or_else(|| panic!("{}: no COMPONENTS", config.name));
        for (key, variant) in &config.components {
            assert!(
                components.contains(&format!("({key:?}, {variant:?})")),
                "{components}"
            );
        }
    }
}

/// Keys fast and baseline share on purpose: `file-private` is not a step of Kevlar's blog
/// post (the source of the optimizations, docs/optimizations.md "Sources"), and its other
/// variant does not behave as Linux does, while baseline runs the conformance tests; `sched`
/// has one variant so far; `vdso` is not a step of the post either, and Linux maps a vDSO
/// into every process, which the conformance tests compare (its worth is measured as
/// `fast,vdso=off` against `fast`).
const SHARED_BY_FAST_AND_BASELINE: &[&str] = &["file-private", "sched", "vdso"];

/// fast and baseline are the A/B pair: they must differ in every component (but the ones
/// above) and every profile setting, and run on the same machine, or the comparison
/// measures less than it claims.
#[test]
fn fast_and_baseline_differ_in_everything_but_the_machine() {
    let configs = repo_configs();
    let (fast, baseline) = (find(&configs, "fast"), find(&configs, "baseline"));
    for ((key, fast_variant), (_, baseline_variant)) in
        fast.components.iter().zip(&baseline.components)
    {
        if SHARED_BY_FAST_AND_BASELINE.contains(&key.as_str()) {
            assert_eq!(fast_variant, baseline_variant, "{key} is listed as shared");
            continue;
        }
        assert_ne!(
            fast_variant, baseline_variant,
            "fast and baseline share {key}"
        );
    }
    assert_ne!(fast.opt_level, baseline.opt_level);
    assert_ne!(fast.debug_assertions, baseline.debug_assertions);
    assert_ne!(fast.lock_tracking, baseline.lock_tracking);
    assert_eq!(
        (fast.memory_mib, fast.timer_hz, &fast.log_level),
        (baseline.memory_mib, baseline.timer_hz, &baseline.log_level)
    );
}

#[test]
fn docs_are_current() {
    let path = repo_root().join("docs/configs.md");
    let generated = reference_markdown();
    let on_disk = fs::read_to_string(&path).unwrap_or_default();
    if on_disk != generated {
        let line = on_disk
            .lines()
            .zip(generated.lines())
            .position(|(old, new)| old != new)
            .unwrap_or_else(|| on_disk.lines().count().min(generated.lines().count()));
        panic!(
            "docs/configs.md is not what the schema table generates (first difference at line \
             {}): run `cargo xtask docs` to regenerate it",
            line + 1
        );
    }
}
