//! Times brine's graph decode and encode (and serde-pickle's, for comparison) of pickle files,
//! for `bench/compare.py`: prints one JSON line per file with the median seconds of each
//! operation, or `null` where a decoder refuses the file.
//!
//! Usage: `cargo run --release -p brine --example bench_compare -- [--peak] FILE...`
//!
//! With `--peak`, decodes each file once and reports how much the process's peak resident
//! memory grew during the decode (the graph, beyond the input already in memory).

#[path = "../benches/timing.rs"]
mod timing;
use timing::median_secs;

/// Peak resident set size of this process so far, in bytes (Linux `VmHWM`).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn json_num(x: Option<f64>) -> String {
    x.map_or("null".into(), |v| format!("{v:e}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let peak = args.first().is_some_and(|a| a == "--peak");
    if peak {
        args.remove(0);
    }
    for path in args {
        let data = std::fs::read(&path)?;
        if peak {
            let before = peak_rss().unwrap_or(0);
            let graph = brine::loads(&data)?;
            let after = peak_rss().unwrap_or(0);
            println!(
                "{{\"file\": {:?}, \"bytes\": {}, \"graph_peak\": {}, \"nodes\": {}, \"node_capacity\": {}, \"arena_bytes\": {}}}",
                path,
                data.len(),
                after.saturating_sub(before),
                graph.len(),
                graph.node_capacity(),
                graph.arena_bytes()
            );
            continue;
        }
        let protocol = if data.first() == Some(&0x80) {
            data[1]
        } else {
            0
        };
        let graph = brine::loads(&data)?;
        let opts = || brine::DumpOptions::new().protocol(protocol);
        let same = brine::dumps_with(&graph, opts())? == data;
        let decode = median_secs(|| {
            std::hint::black_box(brine::loads(std::hint::black_box(&data)).unwrap());
        });
        let encode = median_secs(|| {
            std::hint::black_box(brine::dumps_with(&graph, opts()).unwrap());
        });
        // The map is part of the work: open, map, decode, per iteration.
        let mapped = median_secs(|| {
            std::hint::black_box(
                brine::load_file_mapped(&path, brine::LoadOptions::new()).unwrap(),
            );
        });
        let de = serde_pickle::DeOptions::new().replace_unresolved_globals();
        let (sp_decode, sp_encode) = match serde_pickle::value_from_slice(&data, de.clone()) {
            Ok(value) => {
                let d = median_secs(|| {
                    std::hint::black_box(
                        serde_pickle::value_from_slice(std::hint::black_box(&data), de.clone())
                            .unwrap(),
                    );
                });
                let ser = || serde_pickle::SerOptions::new().proto_v2();
                let e = serde_pickle::value_to_vec(&value, ser()).ok().map(|_| {
                    median_secs(|| {
                        std::hint::black_box(serde_pickle::value_to_vec(&value, ser()).unwrap());
                    })
                });
                (Some(d), e)
            }
            Err(_) => (None, None),
        };
        println!(
            "{{\"file\": {:?}, \"bytes\": {}, \"decode\": {decode:e}, \"encode\": {encode:e}, \"mapped\": {mapped:e}, \"sp_decode\": {}, \"sp_encode\": {}, \"identical\": {same}}}",
            path,
            data.len(),
            json_num(sp_decode),
            json_num(sp_encode),
        );
    }
    Ok(())
}
