//! The one error type of the pickle core: a category, a message, a byte offset and the opcode.

use std::fmt;
use std::io;

use crate::limits::LimitKind;
use crate::opcode::Opcode;

/// A specialized `Result` for brine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Broad classes of failure, for callers that branch on the kind of problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Reading or writing the underlying stream failed.
    Io,
    /// The input ended early (truncated pickle).
    Eof,
    /// The bytes are not a well-formed pickle (unknown opcode, bad argument, no MARK).
    Syntax,
    /// Well-formed, but the values do not fit together (stack underflow, memo miss, wrong types).
    Data,
    /// A [`Limits`](crate::Limits) bound was reached.
    Limit,
    /// Valid pickle that this build or these options cannot handle.
    Unsupported,
}

/// What went wrong, without the location.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorCode {
    /// An I/O error from the reader or writer.
    Io(io::Error),
    /// The input ended before STOP (CPython: "pickle data was truncated").
    Truncated,
    /// The input was empty (CPython: "Ran out of input").
    Empty,
    /// A byte that is no opcode.
    UnknownOpcode(u8),
    /// A limit was reached.
    Limit(LimitKind),
    /// Any other problem, with its category and a lowercase message.
    Message(Category, Box<str>),
}

struct ErrorImpl {
    code: ErrorCode,
    offset: Option<u64>,
    opcode: Option<Opcode>,
    /// Where in a typed value the error happened (`.users[3].name`), built as it unwinds.
    path: Option<String>,
}

/// Every failure of decoding or encoding a pickle.
///
/// One pointer wide; [`classify`](Error::classify) gives the category, [`offset`](Error::offset)
/// the byte position of the instruction that failed and [`opcode`](Error::opcode) its opcode.
///
/// ```
/// use brine_core::{Category, Decoder};
/// let mut d = Decoder::new(b"\xff");
/// let err = d.next_instruction().unwrap_err();
/// assert_eq!(err.classify(), Category::Syntax);
/// assert_eq!(err.to_string(), "invalid load key, '\\xff' at offset 0");
/// ```
pub struct Error(Box<ErrorImpl>);

impl Error {
    /// A new error with no location yet.
    #[cold]
    pub fn new(code: ErrorCode) -> Self {
        Error(Box::new(ErrorImpl {
            code,
            offset: None,
            opcode: None,
            path: None,
        }))
    }

    /// A message error of the given category.
    #[cold]
    pub fn msg(category: Category, message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Message(
            category,
            message.into().into_boxed_str(),
        ))
    }

    /// A syntax error.
    #[cold]
    pub fn syntax(message: impl Into<String>) -> Self {
        Error::msg(Category::Syntax, message)
    }

    /// A data error.
    #[cold]
    pub fn data(message: impl Into<String>) -> Self {
        Error::msg(Category::Data, message)
    }

    /// An unsupported-feature error.
    #[cold]
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::msg(Category::Unsupported, message)
    }

    /// A truncated-input error.
    #[cold]
    pub fn truncated() -> Self {
        Error::new(ErrorCode::Truncated)
    }

    /// A limit error.
    #[cold]
    pub fn limit(kind: LimitKind) -> Self {
        Error::new(ErrorCode::Limit(kind))
    }

    /// Sets the byte offset if none is set yet.
    #[must_use]
    pub fn at(mut self, offset: u64) -> Self {
        if self.0.offset.is_none() {
            self.0.offset = Some(offset);
        }
        self
    }

    /// Sets the opcode if none is set yet.
    #[must_use]
    pub fn with_opcode(mut self, op: Opcode) -> Self {
        if self.0.opcode.is_none() {
            self.0.opcode = Some(op);
        }
        self
    }

    /// Prepends a step (`.name`, `[3]`) to the path in the typed value where the error
    /// happened; serde glue calls it as the error leaves each field and element.
    #[cold]
    #[must_use]
    pub fn in_path(mut self, step: &str) -> Self {
        let path = self.0.path.get_or_insert_with(String::new);
        path.insert_str(0, step);
        self
    }

    /// The path in the typed value where the error happened, like `.users[3].name`, when the
    /// error came from typed (serde) data.
    pub fn path(&self) -> Option<&str> {
        self.0.path.as_deref()
    }

    /// The broad category.
    pub fn classify(&self) -> Category {
        match &self.0.code {
            ErrorCode::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => Category::Eof,
            ErrorCode::Io(_) => Category::Io,
            ErrorCode::Truncated | ErrorCode::Empty => Category::Eof,
            ErrorCode::UnknownOpcode(_) => Category::Syntax,
            ErrorCode::Limit(_) => Category::Limit,
            ErrorCode::Message(c, _) => *c,
        }
    }

    /// The detailed code.
    pub fn code(&self) -> &ErrorCode {
        &self.0.code
    }

    /// Byte offset in the stream of the instruction that failed, when known.
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }

    /// The opcode that failed, when known.
    pub fn opcode(&self) -> Option<Opcode> {
        self.0.opcode
    }

    /// The limit that was hit, for [`Category::Limit`] errors.
    pub fn limit_kind(&self) -> Option<LimitKind> {
        match self.0.code {
            ErrorCode::Limit(k) => Some(k),
            _ => None,
        }
    }

    /// True for EOF-category errors.
    pub fn is_eof(&self) -> bool {
        self.classify() == Category::Eof
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Io(e) => write!(f, "i/o error: {e}"),
            ErrorCode::Truncated => f.write_str("pickle data was truncated"),
            ErrorCode::Empty => f.write_str("ran out of input"),
            ErrorCode::UnknownOpcode(b) => write!(f, "invalid load key, '\\x{b:02x}'"),
            ErrorCode::Limit(k) => write!(f, "limit exceeded: {}", k.name()),
            ErrorCode::Message(_, m) => f.write_str(m),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.code, f)?;
        if let Some(p) = self.0.path.as_deref() {
            write!(f, " at {p}")?;
        }
        if let Some(o) = self.0.offset {
            write!(f, " at offset {o}")?;
        }
        if let Some(op) = self.0.opcode {
            write!(f, " (opcode {})", op.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}: {})", self.classify(), self)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.code {
            ErrorCode::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    #[cold]
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            return Error::truncated();
        }
        Error::new(ErrorCode::Io(e))
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e.0.code {
            ErrorCode::Io(inner) => inner,
            _ => {
                let kind = match e.classify() {
                    Category::Eof => io::ErrorKind::UnexpectedEof,
                    _ => io::ErrorKind::InvalidData,
                };
                io::Error::new(kind, e)
            }
        }
    }
}

// serde's error traits, so brine's one error type is what serde glue returns: `custom`
// messages are kept verbatim (as data errors) and get their path added by the glue.
#[cfg(feature = "serde")]
impl serde::de::Error for Error {
    #[cold]
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::data(msg.to_string())
    }
}

#[cfg(feature = "serde")]
impl serde::ser::Error for Error {
    #[cold]
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::data(msg.to_string())
    }
}
