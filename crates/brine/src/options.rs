//! Options for reading and writing pickles: protocol, text encoding, `fix_imports`, buffers,
//! hooks and limits, as builders.

use std::collections::HashMap;
use std::fmt;

use brine_core::{Limits, Result, DEFAULT_PROTOCOL};

use crate::value::{Blob, Graph, NodeId};

/// How Python 2 `str` data (STRING, BINSTRING, SHORT_BINSTRING) is decoded, like the
/// `encoding` argument of `pickle.loads`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StringEncoding {
    /// `encoding="ASCII"`, the default.
    #[default]
    Ascii,
    /// `encoding="latin1"`: every byte is a code point (what numpy and datetime data need).
    Latin1,
    /// `encoding="utf-8"`.
    Utf8,
    /// `encoding="bytes"`: keep them as `bytes`.
    Bytes,
}

/// What to do with bytes the [`StringEncoding`] cannot decode, like `errors=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DecodeErrors {
    /// Fail (`errors="strict"`), the default.
    #[default]
    Strict,
    /// Replace each bad byte with U+FFFD (`errors="replace"`).
    Replace,
    /// Drop bad bytes (`errors="ignore"`).
    Ignore,
    /// Map bad byte `b` to the lone surrogate U+DC00+b (`errors="surrogateescape"`).
    SurrogateEscape,
}

/// Resolves a persistent id (PERSID / BINPERSID): gets the graph and the id value, returns the
/// node that stands for the object. Without a hook the id stays a [`Node::PersId`](crate::value::Node::PersId).
pub type PersistentLoad = dyn FnMut(&mut Graph, NodeId) -> Result<NodeId>;

/// Called after each BUILD with the graph, the object just built and the input that follows
/// the BUILD opcode; returns how many of those bytes it consumed (skipped by the unpickler).
/// It may rewrite the object's node in place. This is how joblib's raw array payloads, which
/// sit right after a wrapper's BUILD inside the pickle, are read. Only slice inputs
/// ([`Unpickler::new`](crate::Unpickler::new), [`loads_with`](crate::loads_with)) support it.
pub type BuildHook = dyn FnMut(&mut Graph, NodeId, &[u8]) -> Result<usize>;

/// Options for reading pickles.
///
/// ```
/// use brine::{LoadOptions, StringEncoding};
/// let opts = LoadOptions::new().encoding(StringEncoding::Latin1).fix_imports(false);
/// let g = brine::loads_with(b"S'caf\\xe9'\n.", opts)?;
/// assert!(g.root().is_some());
/// # Ok::<(), brine::Error>(())
/// ```
pub struct LoadOptions {
    pub(crate) encoding: StringEncoding,
    pub(crate) errors: DecodeErrors,
    pub(crate) fix_imports: bool,
    pub(crate) limits: Limits,
    pub(crate) buffers: Option<Vec<Blob>>,
    pub(crate) extensions: HashMap<i32, (String, String)>,
    pub(crate) persistent_load: Option<Box<PersistentLoad>>,
    pub(crate) recognize_builtins: bool,
    pub(crate) build_hook: Option<Box<BuildHook>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            encoding: StringEncoding::Ascii,
            errors: DecodeErrors::Strict,
            fix_imports: true,
            limits: Limits::default(),
            buffers: None,
            extensions: HashMap::new(),
            persistent_load: None,
            recognize_builtins: true,
            build_hook: None,
        }
    }
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("encoding", &self.encoding)
            .field("errors", &self.errors)
            .field("fix_imports", &self.fix_imports)
            .field("limits", &self.limits)
            .field("buffers", &self.buffers.as_ref().map(|b| b.len()))
            .field("extensions", &self.extensions)
            .field("persistent_load", &self.persistent_load.is_some())
            .field("recognize_builtins", &self.recognize_builtins)
            .field("build_hook", &self.build_hook.is_some())
            .finish()
    }
}

impl LoadOptions {
    /// A copy of these options, when they hold nothing that cannot be copied: no hooks and
    /// no out-of-band buffers (`None` otherwise).
    pub(crate) fn try_clone(&self) -> Option<LoadOptions> {
        if self.persistent_load.is_some() || self.build_hook.is_some() || self.buffers.is_some() {
            return None;
        }
        Some(LoadOptions {
            encoding: self.encoding,
            errors: self.errors,
            fix_imports: self.fix_imports,
            limits: self.limits.clone(),
            buffers: None,
            extensions: self.extensions.clone(),
            persistent_load: None,
            recognize_builtins: self.recognize_builtins,
            build_hook: None,
        })
    }

