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
//! matches are pre-aggregated into pending counts, the async front end flushes them with
//! one request per (rule, group value), and gets back the crossings.

use std::sync::Arc;

use crate::detect::sigma::{CorrelationRule, EventDetectors};
use crate::engine::reading::Read;
use crate::time::EventTime;

pub mod dynamo;
pub mod sessions;
mod shared;
pub mod sliding;

pub use dynamo::DynamoWindowStore;
pub use shared::*;
use sliding::SlidingWindows;
pub use sliding::{Episode, Limits, Measure, Point, Spec};

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

pub use crate::engine::reading::Skip;

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

    /// Collects one match of a rule at position `pos` of correlation `corr`'s rule list, from
    /// what the correlation read of the record where it was analysed
    /// ([`crate::engine::Findings::readings`]); it is counted at the end of the batch.
    pub fn observe_read(
        &mut self,
        corr: usize,
        pos: u8,
        read: &Result<Read, Skip>,
        witness: &Arc<Witness>,
    ) -> Result<(), Skip> {
        match self.prepare(corr, pos, read, witness) {
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
        read: &Result<Read, Skip>,
        witness: &Arc<Witness>,
    ) -> Result<Pending, Skip> {
        let read = read.as_ref().map_err(|skip| *skip)?;
        Ok(Pending {
            corr,
            key: GroupKey {
                corr: corr as u32,
                group: read.group,
            },
            group: Arc::clone(&read.shown),
            point: Point {
                time: read.time,
                event: stable_hash(&[&witness.log_group, &witness.log_stream, &witness.event_id]),
                value: read.value,
                num: read.num(),
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
