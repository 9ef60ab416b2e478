//! Stage 4: aggregation. The [`Correlator`] owns correlation state: it groups the matches of
//! the rules a correlation references by the correlation's `group-by` values, counts them in
//! sliding spans of event time ([`sliding`]), and reports the **crossings**: the opening of
//! an episode, one per burst however long it goes on.
//!
//! Matches are collected while a batch is analysed and applied at its end in event-time order
//! ([`Correlator::settle`]), so the order of events within a batch never matters, and events
//! that arrive out of order across batches are inserted at their time.
//!
//! Counts are kept in process (bounded and flood-resistant, see [`sliding`]), or shared by
//! every process through a [`SharedWindowStore`] ([`DynamoWindowStore`]): then a batch's
//! matches are pre-aggregated into [`PendingCounts`], the async front end flushes them with
//! one request per (rule, group value), and gets back the crossings.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::alert::{Alert, EventRef, Group, Window};
use crate::detect::sigma::{CorrelationRule, EventDetectors};
use crate::record::Record;
use crate::severity::FindingKind;
use crate::time::EventTime;

pub mod dynamo;
pub mod sliding;

pub use dynamo::DynamoWindowStore;
use sliding::SlidingWindows;
pub use sliding::{Episode, Limits, Measure, Point, Spec};

/// Longest group value shown in an alert; longer values are cut (the count still uses the
/// whole value).
pub const MAX_GROUP_DISPLAY: usize = 256;

/// The identity of one (correlation, group value): the group value's 128-bit hash, so a
/// 20 KB `X-Forwarded-For` list costs 16 bytes of state and crafted values cannot collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// The correlation's index.
    pub corr: u32,
    /// Hash of the group value.
    pub group: u128,
}

/// The event a threshold alert points at: the one whose arrival completed the span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// Log group.
    pub log_group: String,
    /// Log stream.
    pub log_stream: String,
    /// Log event id.
    pub event_id: String,
    /// Event time.
    pub time: EventTime,
}

/// One match to count, waiting for the end of its batch.
#[derive(Debug, Clone)]
struct Pending {
    corr: usize,
    key: GroupKey,
    group: Arc<str>,
    point: Point,
    witness: Arc<Witness>,
    seq: usize,
}

/// An episode opened: what a threshold alert is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    /// The correlation's index.
    pub corr: usize,
    /// The group value (cut to [`MAX_GROUP_DISPLAY`]).
    pub group: String,
    /// The episode (its start is the alert's time).
    pub episode: Episode,
    /// The measure of the span at the crossing (count, distinct values, sum, average).
    pub measure: f64,
    /// The time of the span's first event.
    pub span_start: EventTime,
    /// The group's key (the alert id uses it).
    pub key: GroupKey,
    /// The event that completed the span.
    pub witness: Witness,
}

/// Why a match was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The record has no time.
    Untimed,
    /// A group-by or value field is missing (or not a number for sums and averages).
    Ungrouped,
}

/// Counters of the correlation stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorrelatorCounters {
    /// Matches without a time (not counted).
    pub untimed: u64,
    /// Matches missing a group-by or value field (not counted).
    pub ungrouped: u64,
    /// Matches older than their key's newest by more than the lateness bound (not counted).
    pub late: u64,
    /// Matches of events already counted (redeliveries).
    pub duplicates: u64,
    /// Keys evicted under pressure.
    pub evicted_keys: u64,
    /// Keys dropped when their time was up.
    pub expired_keys: u64,
    /// Points dropped over a key's cap.
    pub dropped_points: u64,
}

/// Correlation state for one process (see the module docs).
#[derive(Debug)]
pub struct Correlator {
    specs: Vec<Spec>,
    rule_ids: Vec<String>,
    windows: SlidingWindows<GroupKey>,
    pending: Vec<Pending>,
    /// With a shared store: the matches waiting for its flush, and the current log batch.
    shared: Option<(SharedBatch, BatchId)>,
    untimed: u64,
    ungrouped: u64,
}

impl Correlator {
    /// In-process state for the correlations of `events`.
    pub fn new(events: &EventDetectors, limits: Limits) -> Self {
        Correlator {
            specs: events
                .correlations()
                .iter()
                .map(CorrelationRule::spec)
                .collect(),
            rule_ids: events
                .correlations()
                .iter()
                .map(|c| c.meta.id.clone())
                .collect(),
            windows: SlidingWindows::new(limits),
            pending: Vec::new(),
            shared: None,
            untimed: 0,
            ungrouped: 0,
        }
    }

    /// Counts through a shared store from now on: matches are collected for
    /// [`Correlator::take_shared`] instead of counted here (in-process state is dropped).
    pub fn share(&mut self) {
        self.shared = Some((SharedBatch::default(), 0));
        self.windows = SlidingWindows::new(Limits::default());
    }

