//! The arena that owns every node, with builders, traversal and structural equality.

use std::collections::HashMap;
use std::fmt;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::node::{Global, Node, NodeId, Object};
use super::pystr::{Blob, PyStr};

/// An arena of [`Node`]s and the root of the last pickle read into it.
///
/// Build values with the helper methods and pickle them with [`crate::dumps`]:
///
/// ```
/// use brine::value::Graph;
/// let mut g = Graph::new();
/// let inner = g.list(vec![]);
/// let one = g.int(1);
/// let root = g.list(vec![inner, inner, one]); // `inner` is shared, as in `[x, x, 1]`
/// g.set_root(root);
/// assert_eq!(g.root(), Some(root));
/// ```
#[derive(Clone, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    root: Option<NodeId>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Graph::default()
    }

    /// An empty graph with room for `n` nodes.
    pub fn with_capacity(n: usize) -> Self {
        Graph {
            nodes: Vec::with_capacity(n),
            root: None,
        }
    }

    /// Adds a node and returns its id.
    ///
    /// # Panics
    /// When the graph already holds `u32::MAX` nodes (the unpickler's node limit stops far
    /// below that).
    #[inline(always)]
    pub fn add(&mut self, node: Node) -> NodeId {
        self.add_with(|| node)
    }

    /// Adds the node `make` builds, building it only once room for it is there, so that it is
    /// written in place.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(crate) fn add_with(&mut self, make: impl FnOnce() -> Node) -> NodeId {
        let len = self.nodes.len();
        let id = NodeId(u32::try_from(len).expect("graph holds at most u32::MAX nodes"));
        // Why not `push(make())`: rustc builds the node in a stack temporary that must live
        // across `push`'s possible reallocation, then copies it with 16-byte loads right over
        // the narrow stores that built it: a store-forwarding stall on every node, measured at
        // 35-40 % of decode time (`perf record` of `examples/prof.rs` on pyperformance's LIST;
        // no safe formulation we tried — push after an explicit reserve, resize_with, assigning
        // into a pushed placeholder — avoids it). Reserving first and writing straight into the
        // spare slot leaves no call between building and storing.
        if len == self.nodes.capacity() {
            self.grow();
        }
        self.nodes.spare_capacity_mut()[0].write(make());
        // SAFETY: `grow` guarantees capacity > len, so slot `len` exists, and it was just
        // initialized by `write`; every slot below `len` was initialized before.
        unsafe { self.nodes.set_len(len + 1) };
        id
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        self.nodes.reserve(self.nodes.len().max(16));
    }

    /// The node with this id.
    ///
    /// # Panics
    /// When `id` is not from this graph.
    #[inline]
    pub fn get(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The node with this id, if it is in this graph.
    #[inline]
    pub fn try_get(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }

    /// The node with this id, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id.index()]
    }

    /// Number of nodes.
    #[inline]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no node was added.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The id of the node at this arena index, if there is one.
    #[inline]
    pub fn id_at(&self, index: usize) -> Option<NodeId> {
        (index < self.nodes.len()).then_some(NodeId(index as u32))
    }

    /// Every node with its id, in creation order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(i as u32), n))
    }

    /// The root: the value of the last pickle read, or what [`set_root`](Self::set_root) set.
    #[inline]
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    /// Sets the root.
    #[inline]
    pub fn set_root(&mut self, id: NodeId) {
        self.root = Some(id);
    }

    /// Adds `None`.
    pub fn none(&mut self) -> NodeId {
        self.add(Node::None)
    }
    /// Adds a bool.
    pub fn bool(&mut self, b: bool) -> NodeId {
        self.add(Node::Bool(b))
    }
    /// Adds an int.
    pub fn int(&mut self, i: i64) -> NodeId {
        self.add(Node::Int(i))
    }
    /// Adds an int of any size (stored as [`Node::Int`] when it fits in 64 bits).
    pub fn bigint(&mut self, i: BigInt) -> NodeId {
        match i.to_i64() {
            Some(s) => self.add(Node::Int(s)),
            None => self.add(Node::BigInt(Box::new(i))),
        }
    }
    /// Adds a float.
    pub fn float(&mut self, x: f64) -> NodeId {
        self.add(Node::Float(x))
    }
    /// Adds a str.
    pub fn str(&mut self, s: &str) -> NodeId {
        self.add(Node::Str(PyStr::from(s)))
    }
    /// Adds bytes.
    pub fn bytes(&mut self, b: &[u8]) -> NodeId {
        self.add(Node::Bytes(Blob::from(b)))
    }
    /// Adds a bytearray.
    pub fn bytearray(&mut self, b: &[u8]) -> NodeId {
        self.add(Node::ByteArray(Blob::from(b)))
    }
    /// Adds a list.
    pub fn list(&mut self, items: Vec<NodeId>) -> NodeId {
        self.add(Node::List(items))
    }
    /// Adds a tuple.
    pub fn tuple(&mut self, items: Vec<NodeId>) -> NodeId {
        self.add(Node::Tuple(items))
    }
    /// Adds a dict.
    pub fn dict(&mut self, items: Vec<(NodeId, NodeId)>) -> NodeId {
        self.add(Node::Dict(items))
    }
    /// Adds a set.
    pub fn set(&mut self, items: Vec<NodeId>) -> NodeId {
        self.add(Node::Set(items))
    }
    /// Adds a frozenset.
    pub fn frozenset(&mut self, items: Vec<NodeId>) -> NodeId {
        self.add(Node::FrozenSet(items))
    }
    /// Adds a global reference `module.name`.
    pub fn global(&mut self, module: &str, name: &str) -> NodeId {
        self.add(Node::Global(Box::new(Global::new(module, name))))
    }
    /// Adds an object.
    pub fn object(&mut self, obj: Object) -> NodeId {
        self.add(Node::Object(Box::new(obj)))
    }

    /// The nodes reachable from `start`, each once, in depth-first pickle order (no recursion).
    pub fn walk(&self, start: NodeId) -> Vec<NodeId> {
        let mut seen = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        let mut stack = vec![start];
        let mut kids = Vec::new();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut seen[id.index()], true) {
                continue;
            }
            out.push(id);
            kids.clear();
            self.get(id).for_each_child(|c| kids.push(c));
            stack.extend(kids.iter().rev().copied());
        }
        out
    }

    /// True when the values at `a` (in `self`) and `b` (in `other`) are the same graph: equal
    /// scalars, equal containers, and the same sharing and cycles. NaNs are equal to NaNs;
    /// `0.0` and `-0.0` differ. Runs without recursion.
    pub fn same_value(&self, a: NodeId, other: &Graph, b: NodeId) -> bool {
        let mut fwd: HashMap<NodeId, NodeId> = HashMap::new();
        let mut back: HashMap<NodeId, NodeId> = HashMap::new();
        let mut stack = vec![(a, b)];
        let mut ka = Vec::new();
        let mut kb = Vec::new();
        while let Some((x, y)) = stack.pop() {
            let (nx, ny) = (self.get(x), other.get(y));
            // Values a pickle never memoizes have no identity to keep: compare them by value.
            if has_identity(nx) || has_identity(ny) {
                match (fwd.get(&x), back.get(&y)) {
                    (Some(&y2), _) if y2 == y => continue,
                    (None, None) => {}
                    _ => return false,
                }
                fwd.insert(x, y);
                back.insert(y, x);
            }
            if !shallow_eq(nx, ny) {
                return false;
            }
            if matches!(nx, Node::Global(_)) {
                continue;
            }
            ka.clear();
            kb.clear();
            nx.for_each_child(|c| ka.push(c));
            ny.for_each_child(|c| kb.push(c));
            if ka.len() != kb.len() {
                return false;
            }
            stack.extend(ka.iter().copied().zip(kb.iter().copied()));
        }
        true
    }
}

