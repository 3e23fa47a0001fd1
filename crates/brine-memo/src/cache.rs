//! The cache directory: opening, reading and writing entries, eviction, listing and clearing.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use brine::{Error, Limits, Result};
use brine_formats::Codec;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::entry::{self, Entry};
use crate::warning::{Warning, WarningKind};

/// The marker file that makes a directory a cache, and its first line.
const MARKER: &str = "BRINE_MEMO";
const MARKER_TEXT: &str = "brine-memo 1\n";
/// Entry files: 64 hex digits and this extension.
const EXT: &str = ".pkl";
/// Temporary files of [`brine::write_atomic`] contain this.
const TMP_TAG: &str = ".brine-tmp-";
/// A temporary file older than this belongs to a writer that died; eviction removes it.
const STALE_TMP: Duration = Duration::from_secs(3600);

type Callback = Arc<dyn Fn(&Warning) + Send + Sync>;

struct Inner {
    dir: PathBuf,
    compress: Option<(Codec, Option<u32>)>,
    max_bytes: Option<u64>,
    limits: Limits,
    on_warning: Option<Callback>,
    warnings: AtomicU64,
}

/// A memoization cache in a directory; cheap to clone, shareable between threads
/// (`Send + Sync`), and safe to open from several processes at once.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-cache-{}", std::process::id()));
/// use std::collections::BTreeMap;
/// let cache = brine_memo::Cache::open(&dir)?;
/// let key = ("word-counts", 2024);
/// assert_eq!(cache.get::<_, BTreeMap<String, u32>>("stats", &key)?, None);
/// cache.insert("stats", &key, &BTreeMap::from([("a".to_owned(), 3u32)]))?;
/// let hit: Option<BTreeMap<String, u32>> = cache.get("stats", &key)?;
/// assert_eq!(hit.unwrap()["a"], 3);
/// assert!(cache.remove("stats", &key)?);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
    version: u32,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("dir", &self.inner.dir)
            .field("version", &self.version)
            .field("compress", &self.inner.compress)
            .field("max_bytes", &self.inner.max_bytes)
            .finish_non_exhaustive()
    }
}

/// Options for [`Cache`], from [`Cache::builder`].
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-builder-{}", std::process::id()));
/// use brine_memo::{Cache, Codec};
/// let cache = Cache::builder(&dir)
///     .compress(Codec::Zstd, None)
///     .max_bytes(512 << 20)
///     .version(3)
///     .on_warning(|w| eprintln!("cache: {w}"))
///     .open()?;
/// assert_eq!(cache.get_or_compute("double", &21, || 42)?, 42);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CacheBuilder {
    dir: PathBuf,
    compress: Option<(Codec, Option<u32>)>,
    max_bytes: Option<u64>,
    version: u32,
    limits: Limits,
    on_warning: Option<Callback>,
    create: bool,
}

impl fmt::Debug for CacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("dir", &self.dir)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl CacheBuilder {
    /// Compress new entries with `codec` at `level` (`None`: the codec's default). Entries are
    /// read whatever their compression, so this can change between runs.
    pub fn compress(mut self, codec: Codec, level: Option<u32>) -> Self {
        self.compress = Some((codec, level));
        self
    }

    /// Keep the entries' total size at most `bytes`, evicting the least recently used.
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// The user version stored with entries and required when reading them (default 0):
    /// bump it when the meaning of stored values changes without their type changing.
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// Limits for decoding entries. The default is [`Limits::default`] with the
    /// decompression ratio unbounded: the cache's own files are not hostile, and a value of
    /// zeros legitimately compresses more than 1000 to 1.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Called for each [`Warning`] (corrupt entries, mismatches, failed writes), from the
    /// thread that met it. Warnings are counted either way.
    pub fn on_warning(mut self, f: impl Fn(&Warning) + Send + Sync + 'static) -> Self {
        self.on_warning = Some(Arc::new(f));
        self
    }

