//! Reading through `hdf5-reader`: its datatypes mapped to [`DType`], slices and attributes turned
//! into [`Array`]s.

use hdf5_reader::messages::HdfMessage;
use hdf5_reader::{
    Attribute, Datatype, SliceInfo, SliceInfoElem, StringEncoding, StringSize, VarLenKind,
};

use crate::array::{element_count, Array, DType, Data, Encoding};
use crate::error::{Error, Result};
use crate::select::{slice_array, Selection};

/// The [`DType`] of a file datatype, and whether its numbers are big-endian.
pub(crate) fn dtype_of(dt: &Datatype) -> Result<(DType, bool)> {
    use hdf5_reader::ByteOrder;
    let be = |o: &ByteOrder| *o == ByteOrder::BigEndian;
    let enc = |e: &StringEncoding| match e {
        StringEncoding::Ascii => Encoding::Ascii,
        StringEncoding::Utf8 => Encoding::Utf8,
    };
    Ok(match dt {
        Datatype::FixedPoint {
            size,
            signed,
            byte_order,
        } => {
            let d = match (size, signed) {
                (1, true) => DType::I8,
                (2, true) => DType::I16,
                (4, true) => DType::I32,
                (8, true) => DType::I64,
                (1, false) => DType::U8,
                (2, false) => DType::U16,
                (4, false) => DType::U32,
                (8, false) => DType::U64,
                _ => return Err(unsupported(dt)),
            };
            (d, be(byte_order))
        }
        Datatype::FloatingPoint { size, byte_order } => {
            let d = match size {
                2 => DType::F16,
                4 => DType::F32,
                8 => DType::F64,
                _ => return Err(unsupported(dt)),
            };
            (d, be(byte_order))
        }
        Datatype::String {
            size: StringSize::Fixed(n),
            encoding,
            ..
        } => (
            DType::FixedString {
                len: *n as usize,
                encoding: enc(encoding),
            },
            false,
        ),
        Datatype::String {
            size: StringSize::Variable,
            encoding,
            ..
        } => (
            DType::VarString {
                encoding: enc(encoding),
            },
            false,
        ),
        Datatype::VarLen {
            kind: VarLenKind::String,
            encoding,
            ..
        } => (
            DType::VarString {
                encoding: enc(encoding),
            },
            false,
        ),
        Datatype::Enum { base, members } => {
            // h5py's bool: an 8-bit integer enum of FALSE = 0 and TRUE = 1.
            let is_bool = matches!(**base, Datatype::FixedPoint { size: 1, .. })
                && members.len() == 2
                && members
                    .iter()
                    .any(|m| m.name == "FALSE" && m.value.first() == Some(&0))
                && members
                    .iter()
                    .any(|m| m.name == "TRUE" && m.value.first() == Some(&1));
            if !is_bool {
                return Err(unsupported(dt));
            }
            (DType::Bool, false)
        }
        Datatype::Compound { size, fields } => {
            // h5py's complex numbers: fields `r` and `i` of one float type, packed.
            match fields.as_slice() {
                [r, i]
                    if r.name == "r"
                        && i.name == "i"
                        && r.byte_offset == 0
                        && r.datatype == i.datatype =>
                {
                    match &r.datatype {
                        Datatype::FloatingPoint {
                            size: 4,
                            byte_order,
                        } if *size == 8 && i.byte_offset == 4 => (DType::C64, be(byte_order)),
                        Datatype::FloatingPoint {
                            size: 8,
                            byte_order,
                        } if *size == 16 && i.byte_offset == 8 => (DType::C128, be(byte_order)),
                        _ => return Err(unsupported(dt)),
                    }
                }
                _ => return Err(unsupported(dt)),
            }
        }
        _ => return Err(unsupported(dt)),
    })
}

#[cold]
fn unsupported(dt: &Datatype) -> Error {
    Error::unsupported(format!("unsupported datatype {}", describe_other(dt)))
}

/// A short description of any file datatype, for listings.
pub(crate) fn describe(dt: &Datatype) -> String {
    match dtype_of(dt) {
        Ok((d, true)) => format!("{d} (big-endian)"),
        Ok((d, false)) => d.to_string(),
        Err(_) => describe_other(dt),
    }
}

