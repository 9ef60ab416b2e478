//! Stage 4: aggregation. Correlation rules count detection matches per group key per
//! event-time window; a threshold alert fires in the call whose update crosses the threshold,
//! so it fires once per (rule, group value, window) however the events arrive.
//!
//! Windows are tumbling and aligned to the epoch (`start = floor(t / timespan) * timespan`),
//! like SIEM backends' `bin span=`: counts depend only on which events fall in a window, never
//! on their order, so replays are deterministic and late events still count.
//!
//! Two ways to keep the counts:
//! - [`WindowStore`] (in-process, [`MemoryWindowStore`]): one synchronous `observe` per
//!   matching event; exact within one process.
//! - [`SharedWindowStore`] (shared, [`DynamoWindowStore`]): the pipeline collects a batch's
//!   matches into [`PendingCounts`] (pre-aggregated per window, per log batch), the async
//!   front end flushes them with one request per window, and gets back the [`Crossing`]s: the
//!   windows whose shared count this flush took across the threshold. Exact across any number
//!   of concurrent processes.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use sha2::{Digest, Sha256};

pub mod dynamo;
mod memory;

pub use dynamo::DynamoWindowStore;
pub use memory::MemoryWindowStore;

/// Identifies one counter: rule, group value, window start.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowKey {
    /// Correlation rule name.
    pub rule: String,
    /// Group-by value(s), comma-joined.
    pub group: String,
    /// Window start, ms since the epoch.
    pub start_ms: i64,
}

/// What one matching event adds to a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// `event_count`: one event, identified (for de-duplication of re-delivered events) by a
    /// stable 64-bit id.
    Event(u64),
    /// `value_count`: one value, by its stable 64-bit hash.
    Value(u64),
}

/// Counts before and after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update {
    /// Count before.
    pub before: u64,
    /// Count after.
    pub after: u64,
}

/// Why a window store could not count.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backing service failed or throttled; the invocation must be retried.
    #[error("window store: {0}")]
    Backend(String),
}

/// Where window counts live. The in-process [`MemoryWindowStore`] keeps them across warm
/// Lambda invocations; a shared store makes them exact across instances.
pub trait WindowStore: Send {
    /// Adds an observation to a window and returns the counts before and after.
    fn observe(&mut self, key: &WindowKey, obs: Observation) -> Result<Update, StoreError>;
    /// Windows evicted to stay within bounds.
    fn evictions(&self) -> u64;
    /// Windows currently held.
    fn len(&self) -> usize;
    /// Whether no window is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A stable 64-bit hash (first 8 bytes of SHA-256), the same in every process and version.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The start of the window of length `span_ms` that holds `t_ms`.
pub fn window_start(t_ms: i64, span_ms: i64) -> i64 {
    // floor(t / span) * span, saturating at the ends of the i64 range (absurd timestamps).
    t_ms.saturating_sub(t_ms.rem_euclid(span_ms))
}

/// The identity of one log batch (one CloudWatch Logs subscription payload: a Lambda event,
/// or one Kinesis record), the same whenever the batch is delivered again. Shared stores
/// remember which batches they counted, so a retried batch is not counted twice.
pub type BatchId = u64;

/// A stable id for a batch: a hash of its owner, log group, log stream and every event's id,
/// timestamp and message length (not the messages: cheap, and enough to tell batches apart).
pub fn batch_id<'a>(
    owner: &str,
    log_group: &str,
    log_stream: &str,
    events: impl ExactSizeIterator<Item = (&'a str, Option<i64>, usize)>,
) -> BatchId {
    let mut h = Sha256::new();
    for p in [owner, log_group, log_stream] {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.update((events.len() as u64).to_le_bytes());
    for (id, ts, len) in events {
        h.update(id.as_bytes());
        h.update([0]);
        h.update(ts.unwrap_or(i64::MIN).to_le_bytes());
        h.update((len as u64).to_le_bytes());
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The event a threshold alert points at: the one whose count reached the threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// Log group.
    pub log_group: String,
    /// Log stream.
    pub log_stream: String,
    /// Log event id.
    pub event_id: String,
    /// Event time, ms since the epoch.
    pub time_ms: i64,
}

/// What one log batch adds to one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPart {
    /// The batch.
    pub batch: BatchId,
    /// `event_count`: events counted (each event once per flush).
    pub events: u64,
    /// `value_count`: value hashes first seen in this flush in this batch, in order.
    pub values: Vec<u64>,
    /// The events behind the first counted events (`event_count`) or values (`value_count`),
    /// at most `threshold` of them: the alert points at the one that reached the threshold.
    pub witnesses: Vec<Witness>,
}

/// The pending additions to one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingWindow {
    /// The count at which the rule fires.
    pub threshold: u64,
    /// `value_count` (distinct values) rather than `event_count`.
    pub distinct: bool,
    /// Window end, ms since the epoch (items expire some time after it).
    pub end_ms: i64,
    /// For the caller: which correlation rule this is.
    pub tag: usize,
    /// What each batch adds, in arrival order.
    pub parts: Vec<BatchPart>,
    seen: HashSet<u64>,
}

impl PendingWindow {
    fn part(&mut self, batch: BatchId) -> &mut BatchPart {
        let i = match self.parts.iter().rposition(|p| p.batch == batch) {
            Some(i) => i,
            None => {
                self.parts.push(BatchPart {
                    batch,
                    events: 0,
                    values: Vec::new(),
                    witnesses: Vec::new(),
                });
                self.parts.len() - 1
            }
        };
        &mut self.parts[i]
    }
}

/// A batch's (or an invocation's) correlation matches, pre-aggregated per window and per log
/// batch, waiting to be flushed to a [`SharedWindowStore`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingCounts {
    windows: BTreeMap<WindowKey, PendingWindow>,
    observations: u64,
}

