//! The instruction decoder: a pickle byte stream as a sequence of opcodes with their arguments,
//! in the spirit of `pickletools.genops`.

use std::marker::PhantomData;

use crate::error::{Error, ErrorCode, Result};
use crate::limits::Limits;
use crate::opcode::{ArgKind, Opcode};
use crate::read::{IoRead, Read, Ref, SliceRead};

/// The argument of one instruction, decoded only as far as its layout says.
///
/// Text arguments are handed over raw (without the trailing `\n`); the [`text`](crate::text)
/// module parses them. Length-prefixed data is borrowed from a slice input.
#[derive(Debug)]
pub enum Arg<'de, 's> {
    /// No argument.
    None,
    /// `uint1`, `uint2`, `uint4` and `int4` arguments.
    Int(i64),
    /// A `uint8` argument (FRAME).
    U64(u64),
    /// A `float8` argument (BINFLOAT).
    Float(f64),
    /// Length-prefixed data (bytes, UTF-8, Python 2 strings, LONG1/LONG4 two's complement)
    /// or one text line without its newline.
    Data(Ref<'de, 's>),
    /// Two text lines (GLOBAL, INST): the buffer holds `first\nsecond`, the index is the `\n`.
    Pair(Ref<'de, 's>, usize),
}

impl<'de, 's> Arg<'de, 's> {
    /// The integer argument, or 0.
    #[inline]
    pub fn int(&self) -> i64 {
        match self {
            Arg::Int(i) => *i,
            Arg::U64(u) => *u as i64,
            _ => 0,
        }
    }

    /// The data or line argument, or an empty slice.
    #[inline]
    pub fn data(&self) -> &[u8] {
        match self {
            Arg::Data(d) => d,
            Arg::Pair(d, _) => d,
            _ => &[],
        }
    }

    /// The two lines of a pair argument.
    #[inline]
    pub fn pair(&self) -> (&[u8], &[u8]) {
        match self {
            Arg::Pair(d, i) => (&d[..*i], &d[*i + 1..]),
            _ => (&[], &[]),
        }
    }

    /// The data argument with the input's lifetime, when it was borrowed from a slice.
    #[inline]
    pub fn borrowed(&self) -> Option<&'de [u8]> {
        match self {
            Arg::Data(Ref::Borrowed(b)) => Some(b),
            _ => None,
        }
    }
}

/// One decoded instruction.
#[derive(Debug)]
pub struct Instruction<'de, 's> {
    /// The opcode.
    pub op: Opcode,
    /// Byte offset of the opcode in the stream.
    pub offset: u64,
    /// Its argument.
    pub arg: Arg<'de, 's>,
}

/// Turns bytes into [`Instruction`]s, one at a time, checking argument layout and lengths.
///
/// It does not interpret the stream (no stack, no memo): that is the unpickler's job, and the
/// scanner's. It never allocates on a declared length.
///
/// ```
/// use brine_core::{Decoder, Opcode};
/// let mut d = Decoder::new(b"\x80\x04K\x05.");
/// let mut ops = Vec::new();
/// while let Some(ins) = d.next_instruction()? {
///     ops.push(ins.op);
/// }
/// assert_eq!(ops, [Opcode::PROTO, Opcode::BININT1, Opcode::STOP]);
/// # Ok::<(), brine_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Decoder<'de, R = SliceRead<'de>> {
    read: R,
    limits: Limits,
    _de: PhantomData<&'de [u8]>,
}

impl<'de> Decoder<'de, SliceRead<'de>> {
    /// A decoder over a byte slice, with default limits.
    pub fn new(data: &'de [u8]) -> Self {
        Decoder::with_read(SliceRead::new(data), Limits::default())
    }
}

impl<R: std::io::Read> Decoder<'static, IoRead<R>> {
    /// A decoder over an `io::Read` (wrap unbuffered sources in `BufReader`).
    pub fn from_reader(reader: R) -> Self {
        Decoder::with_read(IoRead::new(reader), Limits::default())
    }
}

