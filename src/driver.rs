//! The invocation driver: the one way an invocation runs, for `replay` and for the Lambda.
//!
//! ```text
//! analyse(input) ─┬─ decode, parse, detect, correlate   (Pipeline)
//!   (per input)   ├─ flush shared windows, in rounds     (SharedWindowStore)
//!                 └─ alerts → the caller's local output, and kept for publishing
//! finish()       ─┬─ storm digest, state-pressure warning (Pipeline::finish)
//!                 ├─ publish to the configured sinks      (SNS ...)
//!                 └─ metrics (EMF lines or PutMetricData) → InvocationReport
//! ```
//!
//! The front ends only wire: they read arguments or the environment, build the clients once,
//! call [`Driver::analyse`] and [`Driver::finish`], and map the result to an exit code or a
//! Lambda response. Publishing failures fail the run (Lambda retries the batch); the alerts
//! that did not go out are kept, bounded, and sent first next time; an alert a sink refuses for
//! good is set aside and counted, never blocking the others.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::alert::Alert;
use crate::clock::{Clock, SystemClock};
use crate::correlate::{SharedWindowStore, StoreError};
use crate::decode::{DecodeError, Origin, RecordError, TextSource};
use crate::pipeline::{Pipeline, Prepared, Stats};
use crate::sink::metrics::{CloudWatchPublisher, MetricsError, emf_lines, of_stats};
use crate::sink::sns::SnsPublisher;
use crate::sink::{PublishError, Publisher};
use crate::verify::Verifier;

/// Most alerts kept for re-publishing after a failed publish.
pub const MAX_CARRY: usize = 10_000;

/// Where metrics go.
#[derive(Debug, Clone)]
pub enum MetricsOut {
    /// Nowhere.
    None,
    /// Embedded Metric Format lines (the Lambda writes them on stdout: CloudWatch Logs makes
    /// them metrics).
    Emf {
        /// The namespace.
        namespace: String,
        /// Where the lines go.
        out: LineOut,
    },
    /// `PutMetricData` (the CLI).
    Put(CloudWatchPublisher),
}

/// Where lines of text go (EMF metrics): stdout, or a buffer a test reads.
#[derive(Clone)]
pub struct LineOut(Arc<std::sync::Mutex<dyn std::io::Write + Send>>);

impl LineOut {
    /// The process's standard output.
    pub fn stdout() -> Self {
        LineOut(Arc::new(std::sync::Mutex::new(std::io::stdout())))
    }

    /// Any writer.
    pub fn to(w: impl std::io::Write + Send + 'static) -> Self {
        LineOut(Arc::new(std::sync::Mutex::new(w)))
    }

    fn line(&self, text: &str) {
        if let Ok(mut w) = self.0.lock() {
            let _ = writeln!(w, "{text}");
            let _ = w.flush();
        }
    }
}

impl std::fmt::Debug for LineOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineOut")
    }
}

/// The sinks alerts are published to, besides the caller's local output.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// Publishers (SNS, Security Hub, EventBridge), each sent every alert.
    pub publishers: Vec<Arc<dyn Publisher>>,
    /// Metrics.
    pub metrics: MetricsOut,
}

/// Which publishers to build ([`Outputs::build`]).
#[derive(Debug, Clone, Default)]
pub struct OutputChoice {
    /// SNS topic ARN.
    pub sns_topic: Option<String>,
    /// The SNS message body's format.
    pub sns_format: crate::sink::sns::SnsFormat,
    /// Import findings into Security Hub.
    pub securityhub: bool,
    /// EventBridge bus (name or ARN) for OCSF findings.
    pub event_bus: Option<String>,
}

