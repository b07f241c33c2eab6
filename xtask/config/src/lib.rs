//! Tessera kernel configs: read a `configs/*.toml` file, validate it, and tell the build what to
//! compile.
//!
//! A config picks one variant of every swappable component (`page-alloc = "buddy"`), the
//! compile profile (`opt-level`, `debug-assertions`, `lock-tracking`) and kernel parameters
//! (`memory-mib`, `timer-hz`, `log-level`). Two host-side users read it through this crate:
//! `xtask`, which turns it into `cargo build --features ...` plus profile overrides, and the
//! kernel's build script, which writes [`Config::rust_constants`] for the kernel to `include!`.
//!
//! The schema is data: [`schema::TOP_LEVEL_KEYS`] and [`schema::SECTIONS`] list every key with
//! its type, allowed values, default and doc string, and every component variant with its doc.
//! Validation, features, constants and `docs/configs.md` ([`reference_markdown`]) all derive
//! from those tables, so each key is documented exactly once.
//!
//! # Configs in the repository
//!
//! | Config | Purpose |
//! |---|---|
//! | `minimal` | the teaching kernel: simplest variant of everything, read it first |
//! | `baseline` | every "before": unoptimised, checked, simplest variants |
//! | `fast` | every "after": the kernel to benchmark |
//! | `debug` | fast variants with assertions, lock tracking and debug logging |
//!
//! # Operations
//!
//! | Operation | What it does |
//! |---|---|
//! | [`load`] | read `configs/<name>.toml` (or a path) and validate it |
//! | [`parse`] | validate config text; errors name file, dotted key and allowed values |
//! | [`available_configs`] | names of the configs in a directory |
//! | [`Config::variant`] | the variant chosen for a component |
//! | [`Config::value`] | any key's value by dotted name |
//! | [`Config::cargo_features`] | kernel features to enable: `<component>-<variant>`, `lock-tracking` |
//! | [`all_cargo_features`] | every feature any config can produce (the kernel declares these) |
//! | [`feature_key`] | the dotted key a feature comes from (`page-alloc-buddy`: `components.page-alloc`) |
//! | [`Config::rust_constants`] | `pub const` items for the kernel (`CONFIG_NAME`, `MEMORY_MIB`, ...) |
//! | [`reference_markdown`] | the text of `docs/configs.md` |
//!
//! # Adding a component or a variant
//!
//! - A variant: one [`schema::Variant`] entry in its component's list in [`schema::SECTIONS`].
//! - A component: one `component(name, doc, &[variants])` entry in the `[components]` section.
//!
//! Then declare the new `<component>-<variant>` features in the kernel crate (a test there can
//! compare with [`all_cargo_features`]), add the key to every file in `configs/` (components
//! are required), and regenerate the docs with `cargo xtask docs`.
//!
//! A new `[profile]` or `[kernel]` key also needs a [`Config`] field, an arm in
//! [`Config::value`] and, if the kernel reads it, a constant in [`Config::rust_constants`].

#![deny(missing_docs)]

mod config;
mod error;
mod outputs;
mod reference;
pub mod schema;
mod validate;

pub use config::{Config, LTO_ENV, Value};
pub use error::ConfigError;
pub use outputs::{all_cargo_features, feature_key};
pub use reference::reference_markdown;
pub use validate::{available_configs, load, parse};

#[cfg(test)]
mod tests;
