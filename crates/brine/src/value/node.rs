//! Node kinds of the value graph.

use num_bigint::BigInt;

use super::pystr::{Blob, PyStr};

/// The identity of a value in a [`Graph`](super::Graph): two references to one Python object
/// are one `NodeId`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The index of the node in its graph's arena.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A range of one of a graph's arenas and the slots its container owns there: appends fill
/// the free slots before the range must move.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Slots {
    pub(crate) start: u32,
    pub(crate) len: u32,
    pub(crate) cap: u32,
}

/// The items of a list, tuple, set or frozenset: a range of its [`Graph`](super::Graph)'s item
/// arena, read with [`Graph::items`](super::Graph::items).
///
/// Containers keep their items in one arena per graph rather than a `Vec` each: a decode then
/// makes no allocation per container, and dropping a graph frees a few large blocks.
/// Two `Items` are equal when they are the same range, not when their contents are equal
/// (compare values with [`Graph::same_value`](super::Graph::same_value)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Items(pub(crate) Slots);

/// The `(key, value)` pairs of a dict, in insertion order: a range of one of its
/// [`Graph`](super::Graph)'s pair arenas (by id, or packed when every key and value is an
/// atom), read with [`Graph::pairs`](super::Graph::pairs). Equality compares ranges, like
/// [`Items`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pairs {
    pub(crate) slots: Slots,
    /// Which arena the range is of.
    pub(crate) form: PairForm,
}

/// How a dict's pairs are stored (see [`Graph`](super::Graph)'s pair arenas).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) enum PairForm {
    /// Two node ids a pair.
    #[default]
    Wide,
    /// Two atom codes a pair: every key and value is an atom.
    Atoms,
    /// An atom code and a node id a pair: every key is an atom.
    AtomKeys,
}

impl Pairs {
    /// Number of pairs.
    #[inline]
    pub fn len(self) -> usize {
        self.slots.len as usize
    }

    /// True when there are no pairs.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.slots.len == 0
    }
}

macro_rules! range_len {
    ($t:ty, $what:literal) => {
        impl $t {
            #[doc = concat!("Number of ", $what, ".")]
            #[inline]
            pub fn len(self) -> usize {
                self.0.len as usize
            }

            #[doc = concat!("True when there are no ", $what, ".")]
            #[inline]
            pub fn is_empty(self) -> bool {
                self.0.len == 0
            }
        }
    };
}
range_len!(Items, "items");

/// One Python value. Containers hold [`NodeId`]s (in the graph's arenas, see [`Items`]), never
/// values, so sharing and cycles are free.
///
/// Equality of two nodes compares containers by their arena range (see [`Items`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// An `int` that does not fit in 64 bits (never used for values that do).
    BigInt(Box<BigInt>),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(PyStr),
    /// A `bytes`.
    Bytes(Blob),
    /// A `bytearray`.
    ByteArray(Blob),
    /// A `list`.
    List(Items),
    /// A `tuple`.
    Tuple(Items),
    /// A `dict`, in insertion order; keys may be any value.
    Dict(Pairs),
    /// A `set`, in pickle order.
    Set(Items),
    /// A `frozenset`, in pickle order.
    FrozenSet(Items),
    /// A reference to a module attribute: a class, function or other global, by name.
    Global(Box<Global>),
    /// What a call in the pickle would build: REDUCE, NEWOBJ, NEWOBJ_EX, INST or OBJ, with
    /// the state and items later applied to it. Never executed.
    Object(Box<Object>),
    /// A persistent id (PERSID / BINPERSID) that no hook resolved; holds the id value.
    PersId(NodeId),
    /// An extension code (EXT1/2/4) that no registry resolved.
    Ext(i32),
    /// An out-of-band buffer (NEXT_BUFFER), with its data when buffers were supplied.
    Buffer(Box<Buffer>),
}

