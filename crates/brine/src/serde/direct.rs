//! Typed reading straight off the pickle bytes, without a value graph: the fast path of
//! [`from_slice`](super::from_slice) for the pickles CPython writes for plain data.
//!
//! Pickles are postfix (a tuple's opcode follows its items), so reading top-down needs the
//! Rust type's guidance and some care. This reader walks the opcodes once, lets the Rust type
//! say what it expects at each place, and accepts an opcode only where its real effect on the
//! unpickling machine's stack is the one the walk assumed (a `TUPLE2` must close exactly the
//! two items just read, an `APPENDS` must close the batch this list opened). Anything else —
//! objects, text opcodes, a memo GET of a container, a mismatch of any kind, and every error,
//! serde's included — fails with [`Declined`], and the caller reads the same bytes again by
//! the graph path, which gives its exact result or error. So this path only ever succeeds
//! with the value the graph path would give.
//!
//! One kind of call is read here: `module.name(x1, ...)` (`STACK_GLOBAL`, or a memo GET of
//! the class the second time, an argument tuple, `REDUCE`, as CPython writes `datetime.date`)
//! where the Rust type is a newtype struct, which the graph path reads as `x1` (a one-field
//! tuple struct of a class), or a tuple, which it reads as the arguments. Globals the graph
//! path turns into other values (`builtins`, `_codecs`, `copyreg`) and protocols below 3
//! (where it renames Python 2 globals) are left to it.
//!
//! Nesting is bounded by the typed depth limit (serde's visitors recurse once per level);
//! memo PUTs record scalars (a later GET re-reads them without a second UTF-8 check).
//! Sequences and maps give serde a size hint counted by a bounded look-ahead over the batch
//! (so `Vec` and `HashMap` allocate once), never a length read from the input.
//! A batch that holds only ints, floats, bools and None up to its end is checked once when
//! it opens (a validated run: the same look-ahead) and its items are then read without the
//! per-item checks.

use std::fmt;

use ::serde::de::{self, DeserializeSeed, Visitor};

/// The one error of this path: "let the graph path read it". It never reaches a user, so it
/// carries nothing: results stay a byte or two wide and serde's messages are never formatted.
#[derive(Debug)]
pub(crate) struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("typed fast path declined the input")
    }
}

impl std::error::Error for Declined {}

impl de::Error for Declined {
    #[cold]
    fn custom<T: fmt::Display>(_: T) -> Self {
        Declined
    }
}

type Result<T> = std::result::Result<T, Declined>;

/// `Err(Declined)` for `?` in `Option` positions.
#[inline(always)]
fn need<T>(x: Option<T>) -> Result<T> {
    x.ok_or(Declined)
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
    /// A global that [`Direct::global_call`] read (none of the modules the graph path turns
    /// into other values): a GET of it may start another call, as CPython writes the second
    /// `datetime.date` of a pickle; anywhere else it falls back, like [`Item::Other`].
    Callable,
}

/// [`Item::Other`] in memory that is never written (see [`Direct::pushed_other`]).
static OTHER: Item<'static> = Item::Other;

/// Memo indices beyond the entries so far plus this go to the graph path (sparse memos).
const MEMO_SLACK: usize = 1024;

/// How far [`Direct::single_item`] looks ahead for the `APPEND` / `SETITEM` of a one-item
/// container before it assumes there is none (checked later, so only speed depends on it).
const SCAN_OPS: usize = 64;

/// The largest size hint [`Direct::run_len`] counts to for a sequence: beyond it, a `Vec`'s
/// doublings cost less than counting (CPython writes batches of up to 1000 items).
const HINT_ITEMS: usize = 32;

/// The same for a map (in keys and values): growing a hash map rehashes every entry.
const HINT_MAP_ITEMS: usize = 256;

/// How far [`Direct::postfix_wraps`] looks for the postfix tuples around a container.
const WRAP_OPS: usize = 4096;

/// How many items [`Direct::postfix_wraps`] counts past the first, at its level, while
/// none has been found wrapped yet.
const WRAP_ITEMS: usize = 6;

/// [`CLASS`] bit: memo ops and FRAME, which may follow any push.
const MEMO: u8 = 1;
/// [`CLASS`] bit: APPENDS, the end of a list's MARK batch.
const END_APPENDS: u8 = 2;
/// [`CLASS`] bit: ADDITEMS, the end of a set's MARK batch.
const END_ADDITEMS: u8 = 4;
/// [`CLASS`] bit: TUPLE, LIST, FROZENSET, the end of a MARK sequence.
const END_MARK: u8 = 8;
/// [`CLASS`] bit: SETITEMS, the end of a dict's MARK batch.
const END_SETITEMS: u8 = 16;

/// Opcode bytes by what the checks made after every item need to know: one load instead of
/// a chain of compares on the hot path.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[0x94] = MEMO;
    t[b'q' as usize] = MEMO;
    t[b'r' as usize] = MEMO;
    // FRAME also "ends" every run: the run checks read raw bytes, and leave a FRAME to the
    // slow paths, which skip it.
    t[0x95] = MEMO | END_APPENDS | END_ADDITEMS | END_MARK | END_SETITEMS;
    t[b'u' as usize] = END_SETITEMS;
    t[b'e' as usize] = END_APPENDS;
    t[0x90] = END_ADDITEMS;
    t[b't' as usize] = END_MARK;
    t[b'l' as usize] = END_MARK;
    t[0x91] = END_MARK;
    t
};

/// [`RUN_LEN`] flag: the opcode is no item (a memo op or FRAME).
const NOT_ITEM: u8 = 0x80;

/// For [`Direct::run_len`]: the length of each fixed-length scalar opcode, and of the memo ops
/// and FRAME (flagged [`NOT_ITEM`]); 0 for the rest.
static RUN_LEN: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'N' as usize] = 1;
    t[0x88] = 1;
    t[0x89] = 1;
    t[b'K' as usize] = 2;
    t[b'h' as usize] = 2;
    t[b'M' as usize] = 3;
    t[b'J' as usize] = 5;
    t[b'j' as usize] = 5;
    t[b'G' as usize] = 9;
    // BINGET / LONG_BINGET push one item (a shared str, say).
    t[b'h' as usize] = 2;
    t[b'j' as usize] = 5;
    t[0x94] = NOT_ITEM | 1;
    t[b'q' as usize] = NOT_ITEM | 2;
    t[b'r' as usize] = NOT_ITEM | 5;
    t[0x95] = NOT_ITEM | 9;
    t
};

/// For [`Direct::lean_run`]: the length of each scalar opcode a validated run may hold (ints,
/// floats, bools, None: those CPython never memoizes and whose reading depends on nothing but
/// their bytes); 0 for the rest.
static LEAN: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'N' as usize] = 1;
    t[0x88] = 1;
    t[0x89] = 1;
    t[b'K' as usize] = 2;
    t[b'M' as usize] = 3;
    // Not BININT and BINFLOAT: a run of them (1M ints or floats) reads faster by the general
    // path, whose per-item checks cost less than the run's item passed through memory
    // (measured: 1M floats 2.8 ms that way, 8.3 ms as a run).
    t
};

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
    /// The protocol of the PROTO that opens the pickle (0 without one). Below 3 the graph
    /// path renames Python 2 globals, so calls of globals are left to it.
    proto: u8,
    /// `(p, k)`: the container at `p` is wrapped in `k` more postfix tuples that start with
    /// it (see [`Self::postfix_wraps`]), for the tuple types nested at `p`.
    wrap: (usize, usize),
    /// The wrap counts of the last [`Self::scan_wraps`] (by position) and how far the walk
    /// has used them.
    wraps: Vec<(usize, usize)>,
    wraps_at: usize,
    /// Scratch space of [`Self::scan_wraps`].
    scan_open: Vec<(usize, usize)>,
    /// Opcodes the scans may still look at: a few times the input's length, so that no
    /// input (nested tuple types, each starting with a container) makes them cost more
    /// than a few reads of it. Spent, the guess is "not wrapped".
    scan_budget: usize,
    /// The most items a MARK run (a batch, or a MARK sequence) may hold: unbounded when the
    /// input is no longer than the graph path's stack limit, else that limit shared out over
    /// the nesting levels (see [`from_slice`]).
    batch_cap: usize,
}

