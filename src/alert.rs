//! Stage 5: alerts. An [`Alert`] is what leaves logwarden: the JSON of INTERFACE.md.
//!
//! The constructors here ([`Alert::content`], [`Alert::event`], [`Alert::threshold`],
//! [`Alert::state_pressure`]) are the only places alerts are made. Two rules hold for every
//! alert they make:
//! - **No secret leaves in clear.** [`Evidence`] holds a masked preview and a keyed
//!   fingerprint ([`Fingerprinter`], HMAC-SHA256) built directly from the matched bytes, which
//!   are then dropped.
//! - **Every field that comes from log content is bounded** ([`MAX_FIELD_BYTES`], at most
//!   [`MAX_EVENT_IDS`] event ids), and a cut is marked (`…[+N bytes]`), so an alert always fits
//!   its sink (SNS takes 256 KiB) whatever the log holds.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::correlate::Crossing;
use crate::detect::events::CorrelationRule;
use crate::detect::{FindingKind, RuleMeta, Severity};
use crate::time::EventTime;

/// Longest text field of an alert that comes from log content (title, log group and stream,
/// group value, event id), in bytes.
pub const MAX_FIELD_BYTES: usize = 1024;
/// Most event ids an alert lists.
pub const MAX_EVENT_IDS: usize = 16;

/// Keyed fingerprints: the first 16 hex digits of HMAC-SHA256(key, value). The same value
/// gives the same fingerprint under one key, so a SOC can tell repeats and check a suspected
/// value (`logwarden fingerprint`), but without the key a fingerprint cannot be reversed by
/// trying candidate values (an SSN or card number has few enough of them to try all).
#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter(**REDACTED**)")
    }
}

impl Fingerprinter {
    /// A fingerprinter with `key` (at least 16 bytes are expected; see `crate::keys`).
    pub fn new(key: &[u8]) -> Self {
        Fingerprinter { key: key.to_vec() }
    }

    /// A key of 32 random bytes made once per process: fingerprints agree within the process
    /// and mean nothing outside it (for library use without a configured key).
    pub fn ephemeral() -> std::sync::Arc<Fingerprinter> {
        static KEY: std::sync::OnceLock<std::sync::Arc<Fingerprinter>> = std::sync::OnceLock::new();
        std::sync::Arc::clone(KEY.get_or_init(|| {
            let mut key = [0u8; 32];
            let random = std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key));
            if random.is_err() {
                // No /dev/urandom: a key from the clock and the address space, still unknown
                // outside the process.
                let seed = format!("{:?}{:p}", std::time::SystemTime::now(), &key);
                key.copy_from_slice(&Sha256::digest(seed.as_bytes()));
            }
            std::sync::Arc::new(Fingerprinter::new(&key))
        }))
    }

    /// The fingerprint of `value`.
    pub fn fingerprint(&self, value: &[u8]) -> String {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(value);
                hex16(&mac.finalize().into_bytes())
            }
            Err(_) => hex16(&Sha256::digest([&self.key[..], value].concat())),
        }
    }
}

/// Masked evidence of a secret or PII value. The value itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// A preview: secrets show at most four characters at each end
    /// (`AKIA************MPLE`), personal data at most its last four (`*******6789`).
    pub masked: String,
    /// The keyed fingerprint ([`Fingerprinter`]).
    pub fingerprint: String,
    /// How many matches of this rule the log event held (the evidence shows the first).
    pub matches: usize,
}

impl Evidence {
    /// Builds evidence from the matched bytes.
    pub fn of(secret: &[u8], kind: FindingKind, matches: usize, fp: &Fingerprinter) -> Self {
        Evidence {
            masked: match kind {
                FindingKind::Pii => mask_pii(secret),
                _ => mask(secret),
            },
            fingerprint: fp.fingerprint(secret),
            matches,
        }
    }
}

fn shown(c: char) -> char {
    if c.is_control() || is_bidi(c) { '?' } else { c }
}

