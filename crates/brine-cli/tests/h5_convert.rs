//! `brine convert` to and from HDF5: pickles of nested dicts of numpy arrays, npz and
//! safetensors, round trips compared by dtype, shape and bytes, refusals of what a format
//! cannot hold, and (when `h5py` is importable) h5py and `pickle.load` reading the outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use brine::value::{Graph, Node, NodeId, Object, ObjectKind as PyKind};
use brine_formats::array::{ByteOrder, DType as NpType, NdArray};
use brine_formats::numpy;
use brine_hdf5::{Array, DType, DatasetOptions, File, ObjectKind};

fn brine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brine"))
        .args(args)
        .output()
        .expect("run brine")
}

fn ok(args: &[&str]) -> Output {
    let out = brine(args);
    assert!(
        out.status.success(),
        "brine {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brine-h5conv-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../brine-hdf5/tests/data")
        .join(name)
}

fn nd(dtype: NpType, shape: &[usize], bytes: Vec<u8>) -> NdArray<'static> {
    NdArray::from_bytes(dtype, shape.to_vec(), bytes).unwrap()
}

const L: ByteOrder = ByteOrder::Little;

/// The arrays of the test pickle, by HDF5 path: every kind numpy and HDF5 share.
fn arrays() -> Vec<(&'static str, NdArray<'static>)> {
    let f32s: Vec<u8> = [0.5f32, -1.0, 2.25, 3.0, 1e-3, f32::MAX]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let i64s: Vec<u8> = [i64::MIN, 0, i64::MAX]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let f64s: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let ucs4: Vec<u8> = ["ab\0", "xyé"]
        .iter()
        .flat_map(|s| s.chars().flat_map(|c| u32::from(c).to_le_bytes()))
        .collect();
    vec![
        ("/w", nd(NpType::Float(4, L), &[2, 3], f32s)),
        ("/b", nd(NpType::Int(8, L), &[3], i64s)),
        ("/flags", nd(NpType::Bool, &[2], vec![1, 0])),
        ("/h", nd(NpType::Float(2, L), &[2], vec![0, 0x3c, 0, 0xc0])),
        (
            "/c",
            nd(
                NpType::Complex(16, L),
                &[1],
                [1.5f64, -2.0]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            ),
        ),
        // Big-endian in the pickle, little-endian in HDF5: the same values.
        (
            "/u_be",
            nd(
                NpType::UInt(2, ByteOrder::Big),
                &[2],
                vec![0x01, 0x02, 0xff, 0x00],
            ),
        ),
        ("/names", nd(NpType::Unicode(3, L), &[2], ucs4)),
        ("/raw", nd(NpType::Bytes(3), &[2], b"a\0\0bcd".to_vec())),
        (
            "/scalar",
            nd(NpType::Int(4, L), &[], 7i32.to_le_bytes().to_vec()),
        ),
        ("/layer/kernel", nd(NpType::Float(8, L), &[2, 2], f64s)),
        (
            "/layer/deep/empty",
            nd(NpType::UInt(1, ByteOrder::NotApplicable), &[0, 3], vec![]),
        ),
    ]
}

/// `numpy._core.multiarray.scalar(dtype, bytes)`, as numpy pickles `np.float32(1.5)`.
fn numpy_scalar(g: &mut Graph, dtype: NpType, bytes: &[u8]) -> NodeId {
    let f = g.global("numpy._core.multiarray", "scalar");
    let dt = numpy::dtype_to_graph(g, &dtype).unwrap();
    let data = g.bytes(bytes);
    let args = g.tuple(vec![dt, data]);
    g.object(Object::new(PyKind::Reduce, f, args))
}

