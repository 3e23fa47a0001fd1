//! Reads one slice of one dataset and prints its shape and a checksum: the program the memory
//! benchmark (`bench/slice_memory.sh`) runs under `/usr/bin/time -v`.
//!
//! `cargo run -p brine-hdf5 --example slice -- FILE DATASET '0:512,0:512'`

use brine_hdf5::{File, Selection};

fn main() -> Result<(), brine_hdf5::Error> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(dataset)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: slice FILE DATASET [SELECTION]");
        std::process::exit(2);
    };
    let sel: Selection = args.get(3).map_or("", String::as_str).parse()?;
    let file = File::open(path)?;
    let info = file.dataset(dataset)?;
    let start = std::time::Instant::now();
    let a = file.read_slice(dataset, &sel)?;
    let bytes = a.bytes().map_or(0, <[u8]>::len);
    let sum: u64 = a.bytes().unwrap_or(&[]).iter().map(|&b| u64::from(b)).sum();
    println!(
        "dataset shape {:?} {}; slice shape {:?}, {} bytes, byte sum {}, {:.3} s",
        info.shape,
        info.type_name,
        a.shape(),
        bytes,
        sum,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
