//! Files written by h5py and Keras (`tests/data`, made by `gen_fixtures.py`) read by brine and
//! compared with the values h5py saw: every object, dtype, shape, value, attribute, storage
//! detail and a few n-d slices.

mod common;

use brine_hdf5::{File, Selection};
use common::{assert_matches, data_dir, expected, value_json};

fn check_fixture(name: &str) {
    let file = File::open(data_dir().join(format!("{name}.h5"))).unwrap();
    let want = expected(name);
    assert_matches(&file, &want, true);
    for s in want["slices"].as_array().into_iter().flatten() {
        let path = s["path"].as_str().unwrap();
        let sel: Selection = s["slice"].as_str().unwrap().parse().unwrap();
        let got = file.read_slice(path, &sel).unwrap();
        assert_eq!(value_json(&got), s["value"], "{path}[{}]", s["slice"]);
    }
}

#[test]
fn h5py_default_format() {
    check_fixture("h5py_default");
}

#[test]
fn h5py_latest_format() {
    check_fixture("h5py_latest");
}

#[test]
fn keras_model_file() {
    check_fixture("keras_model");
}

#[test]
fn slices_have_numpy_shapes() {
    let file = File::open(data_dir().join("h5py_default.h5")).unwrap();
    let cube = file
        .read_slice("/layouts/cube", &"1:3, ::2, 5".parse().unwrap())
        .unwrap();
    assert_eq!(cube.shape(), &[2, 3]);
    let one = file
        .read_slice("layouts/cube", &"-1,-1,-1".parse().unwrap())
        .unwrap();
    assert_eq!(one.shape(), &[] as &[usize]);
    assert_eq!(one.to_i64().unwrap(), vec![4 * 5 * 6 - 1]);
    let none = file
        .read_slice("layouts/chunked", &"5:5".parse().unwrap())
        .unwrap();
    assert_eq!(none.shape(), &[0, 30]);
    assert!(file
        .read_slice("layouts/chunked", &"20".parse().unwrap())
        .is_err());
}

#[test]
fn keras2_layout_file() {
    check_fixture("keras2_layout");
}

#[test]
fn userblock_file() {
    // The signature is at offset 512, behind text.
    let path = data_dir().join("userblock.h5");
    let head = std::fs::read(&path).unwrap();
    assert!(!head.starts_with(brine_hdf5::SIGNATURE));
    assert!(brine_hdf5::is_hdf5(&head));
    assert!(brine_hdf5::is_hdf5_file(&path).unwrap());
    check_fixture("userblock");
}
