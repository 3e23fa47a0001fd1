//! Hostile ML files: seeded random mutations and truncations of every fixture kind (pickled
//! arrays, .npy, .npz, safetensors, torch zip and legacy, joblib old and new, pandas and
//! scikit-learn pickles, also printed by `show`) must end in `Ok` or `Err`, never a panic, an
//! abort or a huge allocation.

mod ml_common;

use brine_formats::torch::Checkpoint;
use brine_formats::{joblib, npy, npz, numpy, safetensors, show};
use ml_common::fixture;

/// xorshift64*: a fixed seed keeps failures reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    match rng.below(4) {
        0 => v.truncate(rng.below(v.len())),
        _ => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(v.len());
                v[i] = match rng.below(3) {
                    0 => rng.next() as u8,
                    1 => 0xff,
                    _ => v[i].wrapping_add(1),
                };
            }
        }
    }
    v
}

fn run_all(v: &[u8]) {
    let limits = brine::Limits::default();
    // Companions of old joblib dumps come from the fixtures' directory (names stay plain).
    if let Ok(g) = joblib::loads_in(v, &limits, Some(&fixture("joblib_legacy"))) {
        if let Some(root) = g.root() {
            let opts = brine::show::ShowOptions {
                max_output: 1 << 16,
                ..Default::default()
            };
            assert!(show::repr(&g, root, &opts).len() < (1 << 16) + 4096);
        }
        if let Ok(arrays) = numpy::arrays(&g) {
            for (_, a) in arrays {
                let _ = a.c_bytes_le();
            }
        }
    }
    if let Ok(n) = npy::read(v) {
        let _ = n.array.c_bytes();
    }
    if let Ok((_, arrays)) = safetensors::read(v) {
        for (_, a) in arrays {
            let _ = a.c_bytes();
        }
    }
    let _ = npz::read(std::io::Cursor::new(v), &limits);
    if let Ok(ckpt) = Checkpoint::from_reader(std::io::Cursor::new(v), &limits) {
        if let Ok(ts) = ckpt.tensors() {
            for (_, t) in ts {
                let _ = ckpt.read(&t);
            }
        }
        let _ = ckpt.to_safetensors(&mut std::io::sink());
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    let files = [
        "numpy/all_p2.pkl",
        "numpy/all_p5.pkl",
        "npy/nested_v1.npy",
        "npy/object_v3.npy",
        "npy/stored.npz",
        "safetensors/np.safetensors",
        "torch/bytesio.pt",
        "torch/legacy.pt",
        "joblib/plain.joblib",
        "joblib/c_zlib.joblib",
        "joblib_legacy/ndarray.pkl",
        "joblib_legacy/zf_cache.pkl",
        "joblib_legacy/jl111.joblib",
        "show/df_p4.pkl",
        "show/series_p4.pkl",
        "show/tree.joblib",
        "show/zoo_p2.pkl",
        "stringdtype/all_p4.pkl",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for f in files {
        let data = std::fs::read(fixture(f)).unwrap();
        for _ in 0..400 {
            run_all(&mutate(&mut rng, &data));
        }
    }
}
