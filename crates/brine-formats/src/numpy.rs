//! numpy arrays, dtypes and scalars inside pickles: read from the value graph, and built back
//! as the nodes numpy itself pickles, for any protocol.
//!
//! Reading recognises the three shapes numpy writes — `_reconstruct` + BUILD (protocols
//! 0–4, object arrays, subclasses), `_frombuffer` (protocol 5, in-band or out-of-band
//! buffers) and `scalar` — under both the numpy 1 (`numpy.core.*`) and numpy 2
//! (`numpy._core.*`) module names, plus masked arrays (`numpy.ma.core._mareconstruct`).
//! Nothing is imported or run: the graph is only read.

use std::borrow::Cow;

use brine::value::{Blob, Buffer, Graph, Node, NodeId, Object, ObjectKind};
use brine::{Error, Result};

use crate::array::{
    c_strides, f_strides, nbytes_of, numel, ByteOrder, DType, Data, Field, NdArray, StringNa,
    TimeUnit,
};

/// Nesting of structured dtypes followed before giving up (numpy itself allows far less in
/// practice); a depth guard, since dtypes come from untrusted input.
const MAX_DTYPE_DEPTH: usize = 32;

pub(crate) fn global_of(g: &Graph, id: NodeId) -> Option<(&str, &str)> {
    match g.try_get(id)? {
        Node::Global(gl) => Some((gl.module.as_str(), gl.name.as_str())),
        _ => None,
    }
}

pub(crate) fn object(g: &Graph, id: NodeId) -> Option<&Object> {
    match g.try_get(id)? {
        Node::Object(o) => Some(o),
        _ => None,
    }
}

pub(crate) fn tuple(g: &Graph, id: NodeId) -> Result<&[NodeId]> {
    match g.get(id) {
        Node::Tuple(v) | Node::List(v) => Ok(g.items(*v)),
        other => Err(Error::data(format!(
            "expected a tuple, found {}",
            other.kind_name()
        ))),
    }
}

pub(crate) fn int(g: &Graph, id: NodeId) -> Result<i64> {
    match g.get(id) {
        Node::Int(i) => Ok(*i),
        Node::Bool(b) => Ok(*b as i64),
        other => Err(Error::data(format!(
            "expected an int, found {}",
            other.kind_name()
        ))),
    }
}

pub(crate) fn usize_of(g: &Graph, id: NodeId) -> Result<usize> {
    usize::try_from(int(g, id)?).map_err(|_| Error::data("expected a non-negative size"))
}

pub(crate) fn truthy(g: &Graph, id: NodeId) -> bool {
    match g.get(id) {
        Node::Bool(b) => *b,
        Node::Int(i) => *i != 0,
        _ => false,
    }
}

/// A `str`, or `bytes` / Python 2 `str` read as latin-1.
pub(crate) fn text(g: &Graph, id: NodeId) -> Result<Cow<'_, str>> {
    match g.get(id) {
        Node::Str(s) => Ok(s.to_string_lossy()),
        Node::Bytes(b) => Ok(Cow::Owned(
            b.as_bytes().iter().map(|&c| c as char).collect(),
        )),
        other => Err(Error::data(format!(
            "expected a string, found {}",
            other.kind_name()
        ))),
    }
}

pub(crate) fn shape_of(g: &Graph, id: NodeId) -> Result<Vec<usize>> {
    tuple(g, id)?.iter().map(|&d| usize_of(g, d)).collect()
}

fn is_module(m: &str, leaf: &str) -> bool {
    // numpy 2 moved `numpy.core` to `numpy._core`; pickles carry either spelling.
    m.strip_prefix("numpy.core.")
        .or_else(|| m.strip_prefix("numpy._core."))
        .is_some_and(|rest| rest == leaf)
}

/// Reads a `numpy.dtype` node (`dtype(obj, align, copy)` + BUILD state).
///
/// ```
/// use brine_formats::array::{ByteOrder, DType};
/// use brine_formats::numpy;
/// let mut g = brine::value::Graph::new();
/// let node = numpy::dtype_to_graph(&mut g, &DType::Float(4, ByteOrder::Big))?;
/// assert_eq!(numpy::dtype_at(&g, node)?, DType::Float(4, ByteOrder::Big));
/// # Ok::<(), brine::Error>(())
/// ```
pub fn dtype_at(g: &Graph, id: NodeId) -> Result<DType> {
    dtype_depth(g, id, 0)
}

