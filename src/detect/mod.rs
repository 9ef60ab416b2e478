//! Stage 3: detection. A [`DetectorSet`] is compiled once per process from detector files
//! (the built-in ones embedded in the binary, plus any given at run time) and shared by
//! every scan.

mod content;
pub mod events;
pub mod literals;
mod rules;
pub mod validate;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use content::{
    AllowTarget, Allowlist, CompileError, ContentMatch, ContentMatcher, ContentRule, Gate,
    PatternShape, RuleRegex, Scratch, WINDOW_AFTER, WINDOW_BEFORE, compile_regex, digit_runs,
    pattern_shape,
};
use content::{compile_checked, one_line};
use events::{EventDetectors, EventSources};
pub use rules::{AllowlistSpec, RuleFile, RuleSpec};
use validate::Validator;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_detectors.rs"));
}

/// Alert severity, ordered from `Low` to `Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; worth a look.
    Low,
    /// Needs attention.
    Medium,
    /// Act today.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" | "informational" | "info" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected low, medium, high or critical)"
            )),
        }
    }
}

/// What kind of thing a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// A credential or key.
    Secret,
    /// Personal data.
    Pii,
    /// A security event matched by an event rule.
    Event,
    /// A correlation threshold crossed.
    Threshold,
}

impl FindingKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Secret => "secret",
            FindingKind::Pii => "pii",
            FindingKind::Event => "event",
            FindingKind::Threshold => "threshold",
        }
    }
}

/// Why detector files could not be loaded. Every variant names the file, and the rule and
/// line where there is one.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// A detector file or directory could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or not the detector schema.
    #[error("{path}: invalid detector file: {msg}")]
    Syntax {
        /// The file.
        path: String,
        /// What the TOML parser said, with line and column.
        msg: String,
    },
    /// A rule is invalid.
    #[error("{path}:{line}: rule `{rule}`: {msg}")]
    Rule {
        /// The file.
        path: String,
        /// Line of the rule's id.
        line: usize,
        /// The rule id.
        rule: String,
        /// What is wrong.
        msg: String,
    },
    /// Two rules share an id.
    #[error("{path}:{line}: duplicate rule id `{rule}` (first defined at {first})")]
    DuplicateId {
        /// The file of the second definition.
        path: String,
        /// Its line.
        line: usize,
        /// The id.
        rule: String,
        /// `file:line` of the first definition.
        first: String,
    },
    /// A path was given that is not a detector file.
    #[error("{path}: not a detector file (expected .toml, .yml or .yaml)")]
    UnsupportedFile {
        /// The path.
        path: String,
    },
    /// The keyword automaton could not be built.
    #[error("building the keyword automaton: {0}")]
    Build(#[from] CompileError),
}

/// Collects detector sources, then compiles them into a [`DetectorSet`].
#[derive(Debug, Default)]
pub struct DetectorSetBuilder {
    /// (name, text, built-in): built-in regexes are compiled on first use.
    sources: Vec<(String, String, bool)>,
    sigma: Vec<(String, String)>,
    warnings: Vec<String>,
}

