//! Containers around pickles.
//!
//! [`compress`](mod@compress) recognises compressed pickles by their magic bytes (gzip, zlib, bzip2, xz,
//! legacy `.lzma`, zstd and LZ4 frames), decompresses them under the bomb limits of
//! [`Limits`](brine_core::Limits) (`max_decompressed`, `max_ratio`), and compresses output
//! with any of the same codecs.
//!
//! [`array`](mod@array), [`numpy`], [`npy`], [`npz`], [`safetensors`], [`torch`] and
//! [`joblib`] read and write the machine-learning formats around pickles: numpy arrays inside
//! pickles, `.npy` / `.npz`, safetensors, PyTorch checkpoints and joblib dumps, as typed n-d
//! arrays; [`detect`] tells them apart by content; [`show`](mod@show) prints arrays, pandas
//! objects and scikit-learn estimators readably.

#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod array;
pub mod compress;
pub mod detect;
pub mod joblib;
pub mod npy;
pub mod npz;
pub mod numpy;
pub mod safetensors;
pub mod show;
pub mod torch;

pub use compress::{compress, decompress, Codec};
