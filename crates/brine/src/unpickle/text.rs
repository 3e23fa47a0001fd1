//! Parsers for the text arguments of protocol 0 (INT, LONG, FLOAT, STRING, UNICODE, GET/PUT)
//! and the text decoders the machine needs, with CPython's rules and error wording.
//!
//! Private to the machine; brine-core's `text` module is the shared home of these rules.

use brine_core::{Error, LimitKind, Result};
use num_bigint::BigInt;
use num_traits::ToPrimitive;

use crate::options::{DecodeErrors, StringEncoding};
use crate::value::PyStr;

/// An integer parsed from text.
#[derive(Debug, PartialEq)]
pub(crate) enum IntText {
    /// `I00` / `I01`.
    Bool(bool),
    /// Fits in 64 bits.
    Small(i64),
    /// Does not.
    Big(BigInt),
}

/// A Python-style `repr` of a byte string read as latin-1, for error messages.
pub(crate) fn repr_line(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('\'');
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('\'');
    s
}

#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The part of a C string before its first NUL (CPython parses lines as C strings).
#[inline]
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// `int(s, base)` for `base` 0 or 10 (Python's `PyLong_FromString`): surrounding whitespace,
/// a sign, base prefixes for base 0, single underscores between digits. `Ok(None)` when `s`
/// is not a valid literal.
pub(crate) fn py_int(s: &[u8], base: u32, max_digits: usize) -> Result<Option<IntText>> {
    let s = c_str(s);
    let mut a = 0;
    let mut b = s.len();
    while a < b && is_space(s[a]) {
        a += 1;
    }
    while b > a && is_space(s[b - 1]) {
        b -= 1;
    }
    let mut t = &s[a..b];
    let neg = match t.first() {
        Some(b'-') => {
            t = &t[1..];
            true
        }
        Some(b'+') => {
            t = &t[1..];
            false
        }
        _ => false,
    };
    let mut radix = if base == 0 { 10 } else { base };
    let mut after_prefix = false;
    if base == 0 && t.len() >= 2 && t[0] == b'0' {
        let r = match t[1] {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 0,
        };
        if r != 0 {
            radix = r;
            t = &t[2..];
            after_prefix = true;
        } else if t.iter().any(|&c| c != b'0' && c != b'_') {
            // Python 3 rejects leading zeros in base 0 ("010").
            return Ok(None);
        }
    }
    // Digits, with single underscores between them (one may follow a base prefix).
    if after_prefix && t.first() == Some(&b'_') {
        t = &t[1..];
    }
    let mut digits = Vec::with_capacity(t.len());
    let mut prev_us = true;
    for &c in t {
        if c == b'_' {
            if prev_us {
                return Ok(None);
            }
            prev_us = true;
            continue;
        }
        if !(c as char).is_digit(radix) {
            return Ok(None);
        }
        digits.push(c);
        prev_us = false;
    }
    if prev_us {
        return Ok(None);
    }
    if digits.len() > max_digits {
        return Err(Error::limit(LimitKind::IntDigits));
    }
    if digits.len() <= if radix == 16 { 15 } else { 18 } {
        let mut v: i64 = 0;
        for &c in &digits {
            v = v * radix as i64 + (c as char).to_digit(radix).unwrap_or(0) as i64;
        }
        return Ok(Some(IntText::Small(if neg { -v } else { v })));
    }
    let Some(mut big) = BigInt::parse_bytes(&digits, radix) else {
        return Ok(None);
    };
    if neg {
        big = -big;
    }
    Ok(Some(small_or_big(big)))
}

/// An `IntText` for a big integer, small when it fits.
pub(crate) fn small_or_big(big: BigInt) -> IntText {
    match big.to_i64() {
        Some(v) => IntText::Small(v),
        None => IntText::Big(big),
    }
}

