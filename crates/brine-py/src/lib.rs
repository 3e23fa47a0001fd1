//! brine for Python: the `brine._brine` extension module — a policy-checked unpickler written
//! in Rust, the scanner, and the ML readers. The `brine` package (python/brine) wraps it.
#![deny(missing_docs)]

mod machine;
mod resolve;
mod tensors;

use std::sync::{Arc, OnceLock};

use brine_scan::{Options as ScanOptions, Verdict};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyString};

use machine::{Machine, Options};
use resolve::{unsafe_error, Mode, Resolver};

/// The built-in policy and scan limits.
static BUILTIN: OnceLock<Arc<ScanOptions>> = OnceLock::new();

/// Rules whose findings depend on which globals are allowed: with an `allow` callable (which
/// the scan cannot consult), the callable decides about each global when it is resolved, and
/// calls or item assignments on what it returned are the caller's choice.
const GLOBAL_RULES: &[&str] = &[
    "unknown-global",
    "denied-global",
    "unresolved-call",
    "setitem-target",
    "append-target",
    "additems-target",
];

/// Unpickles `data`; returns the object and the number of bytes the pickle took.
#[pyfunction]
#[pyo3(signature = (data, allow=None, trusted=false, buffers=None, encoding="ASCII", errors="strict", fix_imports=true, persistent_load=None))]
#[allow(clippy::too_many_arguments)]
fn _loads<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyBytes>,
    allow: Option<Bound<'py, PyAny>>,
    trusted: bool,
    buffers: Option<Bound<'py, PyAny>>,
    encoding: &str,
    errors: &str,
    fix_imports: bool,
    persistent_load: Option<Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, usize)> {
    let bytes = data.as_bytes();
    let mode = if trusted {
        Mode::Trusted
    } else {
        let mut opts = None;
        let mut callable = None;
        if let Some(a) = allow {
            if a.is_callable() {
                callable = Some(a);
            } else {
                let mut o = ScanOptions::default();
                if let Ok(s) = a.cast::<PyString>() {
                    o.policy.allow(&s.to_cow()?);
                } else {
                    for name in a.try_iter()? {
                        o.policy.allow(&name?.extract::<String>()?);
                    }
                }
                opts = Some(Arc::new(o));
            }
        }
        // The built-in policy is parsed once per process and shared by every call.
        let opts = opts.unwrap_or_else(|| BUILTIN.get_or_init(Default::default).clone());
        prescan(py, bytes, &opts, callable.is_some())?;
        Mode::Safe { opts, callable }
    };
    let resolver = Resolver::new(py, mode)?;
    let buffers = match buffers {
        Some(b) => Some(PyIterator::from_object(&b)?),
        None => None,
    };
    let opts = Options {
        encoding: encoding.to_owned(),
        errors: errors.to_owned(),
        fix_imports,
        buffers,
        persistent_load,
    };
    Machine::new(py, opts, &resolver).run(bytes)
}

/// The scanner over the bytes before anything is built: the first UNSAFE finding is raised.
fn prescan(py: Python<'_>, data: &[u8], opts: &ScanOptions, has_callable: bool) -> PyResult<()> {
    let report = brine_scan::scan_bytes("<bytes>", data, opts);
    if report.verdict != Verdict::Unsafe {
        return Ok(());
    }
    let fatal = report.findings.iter().find(|f| {
        f.verdict == Verdict::Unsafe && !(has_callable && GLOBAL_RULES.contains(&f.rule))
    });
    match fatal {
        None => Ok(()),
        Some(f) => Err(unsafe_error(
            py,
            f.callable.as_deref(),
            f.offset,
            &format!("{} [{}]", f.message, f.rule),
        )),
    }
}

/// The scanner's report on a file or on bytes, as JSON text.
#[pyfunction]
fn _scan_json(py: Python<'_>, target: &Bound<'_, PyAny>) -> PyResult<String> {
    let opts = ScanOptions::default();
    let report = if let Ok(b) = target.cast::<PyBytes>() {
        let data = b.as_bytes().to_vec();
        py.detach(|| brine_scan::scan_bytes("<bytes>", &data, &opts))
    } else {
        let path: std::path::PathBuf = target.extract()?;
        py.detach(|| brine_scan::scan_path(&path, &opts))?
    };
    serde_json::to_string(&report)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// The arrays of an ML file: `(format, [(name, dtype, torch_dtype, shape, fortran, offset,
/// data)])`, `offset` for arrays to memory-map from the file, `data` for copied ones.
#[pyfunction]
fn _tensors(
    py: Python<'_>,
    path: std::path::PathBuf,
) -> PyResult<(&'static str, Vec<tensors::Row<'_>>)> {
    let (kind, items) = py.detach(|| tensors::read(&path))?;
    Ok((kind, items.into_iter().map(|i| i.into_row(py)).collect()))
}

/// Rewrites every pickle of `src` (compressed or not) at `protocol` into `dst`, through the
/// value graph as `brine convert` does: nothing is imported or run.
#[pyfunction]
fn _convert(
    py: Python<'_>,
    src: std::path::PathBuf,
    dst: std::path::PathBuf,
    protocol: u8,
) -> PyResult<()> {
    py.detach(|| convert(&src, &dst, protocol))
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

fn convert(src: &std::path::Path, dst: &std::path::Path, protocol: u8) -> Result<(), String> {
    use brine::{DumpOptions, LoadOptions, Pickler, Unpickler};
    let limits = brine::Limits::default();
    let raw = std::fs::read(src).map_err(|e| format!("cannot read {}: {e}", src.display()))?;
    let data = brine_formats::decompress(&raw, &limits).map_err(|e| e.to_string())?;
    let mut unpickler = Unpickler::new(&data, LoadOptions::new().limits(limits.clone()));
    let mut roots = Vec::new();
    loop {
        unpickler.clear_memo();
        roots.push(unpickler.load().map_err(|e| e.to_string())?);
        if unpickler.at_end() {
            break;
        }
    }
    let graph = unpickler.into_graph();
    let opts = DumpOptions::new().protocol(protocol).limits(limits);
    let mut pickler = Pickler::new(Vec::new(), opts);
    for &root in &roots {
        pickler.clear_memo();
        pickler.dump(&graph, root).map_err(|e| e.to_string())?;
    }
    std::fs::write(dst, pickler.into_inner())
        .map_err(|e| format!("cannot write {}: {e}", dst.display()))
}

/// The extension module.
#[pymodule]
fn _brine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_loads, m)?)?;
    m.add_function(wrap_pyfunction!(_scan_json, m)?)?;
    m.add_function(wrap_pyfunction!(_tensors, m)?)?;
    m.add_function(wrap_pyfunction!(_convert, m)?)?;
    Ok(())
}
