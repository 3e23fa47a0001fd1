//! brine-scan: does loading this pickle run code? A static answer — SAFE, UNSAFE or
//! INCONCLUSIVE — with the byte offset, opcode, resolved callable and arguments behind it.
//!
//! The scanner walks the instruction stream with the semantics of CPython's C unpickler
//! (stack, MARKs, memo, FRAME, protocol-4 dotted names), over symbolic values: globals stay
//! names, calls stay records. Nothing is ever imported, built or run. It then applies an
//! allow-list first [`Policy`]: what is not known to load safely is a finding.
//!
//! Containers are recognised by content: plain and multi-stream pickles, torch zip and legacy
//! checkpoints, TorchScript archives, `.npy`/`.npz`, joblib with raw array buffers, compressed
//! streams (gzip, zlib, bz2, xz, lzma, zstd, lz4), nested zips, 7z and tar archives.
//!
//! [`safe_loads`] / [`safe_load_path`] are the safe loading mode: they decode with brine's
//! reader only what the scanner calls SAFE, and otherwise name the finding that refused it.
//!
//! ```
//! use brine_scan::{scan_bytes, Options, Verdict};
//! // pickle.dumps([1, 2]) at protocol 2: plain data.
//! let safe = scan_bytes("list.pkl", b"\x80\x02]q\x00(K\x01K\x02e.", &Options::default());
//! assert_eq!(safe.verdict, Verdict::Safe);
//! // cos\nsystem\n(S'true'\ntR. — os.system('true')
//! let bad = scan_bytes("evil.pkl", b"cos\nsystem\n(S'true'\ntR.", &Options::default());
//! assert_eq!(bad.verdict, Verdict::Unsafe);
//! assert_eq!(bad.findings[0].callable.as_deref(), Some("os.system"));
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod container;
pub mod output;
pub mod policy;
mod report;
mod safe;
mod source;
mod vm;

use std::fs::File;
use std::path::{Path, PathBuf};

pub use policy::Policy;
pub use report::{Finding, Import, Member, Report, Severity, Verdict};
pub use safe::{safe_load_path, safe_loads, safe_loads_with, SafeError, SafeErrorKind};

use report::Sink;
use source::Src;

/// Bounds on one scan. Every one ends in an INCONCLUSIVE finding, never in a crash.
///
/// ```
/// let l = brine_scan::Limits::default();
/// assert!(l.max_memo_entries >= 1_000_000);
/// ```
#[derive(Clone, Debug)]
pub struct Limits {
    /// Values on the machine's stack at once.
    pub max_stack: usize,
    /// MARKs open at once.
    pub max_marks: usize,
    /// Memo entries.
    pub max_memo_entries: usize,
    /// Highest memo index.
    pub max_memo_index: u64,
    /// Bytes a decompressor or an inflated zip member may produce.
    pub max_decompressed: u64,
    /// Decompression ratio before a stream counts as a bomb.
    pub max_ratio: u64,
    /// Members of one archive.
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_stack: 10_000_000,
            max_marks: 1_000_000,
            max_memo_entries: 50_000_000,
            max_memo_index: 1 << 32,
            max_decompressed: 2 << 30,
            max_ratio: 2_000,
            max_members: 200_000,
        }
    }
}

/// What to scan with.
///
/// ```
/// let mut o = brine_scan::Options::default();
/// o.policy.allow("mypkg.Model");
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    /// The allow-list policy.
    pub policy: Policy,
    /// Resource bounds.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: Policy::builtin(),
            limits: Limits::default(),
        }
    }
}

fn finish(path: String, sink: Sink, format: String) -> Report {
    let verdict = sink
        .findings
        .iter()
        .map(|f| f.verdict)
        .max()
        .unwrap_or(Verdict::Safe);
    Report {
        path,
        format,
        verdict,
        findings: sink.findings,
        imports: sink.imports,
        members: sink.members,
        bytes_scanned: sink.bytes,
        opcodes: sink.opcodes,
    }
}

