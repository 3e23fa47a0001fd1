//! The unpickling machine end to end: every opcode, Python 2 pickles, CPython-made pickles of
//! every protocol, exact error messages and offsets, and hostile inputs (truncation, memo
//! bombs, huge indices and lengths, deep nesting) that must end cleanly and quickly.
//!
//! Encoder and round-trip tests belong in `tests/pickle.rs`; decoder-only tests in brine-core.

use std::process::Command;
use std::time::{Duration, Instant};

use brine::core::{Decoder, ErrorCode, LimitKind, Opcode};
use brine::value::{Blob, Graph, Node, NodeId, ObjectKind};
use brine::{Category, DecodeErrors, LoadOptions, StringEncoding, Unpickler};

/// CPython's `pickle.dumps(<expr>, proto)`.
fn py(expr: &str, proto: u8) -> Vec<u8> {
    let code = format!(
        "import pickle, sys, datetime, collections\nsys.stdout.buffer.write(pickle.dumps({expr}, {proto}))"
    );
    let out = Command::new("python3")
        .args(["-c", &code])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A Python-like repr of a node (test helper; recursion is fine on these small values).
fn repr(g: &Graph, id: NodeId) -> String {
    let join_ids = |v: &[NodeId]| v.iter().map(|&i| repr(g, i)).collect::<Vec<_>>().join(", ");
    let join = |v: &brine::value::Items| join_ids(g.items(*v));
    match g.get(id) {
        Node::None => "None".into(),
        Node::Bool(b) => if *b { "True" } else { "False" }.into(),
        Node::Int(i) => i.to_string(),
        Node::BigInt(i) => i.to_string(),
        Node::Float(x) => format!("{x:?}"),
        Node::Str(s) => format!("{:?}", s.to_string_lossy()).replace('"', "'"),
        Node::Bytes(b) => format!("b{:?}", String::from_utf8_lossy(b.as_bytes())).replace('"', "'"),
        Node::ByteArray(b) => format!("bytearray({:?})", b.as_bytes()),
        Node::List(v) => format!("[{}]", join(v)),
        Node::Tuple(v) if v.len() == 1 => format!("({},)", join(v)),
        Node::Tuple(v) => format!("({})", join(v)),
        Node::Dict(v) => format!(
            "{{{}}}",
            g.pairs(*v)
                .iter()
                .map(|(k, x)| format!("{}: {}", repr(g, k), repr(g, x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Node::Set(v) => format!("set([{}])", join(v)),
        Node::FrozenSet(v) => format!("frozenset([{}])", join(v)),
        Node::Global(gl) => format!("<{}.{}>", gl.module, gl.name),
        Node::Object(o) => format!(
            "{:?}({}, {}){}{}{}",
            o.kind,
            repr(g, o.callable),
            repr(g, o.args),
            o.state
                .map(|s| format!(" state={}", repr(g, s)))
                .unwrap_or_default(),
            if o.list_items.is_empty() {
                String::new()
            } else {
                format!(" items=[{}]", join_ids(&o.list_items))
            },
            if o.dict_items.is_empty() {
                String::new()
            } else {
                format!(
                    " dict={{{}}}",
                    o.dict_items
                        .iter()
                        .map(|&(k, x)| format!("{}: {}", repr(g, k), repr(g, x)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
        Node::PersId(p) => format!("persid({})", repr(g, *p)),
        Node::Ext(c) => format!("ext({c})"),
        Node::Buffer(b) => format!("buffer({}, ro={}, {:?})", b.index, b.readonly, b.data),
    }
}

fn load_repr(p: &[u8]) -> String {
    let g = brine::loads(p).unwrap_or_else(|e| panic!("{e} in {p:?}"));
    repr(&g, g.root().unwrap())
}

fn load_repr_with(p: &[u8], o: LoadOptions) -> String {
    let g = brine::loads_with(p, o).unwrap_or_else(|e| panic!("{e} in {p:?}"));
    repr(&g, g.root().unwrap())
}

fn err(p: &[u8]) -> String {
    brine::loads(p).unwrap_err().to_string()
}

/// Every opcode at least once, with the value it must give.
const OPCODE_CASES: &[(&[u8], &str)] = &[
    (b"N.", "None"),
    (b"\x80\x02\x88\x89\x86.", "(True, False)"),
    (b"(I00\nI01\nI42\nI-7\nt.", "(False, True, 42, -7)"),
    (b"J\xff\xff\xff\xffK\x05M\x00\x01\x87.", "(-1, 5, 256)"),
    (b"L12345678901234567890L\n.", "12345678901234567890"),
    (
        b"\x8a\x01\xff\x8b\x02\x00\x00\x00\x00\x01\x86.",
        "(-1, 256)",
    ),
    (b"F1.5\nG?\xf8\x00\x00\x00\x00\x00\x00\x86.", "(1.5, 1.5)"),
    (b"Vcaf\xe9\\u20ac\n.", "'caf\u{e9}\u{20ac}'"),
    (
        b"X\x02\x00\x00\x00hi\x8c\x02ok\x8d\x01\x00\x00\x00\x00\x00\x00\x00!\x87.",
        "('hi', 'ok', '!')",
    ),
    (b"S'ab'\nT\x01\x00\x00\x00cU\x01d\x87.", "('ab', 'c', 'd')"),
    (
        b"\x80\x03C\x01aB\x01\x00\x00\x00b\x8e\x01\x00\x00\x00\x00\x00\x00\x00c\x87.",
        "(b'a', b'b', b'c')",
    ),
    (
        b"\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00xy.",
        "bytearray([120, 121])",
    ),
    (b"(K\x01K\x02l.", "[1, 2]"),
    (b"]K\x01a(K\x02K\x03e.", "[1, 2, 3]"),
    (b")(K\x01t\x86.", "((), (1,))"),
    (
        b"(K\x01K\x02d}K\x03K\x04s(K\x05K\x06u\x86.",
        "({1: 2}, {3: 4, 5: 6})",
    ),
    (
        b"\x8f(K\x01K\x02\x90(K\x03\x91\x86.",
        "(set([1, 2]), frozenset([3]))",
    ),
    (b"K\x01K\x020K\x03(K\x041\x86.", "(1, 3)"),
    (b"K\x012\x86\x85.", "((1, 1),)"),
    (b"]p0\n0g0\n.", "[]"),
    (b"]q\x010h\x01.", "[]"),
    (b"]r\x00\x01\x00\x000j\x00\x01\x00\x00.", "[]"),
    (
        b"\x80\x04\x95\x04\x00\x00\x00\x00\x00\x00\x00]\x94h\x00\x86.",
        "([], [])",
    ),
    (b"cos\nsystem\n.", "<os.system>"),
    (
        b"\x8c\x0bcollections\x8c\x0bOrderedDict\x93.",
        "<collections.OrderedDict>",
    ),
    (
        b"ccollections\nOrderedDict\n)R(K\x01K\x02u}b.",
        "Reduce(<collections.OrderedDict>, ()) state={} dict={1: 2}",
    ),
    (
        b"\x80\x02c__main__\nP\n)\x81}b.",
        "NewObj(<__main__.P>, ()) state={}",
    ),
    (
        b"\x80\x04c__main__\nP\n)}\x92.",
        "NewObjEx(<__main__.P>, ())",
    ),
    (b"(K\x01i__main__\nC\n.", "Inst(<__main__.C>, (1,))"),
    (b"(c__main__\nC\nK\x01o.", "Obj(<__main__.C>, (1,))"),
    (b"Pid1\n.", "persid('id1')"),
    (b"K\x07Q.", "persid(7)"),
    (
        b"\x82\x01\x83\x00\x01\x84\x00\x00\x01\x00\x87.",
        "(ext(1), ext(256), ext(65536))",
    ),
    (
        b"\x80\x05\x97\x97\x98\x86.",
        "(buffer(0, ro=false, None), buffer(1, ro=true, None))",
    ),
];

#[test]
fn every_opcode() {
    let mut seen = std::collections::HashSet::new();
    for (p, want) in OPCODE_CASES {
        assert_eq!(&load_repr(p), want, "{p:?}");
        let mut d = Decoder::new(p);
        while let Some(i) = d.next_instruction().unwrap() {
            seen.insert(i.op);
        }
    }
    let missing: Vec<_> = Opcode::all().filter(|o| !seen.contains(o)).collect();
    assert!(missing.is_empty(), "not covered: {missing:?}");
}

#[test]
fn python2_pickles() {
    // Python 2.7: pickle.dumps({'a': [1, 2L, 1.5, u'\u20ac', 'x']}, 0)
    let p0 = b"(dp0\nS'a'\np1\n(lp2\nI1\naL2L\naF1.5\naV\\u20ac\np3\naS'x'\np4\nas.";
    assert_eq!(load_repr(p0), "{'a': [1, 2, 1.5, '\u{20ac}', 'x']}");
    // The same at protocol 2.
    let p2 = b"\x80\x02}q\x00U\x01aq\x01]q\x02(K\x01\x8a\x01\x02G?\xf8\x00\x00\x00\x00\x00\x00X\x03\x00\x00\x00\xe2\x82\xacq\x03U\x01xq\x04es.";
    assert_eq!(load_repr(p2), "{'a': [1, 2, 1.5, '\u{20ac}', 'x']}");
    // Old-style instance (INST) and copy_reg._reconstructor, with fix_imports.
    let inst = b"(i__main__\nOld\np0\n(dp1\nS'x'\np2\nI1\nsb.";
    assert_eq!(load_repr(inst), "Inst(<__main__.Old>, ()) state={'x': 1}");
    let recon = b"ccopy_reg\n_reconstructor\np0\n(c__main__\nNew\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n.";
    let g = brine::loads(recon).unwrap();
    let Node::Object(o) = g.get(g.root().unwrap()) else {
        panic!()
    };
    let Node::Global(f) = g.get(o.callable) else {
        panic!()
    };
    assert_eq!(
        (f.module.as_str(), f.name.as_str()),
        ("copyreg", "_reconstructor")
    );
    assert_eq!(
        f.original,
        Some(("copy_reg".into(), "_reconstructor".into()))
    );
    assert_eq!(
        repr(&g, o.args),
        "(<__main__.New>, <builtins.object>, None)"
    );
    // fix_imports off keeps the Python 2 names; protocol 3 never maps.
    assert_eq!(
        load_repr_with(
            b"c__builtin__\nunicode\n.",
            LoadOptions::new().fix_imports(false)
        ),
        "<__builtin__.unicode>"
    );
    assert_eq!(load_repr(b"c__builtin__\nunicode\n."), "<builtins.str>");
    assert_eq!(
        load_repr(b"\x80\x03c__builtin__\nunicode\n."),
        "<__builtin__.unicode>"
    );
    // Python 2 str decoding options.
    let s = b"U\x04caf\xe9.";
    assert_eq!(
        err(s),
        "'ascii' codec can't decode byte 0xe9 in position 3: ordinal not in range(128) at offset 0 (opcode SHORT_BINSTRING)"
    );
    assert_eq!(
        load_repr_with(s, LoadOptions::new().encoding(StringEncoding::Latin1)),
        "'caf\u{e9}'"
    );
    assert_eq!(
        load_repr_with(s, LoadOptions::new().encoding(StringEncoding::Bytes)),
        "b'caf\u{fffd}'"
    );
    assert_eq!(
        load_repr_with(s, LoadOptions::new().errors(DecodeErrors::Replace)),
        "'caf\u{fffd}'"
    );
    assert_eq!(load_repr(b"S'a\\'b\\n'\n."), "'a'b\\n'");
}

#[test]
fn cpython_pickles_every_protocol() {
    let exprs = [
        (
            "{'a': [1, 2.5, 'x', b'y', None, True, (1, 2), 2**70, -3]}",
            "{'a': [1, 2.5, 'x', b'y', None, True, (1, 2), 1180591620717411303424, -3]}",
        ),
        (
            "[[list(range(3)), ()] for _ in range(2)]",
            "[[[0, 1, 2], ()], [[0, 1, 2], ()]]",
        ),
        (
            "('\\u20ac\\U0001f600', -2**63, 2**63, 1e300, -0.0)",
            "('\u{20ac}\u{1f600}', -9223372036854775808, 9223372036854775808, 1e300, -0.0)",
        ),
        (
            "[b'', bytearray(b'ab'), bytearray(), {1, 2}, frozenset([3])]",
            "[b'', bytearray([97, 98]), bytearray([]), set([1, 2]), frozenset([3])]",
        ),
        ("{i: str(i) for i in range(1001)}", ""),
    ];
    for proto in 0..=5u8 {
        for (e, want) in exprs {
            let p = py(e, proto);
            let got = load_repr(&p);
            if !want.is_empty() {
                assert_eq!(got, want, "protocol {proto}: {e}");
            }
        }
    }
}

#[test]
fn nested_qualname_and_getattr() {
    // CPython writes nested classes at protocols < 4 as getattr(Outer, 'Inner').
    let p = b"\x80\x02c__builtin__\ngetattr\nc__main__\nOuter\nX\x05\x00\x00\x00Inner\x86R.";
    assert_eq!(load_repr(p), "<__main__.Outer.Inner>");
    let off = LoadOptions::new().recognize_builtins(false);
    assert_eq!(
        load_repr_with(p, off),
        "Reduce(<builtins.getattr>, (<__main__.Outer>, 'Inner'))"
    );
    // Not a plain identifier: stays a call.
    let p = b"\x80\x02c__builtin__\ngetattr\nc__main__\nOuter\nX\x01\x00\x00\x00-\x86R.";
    assert!(load_repr(p).starts_with("Reduce("));
}

#[test]
fn recognize_builtins_set_p2() {
    let p = py("{1, 2}", 2);
    let g = brine::loads(&p).unwrap();
    assert_eq!(repr(&g, g.root().unwrap()), "set([1, 2])");
    let g = brine::loads_with(&p, LoadOptions::new().recognize_builtins(false)).unwrap();
    let Node::Object(o) = g.get(g.root().unwrap()) else {
        panic!("{g:?}")
    };
    assert_eq!(o.kind, ObjectKind::Reduce);
    assert_eq!(repr(&g, o.callable), "<builtins.set>");
    assert_eq!(load_repr(&py("b'\\xff\\x00'", 2)), "b'\u{fffd}\\0'");
    let g = brine::loads(&py("b'\\xff\\x00'", 0)).unwrap();
    assert_eq!(
        g.get(g.root().unwrap()),
        &Node::Bytes(Blob::from(&b"\xff\x00"[..]))
    );
    // A non-latin-1 str is no bytes.
    let p = b"c_codecs\nencode\n(V\\u20ac\nVlatin1\ntR.";
    assert!(load_repr(p).starts_with("Reduce("));
}

#[test]
fn shared_dag_and_cycles() {
    for proto in 0..=5 {
        let p = py("(lambda x: (lambda y: [y, y])([x, x]))([1])", proto);
        let g = brine::loads(&p).unwrap();
        let Node::List(top) = g.get(g.root().unwrap()) else {
            panic!()
        };
        let top = g.items(*top);
        assert_eq!(top[0], top[1]);
        let Node::List(y) = g.get(top[0]) else {
            panic!()
        };
        let y = g.items(*y);
        assert_eq!(y[0], y[1]);
        assert_eq!(repr(&g, y[0]), "[1]");
    }
    let p = b"\x80\x02]q\x00h\x00a.";
    let g = brine::loads(p).unwrap();
    let root = g.root().unwrap();
    assert_eq!(g.seq(root), Some(&[root][..]));
    let p = py("(lambda l: (l.append(l), l)[1])([])", 4);
    let g = brine::loads(&p).unwrap();
    let root = g.root().unwrap();
    assert_eq!(g.seq(root), Some(&[root][..]));
    assert!(format!("{g:?}").contains("List([#"));
}

#[test]
fn several_pickles_one_stream() {
    // A second dump on one CPython pickler refers to the first pickle's memo.
    let code = "import pickle, io, sys\nf = io.BytesIO(); p = pickle.Pickler(f, 2)\nx = [1]\np.dump(x); p.dump(x); p.dump('end')\nsys.stdout.buffer.write(f.getvalue())";
    let out = Command::new("python3").args(["-c", code]).output().unwrap();
    let data = out.stdout;
    let mut u = Unpickler::new(&data, LoadOptions::new());
    let a = u.load().unwrap();
    assert!(!u.at_end());
    let b = u.load().unwrap();
    assert_eq!(a, b);
    let c = u.load_next().unwrap().unwrap();
    assert_eq!(repr(u.graph(), c), "'end'");
    assert_eq!(u.graph().root(), Some(c));
    assert!(u.at_end());
    assert_eq!(u.offset(), data.len() as u64);
    assert_eq!(u.load_next().unwrap(), None);
    // The same from a reader.
    let mut u = Unpickler::from_reader(&data[..], LoadOptions::new());
    let mut n = 0;
    while u.load_next().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 3);
    let g = brine::load(&data[..]).unwrap();
    assert_eq!(repr(&g, g.root().unwrap()), "[1]");
}

#[test]
fn options_hooks_buffers_extensions() {
    let o = LoadOptions::new().persistent_load(|g: &mut Graph, pid| {
        let s = repr(g, pid);
        Ok(g.str(&format!("loaded {s}")))
    });
    assert_eq!(load_repr_with(b"Pab\n.", o), "'loaded \'ab\''");
    let o = LoadOptions::new().extension(240, "copy_reg", "_reconstructor");
    assert_eq!(
        load_repr_with(b"\x80\x02\x82\xf0.", o),
        "<copyreg._reconstructor>"
    );
    let p = b"\x80\x05\x95\x08\x00\x00\x00\x00\x00\x00\x00]\x94(\x97\x98\x97e.";
    let bufs = vec![Blob::from(&b"abc"[..]), Blob::from(&b"xyz"[..])];
    let got = load_repr_with(p, LoadOptions::new().buffers(bufs.clone()));
    assert_eq!(
        got,
        "[buffer(0, ro=true, Some(b\"abc\")), buffer(1, ro=false, Some(b\"xyz\"))]"
    );
    let e = brine::loads_with(p, LoadOptions::new().buffers(bufs[..1].to_vec())).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not enough out-of-band buffers at offset 16 (opcode NEXT_BUFFER)"
    );
    assert_eq!(load_repr(b"C\x01a\x98."), "b'a'");
}

#[test]
fn error_messages_and_offsets() {
    let e = brine::loads(b"").unwrap_err();
    assert!(matches!(e.code(), ErrorCode::Empty));
    assert_eq!(e.to_string(), "ran out of input at offset 0");
    let cases: &[(&[u8], &str)] = &[
        (b"\x80\x02N", "pickle data was truncated at offset 3"),
        (b"\x80\x02\xff", "invalid load key, '\\xff' at offset 2"),
        (b"\x80\x06.", "unsupported pickle protocol: 6 at offset 0 (opcode PROTO)"),
        (b"\x80\x02a", "unpickling stack underflow at offset 2 (opcode APPEND)"),
        (b"NN(NN\x87.", "unexpected MARK found at offset 5 (opcode TUPLE3)"),
        (b"]K\x01K\x02e.", "could not find MARK at offset 5 (opcode APPENDS)"),
        (b"}(K\x01u.", "odd number of items for SETITEMS at offset 4 (opcode SETITEMS)"),
        (b"(K\x01d.", "odd number of items for DICT at offset 3 (opcode DICT)"),
        (b"\x80\x02h\x05.", "Memo value not found at index 5 at offset 2 (opcode BINGET)"),
        (b"g-1\n.", "Memo value not found at index -1 at offset 0 (opcode GET)"),
        (b"Np-1\n.", "negative PUT argument at offset 1 (opcode PUT)"),
        (b"K\x01\x8c\x01b\x93.", "STACK_GLOBAL requires str at offset 5 (opcode STACK_GLOBAL)"),
        (b"\x82\x00.", "EXT specifies code <= 0 at offset 0 (opcode EXT1)"),
        (b"X\x02\x00\x00\x00\xff\xfe.", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte at offset 0 (opcode BINUNICODE)"),
        (b"Sabc\n.", "the STRING opcode argument must be quoted at offset 0 (opcode STRING)"),
        (b"I0x\n.", "could not convert string to int at offset 0 (opcode INT)"),
        (b"K\x01K\x02b.", "BUILD on a int is not supported at offset 4 (opcode BUILD)"),
        (b"NN\x81.", "NEWOBJ class argument must be a type, not NoneType at offset 2 (opcode NEWOBJ)"),
        (b"K\x01K\x01R.", "argument list must be a tuple at offset 4 (opcode REDUCE)"),
        (b"\x80\x02]K\x01\x90.", "could not find MARK at offset 5 (opcode ADDITEMS)"),
    ];
    for (p, want) in cases {
        assert_eq!(&err(p), want, "{p:?}");
    }
    assert_eq!(
        brine::loads(b"\x80\x06.").unwrap_err().classify(),
        Category::Unsupported
    );
    assert_eq!(
        brine::loads(b"1.").unwrap_err().classify(),
        Category::Syntax
    );
    assert_eq!(brine::loads(b"0.").unwrap_err().classify(), Category::Data);
    // A second BUILD is refused, never a panic.
    let e = brine::loads(b"\x80\x02c__main__\nP\n)\x81}b}b.").unwrap_err();
    assert_eq!(e.classify(), Category::Unsupported);
}

#[test]
fn every_prefix_is_eof() {
    let mut pickles = vec![
        b"(dp0\nS'a'\np1\n(lp2\nI1\naL2L\naF1.5\naV\\u20ac\np3\naS'x'\np4\nas.".to_vec(),
        b"(i__main__\nOld\np0\n(dp1\nS'x'\np2\nI1\nsb.".to_vec(),
    ];
    for proto in 0..=5 {
        pickles.push(py("{'a': [1, 2.5, 'x', b'y', None, True, (1, 2), 2**70, -3, {3}, datetime.date(1980, 5, 7)]}", proto));
    }
    for p in &pickles {
        assert!(brine::loads(p).is_ok());
        for n in 0..p.len() {
            for e in [
                brine::loads(&p[..n]).unwrap_err(),
                brine::load(&p[..n]).unwrap_err(),
            ] {
                assert_eq!(e.classify(), Category::Eof, "prefix {n} of {p:?}: {e}");
            }
        }
    }
}

#[test]
fn huge_memo_index_does_not_allocate() {
    let t = Instant::now();
    let g = brine::loads(b"\x80\x02Nr\x00\x00\x00\x80j\x00\x00\x00\x80.").unwrap();
    assert_eq!(g.get(g.root().unwrap()), &Node::None);
    let e = brine::loads(b"\x80\x02Nr\x01\x00\x00\x80.").unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::MemoIndex));
    assert_eq!(e.offset(), Some(3));
    // Sparse puts climbing by doubling stay sparse.
    let mut p = b"\x80\x02N".to_vec();
    for k in 10..31 {
        p.push(b'r');
        p.extend_from_slice(&(1u32 << k).to_le_bytes());
    }
    p.push(b'.');
    brine::loads(&p).unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn memo_bomb_is_linear() {
    let mut p = b"\x80\x02]q\x00".to_vec();
    for i in 0..60u8 {
        p.extend_from_slice(&[b'h', i, b'h', i, 0x86, b'q', i + 1]);
    }
    p.push(b'.');
    let t = Instant::now();
    let g = brine::loads(&p).unwrap();
    assert!(g.len() < 100);
    assert!(t.elapsed() < Duration::from_secs(1));
    let Node::Tuple(v) = g.get(g.root().unwrap()) else {
        panic!()
    };
    let v = g.items(*v);
    assert_eq!(v[0], v[1]);
}

#[test]
fn deep_nesting() {
    const N: usize = 2_000_000;
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b']', N));
    p.extend(std::iter::repeat_n(b'a', N - 1));
    p.push(b'.');
    let t = Instant::now();
    let g = brine::loads(&p).unwrap();
    assert_eq!(g.len(), N);
    drop(g);
    // Nested MARKs hit the marks limit.
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'(', N));
    let e = brine::loads(&p).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::Marks));
    assert!(t.elapsed() < Duration::from_secs(20));
}

#[test]
fn huge_declared_lengths() {
    for op in [0x8e_u8, 0x8d, 0x96] {
        let mut p = vec![0x80, 5, op];
        p.extend_from_slice(&(1u64 << 62).to_le_bytes());
        p.extend_from_slice(b"abc.");
        assert_eq!(brine::loads(&p).unwrap_err().classify(), Category::Eof);
        assert_eq!(brine::load(&p[..]).unwrap_err().classify(), Category::Eof);
    }
    let mut p = vec![0x80, 5, 0x95];
    p.extend_from_slice(&(1u64 << 62).to_le_bytes());
    assert_eq!(brine::loads(&p).unwrap_err().classify(), Category::Eof);
}

#[test]
fn limits_are_enforced() {
    use brine::Limits;
    let l = |f: fn(&mut Limits)| {
        let mut lim = Limits::default();
        f(&mut lim);
        LoadOptions::new().limits(lim)
    };
    let p = py("list(range(100))", 4);
    let e = brine::loads_with(&p, l(|l| l.max_nodes = 10)).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::Nodes));
    let e = brine::loads_with(&p, l(|l| l.max_stack = 10)).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::Stack));
    let p = py("[str(i) for i in range(100)]", 4);
    let e = brine::loads_with(&p, l(|l| l.max_memo_entries = 10)).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::MemoEntries));
    let e = brine::loads_with(&p, l(|l| l.max_alloc = 50)).unwrap_err();
    assert_eq!(e.limit_kind(), Some(LimitKind::Alloc));
}
