//! Datasets to and from brine-formats' numpy arrays (the `numpy` feature): every shared dtype
//! both ways, byte orders and layouts, and the refusals (`cargo test -p brine-hdf5 --features
//! numpy`).
#![cfg(feature = "numpy")]

use brine_formats::array::{ByteOrder, DType as NpType, NdArray};
use brine_hdf5::{numpy, Array, Category, DType, Encoding};

#[test]
fn every_numeric_dtype_both_ways() {
    let cases = [
        (DType::Bool, NpType::Bool),
        (DType::I8, NpType::Int(1, ByteOrder::NotApplicable)),
        (DType::U8, NpType::UInt(1, ByteOrder::NotApplicable)),
        (DType::I16, NpType::Int(2, ByteOrder::Little)),
        (DType::U16, NpType::UInt(2, ByteOrder::Little)),
        (DType::I32, NpType::Int(4, ByteOrder::Little)),
        (DType::U32, NpType::UInt(4, ByteOrder::Little)),
        (DType::I64, NpType::Int(8, ByteOrder::Little)),
        (DType::U64, NpType::UInt(8, ByteOrder::Little)),
        (DType::F16, NpType::Float(2, ByteOrder::Little)),
        (DType::F32, NpType::Float(4, ByteOrder::Little)),
        (DType::F64, NpType::Float(8, ByteOrder::Little)),
        (DType::C64, NpType::Complex(8, ByteOrder::Little)),
        (DType::C128, NpType::Complex(16, ByteOrder::Little)),
    ];
    for (h, n) in cases {
        let size = h.size().unwrap();
        let bytes: Vec<u8> = (0..size * 6).map(|i| (i * 7 % 2) as u8).collect();
        let a = Array::new(h, vec![2, 3], brine_hdf5::Data::Bytes(bytes.clone())).unwrap();
        let nd = numpy::to_ndarray(&a).unwrap();
        assert_eq!(
            (&nd.dtype, nd.shape.as_slice()),
            (&n, &[2usize, 3][..]),
            "{h}"
        );
        assert_eq!(&*nd.c_bytes().unwrap(), bytes.as_slice(), "{h}");
        assert_eq!(numpy::from_ndarray(&nd).unwrap(), a, "{h}");
    }
}

#[test]
fn byte_order_and_layout_are_normalised() {
    // Big-endian int32 [[1, 2], [3, 4]] stored in Fortran order.
    let raw: Vec<u8> = [1i32, 3, 2, 4]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let mut nd = NdArray::from_bytes(NpType::Int(4, ByteOrder::Big), vec![2, 2], raw).unwrap();
    nd.strides = vec![1, 2];
    let a = numpy::from_ndarray(&nd).unwrap();
    assert_eq!(a.dtype(), DType::I32);
    assert_eq!(a.to_i64().unwrap(), [1, 2, 3, 4]);
}

#[test]
fn strings_both_ways() {
    let a = Array::from_strs(&["α", "beta", ""]);
    let nd = numpy::to_ndarray(&a).unwrap();
    assert_eq!(nd.dtype, NpType::Unicode(4, ByteOrder::Little));
    assert_eq!(numpy::from_ndarray(&nd).unwrap(), a);
    let fixed = Array::from_fixed_bytes(&[b"ab".as_slice(), b"c"]);
    let nd = numpy::to_ndarray(&fixed).unwrap();
    assert_eq!(nd.dtype, NpType::Bytes(2));
    let back = numpy::from_ndarray(&nd).unwrap();
    assert_eq!(
        back.dtype(),
        DType::FixedString {
            len: 2,
            encoding: Encoding::Ascii
        }
    );
    assert_eq!(back.bytes(), fixed.bytes());
}

#[test]
fn what_has_no_counterpart_is_refused() {
    let bf16 =
        NdArray::from_bytes(NpType::BFloat16(ByteOrder::Little), vec![1], vec![0, 0]).unwrap();
    let e = numpy::from_ndarray(&bf16).unwrap_err();
    assert_eq!(e.classify(), Category::Unsupported);
    assert!(e.message().contains("no HDF5 counterpart"), "{e}");
    let mut masked =
        NdArray::from_bytes(NpType::UInt(1, ByteOrder::NotApplicable), vec![1], vec![1]).unwrap();
    masked.mask = Some(vec![1]);
    assert_eq!(
        numpy::from_ndarray(&masked).unwrap_err().classify(),
        Category::Unsupported
    );
    let nul = Array::from_strs(&["a\0"]);
    assert_eq!(
        numpy::to_ndarray(&nul).unwrap_err().classify(),
        Category::Unsupported
    );
}
