//! The fast path of typed writing: a serde `Serializer` that writes opcodes straight through
//! brine-core's [`Encoder`], with no value graph in between, for the common shapes (scalars,
//! strings, bytes, sequences, tuples, maps, plain structs, enum variants).
//!
//! Its output is byte for byte what the graph path ([`GraphSer`](super::ser::GraphSer) then
//! the pickler) writes: every value Rust hands over is a fresh Python object, so the memo only
//! ever finds the shared static names and the strings CPython caches (`''` and one character
//! below U+0100), and both are tracked here. Anything else (class instances, the wrapper
//! types, bytes below protocol 3, maps of unknown length, a length that proves wrong, any
//! error) gives up with [`Fallback`]-style error and the caller writes the value again by the
//! graph path, which also gives the proper error and its path.

use ::serde::ser::{self, Serialize};
use brine_core::{Encoder, Opcode};
use num_bigint::BigInt;

use crate::{Error, Result};

use super::ser::{addr, AddrMap};
use super::MAX_TYPED_DEPTH;

/// CPython's `BATCHSIZE`: APPENDS / SETITEMS take at most this many items.
const BATCH: usize = 1000;

/// Entries of [`StreamSer::recent`] (a power of two).
const RECENT: usize = 64;

/// A memo table slot not yet used.
const ABSENT: u32 = u32::MAX;

/// The error that sends a value to the graph path (its message is never shown).
fn fallback() -> Error {
    Error::data("typed streaming writer: use the graph path")
}

/// Writes one pickle of `value` if the streaming writer handles all of it, else `None` (the
/// caller then uses the graph path, which also reports errors).
pub(crate) fn to_vec<T: Serialize + ?Sized>(
    value: &T,
    proto: u8,
    max_depth: usize,
) -> Option<Vec<u8>> {
    let mut s = StreamSer {
        // Room for a small value without regrowing from empty (one allocation either way).
        enc: Encoder::with_buffer(Vec::with_capacity(256), proto),
        proto,
        memo_len: 0,
        // A struct's or enum's names, without rehashing as they come.
        names: AddrMap::with_capacity_and_hasher(32, Default::default()),
        recent: [(0, 0, 0); RECENT],
        plain: (0, 0),
        chars: Vec::new(),
        empty_bytes: ABSENT,
        depth: 0,
        max_depth: max_depth.min(MAX_TYPED_DEPTH),
        key: false,
    };
    s.enc.start();
    value.serialize(&mut s).ok()?;
    s.enc.finish();
    Some(s.enc.into_inner())
}

/// The streaming serializer's state: the encoder and the parts of the memo that can be hit.
pub(crate) struct StreamSer {
    enc: Encoder,
    proto: u8,
    /// Entries in the pickle's memo so far (every PUT adds one).
    memo_len: u32,
    /// The memo index of each static name (struct fields, variants) written, by address, as
    /// the graph path shares one node per name.
    names: AddrMap<u32>,
    /// A direct-mapped cache in front of `names` (address, length, memo index): a record's
    /// few field names are looked up once per record, and hashing them costs more than this.
    recent: [(usize, usize, u32); RECENT],
    /// The struct name last found to name no class (records are usually all one struct).
    plain: (usize, usize),
    /// Memo indices of `''` (256) and one-character strings below U+0100, allocated on use.
    chars: Vec<u32>,
    /// Memo index of `b''`.
    empty_bytes: u32,
    /// Containers open (variant dicts counted too), so never below what either the graph
    /// serializer or the pickler counts: a value within the limit here is within theirs.
    depth: usize,
    max_depth: usize,
    /// The next value is a dict key: lists and dicts give up (the graph path reports them).
    key: bool,
}

/// The memo slot of a string CPython caches (`''`, one code point < U+0100), by its UTF-8 —
/// the same rule as the pickler's.
#[inline]
fn char_slot(utf8: &[u8]) -> Option<usize> {
    match *utf8 {
        [] => Some(256),
        [b] if b < 0x80 => Some(b as usize),
        [a @ (0xc2 | 0xc3), b] => Some((((a & 0x1f) as usize) << 6) | (b & 0x3f) as usize),
        _ => None,
    }
}