fn dtype_depth(g: &Graph, id: NodeId, depth: usize) -> Result<DType> {
    if depth > MAX_DTYPE_DEPTH {
        return Err(Error::data("dtype nested too deeply"));
    }
    let o = object(g, id).ok_or_else(|| Error::data("expected a numpy dtype"))?;
    if let Some((m, "_convert_to_stringdtype_kwargs")) = global_of(g, o.callable) {
        if is_module(m, "_internal") {
            return string_dtype(g, o);
        }
    }
    if global_of(g, o.callable) != Some(("numpy", "dtype")) {
        return Err(Error::data("expected a numpy dtype"));
    }
    let args = tuple(g, o.args)?;
    let first = *args
        .first()
        .ok_or_else(|| Error::data("dtype() without arguments"))?;
    let (obj, record) = match global_of(g, first) {
        Some(("numpy", "record")) => ("V".to_string(), true),
        Some((m, n)) => return Err(Error::unsupported(format!("dtype of class {m}.{n}"))),
        None => (text(g, first)?.into_owned(), false),
    };
    let state: Vec<NodeId> = match o.state {
        Some(s) => tuple(g, s)?.to_vec(),
        None => Vec::new(),
    };
    let st = |i: usize| state.get(i).copied();
    // Layouts by version: v3 8 items, v4 9 (metadata), older 5–7; see ML-NOTES §1.3.
    let (order_i, sub_i, names_i, fields_i, elsize_i, meta_i) = match state.len() {
        0 => (None, None, None, None, None, None),
        9 => (Some(1), Some(2), Some(3), Some(4), Some(5), Some(8)),
        7 | 8 => (Some(1), Some(2), Some(3), Some(4), Some(5), None),
        6 => (Some(1), Some(2), None, Some(3), Some(4), None),
        5 => (Some(0), Some(1), None, Some(2), Some(3), None),
        n => return Err(Error::data(format!("dtype state of {n} items"))),
    };
    let order = match order_i.and_then(st) {
        Some(o) => match text(g, o)?.as_ref() {
            "<" | "=" => ByteOrder::Little,
            ">" => ByteOrder::Big,
            "|" => ByteOrder::NotApplicable,
            other => return Err(Error::data(format!("dtype byte order {other:?}"))),
        },
        None => ByteOrder::Little,
    };
    let elsize = match elsize_i.and_then(st) {
        Some(e) => int(g, e)?,
        None => -1,
    };
    if let Some(sub) = sub_i.and_then(st) {
        if !matches!(g.get(sub), Node::None) {
            let parts = tuple(g, sub)?;
            if parts.len() != 2 {
                return Err(Error::data("dtype subarray must be (base, shape)"));
            }
            let base = dtype_depth(g, parts[0], depth + 1)?;
            let shape = match g.get(parts[1]) {
                Node::Int(_) => vec![usize_of(g, parts[1])?],
                _ => shape_of(g, parts[1])?,
            };
            let d = DType::SubArray(Box::new(base), shape);
            if d.itemsize() == usize::MAX {
                return Err(Error::data("dtype subarray size overflows"));
            }
            return Ok(d);
        }
    }
    let names = names_i
        .and_then(st)
        .filter(|&n| !matches!(g.get(n), Node::None));
    let fields = fields_i
        .and_then(st)
        .filter(|&f| !matches!(g.get(f), Node::None));
    if let (Some(names), Some(fields)) = (names, fields) {
        let Node::Dict(items) = g.get(fields) else {
            return Err(Error::data("dtype fields must be a dict"));
        };
        let items = g.pairs(*items);
        let mut out = Vec::new();
        for &n in tuple(g, names)? {
            let name = text(g, n)?.into_owned();
            let entry = items
                .iter()
                .find(|(k, _)| text(g, *k).is_ok_and(|k| k == name))
                .ok_or_else(|| Error::data(format!("dtype field {name:?} missing")))?;
            let parts = tuple(g, entry.1)?;
            if parts.len() < 2 {
                return Err(Error::data("dtype field must be (dtype, offset[, title])"));
            }
            let title = match parts.get(2) {
                Some(&t) if !matches!(g.get(t), Node::None) => Some(text(g, t)?.into_owned()),
                _ => None,
            };
            out.push(Field {
                name,
                dtype: dtype_depth(g, parts[0], depth + 1)?,
                offset: usize_of(g, parts[1])?,
                title,
            });
        }
        let itemsize = usize::try_from(elsize).map_err(|_| Error::data("bad record size"))?;
        for f in &out {
            if f.offset
                .checked_add(f.dtype.itemsize())
                .is_none_or(|e| e > itemsize)
            {
                return Err(Error::data(format!(
                    "field {:?} outside its record",
                    f.name
                )));
            }
        }
        return Ok(DType::Struct {
            fields: out,
            itemsize,
            record,
        });
    }
    let (kind, size) = obj.split_at(obj.find(|c: char| c.is_ascii_digit()).unwrap_or(obj.len()));
    let size: usize = if size.is_empty() {
        0
    } else {
        size.parse()
            .map_err(|_| Error::data(format!("dtype {obj:?}")))?
    };
    let flex = |default: usize| -> Result<usize> {
        if elsize >= 0 {
            usize::try_from(elsize).map_err(|_| Error::data("bad dtype size"))
        } else {
            Ok(default)
        }
    };
    let n = |s: usize| -> Result<u8> {
        u8::try_from(s).map_err(|_| Error::data(format!("dtype {obj:?}")))
    };
    Ok(match kind {
        "b" if size == 1 => DType::Bool,
        "i" if matches!(size, 1 | 2 | 4 | 8) => DType::Int(n(size)?, order),
        "u" if matches!(size, 1 | 2 | 4 | 8) => DType::UInt(n(size)?, order),
        "f" if matches!(size, 2 | 4 | 8 | 12 | 16) => DType::Float(n(size)?, order),
        "c" if matches!(size, 8 | 16 | 24 | 32) => DType::Complex(n(size)?, order),
        "S" => DType::Bytes(flex(size)?),
        "U" => {
            let bytes = flex(size.saturating_mul(4))?;
            DType::Unicode(bytes / 4, order)
        }
        "V" => DType::Void(flex(size)?),
        "O" => DType::Object,
        "M" | "m" => {
            let unit = match meta_i.and_then(st) {
                Some(m) => time_unit(g, m)?,
                None => TimeUnit {
                    unit: "generic".into(),
                    count: 1,
                },
            };
            if kind == "M" {
                DType::DateTime(unit, order)
            } else {
                DType::TimeDelta(unit, order)
            }
        }
        _ => return Err(Error::unsupported(format!("numpy dtype {obj:?}"))),
    })
}

