//! Correlation counts shared through DynamoDB: every instance together gives the alerts of one
//! process that saw every event, within the bound stated below.
//!
//! One item per (correlation, group value), key `pk` = `<rule id>#<group hash>` (the group
//! value itself is never stored). Counts live in **sub-buckets** of event time, each a tenth
//! of the rule's timespan (at least a second), as top-level attributes:
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `c_<b>` | N | events in bucket `b` (`event_count`, and the count of `value_sum`/`value_avg`) |
//! | `s_<b>` | N | sum of the field in bucket `b` (`value_sum`, `value_avg`) |
//! | `v_<b>` | SS | hashes of the values seen in bucket `b` (`value_count`; never the values) |
//! | `o_<b>` | SS | which of the referenced rules matched in bucket `b` (`temporal*`) |
//! | `m_<b>` | SS | ids of the log batches counted in bucket `b` (the retry marker) |
//! | `ep_start`, `ep_last` | N | the current episode: its opening and latest hot point (ms) |
//! | `ep_by` | SS | the log batches of the flush that opened it |
//! | `expires_at` | N | TTL: the newest bucket's end + timespan + lateness + one day |
//!
//! **A flush** sends, per key, **one** `UpdateItem` that `ADD`s the batch's counts to their
//! buckets and its batch id to each bucket's marker set, conditional on none of those markers
//! being there yet (a retried batch, Kinesis bisection included, is never counted twice: when
//! the condition fails, `ReturnValuesOnConditionCheckFailure=ALL_OLD` says which parts were
//! counted, and the rest is sent again). `ReturnValues=ALL_NEW` returns every bucket, so the
//! process evaluates the spans ending at its own events' times. Only when one is hot does it
//! write again: a conditional claim of a new episode (`ep_last` absent or more than a
//! timespan before the hot point), which exactly one process wins, or the extension of the
//! open one. So a key costs one request per batch, two while it is hot.
//!
//! **The bound.** A span is evaluated over whole buckets, so the shared form measures spans of
//! up to `timespan × 1.1` (one extra bucket at the start): it may fire where the exact
//! in-process count, short of the threshold by the events of one bucket, would not; it never
//! misses a span the in-process count catches. Temporal order is checked at bucket
//! granularity. Buckets older than the timespan plus [`LATENESS_MS`] behind the newest are
//! removed by the next update that sees them.
//!
//! **Items stay within DynamoDB's 400 KB under any flood.** A `value_count` item keeps at
//! most [`MAX_ITEM_VALUES`] value hashes (and a bucket at most as many as the threshold needs:
//! the decision stays exact); a bucket keeps at most [`MAX_MARKERS_PER_BUCKET`] retry markers
//! (past them its counts are added without one: a retried batch may count twice there, which
//! can only add an alert, never hide one). What is not stored is counted
//! ([`FlushReport::overflow`]), and an update DynamoDB still refuses for the item's size is
//! counted the same way instead of failing the batch.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

mod plan;

use super::shared::{
    BatchId, Crossing, FlushFuture, FlushReport, SharedBatch, SharedHot, SharedKey,
    SharedWindowStore, StoreError, Witness,
};
use super::sliding::{Episode, Spec};
use crate::error::AwsErrorKind;
use crate::time::EventTime;
use plan::*;
pub use plan::{
    BUCKETS_PER_SPAN, LATENESS_MS, MAX_IN_FLIGHT, MAX_ITEM_VALUES, MAX_MARKERS_PER_BUCKET,
    MAX_MARKERS_PER_UPDATE, MAX_VALUES_PER_BUCKET, TTL_ATTRIBUTE, TTL_GRACE_SECS, UpdatePlan,
    bucket_width, item_key,
};

/// What a flush did to one key.
#[derive(Debug, Default)]
struct KeyOutcome {
    crossing: Option<Crossing>,
    hot: Vec<SharedHot>,
    requests: u64,
    already_counted: u64,
    overflow: u64,
}