    /// Whether counts go to a shared store.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The log batch the next matches come from (the shared store's retry marker).
    pub fn begin_batch(&mut self, batch: BatchId) {
        if let Some((_, b)) = &mut self.shared {
            *b = batch;
        }
    }

    /// The matches collected for the shared store since the last call.
    pub fn take_shared(&mut self) -> SharedBatch {
        match &mut self.shared {
            Some((pending, _)) => std::mem::take(pending),
            None => SharedBatch::default(),
        }
    }

    /// Feeds the hot points a shared flush saw to the correlations that reference theirs;
    /// they are flushed in the next round.
    pub fn feed_hot(&mut self, events: &EventDetectors, hot: &[SharedHot]) {
        for h in hot {
            for &(target, pos) in events.fed_by_correlation(h.corr) {
                let p = self.derived(
                    target,
                    pos,
                    h.key.group,
                    &h.group,
                    h.time,
                    h.corr,
                    &h.witness,
                );
                self.push(p);
            }
        }
    }

    /// Counters so far.
    pub fn counters(&self) -> CorrelatorCounters {
        let c = self.windows.counters();
        CorrelatorCounters {
            untimed: self.untimed,
            ungrouped: self.ungrouped,
            late: c.late,
            duplicates: c.duplicates,
            evicted_keys: c.evicted_keys,
            expired_keys: c.expired_keys,
            dropped_points: c.dropped_points,
        }
    }

    /// Keys currently in an open episode (reported by the storm digest).
    pub fn open_episodes(&self) -> usize {
        self.windows.open_episodes(&self.specs)
    }

    /// Keys held, and points held.
    pub fn size(&self) -> (usize, usize) {
        (self.windows.len(), self.windows.points())
    }

    /// Whether keys were evicted under pressure since the last call.
    pub fn take_pressure(&mut self) -> bool {
        self.windows.take_pressure()
    }

    /// Collects one match of detection rule `source` (its position `pos` in correlation
    /// `corr`'s rule list) on `record`; it is counted at the end of the batch.
    pub fn observe(
        &mut self,
        corr: usize,
        pos: u8,
        rule: &CorrelationRule,
        record: &Record<'_>,
        witness: &Arc<Witness>,
    ) -> Result<(), Skip> {
        match self.prepare(corr, pos, rule, record, witness) {
            Err(skip) => {
                match skip {
                    Skip::Untimed => self.untimed += 1,
                    Skip::Ungrouped => self.ungrouped += 1,
                }
                Err(skip)
            }
            Ok(p) => {
                self.push(p);
                Ok(())
            }
        }
    }

    fn push(&mut self, p: Pending) {
        let Some((batch, id)) = &mut self.shared else {
            self.pending.push(p);
            return;
        };
        let Some(spec) = self.specs.get(p.corr).copied() else {
            return;
        };
        let rule_id = self.rule_ids.get(p.corr).cloned().unwrap_or_default();
        batch
            .keys
            .entry(p.key)
            .or_insert_with(|| SharedKey {
                corr: p.corr,
                rule_id,
                key: p.key,
                group: Arc::clone(&p.group),
                spec,
                points: Vec::new(),
            })
            .points
            .push(SharedPoint {
                batch: *id,
                point: p.point,
                witness: p.witness,
            });
    }

    /// A match of correlation `target` (at position `pos` of its rule list) derived from a
    /// hot point of correlation `from`.
    #[allow(clippy::too_many_arguments)]
    fn derived(
        &self,
        target: usize,
        pos: u8,
        group: u128,
        shown: &Arc<str>,
        hot: EventTime,
        from: usize,
        witness: &Arc<Witness>,
    ) -> Pending {
        Pending {
            corr: target,
            key: GroupKey {
                corr: target as u32,
                group,
            },
            group: Arc::clone(shown),
            point: Point {
                time: hot,
                event: stable_hash(&[&from.to_string(), &hot.as_millis().to_string()])
                    ^ (group as u64),
                value: 0,
                num: 0.0,
                source: pos,
            },
            witness: Arc::clone(witness),
            seq: self.pending.len(),
        }
    }

