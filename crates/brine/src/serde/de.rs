//! Pickles to Rust values: a serde `Deserializer` over the value graph the unpickling machine
//! built, borrowing `&str` / `&[u8]` from the input where the pickle stores them as-is.

use std::cell::Cell;
use std::io;
use std::marker::PhantomData;

use ::serde::de::value::SeqDeserializer;
use ::serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use num_traits::ToPrimitive;

use crate::options::LoadOptions;
use crate::value::{Graph, Node, NodeId, Object, ObjectKind, PairsRef, PyStr};
use crate::{Error, Result, Unpickler};

use super::types;
use super::MAX_TYPED_DEPTH;

/// Where borrowed (`'de`) text and bytes come from.
pub(crate) trait Source<'a, 'de> {
    /// The text of str node `id` for all of `'de`, when it can be borrowed.
    fn str(&self, id: NodeId, s: &'a PyStr) -> Option<&'de str>;
    /// The payload of bytes node `id` for all of `'de`, when it can be borrowed.
    fn bytes(&self, id: NodeId, b: &'a [u8]) -> Option<&'de [u8]>;
}

/// Borrows from the graph itself ([`from_value`](super::from_value)).
pub(crate) struct FromGraph;

impl<'de> Source<'de, 'de> for FromGraph {
    #[inline]
    fn str(&self, _: NodeId, s: &'de PyStr) -> Option<&'de str> {
        s.as_str()
    }
    #[inline]
    fn bytes(&self, _: NodeId, b: &'de [u8]) -> Option<&'de [u8]> {
        Some(b)
    }
}

/// Borrows from the input slice, through the spans the unpickler recorded.
pub(crate) struct FromInput<'a, 'de> {
    input: &'de [u8],
    spans: &'a [(u32, usize)],
    /// The furthest span found so far: a typed walk mostly meets new strings in node order,
    /// so the next one is usually just after it. Only moves forward, so that a shared string
    /// met again (a memo GET of an early node) does not send the next lookups back.
    hint: Cell<usize>,
    /// Recently borrowed strings by node id (direct-mapped): a shared string (a memo GET of
    /// an early node, like the `'a'` in every record's tags) skips the lookup and UTF-8 check.
    recent: [Cell<(u32, &'de str)>; NAME_CACHE],
}

impl<'a, 'de> FromInput<'a, 'de> {
    pub(crate) fn new(input: &'de [u8], spans: &'a [(u32, usize)]) -> Self {
        FromInput {
            input,
            spans,
            hint: Cell::new(0),
            recent: std::array::from_fn(|_| Cell::new((u32::MAX, ""))),
        }
    }

    #[inline]
    fn span(&self, id: NodeId, len: usize) -> Option<&'de [u8]> {
        let key = id.index() as u32;
        let h = self.hint.get();
        let at = match self.spans.get(h..) {
            Some([a, ..]) if a.0 == key => h,
            Some([_, b, ..]) if b.0 == key => h + 1,
            _ => self.spans.binary_search_by_key(&key, |s| s.0).ok()?,
        };
        self.hint.set(at.max(h));
        let off = self.spans.get(at)?.1;
        self.input.get(off..off.checked_add(len)?)
    }
}

impl<'a, 'de> Source<'a, 'de> for FromInput<'a, 'de> {
    #[inline]
    fn str(&self, id: NodeId, s: &'a PyStr) -> Option<&'de str> {
        if !s.is_utf8() {
            return None;
        }
        let slot = &self.recent[id.index() % NAME_CACHE];
        let (at, text) = slot.get();
        if at == id.index() as u32 {
            return Some(text);
        }
        let text = std::str::from_utf8(self.span(id, s.as_bytes().len())?).ok()?;
        slot.set((id.index() as u32, text));
        Some(text)
    }
    #[inline]
    fn bytes(&self, id: NodeId, b: &'a [u8]) -> Option<&'de [u8]> {
        self.span(id, b.len())
    }
}

/// What one typed walk over a graph shares: the graph, the borrowing source, the depth and
/// the nodes on the current path (to report cycles where they are met).
pub(crate) struct State<'a, 'de, S> {
    graph: &'a Graph,
    src: S,
    depth: usize,
    max_depth: usize,
    /// One bit per node: set while the node is being deserialized.
    on_path: Vec<u64>,
    /// Text of recently read str nodes, direct-mapped by node id: dict keys and field names
    /// are mostly one shared node each (memo GETs), and this spares their UTF-8 check.
    names: [(u32, &'a str); NAME_CACHE],
    _de: PhantomData<&'de ()>,
}

const NAME_CACHE: usize = 64;

impl<'a, 'de, S: Source<'a, 'de>> State<'a, 'de, S> {
    pub(crate) fn new(graph: &'a Graph, src: S, max_depth: usize) -> Self {
        State {
            graph,
            src,
            depth: 0,
            max_depth: max_depth.min(MAX_TYPED_DEPTH),
            on_path: vec![0; graph.len().div_ceil(64)],
            names: [(u32::MAX, ""); NAME_CACHE],
            _de: PhantomData,
        }
    }

    #[inline]
    fn enter(&mut self, id: NodeId) -> Result<()> {
        let (w, b) = (id.index() / 64, 1u64 << (id.index() % 64));
        let word = self.on_path.get_mut(w).ok_or_else(foreign)?;
        if *word & b != 0 {
            return Err(Error::data(
                "cycle: the value contains itself (only the value graph can hold it)",
            ));
        }
        if self.depth >= self.max_depth {
            return Err(Error::limit(brine_core::LimitKind::Depth));
        }
        *word |= b;
        self.depth += 1;
        Ok(())
    }

    #[inline]
    fn leave(&mut self, id: NodeId) {
        if let Some(word) = self.on_path.get_mut(id.index() / 64) {
            *word &= !(1u64 << (id.index() % 64));
        }
        self.depth -= 1;
    }

    /// Runs `f` with `id` on the path.
    #[inline]
    fn nested<T>(&mut self, id: NodeId, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.enter(id)?;
        let r = f(self);
        self.leave(id);
        r
    }

    /// The text of str node `id`, through the name cache.
    #[inline]
    fn name(&mut self, id: NodeId, s: &'a PyStr) -> Result<&'a str> {
        let slot = &mut self.names[id.index() % NAME_CACHE];
        if slot.0 == id.index() as u32 {
            return Ok(slot.1);
        }
        let text = s.as_str().ok_or_else(surrogates)?;
        *slot = (id.index() as u32, text);
        Ok(text)
    }

    #[inline]
    fn node(&self, id: NodeId) -> Result<&'a Node> {
        self.graph.try_get(id).ok_or_else(foreign)
    }
}

#[cold]
fn foreign() -> Error {
    Error::data("node id is not in this graph")
}

/// The Python type name of a node, for messages.
fn py_type(n: &Node) -> &'static str {
    match n {
        Node::None => "None",
        other => other.kind_name(),
    }
}

#[cold]
fn expected(what: &str, n: &Node) -> Error {
    Error::data(format!("expected a {what}, found a Python {}", py_type(n)))
}

#[cold]
fn surrogates() -> Error {
    Error::data("str holds lone surrogates, which a Rust string cannot")
}

/// The path step for a dict key: `.name` for str keys, `[3]` for ints.
#[cold]
fn key_step(g: &Graph, k: NodeId) -> String {
    match g.try_get(k) {
        Some(Node::Str(s)) => format!(".{s}"),
        Some(Node::Int(i)) => format!("[{i}]"),
        Some(Node::Bool(b)) => format!("[{}]", if *b { "True" } else { "False" }),
        Some(other) => format!("[<{}>]", py_type(other)),
        None => "[?]".to_owned(),
    }
}

/// Dict items in up to two parts (a `__slots__` state has a `__dict__` and the slots).
type Items<'a> = (PairsRef<'a>, PairsRef<'a>);

/// How a recorded call (class instance, namedtuple, `OrderedDict`) reads as data.
struct ObjView<'a> {
    /// Attributes or items: `__dict__` state, the two dicts of a `__slots__` state
    /// `(dict_or_None, slots)`, or SETITEMS items.
    map: Option<Items<'a>>,
    /// Positional data: namedtuple / tuple-subclass arguments, a list state, APPENDS items.
    seq: Option<&'a [NodeId]>,
}

fn obj_view<'a>(g: &'a Graph, o: &'a Object) -> ObjView<'a> {
    let get = |id: NodeId| g.try_get(id);
    let dict = |id: NodeId| match get(id) {
        Some(Node::Dict(d)) => Some(g.pairs(*d)),
        _ => None,
    };
    let mut map = None;
    let mut seq = None;
    match o.state.and_then(get) {
        Some(Node::Dict(d)) => map = Some((g.pairs(*d), PairsRef::default())),
        Some(Node::Tuple(t)) | Some(Node::List(t)) => match g.items(*t) {
            // `object.__getstate__` of a class with `__slots__`: (None or __dict__, slots).
            &[a, b] if matches!(get(a), Some(Node::None | Node::Dict(_))) && dict(b).is_some() => {
                map = Some((dict(a).unwrap_or_default(), dict(b).unwrap_or_default()));
            }
            items => seq = Some(items),
        },
        _ => {}
    }
    if map.is_none() && !o.dict_items.is_empty() {
        map = Some((PairsRef::from(&o.dict_items), PairsRef::default()));
    }
    if seq.is_none() {
        if !o.list_items.is_empty() {
            seq = Some(o.list_items.as_slice());
        } else if let Some(Node::Tuple(args)) = get(o.args) {
            let args = g.items(*args);
            let reconstructor = matches!(get(o.callable), Some(Node::Global(c)) if c.is("copyreg", "_reconstructor"));
            if reconstructor {
                // `copyreg._reconstructor(cls, base, base_state)`: a tuple or dict subclass
                // at protocols 0 and 1 carries its data as `base_state`.
                match args.get(2).and_then(|&s| get(s)) {
                    Some(Node::Tuple(t)) | Some(Node::List(t)) => seq = Some(g.items(*t)),
                    Some(Node::Dict(d)) if map.is_none() => {
                        map = Some((g.pairs(*d), PairsRef::default()))
                    }
                    _ => {}
                }
            } else if !args.is_empty() && o.kind != ObjectKind::NewObjEx {
                seq = Some(args);
            }
        }
    }
    ObjView { map, seq }
}

/// Deserializes one node.
pub(crate) struct NodeDe<'s, 'a, 'de, S> {
    st: &'s mut State<'a, 'de, S>,
    id: NodeId,
}

impl<'s, 'a, 'de, S: Source<'a, 'de>> NodeDe<'s, 'a, 'de, S> {
    pub(crate) fn new(st: &'s mut State<'a, 'de, S>, id: NodeId) -> Self {
        NodeDe { st, id }
    }

    fn seq<V: Visitor<'de>>(self, items: &'a [NodeId], v: V) -> Result<V::Value> {
        let id = self.id;
        self.st.nested(id, |st| {
            let mut acc = SeqAcc { st, items, pos: 0 };
            let out = v.visit_seq(&mut acc)?;
            if acc.pos < items.len() {
                return Err(Error::data(format!(
                    "{} items where {} were expected",
                    items.len(),
                    acc.pos
                )));
            }
            Ok(out)
        })
    }

    fn map<V: Visitor<'de>>(self, pairs: Items<'a>, v: V) -> Result<V::Value> {
        let id = self.id;
        self.st.nested(id, |st| {
            v.visit_map(MapAcc {
                st,
                first: pairs.0,
                second: pairs.1,
                pos: 0,
                value: None,
            })
        })
    }

    fn pairs<V: Visitor<'de>>(self, pairs: Items<'a>, v: V) -> Result<V::Value> {
        let id = self.id;
        self.st.nested(id, |st| {
            v.visit_seq(PairSeq {
                st,
                first: pairs.0,
                second: pairs.1,
                pos: 0,
            })
        })
    }

    fn big<V: Visitor<'de>>(b: &num_bigint::BigInt, v: V) -> Result<V::Value> {
        if let Some(x) = b.to_u64() {
            v.visit_u64(x)
        } else if let Some(x) = b.to_i128() {
            v.visit_i128(x)
        } else if let Some(x) = b.to_u128() {
            v.visit_u128(x)
        } else {
            Err(Error::data(format!(
                "int of {} bits is too large for a Rust integer (use brine::serde::BigInt)",
                b.bits() + 1
            )))
        }
    }

    /// `deserialize_str`: borrows from the input when the pickle stores the text as-is.
    fn text<V: Visitor<'de>>(self, s: &'a PyStr, v: V) -> Result<V::Value> {
        match self.st.src.str(self.id, s) {
            Some(b) => v.visit_borrowed_str(b),
            None => v.visit_str(s.as_str().ok_or_else(surrogates)?),
        }
    }

