//! The plain JSON form: natural JSON for people and other languages, with a report of what
//! it could not say.

use std::collections::{BTreeMap, HashSet};
use std::fmt::{self, Write as _};

use brine_core::{Error, LimitKind, Limits, Result};

use super::text::{push_base64, push_float, push_str};
use super::typed::{keeps_identity, refcounts};
use crate::show::{repr, ShowOptions};
use crate::value::{Graph, Node, NodeId, PairsRef};

/// One kind of information the plain form drops.
///
/// ```
/// use brine::json::Loss;
/// assert_eq!(Loss::Tuple.code(), "tuple");
/// assert_eq!(Loss::Tuple.describe(), "tuples written as arrays");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Loss {
    /// A tuple became an array.
    Tuple,
    /// A set became an array.
    Set,
    /// A frozenset became an array.
    FrozenSet,
    /// A dict key that is no str was written as its Python `repr()`.
    NonStrKey,
    /// A dict entry was dropped because its key's text repeated an earlier key.
    KeyCollision,
    /// A value referenced more than once was written again (its identity is lost).
    Shared,
    /// A reference back to a containing value (a cycle) was written as `null`.
    Cycle,
    /// A `bytes` became a base64 string.
    Bytes,
    /// A `bytearray` became a base64 string.
    ByteArray,
    /// An int beyond 64 bits: exact in the text, but many JSON readers round it.
    BigInt,
    /// A NaN or infinity became `null`.
    NonFinite,
    /// Lone surrogates in a str became U+FFFD.
    Surrogates,
    /// A global (class or function reference) became a `"module.name"` string.
    Global,
    /// An object became `{"__class__": ..., ...state}`.
    Object,
    /// A persistent id became `{"__persistent_id__": ...}`.
    PersId,
    /// An extension code became `{"__extension_code__": ...}`.
    Ext,
    /// An out-of-band buffer became its data as base64 (or `null` without data).
    Buffer,
}

impl Loss {
    /// Every kind, in report order.
    pub const ALL: [Loss; 17] = [
        Loss::Tuple,
        Loss::Set,
        Loss::FrozenSet,
        Loss::NonStrKey,
        Loss::KeyCollision,
        Loss::Shared,
        Loss::Cycle,
        Loss::Bytes,
        Loss::ByteArray,
        Loss::BigInt,
        Loss::NonFinite,
        Loss::Surrogates,
        Loss::Global,
        Loss::Object,
        Loss::PersId,
        Loss::Ext,
        Loss::Buffer,
    ];

    /// A stable kebab-case name.
    pub fn code(self) -> &'static str {
        match self {
            Loss::Tuple => "tuple",
            Loss::Set => "set",
            Loss::FrozenSet => "frozenset",
            Loss::NonStrKey => "non-str-key",
            Loss::KeyCollision => "key-collision",
            Loss::Shared => "shared",
            Loss::Cycle => "cycle",
            Loss::Bytes => "bytes",
            Loss::ByteArray => "bytearray",
            Loss::BigInt => "big-int",
            Loss::NonFinite => "non-finite-float",
            Loss::Surrogates => "lone-surrogate",
            Loss::Global => "global",
            Loss::Object => "object",
            Loss::PersId => "persistent-id",
            Loss::Ext => "extension-code",
            Loss::Buffer => "buffer",
        }
    }

    /// What happened, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Loss::Tuple => "tuples written as arrays",
            Loss::Set => "sets written as arrays",
            Loss::FrozenSet => "frozensets written as arrays",
            Loss::NonStrKey => "dict keys that are not str written as their repr()",
            Loss::KeyCollision => "dict entries dropped: their key text repeated an earlier key",
            Loss::Shared => "shared references written again as copies",
            Loss::Cycle => "cyclic references cut (written as null)",
            Loss::Bytes => "bytes written as base64 strings",
            Loss::ByteArray => "bytearrays written as base64 strings",
            Loss::BigInt => "ints beyond 64 bits (exact here, rounded by many JSON readers)",
            Loss::NonFinite => "NaN or infinite floats written as null",
            Loss::Surrogates => "strs with lone surrogates written with U+FFFD",
            Loss::Global => "globals written as \"module.name\" strings",
            Loss::Object => "objects written as {\"__class__\": ..., ...state}",
            Loss::PersId => "persistent ids written as {\"__persistent_id__\": ...}",
            Loss::Ext => "extension codes written as {\"__extension_code__\": ...}",
            Loss::Buffer => "out-of-band buffers written as base64 data (or null)",
        }
    }
}