impl StreamSer {
    /// Adds a memo entry for the object just written.
    #[inline]
    fn put(&mut self) -> Result<u32> {
        let i = self.memo_len;
        if i == ABSENT - 1 {
            return Err(fallback());
        }
        self.memo_len += 1;
        self.enc.put(i);
        Ok(i)
    }

    /// Writes a str CPython caches: a GET once it is in the memo.
    #[cold]
    fn cached_str(&mut self, slot: usize, utf8: &[u8]) -> Result<()> {
        if self.chars.is_empty() {
            self.chars.resize(257, ABSENT);
        }
        match self.chars[slot] {
            ABSENT => {
                self.enc.str_utf8(utf8).map_err(Error::data)?;
                self.chars[slot] = self.put()?;
            }
            i => self.enc.get(i),
        }
        Ok(())
    }

    /// `save()` of a fresh str.
    #[inline]
    fn str(&mut self, utf8: &[u8]) -> Result<()> {
        self.enc.opcode_boundary();
        if utf8.len() < 3 {
            if let Some(slot) = char_slot(utf8) {
                return self.cached_str(slot, utf8);
            }
        }
        if !self.enc.short_str(utf8) {
            self.enc.str_utf8(utf8).map_err(Error::data)?;
        }
        self.put().map(drop)
    }

    /// `save()` of a static name: one object however often it is written.
    #[inline]
    fn name(&mut self, s: &'static str) -> Result<()> {
        let (p, n) = addr(s);
        let slot = p.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (usize::BITS - RECENT.ilog2());
        let r = self.recent[slot];
        if r.0 == p && r.1 == n {
            self.enc.opcode_boundary();
            self.enc.get(r.2);
            return Ok(());
        }
        if let Some(&i) = self.names.get(&(p, n)) {
            self.recent[slot] = (p, n, i);
            self.enc.opcode_boundary();
            self.enc.get(i);
            return Ok(());
        }
        self.name_first(s)
    }

    /// True when struct `name` is a Python class (then the graph path writes it).
    #[inline]
    fn is_class(&mut self, name: &'static str) -> bool {
        if addr(name) == self.plain {
            return false;
        }
        let class = super::class_name(name).is_some();
        if !class {
            self.plain = addr(name);
        }
        class
    }

    #[cold]
    fn name_first(&mut self, s: &'static str) -> Result<()> {
        self.enc.opcode_boundary();
        if let Some(slot) = char_slot(s.as_bytes()) {
            return self.cached_str(slot, s.as_bytes());
        }
        self.enc.str_utf8(s.as_bytes()).map_err(Error::data)?;
        let i = self.put()?;
        self.names.insert(addr(s), i);
        Ok(())
    }

    /// Starts a value: the frame boundary of `save()`; says whether it is a dict key.
    #[inline(always)]
    fn begin(&mut self) -> bool {
        self.enc.opcode_boundary();
        std::mem::take(&mut self.key)
    }

    #[inline]
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(fallback());
        }
        Ok(())
    }

    /// An int beyond i64, as the pickler writes a big int.
    fn big(&mut self, b: BigInt) -> Result<()> {
        self.begin();
        if self.proto < 2 {
            return Err(fallback());
        }
        self.enc.long_bytes(&b.to_signed_bytes_le());
        Ok(())
    }

    fn int(&mut self, v: i64) -> Result<()> {
        self.begin();
        self.enc.int(v);
        Ok(())
    }

    /// Opens `{variant: …}`: the dict, its memo entry and the key; the payload follows.
    fn open_variant(&mut self, variant: &'static str) -> Result<()> {
        if self.begin() {
            return Err(fallback());
        }
        self.empty_dict()?;
        self.enter()?;
        self.name(variant)
    }

    /// `EMPTY_DICT` (`MARK DICT` at protocol 0) and its memo entry.
    fn empty_dict(&mut self) -> Result<()> {
        if self.proto == 0 {
            self.enc.op(Opcode::MARK);
            self.enc.op(Opcode::DICT);
        } else {
            self.enc.op(Opcode::EMPTY_DICT);
        }
        self.put().map(drop)
    }

    /// Closes what [`open_variant`](Self::open_variant) opened.
    fn close_variant(&mut self) {
        self.enc.op(Opcode::SETITEM);
        self.depth -= 1;
    }

    /// Opens a list, tuple or dict of `n` items (the boundary is the caller's).
    fn open(&mut self, kind: Kind, n: usize, variant: bool) -> Result<Compound<'_>> {
        let each = self.proto == 0 || n == 1;
        match kind {
            Kind::List => {
                self.enc.op(if self.proto == 0 {
                    Opcode::MARK
                } else {
                    Opcode::EMPTY_LIST
                });
                if self.proto == 0 {
                    self.enc.op(Opcode::LIST);
                }
                self.put()?;
            }
            Kind::Dict => self.empty_dict()?,
            Kind::Tuple => {
                if n == 0 {
                    if self.proto == 0 {
                        self.enc.op(Opcode::MARK);
                        self.enc.op(Opcode::TUPLE);
                    } else {
                        self.enc.op(Opcode::EMPTY_TUPLE);
                    }
                } else if self.proto < 2 || n > 3 {
                    self.enc.op(Opcode::MARK);
                }
            }
        }
        self.enter()?;
        if n > 1 && !each && kind != Kind::Tuple {
            self.enc.op(Opcode::MARK);
        }
        Ok(Compound {
            s: self,
            kind,
            n,
            i: 0,
            left: BATCH,
            each,
            variant,
        })
    }
}

