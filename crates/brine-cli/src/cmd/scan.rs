//! `brine scan`: does loading this file run code? Verdicts, findings and imports.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use brine_scan::{output, Options, Report, Verdict};

use crate::cli::ScanArgs;

/// Scans every path; exit 1 if anything is UNSAFE, 2 on read errors, 3 if only INCONCLUSIVE.
pub fn run(args: &ScanArgs) -> Result<ExitCode> {
    let mut opts = Options::default();
    if let Some(p) = &args.policy {
        let text = std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?;
        opts.policy
            .merge_toml(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    for a in &args.allow {
        opts.policy.allow(a);
    }
    let files = brine_scan::collect_files(&args.paths);
    // A progress bar for directory scans, on a terminal only (stderr: reports go to stdout).
    let bar = if files.len() > 1 && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "scanning [{bar:40}] {pos}/{len} files ({per_sec}, {eta}) {wide_msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let results = brine_scan::scan_files_with(files, &opts, &|p| {
        bar.set_message(output::sanitize(&p.display().to_string()));
        bar.inc(1);
    });
    bar.finish_and_clear();
    let mut reports: Vec<Report> = Vec::new();
    let mut errors = 0usize;
    for (path, r) in results {
        match r {
            Ok(r) => reports.push(r),
            Err(e) => {
                errors += 1;
                eprintln!(
                    "brine: {}: {e}",
                    output::sanitize(&path.display().to_string())
                );
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format.as_str() {
        "json" => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&output::json(&reports))?
        )?,
        "sarif" => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&output::sarif(&reports))?
        )?,
        _ => {
            let color = args.color.enabled();
            for r in &reports {
                out.write_all(output::human_with(r, args.imports, color).as_bytes())?;
            }
            if reports.len() > 1 {
                let n = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
                writeln!(
                    out,
                    "{} files: {} SAFE, {} UNSAFE, {} INCONCLUSIVE{}",
                    reports.len(),
                    n(Verdict::Safe),
                    n(Verdict::Unsafe),
                    n(Verdict::Inconclusive),
                    if errors > 0 {
                        format!(", {errors} errors")
                    } else {
                        String::new()
                    }
                )?;
            }
        }
    }
    out.flush()?;
    let worst = reports
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(Verdict::Safe);
    Ok(ExitCode::from(if worst == Verdict::Unsafe {
        1
    } else if errors > 0 {
        2
    } else if worst == Verdict::Inconclusive {
        3
    } else {
        0
    }))
}
