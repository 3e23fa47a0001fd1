//! PyTorch checkpoints: zip archives (any prefix, any pickle protocol) and the legacy
//! concatenated-pickle format, with tensors found in the value graph and storage bytes read
//! lazily — only the byte range a tensor uses, when it is asked for.
//!
//! Nothing is imported or run: `torch._utils._rebuild_tensor_v2` / `_v3`, `_rebuild_tensor`,
//! `_rebuild_parameter(_with_state)` and `torch._tensor._rebuild_from_type_v2` calls are read
//! as data, and persistent ids (`('storage', <X>Storage, key, location, numel)`) are checked
//! by the persistent-load hook and kept as [`Node::PersId`] nodes, resolved against the
//! archive's storage records when tensors are read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

use brine::core::LimitKind;
use brine::value::{Graph, Node, NodeId};
use brine::{Error, Limits, LoadOptions, Result, Unpickler};

use crate::array::{extent, gather, numel, swap_in_place, ByteOrder, DType, Float8, NdArray};
use crate::npy::io_err;
use crate::npz::zip_err;
use crate::numpy::{collect, global_of, int, object, shape_of, text, truthy, tuple};
use crate::safetensors;

/// How a checkpoint is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The zip format of `torch.save` since 1.6.
    Zip,
    /// The legacy format: magic number, protocol, sys_info and main pickles, then raw storages.
    Legacy,
}

/// Where a storage's bytes are.
#[derive(Clone, Debug)]
enum Place {
    /// `len` bytes at `offset` of the underlying file.
    At { offset: u64, len: u64 },
    /// Already in memory (a compressed zip record).
    Owned(Vec<u8>),
}

impl Place {
    fn len(&self) -> u64 {
        match self {
            Place::At { len, .. } => *len,
            Place::Owned(v) => v.len() as u64,
        }
    }
}

/// A tensor as the checkpoint describes it: a strided view of one storage.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Element type.
    pub dtype: DType,
    /// Shape (`[]` for scalars).
    pub shape: Vec<usize>,
    /// Strides in elements.
    pub stride: Vec<usize>,
    /// Offset into the storage, in elements.
    pub storage_offset: usize,
    /// The storage key (record `data/<key>` in zip archives).
    pub storage: String,
    /// The storage's size in bytes as its persistent id declares it.
    pub storage_nbytes: u64,
    /// The conjugate bit (`metadata['conj']`): stored bytes are not yet conjugated.
    pub conj: bool,
    /// The negative bit (`metadata['neg']`): stored bytes are not yet negated.
    pub neg: bool,
    /// `requires_grad`.
    pub requires_grad: bool,
    /// True when wrapped in `_rebuild_parameter` (an `nn.Parameter`).
    pub parameter: bool,
}

impl Tensor {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape).unwrap_or(0)
    }

    /// Bytes of the tensor's elements.
    pub fn nbytes(&self) -> usize {
        self.numel().saturating_mul(self.dtype.itemsize())
    }

    /// The byte range of the storage the tensor uses (empty for empty tensors).
    pub fn byte_range(&self) -> Result<(u64, u64)> {
        let item = self.dtype.itemsize();
        let start = (self.storage_offset as u64).saturating_mul(item as u64);
        if self.numel() == 0 {
            return Ok((start, start));
        }
        let end = extent(&self.shape, &self.stride, self.storage_offset, item)
            .ok_or_else(|| Error::data("tensor shape and strides overflow"))?;
        Ok((start, end as u64))
    }

    /// True when the elements are C-contiguous.
    pub fn is_contiguous(&self) -> bool {
        let c = crate::array::c_strides(&self.shape);
        self.numel() == 0
            || self
                .shape
                .iter()
                .zip(self.stride.iter().zip(&c))
                .all(|(&d, (s, e))| d == 1 || s == e)
    }
}

/// An opened checkpoint: its unpickled graph and where each storage's bytes are.
///
/// ```no_run
/// let ckpt = brine_formats::torch::Checkpoint::open("model.pt")?;
/// for (name, t) in ckpt.tensors()? {
///     let array = ckpt.read(&t)?; // only now are this tensor's bytes read
///     println!("{name}: {} {:?} {} bytes", t.dtype.name(), t.shape, array.nbytes());
/// }
/// # Ok::<(), brine::Error>(())
/// ```
pub struct Checkpoint<R> {
    source: RefCell<R>,
    /// The unpickled main object.
    pub graph: Graph,
    /// The archive prefix (`archive/`, `model/`; empty for legacy files).
    pub prefix: String,
    /// Zip or legacy.
    pub format: Format,
    /// True when storages are big-endian (`byteorder` record).
    pub big_endian: bool,
    storages: HashMap<String, Place>,
}

