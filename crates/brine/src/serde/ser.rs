//! Rust values to pickles: a serde `Serializer` that builds a value graph, written by the
//! pickler (so the bytes are the ones CPython writes for the same Python value).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;

use ::serde::ser::{self, Serialize};
use num_bigint::BigInt;

use crate::options::DumpOptions;
use crate::value::{Global, Graph, Node, NodeId, Object, ObjectKind};
use crate::{Error, Result};

use super::types;
use super::MAX_TYPED_DEPTH;

/// Hashes a `&'static str` by its address and length: field, variant and class names come
/// from the same static every time, so this is exact enough and far cheaper than hashing the
/// text (two equal names at different addresses just get two nodes).
#[derive(Default)]
pub(super) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(super) type AddrMap<V = NodeId> = HashMap<(usize, usize), V, BuildHasherDefault<AddrHasher>>;

/// The key of a static name in an [`AddrMap`].
pub(super) fn addr(s: &'static str) -> (usize, usize) {
    (s.as_ptr() as usize, s.len())
}

/// A serde `Serializer` that adds the value to a [`Graph`] and returns its node.
///
/// Static names (struct fields, variants, classes) become one shared `str` node each, as
/// CPython's interned attribute names are one object: a list of records writes each key once
/// and refers back to it with a memo GET, exactly like `pickle.dumps` of the same data.
pub struct GraphSer {
    pub(crate) graph: Graph,
    /// Class instances as protocol ≥ 2 writes them (`cls.__new__(cls)` + BUILD); false gives
    /// the `copyreg._reconstructor` form of protocols 0 and 1.
    newobj: bool,
    depth: usize,
    max_depth: usize,
    names: AddrMap,
    /// The class global of each struct name, `None` for names that are no class (most).
    classes: AddrMap<Option<NodeId>>,
    atoms: [Option<NodeId>; 3],
}

impl GraphSer {
    /// A serializer for `protocol` (`None`: any, using the protocol ≥ 2 class form), nesting
    /// at most `max_depth` (and never more than the typed bound) deep.
    pub(crate) fn new(protocol: Option<u8>, max_depth: usize) -> Self {
        GraphSer {
            graph: Graph::new(),
            newobj: protocol.is_none_or(|p| p >= 2),
            depth: 0,
            max_depth: max_depth.min(MAX_TYPED_DEPTH),
            names: AddrMap::default(),
            classes: AddrMap::default(),
            atoms: [None; 3],
        }
    }

    fn atom(&mut self, slot: usize, node: Node) -> NodeId {
        match self.atoms[slot] {
            Some(id) => id,
            None => {
                let id = self.graph.add(node);
                self.atoms[slot] = Some(id);
                id
            }
        }
    }

    fn none(&mut self) -> NodeId {
        self.atom(0, Node::None)
    }

    fn name(&mut self, s: &'static str) -> NodeId {
        if let Some(&id) = self.names.get(&addr(s)) {
            return id;
        }
        let id = self.graph.str(s);
        self.names.insert(addr(s), id);
        id
    }