/// Correlation counts in a DynamoDB table (partition key `pk`, a string; TTL on
/// `expires_at`). Needs `dynamodb:UpdateItem` on the table, nothing else.
#[derive(Debug, Clone)]
pub struct DynamoWindowStore {
    client: aws_sdk_dynamodb::Client,
    table: Arc<str>,
    /// Per item: the stale attributes its last returned state showed.
    stale: Arc<Mutex<HashMap<String, Vec<String>>>>,
    /// Per item: how full its last returned state was.
    fullness: Arc<Mutex<HashMap<String, Fullness>>>,
}

impl DynamoWindowStore {
    /// A store over `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoWindowStore {
            client,
            table: Arc::from(table.into()),
            stale: Arc::new(Mutex::new(HashMap::new())),
            fullness: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn error(&self, kind: AwsErrorKind, message: String) -> StoreError {
        StoreError {
            kind,
            message: format!("DynamoDB table {}: {message}", self.table),
        }
    }

    /// Sends one update: `Ok(Ok(item after))` when applied, `Ok(Err(item as it is))` when its
    /// condition failed.
    async fn send(&self, pk: &str, plan: UpdatePlan) -> Result<Result<Item, Item>, StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .key(PK, AttributeValue::S(pk.to_owned()))
            .update_expression(plan.update)
            .set_expression_attribute_names(Some(plan.names))
            .set_expression_attribute_values((!plan.values.is_empty()).then_some(plan.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if !plan.condition.is_empty() {
            req = req.condition_expression(plan.condition);
        }
        match req.send().await {
            Ok(out) => Ok(Ok(out.attributes().cloned().unwrap_or_default())),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                let item = match e.err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => {
                        c.item().cloned().unwrap_or_default()
                    }
                    _ => HashMap::new(),
                };
                Ok(Err(item))
            }
            Err(e) => {
                let (kind, text) = crate::error::classify(&e);
                Err(self.error(kind, format!("UpdateItem: {text}")))
            }
        }
    }

    fn take_stale(&self, pk: &str) -> Vec<String> {
        self.stale
            .lock()
            .ok()
            .and_then(|mut m| m.remove(pk))
            .unwrap_or_default()
    }

    fn fullness(&self, pk: &str) -> Fullness {
        self.fullness
            .lock()
            .ok()
            .and_then(|m| m.get(pk).cloned())
            .unwrap_or_default()
    }

    fn remember_fullness(&self, pk: &str, item: &Item) {
        if let Ok(mut m) = self.fullness.lock() {
            if m.len() >= MAX_CACHED_KEYS {
                m.clear();
            }
            m.insert(pk.to_owned(), Fullness::of(item));
        }
    }

    fn remember_stale(&self, pk: &str, item: &Item, spec: &Spec) {
        let stale = stale_attributes(item, spec);
        if let Ok(mut m) = self.stale.lock() {
            if m.len() >= MAX_CACHED_KEYS {
                m.clear();
            }
            if !stale.is_empty() {
                m.insert(pk.to_owned(), stale);
            }
        }
    }

    /// Counts one key's matches; returns the item as it stands afterwards.
    async fn count(
        &self,
        pk: &str,
        k: &SharedKey,
        out: &mut KeyOutcome,
    ) -> Result<Item, StoreError> {
        let w = bucket_width(&k.spec);
        let full = self.fullness(pk);
        let (adds, overflow) = bounded_adds(&k.spec, &k.points, w, &full);
        let mut adds = adds;
        out.overflow += overflow;
        let newest = k
            .points
            .iter()
            .map(|p| p.point.time)
            .max()
            .unwrap_or(EventTime::EPOCH);
        let expires_at = newest
            .add_millis(k.spec.timespan_ms + LATENESS_MS)
            .as_millis()
            .div_euclid(1000)
            .saturating_add(TTL_GRACE_SECS);
        let mut stale = self.take_stale(pk);
        let mut last_item = None;
        let mut attempts = 0;
        while !adds.is_empty() {
            attempts += 1;
            if attempts > MAX_ATTEMPTS {
                return Err(self.error(
                    AwsErrorKind::Other,
                    format!("key {pk} still refused after {MAX_ATTEMPTS} attempts"),
                ));
            }
            // At most MAX_MARKERS_PER_UPDATE (bucket, batch) parts per request.
            let chunk: Vec<(i64, BatchId)> =
                adds.keys().take(MAX_MARKERS_PER_UPDATE).copied().collect();
            let mut merged: BTreeMap<i64, BucketAdd> = BTreeMap::new();
            for key in &chunk {
                let a = &adds[key];
                let m = merged.entry(key.0).or_default();
                m.count += a.count;
                m.sum += a.sum;
                m.values.extend(&a.values);
                m.sources.extend(&a.sources);
                m.batches.extend(&a.batches);
            }
            out.requests += 1;
            let plan = plan_count(&k.spec, &merged, expires_at, &stale);
            let sent = match self.send(pk, plan).await {
                Err(e) if e.message.contains("size") && e.message.contains("item") => {
                    // The item is at DynamoDB's size limit despite the bounds: what is left is
                    // counted as overflow; the batch goes on.
                    tracing::warn!(key = %pk, error = %e.message, "window item full: counts not stored");
                    out.overflow += adds.len() as u64;
                    break;
                }
                other => other?,
            };
            match sent {
                Ok(item) => {
                    for key in &chunk {
                        adds.remove(key);
                    }
                    stale.clear();
                    last_item = Some(item);
                }
                Err(item) => {
                    // Parts counted before (a retried batch): drop them, send the rest.
                    let before = adds.len();
                    adds.retain(|(b, batch), _| {
                        !string_set(&item, &format!("m_{b}")).any(|m| *m == hex(*batch))
                    });
                    out.already_counted += (before - adds.len()) as u64;
                    // Stale attributes may have gone already: drop the removal.
                    stale.clear();
                    last_item = Some(item);
                }
            }
        }
        Ok(last_item.unwrap_or_default())
    }

    async fn flush_key(&self, k: SharedKey) -> Result<KeyOutcome, StoreError> {
        let mut out = KeyOutcome::default();
        let pk = item_key(&k.rule_id, k.key.group);
        let item = self.count(&pk, &k, &mut out).await?;
        self.remember_stale(&pk, &item, &k.spec);
        self.remember_fullness(&pk, &item);
        let hot = hot_points(&item, &k);
        let (Some(first), Some(last)) = (hot.first().copied(), hot.last().copied()) else {
            return Ok(out);
        };
        for (t, _, _, w) in &hot {
            out.hot.push(SharedHot {
                corr: k.corr,
                key: k.key,
                group: Arc::clone(&k.group),
                time: *t,
                witness: Arc::clone(w),
            });
        }
        let ours: Vec<BatchId> = {
            let mut b: Vec<BatchId> = k.points.iter().map(|p| p.batch).collect();
            b.sort_unstable();
            b.dedup();
            b
        };
        let span = k.spec.timespan_ms;
        let crossing = |episode: Episode| Crossing {
            corr: k.corr,
            group: k.group.to_string(),
            episode,
            measure: first.1,
            span_start: first.2,
            key: k.key,
            witness: (**first.3).clone(),
        };
        let open = episode(&item).filter(|e| {
            first.0.millis_since(e.last_hot) <= span && e.start.millis_since(first.0) <= span
        });
        if let Some(e) = open {
            // A retry of the batch that opened it gets the alert again (same id): the first
            // delivery's alert may never have been published.
            if string_set(&item, EP_BY).any(|b| ours.iter().any(|o| hex(*o) == *b)) {
                out.crossing = Some(crossing(e));
            }
            if last.0 > e.last_hot {
                out.requests += 1;
                self.send(&pk, plan_extend(last.0)).await?.ok();
            }
            return Ok(out);
        }
        out.requests += 1;
        match self
            .send(&pk, plan_claim(first.0, last.0, span, &ours))
            .await?
        {
            Ok(_) => {
                out.crossing = Some(crossing(Episode {
                    start: first.0,
                    last_hot: last.0,
                }));
            }
            Err(now) => {
                // Another process opened or extended it a moment ago: extend.
                if episode(&now).is_some_and(|e| last.0 > e.last_hot) {
                    out.requests += 1;
                    self.send(&pk, plan_extend(last.0)).await?.ok();
                }
            }
        }
        Ok(out)
    }
}

