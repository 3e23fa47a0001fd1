//! The size bound: least-recently-used eviction order, hits renewing entries, stale
//! temporary files.

mod common;

use std::time::{Duration, SystemTime};

use brine_memo::Cache;
use common::{files_in, Scratch};
use serde_bytes::ByteBuf;

fn blob(tag: u8) -> ByteBuf {
    ByteBuf::from(vec![tag; 1000])
}

fn present(cache: &Cache, keys: &str) -> String {
    keys.chars()
        .filter(|k| {
            cache
                .get::<_, ByteBuf>("lru", &k.to_string())
                .expect("get")
                .is_some()
        })
        .collect()
}

#[test]
fn least_recently_used_is_evicted_first() -> brine_memo::Result<()> {
    let dir = Scratch::new("lru");
    // Every entry has the same size (same key length, same value length); measure it.
    let probe = Cache::open(dir.path().join("probe"))?;
    probe.insert("lru", "a", &blob(0))?;
    let size = probe.stats()?.bytes;
    assert!(size > 1000, "{size}");

    let cache = Cache::builder(dir.path().join("c"))
        .max_bytes(3 * size + size / 2)
        .open()?;
    let put = |k: &str| cache.insert("lru", k, &blob(k.as_bytes()[0]));
    put("a")?;
    put("b")?;
    put("c")?;
    // A hit makes `a` the most recently used: `b` is now the oldest.
    assert!(cache.get::<_, ByteBuf>("lru", "a")?.is_some());
    put("d")?;
    assert_eq!(cache.stats()?.entries, 3);
    // Checking presence is itself a hit, so look at the files before touching them.
    let names = |keys: &str| -> Vec<bool> {
        keys.chars()
            .map(|k| {
                cache
                    .path_of("lru", &k.to_string())
                    .map(|p| p.exists())
                    .unwrap_or(false)
            })
            .collect()
    };
    assert_eq!(names("abcd"), [true, false, true, true]);

    // Now c is renewed; the oldest is a (hit before d was written).
    assert!(cache.get::<_, ByteBuf>("lru", "c")?.is_some());
    put("e")?;
    assert_eq!(names("abcde"), [false, false, true, true, true]);
    assert_eq!(present(&cache, "cde"), "cde");
    assert!(cache.stats()?.bytes <= 3 * size + size / 2);
    Ok(())
}

#[test]
fn an_entry_larger_than_the_bound_evicts_the_rest_but_stays() -> brine_memo::Result<()> {
    let dir = Scratch::new("lru-big");
    let cache = Cache::builder(dir.path()).max_bytes(500).open()?;
    cache.insert("lru", "small", &1u8)?;
    cache.insert("lru", "big", &blob(9))?;
    assert_eq!(cache.get::<_, u8>("lru", "small")?, None);
    assert_eq!(cache.get::<_, ByteBuf>("lru", "big")?, Some(blob(9)));
    // The next insert evicts it like any other entry.
    cache.insert("lru", "small", &1u8)?;
    assert_eq!(cache.get::<_, ByteBuf>("lru", "big")?, None);
    Ok(())
}

#[test]
fn eviction_spans_namespaces_and_removes_stale_temporaries() -> brine_memo::Result<()> {
    let dir = Scratch::new("lru-ns");
    let unbounded = Cache::open(dir.path())?;
    unbounded.insert("one", "x", &blob(1))?;
    unbounded.insert("two", "x", &blob(2))?;
    // A writer that died long ago left this; a fresh one may belong to a live writer.
    let stale = dir.path().join("one").join(".dead.pkl.brine-tmp-1-0");
    let fresh = dir.path().join("one").join(".live.pkl.brine-tmp-2-0");
    std::fs::write(&stale, b"half")?;
    std::fs::write(&fresh, b"half")?;
    std::fs::File::options()
        .write(true)
        .open(&stale)?
        .set_modified(SystemTime::now() - Duration::from_secs(7200))?;
    assert_eq!(unbounded.stats()?.temp_files, 2);

    let size = unbounded.stats()?.bytes / 2;
    // Room for two entries (the namespace "three" makes its entry a little longer).
    let bounded = Cache::builder(dir.path())
        .max_bytes(2 * size + 100)
        .open()?;
    bounded.insert("three", "x", &blob(3))?;
    assert_eq!(bounded.get::<_, ByteBuf>("one", "x")?, None);
    assert_eq!(bounded.get::<_, ByteBuf>("two", "x")?, Some(blob(2)));
    assert!(!stale.exists());
    assert!(fresh.exists());
    assert_eq!(
        files_in(&dir.path().join("one")),
        [".live.pkl.brine-tmp-2-0"]
    );
    // clear removes every temporary.
    bounded.clear()?;
    assert!(!fresh.exists());
    Ok(())
}
