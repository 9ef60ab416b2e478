//! Sigma event rules and correlation windows, end to end through the pipeline.

use std::sync::Arc;

use crate::common::*;
use logwarden::detect::Scratch;
use logwarden::{Alert, Config, DetectorSet, FindingKind, Pipeline, TextSource};
use serde_json::json;

fn run(set: &Arc<DetectorSet>, inputs: &[String]) -> Vec<Alert> {
    let mut p = Pipeline::new(Arc::clone(set), Config::default());
    let mut alerts = Vec::new();
    for input in inputs {
        p.process_input(input.as_bytes(), &TextSource::default(), &mut |a| {
            alerts.push(a)
        })
        .expect("decodes");
    }
    p.finish(&mut |a| alerts.push(a));
    alerts
}

fn ct(event_name: &str, extra: serde_json::Value) -> String {
    let mut v = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA0000", "arn": "arn:aws:iam::123456789012:user/dev",
                          "accountId": "123456789012", "userName": "dev"},
        "eventTime": "2026-11-25T10:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.20",
        "userAgent": "aws-cli/2.17.0",
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012"
    });
    if let (Some(obj), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in extra {
            obj.insert(k.clone(), val.clone());
        }
    }
    v.to_string()
}

/// Real-world-style CloudTrail rules, written in the SigmaHQ style for this test.
const CLOUDTRAIL_RULES: &str = r#"
title: AWS CloudTrail Logging Disabled
id: 4db60cc0-36fb-4c1e-a1d1-000000000001
status: test
logsource: {product: aws, service: cloudtrail}
detection:
  selection_source:
    eventSource: cloudtrail.amazonaws.com
    eventName:
      - StopLogging
      - UpdateTrail
      - DeleteTrail
  condition: selection_source
level: high
---
title: AWS Root Credentials Used
id: 4db60cc0-36fb-4c1e-a1d1-000000000002
status: test
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    userIdentity.type: Root
    userIdentity.invokedBy: null
  filter:
    eventType: AwsServiceEvent
  condition: selection and not filter
level: critical
---
title: Suspicious IAM Credential Creation
id: 4db60cc0-36fb-4c1e-a1d1-000000000003
status: test
logsource: {product: aws, service: cloudtrail}
detection:
  selection_keys:
    eventSource: iam.amazonaws.com
    eventName|startswith: 'CreateAccessKey'
  selection_federation:
    eventName: GetFederationToken
  filter_automation:
    userAgent|contains: 'terraform'
  condition: 1 of selection_* and not filter_automation
level: medium
---
title: Offensive Tool User Agent
id: 4db60cc0-36fb-4c1e-a1d1-000000000004
status: test
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    userAgent|contains:
      - 'pacu'
      - 'sqlmap'
  condition: selection
level: high
"#;

#[test]
fn real_world_style_cloudtrail_rules_evaluate() {
    let set = Arc::new(
        DetectorSet::builder()
            .sigma_source("cloudtrail-test.yml", CLOUDTRAIL_RULES)
            .build()
            .expect("rules load"),
    );
    let lines = [
        // 0: StopLogging → logging disabled
        ct(
            "StopLogging",
            json!({"eventSource": "cloudtrail.amazonaws.com"}),
        ),
        // 1: root, no invokedBy → root used
        ct(
            "ListBuckets",
            json!({"eventSource": "s3.amazonaws.com", "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root"}}),
        ),
        // 2: root invoked by a service → not
        ct(
            "ListBuckets",
            json!({"userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"}}),
        ),
        // 3: root AwsServiceEvent → not
        ct(
            "ConsoleLogin",
            json!({"userIdentity": {"type": "Root"}, "eventType": "AwsServiceEvent"}),
        ),
        // 4: CreateAccessKey by a human → credential creation
        ct("CreateAccessKey", json!({})),
        // 5: CreateAccessKey by terraform → filtered
        ct(
            "CreateAccessKey",
            json!({"userAgent": "APN/1.0 HashiCorp/1.0 Terraform/1.9.5"}),
        ),
        // 6: GetFederationToken → credential creation (the other selection)
        ct(
            "GetFederationToken",
            json!({"eventSource": "sts.amazonaws.com"}),
        ),
        // 7: pacu user agent
        ct("ListUsers", json!({"userAgent": "aws-cli/1.16 Pacu/1.5"})),
        // 8: nothing
        ct("ListUsers", json!({})),
    ];
    let payload = payload_json(
        "aws-cloudtrail-logs",
        "123456789012_CloudTrail_us-east-1",
        T0,
        &lines.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let alerts = run(&set, &[lambda_event(&payload)]);
    let mut got: Vec<(String, usize)> = alerts
        .iter()
        .map(|a| {
            let idx: usize = a.event_ids[0][50..].parse().unwrap_or(99);
            (a.title.clone(), idx)
        })
        .collect();
    got.sort();
    let expected = vec![
        ("AWS CloudTrail Logging Disabled".to_owned(), 0),
        ("AWS Root Credentials Used".to_owned(), 1),
        ("Offensive Tool User Agent".to_owned(), 7),
        ("Suspicious IAM Credential Creation".to_owned(), 4),
        ("Suspicious IAM Credential Creation".to_owned(), 6),
    ];
    assert_eq!(got, expected);
    assert!(alerts.iter().all(|a| a.kind == FindingKind::Event));
    let critical: Vec<_> = alerts
        .iter()
        .filter(|a| a.severity == logwarden::Severity::Critical)
        .collect();
    assert_eq!(critical.len(), 1);
}

