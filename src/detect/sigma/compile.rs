//! Sigma YAML to [`EventDetectors`]: parsing (rsigma-parser), cost limits, lowering, the
//! prefilter's clauses, and the correlations linked to the rules they count.

use std::borrow::Cow;
use std::collections::HashMap;

use rsigma_eval::CompiledRule;
use rsigma_ir::LowerOptions;
use rsigma_parser::{SigmaCollection, SigmaRule};

use super::cnf::{Cnf, event_names, rule_lits};
use super::correlations::{self, PreparedCorrelation, rule_name, severity_of, yaml_to_json};
use super::cost::sigma_cost;
use super::dispatch::Dispatch;
use super::model::{
    ATTR_EXAMPLES, ATTR_NEGATIVE, ATTR_SEVERITY_FIELD, EventDetectors, EventRule, Grouping,
    LazyRule, RuleIr,
};
use crate::detect::correlation::{CorrelationRule, CorrelationSource, parse_duration_ms};
use crate::detect::error::DetectorError;
use crate::detect::error::one_line;
use crate::detect::limits;
use crate::detect::rules::{Claim, RuleIds};
use crate::detect::rules::{Location, RuleMeta};
use crate::record::RecordKind;
use crate::severity::FindingKind;

fn string_list(v: Option<serde_json::Value>) -> Result<Vec<String>, String> {
    match v {
        None => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|i| match i {
                serde_json::Value::String(s) => Ok(s),
                other => Ok(other.to_string()),
            })
            .collect(),
        Some(_) => Err("must be a list of strings".to_owned()),
    }
}

/// 1-based line of the rule's `name:` / `id:` / `title:` line, else of the value's first
/// appearance in `text` (0 when absent).
fn line_of_value(text: &str, value: &str) -> usize {
    ["name: ", "id: ", "title: "]
        .iter()
        .find_map(|k| text.find(&format!("{k}{value}")))
        .or_else(|| text.find(value))
        .map(|pos| crate::detect::rules::line_of(text, pos))
        .unwrap_or(0)
}

/// Where a file's `name:`, `id:` and `title:` values are (1-based line; the first of a value
/// kept), per key, read in one pass: looking each rule up in the whole text cost a twentieth
/// of the cold start.
fn value_lines(text: &str) -> [HashMap<&str, usize>; 3] {
    let mut out: [HashMap<&str, usize>; 3] = Default::default();
    for (i, line) in text.lines().enumerate() {
        let Some((k, v)) = ["name:", "id:", "title:"]
            .iter()
            .enumerate()
            .find_map(|(k, key)| line.strip_prefix(key).map(|v| (k, v)))
        else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('\'')
            .and_then(|x| x.strip_suffix('\''))
            .or_else(|| v.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
            .unwrap_or(v);
        out[k].entry(v).or_insert(i + 1);
    }
    out
}

/// A Sigma file's path and text, with where its rules' names are.
struct FileText<'a> {
    path: &'a str,
    text: &'a str,
    lines: [HashMap<&'a str, usize>; 3],
}

impl FileText<'_> {
    /// The line of a rule named `name`: as [`line_of_value`] (a `name:` line first, then
    /// `id:`, then `title:`), from the index.
    fn line_of(&self, name: &str) -> usize {
        match self.lines.iter().find_map(|m| m.get(name)) {
            Some(&l) => l,
            None => line_of_value(self.text, name),
        }
    }
}

