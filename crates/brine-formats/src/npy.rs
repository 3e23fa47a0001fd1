//! `.npy` files, versions 1.0, 2.0 and 3.0: header parsing (a Python dict literal, checked
//! like numpy's `read_array_header`) and writing, byte-for-byte as `numpy.save` writes.
//!
//! The declared shape is a claim: its element count times the item size is computed with
//! overflow checks and compared with the bytes really present before anything is used.

use std::borrow::Cow;

use brine::value::Graph;
use brine::{Error, LoadOptions, Result};

use crate::array::{nbytes_of, ByteOrder, DType, Data, Field, NdArray, TimeUnit};
use crate::numpy;

/// The magic that starts every `.npy` file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// numpy's `max_header_size` default: longer headers are refused before parsing.
pub const MAX_HEADER: usize = 10_000;

/// Nesting allowed in header literals (structured dtypes nest).
const MAX_LITERAL_DEPTH: usize = 32;

/// The parsed header of an `.npy` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Format version `(major, minor)`.
    pub version: (u8, u8),
    /// Element type (`descr`).
    pub dtype: DType,
    /// True when the data is in Fortran order.
    pub fortran_order: bool,
    /// The declared shape.
    pub shape: Vec<usize>,
    /// Offset of the data from the start of the file.
    pub data_offset: usize,
}

/// An array read from an `.npy` file; object arrays come with the graph of their elements.
#[derive(Clone, Debug)]
pub struct Npy<'a> {
    /// The header.
    pub header: Header,
    /// The array; its bytes borrow the input.
    pub array: NdArray<'a>,
    /// For object arrays: the unpickled graph the elements live in.
    pub objects: Option<Graph>,
}

/// Reads an `.npy` file from memory without copying its data.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// use brine_formats::npy;
/// let a = NdArray::from_bytes(DType::Int(2, ByteOrder::Little), vec![2], vec![1, 0, 2, 0])?;
/// let file = npy::to_vec(&a)?;
/// let back = npy::read(&file)?;
/// assert_eq!(back.header.version, (1, 0));
/// assert_eq!(back.array.shape, vec![2]);
/// assert_eq!(&*back.array.c_bytes()?, &[1, 0, 2, 0]);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn read(data: &[u8]) -> Result<Npy<'_>> {
    let header = read_header(data)?;
    let body = &data[header.data_offset..];
    if header.dtype.has_objects() {
        // Object arrays are a pickle of the whole array after the header.
        let g = brine::loads_with(body, LoadOptions::new())?;
        let root = g
            .root()
            .ok_or_else(|| Error::data("empty object payload"))?;
        let array = numpy::array_at(&g, root)?
            .ok_or_else(|| Error::data(".npy object payload is not a numpy array"))?
            .into_owned();
        return Ok(Npy {
            header,
            array,
            objects: Some(g),
        });
    }
    let need = nbytes_of(&header.dtype, &header.shape)?;
    if body.len() < need {
        return Err(Error::truncated().at(data.len() as u64));
    }
    let mut array = NdArray::from_bytes(header.dtype.clone(), header.shape.clone(), &body[..need])?;
    if header.fortran_order {
        array.strides = crate::array::f_strides(&array.shape);
    }
    Ok(Npy {
        header,
        array,
        objects: None,
    })
}

