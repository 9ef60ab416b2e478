//! Event detectors: Sigma rules evaluated on records' fields, and the correlation rules that
//! count their matches.
//!
//! Sigma YAML is parsed by `rsigma-parser` and detection rules are evaluated by `rsigma-eval`
//! through an [`Event`] adapter over our lazily parsed [`Record`]. Correlation rules are
//! parsed by the same parser but counted by logwarden itself (see `crate::correlate`), so that
//! windows use event time, fire once per window and keep their state behind a store trait.
//!
//! A literal prefilter runs first: from each rule's lowered form we derive, in conjunctive
//! normal form, the literals that must occur in the raw line (every clause needs one of its
//! literals). The literals are matched in the content rules' keyword automaton, in the same
//! pass; records that cannot match any rule are never parsed as JSON.

use std::borrow::Cow;
use std::collections::HashMap;

use rsigma_eval::{CompiledRule, Event, EventValue};
use rsigma_ir::{IrCondition, IrDetection, IrMatcher, IrPatternPart, IrRule, LowerOptions};
use rsigma_parser::{
    ConditionOperator, CorrelationCondition, CorrelationType, Level, Quantifier, SelectorPattern,
    SigmaRule,
};
use serde::Deserialize;

use super::content::one_line;
use super::limits;
use super::rules::{Location, RuleMeta};
use super::{DetectorError, FindingKind, RuleIds, Severity};
use crate::correlate::sliding::{MAX_COUNT_THRESHOLD, Measure, Spec};
use crate::record::{FieldValue, Record, derived_value};

/// Custom attribute: log lines that must match a detection rule.
pub const ATTR_EXAMPLES: &str = "logwarden.examples";
/// Custom attribute: log lines that must not match a detection rule.
pub const ATTR_NEGATIVE: &str = "logwarden.negative_examples";
/// Custom attribute: a field holding the alert severity (`low` ... `critical`).
pub const ATTR_SEVERITY_FIELD: &str = "logwarden.severity_field";
/// Custom attribute: event sequences a correlation rule is tested with.
pub const ATTR_TESTS: &str = "logwarden.tests";

/// One compiled Sigma detection rule.
#[derive(Debug, Clone)]
pub struct EventRule {
    /// Id (`name`, else `id`, else title: the alert `rule_id`), title, severity, tags, location.
    pub meta: RuleMeta,
    /// A record field that, when it holds a severity name, overrides the severity.
    pub severity_field: Option<String>,
    /// Whether a match produces its own alert (false when only correlations use it).
    pub generate: bool,
    /// Log lines that must match.
    pub examples: Vec<String>,
    /// Log lines that must not match.
    pub negative_examples: Vec<String>,
    /// `logwarden.group_by`: matches of one value of a field (the principal) within a window
    /// make one alert plus a summary of what else matched, instead of one alert each.
    pub grouping: Option<Grouping>,
    /// `logwarden.deployment_aware`: a match made through CloudFormation is marked as such and
    /// ranked one severity lower.
    pub deployment_aware: bool,
}

/// How an event rule's matches are grouped (see [`EventRule::grouping`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// The field whose value groups matches (`userIdentity.arn`).
    pub field: String,
    /// A group stays open while its matches are at most this far apart (ms).
    pub window_ms: i64,
    /// The field listed in the summary (`eventName`).
    pub list_field: Option<String>,
}

/// Parses a duration such as `30s`, `15m`, `2h`, `1d` into milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let mult = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult).filter(|&ms| ms > 0)
}

/// One event in a correlation rule's test.
#[derive(Debug, Clone, Deserialize)]
pub struct TestEvent {
    /// Seconds after 2026-11-25T10:00:00Z.
    #[serde(default)]
    pub at: f64,
    /// How many times to emit it.
    #[serde(default = "one")]
    pub repeat: u32,
    /// Seconds between repeats.
    #[serde(default = "one_f")]
    pub every: f64,
    /// The raw log line; `{n}` is replaced by the repetition index.
    pub message: String,
}

fn one() -> u32 {
    1
}
fn one_f() -> f64 {
    1.0
}

/// A correlation rule's test: the events and how many threshold alerts they must give.
#[derive(Debug, Clone, Deserialize)]
pub struct CorrelationTest {
    /// Test name.
    #[serde(default)]
    pub name: String,
    /// Expected number of threshold alerts.
    pub expect: u64,
    /// The events, in the order they are fed.
    pub events: Vec<TestEvent>,
}