impl Outputs {
    /// Builds the chosen publishers over one AWS configuration. Security Hub and EventBridge
    /// learn the account (and partition) from STS `GetCallerIdentity`; `tags` maps rule ids to
    /// their tags (finding types, ATT&CK tactics).
    pub async fn build(
        aws: &aws_config::SdkConfig,
        choice: &OutputChoice,
        tags: std::collections::HashMap<String, Vec<String>>,
        metrics: MetricsOut,
    ) -> Result<Self, PublishError> {
        let mut publishers: Vec<Arc<dyn Publisher>> = Vec::new();
        if let Some(t) = &choice.sns_topic {
            publishers.push(Arc::new(
                SnsPublisher::new(aws_sdk_sns::Client::new(aws), t.clone())
                    .with_format(choice.sns_format),
            ));
        }
        if choice.securityhub || choice.event_bus.is_some() {
            let account = crate::sink::securityhub::caller_account(aws).await?;
            if choice.securityhub {
                publishers.push(Arc::new(
                    crate::sink::securityhub::SecurityHubPublisher::new(
                        aws_sdk_securityhub::Client::new(aws),
                        account.clone(),
                        tags.clone(),
                    ),
                ));
            }
            if let Some(bus) = &choice.event_bus {
                publishers.push(Arc::new(
                    crate::sink::eventbridge::EventBridgePublisher::new(
                        aws_sdk_eventbridge::Client::new(aws),
                        bus.clone(),
                        Some(account.id.clone()),
                        Some(account.region.clone()),
                        tags,
                    ),
                ));
            }
        }
        Ok(Outputs {
            publishers,
            metrics,
        })
    }

    /// `PutMetricData` to `namespace` (the CLI).
    pub fn put_metrics(aws: &aws_config::SdkConfig, namespace: &str) -> MetricsOut {
        MetricsOut::Put(CloudWatchPublisher::new(
            aws_sdk_cloudwatch::Client::new(aws),
            namespace.to_owned(),
        ))
    }
}

impl Default for Outputs {
    fn default() -> Self {
        Outputs {
            publishers: Vec::new(),
            metrics: MetricsOut::None,
        }
    }
}

/// Why a run failed as a whole: the invocation fails and is retried.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Nothing of an input could be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The shared correlation window store failed; counts must not be lost.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Alerts could not be published.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// Metrics could not be sent.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// What analysing one input gave.
#[derive(Debug, Default)]
pub struct InputOutcome {
    /// Parts of the input that could not be decoded (the rest was processed).
    pub record_errors: Vec<RecordError>,
    /// The input could not be processed at all, or its shared flush failed.
    pub error: Option<DriverError>,
}

/// What a run did (also the Lambda function's response for subscription events).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InvocationReport {
    /// Log events received.
    pub events: u64,
    /// Log events scanned.
    pub processed: u64,
    /// Alerts produced.
    pub alerts: u64,
    /// Alerts published (including ones re-sent from an earlier failure).
    pub published: u64,
    /// Alerts a sink refused for good (set aside, their ids logged).
    pub undeliverable: u64,
    /// Alerts a failing sink could not keep for the next run: more than [`MAX_CARRY`] were
    /// waiting (their ids logged; the EMF metric `AlertsDropped`).
    pub carry_dropped: u64,
    /// Alerts dropped by a suppression entry (counted per rule in the metrics).
    pub suppressed: u64,
    /// Records of the input that failed to decode (reported, the rest processed).
    pub failed_records: u64,
    /// Correlation keys in an open episode.
    pub open_episodes: u64,
    /// Correlation keys evicted under pressure.
    pub window_evictions: u64,
    /// Milliseconds spent decoding and analysing.
    pub analyse_ms: f64,
    /// Milliseconds spent publishing.
    pub publish_ms: f64,
    /// Requests to the shared window store.
    pub window_requests: u64,
    /// Milliseconds spent flushing correlation windows to the shared store.
    pub window_ms: f64,
    /// `--verify`: keys the provider said work.
    pub verified_live: u64,
    /// `--verify`: keys the provider refused.
    pub verified_revoked: u64,
    /// `--verify`: keys no answer told about.
    pub verified_unknown: u64,
    /// `--verify`: calls made to providers.
    pub verify_calls: u64,
    /// Milliseconds spent asking providers.
    pub verify_ms: f64,
}

