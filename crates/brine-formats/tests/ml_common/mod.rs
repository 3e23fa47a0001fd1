//! Shared helpers of the ML tests: fixture paths, expected values and array comparison.

#![allow(dead_code)]

use std::path::PathBuf;

use brine::value::{Graph, Node};
use brine_formats::array::{DType, Data, NdArray};
use serde_json::Value;

/// Path of a fixture made by `tests/data/gen_fixtures.py`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ml")
        .join(rel)
}

/// The generator's `expected.json`.
pub fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("valid JSON")
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Asserts that `a` matches the generator's description `e` (dtype, fields, shape, bytes,
/// object items, mask, subclass); `g` holds the object items.
pub fn check_array(what: &str, a: &NdArray<'_>, e: &Value, g: Option<&Graph>) {
    assert_eq!(a.dtype.str(), e["dtype"].as_str().unwrap(), "{what}: dtype");
    let shape: Vec<usize> = e["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(a.shape, shape, "{what}: shape");
    if let Some(fields) = e.get("fields") {
        let DType::Struct { fields: got, .. } = &a.dtype else {
            panic!("{what}: expected a structured dtype, got {:?}", a.dtype)
        };
        let got: Vec<Value> = got
            .iter()
            .map(|f| serde_json::json!([f.name, f.dtype.str(), f.offset]))
            .collect();
        assert_eq!(&Value::Array(got), fields, "{what}: fields");
    }
    if let Some(h) = e.get("hex") {
        let bytes = a.c_bytes().unwrap_or_else(|err| panic!("{what}: {err}"));
        assert_eq!(hex(&bytes), h.as_str().unwrap(), "{what}: bytes");
    }
    if let Some(objs) = e.get("objects") {
        let Data::Objects(items) = &a.data else {
            panic!("{what}: expected object data")
        };
        let g = g.expect("graph for object items");
        let got: Vec<Value> = items
            .iter()
            .map(|&i| match g.get(i) {
                Node::None => Value::Null,
                Node::Int(v) => Value::from(*v),
                Node::Float(v) => Value::from(*v),
                Node::Str(s) => Value::from(s.to_string_lossy().into_owned()),
                other => Value::from(format!("{other:?}")),
            })
            .collect();
        assert_eq!(&Value::Array(got), objs, "{what}: objects");
    }
    match e.get("mask_hex") {
        Some(m) => assert_eq!(
            hex(a.mask.as_deref().expect("a mask")),
            m.as_str().unwrap(),
            "{what}: mask"
        ),
        None => assert!(a.mask.is_none(), "{what}: unexpected mask"),
    }
    if let Some(sub) = e.get("subclass") {
        let got = a.subclass.as_deref().unwrap_or("ndarray");
        assert!(
            got.ends_with(sub.as_str().unwrap()),
            "{what}: subclass {got}"
        );
    }
}
