//! numpy arrays inside pickles: every dtype and layout of the generator's fixtures, read at
//! protocols 0/2/4/5 (in-band and out-of-band) and numpy 1 module names, then written back
//! by brine at every protocol and read again; numpy 2 StringDType arrays (pickle, .npy, joblib,
//! written back); hostile shapes and sizes end in errors.

mod ml_common;

use brine::value::{Blob, Node};
use brine::LoadOptions;
use brine_formats::array::{ByteOrder, DType, NdArray};
use brine_formats::numpy;
use ml_common::{check_array, expected, fixture};

fn check_pickle(file: &str, opts: LoadOptions) {
    let data = std::fs::read(fixture(file)).unwrap();
    let g = brine::loads_with(&data, opts).unwrap();
    let exp = expected();
    let exp = exp["numpy"].as_object().unwrap();
    let found = numpy::arrays(&g).unwrap();
    let names: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    let want: Vec<&str> = exp.keys().map(String::as_str).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, want, "{file}: array names");
    for (name, a) in &found {
        check_array(&format!("{file}:{name}"), a, &exp[name.as_str()], Some(&g));
    }
}

#[test]
fn protocol_0() {
    check_pickle("numpy/all_p0.pkl", LoadOptions::new());
}

#[test]
fn protocol_2() {
    check_pickle("numpy/all_p2.pkl", LoadOptions::new());
}

#[test]
fn protocol_2_numpy1_names() {
    check_pickle("numpy/all_p2_numpy1.pkl", LoadOptions::new());
}

#[test]
fn protocol_4() {
    check_pickle("numpy/all_p4.pkl", LoadOptions::new());
}

#[test]
fn protocol_5_in_band() {
    check_pickle("numpy/all_p5.pkl", LoadOptions::new());
}

fn oob_buffers() -> Vec<Blob> {
    let raw = std::fs::read(fixture("numpy/all_p5_oob.bufs")).unwrap();
    let word = |at: usize| u64::from_le_bytes(raw[at..at + 8].try_into().unwrap()) as usize;
    let mut at = 8;
    (0..word(0))
        .map(|_| {
            let n = word(at);
            let b = Blob::from(&raw[at + 8..at + 8 + n]);
            at += 8 + n;
            b
        })
        .collect()
}

#[test]
fn protocol_5_out_of_band() {
    check_pickle(
        "numpy/all_p5_oob.pkl",
        LoadOptions::new().buffers(oob_buffers()),
    );
}

#[test]
fn out_of_band_without_buffers_is_an_error() {
    let data = std::fs::read(fixture("numpy/all_p5_oob.pkl")).unwrap();
    let g = brine::loads(&data).unwrap();
    let err = numpy::arrays(&g).unwrap_err();
    assert!(err.to_string().contains("was not supplied"), "{err}");
}

/// Reads every fixture array, writes it with brine at each protocol (both module spellings),
/// and reads the result again: same dtype, shape and bytes.
#[test]
fn write_back_every_protocol() {
    let data = std::fs::read(fixture("numpy/all_p4.pkl")).unwrap();
    let g = brine::loads(&data).unwrap();
    let exp = expected();
    for (name, a) in numpy::arrays(&g).unwrap() {
        if a.dtype.has_objects() {
            continue;
        }
        for proto in 0..=5u8 {
            for names in [numpy::ModuleNames::Numpy2, numpy::ModuleNames::Numpy1] {
                let mut out = brine::value::Graph::new();
                let root = numpy::to_graph_with(&mut out, &a, proto, names).unwrap();
                out.set_root(root);
                let bytes =
                    brine::dumps_with(&out, brine::DumpOptions::new().protocol(proto)).unwrap();
                let back = brine::loads(&bytes).unwrap();
                let b = numpy::array_at(&back, back.root().unwrap())
                    .unwrap()
                    .expect("an array");
                let mut e = exp["numpy"][name.as_str()].clone();
                // The writer keeps data and mask but writes plain ndarrays.
                e.as_object_mut().unwrap().remove("subclass");
                e.as_object_mut().unwrap().remove("mask_hex");
                let what = format!("{name} at protocol {proto} ({names:?})");
                check_array(&what, &b, &e, None);
            }
        }
    }
}

