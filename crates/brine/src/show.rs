//! Python's `repr()` of what `pickle.load` would return, computed from the value graph without
//! executing anything.
//!
//! Builtin values print exactly as CPython 3.11 prints them, recursion markers (`[...]`,
//! `{...}`, `(...)`) included; shared but non-recursive parts print in full each time. Globals
//! print as `module.name`; known objects readably (`OrderedDict([('a', 1)])`,
//! `datetime.date(1980, 5, 7)`, `module.Class(x=1)`); other calls as `module.func(args,
//! state=...)`. Names from the file have their control characters escaped.
//!
//! The walk uses an explicit stack, so any depth is safe, and the output is bounded by
//! [`ShowOptions::max_output`] (1 MiB by default): a memo bomb whose Python `repr` would be
//! exponentially long ends in `...` instead.
//!
//! ```
//! // `x = []; x.append(x)`, pickled by CPython at protocol 4.
//! let g = brine::loads(b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00]\x94h\x00a.")?;
//! let s = brine::show::repr(&g, g.root().unwrap(), &brine::show::ShowOptions::default());
//! assert_eq!(s, "[[...]]");
//! # Ok::<(), brine::Error>(())
//! ```

use std::collections::HashSet;

use brine_core::text;

use crate::value::{Graph, Node, NodeId, Object, ObjectKind};

/// One part of what a [`ShowHook`] prints in place of an object: text as it is, or a value
/// printed by the printer itself (with the hook, the bounds and recursion markers).
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Printed as given.
    Text(String),
    /// A node of the graph, printed in turn.
    Value(NodeId),
}

/// Lets a caller print some objects its own way (numpy arrays as summaries, say): given the
/// graph and an [`Object`] node, returns the pieces to print instead of the object's call
/// form, or `None` to keep it. The pieces' values are visited one level deeper, without
/// recursion on the Rust stack.
pub type ShowHook<'h> = dyn Fn(&Graph, NodeId) -> Option<Vec<Piece>> + 'h;

/// Default cap of [`ShowOptions::max_output`]: 1 MiB of text.
pub const DEFAULT_MAX_OUTPUT: usize = 1 << 20;

/// Paging and bounds of [`repr`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShowOptions {
    /// Containers and objects nested deeper than this (the root is level 0) print as `...`.
    /// `None`: no limit.
    pub max_depth: Option<usize>,
    /// Containers print at most this many items, then `...`. `None`: no limit.
    pub max_items: Option<usize>,
    /// Once the output reaches this many bytes it is cut and ends in `...`. Defaults to
    /// [`DEFAULT_MAX_OUTPUT`] (1 MiB); `usize::MAX` for no cap.
    pub max_output: usize,
}

