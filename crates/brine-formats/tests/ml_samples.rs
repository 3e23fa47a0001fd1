//! The shared real-world samples (`/work/shared/samples`, made by numpy, pandas, scikit-learn,
//! joblib, torch and safetensors; override with `BRINE_ML_SAMPLES`) checked against their
//! MANIFEST.json. Skipped, with a message, when the directory is absent: the committed tests
//! use the repo's own fixtures.

use std::path::PathBuf;

use brine::value::Blob;
use brine::LoadOptions;
use brine_formats::array::NdArray;
use brine_formats::detect::{detect, FileKind};
use brine_formats::torch::Checkpoint;
use brine_formats::{joblib, npy, npz, numpy, safetensors};
use serde_json::Value;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check_nd(what: &str, a: &NdArray<'_>, e: &Value) {
    let shape: Vec<usize> = e["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(a.shape, shape, "{what}: shape");
    let dt = e["dtype"].as_str().unwrap();
    if !dt.starts_with('[') {
        assert_eq!(a.dtype.str(), dt, "{what}: dtype");
    }
    if let Some(h) = e["raw_c_order_le_hex"].as_str() {
        assert_eq!(hex(&a.c_bytes_le().unwrap()), h, "{what}: bytes");
    }
}

fn check_tensor_values(what: &str, a: &NdArray<'_>, e: &Value) {
    let raw = a.raw().unwrap();
    let got: Vec<f64> = match e["dtype"].as_str().unwrap() {
        "torch.float32" => raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
        // (the manifest's float32 values go through f64 text: compare after rounding to f32)
        "torch.int64" => raw
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
        _ => return,
    };
    let want: Vec<f64> = e["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let f32ish = e["dtype"] == "torch.float32";
    let round = |v: Vec<f64>| -> Vec<f64> {
        v.into_iter()
            .map(|x| if f32ish { x as f32 as f64 } else { x })
            .collect()
    };
    let (got, want) = (round(got), round(want));
    assert_eq!(got, want, "{what}: values");
}

#[test]
fn shared_samples() {
    let dir = std::env::var_os("BRINE_ML_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/samples"));
    let Ok(text) = std::fs::read_to_string(dir.join("MANIFEST.json")) else {
        eprintln!("SKIPPED: no samples at {}", dir.display());
        return;
    };
    let manifest: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    let limits = brine::Limits::default();
    let mut checked = 0;
    for (rel, entry) in &manifest {
        let path = dir.join(rel);
        let e = &entry["expected"];
        let mut f = std::fs::File::open(&path).unwrap();
        let kind = detect(&mut f).unwrap();
        let data = std::fs::read(&path).unwrap();
        match kind {
            FileKind::TorchZip | FileKind::TorchLegacy => {
                let ckpt = Checkpoint::open(&path).unwrap_or_else(|err| panic!("{rel}: {err}"));
                let tensors = ckpt.tensors().unwrap_or_else(|err| panic!("{rel}: {err}"));
                assert!(!tensors.is_empty(), "{rel}: no tensors");
                for (name, t) in &tensors {
                    let a = ckpt
                        .read(t)
                        .unwrap_or_else(|err| panic!("{rel}:{name}: {err}"));
                    let x = if e["kind"] == "tensor" {
                        e
                    } else {
                        &e[name.as_str()]
                    };
                    if x.is_object() {
                        let what = format!("{rel}:{name}");
                        assert_eq!(
                            format!("torch.{}", t.dtype.torch_name().unwrap()),
                            x["dtype"],
                            "{what}"
                        );
                        check_tensor_values(&what, &a, x);
                    }
                }
            }
            FileKind::Safetensors => {
                let (_, arrays) =
                    safetensors::read(&data).unwrap_or_else(|err| panic!("{rel}: {err}"));
                assert!(!arrays.is_empty());
            }
            FileKind::Npy => {
                let a = npy::read(&data).unwrap_or_else(|err| panic!("{rel}: {err}"));
                check_nd(rel, &a.array, e);
            }
            FileKind::Npz => {
                let members = npz::read(f, &limits).unwrap();
                for m in members {
                    check_nd(&format!("{rel}:{}", m.name), &m.array, &e[&m.name]);
                }
            }
            FileKind::Compressed | FileKind::Pickle => {
                let g = if rel.contains("_oob") {
                    let buf = std::fs::read(dir.join("numpy/arr_f8_4_p5_oob.buf0")).unwrap();
                    brine::loads_with(&data, LoadOptions::new().buffers(vec![Blob::from(buf)]))
                        .unwrap()
                } else {
                    joblib::loads(&data, &limits).unwrap_or_else(|err| panic!("{rel}: {err}"))
                };
                let arrays = numpy::arrays(&g).unwrap_or_else(|err| panic!("{rel}: {err}"));
                if let (Some(d), Some(m)) = (e.get("data"), e.get("mask")) {
                    let a = numpy::array_at(&g, g.root().unwrap()).unwrap().unwrap();
                    check_nd(rel, &a, d);
                    let mask: Vec<u8> = m
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|b| b.as_bool().unwrap() as u8)
                        .collect();
                    assert_eq!(a.mask.as_deref(), Some(&mask[..]), "{rel}: mask");
                } else if e["kind"] == "ndarray" {
                    let a = numpy::array_at(&g, g.root().unwrap()).unwrap().unwrap();
                    check_nd(rel, &a, e);
                } else if let Some(obj) = e.as_object() {
                    for (k, x) in obj {
                        if x.get("kind").is_some_and(|k| k == "ndarray") {
                            let a = &arrays
                                .iter()
                                .find(|(p, _)| p == k || p.ends_with(&format!(".{k}")))
                                .unwrap_or_else(|| panic!("{rel}: no array {k}"))
                                .1;
                            check_nd(&format!("{rel}:{k}"), a, x);
                        }
                    }
                }
            }
        }
        checked += 1;
    }
    eprintln!("checked {checked} samples");
}
