//! [`File`]: an HDF5 file opened in one of h5py's modes, its objects addressed by path.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::array::{Array, DType};
use crate::error::{Error, Result};
use crate::read::{self, Filter};
use crate::select::{slice_array, Selection};
use crate::tree::{components, DatasetOptions, Kind, Tree};

/// The HDF5 signature; files may start with a user block of 512, 1024, 2048, ... bytes.
pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Whether `data` (the start of a file) holds the HDF5 signature at offset 0, 512, 1024, ...
///
/// ```
/// assert!(brine_hdf5::is_hdf5(b"\x89HDF\r\n\x1a\n\x02"));
/// assert!(!brine_hdf5::is_hdf5(b"\x80\x04K\x01."));
/// ```
pub fn is_hdf5(data: &[u8]) -> bool {
    let mut at = 0usize;
    while at + 8 <= data.len() {
        if &data[at..at + 8] == SIGNATURE {
            return true;
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    false
}

/// Whether the file at `path` holds the HDF5 signature where [`is_hdf5`] looks, reading only
/// those 8-byte slots (a large file is not read whole).
///
/// ```
/// # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keras_model.h5");
/// assert!(brine_hdf5::is_hdf5_file(&path)?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn is_hdf5_file(path: impl AsRef<Path>) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut at = 0u64;
    while at.saturating_add(8) <= len {
        let mut sig = [0u8; 8];
        f.seek(SeekFrom::Start(at))?;
        f.read_exact(&mut sig)?;
        if &sig == SIGNATURE {
            return Ok(true);
        }
        at = if at == 0 { 512 } else { at.saturating_mul(2) };
    }
    Ok(false)
}

/// How to open a file, h5py's modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `r`: read only; the file must exist.
    Read,
    /// `r+`: read and write; the file must exist.
    ReadWrite,
    /// `w`: create, truncating any existing file.
    Truncate,
    /// `w-` (or `x`): create; fail if the file exists.
    CreateNew,
    /// `a`: read and write if the file exists, create it otherwise.
    Append,
}

impl FromStr for Mode {
    type Err = Error;

    /// `r`, `r+`, `w`, `w-`, `x` or `a`.
    fn from_str(s: &str) -> Result<Mode> {
        Ok(match s {
            "r" => Mode::Read,
            "r+" => Mode::ReadWrite,
            "w" => Mode::Truncate,
            "w-" | "x" => Mode::CreateNew,
            "a" => Mode::Append,
            _ => return Err(Error::data(format!("unknown mode {s:?}"))),
        })
    }
}

/// What an object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// A group.
    Group,
    /// A dataset.
    Dataset,
}

/// One object met by [`File::walk`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Absolute path, `/` for the root group.
    pub path: String,
    /// Group or dataset.
    pub kind: ObjectKind,
    /// Nesting level (0 for the root group).
    pub depth: usize,
}

/// What a dataset is, without its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetInfo {
    /// Extent of each dimension.
    pub shape: Vec<usize>,
    /// The element type, if brine knows it.
    pub dtype: Option<DType>,
    /// A description of the element type (also for types brine does not read).
    pub type_name: String,
    /// The chunk shape for chunked storage.
    pub chunks: Option<Vec<usize>>,
    /// The filter pipeline, in order.
    pub filters: Vec<Filter>,
}

/// Bounds for reading files that may be hostile.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Largest selection one read may allocate, in bytes (default 4 GiB).
    pub max_read_bytes: usize,
    /// Largest decoded chunk, in bytes (default 256 MiB).
    pub max_chunk_bytes: usize,
    /// Bytes of decoded chunks kept for reuse (default 16 MiB).
    pub chunk_cache_bytes: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_read_bytes: 4 << 30,
            max_chunk_bytes: 256 << 20,
            chunk_cache_bytes: 16 << 20,
        }
    }
}

enum State {
    Read(hdf5_reader::Hdf5File),
    Write(Tree),
    Closed,
}

