//! `pickletools.dis`: a symbolic disassembly of a pickle, byte for byte what CPython 3.11 prints.
//!
//! The output, the sanity checks (stack and mark emulation, memo use) and the error messages
//! follow `pickletools.py` of CPython 3.11 (`dis`, `_genops` and the argument readers), so
//! `python3 -m pickletools [-a] [-l N] FILE` and [`dis`] print the same bytes. When pickletools
//! raises, brine prints what pickletools printed before raising and returns an [`Error`] whose
//! `to_string()` is the Python exception's message (no offset suffix), e.g.
//! `memo key 5 has never been stored into`.
//!
//! ```
//! use brine::dis::{dis, DisOptions};
//! let mut out = Vec::new();
//! let end = dis(b"\x80\x04K\x05.", &mut out, &DisOptions::default())?;
//! assert_eq!(end, 5);
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "    0: \\x80 PROTO      4\n    2: K    BININT1    5\n    4: .    STOP\n\
//!      highest protocol among opcodes = 2\n"
//! );
//! # Ok::<(), brine::Error>(())
//! ```
//!
//! The argument readers are pickletools' own rather than [`brine_core::Decoder`]: pickletools
//! decodes some arguments differently from the unpickler (`PERSID` and `GLOBAL` lines are
//! escape-decoded, `PUT` lines go through `int()`), and it words its errors its own way.

use std::collections::HashMap;
use std::io;
use std::io::Write as _;
use std::sync::OnceLock;

use brine_core::text::{
    decode_raw_unicode_escape, decode_string_escape, float_repr, int_to_decimal, latin1_to_utf8,
    parse_float_literal, repr_bytes, repr_str, validate_utf8_surrogatepass, INT_MAX_STR_DIGITS,
};
use brine_core::{ArgKind, Category, Error, Opcode, Result};

/// How to disassemble: the knobs of `pickletools.dis` and of `python -m pickletools`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisOptions {
    /// Column hint for the one-line opcode descriptions; 0 leaves them out (the CLI's `-a` is 30).
    pub annotate: usize,
    /// Blanks per open MARK (the CLI's `-l`, default 4).
    pub indent: usize,
    /// Keep the memo from one pickle to the next (the CLI's `-m`).
    pub memo: bool,
}

impl Default for DisOptions {
    fn default() -> Self {
        DisOptions {
            annotate: 0,
            indent: 4,
            memo: false,
        }
    }
}

/// Disassembles the pickle at the start of `data` into `out`; returns the offset after its STOP.
///
/// See the [module documentation](self) for what is printed when the pickle is malformed.
pub fn dis<W: io::Write + ?Sized>(data: &[u8], out: &mut W, opts: &DisOptions) -> Result<usize> {
    Disassembler::new(opts.clone()).dis_at(data, 0, out)
}

/// A disassembler that can walk several pickles, keeping the memo between them when
/// [`DisOptions::memo`] is set (as `pickletools.dis(f, memo=memo)` called repeatedly does).
#[derive(Debug)]
pub struct Disassembler {
    opts: DisOptions,
    memo: Memo,
}

/// What the emulated stack holds: pickletools' stack-object names (`"mark"` is the markobject).
type Obj = &'static str;

const MARK: Obj = "mark";

/// The bytes printed so far are kept here and written out in large pieces.
const FLUSH_AT: usize = 1 << 16;

