//! safetensors files: header parsing with the reference reader's validation, and a writer that
//! orders, aligns and pads exactly as the reference writer does, streaming tensor data.
//!
//! Hand-written rather than built on the `safetensors` crate: the format is an 8-byte length,
//! a JSON header and raw bytes, and brine needs what that crate's API does not offer: writing
//! tensors one at a time from lazily read sources (a 10 GB checkpoint converts in bounded
//! memory) and reading the header alone from a file.

use std::collections::HashSet;
use std::fmt;
use std::io::{Read, Write};

use brine::{Error, Result};
use serde::de::{MapAccess, Visitor};
use serde::Deserialize;

use crate::array::{nbytes_of, ByteOrder, DType, Float8, NdArray};
use crate::npy::io_err;

/// The reference reader refuses headers longer than this.
pub const MAX_HEADER: u64 = 100_000_000;

/// safetensors dtype names in the reference `Dtype` enum order (increasing alignment); the
/// writer sorts tensors by this order, descending.
const DTYPE_ORDER: [&str; 22] = [
    "BOOL",
    "F4",
    "F6_E2M3",
    "F6_E3M2",
    "U8",
    "I8",
    "F8_E5M2",
    "F8_E4M3",
    "F8_E8M0",
    "F8_E4M3FNUZ",
    "F8_E5M2FNUZ",
    "I16",
    "U16",
    "F16",
    "BF16",
    "I32",
    "U32",
    "F32",
    "C64",
    "F64",
    "I64",
    "U64",
];

/// The safetensors name of a dtype, `None` when safetensors has no equivalent (complex128,
/// strings, datetimes, objects, structured types).
///
/// ```
/// use brine_formats::array::{ByteOrder, DType};
/// use brine_formats::safetensors::dtype_name;
/// assert_eq!(dtype_name(&DType::BFloat16(ByteOrder::Little)), Some("BF16"));
/// assert_eq!(dtype_name(&DType::Complex(16, ByteOrder::Little)), None);
/// ```
pub fn dtype_name(d: &DType) -> Option<&'static str> {
    Some(match d {
        DType::Bool => "BOOL",
        DType::UInt(1, _) => "U8",
        DType::Int(1, _) => "I8",
        DType::Float8(Float8::E5M2) => "F8_E5M2",
        DType::Float8(Float8::E4M3) => "F8_E4M3",
        DType::Float8(Float8::E8M0) => "F8_E8M0",
        DType::Float8(Float8::E4M3Fnuz) => "F8_E4M3FNUZ",
        DType::Float8(Float8::E5M2Fnuz) => "F8_E5M2FNUZ",
        DType::Int(2, _) => "I16",
        DType::UInt(2, _) => "U16",
        DType::Float(2, _) => "F16",
        DType::BFloat16(_) => "BF16",
        DType::Int(4, _) => "I32",
        DType::UInt(4, _) => "U32",
        DType::Float(4, _) => "F32",
        DType::Complex(8, _) => "C64",
        DType::Float(8, _) => "F64",
        DType::Int(8, _) => "I64",
        DType::UInt(8, _) => "U64",
        _ => return None,
    })
}

/// The dtype of a safetensors name (little-endian), `None` for unknown or sub-byte types.
pub fn dtype_from_name(s: &str) -> Option<DType> {
    let l = ByteOrder::Little;
    Some(match s {
        "BOOL" => DType::Bool,
        "U8" => DType::UInt(1, l),
        "I8" => DType::Int(1, l),
        "F8_E5M2" => DType::Float8(Float8::E5M2),
        "F8_E4M3" => DType::Float8(Float8::E4M3),
        "F8_E8M0" => DType::Float8(Float8::E8M0),
        "F8_E4M3FNUZ" => DType::Float8(Float8::E4M3Fnuz),
        "F8_E5M2FNUZ" => DType::Float8(Float8::E5M2Fnuz),
        "I16" => DType::Int(2, l),
        "U16" => DType::UInt(2, l),
        "F16" => DType::Float(2, l),
        "BF16" => DType::BFloat16(l),
        "I32" => DType::Int(4, l),
        "U32" => DType::UInt(4, l),
        "F32" => DType::Float(4, l),
        "C64" => DType::Complex(8, l),
        "F64" => DType::Float(8, l),
        "I64" => DType::Int(8, l),
        "U64" => DType::UInt(8, l),
        _ => return None,
    })
}

/// One tensor of a safetensors header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Tensor name.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape (`[]` for scalars).
    pub shape: Vec<usize>,
    /// Start of its bytes, relative to the data section.
    pub begin: u64,
    /// End (exclusive) of its bytes.
    pub end: u64,
}

/// A parsed and validated safetensors header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `__metadata__`, sorted by key.
    pub metadata: Option<Vec<(String, String)>>,
    /// Tensors in file order of their keys.
    pub entries: Vec<Entry>,
    /// Offset of the data section in the file (`8 + N`).
    pub data_start: u64,
}

