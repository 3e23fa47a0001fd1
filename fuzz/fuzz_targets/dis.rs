//! Fuzz target: the pickletools-compatible disassembler over arbitrary bytes, every flag set.
#![no_main]

use brine::dis::{DisOptions, Disassembler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (annotate, indent, memo) in [(0, 4, false), (30, 4, true), (30, 0, false)] {
        let opts = DisOptions { annotate, indent, memo };
        let mut out = Vec::new();
        let _ = Disassembler::new(opts).dis_all(data, &mut out);
    }
});