/// C `strtol(s, &end, 0)` succeeding up to the end of the line; `None` when the C unpickler
/// would fall back to `int()`.
fn strtol0(s: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let radix = if s.len() > i + 2
        && s[i] == b'0'
        && (s[i + 1] | 0x20) == b'x'
        && s[i + 2].is_ascii_hexdigit()
    {
        i += 2;
        16
    } else if i < s.len() && s[i] == b'0' {
        8
    } else {
        10
    };
    let start = i;
    let mut v: i128 = 0;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(radix) else {
            break;
        };
        v = v * radix as i128 + d as i128;
        if v > i64::MAX as i128 + 1 {
            return None;
        }
        i += 1;
    }
    if i == start || i != s.len() {
        return None;
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// The INT argument: `00`/`01` are booleans (any two-character line that `strtol` reads as 0
/// or 1, as in the C unpickler), else C `strtol`, else Python `int(x, 0)`.
pub(crate) fn parse_int_line(line: &[u8], max_digits: usize) -> Result<IntText> {
    if line.is_empty() {
        return Err(Error::truncated());
    }
    let s = c_str(line);
    if let Some(x) = strtol0(s) {
        if line.len() == 2 && (x == 0 || x == 1) {
            return Ok(IntText::Bool(x == 1));
        }
        return Ok(IntText::Small(x));
    }
    match py_int(s, 0, max_digits)? {
        Some(v) => Ok(v),
        None => Err(Error::data("could not convert string to int")),
    }
}

/// The LONG argument: with a trailing `L`, base 10; without, `int(x, 0)`.
pub(crate) fn parse_long_line(line: &[u8], max_digits: usize) -> Result<IntText> {
    if line.is_empty() {
        return Err(Error::truncated());
    }
    let (s, base, shown) = match line.last() {
        Some(b'L') => (
            &line[..line.len() - 1],
            10,
            repr_line(&line[..line.len() - 1]),
        ),
        _ => (line, 0, String::new()),
    };
    match py_int(s, base, max_digits)? {
        Some(v) => Ok(v),
        None => {
            let shown = if base == 0 {
                let mut l = line.to_vec();
                l.push(b'\n');
                repr_line(c_str(&l))
            } else {
                shown
            };
            Err(Error::data(format!(
                "invalid literal for int() with base {base}: {shown}"
            )))
        }
    }
}

/// A GET / PUT index line (`int(x, 10)`).
pub(crate) fn parse_index_line(line: &[u8]) -> Result<i64> {
    if line.is_empty() {
        return Err(Error::truncated());
    }
    match py_int(line, 10, 40)? {
        Some(IntText::Small(v)) => Ok(v),
        Some(_) => Err(Error::data("python int too large to convert to c ssize_t")),
        None => {
            let mut l = line.to_vec();
            l.push(b'\n');
            Err(Error::data(format!(
                "invalid literal for int() with base 10: {}",
                repr_line(&l)
            )))
        }
    }
}

/// The FLOAT argument, as `PyOS_string_to_double`: no surrounding whitespace, no underscores.
pub(crate) fn parse_float_line(line: &[u8]) -> Result<f64> {
    if line.is_empty() {
        return Err(Error::truncated());
    }
    let s = c_str(line);
    let shown = || {
        let mut l = line.to_vec();
        l.push(b'\n');
        repr_line(&l)
    };
    let ok_chars = s
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    let parsed = if ok_chars {
        std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
    } else {
        None
    };
    match parsed {
        Some(x) if x.is_infinite() && !s.iter().any(|c| c.eq_ignore_ascii_case(&b'i')) => Err(
            Error::data(format!("value too large to convert to float: {}", shown())),
        ),
        Some(x) => Ok(x),
        None => Err(Error::data(format!(
            "could not convert string to float: {}",
            shown()
        ))),
    }
}

/// The STRING argument: quoted with `'` or `"`, then `codecs.escape_decode`.
pub(crate) fn parse_string_line(line: &[u8]) -> Result<Vec<u8>> {
    if line.is_empty() {
        return Err(Error::truncated());
    }
    let n = line.len();
    if n < 2 || line[0] != line[n - 1] || !(line[0] == b'\'' || line[0] == b'"') {
        return Err(Error::data("the STRING opcode argument must be quoted"));
    }
    escape_decode(&line[1..n - 1])
}

/// `codecs.escape_decode`: Python 2 string-literal escapes.
pub(crate) fn escape_decode(s: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let at = i;
        i += 1;
        let Some(&e) = s.get(i) else {
            return Err(Error::data("trailing \\ in string"));
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let h = s.get(i..i + 2).and_then(|h| {
                    let t = std::str::from_utf8(h).ok()?;
                    if t.bytes().all(|c| c.is_ascii_hexdigit()) {
                        u8::from_str_radix(t, 16).ok()
                    } else {
                        None
                    }
                });
                match h {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => {
                        return Err(Error::data(format!("invalid \\x escape at position {at}")))
                    }
                }
            }
            _ => {
                out.push(b'\\');
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// Appends code point `cp` (surrogates allowed) in CPython's `surrogatepass` UTF-8.
#[inline]
pub(crate) fn push_cp(out: &mut Vec<u8>, cp: u32) {
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
            0xF0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]);
    }
}

/// Wraps surrogatepass UTF-8 built by this module.
fn pystr_from_built(out: Vec<u8>) -> PyStr {
    let utf8 = std::str::from_utf8(&out).is_ok();
    PyStr::from_checked_vec(out, utf8)
}