/// How many times each kind of [`Loss`] happened while writing the plain form.
///
/// ```
/// let g = brine::loads(b"\x80\x04\x95\x07\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86\x94.")?;
/// let (json, report) = brine::json::to_plain(&g)?;
/// assert_eq!(json, "[1,2]");
/// assert_eq!(report.count(brine::json::Loss::Tuple), 1);
/// assert_eq!(report.to_string(), "1 tuples written as arrays\n");
/// # Ok::<(), brine::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LossReport {
    counts: BTreeMap<Loss, u64>,
}

impl LossReport {
    /// True when nothing was lost: the JSON says all the pickle said.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// How often `loss` happened.
    pub fn count(&self, loss: Loss) -> u64 {
        self.counts.get(&loss).copied().unwrap_or(0)
    }

    /// The kinds that happened, with their counts, in [`Loss::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Loss, u64)> + '_ {
        self.counts.iter().map(|(&l, &n)| (l, n))
    }

    fn add(&mut self, loss: Loss) {
        *self.counts.entry(loss).or_insert(0) += 1;
    }
}

impl fmt::Display for LossReport {
    /// One line per kind: `3 tuples written as arrays`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (loss, n) in self.iter() {
            writeln!(f, "{n} {}", loss.describe())?;
        }
        Ok(())
    }
}

enum P {
    Node(NodeId),
    Lit(&'static str),
    /// An object key, already rendered with its colon.
    Key(String),
    /// Leaves a container: it is no longer on the path from the root.
    Leave(NodeId),
}

/// Writes the plain form of `roots` (an array of documents when `array`).
pub(super) fn write(
    g: &Graph,
    roots: &[NodeId],
    array: bool,
    limits: &Limits,
) -> Result<(String, LossReport)> {
    let counts = refcounts(g, roots)?;
    let mut w = Writer {
        g,
        counts,
        written: vec![false; g.len()],
        on_path: vec![false; g.len()],
        out: String::new(),
        tasks: Vec::new(),
        report: LossReport::default(),
        budget: limits.max_nodes,
    };
    if array {
        w.out.push('[');
        w.tasks.push(P::Lit("]"));
        for (i, &r) in roots.iter().enumerate().rev() {
            w.tasks.push(P::Node(r));
            if i > 0 {
                w.tasks.push(P::Lit(","));
            }
        }
    } else if let [root] = roots {
        w.tasks.push(P::Node(*root));
    } else {
        return Err(Error::data("one root expected outside a stream"));
    }
    w.run()?;
    Ok((w.out, w.report))
}

struct Writer<'g> {
    g: &'g Graph,
    counts: Vec<u32>,
    written: Vec<bool>,
    on_path: Vec<bool>,
    out: String,
    tasks: Vec<P>,
    report: LossReport,
    /// Values left to write: copies of shared values could otherwise grow exponentially.
    budget: usize,
}

