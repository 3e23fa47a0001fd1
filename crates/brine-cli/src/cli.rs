//! Command-line arguments, as clap derives them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::color::ColorChoice;

/// Read, write and convert Python pickles — safely: nothing in a file is ever executed.
#[derive(Debug, Parser)]
#[command(name = "brine", version, about, long_about = None)]
#[command(after_help = "Examples:\n  \
    brine show model.pkl\n  \
    brine dis model.pkl | less\n  \
    brine convert model.pkl model.json          # lossless typed JSON\n  \
    brine convert model.json model.pkl          # and back, byte for byte\n  \
    brine convert model.pkl - --to json-plain   # natural JSON, losses reported on stderr\n  \
    brine scan ~/Downloads/model.pt             # would loading it run code?\n  \
    brine tensors model.pt                      # every tensor: name, dtype, shape\n\n\
    Compressed inputs (gzip, zlib, bz2, xz, lzma, zstd, lz4) are read transparently; `-` means \
    standard input or output everywhere.\n\n\
    Exit codes: 0 success, 1 findings (scan: something UNSAFE), 2 error, 3 scan INCONCLUSIVE \
    (nothing UNSAFE, but not everything provably SAFE).")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rewrite pickles at another protocol, or as JSON and back.
    #[command(after_help = "Examples:\n  \
        brine convert model.pkl model.p2.pkl --protocol 2\n  \
        brine convert - - --protocol 5 < in.pkl > out.pkl\n  \
        brine convert model.pkl model.json --pretty\n  \
        brine convert model.json model.pkl --protocol 2\n  \
        brine convert model.pkl model.txt --to json-plain\n  \
        brine convert stream.pkl - --to json --all\n  \
        brine convert model.pt model.safetensors\n  \
        brine convert arrays.npz arrays.safetensors\n  \
        brine convert weights.pkl weights.h5\n\n\
        ML files (PyTorch checkpoints, safetensors, .npy, .npz) are recognised by content, \
        ML outputs by extension (.safetensors, .npz, .npy).\n\n\
        HDF5 files are recognised by content, HDF5 outputs by extension (.h5, .hdf5, .hdf, \
        .he5). A dict of numpy arrays becomes a group of datasets, nested dicts nested groups, \
        int / float / bool / str / bytes values and numpy scalars attributes of their group; \
        back, HDF5 becomes nested dicts of numpy arrays (scalar attributes as numpy scalars, \
        str or bytes). To and from npz, safetensors, .pt and .npy, datasets are named by their \
        path (`layer/kernel`); safetensors `__metadata__` <-> string attributes of the root. \
        What the output cannot represent fails the conversion, every item named; --lossy \
        leaves those out with a note.\n\n\
        The output format is --to, else the output's extension (`.json` typed JSON, anything \
        else a pickle; a compression extension such as `.json.gz` is looked through). JSON \
        input is recognised by its content (`{` or `[` first).\n\n\
        Typed JSON (`--to json`) keeps everything: converting it back at the original protocol \
        gives the original bytes. Plain JSON (`--to json-plain`) is natural JSON for other \
        tools; what it loses (tuples, sets, non-str keys, shared values, cycles, objects...) is \
        counted on standard error. Plain JSON converts back best-effort: arrays become lists, \
        objects dicts.\n\n\
        Every pickle in the input is converted, each with a fresh memo as `pickle.load` reads \
        them; --shared-memo keeps one memo across them, for streams written by one Pickler. \
        Several pickles become one JSON document `{\"$pickles\": [...]}` (plain: an array); \
        --all writes that form even for one.\n\n\
        Exit codes: 0 success, 2 error.")]
    Convert(ConvertArgs),
    /// Disassemble pickles, exactly as `python3 -m pickletools` prints them.
    #[command(after_help = "Examples:\n  \
        brine dis model.pkl\n  \
        brine dis -a -o model.txt model.pkl\n  \
        brine dis -m first.pkl second.pkl\n\n\
        Output is byte-for-byte what `python3 -m pickletools` prints with the same flags \
        (nothing is loaded or run). With one file only its first pickle is shown, as \
        pickletools does; --all shows every pickle in the file.\n\n\
        On a terminal, control characters and bidi overrides from the file are escaped \
        (`\\x1b`, `\\u202e`); written to a file or pipe the listing stays exactly \
        pickletools'.\n\n\
        Exit codes: 0 success, 2 error.")]
    Dis(DisArgs),
    /// Drop unused memo stores, exactly as `pickletools.optimize` does.
    #[command(after_help = "Examples:\n  \
        brine optimize model.pkl model.opt.pkl\n  \
        brine optimize - - < in.pkl > out.pkl\n\n\
        Output is byte-for-byte what `pickletools.optimize` returns (nothing is loaded or run). \
        Only the first pickle in the input is optimized; anything after its STOP is dropped, as \
        pickletools does.\n\n\
        Exit codes: 0 success, 2 error.")]
    Optimize(OptimizeArgs),
    /// Print the value of a pickle as Python's `repr()` would, without running anything.
    #[command(after_help = "Examples:\n  \
        brine show model.pkl\n  \
        brine show --depth 2 --width 10 model.pkl\n  \
        brine show --all - < stream.pkl\n  \
        brine show model.json --color always | less -R\n\n\
        One line per pickle (only the first unless --all); typed JSON input shows the pickles \
        it holds. Containers deeper than --depth or past --width items print `...`; each line \
        is capped at 1 MiB of text. Control characters and bidi overrides in names are \
        escaped (`\\x1b`, `\\u202e`).\n\n\
        Exit codes: 0 success, 2 error.")]
    Show(ShowArgs),
    /// List every array and tensor of an ML file: name, dtype, shape, bytes, storage, offset.
    #[command(after_help = "Examples:\n  \
        brine tensors model.pt\n  \
        brine tensors --json weights.safetensors\n\n\
        The file type is recognised by content: PyTorch checkpoints (zip or legacy), \
        safetensors, .npy, .npz, joblib dumps and pickles holding numpy arrays. Nothing is \
        loaded or run, and tensor data is not read.")]
    Tensors(TensorsArgs),
    /// Inspect or clear a brine-memo cache directory.
    #[command(after_help = "Examples:\n  \
        brine memo ls ~/.cache/myapp\n  \
        brine memo show ~/.cache/myapp 5e4232db\n  \
        brine memo stats ~/.cache/myapp\n  \
        brine memo clear ~/.cache/myapp --namespace fib\n\n\
        A cache is a directory written by the brine-memo library: DIR/BRINE_MEMO marks it, \
        DIR/NAMESPACE/HASH.pkl are its entries, each a pickle that `brine show` and Python's \
        `pickle.load` read. A directory without the marker is refused.\n\n\
        Exit codes: 0 success, 2 error.")]
    Memo(MemoArgs),
    /// Does loading this file run code? SAFE / UNSAFE / INCONCLUSIVE, explained, without running it.
    #[command(after_help = "Examples:\n  \
        brine scan model.pt\n  \
        brine scan --format json models/\n  \
        brine scan --allow mypkg.Model --policy extra.toml ckpt.bin\n\n\
        Files are recognised by content (pickle, torch zip and legacy, TorchScript, npy/npz, joblib, \
        gzip/zlib/bz2/xz/lzma/zstd/lz4, nested zip); directories are scanned in parallel. Every \
        global not on the allow-list is a finding.\n\n\
        Exit codes: 0 every file SAFE, 1 something UNSAFE, 2 error (a file could not be read), \
        3 INCONCLUSIVE (nothing UNSAFE, but not everything could be proved SAFE).")]
    Scan(ScanArgs),
    /// Inspect HDF5 files (h5py, Keras `.h5`) without libhdf5.
    #[command(after_help = "Examples:\n  \
        brine h5 ls model.h5\n  \
        brine h5 cat data.h5 /group/x --slice '1:3,::2'\n  \
        brine h5 convert arrays.npz arrays.h5\n\n\
        `brine show FILE.h5` lists HDF5 files too (detected by their signature).")]
    H5(H5Args),
}

