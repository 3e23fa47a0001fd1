//! Typed data: Rust values to and from pickles with serde, Rust structs as Python class
//! instances.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct User<'a> {
//!     id: u32,
//!     name: &'a str, // borrowed from the input: no copy
//!     tags: Vec<String>,
//! }
//!
//! let user = User { id: 7, name: "ada", tags: vec!["admin".into()] };
//! let bytes = brine::to_vec(&user)?; // {'id': 7, 'name': 'ada', 'tags': ['admin']}, protocol 4
//! let back: User = brine::from_slice(&bytes)?;
//! assert_eq!(back, user);
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! # How Rust types map to Python values
//!
//! Writing gives the Python value in the left column; reading accepts it (and the extra
//! forms listed). Every row round-trips at protocols 0–5.
//!
//! | Rust | Python written | also read from |
//! |---|---|---|
//! | `bool` | `bool` | |
//! | `i8`…`i64`, `u8`…`u64`, `i128`, `u128` | `int` (LONG1 beyond 64 bits) | `bool` |
//! | [`BigInt`] (a `num_bigint::BigInt`) | `int` of any size | |
//! | `f32`, `f64` | `float` | `int` |
//! | `char` | `str` of one character | |
//! | `String`, `&str`, `Cow<str>` | `str` | |
//! | `serde_bytes::ByteBuf` / `&Bytes`, `Cow<[u8]>` | `bytes` | `bytearray` |
//! | [`ByteArray`] | `bytearray` | (only `bytearray`) |
//! | `Vec<T>`, `[T]`, `VecDeque<T>` | `list` | `tuple`, `set`, `frozenset`; `bytes` for `Vec<u8>` |
//! | `(A, B, …)`, `[T; N]`, tuple structs | `tuple` | `list` |
//! | [`Tuple<T>`] | `tuple` | (only `tuple`) |
//! | `HashSet<T>`, `BTreeSet<T>` | `list` (serde sees a sequence); wrap in [`Set`] for a `set` | `set`, `frozenset`, `list`, `tuple` |
//! | [`Set<T>`] / [`FrozenSet<T>`] | `set` / `frozenset` | (only that type) |
//! | `HashMap`, `BTreeMap`, `IndexMap` | `dict` in the map's order; keys may be ints, tuples, … (anything hashable the key type reads) | `OrderedDict` and other dict subclasses |
//! | `Vec<(K, V)>` | `list` of tuples | a `dict`'s items, in insertion order |
//! | `Option<T>` | `None` or the value | |
//! | `()`, unit structs | `None` | |
//! | structs | `dict` of the fields | class instances (see below), namedtuples and tuples by position |
//! | newtype structs | the inner value | |
//! | enum unit variant `E::A` | `'A'` | |
//! | enum newtype / tuple / struct variant | `{'A': value}` / `{'A': (x, y)}` / `{'A': {'f': …}}` (serde_json's externally tagged form) | a list payload for tuple variants |
//! | [`Global`] | a global reference (`collections.OrderedDict` itself) | |
//! | struct renamed `"module.Class"` | an instance of `module.Class` | |
//! | tuple struct renamed `"module.Class"` | `module.Class(*fields)` | |
//!
//! `&str`, `&[u8]` and `Cow` borrow from the input where the pickle stores the payload
//! as-is: `str` from protocol 1 on (BINUNICODE), `bytes` from protocol 3 on (BINBYTES);
//! otherwise a `Cow` is owned and a plain `&str` is an error.
//!
//! Integers are range-checked on reading (`300` into a `u8` is an error), and `int`s beyond
//! 128 bits need [`BigInt`]. `str`s with lone surrogates cannot become Rust strings (an
//! error). The Rust names of maps with non-`str` keys keep their Python key type: a
//! `HashMap<(i32, i32), f64>` is `{(1, 2): 0.5}`.
//!
//! # Classes
//!
//! A struct whose serde name contains a dot is an instance of that Python class: the module
//! is everything before the last dot (or before a `:`, for nested classes:
//! `"pkg.mod:Outer.Inner"`). It is written exactly as CPython's pickler writes an instance of
//! a plain class — `NEWOBJ` with no arguments then `BUILD` of its `__dict__` at protocol ≥ 2,
//! `copyreg._reconstructor(cls, object, None)` then `BUILD` at protocols 0 and 1 — so
//! `pickle.loads` in Python gives an instance of that class with those attributes.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename = "geometry.Point")]
//! struct Point {
//!     x: f64,
//!     y: f64,
//! }
//!
//! let bytes = brine::to_vec_with(&Point { x: 1.0, y: 2.0 }, brine::DumpOptions::new().protocol(2))?;
//! assert!(bytes.starts_with(b"\x80\x02cgeometry\nPoint\nq\x00)\x81q\x01}q\x02("));
//! assert_eq!(brine::from_slice::<Point>(&bytes)?, Point { x: 1.0, y: 2.0 });
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! Reading into a struct accepts any instance whose state names its fields: plain classes
//! and dataclasses (`__dict__` state, from NEWOBJ, REDUCE or `copyreg._reconstructor`),
//! `__slots__` classes (`(None or __dict__, slots)` states), dataclasses with `slots=True`
//! (a list state, read by position) and namedtuples (their arguments, by position). A
//! struct declared as a class reads only instances of that class (another class is an
//! error: `expected an instance of geometry.Point, found an instance of m.C`); a struct with
//! a plain name reads an instance of any class.
//!
//! # Sharing and cycles
//!
//! A value shared in the pickle (`((a, a), (a, a))`) is read into each place that refers
//! to it. A cycle cannot become a Rust value: reading one fails with an error at the path
//! where it closes (decode into the [value graph](crate::value::Graph) to keep it).
//! Nesting deeper than `Limits::max_depth`, and never deeper than 256, fails with a limit
//! error instead of overflowing the stack.
//!
//! # Errors
//!
//! serde's messages are kept and get the path to the value that failed:
//!
//! ```
//! #[derive(serde::Deserialize, Debug)]
//! struct User { name: String }
//! let bytes = brine::to_vec(&serde_json::json!({"users": [{"name": "a"}, {"name": 5}]}))?;
//! #[derive(serde::Deserialize, Debug)]
//! struct Doc { users: Vec<User> }
//! let err = brine::from_slice::<Doc>(&bytes).unwrap_err();
//! assert_eq!(err.to_string(), "invalid type: integer `5`, expected a string at .users[1].name");
//! assert_eq!(err.path(), Some(".users[1].name"));
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! # Decode once, extract typed parts
//!
//! [`to_value`] and [`from_value`] / [`from_node`] convert between Rust values and the value
//! graph, so a program can read a pickle once and pick typed pieces out of it.

