//! The shared window store's requests, built apart from sending them (pure functions, tested
//! without DynamoDB): bucket widths and keys, the counting update within the item's bounds,
//! episode claims, and reading an item's buckets back.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::correlate::shared::{BatchId, SharedPoint};
use crate::correlate::sliding::{Measure, Spec};
use crate::time::EventTime;

/// Items expire this long after their newest bucket could still matter: longer than Lambda
/// keeps retrying an asynchronous event (6 hours), so a late retry still finds its markers.
pub const TTL_GRACE_SECS: i64 = 24 * 3600;
/// Events this far behind the newest bucket of their key still count (as in process).
pub const LATENESS_MS: i64 = 60 * 60 * 1000;
/// Sub-buckets per timespan.
pub const BUCKETS_PER_SPAN: i64 = 10;
/// Most values one update adds to one bucket's set (`value_count`).
pub const MAX_VALUES_PER_BUCKET: usize = 1000;
/// Most (bucket, batch) marker clauses in one condition (DynamoDB caps expressions at 4 KB).
pub const MAX_MARKERS_PER_UPDATE: usize = 24;
/// Updates in flight at once during a flush.
pub const MAX_IN_FLIGHT: usize = 16;
/// Keys whose attribute names this process remembers (to remove stale buckets).
pub(super) const MAX_CACHED_KEYS: usize = 20_000;
/// Attempts per key before the flush gives up (conditions failing for other reasons).
pub(super) const MAX_ATTEMPTS: u32 = 6;

pub(super) const PK: &str = "pk";
pub(super) const EP_START: &str = "ep_start";
pub(super) const EP_LAST: &str = "ep_last";
pub(super) const EP_BY: &str = "ep_by";
/// The table's TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The sub-bucket width of a rule, ms.
pub fn bucket_width(spec: &Spec) -> i64 {
    (spec.timespan_ms / BUCKETS_PER_SPAN).max(1000)
}

/// The item key of a (rule, group) key.
pub fn item_key(rule_id: &str, group: u128) -> String {
    format!("{rule_id}#{group:032x}")
}

pub(super) fn hex(v: u64) -> String {
    format!("{v:016x}")
}

/// What one bucket gains from this flush.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct BucketAdd {
    pub(super) count: u64,
    pub(super) sum: f64,
    pub(super) values: BTreeSet<u64>,
    pub(super) sources: BTreeSet<u8>,
    /// The batches counted, each a retry marker (empty: the bucket's markers are full, its
    /// counts go without one).
    pub(super) batches: BTreeSet<BatchId>,
}

/// Most value hashes one `value_count` item keeps (16 hex digits each: about 140 KB).
pub const MAX_ITEM_VALUES: usize = 8_000;
/// Most retry markers one bucket keeps (16 hex digits each).
pub const MAX_MARKERS_PER_BUCKET: usize = 256;

/// How full an item was when last seen: value hashes and retry markers per bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Fullness {
    pub(super) values: HashMap<i64, usize>,
    pub(super) markers: HashMap<i64, usize>,
    pub(super) total_values: usize,
}

impl Fullness {
    pub(super) fn of(item: &Item) -> Self {
        let mut f = Fullness::default();
        for (name, v) in item {
            let (Some(b), Some(n)) = (bucket_of(name), v.as_ss().ok().map(Vec::len)) else {
                continue;
            };
            if name.starts_with("v_") {
                f.values.insert(b, n);
                f.total_values += n;
            } else if name.starts_with("m_") {
                f.markers.insert(b, n);
            }
        }
        f
    }
}

/// One UpdateItem, built apart from sending it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdatePlan {
    /// `UpdateExpression`.
    pub update: String,
    /// `ConditionExpression` (empty: none).
    pub condition: String,
    /// `ExpressionAttributeNames`.
    pub names: HashMap<String, String>,
    /// `ExpressionAttributeValues`.
    pub values: HashMap<String, AttributeValue>,
}

impl UpdatePlan {
    fn name(&mut self, n: &str) -> String {
        let p = format!("#n{}", self.names.len());
        self.names.insert(p.clone(), n.to_owned());
        p
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), v);
        p
    }
}