/// An HDF5 file.
///
/// Read mode (`r`) reads lazily: metadata on demand and, for a slice, only the chunks it
/// touches. The writable modes keep the whole object tree in memory and write the file on
/// [`close`](File::close) (or drop), through a temporary file renamed over the target; `r+`
/// and `a` load an existing file's objects first, so their cost is that of the whole file.
///
/// ```
/// use brine_hdf5::{Array, DatasetOptions, File, Mode};
/// let dir = std::env::temp_dir().join(format!("brine-hdf5-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("demo.h5");
///
/// let mut f = File::create(&path)?;
/// let x = Array::from_f32(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).reshape(&[2, 3])?;
/// f.create_dataset("weights/layer1/kernel", x, DatasetOptions::new().chunks(&[1, 3]).gzip(4))?;
/// f.set_attr("/", "title", Array::scalar_str("demo"))?;
/// f.close()?;
///
/// let f = File::open(&path)?;
/// let part = f.read_slice("weights/layer1/kernel", &"1,::2".parse()?)?;
/// assert_eq!(part.to_f64()?, vec![3.0, 5.0]);
/// assert_eq!(f.attr("/", "title")?.to_strings()?, vec!["demo"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct File {
    path: PathBuf,
    mode: Mode,
    state: State,
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish()
    }
}

fn not_found(path: &str) -> Error {
    Error::data(format!("no object {path:?}"))
}

fn absolute(path: &str) -> String {
    format!("/{}", components(path).join("/"))
}

impl File {
    /// Opens an existing file for reading (`r`).
    pub fn open(path: impl AsRef<Path>) -> Result<File> {
        File::open_with(path, Mode::Read, &OpenOptions::default())
    }

    /// Creates a file, truncating an existing one (`w`).
    pub fn create(path: impl AsRef<Path>) -> Result<File> {
        File::open_with(path, Mode::Truncate, &OpenOptions::default())
    }

    /// Opens a file in `mode`, with read bounds.
    ///
    /// ```
    /// use brine_hdf5::{Array, DatasetOptions, File, Mode, OpenOptions};
    /// # let path = std::env::temp_dir().join(format!("brine-modes-doc-{}.h5", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let opts = OpenOptions::default();
    /// let mut f = File::open_with(&path, "a".parse()?, &opts)?; // created: it did not exist
    /// f.create_dataset("x", Array::from_u16(&[1, 2]), DatasetOptions::new())?;
    /// f.close()?;
    /// assert!(File::open_with(&path, Mode::CreateNew, &opts).is_err()); // `w-`: exists
    /// let mut f = File::open_with(&path, Mode::ReadWrite, &opts)?; // `r+`
    /// f.set_attr("x", "unit", Array::scalar_str("mm"))?;
    /// f.close()?;
    /// assert_eq!(File::open(&path)?.attr("x", "unit")?.to_strings()?, ["mm"]);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), brine_hdf5::Error>(())
    /// ```
    pub fn open_with(path: impl AsRef<Path>, mode: Mode, options: &OpenOptions) -> Result<File> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let exists = path.exists();
        let state = match mode {
            Mode::Read => State::Read(open_reader(&path, options)?),
            Mode::ReadWrite if !exists => {
                return Err(Error::io(
                    shown,
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                ))
            }
            Mode::ReadWrite | Mode::Append if exists => {
                State::Write(load_tree(open_reader(&path, options)?)?)
            }
            Mode::CreateNew => {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(|e| Error::io(shown, e))?;
                State::Write(Tree::new())
            }
            Mode::Truncate | Mode::Append | Mode::ReadWrite => {
                // Like h5py, `w` truncates at once, so a bad path fails here, not at close.
                std::fs::File::create(&path).map_err(|e| Error::io(shown, e))?;
                State::Write(Tree::new())
            }
        };
        Ok(File { path, mode, state })
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mode the file was opened in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn tree_mut(&mut self) -> Result<&mut Tree> {
        match &mut self.state {
            State::Write(t) => Ok(t),
            State::Read(_) => Err(Error::data("file is open read-only")),
            State::Closed => Err(Error::data("file is closed")),
        }
    }

