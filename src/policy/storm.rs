//! Alert-storm control: a `governor` rate limiter per [`StormKey`]: rule, who acted, what was
//! found, the call's outcome and the alert's severity.
//!
//! Keying by who and what means one actor cannot spend another's budget: failed calls by an
//! unprivileged role never use up the budget of the real call by an administrator, a decoy
//! value repeated never holds back a different value, and a higher severity always has its own
//! budget. The limiter's clock is driven by **event time** (the alerts' own timestamps, never
//! decreasing), so a replay throttles exactly as production did and tests need no sleeping.
//! The first alert of a key always goes out. What is held back is counted: the count rides on
//! the next alert of that key (`held_back`), and at the end of an invocation
//! [`Storm::digest`] returns, for every key still holding alerts back, its latest held alert
//! carrying the number of the others (at most [`MAX_DIGEST`] keys; past that one summary per
//! rule counts the rest). Nothing is dropped without being counted.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::alert::Alert;
use crate::severity::Severity;
use crate::time::EventTime;

/// Limiter settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StormConfig {
    /// Alerts of one key that may go out at once.
    pub burst: u32,
    /// After the burst, one more alert of a key per this period.
    pub period: Duration,
    /// Most keys tracked; past this, idle keys are forgotten.
    pub max_keys: usize,
}

impl Default for StormConfig {
    fn default() -> Self {
        StormConfig {
            burst: 5,
            period: Duration::from_secs(60),
            max_keys: 100_000,
        }
    }
}

struct Held {
    count: u64,
    last: Alert,
}

/// The per-[`StormKey`] limiter. Keep one per process; state lives across warm invocations.
pub struct Storm {
    limiter:
        RateLimiter<String, HashMapStateStore<String>, FakeRelativeClock, NoOpMiddleware<Nanos>>,
    clock: FakeRelativeClock,
    config: StormConfig,
    /// Event time the clock stands at; `None` until the first timed alert.
    now: Option<EventTime>,
    /// How far the limiter's clock has been advanced since it was made (ms).
    advanced_ms: u64,
    held: BTreeMap<StormKey, Held>,
    /// Alerts held back past the bound of keys, per rule.
    overflow: BTreeMap<String, u64>,
    held_back_total: u64,
}

impl std::fmt::Debug for Storm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storm")
            .field("config", &self.config)
            .field("now", &self.now)
            .field("held_keys", &self.held.len())
            .field("held_back_total", &self.held_back_total)
            .finish()
    }
}

/// What makes two alerts "the same storm": the rule, who acted (the principal, the group value
/// of a threshold alert, else the log group), what was found (a value's fingerprint), whether
/// the call failed, and the severity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StormKey {
    /// The rule.
    pub rule_id: String,
    /// Who acted.
    pub who: String,
    /// What was found (a fingerprint), if anything.
    pub what: String,
    /// Whether the call the alert is about failed.
    pub failed: bool,
    /// The alert's severity: a higher one never waits behind a lower one.
    pub severity: Severity,
}

impl StormKey {
    fn encoded(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            self.rule_id,
            self.who,
            self.what,
            u8::from(self.failed),
            self.severity.as_str()
        )
    }
}

/// What storm control did with an alert.
#[derive(Debug)]
pub enum Admission {
    /// It goes out.
    Sent(Alert),
    /// It is held back (counted, and reported later).
    HeldBack(Alert),
}

impl Admission {
    /// Whether it goes out.
    pub fn is_sent(&self) -> bool {
        matches!(self, Admission::Sent(_))
    }

    /// Whether it is held back.
    pub fn is_held_back(&self) -> bool {
        !self.is_sent()
    }

    /// The alert, whatever became of it.
    pub fn alert(self) -> Alert {
        match self {
            Admission::Sent(a) | Admission::HeldBack(a) => a,
        }
    }
}

/// Most keys the end-of-run digest lists one by one; the rest are counted per rule.
pub const MAX_DIGEST: usize = 1_000;

/// Longest step of the limiter's clock: a day of quiet refills any bucket.
const MAX_STEP_MS: u64 = 24 * 3600 * 1000;
/// The limiter starts afresh after its clock has run this long (100 years, well inside the
/// clock's 584).
const MAX_CLOCK_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

