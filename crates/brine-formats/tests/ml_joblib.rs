//! joblib dumps: uncompressed (protocols 4 and 2, with and without alignment padding) and
//! compressed with zlib, gzip, bz2, lzma and xz; the older formats (joblib 1.1 without the
//! alignment key, joblib 0.9's 'ZF' container and companion `.npy` / `.npy.z` files, whose
//! names must be plain file names); every array compared with numpy's values, the non-array
//! values kept, and truncated payloads rejected. When python3 has joblib, the historic dumps
//! of joblib's own test data are compared with what `joblib.load` makes of them.

mod ml_common;

use brine::value::Node;
use brine_formats::{joblib, numpy};
use ml_common::{check_array, expected, fixture};

fn check(file: &str) {
    let data = std::fs::read(fixture(&format!("joblib/{file}"))).unwrap();
    let g =
        joblib::loads(&data, &brine::Limits::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let exp = expected();
    let e = exp["joblib"].as_object().unwrap();
    let found = numpy::arrays(&g).unwrap();
    let mut names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        e.keys().map(String::as_str).collect::<Vec<_>>(),
        "{file}"
    );
    for (name, a) in &found {
        check_array(&format!("{file}:{name}"), a, &e[name.as_str()], Some(&g));
    }
    // The rest of the dict is there too.
    let Node::Dict(items) = g.get(g.root().unwrap()) else {
        panic!("{file}: root is not a dict")
    };
    let items = g.pairs(*items);
    assert_eq!(items.len(), e.len() + 1, "{file}");
}

#[test]
fn uncompressed() {
    check("plain.joblib");
}

#[test]
fn protocol_2() {
    check("p2.joblib");
}

#[test]
fn without_alignment_padding() {
    check("notell.joblib");
}

#[test]
fn every_compressor() {
    for c in ["zlib", "gzip", "bz2", "lzma", "xz"] {
        check(&format!("c_{c}.joblib"));
    }
}

#[test]
fn truncated_payloads_are_errors() {
    let data = std::fs::read(fixture("joblib/plain.joblib")).unwrap();
    let mut failures = 0;
    for n in (0..data.len()).step_by(7) {
        let r = joblib::loads(&data[..n], &brine::Limits::default());
        assert!(r.is_err(), "prefix {n} loaded");
        failures += 1;
    }
    assert!(failures > 10);
}

// Older formats, made by joblib 0.9.4 and 1.1.1 (see `joblib_legacy` in the generator).

fn check_legacy(file: &str) {
    let exp = expected();
    let e = exp["joblib_legacy"]["arrays"].as_object().unwrap();
    let g = joblib::load(
        &fixture(&format!("joblib_legacy/{file}")),
        &brine::Limits::default(),
    )
    .unwrap_or_else(|err| panic!("{file}: {err}"));
    let found = numpy::arrays(&g).unwrap();
    let mut names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        e.keys().map(String::as_str).collect::<Vec<_>>(),
        "{file}"
    );
    for (name, a) in &found {
        check_array(&format!("{file}:{name}"), a, &e[name.as_str()], Some(&g));
    }
    let Node::Dict(items) = g.get(g.root().unwrap()) else {
        panic!("{file}: root is not a dict")
    };
    let items = g.pairs(*items);
    assert_eq!(items.len(), e.len() + 1, "{file}");
}

