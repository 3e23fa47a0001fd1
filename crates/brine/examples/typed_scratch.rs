//! Scratch measurements of the typed direct reader on pyperformance's LIST and MICRO_DICT,
//! including MICRO_DICT into `FxHashMap`s (where hashing no longer hides the reader's cost).
//!
//! Usage: `typed_scratch MODE FILE [N]`. Modes: `list`, `micro`, `microfx` decode N times
//! (for `valgrind --tool=callgrind`); `time` prints median decode times of brine and
//! serde-pickle for LIST (`pyperf_list.pickle`) or MICRO_DICT (`pyperf_micro_dict.pickle`,
//! SipHash and FxHash), alternating the two readers' batches.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;

type List = Vec<Vec<Vec<i64>>>;
type MicroDict = HashMap<i64, HashMap<i64, Option<i64>>>;
type MicroDictFx = FxHashMap<i64, FxHashMap<i64, Option<i64>>>;

/// Seconds per call of `f` over a batch of `reps` calls.
fn batch(reps: u32, f: &mut impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / reps as f64
}

/// Medians of brine's and serde-pickle's decode of `T`, over 21 alternating batches.
fn compare<T: DeserializeOwned>(data: &[u8]) -> (f64, f64) {
    let mut brine = || {
        black_box(brine::from_slice::<T>(black_box(data)).unwrap());
    };
    let mut sp = || {
        let de = serde_pickle::DeOptions::new();
        black_box(serde_pickle::from_slice::<T>(black_box(data), de).unwrap());
    };
    let mut reps = 1u32;
    while batch(reps, &mut brine) * f64::from(reps) < 0.02 {
        reps *= 2;
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        a.push(batch(reps, &mut brine));
        b.push(batch(reps, &mut sp));
    }
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    (a[10], b[10])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("time");
    let data = std::fs::read(args.get(2).ok_or("FILE")?)?;
    let n: u32 = args.get(3).map_or(Ok(1000), |s| s.parse())?;
    match mode {
        "list" => (0..n).for_each(|_| drop(black_box(brine::from_slice::<List>(&data).unwrap()))),
        "micro" => {
            (0..n).for_each(|_| drop(black_box(brine::from_slice::<MicroDict>(&data).unwrap())))
        }
        "microfx" => {
            (0..n).for_each(|_| drop(black_box(brine::from_slice::<MicroDictFx>(&data).unwrap())))
        }
        _ => {
            let show = |name: &str, (a, b): (f64, f64)| {
                println!(
                    "{name}: brine {:.3} us, serde-pickle {:.3} us, {:.2}x",
                    a * 1e6,
                    b * 1e6,
                    b / a
                )
            };
            if data.len() < 1000 {
                show("list", compare::<List>(&data));
            } else {
                show("micro", compare::<MicroDict>(&data));
                show("microfx", compare::<MicroDictFx>(&data));
            }
        }
    }
    Ok(())
}