    fn object_any<V: Visitor<'de>>(self, o: &'a Object, v: V) -> Result<V::Value> {
        let view = obj_view(self.st.graph, o);
        match (view.map, view.seq) {
            (Some(m), _) => self.map(m, v),
            (None, Some(s)) => self.seq(s, v),
            // An instance with an empty `__dict__` (CPython then writes no state).
            (None, None) if o.state.is_none() => self.map(Default::default(), v),
            (None, None) => Err(Error::unsupported(format!(
                "the state of a Python object of class {} is no dict, tuple or list",
                class_of(self.st.graph, o)
            ))),
        }
    }
}

/// The class an object is an instance of, when the pickle names it: the callable of
/// NEWOBJ / REDUCE, or the class argument of `copyreg._reconstructor`.
fn class_global<'a>(g: &'a Graph, o: &Object) -> Option<&'a crate::value::Global> {
    match g.try_get(o.callable)? {
        Node::Global(c) if c.is("copyreg", "_reconstructor") => match g.try_get(o.args)? {
            Node::Tuple(a) => match g.try_get(*g.items(*a).first()?)? {
                Node::Global(c) => Some(c),
                _ => None,
            },
            _ => None,
        },
        Node::Global(c) => Some(c),
        _ => None,
    }
}

/// A struct declared as a Python class (`#[serde(rename = "module.Class")]`) reads only
/// instances of that class: another class is an error rather than fields filled from
/// whatever the other class holds.
fn check_class(g: &Graph, o: &Object, rust_name: &str) -> Result<()> {
    let Some((module, qualname)) = super::class_name(rust_name) else {
        return Ok(());
    };
    match class_global(g, o) {
        Some(c) if !c.is(module, qualname) => Err(Error::data(format!(
            "expected an instance of {module}.{qualname}, found an instance of {}.{}",
            c.module, c.name
        ))),
        _ => Ok(()),
    }
}