    /// Creates a group and any missing parents; fails if `path` exists.
    pub fn create_group(&mut self, path: &str) -> Result<()> {
        self.tree_mut()?.create_group(path).map(drop)
    }

    /// The group at `path`, created with its parents if missing (h5py `require_group`).
    ///
    /// ```
    /// use brine_hdf5::{File, ObjectKind};
    /// # let path = std::env::temp_dir().join(format!("brine-groups-doc-{}.h5", std::process::id()));
    /// let mut f = File::create(&path)?;
    /// f.require_group("a/b/c")?;
    /// f.require_group("a/b")?; // already there: fine
    /// assert!(f.create_group("a/b").is_err()); // create_group insists on a new one
    /// assert_eq!(f.kind("/a/b/c")?, Some(ObjectKind::Group));
    /// assert_eq!(f.members("a")?, ["b"]);
    /// # drop(f); std::fs::remove_file(&path)?;
    /// # Ok::<(), brine_hdf5::Error>(())
    /// ```
    pub fn require_group(&mut self, path: &str) -> Result<()> {
        self.tree_mut()?.require_group(path).map(drop)
    }

    /// Creates a dataset holding `data` (parents created); fails if `path` exists.
    pub fn create_dataset(
        &mut self,
        path: &str,
        data: Array,
        options: DatasetOptions,
    ) -> Result<()> {
        self.tree_mut()?
            .create_dataset(path, data, options)
            .map(drop)
    }

    /// Sets (adds or replaces) attribute `name` of the object at `path` (`/` for the file).
    pub fn set_attr(&mut self, path: &str, name: &str, value: Array) -> Result<()> {
        self.tree_mut()?.set_attr(path, name, value)
    }

    /// Deletes the link at `path` (h5py `del f[path]`).
    pub fn delete(&mut self, path: &str) -> Result<()> {
        self.tree_mut()?.unlink(path)
    }

    /// Whether `path` names a group or a dataset; `None` if nothing is there.
    pub fn kind(&self, path: &str) -> Result<Option<ObjectKind>> {
        match &self.state {
            State::Write(t) => Ok(t.find(path).map(|id| match t.nodes[id].kind {
                Kind::Group { .. } => ObjectKind::Group,
                Kind::Dataset { .. } => ObjectKind::Dataset,
            })),
            State::Read(f) => {
                if components(path).is_empty() || f.group(&absolute(path)).is_ok() {
                    Ok(Some(ObjectKind::Group))
                } else if f.dataset(&absolute(path)).is_ok() {
                    Ok(Some(ObjectKind::Dataset))
                } else {
                    Ok(None)
                }
            }
            State::Closed => Err(Error::data("file is closed")),
        }
    }

    /// The names of the members of the group at `path`, sorted as h5py lists them.
    pub fn members(&self, path: &str) -> Result<Vec<String>> {
        let mut names = match &self.state {
            State::Write(t) => {
                let id = t.find(path).ok_or_else(|| not_found(path))?;
                match &t.nodes[id].kind {
                    Kind::Group { children } => {
                        children.iter().map(|&c| t.nodes[c].name.clone()).collect()
                    }
                    Kind::Dataset { .. } => {
                        return Err(Error::data(format!("{path:?} is a dataset")))
                    }
                }
            }
            State::Read(f) => {
                let g = reader_group(f, path)?;
                let (mut groups, datasets) = g.member_names()?;
                groups.extend(datasets);
                groups
            }
            State::Closed => return Err(Error::data("file is closed")),
        };
        names.sort();
        Ok(names)
    }

