//! Publishing alerts to SNS: one SNS message per alert, sent with `PublishBatch` (at most 10
//! entries and 256 KiB per call), with message attributes for subscription filter policies
//! and `MessageStructure=json` (a readable text body for e-mail, the alert JSON for SQS,
//! Lambda and HTTP(S) subscribers).
//!
//! Building the requests is pure ([`sns_message`], [`plan_batches`]) and tested apart from
//! sending them ([`SnsPublisher`]).

use std::fmt::Write as _;

use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

use super::retry::{CallResult, Entry, RetryPolicy, conclude};
use super::{PublishError, PublishFuture, PublishReport, Publisher, Undeliverable};
use crate::alert::Alert;
use crate::error::AwsErrorKind;
use crate::mask::bounded;

/// SNS's limit on entries per `PublishBatch` call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// SNS's limit on the total payload of one `PublishBatch` call (and of one message).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// SNS's limit on a subject.
pub const MAX_SUBJECT_CHARS: usize = 100;

/// What the SNS message body holds for subscribers that take the `default` / `https` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnsFormat {
    /// logwarden's readable text (`default`, `email`) and alert JSON (SQS, Lambda, HTTP(S)).
    #[default]
    Json,
    /// The AWS Chatbot custom notification (`default`, `https`), so a chat channel shows a
    /// card; e-mail keeps the text and SQS/Lambda the alert JSON.
    Chatbot,
}

impl std::str::FromStr for SnsFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(SnsFormat::Json),
            "chatbot" => Ok(SnsFormat::Chatbot),
            other => Err(format!("`{other}` is not json or chatbot")),
        }
    }
}

/// The AWS Chatbot custom notification of an alert (version 1.0, `client-markdown`): a
/// title, a description with the facts (masked evidence only), keywords for the severity and
/// rule, and the alert id as the thread id so updates of one incident thread together.
pub fn chatbot_body(alert: &Alert) -> serde_json::Value {
    let mut desc = format!(
        "*{}* {} in `{}`",
        alert.severity.as_str().to_ascii_uppercase(),
        alert.kind.as_str(),
        alert.log_group
    );
    if let Some(p) = &alert.principal {
        desc.push_str(&format!("\nPrincipal: `{p}`"));
    }
    if let Some(e) = &alert.evidence {
        desc.push_str(&format!(
            "\nEvidence: `{}` (fingerprint `{}`)",
            e.masked, e.fingerprint
        ));
    }
    if let (Some(g), Some(c)) = (&alert.group, alert.count) {
        desc.push_str(&format!("\n{} = `{}`: {c}", g.field, g.value));
    }
    if let Some(t) = alert.timestamp {
        desc.push_str(&format!("\nEvent time: {t}"));
    }
    if alert.held_back > 0 {
        desc.push_str(&format!("\n{} similar alert(s) held back", alert.held_back));
    }
    serde_json::json!({
        "version": "1.0",
        "source": "custom",
        "id": alert.id,
        "content": {
            "textType": "client-markdown",
            "title": bounded(&alert.title, 250),
            "description": bounded(&desc, 3000),
            "keywords": [alert.severity.as_str(), alert.rule_id, alert.kind.as_str()],
        },
        "metadata": {
            "threadId": alert.id,
            "summary": bounded(&alert.title, 250),
            "eventType": alert.rule_id,
            "relatedResources": [alert.log_group],
            "additionalContext": {
                "severity": alert.severity.as_str(),
                "alert_id": alert.id,
            },
        },
    })
}

/// One SNS message for an alert, before it becomes a request entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    /// The `Subject` (≤100 printable ASCII characters; used by e-mail subscribers).
    pub subject: String,
    /// The `Message`: a JSON object mapping protocols to bodies (`MessageStructure=json`).
    pub message: String,
    /// Message attributes: `severity`, `rule_id`, `kind`, `log_group`.
    pub attributes: Vec<(&'static str, String)>,
}

impl SnsMessage {
    /// Approximate bytes SNS counts toward the payload limit.
    pub fn size(&self) -> usize {
        self.subject.len()
            + self.message.len()
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len() + "String".len())
                .sum::<usize>()
    }
}

