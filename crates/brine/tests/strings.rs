//! String payloads on the slice fast path (inline words, input windows, the fused MEMOIZE)
//! decode exactly like the general path that reads through `io::Read`: same values, same
//! UTF-8 flag, same errors at the same offsets, for every byte position of non-ASCII, invalid
//! and surrogate bytes and across window boundaries.

use brine::value::{Graph, Node, PyStr};
use brine::{Limits, LoadOptions, Unpickler};

/// Decodes every pickle of `data` through the slice fast path and through `io::Read` (the
/// general path), and checks that both give equal graphs, or the same error.
fn same_both_ways(data: &[u8], opts: impl Fn() -> LoadOptions, what: &str) -> Option<Graph> {
    let mut fast = Unpickler::new(data, opts());
    let mut slow = Unpickler::from_reader(data, opts());
    loop {
        let (a, b) = (fast.load(), slow.load());
        match (&a, &b) {
            (Ok(_), Ok(_)) => {}
            (Err(x), Err(y)) => {
                assert_eq!(x.code().to_string(), y.code().to_string(), "{what}");
                assert_eq!(x.classify(), y.classify(), "{what}: {x}");
                assert_eq!(x.offset(), y.offset(), "{what}: {x}");
                assert_eq!(x.opcode(), y.opcode(), "{what}: {x}");
                return None;
            }
            _ => panic!("{what}: fast {a:?}, general {b:?}"),
        }
        assert!(fast.graph() == slow.graph(), "{what}");
        for ((_, x), (_, y)) in fast.graph().nodes().zip(slow.graph().nodes()) {
            if let (Node::Str(x), Node::Str(y)) = (x, y) {
                assert_eq!(x.is_utf8(), y.is_utf8(), "{what}");
                assert_eq!(x.as_bytes(), y.as_bytes(), "{what}");
            }
        }
        if fast.at_end() {
            assert!(matches!(slow.load_next(), Ok(None)), "{what}");
            return Some(fast.into_graph());
        }
    }
}

/// A protocol-4 pickle of a list of the payloads, each as SHORT_BINUNICODE (or BINUNICODE
/// when longer than 255 bytes) and MEMOIZE, then `tail` before STOP.
fn str_list(payloads: &[Vec<u8>], tail: &[u8]) -> Vec<u8> {
    let mut p = b"\x80\x04]\x94(".to_vec();
    for s in payloads {
        if s.len() < 256 {
            p.push(0x8c);
            p.push(s.len() as u8);
        } else {
            p.push(b'X');
            p.extend_from_slice(&(s.len() as u32).to_le_bytes());
        }
        p.extend_from_slice(s);
        p.push(0x94);
    }
    p.push(b'e');
    p.extend_from_slice(tail);
    p.push(b'.');
    p
}

/// The same list as protocol 3 writes it: every payload as BINUNICODE, then BINPUT.
fn str_list_p3(payloads: &[Vec<u8>], tail: &[u8]) -> Vec<u8> {
    let mut p = b"\x80\x03]q\x00(".to_vec();
    for (i, s) in payloads.iter().enumerate() {
        p.push(b'X');
        p.extend_from_slice(&(s.len() as u32).to_le_bytes());
        p.extend_from_slice(s);
        p.extend_from_slice(&[b'q', (i + 1) as u8]);
    }
    p.push(b'e');
    p.extend_from_slice(tail);
    p.push(b'.');
    p
}

/// Byte sequences to place at every position of a string: valid multibyte characters, a lone
/// surrogate (kept, as CPython's `surrogatepass`), and invalid UTF-8 of several kinds.
const INSERTS: &[&[u8]] = &[
    b"\xc3\xa9",         // é
    b"\xe2\x82\xac",     // €
    b"\xf0\x9f\x98\x80", // 😀
    b"\xed\xa0\x80",     // lone high surrogate
    b"\xed\xbf\xbf",     // lone low surrogate
    b"\x7f",             // DEL, still ASCII
    b"\x80",             // stray continuation byte
    b"\xff",             // never valid
    b"\xc0\x80",         // overlong NUL
    b"\xc3",             // truncated two-byte character
    b"\xf4\x90\x80\x80", // beyond U+10FFFF
];

/// Lengths around every word and size edge: the 16-byte words of the ASCII checks, the
/// 22-byte inline size, SHORT_BINUNICODE's 255 and the 1024-byte window limit.
fn lengths() -> Vec<usize> {
    let mut v: Vec<usize> = (0..=70).collect();
    v.extend([
        95, 96, 97, 127, 128, 129, 250, 255, 256, 300, 1023, 1024, 1025,
    ]);
    v
}

