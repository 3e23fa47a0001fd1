//! Python `str` and `bytes` payloads: text that may hold lone surrogates, and raw bytes.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// `str` payloads up to this many bytes live inside the node, without a heap allocation or a
/// shared window: most keys and small strings of real pickles fit, and a window range costs
/// two atomic reference-count updates (taken, dropped) that dominate short strings' decoding.
/// 22 keeps a [`PyStr`] at 24 bytes (tag, length and flag, bytes), the size of a node: on
/// graphs of many small containers (pyperformance's MICRO_DICT) nodes are a third of the
/// graph's memory, so every byte of a node counts.
pub(crate) const STR_INLINE: usize = 22;

/// `bytes` payloads up to this many bytes live inside the node; 14 keeps a [`Blob`] at 16
/// bytes (tag, length, bytes; or tag and a box), which must fit beside a `PyStr`'s tag for a
/// node to stay at 24 bytes.
pub(crate) const BYTES_INLINE: usize = 14;

/// The bit of an inline payload's `meta` byte that holds the owner's flag; the rest is the
/// length.
const FLAG: u8 = 0x80;

/// The bytes a graph was decoded from, kept alive by the graph so that large payloads can
/// point into them instead of being copied: a memory-mapped file, or a buffer handed over with
/// [`loads_shared`](crate::loads_shared).
pub type SharedSource = Arc<dyn AsRef<[u8]> + Send + Sync>;

#[cfg(test)]
pub(crate) use window::LIVE;
pub(crate) use window::{Ledger, Releaser, Window, WindowSource};

/// Windows of a decoder's input, copied once and shared by every payload that lies in them:
/// one allocation per window instead of one per string.
///
/// A window is reference-counted like an `Arc<[u8]>`, but the decoder takes the references it
/// hands to new nodes out of a batch counted in advance ([`WindowSource`]), so that making a
/// node costs no atomic operation: measured on 200k 16-56-byte strings, the per-node
/// `lock inc` of an `Arc::clone` was a fifth of the decoding time. Only this module touches
/// the count; everything else sees `Window` as an owning handle to immutable bytes.
#[allow(unsafe_code)]
mod window {
    use std::ptr::NonNull;
    use std::sync::atomic::{fence, AtomicUsize, Ordering};

    use super::SharedSource;

    /// The shared part: the bytes and how many references exist (handles, plus the source's
    /// batch while the source is alive).
    struct Inner {
        refs: AtomicUsize,
        bytes: Bytes,
    }

    /// A window's bytes: a copy of part of the input, or a range of an input the caller
    /// shared (no copy at all: `loads_shared`, `load_file_mapped`).
    enum Bytes {
        Copied(Box<[u8]>),
        Shared {
            src: SharedSource,
            start: usize,
            len: usize,
        },
    }

    impl Bytes {
        #[inline]
        fn get(&self) -> &[u8] {
            match self {
                Bytes::Copied(b) => b,
                Bytes::Shared { src, start, len } => {
                    let all: &[u8] = AsRef::<[u8]>::as_ref(&**src);
                    // The range was checked against the source when the window was made.
                    all.get(*start..*start + *len).unwrap_or(&[])
                }
            }
        }
    }

    /// Beyond this many references the count could wrap (as `Arc`, which aborts likewise).
    const MAX_REFS: usize = isize::MAX as usize;

    #[cfg(test)]
    thread_local! {
        /// Windows made minus windows freed on this thread, for tests that check that every
        /// reference is given up exactly once.
        pub(crate) static LIVE: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
    }

    /// Gives up `n` references to `inner`, freeing it with the last one.
    ///
    /// # Safety
    /// The caller owns `n` of the references counted in `inner.refs` and uses none of them
    /// afterwards.
    #[inline]
    unsafe fn release(inner: NonNull<Inner>, n: usize) {
        // SAFETY: the caller owns references, so `inner` is alive until they are given up.
        let refs = unsafe { &inner.as_ref().refs };
        // Release: this owner's reads of the bytes happen before the free (as in `Arc`).
        if refs.fetch_sub(n, Ordering::Release) != n {
            return;
        }
        // Acquire: every other owner's release happened before the free.
        fence(Ordering::Acquire);
        // SAFETY: the count reached zero, so no reference is left; `inner` came from
        // `Box::leak` in `WindowSource::new` and is freed only here, once.
        drop(unsafe { Box::from_raw(inner.as_ptr()) });
        #[cfg(test)]
        LIVE.with(|l| l.set(l.get() - 1));
    }

