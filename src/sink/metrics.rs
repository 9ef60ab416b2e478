//! CloudWatch metrics: per rule and severity, events and bytes processed, decode errors,
//! alerts held back, grouped and suppressed.
//!
//! In the Lambda they are written as Embedded Metric Format lines on stdout, which CloudWatch
//! Logs turns into metrics with no API call per invocation; from the CLI they are sent with
//! `PutMetricData`. Both take the same [`Metric`] list.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

/// The dimension every metric carries, so all of logwarden's metrics can be found together.
pub const SERVICE_DIMENSION: (&str, &str) = ("Service", "logwarden");

/// Units used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// Bytes.
    Bytes,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Bytes => "Bytes",
        }
    }
}

/// One metric value.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Metric name, e.g. `Alerts`.
    pub name: &'static str,
    /// Dimensions besides `Service`, e.g. `[("Rule", "aws-access-key-id"), ("Severity", "critical")]`.
    pub dimensions: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
    /// The unit.
    pub unit: Unit,
}

impl Metric {
    /// A metric without extra dimensions.
    pub fn total(name: &'static str, value: u64, unit: Unit) -> Self {
        Metric {
            name,
            dimensions: Vec::new(),
            value: value as f64,
            unit,
        }
    }
}

/// The metrics of a run's counters: totals, plus `Alerts` per rule and severity.
pub fn of_stats(s: &crate::pipeline::Stats) -> Vec<Metric> {
    let skipped = s.events_skipped_control + s.events_skipped_ignored_group;
    let mut m = vec![
        Metric::total("EventsReceived", s.events_received, Unit::Count),
        Metric::total("EventsProcessed", s.events_processed, Unit::Count),
        Metric::total("EventsSkipped", skipped, Unit::Count),
        Metric::total("EventsTruncated", s.events_truncated, Unit::Count),
        Metric::total("BytesProcessed", s.message_bytes, Unit::Bytes),
        Metric::total(
            "DecodeErrors",
            s.inputs_failed + s.records_failed,
            Unit::Count,
        ),
        Metric::total("AlertsHeldBack", s.alerts_held_back, Unit::Count),
        Metric::total("AlertsGrouped", s.alerts_grouped, Unit::Count),
        Metric::total("AlertsSuppressed", s.alerts_suppressed, Unit::Count),
        Metric::total("Alerts", s.alerts, Unit::Count),
        Metric::total("CorrelationEvictions", s.window_evictions, Unit::Count),
        Metric::total("CorrelationLateEvents", s.correlation_late, Unit::Count),
        Metric::total("CorrelationOpenEpisodes", s.open_episodes, Unit::Count),
    ];
    for (rule, n) in &s.alerts_suppressed_by_rule {
        m.push(Metric {
            name: "AlertsSuppressedByRule",
            dimensions: vec![("Rule", rule.clone())],
            value: *n as f64,
            unit: Unit::Count,
        });
    }
    for (rule, n) in &s.event_matches_by_rule {
        m.push(Metric {
            name: "EventMatches",
            dimensions: vec![("Rule", rule.clone())],
            value: *n as f64,
            unit: Unit::Count,
        });
    }
    for ((rule, severity), n) in &s.alerts_by_rule_severity {
        m.push(Metric {
            name: "Alerts",
            dimensions: vec![
                ("Rule", rule.clone()),
                ("Severity", severity.as_str().to_owned()),
            ],
            value: *n as f64,
            unit: Unit::Count,
        });
    }
    m
}

/// Embedded Metric Format lines: one JSON object per distinct set of dimension values, with
/// the `_aws` metadata and each metric's value at the root.
pub fn emf_lines(namespace: &str, metrics: &[Metric], timestamp_ms: i64) -> Vec<String> {
    let mut groups: BTreeMap<Vec<(&'static str, String)>, Vec<&Metric>> = BTreeMap::new();
    for m in metrics {
        groups.entry(m.dimensions.clone()).or_default().push(m);
    }
    let mut lines = Vec::new();
    for (dims, ms) in groups {
        // EMF allows at most 100 metrics per directive.
        for chunk in ms.chunks(100) {
            let mut root = serde_json::Map::new();
            let mut keys = vec![SERVICE_DIMENSION.0.to_owned()];
            root.insert(SERVICE_DIMENSION.0.to_owned(), SERVICE_DIMENSION.1.into());
            for (k, v) in &dims {
                keys.push((*k).to_owned());
                root.insert((*k).to_owned(), v.clone().into());
            }
            let defs: Vec<serde_json::Value> = chunk
                .iter()
                .map(|m| serde_json::json!({"Name": m.name, "Unit": m.unit.as_str()}))
                .collect();
            for m in chunk {
                root.insert(m.name.to_owned(), m.value.into());
            }
            root.insert(
                "_aws".to_owned(),
                serde_json::json!({
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": namespace,
                        "Dimensions": [keys],
                        "Metrics": defs,
                    }]
                }),
            );
            lines.push(serde_json::Value::Object(root).to_string());
        }
    }
    lines
}

/// Why metrics could not be sent.
#[derive(Debug, thiserror::Error)]
#[error("CloudWatch PutMetricData to namespace {namespace} {kind}: {cause}")]
pub struct MetricsError {
    /// The namespace.
    pub namespace: String,
    /// Throttled, access denied ...
    pub kind: crate::error::AwsErrorKind,
    /// The service's code and message.
    pub cause: String,
}

/// Sends metrics with `PutMetricData`.
#[derive(Debug, Clone)]
pub struct CloudWatchPublisher {
    client: aws_sdk_cloudwatch::Client,
    namespace: String,
}

impl CloudWatchPublisher {
    /// A publisher to `namespace`.
    pub fn new(client: aws_sdk_cloudwatch::Client, namespace: String) -> Self {
        CloudWatchPublisher { client, namespace }
    }

    /// Sends the metrics (20 per call).
    pub async fn put(&self, metrics: &[Metric]) -> Result<(), MetricsError> {
        let data: Vec<MetricDatum> = metrics
            .iter()
            .map(|m| {
                let mut b = MetricDatum::builder()
                    .metric_name(m.name)
                    .value(m.value)
                    .unit(match m.unit {
                        Unit::Count => StandardUnit::Count,
                        Unit::Bytes => StandardUnit::Bytes,
                    })
                    .dimensions(
                        Dimension::builder()
                            .name(SERVICE_DIMENSION.0)
                            .value(SERVICE_DIMENSION.1)
                            .build(),
                    );
                for (k, v) in &m.dimensions {
                    b = b.dimensions(Dimension::builder().name(*k).value(v).build());
                }
                b.build()
            })
            .collect();
        for chunk in data.chunks(20) {
            self.client
                .put_metric_data()
                .namespace(&self.namespace)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| {
                    let (kind, cause) = crate::error::classify(&e);
                    MetricsError {
                        namespace: self.namespace.clone(),
                        kind,
                        cause,
                    }
                })?;
        }
        Ok(())
    }
}