    fn prepare(
        &self,
        corr: usize,
        pos: u8,
        rule: &CorrelationRule,
        record: &Record<'_>,
        witness: &Arc<Witness>,
    ) -> Result<Pending, Skip> {
        let time = record.time().ok_or(Skip::Untimed)?;
        let mut values = Vec::with_capacity(rule.group_by.len());
        for f in &rule.group_by {
            values.push(
                record
                    .field(f)
                    .and_then(|v| v.to_text())
                    .ok_or(Skip::Ungrouped)?,
            );
        }
        // Keyed on the values NUL-separated (a value holding a comma cannot merge two
        // groups); shown comma-separated.
        let key = group_key(corr, &values.join("\u{0}"));
        let group = values.join(",");
        let field = |f: &Option<String>| f.as_deref().and_then(|f| record.field(f));
        let (value, num) = match rule.measure {
            Measure::Distinct => {
                let v = field(&rule.field)
                    .and_then(|v| v.to_text())
                    .ok_or(Skip::Ungrouped)?;
                (stable_hash(&[&v]), 0.0)
            }
            Measure::Sum | Measure::Avg => {
                let n = field(&rule.field)
                    .and_then(|v| v.as_f64())
                    .ok_or(Skip::Ungrouped)?;
                (0, n)
            }
            _ => (0, 0.0),
        };
        Ok(Pending {
            corr,
            key,
            group: Arc::from(cut_display(&group)),
            point: Point {
                time,
                event: stable_hash(&[&witness.log_group, &witness.log_stream, &witness.event_id]),
                value,
                num,
                source: pos,
            },
            witness: Arc::clone(witness),
            seq: self.pending.len(),
        })
    }

    /// Whether matches are waiting for [`Correlator::settle`].
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Counts the batch's matches in event-time order and appends the episodes they opened.
    /// A correlation's hot points feed the correlations that reference it.
    pub fn settle(&mut self, events: &EventDetectors, out: &mut Vec<Crossing>) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by(|a, b| a.point.time.cmp(&b.point.time).then(a.seq.cmp(&b.seq)));
        for p in pending {
            self.apply(events, p, out, 0);
        }
    }

    fn apply(
        &mut self,
        events: &EventDetectors,
        p: Pending,
        out: &mut Vec<Crossing>,
        depth: usize,
    ) {
        let outcome = self.windows.insert(&self.specs, p.corr, &p.key, p.point);
        if let Some((episode, measure, span_start)) = outcome.opened {
            out.push(Crossing {
                corr: p.corr,
                group: p.group.to_string(),
                episode,
                measure,
                span_start,
                key: p.key,
                witness: (*p.witness).clone(),
            });
        }
        // Correlations of correlations: each hot point is a match of the referencing rule.
        if depth >= 8 || outcome.hot.is_empty() {
            return;
        }
        for &(target, pos) in events.fed_by_correlation(p.corr) {
            for &hot in &outcome.hot {
                let derived =
                    self.derived(target, pos, p.key.group, &p.group, hot, p.corr, &p.witness);
                self.apply(events, derived, out, depth + 1);
            }
        }
    }
}

