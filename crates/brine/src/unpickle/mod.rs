//! The unpickling machine: runs the instruction stream into a value graph, never executing code.
//!
//! The semantics are those of CPython 3.11's C unpickler (`Modules/_pickle.c`): a value stack,
//! a mark stack whose innermost mark is a fence no opcode may pop below, and a memo of
//! [`NodeId`]s (a GET never clones). Nothing recurses, so any nesting depth is safe.

mod builtins;
mod memo;
mod text;
pub(crate) use builtins::is_recognized as is_recognized_builtin;

use std::io;

use brine_core::compat;
use brine_core::{
    Arg, Category, Decoder, Error, ErrorCode, Instruction, IoRead, LimitKind, Limits, Opcode, Read,
    Result, SliceRead, HIGHEST_PROTOCOL,
};
use num_bigint::BigInt;

use crate::options::LoadOptions;
use crate::value::{
    Blob, Buffer, Global, Graph, Items, Node, NodeId, Object, ObjectKind, Pairs, PyStr,
    SharedSource, WindowSource, BYTES_INLINE, STR_INLINE,
};

use memo::Memo;
use text::IntText;

/// Reads pickles from one source into one [`Graph`], keeping the memo between pickles like
/// CPython's `Unpickler`.
///
/// Over a slice, payloads are read without an intermediate copy; over an `io::Read`
/// ([`from_reader`](Unpickler::from_reader)) nothing is buffered beyond the current pickle, so
/// wrap files and sockets in `std::io::BufReader`.
///
/// ```
/// use brine::{LoadOptions, Unpickler};
/// // Two pickles in one stream; the second refers to the first one's memo.
/// let data = b"\x80\x02]q\x00.\x80\x02h\x00.";
/// let mut u = Unpickler::new(data, LoadOptions::new());
/// let a = u.load()?;
/// let b = u.load()?;
/// assert_eq!(a, b);
/// assert!(u.at_end());
/// assert_eq!(u.load_next()?, None);
/// # Ok::<(), brine::Error>(())
/// ```
pub struct Unpickler<'de, R: Read<'de> = SliceRead<'de>> {
    dec: Decoder<'de, R>,
    m: Machine,
}

/// Everything but the decoder, so that an instruction borrowed from the decoder can be run.
struct Machine {
    graph: Graph,
    stack: Vec<NodeId>,
    marks: Vec<usize>,
    /// Stack length at the innermost mark: nothing below it may be popped.
    fence: usize,
    memo: Memo,
    proto: u8,
    opts: LoadOptions,
    buffers: Option<std::vec::IntoIter<Blob>>,
    buffers_taken: usize,
    max_nodes: usize,
    /// The shared nodes of atoms (see `push_atom`), by slot, `NO_ATOM` where not made yet.
    /// Inline (1 KiB): filling it costs less than one allocation, which small pickles feel.
    atoms: [u32; ATOMS],
    /// Payload bytes copied into nodes so far (`Limits::max_alloc`).
    alloc: u64,
    /// The input, when the caller shared it: payloads of `SHARE_MIN` bytes or more become
    /// ranges of it instead of copies.
    share: Option<SharedSource>,
    /// The current window of the input that mid-sized payloads point into, and its offset.
    window: Option<(WindowSource, usize)>,
    /// The input range the current window holds, `start..end` (empty when there is none):
    /// kept beside it so that the per-payload check reads no window.
    win_range: (usize, usize),
    /// Where the payloads of str / bytes nodes lie in a slice input, for typed decoding
    /// that borrows them (`None`: not recorded, the usual case).
    spans: Option<Spans>,
}

/// For each str / bytes node whose payload is stored as-is in the input slice, the node's
/// index and the payload's offset in the input, in node order (so a lookup can bisect).
#[derive(Default)]
pub(crate) struct Spans {
    /// The input's address range: payloads from elsewhere (a copy) are not recorded.
    base: usize,
    len: usize,
    pub(crate) list: Vec<(u32, usize)>,
}

/// Bytes copied per input window. Strings longer than the inline size but short (most text)
/// share these copies instead of taking one allocation each: a per-string `malloc` + `free`
/// cost more than the rest of their decoding.
const WINDOW: usize = 64 * 1024;

/// Payloads longer than this get their own allocation instead of a window range.
const WINDOW_MAX: usize = 1024;

/// The input a window over a shared input covers: as much as its `u32` offsets reach (one
/// window for most inputs), since it costs no copy.
const SHARED_WINDOW: usize = 1 << 31;

/// Below this size a copy is cheaper than the shared range's own allocation.
const SHARE_MIN: usize = 4096;

impl<'de> Unpickler<'de, SliceRead<'de>> {
    /// An unpickler over a byte slice.
    pub fn new(data: &'de [u8], opts: LoadOptions) -> Self {
        Unpickler::with_read(SliceRead::new(data), opts)
    }
}

impl<R: io::Read> Unpickler<'static, IoRead<R>> {
    /// An unpickler over an `io::Read`. It reads exactly up to the end of each pickle.
    pub fn from_reader(reader: R, opts: LoadOptions) -> Self {
        Unpickler::with_read(IoRead::new(reader), opts)
    }
}

