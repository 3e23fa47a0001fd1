//! Typed (serde) decode and encode of pyperformance's bm_pickle data and 100k records,
//! brine against serde-pickle in the same run.
//!
//! `cargo bench -p brine --bench typed` writes the workloads with `python3 bench/compare.py
//! --write DIR` (or reads them from `BRINE_BENCH_DIR`), runs criterion on each, then prints a
//! summary of medians and ratios (serde-pickle time / brine time) measured in this run.
//! serde-pickle reads `datetime.date` (in DICT) as its argument tuple, as brine does, with
//! `DeOptions::keep_restore_state` ([`workloads::sp_options`]); a row it cannot read says so.
//! Each decode group also times the type's floor: the same values read from a tape of serde
//! events ([`workloads::tape`]), which no decoder into that type can beat.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{black_box, Criterion};
use serde::de::DeserializeOwned;
use serde::Serialize;

mod workloads;

use workloads::*;

mod timing;
use timing::median_secs;

/// The workload pickles: `BRINE_BENCH_DIR`, else freshly written by `bench/compare.py`.
fn data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("BRINE_BENCH_DIR") {
        return PathBuf::from(d);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("brine-typed-bench-{}", std::process::id()));
    let ok = std::process::Command::new("python3")
        .arg(root.join("bench/compare.py"))
        .arg("--write")
        .arg(&dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "python3 bench/compare.py --write failed (set BRINE_BENCH_DIR)"
    );
    dir
}

/// One workload: criterion groups for decode and encode, and the summary line.
fn bench<T: DeserializeOwned + Serialize>(c: &mut Criterion, name: &str, data: &[u8]) -> String {
    let value: T = brine::from_slice(data).expect("brine reads the workload");
    let sp_ok = serde_pickle::from_slice::<T>(data, sp_options());
    if let Err(e) = &sp_ok {
        eprintln!("{name}: serde-pickle cannot read it: {e}");
    }
    let tape = tape::Tape::from_graph(&brine::loads(data).expect("brine reads the workload"))
        .expect("the workload fits a tape");
    let mut g = c.benchmark_group(format!("decode/{name}"));
    g.bench_function("brine", |b| {
        b.iter(|| brine::from_slice::<T>(black_box(data)).unwrap())
    });
    g.bench_function("floor", |b| {
        b.iter(|| black_box(&tape).read::<T>().unwrap())
    });
    if sp_ok.is_ok() {
        g.bench_function("serde-pickle", |b| {
            b.iter(|| serde_pickle::from_slice::<T>(black_box(data), sp_options()).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group(format!("encode/{name}"));
    g.bench_function("brine", |b| {
        b.iter(|| brine::to_vec(black_box(&value)).unwrap())
    });
    g.bench_function("serde-pickle", |b| {
        b.iter(|| serde_pickle::to_vec(black_box(&value), serde_pickle::SerOptions::new()).unwrap())
    });
    g.finish();

    let bd = median_secs(|| {
        black_box(brine::from_slice::<T>(black_box(data)).unwrap());
    });
    let floor = median_secs(|| {
        black_box(black_box(&tape).read::<T>().unwrap());
    });
    let be = median_secs(|| {
        black_box(brine::to_vec(black_box(&value)).unwrap());
    });
    let se = median_secs(|| {
        black_box(
            serde_pickle::to_vec(black_box(&value), serde_pickle::SerOptions::new()).unwrap(),
        );
    });
    let dec = if sp_ok.is_ok() {
        let sd = median_secs(|| {
            black_box(serde_pickle::from_slice::<T>(black_box(data), sp_options()).unwrap());
        });
        format!("{:>10.1}us {:>10.1}us {:>6.2}", sd * 1e6, bd * 1e6, sd / bd)
    } else {
        format!("{:>12} {:>10.1}us {:>6}", "(fails)", bd * 1e6, "-")
    };
    format!(
        "{name:22} {dec} {:>10.1}us {:>10.1}us {:>6.2} {:>10.1}us",
        se * 1e6,
        be * 1e6,
        se / be,
        floor * 1e6
    )
}

fn main() {
    let dir = data_dir();
    let read =
        |name: &str| std::fs::read(dir.join(format!("{name}.pickle"))).expect("workload file");
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut lines = Vec::new();
    for &name in TYPED {
        let data = read(name);
        lines.push(match name {
            "pyperf_unpickle_unit" => bench::<Unit>(&mut c, name, &data),
            "pyperf_list" => bench::<List>(&mut c, name, &data),
            "pyperf_micro_dict" => bench::<MicroDict>(&mut c, name, &data),
            _ => bench::<Vec<Record>>(&mut c, name, &data),
        });
    }
    // MICRO_DICT with the Fx hasher too: std's SipHash is half of that decode's work.
    let data = read("pyperf_micro_dict");
    lines.push(bench::<MicroDictFx>(&mut c, "pyperf_micro_dict_fx", &data));
    c.final_summary();
    println!(
        "\nmedians of 7 in this run; ratio = serde-pickle time / brine time; floor = the type \
         read from a tape of serde events"
    );
    println!(
        "{:22} {:>12} {:>12} {:>6} {:>12} {:>12} {:>6} {:>12}",
        "workload", "sp decode", "brine dec", "ratio", "sp encode", "brine enc", "ratio", "floor"
    );
    for l in lines {
        println!("{l}");
    }
}