impl DetectorSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the built-in detector files embedded in the binary.
    pub fn builtin(mut self) -> Self {
        for (path, text) in builtin::BUILTIN_FILES {
            if is_sigma(Path::new(path)) {
                self.sigma.push(((*path).to_owned(), (*text).to_owned()));
            } else {
                self.sources
                    .push(((*path).to_owned(), (*text).to_owned(), true));
            }
        }
        self
    }

    /// Adds a detector file, or every `.toml` / `.yml` / `.yaml` file under a directory
    /// (recursively, sorted). TOML files hold content rules, YAML files Sigma rules.
    pub fn path(mut self, path: &Path) -> Result<Self, DetectorError> {
        let io = |source| DetectorError::Io {
            path: path.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files).map_err(io)?;
            files.sort();
            for f in files {
                if is_toml(&f) || is_sigma(&f) {
                    let text = std::fs::read_to_string(&f).map_err(|source| DetectorError::Io {
                        path: f.display().to_string(),
                        source,
                    })?;
                    self.push_file(&f, text);
                }
            }
        } else if is_toml(path) || is_sigma(path) {
            let text = std::fs::read_to_string(path).map_err(io)?;
            self.push_file(path, text);
        } else {
            return Err(DetectorError::UnsupportedFile {
                path: path.display().to_string(),
            });
        }
        Ok(self)
    }

    fn push_file(&mut self, path: &Path, text: String) {
        let name = path.display().to_string();
        if is_sigma(path) {
            self.sigma.push((name, text));
        } else {
            self.sources.push((name, text, false));
        }
    }

    /// Adds the text of Sigma YAML rules (one or more documents), under a name used in
    /// messages.
    pub fn sigma_source(mut self, name: &str, text: &str) -> Self {
        self.sigma.push((name.to_owned(), text.to_owned()));
        self
    }

    /// Adds the text of a TOML detector file, under a name used in messages.
    pub fn source(mut self, name: &str, text: &str) -> Self {
        self.sources.push((name.to_owned(), text.to_owned(), false));
        self
    }

    /// Parses and compiles every source. Errors name the file, rule and line.
    pub fn build(mut self) -> Result<DetectorSet, DetectorError> {
        let mut rules = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for (path, text, builtin) in &self.sources {
            let file: RuleFile = toml::from_str(text).map_err(|e| DetectorError::Syntax {
                path: path.clone(),
                msg: one_line(&e.to_string()),
            })?;
            for key in file.extra.keys() {
                self.warnings
                    .push(format!("{path}: ignoring unsupported key `{key}`"));
            }
            let mut file_allow = Vec::new();
            for spec in file.allowlist.iter().chain(&file.allowlists) {
                file_allow.push(compile_allowlist(
                    spec,
                    path,
                    0,
                    "<file allowlist>",
                    *builtin,
                    &mut self.warnings,
                )?);
            }
            for spec in file.rules {
                let line = rules::line_of(text, spec.id.span().start);
                let id = spec.id.get_ref().clone();
                if let Some(first) = seen.get(&id) {
                    return Err(DetectorError::DuplicateId {
                        path: path.clone(),
                        line,
                        rule: id,
                        first: first.clone(),
                    });
                }
                seen.insert(id.clone(), format!("{path}:{line}"));
                if let Some(rule) =
                    compile_rule(spec, path, line, &file_allow, *builtin, &mut self.warnings)?
                {
                    rules.push(rule);
                }
            }
        }
        let mut sigma = EventSources::default();
        for (path, text) in self.sigma {
            sigma.add(path, text);
        }
        let events = if sigma.is_empty() {
            EventDetectors::empty()
        } else {
            sigma.compile(&mut self.warnings, &mut seen)?
        };
        let content = ContentMatcher::with_literals(rules, events.literals())?;
        Ok(DetectorSet {
            content,
            events,
            warnings: self.warnings,
        })
    }
}

fn is_toml(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()) == Some("toml")
}

fn is_sigma(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn compile_allowlist(
    spec: &AllowlistSpec,
    path: &str,
    line: usize,
    rule: &str,
    lazy: bool,
    warnings: &mut Vec<String>,
) -> Result<Allowlist, DetectorError> {
    let err = |msg: String| DetectorError::Rule {
        path: path.to_owned(),
        line,
        rule: rule.to_owned(),
        msg,
    };
    for key in spec.extra.keys() {
        warnings.push(format!(
            "{path}:{line}: rule `{rule}`: ignoring unsupported allowlist key `{key}`"
        ));
    }
    let target = match spec.regex_target.as_deref() {
        None | Some("secret") => AllowTarget::Secret,
        Some("match") => AllowTarget::Match,
        Some("line") => AllowTarget::Line,
        Some(other) => return Err(err(format!("unknown allowlist regexTarget `{other}`"))),
    };
    let and = match spec
        .condition
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("OR") => false,
        Some("AND") => true,
        Some(other) => return Err(err(format!("unknown allowlist condition `{other}`"))),
    };
    let mut regexes = Vec::new();
    for r in &spec.regexes {
        regexes.push(if lazy {
            RuleRegex::lazy(r)
        } else {
            RuleRegex::compiled(
                r,
                compile_regex(r).map_err(|e| err(format!("allowlist {e}")))?,
            )
        });
    }
    Ok(Allowlist {
        target,
        regexes,
        stopwords: spec
            .stopwords
            .iter()
            .map(|s| s.to_ascii_lowercase().into_bytes())
            .collect(),
        and,
    })
}