/// True for kinds whose identity a pickle records (the memoized ones); None, bools, numbers,
/// `()`, persistent ids, extension codes and out-of-band buffers are written afresh each time.
fn has_identity(n: &Node) -> bool {
    match n {
        Node::None
        | Node::Bool(_)
        | Node::Int(_)
        | Node::BigInt(_)
        | Node::Float(_)
        | Node::PersId(_)
        | Node::Ext(_)
        | Node::Buffer(_) => false,
        Node::Tuple(items) => !items.is_empty(),
        _ => true,
    }
}

/// Compares everything but the children.
fn shallow_eq(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Float(x), Node::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Node::List(x), Node::List(y))
        | (Node::Tuple(x), Node::Tuple(y))
        | (Node::Set(x), Node::Set(y))
        | (Node::FrozenSet(x), Node::FrozenSet(y)) => x.len() == y.len(),
        (Node::Dict(x), Node::Dict(y)) => x.len() == y.len(),
        // How the names were spelled (Python 2 originals, STACK_GLOBAL strings) is not the value.
        (Node::Global(x), Node::Global(y)) => x.module == y.module && x.name == y.name,
        (Node::Object(x), Node::Object(y)) => {
            x.kind == y.kind
                && x.kwargs.is_some() == y.kwargs.is_some()
                && x.state.is_some() == y.state.is_some()
                && x.state_setter.is_some() == y.state_setter.is_some()
                && x.list_items.len() == y.list_items.len()
                && x.dict_items.len() == y.dict_items.len()
        }
        (Node::PersId(_), Node::PersId(_)) => true,
        _ => a == b,
    }
}

impl PartialEq for Graph {
    /// Graphs are equal when their roots are the same value (see [`Graph::same_value`]).
    fn eq(&self, other: &Self) -> bool {
        match (self.root, other.root) {
            (Some(a), Some(b)) => self.same_value(a, other, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl fmt::Debug for Graph {
    /// One line per node reachable from the root, children as `#id`: linear in the graph's
    /// size however deep, shared or cyclic it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(root) = self.root else {
            return write!(f, "Graph {{ nodes: {}, root: None }}", self.nodes.len());
        };
        writeln!(f, "Graph {{ root: #{} }}", root.0)?;
        for id in self.walk(root) {
            writeln!(f, "  #{} = {:?}", id.0, self.get(id))?;
        }
        Ok(())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
