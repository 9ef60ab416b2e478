//! Amazon EventBridge: every alert put on a bus as an OCSF 1.1 Detection Finding
//! (`class_uid` 2004), `Source` "logwarden", `DetailType` "Detection Finding", with
//! `PutEvents` (at most 10 entries and 256 KB per call; failed entries with a retryable code
//! retried). The SOC routes from the bus: to Slack through an API destination, to a queue, to
//! Step Functions, or to a Security Lake ingestion pipeline.
//!
//! Building an event is a pure function ([`ocsf_finding`]), tested apart from sending.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::{Value, json};

use super::retry::{CallResult, Entry, RetryPolicy, conclude};
use super::{PublishError, PublishFuture, PublishReport, Publisher, Undeliverable};
use crate::alert::Alert;
use crate::error::AwsErrorKind;
use crate::severity::{FindingKind, Severity};
use crate::time::EventTime;

/// The event source.
pub const SOURCE: &str = "logwarden";
/// The event detail type.
pub const DETAIL_TYPE: &str = "Detection Finding";
/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.1.0";
/// Entries per `PutEvents` call (the API's limit).
pub const MAX_ENTRIES: usize = 10;
/// Bytes per `PutEvents` call (EventBridge's documented request size limit).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

/// ATT&CK tactics named by a rule's tags (`attack.credential_access` ...), as OCSF attacks.
fn attacks(tags: &[String]) -> Vec<Value> {
    const TACTICS: &[(&str, &str, &str)] = &[
        ("initial_access", "TA0001", "Initial Access"),
        ("execution", "TA0002", "Execution"),
        ("persistence", "TA0003", "Persistence"),
        ("privilege_escalation", "TA0004", "Privilege Escalation"),
        ("defense_evasion", "TA0005", "Defense Evasion"),
        ("credential_access", "TA0006", "Credential Access"),
        ("discovery", "TA0007", "Discovery"),
        ("lateral_movement", "TA0008", "Lateral Movement"),
        ("collection", "TA0009", "Collection"),
        ("exfiltration", "TA0010", "Exfiltration"),
        ("command_and_control", "TA0011", "Command and Control"),
        ("impact", "TA0040", "Impact"),
    ];
    let mut out = Vec::new();
    for t in tags {
        let Some(name) = t.strip_prefix("attack.") else {
            continue;
        };
        let name = name.replace('-', "_");
        if let Some((_, uid, title)) = TACTICS.iter().find(|(n, _, _)| *n == name) {
            out.push(json!({"version": "v16", "tactic": {"uid": uid, "name": title}}));
        } else if name.starts_with('t')
            && name[1..].chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            out.push(json!({"version": "v16", "technique": {"uid": name.to_ascii_uppercase()}}));
        }
    }
    out
}

/// The OCSF 1.1 Detection Finding of an alert. `tags` are the rule's tags; `account` and
/// `region` the cloud it ran in (when known).
pub fn ocsf_finding(
    alert: &Alert,
    tags: &[String],
    account: Option<&str>,
    region: Option<&str>,
) -> Value {
    let time = alert.timestamp.map_or(0, EventTime::as_millis);
    let (observables, resources, data) = ocsf_parts(alert);
    let mut finding = json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200401,
        "severity_id": severity_id(alert.severity),
        "severity": alert.severity.as_str(),
        "status_id": 1,
        "confidence_id": 3,
        "time": time,
        "timezone_offset": 0,
        "message": alert.title,
        "count": alert.held_back + 1,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "logwarden", "vendor_name": "logwarden", "version": env!("CARGO_PKG_VERSION")},
            "log_name": alert.log_group,
            "uid": alert.id,
        },
        "finding_info": {
            "uid": alert.id,
            "title": alert.title,
            "types": [alert.kind.as_str()],
            "first_seen_time": time,
            "last_seen_time": time,
            "analytic": {"type_id": 1, "type": "Rule", "uid": alert.rule_id, "name": alert.rule_id},
            "attacks": attacks(tags),
        },
        "resources": resources,
        "evidences": [{"data": data}],
        "observables": observables,
    });
    if let (Some(w), Some(c)) = (&alert.window, alert.count) {
        finding["start_time"] = json!(w.start.as_millis());
        finding["end_time"] = json!(w.end.as_millis());
        finding["finding_info"]["desc"] = json!(format!("{c} at the crossing"));
    }
    if matches!(alert.kind, FindingKind::Secret | FindingKind::Pii) {
        finding["finding_info"]["desc"] =
            json!("a secret or personal value was written to the log (masked here)");
    }
    if let Some(acct) = account {
        finding["metadata"]["profiles"] = json!(["cloud"]);
        finding["cloud"] = json!({"provider": "AWS", "region": region.unwrap_or_default(), "account": {"uid": acct, "type_id": 10}});
    }
    finding
}

