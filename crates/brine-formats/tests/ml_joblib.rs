//! joblib dumps: uncompressed (protocols 4 and 2, with and without alignment padding) and
//! compressed with zlib, gzip, bz2, lzma and xz; every array compared with numpy's values,
//! the non-array values kept, and truncated payloads rejected.

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
