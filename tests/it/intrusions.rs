//! Intrusions as behaviour: the scenarios of `tests/fixtures/cloudtrail/intrusions/` (each
//! attack step listed with the CloudTrail eventIDs that show it in `manifest.json`) must stay
//! caught by specific rules, and the two benign accounts must stay quiet. The figures are
//! those `scripts/measure_intrusions.py` prints; a rule change that loses a step or adds
//! noise fails here.
//!
//! The fixtures were written by the project from AWS's documented record shapes; they are a
//! regression floor, not the measure of real accounts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use logwarden::record::Sources;
use logwarden::{Alert, Config, DetectorSet, Pipeline, TextSource};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cloudtrail");

/// Rules that fire on any refused call: not a specific detection of a step.
const GENERIC: &[&str] = &[
    "cis-cloudwatch-2-unauthorized-api-calls",
    "cloudtrail-access-denied-burst",
];

/// The organization's other accounts, declared trusted as a deployment declares them
/// (`TRUSTED_ACCOUNTS`): their principals are not outsiders.
const ORG_ACCOUNTS: &[&str] = &["210987654321", "109876543210"];

/// Steps caught per scenario (at least), as measured. Steps not caught: a workload's
/// credentials used from outside (the function's, instance's or task's own key, recognisable
/// only against where that key is normally used: session state, not a rule over one record),
/// and a user's key used from a new address for the first time (same reason).
const CAUGHT: &[(&str, usize)] = &[
    ("lambda-credential-exfiltration.jsonl", 0),
    ("ec2-credential-exfiltration-ssrf.jsonl", 2),
    ("ecs-task-credential-exfiltration.jsonl", 1),
    ("iam-user-self-escalation.jsonl", 6),
    ("privilege-escalation-paths.jsonl", 17),
    ("discovery-by-one-principal.jsonl", 2),
    ("s3-outsider-access.jsonl", 6),
    ("root-console-session.jsonl", 6),
];

/// Alerts per 1,000 records allowed on a benign account (storm control on, as production).
const NOISE_PER_1000: f64 = 10.0;

fn set() -> Arc<DetectorSet> {
    static SET: OnceLock<Arc<DetectorSet>> = OnceLock::new();
    Arc::clone(SET.get_or_init(|| Arc::new(DetectorSet::builtin().expect("built-in"))))
}

/// The alerts of one CloudTrail fixture file, replayed as production runs (storm control on)
/// with the organization's accounts trusted.
fn replay(path: &str) -> Vec<Alert> {
    let bytes = std::fs::read(path).expect("fixture");
    let config = Config {
        sources: Sources {
            deployment: logwarden::record::Deployment {
                trusted_accounts: ORG_ACCOUNTS.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
            ..Sources::default()
        },
        ..Config::default()
    };
    let mut p = Pipeline::new(set(), config);
    let mut alerts = Vec::new();
    let source = TextSource {
        log_group: "aws-cloudtrail-logs".into(),
        log_stream: "123456789012_CloudTrail_us-east-1".into(),
        first_line: 1,
    };
    p.process_input(&bytes, &source, &mut |a| alerts.push(a))
        .expect("decodes");
    p.finish(&mut |a| alerts.push(a));
    alerts
}

/// Line number (the log event id a local file's line gets) → CloudTrail eventID.
fn event_ids(path: &str) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .expect("fixture")
        .split('\n')
        .enumerate()
        .filter_map(|(n, line)| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            Some(((n + 1).to_string(), v["eventID"].as_str()?.to_owned()))
        })
        .collect()
}

