//! `brine show`: the value of each pickle, as Python's `repr()` prints it.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use brine::show::{repr, ShowOptions};
use brine::{LoadOptions, Unpickler};

use crate::cli::ShowArgs;
use crate::io_util::read_input;

/// Runs `brine show`.
pub fn run(args: &ShowArgs) -> Result<ExitCode> {
    // HDF5 files are listed, not unpickled; they are detected by signature, not read whole.
    if !crate::io_util::is_std(&args.input)
        && brine_hdf5::is_hdf5_file(&args.input).unwrap_or(false)
    {
        return super::h5::list(&args.input);
    }
    let data = read_input(&args.input)?;
    let opts = ShowOptions {
        max_depth: args.depth,
        max_items: args.width,
        ..ShowOptions::default()
    };
    let mut unpickler = Unpickler::new(&data, LoadOptions::new());
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut count = 0usize;
    loop {
        unpickler.clear_memo();
        let root = unpickler.load().with_context(|| {
            format!(
                "cannot read pickle #{} of {}",
                count + 1,
                args.input.display()
            )
        })?;
        writeln!(out, "{}", repr(unpickler.graph(), root, &opts))?;
        count += 1;
        if !args.all || unpickler.at_end() {
            break;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
