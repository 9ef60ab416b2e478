//! The whole flow for one input or batch: decode → parse → detect → alert.
//!
//! The CLI (`replay`) and the Lambda handler both call [`Pipeline::process_input`] or
//! [`Pipeline::process_batch`], so a replay gives exactly the alerts production would send.
//!
//! Correlation windows are either in-process (the default: each match is counted at once) or
//! shared ([`Pipeline::share_windows`]): then the matches of an input are collected into
//! [`PendingCounts`], which the async front end flushes to a [`SharedWindowStore`] after the
//! input ([`Pipeline::take_pending`], [`SharedWindowStore::flush`], [`Pipeline::apply_flush`],
//! or [`Pipeline::flush_windows`] for all three), and the threshold alerts come from the flush.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::alert::{Alert, Evidence, Group, Window, alert_id};
use crate::correlate::{
    BatchId, FlushReport, MemoryWindowStore, Observation, PendingCounts, SharedWindowStore,
    StoreError, WindowKey, WindowRule, WindowStore, Witness, batch_id, stable_hash, window_start,
};
use crate::decode::{self, Batch, DecodeError, Limits, LogEvent, MessageType, TextSource};
use crate::detect::events::{CorrelationRule, CountKind};
use crate::detect::{ContentMatch, DetectorSet, FindingKind, Scratch, Severity};
use crate::record::{Parser, Record};
use crate::sink::metrics::{Metric, Unit};
use crate::throttle::{Throttle, ThrottleConfig};
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
    /// Alert-storm control; `None` lets every alert through.
    pub throttle: Option<ThrottleConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            min_severity: Severity::Low,
            ignore_log_groups: Vec::new(),
            throttle: Some(ThrottleConfig::default()),
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
    /// Records that passed the event rules' literal prefilter (and were evaluated).
    pub event_rule_candidates: u64,
    /// Correlation matches without an event time (not counted in any window).
    pub correlation_untimed: u64,
    /// Correlation matches missing a group-by or value field (not counted).
    pub correlation_ungrouped: u64,
    /// Correlation windows evicted to stay within memory bounds.
    pub window_evictions: u64,
    /// Shared windows: requests sent to the shared store.
    pub window_store_requests: u64,
    /// Shared windows: windows updated in the shared store.
    pub window_store_windows: u64,
    /// Shared windows: windows not sent (this process knows they fired or hold the values).
    pub window_store_skipped: u64,
    /// Shared windows: batch parts the store had counted before (retries), not counted again.
    pub window_parts_already_counted: u64,
    /// Shared windows: batch parts counted without a retry marker (marker set full).
    pub window_parts_unmarked: u64,
    /// Alerts held back by the storm limiter (reported in later alerts' `suppressed`).
    pub alerts_suppressed: u64,
    /// Alerts emitted.
    pub alerts: u64,
    /// Alerts dropped by the minimum severity.
    pub alerts_below_min_severity: u64,
    /// Alerts emitted per rule.
    pub alerts_by_rule: BTreeMap<String, u64>,
    /// Alerts emitted per severity.
    pub alerts_by_severity: BTreeMap<Severity, u64>,
    /// Alerts emitted per (rule, severity).
    #[serde(skip)]
    pub alerts_by_rule_severity: BTreeMap<(String, Severity), u64>,
}

impl Stats {
    fn count_alert(&mut self, alert: &Alert) {
        self.alerts += 1;
        *self
            .alerts_by_rule
            .entry(alert.rule_id.clone())
            .or_default() += 1;
        *self.alerts_by_severity.entry(alert.severity).or_default() += 1;
        *self
            .alerts_by_rule_severity
            .entry((alert.rule_id.clone(), alert.severity))
            .or_default() += 1;
    }