fn auth_failure(ip: &str, user: &str, t_ms: i64) -> String {
    json!({
        "timestamp": logwarden::time::EventTime::clamped(t_ms).to_rfc3339(),
        "eventType": "security",
        "type": "authentication_failed",
        "severity": "medium",
        "details": {"reason": "invalid_password", "sourceIp": ip, "userId": user, "endpoint": "/login"}
    })
    .to_string()
}

/// (rule, group value, window start, count) of the threshold alerts, sorted.
fn thresholds(alerts: &[Alert]) -> Vec<(String, String, String, u64, String)> {
    let mut v: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == FindingKind::Threshold)
        .map(|a| {
            (
                a.rule_id.clone(),
                a.group
                    .as_ref()
                    .map(|g| g.value.clone())
                    .unwrap_or_default(),
                a.window
                    .as_ref()
                    .map(|w| w.start.to_rfc3339())
                    .unwrap_or_default(),
                a.count.unwrap_or(0),
                a.id.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A burst, a second burst 20 minutes later (a new episode), and traffic under the threshold.
fn burst_events() -> Vec<(i64, String)> {
    let mut ev = Vec::new();
    // 12 failures from .7 within 4 minutes of one window, 8 distinct users.
    for i in 0..12 {
        ev.push((
            T0 + 5_000 + i * 20_000,
            auth_failure(
                "203.0.113.7",
                &format!("u-{}", i % 8),
                T0 + 5_000 + i * 20_000,
            ),
        ));
    }
    // 10 more from .7 twenty minutes later: a second episode, a second alert.
    for i in 0..10 {
        let t = T0 + 1_200_000 + 1_000 + i * 10_000;
        ev.push((t, auth_failure("203.0.113.7", "u-1", t)));
    }
    // 9 from another IP: under the threshold.
    for i in 0..9 {
        let t = T0 + 10_000 + i * 15_000;
        ev.push((t, auth_failure("192.0.2.44", "u-9", t)));
    }
    ev
}

fn payloads(events: &[(i64, String)], chunks: usize) -> Vec<String> {
    let per = events.len().div_ceil(chunks);
    events
        .chunks(per)
        .enumerate()
        .map(|(c, chunk)| {
            let msgs: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(t, m)| json!({"id": format!("{:056}", (*t as u128) * 1000 + (m.len() as u128)), "timestamp": t, "message": m}))
                .collect();
            let payload = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/auth",
                "logStream": format!("stream-{}", c % 2), "subscriptionFilters": ["lw"], "logEvents": msgs});
            lambda_event(&payload.to_string())
        })
        .collect()
}

