//! The one self-check module: `detectors check` runs every rule's inline tests (content
//! examples, event rule examples, correlation tests) through the same stages as production
//! (keyword automaton, windows, validators and allowlists; prefilter, parser and evaluation;
//! correlation state), and `detectors list` lists the rules.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use crate::clock::Clock;
use crate::decode::{Batch, LogEvent, MessageType, Origin};
use crate::detect::{DetectorSet, FindingKind, Scratch};
use crate::engine::{Engine, Workspace};
use crate::mask::Fingerprinter;
use crate::pipeline::{Config, Pipeline};
use crate::policy::PolicyConfig;
use crate::record::{SourceKind, Sources};
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
/// Log group the examples of CloudTrail rules are read from (a CloudTrail source).
pub const EXAMPLE_CLOUDTRAIL_LOG_GROUP: &str = "aws-cloudtrail-logs-example";
/// Log group the examples of WAF rules are read from (AWS requires the prefix).
pub const EXAMPLE_WAF_LOG_GROUP: &str = "aws-waf-logs-example";
/// Log stream of a CloudTrail source.
pub const EXAMPLE_CLOUDTRAIL_STREAM: &str = "123456789012_CloudTrail_us-east-1";
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

/// The engine `detectors check` runs examples through.
pub fn example_engine(set: &Arc<DetectorSet>) -> Engine {
    Engine::new(
        Arc::clone(set),
        Arc::new(Fingerprinter::new(b"detectors check key")),
        Sources::default(),
    )
}

/// Whether event rule `rule` matches the raw line `line` through the engine (prefilter,
/// parser and evaluation). A rule for CloudTrail records is tried on a CloudTrail source,
/// other rules on an application's log group (so `function` is `example-fn`).
pub fn event_rule_matches(engine: &Engine, rule: usize, line: &str) -> bool {
    let ev = event("1".into(), Some(TEST_T0_MS), line);
    let r = &engine.detectors().events().rules()[rule];
    let source = if r.for_cloudtrail() {
        crate::record::Source::new(EXAMPLE_CLOUDTRAIL_LOG_GROUP, SourceKind::CloudTrail)
    } else if r.kinds == [crate::record::RecordKind::Waf] {
        engine.sources().source(EXAMPLE_WAF_LOG_GROUP, "test")
    } else {
        engine.sources().source(EXAMPLE_LOG_GROUP, "test")
    };
    let (_, findings) = engine.analyse(&ev, &source, &mut Workspace::default());
    findings.events.iter().any(|m| m.rule.index() == rule)
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

fn check_events(set: &Arc<DetectorSet>) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    let engine = example_engine(set);
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
            if !event_rule_matches(&engine, i, ex) {
                failures.push(fail(format!("example #{} does not match", n + 1)));
            }
        }
        for (n, ex) in rule.negative_examples.iter().enumerate() {
            if event_rule_matches(&engine, i, ex) {
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
    test: &crate::detect::sigma::CorrelationTest,
) -> u64 {
    let mut lines = Vec::new();
    for e in &test.events {
        for n in 0..e.repeat {
            let t = TEST_T0_MS + ((e.at + e.every * f64::from(n)) * 1000.0) as i64;
            lines.push((t, e.message.replace("{n}", &n.to_string())));
        }
    }
    // A correlation of CloudTrail rules is tested on a CloudTrail source.
    let cloudtrail = test_is_cloudtrail(set, test);
    let (group, stream) = if cloudtrail {
        (EXAMPLE_CLOUDTRAIL_LOG_GROUP, EXAMPLE_CLOUDTRAIL_STREAM)
    } else if test_is_waf(test) {
        (EXAMPLE_WAF_LOG_GROUP, "test")
    } else {
        (EXAMPLE_LOG_GROUP, "test")
    };
    let batch = Batch {
        message_type: MessageType::Data,
        owner: Cow::Borrowed("123456789012"),
        log_group: Cow::Borrowed(group),
        log_stream: Cow::Borrowed(stream),
        events: lines
            .iter()
            .enumerate()
            .map(|(k, (t, m))| event(format!("{k:056}"), Some(*t), m))
            .collect(),
        origin: Origin::default(),
        text: None,
    };
    let config = Config {
        policy: PolicyConfig {
            storm: None,
            ..PolicyConfig::default()
        },
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

/// Whether a correlation test's events are CloudTrail records (its first event is
/// CloudTrail-shaped): then they are read from a CloudTrail source.
fn test_is_cloudtrail(set: &DetectorSet, test: &crate::detect::sigma::CorrelationTest) -> bool {
    let _ = set;
    test.events.first().is_some_and(|e| {
        e.message.trim_start().starts_with('{')
            && e.message.contains("\"eventVersion\"")
            && e.message.contains("\"eventSource\"")
    })
}

/// Whether a correlation test's events are WAF records.
fn test_is_waf(test: &crate::detect::sigma::CorrelationTest) -> bool {
    test.events
        .first()
        .is_some_and(|e| e.message.contains("\"webaclId\""))
}

/// `detectors check`: prints every failure and a summary line; returns the exit code (0 all
/// passed, 1 some failed).
pub fn run(set: &Arc<DetectorSet>, clock: &dyn Clock, out: &mut dyn Write) -> u8 {
    let failures = check(set);
    let rules = set.rules();
    let examples: usize = rules.iter().map(|r| r.examples).sum();
    let negatives: usize = rules.iter().map(|r| r.negative_examples).sum();
    for f in &failures {
        eprintln!("FAIL {} ({}): {}", f.rule, f.location, f.problem);
    }
    for w in suppression_warnings(set, clock) {
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
pub fn suppression_warnings(set: &DetectorSet, clock: &dyn Clock) -> Vec<String> {
    let now = clock.now();
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
            let verify = r
                .verify
                .map(|v| format!(" [verify: {v}]"))
                .unwrap_or_default();
            format!(
                "{:<40} {:<7} {:<8} {}{verify}",
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
