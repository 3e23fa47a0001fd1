//! Times brine's typed (serde) decode and encode of the benchmark workloads, for
//! `bench/compare.py`: prints one JSON line per file with the median seconds.
//!
//! Usage: `cargo run --release -p brine --example bench_typed -- FILE...` (files named after
//! the workloads, as `bench/compare.py` writes them).
//!
//! Profiling: `BRINE_PROFILE=N bench_typed records_100k.pickle` times N typed decodes and their
//! parts (graph decode, walk, clone of the records); with `BRINE_PROFILE_ONLY=1` (borrowed
//! records), `owned` (owned records), `unit` (the pyperformance unit from that file), `encode` or
//! `encode_unit` (`BRINE_ENCODE_GRAPH=1`: by the graph path), `micro` (the MICRO_DICT type),
//! `micro_fx` (with the Fx hasher), `unit_ref` (the unit's lean type), `list` (the LIST type),
//! `tape_list` / `tape_unit_ref` / `tape_micro_fx` (those types' floors, from a tape), `strings` (`Vec<String>`, for `strings_200k.pickle`), `ints` / `floats` (`Vec<i64>` /
//! `Vec<f64>`), `mix` / `mix_ref` (the 10 MB mix into the std / lean types),
//! `sp_micro` / `sp_owned` / `sp_unit` / `sp_mix` (serde-pickle's decode of those) it only runs that, for
//! `perf record` or `valgrind --tool=callgrind`.

use std::path::Path;
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use workloads::tape;
use workloads::*;

#[path = "../benches/timing.rs"]
mod timing;
use timing::median_secs;

/// Median seconds of one type's decodes.
#[derive(Clone, Copy)]
struct Decodes {
    /// brine's.
    brine: f64,
    /// serde-pickle's, `None` when it cannot read the file into the type.
    sp: Option<f64>,
    /// The type's floor (see [`floor`]), for the workloads that have one.
    floor: Option<f64>,
}

/// The decodes of `T` on `data` (see [`time_lean`]), and the median of its encode.
fn time<T: DeserializeOwned + Serialize + PartialEq>(
    data: &[u8],
    tape: Option<&tape::Tape>,
) -> Result<(Decodes, f64), Box<dyn std::error::Error>> {
    let decodes = time_lean::<T>(data, tape)?;
    let value: T = brine::from_slice(data)?;
    let encode = median_secs(|| {
        std::hint::black_box(brine::to_vec(std::hint::black_box(&value)).unwrap());
    });
    Ok((decodes, encode))
}

/// The median time to build a `T` of `data`'s values from a [`tape::Tape`]: what any decoder
/// into `T` costs at least. The value read must equal brine's, or the floor would not be of
/// the same work.
///
/// Only the pyperformance workloads have one, and their tapes stay in the cache like their
/// pickles. The 10 MB mix's floor (std types) measured slower than brine's decode, so it
/// bounds nothing. Its tape of 16-byte events is about nine times the pickle, and its exact
/// size hints change the order of allocations; which of the two is to blame is not
/// established.
fn floor<'t, T: Deserialize<'t> + PartialEq>(
    tape: &'t tape::Tape,
    ours: &T,
) -> Result<f64, Box<dyn std::error::Error>> {
    if tape.read::<T>()? != *ours {
        return Err("the tape and brine read different values".into());
    }
    Ok(median_secs(|| {
        std::hint::black_box(std::hint::black_box(tape).read::<T>().unwrap());
    }))
}

/// Decode median of a type that may borrow from `data`, serde-pickle's decode of it (`None`
/// when it cannot: it never lends its input), and its floor. Where both read the file, their
/// values must be equal, or the comparison would not be of the same work.
fn time_lean<'a, T: Deserialize<'a> + PartialEq>(
    data: &'a [u8],
    tape: Option<&'a tape::Tape>,
) -> Result<Decodes, Box<dyn std::error::Error>> {
    let ours = brine::from_slice::<T>(data)?;
    let floor = match tape {
        Some(tape) => Some(floor::<T>(tape, &ours)?),
        None => None,
    };
    let decode = median_secs(|| {
        std::hint::black_box(brine::from_slice::<T>(std::hint::black_box(data)).unwrap());
    });
    let sp = match serde_pickle::from_slice::<T>(data, sp_options()) {
        Ok(theirs) if theirs != ours => {
            return Err("serde-pickle and brine read different values".into());
        }
        Ok(_) => Some(median_secs(|| {
            std::hint::black_box(
                serde_pickle::from_slice::<T>(std::hint::black_box(data), sp_options()).unwrap(),
            );
        })),
        Err(_) => None,
    };
    Ok(Decodes {
        brine: decode,
        sp,
        floor,
    })
}

