//! `pickletools.optimize`: drop the memo stores nobody reads, byte for byte as CPython 3.11.
//!
//! [`optimize`] walks the opcodes of the **first** pickle in `data` (up to and including its
//! STOP; anything after it is ignored, as `pickletools.optimize` ignores it) and writes:
//!
//! * the PROTO header, if the pickle starts with one, first and unframed;
//! * every PUT / BINPUT / LONG_BINPUT / MEMOIZE whose index some GET / BINGET / LONG_BINGET
//!   fetches, renumbered densely in order, in the form `pickle._Pickler.put` writes (MEMOIZE at
//!   protocol ≥ 4, BINPUT / LONG_BINPUT at 1–3, `PUT n\n` at 0); the others are dropped;
//! * every GET rewritten with the new index in the form `pickle._Pickler.get` writes;
//! * every other opcode copied unchanged, except FRAME, which is dropped; at protocol ≥ 4 the
//!   output is re-framed with `pickle._Framer`'s rules (a frame is committed at the first opcode
//!   boundary at or past 64 KiB; an opcode longer than 64 KiB is written unframed; a frame under
//!   4 bytes gets no FRAME header).
//!
//! "Protocol" here is pickletools' notion: the highest of the PROTO arguments and of the GET
//! opcodes' own protocols (GET 0, BINGET / LONG_BINGET 1) — other opcodes do not count.
//!
//! The opcodes are read with pickletools' own argument readers (those of [`crate::dis`]), so the
//! input that `pickletools.optimize` rejects is rejected here with the same message, e.g.
//! `pickle exhausted before seeing STOP`. Its other failures are reproduced too: a PROTO above 5
//! (`pickle protocol must be <= 5`) and, at protocol ≥ 1, a GET of an index that no earlier
//! kept PUT stored (Python's `TypeError` from `pickler.get(None)`; at protocol 0 it writes
//! `GNone\n`, and so does brine).
//!
//! No recursion; memory is the output plus the set of memo indices.
//!
//! ```
//! // `[1, 'ab', ('ab',)]` at protocol 4: the list's and the tuple's MEMOIZE are dropped.
//! let p = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x02ab\x94h\x01\x85\x94e.";
//! let o = brine::optimize::optimize(p)?;
//! assert_eq!(&o[..], &b"\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00](K\x01\x8c\x02ab\x94h\x00\x85e."[..]);
//! # Ok::<(), brine::Error>(())
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use brine_core::{ArgKind, Category, Error, Opcode, Result};

use crate::dis::{read_instruction, MemoKey};

/// `pickle._Framer._FRAME_SIZE_TARGET`.
const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// `pickle._Framer._FRAME_SIZE_MIN`.
const FRAME_SIZE_MIN: usize = 4;
/// FRAME opcode plus its 8-byte length.
const FRAME_HEADER: usize = 9;

/// Returns exactly the bytes of CPython 3.11's `pickletools.optimize(data)`.
///
/// See the [module documentation](self) for what is kept, how it is renumbered and framed, and
/// which inputs fail.
pub fn optimize(data: &[u8]) -> Result<Vec<u8>> {
    let shapes = shapes();
    // Pass 1: which indices are fetched, and the protocol.
    let mut oldids: KeyMap<()> = KeyMap::default();
    let mut newids: KeyMap<Option<u64>> = KeyMap::default();
    let mut proto: u8 = 0;
    let mut header_end = 0usize;
    let mut pos = 0usize;
    // Where the memo and FRAME opcodes are: pass 2 handles these and copies what lies between.
    let mut events: Vec<usize> = Vec::new();
    loop {
        let (code, arg, end) = step(data, pos, shapes)?;
        match code {
            PUT | BINPUT | LONG_BINPUT => {
                events.push(pos);
                oldids.insert(arg, ());
            }
            MEMOIZE => {
                events.push(pos);
                oldids.insert(MemoKey::Int(oldids.len as i64), ());
            }
            GET | BINGET | LONG_BINGET => {
                events.push(pos);
                proto = proto.max(u8::from(code != GET));
                newids.insert(arg, None);
            }
            FRAME => events.push(pos),
            PROTO => {
                if let MemoKey::Int(v) = arg {
                    proto = proto.max(v as u8);
                }
                if pos == 0 {
                    header_end = end;
                }
            }
            _ => {}
        }
        pos = end;
        if code == STOP {
            break;
        }
    }
    let stop_end = pos;
    if proto > brine_core::HIGHEST_PROTOCOL {
        return Err(Error::msg(
            Category::Unsupported,
            format!(
                "pickle protocol must be <= {}",
                brine_core::HIGHEST_PROTOCOL
            ),
        ));
    }

    // Pass 2: the same opcodes again, written through an emulated `pickle._Pickler`: the memo
    // and FRAME opcodes one by one, the opcodes between them copied unchanged.
    let mut out = Out::new(
        Vec::with_capacity(stop_end + FRAME_HEADER * (stop_end / FRAME_SIZE_TARGET + 2)),
        proto >= 4,
    );
    out.buf.extend_from_slice(&data[..header_end]);
    out.start_framing();
    oldids.clear();
    let mut idx: u64 = 0;
    let mut small = [0u8; 24];
    let mut copied = header_end;
    for pos in events {
        copy_plain(&mut out, data, copied, pos, shapes)?;
        // Pass 1 checked every argument up to STOP, so `step` cannot fail differently here.
        let (code, arg, end) = step(data, pos, shapes)?;
        copied = end;
        match code {
            PUT | BINPUT | LONG_BINPUT | MEMOIZE => {
                let key = if code == MEMOIZE {
                    MemoKey::Int(oldids.len as i64)
                } else {
                    arg
                };
                oldids.insert(key.clone(), ());
                if newids.get(&key).is_some() {
                    let n = put(proto, idx, &mut small)?;
                    newids.insert(key, Some(idx));
                    idx += 1;
                    out.commit_frame(false);
                    out.write(&small[..n]);
                }
            }
            GET | BINGET | LONG_BINGET => {
                let new = newids.get(&arg).flatten();
                let n = get(proto, new, &mut small)?;
                out.commit_frame(false);
                out.write(&small[..n]);
            }
            _ => {} // FRAME: the output is framed anew.
        }
    }
    copy_plain(&mut out, data, copied, stop_end, shapes)?;
    out.end_framing();
    Ok(out.buf)
}