    /// One counted reference to a window's bytes.
    pub(crate) struct Window(NonNull<Inner>);

    // SAFETY: the bytes are never written after the window is made (a copy, or a shared
    // source, itself `Send + Sync`) and the count is atomic, so sharing and sending handles is
    // as safe as for an `Arc` of them.
    unsafe impl Send for Window {}
    // SAFETY: as above.
    unsafe impl Sync for Window {}

    impl Window {
        /// The window's bytes.
        #[inline]
        pub(crate) fn bytes(&self) -> &[u8] {
            // SAFETY: this handle owns a reference, so `Inner` is alive while it is borrowed.
            unsafe { self.0.as_ref().bytes.get() }
        }

        /// True when the window is a range of a shared input, not a copy.
        #[inline]
        pub(crate) fn is_shared(&self) -> bool {
            // SAFETY: as in `bytes`.
            matches!(unsafe { &self.0.as_ref().bytes }, Bytes::Shared { .. })
        }
    }

    impl Clone for Window {
        #[inline]
        fn clone(&self) -> Self {
            // SAFETY: this handle owns a reference, so `Inner` is alive.
            let refs = unsafe { &self.0.as_ref().refs };
            // Relaxed: a new reference needs no ordering, only an existing one (as `Arc`).
            if refs.fetch_add(1, Ordering::Relaxed) > MAX_REFS {
                std::process::abort();
            }
            Window(self.0)
        }
    }

    impl Drop for Window {
        #[inline]
        fn drop(&mut self) {
            // SAFETY: this handle owns one reference and is gone after this.
            unsafe { release(self.0, 1) }
        }
    }

    /// The decoder's hold on the window it is filling: `held` references counted in advance,
    /// handed out one by one without an atomic operation. It keeps at least one for itself.
    pub(crate) struct WindowSource {
        inner: NonNull<Inner>,
        held: usize,
    }

    // SAFETY: as for `Window`; `held` is only touched through `&mut self`.
    unsafe impl Send for WindowSource {}
    // SAFETY: `&WindowSource` only reads the immutable bytes.
    unsafe impl Sync for WindowSource {}

    impl WindowSource {
        /// A window over `bytes`, with room for `expect` handles before the count is touched
        /// again (a guess from the window's size; more are taken in batches when it runs out).
        pub(crate) fn new(bytes: Box<[u8]>, expect: usize) -> WindowSource {
            WindowSource::with(Bytes::Copied(bytes), expect)
        }

        /// A window over `src[start..start + len]` without a copy, or `None` when that range
        /// is not in `src`; `expect` as for [`new`](Self::new).
        pub(crate) fn shared(
            src: &SharedSource,
            start: usize,
            len: usize,
            expect: usize,
        ) -> Option<WindowSource> {
            let all: &[u8] = AsRef::<[u8]>::as_ref(&**src);
            all.get(start..start.checked_add(len)?)?;
            let bytes = Bytes::Shared {
                src: src.clone(),
                start,
                len,
            };
            Some(WindowSource::with(bytes, expect))
        }

        fn with(bytes: Bytes, expect: usize) -> WindowSource {
            let held = expect.clamp(1, MAX_REFS / 2) + 1;
            let inner = Box::new(Inner {
                refs: AtomicUsize::new(held),
                bytes,
            });
            #[cfg(test)]
            LIVE.with(|l| l.set(l.get() + 1));
            WindowSource {
                inner: NonNull::from(Box::leak(inner)),
                held,
            }
        }

        /// A handle to the window, taken from the batch.
        #[inline]
        pub(crate) fn handle(&mut self) -> Window {
            if self.held <= 1 {
                self.refill();
            }
            self.held -= 1;
            Window(self.inner)
        }

        #[cold]
        #[inline(never)]
        fn refill(&mut self) {
            const BATCH: usize = 256;
            // SAFETY: the source owns references, so `Inner` is alive.
            let refs = unsafe { &self.inner.as_ref().refs };
            if refs.fetch_add(BATCH, Ordering::Relaxed) > MAX_REFS - BATCH {
                std::process::abort();
            }
            self.held += BATCH;
        }
    }

    /// Gives up window handles in runs: consecutive handles to one window cost one atomic
    /// operation instead of one each (a graph drops its strings in the order the decoder
    /// made them, window by window).
    #[derive(Default)]
    pub(crate) struct Releaser {
        cur: Option<NonNull<Inner>>,
        n: usize,
    }

