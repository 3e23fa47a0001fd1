//! Resource limits for decoding untrusted pickles: every bound comes from a count, never a clock.

/// Bounds on what decoding one pickle stream may consume.
///
/// The defaults are safe for untrusted input: a hostile pickle ends in a
/// [`Limit`](crate::Category::Limit) error instead of exhausting memory or the stack.
/// [`Limits::trusted`] lifts them for data you produced yourself.
///
/// ```
/// use brine_core::Limits;
/// let strict = Limits { max_nodes: 10_000, ..Limits::default() };
/// assert!(strict.max_nodes < Limits::trusted().max_nodes);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Nesting depth that walks over a value descend into (the writer, and conversions built
    /// on it). Decoding needs no depth bound: it never recurses, and MARK nesting has its own
    /// limit ([`max_marks`](Self::max_marks)).
    pub max_depth: usize,
    /// Values (graph nodes) created by one unpickler.
    pub max_nodes: usize,
    /// Entries stored in the memo.
    pub max_memo_entries: usize,
    /// Highest memo index a PUT may name (CVE-2018-20406: a huge index must not allocate).
    pub max_memo_index: u64,
    /// Values on the unpickler's stack at once.
    pub max_stack: usize,
    /// MARKs open at once.
    pub max_marks: usize,
    /// Length of one text line (INT, LONG, FLOAT, STRING, UNICODE, GLOBAL, PERSID arguments).
    pub max_line: usize,
    /// Digits of an integer written as text (`int()` is quadratic in CPython too).
    pub max_int_digits: usize,
    /// Bytes of payload that one unpickler may copy or allocate beyond the input itself.
    pub max_alloc: u64,
    /// Bytes a decompressor may produce.
    pub max_decompressed: u64,
    /// Ratio of decompressed size to compressed size before a stream is treated as a bomb.
    pub max_ratio: u64,
    /// Members of one archive (zip, npz, torch checkpoints).
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 10_000,
            max_nodes: 50_000_000,
            max_memo_entries: 50_000_000,
            max_memo_index: 1 << 31,
            max_stack: 10_000_000,
            max_marks: 100_000,
            max_line: 1 << 20,
            max_int_digits: 100_000,
            max_alloc: 4 << 30,
            max_decompressed: 4 << 30,
            max_ratio: 1_000,
            max_members: 100_000,
        }
    }
}

impl Limits {
    /// Limits for data you trust: everything bounded only by the machine.
    ///
    /// Recursion still never uses the Rust stack, so even trusted input cannot overflow it.
    pub fn trusted() -> Self {
        Limits {
            max_depth: usize::MAX,
            max_nodes: usize::MAX,
            max_memo_entries: usize::MAX,
            max_memo_index: u64::MAX,
            max_stack: usize::MAX,
            max_marks: usize::MAX,
            max_line: usize::MAX,
            max_int_digits: usize::MAX,
            max_alloc: u64::MAX,
            max_decompressed: u64::MAX,
            max_ratio: u64::MAX,
            max_members: usize::MAX,
        }
    }
}

/// Which limit was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// [`Limits::max_depth`].
    Depth,
    /// [`Limits::max_nodes`].
    Nodes,
    /// [`Limits::max_memo_entries`].
    MemoEntries,
    /// [`Limits::max_memo_index`].
    MemoIndex,
    /// [`Limits::max_stack`].
    Stack,
    /// [`Limits::max_marks`].
    Marks,
    /// [`Limits::max_line`].
    Line,
    /// [`Limits::max_int_digits`].
    IntDigits,
    /// [`Limits::max_alloc`].
    Alloc,
    /// [`Limits::max_decompressed`].
    Decompressed,
    /// [`Limits::max_ratio`].
    Ratio,
    /// [`Limits::max_members`].
    Members,
}

impl LimitKind {
    /// The field name in [`Limits`].
    pub fn name(self) -> &'static str {
        match self {
            LimitKind::Depth => "max_depth",
            LimitKind::Nodes => "max_nodes",
            LimitKind::MemoEntries => "max_memo_entries",
            LimitKind::MemoIndex => "max_memo_index",
            LimitKind::Stack => "max_stack",
            LimitKind::Marks => "max_marks",
            LimitKind::Line => "max_line",
            LimitKind::IntDigits => "max_int_digits",
            LimitKind::Alloc => "max_alloc",
            LimitKind::Decompressed => "max_decompressed",
            LimitKind::Ratio => "max_ratio",
            LimitKind::Members => "max_members",
        }
    }
}
