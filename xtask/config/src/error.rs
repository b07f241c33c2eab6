//! The one error type: a message that names the file, the dotted key and the allowed values,
//! because a kernel engineer reads it in a terminal and fixes the file by hand.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a config could not be read or is invalid. Displays as `<file>: <detail>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    path: PathBuf,
    detail: String,
}

impl ConfigError {
    pub(crate) fn new(path: &Path, detail: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            detail: detail.into(),
        }
    }

    /// The config file the error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The message without the file name, e.g.
    /// `kernel.memory-mib = 8 is out of range; allowed: 32..=4096`.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.detail)
    }
}

impl std::error::Error for ConfigError {}
