//! The arena that owns every node, with builders, traversal and structural equality.

use std::collections::HashMap;
use std::fmt;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::node::{Global, Items, Node, NodeId, Object, PairForm, Pairs, Slots};
use super::pairs::PairsRef;
use super::pystr::{Blob, Ledger, PyStr, WindowSource};

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
    /// The items of every list, tuple, set and frozenset (see [`Items`]).
    items: Vec<NodeId>,
    /// The pairs of every dict, in the arena of each dict's form (see [`Pairs`]).
    pairs: PairArenas,
    root: Option<NodeId>,
    /// Some node's payload lies in a shared input window (set by the decoder): dropping then
    /// gives the windows' references up in runs (see [`Drop`]).
    pub(crate) windowed: bool,
    /// Some node may own memory or a reference that `ledger` does not count, so dropping must
    /// visit every node. False while every node was added by this module's own paths and
    /// owns nothing but the window handles `ledger` counts: then no node was ever handed out
    /// mutably ([`get_mut`](Self::get_mut) sets it), so each of those handles is still where
    /// it was put.
    owning: bool,
    /// The window handles the nodes added by [`add_window_str`](Self::add_window_str) and
    /// [`add_window_bytes`](Self::add_window_bytes) hold.
    ledger: Ledger,
}

/// True when dropping `node` has work to do: it owns memory or a reference.
#[inline(always)]
fn owns(node: &Node) -> bool {
    match node {
        Node::Str(s) => !s.is_inline(),
        Node::Bytes(b) | Node::ByteArray(b) => !b.is_inline(),
        Node::BigInt(_) | Node::Global(_) | Node::Object(_) | Node::Buffer(_) => true,
        Node::None
        | Node::Bool(_)
        | Node::Int(_)
        | Node::Float(_)
        | Node::List(_)
        | Node::Tuple(_)
        | Node::Dict(_)
        | Node::Set(_)
        | Node::FrozenSet(_)
        | Node::PersId(_)
        | Node::Ext(_) => false,
    }
}

/// Writes the node `make` builds into `nodes`' next slot, building it only once room for it is
/// there, so that it is written in place; returns its id and whether it [`owns`] anything.
///
/// # Panics
/// When `nodes` already holds `u32::MAX` nodes (before `make` runs).
#[inline(always)]
#[allow(unsafe_code)]
fn push_node(nodes: &mut Vec<Node>, make: impl FnOnce() -> Node) -> (NodeId, bool) {
    let len = nodes.len();
    let id = NodeId(u32::try_from(len).expect("graph holds at most u32::MAX nodes"));
    // Why not `push(make())`: rustc builds the node in a stack temporary that must live
    // across `push`'s possible reallocation, then copies it with 16-byte loads right over
    // the narrow stores that built it: a store-forwarding stall on every node, measured at
    // 35-40 % of decode time (`perf record` of `examples/prof.rs` on pyperformance's LIST;
    // no safe formulation we tried — push after an explicit reserve, resize_with, assigning
    // into a pushed placeholder — avoids it). Reserving first and writing straight into the
    // spare slot leaves no call between building and storing.
    if len == nodes.capacity() {
        grow(nodes);
    }
    // Read back through the reference `write` gives, not the vector: the compiler then sees
    // the stored variant (known at compile time for most callers) and drops the check. Taken
    // from the value before the write instead, the node was built in a stack temporary and
    // copied (the stall above); read back through the vector, it cost a dispatch per node.
    let owning = owns(nodes.spare_capacity_mut()[0].write(make()));
    // SAFETY: `grow` guarantees capacity > len, so slot `len` exists, and it was just
    // initialized by `write`; every slot below `len` was initialized before.
    unsafe { nodes.set_len(len + 1) };
    (id, owning)
}

/// Nodes that fit a little under 32 MiB: glibc's largest mmap threshold, below which a freed
/// arena is reused by the next decode instead of being unmapped and faulted in afresh.
pub(crate) const NODES_UNDER_MMAP: usize = (1 << 20) - 1024;

#[cold]
#[inline(never)]
fn grow(nodes: &mut Vec<Node>) {
    let len = nodes.len();
    // Doubling would cross the threshold while a smaller step stays under it: take that
    // step first (1M ints: 9k page faults per decode when doubled past it).
    if len < NODES_UNDER_MMAP && len * 2 > NODES_UNDER_MMAP {
        nodes.reserve_exact(NODES_UNDER_MMAP - len);
    } else {
        nodes.reserve(len.max(16));
    }
}

