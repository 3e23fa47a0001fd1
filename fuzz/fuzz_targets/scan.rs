//! Fuzz target: the scanner on arbitrary bytes — every container sniffer, the symbolic
//! machine and the report renderers must never panic, and must never call garbage SAFE
//! when it could not be parsed.
#![no_main]

use std::sync::OnceLock;

use brine_scan::{output, scan_bytes, Limits, Options, Verdict};
use libfuzzer_sys::fuzz_target;

static OPTS: OnceLock<Options> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    // Parse the policy once, not per input.
    let opts = OPTS.get_or_init(|| Options {
        limits: Limits { max_decompressed: 1 << 20, max_members: 1000, ..Limits::default() },
        ..Options::default()
    });
    let r = scan_bytes("fuzz", data, opts);
    if r.findings.iter().any(|f| f.rule == "parse-error") {
        assert_ne!(r.verdict, Verdict::Safe);
    }
    let _ = output::human(&r, true);
    let _ = output::sarif(std::slice::from_ref(&r));
});
