//! The symbolic pickle machine: CPython's `_pickle` unpickler semantics over symbolic values.
//!
//! Nothing is ever imported or called. Globals stay names; calls stay records of which callable
//! got which arguments. Memory is bounded by the memo and the stack: containers keep at most
//! [`ITEM_CAP`] items (their length is still counted), nested values deeper than [`DEPTH_CAP`]
//! are summarised, and values live in an arena that is garbage-collected from the stack and the
//! memo, so a long stream never accumulates dead values. Nothing here recurses on input depth.

use std::borrow::Cow;
use std::collections::HashMap;

use brine_core::{ArgKind, Instruction, Opcode};

use crate::policy::{join, Class, Policy};
use crate::report::{Finding, Severity, Sink, Verdict};
use crate::source::Src;

/// Items kept per container; the rest are only counted.
pub(crate) const ITEM_CAP: usize = 64;
/// Nesting kept per value; deeper parts become "…".
pub(crate) const DEPTH_CAP: u8 = 24;
/// Longest text read back for names and keys.
const TEXT_CAP: u64 = 1 << 16;
/// Planted attributes remembered (BUILD on globals).
const PLANT_CAP: usize = 1024;
/// Nested `pickle.loads` depth followed.
pub(crate) const NESTED_CAP: u32 = 4;

/// A range of the input: offset in the low 40 bits, length in the high 24, so that a
/// [`Val`] stays 16 bytes (the memo holds millions of them). Longer data becomes a node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Span(u64);

impl Span {
    pub fn new(off: u64, len: u64) -> Option<Span> {
        (off < 1 << 40 && len < 1 << 24).then_some(Span(off | (len << 40)))
    }
    pub fn off(self) -> u64 {
        self.0 & ((1 << 40) - 1)
    }
    pub fn len(self) -> u64 {
        self.0 >> 40
    }
}

/// A symbolic value: small ones inline, the rest in the arena.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Val {
    Empty,
    None,
    Bool(bool),
    Int(i64),
    BigInt,
    Float(f64),
    /// UTF-8 text in the input.
    Str(Span),
    /// A Python 2 string in the input (decoded to str by the default encoding).
    PyStr(Span),
    /// Bytes in the input.
    Bytes(Span),
    Ref(u32),
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Seq {
    pub items: Vec<Val>,
    pub len: u64,
}

impl Seq {
    fn push(&mut self, v: Val) {
        if self.items.len() < ITEM_CAP {
            self.items.push(v);
        }
        self.len += 1;
    }

