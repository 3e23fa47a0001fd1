//! `brine::optimize::optimize` against CPython 3.11's `pickletools.optimize`: every file in
//! tests/data/golden (all protocols, framed and unframed, > 64 KiB payloads), malformed inputs
//! (truncations, unknown opcodes, PROTO > 5, GET of an unknown index, trailing data) whose
//! error message must match, and pyperformance's bm_pickle_opt data
//! (`{i: f"ii{i:>07}" for i in range(1, 1_000_000)}`, 16 MB at protocol 4), all compared byte
//! for byte. One python3 process does each batch. Without python3 the tests print SKIPPED and
//! pass.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Reads file paths from stdin, one a line; for each writes `<tag> <len> <seconds>\n<payload>`,
/// tag `ok` with the optimized pickle or `err` with `Type: message`.
const HELPER: &str = r#"
import sys, time, pickletools
w = sys.stdout.buffer
for path in sys.stdin.read().splitlines():
    data = open(path, 'rb').read()
    t = time.perf_counter()
    try:
        out = pickletools.optimize(data)
        tag = b'ok'
    except Exception as e:
        out = (type(e).__name__ + ': ' + str(e)).encode('utf-8', 'surrogatepass')
        tag = b'err'
    dt = time.perf_counter() - t
    w.write(tag + b' %d %f\n' % (len(out), dt) + out)
w.flush()
"#;

fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .args(["-c", "import sys; assert sys.version_info >= (3, 11)"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some("python3")
    } else {
        eprintln!("SKIPPED: python3 (>= 3.11) not found");
        None
    }
}

