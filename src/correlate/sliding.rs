//! Exact sliding windows and episodes, in process.
//!
//! Per (correlation, group value) a [`KeyState`] keeps the matching events of the recent past
//! as points sorted by event time. A point at time `s` is **hot** when the span `[s - timespan,
//! s]` satisfies the rule (holds `threshold` events, distinct values, a sum or average, or
//! every referenced rule, in order for `temporal_ordered`). Hot points form **episodes**: a
//! hot point within one timespan of an episode's hot points extends it; a hot point after a
//! full timespan without one opens a new episode, and only that opening is an alert.
//!
//! Points are inserted at their time, so events that arrive out of order still count toward
//! every span they belong to; only the points whose span the insertion changed (those in
//! `[t, t + timespan]`) are re-evaluated. Events older than a key's newest event by more than
//! [`Limits::lateness_ms`] are not folded in but counted ([`Counters::late`]).
//!
//! State is bounded ([`Limits`]): points per key, points in total and keys in total. Keys
//! whose events all lie outside every span that can still change are dropped first (by age);
//! under pressure from many keys (a flood of distinct source addresses) the keys farthest from
//! their threshold and not in an open episode are evicted, so a real burst building up is
//! kept while the flood is shed. Every eviction is counted ([`Counters::evicted_keys`]).

use std::collections::HashMap;

use crate::time::EventTime;

pub use crate::detect::correlation::{MAX_COUNT_THRESHOLD, Measure, Spec};

/// Most points one key of `spec` keeps: enough to decide the threshold exactly for the newest
/// point.
fn key_cap(spec: &Spec, limits: &Limits) -> usize {
    let want = match spec.measure {
        Measure::Count | Measure::Distinct => (spec.threshold.max(1.0) as usize).saturating_mul(2),
        _ => limits.max_points_per_key,
    };
    want.clamp(64, limits.max_points_per_key)
}

/// Bounds of the in-process state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most (correlation, group value) keys held.
    pub max_keys: usize,
    /// Most points held over all keys.
    pub max_points: usize,
    /// Most points one key holds (count and distinct keys hold at most twice their threshold).
    pub max_points_per_key: usize,
    /// Events older than their key's newest event by more than this are not counted.
    pub lateness_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_keys: 100_000,
            max_points: 1_000_000,
            max_points_per_key: 2 * MAX_COUNT_THRESHOLD as usize,
            lateness_ms: 60 * 60 * 1000,
        }
    }
}

/// One matching event to count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Event time.
    pub time: EventTime,
    /// The event's identity: a delivery of an event already counted adds nothing.
    pub event: u64,
    /// `value_count`: the value's hash.
    pub value: u64,
    /// `value_sum` / `value_avg`: the number.
    pub num: f64,
    /// Temporal measures: which referenced rule matched (its index in the rule list).
    pub source: u8,
}

/// A key's episode: its first and latest hot points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    /// The hot point that opened it (the alert's time).
    pub start: EventTime,
    /// The latest hot point.
    pub last_hot: EventTime,
}

/// What inserting a point did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The hot points of the spans the insertion re-evaluated (their times), which feed the
    /// correlations that reference this one.
    pub hot: Vec<EventTime>,
    /// A new episode, with the measure of the span at its opening and the time of the
    /// span's first event.
    pub opened: Option<(Episode, f64, EventTime)>,
    /// The point was not counted: already counted, or later than the lateness bound.
    pub ignored: Ignored,
}

/// Why a point was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ignored {
    /// It was counted.
    #[default]
    No,
    /// The same event was counted before (a redelivery).
    Duplicate,
    /// Older than the key's newest event by more than [`Limits::lateness_ms`].
    Late,
}

/// The state of one (correlation, group value).
#[derive(Debug, Clone, Default)]
pub struct KeyState {
    points: Vec<Point>,
    /// `value_count`: each value's latest occurrence (its one point).
    latest: HashMap<u64, EventTime>,
    episodes: Vec<Episode>,
    newest: Option<EventTime>,
}

/// Counters of the sliding state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events older than their key's newest by more than the lateness bound (not counted).
    pub late: u64,
    /// Redelivered events (not counted again).
    pub duplicates: u64,
    /// Keys evicted under pressure (too many keys or points) before their time was up.
    pub evicted_keys: u64,
    /// Points dropped because a key held its maximum.
    pub dropped_points: u64,
    /// Keys dropped because every span they could still change had passed.
    pub expired_keys: u64,
}

impl KeyState {
    /// The key's episodes still within reach of new events, oldest first.
    pub fn episodes(&self) -> &[Episode] {
        &self.episodes
    }

    /// The points held, in time order.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The key's newest event time.
    pub fn newest(&self) -> Option<EventTime> {
        self.newest
    }

