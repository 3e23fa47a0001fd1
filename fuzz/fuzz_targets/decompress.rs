//! Fuzz target: codec detection and bounded decompression of arbitrary bytes, then decoding
//! whatever comes out.
#![no_main]

use brine::core::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_decompressed: 1 << 20, max_ratio: 1000, ..Limits::default() };
    if let Ok(plain) = brine_formats::decompress(data, &limits) {
        assert!(plain.len() as u64 <= limits.max_decompressed);
        let _ = brine::loads(&plain);
    }
});