/// The spans ending at a flush's own events that are over the threshold: (event time,
/// measure, span start, witness), in time order, one per time.
fn hot_points<'a>(
    item: &Item,
    k: &'a SharedKey,
) -> Vec<(EventTime, f64, EventTime, &'a Arc<Witness>)> {
    let mut times: Vec<(EventTime, &Arc<Witness>)> = k
        .points
        .iter()
        .map(|p| (p.point.time, &p.witness))
        .collect();
    times.sort_by_key(|(t, _)| *t);
    times.dedup_by_key(|(t, _)| *t);
    let mut hot: Vec<(EventTime, f64, EventTime, &Arc<Witness>)> = Vec::new();
    for (t, w) in times {
        if let Some((measure, start)) = hot_at(item, &k.spec, t) {
            hot.push((t, measure, start, w));
        }
    }
    hot
}

/// The episode an item records, if any.
fn episode(item: &Item) -> Option<Episode> {
    Some(Episode {
        start: EventTime::from_millis(number(item, EP_START)? as i64)?,
        last_hot: EventTime::from_millis(number(item, EP_LAST)? as i64)?,
    })
}

impl SharedWindowStore for DynamoWindowStore {
    fn flush(&self, pending: SharedBatch) -> FlushFuture<'_> {
        Box::pin(async move {
            let mut report = FlushReport::default();
            let mut tasks = tokio::task::JoinSet::new();
            let mut results = Vec::new();
            for (_, k) in pending.keys {
                if tasks.len() >= MAX_IN_FLIGHT
                    && let Some(r) = tasks.join_next().await
                {
                    results.push(r);
                }
                let store = self.clone();
                tasks.spawn(async move { store.flush_key(k).await });
            }
            while let Some(r) = tasks.join_next().await {
                results.push(r);
            }
            let mut first_error = None;
            for r in results {
                match r {
                    Ok(Ok(o)) => {
                        report.requests += o.requests;
                        report.keys += 1;
                        report.parts_already_counted += o.already_counted;
                        report.overflow += o.overflow;
                        report.crossings.extend(o.crossing);
                        report.hot.extend(o.hot);
                    }
                    Ok(Err(e)) => {
                        first_error.get_or_insert(e);
                    }
                    Err(e) => {
                        first_error.get_or_insert(self.error(
                            AwsErrorKind::Other,
                            format!("window update task failed: {e}"),
                        ));
                    }
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            report.crossings.sort_by(|a, b| {
                (a.corr, a.key, a.episode.start).cmp(&(b.corr, b.key, b.episode.start))
            });
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::sliding::Measure;
    use std::collections::BTreeSet;

    fn spec(measure: Measure, threshold: f64) -> Spec {
        Spec {
            measure,
            threshold,
            timespan_ms: 300_000,
        }
    }

    #[test]
    fn one_update_adds_counts_and_markers_in_the_same_write() {
        let mut adds = BTreeMap::new();
        adds.insert(
            10,
            BucketAdd {
                count: 3,
                batches: [0xab, 0xcd].into_iter().collect(),
                ..BucketAdd::default()
            },
        );
        let p = plan_count(&spec(Measure::Count, 10.0), &adds, 99, &["c_1".to_owned()]);
        let names: BTreeSet<&String> = p.names.values().collect();
        assert!(names.contains(&"c_10".to_owned()) && names.contains(&"m_10".to_owned()));
        assert!(
            p.update.starts_with("ADD ")
                && p.update.contains(" SET ")
                && p.update.contains(" REMOVE ")
        );
        assert_eq!(p.condition.matches("NOT contains(").count(), 2);
        assert!(
            p.values
                .values()
                .any(|v| *v == AttributeValue::N("3".into()))
        );
    }

    #[test]
    fn spans_are_measured_over_whole_buckets() {
        let s = spec(Measure::Count, 10.0);
        let w = bucket_width(&s);
        assert_eq!(w, 30_000);
        let mut item = Item::new();
        // 6 events in the bucket just before the span's start, 4 inside: the bucketed span
        // (up to 1.1 x timespan) holds 10, the stated over-approximation.
        let t = EventTime::from_millis(10 * 300_000).expect("time");
        let first = t.add_millis(-300_000).as_millis().div_euclid(w);
        item.insert(format!("c_{first}"), AttributeValue::N("6".into()));
        item.insert(format!("c_{}", first + 5), AttributeValue::N("4".into()));
        assert!(hot_at(&item, &s, t).is_some());
        // One bucket further on, the old events are out of every span.
        assert!(hot_at(&item, &s, t.add_millis(w)).is_none());
    }

    fn witness() -> Arc<crate::correlate::shared::Witness> {
        Arc::new(crate::correlate::shared::Witness {
            log_group: "g".into(),
            log_stream: "s".into(),
            event_id: "1".into(),
            time: EventTime::EPOCH,
        })
    }

    #[test]
    fn a_flood_of_distinct_values_stays_within_the_items_bound() {
        let s = spec(Measure::Distinct, 20.0);
        let w = bucket_width(&s);
        let points: Vec<crate::correlate::shared::SharedPoint> = (0..50_000u64)
            .map(|i| crate::correlate::shared::SharedPoint {
                point: crate::correlate::Point {
                    time: EventTime::clamped(1_795_600_800_000 + (i as i64 % 600) * 1000),
                    event: i,
                    value: i,
                    num: 0.0,
                    source: 0,
                },
                batch: 7,
                witness: witness(),
            })
            .collect();
        let (adds, overflow) = bounded_adds(&s, &points, w, &Fullness::default());
        let kept: usize = adds.values().map(|a| a.values.len()).sum();
        assert!(kept <= MAX_ITEM_VALUES, "{kept}");
        // Every bucket holds what the threshold needs, no more; the values past that need
        // are no loss (the threshold is reached in the bucket), so no overflow.
        assert!(adds.values().all(|a| a.values.len() <= 20));
        assert_eq!(overflow, 0);
        // An item seen full gets no more values (each counted as overflow), and the update
        // is still valid.
        let full = Fullness {
            total_values: MAX_ITEM_VALUES,
            ..Fullness::default()
        };
        let (adds, overflow) = bounded_adds(&s, &points[..10], w, &full);
        assert_eq!(overflow, 10);
        let merged: BTreeMap<i64, BucketAdd> = adds.into_iter().map(|((b, _), a)| (b, a)).collect();
        let plan = plan_count(&s, &merged, 0, &[]);
        assert!(!plan.update.contains("ADD"), "{}", plan.update);
    }

    #[test]
    fn a_bucket_with_full_markers_counts_without_one() {
        let s = spec(Measure::Count, 5.0);
        let w = bucket_width(&s);
        let p = crate::correlate::shared::SharedPoint {
            point: crate::correlate::Point {
                time: EventTime::clamped(1_795_600_800_000),
                event: 1,
                value: 1,
                num: 0.0,
                source: 0,
            },
            batch: 9,
            witness: witness(),
        };
        let b = p.point.time.as_millis().div_euclid(w);
        let mut full = Fullness::default();
        full.markers.insert(b, MAX_MARKERS_PER_BUCKET);
        let (adds, overflow) = bounded_adds(&s, &[p], w, &full);
        assert_eq!(overflow, 1);
        let merged: BTreeMap<i64, BucketAdd> = adds.into_iter().map(|((b, _), a)| (b, a)).collect();
        let plan = plan_count(&s, &merged, 0, &[]);
        assert!(plan.condition.is_empty(), "{}", plan.condition);
        assert!(plan.update.contains("ADD"), "{}", plan.update);
    }

    #[test]
    fn stale_buckets_are_found() {
        let s = spec(Measure::Count, 10.0);
        let mut item = Item::new();
        for b in [1, 2, 1000] {
            item.insert(format!("c_{b}"), AttributeValue::N("1".into()));
            item.insert(format!("m_{b}"), AttributeValue::Ss(vec!["x".into()]));
        }
        item.insert(EP_LAST.into(), AttributeValue::N("5".into()));
        let mut stale = stale_attributes(&item, &s);
        stale.sort();
        assert_eq!(stale, ["c_1", "c_2", "m_1", "m_2"]);
    }
}