/// Parses and checks the header of an `.npy` file.
pub fn read_header(data: &[u8]) -> Result<Header> {
    if data.len() < 10 || &data[..6] != MAGIC {
        return Err(Error::data("not an .npy file (bad magic)"));
    }
    let version = (data[6], data[7]);
    let (len, start) = match version.0 {
        1 => (u16::from_le_bytes([data[8], data[9]]) as usize, 10),
        2 | 3 => {
            if data.len() < 12 {
                return Err(Error::truncated().at(data.len() as u64));
            }
            (
                u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize,
                12,
            )
        }
        v => {
            return Err(Error::unsupported(format!(
                ".npy version {v}.{}",
                version.1
            )))
        }
    };
    if len > MAX_HEADER {
        return Err(Error::data(format!(
            ".npy header of {len} bytes is over the {MAX_HEADER}-byte limit"
        )));
    }
    let end = start + len;
    let raw = data
        .get(start..end)
        .ok_or_else(|| Error::truncated().at(data.len() as u64))?;
    let text: Cow<'_, str> = if version.0 == 3 {
        Cow::Borrowed(
            std::str::from_utf8(raw).map_err(|_| Error::data(".npy header is not UTF-8"))?,
        )
    } else {
        Cow::Owned(raw.iter().map(|&b| b as char).collect())
    };
    let lit = Parser::new(&text).parse_all()?;
    let Lit::Dict(items) = lit else {
        return Err(Error::data(".npy header is not a dict"));
    };
    let mut descr = None;
    let mut fortran = None;
    let mut shape = None;
    for (k, v) in items {
        match k {
            Lit::Str(k) if k == "descr" && descr.is_none() => descr = Some(v),
            Lit::Str(k) if k == "fortran_order" && fortran.is_none() => match v {
                Lit::Bool(b) => fortran = Some(b),
                _ => return Err(Error::data(".npy fortran_order is not a bool")),
            },
            Lit::Str(k) if k == "shape" && shape.is_none() => shape = Some(lit_shape(&v)?),
            other => {
                return Err(Error::data(format!(
                    ".npy header has an unexpected key {other:?}"
                )))
            }
        }
    }
    let (Some(descr), Some(fortran_order), Some(shape)) = (descr, fortran, shape) else {
        return Err(Error::data(
            ".npy header lacks descr, fortran_order or shape",
        ));
    };
    let dtype = descr_to_dtype(&descr, 0)?;
    nbytes_of(&dtype, &shape)?;
    Ok(Header {
        version,
        dtype,
        fortran_order,
        shape,
        data_offset: end,
    })
}

fn lit_shape(v: &Lit) -> Result<Vec<usize>> {
    match v {
        Lit::Tuple(items) => items
            .iter()
            .map(|d| match d {
                Lit::Int(i) => usize::try_from(*i).map_err(|_| Error::data("bad .npy shape")),
                _ => Err(Error::data("bad .npy shape")),
            })
            .collect(),
        Lit::Int(i) => Ok(vec![
            usize::try_from(*i).map_err(|_| Error::data("bad .npy shape"))?
        ]),
        _ => Err(Error::data(".npy shape is not a tuple")),
    }
}

/// Parses numpy's `dtype.str` form: `<f4`, `|b1`, `<U3`, `|S3`, `<M8[ns]`, `|O`, `|V8`.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType};
/// assert_eq!(brine_formats::npy::parse_dtype_str(">i8")?, DType::Int(8, ByteOrder::Big));
/// # Ok::<(), brine::Error>(())
/// ```
pub fn parse_dtype_str(s: &str) -> Result<DType> {
    let bad = || Error::data(format!("unknown dtype {s:?}"));
    let (order, rest) = match s.chars().next() {
        Some('<') | Some('=') => (ByteOrder::Little, &s[1..]),
        Some('>') => (ByteOrder::Big, &s[1..]),
        Some('|') => (ByteOrder::NotApplicable, &s[1..]),
        _ => (ByteOrder::Little, s),
    };
    let (body, unit) = match rest.find('[') {
        Some(i) if rest.ends_with(']') => (&rest[..i], Some(&rest[i + 1..rest.len() - 1])),
        Some(_) => return Err(bad()),
        None => (rest, None),
    };
    let mut chars = body.chars();
    let kind = chars.next().ok_or_else(bad)?;
    let size_txt = chars.as_str();
    let size: usize = if size_txt.is_empty() {
        0
    } else {
        size_txt.parse().map_err(|_| bad())?
    };
    let n = |size: usize| u8::try_from(size).map_err(|_| bad());
    let o = if order == ByteOrder::NotApplicable {
        ByteOrder::Little
    } else {
        order
    };
    Ok(match (kind, size) {
        ('b', 1) | ('?', _) => DType::Bool,
        ('i', 1 | 2 | 4 | 8) => DType::Int(n(size)?, o),
        ('u', 1 | 2 | 4 | 8) => DType::UInt(n(size)?, o),
        ('f', 2 | 4 | 8 | 12 | 16) => DType::Float(n(size)?, o),
        ('c', 8 | 16 | 24 | 32) => DType::Complex(n(size)?, o),
        ('S' | 'a', _) => DType::Bytes(size),
        ('U', _) => DType::Unicode(size, o),
        ('V', _) => DType::Void(size),
        ('O', 0 | 8) => DType::Object,
        ('M' | 'm', 8) => {
            let unit = parse_unit(unit.unwrap_or("generic")).ok_or_else(bad)?;
            if kind == 'M' {
                DType::DateTime(unit, o)
            } else {
                DType::TimeDelta(unit, o)
            }
        }
        _ => return Err(bad()),
    })
}

