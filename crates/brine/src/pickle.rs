//! The pickler: writes a value graph as the exact bytes CPython 3.11's C pickler writes.
//!
//! The graph is walked with an explicit work stack (never the Rust stack), so any depth is
//! safe; [`Limits::max_depth`](brine_core::Limits::max_depth) bounds it like CPython's
//! recursion limit.
//!
//! # Identity
//!
//! CPython memoizes by object identity. Here a node is one object, with the identities CPython
//! itself gives values it creates or caches:
//! * `''`, one-code-point strings below U+0100 and `bytes` of length ≤ 1 are singletons in
//!   CPython, so they are memoized by value;
//! * a global (`Global` node, or one CPython refers to itself such as `builtins.set` or
//!   `_codecs.encode`) is one object per `module.name`;
//! * the module strings of STACK_GLOBAL are shared per module name (modules' `__name__` and
//!   static types' interned `__module__`); in `builtins`, functions (`len`, `getattr`) and types
//!   (`int`, `bytearray`) hold two different `'builtins'` objects, as observed in 3.11;
//! * `'latin1'` of `_codecs.encode(s, 'latin1')` is one interned string;
//! * the tuples, lists and strings CPython builds for the forms of old protocols are fresh.
//!
//! A decoded global that kept the `str` nodes of its STACK_GLOBAL ([`Global::names`]) writes
//! those nodes at protocol ≥ 4, so their sharing is reproduced.

use std::collections::HashMap;
use std::io;

use brine_core::{compat, Encoder, Error, LimitKind, Opcode, Result};
use num_traits::ToPrimitive;

use crate::options::DumpOptions;
use crate::value::{Global, Graph, Node, NodeId, ObjectKind, PairsRef};

/// Items per MARK … APPENDS / SETITEMS / ADDITEMS batch (`BATCHSIZE`).
const BATCHSIZE: u32 = 1000;
/// "Not in the memo".
const ABSENT: u32 = u32::MAX;

/// Writes values of graphs to one stream, keeping the memo between dumps like CPython's
/// `Pickler`: a second [`dump`](Pickler::dump) refers back to objects of the first with GETs.
///
/// The memo is keyed by [`NodeId`], so successive dumps should use the same graph (or one
/// that only grew).
///
/// ```
/// use brine::{DumpOptions, Pickler};
/// use brine::value::Graph;
/// let mut g = Graph::new();
/// let s = g.str("abc");
/// let mut p = Pickler::new(Vec::new(), DumpOptions::new().protocol(2));
/// p.dump(&g, s)?;
/// p.dump(&g, s)?;
/// assert_eq!(p.into_inner(), b"\x80\x02X\x03\x00\x00\x00abcq\x00.\x80\x02h\x00.");
/// # Ok::<(), brine::Error>(())
/// ```
pub struct Pickler<W> {
    out: W,
    core: Core,
}

impl<W: io::Write> Pickler<W> {
    /// A pickler writing to `out`.
    pub fn new(out: W, opts: DumpOptions) -> Self {
        Pickler {
            out,
            core: Core::new(opts),
        }
    }

    /// Writes the value at `root` as one pickle.
    pub fn dump(&mut self, graph: &Graph, root: NodeId) -> Result<()> {
        self.core.dump(graph, root)?;
        let r = self.out.write_all(self.core.enc.as_bytes());
        self.core.enc.clear();
        r.map_err(Error::from)
    }

    /// Forgets every memo entry (`Pickler.clear_memo()`).
    pub fn clear_memo(&mut self) {
        self.core.memo = Memo::default();
    }

    /// Gives the writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The pickle of the graph's root at the default protocol (4).
pub fn dumps(graph: &Graph) -> Result<Vec<u8>> {
    dumps_with(graph, DumpOptions::default())
}

/// The pickle of the graph's root with options.
pub fn dumps_with(graph: &Graph, opts: DumpOptions) -> Result<Vec<u8>> {
    let root = graph
        .root()
        .ok_or_else(|| Error::data("graph has no root"))?;
    let mut core = Core::new(opts);
    core.dump(graph, root)?;
    Ok(core.enc.take())
}

/// Writes the pickle of the graph's root to a writer.
pub fn dump(graph: &Graph, out: impl io::Write) -> Result<()> {
    dump_with(graph, out, DumpOptions::default())
}

/// Writes the pickle of the graph's root to a writer with options.
pub fn dump_with(graph: &Graph, out: impl io::Write, opts: DumpOptions) -> Result<()> {
    let root = graph
        .root()
        .ok_or_else(|| Error::data("graph has no root"))?;
    Pickler::new(out, opts).dump(graph, root)
}

/// What a memo entry stands for (see the module docs on identity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    /// An ordinary node.
    Node(u32),
    /// `''` (256) or a one-character string below U+0100.
    Char(u16),
    /// `b''`.
    EmptyBytes,
    /// An entry of [`Memo::slots`]: a global or a module string, by name.
    Slot(u32),
    /// The interned `'latin1'`.
    Latin1,
    /// An object CPython creates afresh: never found again.
    Fresh,
}

/// The pickler's memo: entry indices by [`Key`].
struct Memo {
    len: u32,
    /// One entry per node.
    nodes: Vec<u32>,
    /// `''` and the one-character strings, allocated on first use (257 entries; small
    /// enough, like `nodes` of a small graph, for the allocator's fast path).
    chars: Vec<u32>,
    empty_bytes: u32,
    latin1: u32,
    /// The names of the slots (tag and parts, each followed by NUL) back to back, then the
    /// name being looked up.
    slot_names: Vec<u8>,
    slots: Vec<Slot>,
    /// The slots by name, once there are too many to scan.
    slot_index: Option<HashMap<Box<[u8]>, u32>>,
}

/// An entry for a global or module string, by name (see [`Memo::slot`]).
#[derive(Clone, Copy)]
struct Slot {
    /// Where its name ends in [`Memo::slot_names`] (it starts where the previous one ends).
    end: usize,
    /// Its memo index, or [`ABSENT`].
    memo: u32,
}

/// Up to this many slots are found by scanning their names: a pickle names few globals, and
/// a scan costs less than hashing the name.
const SCAN_SLOTS: usize = 16;

impl Default for Memo {
    fn default() -> Self {
        Memo {
            len: 0,
            nodes: Vec::new(),
            chars: Vec::new(),
            empty_bytes: ABSENT,
            latin1: ABSENT,
            slot_names: Vec::new(),
            slots: Vec::new(),
            slot_index: None,
        }
    }
}

impl Memo {
    /// The memo index of node `id` when it was memoized under its own identity.
    #[inline(always)]
    fn hit(&self, id: NodeId) -> Option<u32> {
        match self.nodes.get(id.index()) {
            Some(&i) if i != ABSENT => Some(i),
            _ => None,
        }
    }

    /// Sizes the table for a graph of `nodes` nodes.
    fn fit(&mut self, nodes: usize) {
        if self.nodes.len() < nodes {
            self.nodes.resize(nodes, ABSENT);
        }
    }

    /// The next memo index, counted (`len(memo)`).
    #[inline(always)]
    fn next(&mut self) -> Result<u32> {
        let idx = self.len;
        if idx == ABSENT {
            return Err(Error::limit(LimitKind::MemoEntries));
        }
        self.len += 1;
        Ok(idx)
    }

    #[inline]
    fn get(&self, k: Key) -> Option<u32> {
        let v = match k {
            Key::Node(i) => self.nodes[i as usize],
            Key::Char(c) => self.chars.get(c as usize).copied().unwrap_or(ABSENT),
            Key::EmptyBytes => self.empty_bytes,
            Key::Slot(s) => self.slots[s as usize].memo,
            Key::Latin1 => self.latin1,
            Key::Fresh => ABSENT,
        };
        (v != ABSENT).then_some(v)
    }

    /// Adds an entry at index `len(memo)` and returns the index.
    #[inline]
    fn insert(&mut self, k: Key) -> Result<u32> {
        let idx = self.next()?;
        self.set(k, idx);
        Ok(idx)
    }

