//! The data flow for one input, stage by stage:
//!
//! ```text
//! decode ─ records ─ engine ─ multi-line ─ correlate ─ policy ─ emit
//! Batch    Source,   Findings  blocks      windows,    fates:
//!          Record                          crossings   sent, held back, grouped, suppressed
//! ```
//!
//! Each stage is a type of its own module ([`crate::decode`], [`crate::record`],
//! [`Engine`], [`Multiline`], [`Correlator`], [`Policy`]); this module only hands data from
//! one to the next and counts what went by ([`Stats`]). Per log event the engine gives the
//! content findings and event rule matches; they become candidate alerts and correlation
//! matches; at the end of each batch the correlator counts the batch's matches and reports
//! the episodes they opened, which become threshold alerts. Every candidate goes through the
//! policy, which gives it its [`Fate`]. An [`Observer`] sees every event's findings and every
//! decision (that is how `explain` reports what replay sends).
//!
//! With shared correlation windows ([`Pipeline::share_windows`]) the matches are collected
//! instead, and the invocation driver flushes them to the shared store
//! ([`Pipeline::take_pending`], then [`Pipeline::apply_flush`]).

mod stats;
mod wide;

use std::sync::Arc;

pub use stats::Stats;
pub use wide::Prepared;

use crate::alert::{Alert, EventRef};
use crate::clock::{Clock, SystemClock};
use crate::correlate::sessions::{Away, Sessions};
use crate::correlate::{
    Correlator, CorrelatorCounters, Crossing, FlushReport, Limits as StateLimits, SharedBatch,
    SharedWindowStore, StoreError, Witness, batch_id,
};
use crate::decode::{
    self, Batch, DecodeError, Limits, LogEvent, MessageType, RecordError, TextSource,
};
use crate::detect::DetectorSet;
use crate::engine::{Engine, Findings, Workspace, reading};
use crate::incidents::Incidents;
use crate::mask::Fingerprinter;
use crate::multiline::{BlockFinding, Multiline};
use crate::policy::{Decide, Fate, Policy, PolicyConfig, RuleTraits};
use crate::record::{Record, Source, Sources};
use crate::severity::{FindingKind, Severity};
use crate::time::EventTime;

/// Most rounds of a shared flush (correlations of correlations feed the next round).
const MAX_FLUSH_ROUNDS: usize = 4;

/// Pipeline settings.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Decoding limits.
    pub limits: Limits,
    /// Log groups whose events are skipped (the function's own log group).
    pub ignore_log_groups: Vec<String>,
    /// The policy stage: minimum severity and storm control.
    pub policy: PolicyConfig,
    /// Bounds of the in-process correlation state.
    pub state: StateLimits,
    /// Which log groups hold CloudTrail records (besides CloudTrail's own stream names).
    pub sources: Sources,
}

/// Sees what the pipeline does, event by event (`explain`).
pub trait Observer {
    /// An event was analysed: its id, record (when parsed) and findings.
    fn event(&mut self, ev: &EventRef<'_>, record: Option<&Record<'_>>, findings: &Findings);
    /// A candidate alert was decided.
    fn decision(&mut self, alert: &Alert, fate: &Fate);
}

/// The analysis pipeline: the engine plus per-thread state (buffers, multi-line blocks,
/// correlation state, the policy's bursts and storm control). Build once per process (or
/// thread) and reuse for every input: state carries across warm Lambda invocations.
pub struct Pipeline {
    /// Behind an `Arc`: each event takes a handle to it while the pipeline is borrowed.
    engine: Arc<Engine>,
    config: Config,
    ws: Workspace,
    multiline: Multiline,
    correlator: Correlator,
    crossings: Vec<Crossing>,
    /// Where each temporary key's calls normally come from (stolen credentials).
    sessions: Sessions,
    policy: Policy,
    /// Alerts of one intrusion, grouped.
    incidents: Incidents,
    stats: Stats,
    /// The latest event time seen (dates the state-pressure warning and closes old bursts).
    now: Option<EventTime>,
    /// The correlator's counters already added to `stats`.
    counted: CorrelatorCounters,
    observer: Option<Box<dyn Observer + Send + Sync>>,
    /// Keys of this run's secret alerts that `--verify` may check.
    probes: Vec<Probe>,
}