/// The rule-side facts a pending window needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRule {
    /// Threshold (`gte`).
    pub threshold: u64,
    /// `value_count` rather than `event_count`.
    pub distinct: bool,
    /// Window end, ms since the epoch.
    pub end_ms: i64,
    /// For the caller: which correlation rule this is.
    pub tag: usize,
}

impl PendingCounts {
    /// Adds one observation from `batch`. An event already counted in this flush, or a value
    /// already seen, adds nothing.
    pub fn observe(
        &mut self,
        key: &WindowKey,
        rule: WindowRule,
        batch: BatchId,
        obs: Observation,
        witness: impl FnOnce() -> Witness,
    ) {
        self.observations += 1;
        let w = match self.windows.get_mut(key) {
            Some(w) => w,
            None => self.windows.entry(key.clone()).or_insert(PendingWindow {
                threshold: rule.threshold,
                distinct: rule.distinct,
                end_ms: rule.end_ms,
                tag: rule.tag,
                parts: Vec::new(),
                seen: HashSet::new(),
            }),
        };
        let (Observation::Event(h) | Observation::Value(h)) = obs;
        if !w.seen.insert(h) {
            return;
        }
        let cap = w.threshold.max(1) as usize;
        let part = w.part(batch);
        match obs {
            Observation::Event(_) => part.events += 1,
            Observation::Value(v) => part.values.push(v),
        }
        if part.witnesses.len() < cap {
            part.witnesses.push(witness());
        }
    }

    /// The windows with something to add.
    pub fn windows(&self) -> impl ExactSizeIterator<Item = (&WindowKey, &PendingWindow)> {
        self.windows.iter()
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Observations added (before de-duplication).
    pub fn observations(&self) -> u64 {
        self.observations
    }
}

/// A window whose shared count reached its threshold through this flush (or, for a retried
/// batch, through an earlier delivery of it whose alert may not have been sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    /// The window.
    pub key: WindowKey,
    /// The caller's tag of the window's rule.
    pub tag: usize,
    /// The count at the event that reached the threshold (the threshold itself, as with
    /// in-process windows, unless the count had passed it without an alert being claimed).
    pub count: u64,
    /// The event that reached it.
    pub witness: Option<Witness>,
    /// Re-sent for a retried batch that had already crossed the threshold.
    pub repeated: bool,
}