#[test]
fn every_legacy_file_is_covered() {
    let exp = expected();
    let files = exp["joblib_legacy"]["files"].as_object().unwrap();
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture("joblib_legacy"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = Vec::new();
    for (main, f) in files {
        listed.push(main.clone());
        for c in f["companions"].as_array().unwrap() {
            listed.push(c.as_str().unwrap().to_owned());
        }
    }
    listed.sort();
    assert_eq!(on_disk, listed);
    assert_eq!(files.len(), 6);
}

#[test]
fn ndarray_wrapper_with_companion_npy_files() {
    check_legacy("ndarray.pkl");
}

#[test]
fn zf_container() {
    check_legacy("zf.pkl");
}

#[test]
fn zf_header_one_space_wider() {
    check_legacy("zf_wide_header.pkl");
}

#[test]
fn znd_array_wrapper_with_zf_companions() {
    check_legacy("zf_cache.pkl");
}

#[test]
fn joblib_1_1_without_alignment_key() {
    check_legacy("jl111.joblib");
    check_legacy("jl111_zlib.joblib");
    // No companions: the bytes alone are enough.
    let data = std::fs::read(fixture("joblib_legacy/jl111.joblib")).unwrap();
    let g = joblib::loads(&data, &brine::Limits::default()).unwrap();
    assert_eq!(numpy::arrays(&g).unwrap().len(), 11);
}

#[test]
fn companions_need_a_directory() {
    for file in ["ndarray.pkl", "zf_cache.pkl"] {
        let data = std::fs::read(fixture(&format!("joblib_legacy/{file}"))).unwrap();
        let err = joblib::loads(&data, &brine::Limits::default()).unwrap_err();
        assert_eq!(
            err.classify(),
            brine::Category::Unsupported,
            "{file}: {err}"
        );
        assert!(
            err.to_string().contains(&format!("{file}_01.npy")),
            "{file}: {err}"
        );
    }
}

#[test]
fn missing_companion_is_an_error() {
    let dir = std::env::temp_dir().join(format!("brine-joblib-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        fixture("joblib_legacy/ndarray.pkl"),
        dir.join("ndarray.pkl"),
    )
    .unwrap();
    let err = joblib::load(&dir.join("ndarray.pkl"), &brine::Limits::default()).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(err.to_string().contains("ndarray.pkl_01.npy"), "{err}");
}

#[test]
fn companion_over_the_allocation_limit_is_a_limit_error() {
    let dir = std::env::temp_dir().join(format!("brine-joblib-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A valid .npy companion of 4 MiB of int32 zeros behind a tiny wrapper pickle.
    let array = brine_formats::array::NdArray::from_bytes(
        brine_formats::array::DType::Int(4, brine_formats::array::ByteOrder::Little),
        vec![1 << 20],
        vec![0u8; 4 << 20],
    )
    .unwrap();
    let mut npy = Vec::new();
    brine_formats::npy::write(&mut npy, &array, None).unwrap();
    std::fs::write(dir.join("big.pkl_01.npy"), &npy).unwrap();
    let pickle = wrapper_pickle("NDArrayWrapper", "big.pkl_01.npy");
    let load = |max_alloc: u64| {
        let limits = brine::Limits {
            max_alloc,
            ..brine::Limits::default()
        };
        joblib::loads_in(&pickle, &limits, Some(&dir))
    };
    let small = load(1 << 20);
    let enough = load(8 << 20);
    std::fs::remove_dir_all(&dir).unwrap();
    let err = small.unwrap_err();
    assert_eq!(
        err.limit_kind(),
        Some(brine::core::LimitKind::Alloc),
        "{err}"
    );
    assert_eq!(
        numpy::arrays(&enough.unwrap()).unwrap()[0].1.nbytes(),
        4 << 20
    );
}

/// A pickle of `{'a': NDArrayWrapper(filename=name)}` as joblib 0.9 wrote it.
fn wrapper_pickle(class: &str, name: &str) -> Vec<u8> {
    use brine::value::{Graph, Object, ObjectKind};
    let mut g = Graph::new();
    let cls = g.global("joblib.numpy_pickle", class);
    let args = g.tuple(vec![]);
    let mut o = Object::new(ObjectKind::NewObj, cls, args);
    let k = g.str("filename");
    let v = g.str(name);
    let mut state = vec![(k, v)];
    if class == "ZNDArrayWrapper" {
        // (version, shape, dtype, is_fortran) of a (2, 3) int32 array.
        let arr = numpy::to_graph(
            &mut g,
            &brine_formats::array::NdArray::from_bytes(
                brine_formats::array::DType::Int(4, brine_formats::array::ByteOrder::Little),
                vec![2, 3],
                vec![0u8; 24],
            )
            .unwrap(),
            4,
        )
        .unwrap();
        let Node::Object(a) = g.get(arr).clone() else {
            unreachable!()
        };
        let Node::Tuple(st) = g.get(a.state.unwrap()).clone() else {
            unreachable!()
        };
        let st = g.items(st).to_vec();
        let k = g.str("init_args");
        state.push((k, a.args));
        let k = g.str("state");
        let v = g.tuple(st[..4].to_vec());
        state.push((k, v));
    }
    o.state = Some(g.dict(state));
    let w = g.object(o);
    let key = g.str("a");
    let root = g.dict(vec![(key, w)]);
    g.set_root(root);
    brine::dumps_with(&g, brine::DumpOptions::new().protocol(2)).unwrap()
}

#[test]
fn companion_names_are_plain_file_names() {
    let dir = fixture("joblib_legacy");
    let limits = brine::Limits::default();
    // The same construction with a real companion name loads (so the rejections below are
    // about the names, not the pickle).
    let g = joblib::loads_in(
        &wrapper_pickle("NDArrayWrapper", "ndarray.pkl_01.npy"),
        &limits,
        Some(&dir),
    )
    .unwrap();
    assert_eq!(numpy::arrays(&g).unwrap().len(), 1);
    let g = joblib::loads_in(
        &wrapper_pickle("ZNDArrayWrapper", "zf_cache.pkl_09.npy.z"),
        &limits,
        Some(&dir),
    );
    // That companion holds 800 bytes, not (2, 3) int32: a size error, after the name passed.
    assert!(g.unwrap_err().to_string().contains("24"));
    for bad in [
        "../joblib_legacy/ndarray.pkl_01.npy",
        "..",
        ".",
        "",
        "/etc/passwd",
        "sub/ndarray.pkl_01.npy",
        "ndarray.pkl_01.npy/",
        "..\\ndarray.pkl_01.npy",
        "a\0b",
    ] {
        for class in ["NDArrayWrapper", "ZNDArrayWrapper"] {
            let err =
                joblib::loads_in(&wrapper_pickle(class, bad), &limits, Some(&dir)).expect_err(bad);
            assert!(
                err.to_string().contains("is not a plain file name"),
                "{bad:?}: {err}"
            );
        }
    }
}

#[test]
fn zf_headers_are_checked() {
    let data = std::fs::read(fixture("joblib_legacy/zf.pkl")).unwrap();
    let limits = brine::Limits::default();
    let good = joblib::read_zfile(&data, &limits).unwrap();
    assert_eq!(&good[..2], b"\x80\x04");
    // The declared length must match what the stream holds.
    let mut wrong = data.clone();
    let digit = wrong[4];
    wrong[4] = if digit == b'1' { b'2' } else { b'1' };
    let err = joblib::read_zfile(&wrong, &limits).unwrap_err();
    assert!(err.to_string().contains("header declares"), "{err}");
    let mut not_hex = data.clone();
    not_hex[4] = b'g';
    assert!(joblib::read_zfile(&not_hex, &limits).is_err());
    for n in [0, 2, 10, 20, 21, 30, data.len() - 1] {
        assert!(joblib::loads(&data[..n], &limits).is_err(), "prefix {n}");
    }
    // The bomb limits hold inside the container too.
    let tight = brine::Limits {
        max_decompressed: 100,
        ..brine::Limits::default()
    };
    let err = joblib::loads(&data, &tight).unwrap_err();
    assert_eq!(err.classify(), brine::Category::Limit, "{err}");
}

/// Describes every array of each file in joblib's own test data (dumps made by joblib 0.8.4
/// to 0.11 under Python 2.7 to 3.6) as `joblib.load` returns it: index in the top-level
/// list, dtype and bytes in little-endian order (joblib swaps to native order on load).
const JOBLIB_OWN_FILES: &str = r#"
import json, os, sys, warnings
import numpy as np
import joblib.test.data
d = os.path.dirname(joblib.test.data.__file__)
out = {"dir": d, "files": {}}
for f in sorted(os.listdir(d)):
    if not f.startswith("joblib_") or f.endswith((".npy", ".npy.z")):
        continue
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = joblib.load(os.path.join(d, f))
    except Exception as e:  # py2 pickles joblib refuses under Python 3: checked by brine only
        out["files"][f] = None
        continue
    arrays = {}
    for i, a in enumerate(obj):
        if isinstance(a, np.ndarray):
            e = {"shape": list(a.shape), "n": int(a.size)}
            if not a.dtype.hasobject:
                le = a.astype(a.dtype.newbyteorder("<"))
                e["dtype"] = le.dtype.str
                e["hex"] = np.ascontiguousarray(le).tobytes().hex()
            arrays[str(i)] = e
    out["files"][f] = arrays
print(json.dumps(out))
"#;

#[test]
fn joblibs_own_historic_test_files() {
    let run = std::process::Command::new("python3")
        .args(["-c", JOBLIB_OWN_FILES])
        .output();
    let out = match run {
        Ok(o) if o.status.success() => o.stdout,
        _ => {
            eprintln!("SKIPPED: python3 with joblib and numpy not available");
            return;
        }
    };
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let dir = std::path::PathBuf::from(v["dir"].as_str().unwrap());
    let files = v["files"].as_object().unwrap();
    assert!(files.len() >= 40, "{} files", files.len());
    let mut compared = 0;
    for (file, exp) in files {
        let g = joblib::load(&dir.join(file), &brine::Limits::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let found = numpy::arrays(&g).unwrap();
        assert!(!found.is_empty(), "{file}");
        let Some(exp) = exp.as_object() else {
            continue;
        };
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        let mut want: Vec<&str> = exp.keys().map(String::as_str).collect();
        want.sort();
        let mut got = names.clone();
        got.sort();
        assert_eq!(got, want, "{file}");
        for (name, a) in &found {
            let e = &exp[name.as_str()];
            let shape: Vec<usize> = serde_json::from_value(e["shape"].clone()).unwrap();
            assert_eq!(a.shape, shape, "{file}:{name}");
            assert_eq!(a.numel() as u64, e["n"].as_u64().unwrap(), "{file}:{name}");
            if let Some(h) = e.get("hex") {
                assert_eq!(a.dtype.to_little().str(), e["dtype"].as_str().unwrap());
                assert_eq!(
                    ml_common::hex(&a.c_bytes_le().unwrap()),
                    h.as_str().unwrap()
                );
            }
            compared += 1;
        }
    }
    assert!(compared >= 100, "{compared} arrays compared");
}
