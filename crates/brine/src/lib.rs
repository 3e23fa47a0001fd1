//! brine: Python's pickle in Rust — complete, safe and fast.

#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod dis;
mod options;
mod pickle;
mod unpickle;
pub mod value;

pub use brine_core as core;
pub use brine_core::{Category, Error, Limits, Result};
pub use options::{
    BufferCallback, DecodeErrors, DumpOptions, LoadOptions, PersistentLoad, StringEncoding,
};
pub use pickle::{dump, dump_with, dumps, dumps_with, Pickler};
pub use unpickle::{load, load_with, loads, loads_with, Unpickler};
