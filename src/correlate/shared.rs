//! What the correlation stage shares with its stores and callers: keys, witnesses,
//! crossings (and their threshold alerts), and the shared window store's interface.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::alert::{Alert, EventRef, Group, Window};
use crate::detect::sigma::CorrelationRule;
use crate::severity::FindingKind;
use crate::time::EventTime;

use super::sliding::{Episode, Point, Spec};

pub use crate::engine::reading::MAX_GROUP_DISPLAY;

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

/// The key of group value `group` of correlation `corr`.
pub fn group_key(corr: usize, group: &str) -> GroupKey {
    GroupKey {
        corr: corr as u32,
        group: crate::engine::reading::group_hash(group),
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
    /// Parts not stored because their item was full (values past the item's bound, retry
    /// markers past a bucket's bound, or an update DynamoDB refused for the item's size):
    /// counted here, the batch never failed by it.
    pub overflow: u64,
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
