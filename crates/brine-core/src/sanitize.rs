//! Escaping text from a pickle before it reaches a terminal: control characters (ANSI escape
//! sequences start with one) and bidirectional overrides.
//!
//! One implementation for every crate that prints names from a file (the `brine` command, the
//! HDF5 listing). Names in a hostile pickle (module and class names, strings in error messages) may carry
//! `ESC [ ...` sequences that recolour, move the cursor or retitle the terminal, or U+202E and
//! friends that display text in another order than it is read (CVE-2021-42574, "Trojan
//! Source"). Everything that can do either is written as a visible escape instead.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for characters that must not reach a terminal raw. `keep_lines` keeps `\n` and `\t`
/// (multi-line listings).
fn is_unsafe(c: char, keep_lines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_lines,
        // C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some terminals).
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidirectional embeddings, overrides and isolates, and the implicit marks.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}' => {
            true
        }
        _ => false,
    }
}

fn escape(s: &str, keep_lines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c, keep_lines)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !is_unsafe(c, keep_lines) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// One line of text made safe for a terminal: every control character (newlines included)
/// and bidi control written as `\xNN` / `\uNNNN`.
///
/// ```
/// use brine_core::sanitize;
/// assert_eq!(sanitize::line("a\x1b[31mb\u{202e}c\n"), "a\\x1b[31mb\\u202ec\\x0a");
/// ```
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Multi-line text made safe for a terminal: like [`line`], but newlines and tabs stay.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_escapes_and_bidi_overrides_are_escaped() {
        assert_eq!(line("os\u{1b}[31m.system"), "os\\x1b[31m.system");
        assert_eq!(line("evil\u{202e}txt.exe"), "evil\\u202etxt.exe");
        assert_eq!(line("a\u{2066}b\u{2069}"), "a\\u2066b\\u2069");
        assert_eq!(line("csi\u{9b}2J"), "csi\\x9b2J");
        assert_eq!(line("bell\u{7}\r"), "bell\\x07\\x0d");
        assert_eq!(line("two\nlines"), "two\\x0alines");
    }

    #[test]
    fn text_keeps_its_lines_and_safe_text_is_borrowed() {
        assert_eq!(text("a\n\tb\u{1b}"), "a\n\tb\\x1b");
        assert!(matches!(line("plain é ü 漢字"), Cow::Borrowed(_)));
        assert!(matches!(text("a\nb"), Cow::Borrowed(_)));
    }
}