/// Reads a `T` from the pickle in `data`, or fails with [`Declined`] (see the module docs):
/// the caller then uses the graph path.
///
/// `max_stack` is the graph path's stack limit. The graph path's stack holds, at each open
/// nesting level, the container and the items of its current MARK run (or up to three of a
/// postfix tuple, or a call's callable and arguments). So when no MARK run holds more than
/// `max_stack / (max_depth + 2) - 4` items, its stack stays within `max_stack` on any input
/// this reader accepts; runs longer than that are declined. The length of the input bounds
/// the stack as well (an item takes a byte at least), so inputs no longer than `max_stack`
/// are not counted at all.
pub(crate) fn from_slice<'de, T: de::Deserialize<'de>>(
    data: &'de [u8],
    max_depth: usize,
    max_memo_index: u64,
    max_stack: usize,
) -> Result<T> {
    let mut d = Direct {
        data,
        pos: 0,
        // Small pickles memoize a few dozen items: one allocation instead of a few doublings.
        memo: Vec::with_capacity((data.len() / 8).min(32)),
        count: 0,
        max_memo_index,
        depth: 0,
        max_depth,
        proto: 0,
        wrap: (usize::MAX, 0),
        wraps: Vec::new(),
        wraps_at: 0,
        scan_open: Vec::new(),
        scan_budget: data.len().saturating_mul(4).saturating_add(WRAP_OPS),
        batch_cap: if data.len() <= max_stack {
            usize::MAX
        } else {
            (max_stack / max_depth.saturating_add(2)).saturating_sub(4)
        },
    };
    // PROTO (CPython writes it first from protocol 2 on).
    if data.first() == Some(&0x80) {
        match data.get(1) {
            Some(&p) if p <= brine_core::HIGHEST_PROTOCOL => {
                d.pos = 2;
                d.proto = p;
            }
            _ => return Err(Declined),
        }
    }
    let v = T::deserialize(&mut d)?;
    if d.peek()? != b'.' {
        return Err(Declined);
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

/// The opcodes that push a str (or a memo GET, which may be one).
#[inline]
fn pushes_text(b: u8) -> bool {
    matches!(b, 0x8c | b'X' | 0x8d | b'h' | b'j')
}

impl<'de> Direct<'de> {
    /// The next opcode byte, after any FRAMEs (which only check their length, like the
    /// decoder does).
    #[inline(always)]
    fn peek(&mut self) -> Result<u8> {
        match self.data.get(self.pos) {
            Some(&0x95) => self.peek_past_frames(),
            Some(&b) => Ok(b),
            None => Err(Declined),
        }
    }

    #[cold]
    #[inline(never)]
    fn peek_past_frames(&mut self) -> Result<u8> {
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
            return Err(Declined);
        }
        self.pos += 9;
        Ok(())
    }

    #[inline(always)]
    fn fixed<const N: usize>(&self, at: usize) -> Result<[u8; N]> {
        let end = at.checked_add(N).ok_or(Declined)?;
        let s = need(self.data.get(at..end))?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// `n` payload bytes at `at`, a length read from the input: only a slice of it.
    #[inline(always)]
    fn payload(&self, at: usize, n: u64) -> Result<&'de [u8]> {
        let n = need(usize::try_from(n).ok())?;
        need(self.data.get(at..at.checked_add(n).ok_or(Declined)?))
    }

    /// After a push: records `item` for the memo ops that follow it, if any (the common case,
    /// none, is one table load).
    #[inline(always)]
    fn pushed(&mut self, item: Item<'de>) -> Result<()> {
        match self.data.get(self.pos) {
            Some(&b) if CLASS[b as usize] & MEMO != 0 => {
                // One MEMOIZE on a dense memo (what CPython writes after each str and
                // container at protocol 4): a push, inline.
                if b == 0x94
                    && self.count == self.memo.len()
                    && self.count as u64 <= self.max_memo_index
                {
                    self.pos += 1;
                    self.memo.push(item);
                    self.count += 1;
                    return match self.data.get(self.pos) {
                        Some(&b) if CLASS[b as usize] & MEMO != 0 => self.memo_ops_again(),
                        _ => Ok(()),
                    };
                }
                self.memo_ops(item)
            }
            _ => Ok(()),
        }
    }

    /// [`Self::pushed`] of a container ([`Item::Other`]), written out so that the memo entry
    /// is copied from a static rather than from a stack temporary just built by narrower
    /// stores (a store-forwarding stall: most of `container_any`'s time on LIST).
    #[inline(always)]
    fn pushed_other(&mut self) -> Result<()> {
        match self.data.get(self.pos) {
            Some(&0x94)
                if self.count == self.memo.len() && self.count as u64 <= self.max_memo_index =>
            {
                self.pos += 1;
                self.memo.push(OTHER);
                self.count += 1;
                match self.data.get(self.pos) {
                    Some(&b) if CLASS[b as usize] & MEMO != 0 => self.memo_ops(Item::Other),
                    _ => Ok(()),
                }
            }
            Some(&b) if CLASS[b as usize] & MEMO != 0 => self.memo_ops(Item::Other),
            _ => Ok(()),
        }
    }

    /// [`Self::memo_ops`] for the item just memoized (the memo's last entry). Taking the
    /// item from there, not as an argument, keeps [`Self::pushed`] from building it on the
    /// stack and copying it into the memo with a wider load than the stores that built it
    /// (a store-forwarding stall: half of `container_any`'s time on LIST).
    #[cold]
    #[inline(never)]
    fn memo_ops_again(&mut self) -> Result<()> {
        match self.memo.last() {
            Some(&item) => self.memo_ops(item),
            None => Err(Declined),
        }
    }

    /// Records the item just pushed for the memo ops (and FRAMEs) at the read position.
    #[inline(never)]
    fn memo_ops(&mut self, item: Item<'de>) -> Result<()> {
        loop {
            let idx = match self.data.get(self.pos) {
                Some(0x94) => {
                    self.pos += 1;
                    // MEMOIZE on a dense memo (CPython's): a push.
                    if self.count == self.memo.len() && self.count as u64 <= self.max_memo_index {
                        self.memo.push(item);
                        self.count += 1;
                        continue;
                    }
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

    fn put(&mut self, idx: u64, item: Item<'de>) -> Result<()> {
        if idx > self.max_memo_index {
            return Err(Declined);
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
            _ => return Err(Declined),
        }
        Ok(())
    }

    /// The opcode at the read position and the input after it (FRAMEs not skipped: the fast
    /// paths below see one as an opcode they do not read, and leave it to the general path).
    #[inline(always)]
    fn here(&self) -> &'de [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// The int of BININT1 / BININT2 / BININT (nearly every int CPython writes) at the read
    /// position, consumed with its memo ops; `None` (nothing read) for anything else.
    #[inline(always)]
    fn small_int(&mut self) -> Result<Option<i64>> {
        let (d, p) = (self.data, self.pos);
        // BININT1 first: the ints of most lists and dict keys.
        let (x, n) = if let Some(&[b'K', a]) = d.get(p..p + 2) {
            (a as i64, 2)
        } else if let Some(&[b'J', a, b, c, e]) = d.get(p..p + 5) {
            (i32::from_le_bytes([a, b, c, e]) as i64, 5)
        } else if let Some(&[b'M', a, b]) = d.get(p..p + 3) {
            (u16::from_le_bytes([a, b]) as i64, 3)
        } else {
            return Ok(None);
        };
        self.pos = p + n;
        self.pushed_scalar(Item::Int(x))?;
        Ok(Some(x))
    }

    /// [`Self::pushed`] for the scalars CPython never memoizes (ints, floats, bools, None):
    /// a memo op after one takes the out-of-line path.
    #[inline(always)]
    fn pushed_scalar(&mut self, item: Item<'de>) -> Result<()> {
        match self.data.get(self.pos) {
            Some(&b) if CLASS[b as usize] & MEMO != 0 => self.memo_ops(item),
            _ => Ok(()),
        }
    }

    /// The str of SHORT_BINUNICODE or a BINGET of a str (dict keys, field names, most text)
    /// at the read position, consumed with its memo ops; `None` (nothing read) for anything
    /// else, and for a payload that is not plain UTF-8 (which the general path declines).
    #[inline(always)]
    fn short_str(&mut self) -> Result<Option<&'de str>> {
        let (s, n) = match *self.here() {
            [0x8c, len, ref rest @ ..] => match rest.get(..len as usize).map(utf8) {
                Some(Ok(s)) => (s, 2 + len as usize),
                _ => return Ok(None),
            },
            [b'h', i, ..] => match self.memo.get(i as usize) {
                Some(&Item::Str(s)) => (s, 2),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.pos += n;
        self.pushed_str(s)?;
        Ok(Some(s))
    }

    /// [`Self::pushed`] of a str, written out so that the memo entry is stored from the
    /// registers holding the str, not copied from a stack temporary just built by narrower
    /// stores (a store-forwarding stall: 40% of `&str`'s deserialize on the records).
    #[inline(always)]
    fn pushed_str(&mut self, s: &'de str) -> Result<()> {
        match self.data.get(self.pos) {
            Some(&0x94)
                if self.count == self.memo.len() && self.count as u64 <= self.max_memo_index =>
            {
                self.pos += 1;
                self.memo.push(Item::Str(s));
                self.count += 1;
                match self.data.get(self.pos) {
                    Some(&b) if CLASS[b as usize] & MEMO != 0 => self.memo_ops_again(),
                    _ => Ok(()),
                }
            }
            Some(&b) if CLASS[b as usize] & MEMO != 0 => self.memo_ops_str(s),
            _ => Ok(()),
        }
    }

    /// [`Self::memo_ops`] of a str, taking it in registers (see [`Self::pushed_str`]).
    #[inline(never)]
    fn memo_ops_str(&mut self, s: &'de str) -> Result<()> {
        self.memo_ops(Item::Str(s))
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
                    return Err(Declined);
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
        self.pushed(item)?;
        Ok(Some(item))
    }

    #[inline]
    fn get(&self, i: usize) -> Result<Item<'de>> {
        match self.memo.get(i) {
            Some(Item::Empty | Item::Other | Item::Callable) | None => Err(Declined),
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
        self.pushed_other()?;
        self.enter()
    }

    #[inline]
    fn enter(&mut self) -> Result<()> {
        if self.depth >= self.max_depth {
            return Err(Declined);
        }
        self.depth += 1;
        Ok(())
    }

    /// `p` past any FRAMEs there (for look-aheads, which check nothing).
    fn past_frames(&self, mut p: usize) -> usize {
        while self.data.get(p) == Some(&0x95) {
            p = p.saturating_add(9);
        }
        p
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
                // STACK_GLOBAL, REDUCE: two items in, one out.
                0x93 | b'R' => {
                    if h - floor < 2 {
                        return false;
                    }
                    h -= 1;
                }
                b if starts_value(b) && b != b'g' && b != b'c' && b != b'P' => h += 1,
                _ => return false,
            }
            p += len;
        }
        false
    }

    /// The validated run of the MARK run (batch or MARK sequence) starting at `p`, which ends
    /// at an opcode of the [`CLASS`] bits `end`: `(q, n)` when the bytes from `p` to `q` are
    /// `n >= 1` whole [`LEAN`] scalars with no memo op or FRAME among them and the opcode at
    /// `q` is one that ends the run (not a FRAME); `(p, 0)` otherwise. Such items are read
    /// without the per-item checks (see [`Lean`]); the end check matters, as no postfix tuple
    /// can then start at one of them (its TUPLE1/2/3 would have to be in the run).
    fn lean_run(&self, p: usize, end: u8) -> (usize, usize) {
        let d = self.data;
        // A word at a time while the opcodes repeat a pattern of lean ones (the word check
        // also takes BINGETs, hence the look at the pattern's two opcodes first).
        let (mut n, mut q) = match word_at(d, p) {
            Some(w) => {
                let l0 = LEAN[w as u8 as usize] as u32;
                if (1..=4).contains(&l0) && LEAN[(w >> (8 * l0)) as u8 as usize] != 0 {
                    word_run(d, p, usize::MAX)
                } else {
                    (0, p)
                }
            }
            None => (0, p),
        };
        // The rest one by one (mixed opcodes, the tail, and 5- and 9-byte ones).
        while let Some(&b) = d.get(q) {
            let l = LEAN[b as usize] as usize;
            if l == 0 || l > d.len() - q {
                break;
            }
            q += l;
            n += 1;
        }
        match d.get(q) {
            Some(&b) if n > 0 && CLASS[b as usize] & end != 0 && b != 0x95 => (q, n),
            _ => (p, 0),
        }
    }

    /// A size hint for the MARK run (batch or MARK sequence) starting at `p`: the number of
    /// scalar items (with their memo ops) it starts with, at most `cap`, and whether another
    /// item (a container, say) follows them. The count is the run's length when it holds only
    /// scalars (`list(range(10))`, `dict.fromkeys(...)`, a batch of strs) and a lower bound
    /// when a container follows, which is not walked: the look-ahead stays cheaper than the
    /// reallocations it saves. (Walking the containers for the exact count was measured: a
    /// walk that tracks MARK depth and skips nested runs a word at a time cost MICRO_DICT
    /// ~33k instructions per decode to save ~8k of rehashing, LIST 28k to 42k; and a
    /// branchless table step per opcode counts a dict of strs no faster than this loop.)
    /// Never trusted: serde caps it again, and the walk checks everything.
    fn run_len(&self, p: usize, cap: usize) -> (usize, bool) {
        let d = self.data;
        let (mut n, mut p) = word_run(d, p, cap);
        // A pair a step while the keys are memo GETs and the values short strs with their
        // MEMOIZE (a list of dicts with the same keys, as CPython writes the later ones):
        // a third of the steps of the loop below, which takes one opcode at a time.
        while n + 2 <= cap {
            let Some(&[b'h', _, 0x8c, k]) = d.get(p..p + 4) else {
                break;
            };
            let end = p + 4 + k as usize;
            if d.get(end) != Some(&0x94) {
                break;
            }
            n += 2;
            p = end + 1;
        }
        while n < cap {
            let Some(&b) = d.get(p) else {
                break;
            };
            let e = RUN_LEN[b as usize];
            if e != 0 {
                n += usize::from(e & NOT_ITEM == 0);
                p += usize::from(e & !NOT_ITEM);
                continue;
            }
            let len = match b {
                // A str and the MEMOIZE CPython writes after it, in one step.
                0x8c | b'C' | 0x8a => match d.get(p + 1) {
                    Some(&k) => {
                        let l = 2 + k as usize;
                        l + usize::from(d.get(p + l) == Some(&0x94))
                    }
                    None => break,
                },
                b'X' | b'B' => match d.get(p + 1..p + 5) {
                    Some(k) => 5 + u32::from_le_bytes([k[0], k[1], k[2], k[3]]) as usize,
                    None => break,
                },
                b if starts_value(b) || b == b'(' => return (n, true),
                _ => break,
            };
            n += 1;
            p = p.saturating_add(len);
        }
        (n, false)
    }

    /// [`Self::postfix_wraps`] of the top-level item, from the end of the pickle instead of
    /// a walk of all of it (half the time of pyperformance's unpickle unit, `(DICT, TUPLE,
    /// DICT_GROUP)`): when the pickle ends with `TUPLEn [MEMOIZE] STOP` for the tuple length
    /// `n`, the top-level item is a postfix tuple that starts with the first item, which the
    /// TUPLE1s just before it (`(([1, 2], 3),)`) wrap once more each. Read backwards, an
    /// argument byte can pass for an opcode: a guess, which the walk checks like the others.
    /// `None` (scan instead) below the top level or for any other ending.
    fn top_wraps(&self, n: usize) -> Option<usize> {
        if self.depth != 0 {
            return None;
        }
        let d = self.data;
        // The opcode before `end`, past one MEMOIZE.
        let before = |end: usize| match end.checked_sub(1).map(|i| (i, d[i])) {
            Some((i, 0x94)) => i.checked_sub(1).map(|j| (j, d[j])),
            x => x,
        };
        let (mut i, last) = before(d.len().checked_sub(1).filter(|&e| d[e] == b'.')?)?;
        if usize::from(last) != 0x84 + n || !(1..=3).contains(&n) {
            return None;
        }
        let mut k = 1;
        let mut outer = last;
        while outer == 0x85 {
            match before(i) {
                Some((j, t @ 0x85..=0x87)) => {
                    k += 1;
                    (i, outer) = (j, t);
                }
                _ => break,
            }
        }
        Some(k)
    }

    /// How many postfix tuples (TUPLE1 / TUPLE2 / TUPLE3) start with the container at `q`
    /// (the read position): `([1, 2], 3)` is `EMPTY_LIST ... APPENDS K TUPLE2`, one;
    /// `(([1, 2], 3),)` two; a list of lists, none. From the last scan when it covered `q`,
    /// else from a new one. A guess only: whichever reading the walk takes is checked.
    fn postfix_wraps(&mut self, q: usize) -> usize {
        while let Some(&(p, k)) = self.wraps.get(self.wraps_at) {
            if p > q {
                break;
            }
            self.wraps_at += 1;
            if p == q {
                return k;
            }
        }
        self.scan_wraps(q)
    }

    /// The scan of [`Self::postfix_wraps`]: simulates stack heights from `p0` for at most
    /// [`WRAP_OPS`] opcodes, following the items of the run `p0` is in (its siblings) and the
    /// postfix tuples that start with each. The siblings' counts are kept, so they are not
    /// scanned again (a list of lists read as tuples costs one walk, not one per item). It
    /// stops early at a container after `p0` was found wrapped (a list of `([..], x)` tuples
    /// costs one walk of each), and all scans together stop at [`Direct::scan_budget`].
    fn scan_wraps(&mut self, p0: usize) -> usize {
        // Top-level items (start, wraps) still open, and those whose count is final.
        let mut open = std::mem::take(&mut self.scan_open);
        let mut done = std::mem::take(&mut self.wraps);
        open.clear();
        done.clear();
        self.wraps_at = 0;
        // Marks above the top level: (height, position).
        let mut marks = [(0usize, 0usize); 16];
        let mut nm = 0usize;
        let mut h = 0usize; // items above `p0`'s base
        let mut p = p0;
        let mut clean = false;
        let limit = WRAP_OPS.min(self.scan_budget);
        let mut ops = 0;
        while ops < limit {
            ops += 1;
            let Some(&b) = self.data.get(p) else {
                break;
            };
            let Some(len) = op_len(self.data, p) else {
                break;
            };
            let top = nm == 0;
            let floor = if top { 0 } else { marks[nm - 1].0 };
            let wrapped = open.first().is_some_and(|&(s, k)| s == p0 && k > 0);
            match b {
                0x94 | b'q' | b'r' | 0x95 => {}
                b'(' | b']' | b'}' | b')' | 0x8f if top && h > 0 && wrapped => break,
                b'(' => {
                    if nm == marks.len() {
                        break;
                    }
                    marks[nm] = (h, p);
                    nm += 1;
                    // The scalars the run opens with only raise the height: one table step
                    // each (a batch of ints, say), not the general step.
                    let (items, skipped, q) = scalar_run(self.data, p + 1, limit - ops);
                    h += items;
                    ops += skipped;
                    p = q;
                    continue;
                }
                0x85..=0x87 => {
                    let n = (b - 0x84) as usize;
                    if h < floor + n {
                        clean = top;
                        break;
                    }
                    h -= n - 1;
                    if top {
                        // Covers the last n items: the first is wrapped once more, the others
                        // are inside it now.
                        let first = open.len() - n;
                        done.extend(open.drain(first + 1..));
                        open[first].1 += 1;
                    }
                }
                b't' | b'l' | 0x91 | b'd' | b'e' | b'u' | 0x90 if top => {
                    clean = true;
                    break;
                }
                b't' | b'l' | 0x91 | b'd' => {
                    nm -= 1;
                    h = marks[nm].0 + 1;
                    if nm == 0 {
                        open.push((marks[0].1, 0));
                    }
                }
                b'e' | b'u' | 0x90 => {
                    nm -= 1;
                    h = marks[nm].0;
                }
                b'a' | 0x93 | b'R' | b's' => {
                    let n = if b == b's' { 2 } else { 1 };
                    if h < floor + n + 1 {
                        clean = top;
                        break;
                    }
                    h -= n;
                    if top {
                        let keep = open.len() - n;
                        done.extend(open.drain(keep..));
                    }
                }
                b'.' => {
                    clean = top;
                    break;
                }
                b if starts_value(b) => {
                    h += 1;
                    if top {
                        // Far enough past an item not (yet) wrapped: the guess is "not
                        // wrapped" (a tuple can still close over many items, as in
                        // `(x, (a, (b, (c, d))))`: then the guess declines). Scanning on
                        // would only count siblings ahead of their reading, at the cost of
                        // walking a whole batch for one call of a global in a dict.
                        if h > WRAP_ITEMS && !wrapped {
                            break;
                        }
                        open.push((p, 0));
                    }
                }
                _ => break,
            }
            p += len;
        }
        self.scan_budget -= ops;
        let k = match open.first() {
            Some(&(s, k)) if s == p0 => k,
            _ => done.iter().find(|&&(s, _)| s == p0).map_or(0, |&(_, k)| k),
        };
        if !clean {
            // Cut short (an opcode not modelled, or the budget): the last few items may still
            // be wrapped by a tuple ahead, the earlier ones could only be by deeply nested
            // postfix tuples (guesses stay guesses).
            let keep = open.len().saturating_sub(3);
            open.truncate(keep);
        }
        done.append(&mut open);
        done.sort_unstable();
        self.wraps = done;
        self.scan_open = open;
        k
    }

    /// Whether the opcodes at the read position are `module name STACK_GLOBAL` (each with
    /// any memo ops), or a GET of a global read so before: the start of a call of a global.
    fn global_follows(&self) -> bool {
        let mut p = self.pos;
        if let Some(i) = self.get_index(p) {
            if matches!(self.memo.get(i), Some(Item::Callable)) {
                return true;
            }
        }
        for _ in 0..2 {
            match self.data.get(p) {
                Some(&b) if pushes_text(b) => {}
                _ => return false,
            }
            loop {
                let Some(n) = op_len(self.data, p) else {
                    return false;
                };
                p += n;
                if !matches!(self.data.get(p), Some(0x94 | b'q' | b'r' | 0x95)) {
                    break;
                }
            }
        }
        self.data.get(p) == Some(&0x93)
    }

    /// Reads a str (SHORT_BINUNICODE, BINUNICODE, BINUNICODE8 or a GET of one).
    fn text(&mut self) -> Result<&'de str> {
        let b = self.peek()?;
        match self.scalar(b)? {
            Some(Item::Str(s)) => Ok(s),
            _ => Err(Declined),
        }
    }

    /// The memo index of the BINGET or LONG_BINGET at `p`, if one is there.
    fn get_index(&self, p: usize) -> Option<usize> {
        match self.data.get(p..)? {
            [b'h', i, ..] => Some(*i as usize),
            [b'j', a, b, c, d, ..] => Some(u32::from_le_bytes([*a, *b, *c, *d]) as usize),
            _ => None,
        }
    }

    /// `module.name(x1, ..., xn)` (see [`Self::global_follows`]) with `read` reading the `n`
    /// arguments, as the graph path reads such an instance into a newtype struct (`x1`, when
    /// `n` is 1) or a tuple (the arguments; `de.rs`, `deserialize_newtype_struct` and
    /// `obj_view`). Globals the graph path turns into other values are declined
    /// (`builtins.set`, `_codecs.encode`, ...; `copyreg._reconstructor` is read otherwise), as
    /// is an argument tuple of any other length, and anything after the REDUCE but memo ops
    /// (a BUILD's state changes what the graph path gives).
    fn global_call<T>(&mut self, n: usize, read: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let get = self.get_index(self.pos);
        if get.is_some_and(|i| matches!(self.memo.get(i), Some(Item::Callable))) {
            self.pos += if self.data[self.pos] == b'h' { 2 } else { 5 };
        } else {
            let module = self.text()?;
            self.text()?;
            if matches!(
                module,
                "builtins" | "__builtin__" | "_codecs" | "copyreg" | "copy_reg"
            ) || self.peek()? != 0x93
            {
                return Err(Declined);
            }
            self.pos += 1;
        }
        self.pushed(Item::Callable)?;
        // The argument tuple: `x1 .. xn TUPLEn` (n <= 3) or `MARK x1 .. xn TUPLE`.
        let marked = self.peek()? == b'(';
        if n > self.batch_cap {
            return Err(Declined);
        }
        let close = match (marked, n) {
            (true, 1..) => b't',
            (false, 1..=3) => 0x84 + n as u8,
            _ => return Err(Declined),
        };
        if marked {
            self.pos += 1;
        }
        self.enter()?;
        let out = read(self)?;
        if self.peek()? != close {
            return Err(Declined);
        }
        self.pos += 1;
        self.pushed(Item::Other)?;
        if self.peek()? != b'R' {
            return Err(Declined);
        }
        self.pos += 1;
        self.pushed(Item::Other)?;
        if self.peek()? == b'b' {
            return Err(Declined);
        }
        self.depth -= 1;
        Ok(out)
    }
}

/// The arguments of a global call read into a tuple (see [`Direct::global_call`]): exactly
/// `left` items, each where the last one ended.
struct Args<'a, 'de> {
    de: &'a mut Direct<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Args<'_, 'de> {
    type Error = Declined;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
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

/// The length of the binary opcode at `p` with its argument, for the look-ahead scans; `None`
/// for text opcodes and anything cut short (so `p` plus it stays within the input).
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
        | 0x93
        | b'R'
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
    (n <= data.len() - p).then_some(n)
}

/// The start of a run that repeats one short fixed-length opcode (`list(range(10))` is
/// BININT1s) or a pair of them (`dict.fromkeys(range(10))` is BININT1, NONE pairs), checked a
/// word (several items) at a time: the opcode bytes of the patterns in it masked and compared
/// at once, instead of a table load and an add for each item. Returns the items counted (at
/// most `cap`) and the position after them; `(0, p)` where no such pattern starts at `p`.
#[inline(always)]
fn word_run(d: &[u8], mut p: usize, cap: usize) -> (usize, usize) {
    let mut n = 0;
    if let Some(w) = word_at(d, p) {
        let (b0, l0) = ((w & 0xff) as u8, RUN_LEN[(w & 0xff) as usize] as usize);
        // `l0 <= 4`: within the word, and not a memo op or FRAME (flagged, so larger).
        if (1..=4).contains(&l0) {
            let b1 = (w >> (8 * l0)) as u8;
            let l1 = RUN_LEN[b1 as usize] as usize;
            let (period, items, want) = if l1 == 0 {
                (usize::MAX, 0, 0)
            } else if b1 == b0 {
                (l0, 1, u64::from(b0))
            } else {
                (l0 + l1, 2, u64::from(b0) | u64::from(b1) << (8 * l0))
            };
            if period <= 4 {
                let opcodes = if items == 1 {
                    0xff
                } else {
                    0xff | 0xff << (8 * l0)
                };
                // One bit at the start of each pattern in a word.
                let starts = [0, 0x0101_0101_0101_0101, 0x0001_0001_0001_0001, 0x0100_0001]
                    .get(period)
                    .copied()
                    .unwrap_or(0x0000_0001_0000_0001u64);
                let (mask, want) = (opcodes * starts, want * starts);
                let reps = [0, 8, 4, 2, 2][period];
                let (step, k) = (period * reps, items * reps);
                while n + k <= cap {
                    let Some(w) = word_at(d, p) else {
                        break;
                    };
                    if w & mask != want {
                        break;
                    }
                    n += k;
                    p += step;
                }
            }
        }
    }
    (n, p)
}

/// The fixed-length scalars (and memo ops and FRAMEs, see [`RUN_LEN`]) from `p` on, at most
/// `max` opcodes: how many items they push, how many opcodes they are, and where they end.
#[inline]
fn scalar_run(d: &[u8], mut p: usize, max: usize) -> (usize, usize, usize) {
    let (mut items, mut ops) = (0, 0);
    while ops < max {
        let Some(&b) = d.get(p) else {
            break;
        };
        let e = RUN_LEN[b as usize];
        let len = usize::from(e & !NOT_ITEM);
        if e == 0 || len > d.len() - p {
            break;
        }
        items += usize::from(e & NOT_ITEM == 0);
        ops += 1;
        p += len;
    }
    (items, ops, p)
}

/// The 8 bytes at `p` as a little-endian word, if there are 8.
#[inline(always)]
fn word_at(d: &[u8], p: usize) -> Option<u64> {
    let w: [u8; 8] = d.get(p..p.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(w))
}

/// The text of a str payload. Lone surrogates (CPython's surrogatepass) fail here: the graph
/// path keeps them.
#[inline(always)]
fn utf8(s: &[u8]) -> Result<&str> {
    if is_ascii(s) {
        #[allow(unsafe_code)]
        // SAFETY: every byte is below 0x80, and ASCII is valid UTF-8. (Why: `from_utf8`
        // costs ~120 instructions on a 40-byte str; skipping it took callgrind's count for
        // `strings_200k` into `Vec<String>` from 137M to 120M, records from 225M to 209M.)
        return Ok(unsafe { std::str::from_utf8_unchecked(s) });
    }
    std::str::from_utf8(s).map_err(|_| Declined)
}

/// Whether `s` is ASCII, a word at a time (std's check is slower on the short strs that keys
/// and most values are).
#[inline(always)]
fn is_ascii(s: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |w: &[u8]| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
    let n = s.len();
    if n < 8 {
        return s.iter().fold(0, |acc, &b| acc | b) < 0x80;
    }
    // Whole words, and the last 8 bytes for the rest (overlapping the words before them).
    let mut acc = word(&s[n - 8..]);
    for w in s.chunks_exact(8) {
        acc |= word(w);
    }
    acc & HIGH == 0
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
        Item::Empty | Item::Other | Item::Callable => Err(Declined),
    }
}

/// The validated run (see [`Direct::lean_run`]) of the batch a [`SeqAcc`] or [`MapAcc`] is
/// in: while the read position is inside it, the item there is read by [`Direct::lean_item`]
/// without the checks each item otherwise costs (the memo ops and FRAMEs after it, the end of
/// the batch), and handed to serde as a [`Lean`] value. The position only moves by whole
/// items, so it stays on the run's item boundaries whatever the visitor asks for.
#[derive(Clone, Copy)]
struct Run {
    /// Where the run starts and ends in the input (equal: no run).
    start: usize,
    end: usize,
    /// The items in it: the size hint, while none is read.
    n: usize,
}

impl Run {
    const NONE: Run = Run {
        start: 0,
        end: 0,
        n: 0,
    };

    /// The run at the read position, in a batch or MARK sequence that ends at an opcode of
    /// the [`CLASS`] bits `end` (none: an empty one).
    #[inline]
    fn at(de: &Direct<'_>, end: u8) -> Run {
        let p = de.pos;
        let (q, n) = de.lean_run(p, end);
        Run {
            start: p,
            end: q,
            n,
        }
    }
}

impl<'de> Direct<'de> {
    /// The [`LEAN`] scalar at the read position, consumed (no memo ops to record: inside a
    /// validated run there are none); `None` (nothing read) for any other opcode.
    #[inline(always)]
    fn lean_item(&mut self) -> Option<Item<'de>> {
        let (d, p) = (self.data, self.pos);
        if let Some(&[b'K', x]) = d.get(p..p + 2) {
            self.pos = p + 2;
            return Some(Item::Int(x.into()));
        }
        if d.get(p) == Some(&b'N') {
            self.pos = p + 1;
            return Some(Item::None);
        }
        self.lean_item_wide()
    }

    /// [`Self::lean_item`] of the other lean opcodes.
    #[inline(never)]
    fn lean_item_wide(&mut self) -> Option<Item<'de>> {
        let (item, n) = match *self.here() {
            [b'J', a, b, c, e, ..] => (Item::Int(i32::from_le_bytes([a, b, c, e]).into()), 5),
            [b'M', a, b, ..] => (Item::Int(u16::from_le_bytes([a, b]).into()), 3),
            [0x88, ..] => (Item::Bool(true), 1),
            [0x89, ..] => (Item::Bool(false), 1),
            [b'G', a, b, c, e, f, g, h, i, ..] => {
                (Item::Float(f64::from_be_bytes([a, b, c, e, f, g, h, i])), 9)
            }
            _ => return None,
        };
        self.pos += n;
        Some(item)
    }
}