/// Most keys kept for `--verify` per run (more are counted in
/// [`Stats::keys_not_kept_for_verify`]).
pub const MAX_PROBES: usize = 256;

/// What was done for an event ahead of the pipeline ([`prepare`]).
enum Ahead {
    /// Nothing: the pipeline analyses it.
    No,
    /// Analysed: nothing can come of it.
    Quiet,
    /// Analysed: what the engine found.
    Found(Findings),
}

/// A found key that `--verify` may check, and the alert it belongs to.
#[derive(Debug)]
pub struct Probe {
    /// The alert's id (the key is checked only if the alert is sent).
    pub alert_id: String,
    /// The event's log group (AWS key ids and secret keys pair within one event).
    pub log_group: String,
    /// The event's id.
    pub event_id: String,
    /// How the key is checked.
    pub with: crate::detect::VerifyWith,
    /// The key's fingerprint (the cache key).
    pub fingerprint: String,
    /// The key.
    pub key: crate::mask::Key,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// What a decision touches besides the alert: the counters, the observer, the incidents.
struct Effects<'p> {
    stats: &'p mut Stats,
    observer: &'p mut Option<Box<dyn Observer + Send + Sync>>,
    incidents: &'p mut Incidents,
}

/// Counts a decision, files it with the incidents and hands a sent alert to `emit` (a free
/// function so that the pipeline's other fields stay borrowable while the policy decides).
fn record_decision(to: &mut Effects<'_>, emit: &mut dyn FnMut(Alert), alert: Alert, fate: &Fate) {
    if let Some(o) = to.observer {
        o.decision(&alert, fate);
    }
    to.incidents.observe(&alert, fate);
    to.stats.count_decision(&alert, fate);
    if *fate == Fate::Sent {
        emit(alert);
    }
}

impl Pipeline {
    /// A pipeline over a shared detector set, with in-process correlation state, whose
    /// fingerprints use a fresh random key ([`Fingerprinter::random`]).
    pub fn new(detectors: Arc<DetectorSet>, config: Config) -> Self {
        Self::with_fingerprints(detectors, config, Fingerprinter::random())
    }

    /// A pipeline whose evidence fingerprints are keyed by `fingerprints`, on the system
    /// clock.
    pub fn with_fingerprints(
        detectors: Arc<DetectorSet>,
        config: Config,
        fingerprints: Arc<Fingerprinter>,
    ) -> Self {
        let engine = Engine::new(detectors, fingerprints, config.sources.clone());
        Self::with_engine(engine, config, Arc::new(SystemClock))
    }

    /// A pipeline over `engine` whose policy reads `clock` (suppression expiry).
    pub fn with_engine(engine: Engine, config: Config, clock: Arc<dyn Clock>) -> Self {
        let set = engine.detectors();
        let correlator = Correlator::new(set.events(), config.state);
        let policy = Policy::new(config.policy.clone(), set.suppressions().clone(), clock);
        // Incidents read only the tags that name a stage.
        let mut tags = set.tags_kept(|t| crate::incidents::stage_of(t).is_some());
        tags.insert(
            crate::correlate::sessions::RULE_ID.to_owned(),
            crate::correlate::sessions::TAGS
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        );
        let incidents = Incidents::new(tags);
        Pipeline {
            engine: Arc::new(engine),
            config,
            ws: Workspace::default(),
            multiline: Multiline::default(),
            correlator,
            crossings: Vec::new(),
            sessions: Sessions::default(),
            policy,
            incidents,
            stats: Stats::default(),
            now: None,
            counted: CorrelatorCounters::default(),
            observer: None,
            probes: Vec::new(),
        }
    }

