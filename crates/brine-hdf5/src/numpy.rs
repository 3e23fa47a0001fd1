//! Datasets and attributes to and from brine's numpy array type
//! ([`brine_formats::array::NdArray`]), with the `numpy` feature.
//!
//! numbers and bools map one to one (any byte order in, little-endian out); fixed-length
//! strings are numpy `S<n>`; variable-length strings become `<U<n>` (n: the longest string's
//! characters) and `U` arrays come back as variable-length UTF-8 strings. What has no
//! counterpart (bfloat16, datetimes, records, object arrays, masks) is an `Unsupported` error,
//! never a silent change.
//!
//! ```
//! use brine_formats::array::{ByteOrder, DType, NdArray};
//! use brine_hdf5::{numpy, Array};
//! let a = NdArray::from_bytes(DType::Int(2, ByteOrder::Big), vec![2], vec![0, 1, 1, 0])?;
//! let h = numpy::from_ndarray(&a)?;
//! assert_eq!(h.to_i64()?, vec![1, 256]);
//! let back = numpy::to_ndarray(&h)?;
//! assert_eq!(back.dtype, DType::Int(2, ByteOrder::Little));
//! assert_eq!(&*back.c_bytes()?, &[1, 0, 0, 1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use brine_formats::array::{ByteOrder, DType as NpType, NdArray};

use crate::array::{Array, DType, Data, Encoding};
use crate::error::{Error, Result};

fn from_formats(e: brine::Error) -> Error {
    Error::data(e.to_string())
}

/// numpy's view of an HDF5 array: numbers as they are, fixed strings as `S<n>`, variable-length
/// strings as `<U<n>`. Strings ending in NUL are refused (numpy strips trailing NULs of `U`
/// elements, so they would change).
pub fn to_ndarray(a: &Array) -> Result<NdArray<'static>> {
    match (a.data(), fixed_dtype(a.dtype())) {
        (Data::Bytes(b), Some(dtype)) => {
            NdArray::from_bytes(dtype, a.shape().to_vec(), b.clone()).map_err(from_formats)
        }
        (Data::Strings(s), None) => strings_to_ndarray(s, a.shape()),
        _ => Err(Error::data("array data does not match its dtype")),
    }
}

/// The numpy dtype of a fixed-size HDF5 type; `None` for variable-length strings.
fn fixed_dtype(d: DType) -> Option<NpType> {
    let l = ByteOrder::Little;
    // One-byte types have no byte order (numpy's `|i1`), as brine-formats reads them.
    let na = ByteOrder::NotApplicable;
    Some(match d {
        DType::Bool => NpType::Bool,
        DType::I8 => NpType::Int(1, na),
        DType::I16 => NpType::Int(2, l),
        DType::I32 => NpType::Int(4, l),
        DType::I64 => NpType::Int(8, l),
        DType::U8 => NpType::UInt(1, na),
        DType::U16 => NpType::UInt(2, l),
        DType::U32 => NpType::UInt(4, l),
        DType::U64 => NpType::UInt(8, l),
        DType::F16 => NpType::Float(2, l),
        DType::F32 => NpType::Float(4, l),
        DType::F64 => NpType::Float(8, l),
        DType::C64 => NpType::Complex(8, l),
        DType::C128 => NpType::Complex(16, l),
        DType::FixedString { len, .. } => NpType::Bytes(len),
        DType::VarString { .. } => return None,
    })
}

/// Variable-length strings as numpy `<U<n>`, n the longest string's characters.
fn strings_to_ndarray(strings: &[String], shape: &[usize]) -> Result<NdArray<'static>> {
    if strings.iter().any(|s| s.ends_with('\0')) {
        return Err(Error::unsupported(
            "a string ending in NUL (numpy `U` strips them)",
        ));
    }
    let n = strings
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let total = n
        .checked_mul(4)
        .and_then(|b| b.checked_mul(strings.len()))
        .ok_or_else(|| Error::limit("string array size overflows"))?;
    let mut bytes = Vec::with_capacity(total);
    for s in strings {
        let mut k = 0;
        for c in s.chars() {
            bytes.extend_from_slice(&u32::from(c).to_le_bytes());
            k += 1;
        }
        bytes.resize(bytes.len() + (n - k) * 4, 0);
    }
    NdArray::from_bytes(NpType::Unicode(n, ByteOrder::Little), shape.to_vec(), bytes)
        .map_err(from_formats)
}

/// The HDF5 form of a numpy array: little-endian, C order (other layouts are gathered).
pub fn from_ndarray(a: &NdArray<'_>) -> Result<Array> {
    if a.mask.is_some() {
        return Err(Error::unsupported("a masked array (HDF5 has no mask)"));
    }
    if let NpType::Unicode(n, _) = a.dtype {
        return unicode_to_strings(a, n);
    }
    let dtype = fixed_hdf5_dtype(&a.dtype)?;
    let bytes = a.c_bytes_le().map_err(from_formats)?.into_owned();
    Array::new(dtype, a.shape.clone(), Data::Bytes(bytes))
}

/// The HDF5 type of a fixed-size numpy dtype, or why there is none.
fn fixed_hdf5_dtype(d: &NpType) -> Result<DType> {
    Ok(match d {
        NpType::Bool => DType::Bool,
        NpType::Int(1, _) => DType::I8,
        NpType::Int(2, _) => DType::I16,
        NpType::Int(4, _) => DType::I32,
        NpType::Int(8, _) => DType::I64,
        NpType::UInt(1, _) => DType::U8,
        NpType::UInt(2, _) => DType::U16,
        NpType::UInt(4, _) => DType::U32,
        NpType::UInt(8, _) => DType::U64,
        NpType::Float(2, _) => DType::F16,
        NpType::Float(4, _) => DType::F32,
        NpType::Float(8, _) => DType::F64,
        NpType::Complex(8, _) => DType::C64,
        NpType::Complex(16, _) => DType::C128,
        NpType::Bytes(n) if *n > 0 => DType::FixedString {
            len: *n,
            encoding: Encoding::Ascii,
        },
        other => {
            return Err(Error::unsupported(format!(
                "dtype {} has no HDF5 counterpart here",
                other.str()
            )))
        }
    })
}

/// numpy `U<n>` elements as variable-length UTF-8 strings, trailing NULs dropped as numpy does.
fn unicode_to_strings(a: &NdArray<'_>, n: usize) -> Result<Array> {
    let bytes = a.c_bytes_le().map_err(from_formats)?;
    let strings = if n == 0 {
        vec![String::new(); a.numel()]
    } else {
        let mut strings = Vec::new();
        for elem in bytes.chunks(n.saturating_mul(4)) {
            let mut s = String::new();
            for c in elem.chunks_exact(4) {
                let c = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                s.push(char::from_u32(c).ok_or_else(|| {
                    Error::data(format!("invalid code point {c:#x} in a string"))
                })?);
            }
            s.truncate(s.trim_end_matches('\0').len());
            strings.push(s);
        }
        strings
    };
    let dtype = DType::VarString {
        encoding: Encoding::Utf8,
    };
    Array::new(dtype, a.shape.clone(), Data::Strings(strings))
}
