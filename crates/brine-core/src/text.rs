//! Textual argument codecs of pickle: float/int lines, quoted and escaped strings, repr.
//!
//! Everything here mirrors CPython 3.11: the C `_pickle` unpickler for the protocol-0 opcode
//! lines (`INT`, `LONG`, `FLOAT`, `STRING`, `UNICODE`), the C pickler for what it writes, and
//! `repr()` for display.  Strings are passed around as *generalized UTF-8*: UTF-8 in which lone
//! surrogates U+D800..U+DFFF may appear in their 3-byte form, which is what CPython's
//! `surrogatepass` error handler produces and accepts.  No function here panics on any input.

use std::fmt;

/// CPython's default `sys.get_int_max_str_digits()`: the most decimal digits `int()` accepts.
pub const INT_MAX_STR_DIGITS: usize = 4300;

/// The Python exception class a [`TextError`] corresponds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TextErrorKind {
    /// `ValueError`: malformed number or escape.
    Value,
    /// `OverflowError`: a float literal too large for an `f64` (C unpickler only).
    Overflow,
    /// `UnicodeDecodeError`: bad UTF-8 or a bad `\u` escape.
    UnicodeDecode,
    /// `UnpicklingError`: e.g. an unquoted `STRING` argument.
    Unpickling,
    /// `UnpicklingError("pickle data was truncated")`: an empty text argument.
    Truncated,
}

impl TextErrorKind {
    /// The name of the Python exception class, e.g. `"ValueError"`.
    pub fn python_name(self) -> &'static str {
        match self {
            TextErrorKind::Value => "ValueError",
            TextErrorKind::Overflow => "OverflowError",
            TextErrorKind::UnicodeDecode => "UnicodeDecodeError",
            TextErrorKind::Unpickling | TextErrorKind::Truncated => "UnpicklingError",
        }
    }
}

/// An error from a text codec: the Python exception kind, CPython's message, and an offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextError {
    kind: TextErrorKind,
    message: String,
    position: Option<usize>,
}

impl TextError {
    #[cold]
    fn new(kind: TextErrorKind, message: String, position: Option<usize>) -> Self {
        TextError {
            kind,
            message,
            position,
        }
    }

    #[cold]
    fn truncated() -> Self {
        TextError::new(
            TextErrorKind::Truncated,
            "pickle data was truncated".to_owned(),
            None,
        )
    }

    /// The Python exception kind.
    pub fn kind(&self) -> TextErrorKind {
        self.kind
    }

    /// The message CPython 3.11 gives (the exception's `str()`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset of the problem within the input given to the function, if there is one.
    pub fn position(&self) -> Option<usize> {
        self.position
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TextError {}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// A fixed-size stack buffer that formatting can write into without allocating.
struct StackBuf {
    buf: [u8; 48],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            buf: [0; 48],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
            None => Err(fmt::Error),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `Py_ISSPACE` for bytes: space, `\t`, `\n`, `\v`, `\f`, `\r` (also C `isspace`).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// The value of an ASCII digit or letter (`_PyLong_DigitValue`), 37 for anything else.
fn digit_value(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => u32::from(b - b'0'),
        b'a'..=b'z' => u32::from(b - b'a') + 10,
        b'A'..=b'Z' => u32::from(b - b'A') + 10,
        _ => 37,
    }
}

/// Truncates at the first NUL, as C string functions see a buffer.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// Appends code point `cp` (any value up to U+10FFFF, surrogates included) as generalized UTF-8.
fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.extend_from_slice(&[0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]);
    } else if cp < 0x10000 {
        out.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | ((cp >> 18) & 0x07) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]);
    }
}

/// Decodes one code point of generalized UTF-8 at `b[i..]` (`i < b.len()`).
///
/// Returns the code point and its length; an invalid sequence yields `None` and length 1.
fn next_code_point(b: &[u8], i: usize) -> (Option<u32>, usize) {
    let cont = |k: usize| -> Option<u32> {
        match b.get(i + k) {
            Some(&c) if c & 0xC0 == 0x80 => Some(u32::from(c & 0x3F)),
            _ => None,
        }
    };
    let lead = match b.get(i) {
        Some(&c) => c,
        None => return (None, 1),
    };
    match lead {
        0x00..=0x7F => (Some(u32::from(lead)), 1),
        0xC2..=0xDF => match cont(1) {
            Some(c1) => (Some((u32::from(lead & 0x1F) << 6) | c1), 2),
            None => (None, 1),
        },
        0xE0..=0xEF => match (cont(1), cont(2)) {
            (Some(c1), Some(c2)) => {
                let cp = (u32::from(lead & 0x0F) << 12) | (c1 << 6) | c2;
                if cp < 0x800 {
                    (None, 1)
                } else {
                    (Some(cp), 3)
                }
            }
            _ => (None, 1),
        },
        0xF0..=0xF4 => match (cont(1), cont(2), cont(3)) {
            (Some(c1), Some(c2), Some(c3)) => {
                let cp = (u32::from(lead & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
                if (0x10000..=0x10FFFF).contains(&cp) {
                    (Some(cp), 4)
                } else {
                    (None, 1)
                }
            }
            _ => (None, 1),
        },
        _ => (None, 1),
    }
}

/// Truncates `s` to at most `n` chars (Python's `%.200R` precision).
fn truncate_chars(mut s: String, n: usize) -> String {
    if let Some((idx, _)) = s.char_indices().nth(n) {
        s.truncate(idx);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Floats
// ---------------------------------------------------------------------------------------------

/// Writes Python's `repr(x)` into a stack buffer.
fn float_repr_buf(x: f64) -> StackBuf {
    use fmt::Write as _;
    let mut out = StackBuf::new();
    if x.is_nan() {
        out.extend(b"nan");
        return out;
    }
    if x.is_sign_negative() {
        out.push(b'-');
    }
    if x.is_infinite() {
        out.extend(b"inf");
        return out;
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, nearest to the true value like
    // CPython's dtoa mode 0 (exact ties are settled below), as `d[.ddd]e[-]x`.
    let mut sci = StackBuf::new();
    if write!(sci, "{:e}", x.abs()).is_err() {
        return out;
    }
    let text = sci.bytes();
    let e_at = text.iter().position(|&c| c == b'e').unwrap_or(text.len());
    let mut mantissa: u64 = 0;
    let mut n: i32 = 0;
    for &c in &text[..e_at] {
        if c.is_ascii_digit() && n < 19 {
            mantissa = mantissa * 10 + u64::from(c - b'0');
            n += 1;
        }
    }
    let mut exp: i32 = 0;
    let mut exp_neg = false;
    for &c in text.get(e_at + 1..).unwrap_or(&[]) {
        match c {
            b'-' => exp_neg = true,
            b'0'..=b'9' => exp = exp.saturating_mul(10).saturating_add(i32::from(c - b'0')),
            _ => {}
        }
    }
    if exp_neg {
        exp = -exp;
    }
    // `mantissa * 10^k` is the value Rust chose; break exact ties to even as dtoa does.
    let k = exp - (n.max(1) - 1);
    let mantissa = round_tie_to_even(x.abs(), mantissa, k);
    let mut digits_buf = [0u8; 20];
    let mut start = digits_buf.len();
    let mut m = mantissa;
    loop {
        start -= 1;
        digits_buf[start] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 || start == 0 {
            break;
        }
    }
    let all = &digits_buf[start..];
    let exp = k + all.len() as i32 - 1;
    let trailing = all.iter().rev().take_while(|&&c| c == b'0').count();
    let digits = &all[..(all.len() - trailing).max(1)];
    // `float_repr_style == 'short'`: fixed notation when -4 <= exp < 16, else scientific.
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.extend(digits);
                for _ in digits.len()..int_len {
                    out.push(b'0');
                }
                out.extend(b".0");
            } else {
                out.extend(&digits[..int_len]);
                out.push(b'.');
                out.extend(&digits[int_len..]);
            }
        } else {
            out.extend(b"0.");
            for _ in 1..-exp {
                out.push(b'0');
            }
            out.extend(digits);
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend(&digits[1..]);
        }
        out.extend(if exp < 0 { b"e-" } else { b"e+" });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push(b'0');
        }
        let _ = write!(out, "{a}");
    }
    out
}

/// Whether `x` (finite, non-negative) is exactly `m * 10^p`, for an odd `m`.
fn exactly_equals(x: f64, m: u64, p: i32) -> bool {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7FF) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (mut xm, mut xq) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), biased - 1075)
    };
    if xm == 0 {
        return false;
    }
    xq += xm.trailing_zeros() as i32;
    xm >>= xm.trailing_zeros();
    // x = xm * 2^xq with xm odd; m * 10^p = m * 5^p * 2^p with m odd: the powers of two agree
    // only if xq == p, and then the odd parts must.
    if xq != p {
        return false;
    }
    let Some(five) = 5u128.checked_pow(p.unsigned_abs()) else {
        return false;
    };
    if p >= 0 {
        u128::from(m).checked_mul(five) == Some(u128::from(xm))
    } else {
        u128::from(xm).checked_mul(five) == Some(u128::from(m))
    }
}

/// Python's dtoa picks, among equally near shortest digit strings, the one with an even last
/// digit; Rust's `{:e}` may round such a tie up.  `d * 10^k` is Rust's choice for `x >= 0`.
fn round_tie_to_even(x: f64, d: u64, k: i32) -> u64 {
    if d & 1 == 0 || d >= u64::MAX / 16 {
        return d;
    }
    let other = if exactly_equals(x, d * 10 - 5, k - 1) {
        d - 1
    } else if exactly_equals(x, d * 10 + 5, k - 1) {
        d + 1
    } else {
        return d;
    };
    // Only if the even neighbour reads back as `x` too (it may not at a binade edge).
    use fmt::Write as _;
    let mut probe = StackBuf::new();
    let _ = write!(probe, "{other}e{k}");
    let back = std::str::from_utf8(probe.bytes())
        .ok()
        .and_then(|t| t.parse::<f64>().ok());
    if back == Some(x) {
        other
    } else {
        d
    }
}

/// Python's `repr(x)` for a float: `1.0`, `1e+16`, `1e-05`, `-0.0`, `inf`, `nan`.
pub fn float_repr(x: f64) -> String {
    let buf = float_repr_buf(x);
    String::from_utf8_lossy(buf.bytes()).into_owned()
}

/// Appends Python's `repr(x)` to `out` without allocating (the `FLOAT` opcode argument).
pub fn push_float_repr(x: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(float_repr_buf(x).bytes());
}

/// The length of the longest prefix of `s` that CPython's `_Py_dg_strtod` accepts (0 if none).
fn strtod_prefix(s: &[u8]) -> usize {
    let at = |k: usize| s.get(k).copied().unwrap_or(0);
    let mut i = 0;
    if matches!(at(0), b'+' | b'-') {
        i = 1;
    }
    let int_start = i;
    while at(i).is_ascii_digit() {
        i += 1;
    }
    let mut mantissa_digits = i - int_start;
    if at(i) == b'.' {
        i += 1;
        let frac_start = i;
        while at(i).is_ascii_digit() {
            i += 1;
        }
        mantissa_digits += i - frac_start;
    }
    if mantissa_digits == 0 {
        return 0;
    }
    if matches!(at(i), b'e' | b'E') {
        let mut j = i + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    i
}

/// `_Py_parse_inf_or_nan`: a prefix `[+-](inf|infinity|nan)`, case-insensitive.
fn inf_or_nan_prefix(s: &[u8]) -> Option<(f64, usize)> {
    let (negative, i) = match s.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let rest = &s[i..];
    let starts = |p: &[u8]| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p);
    let (value, len) = if starts(b"infinity") {
        (f64::INFINITY, 8)
    } else if starts(b"inf") {
        (f64::INFINITY, 3)
    } else if starts(b"nan") {
        (f64::NAN, 3)
    } else {
        return None;
    };
    Some((if negative { -value } else { value }, i + len))
}