/// What a correlation's match counts come from: a detection rule, or another correlation
/// (whose hot points feed it, e.g. a burst of failures referenced by a `temporal_ordered`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationSource {
    /// A detection rule (index into [`EventDetectors::rules`]).
    Rule(usize),
    /// A correlation rule (index into [`EventDetectors::correlations`]).
    Correlation(usize),
}

/// A compiled correlation rule.
#[derive(Debug, Clone)]
pub struct CorrelationRule {
    /// Id (`name`, else `id`, else title: the alert `rule_id`), title, severity, tags, location.
    pub meta: RuleMeta,
    /// How a span is measured (count, distinct values, sum, average, temporal).
    pub measure: Measure,
    /// The field whose values are counted, summed or averaged.
    pub field: Option<String>,
    /// The rules it correlates, in the listed order.
    pub sources: Vec<CorrelationSource>,
    /// Group-by fields.
    pub group_by: Vec<String>,
    /// Span length in milliseconds (sliding).
    pub timespan_ms: i64,
    /// The value a span must reach (`gte` form; 1 for the temporal types).
    pub threshold: u64,
    /// Tests.
    pub tests: Vec<CorrelationTest>,
}

impl CorrelationRule {
    /// What the sliding engine needs of it.
    pub fn spec(&self) -> Spec {
        Spec {
            measure: self.measure,
            threshold: self.threshold as f64,
            timespan_ms: self.timespan_ms,
        }
    }

    /// The group-by fields joined, for messages (`details.sourceIp`).
    pub fn group_label(&self) -> String {
        self.group_by.join(",")
    }
}

/// Which literals must occur in a raw line for a rule to possibly match, in conjunctive normal
/// form: every clause needs one of its literals in the line (ASCII case-insensitively). No
/// clause means nothing is known and every line is a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Cnf(Vec<Vec<String>>);

/// Clauses kept per rule: the most selective ones (dropping a clause only widens the filter).
const MAX_CLAUSES: usize = 8;

/// How selective a clause is: its shortest literal is long, and it has few literals.
fn selectivity(clause: &[String]) -> (usize, usize) {
    (
        clause.iter().map(String::len).min().unwrap_or(0),
        usize::MAX - clause.len(),
    )
}

fn clause_union(a: &[String], b: &[String]) -> Vec<String> {
    let mut v: Vec<String> = a.iter().chain(b).cloned().collect();
    v.sort();
    v.dedup();
    v
}

impl Cnf {
    fn open() -> Cnf {
        Cnf(Vec::new())
    }

    fn is_open(&self) -> bool {
        self.0.is_empty()
    }

    fn best_clause(&self) -> Option<&Vec<String>> {
        self.0.iter().max_by_key(|c| selectivity(c))
    }

    /// Conjunction: the clauses of every branch.
    fn and(items: impl IntoIterator<Item = Cnf>) -> Cnf {
        let mut clauses: Vec<Vec<String>> = Vec::new();
        for item in items {
            for c in item.0 {
                if !clauses.contains(&c) {
                    clauses.push(c);
                }
            }
        }
        clauses.sort_by_key(|c| std::cmp::Reverse(selectivity(c)));
        clauses.truncate(MAX_CLAUSES);
        Cnf(clauses)
    }

    /// Disjunction, distributed: `(a1 ∧ a2) ∨ b` is `(a1 ∨ b) ∧ (a2 ∨ b)`. When the product
    /// grows past [`MAX_CLAUSES`] it falls back to the union of each side's best clause, which
    /// every branch still implies.
    ///
    /// One-clause sides (a value list: `a ∨ b ∨ c ...`) are appended to one clause and sorted
    /// once at the end: a list of n values costs n, not n² (it was a sixth of the cold start).
    fn or(items: impl IntoIterator<Item = Cnf>) -> Cnf {
        let mut acc: Option<Cnf> = None;
        for mut item in items {
            if item.is_open() {
                return Cnf::open();
            }
            acc = Some(match acc {
                None => item,
                Some(mut a) if a.0.len() == 1 && item.0.len() == 1 => {
                    a.0[0].append(&mut item.0[0]);
                    a
                }
                Some(a) if a.0.len() * item.0.len() <= MAX_CLAUSES => Cnf::and(
                    a.0.iter()
                        .flat_map(|x| item.0.iter().map(move |y| clause_union(x, y)))
                        .map(|c| Cnf(vec![c])),
                ),
                Some(a) => match (a.best_clause(), item.best_clause()) {
                    (Some(x), Some(y)) => Cnf(vec![clause_union(x, y)]),
                    _ => return Cnf::open(),
                },
            });
        }
        let mut cnf = acc.unwrap_or_default();
        for clause in &mut cnf.0 {
            clause.sort();
            clause.dedup();
        }
        cnf
    }
}

