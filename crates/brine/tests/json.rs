//! The JSON forms (`brine::json`): the typed form round-trips every golden pickle to its own
//! bytes, deep and hostile documents end cleanly, and the plain form reports what it loses.

mod common;

use brine::json::{self, JsonOptions, Loss};
use brine::value::{Graph, Node};
use brine::{Category, Limits, Pickler, Unpickler};
use common::*;

/// Decodes every pickle of a golden file, writes typed JSON, reads it back and pickles each
/// root again as the golden test does.
fn via_json(g: &Golden, data: &[u8]) -> brine::Result<Vec<u8>> {
    let shared = !g.separate;
    let mut u = Unpickler::new(data, options_for(g));
    let mut roots = Vec::new();
    loop {
        if !shared {
            u.clear_memo();
        }
        roots.push(u.load()?);
        if u.at_end() {
            break;
        }
    }
    let opts = JsonOptions::new().shared_memo(shared);
    let text = json::to_typed_with(u.graph(), &roots, &opts)?;
    // Whatever we write must be JSON other readers take (serde_json is strict).
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| brine::Error::data(format!("not json: {e}")))?;
    let back = json::from_typed_with(text.as_bytes(), &opts)?;
    assert_eq!(back.roots.len(), roots.len());
    assert_eq!(back.shared_memo, shared && roots.len() > 1);
    let mut p = Pickler::new(Vec::new(), dump_options_for(g, g.protocol));
    for (i, &root) in back.roots.iter().enumerate() {
        if !shared {
            p.clear_memo();
        }
        if !u.graph().same_value(roots[i], &back.graph, root) {
            return Err(brine::Error::data(format!("pickle #{i}: value changed")));
        }
        p.dump(&back.graph, root)?;
    }
    Ok(p.into_inner())
}

