//! Typed round trips: every row of the serde mapping table at every protocol, through every
//! path (slice, reader, value graph), plus zero-copy borrowing, paths in errors, sharing,
//! cycles and depth. Python-side checks are in `serde_python.rs`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Debug;

use brine::serde::{BigInt, ByteArray, FrozenSet, Global, Set, Tuple};
use brine::value::Node;
use brine::{Category, DumpOptions};
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Writes `v` at each protocol and reads it back through the slice, the reader and the value
/// graph; checks that every proper prefix of the pickle fails as EOF.
fn rt<T: Serialize + DeserializeOwned + PartialEq + Debug>(v: &T) {
    let g = brine::to_value(v).unwrap();
    assert_eq!(&brine::from_value::<T>(&g).unwrap(), v, "value graph");
    for p in 0..=5u8 {
        let b = brine::to_vec_with(v, DumpOptions::new().protocol(p)).unwrap();
        let back: T = brine::from_slice(&b).unwrap_or_else(|e| panic!("protocol {p}: {e}"));
        assert_eq!(&back, v, "protocol {p}");
        let back: T = brine::from_reader(&b[..]).unwrap();
        assert_eq!(&back, v, "reader, protocol {p}");
        let mut w = Vec::new();
        brine::to_writer_with(&mut w, v, DumpOptions::new().protocol(p)).unwrap();
        assert_eq!(w, b, "to_writer, protocol {p}");
        // The bytes decode to the graph `to_value` builds (protocol ≥ 2: same class form).
        if p >= 2 {
            assert_eq!(brine::loads(&b).unwrap(), g, "graph, protocol {p}");
        }
        // Every prefix of small pickles; a sample of a large one's (it is quadratic).
        let step = (b.len() / 200).max(1);
        for n in (0..b.len()).step_by(step) {
            let e = brine::from_slice::<T>(&b[..n]).unwrap_err();
            assert_eq!(
                e.classify(),
                Category::Eof,
                "prefix {n} of protocol {p}: {e}"
            );
        }
    }
}

/// The root node's Python kind of `v` written at `p`.
fn kind<T: Serialize>(v: &T, p: u8) -> &'static str {
    let b = brine::to_vec_with(v, DumpOptions::new().protocol(p)).unwrap();
    let g = brine::loads(&b).unwrap();
    g.get(g.root().unwrap()).kind_name()
}

#[test]
fn scalars() {
    rt(&true);
    rt(&false);
    for v in [
        i64::MIN,
        -1,
        0,
        1,
        255,
        256,
        65535,
        65536,
        i32::MAX as i64,
        i64::MAX,
    ] {
        rt(&v);
    }
    rt(&(i8::MIN, i16::MIN, i32::MIN, u8::MAX, u16::MAX, u32::MAX));
    rt(&u64::MAX);
    rt(&i128::MIN);
    rt(&i128::MAX);
    rt(&u128::MAX);
    rt(&(1.5f32, -0.0f64, f64::INFINITY, 1e300));
    rt(&'x');
    rt(&'é');
    rt(&'😀');
    rt(&());
    rt(&Some(3u8));
    rt(&None::<u8>);
    rt(&Some(None::<u8>).flatten());
}

#[test]
fn big_ints() {
    let big: num_bigint::BigInt = "-123456789012345678901234567890123456789012345678901234567890"
        .parse()
        .unwrap();
    rt(&BigInt(big.clone()));
    rt(&BigInt(num_bigint::BigInt::from(u128::MAX) + 1));
    rt(&BigInt(5.into()));
    // An int beyond 128 bits into a u128 is a clear error, not a wrap.
    let b = brine::to_vec(&BigInt(big)).unwrap();
    let e = brine::from_slice::<i128>(&b).unwrap_err();
    assert!(
        e.to_string().contains("too large for a Rust integer"),
        "{e}"
    );
    // Range checks.
    let e = brine::from_slice::<u8>(&brine::to_vec(&300).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value: integer `300`, expected u8 at the top level"
            .replace(" at the top level", "")
    );
    assert_eq!(kind(&u64::MAX, 2), "int");
    assert_eq!(
        brine::from_slice::<u128>(&brine::to_vec(&u64::MAX).unwrap()).unwrap(),
        u64::MAX as u128
    );
    // A float field reads an int.
    assert_eq!(
        brine::from_slice::<f64>(&brine::to_vec(&3).unwrap()).unwrap(),
        3.0
    );
}