    /// The metrics these counters give (totals, plus `Alerts` per rule and severity).
    pub fn metrics(&self) -> Vec<Metric> {
        let skipped = self.events_skipped_control + self.events_skipped_ignored_group;
        let mut m = vec![
            Metric::total("EventsReceived", self.events_received, Unit::Count),
            Metric::total("EventsProcessed", self.events_processed, Unit::Count),
            Metric::total("EventsSkipped", skipped, Unit::Count),
            Metric::total("EventsTruncated", self.events_truncated, Unit::Count),
            Metric::total("BytesProcessed", self.message_bytes, Unit::Bytes),
            Metric::total(
                "DecodeErrors",
                self.inputs_failed + self.records_failed,
                Unit::Count,
            ),
            Metric::total("AlertsSuppressed", self.alerts_suppressed, Unit::Count),
            Metric::total("Alerts", self.alerts, Unit::Count),
        ];
        // Per rule and severity: each rule has one severity except event rules that take it
        // from the event, so count by (rule, severity) from the per-rule totals.
        for (rule, n) in &self.alerts_by_rule_severity {
            m.push(Metric {
                name: "Alerts",
                dimensions: vec![
                    ("Rule", rule.0.clone()),
                    ("Severity", rule.1.as_str().to_owned()),
                ],
                value: *n as f64,
                unit: Unit::Count,
            });
        }
        m
    }
}

/// Why processing failed as a whole (the invocation must fail and be retried).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Nothing of the input could be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The correlation window store failed; counts may be incomplete, so retry.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The analysis pipeline: the compiled detectors plus per-thread state (scratch buffers,
/// correlation windows, the storm limiter). Build once per process (or thread) and reuse for
/// every input: state carries across warm Lambda invocations.
pub struct Pipeline {
    detectors: Arc<DetectorSet>,
    parser: Parser,
    config: Config,
    scratch: Scratch,
    matches: Vec<ContentMatch>,
    event_matches: Vec<usize>,
    windows: Windows,
    throttle: Option<Throttle>,
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

/// Where correlation counts go.
enum Windows {
    /// Counted at once in this process.
    Local(Box<dyn WindowStore>),
    /// Collected for a shared store; `batch` is the current batch's id, computed on its first
    /// match.
    Shared {
        pending: PendingCounts,
        batch: Option<BatchId>,
    },
}

/// A message-free view of one event, for building alerts.
struct EventRef<'a> {
    log_group: &'a str,
    log_stream: &'a str,
    id: &'a str,
    time_ms: Option<i64>,
}

impl Pipeline {
    /// A pipeline over a shared detector set, with in-process correlation windows.
    pub fn new(detectors: Arc<DetectorSet>, config: Config) -> Self {
        Self::with_store(detectors, config, Box::new(MemoryWindowStore::default()))
    }

    /// A pipeline whose correlation windows live in `store`.
    pub fn with_store(
        detectors: Arc<DetectorSet>,
        config: Config,
        store: Box<dyn WindowStore>,
    ) -> Self {
        let throttle = config.throttle.map(Throttle::new);
        Pipeline {
            detectors,
            parser: Parser::new(),
            config,
            scratch: Scratch::default(),
            matches: Vec::new(),
            event_matches: Vec::new(),
            windows: Windows::Local(store),
            throttle,
            stats: Stats::default(),
        }
    }

    /// Shares correlation windows across processes: from now on matches are collected per
    /// input and counted by flushing them to a [`SharedWindowStore`] (see the module docs);
    /// without a flush no threshold alert fires. In-process counts are dropped.
    pub fn share_windows(&mut self) {
        self.windows = Windows::Shared {
            pending: PendingCounts::default(),
            batch: None,
        };
    }

    /// Whether windows are shared ([`Pipeline::share_windows`]).
    pub fn shares_windows(&self) -> bool {
        matches!(self.windows, Windows::Shared { .. })
    }

    /// The correlation matches collected since the last call (empty with in-process windows).
    pub fn take_pending(&mut self) -> PendingCounts {
        match &mut self.windows {
            Windows::Local(_) => PendingCounts::default(),
            Windows::Shared { pending, .. } => std::mem::take(pending),
        }
    }

