//! `docs/configs.md`, generated from the schema table so the reference never drifts from what
//! the validator accepts.

use crate::config::Value;
use crate::outputs::key_features;
use crate::schema::{Features, Key, KeyDefault, KeyType, SECTIONS, TOP_LEVEL_KEYS, all_keys};

/// Description of the generated example, which uses every default and first variant.
const EXAMPLE_DESCRIPTION: &str = "Example: every default, the first variant of every component";

/// The config reference, `docs/configs.md`: every key with its type, default, allowed values
/// (with the doc of each variant), the Cargo features, and one example.
pub fn reference_markdown() -> String {
    let mut md = String::from(
        "# Kernel configs\n\n\
         <!-- Generated from xtask/config/src/schema.rs by `cargo xtask docs`; do not edit. -->\n\n\
         A kernel config is a TOML file in `configs/`. It picks one variant of every component, \
         says how the kernel is compiled and sets the kernel's parameters. `xtask` turns it into \
         `cargo build --features ...` plus profile settings; the kernel's build script turns it \
         into Rust constants (`CONFIG_NAME`, `MEMORY_MIB`, `COMPONENTS`, ...).\n\n\
         Unknown sections and keys are errors, so a typo never silently falls back to a \
         default.\n\n\
         ## Top level\n\n",
    );
    md.push_str(&key_table("", TOP_LEVEL_KEYS));
    for section in SECTIONS {
        md.push_str(&format!("\n## `[{}]`\n\n{}\n\n", section.name, section.doc));
        md.push_str(&key_table(section.name, section.keys));
        for key in section.keys {
            if let KeyType::Choice(_) = key.ty {
                md.push_str(&variant_table(section.name, key));
            }
        }
    }
    md.push_str(&features_list());
    md.push_str("\n## Example\n\n```toml\n");
    md.push_str(&example_toml());
    md.push_str("```\n");
    md
}

/// A markdown table of keys: name, type, default, allowed values, doc.
fn key_table(section: &str, keys: &[Key]) -> String {
    let mut md =
        String::from("| Key | Type | Default | Allowed | Description |\n|---|---|---|---|---|\n");
    for key in keys {
        let dotted = dotted(section, key);
        let default = match default_value(key) {
            None => "required".to_string(),
            Some(value) => format!("`{value}`"),
        };
        let allowed = match key.ty {
            KeyType::Text => key.ty.allowed(),
            KeyType::Choice(variants) => variants
                .iter()
                .map(|variant| format!("`{:?}`", variant.name))
                .collect::<Vec<_>>()
                .join(", "),
            KeyType::Bool | KeyType::Int { .. } => format!("`{}`", key.ty.allowed()),
        };
        md.push_str(&format!(
            "| `{dotted}` | {} | {default} | {allowed} | {} |\n",
            key.ty.name(),
            key.doc
        ));
    }
    md
}

/// A subsection listing what each value of a choice key does, and its feature if it has one.
fn variant_table(section: &str, key: &Key) -> String {
    let KeyType::Choice(variants) = key.ty else {
        return String::new();
    };
    let with_features = key.features == Features::PerVariant;
    let mut md = format!("\n### `{}`\n\n", dotted(section, key));
    md.push_str(if with_features {
        "| Variant | Cargo feature | What it does |\n|---|---|---|\n"
    } else {
        "| Value | What it does |\n|---|---|\n"
    });
    for variant in variants {
        if with_features {
            md.push_str(&format!(
                "| `{:?}` | `{}-{}` | {} |\n",
                variant.name, key.name, variant.name, variant.doc
            ));
        } else {
            md.push_str(&format!("| `{:?}` | {} |\n", variant.name, variant.doc));
        }
    }
    md
}

/// Every Cargo feature with the setting that turns it on.
fn features_list() -> String {
    let mut md = String::from(
        "\n## Cargo features\n\n\
         The kernel crate declares exactly these features; `xtask` turns on the ones the config \
         selects.\n\n",
    );
    for (dotted, key) in all_keys() {
        for (feature, value) in key_features(key) {
            md.push_str(&format!("- `{feature}`: `{dotted} = {value}`\n"));
        }
    }
    md
}

/// A config that sets every key: defaults, and the first variant where there is none.
fn example_toml() -> String {
    let mut toml = String::new();
    for key in TOP_LEVEL_KEYS {
        let value = match key.default {
            KeyDefault::Required if key.ty == KeyType::Text => {
                Value::Text(EXAMPLE_DESCRIPTION.to_string())
            }
            _ => example_value(key),
        };
        toml.push_str(&format!("{} = {value}\n", key.name));
    }
    for section in SECTIONS {
        toml.push_str(&format!("\n[{}]\n", section.name));
        let lines: Vec<String> = section
            .keys
            .iter()
            .map(|key| format!("{} = {}", key.name, example_value(key)))
            .collect();
        // Align the comments so the allowed values read as a column.
        let width = lines.iter().map(String::len).max().unwrap_or(0);
        for (line, key) in lines.iter().zip(section.keys) {
            toml.push_str(&format!("{line:width$}  # {}\n", key.ty.allowed()));
        }
    }
    toml
}

fn example_value(key: &Key) -> Value {
    match (default_value(key), key.ty) {
        (Some(value), _) => value,
        (None, KeyType::Choice(variants)) => Value::Text(variants[0].name.to_string()),
        (None, KeyType::Bool) => Value::Bool(false),
        (None, KeyType::Int { min, .. }) => Value::Int(min),
        (None, KeyType::Text) => Value::Text(key.name.to_string()),
    }
}

fn default_value(key: &Key) -> Option<Value> {
    match key.default {
        KeyDefault::Required => None,
        KeyDefault::Bool(b) => Some(Value::Bool(b)),
        KeyDefault::Int(n) => Some(Value::Int(n)),
        KeyDefault::Text(s) => Some(Value::Text(s.to_string())),
    }
}

fn dotted(section: &str, key: &Key) -> String {
    if section.is_empty() {
        key.name.to_string()
    } else {
        format!("{section}.{}", key.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{all_cargo_features, parse};
    use std::path::Path;

    #[test]
    fn example_is_a_valid_config() {
        let config = parse(Path::new("example.toml"), &example_toml()).expect("example parses");
        assert_eq!(config.description, EXAMPLE_DESCRIPTION);
        assert_eq!(config.variant("page-alloc"), Some("bitmap"));
    }

    #[test]
    fn reference_mentions_every_key_variant_and_feature() {
        let md = reference_markdown();
        for (dotted, key) in all_keys() {
            assert!(md.contains(&format!("`{dotted}`")), "{dotted} missing");
            assert!(md.contains(key.doc), "doc of {dotted} missing");
            if let KeyType::Choice(variants) = key.ty {
                for variant in variants {
                    assert!(
                        md.contains(variant.doc),
                        "doc of {dotted} = {} missing",
                        variant.name
                    );
                }
            }
        }
        for feature in all_cargo_features() {
            assert!(
                md.contains(&format!("- `{feature}`: ")),
                "feature {feature} missing"
            );
        }
        assert!(md.contains("| `\"buddy\"` | `page-alloc-buddy` | binary buddy allocator"));
        assert!(md.contains("- `lock-tracking`: `profile.lock-tracking = true`"));
    }
}
