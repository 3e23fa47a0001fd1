//! The low-level pickle writer: one method per opcode form, with the framing of CPython's C
//! pickler (`_Pickler_Write`, `_Pickler_OpcodeBoundary`, `_Pickler_CommitFrame`,
//! `_Pickler_write_bytes` in `Modules/_pickle.c`).
//!
//! The [`Encoder`] knows nothing about values or the memo; it writes opcodes and their
//! arguments exactly as CPython 3.11 lays them out for the protocol it was made for.
//!
//! CPython opens a frame lazily, at the first write after a commit. Here the next frame is
//! opened as soon as one is committed (and by [`Encoder::start`]), so no write has to test
//! whether a frame is open. The bytes are the same: the early frame gets exactly the writes
//! the lazy one would, or none when a payload written outside frames (64 KiB or more) comes
//! first, and an empty frame is dropped like any frame shorter than 4 bytes.

use std::io::Write as _;

use crate::opcode::Opcode;

/// A frame is committed once it holds at least this many bytes (`FRAME_SIZE_TARGET`).
const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// Frames shorter than this are written without a FRAME opcode (`FRAME_SIZE_MIN`).
const FRAME_SIZE_MIN: usize = 4;
/// FRAME opcode plus its u64 length (`FRAME_HEADER_SIZE`).
const FRAME_HEADER_SIZE: usize = 9;

/// Writes pickle opcodes into a `Vec<u8>` for one protocol, framing like CPython.
///
/// A pickle is [`start`](Encoder::start), the opcodes of the value, then
/// [`finish`](Encoder::finish). Call [`opcode_boundary`](Encoder::opcode_boundary) where the
/// C pickler's `save()` begins: that is where a full frame (≥ 64 KiB) is committed.
///
/// ```
/// use brine_core::Encoder;
/// let mut e = Encoder::new(4);
/// e.start();
/// e.int(1);
/// e.finish();
/// assert_eq!(e.as_bytes(), b"\x80\x04K\x01.");
/// ```
#[derive(Clone, Debug)]
pub struct Encoder {
    out: Vec<u8>,
    proto: u8,
    /// Ints below this are written as BININT1: 256, or 0 at protocol 0 (one compare per int).
    bin1_below: u64,
    /// Framing on (protocol ≥ 4, between `start` and `finish`).
    framing: bool,
    /// Position of the reserved 9-byte header of the open frame.
    frame_start: Option<usize>,
    /// Output length at which the open frame is full (`usize::MAX` when none is open).
    frame_full_at: usize,
}

impl Encoder {
    /// An encoder for `protocol` (0–5; higher is treated as 5).
    pub fn new(protocol: u8) -> Self {
        Encoder::with_buffer(Vec::new(), protocol)
    }

    /// An encoder appending to `out`.
    pub fn with_buffer(out: Vec<u8>, protocol: u8) -> Self {
        let proto = protocol.min(crate::HIGHEST_PROTOCOL);
        Encoder {
            out,
            proto,
            bin1_below: if proto == 0 { 0 } else { 0x100 },
            framing: false,
            frame_start: None,
            frame_full_at: usize::MAX,
        }
    }

