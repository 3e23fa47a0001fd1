//! `brine convert` between ML formats: PyTorch checkpoints, safetensors, `.npz`, `.npy` and
//! pickles holding numpy arrays, chosen by the output's extension and the input's content.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use brine::Limits;
use brine_formats::array::{Data, NdArray};
use brine_formats::detect::{detect, FileKind};
use brine_formats::{npy, npz, numpy, safetensors, torch};

use crate::cli::{ConvertArgs, Target};
use crate::io_util::{is_std, read_input_with};

/// Output formats this module writes, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Out {
    Npy,
    Npz,
    Safetensors,
    Torch,
    Pickle,
}

/// The array format an output path's extension names.
pub(super) fn out_kind(path: &Path) -> Option<Out> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "npy" => Out::Npy,
        "npz" => Out::Npz,
        "safetensors" => Out::Safetensors,
        "pt" | "pth" => Out::Torch,
        _ => return None,
    })
}

/// Runs the conversion when the input is an ML file or the output an ML format; `None` leaves
/// pickle-to-pickle conversion to `convert`.
pub fn try_run(args: &ConvertArgs) -> Result<Option<ExitCode>> {
    // Standard input and JSON output (`--to`, `.json`) stay with the pickle converter.
    let json_out = args.output.to_str().is_some_and(|p| {
        let p = p.to_ascii_lowercase();
        p.ends_with(".json") || p.contains(".json.")
    });
    let to_json = matches!(args.to, Some(Target::Json | Target::JsonPlain));
    if is_std(&args.input) || to_json || json_out {
        return Ok(None);
    }
    let limits = if args.trusted {
        Limits::trusted()
    } else {
        Limits::default()
    };
    let mut f =
        File::open(&args.input).with_context(|| format!("cannot read {}", args.input.display()))?;
    let kind = detect(&mut f)?;
    let ml_in = matches!(
        kind,
        FileKind::Npy
            | FileKind::Npz
            | FileKind::Safetensors
            | FileKind::TorchZip
            | FileKind::TorchLegacy
    );
    let out = match out_kind(&args.output) {
        Some(o) => o,
        None if ml_in => Out::Pickle,
        None => return Ok(None),
    };
    if is_std(&args.output) && out != Out::Pickle {
        bail!("ML formats are written to files, not standard output");
    }
    let input = args.input.display().to_string();
    if matches!(kind, FileKind::TorchZip | FileKind::TorchLegacy) && out == Out::Safetensors {
        // The streaming path: one tensor in memory at a time.
        let ckpt = torch::Checkpoint::from_reader(f, &limits)
            .with_context(|| format!("cannot read checkpoint {input}"))?;
        let report = write_atomic(&args.output, |w| ckpt.to_safetensors(w))
            .with_context(|| format!("cannot convert {input} to safetensors"))?;
        if !report.aliases.is_empty() {
            eprintln!(
                "brine: {} tensors share storage with a kept one and are recorded in __metadata__",
                report.aliases.len()
            );
        }
        return Ok(Some(ExitCode::SUCCESS));
    }
    drop(f);
    let arrays = load_arrays(&args.input, kind, &limits)
        .with_context(|| format!("cannot read arrays from {input}"))?;
    write_arrays(args, out, kind, &arrays, &[])?;
    Ok(Some(ExitCode::SUCCESS))
}

/// Writes a file atomically through a buffer; when `f` fails, nothing is left behind and
/// its error is returned.
fn write_atomic<T>(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<&mut File>) -> brine::Result<T>,
) -> Result<T> {
    let mut outcome = None;
    let written = brine::write_atomic(path, |file| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        match f(&mut w) {
            Ok(v) => {
                outcome = Some(Ok(v));
                w.flush()
            }
            Err(e) => {
                outcome = Some(Err(e));
                // Any error makes write_atomic drop the temporary file.
                Err(std::io::Error::other("conversion failed"))
            }
        }
    });
    match outcome {
        Some(Err(e)) => Err(e.into()),
        Some(Ok(v)) => {
            written.with_context(|| format!("cannot write {}", path.display()))?;
            Ok(v)
        }
        None => Err(written
            .with_context(|| format!("cannot write {}", path.display()))
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("cannot write {}", path.display()))),
    }
}