/// A literal usable against raw JSON text: ASCII, no characters JSON would escape. `/` may be
/// escaped as `\/`, so both forms are returned.
fn literal(s: &str) -> Cnf {
    if s.is_empty()
        || !s.is_ascii()
        || s.bytes()
            .any(|b| b == b'"' || b == b'\\' || b.is_ascii_control())
    {
        return Cnf::open();
    }
    let lower = s.to_ascii_lowercase();
    let mut v = vec![lower.clone()];
    if s.contains('/') {
        v.push(lower.replace('/', "\\/"));
    }
    Cnf(vec![v])
}

/// The literals a matcher on `field` needs in the raw line. Values the parser can supply
/// itself ([`derived_value`]) are not required.
fn matcher_lits(m: &IrMatcher, field: Option<&str>) -> Cnf {
    match m {
        IrMatcher::Str { pattern, .. } => {
            if let Some(f) = field {
                let whole: String = pattern
                    .parts
                    .iter()
                    .map(|p| match p {
                        IrPatternPart::Literal(s) => s.as_str(),
                        _ => "*",
                    })
                    .collect();
                if derived_value(f, &whole) {
                    return Cnf::open();
                }
            }
            pattern
                .parts
                .iter()
                .filter_map(|p| match p {
                    IrPatternPart::Literal(s) => Some(s.as_str()),
                    _ => None,
                })
                .max_by_key(|s| s.len())
                .map(literal)
                .unwrap_or_default()
        }
        IrMatcher::AnyOf(ms) => Cnf::or(ms.iter().map(|m| matcher_lits(m, field))),
        IrMatcher::AllOf(ms) => Cnf::and(ms.iter().map(|m| matcher_lits(m, field))),
        _ => Cnf::open(),
    }
}

fn detection_lits(d: &IrDetection) -> Cnf {
    match d {
        IrDetection::AllOf(items) => Cnf::and(items.iter().map(|it| {
            if it.exists == Some(false) {
                Cnf::open()
            } else {
                matcher_lits(&it.matcher, it.field.as_deref())
            }
        })),
        IrDetection::AnyOf(ds) => Cnf::or(ds.iter().map(detection_lits)),
        IrDetection::Keywords(m) => matcher_lits(m, None),
        IrDetection::ArrayMatch { body, .. } => detection_lits(body),
        IrDetection::And(ds) => Cnf::and(ds.iter().map(detection_lits)),
        IrDetection::Conditional { named, condition } => condition_lits(condition, named),
    }
}

fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => {
            name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
        }
    }
}

fn condition_lits(c: &IrCondition, dets: &HashMap<String, IrDetection>) -> Cnf {
    match c {
        IrCondition::Detection(name) => dets.get(name).map(detection_lits).unwrap_or_default(),
        IrCondition::And(cs) => Cnf::and(cs.iter().map(|c| condition_lits(c, dets))),
        IrCondition::Or(cs) => Cnf::or(cs.iter().map(|c| condition_lits(c, dets))),
        IrCondition::Not(_) => Cnf::open(),
        IrCondition::Selector {
            quantifier,
            pattern,
        } => {
            let selected = dets.iter().filter(|(name, _)| match pattern {
                SelectorPattern::Them => !name.starts_with('_'),
                SelectorPattern::Pattern(p) => glob_match(p, name),
            });
            let lits = selected.map(|(_, d)| detection_lits(d));
            match quantifier {
                Quantifier::All => Cnf::and(lits),
                _ => Cnf::or(lits),
            }
        }
    }
}

fn rule_lits(ir: &IrRule) -> Cnf {
    Cnf::or(
        ir.conditions
            .iter()
            .map(|c| condition_lits(c, &ir.detections)),
    )
}

/// Adapts a [`Record`] to rsigma's [`Event`]: fields are looked up lazily by dotted path.
pub struct RecordEvent<'r, 'a>(pub &'r Record<'a>);

