//! JSON forms of the value graph: a lossless *typed* form and a natural *plain* form.
//!
//! # The typed form
//!
//! [`to_typed`] writes a graph so that [`from_typed`] gives back the same graph — the same
//! values, kinds, sharing and cycles — and so the same pickle bytes: reading a pickle, writing
//! typed JSON, reading it back and pickling gives the original bytes (the test suite checks
//! this over the whole CPython-made golden corpus).
//!
//! JSON-native values stay themselves; everything else is an object whose one `$`-key names
//! its kind:
//!
//! | Python | typed JSON |
//! |---|---|
//! | `None`, `True`, `3` | `null`, `true`, `3` |
//! | `1.5` | `1.5` (always with `.` or an exponent; read back bit-exact) |
//! | `nan`, `inf`, `-inf`, `-0.0` | `{"$float": "nan"}`, `"inf"`, `"-inf"`, `"-0.0"`; other NaNs `"0x7ff8000000000001"` (all 64 bits) |
//! | int beyond 64 bits | `{"$int": "123456789012345678901234567890"}` |
//! | `'text'` | `"text"` |
//! | str with lone surrogates | `{"$str": ["a", 55296, "b"]}` (text runs and surrogate code units) |
//! | `b'..'`, `bytearray(b'..')` | `{"$bytes": "base64"}`, `{"$bytearray": "base64"}` |
//! | `[a, b]` | `[a, b]` |
//! | tuple, set, frozenset | `{"$tuple": [..]}`, `{"$set": [..]}`, `{"$frozenset": [..]}` |
//! | dict with str keys | `{"key": value, ..}` |
//! | any other dict | `{"$dict": [[key, value], ..]}` |
//! | global `module.name` | `{"$global": ["module", "name"]}`, optionally `"original": ["__builtin__", "unicode"]` (the Python 2 names it was read with) and `"names": [m, n]` (the str nodes of its STACK_GLOBAL) |
//! | object built by a call | `{"$object": "reduce", "callable": .., "args": {"$tuple": [..]}}`, optionally `"kwargs"`, `"state"`, `"state_setter"`, `"list_items": [..]`, `"dict_items": [[k, v], ..]`; kinds `reduce`, `newobj`, `newobj_ex`, `inst`, `obj` |
//! | persistent id | `{"$persid": value}` |
//! | extension code | `{"$ext": 42}` |
//! | out-of-band buffer | `{"$buffer": 0, "readonly": true}`, with `"data": "base64"` when known |
//!
//! A value referenced more than once (a shared list, a str the pickle's memo reuses, a
//! cycle) is written in full the first time with an `"$id": n` member — a list then becomes
//! `{"$id": n, "$list": [..]}` and a str `{"$id": n, "$str": ".."}` — and `{"$ref": n}`
//! after that. Scalars (None, bools, numbers, extension codes) and `()` carry no identity in a
//! pickle and are simply repeated. A dict whose keys are not all unshared strs, or has a key
//! starting with `$`, uses the `$dict` pair list, so no key can be mistaken for a tag. Records
//! pickled by CPython usually share their key strings (interned keys are memoized once and
//! fetched again), so their dicts take the pair form: exact, but wordier than the plain form,
//! which is the one to read.
//!
//! ```
//! // `x = [1, (2.5, b'\x00')]; [x, x]`, pickled by CPython at protocol 2.
//! let data = b"\x80\x02]q\x00(]q\x01(K\x01G@\x04\x00\x00\x00\x00\x00\x00c_codecs\nencode\nq\x02X\x01\x00\x00\x00\x00q\x03X\x06\x00\x00\x00latin1q\x04\x86q\x05Rq\x06\x86q\x07eh\x01e.";
//! let graph = brine::loads(data)?;
//! let json = brine::json::to_typed(&graph)?;
//! assert_eq!(json, r#"[{"$id":0,"$list":[1,{"$tuple":[2.5,{"$bytes":"AA=="}]}]},{"$ref":0}]"#);
//! let again = brine::json::from_typed(json.as_bytes())?;
//! assert_eq!(again, graph);
//! assert_eq!(brine::dumps_with(&again, brine::DumpOptions::new().protocol(2))?, data);
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! Several pickles of one stream (see [`to_typed_with`]) are one document
//! `{"$pickles": [first, second, ..], "shared_memo": false}`; `$id`s then count across the
//! whole stream, since with a shared memo a later pickle may refer to an earlier one's values.
//!
//! Plain JSON (no `$` keys) is valid typed JSON: arrays read as lists, objects as dicts with
//! str keys. So the plain form below reads back too, best-effort: what it lost stays lost.
//!
//! # The plain form
//!
//! [`to_plain`] writes natural JSON for people and other languages: tuples and sets become
//! arrays, dict keys that are not strs become their Python `repr()`, bytes become base64
//! strings, globals `"module.name"` strings, objects `{"__class__": "module.Name", ...}` with
//! their `__dict__` state merged in, shared values are copied and cycles cut as `null`. What
//! was lost is counted in a [`LossReport`]:
//!
//! ```
//! use brine::json::{to_plain, Loss};
//! // `x = {}; x[1] = x; (x, b'hi', {2, 3})`, pickled by CPython at protocol 4.
//! let data = b"\x80\x04\x95\x17\x00\x00\x00\x00\x00\x00\x00}\x94K\x01h\x00sC\x02hi\x94\x8f\x94(K\x02K\x03\x90\x87\x94.";
//! let graph = brine::loads(data)?;
//! let (json, report) = to_plain(&graph)?;
//! assert_eq!(json, r#"[{"1":null},"aGk=",[2,3]]"#);
//! assert_eq!(report.count(Loss::Cycle), 1);
//! assert_eq!(report.count(Loss::NonStrKey), 1);
//! assert_eq!(report.to_string(), "\
//! 1 tuples written as arrays
//! 1 sets written as arrays
//! 1 dict keys that are not str written as their repr()
//! 1 cyclic references cut (written as null)
//! 1 bytes written as base64 strings
//! ");
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! # Depth
//!
//! Both writers and the reader use explicit stacks, never recursion, so a 100 000-deep list
//! converts without touching the Rust stack. The reader's nesting is bounded by
//! [`Limits::max_depth`] (10 000 by default, like the pickler's) and its values by
//! [`Limits::max_nodes`]; the plain writer counts the values it writes against
//! [`Limits::max_nodes`] too, because copying shared values can grow exponentially.

