//! Typed n-dimensional arrays: element types (numpy and torch dtypes), shape, strides, bytes.
//!
//! An [`NdArray`] is what numpy arrays in pickles, `.npy` files, torch tensors and
//! safetensors entries all become: a [`DType`], a shape, element strides over a byte buffer
//! that may be borrowed from the input (no copy) or owned, and for object arrays the graph
//! nodes of the elements.

use std::borrow::Cow;

use brine::value::NodeId;
use brine::{Error, Result};

/// Byte order of multi-byte elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Little-endian (`<`).
    Little,
    /// Big-endian (`>`).
    Big,
    /// Not applicable: one-byte elements, byte strings, void, object (`|`).
    NotApplicable,
}

impl ByteOrder {
    /// The numpy character: `<`, `>` or `|`.
    pub fn char(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
            ByteOrder::NotApplicable => '|',
        }
    }
}

/// One named field of a structured dtype.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field name.
    pub name: String,
    /// Its type.
    pub dtype: DType,
    /// Its byte offset in the record.
    pub offset: usize,
    /// numpy's optional title.
    pub title: Option<String>,
}

/// The element type of an array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DType {
    /// `bool` (one byte).
    Bool,
    /// Signed integer of this many bytes.
    Int(u8, ByteOrder),
    /// Unsigned integer of this many bytes.
    UInt(u8, ByteOrder),
    /// IEEE float of this many bytes (2, 4, 8; 12 or 16 for numpy's long double).
    Float(u8, ByteOrder),
    /// Complex of this many bytes (two floats).
    Complex(u8, ByteOrder),
    /// bfloat16 (torch, safetensors).
    BFloat16(ByteOrder),
    /// An 8-bit float format (torch, safetensors).
    Float8(Float8),
    /// Fixed-size byte string `S<n>` (n bytes).
    Bytes(usize),
    /// Fixed-size unicode string `U<n>` (n UCS-4 characters, 4n bytes).
    Unicode(usize, ByteOrder),
    /// Raw bytes `V<n>`.
    Void(usize),
    /// Python objects (`O`): the elements are graph nodes.
    Object,
    /// `datetime64[unit]` (8 bytes).
    DateTime(TimeUnit, ByteOrder),
    /// `timedelta64[unit]` (8 bytes).
    TimeDelta(TimeUnit, ByteOrder),
    /// A structured (record) dtype.
    Struct {
        /// Fields in `names` order.
        fields: Vec<Field>,
        /// Bytes per record (with padding).
        itemsize: usize,
        /// True for `np.record` dtypes (record arrays).
        record: bool,
    },
    /// A sub-array dtype: each element is a fixed-shape array of `base`.
    SubArray(Box<DType>, Vec<usize>),
    /// numpy 2's `StringDType` (`T`): variable-width UTF-8 strings. numpy pickles these
    /// arrays as a list of their items, so the elements are graph nodes (a `str`, or the
    /// missing-value object) like those of object arrays.
    VarString {
        /// The dtype's `coerce` flag (non-strings converted on assignment).
        coerce: bool,
        /// Its `na_object`.
        na: StringNa,
    },
}

/// The `na_object` (missing-value sentinel) of a numpy `StringDType`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StringNa {
    /// None set: `StringDType()`.
    Absent,
    /// `None`.
    None,
    /// A float NaN (`np.nan`).
    Nan,
    /// A string sentinel.
    Str(String),
}

/// The 8-bit float formats of torch and safetensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Float8 {
    /// `float8_e4m3fn` / `F8_E4M3`.
    E4M3,
    /// `float8_e5m2` / `F8_E5M2`.
    E5M2,
    /// `float8_e4m3fnuz` / `F8_E4M3FNUZ`.
    E4M3Fnuz,
    /// `float8_e5m2fnuz` / `F8_E5M2FNUZ`.
    E5M2Fnuz,
    /// `float8_e8m0fnu` / `F8_E8M0`.
    E8M0,
}

/// A datetime64 / timedelta64 unit with its multiplier, as in `M8[10ms]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimeUnit {
    /// The unit: `Y M W D h m s ms us ns ps fs as` or `generic`.
    pub unit: String,
    /// The multiplier (1 unless written, like `[10ms]`).
    pub count: u64,
}