/// Copies the opcodes of `data[from..to]`, none of them a memo opcode or FRAME, with
/// `pickle._Framer`'s rules: a frame is committed at the first opcode boundary where it holds
/// 64 KiB, and an opcode longer than that is written outside any frame.
fn copy_plain(
    out: &mut Out,
    data: &[u8],
    from: usize,
    to: usize,
    shapes: &[Shape; 256],
) -> Result<()> {
    // The opcode boundaries inside the span all lie before `to`: if the frame stays within the
    // target up to `to`, none of them commits it and no opcode in the span is oversized.
    if !out.framing || out.frame_len() + (to - from) <= FRAME_SIZE_TARGET {
        out.write(&data[from..to]);
        return Ok(());
    }
    let (mut run, mut pos) = (from, from);
    while pos < to {
        let (_, _, end) = step(data, pos, shapes)?;
        if end - pos > FRAME_SIZE_TARGET {
            out.write(&data[run..pos]);
            run = end;
            out.commit_frame(true);
            out.file_write(&data[pos..end]);
        } else if out.frame_len() + (pos - run) >= FRAME_SIZE_TARGET {
            out.write(&data[run..pos]);
            run = pos;
            out.commit_frame(false);
        }
        pos = end;
    }
    out.write(&data[run..to]);
    Ok(())
}

const PUT: u8 = Opcode::PUT as u8;
const BINPUT: u8 = Opcode::BINPUT as u8;
const LONG_BINPUT: u8 = Opcode::LONG_BINPUT as u8;
const MEMOIZE: u8 = Opcode::MEMOIZE as u8;
const GET: u8 = Opcode::GET as u8;
const BINGET: u8 = Opcode::BINGET as u8;
const LONG_BINGET: u8 = Opcode::LONG_BINGET as u8;
const PROTO: u8 = Opcode::PROTO as u8;
const FRAME: u8 = Opcode::FRAME as u8;
const STOP: u8 = Opcode::STOP as u8;

/// How an opcode's argument is measured, per opcode byte: the table behind [`step`]'s fast
/// path.
#[derive(Clone, Copy)]
enum Shape {
    /// Unknown opcodes, text arguments: for [`read_instruction`].
    Slow,
    /// A fixed-size argument of this many bytes.
    Fixed(u8),
    /// A length of `width` bytes, at most `max`, then that many bytes (to be ASCII if `text`).
    Counted { width: u8, max: u64, text: bool },
}

