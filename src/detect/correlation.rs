//! The correlation rule model: what a Sigma correlation rule says (its measure, threshold,
//! span, group-by and the rules it counts), apart from how it is parsed (`sigma::compile`) and
//! how its state is kept (`crate::correlate`).

use serde::{Deserialize, Serialize};

use super::rules::RuleMeta;

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// A detection rule (index into [`EventDetectors::rules`](super::sigma::EventDetectors::rules)).
    Rule(usize),
    /// A correlation rule (index into
    /// [`EventDetectors::correlations`](super::sigma::EventDetectors::correlations)).
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

/// How a correlation measures a span.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Measure {
    /// `event_count`: events (each event counted once, however often it is delivered).
    Count,
    /// `value_count`: distinct values (each value counted at its latest occurrence).
    Distinct,
    /// `value_sum`: the sum of a numeric field.
    Sum,
    /// `value_avg`: the average of a numeric field.
    Avg,
    /// `temporal`: every one of `n` referenced rules matched in the span, in any order.
    Temporal(usize),
    /// `temporal_ordered`: the `n` referenced rules matched in the span in their listed order.
    TemporalOrdered(usize),
}

/// What the sliding engine needs to know of a correlation rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    /// How a span is measured.
    pub measure: Measure,
    /// The value a span must reach (`gte`); ignored by the temporal measures.
    pub threshold: f64,
    /// Span length, ms.
    pub timespan_ms: i64,
}

/// The highest `event_count` / `value_count` threshold a rule may have: a key holds up to
/// twice its threshold of points, so higher thresholds are refused at load.
pub const MAX_COUNT_THRESHOLD: u64 = 100_000;
