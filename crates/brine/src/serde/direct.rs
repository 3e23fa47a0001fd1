//! Typed reading straight off the pickle bytes, without a value graph: the fast path of
//! [`from_slice`](super::from_slice) for the pickles CPython writes for plain data.
//!
//! Pickles are postfix (a tuple's opcode follows its items), so reading top-down needs the
//! Rust type's guidance and some care. This reader walks the opcodes once, lets the Rust type
//! say what it expects at each place, and accepts an opcode only where its real effect on the
//! unpickling machine's stack is the one the walk assumed (a `TUPLE2` must close exactly the
//! two items just read, an `APPENDS` must close the batch this list opened). Anything else —
//! objects, globals, text opcodes, a memo GET of a container, a mismatch of any kind, and
//! every error, serde's included — fails with [`Fallback`], and the caller reads the same
//! bytes again by the graph path, which gives its exact result or error. So this path only
//! ever succeeds with the value the graph path would give.
//!
//! Nesting is bounded by the typed depth limit (serde's visitors recurse once per level);
//! memo PUTs record scalars (a later GET re-reads them without a second UTF-8 check).

use ::serde::de::{self, DeserializeSeed, Visitor};

use crate::{Error, Result};

/// The one error of this path: "let the graph path read it". It never reaches a user.
#[cold]
fn fallback() -> Error {
    Error::data("typed fast path declined the input")
}

/// `Err(fallback())` for `?` in `Option` positions.
#[inline]
fn need<T>(x: Option<T>) -> Result<T> {
    x.ok_or_else(fallback)
}

/// A memo entry: a scalar to push again on GET, or something only the graph path can share.
#[derive(Clone, Copy, Debug)]
enum Item<'de> {
    Empty,
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'de str),
    Bytes(&'de [u8]),
    ByteArray(&'de [u8]),
    /// A container (or anything not a scalar): a GET of it falls back.
    Other,
}

/// Memo indices beyond the entries so far plus this go to the graph path (sparse memos).
const MEMO_SLACK: usize = 1024;

/// How far [`Direct::single_item`] looks ahead for the `APPEND` / `SETITEM` of a one-item
/// container before it assumes there is none (checked later, so only speed depends on it).
const SCAN_OPS: usize = 64;

/// The reader: the input, the read position, the memo and the nesting depth.
pub(crate) struct Direct<'de> {
    data: &'de [u8],
    pos: usize,
    memo: Vec<Item<'de>>,
    /// Memo entries set (CPython's `len(memo)`, the index MEMOIZE uses).
    count: usize,
    max_memo_index: u64,
    depth: usize,
    max_depth: usize,
}

/// Reads a `T` from the pickle in `data`, or fails with a fallback error (see the module
/// docs): the caller then uses the graph path.
pub(crate) fn from_slice<'de, T: de::Deserialize<'de>>(
    data: &'de [u8],
    max_depth: usize,
    max_memo_index: u64,
) -> Result<T> {
    let mut d = Direct {
        data,
        pos: 0,
        memo: Vec::new(),
        count: 0,
        max_memo_index,
        depth: 0,
        max_depth,
    };
    // PROTO (CPython writes it first from protocol 2 on).
    if data.first() == Some(&0x80) {
        match data.get(1) {
            Some(&p) if p <= brine_core::HIGHEST_PROTOCOL => d.pos = 2,
            _ => return Err(fallback()),
        }
    }
    let v = T::deserialize(&mut d)?;
    if d.peek()? != b'.' {
        return Err(fallback());
    }
    Ok(v)
}

/// True for the opcodes that push one new item and pop nothing (or a memo GET): where a value
/// can start, besides MARK.
#[inline]
fn starts_value(b: u8) -> bool {
    matches!(
        b,
        b'N' | 0x88
            | 0x89
            | b'K'
            | b'M'
            | b'J'
            | 0x8a
            | 0x8b
            | b'G'
            | b'F'
            | b'I'
            | b'L'
            | 0x8c
            | b'X'
            | 0x8d
            | b'V'
            | b'C'
            | b'B'
            | 0x8e
            | 0x96
            | b'S'
            | b'T'
            | b'U'
            | b']'
            | b'}'
            | b')'
            | 0x8f
            | b'h'
            | b'j'
            | b'g'
            | b'c'
            | 0x82
            | 0x83
            | 0x84
            | b'P'
            | 0x97
    )
}

impl<'de> Direct<'de> {
    /// The next opcode byte, after any FRAMEs (which only check their length, like the
    /// decoder does).
    #[inline]
    fn peek(&mut self) -> Result<u8> {
        loop {
            let b = *need(self.data.get(self.pos))?;
            if b != 0x95 {
                return Ok(b);
            }
            self.frame()?;
        }
    }