impl Drop for Graph {
    /// A graph whose nodes own nothing but counted window handles (most decoded graphs of
    /// scalars, containers and short or mid-sized text) gives everything up without visiting
    /// a node: on 200k strings, reading every node back was most of the drop. Otherwise
    /// strings and bytes that lie in one input window give up their references in one atomic
    /// operation per run instead of one each.
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        if !self.owning {
            // SAFETY: a length of zero is always in bounds, and forgetting values is sound.
            // Nothing leaks: no node owns memory or a reference but the window handles the
            // ledger counts (`owning` is false), given up next.
            unsafe { self.nodes.set_len(0) };
            // SAFETY: the handles the ledger recorded were each stored in a node by
            // `add_window_str` / `add_window_bytes` (or cloned with the graph, each clone
            // taking its own reference) and have not left it: a node is only handed out
            // mutably by `get_mut`, which sets `owning`. Those nodes were just forgotten.
            unsafe { self.ledger.release_all() };
            return;
        }
        if !self.windowed {
            return;
        }
        let mut runs = super::Releaser::default();
        // One pass that also drops each node, rather than a pass for the windows and then the
        // vector's own: the nodes of a large graph are out of cache by now (measured: the
        // second walk was half of a 200k-string graph's drop). Nodes that own nothing are
        // matched out by name so that they cost no call into the drop glue. The ledger's
        // handles are among the nodes' and are given up with them.
        for node in self.nodes.drain(..) {
            match node {
                Node::Str(s) => s.release_into(&mut runs),
                Node::Bytes(b) | Node::ByteArray(b) => b.release_into(&mut runs),
                Node::None
                | Node::Bool(_)
                | Node::Int(_)
                | Node::Float(_)
                | Node::List(_)
                | Node::Tuple(_)
                | Node::Dict(_)
                | Node::Set(_)
                | Node::FrozenSet(_)
                | Node::PersId(_)
                | Node::Ext(_) => {}
                other => drop(other),
            }
        }
    }
}

/// Filler of arena slots a container owns but has not used yet; never read.
const HOLE: NodeId = NodeId(u32::MAX);

impl Slots {
    /// A range of arena indices below [`ARENA_MAX`], so each fits its `u32`.
    #[inline]
    fn new(start: usize, len: usize, cap: usize) -> Slots {
        Slots {
            start: start as u32,
            len: len as u32,
            cap: cap as u32,
        }
    }
}

/// The largest arena index a range may reach (ranges are `u32`).
const ARENA_MAX: usize = u32::MAX as usize - 1;

/// Items to append to an arena: a slice of them, or an iterator.
trait More<T> {
    fn len(&self) -> usize;
    fn push_onto(self, arena: &mut Vec<T>);
    fn write_into(self, slots: &mut [T]);
}

impl<T: Copy> More<T> for &[T] {
    #[inline]
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
    #[inline]
    fn push_onto(self, arena: &mut Vec<T>) {
        arena.extend_from_slice(self);
    }
    #[inline]
    fn write_into(self, slots: &mut [T]) {
        slots.copy_from_slice(self);
    }
}

/// An iterator of known length as [`More`].
struct Iter<I>(I);

impl<T, I: ExactSizeIterator<Item = T>> More<T> for Iter<I> {
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
    #[inline]
    fn push_onto(self, arena: &mut Vec<T>) {
        arena.extend(self.0);
    }
    #[inline]
    fn write_into(self, slots: &mut [T]) {
        for (slot, x) in slots.iter_mut().zip(self.0) {
            *slot = x;
        }
    }
}

/// Appends `more` to the range `r` of `arena`: into its own free slots when they suffice, in
/// place when the range ends the arena, else moved to the end with twice the room, so that
/// appending to several ranges in turn stays linear overall. `None` (nothing changed) when the
/// arena would outgrow `u32` indices.
#[inline]
///
/// The range is updated in place (`false`: the arena is full and nothing changed): returning
/// the new range by value made the caller reread it with wider loads than the stores that
/// wrote it, a store-forwarding stall measured at 60 % of APPENDS time (`perf annotate`).
fn append<T: Copy>(arena: &mut Vec<T>, r: &mut Slots, more: impl More<T>, hole: T) -> bool {
    let (start, len, cap) = (r.start as usize, r.len as usize, r.cap as usize);
    let need = len + more.len();
    if cap == 0 || start + cap == arena.len() {
        // The range owns nothing yet, or ends the arena: grow it at the end.
        let start = if cap == 0 { arena.len() } else { start };
        if start + need > ARENA_MAX {
            return false;
        }
        if cap != 0 {
            arena.truncate(start + len);
        }
        more.push_onto(arena);
        *r = Slots::new(start, need, need);
        return true;
    }
    if need <= cap {
        more.write_into(&mut arena[start + len..start + need]);
        *r = Slots::new(start, need, cap);
        return true;
    }
    let new_start = arena.len();
    let new_cap = need.max(2 * len);
    if new_start + new_cap > ARENA_MAX {
        return false;
    }
    arena.reserve(new_cap);
    arena.extend_from_within(start..start + len);
    more.push_onto(arena);
    arena.resize(new_start + new_cap, hole);
    *r = Slots::new(new_start, need, new_cap);
    true
}

/// The pairs of a flat run of ids (key, value, key, value, ...; an odd last id is ignored).
#[inline(always)]
fn pairs_of(flat: &[NodeId]) -> impl ExactSizeIterator<Item = (NodeId, NodeId)> + Clone + '_ {
    flat.chunks_exact(2).map(|kv| (kv[0], kv[1]))
}