impl Disassembler {
    /// A disassembler with these options and an empty memo.
    pub fn new(opts: DisOptions) -> Self {
        Disassembler {
            opts,
            memo: Memo::default(),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &DisOptions {
        &self.opts
    }

    /// Disassembles the pickle that starts at `data[start..]`; offsets are printed relative to
    /// `data[0]`, like `tell()` on a file. Returns the offset after the pickle's STOP.
    pub fn dis_at<W: io::Write + ?Sized>(
        &mut self,
        data: &[u8],
        start: usize,
        out: &mut W,
    ) -> Result<usize> {
        if !self.opts.memo {
            self.memo.clear();
        }
        let mut buf = Vec::new();
        let r = self.run(data, start, &mut buf, out);
        out.write_all(&buf)?;
        r
    }

    /// Disassembles every pickle in `data`, one after the other, until the input is used up.
    pub fn dis_all<W: io::Write + ?Sized>(&mut self, data: &[u8], out: &mut W) -> Result<()> {
        let mut pos = 0;
        while pos < data.len() {
            pos = self.dis_at(data, pos, out)?;
        }
        Ok(())
    }

    fn run<W: io::Write + ?Sized>(
        &mut self,
        data: &[u8],
        start: usize,
        buf: &mut Vec<u8>,
        out: &mut W,
    ) -> Result<usize> {
        let effects = effects();
        let indent = " ".repeat(self.opts.indent);
        let annotate = self.opts.annotate;
        let mut stack: Vec<Obj> = Vec::new();
        let mut markstack: Vec<usize> = Vec::new();
        let mut maxproto = -1i32;
        let mut annocol = annotate;
        let mut pos = start.min(data.len());
        loop {
            if buf.len() >= FLUSH_AT {
                out.write_all(buf)?;
                buf.clear();
            }
            let (op, arg, next) = read_instruction(data, pos)?;
            let info = op.info();
            let effect = &effects[op.byte() as usize];
            push_pos(buf, pos);
            let line_start = buf.len();
            push_code_repr(buf, op.byte());
            buf.push(b' ');
            for _ in 0..markstack.len() {
                buf.put(&indent);
            }
            buf.put(info.name);
            maxproto = maxproto.max(i32::from(info.proto));

            let mut after: &[Obj] = &effect.after;
            let got: [Obj; 1];
            let mut numtopop = effect.before.len();
            let mut errormsg: Option<String> = None;
            let mut markmsg: Option<MarkMsg> = None;
            if effect.pops_mark || (op == Opcode::POP && stack.last() == Some(&MARK)) {
                if let Some(markpos) = markstack.pop() {
                    markmsg = Some(MarkMsg::At(markpos));
                    // Pop everything at and after the topmost markobject.
                    loop {
                        match stack.last() {
                            // pickletools' `stack[-1]` on an empty list: the mark went away
                            // through an ordinary pop (e.g. `(\x85t`).
                            None => {
                                buf.truncate(line_start);
                                return Err(py_error(Category::Data, "list index out of range"));
                            }
                            Some(&MARK) => break,
                            Some(_) => {
                                stack.pop();
                            }
                        }
                    }
                    stack.pop();
                    numtopop = effect.before.iter().position(|&o| o == MARK).unwrap_or(0);
                } else {
                    errormsg = Some(NO_MARK.to_owned());
                    markmsg = Some(MarkMsg::NoMark);
                }
            }

            match op {
                Opcode::PUT | Opcode::BINPUT | Opcode::LONG_BINPUT | Opcode::MEMOIZE => {
                    let key = if op == Opcode::MEMOIZE {
                        let n = self.memo.len();
                        markmsg = Some(MarkMsg::As(n));
                        MemoKey::Int(n as i64)
                    } else {
                        arg.memo_key()
                    };
                    if self.memo.get(&key).is_some() {
                        errormsg = Some(format!("memo key {} already defined", arg.key_repr()));
                    } else {
                        match stack.last() {
                            None => {
                                errormsg = Some("stack is empty -- can't store into memo".into())
                            }
                            Some(&MARK) => {
                                errormsg = Some("can't store markobject in the memo".into())
                            }
                            Some(&top) => self.memo.insert(key, top),
                        }
                    }
                }
                Opcode::GET | Opcode::BINGET | Opcode::LONG_BINGET => {
                    match self.memo.get(&arg.memo_key()) {
                        Some(v) => {
                            got = [v];
                            after = &got;
                        }
                        None => {
                            errormsg = Some(format!(
                                "memo key {} has never been stored into",
                                arg.key_repr()
                            ))
                        }
                    }
                }
                _ => {}
            }

            let has_arg = !matches!(arg, Val::None);
            if has_arg || markmsg.is_some() {
                // make a mild effort to align arguments
                pad(buf, 10usize.saturating_sub(info.name.len()));
                if has_arg {
                    buf.push(b' ');
                    if let Err(e) = arg.push_repr(buf) {
                        // `repr(arg)` raised: only the offset was printed.
                        buf.truncate(line_start);
                        return Err(e);
                    }
                }
                match markmsg {
                    Some(MarkMsg::At(p)) => {
                        buf.put(" (MARK at ");
                        push_u64(buf, p as u64);
                        buf.push(b')');
                    }
                    Some(MarkMsg::As(n)) => {
                        buf.put(" (as ");
                        push_u64(buf, n as u64);
                        buf.push(b')');
                    }
                    Some(MarkMsg::NoMark) => {
                        buf.push(b' ');
                        buf.put(NO_MARK);
                    }
                    None => {}
                }
            }
            if annotate != 0 {
                // Python counts characters: every UTF-8 byte but continuation bytes.
                let len = buf[line_start..]
                    .iter()
                    .filter(|&&b| b & 0xC0 != 0x80)
                    .count();
                pad(buf, annocol.saturating_sub(len));
                annocol = len.max(annocol);
                if annocol > 50 {
                    annocol = annotate;
                }
                buf.push(b' ');
                buf.put(info.doc);
            }
            buf.push(b'\n');

            if let Some(m) = errormsg {
                // pickletools complains only once the offending opcode is printed.
                return Err(py_error(Category::Data, m));
            }
            if stack.len() < numtopop {
                return Err(py_error(
                    Category::Data,
                    format!(
                        "tries to pop {numtopop} items from stack with only {} items",
                        stack.len()
                    ),
                ));
            }
            stack.truncate(stack.len() - numtopop);
            if effect.pushes_mark {
                markstack.push(pos);
            }
            stack.extend_from_slice(after);
            pos = next;
            if op == Opcode::STOP {
                break;
            }
        }
        let _ = writeln!(buf, "highest protocol among opcodes = {maxproto}");
        if !stack.is_empty() {
            return Err(py_error(
                Category::Data,
                format!("stack not empty after STOP: [{}]", stack.join(", ")),
            ));
        }
        Ok(pos)
    }
}

const NO_MARK: &str = "no MARK exists on stack";

/// What follows the argument: `(MARK at N)`, MEMOIZE's `(as N)`, or the missing-mark complaint.
#[derive(Clone, Copy)]
enum MarkMsg {
    At(usize),
    As(usize),
    NoMark,
}

/// Appending text to the output buffer.
trait Put {
    fn put(&mut self, s: &str);
}

impl Put for Vec<u8> {
    #[inline]
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

/// Appends `n` blanks.
fn pad(buf: &mut Vec<u8>, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        buf.put(&SPACES[..k]);
        n -= k;
    }
}

/// `n` in decimal, right-aligned in a buffer: (buffer, index of the first digit).
fn decimal(mut n: u64) -> ([u8; 20], usize) {
    let mut digits = [b' '; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    (digits, i)
}

/// Appends `n` in decimal (the formatting machinery is the hot spot of large pickles).
fn push_u64(buf: &mut Vec<u8>, n: u64) {
    let (digits, i) = decimal(n);
    buf.extend_from_slice(&digits[i..]);
}

/// `print("%5d:" % pos, end=' ')`.
fn push_pos(buf: &mut Vec<u8>, pos: usize) {
    let (digits, i) = decimal(pos as u64);
    buf.extend_from_slice(&digits[i.min(15)..]);
    buf.put(": ");
}

/// `"%-4s" % repr(opcode.code)[1:-1]`: opcodes are printable ASCII or `\x80`..`\x98`.
fn push_code_repr(buf: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if (0x20..0x7f).contains(&b) {
        buf.push(b);
        buf.put("   ");
    } else {
        buf.put("\\x");
        buf.push(HEX[usize::from(b >> 4)]);
        buf.push(HEX[usize::from(b & 15)]);
    }
}

#[cold]
fn py_error(category: Category, message: impl Into<String>) -> Error {
    Error::msg(category, message)
}

// ---------------------------------------------------------------------------------------------
// Stack effects
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Effect {
    before: Vec<Obj>,
    after: Vec<Obj>,
    pops_mark: bool,
    pushes_mark: bool,
}

/// The stack effect of every opcode byte, from the opcode table's stack-object names.
fn effects() -> &'static [Effect] {
    static EFFECTS: OnceLock<Vec<Effect>> = OnceLock::new();
    EFFECTS.get_or_init(|| {
        let mut v: Vec<Effect> = (0..256).map(|_| Effect::default()).collect();
        for op in Opcode::all() {
            let info = op.info();
            let before: Vec<Obj> = info.stack_before.split_whitespace().collect();
            let after: Vec<Obj> = info.stack_after.split_whitespace().collect();
            v[op.byte() as usize] = Effect {
                pops_mark: before.contains(&MARK),
                pushes_mark: after.contains(&MARK),
                before,
                after,
            };
        }
        v
    })
}

// ---------------------------------------------------------------------------------------------
// The memo
// ---------------------------------------------------------------------------------------------

/// A memo key: a Python int (True and False are 1 and 0).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum MemoKey {
    Int(i64),
    /// Canonical decimal text of an int outside `i64`.
    Big(Box<str>),
}

/// pickletools' memo dict, holding stack objects: dense for small keys, hashed for the rest.
#[derive(Debug, Default)]
struct Memo {
    dense: Vec<Option<Obj>>,
    sparse: HashMap<MemoKey, Obj>,
    len: usize,
}

impl Memo {
    fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
        self.len = 0;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn dense_index(&self, key: &MemoKey) -> Option<usize> {
        match *key {
            // Grow the dense part only as far as the entry count justifies: a hostile PUT
            // index must not size an allocation.
            MemoKey::Int(k) if k >= 0 && (k as u64) < (2 * self.len as u64 + 1024) => {
                Some(k as usize)
            }
            _ => None,
        }
    }

