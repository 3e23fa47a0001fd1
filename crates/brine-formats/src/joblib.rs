//! joblib dumps: the pickle stream with raw array payloads after each `NumpyArrayWrapper`'s
//! BUILD (alignment padding, Fortran order, nested pickles for object arrays), plain or
//! compressed with any joblib compressor, and the formats of joblib < 0.10.
//!
//! The unpickler's build hook reads each payload where it sits; the wrapper's node is then
//! rewritten in place as the numpy array it stands for, so [`numpy::arrays`] finds it like
//! any other array.
//!
//! Old dumps: joblib < 0.9.3 wrapped a compressed pickle in its own `ZF` container (`ZF`,
//! the length in hex padded to 19 bytes, a zlib stream), and joblib < 0.10 kept each array
//! in a companion file next to the pickle — `name.pkl_01.npy` (`NDArrayWrapper`) or, when
//! compressing, a `ZF` file of the raw bytes `name.pkl_01.npy.z` (`ZNDArrayWrapper`).
//! Companions are read from the directory given to [`loads_in`] (or the dump's own, with
//! [`load`]); the file names inside the pickle are claims, so only plain names are accepted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use brine::value::{Graph, Node, NodeId};
use brine::{Error, Limits, LoadOptions, Result, StringEncoding, Unpickler};

use crate::array::{f_strides, nbytes_of, NdArray};
use crate::compress::{self, Codec};
use crate::numpy::{self, global_of, object, shape_of, text, truthy, tuple};

/// Length of the `ZF` header: the magic and the hex length left-justified to the width of
/// `hex(2**64)` (joblib's `_MAX_LEN`).
const ZF_HEADER: usize = 2 + 19;

/// Reads a joblib dump (or any pickle: without wrappers it is just a pickle) into a graph in
/// which every wrapped array is a numpy array node. Compressed dumps (zlib, gzip, bz2, xz,
/// lzma, lz4, joblib's old `ZF`) are decompressed first, under the bomb limits. Python 2
/// strings are decoded as latin-1. Arrays kept in companion files (joblib < 0.10) are an
/// error here: read such dumps with [`load`] or [`loads_in`].
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
    loads_in(data, limits, None)
}

/// [`loads`], reading the companion files of joblib < 0.10 dumps from `dir` (the directory
/// of the dump; `None`: companions are an error).
pub fn loads_in(data: &[u8], limits: &Limits, dir: Option<&Path>) -> Result<Graph> {
    let data = unwrap_container(data, limits)?;
    // Python 2 `str` holds array bytes in old numpy pickles: latin-1 keeps every byte, as
    // numpy's docs advise (`encoding='latin1'`).
    let opts = LoadOptions::new()
        .encoding(StringEncoding::Latin1)
        .limits(limits.clone());
    brine::loads_with(&data, load_options(opts, limits, dir))
}

/// Reads the joblib dump at `path`, its companion files (joblib < 0.10) from the same
/// directory.
pub fn load(path: &Path, limits: &Limits) -> Result<Graph> {
    let data = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    loads_in(&data, limits, Some(dir))
}

/// `data` without its compression: any [`Codec`] or joblib's old `ZF` container.
pub fn unwrap_container<'a>(data: &'a [u8], limits: &Limits) -> Result<std::borrow::Cow<'a, [u8]>> {
    let data = compress::decompress(data, limits)?;
    if data.starts_with(b"ZF") {
        return read_zfile(&data, limits).map(std::borrow::Cow::Owned);
    }
    Ok(data)
}

/// `opts` with the build hook that turns joblib's array wrappers into numpy arrays, for
/// readers that drive the [`Unpickler`] themselves (several pickles in one input).
/// Companion files are read from `dir`.
pub fn load_options(opts: LoadOptions, limits: &Limits, dir: Option<&Path>) -> LoadOptions {
    let ctx = Context {
        limits: limits.clone(),
        dir: dir.map(Path::to_path_buf),
    };
    opts.build_hook(move |g, id, rest| unwrap_array(g, id, rest, &ctx))
}

/// What the build hook needs besides the graph.
struct Context {
    limits: Limits,
    dir: Option<PathBuf>,
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::data(format!("cannot read {}: {e}", path.display()))
}