/// The observables, resources and evidence data of an alert's OCSF finding.
fn ocsf_parts(alert: &Alert) -> (Vec<Value>, Vec<Value>, Value) {
    let mut observables = Vec::new();
    if let Some(g) = &alert.group {
        let ip = g.value.parse::<std::net::IpAddr>().is_ok();
        observables.push(json!({
            "name": format!("unmapped.group.{}", g.field),
            "type_id": if ip { 2 } else if g.field.to_ascii_lowercase().contains("user") || g.field.contains("arn") { 4 } else { 99 },
            "value": g.value,
        }));
    }
    if let Some(e) = &alert.evidence {
        observables.push(
            json!({"name": "evidences[0].data.fingerprint", "type_id": 30, "value": e.fingerprint}),
        );
    }
    let resource =
        json!({"uid": alert.log_group, "type": "AWS::Logs::LogGroup", "name": alert.log_group});
    let mut resources = vec![resource];
    if let Some(name) = alert.log_group.strip_prefix("/aws/lambda/") {
        resources.push(json!({"name": name, "type": "AWS::Lambda::Function"}));
    }
    let mut data = json!({"log_group": alert.log_group, "log_stream": alert.log_stream, "event_ids": alert.event_ids});
    if let Some(e) = &alert.evidence {
        data["masked"] = json!(e.masked);
        data["fingerprint"] = json!(e.fingerprint);
        data["matches"] = json!(e.matches);
    }
    if let (Some(g), Some(c)) = (&alert.group, alert.count) {
        data["group"] = json!({"field": g.field, "value": g.value});
        data["count"] = json!(c);
    }
    (observables, resources, data)
}

/// Puts alerts on one event bus.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    account: Option<String>,
    region: Option<String>,
    tags: std::sync::Arc<std::collections::HashMap<String, Vec<String>>>,
    retry: RetryPolicy,
}

impl EventBridgePublisher {
    /// A publisher to `bus` (a name or an ARN); `tags` maps rule ids to their tags.
    pub fn new(
        client: aws_sdk_eventbridge::Client,
        bus: String,
        account: Option<String>,
        region: Option<String>,
        tags: std::collections::HashMap<String, Vec<String>>,
    ) -> Self {
        EventBridgePublisher {
            client,
            bus,
            account,
            region,
            tags: std::sync::Arc::new(tags),
            retry: RetryPolicy::default(),
        }
    }