    /// Opens the cache, creating the directory and its marker file unless they exist.
    /// A directory holding a marker of another layout version is an error.
    pub fn open(self) -> Result<Cache> {
        if let Some((codec, level)) = self.compress {
            codec.check_level(level)?;
        }
        let marker = self.dir.join(MARKER);
        match fs::read(&marker) {
            Ok(text) => {
                if !text.starts_with(MARKER_TEXT.as_bytes()) {
                    return Err(Error::unsupported(format!(
                        "{} is not a brine-memo 1 cache (its {MARKER} says {:?})",
                        self.dir.display(),
                        String::from_utf8_lossy(&text).trim()
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.create => {
                fs::create_dir_all(&self.dir)?;
                // Several processes may create the marker at once: each renames a complete
                // file into place, so every one of them succeeds with the same content.
                brine::write_atomic(&marker, |f| f.write_all(MARKER_TEXT.as_bytes()))?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::from(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} is not a brine-memo cache (no {MARKER} file)",
                        self.dir.display()
                    ),
                )));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Cache {
            inner: Arc::new(Inner {
                dir: self.dir,
                compress: self.compress,
                max_bytes: self.max_bytes,
                limits: self.limits,
                on_warning: self.on_warning,
                warnings: AtomicU64::new(0),
            }),
            version: self.version,
        })
    }
}

/// One entry file, as [`Cache::entries`] lists it (nothing decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// The namespace folder.
    pub namespace: String,
    /// The SHA-256 hex naming the entry.
    pub hash: String,
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Last write or hit.
    pub modified: SystemTime,
}

/// Totals over a cache, from [`Cache::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Entry files.
    pub entries: u64,
    /// Their total size.
    pub bytes: u64,
    /// Entries and bytes per namespace, sorted by name.
    pub namespaces: Vec<(String, u64, u64)>,
    /// Temporary files left by writers that were interrupted, or still writing.
    pub temp_files: u64,
    /// The oldest and newest modification times among entries.
    pub oldest: Option<SystemTime>,
    /// See `oldest`.
    pub newest: Option<SystemTime>,
}

/// What a lookup found.
enum Lookup<V> {
    Hit(V),
    Miss,
}

