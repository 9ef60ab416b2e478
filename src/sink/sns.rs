//! Publishing alerts to SNS: one SNS message per alert, sent with `PublishBatch` (at most 10
//! entries and 256 KiB per call), with message attributes for subscription filter policies
//! and `MessageStructure=json` (a readable text body for e-mail, the alert JSON for SQS,
//! Lambda and HTTP(S) subscribers).
//!
//! Building the requests is pure ([`sns_message`], [`plan_batches`]) and tested apart from
//! sending them ([`SnsPublisher`]).

use std::fmt::Write as _;
use std::time::Duration;

use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

use crate::alert::Alert;

/// SNS's limit on entries per `PublishBatch` call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// SNS's limit on the total payload of one `PublishBatch` call (and of one message).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// SNS's limit on a subject.
pub const MAX_SUBJECT_CHARS: usize = 100;
/// Attempts per entry before publishing is given up (and the invocation fails).
pub const MAX_ATTEMPTS: u32 = 4;

/// Why alerts could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The request could not be built (a bug, or an alert too large for SNS).
    #[error("building the SNS request: {0}")]
    Build(String),
    /// The call failed (endpoint down, topic missing, throttled past retries ...).
    #[error("SNS PublishBatch to {topic} failed: {cause}")]
    Call {
        /// The topic.
        topic: String,
        /// The SDK's error, with its service code.
        cause: String,
    },
    /// Some entries still failed after all retries.
    #[error(
        "SNS rejected {failed} of {total} alert(s) after {MAX_ATTEMPTS} attempts (first: {first})"
    )]
    Rejected {
        /// Alerts not published.
        failed: usize,
        /// Alerts in the call.
        total: usize,
        /// The first failure's code and message.
        first: String,
    },
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
    let _ = writeln!(s, "Event time: {}", alert.timestamp);
    if let Some(e) = &alert.evidence {
        let _ = writeln!(
            s,
            "Evidence:   {} (SHA-256 fingerprint {}, {} match(es) in the event)",
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
    if alert.suppressed > 0 {
        let _ = writeln!(
            s,
            "Suppressed: {} more alert(s) of this rule and key were held back",
            alert.suppressed
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

/// The SNS message for one alert.
pub fn sns_message(alert: &Alert) -> SnsMessage {
    let json = alert.to_json();
    let text = text_body(alert);
    let structure = serde_json::json!({
        "default": text,
        "email": text,
        "email-json": json,
        "sqs": json,
        "lambda": json,
        "http": json,
        "https": json,
        "firehose": json,
    });
    SnsMessage {
        subject: subject(alert),
        message: structure.to_string(),
        attributes: vec![
            ("severity", alert.severity.as_str().to_owned()),
            ("rule_id", alert.rule_id.clone()),
            ("kind", alert.kind.as_str().to_owned()),
            ("log_group", alert.log_group.clone()),
        ],
    }
}

/// Splits messages into `PublishBatch` calls of at most 10 entries and 256 KiB. Returns
/// indices into `messages`; a message over 256 KiB on its own is an error.
pub fn plan_batches(messages: &[SnsMessage]) -> Result<Vec<Vec<usize>>, PublishError> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let size = m.size();
        if size > MAX_BATCH_BYTES {
            return Err(PublishError::Build(format!(
                "alert message {i} is {size} bytes, over SNS's {MAX_BATCH_BYTES}-byte limit"
            )));
        }
        if current.len() == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(i);
        bytes += size;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    Ok(batches)
}

fn entry(id: &str, m: &SnsMessage) -> Result<PublishBatchRequestEntry, PublishError> {
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
            .map_err(|e| PublishError::Build(e.to_string()))?;
        b = b.message_attributes(*k, attr);
    }
    b.build().map_err(|e| PublishError::Build(e.to_string()))
}

/// Publishes alerts to one topic.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
    backoff: Duration,
}

impl SnsPublisher {
    /// A publisher for `topic_arn`.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: String) -> Self {
        SnsPublisher {
            client,
            topic_arn,
            backoff: Duration::from_millis(100),
        }
    }

    /// The topic.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Publishes every alert (one SNS message each). Entries SNS reports as failed are
    /// retried with backoff; an error is returned if any alert is still unpublished, so the
    /// caller fails the invocation and Lambda retries the batch.
    pub async fn publish(&self, alerts: &[Alert]) -> Result<usize, PublishError> {
        let messages: Vec<SnsMessage> = alerts.iter().map(sns_message).collect();
        for batch in plan_batches(&messages)? {
            self.publish_batch(&messages, &batch).await?;
        }
        Ok(messages.len())
    }

    async fn publish_batch(
        &self,
        messages: &[SnsMessage],
        batch: &[usize],
    ) -> Result<(), PublishError> {
        // Entry ids only need to be unique within a call.
        let mut pending: Vec<usize> = batch.to_vec();
        let mut last_failure = String::new();
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * 4u32.pow(attempt - 1)).await;
            }
            let entries = pending
                .iter()
                .map(|&i| entry(&format!("a{i}"), &messages[i]))
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await
                .map_err(|e| PublishError::Call {
                    topic: self.topic_arn.clone(),
                    cause: sdk_error_text(&e),
                })?;
            let mut retry = Vec::new();
            for f in out.failed() {
                last_failure = format!("{}: {}", f.code(), f.message().unwrap_or("no message"));
                let idx = f
                    .id()
                    .strip_prefix('a')
                    .and_then(|n| n.parse::<usize>().ok());
                match idx {
                    Some(i) if !f.sender_fault() => retry.push(i),
                    // The request itself is wrong: retrying cannot help.
                    _ => {
                        return Err(PublishError::Rejected {
                            failed: out.failed().len(),
                            total: pending.len(),
                            first: last_failure,
                        });
                    }
                }
            }
            if retry.is_empty() {
                return Ok(());
            }
            pending = retry;
        }
        Err(PublishError::Rejected {
            failed: pending.len(),
            total: batch.len(),
            first: last_failure,
        })
    }
}

/// The SDK error with its service code and message, on one line.
pub fn sdk_error_text<E: std::error::Error>(e: &E) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let _ = write!(s, ": {inner}");
        src = inner.source();
    }
    s.replace('\n', " ")
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
            timestamp: "2026-11-25T10:00:00.000Z".into(),
            evidence: Some(Evidence::of(b"sk_live_4eC39HqLyjWDarjtT1zdp7dc", 1)),
            group: None,
            count: None,
            window: None,
            suppressed: 2,
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
        let plan = plan_batches(&small).expect("plan");
        assert_eq!(plan.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 3]);
        let mut big = sns_message(&alert("t"));
        big.message = "x".repeat(100 * 1024);
        let plan = plan_batches(&[big.clone(), big.clone(), big.clone()]).expect("plan");
        assert_eq!(plan.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
        big.message = "x".repeat(300 * 1024);
        assert!(plan_batches(&[big]).is_err());
    }
}