    fn entry(&self, alert: &Alert) -> (PutEventsRequestEntry, usize) {
        let tags = self
            .tags
            .get(&alert.rule_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let detail =
            ocsf_finding(alert, tags, self.account.as_deref(), self.region.as_deref()).to_string();
        let size = SOURCE.len() + DETAIL_TYPE.len() + detail.len() + 14;
        let e = PutEventsRequestEntry::builder()
            .source(SOURCE)
            .detail_type(DETAIL_TYPE)
            .detail(detail)
            .event_bus_name(&self.bus)
            .build();
        (e, size)
    }

    /// The alerts (indices) in calls of at most 10 entries and 256 KB; an alert too large
    /// alone is set aside as undeliverable.
    fn batches(&self, alerts: &[Alert], report: &mut PublishReport) -> Vec<Vec<usize>> {
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut bytes = 0;
        for (i, a) in alerts.iter().enumerate() {
            let (_, size) = self.entry(a);
            if size > MAX_REQUEST_BYTES {
                report.undeliverable.push(Undeliverable {
                    id: a.id.clone(),
                    reason: format!("{size} bytes, over EventBridge's {MAX_REQUEST_BYTES}"),
                });
                continue;
            }
            match batches.last_mut() {
                Some(b) if b.len() < MAX_ENTRIES && bytes + size <= MAX_REQUEST_BYTES => {
                    b.push(i);
                    bytes += size;
                }
                _ => {
                    batches.push(vec![i]);
                    bytes = size;
                }
            }
        }
        batches
    }

    /// One `PutEvents` call for the alerts `sent`: what became of each entry.
    async fn put_once(&self, alerts: &[Alert], sent: Vec<usize>) -> CallResult {
        let entries: Vec<PutEventsRequestEntry> =
            sent.iter().map(|&i| self.entry(&alerts[i]).0).collect();
        let out = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| crate::error::classify(&e))?;
        Ok(out
            .entries()
            .iter()
            .map(|r| match r.error_code() {
                None => Entry::Delivered,
                Some(code) => {
                    let reason = format!("{code}: {}", r.error_message().unwrap_or("no message"));
                    if matches!(code, "InternalFailure" | "ThrottlingException") {
                        Entry::Retry(AwsErrorKind::from_code(Some(code)), reason)
                    } else {
                        Entry::Refused(reason)
                    }
                }
            })
            .collect())
    }

    async fn put(&self, alerts: &[Alert]) -> Result<PublishReport, PublishError> {
        let mut report = PublishReport::default();
        let mut done = Vec::new();
        for batch in self.batches(alerts, &mut report) {
            done.push(
                self.retry
                    .deliver(batch, |sent| self.put_once(alerts, sent))
                    .await,
            );
        }
        let refs: Vec<&Alert> = alerts.iter().collect();
        conclude("EventBridge", &self.bus, &refs, done, report)
    }
}

impl Publisher for EventBridgePublisher {
    fn name(&self) -> &'static str {
        "EventBridge"
    }

    fn publish<'a>(&'a self, alerts: &'a [Alert]) -> PublishFuture<'a> {
        Box::pin(self.put(alerts))
    }
}

/// Checks an event against the OCSF 1.1.0 Detection Finding class's required attributes and
/// enums (used by tests and `detectors`-side checks); returns what is wrong.
pub fn ocsf_problems(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let int = |k: &str| v.get(k).and_then(Value::as_i64);
    for k in [
        "activity_id",
        "category_uid",
        "class_uid",
        "type_uid",
        "severity_id",
        "time",
    ] {
        if int(k).is_none() {
            p.push(format!("{k} missing or not an integer"));
        }
    }
    if int("class_uid") != Some(2004) || int("category_uid") != Some(2) {
        p.push("class_uid must be 2004 and category_uid 2".into());
    }
    if let (Some(a), Some(t)) = (int("activity_id"), int("type_uid"))
        && t != 200_400 + a
    {
        p.push("type_uid must be class_uid * 100 + activity_id".into());
    }
    if !matches!(int("activity_id"), Some(0..=3 | 99)) {
        p.push("activity_id out of its enum".into());
    }
    if !matches!(int("severity_id"), Some(0..=6 | 99)) {
        p.push("severity_id out of its enum".into());
    }
    if int("time").is_none_or(|t| t < 1_000_000_000_000) {
        p.push("time must be epoch milliseconds".into());
    }
    let s = |path: &[&str]| {
        path.iter()
            .try_fold(v, |x, k| x.get(k))
            .and_then(Value::as_str)
            .is_some()
    };
    for path in [
        &["metadata", "version"][..],
        &["metadata", "product", "vendor_name"],
        &["metadata", "product", "name"],
        &["finding_info", "uid"],
        &["finding_info", "title"],
    ] {
        if !s(path) {
            p.push(format!("{} missing", path.join(".")));
        }
    }
    p.extend(part_problems(v));
    p
}