impl<'de, R: Read<'de>> Unpickler<'de, R> {
    /// An unpickler over any [`Read`] source.
    pub fn with_read(read: R, mut opts: LoadOptions) -> Self {
        let limits = opts.limits.clone();
        let buffers = opts.buffers.take().map(Vec::into_iter);
        let max_nodes = limits.max_nodes.min(u32::MAX as usize - 1);
        // Most opcodes make one node; size the arena from the real input when it is known,
        // bounded so that a huge input does not reserve everything upfront.
        // The input is real bytes (not a claim); pickles take about 8 bytes or more per node.
        // At least 16 nodes: regrowing a tiny arena costs more than the pickle's own work.
        // The cap (a little under 32 MiB of nodes) keeps a huge payload from reserving much,
        // and stays under glibc's largest mmap threshold, so repeated decodes reuse memory
        // instead of taking fresh page faults (measured: 80 -> 35 ms on 100k records). A
        // little under: the threshold only adapts to freed blocks of at most 32 MiB, header
        // and page rounding included; exactly 1 << 20 nodes missed it and every later decode
        // faulted its windows and arena afresh (strings_200k: 210k -> 14k page faults).
        let input = read.remaining().unwrap_or(0);
        let guess = (input / 8).clamp(16, crate::value::NODES_UNDER_MMAP as u64) as usize;
        Unpickler {
            dec: Decoder::with_read(read, limits),
            m: Machine {
                // Container items take at least one byte each (two per dict pair); the same
                // bounded guess keeps small pickles from regrowing the arenas.
                graph: Graph::with_capacities(
                    guess,
                    (input / 2).clamp(8, 1 << 18) as usize,
                    (input / 8).clamp(4, 1 << 17) as usize,
                ),
                stack: Vec::with_capacity(64),
                marks: Vec::new(),
                fence: 0,
                // Sized from the real input: a memoized value takes at least 2 bytes, most far
                // more; small pickles then never regrow the memo.
                memo: Memo::with_capacity((input / 16).min(1 << 12) as usize),
                proto: 0,
                opts,
                buffers,
                buffers_taken: 0,
                max_nodes,
                alloc: 0,
                atoms: [NO_ATOM; ATOMS],
                share: None,
                window: None,
                win_range: (0, 0),
                spans: None,
            },
        }
    }

    /// Starts recording where str / bytes payloads lie in a slice input (see [`Spans`]), so
    /// that typed decoding can borrow them instead of copying.
    pub(crate) fn record_spans(&mut self) {
        if let Some((data, _)) = self.dec.get_ref().slice_view() {
            self.m.spans = Some(Spans {
                base: data.as_ptr() as usize,
                len: data.len(),
                // Sized from the real input (a str takes at least 3 bytes, most far more),
                // bounded, so that growing it rarely copies.
                list: Vec::with_capacity((data.len() / 32).min(1 << 16)),
            });
        }
    }

    /// The spans recorded so far (empty when not recording).
    pub(crate) fn take_spans(&mut self) -> Vec<(u32, usize)> {
        self.m
            .spans
            .as_mut()
            .map(|s| std::mem::take(&mut s.list))
            .unwrap_or_default()
    }

    /// Reads the next pickle into the graph, sets it as the graph's root and returns it.
    ///
    /// Input that ends before any byte of a pickle fails with [`ErrorCode::Empty`]
    /// ("ran out of input"); input that ends inside one with an EOF-category error.
    pub fn load(&mut self) -> Result<NodeId> {
        self.m.reset();
        let mut first = true;
        loop {
            if let Some((data, start)) = self.dec.get_ref().slice_view() {
                let mut pos = start;
                let r = self.m.run_fast(data, &mut pos);
                if pos != start {
                    first = false;
                    self.dec.get_mut().set_offset(pos);
                }
                match r? {
                    Fast::Stop(root) => {
                        self.m.graph.set_root(root);
                        return Ok(root);
                    }
                    Fast::Fallback => {}
                }
            }
            let ins = match self.dec.next_instruction()? {
                Some(ins) => ins,
                None => {
                    let code = if first {
                        ErrorCode::Empty
                    } else {
                        ErrorCode::Truncated
                    };
                    return Err(Error::new(code).at(self.dec.offset()));
                }
            };
            first = false;
            let (op, offset) = (ins.op, ins.offset);
            match self.m.step(ins) {
                Ok(None) => {}
                Ok(Some(root)) => {
                    self.m.graph.set_root(root);
                    return Ok(root);
                }
                Err(e) => return Err(e.at(offset).with_opcode(op)),
            }
        }
    }

    /// Like [`load`](Self::load), but `None` when the input ends cleanly before the next
    /// pickle: loop on it to read every pickle of a stream.
    pub fn load_next(&mut self) -> Result<Option<NodeId>> {
        match self.load() {
            Ok(id) => Ok(Some(id)),
            Err(e) if matches!(e.code(), ErrorCode::Empty) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// True when a slice input has been read to its end. A stream cannot tell without
    /// reading, so this is always false for [`from_reader`](Self::from_reader): use
    /// [`load_next`](Self::load_next) there.
    pub fn at_end(&self) -> bool {
        self.dec.get_ref().remaining() == Some(0)
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.dec.offset()
    }

    /// The protocol of the last PROTO opcode of the current or last pickle (0 if none).
    pub fn protocol(&self) -> u8 {
        self.m.proto
    }

    /// Number of memo entries.
    pub fn memo_len(&self) -> usize {
        self.m.memo.len()
    }

    /// Forgets the memo, as a fresh CPython `Unpickler` (or another `pickle.load` call) would:
    /// call it between pickles that were written by separate `pickle.dump` calls. The graph
    /// keeps every node.
    pub fn clear_memo(&mut self) {
        self.m.memo = Default::default();
    }

    /// The graph built so far.
    pub fn graph(&self) -> &Graph {
        &self.m.graph
    }

    /// The graph built so far, mutably (e.g. to prune it between loads).
    pub fn graph_mut(&mut self) -> &mut Graph {
        &mut self.m.graph
    }

    /// Gives the graph.
    pub fn into_graph(self) -> Graph {
        self.m.graph
    }
}

/// Reads one pickle from a byte slice.
///
/// ```
/// let g = brine::loads(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86.")?;
/// assert_eq!(g.get(g.root().unwrap()).kind_name(), "tuple");
/// # Ok::<(), brine::Error>(())
/// ```
pub fn loads(data: &[u8]) -> Result<Graph> {
    loads_with(data, LoadOptions::default())
}

/// Reads one pickle from a byte slice with options. Bytes after its STOP are ignored.
pub fn loads_with(data: &[u8], opts: LoadOptions) -> Result<Graph> {
    let mut u = Unpickler::new(data, opts);
    u.load()?;
    Ok(u.into_graph())
}

/// Reads one pickle from bytes the graph may keep: `bytes`, `bytearray` and `str` payloads of
/// 4 KiB or more become ranges of `src` instead of copies, so decoding a pickle that is mostly
/// one large payload costs the same whatever the payload's size; `str` and `bytes` payloads
/// too long to be stored inside their node (over 30 and 22 bytes) but under 4 KiB become
/// ranges of it too, through a window of `src` they share (no copy, no allocation each). The
/// graph holds `src` alive while any such node exists.
/// [`load_file_mapped`](crate::load_file_mapped) does this over a memory-mapped file.
///
/// ```
/// use std::sync::Arc;
/// let mut data = b"\x80\x04B\x00\x10\x00\x00".to_vec();
/// data.extend(std::iter::repeat(7u8).take(4096));
/// data.push(b'.');
/// let g = brine::loads_shared(Arc::new(data), brine::LoadOptions::new())?;
/// let brine::value::Node::Bytes(b) = g.get(g.root().unwrap()) else { unreachable!() };
/// assert!(b.is_shared());
/// assert_eq!(b.len(), 4096);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn loads_shared(src: SharedSource, opts: LoadOptions) -> Result<Graph> {
    let data: &[u8] = AsRef::<[u8]>::as_ref(&*src);
    let mut u = Unpickler::new(data, opts);
    u.m.share = Some(src.clone());
    u.load()?;
    Ok(u.into_graph())
}

/// Reads one pickle from a reader.
pub fn load(reader: impl io::Read) -> Result<Graph> {
    load_with(reader, LoadOptions::default())
}

/// Reads one pickle from a reader with options; the reader is left just after its STOP.
pub fn load_with(reader: impl io::Read, opts: LoadOptions) -> Result<Graph> {
    let mut u = Unpickler::from_reader(reader, opts);
    u.load()?;
    Ok(u.into_graph())
}

/// Python's type name of a node, for error messages.
fn py_type(n: &Node) -> &'static str {
    match n {
        Node::None => "NoneType",
        other => other.kind_name(),
    }
}

#[cold]
fn limit(kind: LimitKind) -> Error {
    Error::limit(kind)
}

/// The value of a LONG1 / LONG4 payload: little-endian two's complement.
#[inline]
fn long_from_le(b: &[u8]) -> IntText {
    if b.len() <= 8 {
        if b.is_empty() {
            return IntText::Small(0);
        }
        let mut a = [0u8; 8];
        a[..b.len()].copy_from_slice(b);
        let shift = 64 - 8 * b.len() as u32;
        // Sign-extend from the top byte of the payload.
        let v = (i64::from_le_bytes(a) << shift)
            .checked_shr(shift)
            .unwrap_or(0);
        return IntText::Small(v);
    }
    text::small_or_big(BigInt::from_signed_bytes_le(b))
}

/// Atom slots: None, False, True, then the ints CPython caches (-5..=256).
const ATOM_NONE: usize = 0;
const ATOM_FALSE: usize = 1;
const ATOM_INTS: usize = 3;
const SMALL_INT_MIN: i64 = -5;
const SMALL_INT_MAX: i64 = 256;
const ATOMS: usize = ATOM_INTS + (SMALL_INT_MAX - SMALL_INT_MIN + 1) as usize;
/// An atom slot with no node yet (node ids stay below `u32::MAX`).
const NO_ATOM: u32 = u32::MAX;

/// How the fast path ended.
enum Fast {
    /// At STOP, with the root.
    Stop(NodeId),
    /// At an instruction the general path must run.
    Fallback,
}