impl Cache {
    /// Opens (creating if needed) the cache in `dir` with default options: no compression,
    /// no size bound, version 0.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-open-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// assert!(dir.join("BRINE_MEMO").exists());
    /// # drop(cache); std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<Cache> {
        Cache::builder(dir).open()
    }

    /// Opens an existing cache: a directory without the marker file is an error (tools that
    /// list or clear a cache use this, so a mistyped path is never treated as a cache).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-existing-{}", std::process::id()));
    /// assert!(brine_memo::Cache::open_existing(&dir).is_err());
    /// brine_memo::Cache::open(&dir)?;
    /// assert!(brine_memo::Cache::open_existing(&dir).is_ok());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_existing(dir: impl AsRef<Path>) -> Result<Cache> {
        let mut b = Cache::builder(dir);
        b.create = false;
        b.open()
    }

    /// Options for opening the cache in `dir` (see [`CacheBuilder`]).
    pub fn builder(dir: impl AsRef<Path>) -> CacheBuilder {
        CacheBuilder {
            dir: dir.as_ref().to_path_buf(),
            compress: None,
            max_bytes: None,
            version: 0,
            limits: Limits {
                max_ratio: u64::MAX,
                ..Limits::default()
            },
            on_warning: None,
            create: true,
        }
    }

    /// The same cache with another user version (the handles share everything else).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-ver-{}", std::process::id()));
    /// let v1 = brine_memo::Cache::open(&dir)?.with_version(1);
    /// v1.insert("model", "weights", &vec![1.0f64, 2.0])?;
    /// let v2 = v1.with_version(2);
    /// assert_eq!(v2.get::<_, Vec<f64>>("model", "weights")?, None); // written by version 1
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_version(&self, version: u32) -> Cache {
        Cache {
            inner: self.inner.clone(),
            version,
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The user version of this handle.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// How many warnings this cache (all its handles) has met so far.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-warn-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// cache.insert("ns", "k", &1u8)?;
    /// std::fs::write(cache.path_of("ns", "k")?, b"\x80\x04 torn")?;
    /// assert_eq!(cache.get::<_, u8>("ns", "k")?, None);
    /// assert_eq!(cache.warning_count(), 1);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn warning_count(&self) -> u64 {
        self.inner.warnings.load(Ordering::Relaxed)
    }

    /// The entry file for `key` in `namespace` (whether or not it exists).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-path-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// let path = cache.path_of("ns", &("abc", 42))?;
    /// // sha256(b"brine-memo/1\0ns\0" + pickle.dumps(("abc", 42), 4)) in Python
    /// assert!(path.ends_with("ns/5e4232db4524ddef0df65a63a578b8211a2c9e147f01548840e91923d0466c0b.pkl"));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path_of<K: Serialize + ?Sized>(&self, namespace: &str, key: &K) -> Result<PathBuf> {
        check_namespace(namespace)?;
        let key = entry::key_bytes(key)?;
        Ok(self.entry_path(namespace, &key))
    }

    fn entry_path(&self, namespace: &str, key: &[u8]) -> PathBuf {
        let mut name = entry::key_hash(namespace, key);
        name.push_str(EXT);
        self.inner.dir.join(namespace).join(name)
    }

    fn warn(&self, kind: WarningKind, path: &Path, message: impl Into<String>) {
        self.inner.warnings.fetch_add(1, Ordering::Relaxed);
        if let Some(f) = &self.inner.on_warning {
            f(&Warning {
                kind,
                path: path.to_path_buf(),
                message: message.into(),
            });
        }
    }

    /// The stored value for `key`, or `None` on a miss. Corrupt entries, and entries of another
    /// key, type or version, are misses with a [`Warning`]; I/O errors other than a missing
    /// file are errors. A hit marks the entry as recently used.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-get-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// cache.insert("ns", "k", "v")?;
    /// assert_eq!(cache.get::<_, String>("ns", "k")?, None); // written as `str`, read as `String`
    /// cache.insert("ns", "k", &"v".to_owned())?;
    /// assert_eq!(cache.get::<_, String>("ns", "k")?.as_deref(), Some("v"));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get<K, V>(&self, namespace: &str, key: &K) -> Result<Option<V>>
    where
        K: Serialize + ?Sized,
        V: DeserializeOwned,
    {
        check_namespace(namespace)?;
        let key = entry::key_bytes(key)?;
        match self.lookup(namespace, &key)? {
            Lookup::Hit(v) => Ok(Some(v)),
            Lookup::Miss => Ok(None),
        }
    }

    fn lookup<V: DeserializeOwned>(&self, namespace: &str, key: &[u8]) -> Result<Lookup<V>> {
        let path = self.entry_path(namespace, key);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(e.into()),
        };
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let e = match entry::decode(data, &self.inner.limits) {
            Ok(e) => e,
            Err(err) => {
                self.warn(WarningKind::Corrupt, &path, err.to_string());
                return Ok(Lookup::Miss);
            }
        };
        if e.namespace != namespace || e.key != key {
            self.warn(
                WarningKind::KeyMismatch,
                &path,
                format!(
                    "the entry stores namespace {:?} and another key",
                    e.namespace
                ),
            );
            return Ok(Lookup::Miss);
        }
        let want = std::any::type_name::<V>();
        if e.type_name != want {
            self.warn(
                WarningKind::TypeMismatch,
                &path,
                format!("the entry holds a {}, not a {want}", e.type_name),
            );
            return Ok(Lookup::Miss);
        }
        if e.version != self.version {
            self.warn(
                WarningKind::VersionMismatch,
                &path,
                format!("the entry has version {}, not {}", e.version, self.version),
            );
            return Ok(Lookup::Miss);
        }
        match brine::from_node::<V>(&e.graph, e.value) {
            Ok(v) => {
                // Least-recently-used order is the modification time: a hit renews it. This is
                // the inode just read, so a concurrent replacement keeps its own fresh time.
                // Setting a time needs ownership of the file: in a cache shared between users a
                // hit on another user's entry cannot renew it, and eviction falls back to write
                // order for it, which is why a failure here is ignored.
                let _ = file.set_modified(SystemTime::now());
                Ok(Lookup::Hit(v))
            }
            Err(err) => {
                self.warn(
                    WarningKind::TypeMismatch,
                    &path,
                    format!("the value does not read as a {want}: {err}"),
                );
                Ok(Lookup::Miss)
            }
        }
    }

    /// Stores `value` for `key`, replacing any entry atomically. A value that fails to
    /// serialize is an error and leaves the old entry as it was.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-insert-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// cache.insert("ns", &[1, 2, 3], &(0.5f64, true))?;
    /// assert_eq!(cache.get("ns", &[1, 2, 3])?, Some((0.5f64, true)));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert<K, V>(&self, namespace: &str, key: &K, value: &V) -> Result<()>
    where
        K: Serialize + ?Sized,
        V: Serialize + ?Sized,
    {
        check_namespace(namespace)?;
        let key = entry::key_bytes(key)?;
        self.store(namespace, &key, value)
    }

    fn store<V: Serialize + ?Sized>(&self, namespace: &str, key: &[u8], value: &V) -> Result<()> {
        let data = entry::encode(
            namespace,
            key,
            std::any::type_name::<V>(),
            self.version,
            value,
            self.inner.compress,
        )?;
        let path = self.entry_path(namespace, key);
        let write = || {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            brine::write_atomic(&path, |f| {
                f.write_all(&data)?;
                // The kernel stamps writes with a coarse clock (a tick, several ms), so entries
                // written in quick succession could share a time and evict in an arbitrary
                // order; the fine-grained clock keeps insertion order.
                f.set_modified(SystemTime::now())
            })
        };
        match write() {
            // A concurrent `clear` removed the namespace folder between its creation and the
            // temporary file's: create it again, once.
            Err(e) if e.kind() == io::ErrorKind::NotFound => write()?,
            other => other?,
        }
        if let Some(max) = self.inner.max_bytes {
            self.evict(max, Some(&path))?;
        }
        Ok(())
    }

    /// The stored value for `key`, or `compute()`'s result, stored and returned. A result that
    /// cannot be stored (serialization or disk error) is still returned, with a
    /// [`WarningKind::WriteFailed`] warning; errors reading the cache are errors.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-goc-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// let primes = |n: u32| (2..n).filter(|i| (2..*i).all(|d| i % d != 0)).collect::<Vec<u32>>();
    /// let first = cache.get_or_compute("primes", &50, || primes(50))?;
    /// let again: Vec<u32> = cache.get_or_compute("primes", &50, || unreachable!())?;
    /// assert_eq!(first, again);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_or_compute<K, V>(
        &self,
        namespace: &str,
        key: &K,
        compute: impl FnOnce() -> V,
    ) -> Result<V>
    where
        K: Serialize + ?Sized,
        V: Serialize + DeserializeOwned,
    {
        self.try_get_or_compute(namespace, key, || Ok::<V, Error>(compute()))
    }

    /// [`get_or_compute`](Self::get_or_compute) for a computation that may fail: its error is
    /// returned and nothing is stored.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-try-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// let parsed: Result<i64, Box<dyn std::error::Error>> =
    ///     cache.try_get_or_compute("parse", "12x", || Ok("12x".parse::<i64>()?));
    /// assert!(parsed.is_err());
    /// assert_eq!(cache.get::<_, i64>("parse", "12x")?, None);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_get_or_compute<K, V, E>(
        &self,
        namespace: &str,
        key: &K,
        compute: impl FnOnce() -> std::result::Result<V, E>,
    ) -> std::result::Result<V, E>
    where
        K: Serialize + ?Sized,
        V: Serialize + DeserializeOwned,
        E: From<Error>,
    {
        check_namespace(namespace)?;
        let key = entry::key_bytes(key)?;
        if let Lookup::Hit(v) = self.lookup(namespace, &key)? {
            return Ok(v);
        }
        let value = compute()?;
        if let Err(err) = self.store(namespace, &key, &value) {
            let path = self.entry_path(namespace, &key);
            self.warn(WarningKind::WriteFailed, &path, err.to_string());
        }
        Ok(value)
    }

    /// Removes the entry for `key`; `true` when there was one.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-remove-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// cache.insert("ns", &1, &2)?;
    /// assert!(cache.remove("ns", &1)?);
    /// assert!(!cache.remove("ns", &1)?);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove<K: Serialize + ?Sized>(&self, namespace: &str, key: &K) -> Result<bool> {
        let path = self.path_of(namespace, key)?;
        remove_if_there(&path)
    }

    /// Removes every entry and leftover temporary file (of every namespace); returns how many
    /// entries were removed. Files the cache did not write are left alone.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-clear-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// cache.insert("a", &1, &1)?;
    /// cache.insert("b", &1, &1)?;
    /// assert_eq!(cache.clear()?, 2);
    /// assert_eq!(cache.stats()?.entries, 0);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clear(&self) -> Result<u64> {
        self.clear_where(|_| true)
    }

    /// Removes every entry of one namespace (and its leftover temporary files).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-clearns-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// cache.insert("a", &1, &1)?;
    /// cache.insert("b", &1, &1)?;
    /// assert_eq!(cache.clear_namespace("a")?, 1);
    /// assert_eq!(cache.get::<_, i32>("b", &1)?, Some(1));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clear_namespace(&self, namespace: &str) -> Result<u64> {
        check_namespace(namespace)?;
        self.clear_where(|ns| ns == namespace)
    }

    fn clear_where(&self, pick: impl Fn(&str) -> bool) -> Result<u64> {
        let mut removed = 0;
        for (ns, dir) in self.namespace_dirs()? {
            if !pick(&ns) {
                continue;
            }
            for item in read_dir_or_empty(&dir)? {
                let item = item?;
                let name = item.file_name();
                let Some(name) = name.to_str() else { continue };
                if is_entry_name(name) {
                    if remove_if_there(&item.path())? {
                        removed += 1;
                    }
                } else if is_temp_name(name) {
                    remove_if_there(&item.path())?;
                }
            }
            // Only succeeds when empty: a concurrent writer's new entry keeps the folder.
            let _ = fs::remove_dir(&dir);
        }
        Ok(removed)
    }

    /// Every entry file, sorted by namespace then hash (nothing is decoded; see
    /// [`read_entry`](Self::read_entry)).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-entries-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// cache.insert("fib", &30, &832040u64)?;
    /// let list = cache.entries()?;
    /// assert_eq!(list.len(), 1);
    /// assert_eq!(list[0].namespace, "fib");
    /// let entry = brine_memo::Cache::read_entry(&list[0].path)?;
    /// assert_eq!(brine::from_node::<u64>(&entry.graph, entry.value)?, 832040);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn entries(&self) -> Result<Vec<EntryInfo>> {
        let mut out = Vec::new();
        for (ns, dir) in self.namespace_dirs()? {
            for item in read_dir_or_empty(&dir)? {
                let item = item?;
                let name = item.file_name();
                let Some(name) = name.to_str() else { continue };
                if !is_entry_name(name) {
                    continue;
                }
                // An entry evicted or replaced between listing and stat is simply skipped.
                let Ok(meta) = item.metadata() else { continue };
                out.push(EntryInfo {
                    namespace: ns.clone(),
                    hash: name[..64].to_owned(),
                    path: item.path(),
                    size: meta.len(),
                    modified: meta.modified()?,
                });
            }
        }
        out.sort_by(|a, b| (&a.namespace, &a.hash).cmp(&(&b.namespace, &b.hash)));
        Ok(out)
    }

    /// Decodes one entry file without reading its value as a Rust type (for tools that show
    /// entries). Corruption is an error here, not a warning.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-read-{}", std::process::id()));
    /// let cache = brine_memo::Cache::builder(&dir).version(4).open()?;
    /// cache.insert("ns", &("a", 1), &vec![0.5f64])?;
    /// let e = brine_memo::Cache::read_entry(cache.path_of("ns", &("a", 1))?)?;
    /// assert_eq!((e.namespace.as_str(), e.version), ("ns", 4));
    /// assert_eq!(e.type_name, "alloc::vec::Vec<f64>");
    /// assert_eq!(brine::from_slice::<(String, u8)>(&e.key)?, ("a".to_owned(), 1));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_entry(path: impl AsRef<Path>) -> Result<Entry> {
        let limits = Limits {
            max_ratio: u64::MAX,
            ..Limits::default()
        };
        entry::decode(fs::read(path)?, &limits)
    }

    /// Counts and sizes of the entries, per namespace, and leftover temporary files.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-stats-{}", std::process::id()));
    /// let cache = brine_memo::Cache::open(&dir)?;
    /// cache.insert("a", &1, &"one")?;
    /// let stats = cache.stats()?;
    /// assert_eq!((stats.entries, stats.namespaces.len(), stats.temp_files), (1, 1, 0));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> Result<Stats> {
        let mut stats = Stats::default();
        for e in self.entries()? {
            stats.entries += 1;
            stats.bytes += e.size;
            match stats.namespaces.last_mut() {
                Some((ns, n, b)) if *ns == e.namespace => {
                    *n += 1;
                    *b += e.size;
                }
                _ => stats.namespaces.push((e.namespace.clone(), 1, e.size)),
            }
            stats.oldest = Some(stats.oldest.map_or(e.modified, |t| t.min(e.modified)));
            stats.newest = Some(stats.newest.map_or(e.modified, |t| t.max(e.modified)));
        }
        for (_, dir) in self.namespace_dirs()? {
            for item in read_dir_or_empty(&dir)? {
                if item?.file_name().to_str().is_some_and(is_temp_name) {
                    stats.temp_files += 1;
                }
            }
        }
        Ok(stats)
    }

    /// Removes least recently used entries until the total is within `max` (keeping `keep`),
    /// and temporary files of writers that died long ago.
    fn evict(&self, max: u64, keep: Option<&Path>) -> Result<()> {
        let mut list = self.entries()?;
        let mut total: u64 = list.iter().map(|e| e.size).sum();
        if total > max {
            // Oldest first; equal times fall back to the path so the order is deterministic.
            list.sort_by(|a, b| (a.modified, &a.path).cmp(&(b.modified, &b.path)));
            for e in &list {
                if total <= max {
                    break;
                }
                if keep == Some(e.path.as_path()) {
                    continue;
                }
                match fs::remove_file(&e.path) {
                    // NotFound: another process evicted or removed it first; it is gone either way.
                    Ok(()) => total = total.saturating_sub(e.size),
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {
                        total = total.saturating_sub(e.size)
                    }
                    Err(err) => self.warn(WarningKind::EvictFailed, &e.path, err.to_string()),
                }
            }
        }
        let now = SystemTime::now();
        for (_, dir) in self.namespace_dirs()? {
            for item in read_dir_or_empty(&dir)? {
                let item = item?;
                if !item.file_name().to_str().is_some_and(is_temp_name) {
                    continue;
                }
                let old = item
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|age| age > STALE_TMP);
                if old {
                    let _ = fs::remove_file(item.path());
                }
            }
        }
        Ok(())
    }

    /// The namespace folders: valid namespace names only, sorted.
    fn namespace_dirs(&self) -> Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        for item in fs::read_dir(&self.inner.dir)? {
            let item = item?;
            let Some(name) = item.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if check_namespace(&name).is_ok() && item.file_type()?.is_dir() {
                out.push((name, item.path()));
            }
        }
        out.sort();
        Ok(out)
    }
}

/// A namespace is a folder name: 1 to 64 ASCII letters, digits, `_`, `-` or `.`, not
/// starting with `.` (which keeps `..` and hidden files out).
fn check_namespace(ns: &str) -> Result<()> {
    let ok = !ns.is_empty()
        && ns.len() <= 64
        && !ns.starts_with('.')
        && ns
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::unsupported(format!(
            "invalid namespace {ns:?}: use 1 to 64 ASCII letters, digits, '_', '-' or '.', not starting with '.'"
        )))
    }
}

fn is_entry_name(name: &str) -> bool {
    name.len() == 64 + EXT.len()
        && name.ends_with(EXT)
        && name[..64]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(TMP_TAG)
}

/// A namespace folder removed by a concurrent `clear` lists as empty.
fn read_dir_or_empty(dir: &Path) -> Result<Vec<io::Result<fs::DirEntry>>> {
    match fs::read_dir(dir) {
        Ok(rd) => Ok(rd.collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

fn remove_if_there(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}
