//! The evaluation corpus: every published technique (malicious/) and real benign files
//! (benign/), labelled in manifest.json by tests/corpus/gen_corpus.py. Prints the confusion
//! table; fails if any malicious file is SAFE, if fewer than 95% are UNSAFE, or if any benign
//! file is not SAFE.

use std::collections::BTreeMap;
use std::path::Path;

use brine_scan::{scan_path, Options, Verdict};

#[test]
fn corpus_confusion_table() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let opts = Options::default();
    let mut table: BTreeMap<(String, Verdict), usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (path, meta) in manifest.as_object().unwrap() {
        let label = meta["label"].as_str().unwrap().to_string();
        let report = scan_path(dir.join(path), &opts).unwrap();
        *table.entry((label.clone(), report.verdict)).or_default() += 1;
        let ok = match label.as_str() {
            "malicious" => report.verdict != Verdict::Safe,
            "benign" => report.verdict == Verdict::Safe,
            _ => report.verdict != Verdict::Safe,
        };
        if !ok {
            wrong.push(format!(
                "{path}: {label} scanned {:?}: {:?}",
                report.verdict, report.findings
            ));
        }
    }
    println!("\nbrine scan confusion table (label x verdict):");
    println!(
        "{:<10} {:>6} {:>8} {:>13}",
        "label", "SAFE", "UNSAFE", "INCONCLUSIVE"
    );
    for label in ["malicious", "benign", "review"] {
        let n = |v| table.get(&(label.to_string(), v)).copied().unwrap_or(0);
        println!(
            "{:<10} {:>6} {:>8} {:>13}",
            label,
            n(Verdict::Safe),
            n(Verdict::Unsafe),
            n(Verdict::Inconclusive)
        );
    }
    assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
    let n = |l: &str, v| table.get(&(l.to_string(), v)).copied().unwrap_or(0);
    let mal = n("malicious", Verdict::Safe)
        + n("malicious", Verdict::Unsafe)
        + n("malicious", Verdict::Inconclusive);
    assert!(mal >= 100, "corpus too small: {mal}");
    let unsafe_rate = n("malicious", Verdict::Unsafe) as f64 / mal as f64;
    println!("malicious UNSAFE rate: {:.1}%", unsafe_rate * 100.0);
    assert!(unsafe_rate >= 0.95);
}