impl Machine {
    /// CPython's `load()` starts each pickle with an empty stack, no marks and protocol 0;
    /// the memo stays.
    fn reset(&mut self) {
        self.stack.clear();
        self.marks.clear();
        self.fence = 0;
        self.proto = 0;
    }

    /// Records the span of the str / bytes node just pushed, when recording and `payload`
    /// lies in the input (addresses compared as numbers: no pointer is dereferenced).
    #[inline(always)]
    fn note_span(&mut self, payload: &[u8]) {
        if let Some(sp) = self.spans.as_mut() {
            let at = (payload.as_ptr() as usize).wrapping_sub(sp.base);
            if at <= sp.len && payload.len() <= sp.len - at {
                let node = (self.graph.len() - 1) as u32;
                sp.list.push((node, at));
            }
        }
    }

    #[inline]
    fn limits(&self) -> &Limits {
        &self.opts.limits
    }

    #[inline(always)]
    fn add(&mut self, node: Node) -> Result<NodeId> {
        if self.graph.len() >= self.max_nodes {
            return Err(limit(LimitKind::Nodes));
        }
        Ok(self.graph.add(node))
    }

    #[inline]
    fn push(&mut self, id: NodeId) -> Result<()> {
        if self.stack.len() >= self.opts.limits.max_stack {
            return Err(limit(LimitKind::Stack));
        }
        self.stack.push(id);
        Ok(())
    }

    /// Pushes the node `make` builds, built in place (see [`Graph::add_with`]).
    #[inline(always)]
    fn push_with(&mut self, make: impl FnOnce() -> Node) -> Result<()> {
        if self.graph.len() >= self.max_nodes {
            return Err(limit(LimitKind::Nodes));
        }
        let id = self.graph.add_with(make);
        self.push(id)
    }

    #[inline(always)]
    fn push_new(&mut self, node: Node) -> Result<()> {
        let id = self.add(node)?;
        self.push(id)
    }

    #[inline]
    fn charge(&mut self, n: usize) -> Result<()> {
        self.alloc += n as u64;
        if self.alloc > self.opts.limits.max_alloc {
            return Err(limit(LimitKind::Alloc));
        }
        Ok(())
    }

    #[cold]
    fn underflow(&self) -> Error {
        Error::data(if self.marks.is_empty() {
            "unpickling stack underflow"
        } else {
            "unexpected MARK found"
        })
    }

    #[inline]
    fn pop(&mut self) -> Result<NodeId> {
        if self.stack.len() <= self.fence {
            return Err(self.underflow());
        }
        Ok(self.stack.pop().unwrap_or(NodeId(0)))
    }

    #[inline]
    fn top(&self) -> Result<NodeId> {
        if self.stack.len() <= self.fence {
            return Err(self.underflow());
        }
        Ok(self.stack[self.stack.len() - 1])
    }

    /// Pops the innermost mark and returns the stack length it recorded.
    #[inline]
    fn pop_mark(&mut self) -> Result<usize> {
        let Some(m) = self.marks.pop() else {
            return Err(Error::syntax("could not find MARK"));
        };
        self.fence = self.marks.last().copied().unwrap_or(0);
        Ok(m)
    }

    /// Pops a mark for APPENDS / SETITEMS / ADDITEMS: the target is just below it and must
    /// itself be above the outer fence. `None` when nothing follows the mark.
    #[inline]
    fn pop_mark_target(&mut self) -> Result<Option<(NodeId, usize)>> {
        let x = self.pop_mark()?;
        let len = self.stack.len();
        if x > len || x <= self.fence {
            return Err(self.underflow());
        }
        if x == len {
            return Ok(None);
        }
        Ok(Some((self.stack[x - 1], x)))
    }

    fn int_node(&mut self, v: IntText) -> Result<()> {
        match v {
            IntText::Bool(b) => self.push_bool(b),
            IntText::Small(i) => self.push_int(i),
            IntText::Big(b) => self.push_new(Node::BigInt(Box::new(b))),
        }
    }

    // The push helpers below are kept out of line on purpose: inlined into `step`, LLVM merges
    // the node pushes of all opcodes into one tail that builds each node in a stack temporary
    // and copies it with wide loads over narrow stores, a store-forwarding stall that cost
    // half the decode time. One variant per function lets it write the node in place.

    /// Pushes the graph's one node for an atom (`None`, a bool, a small int), creating it on
    /// first use. Atoms have no identity in a pickle (never memoized; CPython shares them
    /// too), so one node each keeps graphs small: MICRO_DICT-like data is mostly atoms.
    #[inline(always)]
    fn push_atom(&mut self, slot: usize, make: impl FnOnce() -> Node) -> Result<()> {
        let id = match self.atoms.get(slot) {
            Some(&id) if id != NO_ATOM => NodeId(id),
            _ => {
                if self.graph.len() >= self.max_nodes {
                    return Err(limit(LimitKind::Nodes));
                }
                let id = self.graph.add_with(make);
                self.set_atom(slot, id);
                id
            }
        };
        self.push(id)
    }

    /// The inline part of `push_atom`: pushes the atom's node when it exists and the stack
    /// has room; false when `push_atom` must run.
    #[inline(always)]
    fn fast_atom(&mut self, slot: usize) -> bool {
        match self.atoms.get(slot) {
            Some(&id) if id != NO_ATOM && self.stack.len() < self.opts.limits.max_stack => {
                self.stack.push(NodeId(id));
                true
            }
            _ => false,
        }
    }

    /// Registers the atoms made so far with the graph before its first dict's pairs, and
    /// every later one as it is made (see `set_atom`).
    #[inline(always)]
    fn atoms_for_dicts(&mut self) {
        if !self.graph.coding_atoms() {
            self.start_coding_atoms();
        }
    }

    #[cold]
    #[inline(never)]
    fn start_coding_atoms(&mut self) {
        self.graph.start_coding_atoms();
        // By slot (None, the bools, then the ints up from -5): when there are more atoms than
        // codes, the small ints past 249 are the ones kept by id.
        for &id in &self.atoms {
            if id != NO_ATOM {
                self.graph.register_atom(NodeId(id));
            }
        }
    }

    #[inline]
    fn set_atom(&mut self, slot: usize, id: NodeId) {
        if let Some(a) = self.atoms.get_mut(slot) {
            *a = id.0;
        }
        // Dicts of atoms then keep them as one-byte codes. Registered from the first dict on
        // (`atoms_for_dicts`), so that pickles without dicts never allocate the tables.
        if self.graph.coding_atoms() {
            self.graph.register_atom(id);
        }
    }

    #[inline(never)]
    fn push_bool(&mut self, b: bool) -> Result<()> {
        self.push_atom(ATOM_FALSE + b as usize, || Node::Bool(b))
    }

    #[inline(never)]
    fn push_none(&mut self) -> Result<()> {
        self.push_atom(ATOM_NONE, || Node::None)
    }

    #[inline(never)]
    fn push_int(&mut self, v: i64) -> Result<()> {
        if (SMALL_INT_MIN..=SMALL_INT_MAX).contains(&v) {
            return self.push_atom(ATOM_INTS + (v - SMALL_INT_MIN) as usize, || Node::Int(v));
        }
        self.push_with(|| Node::Int(v))
    }

    #[inline(never)]
    fn push_float(&mut self, v: f64) -> Result<()> {
        self.push_with(|| Node::Float(v))
    }

    #[inline(never)]
    fn push_empty(&mut self, op: Opcode) -> Result<()> {
        self.push_with(|| match op {
            Opcode::EMPTY_LIST => Node::List(Items::default()),
            Opcode::EMPTY_DICT => Node::Dict(Pairs::default()),
            Opcode::EMPTY_SET => Node::Set(Items::default()),
            _ => Node::Tuple(Items::default()),
        })
    }