impl<R> std::fmt::Debug for Checkpoint<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("prefix", &self.prefix)
            .field("format", &self.format)
            .field("big_endian", &self.big_endian)
            .field("storages", &self.storages.len())
            .finish()
    }
}

impl Checkpoint<std::fs::File> {
    /// Opens a checkpoint file (zip or legacy).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let f = std::fs::File::open(path).map_err(io_err)?;
        Checkpoint::from_reader(f, &Limits::default())
    }
}

/// Options for torch pickles: the persistent-load hook checks each storage id where it
/// appears (so a malformed one is reported at its offset) and keeps it as a
/// [`Node::PersId`], resolved against the archive's records when tensors are read.
fn load_options(limits: &Limits) -> LoadOptions {
    LoadOptions::new()
        .limits(limits.clone())
        .persistent_load(|g, pid| {
            let is_module = tuple(g, pid)
                .ok()
                .and_then(|t| t.first().copied())
                .is_some_and(|t| text(g, t).is_ok_and(|t| t == "module"));
            // Legacy whole-module saves also persist `('module', cls, file, source)`.
            if !is_module {
                storage_id(g, pid)?;
            }
            Ok(g.add(Node::PersId(pid)))
        })
}

/// True when the data starts like a legacy torch file: protocol 2 and the LONG1 magic number.
pub fn is_legacy(head: &[u8]) -> bool {
    head.starts_with(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19")
}

fn read_limited(r: &mut impl Read, max: u64) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    r.take(max.saturating_add(1))
        .read_to_end(&mut v)
        .map_err(io_err)?;
    if v.len() as u64 > max {
        return Err(Error::limit(LimitKind::Decompressed));
    }
    Ok(v)
}

