//! The safe loading mode (`safe_loads`, `safe_load_path`) over the evaluation corpus: every
//! malicious or review file is refused with the deciding finding named, every benign plain or
//! compressed pickle decodes to the graph brine's reader gives, other benign containers are
//! reported as unsupported, never decoded as pickles.

use std::path::Path;

use brine_scan::{safe_load_path, safe_loads, scan_path, Options, SafeErrorKind, Verdict};

#[test]
fn corpus_through_safe_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let opts = Options::default();
    let (mut refused, mut loaded, mut unsupported, mut decode_errors) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for (path, meta) in manifest.as_object().unwrap() {
        let label = meta["label"].as_str().unwrap();
        let file = dir.join(path);
        let res = safe_load_path(&file, &opts);
        match (label, res) {
            ("benign", Ok(g)) => {
                loaded += 1;
                let report = scan_path(&file, &opts).unwrap();
                // Plain pickles give brine::loads's graph (joblib files take the joblib reader).
                if report.format == "pickle" {
                    if let Ok(plain) = brine::loads(&std::fs::read(&file).unwrap()) {
                        if plain != g {
                            wrong.push(format!("{path}: graph differs from brine::loads"));
                        }
                    }
                }
            }
            ("benign", Err(e)) if e.kind() == SafeErrorKind::Unsupported => {
                unsupported += 1;
                assert_eq!(e.report().unwrap().verdict, Verdict::Safe);
            }
            ("benign", Err(e)) if e.kind() == SafeErrorKind::Decode => {
                // Scanned SAFE; brine's reader (default options) must fail on it too.
                decode_errors += 1;
                let data = std::fs::read(&file).unwrap();
                if brine::loads(&data).is_ok() {
                    wrong.push(format!(
                        "{path}: decode error but brine::loads reads it: {e}"
                    ));
                }
            }
            ("benign", Err(e)) => wrong.push(format!("{path}: benign refused: {e}")),
            (_, Ok(_)) => wrong.push(format!("{path}: {label} file loaded")),
            (_, Err(e)) => {
                if e.kind() != SafeErrorKind::Refused {
                    wrong.push(format!(
                        "{path}: {label} not refused but {:?}: {e}",
                        e.kind()
                    ));
                    continue;
                }
                refused += 1;
                let f = e.finding().expect("a refusal names its finding");
                assert_ne!(f.verdict, Verdict::Safe);
                assert!(e.to_string().contains(f.rule), "{e}");
            }
        }
    }
    println!(
        "safe_load: {refused} refused, {loaded} loaded, {unsupported} unsupported containers, \
         {decode_errors} SAFE but undecodable with default options"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        refused >= 100 && loaded >= 20,
        "{refused} refused, {loaded} loaded"
    );
}

#[test]
fn refusal_names_callable_offset_and_opcode() {
    // cos\nsystem\n(S'true'\ntR. — os.system('true')
    let err = safe_loads(b"cos\nsystem\n(S'true'\ntR.", &Options::default()).unwrap_err();
    assert_eq!(err.kind(), SafeErrorKind::Refused);
    let msg = err.to_string();
    assert!(
        msg.starts_with("refused: UNSAFE: os.system at offset "),
        "{msg}"
    );
    assert!(msg.contains("(opcode "), "{msg}");
}

#[test]
fn allow_list_extension_lets_a_class_load() {
    // copyreg-free user class: mypkg.Point.__new__(mypkg.Point) at protocol 2.
    let data = b"\x80\x02cmypkg\nPoint\nq\x00)\x81q\x01.";
    let mut opts = Options::default();
    assert_eq!(
        safe_loads(data, &opts).unwrap_err().kind(),
        SafeErrorKind::Refused
    );
    opts.policy.allow("mypkg.Point");
    let g = safe_loads(data, &opts).unwrap();
    assert!(g.root().is_some());
}

#[test]
fn compressed_pickle_is_decoded_after_scan() {
    let py = std::process::Command::new("python3")
        .args([
            "-c",
            "import gzip,pickle,sys; sys.stdout.buffer.write(gzip.compress(pickle.dumps({'a': [1, 2.5]}, protocol=4)))",
        ])
        .output();
    let Some(out) = py.ok().filter(|o| o.status.success()) else {
        eprintln!("skipping: python3 not available");
        return;
    };
    let g = safe_loads(&out.stdout, &Options::default()).unwrap();
    assert_eq!(g.get(g.root().unwrap()).kind_name(), "dict");
    let bad = std::process::Command::new("python3")
        .args([
            "-c",
            "import gzip,sys; sys.stdout.buffer.write(gzip.compress(b\"cos\\nsystem\\n(S'true'\\ntR.\"))",
        ])
        .output()
        .unwrap();
    let err = safe_loads(&bad.stdout, &Options::default()).unwrap_err();
    assert_eq!(err.kind(), SafeErrorKind::Refused);
    assert!(err.to_string().contains("os.system"), "{err}");
}

#[test]
fn missing_file_is_io() {
    let err = safe_load_path("/nonexistent/brine-safe-load", &Options::default()).unwrap_err();
    assert_eq!(err.kind(), SafeErrorKind::Io);
    assert!(err.report().is_none());
}
