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

use rsigma_eval::{Engine, Event, EventValue};
use rsigma_ir::{IrCondition, IrDetection, IrMatcher, IrPatternPart, IrRule, LowerOptions};
use rsigma_parser::{
    ConditionOperator, CorrelationCondition, CorrelationType, Level, Quantifier, SelectorPattern,
    SigmaRule,
};
use serde::Deserialize;

use super::content::one_line;
use super::{DetectorError, Severity};
use crate::record::{FieldValue, Record, derived_value};

/// Custom attribute: log lines that must match a detection rule.
pub const ATTR_EXAMPLES: &str = "logwarden.examples";
/// Custom attribute: log lines that must not match a detection rule.
pub const ATTR_NEGATIVE: &str = "logwarden.negative_examples";
/// Custom attribute: a field holding the alert severity (`low` ... `critical`).
pub const ATTR_SEVERITY_FIELD: &str = "logwarden.severity_field";
/// Custom attribute: event sequences a correlation rule is tested with.
pub const ATTR_TESTS: &str = "logwarden.tests";

/// One compiled Sigma detection rule's metadata.
#[derive(Debug, Clone)]
pub struct EventRule {
    /// The rule's `name` (else its `id`, else its title): the alert `rule_id`.
    pub name: String,
    /// The rule's title: the alert title.
    pub title: String,
    /// Severity from `level` (`informational` counts as low).
    pub severity: Severity,
    /// A record field that, when it holds a severity name, overrides `severity`.
    pub severity_field: Option<String>,
    /// Whether a match produces its own alert (false when only correlations use it).
    pub generate: bool,
    /// Log lines that must match.
    pub examples: Vec<String>,
    /// Log lines that must not match.
    pub negative_examples: Vec<String>,
    /// The file it came from.
    pub source: String,
    /// Line of its name/title in that file.
    pub line: usize,
}

/// What a correlation counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountKind {
    /// `event_count`: matching events.
    Events,
    /// `value_count`: distinct values of this field.
    DistinctValues(String),
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