/// Bidirectional-text controls, which can reorder what a terminal shows.
pub fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Masks a secret: keeps `min(4, len/5)` characters at each end, replaces the rest with `*`
/// (at most 24 of them, so long keys stay readable). Control characters are never shown.
pub fn mask(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let keep = (n / 5).min(4);
    let hidden = n - 2 * keep;
    let mut out = String::with_capacity(keep * 2 + hidden.min(24) + 3);
    out.extend(chars[..keep].iter().map(|&c| shown(c)));
    out.extend(std::iter::repeat_n('*', hidden.min(24)));
    if hidden > 24 {
        out.push('…');
    }
    out.extend(chars[n - keep..].iter().map(|&c| shown(c)));
    out
}

/// Masks personal data: shows at most its last four characters (a card number's last four,
/// as PCI DSS allows), fewer for short values (`len/4`).
pub fn mask_pii(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let keep = (n / 4).min(4);
    let hidden = n - keep;
    let mut out: String = std::iter::repeat_n('*', hidden.min(24)).collect();
    out.extend(chars[n - keep..].iter().map(|&c| shown(c)));
    out
}

fn hex16(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(16);
    for b in &digest[..8] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A deterministic id from its parts: 32 hex digits of SHA-256 over the parts, NUL-separated.
/// The same rule, stream and event (or episode) always give the same id, so a retried batch
/// can be deduplicated downstream.
pub fn alert_id(parts: &[&str]) -> String {
    let d = crate::hash::of(parts).finish();
    let mut s = hex16(&d[..8]);
    s.push_str(&hex16(&d[8..16]));
    s
}

/// `s` cut to `max` bytes at a character boundary, the cut marked with how much was dropped.
pub fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let cut = crate::decode::floor_char_boundary(s, max);
    format!("{}…[+{} bytes]", &s[..cut], s.len() - cut)
}

/// The group of a threshold alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The group-by field, e.g. `details.sourceIp`.
    pub field: String,
    /// Its value (masked where it holds a secret or personal data, cut when long).
    pub value: String,
}

/// A time window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Start, RFC 3339.
    pub start: String,
    /// End, RFC 3339.
    pub end: String,
}

/// One alert, as printed and published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Deterministic id.
    pub id: String,
    /// Detector id.
    pub rule_id: String,
    /// One line for humans.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// secret, pii, event or threshold.
    pub kind: FindingKind,
    /// Source log group.
    pub log_group: String,
    /// Source log stream.
    pub log_stream: String,
    /// The log events that produced it.
    pub event_ids: Vec<String>,
    /// Event time (RFC 3339), or empty when the event carried none.
    pub timestamp: String,
    /// Masked evidence for secret/PII alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Group of a threshold alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// Number of events (or distinct values, or the sum) at the crossing of a threshold
    /// alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The span that held them: the first event of the span to the crossing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// How many alerts of this rule and key were held back since the last one.
    pub suppressed: u64,
}

/// A message-free view of one log event, for building alerts.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    /// Log group.
    pub log_group: &'a str,
    /// Log stream.
    pub log_stream: &'a str,
    /// Log event id.
    pub id: &'a str,
    /// The event's (trusted) time.
    pub time: Option<EventTime>,
}

impl Alert {
    fn base(
        rule_id: &str,
        title: &str,
        severity: Severity,
        kind: FindingKind,
        ev: &EventRef<'_>,
    ) -> Alert {
        Alert {
            id: String::new(),
            rule_id: rule_id.to_owned(),
            title: bounded(title, MAX_FIELD_BYTES),
            severity,
            kind,
            log_group: bounded(ev.log_group, MAX_FIELD_BYTES),
            log_stream: bounded(ev.log_stream, MAX_FIELD_BYTES),
            event_ids: vec![bounded(ev.id, MAX_FIELD_BYTES)],
            timestamp: ev.time.map(EventTime::to_rfc3339).unwrap_or_default(),
            evidence: None,
            group: None,
            count: None,
            window: None,
            suppressed: 0,
        }
    }