/// Every array of an ML file or pickle, named, owning its bytes (object arrays left out).
pub fn load_arrays(
    path: &Path,
    kind: FileKind,
    limits: &Limits,
) -> Result<Vec<(String, NdArray<'static>)>> {
    let mut out = Vec::new();
    match kind {
        FileKind::Npy => {
            let data = std::fs::read(path)?;
            let a = npy::read(&data)?;
            out.push(("arr_0".to_owned(), a.array.into_owned()));
        }
        FileKind::Npz => {
            for m in npz::read(File::open(path)?, limits)? {
                out.push((m.name, m.array));
            }
        }
        FileKind::Safetensors => {
            let data = std::fs::read(path)?;
            let (_, arrays) = safetensors::read(&data)?;
            out.extend(arrays.into_iter().map(|(n, a)| (n, a.into_owned())));
        }
        FileKind::TorchZip | FileKind::TorchLegacy => {
            let ckpt = torch::Checkpoint::from_reader(File::open(path)?, limits)?;
            for (name, t) in ckpt.tensors()? {
                out.push((name, ckpt.read(&t)?));
            }
        }
        FileKind::Compressed | FileKind::Pickle => {
            let data = read_input_with(path, limits)?;
            let g = brine_formats::joblib::loads_in(&data, limits, path.parent())?;
            for (name, a) in numpy::arrays(&g)? {
                if matches!(a.data, Data::Objects(_)) {
                    eprintln!("brine: skipping object array {name:?}");
                    continue;
                }
                let name = if name.is_empty() {
                    "arr_0".into()
                } else {
                    name
                };
                out.push((name, a.into_owned()));
            }
        }
    }
    Ok(out)
}

/// Writes named arrays in format `out` (`metadata`: safetensors `__metadata__`).
pub(super) fn write_arrays(
    args: &ConvertArgs,
    out: Out,
    kind: FileKind,
    arrays: &[(String, NdArray<'static>)],
    metadata: &[(String, String)],
) -> Result<()> {
    let named: Vec<(&str, &NdArray<'_>)> = arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    let path = &args.output;
    let write = |f: &mut dyn FnMut(&mut BufWriter<&mut File>) -> brine::Result<()>| -> Result<()> {
        write_atomic(path, |w| f(w))
            .with_context(|| format!("cannot convert to {}", path.display()))
    };
    match out {
        Out::Npy => {
            let [(_, a)] = arrays else {
                bail!(
                    "an .npy file holds one array; the input has {} (use .npz)",
                    arrays.len()
                );
            };
            write(&mut |w| npy::write(w, a, None))
        }
        Out::Npz => write(&mut |w| npz::write(w, &named, false)),
        Out::Safetensors => write(&mut |w| safetensors::write(w, metadata, &named)),
        Out::Torch => {
            // torch.save names the archive folder after the file's stem.
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| !s.is_empty())
                .unwrap_or("archive")
                .to_owned();
            write(&mut |w| torch::write_zip(w, &stem, &named))
        }
        Out::Pickle => {
            let mut g = brine::value::Graph::new();
            let root = if kind == FileKind::Npy && arrays.len() == 1 {
                numpy::to_graph(&mut g, &arrays[0].1, args.protocol)?
            } else {
                let mut items = Vec::new();
                for (n, a) in arrays {
                    let k = g.str(n);
                    let v = numpy::to_graph(&mut g, a, args.protocol)?;
                    items.push((k, v));
                }
                g.dict(items)
            };
            g.set_root(root);
            let data = brine::dumps_with(&g, brine::DumpOptions::new().protocol(args.protocol))?;
            crate::io_util::write_output(path, &data)
        }
    }
}
