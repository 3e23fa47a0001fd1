//! Fuzz target: typed decode (`brine::from_slice`, which tries the direct reader first)
//! against the value graph's reading of the same bytes, into several Rust types: the same
//! value or the same error, never a panic.
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

fuzz_target!(|data: &[u8]| {
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
