//! The data flow for one input: decode → parse → detect → correlate → alert.
//!
//! Each stage owns its logic; this module only hands data from one to the next and counts
//! what went by ([`Stats`]). Per log event: the content scan gives secret and PII alerts, the
//! event rules give event alerts and correlation matches; at the end of each batch the
//! [`Correlator`] counts the batch's matches and reports the episodes they opened, which
//! become threshold alerts. Every alert goes through the severity filter and the storm limiter
//! before `emit`.
//!
//! With shared correlation windows ([`Pipeline::share_windows`]) the matches are collected
//! instead, and the invocation driver flushes them to the shared store
//! ([`Pipeline::take_pending`], then [`Pipeline::apply_flush`]).

use std::sync::Arc;

use serde::Serialize;

use crate::alert::{Alert, EventRef, Fingerprinter};
use crate::correlate::{
    Correlator, CorrelatorCounters, Crossing, FlushReport, Limits as StateLimits, SharedBatch,
    SharedWindowStore, StoreError, Witness, batch_id,
};
use crate::decode::{
    self, Batch, DecodeError, Limits, LogEvent, MessageType, RecordError, TextSource,
};
use crate::detect::{ContentMatch, DetectorSet, Scratch, Severity};
use crate::record::{Parser, Record};
use crate::throttle::{Throttle, ThrottleConfig};
use crate::time::EventTime;

/// Most rounds of a shared flush (correlations of correlations feed the next round).
const MAX_FLUSH_ROUNDS: usize = 4;

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
    /// Bounds of the in-process correlation state.
    pub state: StateLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            min_severity: Severity::Low,
            ignore_log_groups: Vec::new(),
            throttle: Some(ThrottleConfig::default()),
            state: StateLimits::default(),
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
    /// Inputs read as UTF-16 (they had a byte-order mark).
    pub inputs_utf16: u64,
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
    /// Content matches dropped as identifiers AWS issues and logs by design.
    pub content_aws_issued: u64,
    /// Event rule matches per rule (every matching record, grouped or not).
    pub event_matches_by_rule: std::collections::BTreeMap<String, u64>,
    /// Correlation matches without an event time (not counted).
    pub correlation_untimed: u64,
    /// Correlation matches missing a group-by or value field (not counted).
    pub correlation_ungrouped: u64,
    /// Correlation matches later than the lateness bound (not counted).
    pub correlation_late: u64,
    /// Correlation keys evicted under pressure (a flood of distinct keys).
    pub window_evictions: u64,
    /// Correlation keys in an open episode at the end.
    pub open_episodes: u64,
    /// Correlation keys held at the end.
    pub window_keys: u64,
    /// Shared windows: requests sent to the shared store.
    pub window_store_requests: u64,
    /// Shared windows: keys updated in the shared store.
    pub window_store_keys: u64,
    /// Shared windows: batch parts the store had counted before (retries), not counted again.
    pub window_parts_already_counted: u64,
    /// Alerts held back by the storm limiter (reported in later alerts' `suppressed`).
    pub alerts_suppressed: u64,
    /// Alerts dropped by a suppression entry, per rule.
    pub alerts_suppressed_by_rule: std::collections::BTreeMap<String, u64>,
    /// Alerts dropped per suppression entry (`file: suppression #n`).
    pub alerts_suppressed_by_entry: std::collections::BTreeMap<String, u64>,
    /// Alerts emitted.
    pub alerts: u64,
    /// Alerts dropped by the minimum severity.
    pub alerts_below_min_severity: u64,
    /// Alerts emitted per rule.
    pub alerts_by_rule: std::collections::BTreeMap<String, u64>,
    /// Alerts emitted per (rule, severity).
    #[serde(skip)]
    pub alerts_by_rule_severity: std::collections::BTreeMap<(String, Severity), u64>,
}

