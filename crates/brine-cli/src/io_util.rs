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

/// Writes `data` to standard output or, through a temporary file and a rename, to `path`, so a
/// failure never leaves a half-written file behind.
pub fn write_output(path: &Path, data: &[u8]) -> Result<()> {
    if is_std(path) {
        let mut out = io::stdout().lock();
        out.write_all(data)?;
        out.flush()?;
        return Ok(());
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.brine-tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