    /// Points `k` at an existing entry (two keys for one object).
    #[inline]
    fn set(&mut self, k: Key, idx: u32) {
        match k {
            Key::Node(i) => self.nodes[i as usize] = idx,
            Key::Char(c) => chars_table(&mut self.chars)[c as usize] = idx,
            Key::EmptyBytes => self.empty_bytes = idx,
            Key::Slot(s) => self.slots[s as usize].memo = idx,
            Key::Latin1 => self.latin1 = idx,
            Key::Fresh => {}
        }
    }

    /// The slot for a name made of `parts` (tagged so globals and modules never collide).
    fn slot(&mut self, parts: &[&str]) -> Key {
        // The name goes after the others; kept if it is new.
        let start = self.slot_names.len();
        if self.slot_names.capacity() == 0 {
            self.slot_names.reserve(128);
        }
        for p in parts {
            self.slot_names.extend_from_slice(p.as_bytes());
            self.slot_names.push(0);
        }
        let found = if self.slots.len() <= SCAN_SLOTS {
            let name = &self.slot_names[start..];
            let mut from = 0;
            self.slots.iter().position(|sl| {
                let same = &self.slot_names[from..sl.end] == name;
                from = sl.end;
                same
            })
        } else {
            let index = self.slot_index.get_or_insert_with(HashMap::new);
            // Index the slots the scans found until now.
            let mut from = self.slots[..index.len()].last().map_or(0, |sl| sl.end);
            for (s, sl) in self.slots.iter().enumerate().skip(index.len()) {
                index.insert(self.slot_names[from..sl.end].into(), s as u32);
                from = sl.end;
            }
            index.get(&self.slot_names[start..]).map(|&s| s as usize)
        };
        if let Some(s) = found {
            self.slot_names.truncate(start);
            return Key::Slot(s as u32);
        }
        let s = self.slots.len() as u32;
        self.slots.push(Slot {
            end: self.slot_names.len(),
            memo: ABSENT,
        });
        if let Some(index) = &mut self.slot_index {
            index.insert(self.slot_names[start..].into(), s);
        }
        Key::Slot(s)
    }
}

/// The entries of `''` and the one-character strings ([`Memo::chars`]), allocated on first use.
#[inline(always)]
fn chars_table(chars: &mut Vec<u32>) -> &mut [u32] {
    if chars.is_empty() {
        alloc_chars(chars);
    }
    chars
}

#[cold]
#[inline(never)]
fn alloc_chars(chars: &mut Vec<u32>) {
    chars.resize(257, ABSENT);
}

/// The memo key of a string CPython caches (`''`, one code point < U+0100), by its UTF-8.
#[inline]
fn str_singleton(utf8: &[u8]) -> Option<Key> {
    match *utf8 {
        [] => Some(Key::Char(256)),
        [b] if b < 0x80 => Some(Key::Char(b as u16)),
        [a @ (0xc2 | 0xc3), b] => Some(Key::Char((((a & 0x1f) as u16) << 6) | (b & 0x3f) as u16)),
        _ => None,
    }
}

#[inline]
fn str_key(utf8: &[u8]) -> Key {
    str_singleton(utf8).unwrap_or(Key::Fresh)
}

/// Globals CPython itself writes for the forms of old protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Builtin {
    Set,
    FrozenSet,
    Bytes,
    ByteArray,
    CodecsEncode,
    Getattr,
    NewObj,
}

impl Builtin {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Builtin::Set => ("builtins", "set"),
            Builtin::FrozenSet => ("builtins", "frozenset"),
            Builtin::Bytes => ("builtins", "bytes"),
            Builtin::ByteArray => ("builtins", "bytearray"),
            Builtin::CodecsEncode => ("_codecs", "encode"),
            Builtin::Getattr => ("builtins", "getattr"),
            Builtin::NewObj => ("copyreg", "__newobj__"),
        }
    }
}

/// A global to write: a `Global` node (its name cut to `len` bytes, for the parents of dotted
/// names) or a [`Builtin`].
#[derive(Clone, Copy, Debug)]
enum GRef {
    Node { id: NodeId, len: u32 },
    Builtin(Builtin),
}

/// Values CPython synthesizes while saving a node.
#[derive(Clone, Copy, Debug)]
enum Syn {
    /// A global.
    Global(GRef),
    /// The module string of a global (STACK_GLOBAL).
    ModuleStr(GRef),
    /// The module string node a decoded STACK_GLOBAL took, which is the same object as the
    /// module string CPython synthesizes for another global of that module.
    NamesModule(GRef, NodeId),
    /// The whole name string of a global (STACK_GLOBAL).
    NameStr(GRef),
    /// The last dotted component of a global's name (`getattr(parent, 'Inner')`).
    LastName(GRef),
    /// `str(payload, 'latin1')` of a bytes / bytearray node.
    Latin1Of(NodeId),
    /// `'latin1'`.
    Latin1Name,
    /// A fresh `bytes` copy of a bytearray node's payload.
    BytesOf(NodeId),
    /// A fresh list of a set's items.
    ListOf(NodeId),
}

/// Where the items of a batch come from.
#[derive(Clone, Copy, Debug)]
enum Src {
    /// The items of a list, tuple, set or frozenset node.
    Seq(NodeId),
    /// The pairs of a dict node.
    Dict(NodeId),
    /// An object's `list_items`.
    ObjList(NodeId),
    /// An object's `dict_items`.
    ObjDict(NodeId),
}

/// How a batch is written.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Just the items (tuple elements, call arguments).
    Plain,
    /// `item op` for each item, one item per chunk (protocol 0, one-item exact lists and
    /// dicts, the trailing single item of a loose batch).
    Each(Opcode),
    /// C `batch_list_exact` / `batch_dict_exact` / `save_set`: every chunk as
    /// `MARK … close`; `extra` continues after a full chunk even when nothing is left.
    Exact { close: Opcode, extra: bool },
    /// C `batch_list` / `batch_dict`: a trailing single item as `item single`.
    Loose { single: Opcode, close: Opcode },
}

/// One step of the walk.
#[derive(Clone, Copy, Debug)]
enum Task {
    Save(NodeId),
    Syn(Syn),
    Op(Opcode),
    /// `_Pickler_OpcodeBoundary`, where a synthesized tuple's `save()` begins.
    Boundary,
    /// Memoizes the stack top under `key`.
    Put(Key),
    /// Leaves a container (depth accounting).
    Leave,
    /// Ends a tuple of `n` items (`MARK` form when `mark`).
    TupleEnd {
        key: Key,
        n: u32,
        mark: bool,
    },
    FrozenSetEnd {
        key: Key,
    },
    /// Writes `op` (if any); if `key` got memoized meanwhile `POP GET`, else memoizes, then
    /// the items and state of `obj`.
    ReduceEnd {
        key: Key,
        op: Option<Opcode>,
        obj: Option<NodeId>,
    },
    /// The INST line of an object's class.
    InstLine(NodeId),
    /// Starts the batch (or the next chunk) of `src` at item `pos`.
    Items {
        src: Src,
        pos: u32,
        mode: Mode,
    },
    /// Continues a chunk at element `pos` (dict pairs are two elements) up to `end`.
    /// Resumes a chunk; `leave` first leaves the container of the element just written.
    Chunk {
        c: Chunk,
        leave: bool,
    },
}

/// The state of a pickler apart from its output stream.
struct Core {
    enc: Encoder,
    memo: Memo,
    opts: DumpOptions,
    tasks: Vec<Task>,
    depth: usize,
    scratch: Vec<u8>,
    /// The error of a failed [`Step`].
    error: Option<Error>,
}

impl Core {
    fn new(opts: DumpOptions) -> Self {
        Core {
            enc: Encoder::new(opts.protocol),
            memo: Memo::default(),
            opts,
            tasks: Vec::new(),
            depth: 0,
            scratch: Vec::new(),
            error: None,
        }
    }

    #[inline]
    fn proto(&self) -> u8 {
        self.enc.protocol()
    }

