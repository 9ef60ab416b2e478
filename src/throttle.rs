//! Alert-storm control: a `governor` rate limiter per (rule, key).
//!
//! The limiter's clock is driven by **event time** (the alerts' own timestamps, never
//! decreasing), so a replay throttles exactly as production did and tests need no sleeping.
//! The first alert of a key always goes out. What is held back is counted: the count rides on
//! the next alert of that key (`suppressed`), and at the end of an invocation
//! [`Throttle::digest`] returns, for every key still holding alerts back, its latest held
//! alert carrying the number of the others. Nothing is dropped without being counted.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::alert::Alert;
use crate::detect::FindingKind;
use crate::time::EventTime;

/// Limiter settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Alerts of one key that may go out at once.
    pub burst: u32,
    /// After the burst, one more alert of a key per this period.
    pub period: Duration,
    /// Most keys tracked; past this, idle keys are forgotten.
    pub max_keys: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
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

/// The per-(rule, key) limiter. Keep one per process; state lives across warm invocations.
pub struct Throttle {
    limiter:
        RateLimiter<String, HashMapStateStore<String>, FakeRelativeClock, NoOpMiddleware<Nanos>>,
    clock: FakeRelativeClock,
    config: ThrottleConfig,
    /// Event time the clock stands at; `None` until the first timed alert.
    now: Option<EventTime>,
    /// How far the limiter's clock has been advanced since it was made (ms).
    advanced_ms: u64,
    held: BTreeMap<String, Held>,
    suppressed_total: u64,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("config", &self.config)
            .field("now", &self.now)
            .field("held_keys", &self.held.len())
            .field("suppressed_total", &self.suppressed_total)
            .finish()
    }
}

/// The key an alert is limited by: the rule plus what makes two alerts "the same storm".
/// Threshold alerts: their group value; secrets and PII: the fingerprint (the same leaked
/// value repeated is one storm, a different value always alerts); events: the log group.
pub fn throttle_key(alert: &Alert) -> String {
    let part = match alert.kind {
        FindingKind::Threshold => alert.group.as_ref().map(|g| g.value.as_str()),
        FindingKind::Secret | FindingKind::Pii => {
            alert.evidence.as_ref().map(|e| e.fingerprint.as_str())
        }
        FindingKind::Event => None,
    }
    .unwrap_or(&alert.log_group);
    format!("{}\u{0}{}", alert.rule_id, part)
}

/// Longest step of the limiter's clock: a day of quiet refills any bucket.
const MAX_STEP_MS: u64 = 24 * 3600 * 1000;
/// The limiter starts afresh after its clock has run this long (100 years, well inside the
/// clock's 584).
const MAX_CLOCK_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

