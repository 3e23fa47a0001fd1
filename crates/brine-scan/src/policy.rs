//! The allow-list policy: which globals load safely by construction, and how bad the others are.

use std::collections::HashMap;

use serde::Deserialize;

use crate::report::Severity;

/// The built-in policy, embedded at build time.
pub const BUILTIN_POLICY: &str = include_str!("policy.toml");

/// What the policy says about one global.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// On the allow-list, with its justification.
    Allowed(String),
    /// On the deny-list: severity and why.
    Denied(Severity, String),
    /// Neither: not known to be safe.
    Unknown,
}

#[derive(Deserialize)]
struct RawPolicy {
    version: Option<String>,
    #[serde(default)]
    allow: HashMap<String, String>,
    #[serde(default)]
    deny: HashMap<String, (String, String)>,
    #[serde(default)]
    containers: RawContainers,
}

#[derive(Deserialize, Default)]
struct RawContainers {
    #[serde(default)]
    dict_like: Vec<String>,
    #[serde(default)]
    list_like: Vec<String>,
    #[serde(default)]
    set_like: Vec<String>,
}

/// A versioned, data-driven allow-list plus a deny-list that only picks severities.
///
/// ```
/// use brine_scan::{Policy, policy::Class};
/// let mut p = Policy::builtin();
/// assert!(matches!(p.classify("collections", "OrderedDict"), Class::Allowed(_)));
/// assert!(matches!(p.classify("os", "system"), Class::Denied(..)));
/// assert_eq!(p.classify("mypkg", "Model"), Class::Unknown);
/// p.allow("mypkg.Model");
/// assert!(matches!(p.classify("mypkg", "Model"), Class::Allowed(_)));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Version string of the policy data.
    pub version: String,
    allow: HashMap<String, String>,
    allow_prefix: Vec<(String, String)>,
    deny: HashMap<String, (Severity, String)>,
    deny_prefix: Vec<(String, Severity, String)>,
    dict_like: Vec<String>,
    list_like: Vec<String>,
    set_like: Vec<String>,
}

impl Policy {
    /// The built-in policy.
    pub fn builtin() -> Policy {
        // Parsed once per process. The embedded file is tested; failing here would be a build
        // defect, so fall back to an empty (deny-everything) policy rather than panicking.
        static BUILTIN: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
        BUILTIN
            .get_or_init(|| Policy::from_toml(BUILTIN_POLICY).unwrap_or_default())
            .clone()
    }