/// `_PyOS_ascii_strtod`: the value, the length parsed (0: nothing), and whether it overflowed.
fn ascii_strtod(s: &[u8]) -> (f64, usize, bool) {
    let n = strtod_prefix(s);
    if n == 0 {
        return match inf_or_nan_prefix(s) {
            Some((v, len)) => (v, len, false),
            None => (-1.0, 0, false),
        };
    }
    // The prefix is ASCII digits, signs, '.', 'e': always valid for Rust's parser, which
    // rounds correctly like dtoa.
    let v = std::str::from_utf8(&s[..n])
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or(0.0);
    (v, n, v.is_infinite())
}

/// The C unpickler's `FLOAT` line parser (`load_float` / `PyOS_string_to_double`).
///
/// `text` is the line without its trailing `\n`.  Stricter than Python's `float()`: no
/// surrounding whitespace, no underscores; a NUL ends the text; `1e400` is an `OverflowError`.
/// Accepts `[+-]` `inf`, `infinity`, `nan` in any case.
pub fn parse_float(text: &[u8]) -> Result<f64, TextError> {
    if text.is_empty() {
        return Err(TextError::truncated());
    }
    let s = c_str(text);
    let (v, n, overflow) = ascii_strtod(s);
    if n == 0 || overflow {
        // "%.200s" of the C string, which still holds the newline unless a NUL came first.
        let mut shown = s.to_vec();
        if s.len() == text.len() {
            shown.push(b'\n');
        }
        shown.truncate(200);
        let shown = String::from_utf8_lossy(&shown);
        return Err(if n == 0 {
            TextError::new(
                TextErrorKind::Value,
                format!("could not convert string to float: '{shown}'"),
                Some(0),
            )
        } else {
            TextError::new(
                TextErrorKind::Overflow,
                format!("value too large to convert to float: '{shown}'"),
                Some(0),
            )
        });
    }
    if n != s.len() {
        return Err(TextError::new(
            TextErrorKind::Value,
            "could not convert string to float".to_owned(),
            Some(n),
        ));
    }
    Ok(v)
}

/// Python's `float(text)` for a bytes object (the pure-Python unpickler's `load_float`).
///
/// Surrounding whitespace and underscores between digits are allowed; overflow gives ±inf.
pub fn parse_float_literal(text: &[u8]) -> Result<f64, TextError> {
    let bad = || {
        TextError::new(
            TextErrorKind::Value,
            format!(
                "could not convert string to float: {}",
                repr_bytes(text, "b")
            ),
            None,
        )
    };
    let start = text
        .iter()
        .position(|&c| !is_space(c))
        .unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|&c| !is_space(c))
        .map_or(start, |p| p + 1);
    let s = &text[start..end];
    let mut cleaned;
    let s = if s.contains(&b'_') {
        // `_Py_string_to_number_with_underscores`: each '_' must sit between two digits.
        cleaned = Vec::with_capacity(s.len());
        let mut prev = 0u8;
        for &c in s {
            if c == b'_' {
                if !prev.is_ascii_digit() {
                    return Err(bad());
                }
            } else {
                if prev == b'_' && !c.is_ascii_digit() {
                    return Err(bad());
                }
                cleaned.push(c);
            }
            prev = c;
        }
        if prev == b'_' {
            return Err(bad());
        }
        &cleaned[..]
    } else {
        s
    };
    let (v, n, _) = ascii_strtod(s);
    if n == 0 || n != s.len() {
        return Err(bad());
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------------------------

/// The value of an `INT` or `LONG` text argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntText {
    /// `I00` / `I01` (and the other two-byte spellings of 0 and 1 the C unpickler accepts).
    Bool(bool),
    /// A value that fits in an `i64`.
    Small(i64),
    /// A value outside the `i64` range, as sign and magnitude.
    Big {
        /// Whether the value is negative.
        negative: bool,
        /// The magnitude in base 256, least significant byte first, without trailing zeros.
        magnitude_le: Vec<u8>,
    },
}

/// Why `PyLong_FromString` failed.
enum LongError {
    /// "invalid literal for int() with base N" (N as CPython reports it).
    Invalid { base: u32 },
    /// The `sys.int_max_str_digits` limit was exceeded.
    TooManyDigits { digits: usize, limit: usize },
}

/// Little-endian base-2^32 limbs.
type Limbs = Vec<u32>;

fn limbs_mul_add(limbs: &mut Limbs, mul: u32, add: u32) {
    let mut carry = u64::from(add);
    for limb in limbs.iter_mut() {
        let v = u64::from(*limb) * u64::from(mul) + carry;
        *limb = v as u32;
        carry = v >> 32;
    }
    if carry != 0 {
        limbs.push(carry as u32);
    }
}

fn limbs_to_int(negative: bool, limbs: &[u32]) -> IntText {
    let mut bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    magnitude_to_int(negative, bytes)
}

fn magnitude_to_int(negative: bool, magnitude_le: Vec<u8>) -> IntText {
    if magnitude_le.len() <= 8 {
        let mut b = [0u8; 8];
        b[..magnitude_le.len()].copy_from_slice(&magnitude_le);
        let m = u64::from_le_bytes(b);
        if !negative {
            if let Ok(v) = i64::try_from(m) {
                return IntText::Small(v);
            }
        } else if m <= 1 << 63 {
            return IntText::Small((m as i64).wrapping_neg());
        }
    }
    IntText::Big {
        negative,
        magnitude_le,
    }
}

/// Converts digits of a power-of-two base (underscores already validated, skipped here).
fn binary_base_magnitude(digits: &[u8], bits: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(digits.len() * bits as usize / 8 + 1);
    let mut acc: u32 = 0;
    let mut acc_bits = 0;
    for &c in digits.iter().rev() {
        if c == b'_' {
            continue;
        }
        acc |= digit_value(c) << acc_bits;
        acc_bits += bits;
        while acc_bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            acc_bits -= 8;
        }
    }
    if acc_bits > 0 {
        out.push(acc as u8);
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

/// Converts decimal digits (underscores skipped) with schoolbook base conversion: O(n^2).
fn decimal_limbs(digits: &[u8]) -> Limbs {
    let mut limbs: Limbs = Vec::with_capacity(digits.len() / 9 + 1);
    let mut chunk: u32 = 0;
    let mut chunk_len = 0;
    for &c in digits {
        if c == b'_' {
            continue;
        }
        chunk = chunk * 10 + u32::from(c - b'0');
        chunk_len += 1;
        if chunk_len == 9 {
            limbs_mul_add(&mut limbs, 1_000_000_000, chunk);
            chunk = 0;
            chunk_len = 0;
        }
    }
    if chunk_len > 0 {
        limbs_mul_add(&mut limbs, 10u32.pow(chunk_len), chunk);
    }
    limbs
}

/// `PyLong_FromString(s, NULL, 0)` over a C string `s` (no NUL inside; its end is the NUL).
fn long_from_string(s: &[u8], max_str_digits: usize) -> Result<IntText, LongError> {
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
    let mut error_if_nonzero = false;
    let mut base = if at(i) != b'0' {
        10
    } else {
        match at(i + 1) {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => {
                // "old" C-style octal literal, now invalid; it may still be zero.
                error_if_nonzero = true;
                10
            }
        }
    };
    if base != 10 {
        i += 2;
        if at(i) == b'_' {
            i += 1;
        }
    }
    if at(i) == b'_' {
        return Err(LongError::Invalid { base });
    }
    let start = i;
    let mut prev = 0u8;
    let mut digits = 0usize;
    while digit_value(at(i)) < base || at(i) == b'_' {
        if at(i) == b'_' {
            if prev == b'_' {
                return Err(LongError::Invalid { base });
            }
        } else {
            digits += 1;
        }
        prev = at(i);
        i += 1;
    }
    if prev == b'_' {
        return Err(LongError::Invalid { base });
    }
    let body = &s[start..i];
    let value = if base == 10 {
        if max_str_digits > 0 && digits > max_str_digits {
            return Err(LongError::TooManyDigits {
                digits,
                limit: max_str_digits,
            });
        }
        if digits <= 19 {
            let m = body
                .iter()
                .filter(|&&c| c != b'_')
                .fold(0u64, |m, &c| m * 10 + u64::from(c - b'0'));
            limbs_to_int(negative, &[m as u32, (m >> 32) as u32])
        } else {
            limbs_to_int(negative, &decimal_limbs(body))
        }
    } else {
        let bits = base.trailing_zeros();
        magnitude_to_int(negative, binary_base_magnitude(body, bits))
    };
    if error_if_nonzero {
        base = 0;
        if value != IntText::Small(0) {
            return Err(LongError::Invalid { base });
        }
    }
    if i == start {
        return Err(LongError::Invalid { base });
    }
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    if i != s.len() {
        return Err(LongError::Invalid { base });
    }
    Ok(value)
}

#[cold]
fn too_many_digits(digits: usize, limit: usize) -> TextError {
    TextError::new(
        TextErrorKind::Value,
        format!(
            "Exceeds the limit ({limit} digits) for integer string conversion: value has \
             {digits} digits; use sys.set_int_max_str_digits() to increase the limit"
        ),
        None,
    )
}

/// glibc `strtol(s, &end, 0)` succeeding on all of `s` without overflow.
fn c_strtol_full(s: &[u8]) -> Option<i64> {
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
    let base: u32 = if at(i) == b'0' && matches!(at(i + 1), b'x' | b'X') {
        i += 2;
        16
    } else if at(i) == b'0' {
        8
    } else {
        10
    };
    let start = i;
    let mut m: u64 = 0;
    while i < s.len() && digit_value(s[i]) < base {
        m = m
            .checked_mul(u64::from(base))?
            .checked_add(u64::from(digit_value(s[i])))?;
        i += 1;
    }
    // Anything left over (including a trailing "\n" handled by the caller) is a failure here;
    // the caller then falls back to `PyLong_FromString`, which decides the outcome.
    if i == start || i != s.len() {
        return None;
    }
    if negative {
        if m <= 1 << 63 {
            Some((m as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(m).ok()
    }
}

/// The C string a `_pickle` text-line handler sees: the line with its `\n`, up to a NUL.
fn line_c_str(text: &[u8]) -> Vec<u8> {
    let s = c_str(text);
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s);
    if s.len() == text.len() {
        v.push(b'\n');
    }
    v
}

/// The C unpickler's `INT` line parser (`load_int`).
///
/// `text` is the line without its `\n`.  Like CPython: `strtol(…, 0)` first (so `010` is octal
/// 8 and a two-byte text equal to 0 or 1, such as `00`, `01`, `+1`, is a bool), falling back
/// to `int(text, 0)` (underscores, `0o`/`0b`, big values) limited to `max_str_digits` decimal
/// digits (0: unlimited; CPython's default is [`INT_MAX_STR_DIGITS`]).
pub fn parse_int_line(text: &[u8], max_str_digits: usize) -> Result<IntText, TextError> {
    if text.is_empty() {
        return Err(TextError::truncated());
    }
    let s = c_str(text);
    // With nothing before a NUL, strtol converts nothing but stops at the NUL: a 0.
    let parsed = if s.is_empty() {
        Some(0)
    } else {
        c_strtol_full(s)
    };
    if let Some(x) = parsed {
        return Ok(if text.len() == 2 && (x == 0 || x == 1) {
            IntText::Bool(x == 1)
        } else {
            IntText::Small(x)
        });
    }
    long_from_string(&line_c_str(text), max_str_digits).map_err(|_| {
        TextError::new(
            TextErrorKind::Value,
            "could not convert string to int".to_owned(),
            None,
        )
    })
}

/// The C unpickler's `LONG` line parser (`load_long`): one trailing `L` dropped, then
/// `int(text, 0)` with CPython's error messages.  See [`parse_int_line`] for the arguments.
pub fn parse_long_line(text: &[u8], max_str_digits: usize) -> Result<IntText, TextError> {
    let Some(&last) = text.last() else {
        return Err(TextError::truncated());
    };
    let s = if last == b'L' {
        c_str(&text[..text.len() - 1]).to_vec()
    } else {
        line_c_str(text)
    };
    long_from_string(&s, max_str_digits).map_err(|e| match e {
        LongError::TooManyDigits { digits, limit } => too_many_digits(digits, limit),
        LongError::Invalid { base } => {
            // CPython decodes the first 200 bytes as strict UTF-8 for the message.
            let shown = &s[..s.len().min(200)];
            match std::str::from_utf8(shown) {
                Ok(t) => TextError::new(
                    TextErrorKind::Value,
                    format!(
                        "invalid literal for int() with base {base}: {}",
                        truncate_chars(repr_str(t.as_bytes()), 200)
                    ),
                    None,
                ),
                Err(u) => utf8_error_from_std(shown, 0, &u),
            }
        }
    })
}

/// Python's `int(text, 0)` for a bytes object (the pure-Python unpickler's `INT`/`LONG`).
///
/// Surrounding whitespace, sign, `0x`/`0o`/`0b` prefixes and single underscores between
/// digits are allowed; `010` is an error; at most `max_str_digits` decimal digits (0: no limit).
pub fn parse_int_literal(text: &[u8], max_str_digits: usize) -> Result<IntText, TextError> {
    let s = c_str(text);
    match long_from_string(s, max_str_digits) {
        Ok(v) if s.len() == text.len() => Ok(v),
        Err(LongError::TooManyDigits { digits, limit }) => Err(too_many_digits(digits, limit)),
        _ => Err(TextError::new(
            TextErrorKind::Value,
            format!(
                "invalid literal for int() with base 0: {}",
                truncate_chars(repr_bytes(&text[..text.len().min(200)], "b"), 200)
            ),
            None,
        )),
    }
}

/// Python's `repr(int)` of the value with sign `negative` and magnitude `magnitude_le`
/// (base 256, least significant first; trailing zero bytes allowed).  O(n^2).
///
/// CPython refuses to write more than `sys.int_max_str_digits` digits (4300 by default,
/// counted without the sign); that check is the caller's, on the length of the result.
pub fn int_to_decimal(negative: bool, magnitude_le: &[u8]) -> String {
    let mut end = magnitude_le.len();
    while end > 0 && magnitude_le[end - 1] == 0 {
        end -= 1;
    }
    let mag = &magnitude_le[..end];
    let mut out = String::new();
    if mag.is_empty() {
        out.push('0');
        return out;
    }
    if negative {
        out.push('-');
    }
    if mag.len() <= 16 {
        let mut b = [0u8; 16];
        b[..mag.len()].copy_from_slice(mag);
        out.push_str(&u128::from_le_bytes(b).to_string());
        return out;
    }
    // Most significant limb first, so repeated division by 10^9 walks it in order.
    let mut limbs: Vec<u32> = mag
        .chunks(4)
        .rev()
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(b)
        })
        .collect();
    let mut chunks: Vec<u32> = Vec::with_capacity(mag.len() * 8 / 29 + 1);
    let mut first = 0;
    while first < limbs.len() {
        let mut rem: u64 = 0;
        for limb in &mut limbs[first..] {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
        while first < limbs.len() && limbs[first] == 0 {
            first += 1;
        }
    }
    out.reserve(chunks.len() * 9);
    let mut iter = chunks.iter().rev();
    if let Some(top) = iter.next() {
        out.push_str(&top.to_string());
    }
    for c in iter {
        let mut buf = [b'0'; 9];
        let mut v = *c;
        for slot in buf.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.extend(buf.iter().map(|&b| b as char));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// STRING / UNICODE opcode arguments
// ---------------------------------------------------------------------------------------------

/// Decodes a `STRING` opcode argument: strips the matching quotes, then `codecs.escape_decode`.
///
/// `quoted` is the line without its `\n`.  Error positions in messages count from the byte
/// after the opening quote, as CPython's do; [`TextError::position`] counts from `quoted[0]`.
pub fn decode_string_escape(quoted: &[u8]) -> Result<Vec<u8>, TextError> {
    let inner = match quoted {
        [q @ (b'\'' | b'"'), inner @ .., last] if last == q => inner,
        _ => {
            return Err(TextError::new(
                TextErrorKind::Unpickling,
                "the STRING opcode argument must be quoted".to_owned(),
                Some(0),
            ))
        }
    };
    escape_decode(inner).map_err(|mut e| {
        e.position = e.position.map(|p| p + 1);
        e
    })
}

/// `codecs.escape_decode`: Python bytes-literal escapes (`_PyBytes_DecodeEscape`, strict).
fn escape_decode(s: &[u8]) -> Result<Vec<u8>, TextError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        // Copy the run up to the next backslash in one go.
        let run = s[i..]
            .iter()
            .position(|&c| c == b'\\')
            .unwrap_or(s.len() - i);
        out.extend_from_slice(&s[i..i + run]);
        i += run;
        if i >= s.len() {
            break;
        }
        let backslash = i;
        i += 1;
        let Some(&c) = s.get(i) else {
            return Err(TextError::new(
                TextErrorKind::Value,
                "Trailing \\ in string".to_owned(),
                Some(backslash),
            ));
        };
        i += 1;
        match c {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(c),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0C),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0B),
            b'a' => out.push(0x07),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = (v << 3) + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => match (s.get(i), s.get(i + 1)) {
                (Some(&h), Some(&l)) if digit_value(h) < 16 && digit_value(l) < 16 => {
                    out.push(((digit_value(h) << 4) + digit_value(l)) as u8);
                    i += 2;
                }
                _ => {
                    return Err(TextError::new(
                        TextErrorKind::Value,
                        format!("invalid \\x escape at position {backslash}"),
                        Some(backslash),
                    ))
                }
            },
            _ => {
                // Unknown escapes are kept: the backslash, then the character as usual.
                out.push(b'\\');
                i -= 1;
            }
        }
    }
    Ok(out)
}

