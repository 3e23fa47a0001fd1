//! The machine's side of the protocol-0 text arguments: thin adapters over
//! [`brine_core::text`] (which owns CPython's rules for INT, LONG, FLOAT, STRING, UNICODE and
//! UTF-8 with `surrogatepass`), plus what only the machine needs: the `max_int_digits` limit,
//! Python 2 `str` decoding per `LoadOptions`, GLOBAL names, PERSID lines and GET/PUT indexes.

use brine_core::text::{self as core, TextError, TextErrorKind};
use brine_core::{Error, LimitKind, Result};
use num_bigint::{BigInt, Sign};
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

/// A core text error as a machine error: an empty argument is truncation (EOF), the rest data.
#[cold]
fn text_error(e: TextError) -> Error {
    match e.kind() {
        TextErrorKind::Truncated => Error::truncated(),
        _ => Error::data(e.message()),
    }
}

fn int_text(v: core::IntText) -> IntText {
    match v {
        core::IntText::Bool(b) => IntText::Bool(b),
        core::IntText::Small(i) => IntText::Small(i),
        core::IntText::Big {
            negative,
            magnitude_le,
        } => {
            let sign = if negative { Sign::Minus } else { Sign::Plus };
            IntText::Big(BigInt::from_bytes_le(sign, &magnitude_le))
        }
    }
}

/// An `IntText` for a big integer, small when it fits.
pub(crate) fn small_or_big(big: BigInt) -> IntText {
    match big.to_i64() {
        Some(v) => IntText::Small(v),
        None => IntText::Big(big),
    }
}

/// `Limits::max_int_digits` for an INT / LONG line, checked before any conversion. Counts the
/// hex digits before the first NUL: exact for decimal literals, at most 2 over with a prefix.
#[inline]
fn check_digits(line: &[u8], max_digits: usize) -> Result<()> {
    if line.len() > max_digits
        && line
            .iter()
            .take_while(|&&c| c != 0)
            .filter(|c| c.is_ascii_hexdigit())
            .count()
            > max_digits
    {
        return Err(Error::limit(LimitKind::IntDigits));
    }
    Ok(())
}

/// The INT argument (`load_int`), with no `sys.int_max_str_digits` cap but `max_digits`.
pub(crate) fn parse_int_line(line: &[u8], max_digits: usize) -> Result<IntText> {
    check_digits(line, max_digits)?;
    core::parse_int_line(line, 0)
        .map(int_text)
        .map_err(text_error)
}

/// The LONG argument (`load_long`), with no `sys.int_max_str_digits` cap but `max_digits`.
pub(crate) fn parse_long_line(line: &[u8], max_digits: usize) -> Result<IntText> {
    check_digits(line, max_digits)?;
    core::parse_long_line(line, 0)
        .map(int_text)
        .map_err(text_error)
}

/// The FLOAT argument (`load_float`).
pub(crate) fn parse_float_line(line: &[u8]) -> Result<f64> {
    core::parse_float(line).map_err(text_error)
}

/// The STRING argument: quoted, then `codecs.escape_decode`.
pub(crate) fn parse_string_line(line: &[u8]) -> Result<Vec<u8>> {
    core::decode_string_escape(line).map_err(text_error)
}

/// The UNICODE argument: `raw-unicode-escape`.
pub(crate) fn decode_raw_unicode_escape(s: &[u8]) -> Result<PyStr> {
    if s.is_ascii() && !s.contains(&b'\\') {
        return Ok(PyStr::from_checked(s, true));
    }
    let out = core::decode_raw_unicode_escape(s).map_err(text_error)?;
    let utf8 = std::str::from_utf8(&out).is_ok();
    Ok(PyStr::from_checked_vec(out, utf8))
}

/// Checks a BINUNICODE payload; true when it is plain UTF-8, false when it holds
/// surrogatepass-encoded lone surrogates.
pub(crate) fn check_utf8_surrogatepass(b: &[u8]) -> Result<bool> {
    Ok(std::str::from_utf8(b).is_ok()
        || core::validate_utf8_surrogatepass(b).map_err(text_error)?)
}