impl DType {
    /// Bytes per element.
    ///
    /// ```
    /// use brine_formats::array::{ByteOrder, DType};
    /// assert_eq!(DType::Float(4, ByteOrder::Little).itemsize(), 4);
    /// assert_eq!(DType::Unicode(3, ByteOrder::Little).itemsize(), 12);
    /// ```
    pub fn itemsize(&self) -> usize {
        match self {
            DType::Bool | DType::Float8(_) => 1,
            DType::Int(n, _) | DType::UInt(n, _) | DType::Float(n, _) | DType::Complex(n, _) => {
                *n as usize
            }
            DType::BFloat16(_) => 2,
            DType::Bytes(n) | DType::Void(n) => *n,
            DType::Unicode(n, _) => n.saturating_mul(4),
            DType::Object => 8,
            // numpy's packed string: a pointer and a size, or a short string inline.
            DType::VarString { .. } => 16,
            DType::DateTime(..) | DType::TimeDelta(..) => 8,
            DType::Struct { itemsize, .. } => *itemsize,
            DType::SubArray(base, shape) => shape
                .iter()
                .try_fold(base.itemsize(), |a, &d| a.checked_mul(d))
                .unwrap_or(usize::MAX),
        }
    }

    /// The byte order of the element (of its scalar parts for complex types).
    pub fn byte_order(&self) -> ByteOrder {
        match self {
            DType::Int(n, o) | DType::UInt(n, o) | DType::Float(n, o) | DType::Complex(n, o) => {
                if *n == 1 {
                    ByteOrder::NotApplicable
                } else {
                    *o
                }
            }
            DType::BFloat16(o)
            | DType::Unicode(_, o)
            | DType::DateTime(_, o)
            | DType::TimeDelta(_, o) => *o,
            _ => ByteOrder::NotApplicable,
        }
    }

    /// Size in bytes of the units that byte order applies to (the element, or half of a
    /// complex, four for unicode); `None` when the type has no byte order of its own.
    pub fn swap_unit(&self) -> Option<usize> {
        match self {
            DType::Int(n, _) | DType::UInt(n, _) | DType::Float(n, _) if *n > 1 => {
                Some(*n as usize)
            }
            DType::Complex(n, _) => Some(*n as usize / 2),
            DType::BFloat16(_) => Some(2),
            DType::Unicode(..) => Some(4),
            DType::DateTime(..) | DType::TimeDelta(..) => Some(8),
            _ => None,
        }
    }

    /// True for object dtypes and structured dtypes holding objects: their data is a list of
    /// nodes, not bytes.
    pub fn has_objects(&self) -> bool {
        let mut stack = vec![self];
        while let Some(d) = stack.pop() {
            match d {
                DType::Object | DType::VarString { .. } => return true,
                DType::Struct { fields, .. } => stack.extend(fields.iter().map(|f| &f.dtype)),
                DType::SubArray(b, _) => stack.push(b),
                _ => {}
            }
        }
        false
    }

    /// numpy's `dtype.str` for non-structured types (`<f4`, `|S3`, `<M8[ns]`, `|O`,
    /// `StringDType(na_object=None)`);
    /// `|V<n>` for structured ones (see [`descr`](crate::npy) for their full description).
    ///
    /// ```
    /// use brine_formats::array::{ByteOrder, DType};
    /// assert_eq!(DType::Float(8, ByteOrder::Big).str(), ">f8");
    /// assert_eq!(DType::Bool.str(), "|b1");
    /// ```
    pub fn str(&self) -> String {
        let o = self.byte_order().char();
        match self {
            DType::Bool => "|b1".into(),
            DType::Int(n, _) => format!("{o}i{n}"),
            DType::UInt(n, _) => format!("{o}u{n}"),
            DType::Float(n, _) => format!("{o}f{n}"),
            DType::Complex(n, _) => format!("{o}c{n}"),
            DType::BFloat16(_) => format!("{o}V2"),
            DType::Float8(_) => "|V1".into(),
            DType::Bytes(n) => format!("|S{n}"),
            DType::Unicode(n, _) => format!("{o}U{n}"),
            DType::Void(n) => format!("|V{n}"),
            DType::Object => "|O".into(),
            DType::VarString { coerce, na } => {
                // numpy's own `str` of these dtypes is their repr.
                let mut parts = Vec::new();
                match na {
                    StringNa::Absent => {}
                    StringNa::None => parts.push("na_object=None".to_owned()),
                    StringNa::Nan => parts.push("na_object=nan".to_owned()),
                    StringNa::Str(s) => parts.push(format!(
                        "na_object={}",
                        brine_core::text::repr_str(s.as_bytes())
                    )),
                }
                if !coerce {
                    parts.push("coerce=False".to_owned());
                }
                format!("StringDType({})", parts.join(", "))
            }
            DType::DateTime(u, _) => format!("{o}M8{}", unit_suffix(u)),
            DType::TimeDelta(u, _) => format!("{o}m8{}", unit_suffix(u)),
            DType::Struct { itemsize, .. } => format!("|V{itemsize}"),
            DType::SubArray(..) => format!("|V{}", self.itemsize()),
        }
    }