fn manifest() -> serde_json::Value {
    let text =
        std::fs::read_to_string(format!("{FIXTURES}/intrusions/manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest JSON")
}

/// Per step of a scenario: the specific rules whose alerts list one of its events.
fn steps_caught(name: &str, scenario: &serde_json::Value) -> BTreeMap<u64, BTreeSet<String>> {
    let path = format!("{FIXTURES}/intrusions/{name}");
    let ids = event_ids(&path);
    let alerts = replay(&path);
    let mut out = BTreeMap::new();
    for step in scenario["steps"].as_array().into_iter().flatten() {
        let wanted: BTreeSet<&str> = step["event_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str())
            .collect();
        let rules: BTreeSet<String> = alerts
            .iter()
            .filter(|a| !GENERIC.contains(&a.rule_id.as_str()))
            .filter(|a| {
                a.event_ids
                    .iter()
                    .filter_map(|e| ids.get(e))
                    .any(|id| wanted.contains(id.as_str()))
            })
            .map(|a| a.rule_id.clone())
            .collect();
        out.insert(step["step"].as_u64().unwrap_or_default(), rules);
    }
    out
}

#[test]
fn intrusion_steps_stay_caught_by_specific_rules() {
    let manifest = manifest();
    let mut lost = Vec::new();
    for (name, floor) in CAUGHT {
        let scenario = &manifest[*name];
        assert!(
            scenario["steps"].is_array(),
            "{name} is not in the manifest"
        );
        let steps = steps_caught(name, scenario);
        let caught = steps.values().filter(|r| !r.is_empty()).count();
        if caught < *floor {
            let missed: Vec<u64> = steps
                .iter()
                .filter(|(_, r)| r.is_empty())
                .map(|(s, _)| *s)
                .collect();
            lost.push(format!(
                "{name}: {caught} of {} steps caught (at least {floor} expected), missed {missed:?}",
                steps.len()
            ));
        }
    }
    assert!(lost.is_empty(), "steps lost: {lost:#?}");
}

#[test]
fn every_privilege_escalation_path_has_its_own_rule() {
    // Beyond CIS CloudWatch.4 (every IAM policy change): each path of the escalation
    // catalogue is named by a rule of its own.
    let name = "privilege-escalation-paths.jsonl";
    let steps = steps_caught(name, &manifest()[name]);
    let only_cis: Vec<u64> = steps
        .iter()
        .filter(|(_, r)| r.iter().all(|r| r.starts_with("cis-")))
        .map(|(s, _)| *s)
        .collect();
    assert!(
        only_cis.is_empty(),
        "steps caught only by CIS rules or not at all: {only_cis:?}"
    );
}

#[test]
fn benign_accounts_stay_under_the_noise_bound() {
    for path in [
        format!("{FIXTURES}/intrusions/background.jsonl"),
        format!("{FIXTURES}/benign.jsonl"),
    ] {
        let records = std::fs::read_to_string(&path)
            .expect("fixture")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        let alerts = replay(&path);
        let per_1000 = alerts.len() as f64 * 1000.0 / records as f64;
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &alerts {
            *by_rule.entry(a.rule_id.as_str()).or_default() += 1;
        }
        assert!(
            per_1000 <= NOISE_PER_1000,
            "{path}: {per_1000:.1} alerts per 1,000 records: {by_rule:?}"
        );
    }
}

#[test]
fn services_acting_for_the_account_are_not_unauthorized_calls() {
    // The background account's log delivery, Config, Access Analyzer and Lambda log-stream
    // refusals are hundreds of records; none of them is an unauthorized call by a person.
    let path = format!("{FIXTURES}/intrusions/background.jsonl");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let alerts = replay(&path);
    let records: HashMap<String, serde_json::Value> = text
        .split('\n')
        .enumerate()
        .filter_map(|(n, l)| Some(((n + 1).to_string(), serde_json::from_str(l).ok()?)))
        .collect();
    let from_services: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.rule_id == "cis-cloudwatch-2-unauthorized-api-calls")
        .filter(|a| {
            a.event_ids.iter().filter_map(|e| records.get(e)).any(|r| {
                r["userIdentity"]["type"] == "AWSService"
                    || r["userIdentity"]["invokedBy"].is_string()
                    || r["userAgent"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("awslambda-worker"))
            })
        })
        .collect();
    assert!(
        from_services.is_empty(),
        "services' own refusals reported as unauthorized calls: {from_services:?}"
    );
}
