//! Loading detector files: collecting sources (built-in, files, directories, suppressions),
//! then compiling them into a [`DetectorSet`] (content rules from TOML, Sigma rules from YAML,
//! gitleaks `[extend]`, `disabledRules` and `[[rules.required]]`).

use std::borrow::Cow;
use std::path::Path;

use super::content::{
    AllowTarget, Allowlist, ContentMatcher, ContentParts, ContentRule, Gate, RuleRegex, VerifyWith,
    compile_checked, compile_regex,
};
use super::error::{DetectorError, one_line};
use super::parallel::map_largest_first;
use super::rules::ServiceSpec;
use super::rules::{AllowlistSpec, Claim, Location, RuleFile, RuleIds, RuleMeta, RuleSpec};
use super::service;
use super::set::DetectorSet;
use super::sigma::{EventDetectors, EventSources, ParsedFile, ParsedSigma};
use super::suppressions::Suppressions;
use super::validate::Validator;
use super::{limits, re2};
use crate::severity::{FindingKind, Severity};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_detectors.rs"));
}

/// The built-in detector files embedded in the binary: (path relative to the repository,
/// contents).
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    builtin::BUILTIN_FILES
}

/// The built-in detector files as a run loads them: [`builtin_files`] with the rules'
/// examples and tests, and the Sigma rules' prose and comments, blanked out at build time
/// (line breaks kept, so every rule keeps its line). A run has no use for them, and they were
/// most of the text to parse.
pub fn builtin_run_files() -> &'static [(&'static str, &'static str)] {
    builtin::BUILTIN_RUN_FILES
}

/// Per file of [`builtin_run_files`], the hash `build.rs` gave its text.
pub fn builtin_run_hashes() -> &'static [u64] {
    builtin::BUILTIN_RUN_HASHES
}

/// One detector file to compile.
#[derive(Debug)]
struct SourceFile {
    name: String,
    text: Cow<'static, str>,
    /// Embedded in the binary (checked in CI): its regexes are compiled on first use.
    builtin: bool,
    /// A built-in file in its run form: the hash `build.rs` gave its text, which finds its
    /// prepared form ahead of time.
    hash: Option<u64>,
}

/// Collects detector sources, then compiles them into a [`DetectorSet`].
#[derive(Debug, Default)]
pub struct DetectorSetBuilder {
    toml: Vec<SourceFile>,
    sigma: Vec<SourceFile>,
    /// `suppressions.toml` files: (name, text).
    suppressions: Vec<(String, String)>,
    warnings: Vec<String>,
}