    #[cold]
    fn frame(&mut self) -> Result<()> {
        let n = u64::from_le_bytes(self.fixed::<8>(self.pos + 1)?);
        let left = (self.data.len() - self.pos - 9) as u64;
        if n > isize::MAX as u64 || n > left {
            return Err(fallback());
        }
        self.pos += 9;
        Ok(())
    }

    #[inline]
    fn fixed<const N: usize>(&self, at: usize) -> Result<[u8; N]> {
        let end = at.checked_add(N).ok_or_else(fallback)?;
        let s = need(self.data.get(at..end))?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// `n` payload bytes at `at`, a length read from the input: only a slice of it.
    #[inline]
    fn payload(&self, at: usize, n: u64) -> Result<&'de [u8]> {
        let n = need(usize::try_from(n).ok())?;
        need(self.data.get(at..at.checked_add(n).ok_or_else(fallback)?))
    }

    /// Records the item just pushed for the memo ops that follow it.
    #[inline]
    fn memo_ops(&mut self, item: Item<'de>) -> Result<()> {
        loop {
            let idx = match self.data.get(self.pos) {
                Some(0x94) => {
                    self.pos += 1;
                    self.count as u64
                }
                Some(b'q') => {
                    let i = *need(self.data.get(self.pos + 1))?;
                    self.pos += 2;
                    i as u64
                }
                Some(b'r') => {
                    let i = u32::from_le_bytes(self.fixed::<4>(self.pos + 1)?);
                    self.pos += 5;
                    i as u64
                }
                Some(0x95) => {
                    self.frame()?;
                    continue;
                }
                _ => return Ok(()),
            };
            self.put(idx, item)?;
        }
    }

    #[inline]
    fn put(&mut self, idx: u64, item: Item<'de>) -> Result<()> {
        if idx > self.max_memo_index {
            return Err(fallback());
        }
        let i = idx as usize;
        let len = self.memo.len();
        if let Some(slot) = self.memo.get_mut(i) {
            if matches!(slot, Item::Empty) {
                self.count += 1;
            }
            *slot = item;
            return Ok(());
        }
        match i {
            _ if i == len => {
                self.memo.push(item);
                self.count += 1;
            }
            _ if i < len + MEMO_SLACK => {
                self.memo.resize(i, Item::Empty);
                self.memo.push(item);
                self.count += 1;
            }
            _ => return Err(fallback()),
        }
        Ok(())
    }