impl Default for ShowOptions {
    fn default() -> Self {
        ShowOptions {
            max_depth: None,
            max_items: None,
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }
}

/// What a sequence of items is shown from.
#[derive(Clone, Copy)]
enum Seq {
    /// Items of a list, tuple, set or frozenset node (or an object's args tuple).
    Items(NodeId),
    /// `k: v` pairs of a dict node.
    Pairs(NodeId),
    /// `(k, v)` tuples of an object's dict items (OrderedDict).
    ObjPairs(NodeId),
    /// `k=v` of a dict node whose keys are str.
    Kwargs(NodeId),
    /// An object's list items.
    ObjItems(NodeId),
}

enum Task {
    Visit(NodeId, usize),
    Text(&'static str),
    Owned(String),
    /// Continue `seq` at item `pos`; items are children at `depth`.
    Seq {
        seq: Seq,
        pos: usize,
        depth: usize,
    },
    Leave(NodeId),
}

/// Python's `repr()` of the value at `root`, bounded by `opts` (see the [module docs](self)).
pub fn repr(graph: &Graph, root: NodeId, opts: &ShowOptions) -> String {
    repr_inner(graph, root, opts, None)
}

/// [`repr`], letting `hook` print objects its own way (see [`ShowHook`]).
///
/// ```
/// use brine::show::{repr_with, Piece, ShowOptions};
/// // `collections.Counter({'a': 2})` at protocol 2, printed in a shorter form.
/// let g = brine::loads(b"\x80\x02ccollections\nCounter\n}X\x01\x00\x00\x00aK\x02s\x85R.")?;
/// let hook = |g: &brine::value::Graph, id| match g.get(id) {
///     brine::value::Node::Object(o) => Some(vec![Piece::Text("Counter".into()), Piece::Value(o.args)]),
///     _ => None,
/// };
/// let s = repr_with(&g, g.root().unwrap(), &ShowOptions::default(), &hook);
/// assert_eq!(s, "Counter({'a': 2},)");
/// # Ok::<(), brine::Error>(())
/// ```
pub fn repr_with(graph: &Graph, root: NodeId, opts: &ShowOptions, hook: &ShowHook<'_>) -> String {
    repr_inner(graph, root, opts, Some(hook))
}

fn repr_inner(
    graph: &Graph,
    root: NodeId,
    opts: &ShowOptions,
    hook: Option<&ShowHook<'_>>,
) -> String {
    let mut p = Printer {
        g: graph,
        hook,
        opts,
        out: String::new(),
        active: HashSet::new(),
        stack: vec![Task::Visit(root, 0)],
    };
    p.run();
    p.out
}

struct Printer<'a> {
    g: &'a Graph,
    hook: Option<&'a ShowHook<'a>>,
    opts: &'a ShowOptions,
    out: String,
    active: HashSet<NodeId>,
    stack: Vec<Task>,
}

/// Escapes control characters of a name from the file (`\x1b` for ESC).
fn escape_name(s: &str, out: &mut String) {
    for c in s.chars() {
        let u = c as u32;
        if u < 0x20 || (0x7f..0xa0).contains(&u) || c == '\\' {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push_str(&format!("\\x{u:02x}"));
            }
        } else {
            out.push(c);
        }
    }
}

fn seq_len(g: &Graph, seq: Seq) -> usize {
    match seq {
        Seq::Items(id) => match g.get(id) {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => v.len(),
            _ => 0,
        },
        Seq::Pairs(id) | Seq::Kwargs(id) => match g.get(id) {
            Node::Dict(v) => v.len(),
            _ => 0,
        },
        Seq::ObjPairs(id) => match g.get(id) {
            Node::Object(o) => o.dict_items.len(),
            _ => 0,
        },
        Seq::ObjItems(id) => match g.get(id) {
            Node::Object(o) => o.list_items.len(),
            _ => 0,
        },
    }
}

impl<'a> Printer<'a> {
    fn run(&mut self) {
        while let Some(task) = self.stack.pop() {
            if self.out.len() >= self.opts.max_output {
                self.out.push_str("...");
                return;
            }
            match task {
                Task::Text(s) => self.out.push_str(s),
                Task::Owned(s) => self.out.push_str(&s),
                Task::Leave(id) => {
                    self.active.remove(&id);
                }
                Task::Visit(id, depth) => self.visit(id, depth),
                Task::Seq { seq, pos, depth } => self.seq(seq, pos, depth),
            }
        }
    }