/// The pickle: the arrays as nested dicts, scalars beside them, an empty dict.
fn test_pickle() -> Vec<u8> {
    let mut g = Graph::new();
    let mut root = Vec::new();
    let mut layer = Vec::new();
    let mut deep = Vec::new();
    for (path, a) in arrays() {
        let node = numpy::to_graph(&mut g, &a, 4).unwrap();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let key = g.str(parts[parts.len() - 1]);
        match parts.len() {
            1 => root.push((key, node)),
            2 => layer.push((key, node)),
            _ => deep.push((key, node)),
        }
    }
    let scalars: Vec<(&str, NodeId)> = vec![
        ("units", g.int(4)),
        ("act", g.str("relu")),
        ("blob", g.bytes(b"\x01x")),
        ("ratio", g.float(0.5)),
        ("on", g.bool(true)),
        (
            "gain",
            numpy_scalar(&mut g, NpType::Float(4, L), &1.5f32.to_le_bytes()),
        ),
    ];
    for (k, v) in scalars {
        let k = g.str(k);
        layer.push((k, v));
    }
    let deep = g.dict(deep);
    let k = g.str("deep");
    layer.push((k, deep));
    let layer = g.dict(layer);
    let k = g.str("layer");
    root.push((k, layer));
    let empty = g.dict(vec![]);
    let k = g.str("empty");
    root.push((k, empty));
    let k = g.str("title");
    let v = g.str("brine test");
    root.push((k, v));
    let root = g.dict(root);
    g.set_root(root);
    brine::dumps_with(&g, brine::DumpOptions::new().protocol(4)).unwrap()
}

/// Checks the HDF5 file made from [`test_pickle`].
fn check_h5(path: &Path) {
    let f = File::open(path).unwrap();
    for (p, a) in arrays() {
        let h = f.read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(h.shape(), a.shape.as_slice(), "{p}");
        match &a.dtype {
            NpType::Unicode(..) => {
                assert_eq!(
                    h.dtype(),
                    DType::VarString {
                        encoding: brine_hdf5::Encoding::Utf8
                    }
                );
                assert_eq!(h.to_strings().unwrap(), ["ab", "xyé"]);
            }
            NpType::Bytes(3) => {
                assert_eq!(
                    h.dtype(),
                    DType::FixedString {
                        len: 3,
                        encoding: brine_hdf5::Encoding::Ascii
                    }
                );
                assert_eq!(h.bytes().unwrap(), b"a\0\0bcd");
            }
            _ => {
                assert_eq!(h.dtype().size(), Some(a.dtype.itemsize()), "{p}");
                assert_eq!(h.bytes().unwrap(), &*a.c_bytes_le().unwrap(), "{p}");
            }
        }
    }
    assert_eq!(f.read("/u_be").unwrap().to_i64().unwrap(), [0x0102, 0xff00]);
    assert_eq!(f.read("/h").unwrap().to_f64().unwrap(), [1.0, -2.0]);
    assert_eq!(f.kind("/empty").unwrap(), Some(ObjectKind::Group));
    assert_eq!(
        f.attr("/", "title").unwrap().to_strings().unwrap(),
        ["brine test"]
    );
    let attr = |n: &str| f.attr("/layer", n).unwrap();
    assert_eq!(
        (attr("units").dtype(), attr("units").to_i64().unwrap()),
        (DType::I64, vec![4])
    );
    assert_eq!(attr("act").to_strings().unwrap(), ["relu"]);
    assert_eq!(attr("blob").bytes().unwrap(), b"\x01x");
    assert_eq!(
        (attr("ratio").dtype(), attr("ratio").to_f64().unwrap()),
        (DType::F64, vec![0.5])
    );
    assert_eq!(
        (attr("on").dtype(), attr("on").to_i64().unwrap()),
        (DType::Bool, vec![1])
    );
    assert_eq!(
        (attr("gain").dtype(), attr("gain").to_f64().unwrap()),
        (DType::F32, vec![1.5])
    );
    assert!(attr("gain").shape().is_empty());
}

/// The value at a `/` path in nested dicts.
fn lookup(g: &Graph, path: &str) -> NodeId {
    let mut id = g.root().unwrap();
    for part in path.trim_start_matches('/').split('/') {
        let Node::Dict(items) = g.get(id) else {
            panic!("{path}: not a dict at {part}");
        };
        id = g
            .pairs(*items)
            .iter()
            .find(|(k, _)| matches!(g.get(*k), Node::Str(s) if s.as_str() == Some(part)))
            .unwrap_or_else(|| panic!("{path}: no {part}"))
            .1;
    }
    id
}

/// One object of an HDF5 file: its path, its data (datasets) and its attributes.
type Object5 = (String, Option<Array>, Vec<(String, Array)>);

/// Every dataset and attribute of an HDF5 file, for comparing two files.
fn contents(path: &Path) -> Vec<Object5> {
    let f = File::open(path).unwrap();
    f.walk()
        .unwrap()
        .into_iter()
        .map(|e| {
            let data = (e.kind == ObjectKind::Dataset).then(|| f.read(&e.path).unwrap());
            let attrs = f.attrs(&e.path).unwrap();
            (e.path, data, attrs)
        })
        .collect()
}

