//! What the symbolic walk resolves, explicitly: lookup chains, dotted names, STRING operands to
//! STACK_GLOBAL, planted attributes, nested pickles, broken streams, FRAME differentials, memo
//! edge cases, joblib resumption, and hostile inputs that must end within bounds.

use brine_scan::{scan_bytes, Options, Report, Verdict};

fn scan(data: &[u8]) -> Report {
    scan_bytes("t", data, &Options::default())
}

fn s(t: &str) -> Vec<u8> {
    let mut v = vec![0x8c, t.len() as u8];
    v.extend_from_slice(t.as_bytes());
    v
}

fn callables(r: &Report) -> Vec<String> {
    r.findings
        .iter()
        .filter_map(|f| f.callable.clone())
        .collect()
}

#[test]
fn getattr_import_chain_resolves_to_os_system() {
    let p = b"\x80\x02c__builtin__\ngetattr\n(c__builtin__\n__import__\n(X\x02\x00\x00\x00ostRX\x06\x00\x00\x00systemtR(X\x04\x00\x00\x00truetR.";
    let r = scan(p);
    assert_eq!(r.verdict, Verdict::Unsafe);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dangerous-call")
        .unwrap();
    assert_eq!(f.callable.as_deref(), Some("os.system"));
    assert_eq!(f.args.as_deref(), Some("(\"true\",)"));
    assert_eq!(f.opcode, Some("REDUCE"));
}

#[test]
fn builtins_dict_lookup_resolves_to_eval() {
    let mut p = b"\x80\x04".to_vec();
    p.extend(s("builtins"));
    p.extend(s("dict.get"));
    p.push(0x93);
    p.push(b'(');
    p.extend(s("numpy"));
    p.extend(s("__builtins__"));
    p.push(0x93);
    p.extend(s("eval"));
    p.extend(b"tR(");
    p.extend(s("1"));
    p.extend(b"tR.");
    let r = scan(&p);
    assert!(
        callables(&r).contains(&"builtins.eval".to_string()),
        "{:?}",
        r.findings
    );
}

#[test]
fn dotted_name_and_string_operands() {
    let mut p = b"\x80\x04".to_vec();
    p.extend(s("pathlib"));
    p.extend(s("os.system"));
    p.extend(b"\x93.");
    let r = scan(&p);
    assert_eq!(r.imports[0].name, "pathlib.os.system");
    assert_eq!(r.imports[0].status, "denied");
    let r = scan(b"\x80\x04S'os'\nS'system'\n\x93.");
    assert_eq!(r.imports[0].name, "os.system");
    // Python 2 names are mapped at protocol < 3 only.
    let r = scan(b"\x80\x02c__builtin__\nset\n.");
    assert_eq!(r.imports[0].name, "builtins.set");
    assert_eq!(r.verdict, Verdict::Safe);
}

#[test]
fn build_on_a_global_plants_attributes() {
    let mut p = b"\x80\x04".to_vec();
    p.extend(s("numpy"));
    p.extend(s("prod"));
    p.extend(b"\x93N}");
    p.extend(s("a"));
    p.extend(s("os"));
    p.extend(b"s\x86b0");
    p.extend(s("numpy"));
    p.extend(s("prod.a"));
    p.extend(b"\x93");
    p.extend(s("system"));
    p.extend(b"\x93.");
    let r = scan(&p);
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule).collect();
    assert!(
        rules.contains(&"global-mutation") && rules.contains(&"planted-attribute"),
        "{rules:?}"
    );
    assert!(
        r.imports.iter().any(|i| i.name == "os.system"),
        "{:?}",
        r.imports
    );
}

#[test]
fn nested_pickle_is_scanned() {
    let inner = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.";
    let mut p = b"\x80\x04cpickle\nloads\nC".to_vec();
    p.push(inner.len() as u8);
    p.extend(inner);
    p.extend(b"\x85R.");
    let r = scan(&p);
    assert!(r
        .findings
        .iter()
        .any(|f| f.member.contains("pickle.loads") && f.callable.as_deref() == Some("os.system")));
}

#[test]
fn payload_before_a_broken_stream_is_unsafe() {
    let r = scan(b"cos\nsystem\n(S'true'\ntR\xff");
    assert_eq!(r.verdict, Verdict::Unsafe);
    assert!(r.findings.iter().any(|f| f.rule == "parse-error"));
    let r = scan(b"\x80\x02]q\x00(K\x01");
    assert_eq!(r.verdict, Verdict::Inconclusive);
}

#[test]
fn frame_straddle_is_unsafe() {
    let mut p = b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00".to_vec();
    p.extend(s("abcdef"));
    p.extend(b"0N.");
    let r = scan(&p);
    assert_eq!(r.findings[0].rule, "frame-straddle");
    assert_eq!(r.verdict, Verdict::Unsafe);
}

