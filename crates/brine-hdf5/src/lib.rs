//! HDF5 files in pure Rust: groups, datasets and attributes, with no system library to install.
//!
//! brine-hdf5 reads and writes the HDF5 files h5py and Keras write, in h5py's spirit: a
//! [`File`] opened in one of h5py's [`Mode`]s (`r`, `r+`, `w`, `w-`, `a`), groups created with
//! their parents from a path, datasets of every numpy numeric dtype, bool and strings (fixed
//! and variable length) with chunking and gzip / shuffle filters, attributes of every such kind
//! on the file, groups and datasets, n-d slices with steps, and a walk over the tree.
//! Datasets and attributes exchange data as an [`Array`]: a [`DType`], a shape and
//! little-endian C-order bytes (or strings).
//!
//! ```
//! use brine_hdf5::{Array, DatasetOptions, File};
//! # let path = std::env::temp_dir().join(format!("brine-hdf5-lib-{}.h5", std::process::id()));
//! let mut f = File::create(&path)?;
//! f.create_dataset("grid", Array::from_i32(&(0..20).collect::<Vec<_>>()).reshape(&[4, 5])?,
//!     DatasetOptions::new().chunks(&[2, 2]).shuffle(true).gzip(6))?;
//! f.set_attr("grid", "units", Array::scalar_str("m"))?;
//! f.close()?;
//!
//! let f = File::open(&path)?;
//! assert_eq!(f.read_slice("grid", &"1:4:2, 3".parse()?)?.to_i64()?, vec![8, 18]);
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), brine_hdf5::Error>(())
//! ```
//!
//! [`keras`] reads Keras `.h5` models (configuration, layers, weights); [`npz`] converts
//! between HDF5 and numpy's `.npz`; with the `numpy` feature, `numpy` converts arrays to and
//! from brine's numpy array type (`brine_formats::array::NdArray`), which `brine convert`
//! uses between HDF5 and pickles, npz and safetensors.
//!
//! # Why these crates
//!
//! The default build needs no libhdf5 and no cmake. `hdf5-metno` binds libhdf5 (the system's
//! 1.10 cannot read `libver='latest'` files; a static build needs a recent cmake). Of the
//! pure-Rust crates, **reading** goes through `hdf5-reader`: fuzzed, it reads every layout
//! h5py and libhdf5 write (v0–v3 superblocks, B-tree v1/v2, fixed and extensible arrays,
//! layout v5), selects n-d hyperslabs with steps while decoding only the chunks they touch,
//! bounds allocations, and reads through `pread` so memory follows the selection, not the
//! file. `hdf5-pure` writes and edits in place, but its attribute API has no bool, float16,
//! complex or n-d attributes, its reads are row ranges, `File::open` loads the whole file, and
//! its 105 000 lines are a large build for a writer; `rust-hdf5` writes string attributes
//! libhdf5 cannot read. So **writing** is this crate's own small encoder (`src/encode.rs`,
//! written from the HDF5 format specification): superblock 2, version-2 object headers with
//! compact links, contiguous or chunked (B-tree v1) layouts, deflate and shuffle, version-3
//! attributes and a global heap for variable-length strings: the subset libhdf5 1.8 and later
//! read everywhere. The tests check its output with h5py.
//!
//! # Untrusted files
//!
//! Reading never panics on malformed input: every size and offset from the file is checked by
//! the reader, shapes are multiplied with overflow checks, and [`OpenOptions`] bounds the
//! bytes one read and one chunk may allocate. The tree walk uses an explicit stack and visits
//! each object once, so neither deep nesting nor link cycles recurse or loop.
//!
//! # Limits of the writer
//!
//! Writable modes hold the tree, data included, in memory and write it on [`File::close`]
//! (streamed from the tree: a 256 MiB dataset peaks at 266 MB); `r+` and `a` load the existing
//! file whole first (and keep chunking, gzip and shuffle, but not other filters, fill values or
//! maximum shapes). Header messages over 64 KiB (a huge attribute) are refused:
//! dense attribute storage is not written. Compound, enum (other than bool), array, reference
//! and opaque datatypes are listed but not read.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod array;
mod checksum;
pub mod display;
mod encode;
mod error;
mod file;
pub mod keras;
pub mod npz;
#[cfg(feature = "numpy")]
pub mod numpy;
mod read;
mod select;
mod tree;

pub use array::{Array, DType, Data, Encoding};
pub use error::{Category, Error, Result};
pub use file::{
    is_hdf5, is_hdf5_file, DatasetInfo, Entry, File, Mode, ObjectKind, OpenOptions, SIGNATURE,
};
pub use read::Filter;
pub use select::{Dim, Resolved, ResolvedDim, Selection};
pub use tree::DatasetOptions;
