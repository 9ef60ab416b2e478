//! `detectors check`: every rule's inline tests, run through the same stages as production
//! (prefilter, parser, evaluation, correlation windows).

use std::borrow::Cow;
use std::sync::Arc;

use crate::decode::{Batch, LogEvent, MessageType};
use crate::detect::{CheckFailure, DetectorSet, FindingKind, Scratch};
use crate::pipeline::{Config, Pipeline};
use crate::record::Parser;

/// Log group the examples are parsed under (so `function` is `example-fn`).
pub const EXAMPLE_LOG_GROUP: &str = "/aws/lambda/example-fn";
/// 2026-11-25T10:00:00Z, the origin of correlation test times.
pub const TEST_T0_MS: i64 = 1_795_600_800_000;

fn event(id: String, ts: Option<i64>, message: &str) -> LogEvent<'_> {
    LogEvent {
        id: Cow::Owned(id),
        timestamp_ms: ts,
        message: Cow::Borrowed(message),
        truncated: false,
    }
}

/// Whether event rule `rule` matches the raw line `line` (prefilter included).
pub fn event_rule_matches(set: &DetectorSet, parser: &Parser, rule: usize, line: &str) -> bool {
    let events = set.events();
    let mut scratch = Scratch::default();
    set.scan(line.as_bytes(), &mut scratch, &mut Vec::new());
    if !events.rule_candidate(rule, scratch.literal_hits()) {
        return false;
    }
    let ev = event("1".into(), Some(TEST_T0_MS), line);
    let record = parser.parse(&ev, EXAMPLE_LOG_GROUP);
    let mut out = Vec::new();
    events.evaluate(&record, &mut out);
    out.contains(&rule)
}

/// Runs every rule's tests: content examples, event rule examples, correlation tests.
/// A rule with no test of each polarity fails too.
pub fn check(set: &Arc<DetectorSet>) -> Vec<CheckFailure> {
    let mut failures = set.check_content();
    let parser = Parser::new();
    let events = set.events();
    for (i, rule) in events.rules().iter().enumerate() {
        let fail = |problem: String| CheckFailure {
            rule: rule.name.clone(),
            location: format!("{}:{}", rule.source, rule.line),
            problem,
        };
        if rule.examples.is_empty() {
            failures.push(fail("has no logwarden.examples".into()));
        }
        if rule.negative_examples.is_empty() {
            failures.push(fail("has no logwarden.negative_examples".into()));
        }
        for (n, ex) in rule.examples.iter().enumerate() {
            if !event_rule_matches(set, &parser, i, ex) {
                failures.push(fail(format!("example #{} does not match", n + 1)));
            }
        }
        for (n, ex) in rule.negative_examples.iter().enumerate() {
            if event_rule_matches(set, &parser, i, ex) {
                failures.push(fail(format!("negative example #{} matches", n + 1)));
            }
        }
    }
    for corr in events.correlations() {
        let fail = |problem: String| CheckFailure {
            rule: corr.name.clone(),
            location: format!("{}:{}", corr.source, corr.line),
            problem,
        };
        if !corr.tests.iter().any(|t| t.expect > 0) {
            failures.push(fail("has no logwarden.tests entry that fires".into()));
        }
        if !corr.tests.iter().any(|t| t.expect == 0) {
            failures.push(fail("has no logwarden.tests entry that stays quiet".into()));
        }
        for test in &corr.tests {
            let mut lines = Vec::new();
            for e in &test.events {
                for n in 0..e.repeat {
                    let t = TEST_T0_MS + ((e.at + e.every * f64::from(n)) * 1000.0) as i64;
                    lines.push((t, e.message.replace("{n}", &n.to_string())));
                }
            }
            let batch = Batch {
                message_type: MessageType::Data,
                owner: Cow::Borrowed("123456789012"),
                log_group: Cow::Borrowed(EXAMPLE_LOG_GROUP),
                log_stream: Cow::Borrowed("test"),
                events: lines
                    .iter()
                    .enumerate()
                    .map(|(k, (t, m))| event(format!("{k:056}"), Some(*t), m))
                    .collect(),
            };
            let config = Config {
                throttle: None,
                ..Config::default()
            };
            let mut pipeline = Pipeline::new(Arc::clone(set), config);
            let mut fired = 0u64;
            let result = pipeline.process_batch(&batch, &mut |a| {
                if a.kind == FindingKind::Threshold && a.rule_id == corr.name {
                    fired += 1;
                }
            });
            if let Err(e) = result {
                failures.push(fail(format!("test `{}`: {e}", test.name)));
            } else if fired != test.expect {
                failures.push(fail(format!(
                    "test `{}`: {fired} threshold alert(s), expected {}",
                    test.name, test.expect
                )));
            }
        }
    }
    failures
}