    /// Reads the scalar whose opcode `b` is at the read position (and the memo ops after it);
    /// `None` (nothing read) when `b` is not one this path reads.
    #[inline]
    fn scalar(&mut self, b: u8) -> Result<Option<Item<'de>>> {
        let at = self.pos;
        let (item, end) = match b {
            b'K' => (Item::Int(*need(self.data.get(at + 1))? as i64), at + 2),
            b'M' => (
                Item::Int(u16::from_le_bytes(self.fixed(at + 1)?) as i64),
                at + 3,
            ),
            b'J' => (
                Item::Int(i32::from_le_bytes(self.fixed(at + 1)?) as i64),
                at + 5,
            ),
            b'G' => (Item::Float(f64::from_be_bytes(self.fixed(at + 1)?)), at + 9),
            b'N' => (Item::None, at + 1),
            0x88 => (Item::Bool(true), at + 1),
            0x89 => (Item::Bool(false), at + 1),
            0x8a => {
                let n = *need(self.data.get(at + 1))? as usize;
                if n > 8 {
                    return Err(fallback());
                }
                let b = self.payload(at + 2, n as u64)?;
                let mut a = [0u8; 8];
                a[..n].copy_from_slice(b);
                let v = if n == 0 {
                    0
                } else {
                    let shift = 64 - 8 * n as u32;
                    (i64::from_le_bytes(a) << shift) >> shift
                };
                (Item::Int(v), at + 2 + n)
            }
            0x8c => {
                let n = *need(self.data.get(at + 1))? as u64;
                let s = self.payload(at + 2, n)?;
                (Item::Str(utf8(s)?), at + 2 + s.len())
            }
            b'X' => {
                let n = u32::from_le_bytes(self.fixed(at + 1)?) as u64;
                let s = self.payload(at + 5, n)?;
                (Item::Str(utf8(s)?), at + 5 + s.len())
            }
            0x8d => {
                let n = u64::from_le_bytes(self.fixed(at + 1)?);
                let s = self.payload(at + 9, n)?;
                (Item::Str(utf8(s)?), at + 9 + s.len())
            }
            b'C' => {
                let n = *need(self.data.get(at + 1))? as u64;
                let s = self.payload(at + 2, n)?;
                (Item::Bytes(s), at + 2 + s.len())
            }
            b'B' => {
                let n = u32::from_le_bytes(self.fixed(at + 1)?) as u64;
                let s = self.payload(at + 5, n)?;
                (Item::Bytes(s), at + 5 + s.len())
            }
            0x8e => {
                let n = u64::from_le_bytes(self.fixed(at + 1)?);
                let s = self.payload(at + 9, n)?;
                (Item::Bytes(s), at + 9 + s.len())
            }
            0x96 => {
                let n = u64::from_le_bytes(self.fixed(at + 1)?);
                let s = self.payload(at + 9, n)?;
                (Item::ByteArray(s), at + 9 + s.len())
            }
            b'h' => {
                let i = *need(self.data.get(at + 1))? as usize;
                (self.get(i)?, at + 2)
            }
            b'j' => {
                let i = u32::from_le_bytes(self.fixed(at + 1)?) as usize;
                (self.get(i)?, at + 5)
            }
            _ => return Ok(None),
        };
        self.pos = end;
        self.memo_ops(item)?;
        Ok(Some(item))
    }

    #[inline]
    fn get(&self, i: usize) -> Result<Item<'de>> {
        match self.memo.get(i) {
            Some(Item::Empty | Item::Other) | None => Err(fallback()),
            Some(&item) => Ok(item),
        }
    }

    /// The memo entry a GET at the read position would push, if the next opcode is one.
    #[inline]
    fn peek_get(&mut self, b: u8) -> Result<Option<Item<'de>>> {
        Ok(match b {
            b'h' => Some(self.get(*need(self.data.get(self.pos + 1))? as usize)?),
            b'j' => Some(self.get(u32::from_le_bytes(self.fixed(self.pos + 1)?) as usize)?),
            _ => None,
        })
    }

    /// Consumes a one-byte container opcode and the memo ops after it.
    #[inline]
    fn open(&mut self) -> Result<()> {
        self.pos += 1;
        self.memo_ops(Item::Other)?;
        self.enter()
    }

    #[inline]
    fn enter(&mut self) -> Result<()> {
        if self.depth >= self.max_depth {
            return Err(fallback());
        }
        self.depth += 1;
        Ok(())
    }

    /// Whether the value at the read position (just after an empty list or dict and its memo
    /// ops) is that container's one item (`x APPEND`) or pair (`k v SETITEM`), as CPython
    /// writes one-item containers. Simulates stack heights from here until the opcode that
    /// takes an item from below; gives up (false: "no item", which the walk checks later)
    /// after [`SCAN_OPS`] opcodes or at any opcode it does not model.
    fn single_item(&self, pair: bool) -> bool {
        let mut h = 0usize; // items above the container
        let mut marks = [0usize; 8];
        let mut nm = 0usize;
        let mut p = self.pos;
        for _ in 0..SCAN_OPS {
            let Some(&b) = self.data.get(p) else {
                return false;
            };
            let floor = if nm > 0 { marks[nm - 1] } else { 0 };
            let len = match op_len(self.data, p) {
                Some(n) => n,
                None => return false,
            };
            match b {
                0x94 | b'q' | b'r' | 0x95 => {
                    if h == 0 {
                        return false;
                    }
                }
                b'(' => {
                    if nm == marks.len() {
                        return false;
                    }
                    marks[nm] = h;
                    nm += 1;
                }
                0x85..=0x87 => {
                    let n = (b - 0x84) as usize;
                    if h - floor < n {
                        return false;
                    }
                    h -= n - 1;
                }
                b't' | b'l' | 0x91 | b'd' => {
                    if nm == 0 {
                        return false;
                    }
                    nm -= 1;
                    h = marks[nm] + 1;
                }
                b'e' | b'u' | 0x90 => {
                    if nm == 0 || marks[nm - 1] == 0 {
                        return false;
                    }
                    nm -= 1;
                    h = marks[nm];
                }
                b'a' => {
                    if nm == 0 && h == 1 {
                        return !pair;
                    }
                    if h - floor < 2 {
                        return false;
                    }
                    h -= 1;
                }
                b's' => {
                    if nm == 0 && h == 2 {
                        return pair;
                    }
                    if h - floor < 3 {
                        return false;
                    }
                    h -= 2;
                }
                b if starts_value(b) && b != b'g' && b != b'c' && b != b'P' => h += 1,
                _ => return false,
            }
            p += len;
        }
        false
    }
}

impl Direct<'_> {
    /// Whether the scalar at the read position (and its memo ops) is followed by TUPLE1:
    /// `(b'..',)` rather than bytes. Either guess is checked; this one only saves a fallback.
    fn tuple1_after_scalar(&self) -> bool {
        let mut p = self.pos;
        for _ in 0..4 {
            let Some(n) = op_len(self.data, p) else {
                return false;
            };
            p += n;
            match self.data.get(p) {
                Some(0x94 | b'q' | b'r' | 0x95) => {}
                Some(0x85) => return true,
                _ => return false,
            }
        }
        false
    }
}