    /// A secret or PII finding of content rule `rule` in event `ev`: `secret` is the first
    /// match (masked and fingerprinted here), `matches` how many the event held. The id
    /// depends on rule, log group, stream and event id.
    pub fn content(
        rule: &RuleMeta,
        ev: &EventRef<'_>,
        secret: &[u8],
        matches: usize,
        fp: &Fingerprinter,
    ) -> Alert {
        let title = format!("{} in {}", rule.title, ev.log_group);
        let mut a = Alert::base(&rule.id, &title, rule.severity, rule.kind, ev);
        a.id = alert_id(&[&rule.id, ev.log_group, ev.log_stream, ev.id]);
        a.evidence = Some(Evidence::of(secret, rule.kind, matches, fp));
        a
    }

    /// A match of event rule `rule` (with the severity the event gave it) on event `ev`.
    pub fn event(rule: &RuleMeta, severity: Severity, ev: &EventRef<'_>) -> Alert {
        let mut a = Alert::base(&rule.id, &rule.title, severity, FindingKind::Event, ev);
        a.id = alert_id(&[&rule.id, ev.log_group, ev.log_stream, ev.id]);
        a
    }

    /// The threshold alert of an episode of `rule`. `group` is the group value as it may be
    /// shown (masked by the caller where it holds a secret).
    ///
    /// Its id depends only on the rule, the group value's key and the **slot** of the
    /// episode's start: the timespan-long slot of the clock that holds it. Two episodes of one
    /// key start more than a timespan apart, so they never share a slot (or an id); and where
    /// events arrive in another order or spread over instances, the opening seen may be a
    /// little later than the earliest possible one, but it falls in the same slot unless a
    /// slot boundary lies between the two, so the alert keeps its id.
    pub fn threshold(rule: &CorrelationRule, c: &Crossing, group: &str) -> Alert {
        let field = rule.group_label();
        let value = bounded(group, MAX_FIELD_BYTES);
        let ev = EventRef {
            log_group: &c.witness.log_group,
            log_stream: &c.witness.log_stream,
            id: &c.witness.event_id,
            time: Some(c.episode.start),
        };
        let title = format!("{} ({field}={value})", rule.meta.title);
        let mut a = Alert::base(
            &rule.meta.id,
            &title,
            rule.meta.severity,
            FindingKind::Threshold,
            &ev,
        );
        let start = c.episode.start.to_rfc3339();
        let span = rule.timespan_ms.max(1);
        let slot = EventTime::clamped(c.episode.start.as_millis().div_euclid(span) * span);
        a.id = alert_id(&[
            &rule.meta.id,
            &format!("{:032x}", c.key.group),
            &slot.to_rfc3339(),
        ]);
        a.group = Some(Group {
            field: bounded(&field, MAX_FIELD_BYTES),
            value,
        });
        a.count = Some(if c.measure.is_finite() && c.measure > 0.0 {
            c.measure.round() as u64
        } else {
            0
        });
        a.window = Some(Window {
            start: c.span_start.to_rfc3339(),
            end: start,
        });
        a
    }

    /// A warning that correlation state was under pressure (keys evicted to stay within
    /// bounds: a flood may be hiding a burst). `evicted` keys so far; dated `now`.
    pub fn state_pressure(evicted: u64, keys: usize, now: Option<EventTime>) -> Alert {
        let ev = EventRef {
            log_group: "logwarden",
            log_stream: "correlation-state",
            id: "",
            time: now,
        };
        let title = format!(
            "Correlation state under pressure: {evicted} group key(s) evicted ({keys} held); a flood of distinct keys may hide a burst"
        );
        let mut a = Alert::base(
            "logwarden-correlation-state-pressure",
            &title,
            Severity::Medium,
            FindingKind::Event,
            &ev,
        );
        a.event_ids.clear();
        let hour = now
            .map(|t| t.as_millis().div_euclid(3_600_000))
            .unwrap_or(0);
        a.id = alert_id(&[&a.rule_id, &hour.to_string()]);
        a
    }