/// The key of group value `group` of correlation `corr`.
pub fn group_key(corr: usize, group: &str) -> GroupKey {
    let d = Sha256::digest(group.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    GroupKey {
        corr: corr as u32,
        group: u128::from_le_bytes(b),
    }
}

/// `s` cut to [`MAX_GROUP_DISPLAY`] bytes, with the cut marked.
pub fn cut_display(s: &str) -> String {
    crate::mask::bounded(s, MAX_GROUP_DISPLAY)
}

impl Crossing {
    /// The threshold alert of this episode of `rule`. `group` is the group value as it may be
    /// shown (masked by the caller where it holds a secret).
    ///
    /// Its id depends only on the rule, the group value's key and the **slot** of the
    /// episode's start: the timespan-long slot of the clock that holds it. Two episodes of one
    /// key start more than a timespan apart, so they never share a slot (or an id); and where
    /// events arrive in another order or spread over instances, the opening seen may be a
    /// little later than the earliest possible one, but it falls in the same slot unless a
    /// slot boundary lies between the two, so the alert keeps its id.
    pub fn alert(&self, rule: &CorrelationRule, group: &str) -> Alert {
        let field = rule.group_label();
        let ev = EventRef {
            log_group: &self.witness.log_group,
            log_stream: &self.witness.log_stream,
            id: &self.witness.event_id,
            time: Some(self.episode.start),
        };
        let title = format!("{} ({field}={group})", rule.meta.title);
        let mut a = Alert::at(
            &rule.meta.id,
            &title,
            rule.meta.severity,
            FindingKind::Threshold,
            &ev,
        );
        let span = rule.timespan_ms.max(1);
        let slot = EventTime::clamped(self.episode.start.as_millis().div_euclid(span) * span);
        a.id = crate::hash::id(&[
            &rule.meta.id,
            &format!("{:032x}", self.key.group),
            &slot.to_rfc3339(),
        ]);
        a.group = Some(Group {
            field,
            value: group.to_owned(),
        });
        a.count = Some(if self.measure.is_finite() && self.measure > 0.0 {
            self.measure.round() as u64
        } else {
            0
        });
        a.window = Some(Window {
            start: self.span_start,
            end: self.episode.start,
        });
        a
    }
}

/// Why a shared window store could not count: the kind of failure and what the service
/// said. The invocation fails and is retried (counts must not be lost).
#[derive(Debug, thiserror::Error)]
#[error("window store {kind}: {message}")]
pub struct StoreError {
    /// Throttled, not found, access denied ...
    pub kind: crate::error::AwsErrorKind,
    /// What failed, with the service's code and message.
    pub message: String,
}

/// A stable 64-bit hash (first 8 bytes of SHA-256), the same in every process and version.
pub fn stable_hash(parts: &[&str]) -> u64 {
    crate::hash::of(parts).finish_u64()
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
    events: impl ExactSizeIterator<Item = (&'a str, Option<EventTime>, usize)>,
) -> BatchId {
    let mut h = crate::hash::of(&[owner, log_group, log_stream]);
    h.fixed(&(events.len() as u64).to_le_bytes());
    for (id, ts, len) in events {
        h.part(id.as_bytes());
        h.fixed(&ts.map_or(i64::MIN, EventTime::as_millis).to_le_bytes());
        h.fixed(&(len as u64).to_le_bytes());
    }
    h.finish_u64()
}

/// One match waiting to be flushed to a shared store.
#[derive(Debug, Clone)]
pub struct SharedPoint {
    /// The log batch it came from (the retry marker).
    pub batch: BatchId,
    /// The match.
    pub point: Point,
    /// Its event.
    pub witness: Arc<Witness>,
}

/// The matches of one (correlation, group value) waiting for a shared store.
#[derive(Debug, Clone)]
pub struct SharedKey {
    /// The correlation's index.
    pub corr: usize,
    /// The correlation's id (items are keyed by it, not by an index that differs between
    /// detector sets).
    pub rule_id: String,
    /// The key.
    pub key: GroupKey,
    /// The group value, cut for display.
    pub group: Arc<str>,
    /// How its spans are measured.
    pub spec: Spec,
    /// The matches, in arrival order.
    pub points: Vec<SharedPoint>,
}

/// An invocation's matches, per key, waiting for [`SharedWindowStore::flush`].
#[derive(Debug, Clone, Default)]
pub struct SharedBatch {
    /// Per key.
    pub keys: BTreeMap<GroupKey, SharedKey>,
}

impl SharedBatch {
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys waiting.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// A hot point a shared store saw (it feeds correlations that reference this one).
#[derive(Debug, Clone)]
pub struct SharedHot {
    /// The correlation's index.
    pub corr: usize,
    /// Its key.
    pub key: GroupKey,
    /// The group value.
    pub group: Arc<str>,
    /// When.
    pub time: EventTime,
    /// The event.
    pub witness: Arc<Witness>,
}

/// What a flush did.
#[derive(Debug, Clone, Default)]
pub struct FlushReport {
    /// Episodes opened by this flush (each claimed by exactly one process), or re-sent for a
    /// retried batch that took part in the claim.
    pub crossings: Vec<Crossing>,
    /// Hot points seen, for correlations of correlations.
    pub hot: Vec<SharedHot>,
    /// Requests sent to the store.
    pub requests: u64,
    /// Keys updated.
    pub keys: u64,
    /// Batch parts the store had counted before (retries), not counted again.
    pub parts_already_counted: u64,
    /// Matches older than their key's lateness bound (not counted).
    pub late: u64,
}

/// A future returned by [`SharedWindowStore::flush`].
pub type FlushFuture<'a> =
    Pin<Box<dyn Future<Output = Result<FlushReport, StoreError>> + Send + 'a>>;

/// Correlation counts shared by every process (concurrent Lambda instances): the alerts are
/// those of one process that saw every event. Async, because it talks to a service.
pub trait SharedWindowStore: Send + Sync {
    /// Adds `pending` to the shared counts and returns the episodes it opened. Fails (and the
    /// invocation must be retried) when the store fails or throttles past its retries; a
    /// retried batch is not counted twice.
    fn flush(&self, pending: SharedBatch) -> FlushFuture<'_>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_are_stable_and_tell_batches_apart() {
        let t = EventTime::from_millis(5);
        let evs = [("1", t, 10), ("2", t, 11)];
        let a = batch_id("o", "g", "s", evs.iter().copied());
        assert_eq!(a, batch_id("o", "g", "s", evs.iter().copied()));
        assert_ne!(a, batch_id("o", "g", "s2", evs.iter().copied()));
        assert_ne!(a, batch_id("o", "g", "s", evs[..1].iter().copied()));
    }

    #[test]
    fn long_group_values_are_cut_for_display_but_keyed_whole() {
        let a = format!("{}a", "x".repeat(20_000));
        let b = format!("{}b", "x".repeat(20_000));
        assert_ne!(group_key(0, &a), group_key(0, &b));
        let shown = cut_display(&a);
        assert!(shown.len() < MAX_GROUP_DISPLAY + 32);
        assert!(shown.ends_with("…[+19745 bytes]"), "{shown}");
    }
}