/// `n` typed decodes of `data` into `T`, for profiling.
fn repeat<'a, T: Deserialize<'a>>(data: &'a [u8], n: u32) -> Result<(), brine::Error> {
    for _ in 0..n {
        std::hint::black_box(brine::from_slice::<T>(data)?);
    }
    Ok(())
}

/// `n` reads of `data`'s values into `T` from a tape (the floor), for profiling.
fn repeat_tape<'t, T: Deserialize<'t>>(
    tape: &'t tape::Tape,
    n: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    for _ in 0..n {
        std::hint::black_box(tape.read::<T>()?);
    }
    Ok(())
}

/// `n` serde-pickle decodes of `data` into `T`, for profiling.
fn repeat_sp<T: DeserializeOwned>(data: &[u8], n: u32) -> Result<(), serde_pickle::Error> {
    for _ in 0..n {
        std::hint::black_box(serde_pickle::from_slice::<T>(data, sp_options())?);
    }
    Ok(())
}

/// `n` encodes of the `T` decoded from `data` (see [`encode`]), for profiling.
fn repeat_encode<T: DeserializeOwned + Serialize>(data: &[u8], n: u32) -> Result<(), brine::Error> {
    let v: T = brine::from_slice(data)?;
    for _ in 0..n {
        std::hint::black_box(encode(&v)?);
    }
    Ok(())
}

/// `brine::to_vec`, or with `BRINE_ENCODE_GRAPH` set the graph path (value graph, then the
/// pickler: what `brine::serde::Serializer` does), to compare the two writers' costs.
fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, brine::Error> {
    if std::env::var_os("BRINE_ENCODE_GRAPH").is_none() {
        return brine::to_vec(v);
    }
    let mut out = Vec::new();
    v.serialize(&mut brine::serde::Serializer::new(
        &mut out,
        brine::DumpOptions::new(),
    ))?;
    Ok(out)
}

#[allow(dead_code)] // Used when this file is its own example, not bench_typed_mimalloc's module.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    run("system")
}

