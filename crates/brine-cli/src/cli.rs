//! Command-line arguments, as clap derives them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Read, write and convert Python pickles — safely: nothing in a file is ever executed.
#[derive(Debug, Parser)]
#[command(name = "brine", version, about, long_about = None)]
#[command(after_help = "Exit codes: 0 success, 1 findings (scan), 2 error.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rewrite a pickle at another protocol, exactly as CPython would write it.
    #[command(after_help = "Examples:\n  \
        brine convert model.pkl model.p2.pkl --protocol 2\n  \
        brine convert - - --protocol 5 < in.pkl > out.pkl\n\n\
        Every pickle in the input is converted, each with a fresh memo as `pickle.load` reads \
        them; --shared-memo keeps one memo across them, for streams written by one Pickler.")]
    Convert(ConvertArgs),
}

/// Arguments of `brine convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Input pickle file, or `-` for standard input.
    pub input: PathBuf,
    /// Output file, or `-` for standard output.
    pub output: PathBuf,
    /// Protocol to write (0–5).
    #[arg(short, long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(0..=5))]
    pub protocol: u8,
    /// Decoding of Python 2 `str` data: ascii, latin1, utf8 or bytes.
    #[arg(long, default_value = "ascii", value_parser = ["ascii", "latin1", "utf8", "bytes"])]
    pub encoding: String,
    /// The input's pickles were written by one `Pickler` and share its memo.
    #[arg(long)]
    pub shared_memo: bool,
    /// Lift the limits meant for untrusted input.
    #[arg(long)]
    pub trusted: bool,
}
