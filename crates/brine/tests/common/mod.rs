//! Helpers shared by the integration tests: the golden manifest, running python3, recoding.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use brine::value::{Blob, Graph};
use brine::{DumpOptions, LoadOptions, Pickler, Unpickler};

/// One golden file.
#[derive(Debug, Clone)]
pub struct Golden {
    pub name: String,
    pub group: String,
    pub protocol: u8,
    pub path: PathBuf,
    pub builtin: bool,
    pub oob: Vec<Vec<u8>>,
    pub multi: bool,
    pub latin1: bool,
    /// Written by hand in Python 2 style, not by CPython 3.
    pub py2: bool,
    /// Several pickles from separate `dump` calls (memo not shared).
    pub separate: bool,
}

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The golden corpus listed in `tests/data/golden/manifest.json`.
pub fn golden() -> Vec<Golden> {
    let dir = data_dir().join("golden");
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("golden manifest");
    let v: serde_json::Value = serde_json::from_str(&text).expect("manifest is json");
    let entries = v
        .as_array()
        .cloned()
        .or_else(|| v["files"].as_array().cloned())
        .expect("list");
    entries
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap().to_owned();
            Golden {
                group: e["group"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| name.clone()),
                protocol: e["protocol"].as_u64().unwrap() as u8,
                path: dir.join(e["file"].as_str().unwrap()),
                builtin: e["builtin"].as_bool().unwrap_or(false),
                oob: e["oob_buffers"]
                    .as_array()
                    .map(|a| a.iter().map(|h| unhex(h.as_str().unwrap())).collect())
                    .unwrap_or_default(),
                multi: name.contains("multi") || name.contains("many"),
                latin1: e["encoding"].as_str() == Some("latin1"),
                py2: name.starts_with("py2_"),
                separate: name.starts_with("many_pickles"),
                name,
            }
        })
        .collect()
}

/// Decodes every pickle in `data` and writes each again at `protocol` with one pickler, as
/// `brine convert` does.
pub fn recode(data: &[u8], protocol: u8, opts: LoadOptions) -> brine::Result<Vec<u8>> {
    recode_with(data, opts, DumpOptions::new().protocol(protocol))
}

/// [`recode`] with explicit dump options.
pub fn recode_with(data: &[u8], opts: LoadOptions, dump: DumpOptions) -> brine::Result<Vec<u8>> {
    recode_stream(data, opts, dump, true)
}

/// Recodes every pickle of a stream; `shared_memo` says whether they were written by one
/// `Pickler` (memo shared) or by separate `pickle.dump` calls (memo fresh for each).
pub fn recode_stream(
    data: &[u8],
    opts: LoadOptions,
    dump: DumpOptions,
    shared_memo: bool,
) -> brine::Result<Vec<u8>> {
    let mut u = Unpickler::new(data, opts);
    let mut p = Pickler::new(Vec::new(), dump);
    loop {
        if !shared_memo {
            u.clear_memo();
            p.clear_memo();
        }
        let root = u.load()?;
        p.dump(u.graph(), root)?;
        if u.at_end() {
            break;
        }
    }
    Ok(p.into_inner())
}

/// Options for a golden entry (its out-of-band buffers, if any).
pub fn options_for(g: &Golden) -> LoadOptions {
    let mut opts = LoadOptions::new();
    if g.latin1 {
        opts = opts.encoding(brine::StringEncoding::Latin1);
    }
    if g.oob.is_empty() {
        opts
    } else {
        opts.buffers(g.oob.iter().map(|b| Blob::from(b.clone())).collect())
    }
}

/// True when python3 runs; tests that need it say so visibly when it does not.
pub fn have_python() -> bool {
    Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success())
}

/// Decodes `data` fully.
pub fn decode(data: &[u8]) -> brine::Result<Graph> {
    brine::loads(data)
}

/// A readable diff position of two byte strings.
pub fn first_diff(a: &[u8], b: &[u8]) -> String {
    let i = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let lo = i.saturating_sub(16);
    format!(
        "lengths {} vs {}, first difference at {i}:\n  got      {}\n  expected {}",
        a.len(),
        b.len(),
        String::from_utf8_lossy(&a[lo..a.len().min(i + 24)]).escape_debug(),
        String::from_utf8_lossy(&b[lo..b.len().min(i + 24)]).escape_debug(),
    )
}

/// Dump options that write a golden entry the way it was made: its buffers out-of-band.
pub fn dump_options_for(g: &Golden, protocol: u8) -> DumpOptions {
    let opts = DumpOptions::new().protocol(protocol);
    if g.oob.is_empty() {
        opts
    } else {
        opts.buffer_callback(|_| false)
    }
}

/// xorshift64*: deterministic and dependency-free.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x7f, 0x80, 0xff, b'(', b'.', b'0', b'1', b'2', b'a', b'b', b'e', b'h', b'j', b'q',
    b'r', b'R', b'u', b't', b'l', b'd', b'c', b'i', b'o', b'Q', b'P', 0x81, 0x85, 0x86, 0x87, 0x90,
    0x91, 0x92, 0x93, 0x94, 0x95, 0x97, 0x98, b'\n',
];

/// A few random edits of `seed` (bit flips, opcode bytes, cuts, copies, big length fields,
/// a piece of `other` spliced in).
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = d.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                d[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                d.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below(8).min(len - i - 1);
                d.drain(i..i + n.min(len - i));
            }
            4 => d.truncate(rng.below(len + 1)),
            5 if !other.is_empty() => {
                // Splice a piece of another pickle in.
                let a = rng.below(other.len());
                let b = a + rng.below(other.len() - a).min(64);
                let at = rng.below(len + 1);
                d.splice(at..at, other[a..b].iter().copied());
            }
            6 if len >= 4 => {
                // Big length / index fields.
                let i = rng.below(len - 3);
                d[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
            }
            _ => {
                let i = rng.below(len + 1);
                let j = rng.below(len + 1);
                let (a, b) = (i.min(j), i.max(j));
                let piece: Vec<u8> = d[a..b].to_vec();
                d.splice(a..a, piece);
            }
        }
    }
    d
}