    fn get(&self, key: &MemoKey) -> Option<Obj> {
        if let MemoKey::Int(k) = *key {
            if let Some(Some(v)) = usize::try_from(k).ok().and_then(|k| self.dense.get(k)) {
                return Some(v);
            }
        }
        self.sparse.get(key).copied()
    }

    /// Stores a key that is not present yet.
    fn insert(&mut self, key: MemoKey, v: Obj) {
        match self.dense_index(&key) {
            Some(i) => {
                if i >= self.dense.len() {
                    self.dense.resize(i + 1, None);
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

// ---------------------------------------------------------------------------------------------
// Arguments: pickletools' readers
// ---------------------------------------------------------------------------------------------

/// A decoded argument, as pickletools' reader returns it.
pub(crate) enum Val<'a> {
    None,
    Int(i64),
    Bool(bool),
    /// An int parsed from text, as canonical decimal (at most `INT_MAX_STR_DIGITS` digits).
    Dec(String),
    /// LONG1 / LONG4 data: little-endian two's complement.
    Long(&'a [u8]),
    Float(f64),
    /// A str as generalized UTF-8.
    Str(Vec<u8>),
    /// A str borrowed from the input (valid generalized UTF-8).
    StrRef(&'a [u8]),
    Bytes(&'a [u8]),
    ByteArray(&'a [u8]),
}

impl Val<'_> {
    pub(crate) fn memo_key(&self) -> MemoKey {
        match self {
            Val::Int(i) => MemoKey::Int(*i),
            Val::Bool(b) => MemoKey::Int(i64::from(*b)),
            Val::Dec(d) => match d.parse::<i64>() {
                Ok(i) => MemoKey::Int(i),
                Err(_) => MemoKey::Big(d.clone().into_boxed_str()),
            },
            _ => MemoKey::Int(-1),
        }
    }

    /// `repr(arg)` for the memo messages (`None` for MEMOIZE).
    fn key_repr(&self) -> String {
        let mut s = Vec::new();
        let _ = self.push_repr(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    }

    /// Appends `repr(arg)`; fails like CPython on an int of more than 4300 digits.
    fn push_repr(&self, buf: &mut Vec<u8>) -> Result<()> {
        match self {
            Val::None => buf.put("None"),
            Val::Int(i) => {
                if *i < 0 {
                    buf.push(b'-');
                }
                push_u64(buf, i.unsigned_abs());
            }
            Val::Bool(true) => buf.put("True"),
            Val::Bool(false) => buf.put("False"),
            Val::Dec(d) => buf.put(d),
            Val::Long(data) => buf.put(&long_repr(data)?),
            Val::Float(f) => buf.put(&float_repr(*f)),
            Val::Str(s) => buf.put(&repr_str(s)),
            Val::StrRef(s) => buf.put(&repr_str(s)),
            Val::Bytes(b) => buf.put(&repr_bytes(b, "b")),
            Val::ByteArray(b) => {
                buf.put("bytearray(");
                buf.put(&repr_bytes(b, "b"));
                buf.push(b')');
            }
        }
        Ok(())
    }
}

/// `repr(pickle.decode_long(data))`.
fn long_repr(data: &[u8]) -> Result<String> {
    let negative = data.last().is_some_and(|&b| b & 0x80 != 0);
    let magnitude: Vec<u8>;
    let mag: &[u8] = if negative {
        // Two's complement negation: invert and add one.
        let mut m: Vec<u8> = data.iter().map(|&b| !b).collect();
        for b in &mut m {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        magnitude = m;
        &magnitude
    } else {
        data
    };
    let mut end = mag.len();
    while end > 0 && mag[end - 1] == 0 {
        end -= 1;
    }
    // 1787 significant bytes hold at least 2^14288, which has 4302 digits: refuse before the
    // quadratic conversion, as CPython does.
    let too_big = || {
        py_error(
            Category::Limit,
            format!(
                "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion; \
                 use sys.set_int_max_str_digits() to increase the limit"
            ),
        )
    };
    if end >= 1787 {
        return Err(too_big());
    }
    let s = int_to_decimal(negative, &mag[..end]);
    if s.len() - usize::from(negative) > INT_MAX_STR_DIGITS {
        return Err(too_big());
    }
    Ok(s)
}

#[cold]
fn eof(message: String) -> Error {
    py_error(Category::Eof, message)
}

#[cold]
fn syntax(message: String) -> Error {
    py_error(Category::Syntax, message)
}

/// A cursor over the input with pickletools' `f.read(n)` / `f.readline()` semantics.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Up to `n` bytes (fewer at the end of the input).
    fn read(&mut self, n: u64) -> &'a [u8] {
        let left = self.data.len() - self.pos;
        let take = usize::try_from(n).map_or(left, |n| n.min(left));
        let r = &self.data[self.pos..self.pos + take];
        self.pos += take;
        r
    }

    fn fixed<const N: usize>(&mut self, name: &str) -> Result<[u8; N]> {
        let r = self.read(N as u64);
        r.try_into()
            .map_err(|_| eof(format!("not enough data in stream to read {name}")))
    }

    /// A counted argument of `n` bytes.
    fn counted(&mut self, n: u64, name: &str) -> Result<&'a [u8]> {
        let r = self.read(n);
        if r.len() as u64 != n {
            return Err(eof(format!(
                "expected {n} bytes in a {name}, but only {} remain",
                r.len()
            )));
        }
        Ok(r)
    }

    /// `f.readline()` that must end in a newline; the line without it.
    fn line(&mut self, name: &str) -> Result<&'a [u8]> {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => {
                self.pos = self.data.len();
                Err(eof(format!("no newline found when trying to read {name}")))
            }
        }
    }
}

/// `_genops`: the opcode at `pos`, its decoded argument and the offset after it.
pub(crate) fn read_instruction(data: &[u8], pos: usize) -> Result<(Opcode, Val<'_>, usize)> {
    let Some(&code) = data.get(pos) else {
        return Err(eof("pickle exhausted before seeing STOP".to_owned()));
    };
    let Some(op) = Opcode::from_byte(code) else {
        return Err(syntax(format!(
            "at position {pos}, opcode {} unknown",
            repr_bytes(&[code], "b")
        )));
    };
    let mut c = Cursor { data, pos: pos + 1 };
    let kind = op.arg();
    let name = kind.name();
    let val = match kind {
        ArgKind::None => Val::None,
        ArgKind::U1 => Val::Int(i64::from(c.fixed::<1>(name)?[0])),
        ArgKind::U2 => Val::Int(i64::from(u16::from_le_bytes(c.fixed(name)?))),
        ArgKind::U4 => Val::Int(i64::from(u32::from_le_bytes(c.fixed(name)?))),
        ArgKind::I4 => Val::Int(i64::from(i32::from_le_bytes(c.fixed(name)?))),
        ArgKind::U8 => {
            let n = u64::from_le_bytes(c.fixed(name)?);
            match i64::try_from(n) {
                Ok(i) => Val::Int(i),
                Err(_) => Val::Dec(n.to_string()),
            }
        }
        ArgKind::F8 => Val::Float(f64::from_be_bytes(c.fixed(name)?)),
        ArgKind::Long1 | ArgKind::Long4 => {
            let n = if kind == ArgKind::Long1 {
                i64::from(c.fixed::<1>("uint1")?[0])
            } else {
                let n = i32::from_le_bytes(c.fixed("int4")?);
                if n < 0 {
                    return Err(syntax(format!("long4 byte count < 0: {n}")));
                }
                i64::from(n)
            };
            let r = c.read(n as u64);
            if r.len() as i64 != n {
                return Err(eof(format!("not enough data in stream to read {name}")));
            }
            Val::Long(r)
        }
        ArgKind::String1 | ArgKind::Bytes1 | ArgKind::Unicode1 => {
            let n = u64::from(c.fixed::<1>("uint1")?[0]);
            counted_val(kind, c.counted(n, name)?)?
        }
        ArgKind::String4 => {
            let n = i32::from_le_bytes(c.fixed("int4")?);
            if n < 0 {
                return Err(syntax(format!("string4 byte count < 0: {n}")));
            }
            counted_val(kind, c.counted(n as u64, name)?)?
        }
        ArgKind::Bytes4 | ArgKind::Unicode4 => {
            let n = u64::from(u32::from_le_bytes(c.fixed("uint4")?));
            counted_val(kind, c.counted(n, name)?)?
        }
        ArgKind::Bytes8 | ArgKind::Unicode8 | ArgKind::ByteArray8 => {
            let n = u64::from_le_bytes(c.fixed("uint8")?);
            if n > i64::MAX as u64 {
                return Err(syntax(format!("{name} byte count > sys.maxsize: {n}")));
            }
            // The declared length is untrusted: `counted` only slices what is there.
            counted_val(kind, c.counted(n, name)?)?
        }
        ArgKind::DecimalNlShort => {
            let s = c.line("stringnl")?;
            match s {
                b"00" => Val::Bool(false),
                b"01" => Val::Bool(true),
                _ => Val::Dec(py_int(s)?),
            }
        }
        ArgKind::DecimalNlLong => {
            let s = c.line("stringnl")?;
            Val::Dec(py_int(s.strip_suffix(b"L").unwrap_or(s))?)
        }
        ArgKind::FloatNl => {
            let s = c.line("stringnl")?;
            Val::Float(parse_float_literal(s).map_err(|e| syntax(e.message().to_owned()))?)
        }
        ArgKind::StringNl => Val::Str(stringnl(c.line("stringnl")?, true)?),
        ArgKind::StringNlNoEscape => Val::Str(stringnl(c.line("stringnl")?, false)?),
        ArgKind::StringNlNoEscapePair => {
            let mut first = stringnl(c.line("stringnl")?, false)?;
            let second = stringnl(c.line("stringnl")?, false)?;
            first.push(b' ');
            first.extend_from_slice(&second);
            Val::Str(first)
        }
        ArgKind::UnicodeNl => {
            let s = c.line("unicodestringnl")?;
            Val::Str(decode_raw_unicode_escape(s).map_err(|e| syntax(e.message().to_owned()))?)
        }
    };
    Ok((op, val, c.pos))
}

/// The value of a complete counted argument.
fn counted_val(kind: ArgKind, data: &[u8]) -> Result<Val<'_>> {
    Ok(match kind {
        ArgKind::String1 | ArgKind::String4 => Val::Str(latin1_to_utf8(data)),
        ArgKind::Bytes1 | ArgKind::Bytes4 | ArgKind::Bytes8 => Val::Bytes(data),
        ArgKind::ByteArray8 => Val::ByteArray(data),
        _ => {
            // Most text is ASCII: one word-wise test instead of the UTF-8 validator.
            if !data.is_ascii() {
                validate_utf8_surrogatepass(data).map_err(|e| syntax(e.message().to_owned()))?;
            }
            Val::StrRef(data)
        }
    })
}

/// `read_stringnl(f, decode=True, stripquotes)` after the line was read: quotes stripped when
/// asked, then `codecs.escape_decode(...)[0].decode("ascii")`.
fn stringnl(line: &[u8], stripquotes: bool) -> Result<Vec<u8>> {
    let mut data = line;
    if stripquotes {
        let Some(&q) = data.first().filter(|&&q| q == b'"' || q == b'\'') else {
            return Err(syntax(format!(
                "no string quotes around {}",
                repr_bytes(data, "b")
            )));
        };
        if data.last() != Some(&q) {
            return Err(syntax(format!(
                "strinq quote {} not found at both ends of {}",
                repr_bytes(&[q], "b"),
                repr_bytes(data, "b")
            )));
        }
        // A lone quote is both ends: `data[1:-1]` is empty.
        data = if data.len() >= 2 {
            &data[1..data.len() - 1]
        } else {
            &[]
        };
    }
    let decoded = if data.contains(&b'\\') {
        let mut quoted = Vec::with_capacity(data.len() + 2);
        quoted.push(b'\'');
        quoted.extend_from_slice(data);
        quoted.push(b'\'');
        decode_string_escape(&quoted).map_err(|e| syntax(e.message().to_owned()))?
    } else {
        data.to_vec()
    };
    if let Some(i) = decoded.iter().position(|&b| b >= 0x80) {
        return Err(syntax(format!(
            "'ascii' codec can't decode byte 0x{:02x} in position {i}: ordinal not in range(128)",
            decoded[i]
        )));
    }
    Ok(decoded)
}

/// Python's `int(s)` (base 10) for a bytes object, as canonical decimal text.
fn py_int(text: &[u8]) -> Result<String> {
    let invalid = || {
        let shown = repr_bytes(&text[..text.len().min(200)], "b");
        let shown: String = shown.chars().take(200).collect();
        syntax(format!("invalid literal for int() with base 10: {shown}"))
    };
    // `PyLong_FromString` sees a C string: it ends at the first NUL.
    let s = text.split(|&b| b == 0).next().unwrap_or(&[]);
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let at = |k: usize| s.get(k).copied().unwrap_or(0);
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    match at(i) {
        b'+' => i += 1,
        b'-' => {
            negative = true;
            i += 1;
        }
        _ => {}
    }
    if at(i) == b'_' {
        return Err(invalid());
    }
    let start = i;
    let mut prev = 0u8;
    let mut digits = String::new();
    let mut ndigits = 0usize;
    while at(i).is_ascii_digit() || at(i) == b'_' {
        let ch = at(i);
        if ch == b'_' {
            if prev == b'_' {
                return Err(invalid());
            }
        } else {
            ndigits += 1;
            if ndigits <= INT_MAX_STR_DIGITS && !(digits.is_empty() && ch == b'0') {
                digits.push(char::from(ch));
            }
        }
        prev = ch;
        i += 1;
    }
    if prev == b'_' {
        return Err(invalid());
    }
    if ndigits > INT_MAX_STR_DIGITS {
        return Err(py_error(
            Category::Limit,
            format!(
                "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: \
                 value has {ndigits} digits; use sys.set_int_max_str_digits() to increase the \
                 limit"
            ),
        ));
    }
    if i == start {
        return Err(invalid());
    }
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    if i != s.len() || s.len() != text.len() {
        return Err(invalid());
    }
    if digits.is_empty() {
        digits.push('0');
    } else if negative {
        digits.insert(0, '-');
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &[u8], opts: &DisOptions) -> (String, Result<usize>) {
        let mut out = Vec::new();
        let r = dis(p, &mut out, opts);
        (String::from_utf8(out).unwrap(), r)
    }

    #[test]
    fn py_int_matches_python() {
        assert_eq!(py_int(b" -0_0 ").unwrap(), "0");
        assert_eq!(py_int(b"+0012").unwrap(), "12");
        assert_eq!(py_int(b"-1_000").unwrap(), "-1000");
        assert_eq!(
            py_int(b"1234L").unwrap_err().to_string(),
            "invalid literal for int() with base 10: b'1234L'"
        );
        assert!(py_int(b"1__0").is_err());
        assert!(py_int(b"_1").is_err());
        assert!(py_int(b"1_").is_err());
        assert!(py_int(b"").is_err());
        assert!(py_int(b"1\x00").is_err());
        assert!(py_int(b"0x10").is_err());
    }

    #[test]
    fn long_repr_signs() {
        assert_eq!(long_repr(b"").unwrap(), "0");
        assert_eq!(long_repr(b"\xff").unwrap(), "-1");
        assert_eq!(long_repr(b"\x00\x80").unwrap(), "-32768");
        assert_eq!(long_repr(b"\xff\x00").unwrap(), "255");
        assert!(long_repr(&[0x7f; 2000]).is_err());
    }

    #[test]
    fn memo_errors_print_the_line_first() {
        let (out, r) = run(b"h\x05.", &DisOptions::default());
        assert_eq!(out, "    0: h    BINGET     5\n");
        assert_eq!(
            r.unwrap_err().to_string(),
            "memo key 5 has never been stored into"
        );
    }

    #[test]
    fn lost_mark_is_an_index_error() {
        let (out, r) = run(b"(\x85t.", &DisOptions::default());
        assert_eq!(out, "    0: (    MARK\n    1: \\x85     TUPLE1\n    2: ");
        assert_eq!(r.unwrap_err().to_string(), "list index out of range");
    }
}