/// The length of the binary opcode at `p` with its argument, for the look-ahead scan; `None`
/// for text opcodes and anything cut short.
fn op_len(data: &[u8], p: usize) -> Option<usize> {
    let b = *data.get(p)?;
    let u8_at = |o: usize| data.get(p + o).map(|&x| x as usize);
    let u32_at = |o: usize| {
        data.get(p + o..p + o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    let u64_at = |o: usize| {
        data.get(p + o..p + o + 8).and_then(|s| {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            usize::try_from(u64::from_le_bytes(a)).ok()
        })
    };
    let n = match b {
        b'N'
        | 0x88
        | 0x89
        | b']'
        | b'}'
        | b')'
        | 0x8f
        | b'('
        | 0x94
        | 0x85..=0x87
        | b't'
        | b'l'
        | 0x91
        | b'd'
        | b'e'
        | b'u'
        | 0x90
        | b'a'
        | b's'
        | b'.' => 1,
        b'K' | b'q' | b'h' => 2,
        b'M' => 3,
        b'J' | b'r' | b'j' => 5,
        b'G' | 0x95 => 9,
        0x8a | 0x8c | b'C' => 2 + u8_at(1)?,
        b'X' | b'B' => 5usize.checked_add(u32_at(1)?)?,
        0x8d | 0x8e | 0x96 => 9usize.checked_add(u64_at(1)?)?,
        _ => return None,
    };
    Some(n)
}

#[inline]
fn utf8(s: &[u8]) -> Result<&str> {
    // Lone surrogates (CPython's surrogatepass) fail here: the graph path keeps them.
    std::str::from_utf8(s).map_err(|_| fallback())
}

/// `deserialize_any` of a scalar: the same visit the graph path makes for its node.
#[inline]
fn visit_item<'de, V: Visitor<'de>>(item: Item<'de>, v: V) -> Result<V::Value> {
    match item {
        Item::None => v.visit_unit(),
        Item::Bool(b) => v.visit_bool(b),
        Item::Int(i) => v.visit_i64(i),
        Item::Float(x) => v.visit_f64(x),
        Item::Str(s) => v.visit_borrowed_str(s),
        Item::Bytes(b) => v.visit_borrowed_bytes(b),
        Item::ByteArray(b) => v.visit_bytes(b),
        Item::Empty | Item::Other => Err(fallback()),
    }
}

/// How a sequence being read ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SeqKind {
    /// EMPTY_LIST, then MARK ... APPENDS batches or one `x APPEND`.
    List,
    /// EMPTY_SET, then MARK ... ADDITEMS batches.
    Set,
    /// MARK ... TUPLE / LIST / FROZENSET.
    Mark,
    /// Items then TUPLE1 / TUPLE2 / TUPLE3 closing exactly them.
    Postfix,
    /// EMPTY_TUPLE.
    Empty,
}

struct SeqAcc<'a, 'de> {
    de: &'a mut Direct<'de>,
    kind: SeqKind,
    count: usize,
    /// Inside a MARK ... APPENDS / ADDITEMS batch.
    batch: bool,
    /// The next item is the one of `x APPEND`.
    single: bool,
    done: bool,
}

impl<'de> SeqAcc<'_, 'de> {
    /// Whether another item follows, consuming the opcodes that close batches or the sequence.
    #[inline]
    fn more(&mut self) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        loop {
            let b = self.de.peek()?;
            match self.kind {
                SeqKind::List | SeqKind::Set => {
                    let close = if self.kind == SeqKind::List {
                        b'e'
                    } else {
                        0x90
                    };
                    if self.batch {
                        if b != close {
                            return Ok(true);
                        }
                        self.de.pos += 1;
                        self.batch = false;
                        // CPython never adds single items after a batch; another MARK is
                        // another batch (checked: it must close with APPENDS).
                        if self.de.peek()? == b'(' {
                            self.de.pos += 1;
                            self.batch = true;
                            continue;
                        }
                    } else if b == b'(' {
                        self.de.pos += 1;
                        self.batch = true;
                        continue;
                    } else if self.kind == SeqKind::List
                        && self.count == 0
                        && !self.single
                        && starts_value(b)
                        && self.de.single_item(false)
                    {
                        self.single = true;
                        return Ok(true);
                    }
                }
                SeqKind::Mark => {
                    if !matches!(b, b't' | b'l' | 0x91) {
                        return Ok(true);
                    }
                    self.de.pos += 1;
                    self.de.memo_ops(Item::Other)?;
                }
                SeqKind::Postfix => {
                    if !(0x85..=0x87).contains(&b) {
                        if self.count >= 3 {
                            return Err(fallback());
                        }
                        return Ok(true);
                    }
                    if (b - 0x84) as usize != self.count {
                        return Err(fallback());
                    }
                    self.de.pos += 1;
                    self.de.memo_ops(Item::Other)?;
                }
                SeqKind::Empty => {}
            }
            self.done = true;
            return Ok(false);
        }
    }
}