#[test]
fn bursts_fire_once_per_episode_and_order_does_not_matter() {
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    let events = burst_events();
    let in_order = thresholds(&run(&set, &payloads(&events, 1)));
    let burst: Vec<_> = in_order
        .iter()
        .filter(|t| t.0 == "auth-failure-burst")
        .collect();
    assert_eq!(burst.len(), 2, "{in_order:?}");
    assert!(burst.iter().all(|t| t.1 == "203.0.113.7" && t.3 == 10));
    assert_ne!(burst[0].2, burst[1].2, "two different episodes");
    let stuffing: Vec<_> = in_order
        .iter()
        .filter(|t| t.0 == "credential-stuffing")
        .collect();
    assert_eq!(stuffing.len(), 1, "{in_order:?}");
    assert_eq!(stuffing[0].3, 5);
    assert!(
        !in_order.iter().any(|t| t.1 == "192.0.2.44"),
        "under the threshold: {in_order:?}"
    );

    // Reversed or shuffled within a payload, or split in time order across payloads (and
    // streams): the same alerts, ids included. Reversed across payloads (each later one older
    // than the last, within the lateness bound): the same episodes, counted once each.
    let mut reversed = events.clone();
    reversed.reverse();
    assert_eq!(thresholds(&run(&set, &payloads(&reversed, 1))), in_order);
    assert_eq!(thresholds(&run(&set, &payloads(&events, 4))), in_order);
    let per_key = |v: &[(String, String, String, u64, String)]| {
        let mut k: Vec<(String, String)> = v.iter().map(|t| (t.0.clone(), t.1.clone())).collect();
        k.sort();
        k
    };
    assert_eq!(
        per_key(&thresholds(&run(&set, &payloads(&reversed, 3)))),
        per_key(&in_order)
    );
    let mut shuffled = events.clone();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..shuffled.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        shuffled.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    assert_eq!(thresholds(&run(&set, &payloads(&shuffled, 1))), in_order);
    assert_eq!(
        per_key(&thresholds(&run(&set, &payloads(&shuffled, 5)))),
        per_key(&in_order)
    );
}

#[test]
fn redelivered_batch_does_not_double_count() {
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    // 6 failures: under the threshold of 10, even when the same batch arrives twice.
    let events: Vec<_> = (0..6)
        .map(|i| {
            (
                T0 + i * 1000,
                auth_failure("203.0.113.8", "u-1", T0 + i * 1000),
            )
        })
        .collect();
    let p = payloads(&events, 1);
    let alerts = run(&set, &[p[0].clone(), p[0].clone()]);
    assert!(thresholds(&alerts).is_empty(), "{alerts:?}");
}

#[test]
fn prefilter_skips_records_that_cannot_match() {
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    let mut p = Pipeline::new(Arc::clone(&set), Config::default());
    let lines: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"level":"INFO","message":"order {i} created","service":"orders"}}"#))
        .collect();
    let payload = payload_json(
        "/aws/lambda/orders",
        "s",
        T0,
        &lines.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    p.process_input(
        lambda_event(&payload).as_bytes(),
        &TextSource::default(),
        &mut |_| {},
    )
    .expect("decodes");
    assert_eq!(p.stats().events_processed, 200);
    assert_eq!(
        p.stats().event_rule_candidates,
        0,
        "no record should reach rule evaluation"
    );
}

/// The prefilter requires a literal from every `and` branch, not only the most selective one:
/// an S3 data event has `s3.amazonaws.com` but none of the bucket-configuration event names,
/// so it is not evaluated at all. Values the parser supplies itself (a text timeout line's
/// `type: platform.timeout`) are never required in the raw line. A CloudTrail-shaped line in
/// an application's log group is no candidate for CloudTrail rules.
#[test]
fn prefilter_requires_every_branch_of_a_conjunction() {
    use logwarden::record::SourceKind::{Application, CloudTrail};
    let set = DetectorSet::builtin().expect("built-in");
    let mut scratch = Scratch::default();
    let mut found = Vec::new();
    let mut candidate =
        |line: &str, kind| set.scan(line.as_bytes(), kind, &mut scratch, &mut found);
    let s3 = |name: &str| ct(name, json!({"eventSource": "s3.amazonaws.com"}));
    assert!(
        !candidate(&s3("GetObject"), CloudTrail),
        "an S3 read is not a candidate"
    );
    assert!(!candidate(&s3("ListObjectsV2"), CloudTrail));
    assert!(candidate(&s3("PutBucketPolicy"), CloudTrail));
    assert!(candidate(&s3("DeleteBucketReplication"), CloudTrail));
    assert!(!candidate(&s3("PutBucketPolicy"), Application));
    assert!(!candidate(&s3("DeleteBucketReplication"), Application));
    assert!(candidate(
        "2026-11-25T10:10:30.530Z e3092d51-8e64-4508-b69e-18f8452f78b0 Task timed out after 3.00 seconds",
        Application
    ));
    assert!(!candidate(
        r#"{"level":"INFO","message":"request done","status":"ok","type":"orders"}"#,
        Application
    ));
}