/// The UNICODE argument: `raw-unicode-escape` (bytes are latin-1 code points; `\uXXXX` and
/// `\UXXXXXXXX` after an odd number of backslashes).
pub(crate) fn decode_raw_unicode_escape(s: &[u8]) -> Result<PyStr> {
    if s.is_ascii() && !s.contains(&b'\\') {
        return Ok(PyStr::from_checked(s, true));
    }
    let mut out = Vec::with_capacity(s.len() + s.len() / 2);
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            push_cp(&mut out, c as u32);
            i += 1;
            continue;
        }
        let run_start = i;
        while i < s.len() && s[i] == b'\\' {
            i += 1;
        }
        let run = i - run_start;
        let esc = s.get(i).copied();
        if run % 2 == 0 || !matches!(esc, Some(b'u') | Some(b'U')) {
            out.extend(std::iter::repeat_n(b'\\', run));
            continue;
        }
        out.extend(std::iter::repeat_n(b'\\', run - 1));
        let start = i - 1;
        let (n, what) = if esc == Some(b'u') {
            (4, "truncated \\uXXXX escape")
        } else {
            (8, "truncated \\UXXXXXXXX escape")
        };
        i += 1;
        let mut cp: u32 = 0;
        let mut k = 0;
        while k < n {
            match s.get(i).and_then(|&c| (c as char).to_digit(16)) {
                Some(d) => {
                    cp = cp.wrapping_mul(16) | d;
                    i += 1;
                    k += 1;
                }
                None => break,
            }
        }
        if k < n {
            return Err(Error::data(format!(
                "'rawunicodeescape' codec can't decode bytes in position {start}-{}: {what}",
                i.saturating_sub(1).max(start + 1)
            )));
        }
        if cp > 0x10FFFF {
            return Err(Error::data(format!(
                "'rawunicodeescape' codec can't decode bytes in position {start}-{}: \\Uxxxxxxxx out of range",
                i - 1
            )));
        }
        push_cp(&mut out, cp);
    }
    Ok(pystr_from_built(out))
}

/// Why CPython's UTF-8 decoder stopped: position, length of the bad sequence, reason.
fn utf8_error(b: &[u8], pos: usize, surrogatepass: bool) -> (usize, &'static str) {
    let c = b[pos];
    let need = match c {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (1, "invalid start byte"),
    };
    for k in 1..need {
        let Some(&cc) = b.get(pos + k) else {
            return (b.len() - pos, "unexpected end of data");
        };
        let ok = if k == 1 {
            match c {
                0xE0 => (0xA0..=0xBF).contains(&cc),
                0xED if !surrogatepass => (0x80..=0x9F).contains(&cc),
                0xF0 => (0x90..=0xBF).contains(&cc),
                0xF4 => (0x80..=0x8F).contains(&cc),
                _ => cc & 0xC0 == 0x80,
            }
        } else {
            cc & 0xC0 == 0x80
        };
        if !ok {
            return (k, "invalid continuation byte");
        }
    }
    (need, "invalid continuation byte")
}

/// A Python `UnicodeDecodeError` message.
fn decode_error(codec: &str, b: &[u8], pos: usize, len: usize, reason: &str) -> Error {
    if len <= 1 {
        Error::data(format!(
            "'{codec}' codec can't decode byte 0x{:02x} in position {pos}: {reason}",
            b[pos]
        ))
    } else {
        Error::data(format!(
            "'{codec}' codec can't decode bytes in position {pos}-{}: {reason}",
            pos + len - 1
        ))
    }
}

/// BINUNICODE payloads: UTF-8 with `surrogatepass`, validated once.
pub(crate) fn str_from_utf8_surrogatepass(b: &[u8]) -> Result<PyStr> {
    match std::str::from_utf8(b) {
        Ok(_) => Ok(PyStr::from_checked(b, true)),
        Err(e) => {
            // Check the rest allowing encoded surrogates (ED A0..BF xx).
            let mut i = e.valid_up_to();
            while i < b.len() {
                let c = b[i];
                if c < 0x80 {
                    i += 1;
                    continue;
                }
                let (len, reason) = utf8_error(b, i, true);
                let full = match c {
                    0xC2..=0xDF => 2,
                    0xE0..=0xEF => 3,
                    0xF0..=0xF4 => 4,
                    _ => 0,
                };
                if full != 0 && len == full && reason == "invalid continuation byte" {
                    i += len;
                    continue;
                }
                return Err(decode_error("utf-8", b, i, len, reason));
            }
            Ok(PyStr::from_checked(b, false))
        }
    }
}