/// The ids of `pairs`, flat (key, value, key, value, ...).
fn flatten(pairs: &[(NodeId, NodeId)]) -> Vec<NodeId> {
    pairs.iter().flat_map(|&(k, v)| [k, v]).collect()
}

/// The most atoms a graph codes (a code and its `atom_code` entry fit a byte).
const MAX_ATOMS: usize = u8::MAX as usize;

/// The code of `id` in `atom_code` (see [`PairArenas`]), `None` for a node that is no atom.
#[inline(always)]
fn code_of(atom_code: &[u8], id: NodeId) -> Option<u8> {
    match raw_code(atom_code, id) {
        NO_CODE => None,
        c => Some(c - 1),
    }
}

/// What `atom_code` holds for a node that is no atom.
const NO_CODE: u8 = 0;

/// `atom_code`'s entry for `id`: one more than its code, or [`NO_CODE`]. Without a branch
/// for the range check, so that a run of pairs codes in a straight loop.
#[inline(always)]
fn raw_code(atom_code: &[u8], id: NodeId) -> u8 {
    atom_code.get(id.index()).copied().unwrap_or(NO_CODE)
}

/// The pairs of a graph's dicts: one arena per [`PairForm`], and the atoms their codes
/// stand for.
#[derive(Clone, Default)]
struct PairArenas {
    /// Pairs by id.
    wide: Vec<(NodeId, NodeId)>,
    /// Pairs of atoms, as codes: two bytes a pair instead of eight (pyperformance's
    /// MICRO_DICT is mostly such dicts).
    packed: Vec<[u8; 2]>,
    /// Pairs of an atom key and any value: the key's code and the value's id
    /// (little-endian), five bytes a pair (`{0: [...], 1: [...]}`).
    keyed: Vec<[u8; 5]>,
    /// The atoms by code: nodes the decoder shares for every occurrence of a value (`None`,
    /// bools, small ints), at most [`MAX_ATOMS`].
    atoms: Vec<NodeId>,
    /// One more than the code of each atom by node index, 0 for any other node; as long as
    /// the highest atom's index needs.
    atom_code: Vec<u8>,
    /// Atoms are being registered (see [`Graph::start_coding_atoms`]).
    coding: bool,
}