mod de;
mod direct;
mod ser;
mod stream;
mod types;

use std::io;

use ::serde::de::{Deserialize, DeserializeOwned};
use ::serde::ser::Serialize;

use crate::options::{DumpOptions, LoadOptions};
use crate::value::{Graph, NodeId};
use crate::{Error, Result};

pub use de::Deserializer;
pub use ser::{Compound, Serializer};
pub use types::{BigInt, ByteArray, FrozenSet, Global, Set, Tuple};

/// Typed reading and writing recurse on the Rust type's nesting; this bounds it below any
/// stack the default thread sizes give (serde_json stops at 128).
pub(crate) const MAX_TYPED_DEPTH: usize = 256;

/// The module and class of a serde struct name that names a Python class: `"mod.Class"`,
/// `"pkg.mod.Class"` (split at the last dot) or `"pkg.mod:Outer.Inner"`.
pub(crate) fn class_name(name: &str) -> Option<(&str, &str)> {
    if name.starts_with('\0') {
        return None;
    }
    let (m, q) = match name.split_once(':') {
        Some(p) => p,
        None => name.rsplit_once('.')?,
    };
    (!m.is_empty() && !q.is_empty()).then_some((m, q))
}

/// Reads a `T` from one pickle in `data`, borrowing `&str` and `&[u8]` from it where the
/// pickle stores them as-is.
///
/// Plain data (what CPython writes for dicts, lists, tuples, sets, str, bytes, numbers, and
/// calls like `datetime.date(b'...')` read into a newtype struct or a tuple of the arguments)
/// is read straight off the bytes into `T` without a value graph; anything else (class
/// instances, shared containers, text opcodes) and every error goes through the value graph,
/// so the result and the error are the same either way.
pub fn from_slice<'de, T: Deserialize<'de>>(data: &'de [u8]) -> Result<T> {
    from_slice_with(data, LoadOptions::default())
}

