//! CloudTrail detection measured on fixtures built from AWS's documented event shapes
//! (`scripts/make_cloudtrail_fixtures.py`): one file per Stratus Red Team AWS technique (the
//! records its detonation produces) and a busy benign account that deploys with Terraform and
//! CloudFormation.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use logwarden::{Config, DetectorSet, Pipeline, TextSource};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cloudtrail");

/// Rules that fire on any refused call: not a specific detection of a technique.
const GENERIC: &[&str] = &[
    "cis-cloudwatch-2-unauthorized-api-calls",
    "cloudtrail-access-denied-burst",
];

/// The alerts of one fixture file (one record per line), as JSON.
fn replay(path: &str) -> Vec<serde_json::Value> {
    replay_bytes(path, &std::fs::read(path).expect("fixture"))
}

/// The alerts of records given as bytes (`name` is their log stream).
fn replay_bytes(path: &str, bytes: &[u8]) -> Vec<serde_json::Value> {
    replay_inputs(&[(path, bytes)])
}

/// The alerts of several inputs replayed one after the other through one pipeline.
fn replay_inputs(inputs: &[(&str, &[u8])]) -> Vec<serde_json::Value> {
    static SET: OnceLock<Arc<DetectorSet>> = OnceLock::new();
    let set = SET.get_or_init(|| Arc::new(DetectorSet::builtin().expect("built-in")));
    let mut p = Pipeline::new(Arc::clone(set), Config::default());
    let mut alerts = Vec::new();
    for (path, bytes) in inputs {
        let source = TextSource {
            log_group: (*path).into(),
            log_stream: "123456789012_CloudTrail_us-east-1".into(),
            first_line: 1,
        };
        p.process_input(bytes, &source, &mut |a| alerts.push(a))
            .expect("decodes");
    }
    p.finish(&mut |a| alerts.push(a));
    alerts
        .iter()
        .filter_map(|a| serde_json::from_str(&a.to_json()).ok())
        .collect()
}

fn technique_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(format!("{FIXTURES}/stratus"))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{} technique files", files.len());
    files
}

#[test]
fn every_stratus_technique_is_caught_by_a_specific_rule() {
    let mut missed = Vec::new();
    for f in &technique_files() {
        let rules: BTreeSet<String> = replay(f.to_str().unwrap_or_default())
            .iter()
            .filter_map(|a| a["rule_id"].as_str().map(str::to_owned))
            .filter(|r| !GENERIC.contains(&r.as_str()))
            .collect();
        if rules.is_empty() {
            missed.push(f.file_name().map(|n| n.to_string_lossy().into_owned()));
        }
    }
    assert!(
        missed.is_empty(),
        "techniques without a specific rule: {missed:?}"
    );
}

#[test]
fn a_deploying_account_stays_quiet_and_aws_issued_identifiers_are_not_secrets() {
    let path = format!("{FIXTURES}/benign.jsonl");
    let records = std::fs::read_to_string(&path)
        .expect("fixture")
        .lines()
        .count();
    let alerts = replay(&path);
    let per_1000 = alerts.len() as f64 * 1000.0 / records as f64;
    assert!(per_1000 <= 15.0, "{per_1000:.1} alerts per 1,000 records");
    let content: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| a["kind"] == "secret" || a["kind"] == "pii")
        .collect();
    assert!(
        content.is_empty(),
        "AWS-issued identifiers reported: {content:?}"
    );
}

