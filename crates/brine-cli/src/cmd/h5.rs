//! `brine h5`: list HDF5 files and print dataset slices (no libhdf5 needed).

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
        H5Command::Convert { input, output } => convert(input, output),
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

/// npz members may be deflated: the same bound as brine's other decompressors.
const MAX_MEMBER_BYTES: u64 = 4 << 30;

fn convert(input: &Path, output: &Path) -> Result<ExitCode> {
    if brine_hdf5::is_hdf5_file(input)
        .with_context(|| format!("cannot read {}", input.display()))?
    {
        let file = open(input)?;
        let zip = brine_hdf5::npz::hdf5_to_npz(&file)
            .with_context(|| format!("cannot convert {}", input.display()))?;
        crate::io_util::write_output(output, &zip)?;
    } else {
        let zip =
            std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
        // Parse first: `File::create` truncates the output at once, as h5py's mode `w` does.
        let arrays = brine_hdf5::npz::read_npz(&zip, MAX_MEMBER_BYTES)
            .with_context(|| format!("cannot convert {}", input.display()))?;
        let mut file =
            File::create(output).with_context(|| format!("cannot write {}", output.display()))?;
        for (name, array) in arrays {
            file.create_dataset(&name, array, brine_hdf5::DatasetOptions::new())
                .with_context(|| format!("cannot convert {name} of {}", input.display()))?;
        }
        file.close()
            .with_context(|| format!("cannot write {}", output.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