fn shapes() -> &'static [Shape; 256] {
    static SHAPES: OnceLock<[Shape; 256]> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let mut t = [Shape::Slow; 256];
        for (b, slot) in t.iter_mut().enumerate() {
            let Some(op) = Opcode::from_byte(b as u8) else {
                continue;
            };
            let counted = |width, max, text| Shape::Counted { width, max, text };
            *slot = match op.arg() {
                ArgKind::None => Shape::Fixed(0),
                ArgKind::U1 => Shape::Fixed(1),
                ArgKind::U2 => Shape::Fixed(2),
                ArgKind::U4 | ArgKind::I4 => Shape::Fixed(4),
                ArgKind::U8 | ArgKind::F8 => Shape::Fixed(8),
                ArgKind::Long1 | ArgKind::String1 | ArgKind::Bytes1 => counted(1, u64::MAX, false),
                ArgKind::Unicode1 => counted(1, u64::MAX, true),
                ArgKind::Long4 | ArgKind::String4 => counted(4, i32::MAX as u64, false),
                ArgKind::Bytes4 => counted(4, u64::MAX, false),
                ArgKind::Unicode4 => counted(4, u64::MAX, true),
                ArgKind::Bytes8 | ArgKind::ByteArray8 => counted(8, i64::MAX as u64, false),
                ArgKind::Unicode8 => counted(8, i64::MAX as u64, true),
                _ => Shape::Slow,
            };
        }
        t
    })
}

/// One instruction, for both passes: the opcode byte, the argument a pass needs (the memo
/// index of PUT / GET, PROTO's version; meaningless for other opcodes) and where it ends.
///
/// The binary opcodes are measured and checked here from [`shapes`] without building their
/// argument, which only `dis` prints. Anything else — a text argument, non-ASCII text, an
/// argument cut short or out of range, an unknown opcode — goes through [`read_instruction`],
/// which accepts and rejects exactly what pickletools does, with its wording.
#[inline(always)]
fn step(data: &[u8], pos: usize, shapes: &[Shape; 256]) -> Result<(u8, MemoKey, usize)> {
    if let Some((code, arg, end)) = quick(data, pos, shapes) {
        return Ok((code, MemoKey::Int(arg as i64), end));
    }
    let (op, val, end) = read_instruction(data, pos)?;
    Ok((op as u8, val.memo_key(), end))
}

#[inline(always)]
fn quick(data: &[u8], pos: usize, shapes: &[Shape; 256]) -> Option<(u8, u64, usize)> {
    let code = *data.get(pos)?;
    let at = pos + 1;
    match shapes[usize::from(code)] {
        Shape::Fixed(n) => {
            let end = at + usize::from(n);
            let arg = match n {
                1 => u64::from(*data.get(at)?),
                4 => u64::from(u32::from_le_bytes(data.get(at..end)?.try_into().ok()?)),
                _ => 0,
            };
            (end <= data.len()).then_some((code, arg, end))
        }
        Shape::Counted { width, max, text } => {
            let start = at + usize::from(width);
            let mut w = [0u8; 8];
            w[..usize::from(width)].copy_from_slice(data.get(at..start)?);
            let n = u64::from_le_bytes(w);
            if n > max {
                return None;
            }
            let end = start.checked_add(usize::try_from(n).ok()?)?;
            let payload = data.get(start..end)?;
            // Non-ASCII text needs pickletools' own UTF-8 check (and its error text).
            if text && !payload.is_ascii() {
                return None;
            }
            Some((code, 0, end))
        }
        Shape::Slow => None,
    }
}

/// `pickle._Pickler.put(idx)`, written into `buf`; returns its length.
fn put(proto: u8, idx: u64, buf: &mut [u8; 24]) -> Result<usize> {
    if proto >= 4 {
        buf[0] = Opcode::MEMOIZE as u8;
        Ok(1)
    } else if proto >= 1 {
        binary(idx, Opcode::BINPUT, Opcode::LONG_BINPUT, buf)
    } else {
        Ok(text(b'p', &idx.to_string(), buf))
    }
}

/// `pickle._Pickler.get(i)`; `None` is an index that was never (or not yet) renumbered.
fn get(proto: u8, i: Option<u64>, buf: &mut [u8; 24]) -> Result<usize> {
    match i {
        Some(i) if proto >= 1 => binary(i, Opcode::BINGET, Opcode::LONG_BINGET, buf),
        Some(i) => Ok(text(b'g', &i.to_string(), buf)),
        None if proto >= 1 => Err(Error::msg(
            Category::Data,
            "'<' not supported between instances of 'NoneType' and 'int'",
        )),
        None => Ok(text(b'g', "None", buf)),
    }
}

fn binary(i: u64, short: Opcode, long: Opcode, buf: &mut [u8; 24]) -> Result<usize> {
    if i < 256 {
        buf[0] = short as u8;
        buf[1] = i as u8;
        Ok(2)
    } else {
        let i = u32::try_from(i).map_err(|_| {
            Error::msg(
                Category::Limit,
                "'I' format requires 0 <= number <= 4294967295",
            )
        })?;
        buf[0] = long as u8;
        buf[1..5].copy_from_slice(&i.to_le_bytes());
        Ok(5)
    }
}