    /// The global node of the class named by a struct name, if it names one.
    fn class(&mut self, name: &'static str) -> Option<NodeId> {
        if let Some(&id) = self.classes.get(&addr(name)) {
            return id;
        }
        let id =
            super::class_name(name).map(|(module, qualname)| self.graph.global(module, qualname));
        self.classes.insert(addr(name), id);
        id
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(Error::limit(brine_core::LimitKind::Depth));
        }
        Ok(())
    }

    /// An instance of `cls` with these attributes, in the form CPython's pickler writes a
    /// plain class instance: `copyreg.__newobj__`-style NEWOBJ with no arguments at protocol
    /// ≥ 2, `copyreg._reconstructor(cls, object, None)` below; then BUILD of the `__dict__`
    /// unless it is empty (CPython then has no state).
    fn instance(&mut self, cls: NodeId, attrs: Vec<(NodeId, NodeId)>) -> NodeId {
        let mut obj = if self.newobj {
            let args = self.graph.tuple(Vec::new());
            Object::new(ObjectKind::NewObj, cls, args)
        } else {
            let rec = self.graph.global("copyreg", "_reconstructor");
            let object = self.graph.global("builtins", "object");
            let none = self.none();
            let args = self.graph.tuple(vec![cls, object, none]);
            Object::new(ObjectKind::Reduce, rec, args)
        };
        if !attrs.is_empty() {
            obj.state = Some(self.graph.dict(attrs));
        }
        self.graph.object(obj)
    }

    fn variant(&mut self, variant: &'static str, payload: NodeId) -> NodeId {
        let k = self.name(variant);
        self.graph.dict(vec![(k, payload)])
    }

    /// Turns the node a wrapper's inner value made into the Python type the wrapper names.
    fn convert(&mut self, marker: &'static str, id: NodeId) -> Result<NodeId> {
        let g = &mut self.graph;
        let node = g.get_mut(id);
        let items = match node {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                Some(std::mem::take(v))
            }
            _ => None,
        };
        let new = match (marker, items) {
            (types::TUPLE, Some(v)) => Node::Tuple(v),
            (types::SET, Some(v)) => Node::Set(v),
            (types::FROZENSET, Some(v)) => Node::FrozenSet(v),
            (types::BYTEARRAY, None) => match node {
                Node::Bytes(b) => Node::ByteArray(std::mem::take(b)),
                _ => return Err(Error::data("ByteArray must hold bytes")),
            },
            (types::GLOBAL, None) => return Err(Error::data("Global must hold two strings")),
            (types::GLOBAL, Some(v)) => {
                let text = |g: &Graph, i: Option<&NodeId>| match i.map(|&i| g.get(i)) {
                    Some(Node::Str(s)) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                };
                let v = g.items(v);
                match (v.len(), text(g, v.first()), text(g, v.get(1))) {
                    (2, Some(m), Some(n)) => Node::Global(Box::new(Global::new(m, n))),
                    _ => return Err(Error::data("Global must hold two strings")),
                }
            }
            (types::BIGINT, None) => match node {
                Node::Str(s) => match s.as_str().and_then(|t| t.parse::<BigInt>().ok()) {
                    Some(b) => {
                        let id = g.bigint(b);
                        return Ok(id);
                    }
                    None => return Err(Error::data("BigInt must hold a decimal string")),
                },
                _ => return Err(Error::data("BigInt must hold a decimal string")),
            },
            (_, _) => {
                return Err(Error::data(format!(
                    "{} must hold a sequence",
                    marker.trim_start_matches("\0brine::")
                )))
            }
        };
        *g.get_mut(id) = new;
        Ok(id)
    }

    fn compound(&mut self, kind: Kind, len: Option<usize>) -> Result<Compound<&mut GraphSer>> {
        self.enter()?;
        // A length hint is the caller's claim; cap the preallocation anyway.
        let cap = len.unwrap_or(0).min(4096);
        let (items, pairs) = match kind {
            Kind::Map | Kind::Instance(_) | Kind::StructVariant(_) => {
                (Vec::new(), Vec::with_capacity(cap))
            }
            _ => (Vec::with_capacity(cap), Vec::new()),
        };
        Ok(Compound {
            ser: self,
            kind,
            items,
            pairs,
            key: None,
        })
    }
}

