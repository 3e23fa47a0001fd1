//! `brine convert` to and from HDF5: a group of datasets <-> a dict of numpy arrays (nested
//! groups <-> nested dicts, scalar attributes <-> scalar values), and HDF5 <-> npz, safetensors,
//! `.pt`, `.npy` by `/`-joined dataset paths.
//!
//! What the output cannot hold (attributes in npz, a list in HDF5, strings in safetensors) fails
//! the conversion with every such item named; `--lossy` leaves them out with a note instead.
//! Nothing is dropped silently.

use std::collections::HashMap;
use std::fs::File as FsFile;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use brine::value::{Graph, Node, NodeId, Object, ObjectKind as PyKind, PairsRef};
use brine::Limits;
use brine_formats::array::NdArray;
use brine_formats::detect::{detect, FileKind};
use brine_formats::{numpy, safetensors};
use brine_hdf5::{Array, DType, DatasetOptions, File, ObjectKind};

use super::convert_ml::{self, Out};
use crate::cli::ConvertArgs;
use crate::io_util::{is_std, limits, read_input_with};

/// Output extensions written as HDF5.
const HDF5_EXTENSIONS: [&str; 4] = ["h5", "hdf5", "hdf", "he5"];

/// Problems listed in an error before "and N more".
const SHOWN_PROBLEMS: usize = 8;

fn is_hdf5_output(path: &Path) -> bool {
    !is_std(path)
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| HDF5_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// True when the input is an HDF5 file (by signature).
pub fn is_hdf5_input(args: &ConvertArgs) -> bool {
    !is_std(&args.input) && brine_hdf5::is_hdf5_file(&args.input).unwrap_or(false)
}

/// Runs the conversions that write HDF5, or read it into an array format (npz, safetensors,
/// `.pt`, `.npy`); `None` leaves the rest to the pickle converter (which reads HDF5 through
/// [`read_graph`]).
pub fn try_run(args: &ConvertArgs) -> Result<Option<ExitCode>> {
    let hdf5_in = is_hdf5_input(args);
    // `--to` names a pickle or JSON output whatever the extension.
    if args.to.is_none() && is_hdf5_output(&args.output) {
        if hdf5_in {
            bail!("{} is already HDF5", args.input.display());
        }
        write_hdf5(args)?;
        return Ok(Some(ExitCode::SUCCESS));
    }
    if !hdf5_in {
        return Ok(None);
    }
    let Some(out) = convert_ml::out_kind(&args.output) else {
        return Ok(None);
    };
    let file = open(&args.input)?;
    let mut problems = Problems::new(args.lossy);
    let (arrays, metadata) = flat_arrays(&file, out, &mut problems)?;
    problems.check(&args.output)?;
    convert_ml::write_arrays(args, out, FileKind::Npz, &arrays, &metadata)?;
    Ok(Some(ExitCode::SUCCESS))
}

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("cannot read {}", path.display()))
}

/// What the output cannot represent: an error listing them all, or with `--lossy` a note.
struct Problems {
    lossy: bool,
    items: Vec<String>,
}

impl Problems {
    fn new(lossy: bool) -> Self {
        Problems {
            lossy,
            items: Vec::new(),
        }
    }

    fn add(&mut self, what: String) {
        self.items.push(what);
    }