    /// Parses a policy in the built-in TOML format (`version`, `[allow]`, `[deny]`,
    /// `[containers]`).
    pub fn from_toml(text: &str) -> Result<Policy, String> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut p = Policy {
            version: raw.version.unwrap_or_else(|| "unversioned".into()),
            dict_like: raw.containers.dict_like,
            list_like: raw.containers.list_like,
            set_like: raw.containers.set_like,
            ..Policy::default()
        };
        for (k, why) in raw.allow {
            p.add_allow(&k, &why);
        }
        for (k, (sev, why)) in raw.deny {
            let sev =
                Severity::parse(&sev).ok_or_else(|| format!("bad severity {sev:?} for {k}"))?;
            match k.strip_suffix(".*") {
                Some(prefix) => p.deny_prefix.push((prefix.to_string(), sev, why)),
                None => {
                    p.deny.insert(k, (sev, why));
                }
            }
        }
        // Longest prefix first, so `torch.utils.data.*` wins over `torch.*`.
        p.deny_prefix.sort_by_key(|d| std::cmp::Reverse(d.0.len()));
        Ok(p)
    }

    /// Merges another policy file into this one (its entries are added; nothing is removed).
    pub fn merge_toml(&mut self, text: &str) -> Result<(), String> {
        let other = Policy::from_toml(text)?;
        self.allow.extend(other.allow);
        self.allow_prefix.extend(other.allow_prefix);
        self.deny.extend(other.deny);
        self.deny_prefix.extend(other.deny_prefix);
        self.deny_prefix
            .sort_by_key(|d| std::cmp::Reverse(d.0.len()));
        self.dict_like.extend(other.dict_like);
        self.list_like.extend(other.list_like);
        self.set_like.extend(other.set_like);
        self.version = format!("{} + {}", self.version, other.version);
        Ok(())
    }

    /// Allows `module.qualname` (or `module.*`) on top of the policy (`--allow`).
    pub fn allow(&mut self, name: &str) {
        self.add_allow(name, "allowed by the user");
    }

    fn add_allow(&mut self, name: &str, why: &str) {
        match name.strip_suffix(".*") {
            Some(prefix) => self
                .allow_prefix
                .push((prefix.to_string(), why.to_string())),
            None => {
                self.allow.insert(name.to_string(), why.to_string());
            }
        }
    }

    /// Classifies the global `module.qualname`.
    ///
    /// Allowed needs the exact name (or a user/policy prefix). Otherwise the deny-list is
    /// consulted for the full name and for every dotted suffix starting at a qualname segment,
    /// because at protocol 4 `pathlib` + `os.system` resolves through `pathlib.os` to
    /// `os.system`; dunder attributes (`__builtins__`, `__globals__`…) are critical anywhere.
    pub fn classify(&self, module: &str, qualname: &str) -> Class {
        let full = join(module, qualname);
        if let Some(why) = self.allow.get(&full) {
            return Class::Allowed(why.clone());
        }
        for (prefix, why) in &self.allow_prefix {
            if within(&full, prefix) {
                return Class::Allowed(why.clone());
            }
        }
        if let Some(d) = self.deny_of(&full) {
            return Class::Denied(d.0, d.1);
        }
        // Suffixes: `pathlib.os.system` -> `os.system`, `numpy.core.os.system` ...
        let mut rest: &str = &full;
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            if let Some(d) = self.deny_of(rest) {
                return Class::Denied(d.0, format!("{} (reached through {full})", d.1));
            }
        }
        for seg in qualname.split('.') {
            if seg.len() > 4 && seg.starts_with("__") && seg.ends_with("__") {
                return Class::Denied(
                    Severity::Critical,
                    format!(
                        "reaches the dunder attribute {seg}, a way to any builtin or namespace"
                    ),
                );
            }
        }
        Class::Unknown
    }

    fn deny_of(&self, full: &str) -> Option<(Severity, String)> {
        if let Some((s, w)) = self.deny.get(full) {
            return Some((*s, w.clone()));
        }
        for (prefix, s, w) in &self.deny_prefix {
            if within(full, prefix) {
                return Some((*s, w.clone()));
            }
        }
        None
    }

    /// Whether SETITEM(S) may target an instance made by this global.
    pub fn is_dict_like(&self, full: &str) -> bool {
        self.dict_like.iter().any(|n| n == full)
    }

    /// Whether APPEND(S) may target an instance made by this global.
    pub fn is_list_like(&self, full: &str) -> bool {
        self.list_like.iter().any(|n| n == full)
    }

    /// Whether ADDITEMS may target an instance made by this global.
    pub fn is_set_like(&self, full: &str) -> bool {
        self.set_like.iter().any(|n| n == full)
    }
}

fn within(full: &str, prefix: &str) -> bool {
    full == prefix
        || (full.len() > prefix.len()
            && full.starts_with(prefix)
            && full.as_bytes()[prefix.len()] == b'.')
}

/// `module.qualname`, or `module` alone for a module reference.
pub fn join(module: &str, qualname: &str) -> String {
    if qualname.is_empty() {
        module.to_string()
    } else {
        format!("{module}.{qualname}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses() {
        let p = Policy::from_toml(BUILTIN_POLICY).unwrap();
        assert!(p.allow.len() > 100);
        assert!(matches!(
            p.classify("pathlib", "os.system"),
            Class::Denied(Severity::Critical, _)
        ));
        assert!(matches!(
            p.classify("numpy", "__builtins__"),
            Class::Denied(Severity::Critical, _)
        ));
        assert!(matches!(
            p.classify("asyncio.unix_events", "_UnixSubprocessTransport._start"),
            Class::Denied(Severity::Critical, _)
        ));
        assert!(matches!(
            p.classify("torch.utils.data.datapipes.utils.decoder", "basichandlers"),
            Class::Denied(..)
        ));
    }
}
