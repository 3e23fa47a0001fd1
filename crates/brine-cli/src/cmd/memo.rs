//! `brine memo`: list, show, count and clear the entries of a brine-memo cache directory.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, Result};
use brine::show::{repr, ShowOptions};
use brine_memo::{Cache, Entry, EntryInfo};

use crate::cli::{MemoAction, MemoArgs};
use crate::sanitize;

/// Keys in `ls` are cut at this many characters of `repr`, so one line stays one line.
const KEY_WIDTH: usize = 60;

/// Runs `brine memo`.
pub fn run(args: &MemoArgs) -> Result<ExitCode> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    match &args.action {
        MemoAction::Ls { dir, namespace } => {
            let cache = open(dir)?;
            for info in cache.entries()? {
                if namespace.as_ref().is_some_and(|ns| *ns != info.namespace) {
                    continue;
                }
                let what = match Cache::read_entry(&info.path) {
                    Ok(e) => format!(
                        "{} v{} {}",
                        e.type_name,
                        e.version,
                        cut(&key_repr(&e, None, None), KEY_WIDTH)
                    ),
                    Err(err) => format!("<unreadable: {err}>"),
                };
                writeln!(
                    out,
                    "{}  {}  {:>9}  {:>8}  {}",
                    info.namespace,
                    &info.hash[..12],
                    info.size,
                    age(&info),
                    sanitize::line(&what)
                )?;
            }
        }
        MemoAction::Show {
            dir,
            hash,
            depth,
            width,
        } => {
            let cache = open(dir)?;
            let opts = ShowOptions {
                max_depth: *depth,
                max_items: *width,
                ..ShowOptions::default()
            };
            let picked: Vec<EntryInfo> = cache
                .entries()?
                .into_iter()
                .filter(|e| hash.is_empty() || hash.iter().any(|h| e.hash.starts_with(h.as_str())))
                .collect();
            if picked.is_empty() && !hash.is_empty() {
                anyhow::bail!(
                    "no entry of {} has a hash starting with {}",
                    dir.display(),
                    hash.join(" or ")
                );
            }
            for info in picked {
                let e = Cache::read_entry(&info.path)
                    .with_context(|| format!("cannot read entry {}", info.path.display()))?;
                let codec = e.codec.map_or("none", |c| c.name());
                let text = format!(
                    "{}/{}\n  type: {}\n  version: {}\n  size: {} bytes (compression: {codec})\n  key: {}\n  value: {}",
                    info.namespace,
                    info.hash,
                    e.type_name,
                    e.version,
                    info.size,
                    key_repr(&e, opts.max_depth, opts.max_items),
                    repr(&e.graph, e.value, &opts)
                );
                // Every field comes from the file: nothing in it may steer the terminal.
                for line in text.lines() {
                    writeln!(out, "{}", sanitize::line(line))?;
                }
            }
        }
        MemoAction::Stats { dir } => {
            let stats = open(dir)?.stats()?;
            writeln!(out, "entries: {}", stats.entries)?;
            writeln!(out, "bytes: {}", stats.bytes)?;
            writeln!(out, "temporary files: {}", stats.temp_files)?;
            if let (Some(old), Some(new)) = (stats.oldest, stats.newest) {
                writeln!(out, "least recently used: {} ago", ago(old))?;
                writeln!(out, "most recently used: {} ago", ago(new))?;
            }
            for (ns, n, bytes) in &stats.namespaces {
                writeln!(out, "namespace {ns}: {n} entries, {bytes} bytes")?;
            }
        }
        MemoAction::Clear { dir, namespace } => {
            let cache = open(dir)?;
            let n = match namespace {
                Some(ns) => cache.clear_namespace(ns)?,
                None => cache.clear()?,
            };
            writeln!(out, "removed {n} entries")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn open(dir: &std::path::Path) -> Result<Cache> {
    Cache::open_existing(dir).with_context(|| format!("cannot open cache {}", dir.display()))
}

/// The key as Python's `repr` prints it, from its stored pickle.
fn key_repr(e: &Entry, depth: Option<usize>, width: Option<usize>) -> String {
    let opts = ShowOptions {
        max_depth: depth,
        max_items: width,
        ..ShowOptions::default()
    };
    match brine::loads(&e.key) {
        Ok(g) => match g.root() {
            Some(root) => repr(&g, root, &opts),
            None => "<no key>".to_owned(),
        },
        Err(err) => format!("<unreadable key: {err}>"),
    }
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_owned(),
    }
}

fn age(info: &EntryInfo) -> String {
    ago(info.modified)
}

/// A duration since `t`, in the largest whole unit: `42s`, `5m`, `3h`, `12d`.
fn ago(t: SystemTime) -> String {
    let s = SystemTime::now()
        .duration_since(t)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}