/// Python 2 `str` payloads (STRING, BINSTRING, SHORT_BINSTRING) decoded per `encoding=` and
/// `errors=`; `None` for `encoding="bytes"`.
pub(crate) fn decode_py2_str(
    b: &[u8],
    enc: StringEncoding,
    errors: DecodeErrors,
) -> Result<Option<PyStr>> {
    let codec = match enc {
        StringEncoding::Bytes => return Ok(None),
        StringEncoding::Latin1 => {
            if b.is_ascii() {
                return Ok(Some(PyStr::from_checked(b, true)));
            }
            let mut out = Vec::with_capacity(b.len() * 2);
            for &c in b {
                push_cp(&mut out, c as u32);
            }
            return Ok(Some(PyStr::from_checked_vec(out, true)));
        }
        StringEncoding::Ascii => "ascii",
        StringEncoding::Utf8 => "utf-8",
    };
    let first_bad = if enc == StringEncoding::Ascii {
        b.iter().position(|c| !c.is_ascii())
    } else {
        std::str::from_utf8(b).err().map(|e| e.valid_up_to())
    };
    let Some(mut i) = first_bad else {
        return Ok(Some(PyStr::from_checked(b, true)));
    };
    let bad_len = |i: usize| -> (usize, &'static str) {
        if enc == StringEncoding::Ascii {
            (1, "ordinal not in range(128)")
        } else {
            utf8_error(b, i, false)
        }
    };
    if errors == DecodeErrors::Strict {
        let (len, reason) = bad_len(i);
        return Err(decode_error(codec, b, i, len, reason));
    }
    let mut out = b[..i].to_vec();
    while i < b.len() {
        let good = if enc == StringEncoding::Ascii {
            b[i..].iter().position(|c| !c.is_ascii())
        } else {
            std::str::from_utf8(&b[i..]).err().map(|e| e.valid_up_to())
        };
        let Some(g) = good else {
            out.extend_from_slice(&b[i..]);
            break;
        };
        out.extend_from_slice(&b[i..i + g]);
        i += g;
        let (len, _) = bad_len(i);
        let len = len.max(1);
        match errors {
            DecodeErrors::Replace | DecodeErrors::Strict => push_cp(&mut out, 0xFFFD),
            DecodeErrors::Ignore => {}
            DecodeErrors::SurrogateEscape => {
                for &c in &b[i..i + len] {
                    push_cp(&mut out, 0xDC00 + c as u32);
                }
            }
        }
        i += len;
    }
    Ok(Some(pystr_from_built(out)))
}

/// A GLOBAL / INST name line: strict UTF-8.
pub(crate) fn utf8_name(b: &[u8]) -> Result<&str> {
    match std::str::from_utf8(b) {
        Ok(s) => Ok(s),
        Err(e) => {
            let i = e.valid_up_to();
            let (len, reason) = utf8_error(b, i, false);
            Err(decode_error("utf-8", b, i, len, reason))
        }
    }
}

