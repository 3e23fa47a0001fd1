//! Profiling loop: decodes (and encodes) one file many times.
//!
//! Modes: `dec` / `enc` (mean per iteration), `decoder` (the instruction decoder alone),
//! `split` (median decode and median drop apart), `med` (the median decode-and-drop of
//! `bench_compare`'s timing rule, for A/B runs against CPython), `shared` / `mapped` (the
//! same for `loads_shared` and `load_file_mapped`).

#[path = "../benches/timing.rs"]
mod timing;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let what = std::env::args().nth(2).unwrap_or_else(|| "dec".into());
    let n: usize = std::env::args()
        .nth(3)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1000);
    let data = std::fs::read(&path).unwrap();
    if what == "decoder" {
        decoder_only(&data, n);
        return;
    }
    if what == "med" {
        let secs = timing::median_secs(|| {
            std::hint::black_box(brine::loads(std::hint::black_box(&data)).unwrap());
        });
        println!("{secs:e}");
        return;
    }
    if what == "shared" {
        // The input handed over once; each decode shares it (no copy of the input timed).
        let src: brine::value::SharedSource = std::sync::Arc::new(data.clone());
        let secs = timing::median_secs(|| {
            let g = brine::loads_shared(src.clone(), brine::LoadOptions::new()).unwrap();
            std::hint::black_box(g);
        });
        println!("{secs:e}");
        return;
    }
    if what == "mapped" {
        // As `bench_compare`: open, map, decode, per iteration.
        let secs = timing::median_secs(|| {
            std::hint::black_box(
                brine::load_file_mapped(&path, brine::LoadOptions::new()).unwrap(),
            );
        });
        println!("{secs:e}");
        return;
    }
    if what == "split" {
        split(&data, n);
        return;
    }
    let g = brine::loads(&data).unwrap();
    if what == "enc" {
        // The encoder must give back CPython's bytes (the workloads are CPython pickles).
        let once = brine::dumps_with(&g, brine::DumpOptions::new().protocol(4)).unwrap();
        if once != data {
            eprintln!("warning: the encoding differs from the input");
        }
        eprintln!("{} nodes, {} bytes", g.len(), once.len());
    }
    let t = std::time::Instant::now();
    for _ in 0..n {
        if what == "dec" {
            std::hint::black_box(brine::loads(std::hint::black_box(&data)).unwrap());
        } else {
            std::hint::black_box(
                brine::dumps_with(&g, brine::DumpOptions::new().protocol(4)).unwrap(),
            );
        }
    }
    eprintln!("{:?} per iteration", t.elapsed() / n as u32);
}
#[allow(dead_code)]
fn decoder_only(data: &[u8], n: usize) {
    let t = std::time::Instant::now();
    let mut count = 0;
    for _ in 0..n {
        let mut d = brine::core::Decoder::new(std::hint::black_box(data));
        while let Ok(Some(i)) = d.next_instruction() {
            count += i.offset as usize & 1;
        }
    }
    eprintln!(
        "decoder only: {:?} per iteration ({count})",
        t.elapsed() / n as u32
    );
}

/// Median decode and median drop times, apart: which of the two a change moved.
fn split(data: &[u8], n: usize) {
    let (mut dec, mut drop) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t = std::time::Instant::now();
        let g = brine::loads(std::hint::black_box(data)).unwrap();
        dec.push(t.elapsed());
        let t = std::time::Instant::now();
        std::mem::drop(std::hint::black_box(g));
        drop.push(t.elapsed());
    }
    dec.sort();
    drop.sort();
    eprintln!(
        "decode {:?} drop {:?} (medians of {n})",
        dec[n / 2],
        drop[n / 2]
    );
}
