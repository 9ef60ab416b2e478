//! The rule model: [`RuleMeta`], what every compiled rule has whatever its kind (content,
//! event or correlation), and the content detector file syntax, gitleaks' TOML config schema
//! with logwarden's extensions.
//!
//! The serde structs describe the file as written; [`super::content`] turns them into the
//! compiled, ready-to-run matcher. Unknown keys are collected so that they become warnings,
//! not failures: an existing `gitleaks.toml` loads as-is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::DetectorError;
use crate::severity::{FindingKind, Severity};

/// Where a rule is defined.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    /// The file (a path, or the built-in file's path in the repository).
    pub file: String,
    /// 1-based line of the rule's id (0 when unknown).
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// What every compiled rule has: its id (the alert's `rule_id`), title, severity, the kind of
/// finding it produces, its tags and where it is defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    /// Unique id: a content rule's `id`; a Sigma rule's `name`, else `id`, else `title`.
    pub id: String,
    /// One line for humans: a content rule's `description`, a Sigma rule's `title`.
    pub title: String,
    /// Severity of its alerts.
    pub severity: Severity,
    /// What its alerts are.
    pub kind: FindingKind,
    /// Tags (Sigma `tags`, gitleaks `tags`), e.g. `attack.t1110`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Where it is defined.
    pub location: Location,
}

/// A whole detector TOML file.
#[derive(Debug, Deserialize)]
pub struct RuleFile {
    /// Free-form title (gitleaks).
    #[serde(default)]
    pub title: Option<String>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Compact service entries (`[[service]]`), each compiled into a content rule.
    #[serde(default)]
    pub service: Vec<ServiceSpec>,
    /// A file-wide allowlist (gitleaks v8 `[allowlist]`).
    #[serde(default)]
    pub allowlist: Option<AllowlistSpec>,
    /// File-wide allowlists (gitleaks `[[allowlists]]`).
    #[serde(default)]
    pub allowlists: Vec<AllowlistSpec>,
    /// gitleaks `[extend]`: another config this one builds on.
    #[serde(default)]
    pub extend: Option<ExtendSpec>,
    /// Keys this version does not use (`extend`, ...): warned about.
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// One `[[rules]]` table.
#[derive(Debug, Deserialize)]
pub struct RuleSpec {
    /// Unique rule id, with its position in the file.
    pub id: toml::Spanned<String>,
    /// Human description; becomes the alert title.
    #[serde(default)]
    pub description: Option<String>,
    /// The regex (Rust `regex` syntax, which accepts nearly all of RE2/Go syntax).
    #[serde(default)]
    pub regex: Option<String>,
    /// Which capture group is the secret (default: group 1 if there is one, else the match).
    #[serde(default, rename = "secretGroup")]
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Literals (ASCII case-insensitive) that must occur for the regex to run.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Alert severity (default `high` for secrets, `medium` for PII).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// `secret` (default) or `pii`.
    #[serde(default)]
    pub kind: Option<FindingKind>,
    /// A validator name: `luhn`, `iban`, `ssn`.
    #[serde(default)]
    pub validate: Option<String>,
    /// A cheap gate for keyword-less rules: `digits:N`.
    #[serde(default)]
    pub gate: Option<String>,
    /// Tags (gitleaks `tags`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Log lines that must produce a finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Log lines that must not produce a finding of this rule.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// A rule allowlist (gitleaks v8 `[rules.allowlist]`).
    #[serde(default)]
    pub allowlist: Option<AllowlistSpec>,
    /// Rule allowlists (`[[rules.allowlists]]`).
    #[serde(default)]
    pub allowlists: Vec<AllowlistSpec>,
    /// gitleaks composite rules: other rules that must match too (`[[rules.required]]`).
    #[serde(default)]
    pub required: Vec<RequiredSpec>,
    /// Logwarden: the rule also runs over consecutive events of one log stream joined (a PEM
    /// key logged one line per event).
    #[serde(default)]
    pub multiline: bool,
    /// Logwarden: how `--verify` asks the provider whether a found key works (`aws-key-id`,
    /// `aws-secret`, `github`, `slack`, `stripe`, `openai`; see [`super::content::VerifyWith`]).
    #[serde(default)]
    pub verify: Option<String>,
    /// Keys this version does not use (`path`, `tags`, ...): warned about.
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// An allowlist: a finding is dropped when it matches.
#[derive(Debug, Deserialize, Default)]
pub struct AllowlistSpec {
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// What the regexes test: `secret` (default), `match` or `line`.
    #[serde(default, rename = "regexTarget")]
    pub regex_target: Option<String>,
    /// Regexes; any (or all, with `condition = "AND"`) must match.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Case-insensitive substrings of the secret.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// `OR` (default) or `AND` between the regex and stopword checks.
    #[serde(default)]
    pub condition: Option<String>,
    /// A file-wide allowlist applies only to these rules (gitleaks `targetRules`).
    #[serde(default, rename = "targetRules")]
    pub target_rules: Vec<String>,
    /// Keys this version does not use (`paths`, `commits`): warned about.
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// 1-based line number of byte offset `pos` in `text`.
pub fn line_of(text: &str, pos: usize) -> usize {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..pos.min(text.len())]).count() + 1
}

/// Where a text's lines start, for many [`line_of`] lookups in one text (counting from the
/// start for each rule of a large file was quadratic: a twentieth of a cold start).
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    /// Indexes `text`'s line breaks.
    pub fn new(text: &str) -> LineIndex {
        LineIndex(memchr::memchr_iter(b'\n', text.as_bytes()).collect())
    }

