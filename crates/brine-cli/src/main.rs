//! The `brine` command: convert and inspect Python pickles without running them.
//!
//! Exit codes: 0 success, 1 findings (`brine scan`: UNSAFE), 2 error, 3 `brine scan` INCONCLUSIVE.

use std::io;
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;
mod color;
mod io_util;

// One sanitizer for every crate that prints names from a file.
use brine_core::sanitize;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cmd::run(args) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            // Error messages quote names from the input: keep them from steering the terminal.
            eprintln!("brine: {}", sanitize::line(&one_line(&err)));
            ExitCode::from(2)
        }
    }
}

/// A reader that went away (`brine ... | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, `outer: inner`.
fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if parts.last().is_none_or(|p| !p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}