#[test]
fn pickle_to_hdf5_and_back_keeps_dtypes_shapes_bytes_and_scalars() {
    let d = dir("pickle");
    let pkl = d.join("in.pkl");
    std::fs::write(&pkl, test_pickle()).unwrap();
    let h5 = d.join("out.h5");
    ok(&["convert", s(&pkl), s(&h5)]);
    check_h5(&h5);

    let back = d.join("back.pkl");
    ok(&["convert", s(&h5), s(&back), "--protocol", "5"]);
    let g = brine::loads(&std::fs::read(&back).unwrap()).unwrap();
    for (p, a) in arrays() {
        let got = numpy::array_at(&g, lookup(&g, p)).unwrap().expect(p);
        assert_eq!(got.dtype.to_little(), a.dtype.to_little(), "{p}");
        assert_eq!(got.shape, a.shape, "{p}");
        assert_eq!(got.c_bytes_le().unwrap(), a.c_bytes_le().unwrap(), "{p}");
    }
    assert!(matches!(g.get(lookup(&g, "/empty")), Node::Dict(v) if v.is_empty()));
    assert!(matches!(g.get(lookup(&g, "/layer/act")), Node::Str(s) if s.as_str() == Some("relu")));
    assert!(matches!(g.get(lookup(&g, "/layer/blob")), Node::Bytes(b) if b.as_bytes() == b"\x01x"));
    // Numbers and bools come back as numpy scalars of the attribute's dtype, as h5py gives them.
    for (name, dtype, bytes) in [
        ("units", NpType::Int(8, L), 4i64.to_le_bytes().to_vec()),
        ("ratio", NpType::Float(8, L), 0.5f64.to_le_bytes().to_vec()),
        ("gain", NpType::Float(4, L), 1.5f32.to_le_bytes().to_vec()),
        ("on", NpType::Bool, vec![1]),
    ] {
        let a = numpy::array_at(&g, lookup(&g, &format!("/layer/{name}")))
            .unwrap()
            .expect(name);
        assert_eq!((&a.dtype, a.shape.len()), (&dtype, 0), "{name}");
        assert_eq!(&*a.c_bytes_le().unwrap(), bytes.as_slice(), "{name}");
    }

    // And again to HDF5: the same file contents.
    let again = d.join("again.h5");
    ok(&["convert", s(&back), s(&again)]);
    assert_eq!(contents(&h5), contents(&again));
    std::fs::remove_dir_all(&d).unwrap();
}