/// numpy 2's `StringDType`: `_convert_to_stringdtype_kwargs(coerce[, na_object])`, no BUILD.
fn string_dtype(g: &Graph, o: &Object) -> Result<DType> {
    let args = tuple(g, o.args)?;
    if args.len() > 2 || o.state.is_some() {
        return Err(Error::data("malformed StringDType"));
    }
    let coerce = args.first().is_none_or(|&c| truthy(g, c));
    let na = match args.get(1).map(|&n| g.get(n)) {
        None => StringNa::Absent,
        Some(Node::None) => StringNa::None,
        Some(Node::Float(x)) if x.is_nan() => StringNa::Nan,
        Some(Node::Str(s)) => StringNa::Str(s.to_string_lossy().into_owned()),
        Some(other) => {
            return Err(Error::unsupported(format!(
                "StringDType with a {} na_object",
                other.kind_name()
            )))
        }
    };
    Ok(DType::VarString { coerce, na })
}

fn time_unit(g: &Graph, meta: NodeId) -> Result<TimeUnit> {
    // (metadata_dict_or_None, (unit, num, den, events)).
    let parts = tuple(g, meta)?;
    let info = tuple(
        g,
        *parts
            .get(1)
            .ok_or_else(|| Error::data("datetime metadata"))?,
    )?;
    let unit = text(
        g,
        *info.first().ok_or_else(|| Error::data("datetime unit"))?,
    )?;
    let count = match info.get(1) {
        Some(&c) => u64::try_from(int(g, c)?).map_err(|_| Error::data("datetime unit count"))?,
        None => 1,
    };
    Ok(TimeUnit {
        unit: unit.into_owned(),
        count,
    })
}