impl DetectorSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the built-in detector files embedded in the binary, as a run needs them: without
    /// the rules' examples and tests ([`builtin_run_files`]).
    pub fn builtin(mut self) -> Self {
        let hashes = builtin::BUILTIN_RUN_HASHES;
        for ((path, text), hash) in builtin::BUILTIN_RUN_FILES.iter().zip(hashes) {
            self.push(Path::new(path), Cow::Borrowed(*text), true);
            let pushed = self
                .sigma
                .last_mut()
                .filter(|f| f.text.as_ptr() == text.as_ptr());
            pushed.into_iter().for_each(|f| f.hash = Some(*hash));
        }
        self
    }

    /// Adds the built-in detector files with the rules' examples and tests, for `detectors
    /// check` and `detectors list`.
    pub fn builtin_with_examples(mut self) -> Self {
        for (path, text) in builtin::BUILTIN_FILES {
            self.push(Path::new(path), Cow::Borrowed(*text), true);
        }
        self
    }

    /// Adds a detector file, or every `.toml` / `.yml` / `.yaml` file under a directory
    /// (recursively, sorted, through [`crate::fs::walk`]). TOML files hold content rules, YAML
    /// files Sigma rules.
    pub fn path(mut self, path: &Path) -> Result<Self, DetectorError> {
        let io = |path: &Path, source| DetectorError::Io {
            path: path.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        let files = if meta.is_dir() {
            let walk = crate::fs::walk(path);
            for issue in walk.issues {
                match issue {
                    crate::fs::WalkIssue::Unreadable { path, source } => {
                        return Err(io(&path, source));
                    }
                    other => self.warnings.push(other.to_string()),
                }
            }
            walk.files
                .into_iter()
                .filter(|f| is_toml(f) || is_sigma(f))
                .collect()
        } else if is_toml(path) || is_sigma(path) {
            vec![path.to_owned()]
        } else {
            return Err(DetectorError::UnsupportedFile {
                path: path.display().to_string(),
            });
        };
        for f in files {
            let text = read_bounded(&f).map_err(|e| io(&f, e))?;
            self.push(&f, Cow::Owned(text), false);
        }
        Ok(self)
    }

    /// Adds the files and directories `paths` ([`DetectorSetBuilder::path`]) and the
    /// suppressions files `suppressions`.
    pub fn files(
        mut self,
        paths: &[std::path::PathBuf],
        suppressions: &[std::path::PathBuf],
    ) -> Result<Self, DetectorError> {
        for p in paths {
            self = self.path(p)?;
        }
        for p in suppressions {
            self = self.suppressions_file(p)?;
        }
        Ok(self)
    }

    /// Adds a suppressions file (`--suppressions`).
    pub fn suppressions_file(mut self, path: &Path) -> Result<Self, DetectorError> {
        let text = read_bounded(path).map_err(|source| DetectorError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.suppressions.push((path.display().to_string(), text));
        Ok(self)
    }

    fn push(&mut self, path: &Path, text: Cow<'static, str>, builtin: bool) {
        if path.file_name().is_some_and(|n| n == "suppressions.toml") {
            self.suppressions
                .push((path.display().to_string(), text.into_owned()));
            return;
        }
        let file = SourceFile {
            name: path.display().to_string(),
            text,
            builtin,
            hash: None,
        };
        if is_sigma(path) {
            self.sigma.push(file);
        } else {
            self.toml.push(file);
        }
    }

    /// Adds the text of Sigma YAML rules (one or more documents), under a name used in
    /// messages.
    pub fn sigma_source(mut self, name: &str, text: &str) -> Self {
        self.push(
            Path::new(&format!("{name}.yml")),
            Cow::Owned(text.to_owned()),
            false,
        );
        if let Some(last) = self.sigma.last_mut() {
            last.name = name.to_owned();
        }
        self
    }

    /// Adds the text of a TOML detector file, under a name used in messages.
    pub fn source(mut self, name: &str, text: &str) -> Self {
        self.toml.push(SourceFile {
            name: name.to_owned(),
            text: Cow::Owned(text.to_owned()),
            builtin: false,
            hash: None,
        });
        self
    }

    /// Parses and compiles every source. Errors name the file, rule and line. A user rule
    /// whose id is a built-in rule's id replaces the built-in rule (with a warning); two user
    /// rules with one id are an error.
    pub fn build(self) -> Result<DetectorSet, DetectorError> {
        self.build_then(&mut || {})
    }

    /// [`DetectorSetBuilder::build`], calling `parsed` once the files are parsed: the rest of
    /// the build runs on the calling thread alone, and a replay starts decoding its input then.
    pub fn build_then(mut self, parsed: &mut dyn FnMut()) -> Result<DetectorSet, DetectorError> {
        let mut sigma = EventSources::default();
        for file in std::mem::take(&mut self.sigma) {
            sigma.add(file.name, file.text, file.builtin, file.hash);
        }
        let toml = std::mem::take(&mut self.toml);
        let (compiled, parsed_sigma) = compile_and_parse(&toml, &sigma);
        parsed();
        let parsed = parsed_sigma;
        let (mut ids, rules) = self.link_content(toml, compiled)?;
        let events = if sigma.is_empty() {
            EventDetectors::empty()
        } else {
            sigma.compile(parsed, &mut self.warnings, &mut ids)?
        };
        limits::Totals {
            content_rules: rules.len(),
            digit_gated: rules.iter().filter(|r| r.keywords.is_empty()).count(),
            regex_cost: rules.iter().map(|r| r.cost).sum(),
            event_rules: events.rules().len(),
            correlations: events.correlations().len(),
        }
        .check()?;
        let content = ContentMatcher::with_literals(rules, events.literals())?;
        let mut suppressions = Suppressions::default();
        for (name, text) in &self.suppressions {
            suppressions.load(name, text)?;
        }
        Ok(DetectorSet::from_parts(
            content,
            events,
            suppressions,
            self.warnings,
        ))
    }

    /// Takes the TOML files' compiled forms in order, with the files they extend (compiled
    /// here): the rule ids claimed and the content rules.
    fn link_content(
        &mut self,
        files: Vec<SourceFile>,
        compiled: Vec<TomlJob>,
    ) -> Result<(RuleIds, Vec<ContentRule>), DetectorError> {
        let mut ids = RuleIds::default();
        let mut rules: Vec<ContentRule> = Vec::new();
        let mut disabled = Vec::new();
        let mut queue: std::collections::VecDeque<(SourceFile, usize, Option<TomlJob>)> = files
            .into_iter()
            .zip(compiled)
            .map(|(f, c)| (f, 0, Some(c)))
            .collect();
        while let Some((file, depth, done)) = queue.pop_front() {
            let (compiled, warnings) = done.unwrap_or_else(|| compile_toml_job(&file));
            self.warnings.extend(warnings);
            let compiled = compiled?;
            disabled.extend(compiled.disabled);
            for extended in compiled.extends {
                if depth >= 3 {
                    self.warnings.push(format!(
                        "{}: [extend] nested too deep: not followed",
                        file.name
                    ));
                    continue;
                }
                let text = read_bounded(&extended).map_err(|source| DetectorError::Io {
                    path: extended.display().to_string(),
                    source,
                })?;
                let name = extended.display().to_string();
                queue.push_back((
                    SourceFile {
                        name,
                        text: Cow::Owned(text),
                        builtin: false,
                        hash: None,
                    },
                    depth + 1,
                    None,
                ));
            }
            for rule in compiled.rules {
                match ids.claim(&rule.meta, file.builtin, &mut self.warnings)? {
                    Claim::New => rules.push(rule),
                    Claim::Replaces(id) => {
                        rules.retain(|r| r.meta.id != id);
                        rules.push(rule);
                    }
                    Claim::Shadowed => {}
                }
            }
        }
        if !disabled.is_empty() {
            rules.retain(|r| !disabled.contains(&r.meta.id));
        }
        link_required(&mut rules, &mut self.warnings);
        Ok((ids, rules))
    }
}

/// One TOML file compiled, and the warnings it gave.
type TomlJob = (Result<CompiledFile, DetectorError>, Vec<String>);

fn compile_toml_job(file: &SourceFile) -> TomlJob {
    let mut warnings = Vec::new();
    (compile_toml_file(file, &mut warnings), warnings)
}

/// A file compiled ahead of claiming its rules.
enum Prepared {
    Toml(TomlJob),
    Sigma(ParsedFile),
}

/// Compiles every TOML file and parses every Sigma file's YAML on two threads. Nothing here
/// depends on another file: rules are claimed and compiled in file order afterwards, so ids,
/// replacements, warnings and errors are as on one thread.
fn compile_and_parse(toml: &[SourceFile], sigma: &EventSources) -> (Vec<TomlJob>, ParsedSigma) {
    let nt = toml.len();
    let sizes: Vec<usize> = (0..nt + sigma.len())
        .map(|j| match j.checked_sub(nt) {
            None => toml[j].text.len(),
            Some(i) => sigma.text_len(i),
        })
        .collect();
    let mut compiled = Vec::with_capacity(nt);
    let mut parsed = Vec::with_capacity(sigma.len());
    for done in map_largest_first(&sizes, |j| match j.checked_sub(nt) {
        None => Prepared::Toml(compile_toml_job(&toml[j])),
        Some(i) => Prepared::Sigma(sigma.parse_at(i)),
    }) {
        match done {
            Prepared::Toml(t) => compiled.push(t),
            Prepared::Sigma(p) => parsed.push(p),
        }
    }
    (compiled, ParsedSigma::new(parsed))
}

/// Reads a detector file, refusing files over [`limits::MAX_FILE_BYTES`].
fn read_bounded(path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if let Some(what) = crate::fs::special_kind(&meta) {
        return Err(std::io::Error::other(format!(
            "{what}, not a detector file"
        )));
    }
    if meta.len() > limits::MAX_FILE_BYTES as u64 {
        return Err(std::io::Error::other(format!(
            "{} bytes, over the {}-byte limit for a detector file",
            meta.len(),
            limits::MAX_FILE_BYTES
        )));
    }
    std::fs::read_to_string(path)
}

fn is_toml(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()) == Some("toml")
}

