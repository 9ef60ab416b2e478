//! The compiled event rules and their evaluation: [`EventRule`] (what a Sigma detection rule
//! says, with logwarden's attributes), [`EventDetectors`] (every rule, the prefilter's
//! clauses and the correlations linked to the rules they count).

use std::borrow::Cow;

use rsigma_eval::CompiledRule;
use rsigma_ir::IrRule;

use super::adapter::RecordEvent;
use super::cnf::NAME_FIELD;
use super::dispatch::Dispatch;
use crate::detect::correlation::CorrelationRule;
use crate::detect::error::one_line;
use crate::detect::rules::RuleMeta;
use crate::record::Record;
use crate::severity::Severity;

/// Custom attribute: log lines that must match a detection rule.
pub const ATTR_EXAMPLES: &str = "logwarden.examples";
/// Custom attribute: log lines that must not match a detection rule.
pub const ATTR_NEGATIVE: &str = "logwarden.negative_examples";
/// Custom attribute: a field holding the alert severity (`low` ... `critical`).
pub const ATTR_SEVERITY_FIELD: &str = "logwarden.severity_field";
/// Custom attribute: event sequences a correlation rule is tested with.
pub const ATTR_TESTS: &str = "logwarden.tests";

/// One compiled Sigma detection rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// The rule reads `errorCode` or `errorMessage`: it is about failed calls, so a failure
    /// is its point (other rules rank a failed call lower).
    pub about_failures: bool,
    /// The record kinds its Sigma `logsource` allows (empty: any).
    pub kinds: Vec<crate::record::RecordKind>,
}

impl EventRule {
    /// Whether the rule reads only CloudTrail records (`logsource: product: aws, service:
    /// cloudtrail`).
    pub fn for_cloudtrail(&self) -> bool {
        self.kinds == [crate::record::RecordKind::CloudTrail]
    }

    /// Whether the rule may match a record from a source of kind `source` (a CloudTrail rule
    /// never matches an application's log line, whatever it looks like).
    pub fn may_come_from(&self, source: crate::record::SourceKind) -> bool {
        self.kinds.is_empty() || self.kinds.iter().any(|k| k.comes_from(source))
    }

    /// Whether the rule may match a record of `kind` (its `logsource` honoured).
    pub fn reads(&self, kind: crate::record::RecordKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }
}

/// How an event rule's matches are grouped (see [`EventRule::grouping`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grouping {
    /// The field whose value groups matches (`userIdentity.arn`).
    pub field: String,
    /// A group stays open while its matches are at most this far apart (ms).
    pub window_ms: i64,
    /// The field listed in the summary (`eventName`).
    pub list_field: Option<String>,
}

/// The compiled event and correlation rules.
pub struct EventDetectors {
    /// Per detection rule, its compiled form: built-in rules are compiled on first use (a
    /// cold start pays only for the rules its logs reach; `detectors check` compiles them all
    /// in CI), user rules at load so that their errors show at once.
    pub(super) compiled: Vec<LazyRule>,
    pub(super) rules: Vec<EventRule>,
    /// Per detection rule, its prefilter clauses over `literals` (ids): all must hit.
    pub(super) clauses: Vec<Vec<Vec<u32>>>,
    pub(super) literals: Vec<String>,
    pub(super) open: bool,
    /// From literal hits and a CloudTrail record's `eventName` to the rules worth trying.
    pub(super) dispatch: Dispatch,
    pub(super) correlations: Vec<CorrelationRule>,
    /// Per detection rule: the correlations that count it, with its position in their list.
    pub(super) fed_by_rule: Vec<Vec<(usize, u8)>>,
    /// Per correlation: the correlations its hot points feed, with its position in their list.
    pub(super) fed_by_correlation: Vec<Vec<(usize, u8)>>,
}