/// Bytes of an array data node: bytes, bytearray, a supplied out-of-band buffer, or a
/// Python 2 `str` decoded as latin-1.
fn data_bytes(g: &Graph, id: NodeId) -> Result<Cow<'_, [u8]>> {
    match g.get(id) {
        Node::Bytes(b) | Node::ByteArray(b) => Ok(Cow::Borrowed(b.as_bytes())),
        Node::Buffer(b) => match &b.data {
            Some(d) => Ok(Cow::Borrowed(d.as_bytes())),
            None => Err(Error::data(format!(
                "out-of-band buffer {} was not supplied",
                b.index
            ))),
        },
        Node::Str(s) => {
            // numpy re-encodes a unicode rawdata with latin-1 (py2 pickles read as text).
            let s = s.to_string_lossy();
            s.chars()
                .map(|c| u8::try_from(u32::from(c)).ok())
                .collect::<Option<Vec<u8>>>()
                .map(Cow::Owned)
                .ok_or_else(|| Error::data("array data string is not latin-1"))
        }
        other => Err(Error::data(format!(
            "array data must be bytes, found {}",
            other.kind_name()
        ))),
    }
}

/// The array (or numpy scalar, as a 0-d array) a node stands for; `None` when the node is not
/// one numpy would build. Data is borrowed from the graph.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// use brine_formats::numpy;
/// let a = NdArray::from_bytes(DType::Int(4, ByteOrder::Little), vec![2], vec![1, 0, 0, 0, 2, 0, 0, 0])?;
/// let pickle = numpy::dumps(&a, 5)?;
/// let g = brine::loads(&pickle)?;
/// let back = numpy::array_at(&g, g.root().unwrap())?.expect("an array");
/// assert_eq!(back.shape, vec![2]);
/// assert_eq!(&*back.c_bytes()?, &[1, 0, 0, 0, 2, 0, 0, 0]);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn array_at(g: &Graph, id: NodeId) -> Result<Option<NdArray<'_>>> {
    let Some(o) = object(g, id) else {
        return Ok(None);
    };
    let Some((m, name)) = global_of(g, o.callable) else {
        return Ok(None);
    };
    match name {
        "_reconstruct" if is_module(m, "multiarray") => reconstruct(g, o, false).map(Some),
        "_mareconstruct" if m == "numpy.ma.core" => reconstruct(g, o, true).map(Some),
        "_frombuffer" if is_module(m, "numeric") => frombuffer(g, o).map(Some),
        "scalar" if is_module(m, "multiarray") => scalar(g, o).map(Some),
        _ => Ok(None),
    }
}

fn reconstruct<'g>(g: &'g Graph, o: &Object, masked: bool) -> Result<NdArray<'g>> {
    let args = tuple(g, o.args)?;
    let subclass = args
        .get(usize::from(masked))
        .and_then(|&c| global_of(g, c))
        .map(|(m, n)| format!("{m}.{n}"));
    let state = o
        .state
        .ok_or_else(|| Error::data("numpy array without state"))?;
    let st = tuple(g, state)?;
    // Version 1: (1, shape, dtype, is_fortran, data[, mask, fill]); version 0 lacks the 1.
    let st = match st.len() {
        4 => st,
        5.. if matches!(g.get(st[0]), Node::Int(_)) => &st[1..],
        n => return Err(Error::data(format!("numpy array state of {n} items"))),
    };
    let shape = shape_of(g, st[0])?;
    let dtype = dtype_at(g, st[1])?;
    let fortran = truthy(g, st[2]);
    let strides = if fortran {
        f_strides(&shape)
    } else {
        c_strides(&shape)
    };
    let n = numel(&shape).ok_or_else(|| Error::data("array shape overflows"))?;
    let data = if dtype.has_objects() {
        let Node::List(items) = g.get(st[3]) else {
            return Err(Error::data("object array data must be a list"));
        };
        let items = g.items(*items);
        if items.len() != n {
            return Err(Error::data(format!(
                "object array has {} items, shape {shape:?} needs {n}",
                items.len()
            )));
        }
        // Object data is always listed in logical C order, whatever `is_fortran` says.
        return Ok(NdArray {
            strides: c_strides(&shape),
            dtype,
            shape,
            offset: 0,
            data: Data::Objects(items.to_vec()),
            mask: None,
            subclass,
        });
    } else {
        data_bytes(g, st[3])?
    };
    let need = nbytes_of(&dtype, &shape)?;
    if data.len() != need {
        return Err(Error::data(format!(
            "buffer size does not match array size: {} bytes for {need}",
            data.len()
        )));
    }
    let mut a = NdArray {
        dtype,
        shape,
        strides,
        offset: 0,
        data: Data::Bytes(data),
        mask: None,
        subclass,
    };
    if masked {
        if let Some(&m) = st.get(4) {
            if let Node::Bytes(b) = g.get(m) {
                if b.len() == n {
                    let mut view = NdArray::from_bytes(DType::Bool, a.shape.clone(), b.as_bytes())?;
                    view.strides = a.strides.clone();
                    a.mask = Some(view.c_bytes()?.into_owned());
                }
            }
        }
    }
    Ok(a)
}

