//! `brine convert`: every pickle of the input rewritten at another protocol.

use std::process::ExitCode;

use anyhow::{Context, Result};
use brine::{DumpOptions, Limits, LoadOptions, Pickler, StringEncoding, Unpickler};

use crate::cli::ConvertArgs;
use brine_formats::Codec;

use crate::io_util::{is_std, read_input_with, write_output};

/// Runs `brine convert`.
pub fn run(args: &ConvertArgs) -> Result<ExitCode> {
    // ML formats (.pt, .safetensors, .npz, .npy) by content and extension.
    if let Some(code) = super::convert_ml::try_run(args)? {
        return Ok(code);
    }
    let out_codec = output_codec(args)?;
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
    let data = read_input_with(&args.input, &limits)?;
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
    let mut out = pickler.into_inner();
    if let Some((codec, level)) = out_codec {
        out = brine_formats::compress(&out, codec, level)
            .with_context(|| format!("cannot compress the output with {codec}"))?;
    }
    write_output(&args.output, &out)?;
    Ok(ExitCode::SUCCESS)
}

/// The output's codec and level: `--compress ALGO[:LEVEL]`, else the output file's extension.
fn output_codec(args: &ConvertArgs) -> Result<Option<(Codec, Option<u32>)>> {
    let Some(spec) = &args.compress else {
        if is_std(&args.output) {
            return Ok(None);
        }
        return Ok(Codec::from_extension(&args.output).map(|c| (c, None)));
    };
    let (name, level) = match spec.split_once(':') {
        Some((name, level)) => {
            let level = level
                .parse::<u32>()
                .with_context(|| format!("bad compression level in --compress {spec}"))?;
            (name, Some(level))
        }
        None => (spec.as_str(), None),
    };
    let codec = Codec::from_name(name).with_context(|| {
        format!("unknown compression {name:?} (gzip, zlib, bz2, xz, lzma, zstd or lz4)")
    })?;
    codec.check_level(level)?;
    Ok(Some((codec, level)))
}