    impl Releaser {
        /// Takes over `w`'s reference; it is given up by a later [`flush`](Self::flush).
        #[inline]
        pub(crate) fn add(&mut self, w: Window) {
            let p = w.0;
            // The reference now belongs to this run; `flush` gives it up.
            std::mem::forget(w);
            if self.cur == Some(p) {
                self.n += 1;
                return;
            }
            self.flush();
            self.cur = Some(p);
            self.n = 1;
        }

        /// Gives up the references of the current run.
        #[inline]
        pub(crate) fn flush(&mut self) {
            if let Some(p) = self.cur.take() {
                // SAFETY: `add` took over `n` references to `p` from handles that are gone.
                unsafe { release(p, self.n) }
            }
            self.n = 0;
        }
    }

    impl Drop for Releaser {
        fn drop(&mut self) {
            self.flush();
        }
    }

    /// The window references a graph's nodes hold, counted per window as they are handed out,
    /// so that a graph whose nodes own nothing else can give them all up without visiting a
    /// node: reading 32 bytes of every node back in was most of a 200k-string graph's drop.
    ///
    /// The ledger owns nothing: it only describes handles that nodes own. Dropping it gives
    /// nothing up; [`release_all`](Self::release_all) does, for nodes that are forgotten.
    #[derive(Clone, Default)]
    pub(crate) struct Ledger {
        /// The window of the current run and how many handles to it were recorded in a row.
        cur: Option<NonNull<Inner>>,
        n: usize,
        /// Earlier runs.
        done: Vec<(NonNull<Inner>, usize)>,
    }

    // SAFETY: the ledger only holds addresses and counts; it touches a window's count only in
    // `release_all`, through `&mut self`, and the count is atomic.
    unsafe impl Send for Ledger {}
    // SAFETY: `&Ledger` gives access to nothing.
    unsafe impl Sync for Ledger {}

    impl Ledger {
        /// A handle from `src`, recorded: the caller stores it in a node of the graph that
        /// owns this ledger (see [`release_all`](Self::release_all)).
        #[inline(always)]
        pub(crate) fn handle(&mut self, src: &mut WindowSource) -> Window {
            if self.cur == Some(src.inner) {
                self.n += 1;
            } else {
                self.switch(src.inner);
            }
            src.handle()
        }

        #[cold]
        #[inline(never)]
        fn switch(&mut self, to: NonNull<Inner>) {
            if let Some(p) = self.cur {
                self.done.push((p, self.n));
            }
            self.cur = Some(to);
            self.n = 1;
        }

        /// Gives up every recorded reference and forgets them.
        ///
        /// # Safety
        /// Every handle [`handle`](Self::handle) returned (to this ledger or to the one it was
        /// cloned from, for the handles cloned with it) is owned by a node that has been
        /// forgotten (never dropped, never used again), and by nothing else.
        pub(crate) unsafe fn release_all(&mut self) {
            for (p, n) in self
                .done
                .drain(..)
                .chain(self.cur.take().map(|p| (p, self.n)))
            {
                // SAFETY: the caller gives up these `n` references to `p`: their handles are
                // forgotten.
                unsafe { release(p, n) }
            }
            self.n = 0;
        }
    }

    impl Drop for WindowSource {
        fn drop(&mut self) {
            // SAFETY: the source owns the `held` references not handed out, and is gone after
            // this.
            unsafe { release(self.inner, self.held) }
        }
    }
}

/// A range of a [`SharedSource`].
#[derive(Clone)]
struct Shared {
    src: SharedSource,
    start: usize,
    len: usize,
}

/// Small-or-heap-or-window-or-shared byte storage of `N + 2` bytes (`N` inline bytes, a
/// length and a tag), with one flag bit for the owner ([`PyStr`]: plain UTF-8) kept in every
/// variant so that it costs no extra word.
#[derive(Clone)]
enum Store<const N: usize> {
    /// `buf[..meta & !FLAG]`; the rest of `buf` is zero.
    Inline {
        meta: u8,
        buf: [u8; N],
    },
    Heap {
        flag: bool,
        bytes: Box<[u8]>,
    },
    Window {
        flag: bool,
        win: Window,
        start: u32,
        len: u32,
    },
    /// Boxed so that the variant stays small; only payloads far larger than the box use it.
    Shared {
        flag: bool,
        shared: Box<Shared>,
    },
}

