//! Reading and validating a config file against the schema table.
//!
//! Validation is strict: an unknown section or key is an error, never ignored, so a typo such as
//! `[kernal]` cannot silently fall back to the defaults and skew a benchmark.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{Config, Value};
use crate::error::ConfigError;
use crate::schema::{
    COMPONENTS, Features, Key, KeyDefault, KeyType, SECTIONS, SUBSYSTEMS, TOP_LEVEL_KEYS,
};

/// Reads and validates a config. A bare name (`fast`) means `configs_dir/fast.toml`; anything
/// containing a path separator or ending in `.toml` is a path of its own.
pub fn load(name_or_path: &str, configs_dir: &Path) -> Result<Config, ConfigError> {
    let is_path =
        name_or_path.chars().any(std::path::is_separator) || name_or_path.ends_with(".toml");
    let path = if is_path {
        PathBuf::from(name_or_path)
    } else {
        configs_dir.join(format!("{name_or_path}.toml"))
    };
    let text = fs::read_to_string(&path).map_err(|err| {
        let available = available_configs(configs_dir);
        let available = if available.is_empty() {
            format!("none in {}", configs_dir.display())
        } else {
            available.join(", ")
        };
        ConfigError::new(
            &path,
            format!("cannot read config file: {err}; available configs: {available}"),
        )
    })?;
    parse(&path, &text)
}

/// The names of the configs in `configs_dir` (stems of its `*.toml` files), sorted; empty if
/// the directory cannot be read.
pub fn available_configs(configs_dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(configs_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .filter_map(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

/// Validates config text; `path` names the file in errors and gives [`Config::name`] (its stem).
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| ConfigError::new(path, err.to_string().trim_end()))?;
    let settings = check_file(&table).map_err(|detail| ConfigError::new(path, detail))?;
    Ok(settings.into_config(path))
}

/// Every schema key's validated value by dotted name, defaults filled in.
struct Settings(BTreeMap<String, Value>);

/// Checks the whole file; the error is the message without the file name.
fn check_file(table: &toml::Table) -> Result<Settings, String> {
    for (name, value) in table {
        let is_top_level_key = TOP_LEVEL_KEYS.iter().any(|key| key.name == *name);
        let is_section = SECTIONS.iter().any(|section| section.name == *name);
        if is_section && !value.is_table() {
            return Err(format!(
                "{name} must be a table ([{name}]), found {}",
                describe(value)
            ));
        }
        if !is_top_level_key && !is_section {
            return Err(unknown_top_level(name, value));
        }
    }
    let mut settings = BTreeMap::new();
    for key in TOP_LEVEL_KEYS {
        let value = check_key(key.name, key, table.get(key.name))?;
        settings.insert(key.name.to_string(), value);
    }
    let empty = toml::Table::new();
    for section in SECTIONS {
        let entries = table
            .get(section.name)
            .and_then(toml::Value::as_table)
            .unwrap_or(&empty);
        if let Some(unknown) = entries
            .keys()
            .find(|name| !section.keys.iter().any(|key| key.name == name.as_str()))
        {
            let allowed: Vec<&str> = section.keys.iter().map(|key| key.name).collect();
            return Err(format!(
                "unknown key `{}.{unknown}`; allowed keys in [{}]: {}",
                section.name,
                section.name,
                allowed.join(", ")
            ));
        }
        for key in section.keys {
            let dotted = format!("{}.{}", section.name, key.name);
            let value = check_key(&dotted, key, entries.get(key.name))?;
            settings.insert(dotted, value);
        }
    }
    let settings = Settings(settings);
    settings.check_requirements()?;
    Ok(settings)
}

/// (key, value, key it needs, value it needs) pairs: a key with that value only works when the
/// other key has its value. Checked after every key is valid on its own.
const REQUIREMENTS: &[(&str, &str, &str, &str)] = &[
    ("kernel.userland", "hello", "subsystems.userspace", "true"),
    ("kernel.userland", "busybox", "subsystems.userspace", "true"),
    ("kernel.userland", "busybox", "subsystems.tty", "true"),
    // The shell installs handlers (SIGINT, SIGCHLD, job control) and masks signals.
    ("kernel.userland", "busybox", "subsystems.signals", "true"),
    ("subsystems.tty", "true", "subsystems.userspace", "true"),
    ("subsystems.procfs", "true", "subsystems.userspace", "true"),
    ("subsystems.signals", "true", "subsystems.userspace", "true"),
    ("subsystems.sockets", "true", "subsystems.userspace", "true"),
    (
        "components.net",
        "\"smoltcp\"",
        "subsystems.sockets",
        "true",
    ),
];

fn unknown_top_level(name: &str, value: &toml::Value) -> String {
    let sections: Vec<&str> = SECTIONS.iter().map(|section| section.name).collect();
    let sections = sections.join(", ");
    if value.is_table() {
        format!("unknown section [{name}]; allowed sections: {sections}")
    } else {
        let keys: Vec<&str> = TOP_LEVEL_KEYS.iter().map(|key| key.name).collect();
        format!(
            "unknown top-level key `{name}`; allowed top-level keys: {}; allowed sections: {sections}",
            keys.join(", ")
        )
    }
}

/// Checks one key's value, or supplies its default when absent.
fn check_key(dotted: &str, key: &Key, value: Option<&toml::Value>) -> Result<Value, String> {
    let allowed = key.ty.allowed();
    let Some(value) = value else {
        return match key.default {
            KeyDefault::Required => {
                Err(format!("missing required key {dotted}; allowed: {allowed}"))
            }
            KeyDefault::Bool(b) => Ok(Value::Bool(b)),
            KeyDefault::Int(n) => Ok(Value::Int(n)),
            KeyDefault::Text(s) => Ok(Value::Text(s.to_string())),
        };
    };
    let found = describe(value);
    match key.ty {
        KeyType::Text => match value.as_str() {
            Some("") => Err(format!("{dotted} is empty; allowed: {allowed}")),
            Some(text) => Ok(Value::Text(text.to_string())),
            None => Err(format!("{dotted} must be a string, found {found}")),
        },
        KeyType::Bool => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| format!("{dotted} must be a boolean (true or false), found {found}")),
        KeyType::Int { min, max } => match value.as_integer() {
            Some(n) if (min..=max).contains(&n) => Ok(Value::Int(n)),
            Some(n) => Err(format!(
                "{dotted} = {n} is out of range; allowed: {allowed}"
            )),
            None => Err(format!(
                "{dotted} must be an integer in {allowed}, found {found}"
            )),
        },
        KeyType::Choice(variants) => match value.as_str() {
            Some(text) if variants.iter().any(|variant| variant.name == text) => {
                Ok(Value::Text(text.to_string()))
            }
            Some(text) => {
                // Components have "variants"; other choices (log-level) just have values.
                let what = match key.features {
                    Features::PerVariant => "a variant",
                    Features::None | Features::WhenTrue => "an allowed value",
                };
                Err(format!(
                    "{dotted} = {text:?} is not {what}; allowed: {allowed}"
                ))
            }
            None => Err(format!(
                "{dotted} must be a string, found {found}; allowed: {allowed}"
            )),
        },
    }
}