/// A scalar of a validated run, as serde sees it: exactly the visits [`Direct`] makes for
/// the same bytes there. Those are `deserialize_any`'s for every call but three: an option is
/// None or Some, a newtype struct is itself, and a sequence (a postfix tuple starting here,
/// which a validated run cannot hold) declines, as does an enum (a str or dict there).
struct Lean<'de>(Item<'de>);

impl<'de> de::Deserializer<'de> for Lean<'de> {
    type Error = Declined;

    #[inline(always)]
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        visit_item(self.0, v)
    }

    #[inline(always)]
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.0 {
            Item::None => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value> {
        if name.starts_with('\0') {
            return Err(Declined);
        }
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(Declined)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value> {
        Err(Declined)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value> {
        Err(Declined)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value> {
        Err(Declined)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        visit_item(self.0, de::IgnoredAny)?;
        v.visit_unit()
    }

    ::serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct map struct identifier
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

impl SeqKind {
    /// The [`CLASS`] bits of the opcodes that end a MARK run of this sequence.
    fn run_end(self) -> u8 {
        match self {
            SeqKind::List => END_APPENDS,
            SeqKind::Set => END_ADDITEMS,
            SeqKind::Mark => END_MARK,
            SeqKind::Postfix | SeqKind::Empty => 0,
        }
    }
}

/// A list of lean scalars read whole (see [`Direct::lean_list`]): the items of its one
/// validated run, and nothing else.
struct LeanSeq<'a, 'de> {
    de: &'a mut Direct<'de>,
    /// Where the run ends (at its APPENDS).
    end: usize,
    /// Items not yet read: the exact size hint.
    left: usize,
}

impl<'de> de::SeqAccess<'de> for LeanSeq<'_, 'de> {
    type Error = Declined;

    #[inline(always)]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.de.pos >= self.end {
            return Ok(None);
        }
        // Inside a validated run every position the reads stop at starts a lean scalar.
        let item = need(self.de.lean_item())?;
        self.left = self.left.saturating_sub(1);
        seed.deserialize(Lean(item)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

struct SeqAcc<'a, 'de> {
    de: &'a mut Direct<'de>,
    kind: SeqKind,
    /// Inside a MARK run (a batch, or a MARK sequence): the [`CLASS`] bits of the opcodes
    /// that end it, where any other opcode starts an item. 0 elsewhere.
    stop: u8,
    /// Items read outside validated runs: it only matters before the first batch (a list of
    /// one item) and in postfix tuples, where there are no runs.
    count: usize,
    /// [`Self::count`] when the current MARK run opened.
    base: usize,
    /// The next item is the one of `x APPEND`.
    single: bool,
    done: bool,
    run: Run,
}

impl<'de> SeqAcc<'_, 'de> {
    /// At the end of a MARK run: declines one of more than [`Direct::batch_cap`] items (its
    /// validated run, if any, and the items read one by one).
    #[inline]
    fn run_ended(&mut self) -> Result<()> {
        if self.count - self.base + self.run.n > self.de.batch_cap {
            return Err(Declined);
        }
        self.base = self.count;
        Ok(())
    }

    /// Whether another item follows, consuming the opcodes that close batches or the sequence.
    #[inline(always)]
    fn more(&mut self) -> Result<bool> {
        if self.stop != 0 {
            if let Some(&b) = self.de.data.get(self.de.pos) {
                if CLASS[b as usize] & self.stop == 0 {
                    return Ok(true);
                }
            }
        }
        self.more_slow()
    }

    /// [`Self::more`] at the opcodes that open or end batches and sequences (and FRAMEs).
    fn more_slow(&mut self) -> Result<bool> {
        // The usual end first: a list's batch closed by APPENDS, with no other batch (nor a
        // FRAME, which the general path looks past) after it.
        if self.stop == END_APPENDS {
            let (d, p) = (self.de.data, self.de.pos);
            if let Some(&[b'e', n]) = d.get(p..p + 2) {
                if n != b'(' && n != 0x95 {
                    self.run_ended()?;
                    self.de.pos = p + 1;
                    self.stop = 0;
                    self.done = true;
                    return Ok(false);
                }
            }
        }
        if self.done {
            return Ok(false);
        }
        if self.single {
            // After the item of `x APPEND`: the APPEND, which ends the list.
            if self.de.peek()? != b'a' {
                return Err(Declined);
            }
            self.de.pos += 1;
            self.single = false;
            self.done = true;
            return Ok(false);
        }
        loop {
            let b = self.de.peek()?;
            match self.kind {
                SeqKind::List | SeqKind::Set => {
                    let end = self.kind.run_end();
                    if self.stop != 0 {
                        if CLASS[b as usize] & end == 0 {
                            return Ok(true);
                        }
                        self.run_ended()?;
                        self.de.pos += 1;
                        self.stop = 0;
                        // CPython never adds single items after a batch; another MARK is
                        // another batch (checked: it must close with APPENDS).
                        if self.de.peek()? == b'(' {
                            self.de.pos += 1;
                            self.stop = end;
                            self.run = Run::at(self.de, end);
                            continue;
                        }
                    } else if b == b'(' {
                        self.de.pos += 1;
                        self.stop = end;
                        self.run = Run::at(self.de, end);
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
                    self.run_ended()?;
                    self.de.pos += 1;
                    self.de.pushed(Item::Other)?;
                }
                SeqKind::Postfix => {
                    if !(0x85..=0x87).contains(&b) {
                        if self.count >= 3 {
                            return Err(Declined);
                        }
                        return Ok(true);
                    }
                    if (b - 0x84) as usize != self.count {
                        return Err(Declined);
                    }
                    self.de.pos += 1;
                    self.de.pushed(Item::Other)?;
                }
                SeqKind::Empty => {}
            }
            self.stop = 0;
            self.done = true;
            return Ok(false);
        }
    }
}

impl SeqAcc<'_, '_> {
    /// The size hint for the run starting at `p`: its scalars counted, and where another
    /// item (a container, which is not walked) follows them, at least one more, and at
    /// least 4 in a list's or set's batch: what a `Vec` allocates at its first push anyway
    /// (the batch is not empty), so a list of lists allocates no more than without a hint,
    /// but once, without the growth path.
    fn hint(&self, p: usize) -> usize {
        match self.de.run_len(p, HINT_ITEMS) {
            (n, false) => n,
            (n, true) if self.kind == SeqKind::Mark => (n + 1).min(HINT_ITEMS),
            (n, true) => (n + 1).clamp(4, HINT_ITEMS),
        }
    }
}

/// [`SeqAcc::hint`] of a dict's batch, in pairs: at least 2 where a container follows the
/// scalars counted (CPython writes a dict of one pair by SETITEM, so a batch it writes holds
/// two or more; a hash map allocates as much for 2 as at its first insert).
fn map_hint(de: &Direct<'_>, p: usize) -> usize {
    match de.run_len(p, HINT_MAP_ITEMS) {
        (n, false) => n / 2,
        (n, true) => (n / 2 + 1).clamp(2, HINT_MAP_ITEMS / 2),
    }
}

impl<'de> de::SeqAccess<'de> for SeqAcc<'_, 'de> {
    type Error = Declined;

    #[inline(always)]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.de.pos < self.run.end {
            if let Some(item) = self.de.lean_item() {
                return seed.deserialize(Lean(item)).map(Some);
            }
        }
        if !self.more()? {
            return Ok(None);
        }
        let x = seed.deserialize(&mut *self.de)?;
        self.count += 1;
        Ok(Some(x))
    }

    fn size_hint(&self) -> Option<usize> {
        let de = &*self.de;
        if self.done {
            Some(0)
        } else if self.single {
            Some(1)
        } else if de.pos == self.run.start && self.run.n > 0 {
            // A run followed by the batch's end: counted already.
            Some(self.run.n.min(HINT_ITEMS))
        } else if self.stop != 0 {
            Some(self.hint(de.pos))
        } else if matches!(self.kind, SeqKind::List | SeqKind::Set) {
            let p = de.past_frames(de.pos);
            (de.data.get(p) == Some(&b'(')).then(|| self.hint(p + 1))
        } else {
            None
        }
    }
}

struct MapAcc<'a, 'de> {
    de: &'a mut Direct<'de>,
    /// Inside a MARK ... SETITEMS batch.
    batch: bool,
    /// The next pair is the one of `k v SETITEM`.
    single: bool,
    done: bool,
    /// Pairs read outside validated runs (see [`SeqAcc::count`]).
    count: usize,
    /// [`Self::count`] when the current batch opened.
    base: usize,
    run: Run,
}

impl MapAcc<'_, '_> {
    /// [`SeqAcc::run_ended`] of a SETITEMS batch (two items a pair).
    #[inline]
    fn run_ended(&mut self) -> Result<()> {
        if 2 * (self.count - self.base) + self.run.n > self.de.batch_cap {
            return Err(Declined);
        }
        self.base = self.count;
        Ok(())
    }

    #[inline(always)]
    fn more(&mut self) -> Result<bool> {
        if self.batch {
            if let Some(&b) = self.de.data.get(self.de.pos) {
                if CLASS[b as usize] & END_SETITEMS == 0 {
                    return Ok(true);
                }
            }
        }
        self.more_slow()
    }

    fn more_slow(&mut self) -> Result<bool> {
        // The usual end first (see [`SeqAcc::more_slow`]): SETITEMS, and no other batch.
        if self.batch {
            let (d, p) = (self.de.data, self.de.pos);
            if let Some(&[b'u', n]) = d.get(p..p + 2) {
                if n != b'(' && n != 0x95 {
                    self.run_ended()?;
                    self.de.pos = p + 1;
                    self.batch = false;
                    self.done = true;
                    return Ok(false);
                }
            }
        }
        if self.done {
            return Ok(false);
        }
        if self.single {
            // After the pair of `k v SETITEM`: the SETITEM, which ends the dict.
            if self.de.peek()? != b's' {
                return Err(Declined);
            }
            self.de.pos += 1;
            self.single = false;
            self.done = true;
            return Ok(false);
        }
        loop {
            let b = self.de.peek()?;
            if self.batch {
                if b != b'u' {
                    return Ok(true);
                }
                self.run_ended()?;
                self.de.pos += 1;
                self.batch = false;
                if self.de.peek()? == b'(' {
                    self.de.pos += 1;
                    self.batch = true;
                    self.run = Run::at(self.de, END_SETITEMS);
                    continue;
                }
            } else if b == b'(' {
                self.de.pos += 1;
                self.batch = true;
                self.run = Run::at(self.de, END_SETITEMS);
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
    type Error = Declined;

    #[inline(always)]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.de.pos < self.run.end {
            if let Some(item) = self.de.lean_item() {
                return seed.deserialize(Lean(item)).map(Some);
            }
        }
        if !self.more()? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }

    #[inline(always)]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        if self.de.pos < self.run.end {
            if let Some(item) = self.de.lean_item() {
                return seed.deserialize(Lean(item));
            }
        }
        let x = seed.deserialize(&mut *self.de)?;
        self.count += 1;
        Ok(x)
    }

    /// Written out (serde's default is the same two calls) so that it inlines into the map
    /// visitors' loops: out of line, its result came back through memory, read wider than
    /// it was written (a store-forwarding stall for each entry).
    #[inline(always)]
    fn next_entry_seed<K: DeserializeSeed<'de>, V: DeserializeSeed<'de>>(
        &mut self,
        kseed: K,
        vseed: V,
    ) -> Result<Option<(K::Value, V::Value)>> {
        match self.next_key_seed(kseed)? {
            Some(k) => Ok(Some((k, self.next_value_seed(vseed)?))),
            None => Ok(None),
        }
    }

    #[inline(always)]
    fn next_entry<K: de::Deserialize<'de>, V: de::Deserialize<'de>>(
        &mut self,
    ) -> Result<Option<(K, V)>> {
        self.next_entry_seed(std::marker::PhantomData, std::marker::PhantomData)
    }

    fn size_hint(&self) -> Option<usize> {
        let de = &*self.de;
        if self.done {
            Some(0)
        } else if self.single {
            Some(1)
        } else if de.pos == self.run.start && self.run.n > 0 {
            // As [`SeqAcc::size_hint`], in pairs.
            Some(self.run.n.min(HINT_MAP_ITEMS) / 2)
        } else if self.batch {
            Some(map_hint(de, de.pos))
        } else {
            let p = de.past_frames(de.pos);
            (de.data.get(p) == Some(&b'(')).then(|| map_hint(de, p + 1))
        }
    }
}

/// A [`MapAcc`] as the map visitors get it: serde's own `&mut` forwarding is only
/// `#[inline]`, and left out of line its `next_entry` returns each entry through memory, read
/// back wider than it was written (a store-forwarding stall: a fifth of MICRO_DICT's time).
struct Entries<'b, 'a, 'de>(&'b mut MapAcc<'a, 'de>);

impl<'de> de::MapAccess<'de> for Entries<'_, '_, 'de> {
    type Error = Declined;

    #[inline(always)]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        self.0.next_key_seed(seed)
    }

    #[inline(always)]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        self.0.next_value_seed(seed)
    }

    #[inline(always)]
    fn next_entry_seed<K: DeserializeSeed<'de>, V: DeserializeSeed<'de>>(
        &mut self,
        kseed: K,
        vseed: V,
    ) -> Result<Option<(K::Value, V::Value)>> {
        self.0.next_entry_seed(kseed, vseed)
    }

    #[inline(always)]
    fn next_entry<K: de::Deserialize<'de>, V: de::Deserialize<'de>>(
        &mut self,
    ) -> Result<Option<(K, V)>> {
        self.0
            .next_entry_seed(std::marker::PhantomData, std::marker::PhantomData)
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de> Direct<'de> {
    /// Reads a sequence whose opening (if any) was consumed, checking it ends where the
    /// visitor stops.
    fn seq<V: Visitor<'de>>(&mut self, kind: SeqKind, v: V) -> Result<V::Value> {
        if kind == SeqKind::Mark || kind == SeqKind::Postfix {
            self.enter()?;
        }
        let mut stop = if kind == SeqKind::Mark { END_MARK } else { 0 };
        if matches!(kind, SeqKind::List | SeqKind::Set) && self.peek()? == b'(' {
            // The first batch (most lists have one).
            self.pos += 1;
            stop = kind.run_end();
        }
        let run = if stop != 0 {
            Run::at(self, stop)
        } else {
            Run::NONE
        };
        let mut acc = SeqAcc {
            de: self,
            kind,
            stop,
            count: 0,
            base: 0,
            single: false,
            done: false,
            run,
        };
        let out = v.visit_seq(&mut acc)?;
        if !acc.done && acc.more()? {
            return Err(Declined);
        }
        self.depth -= 1;
        Ok(out)
    }

    /// Reads a dict whose EMPTY_DICT was consumed.
    fn map<V: Visitor<'de>>(&mut self, v: V) -> Result<V::Value> {
        let batch = self.peek()? == b'(';
        if batch {
            // The first batch (most dicts have one).
            self.pos += 1;
        }
        let run = if batch {
            Run::at(self, END_SETITEMS)
        } else {
            Run::NONE
        };
        let mut acc = MapAcc {
            de: self,
            batch,
            single: false,
            done: false,
            count: 0,
            base: 0,
            run,
        };
        let out = v.visit_map(Entries(&mut acc))?;
        if !acc.done && acc.more()? {
            return Err(Declined);
        }
        self.depth -= 1;
        Ok(out)
    }

    /// The list at the read position when it is the shape CPython writes for a list of small
    /// scalars (`list(range(10))`): EMPTY_LIST, at most one MEMOIZE on a dense memo, MARK,
    /// one validated run (see [`Self::lean_run`]), then APPENDS with no other batch or FRAME
    /// after it. Returns where the run starts and ends and its items; `None` for any other
    /// shape, which the general path reads.
    #[inline]
    fn lean_list(&self) -> Option<(usize, usize, usize)> {
        let (d, mut p) = (self.data, self.pos);
        if d.get(p) != Some(&b']') {
            return None;
        }
        p += 1;
        if d.get(p) == Some(&0x94) {
            if self.count != self.memo.len() || self.count as u64 > self.max_memo_index {
                return None;
            }
            p += 1;
        }
        if d.get(p) != Some(&b'(') || self.depth >= self.max_depth {
            return None;
        }
        // A first item that is no lean scalar (a str, a container): the general path, without
        // a walk of the run that it would then repeat.
        if LEAN[usize::from(*d.get(p + 1)?)] == 0 {
            return None;
        }
        let (q, n) = self.lean_run(p + 1, END_APPENDS);
        match d.get(q..q + 2) {
            Some(&[b'e', next]) if n > 0 && n <= self.batch_cap && next != b'(' && next != 0x95 => {
                Some((p + 1, q, n))
            }
            _ => None,
        }
    }

    /// Reads the list [`Self::lean_list`] found: its memo entry, its items as [`Lean`]
    /// scalars with an exact size hint, its APPENDS. A visitor that stops before the end
    /// declines, as [`Self::seq`] does.
    fn read_lean_list<V: Visitor<'de>>(
        &mut self,
        (start, end, n): (usize, usize, usize),
        v: V,
    ) -> Result<V::Value> {
        if self.data.get(self.pos + 1) == Some(&0x94) {
            self.memo.push(OTHER);
            self.count += 1;
        }
        self.pos = start;
        self.depth += 1;
        let out = v.visit_seq(LeanSeq {
            de: self,
            end,
            left: n,
        })?;
        if self.pos != end {
            return Err(Declined);
        }
        self.pos = end + 1;
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
            _ => Err(Declined),
        }
    }

    /// The value at the read position (opcode `b`), as the graph path's `deserialize_any`
    /// reads it.
    #[inline]
    fn any<V: Visitor<'de>>(&mut self, b: u8, v: V) -> Result<V::Value> {
        match self.scalar(b)? {
            Some(item) => visit_item(item, v),
            None => self.container_any(b, v),
        }
    }
}

