//! The typed JSON form: every graph written and read back exactly, sharing and cycles included.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use brine_core::{Error, LimitKind, Limits, Result};
use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::read::{Doc, Ix, J};
use super::text::{
    decode_base64, push_base64, push_code_point, push_float, push_str, surrogate_segments,
};
use crate::value::{
    Blob, Buffer, Global, Graph, Items, Node, NodeId, Object, ObjectKind, PairsRef, PyStr,
};

const NONE: u32 = u32::MAX;

/// How often each node reachable from `roots` is referenced (a root counts once).
pub(super) fn refcounts(g: &Graph, roots: &[NodeId]) -> Result<Vec<u32>> {
    let n = g.len();
    let mut counts = vec![0u32; n];
    let mut seen = vec![false; n];
    let mut stack = Vec::new();
    for &r in roots {
        check(g, r)?;
        counts[r.index()] = counts[r.index()].saturating_add(1);
        stack.push(r);
    }
    let mut bad = None;
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id.index()], true) {
            continue;
        }
        g.for_each_child(id, |c| match counts.get_mut(c.index()) {
            Some(k) => {
                *k = k.saturating_add(1);
                if !seen[c.index()] {
                    stack.push(c);
                }
            }
            None => bad = Some(c),
        });
        if let Some(c) = bad {
            return Err(Error::data(format!("node {c:?} is not in the graph")));
        }
    }
    Ok(counts)
}

fn check(g: &Graph, id: NodeId) -> Result<()> {
    match g.try_get(id) {
        Some(_) => Ok(()),
        None => Err(Error::data(format!("node {id:?} is not in the graph"))),
    }
}

/// True for nodes whose sharing the typed form keeps with `$id` / `$ref`: everything but
/// scalars and `()`, which a pickle writes afresh each time and which have no children (so
/// writing them twice can never loop).
pub(super) fn keeps_identity(n: &Node) -> bool {
    match n {
        Node::None
        | Node::Bool(_)
        | Node::Int(_)
        | Node::BigInt(_)
        | Node::Float(_)
        | Node::Ext(_) => false,
        Node::Tuple(items) => !items.is_empty(),
        _ => true,
    }
}

/// One step of the writer.
#[derive(Clone, Copy)]
enum T {
    Node(NodeId),
    Lit(&'static str),
    /// A str node as an object key, with its colon.
    Key(NodeId),
}

/// Writes the typed form of `roots` (`stream`: the `$pickles` wrapper with its memo flag).
pub(super) fn write(g: &Graph, roots: &[NodeId], stream: Option<bool>) -> Result<String> {
    let counts = refcounts(g, roots)?;
    let mut w = Writer {
        g,
        counts,
        ids: vec![NONE; g.len()],
        next_id: 0,
        out: String::new(),
        tasks: Vec::new(),
        seq: Vec::new(),
    };
    if let Some(shared) = stream {
        w.out.push_str("{\"$pickles\":[");
        w.seq.push(T::Lit("],\"shared_memo\":"));
        w.seq.push(T::Lit(if shared { "true}" } else { "false}" }));
        w.flush_seq();
        w.push_items(roots);
    } else if let [root] = roots {
        w.tasks.push(T::Node(*root));
    } else {
        return Err(Error::data("one root expected outside a stream"));
    }
    w.run()?;
    Ok(w.out)
}

struct Writer<'g> {
    g: &'g Graph,
    counts: Vec<u32>,
    /// The `$id` of each node written so far that keeps its identity.
    ids: Vec<u32>,
    next_id: u32,
    out: String,
    tasks: Vec<T>,
    /// Steps of the node being written, in order; pushed reversed onto `tasks`.
    seq: Vec<T>,
}

