//! Correlation windows shared through DynamoDB, exact across concurrent Lambda instances.
//!
//! One item per (rule, group value, window start), key `pk`:
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `events` | N | `event_count`: events counted |
//! | `values` | SS | `value_count`: hashes of the distinct values (16 hex digits each, never the values) |
//! | `batches` | SS | `event_count`: ids of the log batches counted (the retry marker) |
//! | `fired_by` | SS | the batch ids of the flush that claimed the threshold alert |
//! | `fired_before`, `fired_count` | N | the count before and after that flush |
//! | `expires_at` | N | TTL: window end + [`TTL_GRACE_SECS`] (epoch seconds) |
//!
//! A flush sends, per window, **one** `UpdateItem` with `ADD` (pre-aggregated over every log
//! batch of the invocation), `ReturnValues=UPDATED_OLD`, and a condition that the alert has not
//! been claimed yet and (for `event_count`) that none of the batches was counted before. The
//! old count plus what this flush added gives the new count: when the count is at or above the
//! threshold and no one has claimed the alert, the process claims it with a conditional write
//! (`attribute_not_exists(fired_by)`), which exactly one process wins — normally the one whose
//! update crossed the threshold, a few milliseconds earlier. So each (rule, group, window)
//! alerts once however many instances count it.
//!
//! Retries: a batch delivered again (Lambda retry, Kinesis partial-batch retry or bisection)
//! is not counted twice. For `event_count` the item remembers the ids of the batches it
//! counted and the update is conditional on none of this flush's batches being among them;
//! when the condition fails, the item (`ReturnValuesOnConditionCheckFailure=ALL_OLD`) says
//! which were, and the update is sent again without them. The marker lives in the counted item
//! itself, so counting and marking are one atomic write: a crash can never leave a batch
//! marked but not counted, or counted but not marked. `value_count` needs no marker: adding a
//! value to a set twice leaves the set as it was. A retried batch that was part of the flush
//! that claimed the alert gets the alert again (same id), so an alert whose publishing failed
//! is not lost.
//!
//! Bounds: the marker set holds at most [`MAX_MARKERS`] batch ids (past that, counting goes
//! on without the retry marker, and the flush report counts such parts); each update sends
//! at most `min(threshold, MAX_VALUES_PER_UPDATE)` values not already known to be in the set,
//! which is exact for the threshold test (a set that reaches the threshold with all of them
//! reaches it with the first `threshold`), and once the alert is claimed every update is
//! refused, so a set never grows much past its threshold. Processes remember (bounded) which
//! windows have fired and which values they hold, and send nothing for those.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{
    BatchId, Crossing, FlushFuture, FlushReport, PendingCounts, PendingWindow, SharedWindowStore,
    StoreError, WindowKey, Witness,
};

/// Items expire this long after their window ends: longer than Lambda keeps retrying an
/// asynchronous event (6 hours) and than a Kinesis record is retried under the template's
/// settings, so a late retry still finds its markers.
pub const TTL_GRACE_SECS: i64 = 24 * 3600;
/// Most batch ids remembered per window (17 bytes each).
pub const MAX_MARKERS: usize = 500;
/// Most values one update adds to a `value_count` set.
pub const MAX_VALUES_PER_UPDATE: usize = 1000;
/// Most batches in one update (each adds a clause to the condition; DynamoDB caps
/// expressions at 4 KB).
pub const MAX_BATCHES_PER_UPDATE: usize = 32;
/// Updates in flight at once during a flush.
pub const MAX_IN_FLIGHT: usize = 16;
/// Windows remembered per process (fired, known values).
const MAX_CACHED_WINDOWS: usize = 20_000;
/// Attempts per window before the flush gives up (conditions failing for other reasons).
const MAX_ATTEMPTS: u32 = 8;
/// Partition keys longer than this hash their group value.
const MAX_KEY_BYTES: usize = 1024;

const PK: &str = "pk";
const EVENTS: &str = "events";
const VALUES: &str = "values";
const BATCHES: &str = "batches";
const FIRED_BY: &str = "fired_by";
const FIRED_BEFORE: &str = "fired_before";
const FIRED_COUNT: &str = "fired_count";
/// The table's TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The partition key of a window's item: `rule#start_ms#group` (the group hashed when long).
pub fn item_key(key: &WindowKey) -> String {
    let pk = format!("{}#{}#{}", key.rule, key.start_ms, key.group);
    if pk.len() <= MAX_KEY_BYTES {
        return pk;
    }
    let h = super::stable_hash(&[&key.group]);
    format!("{}#{}#sha256:{h:016x}", key.rule, key.start_ms)
}

