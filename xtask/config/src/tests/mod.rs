//! Unit tests through the public API: valid and invalid config text, features and constants.

mod errors;
mod outputs;

use std::path::Path;

use crate::{Config, ConfigError, parse};

/// A complete, valid config; tests derive bad ones from it by replacing one line.
const VALID: &str = r#"
description = "unit test config"

[profile]
opt-level = 3
lto = true
debug-assertions = true
lock-tracking = true

[components]
page-alloc = "buddy"
memops = "erms"
lock = "no-irq"
path-buf = "stack"
pipe = "fast"
page-zero = "once"
file-private = "share"
dcache = "hashbrown"
lookup = "fast"
tmpfs-stat = "lockfree"
net = "smoltcp"
sched = "round-robin"
vdso = "on"

[kernel]
memory-mib = 256
timer-hz = 250
log-level = "debug"
"#;

/// The only required keys: a description and one variant per component.
const MINIMAL: &str = r#"
description = "only what is required"

[components]
page-alloc = "bitmap"
memops = "simple"
lock = "irq-save"
path-buf = "heap"
pipe = "simple"
page-zero = "twice"
file-private = "copy"
dcache = "off"
lookup = "full"
tmpfs-stat = "locked"
net = "none"
sched = "round-robin"
vdso = "off"
"#;

fn parse_ok(text: &str) -> Config {
    parse(Path::new("configs/x.toml"), text).unwrap_or_else(|err| panic!("{err}"))
}

fn parse_err(text: &str) -> ConfigError {
    match parse(Path::new("configs/x.toml"), text) {
        Ok(config) => panic!("expected an error, parsed {config:?}"),
        Err(err) => err,
    }
}

/// `VALID` with the line starting with `key =` replaced by `line`.
fn valid_with(key: &str, line: &str) -> String {
    let prefix = format!("{key} =");
    assert!(
        VALID.lines().any(|l| l.starts_with(&prefix)),
        "VALID has no {key}"
    );
    VALID
        .lines()
        .map(|l| if l.starts_with(&prefix) { line } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn parses_every_key() {
    let config = parse_ok(VALID);
    assert_eq!(config.name, "x");
    assert_eq!(config.path, Path::new("configs/x.toml"));
    assert_eq!(config.description, "unit test config");
    assert_eq!(config.opt_level, 3);
    assert!(config.lto);
    assert!(config.debug_assertions);
    assert!(config.lock_tracking);
    assert_eq!(config.memory_mib, 256);
    assert_eq!(config.timer_hz, 250);
    assert_eq!(config.log_level, "debug");
    let components: Vec<(&str, &str)> = config
        .components
        .iter()
        .map(|(key, variant)| (key.as_str(), variant.as_str()))
        .collect();
    assert_eq!(
        components,
        [
            ("page-alloc", "buddy"),
            ("memops", "erms"),
            ("lock", "no-irq"),
            ("path-buf", "stack"),
            ("pipe", "fast"),
            ("page-zero", "once"),
            ("file-private", "share"),
            ("dcache", "hashbrown"),
            ("lookup", "fast"),
            ("tmpfs-stat", "lockfree"),
            ("net", "smoltcp"),
            ("sched", "round-robin"),
            ("vdso", "on")
        ]
    );
}

#[test]
fn absent_keys_take_their_defaults() {
    let config = parse_ok(MINIMAL);
    assert_eq!(config.opt_level, 2);
    assert!(!config.lto);
    assert!(!config.debug_assertions);
    assert!(!config.lock_tracking);
    assert_eq!(config.memory_mib, 128);
    assert_eq!(config.timer_hz, 100);
    assert_eq!(config.log_level, "info");
}

#[test]
fn components_come_in_schema_order_whatever_the_file_order() {
    let text = MINIMAL.replace(
        "page-alloc = \"bitmap\"\nmemops = \"simple\"\nlock = \"irq-save\"",
        "lock = \"no-irq\"\nmemops = \"erms\"\npage-alloc = \"buddy\"",
    );
    let keys: Vec<String> = parse_ok(&text)
        .components
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(
        keys,
        [
            "page-alloc",
            "memops",
            "lock",
            "path-buf",
            "pipe",
            "page-zero",
            "file-private",
            "dcache",
            "lookup",
            "tmpfs-stat",
            "net",
            "sched",
            "vdso"
        ]
    );
}

#[test]
fn variant_and_value_look_up_keys() {
    let config = parse_ok(VALID);
    assert_eq!(config.variant("memops"), Some("erms"));
    assert_eq!(config.variant("pager"), None);
    assert_eq!(
        config.value("kernel.timer-hz"),
        Some(crate::Value::Int(250))
    );
    assert_eq!(
        config.value("components.lock"),
        Some(crate::Value::Text("no-irq".into()))
    );
    assert_eq!(config.value("kernel.nope"), None);
    assert_eq!(config.value("profile.lock"), None);
    // Every schema key is reachable, so features and constants can walk the schema.
    for (dotted, _) in crate::schema::all_keys() {
        assert!(
            config.value(&dotted).is_some(),
            "Config::value lacks {dotted}"
        );
    }
}

#[test]
fn boundary_values_are_accepted() {
    let low = parse_ok(&valid_with("memory-mib", "memory-mib = 32"));
    assert_eq!(low.memory_mib, 32);
    let high = parse_ok(&valid_with("memory-mib", "memory-mib = 4096"));
    assert_eq!(high.memory_mib, 4096);
    assert_eq!(
        parse_ok(&valid_with("opt-level", "opt-level = 0")).opt_level,
        0
    );
}

#[test]
fn name_is_the_file_stem() {
    let config = parse(Path::new("/somewhere/else/teach.toml"), MINIMAL).unwrap();
    assert_eq!(config.name, "teach");
}