impl Publisher for SnsPublisher {
    fn name(&self) -> &'static str {
        "SNS"
    }

    fn publish<'a>(&'a self, alerts: &'a [Alert]) -> PublishFuture<'a> {
        Box::pin(SnsPublisher::publish(self, alerts))
    }
}

/// The readable text body (e-mail and `default`).
pub fn text_body(alert: &Alert) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "logwarden alert: {}", alert.title);
    let _ = writeln!(s);
    let _ = writeln!(s, "Severity:   {}", alert.severity);
    let _ = writeln!(s, "Kind:       {}", alert.kind.as_str());
    let _ = writeln!(s, "Rule:       {}", alert.rule_id);
    let _ = writeln!(s, "Log group:  {}", alert.log_group);
    let _ = writeln!(s, "Log stream: {}", alert.log_stream);
    let _ = writeln!(
        s,
        "Event time: {}",
        alert.timestamp.map(|t| t.to_rfc3339()).unwrap_or_default()
    );
    if let Some(e) = &alert.evidence {
        let _ = writeln!(
            s,
            "Evidence:   {} (fingerprint {}, {} match(es) in the event)",
            e.masked, e.fingerprint, e.matches
        );
    }
    if let Some(g) = &alert.group {
        let _ = writeln!(s, "Group:      {} = {}", g.field, g.value);
    }
    if let Some(c) = alert.count {
        let _ = writeln!(s, "Count:      {c}");
    }
    if let Some(w) = &alert.window {
        let _ = writeln!(s, "Window:     {} .. {}", w.start, w.end);
    }
    if let Some(p) = &alert.principal {
        let _ = writeln!(s, "Principal:  {p}");
    }
    if let Some(i) = &alert.incident {
        let _ = writeln!(s, "Stages:     {}", i.stages.join(" -> "));
        let time =
            |t: Option<crate::time::EventTime>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        let _ = writeln!(
            s,
            "Seen:       {} .. {}",
            time(i.first_seen),
            time(i.last_seen)
        );
        let _ = writeln!(s, "Alerts:     {}", i.alert_ids.join(", "));
    }
    if alert.held_back > 0 {
        let _ = writeln!(
            s,
            "Held back:  {} more alert(s) of this rule, principal and value",
            alert.held_back
        );
    }
    let _ = writeln!(s, "Event ids:  {}", alert.event_ids.join(", "));
    let _ = writeln!(s, "Alert id:   {}", alert.id);
    s
}

/// A subject SNS accepts: printable ASCII, at most 100 characters.
pub fn subject(alert: &Alert) -> String {
    let raw = format!(
        "[{}] {}",
        alert.severity.as_str().to_ascii_uppercase(),
        alert.title
    );
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.len() > MAX_SUBJECT_CHARS {
        s.truncate(MAX_SUBJECT_CHARS - 3);
        s.push_str("...");
    }
    s
}

/// The SNS message for one alert. An alert is bounded at construction, so its message fits
/// SNS's 256 KiB; should one not fit anyway, it is sent shortened (title and every list cut,
/// marked), never refused.
pub fn sns_message(alert: &Alert) -> SnsMessage {
    sns_message_as(alert, SnsFormat::Json)
}

/// [`sns_message`] in `format`.
pub fn sns_message_as(alert: &Alert, format: SnsFormat) -> SnsMessage {
    let m = message_of(alert, format);
    if m.size() <= MAX_BATCH_BYTES {
        return m;
    }
    message_of(&shortened(alert), format)
}

/// `alert` with its text fields cut to a few hundred bytes and one event id.
pub fn shortened(alert: &Alert) -> Alert {
    let mut a = alert.clone();
    a.title = bounded(&a.title, 200);
    a.log_group = bounded(&a.log_group, 200);
    a.log_stream = bounded(&a.log_stream, 200);
    let more = a.event_ids.len().saturating_sub(1);
    a.event_ids.truncate(1);
    if let Some(first) = a.event_ids.first_mut() {
        *first = bounded(first, 200);
    }
    if more > 0 {
        a.event_ids.push(format!("…[+{more} more]"));
    }
    if let Some(g) = &mut a.group {
        g.field = bounded(&g.field, 200);
        g.value = bounded(&g.value, 200);
    }
    a
}

