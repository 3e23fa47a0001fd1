//! The value graph: every Python value a pickle can build, as nodes in an arena that keeps
//! identity, sharing and cycles.
//!
//! A memo entry is a [`NodeId`]; a memo GET never clones. Nothing is ever executed: class
//! instances and calls stay data ([`Object`], [`Global`]). Walking the graph never recurses on
//! the Rust stack, so any depth is safe; dropping it frees a few flat arenas.

mod graph;
mod node;
mod pairs;
mod pystr;

pub use graph::Graph;
pub(crate) use graph::NODES_UNDER_MMAP;
pub use node::{Buffer, Global, Items, Node, NodeId, Object, ObjectKind, Pairs};
pub use pairs::{PairIter, PairsRef};
pub(crate) use pystr::{is_ascii, Releaser, WindowSource, BYTES_INLINE, STR_INLINE};
pub use pystr::{Blob, PyStr, SharedSource};