    #[inline(never)]
    fn push_bytes(&mut self, b: &[u8]) -> Result<()> {
        let blob = self.blob(b)?;
        self.push_with(|| Node::Bytes(blob))
    }

    /// The payload `b` as a blob: a range of the shared input when it is large and lies in
    /// it, else a copy (charged to `Limits::max_alloc`).
    fn blob(&mut self, b: &[u8]) -> Result<Blob> {
        if b.len() >= SHARE_MIN {
            if let Some(src) = &self.share {
                let blob = Blob::shared_or_copied(src, b);
                if !blob.is_shared() {
                    self.charge(b.len())?;
                }
                return Ok(blob);
            }
        }
        self.charge(b.len())?;
        Ok(Blob::from(b))
    }

    /// True when a payload of `n` bytes goes into an input window: longer than `inline`
    /// (the size stored inside a node) and short enough that its own allocation (a copy, or
    /// the boxed range of a shared input) would cost more than sharing a window's.
    #[inline(always)]
    fn windowed(&self, n: usize, inline: usize) -> bool {
        let max = if self.share.is_some() {
            SHARE_MIN - 1
        } else {
            WINDOW_MAX
        };
        inline < n && n <= max
    }

    /// Charges a windowed payload of `n` bytes to `Limits::max_alloc`: a copy, unless the
    /// window is a range of a shared input (which, like any shared payload, costs nothing).
    #[inline(always)]
    fn charge_windowed(&mut self, n: usize) -> Result<()> {
        if self.share.is_some() {
            return Ok(());
        }
        self.charge(n)
    }

    /// The offset of `data[start..start + n]` in the current input window, copying a new
    /// window first when the current one does not hold it. The range was checked against
    /// `data` by the caller.
    #[inline(always)]
    fn window_at(&mut self, data: &[u8], start: usize, n: usize) -> Result<usize> {
        let (lo, hi) = self.win_range;
        if lo <= start && start <= hi && n <= hi - start {
            return Ok(start - lo);
        }
        self.new_window(data, start, n)
    }

    #[cold]
    #[inline(never)]
    fn new_window(&mut self, data: &[u8], start: usize, n: usize) -> Result<usize> {
        if let Some(src) = &self.share {
            // Over a shared input the window is a range of it: nothing copied. As long as
            // window offsets fit their `u32`s, and only when the input is that source.
            let all: &[u8] = AsRef::<[u8]>::as_ref(&**src);
            if std::ptr::eq(all, data) {
                let end = (start + SHARED_WINDOW).min(data.len()).max(start + n);
                let len = end - start;
                if let Some(w) = WindowSource::shared(src, start, len, len / (STR_INLINE + 3)) {
                    self.window = Some((w, start));
                    self.win_range = (start, end);
                    self.graph.windowed = true;
                    return Ok(0);
                }
            }
        }
        let end = (start + WINDOW).min(data.len()).max(start + n);
        let Some(bytes) = data.get(start..end) else {
            return Err(Error::msg(
                brine_core::Category::Eof,
                "payload beyond the input",
            ));
        };
        // Not charged to `max_alloc` as a whole: a window is real input (at most the input's
        // size in all); the payloads in it are charged one by one like copies.
        // Room for as many handles as the window can hold payloads (each over the inline
        // size, plus an opcode and a length), so that handing them out never touches the
        // shared count.
        let expect = bytes.len() / (BYTES_INLINE + 3) + 1;
        self.window = Some((WindowSource::new(bytes.into(), expect), start));
        self.win_range = (start, end);
        self.graph.windowed = true;
        Ok(0)
    }

    /// The source of the input window holding `data[start..start + n]` (copied first when
    /// needed) and the offset of that range in it, after checking that the node limit lets
    /// one more node in; the range was checked against `data` by the caller. Handles taken
    /// from the source come from its batch of references counted in advance: no atomic
    /// operation per payload.
    #[inline(always)]
    fn window_for(
        &mut self,
        data: &[u8],
        start: usize,
        n: usize,
    ) -> Result<(&mut Graph, &mut WindowSource, usize)> {
        if self.graph.len() >= self.max_nodes {
            return Err(limit(LimitKind::Nodes));
        }
        let off = self.window_at(data, start, n)?;
        match &mut self.window {
            Some((src, _)) => Ok((&mut self.graph, src, off)),
            None => Err(Error::data("no input window")),
        }
    }

    /// The payload of a BINUNICODE-family opcode, `data[start..start + payload.len()]`.
    #[inline(always)]
    fn str_payload(&mut self, data: &[u8], start: usize, payload: &[u8]) -> Result<()> {
        let n = payload.len();
        // Short ASCII (most keys and small values) as fixed-size word operations on the
        // payload and the input after it, when that much input is left.
        let quick = data
            .get(start..start + 32)
            .and_then(|h| <&[u8; 32]>::try_from(h).ok())
            .and_then(|h| PyStr::ascii_head(h, n));
        match quick {
            Some((lo, hi)) => {
                self.charge(n)?;
                self.push_with(|| Node::Str(PyStr::inline_words(lo, hi, n)))
            }
            None if n > STR_INLINE => self.str_at(data, start, payload),
            None => self.short_str(payload),
        }
    }

    /// A string payload, `data[start..start + payload.len()]`, in a window when it fits one.
    #[inline(always)]
    fn str_at(&mut self, data: &[u8], start: usize, payload: &[u8]) -> Result<()> {
        let n = payload.len();
        if !self.windowed(n, STR_INLINE) {
            return self.binunicode(payload);
        }
        self.charge_windowed(n)?;
        // ASCII (most text) is UTF-8: a pass of 16-byte words instead of a full validation,
        // which costs a call and a byte loop over the tail.
        let utf8 = crate::value::is_ascii(payload) || text::check_utf8_surrogatepass(payload)?;
        let (g, src, off) = self.window_for(data, start, n)?;
        let id = g.add_window_str(src, off, n, utf8);
        self.push(id)
    }

    /// A bytes payload, `data[start..start + payload.len()]`, in a window when it fits one.
    fn bytes_at(&mut self, data: &[u8], start: usize, payload: &[u8]) -> Result<()> {
        let n = payload.len();
        if !self.windowed(n, BYTES_INLINE) {
            return self.push_bytes(payload);
        }
        self.charge_windowed(n)?;
        let (g, src, off) = self.window_for(data, start, n)?;
        let id = g.add_window_bytes(src, off, n);
        self.push(id)
    }

    /// A BINUNICODE payload; large ones that lie in the shared input are not copied.
    fn binunicode(&mut self, b: &[u8]) -> Result<()> {
        if b.len() >= SHARE_MIN {
            if let Some(src) = self.share.clone() {
                let utf8 = text::check_utf8_surrogatepass(b)?;
                let s = PyStr::from_checked_shared(&src, b, utf8);
                if !s.is_shared() {
                    self.charge(b.len())?;
                }
                return self.push_new(Node::Str(s));
            }
        }
        let s = text::str_from_utf8_surrogatepass(b)?;
        self.str_node(s)
    }

    #[inline(never)]
    fn str_node(&mut self, s: PyStr) -> Result<()> {
        self.charge(s.as_bytes().len())?;
        self.push_with(|| Node::Str(s))
    }

    /// A str payload of up to the inline size that `str_payload`'s word path did not take:
    /// near the end of the input (ASCII, checked and stored in one call) or not ASCII.
    #[inline(never)]
    fn short_str(&mut self, b: &[u8]) -> Result<()> {
        match PyStr::inline_ascii(b) {
            Some(s) => {
                self.charge(b.len())?;
                self.push_with(|| Node::Str(s))
            }
            None => {
                let s = text::str_from_utf8_surrogatepass(b)?;
                self.str_node(s)
            }
        }
    }

