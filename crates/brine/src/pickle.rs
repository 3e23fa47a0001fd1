//! The pickler: writes a value graph as the exact bytes CPython's C pickler writes.
// Placeholder while the writer is written; replaced by the real implementation.

use std::io;

use brine_core::{Error, Result};

use crate::options::DumpOptions;
use crate::value::{Graph, NodeId};

/// Writes values of graphs to one stream, keeping the memo between dumps like CPython's
/// `Pickler`.
pub struct Pickler<W> {
    _out: W,
}

impl<W: io::Write> Pickler<W> {
    /// A pickler writing to `out`.
    pub fn new(out: W, _opts: DumpOptions) -> Self {
        Pickler { _out: out }
    }
    /// Writes the value at `root` as one pickle.
    pub fn dump(&mut self, _graph: &Graph, _root: NodeId) -> Result<()> {
        Err(Error::unsupported("not implemented yet"))
    }
    /// Gives the writer back.
    pub fn into_inner(self) -> W {
        self._out
    }
}

/// The pickle of the graph's root at the default protocol (4).
pub fn dumps(graph: &Graph) -> Result<Vec<u8>> {
    dumps_with(graph, DumpOptions::default())
}

/// The pickle of the graph's root with options.
pub fn dumps_with(graph: &Graph, opts: DumpOptions) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    dump_with(graph, &mut v, opts)?;
    Ok(v)
}

/// Writes the pickle of the graph's root to a writer.
pub fn dump(graph: &Graph, out: impl io::Write) -> Result<()> {
    dump_with(graph, out, DumpOptions::default())
}

/// Writes the pickle of the graph's root to a writer with options.
pub fn dump_with(graph: &Graph, out: impl io::Write, opts: DumpOptions) -> Result<()> {
    let root = graph
        .root()
        .ok_or_else(|| Error::data("graph has no root"))?;
    Pickler::new(out, opts).dump(graph, root)
}
