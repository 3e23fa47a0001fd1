//! `brine h5 ls`, `brine h5 cat` and `brine show` on HDF5 files (the fixtures of brine-hdf5).

use std::path::PathBuf;
use std::process::{Command, Output};

fn brine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brine"))
        .args(args)
        .output()
        .expect("run brine")
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../brine-hdf5/tests/data")
        .join(name)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn ls_lists_tree_shapes_dtypes_storage_and_attributes() {
    let out = brine(&["h5", "ls", &fixture("h5py_latest.h5")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    for line in [
        "/  Group",
        "    Attribute: version scalar int64 = 3",
        "    Attribute: names {2} vlen string[utf-8] = [\"α\", \"beta\"]",
        "    Attribute: matrix_f16 {2, 3} float16 = [[0, 0.25, 0.5], [0.75, 1, 1.25]]",
        "/layouts/shuffle_gzip  Dataset {20, 30} int32",
        "    Chunks: {4, 4}",
        "    Filters: shuffle, gzip(4)",
        "/numeric/big_endian  Dataset {5} int32 (big-endian)",
        "/strings/fixed_utf8  Dataset {2} string[8, utf-8]",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[test]
fn show_detects_hdf5_by_signature() {
    let ls = brine(&["h5", "ls", &fixture("keras_model.h5")]);
    let show = brine(&["show", &fixture("keras_model.h5")]);
    assert!(show.status.success());
    assert_eq!(stdout(&ls), stdout(&show));
    assert!(
        stdout(&show).contains("/model_weights/out/sequential/out/kernel  Dataset {3, 2} float32")
    );
}

#[test]
fn cat_prints_a_slice() {
    let out = brine(&[
        "h5",
        "cat",
        &fixture("h5py_default.h5"),
        "/layouts/cube",
        "--slice",
        "1:3,::2,-1",
    ]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "[[35, 47, 59],\n [65, 77, 89]]\n");
    let out = brine(&[
        "h5",
        "cat",
        &fixture("h5py_default.h5"),
        "strings/vlen_ascii",
    ]);
    assert_eq!(stdout(&out), "[\"x\", \"yy\"]\n");
}

#[test]
fn errors_exit_2_with_one_line() {
    let out = brine(&[
        "h5",
        "cat",
        &fixture("h5py_default.h5"),
        "/layouts/cube",
        "-s",
        "9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("brine: cannot read /layouts/cube"), "{err}");
    assert_eq!(err.lines().count(), 1);
    let out = brine(&["h5", "ls", &fixture("h5py_default.json")]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn convert_npz_to_hdf5_and_back() {
    let dir = std::env::temp_dir().join(format!("brine-cli-h5-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let h5 = dir.join("arrays.h5").display().to_string();
    let npz = dir.join("arrays.npz").display().to_string();
    let out = brine(&["h5", "convert", &fixture("arrays.npz"), &h5]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ls = stdout(&brine(&["h5", "ls", &h5]));
    assert!(ls.contains("/fortran_i2  Dataset {3, 4} int16"), "{ls}");
    assert!(ls.contains("/layer/kernel  Dataset {2, 2} float16"), "{ls}");
    let out = brine(&["h5", "convert", &h5, &npz]);
    assert!(out.status.success());
    let cat = stdout(&brine(&[
        "h5",
        "convert",
        &npz,
        &dir.join("again.h5").display().to_string(),
    ]));
    assert!(cat.is_empty());
    let again = stdout(&brine(&[
        "h5",
        "cat",
        &dir.join("again.h5").display().to_string(),
        "fortran_i2",
        "-s",
        ":,1",
    ]));
    assert_eq!(again, "[1, 5, 9]\n");
    let bad = brine(&["h5", "convert", &fixture("h5py_default.json"), &h5]);
    assert_eq!(bad.status.code(), Some(2));
    // A failed conversion leaves an existing output alone.
    assert!(stdout(&brine(&["h5", "ls", &h5])).contains("/f4  Dataset"));
    std::fs::remove_dir_all(&dir).unwrap();
}