/// A small HDF5 file of numbers in nested groups, with one string attribute on the root.
fn numeric_h5(path: &Path) {
    let mut f = File::create(path).unwrap();
    let w = Array::from_f32(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        .reshape(&[3, 2])
        .unwrap();
    f.create_dataset(
        "model/dense/kernel",
        w,
        DatasetOptions::new().chunks(&[2, 2]).gzip(4),
    )
    .unwrap();
    f.create_dataset(
        "model/dense/bias",
        Array::from_i16(&[-3, 9]),
        DatasetOptions::new(),
    )
    .unwrap();
    f.create_dataset(
        "step",
        Array::from_u64(&[u64::MAX]).reshape(&[]).unwrap(),
        DatasetOptions::new(),
    )
    .unwrap();
    f.set_attr("/", "format", Array::scalar_str("pt")).unwrap();
    f.close().unwrap();
}

fn datasets(path: &Path) -> Vec<(String, Array)> {
    contents(path)
        .into_iter()
        .filter_map(|(p, a, _)| Some((p, a?)))
        .collect()
}

#[test]
fn hdf5_to_npz_and_safetensors_and_back() {
    let d = dir("flat");
    let h5 = d.join("in.h5");
    numeric_h5(&h5);
    let want = datasets(&h5);
    assert_eq!(want.len(), 3);

    // npz has no attributes: refused, then left out with a note under --lossy.
    let npz = d.join("out.npz");
    let r = brine(&["convert", s(&h5), s(&npz)]);
    assert_eq!(r.status.code(), Some(2));
    let err = stderr(&r);
    assert!(
        err.contains("cannot represent 1 item(s): attribute \"format\" of /"),
        "{err}"
    );
    assert!(err.contains("--lossy"), "{err}");
    assert!(!npz.exists());
    let r = ok(&["convert", "--lossy", s(&h5), s(&npz)]);
    assert!(stderr(&r).contains("left out"), "{}", stderr(&r));
    let back = d.join("from_npz.h5");
    ok(&["convert", s(&npz), s(&back)]);
    assert_eq!(datasets(&back), want);
    // `brine h5 convert` writes HDF5 whatever the output's name.
    let noext = d.join("from_npz");
    ok(&["h5", "convert", s(&npz), s(&noext)]);
    assert_eq!(datasets(&noext), want);

    // safetensors keeps the root's string attributes as `__metadata__`.
    let st = d.join("out.safetensors");
    ok(&["convert", s(&h5), s(&st)]);
    let (header, _) = brine_formats::safetensors::read(&std::fs::read(&st).unwrap()).unwrap();
    assert_eq!(header.metadata, Some(vec![("format".into(), "pt".into())]));
    let back = d.join("from_st.h5");
    ok(&["convert", s(&st), s(&back)]);
    assert_eq!(datasets(&back), want);
    assert_eq!(contents(&back)[0].2, contents(&h5)[0].2);

    // Strings have no safetensors dtype.
    let strings = d.join("strings.h5");
    let mut f = File::create(&strings).unwrap();
    f.create_dataset(
        "s/names",
        Array::from_strs(&["a", "b"]),
        DatasetOptions::new(),
    )
    .unwrap();
    f.close().unwrap();
    let bad = brine(&["convert", s(&strings), s(&d.join("x.safetensors"))]);
    assert_eq!(bad.status.code(), Some(2));
    let err = stderr(&bad);
    assert!(
        err.contains(
            "1 item(s): dataset /s/names of vlen string[utf-8] (safetensors has no such dtype)"
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn h5py_and_keras_fixtures_to_pickle_match_their_datasets() {
    let d = dir("fixtures");
    for name in ["h5py_default.h5", "h5py_latest.h5", "keras_model.h5"] {
        let h5 = fixture(name);
        let pkl = d.join(name).with_extension("pkl");
        // Every fixture has array attributes, which a dict entry cannot hold as such.
        let r = brine(&["convert", s(&h5), s(&pkl)]);
        assert_eq!(r.status.code(), Some(2), "{name}");
        assert!(
            stderr(&r).contains("not a scalar"),
            "{name}: {}",
            stderr(&r)
        );
        ok(&["convert", "--lossy", s(&h5), s(&pkl)]);
        let g = brine::loads(&std::fs::read(&pkl).unwrap()).unwrap();
        let f = File::open(&h5).unwrap();
        let mut n = 0;
        for (path, a) in datasets(&h5) {
            let got = numpy::array_at(&g, lookup(&g, &path))
                .unwrap()
                .expect(&path);
            assert_eq!(got.shape, a.shape(), "{name}{path}");
            match a.dtype() {
                DType::VarString { .. } => {
                    let NpType::Unicode(k, _) = got.dtype else {
                        panic!("{path}: {:?}", got.dtype)
                    };
                    let text: Vec<String> = got
                        .c_bytes_le()
                        .unwrap()
                        .chunks(k * 4)
                        .map(|e| {
                            e.chunks(4)
                                .map(|c| {
                                    char::from_u32(u32::from_le_bytes(c.try_into().unwrap()))
                                        .unwrap()
                                })
                                .filter(|&c| c != '\0')
                                .collect()
                        })
                        .collect();
                    assert_eq!(text, a.to_strings().unwrap(), "{name}{path}");
                }
                _ => assert_eq!(
                    &*got.c_bytes_le().unwrap(),
                    a.bytes().unwrap(),
                    "{name}{path}"
                ),
            }
            n += 1;
        }
        assert!(n >= 3, "{name}: {n} datasets");
        drop(f);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn values_hdf5_cannot_hold_are_refused_by_name() {
    let d = dir("refuse");
    let mut g = Graph::new();
    let a = nd(NpType::Int(4, L), &[1], vec![1, 0, 0, 0]);
    let a = numpy::to_graph(&mut g, &a, 4).unwrap();
    let one = g.int(1);
    let two = g.int(2);
    let list = g.list(vec![one, two]);
    let none = g.none();
    let (ka, kl, kn) = (g.str("a"), g.str("steps"), g.str("nothing"));
    let slash = g.str("a/b");
    let root = g.dict(vec![
        (ka, a),
        (kl, list),
        (one, two),
        (kn, none),
        (slash, a),
    ]);
    g.set_root(root);
    let pkl = d.join("in.pkl");
    std::fs::write(&pkl, brine::dumps(&g).unwrap()).unwrap();
    let h5 = d.join("out.h5");
    std::fs::write(&h5, b"keep me").unwrap();
    let r = brine(&["convert", s(&pkl), s(&h5)]);
    assert_eq!(r.status.code(), Some(2));
    let err = stderr(&r);
    for what in [
        "/steps: a value of type list",
        "a key of type int in /",
        "/nothing: a value of type None",
        "the key \"a/b\" in / (not an HDF5 name)",
        "4 item(s)",
    ] {
        assert!(err.contains(what), "missing {what:?} in {err}");
    }
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(&h5).unwrap(), b"keep me");
    ok(&["convert", "--lossy", s(&pkl), s(&h5)]);
    assert_eq!(datasets(&h5).len(), 1);

    // A bare list is not a tree of arrays at all.
    let top = g.list(vec![one]);
    g.set_root(top);
    std::fs::write(&pkl, brine::dumps(&g).unwrap()).unwrap();
    let r = brine(&["convert", "--lossy", s(&pkl), s(&h5)]);
    assert!(
        stderr(&r).contains("the pickle holds a list, not a dict of arrays"),
        "{}",
        stderr(&r)
    );
    std::fs::remove_dir_all(&d).unwrap();
}

fn has_h5py() -> bool {
    Command::new("python3")
        .args(["-c", "import h5py, numpy"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn h5py_and_pickle_load_read_the_outputs() {
    if !has_h5py() {
        // Straight to stderr: libtest captures the print macros, and this line must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: h5py_and_pickle_load_read_the_outputs (python3 cannot import h5py and numpy)"
        );
        return;
    }
    let d = dir("python");
    let pkl = d.join("in.pkl");
    std::fs::write(&pkl, test_pickle()).unwrap();
    let h5 = d.join("out.h5");
    ok(&["convert", s(&pkl), s(&h5)]);
    let back = d.join("back.pkl");
    ok(&["convert", s(&h5), s(&back)]);
    let code = r#"
import pickle, sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
p = pickle.load(open(sys.argv[2], "rb"))
want = {
    "w": np.array([[0.5, -1.0, 2.25], [3.0, 1e-3, np.finfo(np.float32).max]], "<f4"),
    "b": np.array([-2**63, 0, 2**63 - 1], "<i8"),
    "flags": np.array([True, False]),
    "h": np.array([1.0, -2.0], "<f2"),
    "c": np.array([1.5 - 2j], "<c16"),
    "u_be": np.array([0x0102, 0xff00], "<u2"),
    "scalar": np.array(7, "<i4"),
    "layer/kernel": np.array([[1.0, 2.0], [3.0, 4.0]]),
    "layer/deep/empty": np.zeros((0, 3), "u1"),
}
for path, w in want.items():
    got = f[path][()]
    assert got.dtype == w.dtype and got.shape == w.shape and np.array_equal(got, w), (path, got)
    node = p
    for part in path.split("/"):
        node = node[part]
    assert type(node) is np.ndarray, (path, type(node))
    assert node.dtype == w.dtype and node.shape == w.shape and np.array_equal(node, w), (path, node)
assert [s.decode() for s in f["names"][()]] == ["ab", "xyé"]
assert f["raw"][()].tolist() == [b"a", b"bcd"]
assert p["names"].tolist() == ["ab", "xyé"] and p["raw"].tolist() == [b"a", b"bcd"]
a = f["layer"].attrs
assert a["units"] == 4 and a["units"].dtype == np.int64
assert a["act"] == "relu" and a["blob"] == b"\x01x"
assert a["ratio"] == 0.5 and a["on"] == True and a["on"].dtype == np.bool_
assert a["gain"] == 1.5 and a["gain"].dtype == np.float32
assert f.attrs["title"] == "brine test" and isinstance(f["empty"], h5py.Group)
l = p["layer"]
assert l["units"] == 4 and type(l["units"]) is np.int64
assert l["gain"] == 1.5 and type(l["gain"]) is np.float32
assert l["on"] is np.True_ and l["act"] == "relu" and l["blob"] == b"\x01x"
assert p["empty"] == {} and p["title"] == "brine test"
print("ok")
"#;
    let out = Command::new("python3")
        .args(["-c", code, s(&h5), s(&back)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    std::fs::remove_dir_all(&d).unwrap();
}