    /// Emits the threshold alerts of a flush (through the severity filter and the storm
    /// limiter, like every alert) and counts what the flush did.
    pub fn apply_flush(&mut self, report: FlushReport, emit: &mut dyn FnMut(Alert)) {
        self.stats.window_store_requests += report.requests;
        self.stats.window_store_windows += report.windows;
        self.stats.window_store_skipped += report.windows_skipped;
        self.stats.window_parts_already_counted += report.parts_already_counted;
        self.stats.window_parts_unmarked += report.parts_unmarked;
        let detectors = Arc::clone(&self.detectors);
        let correlations = detectors.events().correlations();
        for c in report.crossings {
            let Some(corr) = correlations.get(c.tag).filter(|r| r.name == c.key.rule) else {
                continue;
            };
            let w = c.witness.unwrap_or(Witness {
                log_group: String::new(),
                log_stream: String::new(),
                event_id: String::new(),
                time_ms: c.key.start_ms,
            });
            let ev = EventRef {
                log_group: &w.log_group,
                log_stream: &w.log_stream,
                id: &w.event_id,
                time_ms: Some(w.time_ms),
            };
            let alert = threshold_alert(corr, c.key, c.count, &ev);
            self.emit_alert(alert, Some(w.time_ms), emit);
        }
    }