/// Runs invocations (see the module docs). Build once per process; state (correlation
/// windows, the storm limiter, alerts not yet published) carries across runs.
pub struct Driver {
    pipeline: Pipeline,
    store: Option<Arc<dyn SharedWindowStore>>,
    outputs: Outputs,
    /// Alerts of this run, not yet published.
    to_publish: Vec<Alert>,
    /// Per publisher: alerts an earlier run could not deliver there.
    carry: Vec<Vec<Alert>>,
    report: InvocationReport,
    /// Set while a run is under way: still set at the next start means the last run stopped
    /// half-way (a panic), and its state cannot be trusted.
    in_progress: bool,
    /// The counters of the last finished run.
    last: Stats,
    /// The wall clock (when metrics are sent).
    clock: Arc<dyn Clock>,
    /// `--verify`: asks providers about found keys before the alerts go out.
    verifier: Option<Verifier>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("pipeline", &self.pipeline)
            .field("shared", &self.store.is_some())
            .field("carry", &self.carry.len())
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver over `pipeline`, publishing to `outputs`.
    pub fn new(pipeline: Pipeline, outputs: Outputs) -> Self {
        let carry = vec![Vec::new(); outputs.publishers.len()];
        Driver {
            pipeline,
            store: None,
            outputs,
            to_publish: Vec::new(),
            carry,
            report: InvocationReport::default(),
            in_progress: false,
            last: Stats::default(),
            clock: Arc::new(SystemClock),
            verifier: None,
        }
    }