fn message_of(alert: &Alert, format: SnsFormat) -> SnsMessage {
    let json = alert.to_json();
    let text = text_body(alert);
    let mut structure = serde_json::json!({
        "default": text,
        "email": text,
        "email-json": json,
        "sqs": json,
        "lambda": json,
        "http": json,
        "https": json,
        "firehose": json,
    });
    if format == SnsFormat::Chatbot {
        let card = chatbot_body(alert).to_string();
        structure["default"] = serde_json::Value::String(card.clone());
        structure["https"] = serde_json::Value::String(card);
    }
    SnsMessage {
        subject: subject(alert),
        message: structure.to_string(),
        attributes: vec![
            ("severity", alert.severity.as_str().to_owned()),
            ("rule_id", alert.rule_id.clone()),
            ("kind", alert.kind.as_str().to_owned()),
            ("log_group", bounded(&alert.log_group, 256)),
        ],
    }
}

/// Splits messages into `PublishBatch` calls of at most 10 entries and 256 KiB (returns
/// indices into `messages`).
pub fn plan_batches(messages: &[SnsMessage]) -> Vec<Vec<usize>> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let size = m.size();
        if !current.is_empty()
            && (current.len() == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(i);
        bytes += size;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

fn entry(id: &str, m: &SnsMessage) -> Result<PublishBatchRequestEntry, String> {
    let mut b = PublishBatchRequestEntry::builder()
        .id(id)
        .message(&m.message)
        .subject(&m.subject)
        .message_structure("json");
    for (k, v) in &m.attributes {
        let attr = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(v)
            .build()
            .map_err(|e| e.to_string())?;
        b = b.message_attributes(*k, attr);
    }
    b.build().map_err(|e| e.to_string())
}

/// Publishes alerts to one topic.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
    format: SnsFormat,
    retry: RetryPolicy,
}