/// Arguments of `brine memo`.
#[derive(Debug, clap::Args)]
pub struct MemoArgs {
    /// What to do with the cache.
    #[command(subcommand)]
    pub action: MemoAction,
}

/// The `brine memo` actions.
#[derive(Debug, Subcommand)]
pub enum MemoAction {
    /// List entries: namespace, hash, size, age, value type, version and key.
    Ls {
        /// The cache directory.
        dir: PathBuf,
        /// Only this namespace.
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Print entries (those whose hash starts with HASH, or all) with their key and value.
    Show {
        /// The cache directory.
        dir: PathBuf,
        /// Hash prefixes of the entries to show (all when none).
        hash: Vec<String>,
        /// Show containers at most this deep.
        #[arg(long)]
        depth: Option<usize>,
        /// Show at most this many items of each container.
        #[arg(long)]
        width: Option<usize>,
    },
    /// Count entries and bytes, per namespace.
    Stats {
        /// The cache directory.
        dir: PathBuf,
    },
    /// Remove entries (and leftover temporary files).
    Clear {
        /// The cache directory.
        dir: PathBuf,
        /// Only this namespace.
        #[arg(long)]
        namespace: Option<String>,
    },
}

/// Arguments of `brine tensors`.
#[derive(Debug, clap::Args)]
pub struct TensorsArgs {
    /// The file to list.
    pub input: PathBuf,
    /// Print JSON (an array of objects) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Lift the limits meant for untrusted input.
    #[arg(long)]
    pub trusted: bool,
}

/// Arguments of `brine scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "sarif"])]
    pub format: String,
    /// Also allow this global (`module.qualname` or `module.*`); repeatable.
    #[arg(long, value_name = "MODULE.NAME")]
    pub allow: Vec<String>,
    /// Merge this TOML policy file into the built-in policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// List every imported global with its verdict (human format).
    #[arg(long)]
    pub imports: bool,
    /// Colour the human output: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
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
    /// Lift the limits meant for untrusted input (decompressed size and ratio, nodes, depth).
    #[arg(long)]
    pub trusted: bool,
}

