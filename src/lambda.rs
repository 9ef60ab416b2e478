//! The Lambda front end: each event handed to the same [`Driver`] as `replay` (analyse, flush
//! shared windows, finish, publish, metrics as EMF lines), and the result mapped to the
//! function's response. The settings and clients are built once per cold start
//! ([`crate::settings`]).
//!
//! The handler never logs log content: only counts, ids and masked evidence. A Kinesis event
//! gets a partial batch response: the records that could not be decoded are reported in
//! `batchItemFailures` by sequence number, the rest is processed. An invocation that stops
//! half-way (a panic, which the runtime turns into an error) leaves no poisoned state: the next
//! one rebuilds the correlation state and goes on.

use crate::decode::TextSource;
use crate::driver::{Driver, DriverError, InvocationReport, failed_sequence_numbers};
use crate::objects::{ObjectError, ObjectRef, objects_of};
pub use crate::settings::{ConfigError, Parts, Settings};

/// Why an invocation failed. Lambda then retries the event, and after its retries the
/// on-failure destination keeps it.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event could not be processed, the window store failed, or alerts could not be
    /// published.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// A Kinesis record failed to decode and has no sequence number to report it by.
    #[error("Kinesis record {0} could not be decoded and has no sequenceNumber to report")]
    UnidentifiedRecord(usize),
    /// A trail file an S3 event names could not be read (the others were analysed).
    #[error(transparent)]
    Object(#[from] ObjectError),
}

/// The invocation handler: build once per cold start, call [`Handler::handle`] per event.
pub struct Handler {
    parts: Parts,
    driver: tokio::sync::Mutex<Driver>,
    /// Reads the trail files S3 events name.
    objects: Option<aws_sdk_s3::Client>,
    /// Threads for the records of a Kinesis event, or the events of one CloudWatch Logs
    /// payload (`THREADS`).
    threads: usize,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler").finish_non_exhaustive()
    }
}

impl Handler {
    /// A handler over these parts.
    pub fn new(parts: Parts) -> Self {
        let driver = tokio::sync::Mutex::new(parts.driver());
        Handler {
            parts,
            driver,
            objects: None,
            threads: 1,
        }
    }

    /// The handler analysing the records of a Kinesis event (or the events of one CloudWatch
    /// Logs payload, in contiguous stretches) on `threads` threads at once
    /// (`THREADS`, default: the vCPUs Lambda gives the function): the same alerts in the same
    /// order as on one.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The handler reading, with `client`, the trail files S3 events name (a trail that
    /// delivers only to S3: see [`crate::objects`]).
    pub fn with_objects(mut self, client: aws_sdk_s3::Client) -> Self {
        self.objects = Some(client);
        self
    }

    /// Handles one Lambda event (CloudWatch Logs subscription or Kinesis): what it did, and
    /// for a Kinesis event the records to report as failed ([`Response::to_json`] is the
    /// function's response).
    pub async fn handle(&self, event: &[u8]) -> Result<Response, HandlerError> {
        let mut driver = self.driver.lock().await;
        if driver.interrupted() {
            tracing::warn!("the previous invocation stopped half-way: correlation state rebuilt");
            *driver = self.parts.driver();
        }
        let mut log_alert = |a: &crate::alert::Alert| {
            tracing::info!(alert_id = %a.id, rule_id = %a.rule_id, severity = %a.severity, log_group = %a.log_group, "alert");
        };
        if let Some(objects) = objects_of(event) {
            return self
                .handle_objects(&mut driver, &objects, &mut log_alert)
                .await;
        }
        let source = TextSource {
            log_group: "lambda-event".into(),
            log_stream: "lambda-event".into(),
            first_line: 1,
        };
        let records = match self.threads {
            1 => None,
            _ => kinesis_records(event).filter(|r| r.len() > 1),
        };
        let outcome = match records {
            Some(parts) => {
                driver
                    .analyse_parts(&parts, &source, self.threads, &mut log_alert)
                    .await
            }
            None => {
                driver
                    .analyse_wide(event, &source, self.threads, &mut log_alert)
                    .await
            }
        };
        for e in &outcome.record_errors {
            tracing::warn!(record = e.origin.index, error = %e.error, "record could not be decoded");
        }
        let report = conclude(&mut driver, outcome.error.map(Into::into), &mut log_alert).await?;
        let batch_item_failures = if is_kinesis(event) {
            Some(
                failed_sequence_numbers(&outcome.record_errors)
                    .map_err(HandlerError::UnidentifiedRecord)?,
            )
        } else {
            None
        };
        Ok(Response {
            report,
            batch_item_failures,
        })
    }
}