fn parse_unit(u: &str) -> Option<TimeUnit> {
    let digits = u.find(|c: char| !c.is_ascii_digit()).unwrap_or(u.len());
    let count = if digits == 0 {
        1
    } else {
        u[..digits].parse().ok()?
    };
    let unit = &u[digits..];
    let known = [
        "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "generic",
    ];
    known.contains(&unit).then(|| TimeUnit {
        unit: unit.to_owned(),
        count,
    })
}

fn descr_to_dtype(v: &Lit, depth: usize) -> Result<DType> {
    if depth > MAX_LITERAL_DEPTH {
        return Err(Error::data(".npy descr nested too deeply"));
    }
    match v {
        Lit::Str(s) => parse_dtype_str(s),
        Lit::List(items) => {
            let mut fields = Vec::new();
            let mut offset = 0usize;
            for item in items {
                let Lit::Tuple(parts) = item else {
                    return Err(Error::data(".npy descr field is not a tuple"));
                };
                if parts.len() < 2 || parts.len() > 3 {
                    return Err(Error::data(".npy descr field must have 2 or 3 items"));
                }
                let (name, title) = match &parts[0] {
                    Lit::Str(n) => (n.clone(), None),
                    Lit::Tuple(t) if t.len() == 2 => match (&t[0], &t[1]) {
                        (Lit::Str(title), Lit::Str(n)) => (n.clone(), Some(title.clone())),
                        _ => return Err(Error::data(".npy descr field name")),
                    },
                    _ => return Err(Error::data(".npy descr field name")),
                };
                let mut dtype = descr_to_dtype(&parts[1], depth + 1)?;
                if let Some(shape) = parts.get(2) {
                    dtype = DType::SubArray(Box::new(dtype), lit_shape(shape)?);
                }
                let size = dtype.itemsize();
                if size == usize::MAX {
                    return Err(Error::data(".npy descr field size overflows"));
                }
                // Unnamed `|V<n>` fields are numpy's padding: they take room but are no field.
                if !name.is_empty() {
                    fields.push(Field {
                        name,
                        dtype,
                        offset,
                        title,
                    });
                }
                offset = offset
                    .checked_add(size)
                    .ok_or_else(|| Error::data(".npy record size overflows"))?;
            }
            Ok(DType::Struct {
                fields,
                itemsize: offset,
                record: false,
            })
        }
        _ => Err(Error::data(".npy descr is neither a string nor a list")),
    }
}

