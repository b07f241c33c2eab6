//! A validated config and its values.

use std::fmt;
use std::path::PathBuf;

use crate::schema::{COMPONENTS, SUBSYSTEMS};

/// A config that passed validation: every key present (defaults filled in), every value allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// File stem, e.g. `fast` for `configs/fast.toml`.
    pub name: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// `description`.
    pub description: String,
    /// `profile.opt-level`.
    pub opt_level: u8,
    /// `profile.lto`.
    pub lto: bool,
    /// `profile.debug-assertions`.
    pub debug_assertions: bool,
    /// `profile.lock-tracking`.
    pub lock_tracking: bool,
    /// `profile.syscall-profiler`.
    pub syscall_profiler: bool,
    /// `(component, variant)` for every key of `[components]`, in schema order.
    pub components: Vec<(String, String)>,
    /// `(subsystem, compiled in)` for every key of `[subsystems]`, in schema order.
    pub subsystems: Vec<(String, bool)>,
    /// `kernel.memory-mib`.
    pub memory_mib: u32,
    /// `kernel.timer-hz`.
    pub timer_hz: u32,
    /// `kernel.cpus`.
    pub cpus: u32,
    /// `kernel.log-level`.
    pub log_level: String,
    /// `kernel.userland`.
    pub userland: String,
}

/// A validated value of one key, whatever its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A `bool` key.
    Bool(bool),
    /// An `integer` key.
    Int(i64),
    /// A `string` or `choice` key.
    Text(String),
}

/// Formats as TOML: `true`, `128`, `"buddy"`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// The environment variable through which `cargo xtask build` tells the kernel's build
/// script the `lto` it passed to cargo (build scripts cannot see a profile's `lto`).
pub const LTO_ENV: &str = "TESSERA_PROFILE_LTO";

impl Config {
    /// Cargo's `profile.*.lto` value for `profile.lto`: `"fat"` or `"off"`.
    pub fn cargo_lto(&self) -> &'static str {
        if self.lto { "fat" } else { "off" }
    }

    /// The variant chosen for a component, e.g. `variant("page-alloc") == Some("buddy")`.
    pub fn variant(&self, key: &str) -> Option<&str> {
        self.components
            .iter()
            .find(|(component, _)| component == key)
            .map(|(_, variant)| variant.as_str())
    }

    /// Whether a subsystem is compiled in, e.g. `subsystem("procfs") == Some(true)`.
    pub fn subsystem(&self, key: &str) -> Option<bool> {
        self.subsystems
            .iter()
            .find(|(subsystem, _)| subsystem == key)
            .map(|(_, on)| *on)
    }

    /// The value of a key by dotted name (`kernel.timer-hz`), `None` for keys not in the schema.
    /// Lets features, constants and tests walk the schema table instead of naming fields.
    pub fn value(&self, dotted: &str) -> Option<Value> {
        let value = match dotted {
            "description" => Value::Text(self.description.clone()),
            "profile.opt-level" => Value::Int(self.opt_level.into()),
            "profile.lto" => Value::Bool(self.lto),
            "profile.debug-assertions" => Value::Bool(self.debug_assertions),
            "profile.lock-tracking" => Value::Bool(self.lock_tracking),
            "profile.syscall-profiler" => Value::Bool(self.syscall_profiler),
            "kernel.memory-mib" => Value::Int(self.memory_mib.into()),
            "kernel.timer-hz" => Value::Int(self.timer_hz.into()),
            "kernel.cpus" => Value::Int(self.cpus.into()),
            "kernel.log-level" => Value::Text(self.log_level.clone()),
            "kernel.userland" => Value::Text(self.userland.clone()),
            _ => match dotted.split_once('.')? {
                (COMPONENTS, key) => Value::Text(self.variant(key)?.to_string()),
                (SUBSYSTEMS, key) => Value::Bool(self.subsystem(key)?),
                _ => return None,
            },
        };
        Some(value)
    }
}
