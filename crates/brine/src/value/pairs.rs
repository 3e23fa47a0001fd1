//! A dict's pairs as read from a graph: a slice of node id pairs, or packed atom codes.

use std::fmt;
use std::iter::FusedIterator;

use super::node::NodeId;

/// The `(key, value)` pairs of a dict, in insertion order, as [`Graph::pairs`] gives them.
///
/// A graph stores the keys and values that are atoms (`None`, bools and small ints, which a
/// decoded graph shares) as one byte each instead of a 4-byte id, when every key of the dict
/// (or every key and value) is one: on pyperformance's MICRO_DICT (`{0: None, ..., 9: None}`
/// a hundred times over) that cuts the pairs to a quarter. So the pairs are read by value,
/// not borrowed as a slice.
///
/// ```
/// use brine::value::Node;
/// let g = brine::loads(b"\x80\x04}\x94(K\x01NK\x02\x88u.")?;
/// let Node::Dict(d) = g.get(g.root().unwrap()) else { panic!() };
/// let pairs = g.pairs(*d);
/// assert_eq!(pairs.len(), 2);
/// let (k, v) = pairs.get(1).unwrap();
/// assert_eq!((g.get(k), g.get(v)), (&Node::Int(2), &Node::Bool(true)));
/// for (k, v) in pairs {
///     assert!(matches!(g.get(k), Node::Int(_)) && g.try_get(v).is_some());
/// }
/// # Ok::<(), brine::Error>(())
/// ```
///
/// [`Graph::pairs`]: super::Graph::pairs
#[derive(Clone, Copy)]
pub struct PairsRef<'g>(Repr<'g>);

#[derive(Clone, Copy)]
enum Repr<'g> {
    Wide(&'g [(NodeId, NodeId)]),
    /// Codes, and the atom ids they stand for (`atoms[code]`).
    Packed(&'g [[u8; 2]], &'g [NodeId]),
    /// A key's code and a value's id (little-endian), and the atoms.
    Keyed(&'g [[u8; 5]], &'g [NodeId]),
}

/// The pair a keyed entry stands for.
#[inline(always)]
fn keyed(atoms: &[NodeId], &[k, a, b, c, d]: &[u8; 5]) -> (NodeId, NodeId) {
    (atom(atoms, k), NodeId(u32::from_le_bytes([a, b, c, d])))
}

/// The id a code stands for; a code without an atom (never stored) reads as the first atom
/// rather than panicking.
#[inline(always)]
fn atom(atoms: &[NodeId], code: u8) -> NodeId {
    atoms
        .get(code as usize)
        .or(atoms.first())
        .copied()
        .unwrap_or(NodeId(u32::MAX))
}

impl<'g> PairsRef<'g> {
    /// Pairs stored by id.
    #[inline]
    pub(crate) fn wide(pairs: &'g [(NodeId, NodeId)]) -> Self {
        PairsRef(Repr::Wide(pairs))
    }

    /// Pairs stored as codes of `atoms`.
    #[inline]
    pub(crate) fn packed(codes: &'g [[u8; 2]], atoms: &'g [NodeId]) -> Self {
        PairsRef(Repr::Packed(codes, atoms))
    }

    /// Pairs stored as key codes of `atoms` and value ids.
    #[inline]
    pub(crate) fn keyed(entries: &'g [[u8; 5]], atoms: &'g [NodeId]) -> Self {
        PairsRef(Repr::Keyed(entries, atoms))
    }

    /// Number of pairs.
    #[inline]
    pub fn len(&self) -> usize {
        match self.0 {
            Repr::Wide(p) => p.len(),
            Repr::Packed(c, _) => c.len(),
            Repr::Keyed(e, _) => e.len(),
        }
    }

    /// True when there are no pairs.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pair at `index`, if there is one.
    #[inline]
    pub fn get(&self, index: usize) -> Option<(NodeId, NodeId)> {
        match self.0 {
            Repr::Wide(p) => p.get(index).copied(),
            Repr::Packed(c, atoms) => c.get(index).map(|&[k, v]| (atom(atoms, k), atom(atoms, v))),
            Repr::Keyed(e, atoms) => e.get(index).map(|e| keyed(atoms, e)),
        }
    }