impl Event for RecordEvent<'_, '_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        Some(match self.0.field(path)? {
            FieldValue::Text(s) => EventValue::Str(Cow::Borrowed(s)),
            FieldValue::Json(v) => EventValue::from(v),
            FieldValue::Int(n) => EventValue::Int(n),
            FieldValue::Many(vs) => {
                EventValue::Array(vs.into_iter().map(EventValue::from).collect())
            }
        })
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut hit = false;
        self.visit_string_values(&mut |s| hit = hit || pred(s));
        hit
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.visit_string_values(&mut |s| out.push(Cow::Owned(s.to_owned())));
        out
    }

    /// Keyword (field-less) detections look at string values only, as Sigma engines do: the
    /// JSON's string values (never its key names or numbers), the fields read from a text
    /// line, and the whole line of a record that has no JSON.
    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        let json = self.0.json();
        if json.is_none() {
            visit(self.0.message());
        }
        for (k, v) in self.0.text_fields() {
            // A runtime line's `message` field is the JSON itself when it parsed.
            if !(json.is_some() && *k == "message") {
                visit(v);
            }
        }
        if let Some(json) = json {
            visit_json_strings(json, visit);
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self.0.json() {
            Some(v) => v.clone(),
            None => {
                let mut map = serde_json::Map::new();
                for (k, v) in self.0.text_fields() {
                    map.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
                }
                map.insert(
                    "message".to_owned(),
                    serde_json::Value::String(self.0.message().to_owned()),
                );
                serde_json::Value::Object(map)
            }
        }
    }
}

fn visit_json_strings(v: &serde_json::Value, visit: &mut dyn FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => visit(s),
        serde_json::Value::Array(items) => items.iter().for_each(|i| visit_json_strings(i, visit)),
        serde_json::Value::Object(map) => map.values().for_each(|i| visit_json_strings(i, visit)),
        _ => {}
    }
}

/// The compiled event and correlation rules.
pub struct EventDetectors {
    /// Per detection rule, its compiled form: built-in rules are compiled on first use (a
    /// cold start pays only for the rules its logs reach; `detectors check` compiles them all
    /// in CI), user rules at load so that their errors show at once.
    compiled: Vec<LazyRule>,
    rules: Vec<EventRule>,
    /// Per detection rule, its prefilter clauses over `literals` (ids): all must hit.
    clauses: Vec<Vec<Vec<u32>>>,
    literals: Vec<String>,
    open: bool,
    correlations: Vec<CorrelationRule>,
    /// Per detection rule: the correlations that count it, with its position in their list.
    fed_by_rule: Vec<Vec<(usize, u8)>>,
    /// Per correlation: the correlations its hot points feed, with its position in their list.
    fed_by_correlation: Vec<Vec<(usize, u8)>>,
}

/// A detection rule's compiled form, made on first use from its lowered form.
struct LazyRule {
    ir: IrRule,
    compiled: std::sync::OnceLock<Result<CompiledRule, String>>,
}

impl LazyRule {
    fn compiled(&self) -> &Result<CompiledRule, String> {
        self.compiled.get_or_init(|| {
            rsigma_eval::compile_to_compiled(&self.ir).map_err(|e| one_line(&e.to_string()))
        })
    }

    /// The compiled rule; a built-in rule that does not compile (which `detectors check`, run
    /// by CI, refuses) is logged once, naming `id`, and never matches.
    fn get(&self, id: &str) -> Option<&CompiledRule> {
        let first = self.compiled.get().is_none();
        match self.compiled() {
            Ok(rule) => Some(rule),
            Err(e) => {
                if first {
                    tracing::error!(rule = id, error = %e, "built-in event rule does not compile: disabled");
                }
                None
            }
        }
    }
}

impl std::fmt::Debug for EventDetectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventDetectors")
            .field("rules", &self.rules.len())
            .field("correlations", &self.correlations.len())
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

fn severity_of(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Critical) => Severity::Critical,
        Some(Level::High) => Severity::High,
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::Low) | Some(Level::Informational) => Severity::Low,
    }
}

fn yaml_to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

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
        .map(|pos| super::rules::line_of(text, pos))
        .unwrap_or(0)
}

/// Parsed Sigma files, before compilation.
#[derive(Default)]
pub struct EventSources {
    /// Path, text, and whether its rules may be compiled on first use (built-in files).
    files: Vec<(String, String, bool)>,
}

/// A Sigma rule's id for alerts: its `name`, else `id`, else title.
fn rule_name(name: Option<&String>, id: Option<&String>, title: &str) -> String {
    name.or(id).cloned().unwrap_or_else(|| title.to_owned())
}

/// What [`EventSources::compile`] builds up.
#[derive(Default)]
struct Compiling {
    compiled: Vec<LazyRule>,
    rules: Vec<EventRule>,
    /// name, id and title → rule; a key two rules share resolves to neither.
    keys: HashMap<String, Option<usize>>,
    lits: Vec<Cnf>,
    correlations: Vec<(String, String, rsigma_parser::CorrelationRule)>,
}