/// What a compound serializer builds at `end`.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    List,
    Tuple,
    /// A tuple struct of a class: `cls(*fields)` (how a namedtuple pickles).
    Reduce(NodeId),
    TupleVariant(&'static str),
    Map,
    Instance(NodeId),
    StructVariant(&'static str),
}

/// The state of a sequence, map or struct being serialized. `S` is the serializer: borrowed
/// while nested, owned at the top of a [`Serializer`] (which writes the pickle at `end`).
pub struct Compound<S> {
    ser: S,
    kind: Kind,
    items: Vec<NodeId>,
    pairs: Vec<(NodeId, NodeId)>,
    key: Option<NodeId>,
}

/// What a [`Compound`] adds its items to: the graph serializer, directly or inside a
/// [`Serializer`].
pub trait Sink {
    /// The graph serializer.
    fn graph_ser(&mut self) -> &mut GraphSer;
}

impl Sink for &mut GraphSer {
    fn graph_ser(&mut self) -> &mut GraphSer {
        self
    }
}

impl<W: io::Write> Sink for &mut Serializer<W> {
    fn graph_ser(&mut self) -> &mut GraphSer {
        &mut self.ser
    }
}

impl<S: Sink> Compound<S> {
    fn g(&mut self) -> &mut GraphSer {
        self.ser.graph_ser()
    }

    fn item<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        let i = self.items.len();
        let id = v
            .serialize(self.g())
            .map_err(|e| e.in_path(&format!("[{i}]")))?;
        self.items.push(id);
        Ok(())
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        let k = self.g().name(key);
        let id = v
            .serialize(self.g())
            .map_err(|e| e.in_path(&format!(".{key}")))?;
        self.pairs.push((k, id));
        Ok(())
    }

    fn finish(&mut self) -> NodeId {
        let items = std::mem::take(&mut self.items);
        let pairs = std::mem::take(&mut self.pairs);
        let kind = self.kind;
        let s = self.g();
        s.depth -= 1;
        match kind {
            Kind::List => s.graph.list(items),
            Kind::Tuple => s.graph.tuple(items),
            Kind::Reduce(cls) => {
                let args = s.graph.tuple(items);
                s.graph.object(Object::new(ObjectKind::Reduce, cls, args))
            }
            Kind::TupleVariant(v) => {
                let t = s.graph.tuple(items);
                s.variant(v, t)
            }
            Kind::Map => s.graph.dict(pairs),
            Kind::Instance(cls) => s.instance(cls, pairs),
            Kind::StructVariant(v) => {
                let d = s.graph.dict(pairs);
                s.variant(v, d)
            }
        }
    }
}

/// True for Python types that cannot be dict keys (they are unhashable).
fn unhashable(n: &Node) -> Option<&'static str> {
    match n {
        Node::List(_) => Some("list"),
        Node::Dict(_) => Some("dict"),
        Node::Set(_) => Some("set"),
        Node::ByteArray(_) => Some("bytearray"),
        _ => None,
    }
}

impl<'a> ser::Serializer for &'a mut GraphSer {
    type Ok = NodeId;
    type Error = Error;
    type SerializeSeq = Compound<&'a mut GraphSer>;
    type SerializeTuple = Compound<&'a mut GraphSer>;
    type SerializeTupleStruct = Compound<&'a mut GraphSer>;
    type SerializeTupleVariant = Compound<&'a mut GraphSer>;
    type SerializeMap = Compound<&'a mut GraphSer>;
    type SerializeStruct = Compound<&'a mut GraphSer>;
    type SerializeStructVariant = Compound<&'a mut GraphSer>;

