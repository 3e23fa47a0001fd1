//! The unpickling machine: runs the instruction stream into a value graph, never executing code.
// Placeholder while the machine is written; replaced by the real implementation.

use std::io;

use brine_core::{Error, Result};

use crate::options::LoadOptions;
use crate::value::{Graph, NodeId};

/// Reads pickles from one source into one [`Graph`], sharing the memo between pickles like
/// CPython's `Unpickler`.
pub struct Unpickler<'de> {
    _data: &'de [u8],
    graph: Graph,
}

impl<'de> Unpickler<'de> {
    /// An unpickler over a byte slice.
    pub fn new(data: &'de [u8], _opts: LoadOptions) -> Self {
        Unpickler {
            _data: data,
            graph: Graph::new(),
        }
    }
    /// Reads the next pickle and returns its root.
    pub fn load(&mut self) -> Result<NodeId> {
        Err(Error::unsupported("not implemented yet"))
    }
    /// The graph built so far.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
    /// Gives the graph.
    pub fn into_graph(self) -> Graph {
        self.graph
    }
}

/// Reads one pickle from a byte slice.
pub fn loads(data: &[u8]) -> Result<Graph> {
    loads_with(data, LoadOptions::default())
}

/// Reads one pickle from a byte slice with options.
pub fn loads_with(data: &[u8], opts: LoadOptions) -> Result<Graph> {
    let mut u = Unpickler::new(data, opts);
    u.load()?;
    Ok(u.into_graph())
}

/// Reads one pickle from a reader.
pub fn load(reader: impl io::Read) -> Result<Graph> {
    load_with(reader, LoadOptions::default())
}

/// Reads one pickle from a reader with options.
pub fn load_with(_reader: impl io::Read, _opts: LoadOptions) -> Result<Graph> {
    Err(Error::unsupported("not implemented yet"))
}
