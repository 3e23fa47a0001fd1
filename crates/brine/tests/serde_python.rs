//! Typed data against CPython: Python loads what brine's serializer writes (type and value
//! checked, class instances byte-compared with `pickle.dumps`), and brine reads CPython's
//! pickles of dataclasses, namedtuples, plain and `__slots__` classes into Rust structs. Also
//! the cases serde-pickle gets wrong: shared tuples, dict order, bytes vs bytearray, big ints
//! and class names. Needs `python3` (skipped with a note when missing).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::process::{Command, Stdio};

use brine::serde::{BigInt, ByteArray, FrozenSet, Global, Set, Tuple};
use brine::DumpOptions;
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Runs a python3 script with `tests/data` on `sys.path`; `None` when python3 is missing.
fn python(script: &str) -> Option<String> {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut child = match Command::new("python3")
        .arg("-")
        .env("PYTHONPATH", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(_) => {
            eprintln!("python3 not found: skipped");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Compares type and value all the way down (`1 == True` and `(1,) == [1]` do not pass),
/// dict key order included; instances by class and attributes.
const SAME: &str = r#"
import pickle, sys, collections
import serde_classes as sc
def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k, j) and same(a[k], b[j]) for k, j in zip(a, b))
    if isinstance(a, (set, frozenset)):
        return a == b and sorted(map(repr, a)) == sorted(map(repr, b))
    if isinstance(a, (bool, int, float, str, bytes, bytearray, type(None), type)):
        return a == b
    return same(sc.attrs(a), sc.attrs(b))
"#;

/// One value written by brine and the Python expression it must load as.
struct Case {
    bytes: Vec<Vec<u8>>,
    expr: &'static str,
    /// brine's bytes must also equal `pickle.dumps(expr, p)`.
    identical: bool,
}

fn case<T: Serialize>(v: &T, expr: &'static str, identical: bool) -> Case {
    let bytes = (0..=5)
        .map(|p| brine::to_vec_with(v, DumpOptions::new().protocol(p)).unwrap())
        .collect();
    Case {
        bytes,
        expr,
        identical,
    }
}

#[derive(Serialize)]
enum E {
    Unit,
    New(i32),
    Tup(u8, String),
    Rec { a: bool, b: Option<u8> },
}

#[derive(Serialize)]
struct UnitS;

#[derive(Serialize)]
struct NewS(String);

#[derive(Serialize)]
struct TupS(u8, i64);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "serde_classes.Point")]
struct Point {
    x: i32,
    y: i32,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "serde_classes:Outer.Inner")]
struct Inner {
    v: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "serde_classes.Pair")]
struct Pair(i32, String);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Rec {
    id: u32,
    name: String,
    score: f64,
    active: bool,
    tags: Vec<String>,
}

