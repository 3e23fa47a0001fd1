//! One module per subcommand; `run` dispatches.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

mod convert;
mod convert_h5;
mod convert_ml;
mod dis;
mod h5;
mod memo;
mod optimize;
mod scan;
mod show;
mod tensors;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Convert(args) => convert::run(&args),
        Command::Dis(args) => dis::run(&args),
        Command::Optimize(args) => optimize::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Tensors(args) => tensors::run(&args),
        Command::Memo(args) => memo::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::H5(args) => h5::run(&args),
    }
}
