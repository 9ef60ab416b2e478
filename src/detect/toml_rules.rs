//! TOML detector files to content rules: gitleaks rules (`[[rules]]`, allowlists,
//! `[extend]`, `[[rules.required]]`) and logwarden's compact `[[service]]` entries. One file
//! compiles without looking at another; the builder claims the rules' ids afterwards.

use std::path::Path;

use super::content::{
    AllowTarget, Allowlist, ContentParts, ContentRule, Gate, Reach, RuleRegex, VerifyWith,
    compile_checked, compile_regex,
};
use super::error::{DetectorError, one_line};
use super::rules::ServiceSpec;
use super::rules::{AllowlistSpec, Location, RuleFile, RuleMeta, RuleSpec};
use super::service;
use super::validate::Validator;
use super::{limits, re2};
use crate::severity::{FindingKind, Severity};

/// What one TOML file gives: its rules, the rule ids it disables and the files it extends.
pub(super) struct CompiledFile {
    pub(super) rules: Vec<ContentRule>,
    pub(super) disabled: Vec<String>,
    pub(super) extends: Vec<std::path::PathBuf>,
}

/// Compiles TOML file `path` (text `text`; `builtin`: embedded in the binary, its regexes
/// compiled on first use), adding what it warns about to `warnings`.
pub(super) fn compile_toml_file(
    path: &str,
    text: &str,
    builtin: bool,
    warnings: &mut Vec<String>,
) -> Result<CompiledFile, DetectorError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|e| DetectorError::Syntax {
        path: path.to_owned(),
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
    let lines = super::rules::LineIndex::new(text);
    let mut file_allow = Vec::new();
    for spec in parsed.allowlist.iter().chain(&parsed.allowlists) {
        let at = Location {
            file: path.to_owned(),
            line: 0,
        };
        let allow = compile_allowlist(spec, &at, "<file allowlist>", builtin, warnings)?;
        file_allow.push((allow, spec.target_rules.clone()));
    }
    for spec in parsed.rules {
        let location = Location {
            file: path.to_owned(),
            line: lines.line(spec.id.span().start),
        };
        let id = spec.id.get_ref().clone();
        let applies: Vec<Allowlist> = file_allow
            .iter()
            .filter(|(_, targets)| targets.is_empty() || targets.contains(&id))
            .map(|(a, _)| a.clone())
            .collect();
        if let Some(rule) = compile_rule(spec, location, &applies, builtin, warnings)? {
            out.rules.push(rule);
        }
    }
    for spec in parsed.service {
        let location = Location {
            file: path.to_owned(),
            line: lines.line(spec.id.span().start),
        };
        out.rules
            .push(compile_service(spec, location, builtin, &file_allow)?);
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
    let err = rule_error(&location, &id);
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
        let (regex, shape) =
            compile_checked(&c.pattern, secret_group, Reach::Windows).map_err(&err)?;
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

/// The error of rule `rule` defined `at`: a message about it, with its file and line.
fn rule_error<'a>(at: &'a Location, rule: &'a str) -> impl Fn(String) -> DetectorError + 'a {
    move |msg| DetectorError::Rule {
        path: at.file.clone(),
        line: at.line,
        rule: rule.to_owned(),
        msg,
    }
}

fn compile_allowlist(
    spec: &AllowlistSpec,
    at: &Location,
    rule: &str,
    lazy: bool,
    warnings: &mut Vec<String>,
) -> Result<Allowlist, DetectorError> {
    let err = rule_error(at, rule);
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
    // An allowlist regex runs on the secret or the match (short), or on the whole line.
    let reach = match target {
        AllowTarget::Line => Reach::Lines,
        AllowTarget::Secret | AllowTarget::Match => Reach::Windows,
    };
    let mut regexes = Vec::new();
    for r in &spec.regexes {
        regexes.push(if lazy {
            RuleRegex::lazy(r)
        } else {
            let r = translated(r, at, rule, warnings);
            RuleRegex::compiled(
                &r,
                compile_regex(&r, reach).map_err(|e| err(format!("allowlist {e}")))?,
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
    let reach = if searches_whole_lines(spec) {
        Reach::Lines
    } else {
        Reach::Windows
    };
    let (regex, shape) = compile_checked(&pattern, spec.secret_group, reach).map_err(err)?;
    let cost = limits::regex_cost(&pattern).map_err(err)?;
    Ok((
        RuleRegex::compiled(&pattern, regex),
        Some(shape.max_len),
        cost,
    ))
}

/// Whether a rule's regex runs on every whole line: it has neither keywords nor a gate.
fn searches_whole_lines(spec: &RuleSpec) -> bool {
    spec.keywords.iter().all(|k| k.is_empty()) && spec.gate.is_none()
}

fn compile_rule(
    spec: RuleSpec,
    location: Location,
    file_allow: &[Allowlist],
    lazy: bool,
    warnings: &mut Vec<String>,
) -> Result<Option<ContentRule>, DetectorError> {
    let id = spec.id.get_ref().clone();
    let err = rule_error(&location, &id);
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
    if searches_whole_lines(&spec) {
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