    /// Defaults: ASCII strings, strict errors, `fix_imports`, safe [`Limits`].
    pub fn new() -> Self {
        LoadOptions::default()
    }
    /// Sets how Python 2 strings are decoded.
    pub fn encoding(mut self, e: StringEncoding) -> Self {
        self.encoding = e;
        self
    }
    /// Sets the error handling of that decoding.
    pub fn errors(mut self, e: DecodeErrors) -> Self {
        self.errors = e;
        self
    }
    /// Maps Python 2 module and class names to Python 3 ones (default on), keeping the
    /// originals so that writing protocol < 3 gives them back.
    pub fn fix_imports(mut self, on: bool) -> Self {
        self.fix_imports = on;
        self
    }
    /// Sets the limits.
    pub fn limits(mut self, l: Limits) -> Self {
        self.limits = l;
        self
    }
    /// Supplies the out-of-band buffers that NEXT_BUFFER takes, in order.
    pub fn buffers(mut self, b: Vec<Blob>) -> Self {
        self.buffers = Some(b);
        self
    }
    /// Registers an extension code (as `copyreg.add_extension`), so EXT opcodes become globals.
    pub fn extension(mut self, code: i32, module: &str, name: &str) -> Self {
        self.extensions
            .insert(code, (module.to_owned(), name.to_owned()));
        self
    }
    /// Sets the persistent-load hook.
    pub fn persistent_load(
        mut self,
        f: impl FnMut(&mut Graph, NodeId) -> Result<NodeId> + 'static,
    ) -> Self {
        self.persistent_load = Some(Box::new(f));
        self
    }
    /// Turns the reduce forms CPython writes for builtins at old protocols
    /// (`set([...])`, `_codecs.encode(s, 'latin1')`, `bytearray(b)`, `getattr(cls, 'Inner')`)
    /// back into native values (default on). Off keeps them as [`Object`](crate::value::Object)s.
    pub fn recognize_builtins(mut self, on: bool) -> Self {
        self.recognize_builtins = on;
        self
    }
    /// Sets the hook called after each BUILD (see [`BuildHook`]).
    ///
    /// ```
    /// use brine::value::Node;
    /// // `object.__new__(C)` + BUILD, then two raw bytes the hook takes, then STOP.
    /// let data = b"\x80\x04\x8c\x01m\x8c\x01C\x93)\x81}b\xab\xcd.";
    /// let opts = brine::LoadOptions::new().build_hook(|g, obj, rest| {
    ///     assert_eq!(&rest[..2], b"\xab\xcd");
    ///     *g.get_mut(obj) = Node::Bytes(rest[..2].into());
    ///     Ok(2)
    /// });
    /// let g = brine::loads_with(data, opts)?;
    /// assert_eq!(g.get(g.root().unwrap()), &Node::Bytes(b"\xab\xcd"[..].into()));
    /// # Ok::<(), brine::Error>(())
    /// ```
    pub fn build_hook(
        mut self,
        f: impl FnMut(&mut Graph, NodeId, &[u8]) -> Result<usize> + 'static,
    ) -> Self {
        self.build_hook = Some(Box::new(f));
        self
    }
}

/// Decides, for each [`Buffer`](crate::value::Buffer) node written at protocol 5, whether it
/// goes out-of-band (`false`, like a `buffer_callback` returning false) or in-band (`true`).
pub type BufferCallback = dyn FnMut(&crate::value::Buffer) -> bool;

/// Options for writing pickles.
///
/// ```
/// use brine::DumpOptions;
/// let opts = DumpOptions::new().protocol(2);
/// assert_eq!(opts.get_protocol(), 2);
/// ```
pub struct DumpOptions {
    pub(crate) protocol: u8,
    pub(crate) fix_imports: bool,
    pub(crate) extensions: HashMap<(String, String), i32>,
    pub(crate) buffer_callback: Option<Box<BufferCallback>>,
    pub(crate) limits: Limits,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            protocol: DEFAULT_PROTOCOL,
            fix_imports: true,
            extensions: HashMap::new(),
            buffer_callback: None,
            limits: Limits::default(),
        }
    }
}

impl fmt::Debug for DumpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DumpOptions")
            .field("protocol", &self.protocol)
            .field("fix_imports", &self.fix_imports)
            .field("extensions", &self.extensions)
            .field("buffer_callback", &self.buffer_callback.is_some())
            .field("limits", &self.limits)
            .finish()
    }
}

impl DumpOptions {
    /// Defaults: protocol 4, `fix_imports`.
    pub fn new() -> Self {
        DumpOptions::default()
    }
    /// Sets the protocol (0–5; higher values are clamped to 5, negative means highest as in
    /// Python is not expressible here: pass 5).
    pub fn protocol(mut self, p: u8) -> Self {
        self.protocol = p.min(brine_core::HIGHEST_PROTOCOL);
        self
    }
    /// The protocol that will be written.
    pub fn get_protocol(&self) -> u8 {
        self.protocol
    }
    /// Writes Python 2 names for protocols < 3 (default on), as CPython does.
    pub fn fix_imports(mut self, on: bool) -> Self {
        self.fix_imports = on;
        self
    }
    /// Registers an extension code: globals named `module.name` are written as EXT opcodes.
    pub fn extension(mut self, code: i32, module: &str, name: &str) -> Self {
        self.extensions
            .insert((module.to_owned(), name.to_owned()), code);
        self
    }
    /// Sets the buffer callback.
    pub fn buffer_callback(
        mut self,
        f: impl FnMut(&crate::value::Buffer) -> bool + 'static,
    ) -> Self {
        self.buffer_callback = Some(Box::new(f));
        self
    }
    /// Sets the limits (the writer uses `max_depth`).
    pub fn limits(mut self, l: Limits) -> Self {
        self.limits = l;
        self
    }
}