    /// The protocol written.
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.proto
    }

    /// The bytes written so far (an open frame's header is still zeros).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.out
    }

    /// Number of bytes written so far.
    #[inline]
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// True when nothing was written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Reserves room for `n` more bytes.
    pub fn reserve(&mut self, n: usize) {
        self.out.reserve(n);
    }

    /// Removes and returns the bytes written so far (call after [`finish`](Self::finish)).
    pub fn take(&mut self) -> Vec<u8> {
        debug_assert!(self.frame_start.is_none());
        std::mem::take(&mut self.out)
    }

    /// Clears the output, keeping its allocation, and stops framing (the next pickle begins
    /// with [`start`](Self::start)).
    pub fn clear(&mut self) {
        self.out.clear();
        self.frame_start = None;
        self.framing = false;
        self.frame_full_at = usize::MAX;
    }

    /// The output buffer.
    pub fn into_inner(mut self) -> Vec<u8> {
        self.close_frame();
        self.out
    }

    /// Begins a pickle: `PROTO n` (protocol ≥ 2) outside any frame, then framing (≥ 4).
    pub fn start(&mut self) {
        if self.proto >= 2 {
            self.out
                .extend_from_slice(&[Opcode::PROTO as u8, self.proto]);
        }
        self.framing = self.proto >= 4;
        if self.framing && self.frame_start.is_none() {
            self.open_frame();
        }
    }

    /// Ends a pickle: `STOP` inside the last frame, then commits it and stops framing.
    pub fn finish(&mut self) {
        self.op(Opcode::STOP);
        self.close_frame();
        self.framing = false;
    }

    /// `_Pickler_OpcodeBoundary`: commits the open frame when it holds ≥ 64 KiB.
    #[inline(always)]
    pub fn opcode_boundary(&mut self) {
        if self.out.len() >= self.frame_full_at {
            self.commit_frame();
        }
    }

    /// `_Pickler_CommitFrame`: fills in `FRAME <len>` for the open frame, or drops the
    /// reserved header when the frame is shorter than 4 bytes; then, while framing, opens the
    /// next frame.
    #[cold]
    #[inline(never)]
    pub fn commit_frame(&mut self) {
        self.close_frame();
        if self.framing {
            self.open_frame();
        }
    }

    /// Commits the open frame without opening another.
    fn close_frame(&mut self) {
        let Some(start) = self.frame_start.take() else {
            return;
        };
        self.frame_full_at = usize::MAX;
        let len = self.out.len() - start - FRAME_HEADER_SIZE;
        if len >= FRAME_SIZE_MIN {
            self.out[start] = Opcode::FRAME as u8;
            self.out[start + 1..start + FRAME_HEADER_SIZE]
                .copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + FRAME_HEADER_SIZE);
        }
    }

    /// Reserves the header of a new frame at the end of the output.
    fn open_frame(&mut self) {
        let start = self.out.len();
        self.frame_start = Some(start);
        self.frame_full_at = start + FRAME_HEADER_SIZE + FRAME_SIZE_TARGET;
        self.out.extend_from_slice(&[0; FRAME_HEADER_SIZE]);
    }

    /// Writes raw bytes (inside the current frame).
    #[inline(always)]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Writes an opcode without argument.
    #[inline(always)]
    pub fn op(&mut self, op: Opcode) {
        self.out.push(op as u8);
    }

    /// Writes an opcode `n` times.
    pub fn op_n(&mut self, op: Opcode, n: usize) {
        self.out.resize(self.out.len() + n, op as u8);
    }

    /// `_Pickler_write_bytes`: a header then a payload; payloads ≥ 64 KiB go outside frames
    /// (the open frame is committed first, and a new one follows the payload).
    fn header_payload(&mut self, header: &[u8], payload: &[u8]) {
        if payload.len() >= FRAME_SIZE_TARGET {
            self.close_frame();
            self.out.reserve(header.len() + payload.len());
            self.out.extend_from_slice(header);
            self.out.extend_from_slice(payload);
            if self.framing {
                self.open_frame();
            }
        } else {
            self.out.extend_from_slice(header);
            self.out.extend_from_slice(payload);
        }
    }

    /// `None`.
    #[inline]
    pub fn none(&mut self) {
        self.op(Opcode::NONE);
    }

    /// A bool: `NEWTRUE`/`NEWFALSE` (protocol ≥ 2) or `I01\n`/`I00\n`.
    pub fn bool(&mut self, b: bool) {
        if self.proto >= 2 {
            self.op(if b { Opcode::NEWTRUE } else { Opcode::NEWFALSE });
        } else {
            self.raw(if b { b"I01\n" } else { b"I00\n" });
        }
    }

    /// An int: BININT1/BININT2/BININT in the int32 range (INT text at protocol 0), else LONG1
    /// (protocol ≥ 2) or LONG text with `L`. Negative values never use BININT1/2.
    #[inline(always)]
    pub fn int(&mut self, v: i64) {
        if (v as u64) < self.bin1_below {
            self.raw(&[Opcode::BININT1 as u8, v as u8]);
        } else if self.proto != 0 && !(0..0x1_0000).contains(&v) && i32::try_from(v).is_ok() {
            // BININT: negative or above 0xffff, within the int32 range.
            let b = (v as i32).to_le_bytes();
            self.raw(&[Opcode::BININT as u8, b[0], b[1], b[2], b[3]]);
        } else {
            self.int_other(v);
        }
    }

    #[inline(never)]
    fn int_other(&mut self, v: i64) {
        if let Ok(small) = i32::try_from(v) {
            self.int32(small);
        } else if self.proto >= 2 {
            let bytes = v.to_le_bytes();
            let n = minimal_twos_complement_len(&bytes);
            self.long_bytes(&bytes[..n]);
        } else {
            self.long_text(&v.to_string());
        }
    }

    #[inline]
    fn int32(&mut self, v: i32) {
        if self.proto == 0 {
            let _ = writeln!(self.out, "I{v}");
        } else if (0..=0xff).contains(&v) {
            self.raw(&[Opcode::BININT1 as u8, v as u8]);
        } else if (0..=0xffff).contains(&v) {
            let b = (v as u16).to_le_bytes();
            self.raw(&[Opcode::BININT2 as u8, b[0], b[1]]);
        } else {
            let b = v.to_le_bytes();
            self.raw(&[Opcode::BININT as u8, b[0], b[1], b[2], b[3]]);
        }
    }

    /// LONG1 (< 256 bytes) or LONG4 with `bytes`, the minimal little-endian two's complement
    /// of the value (CPython's `encode_long`; empty for 0). Protocol ≥ 2.
    pub fn long_bytes(&mut self, bytes: &[u8]) {
        if bytes.len() < 256 {
            self.out
                .extend_from_slice(&[Opcode::LONG1 as u8, bytes.len() as u8]);
        } else {
            self.out.push(Opcode::LONG4 as u8);
            self.out
                .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        }
        self.out.extend_from_slice(bytes);
    }

    /// `L<decimal>L\n`: the text LONG of protocols 0 and 1.
    pub fn long_text(&mut self, decimal: &str) {
        self.out.push(Opcode::LONG as u8);
        self.out.extend_from_slice(decimal.as_bytes());
        self.out.extend_from_slice(b"L\n");
    }

    /// A float: BINFLOAT (big-endian) or, at protocol 0, `F<repr>\n`.
    #[inline(always)]
    pub fn float(&mut self, x: f64) {
        if self.proto == 0 {
            self.out.push(Opcode::FLOAT as u8);
            crate::text::push_float_repr(x, &mut self.out);
            self.out.push(b'\n');
        } else {
            // One 9-byte write: one capacity check instead of two.
            let mut op = [Opcode::BINFLOAT as u8; 9];
            op[1..].copy_from_slice(&x.to_be_bytes());
            self.out.extend_from_slice(&op);
        }
    }

    /// SHORT_BINUNICODE when the protocol (≥ 4) and length (≤ 255 bytes) allow it; returns
    /// false, writing nothing, otherwise.
    #[inline(always)]
    pub fn short_str(&mut self, utf8: &[u8]) -> bool {
        if utf8.len() > 0xff || self.proto < 4 {
            return false;
        }
        self.out.reserve(utf8.len() + 2);
        self.out
            .extend_from_slice(&[Opcode::SHORT_BINUNICODE as u8, utf8.len() as u8]);
        self.out.extend_from_slice(utf8);
        true
    }

    /// [`short_str`](Self::short_str) followed by MEMOIZE: the usual new str at protocol ≥ 4.
    /// Returns false, writing nothing, when the protocol or length does not allow it.
    #[inline(always)]
    pub fn short_str_memoize(&mut self, utf8: &[u8]) -> bool {
        let n = utf8.len();
        if n > 0xff || self.proto < 4 {
            return false;
        }
        if n <= SMALL_STR {
            // Most keys and short values: room for the longest such opcode is made (one
            // capacity check), filled in place with a few fixed-size copies (no `memcpy`
            // call) and cut to length. Nothing is assembled on the stack first: reading back
            // bytes just written piecewise stalls the store buffer.
            let start = self.out.len();
            self.out.extend_from_slice(&[0; SMALL_STR + 3]);
            let op = &mut self.out[start..];
            op[0] = Opcode::SHORT_BINUNICODE as u8;
            op[1] = n as u8;
            copy_small(&mut op[2..2 + SMALL_STR], utf8);
            op[2 + n] = Opcode::MEMOIZE as u8;
            self.out.truncate(start + n + 3);
        } else {
            self.out.reserve(n + 3);
            self.out
                .extend_from_slice(&[Opcode::SHORT_BINUNICODE as u8, n as u8]);
            self.out.extend_from_slice(utf8);
            self.out.push(Opcode::MEMOIZE as u8);
        }
        true
    }

    /// A str given as its UTF-8 (`surrogatepass`) bytes: SHORT_BINUNICODE (protocol ≥ 4,
    /// ≤ 255 bytes), BINUNICODE, BINUNICODE8 (> 4 GiB, protocol ≥ 4), or at protocol 0
    /// `V<raw-unicode-escape>\n`. Errors only for strings over 4 GiB below protocol 4.
    pub fn str_utf8(&mut self, utf8: &[u8]) -> Result<(), &'static str> {
        let n = utf8.len();
        if self.proto == 0 {
            self.out.reserve(n + 2);
            self.out.push(Opcode::UNICODE as u8);
            crate::text::push_raw_unicode_escape_p0(utf8, &mut self.out);
            self.out.push(b'\n');
        } else if n <= 0xff && self.proto >= 4 {
            self.header_payload(&[Opcode::SHORT_BINUNICODE as u8, n as u8], utf8);
        } else if n as u64 <= 0xffff_ffff {
            let mut h = [Opcode::BINUNICODE as u8, 0, 0, 0, 0];
            h[1..].copy_from_slice(&(n as u32).to_le_bytes());
            self.header_payload(&h, utf8);
        } else if self.proto >= 4 {
            let mut h = [Opcode::BINUNICODE8 as u8, 0, 0, 0, 0, 0, 0, 0, 0];
            h[1..].copy_from_slice(&(n as u64).to_le_bytes());
            self.header_payload(&h, utf8);
        } else {
            return Err("cannot serialize a string larger than 4GiB");
        }
        Ok(())
    }

    /// Bytes (protocol ≥ 3): SHORT_BINBYTES (≤ 255), BINBYTES, BINBYTES8 (> 4 GiB, protocol
    /// ≥ 4). Errors only for payloads over 4 GiB at protocol 3.
    pub fn bytes(&mut self, data: &[u8]) -> Result<(), &'static str> {
        let n = data.len();
        if n <= 0xff {
            self.header_payload(&[Opcode::SHORT_BINBYTES as u8, n as u8], data);
        } else if n as u64 <= 0xffff_ffff {
            let mut h = [Opcode::BINBYTES as u8, 0, 0, 0, 0];
            h[1..].copy_from_slice(&(n as u32).to_le_bytes());
            self.header_payload(&h, data);
        } else if self.proto >= 4 {
            let mut h = [Opcode::BINBYTES8 as u8, 0, 0, 0, 0, 0, 0, 0, 0];
            h[1..].copy_from_slice(&(n as u64).to_le_bytes());
            self.header_payload(&h, data);
        } else {
            return Err("cannot serialize a bytes object larger than 4 GiB");
        }
        Ok(())
    }

    /// BYTEARRAY8 (protocol 5).
    pub fn bytearray8(&mut self, data: &[u8]) {
        let mut h = [Opcode::BYTEARRAY8 as u8, 0, 0, 0, 0, 0, 0, 0, 0];
        h[1..].copy_from_slice(&(data.len() as u64).to_le_bytes());
        self.header_payload(&h, data);
    }

    /// Stores the stack top at memo index `idx`: MEMOIZE (protocol ≥ 4), BINPUT / LONG_BINPUT,
    /// or `p<idx>\n`.
    #[inline(always)]
    pub fn put(&mut self, idx: u32) {
        if self.proto >= 4 {
            self.op(Opcode::MEMOIZE);
        } else {
            self.put_old(idx);
        }
    }

    fn put_old(&mut self, idx: u32) {
        if self.proto >= 1 {
            if idx < 256 {
                self.raw(&[Opcode::BINPUT as u8, idx as u8]);
            } else {
                let b = idx.to_le_bytes();
                self.raw(&[Opcode::LONG_BINPUT as u8, b[0], b[1], b[2], b[3]]);
            }
        } else {
            let _ = writeln!(self.out, "p{idx}");
        }
    }

    /// Pushes memo entry `idx`: BINGET / LONG_BINGET, or `g<idx>\n` at protocol 0.
    #[inline(always)]
    pub fn get(&mut self, idx: u32) {
        if self.proto >= 1 {
            if idx < 256 {
                self.raw(&[Opcode::BINGET as u8, idx as u8]);
            } else {
                let b = idx.to_le_bytes();
                self.raw(&[Opcode::LONG_BINGET as u8, b[0], b[1], b[2], b[3]]);
            }
        } else {
            let _ = writeln!(self.out, "g{idx}");
        }
    }

    /// `c<module>\n<name>\n` (GLOBAL), names already encoded.
    pub fn global(&mut self, module: &[u8], name: &[u8]) {
        self.op_pair(Opcode::GLOBAL, module, name);
    }

    /// `i<module>\n<name>\n` (INST), names already encoded.
    pub fn inst(&mut self, module: &[u8], name: &[u8]) {
        self.op_pair(Opcode::INST, module, name);
    }

    fn op_pair(&mut self, op: Opcode, a: &[u8], b: &[u8]) {
        self.out.reserve(a.len() + b.len() + 3);
        self.out.push(op as u8);
        self.out.extend_from_slice(a);
        self.out.push(b'\n');
        self.out.extend_from_slice(b);
        self.out.push(b'\n');
    }

    /// `P<id>\n` (PERSID, protocol 0).
    pub fn persid(&mut self, id: &[u8]) {
        self.out.push(Opcode::PERSID as u8);
        self.out.extend_from_slice(id);
        self.out.push(b'\n');
    }

    /// EXT1 / EXT2 / EXT4 for an extension code (1..=0x7fffffff; protocol ≥ 2).
    pub fn ext(&mut self, code: i32) {
        if (0..=0xff).contains(&code) {
            self.raw(&[Opcode::EXT1 as u8, code as u8]);
        } else if (0..=0xffff).contains(&code) {
            let b = (code as u16).to_le_bytes();
            self.raw(&[Opcode::EXT2 as u8, b[0], b[1]]);
        } else {
            let b = code.to_le_bytes();
            self.raw(&[Opcode::EXT4 as u8, b[0], b[1], b[2], b[3]]);
        }
    }
}

