//! Hit latency and insert cost for a small value and a 10 MB value, plain and zstd-compressed.
//!
//! `cargo bench -p brine-memo --bench hit`; throughput is reported in bytes of value per second.

use std::collections::BTreeMap;
use std::hint::black_box;

use brine_memo::{Cache, Codec};
use criterion::{Criterion, Throughput};
use serde_bytes::ByteBuf;

fn small() -> BTreeMap<String, f64> {
    (0..8)
        .map(|i| (format!("metric{i}"), f64::from(i) * 0.5))
        .collect()
}

/// 10 MB that compress a little, as numeric data does (not all zeros, not random).
fn big() -> ByteBuf {
    ByteBuf::from(
        (0..10_000_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 29) as u8)
            .collect::<Vec<u8>>(),
    )
}

fn bench(c: &mut Criterion) {
    let root = std::env::temp_dir().join(format!("brine-memo-bench-{}", std::process::id()));
    let plain = Cache::open(root.join("plain")).expect("open cache");
    let zstd = Cache::builder(root.join("zstd"))
        .compress(Codec::Zstd, None)
        .open()
        .expect("open cache");

    let small = small();
    let small_len = brine::to_vec(&small).map(|v| v.len() as u64).unwrap_or(0);
    let big = big();
    let mut g = c.benchmark_group("memo");
    g.sample_size(20);
    for (name, cache) in [("plain", &plain), ("zstd", &zstd)] {
        cache.insert("bench", "small", &small).expect("insert");
        cache.insert("bench", "big", &big).expect("insert");
        g.throughput(Throughput::Bytes(small_len));
        g.bench_function(format!("hit small ({name})"), |b| {
            b.iter(|| {
                let v: Option<BTreeMap<String, f64>> =
                    cache.get("bench", black_box("small")).expect("get");
                black_box(v)
            })
        });
        g.throughput(Throughput::Bytes(big.len() as u64));
        g.bench_function(format!("hit 10 MB ({name})"), |b| {
            b.iter(|| {
                let v: Option<ByteBuf> = cache.get("bench", black_box("big")).expect("get");
                black_box(v)
            })
        });
        g.bench_function(format!("insert 10 MB ({name})"), |b| {
            b.iter(|| {
                cache
                    .insert("bench", "big", black_box(&big))
                    .expect("insert")
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&root);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
