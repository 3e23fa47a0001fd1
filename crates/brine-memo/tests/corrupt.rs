//! Damaged and foreign entry files: every one is a miss with a warning, never a panic or a
//! wrong value, and `get_or_compute` repairs it.

mod common;

use brine_memo::{Cache, Codec, Warning, WarningKind};
use common::{recording, Scratch};
use serde::Serialize;

/// Writes `data` as the entry for `key`, reads it, and checks it is a miss with one warning
/// of `kind`, then that `get_or_compute` stores a good entry again.
fn expect_miss(cache: &Cache, seen: &common::Seen, data: &[u8], kind: WarningKind, what: &str) {
    let path = cache.path_of("c", "key").expect("path");
    std::fs::create_dir_all(path.parent().expect("namespace folder")).expect("mkdir");
    std::fs::write(&path, data).expect("write");
    let before = seen.lock().unwrap().len();
    let got = cache.get::<_, Vec<u32>>("c", "key");
    assert!(matches!(got, Ok(None)), "{what}: {got:?}");
    let new: Vec<Warning> = seen.lock().unwrap()[before..].to_vec();
    assert_eq!(new.len(), 1, "{what}: {new:?}");
    assert_eq!(new[0].kind, kind, "{what}: {}", new[0]);
    assert_eq!(new[0].path, path);
    let v = cache
        .get_or_compute("c", "key", || vec![7u32, 8, 9])
        .expect("repair");
    assert_eq!(v, [7, 8, 9]);
    assert_eq!(
        cache.get::<_, Vec<u32>>("c", "key").expect("get"),
        Some(vec![7, 8, 9])
    );
}

#[test]
fn every_truncation_is_a_miss() -> brine_memo::Result<()> {
    let dir = Scratch::new("corrupt-trunc");
    let (cache, seen) = recording(Cache::builder(dir.path()));
    cache.insert("c", "key", &vec![1u32, 2, 3])?;
    let whole = std::fs::read(cache.path_of("c", "key")?)?;
    for n in 0..whole.len() {
        expect_miss(
            &cache,
            &seen,
            &whole[..n],
            WarningKind::Corrupt,
            &format!("{n} bytes"),
        );
    }
    // Two per case: the `get`, then the `get_or_compute` that finds it again and repairs it.
    assert_eq!(cache.warning_count(), 2 * whole.len() as u64);
    Ok(())
}

#[test]
fn truncated_compressed_entries_are_misses() -> brine_memo::Result<()> {
    let dir = Scratch::new("corrupt-ztrunc");
    for codec in [Codec::Gzip, Codec::Zstd] {
        let (cache, seen) = recording(Cache::builder(dir.path()).compress(codec, None));
        let value: Vec<u32> = (0..2000).collect();
        cache.insert("c", "key", &value)?;
        let whole = std::fs::read(cache.path_of("c", "key")?)?;
        // About 50 cut points across the stream (each case fsyncs a repaired entry).
        for n in (0..whole.len()).step_by(whole.len() / 50 + 1) {
            expect_miss(
                &cache,
                &seen,
                &whole[..n],
                WarningKind::Corrupt,
                &format!("{} {n} bytes", codec.name()),
            );
        }
    }
    Ok(())
}

#[test]
fn garbage_is_a_miss() -> brine_memo::Result<()> {
    let dir = Scratch::new("corrupt-garbage");
    let (cache, seen) = recording(Cache::builder(dir.path()));
    // A fixed xorshift stream: reproducible garbage of many lengths and first bytes.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [1usize, 2, 3, 10, 100, 1000, 5000] {
        for first in [None, Some(0x80u8), Some(0x1f), Some(0x28)] {
            let mut data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            if let Some(b) = first {
                data[0] = b;
            }
            expect_miss(
                &cache,
                &seen,
                &data,
                WarningKind::Corrupt,
                &format!("garbage {len} {first:?}"),
            );
        }
    }
    // Valid compression around garbage.
    let gz = brine_formats::compress(b"not a pickle at all", Codec::Gzip, None)?;
    expect_miss(&cache, &seen, &gz, WarningKind::Corrupt, "gzip of text");
    Ok(())
}

#[test]
fn foreign_pickles_are_misses() -> brine_memo::Result<()> {
    let dir = Scratch::new("corrupt-foreign");
    let (cache, seen) = recording(Cache::builder(dir.path()));
    let pickle = |v: &dyn erased::Ser| v.bytes();
    // Not a dict; a dict without the fields; another layout version.
    expect_miss(
        &cache,
        &seen,
        &pickle(&vec![7u32, 8, 9]),
        WarningKind::Corrupt,
        "a list",
    );
    expect_miss(
        &cache,
        &seen,
        &pickle(&std::collections::BTreeMap::from([("value", vec![1u32])])),
        WarningKind::Corrupt,
        "a dict without the header",
    );

    let key = brine::to_vec_with("key", brine::DumpOptions::new().protocol(4))?;
    let good_type = std::any::type_name::<Vec<u32>>();
    // The right header proves the test's hand-made entries are otherwise valid.
    cache.insert("c", "key", &vec![0u32])?;
    let valid = entry(1, "c", &key, good_type, &vec![4u32, 5]);
    std::fs::write(cache.path_of("c", "key")?, &valid)?;
    assert_eq!(cache.get::<_, Vec<u32>>("c", "key")?, Some(vec![4, 5]));

    expect_miss(
        &cache,
        &seen,
        &entry(2, "c", &key, good_type, &vec![1u32]),
        WarningKind::Corrupt,
        "layout 2",
    );
    // A hash collision or a file copied by hand: the stored key or namespace differ.
    let other = brine::to_vec_with("other", brine::DumpOptions::new().protocol(4))?;
    expect_miss(
        &cache,
        &seen,
        &entry(1, "c", &other, good_type, &vec![1u32]),
        WarningKind::KeyMismatch,
        "another key",
    );
    expect_miss(
        &cache,
        &seen,
        &entry(1, "d", &key, good_type, &vec![1u32]),
        WarningKind::KeyMismatch,
        "another namespace",
    );
    // The right type name over a value of the wrong shape: not read as garbage.
    expect_miss(
        &cache,
        &seen,
        &entry(1, "c", &key, good_type, &"a string"),
        WarningKind::TypeMismatch,
        "wrong shape",
    );
    Ok(())
}

#[test]
fn a_directory_in_place_of_an_entry_is_an_error_not_a_panic() -> brine_memo::Result<()> {
    let dir = Scratch::new("corrupt-dir");
    let cache = Cache::open(dir.path())?;
    let path = cache.path_of("c", "key")?;
    std::fs::create_dir_all(&path)?;
    assert!(cache.get::<_, u8>("c", "key").is_err());
    Ok(())
}

/// An entry made by hand, with any header fields.
#[derive(Serialize)]
struct Entry<'a, V> {
    brine_memo: u32,
    namespace: &'a str,
    #[serde(with = "serde_bytes")]
    key: &'a [u8],
    #[serde(rename = "type")]
    type_name: &'a str,
    version: u32,
    value: &'a V,
}

fn entry<V: Serialize>(layout: u32, ns: &str, key: &[u8], ty: &str, value: &V) -> Vec<u8> {
    brine::to_vec(&Entry {
        brine_memo: layout,
        namespace: ns,
        key,
        type_name: ty,
        version: 0,
        value,
    })
    .expect("pickle")
}

/// Pickling through a trait object, so tests can list values of different types.
mod erased {
    pub trait Ser {
        fn bytes(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn bytes(&self) -> Vec<u8> {
            brine::to_vec(self).expect("pickle")
        }
    }
}