    /// The alert as one line of JSON.
    pub fn to_json(&self) -> String {
        // An Alert holds only strings, integers and enums: serializing it cannot fail, and
        // a test (`alerts_always_serialize`) pins that.
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                r#"{{"id":"{}","error":"alert could not be serialized: {e}"}}"#,
                self.id
            )
        })
    }

    /// Bounds what can still be long after construction (the event id list, the title after
    /// masking).
    pub fn bound(&mut self) {
        if self.event_ids.len() > MAX_EVENT_IDS {
            let more = self.event_ids.len() - MAX_EVENT_IDS;
            self.event_ids.truncate(MAX_EVENT_IDS);
            self.event_ids.push(format!("…[+{more} more]"));
        }
        self.title = bounded(&self.title, MAX_FIELD_BYTES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_ends_only() {
        assert_eq!(mask(b"AKIAIOSFODNN7EXAMPLE"), "AKIA************MPLE");
        assert_eq!(mask(b"secret"), "s****t");
        assert_eq!(mask(b"abc"), "***");
        assert_eq!(mask(b""), "");
        let long = "x".repeat(100);
        let m = mask(long.as_bytes());
        assert!(m.len() < 40, "{m}");
        assert_eq!(mask("\u{202E}bcdefghijk".as_bytes()), "?b*******jk");
    }

    #[test]
    fn pii_shows_at_most_the_last_four() {
        assert_eq!(mask_pii(b"536-90-4347"), "*********47");
        assert_eq!(mask_pii(b"4111111111111111"), "************1111");
        assert_eq!(mask_pii(b"abc"), "***");
        assert_eq!(mask_pii(b"jane.doe@example.org"), "****************.org");
    }

    #[test]
    fn fingerprints_are_keyed() {
        let a = Fingerprinter::new(b"key one, 32 bytes long.........");
        let b = Fingerprinter::new(b"key two, 32 bytes long.........");
        assert_eq!(a.fingerprint(b"abc").len(), 16);
        assert_eq!(a.fingerprint(b"abc"), a.fingerprint(b"abc"));
        assert_ne!(a.fingerprint(b"abc"), b.fingerprint(b"abc"));
        // Not the plain SHA-256 prefix any more.
        assert_ne!(a.fingerprint(b"abc"), "ba7816bf8f01cfea");
        // RFC 4231 test case 2.
        let rfc = Fingerprinter::new(b"Jefe");
        assert_eq!(
            rfc.fingerprint(b"what do ya want for nothing?"),
            "5bdcc146bf60754e"
        );
        assert!(!format!("{a:?}").contains("key one"));
    }

    #[test]
    fn ids_are_deterministic_and_separated() {
        assert_eq!(alert_id(&["a", "b"]), alert_id(&["a", "b"]));
        assert_ne!(alert_id(&["ab", ""]), alert_id(&["a", "b"]));
        assert_eq!(alert_id(&["x"]).len(), 32);
    }

    #[test]
    fn content_fields_are_bounded_and_cuts_marked() {
        let meta = RuleMeta {
            id: "r".into(),
            title: "T".into(),
            severity: Severity::High,
            kind: FindingKind::Secret,
            tags: Vec::new(),
            location: Default::default(),
        };
        let huge = "g".repeat(300_000);
        let ev = EventRef {
            log_group: &huge,
            log_stream: &huge,
            id: &huge,
            time: EventTime::from_millis(0),
        };
        let a = Alert::content(&meta, &ev, b"secretsecret", 1, &Fingerprinter::new(b"k"));
        let json = a.to_json();
        assert!(json.len() < 8 * 1024, "{}", json.len());
        assert!(
            a.log_group.ends_with("…[+298976 bytes]"),
            "{}",
            &a.log_group[1000..]
        );
    }
}
