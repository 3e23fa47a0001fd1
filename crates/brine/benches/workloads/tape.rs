//! A floor for typed decodes: the workload's values as a flat tape of serde events, replayed
//! by a deserializer that parses nothing, so that building the target type is all it costs.
//!
//! No pickle decoder (brine's, serde-pickle, any other) can hand serde the same values for
//! less: every event is one load, every size hint is exact, and text and bytes are lent from
//! the tape. So `serde-pickle time / floor` and `CPython time / floor` bound the ratios any
//! decoder into the same Rust type could reach, and `brine time - floor` is what brine's
//! reading adds to the type's own cost (its allocations and hashing).
#![allow(dead_code)]

use brine::value::{Graph, Node, NodeId};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// One serde event. Payloads are ranges of [`Tape::text`].
#[derive(Clone, Copy, Debug)]
enum Ev {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(u32, u32),
    Bytes(u32, u32),
    /// A sequence of this many values (the events that follow).
    Seq(u32),
    /// A map of this many key-value pairs.
    Map(u32),
}

/// A graph's values in pre-order, as events.
pub struct Tape {
    evs: Vec<Ev>,
    text: String,
    bytes: Vec<u8>,
}

impl Tape {
    /// The tape of `g`'s root, or why not: the workloads hold only plain containers,
    /// scalars, and calls read as their argument tuple (`datetime.date`).
    pub fn from_graph(g: &Graph) -> Result<Tape, String> {
        let mut t = Tape {
            evs: Vec::new(),
            text: String::new(),
            bytes: Vec::new(),
        };
        let root = g.root().ok_or("an empty graph")?;
        // An explicit stack, children pushed in reverse so they come off in order.
        let mut todo: Vec<NodeId> = vec![root];
        let len = |n: usize| u32::try_from(n).map_err(|_| "too long for a tape".to_string());
        while let Some(id) = todo.pop() {
            let mut seq = |t: &mut Tape, items: &[NodeId]| -> Result<(), String> {
                t.evs.push(Ev::Seq(len(items.len())?));
                todo.extend(items.iter().rev());
                Ok(())
            };
            match g.get(id) {
                Node::None => t.evs.push(Ev::Unit),
                Node::Bool(b) => t.evs.push(Ev::Bool(*b)),
                Node::Int(i) => t.evs.push(Ev::Int(*i)),
                Node::Float(x) => t.evs.push(Ev::Float(*x)),
                Node::Str(s) => {
                    let s = s.as_str().ok_or("a str with lone surrogates")?;
                    let a = len(t.text.len())?;
                    t.text.push_str(s);
                    t.evs.push(Ev::Str(a, len(t.text.len())?));
                }
                Node::Bytes(b) | Node::ByteArray(b) => {
                    let a = len(t.bytes.len())?;
                    t.bytes.extend_from_slice(b.as_bytes());
                    t.evs.push(Ev::Bytes(a, len(t.bytes.len())?));
                }
                Node::List(items)
                | Node::Tuple(items)
                | Node::Set(items)
                | Node::FrozenSet(items) => seq(&mut t, g.items(*items))?,
                Node::Dict(pairs) => {
                    let pairs = g.pairs(*pairs);
                    t.evs.push(Ev::Map(len(pairs.len())?));
                    for (k, v) in pairs.iter().rev() {
                        todo.push(v);
                        todo.push(k);
                    }
                }
                Node::Object(o) => {
                    let args = g.seq(o.args).ok_or("a call whose arguments are no tuple")?;
                    seq(&mut t, args)?;
                }
                other => return Err(format!("a {} on the tape", other.kind_name())),
            }
        }
        Ok(t)
    }

    /// A `T` from the tape: the floor of a typed decode into `T`.
    pub fn read<'t, T: de::Deserialize<'t>>(&'t self) -> Result<T, de::value::Error> {
        T::deserialize(&mut Replay { tape: self, at: 0 })
    }
}

/// The replaying deserializer.
struct Replay<'t> {
    tape: &'t Tape,
    at: usize,
}

impl<'t> Replay<'t> {
    #[inline(always)]
    fn next(&mut self) -> Result<Ev, de::value::Error> {
        let ev = self.tape.evs.get(self.at).copied();
        self.at += 1;
        ev.ok_or_else(|| de::Error::custom("the tape ended"))
    }
}

/// The values of a sequence or map, counted down.
struct Items<'a, 't> {
    de: &'a mut Replay<'t>,
    left: u32,
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = de::value::Error;

    #[inline(always)]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left as usize)
    }
}

impl<'de> MapAccess<'de> for Items<'_, 'de> {
    type Error = de::value::Error;

    #[inline(always)]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    #[inline(always)]
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(&mut *self.de)
    }

    /// Written out and inlined, as brine's own map access is: serde's default returns each
    /// entry through memory, read back wider than it was written (a store-forwarding stall
    /// per entry), which would make the floor slower than a tuned reader.
    #[inline(always)]
    fn next_entry_seed<K: DeserializeSeed<'de>, V: DeserializeSeed<'de>>(
        &mut self,
        kseed: K,
        vseed: V,
    ) -> Result<Option<(K::Value, V::Value)>, Self::Error> {
        match self.next_key_seed(kseed)? {
            Some(k) => Ok(Some((k, self.next_value_seed(vseed)?))),
            None => Ok(None),
        }
    }

    #[inline(always)]
    fn next_entry<K: de::Deserialize<'de>, V: de::Deserialize<'de>>(
        &mut self,
    ) -> Result<Option<(K, V)>, Self::Error> {
        self.next_entry_seed(std::marker::PhantomData, std::marker::PhantomData)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left as usize)
    }
}

impl<'de> Deserializer<'de> for &mut Replay<'de> {
    type Error = de::value::Error;

    #[inline(always)]
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        let tape = self.tape;
        match self.next()? {
            Ev::Unit => v.visit_unit(),
            Ev::Bool(b) => v.visit_bool(b),
            Ev::Int(i) => v.visit_i64(i),
            Ev::Float(x) => v.visit_f64(x),
            Ev::Str(a, b) => v.visit_borrowed_str(&tape.text[a as usize..b as usize]),
            Ev::Bytes(a, b) => v.visit_borrowed_bytes(&tape.bytes[a as usize..b as usize]),
            Ev::Seq(n) => v.visit_seq(Items { de: self, left: n }),
            Ev::Map(n) => v.visit_map(Items { de: self, left: n }),
        }
    }

    #[inline(always)]
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        if let Some(Ev::Unit) = self.tape.evs.get(self.at) {
            self.at += 1;
            return v.visit_none();
        }
        v.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        v.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}