fn ascii(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|j| b' ' + ((seed + j * 7) % 95) as u8)
        .collect()
}

#[test]
fn every_position_of_every_length_decodes_like_the_general_path() {
    for len in lengths() {
        let positions: Vec<usize> = if len <= 70 {
            (0..len.max(1)).collect()
        } else {
            // Long strings: every position of the first and last words, a few in between.
            (0..20)
                .chain(len / 2..len / 2 + 3)
                .chain(len - 20..len)
                .collect()
        };
        for ins in INSERTS {
            for &at in &positions {
                // The inserted bytes replace bytes of the string, so that its length stays.
                let mut s = ascii(len, at);
                if len > 0 {
                    let at = at.min(len.saturating_sub(ins.len()));
                    let n = ins.len().min(len - at);
                    s[at..at + n].copy_from_slice(&ins[..n]);
                }
                // Alone (no input after it: no 32-byte head), and followed by more input.
                let what = format!("len {len} insert {ins:02x?} at {at}");
                for list in [str_list, str_list_p3] {
                    same_both_ways(&list(&[s.clone()], b""), LoadOptions::new, &what);
                    let with_next = list(&[s.clone(), ascii(40, 1), s.clone()], b"N0");
                    same_both_ways(&with_next, LoadOptions::new, &what);
                }
            }
        }
        let s = ascii(len, 3);
        let g = same_both_ways(
            &str_list(std::slice::from_ref(&s), b""),
            LoadOptions::new,
            "ascii",
        );
        let g = g.unwrap();
        let text = std::str::from_utf8(&s).unwrap();
        let found = g.nodes().find_map(|(_, n)| match n {
            Node::Str(s) => Some(s.clone()),
            _ => None,
        });
        assert_eq!(found, Some(PyStr::from(text)), "len {len}");
    }
}

