//! joblib dumps: the pickle stream with raw array payloads after each `NumpyArrayWrapper`'s
//! BUILD (alignment padding, Fortran order, nested pickles for object arrays), plain or
//! compressed with any joblib compressor.
//!
//! The unpickler's build hook reads each payload where it sits; the wrapper's node is then
//! rewritten in place as the numpy array it stands for, so [`numpy::arrays`] finds it like
//! any other array.

use std::collections::HashMap;

use brine::value::{Graph, Node, NodeId};
use brine::{Error, Limits, LoadOptions, Result, StringEncoding, Unpickler};

use crate::array::{f_strides, nbytes_of, NdArray};
use crate::numpy::{self, global_of, object, shape_of, text};

/// Reads a joblib dump (or any pickle: without wrappers it is just a pickle) into a graph in
/// which every wrapped array is a numpy array node. Compressed dumps (zlib, gzip, bz2, xz,
/// lzma, lz4) are decompressed first, under the bomb limits. Python 2 strings are decoded
/// as latin-1.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// // A plain pickle of an array reads the same way.
/// let a = NdArray::from_bytes(DType::Int(8, ByteOrder::Little), vec![1], vec![7, 0, 0, 0, 0, 0, 0, 0])?;
/// let pickle = brine_formats::numpy::dumps(&a, 4)?;
/// let g = brine_formats::joblib::loads(&pickle, &brine::Limits::default())?;
/// let found = brine_formats::numpy::arrays(&g)?;
/// assert_eq!(found[0].1.shape, vec![1]);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn loads(data: &[u8], limits: &Limits) -> Result<Graph> {
    let data = crate::compress::decompress(data, limits)?;
    if data.starts_with(b"ZF") {
        return Err(Error::unsupported(
            "the pre-0.9.3 joblib 'ZF' compressed format",
        ));
    }
    let nested_limits = limits.clone();
    // Python 2 `str` holds array bytes in old numpy pickles: latin-1 keeps every byte, as
    // numpy's docs advise (`encoding='latin1'`).
    let opts = LoadOptions::new()
        .encoding(StringEncoding::Latin1)
        .limits(limits.clone())
        .build_hook(move |g, id, rest| unwrap_array(g, id, rest, &nested_limits));
    brine::loads_with(&data, opts)
}

fn is_wrapper(g: &Graph, id: NodeId, name: &str) -> bool {
    object(g, id)
        .and_then(|o| global_of(g, o.callable))
        .is_some_and(|(m, n)| n == name && m.ends_with("joblib.numpy_pickle"))
}

/// The build hook: rewrites a `NumpyArrayWrapper` as its array and returns the payload size.
fn unwrap_array(g: &mut Graph, id: NodeId, rest: &[u8], limits: &Limits) -> Result<usize> {
    if is_wrapper(g, id, "NDArrayWrapper") || is_wrapper(g, id, "ZNDArrayWrapper") {
        return Err(Error::unsupported(
            "joblib < 0.10 dumps keep arrays in separate files",
        ));
    }
    if !is_wrapper(g, id, "NumpyArrayWrapper") {
        return Ok(0);
    }
    let state = object(g, id)
        .and_then(|o| o.state)
        .ok_or_else(|| Error::data("NumpyArrayWrapper without state"))?;
    let Node::Dict(items) = g.get(state) else {
        return Err(Error::data("NumpyArrayWrapper state is not a dict"));
    };
    let mut fields = HashMap::new();
    for &(k, v) in items {
        fields.insert(text(g, k)?.into_owned(), v);
    }
    let field = |k: &str| {
        fields
            .get(k)
            .copied()
            .ok_or_else(|| Error::data(format!("NumpyArrayWrapper without {k:?}")))
    };
    let dtype = numpy::dtype_at(g, field("dtype")?)?;
    if dtype.has_objects() {
        // A complete pickle of the array, read with a fresh unpickler as joblib does.
        let mut u = Unpickler::new(rest, LoadOptions::new().limits(limits.clone()));
        let root = u.load()?;
        let used = u.offset() as usize;
        let nested = u.into_graph();
        let copied = import(g, &nested, root)?;
        let node = g.get(copied).clone();
        *g.get_mut(id) = node;
        return Ok(used);
    }
    let shape = shape_of(g, field("shape")?)?;
    let fortran = text(g, field("order")?)? == "F";
    let mut at = 0usize;
    if let Some(&align) = fields.get("numpy_array_alignment_bytes") {
        if !matches!(g.get(align), Node::None) {
            // One byte P (1..=16), then P bytes of 0xFF: joblib's padding to 16.
            let pad = *rest.first().ok_or_else(Error::truncated)? as usize;
            if !(1..=16).contains(&pad) {
                return Err(Error::data(format!("joblib padding of {pad} bytes")));
            }
            let fill = rest.get(1..1 + pad).ok_or_else(Error::truncated)?;
            if fill.iter().any(|&b| b != 0xff) {
                return Err(Error::data("joblib padding bytes are not 0xFF"));
            }
            at = 1 + pad;
        }
    }
    let need = nbytes_of(&dtype, &shape)?;
    let end = at
        .checked_add(need)
        .filter(|&e| e <= rest.len())
        .ok_or_else(Error::truncated)?;
    let mut a = NdArray::from_bytes(dtype, shape, &rest[at..end])?;
    if fortran {
        a.strides = f_strides(&a.shape);
    }
    let built = numpy::to_graph(g, &a, 4)?;
    let node = g.get(built).clone();
    *g.get_mut(id) = node;
    Ok(end)
}

/// Copies the value at `root` of `src` into `dst` (sharing and cycles kept); returns its id.
fn import(dst: &mut Graph, src: &Graph, root: NodeId) -> Result<NodeId> {
    let order = src.walk(root);
    let mut map = HashMap::with_capacity(order.len());
    for &id in &order {
        map.insert(id, dst.add(Node::None));
    }
    let m = |id: NodeId| {
        map.get(&id)
            .copied()
            .ok_or_else(|| Error::data("bad node id"))
    };
    let ms = |v: &[NodeId]| v.iter().map(|&i| m(i)).collect::<Result<Vec<_>>>();
    for &id in &order {
        let node = match src.get(id) {
            Node::List(v) => Node::List(ms(v)?),
            Node::Tuple(v) => Node::Tuple(ms(v)?),
            Node::Set(v) => Node::Set(ms(v)?),
            Node::FrozenSet(v) => Node::FrozenSet(ms(v)?),
            Node::Dict(v) => Node::Dict(
                v.iter()
                    .map(|&(k, x)| Ok((m(k)?, m(x)?)))
                    .collect::<Result<_>>()?,
            ),
            Node::Global(gl) => {
                let mut gl = gl.clone();
                if let Some((a, b)) = gl.names {
                    gl.names = Some((m(a)?, m(b)?));
                }
                Node::Global(gl)
            }
            Node::Object(o) => {
                let mut o = o.clone();
                o.callable = m(o.callable)?;
                o.args = m(o.args)?;
                o.kwargs = o.kwargs.map(m).transpose()?;
                o.state = o.state.map(m).transpose()?;
                o.state_setter = o.state_setter.map(m).transpose()?;
                o.list_items = ms(&o.list_items)?;
                o.dict_items = o
                    .dict_items
                    .iter()
                    .map(|&(k, x)| Ok((m(k)?, m(x)?)))
                    .collect::<Result<_>>()?;
                Node::Object(o)
            }
            Node::PersId(p) => Node::PersId(m(*p)?),
            other => other.clone(),
        };
        *dst.get_mut(m(id)?) = node;
    }
    m(root)
}
