//! Runs CPython's `pickle.dumps` on many snippets in one `python3` process.

use std::io::Write;
use std::process::{Command, Stdio};

/// Definitions every snippet can use: a module `m` with classes, dumpers with hooks.
pub const PRELUDE: &str = r#"
import pickle, sys, io, types, copyreg, collections, datetime
m = types.ModuleType("m"); sys.modules["m"] = m
class A:
    class B:
        class C: pass
class P:
    def __init__(self): self.x = 1
class Q:
    def __reduce__(self): return (copyreg.__newobj__, (Q, 5), {'k': 2})
class KW:
    def __reduce__(self): return (copyreg.__newobj_ex__, (KW, (1,), {'a': 2}))
for c in (A, P, Q, KW):
    c.__module__ = "m"; setattr(m, c.__name__, c)
A.B.__module__ = "m"; A.B.C.__module__ = "m"
class _Pid(pickle.Pickler):
    def persistent_id(self, obj):
        return obj[1:] if isinstance(obj, str) and obj.startswith('@') else None
def dumps_pid(v, p):
    f = io.BytesIO(); _Pid(f, p).dump(v); return f.getvalue()
def dumps_oob(v, p):
    return pickle.dumps(v, p, buffer_callback=lambda b: False)
def dumps_twice(v, p):
    f = io.BytesIO(); pk = pickle.Pickler(f, p); pk.dump(v); pk.dump(v); return f.getvalue()
"#;

/// `pickle.dumps` (or the snippet's `DUMP(v, p)`) for each `(snippet, protocol)`; a snippet
/// sets `v`. `None` when `python3` is not installed.
pub fn dumps(cases: &[(String, u8)]) -> Option<Vec<Vec<u8>>> {
    let mut script = String::from(PRELUDE);
    script.push_str("\nCASES = [\n");
    for (code, p) in cases {
        script.push_str(&format!("({code:?}, {p}),\n"));
    }
    script.push_str(
        r#"]
for code, p in CASES:
    ns = {'DUMP': lambda v, p: pickle.dumps(v, p)}
    ns.update(globals())
    exec(code, ns)
    sys.stdout.write(ns['DUMP'](ns['v'], p).hex() + "\n")
"#,
    );
    let mut child = Command::new("python3")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    let text = String::from_utf8(out.stdout).unwrap();
    Some(text.lines().map(|l| hex(l)).collect())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Human-readable disassembly of a pickle via `pickletools.dis`, for failure messages.
pub fn dis(data: &[u8]) -> String {
    let hexs: String = data.iter().map(|b| format!("{b:02x}")).collect();
    let code = format!(
        "import pickletools,sys\ntry: pickletools.dis(bytes.fromhex('{hexs}'))\nexcept Exception as e: print('dis failed:', e)"
    );
    match Command::new("python3").arg("-c").arg(code).output() {
        Ok(o) => {
            let s = String::from_utf8_lossy(&o.stdout).into_owned();
            if s.len() > 4000 {
                format!("{}\n…", &s[..4000])
            } else {
                s
            }
        }
        Err(_) => String::new(),
    }
}
