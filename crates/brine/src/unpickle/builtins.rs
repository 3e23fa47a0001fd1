//! `recognize_builtins`: the REDUCE forms CPython's C pickler writes for builtin types at old
//! protocols, turned back into native nodes so that any protocol can be written again.

use crate::value::{Blob, Global, Graph, Node, NodeId};

/// The native node for `callable(*args)` when it is one of the exact forms CPython writes:
/// `set([..])`, `frozenset([..])`, `_codecs.encode(str, 'latin1')`, `bytes()`,
/// `bytearray(bytes)`, `bytearray()` and `getattr(Global, 'name')`. Names are Python 3 names
/// (after `fix_imports`).
pub(crate) fn recognize(graph: &mut Graph, callable: NodeId, args: NodeId) -> Option<Node> {
    let Node::Global(g) = graph.get(callable) else {
        return None;
    };
    // The one list of names, which the writer also checks (`is_recognized`).
    if !is_recognized(&g.module, &g.name) {
        return None;
    }
    let Node::Tuple(args) = graph.get(args) else {
        return None;
    };
    let args = graph.items(*args);
    // A set gets its own copy of the list's items: the list may still change (it can be
    // memoized), and arena ranges are never shared.
    let copy = |graph: &mut Graph, list: NodeId| {
        let items = graph.seq(list)?.to_vec();
        graph.try_new_items(&items)
    };
    let arg = |i: usize| args.get(i).map(|&a| graph.get(a));
    match (g.module.as_str(), g.name.as_str(), args.len()) {
        ("builtins", "set", 1) => match arg(0)? {
            Node::List(_) => {
                let list = args[0];
                Some(Node::Set(copy(graph, list)?))
            }
            _ => None,
        },
        ("builtins", "frozenset", 1) => match arg(0)? {
            Node::List(_) => {
                let list = args[0];
                Some(Node::FrozenSet(copy(graph, list)?))
            }
            _ => None,
        },
        ("builtins", "bytes", 0) => Some(Node::Bytes(Blob::default())),
        ("builtins", "bytearray", 0) => Some(Node::ByteArray(Blob::default())),
        ("builtins", "bytearray", 1) => match arg(0)? {
            Node::Bytes(b) => Some(Node::ByteArray(b.clone())),
            _ => None,
        },
        ("_codecs", "encode", 2) => {
            let (Node::Str(s), Node::Str(enc)) = (arg(0)?, arg(1)?) else {
                return None;
            };
            if enc.as_bytes() != b"latin1" {
                return None;
            }
            let out = brine_core::text::utf8_to_latin1(s.as_bytes())?;
            Some(Node::Bytes(Blob::from(out)))
        }
        ("builtins", "getattr", 2) => {
            let (Node::Global(parent), Node::Str(attr)) = (arg(0)?, arg(1)?) else {
                return None;
            };
            let attr = attr.as_str()?;
            if !is_identifier(attr) {
                return None;
            }
            Some(Node::Global(Box::new(Global::new(
                parent.module.clone(),
                format!("{}.{attr}", parent.name),
            ))))
        }
        _ => None,
    }
}

/// True when a REDUCE of the global `module.name` (Python 3 names) may be read as a native
/// value by [`recognize`], which reads no other names.
pub(crate) fn is_recognized(module: &str, name: &str) -> bool {
    matches!(
        (module, name),
        (
            "builtins",
            "set" | "frozenset" | "bytes" | "bytearray" | "getattr"
        ) | ("_codecs", "encode")
    )
}

fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}
