//! The unpickling machine: brine-core's instruction stream executed onto a stack of Python
//! objects, with the semantics (and the exceptions) of CPython's C unpickler.
//!
//! Globals go through a [`Resolver`]: `find_class` itself in trusted mode, the policy check
//! first in safe mode. Nothing here recurses on input depth: the stack, the marks and the memo
//! are plain vectors, and every declared length was already checked by the decoder against
//! the bytes actually present.

use std::collections::HashMap;

use brine_core::text::{self, IntText, TextError, TextErrorKind};
use brine_core::{Arg, Category, Decoder, ErrorCode, Limits, Opcode, SliceRead};
use pyo3::exceptions::{
    PyEOFError, PyOverflowError, PyTypeError, PyUnicodeDecodeError, PyValueError,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyIterator, PyList, PyMemoryView,
    PySet, PyString, PyTuple, PyType,
};

use crate::resolve::Resolver;

/// Memo indices below this live in a vector; larger (sparse, hostile) ones in a map, so a
/// `LONG_BINPUT 0xffffffff` costs one entry, not four billion.
const DENSE_MEMO: usize = 1 << 20;

static UNPICKLING_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `pickle.UnpicklingError` with `msg`.
pub fn unpickling_error(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    let msg = msg.into();
    match UNPICKLING_ERROR.import(py, "pickle", "UnpicklingError") {
        Ok(t) => PyErr::from_type(t.clone(), msg),
        Err(e) => e,
    }
}

/// How strings of Python 2 pickles (`STRING`, `BINSTRING`, `SHORT_BINSTRING`) are decoded.
pub struct Options<'py> {
    /// Codec name, or `bytes` to keep them as bytes.
    pub encoding: String,
    /// Codec error handler.
    pub errors: String,
    /// Map Python 2 names to Python 3 ones for protocols < 3.
    pub fix_imports: bool,
    /// Iterator over out-of-band buffers (`NEXT_BUFFER`), if any were given.
    pub buffers: Option<Bound<'py, PyIterator>>,
    /// Called with each persistent id.
    pub persistent_load: Option<Bound<'py, PyAny>>,
}

/// The memo: dense for small indices, sparse above. `len` counts occupied slots, which is
/// what `MEMOIZE` uses as the next index (as CPython's `memo_len`).
#[derive(Default)]
struct Memo<'py> {
    dense: Vec<Option<Bound<'py, PyAny>>>,
    sparse: HashMap<usize, Bound<'py, PyAny>>,
    len: usize,
}

impl<'py> Memo<'py> {
    fn get(&self, i: usize) -> Option<&Bound<'py, PyAny>> {
        if i < DENSE_MEMO {
            self.dense.get(i).and_then(|o| o.as_ref())
        } else {
            self.sparse.get(&i)
        }
    }

    fn put(&mut self, i: usize, v: Bound<'py, PyAny>) {
        let fresh = if i < DENSE_MEMO {
            if i >= self.dense.len() {
                self.dense.resize_with(i + 1, || None);
            }
            self.dense[i].replace(v).is_none()
        } else {
            self.sparse.insert(i, v).is_none()
        };
        if fresh {
            self.len += 1;
        }
    }
}

/// One unpickling run over a byte slice.
pub struct Machine<'py, 'a> {
    py: Python<'py>,
    stack: Vec<Bound<'py, PyAny>>,
    marks: Vec<usize>,
    memo: Memo<'py>,
    proto: u8,
    opts: Options<'py>,
    resolver: &'a Resolver<'py>,
    /// Offset of the instruction being executed (for policy errors).
    offset: u64,
}

type R<T> = PyResult<T>;

