//! The in-memory object tree of a file open for writing: groups, datasets and attributes in an
//! arena, addressed by path.

use crate::array::Array;
use crate::error::{Error, Result};

/// How a dataset is stored: chunking and filters (h5py's `chunks`, `compression`, `shuffle`).
///
/// ```
/// use brine_hdf5::DatasetOptions;
/// let opts = DatasetOptions::new().chunks(&[64, 64]).gzip(4).shuffle(true);
/// assert_eq!(opts.chunk_shape(), Some(&[64usize, 64][..]));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatasetOptions {
    pub(crate) chunks: Option<Vec<usize>>,
    pub(crate) gzip: Option<u32>,
    pub(crate) shuffle: bool,
}

impl DatasetOptions {
    /// Contiguous storage, no filters.
    pub fn new() -> DatasetOptions {
        DatasetOptions::default()
    }

    /// Store in chunks of this shape (one extent per dimension).
    pub fn chunks(mut self, shape: &[usize]) -> DatasetOptions {
        self.chunks = Some(shape.to_vec());
        self
    }

    /// Compress each chunk with deflate at `level` (0–9); implies chunking.
    pub fn gzip(mut self, level: u32) -> DatasetOptions {
        self.gzip = Some(level.min(9));
        self
    }

    /// Shuffle the bytes of each chunk before compressing; implies chunking.
    pub fn shuffle(mut self, on: bool) -> DatasetOptions {
        self.shuffle = on;
        self
    }

    /// The chunk shape, if chunked storage was asked for explicitly.
    pub fn chunk_shape(&self) -> Option<&[usize]> {
        self.chunks.as_deref()
    }

    /// The deflate level, if compression is on.
    pub fn gzip_level(&self) -> Option<u32> {
        self.gzip
    }

    /// Whether the shuffle filter is on.
    pub fn is_shuffled(&self) -> bool {
        self.shuffle
    }
}

/// What a node is.
#[derive(Debug)]
pub(crate) enum Kind {
    Group {
        children: Vec<usize>,
    },
    Dataset {
        array: Array,
        options: DatasetOptions,
    },
}

/// One object of the tree.
#[derive(Debug)]
pub(crate) struct Node {
    pub name: String,
    pub attrs: Vec<(String, Array)>,
    pub kind: Kind,
}

/// Every object, the root group at index 0.
#[derive(Debug)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
}

/// The components of a path; `/`, `.` and empty components are skipped.
pub(crate) fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                name: String::new(),
                attrs: Vec::new(),
                kind: Kind::Group {
                    children: Vec::new(),
                },
            }],
        }
    }

    fn child(&self, group: usize, name: &str) -> Option<usize> {
        match &self.nodes[group].kind {
            Kind::Group { children } => children
                .iter()
                .copied()
                .find(|&c| self.nodes[c].name == name),
            Kind::Dataset { .. } => None,
        }
    }

    /// The node at `path`, if any.
    pub fn find(&self, path: &str) -> Option<usize> {
        let mut at = 0;
        for c in components(path) {
            at = self.child(at, c)?;
        }
        Some(at)
    }

    fn add(&mut self, parent: usize, node: Node) -> usize {
        let id = self.nodes.len();
        self.nodes.push(node);
        if let Kind::Group { children } = &mut self.nodes[parent].kind {
            children.push(id);
        }
        id
    }

    /// The group at `path`, created with every missing parent (`mkdir -p`).
    pub fn require_group(&mut self, path: &str) -> Result<usize> {
        let mut at = 0;
        for c in components(path) {
            at = match self.child(at, c) {
                Some(id) => id,
                None => self.add(
                    at,
                    Node {
                        name: c.to_owned(),
                        attrs: Vec::new(),
                        kind: Kind::Group {
                            children: Vec::new(),
                        },
                    },
                ),
            };
            if !matches!(self.nodes[at].kind, Kind::Group { .. }) {
                return Err(Error::data(format!("{c:?} in {path:?} is a dataset")));
            }
        }
        Ok(at)
    }

    /// A new group; fails if something is already at `path`.
    pub fn create_group(&mut self, path: &str) -> Result<usize> {
        if self.find(path).is_some() {
            return Err(Error::data(format!("{path:?} already exists")));
        }
        self.require_group(path)
    }

    /// A new dataset at `path` (parents created); fails if something is already there.
    pub fn create_dataset(
        &mut self,
        path: &str,
        array: Array,
        options: DatasetOptions,
    ) -> Result<usize> {
        let comps = components(path);
        let Some((name, parents)) = comps.split_last() else {
            return Err(Error::data("a dataset needs a name"));
        };
        if self.find(path).is_some() {
            return Err(Error::data(format!("{path:?} already exists")));
        }
        check_options(&array, &options)?;
        let parent = self.require_group(&parents.join("/"))?;
        Ok(self.add(
            parent,
            Node {
                name: (*name).to_owned(),
                attrs: Vec::new(),
                kind: Kind::Dataset { array, options },
            },
        ))
    }

    /// Sets (adds or replaces) an attribute of the object at `path`.
    pub fn set_attr(&mut self, path: &str, name: &str, value: Array) -> Result<()> {
        let id = self
            .find(path)
            .ok_or_else(|| Error::data(format!("no object {path:?}")))?;
        let attrs = &mut self.nodes[id].attrs;
        match attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => attrs.push((name.to_owned(), value)),
        }
        Ok(())
    }

    /// Removes the link at `path` (the object stays in the arena but is no longer reachable).
    pub fn unlink(&mut self, path: &str) -> Result<()> {
        let comps = components(path);
        let Some((name, parents)) = comps.split_last() else {
            return Err(Error::data("cannot delete the root group"));
        };
        let parent = self
            .find(&parents.join("/"))
            .ok_or_else(|| Error::data(format!("no object {path:?}")))?;
        let target = self
            .child(parent, name)
            .ok_or_else(|| Error::data(format!("no object {path:?}")))?;
        if let Kind::Group { children } = &mut self.nodes[parent].kind {
            children.retain(|&c| c != target);
        }
        Ok(())
    }
}

/// Chunk shapes must match the rank and be positive; scalars cannot be chunked.
fn check_options(array: &Array, options: &DatasetOptions) -> Result<()> {
    let filtered = options.gzip.is_some() || options.shuffle;
    if let Some(chunks) = &options.chunks {
        if chunks.len() != array.shape().len() || chunks.contains(&0) {
            return Err(Error::data(format!(
                "chunk shape {:?} does not fit dataset shape {:?}",
                chunks,
                array.shape()
            )));
        }
        let elems = chunks
            .iter()
            .try_fold(1u64, |a, &c| a.checked_mul(c as u64))
            .unwrap_or(u64::MAX);
        let bytes = elems.saturating_mul(array.dtype().size().unwrap_or(16) as u64);
        if bytes > u64::from(u32::MAX) {
            return Err(Error::data("a chunk must be smaller than 4 GiB"));
        }
    }
    if (filtered || options.chunks.is_some()) && array.shape().is_empty() {
        return Err(Error::data("a scalar dataset cannot be chunked"));
    }
    Ok(())
}
