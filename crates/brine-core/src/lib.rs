//! brine-core: the wire layer of pickle — opcodes, the instruction decoder, the low-level
//! encoder with CPython's framing, resource limits and the error type.
//!
//! Higher layers (the value graph, the unpickling machine, serde, the scanner) build on
//! [`Decoder`] and [`Encoder`]; nothing here ever builds or runs a Python object.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod compat;
mod decode;
mod encode;
mod error;
mod limits;
mod opcode;
mod opcode_table;
mod read;
pub mod sanitize;
pub mod text;

pub use decode::{Arg, Decoder, Instruction};
pub use encode::{minimal_twos_complement_len, Encoder};
pub use error::{Category, Error, ErrorCode, Result};
pub use limits::{LimitKind, Limits};
pub use opcode::{ArgKind, OpInfo, Opcode};
pub use read::{IoRead, Read, Ref, SliceRead};

/// The highest protocol this crate reads and writes.
pub const HIGHEST_PROTOCOL: u8 = 5;
/// The protocol used when none is given: 4, like Python 3.8–3.13.
pub const DEFAULT_PROTOCOL: u8 = 4;
