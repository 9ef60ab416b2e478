//! The one self-check module: `detectors check` runs every rule's inline tests (content
//! examples, event rule examples, correlation tests) through the same stages as production
//! (keyword automaton, windows, validators and allowlists; prefilter, parser and evaluation;
//! correlation state), and `detectors list` lists the rules.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use crate::alert::Fingerprinter;
use crate::decode::{Batch, LogEvent, MessageType, Origin};
use crate::detect::{DetectorSet, FindingKind, Scratch};
use crate::pipeline::{Config, Pipeline};
use crate::record::Parser;
use crate::time::EventTime;

/// One failed check of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    /// The rule id.
    pub rule: String,
    /// `file:line` of the rule.
    pub location: String,
    /// What failed.
    pub problem: String,
}

/// Log group the examples are parsed under (so `function` is `example-fn`).
pub const EXAMPLE_LOG_GROUP: &str = "/aws/lambda/example-fn";
/// 2026-11-25T10:00:00Z, the origin of correlation test times.
pub const TEST_T0_MS: i64 = 1_795_600_800_000;

fn event(id: String, ts: Option<i64>, message: &str) -> LogEvent<'_> {
    LogEvent {
        id: Cow::Owned(id),
        timestamp: ts.and_then(EventTime::from_millis),
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
    events.evaluate(&record, Some(scratch.literal_hits()), &mut out);
    out.contains(&rule)
}

/// Runs every rule's tests: content examples, event rule examples, correlation tests.
/// A rule with no test of each polarity fails too.
pub fn check(set: &Arc<DetectorSet>) -> Vec<CheckFailure> {
    let mut failures = check_content(set);
    let events = set.events();
    for (rule, why) in events.compile_all() {
        failures.push(CheckFailure {
            rule: rule.meta.id.clone(),
            location: rule.meta.location.to_string(),
            problem: format!("does not compile: {why}"),
        });
    }
    failures.extend(check_events(set));
    failures.extend(check_correlations(set));
    failures
}

/// Every content rule's examples through the whole engine (keyword automaton, windows,
/// validators, allowlists): each example must produce a finding of its rule, no negative
/// example may. A rule without examples or negative examples fails too.
fn check_content(set: &DetectorSet) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    let mut scratch = Scratch::default();
    let mut found = Vec::new();
    let content = set.content();
    for (i, rule) in content.rules().iter().enumerate() {
        let fail = |problem: String| CheckFailure {
            rule: rule.meta.id.clone(),
            location: rule.meta.location.to_string(),
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
            for (context, line) in example_contexts(ex) {
                found.clear();
                content.scan(line.as_bytes(), &mut scratch, &mut found);
                if !found.iter().any(|m| m.rule == i) {
                    failures.push(fail(format!("example #{} does not match {context}", n + 1)));
                }
            }
        }
        for (n, ex) in rule.negative_examples.iter().enumerate() {
            found.clear();
            content.scan(ex.as_bytes(), &mut scratch, &mut found);
            if found.iter().any(|m| m.rule == i) {
                failures.push(fail(format!("negative example #{} matches", n + 1)));
            }
        }
    }
    failures
}

/// A content example as it is, and in the shapes structured logs give it: after a JSON `\n`
/// escape inside a JSON `message`, after a literal `\n` or `\t` escape in text, inside a
/// JSON message logged inside a JSON line, and URL-encoded in a query string. Every example
/// must be found in each.
pub fn example_contexts(ex: &str) -> Vec<(&'static str, String)> {
    let json = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let inner = format!(
        "{{\"body\":{},\"status\":500}}",
        json(&format!("dump:\n{ex}"))
    );
    let mut url = String::with_capacity(ex.len() * 3);
    for b in ex.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    vec![
        ("as written", ex.to_owned()),
        (
            "in a JSON message after a \\n escape",
            format!(
                "{{\"level\":\"ERROR\",\"message\":{}}}",
                json(&format!("request failed\n{ex}"))
            ),
        ),
        ("after a literal \\n escape", format!("ERROR dump\\n{ex}")),
        ("after a literal \\t escape", format!("headers\\t{ex}")),
        (
            "in JSON logged inside a JSON line",
            format!("{{\"level\":\"INFO\",\"message\":{}}}", json(&inner)),
        ),
        (
            "URL-encoded in a query string",
            format!("GET /callback?data={url} HTTP/1.1"),
        ),
    ]
}

