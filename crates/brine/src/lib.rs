//! brine: Python's pickle in Rust — complete, safe and fast.
//!
//! brine reads every opcode of pickle protocols 0–5 into a [value graph](value::Graph) that
//! keeps identity, sharing and cycles, **without ever running code**, and writes graphs back as
//! exactly the bytes CPython 3.11's C pickler writes for the same values.
//!
//! # Bytes in, bytes out
//!
//! [`loads`] / [`load`] read one pickle; [`dumps`] / [`dump`] write one; the `_with` forms take
//! [`LoadOptions`] / [`DumpOptions`] (protocol, Python 2 string encoding, `fix_imports`,
//! out-of-band buffers, persistent ids, extension codes, [`Limits`]).
//!
//! ```
//! // What CPython writes for `{'a': [1, 2.5, None]}` at protocol 2.
//! let data = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00Nes.";
//! let graph = brine::loads(data)?;
//! let again = brine::dumps_with(&graph, brine::DumpOptions::new().protocol(2))?;
//! assert_eq!(&again[..], &data[..]);
//! // The same value at protocol 4, framed as CPython frames it.
//! let p4 = brine::dumps(&graph)?;
//! assert_eq!(&p4[..3], b"\x80\x04\x95");
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! # The value graph
//!
//! A [`Graph`](value::Graph) is an arena of [`Node`](value::Node)s; a shared object is one
//! [`NodeId`](value::NodeId) however often it is referenced, and a list may contain itself.
//! Class instances, calls and globals stay data ([`Object`](value::Object),
//! [`Global`](value::Global)): nothing is imported or called. Every walk over a graph —
//! equality, `Debug`, the writer — uses an explicit stack, so input depth cannot overflow the
//! Rust stack.
//!
//! ```
//! use brine::value::Node;
//! // `x = []; x.append(x)`, pickled by CPython at protocol 4.
//! let g = brine::loads(b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00]\x94h\x00a.")?;
//! let root = g.root().unwrap();
//! let Node::List(items) = g.get(root) else { unreachable!() };
//! assert_eq!(g.items(*items), [root]); // containers keep their items in the graph's arena
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! # Untrusted input
//!
//! Decoding never executes anything, and the default [`Limits`] bound nodes, memo, stack,
//! marks, line lengths and copied bytes, so a hostile pickle ends in a
//! [`Category::Limit`] error instead of exhausting the machine. Declared lengths are never
//! trusted for allocation. Errors carry the byte offset and the opcode:
//!
//! ```
//! let err = brine::loads(b"\x80\x02a.").unwrap_err();
//! assert_eq!(err.to_string(), "unpickling stack underflow at offset 2 (opcode APPEND)");
//! ```
//!
//! # JSON
//!
//! [`json`] writes a graph as *typed* JSON, which reads back to the same graph and so the same
//! pickle bytes, or as *plain* JSON for other tools, with a report of what it lost:
//!
//! ```
//! let g = brine::loads(b"\x80\x02K\x01K\x02\x86q\x00.")?;
//! assert_eq!(brine::json::to_typed(&g)?, r#"{"$tuple":[1,2]}"#);
//! assert_eq!(brine::json::to_plain(&g)?.0, "[1,2]");
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! # Typed data
//!
//! With serde, Rust values go straight to and from pickles ([`to_vec`], [`from_slice`] and
//! friends), Rust structs can be Python class instances, and the wrapper types of
//! [`serde`] (`Tuple`, `Set`, `FrozenSet`, `ByteArray`, `Global`, `BigInt`)
//! give the Python types JSON has no words for. The [module docs](crate::serde) have the
//! mapping table.
//!
//! ```
//! use std::collections::HashMap;
//! let scores: HashMap<(String, u8), f64> = HashMap::from([(("ada".into(), 1), 0.5)]);
//! let bytes = brine::to_vec(&scores)?; // {('ada', 1): 0.5}
//! let back: HashMap<(&str, u8), f64> = brine::from_slice(&bytes)?;
//! assert_eq!(back[&("ada", 1)], 0.5);
//! # Ok::<(), brine::Error>(())
//! ```

#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod dis;
mod file;
pub mod json;
pub mod optimize;
mod options;
mod pickle;
pub mod serde;
pub mod show;
mod unpickle;
pub mod value;

pub use crate::serde::{
    from_node, from_reader, from_reader_with, from_slice, from_slice_with, from_value, to_value,
    to_vec, to_vec_with, to_writer, to_writer_with,
};
pub use brine_core as core;
pub use brine_core::{Category, Error, Limits, Result};
pub use file::{dump_file, load_file, load_file_mapped, write_atomic};
pub use options::{
    BufferCallback, BuildHook, DecodeErrors, DumpOptions, LoadOptions, PersistentLoad,
    StringEncoding,
};
pub use pickle::{dump, dump_with, dumps, dumps_with, Pickler};
pub use unpickle::{load, load_with, loads, loads_shared, loads_with, Unpickler};

#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