/// Parsed Sigma files, before compilation.
#[derive(Default)]
pub struct EventSources {
    /// Path, text, whether its rules may be compiled on first use (built-in files), and for a
    /// built-in file in its run form the hash of its text (its prepared form is then read from
    /// `prebuilt.jsonl` when that is current).
    pub(super) files: Vec<(String, Cow<'static, str>, bool, Option<u64>)>,
}

/// What [`EventSources::compile`] builds up.
#[derive(Default)]
struct Compiling {
    compiled: Vec<LazyRule>,
    rules: Vec<EventRule>,
    /// name, id and title → rule; a key two rules share resolves to neither.
    keys: foldhash::HashMap<String, Option<usize>>,
    lits: Vec<Cnf>,
    /// Per rule: the CloudTrail event names it can match, when bounded.
    names: Vec<Option<Vec<String>>>,
    /// Path, line and rule of each correlation, linked once every rule is known.
    correlations: Vec<(String, usize, PreparedCorrelation)>,
}

/// A Sigma rule as its file's parsing job leaves it: everything of its compilation that does
/// not depend on another file (the lowering is a fifth of a cold start's build, and runs on the
/// parsing threads). Its id is claimed, and its names recorded, in file order afterwards
/// ([`Compiling::add_rule`]), so errors and replacements are as if it were compiled there.
pub(super) struct PreparedRule {
    /// The rule's id, name and title (what other rules and correlations may name it by). The
    /// parsed rule itself is dropped by the parsing job, on its thread: freeing it took a
    /// millisecond of the build's serial part.
    pub(super) keys: [Option<String>; 3],
    pub(super) detection: Result<EventRule, DetectorError>,
    /// The cost check (user files), the lowered form, or the compiled form (user files) that
    /// failed first.
    pub(super) lowered: Result<Lowered, String>,
}

/// A rule's lowered form, its prefilter, the CloudTrail event names it can match (when its
/// detection bounds them: [`event_names`]), and its compiled form if compiled at once.
pub(super) struct Lowered {
    pub(super) ir: RuleIr,
    pub(super) lits: Cnf,
    pub(super) names: Option<Vec<String>>,
    pub(super) compiled: Option<CompiledRule>,
}

fn prepare_rule(rule: SigmaRule, file: &FileText<'_>, lazy: bool) -> PreparedRule {
    let detection = compile_detection(&rule, file);
    let lower = || {
        // The cost check comes first: it bounds what lowering a user's rule may cost.
        if !lazy {
            sigma_cost(&rule)?;
        }
        let ir = rsigma_ir::lower_rule(&rule, &LowerOptions::default())
            .map_err(|e| one_line(&e.to_string()))?;
        let compiled = if lazy {
            None
        } else {
            Some(rsigma_eval::compile_to_compiled(&ir).map_err(|e| one_line(&e.to_string()))?)
        };
        Ok(Lowered {
            lits: rule_lits(&ir),
            names: event_names(&ir),
            ir: RuleIr::Lowered(Box::new(ir)),
            compiled,
        })
    };
    let lowered = lower();
    PreparedRule {
        keys: [rule.id, rule.name, Some(rule.title)],
        detection,
        lowered,
    }
}

/// A Sigma file as its parsing job leaves it.
pub(super) struct PreparedFile {
    /// Whether it had filter rules (not supported).
    pub(super) filters: bool,
    pub(super) rules: Vec<PreparedRule>,
    /// Each correlation with its line.
    pub(super) correlations: Vec<(usize, PreparedCorrelation)>,
}

pub(super) fn prepare_file(
    path: &str,
    text: &str,
    lazy: bool,
) -> Result<PreparedFile, DetectorError> {
    let coll = parse_file(path, text, lazy)?;
    let file = FileText {
        path,
        text,
        lines: value_lines(text),
    };
    Ok(PreparedFile {
        filters: !coll.filters.is_empty(),
        correlations: coll
            .correlations
            .into_iter()
            .map(|c| {
                let name = rule_name(c.name.as_ref(), c.id.as_ref(), &c.title);
                (file.line_of(&name), correlations::prepare(c))
            })
            .collect(),
        rules: coll
            .rules
            .into_iter()
            .map(|r| prepare_rule(r, &file, lazy))
            .collect(),
    })
}

impl Compiling {
    fn add_file(
        &mut self,
        path: &str,
        lazy: bool,
        warnings: &mut Vec<String>,
        file: PreparedFile,
        ids: &mut RuleIds,
    ) -> Result<(), DetectorError> {
        if file.filters {
            warnings.push(format!(
                "{path}: Sigma filter rules are not supported: skipped"
            ));
        }
        for rule in file.rules {
            self.add_rule(rule, path, lazy, warnings, ids)?;
        }
        for (line, corr) in file.correlations {
            self.correlations.push((path.to_owned(), line, corr));
        }
        Ok(())
    }