    /// Flushes the collected matches to `store` and emits the threshold alerts: the three
    /// steps of the module docs in one call (holding `self` across the request).
    pub async fn flush_windows(
        &mut self,
        store: &dyn SharedWindowStore,
        emit: &mut dyn FnMut(Alert),
    ) -> Result<(), StoreError> {
        let pending = self.take_pending();
        if pending.is_empty() {
            return Ok(());
        }
        let report = store.flush(pending).await?;
        self.apply_flush(report, emit);
        Ok(())
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
    /// in it. Fails when nothing of the input could be decoded, or when the window store
    /// failed; errors of single records are returned in the `Ok` list while the rest is still
    /// processed.
    pub fn process_input(
        &mut self,
        input: &[u8],
        text_source: &TextSource,
        emit: &mut dyn FnMut(Alert),
    ) -> Result<Vec<(usize, DecodeError)>, PipelineError> {
        self.stats.inputs += 1;
        self.stats.input_bytes += input.len() as u64;
        let limits = self.config.limits;
        let mut store_error = None;
        let result = decode::decode_input(input, text_source, &limits, &mut |batch| {
            if store_error.is_none()
                && let Err(e) = self.process_batch(&batch, emit)
            {
                store_error = Some(e);
            }
        });
        match result {
            Ok(report) => {
                self.stats.events_received += report.counts.control_events;
                self.stats.events_skipped_control += report.counts.control_events;
                self.stats.records_failed += report.counts.failed_records;
                match store_error {
                    Some(e) => Err(PipelineError::Store(e)),
                    None => Ok(report.record_errors),
                }
            }
            Err(e) => {
                self.stats.inputs_failed += 1;
                Err(PipelineError::Decode(e))
            }
        }
    }

    /// Ends an invocation (or a replay): emits, for every key whose alerts the storm limiter
    /// is still holding back, its latest alert with the count of the others.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        if let Some(t) = &mut self.throttle {
            for alert in t.digest() {
                self.stats.count_alert(&alert);
                emit(alert);
            }
        }
        self.stats.window_evictions = self.evictions();
    }

    fn evictions(&self) -> u64 {
        match &self.windows {
            Windows::Local(store) => store.evictions(),
            Windows::Shared { .. } => 0,
        }
    }

    /// Processes one decoded batch, calling `emit` for every alert.
    pub fn process_batch(
        &mut self,
        batch: &Batch<'_>,
        emit: &mut dyn FnMut(Alert),
    ) -> Result<(), StoreError> {
        let n = batch.events.len() as u64;
        self.stats.events_received += n;
        if batch.message_type == MessageType::Control {
            self.stats.events_skipped_control += n;
            return Ok(());
        }
        if self
            .config
            .ignore_log_groups
            .iter()
            .any(|g| *g == batch.log_group)
        {
            self.stats.events_skipped_ignored_group += n;
            return Ok(());
        }
        self.stats.batches += 1;
        if let Windows::Shared { batch: id, .. } = &mut self.windows {
            *id = None;
        }
        let detectors = Arc::clone(&self.detectors);
        for event in &batch.events {
            self.process_event(&detectors, batch, event, emit)?;
        }
        self.stats.window_evictions = self.evictions();
        Ok(())
    }

    fn process_event(
        &mut self,
        detectors: &DetectorSet,
        batch: &Batch<'_>,
        event: &LogEvent<'_>,
        emit: &mut dyn FnMut(Alert),
    ) -> Result<(), StoreError> {
        self.stats.events_processed += 1;
        self.stats.message_bytes += event.message.len() as u64;
        if event.truncated {
            self.stats.events_truncated += 1;
        }
        let msg = event.message.as_bytes();
        let content = detectors.content();
        self.matches.clear();
        let candidate = detectors.scan(msg, &mut self.scratch, &mut self.matches);
        let events = detectors.events();
        if self.matches.is_empty() && !candidate {
            return Ok(());
        }
        let record = self.parser.parse(event, &batch.log_group);
        let ev = EventRef {
            log_group: &batch.log_group,
            log_stream: &batch.log_stream,
            id: &event.id,
            time_ms: record.time_ms(),
        };
        let timestamp = ev.time_ms.map(timefmt::format_rfc3339).unwrap_or_default();
        // Content findings: one alert per rule per event.
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
            let alert = Alert {
                id: alert_id(&[&rule.id, ev.log_group, ev.log_stream, ev.id]),
                rule_id: rule.id.clone(),
                title: format!("{} in {}", rule.description, ev.log_group),
                severity: rule.severity,
                kind: rule.kind,
                log_group: ev.log_group.to_owned(),
                log_stream: ev.log_stream.to_owned(),
                event_ids: vec![ev.id.to_owned()],
                timestamp: timestamp.clone(),
                evidence: Some(Evidence::of(&msg[first.start..first.end], count)),
                group: None,
                count: None,
                window: None,
                suppressed: 0,
            };
            self.emit_alert(alert, ev.time_ms, emit);
        }
        if !candidate {
            return Ok(());
        }
        // Event rules, then the correlations that count them.
        self.stats.event_rule_candidates += 1;
        self.event_matches.clear();
        events.evaluate(&record, &mut self.event_matches);
        for k in 0..self.event_matches.len() {
            let r = self.event_matches[k];
            let rule = &events.rules()[r];
            if rule.generate {
                let alert = Alert {
                    id: alert_id(&[&rule.name, ev.log_group, ev.log_stream, ev.id]),
                    rule_id: rule.name.clone(),
                    title: rule.title.clone(),
                    severity: events.severity(r, &record),
                    kind: FindingKind::Event,
                    log_group: ev.log_group.to_owned(),
                    log_stream: ev.log_stream.to_owned(),
                    event_ids: vec![ev.id.to_owned()],
                    timestamp: timestamp.clone(),
                    evidence: None,
                    group: None,
                    count: None,
                    window: None,
                    suppressed: 0,
                };
                self.emit_alert(alert, ev.time_ms, emit);
            }
            for &c in events.correlations_of(r) {
                let corr = &events.correlations()[c];
                if let Some(alert) = self.correlate(c, corr, batch, &record, &ev)? {
                    self.emit_alert(alert, ev.time_ms, emit);
                }
            }
        }
        Ok(())
    }

    /// Counts one match of `corr` (the `index`-th correlation); returns the threshold alert
    /// when this match crosses it. With shared windows the match is collected instead, and
    /// the alert comes from the flush.
    fn correlate(
        &mut self,
        index: usize,
        corr: &CorrelationRule,
        batch: &Batch<'_>,
        record: &Record<'_>,
        ev: &EventRef<'_>,
    ) -> Result<Option<Alert>, StoreError> {
        let Some(t) = ev.time_ms else {
            self.stats.correlation_untimed += 1;
            return Ok(None);
        };
        let mut values = Vec::with_capacity(corr.group_by.len());
        for f in &corr.group_by {
            match record.field(f).and_then(|v| v.to_text()) {
                Some(v) => values.push(v),
                None => {
                    self.stats.correlation_ungrouped += 1;
                    return Ok(None);
                }
            }
        }
        let group = values.join(",");
        let obs = match &corr.kind {
            CountKind::Events => {
                Observation::Event(stable_hash(&[ev.log_group, ev.log_stream, ev.id]))
            }
            CountKind::DistinctValues(field) => {
                match record.field(field).and_then(|v| v.to_text()) {
                    Some(v) => Observation::Value(stable_hash(&[&v])),
                    None => {
                        self.stats.correlation_ungrouped += 1;
                        return Ok(None);
                    }
                }
            }
        };
        let start = window_start(t, corr.timespan_ms);
        let key = WindowKey {
            rule: corr.name.clone(),
            group,
            start_ms: start,
        };
        let store = match &mut self.windows {
            Windows::Local(store) => store,
            Windows::Shared { pending, batch: id } => {
                let id = *id.get_or_insert_with(|| {
                    batch_id(
                        &batch.owner,
                        &batch.log_group,
                        &batch.log_stream,
                        batch
                            .events
                            .iter()
                            .map(|e| (e.id.as_ref(), e.timestamp_ms, e.message.len())),
                    )
                });
                let rule = WindowRule {
                    threshold: corr.threshold,
                    distinct: matches!(corr.kind, CountKind::DistinctValues(_)),
                    end_ms: start.saturating_add(corr.timespan_ms),
                    tag: index,
                };
                pending.observe(&key, rule, id, obs, || Witness {
                    log_group: ev.log_group.to_owned(),
                    log_stream: ev.log_stream.to_owned(),
                    event_id: ev.id.to_owned(),
                    time_ms: t,
                });
                return Ok(None);
            }
        };
        let update = store.observe(&key, obs)?;
        if !(update.before < corr.threshold && update.after >= corr.threshold) {
            return Ok(None);
        }
        Ok(Some(threshold_alert(corr, key, update.after, ev)))
    }

    fn emit_alert(&mut self, alert: Alert, time_ms: Option<i64>, emit: &mut dyn FnMut(Alert)) {
        if alert.severity < self.config.min_severity {
            self.stats.alerts_below_min_severity += 1;
            return;
        }
        let alert = match &mut self.throttle {
            Some(t) => match t.admit(alert, time_ms) {
                Some(a) => a,
                None => {
                    self.stats.alerts_suppressed += 1;
                    return;
                }
            },
            None => alert,
        };
        self.stats.count_alert(&alert);
        emit(alert);
    }

    /// Returns the counters and starts new ones (per-invocation metrics).
    pub fn take_stats(&mut self) -> Stats {
        std::mem::take(&mut self.stats)
    }
}

/// The threshold alert of `corr` for window `key`, reached with `count` at event `ev`. Its id
/// depends only on rule, group value and window.
fn threshold_alert(corr: &CorrelationRule, key: WindowKey, count: u64, ev: &EventRef<'_>) -> Alert {
    let field = corr.group_by.join(",");
    let start = key.start_ms;
    let start_s = timefmt::format_rfc3339(start);
    Alert {
        id: alert_id(&[&corr.name, &key.group, &start_s]),
        rule_id: corr.name.clone(),
        title: format!("{} ({field}={})", corr.title, key.group),
        severity: corr.severity,
        kind: FindingKind::Threshold,
        log_group: ev.log_group.to_owned(),
        log_stream: ev.log_stream.to_owned(),
        event_ids: vec![ev.id.to_owned()],
        timestamp: ev.time_ms.map(timefmt::format_rfc3339).unwrap_or_default(),
        evidence: None,
        group: Some(Group {
            field,
            value: key.group,
        }),
        count: Some(count),
        window: Some(Window {
            start: start_s,
            end: timefmt::format_rfc3339(start.saturating_add(corr.timespan_ms)),
        }),
        suppressed: 0,
    }
}