impl<R: Read + Seek> Checkpoint<R> {
    /// Opens a checkpoint from a seekable source: reads the archive's directory and the main
    /// pickle, not the storages.
    pub fn from_reader(mut source: R, limits: &Limits) -> Result<Self> {
        let mut head = [0u8; 16];
        let n = source.read(&mut head).map_err(io_err)?;
        source.seek(SeekFrom::Start(0)).map_err(io_err)?;
        if is_legacy(&head[..n]) {
            return Self::legacy(source, limits);
        }
        let file_len = source.seek(SeekFrom::End(0)).map_err(io_err)?;
        source.seek(SeekFrom::Start(0)).map_err(io_err)?;
        let mut zip = zip::ZipArchive::new(source).map_err(zip_err)?;
        if zip.len() > limits.max_members {
            return Err(Error::limit(LimitKind::Members));
        }
        let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
        let pkl = names
            .iter()
            .filter(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
            .min_by_key(|n| n.len())
            .ok_or_else(|| Error::data("not a torch checkpoint: no data.pkl in the archive"))?
            .clone();
        let prefix = pkl[..pkl.len() - "data.pkl".len()].to_owned();
        let data_pkl = read_limited(
            &mut zip.by_name(&pkl).map_err(zip_err)?,
            limits.max_decompressed,
        )?;
        let big_endian = match zip.by_name(&format!("{prefix}byteorder")) {
            Ok(mut f) => {
                let b = read_limited(&mut f, 64)?;
                match b.trim_ascii() {
                    b"little" => false,
                    b"big" => true,
                    _ => return Err(Error::data("unknown torch byteorder record")),
                }
            }
            Err(_) => false,
        };
        let mut storages = HashMap::new();
        let data_dir = format!("{prefix}data/");
        for name in &names {
            let Some(key) = name.strip_prefix(&data_dir) else {
                continue;
            };
            let mut f = zip.by_name(name).map_err(zip_err)?;
            let place = if f.compression() == zip::CompressionMethod::Stored {
                let (offset, len) = (f.data_start(), f.size());
                // Sizes in the directory are claims: the bytes must be in the file.
                if offset.checked_add(len).is_none_or(|e| e > file_len)
                    || f.compressed_size() != len
                {
                    return Err(Error::data(format!(
                        "storage record {name:?} lies outside the file"
                    )));
                }
                Place::At { offset, len }
            } else {
                Place::Owned(read_limited(&mut f, limits.max_decompressed)?)
            };
            storages.insert(key.to_owned(), place);
        }
        let graph = brine::loads_with(&data_pkl, load_options(limits))?;
        Ok(Checkpoint {
            source: RefCell::new(zip.into_inner()),
            graph,
            prefix,
            format: Format::Zip,
            big_endian,
            storages,
        })
    }

    fn legacy(mut source: R, limits: &Limits) -> Result<Self> {
        let file_len = source.seek(SeekFrom::End(0)).map_err(io_err)?;
        source.seek(SeekFrom::Start(0)).map_err(io_err)?;
        let (graph, keys, end) = {
            let mut u = Unpickler::from_reader(BufReader::new(&mut source), load_options(limits));
            // magic number, protocol version, sys_info: each its own pickle.dump.
            for _ in 0..3 {
                u.clear_memo();
                u.load()?;
            }
            let sys_info = u.graph().root();
            if let Some(Node::Dict(items)) = sys_info.map(|r| u.graph().get(r)) {
                for (k, v) in u.graph().pairs(*items) {
                    if text(u.graph(), k).is_ok_and(|k| k == "little_endian")
                        && !truthy(u.graph(), v)
                    {
                        return Err(Error::unsupported("big-endian legacy torch files"));
                    }
                }
            }
            u.clear_memo();
            let main = u.load()?;
            u.clear_memo();
            let keys_id = u.load()?;
            let end = u.offset();
            let mut g = u.into_graph();
            let keys: Vec<String> = tuple(&g, keys_id)?
                .iter()
                .map(|&k| text(&g, k).map(|s| s.into_owned()))
                .collect::<Result<_>>()?;
            g.set_root(main);
            (g, keys, end)
        };
        // Element sizes of each storage, from the persistent ids in the main pickle.
        let mut item = HashMap::new();
        for (_, n) in graph.nodes() {
            if let Node::PersId(pid) = n {
                if let Ok(s) = storage_id(&graph, *pid) {
                    item.insert(s.key, s.dtype.map_or(1, |d| d.itemsize()));
                }
            }
        }
        let mut storages = HashMap::new();
        let mut pos = end;
        for key in keys {
            let mut n = [0u8; 8];
            source.seek(SeekFrom::Start(pos)).map_err(io_err)?;
            source
                .read_exact(&mut n)
                .map_err(|_| Error::truncated().at(pos))?;
            let count = u64::from_le_bytes(n);
            let es = *item.get(&key).unwrap_or(&1) as u64;
            let len = count
                .checked_mul(es)
                .ok_or_else(|| Error::data("legacy storage size overflows"))?;
            let offset = pos + 8;
            if offset.checked_add(len).is_none_or(|e| e > file_len) {
                return Err(Error::truncated().at(file_len));
            }
            storages.insert(key, Place::At { offset, len });
            pos = offset + len;
        }
        Ok(Checkpoint {
            source: RefCell::new(source),
            graph,
            prefix: String::new(),
            format: Format::Legacy,
            big_endian: false,
            storages,
        })
    }

    /// Every tensor reachable from the main object, with its `state_dict`-style name (dict
    /// keys and attribute names joined by `.`; `_parameters`, `_buffers` and `_modules` of
    /// whole saved modules skipped), in pickle order. Storage bytes are not read.
    pub fn tensors(&self) -> Result<Vec<(String, Tensor)>> {
        collect(&self.graph, |g, id| self.tensor_at(g, id))
    }

    /// The tensor a node stands for, `None` when it is no tensor.
    pub fn tensor_at(&self, g: &Graph, id: NodeId) -> Result<Option<Tensor>> {
        let Some(t) = tensor_at(g, id)? else {
            return Ok(None);
        };
        let place = self
            .storages
            .get(&t.storage)
            .ok_or_else(|| Error::data(format!("storage {:?} is not in the archive", t.storage)))?;
        let (_, end) = t.byte_range()?;
        if end > place.len() {
            return Err(Error::data(format!(
                "tensor needs {end} bytes of storage {:?}, which has {}",
                t.storage,
                place.len()
            )));
        }
        Ok(Some(t))
    }

    /// Where the tensor's bytes lie in the checkpoint file, when they can be used as they are
    /// (memory-mapped, say): the storage is stored uncompressed, the tensor is C-contiguous,
    /// has no conj / neg bit and needs no byte swap. `None` otherwise: [`read`](Self::read)
    /// then gives its values.
    ///
    /// ```no_run
    /// let ckpt = brine_formats::torch::Checkpoint::open("model.pt")?;
    /// for (name, t) in ckpt.tensors()? {
    ///     if let Some(offset) = ckpt.file_offset(&t) {
    ///         println!("{name}: {} bytes at offset {offset}", t.nbytes());
    ///     }
    /// }
    /// # Ok::<(), brine::Error>(())
    /// ```
    pub fn file_offset(&self, t: &Tensor) -> Option<u64> {
        let Some(Place::At { offset, len }) = self.storages.get(&t.storage) else {
            return None;
        };
        let (start, end) = t.byte_range().ok()?;
        let swap = self.big_endian && t.dtype.swap_unit().is_some();
        (end <= *len && t.is_contiguous() && !t.conj && !t.neg && !swap).then_some(offset + start)
    }

    /// Reads `len` bytes at `start` of a storage.
    pub fn read_storage(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>> {
        let place = self
            .storages
            .get(key)
            .ok_or_else(|| Error::data(format!("storage {key:?} is not in the archive")))?;
        if start.checked_add(len).is_none_or(|e| e > place.len()) {
            return Err(Error::data(format!("range outside storage {key:?}")));
        }
        match place {
            Place::Owned(v) => Ok(v[start as usize..(start + len) as usize].to_vec()),
            Place::At { offset, .. } => {
                let len = usize::try_from(len).map_err(|_| Error::limit(LimitKind::Alloc))?;
                let mut src = self.source.borrow_mut();
                src.seek(SeekFrom::Start(offset + start)).map_err(io_err)?;
                // The length was checked against the real file size when the archive was opened.
                let mut buf = vec![0u8; len];
                src.read_exact(&mut buf).map_err(io_err)?;
                Ok(buf)
            }
        }
    }

    /// The tensor's values as a C-contiguous little-endian array, with the conj and neg bits
    /// applied: reads only the storage bytes the tensor spans.
    pub fn read(&self, t: &Tensor) -> Result<NdArray<'static>> {
        let (start, end) = t.byte_range()?;
        let mut raw = self.read_storage(&t.storage, start, end - start)?;
        if self.big_endian {
            if let Some(unit) = t.dtype.swap_unit() {
                swap_in_place(&mut raw, unit);
            }
        }
        let item = t.dtype.itemsize();
        let mut data = if t.is_contiguous() {
            raw.truncate(t.nbytes());
            raw
        } else {
            // `raw` starts at the tensor's first element: offsets are relative to it.
            gather(&raw, item, &t.shape, &t.stride, 0)
        };
        if t.conj {
            conj_in_place(&t.dtype, &mut data)?;
        }
        if t.neg {
            neg_in_place(&t.dtype, &mut data)?;
        }
        let dtype = t.dtype.to_little();
        NdArray::from_bytes(dtype, t.shape.clone(), data)
    }

    /// Writes the checkpoint's tensors as a safetensors file, like safetensors' `convert.py`:
    /// tensors under a top-level `"state_dict"` key when there is one; of tensors sharing
    /// overlapping storage bytes one name is kept (the first, sorted, covering the whole
    /// storage; an error when none does) and the others are recorded in `__metadata__` as
    /// `removed -> kept`, next to `"format": "pt"`; every tensor is written contiguous with
    /// its conj/neg bits applied. Dtypes safetensors lacks are an error. Tensors are read and
    /// written one at a time, so memory stays near the largest tensor.
    pub fn to_safetensors(&self, out: &mut impl Write) -> Result<ConvertReport> {
        let mut tensors = self.tensors()?;
        if tensors.iter().any(|(n, _)| n.starts_with("state_dict.")) {
            if let Some(Node::Dict(items)) = self.graph.root().map(|r| self.graph.get(r)) {
                if self
                    .graph
                    .pairs(*items)
                    .iter()
                    .any(|(k, _)| text(&self.graph, k).is_ok_and(|k| k == "state_dict"))
                {
                    tensors.retain(|(n, _)| n.starts_with("state_dict."));
                    for (n, _) in &mut tensors {
                        n.replace_range(.."state_dict.".len(), "");
                    }
                }
            }
        }
        let removed = remove_duplicate_names(&tensors)?;
        let mut metadata = vec![("format".to_owned(), "pt".to_owned())];
        let mut keep = Vec::new();
        for (name, t) in tensors {
            match removed.iter().find(|(r, _)| *r == name) {
                Some((r, k)) => metadata.push((r.clone(), k.clone())),
                None => keep.push((name, t)),
            }
        }
        let specs: Vec<safetensors::Spec> = keep
            .iter()
            .map(|(n, t)| safetensors::Spec {
                name: n.clone(),
                dtype: t.dtype.to_little(),
                shape: t.shape.clone(),
            })
            .collect();
        let plan = safetensors::plan(&metadata, &specs)?;
        out.write_all(&plan.header).map_err(io_err)?;
        let mut bytes = plan.header.len() as u64;
        for &i in &plan.order {
            let a = self.read(&keep[i].1)?;
            let data = a.raw().unwrap_or_default();
            out.write_all(data).map_err(io_err)?;
            bytes += data.len() as u64;
        }
        Ok(ConvertReport {
            tensors: keep.len(),
            aliases: metadata.into_iter().skip(1).collect(),
            bytes,
        })
    }
}

/// The torch storage class of a legacy dtype (`FloatStorage`), `None` for the dtypes torch
/// stores as `UntypedStorage` with a dtype argument (`_rebuild_tensor_v3`).
fn storage_class(d: &DType) -> Option<&'static str> {
    Some(match d {
        DType::Float(8, _) => "DoubleStorage",
        DType::Float(4, _) => "FloatStorage",
        DType::Float(2, _) => "HalfStorage",
        DType::BFloat16(_) => "BFloat16Storage",
        DType::Int(8, _) => "LongStorage",
        DType::Int(4, _) => "IntStorage",
        DType::Int(2, _) => "ShortStorage",
        DType::Int(1, _) => "CharStorage",
        DType::UInt(1, _) => "ByteStorage",
        DType::Bool => "BoolStorage",
        DType::Complex(8, _) => "ComplexFloatStorage",
        DType::Complex(16, _) => "ComplexDoubleStorage",
        _ => return None,
    })
}