#[test]
fn python_loads_what_brine_writes() {
    let recs: Vec<Rec> = (0..3)
        .map(|i| Rec {
            id: i,
            name: format!("user{i}"),
            score: i as f64 * 0.5,
            active: i % 2 == 0,
            tags: vec!["a".into(), "b".into()],
        })
        .collect();
    let cases = vec![
        case(&true, "True", true),
        case(&-5i64, "-5", true),
        case(&300u16, "300", true),
        case(&u64::MAX, "2**64 - 1", true),
        case(&i128::MIN, "-2**127", true),
        case(&u128::MAX, "2**128 - 1", true),
        case(
            &BigInt("-1".parse::<num_bigint::BigInt>().unwrap() * num_bigint::BigInt::from(10).pow(40)),
            "-10**40",
            true,
        ),
        case(&1.5f64, "1.5", true),
        case(&'é', "'é'", true),
        case(&"héllo wörld, a longer string".to_owned(), "'héllo wörld, a longer string'", true),
        case(&serde_bytes::ByteBuf::from(b"\x00\xff".to_vec()), "b'\\x00\\xff'", true),
        case(&ByteArray(b"ab".to_vec()), "bytearray(b'ab')", true),
        case(&None::<u8>, "None", true),
        case(&Some(3u8), "3", true),
        case(&(), "None", true),
        case(&vec![1, 2], "[1, 2]", true),
        case(&(1, "a"), "(1, 'a')", true),
        case(&[7u8; 3], "(7, 7, 7)", true),
        case(&Tuple(vec![1]), "(1,)", true),
        case(
            &IndexMap::from([("z", 1), ("a", 2), ("m", 3)]),
            "{'z': 1, 'a': 2, 'm': 3}",
            true,
        ),
        case(&BTreeMap::from([((1, 2), "p")]), "{(1, 2): 'p'}", true),
        case(&BTreeMap::from([(1i64, true), (-2, false)]), "{-2: False, 1: True}", true),
        case(&BTreeSet::from([1, 2]), "[1, 2]", true),
        case(&Set(BTreeSet::from([1, 2])), "{1, 2}", true),
        case(&FrozenSet(BTreeSet::from([1, 2])), "frozenset({1, 2})", true),
        case(&E::Unit, "'Unit'", true),
        case(&E::New(1), "{'New': 1}", true),
        case(&E::Tup(1, "x".into()), "{'Tup': (1, 'x')}", true),
        case(
            &E::Rec { a: true, b: None },
            "{'Rec': {'a': True, 'b': None}}",
            true,
        ),
        case(&UnitS, "None", true),
        case(&NewS("n".into()), "'n'", true),
        case(&TupS(1, 2), "(1, 2)", true),
        case(
            &recs,
            "[{'id': i, 'name': f'user{i}', 'score': i * 0.5, 'active': i % 2 == 0, 'tags': ['a', 'b']} for i in range(3)]",
            true,
        ),
        case(&Global::new("collections", "OrderedDict"), "collections.OrderedDict", true),
        case(&Point { x: 1, y: 2 }, "sc.Point(1, 2)", true),
        case(
            &vec![Point { x: 1, y: 2 }, Point { x: 3, y: 4 }],
            "[sc.Point(1, 2), sc.Point(3, 4)]",
            true,
        ),
        case(&Inner { v: "v".into() }, "sc.Outer.Inner('v')", true),
        // CPython writes a namedtuple with NEWOBJ; brine writes `Pair(1, 'x')` (REDUCE).
        case(&Pair(1, "x".into()), "sc.Pair(1, 'x')", false),
    ];
    let mut script = String::from(SAME);
    script.push_str("CASES = [\n");
    for (i, c) in cases.iter().enumerate() {
        for (p, b) in c.bytes.iter().enumerate() {
            script.push_str(&format!("({i}, {p}, {:?}, {:?}),\n", hex(b), c.expr));
        }
    }
    script.push_str(
        r#"]
for i, p, data, expr in CASES:
    data = bytes.fromhex(data)
    want = eval(expr)
    got = pickle.loads(data)
    ident = pickle.dumps(want, p) == data
    print(i, p, 'ok' if same(got, want) else 'FAIL %r' % (got,), 'identical' if ident else 'different')
"#,
    );
    let Some(out) = python(&script) else { return };
    let mut checked = 0;
    for line in out.lines() {
        let mut w = line.splitn(3, ' ');
        let i: usize = w.next().unwrap().parse().unwrap();
        let p: usize = w.next().unwrap().parse().unwrap();
        let rest = w.next().unwrap();
        let c = &cases[i];
        assert!(
            rest.starts_with("ok "),
            "{} at protocol {p}: {rest}",
            c.expr
        );
        if c.identical {
            assert!(
                rest.ends_with(" identical"),
                "{} at protocol {p}: bytes differ from pickle.dumps",
                c.expr
            );
        }
        checked += 1;
    }
    assert_eq!(checked, cases.len() * 6);
}

/// `pickle.dumps(expr, p)` for every expression and protocol 0–5 (`None` where CPython
/// refuses the protocol).
fn cpython(exprs: &[&str]) -> Option<Vec<[Option<Vec<u8>>; 6]>> {
    let mut script = String::from(SAME);
    script.push_str("EXPRS = [\n");
    for e in exprs {
        script.push_str(&format!("{e:?},\n"));
    }
    script.push_str(
        r#"]
for e in EXPRS:
    ns = {'sc': sc, 'collections': collections}
    exec('a = [1]\nshared = ((a, a), (a, a))', ns)
    v = eval(e, ns)
    out = []
    for p in range(6):
        try:
            out.append(pickle.dumps(v, p).hex())
        except TypeError:  # __slots__ classes need protocol 2
            out.append('-')
    print(' '.join(out))
"#,
    );
    let out = python(&script)?;
    Some(
        out.lines()
            .map(|l| {
                let v: Vec<Option<Vec<u8>>> =
                    l.split(' ').map(|h| (h != "-").then(|| unhex(h))).collect();
                v.try_into().unwrap()
            })
            .collect(),
    )
}

