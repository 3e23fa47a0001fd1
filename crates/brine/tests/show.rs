//! `brine::show::repr`: Python's `repr()` of every builtin golden value (as CPython printed it,
//! truncated to 200 characters in the manifest), recursion markers, readable std objects, and
//! bounded output for deep and exponentially shared graphs.

mod common;

use std::time::{Duration, Instant};

use brine::show::{repr, ShowOptions};
use brine::value::Graph;
use brine::Unpickler;
use common::*;

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

fn show_file(name: &str, protocol: u8) -> String {
    let g = golden()
        .into_iter()
        .find(|g| g.name == name && g.protocol == protocol)
        .unwrap_or_else(|| panic!("no golden {name} p{protocol}"));
    let data = std::fs::read(&g.path).unwrap();
    let mut u = Unpickler::new(&data, options_for(&g));
    let root = u.load().unwrap();
    repr(u.graph(), root, &ShowOptions::default())
}

#[test]
fn every_builtin_golden_value_prints_like_python_repr() {
    let dir = data_dir().join("golden");
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let entries: serde_json::Value = serde_json::from_str(&text).unwrap();
    let by_file: std::collections::HashMap<String, String> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["builtin"].as_bool() == Some(true))
        .filter_map(|e| {
            Some((
                e["file"].as_str()?.to_owned(),
                e["repr"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for g in golden().into_iter().filter(|g| g.builtin) {
        let file = g.path.file_name().unwrap().to_str().unwrap().to_owned();
        let want = &by_file[&file];
        let data = std::fs::read(&g.path).unwrap();
        let mut u = Unpickler::new(&data, options_for(&g));
        let root = match u.load() {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let got = truncate(&repr(u.graph(), root, &ShowOptions::default()));
        checked += 1;
        if &got != want {
            failures.push(format!("{file}:\n  got  {got}\n  want {want}"));
        }
    }
    assert!(checked > 600, "only {checked} builtin files");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn cycles_print_like_python() {
    for p in 0..=5 {
        assert_eq!(show_file("cycle_list", p), "[[...]]");
        assert_eq!(show_file("cycle_dict", p), "{'self': {...}}");
        assert_eq!(show_file("cycle_tuple1", p), "([(...)],)");
        assert_eq!(show_file("shared_list", p), "[[1, 2], [1, 2]]");
    }
    let mut g = Graph::new();
    let a = g.str("a");
    let d = g.dict(vec![]);
    assert!(g.extend_pairs(d, &[(a, d)]));
    assert_eq!(repr(&g, d, &ShowOptions::default()), "{'a': {...}}");
}

#[test]
fn ordereddict_and_date_print_readably() {
    let od = show_file("std_ordereddict", 4);
    assert!(od.starts_with("OrderedDict([("), "{od}");
    assert!(!od.contains("collections."), "{od}");
    for p in 0..=5 {
        assert_eq!(show_file("std_ordereddict", p), od, "protocol {p}");
    }
    let dt = show_file("std_datetime", 4);
    for part in [
        "[datetime.date(1980, 5, 7), datetime.datetime(2024, 2, 29, 13, 45, 30, 123456), ",
        "datetime.time(23, 59, 59, 999999), ",
        "datetime.timedelta(days=-1, seconds=5, microseconds=7), ",
        "datetime.datetime(2020, 1, 1, 0, 0, tzinfo=",
        "datetime.datetime(2021, 11, 7, 1, 30, fold=1), ",
    ] {
        assert!(dt.contains(part), "{part} not in {dt}");
    }
    // CPython pickles `fold` only at protocol 4 and later; `pickle.load` shows the same.
    for p in 0..=5 {
        let want = if p >= 4 {
            dt.clone()
        } else {
            dt.replace(", fold=1", "")
        };
        assert_eq!(show_file("std_datetime", p), want, "protocol {p}");
    }
    // datetime.date(1980, 5, 7), pickled by CPython at protocol 4.
    let p = b"\x80\x04\x95 \x00\x00\x00\x00\x00\x00\x00\x8c\x08datetime\x94\x8c\x04date\x94\x93\x94C\x04\x07\xbc\x05\x07\x94\x85\x94R\x94.";
    let g = brine::loads(p).unwrap();
    assert_eq!(
        repr(&g, g.root().unwrap(), &ShowOptions::default()),
        "datetime.date(1980, 5, 7)"
    );
}

#[test]
fn object_instances_and_escaped_names() {
    // copyreg._reconstructor-free NEWOBJ instance with a dict state, protocol 2.
    let p = b"\x80\x02c__main__\nP\nq\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00xq\x03K\x01X\x01\x00\x00\x00yq\x04X\x03\x00\x00\x00twoq\x05ub.";
    let g = brine::loads(p).unwrap();
    assert_eq!(
        repr(&g, g.root().unwrap(), &ShowOptions::default()),
        "__main__.P(x=1, y='two')"
    );
    let p = b"\x80\x02c\x1b[31mevil\nna\x07me\nq\x00.";
    let g = brine::loads(p).unwrap();
    let s = repr(&g, g.root().unwrap(), &ShowOptions::default());
    assert_eq!(s, "\\x1b[31mevil.na\\x07me");
}

#[test]
fn depth_and_items_page_the_output() {
    let mut g = Graph::new();
    let items: Vec<_> = (0..10).map(|i| g.int(i)).collect();
    let inner = g.list(items);
    let one = g.int(1);
    let outer = g.list(vec![one, inner]);
    let o = ShowOptions {
        max_depth: Some(1),
        ..ShowOptions::default()
    };
    assert_eq!(repr(&g, outer, &o), "[1, ...]");
    let o = ShowOptions {
        max_items: Some(3),
        ..ShowOptions::default()
    };
    assert_eq!(repr(&g, outer, &o), "[1, [0, 1, 2, ...]]");
}

#[test]
fn two_million_levels_do_not_overflow_the_stack() {
    let mut g = Graph::new();
    let mut id = g.list(vec![]);
    for _ in 0..2_000_000 {
        id = g.list(vec![id]);
    }
    let s = repr(&g, id, &ShowOptions::default());
    assert!(s.starts_with("[[[[") && s.ends_with("..."));
    assert!(s.len() <= (1 << 20) + 8, "{} bytes", s.len());
    let s = repr(
        &g,
        id,
        &ShowOptions {
            max_output: usize::MAX,
            ..ShowOptions::default()
        },
    );
    assert_eq!(s.len(), 2 * 2_000_001);
}

#[test]
fn memo_bomb_output_is_bounded_and_fast() {
    let mut p = b"\x80\x02N".to_vec();
    p.extend_from_slice(b"r\x00\x00\x00\x00");
    for i in 0u32..60 {
        p.push(b'j');
        p.extend_from_slice(&i.to_le_bytes());
        p.push(b'j');
        p.extend_from_slice(&i.to_le_bytes());
        p.push(0x86);
        p.push(b'r');
        p.extend_from_slice(&(i + 1).to_le_bytes());
    }
    p.push(b'.');
    let g = brine::loads(&p).unwrap();
    let t = Instant::now();
    let s = repr(&g, g.root().unwrap(), &ShowOptions::default());
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(s.len() <= (1 << 20) + 8, "{} bytes", s.len());
    assert!(s.starts_with("((((") && s.ends_with("..."));
}