/// CPython's result for each path: `Ok(bytes)` or `Err("Type: message")`, and its time.
fn cpython(paths: &[PathBuf]) -> Vec<(Result<Vec<u8>, String>, f64)> {
    let mut child = Command::new("python3")
        .args(["-c", HELPER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut list = String::new();
    for p in paths {
        list.push_str(p.to_str().unwrap());
        list.push('\n');
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python helper failed");
    let mut rest = &out.stdout[..];
    let mut results = Vec::new();
    while !rest.is_empty() {
        let nl = rest.iter().position(|&b| b == b'\n').unwrap();
        let head = std::str::from_utf8(&rest[..nl]).unwrap().to_owned();
        let mut f = head.split(' ');
        let (tag, len, secs) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let len: usize = len.parse().unwrap();
        let payload = rest[nl + 1..nl + 1 + len].to_vec();
        rest = &rest[nl + 1 + len..];
        let r = if tag == "ok" {
            Ok(payload)
        } else {
            Err(String::from_utf8_lossy(&payload).into_owned())
        };
        results.push((r, secs.parse().unwrap()));
    }
    assert_eq!(results.len(), paths.len());
    results
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brine-optimize-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compares brine with CPython on each file; returns (identical outputs, identical errors).
fn compare(paths: &[PathBuf]) -> (usize, usize) {
    let expected = cpython(paths);
    let (mut same, mut errors) = (0, 0);
    for (path, (want, _)) in paths.iter().zip(expected) {
        let data = std::fs::read(path).unwrap();
        let got = brine::optimize::optimize(&data);
        match (want, got) {
            (Ok(w), Ok(g)) => {
                assert!(w == g, "{}: output differs from CPython", path.display());
                same += 1;
            }
            (Err(w), Err(g)) => {
                // CPython's text after "Type: ".
                let msg = w.split_once(": ").map_or(&w[..], |(_, m)| m);
                assert_eq!(g.to_string(), msg, "{}: error differs", path.display());
                errors += 1;
            }
            (Ok(_), Err(g)) => panic!("{}: CPython succeeds, brine fails: {g}", path.display()),
            (Err(w), Ok(_)) => panic!("{}: CPython fails ({w}), brine succeeds", path.display()),
        }
    }
    (same, errors)
}

#[test]
fn every_golden_file_matches_cpython() {
    if python().is_none() {
        return;
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pickle"))
        .collect();
    paths.sort();
    assert!(paths.len() > 100);
    let (same, errors) = compare(&paths);
    eprintln!("golden: {same} identical outputs, {errors} identical errors");
}

#[test]
fn malformed_and_edge_inputs_match_cpython() {
    if python().is_none() {
        return;
    }
    let dir = scratch("edge");
    let mut cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\x80".to_vec(),
        b"\x80\x06N.".to_vec(),              // PROTO > 5
        b"\x80\x02h\x00.".to_vec(),          // BINGET of nothing
        b"]h\x00.".to_vec(),                 // BINGET, no PROTO: protocol 1
        b"(lp0\ng0\ng7\na.".to_vec(),        // GET of nothing at protocol 0
        b"(lp01\ng1\na.".to_vec(),           // PUT 01 is True == 1
        b"(lp 5\np-3\ng5\ng-3\nl.".to_vec(), // int() spacing and signs
        b"(lp5\np99999999999999999999999\ng99999999999999999999999\ng5\nl.".to_vec(),
        b"(lpx\n.".to_vec(), // bad PUT line
        b"\x80\x04]\x94\x94h\x01h\x01h\x00.".to_vec(),
        b"\x80\x04]r\x05\x00\x00\x00\x94h\x01h\x05.".to_vec(), // MEMOIZE after LONG_BINPUT 5
        b"\x80\x04]q\x01\x94h\x01.".to_vec(),                  // MEMOIZE reuses index 1
        b"\x80\x02]q\x00q\x00h\x00h\x00.".to_vec(),            // the same index stored twice
        b"\x80\x02N\x80\x03.".to_vec(),                        // a second PROTO is copied
        b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.\x80\x04N.".to_vec(), // trailing pickle
        b"N\xff.".to_vec(),                                    // unknown opcode
        b"\x8c\x02\xff\xfe.".to_vec(),                         // bad utf-8
        b"X\x05\x00\x00\x00ab".to_vec(),                       // truncated
    ];
    // Many memo entries (LONG_BINPUT / LONG_BINGET after renumbering), and truncations of a
    // framed pickle.
    let mut big = b"\x80\x03(".to_vec();
    for i in 0..700u32 {
        big.extend_from_slice(b"N");
        big.push(b'r');
        big.extend_from_slice(&(i * 3).to_le_bytes());
        if i % 2 == 0 {
            big.push(b'j');
            big.extend_from_slice(&(i * 3).to_le_bytes());
        }
    }
    big.extend_from_slice(b"l.");
    cases.push(big);
    let framed = std::fs::read(golden_dir().join("all_kinds.p4.pickle")).unwrap();
    for cut in (0..framed.len()).step_by(7) {
        cases.push(framed[..cut].to_vec());
    }
    let mut paths = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let p = dir.join(format!("{i}.pickle"));
        std::fs::write(&p, c).unwrap();
        paths.push(p);
    }
    let (same, errors) = compare(&paths);
    eprintln!("edge cases: {same} identical outputs, {errors} identical errors");
    assert!(same >= 10 && errors >= 5);
    let _ = std::fs::remove_dir_all(dir);
}

/// Frames filled to the byte around 64 KiB, opcodes just under, at and over the frame target,
/// and kept memo entries between them: the re-framing of runs of copied opcodes.
#[test]
fn frame_edges_match_cpython() {
    if python().is_none() {
        return;
    }
    let dir = scratch("frames");
    let status = Command::new("python3")
        .args([
            "-c",
            "import pickle, random, sys\n\
             rnd = random.Random(7)\n\
             for k in range(12):\n\
             \x20   vals, shared = [], ['s%d' % k]\n\
             \x20   for i in range(rnd.randrange(20, 120)):\n\
             \x20       r = rnd.random()\n\
             \x20       if r < 0.3:\n\
             \x20           n = rnd.choice([65520, 65527, 65535, 65536, 65537, 70000, 1, 9])\n\
             \x20           vals.append(b'x' * (n + rnd.randrange(-3, 4)))\n\
             \x20       elif r < 0.5:\n\
             \x20           vals.append(rnd.choice(shared))\n\
             \x20       elif r < 0.6:\n\
             \x20           shared.append([i] * rnd.randrange(1, 5)); vals.append(shared[-1])\n\
             \x20       else:\n\
             \x20           vals.append('y' * rnd.randrange(0, 3000))\n\
             \x20   open('%s/%d.pickle' % (sys.argv[1], k), 'wb').write(pickle.dumps(vals, 4 + k % 2))",
            dir.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let paths: Vec<PathBuf> = (0..12).map(|k| dir.join(format!("{k}.pickle"))).collect();
    let (same, errors) = compare(&paths);
    eprintln!("frame edges: {same} identical outputs, {errors} identical errors");
    assert_eq!((same, errors), (12, 0));
    let _ = std::fs::remove_dir_all(dir);
}

/// pyperformance bm_pickle_opt: `pickletools.optimize(pickle.dumps(DATA, 4))`.
#[test]
fn bm_pickle_opt_16mb() {
    if python().is_none() {
        return;
    }
    let n = if cfg!(debug_assertions) {
        200_000
    } else {
        1_000_000
    };
    let dir = scratch("bm");
    let path = dir.join("bm.pickle");
    let status = Command::new("python3")
        .args([
            "-c",
            "import pickle, sys\n\
             n = int(sys.argv[2])\n\
             open(sys.argv[1], 'wb').write(pickle.dumps({i: f'ii{i:>07}' for i in range(1, n)}, 4))",
            path.to_str().unwrap(),
            &n.to_string(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let data = std::fs::read(&path).unwrap();
    let expected = cpython(std::slice::from_ref(&path));
    let (want, py_secs) = &expected[0];
    let t = Instant::now();
    let got = brine::optimize::optimize(&data).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(
        want.as_ref().unwrap() == &got,
        "bm_pickle_opt output differs"
    );
    eprintln!(
        "bm_pickle_opt: {} -> {} bytes; brine {:.3} s, CPython pickletools.optimize {:.3} s",
        data.len(),
        got.len(),
        secs,
        py_secs
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Mutants of golden files (byte flips, truncations, spliced memo opcodes): brine never panics,
/// and outputs and errors still match CPython.
#[test]
fn mutants_match_cpython() {
    if python().is_none() {
        return;
    }
    let dir = scratch("mutants");
    let names = [
        "all_kinds.p0.pickle",
        "all_kinds.p1.pickle",
        "all_kinds.p2.pickle",
        "all_kinds.p4.pickle",
        "all_kinds.p5.pickle",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n.max(1)
    };
    let memo_ops = [b'p', b'q', b'r', b'g', b'h', b'j', 0x94, 0x95, 0x80];
    let mut paths = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let orig = std::fs::read(golden_dir().join(name)).unwrap();
        for j in 0..300 {
            let mut m = orig.clone();
            for _ in 0..1 + rand(3) {
                let at = rand(m.len());
                match rand(4) {
                    0 => m[at] = rand(256) as u8,
                    1 => m[at] = memo_ops[rand(memo_ops.len())],
                    2 => m.insert(at, memo_ops[rand(memo_ops.len())]),
                    _ => m[at] = m[at].wrapping_add(1),
                }
            }
            let p = dir.join(format!("{k}-{j}.pickle"));
            std::fs::write(&p, &m).unwrap();
            paths.push(p);
        }
    }
    let (same, errors) = compare(&paths);
    eprintln!("mutants: {same} identical outputs, {errors} identical errors");
    let _ = std::fs::remove_dir_all(dir);
}