/// [`from_slice`] with options (Python 2 string encoding, limits, buffers, hooks).
pub fn from_slice_with<'de, T: Deserialize<'de>>(data: &'de [u8], opts: LoadOptions) -> Result<T> {
    if let Some(v) = try_direct(data, &opts) {
        return Ok(v);
    }
    let mut de = Deserializer::from_slice_with(data, opts)?;
    T::deserialize(&mut de)
}

/// The direct reader's `T`, where it may try `data` (see [`direct_ok`]) and reads it.
fn try_direct<'de, T: Deserialize<'de>>(data: &'de [u8], opts: &LoadOptions) -> Option<T> {
    if !direct_ok(data, opts) {
        return None;
    }
    let l = &opts.limits;
    let depth = l.max_depth.min(MAX_TYPED_DEPTH);
    direct::from_slice(data, depth, l.max_memo_index, l.max_stack).ok()
}

/// Whether the direct reader may try `data` first: only when no limit of the graph path
/// could stop it where the direct reader would not (each limited count is at most the input
/// length, and open marks at most the typed depth), so both give the same result. Options
/// that change decoding (encodings, hooks, buffers) act only on opcodes the direct reader
/// leaves to the graph path. The stack limit is the exception: the direct reader bounds the
/// items of each MARK run by it instead (see `direct::from_slice`), so that pickles longer
/// than it (10 MB by default) keep the direct reader.
fn direct_ok(data: &[u8], opts: &LoadOptions) -> bool {
    let l = &opts.limits;
    let n = data.len();
    n <= l.max_nodes
        && n <= l.max_memo_entries
        && n as u64 <= l.max_alloc
        && l.max_marks > 2 * MAX_TYPED_DEPTH
}

/// Reads a `T` from one pickle of a reader, which is left just after the pickle's STOP.
/// Nothing is buffered beyond the pickle: wrap files in `std::io::BufReader`.
///
/// The pickle's bytes are taken off the reader first, opcode by opcode up to its STOP (a
/// reader cannot be looked ahead in), then read as [`from_slice`] reads them; the result and
/// any error are those of the value graph built on the reader. Taking the bytes costs: on
/// 100k small records this takes about 1.8× as long as [`from_slice`] of the same bytes
/// (2.4× when it built the graph on the reader). For a file that holds one pickle, reading
/// it whole (`std::fs::read`) and calling [`from_slice`] is faster.
pub fn from_reader<T: DeserializeOwned>(reader: impl io::Read) -> Result<T> {
    from_reader_with(reader, LoadOptions::default())
}

/// [`from_reader`] with options.
pub fn from_reader_with<T: DeserializeOwned>(
    reader: impl io::Read,
    opts: LoadOptions,
) -> Result<T> {
    // Take the pickle's bytes off the reader, up to its STOP, then read them as a slice
    // (the direct reader first). Where the opcodes do not reach a STOP, or the slice does
    // not read (a slice checks a FRAME's length at once, a stream only as it gets there), the
    // bytes taken are played again ahead of the rest of the reader to the graph path, which
    // so gives the result, or the error, it would have given on the reader alone.
    let mut tee = Tee {
        inner: reader,
        seen: Vec::new(),
    };
    let mut dec =
        brine_core::Decoder::with_read(brine_core::IoRead::new(&mut tee), opts.limits.clone());
    let stopped = loop {
        match dec.next_instruction() {
            Ok(Some(i)) if i.op == brine_core::Opcode::STOP => break true,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break false,
        }
    };
    drop(dec);
    if stopped {
        if let Some(v) = try_direct(&tee.seen, &opts) {
            return Ok(v);
        }
        // The graph path on the slice: the stream's value wherever it reads one.
        if let Some(o) = opts.try_clone() {
            let on_slice = Deserializer::from_slice_with(&tee.seen, o);
            if let Ok(v) = on_slice.and_then(|mut de| T::deserialize(&mut de)) {
                return Ok(v);
            }
        }
    }
    let replay = io::Read::chain(io::Cursor::new(tee.seen), tee.inner);
    let mut de = Deserializer::from_reader_with(replay, opts)?;
    T::deserialize(&mut de)
}