#[test]
fn text_and_bytes() {
    for s in [
        "",
        "a",
        "héllo",
        "😀 emoji",
        &"long".repeat(100),
        &"x".repeat(70_000),
    ] {
        rt(&s.to_owned());
    }
    for b in [&b""[..], b"\x00\xff", &[7u8; 300], &[1u8; 70_000]] {
        rt(&serde_bytes::ByteBuf::from(b.to_vec()));
        rt(&ByteArray(b.to_vec()));
    }
    // bytes and bytearray stay distinct both ways.
    for p in 0..=5 {
        assert_eq!(kind(&serde_bytes::ByteBuf::from(vec![1]), p), "bytes");
        assert_eq!(kind(&ByteArray(vec![1]), p), "bytearray");
    }
    let e = brine::from_slice::<ByteArray>(
        &brine::to_vec(&serde_bytes::ByteBuf::from(vec![1])).unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "expected a bytearray, found a Python bytes");
    // A ByteBuf reads either.
    let b: serde_bytes::ByteBuf =
        brine::from_slice(&brine::to_vec(&ByteArray(vec![9])).unwrap()).unwrap();
    assert_eq!(b.as_slice(), [9]);
    // Vec<u8> without serde_bytes is a list of ints, and reads bytes too.
    rt(&vec![1u8, 2, 3]);
    assert_eq!(kind(&vec![1u8, 2], 4), "list");
    let v: Vec<u8> =
        brine::from_slice(&brine::to_vec(&serde_bytes::Bytes::new(b"ab")).unwrap()).unwrap();
    assert_eq!(v, b"ab");
}

#[test]
fn sequences() {
    rt(&Vec::<i32>::new());
    rt(&vec![1, 2, 3]);
    rt(&(0..2500).collect::<Vec<u32>>()); // several APPENDS batches
    rt(&VecDeque::from([1, 2]));
    rt(&(1u8, "two".to_owned(), 3.0f64));
    rt(&[1u8, 2, 3]);
    rt(&(1,));
    rt(&Tuple(vec![1, 2]));
    rt(&Tuple(Vec::<u8>::new()));
    rt(&(0..1500)
        .map(|i| (i, i.to_string()))
        .collect::<Vec<(u32, String)>>());
    for p in 0..=5 {
        assert_eq!(kind(&(1, 2), p), "tuple");
        assert_eq!(kind(&[1, 2], p), "tuple");
        assert_eq!(kind(&vec![1, 2], p), "list");
        assert_eq!(kind(&Tuple(vec![1, 2]), p), "tuple");
    }
    // A tuple reads into a Vec and a list into a Rust tuple, but `Tuple<T>` wants a tuple.
    let v: Vec<u8> = brine::from_slice(&brine::to_vec(&(1u8, 2u8)).unwrap()).unwrap();
    assert_eq!(v, [1, 2]);
    let t: (u8, u8) = brine::from_slice(&brine::to_vec(&vec![1u8, 2]).unwrap()).unwrap();
    assert_eq!(t, (1, 2));
    let e = brine::from_slice::<Tuple<Vec<u8>>>(&brine::to_vec(&vec![1u8]).unwrap()).unwrap_err();
    assert_eq!(e.to_string(), "expected a tuple, found a Python list");
    let e = brine::from_slice::<(u8, u8)>(&brine::to_vec(&vec![1u8, 2, 3]).unwrap()).unwrap_err();
    assert_eq!(e.to_string(), "3 items where 2 were expected");
}

#[test]
fn maps() {
    rt(&HashMap::from([("a".to_owned(), 1), ("b".to_owned(), 2)]));
    rt(&BTreeMap::from([
        (1i64, "x".to_owned()),
        (-5, "y".to_owned()),
    ]));
    rt(&IndexMap::from([
        ("z".to_owned(), 1),
        ("a".to_owned(), 2),
        ("m".to_owned(), 3),
    ]));
    rt(&HashMap::from([
        ((1i32, 2i32), "p".to_owned()),
        ((3, 4), "q".to_owned()),
    ]));
    rt(&BTreeMap::from([(true, 1u8), (false, 0)]));
    rt(&BTreeMap::from([((1u8, "a".to_owned()), vec![1.5f64])]));
    rt(&(0..1200)
        .map(|i| (i, i * 2))
        .collect::<BTreeMap<u32, u32>>());
    rt(&HashMap::<String, u8>::new());
    for p in 0..=5 {
        assert_eq!(kind(&BTreeMap::from([(1, 2)]), p), "dict");
    }
    // Unhashable keys are refused when writing, like Python refuses them.
    let e = brine::to_vec(&BTreeMap::from([(vec![1], 2)])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unhashable type: 'list' cannot be a dict key"
    );
}