/// Writes arrays as a PyTorch zip checkpoint holding an `OrderedDict` state_dict, as
/// `torch.save` lays it out: `<prefix>/data.pkl` (protocol 2), `byteorder`, one 64-byte
/// aligned stored record per tensor under `data/`, `version`. `torch.load` (also with
/// `weights_only=True`) reads it.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// use brine_formats::torch::{write_zip, Checkpoint};
/// let a = NdArray::from_bytes(DType::Float(4, ByteOrder::Little), vec![2], vec![0, 0, 128, 63, 0, 0, 0, 64])?;
/// let mut file = std::io::Cursor::new(Vec::new());
/// write_zip(&mut file, "model", &[("w", &a)])?;
/// let ckpt = Checkpoint::from_reader(file, &brine::Limits::default())?;
/// let (name, t) = &ckpt.tensors()?[0];
/// assert_eq!((name.as_str(), t.shape.as_slice()), ("w", &[2][..]));
/// assert_eq!(ckpt.read(t)?, a);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn write_zip(
    out: impl Write + Seek,
    prefix: &str,
    tensors: &[(&str, &NdArray<'_>)],
) -> Result<()> {
    let mut g = Graph::new();
    let od = g.global("collections", "OrderedDict");
    let empty = g.tuple(vec![]);
    let mut state = brine::value::Object::new(brine::value::ObjectKind::Reduce, od, empty);
    for (i, (name, a)) in tensors.iter().enumerate() {
        let dtype = a.dtype.to_little();
        let torch_name = dtype.torch_name().ok_or_else(|| {
            Error::unsupported(format!("torch has no dtype for {}", dtype.name()))
        })?;
        let class = storage_class(&dtype);
        let numel = a.numel();
        let (module, cls, count) = match class {
            Some(c) => ("torch", c, numel),
            None => ("torch.storage", "UntypedStorage", a.nbytes()),
        };
        let tag = g.str("storage");
        let cls = g.global(module, cls);
        let key = g.str(&i.to_string());
        let loc = g.str("cpu");
        let count = g.int(count as i64);
        let pid = g.tuple(vec![tag, cls, key, loc, count]);
        let storage = g.add(Node::PersId(pid));
        let zero = g.int(0);
        let dims: Vec<_> = a.shape.iter().map(|&d| g.int(d as i64)).collect();
        let shape = g.tuple(dims);
        let strides: Vec<_> = crate::array::c_strides(&a.shape)
            .into_iter()
            .map(|s| g.int(s as i64))
            .collect();
        let stride = g.tuple(strides);
        let rg = g.bool(false);
        let empty = g.tuple(vec![]);
        let hooks = g.object(brine::value::Object::new(
            brine::value::ObjectKind::Reduce,
            od,
            empty,
        ));
        let mut args = vec![storage, zero, shape, stride, rg, hooks];
        let func = if class.is_some() {
            "_rebuild_tensor_v2"
        } else {
            args.push(g.global("torch", torch_name));
            "_rebuild_tensor_v3"
        };
        let f = g.global("torch._utils", func);
        let args = g.tuple(args);
        let t = g.object(brine::value::Object::new(
            brine::value::ObjectKind::Reduce,
            f,
            args,
        ));
        let k = g.str(name);
        state.dict_items.push((k, t));
    }
    let root = g.object(state);
    g.set_root(root);
    let pickle = brine::dumps_with(&g, brine::DumpOptions::new().protocol(2))?;
    let mut zip = zip::ZipWriter::new(out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(
            tensors
                .iter()
                .any(|(_, a)| a.nbytes() as u64 >= u32::MAX as u64),
        )
        .with_alignment(64);
    let mut put = |name: String, data: &[u8]| -> Result<()> {
        zip.start_file(name, opts).map_err(zip_err)?;
        zip.write_all(data).map_err(io_err)
    };
    put(format!("{prefix}/data.pkl"), &pickle)?;
    put(format!("{prefix}/.format_version"), b"1")?;
    put(format!("{prefix}/.storage_alignment"), b"64")?;
    put(format!("{prefix}/byteorder"), b"little")?;
    for (i, (_, a)) in tensors.iter().enumerate() {
        put(format!("{prefix}/data/{i}"), &a.c_bytes_le()?)?;
    }
    put(format!("{prefix}/version"), b"3\n")?;
    zip.finish().map_err(zip_err)?;
    Ok(())
}

/// What [`Checkpoint::to_safetensors`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertReport {
    /// Tensors written.
    pub tensors: usize,
    /// Names dropped as aliases of a kept tensor: `(removed, kept)`.
    pub aliases: Vec<(String, String)>,
    /// Bytes written.
    pub bytes: u64,
}

/// convert.py's `_remove_duplicate_names`: `(removed, kept)` pairs.
fn remove_duplicate_names(tensors: &[(String, Tensor)]) -> Result<Vec<(String, String)>> {
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, t)) in tensors.iter().enumerate() {
        if t.storage_nbytes != 0 {
            groups.entry(t.storage.as_str()).or_default().push(i);
        }
    }
    let mut keys: Vec<&&str> = groups.keys().collect();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let members = &groups[*key];
        if members.len() < 2 {
            continue;
        }
        // Split where byte ranges stop overlapping, as `_filter_shared_not_shared` does.
        let mut areas = Vec::new();
        for &i in members {
            let (s, e) = tensors[i].1.byte_range()?;
            areas.push((s, e, tensors[i].0.as_str(), i));
        }
        areas.sort();
        let mut split: Vec<Vec<usize>> = vec![vec![areas[0].3]];
        let mut last_stop = areas[0].1;
        for &(start, stop, _, i) in &areas[1..] {
            if start >= last_stop {
                split.push(vec![i]);
            } else if let Some(last) = split.last_mut() {
                last.push(i);
            }
            last_stop = stop;
        }
        for group in split {
            if group.len() < 2 {
                continue;
            }
            let mut complete: Vec<&str> = group
                .iter()
                .filter(|&&i| {
                    let t = &tensors[i].1;
                    t.storage_offset == 0 && t.nbytes() as u64 == t.storage_nbytes
                })
                .map(|&i| tensors[i].0.as_str())
                .collect();
            complete.sort();
            let Some(kept) = complete.first() else {
                let mut names: Vec<&str> = group.iter().map(|&i| tensors[i].0.as_str()).collect();
                names.sort();
                return Err(Error::data(format!(
                    "tensors {names:?} share storage but none covers all of it; refusing to \
                     save more memory than needed (as safetensors' convert.py)"
                )));
            };
            let mut names: Vec<&str> = group.iter().map(|&i| tensors[i].0.as_str()).collect();
            names.sort();
            for n in names {
                if n != *kept {
                    out.push((n.to_owned(), (*kept).to_owned()));
                }
            }
        }
    }
    Ok(out)
}

