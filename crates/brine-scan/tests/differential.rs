//! Differential test of the symbolic machine against CPython's C unpickler and pickle.py: seeded random
//! pickles are loaded by a `pickle.Unpickler` whose `find_class` records each request and
//! returns a harmless stand-in. The globals the scanner reports must start with exactly the
//! ones CPython asks for, in the same order (the scanner may see more after a point where
//! CPython raises), and must be equal when CPython loads the whole stream.

use std::io::Write;
use std::process::{Command, Stdio};

use brine_scan::{scan_bytes, Options};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NAMES: [&str; 7] = ["m0", "m1", "pkg.sub", "f0", "f1", "A.b", "C"];

fn text(out: &mut Vec<u8>, r: &mut Rng) {
    let s = NAMES[r.below(NAMES.len() as u64) as usize];
    match r.below(3) {
        0 => {
            out.push(0x8c);
            out.push(s.len() as u8);
            out.extend_from_slice(s.as_bytes());
        }
        1 => {
            out.push(b'X');
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        _ => {
            out.extend_from_slice(format!("S'{s}'\n").as_bytes());
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum K {
    S,
    I,
    G,
    O,
    T,
    L,
    D,
    M,
}

/// A random stream that tracks the stack it builds, so most streams load fully; a few raw
/// opcodes stress the edges.
fn gen(r: &mut Rng) -> Vec<u8> {
    let mut out = vec![0x80, 4];
    let mut st: Vec<K> = Vec::new();
    let mut memo: Vec<(u8, K)> = Vec::new();
    let n = 3 + r.below(40);
    let top = |st: &Vec<K>, i: usize| st.len().checked_sub(i + 1).map(|j| st[j]);
    for _ in 0..n {
        if r.below(40) == 0 {
            out.push(
                [b'R', b't', b'a', b's', b'b', 0x93, b'0', b'h', 0x81, b'e'][r.below(10) as usize],
            );
            if out.last() == Some(&b'h') {
                out.push(r.below(8) as u8);
            }
            continue;
        }
        match r.below(20) {
            0 | 1 => {
                text(&mut out, r);
                st.push(K::S);
            }
            2 => {
                out.push(b'K');
                out.push(r.below(200) as u8);
                st.push(K::I);
            }
            3 => {
                let m = NAMES[r.below(3) as usize];
                let f = NAMES[3 + r.below(4) as usize];
                out.extend_from_slice(format!("c{m}\n{f}\n").as_bytes());
                st.push(K::G);
            }
            4 if top(&st, 0) == Some(K::S) && top(&st, 1) == Some(K::S) => {
                out.push(0x93);
                st.truncate(st.len() - 2);
                st.push(K::G);
            }
            5 => {
                let (b, k) = [(b')', K::T), (b']', K::L), (b'}', K::D)][r.below(3) as usize];
                out.push(b);
                st.push(k);
            }
            6 => {
                out.push(b'(');
                st.push(K::M);
            }
            7 if st.contains(&K::M) => {
                let m = st.iter().rposition(|k| *k == K::M).unwrap();
                let items = st.len() - m - 1;
                if r.below(3) == 0 && items >= 1 && st[m + 1] == K::G {
                    out.push(b'o');
                    st.truncate(m);
                    st.push(K::O);
                } else {
                    out.push(b't');
                    st.truncate(m);
                    st.push(K::T);
                }
            }
            8 => {
                let k = 1 + r.below(3) as usize;
                if st.len() >= k && st[st.len() - k..].iter().all(|x| *x != K::M) {
                    out.push([0x85, 0x86, 0x87][k - 1]);
                    st.truncate(st.len() - k);
                    st.push(K::T);
                }
            }
            9 | 10
                if top(&st, 0) == Some(K::T) && matches!(top(&st, 1), Some(K::G) | Some(K::O)) =>
            {
                let newobj = top(&st, 1) == Some(K::G) && r.below(3) == 0;
                out.push(if newobj { 0x81 } else { b'R' });
                st.truncate(st.len() - 2);
                st.push(K::O);
            }
            11 if top(&st, 1) == Some(K::O) && top(&st, 0).is_some_and(|k| k != K::M) => {
                out.push(b'b');
                st.pop();
            }
            12 if matches!(top(&st, 1), Some(K::L) | Some(K::O))
                && top(&st, 0).is_some_and(|k| k != K::M) =>
            {
                out.push(b'a');
                st.pop();
            }
            13 if matches!(top(&st, 2), Some(K::D) | Some(K::O))
                && matches!(
                    top(&st, 1),
                    Some(K::S) | Some(K::I) | Some(K::G) | Some(K::O)
                )
                && top(&st, 0).is_some_and(|k| k != K::M) =>
            {
                out.push(b's');
                st.truncate(st.len() - 2);
            }
            14 if top(&st, 0).is_some_and(|k| k != K::M) => {
                let i = r.below(6) as u8;
                if r.below(2) == 0 {
                    out.push(b'q');
                    out.push(i);
                    memo.retain(|(j, _)| *j != i);
                    memo.push((i, top(&st, 0).unwrap()));
                } else {
                    let next = memo.len() as u8;
                    if memo.iter().all(|(j, _)| *j < next) {
                        out.push(0x94);
                        memo.push((next, top(&st, 0).unwrap()));
                    }
                }
            }
            15 | 16 if !memo.is_empty() => {
                let (i, k) = memo[r.below(memo.len() as u64) as usize];
                out.push(b'h');
                out.push(i);
                st.push(k);
            }
            17 if top(&st, 0).is_some_and(|k| k != K::M) => {
                out.push(b'0');
                st.pop();
            }
            18 => {
                let m = NAMES[r.below(3) as usize];
                let f = NAMES[3 + r.below(4) as usize];
                out.extend_from_slice(format!("(K\x01i{m}\n{f}\n").as_bytes());
                st.push(K::O);
            }
            _ => {}
        }
    }
    out.extend(std::iter::repeat_n(b'0', st.len()));
    out.extend_from_slice(b"N.");
    out
}

const PY: &str = r#"
import pickle, sys, io, json
class Stub:
    def __init__(self, *a, **k): pass
    def __call__(self, *a, **k): return Stub()
    def __setstate__(self, s): pass
    def append(self, x): pass
    def extend(self, x): pass
    def __setitem__(self, k, v): pass
    def add(self, x): pass
def recorder(base):
    class U(base):
        def find_class(self, m, n):
            CALLS.append(m + '.' + n)
            return Stub
        def persistent_load(self, pid): return Stub()
    return U
C, PY = recorder(pickle.Unpickler), recorder(pickle._Unpickler)
for line in sys.stdin:
    data = bytes.fromhex(line.strip())
    out = []
    for U in (C, PY):
        CALLS = []
        err = False
        try:
            U(io.BytesIO(data)).load()
        except Exception as e:
            err = True
        seen = []
        for c in CALLS:
            if c not in seen: seen.append(c)
        out += [seen, err]
    print(json.dumps(out))
"#;

#[test]
fn globals_match_cpython_find_class() {
    let seed: u64 = std::env::var("BRINE_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut r = Rng(seed);
    let n: usize = std::env::var("BRINE_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let cases: Vec<Vec<u8>> = (0..n).map(|_| gen(&mut r)).collect();
    let Ok(mut child) = Command::new("python3")
        .arg("-c")
        .arg(PY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        eprintln!("python3 not found; skipping");
        return;
    };
    let mut input = String::new();
    for c in &cases {
        for b in c {
            input.push_str(&format!("{b:02x}"));
        }
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), cases.len());
    let opts = Options::default();
    let (mut full, mut with_globals, mut bad) = (0, 0, Vec::new());
    for (case, line) in cases.iter().zip(lines) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let rep = scan_bytes("case", case, &opts);
        let ours: Vec<String> = rep.imports.iter().map(|i| i.name.clone()).collect();
        let ours_err = rep
            .findings
            .iter()
            .any(|f| f.rule == "parse-error" || f.rule == "trailing-data");
        // [C unpickler calls, C raised, pickle.py calls, pickle.py raised]
        for (which, k) in [("_pickle", 0), ("pickle.py", 2)] {
            let py: Vec<String> = v[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            let py_err = v[k + 1].as_bool().unwrap();
            if k == 0 {
                if !py_err {
                    full += 1;
                }
                if !py.is_empty() {
                    with_globals += 1;
                }
            }
            let prefix_ok = ours.len() >= py.len() && ours[..py.len()] == py[..];
            let equal_ok = py_err || (ours == py && !ours_err);
            if !prefix_ok || !equal_ok {
                let hex: String = case.iter().map(|b| format!("{b:02x}")).collect();
                bad.push(format!(
                    "{hex}\n  {which} {py:?} err={py_err}\n  scanner {ours:?} err={ours_err}"
                ));
            }
        }
    }
    println!(
        "{} cases, {full} loaded fully by CPython, {with_globals} with globals, {} divergences",
        cases.len(),
        bad.len()
    );
    assert!(
        full > 100 && with_globals > 300,
        "generator too weak: {full} {with_globals}"
    );
    assert!(
        bad.is_empty(),
        "divergences:\n{}",
        bad[..bad.len().min(10)].join("\n")
    );
}