impl<const N: usize> Store<N> {
    /// True when the payload is a range of a shared input (alone or in a shared window).
    fn is_shared(&self) -> bool {
        match self {
            Store::Shared { .. } => true,
            Store::Window { win, .. } => win.is_shared(),
            Store::Inline { .. } | Store::Heap { .. } => false,
        }
    }

    /// True when the payload is stored inside (the store owns no memory).
    #[inline(always)]
    fn is_inline(&self) -> bool {
        matches!(self, Store::Inline { .. })
    }

    /// Drops the store, handing a window reference to `runs` instead of giving it up alone
    /// (a graph's batched drop). Consumes the store rather than emptying it in place: the
    /// in-place write of an empty store, then a second match in the drop glue, were most of
    /// a 200k-string graph's drop.
    #[inline(always)]
    fn release_into(self, runs: &mut Releaser) {
        match self {
            Store::Window { win, .. } => runs.add(win),
            Store::Inline { .. } => {}
            other => drop(other),
        }
    }

    #[inline]
    fn from_slice(b: &[u8], flag: bool) -> Self {
        if b.len() <= N {
            let mut buf = [0u8; N];
            buf[..b.len()].copy_from_slice(b);
            Store::Inline {
                meta: b.len() as u8 | if flag { FLAG } else { 0 },
                buf,
            }
        } else {
            Store::Heap {
                flag,
                bytes: b.into(),
            }
        }
    }

    #[inline]
    fn from_vec(v: Vec<u8>, flag: bool) -> Self {
        if v.len() <= N {
            Store::from_slice(&v, flag)
        } else {
            Store::Heap {
                flag,
                bytes: v.into_boxed_slice(),
            }
        }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        match self {
            Store::Inline { meta, buf } => buf.get(..(meta & !FLAG) as usize).unwrap_or(&[]),
            Store::Heap { bytes, .. } => bytes,
            Store::Window {
                win, start, len, ..
            } => {
                let (start, len) = (*start as usize, *len as usize);
                win.bytes().get(start..start + len).unwrap_or(&[])
            }
            Store::Shared { shared: s, .. } => {
                let all: &[u8] = AsRef::<[u8]>::as_ref(&*s.src);
                // The range was checked against the source when the store was made.
                all.get(s.start..s.start + s.len).unwrap_or(&[])
            }
        }
    }

    /// The owner's flag.
    #[inline]
    fn flag(&self) -> bool {
        match self {
            Store::Inline { meta, .. } => meta & FLAG != 0,
            Store::Heap { flag, .. } | Store::Window { flag, .. } | Store::Shared { flag, .. } => {
                *flag
            }
        }
    }

    /// `win[start..start + len]`; the caller checked the range, and windows are far below
    /// 4 GiB.
    #[inline]
    fn window(win: Window, start: usize, len: usize, flag: bool) -> Self {
        Store::Window {
            flag,
            win,
            start: start as u32,
            len: len as u32,
        }
    }

    /// `b` as a range of `src` when it lies inside it (checked by address), else `None`.
    fn shared(src: &SharedSource, b: &[u8], flag: bool) -> Option<Self> {
        let all: &[u8] = AsRef::<[u8]>::as_ref(&**src);
        let base = all.as_ptr() as usize;
        let at = b.as_ptr() as usize;
        let inside = at >= base
            && at
                .checked_add(b.len())
                .is_some_and(|end| end <= base + all.len());
        if !inside {
            return None;
        }
        Some(Store::Shared {
            flag,
            shared: Box::new(Shared {
                src: src.clone(),
                start: at - base,
                len: b.len(),
            }),
        })
    }
}

impl<const N: usize> Default for Store<N> {
    fn default() -> Self {
        Store::Inline {
            meta: 0,
            buf: [0; N],
        }
    }
}

/// A byte payload (`bytes`, `bytearray`, buffers); short ones are stored inline.
#[derive(Clone)]
pub struct Blob(Packed);

/// A [`Blob`]'s storage: short payloads inline, ranges of an input window (under 64 KiB,
/// as windowed payloads are), and the rest a boxed [`Store`]. That keeps a blob at 16 bytes,
/// which lets a node hold one beside a `PyStr`'s tag (24-byte nodes); payloads that need the
/// box are far larger than it.
#[derive(Clone)]
enum Packed {
    /// `buf[..len]`; the rest of `buf` is zero.
    Inline {
        len: u8,
        buf: [u8; BYTES_INLINE],
    },
    /// `win[start..start + len]`.
    Window {
        len: u16,
        start: u32,
        win: Window,
    },
    Out(Box<Store<BYTES_INLINE>>),
}

