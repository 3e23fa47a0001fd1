//! The single-process API: hits and misses, removal, compression, versioning, key hashing,
//! the `Memoized` wrapper and threads sharing one cache.

mod common;

use std::cell::Cell;
use std::collections::BTreeMap;

use brine_memo::{Cache, Codec, Memoized, WarningKind};
use common::{recording, Scratch};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Report {
    name: String,
    scores: Vec<f64>,
}

#[test]
fn miss_then_hit_computes_once() -> brine_memo::Result<()> {
    let dir = Scratch::new("hit");
    let cache = Cache::open(dir.path())?;
    let calls = Cell::new(0);
    let compute = || {
        calls.set(calls.get() + 1);
        Report {
            name: "ada".into(),
            scores: vec![1.5, 2.5],
        }
    };
    let a = cache.get_or_compute("reports", &("ada", 3), compute)?;
    let b = cache.get_or_compute("reports", &("ada", 3), compute)?;
    assert_eq!(a, b);
    assert_eq!(calls.get(), 1);
    // Another key, another namespace: misses.
    cache.get_or_compute("reports", &("ada", 4), compute)?;
    cache.get_or_compute("other", &("ada", 3), compute)?;
    assert_eq!(calls.get(), 3);
    assert_eq!(cache.warning_count(), 0);
    // A fresh handle (as another run would open) sees the entries.
    let again = Cache::open(dir.path())?;
    assert_eq!(again.get::<_, Report>("reports", &("ada", 3))?, Some(a));
    Ok(())
}

#[test]
fn get_insert_remove_clear() -> brine_memo::Result<()> {
    let dir = Scratch::new("crud");
    let cache = Cache::open(dir.path())?;
    assert_eq!(cache.get::<_, u64>("n", &1)?, None);
    cache.insert("n", &1, &10u64)?;
    cache.insert("n", &2, &20u64)?;
    cache.insert("m", &1, &30u64)?;
    assert_eq!(cache.get::<_, u64>("n", &1)?, Some(10));
    cache.insert("n", &1, &11u64)?; // replaces
    assert_eq!(cache.get::<_, u64>("n", &1)?, Some(11));
    assert!(cache.remove("n", &1)?);
    assert_eq!(cache.get::<_, u64>("n", &1)?, None);
    let stats = cache.stats()?;
    assert_eq!(stats.entries, 2);
    assert_eq!(
        stats
            .namespaces
            .iter()
            .map(|(n, c, _)| (n.as_str(), *c))
            .collect::<Vec<_>>(),
        [("m", 1), ("n", 1)]
    );
    // A file the cache did not write survives clear.
    std::fs::write(dir.path().join("n").join("notes.txt"), "mine")?;
    assert_eq!(cache.clear()?, 2);
    assert_eq!(cache.stats()?.entries, 0);
    assert!(dir.path().join("n").join("notes.txt").exists());
    assert_eq!(cache.get::<_, u64>("m", &1)?, None);
    Ok(())
}

#[test]
fn compressed_entries_read_whatever_the_setting() -> brine_memo::Result<()> {
    let dir = Scratch::new("compress");
    let value: Vec<u32> = (0..10_000).map(|i| i % 7).collect();
    for codec in [Codec::Gzip, Codec::Zstd, Codec::Bz2, Codec::Lz4Frame] {
        let cache = Cache::builder(dir.path()).compress(codec, None).open()?;
        cache.insert("c", codec.name(), &value)?;
        let data = std::fs::read(cache.path_of("c", codec.name())?)?;
        assert_eq!(Codec::detect(&data), Some(codec));
        // Read back through an uncompressed handle: detection is by magic bytes.
        let plain = Cache::open(dir.path())?;
        assert_eq!(
            plain.get::<_, Vec<u32>>("c", codec.name())?,
            Some(value.clone())
        );
    }
    assert!(Cache::builder(dir.path())
        .compress(Codec::Gzip, Some(99))
        .open()
        .is_err());
    Ok(())
}

#[test]
fn value_type_change_is_a_miss_with_a_warning() -> brine_memo::Result<()> {
    let dir = Scratch::new("types");
    let (cache, seen) = recording(Cache::builder(dir.path()));
    cache.insert(
        "t",
        "k",
        &Report {
            name: "x".into(),
            scores: vec![1.0],
        },
    )?;

    // Same shape, another type: the type name guards it.
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Report2 {
        name: String,
        scores: Vec<f64>,
    }
    assert_eq!(cache.get::<_, Report2>("t", "k")?, None);
    // A type that would even read the pickle (a map) is still refused.
    assert_eq!(cache.get::<_, BTreeMap<String, Vec<f64>>>("t", "k")?, None);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|w| w.kind == WarningKind::TypeMismatch));
        assert!(seen[0].message.contains("basic::Report"), "{}", seen[0]);
    }

    // get_or_compute replaces the stale entry with the new type.
    let r2 = cache.get_or_compute("t", "k", || Report2 {
        name: "y".into(),
        scores: vec![],
    })?;
    assert_eq!(cache.get::<_, Report2>("t", "k")?, Some(r2));
    assert_eq!(cache.get::<_, Report>("t", "k")?, None);
    Ok(())
}