fn frombuffer<'g>(g: &'g Graph, o: &Object) -> Result<NdArray<'g>> {
    let args = tuple(g, o.args)?;
    if args.len() != 4 && args.len() != 5 {
        return Err(Error::data("_frombuffer takes 4 or 5 arguments"));
    }
    let data = data_bytes(g, args[0])?;
    let dtype = dtype_at(g, args[1])?;
    if dtype.has_objects() {
        // numpy refuses these too: their items are references, not bytes.
        return Err(Error::data(format!(
            "_frombuffer of a {} array",
            dtype.str()
        )));
    }
    let shape = shape_of(g, args[2])?;
    let order = text(g, args[3])?;
    let need = nbytes_of(&dtype, &shape)?;
    if data.len() != need {
        return Err(Error::data(format!(
            "buffer size does not match array size: {} bytes for {need}",
            data.len()
        )));
    }
    let (shape, strides) = match (order.as_ref(), args.get(4)) {
        ("K", Some(&axes)) if !matches!(g.get(axes), Node::None) => {
            // `shape` is in memory order; the array is its C layout transposed by `axes`.
            let axes = shape_of(g, axes)?;
            let cs = c_strides(&shape);
            let mut seen = vec![false; shape.len()];
            if axes.len() != shape.len() {
                return Err(Error::data(
                    "_frombuffer axis order does not match the shape",
                ));
            }
            let mut sh = Vec::with_capacity(axes.len());
            let mut st = Vec::with_capacity(axes.len());
            for &ax in &axes {
                if ax >= shape.len() || std::mem::replace(&mut seen[ax], true) {
                    return Err(Error::data("_frombuffer axis order is not a permutation"));
                }
                sh.push(shape[ax]);
                st.push(cs[ax]);
            }
            (sh, st)
        }
        ("F", _) => (shape.clone(), f_strides(&shape)),
        ("C" | "K" | "A", _) => (shape.clone(), c_strides(&shape)),
        (other, _) => return Err(Error::data(format!("_frombuffer order {other:?}"))),
    };
    Ok(NdArray {
        dtype,
        shape,
        strides,
        offset: 0,
        data: Data::Bytes(data),
        mask: None,
        subclass: None,
    })
}

fn scalar<'g>(g: &'g Graph, o: &Object) -> Result<NdArray<'g>> {
    let args = tuple(g, o.args)?;
    if args.is_empty() {
        return Err(Error::data("numpy scalar without arguments"));
    }
    let dtype = dtype_at(g, args[0])?;
    let mut a = NdArray {
        dtype,
        shape: Vec::new(),
        strides: Vec::new(),
        offset: 0,
        data: Data::Objects(Vec::new()),
        mask: None,
        subclass: None,
    };
    let value = *args
        .get(1)
        .ok_or_else(|| Error::data("numpy scalar without a value"))?;
    if a.dtype.has_objects() {
        a.data = Data::Objects(vec![value]);
        return Ok(a);
    }
    let data = data_bytes(g, value)?;
    if data.len() != a.dtype.itemsize() {
        return Err(Error::data("numpy scalar data does not match its dtype"));
    }
    a.data = Data::Bytes(data);
    Ok(a)
}