/// Times the files named on the command line (or profiles, with `BRINE_PROFILE`); `alloc`
/// names the global allocator in the JSON lines.
pub fn run(alloc: &str) -> Result<(), Box<dyn std::error::Error>> {
    // `BRINE_PROFILE=N`: only decode the records file N times (for perf / callgrind).
    if let Ok(n) = std::env::var("BRINE_PROFILE") {
        let path = std::env::args().nth(1).unwrap_or_default();
        let data = std::fs::read(path)?;
        let n: u32 = n.parse()?;
        if let Ok(only) = std::env::var("BRINE_PROFILE_ONLY") {
            let d = &data;
            let tape = || -> Result<tape::Tape, Box<dyn std::error::Error>> {
                Ok(tape::Tape::from_graph(&brine::loads(d)?)?)
            };
            match only.as_str() {
                "owned" => repeat::<Vec<Record>>(d, n)?,
                "unit" => repeat::<Unit>(d, n)?,
                "unit_ref" => repeat::<UnitRef>(d, n)?,
                "micro" => repeat::<MicroDict>(d, n)?,
                "micro_fx" => repeat::<MicroDictFx>(d, n)?,
                "list" => repeat::<List>(d, n)?,
                "tape_list" => repeat_tape::<List>(&tape()?, n)?,
                "tape_unit_ref" => repeat_tape::<UnitRef>(&tape()?, n)?,
                "tape_micro_fx" => repeat_tape::<MicroDictFx>(&tape()?, n)?,
                "strings" => repeat::<Vec<String>>(d, n)?,
                "ints" => repeat::<Vec<i64>>(d, n)?,
                "floats" => repeat::<Vec<f64>>(d, n)?,
                "mix" => repeat::<MixStd>(d, n)?,
                "mix_ref" => repeat::<MixRef>(d, n)?,
                "sp_mix" => repeat_sp::<MixStd>(d, n)?,
                "sp_unit" => repeat_sp::<Unit>(d, n)?,
                "sp_micro" => repeat_sp::<MicroDict>(d, n)?,
                "sp_owned" => repeat_sp::<Vec<Record>>(d, n)?,
                "encode" => repeat_encode::<Vec<Record>>(d, n)?,
                "encode_unit" => repeat_encode::<Unit>(d, n)?,
                _ => repeat::<Vec<RecordRef>>(d, n)?,
            }
            return Ok(());
        }
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(brine::from_slice::<Vec<Record>>(&data)?);
        }
        eprintln!("{:?} per decode", t.elapsed() / n);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(brine::serde::Deserializer::from_slice(&data)?);
        }
        eprintln!("{:?} per graph decode with spans", t.elapsed() / n);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(brine::loads(&data)?);
        }
        eprintln!("{:?} per graph decode", t.elapsed() / n);
        let g = brine::loads(&data)?;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(brine::from_value::<Vec<Record>>(&g)?);
        }
        eprintln!("{:?} per from_value", t.elapsed() / n);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(brine::from_slice::<Vec<RecordRef>>(&data)?);
        }
        eprintln!("{:?} per borrowed decode", t.elapsed() / n);
        let v = brine::from_value::<Vec<Record>>(&g)?;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(v.clone());
        }
        eprintln!("{:?} per clone+drop of the records", t.elapsed() / n);
        return Ok(());
    }
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path)?;
        let name = Path::new(&path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let typed = [
            "pyperf_unpickle_unit",
            "pyperf_list",
            "pyperf_micro_dict",
            "records_100k",
            "strings_200k",
            "ints_1m",
            "floats_1m",
            "mix_10mb",
        ];
        if !typed.contains(&name) {
            continue;
        }
        // The workload's values as serde events, for the floor of each type.
        let tape = if name.starts_with("pyperf_") {
            Some(tape::Tape::from_graph(&brine::loads(&data)?)?)
        } else {
            None
        };
        let tape = tape.as_ref();
        let (std, encode) = match name {
            "pyperf_unpickle_unit" => time::<Unit>(&data, tape)?,
            "pyperf_list" => time::<List>(&data, tape)?,
            "pyperf_micro_dict" => time::<MicroDict>(&data, tape)?,
            "records_100k" => time::<Vec<Record>>(&data, tape)?,
            "strings_200k" => time::<Vec<String>>(&data, tape)?,
            "ints_1m" => time::<Vec<i64>>(&data, tape)?,
            "floats_1m" => time::<Vec<f64>>(&data, tape)?,
            "mix_10mb" => time::<MixStd>(&data, tape)?,
            _ => continue,
        };
        // The lean types: text borrowed from the input, maps with the Fx hasher;
        // the same type as above where there is nothing to borrow or hash.
        let lean = match name {
            "pyperf_unpickle_unit" => time_lean::<UnitRef>(&data, tape)?,
            "pyperf_micro_dict" => time_lean::<MicroDictFx>(&data, tape)?,
            "records_100k" => time_lean::<Vec<RecordRef>>(&data, tape)?,
            "strings_200k" => time_lean::<Vec<&str>>(&data, tape)?,
            "mix_10mb" => time_lean::<MixRef>(&data, tape)?,
            _ => std,
        };
        let num = |x: Option<f64>| x.map_or("null".to_string(), |x| format!("{x:e}"));
        println!(
            "{{\"file\": {path:?}, \"alloc\": {alloc:?}, \"decode\": {:e}, \"decode_lean\": {:e}, \"encode\": {encode:e}, \"sp_decode\": {}, \"sp_decode_lean\": {}, \"floor\": {}, \"floor_lean\": {}}}",
            std.brine,
            lean.brine,
            num(std.sp),
            num(lean.sp),
            num(std.floor),
            num(lean.floor),
        );
    }
    Ok(())
}