impl Stats {
    fn count_alert(&mut self, alert: &Alert) {
        self.alerts += 1;
        *self
            .alerts_by_rule
            .entry(alert.rule_id.clone())
            .or_default() += 1;
        *self
            .alerts_by_rule_severity
            .entry((alert.rule_id.clone(), alert.severity))
            .or_default() += 1;
    }
}

/// The analysis pipeline: the compiled detectors plus per-thread state (scratch buffers,
/// correlation state, the storm limiter). Build once per process (or thread) and reuse for
/// every input: state carries across warm Lambda invocations.
pub struct Pipeline {
    detectors: Arc<DetectorSet>,
    parser: Parser,
    config: Config,
    fingerprints: Arc<Fingerprinter>,
    scratch: Scratch,
    matches: Vec<ContentMatch>,
    event_matches: Vec<usize>,
    correlator: Correlator,
    crossings: Vec<Crossing>,
    throttle: Option<Throttle>,
    stats: Stats,
    /// The latest event time seen (dates the state-pressure warning).
    now: Option<EventTime>,
    /// The correlator's counters already added to `stats`.
    counted: CorrelatorCounters,
    /// Multi-line blocks being collected, per (log group, log stream).
    blocks: Blocks,
    /// Open groups of grouped event rules (change bursts per principal).
    groups: Groups,
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
    /// A pipeline over a shared detector set, with in-process correlation state, whose
    /// fingerprints use a random key made once per process ([`Fingerprinter::ephemeral`]).
    pub fn new(detectors: Arc<DetectorSet>, config: Config) -> Self {
        Self::with_fingerprints(detectors, config, Fingerprinter::ephemeral())
    }

    /// A pipeline whose evidence fingerprints are keyed by `fingerprints`.
    pub fn with_fingerprints(
        detectors: Arc<DetectorSet>,
        config: Config,
        fingerprints: Arc<Fingerprinter>,
    ) -> Self {
        let throttle = config.throttle.map(Throttle::new);
        let correlator = Correlator::new(detectors.events(), config.state);
        Pipeline {
            detectors,
            parser: Parser::new(),
            config,
            fingerprints,
            scratch: Scratch::default(),
            matches: Vec::new(),
            event_matches: Vec::new(),
            correlator,
            crossings: Vec::new(),
            throttle,
            stats: Stats::default(),
            now: None,
            counted: CorrelatorCounters::default(),
            blocks: Blocks::default(),
            groups: Groups::default(),
        }
    }

    /// Shares correlation windows across processes: from now on matches are collected and
    /// counted by flushing them to a shared store (see the module docs).
    pub fn share_windows(&mut self) {
        self.correlator.share();
    }

    /// Whether windows are shared ([`Pipeline::share_windows`]).
    pub fn shares_windows(&self) -> bool {
        self.correlator.is_shared()
    }

    /// The correlation matches collected for the shared store since the last call.
    pub fn take_pending(&mut self) -> SharedBatch {
        self.correlator.take_shared()
    }

    /// Emits the threshold alerts of a flush (through the severity filter and the storm
    /// limiter, like every alert), counts what the flush did, and feeds its hot points to
    /// the correlations that reference theirs (flushed in the next round).
    pub fn apply_flush(&mut self, report: FlushReport, emit: &mut dyn FnMut(Alert)) {
        self.stats.window_store_requests += report.requests;
        self.stats.window_store_keys += report.keys;
        self.stats.window_parts_already_counted += report.parts_already_counted;
        self.stats.correlation_late += report.late;
        self.correlator
            .feed_hot(self.detectors.events(), &report.hot);
        for c in &report.crossings {
            self.emit_crossing(c, emit);
        }
    }