impl<'py, 'a> Machine<'py, 'a> {
    /// A machine with empty stack and memo.
    pub fn new(py: Python<'py>, opts: Options<'py>, resolver: &'a Resolver<'py>) -> Self {
        Machine {
            py,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Memo::default(),
            proto: 0,
            opts,
            resolver,
            offset: 0,
        }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    #[cold]
    fn underflow(&self) -> PyErr {
        if self.marks.is_empty() {
            unpickling_error(self.py, "unpickling stack underflow")
        } else {
            unpickling_error(self.py, "unexpected MARK found")
        }
    }

    fn pop(&mut self) -> R<Bound<'py, PyAny>> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        self.stack.pop().ok_or_else(|| self.underflow())
    }

    fn top(&self) -> R<&Bound<'py, PyAny>> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        self.stack.last().ok_or_else(|| self.underflow())
    }

    /// Pops the topmost mark (CPython's `marker`).
    fn marker(&mut self) -> R<usize> {
        self.marks
            .pop()
            .ok_or_else(|| unpickling_error(self.py, "could not find MARK"))
    }

    /// The items from `start` to the top, removed from the stack.
    fn pop_from(&mut self, start: usize) -> R<Vec<Bound<'py, PyAny>>> {
        if start < self.fence() || start > self.stack.len() {
            return Err(self.underflow());
        }
        Ok(self.stack.split_off(start))
    }

    fn pop_tuple(&mut self, start: usize) -> R<Bound<'py, PyTuple>> {
        let items = self.pop_from(start)?;
        PyTuple::new(self.py, items)
    }

    fn push(&mut self, v: Bound<'py, PyAny>) {
        self.stack.push(v);
    }

    /// Runs until STOP and returns the object on top, with the number of bytes consumed.
    pub fn run(&mut self, data: &[u8]) -> R<(Bound<'py, PyAny>, usize)> {
        let limits = Limits {
            // The line is already in memory: a long UNICODE line is valid data.
            max_line: usize::MAX,
            ..Limits::default()
        };
        let mut dec = Decoder::with_read(SliceRead::new(data), limits);
        loop {
            let ins = match dec.next_instruction() {
                Ok(Some(ins)) => ins,
                Ok(None) => return Err(PyEOFError::new_err("Ran out of input")),
                Err(e) => return Err(decode_error(self.py, &e)),
            };
            self.offset = ins.offset;
            if ins.op == Opcode::STOP {
                let v = self.pop()?;
                return Ok((v, dec.offset() as usize));
            }
            self.step(ins.op, &ins.arg)?;
        }
    }

    /// Executes one instruction.
    fn step(&mut self, op: Opcode, arg: &Arg<'_, '_>) -> R<()> {
        let py = self.py;
        match op {
            Opcode::PROTO => {
                let p = arg.int();
                if p > brine_core::HIGHEST_PROTOCOL as i64 {
                    return Err(PyValueError::new_err(format!(
                        "unsupported pickle protocol: {p}"
                    )));
                }
                self.proto = p as u8;
            }
            Opcode::FRAME => {}
            Opcode::MARK => self.marks.push(self.stack.len()),
            Opcode::POP => {
                let len = self.stack.len();
                if self.marks.last() == Some(&len) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            Opcode::POP_MARK => {
                let i = self.marker()?;
                self.stack.truncate(i);
            }
            Opcode::DUP => {
                let v = self.top()?.clone();
                self.push(v);
            }
            Opcode::NONE => self.push(py.None().into_bound(py)),
            Opcode::NEWTRUE => self.push(PyBool::new(py, true).to_owned().into_any()),
            Opcode::NEWFALSE => self.push(PyBool::new(py, false).to_owned().into_any()),
            Opcode::INT => {
                let d = line(py, arg)?;
                let v = text::parse_int_line(d, text::INT_MAX_STR_DIGITS)
                    .map_err(|e| text_error(py, &e, d))?;
                let v = int_text(py, v)?;
                self.push(v);
            }
            Opcode::LONG => {
                let d = line(py, arg)?;
                let v = text::parse_long_line(d, text::INT_MAX_STR_DIGITS)
                    .map_err(|e| text_error(py, &e, d))?;
                let v = int_text(py, v)?;
                self.push(v);
            }
            Opcode::BININT | Opcode::BININT1 | Opcode::BININT2 => {
                self.push(arg.int().into_pyobject(py)?.into_any())
            }
            Opcode::LONG1 | Opcode::LONG4 => {
                let v = long_bytes(py, arg.data())?;
                self.push(v);
            }
            Opcode::FLOAT => {
                let d = line(py, arg)?;
                let f = text::parse_float(d).map_err(|e| text_error(py, &e, d))?;
                self.push(PyFloat::new(py, f).into_any());
            }
            Opcode::BINFLOAT => {
                let f = match arg {
                    Arg::Float(f) => *f,
                    _ => 0.0,
                };
                self.push(PyFloat::new(py, f).into_any());
            }
            Opcode::STRING => {
                let d = line(py, arg)?;
                let raw = text::decode_string_escape(d).map_err(|e| text_error(py, &e, d))?;
                let v = self.py2_string(&raw)?;
                self.push(v);
            }
            Opcode::BINSTRING | Opcode::SHORT_BINSTRING => {
                let v = self.py2_string(arg.data())?;
                self.push(v);
            }
            Opcode::BINBYTES | Opcode::SHORT_BINBYTES | Opcode::BINBYTES8 => {
                self.push(PyBytes::new(py, arg.data()).into_any())
            }
            Opcode::BYTEARRAY8 => self.push(PyByteArray::new(py, arg.data()).into_any()),
            Opcode::UNICODE => {
                let d = arg.data();
                let v = if d.is_ascii() && !d.contains(&b'\\') {
                    PyString::from_bytes(py, d)?.into_any()
                } else {
                    PyBytes::new(py, d)
                        .call_method1(intern!(py, "decode"), (intern!(py, "raw-unicode-escape"),))?
                };
                self.push(v);
            }
            Opcode::BINUNICODE | Opcode::SHORT_BINUNICODE | Opcode::BINUNICODE8 => {
                let v = utf8(py, arg.data())?;
                self.push(v);
            }
            Opcode::EMPTY_TUPLE => self.push(PyTuple::empty(py).into_any()),
            Opcode::TUPLE => {
                let i = self.marker()?;
                let t = self.pop_tuple(i)?;
                self.push(t.into_any());
            }
            Opcode::TUPLE1 | Opcode::TUPLE2 | Opcode::TUPLE3 => {
                let n = match op {
                    Opcode::TUPLE1 => 1,
                    Opcode::TUPLE2 => 2,
                    _ => 3,
                };
                if self.stack.len() < n {
                    return Err(self.underflow());
                }
                let t = self.pop_tuple(self.stack.len() - n)?;
                self.push(t.into_any());
            }
            Opcode::EMPTY_LIST => self.push(PyList::empty(py).into_any()),
            Opcode::LIST => {
                let i = self.marker()?;
                let items = self.pop_from(i)?;
                self.push(PyList::new(py, items)?.into_any());
            }
            Opcode::EMPTY_DICT => self.push(PyDict::new(py).into_any()),
            Opcode::DICT => {
                let i = self.marker()?;
                let items = self.pop_from(i)?;
                if items.len() % 2 != 0 {
                    return Err(unpickling_error(py, "odd number of items for DICT"));
                }
                let d = PyDict::new(py);
                for kv in items.chunks_exact(2) {
                    d.set_item(&kv[0], &kv[1])?;
                }
                self.push(d.into_any());
            }
            Opcode::EMPTY_SET => self.push(PySet::empty(py)?.into_any()),
            Opcode::FROZENSET => {
                let i = self.marker()?;
                let items = self.pop_from(i)?;
                self.push(PyFrozenSet::new(py, items)?.into_any());
            }
            Opcode::APPEND => self.append(self.stack.len().wrapping_sub(1))?,
            Opcode::APPENDS => {
                let i = self.marker()?;
                self.append(i)?;
            }
            Opcode::SETITEM => self.setitems(self.stack.len().wrapping_sub(2))?,
            Opcode::SETITEMS => {
                let i = self.marker()?;
                self.setitems(i)?;
            }
            Opcode::ADDITEMS => self.additems()?,
            Opcode::GET => {
                let d = line(py, arg)?;
                let i = memo_index_line(py, d, "GET")?;
                self.get(i)?;
            }
            Opcode::BINGET | Opcode::LONG_BINGET => self.get(arg.int())?,
            Opcode::PUT => {
                let d = line(py, arg)?;
                let v = self.top()?.clone();
                let i = memo_index_line(py, d, "PUT")?;
                if i < 0 {
                    return Err(PyValueError::new_err("negative PUT argument"));
                }
                self.memo.put(i as usize, v);
            }
            Opcode::BINPUT | Opcode::LONG_BINPUT => {
                let v = self.top()?.clone();
                self.memo.put(arg.int() as usize, v);
            }
            Opcode::MEMOIZE => {
                let v = self.top()?.clone();
                self.memo.put(self.memo.len, v);
            }
            Opcode::GLOBAL => {
                let (m, n) = pair(py, arg)?;
                let (m, n) = (utf8_str(py, m)?, utf8_str(py, n)?);
                let v = self.find_class(&m, &n)?;
                self.push(v);
            }
            Opcode::STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Ok(m), Ok(n)) = (
                    module.cast_exact::<PyString>(),
                    name.cast_exact::<PyString>(),
                ) else {
                    return Err(unpickling_error(py, "STACK_GLOBAL requires str"));
                };
                let (m, n) = (m.to_cow()?.into_owned(), n.to_cow()?.into_owned());
                let v = self.find_class(&m, &n)?;
                self.push(v);
            }
            Opcode::INST => {
                let i = self.marker()?;
                let (m, n) = pair(py, arg)?;
                let (m, n) = (ascii_str(py, m)?, ascii_str(py, n)?);
                let cls = self.find_class(&m, &n)?;
                let args = self.pop_tuple(i)?;
                let v = instantiate(py, &cls, &args)?;
                self.push(v);
            }
            Opcode::OBJ => {
                let i = self.marker()?;
                if self.stack.len() < i + 1 {
                    return Err(self.underflow());
                }
                let args = self.pop_tuple(i + 1)?;
                let cls = self.pop()?;
                let v = instantiate(py, &cls, &args)?;
                self.push(v);
            }
            Opcode::EXT1 | Opcode::EXT2 | Opcode::EXT4 => {
                let v = self.extension(arg.int())?;
                self.push(v);
            }
            Opcode::REDUCE => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let Ok(args) = args.cast::<PyTuple>() else {
                    return Err(PyTypeError::new_err("argument list must be a tuple"));
                };
                let v = callable.call1(args)?;
                self.push(v);
            }
            Opcode::NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                let Ok(args) = args.cast_into::<PyTuple>() else {
                    return Err(unpickling_error(py, "NEWOBJ expected an arg tuple."));
                };
                if !cls.is_instance_of::<PyType>() {
                    return Err(unpickling_error(
                        py,
                        "NEWOBJ class argument isn't a type object",
                    ));
                }
                let v = new_instance(py, &cls, &args, None)?;
                self.push(v);
            }
            Opcode::NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                if !cls.is_instance_of::<PyType>() {
                    return Err(unpickling_error(
                        py,
                        format!(
                            "NEWOBJ_EX class argument must be a type, not {}",
                            type_name(&cls)
                        ),
                    ));
                }
                let Ok(args) = args.cast_into::<PyTuple>() else {
                    return Err(unpickling_error(
                        py,
                        "NEWOBJ_EX args argument must be a tuple",
                    ));
                };
                let Ok(kwargs) = kwargs.cast_into::<PyDict>() else {
                    return Err(unpickling_error(
                        py,
                        "NEWOBJ_EX kwargs argument must be a dict",
                    ));
                };
                let v = new_instance(py, &cls, &args, Some(&kwargs))?;
                self.push(v);
            }
            Opcode::BUILD => self.build()?,
            Opcode::PERSID => {
                let d = arg.data();
                let pid = ascii_str(py, d)?;
                let v = self.persistent(PyString::new(py, &pid).into_any())?;
                self.push(v);
            }
            Opcode::BINPERSID => {
                let pid = self.pop()?;
                let v = self.persistent(pid)?;
                self.push(v);
            }
            Opcode::NEXT_BUFFER => {
                let Some(it) = &self.opts.buffers else {
                    return Err(unpickling_error(
                        py,
                        "pickle stream refers to out-of-band data but no *buffers* argument was given",
                    ));
                };
                let v = match it.clone().next() {
                    Some(v) => v?,
                    None => return Err(unpickling_error(py, "not enough out-of-band buffers")),
                };
                self.push(v);
            }
            Opcode::READONLY_BUFFER => {
                let obj = self.top()?.clone();
                let view = PyMemoryView::from(&obj)?;
                let ro: bool = view.getattr(intern!(py, "readonly"))?.extract()?;
                if !ro {
                    let v = view.call_method0(intern!(py, "toreadonly"))?;
                    if let Some(t) = self.stack.last_mut() {
                        *t = v;
                    }
                }
            }
            Opcode::STOP => {}
        }
        Ok(())
    }

    fn find_class(&self, module: &str, name: &str) -> R<Bound<'py, PyAny>> {
        let (m, n) = if self.proto < 3 && self.opts.fix_imports {
            let (m, n) = brine_core::compat::py2_to_py3(module, name);
            (m.into_owned(), n.into_owned())
        } else {
            (module.to_owned(), name.to_owned())
        };
        self.resolver.find_class(&m, &n, self.proto, self.offset)
    }

    fn get(&mut self, i: i64) -> R<()> {
        let v = usize::try_from(i)
            .ok()
            .and_then(|i| self.memo.get(i))
            .cloned();
        match v {
            Some(v) => {
                self.push(v);
                Ok(())
            }
            None => Err(unpickling_error(
                self.py,
                format!("Memo value not found at index {i}"),
            )),
        }
    }

    /// APPEND / APPENDS onto `stack[x - 1]`.
    fn append(&mut self, x: usize) -> R<()> {
        let len = self.stack.len();
        if x > len || x <= self.fence() {
            return Err(self.underflow());
        }
        if x == len {
            return Ok(());
        }
        let target = self.stack[x - 1].clone();
        if let Ok(list) = target.cast_exact::<PyList>() {
            for v in self.stack.drain(x..) {
                list.append(v)?;
            }
            return Ok(());
        }
        let py = self.py;
        if let Some(extend) = target.getattr_opt(intern!(py, "extend"))? {
            let items = self.pop_from(x)?;
            extend.call1((PyList::new(py, items)?,))?;
        } else {
            // PEP 307 asks for extend(); objects with only append() are still accepted.
            let append = target.getattr(intern!(py, "append"))?;
            let items = self.pop_from(x)?;
            for v in items {
                append.call1((v,))?;
            }
        }
        Ok(())
    }

    /// SETITEM / SETITEMS onto `stack[x - 1]`.
    fn setitems(&mut self, x: usize) -> R<()> {
        let len = self.stack.len();
        if x > len || x <= self.fence() {
            return Err(self.underflow());
        }
        if x == len {
            return Ok(());
        }
        if (len - x) % 2 != 0 {
            return Err(unpickling_error(
                self.py,
                "odd number of items for SETITEMS",
            ));
        }
        let target = self.stack[x - 1].clone();
        let items = self.pop_from(x)?;
        if let Ok(d) = target.cast_exact::<PyDict>() {
            for kv in items.chunks_exact(2) {
                d.set_item(&kv[0], &kv[1])?;
            }
        } else {
            for kv in items.chunks_exact(2) {
                target.set_item(&kv[0], &kv[1])?;
            }
        }
        Ok(())
    }

    fn additems(&mut self) -> R<()> {
        let mark = self.marker()?;
        let len = self.stack.len();
        if mark > len || mark <= self.fence() {
            return Err(self.underflow());
        }
        if mark == len {
            return Ok(());
        }
        let target = self.stack[mark - 1].clone();
        let py = self.py;
        if let Ok(set) = target.cast::<PySet>() {
            for v in self.pop_from(mark)? {
                set.add(v)?;
            }
        } else {
            let add = target.getattr(intern!(py, "add"))?;
            for v in self.pop_from(mark)? {
                add.call1((v,))?;
            }
        }
        Ok(())
    }

    fn build(&mut self) -> R<()> {
        let py = self.py;
        if self.stack.len() < self.fence() + 2 {
            return Err(self.underflow());
        }
        let state = self.pop()?;
        let inst = self.top()?.clone();
        if let Some(setstate) = inst.getattr_opt(intern!(py, "__setstate__"))? {
            setstate.call1((state,))?;
            return Ok(());
        }
        // The default __setstate__: a (dict, slots) pair or a dict.
        let (state, slots) = match state.cast::<PyTuple>() {
            Ok(t) if t.len() == 2 => (t.get_item(0)?, Some(t.get_item(1)?)),
            _ => (state, None),
        };
        if !state.is_none() {
            let Ok(d) = state.cast::<PyDict>() else {
                return Err(unpickling_error(py, "state is not a dictionary"));
            };
            let dict = inst.getattr(intern!(py, "__dict__"))?;
            // A snapshot: a hostile __dict__ may alias the state dict.
            for item in d.items() {
                let (k, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
                let k = match k.cast_exact::<PyString>() {
                    Ok(s) => match s.to_str() {
                        Ok(s) => PyString::intern(py, s).into_any(),
                        Err(_) => k.clone(),
                    },
                    Err(_) => k.clone(),
                };
                dict.set_item(k, v)?;
            }
        }
        if let Some(slots) = slots {
            let Ok(d) = slots.cast::<PyDict>() else {
                return Err(unpickling_error(py, "slot state is not a dictionary"));
            };
            for item in d.items() {
                let (k, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
                inst.setattr(k.cast_into::<PyString>()?, v)?;
            }
        }
        Ok(())
    }

    fn persistent(&self, pid: Bound<'py, PyAny>) -> R<Bound<'py, PyAny>> {
        match &self.opts.persistent_load {
            Some(f) => f.call1((pid,)),
            None => Err(unpickling_error(
                self.py,
                "A load persistent id instruction was encountered, but no persistent_load function was specified.",
            )),
        }
    }

    /// EXT1/2/4: copyreg's inverted registry, then `find_class` (its cache only when trusted,
    /// since a cached object skipped the policy).
    fn extension(&self, code: i64) -> R<Bound<'py, PyAny>> {
        let py = self.py;
        if code <= 0 {
            return Err(unpickling_error(py, "EXT specifies code <= 0"));
        }
        let copyreg = py.import(intern!(py, "copyreg"))?;
        let key = code.into_pyobject(py)?;
        let cache = copyreg.getattr(intern!(py, "_extension_cache"))?;
        let trusted = self.resolver.is_trusted();
        if trusted {
            if let Some(v) = cache.cast::<PyDict>()?.get_item(&key)? {
                return Ok(v);
            }
        }
        let inv = copyreg.getattr(intern!(py, "_inverted_registry"))?;
        let Some(pair) = inv.cast::<PyDict>()?.get_item(&key)? else {
            return Err(PyValueError::new_err(format!(
                "unregistered extension code {code}"
            )));
        };
        let bad = || {
            PyValueError::new_err(format!(
                "_inverted_registry[{code}] isn't a 2-tuple of strings"
            ))
        };
        let Ok(t) = pair.cast::<PyTuple>() else {
            return Err(bad());
        };
        if t.len() != 2 {
            return Err(bad());
        }
        let (Ok(m), Ok(n)) = (
            t.get_item(0)?.extract::<String>(),
            t.get_item(1)?.extract::<String>(),
        ) else {
            return Err(bad());
        };
        let v = self.resolver.find_class(&m, &n, self.proto, self.offset)?;
        if trusted {
            cache.set_item(key, &v)?;
        }
        Ok(v)
    }

    /// Python 2 `str` data, decoded as `encoding` says.
    fn py2_string(&self, raw: &[u8]) -> R<Bound<'py, PyAny>> {
        let py = self.py;
        let enc = self.opts.encoding.as_str();
        if enc == "bytes" {
            return Ok(PyBytes::new(py, raw).into_any());
        }
        if raw.is_ascii()
            && self.opts.errors == "strict"
            && (enc.eq_ignore_ascii_case("ascii") || enc.eq_ignore_ascii_case("utf-8"))
        {
            return Ok(PyString::from_bytes(py, raw)?.into_any());
        }
        PyBytes::new(py, raw).call_method1(intern!(py, "decode"), (enc, self.opts.errors.as_str()))
    }
}