    fn add_rule(
        &mut self,
        prepared: PreparedRule,
        path: &str,
        lazy: bool,
        warnings: &mut Vec<String>,
        ids: &mut RuleIds,
    ) -> Result<(), DetectorError> {
        let PreparedRule {
            keys,
            detection,
            lowered,
        } = prepared;
        let compiled = detection?;
        let err = |msg: String| DetectorError::Rule {
            path: path.to_owned(),
            line: compiled.meta.location.line,
            rule: compiled.meta.id.clone(),
            msg,
        };
        // Built-in files are the lazy ones: a user rule with a built-in's id replaces it.
        let replaces = match ids.claim(&compiled.meta, lazy, warnings)? {
            Claim::New => None,
            Claim::Replaces(id) => self.rules.iter().position(|r| r.meta.id == id),
            Claim::Shadowed => return Ok(()),
        };
        let Lowered {
            ir,
            lits,
            names,
            compiled: form,
        } = lowered.map_err(&err)?;
        let idx = replaces.unwrap_or(self.rules.len());
        for key in keys.into_iter().flatten() {
            self.keys
                .entry(key)
                .and_modify(|v| {
                    if *v != Some(idx) {
                        *v = None;
                    }
                })
                .or_insert(Some(idx));
        }
        let compiled_form = std::sync::OnceLock::new();
        if let Some(c) = form {
            let _ = compiled_form.set(Ok(c));
        }
        let lazy_rule = LazyRule {
            ir,
            compiled: compiled_form,
        };
        if replaces.is_some() {
            self.lits[idx] = lits;
            self.names[idx] = names;
            self.compiled[idx] = lazy_rule;
            self.rules[idx] = compiled;
        } else {
            self.lits.push(lits);
            self.names.push(names);
            self.compiled.push(lazy_rule);
            self.rules.push(compiled);
        }
        Ok(())
    }
}

/// Parses one Sigma file's YAML: the part of the build that can run beside the TOML files'.
fn parse_file(path: &str, text: &str, lazy: bool) -> Result<SigmaCollection, DetectorError> {
    // Built-in files are ours and checked by a test (`builtin_files_are_within_the_cost_limits`):
    // the limits guard against user files and cost a tenth of the cold start.
    if !lazy {
        limits::check_yaml(path, text)?;
    }
    let syntax = |msg: String| DetectorError::Syntax {
        path: path.to_owned(),
        msg,
    };
    let coll =
        rsigma_parser::parse_sigma_yaml(text).map_err(|e| syntax(one_line(&e.to_string())))?;
    if !coll.errors.is_empty() {
        return Err(syntax(coll.errors.join("; ")));
    }
    Ok(coll)
}

/// One Sigma file parsed and its rules lowered ([`EventSources::parse_at`]).
pub struct ParsedFile(pub(super) Result<PreparedFile, DetectorError>);

/// Every Sigma file parsed, in order, for the set's compile step.
pub struct ParsedSigma(Vec<ParsedFile>);

impl ParsedSigma {
    /// The files parsed, in the order they were added.
    pub fn new(files: Vec<ParsedFile>) -> ParsedSigma {
        ParsedSigma(files)
    }
}

impl EventSources {
    /// How many files there are.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The size of file `i`'s text (the larger files are parsed first).
    pub fn text_len(&self, i: usize) -> usize {
        self.files[i].1.len()
    }

    /// Adds one Sigma YAML file's text; `lazy`: compile its rules on first use (built-in
    /// files, which CI checks), else at once; `hash`: a built-in file's run form, with the hash
    /// `build.rs` gave its text (its prepared form is read ahead if current, else it is parsed).
    pub fn add(&mut self, path: String, text: Cow<'static, str>, lazy: bool, hash: Option<u64>) {
        self.files.push((path, text, lazy, hash));
    }

