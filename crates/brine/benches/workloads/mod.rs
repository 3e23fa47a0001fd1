//! Rust types of the typed benchmark workloads (pyperformance's bm_pickle data and 100k
//! records, as `bench/compare.py` builds them), shared by `benches/typed.rs` and
//! `examples/bench_typed.rs`.
#![allow(dead_code)]

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use serde::{Deserialize, Serialize};

/// `datetime.date`: pickled as `date(b'\x07\xbc\x05\x07')`; read as its one argument.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
pub struct Date(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// bm_pickle's `DICT`.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
pub struct Dict {
    pub ads_flags: i64,
    pub age: i64,
    pub birthday: Date,
    pub bulletin_count: i64,
    pub comment_count: i64,
    pub country: String,
    pub encrypted_id: String,
    pub favorite_count: i64,
    pub first_name: String,
    pub flags: i64,
    pub friend_count: i64,
    pub gender: String,
    pub gender_for_display: String,
    pub id: i64,
    pub is_custom_profile_icon: i64,
    pub last_name: String,
    pub locale_preference: String,
    pub member: i64,
    pub tags: Vec<String>,
    pub profile_foo_id: i64,
    pub secure_encrypted_id: String,
    pub session_number: i64,
    pub signup_id: String,
    pub status: String,
    pub theme: i64,
    pub time_created: i64,
    pub time_updated: i64,
    pub unread_message_count: i64,
    pub user_group: String,
    pub username: String,
    pub play_count: i64,
    pub view_count: i64,
    pub zip: String,
}

/// bm_pickle's `TUPLE`.
pub type Tuple = (Vec<i64>, i64);

/// bm_pickle's `DICT_GROUP`: `DICT` with every value replaced by a str.
pub type DictGroup = Vec<HashMap<String, String>>;

/// The pyperformance unpickle unit `(DICT, TUPLE, DICT_GROUP)`.
pub type Unit = (Dict, Tuple, DictGroup);

/// bm_pickle's `LIST`.
pub type List = Vec<Vec<Vec<i64>>>;

/// bm_pickle's `MICRO_DICT`: `{k: dict.fromkeys(range(10))}` for 100 keys.
pub type MicroDict = HashMap<i64, HashMap<i64, Option<i64>>>;

/// A `HashMap` with rustc's Fx hasher: a multiply per word, for trusted data. std's default
/// SipHash-1-3 resists hash flooding; CPython's `hash(int)` is the int itself, and CPython
/// hashes a `str` once and caches it in the object (a memoized key is hashed once per pickle).
pub type FxMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// MICRO_DICT with the Fx hasher: the type a program that decodes trusted int-keyed data for
/// speed would choose.
pub type MicroDictFx = FxMap<i64, FxMap<i64, Option<i64>>>;

/// `datetime.date`'s one argument, borrowed from the input.
#[derive(Deserialize, Debug, PartialEq)]
pub struct DateRef<'a>(#[serde(borrow, with = "serde_bytes")] pub &'a [u8]);

/// bm_pickle's `DICT` with its text borrowed from the input (zero-copy).
#[derive(Deserialize, Debug, PartialEq)]
pub struct DictRef<'a> {
    pub ads_flags: i64,
    pub age: i64,
    #[serde(borrow)]
    pub birthday: DateRef<'a>,
    pub bulletin_count: i64,
    pub comment_count: i64,
    pub country: &'a str,
    pub encrypted_id: &'a str,
    pub favorite_count: i64,
    pub first_name: &'a str,
    pub flags: i64,
    pub friend_count: i64,
    pub gender: &'a str,
    pub gender_for_display: &'a str,
    pub id: i64,
    pub is_custom_profile_icon: i64,
    pub last_name: &'a str,
    pub locale_preference: &'a str,
    pub member: i64,
    #[serde(borrow)]
    pub tags: Vec<&'a str>,
    pub profile_foo_id: i64,
    pub secure_encrypted_id: &'a str,
    pub session_number: i64,
    pub signup_id: &'a str,
    pub status: &'a str,
    pub theme: i64,
    pub time_created: i64,
    pub time_updated: i64,
    pub unread_message_count: i64,
    pub user_group: &'a str,
    pub username: &'a str,
    pub play_count: i64,
    pub view_count: i64,
    pub zip: &'a str,
}

/// The pyperformance unit with its text borrowed from the input (zero-copy) and Fx-hashed maps.
pub type UnitRef<'a> = (DictRef<'a>, Tuple, Vec<FxMap<&'a str, &'a str>>);

/// One of the 100k records.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
pub struct Record {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub score: f64,
    pub active: bool,
    pub tags: Vec<String>,
}

/// A record borrowing its text from the input (zero-copy).
#[derive(Deserialize, Debug, PartialEq)]
pub struct RecordRef<'a> {
    pub id: i64,
    pub name: &'a str,
    pub email: &'a str,
    pub score: f64,
    pub active: bool,
    pub tags: Vec<&'a str>,
}

/// The workload names of `bench/compare.py --write` with a typed reader.
pub const TYPED: &[&str] = &[
    "pyperf_unpickle_unit",
    "pyperf_list",
    "pyperf_micro_dict",
    "records_100k",
];