/// The JSON header as an ordered list of pairs, so duplicate keys can be refused.
struct Pairs(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Pairs, A::Error> {
                let mut v = Vec::new();
                while let Some(kv) = map.next_entry()? {
                    v.push(kv);
                }
                Ok(Pairs(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads and validates the header from the start of a safetensors file of `file_len` bytes:
/// no duplicate names, string-only metadata, offsets that tile the data section from 0 with
/// no hole, each tensor's size matching its shape, and no bytes after the last tensor.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// use brine_formats::safetensors;
/// let a = NdArray::from_bytes(DType::Float(4, ByteOrder::Little), vec![2], vec![0; 8])?;
/// let mut file = Vec::new();
/// safetensors::write(&mut file, &[], &[("w", &a)])?;
/// let h = safetensors::read_header(&mut &file[..], file.len() as u64)?;
/// assert_eq!(h.entries[0].name, "w");
/// assert_eq!(h.data_start % 8, 0);
/// # Ok::<(), brine::Error>(())
/// ```
pub fn read_header(r: &mut impl Read, file_len: u64) -> Result<Header> {
    let mut len = [0u8; 8];
    r.read_exact(&mut len).map_err(|_| Error::truncated())?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER {
        return Err(Error::data(format!(
            "safetensors header of {n} bytes is over the {MAX_HEADER}-byte limit"
        )));
    }
    if n.saturating_add(8) > file_len {
        return Err(Error::truncated().at(file_len));
    }
    // `n` is at most 100 MB and no more than the file holds.
    let mut text = Vec::with_capacity(n as usize);
    r.take(n).read_to_end(&mut text).map_err(io_err)?;
    if text.len() as u64 != n {
        return Err(Error::truncated());
    }
    if text.first() != Some(&b'{') {
        return Err(Error::data("safetensors header must start with '{'"));
    }
    let Pairs(pairs) = serde_json::from_slice(&text)
        .map_err(|e| Error::data(format!("safetensors header: {e}")))?;
    let mut names = HashSet::new();
    let mut metadata = None;
    let mut entries = Vec::new();
    for (k, v) in pairs {
        if !names.insert(k.clone()) {
            return Err(Error::data(format!("safetensors header repeats {k:?}")));
        }
        if k == "__metadata__" {
            let obj = v
                .as_object()
                .ok_or_else(|| Error::data("__metadata__ must be an object"))?;
            let mut m = Vec::new();
            for (mk, mv) in obj {
                let s = mv
                    .as_str()
                    .ok_or_else(|| Error::data("__metadata__ values must be strings"))?;
                m.push((mk.clone(), s.to_owned()));
            }
            metadata = Some(m);
            continue;
        }
        entries.push(entry(k, &v)?);
    }
    let data_start = 8 + n;
    let mut order: Vec<&Entry> = entries.iter().collect();
    order.sort_by_key(|e| (e.begin, e.end));
    let mut at = 0u64;
    for e in &order {
        if e.begin != at || e.end < e.begin {
            return Err(Error::data(format!(
                "tensor {:?} at [{}, {}) leaves a hole or overlaps (expected start {at})",
                e.name, e.begin, e.end
            )));
        }
        let need = nbytes_of(&e.dtype, &e.shape)? as u64;
        if e.end - e.begin != need {
            return Err(Error::data(format!(
                "tensor {:?} has {} bytes, its shape needs {need}",
                e.name,
                e.end - e.begin
            )));
        }
        at = e.end;
    }
    if data_start.checked_add(at) != Some(file_len) {
        return Err(Error::data(format!(
            "safetensors data is {} bytes, the header describes {at}",
            file_len.saturating_sub(data_start)
        )));
    }
    Ok(Header {
        metadata,
        entries,
        data_start,
    })
}

fn entry(name: String, v: &serde_json::Value) -> Result<Entry> {
    let bad = |what: &str| Error::data(format!("tensor {name:?}: {what}"));
    let obj = v.as_object().ok_or_else(|| bad("not an object"))?;
    let dt = obj
        .get("dtype")
        .and_then(|d| d.as_str())
        .ok_or_else(|| bad("no dtype"))?;
    let dtype = dtype_from_name(dt).ok_or_else(|| bad(&format!("unsupported dtype {dt}")))?;
    let shape = obj
        .get("shape")
        .and_then(|s| s.as_array())
        .ok_or_else(|| bad("no shape"))?
        .iter()
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| bad("bad shape"))?;
    let offs = obj
        .get("data_offsets")
        .and_then(|s| s.as_array())
        .filter(|a| a.len() == 2)
        .ok_or_else(|| bad("no data_offsets"))?;
    let (Some(begin), Some(end)) = (offs[0].as_u64(), offs[1].as_u64()) else {
        return Err(bad("bad data_offsets"));
    };
    for k in obj.keys() {
        if !matches!(k.as_str(), "dtype" | "shape" | "data_offsets") {
            return Err(bad(&format!("unknown key {k:?}")));
        }
    }
    Ok(Entry {
        name,
        dtype,
        shape,
        begin,
        end,
    })
}

/// Reads a whole safetensors file from memory: its header and every tensor as an array
/// borrowing the input.
pub fn read(data: &[u8]) -> Result<(Header, Vec<(String, NdArray<'_>)>)> {
    let h = read_header(&mut &data[..], data.len() as u64)?;
    let mut out = Vec::with_capacity(h.entries.len());
    for e in &h.entries {
        // read_header checked these offsets against the file length.
        let s = (h.data_start + e.begin) as usize;
        let t = (h.data_start + e.end) as usize;
        out.push((
            e.name.clone(),
            NdArray::from_bytes(e.dtype.clone(), e.shape.clone(), &data[s..t])?,
        ));
    }
    Ok((h, out))
}

/// What the writer needs to know of a tensor before its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Tensor name.
    pub name: String,
    /// Element type (must have a safetensors name).
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<usize>,
}

/// A laid-out file: the header bytes and the order in which tensor data must follow.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The 8-byte length and the padded JSON header.
    pub header: Vec<u8>,
    /// Indices into the specs, in the order their bytes must be written.
    pub order: Vec<usize>,
    /// Byte size of each spec's data, by spec index.
    pub sizes: Vec<u64>,
}

/// Lays out a file as the reference writer does: tensors by dtype descending (enum order),
/// then by name; `__metadata__` first; JSON padded with spaces to a multiple of 8.
pub fn plan(metadata: &[(String, String)], specs: &[Spec]) -> Result<Plan> {
    let mut order: Vec<usize> = (0..specs.len()).collect();
    let mut ranks = Vec::with_capacity(specs.len());
    let mut sizes = Vec::with_capacity(specs.len());
    let mut names = HashSet::new();
    for s in specs {
        let name = dtype_name(&s.dtype).ok_or_else(|| {
            Error::unsupported(format!(
                "tensor {:?}: safetensors has no dtype for {}",
                s.name,
                s.dtype.name()
            ))
        })?;
        if s.name == "__metadata__" || !names.insert(s.name.as_str()) {
            return Err(Error::data(format!(
                "tensor name {:?} repeated or reserved",
                s.name
            )));
        }
        ranks.push(DTYPE_ORDER.iter().position(|d| *d == name).unwrap_or(0));
        sizes.push(nbytes_of(&s.dtype, &s.shape)? as u64);
    }
    order.sort_by(|&a, &b| {
        ranks[b]
            .cmp(&ranks[a])
            .then_with(|| specs[a].name.cmp(&specs[b].name))
    });
    let mut json = String::from("{");
    if !metadata.is_empty() {
        json.push_str("\"__metadata__\":{");
        for (i, (k, v)) in metadata.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&serde_json::to_string(k).map_err(|e| Error::data(e.to_string()))?);
            json.push(':');
            json.push_str(&serde_json::to_string(v).map_err(|e| Error::data(e.to_string()))?);
        }
        json.push('}');
    }
    let mut at = 0u64;
    for (n, &i) in order.iter().enumerate() {
        let s = &specs[i];
        if n > 0 || !metadata.is_empty() {
            json.push(',');
        }
        let shape: Vec<String> = s.shape.iter().map(usize::to_string).collect();
        json.push_str(&format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
            serde_json::to_string(&s.name).map_err(|e| Error::data(e.to_string()))?,
            dtype_name(&s.dtype).unwrap_or_default(),
            shape.join(","),
            at,
            at + sizes[i]
        ));
        at += sizes[i];
    }
    json.push('}');
    let pad = (8 - json.len() % 8) % 8;
    json.extend(std::iter::repeat_n(' ', pad));
    let mut header = Vec::with_capacity(8 + json.len());
    header.extend_from_slice(&(json.len() as u64).to_le_bytes());
    header.extend_from_slice(json.as_bytes());
    Ok(Plan {
        header,
        order,
        sizes,
    })
}

/// Writes arrays as a safetensors file (little-endian, C order: other layouts are gathered).
pub fn write(
    out: &mut impl Write,
    metadata: &[(String, String)],
    arrays: &[(&str, &NdArray<'_>)],
) -> Result<()> {
    let specs: Vec<Spec> = arrays
        .iter()
        .map(|(n, a)| Spec {
            name: (*n).to_owned(),
            dtype: a.dtype.to_little(),
            shape: a.shape.clone(),
        })
        .collect();
    let p = plan(metadata, &specs)?;
    out.write_all(&p.header).map_err(io_err)?;
    for &i in &p.order {
        let bytes = arrays[i].1.c_bytes_le()?;
        out.write_all(&bytes).map_err(io_err)?;
    }
    Ok(())
}
