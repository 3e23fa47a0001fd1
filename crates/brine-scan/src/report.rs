//! Scan results as data: verdicts, findings with their location and explanation, imports.

use serde::Serialize;

/// The answer to "does loading this run code?" for a file or an archive member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// Everything it loads is on the allow-list and structurally sound.
    Safe,
    /// The scan could not decide (parse error, limit, unknown container, zip anomaly…).
    Inconclusive,
    /// Loading it calls or imports something not known to be safe.
    Unsafe,
}

impl Verdict {
    /// `SAFE`, `INCONCLUSIVE` or `UNSAFE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "SAFE",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::Unsafe => "UNSAFE",
        }
    }
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; no effect on the verdict.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Runs code or commands.
    Critical,
}

impl Severity {
    /// Parses `info`, `low`, `medium`, `high`, `critical`.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One thing the scanner found: where, what, and why it matters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable kebab-case rule id, e.g. `unknown-global`.
    pub rule: &'static str,
    /// Severity.
    pub severity: Severity,
    /// The verdict this finding forces at least (`SAFE` for informational ones).
    pub verdict: Verdict,
    /// Archive member path (`archive/data.pkl`), or empty for the file itself.
    pub member: String,
    /// Byte offset in the member's (decompressed) data.
    pub offset: Option<u64>,
    /// The opcode at that offset.
    pub opcode: Option<&'static str>,
    /// The resolved callable or global, symbolic (`os.system`).
    pub callable: Option<String>,
    /// The arguments, as a symbolic Python-like repr.
    pub args: Option<String>,
    /// One line: why this matters.
    pub message: String,
    /// How many more times the same thing occurred in the same member.
    #[serde(skip_serializing_if = "is_zero")]
    pub repeats: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One global a pickle imports, with the policy's verdict on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Import {
    /// Archive member, or empty.
    pub member: String,
    /// `module.qualname` after Python 2 name mapping.
    pub name: String,
    /// `allowed`, `denied` or `unknown`.
    pub status: &'static str,
    /// First offset.
    pub offset: u64,
    /// Times imported.
    pub count: u64,
}

/// A part of the input that was scanned on its own: an archive member, a nested stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Path inside the input (`archive/data.pkl`, `arr_0.npy`, `[gzip]`).
    pub name: String,
    /// What it was recognised as (`pickle`, `npy`, `zip`, `torch-storage`, `skipped`…).
    pub kind: String,
    /// Its verdict.
    pub verdict: Verdict,
}

/// The result of scanning one file or buffer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The file path (or the name given to [`scan_bytes`](crate::scan_bytes)).
    pub path: String,
    /// What the content was recognised as (`pickle`, `torch-zip`, `zip`, `npy`, `gzip+pickle`…).
    pub format: String,
    /// Overall verdict: the worst of the findings'.
    pub verdict: Verdict,
    /// Findings, in scan order.
    pub findings: Vec<Finding>,
    /// Every global imported, with its status.
    pub imports: Vec<Import>,
    /// Members scanned or skipped.
    pub members: Vec<Member>,
    /// Bytes of input examined (pickle streams walked, headers read).
    pub bytes_scanned: u64,
    /// Opcodes walked.
    pub opcodes: u64,
}

impl Report {
    /// The exit code `brine scan` uses for this verdict: 0 SAFE, 1 UNSAFE, 3 INCONCLUSIVE.
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            Verdict::Safe => 0,
            Verdict::Unsafe => 1,
            Verdict::Inconclusive => 3,
        }
    }
}

/// Collects findings and imports while scanning; deduplicates repeats so output stays quiet.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub findings: Vec<Finding>,
    pub imports: Vec<Import>,
    pub members: Vec<Member>,
    pub opcodes: u64,
    pub bytes: u64,
    seen: std::collections::HashMap<(&'static str, String, String), usize>,
    seen_imports: std::collections::HashMap<(String, String), usize>,
}

impl Sink {
    pub fn add(&mut self, f: Finding) {
        let key = (
            f.rule,
            f.member.clone(),
            f.callable.clone().unwrap_or_default(),
        );
        if let Some(&i) = self.seen.get(&key) {
            if self.findings[i].verdict >= f.verdict && f.rule != "dangerous-call" {
                self.findings[i].repeats += 1;
                return;
            }
        }
        self.seen.insert(key, self.findings.len());
        self.findings.push(f);
    }

    pub fn import(&mut self, member: &str, name: &str, status: &'static str, offset: u64) {
        let key = (member.to_string(), name.to_string());
        if let Some(&i) = self.seen_imports.get(&key) {
            self.imports[i].count += 1;
            return;
        }
        self.seen_imports.insert(key, self.imports.len());
        self.imports.push(Import {
            member: member.to_string(),
            name: name.to_string(),
            status,
            offset,
            count: 1,
        });
    }

    /// Worst verdict among findings whose member is `member` or inside it.
    pub fn verdict_of(&self, member: &str, from: usize) -> Verdict {
        self.findings[from..]
            .iter()
            .filter(|f| {
                f.member == member
                    || f.member.starts_with(&format!("{member}/"))
                    || member.is_empty()
            })
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Safe)
    }
}
