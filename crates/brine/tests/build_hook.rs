//! `LoadOptions::build_hook`: called after every BUILD with the input that follows it, so
//! formats that put raw bytes inside a pickle (joblib) can be read; errors and overreads
//! are reported, and stream inputs refuse the hook.

use brine::value::Node;
use brine::LoadOptions;

// `C.__new__(C)` with BUILD `{}`, then 3 raw bytes, then `K\x05 (BININT1 5)`, TUPLE2, STOP.
const DATA: &[u8] = b"\x80\x04\x8c\x01m\x8c\x01C\x93)\x81}b\x01\x02\x03K\x05\x86.";

#[test]
fn hook_consumes_raw_bytes_and_rewrites_the_node() {
    let opts = LoadOptions::new().build_hook(|g, id, rest| {
        assert!(matches!(g.get(id), Node::Object(_)));
        *g.get_mut(id) = Node::Bytes(rest[..3].into());
        Ok(3)
    });
    let g = brine::loads_with(DATA, opts).unwrap();
    let Node::Tuple(items) = g.get(g.root().unwrap()) else {
        panic!("expected a tuple")
    };
    let items = g.items(*items);
    assert_eq!(g.get(items[0]), &Node::Bytes(b"\x01\x02\x03"[..].into()));
    assert_eq!(g.get(items[1]), &Node::Int(5));
}

#[test]
fn without_consuming_the_bytes_are_opcodes() {
    // \x01 is no opcode: the pickle is invalid unless the hook takes the bytes.
    let opts = LoadOptions::new().build_hook(|_, _, _| Ok(0));
    assert!(brine::loads_with(DATA, opts).is_err());
}

#[test]
fn overreading_and_hook_errors_are_reported() {
    let opts = LoadOptions::new().build_hook(|_, _, rest| Ok(rest.len() + 1));
    assert!(brine::loads_with(DATA, opts).unwrap_err().is_eof());
    let opts = LoadOptions::new().build_hook(|_, _, _| Err(brine::Error::data("no")));
    let err = brine::loads_with(DATA, opts).unwrap_err();
    assert_eq!(err.to_string(), "no at offset 12 (opcode BUILD)");
}

#[test]
fn stream_input_refuses_the_hook() {
    let opts = LoadOptions::new().build_hook(|_, _, _| Ok(3));
    let err = brine::load_with(DATA, opts).unwrap_err();
    assert!(err.to_string().contains("slice input"), "{err}");
}