impl<'de> de::SeqAccess<'de> for SeqAcc<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.more()? {
            return Ok(None);
        }
        let x = seed.deserialize(&mut *self.de)?;
        self.count += 1;
        if self.single {
            if self.de.peek()? != b'a' {
                return Err(fallback());
            }
            self.de.pos += 1;
            self.single = false;
            self.done = true;
        }
        Ok(Some(x))
    }
}

struct MapAcc<'a, 'de> {
    de: &'a mut Direct<'de>,
    batch: bool,
    single: bool,
    done: bool,
    count: usize,
}

impl MapAcc<'_, '_> {
    #[inline]
    fn more(&mut self) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        loop {
            let b = self.de.peek()?;
            if self.batch {
                if b != b'u' {
                    return Ok(true);
                }
                self.de.pos += 1;
                self.batch = false;
                if self.de.peek()? == b'(' {
                    self.de.pos += 1;
                    self.batch = true;
                    continue;
                }
            } else if b == b'(' {
                self.de.pos += 1;
                self.batch = true;
                continue;
            } else if self.count == 0 && starts_value(b) && self.de.single_item(true) {
                self.single = true;
                return Ok(true);
            }
            self.done = true;
            return Ok(false);
        }
    }
}

impl<'de> de::MapAccess<'de> for MapAcc<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.more()? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let x = seed.deserialize(&mut *self.de)?;
        self.count += 1;
        if self.single {
            if self.de.peek()? != b's' {
                return Err(fallback());
            }
            self.de.pos += 1;
            self.single = false;
            self.done = true;
        }
        Ok(x)
    }
}

impl<'de> Direct<'de> {
    /// Reads a sequence whose opening (if any) was consumed, checking it ends where the
    /// visitor stops.
    fn seq<V: Visitor<'de>>(&mut self, kind: SeqKind, v: V) -> Result<V::Value> {
        if kind == SeqKind::Mark || kind == SeqKind::Postfix {
            self.enter()?;
        }
        let mut acc = SeqAcc {
            de: self,
            kind,
            count: 0,
            batch: false,
            single: false,
            done: false,
        };
        let out = v.visit_seq(&mut acc)?;
        if acc.more()? {
            return Err(fallback());
        }
        self.depth -= 1;
        Ok(out)
    }

    /// Reads a dict whose EMPTY_DICT was consumed.
    fn map<V: Visitor<'de>>(&mut self, v: V) -> Result<V::Value> {
        let mut acc = MapAcc {
            de: self,
            batch: false,
            single: false,
            done: false,
            count: 0,
        };
        let out = v.visit_map(&mut acc)?;
        if acc.more()? {
            return Err(fallback());
        }
        self.depth -= 1;
        Ok(out)
    }

    /// A container at the read position, as the graph path's `deserialize_any` reads it.
    fn container_any<V: Visitor<'de>>(&mut self, b: u8, v: V) -> Result<V::Value> {
        match b {
            b']' => {
                self.open()?;
                self.seq(SeqKind::List, v)
            }
            b'}' => {
                self.open()?;
                self.map(v)
            }
            b')' => {
                self.open()?;
                self.seq(SeqKind::Empty, v)
            }
            0x8f => {
                self.open()?;
                self.seq(SeqKind::Set, v)
            }
            b'(' => {
                self.pos += 1;
                self.seq(SeqKind::Mark, v)
            }
            _ => Err(fallback()),
        }
    }
}

