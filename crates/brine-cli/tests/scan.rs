//! `brine scan` end to end: exit codes 0/1/2/3, JSON and SARIF output that parse, sanitized
//! names in human output.

use std::path::PathBuf;
use std::process::Command;

fn corpus(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../brine-scan/tests/corpus")
        .join(p)
}

fn brine(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_brine"))
        .arg("scan")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes() {
    let safe = corpus("benign/gen-containers-p4.pkl");
    let bad = corpus("malicious/malicious2_v4.pkl");
    let inconclusive = corpus("malicious/torchscript_payload.pt");
    let (c, out, _) = brine(&[safe.as_os_str()]);
    assert_eq!(c, 0, "{out}");
    assert!(out.contains("SAFE"));
    let (c, out, _) = brine(&[bad.as_os_str()]);
    assert_eq!(c, 1);
    assert!(out.contains("os.system"), "{out}");
    let (c, _, _) = brine(&[inconclusive.as_os_str()]);
    assert_eq!(c, 3);
    let (c, _, err) = brine(&["/nonexistent/brine-scan-test".as_ref()]);
    assert_eq!(c, 2);
    assert!(err.starts_with("brine: "), "{err}");
    // UNSAFE wins over errors and INCONCLUSIVE.
    let (c, _, _) = brine(&[safe.as_os_str(), bad.as_os_str(), inconclusive.as_os_str()]);
    assert_eq!(c, 1);
    let (c, _, _) = brine(&[safe.as_os_str(), inconclusive.as_os_str()]);
    assert_eq!(c, 3);
}

#[test]
fn allow_flag_makes_unknown_global_safe() {
    let f = corpus("malicious/unknown_package.pkl");
    let (c, _, _) = brine(&[f.as_os_str()]);
    assert_eq!(c, 1);
    let (c, out, _) = brine(&[
        "--allow".as_ref(),
        "evilpkg.payload.run".as_ref(),
        f.as_os_str(),
    ]);
    assert_eq!(c, 0, "{out}");
}

#[test]
fn json_and_sarif_parse() {
    let dir = corpus("malicious");
    let (c, out, _) = brine(&["--format".as_ref(), "json".as_ref(), dir.as_os_str()]);
    assert_eq!(c, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["summary"]["unsafe"].as_u64().unwrap() > 100);
    let first = &v["files"][0];
    assert!(first["verdict"].is_string());
    assert!(first["findings"][0]["rule"].is_string());
    let (c, out, _) = brine(&[
        "--format".as_ref(),
        "sarif".as_ref(),
        corpus("malicious/malicious2_v4.pkl").as_os_str(),
    ]);
    assert_eq!(c, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "denied-global");
    assert_eq!(r["level"], "error");
    assert!(r["locations"][0]["physicalLocation"]["region"]["byteOffset"].is_u64());
}

#[test]
fn hostile_names_are_escaped() {
    let dir = std::env::temp_dir().join(format!("brine-scan-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("ansi.pkl");
    std::fs::write(&f, "cevil\x1b[2J\u{202e}mod\nrun\n(tR.".as_bytes()).unwrap();
    let (c, out, _) = brine(&[f.as_os_str()]);
    assert_eq!(c, 1);
    assert!(!out.contains('\x1b'), "{out:?}");
    assert!(out.contains("\\x1b[2J"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn directory_scan_without_terminal_has_no_progress_output() {
    // The progress bar draws on a terminal only; piped, stderr stays empty and stdout holds
    // one verdict line per file plus the summary.
    // benign/ also holds the two "review" files (a __main__ class, TorchScript): not SAFE.
    let (c, out, err) = brine(&[corpus("benign").as_os_str()]);
    assert_eq!(c, 1, "{out}");
    assert!(err.is_empty(), "{err}");
    let n = std::fs::read_dir(corpus("benign")).unwrap().count();
    let summary = format!("{n} files: {} SAFE, 1 UNSAFE, 1 INCONCLUSIVE", n - 2);
    assert!(out.contains(&summary), "{out}");
}

#[test]
fn seven_zip_and_tar_members_are_scanned() {
    let (c, out, _) = brine(&[corpus("malicious/7z-wrong-name.7z").as_os_str()]);
    assert_eq!(c, 1, "{out}");
    assert!(
        out.contains("notes.txt") && out.contains("os.system"),
        "{out}"
    );
    let (c, out, _) = brine(&[corpus("benign/7z-state_dict.7z").as_os_str()]);
    assert_eq!(c, 0, "{out}");
    // Torch's legacy tar format: the `pickle` member is scanned.
    let (c, out, _) = brine(&[corpus("malicious/tar-legacy-torch.tar").as_os_str()]);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("pickle @2 GLOBAL os.system"), "{out}");
}

#[test]
fn color_only_when_asked_or_on_a_terminal() {
    let bad = corpus("malicious/malicious2_v4.pkl");
    let (_, plain, _) = brine(&[bad.as_os_str()]);
    assert!(!plain.contains('\x1b'), "{plain}");
    let (c, colored, _) = brine(&["--color".as_ref(), "always".as_ref(), bad.as_os_str()]);
    assert_eq!(c, 1);
    assert!(colored.contains("\x1b[1;31mUNSAFE\x1b[0m"), "{colored}");
    let (_, never, _) = brine(&["--color".as_ref(), "never".as_ref(), bad.as_os_str()]);
    assert_eq!(never, plain);
}