#[test]
fn sets() {
    rt(&HashSet::from([1, 2, 3]));
    rt(&BTreeSet::from(["a".to_owned(), "b".to_owned()]));
    rt(&Set(BTreeSet::from([1, 2, 3])));
    rt(&Set(Vec::<i32>::new()));
    rt(&FrozenSet(BTreeSet::from([(1, 2)])));
    rt(&FrozenSet(Vec::<u8>::new()));
    rt(&Set((0..2500).collect::<BTreeSet<u32>>()));
    for p in 0..=5 {
        assert_eq!(kind(&Set(vec![1]), p), "set");
        assert_eq!(kind(&FrozenSet(vec![1]), p), "frozenset");
    }
    // A Rust set reads a Python set or frozenset.
    let s: BTreeSet<u8> =
        brine::from_slice(&brine::to_vec(&FrozenSet(vec![2u8, 1])).unwrap()).unwrap();
    assert_eq!(s, BTreeSet::from([1, 2]));
    let e = brine::from_slice::<Set<Vec<u8>>>(&brine::to_vec(&FrozenSet(vec![1u8])).unwrap())
        .unwrap_err();
    assert_eq!(e.to_string(), "expected a set, found a Python frozenset");
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum E {
    Unit,
    New(i32),
    Tup(u8, String),
    Rec { a: bool, b: Option<Box<E>> },
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct UnitS;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct NewS(String);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct TupS(u8, i64);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Rec {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: Option<f64>,
    e: E,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "geometry.Point")]
struct Point {
    x: i32,
    y: i32,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "pkg.mod:Outer.Pair")]
struct Pair(u8, String);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "m.Empty")]
struct Empty {}

#[test]
fn enums_and_structs() {
    rt(&E::Unit);
    rt(&E::New(-3));
    rt(&E::Tup(1, "x".into()));
    rt(&E::Rec {
        a: true,
        b: Some(Box::new(E::Unit)),
    });
    rt(&vec![E::Unit, E::New(1), E::Unit]);
    rt(&UnitS);
    rt(&NewS("n".into()));
    rt(&TupS(1, -1));
    rt(&Rec {
        id: 1,
        name: "ada".into(),
        tags: vec!["a".into()],
        score: None,
        e: E::Tup(2, "t".into()),
    });
    rt(&Point { x: 1, y: -2 });
    rt(&vec![Point { x: 1, y: 2 }, Point { x: 3, y: 4 }]);
    rt(&Pair(1, "p".into()));
    rt(&Empty {});
    rt(&Global::new("collections", "OrderedDict"));
    for p in 0..=5 {
        assert_eq!(kind(&E::Unit, p), "str");
        assert_eq!(kind(&E::New(1), p), "dict");
        assert_eq!(kind(&Point { x: 1, y: 2 }, p), "object");
        assert_eq!(kind(&Global::new("a", "b"), p), "global");
    }
    // The tuple variant's payload is a Python tuple; a list payload reads too.
    let g = brine::to_value(&E::Tup(1, "x".into())).unwrap();
    let Node::Dict(items) = g.get(g.root().unwrap()) else {
        panic!()
    };
    let items = g.pairs(*items);
    assert_eq!(g.get(items.get(0).unwrap().1).kind_name(), "tuple");
    let b = brine::to_vec(&BTreeMap::from([("Tup", (1, "x"))])).unwrap();
    assert_eq!(brine::from_slice::<E>(&b).unwrap(), E::Tup(1, "x".into()));
    let e = brine::from_slice::<E>(&brine::to_vec(&"Nope").unwrap()).unwrap_err();
    assert!(e.to_string().starts_with("unknown variant `Nope`"), "{e}");
}

#[derive(Deserialize, Debug, PartialEq)]
struct Borrowed<'a> {
    s: &'a str,
    b: &'a [u8],
    #[serde(borrow)]
    c: Cow<'a, str>,
}

