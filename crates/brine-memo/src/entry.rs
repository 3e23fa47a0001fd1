//! The entry file format: one pickle of a small dict, optionally compressed, and its reader.

use std::sync::Arc;

use brine::value::{Graph, Node, NodeId};
use brine::{DumpOptions, Error, LoadOptions, Result};
use brine_formats::Codec;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The value of the `'brine_memo'` field: the version of this entry layout.
pub const FORMAT: u32 = 1;

/// Keys, values and entries are all written at protocol 4: Python 3.4+ reads it, and it is
/// fixed here (not "the default") so a key's bytes, and so its hash, never change with brine.
pub(crate) const PROTOCOL: u8 = 4;

/// The canonical bytes of a key: its pickle at protocol 4.
pub(crate) fn key_bytes<K: Serialize + ?Sized>(key: &K) -> Result<Vec<u8>> {
    brine::to_vec_with(key, DumpOptions::new().protocol(PROTOCOL))
}

/// The hex SHA-256 naming an entry: of `brine-memo/1`, NUL, the namespace, NUL, the key bytes.
/// The namespace is hashed too so that an entry moved to another namespace's folder is a
/// mismatch rather than a hit.
pub(crate) fn key_hash(namespace: &str, key: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"brine-memo/1\0");
    h.update(namespace.as_bytes());
    h.update(b"\0");
    h.update(key);
    let digest = h.finalize();
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    hex
}

/// `bytes` for serde: brine writes `serialize_bytes` as a Python `bytes`.
struct AsBytes<'a>(&'a [u8]);

impl Serialize for AsBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// What an entry holds, in the order Python sees the dict's keys.
#[derive(Serialize)]
struct EntryOut<'a, V: ?Sized> {
    brine_memo: u32,
    namespace: &'a str,
    key: AsBytes<'a>,
    #[serde(rename = "type")]
    type_name: &'a str,
    version: u32,
    value: &'a V,
}

/// The bytes of an entry file: the pickle of the entry dict, compressed when asked.
pub(crate) fn encode<V: Serialize + ?Sized>(
    namespace: &str,
    key: &[u8],
    type_name: &str,
    version: u32,
    value: &V,
    compress: Option<(Codec, Option<u32>)>,
) -> Result<Vec<u8>> {
    let entry = EntryOut {
        brine_memo: FORMAT,
        namespace,
        key: AsBytes(key),
        type_name,
        version,
        value,
    };
    let data = brine::to_vec_with(&entry, DumpOptions::new().protocol(PROTOCOL))?;
    match compress {
        Some((codec, level)) => brine_formats::compress(&data, codec, level),
        None => Ok(data),
    }
}

/// An entry file, decoded into a value graph without reading the value as any Rust type.
#[derive(Debug)]
pub struct Entry {
    /// The decoded pickle; [`value`](Self::value) points into it.
    pub graph: Graph,
    /// The namespace the entry was written under.
    pub namespace: String,
    /// The key's canonical bytes: its pickle at protocol 4 (`pickle.loads` gives the key).
    pub key: Vec<u8>,
    /// The Rust type name of the value as written (`std::any::type_name`).
    pub type_name: String,
    /// The user version the entry was written with.
    pub version: u32,
    /// The compression the file was wrapped in, if any.
    pub codec: Option<Codec>,
    /// The node of the value in [`graph`](Self::graph).
    pub value: NodeId,
}

/// Decodes an entry file's bytes: decompresses by magic bytes, decodes the pickle and checks
/// that it is an entry dict of a known layout version. Any malformation is a data error.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("brine-memo-doc-decode-{}", std::process::id()));
/// let cache = brine_memo::Cache::open(&dir)?;
/// cache.insert("ns", "k", &7u8)?;
/// let data = std::fs::read(cache.path_of("ns", "k")?)?;
/// let e = brine_memo::decode(data, &brine::Limits::default())?;
/// assert_eq!((e.type_name.as_str(), brine::from_node::<u8>(&e.graph, e.value)?), ("u8", 7));
/// // A pickle that is not an entry dict:
/// assert!(brine_memo::decode(b"\x80\x04K\x07.".to_vec(), &brine::Limits::default()).is_err());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode(data: Vec<u8>, limits: &brine::Limits) -> Result<Entry> {
    let codec = Codec::detect(&data);
    let data = match codec {
        Some(c) => brine_formats::compress::decompress_as(&data, c, limits)?,
        None => data,
    };
    // Shared decoding keeps a large `bytes` value inside `data` instead of copying it.
    let graph = brine::loads_shared(Arc::new(data), LoadOptions::new().limits(limits.clone()))?;
    let root = graph
        .root()
        .ok_or_else(|| Error::data("the pickle has no value"))?;
    let Node::Dict(items) = graph.get(root) else {
        return Err(Error::data(format!(
            "not a brine-memo entry: the pickle holds a {}, not a dict",
            graph.get(root).kind_name()
        )));
    };
    let mut format = None;
    let mut namespace = None;
    let mut key = None;
    let mut type_name = None;
    let mut version = None;
    let mut value = None;
    for (k, v) in graph.pairs(*items) {
        let Node::Str(name) = graph.get(k) else {
            continue;
        };
        match name.as_str() {
            Some("brine_memo") => format = Some(brine::from_node::<u32>(&graph, v)?),
            Some("namespace") => namespace = Some(brine::from_node::<String>(&graph, v)?),
            Some("key") => key = Some(bytes_of(&graph, v)?),
            Some("type") => type_name = Some(brine::from_node::<String>(&graph, v)?),
            Some("version") => version = Some(brine::from_node::<u32>(&graph, v)?),
            Some("value") => value = Some(v),
            _ => {}
        }
    }
    let missing = |field: &str| Error::data(format!("not a brine-memo entry: no '{field}' field"));
    let format = format.ok_or_else(|| missing("brine_memo"))?;
    if format != FORMAT {
        return Err(Error::unsupported(format!(
            "brine-memo entry layout {format} (this version reads {FORMAT})"
        )));
    }
    Ok(Entry {
        namespace: namespace.ok_or_else(|| missing("namespace"))?,
        key: key.ok_or_else(|| missing("key"))?,
        type_name: type_name.ok_or_else(|| missing("type"))?,
        version: version.ok_or_else(|| missing("version"))?,
        value: value.ok_or_else(|| missing("value"))?,
        codec,
        graph,
    })
}

fn bytes_of(graph: &Graph, id: NodeId) -> Result<Vec<u8>> {
    match graph.get(id) {
        Node::Bytes(b) => Ok(b.as_bytes().to_vec()),
        other => Err(Error::data(format!(
            "not a brine-memo entry: 'key' is a {}, not bytes",
            other.kind_name()
        ))),
    }
}