    /// The time lateness and trimming are measured from: the median time of the points held
    /// (the newest time when none are). One line dated a month ahead moves the newest time,
    /// not the median, so it cannot make every later event of its key "late" or push the real
    /// ones out; moving the median takes more forged events than the key holds real ones.
    pub fn watermark(&self) -> Option<EventTime> {
        match self.points.len() {
            0 => self.newest,
            n => Some(self.points[n / 2].time),
        }
    }

    /// Whether an episode is open at `now`: its last hot point is within one timespan.
    pub fn in_episode(&self, now: EventTime, timespan_ms: i64) -> bool {
        self.episodes
            .last()
            .is_some_and(|e| now.millis_since(e.last_hot) <= timespan_ms)
    }

    /// Inserts a point and re-evaluates the spans it changed.
    pub fn insert(&mut self, spec: &Spec, limits: &Limits, p: Point) -> (Outcome, usize) {
        let mut out = Outcome::default();
        if let Some(mark) = self.watermark()
            && mark.millis_since(p.time) > limits.lateness_ms
        {
            out.ignored = Ignored::Late;
            return (out, 0);
        }
        // Redeliveries: the same event id at the same time.
        let lo = self.points.partition_point(|q| q.time < p.time);
        if self.points[lo..]
            .iter()
            .take_while(|q| q.time == p.time)
            .any(|q| q.event == p.event && q.source == p.source)
        {
            out.ignored = Ignored::Duplicate;
            return (out, 0);
        }
        if spec.measure == Measure::Distinct
            && let Some(&at) = self.latest.get(&p.value)
        {
            if at >= p.time {
                // The value is already counted at a later occurrence.
                out.ignored = Ignored::Duplicate;
                return (out, 0);
            }
            let from = self.points.partition_point(|q| q.time < at);
            if let Some(i) = self.points[from..]
                .iter()
                .take_while(|q| q.time == at)
                .position(|q| q.value == p.value)
            {
                self.points.remove(from + i);
            }
        }
        if spec.measure == Measure::Distinct {
            self.latest.insert(p.value, p.time);
        }
        // Points of one time are kept in the order of their rule in the list, so that
        // `temporal_ordered` reads simultaneous matches in the rule's order.
        let at = self
            .points
            .partition_point(|q| (q.time, q.source) <= (p.time, p.source));
        self.points.insert(at, p);
        self.newest = Some(self.newest.map_or(p.time, |n| n.max(p.time)));
        self.evaluate_from(spec, p.time, &mut out);
        let dropped = self.trim(spec, limits);
        (out, dropped)
    }

    /// Re-evaluates the hot state of every point in `[t, t + timespan]`.
    fn evaluate_from(&mut self, spec: &Spec, t: EventTime, out: &mut Outcome) {
        let end = t.add_millis(spec.timespan_ms);
        let first = self.points.partition_point(|q| q.time < t);
        let mut i = first;
        while i < self.points.len() && self.points[i].time <= end {
            let s = self.points[i].time;
            // Evaluate each distinct time once, at its last point.
            let last = i + self.points[i..].iter().take_while(|q| q.time == s).count() - 1;
            if let Some((measure, first)) = self.hot_at(spec, last) {
                out.hot.push(s);
                if let Some(ep) = self.mark_hot(s, spec.timespan_ms)
                    && out.opened.is_none()
                {
                    out.opened = Some((ep, measure, first));
                }
            }
            i = last + 1;
        }
    }

    /// The measure of the span ending at point `j`, and the time of its first point, when
    /// it satisfies the rule.
    fn hot_at(&self, spec: &Spec, j: usize) -> Option<(f64, EventTime)> {
        let s = self.points[j].time;
        let lo = self
            .points
            .partition_point(|q| s.millis_since(q.time) > spec.timespan_ms);
        let span = &self.points[lo..=j];
        let first = span.first().map_or(s, |q| q.time);
        let value = match spec.measure {
            Measure::Count | Measure::Distinct => span.len() as f64,
            Measure::Sum => span.iter().map(|q| q.num).sum(),
            Measure::Avg => span.iter().map(|q| q.num).sum::<f64>() / span.len() as f64,
            Measure::Temporal(n) => {
                let mut seen = 0u64;
                for q in span {
                    seen |= 1 << (q.source as u64 % 64);
                }
                return (seen.count_ones() as usize >= n.min(64)).then_some((n as f64, first));
            }
            Measure::TemporalOrdered(n) => {
                // Earliest chain source 0 -> 1 -> ... -> n-1 within the span, ending at j.
                let mut want = 0usize;
                for q in span {
                    if q.source as usize == want {
                        want += 1;
                        if want == n {
                            break;
                        }
                    }
                }
                return (want >= n && span.last().is_some_and(|q| q.source as usize + 1 == n))
                    .then_some((n as f64, first));
            }
        };
        (value >= spec.threshold).then_some((value, first))
    }

