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
    /// Disassemble pickles, exactly as `python3 -m pickletools` prints them.
    #[command(after_help = "Examples:\n  \
        brine dis model.pkl\n  \
        brine dis -a -o model.txt model.pkl\n  \
        brine dis -m first.pkl second.pkl\n\n\
        Output is byte-for-byte what `python3 -m pickletools` prints with the same flags \
        (nothing is loaded or run). With one file only its first pickle is shown, as \
        pickletools does; --all shows every pickle in the file.")]
    Dis(DisArgs),
    /// Drop unused memo stores, exactly as `pickletools.optimize` does.
    #[command(after_help = "Examples:\n  \
        brine optimize model.pkl model.opt.pkl\n  \
        brine optimize - - < in.pkl > out.pkl\n\n\
        Output is byte-for-byte what `pickletools.optimize` returns (nothing is loaded or run). \
        Only the first pickle in the input is optimized; anything after its STOP is dropped, as \
        pickletools does.")]
    Optimize(OptimizeArgs),
    /// Print the value of a pickle as Python's `repr()` would, without running anything.
    #[command(after_help = "Examples:\n  \
        brine show model.pkl\n  \
        brine show --depth 2 --width 10 model.pkl\n  \
        brine show --all - < stream.pkl\n\n\
        One line per pickle (only the first unless --all). Containers deeper than --depth or \
        past --width items print `...`; each line is capped at 1 MiB of text.")]
    Show(ShowArgs),
    /// Inspect HDF5 files (h5py, Keras `.h5`) without libhdf5.
    #[command(after_help = "Examples:\n  \
        brine h5 ls model.h5\n  \
        brine h5 cat data.h5 /group/x --slice '1:3,::2'\n  \
        brine h5 convert arrays.npz arrays.h5\n\n\
        `brine show FILE.h5` lists HDF5 files too (detected by their signature).")]
    H5(H5Args),
}

/// Arguments of `brine h5`.
#[derive(Debug, clap::Args)]
pub struct H5Args {
    /// What to do with the file.
    #[command(subcommand)]
    pub command: H5Command,
}

/// The subcommands of `brine h5`.
#[derive(Debug, Subcommand)]
pub enum H5Command {
    /// List every group and dataset with shapes, dtypes, storage and attributes.
    Ls {
        /// The HDF5 file.
        file: PathBuf,
    },
    /// Print one dataset, or a slice of it, as nested lists.
    Cat {
        /// The HDF5 file.
        file: PathBuf,
        /// The dataset's path in the file.
        path: String,
        /// numpy-style selection, e.g. `1:3,::2,-1` (only the chunks it touches are read).
        #[arg(long, short, allow_hyphen_values = true)]
        slice: Option<String>,
    },
    /// Convert between HDF5 and numpy `.npz`: datasets <-> arrays, groups <-> `/` in names
    /// (attributes are dropped: npz has none).
    Convert {
        /// Input: an HDF5 file or an `.npz` archive (told apart by their signatures).
        input: PathBuf,
        /// Output: `.npz` from HDF5 input, HDF5 from `.npz` input.
        output: PathBuf,
    },
}

/// Arguments of `brine dis`.
#[derive(Debug, clap::Args)]
pub struct DisArgs {
    /// Pickle files (`-` for standard input).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the listing here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Keep the memo from one file to the next.
    #[arg(short, long)]
    pub memo: bool,
    /// Blanks per MARK level.
    #[arg(short = 'l', long = "indentlevel", default_value_t = 4)]
    pub indent: usize,
    /// Describe each opcode in a column.
    #[arg(short, long)]
    pub annotate: bool,
    /// Printed before each file's listing when there are several; `{name}` is the file name.
    #[arg(short, long, default_value = "==> {name} <==")]
    pub preamble: String,
    /// Show every pickle in a file, not only the first.
    #[arg(long)]
    pub all: bool,
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
    /// Compress the output: gzip, zlib, bz2, xz, lzma, zstd or lz4, optionally `:LEVEL`
    /// (default: by the output file's extension; standard output only with this flag).
    #[arg(long, value_name = "ALGO[:LEVEL]")]
    pub compress: Option<String>,
}

/// Arguments of `brine optimize`.
#[derive(Debug, clap::Args)]
pub struct OptimizeArgs {
    /// Input pickle file, or `-` for standard input.
    pub input: PathBuf,
    /// Output file, or `-` for standard output.
    pub output: PathBuf,
}

/// Arguments of `brine show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Input pickle file, or `-` for standard input.
    pub input: PathBuf,
    /// Show containers at most this deep; deeper ones print `...`.
    #[arg(long)]
    pub depth: Option<usize>,
    /// Show at most this many items of each container, then `...`.
    #[arg(long)]
    pub width: Option<usize>,
    /// Show every pickle in the file, not only the first.
    #[arg(long)]
    pub all: bool,
}
