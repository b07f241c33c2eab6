//! What the build gets out of a config: Cargo features for `xtask` and Rust constants for the
//! kernel's build script. Both walk the schema table, so a new component needs no code here.

use crate::config::{Config, Value};
use crate::schema::{Features, Key, KeyType, all_keys, find_key};

/// Every feature a key can turn on, each with the value that turns it on:
/// (`page-alloc-buddy`, `"buddy"`), (`lock-tracking`, `true`).
pub(crate) fn key_features(key: &Key) -> Vec<(String, Value)> {
    match (key.features, key.ty) {
        (Features::PerVariant, KeyType::Choice(variants)) => variants
            .iter()
            .map(|variant| {
                let feature = format!("{}-{}", key.name, variant.name);
                (feature, Value::Text(variant.name.to_string()))
            })
            .collect(),
        (Features::WhenTrue, _) => vec![(key.name.to_string(), Value::Bool(true))],
        _ => Vec::new(),
    }
}

/// All Cargo features any config can produce (the kernel crate declares exactly these), in
/// schema order.
pub fn all_cargo_features() -> Vec<String> {
    all_keys()
        .flat_map(|(_, key)| key_features(key))
        .map(|(feature, _)| feature)
        .collect()
}

/// The dotted key whose value turns `feature` on (`page-alloc-buddy` -> `components.page-alloc`),
/// for messages about a feature set that disagrees with a config.
pub fn feature_key(feature: &str) -> Option<String> {
    all_keys()
        .find(|(_, key)| key_features(key).iter().any(|(f, _)| f == feature))
        .map(|(dotted, _)| dotted)
}

impl Config {
    /// The kernel crate's features this config turns on, in schema order: one
    /// `<component>-<variant>` per component, plus `lock-tracking` when enabled.
    pub fn cargo_features(&self) -> Vec<String> {
        all_keys()
            .flat_map(|(dotted, key)| {
                let value = self.value(&dotted);
                key_features(key)
                    .into_iter()
                    .filter(move |(_, turns_on)| value.as_ref() == Some(turns_on))
                    .map(|(feature, _)| feature)
            })
            .collect()
    }

    /// Rust source with one `pub const` per setting (`CONFIG_NAME`, `OPT_LEVEL`, ...,
    /// `COMPONENTS`), each with a doc comment, for the kernel to `include!`.
    pub fn rust_constants(&self) -> String {
        let components: Vec<String> = self
            .components
            .iter()
            .map(|(key, variant)| format!("({key:?}, {variant:?})"))
            .collect();
        let subsystems: Vec<String> = self
            .subsystems
            .iter()
            .map(|(key, on)| format!("({key:?}, {on})"))
            .collect();
        let constants = [
            (
                "Name of the config this kernel was built from (its file stem in `configs/`)."
                    .to_string(),
                "CONFIG_NAME",
                "&str",
                format!("{:?}", self.name),
            ),
            (
                key_doc("description"),
                "CONFIG_DESCRIPTION",
                "&str",
                format!("{:?}", self.description),
            ),
            (
                key_doc("profile.opt-level"),
                "OPT_LEVEL",
                "u8",
                self.opt_level.to_string(),
            ),
            (key_doc("profile.lto"), "LTO", "bool", self.lto.to_string()),
            (
                key_doc("profile.debug-assertions"),
                "DEBUG_ASSERTIONS",
                "bool",
                self.debug_assertions.to_string(),
            ),
            (
                key_doc("profile.lock-tracking"),
                "LOCK_TRACKING",
                "bool",
                self.lock_tracking.to_string(),
            ),
            (
                key_doc("profile.syscall-profiler"),
                "SYSCALL_PROFILER",
                "bool",
                self.syscall_profiler.to_string(),
            ),
            (
                key_doc("kernel.memory-mib"),
                "MEMORY_MIB",
                "u32",
                self.memory_mib.to_string(),
            ),
            (
                key_doc("kernel.timer-hz"),
                "TIMER_HZ",
                "u32",
                self.timer_hz.to_string(),
            ),
            (key_doc("kernel.cpus"), "CPUS", "u32", self.cpus.to_string()),
            (
                key_doc("kernel.log-level"),
                "LOG_LEVEL",
                "&str",
                format!("{:?}", self.log_level),
            ),
            (
                "`[components]`: `(component, variant)` for every component, in schema order."
                    .to_string(),
                "COMPONENTS",
                "&[(&str, &str)]",
                format!("&[{}]", components.join(", ")),
            ),
            (
                "`[subsystems]`: `(subsystem, compiled in)` for every subsystem, in schema order."
                    .to_string(),
                "SUBSYSTEMS",
                "&[(&str, bool)]",
                format!("&[{}]", subsystems.join(", ")),
            ),
        ];
        let mut out = format!(
            "// Generated by tessera-config from config `{}`: edit the config, not this file.\n",
            self.name
        );
        for (doc, name, ty, value) in constants {
            out.push_str(&format!("\n/// {doc}\npub const {name}: {ty} = {value};\n"));
        }
        out
    }
}

/// A constant's doc comment: the key it comes from and the key's doc. The keys named in
/// `rust_constants` are fixed members of the schema.
fn key_doc(dotted: &str) -> String {
    let key = find_key(dotted).unwrap_or_else(|| panic!("schema table lacks key {dotted}"));
    format!("`{dotted}`: {}", key.doc)
}
