//! PyTorch checkpoints: the generator's state_dict saved at protocols 2 and 4 (every dtype,
//! shared views, non-contiguous and offset tensors, bf16, float8, conj/neg bits, a parameter),
//! a BytesIO archive, the legacy format, a whole pickled module, a tensor subclass, a
//! TorchScript archive, and the conversion to safetensors compared with what safetensors'
//! convert.py logic wrote from the same file.

mod ml_common;

use brine_formats::safetensors;
use brine_formats::torch::Checkpoint;
use ml_common::{expected, fixture, hex};
use serde_json::Value;

fn check(file: &str, section: &str) {
    check_in(file, expected()[section].as_object().unwrap());
}

/// Checks every tensor of `file` against `e`: name -> dtype, shape, stride, offset, bytes.
fn check_in(file: &str, e: &serde_json::Map<String, Value>) {
    let ckpt = Checkpoint::open(fixture(file)).unwrap();
    let tensors = ckpt.tensors().unwrap();
    let mut names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    let want: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(names, want, "{file}: names");
    for (name, t) in &tensors {
        let x = &e[name.as_str()];
        let what = format!("{file}:{name}");
        assert_eq!(
            t.dtype.torch_name().unwrap(),
            x["dtype"].as_str().unwrap(),
            "{what}"
        );
        let v = |k: &str| -> Vec<usize> {
            x[k].as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect()
        };
        assert_eq!(t.shape, v("shape"), "{what}: shape");
        assert_eq!(t.stride, v("stride"), "{what}: stride");
        assert_eq!(
            t.storage_offset as u64,
            x["storage_offset"].as_u64().unwrap(),
            "{what}"
        );
        let a = ckpt.read(t).unwrap();
        assert_eq!(
            hex(a.raw().unwrap()),
            x["hex"].as_str().unwrap(),
            "{what}: bytes"
        );
        if let Some(Value::Array(shares)) = x.get("shares_with") {
            for other in shares {
                let o = &tensors
                    .iter()
                    .find(|(n, _)| n == other.as_str().unwrap())
                    .unwrap()
                    .1;
                assert_eq!(o.storage, t.storage, "{what} shares with {other}");
            }
        }
    }
}

#[test]
fn state_dict_protocol_2() {
    check("torch/sd_p2.pt", "torch");
}

#[test]
fn state_dict_protocol_4() {
    check("torch/sd_p4.pt", "torch");
}

#[test]
fn bytesio_archive_prefix() {
    let ckpt = Checkpoint::open(fixture("torch/bytesio.pt")).unwrap();
    assert_eq!(ckpt.prefix, "archive/");
    check("torch/bytesio.pt", "torch_bytesio");
}

#[test]
fn legacy_format() {
    let ckpt = Checkpoint::open(fixture("torch/legacy.pt")).unwrap();
    assert_eq!(ckpt.format, brine_formats::torch::Format::Legacy);
    check("torch/legacy.pt", "torch_legacy");
}

/// brine's conversion equals safetensors' own (made by the generator with convert.py's
/// logic): same metadata (compared as a map: the reference writer's key order is a hash
/// order), same tensor entries in the same order with the same offsets, same data bytes.
#[test]
fn to_safetensors_matches_reference() {
    let ckpt = Checkpoint::open(fixture("torch/sd_p2.pt")).unwrap();
    let mut out = Vec::new();
    let report = ckpt.to_safetensors(&mut out).unwrap();
    let reference = std::fs::read(fixture("torch/sd_p2.safetensors")).unwrap();
    let (mine, _) = safetensors::read(&out).unwrap();
    let (theirs, _) = safetensors::read(&reference).unwrap();
    assert_eq!(mine.metadata, theirs.metadata);
    let mut m = mine.entries.clone();
    let mut t = theirs.entries.clone();
    m.sort_by_key(|e| e.begin);
    t.sort_by_key(|e| e.begin);
    assert_eq!(m, t);
    assert_eq!(
        out[mine.data_start as usize..],
        reference[theirs.data_start as usize..]
    );
    assert_eq!(report.aliases.len(), 2);
    assert_eq!(report.bytes, out.len() as u64);
}

#[test]
fn complex128_has_no_safetensors_dtype() {
    let ckpt = Checkpoint::open(fixture("torch/c128.pt")).unwrap();
    let err = ckpt.to_safetensors(&mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("no dtype for complex128"), "{err}");
}

/// A storage record whose tensor claims more elements than the record holds.
#[test]
fn tensor_past_its_storage_is_an_error() {
    let data = std::fs::read(fixture("torch/bytesio.pt")).unwrap();
    // `w` is a 2x3 float tensor; make its size claim 2x300 by patching the pickle is not
    // possible in place (lengths), so rebuild the archive with a shortened storage instead.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&data)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().to_owned();
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut buf).unwrap();
        if name == "archive/data/0" {
            buf.truncate(8);
        }
        out.start_file(name, opts).unwrap();
        std::io::Write::write_all(&mut out, &buf).unwrap();
    }
    let bytes = out.finish().unwrap().into_inner();
    let ckpt =
        Checkpoint::from_reader(std::io::Cursor::new(bytes), &brine::Limits::default()).unwrap();
    let err = ckpt.tensors().unwrap_err();
    assert!(err.to_string().contains("bytes of storage"), "{err}");
}

