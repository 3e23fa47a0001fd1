//! Decodes one named hostile input and reports the outcome and time; run under
//! `/usr/bin/time -v` (see `bench/hostile.sh`) to read its peak memory.
//!
//! Usage: `cargo run --release -p brine --example hostile -- CASE` (no CASE lists them).

use std::time::Instant;

fn u32le(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

fn case(name: &str) -> Option<Vec<u8>> {
    let mut p = b"\x80\x02".to_vec();
    match name {
        // 2,000,000 nested lists.
        "deep-lists" => {
            p.extend(std::iter::repeat_n(b']', 2_000_000));
            p.extend(std::iter::repeat_n(b'a', 1_999_999));
        }
        // 2,000,000 MARKs (stopped by max_marks).
        "deep-marks" => p.extend(std::iter::repeat_n(b'(', 2_000_000)),
        // BINGET i; BINGET i; TUPLE2; BINPUT i+1, 60 times: 2^60 leaves if expanded.
        "memo-bomb" => {
            p.extend_from_slice(b"Nr");
            p.extend_from_slice(&u32le(0));
            for i in 0..60u32 {
                p.push(b'j');
                p.extend_from_slice(&u32le(i));
                p.push(b'j');
                p.extend_from_slice(&u32le(i));
                p.push(0x86);
                p.push(b'r');
                p.extend_from_slice(&u32le(i + 1));
            }
        }
        // A BINBYTES8 declaring 2^62 bytes.
        "huge-length" => {
            p = b"\x80\x04\x8e".to_vec();
            p.extend_from_slice(&(1u64 << 62).to_le_bytes());
            p.extend_from_slice(b"abc");
        }
        // LONG_BINPUT at 2^31 (CVE-2018-20406 style).
        "memo-index" => {
            p.extend_from_slice(b"Nr");
            p.extend_from_slice(&u32le(1 << 31));
        }
        // PUTs at doubling sparse indices.
        "sparse-memo" => {
            p.push(b'N');
            for k in 0..31 {
                p.push(b'r');
                p.extend_from_slice(&u32le(1 << k));
            }
        }
        // A 100 MB STRING line with no newline.
        "endless-line" => {
            p = b"S'".to_vec();
            p.extend(std::iter::repeat_n(b'a', 100 << 20));
        }
        // A LONG of 10 million digits.
        "long-digits" => {
            p = b"L".to_vec();
            p.extend(std::iter::repeat_n(b'7', 10_000_000));
            p.extend_from_slice(b"L\n");
        }
        // 10 million DUPs of one list: a big stack, no new nodes.
        "dup-flood" => {
            p.push(b']');
            p.extend(std::iter::repeat_n(b'2', 10_000_000));
        }
        // 20 million NONEs: one shared node, stopped by the stack limit.
        "none-flood" => p.extend(std::iter::repeat_n(b'N', 20_000_000)),
        // 9 million EMPTY_LISTs: the most nodes per input byte (one per byte).
        "node-flood" => p.extend(std::iter::repeat_n(b']', 9_000_000)),
        // APPENDS of 5 million items to one list, many times (shared via GET).
        "appends" => {
            p.extend_from_slice(b"]q\x00(");
            p.extend(std::iter::repeat_n(b'N', 5_000_000));
            p.push(b'e');
        }
        _ => return None,
    }
    p.push(b'.');
    Some(p)
}

const CASES: &[&str] = &[
    "deep-lists",
    "deep-marks",
    "memo-bomb",
    "huge-length",
    "memo-index",
    "sparse-memo",
    "endless-line",
    "long-digits",
    "dup-flood",
    "none-flood",
    "node-flood",
    "appends",
];

fn main() {
    let Some(name) = std::env::args().nth(1) else {
        println!("{}", CASES.join("\n"));
        return;
    };
    let Some(data) = case(&name) else {
        eprintln!("unknown case {name}");
        std::process::exit(2);
    };
    let t = Instant::now();
    let outcome = match brine::loads(&data) {
        Ok(g) => {
            // Re-encoding must stay bounded too.
            match brine::dumps(&g) {
                Ok(out) => format!("ok: {} nodes, re-encoded to {} bytes", g.len(), out.len()),
                Err(e) => format!("ok: {} nodes; re-encoding: {e}", g.len()),
            }
        }
        Err(e) => format!("error: {e}"),
    };
    println!(
        "{name}: input {} bytes, {:.3} s, {outcome}",
        data.len(),
        t.elapsed().as_secs_f64()
    );
}