fn text(code: u8, digits: &str, buf: &mut [u8; 24]) -> usize {
    buf[0] = code;
    buf[1..1 + digits.len()].copy_from_slice(digits.as_bytes());
    buf[1 + digits.len()] = b'\n';
    digits.len() + 2
}

/// The output with `pickle._Framer` emulated in place: while framing, the current frame is the
/// tail of `buf` after a 9-byte placeholder at `frame_start`, filled in (or removed, for a frame
/// under 4 bytes) when the frame is committed.
struct Out {
    buf: Vec<u8>,
    framing: bool,
    frame_start: usize,
}

impl Out {
    fn new(buf: Vec<u8>, framing: bool) -> Self {
        Out {
            buf,
            framing,
            frame_start: 0,
        }
    }

    fn start_framing(&mut self) {
        if self.framing {
            self.frame_start = self.buf.len();
            self.buf.extend_from_slice(&[0; FRAME_HEADER]);
        }
    }

    fn frame_len(&self) -> usize {
        self.buf.len() - self.frame_start - FRAME_HEADER
    }

    fn commit_frame(&mut self, force: bool) {
        if !self.framing {
            return;
        }
        let len = self.frame_len();
        if len >= FRAME_SIZE_TARGET || force {
            if len >= FRAME_SIZE_MIN {
                let h = &mut self.buf[self.frame_start..self.frame_start + FRAME_HEADER];
                h[0] = Opcode::FRAME as u8;
                h[1..].copy_from_slice(&(len as u64).to_le_bytes());
            } else {
                self.buf
                    .drain(self.frame_start..self.frame_start + FRAME_HEADER);
            }
            self.start_framing();
        }
    }

    fn write(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Writes past the framer; only called right after a forced commit (an empty frame).
    fn file_write(&mut self, data: &[u8]) {
        if self.framing {
            self.buf.truncate(self.frame_start);
            self.buf.extend_from_slice(data);
            self.start_framing();
        } else {
            self.buf.extend_from_slice(data);
        }
    }

    fn end_framing(&mut self) {
        if self.framing {
            self.commit_frame(true);
            self.buf.truncate(self.frame_start);
            self.framing = false;
        }
    }
}

/// A dict keyed by Python ints: dense for small non-negative keys, hashed for the rest (a
/// hostile index never sizes an allocation: the dense part grows only with the entry count).
struct KeyMap<V> {
    dense: Vec<Option<V>>,
    sparse: HashMap<MemoKey, V>,
    len: usize,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            dense: Vec::new(),
            sparse: HashMap::new(),
            len: 0,
        }
    }
}

impl<V: Copy> KeyMap<V> {
    fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
        self.len = 0;
    }

    fn dense_slot(&self, key: &MemoKey) -> Option<usize> {
        match *key {
            MemoKey::Int(k) if k >= 0 && (k as u64) < 2 * self.len as u64 + 1024 => {
                Some(k as usize)
            }
            _ => None,
        }
    }

    fn get(&self, key: &MemoKey) -> Option<V> {
        if let MemoKey::Int(k) = *key {
            if let Some(Some(v)) = usize::try_from(k).ok().and_then(|k| self.dense.get(k)) {
                return Some(*v);
            }
        }
        if self.sparse.is_empty() {
            return None;
        }
        self.sparse.get(key).copied()
    }

    /// `d[key] = v`.
    fn insert(&mut self, key: MemoKey, v: V) {
        // The usual case: keys 0, 1, 2, ... stored in order (every MEMOIZE, most PUTs).
        if let MemoKey::Int(k) = key {
            if self.len == self.dense.len() && k as u64 == self.len as u64 && self.sparse.is_empty()
            {
                self.dense.push(Some(v));
                self.len += 1;
                return;
            }
        }
        if let MemoKey::Int(k) = key {
            if let Some(slot) = usize::try_from(k).ok().and_then(|k| self.dense.get_mut(k)) {
                if slot.is_some() {
                    *slot = Some(v);
                    return;
                }
            }
        }
        if !self.sparse.is_empty() {
            if let Some(slot) = self.sparse.get_mut(&key) {
                *slot = v;
                return;
            }
        }
        match self.dense_slot(&key) {
            Some(i) if i == self.dense.len() => self.dense.push(Some(v)),
            Some(i) => {
                if i > self.dense.len() {
                    self.dense.resize_with(i + 1, || None);
                }
                self.dense[i] = Some(v);
            }
            None => {
                self.sparse.insert(key, v);
            }
        }
        self.len += 1;
    }
}
