//! Turning a global's (module, name) into an object: `find_class` when trusted, the allow-list
//! policy (and the caller's additions) first in safe mode.

use brine_scan::policy::{join, Class};
use std::sync::Arc;

use brine_scan::Options as ScanOptions;
use pyo3::exceptions::PyAttributeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static UNSAFE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static AUDIT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `brine.UnsafePickleError` naming the global, the offset and why, with those as attributes.
pub fn unsafe_error(
    py: Python<'_>,
    global: Option<&str>,
    offset: Option<u64>,
    reason: &str,
) -> PyErr {
    let what = match global {
        Some(g) => format!("global '{g}'"),
        None => "pickle".to_string(),
    };
    let at = match offset {
        Some(o) => format!(" at offset {o}"),
        None => String::new(),
    };
    let msg = format!("{what}{at} is not allowed: {reason}");
    let cls = match UNSAFE_ERROR.import(py, "brine", "UnsafePickleError") {
        Ok(c) => c,
        Err(e) => return e,
    };
    let made = cls.call1((msg,)).and_then(|e| {
        e.setattr("global_name", global)?;
        e.setattr("offset", offset)?;
        e.setattr("reason", reason)?;
        Ok(e)
    });
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// Who decides what a global may resolve to.
pub enum Mode<'py> {
    /// `pickle.loads` semantics: import anything.
    Trusted,
    /// The policy (built-in allow-list plus names given by the caller), then the caller's
    /// `find_class`-like callable for anything else.
    Safe {
        /// The allow-list (with the scan limits the pre-pass used).
        opts: Arc<ScanOptions>,
        /// `allow(module, name)`: returns the object to use, or raises.
        callable: Option<Bound<'py, PyAny>>,
    },
}

/// A [`Mode`] bound to the interpreter.
pub struct Resolver<'py> {
    py: Python<'py>,
    mode: Mode<'py>,
    audit: Bound<'py, PyAny>,
}

impl<'py> Resolver<'py> {
    /// A resolver for `mode`.
    pub fn new(py: Python<'py>, mode: Mode<'py>) -> PyResult<Self> {
        let audit = AUDIT.import(py, "sys", "audit")?.clone();
        Ok(Resolver { py, mode, audit })
    }

    /// Whether every import is allowed.
    pub fn is_trusted(&self) -> bool {
        matches!(self.mode, Mode::Trusted)
    }

    /// The object `module.name` names, if allowed (names are already Python 3 names).
    pub fn find_class(
        &self,
        module: &str,
        name: &str,
        proto: u8,
        offset: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        match &self.mode {
            Mode::Trusted => self.import_global(module, name, proto),
            Mode::Safe { opts, callable } => {
                let why = match opts.policy.classify(module, name) {
                    Class::Allowed(_) => return self.import_global(module, name, proto),
                    Class::Denied(sev, why) => format!("{why} ({})", sev.as_str()),
                    Class::Unknown => "not on the allow-list".to_string(),
                };
                match callable {
                    Some(f) => f.call1((module, name)),
                    None => Err(unsafe_error(
                        self.py,
                        Some(&join(module, name)),
                        Some(offset),
                        &why,
                    )),
                }
            }
        }
    }

    /// `find_class` after the fix_imports mapping (done by the caller): audit, import the
    /// module, then walk the name (dotted at protocol 4+).
    fn import_global(&self, module: &str, name: &str, proto: u8) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        self.audit
            .call1((intern!(py, "pickle.find_class"), module, name))?;
        let m = py.import(module)?.into_any();
        if proto < 4 {
            return m.getattr(name);
        }
        if name.split('.').any(|s| s == "<locals>") {
            return Err(PyAttributeError::new_err(format!(
                "Can't get local attribute {name:?} on {}",
                m.repr().map(|r| r.to_string()).unwrap_or_default()
            )));
        }
        let mut obj = m;
        for seg in name.split('.') {
            obj = match obj.getattr(seg) {
                Ok(o) => o,
                Err(_) => {
                    return Err(PyAttributeError::new_err(format!(
                        "Can't get attribute {name:?} on {}",
                        py.import(module)?.repr()?
                    )))
                }
            };
        }
        Ok(obj)
    }
}