fn compile_rule(
    spec: RuleSpec,
    path: &str,
    line: usize,
    file_allow: &[Allowlist],
    lazy: bool,
    warnings: &mut Vec<String>,
) -> Result<Option<ContentRule>, DetectorError> {
    let id = spec.id.get_ref().clone();
    let err = |msg: String| DetectorError::Rule {
        path: path.to_owned(),
        line,
        rule: id.clone(),
        msg,
    };
    for key in spec.extra.keys() {
        warnings.push(format!(
            "{path}:{line}: rule `{id}`: ignoring unsupported key `{key}`"
        ));
    }
    let Some(pattern) = spec.regex.as_deref() else {
        warnings.push(format!(
            "{path}:{line}: rule `{id}` has no regex (path-only rules do not apply to logs): skipped"
        ));
        return Ok(None);
    };
    // Built-in rules (checked in CI) are neither parsed nor compiled here: a cold start pays
    // only for the rules its logs need. User rules are, so their errors show at once.
    let (regex, max_len) = if lazy {
        (RuleRegex::lazy(pattern), None)
    } else {
        let (regex, shape) = compile_checked(pattern, spec.secret_group).map_err(err)?;
        (RuleRegex::compiled(pattern, regex), Some(shape.max_len))
    };
    let validator = match spec.validate.as_deref() {
        None => None,
        Some(v) => Some(Validator::from_name(v).ok_or_else(|| {
            err(format!(
                "unknown validator `{v}` (expected luhn, iban or ssn)"
            ))
        })?),
    };
    let gate = match spec.gate.as_deref() {
        None => None,
        Some(g) => {
            let n = g
                .strip_prefix("digits:")
                .and_then(|n| n.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| err(format!("unknown gate `{g}` (expected digits:N)")))?;
            Some(Gate::Digits(n))
        }
    };
    if spec.keywords.iter().all(|k| k.is_empty()) && gate.is_none() {
        warnings.push(format!(
            "{path}:{line}: rule `{id}` has no keywords and no gate: its regex runs on every line (slow)"
        ));
    }
    if let Some(e) = spec.entropy
        && !(0.0..=8.0).contains(&e)
    {
        return Err(err(format!("entropy {e} is outside 0..=8 bits per byte")));
    }
    let kind = spec.kind.unwrap_or(FindingKind::Secret);
    if !matches!(kind, FindingKind::Secret | FindingKind::Pii) {
        return Err(err(format!(
            "kind `{}` is not a content kind (expected secret or pii)",
            kind.as_str()
        )));
    }
    let severity = spec.severity.unwrap_or(match kind {
        FindingKind::Pii => Severity::Medium,
        _ => Severity::High,
    });
    let mut allowlists = Vec::new();
    for a in spec.allowlist.iter().chain(&spec.allowlists) {
        allowlists.push(compile_allowlist(a, path, line, &id, lazy, warnings)?);
    }
    allowlists.extend(file_allow.iter().cloned());
    Ok(Some(ContentRule::new(
        id.clone(),
        spec.description.unwrap_or_else(|| id.clone()),
        severity,
        kind,
        spec.keywords
            .into_iter()
            .filter(|k| !k.is_empty())
            .collect(),
        gate,
        regex,
        max_len,
        spec.secret_group,
        spec.entropy,
        validator,
        allowlists,
        path.to_owned(),
        line,
        spec.examples,
        spec.negative_examples,
    )))
}

/// The compiled detector set, shared (read-only) by every scan.
#[derive(Debug)]
pub struct DetectorSet {
    content: ContentMatcher,
    events: EventDetectors,
    warnings: Vec<String>,
}

/// One rule's result in [`DetectorSet::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    /// The rule id.
    pub rule: String,
    /// `file:line` of the rule.
    pub location: String,
    /// What failed.
    pub problem: String,
}

/// A rule as listed by `detectors list`.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Secret, pii, event or threshold.
    pub kind: FindingKind,
    /// Severity.
    pub severity: Severity,
    /// Description.
    pub description: String,
    /// Source file.
    pub source: String,
    /// Number of examples.
    pub examples: usize,
    /// Number of negative examples.
    pub negative_examples: usize,
}

