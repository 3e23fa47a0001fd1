//! `brine convert`: every pickle of the input rewritten at another protocol.

use std::process::ExitCode;

use anyhow::{Context, Result};
use brine::{DumpOptions, Limits, LoadOptions, Pickler, StringEncoding, Unpickler};

use crate::cli::ConvertArgs;
use crate::io_util::{read_input, write_output};

/// Runs `brine convert`.
pub fn run(args: &ConvertArgs) -> Result<ExitCode> {
    let data = read_input(&args.input)?;
    let encoding = match args.encoding.as_str() {
        "latin1" => StringEncoding::Latin1,
        "utf8" => StringEncoding::Utf8,
        "bytes" => StringEncoding::Bytes,
        _ => StringEncoding::Ascii,
    };
    let limits = if args.trusted {
        Limits::trusted()
    } else {
        Limits::default()
    };
    let opts = LoadOptions::new().encoding(encoding).limits(limits);
    let mut unpickler = Unpickler::new(&data, opts);
    let mut pickler = Pickler::new(Vec::new(), DumpOptions::new().protocol(args.protocol));
    let mut count = 0usize;
    loop {
        if !args.shared_memo {
            unpickler.clear_memo();
            pickler.clear_memo();
        }
        let root = unpickler.load().with_context(|| {
            format!(
                "cannot read pickle #{} of {}",
                count + 1,
                args.input.display()
            )
        })?;
        pickler.dump(unpickler.graph(), root).with_context(|| {
            format!(
                "cannot write pickle #{} at protocol {}",
                count + 1,
                args.protocol
            )
        })?;
        count += 1;
        if unpickler.at_end() {
            break;
        }
    }
    write_output(&args.output, &pickler.into_inner())?;
    Ok(ExitCode::SUCCESS)
}
