//! Fuzz target: the instruction decoder over arbitrary bytes, from a slice and from a reader.
#![no_main]

use brine::core::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new(data);
    let mut from_slice = Vec::new();
    while let Ok(Some(i)) = d.next_instruction() {
        from_slice.push((i.op, i.offset));
    }
    let mut r = Decoder::from_reader(data);
    let mut from_reader = Vec::new();
    while let Ok(Some(i)) = r.next_instruction() {
        from_reader.push((i.op, i.offset));
    }
    // A slice knows its length, so it refuses a FRAME longer than the rest at once; a stream
    // finds out later. Otherwise both see the same instructions.
    assert!(from_reader.starts_with(&from_slice));
    if from_reader.len() > from_slice.len() {
        assert_eq!(data.get(from_reader[from_slice.len()].1 as usize), Some(&0x95));
    }
});