/// A key's points as additions per (bucket, batch), within the item's bounds as last seen:
/// value hashes past a bucket's need or the item's [`MAX_ITEM_VALUES`], and retry markers past
/// [`MAX_MARKERS_PER_BUCKET`], are left out; returns the additions and how many points lost
/// a value the threshold could need (past the item's bound) or a marker.
pub(super) fn bounded_adds(
    spec: &Spec,
    points: &[SharedPoint],
    w: i64,
    full: &Fullness,
) -> (BTreeMap<(i64, BatchId), BucketAdd>, u64) {
    let per_bucket = (spec.threshold.max(1.0) as usize).min(MAX_VALUES_PER_BUCKET);
    let mut adds: BTreeMap<(i64, BatchId), BucketAdd> = BTreeMap::new();
    let mut values_added: HashMap<i64, usize> = HashMap::new();
    let mut total = full.total_values;
    let mut overflow = 0;
    for p in points {
        let b = p.point.time.as_millis().div_euclid(w);
        let marked = full.markers.get(&b).copied().unwrap_or(0) < MAX_MARKERS_PER_BUCKET;
        let key = (b, if marked { p.batch } else { 0 });
        let a = adds.entry(key).or_default();
        a.count += 1;
        a.sum += p.point.num;
        a.sources.insert(p.point.source);
        if marked {
            a.batches.insert(p.batch);
        } else {
            overflow += 1;
        }
        if spec.measure == Measure::Distinct && !a.values.contains(&p.point.value) {
            let in_bucket = full.values.get(&b).copied().unwrap_or(0)
                + values_added.get(&b).copied().unwrap_or(0);
            if in_bucket >= per_bucket {
                // The bucket holds what the threshold needs: nothing the decision needs is
                // lost, so it is no overflow.
                continue;
            }
            if total >= MAX_ITEM_VALUES {
                overflow += 1;
                continue;
            }
            a.values.insert(p.point.value);
            *values_added.entry(b).or_default() += 1;
            total += 1;
        }
    }
    (adds, overflow)
}

/// The counting update of one key: its buckets' additions, the markers, the TTL, and the
/// removal of `stale` attributes.
pub(super) fn plan_count(
    spec: &Spec,
    adds: &BTreeMap<i64, BucketAdd>,
    expires_at: i64,
    stale: &[String],
) -> UpdatePlan {
    let mut p = UpdatePlan::default();
    let mut add = Vec::new();
    let mut conds = Vec::new();
    for (b, a) in adds {
        let mut add_attr = |p: &mut UpdatePlan, attr: String, v: AttributeValue| {
            let n = p.name(&attr);
            let v = p.value(v);
            add.push(format!("{n} {v}"));
        };
        match spec.measure {
            Measure::Count => add_attr(
                &mut p,
                format!("c_{b}"),
                AttributeValue::N(a.count.to_string()),
            ),
            Measure::Sum | Measure::Avg => {
                add_attr(
                    &mut p,
                    format!("c_{b}"),
                    AttributeValue::N(a.count.to_string()),
                );
                add_attr(
                    &mut p,
                    format!("s_{b}"),
                    AttributeValue::N(format_num(a.sum)),
                );
            }
            Measure::Distinct => {
                let vs: Vec<String> = a
                    .values
                    .iter()
                    .take(MAX_VALUES_PER_BUCKET)
                    .map(|v| hex(*v))
                    .collect();
                // DynamoDB refuses an empty set: a bucket whose values are all past its bound
                // adds nothing.
                if !vs.is_empty() {
                    add_attr(&mut p, format!("v_{b}"), AttributeValue::Ss(vs));
                }
            }
            Measure::Temporal(_) | Measure::TemporalOrdered(_) => {
                let os: Vec<String> = a.sources.iter().map(u8::to_string).collect();
                add_attr(&mut p, format!("o_{b}"), AttributeValue::Ss(os));
            }
        }
        if spec.measure != Measure::Distinct && !a.batches.is_empty() {
            let marker = format!("m_{b}");
            let ids: Vec<String> = a.batches.iter().map(|x| hex(*x)).collect();
            let mn = p.name(&marker);
            for id in &ids {
                let v = p.value(AttributeValue::S(id.clone()));
                conds.push(format!("NOT contains({mn}, {v})"));
            }
            let v = p.value(AttributeValue::Ss(ids));
            add.push(format!("{mn} {v}"));
        }
    }
    let ttl = p.name(TTL_ATTRIBUTE);
    let exp = p.value(AttributeValue::N(expires_at.to_string()));
    p.update = if add.is_empty() {
        format!("SET {ttl} = {exp}")
    } else {
        format!("ADD {} SET {ttl} = {exp}", add.join(", "))
    };
    if !stale.is_empty() {
        let removed: Vec<String> = stale.iter().map(|s| p.name(s)).collect();
        p.update
            .push_str(&format!(" REMOVE {}", removed.join(", ")));
    }
    p.condition = conds.join(" AND ");
    p
}

pub(super) fn format_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "0".to_owned()
    }
}