impl Writer<'_> {
    fn run(&mut self) -> Result<()> {
        while let Some(t) = self.tasks.pop() {
            match t {
                P::Lit(s) => self.out.push_str(s),
                P::Key(k) => self.out.push_str(&k),
                P::Leave(id) => self.on_path[id.index()] = false,
                P::Node(id) => self.node(id)?,
            }
        }
        Ok(())
    }

    /// Pushes `steps` (in order) to run next.
    fn then(&mut self, steps: Vec<P>) {
        self.tasks.extend(steps.into_iter().rev());
    }

    /// The JSON key for dict key `k` (with its colon), counting what it loses.
    fn key(&mut self, k: NodeId) -> String {
        let text = match self.g.get(k) {
            Node::Str(s) => {
                if !s.is_utf8() {
                    self.report.add(Loss::Surrogates);
                }
                s.to_string_lossy().into_owned()
            }
            _ => {
                self.report.add(Loss::NonStrKey);
                repr(self.g, k, &ShowOptions::default())
            }
        };
        let mut out = String::with_capacity(text.len() + 3);
        push_str(&mut out, &text);
        out.push(':');
        out
    }

    /// Object members from `pairs`, skipping keys already in `seen`.
    /// `first`: no member was written yet (no comma before the next).
    fn members(
        &mut self,
        pairs: PairsRef<'_>,
        seen: &mut HashSet<String>,
        steps: &mut Vec<P>,
        first: &mut bool,
    ) {
        for (k, v) in pairs {
            let key = self.key(k);
            if !seen.insert(key.clone()) {
                self.report.add(Loss::KeyCollision);
                continue;
            }
            if !std::mem::take(first) {
                steps.push(P::Lit(","));
            }
            steps.push(P::Key(key));
            steps.push(P::Node(v));
        }
    }

    fn items(steps: &mut Vec<P>, items: &[NodeId]) {
        for (i, &c) in items.iter().enumerate() {
            if i > 0 {
                steps.push(P::Lit(","));
            }
            steps.push(P::Node(c));
        }
    }

    fn node(&mut self, id: NodeId) -> Result<()> {
        let g = self.g;
        let node = g
            .try_get(id)
            .ok_or_else(|| Error::data(format!("node {id:?} is not in the graph")))?;
        if self.budget == 0 {
            return Err(Error::limit(LimitKind::Nodes));
        }
        self.budget -= 1;
        if self.on_path[id.index()] {
            self.report.add(Loss::Cycle);
            self.out.push_str("null");
            return Ok(());
        }
        if keeps_identity(node) && self.counts[id.index()] > 1 {
            if self.written[id.index()] {
                self.report.add(Loss::Shared);
            }
            self.written[id.index()] = true;
        }
        let mut steps: Vec<P> = Vec::new();
        match node {
            Node::None => self.out.push_str("null"),
            Node::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Node::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Node::BigInt(b) => {
                self.report.add(Loss::BigInt);
                let _ = write!(self.out, "{b}");
            }
            Node::Float(x) if x.is_finite() => push_float(&mut self.out, *x),
            Node::Float(_) => {
                self.report.add(Loss::NonFinite);
                self.out.push_str("null");
            }
            Node::Str(s) => {
                if !s.is_utf8() {
                    self.report.add(Loss::Surrogates);
                }
                push_str(&mut self.out, &s.to_string_lossy());
            }
            Node::Bytes(b) | Node::ByteArray(b) => {
                self.report.add(if matches!(node, Node::Bytes(_)) {
                    Loss::Bytes
                } else {
                    Loss::ByteArray
                });
                self.out.push('"');
                push_base64(&mut self.out, b.as_bytes());
                self.out.push('"');
            }
            Node::List(items) | Node::Tuple(items) | Node::Set(items) | Node::FrozenSet(items) => {
                match node {
                    Node::Tuple(_) => self.report.add(Loss::Tuple),
                    Node::Set(_) => self.report.add(Loss::Set),
                    Node::FrozenSet(_) => self.report.add(Loss::FrozenSet),
                    _ => {}
                }
                self.out.push('[');
                Self::items(&mut steps, g.items(*items));
                steps.push(P::Lit("]"));
            }
            Node::Dict(pairs) => {
                self.out.push('{');
                self.members(g.pairs(*pairs), &mut HashSet::new(), &mut steps, &mut true);
                steps.push(P::Lit("}"));
            }
            Node::Global(gl) => {
                self.report.add(Loss::Global);
                push_str(&mut self.out, &format!("{}.{}", gl.module, gl.name));
            }
            Node::Object(o) => {
                self.report.add(Loss::Object);
                self.out.push_str("{\"__class__\":");
                match g.try_get(o.callable) {
                    Some(Node::Global(gl)) => {
                        push_str(&mut self.out, &format!("{}.{}", gl.module, gl.name))
                    }
                    _ => steps.push(P::Node(o.callable)),
                }
                let mut seen: HashSet<String> = HashSet::new();
                let field = |steps: &mut Vec<P>, seen: &mut HashSet<String>, name: &str| {
                    let mut k = String::new();
                    push_str(&mut k, name);
                    k.push(':');
                    seen.insert(k.clone());
                    steps.push(P::Lit(","));
                    steps.push(P::Key(k));
                };
                seen.insert("\"__class__\":".to_owned());
                if let Some(Node::Tuple(args)) = g.try_get(o.args) {
                    if !args.is_empty() {
                        field(&mut steps, &mut seen, "__args__");
                        steps.push(P::Lit("["));
                        Self::items(&mut steps, g.items(*args));
                        steps.push(P::Lit("]"));
                    }
                } else {
                    field(&mut steps, &mut seen, "__args__");
                    steps.push(P::Node(o.args));
                }
                if let Some(k) = o.kwargs {
                    field(&mut steps, &mut seen, "__kwargs__");
                    steps.push(P::Node(k));
                }
                if let Some(s) = o.state_setter {
                    field(&mut steps, &mut seen, "__state_setter__");
                    steps.push(P::Node(s));
                }
                if !o.list_items.is_empty() {
                    field(&mut steps, &mut seen, "__items__");
                    steps.push(P::Lit("["));
                    Self::items(&mut steps, &o.list_items);
                    steps.push(P::Lit("]"));
                }
                if !o.dict_items.is_empty() {
                    field(&mut steps, &mut seen, "__dict_items__");
                    steps.push(P::Lit("{"));
                    self.members(
                        PairsRef::from(&o.dict_items),
                        &mut HashSet::new(),
                        &mut steps,
                        &mut true,
                    );
                    steps.push(P::Lit("}"));
                }
                match o.state.map(|s| (s, g.try_get(s))) {
                    // The usual `__dict__` state: its entries become the object's members.
                    Some((s, Some(Node::Dict(pairs))))
                        if !self.on_path[s.index()] && !self.written[s.index()] =>
                    {
                        self.written[s.index()] = true;
                        self.on_path[s.index()] = true;
                        self.members(g.pairs(*pairs), &mut seen, &mut steps, &mut false);
                        steps.push(P::Leave(s));
                    }
                    Some((s, _)) => {
                        field(&mut steps, &mut seen, "__state__");
                        steps.push(P::Node(s));
                    }
                    None => {}
                }
                steps.push(P::Lit("}"));
            }
            Node::PersId(p) => {
                self.report.add(Loss::PersId);
                self.out.push_str("{\"__persistent_id__\":");
                steps.push(P::Node(*p));
                steps.push(P::Lit("}"));
            }
            Node::Ext(code) => {
                self.report.add(Loss::Ext);
                let _ = write!(self.out, "{{\"__extension_code__\":{code}}}");
            }
            Node::Buffer(b) => {
                self.report.add(Loss::Buffer);
                match &b.data {
                    Some(d) => {
                        self.out.push('"');
                        push_base64(&mut self.out, d.as_bytes());
                        self.out.push('"');
                    }
                    None => self.out.push_str("null"),
                }
            }
        }
        if !steps.is_empty() {
            self.on_path[id.index()] = true;
            steps.push(P::Leave(id));
            self.then(steps);
        }
        Ok(())
    }
}
