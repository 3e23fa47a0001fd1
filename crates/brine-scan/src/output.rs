//! Report rendering: human text with sanitized names, JSON, and SARIF 2.1.0.

use serde_json::{json, Value};

use crate::report::{Report, Verdict};

/// Escapes control characters, ANSI escapes and bidi overrides so hostile names cannot
/// rewrite the terminal or reorder what the reader sees (brine-core's one-line sanitizer, the
/// one every brine command uses).
///
/// ```
/// assert_eq!(brine_scan::output::sanitize("a\x1b[31mb\u{202e}c\n"), "a\\x1b[31mb\\u202ec\\x0a");
/// ```
pub fn sanitize(s: &str) -> String {
    brine_core::sanitize::line(s).into_owned()
}

/// Human-readable text for one report: a verdict line, one line per finding, and with
/// `show_imports` every imported global with its status.
///
/// ```
/// let r = brine_scan::scan_bytes("x.pkl", b"cos\nsystem\n.", &Default::default());
/// let text = brine_scan::output::human(&r, true);
/// assert!(text.starts_with("x.pkl: UNSAFE"));
/// assert!(text.contains("denied   os.system"));
/// ```
pub fn human(r: &Report, show_imports: bool) -> String {
    human_with(r, show_imports, false)
}

/// [`human`], with ANSI colours on the verdict and severities when `color` is set (for a
/// terminal). Only these fixed codes are added: names from the input are still sanitized.
///
/// ```
/// let r = brine_scan::scan_bytes("x.pkl", b"cos\nsystem\n.", &Default::default());
/// let text = brine_scan::output::human_with(&r, false, true);
/// assert!(text.starts_with("x.pkl: \x1b[1;31mUNSAFE\x1b[0m"));
/// ```
pub fn human_with(r: &Report, show_imports: bool, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let verdict_code = match r.verdict {
        crate::Verdict::Safe => "1;32",
        crate::Verdict::Unsafe => "1;31",
        crate::Verdict::Inconclusive => "1;33",
    };
    let mut s = format!(
        "{}: {} ({})\n",
        sanitize(&r.path),
        paint(verdict_code, r.verdict.as_str()),
        sanitize(&r.format)
    );
    for f in &r.findings {
        if f.severity == crate::Severity::Info {
            continue;
        }
        let mut loc = String::new();
        if !f.member.is_empty() {
            loc.push_str(&format!("{} ", sanitize(&f.member)));
        }
        if let Some(o) = f.offset {
            loc.push_str(&format!("@{o} "));
        }
        if let Some(op) = f.opcode {
            loc.push_str(&format!("{op} "));
        }
        let sev_code = match f.severity {
            crate::Severity::Critical | crate::Severity::High => "31",
            crate::Severity::Medium => "33",
            _ => "36",
        };
        s.push_str(&format!(
            "  [{}] {} {}",
            paint(sev_code, f.severity.as_str()),
            f.rule,
            loc
        ));
        if let Some(c) = &f.callable {
            s.push_str(&sanitize(c));
            if let Some(a) = &f.args {
                s.push_str(&sanitize(a));
            }
            s.push(' ');
        }
        s.push_str(&format!("— {}", sanitize(&f.message)));
        if f.repeats > 0 {
            s.push_str(&format!(" (+{} more)", f.repeats));
        }
        s.push('\n');
    }
    if show_imports && !r.imports.is_empty() {
        s.push_str("  imports:\n");
        for i in &r.imports {
            let m = if i.member.is_empty() {
                String::new()
            } else {
                format!("{} ", sanitize(&i.member))
            };
            s.push_str(&format!("    {:8} {}{}\n", i.status, m, sanitize(&i.name)));
        }
    }
    s
}

/// JSON for a set of reports: `{"tool", "version", "summary", "files": [report…]}`.
///
/// ```
/// let r = brine_scan::scan_bytes("x.pkl", b"K\x01.", &Default::default());
/// let v = brine_scan::output::json(&[r]);
/// assert_eq!(v["summary"]["safe"], 1);
/// assert_eq!(v["files"][0]["verdict"], "SAFE");
/// ```
pub fn json(reports: &[Report]) -> Value {
    let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
    json!({
        "tool": "brine scan",
        "version": env!("CARGO_PKG_VERSION"),
        "summary": {
            "files": reports.len(),
            "safe": count(Verdict::Safe),
            "unsafe": count(Verdict::Unsafe),
            "inconclusive": count(Verdict::Inconclusive),
        },
        "files": reports,
    })
}

/// SARIF 2.1.0: one result per finding; UNSAFE findings are `error`, INCONCLUSIVE ones
/// `warning`.
///
/// ```
/// let r = brine_scan::scan_bytes("x.pkl", b"cos\nsystem\n.", &Default::default());
/// let v = brine_scan::output::sarif(&[r]);
/// assert_eq!(v["runs"][0]["results"][0]["ruleId"], "denied-global");
/// ```
pub fn sarif(reports: &[Report]) -> Value {
    let mut rules: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| f.rule))
        .collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r.findings.iter().map(move |f| {
                let level = match f.verdict {
                    Verdict::Unsafe => "error",
                    Verdict::Inconclusive => "warning",
                    Verdict::Safe => "note",
                };
                let mut text = f.message.clone();
                if let Some(c) = &f.callable {
                    text = format!("{c}{}: {text}", f.args.clone().unwrap_or_default());
                }
                json!({
                    "ruleId": f.rule,
                    "level": level,
                    "message": {"text": text},
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": {"uri": r.path},
                            "region": {"byteOffset": f.offset.unwrap_or(0)}
                        },
                        "logicalLocations": [{"name": f.member, "kind": "member"}]
                    }],
                    "properties": {"severity": f.severity, "verdict": f.verdict, "opcode": f.opcode}
                })
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "brine scan",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| json!({"id": r})).collect::<Vec<_>>()
            }},
            "results": results
        }]
    })
}
