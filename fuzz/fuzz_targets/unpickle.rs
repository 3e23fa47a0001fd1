//! Fuzz target: the unpickling machine over arbitrary bytes (every pickle in the stream), with
//! tight limits so that the fuzzer explores structure rather than size.
#![no_main]

use brine::core::Limits;
use brine::{LoadOptions, Unpickler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_nodes: 100_000, max_stack: 100_000, ..Limits::default() };
    let mut u = Unpickler::new(data, LoadOptions::new().limits(limits));
    for _ in 0..16 {
        match u.load() {
            Ok(_) if !u.at_end() => continue,
            _ => break,
        }
    }
    let g = u.into_graph();
    let _ = format!("{g:?}");
});