mod plain;
mod read;
mod text;
mod typed;

use brine_core::{Error, Limits, Result};

use crate::value::{Graph, NodeId};

pub use plain::{Loss, LossReport};

/// Options of the JSON writers and reader.
///
/// ```
/// let opts = brine::json::JsonOptions::new().pretty(true).limits(brine::Limits::trusted());
/// let mut g = brine::value::Graph::new();
/// let one = g.int(1);
/// let root = g.list(vec![one]);
/// assert_eq!(brine::json::to_typed_with(&g, &[root], &opts)?, "[\n  1\n]");
/// # Ok::<(), brine::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct JsonOptions {
    /// Indent the output (two spaces a level, at most 32 levels deep).
    pub pretty: bool,
    /// Write the stream wrapper (`{"$pickles": [..]}` typed, an array plain) even for one
    /// root.
    pub stream: bool,
    /// Record that the stream's pickles share one memo (typed form).
    pub shared_memo: bool,
    /// Bounds for reading (depth, values, digits) and for the plain writer (values).
    pub limits: Limits,
}

impl JsonOptions {
    /// The defaults: compact output, default [`Limits`].
    pub fn new() -> Self {
        JsonOptions::default()
    }

    /// Sets [`pretty`](Self::pretty).
    pub fn pretty(mut self, on: bool) -> Self {
        self.pretty = on;
        self
    }

    /// Sets [`stream`](Self::stream).
    pub fn stream(mut self, on: bool) -> Self {
        self.stream = on;
        self
    }

    /// Sets [`shared_memo`](Self::shared_memo).
    pub fn shared_memo(mut self, on: bool) -> Self {
        self.shared_memo = on;
        self
    }

    /// Sets [`limits`](Self::limits).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// A typed JSON document read back: the graph and the root of each pickle.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Typed {
    /// The values; its root is the last pickle's.
    pub graph: Graph,
    /// The root of each pickle, in order (one unless the document is a `$pickles` stream).
    pub roots: Vec<NodeId>,
    /// True when the document was a `$pickles` stream.
    pub stream: bool,
    /// The stream's `shared_memo` flag: its pickles were written by one `Pickler`.
    pub shared_memo: bool,
}

/// The typed JSON form of the graph's root, compact.
///
/// ```
/// let g = brine::loads(b"\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00\x8c\x03abc\x94\x85\x94.")?;
/// assert_eq!(brine::json::to_typed(&g)?, r#"{"$tuple":["abc"]}"#);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn to_typed(graph: &Graph) -> Result<String> {
    let root = graph
        .root()
        .ok_or_else(|| Error::data("graph has no root"))?;
    to_typed_with(graph, &[root], &JsonOptions::default())
}