#[test]
fn sigma_load_errors_name_the_file_and_rule() {
    let bad_yaml = DetectorSet::builder()
        .sigma_source("bad.yml", "title: [unclosed\n")
        .build();
    let e = bad_yaml.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.starts_with("bad.yml: invalid detector file"), "{e}");
    let unknown = r#"
title: burst
name: my-burst
correlation:
  type: event_count
  rules: [does-not-exist]
  group-by: [x]
  timespan: 5m
  condition: {gte: 3}
"#;
    let e = DetectorSet::builder()
        .sigma_source("c.yml", unknown)
        .build()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("c.yml")
            && e.contains("my-burst")
            && e.contains("unknown rule `does-not-exist`"),
        "{e}"
    );
}

/// A Terraform apply makes 30 route changes as one principal: one alert at the first, then
/// a summary listing them (every call still counted); a CloudFormation deployment's change is
/// marked and ranked one severity lower.
#[test]
fn change_bursts_are_grouped_per_principal_and_cloudformation_ranked_lower() {
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    let record = |i: usize, name: &str, invoked_by: Option<&str>| {
        let mut identity = json!({"type": "AssumedRole", "principalId": "AROAEXAMPLE:tf", "arn": "arn:aws:sts::123456789012:assumed-role/terraform/tf",
            "accountId": "123456789012", "accessKeyId": "ASIAEXAMPLEEXAMPLE12"});
        if let Some(by) = invoked_by {
            identity["invokedBy"] = json!(by);
        }
        json!({"eventVersion": "1.10", "userIdentity": identity, "eventTime": format!("2026-11-25T10:00:{:02}Z", i % 60),
            "eventSource": "ec2.amazonaws.com", "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.5",
            "userAgent": "APN/1.0 HashiCorp/1.0 Terraform/1.9.8", "requestParameters": {"routeTableId": format!("rtb-{i:08x}")},
            "responseElements": {"_return": true}, "eventID": format!("e-{i}"), "readOnly": false, "eventType": "AwsApiCall",
            "managementEvent": true, "recipientAccountId": "123456789012", "eventCategory": "Management"})
        .to_string()
    };
    let mut lines: Vec<String> = (0..30)
        .map(|i| {
            record(
                i,
                if i % 3 == 0 {
                    "CreateRouteTable"
                } else {
                    "CreateRoute"
                },
                None,
            )
        })
        .collect();
    lines.push(record(
        40,
        "CreateRoute",
        Some("cloudformation.amazonaws.com"),
    ));
    let mut p = Pipeline::new(set, Config::default());
    let mut alerts = Vec::new();
    let text = lines.join("\n");
    p.process_input(
        text.as_bytes(),
        &crate::common::cloudtrail_source(),
        &mut |a| alerts.push(a),
    )
    .expect("decodes");
    p.finish(&mut |a| alerts.push(a));
    let routes: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.rule_id == "cis-cloudwatch-13-route-table-changes")
        .collect();
    // The 30 hand-made changes: one alert and one summary; the change made through
    // CloudFormation is a burst of its own, ranked lower (a hand-made change never hides in
    // a summary labelled "via CloudFormation", nor the other way round).
    assert_eq!(routes.len(), 3, "{routes:?}");
    let summary = routes
        .iter()
        .find(|a| a.title.contains("matching call(s)"))
        .expect("a summary");
    assert!(
        summary.title.contains("30 matching call(s)"),
        "{}",
        summary.title
    );
    assert!(
        !summary.title.contains("CloudFormation"),
        "{}",
        summary.title
    );
    let cfn = routes
        .iter()
        .find(|a| a.title.contains("(via CloudFormation)"))
        .expect("the CloudFormation change alone");
    assert_eq!(cfn.severity, logwarden::Severity::Low);
    assert!(
        summary.title.contains("CreateRoute×") && summary.title.contains("CreateRouteTable×10")
    );
    assert_eq!(
        p.stats()
            .event_matches_by_rule
            .get("cis-cloudwatch-13-route-table-changes"),
        Some(&31)
    );
    // The same principal through CloudFormation (its own record).
    let mut p = Pipeline::new(
        Arc::new(DetectorSet::builtin().expect("built-in")),
        Config::default(),
    );
    let mut cfn = Vec::new();
    p.process_input(
        record(41, "CreateRoute", Some("cloudformation.amazonaws.com")).as_bytes(),
        &crate::common::cloudtrail_source(),
        &mut |a| cfn.push(a),
    )
    .expect("decodes");
    assert!(cfn[0].title.contains("(via CloudFormation)"), "{cfn:?}");
    assert_eq!(cfn[0].severity, logwarden::Severity::Low);
}

