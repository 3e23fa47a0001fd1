//! `brine::dis` against CPython 3.11's `pickletools`: every golden file under each CLI flag
//! combination, several pickles with a shared memo, and malformed input (truncations, unknown
//! opcodes, stack underflow, memo misses, bad arguments, huge declared lengths), comparing the
//! printed bytes and the exception message. Needs `python3`; without it the tests print
//! SKIPPED and pass.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use brine::dis::{dis, DisOptions, Disassembler};

/// Runs `pickletools.dis` in one python3 process per batch, exactly as `python -m pickletools`
/// does for one file (`dis(f, out, None, indentlevel, annotate)`), or for `all` cases calls it
/// again on the same file with one memo until the file is used up.
///
/// Input lines: `mode<TAB>annotate<TAB>indent<TAB>path`. Output per case:
/// `<len out> <len err>\n<out><err>`, err being `Type: message` or empty.
const HELPER: &str = r#"
import io, sys, pickletools
w = sys.stdout.buffer
for line in sys.stdin.read().splitlines():
    mode, annotate, indent, path = line.split('\t', 3)
    out = io.StringIO()
    err = ''
    try:
        with open(path, 'rb') as f:
            if mode == 'one':
                pickletools.dis(f, out, None, int(indent), int(annotate))
            else:
                memo = {}
                size = len(f.read()); f.seek(0)
                while f.tell() < size:
                    pickletools.dis(f, out, memo, int(indent), int(annotate))
    except Exception as e:
        err = '%s: %s' % (type(e).__name__, e)
    o = out.getvalue().encode('utf-8', 'surrogatepass')
    e = err.encode('utf-8', 'surrogatepass')
    w.write(b'%d %d\n' % (len(o), len(e)) + o + e)
w.flush()
"#;

fn python_ok() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pickletools"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: python3 with pickletools is not available");
    }
    ok
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

fn golden_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[derive(Clone)]
struct Case {
    all: bool,
    opts: DisOptions,
    path: PathBuf,
}

/// What pickletools printed and raised (`Type: message`, empty when it did not raise).
struct Outcome {
    out: String,
    err: String,
}

fn python_batch(cases: &[Case]) -> Vec<Outcome> {
    let mut child = Command::new("python3")
        .args(["-c", HELPER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let mut input = String::new();
    for c in cases {
        input.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            if c.all { "all" } else { "one" },
            c.opts.annotate,
            c.opts.indent,
            c.path.display()
        ));
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "python3 helper failed");
    let mut rest = &output.stdout[..];
    let mut v = Vec::new();
    for _ in cases {
        let nl = rest.iter().position(|&b| b == b'\n').unwrap();
        let head = std::str::from_utf8(&rest[..nl]).unwrap();
        let (a, b) = head.split_once(' ').unwrap();
        let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
        rest = &rest[nl + 1..];
        let out = String::from_utf8(rest[..a].to_vec()).unwrap();
        let err = String::from_utf8(rest[a..a + b].to_vec()).unwrap();
        rest = &rest[a + b..];
        v.push(Outcome { out, err });
    }
    v
}

fn brine_run(c: &Case) -> (String, Result<(), brine::Error>) {
    let data = std::fs::read(&c.path).unwrap();
    let mut out = Vec::new();
    let r = if c.all {
        Disassembler::new(DisOptions {
            memo: true,
            ..c.opts.clone()
        })
        .dis_all(&data, &mut out)
    } else {
        dis(&data, &mut out, &c.opts).map(|_| ())
    };
    (String::from_utf8(out).unwrap(), r)
}