impl Default for Blob {
    fn default() -> Self {
        Blob(Packed::Inline {
            len: 0,
            buf: [0; BYTES_INLINE],
        })
    }
}

impl Blob {
    /// The blob of a store: inline stores unpacked, the rest boxed.
    #[inline]
    fn pack(store: Store<BYTES_INLINE>) -> Blob {
        match store {
            Store::Inline { meta, buf } => Blob(Packed::Inline {
                len: meta & !FLAG,
                buf,
            }),
            other => Blob(Packed::Out(Box::new(other))),
        }
    }

    /// Drops the blob, a window reference going to `runs` (for a graph's batched drop).
    #[inline(always)]
    pub(crate) fn release_into(self, runs: &mut Releaser) {
        match self.0 {
            Packed::Inline { .. } => {}
            Packed::Window { win, .. } => runs.add(win),
            Packed::Out(store) => (*store).release_into(runs),
        }
    }

    /// `b` without a copy when it lies inside `src` (a range of the source is kept), else a
    /// copy of it.
    pub(crate) fn shared_or_copied(src: &SharedSource, b: &[u8]) -> Blob {
        Blob::pack(Store::shared(src, b, false).unwrap_or_else(|| Store::from_slice(b, false)))
    }

    /// True when the bytes are a range of the input the graph was decoded from, not a copy.
    pub fn is_shared(&self) -> bool {
        match &self.0 {
            Packed::Inline { .. } => false,
            Packed::Window { win, .. } => win.is_shared(),
            Packed::Out(store) => store.is_shared(),
        }
    }

    /// True when the bytes are stored inside the blob (it owns no memory).
    #[inline(always)]
    pub(crate) fn is_inline(&self) -> bool {
        matches!(self.0, Packed::Inline { .. })
    }

    /// `win[start..start + len]`, checked by the caller.
    #[inline]
    pub(crate) fn from_window(win: Window, start: usize, len: usize) -> Blob {
        match (u16::try_from(len), u32::try_from(start)) {
            (Ok(len), Ok(start)) => Blob(Packed::Window { len, start, win }),
            _ => Blob::pack(Store::window(win, start, len, false)),
        }
    }

    /// True when [`from_window`](Self::from_window) keeps the range in the blob itself
    /// rather than boxed (always, for the payload sizes the decoder windows).
    #[inline(always)]
    pub(crate) fn window_fits(start: usize, len: usize) -> bool {
        len <= u16::MAX as usize && start <= u32::MAX as usize
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Packed::Inline { len, buf } => buf.get(..*len as usize).unwrap_or(&[]),
            Packed::Window { len, start, win } => {
                let start = *start as usize;
                win.bytes().get(start..start + *len as usize).unwrap_or(&[])
            }
            Packed::Out(store) => store.as_bytes(),
        }
    }

    /// Number of bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The bytes as a vector.
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Packed::Out(store) => match *store {
                Store::Heap { bytes, .. } => bytes.into_vec(),
                other => other.as_bytes().to_vec(),
            },
            inline => Blob(inline).as_bytes().to_vec(),
        }
    }
}

impl PartialEq for Blob {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Blob {}

impl std::hash::Hash for Blob {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl From<Vec<u8>> for Blob {
    #[inline]
    fn from(v: Vec<u8>) -> Self {
        Blob::pack(Store::from_vec(v, false))
    }
}

impl From<&[u8]> for Blob {
    #[inline]
    fn from(v: &[u8]) -> Self {
        Blob::pack(Store::from_slice(v, false))
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOW: usize = 64;
        let b = self.as_bytes();
        write!(f, "b\"")?;
        for &c in b.iter().take(SHOW) {
            write!(f, "{}", std::ascii::escape_default(c))?;
        }
        if b.len() > SHOW {
            write!(f, "\"... ({} bytes)", b.len())
        } else {
            write!(f, "\"")
        }
    }
}

/// The high bit of every byte of a word: a word is ASCII when none is set.
const HIGH: u128 = 0x8080_8080_8080_8080_8080_8080_8080_8080;

/// A Python `str`: UTF-8 that may also hold lone surrogates, encoded the way CPython's
/// `utf-8`/`surrogatepass` codec does (three bytes `ED A0..BF xx`), so any `str` round-trips.
/// Short strings are stored inline.
///
/// ```
/// use brine::value::PyStr;
/// let s = PyStr::from("héllo");
/// assert_eq!(s.as_str(), Some("héllo"));
/// let lone = PyStr::from_surrogatepass(b"a\xed\xa0\x80".to_vec()).unwrap();
/// assert_eq!(lone.as_str(), None);
/// assert_eq!(lone.to_string_lossy(), "a\u{fffd}");
/// ```
#[derive(Clone, Default)]
pub struct PyStr {
    /// The encoded text; its flag is true when it is plain UTF-8 (no lone surrogates).
    data: Store<STR_INLINE>,
}

impl PyStr {
    /// Drops the str, a window reference going to `runs` (for a graph's batched drop).
    #[inline(always)]
    pub(crate) fn release_into(self, runs: &mut Releaser) {
        self.data.release_into(runs)
    }