impl<'de> de::Deserializer<'de> for &mut Direct<'de> {
    type Error = Error;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        match self.scalar(b)? {
            Some(item) => visit_item(item, v),
            None => self.container_any(b, v),
        }
    }

    #[inline]
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        match self.scalar(b)? {
            Some(Item::Str(s)) => v.visit_str(s),
            Some(item) => visit_item(item, v),
            None => self.container_any(b, v),
        }
    }

    #[inline]
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.deserialize_string(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        match self.scalar(b)? {
            Some(Item::Bytes(s) | Item::ByteArray(s)) => v.visit_bytes(s),
            Some(item) => visit_item(item, v),
            None => self.container_any(b, v),
        }
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        let none = b == b'N' || matches!(self.peek_get(b)?, Some(Item::None));
        if none {
            self.scalar(b)?;
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value> {
        if name.starts_with('\0') {
            // brine's wrapper types (tuple, set, bytearray, global, big int): graph path.
            return Err(fallback());
        }
        v.visit_newtype_struct(self)
    }

    #[inline]
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        match b {
            b']' | b')' | 0x8f | b'(' => self.container_any(b, v),
            b'}' => Err(fallback()),
            b'C' | b'B' | 0x8e | 0x96 if !self.tuple1_after_scalar() => {
                // `Vec<u8>` from bytes: the byte values (as the graph path gives them).
                let Some(Item::Bytes(s) | Item::ByteArray(s)) = self.scalar(b)? else {
                    return Err(fallback());
                };
                v.visit_seq(de::value::SeqDeserializer::<_, Error>::new(
                    s.iter().copied(),
                ))
            }
            b if starts_value(b) => match self.peek_get(b)? {
                Some(Item::Bytes(_) | Item::ByteArray(_)) => Err(fallback()),
                _ => self.seq(SeqKind::Postfix, v),
            },
            _ => Err(fallback()),
        }
    }

    #[inline]
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(v)
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        let b = self.peek()?;
        match b {
            b'}' | b']' | b')' | b'(' => self.container_any(b, v),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        let b = self.peek()?;
        if b == b'}' {
            // `{variant: payload}`: only as CPython writes a one-item dict.
            self.open()?;
            let b = self.peek()?;
            if !starts_value(b) || !self.single_item(true) {
                return Err(fallback());
            }
            let out = v.visit_enum(EnumAcc {
                de: &mut *self,
                payload: true,
            })?;
            if self.peek()? != b's' {
                return Err(fallback());
            }
            self.pos += 1;
            if self.peek()? == b'(' {
                return Err(fallback());
            }
            self.depth -= 1;
            return Ok(out);
        }
        match self.peek_get(b)? {
            Some(Item::Str(_)) => {}
            Some(_) => return Err(fallback()),
            None if matches!(b, 0x8c | b'X' | 0x8d) => {}
            None => return Err(fallback()),
        }
        v.visit_enum(EnumAcc {
            de: self,
            payload: false,
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        // Read (and check) it all, as the graph path has decoded it all.
        self.deserialize_any(de::IgnoredAny)?;
        v.visit_unit()
    }

    ::serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str bytes unit
        unit_struct map
    }
}

struct EnumAcc<'a, 'de> {
    de: &'a mut Direct<'de>,
    /// The variant name is a dict key with a payload after it (else a bare str).
    payload: bool,
}

impl<'a, 'de> de::EnumAccess<'de> for EnumAcc<'a, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self)> {
        let x = seed.deserialize(&mut *self.de)?;
        Ok((x, self))
    }
}

impl<'a, 'de> de::VariantAccess<'de> for EnumAcc<'a, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        if self.payload {
            // `{variant: None}`.
            let b = self.de.peek()?;
            match self.de.scalar(b)? {
                Some(Item::None) => {}
                _ => return Err(fallback()),
            }
        }
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        if !self.payload {
            return Err(fallback());
        }
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value> {
        if !self.payload {
            return Err(fallback());
        }
        de::Deserializer::deserialize_tuple(&mut *self.de, len, v)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        if !self.payload {
            return Err(fallback());
        }
        de::Deserializer::deserialize_struct(&mut *self.de, "", fields, v)
    }
}

#[cfg(test)]
mod tests {
    //! The direct reader against the graph path: the same value where it reads a pickle, and
    //! a decline (never a different value) where it does not.
    use std::collections::{BTreeMap, HashSet};
    use std::fmt::Debug;

    use serde::Deserialize;

    use super::from_slice;

    /// The graph path's reading of `data`.
    fn graph<'de, T: Deserialize<'de>>(data: &'de [u8]) -> crate::Result<T> {
        let mut de = crate::serde::Deserializer::from_slice(data)?;
        T::deserialize(&mut de)
    }

    /// Asserts the direct reader reads `data` as the graph path does.
    #[track_caller]
    fn reads<'de, T: Deserialize<'de> + PartialEq + Debug>(data: &'de [u8]) -> T {
        let d: T = match from_slice(data, 256, u64::MAX) {
            Ok(v) => v,
            Err(e) => panic!("direct reader declined {data:?}: {e}"),
        };
        assert_eq!(d, graph::<T>(data).expect("graph path reads it"));
        d
    }

    /// Asserts the direct reader declines `data` (and `from_slice` still agrees with the
    /// graph path, result or error).
    #[track_caller]
    fn declines<'de, T: Deserialize<'de> + PartialEq + Debug>(data: &'de [u8]) {
        assert!(
            from_slice::<T>(data, 256, u64::MAX).is_err(),
            "read {data:?}"
        );
        match (crate::from_slice::<T>(data), graph::<T>(data)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("from_slice {a:?} but graph path {b:?}"),
        }
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Rec<'a> {
        id: i64,
        name: &'a str,
        tags: Vec<String>,
        score: Option<f64>,
    }