fn conj_in_place(d: &DType, data: &mut [u8]) -> Result<()> {
    let DType::Complex(n, _) = d else {
        // The conj bit means nothing for real tensors.
        return Ok(());
    };
    let half = *n as usize / 2;
    // Little-endian: the sign bit of the imaginary part is the top bit of its last byte.
    for c in data.chunks_exact_mut(*n as usize) {
        c[2 * half - 1] ^= 0x80;
    }
    Ok(())
}

fn neg_in_place(d: &DType, data: &mut [u8]) -> Result<()> {
    match d {
        DType::Float(n, _) | DType::Complex(n, _) => {
            let unit = match d {
                DType::Complex(..) => *n as usize / 2,
                _ => *n as usize,
            };
            for c in data.chunks_exact_mut(unit) {
                c[unit - 1] ^= 0x80;
            }
        }
        DType::BFloat16(_) => {
            for c in data.chunks_exact_mut(2) {
                c[1] ^= 0x80;
            }
        }
        DType::Float8(Float8::E4M3 | Float8::E5M2) => data.iter_mut().for_each(|b| *b ^= 0x80),
        DType::Float8(Float8::E4M3Fnuz | Float8::E5M2Fnuz) => {
            // 0x80 is NaN in the fnuz formats: zero stays zero.
            data.iter_mut()
                .filter(|b| **b & 0x7f != 0)
                .for_each(|b| *b ^= 0x80)
        }
        DType::Int(n, _) => {
            for c in data.chunks_exact_mut(*n as usize) {
                let mut carry = true;
                for b in c.iter_mut() {
                    let (v, c2) = (!*b).overflowing_add(carry as u8);
                    *b = v;
                    carry = c2;
                }
            }
        }
        other => {
            return Err(Error::unsupported(format!(
                "the neg bit on a {} tensor",
                other.name()
            )))
        }
    }
    Ok(())
}