fn scan_src(name: &str, src: &Src, opts: &Options) -> Report {
    let mut sink = Sink::default();
    let format = {
        let mut ctx = vm::Ctx {
            policy: &opts.policy,
            sink: &mut sink,
            member: String::new(),
            limits: &opts.limits,
            nested: 0,
            torch: None,
            torchscript: false,
        };
        container::scan_member(src, &mut ctx, 0)
    };
    let format = if format == "zip" && sink.members.iter().any(|m| m.name.ends_with("data.pkl")) {
        "torch-zip".to_string()
    } else {
        format
    };
    finish(name.to_string(), sink, format)
}

/// Scans bytes held in memory; `name` is only used in the report.
///
/// ```
/// let r = brine_scan::scan_bytes("x", b"\x80\x04K\x01.", &brine_scan::Options::default());
/// assert_eq!(r.verdict, brine_scan::Verdict::Safe);
/// assert_eq!(r.exit_code(), 0);
/// ```
pub fn scan_bytes(name: &str, data: &[u8], opts: &Options) -> Report {
    scan_src(name, &Src::Slice(data), opts)
}

/// Scans a file, reading only what it needs: zip members that are tensor storages are never
/// read, and large pickles are walked in windows.
///
/// ```no_run
/// let r = brine_scan::scan_path("model.pt", &brine_scan::Options::default())?;
/// println!("{}", r.verdict.as_str());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn scan_path(path: impl AsRef<Path>, opts: &Options) -> std::io::Result<Report> {
    let path = path.as_ref();
    let f = File::open(path)?;
    let len = f.metadata()?.len();
    Ok(scan_src(
        &path.display().to_string(),
        &Src::File(&f, len),
        opts,
    ))
}

/// Files under `paths` (directories walked, symlinks not followed), in a stable order.
pub fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    // Paths given by the user are followed; links found inside directories are not.
    let mut work: Vec<(PathBuf, bool)> = paths.iter().rev().map(|p| (p.clone(), true)).collect();
    while let Some((p, top)) = work.pop() {
        let meta = if top {
            std::fs::metadata(&p)
        } else {
            std::fs::symlink_metadata(&p)
        };
        match meta {
            Ok(m) if m.is_dir() => {
                let mut kids: Vec<PathBuf> = std::fs::read_dir(&p)
                    .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                    .unwrap_or_default();
                kids.sort();
                work.extend(kids.into_iter().rev().map(|k| (k, false)));
            }
            Ok(m) if m.is_file() => out.push(p),
            Ok(_) => {}
            Err(_) => out.push(p),
        }
    }
    out
}

/// Scans files and directories in parallel; results come back in input order.
///
/// ```no_run
/// let results = brine_scan::scan_paths(&["models/".into()], &brine_scan::Options::default());
/// for (path, r) in results {
///     println!("{} {:?}", path.display(), r.map(|r| r.verdict));
/// }
/// ```
pub fn scan_paths(paths: &[PathBuf], opts: &Options) -> Vec<(PathBuf, std::io::Result<Report>)> {
    scan_files_with(collect_files(paths), opts, &|_| {})
}

/// Scans these files in parallel, calling `done` (from the worker threads) as each finishes,
/// for progress reporting; results come back in input order.
///
/// ```no_run
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let files = brine_scan::collect_files(&["models/".into()]);
/// let n = AtomicUsize::new(0);
/// let results = brine_scan::scan_files_with(files, &brine_scan::Options::default(), &|_| {
///     n.fetch_add(1, Ordering::Relaxed);
/// });
/// assert_eq!(results.len(), n.into_inner());
/// ```
pub fn scan_files_with(
    files: Vec<PathBuf>,
    opts: &Options,
    done: &(dyn Fn(&Path) + Sync),
) -> Vec<(PathBuf, std::io::Result<Report>)> {
    use rayon::prelude::*;
    files
        .into_par_iter()
        .map(|p| {
            let r = scan_path(&p, opts);
            done(&p);
            (p, r)
        })
        .collect()
}