/// `deserialize_*` of the integer types: ints by the fast path, anything else as
/// `deserialize_any` (which is what the graph path does for them), out of line so that the
/// fast path inlines into the collection visitors' loops.
macro_rules! ints {
    ($($name:ident)*) => {$(
        #[inline(always)]
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            match self.small_int()? {
                Some(x) => v.visit_i64(x),
                None => self.any_out_of_line(v),
            }
        }
    )*};
}

impl<'de> Direct<'de> {
    /// `deserialize_any`, not inlined: the slow path of the typed fast paths.
    #[inline(never)]
    fn any_out_of_line<V: Visitor<'de>>(&mut self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        self.any(b, v)
    }

    /// `deserialize_string` of anything but a short str: a str visited as one (not
    /// borrowed), anything else as `deserialize_any`.
    #[inline(never)]
    fn string_slow<V: Visitor<'de>>(&mut self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        match self.scalar(b)? {
            Some(Item::Str(s)) => v.visit_str(s),
            Some(item) => visit_item(item, v),
            None => self.container_any(b, v),
        }
    }

    /// `deserialize_option` after anything but NONE and the start of a plain value: FRAMEs
    /// and memo GETs (of None, or of the value).
    #[inline(never)]
    fn option_slow<V: Visitor<'de>>(&mut self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        if b == b'N' || matches!(self.peek_get(b)?, Some(Item::None)) {
            self.scalar(b)?;
            return v.visit_none();
        }
        v.visit_some(self)
    }
}