/// Two bursts of changes by one principal an hour apart: each gets its first alert and its
/// own summary (the first burst's summary used to be dropped when the second began).
#[test]
fn each_change_burst_gets_its_summary() {
    let set = Arc::new(DetectorSet::builtin().expect("built-in"));
    let record = |minute: usize, second: usize| {
        json!({"eventVersion": "1.10", "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::123456789012:user/ops", "accountId": "123456789012", "accessKeyId": "AKIAEXAMPLEEXAMPLE12"},
            "eventTime": format!("2026-11-25T10:{minute:02}:{second:02}Z"), "eventSource": "ec2.amazonaws.com",
            "eventName": "CreateRoute", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.5",
            "userAgent": "aws-cli/2.22.0", "requestParameters": {"routeTableId": "rtb-0123"},
            "responseElements": {"_return": true}, "eventID": format!("e-{minute}-{second}"), "readOnly": false,
            "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "123456789012",
            "eventCategory": "Management"})
        .to_string()
    };
    let lines: Vec<String> = (0..4)
        .map(|s| record(0, s))
        .chain((0..3).map(|s| record(59, s)))
        .collect();
    let mut p = Pipeline::new(set, Config::default());
    let mut alerts = Vec::new();
    p.process_input(
        lines.join("\n").as_bytes(),
        &crate::common::cloudtrail_source(),
        &mut |a| alerts.push(a),
    )
    .expect("decodes");
    p.finish(&mut |a| alerts.push(a));
    let titles: Vec<&str> = alerts
        .iter()
        .filter(|a| a.rule_id == "cis-cloudwatch-13-route-table-changes")
        .map(|a| a.title.as_str())
        .collect();
    assert_eq!(
        titles.len(),
        4,
        "two first alerts and two summaries: {titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("4 matching call(s)")),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("3 matching call(s)")),
        "{titles:?}"
    );
}

/// Every line of the CloudTrail fixtures (intrusions, Stratus techniques, benign accounts) and
/// every event rule's examples, each also with its `eventName` in capitals.
fn dispatch_corpus(set: &DetectorSet) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloudtrail");
    let mut lines: Vec<String> = Vec::new();
    for dir in [root.clone(), root.join("intrusions"), root.join("stratus")] {
        for entry in std::fs::read_dir(&dir).expect("fixture dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                let text = std::fs::read_to_string(&path).expect("fixture");
                lines.extend(
                    text.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(str::to_owned),
                );
            }
        }
    }
    for rule in set.events().rules() {
        lines.extend(rule.examples.iter().cloned());
        lines.extend(rule.negative_examples.iter().cloned());
    }
    let shouted: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).ok()?;
            let name = v.get("eventName")?.as_str()?.to_uppercase();
            v["eventName"] = name.into();
            Some(v.to_string())
        })
        .collect();
    lines.extend(shouted);
    lines
}