    fn py2_string(&mut self, b: &[u8]) -> Result<()> {
        self.charge(b.len())?;
        match text::decode_py2_str(b, self.opts.encoding, self.opts.errors)? {
            Some(s) => self.push_new(Node::Str(s)),
            None => self.push_new(Node::Bytes(Blob::from(b))),
        }
    }

    /// A global after `fix_imports` (protocols < 3, as `find_class`).
    fn global(&self, module: &str, name: &str) -> Global {
        if self.proto < 3 && self.opts.fix_imports {
            let (m, n) = compat::py2_to_py3(module, name);
            if m != module || n != name {
                return Global {
                    module: m.into_owned(),
                    name: n.into_owned(),
                    original: Some((module.to_owned(), name.to_owned())),
                    names: None,
                };
            }
        }
        Global::new(module, name)
    }

    fn pair_global(&mut self, arg: &Arg<'_, '_>) -> Result<NodeId> {
        let (m, n) = arg.pair();
        if m.is_empty() || n.is_empty() {
            return Err(Error::truncated());
        }
        let g = self.global(text::utf8_name(m)?, text::utf8_name(n)?);
        self.add(Node::Global(Box::new(g)))
    }

    fn persistent(&mut self, pid: NodeId) -> Result<()> {
        if let Some(hook) = self.opts.persistent_load.as_mut() {
            let id = hook(&mut self.graph, pid)?;
            if self.graph.try_get(id).is_none() {
                return Err(Error::data(
                    "persistent_load returned a node that is not in the graph",
                ));
            }
            self.push(id)
        } else {
            self.push_new(Node::PersId(pid))
        }
    }

    fn memo_put(&mut self, idx: u64) -> Result<()> {
        let top = self.top()?;
        let limits = &self.opts.limits;
        self.memo.put(idx, top, limits)
    }

    /// The inline part of `memo_put`: true when done, false when `memo_put` must run (which
    /// then also reports any error).
    #[inline(always)]
    fn fast_put(&mut self, idx: u64) -> bool {
        match self.stack.last() {
            Some(&top) if self.stack.len() > self.fence => self.memo.try_put_next(idx, top),
            _ => false,
        }
    }

    /// Runs the MEMOIZE at `data[at]`, if there is one right after the string just pushed
    /// (protocol 4 memoizes nearly every string) and its fast path takes it, without a
    /// dispatch of its own; returns the bytes it took (0 when none: the loop then runs what
    /// is there). BINPUT and LONG_BINPUT (protocols 1-3) gained nothing measurable this way.
    #[inline(always)]
    fn fused_memoize(&mut self, data: &[u8], at: usize) -> usize {
        match data.get(at) {
            Some(&0x94) if self.fast_put(self.memo.len() as u64) => 1,
            _ => 0,
        }
    }

    /// The inline part of `memo_get`: true when done, false when `memo_get` must run.
    #[inline(always)]
    fn fast_get(&mut self, idx: usize) -> bool {
        match self.memo.get_dense(idx) {
            Some(id) if self.stack.len() < self.opts.limits.max_stack => {
                self.stack.push(id);
                true
            }
            _ => false,
        }
    }

    fn memo_get(&mut self, idx: i64) -> Result<()> {
        match u64::try_from(idx).ok().and_then(|i| self.memo.get(i)) {
            Some(id) => self.push(id),
            None => Err(Error::data(format!("Memo value not found at index {idx}"))),
        }
    }

    /// `stack[start..]` as a new container node replacing it.
    #[inline]
    fn collect(&mut self, start: usize, make: fn(Items) -> Node) -> Result<()> {
        let items = self.new_items(start)?;
        self.push_with(|| make(items))
    }

    /// `stack[start..]` moved into the graph's item arena.
    #[inline]
    fn new_items(&mut self, start: usize) -> Result<Items> {
        let items = self
            .graph
            .try_new_items(&self.stack[start..])
            .ok_or_else(|| limit(LimitKind::Nodes))?;
        self.stack.truncate(start);
        Ok(items)
    }

    fn tuple_n(&mut self, n: usize) -> Result<()> {
        let len = self.stack.len();
        if len < n || len - n < self.fence {
            return Err(self.underflow());
        }
        self.collect(len - n, Node::Tuple)
    }

    /// Appends `stack[from..]` to the list (or object) `target` and drops them from the stack.
    fn append_from(&mut self, target: NodeId, from: usize) -> Result<()> {
        let items = &self.stack[from..];
        match self.graph.try_extend_list(target, items) {
            Some(true) => {
                self.stack.truncate(from);
                return Ok(());
            }
            Some(false) => {}
            None => return Err(limit(LimitKind::Nodes)),
        }
        match self.graph.get_mut(target) {
            Node::Object(o) => o.list_items.extend_from_slice(items),
            other => {
                return Err(Error::data(format!(
                    "'{}' object has no attribute 'append'",
                    py_type(other)
                )))
            }
        }
        self.stack.truncate(from);
        Ok(())
    }

    /// Sets the pairs `stack[from..]` on the dict (or object) `target`.
    fn setitems_from(&mut self, target: NodeId, from: usize) -> Result<()> {
        self.atoms_for_dicts();
        let items = &self.stack[from..];
        match self.graph.try_extend_pairs(target, items) {
            Some(true) => {
                self.stack.truncate(from);
                return Ok(());
            }
            Some(false) => {}
            None => return Err(limit(LimitKind::Nodes)),
        }
        match self.graph.get_mut(target) {
            Node::Object(o) => o
                .dict_items
                .extend(items.chunks_exact(2).map(|p| (p[0], p[1]))),
            other => {
                return Err(Error::data(format!(
                    "'{}' object does not support item assignment",
                    py_type(other)
                )))
            }
        }
        self.stack.truncate(from);
        Ok(())
    }

    fn additems_from(&mut self, target: NodeId, from: usize) -> Result<()> {
        let items = &self.stack[from..];
        match self.graph.try_extend_set(target, items) {
            Some(true) => {
                self.stack.truncate(from);
                return Ok(());
            }
            Some(false) => {}
            None => return Err(limit(LimitKind::Nodes)),
        }
        match self.graph.get(target) {
            Node::Object(_) => Err(Error::unsupported(
                "ADDITEMS on an object (a set subclass) is not supported",
            )),
            other => Err(Error::data(format!(
                "'{}' object has no attribute 'add'",
                py_type(other)
            ))),
        }
    }

    fn check_class(&self, what: &str, cls: NodeId) -> Result<()> {
        match self.graph.get(cls) {
            Node::Global(_) | Node::Object(_) | Node::PersId(_) | Node::Ext(_) => Ok(()),
            other => Err(Error::data(format!(
                "{what} class argument must be a type, not {}",
                py_type(other)
            ))),
        }
    }

    fn check_args(&self, what: &str, args: NodeId) -> Result<()> {
        match self.graph.get(args) {
            Node::Tuple(_) => Ok(()),
            other => Err(Error::data(format!(
                "{what} args argument must be a tuple, not {}",
                py_type(other)
            ))),
        }
    }

    fn object(&mut self, obj: Object) -> Result<()> {
        self.push_new(Node::Object(Box::new(obj)))
    }

    fn reduce(&mut self) -> Result<()> {
        let args = self.pop()?;
        let callable = self.pop()?;
        if !matches!(self.graph.get(args), Node::Tuple(_)) {
            return Err(Error::data("argument list must be a tuple"));
        }
        if self.opts.recognize_builtins {
            if let Some(node) = builtins::recognize(&mut self.graph, callable, args) {
                if let Node::Bytes(b) | Node::ByteArray(b) = &node {
                    self.charge(b.len())?;
                }
                return self.push_new(node);
            }
        }
        self.object(Object::new(ObjectKind::Reduce, callable, args))
    }