    #[derive(Deserialize, serde::Serialize, Debug, PartialEq)]
    enum E {
        A,
        B(i32),
        C(u8, u8),
        D { x: i64 },
    }

    #[test]
    fn cpython_shapes() {
        // Made by CPython 3.11, protocol 4 (frames, MEMOIZE, one-item containers).
        let one = b"\x80\x04\x95\t\x00\x00\x00\x00\x00\x00\x00]\x94]\x94K\x01aa.";
        assert_eq!(reads::<Vec<Vec<i64>>>(one), [[1]]);
        let d =
            b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94]\x94(K\x01K\x02es.";
        assert_eq!(reads::<BTreeMap<&str, Vec<u8>>>(d)["a"], [1, 2]);
        let t = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86\x94K\x03\x86\x94.";
        assert_eq!(reads::<((i64, i64), i64)>(t), ((1, 2), 3));
        let shared = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x01x\x94h\x01e.";
        assert_eq!(reads::<Vec<&str>>(shared), ["x", "x"]);
        let bt = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94C\x02ab\x94\x85\x94a.";
        reads::<Vec<(serde_bytes::ByteBuf,)>>(bt);
        let long = b"\x80\x04\x95\x11\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02\x86\x94(K\x03K\x04K\x05K\x06t\x94e.";
        reads::<(Vec<u8>, Vec<u8>)>(&long[..]);
    }

    #[test]
    fn written_by_brine_at_every_protocol() {
        let recs = vec![
            (1i64, "ada", vec!["x".to_owned()], Some(0.5)),
            (2, "bob", vec![], None),
            (3, "cy", vec!["x".to_owned(), "y".to_owned()], Some(1.0)),
        ];
        let mut maps = Vec::new();
        for (id, name, tags, score) in &recs {
            let mut m = BTreeMap::new();
            m.insert("id", serde_json::json!(id));
            m.insert("name", serde_json::json!(name));
            m.insert("tags", serde_json::json!(tags));
            m.insert("score", serde_json::json!(score));
            maps.push(m);
        }
        let es = vec![E::A, E::B(-3), E::C(1, 2), E::D { x: -(1 << 20) }];
        for p in 1..=5 {
            let opts = || crate::DumpOptions::new().protocol(p);
            let data = crate::to_vec_with(&maps, opts()).unwrap();
            let got = reads::<Vec<Rec>>(&data);
            assert_eq!(got[2].tags, ["x", "y"]);
            let data = crate::to_vec_with(&es, opts()).unwrap();
            assert_eq!(reads::<Vec<E>>(&data), es);
            if p < 2 {
                continue; // bools, big ints and sets are text opcodes or calls at protocol 1
            }
            if p >= 4 {
                let set: HashSet<i32> = (0..50).collect();
                let data = crate::to_vec_with(&crate::serde::Set(set.clone()), opts()).unwrap();
                assert_eq!(reads::<HashSet<i32>>(&data), set);
            }
            let data = crate::to_vec_with(&(1u8, ("a", 2.5f64), [true, false]), opts()).unwrap();
            reads::<(u8, (String, f64), [bool; 2])>(&data);
            let big: Vec<i64> = (0..2500).map(|i| i * 1_000_003 - (1 << 35)).collect();
            let data = crate::to_vec_with(&big, opts()).unwrap();
            assert_eq!(reads::<Vec<i64>>(&data), big);
        }
    }

    #[test]
    fn declines_what_only_the_graph_reads() {
        // `[[], (1, 2, 3, 4)]`: a MARK after an empty list that is not its batch.
        declines::<(Vec<u8>, Vec<u8>)>(
            b"\x80\x04\x95\x12\x00\x00\x00\x00\x00\x00\x00]\x94(]\x94(K\x01K\x02K\x03K\x04t\x94e.",
        );
        // A shared container (memo GET of a list).
        declines::<(Vec<u8>, Vec<u8>)>(b"\x80\x04]\x94K\x01a]\x94h\x00a\x86.");
        // A class instance.
        declines::<BTreeMap<String, i64>>(
            b"\x80\x04\x8c\x01m\x8c\x01C\x93)\x81}\x8c\x01x\x94K\x01sb.",
        );
        // Lone surrogates in a str.
        declines::<String>(b"\x80\x04\x8c\x03\xed\xa0\x80.");
        // A tuple read as a scalar, extra items, and plain errors.
        declines::<i64>(b"\x80\x04K\x01K\x02\x86.");
        declines::<(i64, i64)>(b"\x80\x04K\x01K\x02K\x03\x87.");
        declines::<Vec<i64>>(b"\x80\x04]\x94(K\x01\x8c\x01xe.");
        declines::<Vec<i64>>(b"\x80\x04]\x94(K\x01K\x02e");
        declines::<i64>(b"\x80\x09K\x01.");
        declines::<i64>(b"");
        // Nesting past the typed depth limit.
        let mut deep = b"\x80\x04".to_vec();
        deep.extend([b']'; 300]);
        deep.extend([b'a'; 299]);
        deep.push(b'.');
        declines::<serde_json::Value>(&deep);
    }