/// A TOML value as an error message shows it: `string "lots"`, `integer 8`, `table`.
fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("string {s:?}"),
        toml::Value::Integer(n) => format!("integer {n}"),
        toml::Value::Float(x) => format!("float {x}"),
        toml::Value::Boolean(b) => format!("boolean {b}"),
        toml::Value::Datetime(d) => format!("datetime {d}"),
        toml::Value::Array(_) => "array".to_string(),
        toml::Value::Table(_) => "table".to_string(),
    }
}

impl Settings {
    /// Refuses a combination of values that cannot build a working kernel, naming both keys.
    fn check_requirements(&self) -> Result<(), String> {
        for (key, value, needs, needed) in REQUIREMENTS {
            let value = value.trim_matches('"');
            let have = self.get(key).to_string();
            let other = self.get(needs).to_string();
            if have.trim_matches('"') == value
                && other.trim_matches('"') != needed.trim_matches('"')
            {
                return Err(format!(
                    "{key} = {have} needs {needs} = {needed}, found {needs} = {other}"
                ));
            }
        }
        Ok(())
    }

    // The getters panic only if the schema table and `Config` disagree about a key's type,
    // which the tests that load every repository config would catch first.

    fn get(&self, dotted: &str) -> &Value {
        self.0
            .get(dotted)
            .unwrap_or_else(|| panic!("schema table lacks key {dotted}"))
    }

    fn text(&self, dotted: &str) -> String {
        match self.get(dotted) {
            Value::Text(s) => s.clone(),
            other => panic!("schema declares {dotted} as {other:?}, Config wants a string"),
        }
    }

    fn bool(&self, dotted: &str) -> bool {
        match self.get(dotted) {
            Value::Bool(b) => *b,
            other => panic!("schema declares {dotted} as {other:?}, Config wants a bool"),
        }
    }

    fn int<T: TryFrom<i64>>(&self, dotted: &str) -> T {
        match self.get(dotted) {
            Value::Int(n) => T::try_from(*n)
                .unwrap_or_else(|_| panic!("schema range of {dotted} exceeds its Config field")),
            other => panic!("schema declares {dotted} as {other:?}, Config wants an integer"),
        }
    }

    fn into_config(self, path: &Path) -> Config {
        let components = SECTIONS
            .iter()
            .filter(|section| section.name == COMPONENTS)
            .flat_map(|section| section.keys)
            .map(|key| {
                let variant = self.text(&format!("{COMPONENTS}.{}", key.name));
                (key.name.to_string(), variant)
            })
            .collect();
        Config {
            name: path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.to_path_buf(),
            description: self.text("description"),
            opt_level: self.int("profile.opt-level"),
            lto: self.bool("profile.lto"),
            debug_assertions: self.bool("profile.debug-assertions"),
            lock_tracking: self.bool("profile.lock-tracking"),
            syscall_profiler: self.bool("profile.syscall-profiler"),
            components,
            subsystems: SECTIONS
                .iter()
                .filter(|section| section.name == SUBSYSTEMS)
                .flat_map(|section| section.keys)
                .map(|key| {
                    let on = self.bool(&format!("{SUBSYSTEMS}.{}", key.name));
                    (key.name.to_string(), on)
                })
                .collect(),
            memory_mib: self.int("kernel.memory-mib"),
            timer_hz: self.int("kernel.timer-hz"),
            cpus: self.int("kernel.cpus"),
            log_level: self.text("kernel.log-level"),
            userland: self.text("kernel.userland"),
        }
    }
}