/// Compares brine with pickletools on every case; returns the number of cases that failed
/// in pickletools (so callers can check their malformed inputs really are malformed).
fn compare(cases: &[Case]) -> usize {
    let expected = python_batch(cases);
    let mut failures = Vec::new();
    let mut errors = 0;
    for (c, py) in cases.iter().zip(&expected) {
        let (out, r) = brine_run(c);
        let what = format!("{} (all={}, {:?})", c.path.display(), c.all, c.opts);
        if out != py.out {
            failures.push(format!(
                "{what}: output differs\n--- python\n{}\n--- brine\n{}",
                py.out, out
            ));
            continue;
        }
        if !py.err.is_empty() {
            errors += 1;
        }
        match (&r, py.err.split_once(": ")) {
            (Ok(()), None) => {}
            // A huge declared length: CPython's `f.read(n)` tries to allocate n bytes first.
            (Err(_), Some(("MemoryError", _))) => {}
            (Err(e), Some((_, msg))) if e.to_string() == msg => {}
            _ => failures.push(format!(
                "{what}: error differs: python {:?}, brine {:?}",
                py.err,
                r.as_ref().err().map(|e| e.to_string())
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    errors
}

/// The CLI's flag combinations: (none), -a, -m, -l 2, -a -l 0.
fn flag_sets() -> Vec<(&'static str, DisOptions)> {
    let d = DisOptions::default();
    vec![
        ("", d.clone()),
        (
            "-a",
            DisOptions {
                annotate: 30,
                ..d.clone()
            },
        ),
        (
            "-m",
            DisOptions {
                memo: true,
                ..d.clone()
            },
        ),
        (
            "-l 2",
            DisOptions {
                indent: 2,
                ..d.clone()
            },
        ),
        (
            "-a -l 0",
            DisOptions {
                annotate: 30,
                indent: 0,
                ..d
            },
        ),
    ]
}

#[test]
fn golden_files_match_pickletools() {
    if !python_ok() {
        return;
    }
    let mut cases = Vec::new();
    for path in golden_files() {
        for (_, opts) in flag_sets() {
            cases.push(Case {
                all: false,
                opts,
                path: path.clone(),
            });
        }
    }
    let errors = compare(&cases);
    // py2_string_quotes (a non-ASCII STRING) and manifest.json (not a pickle) at least.
    assert!(
        errors >= 10,
        "expected some pickletools failures, got {errors}"
    );
}

#[test]
fn several_pickles_with_one_memo_match_pickletools() {
    if !python_ok() {
        return;
    }
    let mut cases = Vec::new();
    for path in golden_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("multi_stream") || name.starts_with("many_pickles") {
            for (_, opts) in flag_sets() {
                cases.push(Case {
                    all: true,
                    opts,
                    path: path.clone(),
                });
            }
        }
    }
    assert!(cases.len() >= 60);
    compare(&cases);
}

/// The real CLI, spawned per file: stdout byte for byte, and the last stderr line.
#[test]
fn cli_matches_on_a_sample() {
    if !python_ok() {
        return;
    }
    let files = golden_files();
    let sample: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("all_kinds")
                || n.starts_with("py2_string_quotes")
                || n.starts_with("multi_stream.p0")
                || n.starts_with("std_ordereddict.p2")
                || n.starts_with("nested_mixed.p4")
        })
        .collect();
    assert!(sample.len() >= 9);
    for path in sample {
        for (flags, opts) in flag_sets() {
            let out = Command::new("python3")
                .args(["-m", "pickletools"])
                .args(flags.split_whitespace())
                .arg(path)
                .env("PYTHONIOENCODING", "utf-8")
                .output()
                .unwrap();
            let data = std::fs::read(path).unwrap();
            let mut mine = Vec::new();
            let r = dis(&data, &mut mine, &opts);
            assert_eq!(
                String::from_utf8_lossy(&mine),
                String::from_utf8_lossy(&out.stdout),
                "{} {flags}",
                path.display()
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("");
            match r {
                Ok(_) => assert!(out.status.success(), "{}: {stderr}", path.display()),
                Err(e) => assert_eq!(
                    last.split_once(": ").map(|x| x.1),
                    Some(e.to_string().as_str())
                ),
            }
        }
    }
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("brine-dis-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, n: usize, data: &[u8]) -> PathBuf {
        let p = self.0.join(format!("{n}.pickle"));
        std::fs::write(&p, data).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn malformed_cases(scratch: &Scratch, inputs: &[Vec<u8>]) -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, data) in inputs.iter().enumerate() {
        let path = scratch.file(i, data);
        for opts in [
            DisOptions::default(),
            DisOptions {
                annotate: 30,
                indent: 2,
                memo: false,
            },
        ] {
            cases.push(Case {
                all: false,
                opts,
                path: path.clone(),
            });
        }
    }
    cases
}

#[test]
fn truncated_pickles_match_pickletools() {
    if !python_ok() {
        return;
    }
    let mut inputs = Vec::new();
    for path in golden_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let wanted = name.starts_with("all_kinds")
            || name.starts_with("py2_")
            || name.starts_with("std_")
            || name.starts_with("str_edges")
            || name.starts_with("int_edges")
            || name.starts_with("float_edges");
        if !wanted {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        // Every prefix of small pickles, a spread of prefixes of larger ones.
        let step = (data.len() / 64).max(1);
        for n in (0..data.len()).step_by(step) {
            inputs.push(data[..n].to_vec());
        }
    }
    let scratch = Scratch::new("trunc");
    let cases = malformed_cases(&scratch, &inputs);
    let errors = compare(&cases);
    assert_eq!(errors, cases.len(), "every proper prefix must fail");
}

#[test]
fn malformed_pickles_match_pickletools() {
    if !python_ok() {
        return;
    }
    let mut inputs: Vec<Vec<u8>> = vec![
        // unknown opcodes
        b"\xff".to_vec(),
        b"\x80\x02N\xff.".to_vec(),
        b"(N\x00".to_vec(),
        b"".to_vec(),
        // stack underflow, marks
        b"a.".to_vec(),
        b"N\x86.".to_vec(),
        b"Nt.".to_vec(),
        b"(\x85t.".to_vec(),
        b"(0N.".to_vec(),
        b"((N0t0.".to_vec(),
        b"(2t.".to_vec(),
        b"NN.".to_vec(),
        b"(N.".to_vec(),
        b"(Nl(N}\x94.".to_vec(),
        // memo
        b"h\x05.".to_vec(),
        b"Nq\x00q\x00.".to_vec(),
        b"q\x00.".to_vec(),
        b"(q\x00.".to_vec(),
        b"\x80\x04Np1\nN\x94.".to_vec(),
        b"Np01\nh\x01I 1_0 \nI00\n0a.".to_vec(),
        b"Np99999999999999999999999\ng99999999999999999999999\n0.".to_vec(),
        b"Np-1\ng-1\n0.".to_vec(),
        b"Nr\xff\xff\xff\xffj\xff\xff\xff\xff0.".to_vec(),
        b"g7\n.".to_vec(),
        b"\x80\x04N\x94\x94.".to_vec(),
        // text arguments
        b"I12x\n.".to_vec(),
        b"I1_000\n.".to_vec(),
        b"I 0012 \n.".to_vec(),
        b"I-0\n.".to_vec(),
        b"I\n.".to_vec(),
        b"I1\x002\n.".to_vec(),
        b"L12L\n.".to_vec(),
        b"L12LL\n.".to_vec(),
        b"L-99999999999999999999999999\n.".to_vec(),
        b"F1e400\n.".to_vec(),
        b"F-inf\n.".to_vec(),
        b"Fnan\n.".to_vec(),
        b"F1_0.5\n.".to_vec(),
        b"Fx\n.".to_vec(),
        b"F 2.5 \n.".to_vec(),
        b"S'abc'\n.".to_vec(),
        b"S\"a'b\"\n.".to_vec(),
        b"S'\n.".to_vec(),
        b"S''\n.".to_vec(),
        b"Sabc\n.".to_vec(),
        b"S'abc\n.".to_vec(),
        b"S\"abc'\n.".to_vec(),
        b"S'a\\x4'\n.".to_vec(),
        b"S'a\\'\n.".to_vec(),
        b"S'\\q\\n\\x41\\101'\n.".to_vec(),
        b"S'a\xe9'\n.".to_vec(),
        b"S'\\xe9'\n.".to_vec(),
        b"Vabc\\u00e9\\U0001F600\xe9\n.".to_vec(),
        b"V\\ud800\n.".to_vec(),
        b"V\\u12\n.".to_vec(),
        b"V\\U00110000\n.".to_vec(),
        b"c\\x41b\nc d\n.".to_vec(),
        b"cos\nsys\xe9\n.".to_vec(),
        b"cos\n.".to_vec(),
        b"Pid\\n\n.".to_vec(),
        b"(i__main__\nC\n.".to_vec(),
        b"S'abc'".to_vec(),
        // counted arguments
        b"X\x02\x00\x00\x00\xff\xfe.".to_vec(),
        b"X\x03\x00\x00\x00\xed\xa0\x80.".to_vec(),
        b"\x8c\x02\xc3(.".to_vec(),
        b"\x8c\x01\xe2.".to_vec(),
        b"U\x03a\xe9'.".to_vec(),
        b"T\xff\xff\xff\xff.".to_vec(),
        b"T\x05\x00\x00\x00abc".to_vec(),
        b"B\x05\x00\x00\x00abc".to_vec(),
        b"C\x05abc".to_vec(),
        b"\x8a\x09\x01\x02".to_vec(),
        b"\x8b\xff\xff\xff\xff.".to_vec(),
        b"\x8b\x05\x00\x00\x00\x01".to_vec(),
        b"\x8a\x01\x80.".to_vec(),
        b"\x8a\x00.".to_vec(),
        b"\x95\xff\xff\xff\xff\xff\xff\xff\xffN.".to_vec(),
        b"\x8e\xff\xff\xff\xff\xff\xff\xff\xffN.".to_vec(),
        b"\x96\x00\x00\x00\x00\x00\x00\x00\x80N.".to_vec(),
        b"\x8d\x00\x00\x00\x00\x00\x01\x00\x00N.".to_vec(),
        b"\x80\x05\x96\x03\x00\x00\x00\x00\x00\x00\x00a\"c\x97\x98.".to_vec(),
        b"\x80\x06.".to_vec(),
        b"J\xff\xff\xff\xffM\xff\xffK\x01\x86\x86.".to_vec(),
        b"G\x7f\xf0\x00\x00\x00\x00\x00\x00.".to_vec(),
        b"G\x00\x00".to_vec(),
        b"M\x01".to_vec(),
        b"\x82\x01\x83\x01\x00\x84\x01\x00\x00\x00\x8f\x94\x91\x8f(\x90(\x81\x92.".to_vec(),
    ];
    // Integers near and over CPython's 4300-digit str limit.
    inputs.push([b"I".as_slice(), &[b'7'; 4300], b"\n."].concat());
    inputs.push([b"I".as_slice(), &[b'7'; 4301], b"x\n."].concat());
    inputs.push([b"L-".as_slice(), &[b'9'; 4301], b"L\n."].concat());
    for n in [1786usize, 1787, 1790, 2000] {
        let mut p = b"\x8b".to_vec();
        p.extend_from_slice(&(n as u32).to_le_bytes());
        p.extend(std::iter::repeat_n(0x7f, n));
        p.push(b'.');
        inputs.push(p.clone());
        *p.last_mut().unwrap() = b'N';
        p[5] = 0x80;
        inputs.push(p);
    }
    // Deep marks, to check nothing recurses.
    inputs.push([vec![b'('; 1500], vec![b'0'; 1500], vec![b'N', b'.']].concat());
    let scratch = Scratch::new("bad");
    let cases = malformed_cases(&scratch, &inputs);
    let errors = compare(&cases);
    assert!(errors >= inputs.len(), "{errors}");
}

/// Without python3: fixed expectations, including the text printed before an error.
#[test]
fn fixed_expectations() {
    let run = |p: &[u8], opts: &DisOptions| {
        let mut out = Vec::new();
        let r = dis(p, &mut out, opts).map_err(|e| e.to_string());
        (String::from_utf8(out).unwrap(), r)
    };
    let a = DisOptions {
        annotate: 30,
        ..DisOptions::default()
    };
    let (out, r) = run(b"\x80\x02}q\x00(X\x01\x00\x00\x00aK\x01u.", &a);
    assert_eq!(r, Ok(16));
    assert_eq!(
        out,
        "    0: \\x80 PROTO      2              Protocol version indicator.\n\
         \x20   2: }    EMPTY_DICT                Push an empty dict.\n\
         \x20   3: q    BINPUT     0              Store the stack top into the memo.  The stack is not popped.\n\
         \x20   5: (    MARK                      Push markobject onto the stack.\n\
         \x20   6: X        BINUNICODE 'a'        Push a Python Unicode string object.\n\
         \x20  12: K        BININT1    1          Push a one-byte unsigned integer.\n\
         \x20  14: u        SETITEMS   (MARK at 5) Add an arbitrary number of key+value pairs to an existing dict.\n\
         \x20  15: .    STOP                       Stop the unpickling machine.\n\
         highest protocol among opcodes = 2\n"
    );
    let d = DisOptions::default();
    assert_eq!(
        run(b"N\x86.", &d),
        (
            "    0: N    NONE\n    1: \\x86 TUPLE2\n".to_owned(),
            Err("tries to pop 2 items from stack with only 1 items".to_owned())
        )
    );
    assert_eq!(run(b"Nt", &d).1, Err("no MARK exists on stack".to_owned()));
    assert_eq!(
        run(b"NN.", &d).1,
        Err("stack not empty after STOP: [None]".to_owned())
    );
    assert_eq!(
        run(b"N\xff", &d).1,
        Err("at position 1, opcode b'\\xff' unknown".to_owned())
    );
    assert_eq!(
        run(b"N", &d).1,
        Err("pickle exhausted before seeing STOP".to_owned())
    );
    // A declared length of 2^62 is not allocated.
    let mut p = b"\x8e".to_vec();
    p.extend_from_slice(&(1u64 << 62).to_le_bytes());
    assert_eq!(
        run(&p, &d).1,
        Err("expected 4611686018427387904 bytes in a bytes8, but only 0 remain".to_owned())
    );
}

/// Several pickles in one buffer, memo kept: offsets continue, GET finds the first's PUT.
#[test]
fn disassembler_keeps_memo_across_pickles() {
    let data = b"Np0\n.g0\n.";
    let mut out = Vec::new();
    let mut d = Disassembler::new(DisOptions {
        memo: true,
        ..DisOptions::default()
    });
    d.dis_all(data, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "    0: N    NONE\n    1: p    PUT        0\n    4: .    STOP\n\
         highest protocol among opcodes = 0\n\
         \x20   5: g    GET        0\n    8: .    STOP\nhighest protocol among opcodes = 0\n"
    );
    let mut d = Disassembler::new(DisOptions::default());
    let e = d.dis_all(data, &mut Vec::new()).unwrap_err();
    assert_eq!(e.to_string(), "memo key 0 has never been stored into");
}

/// `python3 -m pickletools [-m] A B`: one preamble and one pickle per file, the memo shared
/// with `-m` (so the second file's `BINPUT 0` collides with the first's).
#[test]
fn cli_several_files_with_and_without_memo() {
    if !python_ok() {
        return;
    }
    let dir = golden_dir();
    let files = [
        dir.join("shared_list.p2.pickle"),
        dir.join("scalar_str.p2.pickle"),
    ];
    for memo in [false, true] {
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "pickletools"]);
        if memo {
            cmd.arg("-m");
        }
        let out = cmd.args(&files).output().unwrap();
        let mut mine = Vec::new();
        let mut d = Disassembler::new(DisOptions {
            memo,
            ..DisOptions::default()
        });
        let mut result = Ok(0);
        for f in &files {
            writeln!(mine, "==> {} <==", f.display()).unwrap();
            result = d.dis_at(&std::fs::read(f).unwrap(), 0, &mut mine);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&mine),
            String::from_utf8_lossy(&out.stdout)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        match result {
            Ok(_) => assert!(!memo && out.status.success(), "{stderr}"),
            Err(e) => {
                assert!(memo);
                assert_eq!(
                    stderr.lines().last(),
                    Some(format!("ValueError: {e}").as_str())
                );
            }
        }
    }
}