fn hex(v: u64) -> String {
    format!("{v:016x}")
}

/// One UpdateItem (or claim) request, built apart from sending it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatePlan {
    /// `UpdateExpression`.
    pub update: String,
    /// `ConditionExpression`.
    pub condition: String,
    /// `ExpressionAttributeNames`.
    pub names: HashMap<String, String>,
    /// `ExpressionAttributeValues`.
    pub values: HashMap<String, AttributeValue>,
}

/// One batch's share of an update, after what is known to be stored was taken out.
#[derive(Debug, Clone)]
struct Part<'a> {
    batch: BatchId,
    events: u64,
    /// `value_count`: (value hash, its witness when one was kept).
    values: Vec<(u64, Option<&'a Witness>)>,
    witnesses: &'a [Witness],
}

fn names(list: &[&str]) -> HashMap<String, String> {
    list.iter()
        .map(|n| (format!("#{n}"), (*n).to_owned()))
        .collect()
}

/// The values one update sends: the parts' values in order, at most `limit`.
fn values_to_send(parts: &[Part<'_>], limit: usize) -> Vec<u64> {
    parts
        .iter()
        .flat_map(|p| p.values.iter().map(|(v, _)| *v))
        .take(limit)
        .collect()
}

fn value_limit(threshold: u64) -> usize {
    (threshold.max(1) as usize).min(MAX_VALUES_PER_UPDATE)
}

/// The counting update of one window for `parts`. `marked`: `event_count` with the retry
/// marker.
fn plan_update(
    expires_at: i64,
    parts: &[Part<'_>],
    distinct: bool,
    threshold: u64,
    marked: bool,
) -> UpdatePlan {
    let mut values = HashMap::new();
    values.insert(":exp".to_owned(), AttributeValue::N(expires_at.to_string()));
    let mut condition = String::from("attribute_not_exists(#fired_by)");
    let (update, names) = if distinct {
        let sent = values_to_send(parts, value_limit(threshold));
        values.insert(
            ":vs".to_owned(),
            AttributeValue::Ss(sent.into_iter().map(hex).collect()),
        );
        (
            "ADD #values :vs SET #expires_at = :exp".to_owned(),
            names(&[VALUES, TTL_ATTRIBUTE, FIRED_BY]),
        )
    } else {
        let n: u64 = parts.iter().map(|p| p.events).sum();
        values.insert(":n".to_owned(), AttributeValue::N(n.to_string()));
        if marked {
            let ids: Vec<String> = parts.iter().map(|p| hex(p.batch)).collect();
            let room = MAX_MARKERS.saturating_sub(ids.len());
            values.insert(":room".to_owned(), AttributeValue::N(room.to_string()));
            condition.push_str(" AND (attribute_not_exists(#batches) OR size(#batches) <= :room)");
            for (i, id) in ids.iter().enumerate() {
                condition.push_str(&format!(" AND NOT contains(#batches, :b{i})"));
                values.insert(format!(":b{i}"), AttributeValue::S(id.clone()));
            }
            values.insert(":bs".to_owned(), AttributeValue::Ss(ids));
            (
                "ADD #events :n, #batches :bs SET #expires_at = :exp".to_owned(),
                names(&[EVENTS, BATCHES, TTL_ATTRIBUTE, FIRED_BY]),
            )
        } else {
            (
                "ADD #events :n SET #expires_at = :exp".to_owned(),
                names(&[EVENTS, TTL_ATTRIBUTE, FIRED_BY]),
            )
        }
    };
    UpdatePlan {
        update,
        condition,
        names,
        values,
    }
}

/// The claim of a window's alert by the batches `ids`, which took the count from `before` to
/// `count`.
fn plan_claim(ids: &[BatchId], before: u64, count: u64) -> UpdatePlan {
    let mut values = HashMap::new();
    values.insert(
        ":ids".to_owned(),
        AttributeValue::Ss(ids.iter().map(|b| hex(*b)).collect()),
    );
    values.insert(":before".to_owned(), AttributeValue::N(before.to_string()));
    values.insert(":count".to_owned(), AttributeValue::N(count.to_string()));
    UpdatePlan {
        update: "ADD #fired_by :ids SET #fired_before = :before, #fired_count = :count".to_owned(),
        condition: "attribute_not_exists(#fired_by)".to_owned(),
        names: names(&[FIRED_BY, FIRED_BEFORE, FIRED_COUNT]),
        values,
    }
}

/// The event that took the count to the threshold: the `(threshold - before)`-th new event or
/// value of `parts` (`old_values`: the set before, for `value_count`).
fn witness_of<'a>(
    parts: &[Part<'a>],
    distinct: bool,
    threshold: u64,
    before: u64,
    old_values: Option<&HashSet<String>>,
) -> Option<&'a Witness> {
    let mut k = threshold.saturating_sub(before).saturating_sub(1) as usize;
    let mut last = None;
    if distinct {
        for (v, w) in parts.iter().flat_map(|p| p.values.iter()) {
            if old_values.is_some_and(|old| old.contains(&hex(*v))) {
                continue;
            }
            last = w.or(last);
            if k == 0 {
                return w.or(last);
            }
            k -= 1;
        }
        return last;
    }
    for p in parts {
        if let Some(w) = p.witnesses.last() {
            last = Some(w);
        }
        if (k as u64) < p.events {
            return p.witnesses.get(k).or(last);
        }
        k -= p.events as usize;
    }
    last
}

/// The count an alert reports: the count at the event that reached the threshold, which is
/// the threshold itself when this update crossed it (as with in-process windows, whose
/// alerts fire at the event that reaches it), else the count after the update.
fn reported_count(threshold: u64, before: u64, after: u64) -> u64 {
    if before < threshold { threshold } else { after }
}

/// A claimed alert, as read back from an item.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Claim {
    by: HashSet<String>,
    before: u64,
    count: u64,
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn string_set(item: &HashMap<String, AttributeValue>, name: &str) -> HashSet<String> {
    item.get(name)
        .and_then(|v| v.as_ss().ok())
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

fn claim_of(item: &HashMap<String, AttributeValue>) -> Option<Claim> {
    let by = string_set(item, FIRED_BY);
    (!by.is_empty()).then(|| Claim {
        by,
        before: number(item, FIRED_BEFORE),
        count: number(item, FIRED_COUNT),
    })
}

/// What this process knows of a window: it fired (and how), and values it certainly holds.
#[derive(Debug, Default)]
struct Known {
    start_ms: i64,
    claim: Option<Claim>,
    values: HashSet<u64>,
}

#[derive(Debug, Default)]
struct Cache {
    windows: HashMap<String, Known>,
}

impl Cache {
    fn entry(&mut self, pk: &str, start_ms: i64) -> &mut Known {
        if !self.windows.contains_key(pk) && self.windows.len() >= MAX_CACHED_WINDOWS {
            // Forget the oldest tenth at once (amortised O(1) per insert).
            let mut starts: Vec<(i64, String)> = self
                .windows
                .iter()
                .map(|(k, v)| (v.start_ms, k.clone()))
                .collect();
            starts.sort();
            for (_, k) in starts.into_iter().take(MAX_CACHED_WINDOWS / 10) {
                self.windows.remove(&k);
            }
        }
        self.windows.entry(pk.to_owned()).or_insert_with(|| Known {
            start_ms,
            ..Known::default()
        })
    }
}

/// What a flush did to one window.
#[derive(Debug, Default)]
struct WindowOutcome {
    crossing: Option<Crossing>,
    requests: u64,
    skipped: bool,
    already_counted: u64,
    unmarked: u64,
}

/// Window counts in a DynamoDB table (partition key `pk`, a string; TTL on `expires_at`).
/// Needs `dynamodb:UpdateItem` on the table, nothing else.
#[derive(Debug, Clone)]
pub struct DynamoWindowStore {
    client: aws_sdk_dynamodb::Client,
    table: Arc<str>,
    cache: Arc<Mutex<Cache>>,
}

impl DynamoWindowStore {
    /// A store over `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoWindowStore {
            client,
            table: Arc::from(table.into()),
            cache: Arc::new(Mutex::new(Cache::default())),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn known(&self, pk: &str, start_ms: i64, f: impl FnOnce(&mut Known)) {
        if let Ok(mut c) = self.cache.lock() {
            f(c.entry(pk, start_ms));
        }
    }

    /// Sends one update; `Ok(Ok(old attributes))` when it was applied, `Ok(Err(item))` when
    /// its condition failed (with the item as it is).
    async fn send(
        &self,
        pk: &str,
        plan: UpdatePlan,
    ) -> Result<Result<HashMap<String, AttributeValue>, HashMap<String, AttributeValue>>, StoreError>
    {
        let r = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .key(PK, AttributeValue::S(pk.to_owned()))
            .update_expression(plan.update)
            .condition_expression(plan.condition)
            .set_expression_attribute_names(Some(plan.names))
            .set_expression_attribute_values(Some(plan.values))
            .return_values(ReturnValue::UpdatedOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match r {
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
                let cause = match (e.code(), e.message()) {
                    (Some(code), Some(msg)) => format!("{code}: {msg}"),
                    (Some(code), None) => code.to_owned(),
                    _ => DisplayErrorContext(&e).to_string(),
                };
                Err(StoreError::Backend(format!(
                    "DynamoDB UpdateItem on table {} failed: {cause}",
                    self.table
                )))
            }
        }
    }

    /// Claims the alert of `pk` for `ids`; returns the claim that holds afterwards (ours or
    /// another process's).
    async fn claim(
        &self,
        pk: &str,
        start_ms: i64,
        ids: &[BatchId],
        before: u64,
        count: u64,
        out: &mut WindowOutcome,
    ) -> Result<Claim, StoreError> {
        out.requests += 1;
        let claim = match self.send(pk, plan_claim(ids, before, count)).await? {
            Ok(_) => Claim {
                by: ids.iter().map(|b| hex(*b)).collect(),
                before,
                count,
            },
            Err(item) => claim_of(&item).ok_or_else(|| {
                StoreError::Backend(format!(
                    "DynamoDB table {}: the claim of {pk} was refused but no claim is stored",
                    self.table
                ))
            })?,
        };
        self.known(pk, start_ms, |k| k.claim = Some(claim.clone()));
        Ok(claim)
    }

    async fn flush_window(
        &self,
        key: WindowKey,
        w: PendingWindow,
    ) -> Result<WindowOutcome, StoreError> {
        let mut out = WindowOutcome::default();
        let pk = item_key(&key);
        let expires_at = (w.end_ms.div_euclid(1000)).saturating_add(TTL_GRACE_SECS);
        let (claimed, known_values) = match self.cache.lock() {
            Ok(c) => match c.windows.get(&pk) {
                Some(k) => (k.claim.clone(), k.values.clone()),
                None => (None, HashSet::new()),
            },
            Err(_) => (None, HashSet::new()),
        };
        let crossing = |count: u64, witness: Option<&Witness>, repeated: bool| Crossing {
            key: key.clone(),
            tag: w.tag,
            count,
            witness: witness.cloned(),
            repeated,
        };
        let full_parts: Vec<Part<'_>> = w
            .parts
            .iter()
            .map(|p| Part {
                batch: p.batch,
                events: p.events,
                values: p
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (*v, p.witnesses.get(i)))
                    .collect(),
                witnesses: &p.witnesses,
            })
            .collect();
        // The parts, less the values this process knows are stored.
        let mut parts = full_parts.clone();
        for p in &mut parts {
            p.values.retain(|(v, _)| !known_values.contains(v));
        }
        // A claim holds whatever comes later: only a batch of the claiming flush repeats it.
        let repeat = |claim: &Claim, parts: &[Part<'_>]| -> Option<Crossing> {
            let ours: Vec<Part<'_>> = parts
                .iter()
                .filter(|p| claim.by.contains(&hex(p.batch)))
                .cloned()
                .collect();
            (!ours.is_empty()).then(|| {
                crossing(
                    claim.count,
                    witness_of(&ours, w.distinct, w.threshold, claim.before, None),
                    true,
                )
            })
        };
        if let Some(claim) = &claimed {
            out.skipped = true;
            out.crossing = repeat(claim, &full_parts);
            return Ok(out);
        }
        if w.distinct {
            parts.retain(|p| !p.values.is_empty());
            if parts.is_empty() {
                out.skipped = true;
                return Ok(out);
            }
        }
        let mut marked = !w.distinct;
        let all_parts = parts.clone();
        for chunk in all_parts.chunks(MAX_BATCHES_PER_UPDATE) {
            let mut group: Vec<Part<'_>> = chunk.to_vec();
            let mut attempts = 0;
            while !group.is_empty() {
                attempts += 1;
                if attempts > MAX_ATTEMPTS {
                    return Err(StoreError::Backend(format!(
                        "DynamoDB table {}: window {pk} still refused after {MAX_ATTEMPTS} attempts",
                        self.table
                    )));
                }
                out.requests += 1;
                let plan = plan_update(expires_at, &group, w.distinct, w.threshold, marked);
                match self.send(&pk, plan).await? {
                    Ok(old) => {
                        if !marked {
                            out.unmarked += group.len() as u64;
                        }
                        let ids: Vec<BatchId> = group.iter().map(|p| p.batch).collect();
                        let (before, count, old_values) = if w.distinct {
                            let old = string_set(&old, VALUES);
                            let sent = values_to_send(&group, value_limit(w.threshold));
                            let mut now: HashSet<u64> = old
                                .iter()
                                .filter_map(|h| u64::from_str_radix(h, 16).ok())
                                .collect();
                            now.extend(sent);
                            let before = old.len() as u64;
                            let count = now.len() as u64;
                            self.known(&pk, key.start_ms, |k| k.values.extend(now));
                            (before, count, Some(old))
                        } else {
                            let before = number(&old, EVENTS);
                            let n: u64 = group.iter().map(|p| p.events).sum();
                            (before, before + n, None)
                        };
                        if count >= w.threshold {
                            let count = reported_count(w.threshold, before, count);
                            let claim = self
                                .claim(&pk, key.start_ms, &ids, before, count, &mut out)
                                .await?;
                            if claim.by.iter().any(|b| ids.iter().any(|i| hex(*i) == *b)) {
                                let witness = witness_of(
                                    &group,
                                    w.distinct,
                                    w.threshold,
                                    before,
                                    old_values.as_ref(),
                                );
                                out.crossing = Some(crossing(count, witness, false));
                            }
                            return Ok(out);
                        }
                        group.clear();
                    }
                    Err(item) => {
                        if let Some(claim) = claim_of(&item) {
                            self.known(&pk, key.start_ms, |k| k.claim = Some(claim.clone()));
                            out.crossing = repeat(&claim, &full_parts);
                            return Ok(out);
                        }
                        // Batches counted before (a retry): drop them, send the rest.
                        let counted = string_set(&item, BATCHES);
                        let n = group.len();
                        let (done, rest): (Vec<Part<'_>>, Vec<Part<'_>>) = group
                            .into_iter()
                            .partition(|p| counted.contains(&hex(p.batch)));
                        group = rest;
                        if !done.is_empty() {
                            out.already_counted += (n - group.len()) as u64;
                            // A delivery that counted them may have stopped before claiming.
                            let count = number(&item, EVENTS);
                            if count >= w.threshold {
                                let ids: Vec<BatchId> = done.iter().map(|p| p.batch).collect();
                                let added: u64 = done.iter().map(|p| p.events).sum();
                                let before = count.saturating_sub(added);
                                let count = reported_count(w.threshold, before, count);
                                let claim = self
                                    .claim(&pk, key.start_ms, &ids, before, count, &mut out)
                                    .await?;
                                out.crossing = repeat(&claim, &full_parts);
                                return Ok(out);
                            }
                        } else if marked && counted.len() + group.len() > MAX_MARKERS {
                            marked = false;
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

impl SharedWindowStore for DynamoWindowStore {
    fn flush(&self, pending: PendingCounts) -> FlushFuture<'_> {
        Box::pin(async move {
            let mut report = FlushReport::default();
            let mut tasks = tokio::task::JoinSet::new();
            let mut results = Vec::new();
            for (key, w) in pending.windows {
                if tasks.len() >= MAX_IN_FLIGHT
                    && let Some(r) = tasks.join_next().await
                {
                    results.push(r);
                }
                let store = self.clone();
                tasks.spawn(async move { store.flush_window(key, w).await });
            }
            while let Some(r) = tasks.join_next().await {
                results.push(r);
            }
            let mut first_error = None;
            for r in results {
                match r {
                    Ok(Ok(o)) => {
                        report.requests += o.requests;
                        if o.skipped {
                            report.windows_skipped += 1;
                        } else {
                            report.windows += 1;
                        }
                        report.parts_already_counted += o.already_counted;
                        report.parts_unmarked += o.unmarked;
                        report.crossings.extend(o.crossing);
                    }
                    Ok(Err(e)) => {
                        first_error.get_or_insert(e);
                    }
                    Err(e) => {
                        first_error.get_or_insert(StoreError::Backend(format!(
                            "window update task failed: {e}"
                        )));
                    }
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            report.crossings.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn witness(id: &str) -> Witness {
        Witness {
            log_group: "g".into(),
            log_stream: "s".into(),
            event_id: id.into(),
            time_ms: 0,
        }
    }

    #[test]
    fn event_count_update_carries_the_retry_marker_in_the_same_write() {
        let ws = [witness("1"), witness("2")];
        let parts = [
            Part {
                batch: 0xab,
                events: 2,
                values: Vec::new(),
                witnesses: &ws,
            },
            Part {
                batch: 0xcd,
                events: 3,
                values: Vec::new(),
                witnesses: &ws,
            },
        ];
        let p = plan_update(1_000, &parts, false, 10, true);
        assert_eq!(
            p.update,
            "ADD #events :n, #batches :bs SET #expires_at = :exp"
        );
        assert_eq!(
            p.condition,
            "attribute_not_exists(#fired_by) AND (attribute_not_exists(#batches) OR size(#batches) <= :room) \
             AND NOT contains(#batches, :b0) AND NOT contains(#batches, :b1)"
        );
        assert_eq!(p.values[":n"], AttributeValue::N("5".into()));
        assert_eq!(
            p.values[":bs"],
            AttributeValue::Ss(vec!["00000000000000ab".into(), "00000000000000cd".into()])
        );
        assert_eq!(p.values[":room"], AttributeValue::N("498".into()));
        assert_eq!(p.names["#expires_at"], TTL_ATTRIBUTE);
        let unmarked = plan_update(1_000, &parts, false, 10, false);
        assert_eq!(unmarked.condition, "attribute_not_exists(#fired_by)");
        assert!(!unmarked.values.contains_key(":bs"));
    }

    #[test]
    fn value_count_sends_at_most_threshold_values() {
        let ws = [witness("1")];
        let parts = [Part {
            batch: 1,
            events: 0,
            values: (0..50u64).map(|v| (v, None)).collect(),
            witnesses: &ws,
        }];
        let p = plan_update(0, &parts, true, 15, false);
        assert_eq!(p.update, "ADD #values :vs SET #expires_at = :exp");
        match &p.values[":vs"] {
            AttributeValue::Ss(s) => assert_eq!(s.len(), 15),
            other => panic!("{other:?}"),
        }
        assert_eq!(p.condition, "attribute_not_exists(#fired_by)");
    }

    #[test]
    fn the_witness_is_the_event_that_reached_the_threshold() {
        let a = [witness("a1"), witness("a2")];
        let b = [witness("b1"), witness("b2"), witness("b3")];
        let parts = [
            Part {
                batch: 1,
                events: 2,
                values: Vec::new(),
                witnesses: &a,
            },
            Part {
                batch: 2,
                events: 3,
                values: Vec::new(),
                witnesses: &b,
            },
        ];
        // 6 before, threshold 10: the 4th event of this flush.
        let w = witness_of(&parts, false, 10, 6, None);
        assert_eq!(w.map(|w| w.event_id.as_str()), Some("b2"));
        let w = witness_of(&parts, false, 10, 0, None);
        assert_eq!(w.map(|w| w.event_id.as_str()), Some("b3"), "clamped");
        // Values: the old set holds value 1, so the 2nd new value is value 3.
        let vs = [witness("v1"), witness("v2"), witness("v3")];
        let vparts = [Part {
            batch: 1,
            events: 0,
            values: vec![(1, Some(&vs[0])), (2, Some(&vs[1])), (3, Some(&vs[2]))],
            witnesses: &vs,
        }];
        let old: HashSet<String> = [hex(1), hex(9)].into_iter().collect();
        let w = witness_of(&vparts, true, 4, 2, Some(&old));
        assert_eq!(w.map(|w| w.event_id.as_str()), Some("v3"));
    }

    #[test]
    fn long_group_values_are_hashed_in_the_key() {
        let short = WindowKey {
            rule: "r".into(),
            group: "1.2.3.4".into(),
            start_ms: 60_000,
        };
        assert_eq!(item_key(&short), "r#60000#1.2.3.4");
        let long = WindowKey {
            group: "x".repeat(5000),
            ..short
        };
        let k = item_key(&long);
        assert!(k.starts_with("r#60000#sha256:") && k.len() < 64, "{k}");
    }
}
