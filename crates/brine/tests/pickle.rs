//! The writer against CPython: graphs built in Rust must pickle to exactly the bytes
//! `pickle.dumps` (the C pickler of the local `python3`) writes, for every protocol.
//!
//! Belongs here: byte-for-byte comparisons of `dumps`/`Pickler` output with CPython (scalars,
//! containers and their batching, memo sharing and cycles, framing, globals, reduce forms,
//! persistent ids, buffers), and the writer's own errors and limits. Reading pickles belongs
//! in the unpickler tests. The comparisons are skipped when `python3` is missing.

mod common {
    pub mod python;
}

use brine::value::{Buffer, Global, Graph, Node, NodeId, Object, ObjectKind};
use brine::{Category, DumpOptions, Limits, Pickler};
use num_bigint::BigInt;

type Build = Box<dyn Fn(&mut Graph) -> NodeId>;

struct Case {
    py: String,
    build: Build,
    protos: Vec<u8>,
    opts: fn(DumpOptions) -> DumpOptions,
    twice: bool,
}

fn all() -> Vec<u8> {
    (0..=5).collect()
}

fn case(py: &str, build: impl Fn(&mut Graph) -> NodeId + 'static) -> Case {
    Case {
        py: if py.contains("v =") || py.contains("v=") {
            py.to_owned()
        } else {
            format!("v = {py}")
        },
        build: Box::new(build),
        protos: all(),
        opts: |o| o,
        twice: false,
    }
}

impl Case {
    fn protos(mut self, p: impl IntoIterator<Item = u8>) -> Self {
        self.protos = p.into_iter().collect();
        self
    }
    fn opts(mut self, f: fn(DumpOptions) -> DumpOptions) -> Self {
        self.opts = f;
        self
    }
    fn twice(mut self) -> Self {
        self.twice = true;
        self.py.push_str("\nDUMP = dumps_twice");
        self
    }
}

fn rust_dumps(c: &Case, p: u8) -> Result<Vec<u8>, brine::Error> {
    let mut g = Graph::new();
    let root = (c.build)(&mut g);
    g.set_root(root);
    let opts = (c.opts)(DumpOptions::new().protocol(p));
    if c.twice {
        let mut pk = Pickler::new(Vec::new(), opts);
        pk.dump(&g, root)?;
        pk.dump(&g, root)?;
        Ok(pk.into_inner())
    } else {
        brine::dumps_with(&g, opts)
    }
}