/// [`ocsf_problems`] of the observables, evidences, cloud profile and analytic.
fn part_problems(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    for o in v
        .get("observables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ok_type = matches!(
            o.get("type_id").and_then(Value::as_i64),
            Some(0..=10 | 20..=27 | 30 | 99)
        );
        if o.get("name").and_then(Value::as_str).is_none() || !ok_type {
            p.push(format!("bad observable {o}"));
        }
    }
    for e in v
        .get("evidences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let keys = [
            "actor",
            "api",
            "connection_info",
            "data",
            "dst_endpoint",
            "file",
            "process",
            "query",
            "src_endpoint",
        ];
        if !keys.iter().any(|k| e.get(k).is_some()) {
            p.push("an evidence without any of its attributes".into());
        }
    }
    let profiles = v["metadata"]["profiles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if profiles.iter().any(|x| x == "cloud") && v["cloud"]["provider"].as_str().is_none() {
        p.push("cloud profile without cloud.provider".into());
    }
    if v.get("finding_info")
        .and_then(|f| f.get("analytic"))
        .is_some_and(|a| a.get("type_id").is_none())
    {
        p.push("finding_info.analytic without type_id".into());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Evidence, Group, Window};
    use crate::mask::Fingerprinter;

    #[test]
    fn alerts_become_valid_ocsf_detection_findings_without_secrets() {
        let mut a = Alert {
            id: "0123456789abcdef0123456789abcdef".into(),
            rule_id: "auth-failure-burst".into(),
            title: "Burst of authentication failures (details.sourceIp=203.0.113.7)".into(),
            severity: Severity::High,
            kind: FindingKind::Threshold,
            log_group: "/aws/lambda/orders".into(),
            log_stream: "s".into(),
            event_ids: vec!["1".into()],
            timestamp: crate::time::EventTime::parse_iso("2026-11-25T10:00:00.000Z"),
            evidence: None,
            group: Some(Group {
                field: "details.sourceIp".into(),
                value: "203.0.113.7".into(),
            }),
            count: Some(10),
            window: Some(Window {
                start: crate::time::EventTime::clamped(
                    crate::time::parse_iso_ms("2026-11-25T09:58:00.000Z").unwrap_or(0),
                ),
                end: crate::time::EventTime::clamped(
                    crate::time::parse_iso_ms("2026-11-25T10:00:00.000Z").unwrap_or(0),
                ),
            }),
            principal: None,
            held_back: 0,
            verified: None,
            incident: None,
            links: Vec::new(),
            via_deployment: false,
        };
        let v = ocsf_finding(
            &a,
            &["attack.credential_access".into(), "attack.t1110".into()],
            Some("123456789012"),
            Some("us-east-1"),
        );
        assert_eq!(ocsf_problems(&v), Vec::<String>::new());
        assert_eq!(v["observables"][0]["type_id"], 2);
        assert_eq!(v["finding_info"]["attacks"][0]["tactic"]["uid"], "TA0006");
        a.kind = FindingKind::Secret;
        a.group = None;
        a.evidence = Some(Evidence::of(
            b"sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            false,
            1,
            &Fingerprinter::new(b"k"),
        ));
        let v = ocsf_finding(&a, &[], None, None);
        assert_eq!(ocsf_problems(&v), Vec::<String>::new());
        assert!(!v.to_string().contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
        assert_eq!(v["observables"][0]["type_id"], 30);
    }
}
