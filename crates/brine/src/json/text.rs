//! Low-level JSON text helpers shared by both forms: string escaping, floats and base64.

use std::fmt::Write as _;

/// Appends `s` as a JSON string literal.
///
/// Besides what JSON requires (`"`, `\`, control characters), DEL and the bidirectional
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069) are escaped too: names in a hostile
/// pickle may carry them, and JSON output is often read in a terminal, where they would
/// reorder the text around them.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                Some("")
            }
            _ => None,
        };
        let Some(esc) = esc else { continue };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(esc);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A finite float as a JSON number that reads back as the same `f64` and never as an integer
/// (Rust's `Debug` is the shortest round-tripping form and keeps `.0` or an exponent).
pub(crate) fn push_float(out: &mut String, x: f64) {
    let _ = write!(out, "{x:?}");
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends standard base64 (RFC 4648, with padding) of `data`.
pub(crate) fn push_base64(out: &mut String, data: &[u8]) {
    out.reserve(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

/// Decodes standard base64; padding is optional, anything else (whitespace, the URL alphabet)
/// is an error, reported as `None`.
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Splits surrogatepass UTF-8 into text runs and lone surrogates (as their code units).
pub(crate) fn surrogate_segments(b: &[u8]) -> Vec<Result<String, u16>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0xED && i + 2 < b.len() && (0xA0..=0xBF).contains(&b[i + 1]) {
            if !run.is_empty() {
                out.push(Ok(
                    String::from_utf8_lossy(&std::mem::take(&mut run)).into_owned()
                ));
            }
            let cu = (u16::from(b[i] & 0x0F) << 12)
                | (u16::from(b[i + 1] & 0x3F) << 6)
                | u16::from(b[i + 2] & 0x3F);
            out.push(Err(cu));
            i += 3;
        } else {
            run.push(b[i]);
            i += 1;
        }
    }
    if !run.is_empty() {
        out.push(Ok(String::from_utf8_lossy(&run).into_owned()));
    }
    out
}

/// Appends code point `cp` (a surrogate included) in surrogatepass UTF-8.
pub(crate) fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0..=0x7F => out.push(cp as u8),
        0x80..=0x7FF => out.extend_from_slice(&[0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]),
        0x800..=0xFFFF => out.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xF0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
    }
}

/// Re-indents compact JSON text, two spaces a level. Indentation stops growing past
/// `MAX_INDENT` levels so that a deeply nested document stays linear in size.
pub(crate) fn pretty(compact: &str) -> String {
    const MAX_INDENT: usize = 32;
    let b = compact.as_bytes();
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_str = false;
    let mut start = 0;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth.min(MAX_INDENT) {
            out.push_str("  ");
        }
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => {
                // Empty containers stay on one line.
                if matches!(b.get(i + 1), Some(b']' | b'}')) {
                    i += 2;
                    continue;
                }
                out.push_str(&compact[start..=i]);
                depth += 1;
                newline(&mut out, depth);
                start = i + 1;
            }
            b']' | b'}' => {
                out.push_str(&compact[start..i]);
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                start = i;
            }
            b',' => {
                out.push_str(&compact[start..=i]);
                newline(&mut out, depth);
                start = i + 1;
            }
            b':' => {
                out.push_str(&compact[start..=i]);
                out.push(' ');
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&compact[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for n in 0..20u8 {
            let data: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            let mut s = String::new();
            push_base64(&mut s, &data);
            assert_eq!(decode_base64(&s).as_deref(), Some(&data[..]), "{s}");
        }
        let mut s = String::new();
        push_base64(&mut s, b"hello");
        assert_eq!(s, "aGVsbG8=");
        assert_eq!(decode_base64("aGV sbG8"), None);
    }

    #[test]
    fn strings_escape_controls_and_bidi() {
        let mut s = String::new();
        push_str(&mut s, "a\"\\\n\u{1b}[31m\u{202e}é");
        assert_eq!(s, r#""a\"\\\n\u001b[31m\u202eé""#);
    }

    #[test]
    fn pretty_indents_and_keeps_strings() {
        assert_eq!(
            pretty(r#"{"a":[1,"x,[y]"],"b":{}}"#),
            "{\n  \"a\": [\n    1,\n    \"x,[y]\"\n  ],\n  \"b\": {}\n}"
        );
    }
}