    /// The pairs in order.
    #[inline]
    pub fn iter(&self) -> PairIter<'g> {
        PairIter(match self.0 {
            Repr::Wide(p) => IterRepr::Wide(p.iter()),
            Repr::Packed(c, atoms) => IterRepr::Packed(c.iter(), atoms),
            Repr::Keyed(e, atoms) => IterRepr::Keyed(e.iter(), atoms),
        })
    }

    /// The pairs as a slice when they are stored by id (`None` when packed).
    #[inline]
    pub fn as_slice(&self) -> Option<&'g [(NodeId, NodeId)]> {
        match self.0 {
            Repr::Wide(p) => Some(p),
            Repr::Packed(..) | Repr::Keyed(..) => None,
        }
    }

    /// The pairs, collected.
    pub fn to_vec(&self) -> Vec<(NodeId, NodeId)> {
        self.iter().collect()
    }

    /// The pairs from `index` on (empty past the end).
    #[inline]
    pub fn skip_to(&self, index: usize) -> PairsRef<'g> {
        PairsRef(match self.0 {
            Repr::Wide(p) => Repr::Wide(p.get(index..).unwrap_or(&[])),
            Repr::Packed(c, atoms) => Repr::Packed(c.get(index..).unwrap_or(&[]), atoms),
            Repr::Keyed(e, atoms) => Repr::Keyed(e.get(index..).unwrap_or(&[]), atoms),
        })
    }
}

impl Default for PairsRef<'_> {
    fn default() -> Self {
        PairsRef::wide(&[])
    }
}

impl<'g> From<&'g [(NodeId, NodeId)]> for PairsRef<'g> {
    #[inline]
    fn from(pairs: &'g [(NodeId, NodeId)]) -> Self {
        PairsRef::wide(pairs)
    }
}

impl<'g> From<&'g Vec<(NodeId, NodeId)>> for PairsRef<'g> {
    #[inline]
    fn from(pairs: &'g Vec<(NodeId, NodeId)>) -> Self {
        PairsRef::wide(pairs)
    }
}

impl<'g> IntoIterator for PairsRef<'g> {
    type Item = (NodeId, NodeId);
    type IntoIter = PairIter<'g>;
    #[inline]
    fn into_iter(self) -> PairIter<'g> {
        self.iter()
    }
}

impl<'g> IntoIterator for &PairsRef<'g> {
    type Item = (NodeId, NodeId);
    type IntoIter = PairIter<'g>;
    #[inline]
    fn into_iter(self) -> PairIter<'g> {
        self.iter()
    }
}

/// Equal when they hold the same pairs in the same order, however stored.
impl PartialEq for PairsRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for PairsRef<'_> {}

impl PartialEq<[(NodeId, NodeId)]> for PairsRef<'_> {
    fn eq(&self, other: &[(NodeId, NodeId)]) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter().copied())
    }
}

impl<const N: usize> PartialEq<[(NodeId, NodeId); N]> for PairsRef<'_> {
    fn eq(&self, other: &[(NodeId, NodeId); N]) -> bool {
        *self == other[..]
    }
}

impl fmt::Debug for PairsRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The iterator of [`PairsRef`]: pairs by value, from either end.
#[derive(Clone)]
pub struct PairIter<'g>(IterRepr<'g>);

#[derive(Clone)]
enum IterRepr<'g> {
    Wide(std::slice::Iter<'g, (NodeId, NodeId)>),
    Packed(std::slice::Iter<'g, [u8; 2]>, &'g [NodeId]),
    Keyed(std::slice::Iter<'g, [u8; 5]>, &'g [NodeId]),
}

impl Iterator for PairIter<'_> {
    type Item = (NodeId, NodeId);

    #[inline]
    fn next(&mut self) -> Option<(NodeId, NodeId)> {
        match &mut self.0 {
            IterRepr::Wide(it) => it.next().copied(),
            IterRepr::Packed(it, atoms) => {
                it.next().map(|&[k, v]| (atom(atoms, k), atom(atoms, v)))
            }
            IterRepr::Keyed(it, atoms) => it.next().map(|e| keyed(atoms, e)),
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.0 {
            IterRepr::Wide(it) => it.len(),
            IterRepr::Packed(it, _) => it.len(),
            IterRepr::Keyed(it, _) => it.len(),
        };
        (n, Some(n))
    }
}

impl DoubleEndedIterator for PairIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<(NodeId, NodeId)> {
        match &mut self.0 {
            IterRepr::Wide(it) => it.next_back().copied(),
            IterRepr::Packed(it, atoms) => it
                .next_back()
                .map(|&[k, v]| (atom(atoms, k), atom(atoms, v))),
            IterRepr::Keyed(it, atoms) => it.next_back().map(|e| keyed(atoms, e)),
        }
    }
}

impl ExactSizeIterator for PairIter<'_> {}
impl FusedIterator for PairIter<'_> {}

impl fmt::Debug for PairIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}
