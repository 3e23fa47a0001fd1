//! Dict pairs stored compactly: atoms-only dicts as one-byte codes, atom-keyed dicts as a code
//! and an id, the rest by id; a dict that stops fitting its form moves, and every form reads
//! back, compares and pickles exactly like the pairs it holds.

mod common {
    // This file uses `dumps` only.
    #[allow(dead_code)]
    pub mod python;
}

use brine::value::{Graph, Node, NodeId};

/// Python's repr of a value (dicts in order), to compare graphs with what was pickled.
fn repr(g: &Graph, id: NodeId) -> String {
    brine::show::repr(g, id, &Default::default())
}

/// The form a dict's pairs are stored in, as [`brine::value::PairsRef::as_slice`] and the
/// arena sizes show it: by id, or packed.
fn by_id(g: &Graph, id: NodeId) -> bool {
    g.dict_pairs(id).unwrap().as_slice().is_some()
}

/// `EMPTY_DICT MEMOIZE`, then one `MARK pairs SETITEMS` per batch, `.`; each item is the
/// opcodes of one value.
fn batches(batches: &[&[&[u8]]]) -> Vec<u8> {
    let mut p = b"\x80\x04}\x94".to_vec();
    for batch in batches {
        p.push(b'(');
        for item in *batch {
            p.extend_from_slice(item);
        }
        p.push(b'u');
    }
    p.push(b'.');
    p
}

#[test]
fn each_form_reads_back_as_written() {
    let cases = [
        // Atoms only: small ints, None, bools.
        ("{0: None, 1: None, 2: None}", Some(false)),
        ("{True: False, None: -5, 256: 0}", Some(false)),
        // Atom keys, other values.
        ("{0: [1], 1: 'x', 2: 300}", Some(false)),
        // Other keys.
        ("{'a': 1, 'b': None}", Some(true)),
        ("{300: None}", Some(true)),
        // The empty dict's form does not matter.
        ("{}", None),
    ];
    let exprs: Vec<(String, u8)> = cases
        .iter()
        .flat_map(|(e, _)| (0..=5).map(move |p| (format!("v = {e}"), p)))
        .collect();
    let Some(pickles) = common::python::dumps(&exprs) else {
        eprintln!("python3 not found: skipped each_form_reads_back_as_written");
        return;
    };
    for (((code, protocol), data), (expr, wide)) in exprs
        .iter()
        .zip(&pickles)
        .zip(cases.iter().flat_map(|c| std::iter::repeat_n(c, 6)))
    {
        let g = brine::loads(data).unwrap();
        let root = g.root().unwrap();
        assert_eq!(repr(&g, root), *expr, "{code}");
        if let Some(wide) = wide {
            assert_eq!(by_id(&g, root), *wide, "{code} at protocol {protocol}");
        }
        let again = brine::dumps_with(&g, brine::DumpOptions::new().protocol(*protocol)).unwrap();
        assert_eq!(&again, data, "{code} at protocol {protocol}");
    }
}

#[test]
fn a_dict_that_stops_fitting_its_form_moves_once() {
    // {1: None, 2: None} (atoms), then 3: 'x' (atom key), then 'k': 4 (str key), then atoms
    // again: each batch keeps the order, and the final form is by id.
    let data = batches(&[
        &[b"K\x01", b"N", b"K\x02", b"N"],
        &[b"K\x03", b"\x8c\x01x"],
        &[b"\x8c\x01k", b"K\x04"],
        &[b"K\x05", b"N"],
    ]);
    let g = brine::loads(&data).unwrap();
    let root = g.root().unwrap();
    assert_eq!(
        repr(&g, root),
        "{1: None, 2: None, 3: 'x', 'k': 4, 5: None}"
    );
    assert!(by_id(&g, root));
    // Stopped after each batch: the form of each prefix.
    let forms = [
        (1, "{1: None, 2: None}", false),
        (2, "{1: None, 2: None, 3: 'x'}", false),
        (3, "{1: None, 2: None, 3: 'x', 'k': 4}", true),
    ];
    for (n, want, wide) in forms {
        let all: [&[&[u8]]; 3] = [
            &[b"K\x01", b"N", b"K\x02", b"N"],
            &[b"K\x03", b"\x8c\x01x"],
            &[b"\x8c\x01k", b"K\x04"],
        ];
        let g = brine::loads(&batches(&all[..n])).unwrap();
        let root = g.root().unwrap();
        assert_eq!(repr(&g, root), want);
        assert_eq!(by_id(&g, root), wide, "{want}");
    }
    // SETITEM one pair at a time goes through the same moves.
    let one_by_one = b"\x80\x04}\x94K\x01Ns\x8c\x01xK\x02sK\x03Ns.";
    let g = brine::loads(one_by_one).unwrap();
    assert_eq!(repr(&g, g.root().unwrap()), "{1: None, 'x': 2, 3: None}");
}

