//! `brine convert` to and from JSON, `--all` streams, standard streams, exit codes, the help
//! texts, and names from hostile pickles escaped before they reach a terminal.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn brine(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_brine"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run brine");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> &Output {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn golden(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../brine/tests/data/golden")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn typed_json_through_standard_streams_gives_the_original_bytes() {
    for name in ["all_kinds", "obj_dict_subclass", "frames_multi"] {
        for p in 0..=5 {
            let file = golden(&format!("{name}.p{p}.pickle"));
            let original = std::fs::read(&file).unwrap();
            let json = brine(&["convert", &file, "-", "--to", "json"], b"");
            ok(&json);
            assert!(json.stdout.starts_with(b"{") || json.stdout.starts_with(b"["));
            // Input detected as JSON by its content.
            let back = brine(
                &["convert", "-", "-", "--protocol", &p.to_string()],
                &json.stdout,
            );
            ok(&back);
            assert!(back.stdout == original, "{name} p{p} differs");
        }
    }
}

#[test]
fn output_extension_picks_the_format_and_compression_is_looked_through() {
    let dir = std::env::temp_dir().join(format!("brine-json-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = golden("all_kinds.p2.pickle");
    let json = dir.join("x.json");
    let gz = dir.join("x.json.gz");
    let pkl = dir.join("x.pkl");
    ok(&brine(
        &["convert", &src, json.to_str().unwrap(), "--pretty"],
        b"",
    ));
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(text.starts_with("[\n  null,\n"), "{text}");
    ok(&brine(&["convert", &src, gz.to_str().unwrap()], b""));
    assert_eq!(std::fs::read(&gz).unwrap()[..2], [0x1f, 0x8b]);
    ok(&brine(
        &[
            "convert",
            gz.to_str().unwrap(),
            pkl.to_str().unwrap(),
            "-p",
            "2",
        ],
        b"",
    ));
    assert_eq!(std::fs::read(&pkl).unwrap(), std::fs::read(&src).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plain_json_reports_its_losses_and_converts_back_best_effort() {
    let src = golden("all_kinds.p4.pickle");
    let out = brine(&["convert", &src, "-", "--to", "json-plain"], b"");
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.is_array());
    let err = stderr(&out);
    assert!(err.starts_with("brine: plain JSON lost:\n"), "{err}");
    assert!(
        err.contains("  5 tuples written as arrays [tuple]\n"),
        "{err}"
    );
    assert!(
        err.contains("  1 bytes written as base64 strings [bytes]\n"),
        "{err}"
    );
    // Back to a pickle: lists and strs where tuples and bytes were.
    let back = brine(&["convert", "-", "-"], &out.stdout);
    ok(&back);
    let shown = ok(&brine(&["show", "-"], &back.stdout)).stdout.clone();
    let shown = String::from_utf8(shown).unwrap();
    assert!(
        shown.starts_with("[None, True, False, 0, -1, 300,"),
        "{shown}"
    );
    assert!(shown.contains("'Ynk='"), "{shown}");
    // Nothing lost, nothing reported.
    let out = brine(
        &["convert", "-", "-", "--to", "json-plain"],
        b"\x80\x04K\x01.",
    );
    assert_eq!(ok(&out).stdout, b"1\n");
    assert!(out.stderr.is_empty());
}

#[test]
fn all_writes_streams_and_streams_convert_back() {
    let one = brine(
        &["convert", "-", "-", "--to", "json", "--all"],
        b"\x80\x04K\x01.",
    );
    assert_eq!(
        ok(&one).stdout,
        b"{\"$pickles\":[1],\"shared_memo\":false}\n"
    );
    let plain = brine(
        &["convert", "-", "-", "--to", "json-plain", "--all"],
        b"\x80\x04K\x01.",
    );
    assert_eq!(ok(&plain).stdout, b"[1]\n");
    for (name, shared) in [("many_pickles", false), ("multi_stream", true)] {
        for p in 0..=5 {
            let file = golden(&format!("{name}.p{p}.pickle"));
            let original = std::fs::read(&file).unwrap();
            let mut args = vec!["convert", &file, "-", "--to", "json"];
            if shared {
                args.push("--shared-memo");
            }
            let json = brine(&args, b"");
            ok(&json);
            assert!(json.stdout.starts_with(b"{\"$pickles\":["));
            let back = brine(&["convert", "-", "-", "-p", &p.to_string()], &json.stdout);
            assert!(ok(&back).stdout == original, "{name} p{p} differs");
            if shared {
                continue;
            }
            // show --all reads the JSON stream too, one line per pickle.
            let shown = brine(&["show", "--all", "-"], &json.stdout);
            let pickle_shown = brine(&["show", "--all", &file], b"");
            assert_eq!(ok(&shown).stdout, ok(&pickle_shown).stdout);
        }
    }
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let cases: &[(&[&str], &[u8], &str)] = &[
        (
            &["convert", "-", "-"],
            b"{\"$tuple\": [1,]}",
            "brine: cannot read JSON <stdin>: expected a json value at offset 14\n",
        ),
        (
            &["convert", "-", "-"],
            b"[{\"$ref\": 7}]",
            "brine: cannot read JSON <stdin>: `$ref` 7 names no `$id` at offset 10\n",
        ),
        (
            &["convert", "-", "-"],
            b"{\"$pickles\": []}",
            "brine: JSON <stdin> holds no pickles\n",
        ),
        (
            &["show", "-"],
            b"  [1, 2",
            "brine: cannot read JSON <stdin>: json text ended early at offset 7\n",
        ),
    ];
    for (args, input, want) in cases {
        let out = brine(args, input);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out), *want);
        assert!(out.stdout.is_empty());
    }
    let out = brine(&["convert", "-", "-", "--to", "yaml"], b"");
    assert_eq!(out.status.code(), Some(2));
    // 100 000 nested lists: past the default depth limit, a clean error...
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let out = brine(&["convert", "-", "-"], deep.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("limit exceeded: max_depth"),
        "{}",
        stderr(&out)
    );
    // ...and with --trusted a pickle that converts back to the same JSON.
    let out = brine(&["convert", "-", "-", "--trusted"], deep.as_bytes());
    let again = brine(
        &["convert", "-", "-", "--to", "json", "--trusted"],
        &ok(&out).stdout,
    );
    assert_eq!(ok(&again).stdout, format!("{deep}\n").into_bytes());
}

/// `os\x1b[31m\u202e.system` at protocol 4: a name that recolours a terminal and reverses text.
fn evil() -> Vec<u8> {
    let module = "os\u{1b}[31m\u{202e}".as_bytes();
    let mut p = vec![0x80, 4, 0x8c, module.len() as u8];
    p.extend_from_slice(module);
    p.extend_from_slice(b"\x94\x8c\x06system\x94\x93\x94.");
    p
}

fn assert_clean(text: &str) {
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
}

#[test]
fn names_from_the_file_are_escaped() {
    let out = brine(&["show", "-"], &evil());
    let shown = String::from_utf8(ok(&out).stdout.clone()).unwrap();
    assert_eq!(shown, "os\\x1b[31m\\u202e.system\n");
    // Error messages quote the name: escaped as well.
    let out = brine(&["convert", "-", "-", "--protocol", "2"], &evil());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_clean(&err);
    assert!(err.contains("'os\\x1b[31m\\u202e.system'"), "{err}");
    // JSON escapes them too, and reads them back exactly.
    let json = brine(&["convert", "-", "-", "--to", "json"], &evil());
    let text = String::from_utf8(ok(&json).stdout.clone()).unwrap();
    assert_clean(&text);
    assert!(text.contains(r#""os\u001b[31m\u202e""#), "{text}");
    let back = brine(&["convert", "-", "-"], text.as_bytes());
    let framed = brine(&["convert", "-", "-"], &evil());
    assert_eq!(ok(&back).stdout, ok(&framed).stdout);
}

#[test]
fn show_colours_only_when_asked() {
    let input =
        b"\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01K\x02\x86\x94s.";
    let plain = brine(&["show", "-"], input);
    assert_eq!(ok(&plain).stdout, b"{'a': (1, 2)}\n");
    let coloured = brine(&["show", "--color", "always", "-"], input);
    assert_eq!(
        ok(&coloured).stdout,
        b"{\x1b[32m'a'\x1b[0m: (\x1b[36m1\x1b[0m, \x1b[36m2\x1b[0m)}\n"
    );
    let never = brine(&["show", "--color", "never", "-"], input);
    assert_eq!(ok(&never).stdout, plain.stdout);
}

#[test]
fn help_texts_show_examples_and_exit_codes() {
    let top = brine(&["--help"], b"");
    let top = String::from_utf8(ok(&top).stdout.clone()).unwrap();
    assert!(top.contains("Exit codes: 0 success, 1 findings (scan), 2 error."));
    assert!(top.contains("brine convert model.json model.pkl"));
    for cmd in ["convert", "dis", "optimize", "show"] {
        let out = brine(&[cmd, "--help"], b"");
        let text = String::from_utf8(ok(&out).stdout.clone()).unwrap();
        assert!(text.contains("Examples:"), "{cmd}");
        assert!(text.contains("Exit codes: 0 success, 2 error."), "{cmd}");
    }
    let convert = String::from_utf8(brine(&["convert", "--help"], b"").stdout).unwrap();
    assert!(convert.contains("json-plain"));
}