    /// The torch name of the type (`float32`, `bfloat16`, `float8_e4m3fn`), when torch has one.
    pub fn torch_name(&self) -> Option<&'static str> {
        Some(match self {
            DType::Bool => "bool",
            DType::Int(1, _) => "int8",
            DType::Int(2, _) => "int16",
            DType::Int(4, _) => "int32",
            DType::Int(8, _) => "int64",
            DType::UInt(1, _) => "uint8",
            DType::UInt(2, _) => "uint16",
            DType::UInt(4, _) => "uint32",
            DType::UInt(8, _) => "uint64",
            DType::Float(2, _) => "float16",
            DType::Float(4, _) => "float32",
            DType::Float(8, _) => "float64",
            DType::Complex(4, _) => "complex32",
            DType::Complex(8, _) => "complex64",
            DType::Complex(16, _) => "complex128",
            DType::BFloat16(_) => "bfloat16",
            DType::Float8(Float8::E4M3) => "float8_e4m3fn",
            DType::Float8(Float8::E5M2) => "float8_e5m2",
            DType::Float8(Float8::E4M3Fnuz) => "float8_e4m3fnuz",
            DType::Float8(Float8::E5M2Fnuz) => "float8_e5m2fnuz",
            DType::Float8(Float8::E8M0) => "float8_e8m0fnu",
            _ => return None,
        })
    }

    /// A short display name: the torch name when there is one (and the order is not
    /// big-endian), else numpy's `dtype.str`.
    pub fn name(&self) -> String {
        match self {
            DType::Struct { .. } | DType::SubArray(..) => self.str(),
            _ if self.byte_order() == ByteOrder::Big => self.str(),
            _ => self.torch_name().map_or_else(|| self.str(), str::to_owned),
        }
    }

    /// The same type with little-endian byte order (one-byte and orderless types unchanged).
    pub fn to_little(&self) -> DType {
        let l = ByteOrder::Little;
        match self {
            DType::Int(n, _) => DType::Int(*n, l),
            DType::UInt(n, _) => DType::UInt(*n, l),
            DType::Float(n, _) => DType::Float(*n, l),
            DType::Complex(n, _) => DType::Complex(*n, l),
            DType::BFloat16(_) => DType::BFloat16(l),
            DType::Unicode(n, _) => DType::Unicode(*n, l),
            DType::DateTime(u, _) => DType::DateTime(u.clone(), l),
            DType::TimeDelta(u, _) => DType::TimeDelta(u.clone(), l),
            other => other.clone(),
        }
    }
}

fn unit_suffix(u: &TimeUnit) -> String {
    match (u.unit.as_str(), u.count) {
        ("generic", _) => String::new(),
        (unit, 1) => format!("[{unit}]"),
        (unit, n) => format!("[{n}{unit}]"),
    }
}

/// Number of elements of a shape, `None` on overflow (shapes come from untrusted input).
///
/// ```
/// assert_eq!(brine_formats::array::numel(&[2, 3]), Some(6));
/// assert_eq!(brine_formats::array::numel(&[]), Some(1));
/// assert_eq!(brine_formats::array::numel(&[usize::MAX, 2]), None);
/// ```
pub fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// C-order (row-major) element strides for a shape.
pub fn c_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![0; shape.len()];
    let mut acc = 1usize;
    for i in (0..shape.len()).rev() {
        s[i] = acc;
        acc = acc.saturating_mul(shape[i].max(1));
    }
    s
}

