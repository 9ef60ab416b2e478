//! The whole flow for one input or batch: decode → parse → detect → alert.
//!
//! The CLI (`replay`) and the Lambda handler both call [`Pipeline::process_input`] or
//! [`Pipeline::process_batch`], so a replay gives exactly the alerts production would send.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::alert::{Alert, Evidence, alert_id};
use crate::decode::{self, Batch, DecodeError, Limits, MessageType, TextSource};
use crate::detect::{ContentMatch, DetectorSet, Scratch, Severity};
use crate::record::Parser;
use crate::timefmt;

/// Pipeline settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Decoding limits.
    pub limits: Limits,
    /// Alerts below this severity are dropped (and counted).
    pub min_severity: Severity,
    /// Log groups whose events are skipped (the function's own log group).
    pub ignore_log_groups: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            min_severity: Severity::Low,
            ignore_log_groups: Vec::new(),
        }
    }
}

/// What the pipeline saw. For events: `events_received == events_processed +
/// events_skipped_control + events_skipped_ignored_group` always holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Inputs (files, Lambda events) given.
    pub inputs: u64,
    /// Inputs that could not be decoded at all.
    pub inputs_failed: u64,
    /// Records inside an input (Kinesis records, array items) that could not be decoded.
    pub records_failed: u64,
    /// Bytes of input, as given (compressed where compressed).
    pub input_bytes: u64,
    /// Bytes of log messages scanned.
    pub message_bytes: u64,
    /// Data batches decoded.
    pub batches: u64,
    /// Log events received (including those skipped).
    pub events_received: u64,
    /// Log events scanned.
    pub events_processed: u64,
    /// Events in CONTROL_MESSAGE batches (skipped).
    pub events_skipped_control: u64,
    /// Events of ignored log groups (skipped).
    pub events_skipped_ignored_group: u64,
    /// Events scanned only up to the message limit.
    pub events_truncated: u64,
    /// Alerts emitted.
    pub alerts: u64,
    /// Alerts dropped by the minimum severity.
    pub alerts_below_min_severity: u64,
    /// Alerts emitted per rule.
    pub alerts_by_rule: BTreeMap<String, u64>,
    /// Alerts emitted per severity.
    pub alerts_by_severity: BTreeMap<Severity, u64>,
}

/// The analysis pipeline: the compiled detectors plus per-thread scratch state. Build once
/// per process (or thread) and reuse for every input.
pub struct Pipeline {
    detectors: Arc<DetectorSet>,
    parser: Parser,
    config: Config,
    scratch: Scratch,
    matches: Vec<ContentMatch>,
    stats: Stats,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline over a shared detector set.
    pub fn new(detectors: Arc<DetectorSet>, config: Config) -> Self {
        Pipeline {
            detectors,
            parser: Parser::new(),
            config,
            scratch: Scratch::default(),
            matches: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The detector set.
    pub fn detectors(&self) -> &DetectorSet {
        &self.detectors
    }

    /// Decodes one input (any format of [`decode::decode_input`]) and processes every batch
    /// in it. Returns the decode error when nothing of the input could be decoded; errors of
    /// single records are returned in the `Ok` list while the rest is still processed.
    pub fn process_input(
        &mut self,
        input: &[u8],
        text_source: &TextSource,
        emit: &mut dyn FnMut(Alert),
    ) -> Result<Vec<(usize, DecodeError)>, DecodeError> {
        self.stats.inputs += 1;
        self.stats.input_bytes += input.len() as u64;
        let limits = self.config.limits;
        let result = decode::decode_input(input, text_source, &limits, &mut |batch| {
            self.process_batch(&batch, emit);
        });
        match result {
            Ok(report) => {
                self.stats.events_received += report.counts.control_events;
                self.stats.events_skipped_control += report.counts.control_events;
                self.stats.records_failed += report.counts.failed_records;
                Ok(report.record_errors)
            }
            Err(e) => {
                self.stats.inputs_failed += 1;
                Err(e)
            }
        }
    }

    /// Processes one decoded batch, calling `emit` for every alert.
    pub fn process_batch(&mut self, batch: &Batch<'_>, emit: &mut dyn FnMut(Alert)) {
        let n = batch.events.len() as u64;
        self.stats.events_received += n;
        if batch.message_type == MessageType::Control {
            self.stats.events_skipped_control += n;
            return;
        }
        if self
            .config
            .ignore_log_groups
            .iter()
            .any(|g| *g == batch.log_group)
        {
            self.stats.events_skipped_ignored_group += n;
            return;
        }
        self.stats.batches += 1;
        let content = self.detectors.content();
        for event in &batch.events {
            self.stats.events_processed += 1;
            self.stats.message_bytes += event.message.len() as u64;
            if event.truncated {
                self.stats.events_truncated += 1;
            }
            let msg = event.message.as_bytes();
            self.matches.clear();
            content.scan(msg, &mut self.scratch, &mut self.matches);
            if self.matches.is_empty() {
                continue;
            }
            let record = self.parser.parse(event, &batch.log_group);
            let timestamp = record
                .time_ms()
                .map(timefmt::format_rfc3339)
                .unwrap_or_default();
            // Matches arrive grouped by rule; one alert per rule per event.
            self.matches.sort_by_key(|m| (m.rule, m.start));
            let mut i = 0;
            while i < self.matches.len() {
                let first = self.matches[i];
                let mut j = i + 1;
                while j < self.matches.len() && self.matches[j].rule == first.rule {
                    j += 1;
                }
                let rule = &content.rules()[first.rule];
                let count = j - i;
                i = j;
                if rule.severity < self.config.min_severity {
                    self.stats.alerts_below_min_severity += 1;
                    continue;
                }
                let alert = Alert {
                    id: alert_id(&[&rule.id, &batch.log_group, &batch.log_stream, &event.id]),
                    rule_id: rule.id.clone(),
                    title: format!("{} in {}", rule.description, batch.log_group),
                    severity: rule.severity,
                    kind: rule.kind,
                    log_group: batch.log_group.to_string(),
                    log_stream: batch.log_stream.to_string(),
                    event_ids: vec![event.id.to_string()],
                    timestamp: timestamp.clone(),
                    evidence: Some(Evidence::of(&msg[first.start..first.end], count)),
                    group: None,
                    count: None,
                    window: None,
                    suppressed: 0,
                };
                self.stats.alerts += 1;
                *self
                    .stats
                    .alerts_by_rule
                    .entry(rule.id.clone())
                    .or_default() += 1;
                *self
                    .stats
                    .alerts_by_severity
                    .entry(rule.severity)
                    .or_default() += 1;
                emit(alert);
            }
        }
    }
}