fn quota(config: &ThrottleConfig) -> Quota {
    let burst = NonZeroU32::new(config.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(config.period.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Throttle {
    /// A limiter with `config`.
    pub fn new(config: ThrottleConfig) -> Self {
        let clock = FakeRelativeClock::default();
        Throttle {
            limiter: RateLimiter::hashmap_with_clock(quota(&config), clock.clone()),
            clock,
            config,
            now: None,
            advanced_ms: 0,
            held: BTreeMap::new(),
            suppressed_total: 0,
        }
    }

    /// Alerts held back so far, in total.
    pub fn suppressed_total(&self) -> u64 {
        self.suppressed_total
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

    /// Lets `alert` through (with the count of alerts held back since the last one of its
    /// key) or holds it back. `event_ms` is the alert's event time.
    pub fn admit(&mut self, mut alert: Alert, time: Option<EventTime>) -> Option<Alert> {
        self.advance_to(time);
        let key = throttle_key(&alert);
        if self.limiter.check_key(&key).is_ok() {
            if let Some(held) = self.held.remove(&key) {
                alert.suppressed = held.count;
            }
            if self.limiter.len() > self.config.max_keys {
                self.limiter.retain_recent();
            }
            return Some(alert);
        }
        self.suppressed_total += 1;
        match self.held.get_mut(&key) {
            Some(h) => {
                h.count += 1;
                h.last = alert;
            }
            None => {
                self.held.insert(
                    key,
                    Held {
                        count: 1,
                        last: alert,
                    },
                );
            }
        }
        None
    }

    /// At the end of an invocation: for every key with held-back alerts, its latest held
    /// alert, whose `suppressed` counts the others held back since the last one sent.
    pub fn digest(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.held)
            .into_values()
            .map(|h| {
                let mut a = h.last;
                a.suppressed = h.count - 1;
                a
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Evidence;
    use crate::detect::Severity;

    fn at(ms: i64) -> Option<EventTime> {
        EventTime::from_millis(ms)
    }

    fn alert(n: usize, fingerprint_of: &[u8]) -> Alert {
        Alert {
            id: format!("id{n}"),
            rule_id: "r".into(),
            title: "t".into(),
            severity: Severity::High,
            kind: FindingKind::Secret,
            log_group: "g".into(),
            log_stream: "s".into(),
            event_ids: vec![n.to_string()],
            timestamp: String::new(),
            evidence: Some(Evidence::of(
                fingerprint_of,
                FindingKind::Secret,
                1,
                &crate::alert::Fingerprinter::new(b"k"),
            )),
            group: None,
            count: None,
            window: None,
            suppressed: 0,
        }
    }

    #[test]
    fn burst_then_held_then_reported() {
        let mut t = Throttle::new(ThrottleConfig {
            burst: 2,
            period: Duration::from_secs(60),
            max_keys: 10,
        });
        let t0 = 1_000_000;
        let out: Vec<_> = (0..5)
            .filter_map(|i| t.admit(alert(i, b"same"), at(t0 + i as i64)))
            .collect();
        assert_eq!(out.len(), 2, "burst of 2 passes");
        assert_eq!(t.suppressed_total(), 3);
        // A different secret is a different key: not throttled.
        assert!(t.admit(alert(9, b"other"), at(t0)).is_some());
        // A minute of event time later one more passes, carrying the 3 held back.
        let next = t
            .admit(alert(6, b"same"), at(t0 + 60_000))
            .expect("replenished");
        assert_eq!(next.suppressed, 3);
        assert!(t.digest().is_empty());
    }

    #[test]
    fn digest_reports_what_is_still_held() {
        let mut t = Throttle::new(ThrottleConfig {
            burst: 1,
            period: Duration::from_secs(60),
            max_keys: 10,
        });
        assert!(t.admit(alert(0, b"k"), at(0)).is_some());
        assert!(t.admit(alert(1, b"k"), at(1)).is_none());
        assert!(t.admit(alert(2, b"k"), at(2)).is_none());
        let d = t.digest();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, "id2");
        assert_eq!(d[0].suppressed, 1);
        assert!(t.digest().is_empty());
    }

    #[test]
    fn event_time_going_backwards_does_not_replenish() {
        let mut t = Throttle::new(ThrottleConfig {
            burst: 1,
            period: Duration::from_secs(60),
            max_keys: 10,
        });
        assert!(t.admit(alert(0, b"k"), at(120_000)).is_some());
        assert!(t.admit(alert(1, b"k"), at(0)).is_none());
    }

    /// Go's zero time then a real one: a jump of two thousand years must not panic the
    /// limiter's clock (it once did: "Can not represent times past ~584 years").
    #[test]
    fn centuries_apart_do_not_panic() {
        let mut t = Throttle::new(ThrottleConfig::default());
        let zero = EventTime::parse_iso("0001-01-01T00:00:00Z");
        assert!(t.admit(alert(0, b"a"), zero).is_some());
        assert!(t.admit(alert(1, b"b"), Some(EventTime::MAX)).is_some());
        let mut ms = 0;
        for i in 0..2_000 {
            ms += 24 * 3600 * 1000 * 366;
            t.admit(alert(i, b"c"), EventTime::from_millis(ms));
        }
        assert!(t.admit(alert(9, b"d"), Some(EventTime::MAX)).is_some());
    }
}