#[test]
fn memo_confusion_follows_cpython() {
    // MEMOIZE uses the count of filled slots, not the highest index.
    let mut p = b"\x80\x04".to_vec();
    p.extend(s("torch"));
    p.extend(b"q\x05");
    p.extend(s("os"));
    p.push(0x94); // memo[1]
    p.extend(s("system"));
    p.push(0x94); // memo[2]
    p.extend(b"h\x01h\x02\x93.");
    let r = scan(&p);
    assert_eq!(r.imports.last().unwrap().name, "os.system");
    // Missing memo key: an error after the import, never SAFE.
    let r = scan(b"\x80\x04h\x07.");
    assert_eq!(r.verdict, Verdict::Inconclusive);
}

#[test]
fn several_pickles_and_trailing_junk() {
    let r = scan(b"\x80\x02K\x01.\x80\x02cos\nsystem\n.");
    assert_eq!(r.verdict, Verdict::Unsafe);
    let r = scan(b"\x80\x02K\x01.\xff\xfe");
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert_eq!(r.findings[0].rule, "trailing-data");
}

#[test]
fn hostile_inputs_end_within_bounds() {
    // 1M nested lists.
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b']', 1_000_000));
    p.extend(std::iter::repeat_n(b'a', 999_999));
    p.push(b'.');
    assert_eq!(scan(&p).verdict, Verdict::Safe);
    // A memo fan-out bomb: each list holds the previous one many times.
    let mut p = b"\x80\x02]q\x00".to_vec();
    for i in 1..200u8 {
        p.push(b'(');
        for _ in 0..50 {
            p.extend([b'h', i - 1]);
        }
        p.extend([b'l', b'q', i]);
    }
    p.push(b'.');
    let r = scan(&p);
    assert_eq!(r.verdict, Verdict::Safe);
    // A far memo index must not allocate the gap.
    let r = scan(b"\x80\x02K\x01r\xf0\xff\xff\x7fj\xf0\xff\xff\x7f.");
    assert_eq!(r.verdict, Verdict::Safe);
    // Huge declared lengths are truncation, not allocation.
    let r = scan(b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x00");
    assert_eq!(r.verdict, Verdict::Inconclusive);
    // Many MARKs.
    let r = scan(&[b'('; 2_000_000]);
    assert_ne!(r.verdict, Verdict::Safe);
}

#[test]
fn joblib_stream_resumes_after_raw_bytes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/malicious/joblib_payload_after_buffer.joblib");
    let r = brine_scan::scan_path(path, &Options::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Unsafe);
    assert!(callables(&r).contains(&"os.system".to_string()));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/benign/gen-joblib-raw-looks-like-pickle.joblib");
    assert_eq!(
        brine_scan::scan_path(path, &Options::default())
            .unwrap()
            .verdict,
        Verdict::Safe
    );
}

#[test]
fn zip_anomalies_are_never_safe() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/benign/gen-state_dict.pt");
    let good = std::fs::read(dir).unwrap();
    assert_eq!(scan(&good).verdict, Verdict::Safe);
    let mut bad = good.clone();
    let i = bad.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bad[i + 16] ^= 0xff; // central CRC
    let r = scan(&bad);
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.findings.iter().any(|f| f.rule == "zip-crc-mismatch"));
}

#[test]
fn file_windows_handle_long_lines_and_big_arguments() {
    let dir = std::env::temp_dir().join(format!("brine-scan-win-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A 900 kB text line after 150 kB of opcodes: larger than the first windows.
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(*b"K\x01", 50_000).flatten());
    p.extend(std::iter::repeat_n(b'0', 50_000));
    p.push(b'V');
    p.extend(std::iter::repeat_n(b'a', 900_000));
    p.extend(b"\n0cos\nsystem\n.");
    let f = dir.join("long.pkl");
    std::fs::write(&f, &p).unwrap();
    let r = brine_scan::scan_path(&f, &Options::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Unsafe);
    assert_eq!(r.findings[0].offset, Some(p.len() as u64 - 12));
    // A 9 MB BINBYTES (larger than any window), then a payload.
    let mut p = b"\x80\x04B".to_vec();
    p.extend((9u32 << 20).to_le_bytes());
    p.extend(std::iter::repeat_n(b'c', 9 << 20));
    p.extend(b"0cos\nsystem\n.");
    let f = dir.join("big.pkl");
    std::fs::write(&f, &p).unwrap();
    let r = brine_scan::scan_path(&f, &Options::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Unsafe, "{:?}", r.findings);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn opcode_count_includes_fast_path_opcodes() {
    // PROTO ] BINPUT ( K K M J G APPENDS STOP: 11 opcodes, most on the fast path.
    let p2 = b"\x80\x02]q\x00(K\x01K\x02M\x00\x01J\x00\x00\x01\x00G?\xf0\x00\x00\x00\x00\x00\x00e.";
    let r = scan_bytes("p2", p2, &Options::default());
    assert_eq!(r.verdict, Verdict::Safe);
    assert_eq!(r.opcodes, 11);
    // PROTO ] MEMOIZE ( K SHORT_BINUNICODE MEMOIZE APPENDS STOP: 9.
    let p4 = b"\x80\x04]\x94(K\x01\x8c\x01a\x94e.";
    assert_eq!(scan_bytes("p4", p4, &Options::default()).opcodes, 9);
}
