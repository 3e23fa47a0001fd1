//! Rust types of the typed benchmark workloads (pyperformance's bm_pickle data and 100k
//! records, as `bench/compare.py` builds them), shared by `benches/typed.rs` and
//! `examples/bench_typed.rs`.
#![allow(dead_code)]

pub mod tape;

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// serde-pickle's options for every workload: `keep_restore_state` makes it read a REDUCE
/// (`datetime.date` in DICT) as its arguments, as brine does, instead of failing.
pub fn sp_options() -> serde_pickle::DeOptions {
    serde_pickle::DeOptions::new().keep_restore_state()
}

/// `datetime.date`: pickled as `date(b'\x07\xbc\x05\x07')`, a REDUCE of its argument tuple,
/// read as that tuple. brine reads any REDUCE into a tuple type as its arguments; serde-pickle
/// does with `DeOptions::keep_restore_state` (see [`sp_options`]), so both read this type.
pub type Date = (serde_bytes::ByteBuf,);

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

/// [`Date`] with its argument borrowed from the input.
pub type DateRef<'a> = (&'a serde_bytes::Bytes,);

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

/// The ~10 MB mix of `bench/compare.py`: bm_pickle's five objects, deep-copied in turn into
/// one flat list `[DICT, TUPLE, DICT_GROUP, LIST, MICRO_DICT, DICT, ...]`, read five items at a
/// time (a custom visitor, as a program with such a list would write).
#[derive(Debug, PartialEq)]
pub struct Mix<A, B, C, D, E>(pub Vec<(A, B, C, D, E)>);

/// The mix into the std types.
pub type MixStd = Mix<Dict, Tuple, DictGroup, List, MicroDict>;

/// The mix into the lean types: text borrowed, maps Fx-hashed.
pub type MixRef<'a> = Mix<DictRef<'a>, Tuple, Vec<FxMap<&'a str, &'a str>>, List, MicroDictFx>;

impl<'de, A, B, C, D, E> Deserialize<'de> for Mix<A, B, C, D, E>
where
    A: Deserialize<'de>,
    B: Deserialize<'de>,
    C: Deserialize<'de>,
    D: Deserialize<'de>,
    E: Deserialize<'de>,
{
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        struct Fives<T>(std::marker::PhantomData<T>);
        impl<'de, A, B, C, D, E> Visitor<'de> for Fives<(A, B, C, D, E)>
        where
            A: Deserialize<'de>,
            B: Deserialize<'de>,
            C: Deserialize<'de>,
            D: Deserialize<'de>,
            E: Deserialize<'de>,
        {
            type Value = Mix<A, B, C, D, E>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of DICT, TUPLE, DICT_GROUP, LIST, MICRO_DICT repeated")
            }

            fn visit_seq<S: SeqAccess<'de>>(self, mut s: S) -> Result<Self::Value, S::Error> {
                fn next<'de, T: Deserialize<'de>, S: SeqAccess<'de>>(
                    s: &mut S,
                    i: usize,
                ) -> Result<T, S::Error> {
                    s.next_element()?
                        .ok_or_else(|| de::Error::invalid_length(i, &"a multiple of five items"))
                }
                let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0).min(4096) / 5);
                while let Some(a) = s.next_element()? {
                    let i = out.len() * 5;
                    let b = next(&mut s, i + 1)?;
                    let c = next(&mut s, i + 2)?;
                    let d = next(&mut s, i + 3)?;
                    let e = next(&mut s, i + 4)?;
                    out.push((a, b, c, d, e));
                }
                Ok(Mix(out))
            }
        }
        d.deserialize_seq(Fives(std::marker::PhantomData))
    }
}

impl<A: Serialize, B: Serialize, C: Serialize, D: Serialize, E: Serialize> Serialize
    for Mix<A, B, C, D, E>
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len() * 5))?;
        for (a, b, c, d, e) in &self.0 {
            seq.serialize_element(a)?;
            seq.serialize_element(b)?;
            seq.serialize_element(c)?;
            seq.serialize_element(d)?;
            seq.serialize_element(e)?;
        }
        seq.end()
    }
}

/// The workload names of `bench/compare.py --write` with a typed reader.
pub const TYPED: &[&str] = &[
    "pyperf_unpickle_unit",
    "pyperf_list",
    "pyperf_micro_dict",
    "records_100k",
];