    fn check(&self, output: &Path) -> Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        let mut list: Vec<String> = self.items.iter().take(SHOWN_PROBLEMS).cloned().collect();
        if self.items.len() > SHOWN_PROBLEMS {
            list.push(format!("and {} more", self.items.len() - SHOWN_PROBLEMS));
        }
        let list = list.join("; ");
        if self.lossy {
            eprintln!("brine: left out of {} (--lossy): {list}", output.display());
            Ok(())
        } else {
            bail!(
                "{} cannot represent {} item(s): {list} (--lossy leaves them out)",
                output.display(),
                self.items.len()
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Arrays between the two crates' types.

/// numpy's view of an HDF5 array; `Err` says why there is none.
fn to_numpy(a: &Array) -> std::result::Result<NdArray<'static>, String> {
    brine_hdf5::numpy::to_ndarray(a).map_err(|e| e.message().to_owned())
}

/// The HDF5 form of a numpy array; `Err` says why there is none.
fn to_hdf5(a: &NdArray<'_>) -> std::result::Result<Array, String> {
    brine_hdf5::numpy::from_ndarray(a).map_err(|e| e.message().to_owned())
}

// ---------------------------------------------------------------------------------------------
// HDF5 -> flat arrays (npz, safetensors, .pt, .npy).

type Arrays = Vec<(String, NdArray<'static>)>;

/// Every dataset by its path without the leading `/`; for safetensors, the root's string
/// attributes as `__metadata__`.
fn flat_arrays(
    file: &File,
    out: Out,
    problems: &mut Problems,
) -> Result<(Arrays, Vec<(String, String)>)> {
    let mut arrays = Vec::new();
    let mut metadata = Vec::new();
    let entries = file.walk()?;
    for (i, e) in entries.iter().enumerate() {
        let name = e.path.trim_start_matches('/');
        for (attr, value) in file.attrs(&e.path)? {
            let is_str =
                matches!(value.dtype(), DType::VarString { .. }) && value.shape().is_empty();
            if out == Out::Safetensors && e.path == "/" && is_str {
                let s = value.to_strings()?.pop().unwrap_or_default();
                metadata.push((attr, s));
            } else {
                problems.add(format!("attribute {:?} of {}", attr, e.path));
            }
        }
        match e.kind {
            ObjectKind::Group => {
                // A group with no members vanishes from a flat list of names.
                let has_members = entries.get(i + 1).is_some_and(|next| next.depth > e.depth);
                if !has_members && e.path != "/" {
                    problems.add(format!("empty group {}", e.path));
                }
            }
            ObjectKind::Dataset => {
                let a = file
                    .read(&e.path)
                    .with_context(|| format!("cannot read dataset {}", e.path))?;
                let dtype = a.dtype();
                match to_numpy(&a) {
                    Ok(nd)
                        if out == Out::Safetensors
                            && safetensors::dtype_name(&nd.dtype).is_none() =>
                    {
                        problems.add(format!(
                            "dataset {} of {dtype} (safetensors has no such dtype)",
                            e.path,
                        ));
                    }
                    Ok(nd) => arrays.push((name.to_owned(), nd)),
                    Err(why) => problems.add(format!("dataset {}: {why}", e.path)),
                }
            }
        }
    }
    Ok((arrays, metadata))
}

// ---------------------------------------------------------------------------------------------
// HDF5 -> value graph (pickles, JSON).

/// One member of a group being built: a finished node or a subgroup (by index).
enum Member {
    Node(NodeId),
    Group(usize),
}

/// The whole file as nested dicts: datasets as numpy arrays, groups as dicts, the scalar
/// attributes of groups as entries of their dict (numbers and bools as numpy scalars, as h5py
/// returns them; variable-length strings as `str`, fixed-length ones as `bytes`).
pub fn read_graph(args: &ConvertArgs) -> Result<(Graph, NodeId)> {
    let file = open(&args.input)?;
    let mut problems = Problems::new(args.lossy);
    let mut g = Graph::new();
    let mut groups: Vec<Vec<(String, Member)>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for e in file.walk()? {
        let (parent, name) = match e.path.rsplit_once('/') {
            Some(("", n)) => ("/", n),
            Some((p, n)) => (p, n),
            None => ("/", e.path.as_str()),
        };
        let member = match e.kind {
            ObjectKind::Group => {
                index.insert(e.path.clone(), groups.len());
                groups.push(Vec::new());
                let me = groups.len() - 1;
                for (attr, value) in file.attrs(&e.path)? {
                    match scalar_node(&mut g, &value) {
                        Some(node) => groups[me].push((attr, Member::Node(node?))),
                        None => problems.add(format!(
                            "attribute {attr:?} of {} (shape {:?}, not a scalar)",
                            e.path,
                            value.shape()
                        )),
                    }
                }
                Member::Group(me)
            }
            ObjectKind::Dataset => {
                for attr in file.attr_names(&e.path)? {
                    problems.add(format!("attribute {attr:?} of dataset {}", e.path));
                }
                let a = file
                    .read(&e.path)
                    .with_context(|| format!("cannot read dataset {}", e.path))?;
                match to_numpy(&a) {
                    Ok(nd) => Member::Node(numpy::to_graph(&mut g, &nd, args.protocol)?),
                    Err(why) => {
                        problems.add(format!("dataset {}: {why}", e.path));
                        continue;
                    }
                }
            }
        };
        if e.path == "/" {
            continue;
        }
        let Some(&p) = index.get(parent) else {
            bail!("{} has no parent group in the walk", e.path);
        };
        if groups[p].iter().any(|(n, _)| n == name) {
            problems.add(format!(
                "{} (an attribute of {parent} has the same name)",
                e.path
            ));
            continue;
        }
        groups[p].push((name.to_owned(), member));
    }
    problems.check(&args.output)?;
    // Children come after their parents in the walk: build the dicts from the last one back.
    let mut built: Vec<Option<NodeId>> = vec![None; groups.len()];
    for i in (0..groups.len()).rev() {
        let members = std::mem::take(&mut groups[i]);
        let mut items = Vec::with_capacity(members.len());
        for (name, m) in members {
            let k = g.str(&name);
            let v = match m {
                Member::Node(n) => n,
                Member::Group(j) => built[j]
                    .take()
                    .context("a group is the member of two groups")?,
            };
            items.push((k, v));
        }
        built[i] = Some(g.dict(items));
    }
    let root = built
        .first()
        .copied()
        .flatten()
        .context("the file has no root group")?;
    g.set_root(root);
    Ok((g, root))
}

/// The Python value of a scalar attribute; `None` when the attribute is not a scalar.
fn scalar_node(g: &mut Graph, a: &Array) -> Option<Result<NodeId>> {
    if !a.shape().is_empty() {
        return None;
    }
    Some((|| match a.dtype() {
        DType::VarString { .. } => Ok(g.str(&a.to_strings()?.pop().unwrap_or_default())),
        DType::FixedString { .. } => {
            let b = a.bytes().unwrap_or_default();
            let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
            Ok(g.bytes(&b[..end]))
        }
        _ => {
            let nd = to_numpy(a).map_err(|e| anyhow::anyhow!(e))?;
            Ok(numpy_scalar(g, &nd)?)
        }
    })())
}

/// `numpy._core.multiarray.scalar(dtype, bytes)`: how numpy pickles `np.float32(1.5)`.
fn numpy_scalar(g: &mut Graph, a: &NdArray<'_>) -> brine::Result<NodeId> {
    let f = g.global("numpy._core.multiarray", "scalar");
    let dt = numpy::dtype_to_graph(g, &a.dtype)?;
    let data = g.bytes(&a.c_bytes_le()?);
    let args = g.tuple(vec![dt, data]);
    Ok(g.object(Object::new(PyKind::Reduce, f, args)))
}

// ---------------------------------------------------------------------------------------------
// Anything -> HDF5.

/// One step of building the output file.
enum Op {
    Group(String),
    Dataset(String, Array),
    Attr(String, String, Array),
}

/// Converts a pickle, typed JSON or array file to the HDF5 file `args.output`.
pub fn write_hdf5(args: &ConvertArgs) -> Result<()> {
    let limits = limits(args.trusted);
    let mut problems = Problems::new(args.lossy);
    let ops = if is_std(&args.input) {
        let data = read_input_with(&args.input, &limits)?;
        graph_ops(&load_graph(args, &data, &limits)?, &mut problems)?
    } else {
        let mut f = FsFile::open(&args.input)
            .with_context(|| format!("cannot read {}", args.input.display()))?;
        match detect(&mut f)? {
            FileKind::Pickle | FileKind::Compressed => {
                drop(f);
                let data = read_input_with(&args.input, &limits)?;
                graph_ops(&load_graph(args, &data, &limits)?, &mut problems)?
            }
            kind => {
                drop(f);
                array_ops(args, kind, &limits, &mut problems)?
            }
        }
    };
    problems.check(&args.output)?;
    apply(&args.output, ops)
}

fn load_graph(args: &ConvertArgs, data: &[u8], limits: &Limits) -> Result<Graph> {
    let name = args.input.display();
    if brine::json::looks_like_json(data) {
        let opts = brine::json::JsonOptions::new().limits(limits.clone());
        let t = brine::json::from_typed_with(data, &opts)
            .with_context(|| format!("cannot read JSON {name}"))?;
        let mut g = t.graph;
        let root = *t.roots.first().context("the JSON holds no pickles")?;
        g.set_root(root);
        return Ok(g);
    }
    brine_formats::joblib::loads(data, limits).with_context(|| format!("cannot read pickle {name}"))
}

/// The datasets of an npz, safetensors, `.npy` or torch file (names with `/` make groups);
/// safetensors `__metadata__` becomes string attributes of the root.
fn array_ops(
    args: &ConvertArgs,
    kind: FileKind,
    limits: &Limits,
    problems: &mut Problems,
) -> Result<Vec<Op>> {
    let mut ops = Vec::new();
    if kind == FileKind::Safetensors {
        let mut f = FsFile::open(&args.input)?;
        let len = f.metadata()?.len();
        let header = safetensors::read_header(&mut f, len)
            .with_context(|| format!("cannot read {}", args.input.display()))?;
        for (k, v) in header.metadata.unwrap_or_default() {
            ops.push(Op::Attr("/".into(), k, Array::scalar_str(&v)));
        }
    }
    let arrays = convert_ml::load_arrays(&args.input, kind, limits)
        .with_context(|| format!("cannot read arrays from {}", args.input.display()))?;
    for (name, a) in arrays {
        match to_hdf5(&a) {
            Ok(h) => ops.push(Op::Dataset(name, h)),
            Err(why) => problems.add(format!("array {name:?}: {why}")),
        }
    }
    Ok(ops)
}

/// The group of a dict, or `None` for other values: plain dicts and `OrderedDict`s.
fn dict_items(g: &Graph, id: NodeId) -> Option<PairsRef<'_>> {
    match g.get(id) {
        Node::Dict(items) => Some(g.pairs(*items)),
        Node::Object(o) => match g.get(o.callable) {
            Node::Global(gl) if gl.is("collections", "OrderedDict") && o.state.is_none() => {
                Some(PairsRef::from(&o.dict_items))
            }
            _ => None,
        },
        _ => None,
    }
}

fn is_numpy_scalar(g: &Graph, id: NodeId) -> bool {
    match g.get(id) {
        Node::Object(o) => matches!(g.get(o.callable), Node::Global(gl) if gl.name == "scalar"),
        _ => false,
    }
}

fn join(group: &str, name: &str) -> String {
    if group == "/" {
        format!("/{name}")
    } else {
        format!("{group}/{name}")
    }
}

/// Nested dicts as groups, numpy arrays as datasets, scalars as attributes of their group.
/// Walks with an explicit stack; a dict reached twice (shared or cyclic) is refused.
fn graph_ops(g: &Graph, problems: &mut Problems) -> Result<Vec<Op>> {
    let root = g.root().context("the pickle is empty")?;
    let mut ops = Vec::new();
    if dict_items(g, root).is_none() {
        // One array, as `np.save` would hold it.
        if let Some(a) = numpy::array_at(g, root)? {
            match to_hdf5(&a) {
                Ok(h) => ops.push(Op::Dataset("arr_0".into(), h)),
                Err(why) => problems.add(format!("the array: {why}")),
            }
            return Ok(ops);
        }
        bail!(
            "the pickle holds a {}, not a dict of arrays",
            g.get(root).kind_name()
        );
    }
    let mut seen = vec![false; g.len()];
    let mut stack = vec![(root, String::from("/"))];
    while let Some((id, path)) = stack.pop() {
        if std::mem::replace(&mut seen[id.index()], true) {
            bail!("the dict at {path} is also reached from another key (shared or cyclic)");
        }
        let items = dict_items(g, id).unwrap_or_default();
        let mut groups = Vec::new();
        for (k, v) in items {
            let Node::Str(key) = g.get(k) else {
                problems.add(format!(
                    "a key of type {} in {path} (HDF5 names are strings)",
                    g.get(k).kind_name()
                ));
                continue;
            };
            let Some(key) = key.as_str() else {
                problems.add(format!("a key with a lone surrogate in {path}"));
                continue;
            };
            // HDF5 would read `a/b` as a path: the dict would come back nested.
            if key.is_empty() || key.contains('/') || key == "." {
                problems.add(format!("the key {key:?} in {path} (not an HDF5 name)"));
                continue;
            }
            let at = join(&path, key);
            if dict_items(g, v).is_some() {
                ops.push(Op::Group(at.clone()));
                groups.push((v, at));
                continue;
            }
            let attr = |a: Array| Op::Attr(path.clone(), key.to_owned(), a);
            match g.get(v) {
                Node::Bool(b) => ops.push(attr(Array::from_bools(&[*b]).reshape(&[])?)),
                Node::Int(i) => ops.push(attr(Array::from_i64(&[*i]).reshape(&[])?)),
                Node::Float(x) => ops.push(attr(Array::from_f64(&[*x]).reshape(&[])?)),
                Node::Str(s) => match s.as_str() {
                    Some(s) => ops.push(attr(Array::scalar_str(s))),
                    None => problems.add(format!("{at}: a str with a lone surrogate")),
                },
                Node::Bytes(b) => {
                    let b = b.as_bytes();
                    if b.last() == Some(&0) {
                        problems.add(format!(
                            "{at}: bytes ending in NUL (fixed-length HDF5 strings are NUL-padded)"
                        ));
                    } else {
                        ops.push(attr(Array::from_fixed_bytes(&[b]).reshape(&[])?));
                    }
                }
                _ => match numpy::array_at(g, v)? {
                    Some(a) => match to_hdf5(&a) {
                        Ok(h) if is_numpy_scalar(g, v) => ops.push(attr(h)),
                        Ok(h) => ops.push(Op::Dataset(at, h)),
                        Err(why) => problems.add(format!("{at}: {why}")),
                    },
                    None => problems.add(format!(
                        "{at}: a value of type {} (HDF5 holds arrays, dicts and scalars)",
                        g.get(v).kind_name()
                    )),
                },
            }
        }
        stack.extend(groups.into_iter().rev());
    }
    Ok(ops)
}

/// Writes the operations to a temporary file next to `output`, then renames it: a failed
/// conversion leaves an existing output alone.
fn apply(output: &Path, ops: Vec<Op>) -> Result<()> {
    let mut tmp_name = output.as_os_str().to_owned();
    tmp_name.push(format!(".brine-tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = (|| -> Result<()> {
        let mut f =
            File::create(&tmp).with_context(|| format!("cannot write {}", output.display()))?;
        for op in ops {
            match op {
                Op::Group(p) => f
                    .require_group(&p)
                    .with_context(|| format!("cannot create group {p}"))?,
                Op::Dataset(p, a) => f
                    .create_dataset(&p, a, DatasetOptions::new())
                    .with_context(|| format!("cannot create dataset {p}"))?,
                Op::Attr(p, n, a) => f
                    .set_attr(&p, &n, a)
                    .with_context(|| format!("cannot set attribute {n:?} of {p}"))?,
            }
        }
        f.close()
            .with_context(|| format!("cannot write {}", output.display()))
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, output)
            .with_context(|| format!("cannot write {}", output.display())),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
