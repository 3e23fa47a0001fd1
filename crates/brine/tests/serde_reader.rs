//! `from_reader` (the pickle's bytes taken off the reader, then read as a slice, the direct
//! reader first) against the value graph built on the reader itself: the same values, the
//! same errors, and the reader left at the same place, on every golden file and on mutants.

mod common;

use std::fmt::Debug;

use brine::serde::Deserializer;
use brine::LoadOptions;
use common::{golden, options_for};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Reads pickles off `data` until it is empty or a read fails, each as a `T`: the results
/// (Debug text or error message) and the bytes left after each.
fn by<T: Debug>(
    data: &[u8],
    opts: impl Fn() -> LoadOptions,
    read: impl Fn(&mut &[u8], LoadOptions) -> brine::Result<T>,
) -> Vec<(Result<String, String>, usize)> {
    let mut r = data;
    let mut out = Vec::new();
    loop {
        let got = read(&mut r, opts()).map(|v| format!("{v:?}"));
        let failed = got.is_err();
        out.push((got.map_err(|e| e.to_string()), r.len()));
        if failed || r.is_empty() || out.len() > 64 {
            return out;
        }
    }
}

/// The reference: the value graph built on the reader, then `T` from it.
fn graph_on_reader<T: DeserializeOwned>(r: &mut &[u8], opts: LoadOptions) -> brine::Result<T> {
    let mut de = Deserializer::from_reader_with(r, opts)?;
    T::deserialize(&mut de)
}

#[track_caller]
fn agree<T: DeserializeOwned + Debug>(data: &[u8], opts: impl Fn() -> LoadOptions) -> bool {
    let new = by(data, &opts, |r, o| brine::from_reader_with::<T>(r, o));
    let reference = by(data, &opts, graph_on_reader::<T>);
    // The position after a failed read is not specified; everything else must agree.
    let strip = |v: &Vec<(Result<String, String>, usize)>| {
        v.iter()
            .map(|(x, n)| (x.clone(), if x.is_ok() { *n } else { 0 }))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&new), strip(&reference), "{data:?}");
    new.iter().all(|(x, _)| x.is_ok())
}

#[derive(Deserialize, Debug)]
struct Rec {
    #[allow(dead_code)]
    id: i64,
    #[allow(dead_code)]
    name: String,
}

#[test]
fn golden_files_read_alike() {
    let mut ok = 0;
    for g in golden() {
        let data = std::fs::read(&g.path).unwrap();
        let opts = || options_for(&g);
        if agree::<serde_json::Value>(&data, opts) {
            ok += 1;
        }
        agree::<Vec<serde_json::Value>>(&data, opts);
        agree::<Vec<Rec>>(&data, opts);
        agree::<(i64, String)>(&data, opts);
    }
    assert!(ok > 300, "only {ok} golden files read as JSON values");
}

#[test]
fn mutants_read_alike() {
    let mut rng = common::Rng(0x2545_f491_4f6c_dd1d);
    let files: Vec<Vec<u8>> = golden()
        .iter()
        .filter(|g| g.oob.is_empty() && !g.latin1)
        .map(|g| std::fs::read(&g.path).unwrap())
        .filter(|d| d.len() < 4096)
        .collect();
    let mut read = 0;
    for i in 0..6000 {
        let other = &files[rng.below(files.len())];
        let m = common::mutate(&mut rng, &files[i % files.len()], other);
        if agree::<serde_json::Value>(&m, LoadOptions::new) {
            read += 1;
        }
    }
    assert!(read > 200, "only {read} mutants read");
}

#[test]
fn streams_of_pickles_and_truncations() {
    // Three pickles back to back (CPython frames each), then every prefix of the stream.
    let mut s = Vec::new();
    for v in [
        serde_json::json!({"a": [1, 2, 3], "b": "x"}),
        serde_json::json!([[1, 2], "y", null]),
        serde_json::json!("z".repeat(70_000)),
    ] {
        s.extend(brine::to_vec(&v).unwrap());
    }
    assert!(agree::<serde_json::Value>(&s, LoadOptions::new));
    for n in (0..s.len()).step_by(97) {
        agree::<serde_json::Value>(&s[..n], LoadOptions::new);
    }
}

#[test]
fn a_frame_longer_than_the_stream_reads_as_on_the_reader() {
    // Found by `mutants_read_alike`: a FRAME that claims more bytes than follow. A slice
    // refuses it at once; the reader only finds out at the frame's end, which the pickle's
    // STOP comes before, so on the reader it reads (as 256), and `from_reader` must too.
    let data = b"\x80\x04\x95\x04\x00\xb1\x00\x00\x00\x00\x00M\x00\x01.";
    assert!(brine::from_slice::<i64>(data).is_err());
    assert_eq!(brine::from_reader::<i64>(&data[..]).unwrap(), 256);
    assert!(agree::<serde_json::Value>(data, LoadOptions::new));
}