/// `cls.__new__(cls, *args, **kwargs)`, as the type's `tp_new` would be called.
fn new_instance<'py>(
    py: Python<'py>,
    cls: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> R<Bound<'py, PyAny>> {
    let new = cls.getattr(intern!(py, "__new__"))?;
    let mut all = Vec::with_capacity(args.len() + 1);
    all.push(cls.clone());
    all.extend(args.iter());
    new.call(PyTuple::new(py, all)?, kwargs)
}

/// INST / OBJ: `cls(*args)`, or `cls.__new__(cls)` for a class without arguments and without
/// `__getinitargs__` (how Python 2 classic instances were rebuilt).
fn instantiate<'py>(
    py: Python<'py>,
    cls: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
) -> R<Bound<'py, PyAny>> {
    if args.is_empty()
        && cls.is_instance_of::<PyType>()
        && cls.getattr_opt(intern!(py, "__getinitargs__"))?.is_none()
    {
        return cls.call_method1(intern!(py, "__new__"), (cls,));
    }
    cls.call1(args)
}

fn type_name(o: &Bound<'_, PyAny>) -> String {
    o.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A text-line argument; an empty line is truncated data, as in CPython (`len < 2`).
fn line<'b>(py: Python<'_>, arg: &'b Arg<'_, '_>) -> R<&'b [u8]> {
    let d = arg.data();
    if d.is_empty() {
        return Err(unpickling_error(py, "pickle data was truncated"));
    }
    Ok(d)
}

fn pair<'b>(py: Python<'_>, arg: &'b Arg<'_, '_>) -> R<(&'b [u8], &'b [u8])> {
    let (m, n) = arg.pair();
    if m.is_empty() || n.is_empty() {
        return Err(unpickling_error(py, "pickle data was truncated"));
    }
    Ok((m, n))
}