/// The prefilter and the dispatch by `eventName` never lose a match: through the engine, each
/// line gives exactly the rules that evaluating every rule on its record gives.
#[test]
fn dispatch_finds_every_rule_a_full_evaluation_finds() {
    use logwarden::check::{EXAMPLE_CLOUDTRAIL_LOG_GROUP, example_engine};
    use logwarden::record::{Source, SourceKind};
    let set = Arc::new(DetectorSet::builtin_with_examples().expect("built-in"));
    let engine = example_engine(&set);
    let lines = dispatch_corpus(&set);
    assert!(lines.len() > 1_000, "{} lines", lines.len());
    let mut matched = 0;
    for (kind, source) in [
        (
            "cloudtrail",
            Source::new(EXAMPLE_CLOUDTRAIL_LOG_GROUP, SourceKind::CloudTrail),
        ),
        (
            "application",
            engine.sources().source("/aws/lambda/app", "s"),
        ),
    ] {
        for line in &lines {
            let ev = logwarden::LogEvent {
                id: "1".into(),
                timestamp: None,
                message: line.as_str().into(),
                truncated: false,
            };
            let mut ws = logwarden::engine::Workspace::default();
            let (record, findings) = engine.analyse(&ev, &source, &mut ws);
            let got: Vec<usize> = findings.events.iter().map(|m| m.rule.index()).collect();
            let record = record.unwrap_or_else(|| engine.parse(&ev, &source));
            let mut all = Vec::new();
            set.events().evaluate(&record, None, &mut all);
            all.sort_unstable();
            assert_eq!(got, all, "{kind} source: {line}");
            matched += got.len();
        }
    }
    assert!(
        matched > 500,
        "only {matched} matches: the corpus lost its attacks"
    );
}

/// `1 of ab*ba` selects the detections the evaluator selects (`aba` too, not only names long
/// enough for both ends), so the prefilter and the dispatch by `eventName` do not drop a rule
/// the evaluator would match.
#[test]
fn selectors_pick_what_the_evaluator_picks() {
    let yaml = r#"
title: Selector test
name: selector-test
logsource: {product: aws, service: cloudtrail}
detection:
  aba: {eventName: StopLogging}
  ab_ba: {eventName: DeleteTrail}
  condition: 1 of ab*ba
level: high
"#;
    let set = Arc::new(
        DetectorSet::builder()
            .sigma_source("selector", yaml)
            .build()
            .expect("loads"),
    );
    let engine = logwarden::check::example_engine(&set);
    for name in ["StopLogging", "DeleteTrail"] {
        let line = ct(name, json!({"eventSource": "cloudtrail.amazonaws.com"}));
        assert!(
            logwarden::check::event_rule_matches(&engine, 0, &line),
            "{name}: {line}"
        );
    }
}

/// A user rule whose condition nests parentheses about as deep as a condition can hold gets an
/// error naming the file, not a crash, on the thread that parses the Sigma files.
#[test]
fn deeply_nested_conditions_are_an_error_not_a_crash() {
    let depth = 30_000;
    let condition = format!("{}sel{}", "(".repeat(depth), ")".repeat(depth));
    let yaml = format!(
        "title: Deep\nname: deep\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n  sel: {{eventName: StopLogging}}\n  condition: '{condition}'\nlevel: high\n"
    );
    let err = DetectorSet::builder()
        .sigma_source("deep", &yaml)
        .build()
        .expect_err("too deep");
    assert!(err.to_string().contains("deep"), "{err}");
}

/// An error names the line of the rule's own `name:`, even when another rule's title is the
/// same word earlier in the file.
#[test]
fn rule_errors_name_the_rule_line_before_a_title_of_the_same_word() {
    let yaml = "title: foo\nname: a\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: X}\n  condition: sel\n---\ntitle: Other\nname: foo\nlogsource: {product: aws, service: cloudtrail}\ncustom_attributes:\n  logwarden.severity_field: [1]\ndetection:\n  sel: {eventName: Y}\n  condition: sel\n";
    let err = DetectorSet::builder()
        .sigma_source("lines", yaml)
        .build()
        .expect_err("bad attribute");
    match err {
        logwarden::DetectorError::Rule { line, rule, .. } => {
            assert_eq!((rule.as_str(), line), ("foo", 9));
        }
        other => panic!("{other}"),
    }
}