fn check(cases: Vec<Case>) {
    let mut jobs = Vec::new();
    for c in &cases {
        for &p in &c.protos {
            jobs.push((c.py.clone(), p));
        }
    }
    let Some(expected) = common::python::dumps(&jobs) else {
        eprintln!("python3 not found: skipping CPython comparisons");
        return;
    };
    let mut failures = Vec::new();
    let mut k = 0;
    for c in &cases {
        for &p in &c.protos {
            let want = &expected[k];
            k += 1;
            match rust_dumps(c, p) {
                Ok(got) if &got == want => {}
                Ok(got) => {
                    let at = got
                        .iter()
                        .zip(want.iter())
                        .position(|(a, b)| a != b)
                        .unwrap_or(got.len().min(want.len()));
                    failures.push(format!(
                        "{} @ protocol {p}: first difference at byte {at} (got {} bytes, want {})\n--- got\n{}--- want\n{}",
                        c.py,
                        got.len(),
                        want.len(),
                        common::python::dis(&got),
                        common::python::dis(want)
                    ));
                }
                Err(e) => failures.push(format!("{} @ protocol {p}: error {e}", c.py)),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// Small builders.

fn ints(g: &mut Graph, r: std::ops::Range<i64>) -> Vec<NodeId> {
    r.map(|i| g.int(i)).collect()
}

fn big(s: &str) -> BigInt {
    s.parse().unwrap()
}

fn global(g: &mut Graph, m: &str, n: &str) -> NodeId {
    g.global(m, n)
}

fn reduce(g: &mut Graph, callable: NodeId, args: Vec<NodeId>) -> NodeId {
    let args = g.tuple(args);
    g.object(Object::new(ObjectKind::Reduce, callable, args))
}

#[test]
fn appendix_a_rows() {
    check(vec![
        case("None", |g| g.none()),
        case("True", |g| g.bool(true)),
        case("False", |g| g.bool(false)),
        case("0", |g| g.int(0)),
        case("255", |g| g.int(255)),
        case("256", |g| g.int(256)),
        case("65536", |g| g.int(65536)),
        case("-1", |g| g.int(-1)),
        case("2**31", |g| g.int(1 << 31)),
        case("-2**31-1", |g| g.int(-(1 << 31) - 1)),
        case("2**64", |g| g.bigint(big("18446744073709551616"))),
        case("1.5", |g| g.float(1.5)),
        case("'abc'", |g| g.str("abc")),
        case("'€'", |g| g.str("€")),
        case("b''", |g| g.bytes(b"")),
        case("b'ab'", |g| g.bytes(b"ab")),
        case("bytearray(b'ab')", |g| g.bytearray(b"ab")),
        case("()", |g| g.tuple(vec![])),
        case("(1,)", |g| {
            let a = g.int(1);
            g.tuple(vec![a])
        }),
        case("(1,2,3,4)", |g| {
            let v = ints(g, 1..5);
            g.tuple(v)
        }),
        case("[]", |g| g.list(vec![])),
        case("[1]", |g| {
            let v = ints(g, 1..2);
            g.list(v)
        }),
        case("[1,2]", |g| {
            let v = ints(g, 1..3);
            g.list(v)
        }),
        case("{}", |g| g.dict(vec![])),
        case("{'a':1}", |g| {
            let (k, v) = (g.str("a"), g.int(1));
            g.dict(vec![(k, v)])
        }),
        case("{'a':1,'b':2}", |g| {
            let (k, v) = (g.str("a"), g.int(1));
            let (k2, v2) = (g.str("b"), g.int(2));
            g.dict(vec![(k, v), (k2, v2)])
        }),
        case("set()", |g| g.set(vec![])),
        case("{1,2}", |g| {
            let v = ints(g, 1..3);
            g.set(v)
        }),
        case("frozenset()", |g| g.frozenset(vec![])),
        case("frozenset({1})", |g| {
            let v = ints(g, 1..2);
            g.frozenset(v)
        }),
        case("x=[]; v=[x,x]", |g| {
            let x = g.list(vec![]);
            g.list(vec![x, x])
        }),
        case("complex(1,2)", |g| {
            let c = global(g, "builtins", "complex");
            let (a, b) = (g.float(1.0), g.float(2.0));
            reduce(g, c, vec![a, b])
        }),
        case("int", |g| global(g, "builtins", "int")),
        case("len", |g| global(g, "builtins", "len")),
        case("type(None)", |g| {
            let t = global(g, "builtins", "type");
            let n = g.none();
            reduce(g, t, vec![n])
        }),
    ]);
}

#[test]
fn test_vector_4_5() {
    check(vec![case(
        "{'a':[1, 2.5, 'x', b'y', None, True, (1,2), 2**70, -3]}",
        |g| {
            let a = g.str("a");
            let one = g.int(1);
            let f = g.float(2.5);
            let x = g.str("x");
            let y = g.bytes(b"y");
            let n = g.none();
            let t = g.bool(true);
            let (i1, i2) = (g.int(1), g.int(2));
            let tup = g.tuple(vec![i1, i2]);
            let b = g.bigint(big("1180591620717411303424"));
            let m3 = g.int(-3);
            let l = g.list(vec![one, f, x, y, n, t, tup, b, m3]);
            g.dict(vec![(a, l)])
        },
    )]);
}

#[test]
fn ints_and_floats() {
    let mut cases = Vec::new();
    for v in [
        127i64,
        128,
        -128,
        -129,
        65535,
        -65536,
        (1 << 31) - 1,
        -(1 << 31),
        1 << 32,
        -(1 << 40),
        i64::MAX,
        i64::MIN,
        0x80,
        0x8000,
        0x80_0000,
        0x80_0000_0000,
        -0x80_0000_0000,
    ] {
        cases.push(case(&v.to_string(), move |g| g.int(v)));
    }
    for s in [
        "9223372036854775808",
        "-9223372036854775809",
        "1267650600228229401496703205376",
        "-1267650600228229401496703205376",
        "-170141183460469231731687303715884105728",
    ] {
        let s2 = s.to_owned();
        cases.push(case(s, move |g| g.bigint(big(&s2))));
    }
    // LONG4: more than 255 bytes.
    cases.push(case("2**2100", |g| g.bigint(BigInt::from(1) << 2100usize)));
    cases.push(case("-(2**2100)", |g| {
        g.bigint(-(BigInt::from(1) << 2100usize))
    }));
    cases.push(case("-(2**2039)", |g| {
        g.bigint(-(BigInt::from(1) << 2039usize))
    }));
    cases.push(case("2**2039", |g| g.bigint(BigInt::from(1) << 2039usize)));
    for (py, x) in [
        ("0.0", 0.0f64),
        ("-0.0", -0.0),
        ("1e16", 1e16),
        ("1e15", 1e15),
        ("1e-5", 1e-5),
        ("1e-4", 1e-4),
        ("0.1", 0.1),
        ("1/3", 1.0 / 3.0),
        ("float('inf')", f64::INFINITY),
        ("float('-inf')", f64::NEG_INFINITY),
        ("float('nan')", f64::NAN),
        ("1e300", 1e300),
        ("1.2345678901234568e+17", 1.2345678901234568e17),
        ("5e-324", 5e-324),
        ("1.7976931348623157e308", f64::MAX),
        ("123456789.125", 123456789.125),
        ("-2.5e-7", -2.5e-7),
        ("9999999999999998.0", 9999999999999998.0),
    ] {
        cases.push(case(py, move |g| g.float(x)));
    }
    check(cases);
}

#[test]
fn float_repr_random() {
    // Shortest round-trip digits must agree with Python's repr on many values.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut vals = Vec::new();
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = f64::from_bits(x);
        if f.is_finite() {
            vals.push(f);
        }
        vals.push((x % 1_000_000) as f64 / 1000.0);
    }
    let py = format!(
        "v = [{}]",
        vals.iter()
            .map(|f| format!("float.fromhex('{}')", hexf(*f)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    check(vec![case(&py, move |g| {
        let items = vals.iter().map(|&f| g.float(f)).collect();
        g.list(items)
    })
    .protos([0])]);
}

fn hexf(f: f64) -> String {
    // Exact hex float literal for Python's float.fromhex.
    let bits = f.to_bits();
    let sign = if bits >> 63 == 1 { "-" } else { "" };
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let man = bits & ((1 << 52) - 1);
    if exp == 0 {
        format!("{sign}0x0.{man:013x}p-1022")
    } else {
        format!("{sign}0x1.{man:013x}p{}", exp - 1023)
    }
}

#[test]
fn strings_and_bytes() {
    let surrogate = |g: &mut Graph, bytes: &[u8]| {
        g.add(Node::Str(
            brine::value::PyStr::from_surrogatepass(bytes.to_vec()).unwrap(),
        ))
    };
    check(vec![
        case("''", |g| g.str("")),
        case("'a'", |g| g.str("a")),
        case("'é'", |g| g.str("é")),
        case("'é€😀\\\\\\n\\r\\x00\\x1a'", |g| {
            g.str("é€😀\\\n\r\0\x1a")
        }),
        case("'\\ud800'", move |g| surrogate(g, b"\xed\xa0\x80")),
        case("'a\\udcff b'", move |g| surrogate(g, b"a\xed\xb3\xbf b")),
        case("'x' * 255", |g| g.str(&"x".repeat(255))),
        case("'x' * 256", |g| g.str(&"x".repeat(256))),
        case("b'a'", |g| g.bytes(b"a")),
        case("b'\\xff\\x80'", |g| g.bytes(b"\xff\x80")),
        case("bytes(range(256))", |g| {
            let v: Vec<u8> = (0..=255).collect();
            g.bytes(&v)
        }),
        case("bytearray()", |g| g.bytearray(b"")),
        case("[bytearray(b'a'), bytearray(b'a')]", |g| {
            let a = g.bytearray(b"a");
            let b = g.bytearray(b"a");
            g.list(vec![a, b])
        }),
        // The two `b'a'` are one constant object in Python: share the node. (`b''` is a
        // singleton and is shared by value even as two nodes.)
        case("[b'ab', b'cd', b'a', b'a', b'', b'']", |g| {
            let mut items: Vec<_> = [&b"ab"[..], b"cd", b"a"]
                .iter()
                .map(|b| g.bytes(b))
                .collect();
            items.push(items[2]);
            items.push(g.bytes(b""));
            items.push(g.bytes(b""));
            g.list(items)
        }),
        case("['a', 'a', '', '', 'é', 'é']", |g| {
            let items = ["a", "a", "", "", "é", "é"]
                .iter()
                .map(|s| g.str(s))
                .collect();
            g.list(items)
        }),
    ]);
}

fn batch_cases(n: usize) -> Vec<Case> {
    let n64 = n as i64;
    vec![
        case(&format!("list(range({n}))"), move |g| {
            let v = ints(g, 0..n64);
            g.list(v)
        }),
        case(&format!("{{i: None for i in range({n})}}"), move |g| {
            let v = (0..n64)
                .map(|i| {
                    let k = g.int(i);
                    (k, g.none())
                })
                .collect();
            g.dict(v)
        }),
        case(&format!("set(range({n}))"), move |g| {
            let v = ints(g, 0..n64);
            g.set(v)
        }),
        case(&format!("frozenset(range({n}))"), move |g| {
            let v = ints(g, 0..n64);
            g.frozenset(v)
        }),
        case(&format!("tuple(range({n}))"), move |g| {
            let v = ints(g, 0..n64);
            g.tuple(v)
        }),
        case(
            &format!("collections.OrderedDict((i, i) for i in range({n}))"),
            move |g| {
                let cls = global(g, "collections", "OrderedDict");
                let args = g.tuple(vec![]);
                let mut o = Object::new(ObjectKind::Reduce, cls, args);
                o.dict_items = (0..n64)
                    .map(|i| {
                        let k = g.int(i);
                        (k, g.int(i))
                    })
                    .collect();
                g.object(o)
            },
        ),
    ]
}

#[test]
fn batch_edges() {
    let mut cases = Vec::new();
    for n in [0, 1, 2, 3, 4, 999, 1000, 1001, 2000, 2001] {
        cases.extend(batch_cases(n));
    }
    check(cases);
}

#[test]
fn framing_of_large_payloads() {
    check(vec![
        case("['a' * 70000 + str(i) for i in range(3)]", |g| {
            let v = (0..3)
                .map(|i| g.str(&format!("{}{i}", "a".repeat(70000))))
                .collect();
            g.list(v)
        }),
        case(
            "[1, b'b' * 65536, (2, b'c' * 65535), bytearray(b'd' * 70000), 3]",
            |g| {
                let one = g.int(1);
                let b = g.bytes(&vec![b'b'; 65536]);
                let two = g.int(2);
                let c = g.bytes(&vec![b'c'; 65535]);
                let t = g.tuple(vec![two, c]);
                let d = g.bytearray(&vec![b'd'; 70000]);
                let three = g.int(3);
                g.list(vec![one, b, t, d, three])
            },
        ),
        case("[str(i) * 7 for i in range(30000)]", |g| {
            let v = (0..30000)
                .map(|i| g.str(&i.to_string().repeat(7)))
                .collect();
            g.list(v)
        }),
        case("[(str(i) * 30,) for i in range(3000)]", |g| {
            let v = (0..3000)
                .map(|i| {
                    let s = g.str(&i.to_string().repeat(30));
                    g.tuple(vec![s])
                })
                .collect();
            g.list(v)
        }),
        case("{str(i) * 40: [i] for i in range(3000)}", |g| {
            let v = (0..3000)
                .map(|i| {
                    let k = g.str(&i.to_string().repeat(40));
                    let n = g.int(i);
                    (k, g.list(vec![n]))
                })
                .collect();
            g.dict(v)
        }),
    ]);
}

#[test]
fn sharing_and_cycles() {
    check(vec![
        case("a=[]; t=(a,); a.append(t); v=t", |g| {
            let a = g.list(vec![]);
            let t = g.tuple(vec![a]);
            assert!(g.extend_items(a, &[t]));
            t
        }),
        case("a=[]; t=(a,); a.append(t); v=a", |g| {
            let a = g.list(vec![]);
            let t = g.tuple(vec![a]);
            assert!(g.extend_items(a, &[t]));
            a
        }),
        case("a=[]; t=(a,1,2,3,4); a.append(t); v=[t]", |g| {
            let a = g.list(vec![]);
            let rest = ints(g, 1..5);
            let mut items = vec![a];
            items.extend(rest);
            let t = g.tuple(items);
            assert!(g.extend_items(a, &[t]));
            g.list(vec![t])
        }),
        case("a=[]; t=(a,2); a.append(t); v=(t,)", |g| {
            let a = g.list(vec![]);
            let two = g.int(2);
            let t = g.tuple(vec![a, two]);
            assert!(g.extend_items(a, &[t]));
            g.tuple(vec![t])
        }),
        case("d={}; d['k']=d; v=d", |g| {
            let d = g.dict(vec![]);
            let k = g.str("k");
            assert!(g.extend_pairs(d, &[(k, d)]));
            d
        }),
        case("x=[1]; y=[x,x]; v=[y,y,(x,)]", |g| {
            let one = g.int(1);
            let x = g.list(vec![one]);
            let y = g.list(vec![x, x]);
            let t = g.tuple(vec![x]);
            g.list(vec![y, y, t])
        }),
        case("a=''.join(['ab','c']); v=((a,a),(a,a))", |g| {
            let a = g.str("abc");
            let t = g.tuple(vec![a, a]);
            let t2 = g.tuple(vec![a, a]);
            g.tuple(vec![t, t2])
        }),
        case("s=frozenset([1]); v=[s,s,{s:s}]", |g| {
            let one = g.int(1);
            let s = g.frozenset(vec![one]);
            let d = g.dict(vec![(s, s)]);
            g.list(vec![s, s, d])
        }),
        case("s={1,2}; v=[s,s]", |g| {
            let v = ints(g, 1..3);
            let s = g.set(v);
            g.list(vec![s, s])
        }),
        case("b=b'xyz'; v=[b,b,bytearray(b'xyz')]", |g| {
            let b = g.bytes(b"xyz");
            let ba = g.bytearray(b"xyz");
            g.list(vec![b, b, ba])
        }),
        case("x=[1,'abc']; v=x", |g| {
            let one = g.int(1);
            let s = g.str("abc");
            g.list(vec![one, s])
        })
        .twice(),
    ]);
}

#[test]
fn globals_and_objects() {
    check(vec![
        case("collections.OrderedDict", |g| {
            global(g, "collections", "OrderedDict")
        }),
        case("[m.A.B, m.A.B, m.A, m.A.B.C]", |g| {
            let ab = global(g, "m", "A.B");
            let ab2 = global(g, "m", "A.B");
            let a = global(g, "m", "A");
            let abc = global(g, "m", "A.B.C");
            g.list(vec![ab, ab2, a, abc])
        }),
        case("[int, str, int]", |g| {
            let a = global(g, "builtins", "int");
            let b = global(g, "builtins", "str");
            let c = global(g, "builtins", "int");
            g.list(vec![a, b, c])
        }),
        case("[int, len, getattr, bytearray(b'x')]", |g| {
            let a = global(g, "builtins", "int");
            let b = global(g, "builtins", "len");
            let c = global(g, "builtins", "getattr");
            let d = g.bytearray(b"x");
            g.list(vec![a, b, c, d])
        }),
        case(
            "[collections.OrderedDict, collections.Counter, range, copyreg._reconstructor]",
            |g| {
                let a = global(g, "collections", "OrderedDict");
                let b = global(g, "collections", "Counter");
                let c = global(g, "builtins", "range");
                let d = global(g, "copyreg", "_reconstructor");
                g.list(vec![a, b, c, d])
            },
        ),
        case("[set(), frozenset(), set([1])]", |g| {
            let a = g.set(vec![]);
            let b = g.frozenset(vec![]);
            let one = g.int(1);
            let c = g.set(vec![one]);
            g.list(vec![a, b, c])
        }),
        case("datetime.date(1980, 5, 7)", |g| {
            let d = global(g, "datetime", "date");
            let b = g.bytes(b"\x07\xbc\x05\x07");
            reduce(g, d, vec![b])
        }),
        case("[datetime.date(1, 1, 1), datetime.timedelta(1)]", |g| {
            let d = global(g, "datetime", "date");
            let b = g.bytes(b"\x00\x01\x01\x01");
            let x = reduce(g, d, vec![b]);
            let td = global(g, "datetime", "timedelta");
            let (a, z1, z2) = (g.int(1), g.int(0), g.int(0));
            let y = reduce(g, td, vec![a, z1, z2]);
            g.list(vec![x, y])
        }),
        case("p = m.P(); v = [p, p]", |g| {
            let cls = global(g, "m", "P");
            let args = g.tuple(vec![]);
            let mut o = Object::new(ObjectKind::NewObj, cls, args);
            let (k, one) = (g.str("x"), g.int(1));
            o.state = Some(g.dict(vec![(k, one)]));
            let p = g.object(o);
            g.list(vec![p, p])
        })
        .protos(2..=5),
        case("m.Q()", |g| {
            let cls = global(g, "m", "Q");
            let five = g.int(5);
            let args = g.tuple(vec![five]);
            let mut o = Object::new(ObjectKind::NewObj, cls, args);
            let (k, two) = (g.str("k"), g.int(2));
            o.state = Some(g.dict(vec![(k, two)]));
            g.object(o)
        }),
        case("m.KW()", |g| {
            let cls = global(g, "m", "KW");
            let one = g.int(1);
            let args = g.tuple(vec![one]);
            let mut o = Object::new(ObjectKind::NewObjEx, cls, args);
            let (k, two) = (g.str("a"), g.int(2));
            o.kwargs = Some(g.dict(vec![(k, two)]));
            g.object(o)
        })
        .protos(4..=5),
        case(
            "copyreg.add_extension('collections', 'OrderedDict', 240); copyreg.add_extension('m', 'A', 0x1234); copyreg.add_extension('m', 'P', 0x123456)\nv = [collections.OrderedDict, m.A, m.P, m.A]\nDUMP = lambda v, p: pickle.dumps(v, p)",
            |g| {
                let a = global(g, "collections", "OrderedDict");
                let b = global(g, "m", "A");
                let c = global(g, "m", "P");
                let d = global(g, "m", "A");
                g.list(vec![a, b, c, d])
            },
        )
        .opts(|o| {
            o.extension(240, "collections", "OrderedDict")
                .extension(0x1234, "m", "A")
                .extension(0x123456, "m", "P")
        }),
    ]);
}

#[test]
fn persistent_ids_and_buffers() {
    check(vec![
        case("v = ['@id1', 1]\nDUMP = dumps_pid", |g| {
            let s = g.str("id1");
            let pid = g.add(Node::PersId(s));
            let one = g.int(1);
            g.list(vec![pid, one])
        }),
        case(
            "v = [pickle.PickleBuffer(b'abc'), pickle.PickleBuffer(bytearray(b'xyz'))]\nDUMP = dumps_oob",
            |g| {
                let a = g.add(Node::Buffer(Box::new(Buffer {
                    index: 0,
                    readonly: true,
                    data: Some(b"abc"[..].into()),
                })));
                let b = g.add(Node::Buffer(Box::new(Buffer {
                    index: 1,
                    readonly: false,
                    data: Some(b"xyz"[..].into()),
                })));
                g.list(vec![a, b])
            },
        )
        .protos([5])
        .opts(|o| o.buffer_callback(|_| false)),
        case(
            "b = pickle.PickleBuffer(b'abc'); v = [b, pickle.PickleBuffer(bytearray(b'xyz')), b]",
            |g| {
                let a = g.add(Node::Buffer(Box::new(Buffer {
                    index: 0,
                    readonly: true,
                    data: Some(b"abc"[..].into()),
                })));
                let b = g.add(Node::Buffer(Box::new(Buffer {
                    index: 1,
                    readonly: false,
                    data: Some(b"xyz"[..].into()),
                })));
                g.list(vec![a, b, a])
            },
        )
        .protos([5]),
    ]);
}

#[test]
fn decoded_global_names_are_shared() {
    // A global that kept its STACK_GLOBAL strings writes those nodes (here the module string
    // is shared with a list item), so the sharing of the original pickle is kept.
    let mut g = Graph::new();
    let m = g.str("collections");
    let n = g.str("OrderedDict");
    let mut gl = Global::new("collections", "OrderedDict");
    gl.names = Some((m, n));
    let gid = g.add(Node::Global(Box::new(gl)));
    let root = g.list(vec![m, gid]);
    g.set_root(root);
    let got = brine::dumps_with(&g, DumpOptions::new().protocol(4)).unwrap();
    assert_eq!(
        got,
        b"\x80\x04\x95\x25\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x0bcollections\x94h\x01\x8c\x0bOrderedDict\x94\x93\x94e."
    );
}

#[test]
fn old_protocol_names() {
    // `original` wins below protocol 3; fix_imports(false) keeps Python 3 names.
    let mut g = Graph::new();
    let mut gl = Global::new("builtins", "str");
    gl.original = Some(("__builtin__".into(), "basestring".into()));
    let a = g.add(Node::Global(Box::new(gl)));
    g.set_root(a);
    let got = brine::dumps_with(&g, DumpOptions::new().protocol(2)).unwrap();
    assert_eq!(got, b"\x80\x02c__builtin__\nbasestring\nq\x00.");
    let mut g = Graph::new();
    let a = g.global("builtins", "str");
    g.set_root(a);
    let got = brine::dumps_with(&g, DumpOptions::new().protocol(2)).unwrap();
    assert_eq!(got, b"\x80\x02c__builtin__\nunicode\nq\x00.");
    let got = brine::dumps_with(&g, DumpOptions::new().protocol(2).fix_imports(false)).unwrap();
    assert_eq!(got, b"\x80\x02cbuiltins\nstr\nq\x00.");
}

#[test]
fn errors() {
    let mut g = Graph::new();
    let b = g.add(Node::Buffer(Box::new(Buffer {
        index: 0,
        readonly: true,
        data: None,
    })));
    g.set_root(b);
    let e = brine::dumps_with(&g, DumpOptions::new().protocol(4)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "PickleBuffer can only pickled with protocol >= 5"
    );

    let mut g = Graph::new();
    let s = g.str("é");
    let p = g.add(Node::PersId(s));
    g.set_root(p);
    let e = brine::dumps_with(&g, DumpOptions::new().protocol(0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "persistent IDs in protocol 0 must be ASCII strings"
    );
    assert!(brine::dumps_with(&g, DumpOptions::new().protocol(1)).is_ok());

    let mut g = Graph::new();
    let x = g.add(Node::Ext(7));
    g.set_root(x);
    assert!(brine::dumps_with(&g, DumpOptions::new().protocol(1)).is_err());
    assert_eq!(
        brine::dumps_with(&g, DumpOptions::new().protocol(2)).unwrap(),
        b"\x80\x02\x82\x07."
    );

    let mut g = Graph::new();
    let x = g.global("m", "é");
    g.set_root(x);
    assert!(brine::dumps_with(&g, DumpOptions::new().protocol(2)).is_err());
    assert!(brine::dumps_with(&g, DumpOptions::new().protocol(3)).is_ok());

    let mut g = Graph::new();
    let x = g.int(1);
    g.set_root(x);
    let e = brine::dumps_with(&g, DumpOptions::new().protocol(4).buffer_callback(|_| true))
        .unwrap_err();
    assert_eq!(e.to_string(), "buffer_callback needs protocol >= 5");
}

fn deep(n: usize) -> Graph {
    let mut g = Graph::new();
    let mut cur = g.list(vec![]);
    for i in 0..n {
        cur = if i % 2 == 0 {
            g.list(vec![cur])
        } else {
            g.tuple(vec![cur])
        };
    }
    g.set_root(cur);
    g
}

#[test]
fn deep_nesting_never_overflows() {
    let g = deep(100_000);
    let e = brine::dumps_with(&g, DumpOptions::new()).unwrap_err();
    assert_eq!(e.classify(), Category::Limit);
    for p in 0..=5 {
        let out = brine::dumps_with(&g, DumpOptions::new().protocol(p).limits(Limits::trusted()))
            .unwrap();
        assert_eq!(*out.last().unwrap(), b'.');
        assert!(out.len() > 200_000);
    }
}

#[test]
fn deep_nesting_matches_cpython_below_its_recursion_limit() {
    let py = "v = []\nfor i in range(300): v = [v] if i % 2 == 0 else (v,)";
    check(vec![case(py, |g| {
        let mut cur = g.list(vec![]);
        for i in 0..300 {
            cur = if i % 2 == 0 {
                g.list(vec![cur])
            } else {
                g.tuple(vec![cur])
            };
        }
        cur
    })]);
}

/// `tests/data` (or `$BRINE_TESTDATA_DIR`), when it holds the golden corpus.
fn data_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("BRINE_TESTDATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"));
    dir.join("golden/manifest.json").exists().then_some(dir)
}

/// Compares re-encodings of exported graphs with the expected pickles of every protocol.
/// Input lines: `name`, the graph, then six hex lines (protocols 0–5).
fn check_exported(out: &str) -> usize {
    let mut lines = out.lines();
    let mut failures = Vec::new();
    let mut count = 0;
    while let Some(name) = lines.next() {
        let (g, _) = common::python::import(&mut lines);
        for p in 0..=5u8 {
            let want: Vec<u8> = {
                let h = lines.next().unwrap();
                (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                    .collect()
            };
            match brine::dumps_with(&g, DumpOptions::new().protocol(p).limits(Limits::trusted())) {
                Ok(got) if got == want => {}
                Ok(got) => failures.push(format!(
                    "{name} @ protocol {p}\n--- got\n{}--- want\n{}",
                    common::python::dis(&got),
                    common::python::dis(&want)
                )),
                Err(e) => failures.push(format!("{name} @ protocol {p}: {e}")),
            }
            count += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    count
}

#[test]
fn golden_builtin_corpus() {
    let Some(dir) = data_dir() else {
        eprintln!("no golden corpus: skipping");
        return;
    };
    let script = format!(
        r#"
import json, pickle, sys
d = {dir:?} + '/golden/'
w = sys.stdout.write
for e in json.load(open(d + 'manifest.json')):
    if not e.get('builtin') or e['protocol'] != 5 or not e.get('cpython_reencode') or e.get('streams'):
        continue
    v = pickle.loads(open(d + e['file'], 'rb').read())
    w(e['name'] + '\n')
    export(v, w)
    for p in range(6):
        w(open(d + '%s.p%d.pickle' % (e['name'], p), 'rb').read().hex() + '\n')
"#,
        dir = dir.display().to_string()
    );
    // The corpus was made with PYTHONHASHSEED=0: reloaded str sets keep that order.
    let Some(out) = common::python::run(&script, &[("PYTHONHASHSEED", "0")]) else {
        return;
    };
    let n = check_exported(&out);
    assert!(n > 600, "only {n} golden pickles compared");
}

#[test]
fn random_values_match_cpython() {
    let Some(dir) = data_dir() else {
        eprintln!("no gen_random.py: skipping");
        return;
    };
    let script = format!(
        r#"
import pickle, subprocess, sys, struct
raw = subprocess.run([sys.executable, {gen:?}, '--seed', '7', '--count', '300'],
                     check=True, capture_output=True).stdout
recs, i = [], 0
while i < len(raw):
    n = struct.unpack_from('<I', raw, i)[0]; recs.append(raw[i + 4:i + 4 + n]); i += 4 + n
w = sys.stdout.write
for k in range(len(recs) // 6):
    six = recs[6 * k:6 * k + 6]
    v = pickle.loads(six[5])
    # Only values CPython itself re-encodes identically (set order survives a reload).
    if any(pickle.dumps(v, p) != six[p] for p in range(6)):
        continue
    w('random %d\n' % k)
    export(v, w)
    for p in range(6):
        w(six[p].hex() + '\n')
"#,
        gen = dir.join("gen_random.py").display().to_string()
    );
    let Some(out) = common::python::run(&script, &[("PYTHONHASHSEED", "0")]) else {
        return;
    };
    let n = check_exported(&out);
    assert!(n >= 6 * 200, "only {n} random pickles compared");
}