    /// Every group and dataset, depth first in name order, the root first. Objects reached by
    /// several links are listed once (at their first path), so link cycles end.
    ///
    /// ```
    /// use brine_hdf5::{Array, DatasetOptions, File, ObjectKind};
    /// # let path = std::env::temp_dir().join(format!("brine-walk-{}.h5", std::process::id()));
    /// let mut f = File::create(&path)?;
    /// f.create_dataset("a/b/x", Array::from_u8(&[1]), DatasetOptions::new())?;
    /// let paths: Vec<String> = f.walk()?.into_iter().map(|e| e.path).collect();
    /// assert_eq!(paths, ["/", "/a", "/a/b", "/a/b/x"]);
    /// # drop(f); std::fs::remove_file(&path)?;
    /// # Ok::<(), brine_hdf5::Error>(())
    /// ```
    pub fn walk(&self) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        match &self.state {
            State::Write(t) => {
                let mut stack = vec![(0usize, String::from("/"), 0usize)];
                while let Some((id, path, depth)) = stack.pop() {
                    match &t.nodes[id].kind {
                        Kind::Group { children } => {
                            out.push(Entry {
                                path: path.clone(),
                                kind: ObjectKind::Group,
                                depth,
                            });
                            let mut kids: Vec<usize> = children.clone();
                            kids.sort_by(|a, b| t.nodes[*b].name.cmp(&t.nodes[*a].name));
                            for c in kids {
                                stack.push((c, join(&path, &t.nodes[c].name), depth + 1));
                            }
                        }
                        Kind::Dataset { .. } => out.push(Entry {
                            path,
                            kind: ObjectKind::Dataset,
                            depth,
                        }),
                    }
                }
            }
            State::Read(f) => {
                let mut seen = HashSet::new();
                let mut stack = vec![(String::from("/"), ObjectKind::Group, 0usize)];
                while let Some((path, kind, depth)) = stack.pop() {
                    if kind == ObjectKind::Dataset {
                        out.push(Entry { path, kind, depth });
                        continue;
                    }
                    let g = f.group(&path)?;
                    if !seen.insert(g.address()) {
                        continue;
                    }
                    let (groups, datasets) = g.member_names()?;
                    let mut kids: Vec<(String, ObjectKind)> = groups
                        .into_iter()
                        .map(|n| (n, ObjectKind::Group))
                        .chain(datasets.into_iter().map(|n| (n, ObjectKind::Dataset)))
                        .collect();
                    kids.sort();
                    for (name, k) in kids.into_iter().rev() {
                        stack.push((join(&path, &name), k, depth + 1));
                    }
                    out.push(Entry { path, kind, depth });
                }
            }
            State::Closed => return Err(Error::data("file is closed")),
        }
        Ok(out)
    }

    /// The shape, type and storage of the dataset at `path`.
    ///
    /// ```
    /// use brine_hdf5::{DType, File, Filter};
    /// # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/h5py_default.h5");
    /// let f = File::open(&path)?;
    /// let info = f.dataset("/layouts/shuffle_gzip")?;
    /// assert_eq!(info.shape, [20, 30]);
    /// assert_eq!(info.dtype, Some(DType::I32));
    /// assert_eq!(info.chunks, Some(vec![4, 4]));
    /// assert_eq!(info.filters, [Filter::Shuffle, Filter::Gzip(4)]);
    /// # Ok::<(), brine_hdf5::Error>(())
    /// ```
    pub fn dataset(&self, path: &str) -> Result<DatasetInfo> {
        match &self.state {
            State::Write(t) => {
                let id = t.find(path).ok_or_else(|| not_found(path))?;
                match &t.nodes[id].kind {
                    Kind::Dataset { array, options } => {
                        let mut filters = Vec::new();
                        if options.shuffle {
                            filters.push(Filter::Shuffle);
                        }
                        if let Some(l) = options.gzip {
                            filters.push(Filter::Gzip(l));
                        }
                        Ok(DatasetInfo {
                            shape: array.shape().to_vec(),
                            dtype: Some(array.dtype()),
                            type_name: array.dtype().to_string(),
                            chunks: options.chunks.clone(),
                            filters,
                        })
                    }
                    Kind::Group { .. } => Err(Error::data(format!("{path:?} is a group"))),
                }
            }
            State::Read(f) => {
                let ds = reader_dataset(f, path)?;
                let (chunks, filters) = read::storage(f, &ds);
                Ok(DatasetInfo {
                    shape: read::shape_of(&ds)?,
                    dtype: read::dtype_of(ds.dtype()).ok().map(|d| d.0),
                    type_name: read::describe(ds.dtype()),
                    chunks,
                    filters,
                })
            }
            State::Closed => Err(Error::data("file is closed")),
        }
    }

    /// The whole dataset at `path`.
    pub fn read(&self, path: &str) -> Result<Array> {
        self.read_slice(path, &Selection::all())
    }

    /// The part of the dataset at `path` that `sel` selects (numpy rules; steps allowed).
    /// In read mode only the chunks the selection touches are read.
    pub fn read_slice(&self, path: &str, sel: &Selection) -> Result<Array> {
        match &self.state {
            State::Write(t) => {
                let id = t.find(path).ok_or_else(|| not_found(path))?;
                match &t.nodes[id].kind {
                    Kind::Dataset { array, .. } => slice_array(array, sel),
                    Kind::Group { .. } => Err(Error::data(format!("{path:?} is a group"))),
                }
            }
            State::Read(f) => read::read_slice(&reader_dataset(f, path)?, sel),
            State::Closed => Err(Error::data("file is closed")),
        }
    }

    /// The names of the attributes of the object at `path`, in stored order.
    pub fn attr_names(&self, path: &str) -> Result<Vec<String>> {
        match &self.state {
            State::Write(t) => {
                let id = t.find(path).ok_or_else(|| not_found(path))?;
                Ok(t.nodes[id].attrs.iter().map(|(n, _)| n.clone()).collect())
            }
            State::Read(f) => Ok(reader_attrs(f, path)?.into_iter().map(|a| a.name).collect()),
            State::Closed => Err(Error::data("file is closed")),
        }
    }

    /// Attribute `name` of the object at `path`.
    pub fn attr(&self, path: &str, name: &str) -> Result<Array> {
        match &self.state {
            State::Write(t) => {
                let id = t.find(path).ok_or_else(|| not_found(path))?;
                t.nodes[id]
                    .attrs
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| Error::data(format!("no attribute {name:?} on {path:?}")))
            }
            State::Read(f) => {
                let attrs = reader_attrs(f, path)?;
                let a = attrs
                    .iter()
                    .find(|a| a.name == name)
                    .ok_or_else(|| Error::data(format!("no attribute {name:?} on {path:?}")))?;
                read::attribute(a)
            }
            State::Closed => Err(Error::data("file is closed")),
        }
    }

    /// Every attribute of the object at `path`; fails on the first one brine cannot read.
    ///
    /// ```
    /// use brine_hdf5::{DType, File};
    /// # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/h5py_default.h5");
    /// let f = File::open(&path)?;
    /// let attrs = f.attrs("/")?;
    /// let (name, flags) = &attrs[3];
    /// assert_eq!(name, "flags");
    /// assert_eq!(flags.dtype(), DType::Bool);
    /// assert_eq!(flags.to_i64()?, [1, 0, 1]);
    /// # Ok::<(), brine_hdf5::Error>(())
    /// ```
    pub fn attrs(&self, path: &str) -> Result<Vec<(String, Array)>> {
        self.attr_names(path)?
            .into_iter()
            .map(|n| {
                let v = self.attr(path, &n)?;
                Ok((n, v))
            })
            .collect()
    }

    /// Writes the file now (writable modes); it stays open.
    pub fn flush(&mut self) -> Result<()> {
        let State::Write(tree) = &self.state else {
            return Ok(());
        };
        write_atomically(tree, &self.path)
    }

    /// Writes the file (writable modes) and closes it. Dropping a writable file without
    /// closing it writes it too, but cannot report a failure.
    pub fn close(mut self) -> Result<()> {
        let r = self.flush();
        self.state = State::Closed;
        r
    }
}

