//! Differential test against python3: random builtin values (seeded, thousands per run) pickled
//! by CPython at every protocol decode to one graph and re-encode to CPython's bytes at every
//! protocol.

mod common;

use std::process::Command;

use common::*;

fn records(out: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut i = 0;
    while i + 4 <= out.len() {
        let n = u32::from_le_bytes(out[i..i + 4].try_into().unwrap()) as usize;
        v.push(out[i + 4..i + 4 + n].to_vec());
        i += 4 + n;
    }
    assert_eq!(
        i,
        out.len(),
        "gen_random.py output is not a whole number of records"
    );
    v
}

#[test]
fn random_values_round_trip_like_cpython() {
    if !have_python() {
        eprintln!("SKIPPED: python3 not found; differential test not run");
        return;
    }
    let seed: u64 = std::env::var("BRINE_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261125);
    let count = 2000;
    let out = Command::new("python3")
        .arg(data_dir().join("gen_random.py"))
        .args(["--seed", &seed.to_string(), "--count", &count.to_string()])
        .output()
        .expect("run gen_random.py");
    assert!(
        out.status.success(),
        "gen_random.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), count * 6);
    let mut failures = Vec::new();
    for (k, per_value) in recs.chunks(6).enumerate() {
        for (pa, src) in per_value.iter().enumerate() {
            let a = brine::loads(src);
            let Ok(graph) = a else {
                failures.push(format!("value {k} p{pa}: decode error {}", a.unwrap_err()));
                continue;
            };
            // Same graph from every protocol.
            if pa > 0 {
                let first = brine::loads(&per_value[0]).unwrap();
                if first != graph {
                    failures.push(format!(
                        "value {k}: p0 and p{pa} decode to different graphs"
                    ));
                }
            }
            for (pb, want) in per_value.iter().enumerate() {
                match brine::dumps_with(&graph, brine::DumpOptions::new().protocol(pb as u8)) {
                    Ok(out) if &out == want => {}
                    Ok(out) => failures.push(format!(
                        "value {k} p{pa}->p{pb}: {}",
                        first_diff(&out, want)
                    )),
                    Err(e) => failures.push(format!("value {k} p{pa}->p{pb}: error {e}")),
                }
            }
        }
    }
    let shown: Vec<_> = failures.iter().take(20).cloned().collect();
    assert!(
        failures.is_empty(),
        "seed {seed}: {} failures, first:\n{}",
        failures.len(),
        shown.join("\n")
    );
}