/// A decoded persistent id.
struct StorageId {
    key: String,
    /// `None` for `UntypedStorage` (bytes; the dtype comes from `_rebuild_tensor_v3`).
    dtype: Option<DType>,
    numel: u64,
    /// Legacy views: the id's 6th item `(view_key, offset, size)` places this storage
    /// `offset` elements into the root storage `key`.
    view_offset: usize,
}

fn storage_id(g: &Graph, pid: NodeId) -> Result<StorageId> {
    let parts = tuple(g, pid)?;
    if parts.len() < 5 || text(g, parts[0]).map_or(true, |t| t != "storage") {
        return Err(Error::data("persistent id is not a torch storage"));
    }
    let (m, n) =
        global_of(g, parts[1]).ok_or_else(|| Error::data("storage type is not a global"))?;
    let dtype = match (m, n) {
        ("torch.storage" | "torch", "UntypedStorage") => None,
        (_, name) => Some(storage_dtype(name)?),
    };
    let key = text(g, parts[2])?.into_owned();
    let numel =
        u64::try_from(int(g, parts[4])?).map_err(|_| Error::data("negative storage size"))?;
    let view_offset = match parts.get(5).map(|&v| (v, g.get(v))) {
        Some((v, Node::Tuple(_))) => {
            let view = tuple(g, v)?;
            if view.len() != 3 {
                return Err(Error::data(
                    "legacy storage view must be (key, offset, size)",
                ));
            }
            usize::try_from(int(g, view[1])?).map_err(|_| Error::data("negative view offset"))?
        }
        _ => 0,
    };
    Ok(StorageId {
        key,
        dtype,
        numel,
        view_offset,
    })
}