/// What a flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Windows whose threshold was reached, each claimed by exactly one process.
    pub crossings: Vec<Crossing>,
    /// Requests sent to the store.
    pub requests: u64,
    /// Windows updated.
    pub windows: u64,
    /// Windows not sent because this process knows they already fired (or, for
    /// `value_count`, already hold every value).
    pub windows_skipped: u64,
    /// Batch parts that the store had already counted (retried batches), not counted again.
    pub parts_already_counted: u64,
    /// Batch parts counted without a retry marker (the window's marker set was full).
    pub parts_unmarked: u64,
}

/// A future returned by [`SharedWindowStore::flush`].
pub type FlushFuture<'a> =
    Pin<Box<dyn Future<Output = Result<FlushReport, StoreError>> + Send + 'a>>;

/// Window counts shared by every process (concurrent Lambda instances): exact however the
/// events are spread. Async, because it talks to a service.
pub trait SharedWindowStore: Send + Sync {
    /// Adds `pending` to the shared counts and returns the windows whose threshold this
    /// flush reached. Fails (and the invocation must be retried) when the store fails or
    /// throttles past its retries; a retried batch is not counted twice.
    fn flush(&self, pending: PendingCounts) -> FlushFuture<'_>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(start: i64) -> WindowKey {
        WindowKey {
            rule: "r".into(),
            group: "g".into(),
            start_ms: start,
        }
    }

    #[test]
    fn windows_align_to_the_epoch() {
        assert_eq!(window_start(1_795_600_899_999, 300_000), 1_795_600_800_000);
        assert_eq!(window_start(-1, 1000), -1000);
    }

    #[test]
    fn redelivered_events_and_repeated_values_count_once() {
        let mut s = MemoryWindowStore::default();
        let k = key(0);
        assert_eq!(
            s.observe(&k, Observation::Event(1)).ok(),
            Some(Update {
                before: 0,
                after: 1
            })
        );
        assert_eq!(
            s.observe(&k, Observation::Event(1)).ok(),
            Some(Update {
                before: 1,
                after: 1
            })
        );
        let v = key(1);
        s.observe(&v, Observation::Value(7)).ok();
        assert_eq!(
            s.observe(&v, Observation::Value(7)).ok().map(|u| u.after),
            Some(1)
        );
    }

    #[test]
    fn pending_counts_aggregate_per_window_and_batch() {
        let mut p = PendingCounts::default();
        let rule = WindowRule {
            threshold: 2,
            distinct: false,
            end_ms: 1000,
            tag: 7,
        };
        let w = |id: &str| Witness {
            log_group: "g".into(),
            log_stream: "s".into(),
            event_id: id.into(),
            time_ms: 0,
        };
        for (batch, ev) in [(1, 10), (1, 11), (1, 10), (2, 12), (2, 13), (2, 14)] {
            p.observe(&key(0), rule, batch, Observation::Event(ev), || {
                w(&ev.to_string())
            });
        }
        assert_eq!(p.len(), 1);
        assert_eq!(p.observations(), 6);
        let (_, win) = p.windows().next().expect("one window");
        assert_eq!(win.tag, 7);
        let counts: Vec<(BatchId, u64, usize)> = win
            .parts
            .iter()
            .map(|b| (b.batch, b.events, b.witnesses.len()))
            .collect();
        // The repeated event counts once; witnesses are capped at the threshold.
        assert_eq!(counts, [(1, 2, 2), (2, 3, 2)]);
    }

    #[test]
    fn batch_ids_are_stable_and_tell_batches_apart() {
        let evs = [("1", Some(5), 10), ("2", Some(6), 11)];
        let a = batch_id("o", "g", "s", evs.iter().copied());
        assert_eq!(a, batch_id("o", "g", "s", evs.iter().copied()));
        assert_ne!(a, batch_id("o", "g", "s2", evs.iter().copied()));
        assert_ne!(a, batch_id("o", "g", "s", evs[..1].iter().copied()));
    }

    #[test]
    fn bounded_with_oldest_evicted_first() {
        let mut s = MemoryWindowStore::new(10, 100);
        for i in 0..25 {
            s.observe(&key(i * 1000), Observation::Event(1)).ok();
        }
        assert!(s.len() <= 10);
        assert!(s.evictions() >= 15);
        // The newest window is still there.
        assert_eq!(
            s.observe(&key(24_000), Observation::Event(2))
                .ok()
                .map(|u| u.before),
            Some(1)
        );
    }
}