impl Handler {
    /// The trail files an S3 event names: each read and analysed as replay reads a trail
    /// file (log group `s3://<bucket>`); files that are not trail log files are skipped. One
    /// that cannot be read does not stop the others, but fails the invocation afterwards so
    /// Lambda retries the event (alert ids are stable, so a retry repeats the same ids).
    async fn handle_objects(
        &self,
        driver: &mut Driver,
        objects: &[ObjectRef],
        log_alert: &mut (dyn FnMut(&crate::alert::Alert) + Send),
    ) -> Result<Response, HandlerError> {
        let mut failed: Option<HandlerError> = None;
        for o in objects {
            if !o.is_trail_log() {
                tracing::info!(bucket = %o.bucket, key = %o.key, "not a trail log file: skipped");
                continue;
            }
            let Some(client) = &self.objects else {
                failed.get_or_insert(ObjectError::NoClient.into());
                continue;
            };
            let bytes = match crate::objects::fetch(client, o).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "trail file not read");
                    failed.get_or_insert(e.into());
                    continue;
                }
            };
            let source = TextSource {
                log_group: format!("s3://{}", o.bucket),
                log_stream: o.key.clone(),
                first_line: 1,
            };
            let outcome = driver.analyse(&bytes, &source, log_alert).await;
            for e in &outcome.record_errors {
                tracing::warn!(key = %o.key, record = e.origin.index, error = %e.error, "record could not be decoded");
            }
            if let Some(e) = outcome.error {
                tracing::error!(key = %o.key, error = %e, "trail file not analysed");
                failed.get_or_insert(e.into());
            }
        }
        let report = conclude(driver, failed, log_alert).await?;
        Ok(Response {
            report,
            batch_item_failures: None,
        })
    }
}

/// Ends the run ([`Driver::finish`]: digests, publishing, metrics) and logs its report; fails
/// with `error` (what went wrong while analysing, the first cause) or else with the finish's
/// own error, so that Lambda retries the event.
async fn conclude(
    driver: &mut Driver,
    error: Option<HandlerError>,
    log_alert: &mut (dyn FnMut(&crate::alert::Alert) + Send),
) -> Result<InvocationReport, HandlerError> {
    let finished = driver.finish(log_alert).await;
    if let Ok(report) = &finished {
        log_report(report);
    }
    let failed = match (error, finished) {
        (Some(e), _) => e,
        (None, Err(e)) => e.into(),
        (None, Ok(report)) => return Ok(report),
    };
    tracing::error!(error = %failed, "invocation failed; Lambda retries it");
    Err(failed)
}

/// What one invocation did, and what the function answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// What it did.
    pub report: InvocationReport,
    /// For a Kinesis event: the sequence numbers of the records that failed (empty: none).
    pub batch_item_failures: Option<Vec<String>>,
}

impl std::ops::Deref for Response {
    type Target = InvocationReport;
    fn deref(&self) -> &InvocationReport {
        &self.report
    }
}

impl Response {
    /// The function's response: for a Kinesis event exactly the partial batch response
    /// `{"batchItemFailures":[{"itemIdentifier":"<sequenceNumber>"}]}` that the event source
    /// mapping reads; otherwise the report.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.batch_item_failures {
            Some(failed) => kinesis_response(failed),
            None => serde_json::to_value(&self.report).unwrap_or(serde_json::Value::Null),
        }
    }
}

fn log_report(r: &InvocationReport) {
    tracing::info!(
        events = r.events,
        processed = r.processed,
        alerts = r.alerts,
        published = r.published,
        undeliverable = r.undeliverable,
        open_episodes = r.open_episodes,
        window_evictions = r.window_evictions,
        analyse_ms = r.analyse_ms,
        publish_ms = r.publish_ms,
        window_requests = r.window_requests,
        window_ms = r.window_ms,
        failed_records = r.failed_records,
        "invocation done"
    );
}

/// Whether the event is a Kinesis event (its records carry `"eventSource":"aws:kinesis"`).
fn is_kinesis(event: &[u8]) -> bool {
    let head = &event[..event.len().min(512)];
    memchr::memmem::find(head, b"\"Records\"").is_some()
        && memchr::memmem::find(event, b"\"kinesis\"").is_some()
}

/// A Kinesis event's records, each as a Kinesis event of its own (`None`: not a Kinesis event
/// that parses).
fn kinesis_records(event: &[u8]) -> Option<Vec<Vec<u8>>> {
    if !is_kinesis(event) {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Event<'a> {
        #[serde(rename = "Records", borrow)]
        records: Vec<&'a serde_json::value::RawValue>,
    }
    let e: Event<'_> = serde_json::from_slice(event).ok()?;
    Some(
        e.records
            .iter()
            .map(|r| format!("{{\"Records\":[{}]}}", r.get()).into_bytes())
            .collect(),
    )
}

/// The partial batch response naming the failed records.
pub fn kinesis_response(failed: &[String]) -> serde_json::Value {
    serde_json::json!({
        "batchItemFailures": failed
            .iter()
            .map(|s| serde_json::json!({"itemIdentifier": s}))
            .collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_responses_are_exactly_the_partial_batch_response() {
        assert_eq!(
            kinesis_response(&["1".into()]),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "1"}]})
        );
        assert!(is_kinesis(br#"{"Records":[{"kinesis":{"data":"x"}}]}"#));
        assert!(!is_kinesis(br#"{"awslogs":{"data":"H4sI"}}"#));
    }
}