/// `module.name` of an object's class, for messages.
fn class_of(g: &Graph, o: &Object) -> String {
    let name = |id: NodeId| match g.try_get(id) {
        Some(Node::Global(c)) => Some(format!("{}.{}", c.module, c.name)),
        _ => None,
    };
    let cls = match g.try_get(o.callable) {
        Some(Node::Global(c)) if c.is("copyreg", "_reconstructor") => match g.try_get(o.args) {
            Some(Node::Tuple(a)) => g.items(*a).first().and_then(|&c| name(c)),
            _ => None,
        },
        _ => name(o.callable),
    };
    cls.unwrap_or_else(|| "?".to_owned())
}

impl<'s, 'a, 'de, S: Source<'a, 'de>> de::Deserializer<'de> for NodeDe<'s, 'a, 'de, S> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let node = self.st.node(self.id)?;
        match node {
            Node::None => v.visit_unit(),
            Node::Bool(b) => v.visit_bool(*b),
            Node::Int(i) => v.visit_i64(*i),
            Node::BigInt(b) => Self::big(b, v),
            Node::Float(x) => v.visit_f64(*x),
            Node::Str(s) => self.text(s, v),
            Node::Bytes(b) | Node::ByteArray(b) => match self.st.src.bytes(self.id, b.as_bytes()) {
                Some(x) => v.visit_borrowed_bytes(x),
                None => v.visit_bytes(b.as_bytes()),
            },
            Node::List(items) | Node::Tuple(items) | Node::Set(items) | Node::FrozenSet(items) => {
                let items = self.st.graph.items(*items);
                self.seq(items, v)
            }
            Node::Dict(pairs) => {
                let pairs = self.st.graph.pairs(*pairs);
                self.map((pairs, PairsRef::default()), v)
            }
            Node::Global(g) => v.visit_string(format!("{}.{}", g.module, g.name)),
            Node::Object(o) => self.object_any(o, v),
            Node::Buffer(b) => match &b.data {
                Some(d) => v.visit_bytes(d.as_bytes()),
                None => Err(Error::unsupported(
                    "an out-of-band buffer without its data (pass LoadOptions::buffers)",
                )),
            },
            Node::PersId(_) => Err(Error::unsupported(
                "a persistent id that no persistent_load hook resolved",
            )),
            Node::Ext(c) => Err(Error::unsupported(format!(
                "extension code {c} that is not registered"
            ))),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::Str(s) => self.text(s, v),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        // An owned target copies anyway: skip the span lookup.
        match self.st.node(self.id)? {
            Node::Str(s) => v.visit_str(s.as_str().ok_or_else(surrogates)?),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::Str(s) => v.visit_str(self.st.name(self.id, s)?),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.deserialize_any(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::Bytes(b) | Node::ByteArray(b) => v.visit_bytes(b.as_bytes()),
            // A str where bytes are wanted: its UTF-8 (what `encoding="bytes"` data mixes in).
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::None => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::None => v.visit_unit(),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::None => v.visit_unit(),
            Node::Object(o) if o.state.is_none() => v.visit_unit(),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value> {
        let node = self.st.node(self.id)?;
        let want = match name {
            types::TUPLE => Some((matches!(node, Node::Tuple(_)), "tuple")),
            types::SET => Some((matches!(node, Node::Set(_)), "set")),
            types::FROZENSET => Some((matches!(node, Node::FrozenSet(_)), "frozenset")),
            types::BYTEARRAY => Some((matches!(node, Node::ByteArray(_)), "bytearray")),
            types::GLOBAL => {
                let Node::Global(g) = node else {
                    return Err(expected("global (a class or function reference)", node));
                };
                let parts = [g.module.as_str(), g.name.as_str()];
                return v.visit_newtype_struct(SeqDeserializer::<_, Error>::new(
                    parts.into_iter().map(|s| s.into_deserializer()),
                ));
            }
            types::BIGINT => {
                return match node {
                    Node::Int(i) => v.visit_i64(*i),
                    Node::Bool(b) => v.visit_i64(*b as i64),
                    Node::BigInt(b) => v.visit_bytes(&b.to_signed_bytes_le()),
                    other => Err(expected("int", other)),
                };
            }
            _ => None,
        };
        match want {
            Some((true, _)) => v.visit_newtype_struct(self),
            Some((false, what)) => Err(expected(what, node)),
            None => match node {
                // A one-field tuple struct of a class: `cls(x)`.
                Node::Object(o) => match obj_view(self.st.graph, o).seq {
                    Some(&[x]) => {
                        let id = self.id;
                        self.st
                            .nested(id, |st| v.visit_newtype_struct(NodeDe::new(st, x)))
                    }
                    _ => v.visit_newtype_struct(self),
                },
                _ => v.visit_newtype_struct(self),
            },
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::List(items) | Node::Tuple(items) | Node::Set(items) | Node::FrozenSet(items) => {
                let items = self.st.graph.items(*items);
                self.seq(items, v)
            }
            // `Vec<u8>` without serde_bytes: the byte values.
            Node::Bytes(b) | Node::ByteArray(b) => v.visit_seq(SeqDeserializer::<_, Error>::new(
                b.as_bytes().iter().copied(),
            )),
            // A dict as a sequence of (key, value) pairs, in order: `Vec<(K, V)>`.
            Node::Dict(pairs) => {
                let pairs = self.st.graph.pairs(*pairs);
                self.pairs((pairs, PairsRef::default()), v)
            }
            Node::Object(o) => {
                let view = obj_view(self.st.graph, o);
                match (view.seq, view.map) {
                    (Some(items), _) => self.seq(items, v),
                    (None, Some(m)) => self.pairs(m, v),
                    (None, None) => self.object_any(o, v),
                }
            }
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value> {
        if let Node::Object(o) = self.st.node(self.id)? {
            check_class(self.st.graph, o, name)?;
        }
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::Dict(pairs) => {
                let pairs = self.st.graph.pairs(*pairs);
                self.map((pairs, PairsRef::default()), v)
            }
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        match self.st.node(self.id)? {
            Node::Dict(pairs) => {
                let pairs = self.st.graph.pairs(*pairs);
                self.map((pairs, PairsRef::default()), v)
            }
            Node::Object(o) => {
                check_class(self.st.graph, o, name)?;
                self.deserialize_any(v)
            }
            // Fields by position (a tuple written for a struct, like a namedtuple's).
            Node::List(items) | Node::Tuple(items) => {
                let items = self.st.graph.items(*items);
                self.seq(items, v)
            }
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        let id = self.id;
        match self.st.node(id)? {
            Node::Str(_) => v.visit_enum(EnumAcc {
                st: self.st,
                variant: id,
                payload: None,
            }),
            Node::Dict(pairs) if pairs.len() == 1 => {
                let Some((k, x)) = self.st.graph.pairs(*pairs).get(0) else {
                    return Err(Error::data("a dict of one item without its item"));
                };
                self.st.nested(id, |st| {
                    v.visit_enum(EnumAcc {
                        st,
                        variant: k,
                        payload: Some(x),
                    })
                })
            }
            other => Err(Error::data(format!(
                "expected an enum variant (a str, or a dict of one item {{variant: value}}), found a Python {}",
                py_type(other)
            ))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        // Nothing of it is needed: don't walk it (so ignored cycles cost nothing either).
        v.visit_unit()
    }

    ::serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
    }
}

struct SeqAcc<'s, 'i, 'a, 'de, S> {
    st: &'s mut State<'a, 'de, S>,
    items: &'i [NodeId],
    pos: usize,
}

impl<'a, 'de, S: Source<'a, 'de>> de::SeqAccess<'de> for &mut SeqAcc<'_, '_, 'a, 'de, S> {
    type Error = Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(&id) = self.items.get(self.pos) else {
            return Ok(None);
        };
        let i = self.pos;
        self.pos += 1;
        seed.deserialize(NodeDe::new(self.st, id))
            .map(Some)
            .map_err(|e| e.in_path(&format!("[{i}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.pos)
    }
}

/// A dict's items as a sequence of pairs.
struct PairSeq<'s, 'a, 'de, S> {
    st: &'s mut State<'a, 'de, S>,
    first: PairsRef<'a>,
    second: PairsRef<'a>,
    pos: usize,
}

impl<'a, 'de, S: Source<'a, 'de>> de::SeqAccess<'de> for PairSeq<'_, 'a, 'de, S> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let n = self.first.len();
        let pair = match self.first.get(self.pos) {
            Some(p) => p,
            None => match self.second.get(self.pos - n) {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        self.pos += 1;
        let step = key_step(self.st.graph, pair.0);
        seed.deserialize(PairDe {
            st: self.st,
            pair: [pair.0, pair.1],
        })
        .map(Some)
        .map_err(|e| e.in_path(&step))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.first.len() + self.second.len() - self.pos)
    }
}

/// One dict item as a 2-tuple `(key, value)`.
struct PairDe<'s, 'a, 'de, S> {
    st: &'s mut State<'a, 'de, S>,
    pair: [NodeId; 2],
}

impl<'a, 'de, S: Source<'a, 'de>> de::Deserializer<'de> for PairDe<'_, 'a, 'de, S> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let mut acc = SeqAcc {
            st: self.st,
            items: &self.pair,
            pos: 0,
        };
        v.visit_seq(&mut acc)
    }

    ::serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct MapAcc<'s, 'a, 'de, S> {
    st: &'s mut State<'a, 'de, S>,
    first: PairsRef<'a>,
    second: PairsRef<'a>,
    pos: usize,
    /// The key and value of the entry whose key was just read.
    value: Option<(NodeId, NodeId)>,
}

impl<'a, 'de, S: Source<'a, 'de>> de::MapAccess<'de> for MapAcc<'_, 'a, 'de, S> {
    type Error = Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let n = self.first.len();
        let pair = match self.first.get(self.pos) {
            Some(p) => p,
            None => match self.second.get(self.pos - n) {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        self.pos += 1;
        self.value = Some(pair);
        seed.deserialize(NodeDe::new(self.st, pair.0)).map(Some)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let Some((k, x)) = self.value.take() else {
            return Err(Error::data("a map value was asked for before its key"));
        };
        seed.deserialize(NodeDe::new(self.st, x))
            .map_err(|e| e.in_path(&key_step(self.st.graph, k)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.first.len() + self.second.len() - self.pos)
    }
}

struct EnumAcc<'s, 'a, 'de, S> {
    st: &'s mut State<'a, 'de, S>,
    variant: NodeId,
    payload: Option<NodeId>,
}

impl<'s, 'a, 'de, S: Source<'a, 'de>> de::EnumAccess<'de> for EnumAcc<'s, 'a, 'de, S> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self)> {
        let v = seed.deserialize(NodeDe::new(self.st, self.variant))?;
        Ok((v, self))
    }
}

impl<'s, 'a, 'de, S: Source<'a, 'de>> EnumAcc<'s, 'a, 'de, S> {
    fn payload(&self) -> Result<NodeId> {
        self.payload.ok_or_else(|| {
            Error::data("expected a dict {variant: value} for a variant with data, found a str")
        })
    }

    fn step(&self) -> String {
        key_step(self.st.graph, self.variant)
    }
}

impl<'s, 'a, 'de, S: Source<'a, 'de>> de::VariantAccess<'de> for EnumAcc<'s, 'a, 'de, S> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self.payload.map(|p| self.st.node(p)).transpose()? {
            None | Some(Node::None) => Ok(()),
            Some(other) => Err(expected("None (payload of a unit variant)", other)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        let (p, step) = (self.payload()?, self.step());
        seed.deserialize(NodeDe::new(self.st, p))
            .map_err(|e| e.in_path(&step))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value> {
        let (p, step) = (self.payload()?, self.step());
        de::Deserializer::deserialize_tuple(NodeDe::new(self.st, p), len, v)
            .map_err(|e| e.in_path(&step))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        let (p, step) = (self.payload()?, self.step());
        de::Deserializer::deserialize_struct(NodeDe::new(self.st, p), "", fields, v)
            .map_err(|e| e.in_path(&step))
    }
}

/// Reads Rust values from a pickle, with `&str` / `&[u8]` borrowed from the input where the
/// pickle stores them as-is.
///
/// The pickle is decoded at construction by the same machine as [`loads`](crate::loads)
/// (so sharing, memo and every opcode work as there), then each
/// [`deserialize`](::serde::Deserialize::deserialize) reads from its root.
///
/// ```
/// use serde::Deserialize;
/// // `('a', b'xyz')` at protocol 4, as CPython writes it.
/// let data = b"\x80\x04\x95\x0d\x00\x00\x00\x00\x00\x00\x00\x8c\x01a\x94C\x03xyz\x94\x86\x94.";
/// let mut de = brine::serde::Deserializer::from_slice(data)?;
/// let (s, b) = <(&str, &[u8])>::deserialize(&mut de)?;
/// assert_eq!((s, b), ("a", &b"xyz"[..]));
/// # Ok::<(), brine::Error>(())
/// ```
pub struct Deserializer<'de> {
    input: &'de [u8],
    graph: Graph,
    spans: Vec<(u32, usize)>,
    max_depth: usize,
}