#[test]
fn version_change_is_a_miss() -> brine_memo::Result<()> {
    let dir = Scratch::new("version");
    let (v1, seen) = recording(Cache::builder(dir.path()).version(1));
    v1.insert("v", &7, &"old meaning".to_owned())?;
    let v2 = v1.with_version(2);
    assert_eq!(v2.get::<_, String>("v", &7)?, None);
    assert_eq!(seen.lock().unwrap()[0].kind, WarningKind::VersionMismatch);
    assert_eq!(
        v2.get_or_compute("v", &7, || "new meaning".to_owned())?,
        "new meaning"
    );
    assert_eq!(v1.get::<_, String>("v", &7)?, None);
    assert_eq!(
        v2.get::<_, String>("v", &7)?.as_deref(),
        Some("new meaning")
    );
    Ok(())
}

#[test]
fn key_hash_is_pinned() -> brine_memo::Result<()> {
    // The hash is part of the on-disk format: it must never change with brine's version.
    // sha256(b"brine-memo/1\0ns\0" + pickle.dumps(("abc", 42), 4)), checked in Python by
    // tests/python.rs.
    let dir = Scratch::new("pinned");
    let cache = Cache::open(dir.path())?;
    let path = cache.path_of("ns", &("abc", 42))?;
    assert_eq!(
        path.file_name().and_then(|n| n.to_str()),
        Some(PINNED_ABC_42)
    );
    assert_eq!(path.parent(), Some(dir.path().join("ns").as_path()));
    Ok(())
}

const PINNED_ABC_42: &str = "5e4232db4524ddef0df65a63a578b8211a2c9e147f01548840e91923d0466c0b.pkl";

#[test]
fn ordered_maps_are_canonical_keys() -> brine_memo::Result<()> {
    let dir = Scratch::new("canon");
    let cache = Cache::open(dir.path())?;
    let a: BTreeMap<&str, i32> = [("x", 1), ("y", 2)].into();
    let b: BTreeMap<&str, i32> = [("y", 2), ("x", 1)].into();
    assert_eq!(cache.path_of("k", &a)?, cache.path_of("k", &b)?);
    // Different values, different entries.
    let c: BTreeMap<&str, i32> = [("x", 1), ("y", 3)].into();
    assert_ne!(cache.path_of("k", &a)?, cache.path_of("k", &c)?);
    // Integer width does not matter: the key is the Python value.
    assert_eq!(cache.path_of("k", &5u8)?, cache.path_of("k", &5i64)?);
    Ok(())
}

#[test]
fn bad_namespaces_are_errors() -> brine_memo::Result<()> {
    let dir = Scratch::new("ns");
    let cache = Cache::open(dir.path())?;
    for ns in ["", "..", ".hidden", "a/b", "a\\b", "é", &"x".repeat(65)] {
        assert!(cache.insert(ns, &1, &1).is_err(), "{ns:?}");
        assert!(cache.get::<_, i32>(ns, &1).is_err(), "{ns:?}");
    }
    assert!(Memoized::new(&cache, "../up", |x: &i32| *x).is_err());
    assert!(std::fs::read_dir(dir.path())?.count() == 1); // only the marker
    Ok(())
}

#[test]
fn open_existing_needs_the_marker() -> brine_memo::Result<()> {
    let dir = Scratch::new("marker");
    assert!(Cache::open_existing(dir.path()).is_err());
    std::fs::write(dir.path().join("BRINE_MEMO"), "brine-memo 9\n")?;
    let err = Cache::open(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("not a brine-memo 1 cache"),
        "{err}"
    );
    Ok(())
}

#[test]
fn memoized_wrapper_and_failing_computation() -> brine_memo::Result<()> {
    let dir = Scratch::new("wrap");
    let cache = Cache::open(dir.path())?;
    let calls = Cell::new(0u32);
    let fib = Memoized::new(&cache, "fib", |n: &u32| {
        calls.set(calls.get() + 1);
        let (mut a, mut b) = (0u64, 1u64);
        for _ in 0..*n {
            (a, b) = (b, a + b);
        }
        a
    })?;
    assert_eq!(fib.call(&90)?, 2880067194370816120);
    assert_eq!(fib.call(&90)?, 2880067194370816120);
    assert_eq!(fib.call(&10)?, 55);
    assert_eq!(calls.get(), 2);
    let (c, ns) = fib.cache();
    assert_eq!(c.get::<_, u64>(ns, &10u32)?, Some(55));

    let failed: Result<u32, brine_memo::Error> =
        cache.try_get_or_compute("fallible", &1, || Err(brine_memo::Error::data("no")));
    assert!(failed.is_err());
    assert_eq!(cache.get::<_, u32>("fallible", &1)?, None);
    Ok(())
}

#[test]
fn threads_share_one_cache() -> brine_memo::Result<()> {
    let dir = Scratch::new("threads");
    let cache = Cache::builder(dir.path())
        .compress(Codec::Zstd, None)
        .open()?;
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let cache = cache.clone();
            s.spawn(move || {
                for i in 0..200u64 {
                    let k = (i * 7 + t) % 50;
                    let v: Vec<u64> = cache
                        .get_or_compute("sq", &k, || vec![k * k; (k as usize) + 1])
                        .expect("get_or_compute");
                    assert_eq!(v, vec![k * k; (k as usize) + 1]);
                }
            });
        }
    });
    assert_eq!(cache.warning_count(), 0);
    assert_eq!(cache.stats()?.entries, 50);
    Ok(())
}