    /// Flushes the collected correlation matches to `store` and emits the threshold alerts,
    /// in rounds while correlations of correlations have matches to add.
    pub async fn flush_windows(
        &mut self,
        store: &dyn SharedWindowStore,
        emit: &mut (dyn FnMut(Alert) + Send),
    ) -> Result<(), StoreError> {
        for _ in 0..MAX_FLUSH_ROUNDS {
            let pending = self.take_pending();
            if pending.is_empty() {
                break;
            }
            let report = store.flush(pending).await?;
            self.apply_flush(report, emit);
        }
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

    /// The detector set, shared (for threads that scan ahead: [`prepare`]).
    pub fn shared_detectors(&self) -> Arc<DetectorSet> {
        Arc::clone(&self.detectors)
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Decodes one input (any format of [`decode::decode_input`]) and processes every batch
    /// in it. Fails when nothing of the input could be decoded; errors of single records are
    /// returned in the `Ok` list while the rest is still processed.
    pub fn process_input(
        &mut self,
        input: &[u8],
        text_source: &TextSource,
        emit: &mut dyn FnMut(Alert),
    ) -> Result<Vec<RecordError>, DecodeError> {
        let limits = self.config.limits;
        let result = decode::decode_input(input, text_source, &limits, &mut |batch| {
            self.process_batch(&batch, emit);
        });
        self.input_done(input.len(), result)
    }

    /// Processes an input [`prepare`]d on another thread: exactly what [`process_input`]
    /// does with the same bytes (same alerts, state and counters), without decoding again
    /// and without scanning again the events the preparation found nothing in.
    ///
    /// [`process_input`]: Pipeline::process_input
    pub fn process_prepared(
        &mut self,
        prepared: Prepared,
        emit: &mut dyn FnMut(Alert),
    ) -> Result<Vec<RecordError>, DecodeError> {
        for (batch, quiet) in &prepared.batches {
            self.process_batch_with(batch, Some(quiet), emit);
        }
        self.input_done(prepared.input_len, prepared.result)
    }

    /// Counts a decoded input.
    fn input_done(
        &mut self,
        len: usize,
        result: Result<decode::DecodeReport, DecodeError>,
    ) -> Result<Vec<RecordError>, DecodeError> {
        self.stats.inputs += 1;
        self.stats.input_bytes += len as u64;
        match result {
            Ok(report) => {
                self.stats.events_received += report.counts.control_events;
                self.stats.events_skipped_control += report.counts.control_events;
                self.stats.records_failed += report.counts.failed_records;
                self.stats.inputs_utf16 += u64::from(report.utf16);
                Ok(report.record_errors)
            }
            Err(e) => {
                self.stats.inputs_failed += 1;
                Err(e)
            }
        }
    }

    /// Ends an invocation (or a replay): emits, for every key whose alerts the storm limiter
    /// is still holding back, its latest alert with the count of the others, and a warning
    /// when correlation state was under pressure.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        for alert in self.groups.summaries(self.now) {
            let t = EventTime::parse_iso(&alert.timestamp);
            self.emit_alert(alert, t, None, emit);
        }
        if self.correlator.take_pressure() {
            let c = self.correlator.counters();
            let (keys, _) = self.correlator.size();
            let alert = Alert::state_pressure(c.evicted_keys, keys, self.now);
            self.emit_alert(alert, self.now, None, emit);
        }
        if let Some(t) = &mut self.throttle {
            for alert in t.digest() {
                self.stats.count_alert(&alert);
                emit(alert);
            }
        }
        self.update_state_stats();
    }

    /// Adds what the correlator counted since the last call, and its current size.
    fn update_state_stats(&mut self) {
        let c = self.correlator.counters();
        let was = std::mem::replace(&mut self.counted, c);
        self.stats.correlation_untimed += c.untimed - was.untimed;
        self.stats.correlation_ungrouped += c.ungrouped - was.ungrouped;
        self.stats.correlation_late += c.late - was.late;
        self.stats.window_evictions += c.evicted_keys - was.evicted_keys;
        self.stats.open_episodes = self.correlator.open_episodes() as u64;
        self.stats.window_keys = self.correlator.size().0 as u64;
    }

