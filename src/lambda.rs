//! The Lambda front end: configuration read once from the environment, then each invocation
//! handled by the same [`Pipeline`] call as `replay`, alerts published to SNS and metrics
//! written as Embedded Metric Format lines.
//!
//! The handler never logs raw log messages: only counts, ids and masked evidence.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::alert::Alert;
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
        if non_empty("WINDOW_TABLE").is_some() {
            return Err(ConfigError::Invalid {
                name: "WINDOW_TABLE",
                msg: "shared correlation windows are not supported by this version; unset it"
                    .to_owned(),
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
}

/// The invocation handler: build once per cold start, call [`Handler::handle`] per event.
pub struct Handler {
    settings: Settings,
    pipeline: Mutex<Pipeline>,
    sns: Option<SnsPublisher>,
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
            pending: Mutex::new(Vec::new()),
            emit_metrics: true,
        }
    }

    /// Turns EMF output on stdout off (for tests that read stdout themselves).
    pub fn without_metrics(mut self) -> Self {
        self.emit_metrics = false;
        self
    }

    /// Analyses one Lambda event (CloudWatch Logs subscription or Kinesis), publishes its
    /// alerts and writes its metrics. Fails when the event cannot be decoded or the alerts
    /// cannot be published.
    pub async fn handle(&self, event: &[u8]) -> Result<InvocationReport, HandlerError> {
        let mut alerts = Vec::new();
        let source = TextSource {
            log_group: "lambda-event".into(),
            log_stream: "lambda-event".into(),
        };
        let started = std::time::Instant::now();
        let (result, stats) = {
            let mut p = self.pipeline.lock().map_err(|_| HandlerError::Poisoned)?;
            let result = p.process_input(event, &source, &mut |a| alerts.push(a));
            p.finish(&mut |a| alerts.push(a));
            (result, p.take_stats())
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
            analyse_ms: started.elapsed().as_secs_f64() * 1e3,
            publish_ms: 0.0,
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
        match result {
            Ok(record_errors) => {
                for (i, e) in &record_errors {
                    tracing::warn!(record = i, error = %e, "record could not be decoded");
                }
                tracing::info!(
                    events = report.events,
                    processed = report.processed,
                    alerts = report.alerts,
                    published = report.published,
                    analyse_ms = report.analyse_ms,
                    publish_ms = report.publish_ms,
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