/// Decodes joblib's `ZF` container: `ZF`, the decompressed length as `0x…` hex
/// left-justified with spaces to 19 bytes (one space more from joblib <= 0.8.4 under
/// Python 2), then one zlib stream.
pub fn read_zfile(data: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    if !data.starts_with(b"ZF") {
        return Err(Error::data("not a joblib 'ZF' file"));
    }
    let head = data.get(2..ZF_HEADER).ok_or_else(Error::truncated)?;
    let digits = std::str::from_utf8(head)
        .ok()
        .map(|s| s.trim_end_matches(' '))
        .map(|s| s.strip_prefix("0x").unwrap_or(s))
        .ok_or_else(|| Error::data("joblib 'ZF' length is not text"))?;
    let len = u64::from_str_radix(digits, 16)
        .map_err(|_| Error::data(format!("joblib 'ZF' length {digits:?} is not hex")))?;
    let mut body = &data[ZF_HEADER..];
    // A zlib stream never starts with a space (RFC 6713), so a space is the wider header.
    if body.first() == Some(&b' ') {
        body = &body[1..];
    }
    // The declared length is a claim: the output is bounded by the limits, then checked.
    let out = compress::decompress_as(body, Codec::Zlib, limits)?;
    if out.len() as u64 != len {
        return Err(Error::data(format!(
            "joblib 'ZF' header declares {len} bytes, the stream holds {}",
            out.len()
        )));
    }
    Ok(out)
}

/// The bytes of companion file `name` in `dir`. `name` comes from the pickle: only a plain
/// file name is accepted (joblib wrote `basename + '_01.npy'`), never a path.
fn companion(ctx: &Context, name: &str) -> Result<Vec<u8>> {
    // One normal component and no separator of any platform: no root, drive, `..` or `/`.
    let mut parts = Path::new(name).components();
    let plain = matches!(parts.next(), Some(std::path::Component::Normal(_)))
        && parts.next().is_none()
        && !name.contains(['/', '\\', '\0']);
    if !plain {
        return Err(Error::data(format!(
            "joblib companion file {name:?} is not a plain file name"
        )));
    }
    let Some(dir) = &ctx.dir else {
        return Err(Error::unsupported(format!(
            "joblib < 0.10 dump keeps an array in companion file {name:?}; read it from its file"
        )));
    };
    let path = dir.join(name);
    // Read no more than the allocation limit allows, even if the file grows meanwhile.
    let max = ctx.limits.max_alloc;
    let f = std::fs::File::open(&path).map_err(|e| io_error(&path, e))?;
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(f, max.saturating_add(1)), &mut out)
        .map_err(|e| io_error(&path, e))?;
    if out.len() as u64 > max {
        return Err(Error::limit(brine::core::LimitKind::Alloc));
    }
    Ok(out)
}

/// The fields of a wrapper's state dict.
fn fields(g: &Graph, id: NodeId, what: &str) -> Result<HashMap<String, NodeId>> {
    let state = object(g, id)
        .and_then(|o| o.state)
        .ok_or_else(|| Error::data(format!("{what} without state")))?;
    let Node::Dict(items) = g.get(state) else {
        return Err(Error::data(format!("{what} state is not a dict")));
    };
    let mut out = HashMap::new();
    for (k, v) in g.pairs(*items) {
        out.insert(text(g, k)?.into_owned(), v);
    }
    Ok(out)
}

fn field(fields: &HashMap<String, NodeId>, what: &str, k: &str) -> Result<NodeId> {
    fields
        .get(k)
        .copied()
        .ok_or_else(|| Error::data(format!("{what} without {k:?}")))
}

/// Rewrites the wrapper `id` as array `a`, of class `subclass` when that is not a plain
/// ndarray (joblib saved memmaps as ndarrays).
fn replace(g: &mut Graph, id: NodeId, a: &NdArray<'_>, subclass: Option<NodeId>) -> Result<()> {
    let built = numpy::to_graph(g, a, 4)?;
    let mut node = g.get(built).clone();
    let plain = |m: &str, n: &str| {
        m == "numpy" && n == "ndarray" || n == "memmap" && m.starts_with("numpy")
    };
    if let (Some(cls), Node::Object(o)) = (subclass, &mut node) {
        if global_of(g, cls).is_some_and(|(m, n)| !plain(m, n)) {
            // `_reconstruct(cls, (0,), b'b')`: the class is the first argument.
            let mut args = tuple(g, o.args)?.to_vec();
            if let Some(first) = args.first_mut() {
                *first = cls;
            }
            o.args = g.tuple(args);
        }
    }
    *g.get_mut(id) = node;
    Ok(())
}