    fn serialize_bool(self, v: bool) -> Result<NodeId> {
        Ok(self.atom(1 + v as usize, Node::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<NodeId> {
        self.serialize_i64(v as i64)
    }
    fn serialize_i16(self, v: i16) -> Result<NodeId> {
        self.serialize_i64(v as i64)
    }
    fn serialize_i32(self, v: i32) -> Result<NodeId> {
        self.serialize_i64(v as i64)
    }
    fn serialize_i64(self, v: i64) -> Result<NodeId> {
        Ok(self.graph.int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<NodeId> {
        Ok(self.graph.bigint(BigInt::from(v)))
    }
    fn serialize_u8(self, v: u8) -> Result<NodeId> {
        self.serialize_i64(v as i64)
    }
    fn serialize_u16(self, v: u16) -> Result<NodeId> {
        self.serialize_i64(v as i64)
    }
    fn serialize_u32(self, v: u32) -> Result<NodeId> {
        self.serialize_i64(v as i64)
    }
    fn serialize_u64(self, v: u64) -> Result<NodeId> {
        Ok(self.graph.bigint(BigInt::from(v)))
    }
    fn serialize_u128(self, v: u128) -> Result<NodeId> {
        Ok(self.graph.bigint(BigInt::from(v)))
    }
    fn serialize_f32(self, v: f32) -> Result<NodeId> {
        self.serialize_f64(v as f64)
    }
    fn serialize_f64(self, v: f64) -> Result<NodeId> {
        Ok(self.graph.float(v))
    }
    fn serialize_char(self, v: char) -> Result<NodeId> {
        Ok(self.graph.str(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result<NodeId> {
        Ok(self.graph.str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<NodeId> {
        Ok(self.graph.bytes(v))
    }
    fn serialize_none(self) -> Result<NodeId> {
        Ok(self.none())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<NodeId> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<NodeId> {
        Ok(self.none())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<NodeId> {
        match self.class(name) {
            Some(cls) => Ok(self.instance(cls, Vec::new())),
            None => Ok(self.none()),
        }
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<NodeId> {
        Ok(self.name(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<NodeId> {
        if name.starts_with('\0') {
            let id = v.serialize(&mut *self)?;
            return self.convert(name, id);
        }
        match self.class(name) {
            Some(cls) => {
                let mut c = self.compound(Kind::Reduce(cls), Some(1))?;
                c.item(v)?;
                Ok(c.finish())
            }
            None => v.serialize(self),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<NodeId> {
        self.enter()?;
        let id = v
            .serialize(&mut *self)
            .map_err(|e| e.in_path(&format!(".{variant}")))?;
        self.depth -= 1;
        Ok(self.variant(variant, id))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        self.compound(Kind::List, len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.compound(Kind::Tuple, Some(len))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        let kind = match self.class(name) {
            Some(cls) => Kind::Reduce(cls),
            None => Kind::Tuple,
        };
        self.compound(kind, Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.compound(Kind::TupleVariant(variant), Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap> {
        self.compound(Kind::Map, len)
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        let kind = match self.class(name) {
            Some(cls) => Kind::Instance(cls),
            None => Kind::Map,
        };
        self.compound(kind, Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.compound(Kind::StructVariant(variant), Some(len))
    }
}

/// The compound traits for both the nested serializer (`Ok` is the node) and the top-level
/// [`Serializer`] (`Ok` is `()`: the pickle is written at `end`).
macro_rules! compound_impls {
    ($s:ty, $ok:ty, $fin:ident $(, $lt:lifetime, $w:ident)?) => {
        impl<'a $(, $w: io::Write)?> ser::SerializeSeq for Compound<$s> {
            type Ok = $ok;
            type Error = Error;
            fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
                self.item(v)
            }
            fn end(mut self) -> Result<$ok> {
                $fin(&mut self)
            }
        }
        impl<'a $(, $w: io::Write)?> ser::SerializeTuple for Compound<$s> {
            type Ok = $ok;
            type Error = Error;
            fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
                self.item(v)
            }
            fn end(mut self) -> Result<$ok> {
                $fin(&mut self)
            }
        }
        impl<'a $(, $w: io::Write)?> ser::SerializeTupleStruct for Compound<$s> {
            type Ok = $ok;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
                self.item(v)
            }
            fn end(mut self) -> Result<$ok> {
                $fin(&mut self)
            }
        }
        impl<'a $(, $w: io::Write)?> ser::SerializeTupleVariant for Compound<$s> {
            type Ok = $ok;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
                self.item(v)
            }
            fn end(mut self) -> Result<$ok> {
                $fin(&mut self)
            }
        }
        impl<'a $(, $w: io::Write)?> ser::SerializeMap for Compound<$s> {
            type Ok = $ok;
            type Error = Error;
            fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<()> {
                let id = k.serialize(self.g())?;
                if let Some(kind) = unhashable(self.g().graph.get(id)) {
                    return Err(Error::data(format!(
                        "unhashable type: '{kind}' cannot be a dict key"
                    )));
                }
                self.key = Some(id);
                Ok(())
            }
            fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
                let Some(k) = self.key.take() else {
                    return Err(Error::data("serialize_value called before serialize_key"));
                };
                let id = v.serialize(self.g()).map_err(|e| {
                    let step = match self.g().graph.get(k) {
                        Node::Str(s) => format!(".{s}"),
                        Node::Int(i) => format!("[{i}]"),
                        other => format!("[<{}>]", other.kind_name()),
                    };
                    e.in_path(&step)
                })?;
                self.pairs.push((k, id));
                Ok(())
            }
            fn end(mut self) -> Result<$ok> {
                $fin(&mut self)
            }
        }
        impl<'a $(, $w: io::Write)?> ser::SerializeStruct for Compound<$s> {
            type Ok = $ok;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<()> {
                self.field(key, v)
            }
            fn end(mut self) -> Result<$ok> {
                $fin(&mut self)
            }
        }
        impl<'a $(, $w: io::Write)?> ser::SerializeStructVariant for Compound<$s> {
            type Ok = $ok;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<()> {
                self.field(key, v)
            }
            fn end(mut self) -> Result<$ok> {
                $fin(&mut self)
            }
        }
    };
}

fn nested_finish(c: &mut Compound<&mut GraphSer>) -> Result<NodeId> {
    Ok(c.finish())
}

compound_impls!(&'a mut GraphSer, NodeId, nested_finish);

/// Writes Rust values as pickles to `W`, one pickle per value serialized.
///
/// ```
/// use serde::Serialize;
/// let mut out = Vec::new();
/// let mut ser = brine::serde::Serializer::new(&mut out, brine::DumpOptions::new().protocol(2));
/// (1, "two").serialize(&mut ser)?;
/// assert_eq!(out, b"\x80\x02K\x01X\x03\x00\x00\x00twoq\x00\x86q\x01.");
/// # Ok::<(), brine::Error>(())
/// ```
pub struct Serializer<W> {
    out: W,
    opts: DumpOptions,
    ser: GraphSer,
}

impl<W: io::Write> Serializer<W> {
    /// A serializer writing to `out` with these options (protocol, `fix_imports`, limits).
    pub fn new(out: W, opts: DumpOptions) -> Self {
        let ser = GraphSer::new(Some(opts.protocol), opts.limits.max_depth);
        Serializer { out, opts, ser }
    }

    /// Gives the writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes the graph built for one value, then starts afresh for the next.
    fn write(&mut self, root: NodeId) -> Result<()> {
        let mut graph = std::mem::replace(
            &mut self.ser,
            GraphSer::new(Some(self.opts.protocol), self.opts.limits.max_depth),
        )
        .graph;
        graph.set_root(root);
        let opts = DumpOptions::new()
            .protocol(self.opts.protocol)
            .fix_imports(self.opts.fix_imports)
            .limits(self.opts.limits.clone());
        crate::dump_with(&graph, &mut self.out, opts)
    }
}

fn top_finish<W: io::Write>(c: &mut Compound<&mut Serializer<W>>) -> Result<()> {
    let root = c.finish();
    c.ser.write(root)
}

compound_impls!(&'a mut Serializer<W>, (), top_finish, 'a, W);

/// Runs one scalar method of the graph serializer and writes the result.
macro_rules! top_scalar {
    ($($name:ident($($arg:ident: $t:ty),*);)*) => {$(
        fn $name(self $(, $arg: $t)*) -> Result<()> {
            let id = ser::Serializer::$name(&mut self.ser $(, $arg)*)?;
            self.write(id)
        }
    )*};
}

impl<'a, W: io::Write> ser::Serializer for &'a mut Serializer<W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<&'a mut Serializer<W>>;
    type SerializeTuple = Compound<&'a mut Serializer<W>>;
    type SerializeTupleStruct = Compound<&'a mut Serializer<W>>;
    type SerializeTupleVariant = Compound<&'a mut Serializer<W>>;
    type SerializeMap = Compound<&'a mut Serializer<W>>;
    type SerializeStruct = Compound<&'a mut Serializer<W>>;
    type SerializeStructVariant = Compound<&'a mut Serializer<W>>;

    top_scalar! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, i: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<()> {
        let id = ser::Serializer::serialize_some(&mut self.ser, v)?;
        self.write(id)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<()> {
        let id = ser::Serializer::serialize_newtype_struct(&mut self.ser, name, v)?;
        self.write(id)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        i: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<()> {
        let id = ser::Serializer::serialize_newtype_variant(&mut self.ser, name, i, variant, v)?;
        self.write(id)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        self.top(Kind::List, len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.top(Kind::Tuple, Some(len))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        let kind = match self.ser.class(name) {
            Some(cls) => Kind::Reduce(cls),
            None => Kind::Tuple,
        };
        self.top(kind, Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.top(Kind::TupleVariant(variant), Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap> {
        self.top(Kind::Map, len)
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        let kind = match self.ser.class(name) {
            Some(cls) => Kind::Instance(cls),
            None => Kind::Map,
        };
        self.top(kind, Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.top(Kind::StructVariant(variant), Some(len))
    }
}

impl<W: io::Write> Serializer<W> {
    fn top(&mut self, kind: Kind, len: Option<usize>) -> Result<Compound<&mut Serializer<W>>> {
        let c = self.ser.compound(kind, len)?;
        let (items, pairs) = (c.items, c.pairs);
        Ok(Compound {
            ser: self,
            kind,
            items,
            pairs,
            key: None,
        })
    }
}