fn check_events(set: &DetectorSet) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    let parser = Parser::new();
    let events = set.events();
    for (i, rule) in events.rules().iter().enumerate() {
        let fail = |problem: String| CheckFailure {
            rule: rule.meta.id.clone(),
            location: rule.meta.location.to_string(),
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
    failures
}

fn check_correlations(set: &Arc<DetectorSet>) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    for corr in set.events().correlations() {
        let fail = |problem: String| CheckFailure {
            rule: corr.meta.id.clone(),
            location: corr.meta.location.to_string(),
            problem,
        };
        if !corr.tests.iter().any(|t| t.expect > 0) {
            failures.push(fail("has no logwarden.tests entry that fires".into()));
        }
        if !corr.tests.iter().any(|t| t.expect == 0) {
            failures.push(fail("has no logwarden.tests entry that stays quiet".into()));
        }
        for test in &corr.tests {
            let fired = run_correlation_test(set, &corr.meta.id, test);
            if fired != test.expect {
                failures.push(fail(format!(
                    "test `{}`: {fired} threshold alert(s), expected {}",
                    test.name, test.expect
                )));
            }
        }
    }
    failures
}

/// The threshold alerts of correlation `rule` that a test's events give.
fn run_correlation_test(
    set: &Arc<DetectorSet>,
    rule: &str,
    test: &crate::detect::events::CorrelationTest,
) -> u64 {
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
        origin: Origin::default(),
    };
    let config = Config {
        throttle: None,
        ..Config::default()
    };
    let fp = Arc::new(Fingerprinter::new(b"detectors check key"));
    let mut pipeline = Pipeline::with_fingerprints(Arc::clone(set), config, fp);
    let mut fired = 0u64;
    pipeline.process_batch(&batch, &mut |a| {
        if a.kind == FindingKind::Threshold && a.rule_id == rule {
            fired += 1;
        }
    });
    fired
}

/// `detectors check`: prints every failure and a summary line; returns the exit code (0 all
/// passed, 1 some failed).
pub fn run(set: &Arc<DetectorSet>, out: &mut dyn Write) -> u8 {
    let failures = check(set);
    let rules = set.rules();
    let examples: usize = rules.iter().map(|r| r.examples).sum();
    let negatives: usize = rules.iter().map(|r| r.negative_examples).sum();
    for f in &failures {
        eprintln!("FAIL {} ({}): {}", f.rule, f.location, f.problem);
    }
    for w in suppression_warnings(set) {
        eprintln!("WARN {w}");
    }
    let failed: std::collections::BTreeSet<&str> =
        failures.iter().map(|f| f.rule.as_str()).collect();
    let _ = writeln!(
        out,
        "{} rules, {} examples, {} negative examples: {} passed, {} failed",
        rules.len(),
        examples,
        negatives,
        rules.len() - failed.len(),
        failed.len()
    );
    u8::from(!failures.is_empty())
}

/// Suppression entries past their date, and entries that name a rule the set does not have.
pub fn suppression_warnings(set: &DetectorSet) -> Vec<String> {
    let now = crate::suppress::wall_clock();
    let mut out = set.suppressions().expired_notices(now);
    for s in set.suppressions().entries() {
        if let Some(r) = &s.rule_id
            && set.rule(r).is_none()
        {
            out.push(format!(
                "{}: names rule `{r}`, which no detector file defines: it matches nothing",
                s.location
            ));
        }
    }
    out
}

/// `detectors list`: one rule per line (text or JSON); returns the exit code.
pub fn list(set: &DetectorSet, json: bool, out: &mut dyn Write) -> u8 {
    for r in set.rules() {
        let line = if json {
            serde_json::to_string(&r).unwrap_or_default()
        } else {
            format!(
                "{:<40} {:<7} {:<8} {}",
                r.id,
                r.kind.as_str(),
                r.severity.as_str(),
                r.description
            )
        };
        if writeln!(out, "{line}").is_err() {
            return 2;
        }
    }
    0
}
