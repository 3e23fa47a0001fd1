//! `brine optimize`: `pickletools.optimize` of one pickle file.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::OptimizeArgs;
use crate::io_util::{is_std, limits, read_input_with, write_output};

/// Runs `brine optimize`.
pub fn run(args: &OptimizeArgs) -> Result<ExitCode> {
    let data = read_input_with(&args.input, &limits(args.trusted))?;
    let out = brine::optimize::optimize(&data).with_context(|| {
        if is_std(&args.input) {
            "cannot optimize <stdin>".to_owned()
        } else {
            format!("cannot optimize {}", args.input.display())
        }
    })?;
    write_output(&args.output, &out)?;
    Ok(ExitCode::SUCCESS)
}