    fn extend(&mut self, v: &[Val]) {
        let room = ITEM_CAP.saturating_sub(self.items.len()).min(v.len());
        self.items.extend_from_slice(&v[..room]);
        self.len += v.len() as u64;
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Map {
    pub items: Vec<(Val, Val)>,
    pub len: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Global {
    pub module: String,
    pub qual: String,
    /// Produced by a lookup chain (getattr, import_module…), not by GLOBAL/STACK_GLOBAL.
    pub chain: bool,
    /// Index of the import finding to complete when it is called.
    pub finding: Option<usize>,
}

impl Global {
    pub fn full(&self) -> String {
        join(&self.module, &self.qual)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Obj {
    pub class: Val,
    pub args: Val,
    pub kind: &'static str,
    pub state: Val,
    pub attrs: Vec<(String, Val)>,
    pub list: Seq,
    pub dict: Map,
}

/// Every node of a memoized container costs this much: keep it at 40 bytes (a `Seq` + tag).
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Str(Box<str>),
    /// `_codecs.encode(s, 'latin1')` of the text at this span.
    Latin1Of(Span),
    Tuple(Seq),
    List(Seq),
    Dict(Map),
    Set(Seq),
    FrozenSet(Seq),
    Global(Box<Global>),
    Obj(Box<Obj>),
    Persistent(Val),
    AttrGetter(Vec<String>),
    ItemGetter(Val),
    MethodCaller(Box<str>, Val),
    Unknown(&'static str),
}

/// Depth of a value, to cap nesting.
fn child_vals(n: &Node, f: &mut dyn FnMut(Val)) {
    match n {
        Node::Tuple(s) | Node::List(s) | Node::Set(s) | Node::FrozenSet(s) => {
            s.items.iter().for_each(|v| f(*v))
        }
        Node::Dict(m) => m.items.iter().for_each(|(k, v)| {
            f(*k);
            f(*v)
        }),
        Node::Obj(o) => {
            f(o.class);
            f(o.args);
            f(o.state);
            o.attrs.iter().for_each(|(_, v)| f(*v));
            o.list.items.iter().for_each(|v| f(*v));
            o.dict.items.iter().for_each(|(k, v)| {
                f(*k);
                f(*v)
            });
        }
        Node::Persistent(v) | Node::ItemGetter(v) | Node::MethodCaller(_, v) => f(*v),
        _ => {}
    }
}

fn child_vals_mut(n: &mut Node, f: &mut dyn FnMut(&mut Val)) {
    match n {
        Node::Tuple(s) | Node::List(s) | Node::Set(s) | Node::FrozenSet(s) => {
            s.items.iter_mut().for_each(&mut *f)
        }
        Node::Dict(m) => m.items.iter_mut().for_each(|(k, v)| {
            f(k);
            f(v)
        }),
        Node::Obj(o) => {
            f(&mut o.class);
            f(&mut o.args);
            f(&mut o.state);
            o.attrs.iter_mut().for_each(|(_, v)| f(v));
            o.list.items.iter_mut().for_each(&mut *f);
            o.dict.items.iter_mut().for_each(|(k, v)| {
                f(k);
                f(v)
            });
        }
        Node::Persistent(v) | Node::ItemGetter(v) | Node::MethodCaller(_, v) => f(v),
        _ => {}
    }
}

/// Where the walk is and what it may consult.
pub(crate) struct Ctx<'a> {
    pub policy: &'a Policy,
    pub sink: &'a mut Sink,
    pub member: String,
    pub limits: &'a crate::Limits,
    /// Nested `pickle.loads` depth.
    pub nested: u32,
    /// Inside a torch checkpoint: persistent ids are storages.
    pub torch: Option<&'a crate::container::TorchInfo>,
    /// Inside a TorchScript archive: `__torch__.` names are TorchScript classes.
    pub torchscript: bool,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub fn finding(
        &mut self,
        rule: &'static str,
        severity: Severity,
        verdict: Verdict,
        offset: Option<u64>,
        opcode: Option<Opcode>,
        callable: Option<String>,
        args: Option<String>,
        message: String,
    ) -> usize {
        let n = self.sink.findings.len();
        self.sink.add(Finding {
            rule,
            severity,
            verdict,
            member: self.member.clone(),
            offset,
            opcode: opcode.map(|o| o.name()),
            callable,
            args,
            message,
            repeats: 0,
        });
        if self.sink.findings.len() > n {
            n
        } else {
            usize::MAX
        }
    }
}

/// What the driver must do after a step.
#[derive(Debug)]
pub(crate) enum Step {
    Go,
    Stop,
    /// joblib: raw array bytes follow in the stream.
    RawPayload(Payload),
}

/// A joblib `NumpyArrayWrapper` payload description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    /// Optional alignment padding, then this many raw bytes.
    Raw { bytes: u64, aligned: bool },
    /// A complete nested pickle (object arrays).
    Pickle,
    /// Could not work out the size.
    Unknown,
}

/// Python would raise here: loading stops with an exception.
#[derive(Debug)]
pub(crate) struct Raise(pub String);

type R<T> = Result<T, Raise>;

fn raise<T>(m: impl Into<String>) -> R<T> {
    Err(Raise(m.into()))
}

/// The machine for one pickle stream.
pub(crate) struct Machine {
    stack: Vec<Val>,
    marks: Vec<usize>,
    memo: Vec<Val>,
    memo_map: HashMap<u64, Val>,
    memo_len: usize,
    nodes: Vec<Node>,
    depth: Vec<u8>,
    gc_at: usize,
    proto: u8,
    planted: Vec<(String, String, Val)>,
    /// Set by STOP.
    pub result: Val,
}

impl Default for Machine {
    fn default() -> Self {
        Machine::new()
    }
}

impl Machine {
    pub fn new() -> Machine {
        Machine {
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Vec::new(),
            memo_map: HashMap::new(),
            memo_len: 0,
            nodes: Vec::new(),
            depth: Vec::new(),
            gc_at: 1 << 16,
            proto: 0,
            planted: Vec::new(),
            result: Val::Empty,
        }
    }

    fn node(&self, v: Val) -> Option<&Node> {
        match v {
            Val::Ref(i) => self.nodes.get(i as usize),
            _ => None,
        }
    }

    fn node_mut(&mut self, v: Val) -> Option<&mut Node> {
        match v {
            Val::Ref(i) => self.nodes.get_mut(i as usize),
            _ => None,
        }
    }

    fn val_depth(&self, v: Val) -> u8 {
        match v {
            Val::Ref(i) => self.depth.get(i as usize).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// Adds a node; children past the depth cap are replaced by a summary.
    fn alloc(&mut self, mut n: Node) -> Val {
        let mut d = 0u8;
        child_vals(&n, &mut |c| d = d.max(self.val_depth(c)));
        if d >= DEPTH_CAP {
            let deep = self.nodes.len() as u32;
            self.nodes.push(Node::Unknown("deeply nested value"));
            self.depth.push(0);
            let depths = &self.depth;
            child_vals_mut(&mut n, &mut |c| {
                if let Val::Ref(i) = c {
                    if depths.get(*i as usize).copied().unwrap_or(0) >= DEPTH_CAP - 1 {
                        *c = Val::Ref(deep);
                    }
                }
            });
            d = DEPTH_CAP - 1;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(n);
        self.depth.push(d.saturating_add(1));
        Val::Ref(id)
    }

    fn unknown(&mut self, why: &'static str) -> Val {
        self.alloc(Node::Unknown(why))
    }

    /// Raises the depth of a container after a mutation added `child`.
    fn bump_depth(&mut self, target: Val, child: Val) -> Val {
        let (cd, td) = (self.val_depth(child), self.val_depth(target));
        if cd + 1 >= DEPTH_CAP {
            return self.unknown("deeply nested value");
        }
        if let Val::Ref(i) = target {
            if cd + 1 > td {
                self.depth[i as usize] = cd + 1;
            }
        }
        child
    }

    /// Depth bookkeeping for a batch of items added to `target`, in one pass.
    /// Items are borrowed from the stack: a batch is copied only when it must change.
    fn bump_all<'v>(&mut self, target: Val, items: &'v [Val]) -> Cow<'v, [Val]> {
        let mut cd = 0u8;
        for v in items {
            if let Val::Ref(i) = v {
                cd = cd.max(self.depth.get(*i as usize).copied().unwrap_or(0));
            }
        }
        if cd == 0 {
            return Cow::Borrowed(items);
        }
        if cd + 1 >= DEPTH_CAP {
            let mut items = items.to_vec();
            for v in items.iter_mut() {
                *v = self.bump_depth(target, *v);
            }
            return Cow::Owned(items);
        }
        if let Val::Ref(i) = target {
            if cd + 1 > self.depth[i as usize] {
                self.depth[i as usize] = cd + 1;
            }
        }
        Cow::Borrowed(items)
    }

    /// Mark-compact collection from the stack, the memo and planted attributes.
    pub fn maybe_gc(&mut self) {
        if self.nodes.len() < self.gc_at {
            return;
        }
        let n = self.nodes.len();
        let mut live = vec![false; n];
        let mut work: Vec<u32> = Vec::new();
        let root = |v: &Val, work: &mut Vec<u32>| {
            if let Val::Ref(i) = v {
                work.push(*i)
            }
        };
        for v in &self.stack {
            root(v, &mut work);
        }
        for v in &self.memo {
            root(v, &mut work);
        }
        for v in self.memo_map.values() {
            root(v, &mut work);
        }
        for (_, _, v) in &self.planted {
            root(v, &mut work);
        }
        root(&self.result, &mut work);
        while let Some(i) = work.pop() {
            let i = i as usize;
            if i >= n || live[i] {
                continue;
            }
            live[i] = true;
            child_vals(&self.nodes[i], &mut |c| {
                if let Val::Ref(j) = c {
                    if !live[j as usize] {
                        work.push(j)
                    }
                }
            });
        }
        let mut remap = vec![u32::MAX; n];
        let mut next = 0u32;
        for i in 0..n {
            if live[i] {
                remap[i] = next;
                next += 1;
            }
        }
        // Compact in place: the arena keeps its capacity, so steady state allocates nothing.
        let mut w = 0usize;
        for (i, &alive) in live.iter().enumerate() {
            if alive {
                self.nodes.swap(w, i);
                self.depth[w] = self.depth[i];
                child_vals_mut(&mut self.nodes[w], &mut |c| {
                    if let Val::Ref(j) = c {
                        *j = remap[*j as usize];
                    }
                });
                w += 1;
            }
        }
        self.nodes.truncate(w);
        self.depth.truncate(w);
        let fix = |v: &mut Val| {
            if let Val::Ref(j) = v {
                *j = remap[*j as usize];
            }
        };
        self.stack.iter_mut().for_each(fix);
        self.memo.iter_mut().for_each(fix);
        self.memo_map.values_mut().for_each(fix);
        self.planted.iter_mut().for_each(|(_, _, v)| fix(v));
        fix(&mut self.result);
        self.gc_at = (self.nodes.len() + self.nodes.len() / 2).max(1 << 16);
    }

    // ---- stack discipline (CPython's Pdata with its MARK fence) ----

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, v: Val, ctx: &Ctx) -> R<()> {
        if self.stack.len() >= ctx.limits.max_stack {
            return raise("limit: stack");
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> R<Val> {
        if self.stack.len() <= self.fence() {
            return raise("unpickling stack underflow");
        }
        Ok(self.stack.pop().unwrap_or(Val::Empty))
    }

    fn top(&self) -> R<Val> {
        if self.stack.len() <= self.fence() {
            return raise("unpickling stack underflow");
        }
        Ok(*self.stack.last().unwrap_or(&Val::Empty))
    }

    fn pop_mark(&mut self) -> R<Vec<Val>> {
        let Some(m) = self.marks.pop() else {
            return raise("could not find MARK");
        };
        let m = m.min(self.stack.len());
        Ok(self.stack.split_off(m))
    }

    /// Pops the top MARK and returns where its items start on the stack, leaving them there:
    /// large batches (APPENDS of 1000 items) are read in place instead of copied out.
    fn mark_start(&mut self) -> R<usize> {
        let Some(m) = self.marks.pop() else {
            return raise("could not find MARK");
        };
        Ok(m.min(self.stack.len()))
    }

    /// The items above `m` as a container (at most [`ITEM_CAP`] kept), popped off the stack.
    fn seq_from(&mut self, m: usize) -> Seq {
        let len = (self.stack.len() - m) as u64;
        let keep = (self.stack.len() - m).min(ITEM_CAP);
        let items = self.stack[m..m + keep].to_vec();
        self.stack.truncate(m);
        Seq { items, len }
    }

    /// Runs `f` on the items above the MARK at `m` with the container below them as target,
    /// then pops the items: APPENDS / SETITEMS / ADDITEMS without copying the batch.
    fn with_batch(&mut self, m: usize, f: impl FnOnce(&mut Self, Val, &[Val]) -> R<()>) -> R<()> {
        if m <= self.fence() {
            self.stack.truncate(m);
            return raise("unpickling stack underflow");
        }
        let target = self.stack[m - 1];
        let stack = std::mem::take(&mut self.stack);
        let r = f(self, target, &stack[m..]);
        self.stack = stack;
        self.stack.truncate(m);
        r
    }

    fn seq(items: Vec<Val>) -> Seq {
        let len = items.len() as u64;
        let mut items = items;
        items.truncate(ITEM_CAP);
        Seq { items, len }
    }

    // ---- reading values back ----

    /// The text of a str value (None if not a str).
    pub fn text<'s>(&'s self, v: Val, src: &Src) -> Option<Cow<'s, str>> {
        match v {
            Val::Str(s) => src
                .get(s.off(), s.len().min(TEXT_CAP))
                .map(|b| Cow::Owned(String::from_utf8_lossy(&b).into_owned())),
            Val::PyStr(s) => src
                .get(s.off(), s.len().min(TEXT_CAP))
                .map(|b| Cow::Owned(b.iter().map(|&c| c as char).collect())),
            Val::Ref(_) => match self.node(v)? {
                Node::Str(s) => Some(Cow::Borrowed(s)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether a value is (symbolically) a str.
    fn is_str(&self, v: Val) -> bool {
        matches!(v, Val::Str(_) | Val::PyStr(_)) || matches!(self.node(v), Some(Node::Str(_)))
    }

    /// The bytes of a bytes value, up to `cap`.
    pub fn bytes_of<'s>(&'s self, v: Val, src: &'s Src, cap: u64) -> Option<Cow<'s, [u8]>> {
        match v {
            Val::Bytes(s) => src.get(s.off(), s.len().min(cap)),
            Val::Ref(_) => match self.node(v)? {
                Node::Latin1Of(s) => {
                    let raw = src.get(s.off(), s.len().min(cap.saturating_mul(2)))?;
                    let text = String::from_utf8_lossy(&raw);
                    Some(Cow::Owned(text.chars().map(|c| c as u32 as u8).collect()))
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub fn global_of(&self, v: Val) -> Option<&Global> {
        match self.node(v)? {
            Node::Global(g) => Some(g),
            _ => None,
        }
    }

    fn tuple_items(&self, v: Val) -> Option<&[Val]> {
        match self.node(v)? {
            Node::Tuple(s) => Some(&s.items),
            _ => None,
        }
    }

    /// A short Python-like repr, bounded in depth and length.
    pub fn repr(&self, v: Val, src: &Src) -> String {
        let mut out = String::new();
        self.repr_into(v, src, 0, &mut out);
        if out.len() > 300 {
            let mut cut = 297;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
        }
        out
    }

    fn repr_into(&self, v: Val, src: &Src, depth: u8, out: &mut String) {
        use std::fmt::Write;
        if out.len() > 320 {
            return;
        }
        if depth > 4 {
            out.push('…');
            return;
        }
        let seq = |s: &Seq, open: &str, close: &str, out: &mut String| {
            out.push_str(open);
            for (i, x) in s.items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if i >= 8 {
                    out.push('…');
                    break;
                }
                self.repr_into(*x, src, depth + 1, out);
            }
            if s.len > s.items.len() as u64 && s.items.len() < 8 {
                out.push_str(", …");
            }
            if open == "(" && s.len == 1 {
                out.push(',');
            }
            out.push_str(close);
        };
        match v {
            Val::Empty => out.push('?'),
            Val::None => out.push_str("None"),
            Val::Bool(b) => out.push_str(if b { "True" } else { "False" }),
            Val::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Val::BigInt => out.push_str("<int>"),
            Val::Float(f) => {
                let _ = write!(out, "{f:?}");
            }
            Val::Str(_) | Val::PyStr(_) => {
                let t = self.text(v, src).unwrap_or_default();
                let short: String = t.chars().take(120).collect();
                let _ = write!(out, "{short:?}");
            }
            Val::Bytes(s) => {
                let b = src.get(s.off(), s.len().min(60)).unwrap_or_default();
                let _ = write!(out, "b{:?}", String::from_utf8_lossy(&b));
                if s.len() > 60 {
                    let _ = write!(out, "…({} bytes)", s.len());
                }
            }
            Val::Ref(_) => match self.node(v) {
                None => out.push('?'),
                Some(n) => match n {
                    Node::Str(s) => {
                        let short: String = s.chars().take(120).collect();
                        let _ = write!(out, "{short:?}");
                    }
                    Node::Latin1Of(_) => out.push_str("<bytes>"),
                    Node::Tuple(s) => seq(s, "(", ")", out),
                    Node::List(s) => seq(s, "[", "]", out),
                    Node::Set(s) => seq(s, "{", "}", out),
                    Node::FrozenSet(s) => seq(s, "frozenset({", "})", out),
                    Node::Dict(m) => {
                        out.push('{');
                        for (i, (k, x)) in m.items.iter().enumerate() {
                            if i > 0 {
                                out.push_str(", ");
                            }
                            if i >= 6 {
                                out.push('…');
                                break;
                            }
                            self.repr_into(*k, src, depth + 1, out);
                            out.push_str(": ");
                            self.repr_into(*x, src, depth + 1, out);
                        }
                        out.push('}');
                    }
                    Node::Global(g) => out.push_str(&g.full()),
                    Node::Obj(o) => {
                        self.repr_into(o.class, src, depth + 1, out);
                        if o.kind == "new" {
                            out.push_str(".__new__");
                        }
                        self.repr_into(o.args, src, depth + 1, out);
                    }
                    Node::Persistent(p) => {
                        out.push_str("persistent_load(");
                        self.repr_into(*p, src, depth + 1, out);
                        out.push(')');
                    }
                    Node::AttrGetter(n) => {
                        let _ = write!(out, "attrgetter({n:?})");
                    }
                    Node::ItemGetter(k) => {
                        out.push_str("itemgetter(");
                        self.repr_into(*k, src, depth + 1, out);
                        out.push(')');
                    }
                    Node::MethodCaller(n, a) => {
                        let _ = write!(out, "methodcaller({n:?}, ");
                        self.repr_into(*a, src, depth + 1, out);
                        out.push(')');
                    }
                    Node::Unknown(why) => {
                        let _ = write!(out, "<{why}>");
                    }
                },
            },
        }
    }

    // ---- memo ----

    fn memo_get(&self, i: u64) -> Option<Val> {
        if (i as usize) < self.memo.len() && i < usize::MAX as u64 {
            let v = self.memo[i as usize];
            return if v == Val::Empty { None } else { Some(v) };
        }
        self.memo_map.get(&i).copied()
    }

    fn memo_put(&mut self, i: u64, v: Val, ctx: &Ctx) -> R<()> {
        if i > ctx.limits.max_memo_index {
            return raise("limit: memo index");
        }
        // Dense indices live in a vector; a far index must not allocate the gap
        // (CVE-2018-20406), so it goes to the map.
        let dense = (i as usize) < self.memo.len() + 65_536;
        let was = self.memo_get(i).is_some();
        if !was && self.memo_len >= ctx.limits.max_memo_entries {
            return raise("limit: memo entries");
        }
        if dense {
            if i as usize >= self.memo.len() {
                self.memo.resize(i as usize + 1, Val::Empty);
            }
            self.memo[i as usize] = v;
        } else {
            self.memo_map.insert(i, v);
        }
        if !was {
            self.memo_len += 1;
        }
        Ok(())
    }

    // ---- the step ----

    /// Runs one instruction. `base` is the absolute offset of the decoder's input.
    pub fn step(&mut self, ins: &Instruction, base: u64, ctx: &mut Ctx, src: &Src) -> R<Step> {
        use Opcode::*;
        let op = ins.op;
        let at = base + ins.offset;
        let span = |len: usize| -> Option<Span> {
            let prefix = match op.arg() {
                ArgKind::Bytes1 | ArgKind::Unicode1 | ArgKind::String1 | ArgKind::Long1 => 1,
                ArgKind::Bytes4 | ArgKind::Unicode4 | ArgKind::String4 | ArgKind::Long4 => 4,
                _ => 8,
            };
            Span::new(at + 1 + prefix, len as u64)
        };
        match op {
            MARK => {
                if self.marks.len() >= ctx.limits.max_marks {
                    return raise("limit: marks");
                }
                self.marks.push(self.stack.len());
            }
            STOP => {
                self.result = self.pop()?;
                return Ok(Step::Stop);
            }
            POP => {
                if self.stack.len() <= self.fence() {
                    if self.marks.last() == Some(&self.stack.len()) && !self.marks.is_empty() {
                        self.marks.pop();
                    } else {
                        return raise("unpickling stack underflow");
                    }
                } else {
                    self.stack.pop();
                }
            }
            POP_MARK => {
                self.pop_mark()?;
            }
            DUP => {
                let v = self.top()?;
                self.push(v, ctx)?;
            }
            FLOAT => {
                let t = String::from_utf8_lossy(ins.arg.data()).into_owned();
                match brine_core::text::parse_float(t.as_bytes()) {
                    Ok(f) => self.push(Val::Float(f), ctx)?,
                    Err(_) => return raise("could not convert string to float"),
                }
            }
            INT => {
                let d = ins.arg.data();
                let v = match d {
                    b"00" => Val::Bool(false),
                    b"01" => Val::Bool(true),
                    _ => int_text(d)?,
                };
                self.push(v, ctx)?;
            }
            LONG => {
                let d = ins.arg.data();
                let d = d.strip_suffix(b"L").unwrap_or(d);
                let v = int_text(d)?;
                self.push(v, ctx)?;
            }
            BININT | BININT1 | BININT2 => self.push(Val::Int(ins.arg.int()), ctx)?,
            LONG1 | LONG4 => {
                let d = ins.arg.data();
                let v = if d.len() <= 8 {
                    let mut buf = if d.last().is_some_and(|b| b & 0x80 != 0) {
                        [0xffu8; 8]
                    } else {
                        [0u8; 8]
                    };
                    buf[..d.len()].copy_from_slice(d);
                    Val::Int(i64::from_le_bytes(buf))
                } else {
                    Val::BigInt
                };
                self.push(v, ctx)?;
            }
            BINFLOAT => self.push(
                Val::Float(match ins.arg {
                    brine_core::Arg::Float(f) => f,
                    _ => 0.0,
                }),
                ctx,
            )?,
            STRING => {
                let b = brine_core::text::decode_string_escape(ins.arg.data())
                    .map_err(|_| Raise("the STRING opcode argument must be quoted".into()))?;
                let s: String = b.iter().map(|&c| c as char).collect();
                let v = self.alloc(Node::Str(cap_str(s)));
                self.push(v, ctx)?;
            }
            BINSTRING | SHORT_BINSTRING => {
                let d = ins.arg.data();
                let v = match span(d.len()) {
                    Some(s) => Val::PyStr(s),
                    None => self.unknown("huge string"),
                };
                self.push(v, ctx)?;
            }
            BINBYTES | SHORT_BINBYTES | BINBYTES8 => {
                let d = ins.arg.data();
                let v = match span(d.len()) {
                    Some(s) => Val::Bytes(s),
                    None => self.unknown("huge bytes"),
                };
                self.push(v, ctx)?;
            }
            BYTEARRAY8 => {
                let d = ins.arg.data();
                let v = match span(d.len()) {
                    Some(s) => Val::Bytes(s),
                    None => self.unknown("huge bytearray"),
                };
                self.push(v, ctx)?;
            }
            NEXT_BUFFER => {
                let v = self.unknown("out-of-band buffer");
                self.push(v, ctx)?;
            }
            READONLY_BUFFER => {
                self.top()?;
            }
            NONE => self.push(Val::None, ctx)?,
            NEWTRUE => self.push(Val::Bool(true), ctx)?,
            NEWFALSE => self.push(Val::Bool(false), ctx)?,
            UNICODE => {
                let b = brine_core::text::decode_raw_unicode_escape(ins.arg.data())
                    .map_err(|_| Raise("invalid raw-unicode-escape".into()))?;
                let v = self.alloc(Node::Str(cap_str(String::from_utf8_lossy(&b).into_owned())));
                self.push(v, ctx)?;
            }
            SHORT_BINUNICODE | BINUNICODE | BINUNICODE8 => {
                let d = ins.arg.data();
                if std::str::from_utf8(d).is_err()
                    && brine_core::text::validate_utf8_surrogatepass(d).is_err()
                {
                    return raise("'utf-8' codec can't decode bytes");
                }
                let v = match span(d.len()) {
                    Some(s) => Val::Str(s),
                    None => self.unknown("huge string"),
                };
                self.push(v, ctx)?;
            }
            EMPTY_TUPLE => {
                let v = self.alloc(Node::Tuple(Seq::default()));
                self.push(v, ctx)?;
            }
            TUPLE => {
                let m = self.mark_start()?;
                let s = self.seq_from(m);
                let v = self.alloc(Node::Tuple(s));
                self.push(v, ctx)?;
            }
            TUPLE1 | TUPLE2 | TUPLE3 => {
                let n = match op {
                    TUPLE1 => 1,
                    TUPLE2 => 2,
                    _ => 3,
                };
                if self.stack.len() < self.fence() + n {
                    return raise("unpickling stack underflow");
                }
                let items = self.stack.split_off(self.stack.len() - n);
                let v = self.alloc(Node::Tuple(Self::seq(items)));
                self.push(v, ctx)?;
            }
            EMPTY_LIST => {
                let v = self.alloc(Node::List(Seq::default()));
                self.push(v, ctx)?;
            }
            LIST => {
                let m = self.mark_start()?;
                let s = self.seq_from(m);
                let v = self.alloc(Node::List(s));
                self.push(v, ctx)?;
            }
            EMPTY_DICT => {
                let v = self.alloc(Node::Dict(Map::default()));
                self.push(v, ctx)?;
            }
            DICT => {
                let at_mark = self.mark_start()?;
                if (self.stack.len() - at_mark) % 2 != 0 {
                    return raise("odd number of items for DICT");
                }
                let mut m = Map::default();
                for kv in self.stack[at_mark..].chunks(2) {
                    map_insert(&mut m, kv[0], kv[1]);
                }
                self.stack.truncate(at_mark);
                let v = self.alloc(Node::Dict(m));
                self.push(v, ctx)?;
            }
            EMPTY_SET => {
                let v = self.alloc(Node::Set(Seq::default()));
                self.push(v, ctx)?;
            }
            FROZENSET => {
                let m = self.mark_start()?;
                let s = self.seq_from(m);
                let v = self.alloc(Node::FrozenSet(s));
                self.push(v, ctx)?;
            }
            APPEND => {
                let v = self.pop()?;
                let target = self.top()?;
                self.extend(target, &[v], at, op, ctx, src)?;
            }
            APPENDS => {
                let m = self.mark_start()?;
                self.with_batch(m, |me, target, items| {
                    me.extend(target, items, at, op, ctx, src)
                })?;
            }
            ADDITEMS => {
                let m = self.mark_start()?;
                self.with_batch(m, |me, target, items| {
                    me.add_items(target, items, at, op, ctx, src)
                })?;
            }
            SETITEM => {
                let v = self.pop()?;
                let k = self.pop()?;
                let target = self.top()?;
                self.set_items(target, &[k, v], at, op, ctx, src)?;
            }
            SETITEMS => {
                let m = self.mark_start()?;
                if (self.stack.len() - m) % 2 != 0 {
                    // CPython pairs what it can, then the odd key is a stack underflow.
                    return raise("odd number of items for SETITEMS");
                }
                self.with_batch(m, |me, target, items| {
                    me.set_items(target, items, at, op, ctx, src)
                })?;
            }
            GET | BINGET | LONG_BINGET => {
                let idx = if op == GET {
                    let t = String::from_utf8_lossy(ins.arg.data()).into_owned();
                    match t.trim().parse::<i64>() {
                        Ok(i) => i,
                        Err(_) => return raise("invalid literal for int() in GET"),
                    }
                } else {
                    ins.arg.int()
                };
                let v = if idx < 0 {
                    None
                } else {
                    self.memo_get(idx as u64)
                };
                match v {
                    Some(v) => self.push(v, ctx)?,
                    None => return raise(format!("Memo value not found at index {idx}")),
                }
            }
            PUT | BINPUT | LONG_BINPUT => {
                let idx = if op == PUT {
                    let t = String::from_utf8_lossy(ins.arg.data()).into_owned();
                    match t.trim().parse::<i64>() {
                        Ok(i) => i,
                        Err(_) => return raise("invalid literal for int() in PUT"),
                    }
                } else {
                    ins.arg.int()
                };
                if idx < 0 {
                    return raise("negative PUT argument");
                }
                let v = self.top()?;
                self.memo_put(idx as u64, v, ctx)?;
            }
            MEMOIZE => {
                let v = self.top()?;
                let i = self.memo_len as u64;
                self.memo_put(i, v, ctx)?;
            }
            PROTO => {
                let p = ins.arg.int();
                if p > brine_core::HIGHEST_PROTOCOL as i64 {
                    return raise(format!("unsupported pickle protocol: {p}"));
                }
                self.proto = p as u8;
            }
            FRAME => {}
            GLOBAL | INST => {
                let (m, n) = ins.arg.pair();
                let (Ok(m), Ok(n)) = (std::str::from_utf8(m), std::str::from_utf8(n)) else {
                    return raise("'utf-8' codec can't decode GLOBAL operands");
                };
                let (m, n) = (m.to_string(), n.to_string());
                let cls = self.find_class(&m, &n, at, op, ctx, src);
                if op == GLOBAL {
                    self.push(cls, ctx)?;
                } else {
                    let args = self.pop_mark()?;
                    let args = self.alloc(Node::Tuple(Self::seq(args)));
                    let r = self.call(cls, args, Val::Empty, "call", at, op, ctx, src, 0)?;
                    self.push(r, ctx)?;
                }
            }
            STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                if !self.is_str(name) || !self.is_str(module) {
                    let computed = [name, module].iter().any(|v| {
                        matches!(
                            self.node(*v),
                            Some(Node::Unknown(_) | Node::Obj(_) | Node::Persistent(_))
                        )
                    });
                    if computed {
                        let args =
                            format!("({}, {})", self.repr(module, src), self.repr(name, src));
                        ctx.finding(
                            "computed-global",
                            Severity::High,
                            Verdict::Unsafe,
                            Some(at),
                            Some(op),
                            None,
                            Some(args),
                            "STACK_GLOBAL operands are computed while loading: the imported name cannot be known".into(),
                        );
                        let v = self.unknown("computed global");
                        self.push(v, ctx)?;
                        return Ok(Step::Go);
                    }
                    return raise("STACK_GLOBAL requires str");
                }
                let m = self.text(module, src).unwrap_or_default().into_owned();
                let n = self.text(name, src).unwrap_or_default().into_owned();
                let cls = self.find_class(&m, &n, at, op, ctx, src);
                self.push(cls, ctx)?;
            }
            EXT1 | EXT2 | EXT4 => {
                let code = ins.arg.int();
                ctx.finding(
                    "extension-code",
                    Severity::Medium,
                    Verdict::Inconclusive,
                    Some(at),
                    Some(op),
                    None,
                    Some(format!("({code})")),
                    "copyreg extension code: the global it names depends on the loading process's registry".into(),
                );
                let v = self.unknown("extension global");
                self.push(v, ctx)?;
            }
            REDUCE => {
                let args = self.pop()?;
                let func = self.pop()?;
                // The C unpickler wants a tuple here, pickle.py takes any iterable
                // (`func(*args)`): follow the more permissive reader.
                let r = self.call(func, args, Val::Empty, "call", at, op, ctx, src, 0)?;
                self.push(r, ctx)?;
            }
            NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                // Any iterable for pickle.py (`cls.__new__(cls, *args)`), as for REDUCE.
                let r = self.call(cls, args, Val::Empty, "new", at, op, ctx, src, 0)?;
                self.push(r, ctx)?;
            }
            NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                let r = self.call(cls, args, kwargs, "new", at, op, ctx, src, 0)?;
                self.push(r, ctx)?;
            }
            OBJ => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return raise("unpickling stack underflow");
                }
                let cls = items.remove(0);
                let args = self.alloc(Node::Tuple(Self::seq(items)));
                let r = self.call(cls, args, Val::Empty, "call", at, op, ctx, src, 0)?;
                self.push(r, ctx)?;
            }
            BUILD => {
                let state = self.pop()?;
                let inst = self.top()?;
                return self.build(inst, state, at, op, ctx, src);
            }
            PERSID | BINPERSID => {
                let pid = if op == PERSID {
                    let s = String::from_utf8_lossy(ins.arg.data()).into_owned();
                    self.alloc(Node::Str(cap_str(s)))
                } else {
                    self.pop()?
                };
                self.persistent(pid, at, op, ctx, src);
                let v = self.alloc(Node::Persistent(pid));
                self.push(v, ctx)?;
            }
        }
        Ok(Step::Go)
    }

    fn class_name(&self, v: Val) -> Option<String> {
        match self.node(v)? {
            Node::Obj(o) => self.global_of(o.class).map(|g| g.full()),
            _ => None,
        }
    }

    fn extend(
        &mut self,
        target: Val,
        items: &[Val],
        at: u64,
        op: Opcode,
        ctx: &mut Ctx,
        src: &Src,
    ) -> R<()> {
        // CPython returns before looking at the target when there is nothing to add.
        if items.is_empty() {
            return Ok(());
        }
        let items = self.bump_all(target, items);
        let cls = self.class_name(target);
        match self.node_mut(target) {
            Some(Node::List(s)) => s.extend(&items),
            Some(Node::Obj(o)) => {
                let ok = cls.as_deref().is_some_and(|c| ctx.policy.is_list_like(c));
                items.iter().for_each(|v| o.list.push(*v));
                if !ok {
                    self.target_finding("append-target", target, at, op, ctx, src, "append/extend");
                }
            }
            Some(Node::Unknown(_)) => {}
            Some(Node::Global(_)) | Some(Node::Persistent(_)) => {
                self.target_finding("append-target", target, at, op, ctx, src, "append/extend")
            }
            _ => return raise("object has no attribute 'append'"),
        }
        Ok(())
    }

    fn add_items(
        &mut self,
        target: Val,
        items: &[Val],
        at: u64,
        op: Opcode,
        ctx: &mut Ctx,
        src: &Src,
    ) -> R<()> {
        // CPython returns before looking at the target when there is nothing to add.
        if items.is_empty() {
            return Ok(());
        }
        let items = self.bump_all(target, items);
        let cls = self.class_name(target);
        match self.node_mut(target) {
            Some(Node::Set(s)) => s.extend(&items),
            Some(Node::Obj(o)) => {
                items.iter().for_each(|v| o.list.push(*v));
                if !cls.as_deref().is_some_and(|c| ctx.policy.is_set_like(c)) {
                    self.target_finding("additems-target", target, at, op, ctx, src, "add");
                }
            }
            Some(Node::Unknown(_)) => {}
            Some(Node::Global(_)) | Some(Node::Persistent(_)) => {
                self.target_finding("additems-target", target, at, op, ctx, src, "add")
            }
            _ => return raise("object has no attribute 'add'"),
        }
        Ok(())
    }

    fn set_items(
        &mut self,
        target: Val,
        items: &[Val],
        at: u64,
        op: Opcode,
        ctx: &mut Ctx,
        src: &Src,
    ) -> R<()> {
        // CPython returns before looking at the target when there is nothing to add.
        if items.is_empty() {
            return Ok(());
        }
        let items = self.bump_all(target, items);
        let cls = self.class_name(target);
        let mut m = match self.node_mut(target) {
            Some(Node::Dict(m)) => std::mem::take(m),
            Some(Node::Obj(o)) => {
                let ok = cls.as_deref().is_some_and(|c| ctx.policy.is_dict_like(c));
                let m = std::mem::take(&mut o.dict);
                if !ok {
                    self.target_finding("setitem-target", target, at, op, ctx, src, "__setitem__");
                }
                m
            }
            Some(Node::List(_)) | Some(Node::Unknown(_)) => return Ok(()),
            Some(Node::Global(_)) | Some(Node::Persistent(_)) => {
                self.target_finding("setitem-target", target, at, op, ctx, src, "__setitem__");
                return Ok(());
            }
            _ => return raise("object does not support item assignment"),
        };
        if m.items.is_empty() {
            // Most dicts get all their items in one SETITEMS: size them once, exactly.
            m.items.reserve_exact((items.len() / 2).min(ITEM_CAP));
        }
        for kv in items.chunks(2) {
            map_insert(&mut m, kv[0], kv[1]);
        }
        match self.node_mut(target) {
            Some(Node::Dict(d)) => *d = m,
            Some(Node::Obj(o)) => o.dict = m,
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn target_finding(
        &self,
        rule: &'static str,
        target: Val,
        at: u64,
        op: Opcode,
        ctx: &mut Ctx,
        src: &Src,
        method: &str,
    ) {
        let what = self.repr(target, src);
        ctx.finding(
            rule,
            Severity::High,
            Verdict::Unsafe,
            Some(at),
            Some(op),
            Some(format!("{what}.{method}")),
            None,
            format!("{op} on a value that is not a plain container calls its own {method} method"),
        );
    }

    /// find_class: Python 2 name mapping, planted attributes, policy.
    fn find_class(
        &mut self,
        module: &str,
        name: &str,
        at: u64,
        op: Opcode,
        ctx: &mut Ctx,
        src: &Src,
    ) -> Val {
        let (m, n) = if self.proto < 3 {
            let (a, b) = brine_core::compat::py2_to_py3(module, name);
            (a.into_owned(), b.into_owned())
        } else {
            (module.to_string(), name.to_string())
        };
        let full = join(&m, &n);
        // An attribute planted earlier by BUILD on a global shadows the real one.
        if let Some(v) = self.planted_lookup(&full) {
            ctx.sink.import(&ctx.member, &full, "planted", at);
            ctx.finding(
                "planted-attribute",
                Severity::Critical,
                Verdict::Unsafe,
                Some(at),
                Some(op),
                Some(full.clone()),
                Some(self.repr(v, src)),
                "imports an attribute that this pickle overwrote earlier with BUILD".into(),
            );
            return v;
        }
        let class = if ctx.torchscript && (m.starts_with("__torch__") || m == "torch.jit._pickle") {
            Class::Allowed("TorchScript class (resolved by the TorchScript runtime)".into())
        } else {
            ctx.policy.classify(&m, &n)
        };
        let finding = match class {
            Class::Allowed(_) => {
                ctx.sink.import(&ctx.member, &full, "allowed", at);
                None
            }
            Class::Denied(sev, why) => {
                ctx.sink.import(&ctx.member, &full, "denied", at);
                Some(ctx.finding(
                    "denied-global",
                    sev,
                    Verdict::Unsafe,
                    Some(at),
                    Some(op),
                    Some(full.clone()),
                    None,
                    format!("imports {full}: {why}"),
                ))
            }
            Class::Unknown => {
                ctx.sink.import(&ctx.member, &full, "unknown", at);
                Some(ctx.finding(
                    "unknown-global",
                    Severity::Medium,
                    Verdict::Unsafe,
                    Some(at),
                    Some(op),
                    Some(full.clone()),
                    None,
                    format!("imports {full}, which is not on the allow-list: importing runs module code and it may run more when called"),
                ))
            }
        };
        self.alloc(Node::Global(Box::new(Global {
            module: m,
            qual: n,
            chain: false,
            finding: finding.filter(|&i| i != usize::MAX),
        })))
    }

    fn planted_lookup(&self, full: &str) -> Option<Val> {
        if self.planted.is_empty() {
            return None;
        }
        let (owner, attr) = full.rsplit_once('.')?;
        self.planted
            .iter()
            .rev()
            .find(|(o, a, _)| o == owner && a == attr)
            .map(|(_, _, v)| *v)
    }

    fn global_val(&mut self, module: &str, qual: &str) -> Val {
        self.alloc(Node::Global(Box::new(Global {
            module: module.to_string(),
            qual: qual.to_string(),
            chain: true,
            finding: None,
        })))
    }

    /// `getattr(obj, name)`, symbolically.
    fn resolve_attr(&mut self, obj: Val, name: &str) -> Val {
        if let Some(g) = self.global_of(obj) {
            let (m, q) = (g.module.clone(), g.qual.clone());
            let q2 = if q.is_empty() {
                name.to_string()
            } else {
                format!("{q}.{name}")
            };
            if let Some(v) = self.planted_lookup(&join(&m, &q2)) {
                return v;
            }
            return self.global_val(&m, &q2);
        }
        if let Some(Node::Obj(o)) = self.node(obj) {
            if let Some((_, v)) = o.attrs.iter().rev().find(|(k, _)| k == name) {
                return *v;
            }
        }
        self.unknown("attribute of a computed value")
    }

    /// `obj[key]`, symbolically (namespaces, `__builtins__`, dicts).
    fn resolve_item(&mut self, obj: Val, key: Val, src: &Src) -> Val {
        let k = self.text(key, src).map(|c| c.into_owned());
        if let (Some(g), Some(k)) = (self.global_of(obj), k.as_ref()) {
            let (m, q) = (g.module.clone(), g.qual.clone());
            if q == "__builtins__"
                || q.ends_with(".__builtins__")
                || (m == "builtins" && q == "__dict__")
            {
                return self.global_val("builtins", k);
            }
            if q == "__dict__"
                || q.ends_with(".__dict__")
                || q == "__globals__"
                || q.ends_with(".__globals__")
            {
                let base = q
                    .rsplit_once('.')
                    .map(|(b, _)| b.to_string())
                    .unwrap_or_default();
                let q2 = if base.is_empty() {
                    k.clone()
                } else {
                    format!("{base}.{k}")
                };
                return self.global_val(&m, &q2);
            }
        }
        let found = match (self.node(obj), k.as_ref()) {
            (Some(Node::Dict(m)), Some(k)) => m
                .items
                .iter()
                .rev()
                .find(|(kk, _)| self.text(*kk, src).as_deref() == Some(k.as_str()))
                .map(|(_, v)| *v),
            (Some(Node::Obj(o)), Some(k)) => o
                .dict
                .items
                .iter()
                .rev()
                .find(|(kk, _)| self.text(*kk, src).as_deref() == Some(k.as_str()))
                .map(|(_, v)| *v),
            _ => None,
        };
        found.unwrap_or_else(|| self.unknown("item of a computed value"))
    }

    fn arg(&self, args: Val, i: usize) -> Val {
        self.tuple_items(args)
            .and_then(|a| a.get(i))
            .copied()
            .unwrap_or(Val::Empty)
    }

    /// A call: `func(*args, **kwargs)` (`kind` "call") or `func.__new__(func, *args)` ("new").
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        func: Val,
        args: Val,
        kwargs: Val,
        kind: &'static str,
        at: u64,
        op: Opcode,
        ctx: &mut Ctx,
        src: &Src,
        depth: u8,
    ) -> R<Val> {
        let args_repr = || self.repr(args, src);
        if let Some(g) = self.global_of(func).cloned() {
            let full = g.full();
            // Complete the import finding with the call's arguments, or report a chained call.
            if let Some(i) = g.finding {
                let a = args_repr();
                if let Some(f) = ctx.sink.findings.get_mut(i) {
                    if f.args.is_none() {
                        f.args = Some(a);
                        f.message = format!("{} — called at offset {at} ({op})", f.message);
                    }
                }
            } else if g.chain {
                let class = ctx.policy.classify(&g.module, &g.qual);
                let (sev, why) = match class {
                    Class::Allowed(_) => (Severity::Info, String::new()),
                    Class::Denied(s, w) => (s, w),
                    Class::Unknown => (Severity::High, "not on the allow-list".to_string()),
                };
                if sev > Severity::Info {
                    ctx.finding(
                        "dangerous-call",
                        sev,
                        Verdict::Unsafe,
                        Some(at),
                        Some(op),
                        Some(full.clone()),
                        Some(args_repr()),
                        format!("calls {full}, reached through a lookup chain: {why}"),
                    );
                }
            }
            let a0 = self.arg(args, 0);
            let a1 = self.arg(args, 1);
            let resolved: Option<Val> = match full.as_str() {
                "builtins.getattr" => self
                    .text(a1, src)
                    .map(|n| n.into_owned())
                    .map(|n| self.resolve_attr(a0, &n)),
                "builtins.__import__" | "importlib.import_module" | "importlib.__import__" => self
                    .text(a0, src)
                    .map(|n| n.into_owned())
                    .map(|n| self.global_val(&n, "")),
                "pkgutil.resolve_name" => self.text(a0, src).map(|n| n.into_owned()).map(|n| {
                    let (m, q) = match n.split_once(':') {
                        Some((m, q)) => (m.to_string(), q.to_string()),
                        None => match n.rsplit_once('.') {
                            Some((m, q)) => (m.to_string(), q.to_string()),
                            None => (n.clone(), String::new()),
                        },
                    };
                    self.global_val(&m, &q)
                }),
                "operator.attrgetter" | "_operator.attrgetter" => {
                    let names: Vec<String> = self
                        .tuple_items(args)
                        .unwrap_or(&[])
                        .to_vec()
                        .into_iter()
                        .filter_map(|v| self.text(v, src).map(|c| c.into_owned()))
                        .collect();
                    Some(self.alloc(Node::AttrGetter(names)))
                }
                "operator.itemgetter" | "_operator.itemgetter" => {
                    Some(self.alloc(Node::ItemGetter(a0)))
                }
                "operator.methodcaller" | "_operator.methodcaller" => {
                    self.text(a0, src).map(|n| n.into_owned()).map(|n| {
                        let rest: Vec<Val> = self
                            .tuple_items(args)
                            .unwrap_or(&[])
                            .iter()
                            .skip(1)
                            .copied()
                            .collect();
                        let rest = self.alloc(Node::Tuple(Self::seq(rest)));
                        self.alloc(Node::MethodCaller(n.into(), rest))
                    })
                }
                "operator.getitem"
                | "_operator.getitem"
                | "builtins.dict.get"
                | "builtins.dict.__getitem__" => Some(self.resolve_item(a0, a1, src)),
                "pickle.loads"
                | "_pickle.loads"
                | "pickle._loads"
                | "dill.loads"
                | "cloudpickle.loads"
                | "torch.storage._load_from_bytes" => {
                    self.nested(a0, at, op, ctx, src);
                    None
                }
                "_codecs.encode" | "codecs.encode" => {
                    let enc = self
                        .text(a1, src)
                        .map(|e| e.to_ascii_lowercase().replace('_', "-"));
                    match (a0, enc.as_deref()) {
                        (Val::Str(s), Some("latin1" | "latin-1" | "iso-8859-1")) => {
                            Some(self.alloc(Node::Latin1Of(s)))
                        }
                        (Val::Str(s), Some("utf-8" | "utf8")) => Some(Val::Bytes(s)),
                        _ => None,
                    }
                }
                "builtins.bytes" | "builtins.bytearray" => match a0 {
                    Val::Bytes(_) => Some(a0),
                    Val::Ref(_) if matches!(self.node(a0), Some(Node::Latin1Of(_))) => Some(a0),
                    _ => None,
                },
                _ => None,
            };
            if let Some(v) = resolved {
                return Ok(v);
            }
            return Ok(self.alloc(Node::Obj(Box::new(Obj {
                class: func,
                args,
                kind,
                state: Val::Empty,
                attrs: Vec::new(),
                list: Seq::default(),
                dict: Map::default(),
            }))));
        }
        let _ = kwargs;
        match self.node(func).cloned() {
            Some(Node::AttrGetter(names)) => {
                let mut cur = self.arg(args, 0);
                for name in names
                    .first()
                    .map(|n| n.split('.').map(str::to_string).collect::<Vec<_>>())
                    .unwrap_or_default()
                {
                    cur = self.resolve_attr(cur, &name);
                }
                Ok(cur)
            }
            Some(Node::ItemGetter(k)) => {
                let obj = self.arg(args, 0);
                Ok(self.resolve_item(obj, k, src))
            }
            Some(Node::MethodCaller(name, margs)) if depth < 4 => {
                let obj = self.arg(args, 0);
                let callee = self.resolve_attr(obj, &name);
                if let Some(Node::Global(g)) = self.node_mut(callee) {
                    g.chain = true;
                }
                self.call(
                    callee,
                    margs,
                    Val::Empty,
                    "call",
                    at,
                    op,
                    ctx,
                    src,
                    depth + 1,
                )
            }
            _ => {
                let what = self.repr(func, src);
                ctx.finding(
                    "unresolved-call",
                    Severity::High,
                    Verdict::Unsafe,
                    Some(at),
                    Some(op),
                    Some(what),
                    Some(args_repr()),
                    "calls a value computed while loading, not an allow-listed global: its target cannot be proved harmless".into(),
                );
                Ok(self.unknown("result of an unresolved call"))
            }
        }
    }

    /// `pickle.loads(bytes)`: scan the constant bytes as a pickle of their own.
    fn nested(&mut self, data: Val, at: u64, op: Opcode, ctx: &mut Ctx, src: &Src) {
        if ctx.nested >= NESTED_CAP {
            ctx.finding(
                "nested-depth",
                Severity::Medium,
                Verdict::Inconclusive,
                Some(at),
                Some(op),
                None,
                None,
                "nested pickle.loads deeper than the scan follows".into(),
            );
            return;
        }
        let Some(bytes) = self.bytes_of(data, src, 64 << 20).map(|b| b.into_owned()) else {
            ctx.finding(
                "nested-pickle-unknown",
                Severity::High,
                Verdict::Unsafe,
                Some(at),
                Some(op),
                None,
                Some(self.repr(data, src)),
                "nested unpickling of data that is not a constant: what it loads cannot be checked"
                    .into(),
            );
            return;
        };
        let member = format!(
            "{}{}[pickle.loads@{at}]",
            ctx.member,
            if ctx.member.is_empty() { "" } else { "/" }
        );
        let inner = Src::Slice(&bytes);
        let mut sub = Ctx {
            policy: ctx.policy,
            sink: &mut *ctx.sink,
            member,
            limits: ctx.limits,
            nested: ctx.nested + 1,
            torch: None,
            torchscript: false,
        };
        crate::container::scan_pickles(&inner, 0, &mut sub, false);
    }

    fn build(
        &mut self,
        inst: Val,
        state: Val,
        at: u64,
        op: Opcode,
        ctx: &mut Ctx,
        src: &Src,
    ) -> R<Step> {
        let state = self.bump_depth(inst, state);
        if let Some(g) = self.global_of(inst).cloned() {
            let full = g.full();
            ctx.finding(
                "global-mutation",
                Severity::Critical,
                Verdict::Unsafe,
                Some(at),
                Some(op),
                Some(full.clone()),
                Some(self.repr(state, src)),
                format!("BUILD sets attributes on the module or class {full}: later lookups of it return attacker data"),
            );
            // Remember planted attributes: `{'name': value}` or `(None, {'name': value})`.
            let mut dicts = vec![state];
            if let Some(items) = self.tuple_items(state) {
                dicts = items.to_vec();
            }
            for d in dicts {
                if let Some(Node::Dict(m)) = self.node(d) {
                    let pairs: Vec<(String, Val)> = m
                        .items
                        .iter()
                        .filter_map(|(k, v)| self.text(*k, src).map(|k| (k.into_owned(), *v)))
                        .collect();
                    for (k, v) in pairs {
                        if self.planted.len() < PLANT_CAP {
                            self.planted.push((full.clone(), k, v));
                        }
                    }
                }
            }
            return Ok(Step::Go);
        }
        let cls = self.class_name(inst);
        let attrs: Vec<(String, Val)> = {
            let mut dicts = vec![state];
            if let Some(items) = self.tuple_items(state) {
                if items.len() == 2 {
                    dicts = items.to_vec();
                }
            }
            let mut out = Vec::new();
            for d in dicts {
                if let Some(Node::Dict(m)) = self.node(d) {
                    for (k, v) in &m.items {
                        if let Some(k) = self.text(*k, src) {
                            out.push((k.into_owned(), *v));
                        }
                    }
                }
            }
            out
        };
        match self.node_mut(inst) {
            Some(Node::Obj(o)) => {
                o.state = state;
                for a in attrs {
                    if o.attrs.len() < ITEM_CAP {
                        o.attrs.push(a);
                    }
                }
            }
            Some(Node::Unknown(_)) | Some(Node::Persistent(_)) => {}
            Some(Node::AttrGetter(_))
            | Some(Node::ItemGetter(_))
            | Some(Node::MethodCaller(_, _)) => {}
            // Plain values: the C unpickler raises for any state but None, pickle.py only
            // for a non-empty one; carry on, so that whatever either reader reaches is seen.
            _ => {}
        }
        if cls.as_deref() == Some("joblib.numpy_pickle.NumpyArrayWrapper") {
            return Ok(Step::RawPayload(self.joblib_payload(state, src)));
        }
        Ok(Step::Go)
    }

    /// Size of the raw array bytes a joblib wrapper announces.
    fn joblib_payload(&self, state: Val, src: &Src) -> Payload {
        let Some(Node::Dict(m)) = self.node(state) else {
            return Payload::Unknown;
        };
        let get = |key: &str| {
            m.items
                .iter()
                .find(|(k, _)| self.text(*k, src).as_deref() == Some(key))
                .map(|(_, v)| *v)
        };
        let aligned = get("numpy_array_alignment_bytes").is_some_and(|v| v != Val::None);
        let Some(dtype) = get("dtype") else {
            return Payload::Unknown;
        };
        let Some(Node::Obj(d)) = self.node(dtype) else {
            return Payload::Unknown;
        };
        let Some(code) = self.text(self.arg(d.args, 0), src) else {
            // A dtype whose first argument is a type (record dtypes).
            return Payload::Unknown;
        };
        let code = code.into_owned();
        if code.starts_with('O') {
            return Payload::Pickle;
        }
        let kind = code.chars().next().unwrap_or('?');
        let Ok(size) = code[kind.len_utf8()..].parse::<u64>() else {
            return match kind {
                'M' | 'm' => self.count_bytes(get("shape"), 8, aligned),
                _ => Payload::Unknown,
            };
        };
        let size = if kind == 'U' {
            size.saturating_mul(4)
        } else {
            size
        };
        // Structured dtypes carry their itemsize in the BUILD state (index 5).
        let size = if kind == 'V' {
            match self.tuple_items(d.state).and_then(|s| s.get(5)).copied() {
                Some(Val::Int(n)) if n > 0 => n as u64,
                _ => size,
            }
        } else {
            size
        };
        self.count_bytes(get("shape"), size, aligned)
    }

    fn count_bytes(&self, shape: Option<Val>, itemsize: u64, aligned: bool) -> Payload {
        let Some(shape) = shape else {
            return Payload::Unknown;
        };
        let Some(Node::Tuple(s)) = self.node(shape) else {
            return Payload::Unknown;
        };
        if s.len as usize != s.items.len() {
            return Payload::Unknown;
        }
        let mut n: u64 = itemsize;
        for v in &s.items {
            match v {
                Val::Int(d) if *d >= 0 => match n.checked_mul(*d as u64) {
                    Some(x) => n = x,
                    None => return Payload::Unknown,
                },
                _ => return Payload::Unknown,
            }
        }
        Payload::Raw { bytes: n, aligned }
    }

    /// Persistent ids: the torch storage shape check.
    fn persistent(&mut self, pid: Val, at: u64, op: Opcode, ctx: &mut Ctx, src: &Src) {
        if ctx.torch.is_none() {
            ctx.finding(
                "persistent-id",
                Severity::Low,
                Verdict::Inconclusive,
                Some(at),
                Some(op),
                None,
                Some(self.repr(pid, src)),
                "persistent id outside a torch checkpoint: what it loads is up to the loading program".into(),
            );
            return;
        }
        let items = self
            .tuple_items(pid)
            .map(|s| s.to_vec())
            .unwrap_or_default();
        let kind = items
            .first()
            .and_then(|v| self.text(*v, src))
            .map(|c| c.into_owned());
        let ok = match kind.as_deref() {
            Some("storage") => {
                (items.len() == 5 || items.len() == 6)
                    && self
                        .global_of(items[1])
                        .is_some_and(|g| g.qual.ends_with("Storage"))
                    && self.is_str(items[2])
                    && self.is_str(items[3])
                    && matches!(items[4], Val::Int(n) if n >= 0)
            }
            Some("module") => items.len() == 4,
            _ => false,
        };
        if !ok {
            ctx.finding(
                "torch-persistent-id",
                Severity::Medium,
                Verdict::Inconclusive,
                Some(at),
                Some(op),
                None,
                Some(self.repr(pid, src)),
                "torch persistent id is not ('storage', StorageType, key, location, numel)".into(),
            );
            return;
        }
        if kind.as_deref() == Some("storage") {
            let key = self
                .text(items[2], src)
                .map(|c| c.into_owned())
                .unwrap_or_default();
            let numel = match items[4] {
                Val::Int(n) => n as u64,
                _ => 0,
            };
            let elsize = self
                .global_of(items[1])
                .map(|g| storage_elsize(&g.qual))
                .unwrap_or(1);
            if let Some(size) = ctx.torch.and_then(|t| t.storage_size(&key)) {
                let need = numel.checked_mul(elsize);
                if need.is_none_or(|n| n > size) {
                    ctx.finding(
                        "storage-size-mismatch",
                        Severity::High,
                        Verdict::Unsafe,
                        Some(at),
                        Some(op),
                        None,
                        Some(self.repr(pid, src)),
                        format!("storage {key:?} declares {numel} elements of {elsize} bytes but the archive record holds {size} bytes"),
                    );
                }
            }
        }
    }
}

/// Checks `_rebuild_tensor*` arguments against the storage they view (CVE-2026-24747).
pub(crate) fn check_tensor(
    m: &Machine,
    func: &str,
    args: Val,
    at: u64,
    op: Opcode,
    ctx: &mut Ctx,
    src: &Src,
) {
    if !matches!(
        func,
        "torch._utils._rebuild_tensor"
            | "torch._utils._rebuild_tensor_v2"
            | "torch._utils._rebuild_tensor_v3"
            | "torch._utils._rebuild_qtensor"
    ) {
        return;
    }
    let Some(a) = m.tuple_items(args) else { return };
    if a.len() < 4 {
        return bad(
            m,
            ctx,
            at,
            op,
            src,
            args,
            "too few arguments for a tensor rebuild",
        );
    }
    let Some(Node::Persistent(pid)) = m.node(a[0]) else {
        return;
    };
    let Some(p) = m.tuple_items(*pid) else { return };
    if p.len() < 5 {
        return;
    }
    let Val::Int(numel) = p[4] else { return };
    let untyped = m
        .global_of(p[1])
        .is_some_and(|g| g.qual.ends_with("UntypedStorage"));
    let elsize: i128 = if untyped && func.ends_with("_v3") {
        a.get(6)
            .and_then(|d| m.global_of(*d))
            .map(|g| dtype_size(&g.qual) as i128)
            .unwrap_or(1)
    } else {
        1
    };
    let capacity: i128 = if untyped {
        numel as i128 / elsize.max(1)
    } else {
        numel as i128
    };
    let Val::Int(offset) = a[1] else { return };
    let (Some(size), Some(stride)) = (m.tuple_items(a[2]), m.tuple_items(a[3])) else {
        return bad(m, ctx, at, op, src, args, "size and stride must be tuples");
    };
    if size.len() != stride.len() {
        return bad(
            m,
            ctx,
            at,
            op,
            src,
            args,
            "size and stride have different lengths",
        );
    }
    let mut last: i128 = offset as i128;
    let mut empty = false;
    for (s, t) in size.iter().zip(stride) {
        let (Val::Int(s), Val::Int(t)) = (s, t) else {
            return;
        };
        if *s < 0 || *t < 0 {
            return bad(m, ctx, at, op, src, args, "negative size or stride");
        }
        if *s == 0 {
            empty = true;
        }
        last += (*s as i128 - 1).max(0) * *t as i128;
    }
    if offset < 0 || (!empty && last >= capacity) {
        bad(
            m,
            ctx,
            at,
            op,
            src,
            args,
            &format!("tensor reaches element {last} of a storage holding {capacity}"),
        );
    }
}

fn bad(m: &Machine, ctx: &mut Ctx, at: u64, op: Opcode, src: &Src, args: Val, why: &str) {
    ctx.finding(
        "tensor-out-of-bounds",
        Severity::High,
        Verdict::Unsafe,
        Some(at),
        Some(op),
        None,
        Some(m.repr(args, src)),
        format!("tensor view outside its storage ({why}): out-of-bounds memory access in torch (CVE-2026-24747)"),
    );
}

fn storage_elsize(qual: &str) -> u64 {
    match qual.trim_end_matches("Storage") {
        "Double" | "Long" | "ComplexFloat" => 8,
        "Float" | "Int" | "QInt32" => 4,
        "Half" | "BFloat16" | "Short" => 2,
        "ComplexDouble" => 16,
        _ => 1,
    }
}

fn dtype_size(qual: &str) -> u64 {
    match qual {
        "float64" | "int64" | "uint64" | "complex64" => 8,
        "float32" | "int32" | "uint32" | "complex32" => 4,
        "float16" | "bfloat16" | "int16" | "uint16" => 2,
        "complex128" => 16,
        _ => 1,
    }
}

fn int_text(d: &[u8]) -> R<Val> {
    let t = std::str::from_utf8(d).map_err(|_| Raise("invalid literal for int()".into()))?;
    let t = t.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(Val::Int(i));
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return Ok(Val::BigInt);
    }
    raise("invalid literal for int()")
}

fn cap_str(mut s: String) -> Box<str> {
    if s.len() > TEXT_CAP as usize {
        let mut cut = TEXT_CAP as usize;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s.into_boxed_str()
}

fn map_insert(m: &mut Map, k: Val, v: Val) {
    if m.items.len() < ITEM_CAP {
        m.items.push((k, v));
    }
    m.len += 1;
}

impl Machine {
    /// Tensor rebuild checks need the call's callee name; REDUCE routes here first.
    pub(crate) fn check_reduce(&self, ins_op: Opcode, at: u64, ctx: &mut Ctx, src: &Src) {
        // The callable and args are the two values under the top before REDUCE runs.
        if ins_op != Opcode::REDUCE || ctx.torch.is_none() || self.stack.len() < 2 {
            return;
        }
        let func = self.stack[self.stack.len() - 2];
        let args = self.stack[self.stack.len() - 1];
        if let Some(g) = self.global_of(func) {
            let name = g.full();
            check_tensor(self, &name, args, at, ins_op, ctx, src);
        }
    }
}

impl Machine {
    /// Pushes a bytes/str value known only by its place in the input.
    pub(crate) fn push_span(&mut self, op: Opcode, off: u64, len: u64) {
        let v = match Span::new(off, len) {
            Some(s) => match op {
                Opcode::BINUNICODE | Opcode::BINUNICODE8 => Val::Str(s),
                Opcode::BINSTRING => Val::PyStr(s),
                _ => Val::Bytes(s),
            },
            None => self.unknown("huge data"),
        };
        self.stack.push(v);
    }
}

impl Machine {
    /// The commonest fixed-layout opcodes, straight from the bytes: the same effect as the
    /// decoder plus [`step`](Self::step), several times faster. `None` means "take the
    /// general path" (unknown opcode, short input, or any condition that would raise).
    /// `ops` counts the opcodes consumed (a run of numbers is taken in one call).
    #[inline]
    pub(crate) fn fast(
        &mut self,
        data: &[u8],
        p: usize,
        base: u64,
        ctx: &Ctx,
        ops: &mut u64,
    ) -> Option<usize> {
        let b = *data.get(p)?;
        if self.stack.len() >= ctx.limits.max_stack {
            return None;
        }
        let (v, n) = match b {
            b'K' | b'M' | b'J' | b'G' => {
                // Runs of numbers (the body of every APPENDS batch of a numeric list) in
                // one loop: no dispatch back to the driver per opcode.
                let room = ctx.limits.max_stack - self.stack.len();
                let mut q = p;
                let mut k = 0usize;
                while k < room {
                    let (v, n) = match data.get(q) {
                        Some(b'K') => match data.get(q + 1) {
                            Some(&d) => (Val::Int(d as i64), 2),
                            None => break,
                        },
                        Some(b'M') => match data.get(q + 1..q + 3) {
                            Some(d) => (Val::Int(u16::from_le_bytes([d[0], d[1]]) as i64), 3),
                            None => break,
                        },
                        Some(b'J') => match data.get(q + 1..q + 5) {
                            Some(d) => (
                                Val::Int(i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64),
                                5,
                            ),
                            None => break,
                        },
                        Some(b'G') => {
                            match data.get(q + 1..q + 9).and_then(|d| d.try_into().ok()) {
                                Some(d) => (Val::Float(f64::from_be_bytes(d)), 9),
                                None => break,
                            }
                        }
                        _ => break,
                    };
                    self.stack.push(v);
                    q += n;
                    k += 1;
                }
                if k == 0 {
                    return None;
                }
                *ops += k as u64;
                return Some(q - p);
            }
            b'N' => (Val::None, 1),
            0x88 => (Val::Bool(true), 1),
            0x89 => (Val::Bool(false), 1),
            0x8c => {
                let len = *data.get(p + 1)? as usize;
                let s = data.get(p + 2..p + 2 + len)?;
                utf8_ok(s)?;
                (
                    Val::Str(Span::new(base + p as u64 + 2, len as u64)?),
                    2 + len,
                )
            }
            b'h' => (self.memo_get(*data.get(p + 1)? as u64)?, 2),
            b'(' => {
                if self.marks.len() >= ctx.limits.max_marks {
                    return None;
                }
                self.marks.push(self.stack.len());
                *ops += 1;
                return Some(1);
            }
            0x94 => {
                if self.stack.len() <= self.fence()
                    || self.memo_len != self.memo.len()
                    || self.memo_len >= ctx.limits.max_memo_entries
                    || !self.memo_map.is_empty()
                {
                    return None;
                }
                let v = *self.stack.last()?;
                self.memo.push(v);
                self.memo_len += 1;
                *ops += 1;
                return Some(1);
            }
            b'q' | b'r' => {
                let (i, n) = if b == b'q' {
                    (*data.get(p + 1)? as usize, 2)
                } else {
                    (
                        u32::from_le_bytes(data.get(p + 1..p + 5)?.try_into().ok()?) as usize,
                        5,
                    )
                };
                if self.stack.len() <= self.fence() {
                    return None;
                }
                let v = *self.stack.last()?;
                if i < self.memo.len() && self.memo[i] != Val::Empty {
                    self.memo[i] = v;
                    *ops += 1;
                    return Some(n);
                }
                // The usual case at protocols 1-3: the next free index.
                if i == self.memo.len()
                    && self.memo_len == self.memo.len()
                    && self.memo_map.is_empty()
                    && self.memo_len < ctx.limits.max_memo_entries
                {
                    self.memo.push(v);
                    self.memo_len += 1;
                    *ops += 1;
                    return Some(n);
                }
                return None;
            }
            b'j' => (
                self.memo_get(u32::from_le_bytes(data.get(p + 1..p + 5)?.try_into().ok()?) as u64)?,
                5,
            ),
            b'X' => {
                let len = u32::from_le_bytes(data.get(p + 1..p + 5)?.try_into().ok()?) as usize;
                let s = data.get(p + 5..(p + 5).checked_add(len)?)?;
                utf8_ok(s)?;
                (
                    Val::Str(Span::new(base + p as u64 + 5, len as u64)?),
                    5 + len,
                )
            }
            b'C' => {
                let len = *data.get(p + 1)? as usize;
                data.get(p + 2..p + 2 + len)?;
                (
                    Val::Bytes(Span::new(base + p as u64 + 2, len as u64)?),
                    2 + len,
                )
            }
            b']' => (self.alloc(Node::List(Seq::default())), 1),
            b'}' => (self.alloc(Node::Dict(Map::default())), 1),
            b')' => (self.alloc(Node::Tuple(Seq::default())), 1),
            _ => return None,
        };
        self.stack.push(v);
        *ops += 1;
        Some(n)
    }
}

/// `Some` if `s` is UTF-8. Names and keys are short and ASCII: a plain byte loop decides
/// those without the general validator's per-call setup.
#[inline]
fn utf8_ok(s: &[u8]) -> Option<()> {
    if s.iter().all(|&c| c < 0x80) || std::str::from_utf8(s).is_ok() {
        Some(())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn node_and_val_stay_small() {
        assert_eq!(std::mem::size_of::<super::Val>(), 16);
        assert!(std::mem::size_of::<super::Node>() <= 40);
    }
}