    /// One pickle of `root` into the encoder's buffer.
    fn dump(&mut self, graph: &Graph, root: NodeId) -> Result<()> {
        if self.opts.buffer_callback.is_some() && self.proto() < 5 {
            return Err(Error::data("buffer_callback needs protocol >= 5"));
        }
        self.memo.fit(graph.len());
        // Pickles of decoded graphs run 5–45 bytes per node (GETs of shared nodes, strings),
        // most of them 10–20: room for 24 a node spares small dumps any regrowth (a copy of
        // all written so far). Capped so a small dump of a huge graph stays small.
        self.enc.reserve((graph.len() * 24 + 128).min(1 << 20));
        self.tasks.reserve(32);
        self.enc.start();
        self.tasks.clear();
        self.depth = 0;
        self.tasks.push(Task::Save(root));
        if let Err(e) = self.run(graph) {
            self.enc.clear();
            self.tasks.clear();
            return Err(e);
        }
        self.enc.finish();
        Ok(())
    }

    fn run(&mut self, g: &Graph) -> Result<()> {
        while let Some(t) = self.tasks.pop() {
            match t {
                Task::Save(id) => self.save(g, id)?,
                Task::Syn(s) => self.save_syn(g, s)?,
                Task::Op(op) => self.enc.op(op),
                Task::Boundary => self.enc.opcode_boundary(),
                Task::Put(k) => self.put(k)?,
                Task::Leave => self.depth -= 1,
                Task::TupleEnd { key, n, mark } => self.tuple_end(key, n, mark)?,
                Task::FrozenSetEnd { key } => {
                    if let Some(i) = self.memo.get(key) {
                        self.enc.op(Opcode::POP_MARK);
                        self.enc.get(i);
                    } else {
                        self.enc.op(Opcode::FROZENSET);
                        self.put(key)?;
                    }
                }
                Task::ReduceEnd { key, op, obj } => self.reduce_end(g, key, op, obj)?,
                Task::InstLine(cls) => {
                    let Node::Global(gl) = g.get(cls) else {
                        return Err(Error::data("INST needs a global as its class"));
                    };
                    let (m, n) =
                        self.global_line_names(gl.module.as_str(), &gl.name, gl.original.as_ref())?;
                    self.enc.inst(m.as_bytes(), n.as_bytes());
                }
                Task::Items { src, pos, mode } => self.items(g, src, pos, mode)?,
                Task::Chunk { c, leave } => {
                    self.depth -= leave as usize;
                    self.chunk(g, c)?
                }
            }
        }
        Ok(())
    }

    /// The end of a tuple of `n` items (`MARK` form when `mark`).
    fn tuple_end(&mut self, key: Key, n: u32, mark: bool) -> Result<()> {
        if let Some(i) = self.memo.get(key) {
            // Recursive: the tuple was memoized while its items were saved.
            if !mark {
                self.enc.op_n(Opcode::POP, n as usize);
            } else if self.proto() >= 1 {
                self.enc.op(Opcode::POP_MARK);
            } else {
                self.enc.op_n(Opcode::POP, n as usize + 1);
            }
            self.enc.get(i);
        } else {
            self.enc.op(match (mark, n) {
                (false, 1) => Opcode::TUPLE1,
                (false, 2) => Opcode::TUPLE2,
                (false, _) => Opcode::TUPLE3,
                (true, _) => Opcode::TUPLE,
            });
            self.put(key)?;
        }
        Ok(())
    }

    #[inline]
    fn put(&mut self, key: Key) -> Result<()> {
        let i = self.memo.insert(key)?;
        self.enc.put(i);
        Ok(())
    }

    /// Enters a container whose leaving is left to the suspended chunk that resumes after
    /// it: checks and counts the depth.
    #[inline]
    fn enter_inline(&mut self) -> Result<()> {
        if self.depth >= self.opts.limits.max_depth {
            return Err(Error::limit(LimitKind::Depth));
        }
        self.depth += 1;
        Ok(())
    }

    /// Enters a container: checks the depth and schedules the matching `Leave`.
    #[inline]
    fn enter(&mut self) -> Result<()> {
        self.enter_inline()?;
        self.tasks.push(Task::Leave);
        Ok(())
    }

    /// C `save()` of a graph node.
    fn save(&mut self, g: &Graph, id: NodeId) -> Result<()> {
        self.enc.opcode_boundary();
        let node = g.get(id);
        // Values that are never memoized.
        match node {
            Node::None => {
                self.enc.none();
                return Ok(());
            }
            Node::Bool(b) => {
                self.enc.bool(*b);
                return Ok(());
            }
            Node::Int(i) => {
                self.enc.int(*i);
                return Ok(());
            }
            Node::BigInt(b) => {
                if let Some(i) = b.to_i64() {
                    self.enc.int(i);
                } else if self.proto() >= 2 {
                    // num-bigint gives the minimal two's complement, like `encode_long`.
                    self.enc.long_bytes(&b.to_signed_bytes_le());
                } else {
                    self.enc.long_text(&b.to_string());
                }
                return Ok(());
            }
            Node::Float(x) => {
                self.enc.float(*x);
                return Ok(());
            }
            Node::PersId(pid) => return self.save_persid(g, *pid),
            Node::Ext(code) => return self.save_ext(*code),
            Node::Tuple(items) if items.is_empty() => {
                if self.proto() == 0 {
                    self.enc.raw(b"(t");
                } else {
                    self.enc.op(Opcode::EMPTY_TUPLE);
                }
                return Ok(());
            }
            Node::Global(_) => return self.save_global(g, GRef::Node { id, len: u32::MAX }),
            _ => {}
        }
        let key = match node {
            Node::Str(s) => str_singleton(s.as_bytes()).unwrap_or(Key::Node(id.0)),
            // `b''` is a singleton; one-byte bytes are not always (`int.to_bytes`, slices of
            // buffers make fresh ones), so their identity is the node's.
            Node::Bytes(b) if b.is_empty() => Key::EmptyBytes,
            _ => Key::Node(id.0),
        };
        if let Some(i) = self.memo.get(key) {
            self.enc.get(i);
            return Ok(());
        }
        let p = self.proto();
        match node {
            Node::Str(s) => self.write_str(s.as_bytes(), key),
            Node::Bytes(b) => self.save_bytes(id, b.as_bytes(), key),
            Node::ByteArray(b) => {
                if p >= 5 {
                    self.enc.bytearray8(b.as_bytes());
                    self.put(key)
                } else {
                    self.save_bytearray_reduce(id, b.is_empty(), key)
                }
            }
            Node::Tuple(items) => {
                self.enter()?;
                let n = items.len() as u32;
                let mark = !(p >= 2 && n <= 3);
                self.tasks.push(Task::TupleEnd { key, n, mark });
                self.tasks.push(Task::Items {
                    src: Src::Seq(id),
                    pos: 0,
                    mode: Mode::Plain,
                });
                if mark {
                    self.enc.op(Opcode::MARK);
                }
                Ok(())
            }
            Node::List(items) => {
                self.write_empty_list()?;
                self.put(key)?;
                self.list_items(Src::Seq(id), items.len())
            }
            Node::Dict(items) => {
                if p == 0 {
                    self.enc.raw(b"(d");
                } else {
                    self.enc.op(Opcode::EMPTY_DICT);
                }
                self.put(key)?;
                if items.is_empty() {
                    return Ok(());
                }
                self.enter()?;
                let mode = if p == 0 || items.len() == 1 {
                    Mode::Each(Opcode::SETITEM)
                } else {
                    Mode::Exact {
                        close: Opcode::SETITEMS,
                        extra: true,
                    }
                };
                self.tasks.push(Task::Items {
                    src: Src::Dict(id),
                    pos: 0,
                    mode,
                });
                Ok(())
            }
            Node::Set(items) if p >= 4 => {
                self.enc.op(Opcode::EMPTY_SET);
                self.put(key)?;
                if items.is_empty() {
                    return Ok(());
                }
                self.enter()?;
                self.tasks.push(Task::Items {
                    src: Src::Seq(id),
                    pos: 0,
                    mode: Mode::Exact {
                        close: Opcode::ADDITEMS,
                        extra: true,
                    },
                });
                Ok(())
            }
            Node::FrozenSet(_) if p >= 4 => {
                self.enter()?;
                self.enc.op(Opcode::MARK);
                self.tasks.push(Task::FrozenSetEnd { key });
                self.tasks.push(Task::Items {
                    src: Src::Seq(id),
                    pos: 0,
                    mode: Mode::Plain,
                });
                Ok(())
            }
            Node::Set(_) | Node::FrozenSet(_) => {
                // save_reduce(type(obj), (list(obj),), obj=obj)
                self.enter()?;
                let cls = if matches!(node, Node::Set(_)) {
                    Builtin::Set
                } else {
                    Builtin::FrozenSet
                };
                self.tasks.push(Task::ReduceEnd {
                    key,
                    op: Some(Opcode::REDUCE),
                    obj: None,
                });
                self.push_fresh_tuple(&[Task::Syn(Syn::ListOf(id))]);
                self.tasks.push(Task::Syn(Syn::Global(GRef::Builtin(cls))));
                Ok(())
            }
            Node::Object(_) => self.save_object(g, id, key),
            Node::Buffer(buf) => {
                if p < 5 {
                    return Err(Error::data(
                        "PickleBuffer can only pickled with protocol >= 5",
                    ));
                }
                let in_band = match self.opts.buffer_callback.as_mut() {
                    Some(cb) => cb(buf),
                    None => true,
                };
                match &buf.data {
                    Some(data) if in_band => {
                        if buf.readonly {
                            self.enc.bytes(data.as_bytes()).map_err(Error::data)?;
                        } else {
                            self.enc.bytearray8(data.as_bytes());
                        }
                        self.put(key)
                    }
                    _ => {
                        self.enc.op(Opcode::NEXT_BUFFER);
                        if buf.readonly {
                            self.enc.op(Opcode::READONLY_BUFFER);
                        }
                        Ok(())
                    }
                }
            }
            Node::None
            | Node::Bool(_)
            | Node::Int(_)
            | Node::BigInt(_)
            | Node::Float(_)
            | Node::PersId(_)
            | Node::Ext(_)
            | Node::Global(_) => unreachable!("handled above"),
        }
    }