/// Object arrays are written with their items as nodes of the same graph.
#[test]
fn write_object_array() {
    let mut g = brine::value::Graph::new();
    let items = vec![g.int(1), g.str("a")];
    let a = NdArray {
        data: brine_formats::array::Data::Objects(items),
        ..NdArray::from_bytes(DType::Object, vec![2], vec![0u8; 16]).unwrap()
    };
    let root = numpy::to_graph(&mut g, &a, 5).unwrap();
    g.set_root(root);
    let bytes = brine::dumps_with(&g, brine::DumpOptions::new().protocol(5)).unwrap();
    let back = brine::loads(&bytes).unwrap();
    let b = numpy::array_at(&back, back.root().unwrap())
        .unwrap()
        .unwrap();
    let brine_formats::array::Data::Objects(items) = &b.data else {
        panic!("object data")
    };
    assert_eq!(back.get(items[0]), &Node::Int(1));
}

/// Python's numpy loads what brine writes (skipped when python3 with numpy is missing). numpy
/// byte-swaps big-endian data to native order when it unpickles at protocols below 5, so only
/// the kind, size and values are compared.
#[test]
fn numpy_loads_brine_output() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: python3 with numpy not available");
        return;
    }
    let a = NdArray::from_bytes(
        DType::Float(4, ByteOrder::Big),
        vec![2, 2],
        vec![
            0x3f, 0x80, 0, 0, 0x40, 0, 0, 0, 0x40, 0x40, 0, 0, 0x40, 0x80, 0, 0,
        ],
    )
    .unwrap();
    for proto in [0u8, 2, 4, 5] {
        let path =
            std::env::temp_dir().join(format!("brine_np_{}_{proto}.pkl", std::process::id()));
        std::fs::write(&path, numpy::dumps(&a, proto).unwrap()).unwrap();
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg("import pickle,sys; a=pickle.load(open(sys.argv[1],'rb')); print(a.dtype.kind, a.dtype.itemsize, a.shape, a.tolist())")
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "f 4 (2, 2) [[1.0, 2.0], [3.0, 4.0]]",
            "protocol {proto}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn hostile_shape_is_an_error() {
    // `_frombuffer(b'', dtype('f8'), (2**62, 8), 'C')`: the declared shape overflows.
    let mut g = brine::value::Graph::new();
    let a = NdArray::from_bytes(DType::Float(8, ByteOrder::Little), vec![1], vec![0u8; 8]).unwrap();
    let root = numpy::to_graph(&mut g, &a, 5).unwrap();
    let Node::Object(o) = g.get(root).clone() else {
        panic!()
    };
    let Node::Tuple(args) = g.get(o.args).clone() else {
        panic!()
    };
    let args = g.items(args).to_vec();
    let big = g.int(1 << 62);
    let eight = g.int(8);
    let shape = g.tuple(vec![big, eight]);
    let args2 = g.tuple(vec![args[0], args[1], shape, args[3]]);
    if let Node::Object(o) = g.get_mut(root) {
        o.args = args2;
    }
    g.set_root(root);
    let err = numpy::array_at(&g, root).unwrap_err();
    assert!(err.to_string().contains("overflows"), "{err}");
}