/// The container a [`Compound`] writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Tuple,
    Dict,
}

/// A list, tuple or dict being written, with its claimed length (a wrong claim gives up).
pub(crate) struct Compound<'a> {
    s: &'a mut StreamSer,
    kind: Kind,
    n: usize,
    /// Items (pairs, for dicts) written so far.
    i: usize,
    /// Items still to go in the current batch (a countdown is cheaper than `i % BATCH`).
    left: usize,
    /// One APPEND / SETITEM per item (protocol 0, or a single item) instead of batches.
    each: bool,
    /// Inside `{variant: …}`, closed at `end`.
    variant: bool,
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        if self.i == self.n {
            return Err(fallback());
        }
        v.serialize(&mut *self.s)?;
        self.i += 1;
        self.after_item();
        Ok(())
    }

    /// The opcodes that follow an item: APPEND / SETITEM, or the batch's close (and the
    /// next batch's MARK for dicts, which CPython writes even when no item is left).
    #[inline]
    fn after_item(&mut self) {
        let e = &mut self.s.enc;
        match self.kind {
            Kind::Tuple => {}
            Kind::List => {
                if self.each {
                    e.op(Opcode::APPEND);
                } else {
                    self.left -= 1;
                    if self.left == 0 {
                        self.left = BATCH;
                        if self.i < self.n {
                            e.op(Opcode::APPENDS);
                            e.op(Opcode::MARK);
                        }
                    }
                }
            }
            Kind::Dict => {
                if self.each {
                    e.op(Opcode::SETITEM);
                } else {
                    self.left -= 1;
                    if self.left == 0 {
                        self.left = BATCH;
                        e.op(Opcode::SETITEMS);
                        e.op(Opcode::MARK);
                    }
                }
            }
        }
    }

    fn key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<()> {
        if self.i == self.n {
            return Err(fallback());
        }
        self.s.key = true;
        k.serialize(&mut *self.s)
    }

    fn value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        v.serialize(&mut *self.s)?;
        self.i += 1;
        self.after_item();
        Ok(())
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &'static str, v: &T) -> Result<()> {
        if self.i == self.n {
            return Err(fallback());
        }
        self.s.name(name)?;
        self.value(v)
    }

    fn end(self) -> Result<()> {
        if self.i != self.n {
            return Err(fallback());
        }
        let s = self.s;
        s.depth -= 1;
        match self.kind {
            Kind::List if self.n > 1 && !self.each => s.enc.op(Opcode::APPENDS),
            Kind::Dict if self.n > 1 && !self.each => s.enc.op(Opcode::SETITEMS),
            Kind::Tuple if self.n > 0 => {
                s.enc.op(match self.n {
                    _ if s.proto < 2 || self.n > 3 => Opcode::TUPLE,
                    1 => Opcode::TUPLE1,
                    2 => Opcode::TUPLE2,
                    _ => Opcode::TUPLE3,
                });
                s.put()?;
            }
            _ => {}
        }
        if self.variant {
            s.close_variant();
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for &'a mut StreamSer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.begin();
        self.enc.bool(v);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.int(v as i64)
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.int(v as i64)
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.int(v as i64)
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.int(v)
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        match i64::try_from(v) {
            Ok(i) => self.int(i),
            Err(_) => self.big(BigInt::from(v)),
        }
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.int(v as i64)
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.int(v as i64)
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.int(v as i64)
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        match i64::try_from(v) {
            Ok(i) => self.int(i),
            Err(_) => self.big(BigInt::from(v)),
        }
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        match i64::try_from(v) {
            Ok(i) => self.int(i),
            Err(_) => self.big(BigInt::from(v)),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.serialize_f64(v as f64)
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.begin();
        self.enc.float(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.key = false;
        self.str(v.encode_utf8(&mut [0; 4]).as_bytes())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.key = false;
        self.str(v.as_bytes())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.begin();
        if self.proto < 3 {
            return Err(fallback());
        }
        if v.is_empty() && self.empty_bytes != ABSENT {
            self.enc.get(self.empty_bytes);
            return Ok(());
        }
        self.enc.bytes(v).map_err(Error::data)?;
        let i = self.put()?;
        if v.is_empty() {
            self.empty_bytes = i;
        }
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.begin();
        self.enc.none();
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        if super::class_name(name).is_some() {
            return Err(fallback());
        }
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.key = false;
        self.name(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<()> {
        // Wrapper types and classes change the Python type: the graph path's business.
        if name.starts_with('\0') || super::class_name(name).is_some() {
            return Err(fallback());
        }
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<()> {
        self.open_variant(variant)?;
        v.serialize(&mut *self)?;
        self.close_variant();
        Ok(())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>> {
        let (Some(n), false) = (len, self.begin()) else {
            return Err(fallback());
        };
        self.open(Kind::List, n, false)
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>> {
        self.begin();
        self.open(Kind::Tuple, len, false)
    }
    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<Compound<'a>> {
        if super::class_name(name).is_some() {
            return Err(fallback());
        }
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>> {
        self.open_variant(variant)?;
        self.begin();
        self.open(Kind::Tuple, len, true)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>> {
        let (Some(n), false) = (len, self.begin()) else {
            return Err(fallback());
        };
        self.open(Kind::Dict, n, false)
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'a>> {
        if self.begin() || self.is_class(name) {
            return Err(fallback());
        }
        self.open(Kind::Dict, len, false)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>> {
        self.open_variant(variant)?;
        self.begin();
        self.open(Kind::Dict, len, true)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.element(v)
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.element(v)
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.element(v)
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.element(v)
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<()> {
        self.key(k)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.value(v)
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        self.field(key, v)
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<()> {
        self.field(key, v)
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

#[cfg(test)]
mod tests {
    //! The streaming writer against the graph path, over the rows of the mapping table (in
    //! `super::super`'s docs) and the batch and frame edges, at every protocol.

    use std::collections::{BTreeMap, HashMap, HashSet};

    use ::serde::Serialize;

    use crate::serde::{BigInt, ByteArray, FrozenSet, Global, Set, Tuple};
    use crate::DumpOptions;

    /// Both paths' bytes for `v` at protocol `p`: equal whenever the streaming writer takes
    /// the value; returns whether it did.
    fn same<T: Serialize + ?Sized>(v: &T, p: u8) -> bool {
        let mut graph = Vec::new();
        let g = super::super::graph_to_writer(&mut graph, v, DumpOptions::new().protocol(p));
        match super::to_vec(v, p, usize::MAX) {
            Some(s) => {
                assert!(
                    g.is_ok(),
                    "graph path failed where streaming wrote, protocol {p}"
                );
                assert_eq!(s, graph, "protocol {p}");
                true
            }
            None => false,
        }
    }

    fn all<T: Serialize + ?Sized>(v: &T) -> bool {
        (0..=5).map(|p| same(v, p)).fold(false, |a, b| a | b)
    }

    #[derive(Serialize)]
    struct Rec {
        id: i64,
        name: String,
        x: f64,
        e: &'static str,
        tags: Vec<String>,
        opt: Option<u8>,
        unit: (),
        empty: Vec<u8>,
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Newtype(u32);

    #[derive(Serialize)]
    struct Pair(i8, String);

    #[derive(Serialize)]
    enum E {
        A,
        B(i32),
        C(u8, String),
        D { f: f32, x: Vec<E> },
    }

    #[derive(Serialize)]
    #[serde(rename = "geometry.Point")]
    struct Point {
        x: f64,
    }

    #[derive(Serialize)]
    #[serde(rename = "collections.P")]
    struct P(i32, i32);

    #[test]
    fn table_rows() {
        let rec = |i: i64| Rec {
            id: i,
            name: format!("n{i}"),
            x: i as f64 / 3.0,
            e: if i % 2 == 0 { "" } else { "é" },
            tags: vec!["a".into(), "é".into(), "ab".into(), "\u{100}".into()],
            opt: (i % 2 == 0).then_some(3),
            unit: (),
            empty: Vec::new(),
        };
        assert!(all(&true));
        assert!(all(&(
            i8::MIN,
            i16::MAX,
            i32::MIN,
            i64::MIN,
            u8::MAX,
            u16::MAX
        )));
        assert!(all(&(
            u32::MAX,
            u64::MAX,
            i128::MIN,
            u128::MAX,
            5u64,
            -3i128
        )));
        assert!(all(&(1.5f32, f64::NAN, -0.0f64, 'x', 'é', '\u{1F600}')));
        assert!(all(&("", "a", "é", "ab", "\u{ff}", "\u{100}", "long text")));
        assert!(all(&vec![Some(1), None]));
        assert!(all(&((), Unit, Newtype(7), Pair(-1, "p".into()))));
        assert!(all(&[E::A, E::B(1), E::C(2, "c".into())]));
        assert!(all(&E::D {
            f: 0.5,
            x: vec![E::A, E::D { f: 1.0, x: vec![] }]
        }));
        assert!(all(&vec![(1, "a"), (2, "b")]));
        assert!(all(&BTreeMap::from([((1, 2), 0.5), ((3, 4), 1.5)])));
        assert!(all(&HashMap::from([("k".to_string(), vec![1u8])])));
        assert!(all(&HashSet::from([1, 2, 3])));
        assert!(all(&(
            Vec::<i32>::new(),
            (1,),
            (1, 2, 3, 4),
            [0u8; 0],
            [1u8; 3]
        )));
        assert!(all(&(0..50).map(rec).collect::<Vec<_>>()));
        assert!(all(
            &serde_json::json!({"a": [1, 2.5, null, true], "b": {"c": "d"}})
        ));
        for n in [999, 1000, 1001, 2000, 2001] {
            assert!(all(&(0..n).collect::<Vec<i32>>()));
            assert!(all(&(0..n).map(|i| (i, i)).collect::<BTreeMap<i32, i32>>()));
            assert!(all(&(0..n).map(|i| i.to_string()).collect::<Vec<_>>()));
        }
        // Frames: many small items, and payloads of 64 KiB and more.
        assert!(all(&(0..30_000).map(rec).collect::<Vec<_>>()));
        assert!(all(&("x".repeat(70_000), 1, "y".repeat(65_535))));
        let big = serde_bytes::ByteBuf::from(vec![7u8; 70_000]);
        assert!(same(
            &(
                big,
                serde_bytes::Bytes::new(b""),
                serde_bytes::Bytes::new(b"")
            ),
            4
        ));
        assert!(same(&serde_bytes::Bytes::new(b"ab"), 3));
        // The graph path's own: written there, and the same bytes through the public API.
        for v in [
            crate::serde::to_vec(&Point { x: 1.0 }),
            crate::serde::to_vec(&P(1, 2)),
            crate::serde::to_vec(&Set(vec![1])),
            crate::serde::to_vec(&FrozenSet(vec![1])),
            crate::serde::to_vec(&Tuple(vec![1])),
            crate::serde::to_vec(&ByteArray(vec![1])),
            crate::serde::to_vec(&BigInt(7.into())),
            crate::serde::to_vec(&Global::new("collections", "OrderedDict")),
        ] {
            assert!(v.is_ok());
        }
        assert!(!all(&Point { x: 1.0 }));
        assert!(!all(&HashMap::from([(vec![1], 2)])));
    }
}
