//! Reading whole inputs and writing outputs atomically, with `-` for the standard streams.
//!
//! Compressed inputs (gzip, zlib, bzip2, xz, lzma, zstd, lz4) are decompressed transparently,
//! recognised by their magic bytes ([`brine_formats::compress`]).

use std::borrow::Cow;
use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// True when the path means a standard stream.
pub fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The limits for `--trusted` (none to speak of) or for untrusted input (the defaults).
pub fn limits(trusted: bool) -> brine::Limits {
    if trusted {
        brine::Limits::trusted()
    } else {
        brine::Limits::default()
    }
}

/// The whole input, decompressed (when compressed) under `limits`.
pub fn read_input_with(path: &Path, limits: &brine::Limits) -> Result<Vec<u8>> {
    let raw = read_raw(path)?;
    let name = if is_std(path) {
        "standard input".into()
    } else {
        path.display().to_string()
    };
    let out = brine_formats::decompress(&raw, limits).map_err(|e| {
        let hint = match e.limit_kind() {
            Some(brine_core::LimitKind::Ratio) => format!(
                " (expands more than {}x: a decompression bomb? --trusted lifts the limit)",
                limits.max_ratio
            ),
            Some(brine_core::LimitKind::Decompressed) => format!(
                " (expands beyond {} bytes; --trusted lifts the limit)",
                limits.max_decompressed
            ),
            _ => String::new(),
        };
        anyhow::anyhow!("cannot decompress {name}: {e}{hint}")
    })?;
    match out {
        Cow::Borrowed(_) => Ok(raw),
        Cow::Owned(v) => Ok(v),
    }
}

/// Inputs at least this big show a progress bar while they are read (on a terminal).
const PROGRESS_THRESHOLD: u64 = 64 << 20;

/// The whole input as stored.
fn read_raw(path: &Path) -> Result<Vec<u8>> {
    if is_std(path) {
        let mut v = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut v)
            .context("cannot read standard input")?;
        return Ok(v);
    }
    let cannot = || format!("cannot read {}", path.display());
    let file = fs::File::open(path).with_context(cannot)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len < PROGRESS_THRESHOLD || !io::stderr().is_terminal() {
        let mut v = Vec::new();
        io::BufReader::new(file)
            .read_to_end(&mut v)
            .with_context(cannot)?;
        return Ok(v);
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(crate::sanitize::line(&path.display().to_string()).into_owned());
    // The length is a hint for the buffer only: the file may change while it is read.
    let mut v = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 30));
    let result = bar.wrap_read(file).read_to_end(&mut v);
    bar.finish_and_clear();
    result.with_context(cannot)?;
    Ok(v)
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