    /// Records a hot point; returns the new episode when it opens one.
    fn mark_hot(&mut self, h: EventTime, timespan_ms: i64) -> Option<Episode> {
        let near = |e: &Episode| {
            e.start.millis_since(h) <= timespan_ms && h.millis_since(e.last_hot) <= timespan_ms
        };
        let mut joined: Option<usize> = None;
        let mut k = 0;
        while k < self.episodes.len() {
            if near(&self.episodes[k]) {
                match joined {
                    None => {
                        let e = &mut self.episodes[k];
                        e.start = e.start.min(h);
                        e.last_hot = e.last_hot.max(h);
                        joined = Some(k);
                    }
                    Some(j) => {
                        // The hot point bridges two episodes: they are one from now on.
                        let other = self.episodes.remove(k);
                        let e = &mut self.episodes[j];
                        e.start = e.start.min(other.start);
                        e.last_hot = e.last_hot.max(other.last_hot);
                        continue;
                    }
                }
            }
            k += 1;
        }
        if joined.is_some() {
            return None;
        }
        let ep = Episode {
            start: h,
            last_hot: h,
        };
        let at = self.episodes.partition_point(|e| e.start < h);
        self.episodes.insert(at, ep);
        Some(ep)
    }

    /// Drops what no future event within the lateness bound can use, and points past the
    /// key's cap (oldest first). Returns the points dropped over the cap.
    fn trim(&mut self, spec: &Spec, limits: &Limits) -> usize {
        let Some(mark) = self.watermark() else {
            return 0;
        };
        let keep_from = mark.add_millis(-(spec.timespan_ms.saturating_add(limits.lateness_ms)));
        let old = self.points.partition_point(|q| q.time < keep_from);
        let cap = key_cap(spec, limits);
        let over = (self.points.len() - old).saturating_sub(cap);
        for q in self.points.drain(..old + over) {
            if self.latest.get(&q.value) == Some(&q.time) {
                self.latest.remove(&q.value);
            }
        }
        self.episodes
            .retain(|e| e.last_hot.add_millis(spec.timespan_ms) >= keep_from);
        over
    }

    /// How close the key is to firing: the measure of its newest span over the threshold
    /// (0 for an empty key).
    pub fn pressure_score(&self, spec: &Spec) -> f64 {
        let Some(j) = self.points.len().checked_sub(1) else {
            return 0.0;
        };
        let s = self.points[j].time;
        let lo = self
            .points
            .partition_point(|q| s.millis_since(q.time) > spec.timespan_ms);
        let span = &self.points[lo..];
        match spec.measure {
            Measure::Count | Measure::Distinct => span.len() as f64 / spec.threshold.max(1.0),
            Measure::Sum | Measure::Avg => {
                let sum: f64 = span.iter().map(|q| q.num).sum();
                let v = if spec.measure == Measure::Avg {
                    sum / span.len() as f64
                } else {
                    sum
                };
                v / spec.threshold.max(1.0)
            }
            Measure::Temporal(n) | Measure::TemporalOrdered(n) => {
                let mut seen = 0u64;
                for q in span {
                    seen |= 1 << (q.source as u64 % 64);
                }
                f64::from(seen.count_ones()) / n.max(1) as f64
            }
        }
    }
}

/// The sliding state of every key, bounded by [`Limits`].
#[derive(Debug, Default)]
pub struct SlidingWindows<K> {
    keys: HashMap<K, (usize, KeyState)>,
    limits: Limits,
    points: usize,
    counters: Counters,
    pressure: bool,
    /// Points inserted (keys whose time is up are dropped every [`EXPIRE_EVERY`]).
    inserts: u64,
}

/// Inserts between two passes that drop the keys whose time is up.
const EXPIRE_EVERY: u64 = 4096;

impl<K: std::hash::Hash + Eq + Clone> SlidingWindows<K> {
    /// Empty state with these bounds.
    pub fn new(limits: Limits) -> Self {
        SlidingWindows {
            keys: HashMap::new(),
            limits,
            points: 0,
            counters: Counters::default(),
            pressure: false,
            inserts: 0,
        }
    }

    /// Counters so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Points held over all keys.
    pub fn points(&self) -> usize {
        self.points
    }

    /// Whether keys were evicted under pressure since the last call (then resets).
    pub fn take_pressure(&mut self) -> bool {
        std::mem::take(&mut self.pressure)
    }

    /// A key's state.
    pub fn get(&self, key: &K) -> Option<&KeyState> {
        self.keys.get(key).map(|(_, s)| s)
    }