/// BINUNICODE payloads: UTF-8 with `surrogatepass`. Plain UTF-8 costs one `from_utf8`.
#[inline]
pub(crate) fn str_from_utf8_surrogatepass(b: &[u8]) -> Result<PyStr> {
    // Short ASCII (nearly every key) in one pass over a fixed-size buffer.
    if let Some(s) = PyStr::inline_ascii(b) {
        return Ok(s);
    }
    let utf8 = std::str::from_utf8(b).is_ok()
        || core::validate_utf8_surrogatepass(b).map_err(text_error)?;
    Ok(PyStr::from_checked(b, utf8))
}

/// CPython's strict UTF-8 error for `b`, whose first invalid byte is at `at`.
#[cold]
fn utf8_error(b: &[u8], at: usize) -> Error {
    // An encoded surrogate, which `surrogatepass` would take: strict UTF-8 flags its lead byte.
    if let [0xED, 0xA0..=0xBF, ..] = b[at..] {
        return Error::data(format!(
            "'utf-8' codec can't decode byte 0xed in position {at}: invalid continuation byte"
        ));
    }
    // Otherwise the first error is the same as with `surrogatepass`.
    match core::validate_utf8_surrogatepass(b) {
        Err(e) => text_error(e),
        Ok(_) => Error::data("invalid utf-8"),
    }
}

#[cold]
fn ascii_error(b: &[u8], at: usize) -> Error {
    Error::data(format!(
        "'ascii' codec can't decode byte 0x{:02x} in position {at}: ordinal not in range(128)",
        b[at]
    ))
}

/// Python 2 `str` payloads (STRING, BINSTRING, SHORT_BINSTRING) decoded per `encoding=` and
/// `errors=`; `None` for `encoding="bytes"`.
pub(crate) fn decode_py2_str(
    b: &[u8],
    enc: StringEncoding,
    errors: DecodeErrors,
) -> Result<Option<PyStr>> {
    let ascii = match enc {
        StringEncoding::Bytes => return Ok(None),
        _ if b.is_ascii() => return Ok(Some(PyStr::from_checked(b, true))),
        StringEncoding::Latin1 => {
            return Ok(Some(PyStr::from_checked_vec(core::latin1_to_utf8(b), true)))
        }
        StringEncoding::Ascii => true,
        StringEncoding::Utf8 => false,
    };
    // The next undecodable sequence at or after `i`: start and length (CPython's ranges).
    let bad = |i: usize| -> Option<(usize, usize)> {
        if ascii {
            let p = b[i..].iter().position(|c| !c.is_ascii())?;
            Some((i + p, 1))
        } else {
            let e = std::str::from_utf8(&b[i..]).err()?;
            let at = i + e.valid_up_to();
            Some((at, e.error_len().unwrap_or(b.len() - at)))
        }
    };
    let Some((mut at, mut len)) = bad(0) else {
        return Ok(Some(PyStr::from_checked(b, true)));
    };
    if errors == DecodeErrors::Strict {
        return Err(if ascii {
            ascii_error(b, at)
        } else {
            utf8_error(b, at)
        });
    }
    let mut out = Vec::with_capacity(b.len() + 8);
    let mut i = 0;
    loop {
        out.extend_from_slice(&b[i..at]);
        match errors {
            DecodeErrors::Replace | DecodeErrors::Strict => {
                out.extend_from_slice("\u{FFFD}".as_bytes())
            }
            DecodeErrors::Ignore => {}
            DecodeErrors::SurrogateEscape => {
                // U+DC80..U+DCFF for the bad bytes (all >= 0x80), in surrogatepass UTF-8.
                for &c in &b[at..at + len] {
                    out.extend_from_slice(&[0xED, 0xB0 | (c >> 6), 0x80 | (c & 0x3F)]);
                }
            }
        }
        i = at + len;
        match bad(i) {
            Some(next) => (at, len) = next,
            None => break,
        }
    }
    out.extend_from_slice(&b[i..]);
    let utf8 = errors != DecodeErrors::SurrogateEscape;
    Ok(Some(PyStr::from_checked_vec(out, utf8)))
}

