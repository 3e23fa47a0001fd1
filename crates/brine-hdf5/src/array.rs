//! The n-d array datasets and attributes exchange: a dtype, a shape and little-endian C-order data.

use std::fmt;

use crate::error::{Error, Result};

/// How the characters of a string are encoded (HDF5's character set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// ASCII (h5py: `bytes`, numpy `S`).
    Ascii,
    /// UTF-8 (h5py: `str`).
    Utf8,
}

/// The element type of an [`Array`]: numpy's numeric dtypes, bool and HDF5 strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// `bool`, stored as h5py does: an 8-bit enum `FALSE = 0, TRUE = 1`.
    Bool,
    /// `int8`.
    I8,
    /// `int16`.
    I16,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `uint64`.
    U64,
    /// `float16`.
    F16,
    /// `float32`.
    F32,
    /// `float64`.
    F64,
    /// `complex64`: a compound of two `float32` fields `r` and `i`, as h5py writes it.
    C64,
    /// `complex128`: a compound of two `float64` fields `r` and `i`.
    C128,
    /// A fixed-length string of `len` bytes, null-padded (numpy `S{len}`).
    FixedString {
        /// Bytes per element.
        len: usize,
        /// Character set.
        encoding: Encoding,
    },
    /// A variable-length string (h5py `string_dtype()`); data lives in [`Data::Strings`].
    VarString {
        /// Character set.
        encoding: Encoding,
    },
}

impl DType {
    /// Bytes per element in [`Data::Bytes`]; `None` for variable-length strings.
    ///
    /// ```
    /// use brine_hdf5::DType;
    /// assert_eq!(DType::C64.size(), Some(8));
    /// assert_eq!(DType::VarString { encoding: brine_hdf5::Encoding::Utf8 }.size(), None);
    /// ```
    pub fn size(self) -> Option<usize> {
        Some(match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 | DType::F16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 | DType::C64 => 8,
            DType::C128 => 16,
            DType::FixedString { len, .. } => len,
            DType::VarString { .. } => return None,
        })
    }

    /// numpy's name for the dtype (`float32`, `|S5`, `object` for variable-length strings).
    ///
    /// ```
    /// use brine_hdf5::DType;
    /// assert_eq!(DType::F32.numpy_name(), "float32");
    /// ```
    pub fn numpy_name(self) -> String {
        match self {
            DType::Bool => "bool".into(),
            DType::I8 => "int8".into(),
            DType::I16 => "int16".into(),
            DType::I32 => "int32".into(),
            DType::I64 => "int64".into(),
            DType::U8 => "uint8".into(),
            DType::U16 => "uint16".into(),
            DType::U32 => "uint32".into(),
            DType::U64 => "uint64".into(),
            DType::F16 => "float16".into(),
            DType::F32 => "float32".into(),
            DType::F64 => "float64".into(),
            DType::C64 => "complex64".into(),
            DType::C128 => "complex128".into(),
            DType::FixedString { len, .. } => format!("|S{len}"),
            DType::VarString { .. } => "object".into(),
        }
    }

    /// The size of each scalar component, for byte-order swaps (complex numbers swap halves).
    pub(crate) fn component_size(self) -> usize {
        match self {
            DType::C64 => 4,
            DType::C128 => 8,
            DType::FixedString { .. } | DType::Bool => 1,
            other => other.size().unwrap_or(1),
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DType::FixedString { len, encoding } => {
                let enc = match encoding {
                    Encoding::Ascii => "ascii",
                    Encoding::Utf8 => "utf-8",
                };
                write!(f, "string[{len}, {enc}]")
            }
            DType::VarString { encoding } => match encoding {
                Encoding::Ascii => f.write_str("vlen string[ascii]"),
                Encoding::Utf8 => f.write_str("vlen string[utf-8]"),
            },
            other => f.write_str(&other.numpy_name()),
        }
    }
}

/// The elements of an [`Array`].
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// Fixed-size elements: little-endian, C order, `dtype.size()` bytes each.
    Bytes(Vec<u8>),
    /// Variable-length strings, one per element (invalid UTF-8 is replaced with U+FFFD).
    Strings(Vec<String>),
}

/// A small n-d array: dtype, shape and the elements in C order.
///
/// A scalar has shape `[]` and one element. Numbers are stored little-endian whatever the file's
/// byte order.
///
/// ```
/// use brine_hdf5::{Array, DType};
/// let a = Array::from_f64(&[1.0, 2.0, 3.0, 4.0]).reshape(&[2, 2])?;
/// assert_eq!(a.dtype(), DType::F64);
/// assert_eq!(a.shape(), &[2, 2]);
/// assert_eq!(a.to_f64()?, vec![1.0, 2.0, 3.0, 4.0]);
/// # Ok::<(), brine_hdf5::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    dtype: DType,
    shape: Vec<usize>,
    data: Data,
}