    /// From UTF-8 bytes that may contain surrogatepass-encoded lone surrogates; `None` when the
    /// bytes are not even that.
    pub fn from_surrogatepass(data: Vec<u8>) -> Option<PyStr> {
        let utf8 = match std::str::from_utf8(&data) {
            Ok(_) => true,
            Err(_) if valid_surrogatepass(&data) => false,
            Err(_) => return None,
        };
        Some(PyStr {
            data: Store::from_vec(data, utf8),
        })
    }

    /// From bytes already known to be valid surrogatepass UTF-8; `utf8` says whether they are
    /// also plain UTF-8.
    #[inline]
    pub(crate) fn from_checked(data: &[u8], utf8: bool) -> PyStr {
        PyStr {
            data: Store::from_slice(data, utf8),
        }
    }

    /// A short ASCII payload (the usual key or small value) checked and stored inline in one
    /// pass; `None` when `b` is longer than the inline size or not ASCII.
    #[inline]
    pub(crate) fn inline_ascii(b: &[u8]) -> Option<PyStr> {
        if b.len() > STR_INLINE {
            return None;
        }
        let mut buf = [0u8; STR_INLINE];
        buf[..b.len()].copy_from_slice(b);
        // The padding is zero, so the buffer is ASCII exactly when `b` is: two word tests
        // (they overlap) instead of a byte loop.
        let word = |i: usize| {
            let mut w = [0u8; 16];
            w.copy_from_slice(&buf[i..i + 16]);
            u128::from_le_bytes(w)
        };
        if (word(0) | word(STR_INLINE - 16)) & HIGH != 0 {
            return None;
        }
        Some(PyStr {
            data: Store::Inline {
                meta: b.len() as u8 | FLAG,
                buf,
            },
        })
    }

    /// The first `len` bytes of `head` as two little-endian words when they are ASCII, for
    /// [`inline_words`](Self::inline_words); `None` when `len` is over the inline size or they
    /// are not ASCII. `head` is the payload followed by whatever input comes after it: the
    /// copy and the check are then a few fixed-size word operations instead of a `memcpy`
    /// call and a byte loop (SHORT_BINUNICODE's common case).
    #[inline(always)]
    pub(crate) fn ascii_head(head: &[u8; 32], len: usize) -> Option<(u128, u128)> {
        if len > STR_INLINE {
            return None;
        }
        let (a, b) = head.split_at(16);
        let word = |h: &[u8]| {
            let mut w = [0u8; 16];
            w.copy_from_slice(h);
            u128::from_le_bytes(w)
        };
        // Keep the payload's bytes only, so that the rest of `head` is neither checked nor
        // stored (the padding stays zero).
        let bits = 8 * len as u32;
        let keep_lo = u128::MAX.checked_shl(bits).map_or(u128::MAX, |m| !m);
        let keep_hi = match bits.checked_sub(128) {
            Some(hi_bits) => !(u128::MAX << hi_bits),
            None => 0,
        };
        let (lo, hi) = (word(a) & keep_lo, word(b) & keep_hi);
        if (lo | hi) & HIGH != 0 {
            return None;
        }
        Some((lo, hi))
    }

    /// The inline string of the words [`ascii_head`](Self::ascii_head) gave for `len` bytes.
    /// Built from registers where the node is stored: a string built apart and then moved
    /// is written bytewise and reloaded as words, which stalls store forwarding.
    #[inline(always)]
    pub(crate) fn inline_words(lo: u128, hi: u128, len: usize) -> PyStr {
        let mut buf = [0u8; STR_INLINE];
        let (blo, bhi) = buf.split_at_mut(16);
        blo.copy_from_slice(&lo.to_le_bytes());
        bhi.copy_from_slice(&hi.to_le_bytes()[..STR_INLINE - 16]);
        PyStr {
            data: Store::Inline {
                meta: (len as u8 & !FLAG) | FLAG,
                buf,
            },
        }
    }

