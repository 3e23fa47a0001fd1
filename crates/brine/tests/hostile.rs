//! Hostile input for the machine and the writer together: each case ends in a clean value or a
//! typed error, quickly, never a crash or a runaway allocation.

mod common;

use brine::core::LimitKind;
use brine::value::Node;
use brine::{Category, DumpOptions, Limits, LoadOptions};

#[test]
fn two_million_deep_nested_lists() {
    let n = 2_000_000;
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b']', n));
    p.extend(std::iter::repeat_n(b'a', n - 1));
    p.push(b'.');
    let g = brine::loads(&p).expect("a deep but valid pickle decodes");
    // Walk down iteratively to check the depth.
    let mut id = g.root().unwrap();
    let mut depth = 1;
    while let Node::List(items) = g.get(id) {
        match g.items(*items).first() {
            Some(&c) => {
                id = c;
                depth += 1;
            }
            None => break,
        }
    }
    assert_eq!(depth, n);
    // Debug, equality and drop must not recurse either.
    assert!(g == g.clone());
    assert!(format!("{g:?}").len() > n);
    // Writing is bounded by max_depth: a typed error, not a stack overflow.
    let e = brine::dumps(&g).unwrap_err();
    assert_eq!(e.classify(), Category::Limit);
    assert_eq!(e.limit_kind(), Some(LimitKind::Depth));
    // With the depth limit lifted, the writer (iterative) succeeds and the result decodes again.
    let out =
        brine::dumps_with(&g, DumpOptions::new().protocol(4).limits(Limits::trusted())).unwrap();
    let again = brine::loads(&out).unwrap();
    assert!(again == g);
}

#[test]
fn deep_marks_hit_the_mark_limit() {
    let n = 200_000;
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'(', n));
    p.push(b'.');
    let e = brine::loads(&p).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::Marks), "{e}");
}

/// `BINGET i; BINGET i; TUPLE2; BINPUT i+1` × 60: 2^60 leaves if expanded.
fn memo_bomb(rounds: u32) -> Vec<u8> {
    let mut p = b"\x80\x02N".to_vec();
    p.extend_from_slice(b"r\x00\x00\x00\x00");
    for i in 0..rounds {
        p.push(b'j');
        p.extend_from_slice(&i.to_le_bytes());
        p.push(b'j');
        p.extend_from_slice(&i.to_le_bytes());
        p.push(0x86);
        p.push(b'r');
        p.extend_from_slice(&(i + 1).to_le_bytes());
    }
    p.push(b'.');
    p
}

#[test]
fn memo_bomb_decodes_quickly_and_reencodes_small() {
    let p = memo_bomb(60);
    let g = brine::loads(&p).unwrap();
    assert!(g.len() < 200, "graph has {} nodes", g.len());
    for proto in 0..=5 {
        let out = brine::dumps_with(&g, DumpOptions::new().protocol(proto)).unwrap();
        assert!(out.len() < 2000, "protocol {proto}: {} bytes", out.len());
        let again = brine::loads(&out).unwrap();
        assert!(again == g, "protocol {proto}: round trip changed the graph");
    }
}

#[test]
fn declared_lengths_of_2_pow_62_fail_as_eof_without_allocating() {
    for op in [0x8d_u8, 0x8e, 0x96] {
        let mut p = vec![0x80, 5, op];
        p.extend_from_slice(&(1u64 << 62).to_le_bytes());
        p.extend_from_slice(b"abc.");
        let e = brine::loads(&p).unwrap_err();
        assert_eq!(e.classify(), Category::Eof, "opcode {op:#x}: {e}");
    }
    let mut p = vec![0x80, 4, 0x95];
    p.extend_from_slice(&(1u64 << 62).to_le_bytes());
    p.extend_from_slice(b"N.");
    assert_eq!(brine::loads(&p).unwrap_err().classify(), Category::Eof);
}

#[test]
fn long_binput_at_2_pow_31_does_not_allocate() {
    let p = b"\x80\x02Nr\x00\x00\x00\x80j\x00\x00\x00\x80.";
    // Either accepted sparsely or refused by the memo-index limit; both are fine, quickly.
    match brine::loads(p) {
        Ok(g) => assert_eq!(g.get(g.root().unwrap()), &Node::None),
        Err(e) => assert_eq!(e.classify(), Category::Limit),
    }
    let strict = Limits {
        max_memo_index: 1000,
        ..Limits::default()
    };
    let e = brine::loads_with(p, LoadOptions::new().limits(strict)).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::MemoIndex));
}

#[test]
fn malformed_streams_give_their_errors() {
    let cases: &[(&[u8], Category, &str)] = &[
        (b"", Category::Eof, "ran out of input"),
        (
            b"\x80\x02\xff.",
            Category::Syntax,
            "invalid load key, '\\xff' at offset 2",
        ),
        (b"\x80\x02a.", Category::Data, "unpickling stack underflow"),
        (b"\x80\x02K\x01e.", Category::Syntax, "could not find MARK"),
        (
            b"\x80\x02}(K\x01u.",
            Category::Data,
            "odd number of items for SETITEMS",
        ),
        (
            b"\x80\x02h\x05.",
            Category::Data,
            "Memo value not found at index 5",
        ),
        (
            b"\x80\x06N.",
            Category::Unsupported,
            "unsupported pickle protocol: 6",
        ),
        (b"\x80\x02N", Category::Eof, "pickle data was truncated"),
    ];
    for (p, cat, msg) in cases {
        let e = brine::loads(p).unwrap_err();
        assert_eq!(e.classify(), *cat, "{p:?}: {e}");
        assert!(
            e.to_string().contains(msg),
            "{p:?}: {e:?} does not say {msg:?}"
        );
    }
}