fn is_sigma(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
}

/// What one TOML file gives: its rules, the rule ids it disables and the files it extends.
struct CompiledFile {
    rules: Vec<ContentRule>,
    disabled: Vec<String>,
    extends: Vec<std::path::PathBuf>,
}

fn compile_toml_file(
    file: &SourceFile,
    warnings: &mut Vec<String>,
) -> Result<CompiledFile, DetectorError> {
    let path = &file.name;
    let parsed: RuleFile = toml::from_str(&file.text).map_err(|e| DetectorError::Syntax {
        path: path.clone(),
        msg: one_line(&e.to_string()),
    })?;
    for key in parsed.extra.keys() {
        warnings.push(format!("{path}: ignoring unsupported key `{key}`"));
    }
    let mut out = CompiledFile {
        rules: Vec::new(),
        disabled: Vec::new(),
        extends: Vec::new(),
    };
    if let Some(e) = &parsed.extend {
        if e.use_default {
            warnings.push(format!(
                "{path}: [extend] useDefault: gitleaks' default rules are not bundled; logwarden's built-in rules stand in for them"
            ));
        }
        if let Some(p) = &e.path {
            let base = Path::new(path).parent().unwrap_or(Path::new("."));
            out.extends.push(base.join(p));
        }
        out.disabled.extend(e.disabled_rules.iter().cloned());
        for key in e.extra.keys() {
            warnings.push(format!(
                "{path}: [extend]: ignoring unsupported key `{key}`"
            ));
        }
    }
    let lines = super::rules::LineIndex::new(&file.text);
    let mut file_allow = Vec::new();
    for spec in parsed.allowlist.iter().chain(&parsed.allowlists) {
        let at = Location {
            file: path.clone(),
            line: 0,
        };
        let allow = compile_allowlist(spec, &at, "<file allowlist>", file.builtin, warnings)?;
        file_allow.push((allow, spec.target_rules.clone()));
    }
    for spec in parsed.rules {
        let location = Location {
            file: path.clone(),
            line: lines.line(spec.id.span().start),
        };
        let id = spec.id.get_ref().clone();
        let applies: Vec<Allowlist> = file_allow
            .iter()
            .filter(|(_, targets)| targets.is_empty() || targets.contains(&id))
            .map(|(a, _)| a.clone())
            .collect();
        if let Some(rule) = compile_rule(spec, location, &applies, file.builtin, warnings)? {
            out.rules.push(rule);
        }
    }
    for spec in parsed.service {
        let location = Location {
            file: path.clone(),
            line: lines.line(spec.id.span().start),
        };
        out.rules
            .push(compile_service(spec, location, file.builtin, &file_allow)?);
    }
    Ok(out)
}