/// Reads each protocol's pickle of a CPython value as `T` and compares with `want`.
fn check<T: DeserializeOwned + PartialEq + std::fmt::Debug>(all: &[Option<Vec<u8>>; 6], want: &T) {
    assert!(
        all[2..].iter().all(Option::is_some),
        "CPython wrote protocols 2-5"
    );
    for (p, b) in all.iter().enumerate() {
        let Some(b) = b else { continue };
        let got: T = brine::from_slice(b).unwrap_or_else(|e| {
            let mut listing = Vec::new();
            let _ = brine::dis::dis(b, &mut listing, &Default::default());
            panic!("protocol {p}: {e}\n{}", String::from_utf8_lossy(&listing))
        });
        assert_eq!(&got, want, "protocol {p}");
    }
}

#[derive(Deserialize, Debug, PartialEq)]
struct Xy {
    x: i32,
    y: i32,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Record {
    name: String,
    n: i64,
    tags: Vec<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct SlotRecord {
    name: String,
    n: i64,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Ab {
    a: i32,
    b: String,
}

#[test]
fn brine_reads_cpython_instances() {
    let exprs = [
        "sc.Point(1, 2)",
        "sc.Slotted(1, 2)",
        "sc.SlottedDict(1, 2)",
        "sc.Record('r', 5, ['t'])",
        "sc.SlotRecord('s', 6)",
        "sc.Pair(1, 'x')",
        "sc.Outer.Inner('v')",
        "[sc.Point(1, 2), sc.Point(3, 4)]",
        "collections.OrderedDict([('b', 1), ('a', 2)])",
    ];
    let Some(all) = cpython(&exprs) else { return };
    check(&all[0], &Xy { x: 1, y: 2 });
    check(&all[0], &Point { x: 1, y: 2 });
    check(&all[1], &Xy { x: 1, y: 2 });
    check(&all[2], &Xy { x: 1, y: 2 });
    check(
        &all[3],
        &Record {
            name: "r".into(),
            n: 5,
            tags: vec!["t".into()],
        },
    );
    check(
        &all[4],
        &SlotRecord {
            name: "s".into(),
            n: 6,
        },
    );
    check(&all[5], &Pair(1, "x".into()));
    check(
        &all[5],
        &Ab {
            a: 1,
            b: "x".into(),
        },
    );
    check(&all[5], &(1, "x".to_owned()));
    check(&all[6], &Inner { v: "v".into() });
    check(&all[7], &vec![Xy { x: 1, y: 2 }, Xy { x: 3, y: 4 }]);
    check(
        &all[8],
        &IndexMap::from([("b".to_owned(), 1), ("a".to_owned(), 2)]),
    );
    check(&all[8], &vec![("b".to_owned(), 1), ("a".to_owned(), 2)]);
}

/// The failures of serde-pickle, each done right.
#[test]
fn serde_pickle_failures() {
    let exprs = [
        "shared",
        "{'z': 1, 'a': 2, 'm': 3}",
        "[b'a', bytearray(b'b')]",
        "[2**64, -2**100, 2**127 - 1, -2**127, 2**128 - 1]",
        "{(1, 2): 'a', (3, 4): 'b'}",
        "[{1, 2}, frozenset({3})]",
    ];
    let Some(all) = cpython(&exprs) else { return };
    // `a = [1]; ((a, a), (a, a))`: memo GETs of a shared list and a shared tuple.
    let v1 = vec![1u8];
    check(&all[0], &((v1.clone(), v1.clone()), (v1.clone(), v1)));
    // Insertion order is kept.
    let order = [("z", 1), ("a", 2), ("m", 3)].map(|(k, v)| (k.to_owned(), v));
    check(&all[1], &IndexMap::from(order.clone()));
    check(&all[1], &order.to_vec());
    // bytes and bytearray stay distinct.
    check(
        &all[2],
        &(
            serde_bytes::ByteBuf::from(b"a".to_vec()),
            ByteArray(b"b".to_vec()),
        ),
    );
    for b in all[2].iter().flatten() {
        assert!(brine::from_slice::<(ByteArray, ByteArray)>(b).is_err());
    }
    // Big ints: u128, i128 and BigInt.
    let big = BigInt(-num_bigint::BigInt::from(2).pow(100));
    check(
        &all[3],
        &(1u128 << 64, big, i128::MAX, i128::MIN, u128::MAX),
    );
    // Hashable keys of any type.
    check(
        &all[4],
        &HashMap::from([((1, 2), "a".to_owned()), ((3, 4), "b".to_owned())]),
    );
    check(
        &all[5],
        &(Set(BTreeSet::from([1, 2])), FrozenSet(BTreeSet::from([3]))),
    );
}