    /// Processes one decoded batch, calling `emit` for every alert.
    pub fn process_batch(&mut self, batch: &Batch<'_>, emit: &mut dyn FnMut(Alert)) {
        self.process_batch_with(batch, None, emit);
    }

    /// [`Pipeline::process_batch`], skipping the scan of the events `quiet` marks.
    fn process_batch_with(
        &mut self,
        batch: &Batch<'_>,
        quiet: Option<&[bool]>,
        emit: &mut dyn FnMut(Alert),
    ) {
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
        if self.correlator.is_shared() {
            self.correlator.begin_batch(batch_id(
                &batch.owner,
                &batch.log_group,
                &batch.log_stream,
                batch
                    .events
                    .iter()
                    .map(|e| (e.id.as_ref(), e.timestamp, e.message.len())),
            ));
        }
        let detectors = Arc::clone(&self.detectors);
        for (i, event) in batch.events.iter().enumerate() {
            let quiet = quiet.and_then(|q| q.get(i)).copied().unwrap_or(false);
            self.process_event(&detectors, batch, event, quiet, emit);
        }
        // The batch's correlation matches, in event-time order.
        let mut crossings = std::mem::take(&mut self.crossings);
        self.correlator.settle(detectors.events(), &mut crossings);
        for c in crossings.drain(..) {
            self.emit_crossing(&c, emit);
        }
        self.crossings = crossings;
        self.update_state_stats();
    }

    fn process_event(
        &mut self,
        detectors: &DetectorSet,
        batch: &Batch<'_>,
        event: &LogEvent<'_>,
        quiet: bool,
        emit: &mut dyn FnMut(Alert),
    ) {
        self.stats.events_processed += 1;
        self.stats.message_bytes += event.message.len() as u64;
        if event.truncated {
            self.stats.events_truncated += 1;
        }
        // Scanned ahead and found empty: nothing below would happen unless a multi-line block
        // is open (it reads every event of its stream).
        if quiet && self.blocks.is_empty() {
            return;
        }
        let msg = event.message.as_bytes();
        self.matches.clear();
        let candidate = detectors.scan(msg, &mut self.scratch, &mut self.matches);
        if !self.blocks.is_empty()
            || detectors
                .content()
                .opens_block(&self.scratch, &self.matches)
        {
            self.multiline(detectors, batch, event, emit);
        }
        if self.matches.is_empty() && !candidate {
            return;
        }
        let record = self.parser.parse(event, &batch.log_group);
        let ev = EventRef {
            log_group: &batch.log_group,
            log_stream: &batch.log_stream,
            id: &event.id,
            time: record.time(),
        };
        if let Some(t) = ev.time {
            self.now = Some(self.now.map_or(t, |n| n.max(t)));
        }
        let cloudtrail = record.kind() == crate::record::RecordKind::CloudTrail;
        let scratch = std::mem::take(&mut self.scratch);
        let text = scratch.text(msg);
        self.stats.content_aws_issued +=
            detectors.drop_aws_issued(msg, text, cloudtrail, &mut self.matches) as u64;
        self.content_alerts(detectors, text, &ev, &record, emit);
        self.scratch = scratch;
        if candidate {
            self.stats.event_rule_candidates += 1;
            self.event_rules(detectors, &record, &ev, emit);
        }
    }