fn utf8_str(py: Python<'_>, b: &[u8]) -> R<String> {
    match std::str::from_utf8(b) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => Err(PyString::from_bytes(py, b)
            .err()
            .unwrap_or_else(|| PyUnicodeDecodeError::new_err("invalid utf-8"))),
    }
}

fn ascii_str(py: Python<'_>, b: &[u8]) -> R<String> {
    if b.is_ascii() {
        return utf8_str(py, b);
    }
    match PyBytes::new(py, b).call_method1(intern!(py, "decode"), ("ascii",)) {
        Err(e) => Err(e),
        Ok(_) => Err(PyUnicodeDecodeError::new_err("non-ascii name")),
    }
}

/// UTF-8 with lone surrogates allowed (`surrogatepass`), as pickle writes them.
fn utf8<'py>(py: Python<'py>, b: &[u8]) -> R<Bound<'py, PyAny>> {
    match PyString::from_bytes(py, b) {
        Ok(s) => Ok(s.into_any()),
        Err(_) => PyBytes::new(py, b).call_method1(
            intern!(py, "decode"),
            (intern!(py, "utf-8"), intern!(py, "surrogatepass")),
        ),
    }
}

/// LONG1 / LONG4: little-endian two's complement.
fn long_bytes<'py>(py: Python<'py>, d: &[u8]) -> R<Bound<'py, PyAny>> {
    if d.len() <= 8 {
        let mut buf = if d.last().is_some_and(|&b| b & 0x80 != 0) {
            [0xffu8; 8]
        } else {
            [0u8; 8]
        };
        buf[..d.len()].copy_from_slice(d);
        return Ok(i64::from_le_bytes(buf).into_pyobject(py)?.into_any());
    }
    Ok(num_bigint::BigInt::from_signed_bytes_le(d)
        .into_pyobject(py)?
        .into_any())
}

