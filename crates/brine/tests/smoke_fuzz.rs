//! A seeded random smoke fuzz that runs inside `cargo test`: thousands of mutations of the golden
//! corpus per run, bounded by count (not time), through the decoder, the machine and the
//! writer. Anything that panics is printed as hex to be kept in `tests/fuzzing.rs`.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use brine::core::{Decoder, Limits};
use brine::{DumpOptions, LoadOptions};

fn exercise(data: &[u8]) {
    let mut dec = Decoder::new(data);
    while let Ok(Some(_)) = dec.next_instruction() {}
    let limits = Limits {
        max_nodes: 200_000,
        max_stack: 200_000,
        ..Limits::default()
    };
    let Ok(g) = brine::loads_with(data, LoadOptions::new().limits(limits)) else {
        return;
    };
    let _ = format!("{g:?}");
    for p in 0..=5 {
        if let Ok(out) = brine::dumps_with(&g, DumpOptions::new().protocol(p)) {
            let again = brine::loads(&out).unwrap_or_else(|e| {
                panic!(
                    "re-encoding at p{p} is unreadable: {e}\ninput {:02x?}",
                    data
                )
            });
            // From the second round on writing is a fixpoint (see tests/fuzzing.rs).
            let twice = brine::dumps_with(&again, DumpOptions::new().protocol(p)).unwrap();
            let third = brine::loads(&twice).unwrap();
            let thrice = brine::dumps_with(&third, DumpOptions::new().protocol(p)).unwrap();
            assert!(
                thrice == twice,
                "re-encoding at p{p} is not stable\ninput {:02x?}",
                data
            );
        }
    }
}

#[test]
fn mutated_golden_pickles_never_panic() {
    let corpus: Vec<Vec<u8>> = common::golden()
        .iter()
        .map(|g| std::fs::read(&g.path).unwrap())
        .filter(|d| d.len() <= 8192)
        .collect();
    assert!(corpus.len() > 100);
    let runs: usize = std::env::var("BRINE_SMOKE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut rng = common::Rng(0x5eed_b1e2_0261_1250);
    let mut crashes = Vec::new();
    for _ in 0..runs {
        let seed = &corpus[rng.below(corpus.len())];
        let other = &corpus[rng.below(corpus.len())];
        let input = common::mutate(&mut rng, seed, other);
        if catch_unwind(AssertUnwindSafe(|| exercise(&input))).is_err() {
            crashes.push(input);
        }
    }
    for c in &crashes {
        eprintln!("crash input: {c:02x?}");
    }
    assert!(
        crashes.is_empty(),
        "{} of {runs} inputs panicked (printed above)",
        crashes.len()
    );
}