/// Strings up to this many bytes take the fixed-size path of
/// [`Encoder::short_str_memoize`].
const SMALL_STR: usize = 32;

/// Copies `src` (at most `dst.len()` ≤ 32 bytes) to the start of `dst` with fixed-size copies
/// of its head and tail, which overlap in the middle, as `memcpy` does for short lengths; the
/// compiler turns each into a load and a store instead of a call.
#[inline(always)]
fn copy_small(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..n].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..n].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..n].copy_from_slice(&src[n - 4..]);
    } else if n > 0 {
        // 1 to 3 bytes: the first, the middle and the last cover them all.
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

/// Length of the minimal two's-complement prefix of little-endian `bytes` (at least 1).
pub fn minimal_twos_complement_len(bytes: &[u8]) -> usize {
    let mut n = bytes.len();
    while n > 1 {
        let top = bytes[n - 1];
        let next_sign = bytes[n - 2] & 0x80;
        if (top == 0 && next_sign == 0) || (top == 0xff && next_sign != 0) {
            n -= 1;
        } else {
            break;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_longs() {
        assert_eq!(minimal_twos_complement_len(&(-128i64).to_le_bytes()), 1);
        assert_eq!(minimal_twos_complement_len(&128i64.to_le_bytes()), 2);
        assert_eq!(minimal_twos_complement_len(&(1i64 << 31).to_le_bytes()), 5);
        assert_eq!(
            minimal_twos_complement_len(&(-(1i64 << 31) - 1).to_le_bytes()),
            5
        );
    }

    #[test]
    fn small_copies_cover_every_length() {
        let src: Vec<u8> = (1..=SMALL_STR as u8).collect();
        for n in 0..=SMALL_STR {
            let mut dst = [0u8; SMALL_STR];
            copy_small(&mut dst, &src[..n]);
            assert_eq!(&dst[..n], &src[..n], "length {n}");
            assert!(
                dst[n..].iter().all(|&b| b == 0),
                "length {n} wrote past its end"
            );
        }
    }

    #[test]
    fn short_str_memoize_matches_the_plain_forms() {
        for n in [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 200, 255, 256] {
            let s: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let mut fast = Encoder::new(4);
            fast.raw(b"ab");
            let took = fast.short_str_memoize(&s);
            assert_eq!(took, n <= 0xff, "length {n}");
            let mut plain = Encoder::new(4);
            plain.raw(b"ab");
            if took {
                plain.str_utf8(&s).unwrap();
                plain.op(Opcode::MEMOIZE);
            }
            assert_eq!(fast.as_bytes(), plain.as_bytes(), "length {n}");
        }
        let mut old = Encoder::new(3);
        assert!(!old.short_str_memoize(b"abc"));
        assert!(old.is_empty());
    }

    #[test]
    fn small_frame_is_dropped() {
        let mut e = Encoder::new(4);
        e.start();
        e.ext(0xf0);
        e.finish();
        assert_eq!(e.as_bytes(), b"\x80\x04\x82\xf0.");
    }
}
