//! The CPython-made golden corpus (`tests/data/golden`, made by `gen_golden.py`): every file
//! decodes, re-encodes to its own bytes, converts to every other protocol exactly as CPython
//! writes it (builtin-only values), and every prefix of it fails as EOF.

mod common;

use std::collections::BTreeMap;

use brine::Category;
use common::*;

#[test]
fn recode_at_own_protocol_is_identical() {
    let mut failures = Vec::new();
    let corpus = golden();
    assert!(
        corpus.len() > 100,
        "golden corpus too small: {}",
        corpus.len()
    );
    for g in corpus.iter().filter(|g| !g.py2) {
        let data = std::fs::read(&g.path).unwrap();
        match recode_stream(
            &data,
            options_for(g),
            dump_options_for(g, g.protocol),
            !g.separate,
        ) {
            Ok(out) if out == data => {}
            Ok(out) => failures.push(format!(
                "{} p{}: {}",
                g.name,
                g.protocol,
                first_diff(&out, &data)
            )),
            Err(e) => failures.push(format!("{} p{}: error {e}", g.name, g.protocol)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files differ:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
}

#[test]
fn builtin_values_convert_to_every_protocol_like_cpython() {
    let mut groups: BTreeMap<String, Vec<Golden>> = BTreeMap::new();
    for g in golden().into_iter().filter(|g| g.builtin) {
        groups.entry(g.group.clone()).or_default().push(g);
    }
    assert!(
        groups.len() > 30,
        "too few builtin groups: {}",
        groups.len()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, files) in &groups {
        for src in files {
            let data = std::fs::read(&src.path).unwrap();
            for dst in files {
                let want = std::fs::read(&dst.path).unwrap();
                checked += 1;
                match recode(&data, dst.protocol, options_for(src)) {
                    Ok(out) if out == want => {}
                    Ok(out) => failures.push(format!(
                        "{name} p{} -> p{}: {}",
                        src.protocol,
                        dst.protocol,
                        first_diff(&out, &want)
                    )),
                    Err(e) => failures.push(format!(
                        "{name} p{} -> p{}: error {e}",
                        src.protocol, dst.protocol
                    )),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} conversions differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_prefix_is_an_eof_error() {
    let mut failures = Vec::new();
    for g in golden().iter().filter(|g| !g.multi) {
        let data = std::fs::read(&g.path).unwrap();
        // All prefixes of small files; for big ones every prefix near the start and end and
        // an even spread in between, to keep this quadratic check fast.
        let n = data.len();
        let cuts: Vec<usize> = if n <= 4096 {
            (0..n).collect()
        } else {
            (0..1024)
                .chain((1024..n - 1024).step_by(n / 512))
                .chain(n - 1024..n)
                .collect()
        };
        for cut in cuts {
            match brine::loads_with(&data[..cut], options_for(g)) {
                Err(e) if e.classify() == Category::Eof => {}
                Err(e) => {
                    failures.push(format!("{} prefix {cut}: {e} ({:?})", g.name, e.classify()))
                }
                Ok(_) => failures.push(format!("{} prefix {cut}: decoded", g.name)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn python2_pickles_decode_and_recode_to_the_same_graph() {
    // Hand-written Python 2 data is not what CPython 3 writes (STRING opcodes, INST), so its
    // bytes are not reproduced; its value is, at every protocol it can be written in.
    let mut failures = Vec::new();
    let cases: Vec<_> = golden().into_iter().filter(|g| g.py2).collect();
    assert!(cases.len() >= 20);
    for g in &cases {
        let data = std::fs::read(&g.path).unwrap();
        let graph = match brine::loads_with(&data, options_for(g)) {
            Ok(graph) => graph,
            Err(e) => {
                failures.push(format!("{}: {e}", g.name));
                continue;
            }
        };
        for p in g.protocol..=5 {
            let result = brine::dumps_with(&graph, brine::DumpOptions::new().protocol(p))
                .and_then(|out| brine::loads(&out));
            match result {
                Ok(again) if again == graph => {}
                Ok(_) => failures.push(format!("{} p{p}: value changed", g.name)),
                Err(e) => failures.push(format!("{} p{p}: {e}", g.name)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn globals_next_to_recognized_builtins_recode_exactly() {
    // A recognized builtin (bytearray at p4, set at p2) is rewritten from its native node,
    // yet its module string is the same object as other globals' of that module.
    if !have_python() {
        eprintln!("SKIPPED: python3 not found");
        return;
    }
    let exprs = [
        "[bytearray(b'ab'), int]",
        "[int, bytearray(b'ab'), set, frozenset({1}), bytes]",
        "[len, bytearray(b'x'), getattr, int, {1, 2}]",
    ];
    for expr in exprs {
        for p in 0..=5u8 {
            let out = std::process::Command::new("python3")
                .args([
                    "-c",
                    &format!(
                        "import pickle,sys; sys.stdout.buffer.write(pickle.dumps({expr}, {p}))"
                    ),
                ])
                .output()
                .unwrap();
            assert!(out.status.success());
            let again = recode(&out.stdout, p, brine::LoadOptions::new()).unwrap();
            assert!(
                again == out.stdout,
                "{expr} p{p}: {}",
                first_diff(&again, &out.stdout)
            );
        }
    }
}