/// A rule's lowered form: made here, or a built-in rule's JSON in `prebuilt.jsonl`, read when
/// the rule is first compiled (reading every built-in rule's was most of a cold start's Sigma
/// build, and a payload compiles a few of them).
#[derive(Debug)]
pub(super) enum RuleIr {
    /// Lowered from the YAML.
    Lowered(Box<IrRule>),
    /// The JSON of the lowered form, embedded in the binary.
    Prepared(&'static str),
}

impl RuleIr {
    /// The lowered form (read from its JSON for a prepared rule; an error if it does not read,
    /// which the prepared file's test prevents).
    pub(super) fn get(&self) -> Result<Cow<'_, IrRule>, String> {
        match self {
            RuleIr::Lowered(ir) => Ok(Cow::Borrowed(ir)),
            RuleIr::Prepared(json) => serde_json::from_str(json)
                .map(Cow::Owned)
                .map_err(|e| format!("prepared lowered form does not read: {e}")),
        }
    }
}

/// A detection rule's compiled form, made on first use from its lowered form.
pub(super) struct LazyRule {
    pub(super) ir: RuleIr,
    pub(super) compiled: std::sync::OnceLock<Result<CompiledRule, String>>,
}

impl LazyRule {
    fn compiled(&self) -> &Result<CompiledRule, String> {
        self.compiled.get_or_init(|| {
            let ir = self.ir.get()?;
            rsigma_eval::compile_to_compiled(&ir).map_err(|e| one_line(&e.to_string()))
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

impl EventDetectors {
    /// An empty set.
    pub fn empty() -> Self {
        EventDetectors {
            compiled: Vec::new(),
            rules: Vec::new(),
            clauses: Vec::new(),
            literals: Vec::new(),
            open: false,
            dispatch: Dispatch::default(),
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

    /// The prefilter's literals (lowercase). [`DetectorSet`](crate::DetectorSet) matches them
    /// in the same automaton pass as the content keywords and hands the hits to
    /// [`EventDetectors::candidate`].
    pub fn literals(&self) -> &[String] {
        &self.literals
    }

    /// Whether a line can match any event rule, given which of [`EventDetectors::literals`]
    /// occur in it (`hits`: a bitset indexed by literal id). A rule is a candidate when every
    /// one of its clauses has a hit.
    pub fn candidate(&self, hits: &[u64], source: crate::record::SourceKind) -> bool {
        if self.open {
            return true;
        }
        self.dispatch.any(hits, |r| {
            self.rule_candidate(r as usize, hits) && self.rules[r as usize].may_come_from(source)
        })
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
    ///
    /// The rules tried are found through a dispatch index: a CloudTrail record's `eventName` and
    /// the line's literal hits lead to them, so the cost does not grow with the rule count.
    pub fn evaluate(&self, record: &Record<'_>, hits: Option<&[u64]>, out: &mut Vec<usize>) {
        let event = RecordEvent(record);
        let kind = record.kind();
        // The rules to try are gathered at the end of `out` (no allocation per record), then
        // kept in place only where they match.
        let start = out.len();
        match hits {
            None => out.extend(0..self.compiled.len()),
            Some(h) => {
                let name = (kind == crate::record::RecordKind::CloudTrail)
                    .then(|| record.field(NAME_FIELD));
                let cloudtrail = name.as_ref().map(|v| v.as_ref().and_then(|v| v.as_str()));
                self.dispatch.reach(h, cloudtrail, out);
                out[start..].sort_unstable();
            }
        }
        let mut kept = start;
        for k in start..out.len() {
            let i = out[k];
            let repeated = k > start && out[k - 1] == i;
            let Some(lazy) = self.compiled.get(i) else {
                continue;
            };
            if repeated
                || hits.is_some_and(|h| !self.rule_candidate(i, h))
                || !self.rules[i].reads(kind)
                || out[..start].contains(&i)
            {
                continue;
            }
            if let Some(rule) = lazy.get(&self.rules[i].meta.id)
                && rsigma_eval::evaluate_rule(rule, &event).is_some()
            {
                out[kept] = i;
                kept += 1;
            }
        }
        out.truncate(kept);
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