    /// Whether there is nothing to compile.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Compiles every file, given what [`EventSources::parse_at`] made of them. The first
    /// file in order that does not parse or compile is the error.
    pub(crate) fn compile(
        &self,
        parsed: ParsedSigma,
        warnings: &mut Vec<String>,
        ids: &mut RuleIds,
    ) -> Result<EventDetectors, DetectorError> {
        let mut c = Compiling::default();
        // Room for every rule at once: growing these one push at a time copied each into
        // fresh pages several times over.
        let n: usize = parsed
            .0
            .iter()
            .map(|f| f.0.as_ref().map_or(0, |f| f.rules.len()))
            .sum();
        c.compiled.reserve(n);
        c.rules.reserve(n);
        c.lits.reserve(n);
        c.names.reserve(n);
        c.keys.reserve(3 * n);
        for ((path, _, lazy, _), file) in self.files.iter().zip(parsed.0) {
            c.add_file(path, *lazy, warnings, file.0?, ids)?;
        }
        let (correlations, fed_by_rule, fed_by_correlation) =
            link_correlations(&mut c, warnings, ids)?;
        let open = c.lits.iter().any(Cnf::is_open);
        // Sorted and deduplicated as references; only the distinct ones are copied.
        let mut distinct: Vec<&String> = c
            .lits
            .iter()
            .flat_map(|cnf| cnf.0.iter().flatten())
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        let literals: Vec<String> = distinct.into_iter().cloned().collect();
        let id = |l: &String| literals.binary_search(l).unwrap_or(0) as u32;
        let clauses: Vec<Vec<Vec<u32>>> = c
            .lits
            .iter()
            .map(|cnf| cnf.0.iter().map(|cl| cl.iter().map(id).collect()).collect())
            .collect();
        let names: Vec<Option<Vec<String>>> = std::mem::take(&mut c.names)
            .into_iter()
            .zip(&c.rules)
            .map(|(names, rule)| names.filter(|_| rule.for_cloudtrail()))
            .collect();
        let dispatch = Dispatch::new(&clauses, &names, literals.len());
        Ok(EventDetectors {
            dispatch,
            compiled: c.compiled,
            rules: c.rules,
            clauses,
            literals,
            open,
            correlations,
            fed_by_rule,
            fed_by_correlation,
        })
    }
}

type Links = (
    Vec<CorrelationRule>,
    Vec<Vec<(usize, u8)>>,
    Vec<Vec<(usize, u8)>>,
);

/// Compiles the correlations once the rules they reference are known; a correlation may
/// reference another correlation defined anywhere (compiled in dependency order; a cycle is
/// an error).
fn link_correlations(
    c: &mut Compiling,
    warnings: &mut Vec<String>,
    ids: &mut RuleIds,
) -> Result<Links, DetectorError> {
    let mut pending = std::mem::take(&mut c.correlations);
    let mut done: Vec<CorrelationRule> = Vec::new();
    let mut corr_keys: foldhash::HashMap<String, usize> = Default::default();
    let mut fed_by_rule = vec![Vec::new(); c.rules.len()];
    let mut fed_by_correlation: Vec<Vec<(usize, u8)>> = Vec::new();
    while !pending.is_empty() {
        // The names of the correlations still pending, gathered only when a reference names
        // neither a rule nor a linked correlation (gathering them every round was most of
        // the linking's cost).
        let mut waiting = None;
        let ready = pending.iter().position(|(_, _, corr)| {
            corr.rules.iter().all(|r| {
                c.keys.contains_key(r)
                    || corr_keys.contains_key(r)
                    || !waiting
                        .get_or_insert_with(|| pending_names(&pending))
                        .contains(r.as_str())
            })
        });
        let (path, line, corr) = match ready {
            Some(i) => pending.remove(i),
            None => {
                let (path, line, corr) = pending.remove(0);
                return Err(DetectorError::Rule {
                    path: path.clone(),
                    line,
                    rule: corr.name,
                    msg: "its correlations refer to each other in a cycle".to_owned(),
                });
            }
        };
        let compiled = correlations::link(&corr, &path, line, &c.keys, &corr_keys, &done)?;
        if ids.claim(&compiled.meta, false, warnings)? != Claim::New {
            continue;
        }
        let idx = done.len();
        for (pos, src) in compiled.sources.iter().enumerate() {
            match *src {
                CorrelationSource::Rule(r) => {
                    fed_by_rule[r].push((idx, pos as u8));
                    if !corr.generate {
                        c.rules[r].generate = false;
                    }
                }
                CorrelationSource::Correlation(k) => fed_by_correlation[k].push((idx, pos as u8)),
            }
        }
        for key in corr.keys.into_iter().flatten() {
            corr_keys.entry(key).or_insert(idx);
        }
        fed_by_correlation.push(Vec::new());
        done.push(compiled);
    }
    Ok((done, fed_by_rule, fed_by_correlation))
}

/// The ids, names and titles of the correlations not compiled yet.
fn pending_names(
    pending: &[(String, usize, PreparedCorrelation)],
) -> std::collections::HashSet<&str> {
    pending
        .iter()
        .flat_map(|(_, _, c)| c.keys.iter().flatten().map(String::as_str))
        .collect()
}

fn compile_detection(rule: &SigmaRule, file: &FileText<'_>) -> Result<EventRule, DetectorError> {
    let path = file.path;
    let name = rule_name(rule.name.as_ref(), rule.id.as_ref(), &rule.title);
    let line = file.line_of(&name);
    let err = |msg: String| DetectorError::Rule {
        path: path.to_owned(),
        line,
        rule: name.clone(),
        msg,
    };
    let attr = |k: &str| rule.custom_attributes.get(k).map(yaml_to_json);
    let examples =
        string_list(attr(ATTR_EXAMPLES)).map_err(|m| err(format!("{ATTR_EXAMPLES} {m}")))?;
    let negative_examples =
        string_list(attr(ATTR_NEGATIVE)).map_err(|m| err(format!("{ATTR_NEGATIVE} {m}")))?;
    let severity_field = match attr(ATTR_SEVERITY_FIELD) {
        None => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => return Err(err(format!("{ATTR_SEVERITY_FIELD} must be a field name"))),
    };
    let text_attr = |k: &str| match attr(k) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(err(format!("{k} must be a string"))),
    };
    let grouping = match text_attr("logwarden.group_by")? {
        None => None,
        Some(field) => {
            let window = text_attr("logwarden.group_window")?.unwrap_or_else(|| "15m".into());
            Some(Grouping {
                field,
                window_ms: parse_duration_ms(&window).ok_or_else(|| {
                    err(format!(
                        "logwarden.group_window `{window}` is not a duration such as 15m"
                    ))
                })?,
                list_field: text_attr("logwarden.list_field")?,
            })
        }
    };
    let deployment_aware = matches!(
        attr("logwarden.deployment_aware"),
        Some(serde_json::Value::Bool(true))
    );
    Ok(EventRule {
        meta: RuleMeta {
            id: name.clone(),
            title: rule.title.clone(),
            severity: severity_of(rule.level),
            kind: FindingKind::Event,
            tags: rule.tags.iter().map(|t| t.to_string()).collect(),
            location: Location {
                file: path.to_owned(),
                line,
            },
        },
        severity_field,
        // `generate: false` on a detection rule hides its own alerts (it only feeds
        // correlations), as a correlation's `generate` does for the rules it references.
        generate: !matches!(attr("generate"), Some(serde_json::Value::Bool(false))),
        examples,
        negative_examples,
        grouping,
        deployment_aware,
        about_failures: reads_field(rule, &["errorCode", "errorMessage"]),
        kinds: logsource_kinds(&rule.logsource),
    })
}