    /// [`from_checked`](Self::from_checked) without a copy when `data` lies inside `src`.
    pub(crate) fn from_checked_shared(src: &SharedSource, data: &[u8], utf8: bool) -> PyStr {
        PyStr {
            data: Store::shared(src, data, utf8).unwrap_or_else(|| Store::from_slice(data, utf8)),
        }
    }

    /// `win[start..start + len]`, checked by the caller to be surrogatepass UTF-8.
    #[inline]
    pub(crate) fn from_window(win: Window, start: usize, len: usize, utf8: bool) -> PyStr {
        PyStr {
            data: Store::window(win, start, len, utf8),
        }
    }

    /// True when the text is a range of the input the graph was decoded from, not a copy.
    pub fn is_shared(&self) -> bool {
        self.data.is_shared()
    }

    /// True when the text is stored inside the str (it owns no memory).
    #[inline(always)]
    pub(crate) fn is_inline(&self) -> bool {
        self.data.is_inline()
    }

    /// [`from_checked`](Self::from_checked) taking ownership.
    #[inline]
    pub(crate) fn from_checked_vec(data: Vec<u8>, utf8: bool) -> PyStr {
        PyStr {
            data: Store::from_vec(data, utf8),
        }
    }

    /// The text, if it holds no lone surrogates.
    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        if self.data.flag() {
            std::str::from_utf8(self.data.as_bytes()).ok()
        } else {
            None
        }
    }

    /// The encoded bytes (UTF-8, surrogates as in CPython's `surrogatepass`).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.data.as_bytes()
    }

    /// True when the text holds no lone surrogates.
    #[inline]
    pub fn is_utf8(&self) -> bool {
        self.data.flag()
    }

    /// The text with lone surrogates replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        match self.as_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(decode_lossy(self.as_bytes())),
        }
    }

    /// Number of code points (Python's `len`).
    pub fn char_len(&self) -> usize {
        self.as_bytes()
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count()
    }
}

impl PartialEq for PyStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for PyStr {}

impl std::hash::Hash for PyStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl From<&str> for PyStr {
    fn from(s: &str) -> Self {
        PyStr {
            data: Store::from_slice(s.as_bytes(), true),
        }
    }
}

impl From<String> for PyStr {
    fn from(s: String) -> Self {
        PyStr {
            data: Store::from_vec(s.into_bytes(), true),
        }
    }
}

impl fmt::Debug for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.to_string_lossy(), f)
    }
}

impl fmt::Display for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

/// True when `b` is ASCII: 16 bytes at a time, the tail as one last word that overlaps the
/// one before, instead of `<[u8]>::is_ascii`'s byte loop over the tail (most of the check for
/// strings of a few dozen bytes).
#[inline(always)]
pub(crate) fn is_ascii(b: &[u8]) -> bool {
    let word = |c: &[u8]| {
        let mut w = [0u8; 16];
        w.copy_from_slice(c);
        u128::from_le_bytes(w)
    };
    let Some(tail) = b.len().checked_sub(16).and_then(|at| b.get(at..)) else {
        return b.is_ascii();
    };
    let chunks = b.chunks_exact(16);
    let acc = chunks.fold(word(tail), |acc, c| acc | word(c));
    acc & HIGH == 0
}

/// Checks generalized UTF-8 where surrogate code points (U+D800..U+DFFF) are allowed.
pub(crate) fn valid_surrogatepass(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (len, min) = match c {
            0x00..=0x7F => {
                i += 1;
                continue;
            }
            0xC2..=0xDF => (2, 0x80),
            0xE0..=0xEF => (3, 0x800),
            0xF0..=0xF4 => (4, 0x10000),
            _ => return false,
        };
        if i + len > b.len() {
            return false;
        }
        let mut cp = (c as u32) & (0x7F >> len);
        for k in 1..len {
            let cc = b[i + k];
            if cc & 0xC0 != 0x80 {
                return false;
            }
            cp = (cp << 6) | (cc as u32 & 0x3F);
        }
        if cp < min || cp > 0x10FFFF {
            return false;
        }
        i += len;
    }
    true
}

