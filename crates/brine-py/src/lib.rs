//! brine for Python: the `brine._brine` extension module — a policy-checked unpickler written
//! in Rust, the scanner, and the ML readers. The `brine` package (python/brine) wraps it.
#![deny(missing_docs)]

mod machine;
mod resolve;

use brine_scan::{Options as ScanOptions, Verdict};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyString};

use machine::{Machine, Options};
use resolve::{unsafe_error, Mode, Resolver};

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
        let mut policy = brine_scan::Policy::builtin();
        let mut callable = None;
        if let Some(a) = allow {
            if a.is_callable() {
                callable = Some(a);
            } else if let Ok(s) = a.cast::<PyString>() {
                policy.allow(&s.to_cow()?);
            } else {
                for name in a.try_iter()? {
                    policy.allow(&name?.extract::<String>()?);
                }
            }
        }
        prescan(py, bytes, &policy, callable.is_some())?;
        Mode::Safe {
            policy: Box::new(policy),
            callable,
        }
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
fn prescan(
    py: Python<'_>,
    data: &[u8],
    policy: &brine_scan::Policy,
    has_callable: bool,
) -> PyResult<()> {
    let opts = ScanOptions {
        policy: policy.clone(),
        ..ScanOptions::default()
    };
    let report = brine_scan::scan_bytes("<bytes>", data, &opts);
    if report.verdict != Verdict::Unsafe {
        return Ok(());
    }
    let fatal = report
        .findings
        .iter()
        .find(|f| f.verdict == Verdict::Unsafe && !(has_callable && GLOBAL_RULES.contains(&f.rule)));
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
    serde_json::to_string(&report).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// The extension module.
#[pymodule]
fn _brine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_loads, m)?)?;
    m.add_function(wrap_pyfunction!(_scan_json, m)?)?;
    Ok(())
}
