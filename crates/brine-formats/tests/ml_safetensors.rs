//! safetensors: the generator's file (written by Python's `safetensors.numpy`) read and
//! compared with numpy's values, brine's writer compared byte-for-byte with it, and every
//! validation rule of the reference reader checked on broken headers.

mod ml_common;

use brine_formats::array::{ByteOrder, DType, NdArray};
use brine_formats::safetensors;
use ml_common::{check_array, expected, fixture};

#[test]
fn read_reference_file() {
    let data = std::fs::read(fixture("safetensors/np.safetensors")).unwrap();
    let (h, arrays) = safetensors::read(&data).unwrap();
    assert_eq!(
        h.metadata,
        Some(vec![("source".to_owned(), "numpy".to_owned())])
    );
    let exp = expected();
    let e = exp["safetensors_np"].as_object().unwrap();
    assert_eq!(arrays.len(), e.len());
    for (name, a) in &arrays {
        let mut want = e[name].clone();
        // safetensors stores little-endian: the big-endian source reads back as `<f4`.
        let dt = want["dtype"].as_str().unwrap().replace('>', "<");
        want["dtype"] = dt.into();
        check_array(name, a, &want, None);
    }
}

#[test]
fn writer_matches_reference_bytes() {
    let data = std::fs::read(fixture("safetensors/np.safetensors")).unwrap();
    let (h, arrays) = safetensors::read(&data).unwrap();
    let named: Vec<(&str, &NdArray<'_>)> = arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    let mut out = Vec::new();
    safetensors::write(&mut out, &h.metadata.unwrap(), &named).unwrap();
    assert!(
        out == data,
        "brine's safetensors bytes differ from the reference writer's"
    );
}

#[test]
fn big_endian_and_strided_input_is_written_little_endian_c_order() {
    let mut a = NdArray::from_bytes(
        DType::Int(2, ByteOrder::Big),
        vec![2, 2],
        vec![0, 1, 0, 2, 0, 3, 0, 4],
    )
    .unwrap();
    a.strides = vec![1, 2];
    let mut out = Vec::new();
    safetensors::write(&mut out, &[], &[("t", &a)]).unwrap();
    let (_, back) = safetensors::read(&out).unwrap();
    assert_eq!(back[0].1.raw().unwrap(), &[1, 0, 3, 0, 2, 0, 4, 0]);
}

fn file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn validation() {
    let t = |h: &str, d: &[u8]| {
        safetensors::read(&file(h, d))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let ok = r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#;
    assert!(safetensors::read(&file(ok, &[1, 2])).is_ok());
    assert!(t(ok, &[1, 2, 3]).contains("describes"));
    assert!(t(ok, &[1]).contains("describes"));
    assert!(t(
        r#"{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,2]}}"#,
        &[1, 2]
    )
    .contains("needs"));
    assert!(t(
        r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
        &[1, 2]
    )
    .contains("hole"));
    assert!(t(r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"a":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}}"#, &[1, 2]).contains("repeats"));
    assert!(t(r#"{"__metadata__":{"k":1}}"#, &[]).contains("strings"));
    assert!(t(
        r#"{"a":{"dtype":"Q8","shape":[2],"data_offsets":[0,2]}}"#,
        &[1, 2]
    )
    .contains("unsupported dtype"));
    assert!(t(r#" {}"#, &[]).contains("start with"));
    assert!(t(
        r#"{"a":{"dtype":"U8","shape":[18446744073709551615,2],"data_offsets":[0,2]}}"#,
        &[1, 2]
    )
    .contains("overflow"));
    let mut huge = (u64::MAX).to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    assert!(safetensors::read(&huge)
        .unwrap_err()
        .to_string()
        .contains("limit"));
    assert!(safetensors::read(b"\x01").is_err());
}

#[test]
fn dtypes_without_an_equivalent_are_refused() {
    let a =
        NdArray::from_bytes(DType::Complex(16, ByteOrder::Little), vec![1], vec![0; 16]).unwrap();
    let err = safetensors::write(&mut Vec::new(), &[], &[("c", &a)]).unwrap_err();
    assert!(err.to_string().contains("no dtype for complex128"), "{err}");
}