#[test]
fn surrogates_are_kept_exactly_in_every_storage() {
    // Inline (up to 22 bytes), windowed (up to 1024) and heap-stored strings.
    for len in [
        3, 10, 21, 22, 23, 29, 30, 31, 32, 47, 48, 100, 1024, 1025, 3000,
    ] {
        let mut s = ascii(len - 3, 0);
        s.extend_from_slice(b"\xed\xb2\x80");
        let data = str_list(&[s.clone(), s.clone()], b"");
        same_both_ways(&str_list_p3(&[s.clone()], b""), LoadOptions::new, "p3");
        let g = same_both_ways(&data, LoadOptions::new, &format!("len {len}")).unwrap();
        let strs: Vec<&PyStr> = g
            .nodes()
            .filter_map(|(_, n)| match n {
                Node::Str(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(strs.len(), 2);
        for got in strs {
            assert_eq!(got.as_bytes(), &s[..], "len {len}");
            assert!(!got.is_utf8(), "len {len}");
            assert_eq!(got.as_str(), None, "len {len}");
            assert_eq!(*got, PyStr::from_surrogatepass(s.clone()).unwrap());
        }
    }
}

#[test]
fn strings_across_window_boundaries_stay_exact() {
    // Enough 31..=90-byte strings (windowed) for several 64 KiB windows, so that strings start
    // and end at every offset around the boundaries; some non-ASCII, some short.
    let payloads: Vec<Vec<u8>> = (0..6000)
        .map(|i| {
            let mut s = ascii(31 + i % 60, i);
            if i % 5 == 0 {
                let at = i % s.len();
                s[at] = b'\xc3';
                s.insert(at + 1, b'\xa9');
            }
            if i % 11 == 0 {
                s.truncate(i % 31);
            }
            s
        })
        .collect();
    let data = str_list(&payloads, b"");
    let g = same_both_ways(&data, LoadOptions::new, "windows").unwrap();
    let mut want = Graph::new();
    let items = payloads
        .iter()
        .map(|s| want.str(std::str::from_utf8(s).unwrap()))
        .collect();
    let root = want.list(items);
    want.set_root(root);
    assert!(g == want);
}

#[test]
fn windows_are_reused_across_pickles_of_one_stream() {
    // Three pickles back to back over one slice: later ones start inside the first window.
    let a: Vec<Vec<u8>> = (0..50).map(|i| ascii(40 + i, i)).collect();
    let b: Vec<Vec<u8>> = (0..50).map(|i| ascii(90 - i, i + 1)).collect();
    let mut data = str_list(&a, b"");
    data.extend(str_list(&b, b""));
    data.extend(str_list(&a, b""));
    same_both_ways(&data, LoadOptions::new, "stream");
}

#[test]
fn a_memoize_after_a_string_is_the_same_when_it_is_not_fused() {
    // BINGET of memoized strings; a memo limit that the fused MEMOIZE must report like the
    // general path; MEMOIZE as the last byte of the input.
    let mut p = b"\x80\x04(".to_vec();
    for i in 0..40 {
        let s = ascii(20 + i, i);
        p.push(0x8c);
        p.push(s.len() as u8);
        p.extend_from_slice(&s);
        p.push(0x94);
    }
    p.extend_from_slice(b"h\x05h\x27l.");
    same_both_ways(&p, LoadOptions::new, "memo");
    for max in [0, 1, 5, 39] {
        let opts = || {
            LoadOptions::new().limits(Limits {
                max_memo_entries: max,
                ..Limits::default()
            })
        };
        assert!(same_both_ways(&p, opts, "memo limit").is_none());
    }
    let cut = p.iter().position(|&b| b == 0x94).unwrap();
    same_both_ways(&p[..=cut], LoadOptions::new, "memoize at the end");
}

#[test]
fn the_alloc_limit_counts_inline_and_windowed_strings() {
    let payloads: Vec<Vec<u8>> = (0..200).map(|i| ascii(10 + i % 50, i)).collect();
    let data = str_list(&payloads, b"");
    let total: usize = payloads.iter().map(Vec::len).sum();
    for max in [0, 10, 100, total as u64 / 2, total as u64 - 1, total as u64] {
        let opts = || {
            LoadOptions::new().limits(Limits {
                max_alloc: max,
                ..Limits::default()
            })
        };
        let ok = same_both_ways(&data, opts, &format!("max_alloc {max}")).is_some();
        assert_eq!(ok, max >= total as u64, "max_alloc {max}");
    }
}

#[test]
fn windowed_strings_outlive_their_graph_and_cross_threads() {
    let payloads: Vec<Vec<u8>> = (0..3000).map(|i| ascii(31 + i % 90, i)).collect();
    let data = str_list(&payloads, b"");
    let g = brine::loads(&data).unwrap();
    let strs: Vec<PyStr> = g
        .nodes()
        .filter_map(|(_, n)| match n {
            Node::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let copy = g.clone();
    drop(g);
    let handles: Vec<_> = strs
        .chunks(500)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            std::thread::spawn(move || {
                let again = chunk.clone();
                drop(chunk);
                again
            })
        })
        .collect();
    let back: Vec<PyStr> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    drop(strs);
    for (s, want) in back.iter().zip(&payloads) {
        assert_eq!(s.as_bytes(), &want[..]);
    }
    assert_eq!(back.len(), payloads.len());
    drop(back);
    // The cloned graph still holds its own references (the original's drop gave up only its
    // own, in runs per window).
    let texts: Vec<&[u8]> = copy
        .nodes()
        .filter_map(|(_, n)| match n {
            Node::Str(s) => Some(s.as_bytes()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), payloads.len());
    for (t, want) in texts.iter().zip(&payloads) {
        assert_eq!(*t, &want[..]);
    }
}

#[test]
fn a_graph_dropped_in_runs_leaves_other_owners_intact() {
    // str and bytes payloads interleaved in the same windows, some kept outside the graph.
    let mut data = b"\x80\x04](".to_vec();
    for i in 0..4000usize {
        let p = ascii(31 + i % 200, i);
        if i % 3 == 0 {
            data.push(b'C');
            data.push(p.len() as u8);
        } else {
            data.push(0x8c);
            data.push(p.len() as u8);
        }
        data.extend_from_slice(&p);
    }
    data.extend_from_slice(b"e.");
    for keep_every in [1, 2, 7, 4001] {
        let g = brine::loads(&data).unwrap();
        let kept: Vec<(usize, Vec<u8>, Node)> = g
            .nodes()
            .enumerate()
            .filter(|(i, _)| i % keep_every == 0)
            .filter_map(|(i, (_, n))| match n {
                Node::Str(s) => Some((i, s.as_bytes().to_vec(), n.clone())),
                Node::Bytes(b) => Some((i, b.as_bytes().to_vec(), n.clone())),
                _ => None,
            })
            .collect();
        drop(g);
        for (i, want, node) in &kept {
            let got = match node {
                Node::Str(s) => s.as_bytes(),
                Node::Bytes(b) => b.as_bytes(),
                _ => unreachable!(),
            };
            assert_eq!(got, &want[..], "node {i}");
        }
    }
}

/// Every str / bytes payload of `g`, with whether it is shared, in node order.
fn payloads_of(g: &Graph) -> Vec<(Vec<u8>, bool)> {
    g.nodes()
        .filter_map(|(_, n)| match n {
            Node::Str(s) => Some((s.as_bytes().to_vec(), s.is_shared())),
            Node::Bytes(b) => Some((b.as_bytes().to_vec(), b.is_shared())),
            _ => None,
        })
        .collect()
}

#[test]
fn mid_sized_payloads_of_a_shared_input_are_ranges_of_it() {
    // Lengths around every storage boundary: inline (22 / 14), copied window (1024), shared
    // window, boxed shared range (4096); str and bytes, ASCII and not.
    let mut lens: Vec<usize> = (0..40).collect();
    lens.extend([1023, 1024, 1025, 1500, 4094, 4095, 4096, 4097, 9000]);
    let mut data = b"\x80\x04](".to_vec();
    let mut want = Vec::new();
    for (i, &len) in lens.iter().enumerate() {
        let mut p = ascii(len, i);
        if i % 5 == 1 && len >= 2 {
            p[len / 2..len / 2 + 2].copy_from_slice("é".as_bytes());
        }
        let bytes = i % 3 == 0;
        match (bytes, len) {
            (true, 0..=255) => data.extend_from_slice(&[b'C', len as u8]),
            (true, _) => {
                data.push(b'B');
                data.extend_from_slice(&(len as u32).to_le_bytes());
            }
            (false, 0..=255) => data.extend_from_slice(&[0x8c, len as u8]),
            (false, _) => {
                data.push(b'X');
                data.extend_from_slice(&(len as u32).to_le_bytes());
            }
        }
        data.extend_from_slice(&p);
        data.push(0x94);
        let inline = if bytes { 14 } else { 22 };
        want.push((p, len > inline));
    }
    data.extend_from_slice(b"e.");
    let copied = brine::loads(&data).unwrap();
    let src = std::sync::Arc::new(data.clone());
    let shared = brine::loads_shared(src.clone(), LoadOptions::new()).unwrap();
    assert!(copied == shared);
    assert_eq!(payloads_of(&shared), want);
    assert!(payloads_of(&copied).iter().all(|(_, s)| !s));
    // Encoded byte for byte as the copying decode's graph.
    let enc = |g: &Graph| brine::dumps_with(g, brine::DumpOptions::new().protocol(4)).unwrap();
    assert_eq!(enc(&shared), enc(&copied));
    // The graph holds the source; the source is given back with the graph and its clones.
    assert!(std::sync::Arc::strong_count(&src) > 1);
    let copy = shared.clone();
    drop(shared);
    assert_eq!(payloads_of(&copy), want);
    drop(copy);
    assert_eq!(std::sync::Arc::strong_count(&src), 1);
}

#[test]
fn shared_windows_keep_text_and_flags_exactly() {
    // Non-ASCII, surrogates and invalid bytes at every position class, in windowed lengths
    // (both the copied-window and the shared-only range), over several of the copying
    // decoder's windows.
    let payloads: Vec<Vec<u8>> = (0..6000)
        .map(|i| {
            let mut p = ascii(31 + (i * 7) % 1500, i);
            let ins = INSERTS[i % INSERTS.len()];
            let at = (i * 13) % (p.len() - ins.len());
            p[at..at + ins.len()].copy_from_slice(ins);
            p
        })
        .collect();
    // Invalid payloads fail both decodes alike; keep the valid ones.
    let valid: Vec<Vec<u8>> = payloads
        .into_iter()
        .filter(|p| brine::loads(&str_list(std::slice::from_ref(p), b"")).is_ok())
        .collect();
    assert!(valid.len() > 3000);
    let data = str_list(&valid, b"");
    let copied = same_both_ways(&data, LoadOptions::new, "shared windows").unwrap();
    let shared =
        brine::loads_shared(std::sync::Arc::new(data.clone()), LoadOptions::new()).unwrap();
    assert!(copied == shared);
    let flags = |g: &Graph| -> Vec<(bool, bool)> {
        g.nodes()
            .filter_map(|(_, n)| match n {
                Node::Str(s) => Some((s.is_utf8(), s.as_str().is_some())),
                _ => None,
            })
            .collect()
    };
    assert_eq!(flags(&copied), flags(&shared));
    assert!(flags(&shared).iter().any(|f| !f.0), "some lone surrogates");
    let shared_count = payloads_of(&shared).iter().filter(|p| p.1).count();
    assert_eq!(shared_count, valid.len());
    // Errors in shared windows are the copying decode's, at the same offsets.
    let mut bad = valid[..50].to_vec();
    bad.push(b"\xffxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".to_vec());
    let data = str_list(&bad, b"");
    let e1 = brine::loads(&data).unwrap_err();
    let e2 = brine::loads_shared(std::sync::Arc::new(data), LoadOptions::new()).unwrap_err();
    assert_eq!(e1.to_string(), e2.to_string());
}