#[test]
fn zero_copy() {
    #[derive(Serialize)]
    struct Out<'a> {
        s: &'a str,
        #[serde(with = "serde_bytes")]
        b: &'a [u8],
        c: &'a str,
    }
    let long = "y".repeat(1000);
    let out = Out {
        s: "text",
        b: b"\x00bytes",
        c: &long,
    };
    // Protocol ≥ 3: str and bytes are stored as-is, so everything borrows.
    for p in 3..=5 {
        let data = brine::to_vec_with(&out, DumpOptions::new().protocol(p)).unwrap();
        let v: Borrowed = brine::from_slice(&data).unwrap();
        let range = data.as_ptr_range();
        assert!(range.contains(&v.s.as_ptr()), "protocol {p}");
        assert!(range.contains(&v.b.as_ptr()), "protocol {p}");
        assert!(matches!(v.c, Cow::Borrowed(_)), "protocol {p}");
        assert_eq!(
            (v.s, v.b, &*v.c),
            ("text", &b"\x00bytes"[..], long.as_str())
        );
    }
    // A shared string met again after later ones (memo GETs of early nodes) borrows its own
    // text, more often than the lookup cache holds.
    let words: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
    let mut shared: Vec<String> = words.clone();
    shared.extend(words.iter().rev().cloned());
    let g = brine::to_value(&words).unwrap();
    let Node::List(ids) = g.get(g.root().unwrap()) else {
        panic!()
    };
    let ids = g.items(*ids);
    let mut again = brine::value::Graph::new();
    again.clone_from(&g);
    let mut both = ids.to_vec();
    both.extend(ids.iter().rev().copied());
    let root = again.list(both);
    again.set_root(root);
    for p in 1..=5 {
        let data = brine::dumps_with(&again, DumpOptions::new().protocol(p)).unwrap();
        let v: Vec<&str> = brine::from_slice(&data).unwrap();
        assert_eq!(v, shared, "protocol {p}");
    }
    // Protocol 0 writes text escaped: a `Cow` falls back to owned, a `&str` cannot borrow.
    let data = brine::to_vec_with(&out, DumpOptions::new().protocol(0)).unwrap();
    #[derive(Deserialize)]
    struct Cows<'a> {
        #[serde(borrow)]
        s: Cow<'a, str>,
        #[serde(borrow)]
        c: Cow<'a, str>,
    }
    let v: Cows = brine::from_slice(&data).unwrap();
    assert!(matches!(v.s, Cow::Owned(_)) && v.c == long);
    let e = brine::from_slice::<Borrowed>(&data).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid type: string \"text\", expected a borrowed string"),
        "{e}"
    );
    // From a value graph everything borrows from the graph.
    let g = brine::loads(&brine::to_vec(&out).unwrap()).unwrap();
    let v: Borrowed = brine::from_value(&g).unwrap();
    assert_eq!(v.s, "text");
}

#[test]
fn error_paths() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct User {
        name: String,
        age: u8,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        users: Vec<User>,
        by_id: HashMap<i64, User>,
    }
    let bad = serde_json::json!({
        "users": [{"name": "a", "age": 1}, {"name": "b", "age": 1}, {"name": "c", "age": 1}, {"name": "d", "age": 300}],
        "by_id": {},
    });
    let e = brine::from_slice::<Doc>(&brine::to_vec(&bad).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value: integer `300`, expected u8 at .users[3].age"
    );
    assert_eq!(e.path(), Some(".users[3].age"));
    assert_eq!(e.classify(), Category::Data);
    #[derive(Serialize)]
    struct DocOut {
        users: Vec<()>,
        by_id: BTreeMap<i64, BTreeMap<&'static str, i32>>,
    }
    let doc = DocOut {
        users: vec![],
        by_id: BTreeMap::from([(7, BTreeMap::from([("name", 1), ("age", 2)]))]),
    };
    let e = brine::from_slice::<Doc>(&brine::to_vec(&doc).unwrap()).unwrap_err();
    assert_eq!(e.path(), Some(".by_id[7].name"));
    let e = brine::from_slice::<Doc>(&brine::to_vec(&serde_json::json!({"users": []})).unwrap())
        .unwrap_err();
    assert_eq!(e.to_string(), "missing field `by_id`");
    // Enum payloads name the variant.
    let b = brine::to_vec(&BTreeMap::from([("New", "x")])).unwrap();
    assert_eq!(
        brine::from_slice::<E>(&b).unwrap_err().to_string(),
        "invalid type: string \"x\", expected i32 at .New"
    );
    // Custom messages are kept verbatim.
    #[derive(Debug)]
    struct Odd;
    impl<'de> Deserialize<'de> for Odd {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let v = u8::deserialize(d)?;
            Err(serde::de::Error::custom(format!("{v} is not odd enough")))
        }
    }
    let e = brine::from_slice::<Vec<Odd>>(&brine::to_vec(&[1, 3]).unwrap()).unwrap_err();
    assert_eq!(e.to_string(), "1 is not odd enough at [0]");
}