/// Every numpy array reachable from the graph's root, with a path built from dict keys,
/// attribute names and list indices (`"coef_"`, `"steps.0.1.coef_"`; the `_parameters`,
/// `_buffers` and `_modules` attributes of torch modules add no segment). Each array is
/// listed once, at its first path; the walk uses an explicit stack.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// use brine_formats::numpy;
/// let a = NdArray::from_bytes(DType::UInt(1, ByteOrder::NotApplicable), vec![3], vec![1, 2, 3])?;
/// let mut g = brine::value::Graph::new();
/// let arr = numpy::to_graph(&mut g, &a, 4)?;
/// let key = g.str("w");
/// let root = g.dict(vec![(key, arr)]);
/// g.set_root(root);
/// let found = numpy::arrays(&g)?;
/// assert_eq!(found[0].0, "w");
/// # Ok::<(), brine::Error>(())
/// ```
pub fn arrays(g: &Graph) -> Result<Vec<(String, NdArray<'_>)>> {
    collect(g, |g, id| array_at(g, id))
}

/// Walks the graph from its root and keeps what `recognize` makes of each node, with the
/// node's path; recognised nodes are not descended into. A recognised node reached by several
/// paths (tied weights: one tensor under two names) is listed under each; containers are
/// walked once, so shared and cyclic structure ends.
pub(crate) fn collect<'g, T: Clone>(
    g: &'g Graph,
    mut recognize: impl FnMut(&'g Graph, NodeId) -> Result<Option<T>>,
) -> Result<Vec<(String, T)>> {
    let mut out: Vec<(String, T)> = Vec::new();
    let Some(root) = g.root() else {
        return Ok(out);
    };
    /// Not reached yet; reached and not recognised; recognised as `out[i]`.
    const NEW: usize = usize::MAX;
    const PLAIN: usize = usize::MAX - 1;
    let mut seen = vec![NEW; g.len()];
    let mut stack = vec![(root, String::new())];
    while let Some((id, path)) = stack.pop() {
        match seen[id.index()] {
            NEW => {}
            PLAIN => continue,
            i => {
                let again = out[i].1.clone();
                out.push((path, again));
                continue;
            }
        }
        if let Some(t) = recognize(g, id)? {
            seen[id.index()] = out.len();
            out.push((path, t));
            continue;
        }
        seen[id.index()] = PLAIN;
        let mut kids: Vec<(NodeId, String)> = Vec::new();
        let join = |seg: &str| -> String {
            if path.is_empty() {
                seg.to_owned()
            } else if seg.is_empty() {
                path.clone()
            } else {
                format!("{path}.{seg}")
            }
        };
        let key_name = |k: NodeId| -> String {
            match g.get(k) {
                Node::Str(s) => {
                    let s = s.to_string_lossy();
                    // torch modules keep tensors under these; state_dict names skip them.
                    if matches!(s.as_ref(), "_parameters" | "_buffers" | "_modules") {
                        String::new()
                    } else {
                        s.into_owned()
                    }
                }
                Node::Int(i) => i.to_string(),
                _ => "?".into(),
            }
        };
        match g.get(id) {
            Node::Dict(items) => {
                kids.extend(g.pairs(*items).iter().map(|(k, v)| (v, join(&key_name(k)))));
            }
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                kids.extend(
                    g.items(*v)
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| (c, join(&i.to_string()))),
                );
            }
            Node::Object(o) => {
                if let Node::Tuple(a) = g.get(o.args) {
                    kids.extend(
                        g.items(*a)
                            .iter()
                            .enumerate()
                            .map(|(i, &c)| (c, join(&i.to_string()))),
                    );
                }
                kids.extend(
                    o.list_items
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| (c, join(&i.to_string()))),
                );
                kids.extend(o.dict_items.iter().map(|&(k, v)| (v, join(&key_name(k)))));
                if let Some(s) = o.state {
                    kids.push((s, path.clone()));
                }
            }
            _ => {}
        }
        stack.extend(kids.into_iter().rev());
    }
    Ok(out)
}

/// Which module names to write: numpy 2's (`numpy._core`, loadable by numpy ≥ 1.26 at
/// protocols ≤ 4 and by numpy 2 always) or numpy 1's (`numpy.core`, loadable everywhere).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ModuleNames {
    /// `numpy._core.*`, as numpy 2 writes.
    #[default]
    Numpy2,
    /// `numpy.core.*`, as numpy 1 writes.
    Numpy1,
}

