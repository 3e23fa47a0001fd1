//! `brine dis`: the pickletools listing of one or more pickle files.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use brine::dis::{DisOptions, Disassembler};

use crate::cli::DisArgs;
use crate::io_util::{is_std, read_input};

/// Runs `brine dis`.
pub fn run(args: &DisArgs) -> Result<ExitCode> {
    let opts = DisOptions {
        annotate: if args.annotate { 30 } else { 0 },
        indent: args.indent,
        memo: args.memo && args.files.len() > 1,
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) if !is_std(path) => Box::new(io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        _ => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    let mut dis = Disassembler::new(opts);
    for path in &args.files {
        let data = read_input(path)?;
        if args.files.len() > 1 {
            let name = if is_std(path) {
                "<stdin>".to_owned()
            } else {
                path.display().to_string()
            };
            writeln!(out, "{}", args.preamble.replace("{name}", &name))?;
        }
        let result = if args.all {
            dis.dis_all(&data, &mut out)
        } else {
            dis.dis_at(&data, 0, &mut out).map(|_| ())
        };
        if let Err(e) = result {
            out.flush()?;
            return Err(e).with_context(|| format!("cannot disassemble {}", path.display()));
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