fn quota(config: &StormConfig) -> Quota {
    let burst = NonZeroU32::new(config.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(config.period.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Storm {
    /// A limiter with `config`.
    pub fn new(config: StormConfig) -> Self {
        let clock = FakeRelativeClock::default();
        Storm {
            limiter: RateLimiter::hashmap_with_clock(quota(&config), clock.clone()),
            clock,
            config,
            now: None,
            advanced_ms: 0,
            held: BTreeMap::new(),
            overflow: BTreeMap::new(),
            held_back_total: 0,
        }
    }

    /// Alerts held back so far, in total.
    pub fn held_back_total(&self) -> u64 {
        self.held_back_total
    }

    /// Moves the limiter's clock to event time `t` (never backwards). A jump is clamped to
    /// [`MAX_STEP_MS`]: any longer quiet refills every bucket anyway, and the clock (a u64 of
    /// nanoseconds, about 584 years) must never overflow whatever times the logs claim. When
    /// the clock has run for [`MAX_CLOCK_MS`] the limiter starts afresh.
    fn advance_to(&mut self, t: Option<EventTime>) {
        let Some(t) = t else { return };
        let Some(now) = self.now else {
            self.now = Some(t);
            return;
        };
        let step = t.millis_since(now);
        if step <= 0 {
            return;
        }
        let step = (step as u64).min(MAX_STEP_MS);
        if self.advanced_ms + step > MAX_CLOCK_MS {
            let clock = FakeRelativeClock::default();
            self.limiter = RateLimiter::hashmap_with_clock(quota(&self.config), clock.clone());
            self.clock = clock;
            self.advanced_ms = 0;
        }
        self.clock.advance(Duration::from_millis(step));
        self.advanced_ms += step;
        self.now = Some(t);
    }

    /// Lets `alert` through ([`Admission::Sent`], with the count of alerts held back since
    /// the last one of its key) or holds it back ([`Admission::HeldBack`], the alert given
    /// back; the limiter keeps a copy for the digest). `time` is the alert's event time.
    pub fn admit(&mut self, mut alert: Alert, key: StormKey, time: Option<EventTime>) -> Admission {
        self.advance_to(time);
        let encoded = key.encoded();
        if self.limiter.check_key(&encoded).is_ok() {
            if let Some(held) = self.held.remove(&key) {
                alert.held_back = held.count;
            }
            if self.limiter.len() > self.config.max_keys {
                self.limiter.retain_recent();
            }
            return Admission::Sent(alert);
        }
        self.held_back_total += 1;
        let full = self.held.len() >= self.config.max_keys;
        match self.held.get_mut(&key) {
            Some(h) => {
                h.count += 1;
                h.last = alert.clone();
            }
            // A flood of distinct keys: past the bound, the rest is counted per rule.
            None if full => {
                *self.overflow.entry(key.rule_id).or_default() += 1;
            }
            None => {
                self.held.insert(
                    key,
                    Held {
                        count: 1,
                        last: alert.clone(),
                    },
                );
            }
        }
        Admission::HeldBack(alert)
    }

    /// At the end of an invocation: for every key with held-back alerts, its latest held
    /// alert, whose `held_back` counts the others held back since the last one sent, titled
    /// with who and what was held back. Past [`MAX_DIGEST`] keys, one summary per rule counts
    /// the keys and alerts not listed.
    pub fn digest(&mut self) -> Vec<Alert> {
        // The keys least like a flood first: the higher severity, the successful call, the
        // more alerts held back (a flood of decoys has many keys of one alert each), the
        // later; the order of names (which an attacker chooses) last.
        let mut held: Vec<(StormKey, Held)> = std::mem::take(&mut self.held).into_iter().collect();
        held.sort_by(|(ka, ha), (kb, hb)| {
            kb.severity
                .cmp(&ka.severity)
                .then(ka.failed.cmp(&kb.failed))
                .then(hb.count.cmp(&ha.count))
                .then(hb.last.timestamp.cmp(&ha.last.timestamp))
                .then(ka.cmp(kb))
        });
        let mut out = Vec::new();
        let mut rest: BTreeMap<String, (u64, u64, Vec<String>, Alert)> = BTreeMap::new();
        for (key, h) in held {
            let mut a = h.last;
            a.held_back = h.count - 1;
            if out.len() < MAX_DIGEST {
                out.push(a);
            } else {
                let e = rest
                    .entry(key.rule_id)
                    .or_insert_with(|| (0, 0, Vec::new(), a));
                e.0 += 1;
                e.1 += h.count;
                if e.2.len() < 20 {
                    e.2.push(key.who);
                }
            }
        }
        for (rule, n) in std::mem::take(&mut self.overflow) {
            let e = rest.entry(rule.clone()).or_insert_with(|| {
                let mut a = Alert::blank(&rule, crate::severity::FindingKind::Event, Severity::Low);
                a.id = crate::hash::id(&[&rule, "storm-overflow"]);
                (0, 0, Vec::new(), a)
            });
            e.1 += n;
        }
        for (rule, (keys, alerts, names, mut a)) in rest {
            a.title = format!(
                "{rule}: {alerts} more alert(s) of {keys} other principal(s) or value(s) held back by storm control (among them {})",
                names.join(", ")
            );
            a.held_back = alerts.saturating_sub(1);
            a.id = crate::hash::id(&[&rule, "storm-digest", &a.id]);
            out.push(a);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::severity::FindingKind;

    fn at(ms: i64) -> Option<EventTime> {
        EventTime::from_millis(ms)
    }

    fn alert(n: usize) -> Alert {
        let mut a = Alert::blank("r", FindingKind::Secret, Severity::High);
        a.id = format!("id{n}");
        a
    }

    fn key(who: &str, what: &str) -> StormKey {
        StormKey {
            rule_id: "r".into(),
            who: who.into(),
            what: what.into(),
            failed: false,
            severity: Severity::High,
        }
    }

    fn config(burst: u32) -> StormConfig {
        StormConfig {
            burst,
            period: Duration::from_secs(60),
            max_keys: 10,
        }
    }

    #[test]
    fn burst_then_held_then_reported() {
        let mut t = Storm::new(config(2));
        let t0 = 1_000_000;
        let out: Vec<_> = (0..5)
            .filter_map(|i| {
                t.admit(alert(i), key("g", "same"), at(t0 + i as i64))
                    .is_sent()
                    .then_some(())
            })
            .collect();
        assert_eq!(out.len(), 2, "burst of 2 passes");
        assert_eq!(t.held_back_total(), 3);
        // A different secret is a different key: not held back.
        assert!(t.admit(alert(9), key("g", "other"), at(t0)).is_sent());
        // A minute of event time later one more passes, carrying the 3 held back.
        let next = t.admit(alert(6), key("g", "same"), at(t0 + 60_000)).alert();
        assert_eq!(next.held_back, 3);
        assert!(t.digest().is_empty());
    }

    #[test]
    fn one_actor_cannot_spend_another_actors_budget() {
        let mut t = Storm::new(config(1));
        assert!(t.admit(alert(0), key("role/probe", ""), at(0)).is_sent());
        for i in 1..8 {
            assert!(
                t.admit(alert(i), key("role/probe", ""), at(i as i64))
                    .is_held_back()
            );
        }
        // The administrator's call, the same rule, is a key of its own.
        assert!(t.admit(alert(9), key("user/admin", ""), at(9)).is_sent());
        // A failed call never spends the budget of a successful one.
        let mut failed = key("user/admin", "");
        failed.failed = true;
        assert!(t.admit(alert(10), failed, at(10)).is_sent());
        // A higher severity is never held behind a lower one.
        let mut critical = key("role/probe", "");
        critical.severity = Severity::Critical;
        assert!(t.admit(alert(11), critical, at(11)).is_sent());
    }

    #[test]
    fn digest_reports_what_is_still_held() {
        let mut t = Storm::new(config(1));
        assert!(t.admit(alert(0), key("g", "k"), at(0)).is_sent());
        assert!(t.admit(alert(1), key("g", "k"), at(1)).is_held_back());
        assert!(t.admit(alert(2), key("g", "k"), at(2)).is_held_back());
        let d = t.digest();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, "id2");
        assert_eq!(d[0].held_back, 1);
        assert!(t.digest().is_empty());
    }

    #[test]
    fn a_digest_past_its_bound_counts_the_rest_per_rule() {
        let mut t = Storm::new(StormConfig {
            max_keys: 100_000,
            ..config(1)
        });
        let n = MAX_DIGEST + 50;
        for i in 0..n {
            let k = key(&format!("who{i}"), "");
            assert!(t.admit(alert(i), k.clone(), at(0)).is_sent());
            assert!(t.admit(alert(i), k, at(1)).is_held_back());
        }
        let d = t.digest();
        assert_eq!(d.len(), MAX_DIGEST + 1);
        let summary = d.last().map(|a| a.title.clone()).unwrap_or_default();
        assert!(
            summary.contains("50 more alert(s) of 50 other"),
            "{summary}"
        );
    }

    #[test]
    fn event_time_going_backwards_does_not_replenish() {
        let mut t = Storm::new(config(1));
        assert!(t.admit(alert(0), key("g", "k"), at(120_000)).is_sent());
        assert!(t.admit(alert(1), key("g", "k"), at(0)).is_held_back());
    }

    /// Go's zero time then a real one: a jump of two thousand years must not panic the
    /// limiter's clock (it once did: "Can not represent times past ~584 years").
    #[test]
    fn centuries_apart_do_not_panic() {
        let mut t = Storm::new(StormConfig::default());
        let zero = EventTime::parse_iso("0001-01-01T00:00:00Z");
        assert!(t.admit(alert(0), key("g", "a"), zero).is_sent());
        assert!(
            t.admit(alert(1), key("g", "b"), Some(EventTime::MAX))
                .is_sent()
        );
        let mut ms = 0;
        for i in 0..2_000 {
            ms += 24 * 3600 * 1000 * 366;
            let _ = t.admit(alert(i), key("g", "c"), EventTime::from_millis(ms));
        }
        assert!(
            t.admit(alert(9), key("g", "d"), Some(EventTime::MAX))
                .is_sent()
        );
    }
}