    /// 1-based line number of byte offset `pos`: what [`line_of`] gives.
    pub fn line(&self, pos: usize) -> usize {
        self.0.partition_point(|&nl| nl < pos) + 1
    }
}

/// gitleaks `[extend]`.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct ExtendSpec {
    /// Extend gitleaks' own default config (logwarden's built-in rules stand in for it).
    #[serde(default, rename = "useDefault")]
    pub use_default: bool,
    /// Another config file to load first (relative to this file).
    #[serde(default)]
    pub path: Option<String>,
    /// Rule ids of the extended configs to leave out.
    #[serde(default, rename = "disabledRules")]
    pub disabled_rules: Vec<String>,
    /// Keys this version does not use: warned about.
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// gitleaks `[[rules.required]]`: a rule that must also match for this one to be reported.
#[derive(Debug, Deserialize, Clone)]
pub struct RequiredSpec {
    /// The required rule's id.
    pub id: String,
    /// Within this many lines (a log event is one line: 0 and more mean the same event).
    #[serde(default, rename = "withinLines")]
    pub within_lines: Option<usize>,
    /// Within this many bytes of the match.
    #[serde(default, rename = "withinColumns")]
    pub within_columns: Option<usize>,
}

/// The one resolver of rule ids across every file and rule kind.
#[derive(Debug, Default)]
pub(crate) struct RuleIds {
    /// id → (location, built-in).
    seen: foldhash::HashMap<String, (Location, bool)>,
}

/// What claiming an id gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// A new id.
    New,
    /// A user rule replacing the built-in rule of this id.
    Replaces(String),
    /// A built-in rule whose id a user rule already took (user files load after built-ins,
    /// so this only happens for built-ins loaded later): dropped.
    Shadowed,
}

impl RuleIds {
    /// Claims `meta.id` for a rule; a second user rule with the same id is an error.
    pub(crate) fn claim(
        &mut self,
        meta: &RuleMeta,
        builtin: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Claim, DetectorError> {
        let here = &meta.location;
        match self.seen.get(&meta.id) {
            None => {
                self.seen.insert(meta.id.clone(), (here.clone(), builtin));
                Ok(Claim::New)
            }
            Some((first, true)) if !builtin => {
                warnings.push(format!(
                    "{here}: rule `{}` replaces the built-in rule of the same id ({first})",
                    meta.id
                ));
                self.seen.insert(meta.id.clone(), (here.clone(), false));
                Ok(Claim::Replaces(meta.id.clone()))
            }
            Some((_, false)) if builtin => Ok(Claim::Shadowed),
            Some((first, _)) => Err(DetectorError::DuplicateId {
                path: here.file.clone(),
                line: here.line,
                rule: meta.id.clone(),
                first: first.to_string(),
            }),
        }
    }
}

/// One `[[service]]` table as written (compiled by [`super::service`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// The rule id (lowercase kebab-case).
    pub id: toml::Spanned<String>,
    /// The service's display name.
    pub service: String,
    /// What the value is ("API key", "token" ...).
    pub what: String,
    /// Context words (lowercase ASCII, 3+ characters).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Literal start of the value.
    #[serde(default)]
    pub prefix: Option<String>,
    /// The value's characters: a name or an explicit class.
    #[serde(default)]
    pub charset: Option<String>,
    /// The value's length after the prefix: `40` or `"32..40"`.
    #[serde(default)]
    pub length: Option<toml::Value>,
    /// A whole value regex instead of prefix, charset and length.
    #[serde(default)]
    pub value: Option<String>,
    /// The prefix alone names the service: found without a keyword.
    #[serde(default)]
    pub prefix_unique: bool,
    /// Most bytes between a keyword's end and the value's start.
    #[serde(default)]
    pub near: Option<usize>,
    /// Severity (default high).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Minimum Shannon entropy of the value.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Lines in which the value must be found.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Lines in which nothing may be found.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_agrees_with_line_of_at_every_offset() {
        for text in ["", "\n", "a", "ab\ncd\n\nef", "\n\nx\n", "é\nü\r\nz"] {
            let index = LineIndex::new(text);
            for pos in 0..=text.len() + 2 {
                assert_eq!(index.line(pos), line_of(text, pos), "{text:?} at {pos}");
            }
        }
    }
}