#[test]
fn typed_json_reproduces_every_golden_pickle() {
    let corpus = golden();
    let mut failures = Vec::new();
    let mut checked = 0;
    for g in corpus.iter().filter(|g| !g.py2) {
        let data = std::fs::read(&g.path).unwrap();
        checked += 1;
        match via_json(g, &data) {
            Ok(out) if out == data => {}
            Ok(out) => failures.push(format!(
                "{} p{}: {}",
                g.name,
                g.protocol,
                first_diff(&out, &data)
            )),
            Err(e) => failures.push(format!("{} p{}: error {e}", g.name, g.protocol)),
        }
    }
    assert!(checked > 800, "golden corpus too small: {checked}");
    assert!(
        failures.is_empty(),
        "{} of {checked} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn typed_json_keeps_python2_values() {
    let mut failures = Vec::new();
    for g in golden().iter().filter(|g| g.py2) {
        let data = std::fs::read(&g.path).unwrap();
        let graph = brine::loads_with(&data, options_for(g)).unwrap();
        let text = json::to_typed(&graph).unwrap();
        match json::from_typed(text.as_bytes()) {
            Ok(back) if back == graph => {
                // The Python 2 names the globals were read with come back too: old protocols
                // write them again.
                for p in 0..=5 {
                    let dump =
                        |g: &Graph| brine::dumps_with(g, brine::DumpOptions::new().protocol(p));
                    if dump(&back).ok() != dump(&graph).ok() {
                        failures.push(format!("{} p{p}: bytes differ", g.name));
                    }
                }
            }
            Ok(_) => failures.push(format!("{}: value changed", g.name)),
            Err(e) => failures.push(format!("{}: {e}", g.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pretty_typed_json_reads_back_the_same() {
    let g = golden()
        .into_iter()
        .find(|g| g.name == "all_kinds" && g.protocol == 4)
        .unwrap();
    let graph = brine::loads_with(&std::fs::read(&g.path).unwrap(), options_for(&g)).unwrap();
    let compact = json::to_typed(&graph).unwrap();
    let root = graph.root().unwrap();
    let pretty = json::to_typed_with(&graph, &[root], &JsonOptions::new().pretty(true)).unwrap();
    assert!(pretty.lines().count() > 10, "{pretty}");
    let a = json::from_typed(compact.as_bytes()).unwrap();
    let b = json::from_typed(pretty.as_bytes()).unwrap();
    assert!(a == graph && b == graph);
}

#[test]
fn float_specials_and_surrogates_are_exact() {
    let mut g = Graph::new();
    let items = [
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_0001),
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.1,
        5e-324,
        1e300,
        1.0,
    ]
    .map(|x| g.float(x));
    let s = g.add(Node::Str(
        brine::value::PyStr::from_surrogatepass(b"a\xed\xa0\x80\xed\xb8\x80b".to_vec()).unwrap(),
    ));
    let mut all = items.to_vec();
    all.push(s);
    let root = g.list(all);
    g.set_root(root);
    let text = json::to_typed(&g).unwrap();
    assert!(text.contains(r#"{"$str":["a",55296,56832,"b"]}"#), "{text}");
    assert!(
        text.contains(r#"{"$float":"0x7ff8000000000001"}"#),
        "{text}"
    );
    let back = json::from_typed(text.as_bytes()).unwrap();
    let Node::List(xs) = back.get(back.root().unwrap()) else {
        panic!("not a list")
    };
    let xs = back.items(*xs);
    for (i, &x) in xs.iter().enumerate().take(items.len()) {
        let (Node::Float(a), Node::Float(b)) = (back.get(x), g.get(items[i])) else {
            panic!("not a float")
        };
        assert_eq!(a.to_bits(), b.to_bits(), "item {i}");
    }
    assert_eq!(back.get(xs[items.len()]), g.get(s));
    // Same pickle at every protocol.
    for p in 0..=5 {
        let opts = || brine::DumpOptions::new().protocol(p);
        assert_eq!(
            brine::dumps_with(&back, opts()).unwrap(),
            brine::dumps_with(&g, opts()).unwrap()
        );
    }
}

fn deep_list(depth: usize) -> Graph {
    let mut g = Graph::new();
    let mut inner = g.list(vec![]);
    for _ in 1..depth {
        inner = g.list(vec![inner]);
    }
    g.set_root(inner);
    g
}

#[test]
fn hundred_thousand_deep_lists_convert_both_ways() {
    let g = deep_list(100_000);
    let text = json::to_typed(&g).unwrap();
    assert_eq!(text.len(), 200_000);
    let trusted = JsonOptions::new().limits(Limits::trusted());
    let back = json::from_typed_with(text.as_bytes(), &trusted).unwrap();
    assert!(back.graph == g);
    let (plain, report) = json::to_plain(&g).unwrap();
    assert_eq!(plain, text);
    assert!(report.is_empty());
    // Pretty output stays linear: indentation stops growing.
    let root = g.root().unwrap();
    let pretty = json::to_typed_with(&g, &[root], &JsonOptions::new().pretty(true)).unwrap();
    assert!(pretty.len() < 100 * text.len());
}

#[test]
fn default_limits_stop_deep_and_big_documents_cleanly() {
    let text = "[".repeat(100_000) + &"]".repeat(100_000);
    let err = json::from_typed(text.as_bytes()).unwrap_err();
    assert_eq!(err.classify(), Category::Limit);
    assert_eq!(err.to_string(), "limit exceeded: max_depth at offset 10000");
    let small = JsonOptions::new().limits(Limits {
        max_nodes: 10,
        ..Limits::default()
    });
    let err = json::from_typed_with(b"[1,2,3,4,5,6,7,8,9,10,11,12]", &small).unwrap_err();
    assert_eq!(err.classify(), Category::Limit);
    // 2^40 copies if shared values were expanded without a budget.
    let mut g = Graph::new();
    let mut x = g.list(vec![]);
    for _ in 0..40 {
        x = g.list(vec![x, x]);
    }
    g.set_root(x);
    let typed = json::to_typed(&g).unwrap();
    assert!(typed.len() < 2000, "{}", typed.len());
    let opts = JsonOptions::new().limits(Limits {
        max_nodes: 100_000,
        ..Limits::default()
    });
    let err = json::to_plain_with(&g, &[x], &opts).unwrap_err();
    assert_eq!(err.classify(), Category::Limit);
}

#[test]
fn malformed_typed_documents_fail_with_data_errors() {
    let cases: &[(&str, &str)] = &[
        (r#"{"$ref": 3}"#, "`$ref` 3 names no `$id` at offset 9"),
        (
            r#"[{"$id":1,"$list":[]},{"$id":1,"$list":[]}]"#,
            "`$id` 1 is defined twice at offset 29",
        ),
        (
            r#"{"$tuple": [1], "$set": [2]}"#,
            "both `$tuple` and `$set` in one object at offset 24",
        ),
        (r#"{"$frob": 1}"#, "unknown tag `$frob` at offset 10"),
        (r#"{"$bytes": "%%"}"#, "invalid base64 at offset 11"),
        (r#"{"$float": "nope"}"#, "invalid `$float` at offset 11"),
        (
            r#"{"$global": ["m"]}"#,
            "expected [module, name] at offset 12",
        ),
        (
            r#"{"$object": "reduce", "args": []}"#,
            "`$object` needs `callable` and `args` at offset 0",
        ),
        (
            r#"{"$tuple": [], "colour": 1}"#,
            "unknown field `colour` in `$tuple` at offset 25",
        ),
        (
            r#"{"$str": [1]}"#,
            "`$str` segments are strings and surrogates (55296–57343) at offset 10",
        ),
    ];
    for (doc, want) in cases {
        let err = json::from_typed(doc.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), *want, "{doc}");
        assert_eq!(err.classify(), Category::Data, "{doc}");
    }
    // Every prefix of a valid document fails as EOF or syntax, never panics.
    let doc = br#"{"$pickles":[{"$id":0,"$list":[1.5,"x\u00e9",{"$ref":0}]}],"shared_memo":false}"#;
    json::from_typed_with(doc, &JsonOptions::new()).unwrap();
    for cut in 0..doc.len() {
        let err = json::from_typed_with(&doc[..cut], &JsonOptions::new()).unwrap_err();
        assert!(
            matches!(err.classify(), Category::Eof | Category::Syntax),
            "prefix {cut}: {err}"
        );
    }
}

#[test]
fn plain_form_of_golden_objects_reports_losses() {
    let g = golden()
        .into_iter()
        .find(|g| g.name == "all_kinds" && g.protocol == 2)
        .unwrap();
    let graph = brine::loads_with(&std::fs::read(&g.path).unwrap(), options_for(&g)).unwrap();
    let (text, report) = json::to_plain(&graph).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v.is_object() || v.is_array(), "{text}");
    assert!(!report.is_empty());
    let total: u64 = report.iter().map(|(_, n)| n).sum();
    assert_eq!(report.to_string().lines().count(), report.iter().count());
    assert!(total > 0);
}

#[test]
fn plain_form_objects_merge_their_state() {
    // class P: def __init__(self): self.x = 1; self.t = (1, 2)   (protocol 2)
    let data = b"\x80\x02c__main__\nP\nq\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00xq\x03K\x01X\x01\x00\x00\x00tq\x04K\x01K\x02\x86q\x05ub.";
    let graph = brine::loads(data).unwrap();
    let (text, report) = json::to_plain(&graph).unwrap();
    assert_eq!(text, r#"{"__class__":"__main__.P","x":1,"t":[1,2]}"#);
    assert_eq!(report.count(Loss::Object), 1);
    assert_eq!(report.count(Loss::Tuple), 1);
    assert_eq!(report.count(Loss::Global), 0);
    // Read back as typed JSON it is a plain dict: best-effort.
    let back = json::from_typed(text.as_bytes()).unwrap();
    assert!(matches!(back.get(back.root().unwrap()), Node::Dict(d) if d.len() == 3));
}

#[test]
fn plain_form_copies_shared_values_and_collides_keys() {
    let mut g = Graph::new();
    let shared = g.list(vec![]);
    let k1 = g.int(1);
    let k2 = g.str("1");
    let v = g.none();
    let d = g.dict(vec![(k1, v), (k2, v)]);
    let root = g.list(vec![shared, shared, d]);
    g.set_root(root);
    let (text, report) = json::to_plain(&g).unwrap();
    assert_eq!(text, r#"[[],[],{"1":null}]"#);
    assert_eq!(report.count(Loss::Shared), 1);
    assert_eq!(report.count(Loss::KeyCollision), 1);
    assert_eq!(report.count(Loss::NonStrKey), 1);
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that make mutated documents reach the typed reader's corners: references, ids,
/// tags with the wrong shapes, cycles through scalars' tags.
const PIECES: &[&str] = &[
    r#"{"$ref":0}"#,
    r#"{"$ref":1}"#,
    r#""$id":0,"#,
    r#""$id":1,"#,
    r#"{"$id":2,"$persid":{"$ref":2}}"#,
    r#"{"$id":3,"$tuple":[{"$ref":3}]}"#,
    r#"{"$id":4,"$frozenset":[{"$ref":4}]}"#,
    r#"{"$object":"reduce","callable":{"$global":["m","f"]},"args":{"$tuple":[]}}"#,
    r#"{"$object":"inst","callable":1,"args":[],"state":{"$ref":0}}"#,
    r#"{"$global":["a.b","c..d"],"names":[1,{"$ref":0}]}"#,
    r#"{"$buffer":0,"readonly":true,"data":"AA=="}"#,
    r#"{"$dict":[[{"$ref":0},1]]}"#,
    r#"{"$str":["a",55296]}"#,
    r#"{"$float":"nan"}"#,
    r#"{"$int":"-99999999999999999999999"}"#,
    r#"{"$ext":7}"#,
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "\\u",
    "0",
    "-",
    "1e999",
    "null",
];

#[test]
fn mutated_typed_documents_never_panic() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let mut seeds: Vec<String> = Vec::new();
    for g in golden().iter().filter(|g| g.protocol == 4 && !g.py2) {
        let data = std::fs::read(&g.path).unwrap();
        if let Ok(graph) = brine::loads_with(&data, options_for(g)) {
            seeds.push(json::to_typed(&graph).unwrap());
        }
    }
    assert!(seeds.len() > 50);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let small = JsonOptions::new().limits(Limits {
        max_depth: 200,
        max_nodes: 100_000,
        ..Limits::default()
    });
    let mut accepted = 0;
    for round in 0..3000 {
        let mut d = seeds[rng.below(seeds.len())].clone().into_bytes();
        for _ in 0..1 + rng.below(3) {
            let len = d.len();
            let i = rng.below(len + 1);
            match rng.below(4) {
                0 if len > 0 => d[i.min(len - 1)] ^= 1 << rng.below(7),
                1 => {
                    let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                    d.splice(i..i, piece.iter().copied());
                }
                2 if len > 0 => {
                    let end = (i + rng.below(16)).min(len);
                    d.drain(i.min(end)..end);
                }
                _ => d.truncate(i),
            }
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            let Ok(t) = json::from_typed_with(&d, &small) else {
                return false;
            };
            for &root in &t.roots {
                for p in 0..=5 {
                    let opts = brine::DumpOptions::new().protocol(p).limits(Limits {
                        max_depth: 200,
                        ..Limits::default()
                    });
                    let mut pickler = Pickler::new(Vec::new(), opts);
                    let _ = pickler.dump(&t.graph, root);
                }
                let _ = brine::show::repr(&t.graph, root, &Default::default());
            }
            let _ = json::to_typed_with(&t.graph, &t.roots, &small);
            let _ = json::to_plain_with(&t.graph, &t.roots, &small);
            true
        }));
        match result {
            Ok(ok) => accepted += ok as usize,
            Err(_) => panic!("round {round} panicked on: {}", String::from_utf8_lossy(&d)),
        }
    }
    // The mutations must reach past the parser, or this checks nothing.
    assert!(accepted > 150, "only {accepted} mutated documents parsed");
}
