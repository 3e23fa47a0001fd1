//! An iterative JSON parser into a flat arena of values: no recursion on nesting depth, and a
//! flat `Vec` to drop.
//!
//! serde_json's parser recurses (with a depth limit of 128) and `serde_json::Value` drops
//! recursively, so neither can take the 100 000-deep documents a pickle may turn into.

use brine_core::{Category, Error, LimitKind, Limits, Result};
use num_bigint::BigInt;

use super::text::push_code_point;
use crate::value::PyStr;

/// Index of a value in [`Doc::values`].
pub(crate) type Ix = u32;

/// One JSON value; containers hold indices of their items.
#[derive(Debug)]
pub(crate) enum J {
    Null,
    Bool(bool),
    Int(i64),
    BigInt(Box<BigInt>),
    Float(f64),
    /// A string; may hold lone surrogates written as `\uD800` escapes (as Python's `json`
    /// module writes them).
    Str(PyStr),
    Arr(Box<[Ix]>),
    Obj(Box<[(PyStr, Ix)]>),
}

/// A parsed document: its values in post-order, the top value last.
pub(crate) struct Doc {
    pub values: Vec<J>,
    /// The byte offset where each value starts, for error messages.
    pub offsets: Vec<u64>,
    pub top: Ix,
}

enum Frame {
    Arr(Vec<Ix>, usize),
    Obj(Vec<(PyStr, Ix)>, PyStr, usize),
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    values: Vec<J>,
    offsets: Vec<u64>,
    limits: &'a Limits,
}

/// Parses one JSON document (a UTF-8 byte-order mark is skipped).
pub(crate) fn parse(text: &[u8], limits: &Limits) -> Result<Doc> {
    if std::str::from_utf8(text).is_err() {
        let at = std::str::from_utf8(text)
            .err()
            .map_or(0, |e| e.valid_up_to() as u64);
        return Err(Error::syntax("json text is not utf-8").at(at));
    }
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let mut p = Parser {
        b: text,
        i: 0,
        values: Vec::new(),
        offsets: Vec::new(),
        limits,
    };
    let top = p.document()?;
    Ok(Doc {
        values: p.values,
        offsets: p.offsets,
        top,
    })
}