    /// The driver checking found keys with `verifier` before alerts go out (`--verify`). The
    /// pipeline's engine must keep keys ([`crate::engine::Engine::keeping_keys`]).
    pub fn with_verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// The driver with `clock` for the wall-clock time of its metrics.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Shares correlation windows through `store`.
    pub fn with_store(mut self, store: Arc<dyn SharedWindowStore>) -> Self {
        self.pipeline.share_windows();
        self.store = Some(store);
        self
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Whether the last run stopped half-way (a panic): its state must be rebuilt.
    pub fn interrupted(&self) -> bool {
        self.in_progress
    }

    /// Analyses one input: decodes and scans it, flushes its correlation matches to the
    /// shared store (when there is one), hands every alert to `local` as it comes and keeps
    /// it for publishing.
    pub async fn analyse(
        &mut self,
        input: &[u8],
        source: &TextSource,
        local: &mut (dyn FnMut(&Alert) + Send),
    ) -> InputOutcome {
        self.analyse_with(|p, emit| p.process_input(input, source, emit), local)
            .await
    }

    /// [`Driver::analyse`] with each large batch's events analysed on up to `threads` threads
    /// ([`crate::pipeline::prepare_wide`]): the same outcome, in the same order.
    pub async fn analyse_wide(
        &mut self,
        input: &[u8],
        source: &TextSource,
        threads: usize,
        local: &mut (dyn FnMut(&Alert) + Send),
    ) -> InputOutcome {
        if threads <= 1 {
            return self.analyse(input, source, local).await;
        }
        let prepared = crate::pipeline::prepare_wide(
            self.pipeline.engine(),
            self.pipeline.config(),
            input,
            source,
            threads,
        );
        self.analyse_prepared(prepared, local).await
    }

    /// [`Driver::analyse`] for an input decoded and scanned ahead
    /// ([`crate::pipeline::prepare`]): the same outcome as analysing its bytes.
    pub async fn analyse_prepared(
        &mut self,
        prepared: Prepared,
        local: &mut (dyn FnMut(&Alert) + Send),
    ) -> InputOutcome {
        self.analyse_with(|p, emit| p.process_prepared(prepared, emit), local)
            .await
    }

    /// Analyses `parts` (the records of one input, each a whole input of its own) as
    /// [`Driver::analyse`] would analyse them one after the other, with the stateless work
    /// (decoding, every rule) done on `threads` threads at once: the same alerts in the same
    /// order. Record errors name the part they came from (`origin.index`).
    pub async fn analyse_parts(
        &mut self,
        parts: &[Vec<u8>],
        source: &TextSource,
        threads: usize,
        local: &mut (dyn FnMut(&Alert) + Send),
    ) -> InputOutcome {
        let threads = threads.clamp(1, parts.len().max(1));
        let engine = self.pipeline.engine();
        let config = self.pipeline.config();
        // Part i goes to thread i % threads; each thread returns its parts in order.
        let mut prepared: Vec<Option<Prepared>> = (0..parts.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        parts
                            .iter()
                            .enumerate()
                            .skip(t)
                            .step_by(threads)
                            .map(|(i, p)| (i, crate::pipeline::prepare(engine, config, p, source)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                // A worker that panicked leaves its parts unprepared: they are analysed below
                // on this thread instead.
                if let Ok(done) = h.join() {
                    for (i, p) in done {
                        prepared[i] = Some(p);
                    }
                }
            }
        });
        let mut out = InputOutcome::default();
        for (i, p) in prepared.into_iter().enumerate() {
            let part = match p {
                Some(p) => self.analyse_prepared(p, local).await,
                None => self.analyse(&parts[i], source, local).await,
            };
            out.record_errors
                .extend(part.record_errors.into_iter().map(|mut e| {
                    e.origin.index = i;
                    e
                }));
            if let Some(e) = part.error {
                out.error.get_or_insert(e);
            }
        }
        out
    }

    async fn analyse_with(
        &mut self,
        run: impl FnOnce(&mut Pipeline, &mut dyn FnMut(Alert)) -> Result<Vec<RecordError>, DecodeError>,
        local: &mut (dyn FnMut(&Alert) + Send),
    ) -> InputOutcome {
        self.in_progress = true;
        let started = Instant::now();
        let mut out = InputOutcome::default();
        let mut kept = Vec::new();
        let result = run(&mut self.pipeline, &mut |a| kept.push(a));
        match result {
            Ok(errors) => out.record_errors = errors,
            Err(e) => out.error = Some(e.into()),
        }
        let window_started = Instant::now();
        if let Err(e) = self.flush_windows(&mut |a| kept.push(a)).await {
            out.error.get_or_insert(e.into());
        }
        let window_ms = window_started.elapsed().as_secs_f64() * 1e3;
        self.report.window_ms += window_ms;
        let probes = self.pipeline.take_probes();
        let verify_started = Instant::now();
        if let Some(v) = &mut self.verifier {
            let counts = v.verify(&mut kept, probes).await;
            self.report.verified_live += counts.live;
            self.report.verified_revoked += counts.revoked;
            self.report.verified_unknown += counts.unknown;
            self.report.verify_calls += counts.calls;
        }
        let verify_ms = verify_started.elapsed().as_secs_f64() * 1e3;
        self.report.verify_ms += verify_ms;
        self.report.analyse_ms += started.elapsed().as_secs_f64() * 1e3 - window_ms - verify_ms;
        kept.iter().for_each(local);
        self.to_publish.extend(kept);
        out
    }

    /// Flushes the collected correlation matches to the shared store, in rounds while
    /// correlations of correlations have matches to add.
    async fn flush_windows(
        &mut self,
        emit: &mut (dyn FnMut(Alert) + Send),
    ) -> Result<(), StoreError> {
        match self.store.clone() {
            Some(store) => self.pipeline.flush_windows(store.as_ref(), emit).await,
            None => Ok(()),
        }
    }

    /// Publishes what the run has so far to every publisher (the CLI calls this after each
    /// input so memory stays bounded). What a publisher could not deliver is kept, bounded,
    /// and sent to it first next time; one failing publisher does not stop the others.
    pub async fn publish_pending(&mut self) -> Result<(), DriverError> {
        let fresh = std::mem::take(&mut self.to_publish);
        let mut first_error = None;
        for (i, p) in self.outputs.publishers.iter().enumerate() {
            let mut batch = std::mem::take(&mut self.carry[i]);
            batch.extend(fresh.iter().cloned());
            let mut seen = std::collections::HashSet::new();
            batch.retain(|a| seen.insert(a.id.clone()));
            if batch.is_empty() {
                continue;
            }
            let started = Instant::now();
            let result = p.publish(&batch).await;
            self.report.publish_ms += started.elapsed().as_secs_f64() * 1e3;
            match result {
                Ok(r) => {
                    self.report.published += r.published as u64;
                    self.report.undeliverable += r.undeliverable.len() as u64;
                    for u in &r.undeliverable {
                        tracing::error!(sink = p.name(), alert = %u.id, reason = %u.reason, "alert refused for good: set aside");
                    }
                }
                Err(e) => {
                    let left: std::collections::HashSet<&String> = e.unpublished.iter().collect();
                    self.report.published += (batch.len() - left.len()) as u64;
                    let mut kept: Vec<Alert> =
                        batch.into_iter().filter(|a| left.contains(&a.id)).collect();
                    for a in kept.iter().skip(MAX_CARRY) {
                        tracing::error!(sink = p.name(), alert = %a.id, "alert dropped: too many waiting for a failing sink");
                    }
                    self.report.carry_dropped += kept.len().saturating_sub(MAX_CARRY) as u64;
                    kept.truncate(MAX_CARRY);
                    self.carry[i] = kept;
                    tracing::error!(sink = p.name(), error = %e, "publishing failed; the run fails so it is retried");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Ends the run: the storm digest and state warnings, publishing, metrics. Returns what
    /// the run did; fails when alerts or metrics could not be delivered.
    pub async fn finish(
        &mut self,
        local: &mut (dyn FnMut(&Alert) + Send),
    ) -> Result<InvocationReport, DriverError> {
        let mut digest = Vec::new();
        self.pipeline.finish(&mut |a| {
            local(&a);
            digest.push(a);
        });
        self.to_publish.extend(digest);
        let published = self.publish_pending().await;
        let stats = self.pipeline.take_stats();
        let mut report = std::mem::take(&mut self.report);
        fill_report(&mut report, &stats);
        let metrics = self.send_metrics(&stats, report.carry_dropped).await;
        self.last = stats;
        self.in_progress = false;
        published?;
        metrics?;
        Ok(report)
    }

    async fn send_metrics(&self, stats: &Stats, dropped: u64) -> Result<(), MetricsError> {
        let mut metrics = of_stats(stats);
        metrics.push(crate::sink::metrics::Metric::total(
            "AlertsDropped",
            dropped,
            crate::sink::metrics::Unit::Count,
        ));
        metrics.push(crate::sink::metrics::Metric::total(
            "AlertsCarried",
            self.carry.iter().map(Vec::len).sum::<usize>() as u64,
            crate::sink::metrics::Unit::Count,
        ));
        match &self.outputs.metrics {
            MetricsOut::None => Ok(()),
            MetricsOut::Emf { namespace, out } => {
                let now = self.clock.now().as_millis();
                for line in emf_lines(namespace, &metrics, now) {
                    out.line(&line);
                }
                Ok(())
            }
            MetricsOut::Put(cw) => cw.put(&metrics).await,
        }
    }

    /// The counters of the run so far.
    pub fn stats(&self) -> &Stats {
        self.pipeline.stats()
    }

    /// The counters of the last finished run.
    pub fn last_run(&self) -> &Stats {
        &self.last
    }
}

fn fill_report(report: &mut InvocationReport, stats: &Stats) {
    report.events = stats.events_received;
    report.processed = stats.events_processed;
    report.alerts = stats.alerts;
    report.suppressed = stats.alerts_suppressed;
    report.failed_records = stats.records_failed;
    report.open_episodes = stats.open_episodes;
    report.window_evictions = stats.window_evictions;
    report.window_requests = stats.window_store_requests;
}

/// The sequence numbers of failed Kinesis records (the partial batch response), or the index
/// of one that has none.
pub fn failed_sequence_numbers(errors: &[RecordError]) -> Result<Vec<String>, usize> {
    errors
        .iter()
        .map(|e| match &e.origin {
            Origin {
                sequence_number: Some(s),
                ..
            } => Ok(s.clone()),
            Origin { index, .. } => Err(*index),
        })
        .collect()
}