/// The user agent is chosen by the caller: an attacker with stolen keys who sends Terraform's
/// (or Packer's) agent string must not silence a rule that spares deployment pipelines.
#[test]
fn claiming_to_be_terraform_silences_no_technique() {
    const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0 aws-sdk-go-v2/1.32.4 os/linux lang/go#1.23.2 HashiCorp/1.0 Packer/1.11.2";
    let mut missed = Vec::new();
    for f in &technique_files() {
        let text = std::fs::read_to_string(f).expect("fixture");
        let forged: String = text
            .lines()
            .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
                Ok(mut v) if v.get("userAgent").is_some() => {
                    v["userAgent"] = TERRAFORM.into();
                    v.to_string() + "\n"
                }
                _ => format!("{l}\n"),
            })
            .collect();
        let name = f.to_str().unwrap_or_default();
        let specific = replay_bytes(name, forged.as_bytes())
            .iter()
            .filter_map(|a| a["rule_id"].as_str().map(str::to_owned))
            .any(|r| !GENERIC.contains(&r.as_str()));
        if !specific {
            missed.push(f.file_name().map(|n| n.to_string_lossy().into_owned()));
        }
    }
    assert!(
        missed.is_empty(),
        "silenced by a forged user agent: {missed:?}"
    );
}

/// Each intrusion of the fixtures whose steps are behaviour (stolen compute credentials used
/// from elsewhere) is one incident naming its principal; the benign accounts have none. The
/// intruder's later calls from the outside address raise no alert of their own (the first did)
/// but their stages (discovery, exfiltration) are in the incident.
#[test]
fn stolen_compute_credentials_make_one_incident_per_intrusion() {
    for (file, principal) in [
        (
            "lambda-credential-exfiltration.jsonl",
            "assumed-role/invoice-renderer-role/invoice-renderer",
        ),
        ("ecs-task-credential-exfiltration.jsonl", "assumed-role/"),
    ] {
        let path = format!("{FIXTURES}/intrusions/{file}");
        let alerts = replay(&path);
        assert!(
            alerts
                .iter()
                .any(|a| a["rule_id"] == "aws-compute-credentials-used-outside"),
            "{file}: the outside use is not caught"
        );
        let incidents: Vec<&serde_json::Value> =
            alerts.iter().filter(|a| a["kind"] == "incident").collect();
        assert_eq!(incidents.len(), 1, "{file}: {incidents:?}");
        let i = incidents[0];
        assert!(
            i["principal"]
                .as_str()
                .is_some_and(|p| p.contains(principal)),
            "{file}: {i}"
        );
        for stage in ["credential-access", "discovery", "exfiltration"] {
            assert!(
                i["stages"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|x| x == stage)),
                "{file}: no {stage} in {i}"
            );
        }
        assert!(!i["alert_ids"].as_array().is_none_or(Vec::is_empty), "{i}");
        assert!(
            i["first_seen"].as_str().is_some_and(|t| !t.is_empty()),
            "{i}"
        );
    }
    for file in ["intrusions/background.jsonl", "benign.jsonl"] {
        let alerts = replay(&format!("{FIXTURES}/{file}"));
        let incidents: Vec<&serde_json::Value> =
            alerts.iter().filter(|a| a["kind"] == "incident").collect();
        assert!(incidents.is_empty(), "{file}: {incidents:?}");
        assert!(
            !alerts
                .iter()
                .any(|a| a["rule_id"] == "aws-compute-credentials-used-outside"),
            "{file}"
        );
    }
}

/// A trail's S3 files (`{"Records": [...]}`, gzip, in `AWSLogs/<account>/CloudTrail/...`)
/// replay as CloudTrail and give the alerts the same records give through CloudWatch Logs.
#[test]
fn a_trails_s3_files_give_the_alerts_of_the_same_records_through_cloudwatch_logs() {
    let rules = |alerts: &[serde_json::Value]| {
        let mut v: Vec<(String, String)> = alerts
            .iter()
            .filter(|a| a["kind"] != "incident")
            .map(|a| {
                (
                    a["rule_id"].as_str().unwrap_or("").to_owned(),
                    a["severity"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let dir = format!("{FIXTURES}/s3/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("trail files")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).expect("file");
            assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip as a trail writes it");
            (f.display().to_string(), bytes)
        })
        .collect();
    let inputs: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let from_s3 = replay_inputs(&inputs);
    let from_logs = replay(&format!(
        "{FIXTURES}/intrusions/iam-user-self-escalation.jsonl"
    ));
    assert!(!from_s3.is_empty());
    assert_eq!(rules(&from_s3), rules(&from_logs));
}
