//! The opcode table: names, argument kinds, protocols and one-line docs of all 68 opcodes.

pub use crate::opcode_table::Opcode;
use crate::opcode_table::TABLE;

/// How an opcode's argument is laid out in the stream (pickletools' `ArgumentDescriptor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// No argument.
    None,
    /// One unsigned byte.
    U1,
    /// Two-byte little-endian unsigned integer.
    U2,
    /// Four-byte little-endian unsigned integer.
    U4,
    /// Eight-byte little-endian unsigned integer.
    U8,
    /// Four-byte little-endian signed integer.
    I4,
    /// Eight-byte big-endian IEEE-754 double.
    F8,
    /// One-byte length, then that many bytes of little-endian two's complement.
    Long1,
    /// Four-byte signed length, then that many bytes of little-endian two's complement.
    Long4,
    /// Python 2 string with a one-byte length.
    String1,
    /// Python 2 string with a four-byte signed length.
    String4,
    /// Bytes with a one-byte length.
    Bytes1,
    /// Bytes with a four-byte length.
    Bytes4,
    /// Bytes with an eight-byte length.
    Bytes8,
    /// Bytearray with an eight-byte length.
    ByteArray8,
    /// UTF-8 text with a one-byte length.
    Unicode1,
    /// UTF-8 text with a four-byte length.
    Unicode4,
    /// UTF-8 text with an eight-byte length.
    Unicode8,
    /// A decimal integer line (`INT`, `GET`, `PUT`).
    DecimalNlShort,
    /// A decimal integer line with an optional trailing `L` (`LONG`).
    DecimalNlLong,
    /// A float repr line (`FLOAT`).
    FloatNl,
    /// A quoted, escaped Python 2 string line (`STRING`).
    StringNl,
    /// A raw line (`PERSID`).
    StringNlNoEscape,
    /// Two raw lines (`GLOBAL`, `INST`).
    StringNlNoEscapePair,
    /// A raw-unicode-escape line (`UNICODE`).
    UnicodeNl,
}

impl ArgKind {
    /// pickletools' name for this argument kind.
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::None => "None",
            ArgKind::U1 => "uint1",
            ArgKind::U2 => "uint2",
            ArgKind::U4 => "uint4",
            ArgKind::U8 => "uint8",
            ArgKind::I4 => "int4",
            ArgKind::F8 => "float8",
            ArgKind::Long1 => "long1",
            ArgKind::Long4 => "long4",
            ArgKind::String1 => "string1",
            ArgKind::String4 => "string4",
            ArgKind::Bytes1 => "bytes1",
            ArgKind::Bytes4 => "bytes4",
            ArgKind::Bytes8 => "bytes8",
            ArgKind::ByteArray8 => "bytearray8",
            ArgKind::Unicode1 => "unicodestring1",
            ArgKind::Unicode4 => "unicodestring4",
            ArgKind::Unicode8 => "unicodestring8",
            ArgKind::DecimalNlShort => "decimalnl_short",
            ArgKind::DecimalNlLong => "decimalnl_long",
            ArgKind::FloatNl => "floatnl",
            ArgKind::StringNl => "stringnl",
            ArgKind::StringNlNoEscape => "stringnl_noescape",
            ArgKind::StringNlNoEscapePair => "stringnl_noescape_pair",
            ArgKind::UnicodeNl => "unicodestringnl",
        }
    }
}

/// Static facts about one opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpInfo {
    /// The opcode.
    pub op: Opcode,
    /// CPython's name, e.g. `SHORT_BINUNICODE`.
    pub name: &'static str,
    /// Argument layout.
    pub arg: ArgKind,
    /// First protocol that has this opcode.
    pub proto: u8,
    /// First line of pickletools' documentation.
    pub doc: &'static str,
    /// pickletools' stack-before names, space separated.
    pub stack_before: &'static str,
    /// pickletools' stack-after names, space separated.
    pub stack_after: &'static str,
}

const fn build_index() -> [u8; 256] {
    let mut idx = [u8::MAX; 256];
    let mut i = 0;
    while i < TABLE.len() {
        idx[TABLE[i].op as usize] = i as u8;
        i += 1;
    }
    idx
}

static BY_BYTE: [u8; 256] = build_index();

impl Opcode {
    /// Every opcode, in pickletools order.
    pub fn all() -> impl Iterator<Item = Opcode> {
        TABLE.iter().map(|i| i.op)
    }

    /// The opcode with this byte value, if any.
    ///
    /// ```
    /// use brine_core::Opcode;
    /// assert_eq!(Opcode::from_byte(b'.'), Some(Opcode::STOP));
    /// assert_eq!(Opcode::from_byte(0xff), None);
    /// ```
    #[inline]
    pub fn from_byte(b: u8) -> Option<Opcode> {
        let i = BY_BYTE[b as usize];
        if i == u8::MAX {
            None
        } else {
            Some(TABLE[i as usize].op)
        }
    }

    /// The byte that encodes this opcode.
    #[inline]
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// Static facts about this opcode.
    #[inline]
    pub fn info(self) -> &'static OpInfo {
        &TABLE[BY_BYTE[self as usize] as usize]
    }

    /// CPython's name of the opcode.
    #[inline]
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The argument layout.
    #[inline]
    pub fn arg(self) -> ArgKind {
        self.info().arg
    }

    /// The first protocol that has this opcode.
    #[inline]
    pub fn proto(self) -> u8 {
        self.info().proto
    }
}

impl std::fmt::Display for Opcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert_eq!(Opcode::all().count(), 68);
        for op in Opcode::all() {
            assert_eq!(Opcode::from_byte(op.byte()), Some(op));
            assert_eq!(op.info().op, op);
        }
        let known = (0u8..=255)
            .filter(|b| Opcode::from_byte(*b).is_some())
            .count();
        assert_eq!(known, 68);
    }
}