impl Compiling {
    fn add_file(
        &mut self,
        path: &str,
        text: &str,
        lazy: bool,
        warnings: &mut Vec<String>,
        ids: &mut RuleIds,
    ) -> Result<(), DetectorError> {
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
        if !coll.filters.is_empty() {
            warnings.push(format!(
                "{path}: Sigma filter rules are not supported: skipped"
            ));
        }
        for rule in coll.rules {
            self.add_rule(rule, path, text, lazy, warnings, ids)?;
        }
        for corr in coll.correlations {
            self.correlations
                .push((path.to_owned(), text.to_owned(), corr));
        }
        Ok(())
    }

    fn add_rule(
        &mut self,
        rule: SigmaRule,
        path: &str,
        text: &str,
        lazy: bool,
        warnings: &mut Vec<String>,
        ids: &mut RuleIds,
    ) -> Result<(), DetectorError> {
        let compiled = compile_detection(&rule, path, text)?;
        let err = |msg: String| DetectorError::Rule {
            path: path.to_owned(),
            line: compiled.meta.location.line,
            rule: compiled.meta.id.clone(),
            msg,
        };
        if ids.claim(&compiled.meta, false, warnings)? != super::Claim::New {
            return Ok(());
        }
        if !lazy {
            sigma_cost(&rule).map_err(&err)?;
        }
        let ir = rsigma_ir::lower_rule(&rule, &LowerOptions::default())
            .map_err(|e| err(one_line(&e.to_string())))?;
        let idx = self.rules.len();
        for key in [
            rule.id.as_deref(),
            rule.name.as_deref(),
            Some(rule.title.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            self.keys
                .entry(key.to_owned())
                .and_modify(|v| {
                    if *v != Some(idx) {
                        *v = None;
                    }
                })
                .or_insert(Some(idx));
        }
        self.lits.push(rule_lits(&ir));
        let compiled_form = std::sync::OnceLock::new();
        if !lazy {
            let c =
                rsigma_eval::compile_to_compiled(&ir).map_err(|e| err(one_line(&e.to_string())))?;
            let _ = compiled_form.set(Ok(c));
        }
        self.compiled.push(LazyRule {
            ir,
            compiled: compiled_form,
        });
        self.rules.push(compiled);
        Ok(())
    }
}

/// Refuses a rule whose values expand past [`limits::MAX_SIGMA_EXPANSION`] or whose `|re`
/// regexes are too costly.
fn sigma_cost(rule: &SigmaRule) -> Result<(), String> {
    use rsigma_parser::{Detection, Modifier};
    fn expansion(value: &str, mods: &[Modifier]) -> usize {
        let mut n = 1usize;
        for m in mods {
            n = n.saturating_mul(match m {
                // Each dash may be written five ways.
                Modifier::WindAsh => {
                    let dashes = value.matches(['-', '/']).count().min(16) as u32;
                    5usize.saturating_pow(dashes)
                }
                Modifier::Base64Offset => 3,
                _ => 1,
            });
        }
        n
    }
    fn walk(d: &Detection, total: &mut usize) -> Result<(), String> {
        match d {
            Detection::AllOf(items) => {
                for item in items {
                    for v in &item.values {
                        let text = v.to_string();
                        if item.field.modifiers.contains(&Modifier::Re) {
                            limits::regex_cost(&text)?;
                        }
                        *total = total.saturating_add(expansion(&text, &item.field.modifiers));
                    }
                }
            }
            Detection::AnyOf(ds) => {
                for x in ds {
                    walk(x, total)?;
                }
            }
            Detection::Keywords(vs) => *total = total.saturating_add(vs.len()),
            #[allow(unreachable_patterns)]
            _ => *total = total.saturating_add(1),
        }
        Ok(())
    }
    let mut total = 0usize;
    for d in rule.detection.named.values() {
        walk(d, &mut total)?;
    }
    if total > limits::MAX_SIGMA_EXPANSION {
        return Err(format!(
            "its values expand to {total} patterns (at most {}): fewer values or modifiers such as |windash",
            limits::MAX_SIGMA_EXPANSION
        ));
    }
    Ok(())
}

impl EventSources {
    /// Adds one Sigma YAML file's text; `lazy`: compile its rules on first use (built-in
    /// files, which CI checks), else at once.
    pub fn add(&mut self, path: String, text: String, lazy: bool) {
        self.files.push((path, text, lazy));
    }