impl SnsPublisher {
    /// A publisher for `topic_arn`.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: String) -> Self {
        SnsPublisher {
            client,
            topic_arn,
            format: SnsFormat::Json,
            retry: RetryPolicy::default(),
        }
    }

    /// The publisher with its message bodies in `format`.
    pub fn with_format(mut self, format: SnsFormat) -> Self {
        self.format = format;
        self
    }

    /// The topic.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Publishes every alert (one SNS message each), under the one publishing policy
    /// ([`RetryPolicy`]): entries SNS fails for a reason on its side are retried with backoff,
    /// entries refused for good (a sender fault) are set aside in the report. Fails, naming
    /// the alerts not published, when entries are still not delivered after the retries: the
    /// caller fails the invocation and Lambda retries the batch. A failed batch of entries
    /// does not stop the others.
    pub async fn publish(&self, alerts: &[Alert]) -> Result<PublishReport, PublishError> {
        let mut report = PublishReport::default();
        let messages: Vec<SnsMessage> = alerts
            .iter()
            .map(|a| {
                let m = sns_message_as(a, self.format);
                if m.size() < message_of(a, self.format).size() {
                    report.shortened += 1;
                }
                m
            })
            .collect();
        // Entries SNS's builder refuses (attribute values it cannot take) never go out.
        let mut sendable = vec![true; messages.len()];
        for (i, m) in messages.iter().enumerate() {
            if let Err(reason) = entry(&format!("a{i}"), m) {
                sendable[i] = false;
                report.undeliverable.push(Undeliverable {
                    id: alerts[i].id.clone(),
                    reason,
                });
            }
        }
        let mut done = Vec::new();
        for batch in plan_batches(&messages) {
            let batch: Vec<usize> = batch.into_iter().filter(|&i| sendable[i]).collect();
            done.push(
                self.retry
                    .deliver(batch, |sent| self.publish_once(&messages, sent))
                    .await,
            );
        }
        let refs: Vec<&Alert> = alerts.iter().collect();
        conclude("SNS", &self.topic_arn, &refs, done, report)
    }

    /// One `PublishBatch` call for the messages `sent` (entry ids `a<index>`, unique within a
    /// call): what became of each.
    async fn publish_once(&self, messages: &[SnsMessage], sent: Vec<usize>) -> CallResult {
        let entries = sent
            .iter()
            .filter_map(|&i| entry(&format!("a{i}"), &messages[i]).ok())
            .collect();
        let out = self
            .client
            .publish_batch()
            .topic_arn(&self.topic_arn)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
            .map_err(|e| crate::error::classify(&e))?;
        let failed = out.failed();
        Ok(sent
            .iter()
            .map(|&i| {
                let id = format!("a{i}");
                match failed.iter().find(|f| f.id() == id) {
                    None => Entry::Delivered,
                    Some(f) => {
                        let reason =
                            format!("{}: {}", f.code(), f.message().unwrap_or("no message"));
                        if f.sender_fault() {
                            // Retrying cannot help: set it aside, go on with the others.
                            Entry::Refused(reason)
                        } else {
                            Entry::Retry(AwsErrorKind::from_code(Some(f.code())), reason)
                        }
                    }
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Evidence;
    use crate::detect::{FindingKind, Severity};

    fn alert(title: &str) -> Alert {
        Alert {
            id: "0123456789abcdef0123456789abcdef".into(),
            rule_id: "stripe-secret-key".into(),
            title: title.into(),
            severity: Severity::Critical,
            kind: FindingKind::Secret,
            log_group: "/aws/lambda/orders".into(),
            log_stream: "s".into(),
            event_ids: vec!["1".into()],
            timestamp: crate::time::EventTime::parse_iso("2026-11-25T10:00:00.000Z"),
            evidence: Some(Evidence::of(
                b"sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                false,
                1,
                &crate::mask::Fingerprinter::new(b"k"),
            )),
            group: None,
            count: None,
            window: None,
            principal: None,
            held_back: 2,
            verified: None,
            incident: None,
            links: Vec::new(),
            via_deployment: false,
        }
    }

    #[test]
    fn message_has_text_and_json_bodies_and_attributes() {
        let m = sns_message(&alert("Stripe key in /aws/lambda/orders"));
        let v: serde_json::Value = serde_json::from_str(&m.message).expect("json structure");
        assert!(
            v["default"]
                .as_str()
                .is_some_and(|t| t.contains("Severity:   critical"))
        );
        assert!(
            v["email"]
                .as_str()
                .is_some_and(|t| t.contains("2 more alert(s)"))
        );
        let body: serde_json::Value =
            serde_json::from_str(v["sqs"].as_str().unwrap_or_default()).expect("alert json");
        assert_eq!(body["rule_id"], "stripe-secret-key");
        assert_eq!(m.subject, "[CRITICAL] Stripe key in /aws/lambda/orders");
        let names: Vec<_> = m.attributes.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["severity", "rule_id", "kind", "log_group"]);
        assert!(!m.message.contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
    }

    #[test]
    fn subject_is_short_printable_ascii() {
        let long = format!("é\n{}", "x".repeat(300));
        let s = subject(&alert(&long));
        assert!(s.len() <= MAX_SUBJECT_CHARS);
        assert!(s.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{s}");
        assert!(s.ends_with("..."));
    }

    #[test]
    fn batches_respect_entry_and_byte_limits() {
        let small: Vec<SnsMessage> = (0..23).map(|_| sns_message(&alert("t"))).collect();
        let plan = plan_batches(&small);
        assert_eq!(plan.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 3]);
        let mut big = sns_message(&alert("t"));
        big.message = "x".repeat(100 * 1024);
        let plan = plan_batches(&[big.clone(), big.clone(), big.clone()]);
        assert_eq!(plan.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    }

    /// An alert that somehow exceeds SNS's limit is sent shortened, never refused.
    #[test]
    fn an_oversized_alert_is_shortened_to_fit() {
        let mut a = alert("t");
        a.title = "x".repeat(400 * 1024);
        a.event_ids = (0..5000).map(|i| format!("{i:056}")).collect();
        let m = sns_message(&a);
        assert!(m.size() <= MAX_BATCH_BYTES, "{}", m.size());
        assert!(m.message.contains("more]"));
    }
}
