//! The unpickler's memo: index → [`NodeId`], dense `Vec` for the indices picklers write and a
//! `HashMap` for sparse ones, so that a claimed index never sizes an allocation.

use std::collections::HashMap;

use brine_core::{Error, LimitKind, Limits, Result};

use crate::value::NodeId;

const EMPTY: u32 = u32::MAX;

/// How far past the dense end a PUT may land and still grow the dense part. The dense part
/// also stays at most half empty, so its size follows the entries actually stored, never a
/// claimed index (CVE-2018-20406 was a resize to one).
const DENSE_SLACK: u64 = 1024;

#[derive(Debug, Default)]
pub(crate) struct Memo {
    dense: Vec<u32>,
    sparse: HashMap<u64, NodeId>,
    /// Entries set (CPython's `memo_len`, which MEMOIZE uses as the next index).
    count: usize,
    /// While `count` is below this, a put of index `count` is a plain push onto `dense`: the
    /// dense part is full up to `count`, nothing is sparse, the push needs no growth and no
    /// limit is reached. Recomputed by every [`put`](Self::put) (0: take `put`), so the fast
    /// path is one comparison instead of six.
    fast_end: usize,
}

impl Memo {
    /// An empty memo with dense room for `n` entries (sized from real input, never a claim).
    pub(crate) fn with_capacity(n: usize) -> Memo {
        Memo {
            dense: Vec::with_capacity(n),
            ..Memo::default()
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The entry at `idx` when it is in the dense part (the fast path of [`get`](Self::get)).
    #[inline(always)]
    pub(crate) fn get_dense(&self, idx: usize) -> Option<NodeId> {
        match self.dense.get(idx) {
            Some(&v) if v != EMPTY => Some(NodeId(v)),
            _ => None,
        }
    }

    /// [`put`](Self::put) of the next dense index when that needs no growth, no sparse entry
    /// and no limit error (the common MEMOIZE / BINPUT): false when `put` must run instead.
    /// Same result as `put` whenever it returns true.
    #[inline(always)]
    pub(crate) fn try_put_next(&mut self, idx: u64, id: NodeId) -> bool {
        let n = self.count;
        if idx == n as u64 && n < self.fast_end {
            self.dense.push(id.0);
            self.count = n + 1;
            true
        } else {
            false
        }
    }

    #[inline]
    pub(crate) fn get(&self, idx: u64) -> Option<NodeId> {
        if let Some(&v) = self.dense.get(idx as usize) {
            if v != EMPTY {
                return Some(NodeId(v));
            }
        }
        if self.sparse.is_empty() {
            return None;
        }
        self.sparse.get(&idx).copied()
    }

    #[inline]
    pub(crate) fn put(&mut self, idx: u64, id: NodeId, limits: &Limits) -> Result<()> {
        let r = self.put_inner(idx, id, limits);
        self.fast_end = if self.sparse.is_empty() && self.dense.len() == self.count {
            let index_end =
                usize::try_from(limits.max_memo_index.saturating_add(1)).unwrap_or(usize::MAX);
            self.dense
                .capacity()
                .min(limits.max_memo_entries)
                .min(index_end)
        } else {
            0
        };
        r
    }

    #[inline]
    fn put_inner(&mut self, idx: u64, id: NodeId, limits: &Limits) -> Result<()> {
        let len = self.dense.len() as u64;
        if idx < len {
            if self.dense[idx as usize] == EMPTY
                && (self.sparse.is_empty() || self.sparse.remove(&idx).is_none())
            {
                self.grow_count(limits)?;
            }
            self.dense[idx as usize] = id.0;
            return Ok(());
        }
        if idx > limits.max_memo_index {
            return Err(Error::limit(LimitKind::MemoIndex));
        }
        if idx < len + DENSE_SLACK && idx < 2 * self.count as u64 + DENSE_SLACK {
            if self.sparse.is_empty() || self.sparse.remove(&idx).is_none() {
                self.grow_count(limits)?;
            }
            if idx != len {
                self.dense.resize(idx as usize, EMPTY);
            }
            self.dense.push(id.0);
            return Ok(());
        }
        if self.sparse.insert(idx, id).is_none() {
            self.grow_count(limits)?;
        }
        Ok(())
    }

    #[inline]
    fn grow_count(&mut self, limits: &Limits) -> Result<()> {
        if self.count >= limits.max_memo_entries {
            return Err(Error::limit(LimitKind::MemoEntries));
        }
        self.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse() {
        let l = Limits::default();
        let mut m = Memo::default();
        m.put(0, NodeId(7), &l).unwrap();
        m.put(1, NodeId(8), &l).unwrap();
        m.put(1 << 31, NodeId(9), &l).unwrap();
        assert!(m.dense.capacity() < 1 << 20);
        assert_eq!(m.get(0), Some(NodeId(7)));
        assert_eq!(m.get(1 << 31), Some(NodeId(9)));
        assert_eq!(m.get(5), None);
        m.put(1, NodeId(3), &l).unwrap();
        assert_eq!(m.len(), 3);
        let e = m.put((1 << 31) + 1, NodeId(1), &l).unwrap_err();
        assert_eq!(e.limit_kind(), Some(LimitKind::MemoIndex));
        let tight = Limits {
            max_memo_entries: 3,
            ..Limits::default()
        };
        let e = m.put(2, NodeId(1), &tight).unwrap_err();
        assert_eq!(e.limit_kind(), Some(LimitKind::MemoEntries));
    }

    #[test]
    fn the_fast_put_stops_where_put_would_differ() {
        // Entries limit: the fast path takes entries 1 and 2 only; `put` then refuses.
        let tight = Limits {
            max_memo_entries: 3,
            ..Limits::default()
        };
        let mut m = Memo::with_capacity(64);
        assert!(
            !m.try_put_next(0, NodeId(0)),
            "nothing known before the first put"
        );
        m.put(0, NodeId(0), &tight).unwrap();
        assert!(m.try_put_next(1, NodeId(1)));
        assert!(!m.try_put_next(3, NodeId(3)), "not the next index");
        assert!(m.try_put_next(2, NodeId(2)));
        assert!(!m.try_put_next(3, NodeId(3)));
        let e = m.put(3, NodeId(3), &tight).unwrap_err();
        assert_eq!(e.limit_kind(), Some(LimitKind::MemoEntries));
        assert_eq!(m.get(2), Some(NodeId(2)));
        // Index limit.
        let low = Limits {
            max_memo_index: 1,
            ..Limits::default()
        };
        let mut m = Memo::with_capacity(64);
        m.put(0, NodeId(0), &low).unwrap();
        assert!(m.try_put_next(1, NodeId(1)));
        assert!(!m.try_put_next(2, NodeId(2)));
        // Capacity: the fast path never grows the dense part.
        let l = Limits::default();
        let mut m = Memo::with_capacity(2);
        m.put(0, NodeId(0), &l).unwrap();
        let cap = m.dense.capacity();
        while m.try_put_next(m.len() as u64, NodeId(9)) {}
        assert_eq!(m.len(), cap);
        assert_eq!(m.dense.capacity(), cap);
        // A sparse entry sends every put to `put`.
        m.put(1 << 20, NodeId(5), &l).unwrap();
        assert!(!m.try_put_next(m.len() as u64, NodeId(6)));
        assert_eq!(m.get(1 << 20), Some(NodeId(5)));
    }
}