#[test]
fn shared_and_cycles() {
    // `a = [1]; ((a, a), (a, a))` as CPython writes it (protocol 2): memo GETs everywhere.
    let data = b"\x80\x02]q\x00K\x01ah\x00\x86q\x01h\x01\x86q\x02.";
    type Pair = (Vec<u8>, Vec<u8>);
    let v: (Pair, Pair) = brine::from_slice(data).unwrap();
    assert_eq!(v, ((vec![1], vec![1]), (vec![1], vec![1])));
    // `x = []; x.append(x)`: a cycle, reported where it closes.
    let data = b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00]\x94h\x00a.";
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Nest(Vec<Nest>);
    let e = brine::from_slice::<Nest>(data).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cycle: the value contains itself (only the value graph can hold it) at [0]"
    );
    // serde_json::Value is a recursive type too.
    let e = brine::from_slice::<serde_json::Value>(data).unwrap_err();
    assert!(e.to_string().starts_with("cycle"), "{e}");
    // The value graph keeps it.
    let g = brine::loads(data).unwrap();
    assert!(matches!(g.get(g.root().unwrap()), Node::List(v) if v.len() == 1));
    // An ignored field may hold the cycle: `b = []; b.append(b); {'a': 1, 'b': b}`.
    let d = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01X\x01\x00\x00\x00bq\x02]q\x03h\x03au.";
    #[derive(Deserialize)]
    struct A {
        a: u8,
    }
    assert_eq!(brine::from_slice::<A>(d).unwrap().a, 1);
    assert!(brine::from_slice::<HashMap<String, serde_json::Value>>(d).is_err());
}

#[test]
fn depth_is_bounded() {
    // 100 000 nested lists into a recursive type: a limit error, not a stack overflow.
    let n = 100_000;
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat_n(b"]".as_slice(), n).flatten());
    data.extend(std::iter::repeat_n(b"a".as_slice(), n - 1).flatten());
    data.push(b'.');
    let e = brine::from_slice::<serde_json::Value>(&data).unwrap_err();
    assert_eq!(e.classify(), Category::Limit, "{e}");
    #[derive(Serialize)]
    struct Deep {
        next: Option<Box<Deep>>,
    }
    let mut d = Deep { next: None };
    for _ in 0..1000 {
        d = Deep {
            next: Some(Box::new(d)),
        };
    }
    let e = brine::to_vec(&vec![Tuple(vec![d])]).unwrap_err();
    assert_eq!(e.classify(), Category::Limit, "{e}");
    // `Limits::max_depth` lowers the bound both ways.
    let v = vec![vec![vec![1u8]]];
    let limits = brine::Limits {
        max_depth: 2,
        ..brine::Limits::default()
    };
    let e = brine::to_vec_with(&v, DumpOptions::new().limits(limits.clone())).unwrap_err();
    assert_eq!(e.to_string(), "limit exceeded: max_depth at [0][0]");
    let data = brine::to_vec(&v).unwrap();
    let opts = brine::LoadOptions::new().limits(limits);
    let e = brine::from_slice_with::<Vec<Vec<Vec<u8>>>>(&data, opts).unwrap_err();
    assert_eq!(e.to_string(), "limit exceeded: max_depth at [0][0]");
    let three = brine::LoadOptions::new().limits(brine::Limits {
        max_depth: 3,
        ..brine::Limits::default()
    });
    assert_eq!(
        brine::from_slice_with::<Vec<Vec<Vec<u8>>>>(&data, three).unwrap(),
        v
    );
}

