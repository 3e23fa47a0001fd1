//! Typed reading of the whole golden corpus and of seeded mutations of it: reading into a
//! self-describing Rust value never panics, and borrowing from the input (spans) gives exactly
//! what reading from the value graph gives.

mod common;

use std::borrow::Cow;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use brine::value::Node;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Any value, remembering whether text and bytes were borrowed.
#[derive(Debug, PartialEq)]
enum Any<'a> {
    Unit,
    Bool(bool),
    I(i64),
    U(u64),
    Big(i128, u128),
    /// Bits, so NaNs compare.
    F(u64),
    S(Cow<'a, str>),
    B(Cow<'a, [u8]>),
    Seq(Vec<Any<'a>>),
    Map(Vec<(Any<'a>, Any<'a>)>),
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = Any<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Any<'de>, E> {
        Ok(Any::Unit)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Any<'de>, E> {
        Ok(Any::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Any<'de>, E> {
        Ok(Any::I(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Any<'de>, E> {
        Ok(Any::U(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Any<'de>, E> {
        Ok(Any::Big(v, 0))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Any<'de>, E> {
        Ok(Any::Big(0, v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Any<'de>, E> {
        Ok(Any::F(v.to_bits()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Any<'de>, E> {
        Ok(Any::S(Cow::Owned(v.to_owned())))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Any<'de>, E> {
        Ok(Any::S(Cow::Borrowed(v)))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Any<'de>, E> {
        Ok(Any::S(Cow::Owned(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Any<'de>, E> {
        Ok(Any::B(Cow::Owned(v.to_vec())))
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Any<'de>, E> {
        Ok(Any::B(Cow::Borrowed(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Any<'de>, A::Error> {
        let mut out = Vec::new();
        while let Some(x) = a.next_element()? {
            out.push(x);
        }
        Ok(Any::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Any<'de>, A::Error> {
        let mut out = Vec::new();
        while let Some(kv) = a.next_entry()? {
            out.push(kv);
        }
        Ok(Any::Map(out))
    }
}

impl<'de> Deserialize<'de> for Any<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor)
    }
}

/// True when every borrowed str / bytes points into `data`.
fn borrows_from(v: &Any<'_>, data: &[u8]) -> bool {
    let range = data.as_ptr_range();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Any::S(Cow::Borrowed(s)) if !s.is_empty() && !range.contains(&s.as_ptr()) => {
                return false
            }
            Any::B(Cow::Borrowed(b)) if !b.is_empty() && !range.contains(&b.as_ptr()) => {
                return false
            }
            Any::Seq(items) => stack.extend(items),
            Any::Map(items) => stack.extend(items.iter().flat_map(|(k, x)| [k, x])),
            _ => {}
        }
    }
    true
}

/// Reads `data` through the slice (borrowing) and through the value graph: both succeed or
/// fail alike, and give equal values.
fn check(data: &[u8], name: &str) {
    let Ok(g) = brine::loads(data) else {
        assert!(brine::from_slice::<Any>(data).is_err(), "{name}");
        return;
    };
    let from_graph = brine::from_value::<Any>(&g);
    let from_slice = brine::from_slice::<Any>(data);
    match (from_slice, from_graph) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{name}");
            assert!(borrows_from(&a, data), "{name}: borrowed outside the input");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
        (a, b) => panic!("{name}: slice {a:?} but graph {b:?}"),
    }
}

#[test]
fn golden_corpus() {
    let mut read = 0;
    for g in common::golden() {
        if !g.oob.is_empty() {
            continue;
        }
        let data = std::fs::read(&g.path).unwrap();
        check(&data, &g.name);
        if brine::from_slice::<Any>(&data).is_ok() {
            read += 1;
        }
    }
    // Most of the corpus is plain data (the rest: cycles, objects without data, buffers).
    assert!(read > 500, "only {read} golden files read as typed values");
}

#[test]
fn borrowed_strings_are_the_input_bytes() {
    // Protocol 3, where str and bytes are stored as-is.
    let data = brine::to_vec_with(
        &("a", serde_bytes::Bytes::new(b"b"), vec!["c"; 3]),
        brine::DumpOptions::new().protocol(3),
    )
    .unwrap();
    let v: Any = brine::from_slice(&data).unwrap();
    let Any::Seq(items) = &v else { panic!() };
    assert!(matches!(&items[0], Any::S(Cow::Borrowed("a"))));
    assert!(matches!(&items[1], Any::B(Cow::Borrowed(b"b"))));
    let g = brine::loads(&data).unwrap();
    assert!(matches!(g.get(g.root().unwrap()), Node::Tuple(_)));
}

#[test]
fn mutations_never_panic() {
    let corpus: Vec<Vec<u8>> = common::golden()
        .iter()
        .filter(|g| g.oob.is_empty())
        .map(|g| std::fs::read(&g.path).unwrap())
        .filter(|d| d.len() < 4096)
        .collect();
    let runs: usize = std::env::var("BRINE_SMOKE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let mut rng = common::Rng(0x5eed_5e2d_e5e2);
    for run in 0..runs {
        let mut d = corpus[rng.below(corpus.len())].clone();
        for _ in 0..1 + rng.below(3) {
            let len = d.len();
            match rng.below(3) {
                0 if len > 0 => {
                    let i = rng.below(len);
                    d[i] ^= 1 << rng.below(8);
                }
                1 if len > 0 => {
                    d.remove(rng.below(len));
                }
                _ => d.insert(rng.below(len + 1), rng.next() as u8),
            }
        }
        let r = catch_unwind(AssertUnwindSafe(|| check(&d, &format!("mutation {run}"))));
        if r.is_err() {
            let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
            panic!("mutation {run} panicked: {hex}");
        }
    }
}
