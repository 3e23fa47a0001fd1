//! `brine convert`: every pickle of the input rewritten at another protocol, as typed or plain
//! JSON, or from typed JSON back to a pickle (an HDF5 input read as nested dicts of arrays).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use brine::json::{self, JsonOptions};
use brine::value::{Graph, NodeId};
use brine::{DumpOptions, Limits, LoadOptions, Pickler, StringEncoding, Unpickler};

use crate::cli::{ConvertArgs, Target};
use crate::sanitize;
use brine_formats::Codec;

use crate::io_util::{is_std, read_input_with, write_output};

/// The pickles of an input, whichever format it came in.
struct Pickles {
    graph: Graph,
    roots: Vec<NodeId>,
    shared_memo: bool,
}

/// Runs `brine convert`.
pub fn run(args: &ConvertArgs) -> Result<ExitCode> {
    // HDF5 output, or HDF5 input to an array format.
    if let Some(code) = super::convert_h5::try_run(args)? {
        return Ok(code);
    }
    // ML formats (.pt, .safetensors, .npz, .npy) by content and extension.
    if let Some(code) = super::convert_ml::try_run(args)? {
        return Ok(code);
    }
    let out_codec = output_codec(args)?;
    let target = target(args);
    let limits = if args.trusted {
        Limits::trusted()
    } else {
        Limits::default()
    };
    let input = if super::convert_h5::is_hdf5_input(args) {
        // Nested dicts of numpy arrays, never read whole.
        let (graph, root) = super::convert_h5::read_graph(args)?;
        Pickles {
            graph,
            roots: vec![root],
            shared_memo: false,
        }
    } else {
        read_any(args, &limits)?
    };
    let json_opts = JsonOptions::new()
        .pretty(args.pretty)
        .stream(args.all)
        .shared_memo(input.shared_memo)
        .limits(limits.clone());
    let mut out = match target {
        Target::Pickle => write_pickles(args, &input, limits)?,
        Target::Json => {
            let mut text = json::to_typed_with(&input.graph, &input.roots, &json_opts)
                .context("cannot write typed JSON")?;
            text.push('\n');
            text.into_bytes()
        }
        Target::JsonPlain => {
            let (mut text, report) = json::to_plain_with(&input.graph, &input.roots, &json_opts)
                .context("cannot write plain JSON")?;
            text.push('\n');
            if !report.is_empty() {
                // Data, not an error: the conversion succeeded, with these caveats.
                let mut note = String::from("brine: plain JSON lost:\n");
                for (loss, n) in report.iter() {
                    note.push_str(&format!("  {n} {} [{}]\n", loss.describe(), loss.code()));
                }
                eprint!("{note}");
            }
            text.into_bytes()
        }
    };
    if let Some((codec, level)) = out_codec {
        out = brine_formats::compress(&out, codec, level)
            .with_context(|| format!("cannot compress the output with {codec}"))?;
    }
    write_output(&args.output, &out)?;
    Ok(ExitCode::SUCCESS)
}

fn name(path: &Path) -> String {
    if is_std(path) {
        "<stdin>".to_owned()
    } else {
        sanitize::line(&path.display().to_string()).into_owned()
    }
}

/// `--to`, else by the output's extension once a compression extension is looked through.
fn target(args: &ConvertArgs) -> Target {
    if let Some(t) = args.to {
        return t;
    }
    let mut path = args.output.as_path();
    if Codec::from_extension(path).is_some() {
        path = Path::new(path.file_stem().unwrap_or_default());
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => Target::Json,
        _ => Target::Pickle,
    }
}

/// A pickle or typed JSON input.
fn read_any(args: &ConvertArgs, limits: &Limits) -> Result<Pickles> {
    let data = read_input_with(&args.input, limits)?;
    if json::looks_like_json(&data) {
        read_json(args, &data, limits)
    } else {
        read_pickles(args, &data, limits)
    }
}

fn read_json(args: &ConvertArgs, data: &[u8], limits: &Limits) -> Result<Pickles> {
    let opts = JsonOptions::new().limits(limits.clone());
    let t = json::from_typed_with(data, &opts)
        .with_context(|| format!("cannot read JSON {}", name(&args.input)))?;
    if t.roots.is_empty() {
        anyhow::bail!("JSON {} holds no pickles", name(&args.input));
    }
    Ok(Pickles {
        graph: t.graph,
        roots: t.roots,
        shared_memo: t.shared_memo || args.shared_memo,
    })
}

fn read_pickles(args: &ConvertArgs, data: &[u8], limits: &Limits) -> Result<Pickles> {
    let encoding = match args.encoding.as_str() {
        "latin1" => StringEncoding::Latin1,
        "utf8" => StringEncoding::Utf8,
        "bytes" => StringEncoding::Bytes,
        _ => StringEncoding::Ascii,
    };
    let opts = LoadOptions::new().encoding(encoding).limits(limits.clone());
    let mut unpickler = Unpickler::new(data, opts);
    let mut roots = Vec::new();
    loop {
        if !args.shared_memo {
            unpickler.clear_memo();
        }
        let root = unpickler.load().with_context(|| {
            format!(
                "cannot read pickle #{} of {}",
                roots.len() + 1,
                name(&args.input)
            )
        })?;
        roots.push(root);
        if unpickler.at_end() {
            break;
        }
    }
    Ok(Pickles {
        graph: unpickler.into_graph(),
        roots,
        shared_memo: args.shared_memo,
    })
}

fn write_pickles(args: &ConvertArgs, input: &Pickles, limits: Limits) -> Result<Vec<u8>> {
    let opts = DumpOptions::new().protocol(args.protocol).limits(limits);
    let mut pickler = Pickler::new(Vec::new(), opts);
    for (i, &root) in input.roots.iter().enumerate() {
        if !input.shared_memo {
            pickler.clear_memo();
        }
        pickler.dump(&input.graph, root).with_context(|| {
            format!(
                "cannot write pickle #{} at protocol {}",
                i + 1,
                args.protocol
            )
        })?;
    }
    Ok(pickler.into_inner())
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