    /// Multi-line secrets: a block opened by a multi-line rule's keyword (a PEM header logged
    /// on its own) collects the next events of its stream, across batches, until its end
    /// marker or a bound; the joined text then goes through the multi-line rules, and a
    /// match that spans several events alerts on the last one, listing them all.
    fn multiline(
        &mut self,
        detectors: &DetectorSet,
        batch: &Batch<'_>,
        event: &LogEvent<'_>,
        emit: &mut dyn FnMut(Alert),
    ) {
        let key = (batch.log_group.to_string(), batch.log_stream.to_string());
        let opens = detectors
            .content()
            .opens_block(&self.scratch, &self.matches);
        if !opens && !self.blocks.open.contains_key(&key) {
            return;
        }
        // The logged text itself: a runtime line's or a JSON log line's message, else the line.
        let record = self.parser.parse(event, &batch.log_group);
        let part = match record.field("message").as_ref().and_then(|v| v.as_str()) {
            Some(m) if m.len() < event.message.len() => {
                let mut hay = crate::detect::unescape::Haystack::default();
                hay.prepare(m.as_bytes());
                hay.text(m.as_bytes()).to_vec()
            }
            _ => self.scratch.text(event.message.as_bytes()).to_vec(),
        };
        let text = part;
        let Some(block) = self.blocks.add(key, &event.id, &text, opens) else {
            return;
        };
        let mut found = Vec::new();
        let mut scratch = Scratch::default();
        detectors
            .content()
            .scan_multiline(&block.text, &mut scratch, &mut found);
        let last_start = block.starts.last().copied().unwrap_or(0);
        let Some(m) = found.into_iter().find(|m| m.start < last_start) else {
            return;
        };
        let ids: Vec<&str> = block
            .starts
            .iter()
            .zip(&block.ids)
            .filter(|(s, _)| **s < m.end)
            .map(|(_, id)| id.as_str())
            .collect();
        let rule = &detectors.content().rules()[m.rule].meta;
        let ev = EventRef {
            log_group: &batch.log_group,
            log_stream: &batch.log_stream,
            id: &event.id,
            time: event.timestamp.or(self.now),
        };
        let mut alert = Alert::content(
            rule,
            &ev,
            &block.text[m.start..m.end],
            1,
            &self.fingerprints,
        );
        alert.event_ids = ids.iter().map(|s| (*s).to_owned()).collect();
        self.emit_alert(alert, ev.time, Some(&record), emit);
    }

    /// One alert per content rule per event (the first match shown, the others counted).
    fn content_alerts(
        &mut self,
        detectors: &DetectorSet,
        msg: &[u8],
        ev: &EventRef<'_>,
        record: &Record<'_>,
        emit: &mut dyn FnMut(Alert),
    ) {
        self.matches.sort_by_key(|m| (m.rule, m.start));
        let mut i = 0;
        while i < self.matches.len() {
            let first = self.matches[i];
            let n = self.matches[i..]
                .iter()
                .take_while(|m| m.rule == first.rule)
                .count();
            i += n;
            let rule = &detectors.content().rules()[first.rule].meta;
            let alert = Alert::content(
                rule,
                ev,
                &msg[first.start..first.end],
                n,
                &self.fingerprints,
            );
            self.emit_alert(alert, ev.time, Some(record), emit);
        }
    }

    /// Event rule alerts, and the matches their correlations count.
    fn event_rules(
        &mut self,
        detectors: &DetectorSet,
        record: &Record<'_>,
        ev: &EventRef<'_>,
        emit: &mut dyn FnMut(Alert),
    ) {
        let events = detectors.events();
        self.event_matches.clear();
        events.evaluate(
            record,
            Some(self.scratch.literal_hits()),
            &mut self.event_matches,
        );
        let mut witness: Option<Arc<Witness>> = None;
        for k in 0..self.event_matches.len() {
            let r = self.event_matches[k];
            let rule = &events.rules()[r];
            *self
                .stats
                .event_matches_by_rule
                .entry(rule.meta.id.clone())
                .or_default() += 1;
            if rule.generate {
                let mut alert = Alert::event(&rule.meta, events.severity(r, record), ev);
                if rule.deployment_aware && via_cloudformation(record) {
                    alert.severity = lower(alert.severity);
                    alert.title.push_str(" (via CloudFormation)");
                }
                match &rule.grouping {
                    Some(g) => {
                        let scratch = &mut self.scratch;
                        let mut redact = |v: &str| detectors.redact(v, scratch);
                        let first = self.groups.admit(r, g, record, alert, ev, &mut redact);
                        for a in std::mem::take(&mut self.groups.ready) {
                            let t = EventTime::parse_iso(&a.timestamp);
                            self.emit_alert(a, t, None, emit);
                        }
                        if let Some(a) = first {
                            self.emit_alert(a, ev.time, Some(record), emit);
                        }
                    }
                    None => self.emit_alert(alert, ev.time, Some(record), emit),
                }
            }
            for &(c, pos) in events.fed_by_rule(r) {
                let w = witness.get_or_insert_with(|| {
                    Arc::new(Witness {
                        log_group: ev.log_group.to_owned(),
                        log_stream: ev.log_stream.to_owned(),
                        event_id: ev.id.to_owned(),
                        time: ev.time.unwrap_or(EventTime::EPOCH),
                    })
                });
                let _ = self
                    .correlator
                    .observe(c, pos, &events.correlations()[c], record, w);
            }
        }
    }