impl<'de, R: Read<'de>> Decoder<'de, R> {
    /// A decoder over any source with the given limits.
    pub fn with_read(read: R, limits: Limits) -> Self {
        Decoder {
            read,
            limits,
            _de: PhantomData,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Replaces the limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Bytes consumed so far.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.read.offset()
    }

    /// The underlying source.
    pub fn get_ref(&self) -> &R {
        &self.read
    }

    /// The underlying source, mutably (to move a slice source after a fast path).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.read
    }

    /// Gives the underlying source back.
    pub fn into_inner(self) -> R {
        self.read
    }

    /// The next instruction, or `None` when the input ends exactly at an opcode boundary.
    #[inline]
    pub fn next_instruction(&mut self) -> Result<Option<Instruction<'de, '_>>> {
        let offset = self.read.offset();
        let Some(b) = self.read.next_byte()? else {
            return Ok(None);
        };
        let Some(op) = Opcode::from_byte(b) else {
            return Err(Error::new(ErrorCode::UnknownOpcode(b)).at(offset));
        };
        match self.arg(op) {
            Ok(arg) => Ok(Some(Instruction { op, offset, arg })),
            Err(e) => Err(e.at(offset).with_opcode(op)),
        }
    }

    #[inline]
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        let r = self.read.read_exact(N as u64)?;
        let mut a = [0u8; N];
        a.copy_from_slice(&r);
        Ok(a)
    }

    #[inline]
    fn arg(&mut self, op: Opcode) -> Result<Arg<'de, '_>> {
        let max_line = self.limits.max_line;
        Ok(match op.arg() {
            ArgKind::None => Arg::None,
            ArgKind::U1 => Arg::Int(self.fixed::<1>()?[0] as i64),
            ArgKind::U2 => Arg::Int(u16::from_le_bytes(self.fixed()?) as i64),
            ArgKind::U4 => Arg::Int(u32::from_le_bytes(self.fixed()?) as i64),
            ArgKind::I4 => Arg::Int(i32::from_le_bytes(self.fixed()?) as i64),
            ArgKind::U8 => {
                let n = u64::from_le_bytes(self.fixed()?);
                if op == Opcode::FRAME {
                    check_size(n, op)?;
                    if let Some(left) = self.read.remaining() {
                        if n > left {
                            return Err(Error::truncated());
                        }
                    }
                }
                Arg::U64(n)
            }
            ArgKind::F8 => Arg::Float(f64::from_be_bytes(self.fixed()?)),
            ArgKind::Long1 | ArgKind::String1 | ArgKind::Bytes1 | ArgKind::Unicode1 => {
                let n = self.fixed::<1>()?[0] as u64;
                Arg::Data(self.read.read_exact(n)?)
            }
            ArgKind::Long4 | ArgKind::String4 => {
                let n = i32::from_le_bytes(self.fixed()?);
                if n < 0 {
                    let what = if op == Opcode::LONG4 {
                        "LONG"
                    } else {
                        "BINSTRING"
                    };
                    return Err(Error::data(format!(
                        "{what} pickle has negative byte count"
                    )));
                }
                Arg::Data(self.read.read_exact(n as u64)?)
            }
            ArgKind::Bytes4 | ArgKind::Unicode4 => {
                let n = u32::from_le_bytes(self.fixed()?) as u64;
                Arg::Data(self.read.read_exact(n)?)
            }
            ArgKind::Bytes8 | ArgKind::Unicode8 | ArgKind::ByteArray8 => {
                let n = u64::from_le_bytes(self.fixed()?);
                check_size(n, op)?;
                Arg::Data(self.read.read_exact(n)?)
            }
            ArgKind::DecimalNlShort
            | ArgKind::DecimalNlLong
            | ArgKind::FloatNl
            | ArgKind::StringNl
            | ArgKind::StringNlNoEscape
            | ArgKind::UnicodeNl => Arg::Data(self.read.read_line(max_line)?),
            ArgKind::StringNlNoEscapePair => {
                let (d, i) = self.read.read_line_pair(max_line)?;
                Arg::Pair(d, i)
            }
        })
    }
}

#[inline]
fn check_size(n: u64, op: Opcode) -> Result<()> {
    if n > isize::MAX as u64 {
        return Err(Error::data(format!(
            "{} exceeds system's maximum size of {} bytes",
            op.name(),
            isize::MAX
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Category;

    fn ops(data: &[u8]) -> Result<Vec<Opcode>> {
        let mut d = Decoder::new(data);
        let mut v = Vec::new();
        while let Some(i) = d.next_instruction()? {
            v.push(i.op);
        }
        Ok(v)
    }

    #[test]
    fn pairs_and_lines() {
        let mut d = Decoder::new(b"cos\nsystem\nI12\n.");
        let i = d.next_instruction().unwrap().unwrap();
        assert_eq!(i.arg.pair(), (&b"os"[..], &b"system"[..]));
        let i = d.next_instruction().unwrap().unwrap();
        assert_eq!(i.arg.data(), b"12");
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        let mut p = vec![0x8e];
        p.extend_from_slice(&(1u64 << 62).to_le_bytes());
        let e = ops(&p).unwrap_err();
        assert_eq!(e.classify(), Category::Eof);
        let mut r = Decoder::from_reader(&p[..]);
        assert_eq!(r.next_instruction().unwrap_err().classify(), Category::Eof);
    }

    #[test]
    fn every_prefix_is_eof() {
        let p = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x8c\x03abc\x94cx\ny\n.";
        for n in 1..p.len() {
            if let Err(e) = ops(&p[..n]) {
                assert_eq!(e.classify(), Category::Eof, "prefix {n}: {e}");
            }
        }
    }

    #[test]
    fn unknown_opcode_message() {
        let e = ops(b"N\xff").unwrap_err();
        assert_eq!(e.to_string(), "invalid load key, '\\xff' at offset 1");
    }
}