impl Node {
    /// A short name of the kind, Python-style (`"list"`, `"int"`, `"object"`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Node::None => "None",
            Node::Bool(_) => "bool",
            Node::Int(_) | Node::BigInt(_) => "int",
            Node::Float(_) => "float",
            Node::Str(_) => "str",
            Node::Bytes(_) => "bytes",
            Node::ByteArray(_) => "bytearray",
            Node::List(_) => "list",
            Node::Tuple(_) => "tuple",
            Node::Dict(_) => "dict",
            Node::Set(_) => "set",
            Node::FrozenSet(_) => "frozenset",
            Node::Global(_) => "global",
            Node::Object(_) => "object",
            Node::PersId(_) => "persistent id",
            Node::Ext(_) => "extension code",
            Node::Buffer(_) => "buffer",
        }
    }
}

/// A global reference: `module.name` (Python 3 names; `name` may be a dotted qualname).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Global {
    /// The module, e.g. `collections`.
    pub module: String,
    /// The (qualified) name, e.g. `OrderedDict` or `Outer.Inner`.
    pub name: String,
    /// The names as written, when `fix_imports` mapped Python 2 names (e.g.
    /// `("__builtin__", "unicode")` for `builtins.str`); used again when writing protocols < 3.
    pub original: Option<(String, String)>,
    /// The `str` nodes STACK_GLOBAL took the names from, so that rewriting keeps their sharing.
    pub names: Option<(NodeId, NodeId)>,
}

impl Global {
    /// A global with these Python 3 names.
    pub fn new(module: impl Into<String>, name: impl Into<String>) -> Self {
        Global {
            module: module.into(),
            name: name.into(),
            original: None,
            names: None,
        }
    }

    /// True when this is `module.name`.
    pub fn is(&self, module: &str, name: &str) -> bool {
        self.module == module && self.name == name
    }
}

/// Which opcode built an [`Object`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// `callable(*args)` (REDUCE).
    Reduce,
    /// `cls.__new__(cls, *args)` (NEWOBJ).
    NewObj,
    /// `cls.__new__(cls, *args, **kwargs)` (NEWOBJ_EX).
    NewObjEx,
    /// Python 2 `INST module name` with arguments from the stack.
    Inst,
    /// Python 2 `OBJ` (class and arguments from the stack).
    Obj,
}

/// The result of a call recorded in the pickle, with what was later applied to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// Which opcode built it.
    pub kind: ObjectKind,
    /// The callable (REDUCE) or class (the others); for INST a [`Global`] node.
    pub callable: NodeId,
    /// The positional arguments, a tuple node.
    pub args: NodeId,
    /// The keyword arguments of NEWOBJ_EX, a dict node.
    pub kwargs: Option<NodeId>,
    /// The BUILD state (`__setstate__` argument or `__dict__` update).
    pub state: Option<NodeId>,
    /// The `state_setter` of a 6-tuple `__reduce__`: the state is applied by calling
    /// `state_setter(obj, state)` (written `setter obj state TUPLE2 REDUCE POP`) instead of BUILD.
    pub state_setter: Option<NodeId>,
    /// Items added by APPEND / APPENDS (list subclasses, `__reduce__` listitems).
    pub list_items: Vec<NodeId>,
    /// Items set by SETITEM / SETITEMS (dict subclasses, `__reduce__` dictitems).
    pub dict_items: Vec<(NodeId, NodeId)>,
}

impl Object {
    /// A fresh object built by `kind` from `callable` and `args`.
    pub fn new(kind: ObjectKind, callable: NodeId, args: NodeId) -> Self {
        Object {
            kind,
            callable,
            args,
            kwargs: None,
            state: None,
            state_setter: None,
            list_items: Vec::new(),
            dict_items: Vec::new(),
        }
    }
}

/// An out-of-band buffer of protocol 5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// Its position among the stream's NEXT_BUFFER opcodes, from 0.
    pub index: usize,
    /// True after READONLY_BUFFER.
    pub readonly: bool,
    /// The data, when the caller supplied the buffers.
    pub data: Option<super::pystr::Blob>,
}
