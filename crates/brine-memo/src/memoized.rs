//! `Memoized`: a function wrapped so that each call goes through a cache namespace.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Cache, Result};

/// A function `Fn(&K) -> V` whose results are cached under one namespace: `call(&k)` returns
/// the stored result for `k` or computes and stores it.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-memoized-{}", std::process::id()));
/// use std::cell::Cell;
/// let cache = brine_memo::Cache::open(&dir)?;
/// let calls = Cell::new(0);
/// let word_lengths = brine_memo::Memoized::new(&cache, "word-lengths", |text: &str| {
///     calls.set(calls.get() + 1);
///     text.split_whitespace().map(str::len).collect::<Vec<usize>>()
/// })?;
/// assert_eq!(word_lengths.call("to be or not")?, [2, 2, 2, 3]);
/// assert_eq!(word_lengths.call("to be or not")?, [2, 2, 2, 3]);
/// assert_eq!(calls.get(), 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Memoized<K: ?Sized, V, F> {
    cache: Cache,
    namespace: String,
    f: F,
    _types: PhantomData<fn(&K) -> V>,
}

impl<K: ?Sized, V, F> fmt::Debug for Memoized<K, V, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memoized")
            .field("cache", &self.cache)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl<K, V, F> Memoized<K, V, F>
where
    K: Serialize + ?Sized,
    V: Serialize + DeserializeOwned,
    F: Fn(&K) -> V,
{
    /// Wraps `f`, caching its results in `cache` under `namespace` (checked here).
    pub fn new(cache: &Cache, namespace: &str, f: F) -> Result<Self> {
        // The path of a dummy key validates the namespace now rather than at the first call.
        cache.path_of(namespace, &())?;
        Ok(Memoized {
            cache: cache.clone(),
            namespace: namespace.to_owned(),
            f,
            _types: PhantomData,
        })
    }

    /// `f(key)`, from the cache when it holds it.
    pub fn call(&self, key: &K) -> Result<V> {
        self.cache
            .get_or_compute(&self.namespace, key, || (self.f)(key))
    }

    /// The cache and namespace, for `get`, `remove` and the like.
    pub fn cache(&self) -> (&Cache, &str) {
        (&self.cache, &self.namespace)
    }
}
