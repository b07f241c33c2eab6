//! A small command-line parser: `--key value` options and `--` for the rest.
//!
//! Why not clap: this parser is about 70 lines with no dependency, and it does all that
//! xtask's commands need: `--key value` and `--key=value` (the justfile's form), flags,
//! repeated options (`--hostfwd`), `--` for a program's own arguments, and an error for
//! anything left over. Each command reads its options where it uses them (about 35 reads
//! in 8 modules) and parses their values with messages of its own (`--mode`, a kernel
//! SPEC, seconds), which clap would not remove. With clap's derive each of the ten
//! commands would become a struct whose fields need a doc comment and an attribute each
//! for the generated help, about as many lines as this parser and `USAGE` in main.rs
//! together, and `USAGE`'s grouping and examples would become per-option help; clap and
//! its derive crate would also lengthen every fresh build of xtask. Neither smaller nor
//! clearer, so the parser stays.

/// The arguments after the command, consumed option by option; leftovers are an error.
pub struct Args {
    items: Vec<String>,
}

impl Args {
    pub fn from_env() -> Self {
        Self {
            items: std::env::args().skip(1).collect(),
        }
    }

    #[cfg(test)]
    pub fn from(items: &[&str]) -> Self {
        Self {
            items: items.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The first argument, if it is not an option.
    pub fn command(&mut self) -> Option<String> {
        match self.items.first() {
            Some(first) if !first.starts_with("--") || first == "--help" => {
                Some(self.items.remove(0))
            }
            _ => None,
        }
    }

    /// The value of `--name VALUE` or `--name=VALUE`, removed from the list.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, String> {
        let flag = format!("--{name}");
        let prefix = format!("--{name}=");
        if let Some(i) = self.items.iter().position(|a| a.starts_with(&prefix)) {
            return Ok(Some(self.items.remove(i)[prefix.len()..].to_string()));
        }
        match self.items.iter().position(|a| *a == flag) {
            None => Ok(None),
            Some(i) if i + 1 < self.items.len() => {
                self.items.remove(i);
                Ok(Some(self.items.remove(i)))
            }
            Some(_) => Err(format!("{flag} needs a value")),
        }
    }

    /// Whether `--name` is present (removed from the list).
    pub fn flag(&mut self, name: &str) -> bool {
        let flag = format!("--{name}");
        match self.items.iter().position(|a| *a == flag) {
            Some(i) => {
                self.items.remove(i);
                true
            }
            None => false,
        }
    }

    /// Everything after `--` (removed from the list, with the `--`).
    pub fn rest(&mut self) -> Vec<String> {
        match self.items.iter().position(|a| a == "--") {
            Some(i) => {
                let rest = self.items.split_off(i + 1);
                self.items.pop();
                rest
            }
            None => Vec::new(),
        }
    }

    /// Fails on anything not consumed.
    pub fn finish(&self) -> Result<(), String> {
        match self.items.first() {
            None => Ok(()),
            Some(extra) => Err(format!(
                "unexpected argument `{extra}` (see `cargo xtask help`)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Args;

    #[test]
    fn options_in_both_spellings() {
        let mut args = Args::from(&["run", "--config", "minimal", "--mode=wall", "--verbose"]);
        assert_eq!(args.command().as_deref(), Some("run"));
        assert_eq!(args.value("config").unwrap().as_deref(), Some("minimal"));
        assert_eq!(args.value("mode").unwrap().as_deref(), Some("wall"));
        assert_eq!(args.value("append").unwrap(), None);
        assert!(args.flag("verbose"));
        args.finish().unwrap();
    }

    #[test]
    fn missing_value_and_leftovers_are_errors() {
        let mut args = Args::from(&["--config"]);
        assert_eq!(args.command(), None);
        assert!(
            args.value("config")
                .unwrap_err()
                .contains("--config needs a value")
        );
        let args = Args::from(&["--bogus"]);
        assert!(args.finish().unwrap_err().contains("--bogus"));
    }
}