/// What `brine convert` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// A pickle at --protocol.
    Pickle,
    /// Typed JSON: lossless, converts back to the same pickle.
    Json,
    /// Plain JSON: natural JSON, losses reported on standard error.
    JsonPlain,
}

/// Arguments of `brine convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Input pickle or typed JSON file, or `-` for standard input.
    pub input: PathBuf,
    /// Output file, or `-` for standard output.
    pub output: PathBuf,
    /// Output format (default: by the output's extension, `.json` for typed JSON, else pickle).
    #[arg(long, value_enum)]
    pub to: Option<Target>,
    /// JSON output: write the `{"$pickles": [...]}` stream form (plain: an array) even for one
    /// pickle.
    #[arg(long)]
    pub all: bool,
    /// JSON output: indent.
    #[arg(long)]
    pub pretty: bool,
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
    /// HDF5 conversions: leave out, with a note, what the output cannot represent (attributes
    /// in npz, lists in HDF5, strings in safetensors) instead of failing.
    #[arg(long)]
    pub lossy: bool,
}

/// Arguments of `brine optimize`.
#[derive(Debug, clap::Args)]
pub struct OptimizeArgs {
    /// Input pickle file, or `-` for standard input.
    pub input: PathBuf,
    /// Output file, or `-` for standard output.
    pub output: PathBuf,
    /// Lift the limits meant for untrusted input (decompressed size and ratio, nodes, depth).
    #[arg(long)]
    pub trusted: bool,
}

/// Arguments of `brine show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Input pickle or typed JSON file, or `-` for standard input.
    pub input: PathBuf,
    /// Colour the output: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Show containers at most this deep; deeper ones print `...`.
    #[arg(long)]
    pub depth: Option<usize>,
    /// Show at most this many items of each container, then `...`.
    #[arg(long)]
    pub width: Option<usize>,
    /// Show every pickle in the file, not only the first.
    #[arg(long)]
    pub all: bool,
    /// Lift the limits meant for untrusted input (decompressed size and ratio, nodes, depth).
    #[arg(long)]
    pub trusted: bool,
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
    /// Convert to or from HDF5: `brine convert`, with HDF5 output for any non-HDF5 input
    /// whatever the output's name (see `brine convert --help`).
    Convert(ConvertArgs),
}