/// The claim of a new episode opening at `h` (latest hot point `last`) by `batches`: wins
/// only when no episode was hot within a timespan before `h`.
pub(super) fn plan_claim(
    h: EventTime,
    last: EventTime,
    timespan_ms: i64,
    batches: &[BatchId],
) -> UpdatePlan {
    let mut p = UpdatePlan::default();
    let (s, l, by) = (p.name(EP_START), p.name(EP_LAST), p.name(EP_BY));
    let hv = p.value(AttributeValue::N(h.as_millis().to_string()));
    let lv = p.value(AttributeValue::N(last.as_millis().to_string()));
    let ids = p.value(AttributeValue::Ss(
        batches.iter().map(|b| hex(*b)).collect(),
    ));
    let since = p.value(AttributeValue::N(
        h.add_millis(-timespan_ms).as_millis().to_string(),
    ));
    p.update = format!("SET {s} = {hv}, {l} = {lv}, {by} = {ids}");
    p.condition = format!("attribute_not_exists({l}) OR {l} < {since}");
    p
}

/// The extension of the open episode to hot point `last`.
pub(super) fn plan_extend(last: EventTime) -> UpdatePlan {
    let mut p = UpdatePlan::default();
    let l = p.name(EP_LAST);
    let lv = p.value(AttributeValue::N(last.as_millis().to_string()));
    p.update = format!("SET {l} = {lv}");
    p.condition = format!("attribute_exists({l}) AND {l} < {lv}");
    p
}

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn number(item: &Item, name: &str) -> Option<f64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

pub(super) fn string_set<'a>(item: &'a Item, name: &str) -> impl Iterator<Item = &'a String> {
    item.get(name)
        .and_then(|v| v.as_ss().ok())
        .into_iter()
        .flatten()
}

/// Measure of the span ending at `s` over the item's buckets, and the start of its first
/// non-empty bucket, when the span is hot.
pub(super) fn hot_at(item: &Item, spec: &Spec, s: EventTime) -> Option<(f64, EventTime)> {
    let w = bucket_width(spec);
    let last = s.as_millis().div_euclid(w);
    let first = s.add_millis(-spec.timespan_ms).as_millis().div_euclid(w);
    let mut count = 0.0;
    let mut sum = 0.0;
    let mut values = HashSet::new();
    let mut chain = 0usize;
    let mut seen = 0u64;
    let mut start = None;
    for b in first..=last {
        let c = number(item, &format!("c_{b}")).unwrap_or(0.0);
        let vs: Vec<&String> = string_set(item, &format!("v_{b}")).collect();
        let os: Vec<u8> = string_set(item, &format!("o_{b}"))
            .filter_map(|o| o.parse().ok())
            .collect();
        if start.is_none() && (c > 0.0 || !vs.is_empty() || !os.is_empty()) {
            start =
                Some(EventTime::clamped(b.saturating_mul(w)).max(s.add_millis(-spec.timespan_ms)));
        }
        count += c;
        sum += number(item, &format!("s_{b}")).unwrap_or(0.0);
        values.extend(vs);
        for o in &os {
            seen |= 1 << (u64::from(*o) % 64);
        }
        // Ordered: sources met in bucket order (within a bucket, any order).
        let mut os = os;
        os.sort_unstable();
        for o in os {
            if o as usize == chain {
                chain += 1;
            }
        }
    }
    let start = start.unwrap_or(s);
    let value = match spec.measure {
        Measure::Count => count,
        Measure::Distinct => values.len() as f64,
        Measure::Sum => sum,
        Measure::Avg if count > 0.0 => sum / count,
        Measure::Avg => 0.0,
        Measure::Temporal(n) => {
            return (seen.count_ones() as usize >= n).then_some((n as f64, start));
        }
        Measure::TemporalOrdered(n) => return (chain >= n).then_some((n as f64, start)),
    };
    (value >= spec.threshold).then_some((value, start))
}

/// Attributes of buckets older than the key's horizon.
pub(super) fn stale_attributes(item: &Item, spec: &Spec) -> Vec<String> {
    let w = bucket_width(spec);
    let newest = item
        .keys()
        .filter_map(|k| bucket_of(k))
        .max()
        .unwrap_or(i64::MIN);
    let horizon = newest.saturating_sub((spec.timespan_ms + LATENESS_MS) / w + 1);
    item.keys()
        .filter(|k| bucket_of(k).is_some_and(|b| b < horizon))
        .cloned()
        .collect()
}

pub(super) fn bucket_of(attr: &str) -> Option<i64> {
    let (prefix, b) = attr.split_once('_')?;
    matches!(prefix, "c" | "s" | "v" | "o" | "m")
        .then(|| b.parse().ok())
        .flatten()
}
