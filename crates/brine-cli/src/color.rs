//! Colours for `brine show`: `--color auto|always|never`, `NO_COLOR`, and a small highlighter
//! for Python `repr()` text.

use std::io::IsTerminal;

/// When to colour output (`--color`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour standard output.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                // https://no-color.org: any non-empty value turns colours off.
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

const STRING: &str = "\x1b[32m";
const NUMBER: &str = "\x1b[36m";
const KEYWORD: &str = "\x1b[35m";
const NAME: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// `repr()` text with strings, numbers, keywords and dotted names (globals, classes) coloured.
/// The text must already be sanitized: the only escapes in the result are the colours.
pub fn highlight(repr: &str) -> String {
    let b = repr.as_bytes();
    let mut out = String::with_capacity(repr.len() * 2);
    let mut i = 0;
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    while i < b.len() {
        let c = b[i];
        let prev_word = i > 0 && (word(b[i - 1]) || b[i - 1] == b'.');
        let start = i;
        let colour = if c == b'\''
            || c == b'"'
            || (c == b'b' && matches!(b.get(i + 1), Some(b'\'' | b'"')) && !prev_word)
        {
            if c == b'b' {
                i += 1;
            }
            let q = b[i];
            i += 1;
            while i < b.len() && b[i] != q {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            STRING
        } else if (c.is_ascii_digit()
            || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
            && !prev_word
        {
            i += 1;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || b[i] == b'.'
                    || b[i] == b'+'
                    || (b[i] == b'-' && matches!(b[i - 1], b'e' | b'E')))
            {
                i += 1;
            }
            NUMBER
        } else if word(c) && !prev_word {
            while i < b.len()
                && (word(b[i]) || (b[i] == b'.' && b.get(i + 1).is_some_and(|&n| word(n))))
            {
                i += 1;
            }
            match &repr[start..i] {
                "None" | "True" | "False" | "nan" | "inf" => KEYWORD,
                w if w.contains('.') || b.get(i) == Some(&b'(') => NAME,
                _ => "",
            }
        } else {
            // Advance by a whole character.
            i += repr[i..].chars().next().map_or(1, char::len_utf8);
            ""
        };
        if colour.is_empty() {
            out.push_str(&repr[start..i]);
        } else {
            out.push_str(colour);
            out.push_str(&repr[start..i]);
            out.push_str(RESET);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_strings_numbers_keywords_and_names() {
        let h = highlight("{'a\\'b': [1, -2.5e-3, None, b'x'], 'k': collections.OrderedDict()}");
        assert_eq!(
            h,
            "{\x1b[32m'a\\'b'\x1b[0m: [\x1b[36m1\x1b[0m, \x1b[36m-2.5e-3\x1b[0m, \
             \x1b[35mNone\x1b[0m, \x1b[32mb'x'\x1b[0m], \x1b[32m'k'\x1b[0m: \
             \x1b[33mcollections.OrderedDict\x1b[0m()}"
        );
    }

    #[test]
    fn highlighting_removes_nothing() {
        let s = "frozenset({(1,), 'é', x1, ...}) 漢字 'unterminated";
        let h = highlight(s);
        let plain = h
            .replace(STRING, "")
            .replace(NUMBER, "")
            .replace(KEYWORD, "")
            .replace(NAME, "")
            .replace(RESET, "");
        assert_eq!(plain, s);
    }
}