impl Parser<'_> {
    #[cold]
    fn err(&self, msg: &str) -> Error {
        if self.i >= self.b.len() {
            Error::msg(Category::Eof, "json text ended early").at(self.i as u64)
        } else {
            Error::syntax(msg.to_owned()).at(self.i as u64)
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn push(&mut self, v: J, start: usize) -> Result<Ix> {
        if self.values.len() >= self.limits.max_nodes.min(u32::MAX as usize - 1) {
            return Err(Error::limit(LimitKind::Nodes).at(self.i as u64));
        }
        self.values.push(v);
        self.offsets.push(start as u64);
        Ok((self.values.len() - 1) as Ix)
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<()> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    fn document(&mut self) -> Result<Ix> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            self.ws();
            let start = self.i;
            let mut ix = match self.b.get(self.i) {
                Some(b'[') => {
                    self.i += 1;
                    self.enter(&stack)?;
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        self.push(J::Arr(Box::new([])), start)?
                    } else {
                        stack.push(Frame::Arr(Vec::new(), start));
                        continue 'value;
                    }
                }
                Some(b'{') => {
                    self.i += 1;
                    self.enter(&stack)?;
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        self.push(J::Obj(Box::new([])), start)?
                    } else {
                        let key = self.key()?;
                        stack.push(Frame::Obj(Vec::new(), key, start));
                        continue 'value;
                    }
                }
                _ => {
                    let v = self.scalar()?;
                    self.push(v, start)?
                }
            };
            // A value is complete: hand it to the open container, closing as many as end here.
            loop {
                let Some(frame) = stack.last_mut() else {
                    self.ws();
                    if self.i != self.b.len() {
                        return Err(self.err("trailing characters after the json value"));
                    }
                    return Ok(ix);
                };
                match frame {
                    Frame::Arr(items, _) => items.push(ix),
                    Frame::Obj(items, key, _) => items.push((std::mem::take(key), ix)),
                }
                self.ws();
                match (self.b.get(self.i), &mut *frame) {
                    (Some(b','), Frame::Arr(..)) => {
                        self.i += 1;
                        continue 'value;
                    }
                    (Some(b','), Frame::Obj(_, key, _)) => {
                        self.i += 1;
                        *key = self.key()?;
                        continue 'value;
                    }
                    (Some(b']'), Frame::Arr(..)) | (Some(b'}'), Frame::Obj(..)) => {
                        self.i += 1;
                        let (v, start) = match stack.pop() {
                            Some(Frame::Arr(items, s)) => (J::Arr(items.into_boxed_slice()), s),
                            Some(Frame::Obj(items, _, s)) => (J::Obj(items.into_boxed_slice()), s),
                            // A frame was just seen: this arm never runs.
                            None => return Err(self.err("unbalanced brackets")),
                        };
                        ix = self.push(v, start)?;
                    }
                    (_, Frame::Arr(..)) => return Err(self.err("expected `,` or `]`")),
                    (_, Frame::Obj(..)) => return Err(self.err("expected `,` or `}`")),
                }
            }
        }
    }

    fn enter(&self, stack: &[Frame]) -> Result<()> {
        if stack.len() >= self.limits.max_depth {
            return Err(Error::limit(LimitKind::Depth).at(self.i as u64 - 1));
        }
        Ok(())
    }

    /// An object key and its colon.
    fn key(&mut self) -> Result<PyStr> {
        self.ws();
        if self.b.get(self.i) != Some(&b'"') {
            return Err(self.err("expected a string key"));
        }
        let k = self.string()?;
        self.expect(b':', "expected `:`")?;
        Ok(k)
    }

    fn scalar(&mut self) -> Result<J> {
        let rest = &self.b[self.i..];
        let lit = |s: &[u8]| rest.starts_with(s);
        match rest.first() {
            Some(b'"') => self.string().map(J::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ if lit(b"null") => {
                self.i += 4;
                Ok(J::Null)
            }
            _ if lit(b"true") => {
                self.i += 4;
                Ok(J::Bool(true))
            }
            _ if lit(b"false") => {
                self.i += 5;
                Ok(J::Bool(false))
            }
            _ => Err(self.err("expected a json value")),
        }
    }

    fn number(&mut self) -> Result<J> {
        let start = self.i;
        let b = self.b;
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        let mut i = self.i;
        if b[i] == b'-' {
            i += 1;
        }
        let int_start = i;
        let n = digits(&mut i);
        let bad = || Error::syntax("invalid number").at(start as u64);
        if n == 0 || (n > 1 && b[int_start] == b'0') {
            return Err(bad());
        }
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            i += 1;
            float = true;
            if digits(&mut i) == 0 {
                return Err(bad());
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            float = true;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(bad());
            }
        }
        self.i = i;
        // The bytes are ASCII digits and signs, checked above.
        let s = std::str::from_utf8(&b[start..i]).unwrap_or("0");
        if float {
            return s.parse::<f64>().map(J::Float).map_err(|_| bad());
        }
        if let Ok(v) = s.parse::<i64>() {
            return Ok(J::Int(v));
        }
        if n > self.limits.max_int_digits {
            return Err(Error::limit(LimitKind::IntDigits).at(start as u64));
        }
        s.parse::<BigInt>()
            .map(|v| J::BigInt(Box::new(v)))
            .map_err(|_| bad())
    }

    /// A string literal, the opening quote at `self.i`.
    fn string(&mut self) -> Result<PyStr> {
        self.i += 1;
        let b = self.b;
        let mut out: Vec<u8> = Vec::new();
        let mut utf8 = true;
        let mut run = self.i;
        loop {
            let Some(&c) = b.get(self.i) else {
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => {
                    out.extend_from_slice(&b[run..self.i]);
                    self.i += 1;
                    return Ok(PyStr::from_checked_vec(out, utf8));
                }
                b'\\' => {
                    out.extend_from_slice(&b[run..self.i]);
                    self.i += 1;
                    let Some(&e) = b.get(self.i) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let mut cp = u32::from(hi);
                            if (0xD800..0xDC00).contains(&hi) && b[self.i..].starts_with(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            // A lone surrogate stays one (Python's `json` writes them so).
                            if (0xD800..0xE000).contains(&cp) {
                                utf8 = false;
                            }
                            push_code_point(&mut out, cp);
                            run = self.i;
                            continue;
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    };
                    out.push(ch);
                    run = self.i;
                }
                0..=0x1F => return Err(self.err("control character in string")),
                _ => self.i += 1,
            }
        }
    }

    fn hex4(&mut self) -> Result<u16> {
        let h = self.b.get(self.i..self.i + 4).unwrap_or(b"");
        let v = std::str::from_utf8(h)
            .ok()
            .filter(|s| s.len() == 4 && s.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|s| u16::from_str_radix(s, 16).ok());
        match v {
            Some(v) => {
                self.i += 4;
                Ok(v)
            }
            None => Err(self.err("invalid \\u escape")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(s: &str) -> Doc {
        parse(s.as_bytes(), &Limits::default()).unwrap()
    }

    #[test]
    fn values_and_nesting() {
        let d = parse_ok(
            r#" {"a": [1, -2.5e3, "x\u00e9\ud83d\ude00", null, true, false, {}], "b": []} "#,
        );
        let J::Obj(items) = &d.values[d.top as usize] else {
            panic!("not an object")
        };
        assert_eq!(items.len(), 2);
        let J::Arr(a) = &d.values[items[0].1 as usize] else {
            panic!("not an array")
        };
        assert!(matches!(d.values[a[1] as usize], J::Float(x) if x == -2500.0));
        let J::Str(s) = &d.values[a[2] as usize] else {
            panic!("not a string")
        };
        assert_eq!(s.as_str(), Some("xé😀"));
    }

    #[test]
    fn lone_surrogates_and_big_ints() {
        let d = parse_ok(r#"["\ud800", 123456789012345678901234567890]"#);
        let J::Arr(a) = &d.values[d.top as usize] else {
            panic!()
        };
        assert!(
            matches!(&d.values[a[0] as usize], J::Str(s) if s.as_bytes() == b"\xed\xa0\x80" && !s.is_utf8())
        );
        assert!(matches!(&d.values[a[1] as usize], J::BigInt(_)));
    }

    #[test]
    fn errors_carry_offsets() {
        let e = |s: &str| {
            parse(s.as_bytes(), &Limits::default())
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(e("[1,]"), "expected a json value at offset 3");
        assert_eq!(e("[1 2]"), "expected `,` or `]` at offset 3");
        assert_eq!(e("01"), "invalid number at offset 0");
        assert_eq!(
            e("[1] x"),
            "trailing characters after the json value at offset 4"
        );
        assert_eq!(e("[1"), "json text ended early at offset 2");
        assert_eq!(e("\"a\u{1}\""), "control character in string at offset 2");
    }
}