/// Fortran-order (column-major) element strides for a shape.
pub fn f_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![0; shape.len()];
    let mut acc = 1usize;
    for (i, &d) in shape.iter().enumerate() {
        s[i] = acc;
        acc = acc.saturating_mul(d.max(1));
    }
    s
}

/// The elements of an array: raw bytes, or graph nodes for object arrays.
#[derive(Clone, Debug, PartialEq)]
pub enum Data<'a> {
    /// Raw element bytes, borrowed from the input where possible.
    Bytes(Cow<'a, [u8]>),
    /// Object-array elements in logical C order.
    Objects(Vec<NodeId>),
}

/// A typed n-dimensional array: dtype, shape, element strides and offset into its data.
///
/// ```
/// use brine_formats::array::{ByteOrder, DType, NdArray};
/// let bytes: Vec<u8> = (0..6u16).flat_map(|v| v.to_le_bytes()).collect();
/// let a = NdArray::from_bytes(DType::UInt(2, ByteOrder::Little), vec![2, 3], bytes)?;
/// assert_eq!(a.numel(), 6);
/// assert!(a.is_c_contiguous());
/// # Ok::<(), brine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NdArray<'a> {
    /// Element type.
    pub dtype: DType,
    /// Shape (empty for 0-d arrays).
    pub shape: Vec<usize>,
    /// Element strides, one per dimension.
    pub strides: Vec<usize>,
    /// Offset of the first element, in elements.
    pub offset: usize,
    /// The data the strides index.
    pub data: Data<'a>,
    /// The mask of a masked array (one bool byte per element, C order).
    pub mask: Option<Vec<u8>>,
    /// The class when it is not plain `numpy.ndarray` (e.g. `numpy.rec.recarray`).
    pub subclass: Option<String>,
}

impl<'a> NdArray<'a> {
    /// A C-contiguous array over `bytes`, checking that they hold exactly `prod(shape)`
    /// elements.
    pub fn from_bytes(
        dtype: DType,
        shape: Vec<usize>,
        bytes: impl Into<Cow<'a, [u8]>>,
    ) -> Result<Self> {
        let bytes = bytes.into();
        let need = nbytes_of(&dtype, &shape)?;
        if need != bytes.len() {
            return Err(Error::data(format!(
                "array data has {} bytes, shape {:?} of {} needs {need}",
                bytes.len(),
                shape,
                dtype.str()
            )));
        }
        Ok(NdArray {
            strides: c_strides(&shape),
            dtype,
            shape,
            offset: 0,
            data: Data::Bytes(bytes),
            mask: None,
            subclass: None,
        })
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape).unwrap_or(0)
    }

    /// Bytes of the array's elements (numel × itemsize).
    pub fn nbytes(&self) -> usize {
        self.numel().saturating_mul(self.dtype.itemsize())
    }

    /// True when the elements lie in C order from the start of the data.
    pub fn is_c_contiguous(&self) -> bool {
        self.offset == 0 && same_strides(&self.shape, &self.strides, &c_strides(&self.shape))
    }

    /// True when the elements lie in Fortran order from the start of the data.
    pub fn is_f_contiguous(&self) -> bool {
        self.offset == 0 && same_strides(&self.shape, &self.strides, &f_strides(&self.shape))
    }

    /// The raw bytes the strides index (`None` for object arrays).
    pub fn raw(&self) -> Option<&[u8]> {
        match &self.data {
            Data::Bytes(b) => Some(b),
            Data::Objects(_) => None,
        }
    }

    /// The elements' bytes in C order, in the dtype's own byte order: borrowed when the array
    /// is already C-contiguous, gathered otherwise.
    ///
    /// ```
    /// use brine_formats::array::{ByteOrder, DType, NdArray};
    /// let mut a = NdArray::from_bytes(DType::UInt(1, ByteOrder::NotApplicable), vec![2, 2], vec![1, 2, 3, 4])?;
    /// a.strides = vec![1, 2]; // the transpose
    /// assert_eq!(&*a.c_bytes()?, &[1, 3, 2, 4]);
    /// # Ok::<(), brine::Error>(())
    /// ```
    pub fn c_bytes(&self) -> Result<Cow<'_, [u8]>> {
        let raw = self
            .raw()
            .ok_or_else(|| Error::unsupported("object arrays have no bytes"))?;
        let item = self.dtype.itemsize();
        self.check_bounds(raw.len())?;
        if self.is_c_contiguous() {
            let n = self.nbytes();
            return Ok(Cow::Borrowed(&raw[..n]));
        }
        Ok(Cow::Owned(gather(
            raw,
            item,
            &self.shape,
            &self.strides,
            self.offset,
        )))
    }

    /// The elements' bytes in C order and little-endian (what safetensors and the test
    /// fixtures hold).
    pub fn c_bytes_le(&self) -> Result<Cow<'_, [u8]>> {
        let bytes = self.c_bytes()?;
        match (self.dtype.byte_order(), self.dtype.swap_unit()) {
            (ByteOrder::Big, Some(unit)) => {
                let mut v = bytes.into_owned();
                swap_in_place(&mut v, unit);
                Ok(Cow::Owned(v))
            }
            _ => Ok(bytes),
        }
    }

    /// Checks that every element the shape, strides and offset address lies inside `len`
    /// bytes (all three come from untrusted input).
    pub fn check_bounds(&self, len: usize) -> Result<()> {
        let end = extent(
            &self.shape,
            &self.strides,
            self.offset,
            self.dtype.itemsize(),
        )
        .ok_or_else(|| Error::data("array shape and strides overflow"))?;
        if end > len {
            return Err(Error::data(format!(
                "array needs {end} bytes of data but has {len}"
            )));
        }
        Ok(())
    }

    /// The same array with owned data.
    pub fn into_owned(self) -> NdArray<'static> {
        NdArray {
            dtype: self.dtype,
            shape: self.shape,
            strides: self.strides,
            offset: self.offset,
            data: match self.data {
                Data::Bytes(b) => Data::Bytes(Cow::Owned(b.into_owned())),
                Data::Objects(o) => Data::Objects(o),
            },
            mask: self.mask,
            subclass: self.subclass,
        }
    }
}