/// The record kinds a Sigma `logsource` names (empty: any). A rule for CloudTrail reads only
/// records from a CloudTrail source; rules for applications and web servers never read
/// CloudTrail records.
fn logsource_kinds(ls: &rsigma_parser::LogSource) -> Vec<RecordKind> {
    use RecordKind as K;
    let lower = |v: &Option<String>| v.as_deref().map(str::to_ascii_lowercase);
    match (
        lower(&ls.product).as_deref(),
        lower(&ls.service).as_deref(),
        lower(&ls.category).as_deref(),
    ) {
        (_, Some("cloudtrail"), _) => vec![K::CloudTrail],
        (_, Some("waf"), _) => vec![K::Waf],
        (_, Some("vpcflowlogs" | "vpcflow" | "vpc_flow"), _) => vec![K::VpcFlow],
        (_, Some("apigateway"), _) => vec![K::ApiGatewayJson, K::ApiGatewayClf],
        (_, _, Some("application" | "webserver")) | (_, Some("lambda"), _) => K::ALL
            .iter()
            .copied()
            .filter(|k| !matches!(k, K::CloudTrail | K::VpcFlow))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether any detection of `rule` reads one of `fields`.
fn reads_field(rule: &SigmaRule, fields: &[&str]) -> bool {
    use rsigma_parser::Detection;
    fn walk(d: &Detection, fields: &[&str]) -> bool {
        match d {
            Detection::AllOf(items) => items
                .iter()
                .any(|i| i.field.name.as_deref().is_some_and(|n| fields.contains(&n))),
            Detection::AnyOf(ds) => ds.iter().any(|x| walk(x, fields)),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
    rule.detection.named.values().any(|d| walk(d, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built-in files skip the cost limits at load (their rules compile on first use); this
    /// holds every one of them to the limits a user's file must meet.
    #[test]
    fn builtin_files_are_within_the_cost_limits() {
        let mut rules = 0;
        for (path, text) in crate::detect::builtin_files() {
            if !(path.ends_with(".yml") || path.ends_with(".yaml")) {
                continue;
            }
            limits::check_yaml(path, text).unwrap_or_else(|e| panic!("{e}"));
            let coll = rsigma_parser::parse_sigma_yaml(text).unwrap_or_else(|e| panic!("{e}"));
            for rule in &coll.rules {
                sigma_cost(rule).unwrap_or_else(|e| panic!("{path}: {}: {e}", rule.title));
                rules += 1;
            }
        }
        assert!(rules >= 100, "only {rules} built-in Sigma rules checked");
    }
}
