//! The one error type of the HDF5 store: a category and a lowercase message, one `Box` wide.

use std::fmt;
use std::io;

/// A specialized `Result` for brine-hdf5.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Broad classes of failure, for callers that branch on the kind of problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// Reading or writing the file failed.
    Io,
    /// The bytes are not a well-formed HDF5 file (bad signature, truncated, corrupt).
    Format,
    /// Well-formed, but the request does not fit the data (no such object, wrong shape, bad slice).
    Data,
    /// A bound on memory or size was reached.
    Limit,
    /// Valid HDF5 that this crate cannot handle (a datatype or layout it does not know).
    Unsupported,
}

struct ErrorImpl {
    category: Category,
    message: Box<str>,
    source: Option<io::Error>,
}

/// Every failure of reading or writing an HDF5 file.
///
/// ```
/// use brine_hdf5::{Category, File};
/// let err = File::open("/nonexistent/x.h5").unwrap_err();
/// assert_eq!(err.classify(), Category::Io);
/// ```
pub struct Error(Box<ErrorImpl>);

impl Error {
    /// A message error of the given category.
    #[cold]
    pub fn new(category: Category, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorImpl {
            category,
            message: message.into().into_boxed_str(),
            source: None,
        }))
    }

    #[cold]
    pub(crate) fn data(message: impl Into<String>) -> Self {
        Error::new(Category::Data, message)
    }

    #[cold]
    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Error::new(Category::Unsupported, message)
    }

    #[cold]
    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Error::new(Category::Limit, message)
    }

    #[cold]
    pub(crate) fn io(context: impl Into<String>, err: io::Error) -> Self {
        let message = format!("{}: {}", context.into(), err);
        Error(Box::new(ErrorImpl {
            category: Category::Io,
            message: message.into_boxed_str(),
            source: Some(err),
        }))
    }

    /// The broad class of the failure.
    pub fn classify(&self) -> Category {
        self.0.category
    }

    /// The message, without the category.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl From<io::Error> for Error {
    #[cold]
    fn from(err: io::Error) -> Self {
        Error::io("i/o error", err)
    }
}

/// The reader library's errors keep their text; their kind picks our category.
impl From<hdf5_reader::error::Error> for Error {
    #[cold]
    fn from(err: hdf5_reader::error::Error) -> Self {
        use hdf5_reader::error::Error as E;
        let category = match &err {
            E::Io(_) => Category::Io,
            E::ResourceLimit(_) => Category::Limit,
            E::TypeMismatch { .. }
            | E::DatasetNotFound(_)
            | E::GroupNotFound(_)
            | E::AttributeNotFound(_)
            | E::SliceOutOfBounds { .. } => Category::Data,
            E::UnsupportedFilter(_) | E::UnsupportedEncoding(_) => Category::Unsupported,
            _ => Category::Format,
        };
        let text = err.to_string();
        Error::new(category, lowercase_first(&text))
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}, {:?})", self.0.category, self.0.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> Self {
        let kind = match err.classify() {
            Category::Io => err
                .0
                .source
                .as_ref()
                .map_or(io::ErrorKind::Other, |e| e.kind()),
            Category::Format => io::ErrorKind::InvalidData,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}