impl Writer<'_> {
    fn flush_seq(&mut self) {
        self.tasks.extend(self.seq.drain(..).rev());
    }

    /// Items separated by commas (pushed in front of what is already on `tasks`).
    fn push_items(&mut self, items: &[NodeId]) {
        for (i, &c) in items.iter().enumerate().rev() {
            self.tasks.push(T::Node(c));
            if i > 0 {
                self.tasks.push(T::Lit(","));
            }
        }
    }

    fn seq_items(&mut self, items: &[NodeId]) {
        for (i, &c) in items.iter().enumerate() {
            if i > 0 {
                self.seq.push(T::Lit(","));
            }
            self.seq.push(T::Node(c));
        }
    }

    fn seq_pairs(&mut self, pairs: PairsRef<'_>) {
        for (i, (k, v)) in pairs.iter().enumerate() {
            self.seq.push(T::Lit(if i > 0 { ",[" } else { "[" }));
            self.seq.push(T::Node(k));
            self.seq.push(T::Lit(","));
            self.seq.push(T::Node(v));
            self.seq.push(T::Lit("]"));
        }
    }

    fn run(&mut self) -> Result<()> {
        while let Some(t) = self.tasks.pop() {
            match t {
                T::Lit(s) => self.out.push_str(s),
                T::Key(id) => {
                    if let Node::Str(s) = self.g.get(id) {
                        push_str(&mut self.out, &s.to_string_lossy());
                    }
                    self.out.push(':');
                }
                T::Node(id) => self.node(id)?,
            }
        }
        Ok(())
    }

    fn node(&mut self, id: NodeId) -> Result<()> {
        let g = self.g;
        let node = g
            .try_get(id)
            .ok_or_else(|| Error::data(format!("node {id:?} is not in the graph")))?;
        // A shared node is written once with an `$id`, then referred to.
        let mut tag_open = false;
        if self.counts[id.index()] > 1 && keeps_identity(node) {
            let known = self.ids[id.index()];
            if known != NONE {
                let _ = write!(&mut self.out, "{{\"$ref\":{known}}}");
                return Ok(());
            }
            self.ids[id.index()] = self.next_id;
            let _ = write!(&mut self.out, "{{\"$id\":{},", self.next_id);
            self.next_id += 1;
            tag_open = true;
        }
        // `open(tag)`: starts the tagged object (after an `$id` if there is one).
        macro_rules! open {
            ($tag:expr) => {{
                if !tag_open {
                    self.out.push('{');
                }
                self.out.push_str(concat!("\"", $tag, "\":"));
            }};
        }
        match node {
            Node::None => self.out.push_str("null"),
            Node::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Node::Int(i) => {
                let _ = write!(&mut self.out, "{i}");
            }
            Node::BigInt(b) => {
                let _ = write!(&mut self.out, "{{\"$int\":\"{b}\"}}");
            }
            Node::Float(x) => write_float(&mut self.out, *x),
            Node::Str(s) => match s.as_str() {
                Some(text) if !tag_open => push_str(&mut self.out, text),
                Some(text) => {
                    open!("$str");
                    push_str(&mut self.out, text);
                    self.out.push('}');
                }
                None => {
                    open!("$str");
                    self.out.push('[');
                    for (i, seg) in surrogate_segments(s.as_bytes()).iter().enumerate() {
                        if i > 0 {
                            self.out.push(',');
                        }
                        match seg {
                            Ok(text) => push_str(&mut self.out, text),
                            Err(cu) => {
                                let _ = write!(&mut self.out, "{cu}");
                            }
                        }
                    }
                    self.out.push_str("]}");
                }
            },
            Node::Bytes(b) => {
                open!("$bytes");
                push_b64_str(&mut self.out, b.as_bytes());
                self.out.push('}');
            }
            Node::ByteArray(b) => {
                open!("$bytearray");
                push_b64_str(&mut self.out, b.as_bytes());
                self.out.push('}');
            }
            Node::List(items) => {
                if tag_open {
                    self.out.push_str("\"$list\":[");
                    self.seq_items(g.items(*items));
                    self.seq.push(T::Lit("]}"));
                } else {
                    self.out.push('[');
                    self.seq_items(g.items(*items));
                    self.seq.push(T::Lit("]"));
                }
            }
            Node::Tuple(items) | Node::Set(items) | Node::FrozenSet(items) => {
                match node {
                    Node::Tuple(_) => open!("$tuple"),
                    Node::Set(_) => open!("$set"),
                    _ => open!("$frozenset"),
                }
                self.out.push('[');
                self.seq_items(g.items(*items));
                self.seq.push(T::Lit("]}"));
            }
            Node::Dict(pairs) => {
                let pairs = g.pairs(*pairs);
                if object_form(g, pairs, &self.counts) {
                    if !tag_open {
                        self.out.push('{');
                    }
                    for (i, (k, v)) in pairs.iter().enumerate() {
                        if i > 0 {
                            self.seq.push(T::Lit(","));
                        }
                        self.seq.push(T::Key(k));
                        self.seq.push(T::Node(v));
                    }
                    if tag_open && pairs.is_empty() {
                        // `{"$id":n,` needs something after the comma.
                        self.seq.push(T::Lit("\"$dict\":[]"));
                    }
                    self.seq.push(T::Lit("}"));
                } else {
                    open!("$dict");
                    self.out.push('[');
                    self.seq_pairs(pairs);
                    self.seq.push(T::Lit("]}"));
                }
            }
            Node::Global(gl) => {
                open!("$global");
                write_pair(&mut self.out, &gl.module, &gl.name);
                if let Some((m, n)) = &gl.original {
                    self.out.push_str(",\"original\":");
                    write_pair(&mut self.out, m, n);
                }
                match gl.names {
                    Some((m, n)) => {
                        self.out.push_str(",\"names\":[");
                        self.seq_items(&[m, n]);
                        self.seq.push(T::Lit("]}"));
                    }
                    None => self.out.push('}'),
                }
            }
            Node::Object(o) => {
                open!("$object");
                let kind = match o.kind {
                    ObjectKind::Reduce => "reduce",
                    ObjectKind::NewObj => "newobj",
                    ObjectKind::NewObjEx => "newobj_ex",
                    ObjectKind::Inst => "inst",
                    ObjectKind::Obj => "obj",
                };
                let _ = write!(&mut self.out, "\"{kind}\",\"callable\":");
                self.seq.push(T::Node(o.callable));
                self.seq.push(T::Lit(",\"args\":"));
                self.seq.push(T::Node(o.args));
                for (name, field) in [
                    (",\"kwargs\":", o.kwargs),
                    (",\"state\":", o.state),
                    (",\"state_setter\":", o.state_setter),
                ] {
                    if let Some(f) = field {
                        self.seq.push(T::Lit(name));
                        self.seq.push(T::Node(f));
                    }
                }
                if !o.list_items.is_empty() {
                    self.seq.push(T::Lit(",\"list_items\":["));
                    self.seq_items(&o.list_items);
                    self.seq.push(T::Lit("]"));
                }
                if !o.dict_items.is_empty() {
                    self.seq.push(T::Lit(",\"dict_items\":["));
                    self.seq_pairs(PairsRef::from(&o.dict_items));
                    self.seq.push(T::Lit("]"));
                }
                self.seq.push(T::Lit("}"));
            }
            Node::PersId(p) => {
                open!("$persid");
                self.seq.push(T::Node(*p));
                self.seq.push(T::Lit("}"));
            }
            Node::Ext(code) => {
                let _ = write!(&mut self.out, "{{\"$ext\":{code}}}");
            }
            Node::Buffer(b) => {
                open!("$buffer");
                let _ = write!(&mut self.out, "{},\"readonly\":{}", b.index, b.readonly);
                if let Some(data) = &b.data {
                    self.out.push_str(",\"data\":");
                    push_b64_str(&mut self.out, data.as_bytes());
                }
                self.out.push('}');
            }
        }
        self.flush_seq();
        Ok(())
    }
}

