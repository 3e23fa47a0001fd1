//! Warnings: what a cache read or write skipped instead of failing (corrupt entries, mismatches).

use std::fmt;
use std::path::PathBuf;

/// Why an entry was treated as a miss, or a write was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// The file is not a readable entry: truncated, garbage, bad compression, another layout.
    Corrupt,
    /// The entry stores another namespace or key: a hash collision or a file copied by hand.
    KeyMismatch,
    /// The entry was written for another value type, or its value does not read as this one.
    TypeMismatch,
    /// The entry was written with another user version.
    VersionMismatch,
    /// `get_or_compute` computed a value but could not store it (it was still returned).
    WriteFailed,
    /// Eviction could not list or remove a file.
    EvictFailed,
}

impl WarningKind {
    /// A stable kebab-case code: `corrupt`, `key-mismatch`, `type-mismatch`,
    /// `version-mismatch`, `write-failed`, `evict-failed`.
    pub fn code(self) -> &'static str {
        match self {
            WarningKind::Corrupt => "corrupt",
            WarningKind::KeyMismatch => "key-mismatch",
            WarningKind::TypeMismatch => "type-mismatch",
            WarningKind::VersionMismatch => "version-mismatch",
            WarningKind::WriteFailed => "write-failed",
            WarningKind::EvictFailed => "evict-failed",
        }
    }
}

/// One warning, given to the callback of [`CacheBuilder::on_warning`](crate::CacheBuilder::on_warning)
/// and counted by [`Cache::warning_count`](crate::Cache::warning_count).
///
/// ```
/// let w = brine_memo::Warning {
///     kind: brine_memo::WarningKind::Corrupt,
///     path: "cache/ns/00.pkl".into(),
///     message: "unexpected end of data".into(),
/// };
/// assert_eq!(w.to_string(), "corrupt entry cache/ns/00.pkl: unexpected end of data");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What happened.
    pub kind: WarningKind,
    /// The entry file concerned.
    pub path: PathBuf,
    /// Details, lowercase.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            WarningKind::Corrupt => "corrupt entry",
            WarningKind::KeyMismatch => "key mismatch in",
            WarningKind::TypeMismatch => "type mismatch in",
            WarningKind::VersionMismatch => "version mismatch in",
            WarningKind::WriteFailed => "cannot write",
            WarningKind::EvictFailed => "cannot evict",
        };
        write!(f, "{what} {}: {}", self.path.display(), self.message)
    }
}
