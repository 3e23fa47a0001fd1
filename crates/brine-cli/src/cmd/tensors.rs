//! `brine tensors`: a table (or JSON) of every array and tensor in an ML file, its type found
//! by content; tensor data is never read.

use std::fs::File;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use brine::Limits;
use brine_formats::detect::{detect, FileKind};
use brine_formats::{npy, npz, numpy, safetensors, torch};
use serde_json::json;

use crate::cli::TensorsArgs;
use crate::io_util::read_input_with;

/// One listed array.
struct Row {
    name: String,
    dtype: String,
    shape: Vec<usize>,
    bytes: u64,
    storage: Option<String>,
    offset: Option<u64>,
}

/// Runs `brine tensors`.
pub fn run(args: &TensorsArgs) -> Result<ExitCode> {
    let limits = if args.trusted {
        Limits::trusted()
    } else {
        Limits::default()
    };
    let input = args.input.display().to_string();
    let mut f = File::open(&args.input).with_context(|| format!("cannot read {input}"))?;
    let kind = detect(&mut f)?;
    let rows = rows(f, kind, &args.input, &limits)
        .with_context(|| format!("cannot list the tensors of {input}"))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let v: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name, "dtype": r.dtype, "shape": r.shape, "bytes": r.bytes,
                    "storage": r.storage, "offset": r.offset,
                })
            })
            .collect();
        let doc = json!({"file": input, "format": kind.name(), "tensors": v});
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                escape(&r.name),
                r.dtype.clone(),
                format!("{:?}", r.shape),
                r.bytes.to_string(),
                r.storage.as_deref().map_or("-".into(), escape),
                r.offset.map_or("-".into(), |o| o.to_string()),
            ]
        })
        .collect();
    let head = ["NAME", "DTYPE", "SHAPE", "BYTES", "STORAGE", "OFFSET"];
    let mut width = head.map(str::len);
    for row in &table {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            // Numbers right-aligned, text left-aligned.
            if i == 3 || i == 5 {
                s.push_str(&format!("{c:>w$}", w = width[i]));
            } else {
                s.push_str(&format!("{c:<w$}", w = width[i]));
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(head))?;
    let mut total = 0u64;
    for (row, r) in table.iter().zip(&rows) {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
        total = total.saturating_add(r.bytes);
    }
    writeln!(
        out,
        "{} arrays, {} bytes ({})",
        rows.len(),
        total,
        kind.name()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Names come from the file: escape control characters (ANSI escapes, bidi overrides) before
/// they reach a terminal.
fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn rows(f: File, kind: FileKind, path: &std::path::Path, limits: &Limits) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    match kind {
        FileKind::TorchZip | FileKind::TorchLegacy => {
            let ckpt = torch::Checkpoint::from_reader(f, limits)?;
            for (name, t) in ckpt.tensors()? {
                let (start, _) = t.byte_range()?;
                let storage = match ckpt.format {
                    torch::Format::Zip => format!("{}data/{}", ckpt.prefix, t.storage),
                    torch::Format::Legacy => t.storage.clone(),
                };
                out.push(Row {
                    name,
                    dtype: t.dtype.name(),
                    shape: t.shape.clone(),
                    bytes: t.nbytes() as u64,
                    storage: Some(storage),
                    offset: Some(start),
                });
            }
        }
        FileKind::Safetensors => {
            let len = f.metadata()?.len();
            let h = safetensors::read_header(&mut std::io::BufReader::new(f), len)?;
            for e in h.entries {
                out.push(Row {
                    name: e.name,
                    dtype: e.dtype.name(),
                    shape: e.shape,
                    bytes: e.end - e.begin,
                    storage: None,
                    offset: Some(h.data_start + e.begin),
                });
            }
        }
        FileKind::Npy => {
            let data = std::fs::read(path)?;
            let h = npy::read_header(&data)?;
            let bytes = brine_formats::array::nbytes_of(&h.dtype, &h.shape)? as u64;
            out.push(Row {
                name: "arr_0".into(),
                dtype: h.dtype.name(),
                shape: h.shape,
                bytes,
                storage: None,
                offset: Some(h.data_offset as u64),
            });
        }
        FileKind::Npz => {
            for (name, h) in npz::headers(f, limits)? {
                out.push(Row {
                    storage: Some(format!("{name}.npy")),
                    bytes: brine_formats::array::nbytes_of(&h.dtype, &h.shape)? as u64,
                    name,
                    dtype: h.dtype.name(),
                    shape: h.shape,
                    offset: Some(h.data_offset as u64),
                });
            }
        }
        FileKind::Pickle | FileKind::Compressed => {
            let data = read_input_with(path, limits)?;
            let g = brine_formats::joblib::loads_in(&data, limits, path.parent())?;
            for (name, a) in numpy::arrays(&g)? {
                out.push(Row {
                    name,
                    dtype: a.dtype.name(),
                    shape: a.shape.clone(),
                    bytes: a.nbytes() as u64,
                    storage: None,
                    offset: None,
                });
            }
        }
    }
    Ok(out)
}