/// A float: a plain number, or `{"$float": "..."}` for what JSON numbers cannot say exactly.
fn write_float(out: &mut String, x: f64) {
    if x.is_finite() && !(x == 0.0 && x.is_sign_negative()) {
        push_float(out, x);
        return;
    }
    let text = match x.to_bits() {
        0x7ff8_0000_0000_0000 => "nan".to_owned(),
        0xfff8_0000_0000_0000 => "-nan".to_owned(),
        _ if x == f64::INFINITY => "inf".to_owned(),
        _ if x == f64::NEG_INFINITY => "-inf".to_owned(),
        0x8000_0000_0000_0000 => "-0.0".to_owned(),
        // Other NaNs keep their payload: the pickle holds all 64 bits.
        bits => format!("0x{bits:016x}"),
    };
    let _ = write!(out, "{{\"$float\":\"{text}\"}}");
}

fn push_b64_str(out: &mut String, data: &[u8]) {
    out.push('"');
    push_base64(out, data);
    out.push('"');
}

fn write_pair(out: &mut String, a: &str, b: &str) {
    out.push('[');
    push_str(out, a);
    out.push(',');
    push_str(out, b);
    out.push(']');
}

/// True when a dict can be a plain JSON object: every key an unshared str node of valid
/// UTF-8, not starting with `$` (reserved for tags), no two alike.
fn object_form(g: &Graph, pairs: PairsRef<'_>, counts: &[u32]) -> bool {
    let mut seen = HashSet::new();
    pairs.iter().all(|(k, _)| match g.try_get(k) {
        Some(Node::Str(s)) => s
            .as_str()
            .is_some_and(|t| !t.starts_with('$') && counts[k.index()] <= 1 && seen.insert(t)),
        _ => false,
    })
}