    fn seq(&mut self, seq: Seq, pos: usize, depth: usize) {
        let len = seq_len(self.g, seq);
        if pos >= len {
            return;
        }
        if pos > 0 {
            self.out.push_str(", ");
        }
        if self.opts.max_items.is_some_and(|m| pos >= m) {
            self.out.push_str("...");
            return;
        }
        self.stack.push(Task::Seq {
            seq,
            pos: pos + 1,
            depth,
        });
        match seq {
            Seq::Items(id) => {
                if let Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) =
                    self.g.get(id)
                {
                    self.stack.push(Task::Visit(self.g.items(*v)[pos], depth));
                }
            }
            Seq::ObjItems(id) => {
                if let Node::Object(o) = self.g.get(id) {
                    self.stack.push(Task::Visit(o.list_items[pos], depth));
                }
            }
            Seq::Pairs(id) => {
                if let Some((k, x)) = self.g.dict_pairs(id).and_then(|p| p.get(pos)) {
                    self.stack.push(Task::Visit(x, depth));
                    self.stack.push(Task::Text(": "));
                    self.stack.push(Task::Visit(k, depth));
                }
            }
            Seq::ObjPairs(id) => {
                if let Node::Object(o) = self.g.get(id) {
                    let (k, x) = o.dict_items[pos];
                    self.out.push('(');
                    self.stack.push(Task::Text(")"));
                    self.stack.push(Task::Visit(x, depth));
                    self.stack.push(Task::Text(", "));
                    self.stack.push(Task::Visit(k, depth));
                }
            }
            Seq::Kwargs(id) => {
                if let Some((k, x)) = self.g.dict_pairs(id).and_then(|p| p.get(pos)) {
                    if let Node::Str(s) = self.g.get(k) {
                        escape_name(&s.to_string_lossy(), &mut self.out);
                    }
                    self.out.push('=');
                    self.stack.push(Task::Visit(x, depth));
                }
            }
        }
    }

    /// Pushes `open seq close`, marking `id` active (recursion detection) until `close`.
    fn container(&mut self, id: NodeId, open: &str, seq: Seq, close: &'static str, depth: usize) {
        self.out.push_str(open);
        self.active.insert(id);
        self.stack.push(Task::Leave(id));
        self.stack.push(Task::Text(close));
        self.stack.push(Task::Seq {
            seq,
            pos: 0,
            depth: depth + 1,
        });
    }

    fn visit(&mut self, id: NodeId, depth: usize) {
        let g = self.g;
        let Some(node) = g.try_get(id) else {
            self.out.push_str("<invalid node>");
            return;
        };
        let compound = matches!(
            node,
            Node::List(_)
                | Node::Tuple(_)
                | Node::Dict(_)
                | Node::Set(_)
                | Node::FrozenSet(_)
                | Node::Object(_)
                | Node::PersId(_)
        );
        if compound && self.opts.max_depth.is_some_and(|m| depth >= m) {
            self.out.push_str("...");
            return;
        }
        let recursive = compound && self.active.contains(&id);
        match node {
            Node::None => self.out.push_str("None"),
            Node::Bool(true) => self.out.push_str("True"),
            Node::Bool(false) => self.out.push_str("False"),
            Node::Int(i) => self.out.push_str(&i.to_string()),
            Node::BigInt(i) => self.out.push_str(&i.to_string()),
            Node::Float(x) => self.out.push_str(&text::float_repr(*x)),
            Node::Str(s) => self.out.push_str(&text::repr_str(s.as_bytes())),
            Node::Bytes(b) => self.out.push_str(&text::repr_bytes(b.as_bytes(), "b")),
            Node::ByteArray(b) => {
                self.out.push_str("bytearray(");
                self.out.push_str(&text::repr_bytes(b.as_bytes(), "b"));
                self.out.push(')');
            }
            Node::List(v) if v.is_empty() => self.out.push_str("[]"),
            Node::List(_) if recursive => self.out.push_str("[...]"),
            Node::List(_) => self.container(id, "[", Seq::Items(id), "]", depth),
            Node::Tuple(v) if v.is_empty() => self.out.push_str("()"),
            Node::Tuple(_) if recursive => self.out.push_str("(...)"),
            Node::Tuple(v) => {
                let close = if v.len() == 1 { ",)" } else { ")" };
                self.container(id, "(", Seq::Items(id), close, depth)
            }
            Node::Dict(v) if v.is_empty() => self.out.push_str("{}"),
            Node::Dict(_) if recursive => self.out.push_str("{...}"),
            Node::Dict(_) => self.container(id, "{", Seq::Pairs(id), "}", depth),
            Node::Set(v) if v.is_empty() => self.out.push_str("set()"),
            Node::Set(_) if recursive => self.out.push_str("set(...)"),
            Node::Set(_) => self.container(id, "{", Seq::Items(id), "}", depth),
            Node::FrozenSet(v) if v.is_empty() => self.out.push_str("frozenset()"),
            Node::FrozenSet(_) if recursive => self.out.push_str("frozenset(...)"),
            Node::FrozenSet(_) => self.container(id, "frozenset({", Seq::Items(id), "})", depth),
            Node::Global(gl) => {
                escape_name(&gl.module, &mut self.out);
                self.out.push('.');
                escape_name(&gl.name, &mut self.out);
            }
            Node::PersId(p) => {
                self.out.push_str("persistent_id(");
                self.stack.push(Task::Text(")"));
                self.stack.push(Task::Visit(*p, depth + 1));
            }
            Node::Ext(code) => self.out.push_str(&format!("ext({code})")),
            Node::Buffer(b) => self
                .out
                .push_str(&format!("<out-of-band buffer {}>", b.index)),
            Node::Object(_) if recursive => self.out.push_str("..."),
            Node::Object(o) => self.object(id, o, depth),
        }
    }

    fn global_name(&self, id: NodeId) -> Option<(&'a str, &'a str)> {
        let g: &'a Graph = self.g;
        match g.try_get(id)? {
            Node::Global(gl) => Some((gl.module.as_str(), gl.name.as_str())),
            _ => None,
        }
    }

    fn tuple_items(&self, id: NodeId) -> &'a [NodeId] {
        let g: &'a Graph = self.g;
        match g.try_get(id) {
            Some(Node::Tuple(v)) => g.items(*v),
            _ => &[],
        }
    }

    /// `datetime.date` / `datetime` / `time` from their pickled bytes and `timedelta` from its
    /// ints, when well-formed: the text up to the closing parenthesis and the tzinfo argument.
    fn datetime(&self, name: &str, o: &Object) -> Option<(String, Option<NodeId>)> {
        if o.state.is_some() || !o.list_items.is_empty() || !o.dict_items.is_empty() {
            return None;
        }
        let args = self.tuple_items(o.args);
        if name == "timedelta" {
            let mut parts = Vec::new();
            for (i, label) in ["days", "seconds", "microseconds"].iter().enumerate() {
                match self.g.try_get(*args.get(i)?)? {
                    Node::Int(0) => {}
                    Node::Int(v) => parts.push(format!("{label}={v}")),
                    _ => return None,
                }
            }
            if args.len() != 3 {
                return None;
            }
            if parts.is_empty() {
                parts.push("0".to_owned());
            }
            return Some((format!("datetime.timedelta({}", parts.join(", ")), None));
        }
        let b = match self.g.try_get(*args.first()?)? {
            Node::Bytes(b) => b.as_bytes(),
            _ => return None,
        };
        let tz = match args.len() {
            1 => None,
            2 => Some(args[1]),
            _ => return None,
        };
        // Hours, minutes, seconds, microseconds from `b[at..at + 6]`, as Python shows them.
        let hms = |at: usize, s: &mut String| {
            s.push_str(&format!("{}, {}", b[at] & 0x7f, b[at + 1]));
            let us =
                (u32::from(b[at + 3]) << 16) | (u32::from(b[at + 4]) << 8) | u32::from(b[at + 5]);
            if us != 0 {
                s.push_str(&format!(", {}, {us}", b[at + 2]));
            } else if b[at + 2] != 0 {
                s.push_str(&format!(", {}", b[at + 2]));
            }
        };
        let mut s = match (name, b.len()) {
            ("date", 4) if tz.is_none() => {
                let year = u32::from(b[0]) * 256 + u32::from(b[1]);
                return Some((format!("datetime.date({year}, {}, {}", b[2], b[3]), None));
            }
            ("datetime", 10) => {
                let year = u32::from(b[0]) * 256 + u32::from(b[1]);
                let mut s = format!("datetime.datetime({year}, {}, {}, ", b[2] & 0x7f, b[3]);
                hms(4, &mut s);
                if b[2] & 0x80 != 0 {
                    s.push_str(", fold=1");
                }
                s
            }
            ("time", 6) => {
                let mut s = "datetime.time(".to_owned();
                hms(0, &mut s);
                if b[0] & 0x80 != 0 {
                    s.push_str(", fold=1");
                }
                s
            }
            _ => return None,
        };
        if tz.is_some() {
            s.push_str(", tzinfo=");
        }
        Some((s, tz))
    }

    fn object(&mut self, id: NodeId, o: &Object, depth: usize) {
        if let Some(pieces) = self.hook.and_then(|h| h(self.g, id)) {
            self.active.insert(id);
            self.stack.push(Task::Leave(id));
            for piece in pieces.into_iter().rev() {
                self.stack.push(match piece {
                    Piece::Text(t) => Task::Owned(t),
                    Piece::Value(v) => Task::Visit(v, depth + 1),
                });
            }
            return;
        }
        let callable = self.global_name(o.callable);
        if let Some(("datetime", name)) = callable {
            if let Some((s, tz)) = self.datetime(name, o) {
                self.out.push_str(&s);
                self.stack.push(Task::Text(")"));
                if let Some(tz) = tz {
                    self.stack.push(Task::Visit(tz, depth + 1));
                }
                return;
            }
        }
        self.active.insert(id);
        self.stack.push(Task::Leave(id));
        let inner = depth + 1;
        // OrderedDict([(k, v), ...]) as Python 3.11 prints it.
        if callable == Some(("collections", "OrderedDict"))
            && self.tuple_items(o.args).is_empty()
            && o.state.is_none()
            && o.list_items.is_empty()
        {
            if o.dict_items.is_empty() {
                self.out.push_str("OrderedDict()");
            } else {
                self.out.push_str("OrderedDict([");
                self.stack.push(Task::Text("])"));
                self.stack.push(Task::Seq {
                    seq: Seq::ObjPairs(id),
                    pos: 0,
                    depth: inner,
                });
            }
            return;
        }
        // The class of an instance: copyreg._reconstructor(cls, object, None) or NEWOBJ cls().
        let args = self.tuple_items(o.args);
        let class = match (callable, o.kind) {
            (Some(("copyreg", "_reconstructor")), ObjectKind::Reduce)
                if args.len() == 3 && self.global_name(args[0]).is_some() =>
            {
                Some(args[0])
            }
            (_, ObjectKind::NewObj | ObjectKind::NewObjEx) if args.is_empty() => Some(o.callable),
            _ => None,
        };
        let kwargs_state = o
            .state
            .filter(|&s| matches!(self.g.try_get(s), Some(Node::Dict(v)) if self.g.pairs(*v).iter().all(|(k, _)| matches!(self.g.get(k), Node::Str(_)))));
        let mut tail: Vec<Task> = Vec::new();
        let head = class.unwrap_or(o.callable);
        let mut first = true;
        let sep = |tail: &mut Vec<Task>, first: &mut bool| {
            if !*first {
                tail.push(Task::Text(", "));
            }
            *first = false;
        };
        if class.is_none() && !args.is_empty() {
            sep(&mut tail, &mut first);
            tail.push(Task::Seq {
                seq: Seq::Items(o.args),
                pos: 0,
                depth: inner,
            });
        } else if class.is_none() && !matches!(self.g.try_get(o.args), Some(Node::Tuple(_))) {
            sep(&mut tail, &mut first);
            tail.push(Task::Text("*"));
            tail.push(Task::Visit(o.args, inner));
        }
        if let Some(k) = o.kwargs {
            if matches!(self.g.try_get(k), Some(Node::Dict(v)) if !v.is_empty()) {
                sep(&mut tail, &mut first);
                tail.push(Task::Seq {
                    seq: Seq::Kwargs(k),
                    pos: 0,
                    depth: inner,
                });
            }
        }
        match (class, kwargs_state, o.state) {
            (Some(_), Some(s), _) if seq_len(self.g, Seq::Kwargs(s)) == 0 => {}
            (Some(_), Some(s), _) => {
                sep(&mut tail, &mut first);
                tail.push(Task::Seq {
                    seq: Seq::Kwargs(s),
                    pos: 0,
                    depth: inner,
                });
            }
            (_, _, Some(s)) => {
                sep(&mut tail, &mut first);
                tail.push(Task::Text("state="));
                tail.push(Task::Visit(s, inner));
            }
            _ => {}
        }
        if !o.list_items.is_empty() {
            sep(&mut tail, &mut first);
            tail.push(Task::Text("listitems=["));
            tail.push(Task::Seq {
                seq: Seq::ObjItems(id),
                pos: 0,
                depth: inner,
            });
            tail.push(Task::Text("]"));
        }
        if !o.dict_items.is_empty() {
            sep(&mut tail, &mut first);
            tail.push(Task::Text("dictitems=["));
            tail.push(Task::Seq {
                seq: Seq::ObjPairs(id),
                pos: 0,
                depth: inner,
            });
            tail.push(Task::Text("]"));
        }
        tail.push(Task::Text(")"));
        self.stack.extend(tail.into_iter().rev());
        self.stack.push(Task::Text("("));
        self.stack.push(Task::Visit(head, inner));
    }
}