/// Adds the nodes numpy pickles for a dtype.
pub fn dtype_to_graph(g: &mut Graph, d: &DType) -> Result<NodeId> {
    dtype_node(g, d, 0)
}

fn dtype_node(g: &mut Graph, d: &DType, depth: usize) -> Result<NodeId> {
    if depth > MAX_DTYPE_DEPTH {
        return Err(Error::data("dtype nested too deeply"));
    }
    if let DType::VarString { coerce, na } = d {
        let f = g.global("numpy._core._internal", "_convert_to_stringdtype_kwargs");
        let mut args = vec![g.int(i64::from(*coerce))];
        match na {
            StringNa::Absent => {}
            StringNa::None => args.push(g.none()),
            StringNa::Nan => args.push(g.float(f64::NAN)),
            StringNa::Str(s) => args.push(g.str(s)),
        }
        let args = g.tuple(args);
        return Ok(g.object(Object::new(ObjectKind::Reduce, f, args)));
    }
    let order = match d {
        DType::Struct { .. } | DType::SubArray(..) | DType::Bytes(_) | DType::Void(_) => '|',
        _ => d.byte_order().char(),
    };
    let (obj, elsize, align, flags): (String, i64, i64, i64) = match d {
        DType::Bool => ("b1".into(), -1, -1, 0),
        DType::Int(n, _) => (format!("i{n}"), -1, -1, 0),
        DType::UInt(n, _) => (format!("u{n}"), -1, -1, 0),
        DType::Float(n, _) => (format!("f{n}"), -1, -1, 0),
        DType::Complex(n, _) => (format!("c{n}"), -1, -1, 0),
        DType::Bytes(n) => (format!("S{n}"), *n as i64, 1, 0),
        DType::Unicode(n, _) => (format!("U{n}"), (n * 4) as i64, 4, 8),
        DType::Void(n) => (format!("V{n}"), *n as i64, 1, 0),
        DType::Object => ("O8".into(), -1, -1, 63),
        DType::DateTime(..) => ("M8".into(), -1, -1, 0),
        DType::TimeDelta(..) => ("m8".into(), -1, -1, 0),
        DType::Struct { itemsize, .. } => {
            // numpy's flags: NEEDS_PYAPI (16) for records, every object flag (63) with objects.
            let flags = if d.has_objects() { 63 } else { 16 };
            (format!("V{itemsize}"), *itemsize as i64, 1, flags)
        }
        DType::SubArray(..) => (format!("V{}", d.itemsize()), d.itemsize() as i64, 1, 0),
        DType::BFloat16(_) | DType::Float8(_) => {
            return Err(Error::unsupported(format!(
                "numpy has no dtype for {}",
                d.name()
            )))
        }
        DType::VarString { .. } => return Err(Error::data("StringDType handled above")),
    };
    let cls = g.global("numpy", "dtype");
    let first = match d {
        DType::Struct { record: true, .. } => g.global("numpy", "record"),
        _ => g.str(&obj),
    };
    let f = g.bool(false);
    let t = g.bool(true);
    let args = g.tuple(vec![first, f, t]);
    let mut obj_node = Object::new(ObjectKind::Reduce, cls, args);
    let mut state = vec![g.int(3), g.str(&order.to_string())];
    match d {
        DType::SubArray(base, shape) => {
            let b = dtype_node(g, base, depth + 1)?;
            let dims: Vec<_> = shape.iter().map(|&s| g.int(s as i64)).collect();
            let sh = g.tuple(dims);
            state.push(g.tuple(vec![b, sh]));
        }
        _ => state.push(g.none()),
    }
    match d {
        DType::Struct { fields, .. } => {
            let mut names = Vec::new();
            let mut items = Vec::new();
            for fl in fields {
                names.push(g.str(&fl.name));
                let k = g.str(&fl.name);
                let fd = dtype_node(g, &fl.dtype, depth + 1)?;
                let off = g.int(fl.offset as i64);
                let mut parts = vec![fd, off];
                if let Some(t) = &fl.title {
                    parts.push(g.str(t));
                }
                let v = g.tuple(parts);
                items.push((k, v));
            }
            state.push(g.tuple(names));
            state.push(g.dict(items));
        }
        _ => {
            state.push(g.none());
            state.push(g.none());
        }
    }
    state.push(g.int(elsize));
    state.push(g.int(align));
    state.push(g.int(flags));
    if let DType::DateTime(u, _) | DType::TimeDelta(u, _) = d {
        state[0] = g.int(4);
        let unit = g.bytes(u.unit.as_bytes());
        let n = g.int(u.count as i64);
        let one = g.int(1);
        let one2 = g.int(1);
        let info = g.tuple(vec![unit, n, one, one2]);
        let none = g.none();
        state.push(g.tuple(vec![none, info]));
    }
    obj_node.state = Some(g.tuple(state));
    Ok(g.object(obj_node))
}

