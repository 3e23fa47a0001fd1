//! Containers keep their items in the graph's arenas: appends in any order keep every
//! container's own items, ranges are never shared, and the arenas stay linear in size.

use brine::value::{Graph, Node, NodeId};

fn ints(g: &Graph, id: NodeId) -> Vec<i64> {
    g.seq(id)
        .unwrap()
        .iter()
        .map(|&i| match g.get(i) {
            Node::Int(v) => *v,
            other => panic!("not an int: {other:?}"),
        })
        .collect()
}

/// `a = []; b = []` then `a.append(i); b.append(-i)` in turn, `n` times: `(a, b)`.
fn alternating(n: usize) -> Vec<u8> {
    let mut p = b"\x80\x02]q\x00]q\x01".to_vec();
    for i in 0..n {
        let i = (i % 30000) as u16;
        p.extend_from_slice(b"h\x00M");
        p.extend_from_slice(&i.to_le_bytes());
        p.extend_from_slice(b"a0h\x01J");
        p.extend_from_slice(&(-(i as i32)).to_le_bytes());
        p.extend_from_slice(b"a0");
    }
    p.extend_from_slice(b"\x86.");
    p
}

#[test]
fn appends_in_turn_keep_each_containers_items() {
    for n in [0, 1, 2, 3, 5, 17, 1000] {
        let g = brine::loads(&alternating(n)).unwrap();
        let root = g.seq(g.root().unwrap()).unwrap().to_vec();
        let want: Vec<i64> = (0..n as i64).collect();
        assert_eq!(ints(&g, root[0]), want, "n = {n}");
        assert_eq!(
            ints(&g, root[1]),
            want.iter().map(|i| -i).collect::<Vec<_>>()
        );
    }
}

#[test]
fn appends_in_turn_stay_linear() {
    // Without spare room on a move, each append would copy the whole list (n^2 / 2 ids left
    // behind: 50 MB here, against 80 KB of live items).
    let n = 5_000;
    let g = brine::loads(&alternating(n)).unwrap();
    let root = g.seq(g.root().unwrap()).unwrap().to_vec();
    assert_eq!(g.seq(root[0]).unwrap().len(), n);
    // Live items: 2n ids of 4 bytes. Moved-away ranges (up to 2x), spare room (2x) and the
    // arena's own capacity growth (2x) bound the rest.
    let items_bytes = g.arena_bytes() - g.node_capacity() * std::mem::size_of::<Node>();
    assert!(
        items_bytes <= 16 * (2 * n * 4) + (1 << 16),
        "{items_bytes} bytes for {} items",
        2 * n
    );
}

#[test]
fn set_of_a_list_owns_its_items() {
    // `s = set(x)` (protocol 2: `builtins.set([1])`), then `x.append(2)`: s stays {1}.
    let p = b"\x80\x02c__builtin__\nset\n]q\x00K\x01a\x85Rh\x00K\x02a\x86.";
    let g = brine::loads(p).unwrap();
    let root = g.seq(g.root().unwrap()).unwrap().to_vec();
    assert!(matches!(g.get(root[0]), Node::Set(_)));
    assert_eq!(ints(&g, root[0]), [1]);
    assert_eq!(ints(&g, root[1]), [1, 2]);
    // And CPython agrees on the bytes of both again.
    let again = brine::dumps_with(&g, brine::DumpOptions::new().protocol(2)).unwrap();
    let back = brine::loads(&again).unwrap();
    assert_eq!(back, g);
}

#[test]
fn api_appends_follow_the_same_rules() {
    let mut g = Graph::new();
    let one = g.int(1);
    let two = g.int(2);
    let a = g.list(vec![one]);
    let b = g.tuple(vec![two, two]);
    let d = g.dict(vec![]);
    assert!(g.extend_items(a, &[two, one]));
    assert!(g.extend_items(b, &[one]));
    assert!(g.extend_items(a, &[]));
    assert!(g.extend_pairs(d, &[(one, a)]));
    assert!(g.extend_pairs(d, &[(two, b)]));
    assert!(!g.extend_items(d, &[one]), "a dict has no items");
    assert!(!g.extend_pairs(a, &[(one, one)]), "a list has no pairs");
    assert_eq!(ints(&g, a), [1, 2, 1]);
    assert_eq!(ints(&g, b), [2, 2, 1]);
    assert_eq!(g.dict_pairs(d).unwrap(), [(one, a), (two, b)]);
    // A range of another graph reads as empty rather than panicking.
    let Node::List(items) = *g.get(a) else {
        unreachable!()
    };
    assert_eq!(Graph::new().items(items), &[] as &[NodeId]);
}

#[test]
fn many_batches_of_a_big_list() {
    // CPython writes 1000 items per APPENDS; items of nested lists land between batches.
    let script = "[[i] for i in range(5000)]";
    let Some(data) = python_pickle(script) else {
        eprintln!("python3 not found: skipped many_batches_of_a_big_list");
        return;
    };
    let g = brine::loads(&data).unwrap();
    let outer = g.seq(g.root().unwrap()).unwrap();
    assert_eq!(outer.len(), 5000);
    for (i, &inner) in outer.iter().enumerate() {
        assert_eq!(ints(&g, inner), [i as i64]);
    }
    assert_eq!(brine::dumps(&g).unwrap(), data);
}

fn python_pickle(expr: &str) -> Option<Vec<u8>> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            &format!("import pickle,sys; sys.stdout.buffer.write(pickle.dumps({expr}, 4))"),
        ])
        .output()
        .ok()?;
    assert!(out.status.success());
    Some(out.stdout)
}
