//! `brine dis`: the pickletools listing of one or more pickle files.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use brine::dis::{DisOptions, Disassembler};

use crate::cli::DisArgs;
use crate::io_util::{is_std, limits, read_input_with};
use crate::sanitize;

/// Runs `brine dis`.
pub fn run(args: &DisArgs) -> Result<ExitCode> {
    let opts = DisOptions {
        annotate: if args.annotate { 30 } else { 0 },
        indent: args.indent,
        memo: args.memo && args.files.len() > 1,
    };
    // A listing must stay byte-for-byte pickletools' in files and pipes, so only what goes
    // to a terminal is sanitized (control characters and bidi overrides from the pickle).
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) if !is_std(path) => Box::new(io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        _ if io::stdout().is_terminal() => Box::new(TerminalLines::new(io::stdout().lock())),
        _ => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    let mut dis = Disassembler::new(opts);
    for path in &args.files {
        let data = read_input_with(path, &limits(args.trusted))?;
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

/// Writes whole lines, sanitized for a terminal, to `out`.
struct TerminalLines<W: Write> {
    out: W,
    pending: Vec<u8>,
}

impl<W: Write> TerminalLines<W> {
    fn new(out: W) -> Self {
        TerminalLines {
            out,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let line: Vec<u8> = self.pending.drain(..upto).collect();
        let text = String::from_utf8_lossy(&line);
        self.out.write_all(sanitize::text(&text).as_bytes())
    }
}

impl<W: Write> Write for TerminalLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        // Whole lines only, so that a character split across two writes is decoded whole.
        if let Some(nl) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.emit(nl + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let n = self.pending.len();
        self.emit(n)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_lines_escape_across_split_writes() {
        let mut t = TerminalLines::new(Vec::new());
        let text = "    2: c    GLOBAL     'os\u{1b}[2J \u{202e}x'\n    9: .    STOP\n";
        let (a, b) = text.as_bytes().split_at(text.find('\u{202e}').unwrap() + 1);
        t.write_all(a).unwrap();
        t.write_all(b).unwrap();
        t.flush().unwrap();
        assert_eq!(
            String::from_utf8(t.out).unwrap(),
            "    2: c    GLOBAL     'os\\x1b[2J \\u202ex'\n    9: .    STOP\n"
        );
    }
}
