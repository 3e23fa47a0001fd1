//! brine-memo: memoization on disk — expensive results cached as pickles, shared safely
//! between threads and processes.
//!
//! A [`Cache`] is a directory. [`Cache::get_or_compute`] returns the stored result for a key
//! or computes, stores and returns it; keys and values are any serde types. Each entry is one
//! pickle file, so a cache written by a Rust program can be inspected with `brine show`, or
//! loaded in Python with `pickle.load(f)['value']`.
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("brine-memo-doc-lib-{}", std::process::id()));
//! let cache = brine_memo::Cache::open(&dir)?;
//! let mut calls = 0;
//! let mut slow_square = |x: u64| {
//!     calls += 1;
//!     x * x
//! };
//! assert_eq!(cache.get_or_compute("square", &12u64, || slow_square(12))?, 144);
//! assert_eq!(cache.get_or_compute("square", &12u64, || slow_square(12))?, 144); // a hit
//! assert_eq!(calls, 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout and entry format
//!
//! ```text
//! DIR/BRINE_MEMO                     marker: "brine-memo 1"
//! DIR/NAMESPACE/<sha256 hex>.pkl     one entry per key
//! ```
//!
//! The file name is the SHA-256 of `b"brine-memo/1\0" + namespace + b"\0" + key bytes`, where
//! the key bytes are the key's pickle at **protocol 4** as brine writes it — the bytes
//! CPython's `pickle.dumps(key, 4)` gives for the same value when no object in it is shared,
//! so Python can find an entry too. The protocol is fixed, so hashes are stable across runs,
//! machines and brine versions.
//!
//! An entry file is the pickle (protocol 4, optionally gzip/zstd/... compressed, recognised by
//! magic bytes when read) of the dict
//!
//! ```text
//! {'brine_memo': 1, 'namespace': str, 'key': bytes (the key bytes), 'type': str,
//!  'version': int, 'value': the value}
//! ```
//!
//! Reading compares the stored namespace and key bytes (a hash collision, or a file copied
//! under another name, is a miss), then `type` — [`std::any::type_name`] of the value type —
//! and `version` — the user's [`CacheBuilder::version`] — so a changed value type, or a
//! changed meaning the user signals by bumping the version, is a miss with a
//! [`Warning`], never garbage. `type_name` is not guaranteed stable across compiler versions;
//! a toolchain that spells a name differently only causes misses.
//!
//! # Keys must be canonical
//!
//! Equal keys must serialize to equal bytes. Maps with random iteration order (`HashMap`,
//! `HashSet`) are **not** canonical: the same map may give different bytes on another run
//! and so miss (never a wrong value: the stored key bytes are compared). Use `BTreeMap` /
//! `BTreeSet`, or sort, for keys. Floats are compared bitwise (`0.0` and `-0.0` differ).
//!
//! # Concurrency and crashes
//!
//! Entries are written to a temporary file in the namespace folder, flushed to disk and
//! renamed over the entry (see [`brine::write_atomic`]), so readers — threads or processes —
//! see the old entry, the new one, or none, never a torn one; a writer killed midway leaves
//! at most a temporary file (`.*.brine-tmp-*`), which [`Cache::clear`] and eviction remove.
//! Two processes missing the same key at once both compute it and the last rename wins;
//! distinct keys never interfere. Corrupt files (truncated, garbage, another layout) are
//! misses reported through [`Warning`]s; nothing panics.
//!
//! # Size bound
//!
//! With [`CacheBuilder::max_bytes`], every insert scans the directory and removes the least
//! recently used entries (oldest modification time; a hit sets it to now) until the total size
//! is within the bound. The entry just written is never evicted by its own insert.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod cache;
mod entry;
mod memoized;
mod warning;

pub use brine_formats::Codec;
pub use cache::{Cache, CacheBuilder, EntryInfo, Stats};
pub use entry::{decode, Entry, FORMAT};
pub use memoized::Memoized;
pub use warning::{Warning, WarningKind};

/// Errors are brine's: I/O, serialization and format errors in one type.
pub use brine::{Error, Result};