    /// The threshold alert of an episode, its group value masked where it holds a secret.
    fn emit_crossing(&mut self, c: &Crossing, emit: &mut dyn FnMut(Alert)) {
        let Some(rule) = self.detectors.events().correlations().get(c.corr) else {
            return;
        };
        let group = self.detectors.redact(&c.group, &mut self.scratch);
        let alert = Alert::threshold(rule, c, &group);
        self.emit_alert(alert, Some(c.episode.start), None, emit);
    }

    fn emit_alert(
        &mut self,
        mut alert: Alert,
        time: Option<EventTime>,
        record: Option<&Record<'_>>,
        emit: &mut dyn FnMut(Alert),
    ) {
        if alert.severity < self.config.min_severity {
            self.stats.alerts_below_min_severity += 1;
            return;
        }
        let suppressions = self.detectors.suppressions();
        if !suppressions.is_empty()
            && let Some(s) = suppressions.matching(&alert, record, crate::suppress::wall_clock())
        {
            *self
                .stats
                .alerts_suppressed_by_rule
                .entry(alert.rule_id.clone())
                .or_default() += 1;
            *self
                .stats
                .alerts_suppressed_by_entry
                .entry(s.location.clone())
                .or_default() += 1;
            return;
        }
        alert.bound();
        let alert = match &mut self.throttle {
            Some(t) => match t.admit(alert, time) {
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
        self.update_state_stats();
        std::mem::take(&mut self.stats)
    }
}

/// An input decoded and scanned ahead of the pipeline, on any thread ([`prepare`]).
pub struct Prepared {
    /// The batches, owned, each with per event whether the scan found nothing in it.
    batches: Vec<(Batch<'static>, Vec<bool>)>,
    /// What decoding reported.
    result: Result<decode::DecodeReport, DecodeError>,
    /// The input's size.
    input_len: usize,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("batches", &self.batches.len())
            .field("input_len", &self.input_len)
            .finish_non_exhaustive()
    }
}

/// Decodes `input` as [`Pipeline::process_input`] would and runs the content scan over every
/// event, marking the events it finds nothing in (no match, no event-rule candidate, no
/// multi-line opener): the part of the work that needs no state, so that replay can do it
/// for several inputs at once and hand the results to one pipeline in input order
/// ([`Pipeline::process_prepared`]).
pub fn prepare(
    detectors: &DetectorSet,
    config: &Config,
    input: &[u8],
    text_source: &TextSource,
) -> Prepared {
    let mut scratch = Scratch::default();
    let mut matches = Vec::new();
    let mut batches = Vec::new();
    let ignored = |g: &str| config.ignore_log_groups.iter().any(|i| i == g);
    let result = decode::decode_input(input, text_source, &config.limits, &mut |batch| {
        let quiet = if batch.message_type == MessageType::Control || ignored(&batch.log_group) {
            Vec::new()
        } else {
            batch
                .events
                .iter()
                .map(|e| {
                    matches.clear();
                    let candidate =
                        detectors.scan(e.message.as_bytes(), &mut scratch, &mut matches);
                    !candidate
                        && matches.is_empty()
                        && !detectors.content().opens_block(&scratch, &matches)
                })
                .collect()
        };
        batches.push((batch.into_owned(), quiet));
    });
    Prepared {
        batches,
        result,
        input_len: input.len(),
    }
}

/// Most log streams with a multi-line block open at once.
const MAX_BLOCKS: usize = 256;
/// Most events one block collects.
const MAX_BLOCK_EVENTS: usize = 200;
/// Most bytes one block collects.
const MAX_BLOCK_BYTES: usize = 32 * 1024;

/// A multi-line block being collected: the events' texts joined by newlines, where each
/// starts, and their ids.
#[derive(Debug, Default)]
struct Block {
    text: Vec<u8>,
    starts: Vec<usize>,
    ids: Vec<String>,
}

/// The open blocks, per (log group, log stream), bounded.
#[derive(Debug, Default)]
struct Blocks {
    open: std::collections::HashMap<(String, String), Block>,
    order: std::collections::VecDeque<(String, String)>,
}

impl Blocks {
    fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Adds an event's text to its stream's block (opening one when `opens`); returns the
    /// finished block when this event ends it (an end marker, or a bound reached).
    fn add(&mut self, key: (String, String), id: &str, text: &[u8], opens: bool) -> Option<Block> {
        if !self.open.contains_key(&key) {
            if !opens {
                return None;
            }
            if self.open.len() >= MAX_BLOCKS
                && let Some(old) = self.order.pop_front()
            {
                self.open.remove(&old);
            }
            self.order.push_back(key.clone());
        }
        let block = self.open.entry(key.clone()).or_default();
        if opens && !block.ids.is_empty() {
            // A new header: the old block ended without its end marker.
            *block = Block::default();
        }
        block.starts.push(block.text.len());
        block
            .text
            .extend_from_slice(&text[..text.len().min(MAX_BLOCK_BYTES)]);
        block.text.push(b'\n');
        block.ids.push(id.to_owned());
        let ended = memchr::memmem::find(text, b"-----END").is_some()
            || block.ids.len() >= MAX_BLOCK_EVENTS
            || block.text.len() >= MAX_BLOCK_BYTES;
        if !ended {
            return None;
        }
        self.order.retain(|k| *k != key);
        self.open.remove(&key)
    }
}

/// Whether a CloudTrail record's call was made by CloudFormation (a stack deployment).
fn via_cloudformation(record: &Record<'_>) -> bool {
    let is_cfn = |f: &str| {
        record
            .field(f)
            .and_then(|v| {
                v.as_str()
                    .map(|s| s.contains("cloudformation.amazonaws.com"))
            })
            .unwrap_or(false)
    };
    is_cfn("userIdentity.invokedBy") || is_cfn("userAgent") || is_cfn("sourceIPAddress")
}

/// One severity lower (low stays low).
fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Most open groups kept (past this, every open group is summarised and closed).
const MAX_GROUPS: usize = 10_000;

/// One open group of a grouped event rule: its first alert was sent; later matches are
/// counted and listed until the summary.
#[derive(Debug)]
struct OpenGroup {
    last: Option<EventTime>,
    held: u64,
    changes: std::collections::BTreeMap<String, u64>,
    held_ids: Vec<String>,
    template: Alert,
    /// The group value as alerts show it (masked where it holds a secret).
    shown: String,
}

impl OpenGroup {
    /// The summary of the matches held since the first alert (none if there are none); the
    /// group starts counting again.
    fn summary(&mut self) -> Option<Alert> {
        if self.held == 0 {
            return None;
        }
        let mut a = self.template.clone();
        let list: Vec<String> = self
            .changes
            .iter()
            .filter(|(c, _)| !c.is_empty())
            .map(|(c, n)| format!("{c}×{n}"))
            .collect();
        a.title = format!(
            "{}: {} matching call(s) by {} in this burst, {} after the first alert{}",
            self.template.title.split(" by ").next().unwrap_or_default(),
            self.held + 1,
            self.shown,
            self.held,
            if list.is_empty() {
                String::new()
            } else {
                format!(" ({})", list.join(", "))
            }
        );
        a.suppressed = self.held;
        a.event_ids = std::mem::take(&mut self.held_ids);
        a.timestamp = self.last.map(EventTime::to_rfc3339).unwrap_or_default();
        a.id = crate::alert::alert_id(&[&a.rule_id, &self.shown, &a.timestamp, "summary"]);
        self.held = 0;
        self.changes.clear();
        Some(a)
    }
}

/// Grouped event rules' open groups, per (rule, group value).
#[derive(Debug, Default)]
struct Groups {
    open: std::collections::HashMap<(usize, String), OpenGroup>,
    /// Summaries due before the end of the invocation (a group closed early: its burst ended
    /// and a new one began, or the table was full).
    ready: Vec<Alert>,
}

impl Groups {
    /// The alert to send for a match (the first of a group, its title naming the group), or
    /// `None` when the match joins an open group (it is listed in the summary).
    fn admit(
        &mut self,
        rule: usize,
        g: &crate::detect::events::Grouping,
        record: &Record<'_>,
        mut alert: Alert,
        ev: &EventRef<'_>,
        redact: &mut dyn FnMut(&str) -> String,
    ) -> Option<Alert> {
        let Some(value) = record.field(&g.field).and_then(|v| v.to_text()) else {
            return Some(alert);
        };
        let value = crate::alert::bounded(&value, 256);
        let change = g
            .list_field
            .as_deref()
            .and_then(|f| record.field(f))
            .and_then(|v| v.to_text())
            .map(|c| crate::alert::bounded(&c, 64))
            .unwrap_or_default();
        let key = (rule, value.clone());
        if let Some(open) = self.open.get_mut(&key) {
            let near = match (open.last, ev.time) {
                (Some(l), Some(t)) => t.millis_since(l).abs() <= g.window_ms,
                _ => true,
            };
            if near {
                open.held += 1;
                *open.changes.entry(change).or_default() += 1;
                if open.held_ids.len() < crate::alert::MAX_EVENT_IDS {
                    open.held_ids.push(ev.id.to_owned());
                }
                open.last = open.last.max(ev.time);
                return None;
            }
            // The burst ended and a new one begins: the old one's summary now.
            self.ready.extend(open.summary());
        }
        if self.open.len() >= MAX_GROUPS {
            // Full (a flood of principals): every open group's summary now, none lost.
            let mut keys: Vec<_> = self.open.keys().cloned().collect();
            keys.sort();
            for k in keys {
                if let Some(mut g) = self.open.remove(&k) {
                    self.ready.extend(g.summary());
                }
            }
        }
        let shown = redact(&value);
        alert.title = format!("{} by {shown}", alert.title);
        let mut changes = std::collections::BTreeMap::new();
        changes.insert(change, 1);
        self.open.insert(
            key,
            OpenGroup {
                last: ev.time,
                held: 0,
                changes,
                held_ids: Vec::new(),
                template: alert.clone(),
                shown,
            },
        );
        Some(alert)
    }

    /// At the end of an invocation: for every group with matches since its alert, a summary
    /// listing them (`suppressed` counts them); groups whose window has passed are closed.
    fn summaries(&mut self, now: Option<EventTime>) -> Vec<Alert> {
        let mut out = std::mem::take(&mut self.ready);
        out.extend(self.open.values_mut().filter_map(OpenGroup::summary));
        if let Some(now) = now {
            self.open.retain(|_, g| {
                g.last
                    .is_some_and(|l| now.millis_since(l) <= 24 * 3_600_000)
            });
        }
        // In a stable order (the map's is random per process): replays must repeat.
        out.sort_by(|a, b| {
            (&a.timestamp, &a.rule_id, &a.id).cmp(&(&b.timestamp, &b.rule_id, &b.id))
        });
        out
    }
}