fn storage_dtype(name: &str) -> Result<DType> {
    let l = ByteOrder::Little;
    Ok(match name {
        "DoubleStorage" => DType::Float(8, l),
        "FloatStorage" => DType::Float(4, l),
        "HalfStorage" => DType::Float(2, l),
        "BFloat16Storage" => DType::BFloat16(l),
        "LongStorage" => DType::Int(8, l),
        "IntStorage" => DType::Int(4, l),
        "ShortStorage" => DType::Int(2, l),
        "CharStorage" => DType::Int(1, l),
        "ByteStorage" => DType::UInt(1, l),
        "BoolStorage" => DType::Bool,
        "ComplexFloatStorage" => DType::Complex(8, l),
        "ComplexDoubleStorage" => DType::Complex(16, l),
        other => return Err(Error::unsupported(format!("torch storage type {other}"))),
    })
}

/// The DType of a torch dtype name (`float32`, `bfloat16`, `float8_e4m3fn`, `uint16`).
pub fn dtype_from_torch(name: &str) -> Option<DType> {
    let l = ByteOrder::Little;
    Some(match name {
        "float64" | "double" => DType::Float(8, l),
        "float32" | "float" => DType::Float(4, l),
        "float16" | "half" => DType::Float(2, l),
        "bfloat16" => DType::BFloat16(l),
        "int64" | "long" => DType::Int(8, l),
        "int32" | "int" => DType::Int(4, l),
        "int16" | "short" => DType::Int(2, l),
        "int8" => DType::Int(1, l),
        "uint8" => DType::UInt(1, l),
        "uint16" => DType::UInt(2, l),
        "uint32" => DType::UInt(4, l),
        "uint64" => DType::UInt(8, l),
        "bool" => DType::Bool,
        "complex32" | "chalf" => DType::Complex(4, l),
        "complex64" | "cfloat" => DType::Complex(8, l),
        "complex128" | "cdouble" => DType::Complex(16, l),
        "float8_e4m3fn" => DType::Float8(Float8::E4M3),
        "float8_e5m2" => DType::Float8(Float8::E5M2),
        "float8_e4m3fnuz" => DType::Float8(Float8::E4M3Fnuz),
        "float8_e5m2fnuz" => DType::Float8(Float8::E5M2Fnuz),
        "float8_e8m0fnu" => DType::Float8(Float8::E8M0),
        _ => return None,
    })
}

/// Unwrapping of parameter and subclass rebuilds followed before giving up.
const MAX_WRAPS: usize = 8;

