//! The Lambda front end: configuration read once from the environment, then each invocation
//! handled by the same [`Pipeline`] call as `replay`, alerts published to SNS and metrics
//! written as Embedded Metric Format lines.
//!
//! The handler never logs raw log messages: only counts, ids and masked evidence.
//!
//! With `WINDOW_TABLE` set, correlation windows are shared through DynamoDB: the matches of
//! an invocation are flushed with one `UpdateItem` per window after the analysis, and a
//! store failure fails the invocation (Lambda retries it; retried batches are not counted
//! twice). Kinesis events get a partial batch response: the records that could not be decoded
//! are reported in `batchItemFailures`, the rest is processed.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::correlate::{SharedWindowStore, StoreError};
use crate::decode::TextSource;
use crate::detect::{DetectorError, DetectorSet, Severity};
use crate::pipeline::{Config, Pipeline, PipelineError};
use crate::sink::metrics::emf_lines;
use crate::sink::sns::{PublishError, SnsPublisher};

/// Most alerts kept for re-publishing after a failed publish (per instance).
const MAX_PENDING: usize = 10_000;

/// Settings from the environment (INTERFACE.md "Lambda").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `ALERT_TOPIC_ARN`: where alerts are published. Without it alerts are only logged.
    pub topic_arn: Option<String>,
    /// `METRICS_NAMESPACE` (default `Logwarden`).
    pub metrics_namespace: String,
    /// `MIN_SEVERITY` (default `low`).
    pub min_severity: Severity,
    /// `DETECTORS_DIR`: extra detector files.
    pub detectors_dir: Option<PathBuf>,
    /// `AWS_LAMBDA_LOG_GROUP_NAME`: the function's own log group, never analysed.
    pub own_log_group: Option<String>,
    /// `WINDOW_TABLE`: the DynamoDB table that shares correlation windows across instances.
    /// Without it windows are per instance.
    pub window_table: Option<String>,
}

/// Why the function could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("environment variable {name}: {msg}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// The detectors could not be loaded.
    #[error(transparent)]
    Detectors(#[from] DetectorError),
}

