//! Containers around pickles.
//!
//! [`compress`] recognises compressed pickles by their magic bytes (gzip, zlib, bzip2, xz,
//! legacy `.lzma`, zstd and LZ4 frames), decompresses them under the bomb limits of
//! [`Limits`](brine_core::Limits) (`max_decompressed`, `max_ratio`), and compresses output
//! with any of the same codecs.

#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod compress;

pub use compress::{compress, decompress, Codec};