/// A description that never goes through [`dtype_of`] (which uses it for its errors).
fn describe_other(dt: &Datatype) -> String {
    match dt {
        Datatype::Compound { size, fields } => {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            format!("compound[{size} bytes: {}]", names.join(", "))
        }
        Datatype::Enum { members, .. } => format!("enum[{} members]", members.len()),
        Datatype::Array { dims, .. } => format!("array{dims:?}"),
        Datatype::VarLen { .. } => "vlen sequence".into(),
        Datatype::Opaque { size, .. } => format!("opaque[{size}]"),
        Datatype::Reference { .. } => "reference".into(),
        Datatype::Bitfield { size, .. } => format!("bitfield[{size}]"),
        Datatype::FixedPoint { size, .. } => format!("int[{size} bytes]"),
        Datatype::FloatingPoint { size, .. } => format!("float[{size} bytes]"),
        Datatype::String { .. } => "string".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_datatypes_are_errors() {
        // Found by tests/hostile.rs: a corrupted size byte once sent describe() and
        // dtype_of() round each other until the stack overflowed.
        let dt = Datatype::FixedPoint {
            size: 3,
            signed: true,
            byte_order: hdf5_reader::ByteOrder::LittleEndian,
        };
        let err = dtype_of(&dt).unwrap_err();
        assert_eq!(err.to_string(), "unsupported datatype int[3 bytes]");
        assert_eq!(describe(&dt), "int[3 bytes]");
    }
}

/// Numbers in the file's byte order become little-endian, one component at a time.
fn to_little_endian(bytes: &mut [u8], dtype: DType, big_endian: bool) {
    let c = dtype.component_size();
    if big_endian && c > 1 {
        for comp in bytes.chunks_exact_mut(c) {
            comp.reverse();
        }
    }
}

/// One element's bytes as stored; lets `hdf5-reader` select and decode chunks for any
/// fixed-size type without knowing it.
#[derive(Clone)]
struct Raw<const N: usize>([u8; N]);

impl<const N: usize> hdf5_reader::H5Type for Raw<N> {
    fn hdf5_type() -> Datatype {
        Datatype::Opaque {
            size: N as u32,
            tag: String::new(),
        }
    }

    fn from_bytes(bytes: &[u8], _dtype: &Datatype) -> hdf5_reader::error::Result<Self> {
        let mut a = [0u8; N];
        let n = bytes.len().min(N);
        a[..n].copy_from_slice(&bytes[..n]);
        Ok(Raw(a))
    }

    fn element_size(_dtype: &Datatype) -> usize {
        N
    }
}

/// Like [`Raw`] for elements whose size is only known at run time (fixed-length strings).
#[derive(Clone)]
struct RawVec(Vec<u8>);

impl hdf5_reader::H5Type for RawVec {
    fn hdf5_type() -> Datatype {
        Datatype::Opaque {
            size: 0,
            tag: String::new(),
        }
    }

    fn from_bytes(bytes: &[u8], dtype: &Datatype) -> hdf5_reader::error::Result<Self> {
        let n = hdf5_reader::dtype_element_size(dtype)?.min(bytes.len());
        Ok(RawVec(bytes[..n].to_vec()))
    }

    fn element_size(dtype: &Datatype) -> usize {
        hdf5_reader::dtype_element_size(dtype).unwrap_or(0)
    }
}

fn slice_info(sel: &crate::select::Resolved) -> SliceInfo {
    SliceInfo {
        selections: sel
            .dims
            .iter()
            .map(|d| {
                if d.keep {
                    let end = d.start as u64 + (d.count as u64).saturating_mul(d.step as u64);
                    SliceInfoElem::Slice {
                        start: d.start as u64,
                        // An empty range reads nothing; the reader wants start < end.
                        end: end.max(d.start as u64),
                        step: d.step as u64,
                    }
                } else {
                    SliceInfoElem::Index(d.start as u64)
                }
            })
            .collect(),
    }
}

macro_rules! numeric {
    ($ds:expr, $info:expr, $ty:ty) => {{
        let a = $ds.read_slice::<$ty>($info)?;
        let mut out = Vec::with_capacity(a.len() * std::mem::size_of::<$ty>());
        for v in a.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }};
}

macro_rules! raw {
    ($ds:expr, $info:expr, $n:literal) => {{
        let a = $ds.read_slice::<Raw<$n>>($info)?;
        let mut out = Vec::with_capacity(a.len() * $n);
        for v in a.iter() {
            out.extend_from_slice(&v.0);
        }
        out
    }};
}

/// The shape of a dataset, checked to fit in memory sizes.
pub(crate) fn shape_of(ds: &hdf5_reader::Dataset) -> Result<Vec<usize>> {
    let shape = ds
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| Error::limit("dataset extent too large")))
        .collect::<Result<Vec<_>>>()?;
    element_count(&shape)?;
    Ok(shape)
}