/// Compiles a `[[service]]` entry into a content rule: its value in group 2 (group 1 the gap
/// after the keyword), or in group 1 for entries found by their prefix alone.
fn compile_service(
    spec: ServiceSpec,
    location: Location,
    lazy: bool,
    file_allow: &[(Allowlist, Vec<String>)],
) -> Result<ContentRule, DetectorError> {
    let id = spec.id.get_ref().clone();
    let err = |msg: String| DetectorError::Rule {
        path: location.file.clone(),
        line: location.line,
        rule: id.clone(),
        msg,
    };
    // Built-in files are loaded for runs without their examples; `detectors check` (in CI)
    // requires them of every rule.
    if !lazy && (spec.examples.is_empty() || spec.negative_examples.is_empty()) {
        return Err(err(
            "needs at least one example and one negative example".into()
        ));
    }
    let c = service::compile(spec, location.clone(), lazy).map_err(&err)?;
    let secret_group = Some(if c.check.keyed { 2 } else { 1 });
    let (regex, max_len, cost) = if lazy {
        (RuleRegex::lazy(&c.pattern), None, 0)
    } else {
        let (regex, shape) = compile_checked(&c.pattern, secret_group).map_err(&err)?;
        let cost = limits::regex_cost(&c.pattern).map_err(&err)?;
        (
            RuleRegex::compiled(&c.pattern, regex),
            Some(shape.max_len),
            cost,
        )
    };
    let allowlists = file_allow
        .iter()
        .filter(|(_, targets)| targets.is_empty() || targets.contains(&id))
        .map(|(a, _)| a.clone())
        .collect();
    Ok(ContentRule::new(
        c.meta,
        ContentParts {
            keywords: c.keywords,
            gate: None,
            regex,
            max_len,
            secret_group,
            entropy: None,
            validator: None,
            allowlists,
            examples: c.examples,
            negative_examples: c.negative_examples,
            cost,
            required: Vec::new(),
            multiline: false,
            service: Some(c.check),
            verify: None,
        },
    ))
}