impl<'de> Deserializer<'de> {
    /// Decodes one pickle from `data` with default options.
    pub fn from_slice(data: &'de [u8]) -> Result<Self> {
        Deserializer::from_slice_with(data, LoadOptions::default())
    }

    /// Decodes one pickle from `data`; bytes after its STOP are ignored.
    pub fn from_slice_with(data: &'de [u8], opts: LoadOptions) -> Result<Self> {
        let max_depth = opts.limits.max_depth;
        let mut u = Unpickler::new(data, opts);
        u.record_spans();
        u.load()?;
        let spans = u.take_spans();
        Ok(Deserializer {
            input: data,
            graph: u.into_graph(),
            spans,
            max_depth,
        })
    }

    /// The decoded value graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    fn root(&self) -> Result<NodeId> {
        self.graph
            .root()
            .ok_or_else(|| Error::data("the graph has no root"))
    }
}

impl Deserializer<'static> {
    /// Decodes one pickle from a reader (nothing borrows; the reader is left after STOP).
    pub fn from_reader(reader: impl io::Read) -> Result<Self> {
        Deserializer::from_reader_with(reader, LoadOptions::default())
    }

    /// [`from_reader`](Self::from_reader) with options.
    pub fn from_reader_with(reader: impl io::Read, opts: LoadOptions) -> Result<Self> {
        let max_depth = opts.limits.max_depth;
        let mut u = Unpickler::from_reader(reader, opts);
        u.load()?;
        Ok(Deserializer {
            input: &[],
            graph: u.into_graph(),
            spans: Vec::new(),
            max_depth,
        })
    }
}

/// Each method reads the root with a fresh walk.
macro_rules! forward_root {
    ($($name:ident($($arg:ident: $t:ty),*);)*) => {$(
        fn $name<V: Visitor<'de>>(self $(, $arg: $t)*, v: V) -> Result<V::Value> {
            let root = self.root()?;
            let src = FromInput::new(self.input, &self.spans);
            let mut st = State::new(&self.graph, src, self.max_depth);
            de::Deserializer::$name(NodeDe::new(&mut st, root) $(, $arg)*, v)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = Error;

    forward_root! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }
}