/// Every non-object fixture array, written by brine at each protocol and loaded by Python's
/// numpy, equals numpy's own unpickling of the fixture: same dtype (up to byte order, which
/// numpy normalises below protocol 5), shape and bytes (skipped when python3 with numpy is
/// missing).
#[test]
fn numpy_loads_every_dtype_brine_writes() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: python3 with numpy not available");
        return;
    }
    let src = fixture("numpy/all_p4.pkl");
    let data = std::fs::read(&src).unwrap();
    let g = brine::loads(&data).unwrap();
    for proto in [0u8, 2, 4, 5] {
        let mut out = brine::value::Graph::new();
        let mut items = Vec::new();
        for (name, a) in numpy::arrays(&g).unwrap() {
            if a.dtype.has_objects() {
                continue;
            }
            let k = out.str(&name);
            let v = numpy::to_graph(&mut out, &a, proto).unwrap();
            items.push((k, v));
        }
        let root = out.dict(items);
        out.set_root(root);
        let bytes = brine::dumps_with(&out, brine::DumpOptions::new().protocol(proto)).unwrap();
        let path =
            std::env::temp_dir().join(format!("brine_np_all_{}_{proto}.pkl", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let script = "import pickle, sys, numpy as np\n\
            ours = pickle.load(open(sys.argv[1], 'rb'))\n\
            theirs = pickle.load(open(sys.argv[2], 'rb'))\n\
            def norm(x):\n    x = np.ascontiguousarray(np.asarray(x))\n    return x.astype(x.dtype.newbyteorder('<'))\n\
            bad = [k for k in ours if norm(ours[k]).dtype != norm(theirs[k]).dtype\n\
                   or norm(ours[k]).shape != norm(theirs[k]).shape\n\
                   or norm(ours[k]).tobytes() != norm(theirs[k]).tobytes()]\n\
            print(len(ours), bad)";
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .arg(&src)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.trim().ends_with("[]") && !text.starts_with("0 "),
            "protocol {proto}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// numpy 2 `StringDType` arrays: read from pickles (protocols 2, 4, 5), `.npy` and joblib
/// with their items and their dtype's `na_object` / `coerce`, and written back so that numpy
/// loads equal arrays (that part skipped when python3 with numpy 2 is missing).
#[test]
fn string_dtype_arrays() {
    use brine_formats::array::StringNa;
    let exp = expected();
    let e = exp["stringdtype"].as_object().unwrap();
    let check = |what: &str, g: &brine::value::Graph| {
        let found = numpy::arrays(g).unwrap();
        assert_eq!(found.len(), e.len(), "{what}");
        for (name, a) in &found {
            let x = &e[name.as_str()];
            check_array(&format!("{what}:{name}"), a, x, Some(g));
            let DType::VarString { coerce, na } = &a.dtype else {
                panic!("{what}:{name}: {:?}", a.dtype)
            };
            assert_eq!(*coerce, x["coerce"].as_bool().unwrap(), "{what}:{name}");
            let want = match &x["na"] {
                serde_json::Value::Null => StringNa::None,
                serde_json::Value::String(s) if s == "absent" => StringNa::Absent,
                serde_json::Value::String(s) if s == "nan" => StringNa::Nan,
                serde_json::Value::String(s) => StringNa::Str(s.clone()),
                other => panic!("{other}"),
            };
            assert_eq!(*na, want, "{what}:{name}");
        }
    };
    for p in [2, 4, 5] {
        let data = std::fs::read(fixture(&format!("stringdtype/all_p{p}.pkl"))).unwrap();
        check(&format!("p{p}"), &brine::loads(&data).unwrap());
    }
    let g = brine_formats::joblib::load(
        &fixture("stringdtype/all.joblib"),
        &brine::Limits::default(),
    )
    .unwrap();
    check("joblib", &g);
    let data = std::fs::read(fixture("stringdtype/plain.npy")).unwrap();
    let npy = brine_formats::npy::read(&data).unwrap();
    assert_eq!(npy.array.dtype.str(), "StringDType()");
    check_array("plain.npy", &npy.array, &e["plain"], npy.objects.as_ref());

    // Written back: numpy reads the same dtype and items.
    let ok = std::process::Command::new("python3")
        .args(["-c", "import numpy.dtypes; numpy.dtypes.StringDType"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: python3 with numpy 2 not available");
        return;
    }
    let data = std::fs::read(fixture("stringdtype/all_p4.pkl")).unwrap();
    let src = brine::loads(&data).unwrap();
    for proto in [0u8, 2, 4, 5] {
        let mut out = brine::value::Graph::new();
        let mut items = Vec::new();
        for (name, a) in numpy::arrays(&src).unwrap() {
            // The items are nodes of `src`: copy them over as strings / None.
            let brine_formats::array::Data::Objects(ids) = &a.data else {
                panic!()
            };
            let mut b = a.clone();
            b.data = brine_formats::array::Data::Objects(
                ids.iter()
                    .map(|&i| match src.get(i) {
                        Node::Str(s) => out.str(&s.to_string_lossy()),
                        Node::None => out.none(),
                        other => panic!("{other:?}"),
                    })
                    .collect(),
            );
            let k = out.str(&name);
            let v = numpy::to_graph(&mut out, &b, proto).unwrap();
            items.push((k, v));
        }
        let root = out.dict(items);
        out.set_root(root);
        let bytes = brine::dumps_with(&out, brine::DumpOptions::new().protocol(proto)).unwrap();
        let path =
            std::env::temp_dir().join(format!("brine_np_str_{}_{proto}.pkl", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let script = "import pickle, sys\n\
            ours = pickle.load(open(sys.argv[1], 'rb'))\n\
            theirs = pickle.load(open(sys.argv[2], 'rb'))\n\
            bad = [k for k in theirs if repr(ours[k].dtype) != repr(theirs[k].dtype)\n\
                   or ours[k].shape != theirs[k].shape or ours[k].tolist() != theirs[k].tolist()]\n\
            print(len(ours), bad)";
        let run = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .arg(fixture("stringdtype/all_p4.pkl"))
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        let text = String::from_utf8_lossy(&run.stdout);
        assert_eq!(
            text.trim(),
            format!("{} []", e.len()),
            "protocol {proto}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