    fn build(&mut self) -> Result<()> {
        let state = self.pop()?;
        let inst = self.top()?;
        match self.graph.get_mut(inst) {
            Node::Object(o) if o.state.is_none() => {
                o.state = Some(state);
                Ok(())
            }
            Node::Object(_) => Err(Error::unsupported(
                "a second BUILD on one object is not supported",
            )),
            other => Err(Error::unsupported(format!(
                "BUILD on a {} is not supported",
                other.kind_name()
            ))),
        }
    }

    /// Runs the build hook, if any, on the object just built; `rest` is the input after the
    /// BUILD opcode. Returns the bytes to advance: the opcode and what the hook consumed.
    fn after_build(&mut self, rest: &[u8]) -> Result<usize> {
        let Some(hook) = self.opts.build_hook.as_mut() else {
            return Ok(1);
        };
        let inst = *self
            .stack
            .last()
            .ok_or_else(|| Error::data("stack empty"))?;
        let used = hook(&mut self.graph, inst, rest)?;
        if used > rest.len() {
            return Err(Error::truncated());
        }
        Ok(1 + used)
    }

    fn ext(&mut self, code: i64) -> Result<()> {
        if code <= 0 {
            return Err(Error::data("EXT specifies code <= 0"));
        }
        let code = i32::try_from(code).map_err(|_| Error::data("EXT code out of range"))?;
        let node = match self.opts.extensions.get(&code) {
            Some((m, n)) => Node::Global(Box::new(self.global(m, n))),
            None => Node::Ext(code),
        };
        self.push_new(node)
    }

    fn next_buffer(&mut self) -> Result<()> {
        let index = self.buffers_taken;
        let data = match self.buffers.as_mut() {
            Some(it) => Some(
                it.next()
                    .ok_or_else(|| Error::data("not enough out-of-band buffers"))?,
            ),
            None => None,
        };
        self.buffers_taken += 1;
        self.push_new(Node::Buffer(Box::new(Buffer {
            index,
            readonly: false,
            data,
        })))
    }

    fn readonly_buffer(&mut self) -> Result<()> {
        let top = self.top()?;
        match self.graph.get_mut(top) {
            Node::Buffer(b) => {
                b.readonly = true;
                Ok(())
            }
            Node::Bytes(_) => Ok(()),
            Node::ByteArray(_) => Err(Error::unsupported(
                "READONLY_BUFFER on an in-band bytearray is not supported",
            )),
            other => Err(Error::data(format!(
                "memoryview: a bytes-like object is required, not '{}'",
                py_type(other)
            ))),
        }
    }

    /// A call whose result is thrown away, `f(obj, state)`, is how a `__reduce__` state_setter
    /// applies state (`setter obj state TUPLE2 REDUCE POP`): keep it on `obj` so nothing is lost.
    fn fold_state_setter(&mut self, popped: NodeId) {
        let Node::Object(call) = self.graph.get(popped) else {
            return;
        };
        if call.kind != ObjectKind::Reduce
            || call.state.is_some()
            || !call.list_items.is_empty()
            || !call.dict_items.is_empty()
        {
            return;
        }
        let setter = call.callable;
        let Node::Tuple(args) = self.graph.get(call.args) else {
            return;
        };
        let &[target, state] = self.graph.items(*args) else {
            return;
        };
        if target == popped {
            return;
        }
        if let Node::Object(t) = self.graph.get_mut(target) {
            if t.state.is_none() && t.state_setter.is_none() {
                t.state = Some(state);
                t.state_setter = Some(setter);
            }
        }
    }

    fn stack_global(&mut self) -> Result<()> {
        let name = self.pop()?;
        let module = self.pop()?;
        let (Node::Str(m), Node::Str(n)) = (self.graph.get(module), self.graph.get(name)) else {
            return Err(Error::data("STACK_GLOBAL requires str"));
        };
        let mut g = self.global(&m.to_string_lossy(), &n.to_string_lossy());
        g.names = Some((module, name));
        self.push_new(Node::Global(Box::new(g)))
    }

    #[inline]
    fn op_append(&mut self) -> Result<()> {
        let v = self.pop()?;
        let list = self.top()?;
        self.stack.push(v);
        let from = self.stack.len() - 1;
        self.append_from(list, from)
    }

    #[inline]
    fn op_appends(&mut self) -> Result<()> {
        if let Some((list, from)) = self.pop_mark_target()? {
            self.append_from(list, from)?
        }
        Ok(())
    }

    #[inline]
    fn op_setitem(&mut self) -> Result<()> {
        let len = self.stack.len();
        if len < 3 || len - 3 < self.fence {
            return Err(self.underflow());
        }
        self.setitems_from(self.stack[len - 3], len - 2)
    }

    #[inline]
    fn op_setitems(&mut self) -> Result<()> {
        if let Some((dict, from)) = self.pop_mark_target()? {
            if (self.stack.len() - from) % 2 != 0 {
                return Err(Error::data("odd number of items for SETITEMS"));
            }
            self.setitems_from(dict, from)?
        }
        Ok(())
    }

    #[inline]
    fn op_additems(&mut self) -> Result<()> {
        if let Some((set, from)) = self.pop_mark_target()? {
            self.additems_from(set, from)?
        }
        Ok(())
    }

    #[inline]
    fn op_mark(&mut self) -> Result<()> {
        if self.marks.len() >= self.opts.limits.max_marks {
            return Err(limit(LimitKind::Marks));
        }
        self.fence = self.stack.len();
        self.marks.push(self.fence);
        Ok(())
    }

    #[inline]
    fn op_tuple(&mut self) -> Result<()> {
        let x = self.pop_mark()?;
        self.collect(x, Node::Tuple)
    }

    #[inline]
    fn op_proto(&mut self, p: i64) -> Result<()> {
        if p > HIGHEST_PROTOCOL as i64 {
            return Err(Error::msg(
                Category::Unsupported,
                format!("unsupported pickle protocol: {p}"),
            ));
        }
        self.proto = p as u8;
        Ok(())
    }