impl<'de> de::Deserializer<'de> for &mut Direct<'de> {
    type Error = Declined;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        self.any(b, v)
    }

    ints! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
    }

    #[inline]
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        if let [b'G', a, b, c, d, e, f, g, h, ..] = *self.here() {
            let x = f64::from_be_bytes([a, b, c, d, e, f, g, h]);
            self.pos += 9;
            self.pushed_scalar(Item::Float(x))?;
            return v.visit_f64(x);
        }
        self.any_out_of_line(v)
    }

    #[inline]
    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        self.deserialize_f64(v)
    }

    #[inline]
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        if let [b @ (0x88 | 0x89), ..] = *self.here() {
            self.pos += 1;
            self.pushed_scalar(Item::Bool(b == 0x88))?;
            return v.visit_bool(b == 0x88);
        }
        self.any_out_of_line(v)
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.short_str()? {
            Some(s) => v.visit_borrowed_str(s),
            None => self.any_out_of_line(v),
        }
    }

    #[inline]
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        if let Some(s) = self.short_str()? {
            return v.visit_str(s);
        }
        self.string_slow(v)
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

    #[inline(always)]
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        match self.data.get(self.pos) {
            Some(b'N') => {
                self.pos += 1;
                self.pushed_scalar(Item::None)?;
                v.visit_none()
            }
            Some(&b) if !matches!(b, 0x95 | b'h' | b'j') => v.visit_some(self),
            _ => self.option_slow(v),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value> {
        if name.starts_with('\0') {
            // brine's wrapper types (tuple, set, bytearray, global, big int): graph path.
            return Err(Declined);
        }
        if self.proto >= 3 && pushes_text(self.peek()?) && self.global_follows() {
            return self.global_call(1, |de| v.visit_newtype_struct(de));
        }
        v.visit_newtype_struct(self)
    }

    #[inline]
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        match b {
            b']' => match self.lean_list() {
                Some(run) => self.read_lean_list(run, v),
                None => self.container_any(b, v),
            },
            b')' | 0x8f | b'(' => self.container_any(b, v),
            // Not a dict's items (left to the graph path): a tuple that starts with a dict.
            b'}' => self.seq(SeqKind::Postfix, v),
            b'C' | b'B' | 0x8e | 0x96 if !self.tuple1_after_scalar() => {
                // `Vec<u8>` from bytes: the byte values (as the graph path gives them).
                let Some(Item::Bytes(s) | Item::ByteArray(s)) = self.scalar(b)? else {
                    return Err(Declined);
                };
                v.visit_seq(de::value::SeqDeserializer::<_, Declined>::new(
                    s.iter().copied(),
                ))
            }
            b if starts_value(b) => match self.peek_get(b)? {
                Some(Item::Bytes(_) | Item::ByteArray(_)) => Err(Declined),
                _ => self.seq(SeqKind::Postfix, v),
            },
            _ => Err(Declined),
        }
    }

    #[inline]
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        let container = matches!(b, b']' | b')' | 0x8f | b'(');
        let call = !container && self.proto >= 3 && pushes_text(b) && self.global_follows();
        if container || call {
            // The container or call itself, or a postfix tuple that starts with it
            // (`([1, 2], 3)`), which holds at most three items.
            let k = match self.wrap {
                (p, k) if p == self.pos => k,
                _ if len > 3 => 0,
                _ => match self.top_wraps(len) {
                    Some(k) => k,
                    None => self.postfix_wraps(self.pos),
                },
            };
            if k > 0 {
                self.wrap = (self.pos, k - 1);
                return self.seq(SeqKind::Postfix, v);
            }
        }
        if call {
            return self.global_call(len, |de| {
                let mut args = Args { de, left: len };
                let out = v.visit_seq(&mut args)?;
                if args.left != 0 {
                    return Err(Declined);
                }
                Ok(out)
            });
        }
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value> {
        // A call of a global into a tuple struct: the graph path checks the class against the
        // struct's name first.
        if pushes_text(self.peek()?) && self.global_follows() {
            return Err(Declined);
        }
        self.deserialize_tuple(len, v)
    }

    #[inline]
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let b = self.peek()?;
        if b == b'}' {
            self.open()?;
            return self.map(v);
        }
        self.any(b, v)
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
            _ => self.any(b, v),
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
                return Err(Declined);
            }
            let out = v.visit_enum(EnumAcc {
                de: &mut *self,
                payload: true,
            })?;
            if self.peek()? != b's' {
                return Err(Declined);
            }
            self.pos += 1;
            if self.peek()? == b'(' {
                return Err(Declined);
            }
            self.depth -= 1;
            return Ok(out);
        }
        match self.peek_get(b)? {
            Some(Item::Str(_)) => {}
            Some(_) => return Err(Declined),
            None if matches!(b, 0x8c | b'X' | 0x8d) => {}
            None => return Err(Declined),
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
        i128 u128 char bytes unit unit_struct
    }
}