fn int_text<'py>(py: Python<'py>, v: IntText) -> R<Bound<'py, PyAny>> {
    Ok(match v {
        IntText::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        IntText::Small(i) => i.into_pyobject(py)?.into_any(),
        IntText::Big {
            negative,
            magnitude_le,
        } => {
            let mag = num_bigint::BigUint::from_bytes_le(&magnitude_le);
            let sign = if negative {
                num_bigint::Sign::Minus
            } else {
                num_bigint::Sign::Plus
            };
            num_bigint::BigInt::from_biguint(sign, mag)
                .into_pyobject(py)?
                .into_any()
        }
        #[allow(unreachable_patterns)]
        _ => return Err(PyValueError::new_err("unsupported integer text")),
    })
}

/// GET / PUT line: a base-10 integer, as `int(line)` reads it.
fn memo_index_line(py: Python<'_>, d: &[u8], op: &str) -> R<i64> {
    let Ok(s) = std::str::from_utf8(d) else {
        // CPython's message decodes the text: its UnicodeDecodeError comes first.
        return Err(PyString::from_bytes(py, d)
            .err()
            .unwrap_or_else(|| PyValueError::new_err("invalid literal for int()")));
    };
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    if let Ok(v) = t.parse::<i64>() {
        return Ok(v);
    }
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // A valid integer, but out of range: CPython fails converting it to Py_ssize_t.
        return Err(PyOverflowError::new_err(format!(
            "{op} argument out of range"
        )));
    }
    Err(PyValueError::new_err(format!(
        "invalid literal for int() with base 10: {:?}",
        String::from_utf8_lossy(d)
    )))
}

