//! Eight processes hammering one cache directory with overlapping keys: no torn or mixed
//! reads, no lost inserts, no warnings — with and without a size bound forcing evictions.
//!
//! The processes are this test binary run again (`current_exe()`), the role chosen by the
//! `BRINE_MEMO_CHILD` variable.

mod common;

use std::process::{Command, Stdio};

use brine_memo::Cache;
use common::Scratch;
use serde::{Deserialize, Serialize};

const PROCESSES: u32 = 8;
const ITERATIONS: u32 = 150;
const KEYS: u64 = 16;
const OWN_KEYS: u32 = 10;

/// What a writer stores: its id in every byte of the payload, so a value mixing two writes,
/// or a truncated one, is detected.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Val {
    key: u64,
    writer: u32,
    #[serde(with = "serde_bytes")]
    payload: Vec<u8>,
}

fn val(key: u64, writer: u32) -> Val {
    Val {
        key,
        writer,
        payload: vec![writer as u8; 1000 + key as usize * 3000],
    }
}

fn check(key: u64, v: &Val) {
    assert_eq!(v.key, key, "a value of another key");
    assert_eq!(
        v.payload.len(),
        1000 + key as usize * 3000,
        "a truncated value"
    );
    assert!(
        v.payload.iter().all(|&b| b == v.writer as u8),
        "a value mixing two writers"
    );
}

fn run_children(dir: &Scratch, bounded: bool) {
    let exe = std::env::current_exe().expect("current_exe");
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            Command::new(&exe)
                .args(["child_role", "--exact", "--nocapture", "--test-threads=1"])
                .env("BRINE_MEMO_CHILD", i.to_string())
                .env("BRINE_MEMO_DIR", dir.path())
                .env("BRINE_MEMO_BOUNDED", if bounded { "1" } else { "0" })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child {i} failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("WARNINGS 0"), "child {i}: {stdout}");
    }
}

#[test]
fn eight_processes_one_directory() -> brine_memo::Result<()> {
    let dir = Scratch::new("procs");
    run_children(&dir, false);
    // No lost inserts: every process's own keys are all there, with its values.
    let cache = Cache::open(dir.path())?;
    for p in 0..PROCESSES {
        for i in 0..OWN_KEYS {
            let v: Option<Val> = cache.get("own", &(p, i))?;
            assert_eq!(v, Some(val(u64::from(i), p)), "process {p} key {i}");
        }
    }
    for k in 0..KEYS {
        if let Some(v) = cache.get::<_, Val>("shared", &k)? {
            check(k, &v);
        }
    }
    assert_eq!(cache.warning_count(), 0);
    assert_eq!(cache.stats()?.temp_files, 0);
    Ok(())
}

#[test]
fn eight_processes_with_evictions() -> brine_memo::Result<()> {
    let dir = Scratch::new("procs-bounded");
    run_children(&dir, true);
    let cache = Cache::open(dir.path())?;
    let stats = cache.stats()?;
    // Each insert evicts down to the bound; concurrent inserts may overshoot by the entries
    // written since the last eviction pass, at most one per process.
    assert!(
        stats.bytes <= BOUND + u64::from(PROCESSES) * 50_000,
        "{stats:?}"
    );
    assert_eq!(stats.temp_files, 0);
    Ok(())
}

const BOUND: u64 = 200_000;

/// The child roles; a no-op in a normal test run.
#[test]
fn child_role() -> brine_memo::Result<()> {
    let Ok(id) = std::env::var("BRINE_MEMO_CHILD") else {
        return Ok(());
    };
    let id: u32 = id.parse().expect("child id");
    let dir = std::env::var("BRINE_MEMO_DIR").expect("BRINE_MEMO_DIR");
    let bounded = std::env::var("BRINE_MEMO_BOUNDED").is_ok_and(|b| b == "1");
    let mut builder = Cache::builder(dir);
    if bounded {
        builder = builder.max_bytes(BOUND);
    }
    if id % 2 == 1 {
        // Half the processes compress: readers must take either form.
        builder = builder.compress(brine_memo::Codec::Zstd, None);
    }
    let cache = builder.open()?;
    let mut x = 0x2545_f491_4f6c_dd1d_u64 ^ (u64::from(id) << 32);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..ITERATIONS {
        let r = next();
        let key = r % KEYS;
        match (r >> 32) % 10 {
            0..=4 => {
                let v = cache.get_or_compute("shared", &key, || val(key, id))?;
                check(key, &v);
            }
            5..=6 => cache.insert("shared", &key, &val(key, id))?,
            7..=8 => {
                if let Some(v) = cache.get::<_, Val>("shared", &key)? {
                    check(key, &v);
                }
            }
            _ => {
                cache.remove("shared", &key)?;
            }
        }
    }
    if !bounded {
        for i in 0..OWN_KEYS {
            cache.insert("own", &(id, i), &val(u64::from(i), id))?;
        }
    }
    println!("WARNINGS {}", cache.warning_count());
    Ok(())
}