struct EnumAcc<'a, 'de> {
    de: &'a mut Direct<'de>,
    /// The variant name is a dict key with a payload after it (else a bare str).
    payload: bool,
}

impl<'a, 'de> de::EnumAccess<'de> for EnumAcc<'a, 'de> {
    type Error = Declined;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self)> {
        let x = seed.deserialize(&mut *self.de)?;
        Ok((x, self))
    }
}

impl<'a, 'de> de::VariantAccess<'de> for EnumAcc<'a, 'de> {
    type Error = Declined;

    fn unit_variant(self) -> Result<()> {
        if self.payload {
            // `{variant: None}`.
            let b = self.de.peek()?;
            match self.de.scalar(b)? {
                Some(Item::None) => {}
                _ => return Err(Declined),
            }
        }
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        if !self.payload {
            return Err(Declined);
        }
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value> {
        if !self.payload {
            return Err(Declined);
        }
        de::Deserializer::deserialize_tuple(&mut *self.de, len, v)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        if !self.payload {
            return Err(Declined);
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
        let d: T = match from_slice(data, 256, u64::MAX, usize::MAX) {
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
            from_slice::<T>(data, 256, u64::MAX, usize::MAX).is_err(),
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

    /// A sequence or map read as its first size hint and its items, to check the hints.
    #[derive(Debug, PartialEq)]
    struct Hinted<T>(Option<usize>, Vec<T>);

    struct HintVisitor<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for HintVisitor<T> {
        type Value = Hinted<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a sequence or map")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            let hint = a.size_hint();
            let mut v = Vec::new();
            while let Some(x) = a.next_element()? {
                v.push(x);
            }
            Ok(Hinted(hint, v))
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            let hint = a.size_hint();
            let mut v = Vec::new();
            while let Some((k, x)) = a.next_entry::<serde::de::IgnoredAny, T>()? {
                let _ = k;
                v.push(x);
            }
            Ok(Hinted(hint, v))
        }
    }

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Hinted<T> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(HintVisitor(std::marker::PhantomData))
        }
    }

    /// The direct reader's size hint for the list or dict `v` is written as, at protocol `p`.
    #[track_caller]
    fn hint_of<T, V>(v: &V, p: u8) -> Option<usize>
    where
        T: for<'a> Deserialize<'a> + Debug,
        V: serde::Serialize + ?Sized,
    {
        let data = crate::to_vec_with(v, crate::DumpOptions::new().protocol(p)).unwrap();
        let got = from_slice::<Hinted<T>>(&data, 256, u64::MAX, usize::MAX);
        got.unwrap_or_else(|_| panic!("declined {data:?}")).0
    }

    /// The look-ahead's size hints: exact for runs of scalars (whatever their mix, length
    /// and memo ops, counted a word at a time or one by one), capped, and a lower bound (or a
    /// list's first allocation) where a container follows.
    #[test]
    fn size_hints_of_runs() {
        for p in 2..=5u8 {
            for n in 0..45i64 {
                // One item is written by APPEND / SETITEM, none by nothing: no batch to count.
                let want = (n >= 2).then_some((n as usize).min(super::HINT_ITEMS));
                let small: Vec<i64> = (0..n).collect();
                assert_eq!(hint_of::<i64, _>(&small, p), want, "K run {n}");
                let wide: Vec<i64> = (0..n).map(|i| i * 1000 - 7).collect();
                assert_eq!(hint_of::<i64, _>(&wide, p), want, "mixed ints {n}");
                let opt: Vec<Option<i64>> = (0..n).map(|i| (i % 3 == 0).then_some(i)).collect();
                assert_eq!(hint_of::<Option<i64>, _>(&opt, p), want, "K, N {n}");
                let bools: Vec<bool> = (0..n).map(|i| i % 5 == 0).collect();
                assert_eq!(hint_of::<bool, _>(&bools, p), want, "bools {n}");
                let floats: Vec<f64> = (0..n).map(|i| i as f64).collect();
                assert_eq!(hint_of::<f64, _>(&floats, p), want, "floats {n}");
                let strs: Vec<String> = (0..n).map(|i| format!("s{}", i % 4)).collect();
                assert_eq!(hint_of::<String, _>(&strs, p), want, "strs {n}");
                // `dict.fromkeys(range(n))` and an int-to-int dict, in pairs.
                let want = (n >= 2).then_some(n as usize);
                let keys: BTreeMap<i64, Option<i64>> = (0..n).map(|i| (i, None)).collect();
                assert_eq!(hint_of::<Option<i64>, _>(&keys, p), want, "fromkeys {n}");
                let ints: BTreeMap<i64, i64> = (0..n).map(|i| (i, i << 20)).collect();
                assert_eq!(hint_of::<i64, _>(&ints, p), want, "ints {n}");
            }
            let big: BTreeMap<i64, i64> = (0..300).map(|i| (i, i)).collect();
            assert_eq!(hint_of::<i64, _>(&big, p), Some(super::HINT_MAP_ITEMS / 2));
            // Containers after the scalars: a lower bound, or a list's first allocation.
            let lists: Vec<Vec<i64>> = vec![vec![1], vec![2, 3]];
            assert_eq!(hint_of::<Vec<i64>, _>(&lists, p), Some(4));
            let mixed = serde_json::json!([1, 2, 3, 4, 5, [6]]);
            assert_eq!(hint_of::<serde_json::Value, _>(&mixed, p), Some(6));
            let nested: BTreeMap<i64, Vec<i64>> = (0..9).map(|i| (i, vec![i])).collect();
            assert_eq!(hint_of::<Vec<i64>, _>(&nested, p), Some(2));
        }
        // A list of dicts with the same keys, as CPython writes it: the later dicts' keys are
        // memo GETs, counted a pair a step while each value is a short str with its MEMOIZE.
        for n in 2..=126u8 {
            for memoized in [true, false] {
                // `[{k0: 'v', ...}, {k0: 'w', ...}]`: memo 0 the list, 1 the first dict, then
                // each key and its value; the second dict's value `i` unmemoized unless
                // `memoized`, which sends the count to the loop of one opcode a step.
                let mut m = b"\x80\x04]\x94(}\x94(".to_vec();
                for i in 0..n {
                    m.extend_from_slice(&[0x8c, 2, b'k', i, 0x94, 0x8c, 1, b'v', 0x94]);
                }
                m.extend_from_slice(b"u}\x94(");
                for i in 0..n {
                    m.extend_from_slice(&[b'h', 2 + 2 * i, 0x8c, 1, b'w']);
                    if memoized || i != n / 2 {
                        m.push(0x94);
                    }
                }
                m.extend_from_slice(b"ue.");
                let got = from_slice::<Vec<Hinted<String>>>(&m, 256, u64::MAX, usize::MAX)
                    .unwrap_or_else(|_| panic!("declined {m:?}"));
                let want = Some(usize::from(n).min(super::HINT_MAP_ITEMS / 2));
                assert_eq!(got[1].0, want, "{n} GET keys, memoized {memoized}");
                assert_eq!(got[1].1, vec!["w".to_string(); usize::from(n)]);
            }
        }
        // Cut short, and hostile bytes: hints stay within the caps, and nothing panics.
        let data = crate::to_vec(&(0..40i64).collect::<Vec<_>>()).unwrap();
        for end in 0..data.len() {
            let _ = from_slice::<Hinted<i64>>(&data[..end], 256, u64::MAX, usize::MAX);
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut m = b"\x80\x04](".to_vec();
            for _ in 0..24 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                m.push([b'K', b'N', b'M', 0x94, 0x88, b'e', b'h', 0x95][seed as usize % 8]);
                m.push((seed >> 8) as u8);
            }
            if let Ok(Hinted(h, _)) =
                from_slice::<Hinted<serde::de::IgnoredAny>>(&m, 256, 99, usize::MAX)
            {
                assert!(h.is_some_and(|h| h <= super::HINT_ITEMS), "{m:?}");
            }
        }
    }

    /// Lists of lean scalars read whole ([`Direct::lean_list`]): the list's memo entry taken,
    /// a visitor that stops early declined, and the shapes around it (a FRAME, a second
    /// batch, a str first) left to the general path, with the same values.
    #[test]
    fn lean_lists() {
        // `([1, 2], 'ab', 'ab')`, the second 'ab' a GET of memo 1: memo 0 is the list.
        let t = b"\x80\x04]\x94(K\x01K\x02e\x8c\x02ab\x94h\x01\x87\x94.";
        let got = reads::<(Vec<i64>, String, String)>(t);
        assert_eq!(got, (vec![1, 2], "ab".into(), "ab".into()));
        // Without the MEMOIZE, the str is memo 0.
        let t = b"\x80\x04](K\x01K\x02e\x8c\x02ab\x94h\x00\x87.";
        assert_eq!(reads::<(Vec<i64>, String, String)>(t).0, vec![1, 2]);
        // One item (CPython writes it by APPEND), a FRAME before the APPENDS, a second batch,
        // a str first: the general path reads them.
        assert_eq!(reads::<Vec<i64>>(b"\x80\x04]\x94K\x07a."), vec![7]);
        let framed = b"\x80\x04](K\x01K\x02\x95\x02\x00\x00\x00\x00\x00\x00\x00e.";
        assert_eq!(reads::<Vec<i64>>(framed), vec![1, 2]);
        let two = b"\x80\x04](K\x01K\x02e(K\x03K\x04e.";
        assert_eq!(reads::<Vec<i64>>(two), vec![1, 2, 3, 4]);
        let strs = b"\x80\x04](\x8c\x01a\x94K\x02e.";
        assert_eq!(
            reads::<Vec<serde_json::Value>>(strs),
            vec![serde_json::json!("a"), serde_json::json!(2)]
        );
        // A visitor that takes two of three items declines, as the general path does.
        #[derive(Debug, PartialEq)]
        struct FirstTwo(i64, i64);
        impl<'de> Deserialize<'de> for FirstTwo {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = FirstTwo;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a list")
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(
                        self,
                        mut a: A,
                    ) -> Result<FirstTwo, A::Error> {
                        let x = a.next_element()?.unwrap_or_default();
                        let y = a.next_element()?.unwrap_or_default();
                        Ok(FirstTwo(x, y))
                    }
                }
                d.deserialize_seq(V)
            }
        }
        let three = b"\x80\x04](K\x01K\x02K\x03e.";
        declines::<FirstTwo>(three);
        assert_eq!(reads::<FirstTwo>(b"\x80\x04](K\x01K\x02e."), FirstTwo(1, 2));
    }

    /// Validated runs (batches of ints, floats, bools and None read without per-item checks):
    /// the same values as the graph path at every length around CPython's 1000-item batches,
    /// and for anything a run may not hold (a memo op, a GET, a FRAME, a str, a cut) a
    /// reading without the run or a decline, never another value.
    #[test]
    fn validated_runs() {
        use std::collections::HashMap;
        for p in 2..=5u8 {
            let opts = || crate::DumpOptions::new().protocol(p);
            for n in [
                0usize, 1, 2, 3, 7, 8, 9, 10, 999, 1000, 1001, 1999, 2000, 2001,
            ] {
                let ints: Vec<i64> = (0..n as i64)
                    .map(|i| [i % 256, i * 977, -i][i as usize % 3])
                    .collect();
                let data = crate::to_vec_with(&ints, opts()).unwrap();
                assert_eq!(reads::<Vec<i64>>(&data), ints, "ints {n}");
                let k: Vec<u8> = (0..n).map(|i| i as u8).collect();
                let data = crate::to_vec_with(&k, opts()).unwrap();
                assert_eq!(reads::<Vec<u8>>(&data), k, "K run {n}");
                let opt: Vec<Option<i64>> =
                    (0..n as i64).map(|i| (i % 2 == 0).then_some(i)).collect();
                let data = crate::to_vec_with(&opt, opts()).unwrap();
                assert_eq!(reads::<Vec<Option<i64>>>(&data), opt, "K, N {n}");
                let fl: Vec<(f64, bool)> = (0..n).map(|i| (i as f64 / 3.0, i % 3 == 0)).collect();
                let data = crate::to_vec_with(&fl, opts()).unwrap();
                assert_eq!(reads::<Vec<(f64, bool)>>(&data), fl, "pairs {n}");
                let keys: BTreeMap<i64, Option<i64>> = (0..n as i64).map(|i| (i, None)).collect();
                let data = crate::to_vec_with(&keys, opts()).unwrap();
                let got = reads::<HashMap<i64, Option<i64>>>(&data);
                assert_eq!(
                    got.into_iter().collect::<BTreeMap<_, _>>(),
                    keys,
                    "fromkeys {n}"
                );
                // A type that does not fit the run, at its start, midway or after it.
                if n >= 2 {
                    declines::<Vec<String>>(&crate::to_vec_with(&k, opts()).unwrap());
                    declines::<Vec<(u8, u8)>>(&crate::to_vec_with(&k, opts()).unwrap());
                    declines::<[u8; 1]>(&crate::to_vec_with(&k, opts()).unwrap());
                    let mut mid = ints.clone();
                    mid[n / 2] = i64::MAX;
                    declines::<Vec<i32>>(&crate::to_vec_with(&mid, opts()).unwrap());
                    declines::<BTreeMap<i64, i64>>(&crate::to_vec_with(&keys, opts()).unwrap());
                }
            }
        }
        // `('s', [0, 1, .., 9])` with an opcode spliced in before each item and the APPENDS:
        // read as the graph path reads it (never declined: the run just stops there), or
        // failed by both.
        let base =
            b"\x80\x04\x8c\x01s\x94](K\x00K\x01K\x02K\x03K\x04K\x05K\x06K\x07K\x08K\x09e\x86.";
        let inserts: [&[u8]; 8] = [
            b"\x94",
            b"q\x05",
            b"r\x05\x00\x00\x00",
            b"h\x00",
            b"\x95\x00\x00\x00\x00\x00\x00\x00\x00",
            b"\x8c\x01x",
            b"N",
            b"J\x00\x00\x01\x00",
        ];
        type T<'a> = (&'a str, Vec<serde_json::Value>);
        let mut spliced = 0;
        for at in (8..=28).step_by(2) {
            for ins in inserts {
                let mut m = base.to_vec();
                m.splice(at..at, ins.iter().copied());
                match graph::<T>(&m) {
                    Ok(want) => {
                        assert_eq!(reads::<T>(&m), want, "{m:?}");
                        spliced += 1;
                    }
                    Err(_) => assert!(
                        from_slice::<T>(&m, 256, u64::MAX, usize::MAX).is_err(),
                        "{m:?}"
                    ),
                }
            }
        }
        assert!(spliced >= 70, "only {spliced} spliced pickles read");
        // Cut anywhere: a decline (the graph path fails too), no panic.
        let list = [&base[..2], &base[6..base.len() - 2], b"."].concat();
        assert_eq!(reads::<Vec<i64>>(&list), (0..10).collect::<Vec<_>>());
        for end in 0..list.len() {
            assert!(from_slice::<Vec<i64>>(&list[..end], 256, u64::MAX, usize::MAX).is_err());
        }
        // A second batch after the first, and a FRAME between them.
        let two = b"\x80\x04](K\x01K\x02e(K\x03K\x04e.";
        assert_eq!(reads::<Vec<i64>>(two), [1, 2, 3, 4]);
        let framed = b"\x80\x04](K\x01K\x02e\x95\x00\x00\x00\x00\x00\x00\x00\x00(K\x03e.";
        assert_eq!(reads::<Vec<i64>>(framed), [1, 2, 3]);
        let maps = b"\x80\x04}(K\x01NK\x02Nu(K\x03Nu.";
        assert_eq!(reads::<BTreeMap<i64, Option<u8>>>(maps).len(), 3);
        // A memo GET of an int inside what would be a run.
        let get = b"\x80\x04](K\x07\x94K\x01h\x00K\x02e.";
        assert_eq!(reads::<Vec<i64>>(get), [7, 1, 7, 2]);

        // Mutated runs (seeded), against the graph path.
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let lists: Vec<Vec<Option<i64>>> = (0..4)
            .map(|i| {
                (0..12)
                    .map(|j| (j % 3 != 0).then_some(j * [1, 300, -5, 70000][i]))
                    .collect()
            })
            .collect();
        let fromkeys: BTreeMap<i64, Option<i64>> = (0..12).map(|i| (i, None)).collect();
        let bases = [
            crate::to_vec(&lists).unwrap(),
            crate::to_vec(&fromkeys).unwrap(),
        ];
        let mut direct_ok = 0;
        for base in &bases {
            for _ in 0..3000 {
                let m = mutant(base, &mut next);
                for any in [false, true] {
                    let (d, g) = if any {
                        (
                            from_slice::<serde_json::Value>(&m, 256, u64::MAX, usize::MAX)
                                .map(|v| format!("{v:?}")),
                            graph::<serde_json::Value>(&m).map(|v| format!("{v:?}")),
                        )
                    } else if base == &bases[0] {
                        (
                            from_slice::<Vec<Vec<Option<i64>>>>(&m, 256, u64::MAX, usize::MAX)
                                .map(|v| format!("{v:?}")),
                            graph::<Vec<Vec<Option<i64>>>>(&m).map(|v| format!("{v:?}")),
                        )
                    } else {
                        (
                            from_slice::<HashMap<i64, Option<i64>>>(&m, 256, u64::MAX, usize::MAX)
                                .map(|v| {
                                    format!("{:?}", v.into_iter().collect::<BTreeMap<_, _>>())
                                }),
                            graph::<HashMap<i64, Option<i64>>>(&m).map(|v| {
                                format!("{:?}", v.into_iter().collect::<BTreeMap<_, _>>())
                            }),
                        )
                    };
                    if let Ok(a) = d {
                        assert_eq!(Ok(a), g.map_err(|e| e.to_string()), "{m:?}");
                        direct_ok += 1;
                    }
                }
            }
        }
        assert!(direct_ok > 1000, "only {direct_ok} mutants read directly");
    }

    #[test]
    fn ascii_check_sees_every_byte() {
        for n in 0..40 {
            let mut s = vec![b'a'; n];
            assert!(super::is_ascii(&s));
            for i in 0..n {
                s[i] = 0xc3;
                assert!(!super::is_ascii(&s), "{n} {i}");
                s[i] = b'a';
            }
        }
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

    /// `datetime.date`'s pickle: `datetime.date(b'...')`.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Date(#[serde(with = "serde_bytes")] Vec<u8>);

    #[test]
    fn calls_of_globals_into_newtype_structs() {
        // Made by CPython 3.11: `datetime.date(1980, 5, 7)` alone, in a list, in a dict.
        let d = b"\x80\x04\x95 \x00\x00\x00\x00\x00\x00\x00\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94.";
        assert_eq!(reads::<Date>(d).0, b"\x07\xbc\x05\x07");
        let l = b"\x80\x04\x95#\x00\x00\x00\x00\x00\x00\x00]\x94\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94a.";
        assert_eq!(reads::<Vec<Date>>(l).len(), 1);
        let m = b"\x80\x04\x95.\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94\x8c\x01b\x94K\x01u.";
        #[derive(Deserialize, Debug, PartialEq)]
        struct S {
            a: Date,
            b: i64,
        }
        assert_eq!(reads::<S>(m).b, 1);
        // Shared: the module and class names are memo GETs the second time.
        let two = b"\x80\x04](\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x01x\x85R\x94h\x00h\x01\x93C\x01y\x85Re.";
        assert_eq!(reads::<Vec<Date>>(two)[1].0, b"y");
        // MARK ... TUPLE arguments, and a str argument into a newtype of String.
        #[derive(Deserialize, Debug, PartialEq)]
        struct Name(String);
        reads::<Name>(b"\x80\x04\x8c\x01m\x8c\x01C\x93(\x8c\x02abtR.");
        reads::<(Name, u8)>(b"\x80\x04\x8c\x01m\x8c\x01C\x93\x8c\x02ab\x85RK\x01\x86.");
    }

    #[test]
    fn calls_of_globals_into_tuples_and_by_memo() {
        use serde_bytes::ByteBuf;
        let b = |s: &[u8]| ByteBuf::from(s.to_vec());
        // The arguments, as the graph path reads an instance into a tuple: one, two, and
        // four (MARK ... TUPLE).
        let one = b"\x80\x04\x8c\x01m\x8c\x01C\x93C\x02ab\x85R.";
        assert_eq!(reads::<(ByteBuf,)>(one), (b(b"ab"),));
        // (`Vec<u8>` there guesses a postfix tuple of the bytes' items: declined.)
        declines::<(Vec<u8>,)>(one);
        let two = b"\x80\x04\x8c\x01m\x8c\x01C\x93C\x01aC\x01b\x86R.";
        assert_eq!(reads::<(ByteBuf, ByteBuf)>(two), (b(b"a"), b(b"b")));
        let four = b"\x80\x04\x8c\x01m\x8c\x01C\x93(K\x01K\x02K\x03K\x04tR.";
        assert_eq!(reads::<(u8, u8, u8, u8)>(four), (1, 2, 3, 4));
        assert_eq!(reads::<[u8; 4]>(four), [1, 2, 3, 4]);
        // Made by CPython 3.11: `[date(1980, 5, 7), date(1981, 1, 2)]` and the same in a
        // dict. The second call's callable is a BINGET of the class memoized by the first.
        let l = b"\x80\x04\x951\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94h\x03C\x04\x07\xbd\x01\x02\x94\x85\x94R\x94e.";
        assert_eq!(reads::<Vec<Date>>(l)[1].0, b"\x07\xbd\x01\x02");
        assert_eq!(reads::<Vec<(ByteBuf,)>>(l)[1].0, b(b"\x07\xbd\x01\x02"));
        let m = b"\x80\x04\x959\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94\x8c\x01b\x94h\x04C\x04\x07\xbd\x01\x02\x94\x85\x94R\x94u.";
        assert_eq!(reads::<BTreeMap<&str, Date>>(m)["b"].0, b"\x07\xbd\x01\x02");
        // The same with a LONG_BINGET of the class.
        let mut long = l.to_vec();
        long.splice(45..47, *b"j\x03\x00\x00\x00");
        long[3] += 3;
        assert_eq!(reads::<Vec<(ByteBuf,)>>(&long).len(), 2);
        // Declined: a GET of the class read anywhere but as a call (the graph path has a
        // global there), of the first call's result or of its argument tuple as a callable,
        // a call with other arguments than the tuple has items, and an empty tuple.
        declines::<Vec<serde_json::Value>>(l);
        let mut res = l.to_vec();
        res[46] = 6;
        declines::<Vec<(ByteBuf,)>>(&res);
        res[46] = 5;
        declines::<Vec<(ByteBuf,)>>(&res);
        declines::<(u8, u8, u8)>(four);
        declines::<(u8,)>(two);
        declines::<[u8; 0]>(b"\x80\x04\x8c\x01m\x8c\x01C\x93)R.");
        declines::<(Vec<u8>,)>(b"\x80\x04\x8c\x01m\x8c\x01C\x93](K\x01K\x02eR.");
    }

    #[test]
    fn inputs_longer_than_the_stack_limit() {
        // A list of 3000 ints in CPython's batches of 1000, and a dict of 1500 pairs (a batch
        // of 2000 items): longer than the stack limits below.
        let ints: Vec<i64> = (0..3000).collect();
        let list = crate::to_vec(&ints).unwrap();
        let pairs: BTreeMap<i64, i64> = (0..1500).map(|i| (i, i)).collect();
        let dict = crate::to_vec(&pairs).unwrap();
        assert!(list.len() > 5000 && dict.len() > 5000);
        // Within a limit of 5000 over four levels (depth 2 and the root), a MARK run may
        // hold 5000 / 4 - 4 = 1246 items: the list's batches fit, the dict's do not.
        let got = from_slice::<Vec<i64>>(&list, 2, u64::MAX, 5000);
        assert_eq!(got.ok(), Some(ints));
        assert!(from_slice::<BTreeMap<i64, i64>>(&dict, 2, u64::MAX, 5000).is_err());
        assert!(from_slice::<BTreeMap<i64, i64>>(&dict, 2, u64::MAX, 8200).is_ok());
        assert!(from_slice::<Vec<i64>>(&list, 2, u64::MAX, 4000).is_err());
        // Through `from_slice_with`: the graph path's stack error where its stack (a batch
        // of 1000) passes the limit, and the same list where it does not.
        let limits = |s| {
            crate::LoadOptions::new().limits(crate::Limits {
                max_stack: s,
                ..crate::Limits::default()
            })
        };
        let e = crate::from_slice_with::<Vec<i64>>(&list, limits(999)).unwrap_err();
        assert!(e.to_string().contains("max_stack"), "{e}");
        let ok = crate::from_slice_with::<Vec<i64>>(&list, limits(1001)).unwrap();
        assert_eq!(ok.len(), 3000);
        let e = crate::from_slice_with::<BTreeMap<i64, i64>>(&dict, limits(1999)).unwrap_err();
        assert!(e.to_string().contains("max_stack"), "{e}");
    }

    #[test]
    fn postfix_tuples_that_start_with_containers() {
        // Made by CPython 3.11: `({'a': 1}, [1, 2], {'b': [3]})`, `([1, 2], 3)`,
        // `(([1, 2], 3),)`, `([1, 2],)`, `((1, 2, 3, 4), 5)`.
        let t3 = b"\x80\x04\x95 \x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s]\x94(K\x01K\x02e}\x94\x8c\x01b\x94]\x94K\x03as\x87\x94.";
        type M = BTreeMap<String, i64>;
        let (a, b, c) = reads::<(M, Vec<i64>, BTreeMap<&str, Vec<u8>>)>(t3);
        assert_eq!((a["a"], b, c["b"].clone()), (1, vec![1, 2], vec![3]));
        let t2 = b"\x80\x04\x95\r\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02eK\x03\x86\x94.";
        assert_eq!(reads::<(Vec<i64>, i64)>(t2), (vec![1, 2], 3));
        let nested =
            b"\x80\x04\x95\x0f\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02eK\x03\x86\x94\x85\x94.";
        assert_eq!(reads::<((Vec<i64>, i64),)>(nested), ((vec![1, 2], 3),));
        let t1 = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02e\x85\x94.";
        assert_eq!(reads::<(Vec<i64>,)>(t1), (vec![1, 2],));
        // The list itself where the Rust tuple has its length (a list read as a tuple).
        reads::<(i64, i64)>(b"\x80\x04]\x94(K\x01K\x02e.");
        let mark =
            b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00(K\x01K\x02K\x03K\x04t\x94K\x05\x86\x94.";
        assert_eq!(reads::<([u8; 4], u8)>(mark), ([1, 2, 3, 4], 5));
        // Brine writes tuples as CPython does (postfix up to three items, else MARK).
        let lists = (vec![1i64, 2], vec![3i64], [(1u8, 2u8, 3u8, 4u8); 2]);
        let data = crate::to_vec(&lists).unwrap();
        assert_eq!(
            reads::<(Vec<i64>, Vec<i64>, [(u8, u8, u8, u8); 2])>(&data),
            lists
        );
        let many: Vec<(Vec<i64>, i64)> = (0..3000).map(|i| (vec![i; i as usize % 3], i)).collect();
        let data = crate::to_vec(&many).unwrap();
        assert_eq!(reads::<Vec<(Vec<i64>, i64)>>(&data), many);
        let pairs: Vec<Vec<i64>> = (0..3000).map(|i| vec![i, -i]).collect();
        let data = crate::to_vec(&pairs).unwrap();
        let got = reads::<Vec<(i64, i64)>>(&data);
        assert!(got.iter().zip(&pairs).all(|(t, l)| [t.0, t.1] == l[..]));
        // Lists read as tuples at two levels, whose scans keep replacing each other's counts:
        // the scan budget runs out, and the guesses after it are still checked.
        type Nested = Vec<(Vec<(Vec<i64>, i64)>, i64)>;
        let two: Nested = (0..3000).map(|i| (vec![(vec![1], 2)], i)).collect();
        let data = crate::to_vec(&serde_json::to_value(&two).unwrap()).unwrap();
        assert_eq!(reads::<Nested>(&data), two);
        let quads: Vec<(i64, i64, i64, i64)> = (0..3000).map(|i| (i, -i, i, 7)).collect();
        let data = crate::to_vec(&quads).unwrap();
        assert_eq!(reads::<Vec<(i64, i64, i64, i64)>>(&data), quads);
        // Wrong guesses only decline.
        declines::<(i64, i64)>(t2);
        declines::<((i64, i64), i64)>(nested);
        declines::<(Vec<i64>, i64)>(nested);
    }

    #[test]
    fn declines_calls_the_graph_path_reads_otherwise() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct N(Vec<u8>);
        // `builtins.bytearray(b'ab')` is a bytearray to the graph path.
        declines::<N>(b"\x80\x04\x8c\x08builtins\x8c\tbytearray\x93C\x02ab\x85R.");
        declines::<N>(b"\x80\x04\x8c\x07copyreg\x8c\x0e_reconstructor\x93C\x02ab\x85R.");
        // Two arguments, none, a BUILD after the call, state set by SETITEMS.
        declines::<N>(b"\x80\x04\x8c\x01m\x8c\x01C\x93C\x01aC\x01b\x86R.");
        declines::<N>(b"\x80\x04\x8c\x01m\x8c\x01C\x93)R.");
        declines::<N>(b"\x80\x04\x8c\x01m\x8c\x01C\x93C\x02ab\x85R}b.");
        declines::<Vec<N>>(b"\x80\x04](\x8c\x01m\x8c\x01C\x93C\x02ab\x85R(K\x01K\x02ue.");
        // Below protocol 3 the graph path renames Python 2 globals.
        declines::<N>(b"\x80\x02\x8c\x01m\x8c\x01C\x93C\x02ab\x85R.");
        declines::<N>(b"\x8c\x01m\x8c\x01C\x93C\x02ab\x85R.");
        // A tuple struct (the graph path checks the class against its name first) and
        // brine's own wrappers.
        #[derive(Deserialize, Debug, PartialEq)]
        struct P(Vec<u8>, u8);
        declines::<P>(b"\x80\x04\x8c\x01m\x8c\x01C\x93C\x02abK\x01\x86R.");
        declines::<crate::serde::Tuple<Vec<u8>>>(b"\x80\x04\x8c\x01m\x8c\x01C\x93C\x02ab\x85R.");
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

    /// An empty FRAME between any two opcodes changes nothing: the fast paths that read raw
    /// bytes leave it to the general ones.
    #[test]
    fn frames_between_any_opcodes() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct R<'a> {
            id: i64,
            name: &'a str,
            score: Option<f64>,
            ok: bool,
            tags: Vec<String>,
            m: std::collections::HashMap<i64, Option<i64>>,
            t: (Vec<u8>, u8),
        }
        #[derive(serde::Serialize)]
        struct W<'a> {
            id: i64,
            name: &'a str,
            score: Option<f64>,
            ok: bool,
            tags: Vec<&'a str>,
            m: BTreeMap<i64, Option<i64>>,
            t: (Vec<u8>, u8),
        }
        let w = vec![
            W {
                id: 1,
                name: "ada",
                score: Some(0.5),
                ok: true,
                tags: vec!["x", "y"],
                m: [(1, None), (2, Some(3))].into(),
                t: (vec![1, 2], 3),
            },
            W {
                id: 300,
                name: "ada",
                score: None,
                ok: false,
                tags: vec!["x"],
                m: BTreeMap::new(),
                t: (vec![], 200),
            },
        ];
        let base = crate::to_vec(&w).unwrap();
        let want = reads::<Vec<R>>(&base);
        let frame = b"\x95\x00\x00\x00\x00\x00\x00\x00\x00";
        let mut p = 2;
        let mut n = 0;
        while let Some(len) = super::op_len(&base, p) {
            let mut m = base.clone();
            m.splice(p..p, frame.iter().copied());
            if graph::<Vec<R>>(&m).is_ok() {
                assert_eq!(reads::<Vec<R>>(&m), want, "FRAME at {p}");
                n += 1;
            }
            p += len;
        }
        assert!(n > 50, "only {n} placements");
        // Where no push comes before it (whose memo check would skip it): in empty runs.
        let f = &frame[..];
        let empty_batch = [&b"\x80\x04](K\x01K\x02e]("[..], f, b"e\x86."].concat();
        reads::<(Vec<i64>, Vec<i64>)>(&empty_batch);
        let empty_dict = [&b"\x80\x04}("[..], f, b"u."].concat();
        reads::<BTreeMap<i64, i64>>(&empty_dict);
        let empty_mark = [&b"\x80\x04("[..], f, b"t."].concat();
        reads::<Vec<i64>>(&empty_mark);
    }

    /// `base` with one byte changed, removed or duplicated, as `next` picks.
    fn mutant(base: &[u8], next: &mut impl FnMut() -> u64) -> Vec<u8> {
        let mut m = base.to_vec();
        let i = (next() as usize) % m.len();
        match next() % 3 {
            0 => m[i] = next() as u8,
            1 => {
                m.remove(i);
            }
            _ => m.insert(i, m[(next() as usize) % m.len()]),
        }
        m
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
                let direct = from_slice::<Vec<R>>(&m, 256, u64::MAX, usize::MAX);
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
                let any = from_slice::<serde_json::Value>(&m, 256, u64::MAX, usize::MAX);
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
                let m = mutant(&base, &mut next);
                let by_graph = graph::<T2>(&m).map(|v| format!("{v:?}"));
                if let Ok(a) = from_slice::<T2>(&m, 256, u64::MAX, usize::MAX) {
                    assert_eq!(
                        Ok(format!("{a:?}")),
                        by_graph.map_err(|e| e.to_string()),
                        "{m:?}"
                    );
                    direct_ok += 1;
                }
                if let Ok(a) = from_slice::<serde_json::Value>(&m, 256, u64::MAX, usize::MAX) {
                    let b = graph::<serde_json::Value>(&m).ok();
                    assert_eq!(format!("{:?}", Some(a)), format!("{b:?}"), "{m:?}");
                }
            }
        }
        assert!(direct_ok > 100, "only {direct_ok} mutants read directly");

        // Calls of globals and tuples that start with containers, as CPython writes them:
        // `(date, ([1, 2], 3), [[1, 2], [3, 4]], ({'a': 1}, [5]))`, protocols 4 and 5.
        type T3 = (
            Date,
            (Vec<i64>, i64),
            Vec<(i64, i64)>,
            (BTreeMap<String, i64>, Vec<u8>),
        );
        let cpython: [&[u8]; 2] = [
            b"\x80\x04\x95S\x00\x00\x00\x00\x00\x00\x00(\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94]\x94(K\x01K\x02eK\x03\x86\x94]\x94(]\x94(K\x01K\x02e]\x94(K\x03K\x04ee}\x94\x8c\x01a\x94K\x01s]\x94K\x05a\x86\x94t\x94.",
            b"\x80\x05\x95S\x00\x00\x00\x00\x00\x00\x00(\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94]\x94(K\x01K\x02eK\x03\x86\x94]\x94(]\x94(K\x01K\x02e]\x94(K\x03K\x04ee}\x94\x8c\x01a\x94K\x01s]\x94K\x05a\x86\x94t\x94.",
        ];
        let mut direct_ok = 0;
        for base in cpython {
            reads::<T3>(base);
            for _ in 0..3000 {
                let m = mutant(base, &mut next);
                let by_graph = graph::<T3>(&m).map(|v| format!("{v:?}"));
                if let Ok(a) = from_slice::<T3>(&m, 256, u64::MAX, usize::MAX) {
                    assert_eq!(
                        Ok(format!("{a:?}")),
                        by_graph.map_err(|e| e.to_string()),
                        "{m:?}"
                    );
                    direct_ok += 1;
                }
            }
        }
        assert!(direct_ok > 100, "only {direct_ok} mutants read directly");

        // Calls whose class is a memo GET the second time, into newtypes and into tuples of
        // their arguments: `[date(1980, 5, 7), date(1981, 1, 2)]` and the same in a dict,
        // as CPython 3.11 writes them, mutated; and a 2,000-item pickle of such calls
        // written by brine, truncated at every 7th byte.
        type Calls1 = (serde_bytes::ByteBuf,);
        let cpython: [&[u8]; 2] = [
            b"\x80\x04\x951\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94h\x03C\x04\x07\xbd\x01\x02\x94\x85\x94R\x94e.",
            b"\x80\x04\x959\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94\x8c\x01b\x94h\x04C\x04\x07\xbd\x01\x02\x94\x85\x94R\x94u.",
        ];
        let mut direct_ok = 0;
        for (i, base) in cpython.into_iter().enumerate() {
            for _ in 0..3000 {
                let m = mutant(base, &mut next);
                let check = |direct: super::Result<String>, by_graph: crate::Result<String>| {
                    if let Ok(a) = direct {
                        assert_eq!(Ok(a), by_graph.map_err(|e| e.to_string()), "{m:?}");
                        return 1;
                    }
                    0
                };
                if i == 0 {
                    let f = |v: &Vec<Date>| format!("{v:?}");
                    let g = |v: &Vec<(serde_bytes::ByteBuf,)>| format!("{v:?}");
                    direct_ok += check(
                        from_slice(&m, 256, u64::MAX, usize::MAX).map(|v| f(&v)),
                        graph(&m).map(|v| f(&v)),
                    );
                    direct_ok += check(
                        from_slice(&m, 256, u64::MAX, usize::MAX).map(|v| g(&v)),
                        graph(&m).map(|v| g(&v)),
                    );
                } else {
                    let f = |v: &BTreeMap<String, Date>| format!("{v:?}");
                    direct_ok += check(
                        from_slice(&m, 256, u64::MAX, usize::MAX).map(|v| f(&v)),
                        graph(&m).map(|v| f(&v)),
                    );
                }
            }
        }
        assert!(direct_ok > 100, "only {direct_ok} mutants read directly");
        // 2,500 calls in CPython's batches of 1000, the class a BINGET after the first: read
        // whole, and every 7th prefix declined without a panic.
        let mut calls = b"\x80\x04]\x94(\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94".to_vec();
        for i in 0..2500u32 {
            if i > 0 {
                if i % 1000 == 0 {
                    calls.extend_from_slice(b"e(");
                }
                calls.extend_from_slice(b"h\x03");
            }
            calls.push(b'C');
            calls.push(4);
            calls.extend_from_slice(&i.to_le_bytes());
            calls.extend_from_slice(b"\x85R");
        }
        calls.extend_from_slice(b"e.");
        assert_eq!(reads::<Vec<Date>>(&calls)[2499].0, 2499u32.to_le_bytes());
        assert_eq!(reads::<Vec<Calls1>>(&calls).len(), 2500);
        for end in (0..calls.len()).step_by(7) {
            assert!(from_slice::<Vec<Calls1>>(&calls[..end], 256, u64::MAX, usize::MAX).is_err());
        }
    }
}