/// A reader that keeps a copy of every byte it passes on.
struct Tee<R> {
    inner: R,
    seen: Vec<u8>,
}

impl<R: io::Read> io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Writes `value` as a pickle at protocol 4 (Python 3.8–3.13's default).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    to_vec_with(value, DumpOptions::default())
}

/// Writes `value` as a pickle with options (protocol 0–5, `fix_imports`, limits).
pub fn to_vec_with<T: Serialize + ?Sized>(value: &T, opts: DumpOptions) -> Result<Vec<u8>> {
    if let Some(out) = streamed(value, &opts) {
        return Ok(out);
    }
    let mut out = Vec::new();
    graph_to_writer(&mut out, value, opts)?;
    Ok(out)
}

/// The pickle of `value` from the streaming writer, when it handles the whole value (the
/// common case); `None` sends the value to the graph path, which writes the same bytes.
/// A buffer callback is the pickler's business (it also rejects it below protocol 5).
fn streamed<T: Serialize + ?Sized>(value: &T, opts: &DumpOptions) -> Option<Vec<u8>> {
    if opts.buffer_callback.is_some() {
        return None;
    }
    stream::to_vec(value, opts.protocol, opts.limits.max_depth)
}

/// Writes `value` by the graph path: a value graph, then the pickler.
fn graph_to_writer<T: Serialize + ?Sized>(
    writer: impl io::Write,
    value: &T,
    opts: DumpOptions,
) -> Result<()> {
    let mut ser = ser::GraphSer::new(Some(opts.protocol), opts.limits.max_depth);
    let root = value.serialize(&mut ser)?;
    let mut graph = ser.graph;
    graph.set_root(root);
    crate::dump_with(&graph, writer, opts)
}

/// Writes `value` as a pickle at protocol 4 to a writer.
pub fn to_writer<T: Serialize + ?Sized>(writer: impl io::Write, value: &T) -> Result<()> {
    to_writer_with(writer, value, DumpOptions::default())
}

/// Writes `value` as a pickle to a writer with options.
pub fn to_writer_with<T: Serialize + ?Sized>(
    mut writer: impl io::Write,
    value: &T,
    opts: DumpOptions,
) -> Result<()> {
    match streamed(value, &opts) {
        Some(out) => writer.write_all(&out).map_err(Error::from),
        None => graph_to_writer(writer, value, opts),
    }
}

/// The value graph of `value` (its root set), as [`loads`](crate::loads) would give for
/// the pickle [`to_vec`] writes. Class instances take the protocol ≥ 2 form.
///
/// ```
/// let g = brine::to_value(&(1, vec!["a"]))?;
/// assert_eq!(g, brine::loads(&brine::to_vec(&(1, vec!["a"]))?)?);
/// assert_eq!(brine::from_value::<(u8, Vec<String>)>(&g)?, (1, vec!["a".to_owned()]));
/// # Ok::<(), brine::Error>(())
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Graph> {
    let mut ser = ser::GraphSer::new(None, MAX_TYPED_DEPTH);
    let root = value.serialize(&mut ser)?;
    let mut graph = ser.graph;
    graph.set_root(root);
    Ok(graph)
}

/// Reads a `T` from the root of a value graph; `&str` and `&[u8]` borrow from the graph.
pub fn from_value<'g, T: Deserialize<'g>>(graph: &'g Graph) -> Result<T> {
    let root = graph
        .root()
        .ok_or_else(|| Error::data("the graph has no root"))?;
    from_node(graph, root)
}

/// Reads a `T` from one node of a value graph (a part of a pickle decoded once).
///
/// ```
/// use brine::value::Node;
/// let g = brine::loads(&brine::to_vec(&serde_json::json!({"a": [1, 2], "b": "x"}))?)?;
/// let Node::Dict(pairs) = g.get(g.root().unwrap()) else { unreachable!() };
/// let (_, a) = g.pairs(*pairs).get(0).unwrap();
/// let a: Vec<u8> = brine::from_node(&g, a)?;
/// assert_eq!(a, [1, 2]);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn from_node<'g, T: Deserialize<'g>>(graph: &'g Graph, node: NodeId) -> Result<T> {
    let mut st = de::State::new(graph, de::FromGraph, usize::MAX);
    T::deserialize(de::NodeDe::new(&mut st, node))
}