impl Drop for File {
    fn drop(&mut self) {
        if matches!(self.state, State::Write(_)) {
            // Best effort, like h5py's close at garbage collection; `close` reports errors.
            let _ = self.flush();
        }
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn open_reader(path: &Path, options: &OpenOptions) -> Result<hdf5_reader::Hdf5File> {
    let opts = hdf5_reader::OpenOptions::default()
        .with_max_read_bytes(options.max_read_bytes)
        .with_max_chunk_bytes(options.max_chunk_bytes)
        .with_chunk_cache_bytes(options.chunk_cache_bytes);
    hdf5_reader::Hdf5File::open_with_options(path, opts).map_err(|e| {
        let e = Error::from(e);
        Error::new(e.classify(), format!("{}: {}", path.display(), e.message()))
    })
}

fn reader_group(f: &hdf5_reader::Hdf5File, path: &str) -> Result<hdf5_reader::group::Group> {
    f.group(&absolute(path)).map_err(|e| match e {
        hdf5_reader::error::Error::GroupNotFound(_) => not_found(path),
        e => e.into(),
    })
}

fn reader_dataset(f: &hdf5_reader::Hdf5File, path: &str) -> Result<hdf5_reader::Dataset> {
    f.dataset(&absolute(path)).map_err(|e| match e {
        hdf5_reader::error::Error::DatasetNotFound(_) => not_found(path),
        e => e.into(),
    })
}

fn reader_attrs(f: &hdf5_reader::Hdf5File, path: &str) -> Result<Vec<hdf5_reader::Attribute>> {
    if components(path).is_empty() {
        return Ok(f.root_group()?.attributes()?);
    }
    match f.group(&absolute(path)) {
        Ok(g) => Ok(g.attributes()?),
        Err(_) => Ok(reader_dataset(f, path)?.attributes()),
    }
}

/// Reads every object of an existing file into a tree, for `r+` and `a`.
fn load_tree(reader: hdf5_reader::Hdf5File) -> Result<Tree> {
    let file = File {
        path: PathBuf::new(),
        mode: Mode::Read,
        state: State::Read(reader),
    };
    let mut tree = Tree::new();
    let reopen = |e: Error| {
        Error::new(
            e.classify(),
            format!("cannot open for writing: {}", e.message()),
        )
    };
    for entry in file.walk()? {
        match entry.kind {
            ObjectKind::Group => {
                tree.require_group(&entry.path)?;
            }
            ObjectKind::Dataset => {
                let info = file.dataset(&entry.path)?;
                let data = file.read(&entry.path).map_err(reopen)?;
                let mut options = DatasetOptions::new();
                if let Some(c) = info.chunks {
                    if !c.is_empty() {
                        options = options.chunks(&c);
                    }
                }
                for filt in info.filters {
                    options = match filt {
                        Filter::Gzip(l) => options.gzip(l),
                        Filter::Shuffle => options.shuffle(true),
                        other => {
                            return Err(Error::unsupported(format!(
                                "cannot open for writing: {} uses filter {other:?}",
                                entry.path
                            )))
                        }
                    };
                }
                tree.create_dataset(&entry.path, data, options)?;
            }
        }
        for (name, value) in file.attrs(&entry.path).map_err(reopen)? {
            tree.set_attr(&entry.path, &name, value)?;
        }
    }
    Ok(tree)
}

fn write_atomically(tree: &Tree, path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out.h5".into());
    let tmp = path.with_file_name(format!(".{name}.brine-tmp"));
    let shown = tmp.display().to_string();
    let result = (|| {
        let f = std::fs::File::create(&tmp).map_err(|e| Error::io(&shown, e))?;
        let w = crate::encode::encode(tree, std::io::BufWriter::new(f))?;
        // No fsync, as h5py's close does none: a caller that needs durability opens the
        // closed file and syncs it.
        w.into_inner()
            .map_err(|e| Error::io(&shown, e.into_error()))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path.display().to_string(), e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