/// joblib < 0.10: the array is a whole `.npy` file next to the pickle.
fn nd_array_wrapper(g: &mut Graph, id: NodeId, ctx: &Context) -> Result<()> {
    let what = "NDArrayWrapper";
    let f = fields(g, id, what)?;
    let name = text(g, field(&f, what, "filename")?)?.into_owned();
    let subclass = f.get("subclass").copied();
    let data = companion(ctx, &name)?;
    let npy = crate::npy::read(&data)
        .map_err(|e| Error::data(format!("joblib companion file {name:?}: {e}")))?;
    if let Some(objects) = &npy.objects {
        // Object arrays are a pickle inside the .npy: its graph is copied in.
        let root = objects
            .root()
            .ok_or_else(|| Error::data("empty object payload"))?;
        let copied = import(g, objects, root)?;
        let node = g.get(copied).clone();
        *g.get_mut(id) = node;
        return Ok(());
    }
    replace(g, id, &npy.array, subclass)
}

/// joblib < 0.10 compressing: `_reconstruct(*init_args)` + BUILD(`state` + the raw bytes of
/// a `ZF` companion file).
fn znd_array_wrapper(g: &mut Graph, id: NodeId, ctx: &Context) -> Result<()> {
    let what = "ZNDArrayWrapper";
    let f = fields(g, id, what)?;
    let name = text(g, field(&f, what, "filename")?)?.into_owned();
    let subclass = tuple(g, field(&f, what, "init_args")?)?.first().copied();
    let st = tuple(g, field(&f, what, "state")?)?;
    // (version, shape, dtype, is_fortran), the data left out.
    let [_, shape, dtype, fortran] = st else {
        return Err(Error::data(format!("{what} state of {} items", st.len())));
    };
    let (shape, dtype, fortran) = (
        shape_of(g, *shape)?,
        numpy::dtype_at(g, *dtype)?,
        truthy(g, *fortran),
    );
    if dtype.has_objects() {
        return Err(Error::data(format!("{what} of an object array")));
    }
    let raw = companion(ctx, &name)?;
    let data = read_zfile(&raw, &ctx.limits)
        .map_err(|e| Error::data(format!("joblib companion file {name:?}: {e}")))?;
    let mut a = NdArray::from_bytes(dtype, shape, data)?;
    if fortran {
        a.strides = f_strides(&a.shape);
    }
    replace(g, id, &a, subclass)
}

fn is_wrapper(g: &Graph, id: NodeId, name: &str) -> bool {
    object(g, id)
        .and_then(|o| global_of(g, o.callable))
        .is_some_and(|(m, n)| n == name && m.ends_with("joblib.numpy_pickle"))
}

/// The build hook: rewrites a `NumpyArrayWrapper` as its array and returns the payload size.
fn unwrap_array(g: &mut Graph, id: NodeId, rest: &[u8], ctx: &Context) -> Result<usize> {
    if is_wrapper(g, id, "NDArrayWrapper") {
        return nd_array_wrapper(g, id, ctx).map(|()| 0);
    }
    if is_wrapper(g, id, "ZNDArrayWrapper") {
        return znd_array_wrapper(g, id, ctx).map(|()| 0);
    }
    if !is_wrapper(g, id, "NumpyArrayWrapper") {
        return Ok(0);
    }
    let what = "NumpyArrayWrapper";
    let fields = fields(g, id, what)?;
    let field = |k: &str| field(&fields, what, k);
    let subclass = fields.get("subclass").copied();
    let limits = &ctx.limits;
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
    replace(g, id, &a, subclass)?;
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
            Node::List(v) => Node::List(dst.new_items(&ms(src.items(*v))?)),
            Node::Tuple(v) => Node::Tuple(dst.new_items(&ms(src.items(*v))?)),
            Node::Set(v) => Node::Set(dst.new_items(&ms(src.items(*v))?)),
            Node::FrozenSet(v) => Node::FrozenSet(dst.new_items(&ms(src.items(*v))?)),
            Node::Dict(v) => {
                let pairs = src
                    .pairs(*v)
                    .iter()
                    .map(|(k, x)| Ok((m(k)?, m(x)?)))
                    .collect::<Result<Vec<_>>>()?;
                Node::Dict(dst.new_pairs(&pairs))
            }
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
