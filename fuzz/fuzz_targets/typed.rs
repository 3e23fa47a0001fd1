//! Fuzz target: typed decode (`brine::from_slice`, which tries the direct reader first)
//! against the value graph's reading of the same bytes, into several Rust types: the same
//! value or the same error, never a panic; and `brine::from_reader` against the value graph
//! built on the reader (the same, and the reader left at the same place).
#![no_main]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_bytes::ByteBuf;

/// `datetime.date(b'...')` read as its argument.
#[derive(Deserialize, Debug, PartialEq)]
struct Date(#[serde(with = "serde_bytes")] Vec<u8>);

#[derive(Deserialize, Debug, PartialEq)]
struct Rec<'a> {
    id: i64,
    #[serde(borrow)]
    name: &'a str,
    tags: Vec<String>,
    score: Option<f64>,
    birthday: Option<(ByteBuf,)>,
}

#[derive(Deserialize, Debug, PartialEq)]
enum E {
    A,
    B(i32),
    C(u8, u8),
    D { x: i64 },
}

fn graph<'de, T: Deserialize<'de>>(data: &'de [u8]) -> brine::Result<T> {
    let mut de = brine::serde::Deserializer::from_slice(data)?;
    T::deserialize(&mut de)
}

fn check<'de, T: Deserialize<'de> + Debug + PartialEq>(data: &'de [u8]) {
    match (brine::from_slice::<T>(data), graph::<T>(data)) {
        // Debug too: a NaN is not equal to itself.
        (Ok(a), Ok(b)) => assert!(a == b || format!("{a:?}") == format!("{b:?}"), "{a:?} {b:?}"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("from_slice {a:?}, graph path {b:?}"),
    }
}

/// `from_reader` against the graph built on the reader, for one read off `data`.
fn check_reader(data: &[u8]) {
    let (mut a, mut b) = (data, data);
    let new = brine::from_reader::<serde_json::Value>(&mut a);
    let old = brine::serde::Deserializer::from_reader_with(&mut b, brine::LoadOptions::new())
        .and_then(|mut de| serde_json::Value::deserialize(&mut de));
    match (new, old) {
        (Ok(x), Ok(y)) => {
            assert!(x == y || format!("{x:?}") == format!("{y:?}"), "{x:?} {y:?}");
            assert_eq!(a.len(), b.len());
        }
        (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
        (x, y) => panic!("from_reader {x:?}, graph on the reader {y:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    check_reader(data);
    check::<serde_json::Value>(data);
    check::<Vec<Rec>>(data);
    check::<Vec<Date>>(data);
    check::<Vec<(ByteBuf,)>>(data);
    check::<BTreeMap<String, Date>>(data);
    check::<((Vec<i64>, i64),)>(data);
    check::<Vec<(Vec<i64>, i64)>>(data);
    check::<(Vec<u8>, i64, (u8, u8, u8, u8))>(data);
    check::<HashMap<i64, HashMap<i64, Option<i64>>>>(data);
    check::<Vec<Vec<Vec<i64>>>>(data);
    check::<Vec<E>>(data);
    check::<Vec<BTreeMap<String, serde_json::Value>>>(data);
});