/// numpy's `descr` of a dtype, as the Python literal the header holds.
fn descr_literal(d: &DType, depth: usize) -> Result<String> {
    if depth > MAX_LITERAL_DEPTH {
        return Err(Error::data("dtype nested too deeply"));
    }
    match d {
        DType::Struct {
            fields, itemsize, ..
        } => {
            let mut order: Vec<&Field> = fields.iter().collect();
            order.sort_by_key(|f| f.offset);
            let mut parts = Vec::new();
            let mut at = 0usize;
            for f in order {
                if f.offset > at {
                    parts.push(format!("('', '|V{}')", f.offset - at));
                } else if f.offset < at {
                    return Err(Error::unsupported("overlapping fields in an .npy descr"));
                }
                let name = match &f.title {
                    Some(t) => format!("({}, {})", py_repr(t), py_repr(&f.name)),
                    None => py_repr(&f.name),
                };
                let (base, shape) = match &f.dtype {
                    DType::SubArray(b, s) => (b.as_ref(), Some(s)),
                    other => (other, None),
                };
                let inner = descr_literal(base, depth + 1)?;
                parts.push(match shape {
                    Some(s) => format!("({name}, {inner}, {})", py_tuple(s)),
                    None => format!("({name}, {inner})"),
                });
                at = f.offset + f.dtype.itemsize();
            }
            if *itemsize > at {
                parts.push(format!("('', '|V{}')", itemsize - at));
            }
            Ok(format!("[{}]", parts.join(", ")))
        }
        DType::SubArray(..) => Err(Error::unsupported(
            "a top-level sub-array dtype in an .npy header",
        )),
        DType::BFloat16(_) | DType::Float8(_) => Err(Error::unsupported(format!(
            "numpy has no dtype for {}",
            d.name()
        ))),
        // numpy saves StringDType arrays as '|O' and a pickle of the array.
        DType::VarString { .. } => Ok(py_repr("|O")),
        other => Ok(py_repr(&other.str())),
    }
}

fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn py_tuple(s: &[usize]) -> String {
    match s {
        [] => "()".into(),
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            s.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Writes an array as `numpy.save` does: the lowest version that can hold the header.
pub fn to_vec(a: &NdArray<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write(&mut out, a, None)?;
    Ok(out)
}

/// Writes an array as `.npy`, at `version` (`1`, `2` or `3`) or, with `None`, the lowest
/// one that can hold the header, byte-for-byte as numpy writes it. Fortran-contiguous arrays
/// keep Fortran order; other layouts are written in C order.
pub fn write(out: &mut impl std::io::Write, a: &NdArray<'_>, version: Option<u8>) -> Result<()> {
    if matches!(a.data, Data::Objects(_)) {
        return Err(Error::unsupported(
            "writing object arrays to .npy (they need a pickle of their items)",
        ));
    }
    let fortran = !a.is_c_contiguous() && a.is_f_contiguous() && a.shape.len() > 1;
    let mut header = format!(
        "{{'descr': {}, 'fortran_order': {}, 'shape': {}, }}",
        descr_literal(&a.dtype, 0)?,
        if fortran { "True" } else { "False" },
        py_tuple(&a.shape)
    );
    // numpy leaves room for the growth axis to get longer in place.
    if let Some(&d) = if fortran {
        a.shape.last()
    } else {
        a.shape.first()
    } {
        let digits = d.to_string().len();
        header.push_str(&" ".repeat(21usize.saturating_sub(digits)));
    }
    let latin1 = header.chars().all(|c| (c as u32) < 256);
    let version = match version {
        Some(v @ 1..=3) => v,
        Some(v) => return Err(Error::unsupported(format!(".npy version {v}"))),
        None if !latin1 => 3,
        None if header.len() + 1 + 10 < 65536 => 1,
        None => 2,
    };
    let encoded: Vec<u8> = if version == 3 {
        header.into_bytes()
    } else if latin1 {
        header.chars().map(|c| c as u8).collect()
    } else {
        return Err(Error::data(
            "this .npy header needs version 3 (non-latin-1 names)",
        ));
    };
    let prefix = if version == 1 { 10 } else { 12 };
    let hlen = encoded.len() + 1;
    let pad = 64 - (prefix + hlen) % 64;
    let total = hlen + pad;
    if version == 1 && total > usize::from(u16::MAX) {
        return Err(Error::data(".npy header too long for version 1"));
    }
    let mut head = Vec::with_capacity(prefix + total);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&[version, 0]);
    if version == 1 {
        head.extend_from_slice(&(total as u16).to_le_bytes());
    } else {
        head.extend_from_slice(&(total as u32).to_le_bytes());
    }
    head.extend_from_slice(&encoded);
    head.extend(std::iter::repeat_n(b' ', pad));
    head.push(b'\n');
    out.write_all(&head).map_err(io_err)?;
    let body = if fortran {
        let raw = a.raw().unwrap_or_default();
        a.check_bounds(raw.len())?;
        Cow::Borrowed(&raw[..a.nbytes()])
    } else {
        a.c_bytes()?
    };
    out.write_all(&body).map_err(io_err)
}

pub(crate) fn io_err(e: std::io::Error) -> Error {
    Error::msg(brine::Category::Io, e.to_string())
}

/// A Python literal of an `.npy` header.
#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// A recursive-descent parser for the literals `ast.literal_eval` accepts in `.npy` headers,
/// with a depth guard (the input is untrusted, but at most 10 000 bytes).
struct Parser<'s> {
    s: &'s [u8],
    text: &'s str,
    pos: usize,
}