    /// Sets the observer that sees every event and decision.
    pub fn observe(&mut self, observer: Box<dyn Observer + Send + Sync>) {
        self.observer = Some(observer);
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

    /// Emits the threshold alerts of a flush (through the policy, like every alert), counts
    /// what the flush did, and feeds its hot points to the correlations that reference theirs
    /// (flushed in the next round).
    pub fn apply_flush(&mut self, report: FlushReport, emit: &mut dyn FnMut(Alert)) {
        self.stats.window_store_requests += report.requests;
        self.stats.window_store_keys += report.keys;
        self.stats.window_parts_already_counted += report.parts_already_counted;
        self.stats.correlation_late += report.late;
        self.stats.window_store_overflow += report.overflow;
        let set = Arc::clone(self.engine.detectors());
        self.correlator.feed_hot(set.events(), &report.hot);
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
        self.engine.detectors()
    }

    /// The engine (shared with threads that scan ahead: [`prepare`]).
    pub fn engine(&self) -> &Engine {
        &self.engine
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
        mut prepared: Prepared,
        emit: &mut dyn FnMut(Alert),
    ) -> Result<Vec<RecordError>, DecodeError> {
        for (held, ahead) in &mut prepared.batches {
            held.with(|batch| self.process_batch_with(batch, Some(ahead), emit));
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

    /// Ends an invocation (or a replay): every open burst's summary, a warning when
    /// correlation state was under pressure, and for every storm key still holding alerts
    /// back its latest one with the count of the others.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        if self.correlator.take_pressure() {
            let c = self.correlator.counters();
            let (keys, _) = self.correlator.size();
            let alert = state_pressure(c.evicted_keys, keys, self.now);
            self.decide(alert, None, emit);
        }
        let mut to = Effects {
            stats: &mut self.stats,
            observer: &mut self.observer,
            incidents: &mut self.incidents,
        };
        self.policy.finish(self.now, &mut |a, fate| {
            record_decision(&mut to, emit, a, fate)
        });
        // Incidents that stood up or grew: past storm control (one per intrusion).
        for a in to.incidents.take_updates(self.now) {
            if let Some(o) = to.observer {
                o.decision(&a, &Fate::Sent);
            }
            to.stats.count_decision(&a, &Fate::Sent);
            emit(a);
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

    /// Processes one decoded batch, calling `emit` for every alert sent.
    pub fn process_batch(&mut self, batch: &Batch<'_>, emit: &mut dyn FnMut(Alert)) {
        self.process_batch_with(batch, None, emit);
    }

    /// [`Pipeline::process_batch`], with the events analysed ahead (`ahead[i]`: `None` when
    /// nothing can come of event `i`) when given.
    fn process_batch_with(
        &mut self,
        batch: &Batch<'_>,
        mut ahead: Option<&mut [Option<Box<Findings>>]>,
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
        let sources = Arc::clone(self.engine.sources());
        let source = sources.source(&batch.log_group, &batch.log_stream);
        // The names alerts show: a secret in a log group or stream name is masked too.
        let (group, stream) = (
            self.redact(&batch.log_group),
            self.redact(&batch.log_stream),
        );
        for (i, event) in batch.events.iter().enumerate() {
            let ahead = match ahead.as_deref_mut().and_then(|a| a.get_mut(i)) {
                None => Ahead::No,
                Some(f) => match f.take() {
                    None => Ahead::Quiet,
                    Some(f) => Ahead::Found(*f),
                },
            };
            self.process_event(
                &source,
                (&group, &stream),
                &batch.log_stream,
                event,
                ahead,
                emit,
            );
        }
        // The batch's correlation matches, in event-time order.
        let mut crossings = std::mem::take(&mut self.crossings);
        let set = Arc::clone(self.engine.detectors());
        self.correlator.settle(set.events(), &mut crossings);
        for c in crossings.drain(..) {
            self.emit_crossing(&c, emit);
        }
        self.crossings = crossings;
        self.update_state_stats();
    }

    fn process_event(
        &mut self,
        source: &Source<'_>,
        shown: (&str, &str),
        log_stream: &str,
        event: &LogEvent<'_>,
        ahead: Ahead,
        emit: &mut dyn FnMut(Alert),
    ) {
        self.stats.events_processed += 1;
        self.stats.message_bytes += event.message.len() as u64;
        if event.truncated {
            self.stats.events_truncated += 1;
        }
        let engine = Arc::clone(&self.engine);
        let (mut record, findings) = match ahead {
            // Analysed ahead and found empty: nothing below would happen unless a multi-line
            // block is open (it reads every event of its stream).
            Ahead::Quiet if self.multiline.is_idle() => return,
            Ahead::Quiet | Ahead::No => engine.analyse(event, source, &mut self.ws),
            // Analysed ahead: the record is parsed again only if something below reads it.
            Ahead::Found(mut f) => {
                let read =
                    engine.needs_record(&f) || self.observer.is_some() || !self.multiline.is_idle();
                let json = f.json.take();
                let parsed = f.parsed || f.session_read;
                let record =
                    (parsed && read).then(|| engine.parser().parse_with(event, source, json));
                (record, f)
            }
        };
        // Temporary credentials in a CloudTrail record: the session stage reads every one,
        // from the call the engine read ([`Findings::session`]), not the record.
        let session_call = findings.session_read;
        let time = match &record {
            Some(r) => r.time(),
            None if findings.parsed || session_call => findings.time,
            None => event.timestamp,
        };
        let ev = EventRef {
            log_group: shown.0,
            log_stream: shown.1,
            id: &event.id,
            time,
        };
        if let Some(o) = &mut self.observer {
            o.event(&ev, record.as_ref(), &findings);
        }
        if findings.opens_block || self.multiline.is_open(source.log_group, log_stream) {
            let found = self.multiline.feed(
                &engine,
                source,
                log_stream,
                event,
                findings.opens_block,
                record.as_ref(),
            );
            if let Some(f) = found {
                let ev = EventRef {
                    time: event.timestamp.or(self.now),
                    ..ev
                };
                self.block_alert(f, &ev, record.as_ref(), emit);
            }
        }
        // Not parsed (nothing matched): nothing more to do. Parsed ahead and not parsed again
        // (a candidate no rule matched): it counts as analysed all the same.
        if record.is_none() && !findings.parsed && !session_call {
            return;
        }
        if let Some(t) = ev.time {
            self.now = Some(self.now.map_or(t, |n| n.max(t)));
        }
        if let Some(call) = &findings.session {
            match self.sessions.observe(call, &ev) {
                Some(Away::Alert(alert)) => {
                    let record = record.get_or_insert_with(|| engine.parse(event, source));
                    self.decide(*alert, Some(record), emit)
                }
                Some(Away::FollowUp {
                    principal,
                    event_id,
                    stage,
                    time,
                }) => self.incidents.follow_up(&principal, &event_id, stage, time),
                None => {}
            }
        }
        let record = record.as_ref();
        self.stats.content_aws_issued += findings.aws_issued;
        self.stats.content_values_over_bound += findings.values_over_bound;
        let set = Arc::clone(engine.detectors());
        let rules = set.content().rules();
        for f in findings.content {
            let rule = &rules[f.rule.index()];
            let meta = &rule.meta;
            let fingerprint = f.key.as_ref().map(|_| f.evidence.fingerprint.clone());
            let alert = Alert::content(
                &meta.id,
                &meta.title,
                meta.severity,
                meta.kind,
                &ev,
                f.ordinal,
                f.evidence,
            );
            if let (Some(key), Some(with), Some(fingerprint)) = (f.key, rule.verify, fingerprint) {
                if self.probes.len() < MAX_PROBES {
                    self.probes.push(Probe {
                        alert_id: alert.id.clone(),
                        log_group: ev.log_group.to_owned(),
                        event_id: ev.id.to_owned(),
                        with,
                        fingerprint,
                        key,
                    });
                } else {
                    self.stats.keys_not_kept_for_verify += 1;
                }
            }
            self.decide(alert, record, emit);
        }
        if findings.candidate {
            self.stats.event_rule_candidates += 1;
        }
        if !findings.events.is_empty() {
            let found = (&findings.events[..], &findings.readings[..]);
            self.event_alerts(&set, found, record, &ev, emit);
        }
    }

    /// The alert of a secret found across several events.
    fn block_alert(
        &mut self,
        f: BlockFinding,
        ev: &EventRef<'_>,
        record: Option<&Record<'_>>,
        emit: &mut dyn FnMut(Alert),
    ) {
        let set = Arc::clone(self.engine.detectors());
        let meta = &set.content().rules()[f.rule.index()].meta;
        let mut alert = Alert::content(
            &meta.id,
            &meta.title,
            meta.severity,
            meta.kind,
            ev,
            0,
            f.evidence,
        );
        alert.event_ids = f.event_ids;
        self.decide(alert, record, emit);
    }

    /// Event rule alerts, and the matches their correlations count.
    fn event_alerts(
        &mut self,
        set: &DetectorSet,
        (matches, readings): (&[crate::engine::EventMatch], &[reading::Reading]),
        record: Option<&Record<'_>>,
        ev: &EventRef<'_>,
        emit: &mut dyn FnMut(Alert),
    ) {
        let events = set.events();
        for m in matches {
            let r = m.rule.index();
            let rule = &events.rules()[r];
            *self
                .stats
                .event_matches_by_rule
                .entry(rule.meta.id.clone())
                .or_default() += 1;
            // The record is there for a rule that raises alerts ([`Engine::needs_record`]).
            if let (true, Some(record)) = (rule.generate, record) {
                let alert = Alert::event(&rule.meta.id, &rule.meta.title, m.severity, ev);
                let traits = RuleTraits {
                    grouping: rule.grouping.as_ref(),
                    deployment_aware: rule.deployment_aware,
                    about_failures: rule.about_failures,
                };
                let mut to = Effects {
                    stats: &mut self.stats,
                    observer: &mut self.observer,
                    incidents: &mut self.incidents,
                };
                let ws = &mut self.ws;
                let mut redact = |v: &str| set.redact(v, ws.scratch_mut());
                self.policy
                    .decide_event(alert, record, ev, traits, &mut redact, &mut |a, fate| {
                        record_decision(&mut to, emit, a, fate)
                    });
            }
        }
        // What each correlation fed by these rules read of the record where it was analysed
        // ([`Findings::readings`]), in the order of the rules and of their correlations.
        if readings.is_empty() {
            return;
        }
        let witness = Arc::new(Witness {
            log_group: ev.log_group.to_owned(),
            log_stream: ev.log_stream.to_owned(),
            event_id: ev.id.to_owned(),
            time: ev.time.unwrap_or(EventTime::EPOCH),
        });
        for r in readings {
            let _ = (self.correlator).observe_read(r.corr as usize, r.pos, &r.read, &witness);
        }
    }

    /// Decides an alert that no change burst applies to.
    fn decide(&mut self, alert: Alert, record: Option<&Record<'_>>, emit: &mut dyn FnMut(Alert)) {
        let mut to = Effects {
            stats: &mut self.stats,
            observer: &mut self.observer,
            incidents: &mut self.incidents,
        };
        let out: &mut Decide<'_> = &mut |a, fate| record_decision(&mut to, emit, a, fate);
        self.policy.decide(alert, record, false, out);
    }

    /// `text` with the secrets and personal data in it masked.
    fn redact(&mut self, text: &str) -> String {
        let set = Arc::clone(self.engine.detectors());
        set.redact(text, self.ws.scratch_mut())
    }

    /// The threshold alert of an episode, its group value masked where it holds a secret.
    fn emit_crossing(&mut self, c: &Crossing, emit: &mut dyn FnMut(Alert)) {
        let set = Arc::clone(self.engine.detectors());
        let Some(rule) = set.events().correlations().get(c.corr) else {
            return;
        };
        let group = self.redact(&c.group);
        let alert = c.alert(rule, &group);
        self.decide(alert, None, emit);
    }

    /// The keys `--verify` may check, found since the last call.
    pub fn take_probes(&mut self) -> Vec<Probe> {
        std::mem::take(&mut self.probes)
    }

    /// Returns the counters and starts new ones (per-invocation metrics).
    pub fn take_stats(&mut self) -> Stats {
        self.update_state_stats();
        std::mem::take(&mut self.stats)
    }
}

/// A warning that correlation state was under pressure (keys evicted to stay within bounds:
/// a flood may be hiding a burst). `evicted` keys so far; dated `now`.
fn state_pressure(evicted: u64, keys: usize, now: Option<EventTime>) -> Alert {
    let ev = EventRef {
        log_group: "logwarden",
        log_stream: "correlation-state",
        id: "",
        time: now,
    };
    let title = format!(
        "Correlation state under pressure: {evicted} group key(s) evicted ({keys} held); a flood of distinct keys may hide a burst"
    );
    let mut a = Alert::at(
        "logwarden-correlation-state-pressure",
        &title,
        Severity::Medium,
        FindingKind::Event,
        &ev,
    );
    let hour = now
        .map(|t| t.as_millis().div_euclid(3_600_000))
        .unwrap_or(0);
    a.id = crate::hash::id(&[&a.rule_id, &hour.to_string()]);
    a
}

/// Decodes `input` as [`Pipeline::process_input`] would and runs the engine over every event
/// (content rules, the record parsed when something may match, every event rule): the part
/// of the work that needs no state, so that replay can do it for several inputs at once and
/// hand the results to one pipeline in input order ([`Pipeline::process_prepared`]). The
/// findings carry what the ordered stages read (the correlations' readings, the session
/// stage's call, a bounded number of parsed records), so the pipeline parses a record again
/// only past that bound, and only one that raises an alert.
pub fn prepare(
    engine: &Engine,
    config: &Config,
    input: &[u8],
    text_source: &TextSource,
) -> Prepared {
    prepare_wide(engine, config, input, text_source, 1)
}

/// [`prepare`], with each large batch's events analysed on up to `threads` threads (a single
/// CloudWatch Logs payload on a Lambda with several vCPUs): the same result.
pub fn prepare_wide(
    engine: &Engine,
    config: &Config,
    input: &[u8],
    text_source: &TextSource,
    threads: usize,
) -> Prepared {
    prepare_when_ready(&|| Some(engine), config, input, text_source, threads)
}

/// [`prepare_wide`] with the engine asked for only when the first batch is decoded: a replay
/// starts decoding its first pieces while the detector set is still being built, and `engine`
/// waits for it. If it gives none, the batches are decoded but not analysed ahead (a pipeline
/// that takes them analyses their events itself, as for a batch that was never prepared).
pub fn prepare_when_ready<'e>(
    engine: &dyn Fn() -> Option<&'e Engine>,
    config: &Config,
    input: &[u8],
    text_source: &TextSource,
    threads: usize,
) -> Prepared {
    let mut ws = Workspace::default();
    let mut batches = Vec::new();
    let ignored = |g: &str| config.ignore_log_groups.iter().any(|i| i == g);
    let result = decode::decode_input(input, text_source, &config.limits, &mut |batch| {
        let engine = engine();
        let ahead = match engine {
            Some(engine)
                if batch.message_type != MessageType::Control && !ignored(&batch.log_group) =>
            {
                let source = engine.sources().source(&batch.log_group, &batch.log_stream);
                wide::analyse_events(engine, &source, &batch.events, threads, &mut ws)
            }
            _ => Vec::new(),
        };
        batches.push((wide::Held::new(batch), ahead));
    });
    Prepared {
        batches,
        result,
        input_len: input.len(),
    }
}
