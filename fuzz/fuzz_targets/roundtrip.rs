//! Fuzz target, structured: an arbitrary graph (sharing, cycles through lists and dicts) ->
//! bytes at every protocol -> the same graph.
#![no_main]

use arbitrary::Arbitrary;
use brine::value::{Graph, Node, NodeId};
use brine::DumpOptions;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    None,
    Bool(bool),
    Int(i64),
    Big(u8, i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    List(u8),
    Tuple(u8),
    Dict(u8),
    Set(u8),
    FrozenSet(u8),
    /// Push an earlier node again (sharing).
    Share(u16),
    /// Append the top to an earlier list (a cycle when the list contains it).
    AppendTo(u16),
}

fn build(ops: &[Op]) -> Option<Graph> {
    let mut g = Graph::new();
    let mut stack: Vec<NodeId> = Vec::new();
    let take = |stack: &mut Vec<NodeId>, n: u8| -> Vec<NodeId> {
        let n = (n as usize % 8).min(stack.len());
        stack.split_off(stack.len() - n)
    };
    for op in ops.iter().take(512) {
        let id = match op {
            Op::None => g.none(),
            Op::Bool(b) => g.bool(*b),
            Op::Int(i) => g.int(*i),
            Op::Big(shift, i) => g.bigint(num_bigint::BigInt::from(*i) << (*shift as usize % 300)),
            Op::Float(x) => g.float(*x),
            // One-character str and one-byte bytes are CPython singletons (shared by value), so
            // keep them longer to make identity well defined.
            Op::Str(s) => g.str(&format!("{s}..")),
            Op::Bytes(b) => g.bytes(&[&b[..], b".."].concat()),
            Op::ByteArray(b) => g.bytearray(&[&b[..], b".."].concat()),
            Op::List(n) => {
                let items = take(&mut stack, *n);
                g.list(items)
            }
            Op::Tuple(n) => {
                let items = take(&mut stack, *n);
                g.tuple(items)
            }
            Op::Dict(n) => {
                let items = take(&mut stack, n.saturating_mul(2));
                let pairs = items.chunks_exact(2).map(|c| (c[0], c[1])).collect();
                g.dict(pairs)
            }
            Op::Set(n) => {
                let items = take(&mut stack, *n);
                g.set(items)
            }
            Op::FrozenSet(n) => {
                let items = take(&mut stack, *n);
                g.frozenset(items)
            }
            Op::Share(k) => {
                if let Some(id) = g.id_at(*k as usize % g.len().max(1)) {
                    stack.push(id);
                }
                continue;
            }
            Op::AppendTo(k) => {
                let (Some(&top), Some(target)) = (stack.last(), g.id_at(*k as usize % g.len().max(1)))
                else {
                    continue;
                };
                if let Node::List(items) = g.get_mut(target) {
                    items.push(top);
                }
                continue;
            }
        };
        stack.push(id);
    }
    let root = g.list(stack);
    g.set_root(root);
    Some(g)
}

fuzz_target!(|ops: Vec<Op>| {
    let Some(g) = build(&ops) else { return };
    for p in 0..=5 {
        // Errors are fine (e.g. a tuple that contains itself directly); hangs and panics are not.
        let Ok(out) = brine::dumps_with(&g, DumpOptions::new().protocol(p)) else { continue };
        let again = brine::loads(&out).expect("brine reads what it writes");
        assert!(again == g, "protocol {p} changed the graph");
    }
});
