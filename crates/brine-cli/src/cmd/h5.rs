//! `brine h5`: list HDF5 files, print dataset slices and convert (no libhdf5 needed).

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use brine_hdf5::{display, File, Selection};

use crate::cli::{H5Args, H5Command};

/// Runs `brine h5`.
pub fn run(args: &H5Args) -> Result<ExitCode> {
    match &args.command {
        H5Command::Ls { file } => list(file),
        H5Command::Cat { file, path, slice } => cat(file, path, slice.as_deref()),
        H5Command::Convert(args) if !super::convert_h5::is_hdf5_input(args) => {
            // Whatever the output's extension: this command's other side is HDF5.
            super::convert_h5::write_hdf5(args)?;
            Ok(ExitCode::SUCCESS)
        }
        H5Command::Convert(args) => super::convert::run(args),
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Prints the tree of an HDF5 file (also `brine show FILE.h5`).
pub fn list(path: &Path) -> Result<ExitCode> {
    let file = open(path)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    display::write_tree(&file, &mut out).map_err(io::Error::from)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn cat(path: &Path, dataset: &str, slice: Option<&str>) -> Result<ExitCode> {
    let file = open(path)?;
    let sel: Selection = slice
        .unwrap_or("")
        .parse()
        .with_context(|| format!("bad --slice {:?}", slice.unwrap_or("")))?;
    let array = file
        .read_slice(dataset, &sel)
        .with_context(|| format!("cannot read {dataset} of {}", path.display()))?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    display::write_array(&array, &mut out, usize::MAX)?;
    writeln!(out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