#[test]
fn value_interop() {
    let rec = vec![Point { x: 1, y: 2 }];
    let g = brine::to_value(&rec).unwrap();
    // The graph writes the same bytes as to_vec.
    assert_eq!(brine::dumps(&g).unwrap(), brine::to_vec(&rec).unwrap());
    let back: Vec<Point> = brine::from_value(&g).unwrap();
    assert_eq!(back, rec);
    // Decode once, take parts.
    let data = brine::to_vec(&(Point { x: 5, y: 6 }, "rest")).unwrap();
    let g = brine::loads(&data).unwrap();
    let Node::Tuple(parts) = g.get(g.root().unwrap()) else {
        panic!()
    };
    let parts = g.items(*parts);
    assert_eq!(
        brine::from_node::<Point>(&g, parts[0]).unwrap(),
        Point { x: 5, y: 6 }
    );
    assert_eq!(brine::from_node::<&str>(&g, parts[1]).unwrap(), "rest");
}

#[test]
fn serializer_and_deserializer_types() {
    let mut out = Vec::new();
    let mut ser = brine::serde::Serializer::new(&mut out, DumpOptions::new().protocol(3));
    Point { x: 1, y: 2 }.serialize(&mut ser).unwrap();
    vec![1, 2].serialize(&mut ser).unwrap();
    7u8.serialize(&mut ser).unwrap();
    let mut u = brine::Unpickler::new(&out, brine::LoadOptions::new());
    let a = u.load().unwrap();
    assert_eq!(
        brine::from_node::<Point>(u.graph(), a).unwrap(),
        Point { x: 1, y: 2 }
    );
    u.clear_memo();
    let b = u.load().unwrap();
    assert_eq!(brine::from_node::<Vec<u8>>(u.graph(), b).unwrap(), [1, 2]);
    let mut de = brine::serde::Deserializer::from_slice(&out).unwrap();
    assert_eq!(Point::deserialize(&mut de).unwrap(), Point { x: 1, y: 2 });
    assert!(de.graph().len() > 3);
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename = "geometry.Vector")]
struct Vector {
    x: i32,
    y: i32,
}

#[derive(Deserialize, Debug, PartialEq)]
struct AnyXY {
    x: i32,
    y: i32,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename = "pkg.mod:Outer.Other")]
struct OtherPair(u8, String);

/// A struct declared as a Python class reads instances of that class only; a struct with a
/// plain name reads any instance with those fields, and any struct reads a dict.
#[test]
fn class_names_are_checked() {
    for p in 0..=5u8 {
        let b = brine::to_vec_with(&Point { x: 1, y: 2 }, DumpOptions::new().protocol(p)).unwrap();
        let e = brine::from_slice::<Vector>(&b).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected an instance of geometry.Vector, found an instance of geometry.Point",
            "protocol {p}"
        );
        assert_eq!(e.classify(), Category::Data);
        let g = brine::loads(&b).unwrap();
        assert!(brine::from_value::<Vector>(&g).is_err(), "protocol {p}");
        assert_eq!(
            brine::from_slice::<Point>(&b).unwrap(),
            Point { x: 1, y: 2 }
        );
        assert_eq!(
            brine::from_slice::<AnyXY>(&b).unwrap(),
            AnyXY { x: 1, y: 2 }
        );
        let d =
            brine::to_vec_with(&AnyXYOut { x: 3, y: 4 }, DumpOptions::new().protocol(p)).unwrap();
        assert_eq!(
            brine::from_slice::<Vector>(&d).unwrap(),
            Vector { x: 3, y: 4 }
        );
        let b = brine::to_vec_with(&Pair(1, "p".into()), DumpOptions::new().protocol(p)).unwrap();
        let e = brine::from_slice::<OtherPair>(&b).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected an instance of pkg.mod.Outer.Other, found an instance of pkg.mod.Outer.Pair",
            "protocol {p}"
        );
    }
    // An instance pickled by CPython (`class C: pass` in module `m`, protocol 2) into a struct
    // declared as `geometry.Vector`.
    let cpy = b"\x80\x02cm\nC\nq\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00xq\x03K\x01X\x01\x00\x00\x00yq\x04K\x02ub.";
    let e = brine::from_slice::<Vector>(cpy).unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected an instance of geometry.Vector, found an instance of m.C"
    );
    assert_eq!(
        brine::from_slice::<AnyXY>(cpy).unwrap(),
        AnyXY { x: 1, y: 2 }
    );
}

#[derive(Serialize)]
struct AnyXYOut {
    x: i32,
    y: i32,
}
