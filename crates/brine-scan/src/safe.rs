//! Safe loading: decode a pickle with brine's reader only when the scanner calls it SAFE.
//!
//! brine's reader never runs code, but the graph it returns is what a Python program would
//! rebuild; code that hands it on (or re-pickles it) should refuse what the scanner would not
//! call SAFE. The input is read once and the same bytes are scanned and decoded, so a file
//! changed between the two steps cannot slip through.

use std::fmt;
use std::path::Path;

use brine::value::Graph;
use brine::LoadOptions;

use crate::{scan_bytes, Finding, Options, Report, Verdict};

/// Why [`safe_loads`] did not return a graph.
///
/// ```
/// let err = brine_scan::safe_loads(b"cos\nsystem\n(S'true'\ntR.", &brine_scan::Options::default())
///     .unwrap_err();
/// assert_eq!(err.kind(), brine_scan::SafeErrorKind::Refused);
/// assert_eq!(err.finding().and_then(|f| f.callable.as_deref()), Some("os.system"));
/// assert!(err.to_string().starts_with("refused: UNSAFE: os.system"));
/// ```
pub struct SafeError(Box<Inner>);

struct Inner {
    kind: SafeErrorKind,
    report: Option<Report>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    message: String,
}

/// What went wrong, for programs that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SafeErrorKind {
    /// The scanner's verdict was UNSAFE or INCONCLUSIVE.
    Refused,
    /// SAFE, but not a plain (optionally compressed) pickle: a torch zip, npz, safetensors…
    /// which brine-formats reads.
    Unsupported,
    /// SAFE, but brine's reader failed on it.
    Decode,
    /// The file could not be read.
    Io,
}

impl SafeError {
    fn new(kind: SafeErrorKind, report: Option<Report>, message: String) -> SafeError {
        SafeError(Box::new(Inner {
            kind,
            report,
            source: None,
            message,
        }))
    }

    /// The category.
    pub fn kind(&self) -> SafeErrorKind {
        self.0.kind
    }

    /// The scan report (absent for I/O errors).
    pub fn report(&self) -> Option<&Report> {
        self.0.report.as_ref()
    }

    /// The finding that decided a refusal: the worst verdict, then the highest severity.
    pub fn finding(&self) -> Option<&Finding> {
        worst(self.0.report.as_ref()?)
    }
}

fn worst(r: &Report) -> Option<&Finding> {
    r.findings
        .iter()
        .filter(|f| f.verdict != Verdict::Safe)
        .max_by_key(|f| (f.verdict, f.severity, std::cmp::Reverse(f.offset)))
}

impl fmt::Display for SafeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for SafeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafeError({:?}: {})", self.0.kind, self.0.message)
    }
}

impl std::error::Error for SafeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

fn refusal(report: Report) -> SafeError {
    let mut m = format!("refused: {}", report.verdict.as_str());
    if let Some(f) = worst(&report) {
        if let Some(c) = &f.callable {
            m.push_str(&format!(": {c}"));
        }
        if !f.member.is_empty() {
            m.push_str(&format!(" in {}", f.member));
        }
        if let Some(o) = f.offset {
            m.push_str(&format!(" at offset {o}"));
        }
        if let Some(op) = f.opcode {
            m.push_str(&format!(" (opcode {op})"));
        }
        m.push_str(&format!(" [{}]: {}", f.rule, f.message));
    }
    SafeError::new(SafeErrorKind::Refused, Some(report), m)
}

/// Scans `data` and, only if the verdict is SAFE, reads its first pickle with brine's reader.
/// Plain pickles, joblib files and pickles in one compression layer (gzip, zlib, bz2, xz, zstd,
/// lz4) are read; other SAFE containers give [`SafeErrorKind::Unsupported`].
///
/// ```
/// use brine_scan::{safe_loads, Options};
/// // pickle.dumps({'a': [1, 2]}, protocol=2)
/// let g = safe_loads(b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02es.", &Options::default())?;
/// assert_eq!(g.get(g.root().unwrap()).kind_name(), "dict");
/// # Ok::<(), brine_scan::SafeError>(())
/// ```
pub fn safe_loads(data: &[u8], opts: &Options) -> Result<Graph, SafeError> {
    safe_loads_with(data, opts, LoadOptions::default())
}

/// [`safe_loads`] with brine's load options (encoding, limits…).
pub fn safe_loads_with(data: &[u8], opts: &Options, load: LoadOptions) -> Result<Graph, SafeError> {
    let report = scan_bytes("<bytes>", data, opts);
    load_checked(data, report, opts, load)
}

/// Reads the file at `path` once, scans those bytes and, only if SAFE, decodes them.
///
/// ```no_run
/// let g = brine_scan::safe_load_path("data.pkl", &brine_scan::Options::default())?;
/// # Ok::<(), brine_scan::SafeError>(())
/// ```
pub fn safe_load_path(path: impl AsRef<Path>, opts: &Options) -> Result<Graph, SafeError> {
    let path = path.as_ref();
    let data = std::fs::read(path).map_err(|e| {
        let mut err = SafeError::new(
            SafeErrorKind::Io,
            None,
            format!("cannot read {}: {e}", path.display()),
        );
        err.0.source = Some(Box::new(e));
        err
    })?;
    let report = scan_bytes(&path.display().to_string(), &data, opts);
    load_checked(&data, report, opts, LoadOptions::default())
}

fn load_checked(
    data: &[u8],
    report: Report,
    opts: &Options,
    load: LoadOptions,
) -> Result<Graph, SafeError> {
    if report.verdict != Verdict::Safe {
        return Err(refusal(report));
    }
    let decoded;
    let bytes: &[u8] = match report.format.split_once('+') {
        None if report.format == "pickle" => data,
        Some((_, "pickle")) => {
            let limits = brine_core::Limits {
                max_decompressed: opts.limits.max_decompressed,
                max_ratio: opts.limits.max_ratio,
                ..brine_core::Limits::default()
            };
            match brine_formats::decompress(data, &limits) {
                Ok(d) => {
                    decoded = d;
                    &decoded
                }
                Err(e) => {
                    let mut err = SafeError::new(
                        SafeErrorKind::Decode,
                        Some(report),
                        format!("cannot decompress: {e}"),
                    );
                    err.0.source = Some(Box::new(e));
                    return Err(err);
                }
            }
        }
        _ => {
            let m = format!(
                "not a plain pickle ({}): read it with brine-formats",
                report.format
            );
            return Err(SafeError::new(SafeErrorKind::Unsupported, Some(report), m));
        }
    };
    // joblib files are read with the default limits (LoadOptions does not expose its own).
    let limits = brine_core::Limits::default();
    brine::loads_with(bytes, load)
        .or_else(|e| {
            // joblib: raw array buffers follow NumpyArrayWrapper records inside the stream.
            brine_formats::joblib::loads(bytes, &limits).map_err(|_| e)
        })
        .map_err(|e| {
            let mut err = SafeError::new(SafeErrorKind::Decode, Some(report), e.to_string());
            err.0.source = Some(Box::new(e));
            err
        })
}
