//! Zero-copy decoding: `loads_shared` and `load_file_mapped` keep large payloads as ranges of
//! the input, and give the same graphs and bytes as a copying decode.

mod common;

use std::sync::Arc;

use brine::value::{Graph, Node};
use brine::{Category, DumpOptions, Limits, LoadOptions};

fn big_pickle(protocol: u8, n: usize) -> (Graph, Vec<u8>) {
    let mut g = Graph::new();
    let bytes = g.bytes(&(0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let text = g.str(&"é".repeat(n / 2));
    let small = g.bytes(b"tiny");
    let mut items = vec![bytes, text, small];
    if protocol >= 5 {
        items.push(g.bytearray(&vec![3u8; n]));
    }
    let root = g.list(items);
    g.set_root(root);
    let data = brine::dumps_with(&g, DumpOptions::new().protocol(protocol)).unwrap();
    (g, data)
}

#[test]
fn large_payloads_are_shared_and_equal() {
    for protocol in 3..=5 {
        let (g, data) = big_pickle(protocol, 100_000);
        let shared = brine::loads_shared(Arc::new(data.clone()), LoadOptions::new()).unwrap();
        assert!(shared == g, "protocol {protocol}");
        let root = shared.root().unwrap();
        let Node::List(items) = shared.get(root) else {
            panic!("not a list")
        };
        let items = shared.items(*items);
        for (i, &id) in items.iter().enumerate() {
            let is_shared = match shared.get(id) {
                Node::Bytes(b) | Node::ByteArray(b) => b.is_shared(),
                Node::Str(s) => s.is_shared(),
                other => panic!("unexpected {other:?}"),
            };
            // Item 2 is the 4-byte payload: copied, not shared.
            assert_eq!(is_shared, i != 2, "protocol {protocol} item {i}");
        }
        let again = brine::dumps_with(&shared, DumpOptions::new().protocol(protocol)).unwrap();
        assert_eq!(again, data, "protocol {protocol}");
    }
}

#[test]
fn shared_payloads_are_not_charged_as_copies() {
    let (_, data) = big_pickle(4, 1 << 20);
    let limits = Limits {
        max_alloc: 64 * 1024,
        ..Limits::default()
    };
    let opts = || LoadOptions::new().limits(limits.clone());
    let err = brine::loads_with(&data, opts()).unwrap_err();
    assert_eq!(err.classify(), Category::Limit);
    let g = brine::loads_shared(Arc::new(data), opts()).unwrap();
    assert_eq!(g.len(), 4, "a list and its three payloads");
}

#[test]
fn the_graph_keeps_the_source_alive() {
    let (g, data) = big_pickle(5, 50_000);
    let src = Arc::new(data);
    let shared = brine::loads_shared(src.clone(), LoadOptions::new()).unwrap();
    assert_eq!(Arc::strong_count(&src), 4, "three shared payloads and ours");
    drop(src);
    let copy = shared.clone();
    drop(shared);
    assert!(copy == g);
}

#[test]
fn golden_corpus_decodes_the_same_shared() {
    for case in common::golden() {
        let data = std::fs::read(&case.path).unwrap();
        let (Ok(a), Ok(b)) = (
            brine::loads_with(&data, common::options_for(&case)),
            brine::loads_shared(Arc::new(data.clone()), common::options_for(&case)),
        ) else {
            continue;
        };
        assert!(a == b, "{}", case.name);
        if !case.py2 && !case.multi {
            let dump = || common::dump_options_for(&case, case.protocol);
            assert_eq!(
                brine::dumps_with(&b, dump()).unwrap(),
                brine::dumps_with(&a, dump()).unwrap(),
                "{}",
                case.name
            );
        }
    }
}

#[test]
fn a_mapped_file_decodes_like_a_read_one() {
    let dir = std::env::temp_dir().join(format!("brine-zero-copy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.pickle");
    let (g, data) = big_pickle(5, 300_000);
    std::fs::write(&path, &data).unwrap();
    let mapped = brine::load_file_mapped(&path, LoadOptions::new()).unwrap();
    assert!(mapped == g);
    let empty = dir.join("empty.pickle");
    std::fs::write(&empty, b"").unwrap();
    let err = brine::load_file_mapped(&empty, LoadOptions::new()).unwrap_err();
    assert_eq!(err.classify(), Category::Eof);
    drop(mapped);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn payload_storage_keeps_nodes_small() {
    // Inline, heap, window and shared storage all fit the same 24 bytes; a node is 32.
    assert!(std::mem::size_of::<Node>() <= 24);
    assert!(std::mem::size_of::<brine::value::PyStr>() <= 32);
}

#[test]
fn mid_sized_strings_share_windows_and_stay_exact() {
    // Thousands of 23..=1024-byte strings and bytes (window ranges) next to short and long ones.
    let mut g = Graph::new();
    let mut items = Vec::new();
    for i in 0..5000usize {
        let len = [5, 23, 64, 300, 1024, 1025, 5000][i % 7];
        let text: String = (0..len)
            .map(|j| char::from(b'a' + ((i + j) % 26) as u8))
            .collect();
        items.push(g.str(&text));
        items.push(g.bytes(text.as_bytes()));
    }
    let root = g.list(items);
    g.set_root(root);
    for protocol in 0..=5 {
        let data = brine::dumps_with(&g, DumpOptions::new().protocol(protocol)).unwrap();
        let back = brine::loads(&data).unwrap();
        assert!(back == g, "protocol {protocol}");
        let again = brine::dumps_with(&back, DumpOptions::new().protocol(protocol)).unwrap();
        assert_eq!(again, data, "protocol {protocol}");
    }
}
