//! Fuzz target: the instruction decoder over arbitrary bytes, from a slice and from a reader.
#![no_main]

use brine::core::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new(data);
    let mut n = 0usize;
    while let Ok(Some(_)) = d.next_instruction() {
        n += 1;
    }
    let mut r = Decoder::from_reader(data);
    let mut m = 0usize;
    while let Ok(Some(_)) = r.next_instruction() {
        m += 1;
    }
    // Both sources see the same instructions.
    assert_eq!(n, m);
});