    /// Mutated pickles (seeded): wherever the direct reader succeeds, the graph path gives
    /// the same value; wherever it fails, `from_slice` gives the graph path's result. No
    /// panics on any of them.
    #[test]
    fn mutations_agree_with_the_graph_path() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct R<'a> {
            id: i64,
            #[serde(borrow)]
            name: std::borrow::Cow<'a, str>,
            tags: Vec<String>,
            pair: Option<(i64, f64)>,
            m: BTreeMap<String, Vec<Option<bool>>>,
        }
        let v = serde_json::json!([
            {"id": 1, "name": "ada", "tags": [], "pair": [1, 0.5], "m": {"a": [true, null]}},
            {"id": 300, "name": "bob", "tags": ["x"], "pair": null, "m": {}},
            {"id": -7, "name": "ada", "tags": ["x", "y"], "pair": [2, 1.5], "m": {"b": []}},
        ]);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut direct_ok = 0;
        for p in 2..=5u8 {
            let base = crate::to_vec_with(&v, crate::DumpOptions::new().protocol(p)).unwrap();
            for _ in 0..1500 {
                let mut m = base.clone();
                for _ in 0..1 + next() % 3 {
                    let i = (next() as usize) % m.len();
                    match next() % 3 {
                        0 => m[i] = next() as u8,
                        1 => {
                            m.remove(i);
                        }
                        _ => m.insert(i, m[(next() as usize) % m.len()]),
                    }
                }
                let direct = from_slice::<Vec<R>>(&m, 256, u64::MAX);
                let by_graph = graph::<Vec<R>>(&m);
                match (&direct, &by_graph) {
                    (Ok(a), Ok(b)) => {
                        // Debug, not PartialEq: a mutated float may be NaN.
                        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{m:?}");
                        direct_ok += 1;
                    }
                    (Ok(a), Err(e)) => {
                        panic!("direct read {a:?} where the graph path fails ({e}): {m:?}")
                    }
                    (Err(_), _) => {}
                }
                let any = from_slice::<serde_json::Value>(&m, 256, u64::MAX);
                if let Ok(a) = any {
                    let b = graph::<serde_json::Value>(&m).ok();
                    assert_eq!(format!("{:?}", Some(a)), format!("{b:?}"), "{m:?}");
                }
            }
        }
        assert!(direct_ok > 100, "only {direct_ok} mutants read directly");

        // Postfix tuples, one-item containers and enums.
        type T2 = (Vec<(i64, f64)>, ((u8, u8), u8), Vec<E>, Vec<Vec<i64>>);
        let v2: T2 = (
            vec![(1, 0.5), (2, 1.5)],
            ((1, 2), 3),
            vec![E::A, E::B(2), E::C(1, 2), E::D { x: 5 }],
            vec![vec![], vec![1], vec![1, 2]],
        );
        let mut direct_ok = 0;
        for p in 2..=5u8 {
            let base = crate::to_vec_with(&v2, crate::DumpOptions::new().protocol(p)).unwrap();
            for _ in 0..1500 {
                let mut m = base.clone();
                let i = (next() as usize) % m.len();
                match next() % 3 {
                    0 => m[i] = next() as u8,
                    1 => {
                        m.remove(i);
                    }
                    _ => m.insert(i, m[(next() as usize) % m.len()]),
                }
                let by_graph = graph::<T2>(&m).map(|v| format!("{v:?}"));
                if let Ok(a) = from_slice::<T2>(&m, 256, u64::MAX) {
                    assert_eq!(
                        Ok(format!("{a:?}")),
                        by_graph.map_err(|e| e.to_string()),
                        "{m:?}"
                    );
                    direct_ok += 1;
                }
                if let Ok(a) = from_slice::<serde_json::Value>(&m, 256, u64::MAX) {
                    let b = graph::<serde_json::Value>(&m).ok();
                    assert_eq!(format!("{:?}", Some(a)), format!("{b:?}"), "{m:?}");
                }
            }
        }
        assert!(direct_ok > 100, "only {direct_ok} mutants read directly");
    }
}
