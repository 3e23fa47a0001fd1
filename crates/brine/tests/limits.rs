//! Every limit of `Limits`, in the style of ciborium's `tests/recursion.rs`: the input just
//! under the limit passes, the input just over it fails with that limit's typed error.

use brine::core::LimitKind;
use brine::value::Graph;
use brine::{Category, DumpOptions, Limits, LoadOptions};

fn load(p: &[u8], limits: Limits) -> brine::Result<Graph> {
    brine::loads_with(p, LoadOptions::new().limits(limits))
}

/// Asserts `make(n)` loads under `at(n)` and fails with `kind` under `at(n - 1)`.
fn edge(kind: LimitKind, p: &[u8], ok: Limits, over: Limits) {
    if let Err(e) = load(p, ok) {
        panic!("{kind:?}: just under the limit failed: {e}");
    }
    let e = load(p, over).expect_err("just over the limit passed");
    assert_eq!(e.classify(), Category::Limit, "{kind:?}: {e}");
    assert_eq!(e.limit_kind(), Some(kind), "{e}");
    assert!(e.to_string().contains(kind.name()), "{e}");
}

fn with(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

#[test]
fn nodes() {
    // A list of 100 distinct ints above the shared small ints: 101 nodes.
    let mut p = b"\x80\x02](".to_vec();
    for i in 1000u16..1100 {
        p.push(b'M');
        p.extend_from_slice(&i.to_le_bytes());
    }
    p.extend_from_slice(b"e.");
    edge(
        LimitKind::Nodes,
        &p,
        with(|l| l.max_nodes = 101),
        with(|l| l.max_nodes = 100),
    );
    // None, bools and small ints are one node each however often they occur.
    let mut p = b"\x80\x02](".to_vec();
    p.extend(std::iter::repeat_n(b'N', 1000));
    p.extend_from_slice(b"K\x05K\x05\x88\x88e.");
    let g = load(&p, Limits::default()).unwrap();
    assert_eq!(g.len(), 4);
}

#[test]
fn stack() {
    // The list and its 100 items are on the stack at once.
    let mut p = b"\x80\x02](".to_vec();
    p.extend(std::iter::repeat_n(b'N', 100));
    p.extend_from_slice(b"e.");
    edge(
        LimitKind::Stack,
        &p,
        with(|l| l.max_stack = 101),
        with(|l| l.max_stack = 100),
    );
}

#[test]
fn marks() {
    // 50 nested one-tuples built with MARK ... TUPLE.
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'(', 50));
    p.push(b'N');
    p.extend(std::iter::repeat_n(b't', 50));
    p.push(b'.');
    edge(
        LimitKind::Marks,
        &p,
        with(|l| l.max_marks = 50),
        with(|l| l.max_marks = 49),
    );
}

#[test]
fn memo_entries() {
    let mut p = b"\x80\x04".to_vec();
    for _ in 0..64 {
        p.extend_from_slice(b"N\x94");
    }
    p.push(b'.');
    edge(
        LimitKind::MemoEntries,
        &p,
        with(|l| l.max_memo_entries = 64),
        with(|l| l.max_memo_entries = 63),
    );
}

#[test]
fn memo_index() {
    let idx: u32 = 1_000_000;
    let mut p = b"\x80\x02Nr".to_vec();
    p.extend_from_slice(&idx.to_le_bytes());
    p.push(b'.');
    edge(
        LimitKind::MemoIndex,
        &p,
        with(|l| l.max_memo_index = idx as u64),
        with(|l| l.max_memo_index = idx as u64 - 1),
    );
}

#[test]
fn line() {
    // INT with a 40-character line.
    let mut p = b"I".to_vec();
    p.extend(std::iter::repeat_n(b'7', 40));
    p.extend_from_slice(b"\n.");
    edge(
        LimitKind::Line,
        &p,
        with(|l| l.max_line = 40),
        with(|l| l.max_line = 39),
    );
    // An unterminated line is cut at the limit, not read to the end of the input.
    let mut p = b"S'".to_vec();
    p.extend(std::iter::repeat_n(b'a', 100_000));
    let e = load(&p, with(|l| l.max_line = 1000)).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::Line));
}

#[test]
fn int_digits() {
    let mut p = b"L".to_vec();
    p.extend(std::iter::repeat_n(b'9', 500));
    p.extend_from_slice(b"L\n.");
    edge(
        LimitKind::IntDigits,
        &p,
        with(|l| l.max_int_digits = 500),
        with(|l| l.max_int_digits = 499),
    );
}

#[test]
fn alloc() {
    // 300 payload bytes: a 100-byte str and a 200-byte bytes.
    let mut p = b"\x80\x03X\x64\x00\x00\x00".to_vec();
    p.extend(std::iter::repeat_n(b'x', 100));
    p.extend_from_slice(b"B\xc8\x00\x00\x00");
    p.extend(std::iter::repeat_n(b'y', 200));
    p.extend_from_slice(b"\x86.");
    edge(
        LimitKind::Alloc,
        &p,
        with(|l| l.max_alloc = 300),
        with(|l| l.max_alloc = 299),
    );
}

fn nested(depth: usize) -> Graph {
    let mut g = Graph::new();
    let mut id = g.list(vec![]);
    for _ in 1..depth {
        id = g.list(vec![id]);
    }
    g.set_root(id);
    g
}

#[test]
fn depth_of_writing() {
    // The writer walks with an explicit stack; max_depth bounds how many containers it is
    // inside at once (the innermost, empty list has nothing to enter).
    let g = nested(1000);
    let limits = |d| DumpOptions::new().limits(with(|l| l.max_depth = d));
    assert!(brine::dumps_with(&g, limits(999)).is_ok());
    let e = brine::dumps_with(&g, limits(998)).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::Depth), "{e}");
}

#[test]
fn trusted_lifts_every_limit() {
    let t = Limits::trusted();
    let mut p = b"\x80\x02](".to_vec();
    p.extend(std::iter::repeat_n(b'N', 100));
    p.extend_from_slice(b"e.");
    assert!(load(&p, t.clone()).is_ok());
    assert_eq!(t.max_nodes, usize::MAX);
    assert_eq!(t.max_memo_index, u64::MAX);
    assert!(brine::dumps_with(&nested(20_000), DumpOptions::new().limits(t)).is_ok());
    let e = brine::dumps(&nested(20_000)).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::Depth));
}
