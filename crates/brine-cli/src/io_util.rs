//! Reading whole inputs and writing outputs atomically, with `-` for the standard streams.
//!
//! Compressed inputs (gzip, zlib, bzip2, xz, lzma, zstd, lz4) are decompressed transparently,
//! recognised by their magic bytes ([`brine_formats::compress`]).

use std::borrow::Cow;
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// True when the path means a standard stream.
pub fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The whole input, from a file or standard input, decompressed under the default limits.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    read_input_with(path, &brine::Limits::default())
}

/// The whole input, decompressed (when compressed) under `limits`.
pub fn read_input_with(path: &Path, limits: &brine::Limits) -> Result<Vec<u8>> {
    let raw = read_raw(path)?;
    let name = if is_std(path) {
        "standard input".into()
    } else {
        path.display().to_string()
    };
    match brine_formats::decompress(&raw, limits)
        .with_context(|| format!("cannot decompress {name}"))?
    {
        Cow::Borrowed(_) => Ok(raw),
        Cow::Owned(v) => Ok(v),
    }
}

/// The whole input as stored.
fn read_raw(path: &Path) -> Result<Vec<u8>> {
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