impl Settings {
    /// Reads the settings through `get` (the process environment in production).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let window_table = non_empty("WINDOW_TABLE").map(|t| t.trim().to_owned());
        if let Some(t) = &window_table
            && !valid_table_name(t)
        {
            return Err(ConfigError::Invalid {
                name: "WINDOW_TABLE",
                msg: format!(
                    "`{t}` is not a DynamoDB table name (3-255 characters: letters, digits, _ - .) or table ARN"
                ),
            });
        }
        let min_severity = match non_empty("MIN_SEVERITY") {
            None => Severity::Low,
            Some(v) => v.parse().map_err(|msg| ConfigError::Invalid {
                name: "MIN_SEVERITY",
                msg,
            })?,
        };
        Ok(Settings {
            topic_arn: non_empty("ALERT_TOPIC_ARN"),
            metrics_namespace: non_empty("METRICS_NAMESPACE").unwrap_or_else(|| "Logwarden".into()),
            min_severity,
            detectors_dir: non_empty("DETECTORS_DIR").map(PathBuf::from),
            own_log_group: non_empty("AWS_LAMBDA_LOG_GROUP_NAME"),
            window_table,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Loads the detector set these settings name (built-in plus `DETECTORS_DIR`).
    pub fn detectors(&self) -> Result<DetectorSet, ConfigError> {
        let mut b = DetectorSet::builder().builtin();
        if let Some(dir) = &self.detectors_dir {
            b = b.path(dir)?;
        }
        Ok(b.build()?)
    }
}

/// Whether `t` is a DynamoDB table name or table ARN.
fn valid_table_name(t: &str) -> bool {
    if let Some(rest) = t.strip_prefix("arn:") {
        return rest.contains(":dynamodb:") && rest.contains(":table/");
    }
    (3..=255).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Why an invocation failed. Lambda then retries the event, and after its retries the
/// on-failure destination keeps it.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event could not be decoded (or the window store failed).
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// Alerts could not be published.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The shared correlation window store failed or throttled: counts must not be lost, so
    /// the invocation is retried.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A Kinesis record failed to decode and has no sequence number to report it by.
    #[error("Kinesis record {0} could not be decoded and has no sequenceNumber to report")]
    UnidentifiedRecord(usize),
    /// A previous invocation panicked while holding the pipeline.
    #[error("pipeline state is poisoned by an earlier panic")]
    Poisoned,
}

/// What one invocation did (also the function's response).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InvocationReport {
    /// Log events received.
    pub events: u64,
    /// Log events scanned.
    pub processed: u64,
    /// Alerts produced.
    pub alerts: u64,
    /// Alerts published to SNS (including ones re-sent from an earlier failure).
    pub published: u64,
    /// Records of the event that failed to decode (reported, the rest processed).
    pub failed_records: u64,
    /// Milliseconds spent decoding and analysing.
    pub analyse_ms: f64,
    /// Milliseconds spent publishing to SNS.
    pub publish_ms: f64,
    /// Requests to the shared window store (DynamoDB `UpdateItem`s).
    pub window_requests: u64,
    /// Milliseconds spent flushing correlation windows to the shared store.
    pub window_ms: f64,
    /// For a Kinesis event: the records that failed, by sequence number (the partial batch
    /// response); `None` for other events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_item_failures: Option<Vec<String>>,
}

impl InvocationReport {
    /// The function's response: for a Kinesis event exactly the partial batch response
    /// `{"batchItemFailures":[{"itemIdentifier":"<sequenceNumber>"}]}` that the event source
    /// mapping reads (an empty list: every record succeeded); otherwise the report.
    pub fn response(&self) -> serde_json::Value {
        match &self.batch_item_failures {
            Some(failed) => serde_json::json!({
                "batchItemFailures": failed
                    .iter()
                    .map(|s| serde_json::json!({"itemIdentifier": s}))
                    .collect::<Vec<_>>()
            }),
            None => serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

/// The sequence numbers of a Kinesis event's records, or `None` when the event is not a
/// Kinesis event. Reads only the record envelopes (the data strings are skipped, not
/// copied).
pub fn kinesis_sequence_numbers(event: &[u8]) -> Option<Vec<Option<String>>> {
    #[derive(Deserialize)]
    struct Event<'a> {
        #[serde(rename = "Records", borrow, default)]
        records: Vec<Record<'a>>,
    }
    #[derive(Deserialize)]
    struct Record<'a> {
        #[serde(borrow, default)]
        kinesis: Option<Kinesis<'a>>,
    }
    #[derive(Deserialize)]
    struct Kinesis<'a> {
        #[serde(rename = "sequenceNumber", borrow, default)]
        sequence_number: Option<Cow<'a, str>>,
    }
    let head = &event[..event.len().min(512)];
    memchr::memmem::find(head, b"\"Records\"")?;
    let e: Event<'_> = serde_json::from_slice(event).ok()?;
    if e.records.is_empty() || e.records.iter().any(|r| r.kinesis.is_none()) {
        return None;
    }
    Some(
        e.records
            .into_iter()
            .map(|r| {
                r.kinesis
                    .and_then(|k| k.sequence_number)
                    .map(Cow::into_owned)
            })
            .collect(),
    )
}

/// The invocation handler: build once per cold start, call [`Handler::handle`] per event.
pub struct Handler {
    settings: Settings,
    pipeline: Mutex<Pipeline>,
    sns: Option<SnsPublisher>,
    windows: Option<Arc<dyn SharedWindowStore>>,
    pending: Mutex<Vec<Alert>>,
    emit_metrics: bool,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Handler {
    /// A handler over a detector set; `sns` is `None` when no topic is configured.
    pub fn new(settings: Settings, detectors: Arc<DetectorSet>, sns: Option<SnsPublisher>) -> Self {
        let config = Config {
            min_severity: settings.min_severity,
            ignore_log_groups: settings.own_log_group.iter().cloned().collect(),
            ..Config::default()
        };
        Handler {
            settings,
            pipeline: Mutex::new(Pipeline::new(detectors, config)),
            sns,
            windows: None,
            pending: Mutex::new(Vec::new()),
            emit_metrics: true,
        }
    }

    /// Shares correlation windows through `store` (`WINDOW_TABLE`).
    pub fn with_window_store(mut self, store: Arc<dyn SharedWindowStore>) -> Self {
        if let Ok(p) = self.pipeline.get_mut() {
            p.share_windows();
        }
        self.windows = Some(store);
        self
    }

    /// Turns EMF output on stdout off (for tests that read stdout themselves).
    pub fn without_metrics(mut self) -> Self {
        self.emit_metrics = false;
        self
    }

    /// Analyses one Lambda event (CloudWatch Logs subscription or Kinesis), flushes its
    /// correlation matches to the shared window store (when there is one), publishes its
    /// alerts and writes its metrics. Fails when the event cannot be decoded, the window store
    /// fails, or the alerts cannot be published; a Kinesis record that cannot be decoded is
    /// reported in [`InvocationReport::batch_item_failures`] instead.
    pub async fn handle(&self, event: &[u8]) -> Result<InvocationReport, HandlerError> {
        let mut alerts = Vec::new();
        let source = TextSource {
            log_group: "lambda-event".into(),
            log_stream: "lambda-event".into(),
        };
        let started = std::time::Instant::now();
        let (result, pending) = {
            let mut p = self.pipeline.lock().map_err(|_| HandlerError::Poisoned)?;
            let result = p.process_input(event, &source, &mut |a| alerts.push(a));
            (result, p.take_pending())
        };
        // Shared windows: one flush for the whole invocation, without holding the pipeline.
        let mut window_ms = 0.0;
        let mut store_error = None;
        let flushed = match &self.windows {
            Some(store) if !pending.is_empty() => {
                let t = std::time::Instant::now();
                let r = store.flush(pending).await;
                window_ms = t.elapsed().as_secs_f64() * 1e3;
                match r {
                    Ok(report) => Some(report),
                    Err(e) => {
                        store_error = Some(e);
                        None
                    }
                }
            }
            _ => None,
        };
        let stats = {
            let mut p = self.pipeline.lock().map_err(|_| HandlerError::Poisoned)?;
            if let Some(report) = flushed {
                p.apply_flush(report, &mut |a| alerts.push(a));
            }
            p.finish(&mut |a| alerts.push(a));
            p.take_stats()
        };
        if self.emit_metrics {
            for line in emf_lines(&self.settings.metrics_namespace, &stats.metrics(), now_ms()) {
                println!("{line}");
            }
        }
        let mut report = InvocationReport {
            events: stats.events_received,
            processed: stats.events_processed,
            alerts: alerts.len() as u64,
            published: 0,
            failed_records: stats.records_failed,
            analyse_ms: started.elapsed().as_secs_f64() * 1e3 - window_ms,
            publish_ms: 0.0,
            window_requests: stats.window_store_requests,
            window_ms,
            batch_item_failures: None,
        };
        for a in &alerts {
            tracing::info!(
                alert_id = %a.id,
                rule_id = %a.rule_id,
                severity = %a.severity,
                log_group = %a.log_group,
                "alert"
            );
        }
        // Alerts that an earlier invocation of this instance could not publish go first.
        let mut to_send = {
            let mut pending = self.pending.lock().map_err(|_| HandlerError::Poisoned)?;
            std::mem::take(&mut *pending)
        };
        to_send.extend(alerts);
        let mut seen = std::collections::HashSet::new();
        to_send.retain(|a| seen.insert(a.id.clone()));
        if let Some(sns) = &self.sns
            && !to_send.is_empty()
        {
            let publish_started = std::time::Instant::now();
            let published = sns.publish(&to_send).await;
            report.publish_ms = publish_started.elapsed().as_secs_f64() * 1e3;
            match published {
                Ok(n) => report.published = n as u64,
                Err(e) => {
                    tracing::error!(error = %e, alerts = to_send.len(), "publishing failed; the invocation fails so Lambda retries it");
                    let mut pending = self.pending.lock().map_err(|_| HandlerError::Poisoned)?;
                    let keep = to_send.len().min(MAX_PENDING);
                    pending.extend(to_send.into_iter().take(keep));
                    return Err(e.into());
                }
            }
        }
        if let Some(e) = store_error {
            tracing::error!(error = %e, "the window store failed; the invocation fails so Lambda retries it");
            return Err(e.into());
        }
        match result {
            Ok(record_errors) => {
                for (i, e) in &record_errors {
                    tracing::warn!(record = i, error = %e, "record could not be decoded");
                }
                if let Some(seqs) = kinesis_sequence_numbers(event) {
                    let mut failed = Vec::with_capacity(record_errors.len());
                    for (i, _) in &record_errors {
                        match seqs.get(*i).cloned().flatten() {
                            Some(seq) => failed.push(seq),
                            None => return Err(HandlerError::UnidentifiedRecord(*i)),
                        }
                    }
                    report.batch_item_failures = Some(failed);
                }
                tracing::info!(
                    events = report.events,
                    processed = report.processed,
                    alerts = report.alerts,
                    published = report.published,
                    analyse_ms = report.analyse_ms,
                    publish_ms = report.publish_ms,
                    window_requests = report.window_requests,
                    window_ms = report.window_ms,
                    failed_records = report.failed_records,
                    "invocation done"
                );
                Ok(report)
            }
            Err(e) => {
                tracing::error!(error = %e, "event could not be processed");
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_table_is_read_and_checked() {
        let s =
            Settings::from_lookup(|k| (k == "WINDOW_TABLE").then(|| " logwarden-windows ".into()))
                .expect("valid");
        assert_eq!(s.window_table.as_deref(), Some("logwarden-windows"));
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/w";
        let s = Settings::from_lookup(|k| (k == "WINDOW_TABLE").then(|| arn.into())).expect("arn");
        assert_eq!(s.window_table.as_deref(), Some(arn));
        let e = Settings::from_lookup(|k| (k == "WINDOW_TABLE").then(|| "bad name!".into()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("WINDOW_TABLE"), "{e}");
        assert_eq!(
            Settings::from_lookup(|_| None)
                .ok()
                .and_then(|s| s.window_table),
            None
        );
    }

    #[test]
    fn kinesis_sequence_numbers_are_read_without_the_data() {
        let event = br#"{"Records":[{"kinesis":{"data":"H4sI","sequenceNumber":"49590"},"eventSource":"aws:kinesis"},
            {"kinesis":{"data":"x"},"eventSource":"aws:kinesis"}]}"#;
        assert_eq!(
            kinesis_sequence_numbers(event),
            Some(vec![Some("49590".to_owned()), None])
        );
        assert_eq!(
            kinesis_sequence_numbers(br#"{"awslogs":{"data":"H4sI"}}"#),
            None
        );
        assert_eq!(
            kinesis_sequence_numbers(br#"{"Records":[{"s3":{}}]}"#),
            None
        );
    }

    #[test]
    fn kinesis_responses_are_exactly_the_partial_batch_response() {
        let mut r = InvocationReport {
            batch_item_failures: Some(vec!["1".into()]),
            ..InvocationReport::default()
        };
        assert_eq!(
            r.response(),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "1"}]})
        );
        r.batch_item_failures = None;
        assert!(r.response().get("batchItemFailures").is_none());
        assert!(r.response().get("events").is_some());
    }
}