    /// Whether there is nothing to compile.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Parses and compiles every file.
    pub(crate) fn compile(
        &self,
        warnings: &mut Vec<String>,
        ids: &mut RuleIds,
    ) -> Result<EventDetectors, DetectorError> {
        let mut c = Compiling::default();
        for (path, text, lazy) in &self.files {
            c.add_file(path, text, *lazy, warnings, ids)?;
        }
        let (correlations, fed_by_rule, fed_by_correlation) =
            link_correlations(&mut c, warnings, ids)?;
        let open = c.lits.iter().any(Cnf::is_open);
        let mut literals: Vec<String> = c
            .lits
            .iter()
            .flat_map(|cnf| cnf.0.iter().flatten().cloned())
            .collect();
        literals.sort();
        literals.dedup();
        let id = |l: &String| literals.binary_search(l).unwrap_or(0) as u32;
        let clauses: Vec<Vec<Vec<u32>>> = c
            .lits
            .iter()
            .map(|cnf| cnf.0.iter().map(|cl| cl.iter().map(id).collect()).collect())
            .collect();
        Ok(EventDetectors {
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
    let mut corr_keys: HashMap<String, usize> = HashMap::new();
    let mut fed_by_rule = vec![Vec::new(); c.rules.len()];
    let mut fed_by_correlation: Vec<Vec<(usize, u8)>> = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|(_, _, corr)| {
            corr.rules.iter().all(|r| {
                c.keys.contains_key(r)
                    || corr_keys.contains_key(r)
                    || !pending_names(&pending).contains(r)
            })
        });
        let (path, text, corr) = match ready {
            Some(i) => pending.remove(i),
            None => {
                let (path, text, corr) = pending.remove(0);
                let name = rule_name(corr.name.as_ref(), corr.id.as_ref(), &corr.title);
                return Err(DetectorError::Rule {
                    path: path.clone(),
                    line: line_of_value(&text, &name),
                    rule: name,
                    msg: "its correlations refer to each other in a cycle".to_owned(),
                });
            }
        };
        let compiled = compile_correlation(&corr, &path, &text, &c.keys, &corr_keys, &done)?;
        if ids.claim(&compiled.meta, false, warnings)? != super::Claim::New {
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
        for key in [corr.id.as_ref(), corr.name.as_ref(), Some(&corr.title)]
            .into_iter()
            .flatten()
        {
            corr_keys.entry(key.clone()).or_insert(idx);
        }
        fed_by_correlation.push(Vec::new());
        done.push(compiled);
    }
    Ok((done, fed_by_rule, fed_by_correlation))
}

fn pending_names(pending: &[(String, String, rsigma_parser::CorrelationRule)]) -> Vec<String> {
    pending
        .iter()
        .flat_map(|(_, _, c)| [c.id.clone(), c.name.clone(), Some(c.title.clone())])
        .flatten()
        .collect()
}

fn compile_detection(rule: &SigmaRule, path: &str, text: &str) -> Result<EventRule, DetectorError> {
    let name = rule_name(rule.name.as_ref(), rule.id.as_ref(), &rule.title);
    let line = line_of_value(text, &name);
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
    })
}

/// The measure and threshold of a correlation.
fn correlation_measure(
    corr: &rsigma_parser::CorrelationRule,
) -> Result<(Measure, Option<String>, u64), String> {
    let n = corr.rules.len();
    let temporal = |m: Measure| -> Result<(Measure, Option<String>, u64), String> {
        if !(2..=64).contains(&n) {
            return Err("a temporal correlation needs 2 to 64 rules".to_owned());
        }
        if let CorrelationCondition::Extended(_) = corr.condition {
            return Err(
                "extended temporal conditions are not supported: every listed rule must match"
                    .to_owned(),
            );
        }
        Ok((m, None, 1))
    };
    let (predicates, field) = match &corr.condition {
        CorrelationCondition::Threshold {
            predicates, field, ..
        } => (predicates.as_slice(), field.as_deref()),
        CorrelationCondition::Extended(_) => (&[][..], None),
    };
    match corr.correlation_type {
        CorrelationType::Temporal => return temporal(Measure::Temporal(n)),
        CorrelationType::TemporalOrdered => return temporal(Measure::TemporalOrdered(n)),
        _ => {}
    }
    let threshold = match predicates {
        [(ConditionOperator::Gte, n)] => *n,
        [(ConditionOperator::Gt, n)] => n.saturating_add(1),
        _ => {
            return Err(
                "only a single `gte` or `gt` condition is supported (an alert fires when a span first reaches it)"
                    .to_owned(),
            );
        }
    };
    if threshold == 0 {
        return Err("a threshold of 0 would fire on nothing".to_owned());
    }
    let one_field = |what: &str| match field {
        Some([f]) => Ok(Some(f.clone())),
        _ => Err(format!("{what} needs exactly one condition field")),
    };
    let (measure, field) = match corr.correlation_type {
        CorrelationType::EventCount => (Measure::Count, None),
        CorrelationType::ValueCount => (Measure::Distinct, one_field("value_count")?),
        CorrelationType::ValueSum => (Measure::Sum, one_field("value_sum")?),
        CorrelationType::ValueAvg => (Measure::Avg, one_field("value_avg")?),
        other => {
            return Err(format!(
                "correlation type `{}` is not supported (event_count, value_count, value_sum, value_avg, temporal, temporal_ordered)",
                other.as_str()
            ));
        }
    };
    if matches!(measure, Measure::Count | Measure::Distinct) && threshold > MAX_COUNT_THRESHOLD {
        return Err(format!(
            "threshold {threshold} is above the largest count this engine keeps exactly ({MAX_COUNT_THRESHOLD})"
        ));
    }
    Ok((measure, field, threshold))
}

fn compile_correlation(
    corr: &rsigma_parser::CorrelationRule,
    path: &str,
    text: &str,
    rule_keys: &HashMap<String, Option<usize>>,
    corr_keys: &HashMap<String, usize>,
    done: &[CorrelationRule],
) -> Result<CorrelationRule, DetectorError> {
    let name = rule_name(corr.name.as_ref(), corr.id.as_ref(), &corr.title);
    let line = line_of_value(text, &name);
    let err = |msg: String| DetectorError::Rule {
        path: path.to_owned(),
        line,
        rule: name.clone(),
        msg,
    };
    let mut sources = Vec::new();
    for r in &corr.rules {
        let src = match (rule_keys.get(r), corr_keys.get(r)) {
            (Some(Some(i)), _) => CorrelationSource::Rule(*i),
            (Some(None), _) => {
                return Err(err(format!(
                    "refers to `{r}`, which names more than one rule: refer to it by its id or name"
                )));
            }
            (None, Some(&k)) => {
                if done[k].group_by != corr.group_by {
                    return Err(err(format!(
                        "refers to correlation `{r}`, whose group-by differs from its own"
                    )));
                }
                CorrelationSource::Correlation(k)
            }
            (None, None) => return Err(err(format!("refers to unknown rule `{r}`"))),
        };
        sources.push(src);
    }
    if corr.window != rsigma_parser::WindowMode::Sliding {
        return Err(err(
            "only sliding windows are supported (the default `window`)".to_owned(),
        ));
    }
    let (measure, field, threshold) = correlation_measure(corr).map_err(&err)?;
    let timespan_ms = i64::try_from(corr.timespan.seconds)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .filter(|&ms| ms > 0 && ms <= 30 * 24 * 3600 * 1000)
        .ok_or_else(|| err("timespan must be between 1 second and 30 days".to_owned()))?;
    let tests = match corr.custom_attributes.get(ATTR_TESTS).map(yaml_to_json) {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v).map_err(|e| err(format!("{ATTR_TESTS}: {e}")))?,
    };
    Ok(CorrelationRule {
        meta: RuleMeta {
            id: name.clone(),
            title: corr.title.clone(),
            severity: severity_of(corr.level),
            kind: FindingKind::Threshold,
            tags: corr.tags.clone(),
            location: Location {
                file: path.to_owned(),
                line,
            },
        },
        measure,
        field,
        sources,
        group_by: corr.group_by.clone(),
        timespan_ms,
        threshold,
        tests,
    })
}