#[test]
fn more_atoms_than_codes() {
    // 262 small ints and None, True, False: more atoms than one-byte codes. The atoms past
    // the codes are kept by id, so their dicts are too, and nothing is lost.
    let expr = "v = {**{i: None for i in range(-5, 257)}, None: True, 'x': False}";
    let Some(pickles) = common::python::dumps(&[(expr.to_string(), 4), (expr.to_string(), 2)])
    else {
        eprintln!("python3 not found: skipped more_atoms_than_codes");
        return;
    };
    for (data, protocol) in pickles.iter().zip([4, 2]) {
        let g = brine::loads(data).unwrap();
        let root = g.root().unwrap();
        let pairs = g.dict_pairs(root).unwrap();
        assert_eq!(pairs.len(), 264);
        let ints: Vec<i64> = pairs
            .iter()
            .take(262)
            .map(|(k, v)| {
                assert_eq!(g.get(v), &Node::None);
                match g.get(k) {
                    Node::Int(i) => *i,
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        assert_eq!(ints, (-5..257).collect::<Vec<_>>());
        assert_eq!(
            pairs
                .iter()
                .skip(262)
                .map(|(k, v)| (g.get(k).clone(), g.get(v).clone()))
                .collect::<Vec<_>>(),
            [
                (Node::None, Node::Bool(true)),
                (Node::Str("x".into()), Node::Bool(false))
            ]
        );
        let again = brine::dumps_with(&g, brine::DumpOptions::new().protocol(protocol)).unwrap();
        assert_eq!(&again, data);
    }
}

#[test]
fn atom_dicts_take_two_bytes_a_pair() {
    // pyperformance's MICRO_DICT shape: {i: {0: None, ..., 9: None}} for 100 keys, and the
    // same again under other keys. By id, its 1,100 pairs would take 8,800 bytes.
    let Some(data) = common::python::dumps(&[(
        "v = [dict((key, dict.fromkeys(range(10))) for key in range(100)) for _ in range(3)]"
            .to_string(),
        4,
    )]) else {
        eprintln!("python3 not found: skipped atom_dicts_take_two_bytes_a_pair");
        return;
    };
    let data = &data[0];
    let g = brine::loads(data).unwrap();
    // Per copy: 1,000 pairs of atoms (2 bytes) and 100 atom keys with dict values (5 bytes).
    assert_eq!(g.pair_bytes(), 3 * (1000 * 2 + 100 * 5));
    assert_eq!(&brine::dumps(&g).unwrap(), data);
}

#[test]
fn api_changes_to_a_packed_dict() {
    let g0 = brine::loads(b"\x80\x04}\x94(K\x01NK\x02Nu.").unwrap();
    let mut g = g0.clone();
    let root = g.root().unwrap();
    assert!(!by_id(&g, root));
    // Extending with a list value moves the dict; the old pairs come first.
    let list = g.list(vec![]);
    let (one, _) = g.dict_pairs(root).unwrap().get(0).unwrap();
    assert!(g.extend_pairs(root, &[(one, list)]));
    assert_eq!(repr(&g, root), "{1: None, 2: None, 1: []}");
    // The clone kept its own pairs.
    assert_eq!(repr(&g0, g0.root().unwrap()), "{1: None, 2: None}");
    // A code stands for its node: changing the atom's node changes every pair that has it.
    let (_, none) = g0.dict_pairs(g0.root().unwrap()).unwrap().get(1).unwrap();
    let mut g1 = g0.clone();
    *g1.get_mut(none) = Node::Str("changed".into());
    assert_eq!(
        repr(&g1, g1.root().unwrap()),
        "{1: 'changed', 2: 'changed'}"
    );
    // Pairs compare by what they hold, whatever the form.
    let mut built = Graph::new();
    let (a, b) = (built.int(1), built.none());
    let d = built.dict(vec![(a, b)]);
    assert!(by_id(&built, d));
    assert_eq!(built.dict_pairs(d).unwrap(), [(a, b)]);
    assert_eq!(built.dict_pairs(d).unwrap().to_vec(), vec![(a, b)]);
    // Read from the back too.
    let p = g0.dict_pairs(g0.root().unwrap()).unwrap();
    let back: Vec<_> = p.iter().rev().map(|(k, _)| repr(&g0, k)).collect();
    assert_eq!(back, ["2", "1"]);
    assert_eq!(p.iter().len(), 2);
    assert_eq!(p.skip_to(1).len(), 1);
    assert_eq!(p.get(2), None);
}