    /// The fast path for slice input: runs the common binary opcodes straight off the bytes,
    /// one dispatch per instruction instead of the decoder's and the machine's. It stops at
    /// anything else, or at any argument that is not all there, and lets the general path
    /// (which gives the exact errors) take that instruction.
    fn run_fast(&mut self, data: &[u8], pos: &mut usize) -> Result<Fast> {
        loop {
            let at = *pos;
            let Some(&b) = data.get(at) else {
                return Ok(Fast::Fallback);
            };
            let rest = &data[at + 1..];
            let r = match b {
                b'K' => match rest.first() {
                    // An int already made and room on the stack: no call (most BININT1s).
                    Some(&v) if self.fast_atom(ATOM_INTS + (v as i64 - SMALL_INT_MIN) as usize) => {
                        Ok(2)
                    }
                    Some(&v) => self.push_int(v as i64).map(|_| 2),
                    None => return Ok(Fast::Fallback),
                },
                b'M' => match rest.get(..2) {
                    Some(v) => self
                        .push_int(u16::from_le_bytes([v[0], v[1]]) as i64)
                        .map(|_| 3),
                    None => return Ok(Fast::Fallback),
                },
                b'J' => match rest.get(..4) {
                    Some(v) => {
                        let x = i32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                        self.push_int(x as i64).map(|_| 5)
                    }
                    None => return Ok(Fast::Fallback),
                },
                b'G' => match rest.get(..8) {
                    Some(v) => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(v);
                        self.push_float(f64::from_be_bytes(a)).map(|_| 9)
                    }
                    None => return Ok(Fast::Fallback),
                },
                b'N' if self.fast_atom(ATOM_NONE) => Ok(1),
                b'N' => self.push_none().map(|_| 1),
                0x88 if self.fast_atom(ATOM_FALSE + 1) => Ok(1),
                0x88 => self.push_bool(true).map(|_| 1),
                0x89 if self.fast_atom(ATOM_FALSE) => Ok(1),
                0x89 => self.push_bool(false).map(|_| 1),
                0x8c => {
                    let Some(&n) = rest.first() else {
                        return Ok(Fast::Fallback);
                    };
                    let n = n as usize;
                    let Some(payload) = rest.get(1..1 + n) else {
                        return Ok(Fast::Fallback);
                    };
                    let r = self.str_payload(data, at + 2, payload).map(|_| 2 + n);
                    match r {
                        Ok(len) => {
                            self.note_span(payload);
                            Ok(len + self.fused_memoize(data, at + len))
                        }
                        Err(e) => Err(e),
                    }
                }
                b'C' => {
                    let Some(&n) = rest.first() else {
                        return Ok(Fast::Fallback);
                    };
                    let Some(payload) = rest.get(1..1 + n as usize) else {
                        return Ok(Fast::Fallback);
                    };
                    let n = n as usize;
                    let r = if n > BYTES_INLINE {
                        self.bytes_at(data, at + 2, payload).map(|_| 2 + n)
                    } else {
                        self.push_bytes(payload).map(|_| 2 + n)
                    };
                    if r.is_ok() {
                        self.note_span(payload);
                    }
                    r
                }
                b'X' => {
                    let Some(v) = rest.get(..4) else {
                        return Ok(Fast::Fallback);
                    };
                    let n = u32::from_le_bytes([v[0], v[1], v[2], v[3]]) as usize;
                    let Some(payload) = rest.get(4..4 + n) else {
                        return Ok(Fast::Fallback);
                    };
                    let r = self.str_payload(data, at + 5, payload).map(|_| 5 + n);
                    if r.is_ok() {
                        self.note_span(payload);
                    }
                    r
                }
                b'B' => {
                    let Some(v) = rest.get(..4) else {
                        return Ok(Fast::Fallback);
                    };
                    let n = u32::from_le_bytes([v[0], v[1], v[2], v[3]]) as usize;
                    let Some(payload) = rest.get(4..4 + n) else {
                        return Ok(Fast::Fallback);
                    };
                    // Here rather than on the general path so that mid-sized payloads can go
                    // into a window (over a shared input, one that copies nothing).
                    let r = if n > BYTES_INLINE {
                        self.bytes_at(data, at + 5, payload).map(|_| 5 + n)
                    } else {
                        self.push_bytes(payload).map(|_| 5 + n)
                    };
                    if r.is_ok() {
                        self.note_span(payload);
                    }
                    r
                }
                0x94 => {
                    if self.fast_put(self.memo.len() as u64) {
                        Ok(1)
                    } else {
                        self.memo_put(self.memo.len() as u64).map(|_| 1)
                    }
                }
                b'q' => match rest.first() {
                    Some(&i) if self.fast_put(i as u64) => Ok(2),
                    Some(&i) => self.memo_put(i as u64).map(|_| 2),
                    None => return Ok(Fast::Fallback),
                },
                b'h' => match rest.first() {
                    Some(&i) if self.fast_get(i as usize) => Ok(2),
                    Some(&i) => self.memo_get(i as i64).map(|_| 2),
                    None => return Ok(Fast::Fallback),
                },
                b'j' | b'r' => {
                    let Some(v) = rest.get(..4) else {
                        return Ok(Fast::Fallback);
                    };
                    let i = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                    if b == b'j' {
                        if self.fast_get(i as usize) {
                            Ok(5)
                        } else {
                            self.memo_get(i as i64).map(|_| 5)
                        }
                    } else if self.fast_put(i as u64) {
                        Ok(5)
                    } else {
                        self.memo_put(i as u64).map(|_| 5)
                    }
                }
                b']' => self.push_empty(Opcode::EMPTY_LIST).map(|_| 1),
                b'}' => self.push_empty(Opcode::EMPTY_DICT).map(|_| 1),
                b')' => self.push_empty(Opcode::EMPTY_TUPLE).map(|_| 1),
                0x8f => self.push_empty(Opcode::EMPTY_SET).map(|_| 1),
                0x85 => self.tuple_n(1).map(|_| 1),
                0x86 => self.tuple_n(2).map(|_| 1),
                0x87 => self.tuple_n(3).map(|_| 1),
                b't' => self.op_tuple().map(|_| 1),
                b'(' => self.op_mark().map(|_| 1),
                b'a' => self.op_append().map(|_| 1),
                b'e' => self.op_appends().map(|_| 1),
                b's' => self.op_setitem().map(|_| 1),
                b'u' => self.op_setitems().map(|_| 1),
                0x90 => self.op_additems().map(|_| 1),
                0x93 => self.stack_global().map(|_| 1),
                b'R' => self.reduce().map(|_| 1),
                b'b' => self.build().and_then(|_| self.after_build(&data[at + 1..])),
                0x81 => return Ok(Fast::Fallback),
                0x95 => {
                    // The frame's length is checked by the decoder; let it see each FRAME.
                    return Ok(Fast::Fallback);
                }
                0x80 => match rest.first() {
                    Some(&p) => self.op_proto(p as i64).map(|_| 2),
                    None => return Ok(Fast::Fallback),
                },
                b'.' => {
                    return match self.pop() {
                        Ok(root) => {
                            *pos = at + 1;
                            Ok(Fast::Stop(root))
                        }
                        Err(e) => Err(e.at(at as u64).with_opcode(Opcode::STOP)),
                    };
                }
                _ => return Ok(Fast::Fallback),
            };
            match r {
                Ok(n) => *pos = at + n,
                Err(e) => {
                    let op = Opcode::from_byte(b).unwrap_or(Opcode::STOP);
                    return Err(e.at(at as u64).with_opcode(op));
                }
            }
        }
    }

    /// Runs one instruction; `Some(root)` at STOP.
    #[inline]
    fn step(&mut self, ins: Instruction<'_, '_>) -> Result<Option<NodeId>> {
        let Instruction { op, arg, .. } = ins;
        match op {
            // Scalars.
            Opcode::NONE => self.push_none()?,
            Opcode::NEWTRUE => self.push_bool(true)?,
            Opcode::NEWFALSE => self.push_bool(false)?,
            Opcode::BININT | Opcode::BININT1 | Opcode::BININT2 => self.push_int(arg.int())?,
            Opcode::INT => {
                let v = text::parse_int_line(arg.data(), self.limits().max_int_digits)?;
                self.int_node(v)?
            }
            Opcode::LONG => {
                let v = text::parse_long_line(arg.data(), self.limits().max_int_digits)?;
                self.int_node(v)?
            }
            Opcode::LONG1 | Opcode::LONG4 => {
                let b = arg.data();
                self.charge(b.len())?;
                self.int_node(long_from_le(b))?
            }
            Opcode::BINFLOAT => {
                let x = match arg {
                    Arg::Float(x) => x,
                    _ => 0.0,
                };
                self.push_float(x)?
            }
            Opcode::FLOAT => {
                let x = text::parse_float_line(arg.data())?;
                self.push_new(Node::Float(x))?
            }

            // Text and bytes.
            Opcode::SHORT_BINUNICODE | Opcode::BINUNICODE | Opcode::BINUNICODE8 => {
                self.binunicode(arg.data())?;
                self.note_span(arg.data())
            }
            Opcode::UNICODE => {
                let s = text::decode_raw_unicode_escape(arg.data())?;
                self.str_node(s)?
            }
            Opcode::STRING => {
                let b = text::parse_string_line(arg.data())?;
                self.py2_string(&b)?
            }
            Opcode::BINSTRING | Opcode::SHORT_BINSTRING => self.py2_string(arg.data())?,
            Opcode::SHORT_BINBYTES | Opcode::BINBYTES | Opcode::BINBYTES8 => {
                self.push_bytes(arg.data())?;
                self.note_span(arg.data())
            }
            Opcode::BYTEARRAY8 => {
                let blob = self.blob(arg.data())?;
                self.push_new(Node::ByteArray(blob))?
            }

            // Containers.
            Opcode::EMPTY_LIST => self.push_empty(Opcode::EMPTY_LIST)?,
            Opcode::EMPTY_TUPLE => self.push_empty(Opcode::EMPTY_TUPLE)?,
            Opcode::EMPTY_DICT => self.push_empty(Opcode::EMPTY_DICT)?,
            Opcode::EMPTY_SET => self.push_empty(Opcode::EMPTY_SET)?,
            Opcode::TUPLE1 => self.tuple_n(1)?,
            Opcode::TUPLE2 => self.tuple_n(2)?,
            Opcode::TUPLE3 => self.tuple_n(3)?,
            Opcode::TUPLE => self.op_tuple()?,
            Opcode::LIST => {
                let x = self.pop_mark()?;
                self.collect(x, Node::List)?
            }
            Opcode::FROZENSET => {
                let x = self.pop_mark()?;
                self.collect(x, Node::FrozenSet)?
            }
            Opcode::DICT => {
                let x = self.pop_mark()?;
                if (self.stack.len() - x) % 2 != 0 {
                    return Err(Error::data("odd number of items for DICT"));
                }
                self.atoms_for_dicts();
                let pairs = self
                    .graph
                    .try_new_pairs(&self.stack[x..])
                    .ok_or_else(|| limit(LimitKind::Nodes))?;
                self.stack.truncate(x);
                self.push_new(Node::Dict(pairs))?
            }
            Opcode::APPEND => self.op_append()?,
            Opcode::APPENDS => self.op_appends()?,
            Opcode::SETITEM => self.op_setitem()?,
            Opcode::SETITEMS => self.op_setitems()?,
            Opcode::ADDITEMS => self.op_additems()?,

            // Stack and memo.
            Opcode::MARK => self.op_mark()?,
            Opcode::POP => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.pop_mark()?;
                } else {
                    let id = self.pop()?;
                    self.fold_state_setter(id);
                }
            }
            Opcode::POP_MARK => {
                let x = self.pop_mark()?;
                self.stack.truncate(x);
            }
            Opcode::DUP => {
                let top = self.top()?;
                self.push(top)?
            }
            Opcode::BINPUT | Opcode::LONG_BINPUT => self.memo_put(arg.int() as u64)?,
            Opcode::PUT => {
                self.top()?;
                let idx = text::parse_index_line(arg.data())?;
                if idx < 0 {
                    return Err(Error::data("negative PUT argument"));
                }
                self.memo_put(idx as u64)?
            }
            Opcode::MEMOIZE => self.memo_put(self.memo.len() as u64)?,
            Opcode::BINGET | Opcode::LONG_BINGET => self.memo_get(arg.int())?,
            Opcode::GET => {
                let idx = text::parse_index_line(arg.data())?;
                self.memo_get(idx)?
            }

            // Globals, calls and objects.
            Opcode::GLOBAL => {
                let id = self.pair_global(&arg)?;
                self.push(id)?
            }
            Opcode::STACK_GLOBAL => self.stack_global()?,
            Opcode::REDUCE => self.reduce()?,
            Opcode::NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                self.check_class("NEWOBJ", cls)?;
                self.check_args("NEWOBJ", args)?;
                self.object(Object::new(ObjectKind::NewObj, cls, args))?
            }
            Opcode::NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                self.check_class("NEWOBJ_EX", cls)?;
                self.check_args("NEWOBJ_EX", args)?;
                if !matches!(self.graph.get(kwargs), Node::Dict(_)) {
                    return Err(Error::data(format!(
                        "NEWOBJ_EX kwargs argument must be a dict, not {}",
                        py_type(self.graph.get(kwargs))
                    )));
                }
                let mut o = Object::new(ObjectKind::NewObjEx, cls, args);
                o.kwargs = Some(kwargs);
                self.object(o)?
            }
            Opcode::INST => {
                let cls = self.pair_global(&arg)?;
                let x = self.pop_mark()?;
                let items = self.new_items(x)?;
                let args = self.add(Node::Tuple(items))?;
                self.object(Object::new(ObjectKind::Inst, cls, args))?
            }
            Opcode::OBJ => {
                let x = self.pop_mark()?;
                if self.stack.len() <= x {
                    return Err(self.underflow());
                }
                let items = self.new_items(x + 1)?;
                let cls = self.stack.pop().unwrap_or(NodeId(0));
                let args = self.add(Node::Tuple(items))?;
                self.object(Object::new(ObjectKind::Obj, cls, args))?
            }
            Opcode::BUILD => {
                self.build()?;
                if self.opts.build_hook.is_some() {
                    // Slice inputs run BUILD in `run_fast`, which gives the hook the input.
                    return Err(Error::unsupported("a build hook needs a slice input"));
                }
            }
            Opcode::PERSID => {
                let s = text::ascii_line(arg.data())?;
                let pid = self.add(Node::Str(s))?;
                self.persistent(pid)?
            }
            Opcode::BINPERSID => {
                let pid = self.pop()?;
                self.persistent(pid)?
            }
            Opcode::EXT1 | Opcode::EXT2 | Opcode::EXT4 => self.ext(arg.int())?,
            Opcode::NEXT_BUFFER => self.next_buffer()?,
            Opcode::READONLY_BUFFER => self.readonly_buffer()?,

            // Framing and control.
            Opcode::PROTO => self.op_proto(arg.int())?,
            Opcode::FRAME => {}
            Opcode::STOP => return Ok(Some(self.pop()?)),
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_le() {
        assert_eq!(long_from_le(b""), IntText::Small(0));
        assert_eq!(long_from_le(b"\xff"), IntText::Small(-1));
        assert_eq!(long_from_le(b"\x00\x80"), IntText::Small(-32768));
        assert_eq!(long_from_le(b"\xff\x00"), IntText::Small(255));
        assert_eq!(
            long_from_le(&i64::MIN.to_le_bytes()),
            IntText::Small(i64::MIN)
        );
        assert_eq!(
            long_from_le(b"\x00\x00\x00\x00\x00\x00\x00\x80\xff"),
            IntText::Small(i64::MIN)
        );
        assert!(matches!(
            long_from_le(b"\x00\x00\x00\x00\x00\x00\x00\x80\x00"),
            IntText::Big(_)
        ));
    }

    #[test]
    fn fence_and_marks() {
        let e = |p: &[u8]| loads(p).unwrap_err().to_string();
        assert_eq!(e(b"(."), "unexpected MARK found at offset 1 (opcode STOP)");
        assert_eq!(
            e(b"."),
            "unpickling stack underflow at offset 0 (opcode STOP)"
        );
        assert_eq!(
            e(b"](K\x01a."),
            "unexpected MARK found at offset 4 (opcode APPEND)"
        );
        assert_eq!(
            e(b"(]e."),
            "unpickling stack underflow at offset 2 (opcode APPENDS)"
        );
        assert_eq!(
            e(b"1."),
            "could not find MARK at offset 0 (opcode POP_MARK)"
        );
        let g = loads(b"(0N.").unwrap();
        assert_eq!(g.get(g.root().unwrap()), &Node::None);
        let g = loads(b"]](e.").unwrap();
        assert_eq!(g.seq(g.root().unwrap()), Some(&[][..]));
        assert!(matches!(g.get(g.root().unwrap()), Node::List(_)));
    }
}
