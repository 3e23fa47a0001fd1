//! `brine show`: the value of each pickle, as Python's `repr()` prints it, with numpy arrays,
//! pandas objects and joblib dumps shown readably (`brine_formats::show`).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use brine::json::{self, JsonOptions};
use brine::show::ShowOptions;
use brine::{LoadOptions, Unpickler};
use brine_formats::show::repr;

use crate::cli::ShowArgs;
use crate::color;
use crate::io_util::{is_std, limits, read_input_with};
use crate::sanitize;

/// Runs `brine show`.
pub fn run(args: &ShowArgs) -> Result<ExitCode> {
    // HDF5 files are listed, not unpickled; they are detected by signature, not read whole.
    if !crate::io_util::is_std(&args.input)
        && brine_hdf5::is_hdf5_file(&args.input).unwrap_or(false)
    {
        return super::h5::list(&args.input);
    }
    let limits = limits(args.trusted);
    let mut data = read_input_with(&args.input, &limits)?;
    if data.starts_with(b"ZF") {
        // joblib < 0.9.3's own zlib container.
        data = brine_formats::joblib::read_zfile(&data, &limits)
            .with_context(|| format!("cannot read {}", args.input.display()))?;
    }
    let opts = ShowOptions {
        max_depth: args.depth,
        max_items: args.width,
        ..ShowOptions::default()
    };
    let colour = args.color.enabled();
    let mut out = io::BufWriter::new(io::stdout().lock());
    // Python's repr() already escapes what a str holds; names of globals are printed as they
    // are, so whatever could steer a terminal is escaped here, on every output (this text
    // has no byte-exact reference to keep, unlike `dis`).
    let mut print = |line: String| -> io::Result<()> {
        let safe = sanitize::line(&line);
        if colour {
            writeln!(out, "{}", color::highlight(&safe))
        } else {
            writeln!(out, "{safe}")
        }
    };
    let input = || {
        if is_std(&args.input) {
            "<stdin>".to_owned()
        } else {
            sanitize::line(&args.input.display().to_string()).into_owned()
        }
    };
    if json::looks_like_json(&data) {
        let t = json::from_typed_with(&data, &JsonOptions::new())
            .with_context(|| format!("cannot read JSON {}", input()))?;
        if t.roots.is_empty() {
            anyhow::bail!("JSON {} holds no pickles", input());
        }
        let n = if args.all { t.roots.len() } else { 1 };
        for &root in t.roots.iter().take(n) {
            print(repr(&t.graph, root, &opts))?;
        }
    } else {
        // joblib's array wrappers become the arrays they stand for (companion files of old
        // dumps are read next to the input).
        let dir = (!is_std(&args.input))
            .then(|| args.input.parent())
            .flatten();
        let load = brine_formats::joblib::load_options(
            LoadOptions::new().limits(limits.clone()),
            &limits,
            dir,
        );
        let mut unpickler = Unpickler::new(&data, load);
        let mut count = 0usize;
        loop {
            unpickler.clear_memo();
            let root = unpickler
                .load()
                .with_context(|| format!("cannot read pickle #{} of {}", count + 1, input()))?;
            print(repr(unpickler.graph(), root, &opts))?;
            count += 1;
            if !args.all || unpickler.at_end() {
                break;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