/// The tensor a node describes, without checking its storage against an archive.
pub fn tensor_at(g: &Graph, id: NodeId) -> Result<Option<Tensor>> {
    let mut id = id;
    let mut parameter = false;
    let mut requires_grad_outer = None;
    for _ in 0..MAX_WRAPS {
        let Some(o) = object(g, id) else {
            return Ok(None);
        };
        let Some((m, name)) = global_of(g, o.callable) else {
            return Ok(None);
        };
        let args = match g.get(o.args) {
            Node::Tuple(a) => g.items(*a),
            _ => return Ok(None),
        };
        match (m, name) {
            ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
                let inner = *args
                    .first()
                    .ok_or_else(|| Error::data("_rebuild_parameter without a tensor"))?;
                parameter = true;
                requires_grad_outer = args.get(1).map(|&r| truthy(g, r));
                id = inner;
            }
            ("torch._tensor", "_rebuild_from_type_v2") => {
                // (func, new_type, args, state): the tensor is func(*args).
                if args.len() < 3 {
                    return Err(Error::data("_rebuild_from_type_v2 needs 3 arguments"));
                }
                let (func, inner_args) = (args[0], args[2]);
                let found = rebuild(g, func, tuple(g, inner_args)?)?;
                return Ok(found.map(|mut t| {
                    t.parameter |= parameter;
                    t
                }));
            }
            ("torch._utils", _) => {
                let found = rebuild(g, o.callable, args)?;
                return Ok(found.map(|mut t| {
                    t.parameter = parameter;
                    if let Some(r) = requires_grad_outer {
                        t.requires_grad = r;
                    }
                    t
                }));
            }
            _ => return Ok(None),
        }
    }
    Err(Error::data("tensor wrapped too deeply"))
}

fn rebuild(g: &Graph, func: NodeId, args: &[NodeId]) -> Result<Option<Tensor>> {
    let Some(("torch._utils", name)) = global_of(g, func) else {
        return Ok(None);
    };
    let v3 = match name {
        "_rebuild_tensor_v2" | "_rebuild_tensor" => false,
        "_rebuild_tensor_v3" => true,
        // Quantized, sparse, nested, meta and device tensors: say so rather than drop them.
        other if other.starts_with("_rebuild_") => {
            return Err(Error::unsupported(format!(
                "torch tensors rebuilt by {other}"
            )))
        }
        _ => return Ok(None),
    };
    let min = if name == "_rebuild_tensor" {
        4
    } else if v3 {
        7
    } else {
        6
    };
    if args.len() < min {
        return Err(Error::data(format!("{name} needs {min} arguments")));
    }
    let Node::PersId(pid) = g.get(args[0]) else {
        return Err(Error::data(format!(
            "{name}: storage is a {}, not a persistent id",
            g.get(args[0]).kind_name()
        )));
    };
    let sid = storage_id(g, *pid)?;
    let dtype = if v3 {
        let (m, n) = global_of(g, args[6]).ok_or_else(|| Error::data("dtype is not a global"))?;
        if m != "torch" {
            return Err(Error::data(format!("unknown dtype {m}.{n}")));
        }
        dtype_from_torch(n).ok_or_else(|| Error::unsupported(format!("torch dtype {n}")))?
    } else {
        sid.dtype
            .clone()
            .ok_or_else(|| Error::data("untyped storage without a dtype"))?
    };
    let storage_nbytes = match sid.dtype {
        Some(d) => sid.numel.saturating_mul(d.itemsize() as u64),
        None => sid.numel,
    };
    let storage_offset = usize::try_from(int(g, args[1])?)
        .ok()
        .and_then(|o| o.checked_add(sid.view_offset))
        .ok_or_else(|| Error::data("bad storage offset"))?;
    let shape = shape_of(g, args[2])?;
    let stride = shape_of(g, args[3])?;
    if stride.len() != shape.len() {
        return Err(Error::data("tensor stride and size differ in length"));
    }
    let requires_grad = args.get(4).is_some_and(|&r| truthy(g, r));
    let meta_at = if v3 { 7 } else { 6 };
    let (mut conj, mut neg) = (false, false);
    if let Some(&m) = args.get(meta_at) {
        if let Node::Dict(items) = g.get(m) {
            for (k, v) in g.pairs(*items) {
                match text(g, k).as_deref() {
                    Ok("conj") => conj = truthy(g, v),
                    Ok("neg") => neg = truthy(g, v),
                    _ => {}
                }
            }
        }
    }
    Ok(Some(Tensor {
        dtype,
        shape,
        stride,
        storage_offset,
        storage: sid.key,
        storage_nbytes,
        conj,
        neg,
        requires_grad,
        parameter: false,
    }))
}