/// brine writes a checkpoint from the reference safetensors file; brine reads it back, and
/// (when python3 has torch) `torch.load(weights_only=True)` gives tensors equal to
/// safetensors' own loading of the source.
#[test]
fn write_zip_round_trip() {
    let src = fixture("torch/sd_p2.safetensors");
    let data = std::fs::read(&src).unwrap();
    let (_, arrays) = safetensors::read(&data).unwrap();
    let named: Vec<(&str, &brine_formats::array::NdArray<'_>)> =
        arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    let mut file = std::io::Cursor::new(Vec::new());
    brine_formats::torch::write_zip(&mut file, "sd", &named).unwrap();
    let bytes = file.into_inner();
    let ckpt = Checkpoint::from_reader(
        std::io::Cursor::new(bytes.clone()),
        &brine::Limits::default(),
    )
    .unwrap();
    let tensors = ckpt.tensors().unwrap();
    assert_eq!(tensors.len(), arrays.len());
    for ((n, t), (m, a)) in tensors.iter().zip(&arrays) {
        assert_eq!(n, m);
        assert_eq!(&ckpt.read(t).unwrap(), a, "{n}");
    }
    let path = std::env::temp_dir().join(format!("brine_write_zip_{}.pt", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, torch\n\
             from safetensors.torch import load_file\n\
             a = torch.load(sys.argv[1], weights_only=True)\n\
             b = load_file(sys.argv[2])\n\
             assert list(a) == sorted(b, key=list(a).index), (list(a), list(b))\n\
             assert all(torch.equal(a[k], b[k]) for k in b)\n\
             print('ok', len(a))",
        )
        .arg(&path)
        .arg(&src)
        .output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named") => {
            eprintln!("SKIPPED: python3 without torch/safetensors")
        }
        Ok(o) => assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            format!("ok {}", arrays.len()),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => eprintln!("SKIPPED: no python3"),
    }
}

/// Tensor kinds brine cannot rebuild are reported, not silently dropped.
#[test]
fn quantized_tensors_are_reported() {
    let mut g = brine::value::Graph::new();
    let f = g.global("torch._utils", "_rebuild_qtensor");
    let args = g.tuple(vec![]);
    let q = g.object(brine::value::Object::new(
        brine::value::ObjectKind::Reduce,
        f,
        args,
    ));
    let err = brine_formats::torch::tensor_at(&g, q).unwrap_err();
    assert!(err.to_string().contains("_rebuild_qtensor"), "{err}");
}

/// A checkpoint whose `byteorder` record says big-endian has its storages byte-swapped.
#[test]
fn big_endian_byteorder_record() {
    let data = std::fs::read(fixture("torch/bytesio.pt")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&data)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().to_owned();
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut buf).unwrap();
        if name == "archive/byteorder" {
            buf = b"big".to_vec();
        }
        if name.starts_with("archive/data/") {
            // Both tensors are 4-byte types (float32, int32).
            for c in buf.chunks_exact_mut(4) {
                c.reverse();
            }
        }
        out.start_file(name, opts).unwrap();
        std::io::Write::write_all(&mut out, &buf).unwrap();
    }
    let bytes = out.finish().unwrap().into_inner();
    let big =
        Checkpoint::from_reader(std::io::Cursor::new(bytes), &brine::Limits::default()).unwrap();
    assert!(big.big_endian);
    let little = Checkpoint::open(fixture("torch/bytesio.pt")).unwrap();
    for ((n, a), (_, b)) in big.tensors().unwrap().iter().zip(little.tensors().unwrap()) {
        assert_eq!(big.read(a).unwrap(), little.read(&b).unwrap(), "{n}");
    }
}

/// A malformed storage id is reported where it appears, by the persistent-load hook.
#[test]
fn malformed_persistent_id_is_reported_at_its_offset() {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("a/data.pkl", opts).unwrap();
    // ('storage', 1) as a persistent id: no storage type, key, location or size.
    std::io::Write::write_all(&mut out, b"\x80\x02(X\x07\x00\x00\x00storageK\x01tQ.").unwrap();
    let bytes = out.finish().unwrap().into_inner();
    let err = Checkpoint::from_reader(std::io::Cursor::new(bytes), &brine::Limits::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "persistent id is not a torch storage at offset 18 (opcode BINPERSID)"
    );
}

/// Legacy persistent ids may name a view `(view_key, offset, size)` of a root storage: the
/// tensor then starts `offset` elements into the root.
#[test]
fn legacy_storage_view_offsets_the_tensor() {
    let mut g = brine::value::Graph::new();
    let tag = g.str("storage");
    let cls = g.global("torch", "FloatStorage");
    let key = g.str("140");
    let loc = g.str("cpu");
    let numel = g.int(10);
    let vkey = g.str("141");
    let voff = g.int(4);
    let vsize = g.int(3);
    let view = g.tuple(vec![vkey, voff, vsize]);
    let pid = g.tuple(vec![tag, cls, key, loc, numel, view]);
    let storage = g.add(brine::value::Node::PersId(pid));
    let one = g.int(1);
    let three = g.int(3);
    let size = g.tuple(vec![three]);
    let stride = g.tuple(vec![one]);
    let f = g.bool(false);
    let hooks = g.dict(vec![]);
    let args = g.tuple(vec![storage, one, size, stride, f, hooks]);
    let func = g.global("torch._utils", "_rebuild_tensor_v2");
    let t = g.object(brine::value::Object::new(
        brine::value::ObjectKind::Reduce,
        func,
        args,
    ));
    let t = brine_formats::torch::tensor_at(&g, t).unwrap().unwrap();
    assert_eq!((t.storage.as_str(), t.storage_offset), ("140", 5));
}

#[test]
fn whole_module_subclass_and_torchscript() {
    let exp = expected();
    let e = exp["torch_extra"].as_object().unwrap();
    assert_eq!(e.len(), 3);
    for (file, tensors) in e {
        check_in(&format!("torch/{file}"), tensors.as_object().unwrap());
    }
}