/// Formats CPython's `UnicodeDecodeError` message for `data[start..end]`.
#[cold]
fn decode_error(codec: &str, data: &[u8], start: usize, end: usize, reason: &str) -> TextError {
    let message = if end == start + 1 {
        format!(
            "'{codec}' codec can't decode byte 0x{:02x} in position {start}: {reason}",
            data.get(start).copied().unwrap_or(0)
        )
    } else {
        format!(
            "'{codec}' codec can't decode bytes in position {start}-{}: {reason}",
            end.saturating_sub(1)
        )
    };
    TextError::new(TextErrorKind::UnicodeDecode, message, Some(start))
}

/// CPython's strict UTF-8 error for the first error std found in `data[offset..]`.
#[cold]
fn utf8_error_from_std(data: &[u8], offset: usize, e: &std::str::Utf8Error) -> TextError {
    let start = offset + e.valid_up_to();
    match e.error_len() {
        None => decode_error("utf-8", data, start, data.len(), "unexpected end of data"),
        Some(n) => {
            // std's error length is the maximal valid prefix, which is CPython's range too.
            let lead = data.get(start).copied().unwrap_or(0);
            if matches!(lead, 0x80..=0xC1 | 0xF5..=0xFF) {
                decode_error("utf-8", data, start, start + 1, "invalid start byte")
            } else {
                decode_error("utf-8", data, start, start + n, "invalid continuation byte")
            }
        }
    }
}

/// Checks `b` as CPython's `b.decode('utf-8', 'surrogatepass')` does.
///
/// `Ok(true)`: plain UTF-8 (a valid Rust `str`); `Ok(false)`: valid only thanks to encoded
/// lone surrogates (`ED A0..BF 80..BF`); `Err`: CPython's `UnicodeDecodeError` message.
pub fn validate_utf8_surrogatepass(b: &[u8]) -> Result<bool, TextError> {
    let mut offset = 0;
    let mut plain = true;
    loop {
        match std::str::from_utf8(&b[offset..]) {
            Ok(_) => return Ok(plain),
            Err(e) => {
                let at = offset + e.valid_up_to();
                match b.get(at..at + 3) {
                    Some([0xED, 0xA0..=0xBF, 0x80..=0xBF]) => {
                        plain = false;
                        offset = at + 3;
                    }
                    _ => return Err(utf8_error_from_std(b, offset, &e)),
                }
            }
        }
    }
}

/// Decodes a `UNICODE` opcode argument: Python's `raw-unicode-escape` codec (strict).
///
/// Bytes are Latin-1 code points, except `\uXXXX` and `\UXXXXXXXX` (at most U+10FFFF) after
/// an odd number of backslashes.  Surrogates stay separate code points (`\ud83d\ude00` is two).
/// The result is generalized UTF-8.
pub fn decode_raw_unicode_escape(data: &[u8]) -> Result<Vec<u8>, TextError> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 8);
    let mut i = 0;
    while i < data.len() {
        // ASCII other than backslash copies through unchanged.
        let run = data[i..]
            .iter()
            .position(|&c| c == b'\\' || c >= 0x80)
            .unwrap_or(data.len() - i);
        out.extend_from_slice(&data[i..i + run]);
        i += run;
        let Some(&c) = data.get(i) else { break };
        i += 1;
        if c != b'\\' {
            push_code_point(&mut out, u32::from(c));
            continue;
        }
        let start = i - 1;
        let (count, message) = match data.get(i) {
            Some(b'u') => (4, "truncated \\uXXXX escape"),
            Some(b'U') => (8, "truncated \\UXXXXXXXX escape"),
            Some(&other) => {
                // A backslash pair (or any other escape) is literal, so `\\u` stays as is.
                out.push(b'\\');
                push_code_point(&mut out, u32::from(other));
                i += 1;
                continue;
            }
            None => {
                out.push(b'\\');
                continue;
            }
        };
        i += 1;
        let mut cp: u32 = 0;
        for _ in 0..count {
            match data.get(i).map(|&h| digit_value(h)) {
                Some(d) if d < 16 => {
                    cp = (cp << 4) | d;
                    i += 1;
                }
                _ => return Err(decode_error("rawunicodeescape", data, start, i, message)),
            }
        }
        if cp > 0x10FFFF {
            return Err(decode_error(
                "rawunicodeescape",
                data,
                start,
                i,
                "\\Uxxxxxxxx out of range",
            ));
        }
        push_code_point(&mut out, cp);
    }
    Ok(out)
}

/// Appends what CPython's C pickler writes for a str at protocol 0 (`raw_unicode_escape`).
///
/// `s` is generalized UTF-8.  `\`, NUL, `\n`, `\r` and `\x1a` become `\u005c` etc., U+0080..
/// U+00FF raw Latin-1 bytes, U+0100..U+FFFF (lone surrogates included) `\uxxxx`, the rest
/// `\Uxxxxxxxx`; other ASCII is copied.  Invalid UTF-8 is written as `\ufffd` per bad byte.
pub fn push_raw_unicode_escape_p0(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len());
    let mut i = 0;
    while i < s.len() {
        let run = s[i..]
            .iter()
            .position(|&c| matches!(c, b'\\' | 0 | b'\n' | b'\r' | 0x1a | 0x80..=0xFF))
            .unwrap_or(s.len() - i);
        out.extend_from_slice(&s[i..i + run]);
        i += run;
        if i >= s.len() {
            break;
        }
        let (cp, len) = next_code_point(s, i);
        i += len;
        let cp = cp.unwrap_or(0xFFFD);
        if cp >= 0x10000 {
            out.extend_from_slice(b"\\U");
            for shift in (0..8).rev() {
                out.push(HEX[((cp >> (shift * 4)) & 0xF) as usize]);
            }
        } else if !(0x80..0x100).contains(&cp) {
            out.extend_from_slice(b"\\u");
            for shift in (0..4).rev() {
                out.push(HEX[((cp >> (shift * 4)) & 0xF) as usize]);
            }
        } else {
            out.push(cp as u8);
        }
    }
}

