//! Fuzz target: whatever decodes re-encodes at every protocol, the result decodes, and writing
//! is a fixpoint from the second round on.
#![no_main]

use brine::core::Limits;
use brine::{DumpOptions, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_nodes: 100_000, max_stack: 100_000, ..Limits::default() };
    let Ok(g) = brine::loads_with(data, LoadOptions::new().limits(limits)) else {
        return;
    };
    for p in 0..=5 {
        if let Ok(out) = brine::dumps_with(&g, DumpOptions::new().protocol(p)) {
            // From the second round on writing is a fixpoint (the first may merge names that
            // only differ before fix_imports, as CPython does).
            let again = brine::loads(&out).expect("brine reads what it writes");
            let twice = brine::dumps_with(&again, DumpOptions::new().protocol(p)).expect("rewrite");
            let third = brine::loads(&twice).expect("brine reads what it writes");
            let thrice = brine::dumps_with(&third, DumpOptions::new().protocol(p)).expect("rewrite");
            assert!(thrice == twice, "writing is not a fixpoint at protocol {p}");
        }
    }
});
