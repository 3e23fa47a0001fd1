//! Times brine's graph decode and encode of pickle files, for `bench/compare.py`: prints one
//! JSON line per file with the median seconds of each operation.
//!
//! Usage: `cargo run --release -p brine --example bench_compare -- FILE...`

use std::time::{Duration, Instant};

fn median_secs(mut f: impl FnMut()) -> f64 {
    // Calibrate a batch to last about 50 ms, then take the median of 7 batches.
    f();
    let mut reps = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        if t.elapsed() > Duration::from_millis(50) || reps >= 1 << 20 {
            break;
        }
        reps *= 2;
    }
    let mut samples: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            t.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[3]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path)?;
        let protocol = if data.first() == Some(&0x80) {
            data[1]
        } else {
            0
        };
        let graph = brine::loads(&data)?;
        let opts = || brine::DumpOptions::new().protocol(protocol);
        let same = brine::dumps_with(&graph, opts())? == data;
        let decode = median_secs(|| {
            std::hint::black_box(brine::loads(std::hint::black_box(&data)).unwrap());
        });
        let encode = median_secs(|| {
            std::hint::black_box(brine::dumps_with(&graph, opts()).unwrap());
        });
        println!(
            "{{\"file\": {:?}, \"bytes\": {}, \"decode\": {decode:e}, \"encode\": {encode:e}, \"identical\": {same}}}",
            path,
            data.len()
        );
    }
    Ok(())
}