/// A GLOBAL / INST name line: strict UTF-8.
pub(crate) fn utf8_name(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b).map_err(|e| utf8_error(b, e.valid_up_to()))
}

/// A PERSID line: strict ASCII.
pub(crate) fn ascii_line(b: &[u8]) -> Result<PyStr> {
    match b.iter().position(|c| !c.is_ascii()) {
        None => Ok(PyStr::from_checked(b, true)),
        Some(i) => Err(ascii_error(b, i)),
    }
}

/// A GET / PUT index line: `PyLong_FromString(line, NULL, 10)` then `PyLong_AsSsize_t`.
pub(crate) fn parse_index_line(line: &[u8]) -> Result<i64> {
    if line.is_empty() {
        return Err(Error::truncated());
    }
    // C string semantics: the line (with its '\n') up to the first NUL.
    let s = match line.iter().position(|&c| c == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    let is_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let a = s.iter().position(|c| !is_space(c)).unwrap_or(s.len());
    let z = s.iter().rposition(|c| !is_space(c)).map_or(a, |z| z + 1);
    let t = &s[a..z];
    let (negative, digits) = match t {
        [b'-', r @ ..] => (true, r),
        [b'+', r @ ..] => (false, r),
        _ => (false, t),
    };
    let valid = digits.first().is_some_and(u8::is_ascii_digit)
        && digits.last().is_some_and(u8::is_ascii_digit)
        && digits.iter().all(|&c| c.is_ascii_digit() || c == b'_')
        && !digits.windows(2).any(|w| w == b"__");
    if valid {
        let mut v: i128 = 0;
        for &c in digits.iter().filter(|&&c| c != b'_') {
            v = v * 10 + i128::from(c - b'0');
            if v > 1 << 63 {
                break;
            }
        }
        return i64::try_from(if negative { -v } else { v })
            .map_err(|_| Error::data("Python int too large to convert to C ssize_t"));
    }
    let mut shown = s.to_vec();
    if s.len() == line.len() {
        shown.push(b'\n');
    }
    shown.truncate(200);
    Err(match std::str::from_utf8(&shown) {
        Ok(t) => Error::data(format!(
            "invalid literal for int() with base 10: {}",
            core::repr_str(t.as_bytes())
                .chars()
                .take(200)
                .collect::<String>()
        )),
        Err(e) => utf8_error(&shown, e.valid_up_to()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_adapt_core() {
        let int = |s: &str| parse_int_line(s.as_bytes(), 1000).unwrap();
        assert_eq!(int("01"), IntText::Bool(true));
        assert_eq!(int("010"), IntText::Small(8));
        assert_eq!(int("-9223372036854775808"), IntText::Small(i64::MIN));
        assert_eq!(
            int("-9223372036854775809"),
            IntText::Big(BigInt::from(i64::MIN) - 1)
        );
        assert_eq!(
            parse_long_line(b"18446744073709551616L", 1000).unwrap(),
            IntText::Big(BigInt::from(u64::MAX) + 1)
        );
        let e = parse_int_line(b"0x", 100).unwrap_err();
        assert_eq!(e.to_string(), "could not convert string to int");
        assert!(!e.is_eof());
        assert!(parse_int_line(b"", 100).unwrap_err().is_eof());
        assert!(parse_long_line(b"", 100).unwrap_err().is_eof());
        assert!(parse_float_line(b"").unwrap_err().is_eof());
    }

    #[test]
    fn int_digit_limit_and_no_4300_cap() {
        let nines = |n| "9".repeat(n) + "L";
        assert!(parse_long_line(nines(5000).as_bytes(), 5000).is_ok());
        for s in [
            nines(5001),
            "9".repeat(5001),
            format!("0x{}", "f".repeat(5001)),
        ] {
            let e = parse_long_line(s.as_bytes(), 5000).unwrap_err();
            assert_eq!(e.limit_kind(), Some(LimitKind::IntDigits), "{s}");
            let e = parse_int_line(s.as_bytes(), 5000).unwrap_err();
            assert_eq!(e.limit_kind(), Some(LimitKind::IntDigits), "{s}");
        }
    }

    #[test]
    fn index_lines() {
        assert_eq!(parse_index_line(b" +1_0 \x00junk").unwrap(), 10);
        assert_eq!(parse_index_line(&[b'0'; 60]).unwrap(), 0);
        assert_eq!(parse_index_line(b"-9223372036854775808").unwrap(), i64::MIN);
        let e = |s: &[u8]| parse_index_line(s).unwrap_err().to_string();
        assert_eq!(
            e(b"9223372036854775808"),
            "Python int too large to convert to C ssize_t"
        );
        assert_eq!(
            e(b"0x1"),
            "invalid literal for int() with base 10: '0x1\\n'"
        );
        assert_eq!(
            e(b"1__0"),
            "invalid literal for int() with base 10: '1__0\\n'"
        );
        assert_eq!(e(b"\x00"), "invalid literal for int() with base 10: ''");
        assert_eq!(
            e(b"1\xff"),
            "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"
        );
        assert!(parse_index_line(b"").unwrap_err().is_eof());
    }

    #[test]
    fn utf8_strict_and_surrogatepass() {
        assert!(str_from_utf8_surrogatepass(b"\xe2\x82\xac")
            .unwrap()
            .is_utf8());
        assert!(!str_from_utf8_surrogatepass(b"a\xed\xa0\x80")
            .unwrap()
            .is_utf8());
        assert_eq!(
            str_from_utf8_surrogatepass(b"\xed\xa0")
                .unwrap_err()
                .to_string(),
            "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"
        );
        let e = |b: &[u8]| utf8_name(b).unwrap_err().to_string();
        assert_eq!(
            e(b"ab\xed\xa0\x80"),
            "'utf-8' codec can't decode byte 0xed in position 2: invalid continuation byte"
        );
        assert_eq!(
            e(b"a\xe2\x82"),
            "'utf-8' codec can't decode bytes in position 1-2: unexpected end of data"
        );
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
        assert_eq!(
            d(b"a\xed\xa0\x80", StringEncoding::Utf8, DecodeErrors::Strict)
                .unwrap_err()
                .to_string(),
            "'utf-8' codec can't decode byte 0xed in position 1: invalid continuation byte"
        );
        let s = d(b"caf\xe9", StringEncoding::Latin1, DecodeErrors::Strict).unwrap();
        assert_eq!(s.unwrap().as_str(), Some("café"));
        let s = d(
            b"a\xffb\xe2\x82",
            StringEncoding::Utf8,
            DecodeErrors::Replace,
        )
        .unwrap();
        assert_eq!(s.unwrap().as_str(), Some("a\u{fffd}b\u{fffd}"));
        let s = d(
            b"a\xed\xa0\x80",
            StringEncoding::Utf8,
            DecodeErrors::Replace,
        )
        .unwrap();
        assert_eq!(s.unwrap().as_str(), Some("a\u{fffd}\u{fffd}\u{fffd}"));
        let s = d(b"a\xffb", StringEncoding::Ascii, DecodeErrors::Ignore).unwrap();
        assert_eq!(s.unwrap().as_str(), Some("ab"));
        let s = d(
            b"a\xff\x80",
            StringEncoding::Utf8,
            DecodeErrors::SurrogateEscape,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.as_bytes(), b"a\xed\xb3\xbf\xed\xb2\x80");
        assert!(!s.is_utf8());
        assert!(d(b"x", StringEncoding::Bytes, DecodeErrors::Strict)
            .unwrap()
            .is_none());
    }
}
