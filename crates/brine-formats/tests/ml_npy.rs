//! `.npy` v1/v2/v3 and `.npz` (stored and deflated): the generator's files read and compared
//! with numpy's values, brine's writer checked byte-for-byte against numpy's files, and
//! hostile headers (lying shapes, oversized headers, unknown keys) rejected.

mod ml_common;

use brine_formats::array::{ByteOrder, DType, NdArray};
use brine_formats::{npy, npz};
use ml_common::{check_array, expected, fixture};

#[test]
fn npy_every_version() {
    let exp = expected();
    let mut seen = 0;
    for (file, e) in exp["npy"].as_object().unwrap() {
        if !file.ends_with(".npy") {
            continue;
        }
        let data = std::fs::read(fixture(&format!("npy/{file}"))).unwrap();
        let got = npy::read(&data).unwrap_or_else(|err| panic!("{file}: {err}"));
        let v: u8 = file[file.len() - 5..file.len() - 4].parse().unwrap();
        assert_eq!(got.header.version, (v, 0), "{file}");
        check_array(file, &got.array, e, got.objects.as_ref());
        seen += 1;
    }
    assert!(seen >= 30, "only {seen} .npy fixtures");
}

/// brine writes the same bytes as `numpy.lib.format.write_array` at each version.
#[test]
fn npy_writer_matches_numpy() {
    let exp = expected();
    for file in exp["npy"].as_object().unwrap().keys() {
        if !file.ends_with(".npy") || file.starts_with("object") {
            continue;
        }
        let data = std::fs::read(fixture(&format!("npy/{file}"))).unwrap();
        let got = npy::read(&data).unwrap();
        let mut out = Vec::new();
        npy::write(&mut out, &got.array, Some(got.header.version.0)).unwrap();
        assert!(out == data, "{file}: brine's bytes differ from numpy's");
    }
}

#[test]
fn npz_stored_and_deflated() {
    let exp = expected();
    for file in ["stored.npz", "deflated.npz"] {
        let f = std::fs::File::open(fixture(&format!("npy/{file}"))).unwrap();
        let members = npz::read(f, &brine::Limits::default()).unwrap();
        let e = exp["npy"][file].as_object().unwrap();
        assert_eq!(members.len(), e.len(), "{file}");
        for m in &members {
            check_array(&format!("{file}:{}", m.name), &m.array, &e[&m.name], None);
        }
        // Round trip through brine's writer.
        let named: Vec<(&str, &NdArray<'_>)> = members
            .iter()
            .map(|m| (m.name.as_str(), &m.array))
            .collect();
        let mut out = std::io::Cursor::new(Vec::new());
        npz::write(&mut out, &named, file == "deflated.npz").unwrap();
        let again = npz::read(
            std::io::Cursor::new(out.into_inner()),
            &brine::Limits::default(),
        )
        .unwrap();
        for (a, b) in members.iter().zip(&again) {
            assert_eq!(a.name, b.name);
            check_array(
                &format!("again {file}:{}", a.name),
                &b.array,
                &e[&a.name],
                None,
            );
        }
    }
}

fn with_header(header: &str, body: &[u8]) -> Vec<u8> {
    let mut v = npy::MAGIC.to_vec();
    v.extend_from_slice(&[1, 0]);
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn lying_shape_is_an_error() {
    let data = with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000,), }\n",
        &[0; 16],
    );
    let err = npy::read(&data).unwrap_err();
    assert!(err.is_eof(), "{err}");
    let data = with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }\n",
        &[0; 16],
    );
    let err = npy::read(&data).unwrap_err();
    assert!(err.to_string().contains("overflows"), "{err}");
}

#[test]
fn bad_headers_are_errors() {
    for (h, want) in [
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}\n",
            "unexpected key",
        ),
        ("{'descr': '<f8', 'shape': (1,)}\n", "lacks"),
        (
            "{'descr': '<q9', 'fortran_order': False, 'shape': (1,)}\n",
            "unknown dtype",
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)\n",
            "expected",
        ),
        (
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
            "too deep",
        ),
    ] {
        let err = npy::read(&with_header(h, &[0; 8])).unwrap_err();
        assert!(err.to_string().contains(want), "{h}: {err}");
    }
    let mut big = npy::MAGIC.to_vec();
    big.extend_from_slice(&[2, 0]);
    big.extend_from_slice(&20_000u32.to_le_bytes());
    big.extend(std::iter::repeat_n(b' ', 20_000));
    let err = npy::read(&big).unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
    assert!(npy::read(b"\x93NUMP").is_err());
}

#[test]
fn every_prefix_fails_cleanly() {
    let a = NdArray::from_bytes(
        DType::Int(4, ByteOrder::Big),
        vec![2],
        vec![0, 0, 0, 1, 0, 0, 0, 2],
    )
    .unwrap();
    let file = npy::to_vec(&a).unwrap();
    for n in 0..file.len() {
        assert!(npy::read(&file[..n]).is_err(), "prefix {n}");
    }
    assert_eq!(npy::read(&file).unwrap().array, a);
}