impl DetectorSet {
    /// A builder.
    pub fn builder() -> DetectorSetBuilder {
        DetectorSetBuilder::new()
    }

    /// The built-in set alone.
    pub fn builtin() -> Result<Self, DetectorError> {
        Self::builder().builtin().build()
    }

    /// Warnings produced while loading (unsupported keys, skipped rules).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The content matcher.
    pub fn content(&self) -> &ContentMatcher {
        &self.content
    }

    /// The event (Sigma) detectors and correlations.
    pub fn events(&self) -> &EventDetectors {
        &self.events
    }

    /// Scans one line in a single automaton pass: content matches are appended to `out`, and
    /// the result says whether any event rule could match the line (its prefilter literals
    /// occur), so that only such lines are parsed and evaluated.
    pub fn scan(&self, message: &[u8], scratch: &mut Scratch, out: &mut Vec<ContentMatch>) -> bool {
        self.content.scan(message, scratch, out);
        self.events.candidate(scratch.literal_hits())
    }

    /// Every rule, for listing.
    pub fn rules(&self) -> Vec<RuleInfo> {
        let content = self.content.rules().iter().map(|r| RuleInfo {
            id: r.id.clone(),
            kind: r.kind,
            severity: r.severity,
            description: r.description.clone(),
            source: r.source.clone(),
            examples: r.examples.len(),
            negative_examples: r.negative_examples.len(),
        });
        let events = self.events.rules().iter().map(|r| RuleInfo {
            id: r.name.clone(),
            kind: FindingKind::Event,
            severity: r.severity,
            description: r.title.clone(),
            source: r.source.clone(),
            examples: r.examples.len(),
            negative_examples: r.negative_examples.len(),
        });
        let correlations = self.events.correlations().iter().map(|c| RuleInfo {
            id: c.name.clone(),
            kind: FindingKind::Threshold,
            severity: c.severity,
            description: c.title.clone(),
            source: c.source.clone(),
            examples: c.tests.iter().filter(|t| t.expect > 0).count(),
            negative_examples: c.tests.iter().filter(|t| t.expect == 0).count(),
        });
        content.chain(events).chain(correlations).collect()
    }

    /// Runs every rule's examples through the whole engine (prefilter, windows, validators,
    /// allowlists): each example must produce a finding of its rule, no negative example may.
    /// A rule without examples or negative examples fails too. (Event and correlation rules
    /// are checked by `crate::check`, which runs them through the pipeline stages.)
    pub fn check_content(&self) -> Vec<CheckFailure> {
        let mut failures = Vec::new();
        let mut scratch = Scratch::default();
        let mut found = Vec::new();
        for (i, rule) in self.content.rules().iter().enumerate() {
            let fail = |problem: String| CheckFailure {
                rule: rule.id.clone(),
                location: format!("{}:{}", rule.source, rule.line),
                problem,
            };
            failures.extend(rule.regex_problems().into_iter().map(fail));
            if rule.examples.is_empty() {
                failures.push(fail("has no examples".into()));
            }
            if rule.negative_examples.is_empty() {
                failures.push(fail("has no negative_examples".into()));
            }
            for (n, ex) in rule.examples.iter().enumerate() {
                found.clear();
                self.content.scan(ex.as_bytes(), &mut scratch, &mut found);
                if !found.iter().any(|m| m.rule == i) {
                    failures.push(fail(format!("example #{} does not match", n + 1)));
                }
            }
            for (n, ex) in rule.negative_examples.iter().enumerate() {
                found.clear();
                self.content.scan(ex.as_bytes(), &mut scratch, &mut found);
                if found.iter().any(|m| m.rule == i) {
                    failures.push(fail(format!("negative example #{} matches", n + 1)));
                }
            }
        }
        failures
    }
}

/// `len` bytes drawn from `alphabet` by a xorshift generator (deterministic test input).
#[cfg(test)]
pub(crate) fn test_bytes(seed: &mut u64, len: usize, alphabet: &[u8]) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            alphabet[(*seed % alphabet.len() as u64) as usize]
        })
        .collect()
}

// The compiled set is shared by every invocation and thread.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync + std::panic::UnwindSafe>() {}
    assert_send_sync::<DetectorSet>();
};