fn decode_lossy(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut rest = b;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (ok, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(ok).unwrap_or_default());
                out.push('\u{fffd}');
                let skip = e.error_len().unwrap_or(bad.len()).max(1);
                // A surrogate is three bytes that from_utf8 reports one at a time.
                let skip = if bad.first() == Some(&0xED) && bad.len() >= 3 {
                    3
                } else {
                    skip
                };
                rest = &bad[skip.min(bad.len())..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_ascii_matches_std_for_a_high_byte_anywhere() {
        for len in 0..=80 {
            let clean: Vec<u8> = (0..len).map(|j| (j * 37 % 128) as u8).collect();
            assert!(is_ascii(&clean), "len {len}");
            for at in 0..len {
                for high in [0x80, 0xc3, 0xff] {
                    let mut b = clean.clone();
                    b[at] = high;
                    assert!(!is_ascii(&b), "len {len} at {at}");
                    assert_eq!(is_ascii(&b), b.is_ascii());
                }
            }
        }
    }

    #[test]
    fn ascii_head_takes_the_payload_only() {
        for len in 0..=STR_INLINE + 2 {
            // Whatever follows the payload (here high bytes) is neither checked nor kept.
            let mut head = [0xffu8; 32];
            for (j, b) in head.iter_mut().enumerate().take(len) {
                *b = b'a' + (j % 26) as u8;
            }
            let got = PyStr::ascii_head(&head, len);
            if len > STR_INLINE {
                assert!(got.is_none(), "len {len}");
                continue;
            }
            let (lo, hi) = got.unwrap_or_else(|| panic!("len {len}"));
            let s = PyStr::inline_words(lo, hi, len);
            assert_eq!(s.as_bytes(), &head[..len]);
            assert!(s.is_utf8());
            assert_eq!(s, PyStr::from_checked(&head[..len], true));
            match &s.data {
                Store::Inline { buf, .. } => assert!(buf[len..].iter().all(|&b| b == 0)),
                _ => panic!("not inline"),
            }
            for at in 0..len {
                let mut bad = head;
                bad[at] = 0x80;
                assert!(PyStr::ascii_head(&bad, len).is_none(), "len {len} at {at}");
            }
        }
    }

    #[test]
    fn the_flag_survives_every_storage() {
        let src: SharedSource = Arc::new(vec![b'x'; 5000]);
        let all: &[u8] = AsRef::<[u8]>::as_ref(&*src);
        for utf8 in [true, false] {
            let mut win = WindowSource::new(vec![b'y'; 100].into(), 1);
            let stores = [
                PyStr::from_checked(b"short", utf8),
                PyStr::from_checked(&[b'z'; 31], utf8),
                PyStr::from_window(win.handle(), 10, 40, utf8),
                PyStr::from_checked_shared(&src, &all[..4096], utf8),
            ];
            for s in &stores {
                assert_eq!(s.is_utf8(), utf8);
                assert_eq!(s.as_str().is_some(), utf8);
            }
            assert!(stores[3].is_shared());
            assert_eq!(stores[2].as_bytes(), &[b'y'; 40]);
        }
    }

    #[test]
    fn window_handles_outlive_the_source_beyond_its_batch() {
        // A batch of one: every further handle takes the refill path.
        let mut src = WindowSource::new((0..=255u8).collect::<Vec<u8>>().into(), 0);
        let handles: Vec<Window> = (0..1000).map(|_| src.handle()).collect();
        let blobs: Vec<Blob> = handles
            .iter()
            .enumerate()
            .map(|(i, h)| Blob::from_window(h.clone(), i % 200, 50))
            .collect();
        drop(src);
        drop(handles);
        let threads: Vec<_> = blobs
            .chunks(250)
            .map(|c| {
                let c = c.to_vec();
                std::thread::spawn(move || {
                    c.iter().map(|b| b.as_bytes()[0] as usize).sum::<usize>()
                })
            })
            .collect();
        let sum: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(sum, (0..1000).map(|i| i % 200).sum::<usize>());
        for (i, b) in blobs.iter().enumerate() {
            let want: Vec<u8> = (i % 200..i % 200 + 50).map(|x| x as u8).collect();
            assert_eq!(b.as_bytes(), &want[..]);
        }
    }

    #[test]
    fn payloads_keep_a_node_at_24_bytes() {
        // A node's other variants sit beside the PyStr's tag byte, which a 24-byte Blob would
        // overlap: the node would grow to 32 bytes.
        assert_eq!(std::mem::size_of::<PyStr>(), 24);
        assert_eq!(std::mem::size_of::<Blob>(), 16);
        assert_eq!(std::mem::size_of::<crate::value::Node>(), 24);
    }
}