impl<'s> Parser<'s> {
    fn new(text: &'s str) -> Self {
        Parser {
            s: text.as_bytes(),
            text,
            pos: 0,
        }
    }

    fn err(&self, what: &str) -> Error {
        Error::data(format!(".npy header: {what} at byte {}", self.pos))
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn parse_all(mut self) -> Result<Lit> {
        let v = self.value(0)?;
        self.ws();
        if self.pos != self.s.len() {
            return Err(self.err("trailing characters"));
        }
        Ok(v)
    }

    fn value(&mut self, depth: usize) -> Result<Lit> {
        if depth > MAX_LITERAL_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        let Some(&c) = self.s.get(self.pos) else {
            return Err(self.err("unexpected end"));
        };
        match c {
            b'{' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.eat(b'}') {
                        return Ok(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    self.ws();
                    if !self.eat(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    self.ws();
                    if !self.eat(b',') {
                        self.ws();
                        if self.eat(b'}') {
                            return Ok(Lit::Dict(items));
                        }
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
            }
            b'(' | b'[' => {
                self.pos += 1;
                let close = if c == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                let mut comma = false;
                loop {
                    self.ws();
                    if self.eat(close) {
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    comma = self.eat(b',');
                    if !comma {
                        self.ws();
                        if self.eat(close) {
                            break;
                        }
                        return Err(self.err("expected ',' or a closing bracket"));
                    }
                }
                Ok(if c == b'[' {
                    Lit::List(items)
                } else if items.len() == 1 && !comma {
                    items.pop().unwrap_or(Lit::None)
                } else {
                    Lit::Tuple(items)
                })
            }
            b'\'' | b'"' => self.string(),
            b'u' | b'b' if matches!(self.s.get(self.pos + 1), Some(b'\'' | b'"')) => {
                // py2-era headers write u'..'; numpy accepts them.
                self.pos += 1;
                self.string()
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                self.pos += 1;
                while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
                let v: i128 = self.text[start..self.pos]
                    .parse()
                    .map_err(|_| self.err("bad integer"))?;
                // Python 2 longs (`3L`), which numpy filters out of v1/v2 headers.
                if self.s.get(self.pos) == Some(&b'L') {
                    self.pos += 1;
                }
                Ok(Lit::Int(v))
            }
            _ => {
                for (word, lit) in [
                    ("True", Lit::Bool(true)),
                    ("False", Lit::Bool(false)),
                    ("None", Lit::None),
                ] {
                    if self.text[self.pos..].starts_with(word) {
                        self.pos += word.len();
                        return Ok(lit);
                    }
                }
                Err(self.err("unexpected character"))
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> Result<Lit> {
        let q = self.s[self.pos];
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(c) = rest.chars().next() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += c.len_utf8();
            match c {
                c if c as u32 == u32::from(q) => return Ok(Lit::Str(out)),
                '\\' => {
                    let Some(e) = self.text[self.pos..].chars().next() else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += e.len_utf8();
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '\\' | '\'' | '"' => out.push(e),
                        'x' | 'u' | 'U' => {
                            let n = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let hex = self
                                .text
                                .get(self.pos..self.pos + n)
                                .ok_or_else(|| self.err("bad escape"))?;
                            let v = u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.err("bad escape"))?;
                            self.pos += n;
                            out.push(v);
                        }
                        _ => return Err(self.err("unsupported escape")),
                    }
                }
                c => out.push(c),
            }
        }
    }
}