    /// `EMPTY_LIST`, or `MARK LIST` at protocol 0.
    fn write_empty_list(&mut self) -> Result<()> {
        if self.proto() == 0 {
            self.enc.raw(b"(l");
        } else {
            self.enc.op(Opcode::EMPTY_LIST);
        }
        Ok(())
    }

    /// The items of an exact list (already memoized): C `batch_list_exact`, or one APPEND
    /// per item at protocol 0.
    fn list_items(&mut self, src: Src, n: usize) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.enter()?;
        let mode = if self.proto() == 0 || n == 1 {
            Mode::Each(Opcode::APPEND)
        } else {
            Mode::Exact {
                close: Opcode::APPENDS,
                extra: false,
            }
        };
        self.tasks.push(Task::Items { src, pos: 0, mode });
        Ok(())
    }

    /// Schedules a fresh tuple of `items` (each one task), as `save()` of a tuple CPython
    /// built: TUPLE1–3 at protocol ≥ 2, else `MARK … TUPLE`; memoized as a fresh object.
    fn push_fresh_tuple(&mut self, items: &[Task]) {
        let p = self.proto();
        if items.is_empty() {
            if p == 0 {
                self.tasks.push(Task::Op(Opcode::TUPLE));
                self.tasks.push(Task::Op(Opcode::MARK));
            } else {
                self.tasks.push(Task::Op(Opcode::EMPTY_TUPLE));
            }
            self.tasks.push(Task::Boundary);
            return;
        }
        let n = items.len() as u32;
        let mark = !(p >= 2 && n <= 3);
        self.tasks.push(Task::TupleEnd {
            key: Key::Fresh,
            n,
            mark,
        });
        self.tasks.extend(items.iter().rev().copied());
        if mark {
            self.tasks.push(Task::Op(Opcode::MARK));
        }
        self.tasks.push(Task::Boundary);
    }

    /// Writes a str and memoizes it under `key`.
    fn write_str(&mut self, utf8: &[u8], key: Key) -> Result<()> {
        self.enc.str_utf8(utf8).map_err(Error::data)?;
        self.put(key)
    }

    /// A synthesized str: GET if its key is memoized, else written and memoized.
    fn save_str_keyed(&mut self, utf8: &[u8], key: Key) -> Result<()> {
        if let Some(i) = self.memo.get(key) {
            self.enc.get(i);
            Ok(())
        } else {
            self.write_str(utf8, key)
        }
    }

    /// bytes: SHORT_BINBYTES / BINBYTES / BINBYTES8 at protocol ≥ 3, else the reduce forms
    /// `bytes()` (empty) or `_codecs.encode(str(b, 'latin1'), 'latin1')`.
    fn save_bytes(&mut self, id: NodeId, data: &[u8], key: Key) -> Result<()> {
        if self.proto() >= 3 {
            self.enc.bytes(data).map_err(Error::data)?;
            return self.put(key);
        }
        self.enter()?;
        self.tasks.push(Task::ReduceEnd {
            key,
            op: Some(Opcode::REDUCE),
            obj: None,
        });
        if data.is_empty() {
            self.push_fresh_tuple(&[]);
            self.tasks
                .push(Task::Syn(Syn::Global(GRef::Builtin(Builtin::Bytes))));
        } else {
            self.push_fresh_tuple(&[Task::Syn(Syn::Latin1Of(id)), Task::Syn(Syn::Latin1Name)]);
            self.tasks
                .push(Task::Syn(Syn::Global(GRef::Builtin(Builtin::CodecsEncode))));
        }
        Ok(())
    }

    /// bytearray below protocol 5: `bytearray()` or `bytearray(bytes(b))`.
    fn save_bytearray_reduce(&mut self, id: NodeId, empty: bool, key: Key) -> Result<()> {
        self.enter()?;
        self.tasks.push(Task::ReduceEnd {
            key,
            op: Some(Opcode::REDUCE),
            obj: None,
        });
        if empty {
            self.push_fresh_tuple(&[]);
        } else {
            self.push_fresh_tuple(&[Task::Syn(Syn::BytesOf(id))]);
        }
        self.tasks
            .push(Task::Syn(Syn::Global(GRef::Builtin(Builtin::ByteArray))));
        Ok(())
    }

    fn save_persid(&mut self, g: &Graph, pid: NodeId) -> Result<()> {
        if self.proto() == 0 {
            match g.get(pid) {
                Node::Str(s) if s.as_bytes().is_ascii() && !s.as_bytes().contains(&b'\n') => {
                    self.enc.persid(s.as_bytes());
                    Ok(())
                }
                _ => Err(Error::data(
                    "persistent IDs in protocol 0 must be ASCII strings",
                )),
            }
        } else {
            self.enter()?;
            self.tasks.push(Task::Op(Opcode::BINPERSID));
            self.tasks.push(Task::Save(pid));
            Ok(())
        }
    }

    fn save_ext(&mut self, code: i32) -> Result<()> {
        if self.proto() < 2 {
            return Err(Error::data(format!(
                "extension code {code} needs protocol >= 2"
            )));
        }
        if code <= 0 {
            return Err(Error::data(format!(
                "extension code {code} is out of range"
            )));
        }
        self.enc.ext(code);
        Ok(())
    }

    /// The names of a global reference.
    fn gref_names(g: &Graph, r: GRef) -> Result<(&str, &str, Option<&Global>)> {
        match r {
            GRef::Builtin(b) => {
                let (m, n) = b.names();
                Ok((m, n, None))
            }
            GRef::Node { id, len } => match g.get(id) {
                Node::Global(gl) => {
                    // A parent of a dotted name has neither the node's original (Python 2)
                    // names nor its STACK_GLOBAL strings.
                    if (len as usize) < gl.name.len() {
                        Ok((gl.module.as_str(), &gl.name[..len as usize], None))
                    } else {
                        Ok((gl.module.as_str(), gl.name.as_str(), Some(gl)))
                    }
                }
                other => Err(Error::data(format!(
                    "expected a global, found {}",
                    other.kind_name()
                ))),
            },
        }
    }

    /// C `save_global`.
    fn save_global(&mut self, g: &Graph, r: GRef) -> Result<()> {
        self.enc.opcode_boundary();
        let (module, name, gl) = Self::gref_names(g, r)?;
        let key = self.memo.slot(&["g", module, name]);
        if let Some(i) = self.memo.get(key) {
            self.enc.get(i);
            return Ok(());
        }
        let p = self.proto();
        if p >= 2 && !self.opts.extensions.is_empty() {
            if let Some(&code) = self
                .opts
                .extensions
                .get(&(module.to_owned(), name.to_owned()))
            {
                if code <= 0 {
                    return Err(Error::data(format!(
                        "extension code {code} is out of range"
                    )));
                }
                self.enc.ext(code);
                return Ok(());
            }
        }
        if p >= 4 {
            self.enter()?;
            self.tasks.push(Task::Put(key));
            self.tasks.push(Task::Op(Opcode::STACK_GLOBAL));
            let whole = matches!(r, GRef::Node { len: u32::MAX, .. });
            match gl.and_then(|gl| gl.names) {
                Some((m, n)) if whole => {
                    self.tasks.push(Task::Save(n));
                    self.tasks.push(Task::Syn(Syn::NamesModule(r, m)));
                }
                _ => {
                    self.tasks.push(Task::Syn(Syn::NameStr(r)));
                    self.tasks.push(Task::Syn(Syn::ModuleStr(r)));
                }
            }
            return Ok(());
        }
        // Below protocol 4 names travel as text lines: a newline or an empty component (which
        // the C unpickler reads as a truncated line) would make the output unreadable.
        if module.is_empty()
            || module.contains('\n')
            || name.contains('\n')
            || name.split('.').any(str::is_empty)
        {
            return Err(Error::data(format!(
                "can't pickle global identifier {module:?}.{name:?} using pickle protocol {p}"
            )));
        }
        if let Some(dot) = name.rfind('.') {
            // save_reduce(getattr, (parent, last)) and then memoize the global.
            let GRef::Node { id, .. } = r else {
                unreachable!("builtins have no dotted names")
            };
            self.enter()?;
            self.tasks.push(Task::Put(key));
            self.tasks.push(Task::Op(Opcode::REDUCE));
            self.push_fresh_tuple(&[
                Task::Syn(Syn::Global(GRef::Node {
                    id,
                    len: dot as u32,
                })),
                Task::Syn(Syn::LastName(r)),
            ]);
            self.tasks
                .push(Task::Syn(Syn::Global(GRef::Builtin(Builtin::Getattr))));
            return Ok(());
        }
        let original = gl.and_then(|gl| gl.original.as_ref());
        let (m, n) = self.global_line_names(module, name, original)?;
        self.enc.global(m.as_bytes(), n.as_bytes());
        self.put(key)
    }

    /// The names of a GLOBAL / INST line: UTF-8 at protocol 3, else ASCII after the
    /// `fix_imports` renames (or the names the global was read with).
    fn global_line_names<'a>(
        &self,
        module: &'a str,
        name: &'a str,
        original: Option<&'a (String, String)>,
    ) -> Result<(std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)> {
        use std::borrow::Cow;
        let p = self.proto();
        if p >= 3 {
            return Ok((Cow::Borrowed(module), Cow::Borrowed(name)));
        }
        let (m, n) = if !self.opts.fix_imports {
            (Cow::Borrowed(module), Cow::Borrowed(name))
        } else if let Some((m, n)) = original {
            (Cow::Borrowed(m.as_str()), Cow::Borrowed(n.as_str()))
        } else {
            compat::py3_to_py2(module, name)
        };
        if !m.is_ascii() || !n.is_ascii() {
            return Err(Error::data(format!(
                "can't pickle global identifier '{module}.{name}' using pickle protocol {p}"
            )));
        }
        if self.opts.fix_imports {
            // A Python 2 name kept in a graph (read at protocol 3 or later, where no
            // `fix_imports` applies) that reads back as a builtin whose calls the reader turns
            // into values: a call of it would come back as a value of another kind, and what
            // the pickle then does to it (APPENDS to `__builtin__.bytes()`) can fail.
            let (bm, bn) = compat::py2_to_py3(&m, &n);
            if (bm.as_ref(), bn.as_ref()) != (module, name)
                && crate::unpickle::is_recognized_builtin(&bm, &bn)
            {
                return Err(Error::data(format!(
                    "can't pickle global '{module}.{name}' using pickle protocol {p}: it would read back as '{bm}.{bn}'"
                )));
            }
        }
        Ok((m, n))
    }

    /// The memo slot of a synthesized module string. In 3.11 builtin functions carry the
    /// module's `__name__`, builtin types the interned `'builtins'`: two objects.
    fn module_slot(&mut self, module: &str, name: &str) -> Key {
        let tag = if module == "builtins" && is_builtin_function(name) {
            "f"
        } else {
            "m"
        };
        self.memo.slot(&[tag, module])
    }

    /// `save()` of a value CPython synthesizes.
    fn save_syn(&mut self, g: &Graph, s: Syn) -> Result<()> {
        if let Syn::Global(r) = s {
            return self.save_global(g, r);
        }
        self.enc.opcode_boundary();
        match s {
            Syn::Global(_) => unreachable!(),
            Syn::ModuleStr(r) => {
                let (module, name, _) = Self::gref_names(g, r)?;
                let key = self.module_slot(module, name);
                self.save_str_keyed(module.as_bytes(), key)
            }
            Syn::NamesModule(r, m) => {
                // Either key may have been written first: a recognized builtin (say a
                // bytearray at protocol 4) synthesizes its module string where the original
                // pickle had the very node this global names. Keep both keys on one entry.
                let (module, name, _) = Self::gref_names(g, r)?;
                let slot = self.module_slot(module, name);
                let node_key = Key::Node(m.0);
                if let Some(i) = self.memo.get(node_key).or_else(|| self.memo.get(slot)) {
                    self.memo.set(node_key, i);
                    self.enc.get(i);
                    return Ok(());
                }
                match g.get(m) {
                    Node::Str(s) if s.as_bytes() == module.as_bytes() => {
                        self.write_str(s.as_bytes(), node_key)?;
                        if let Some(i) = self.memo.get(node_key) {
                            self.memo.set(slot, i);
                        }
                        Ok(())
                    }
                    _ => {
                        self.tasks.push(Task::Save(m));
                        Ok(())
                    }
                }
            }
            Syn::NameStr(r) => {
                let (_, name, _) = Self::gref_names(g, r)?;
                self.save_str_keyed(name.as_bytes(), str_key(name.as_bytes()))
            }
            Syn::LastName(r) => {
                let (_, name, _) = Self::gref_names(g, r)?;
                let last = name.rsplit('.').next().unwrap_or(name);
                self.save_str_keyed(last.as_bytes(), str_key(last.as_bytes()))
            }
            Syn::Latin1Name => self.save_str_keyed(b"latin1", Key::Latin1),
            Syn::Latin1Of(id) => {
                let data = payload(g, id)?;
                let key = if data.len() == 1 {
                    Key::Char(data[0] as u16)
                } else {
                    Key::Fresh
                };
                if let Some(i) = self.memo.get(key) {
                    self.enc.get(i);
                    return Ok(());
                }
                let mut buf = std::mem::take(&mut self.scratch);
                buf.clear();
                for &b in data {
                    if b < 0x80 {
                        buf.push(b);
                    } else {
                        buf.extend_from_slice(&[0xc0 | (b >> 6), 0x80 | (b & 0x3f)]);
                    }
                }
                let r = self.write_str(&buf, key);
                self.scratch = buf;
                r
            }
            Syn::BytesOf(id) => {
                let data = payload(g, id)?;
                if self.proto() >= 3 {
                    self.enc.bytes(data).map_err(Error::data)?;
                    self.put(Key::Fresh)
                } else {
                    self.save_bytes(id, data, Key::Fresh)
                }
            }
            Syn::ListOf(id) => {
                self.write_empty_list()?;
                self.put(Key::Fresh)?;
                self.list_items(Src::Seq(id), src_len(g, Src::Seq(id)) as usize)
            }
        }
    }

    /// C `save_reduce` and the Python 2 INST / OBJ forms for an object node.
    fn save_object(&mut self, g: &Graph, id: NodeId, key: Key) -> Result<()> {
        let Node::Object(o) = g.get(id) else {
            unreachable!()
        };
        let p = self.proto();
        self.enter()?;
        match o.kind {
            ObjectKind::Reduce => {
                self.tasks.push(Task::ReduceEnd {
                    key,
                    op: Some(Opcode::REDUCE),
                    obj: Some(id),
                });
                self.tasks.push(Task::Save(o.args));
                self.tasks.push(Task::Save(o.callable));
            }
            ObjectKind::NewObj if p >= 2 => {
                self.tasks.push(Task::ReduceEnd {
                    key,
                    op: Some(Opcode::NEWOBJ),
                    obj: Some(id),
                });
                self.tasks.push(Task::Save(o.args));
                self.tasks.push(Task::Save(o.callable));
            }
            ObjectKind::NewObj => {
                // copyreg.__newobj__(cls, *args) as a plain REDUCE.
                tuple_len(g, o.args)?;
                self.tasks.push(Task::ReduceEnd {
                    key,
                    op: Some(Opcode::REDUCE),
                    obj: Some(id),
                });
                self.tasks.push(Task::TupleEnd {
                    key: Key::Fresh,
                    n: 0,
                    mark: true,
                });
                self.tasks.push(Task::Items {
                    src: Src::Seq(o.args),
                    pos: 0,
                    mode: Mode::Plain,
                });
                self.tasks.push(Task::Save(o.callable));
                self.tasks.push(Task::Op(Opcode::MARK));
                self.tasks.push(Task::Boundary);
                self.tasks
                    .push(Task::Syn(Syn::Global(GRef::Builtin(Builtin::NewObj))));
            }
            ObjectKind::NewObjEx if p >= 4 => {
                self.tasks.push(Task::ReduceEnd {
                    key,
                    op: Some(Opcode::NEWOBJ_EX),
                    obj: Some(id),
                });
                match o.kwargs {
                    Some(k) => self.tasks.push(Task::Save(k)),
                    None => {
                        self.tasks.push(Task::Put(Key::Fresh));
                        self.tasks.push(Task::Op(Opcode::EMPTY_DICT));
                        self.tasks.push(Task::Boundary);
                    }
                }
                self.tasks.push(Task::Save(o.args));
                self.tasks.push(Task::Save(o.callable));
            }
            ObjectKind::NewObjEx => {
                return Err(Error::unsupported(
                    "NEWOBJ_EX objects below protocol 4 (CPython's functools.partial form) are not supported",
                ));
            }
            ObjectKind::Inst | ObjectKind::Obj => {
                tuple_len(g, o.args)?;
                let inst = o.kind == ObjectKind::Inst || p == 0;
                self.tasks.push(Task::ReduceEnd {
                    key,
                    op: (!inst).then_some(Opcode::OBJ),
                    obj: Some(id),
                });
                if inst {
                    self.tasks.push(Task::InstLine(o.callable));
                }
                self.tasks.push(Task::Items {
                    src: Src::Seq(o.args),
                    pos: 0,
                    mode: Mode::Plain,
                });
                if !inst {
                    self.tasks.push(Task::Save(o.callable));
                }
                self.enc.op(Opcode::MARK);
            }
        }
        Ok(())
    }

    /// The end of `save_reduce`: the opcode, then `POP GET` when the object got memoized while
    /// its arguments were saved, else memoize and write list items, dict items and state.
    fn reduce_end(
        &mut self,
        g: &Graph,
        key: Key,
        op: Option<Opcode>,
        obj: Option<NodeId>,
    ) -> Result<()> {
        if let Some(op) = op {
            self.enc.op(op);
        }
        if let Some(i) = self.memo.get(key) {
            self.enc.op(Opcode::POP);
            self.enc.get(i);
            return Ok(());
        }
        self.put(key)?;
        let Some(id) = obj else {
            return Ok(());
        };
        let Node::Object(o) = g.get(id) else {
            unreachable!()
        };
        let p = self.proto();
        if let Some(state) = o.state {
            if let Some(setter) = o.state_setter {
                // C `save_reduce` with a state_setter: TUPLE2 at every protocol, not memoized.
                for op in [Opcode::POP, Opcode::REDUCE, Opcode::TUPLE2] {
                    self.tasks.push(Task::Op(op));
                }
                self.tasks.push(Task::Save(state));
                self.tasks.push(Task::Save(id));
                self.tasks.push(Task::Save(setter));
            } else {
                self.tasks.push(Task::Op(Opcode::BUILD));
                self.tasks.push(Task::Save(state));
            }
        }
        if !o.dict_items.is_empty() {
            self.tasks.push(Task::Items {
                src: Src::ObjDict(id),
                pos: 0,
                mode: loose_mode(p, Opcode::SETITEM, Opcode::SETITEMS),
            });
        }
        if !o.list_items.is_empty() {
            self.tasks.push(Task::Items {
                src: Src::ObjList(id),
                pos: 0,
                mode: loose_mode(p, Opcode::APPEND, Opcode::APPENDS),
            });
        }
        Ok(())
    }

    /// Starts a batch or its next chunk at item `pos`: the MARK of a chunk, then its items.
    fn items(&mut self, g: &Graph, src: Src, pos: u32, mode: Mode) -> Result<()> {
        match self.begin(g, src, pos, mode) {
            Some(c) => self.chunk(g, c),
            None => Ok(()),
        }
    }

    /// The start of [`items`](Self::items): writes the chunk's MARK and returns the chunk to
    /// walk, if any. The chunk's `full` says whether another chunk follows it.
    #[inline]
    fn begin(&mut self, g: &Graph, src: Src, pos: u32, mode: Mode) -> Option<Chunk> {
        let n = src_len(g, src);
        let k = src.unit();
        let chunk = |end: u32, mode: Mode, full: bool| Chunk {
            src,
            pos: pos * k,
            end: end * k,
            mode,
            full,
        };
        match mode {
            Mode::Plain => Some(chunk(n, mode, false)),
            Mode::Each(_) => (pos < n).then(|| chunk(pos + 1, mode, pos + 1 < n)),
            Mode::Exact { extra, .. } => {
                let end = n.min(pos.saturating_add(BATCHSIZE));
                self.enc.op(Opcode::MARK);
                // `batch_list_exact` goes on while items are left, `batch_dict_exact` and
                // `save_set` after every full batch.
                let full = if extra {
                    end - pos == BATCHSIZE
                } else {
                    end < n
                };
                Some(chunk(end, mode, full))
            }
            Mode::Loose { single, .. } => {
                let end = n.min(pos.saturating_add(BATCHSIZE));
                match end.saturating_sub(pos) {
                    0 => None,
                    1 => Some(chunk(end, Mode::Each(single), false)),
                    len => {
                        self.enc.op(Opcode::MARK);
                        Some(chunk(end, mode, len == BATCHSIZE))
                    }
                }
            }
        }
    }

    /// Suspends chunk `c` at element `pos`.
    #[inline]
    fn suspend(&mut self, c: Chunk, pos: u32, leave: bool) {
        self.tasks.push(Task::Chunk {
            c: Chunk { pos, ..c },
            leave,
        });
    }

    /// Saves elements `pos..end` of `src` in order, then closes the chunk. Scalars, strings,
    /// memo hits and the openings of lists, dicts and tuples are written on the spot: the
    /// chunk is suspended on the task stack and the walk goes on with the child's items, so
    /// nesting never recurses. When a chunk is done, the tasks that continue it (leaving
    /// containers, suspended chunks) are taken from the stack here too; other elements leave
    /// their tasks to the main loop.
    fn chunk(&mut self, g: &Graph, mut c: Chunk) -> Result<()> {
        macro_rules! step {
            ($l:lifetime, $id:expr, $e:expr) => {
                let id: NodeId = $id;
                let node = g.get(id);
                self.enc.opcode_boundary();
                // Direct tests of the commonest elements: an indirect jump per element is
                // slow to predict.
                let step = if let Node::Int(i) = node {
                    self.enc.int(*i);
                    Step::Next
                } else if let Node::Float(x) = node {
                    self.enc.float(*x);
                    Step::Next
                } else if matches!(node, Node::None) {
                    self.enc.none();
                    Step::Next
                } else if let Some(i) = self.memo.hit(id) {
                    // Already pickled as itself: a GET, as `save()` checks the memo first
                    // for every non-atom. (Shared keys and objects: very common.)
                    self.enc.get(i);
                    Step::Next
                } else if let Node::Str(s) = node {
                    self.str_elem(id, s.as_bytes())
                } else {
                    Self::other(self, g, id, node, &mut c, $e)
                };
                match step {
                    Step::Next => {}
                    Step::Descend => continue $l,
                    Step::Stop => return Ok(()),
                    Step::Fail => return Err(self.failure()),
                }
            };
        }
        'frame: loop {
            match c.src {
                Src::Dict(_) | Src::ObjDict(_) => {
                    let pairs = pairs(g, c.src);
                    let mut e = c.pos;
                    if e % 2 == 1 && e < c.end {
                        if let Some((_, v)) = pairs.get(e as usize / 2) {
                            e += 1;
                            step!('frame, v, e);
                        }
                    }
                    while e < c.end {
                        let Some((k, v)) = pairs.get(e as usize / 2) else {
                            break;
                        };
                        e += 1;
                        step!('frame, k, e);
                        e += 1;
                        step!('frame, v, e);
                    }
                }
                Src::Seq(_) | Src::ObjList(_) => {
                    let items: &[NodeId] = match c.src {
                        Src::Seq(id) => seq(g, id),
                        Src::ObjList(id) => match g.get(id) {
                            Node::Object(o) => &o.list_items,
                            _ => &[],
                        },
                        Src::Dict(_) | Src::ObjDict(_) => &[],
                    };
                    let end = (c.end as usize).min(items.len());
                    let mut e = c.pos as usize;
                    while e < end {
                        let id = items[e];
                        e += 1;
                        step!('frame, id, e as u32);
                    }
                }
            }
            match c.mode {
                Mode::Plain => {}
                Mode::Each(op) | Mode::Exact { close: op, .. } | Mode::Loose { close: op, .. } => {
                    self.enc.op(op)
                }
            }
            if c.full {
                if let Some(next) = self.begin(g, c.src, c.end / c.src.unit(), c.mode) {
                    c = next;
                    continue 'frame;
                }
            }
            // Continue with the tasks this chunk's container left.
            loop {
                match self.tasks.last() {
                    Some(Task::Leave) => self.depth -= 1,
                    Some(&Task::Op(op)) => self.enc.op(op),
                    Some(&Task::TupleEnd { key, n, mark }) => {
                        self.tasks.pop();
                        self.tuple_end(key, n, mark)?;
                        continue;
                    }
                    Some(&Task::Chunk { c: next, leave }) => {
                        self.tasks.pop();
                        self.depth -= leave as usize;
                        c = next;
                        continue 'frame;
                    }
                    _ => return Ok(()),
                }
                self.tasks.pop();
            }
        }
    }

    /// A str element not in the memo as a node: written and memoized, SHORT_BINUNICODE with
    /// MEMOIZE (the usual case) in one go; singletons and the other forms out of line.
    #[inline(always)]
    fn str_elem(&mut self, id: NodeId, b: &[u8]) -> Step {
        let memo = &mut self.memo;
        let mut key = Key::Node(id.0);
        // Strings of 3 bytes and more are never singletons: memoized by node.
        let slot = match if b.len() < 3 { str_singleton(b) } else { None } {
            Some(Key::Char(c)) => {
                key = Key::Char(c);
                let slot = &mut chars_table(&mut memo.chars)[c as usize];
                if *slot != ABSENT {
                    self.enc.get(*slot);
                    return Step::Next;
                }
                slot
            }
            _ => &mut memo.nodes[id.index()],
        };
        if memo.len != ABSENT && self.enc.short_str_memoize(b) {
            *slot = memo.len;
            memo.len += 1;
            return Step::Next;
        }
        self.str_elem_other(b, key)
    }

    /// [`str_elem`](Self::str_elem) for singletons and the forms other than
    /// SHORT_BINUNICODE + MEMOIZE.
    #[inline(never)]
    fn str_elem_other(&mut self, b: &[u8], key: Key) -> Step {
        match self.write_str(b, key) {
            Ok(()) => Step::Next,
            Err(e) => self.fail(e),
        }
    }

    /// An element other than an int, str, float, None or memo hit: kept out of line so that
    /// the tests of those stay plain branches rather than a jump table.
    #[inline(never)]
    fn other(&mut self, g: &Graph, id: NodeId, node: &Node, c: &mut Chunk, e: u32) -> Step {
        let r = match node {
            Node::Bool(b) => {
                self.enc.bool(*b);
                return Step::Next;
            }
            // Not in the memo: `chunk` looked.
            Node::List(v) | Node::Tuple(v) if !v.is_empty() && self.proto() >= 2 => {
                self.descend_seq(id, matches!(node, Node::List(_)), v.len(), c, e)
            }
            Node::Dict(v) if !v.is_empty() && self.proto() >= 1 => {
                self.descend_dict(id, v.len(), c, e)
            }
            _ => {
                // Resume after this element once its own tasks are done.
                let before = self.tasks.len();
                self.suspend(*c, e, false);
                let mark = self.tasks.len();
                match self.save(g, id) {
                    Ok(()) if self.tasks.len() != mark => Ok(Step::Stop),
                    Ok(()) => {
                        self.tasks.truncate(before);
                        Ok(Step::Next)
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match r {
            Ok(s) => s,
            Err(e) => self.fail(e),
        }
    }

    /// The error parked by a [`Step::Fail`].
    #[cold]
    fn failure(&mut self) -> Error {
        self.error
            .take()
            .unwrap_or_else(|| Error::data("pickler failed"))
    }

    /// Parks `e` for [`failure`](Self::failure).
    #[cold]
    fn fail(&mut self, e: Error) -> Step {
        self.error = Some(e);
        Step::Fail
    }

    /// Writes `op` and memoizes it as node `id` (not yet in the memo), then a MARK if `mark`:
    /// one write at protocol ≥ 4.
    #[inline(always)]
    fn open_put(&mut self, op: Opcode, id: NodeId, mark: bool) -> Result<()> {
        let idx = self.memo.next()?;
        self.memo.nodes[id.index()] = idx;
        if self.proto() >= 4 {
            if mark {
                self.enc
                    .raw(&[op as u8, Opcode::MEMOIZE as u8, Opcode::MARK as u8]);
            } else {
                self.enc.raw(&[op as u8, Opcode::MEMOIZE as u8]);
            }
        } else {
            self.enc.op(op);
            self.enc.put(idx);
            if mark {
                self.enc.op(Opcode::MARK);
            }
        }
        Ok(())
    }

    /// Opens a non-empty list or tuple element (protocol ≥ 2) and returns its first chunk.
    fn descend_seq(
        &mut self,
        id: NodeId,
        list: bool,
        n: usize,
        c: &mut Chunk,
        e: u32,
    ) -> Result<Step> {
        let key = Key::Node(id.0);
        let n = n as u32;
        self.enter_inline()?;
        self.suspend(*c, e, true);
        let src = Src::Seq(id);
        let child = if list {
            if n == 1 {
                self.open_put(Opcode::EMPTY_LIST, id, false)?;
                Chunk {
                    src,
                    pos: 0,
                    end: 1,
                    mode: Mode::Each(Opcode::APPEND),
                    full: false,
                }
            } else {
                self.open_put(Opcode::EMPTY_LIST, id, true)?;
                let end = n.min(BATCHSIZE);
                Chunk {
                    src,
                    pos: 0,
                    end,
                    mode: Mode::Exact {
                        close: Opcode::APPENDS,
                        extra: false,
                    },
                    full: end < n,
                }
            }
        } else {
            let mark = n > 3;
            self.tasks.push(Task::TupleEnd { key, n, mark });
            if mark {
                self.enc.op(Opcode::MARK);
            }
            Chunk {
                src,
                pos: 0,
                end: n,
                mode: Mode::Plain,
                full: false,
            }
        };
        *c = child;
        Ok(Step::Descend)
    }

    /// Opens a non-empty dict element (protocol ≥ 1) and returns its first chunk.
    fn descend_dict(&mut self, id: NodeId, n: usize, c: &mut Chunk, e: u32) -> Result<Step> {
        let n = n as u32;
        self.enter_inline()?;
        self.suspend(*c, e, true);
        let src = Src::Dict(id);
        let child = if n == 1 {
            self.open_put(Opcode::EMPTY_DICT, id, false)?;
            Chunk {
                src,
                pos: 0,
                end: 2,
                mode: Mode::Each(Opcode::SETITEM),
                full: false,
            }
        } else {
            self.open_put(Opcode::EMPTY_DICT, id, true)?;
            let end = n.min(BATCHSIZE);
            Chunk {
                src,
                pos: 0,
                end: end * 2,
                mode: Mode::Exact {
                    close: Opcode::SETITEMS,
                    extra: true,
                },
                full: end == BATCHSIZE,
            }
        };
        *c = child;
        Ok(Step::Descend)
    }
}

/// What saving an element of a chunk did.
#[derive(Clone, Copy)]
enum Step {
    /// The element was written.
    Next,
    /// The element opened a container whose first chunk replaced the current one (the
    /// parent is suspended).
    Descend,
    /// The element left tasks (the parent is suspended behind them).
    Stop,
    /// An error, parked in `Core::error`.
    Fail,
}

/// A run of elements of a batch: `pos..end` of `src` (dict pairs are two elements each);
/// `full` when another chunk of the batch follows this one.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    src: Src,
    pos: u32,
    end: u32,
    mode: Mode,
    full: bool,
}

impl Src {
    /// Elements per item: 2 for key-value pairs.
    #[inline]
    fn unit(self) -> u32 {
        match self {
            Src::Dict(_) | Src::ObjDict(_) => 2,
            Src::Seq(_) | Src::ObjList(_) => 1,
        }
    }
}

/// The items of a sequence node (list, tuple, set, frozenset); empty for anything else.
fn seq(g: &Graph, id: NodeId) -> &[NodeId] {
    match g.get(id) {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => g.items(*v),
        _ => &[],
    }
}

fn pairs(g: &Graph, src: Src) -> PairsRef<'_> {
    match src {
        Src::Dict(id) => match g.get(id) {
            Node::Dict(v) => g.pairs(*v),
            _ => PairsRef::default(),
        },
        Src::ObjDict(id) => match g.get(id) {
            Node::Object(o) => PairsRef::from(&o.dict_items),
            _ => PairsRef::default(),
        },
        _ => PairsRef::default(),
    }
}

fn src_len(g: &Graph, src: Src) -> u32 {
    let n = match src {
        Src::Seq(id) => seq(g, id).len(),
        Src::ObjList(id) => match g.get(id) {
            Node::Object(o) => o.list_items.len(),
            _ => 0,
        },
        Src::Dict(_) | Src::ObjDict(_) => pairs(g, src).len(),
    };
    n as u32
}

/// The length of an argument tuple, or an error when `id` is no tuple.
fn tuple_len(g: &Graph, id: NodeId) -> Result<usize> {
    match g.get(id) {
        Node::Tuple(v) => Ok(v.len()),
        other => Err(Error::data(format!(
            "call arguments must be a tuple, not {}",
            other.kind_name()
        ))),
    }
}

/// The payload of a bytes / bytearray / buffer node.
fn payload(g: &Graph, id: NodeId) -> Result<&[u8]> {
    match g.get(id) {
        Node::Bytes(b) | Node::ByteArray(b) => Ok(b.as_bytes()),
        Node::Buffer(b) => Ok(b.data.as_ref().map_or(&[][..], |d| d.as_bytes())),
        other => Err(Error::data(format!(
            "expected bytes, found {}",
            other.kind_name()
        ))),
    }
}

/// The functions of `builtins` (their `__module__` is the module's `__name__`, not the
/// interned `'builtins'` of builtin types).
fn is_builtin_function(name: &str) -> bool {
    const FUNCTIONS: &[&str] = &[
        "__build_class__",
        "__import__",
        "abs",
        "aiter",
        "all",
        "anext",
        "any",
        "ascii",
        "bin",
        "breakpoint",
        "callable",
        "chr",
        "compile",
        "delattr",
        "dir",
        "divmod",
        "eval",
        "exec",
        "format",
        "getattr",
        "globals",
        "hasattr",
        "hash",
        "hex",
        "id",
        "input",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "locals",
        "max",
        "min",
        "next",
        "oct",
        "ord",
        "pow",
        "print",
        "repr",
        "round",
        "setattr",
        "sorted",
        "sum",
        "vars",
    ];
    FUNCTIONS.binary_search(&name).is_ok()
}

/// C `batch_list` / `batch_dict` (non-exact containers, `__reduce__` items): one opcode per item
/// at protocol 0, else batches with a trailing single item written alone.
fn loose_mode(proto: u8, single: Opcode, close: Opcode) -> Mode {
    if proto == 0 {
        Mode::Each(single)
    } else {
        Mode::Loose { single, close }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list or dict inside a list is written by the chunk walk, a top-level one by `save`
    /// (checked against CPython by the batch tests): the same bytes either way, at the batch
    /// edges too, apart from the outer list around them.
    #[test]
    fn nested_batches_match_top_level_ones() {
        for n in [1, 2, 999, 1000, 1001, 2000, 2001] {
            for dict in [false, true] {
                let mut g = Graph::new();
                let x = if dict {
                    let pairs = (0..n)
                        .map(|i| {
                            let k = g.int(i);
                            (k, g.none())
                        })
                        .collect();
                    g.dict(pairs)
                } else {
                    let items = (0..n).map(|i| g.int(i)).collect();
                    g.list(items)
                };
                let outer = g.list(vec![x]);
                for proto in 2..=4u8 {
                    let mut top_g = g.clone();
                    top_g.set_root(x);
                    let top = dumps_with(&top_g, DumpOptions::new().protocol(proto)).unwrap();
                    let mut nested_g = g.clone();
                    nested_g.set_root(outer);
                    let nested = dumps_with(&nested_g, DumpOptions::new().protocol(proto)).unwrap();
                    let mut want = Vec::new();
                    if proto >= 4 {
                        // PROTO, FRAME <len>, `]` MEMOIZE, the top-level body, APPEND, STOP.
                        let body = &top[11..top.len() - 1];
                        want.extend_from_slice(&top[..3]);
                        want.extend_from_slice(&(body.len() as u64 + 4).to_le_bytes());
                        want.extend_from_slice(b"]\x94");
                        want.extend_from_slice(body);
                    } else {
                        // PROTO, `]` BINPUT 0, the top-level body with its BINPUT 0 now 1.
                        want.extend_from_slice(&top[..2]);
                        want.extend_from_slice(b"]q\x00");
                        want.extend_from_slice(&[top[2], b'q', 1]);
                        want.extend_from_slice(&top[5..top.len() - 1]);
                    }
                    want.extend_from_slice(b"a.");
                    assert_eq!(nested, want, "n {n}, dict {dict}, protocol {proto}");
                }
            }
        }
    }

    /// More distinct globals than a scan covers: the second node naming each must still be
    /// a GET of the first (found through the slots' hashed index).
    #[test]
    fn many_globals_are_found_again() {
        let n = 3 * SCAN_SLOTS;
        let mut g = Graph::new();
        let mut items = Vec::new();
        for _ in 0..2 {
            for i in 0..n {
                items.push(g.global(&format!("m{i}"), "f"));
            }
        }
        let root = g.list(items);
        g.set_root(root);
        let got = dumps_with(&g, DumpOptions::new().protocol(3)).unwrap();
        let mut want = b"\x80\x03]q\x00(".to_vec();
        for i in 0..n {
            want.extend_from_slice(format!("cm{i}\nf\n").as_bytes());
            want.extend_from_slice(&[b'q', (i + 1) as u8]);
        }
        for i in 0..n {
            want.extend_from_slice(&[b'h', (i + 1) as u8]);
        }
        want.extend_from_slice(b"e.");
        assert_eq!(got, want);
    }
}