/// A typed document read back.
pub(super) struct Built {
    pub graph: Graph,
    pub roots: Vec<NodeId>,
    pub stream: bool,
    pub shared_memo: bool,
}

/// The tags of the typed form, and the other fields each allows.
const TAGS: &[(&str, &[&str])] = &[
    ("$int", &[]),
    ("$float", &[]),
    ("$str", &[]),
    ("$bytes", &[]),
    ("$bytearray", &[]),
    ("$list", &[]),
    ("$tuple", &[]),
    ("$set", &[]),
    ("$frozenset", &[]),
    ("$dict", &[]),
    ("$global", &["original", "names"]),
    (
        "$object",
        &[
            "callable",
            "args",
            "kwargs",
            "state",
            "state_setter",
            "list_items",
            "dict_items",
        ],
    ),
    ("$persid", &[]),
    ("$ext", &[]),
    ("$buffer", &["readonly", "data"]),
];

/// Builds the graph of a parsed typed document.
pub(super) fn build(doc: &Doc, limits: &Limits) -> Result<Built> {
    let mut b = Builder {
        doc,
        limits,
        graph: Graph::new(),
        node_of: vec![NONE; doc.values.len()],
        defs: HashMap::new(),
        work: Vec::new(),
    };
    b.find_defs()?;
    let (tops, stream, shared_memo) = b.top()?;
    let mut roots = Vec::with_capacity(tops.len());
    for ix in tops {
        roots.push(b.node(ix)?);
        b.drain()?;
    }
    let mut graph = b.graph;
    if let Some(&last) = roots.last() {
        graph.set_root(last);
    }
    Ok(Built {
        graph,
        roots,
        stream,
        shared_memo,
    })
}

struct Builder<'d> {
    doc: &'d Doc,
    limits: &'d Limits,
    graph: Graph,
    /// The node made for each JSON value that is a node.
    node_of: Vec<u32>,
    /// `$id` number → the JSON value that defines it.
    defs: HashMap<u64, Ix>,
    /// Values whose node was allocated but not yet filled in.
    work: Vec<(Ix, NodeId)>,
}

/// The fields of an object value.
type Fields<'d> = &'d [(PyStr, Ix)];

