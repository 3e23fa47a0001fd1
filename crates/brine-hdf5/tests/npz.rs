//! HDF5 <-> `.npz` conversion: numpy's archive (`arrays.npz`, made by `gen_fixtures.py`) read
//! against the values numpy saw, converted to HDF5 and back, checked by numpy when it is
//! importable; truncated archives fail cleanly.

mod common;

use brine_hdf5::{npz, File};
use common::{data_dir, have_h5py, scratch, value_json};
use serde_json::Value;

fn expected_arrays() -> Value {
    let text = std::fs::read_to_string(data_dir().join("arrays.npz.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["arrays"].clone()
}

fn check(arrays: &[(String, brine_hdf5::Array)]) {
    let want = expected_arrays();
    assert_eq!(arrays.len(), want.as_object().unwrap().len());
    for (name, a) in arrays {
        let w = &want[name];
        assert_eq!(a.dtype().numpy_name(), w["dtype"], "{name}");
        assert_eq!(serde_json::json!(a.shape()), w["shape"], "{name}");
        assert_eq!(value_json(a), w["value"], "{name}");
    }
}

#[test]
fn reads_numpy_npz() {
    let zip = std::fs::read(data_dir().join("arrays.npz")).unwrap();
    check(&npz::read_npz(&zip, 1 << 20).unwrap());
}

#[test]
fn npz_to_hdf5_and_back() {
    let zip = std::fs::read(data_dir().join("arrays.npz")).unwrap();
    let path = scratch("from_npz.h5");
    let mut f = File::create(&path).unwrap();
    npz::npz_to_hdf5(&zip, &mut f, 1 << 20).unwrap();
    f.close().unwrap();
    let f = File::open(&path).unwrap();
    assert_eq!(f.members("/layer").unwrap(), ["kernel"]);
    let again = npz::hdf5_to_npz(&f).unwrap();
    check(&npz::read_npz(&again, 1 << 20).unwrap());

    let out = scratch("again.npz");
    std::fs::write(&out, &again).unwrap();
    if !have_h5py() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: numpy check of brine's npz (no numpy)"
        );
        return;
    }
    let check = std::process::Command::new("python3")
        .arg(data_dir().join("check_npz.py"))
        .arg(&out)
        .arg(data_dir().join("arrays.npz.json"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn hdf5_fixture_to_npz_keeps_values() {
    let f = File::open(data_dir().join("h5py_default.h5")).unwrap();
    let zip = npz::hdf5_to_npz(&f).unwrap();
    let want = common::expected("h5py_default");
    let arrays = npz::read_npz(&zip, 1 << 20).unwrap();
    assert_eq!(arrays.len(), 31);
    for (name, a) in &arrays {
        assert_eq!(
            value_json(a),
            want["objects"][format!("/{name}")]["value"],
            "{name}"
        );
    }
}

#[test]
fn truncated_and_corrupt_npz_fail_cleanly() {
    let zip = std::fs::read(data_dir().join("arrays.npz")).unwrap();
    for cut in 0..zip.len() {
        assert!(npz::read_npz(&zip[..cut], 1 << 20).is_err() || cut > zip.len() - 22);
    }
    let mut b = zip.clone();
    for i in 0..b.len() {
        let old = b[i];
        b[i] ^= 0xa5;
        let _ = npz::read_npz(&b, 1 << 20);
        b[i] = old;
    }
    // A member claiming more than the bound is refused before anything is inflated.
    assert_eq!(
        npz::read_npz(&zip, 10).unwrap_err().classify(),
        brine_hdf5::Category::Limit
    );
}

/// A `.npy` file with the given header dict and no data.
fn npy(header: &str) -> Vec<u8> {
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v
}

#[test]
fn absurd_npy_shapes_are_errors_not_panics() {
    let big = 1u64 << 40;
    let empty = npy(&format!(
        "{{'descr': '<f8', 'fortran_order': True, 'shape': ({big}, {big}, 0), }}"
    ));
    let a = npz::read_npy(&empty).unwrap();
    assert!(a.is_empty());
    let overflow = npy(&format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({big}, {big}), }}"
    ));
    assert_eq!(
        npz::read_npy(&overflow).unwrap_err().classify(),
        brine_hdf5::Category::Limit
    );
    let short = npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }");
    assert_eq!(
        npz::read_npy(&short).unwrap_err().to_string(),
        "npy data truncated"
    );
    let object = npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }");
    assert_eq!(
        npz::read_npy(&object).unwrap_err().classify(),
        brine_hdf5::Category::Unsupported
    );
}