    /// Keys in an open episode at their newest event.
    pub fn open_episodes(&self, specs: &[Spec]) -> usize {
        self.keys
            .values()
            .filter(|(c, s)| {
                let span = specs.get(*c).map_or(0, |sp| sp.timespan_ms);
                s.watermark().is_some_and(|n| s.in_episode(n, span))
            })
            .count()
    }

    /// Inserts a point of correlation `corr` (index into `specs`) for `key`.
    pub fn insert(&mut self, specs: &[Spec], corr: usize, key: &K, p: Point) -> Outcome {
        let Some(spec) = specs.get(corr) else {
            return Outcome::default();
        };
        if !self.keys.contains_key(key) && self.keys.len() >= self.limits.max_keys {
            self.relieve(specs);
        }
        let limits = self.limits;
        let (_, state) = self
            .keys
            .entry(key.clone())
            .or_insert_with(|| (corr, KeyState::default()));
        let before = state.points.len();
        let (out, dropped) = state.insert(spec, &limits, p);
        self.points = (self.points + state.points.len()).saturating_sub(before);
        self.counters.dropped_points += dropped as u64;
        match out.ignored {
            Ignored::Late => self.counters.late += 1,
            Ignored::Duplicate => self.counters.duplicates += 1,
            Ignored::No => {}
        }
        // Keys whose time is up go regularly, not only under pressure: a key per user of a
        // per-account correlation must not pile up until the bound.
        self.inserts = self.inserts.wrapping_add(1);
        if self.points > self.limits.max_points || self.inserts.is_multiple_of(EXPIRE_EVERY) {
            self.relieve(specs);
        }
        out
    }

    /// Frees room: first the keys whose time is up, then (under pressure) the keys farthest
    /// from their threshold that are not in an open episode, a tenth of the keys at a time.
    fn relieve(&mut self, specs: &[Spec]) {
        // The time keys expire from: the median of the keys' own watermarks (a few keys dated
        // ahead by a forger cannot expire every other key).
        let mut marks: Vec<EventTime> = self
            .keys
            .values()
            .filter_map(|(_, s)| s.watermark())
            .collect();
        if marks.is_empty() {
            return;
        }
        let mid = marks.len() / 2;
        let w = *marks.select_nth_unstable(mid).1;
        let lateness = self.limits.lateness_ms;
        let before = self.keys.len();
        self.keys.retain(|_, (c, s)| {
            let span = specs.get(*c).map_or(0, |sp| sp.timespan_ms);
            s.watermark()
                .is_some_and(|n| w.millis_since(n) <= span.saturating_add(lateness))
        });
        self.counters.expired_keys += (before - self.keys.len()) as u64;
        if self.keys.len() >= self.limits.max_keys || self.recount() > self.limits.max_points {
            let n = (self.keys.len() / 10).max(1);
            let mut ranked: Vec<(bool, f64, Option<EventTime>, K)> = self
                .keys
                .iter()
                .map(|(k, (c, s))| {
                    let spec = specs.get(*c);
                    let open = spec.is_some_and(|sp| {
                        s.watermark()
                            .is_some_and(|nw| s.in_episode(nw, sp.timespan_ms))
                    });
                    let score = spec.map_or(0.0, |sp| s.pressure_score(sp));
                    (open, score, s.newest, k.clone())
                })
                .collect();
            ranked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
            for (_, _, _, k) in ranked.into_iter().take(n) {
                self.keys.remove(&k);
                self.counters.evicted_keys += 1;
            }
            self.pressure = true;
        }
        self.recount();
    }

    fn recount(&mut self) -> usize {
        self.points = self.keys.values().map(|(_, s)| s.points.len()).sum();
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(secs: i64, n: u64) -> Point {
        Point {
            time: EventTime::clamped(1_795_600_800_000 + secs * 1000),
            event: n,
            value: n,
            num: 0.0,
            source: 0,
        }
    }

    /// One line dated a month ahead (a forger's, or a broken clock's) must not make every
    /// later event of its key "late": a burst after it still opens an episode.
    #[test]
    fn one_line_dated_ahead_cannot_make_later_events_late() {
        let spec = Spec {
            measure: Measure::Count,
            threshold: 5.0,
            timespan_ms: 300_000,
        };
        let limits = Limits::default();
        let mut key = KeyState::default();
        for i in 0..3 {
            key.insert(&spec, &limits, point(i, i as u64));
        }
        let (out, _) = key.insert(&spec, &limits, point(30 * 86_400, 99));
        assert_eq!(out.ignored, Ignored::No);
        let mut opened = false;
        for i in 0..10 {
            let (out, _) = key.insert(&spec, &limits, point(60 + i, 100 + i as u64));
            assert_eq!(out.ignored, Ignored::No, "event {i} taken for late");
            opened |= out.opened.is_some();
        }
        assert!(opened, "the burst after the outlier opened no episode");
    }
}