/// The typed JSON form of the values at `roots`: one document for one root (unless
/// [`JsonOptions::stream`]), else a `{"$pickles": [..]}` stream.
///
/// ```
/// let mut g = brine::value::Graph::new();
/// let a = g.str("shared");
/// let first = g.list(vec![a]);
/// let second = g.tuple(vec![a]);
/// let opts = brine::json::JsonOptions::new().shared_memo(true);
/// let json = brine::json::to_typed_with(&g, &[first, second], &opts)?;
/// assert_eq!(
///     json,
///     r#"{"$pickles":[[{"$id":0,"$str":"shared"}],{"$tuple":[{"$ref":0}]}],"shared_memo":true}"#
/// );
/// let back = brine::json::from_typed_with(json.as_bytes(), &opts)?;
/// assert_eq!((back.roots.len(), back.shared_memo), (2, true));
/// # Ok::<(), brine::Error>(())
/// ```
pub fn to_typed_with(graph: &Graph, roots: &[NodeId], opts: &JsonOptions) -> Result<String> {
    let stream = (opts.stream || roots.len() != 1).then_some(opts.shared_memo);
    let out = typed::write(graph, roots, stream)?;
    Ok(if opts.pretty { text::pretty(&out) } else { out })
}

/// Reads a typed JSON document of one pickle (or a stream of exactly one) under the default
/// [`Limits`]; the graph's root is its value.
///
/// ```
/// use brine::value::Node;
/// let g = brine::json::from_typed(br#"{"$id": 0, "$list": [{"$ref": 0}]}"#)?;
/// let root = g.root().unwrap();
/// assert!(matches!(g.get(root), Node::List(_)));
/// assert_eq!(g.seq(root), Some(&[root][..]));
/// # Ok::<(), brine::Error>(())
/// ```
pub fn from_typed(text: &[u8]) -> Result<Graph> {
    let t = from_typed_with(text, &JsonOptions::default())?;
    if t.roots.len() != 1 {
        return Err(Error::data(format!(
            "the document holds {} pickles, not one",
            t.roots.len()
        )));
    }
    Ok(t.graph)
}

/// Reads a typed JSON document: one pickle, or a `$pickles` stream of several.
///
/// ```
/// use brine::json::{from_typed_with, JsonOptions};
/// let doc = br#"{"$pickles": [[1], {"$tuple": ["a"]}], "shared_memo": true}"#;
/// let t = from_typed_with(doc, &JsonOptions::new())?;
/// assert_eq!((t.roots.len(), t.stream, t.shared_memo), (2, true, true));
/// // Pickle them as one Pickler would: the memo is shared.
/// let mut p = brine::Pickler::new(Vec::new(), brine::DumpOptions::new().protocol(2));
/// for &root in &t.roots {
///     p.dump(&t.graph, root)?;
/// }
/// assert_eq!(p.into_inner(), b"\x80\x02]q\x00K\x01a.\x80\x02X\x01\x00\x00\x00aq\x01\x85q\x02.");
/// # Ok::<(), brine::Error>(())
/// ```
pub fn from_typed_with(text: &[u8], opts: &JsonOptions) -> Result<Typed> {
    let doc = read::parse(text, &opts.limits)?;
    let b = typed::build(&doc, &opts.limits)?;
    Ok(Typed {
        graph: b.graph,
        roots: b.roots,
        stream: b.stream,
        shared_memo: b.shared_memo,
    })
}

/// The plain JSON form of the graph's root, compact, with what it lost.
///
/// ```
/// // `{'a': (1, 2)}` at protocol 4.
/// let data = b"\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01K\x02\x86\x94s.";
/// let (json, report) = brine::json::to_plain(&brine::loads(data)?)?;
/// assert_eq!(json, r#"{"a":[1,2]}"#);
/// assert_eq!(report.count(brine::json::Loss::Tuple), 1);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn to_plain(graph: &Graph) -> Result<(String, LossReport)> {
    let root = graph
        .root()
        .ok_or_else(|| Error::data("graph has no root"))?;
    to_plain_with(graph, &[root], &JsonOptions::default())
}

/// The plain JSON form of the values at `roots`: one document for one root (unless
/// [`JsonOptions::stream`]), else an array of documents.
///
/// ```
/// let mut g = brine::value::Graph::new();
/// let a = g.int(1);
/// let b = g.str("two");
/// let (json, report) = brine::json::to_plain_with(&g, &[a, b], &Default::default())?;
/// assert_eq!(json, r#"[1,"two"]"#);
/// assert!(report.is_empty());
/// # Ok::<(), brine::Error>(())
/// ```
pub fn to_plain_with(
    graph: &Graph,
    roots: &[NodeId],
    opts: &JsonOptions,
) -> Result<(String, LossReport)> {
    let (out, report) = plain::write(graph, roots, opts.stream || roots.len() != 1, &opts.limits)?;
    Ok((if opts.pretty { text::pretty(&out) } else { out }, report))
}

/// True when `data` looks like JSON rather than a pickle: its first byte other than
/// whitespace (or a UTF-8 byte-order mark) is `{` or `[`. Neither byte is a pickle opcode, so
/// no pickle starts so.
///
/// ```
/// assert!(brine::json::looks_like_json(b"  {\"a\": 1}"));
/// assert!(!brine::json::looks_like_json(b"\x80\x04K\x01."));
/// ```
pub fn looks_like_json(data: &[u8]) -> bool {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    data.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|&b| b == b'{' || b == b'[')
}
