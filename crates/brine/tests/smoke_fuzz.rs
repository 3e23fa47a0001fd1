//! A seeded random smoke fuzz that runs inside `cargo test`: thousands of mutations of the golden
//! corpus per run, bounded by count (not time), through the decoder, the machine and the
//! writer. Anything that panics is printed as hex to be kept in `tests/fuzzing.rs`.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use brine::core::{Decoder, Limits};
use brine::{DumpOptions, LoadOptions};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x7f, 0x80, 0xff, b'(', b'.', b'0', b'1', b'2', b'a', b'b', b'e', b'h', b'j', b'q',
    b'r', b'R', b'u', b't', b'l', b'd', b'c', b'i', b'o', b'Q', b'P', 0x81, 0x85, 0x86, 0x87, 0x90,
    0x91, 0x92, 0x93, 0x94, 0x95, 0x97, 0x98, b'\n',
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = d.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                d[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                d.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below(8).min(len - i - 1);
                d.drain(i..i + n.min(len - i));
            }
            4 => d.truncate(rng.below(len + 1)),
            5 if !other.is_empty() => {
                // Splice a piece of another pickle in.
                let a = rng.below(other.len());
                let b = a + rng.below(other.len() - a).min(64);
                let at = rng.below(len + 1);
                d.splice(at..at, other[a..b].iter().copied());
            }
            6 if len >= 4 => {
                // Big length / index fields.
                let i = rng.below(len - 3);
                d[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
            }
            _ => {
                let i = rng.below(len + 1);
                let j = rng.below(len + 1);
                let (a, b) = (i.min(j), i.max(j));
                let piece: Vec<u8> = d[a..b].to_vec();
                d.splice(a..a, piece);
            }
        }
    }
    d
}

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
    let mut rng = Rng(0x5eed_b1e2_0261_1250);
    let mut crashes = Vec::new();
    for _ in 0..runs {
        let seed = &corpus[rng.below(corpus.len())];
        let other = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, seed, other);
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