/// Adds the nodes numpy itself pickles for an array at `protocol`, with numpy 2 module names:
/// `_frombuffer` over an in-band [`Buffer`] at protocol 5 for byte arrays (write it
/// out-of-band with a `buffer_callback`), `_reconstruct` + BUILD otherwise. The items of an
/// object array must be nodes of `g`. Masks and subclasses are not written (a plain
/// `ndarray` of the data results).
pub fn to_graph(g: &mut Graph, a: &NdArray<'_>, protocol: u8) -> Result<NodeId> {
    to_graph_with(g, a, protocol, ModuleNames::Numpy2)
}

/// [`to_graph`] choosing the module names.
pub fn to_graph_with(
    g: &mut Graph,
    a: &NdArray<'_>,
    protocol: u8,
    names: ModuleNames,
) -> Result<NodeId> {
    let core = match names {
        ModuleNames::Numpy2 => "numpy._core",
        ModuleNames::Numpy1 => "numpy.core",
    };
    let dt = dtype_node(g, &a.dtype, 0)?;
    let dims: Vec<NodeId> = a.shape.iter().map(|&s| g.int(s as i64)).collect();
    let shape = g.tuple(dims);
    if let Data::Objects(items) = &a.data {
        if items.len() != a.numel() {
            return Err(Error::data("object array items do not match its shape"));
        }
    }
    let fortran = !a.is_c_contiguous() && a.is_f_contiguous();
    let bytes = match &a.data {
        Data::Bytes(_) if fortran => {
            // Fortran-contiguous: memory order is the C order of the transpose.
            let raw = a.raw().unwrap_or_default();
            a.check_bounds(raw.len())?;
            Some(Cow::Borrowed(&raw[..a.nbytes()]))
        }
        Data::Bytes(_) => Some(a.c_bytes()?),
        Data::Objects(_) => None,
    };
    if protocol >= 5 && a.subclass.is_none() && a.mask.is_none() {
        if let Some(bytes) = &bytes {
            let f = g.global(&format!("{core}.numeric"), "_frombuffer");
            let buf = g.add(Node::Buffer(Box::new(Buffer {
                index: 0,
                readonly: false,
                data: Some(Blob::from(bytes.as_ref())),
            })));
            let order = g.str(if fortran { "F" } else { "C" });
            let args = g.tuple(vec![buf, dt, shape, order]);
            return Ok(g.object(Object::new(ObjectKind::Reduce, f, args)));
        }
    }
    let f = g.global(&format!("{core}.multiarray"), "_reconstruct");
    let cls = g.global("numpy", "ndarray");
    let zero = g.int(0);
    let dummy_shape = g.tuple(vec![zero]);
    let b = g.bytes(b"b");
    let args = g.tuple(vec![cls, dummy_shape, b]);
    let mut o = Object::new(ObjectKind::Reduce, f, args);
    let one = g.int(1);
    let is_f = g.bool(fortran);
    let data = match (&a.data, bytes) {
        (Data::Objects(items), _) => g.list(items.clone()),
        (_, Some(b)) => g.bytes(&b),
        (_, None) => g.bytes(b""),
    };
    o.state = Some(g.tuple(vec![one, shape, dt, is_f, data]));
    Ok(g.object(o))
}

/// Pickles one array as numpy would at `protocol` (numpy 2 module names, buffers in-band).
pub fn dumps(a: &NdArray<'_>, protocol: u8) -> Result<Vec<u8>> {
    let mut g = Graph::new();
    let root = to_graph(&mut g, a, protocol)?;
    g.set_root(root);
    brine::dumps_with(&g, brine::DumpOptions::new().protocol(protocol))
}