/// Resolves gitleaks `[[rules.required]]` ids to rule indices; an unknown id is warned about
/// and its requirement dropped.
fn link_required(rules: &mut [ContentRule], warnings: &mut Vec<String>) {
    let ids: Vec<String> = rules.iter().map(|r| r.meta.id.clone()).collect();
    for rule in rules.iter_mut() {
        let wanted = std::mem::take(&mut rule.required_ids);
        for (id, within) in wanted {
            match ids.iter().position(|i| *i == id) {
                Some(k) => rule.required.push((k as u32, within)),
                None => warnings.push(format!(
                    "{}: rule `{}` requires unknown rule `{id}`: requirement ignored",
                    rule.meta.location, rule.meta.id
                )),
            }
        }
    }
}

fn compile_allowlist(
    spec: &AllowlistSpec,
    at: &Location,
    rule: &str,
    lazy: bool,
    warnings: &mut Vec<String>,
) -> Result<Allowlist, DetectorError> {
    let err = |msg: String| DetectorError::Rule {
        path: at.file.clone(),
        line: at.line,
        rule: rule.to_owned(),
        msg,
    };
    for key in spec.extra.keys() {
        warnings.push(format!(
            "{at}: rule `{rule}`: ignoring unsupported allowlist key `{key}`"
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
            let r = translated(r, at, rule, warnings);
            RuleRegex::compiled(
                &r,
                compile_regex(&r).map_err(|e| err(format!("allowlist {e}")))?,
            )
        });
    }
    Ok(Allowlist {
        description: spec.description.clone(),
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

/// A user regex in Rust's syntax ([`re2::translate`]), with a warning when it changed.
fn translated(pattern: &str, at: &Location, rule: &str, warnings: &mut Vec<String>) -> String {
    let (p, changes) = re2::translate(pattern);
    if !changes.0.is_empty() {
        warnings.push(format!(
            "{at}: rule `{rule}`: regex translated from Go's RE2 syntax ({})",
            changes.0.join(", ")
        ));
    }
    p
}

fn parse_validator(name: Option<&str>) -> Result<Option<Validator>, String> {
    name.map(|v| {
        Validator::from_name(v)
            .ok_or_else(|| format!("unknown validator `{v}` (expected luhn, iban or ssn)"))
    })
    .transpose()
}

fn parse_gate(gate: Option<&str>) -> Result<Option<Gate>, String> {
    gate.map(|g| {
        g.strip_prefix("digits:")
            .and_then(|n| n.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .map(Gate::Digits)
            .ok_or_else(|| format!("unknown gate `{g}` (expected digits:N)"))
    })
    .transpose()
}

/// The metadata of a content rule.
fn content_meta(spec: &RuleSpec, location: Location) -> Result<RuleMeta, String> {
    let id = spec.id.get_ref().clone();
    let kind = spec.kind.unwrap_or(FindingKind::Secret);
    if !matches!(kind, FindingKind::Secret | FindingKind::Pii) {
        return Err(format!(
            "kind `{}` is not a content kind (expected secret or pii)",
            kind.as_str()
        ));
    }
    Ok(RuleMeta {
        title: spec.description.clone().unwrap_or_else(|| id.clone()),
        id,
        severity: spec.severity.unwrap_or(match kind {
            FindingKind::Pii => Severity::Medium,
            _ => Severity::High,
        }),
        kind,
        tags: spec.tags.clone(),
        location,
    })
}

/// A content rule's regex: built-in rules (checked in CI) are neither parsed nor compiled
/// here, so a cold start pays only for the rules its logs need; user rules are (translated
/// from RE2 where needed, compiled, costed), so their errors show at once.
fn rule_regex(
    pattern: &str,
    spec: &RuleSpec,
    location: &Location,
    lazy: bool,
    warnings: &mut Vec<String>,
    err: &dyn Fn(String) -> DetectorError,
) -> Result<(RuleRegex, Option<Option<usize>>, usize), DetectorError> {
    if lazy {
        return Ok((RuleRegex::lazy(pattern), None, 0));
    }
    let pattern = translated(pattern, location, spec.id.get_ref(), warnings);
    let (regex, shape) = compile_checked(&pattern, spec.secret_group).map_err(err)?;
    let cost = limits::regex_cost(&pattern).map_err(err)?;
    Ok((
        RuleRegex::compiled(&pattern, regex),
        Some(shape.max_len),
        cost,
    ))
}

fn compile_rule(
    spec: RuleSpec,
    location: Location,
    file_allow: &[Allowlist],
    lazy: bool,
    warnings: &mut Vec<String>,
) -> Result<Option<ContentRule>, DetectorError> {
    let id = spec.id.get_ref().clone();
    let err = |msg: String| DetectorError::Rule {
        path: location.file.clone(),
        line: location.line,
        rule: id.clone(),
        msg,
    };
    for key in spec.extra.keys() {
        warnings.push(format!(
            "{location}: rule `{id}`: ignoring unsupported key `{key}`"
        ));
    }
    let Some(pattern) = spec.regex.as_deref() else {
        warnings.push(format!(
            "{location}: rule `{id}` has no regex (path-only rules do not apply to logs): skipped"
        ));
        return Ok(None);
    };
    let meta = content_meta(&spec, location.clone()).map_err(&err)?;
    let (regex, max_len, cost) = rule_regex(pattern, &spec, &location, lazy, warnings, &err)?;
    let validator = parse_validator(spec.validate.as_deref()).map_err(&err)?;
    let gate = parse_gate(spec.gate.as_deref()).map_err(&err)?;
    let verify = spec
        .verify
        .as_deref()
        .map(VerifyWith::from_name)
        .transpose()
        .map_err(&err)?;
    if spec.keywords.iter().all(|k| k.is_empty()) && gate.is_none() {
        if cost > limits::MAX_UNGATED_COST {
            return Err(err(format!(
                "without keywords its regex runs over every whole line, so it must be small (cost {cost}, at most {}): add keywords",
                limits::MAX_UNGATED_COST
            )));
        }
        warnings.push(format!(
            "{location}: rule `{id}` has no keywords and no gate: its regex runs on every line (slow)"
        ));
    }
    if let Some(e) = spec.entropy
        && !(0.0..=8.0).contains(&e)
    {
        return Err(err(format!("entropy {e} is outside 0..=8 bits per byte")));
    }
    let mut allowlists = Vec::new();
    for a in spec.allowlist.iter().chain(&spec.allowlists) {
        allowlists.push(compile_allowlist(a, &location, &id, lazy, warnings)?);
    }
    allowlists.extend(file_allow.iter().cloned());
    Ok(Some(ContentRule::new(
        meta,
        ContentParts {
            keywords: spec
                .keywords
                .into_iter()
                .filter(|k| !k.is_empty())
                .collect(),
            gate,
            regex,
            max_len,
            secret_group: spec.secret_group,
            entropy: spec.entropy,
            validator,
            allowlists,
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            cost,
            required: spec
                .required
                .iter()
                .map(|r| (r.id.clone(), r.within_columns))
                .collect(),
            multiline: spec.multiline,
            service: None,
            verify,
        },
    )))
}

impl DetectorSet {
    /// A builder.
    pub fn builder() -> DetectorSetBuilder {
        DetectorSetBuilder::new()
    }

    /// The built-in set alone, as a run needs it (no examples: see
    /// [`DetectorSetBuilder::builtin`]).
    pub fn builtin() -> Result<Self, DetectorError> {
        Self::builder().builtin().build()
    }

    /// The built-in set alone, with every rule's examples and tests.
    pub fn builtin_with_examples() -> Result<Self, DetectorError> {
        Self::builder().builtin_with_examples().build()
    }

    /// The built-in set (unless `builtin` is false; as a run needs it) plus the files and
    /// directories `paths` and the suppressions files `suppressions`.
    pub fn load(
        paths: &[std::path::PathBuf],
        builtin: bool,
        suppressions: &[std::path::PathBuf],
    ) -> Result<Self, DetectorError> {
        Self::load_then(paths, builtin, suppressions, &mut || {})
    }

    /// [`DetectorSet::load`], calling `parsed` once the files are parsed
    /// ([`DetectorSetBuilder::build_then`]).
    pub fn load_then(
        paths: &[std::path::PathBuf],
        builtin: bool,
        suppressions: &[std::path::PathBuf],
        parsed: &mut dyn FnMut(),
    ) -> Result<Self, DetectorError> {
        let b = Self::builder();
        (if builtin { b.builtin() } else { b })
            .files(paths, suppressions)?
            .build_then(parsed)
    }
}