/// A compiled correlation rule.
#[derive(Debug, Clone)]
pub struct CorrelationRule {
    /// `name` (else `id`, else title): the alert `rule_id`.
    pub name: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// What is counted.
    pub kind: CountKind,
    /// Indices of the detection rules whose matches are counted.
    pub base: Vec<usize>,
    /// Group-by fields.
    pub group_by: Vec<String>,
    /// Window length in milliseconds (tumbling, aligned to the epoch).
    pub timespan_ms: i64,
    /// The count at which it fires (`gte` form).
    pub threshold: u64,
    /// Tests.
    pub tests: Vec<CorrelationTest>,
    /// The file it came from.
    pub source: String,
    /// Line of its name/title in that file.
    pub line: usize,
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
    fn or(items: impl IntoIterator<Item = Cnf>) -> Cnf {
        let mut acc: Option<Cnf> = None;
        for item in items {
            if item.is_open() {
                return Cnf::open();
            }
            acc = Some(match acc {
                None => item,
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
        acc.unwrap_or_default()
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
        match self.0.field(path)? {
            FieldValue::Text(s) => Some(EventValue::Str(Cow::Borrowed(s))),
            FieldValue::Json(v) => Some(EventValue::from(v)),
        }
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

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        visit(self.0.message());
        for (_, v) in self.0.text_fields() {
            visit(v);
        }
        if let Some(json) = self.0.json() {
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
    engine: Engine,
    rules: Vec<EventRule>,
    by_key: HashMap<String, usize>,
    /// Per detection rule, its prefilter clauses over `literals` (ids): all must hit.
    clauses: Vec<Vec<Vec<u32>>>,
    literals: Vec<String>,
    open: bool,
    correlations: Vec<CorrelationRule>,
    by_base: Vec<Vec<usize>>,
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
    files: Vec<(String, String)>,
}

impl EventSources {
    /// Adds one Sigma YAML file's text.
    pub fn add(&mut self, path: String, text: String) {
        self.files.push((path, text));
    }

    /// Whether there is nothing to compile.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Parses and compiles every file.
    pub fn compile(
        &self,
        warnings: &mut Vec<String>,
        seen: &mut HashMap<String, String>,
    ) -> Result<EventDetectors, DetectorError> {
        let mut engine = Engine::new();
        let mut rules: Vec<EventRule> = Vec::new();
        let mut by_key = HashMap::new();
        let mut lits = Vec::new();
        let mut pending_corr = Vec::new();
        for (path, text) in &self.files {
            let coll =
                rsigma_parser::parse_sigma_yaml(text).map_err(|e| DetectorError::Syntax {
                    path: path.clone(),
                    msg: one_line(&e.to_string()),
                })?;
            if !coll.errors.is_empty() {
                return Err(DetectorError::Syntax {
                    path: path.clone(),
                    msg: coll.errors.join("; "),
                });
            }
            for _ in &coll.filters {
                warnings.push(format!(
                    "{path}: Sigma filter rules are not supported: skipped"
                ));
            }
            let first = rules.len();
            for rule in &coll.rules {
                let compiled = compile_detection(rule, path, text)?;
                if let Some(prev) = seen.get(&compiled.name) {
                    return Err(DetectorError::DuplicateId {
                        path: path.clone(),
                        line: compiled.line,
                        rule: compiled.name.clone(),
                        first: prev.clone(),
                    });
                }
                seen.insert(compiled.name.clone(), format!("{path}:{}", compiled.line));
                let ir = rsigma_ir::lower_rule(rule, &LowerOptions::default()).map_err(|e| {
                    DetectorError::Rule {
                        path: path.clone(),
                        line: compiled.line,
                        rule: compiled.name.clone(),
                        msg: one_line(&e.to_string()),
                    }
                })?;
                lits.push(rule_lits(&ir));
                let idx = rules.len();
                for key in [
                    rule.id.as_deref(),
                    rule.name.as_deref(),
                    Some(rule.title.as_str()),
                ]
                .into_iter()
                .flatten()
                {
                    by_key.entry(key.to_owned()).or_insert(idx);
                }
                rules.push(compiled);
            }
            if let Some((i, err)) = engine.add_rules(coll.rules.iter()).into_iter().next() {
                let r = &rules[first + i];
                return Err(DetectorError::Rule {
                    path: path.clone(),
                    line: r.line,
                    rule: r.name.clone(),
                    msg: one_line(&err.to_string()),
                });
            }
            for corr in coll.correlations {
                pending_corr.push((path.clone(), text.clone(), corr));
            }
        }
        let mut correlations = Vec::new();
        let mut by_base = vec![Vec::new(); rules.len()];
        for (path, text, corr) in pending_corr {
            let c = compile_correlation(&corr, &path, &text, &by_key)?;
            if let Some(prev) = seen.get(&c.name) {
                return Err(DetectorError::DuplicateId {
                    path: path.clone(),
                    line: c.line,
                    rule: c.name.clone(),
                    first: prev.clone(),
                });
            }
            seen.insert(c.name.clone(), format!("{path}:{}", c.line));
            for &b in &c.base {
                by_base[b].push(correlations.len());
                if !corr.generate {
                    rules[b].generate = false;
                }
            }
            correlations.push(c);
        }
        let open = lits.iter().any(Cnf::is_open);
        let mut literals: Vec<String> = lits
            .iter()
            .flat_map(|c| c.0.iter().flatten().cloned())
            .collect();
        literals.sort();
        literals.dedup();
        let id = |l: &String| literals.binary_search(l).unwrap_or(0) as u32;
        let clauses: Vec<Vec<Vec<u32>>> = lits
            .iter()
            .map(|c| c.0.iter().map(|cl| cl.iter().map(id).collect()).collect())
            .collect();
        Ok(EventDetectors {
            engine,
            rules,
            by_key,
            clauses,
            literals,
            open,
            correlations,
            by_base,
        })
    }
}

fn compile_detection(rule: &SigmaRule, path: &str, text: &str) -> Result<EventRule, DetectorError> {
    let name = rule
        .name
        .clone()
        .or_else(|| rule.id.clone())
        .unwrap_or_else(|| rule.title.clone());
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
    Ok(EventRule {
        name: name.clone(),
        title: rule.title.clone(),
        severity: severity_of(rule.level),
        severity_field,
        generate: true,
        examples,
        negative_examples,
        source: path.to_owned(),
        line,
    })
}

fn compile_correlation(
    corr: &rsigma_parser::CorrelationRule,
    path: &str,
    text: &str,
    by_key: &HashMap<String, usize>,
) -> Result<CorrelationRule, DetectorError> {
    let name = corr
        .name
        .clone()
        .or_else(|| corr.id.clone())
        .unwrap_or_else(|| corr.title.clone());
    let line = line_of_value(text, &name);
    let err = |msg: String| DetectorError::Rule {
        path: path.to_owned(),
        line,
        rule: name.clone(),
        msg,
    };
    let mut base = Vec::new();
    for r in &corr.rules {
        let idx = by_key
            .get(r)
            .copied()
            .ok_or_else(|| err(format!("refers to unknown rule `{r}`")))?;
        base.push(idx);
    }
    let (predicates, field) = match &corr.condition {
        CorrelationCondition::Threshold {
            predicates, field, ..
        } => (predicates, field),
        CorrelationCondition::Extended(_) => {
            return Err(err("only threshold conditions are supported".to_owned()));
        }
    };
    let threshold = match predicates.as_slice() {
        [(ConditionOperator::Gte, n)] => *n,
        [(ConditionOperator::Gt, n)] => n.saturating_add(1),
        _ => {
            return Err(err(
                "only a single `gte` or `gt` condition is supported (an alert fires when the count first reaches it)"
                    .to_owned(),
            ));
        }
    };
    if threshold == 0 {
        return Err(err("a threshold of 0 would fire on nothing".to_owned()));
    }
    let kind = match corr.correlation_type {
        CorrelationType::EventCount => CountKind::Events,
        CorrelationType::ValueCount => match field.as_deref() {
            Some([f]) => CountKind::DistinctValues(f.clone()),
            _ => {
                return Err(err(
                    "value_count needs exactly one condition field".to_owned()
                ));
            }
        },
        other => {
            return Err(err(format!(
                "correlation type `{}` is not supported (event_count, value_count)",
                other.as_str()
            )));
        }
    };
    let timespan_ms = i64::try_from(corr.timespan.seconds)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .filter(|&ms| ms > 0)
        .ok_or_else(|| err("timespan must be positive".to_owned()))?;
    let tests = match corr.custom_attributes.get(ATTR_TESTS).map(yaml_to_json) {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v).map_err(|e| err(format!("{ATTR_TESTS}: {e}")))?,
    };
    Ok(CorrelationRule {
        name: name.clone(),
        title: corr.title.clone(),
        severity: severity_of(corr.level),
        kind,
        base,
        group_by: corr.group_by.clone(),
        timespan_ms,
        threshold,
        tests,
        source: path.to_owned(),
        line,
    })
}

impl EventDetectors {
    /// An empty set.
    pub fn empty() -> Self {
        EventDetectors {
            engine: Engine::new(),
            rules: Vec::new(),
            by_key: HashMap::new(),
            clauses: Vec::new(),
            literals: Vec::new(),
            open: false,
            correlations: Vec::new(),
            by_base: Vec::new(),
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

    /// Correlations that count matches of detection rule `rule`.
    pub fn correlations_of(&self, rule: usize) -> &[usize] {
        self.by_base.get(rule).map(Vec::as_slice).unwrap_or(&[])
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

    /// Evaluates a record, appending the indices of the matching detection rules.
    pub fn evaluate(&self, record: &Record<'_>, out: &mut Vec<usize>) {
        for m in self.engine.evaluate(&RecordEvent(record)) {
            let idx = m
                .header
                .rule_id
                .as_deref()
                .and_then(|id| self.by_key.get(id))
                .or_else(|| self.by_key.get(&m.header.rule_title));
            if let Some(&i) = idx
                && !out.contains(&i)
            {
                out.push(i);
            }
        }
    }

    /// The severity of an alert of rule `rule` on `record`.
    pub fn severity(&self, rule: usize, record: &Record<'_>) -> Severity {
        let r = &self.rules[rule];
        r.severity_field
            .as_deref()
            .and_then(|f| record.field(f))
            .and_then(|v| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(r.severity)
    }
}