/// A PERSID line: strict ASCII.
pub(crate) fn ascii_line(b: &[u8]) -> Result<PyStr> {
    match b.iter().position(|c| !c.is_ascii()) {
        None => Ok(PyStr::from_checked(b, true)),
        Some(i) => Err(decode_error("ascii", b, i, 1, "ordinal not in range(128)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &str) -> IntText {
        parse_int_line(s.as_bytes(), 1000).unwrap()
    }

    #[test]
    fn int_lines_follow_c_unpickler() {
        assert_eq!(int("00"), IntText::Bool(false));
        assert_eq!(int("01"), IntText::Bool(true));
        assert_eq!(int("-0"), IntText::Bool(false));
        assert_eq!(int("1"), IntText::Small(1));
        assert_eq!(int("010"), IntText::Small(8));
        assert_eq!(int("1 "), IntText::Small(1));
        assert_eq!(int("0x10"), IntText::Small(16));
        assert_eq!(int("1_000"), IntText::Small(1000));
        assert_eq!(int("-9223372036854775808"), IntText::Small(i64::MIN));
        assert!(matches!(int("99999999999999999999"), IntText::Big(_)));
        let e = parse_int_line(b"0x", 100).unwrap_err();
        assert_eq!(e.to_string(), "could not convert string to int");
        assert!(parse_int_line(b"", 100).unwrap_err().is_eof());
    }

    #[test]
    fn long_lines() {
        let l = |s: &str| parse_long_line(s.as_bytes(), 1000);
        assert_eq!(l("12L").unwrap(), IntText::Small(12));
        assert_eq!(l("0o10").unwrap(), IntText::Small(8));
        assert_eq!(l(" 5 L").unwrap(), IntText::Small(5));
        assert_eq!(
            l("L").unwrap_err().to_string(),
            "invalid literal for int() with base 10: ''"
        );
        assert_eq!(
            l("010").unwrap_err().to_string(),
            "invalid literal for int() with base 0: '010\\n'"
        );
        assert_eq!(
            parse_long_line(b"1111", 3).unwrap_err().limit_kind(),
            Some(LimitKind::IntDigits)
        );
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float_line(b"1.").unwrap(), 1.0);
        assert_eq!(parse_float_line(b".5").unwrap(), 0.5);
        assert!(parse_float_line(b"-nan").unwrap().is_nan());
        assert_eq!(parse_float_line(b"infinity").unwrap(), f64::INFINITY);
        assert_eq!(
            parse_float_line(b"1e500").unwrap_err().to_string(),
            "value too large to convert to float: '1e500\\n'"
        );
        assert_eq!(
            parse_float_line(b" 1.5 ").unwrap_err().to_string(),
            "could not convert string to float: ' 1.5 \\n'"
        );
        assert!(parse_float_line(b"1_0").is_err());
    }

    #[test]
    fn strings() {
        assert_eq!(parse_string_line(br"'a\'b'").unwrap(), b"a'b");
        assert_eq!(
            parse_string_line(br"'a\nb\x41\101\q'").unwrap(),
            b"a\nbAA\\q"
        );
        assert_eq!(
            parse_string_line(br"'\x4'").unwrap_err().to_string(),
            "invalid \\x escape at position 0"
        );
        assert_eq!(
            parse_string_line(b"'a\"").unwrap_err().to_string(),
            "the STRING opcode argument must be quoted"
        );
    }

    #[test]
    fn raw_unicode_escape() {
        let d = |s: &[u8]| decode_raw_unicode_escape(s).unwrap();
        assert_eq!(d(br"\u20ac\x41").as_str(), Some("€\\x41"));
        assert_eq!(d(b"\xe9").as_str(), Some("é"));
        assert_eq!(d(br"\\u0041").as_str(), Some("\\\\u0041"));
        assert_eq!(d(br"\\\u0041").as_str(), Some("\\\\A"));
        assert_eq!(d(br"\U0001F600").as_str(), Some("😀"));
        assert_eq!(d(br"\ud800").as_bytes(), b"\xed\xa0\x80");
        assert_eq!(
            decode_raw_unicode_escape(br"\u12").unwrap_err().to_string(),
            "'rawunicodeescape' codec can't decode bytes in position 0-3: truncated \\uXXXX escape"
        );
    }

    #[test]
    fn utf8_messages() {
        let e = |b: &[u8]| str_from_utf8_surrogatepass(b).unwrap_err().to_string();
        assert_eq!(
            e(b"\xff\xfe"),
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
        );
        assert_eq!(
            e(b"a\xe2\x28"),
            "'utf-8' codec can't decode byte 0xe2 in position 1: invalid continuation byte"
        );
        assert_eq!(
            e(b"\xe2\x82"),
            "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data"
        );
        let s = str_from_utf8_surrogatepass(b"a\xed\xa0\x80").unwrap();
        assert!(!s.is_utf8());
    }

    #[test]
    fn py2_strings() {
        let d = |b: &[u8], e, r| decode_py2_str(b, e, r);
        assert_eq!(
            d(b"\xe9", StringEncoding::Ascii, DecodeErrors::Strict)
                .unwrap_err()
                .to_string(),
            "'ascii' codec can't decode byte 0xe9 in position 0: ordinal not in range(128)"
        );
        let s = d(b"caf\xe9", StringEncoding::Latin1, DecodeErrors::Strict).unwrap();
        assert_eq!(s.unwrap().as_str(), Some("café"));
        let s = d(b"a\xffb", StringEncoding::Utf8, DecodeErrors::Replace).unwrap();
        assert_eq!(s.unwrap().as_str(), Some("a\u{fffd}b"));
        let s = d(b"a\xffb", StringEncoding::Ascii, DecodeErrors::Ignore).unwrap();
        assert_eq!(s.unwrap().as_str(), Some("ab"));
        let s = d(
            b"a\xff",
            StringEncoding::Utf8,
            DecodeErrors::SurrogateEscape,
        )
        .unwrap();
        assert_eq!(s.unwrap().as_bytes(), b"a\xed\xb3\xbf");
        assert!(d(b"x", StringEncoding::Bytes, DecodeErrors::Strict)
            .unwrap()
            .is_none());
    }
}
