//! Python reads the cache: `pickle.load` on an entry gives the dict with the value, and Python
//! computes the same entry path from the key. Skipped, with a printed line, without `python3`.

mod common;

use std::process::Command;

use brine_memo::{Cache, Codec};
use common::Scratch;
use serde::Serialize;

#[derive(Serialize)]
struct Report {
    name: String,
    scores: Vec<f64>,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    pair: (i64, Option<bool>),
}

const SCRIPT: &str = r#"
import gzip, hashlib, os, pickle, sys
root = sys.argv[1]
key = ("abc", 42)
name = hashlib.sha256(b"brine-memo/1\0ns\0" + pickle.dumps(key, 4)).hexdigest() + ".pkl"
expected = {"name": "ada", "scores": [1.5, -2.0], "blob": b"\x00\xff", "pair": (-7, None)}
for sub, opener in (("plain", open), ("gzip", gzip.open)):
    with opener(os.path.join(root, sub, "ns", name), "rb") as f:
        entry = pickle.load(f)
    assert entry["brine_memo"] == 1, entry
    assert entry["namespace"] == "ns", entry
    assert pickle.loads(entry["key"]) == key, entry
    assert entry["type"].endswith("python::Report"), entry
    assert entry["version"] == 3, entry
    assert entry["value"] == expected, entry["value"]
print("python ok")
"#;

#[test]
fn python_loads_an_entry() -> brine_memo::Result<()> {
    if Command::new("python3").arg("--version").output().is_err() {
        println!("SKIPPED python_loads_an_entry: python3 not found");
        return Ok(());
    }
    let dir = Scratch::new("python");
    let value = Report {
        name: "ada".into(),
        scores: vec![1.5, -2.0],
        blob: vec![0, 255],
        pair: (-7, None),
    };
    let plain = Cache::builder(dir.path().join("plain")).version(3).open()?;
    plain.insert("ns", &("abc", 42), &value)?;
    let gz = Cache::builder(dir.path().join("gzip"))
        .version(3)
        .compress(Codec::Gzip, None)
        .open()?;
    gz.insert("ns", &("abc", 42), &value)?;

    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(dir.path())
        .output()?;
    assert!(
        out.status.success(),
        "python failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "python ok");
    Ok(())
}
