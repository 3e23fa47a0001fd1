//! Seeded random round trips: arrays of every dtype, random shapes, chunk shapes and filters,
//! written by brine and read back whole and by random slices, compared with slicing in memory.

mod common;

use brine_hdf5::{Array, DType, Data, DatasetOptions, Dim, Encoding, File, Selection};
use common::scratch;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64: reproducible, no dependency.
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const DTYPES: [DType; 16] = [
    DType::Bool,
    DType::I8,
    DType::I16,
    DType::I32,
    DType::I64,
    DType::U8,
    DType::U16,
    DType::U32,
    DType::U64,
    DType::F16,
    DType::F32,
    DType::F64,
    DType::C64,
    DType::C128,
    DType::FixedString {
        len: 3,
        encoding: Encoding::Ascii,
    },
    DType::VarString {
        encoding: Encoding::Utf8,
    },
];

fn random_array(rng: &mut Rng, dtype: DType) -> Array {
    let rank = rng.below(4) as usize;
    let shape: Vec<usize> = (0..rank)
        .map(|_| rng.below(9) as usize + usize::from(rank > 0 && rng.below(5) > 0))
        .collect();
    let n: usize = shape.iter().product();
    let data = match dtype.size() {
        Some(size) => Data::Bytes(
            (0..n * size)
                .map(|_| match dtype {
                    DType::Bool => rng.below(2) as u8,
                    // Keep float16 patterns away from NaN so equality holds.
                    DType::F16 => rng.below(0x7b) as u8,
                    DType::FixedString { .. } => b'a' + rng.below(26) as u8,
                    _ => rng.next() as u8,
                })
                .collect(),
        ),
        None => Data::Strings((0..n).map(|i| "é".repeat(i % 4) + &i.to_string()).collect()),
    };
    // f32/f64/complex bytes may form NaNs, which compare unequal: use integer-valued floats.
    let data = match (dtype, data) {
        (DType::F32 | DType::C64, Data::Bytes(b)) => Data::Bytes(
            b.chunks(4)
                .flat_map(|c| f32::from(c[0]).to_le_bytes())
                .collect(),
        ),
        (DType::F64 | DType::C128, Data::Bytes(b)) => Data::Bytes(
            b.chunks(8)
                .flat_map(|c| f64::from(c[0]).to_le_bytes())
                .collect(),
        ),
        (_, d) => d,
    };
    Array::new(dtype, shape, data).unwrap()
}

fn random_selection(rng: &mut Rng, shape: &[usize]) -> Selection {
    let dims = rng.below(shape.len() as u64 + 1) as usize;
    Selection(
        shape[..dims]
            .iter()
            .map(|&n| {
                let n = n as i64;
                if n > 0 && rng.below(4) == 0 {
                    Dim::Index(rng.below(n as u64) as i64 - if rng.below(2) == 0 { n } else { 0 })
                } else {
                    let start = (rng.below(n as u64 + 2) as i64) - 1;
                    let stop = rng.below(n as u64 + 3) as i64;
                    Dim::Slice {
                        start: Some(start),
                        stop: if rng.below(3) == 0 { None } else { Some(stop) },
                        step: Some(rng.below(4) as i64 + 1),
                    }
                }
            })
            .collect(),
    )
}

#[test]
fn random_round_trips() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut pairs = Vec::new();
    for round in 0..40 {
        let path = scratch(&format!("random-{round}.h5"));
        pairs.push(path.clone());
        pairs.push(scratch(&format!("mem-{round}.h5")));
        let mut f = File::create(&path).unwrap();
        // The same arrays held in memory (a writable file reads from its tree): the reference.
        let mut mem = File::create(scratch(&format!("mem-{round}.h5"))).unwrap();
        let mut written = Vec::new();
        for (i, &dtype) in DTYPES.iter().enumerate() {
            let a = random_array(&mut rng, dtype);
            let mut opts = DatasetOptions::new();
            if !a.shape().is_empty() && rng.below(3) > 0 {
                let chunks: Vec<usize> = a
                    .shape()
                    .iter()
                    .map(|&d| rng.below(d as u64 + 2) as usize + 1)
                    .collect();
                opts = opts.chunks(&chunks);
                if rng.below(2) == 0 {
                    opts = opts.gzip(rng.below(10) as u32);
                }
                opts = opts.shuffle(rng.below(2) == 0);
            }
            let name = format!("g{}/d{i}", i % 3);
            f.create_dataset(&name, a.clone(), opts).unwrap();
            f.set_attr(&name, "same", a.clone()).unwrap();
            mem.create_dataset(&name, a.clone(), DatasetOptions::new())
                .unwrap();
            written.push((name, a));
        }
        f.close().unwrap();
        let f = File::open(&path).unwrap();
        for (name, a) in &written {
            assert_eq!(&f.read(name).unwrap(), a, "round {round} {name}");
            assert_eq!(
                &f.attr(name, "same").unwrap(),
                a,
                "round {round} {name} attribute"
            );
            for _ in 0..6 {
                let sel = random_selection(&mut rng, a.shape());
                let want = mem.read_slice(name, &sel);
                let got = f.read_slice(name, &sel);
                match (&got, &want) {
                    (Ok(g), Ok(w)) => assert_eq!(g, w, "round {round} {name} {sel:?}"),
                    (Err(_), Err(_)) => {}
                    _ => panic!("round {round} {name} {sel:?}: {got:?} vs {want:?}"),
                }
            }
        }
    }
    // h5py must read the chunked and filtered files as it reads their contiguous copies
    // (`mem` was written when it dropped at the end of each round).
    if !common::have_h5py() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: h5py check of random files (no h5py)"
        );
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(common::data_dir().join("compare_h5.py"))
        .args(&pairs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
