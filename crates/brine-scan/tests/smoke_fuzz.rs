//! A seeded random smoke fuzz inside `cargo test` (the real fuzzer is `fuzz/fuzz_targets/scan.rs`):
//! corpus files with bytes flipped, inserted, deleted, truncated and spliced. The scanner must
//! not panic, and a stream it could not parse is never SAFE. Crashes found by cargo-fuzz are
//! kept here as named regressions.

use std::path::Path;

use brine_scan::{scan_bytes, Limits, Options, Verdict};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn check(data: &[u8], opts: &Options) {
    let r = scan_bytes("fuzz", data, opts);
    if r.findings.iter().any(|f| f.rule == "parse-error") {
        assert_ne!(r.verdict, Verdict::Safe, "{data:?}");
    }
    let _ = brine_scan::output::human(&r, true);
}

#[test]
fn mutated_corpus_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<Vec<u8>> = Vec::new();
    for sub in ["malicious", "benign"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let d = std::fs::read(e.unwrap().path()).unwrap();
            if d.len() <= 64 << 10 {
                files.push(d);
            }
        }
    }
    let opts = Options {
        limits: Limits {
            max_decompressed: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    let mut r = Rng(0x5EED_1234_ABCD_0001);
    let rounds: usize = std::env::var("BRINE_SMOKE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000);
    for _ in 0..rounds {
        let mut d = files[r.below(files.len())].clone();
        for _ in 0..1 + r.below(4) {
            if d.is_empty() {
                break;
            }
            let i = r.below(d.len());
            match r.below(6) {
                0 => d[i] ^= 1 << r.below(8),
                1 => d[i] = r.next() as u8,
                2 => d.insert(i, r.next() as u8),
                3 => {
                    d.remove(i);
                }
                4 => d.truncate(i),
                _ => {
                    let other = &files[r.below(files.len())];
                    let j = r.below(other.len());
                    let k = (j + r.below(64)).min(other.len());
                    d.splice(i..i, other[j..k].iter().copied());
                }
            }
        }
        check(&d, &opts);
    }
}

#[test]
fn regressions() {
    let opts = Options::default();
    for case in [
        &b""[..],
        b"\x80",
        b"(",
        b"\x95",
        b"PK\x05\x06",
        b"PK\x03\x04",
        b"\x93NUMPY\x01",
        b"\x1f\x8b",
        b"]\x00",
        b"c\n\n",
    ] {
        check(case, &opts);
    }
}