impl EventDetectors {
    /// An empty set.
    pub fn empty() -> Self {
        EventDetectors {
            compiled: Vec::new(),
            rules: Vec::new(),
            clauses: Vec::new(),
            literals: Vec::new(),
            open: false,
            correlations: Vec::new(),
            fed_by_rule: Vec::new(),
            fed_by_correlation: Vec::new(),
        }
    }

    /// The detection rules.
    pub fn rules(&self) -> &[EventRule] {
        &self.rules
    }

    /// The correlation rules.
    pub fn correlations(&self) -> &[CorrelationRule] {
        &self.correlations
    }

    /// The correlations that count matches of detection rule `rule`, each with the rule's
    /// position in the correlation's rule list.
    pub fn fed_by_rule(&self, rule: usize) -> &[(usize, u8)] {
        self.fed_by_rule.get(rule).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The correlations that the hot points of correlation `corr` feed, each with `corr`'s
    /// position in their rule list.
    pub fn fed_by_correlation(&self, corr: usize) -> &[(usize, u8)] {
        self.fed_by_correlation
            .get(corr)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The prefilter's literals (lowercase). [`DetectorSet`](super::DetectorSet) matches them
    /// in the same automaton pass as the content keywords and hands the hits to
    /// [`EventDetectors::candidate`].
    pub fn literals(&self) -> &[String] {
        &self.literals
    }

    /// Whether a line can match any event rule, given which of [`EventDetectors::literals`]
    /// occur in it (`hits`: a bitset indexed by literal id). A rule is a candidate when every
    /// one of its clauses has a hit.
    pub fn candidate(&self, hits: &[u64]) -> bool {
        if self.open {
            return true;
        }
        if hits.iter().all(|&w| w == 0) {
            return false;
        }
        (0..self.clauses.len()).any(|r| self.rule_candidate(r, hits))
    }

    /// Whether detection rule `rule` can match a line with these literal `hits` (see
    /// [`EventDetectors::candidate`]).
    pub fn rule_candidate(&self, rule: usize, hits: &[u64]) -> bool {
        let hit = |l: u32| {
            hits.get(l as usize / 64)
                .is_some_and(|w| w >> (l % 64) & 1 != 0)
        };
        self.clauses
            .get(rule)
            .is_none_or(|cl| cl.iter().all(|c| c.iter().any(|&l| hit(l))))
    }

    /// Evaluates a record, appending the indices of the matching detection rules. With the
    /// literal `hits` of its line ([`EventDetectors::candidate`]), only the rules whose
    /// prefilter it passes are evaluated; `None` evaluates every rule.
    pub fn evaluate(&self, record: &Record<'_>, hits: Option<&[u64]>, out: &mut Vec<usize>) {
        let event = RecordEvent(record);
        for (i, lazy) in self.compiled.iter().enumerate() {
            if hits.is_some_and(|h| !self.rule_candidate(i, h)) {
                continue;
            }
            if let Some(rule) = lazy.get(&self.rules[i].meta.id)
                && rsigma_eval::evaluate_rule(rule, &event).is_some()
                && !out.contains(&i)
            {
                out.push(i);
            }
        }
    }

    /// Compiles every rule not compiled yet; returns the rules that do not compile, with
    /// why (`detectors check` fails on them).
    pub fn compile_all(&self) -> Vec<(&EventRule, String)> {
        self.compiled
            .iter()
            .zip(&self.rules)
            .filter_map(|(lazy, r)| lazy.compiled().as_ref().err().map(|e| (r, e.clone())))
            .collect()
    }

    /// The severity of an alert of rule `rule` on `record`.
    pub fn severity(&self, rule: usize, record: &Record<'_>) -> Severity {
        let r = &self.rules[rule];
        r.severity_field
            .as_deref()
            .and_then(|f| record.field(f))
            .and_then(|v| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(r.meta.severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn a_value_list_is_one_sorted_clause_without_repeats() {
        let cnf = Cnf::or(["b", "a", "c", "a", "b"].map(literal));
        assert_eq!(cnf, Cnf(vec![clause(&["a", "b", "c"])]));
    }

    #[test]
    fn a_disjunction_of_conjunctions_is_distributed() {
        let ab = Cnf::and([literal("a"), literal("b")]);
        let cnf = Cnf::or([ab, literal("c")]);
        assert_eq!(cnf.0.len(), 2, "{cnf:?}");
        assert!(cnf.0.contains(&clause(&["a", "c"])), "{cnf:?}");
        assert!(cnf.0.contains(&clause(&["b", "c"])), "{cnf:?}");
        // A value list then a conjunction: each side's clauses joined pairwise.
        let cnf = Cnf::or([
            literal("x"),
            literal("y"),
            Cnf::and([literal("p"), literal("q")]),
        ]);
        assert!(cnf.0.contains(&clause(&["p", "x", "y"])), "{cnf:?}");
        assert!(cnf.0.contains(&clause(&["q", "x", "y"])), "{cnf:?}");
        assert!(Cnf::or([literal("x"), Cnf::open()]).is_open());
    }

    /// Built-in files skip the cost limits at load (their rules compile on first use); this
    /// holds every one of them to the limits a user's file must meet.
    #[test]
    fn builtin_files_are_within_the_cost_limits() {
        let mut rules = 0;
        for (path, text) in super::super::builtin::BUILTIN_FILES {
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
