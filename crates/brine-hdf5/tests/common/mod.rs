//! Helpers shared by the integration tests: the JSON form of a file (as `check_h5.py` builds it
//! with h5py) and the fixture paths.

#![allow(dead_code)]

use std::path::PathBuf;

use brine_hdf5::{Array, DType, Data, Encoding, File, Filter, ObjectKind};
use serde_json::{json, Map, Value};

/// The directory of the committed fixtures.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The expected JSON of fixture `name` (without extension).
pub fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(data_dir().join(format!("{name}.json"))).unwrap();
    assert!(text.len() > 100);
    serde_json::from_str(&text).unwrap()
}

/// A scratch path unique to this process and `name`, under cargo's `target/tmp` (so runs leave
/// nothing in the system's temporary directory).
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("brine-hdf5-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn f16(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

fn num(x: f64) -> Value {
    json!(x)
}

/// The elements of an array as `check_h5.value_json` writes them.
pub fn value_json(a: &Array) -> Value {
    let dtype = a.dtype();
    let bytes = match a.data() {
        Data::Strings(s) => return json!(s),
        Data::Bytes(b) => b,
    };
    let size = dtype.size().unwrap().max(1);
    let items: Vec<Value> = match dtype {
        DType::FixedString { .. } => a
            .to_strings()
            .unwrap()
            .into_iter()
            .map(Value::from)
            .collect(),
        DType::Bool => bytes.iter().map(|&b| json!(b != 0)).collect(),
        DType::U64 => bytes
            .chunks_exact(8)
            .map(|c| json!(u64::from_le_bytes(c.try_into().unwrap())))
            .collect(),
        DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::U8 | DType::U16 | DType::U32 => {
            a.to_i64().unwrap().into_iter().map(Value::from).collect()
        }
        DType::F16 => bytes
            .chunks_exact(2)
            .map(|c| num(f16(u16::from_le_bytes([c[0], c[1]]))))
            .collect(),
        DType::F32 | DType::F64 => a.to_f64().unwrap().into_iter().map(num).collect(),
        DType::C64 => bytes
            .chunks_exact(size)
            .map(|c| {
                let r = f32::from_le_bytes(c[0..4].try_into().unwrap());
                let i = f32::from_le_bytes(c[4..8].try_into().unwrap());
                json!([f64::from(r), f64::from(i)])
            })
            .collect(),
        DType::C128 => bytes
            .chunks_exact(size)
            .map(|c| {
                let r = f64::from_le_bytes(c[0..8].try_into().unwrap());
                let i = f64::from_le_bytes(c[8..16].try_into().unwrap());
                json!([r, i])
            })
            .collect(),
        DType::VarString { .. } => unreachable!(),
    };
    Value::Array(items)
}

/// dtype name and string encoding, as `check_h5.dtype_json`.
fn dtype_json(entry: &mut Map<String, Value>, dtype: DType) {
    entry.insert("dtype".into(), json!(dtype.numpy_name()));
    let enc = match dtype {
        DType::FixedString { encoding, .. } | DType::VarString { encoding } => encoding,
        _ => return,
    };
    let name = match enc {
        Encoding::Ascii => "ascii",
        Encoding::Utf8 => "utf-8",
    };
    entry.insert("encoding".into(), json!(name));
}

/// The JSON form of every object of `file`, as `check_h5.describe` builds it with h5py.
pub fn describe(file: &File) -> Value {
    let mut objects = Map::new();
    for entry in file.walk().unwrap() {
        let mut attrs = Map::new();
        for (name, a) in file.attrs(&entry.path).unwrap() {
            let mut e = Map::new();
            dtype_json(&mut e, a.dtype());
            e.insert("shape".into(), json!(a.shape()));
            e.insert("value".into(), value_json(&a));
            attrs.insert(name, Value::Object(e));
        }
        let mut o = Map::new();
        o.insert("attrs".into(), Value::Object(attrs));
        match entry.kind {
            ObjectKind::Group => {
                o.insert("kind".into(), json!("group"));
            }
            ObjectKind::Dataset => {
                let info = file.dataset(&entry.path).unwrap();
                let data = file.read(&entry.path).unwrap();
                o.insert("kind".into(), json!("dataset"));
                o.insert("shape".into(), json!(info.shape));
                dtype_json(&mut o, info.dtype.unwrap());
                o.insert("value".into(), value_json(&data));
                o.insert("chunks".into(), json!(info.chunks));
                let filters: Vec<String> = info
                    .filters
                    .iter()
                    .map(|f| match f {
                        Filter::Shuffle => "shuffle".to_string(),
                        Filter::Gzip(l) => format!("gzip:{l}"),
                        other => format!("{other:?}"),
                    })
                    .collect();
                o.insert("filters".into(), json!(filters));
            }
        }
        objects.insert(entry.path, Value::Object(o));
    }
    json!({ "objects": objects })
}

/// Asserts that `file` holds what `expected["objects"]` lists; storage (chunks, filters) is
/// compared only when `storage` is set.
pub fn assert_matches(file: &File, expected: &Value, storage: bool) {
    let got = describe(file);
    let got = got["objects"].as_object().unwrap();
    let want = expected["objects"].as_object().unwrap();
    assert!(want.len() >= 2, "expected JSON lists too few objects");
    let mut bad = Vec::new();
    for path in want
        .keys()
        .chain(got.keys().filter(|k| !want.contains_key(*k)))
    {
        let (Some(w), Some(g)) = (want.get(path), got.get(path)) else {
            bad.push(format!("{path}: only in one side"));
            continue;
        };
        for key in w.as_object().unwrap().keys() {
            if !storage && (key == "chunks" || key == "filters") {
                continue;
            }
            if w[key] != g[key] {
                bad.push(format!("{path} {key}: expected {}, got {}", w[key], g[key]));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Copies every object and attribute of `src` into `dst`, keeping chunks and filters.
pub fn copy_all(src: &File, dst: &mut File) {
    use brine_hdf5::DatasetOptions;
    for entry in src.walk().unwrap() {
        match entry.kind {
            ObjectKind::Group => dst.require_group(&entry.path).unwrap(),
            ObjectKind::Dataset => {
                let info = src.dataset(&entry.path).unwrap();
                let mut opts = DatasetOptions::new();
                if let Some(c) = &info.chunks {
                    opts = opts.chunks(c);
                }
                for f in &info.filters {
                    opts = match f {
                        Filter::Shuffle => opts.shuffle(true),
                        Filter::Gzip(l) => opts.gzip(*l),
                        other => panic!("filter {other:?}"),
                    };
                }
                let data = src.read(&entry.path).unwrap();
                dst.create_dataset(&entry.path, data, opts).unwrap();
            }
        }
        for (name, value) in src.attrs(&entry.path).unwrap() {
            dst.set_attr(&entry.path, &name, value).unwrap();
        }
    }
}

/// Whether `python3 -c 'import h5py'` works here.
pub fn have_h5py() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import h5py, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
