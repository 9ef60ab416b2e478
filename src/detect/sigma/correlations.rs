//! Sigma correlation rules: what a file's parsing job makes of one ([`PreparedCorrelation`]:
//! everything that does not depend on another rule, kept ahead of time for built-in files by
//! `prebuilt`), and linking it to the rules it counts once every rule is known.

use rsigma_parser::{ConditionOperator, CorrelationCondition, CorrelationType, Level};
use serde::{Deserialize, Serialize};

use super::model::ATTR_TESTS;
use crate::detect::correlation::{CorrelationRule, CorrelationSource, CorrelationTest};
use crate::detect::correlation::{MAX_COUNT_THRESHOLD, Measure};
use crate::detect::error::DetectorError;
use crate::detect::rules::{Location, RuleMeta};
use crate::severity::{FindingKind, Severity};

/// The severity of a Sigma `level`.
pub(super) fn severity_of(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Critical) => Severity::Critical,
        Some(Level::High) => Severity::High,
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::Low) | Some(Level::Informational) => Severity::Low,
    }
}

/// A parsed YAML value as JSON (`Null` if it has no JSON form).
pub(super) fn yaml_to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// A Sigma rule's id for alerts: its `name`, else `id`, else title.
pub(super) fn rule_name(name: Option<&String>, id: Option<&String>, title: &str) -> String {
    name.or(id).cloned().unwrap_or_else(|| title.to_owned())
}

/// A correlation as its file's parsing job leaves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct PreparedCorrelation {
    /// Its id for alerts ([`rule_name`]).
    pub(super) name: String,
    /// Its id, name and title: what other correlations may name it by.
    pub(super) keys: [Option<String>; 3],
    pub(super) title: String,
    pub(super) severity: Severity,
    pub(super) tags: Vec<String>,
    /// The rules and correlations it counts, as written.
    pub(super) rules: Vec<String>,
    pub(super) group_by: Vec<String>,
    /// Whether the rules it counts raise their own alerts too.
    pub(super) generate: bool,
    /// What it measures, or the first thing about it that is not supported (reported when it
    /// is linked, after its references, as when it was compiled in one go).
    pub(super) checked: Result<Checked, String>,
}

/// A correlation's measure, field, threshold, span and tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Checked {
    measure: Measure,
    field: Option<String>,
    threshold: u64,
    timespan_ms: i64,
    tests: Vec<CorrelationTest>,
}

/// Prepares a parsed correlation: all of its compilation that needs no other rule.
pub(super) fn prepare(corr: rsigma_parser::CorrelationRule) -> PreparedCorrelation {
    let checked = (|| {
        if corr.window != rsigma_parser::WindowMode::Sliding {
            return Err("only sliding windows are supported (the default `window`)".to_owned());
        }
        let (measure, field, threshold) = correlation_measure(&corr)?;
        let timespan_ms = i64::try_from(corr.timespan.seconds)
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .filter(|&ms| ms > 0 && ms <= 30 * 24 * 3600 * 1000)
            .ok_or_else(|| "timespan must be between 1 second and 30 days".to_owned())?;
        let tests = match corr.custom_attributes.get(ATTR_TESTS).map(yaml_to_json) {
            None => Vec::new(),
            Some(v) => serde_json::from_value(v).map_err(|e| format!("{ATTR_TESTS}: {e}"))?,
        };
        Ok(Checked {
            measure,
            field,
            threshold,
            timespan_ms,
            tests,
        })
    })();
    PreparedCorrelation {
        name: rule_name(corr.name.as_ref(), corr.id.as_ref(), &corr.title),
        severity: severity_of(corr.level),
        checked,
        title: corr.title.clone(),
        keys: [corr.id, corr.name, Some(corr.title)],
        tags: corr.tags,
        rules: corr.rules,
        group_by: corr.group_by,
        generate: corr.generate,
    }
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

/// Links a prepared correlation to the rules (`rule_keys`) and the correlations already
/// linked (`corr_keys`, `done`) it counts.
pub(super) fn link(
    corr: &PreparedCorrelation,
    path: &str,
    line: usize,
    rule_keys: &foldhash::HashMap<String, Option<usize>>,
    corr_keys: &foldhash::HashMap<String, usize>,
    done: &[CorrelationRule],
) -> Result<CorrelationRule, DetectorError> {
    let err = |msg: String| DetectorError::Rule {
        path: path.to_owned(),
        line,
        rule: corr.name.clone(),
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
    let checked = corr.checked.clone().map_err(&err)?;
    Ok(CorrelationRule {
        meta: RuleMeta {
            id: corr.name.clone(),
            title: corr.title.clone(),
            severity: corr.severity,
            kind: FindingKind::Threshold,
            tags: corr.tags.clone(),
            location: Location {
                file: path.to_owned(),
                line,
            },
        },
        measure: checked.measure,
        field: checked.field,
        sources,
        group_by: corr.group_by.clone(),
        timespan_ms: checked.timespan_ms,
        threshold: checked.threshold,
        tests: checked.tests,
    })
}