impl PairArenas {
    #[inline]
    fn view(&self, pairs: Pairs) -> PairsRef<'_> {
        let Slots { start, len, .. } = pairs.slots;
        let range = start as usize..start as usize + len as usize;
        match pairs.form {
            PairForm::Wide => PairsRef::wide(self.wide.get(range).unwrap_or(&[])),
            PairForm::Atoms => PairsRef::packed(self.packed.get(range).unwrap_or(&[]), &self.atoms),
            PairForm::AtomKeys => {
                PairsRef::keyed(self.keyed.get(range).unwrap_or(&[]), &self.atoms)
            }
        }
    }

    #[inline]
    fn register_atom(&mut self, id: NodeId) {
        let i = id.index();
        if self.atoms.len() >= MAX_ATOMS || self.atom_code.get(i).is_some_and(|&c| c != 0) {
            return;
        }
        if self.atom_code.len() <= i {
            self.atom_code.resize(i + 1, 0);
        }
        self.atom_code[i] = self.atoms.len() as u8 + 1;
        self.atoms.push(id);
    }

    fn capacity_bytes(&self) -> usize {
        self.wide.capacity() * std::mem::size_of::<(NodeId, NodeId)>()
            + self.packed.capacity() * std::mem::size_of::<[u8; 2]>()
            + self.keyed.capacity() * std::mem::size_of::<[u8; 5]>()
            + self.atoms.capacity() * std::mem::size_of::<NodeId>()
            + self.atom_code.capacity()
    }

    fn len_bytes(&self) -> usize {
        self.wide.len() * std::mem::size_of::<(NodeId, NodeId)>()
            + self.packed.len() * std::mem::size_of::<[u8; 2]>()
            + self.keyed.len() * std::mem::size_of::<[u8; 5]>()
    }

    /// Appends the pairs `flat` holds (key, value, key, value, ...; an odd last id is
    /// ignored) to the dict range `r`, in the most compact form that all of the dict's pairs
    /// fit (see [`PairForm`]): a dict that stops fitting its form moves to a wider one, once.
    /// False, with nothing changed, when an arena would outgrow `u32` indices.
    #[inline]
    fn append(&mut self, r: &mut Pairs, flat: &[NodeId]) -> bool {
        if r.slots.cap == 0 && !self.atom_code.is_empty() {
            return self.append_fresh(r, flat);
        }
        if r.form == PairForm::Wide {
            return append(
                &mut self.wide,
                &mut r.slots,
                Iter(pairs_of(flat)),
                (HOLE, HOLE),
            );
        }
        self.append_coded(r, flat)
    }

    /// [`append`](Self::append) to a dict that owns no range yet (a new dict: the decoder's
    /// usual case), in one pass while the pairs fit: codes are written at the end of the
    /// arena as they are checked, and taken back if a pair does not fit.
    #[inline]
    fn append_fresh(&mut self, r: &mut Pairs, flat: &[NodeId]) -> bool {
        let n = flat.len() / 2;
        let codes = &self.atom_code;
        let start = self.packed.len();
        // The first pair decides whether trying is worth it; the rest are coded without a
        // branch per pair (most dicts of atoms are atoms throughout) and checked at the end.
        let first = match flat {
            [k, v, ..] => (code_of(codes, *k), code_of(codes, *v)),
            _ => (Some(0), Some(0)),
        };
        let mut keys_fit = first.0.is_some();
        if first.0.is_some() && first.1.is_some() && start + n <= ARENA_MAX {
            self.packed.resize(start + n, [0; 2]);
            let mut missing = 0u8;
            for (slot, kv) in self.packed[start..].iter_mut().zip(flat.chunks_exact(2)) {
                let (a, b) = (raw_code(codes, kv[0]), raw_code(codes, kv[1]));
                missing |= (a == NO_CODE) as u8 | ((b == NO_CODE) as u8) << 1;
                *slot = [a.wrapping_sub(1), b.wrapping_sub(1)];
            }
            keys_fit = missing & 1 == 0;
            if missing == 0 {
                *r = Pairs {
                    slots: Slots::new(start, n, n),
                    form: PairForm::Atoms,
                };
                return true;
            }
            self.packed.truncate(start);
        }
        let start = self.keyed.len();
        if keys_fit && start + n <= ARENA_MAX {
            self.keyed.resize(start + n, [0; 5]);
            let mut fit = true;
            for (slot, kv) in self.keyed[start..].iter_mut().zip(flat.chunks_exact(2)) {
                let &[k, v] = kv else { break };
                let Some(a) = code_of(codes, k) else {
                    fit = false;
                    break;
                };
                let [b, c, d, e] = v.0.to_le_bytes();
                *slot = [a, b, c, d, e];
            }
            if fit {
                *r = Pairs {
                    slots: Slots::new(start, n, n),
                    form: PairForm::AtomKeys,
                };
                return true;
            }
            self.keyed.truncate(start);
        }
        r.form = PairForm::Wide;
        append(
            &mut self.wide,
            &mut r.slots,
            Iter(pairs_of(flat)),
            (HOLE, HOLE),
        )
    }

    /// [`append`](Self::append) to a dict stored as codes.
    #[cold]
    fn append_coded(&mut self, r: &mut Pairs, flat: &[NodeId]) -> bool {
        let codes = &self.atom_code;
        let mut form = r.form;
        for (k, v) in pairs_of(flat) {
            if code_of(codes, k).is_none() {
                form = PairForm::Wide;
                break;
            }
            if form == PairForm::Atoms && code_of(codes, v).is_none() {
                form = PairForm::AtomKeys;
            }
        }
        if form == r.form {
            return self.push(r, pairs_of(flat));
        }
        // The dict moves to the wider form's arena, old pairs first.
        let old = self.view(*r).to_vec();
        let mut moved = Pairs {
            slots: Slots::default(),
            form,
        };
        if !self.push(&mut moved, old.iter().copied()) || !self.push(&mut moved, pairs_of(flat)) {
            return false;
        }
        *r = moved;
        true
    }

    /// Appends `more`, which fits `r`'s form, to `r`'s range of that form's arena.
    fn push(
        &mut self,
        r: &mut Pairs,
        more: impl ExactSizeIterator<Item = (NodeId, NodeId)>,
    ) -> bool {
        let codes = &self.atom_code;
        let code = |id| code_of(codes, id).unwrap_or(0);
        match r.form {
            PairForm::Wide => append(&mut self.wide, &mut r.slots, Iter(more), (HOLE, HOLE)),
            PairForm::Atoms => {
                let coded = more.map(|(k, v)| [code(k), code(v)]);
                append(&mut self.packed, &mut r.slots, Iter(coded), [0; 2])
            }
            PairForm::AtomKeys => {
                let coded = more.map(|(k, v)| {
                    let [a, b, c, d] = v.0.to_le_bytes();
                    [code(k), a, b, c, d]
                });
                append(&mut self.keyed, &mut r.slots, Iter(coded), [0; 5])
            }
        }
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Graph::default()
    }

    /// An empty graph with room for `n` nodes.
    pub fn with_capacity(n: usize) -> Self {
        Graph::with_capacities(n, 0, 0)
    }

    /// An empty graph with room for `nodes` nodes, `items` container items and `pairs` dict
    /// pairs.
    pub fn with_capacities(nodes: usize, items: usize, pairs: usize) -> Self {
        Graph {
            nodes: Vec::with_capacity(nodes),
            items: Vec::with_capacity(items),
            pairs: PairArenas {
                wide: Vec::with_capacity(pairs),
                ..PairArenas::default()
            },
            root: None,
            windowed: false,
            owning: false,
            ledger: Ledger::default(),
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
    pub(crate) fn add_with(&mut self, make: impl FnOnce() -> Node) -> NodeId {
        let (id, owning) = push_node(&mut self.nodes, make);
        if owning {
            self.owning = true;
        }
        id
    }

    /// Adds a str node of `src[start..start + len]` (checked by the caller to lie in the
    /// window and to be surrogatepass UTF-8; `utf8` as for [`PyStr`]), its handle counted in
    /// the ledger so that dropping the graph need not visit it. The caller sets
    /// [`windowed`](Self::windowed) once per window.
    #[inline(always)]
    pub(crate) fn add_window_str(
        &mut self,
        src: &mut WindowSource,
        start: usize,
        len: usize,
        utf8: bool,
    ) -> NodeId {
        let ledger = &mut self.ledger;
        // The handle is taken inside `make`, after the one check that can panic, so that a
        // recorded handle is always in a node.
        let (id, _) = push_node(&mut self.nodes, || {
            Node::Str(PyStr::from_window(ledger.handle(src), start, len, utf8))
        });
        id
    }

    /// [`add_window_str`](Self::add_window_str) for a bytes node.
    #[inline(always)]
    pub(crate) fn add_window_bytes(
        &mut self,
        src: &mut WindowSource,
        start: usize,
        len: usize,
    ) -> NodeId {
        let ledger = &mut self.ledger;
        let (id, _) = push_node(&mut self.nodes, || {
            Node::Bytes(Blob::from_window(ledger.handle(src), start, len))
        });
        if !Blob::window_fits(start, len) {
            // Boxed (see `Blob`): dropping must visit the node to free it.
            self.owning = true;
        }
        id
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
        // The node may be replaced or its payload moved out: dropping must visit every node.
        self.owning = true;
        &mut self.nodes[id.index()]
    }

    /// The items a list, tuple, set or frozenset node holds (empty for a range not of this
    /// graph).
    ///
    /// ```
    /// use brine::value::{Graph, Node};
    /// let g = brine::loads(b"\x80\x04]\x94(K\x01K\x02e.")?;
    /// let Node::List(items) = g.get(g.root().unwrap()) else { panic!() };
    /// assert_eq!(g.items(*items).len(), 2);
    /// # Ok::<(), brine::Error>(())
    /// ```
    #[inline]
    pub fn items(&self, items: Items) -> &[NodeId] {
        let Slots { start, len, .. } = items.0;
        let start = start as usize;
        self.items.get(start..start + len as usize).unwrap_or(&[])
    }

    /// The `(key, value)` pairs a dict node holds, in insertion order (empty for a range not
    /// of this graph).
    #[inline]
    pub fn pairs(&self, pairs: Pairs) -> PairsRef<'_> {
        self.pairs.view(pairs)
    }

    /// Makes `id` an atom: a node that stands for every occurrence of its value, so that a
    /// dict of atoms can keep them as one-byte codes (see [`PairsRef`]). Up to [`MAX_ATOMS`]
    /// atoms; later ones are kept as ordinary ids. Any node may be one: a code stands for the
    /// id, not the value, so nothing changes if the node is later changed.
    #[inline]
    pub(crate) fn register_atom(&mut self, id: NodeId) {
        self.pairs.register_atom(id)
    }

    /// True once [`start_coding_atoms`](Self::start_coding_atoms) ran: atoms are registered.
    #[inline(always)]
    pub(crate) fn coding_atoms(&self) -> bool {
        self.pairs.coding
    }

    /// Starts registering atoms (the decoder does so from its first dict on, so that a
    /// pickle without dicts makes no atom tables).
    pub(crate) fn start_coding_atoms(&mut self) {
        self.pairs.coding = true;
        if self.pairs.packed.capacity() == 0 {
            self.pairs.packed.reserve(2 * self.pairs.wide.capacity());
        }
    }

    /// The items of the node `id` when it is a list, tuple, set or frozenset.
    #[inline]
    pub fn seq(&self, id: NodeId) -> Option<&[NodeId]> {
        match self.try_get(id)? {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                Some(self.items(*v))
            }
            _ => None,
        }
    }

    /// The pairs of the node `id` when it is a dict.
    #[inline]
    pub fn dict_pairs(&self, id: NodeId) -> Option<PairsRef<'_>> {
        match self.try_get(id)? {
            Node::Dict(p) => Some(self.pairs(*p)),
            _ => None,
        }
    }

    /// Stores `items` in the arena, for a new container node (see [`Items`]).
    ///
    /// ```
    /// use brine::value::{Graph, Node};
    /// let mut g = Graph::new();
    /// let a = g.none(); // a placeholder, replaced to build `a = [a]`
    /// let items = g.new_items(&[a]);
    /// *g.get_mut(a) = Node::List(items);
    /// assert_eq!(g.seq(a), Some(&[a][..]));
    /// ```
    ///
    /// # Panics
    /// When the arena would hold more than `u32::MAX - 1` items.
    pub fn new_items(&mut self, items: &[NodeId]) -> Items {
        self.try_new_items(items)
            .expect("graph arena holds fewer than u32::MAX items")
    }

    /// Stores `pairs` in the arena, for a new dict node (see [`Pairs`]).
    ///
    /// # Panics
    /// When the arena would hold more than `u32::MAX - 1` pairs.
    pub fn new_pairs(&mut self, pairs: &[(NodeId, NodeId)]) -> Pairs {
        self.try_new_pairs(&flatten(pairs))
            .expect("graph arena holds fewer than u32::MAX pairs")
    }

    #[inline]
    pub(crate) fn try_new_items(&mut self, items: &[NodeId]) -> Option<Items> {
        let mut r = Items::default();
        append(&mut self.items, &mut r.0, items, HOLE).then_some(r)
    }

    #[inline]
    /// [`new_pairs`](Self::new_pairs) of the pairs `flat` holds (key, value, key, value,
    /// ...); `None` when the arena is full.
    pub(crate) fn try_new_pairs(&mut self, flat: &[NodeId]) -> Option<Pairs> {
        let mut r = Pairs::default();
        self.pairs.append(&mut r, flat).then_some(r)
    }

    /// Appends `more` to the list, tuple, set or frozenset `id` (a list's `extend`).
    /// False, with nothing changed, when `id` is no such node.
    ///
    /// # Panics
    /// When the arena would hold more than `u32::MAX - 1` items.
    pub fn extend_items(&mut self, id: NodeId, more: &[NodeId]) -> bool {
        self.try_extend_items(id, more)
            .expect("graph arena holds fewer than u32::MAX items")
    }

    /// Appends `more` to the dict `id` (keys are not merged: a pickle's repeated keys are
    /// kept in order, the last one wins in Python). False when `id` is not a dict.
    ///
    /// # Panics
    /// When the arena would hold more than `u32::MAX - 1` pairs.
    pub fn extend_pairs(&mut self, id: NodeId, more: &[(NodeId, NodeId)]) -> bool {
        self.try_extend_pairs(id, &flatten(more))
            .expect("graph arena holds fewer than u32::MAX pairs")
    }

    /// [`extend_items`](Self::extend_items); `None` when the arena is full.
    #[inline]
    pub(crate) fn try_extend_items(&mut self, id: NodeId, more: &[NodeId]) -> Option<bool> {
        let Some(Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v)) =
            self.nodes.get_mut(id.index())
        else {
            return Some(false);
        };
        append(&mut self.items, &mut v.0, more, HOLE).then_some(true)
    }

    /// Appends to a list only (APPEND / APPENDS); `Some(false)` for any other node, `None`
    /// when the arena is full. One lookup: the unpickler's hot path.
    #[inline]
    pub(crate) fn try_extend_list(&mut self, id: NodeId, more: &[NodeId]) -> Option<bool> {
        let Some(Node::List(v)) = self.nodes.get_mut(id.index()) else {
            return Some(false);
        };
        append(&mut self.items, &mut v.0, more, HOLE).then_some(true)
    }

    /// Adds to a set only (ADDITEMS), like [`try_extend_list`](Self::try_extend_list).
    #[inline]
    pub(crate) fn try_extend_set(&mut self, id: NodeId, more: &[NodeId]) -> Option<bool> {
        let Some(Node::Set(v)) = self.nodes.get_mut(id.index()) else {
            return Some(false);
        };
        append(&mut self.items, &mut v.0, more, HOLE).then_some(true)
    }

    /// [`extend_pairs`](Self::extend_pairs); `None` when the arena is full.
    #[inline]
    pub(crate) fn try_extend_pairs(&mut self, id: NodeId, flat: &[NodeId]) -> Option<bool> {
        let Some(Node::Dict(p)) = self.nodes.get_mut(id.index()) else {
            return Some(false);
        };
        self.pairs.append(p, flat).then_some(true)
    }

    /// Calls `f` on every node `node` (a node of this graph) refers to, in pickle order.
    pub fn for_each_child_of(&self, node: &Node, mut f: impl FnMut(NodeId)) {
        match node {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                self.items(*v).iter().copied().for_each(f)
            }
            Node::Dict(p) => {
                for (k, x) in self.pairs(*p) {
                    f(k);
                    f(x);
                }
            }
            Node::Global(g) => {
                if let Some((m, n)) = g.names {
                    f(m);
                    f(n);
                }
            }
            Node::Object(o) => {
                f(o.callable);
                f(o.args);
                if let Some(k) = o.kwargs {
                    f(k);
                }
                for &i in &o.list_items {
                    f(i);
                }
                for &(k, v) in &o.dict_items {
                    f(k);
                    f(v);
                }
                if let Some(s) = o.state_setter {
                    f(s);
                }
                if let Some(s) = o.state {
                    f(s);
                }
            }
            Node::PersId(p) => f(*p),
            _ => {}
        }
    }

    /// Calls `f` on every node the node `id` refers to, in pickle order.
    #[inline]
    pub fn for_each_child(&self, id: NodeId, f: impl FnMut(NodeId)) {
        if let Some(n) = self.try_get(id) {
            self.for_each_child_of(n, f);
        }
    }

    /// Bytes reserved by the graph's arenas: nodes, container items and dict pairs (`str` and
    /// `bytes` payloads not included). Items a container outgrew stay in the arena until the
    /// graph is dropped; appending keeps them below the live items' size.
    pub fn arena_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.items.capacity() * std::mem::size_of::<NodeId>()
            + self.pairs.capacity_bytes()
    }

    /// Bytes the dicts' pairs fill in the graph's arenas (spare capacity not included): 8 a
    /// pair by id, 2 a pair of atoms, 5 a pair with an atom key (see [`PairsRef`]).
    ///
    /// ```
    /// // `{0: None, 1: None}` (atoms) and `{'a': 1}` (a str key).
    /// let g = brine::loads(b"\x80\x04]\x94(}\x94(K\x00NK\x01Nu}\x94\x8c\x01a\x94K\x01se.")?;
    /// assert_eq!(g.pair_bytes(), 2 * 2 + 8);
    /// # Ok::<(), brine::Error>(())
    /// ```
    pub fn pair_bytes(&self) -> usize {
        self.pairs.len_bytes()
    }

    /// Nodes the graph has room for without growing.
    pub fn node_capacity(&self) -> usize {
        self.nodes.capacity()
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
        let items = self.new_items(&items);
        self.add(Node::List(items))
    }
    /// Adds a tuple.
    pub fn tuple(&mut self, items: Vec<NodeId>) -> NodeId {
        let items = self.new_items(&items);
        self.add(Node::Tuple(items))
    }
    /// Adds a dict.
    pub fn dict(&mut self, items: Vec<(NodeId, NodeId)>) -> NodeId {
        let pairs = self.new_pairs(&items);
        self.add(Node::Dict(pairs))
    }
    /// Adds a set.
    pub fn set(&mut self, items: Vec<NodeId>) -> NodeId {
        let items = self.new_items(&items);
        self.add(Node::Set(items))
    }
    /// Adds a frozenset.
    pub fn frozenset(&mut self, items: Vec<NodeId>) -> NodeId {
        let items = self.new_items(&items);
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
            self.for_each_child(id, |c| kids.push(c));
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
            self.for_each_child_of(nx, |c| ka.push(c));
            other.for_each_child_of(ny, |c| kb.push(c));
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
            let node = self.get(id);
            match node {
                Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                    let kind = match node {
                        Node::List(_) => "List",
                        Node::Tuple(_) => "Tuple",
                        Node::Set(_) => "Set",
                        _ => "FrozenSet",
                    };
                    writeln!(f, "  #{} = {kind}({:?})", id.0, self.items(*v))?
                }
                Node::Dict(p) => writeln!(f, "  #{} = Dict({:?})", id.0, self.pairs(*p))?,
                _ => writeln!(f, "  #{} = {:?}", id.0, node)?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::pystr::LIVE;
    use crate::{Limits, LoadOptions};

    fn live() -> isize {
        LIVE.with(|l| l.get())
    }

    /// The node arena steps up to just under glibc's mmap threshold before it doubles past
    /// it, so that a graph of up to that many nodes never takes a block that each decode
    /// maps and faults in afresh; beyond it, it doubles again.
    #[test]
    fn node_arena_stops_under_the_mmap_threshold() {
        let mut g = Graph::with_capacities(NODES_UNDER_MMAP / 2 + 1, 0, 0);
        let mut caps = vec![g.node_capacity()];
        for i in 0..NODES_UNDER_MMAP + 2 {
            g.int(i as i64);
            if g.node_capacity() != *caps.last().unwrap() {
                caps.push(g.node_capacity());
            }
        }
        assert_eq!(caps[1], NODES_UNDER_MMAP, "steps: {caps:?}");
        assert!(NODES_UNDER_MMAP * std::mem::size_of::<Node>() < 32 << 20);
        assert!(caps[2] >= 2 * NODES_UNDER_MMAP, "steps: {caps:?}");
    }

    /// A protocol-4 list of `n` strings and bytes of 31..=130 bytes (all windowed), each
    /// memoized, with `extra` before APPENDS and `end` after it.
    fn windowed_list(n: usize, extra: &[u8], end: &[u8]) -> Vec<u8> {
        let mut p = b"\x80\x04]\x94(".to_vec();
        for i in 0..n {
            let len = 31 + i % 100;
            p.push(if i % 4 == 0 { b'C' } else { 0x8c });
            p.push(len as u8);
            p.extend((0..len).map(|j| b'a' + ((i + j) % 26) as u8));
            p.push(0x94);
        }
        p.extend_from_slice(extra);
        p.push(b'e');
        p.extend_from_slice(end);
        p
    }

    fn payloads(g: &Graph) -> Vec<Vec<u8>> {
        g.nodes()
            .filter_map(|(_, n)| match n {
                Node::Str(s) => Some(s.as_bytes().to_vec()),
                Node::Bytes(b) => Some(b.as_bytes().to_vec()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_graph_of_counted_windows_gives_each_up_once_without_a_walk() {
        let before = live();
        // 6000 payloads of about 80 bytes: several windows.
        let data = windowed_list(6000, b"", b".");
        let g = crate::loads(&data).unwrap();
        assert!(!g.owning, "nothing but counted window handles");
        assert!(live() - before >= 5, "{} windows", live() - before);
        let want = payloads(&g);
        assert_eq!(want.len(), 6000);
        // Strings cloned out of the graph keep their windows alive after the graph's drop.
        let kept: Vec<Node> = g.nodes().step_by(7).map(|(_, n)| n.clone()).collect();
        drop(g);
        assert!(live() > before);
        for n in &kept {
            match n {
                Node::Str(s) => assert!(want.contains(&s.as_bytes().to_vec())),
                Node::Bytes(b) => assert!(want.contains(&b.as_bytes().to_vec())),
                _ => {}
            }
        }
        drop(kept);
        assert_eq!(live(), before);
    }

    #[test]
    fn a_clone_of_a_counted_graph_outlives_it() {
        let before = live();
        let data = windowed_list(3000, b"", b".");
        let g = crate::loads(&data).unwrap();
        let want = payloads(&g);
        let copy = g.clone();
        assert!(!copy.owning);
        drop(g);
        assert_eq!(payloads(&copy), want);
        let again = copy.clone();
        drop(copy);
        assert_eq!(payloads(&again), want);
        drop(again);
        assert_eq!(live(), before);
    }

    #[test]
    fn a_payload_moved_out_through_get_mut_makes_the_drop_walk() {
        let before = live();
        let data = windowed_list(3000, b"", b".");
        let mut g = crate::loads(&data).unwrap();
        let want = payloads(&g);
        let id = g
            .nodes()
            .find(|(_, n)| matches!(n, Node::Str(_)))
            .map(|(id, _)| id)
            .unwrap();
        let Node::Str(s) = std::mem::replace(g.get_mut(id), Node::None) else {
            unreachable!()
        };
        assert!(g.owning);
        drop(g);
        assert!(want.contains(&s.as_bytes().to_vec()));
        drop(s);
        assert_eq!(live(), before);
    }

    #[test]
    fn owning_nodes_beside_counted_windows_are_dropped_too() {
        let before = live();
        // A big int and a 2000-byte str (its own allocation) among windowed payloads.
        let mut extra = b"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01".to_vec();
        extra.push(b'X');
        extra.extend_from_slice(&2000u32.to_le_bytes());
        extra.extend(std::iter::repeat_n(b'z', 2000));
        let data = windowed_list(3000, &extra, b".");
        let g = crate::loads(&data).unwrap();
        assert!(g.owning);
        assert_eq!(payloads(&g).len(), 3001);
        drop(g);
        assert_eq!(live(), before);
    }

    #[test]
    fn failed_decodes_give_every_window_up() {
        let before = live();
        // Truncated after the windows were made.
        let data = windowed_list(3000, b"", b"");
        assert!(crate::loads(&data).is_err());
        assert!(crate::loads(&data[..data.len() / 2]).is_err());
        // The node limit reached at a windowed payload.
        let data = windowed_list(3000, b"", b".");
        for max_nodes in [1, 2, 100, 2999] {
            let opts = LoadOptions::new().limits(Limits {
                max_nodes,
                ..Limits::default()
            });
            assert!(crate::loads_with(&data, opts).is_err(), "{max_nodes}");
        }
        assert_eq!(live(), before);
    }

    #[test]
    fn windows_over_a_shared_input_are_counted_alike() {
        let before = live();
        let data = windowed_list(3000, b"", b".");
        let src: crate::value::SharedSource = std::sync::Arc::new(data.clone());
        let g = crate::loads_shared(src.clone(), LoadOptions::new()).unwrap();
        assert!(!g.owning);
        assert_eq!(live() - before, 1, "one window over the whole input");
        assert_eq!(payloads(&g), payloads(&crate::loads(&data).unwrap()));
        let kept: Vec<Node> = g.nodes().map(|(_, n)| n.clone()).collect();
        drop(g);
        drop(src);
        assert_eq!(kept.len(), 3001);
        drop(kept);
        assert_eq!(live(), before);
    }

    #[test]
    fn one_graph_of_several_pickles_counts_every_window() {
        let before = live();
        let one = windowed_list(2000, b"", b".");
        let stream: Vec<u8> = one.iter().chain(&one).chain(&one).copied().collect();
        let mut u = crate::Unpickler::new(&stream, LoadOptions::new());
        while u.load_next().unwrap().is_some() {
            u.clear_memo();
        }
        let g = u.into_graph();
        assert!(!g.owning);
        assert_eq!(payloads(&g).len(), 6000);
        drop(g);
        assert_eq!(live(), before);
    }
}