macro_rules! from_numbers {
    ($($name:ident, $ty:ty, $dtype:expr;)*) => {$(
        #[doc = concat!("A 1-d array of `", stringify!($ty), "` values.")]
        pub fn $name(values: &[$ty]) -> Array {
            let mut bytes = Vec::with_capacity(std::mem::size_of_val(values));
            for v in values {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            Array { dtype: $dtype, shape: vec![values.len()], data: Data::Bytes(bytes) }
        }
    )*};
}

impl Array {
    /// An array from its parts; the data must match the dtype and shape.
    ///
    /// ```
    /// use brine_hdf5::{Array, DType, Data};
    /// let a = Array::new(DType::U8, vec![2, 3], Data::Bytes(vec![0; 6]))?;
    /// assert_eq!(a.len(), 6);
    /// assert!(Array::new(DType::U16, vec![2], Data::Bytes(vec![0; 3])).is_err());
    /// # Ok::<(), brine_hdf5::Error>(())
    /// ```
    pub fn new(dtype: DType, shape: Vec<usize>, data: Data) -> Result<Array> {
        let count = element_count(&shape)?;
        match (&data, dtype.size()) {
            (Data::Bytes(bytes), Some(size)) => {
                let want = count
                    .checked_mul(size)
                    .ok_or_else(|| Error::limit("array size overflows"))?;
                if bytes.len() != want {
                    return Err(Error::data(format!(
                        "{} bytes for shape {:?} of {}: expected {}",
                        bytes.len(),
                        shape,
                        dtype,
                        want
                    )));
                }
            }
            (Data::Strings(strings), None) => {
                if strings.len() != count {
                    return Err(Error::data(format!(
                        "{} strings for shape {:?}: expected {}",
                        strings.len(),
                        shape,
                        count
                    )));
                }
            }
            _ => {
                return Err(Error::data(format!(
                    "data kind does not match dtype {dtype}"
                )))
            }
        }
        Ok(Array { dtype, shape, data })
    }

    from_numbers! {
        from_i8, i8, DType::I8;
        from_i16, i16, DType::I16;
        from_i32, i32, DType::I32;
        from_i64, i64, DType::I64;
        from_u8, u8, DType::U8;
        from_u16, u16, DType::U16;
        from_u32, u32, DType::U32;
        from_u64, u64, DType::U64;
        from_f32, f32, DType::F32;
        from_f64, f64, DType::F64;
    }

    /// A 1-d array of booleans.
    pub fn from_bools(values: &[bool]) -> Array {
        let bytes = values.iter().map(|&b| u8::from(b)).collect();
        Array {
            dtype: DType::Bool,
            shape: vec![values.len()],
            data: Data::Bytes(bytes),
        }
    }

    /// A 1-d array of variable-length UTF-8 strings (what h5py writes for a list of `str`).
    ///
    /// ```
    /// use brine_hdf5::Array;
    /// let a = Array::from_strs(&["dense", "out"]);
    /// assert_eq!(a.to_strings()?, vec!["dense", "out"]);
    /// # Ok::<(), brine_hdf5::Error>(())
    /// ```
    pub fn from_strs<S: AsRef<str>>(values: &[S]) -> Array {
        Array {
            dtype: DType::VarString {
                encoding: Encoding::Utf8,
            },
            shape: vec![values.len()],
            data: Data::Strings(values.iter().map(|s| s.as_ref().to_owned()).collect()),
        }
    }

    /// A scalar variable-length UTF-8 string (what h5py writes for `attrs['x'] = 'text'`).
    pub fn scalar_str(value: &str) -> Array {
        Array {
            dtype: DType::VarString {
                encoding: Encoding::Utf8,
            },
            shape: vec![],
            data: Data::Strings(vec![value.to_owned()]),
        }
    }

    /// A 1-d array of fixed-length byte strings, null-padded to the longest (numpy `S`).
    pub fn from_fixed_bytes<B: AsRef<[u8]>>(values: &[B]) -> Array {
        let len = values
            .iter()
            .map(|b| b.as_ref().len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut bytes = vec![0u8; len * values.len()];
        for (slot, v) in bytes.chunks_exact_mut(len).zip(values) {
            slot[..v.as_ref().len()].copy_from_slice(v.as_ref());
        }
        Array {
            dtype: DType::FixedString {
                len,
                encoding: Encoding::Ascii,
            },
            shape: vec![values.len()],
            data: Data::Bytes(bytes),
        }
    }

    /// The same array with another shape holding the same number of elements; `[]` makes a
    /// scalar of a one-element array.
    pub fn reshape(mut self, shape: &[usize]) -> Result<Array> {
        if element_count(shape)? != self.len() {
            return Err(Error::data(format!(
                "cannot reshape {} elements to {:?}",
                self.len(),
                shape
            )));
        }
        self.shape = shape.to_vec();
        Ok(self)
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The extent of each dimension; `[]` for a scalar.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements (1 for a scalar).
    pub fn len(&self) -> usize {
        // `new` checked that the count fits.
        element_count(&self.shape).unwrap_or(0)
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements.
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// The fixed-size elements as little-endian C-order bytes; `None` for variable-length
    /// strings.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.data {
            Data::Bytes(b) => Some(b),
            Data::Strings(_) => None,
        }
    }

    /// The parts: dtype, shape, data.
    pub fn into_parts(self) -> (DType, Vec<usize>, Data) {
        (self.dtype, self.shape, self.data)
    }

    /// Every numeric or bool element converted to `f64` (complex numbers: not supported).
    ///
    /// ```
    /// use brine_hdf5::Array;
    /// assert_eq!(Array::from_i16(&[-2, 7]).to_f64()?, vec![-2.0, 7.0]);
    /// # Ok::<(), brine_hdf5::Error>(())
    /// ```
    pub fn to_f64(&self) -> Result<Vec<f64>> {
        let bytes = self
            .bytes()
            .ok_or_else(|| Error::data("strings are not numbers"))?;
        let size = self.dtype.size().unwrap_or(1).max(1);
        let conv: fn(&[u8]) -> f64 = match self.dtype {
            DType::Bool | DType::U8 => |b| f64::from(b[0]),
            DType::I8 => |b| f64::from(b[0] as i8),
            DType::I16 => |b| f64::from(i16::from_le_bytes([b[0], b[1]])),
            DType::U16 => |b| f64::from(u16::from_le_bytes([b[0], b[1]])),
            DType::I32 => |b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            DType::U32 => |b| f64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            DType::I64 => |b| i64::from_le_bytes(le8(b)) as f64,
            DType::U64 => |b| u64::from_le_bytes(le8(b)) as f64,
            DType::F16 => |b| f16_to_f64(u16::from_le_bytes([b[0], b[1]])),
            DType::F32 => |b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            DType::F64 => |b| f64::from_le_bytes(le8(b)),
            other => return Err(Error::data(format!("{other} is not a real number type"))),
        };
        Ok(bytes.chunks_exact(size).map(conv).collect())
    }

    /// Every integer or bool element as `i64` (`u64` values above `i64::MAX` fail).
    pub fn to_i64(&self) -> Result<Vec<i64>> {
        let bytes = self
            .bytes()
            .ok_or_else(|| Error::data("strings are not numbers"))?;
        let size = self.dtype.size().unwrap_or(1).max(1);
        let mut out = Vec::with_capacity(self.len());
        for b in bytes.chunks_exact(size) {
            out.push(match self.dtype {
                DType::Bool | DType::U8 => i64::from(b[0]),
                DType::I8 => i64::from(b[0] as i8),
                DType::I16 => i64::from(i16::from_le_bytes([b[0], b[1]])),
                DType::U16 => i64::from(u16::from_le_bytes([b[0], b[1]])),
                DType::I32 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                DType::U32 => i64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                DType::I64 => i64::from_le_bytes(le8(b)),
                DType::U64 => i64::try_from(u64::from_le_bytes(le8(b)))
                    .map_err(|_| Error::data("uint64 value does not fit in int64"))?,
                other => return Err(Error::data(format!("{other} is not an integer type"))),
            });
        }
        Ok(out)
    }

    /// Every string element: variable-length strings as they are, fixed-length ones without
    /// their padding (decoded as UTF-8, invalid bytes replaced).
    pub fn to_strings(&self) -> Result<Vec<String>> {
        match (&self.data, self.dtype) {
            (Data::Strings(s), _) => Ok(s.clone()),
            (Data::Bytes(b), DType::FixedString { len, .. }) => Ok(b
                .chunks(len.max(1))
                .map(|c| {
                    let end = c.iter().position(|&x| x == 0).unwrap_or(c.len());
                    String::from_utf8_lossy(&c[..end]).into_owned()
                })
                .collect()),
            (_, other) => Err(Error::data(format!("{other} is not a string type"))),
        }
    }
}

fn le8(b: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    a
}

/// IEEE half precision to double, by hand: std has no stable `f16` yet.
pub(crate) fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// The number of elements of a shape, failing on overflow (shapes may come from a file).
/// A zero extent anywhere makes it 0, whatever the other extents (numpy allows `(2**40, 0)`).
pub(crate) fn element_count(shape: &[usize]) -> Result<usize> {
    if shape.contains(&0) {
        return Ok(0);
    }
    shape.iter().try_fold(1usize, |acc, &d| {
        acc.checked_mul(d)
            .ok_or_else(|| Error::limit(format!("shape {shape:?} overflows")))
    })
}