/// A text-codec error as the Python exception CPython raises; `data` is the argument.
fn text_error(py: Python<'_>, e: &TextError, data: &[u8]) -> PyErr {
    let msg = e.to_string();
    match e.kind() {
        TextErrorKind::Value => PyValueError::new_err(msg),
        TextErrorKind::Overflow => PyOverflowError::new_err(msg),
        // CPython's own decoder builds the UnicodeDecodeError (five arguments, positions).
        TextErrorKind::UnicodeDecode => match PyString::from_bytes(py, data) {
            Err(err) => err,
            Ok(_) => PyValueError::new_err(msg),
        },
        TextErrorKind::Unpickling => unpickling_error(py, msg),
        _ => unpickling_error(py, "pickle data was truncated"),
    }
}

/// A decoder error: truncation, bad opcodes and bad lengths are all `UnpicklingError`.
fn decode_error(py: Python<'_>, e: &brine_core::Error) -> PyErr {
    match e.code() {
        ErrorCode::UnknownOpcode(b) => {
            let c = *b;
            let shown = if (0x20..0x7f).contains(&c) {
                (c as char).to_string()
            } else {
                format!("\\x{c:02x}")
            };
            unpickling_error(py, format!("invalid load key, '{shown}'."))
        }
        _ if e.classify() == Category::Eof => unpickling_error(py, "pickle data was truncated"),
        // A declared length beyond isize::MAX: CPython raises OverflowError.
        ErrorCode::Message(_, m) if m.contains("exceeds system's maximum") => {
            PyOverflowError::new_err(m.to_string())
        }
        ErrorCode::Message(_, m) => unpickling_error(py, m.to_string()),
        _ => unpickling_error(py, e.to_string()),
    }
}
