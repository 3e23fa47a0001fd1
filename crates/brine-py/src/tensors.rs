//! `brine.tensors`: the arrays of an ML file, found by content (torch zip / legacy, safetensors,
//! .npy, .npz, joblib, plain pickles and HDF5) with brine-formats and brine-hdf5; nothing in the
//! file is run.
//!
//! Arrays stored raw, little-endian and in order in the file (safetensors, .npy, contiguous
//! tensors of uncompressed torch storages) are handed back as a file offset so Python can memory-map them; the others as C-contiguous
//! little-endian bytes. Object arrays (pickled Python objects) are left out: they are not
//! tensors, and building them would mean running the pickle.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

use brine::Limits;
use brine_formats::array::{DType, NdArray};
use brine_formats::detect::{detect, FileKind};
use brine_formats::{npy, npz, numpy, safetensors, torch};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Where one array's bytes are.
pub enum Payload {
    /// At this offset of the file, raw (C order unless `fortran`).
    Offset(u64),
    /// Copied out, C-contiguous little-endian.
    Bytes(Vec<u8>),
}

/// One array: name, numpy `dtype.str`, torch dtype name, shape, Fortran order, payload.
pub struct Item {
    name: String,
    dtype: String,
    torch: Option<&'static str>,
    shape: Vec<usize>,
    fortran: bool,
    payload: Payload,
}

/// One array as handed to Python.
pub type Row<'py> = (
    String,
    String,
    Option<&'static str>,
    Vec<usize>,
    bool,
    Option<u64>,
    Option<Bound<'py, PyBytes>>,
);

impl Item {
    fn copied(name: String, a: &NdArray<'_>) -> brine::Result<Item> {
        let bytes = a.c_bytes_le()?.into_owned();
        Ok(Item {
            name,
            dtype: a.dtype.to_little().str(),
            torch: a.dtype.torch_name(),
            shape: a.shape.clone(),
            fortran: false,
            payload: Payload::Bytes(bytes),
        })
    }

    /// The tuple the Python side turns into an array.
    pub fn into_row(self, py: Python<'_>) -> Row<'_> {
        let (off, data) = match self.payload {
            Payload::Offset(o) => (Some(o), None),
            Payload::Bytes(b) => (None, Some(PyBytes::new(py, &b))),
        };
        (
            self.name,
            self.dtype,
            self.torch,
            self.shape,
            self.fortran,
            off,
            data,
        )
    }
}

fn err(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("cannot read the tensors: {e}"))
}

fn is_raw(d: &DType) -> bool {
    !d.has_objects()
}

/// The arrays of the file at `path`, with the container's name.
pub fn read(path: &Path) -> PyResult<(&'static str, Vec<Item>)> {
    if brine_hdf5::is_hdf5_file(path)? {
        return Ok(("hdf5", hdf5(path)?));
    }
    let limits = Limits::default();
    let mut f = File::open(path)?;
    let kind = detect(&mut f).map_err(err)?;
    let mut out = Vec::new();
    match kind {
        FileKind::TorchZip | FileKind::TorchLegacy => {
            let ckpt = torch::Checkpoint::from_reader(f, &limits).map_err(err)?;
            for (name, t) in ckpt.tensors().map_err(err)? {
                // Storages torch.save wrote uncompressed are used in place, not copied.
                if let Some(offset) = ckpt.file_offset(&t) {
                    let dtype = t.dtype.to_little();
                    out.push(Item {
                        name,
                        dtype: dtype.str(),
                        torch: dtype.torch_name(),
                        shape: t.shape.clone(),
                        fortran: false,
                        payload: Payload::Offset(offset),
                    });
                    continue;
                }
                let a = ckpt.read(&t).map_err(err)?;
                out.push(Item::copied(name, &a).map_err(err)?);
            }
        }
        FileKind::Safetensors => {
            let len = f.metadata()?.len();
            let h = safetensors::read_header(&mut std::io::BufReader::new(f), len).map_err(err)?;
            for e in h.entries {
                let little = e.dtype.to_little() == e.dtype;
                let payload = if little && is_raw(&e.dtype) {
                    Payload::Offset(h.data_start + e.begin)
                } else {
                    return Err(err(format!("{}: unsupported dtype", e.name)));
                };
                out.push(Item {
                    name: e.name,
                    dtype: e.dtype.str(),
                    torch: e.dtype.torch_name(),
                    shape: e.shape,
                    fortran: false,
                    payload,
                });
            }
        }
        FileKind::Npy => {
            // The header is all that is needed: the data is memory-mapped from Python.
            let mut head = Vec::new();
            f.seek(std::io::SeekFrom::Start(0))?;
            (&mut f)
                .take((12 + npy::MAX_HEADER) as u64)
                .read_to_end(&mut head)?;
            let h = npy::read_header(&head).map_err(err)?;
            if is_raw(&h.dtype) {
                out.push(Item {
                    name: "arr_0".into(),
                    dtype: h.dtype.str(),
                    torch: h.dtype.torch_name(),
                    shape: h.shape,
                    fortran: h.fortran_order,
                    payload: Payload::Offset(h.data_offset as u64),
                });
            }
        }
        FileKind::Npz => {
            for m in npz::read(f, &limits).map_err(err)? {
                if is_raw(&m.array.dtype) {
                    out.push(Item::copied(m.name, &m.array).map_err(err)?);
                }
            }
        }
        FileKind::Pickle | FileKind::Compressed => {
            // Old joblib dumps keep arrays in companion files beside the dump: `load` reads them.
            let g = brine_formats::joblib::load(path, &limits).map_err(err)?;
            for (name, a) in numpy::arrays(&g).map_err(err)? {
                if is_raw(&a.dtype) {
                    out.push(Item::copied(name, &a).map_err(err)?);
                }
            }
        }
    }
    Ok((kind.name(), out))
}

/// Every dataset of an HDF5 file, named by its path without the leading `/` (`layer/kernel`),
/// in name order. Datasets of a type numpy arrays do not hold (references, compounds brine does
/// not map) are left out, like object arrays elsewhere.
fn hdf5(path: &Path) -> PyResult<Vec<Item>> {
    let f = brine_hdf5::File::open(path).map_err(err)?;
    let mut out = Vec::new();
    for e in f.walk().map_err(err)? {
        if e.kind != brine_hdf5::ObjectKind::Dataset {
            continue;
        }
        let data = f.read(&e.path).map_err(err)?;
        let Ok(a) = brine_hdf5::numpy::to_ndarray(&data) else {
            continue;
        };
        if is_raw(&a.dtype) {
            let name = e.path.trim_start_matches('/').to_owned();
            out.push(Item::copied(name, &a).map_err(err)?);
        }
    }
    Ok(out)
}