/// What CPython's C pickler writes for a str at protocol 0; see [`push_raw_unicode_escape_p0`].
pub fn encode_raw_unicode_escape_p0(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 8);
    push_raw_unicode_escape_p0(s, &mut out);
    out
}

/// `bytes.decode('latin1')` as generalized UTF-8.
pub fn latin1_to_utf8(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + b.iter().filter(|&&c| c >= 0x80).count());
    for &c in b {
        push_code_point(&mut out, u32::from(c));
    }
    out
}

/// `str.encode('latin1')` of a generalized UTF-8 string; `None` if a code point is above
/// U+00FF or `s` is not generalized UTF-8.
pub fn utf8_to_latin1(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] < 0x80 {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let (cp, len) = next_code_point(s, i);
        out.push(u8::try_from(cp?).ok()?);
        i += len;
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// repr()
// ---------------------------------------------------------------------------------------------

/// Python 3.11's `str.isprintable()` for one code point (Unicode 14.0.0, exact).
///
/// A code point is printable unless its category is Cc, Cf, Cs, Co, Cn, Zl, Zp or Zs
/// (U+0020 SPACE excepted), from a table of the code points where that flips.
pub fn is_printable(cp: u32) -> bool {
    if (0x20..0x7F).contains(&cp) {
        return true;
    }
    if cp < 0xA1 {
        return false;
    }
    if cp <= 0xFF {
        return cp != 0xAD;
    }
    NON_PRINTABLE_TOGGLES.partition_point(|&b| b <= cp) % 2 == 0
}

/// Appends `\` + `kind` + `digits` lowercase hex digits of `cp`.
fn push_hex_escape(out: &mut String, kind: char, cp: u32, digits: u32) {
    out.push('\\');
    out.push(kind);
    for shift in (0..digits).rev() {
        out.push(char::from(HEX[((cp >> (shift * 4)) & 0xF) as usize]));
    }
}

/// Python's quote choice: `"` when the text has `'` and no `"`, else `'`.
fn repr_quote(s: &[u8]) -> u8 {
    if s.contains(&b'\'') && !s.contains(&b'"') {
        b'"'
    } else {
        b'\''
    }
}

/// Appends the ASCII byte `c` as `repr()` shows it inside `quote`s.
fn push_ascii_repr(out: &mut String, c: u8, quote: u8) {
    match c {
        b'\\' => out.push_str("\\\\"),
        b'\t' => out.push_str("\\t"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        _ if c == quote => {
            out.push('\\');
            out.push(char::from(c));
        }
        0x20..=0x7E => out.push(char::from(c)),
        _ => push_hex_escape(out, 'x', u32::from(c), 2),
    }
}

/// Copies the leading run of bytes `repr()` shows unchanged; returns its length.
fn push_plain_ascii_run(out: &mut String, s: &[u8], quote: u8) -> usize {
    let n = s
        .iter()
        .position(|&c| !(0x20..0x7F).contains(&c) || c == b'\\' || c == quote)
        .unwrap_or(s.len());
    // The run is printable ASCII, so this never fails.
    out.push_str(std::str::from_utf8(&s[..n]).unwrap_or_default());
    n
}

/// Python's `repr(s)` for a str given as generalized UTF-8.
///
/// Non-printable code points (see [`is_printable`]) are escaped as `\xhh`, `\uhhhh` or
/// `\Uhhhhhhhh`, lone surrogates included.  Bytes that are not generalized UTF-8 (which no
/// Python str produces) are shown as U+FFFD, one per bad byte.
pub fn repr_str(s: &[u8]) -> String {
    let quote = repr_quote(s);
    let mut out = String::with_capacity(s.len() + 2);
    out.push(char::from(quote));
    let mut i = 0;
    while i < s.len() {
        i += push_plain_ascii_run(&mut out, &s[i..], quote);
        let Some(&c) = s.get(i) else { break };
        if c < 0x80 {
            push_ascii_repr(&mut out, c, quote);
            i += 1;
            continue;
        }
        let (cp, len) = next_code_point(s, i);
        i += len;
        let cp = cp.unwrap_or(0xFFFD);
        match char::from_u32(cp) {
            Some(ch) if is_printable(cp) => out.push(ch),
            _ if cp <= 0xFF => push_hex_escape(&mut out, 'x', cp, 2),
            _ if cp <= 0xFFFF => push_hex_escape(&mut out, 'u', cp, 4),
            _ => push_hex_escape(&mut out, 'U', cp, 8),
        }
    }
    out.push(char::from(quote));
    out
}

/// Python's `repr(b)` for bytes, with `prefix` (normally `"b"`) before the opening quote.
pub fn repr_bytes(b: &[u8], prefix: &str) -> String {
    let quote = repr_quote(b);
    let mut out = String::with_capacity(prefix.len() + b.len() + 2);
    out.push_str(prefix);
    out.push(char::from(quote));
    let mut i = 0;
    while i < b.len() {
        i += push_plain_ascii_run(&mut out, &b[i..], quote);
        if let Some(&c) = b.get(i) {
            push_ascii_repr(&mut out, c, quote);
            i += 1;
        }
    }
    out.push(char::from(quote));
    out
}

/// Code points at which `str.isprintable()` flips, starting non-printable at U+0000.
///
/// A code point is non-printable iff an odd number of entries are `<=` it.  Generated from
/// CPython 3.11 (Unicode 14.0.0) by
/// `[c for c in range(0x110000) if chr(c).isprintable() != (c == 0 or chr(c - 1).isprintable())]`;
/// the `printable_table_matches_python3` test re-derives it.
static NON_PRINTABLE_TOGGLES: [u32; 1401] = [
    0x0, 0x20, 0x7f, 0xa1, 0xad, 0xae, 0x378, 0x37a, 0x380, 0x384, 0x38b, 0x38c, 0x38d, 0x38e,
    0x3a2, 0x3a3, 0x530, 0x531, 0x557, 0x559, 0x58b, 0x58d, 0x590, 0x591, 0x5c8, 0x5d0, 0x5eb,
    0x5ef, 0x5f5, 0x606, 0x61c, 0x61d, 0x6dd, 0x6de, 0x70e, 0x710, 0x74b, 0x74d, 0x7b2, 0x7c0,
    0x7fb, 0x7fd, 0x82e, 0x830, 0x83f, 0x840, 0x85c, 0x85e, 0x85f, 0x860, 0x86b, 0x870, 0x88f,
    0x898, 0x8e2, 0x8e3, 0x984, 0x985, 0x98d, 0x98f, 0x991, 0x993, 0x9a9, 0x9aa, 0x9b1, 0x9b2,
    0x9b3, 0x9b6, 0x9ba, 0x9bc, 0x9c5, 0x9c7, 0x9c9, 0x9cb, 0x9cf, 0x9d7, 0x9d8, 0x9dc, 0x9de,
    0x9df, 0x9e4, 0x9e6, 0x9ff, 0xa01, 0xa04, 0xa05, 0xa0b, 0xa0f, 0xa11, 0xa13, 0xa29, 0xa2a,
    0xa31, 0xa32, 0xa34, 0xa35, 0xa37, 0xa38, 0xa3a, 0xa3c, 0xa3d, 0xa3e, 0xa43, 0xa47, 0xa49,
    0xa4b, 0xa4e, 0xa51, 0xa52, 0xa59, 0xa5d, 0xa5e, 0xa5f, 0xa66, 0xa77, 0xa81, 0xa84, 0xa85,
    0xa8e, 0xa8f, 0xa92, 0xa93, 0xaa9, 0xaaa, 0xab1, 0xab2, 0xab4, 0xab5, 0xaba, 0xabc, 0xac6,
    0xac7, 0xaca, 0xacb, 0xace, 0xad0, 0xad1, 0xae0, 0xae4, 0xae6, 0xaf2, 0xaf9, 0xb00, 0xb01,
    0xb04, 0xb05, 0xb0d, 0xb0f, 0xb11, 0xb13, 0xb29, 0xb2a, 0xb31, 0xb32, 0xb34, 0xb35, 0xb3a,
    0xb3c, 0xb45, 0xb47, 0xb49, 0xb4b, 0xb4e, 0xb55, 0xb58, 0xb5c, 0xb5e, 0xb5f, 0xb64, 0xb66,
    0xb78, 0xb82, 0xb84, 0xb85, 0xb8b, 0xb8e, 0xb91, 0xb92, 0xb96, 0xb99, 0xb9b, 0xb9c, 0xb9d,
    0xb9e, 0xba0, 0xba3, 0xba5, 0xba8, 0xbab, 0xbae, 0xbba, 0xbbe, 0xbc3, 0xbc6, 0xbc9, 0xbca,
    0xbce, 0xbd0, 0xbd1, 0xbd7, 0xbd8, 0xbe6, 0xbfb, 0xc00, 0xc0d, 0xc0e, 0xc11, 0xc12, 0xc29,
    0xc2a, 0xc3a, 0xc3c, 0xc45, 0xc46, 0xc49, 0xc4a, 0xc4e, 0xc55, 0xc57, 0xc58, 0xc5b, 0xc5d,
    0xc5e, 0xc60, 0xc64, 0xc66, 0xc70, 0xc77, 0xc8d, 0xc8e, 0xc91, 0xc92, 0xca9, 0xcaa, 0xcb4,
    0xcb5, 0xcba, 0xcbc, 0xcc5, 0xcc6, 0xcc9, 0xcca, 0xcce, 0xcd5, 0xcd7, 0xcdd, 0xcdf, 0xce0,
    0xce4, 0xce6, 0xcf0, 0xcf1, 0xcf3, 0xd00, 0xd0d, 0xd0e, 0xd11, 0xd12, 0xd45, 0xd46, 0xd49,
    0xd4a, 0xd50, 0xd54, 0xd64, 0xd66, 0xd80, 0xd81, 0xd84, 0xd85, 0xd97, 0xd9a, 0xdb2, 0xdb3,
    0xdbc, 0xdbd, 0xdbe, 0xdc0, 0xdc7, 0xdca, 0xdcb, 0xdcf, 0xdd5, 0xdd6, 0xdd7, 0xdd8, 0xde0,
    0xde6, 0xdf0, 0xdf2, 0xdf5, 0xe01, 0xe3b, 0xe3f, 0xe5c, 0xe81, 0xe83, 0xe84, 0xe85, 0xe86,
    0xe8b, 0xe8c, 0xea4, 0xea5, 0xea6, 0xea7, 0xebe, 0xec0, 0xec5, 0xec6, 0xec7, 0xec8, 0xece,
    0xed0, 0xeda, 0xedc, 0xee0, 0xf00, 0xf48, 0xf49, 0xf6d, 0xf71, 0xf98, 0xf99, 0xfbd, 0xfbe,
    0xfcd, 0xfce, 0xfdb, 0x1000, 0x10c6, 0x10c7, 0x10c8, 0x10cd, 0x10ce, 0x10d0, 0x1249, 0x124a,
    0x124e, 0x1250, 0x1257, 0x1258, 0x1259, 0x125a, 0x125e, 0x1260, 0x1289, 0x128a, 0x128e, 0x1290,
    0x12b1, 0x12b2, 0x12b6, 0x12b8, 0x12bf, 0x12c0, 0x12c1, 0x12c2, 0x12c6, 0x12c8, 0x12d7, 0x12d8,
    0x1311, 0x1312, 0x1316, 0x1318, 0x135b, 0x135d, 0x137d, 0x1380, 0x139a, 0x13a0, 0x13f6, 0x13f8,
    0x13fe, 0x1400, 0x1680, 0x1681, 0x169d, 0x16a0, 0x16f9, 0x1700, 0x1716, 0x171f, 0x1737, 0x1740,
    0x1754, 0x1760, 0x176d, 0x176e, 0x1771, 0x1772, 0x1774, 0x1780, 0x17de, 0x17e0, 0x17ea, 0x17f0,
    0x17fa, 0x1800, 0x180e, 0x180f, 0x181a, 0x1820, 0x1879, 0x1880, 0x18ab, 0x18b0, 0x18f6, 0x1900,
    0x191f, 0x1920, 0x192c, 0x1930, 0x193c, 0x1940, 0x1941, 0x1944, 0x196e, 0x1970, 0x1975, 0x1980,
    0x19ac, 0x19b0, 0x19ca, 0x19d0, 0x19db, 0x19de, 0x1a1c, 0x1a1e, 0x1a5f, 0x1a60, 0x1a7d, 0x1a7f,
    0x1a8a, 0x1a90, 0x1a9a, 0x1aa0, 0x1aae, 0x1ab0, 0x1acf, 0x1b00, 0x1b4d, 0x1b50, 0x1b7f, 0x1b80,
    0x1bf4, 0x1bfc, 0x1c38, 0x1c3b, 0x1c4a, 0x1c4d, 0x1c89, 0x1c90, 0x1cbb, 0x1cbd, 0x1cc8, 0x1cd0,
    0x1cfb, 0x1d00, 0x1f16, 0x1f18, 0x1f1e, 0x1f20, 0x1f46, 0x1f48, 0x1f4e, 0x1f50, 0x1f58, 0x1f59,
    0x1f5a, 0x1f5b, 0x1f5c, 0x1f5d, 0x1f5e, 0x1f5f, 0x1f7e, 0x1f80, 0x1fb5, 0x1fb6, 0x1fc5, 0x1fc6,
    0x1fd4, 0x1fd6, 0x1fdc, 0x1fdd, 0x1ff0, 0x1ff2, 0x1ff5, 0x1ff6, 0x1fff, 0x2010, 0x2028, 0x2030,
    0x205f, 0x2070, 0x2072, 0x2074, 0x208f, 0x2090, 0x209d, 0x20a0, 0x20c1, 0x20d0, 0x20f1, 0x2100,
    0x218c, 0x2190, 0x2427, 0x2440, 0x244b, 0x2460, 0x2b74, 0x2b76, 0x2b96, 0x2b97, 0x2cf4, 0x2cf9,
    0x2d26, 0x2d27, 0x2d28, 0x2d2d, 0x2d2e, 0x2d30, 0x2d68, 0x2d6f, 0x2d71, 0x2d7f, 0x2d97, 0x2da0,
    0x2da7, 0x2da8, 0x2daf, 0x2db0, 0x2db7, 0x2db8, 0x2dbf, 0x2dc0, 0x2dc7, 0x2dc8, 0x2dcf, 0x2dd0,
    0x2dd7, 0x2dd8, 0x2ddf, 0x2de0, 0x2e5e, 0x2e80, 0x2e9a, 0x2e9b, 0x2ef4, 0x2f00, 0x2fd6, 0x2ff0,
    0x2ffc, 0x3001, 0x3040, 0x3041, 0x3097, 0x3099, 0x3100, 0x3105, 0x3130, 0x3131, 0x318f, 0x3190,
    0x31e4, 0x31f0, 0x321f, 0x3220, 0xa48d, 0xa490, 0xa4c7, 0xa4d0, 0xa62c, 0xa640, 0xa6f8, 0xa700,
    0xa7cb, 0xa7d0, 0xa7d2, 0xa7d3, 0xa7d4, 0xa7d5, 0xa7da, 0xa7f2, 0xa82d, 0xa830, 0xa83a, 0xa840,
    0xa878, 0xa880, 0xa8c6, 0xa8ce, 0xa8da, 0xa8e0, 0xa954, 0xa95f, 0xa97d, 0xa980, 0xa9ce, 0xa9cf,
    0xa9da, 0xa9de, 0xa9ff, 0xaa00, 0xaa37, 0xaa40, 0xaa4e, 0xaa50, 0xaa5a, 0xaa5c, 0xaac3, 0xaadb,
    0xaaf7, 0xab01, 0xab07, 0xab09, 0xab0f, 0xab11, 0xab17, 0xab20, 0xab27, 0xab28, 0xab2f, 0xab30,
    0xab6c, 0xab70, 0xabee, 0xabf0, 0xabfa, 0xac00, 0xd7a4, 0xd7b0, 0xd7c7, 0xd7cb, 0xd7fc, 0xf900,
    0xfa6e, 0xfa70, 0xfada, 0xfb00, 0xfb07, 0xfb13, 0xfb18, 0xfb1d, 0xfb37, 0xfb38, 0xfb3d, 0xfb3e,
    0xfb3f, 0xfb40, 0xfb42, 0xfb43, 0xfb45, 0xfb46, 0xfbc3, 0xfbd3, 0xfd90, 0xfd92, 0xfdc8, 0xfdcf,
    0xfdd0, 0xfdf0, 0xfe1a, 0xfe20, 0xfe53, 0xfe54, 0xfe67, 0xfe68, 0xfe6c, 0xfe70, 0xfe75, 0xfe76,
    0xfefd, 0xff01, 0xffbf, 0xffc2, 0xffc8, 0xffca, 0xffd0, 0xffd2, 0xffd8, 0xffda, 0xffdd, 0xffe0,
    0xffe7, 0xffe8, 0xffef, 0xfffc, 0xfffe, 0x10000, 0x1000c, 0x1000d, 0x10027, 0x10028, 0x1003b,
    0x1003c, 0x1003e, 0x1003f, 0x1004e, 0x10050, 0x1005e, 0x10080, 0x100fb, 0x10100, 0x10103,
    0x10107, 0x10134, 0x10137, 0x1018f, 0x10190, 0x1019d, 0x101a0, 0x101a1, 0x101d0, 0x101fe,
    0x10280, 0x1029d, 0x102a0, 0x102d1, 0x102e0, 0x102fc, 0x10300, 0x10324, 0x1032d, 0x1034b,
    0x10350, 0x1037b, 0x10380, 0x1039e, 0x1039f, 0x103c4, 0x103c8, 0x103d6, 0x10400, 0x1049e,
    0x104a0, 0x104aa, 0x104b0, 0x104d4, 0x104d8, 0x104fc, 0x10500, 0x10528, 0x10530, 0x10564,
    0x1056f, 0x1057b, 0x1057c, 0x1058b, 0x1058c, 0x10593, 0x10594, 0x10596, 0x10597, 0x105a2,
    0x105a3, 0x105b2, 0x105b3, 0x105ba, 0x105bb, 0x105bd, 0x10600, 0x10737, 0x10740, 0x10756,
    0x10760, 0x10768, 0x10780, 0x10786, 0x10787, 0x107b1, 0x107b2, 0x107bb, 0x10800, 0x10806,
    0x10808, 0x10809, 0x1080a, 0x10836, 0x10837, 0x10839, 0x1083c, 0x1083d, 0x1083f, 0x10856,
    0x10857, 0x1089f, 0x108a7, 0x108b0, 0x108e0, 0x108f3, 0x108f4, 0x108f6, 0x108fb, 0x1091c,
    0x1091f, 0x1093a, 0x1093f, 0x10940, 0x10980, 0x109b8, 0x109bc, 0x109d0, 0x109d2, 0x10a04,
    0x10a05, 0x10a07, 0x10a0c, 0x10a14, 0x10a15, 0x10a18, 0x10a19, 0x10a36, 0x10a38, 0x10a3b,
    0x10a3f, 0x10a49, 0x10a50, 0x10a59, 0x10a60, 0x10aa0, 0x10ac0, 0x10ae7, 0x10aeb, 0x10af7,
    0x10b00, 0x10b36, 0x10b39, 0x10b56, 0x10b58, 0x10b73, 0x10b78, 0x10b92, 0x10b99, 0x10b9d,
    0x10ba9, 0x10bb0, 0x10c00, 0x10c49, 0x10c80, 0x10cb3, 0x10cc0, 0x10cf3, 0x10cfa, 0x10d28,
    0x10d30, 0x10d3a, 0x10e60, 0x10e7f, 0x10e80, 0x10eaa, 0x10eab, 0x10eae, 0x10eb0, 0x10eb2,
    0x10f00, 0x10f28, 0x10f30, 0x10f5a, 0x10f70, 0x10f8a, 0x10fb0, 0x10fcc, 0x10fe0, 0x10ff7,
    0x11000, 0x1104e, 0x11052, 0x11076, 0x1107f, 0x110bd, 0x110be, 0x110c3, 0x110d0, 0x110e9,
    0x110f0, 0x110fa, 0x11100, 0x11135, 0x11136, 0x11148, 0x11150, 0x11177, 0x11180, 0x111e0,
    0x111e1, 0x111f5, 0x11200, 0x11212, 0x11213, 0x1123f, 0x11280, 0x11287, 0x11288, 0x11289,
    0x1128a, 0x1128e, 0x1128f, 0x1129e, 0x1129f, 0x112aa, 0x112b0, 0x112eb, 0x112f0, 0x112fa,
    0x11300, 0x11304, 0x11305, 0x1130d, 0x1130f, 0x11311, 0x11313, 0x11329, 0x1132a, 0x11331,
    0x11332, 0x11334, 0x11335, 0x1133a, 0x1133b, 0x11345, 0x11347, 0x11349, 0x1134b, 0x1134e,
    0x11350, 0x11351, 0x11357, 0x11358, 0x1135d, 0x11364, 0x11366, 0x1136d, 0x11370, 0x11375,
    0x11400, 0x1145c, 0x1145d, 0x11462, 0x11480, 0x114c8, 0x114d0, 0x114da, 0x11580, 0x115b6,
    0x115b8, 0x115de, 0x11600, 0x11645, 0x11650, 0x1165a, 0x11660, 0x1166d, 0x11680, 0x116ba,
    0x116c0, 0x116ca, 0x11700, 0x1171b, 0x1171d, 0x1172c, 0x11730, 0x11747, 0x11800, 0x1183c,
    0x118a0, 0x118f3, 0x118ff, 0x11907, 0x11909, 0x1190a, 0x1190c, 0x11914, 0x11915, 0x11917,
    0x11918, 0x11936, 0x11937, 0x11939, 0x1193b, 0x11947, 0x11950, 0x1195a, 0x119a0, 0x119a8,
    0x119aa, 0x119d8, 0x119da, 0x119e5, 0x11a00, 0x11a48, 0x11a50, 0x11aa3, 0x11ab0, 0x11af9,
    0x11c00, 0x11c09, 0x11c0a, 0x11c37, 0x11c38, 0x11c46, 0x11c50, 0x11c6d, 0x11c70, 0x11c90,
    0x11c92, 0x11ca8, 0x11ca9, 0x11cb7, 0x11d00, 0x11d07, 0x11d08, 0x11d0a, 0x11d0b, 0x11d37,
    0x11d3a, 0x11d3b, 0x11d3c, 0x11d3e, 0x11d3f, 0x11d48, 0x11d50, 0x11d5a, 0x11d60, 0x11d66,
    0x11d67, 0x11d69, 0x11d6a, 0x11d8f, 0x11d90, 0x11d92, 0x11d93, 0x11d99, 0x11da0, 0x11daa,
    0x11ee0, 0x11ef9, 0x11fb0, 0x11fb1, 0x11fc0, 0x11ff2, 0x11fff, 0x1239a, 0x12400, 0x1246f,
    0x12470, 0x12475, 0x12480, 0x12544, 0x12f90, 0x12ff3, 0x13000, 0x1342f, 0x14400, 0x14647,
    0x16800, 0x16a39, 0x16a40, 0x16a5f, 0x16a60, 0x16a6a, 0x16a6e, 0x16abf, 0x16ac0, 0x16aca,
    0x16ad0, 0x16aee, 0x16af0, 0x16af6, 0x16b00, 0x16b46, 0x16b50, 0x16b5a, 0x16b5b, 0x16b62,
    0x16b63, 0x16b78, 0x16b7d, 0x16b90, 0x16e40, 0x16e9b, 0x16f00, 0x16f4b, 0x16f4f, 0x16f88,
    0x16f8f, 0x16fa0, 0x16fe0, 0x16fe5, 0x16ff0, 0x16ff2, 0x17000, 0x187f8, 0x18800, 0x18cd6,
    0x18d00, 0x18d09, 0x1aff0, 0x1aff4, 0x1aff5, 0x1affc, 0x1affd, 0x1afff, 0x1b000, 0x1b123,
    0x1b150, 0x1b153, 0x1b164, 0x1b168, 0x1b170, 0x1b2fc, 0x1bc00, 0x1bc6b, 0x1bc70, 0x1bc7d,
    0x1bc80, 0x1bc89, 0x1bc90, 0x1bc9a, 0x1bc9c, 0x1bca0, 0x1cf00, 0x1cf2e, 0x1cf30, 0x1cf47,
    0x1cf50, 0x1cfc4, 0x1d000, 0x1d0f6, 0x1d100, 0x1d127, 0x1d129, 0x1d173, 0x1d17b, 0x1d1eb,
    0x1d200, 0x1d246, 0x1d2e0, 0x1d2f4, 0x1d300, 0x1d357, 0x1d360, 0x1d379, 0x1d400, 0x1d455,
    0x1d456, 0x1d49d, 0x1d49e, 0x1d4a0, 0x1d4a2, 0x1d4a3, 0x1d4a5, 0x1d4a7, 0x1d4a9, 0x1d4ad,
    0x1d4ae, 0x1d4ba, 0x1d4bb, 0x1d4bc, 0x1d4bd, 0x1d4c4, 0x1d4c5, 0x1d506, 0x1d507, 0x1d50b,
    0x1d50d, 0x1d515, 0x1d516, 0x1d51d, 0x1d51e, 0x1d53a, 0x1d53b, 0x1d53f, 0x1d540, 0x1d545,
    0x1d546, 0x1d547, 0x1d54a, 0x1d551, 0x1d552, 0x1d6a6, 0x1d6a8, 0x1d7cc, 0x1d7ce, 0x1da8c,
    0x1da9b, 0x1daa0, 0x1daa1, 0x1dab0, 0x1df00, 0x1df1f, 0x1e000, 0x1e007, 0x1e008, 0x1e019,
    0x1e01b, 0x1e022, 0x1e023, 0x1e025, 0x1e026, 0x1e02b, 0x1e100, 0x1e12d, 0x1e130, 0x1e13e,
    0x1e140, 0x1e14a, 0x1e14e, 0x1e150, 0x1e290, 0x1e2af, 0x1e2c0, 0x1e2fa, 0x1e2ff, 0x1e300,
    0x1e7e0, 0x1e7e7, 0x1e7e8, 0x1e7ec, 0x1e7ed, 0x1e7ef, 0x1e7f0, 0x1e7ff, 0x1e800, 0x1e8c5,
    0x1e8c7, 0x1e8d7, 0x1e900, 0x1e94c, 0x1e950, 0x1e95a, 0x1e95e, 0x1e960, 0x1ec71, 0x1ecb5,
    0x1ed01, 0x1ed3e, 0x1ee00, 0x1ee04, 0x1ee05, 0x1ee20, 0x1ee21, 0x1ee23, 0x1ee24, 0x1ee25,
    0x1ee27, 0x1ee28, 0x1ee29, 0x1ee33, 0x1ee34, 0x1ee38, 0x1ee39, 0x1ee3a, 0x1ee3b, 0x1ee3c,
    0x1ee42, 0x1ee43, 0x1ee47, 0x1ee48, 0x1ee49, 0x1ee4a, 0x1ee4b, 0x1ee4c, 0x1ee4d, 0x1ee50,
    0x1ee51, 0x1ee53, 0x1ee54, 0x1ee55, 0x1ee57, 0x1ee58, 0x1ee59, 0x1ee5a, 0x1ee5b, 0x1ee5c,
    0x1ee5d, 0x1ee5e, 0x1ee5f, 0x1ee60, 0x1ee61, 0x1ee63, 0x1ee64, 0x1ee65, 0x1ee67, 0x1ee6b,
    0x1ee6c, 0x1ee73, 0x1ee74, 0x1ee78, 0x1ee79, 0x1ee7d, 0x1ee7e, 0x1ee7f, 0x1ee80, 0x1ee8a,
    0x1ee8b, 0x1ee9c, 0x1eea1, 0x1eea4, 0x1eea5, 0x1eeaa, 0x1eeab, 0x1eebc, 0x1eef0, 0x1eef2,
    0x1f000, 0x1f02c, 0x1f030, 0x1f094, 0x1f0a0, 0x1f0af, 0x1f0b1, 0x1f0c0, 0x1f0c1, 0x1f0d0,
    0x1f0d1, 0x1f0f6, 0x1f100, 0x1f1ae, 0x1f1e6, 0x1f203, 0x1f210, 0x1f23c, 0x1f240, 0x1f249,
    0x1f250, 0x1f252, 0x1f260, 0x1f266, 0x1f300, 0x1f6d8, 0x1f6dd, 0x1f6ed, 0x1f6f0, 0x1f6fd,
    0x1f700, 0x1f774, 0x1f780, 0x1f7d9, 0x1f7e0, 0x1f7ec, 0x1f7f0, 0x1f7f1, 0x1f800, 0x1f80c,
    0x1f810, 0x1f848, 0x1f850, 0x1f85a, 0x1f860, 0x1f888, 0x1f890, 0x1f8ae, 0x1f8b0, 0x1f8b2,
    0x1f900, 0x1fa54, 0x1fa60, 0x1fa6e, 0x1fa70, 0x1fa75, 0x1fa78, 0x1fa7d, 0x1fa80, 0x1fa87,
    0x1fa90, 0x1faad, 0x1fab0, 0x1fabb, 0x1fac0, 0x1fac6, 0x1fad0, 0x1fada, 0x1fae0, 0x1fae8,
    0x1faf0, 0x1faf7, 0x1fb00, 0x1fb93, 0x1fb94, 0x1fbcb, 0x1fbf0, 0x1fbfa, 0x20000, 0x2a6e0,
    0x2a700, 0x2b739, 0x2b740, 0x2b81e, 0x2b820, 0x2cea2, 0x2ceb0, 0x2ebe1, 0x2f800, 0x2fa1e,
    0x30000, 0x3134b, 0xe0100, 0xe01f0,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    fn int(v: i64) -> IntText {
        IntText::Small(v)
    }

    fn err_of<T: fmt::Debug>(r: Result<T, TextError>) -> (TextErrorKind, String) {
        let e = r.expect_err("expected an error");
        (e.kind(), e.message().to_owned())
    }

    #[test]
    fn float_repr_examples() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (2.5, "2.5"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e16, "1.5e+16"),
            (1234567890123456.7, "1234567890123456.8"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1e-5, "1e-05"),
            (1e-7, "1e-07"),
            (1e300, "1e+300"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
            (-1.5e-10, "-1.5e-10"),
        ];
        for &(x, want) in cases {
            assert_eq!(float_repr(x), want, "{x:?}");
            let mut v = b"F".to_vec();
            push_float_repr(x, &mut v);
            assert_eq!(&v[1..], want.as_bytes());
        }
    }

    #[test]
    fn parse_float_c_semantics() {
        assert_eq!(parse_float(b"2.5"), Ok(2.5));
        assert_eq!(parse_float(b"-1e-400"), Ok(-0.0));
        assert_eq!(parse_float(b".5"), Ok(0.5));
        assert_eq!(parse_float(b"1."), Ok(1.0));
        assert_eq!(parse_float(b"+InFiNiTy"), Ok(f64::INFINITY));
        assert_eq!(parse_float(b"1.5\0junk"), Ok(1.5));
        assert!(parse_float(b"-nan").is_ok_and(|x| x.is_nan() && x.is_sign_negative()));
        assert_eq!(
            err_of(parse_float(b" 1.5")),
            (
                TextErrorKind::Value,
                "could not convert string to float: ' 1.5\n'".into()
            )
        );
        assert_eq!(
            err_of(parse_float(b"1_0")),
            (
                TextErrorKind::Value,
                "could not convert string to float".into()
            )
        );
        assert_eq!(
            err_of(parse_float(b"1e400")),
            (
                TextErrorKind::Overflow,
                "value too large to convert to float: '1e400\n'".into()
            )
        );
        assert_eq!(err_of(parse_float(b"")).0, TextErrorKind::Truncated);
    }

    #[test]
    fn parse_float_literal_python_semantics() {
        assert_eq!(parse_float_literal(b" 1_0.5_5e1_0 "), Ok(105500000000.0));
        assert_eq!(parse_float_literal(b"1e400"), Ok(f64::INFINITY));
        assert_eq!(parse_float_literal(b"\t-Infinity\n"), Ok(f64::NEG_INFINITY));
        for bad in [
            &b"1__0"[..],
            b"_1",
            b"1_",
            b"1_.5",
            b"in_f",
            b"",
            b"1\0",
            b"0x10",
        ] {
            assert!(parse_float_literal(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            err_of(parse_float_literal(b"1e")).1,
            "could not convert string to float: b'1e'"
        );
    }

    #[test]
    fn int_lines_c_semantics() {
        let m = INT_MAX_STR_DIGITS;
        assert_eq!(parse_int_line(b"00", m), Ok(IntText::Bool(false)));
        assert_eq!(parse_int_line(b"01", m), Ok(IntText::Bool(true)));
        assert_eq!(parse_int_line(b"+1", m), Ok(IntText::Bool(true)));
        assert_eq!(parse_int_line(b"0\0", m), Ok(IntText::Bool(false)));
        assert_eq!(parse_int_line(b"1", m), Ok(int(1)));
        assert_eq!(parse_int_line(b"010", m), Ok(int(8)));
        assert_eq!(parse_int_line(b"-0x1f", m), Ok(int(-31)));
        assert_eq!(parse_int_line(b"1_000", m), Ok(int(1000)));
        assert_eq!(parse_int_line(b" 0x10 ", m), Ok(int(16)));
        assert_eq!(
            parse_int_line(b"-9223372036854775808", m),
            Ok(int(i64::MIN))
        );
        assert_eq!(
            parse_int_line(b"9223372036854775808", m),
            Ok(IntText::Big {
                negative: false,
                magnitude_le: vec![0, 0, 0, 0, 0, 0, 0, 0x80]
            })
        );
        assert_eq!(
            err_of(parse_int_line(b"08", m)),
            (
                TextErrorKind::Value,
                "could not convert string to int".into()
            )
        );
        assert_eq!(err_of(parse_int_line(b"", m)).0, TextErrorKind::Truncated);
    }

    #[test]
    fn long_lines_c_semantics() {
        let m = INT_MAX_STR_DIGITS;
        assert_eq!(parse_long_line(b"10L", m), Ok(int(10)));
        assert_eq!(parse_long_line(b"10", m), Ok(int(10)));
        assert_eq!(parse_long_line(b" 0x10 L", m), Ok(int(16)));
        assert_eq!(
            parse_long_line(b"-1180591620717411303424L", m),
            Ok(IntText::Big {
                negative: true,
                magnitude_le: vec![0, 0, 0, 0, 0, 0, 0, 0, 64]
            })
        );
        assert_eq!(
            err_of(parse_long_line(b"abc", m)).1,
            "invalid literal for int() with base 10: 'abc\\n'"
        );
        assert_eq!(
            err_of(parse_long_line(b"010", m)).1,
            "invalid literal for int() with base 0: '010\\n'"
        );
        assert_eq!(
            err_of(parse_long_line(b"L", m)).1,
            "invalid literal for int() with base 10: ''"
        );
        assert_eq!(
            err_of(parse_long_line(b"\xff", m)),
            (
                TextErrorKind::UnicodeDecode,
                "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte".into()
            )
        );
        let many = vec![b'7'; 4301];
        assert!(err_of(parse_long_line(&many, m)).1.starts_with(
            "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits"
        ));
        assert!(parse_long_line(&many, 0).is_ok());
    }

    #[test]
    fn int_literals_python_semantics() {
        let m = INT_MAX_STR_DIGITS;
        assert_eq!(parse_int_literal(b" 1_000\n", m), Ok(int(1000)));
        assert_eq!(parse_int_literal(b"0_0", m), Ok(int(0)));
        assert_eq!(parse_int_literal(b"0b_101", m), Ok(int(5)));
        assert_eq!(parse_int_literal(b"0O17", m), Ok(int(15)));
        for bad in [
            &b"010"[..],
            b"0__0",
            b"_1",
            b"1_",
            b"0x",
            b"",
            b"1\0",
            b"- 1",
            b"\x1c5",
        ] {
            assert!(parse_int_literal(bad, m).is_err(), "{bad:?}");
        }
        assert_eq!(
            err_of(parse_int_literal(b"010\n", m)).1,
            "invalid literal for int() with base 0: b'010\\n'"
        );
    }

    #[test]
    fn int_to_decimal_examples() {
        assert_eq!(int_to_decimal(false, &[]), "0");
        assert_eq!(int_to_decimal(true, &[0, 0]), "0");
        assert_eq!(int_to_decimal(true, &[3]), "-3");
        let two_pow_200: Vec<u8> = (0..25)
            .map(|i| if i == 25 { 1 } else { 0 })
            .chain([1])
            .collect();
        assert_eq!(
            int_to_decimal(false, &two_pow_200),
            "1606938044258990275541962092341162602522202993782792835301376"
        );
    }

    #[test]
    fn string_escape() {
        assert_eq!(decode_string_escape(b"''"), Ok(vec![]));
        assert_eq!(decode_string_escape(b"\"a'b\""), Ok(b"a'b".to_vec()));
        assert_eq!(
            decode_string_escape(
                br"'\x41\101\777\8\u1234\
z\\\''"
            ),
            Ok(b"AA\xff\\8\\u1234z\\'".to_vec())
        );
        let e = decode_string_escape(br"'ab\x4'").expect_err("bad \\x");
        assert_eq!(e.message(), "invalid \\x escape at position 2");
        assert_eq!(e.position(), Some(3));
        assert_eq!(
            err_of(decode_string_escape(br"'a\'")).1,
            "Trailing \\ in string"
        );
        for bad in [&b"'"[..], b"", b"ab", b"'a\"", b"\"a'"] {
            assert_eq!(
                err_of(decode_string_escape(bad)),
                (
                    TextErrorKind::Unpickling,
                    "the STRING opcode argument must be quoted".into()
                )
            );
        }
    }

    #[test]
    fn raw_unicode_escape_decoding() {
        let d = |b: &[u8]| decode_raw_unicode_escape(b);
        assert_eq!(d(b"\xe9\\u20ac\\U0001F600"), Ok("é€😀".as_bytes().to_vec()));
        assert_eq!(
            d(br"\ud83d\ude00"),
            Ok(b"\xed\xa0\xbd\xed\xb8\x80".to_vec())
        );
        assert_eq!(d(br"\\u0041"), Ok(br"\\u0041".to_vec()));
        assert_eq!(d(br"\\\u0041"), Ok(br"\\A".to_vec()));
        assert_eq!(d(br"abc\"), Ok(br"abc\".to_vec()));
        assert_eq!(d(br"\x41"), Ok(br"\x41".to_vec()));
        assert_eq!(
            err_of(d(br"\uzzzz")).1,
            "'rawunicodeescape' codec can't decode bytes in position 0-1: truncated \\uXXXX escape"
        );
        assert_eq!(
            err_of(d(br"ab\U0001")).1,
            "'rawunicodeescape' codec can't decode bytes in position 2-7: truncated \\UXXXXXXXX escape"
        );
        assert_eq!(
            err_of(d(br"\U00110000")).1,
            "'rawunicodeescape' codec can't decode bytes in position 0-9: \\Uxxxxxxxx out of range"
        );
    }

    #[test]
    fn raw_unicode_escape_p0_encoding() {
        let s = "\\\0\n\r\x1a\x7f\u{80}é€😀\x01\t".as_bytes();
        let mut s = s.to_vec();
        s.extend_from_slice(b"\xed\xa0\x80");
        assert_eq!(
            encode_raw_unicode_escape_p0(&s),
            b"\\u005c\\u0000\\u000a\\u000d\\u001a\x7f\x80\xe9\\u20ac\\U0001f600\x01\t\\ud800"
                .to_vec()
        );
        assert_eq!(
            decode_raw_unicode_escape(&encode_raw_unicode_escape_p0(&s)),
            Ok(s)
        );
        assert_eq!(
            encode_raw_unicode_escape_p0(b"a\xffb"),
            b"a\\ufffdb".to_vec()
        );
    }

    #[test]
    fn utf8_validation() {
        assert_eq!(validate_utf8_surrogatepass("é€😀".as_bytes()), Ok(true));
        assert_eq!(
            validate_utf8_surrogatepass(b"a\xed\xa0\x80b\xed\xbf\xbf"),
            Ok(false)
        );
        let msg = |b: &[u8]| err_of(validate_utf8_surrogatepass(b)).1;
        assert_eq!(
            msg(b"abc\xff"),
            "'utf-8' codec can't decode byte 0xff in position 3: invalid start byte"
        );
        assert_eq!(
            msg(b"\xe2\x82A"),
            "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"
        );
        assert_eq!(
            msg(b"\xf0\x9f\x98"),
            "'utf-8' codec can't decode bytes in position 0-2: unexpected end of data"
        );
        assert_eq!(
            msg(b"\xed\xa0"),
            "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"
        );
    }

    #[test]
    fn latin1() {
        assert_eq!(latin1_to_utf8(b"a\xe9\xff"), "aéÿ".as_bytes().to_vec());
        assert_eq!(
            utf8_to_latin1("aéÿ".as_bytes()),
            Some(b"a\xe9\xff".to_vec())
        );
        assert_eq!(utf8_to_latin1("€".as_bytes()), None);
        assert_eq!(utf8_to_latin1(b"\xff"), None);
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(utf8_to_latin1(&latin1_to_utf8(&all)), Some(all));
    }

    #[test]
    fn repr_examples() {
        assert_eq!(repr_str(b"abc"), "'abc'");
        assert_eq!(repr_str(b"it's"), "\"it's\"");
        assert_eq!(repr_str(b"'\""), "'\\'\"'");
        assert_eq!(
            repr_str("\\\t\n\r\x00\x7f\u{a0}\u{ad}é€😀\u{2028}\u{e000}".as_bytes()),
            "'\\\\\\t\\n\\r\\x00\\x7f\\xa0\\xadé€😀\\u2028\\ue000'"
        );
        assert_eq!(
            repr_str(b"\xed\xa0\xbd\xf3\xa0\x80\x81"),
            "'\\ud83d\\U000e0001'"
        );
        assert_eq!(repr_str(b"\xff"), "'\u{fffd}'");
        assert_eq!(repr_bytes(b"a'\x00\xff\"", "b"), "b'a\\'\\x00\\xff\"'");
        assert_eq!(repr_bytes(b"it's", "b"), "b\"it's\"");
        assert!(
            is_printable(u32::from(b' '))
                && !is_printable(0x3000)
                && is_printable(0x1F600)
                && !is_printable(0x10FFFD)
        );
    }

    // --- differential tests against the local python3 -----------------------------------------

    /// A small deterministic PRNG (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|c| format!("{c:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
            .collect()
    }

    const PY_HARNESS: &str = r#"
import sys, pickle, struct
if sys.version_info[:2] != (3, 11):
    print("SKIP"); sys.exit(0)
sys.set_int_max_str_digits(4300)
def canon(v):
    if isinstance(v, bool): return "bool %r" % v
    if isinstance(v, int):
        sys.set_int_max_str_digits(0)
        r = "int %d" % v
        sys.set_int_max_str_digits(4300)
        return r
    if isinstance(v, float): return "float %016x" % struct.unpack("<Q", struct.pack("<d", v))[0]
    if isinstance(v, bytes): return "bytes " + v.hex()
    if isinstance(v, str): return "str " + v.encode("utf-8", "surrogatepass").hex()
    return "other %r" % (v,)
def run(f):
    try: return canon(f())
    except Exception as e: return "err %s %s" % (type(e).__name__, e)
out = []
for line in sys.stdin.read().split("\n"):
    if not line: continue
    cmd, _, h = line.partition(" ")
    b = bytes.fromhex(h)
    if cmd == "floatrepr": r = repr(struct.unpack("<d", b)[0])
    elif cmd in ("intpos", "intneg"):
        n = int.from_bytes(b, "little"); r = repr(-n if cmd == "intneg" else n)
    elif cmd == "reprstr": r = repr(b.decode("utf-8", "surrogatepass"))
    elif cmd == "reprbytes": r = repr(b)
    elif cmd == "p0":
        p = pickle.dumps(b.decode("utf-8", "surrogatepass"), 0)
        r = p[1:-len(b"\np0\n.")].hex()
    elif cmd in ("I", "L", "F", "V"): r = run(lambda: pickle.loads(cmd.encode() + b + b"\n."))
    elif cmd == "S": r = run(lambda: pickle.loads(b"S" + b + b"\n.", encoding="bytes"))
    elif cmd == "X": r = run(lambda: pickle.loads(b"X" + struct.pack("<I", len(b)) + b + b"."))
    elif cmd == "fl": r = run(lambda: float(b))
    elif cmd == "il": r = run(lambda: int(b, 0))
    else: r = "?"
    out.append(r.encode("utf-8", "surrogatepass").hex())
sys.stdout.write("\n".join(out) + "\n")
"#;

    /// Runs the harness over `(cmd, input)` lines; `None` (with a notice) if python3 3.11 is
    /// not available.
    fn python(cases: &[(&str, Vec<u8>)]) -> Option<Vec<String>> {
        let child = Command::new("python3")
            .arg("-c")
            .arg(PY_HARNESS)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            println!("python3 not found: skipping the differential test");
            return None;
        };
        let mut input = String::new();
        for (cmd, data) in cases {
            input.push_str(cmd);
            input.push(' ');
            input.push_str(&hex(data));
            input.push('\n');
        }
        let mut stdin = child.stdin.take()?;
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().ok()?;
        writer.join().ok()?.ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        if !out.status.success() || text.trim() == "SKIP" {
            println!("python3 3.11 not usable: skipping the differential test");
            return None;
        }
        let lines: Vec<String> = text
            .lines()
            .map(|l| String::from_utf8_lossy(&unhex(l)).into_owned())
            .collect();
        assert_eq!(lines.len(), cases.len());
        Some(lines)
    }

    fn canon_int(v: IntText) -> String {
        match v {
            IntText::Bool(b) => format!("bool {}", if b { "True" } else { "False" }),
            IntText::Small(v) => format!("int {v}"),
            IntText::Big {
                negative,
                magnitude_le,
            } => format!("int {}", int_to_decimal(negative, &magnitude_le)),
        }
    }

    fn canon<T>(r: Result<T, TextError>, ok: impl FnOnce(T) -> String) -> String {
        match r {
            Ok(v) => ok(v),
            Err(e) => format!("err {} {}", e.kind().python_name(), e.message()),
        }
    }

    fn canon_float(x: f64) -> String {
        format!("float {:016x}", x.to_bits())
    }

    fn canon_str(s: Vec<u8>) -> String {
        format!("str {}", hex(&s))
    }

    /// Random generalized UTF-8 biased towards interesting code points.
    fn random_gen_utf8(rng: &mut Rng, max_len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..rng.below(max_len + 1) {
            let cp = match rng.below(10) {
                0 => *rng.pick(&[0x27, 0x22, 0x5c, 0x00, 0x0a, 0x0d, 0x1a, 0x7f, 0x09]),
                1 => rng.below(0x20) as u32,
                2 => 0x80 + rng.below(0x80) as u32,
                3 => 0xD800 + rng.below(0x800) as u32,
                4 => rng.below(0x10000) as u32,
                5 => rng.below(0x110000) as u32,
                6 => *rng.pick(&[
                    0xa0, 0xad, 0x2028, 0x2029, 0xfeff, 0xe000, 0x3000, 0x200b, 0x378,
                ]),
                _ => 0x20 + rng.below(0x5f) as u32,
            };
            push_code_point(&mut out, cp);
        }
        out
    }

    fn random_from(rng: &mut Rng, alphabet: &[&[u8]], max_len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..rng.below(max_len + 1) {
            let piece: &[u8] = alphabet[rng.below(alphabet.len())];
            out.extend_from_slice(piece);
        }
        out
    }

    #[test]
    fn matches_python3() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();

        // Floats: random bit patterns, random "nice" decimals and powers of ten, edges.
        let mut floats = vec![
            0.0,
            -0.0,
            1.0,
            1e16,
            1e15,
            9999999999999998.0,
            0.0001,
            0.00001,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            1e22,
            1e23,
            0.1,
            0.2,
            0.3,
            2.0f64.powi(53),
        ];
        for e in -330..310 {
            floats.push(format!("1e{e}").parse().unwrap_or(0.0));
            floats.push(format!("1.5e{e}").parse().unwrap_or(0.0));
        }
        for _ in 0..4000 {
            let x = match rng.below(4) {
                // Dyadic values with short exact expansions: where ties between two shortest
                // candidates show up.
                3 => {
                    (rng.next() >> (11 + rng.below(30))) as f64
                        / 2f64.powi(1 + rng.below(30) as i32)
                }
                0 => f64::from_bits(rng.next()),
                1 => (rng.below(1_000_000) as f64) / 10f64.powi(rng.below(12) as i32),
                _ => (rng.next() >> 11) as f64 * 2f64.powi(rng.below(200) as i32 - 100),
            };
            floats.push(x);
        }
        for &x in &floats {
            cases.push(("floatrepr", x.to_le_bytes().to_vec()));
        }

        // Ints: random magnitudes of 0..80 bytes, some with runs of 0x00 / 0xff.
        let mut ints: Vec<(bool, Vec<u8>)> = Vec::new();
        for i in 0..2000 {
            let len = if i < 1000 {
                rng.below(17)
            } else {
                rng.below(80)
            };
            let fill = rng.below(3);
            let mag: Vec<u8> = (0..len)
                .map(|_| match fill {
                    0 => 0xff,
                    1 if rng.below(2) == 0 => 0,
                    _ => rng.next() as u8,
                })
                .collect();
            ints.push((rng.below(2) == 0, mag));
        }
        for (neg, mag) in &ints {
            cases.push((if *neg { "intneg" } else { "intpos" }, mag.clone()));
        }

        // repr(str) / repr(bytes) / protocol-0 str.
        let mut strs = Vec::new();
        for _ in 0..1500 {
            strs.push(random_gen_utf8(&mut rng, 12));
        }
        for s in &strs {
            cases.push(("reprstr", s.clone()));
            cases.push(("p0", s.clone()));
        }
        let mut byte_strs = Vec::new();
        for _ in 0..300 {
            let n = rng.below(10);
            byte_strs.push(
                (0..n)
                    .map(|_| match rng.below(3) {
                        0 => *rng.pick(b"'\"\\\t\n\r"),
                        _ => rng.next() as u8,
                    })
                    .collect::<Vec<u8>>(),
            );
        }
        for b in &byte_strs {
            cases.push(("reprbytes", b.clone()));
        }

        // Opcode lines.
        let num: &[&[u8]] = &[
            b"0",
            b"1",
            b"7",
            b"8",
            b"9",
            b"0",
            b"1",
            b"00",
            b"x",
            b"X",
            b"o",
            b"b",
            b"_",
            b"+",
            b"-",
            b" ",
            b"\t",
            b"\x0b",
            b"\x1c",
            b"a",
            b"f",
            b"L",
            b"\0",
            b"\xff",
            b"12345678901",
        ];
        let flt: &[&[u8]] = &[
            b"0", b"1", b"5", b"9", b".", b"e", b"E", b"+", b"-", b"_", b" ", b"inf", b"inity",
            b"nan", b"NaN", b"INF", b"x", b"\0", b"400", b"1e308", b"3", b"\xe9",
        ];
        let esc: &[&[u8]] = &[
            b"\\", b"\\", b"'", b"\"", b"x", b"4", b"1", b"7", b"8", b"g", b"a", b"n", b"u",
            b"\xe9", b"\n", b"z",
        ];
        let uni: &[&[u8]] = &[
            b"\\", b"\\", b"u", b"U", b"0", b"0", b"d", b"8", b"F", b"g", b"1", b"\xe9", b"a",
            b"0010", b"00",
        ];
        let utf: &[&[u8]] = &[
            b"a",
            b"\xed",
            b"\xa0",
            b"\x80",
            b"\xbf",
            b"\xe2",
            b"\x82",
            b"\xac",
            b"\xf0",
            b"\x9f",
            b"\xf4",
            b"\x90",
            b"\xc0",
            b"\xc2",
            b"\xff",
            b"\xe0",
            b"\x9f\xbf",
        ];
        let mut lines: Vec<(&str, Vec<u8>)> = Vec::new();
        for w in [
            &b""[..],
            b"00",
            b"01",
            b"+1",
            b"-0",
            b" 1",
            b"0\0",
            b"010",
            b"099",
            b"0x",
            b"0x_1",
            b"1_000",
            b"9223372036854775807",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"0b101",
            b"0o17",
            b"1L",
            b"LL",
            b"L",
            b"10LL",
            b" 10 L",
        ] {
            for cmd in ["I", "L", "il"] {
                lines.push((cmd, w.to_vec()));
            }
        }
        let mut long_digits = vec![b'9'; 4300];
        lines.push(("L", long_digits.clone()));
        lines.push(("I", long_digits.clone()));
        long_digits.push(b'1');
        lines.push(("L", long_digits.clone()));
        lines.push(("il", long_digits.clone()));
        let mut long_hex = b"0x".to_vec();
        long_hex.extend_from_slice(&[b'f'; 6000]);
        lines.push(("L", long_hex));
        for _ in 0..1500 {
            let w = random_from(&mut rng, num, 6);
            lines.push(("I", w.clone()));
            lines.push(("L", w.clone()));
            lines.push(("il", w));
        }
        for _ in 0..1000 {
            let w = random_from(&mut rng, flt, 6);
            lines.push(("F", w.clone()));
            lines.push(("fl", w));
        }
        for _ in 0..800 {
            let q = *rng.pick(&[&b"'"[..], b"\"", b""]);
            let mut w = q.to_vec();
            w.extend(
                random_from(&mut rng, esc, 6)
                    .into_iter()
                    .filter(|&c| c != b'\n' || q != b""),
            );
            w.extend_from_slice(if rng.below(8) == 0 { b"'" } else { q });
            lines.push(("S", w.into_iter().filter(|&c| c != b'\n').collect()));
        }
        for _ in 0..800 {
            lines.push(("V", random_from(&mut rng, uni, 8)));
        }
        for _ in 0..800 {
            lines.push(("X", random_from(&mut rng, utf, 6)));
        }
        cases.extend(lines.iter().cloned());

        let Some(py) = python(&cases) else { return };
        let m = INT_MAX_STR_DIGITS;
        let mut failures = Vec::new();
        for ((cmd, data), want) in cases.iter().zip(&py) {
            let got = match *cmd {
                "floatrepr" => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(data);
                    float_repr(f64::from_le_bytes(b))
                }
                "intpos" | "intneg" => int_to_decimal(*cmd == "intneg", data),
                "reprstr" => repr_str(data),
                "reprbytes" => repr_bytes(data, "b"),
                "p0" => hex(&encode_raw_unicode_escape_p0(data)),
                "I" => canon(parse_int_line(data, m), canon_int),
                "L" => canon(parse_long_line(data, m), canon_int),
                "il" => canon(parse_int_literal(data, m), canon_int),
                "F" => canon(parse_float(data), canon_float),
                "fl" => canon(parse_float_literal(data), canon_float),
                "S" => canon(decode_string_escape(data), |b| format!("bytes {}", hex(&b))),
                "V" => canon(decode_raw_unicode_escape(data), canon_str),
                "X" => canon(validate_utf8_surrogatepass(data), |_| {
                    canon_str(data.clone())
                }),
                _ => String::new(),
            };
            if &got != want {
                failures.push(format!(
                    "{cmd} {:?}: got {got:?}, python {want:?}",
                    String::from_utf8_lossy(data)
                ));
            }
        }
        // Round trips: parse what we print.
        for &x in &floats {
            let back = parse_float(float_repr(x).as_bytes());
            if !x.is_nan() && back.as_ref().map(|v| v.to_bits()) != Ok(x.to_bits()) {
                failures.push(format!("float round trip {x:?}: {back:?}"));
            }
        }
        for (neg, mag) in &ints {
            let text = int_to_decimal(*neg, mag);
            let back = parse_long_line(text.as_bytes(), 0).map(canon_int);
            if back != Ok(format!("int {text}")) {
                failures.push(format!("int round trip {text}: {back:?}"));
            }
        }
        for s in &strs {
            let back = decode_raw_unicode_escape(&encode_raw_unicode_escape_p0(s));
            if back.as_ref() != Ok(s) {
                failures.push(format!("p0 round trip {s:?}: {back:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} mismatches, first ones:\n{}",
            failures.len(),
            failures
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn printable_table_matches_python3() {
        let script = "import sys\nif sys.version_info[:2] != (3, 11): print('SKIP'); sys.exit(0)\n\
            print(' '.join(str(c) for c in range(0x110000) \
            if chr(c).isprintable() != (c == 0 or chr(c - 1).isprintable())))";
        let out = match Command::new("python3").arg("-c").arg(script).output() {
            Ok(out) if out.status.success() => out,
            _ => {
                println!("python3 not found: skipping the differential test");
                return;
            }
        };
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim() == "SKIP" {
            println!("python3 is not 3.11: skipping the differential test");
            return;
        }
        let toggles: Vec<u32> = text
            .split_whitespace()
            .filter_map(|t| t.parse().ok())
            .collect();
        assert_eq!(toggles, NON_PRINTABLE_TOGGLES.to_vec());
        let mut printable = true;
        let mut next = toggles.iter().peekable();
        for cp in 0..0x110000u32 {
            if next.peek() == Some(&&cp) {
                printable = !printable;
                next.next();
            }
            assert_eq!(is_printable(cp), printable, "U+{cp:04X}");
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut rng = Rng(12345);
        for _ in 0..20_000 {
            let n = rng.below(24);
            let b: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let _ = parse_float(&b);
            let _ = parse_float_literal(&b);
            let _ = parse_int_line(&b, INT_MAX_STR_DIGITS);
            let _ = parse_long_line(&b, INT_MAX_STR_DIGITS);
            let _ = parse_int_literal(&b, 0);
            let _ = decode_string_escape(&b);
            let _ = decode_raw_unicode_escape(&b);
            let _ = encode_raw_unicode_escape_p0(&b);
            let _ = validate_utf8_surrogatepass(&b);
            let _ = utf8_to_latin1(&b);
            let _ = repr_str(&b);
            let _ = repr_bytes(&b, "b");
            let _ = int_to_decimal(n & 1 == 0, &b);
        }
    }
}