/// `numel(shape) * itemsize`, or an error on overflow.
pub fn nbytes_of(dtype: &DType, shape: &[usize]) -> Result<usize> {
    numel(shape)
        .and_then(|n| n.checked_mul(dtype.itemsize()))
        .ok_or_else(|| Error::data(format!("array shape {shape:?} overflows")))
}

fn same_strides(shape: &[usize], a: &[usize], b: &[usize]) -> bool {
    // Strides of dimensions of length 1 (or any, in an empty array) do not matter.
    if shape.contains(&0) {
        return a.len() == b.len();
    }
    a.len() == b.len()
        && shape
            .iter()
            .zip(a.iter().zip(b))
            .all(|(&d, (x, y))| d == 1 || x == y)
}

/// One past the last byte addressed, `None` on overflow; 0 for empty arrays.
pub fn extent(shape: &[usize], strides: &[usize], offset: usize, item: usize) -> Option<usize> {
    if shape.len() != strides.len() {
        return None;
    }
    if shape.contains(&0) {
        return Some(0);
    }
    let mut last = offset;
    for (&d, &s) in shape.iter().zip(strides) {
        last = last.checked_add((d - 1).checked_mul(s)?)?;
    }
    last.checked_add(1)?.checked_mul(item)
}

/// Copies strided elements into C order. The caller checked the bounds.
pub fn gather(
    raw: &[u8],
    item: usize,
    shape: &[usize],
    strides: &[usize],
    offset: usize,
) -> Vec<u8> {
    let n = numel(shape).unwrap_or(0);
    let mut out = Vec::with_capacity(n.saturating_mul(item));
    if n == 0 {
        return out;
    }
    let mut idx = vec![0usize; shape.len()];
    // Odometer over the index: no recursion on the number of dimensions.
    loop {
        let e = offset + idx.iter().zip(strides).map(|(i, s)| i * s).sum::<usize>();
        out.extend_from_slice(&raw[e * item..e * item + item]);
        let mut k = shape.len();
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// Reverses the bytes of every `unit`-sized chunk.
pub fn swap_in_place(data: &mut [u8], unit: usize) {
    if unit > 1 {
        for c in data.chunks_exact_mut(unit) {
            c.reverse();
        }
    }
}