impl<'d> Builder<'d> {
    fn j(&self, ix: Ix) -> &'d J {
        &self.doc.values[ix as usize]
    }

    #[cold]
    fn err(&self, ix: Ix, msg: impl Into<String>) -> Error {
        Error::data(msg).at(self.doc.offsets[ix as usize])
    }

    fn field(fields: Fields<'d>, name: &str) -> Option<Ix> {
        fields
            .iter()
            .find(|(k, _)| k.as_bytes() == name.as_bytes())
            .map(|&(_, v)| v)
    }

    fn find_defs(&mut self) -> Result<()> {
        for (ix, v) in self.doc.values.iter().enumerate() {
            let J::Obj(fields) = v else { continue };
            let Some(idv) = Self::field(fields, "$id") else {
                continue;
            };
            let ix = ix as Ix;
            let n = match self.j(idv) {
                J::Int(n) if *n >= 0 => *n as u64,
                _ => return Err(self.err(idv, "`$id` must be a non-negative integer")),
            };
            if Self::field(fields, "$ref").is_some() {
                return Err(self.err(ix, "an object cannot have both `$id` and `$ref`"));
            }
            if self.defs.insert(n, ix).is_some() {
                return Err(self.err(idv, format!("`$id` {n} is defined twice")));
            }
        }
        Ok(())
    }

    /// The documents' values, whether they form a stream, and its memo flag.
    fn top(&self) -> Result<(Vec<Ix>, bool, bool)> {
        let top = self.doc.top;
        if let J::Obj(fields) = self.j(top) {
            if let Some(p) = Self::field(fields, "$pickles") {
                let J::Arr(items) = self.j(p) else {
                    return Err(self.err(p, "`$pickles` must be an array"));
                };
                let mut shared = false;
                for (k, v) in fields.iter() {
                    match k.as_bytes() {
                        b"$pickles" => {}
                        b"shared_memo" => match self.j(*v) {
                            J::Bool(b) => shared = *b,
                            _ => return Err(self.err(*v, "`shared_memo` must be a bool")),
                        },
                        _ => {
                            return Err(self.err(
                                *v,
                                format!("unknown field `{}` in `$pickles`", k.to_string_lossy()),
                            ))
                        }
                    }
                }
                return Ok((items.to_vec(), true, shared));
            }
        }
        Ok((vec![top], false, false))
    }

    /// The node of value `ix` (following `$ref`), allocated now if new; filled in by `drain`.
    fn node(&mut self, mut ix: Ix) -> Result<NodeId> {
        if let J::Obj(fields) = self.j(ix) {
            if let Some(r) = Self::field(fields, "$ref") {
                if fields.len() != 1 {
                    return Err(self.err(ix, "`$ref` takes no other fields"));
                }
                let n = match self.j(r) {
                    J::Int(n) if *n >= 0 => *n as u64,
                    _ => return Err(self.err(r, "`$ref` must be a non-negative integer")),
                };
                ix = *self
                    .defs
                    .get(&n)
                    .ok_or_else(|| self.err(r, format!("`$ref` {n} names no `$id`")))?;
            }
        }
        let known = self.node_of[ix as usize];
        if known != NONE {
            return Ok(NodeId(known));
        }
        if self.graph.len() >= self.limits.max_nodes.min(u32::MAX as usize - 1) {
            return Err(Error::limit(LimitKind::Nodes).at(self.doc.offsets[ix as usize]));
        }
        let id = self.graph.add(Node::None);
        self.node_of[ix as usize] = id.0;
        self.work.push((ix, id));
        Ok(id)
    }

    fn drain(&mut self) -> Result<()> {
        while let Some((ix, id)) = self.work.pop() {
            let node = self.fill(ix)?;
            *self.graph.get_mut(id) = node;
        }
        Ok(())
    }

    /// The nodes of the array at `ix`, stored as a container's items.
    fn items(&mut self, ix: Ix) -> Result<Items> {
        let v = self.nodes(ix)?;
        Ok(self.graph.new_items(&v))
    }

    fn nodes(&mut self, ix: Ix) -> Result<Vec<NodeId>> {
        let J::Arr(items) = self.j(ix) else {
            return Err(self.err(ix, "expected an array"));
        };
        items.iter().map(|&c| self.node(c)).collect()
    }

    fn pairs(&mut self, ix: Ix) -> Result<Vec<(NodeId, NodeId)>> {
        let J::Arr(items) = self.j(ix) else {
            return Err(self.err(ix, "expected an array of [key, value] pairs"));
        };
        let mut out = Vec::with_capacity(items.len());
        for &p in items.iter() {
            match self.j(p) {
                J::Arr(kv) if kv.len() == 2 => {
                    let k = self.node(kv[0])?;
                    let v = self.node(kv[1])?;
                    out.push((k, v));
                }
                _ => return Err(self.err(p, "expected a [key, value] pair")),
            }
        }
        Ok(out)
    }

    fn text(&self, ix: Ix) -> Result<&'d str> {
        match self.j(ix) {
            J::Str(s) => s
                .as_str()
                .ok_or_else(|| self.err(ix, "expected text without lone surrogates")),
            _ => Err(self.err(ix, "expected a string")),
        }
    }

    fn name_pair(&self, ix: Ix) -> Result<(String, String)> {
        match self.j(ix) {
            J::Arr(p) if p.len() == 2 => {
                Ok((self.text(p[0])?.to_owned(), self.text(p[1])?.to_owned()))
            }
            _ => Err(self.err(ix, "expected [module, name]")),
        }
    }

    fn base64(&self, ix: Ix) -> Result<Blob> {
        decode_base64(self.text(ix)?)
            .map(Blob::from)
            .ok_or_else(|| self.err(ix, "invalid base64"))
    }

    fn fill(&mut self, ix: Ix) -> Result<Node> {
        Ok(match self.j(ix) {
            J::Null => Node::None,
            J::Bool(b) => Node::Bool(*b),
            J::Int(i) => Node::Int(*i),
            J::BigInt(b) => Node::BigInt(b.clone()),
            J::Float(x) => Node::Float(*x),
            J::Str(s) => Node::Str(s.clone()),
            J::Arr(_) => Node::List(self.items(ix)?),
            J::Obj(fields) => return self.object(ix, fields),
        })
    }

    fn object(&mut self, ix: Ix, fields: Fields<'d>) -> Result<Node> {
        let mut tag: Option<(&str, Ix, &[&str])> = None;
        for (k, v) in fields.iter() {
            let key = k.as_str().unwrap_or("");
            if !key.starts_with('$') || key == "$id" {
                continue;
            }
            let Some(&(name, allowed)) = TAGS.iter().find(|(t, _)| *t == key) else {
                return Err(self.err(*v, format!("unknown tag `{}`", k.to_string_lossy())));
            };
            if let Some((first, ..)) = tag {
                return Err(self.err(*v, format!("both `{first}` and `{name}` in one object")));
            }
            tag = Some((name, *v, allowed));
        }
        let Some((tag, v, allowed)) = tag else {
            // A dict with str keys.
            let mut pairs = Vec::with_capacity(fields.len());
            for (k, v) in fields.iter() {
                if k.as_bytes() == b"$id" {
                    continue;
                }
                if self.graph.len() >= self.limits.max_nodes.min(u32::MAX as usize - 1) {
                    return Err(Error::limit(LimitKind::Nodes).at(self.doc.offsets[ix as usize]));
                }
                let key = self.graph.add(Node::Str(k.clone()));
                pairs.push((key, self.node(*v)?));
            }
            return Ok(Node::Dict(self.graph.new_pairs(&pairs)));
        };
        for (k, fv) in fields.iter() {
            let key = k.as_bytes();
            if key != tag.as_bytes()
                && key != b"$id"
                && !allowed.iter().any(|a| a.as_bytes() == key)
            {
                return Err(self.err(
                    *fv,
                    format!("unknown field `{}` in `{tag}`", k.to_string_lossy()),
                ));
            }
        }
        let opt = |name: &str| Self::field(fields, name);
        Ok(match tag {
            "$int" => match self.j(v) {
                J::Int(i) => Node::Int(*i),
                J::BigInt(b) => Node::BigInt(b.clone()),
                J::Str(s) => {
                    let t = s.as_str().unwrap_or("");
                    if t.len() > self.limits.max_int_digits {
                        return Err(
                            Error::limit(LimitKind::IntDigits).at(self.doc.offsets[v as usize])
                        );
                    }
                    let b: BigInt = t.parse().map_err(|_| self.err(v, "invalid integer"))?;
                    match b.to_i64() {
                        Some(i) => Node::Int(i),
                        None => Node::BigInt(Box::new(b)),
                    }
                }
                _ => return Err(self.err(v, "`$int` takes an integer or a string of digits")),
            },
            "$float" => Node::Float(match self.j(v) {
                J::Float(x) => *x,
                J::Int(i) => *i as f64,
                J::Str(s) => match s.as_str().unwrap_or("") {
                    "nan" => f64::NAN,
                    "-nan" => -f64::NAN,
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    "-0.0" => -0.0,
                    t => t
                        .strip_prefix("0x")
                        .and_then(|h| u64::from_str_radix(h, 16).ok())
                        .map(f64::from_bits)
                        .ok_or_else(|| self.err(v, "invalid `$float`"))?,
                },
                _ => return Err(self.err(v, "invalid `$float`")),
            }),
            "$str" => match self.j(v) {
                J::Str(s) => Node::Str(s.clone()),
                J::Arr(segs) => {
                    let mut bytes = Vec::new();
                    for &sg in segs.iter() {
                        match self.j(sg) {
                            J::Str(s) => bytes.extend_from_slice(s.as_bytes()),
                            J::Int(cu) if (0xD800..0xE000).contains(cu) => {
                                push_code_point(&mut bytes, *cu as u32)
                            }
                            _ => {
                                return Err(self.err(
                                    sg,
                                    "`$str` segments are strings and surrogates (55296–57343)",
                                ))
                            }
                        }
                    }
                    Node::Str(
                        PyStr::from_surrogatepass(bytes)
                            .ok_or_else(|| self.err(v, "invalid `$str`"))?,
                    )
                }
                _ => return Err(self.err(v, "`$str` takes a string or an array of segments")),
            },
            "$bytes" => Node::Bytes(self.base64(v)?),
            "$bytearray" => Node::ByteArray(self.base64(v)?),
            "$list" => Node::List(self.items(v)?),
            "$tuple" => Node::Tuple(self.items(v)?),
            "$set" => Node::Set(self.items(v)?),
            "$frozenset" => Node::FrozenSet(self.items(v)?),
            "$dict" => Node::Dict({
                let p = self.pairs(v)?;
                self.graph.new_pairs(&p)
            }),
            "$global" => {
                let (module, name) = self.name_pair(v)?;
                let mut g = Global::new(module, name);
                if let Some(o) = opt("original") {
                    g.original = Some(self.name_pair(o)?);
                }
                if let Some(n) = opt("names") {
                    match self.nodes(n)?[..] {
                        [m, n] => g.names = Some((m, n)),
                        _ => return Err(self.err(n, "`names` takes two nodes")),
                    }
                }
                Node::Global(Box::new(g))
            }
            "$object" => {
                let kind = match self.text(v)? {
                    "reduce" => ObjectKind::Reduce,
                    "newobj" => ObjectKind::NewObj,
                    "newobj_ex" => ObjectKind::NewObjEx,
                    "inst" => ObjectKind::Inst,
                    "obj" => ObjectKind::Obj,
                    _ => {
                        return Err(
                            self.err(v, "`$object` is reduce, newobj, newobj_ex, inst or obj")
                        )
                    }
                };
                let (Some(c), Some(a)) = (opt("callable"), opt("args")) else {
                    return Err(self.err(ix, "`$object` needs `callable` and `args`"));
                };
                let callable = self.node(c)?;
                let args = self.node(a)?;
                let mut o = Object::new(kind, callable, args);
                if let Some(k) = opt("kwargs") {
                    o.kwargs = Some(self.node(k)?);
                }
                if let Some(s) = opt("state") {
                    o.state = Some(self.node(s)?);
                }
                if let Some(s) = opt("state_setter") {
                    o.state_setter = Some(self.node(s)?);
                }
                if let Some(l) = opt("list_items") {
                    o.list_items = self.nodes(l)?;
                }
                if let Some(d) = opt("dict_items") {
                    o.dict_items = self.pairs(d)?;
                }
                Node::Object(Box::new(o))
            }
            "$persid" => Node::PersId(self.node(v)?),
            "$ext" => match self.j(v) {
                J::Int(i) => Node::Ext(
                    i32::try_from(*i).map_err(|_| self.err(v, "extension code out of range"))?,
                ),
                _ => return Err(self.err(v, "`$ext` takes an integer")),
            },
            "$buffer" => {
                let index = match self.j(v) {
                    J::Int(i) => {
                        usize::try_from(*i).map_err(|_| self.err(v, "bad buffer index"))?
                    }
                    _ => return Err(self.err(v, "`$buffer` takes its index")),
                };
                let readonly = match opt("readonly").map(|r| (r, self.j(r))) {
                    None => false,
                    Some((_, J::Bool(b))) => *b,
                    Some((r, _)) => return Err(self.err(r, "`readonly` must be a bool")),
                };
                let data = match opt("data") {
                    None => None,
                    Some(d) if matches!(self.j(d), J::Null) => None,
                    Some(d) => Some(self.base64(d)?),
                };
                Node::Buffer(Box::new(Buffer {
                    index,
                    readonly,
                    data,
                }))
            }
            _ => return Err(self.err(v, format!("unknown tag `{tag}`"))),
        })
    }
}
