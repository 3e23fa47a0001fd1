//! Runs CPython's `pickle.dumps` on many snippets in one `python3` process.

use std::io::Write;
use std::process::{Command, Stdio};

/// Definitions every snippet can use: a module `m` with classes, dumpers with hooks.
pub const PRELUDE: &str = r#"
import pickle, sys, io, types, copyreg, collections, datetime
m = types.ModuleType("m"); sys.modules["m"] = m
class A:
    class B:
        class C: pass
class P:
    def __init__(self): self.x = 1
class Q:
    def __reduce__(self): return (copyreg.__newobj__, (Q, 5), {'k': 2})
class KW:
    def __reduce__(self): return (copyreg.__newobj_ex__, (KW, (1,), {'a': 2}))
for c in (A, P, Q, KW):
    c.__module__ = "m"; setattr(m, c.__name__, c)
A.B.__module__ = "m"; A.B.C.__module__ = "m"
class _Pid(pickle.Pickler):
    def persistent_id(self, obj):
        return obj[1:] if isinstance(obj, str) and obj.startswith('@') else None
def dumps_pid(v, p):
    f = io.BytesIO(); _Pid(f, p).dump(v); return f.getvalue()
def dumps_oob(v, p):
    return pickle.dumps(v, p, buffer_callback=lambda b: False)
def dumps_twice(v, p):
    f = io.BytesIO(); pk = pickle.Pickler(f, p); pk.dump(v); pk.dump(v); return f.getvalue()
"#;

/// `pickle.dumps` (or the snippet's `DUMP(v, p)`) for each `(snippet, protocol)`; a snippet
/// sets `v`. `None` when `python3` is not installed.
pub fn dumps(cases: &[(String, u8)]) -> Option<Vec<Vec<u8>>> {
    let mut script = String::from(PRELUDE);
    script.push_str("\nCASES = [\n");
    for (code, p) in cases {
        script.push_str(&format!("({code:?}, {p}),\n"));
    }
    script.push_str(
        r#"]
for code, p in CASES:
    ns = {'DUMP': lambda v, p: pickle.dumps(v, p)}
    ns.update(globals())
    exec(code, ns)
    sys.stdout.write(ns['DUMP'](ns['v'], p).hex() + "\n")
"#,
    );
    let mut child = Command::new("python3")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    let text = String::from_utf8(out.stdout).unwrap();
    Some(text.lines().map(hex).collect())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Human-readable disassembly of a pickle via `pickletools.dis`, for failure messages.
pub fn dis(data: &[u8]) -> String {
    let hexs: String = data.iter().map(|b| format!("{b:02x}")).collect();
    let code = format!(
        "import pickletools,sys\ntry: pickletools.dis(bytes.fromhex('{hexs}'))\nexcept Exception as e: print('dis failed:', e)"
    );
    match Command::new("python3").arg("-c").arg(code).output() {
        Ok(o) => {
            let s = String::from_utf8_lossy(&o.stdout).into_owned();
            if s.len() > 4000 {
                format!("{}\n…", &s[..4000])
            } else {
                s
            }
        }
        Err(_) => String::new(),
    }
}

/// Python that prints a builtin value's object graph, one node a line, node 0 the root;
/// equal ids are one object: `n`, `t`/`f`, `i <int>`, `g <float bits hex>`, `s <utf-8 hex>`,
/// `y <hex>` (bytes), `a <hex>` (bytearray), `T`/`L`/`S`/`F <ids>`, `D <k v …>`.
pub const EXPORT: &str = r#"
import struct
def export(v, w):
    ids, order, stack = {}, [], []
    def nid(o):
        k = id(o)
        if k not in ids:
            ids[k] = len(order); order.append(o); stack.append(o)
        return ids[k]
    nid(v)
    lines = {}
    while stack:
        o = stack.pop()
        i = ids[id(o)]
        t = type(o)
        if o is None: s = 'n'
        elif t is bool: s = 't' if o else 'f'
        elif t is int: s = 'i %d' % o
        elif t is float: s = 'g %016x' % struct.unpack('<Q', struct.pack('<d', o))[0]
        elif t is str: s = 's ' + o.encode('utf-8', 'surrogatepass').hex()
        elif t is bytes: s = 'y ' + o.hex()
        elif t is bytearray: s = 'a ' + o.hex()
        elif t is tuple: s = 'T ' + ' '.join(str(nid(x)) for x in o)
        elif t is list: s = 'L ' + ' '.join(str(nid(x)) for x in o)
        elif t is set: s = 'S ' + ' '.join(str(nid(x)) for x in o)
        elif t is frozenset: s = 'F ' + ' '.join(str(nid(x)) for x in o)
        elif t is dict: s = 'D ' + ' '.join('%d %d' % (nid(k), nid(x)) for k, x in o.items())
        else: raise TypeError(t)
        lines[i] = s
    w('%d\n' % len(order))
    for i in range(len(order)):
        w(lines[i] + '\n')
"#;

/// Runs `script` (after [`EXPORT`]) and returns its stdout; `None` without `python3`.
pub fn run(script: &str, env: &[(&str, &str)]) -> Option<String> {
    let mut cmd = Command::new("python3");
    cmd.arg("-").stdin(Stdio::piped()).stdout(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().ok()?;
    let full = format!("{EXPORT}\n{script}");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(full.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Rebuilds a graph printed by [`EXPORT`] from `lines`; returns the graph and its root.
pub fn import(lines: &mut std::str::Lines<'_>) -> (brine::value::Graph, brine::value::NodeId) {
    use brine::value::{Blob, Graph, Node, PyStr};
    let n: usize = lines.next().unwrap().parse().unwrap();
    let mut g = Graph::with_capacity(n);
    let ids: Vec<_> = (0..n).map(|_| g.add(Node::None)).collect();
    let list = |rest: &str| -> Vec<_> {
        rest.split_whitespace()
            .map(|x| ids[x.parse::<usize>().unwrap()])
            .collect()
    };
    for &id in &ids {
        let line = lines.next().unwrap();
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let node = match kind {
            "n" => Node::None,
            "t" => Node::Bool(true),
            "f" => Node::Bool(false),
            "i" => match rest.parse::<i64>() {
                Ok(i) => Node::Int(i),
                Err(_) => Node::BigInt(Box::new(rest.parse().unwrap())),
            },
            "g" => Node::Float(f64::from_bits(u64::from_str_radix(rest, 16).unwrap())),
            "s" => Node::Str(PyStr::from_surrogatepass(hex(rest)).unwrap()),
            "y" => Node::Bytes(Blob::from(hex(rest))),
            "a" => Node::ByteArray(Blob::from(hex(rest))),
            "T" => Node::Tuple(g.new_items(&list(rest))),
            "L" => Node::List(g.new_items(&list(rest))),
            "S" => Node::Set(g.new_items(&list(rest))),
            "F" => Node::FrozenSet(g.new_items(&list(rest))),
            "D" => {
                let v = list(rest);
                let pairs: Vec<_> = v.chunks(2).map(|p| (p[0], p[1])).collect();
                Node::Dict(g.new_pairs(&pairs))
            }
            other => panic!("unknown node kind {other}"),
        };
        *g.get_mut(id) = node;
    }
    g.set_root(ids[0]);
    (g, ids[0])
}
