//! Reading whole inputs and writing outputs atomically, with `-` for the standard streams.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// True when the path means a standard stream.
pub fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The whole input, from a file or standard input.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if is_std(path) {
        let mut v = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut v)
            .context("cannot read standard input")?;
        Ok(v)
    } else {
        fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

/// Writes `data` to standard output or, atomically, to `path` (see [`brine::write_atomic`]).
pub fn write_output(path: &Path, data: &[u8]) -> Result<()> {
    if is_std(path) {
        let mut out = io::stdout().lock();
        out.write_all(data)?;
        out.flush()?;
        return Ok(());
    }
    brine::write_atomic(path, |f| f.write_all(data))
        .with_context(|| format!("cannot write {}", path.display()))
}
