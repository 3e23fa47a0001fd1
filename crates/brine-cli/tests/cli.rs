//! The `brine` binary end to end: `convert`, standard streams, exit codes and error lines.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn brine(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_brine"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run brine");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample.pickle")
}

fn python(code: &str, stdin: &[u8]) -> Option<Output> {
    let mut child = Command::new("python3")
        .args(["-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    Some(child.wait_with_output().unwrap())
}

#[test]
fn convert_sample_to_every_protocol_loads_in_python_unchanged() {
    let original = std::fs::read(sample()).unwrap();
    for p in 0..=5 {
        let out = brine(
            &[
                "convert",
                sample().to_str().unwrap(),
                "-",
                "--protocol",
                &p.to_string(),
            ],
            b"",
        );
        assert!(
            out.status.success(),
            "p{p}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stderr.is_empty());
        if p >= 2 {
            assert_eq!(out.stdout[..2], [0x80, p as u8]);
        }
        // Python loads both and finds the same value (recursive dicts compare by repr).
        let code = "import pickle,sys\n\
            data=sys.stdin.buffer.read()\n\
            n=int.from_bytes(data[:4],'little')\n\
            a=pickle.loads(data[4:4+n]); b=pickle.loads(data[4+n:])\n\
            assert repr(a)==repr(b), (a, b)\n\
            assert b['self'] is b and b['twice'][0] is b['twice'][1]\n\
            print('ok')";
        let mut both = (original.len() as u32).to_le_bytes().to_vec();
        both.extend_from_slice(&original);
        both.extend_from_slice(&out.stdout);
        match python(code, &both) {
            Some(r) => assert!(
                r.status.success(),
                "p{p}: {}",
                String::from_utf8_lossy(&r.stderr)
            ),
            None => eprintln!("SKIPPED: python3 not found; p{p} output not loaded in Python"),
        }
    }
}

#[test]
fn convert_at_own_protocol_is_identical_and_stdin_works() {
    let original = std::fs::read(sample()).unwrap();
    let out = brine(&["convert", "-", "-", "--protocol", "4"], &original);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, original);
}

#[test]
fn convert_writes_files_atomically() {
    let dir = std::env::temp_dir().join(format!("brine-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dst = dir.join("out.pickle");
    std::fs::write(&dst, b"old").unwrap();
    // A failing conversion leaves the old file alone and no temporary behind.
    let out = brine(&["convert", "-", dst.to_str().unwrap()], b"\x80\x04garbage");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&dst).unwrap(), b"old");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let out = brine(
        &[
            "convert",
            sample().to_str().unwrap(),
            dst.to_str().unwrap(),
            "-p",
            "5",
        ],
        b"",
    );
    assert!(out.status.success());
    assert_eq!(std::fs::read(&dst).unwrap()[..2], [0x80, 5]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_exit_2_with_one_line() {
    for (input, needle) in [
        (&b""[..], "ran out of input"),
        (&b"\x80\x02]q\x00(K\x01"[..], "truncated"),
        (&b"\x80\x02\xff."[..], "invalid load key"),
    ] {
        let out = brine(&["convert", "-", "-"], input);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("brine: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(out.stdout.is_empty());
    }
    let out = brine(&["convert", "/nonexistent/file", "-"], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = brine(&["convert", "-", "-", "--protocol", "9"], b"");
    assert_eq!(out.status.code(), Some(2));
}

fn golden(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../brine/tests/data/golden")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn dis_matches_python_pickletools() {
    let files = [
        golden("all_kinds.p2.pickle"),
        golden("frames_multi.p4.pickle"),
        golden("py2_inst.p0.pickle"),
    ];
    let flag_sets: [&[&str]; 4] = [&[], &["-a"], &["-l", "2"], &["-a", "-l", "0"]];
    for f in &files {
        for flags in flag_sets {
            let mut args = vec!["dis"];
            args.extend_from_slice(flags);
            args.push(f);
            let ours = brine(&args, b"");
            assert!(
                ours.status.success(),
                "{f} {flags:?}: {}",
                String::from_utf8_lossy(&ours.stderr)
            );
            let mut py_args = vec!["-m", "pickletools"];
            py_args.extend_from_slice(flags);
            py_args.push(f);
            let Ok(theirs) = Command::new("python3").args(&py_args).output() else {
                eprintln!("SKIPPED: python3 not found");
                return;
            };
            assert_eq!(ours.stdout, theirs.stdout, "{f} {flags:?}");
        }
    }
    // Several files: preambles, and -m keeps the memo across them.
    let two = [
        golden("multi_stream.p2.pickle"),
        sample().to_string_lossy().into_owned(),
    ];
    let ours = brine(&["dis", "-m", &two[0], &two[1]], b"");
    if let Ok(theirs) = Command::new("python3")
        .args(["-m", "pickletools", "-m", &two[0], &two[1]])
        .output()
    {
        assert_eq!(ours.stdout, theirs.stdout);
    }
}

#[test]
fn dis_of_a_broken_pickle_prints_what_it_can_then_fails() {
    let out = brine(&["dis", "-"], b"\x80\x02]q\x00(K\x01");
    assert_eq!(out.status.code(), Some(2));
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("BININT1    1"), "{listing}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("brine: ") && err.contains("pickle exhausted before seeing STOP"),
        "{err}"
    );
}

#[test]
fn optimize_matches_python_pickletools() {
    for name in [
        "all_kinds.p2.pickle",
        "frames_multi.p4.pickle",
        "memo_300.p1.pickle",
    ] {
        let f = golden(name);
        let ours = brine(&["optimize", &f, "-"], b"");
        assert!(
            ours.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let code = "import pickletools,sys; sys.stdout.buffer.write(pickletools.optimize(open(sys.argv[1],'rb').read()))";
        let Ok(theirs) = Command::new("python3").args(["-c", code, &f]).output() else {
            eprintln!("SKIPPED: python3 not found");
            return;
        };
        assert_eq!(ours.stdout, theirs.stdout, "{name}");
    }
    let out = brine(&["optimize", "-", "-"], b"\x80\x02]q\x00(");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn show_prints_what_python_prints() {
    let out = brine(&["show", sample().to_str().unwrap()], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = "import pickle,sys; print(repr(pickle.load(open(sys.argv[1],'rb'))))";
    // Set order follows str hashes, randomized per process: with seed 0 Python iterates the
    // sample's set in the order it was pickled, which is the order brine prints.
    let Ok(py) = Command::new("python3")
        .env("PYTHONHASHSEED", "0")
        .args(["-c", code, sample().to_str().unwrap()])
        .output()
    else {
        eprintln!("SKIPPED: python3 not found");
        return;
    };
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&py.stdout)
    );
    // Paging, and a broken input.
    let out = brine(
        &["show", "-", "--width", "1"],
        b"\x80\x02]q\x00(K\x01K\x02e.",
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        "[1, ...]"
    );
    let out = brine(&["show", "-"], b"\x80\x02]q\x00(K\x01");
    assert_eq!(out.status.code(), Some(2));
}