/// Reads the selected part of a dataset; only the chunks it touches are read and decoded.
pub(crate) fn read_slice(ds: &hdf5_reader::Dataset, sel: &Selection) -> Result<Array> {
    let (dtype, big_endian) = dtype_of(ds.dtype())?;
    let shape = shape_of(ds)?;
    if let DType::VarString { .. } = dtype {
        // Strings live in the global heap anyway; read them all, then select.
        let strings = ds.read_strings()?;
        let all = Array::new(dtype, shape, Data::Strings(strings))?;
        return slice_array(&all, sel);
    }
    let resolved = sel.resolve(&shape)?;
    let out_shape = resolved.shape();
    if resolved.count() == 0 {
        return Array::new(dtype, out_shape, Data::Bytes(Vec::new()));
    }
    let info = slice_info(&resolved);
    let mut bytes = match dtype {
        DType::I8 => numeric!(ds, &info, i8),
        DType::I16 => numeric!(ds, &info, i16),
        DType::I32 => numeric!(ds, &info, i32),
        DType::I64 => numeric!(ds, &info, i64),
        DType::U8 => numeric!(ds, &info, u8),
        DType::U16 => numeric!(ds, &info, u16),
        DType::U32 => numeric!(ds, &info, u32),
        DType::U64 => numeric!(ds, &info, u64),
        DType::F32 => numeric!(ds, &info, f32),
        DType::F64 => numeric!(ds, &info, f64),
        DType::Bool => raw!(ds, &info, 1),
        DType::F16 => raw!(ds, &info, 2),
        DType::C64 => raw!(ds, &info, 8),
        DType::C128 => raw!(ds, &info, 16),
        DType::FixedString { .. } => {
            let a = ds.read_slice::<RawVec>(&info)?;
            let mut out = Vec::new();
            for v in a.iter() {
                out.extend_from_slice(&v.0);
            }
            out
        }
        DType::VarString { .. } => Vec::new(),
    };
    if matches!(dtype, DType::F16 | DType::C64 | DType::C128) {
        to_little_endian(&mut bytes, dtype, big_endian);
    }
    Array::new(dtype, out_shape, Data::Bytes(bytes))
}

/// An attribute as an [`Array`].
pub(crate) fn attribute(attr: &Attribute) -> Result<Array> {
    let (dtype, big_endian) = dtype_of(&attr.datatype)?;
    let shape = attr
        .shape
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| Error::limit("attribute extent too large")))
        .collect::<Result<Vec<_>>>()?;
    let count = element_count(&shape)?;
    match dtype.size() {
        None => {
            let strings = attr.read_strings()?;
            Array::new(dtype, shape, Data::Strings(strings))
        }
        Some(size) => {
            let want = count
                .checked_mul(size)
                .ok_or_else(|| Error::limit("attribute too large"))?;
            let mut bytes = attr
                .raw_data
                .get(..want)
                .ok_or_else(|| {
                    Error::new(
                        crate::Category::Format,
                        format!("attribute {:?} holds fewer bytes than its shape", attr.name),
                    )
                })?
                .to_vec();
            to_little_endian(&mut bytes, dtype, big_endian);
            Array::new(dtype, shape, Data::Bytes(bytes))
        }
    }
}

/// The chunk shape and filter names of a dataset, from its object header.
pub(crate) fn storage(
    file: &hdf5_reader::Hdf5File,
    ds: &hdf5_reader::Dataset,
) -> (Option<Vec<usize>>, Vec<Filter>) {
    let chunks = ds.chunks().map(|c| c.iter().map(|&x| x as usize).collect());
    let mut filters = Vec::new();
    if let Ok(header) = file.get_or_parse_header(ds.address()) {
        for m in &header.messages {
            if let HdfMessage::FilterPipeline(p) = m {
                for f in &p.filters {
                    filters.push(match f.id {
                        1 => Filter::Gzip(f.client_data.first().copied().unwrap_or(0)),
                        2 => Filter::Shuffle,
                        3 => Filter::Fletcher32,
                        id => Filter::Other(id),
                    });
                }
            }
        }
    }
    (chunks, filters)
}

/// A filter of a dataset's pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Deflate at this level.
    Gzip(u32),
    /// Byte shuffle.
    Shuffle,
    /// Fletcher-32 checksum.
    Fletcher32,
    /// Any other filter, by its HDF5 id.
    Other(u16),
}
