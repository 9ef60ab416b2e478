//! What leaves logwarden: an [`Alert`], serialized as the alert JSON users and SOC tools rely
//! on (see `docs/interface.md`).
//!
//! Two rules hold for every alert:
//! - **No secret leaves in clear.** Secrets and personal data appear only as [`Evidence`]: a
//!   masked preview and a keyed fingerprint.
//! - **Every field that comes from log content is bounded and inert** ([`Alert::bound`]): at
//!   most [`MAX_FIELD_BYTES`] per field and [`MAX_EVENT_IDS`] event ids, each cut marked
//!   (`…[+N bytes]`), control characters and chat markup neutralised ([`crate::mask::inert`]),
//!   so an alert always fits its sink and cannot write into what the SOC reads.

use serde::{Serialize, Serializer};

pub use crate::mask::Evidence;
use crate::mask::{bounded, inert};
use crate::severity::{FindingKind, Severity};
use crate::time::EventTime;

/// Longest text field of an alert that comes from log content (title, log group and stream,
/// group value, event id), in bytes.
pub const MAX_FIELD_BYTES: usize = 1024;
/// Most event ids an alert lists.
pub const MAX_EVENT_IDS: usize = 16;
/// Room for the mark of a cut (`…[+123456789 bytes]`).
const CUT_MARK_BYTES: usize = 32;

/// The group of a threshold alert (or of a grouped burst).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The group-by field, e.g. `details.sourceIp`.
    pub field: String,
    /// Its value (masked where it holds a secret or personal data, cut when long).
    pub value: String,
}

/// A span of event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Start, RFC 3339.
    #[serde(serialize_with = "rfc3339")]
    pub start: EventTime,
    /// End, RFC 3339.
    #[serde(serialize_with = "rfc3339")]
    pub end: EventTime,
}

/// What an incident holds (alerts of kind `incident`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    /// ATT&CK stages, in the order the intrusion reached them.
    pub stages: Vec<String>,
    /// Event time of its first alert.
    pub first_seen: Option<EventTime>,
    /// Event time of its last alert.
    pub last_seen: Option<EventTime>,
    /// The alerts it holds.
    pub alert_ids: Vec<String>,
}

/// What a provider said of a found key when asked (`--verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verified {
    /// The key works.
    Live,
    /// The provider refused it: revoked or never valid.
    Revoked,
    /// No answer that tells (timeout, rate limit, an error of the provider's).
    Unknown,
}

fn rfc3339<S: Serializer>(t: &EventTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

fn rfc3339_or_empty<S: Serializer>(t: &Option<EventTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339()),
        None => s.serialize_str(""),
    }
}

/// One alert, as printed and published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Deterministic id: the same input gives the same id (retries deduplicate).
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
    /// Event time, when the event carried one.
    pub timestamp: Option<EventTime>,
    /// Masked evidence for secret/PII alerts.
    pub evidence: Option<Evidence>,
    /// Group of a threshold alert or of a grouped burst.
    pub group: Option<Group>,
    /// Number of events (or distinct values, or the sum) at the crossing of a threshold alert;
    /// the number of matches a burst summary holds.
    pub count: Option<u64>,
    /// The span that held them: the first event of the span to the crossing.
    pub window: Option<Window>,
    /// Who acted, when the record says (a CloudTrail principal's ARN, an application's user
    /// id, a client address): the key storm control and incidents use.
    pub principal: Option<String>,
    /// How many alerts of this rule, principal and value storm control held back since the
    /// last one that went out.
    pub held_back: u64,
    /// What the provider said of the key, for secrets checked with `--verify`.
    pub verified: Option<Verified>,
    /// For an incident: its stages, times and alerts.
    pub incident: Option<IncidentFacts>,
    /// What links it to others of one intrusion besides its principal (access key ids); not
    /// part of the JSON.
    pub links: Vec<String>,
    /// Made by a deployment (CloudFormation): not part of an intrusion's story; not part of
    /// the JSON.
    pub via_deployment: bool,
}

/// The JSON form of an [`Alert`] (field order and names of the interface).
#[derive(Serialize)]
struct AlertJson<'a> {
    id: &'a str,
    rule_id: &'a str,
    title: &'a str,
    severity: Severity,
    kind: FindingKind,
    log_group: &'a str,
    log_stream: &'a str,
    event_ids: &'a [String],
    #[serde(serialize_with = "rfc3339_or_empty")]
    timestamp: &'a Option<EventTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: &'a Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: &'a Option<Group>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: &'a Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: &'a Option<Window>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: &'a Option<Verified>,
    held_back: u64,
    /// The old name of `held_back`, kept for one release.
    suppressed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    stages: Option<&'a [String]>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rfc3339_or_empty_opt"
    )]
    first_seen: Option<Option<EventTime>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rfc3339_or_empty_opt"
    )]
    last_seen: Option<Option<EventTime>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alert_ids: Option<&'a [String]>,
}

fn rfc3339_or_empty_opt<S: Serializer>(
    t: &Option<Option<EventTime>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339_or_empty(t, s),
        None => s.serialize_none(),
    }
}

impl Serialize for Alert {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AlertJson {
            id: &self.id,
            rule_id: &self.rule_id,
            title: &self.title,
            severity: self.severity,
            kind: self.kind,
            log_group: &self.log_group,
            log_stream: &self.log_stream,
            event_ids: &self.event_ids,
            timestamp: &self.timestamp,
            evidence: &self.evidence,
            group: &self.group,
            count: &self.count,
            window: &self.window,
            principal: &self.principal,
            verified: &self.verified,
            held_back: self.held_back,
            suppressed: self.held_back,
            stages: self.incident.as_ref().map(|i| i.stages.as_slice()),
            first_seen: self.incident.as_ref().map(|i| i.first_seen),
            last_seen: self.incident.as_ref().map(|i| i.last_seen),
            alert_ids: self.incident.as_ref().map(|i| i.alert_ids.as_slice()),
        }
        .serialize(s)
    }
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
    /// An alert of rule `rule_id` with nothing else filled in (ids, event and evidence are
    /// the caller's).
    pub fn blank(rule_id: &str, kind: FindingKind, severity: Severity) -> Alert {
        Alert {
            id: String::new(),
            rule_id: rule_id.to_owned(),
            title: String::new(),
            severity,
            kind,
            log_group: String::new(),
            log_stream: String::new(),
            event_ids: Vec::new(),
            timestamp: None,
            evidence: None,
            group: None,
            count: None,
            window: None,
            principal: None,
            held_back: 0,
            verified: None,
            incident: None,
            links: Vec::new(),
            via_deployment: false,
        }
    }

    /// An alert of `rule_id` about event `ev`.
    pub fn at(
        rule_id: &str,
        title: &str,
        severity: Severity,
        kind: FindingKind,
        ev: &EventRef<'_>,
    ) -> Alert {
        let mut a = Alert::blank(rule_id, kind, severity);
        a.title = bounded(title, MAX_FIELD_BYTES);
        a.log_group = bounded(ev.log_group, MAX_FIELD_BYTES);
        a.log_stream = bounded(ev.log_stream, MAX_FIELD_BYTES);
        if !ev.id.is_empty() {
            a.event_ids = vec![bounded(ev.id, MAX_FIELD_BYTES)];
        }
        a.timestamp = ev.time;
        a
    }

    /// A secret or PII finding: `evidence` of the `ordinal`-th distinct value of rule
    /// `rule_id` in event `ev` (0 for the first). The id depends on the rule, the event and
    /// the ordinal (not on the fingerprint key, so instances with different keys agree), so
    /// two values in one event are two alerts.
    pub fn content(
        rule_id: &str,
        title: &str,
        severity: Severity,
        kind: FindingKind,
        ev: &EventRef<'_>,
        ordinal: usize,
        evidence: Evidence,
    ) -> Alert {
        let title = format!("{title} in {}", ev.log_group);
        let mut a = Alert::at(rule_id, &title, severity, kind, ev);
        a.id = match ordinal {
            0 => crate::hash::id(&[rule_id, ev.log_group, ev.log_stream, ev.id]),
            n => crate::hash::id(&[rule_id, ev.log_group, ev.log_stream, ev.id, &n.to_string()]),
        };
        a.evidence = Some(evidence);
        a
    }

    /// A match of event rule `rule_id` (with the severity the event gave it) on event `ev`.
    pub fn event(rule_id: &str, title: &str, severity: Severity, ev: &EventRef<'_>) -> Alert {
        let mut a = Alert::at(rule_id, title, severity, FindingKind::Event, ev);
        a.id = crate::hash::id(&[rule_id, ev.log_group, ev.log_stream, ev.id]);
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

    /// Bounds and neutralises what can still be long or hostile after construction: the
    /// event id list, and every text field that comes from log content (a field already cut
    /// at construction keeps its cut mark).
    pub fn bound(&mut self) {
        let bounded = |s: &str, max: usize| bounded(s, max + CUT_MARK_BYTES);
        if self.event_ids.len() > MAX_EVENT_IDS {
            let more = self.event_ids.len() - MAX_EVENT_IDS;
            self.event_ids.truncate(MAX_EVENT_IDS);
            self.event_ids.push(format!("…[+{more} more]"));
        }
        for id in &mut self.event_ids {
            *id = inert(&bounded(id, MAX_FIELD_BYTES));
        }
        self.title = inert(&bounded(&self.title, MAX_FIELD_BYTES));
        self.log_group = inert(&bounded(&self.log_group, MAX_FIELD_BYTES));
        self.log_stream = inert(&bounded(&self.log_stream, MAX_FIELD_BYTES));
        if let Some(g) = &mut self.group {
            g.field = inert(&bounded(&g.field, MAX_FIELD_BYTES));
            g.value = inert(&bounded(&g.value, MAX_FIELD_BYTES));
        }
        if let Some(p) = &mut self.principal {
            *p = inert(&bounded(p, MAX_FIELD_BYTES));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Fingerprinter;

    #[test]
    fn content_fields_are_bounded_and_cuts_marked() {
        let huge = "g".repeat(300_000);
        let ev = EventRef {
            log_group: &huge,
            log_stream: &huge,
            id: &huge,
            time: EventTime::from_millis(0),
        };
        let fp = Fingerprinter::new(b"k");
        let mut a = Alert::content(
            "r",
            "T",
            Severity::High,
            FindingKind::Secret,
            &ev,
            0,
            Evidence::of(b"secretsecret", false, 1, &fp),
        );
        a.bound();
        let json = a.to_json();
        assert!(json.len() < 8 * 1024, "{}", json.len());
        assert!(
            a.log_group.ends_with("…[+298976 bytes]"),
            "{}",
            &a.log_group[1000..]
        );
    }

    #[test]
    fn two_values_in_one_event_are_two_alerts() {
        let ev = EventRef {
            log_group: "g",
            log_stream: "s",
            id: "1",
            time: None,
        };
        let fp = Fingerprinter::new(b"k");
        let one = |n: usize, v: &[u8]| {
            Alert::content(
                "r",
                "T",
                Severity::High,
                FindingKind::Secret,
                &ev,
                n,
                Evidence::of(v, false, 1, &fp),
            )
        };
        assert_ne!(one(0, b"first-value").id, one(1, b"other-value").id);
        // The id does not depend on the key (instances with different keys agree).
        let other = Fingerprinter::new(b"another key");
        let again = Alert::content(
            "r",
            "T",
            Severity::High,
            FindingKind::Secret,
            &ev,
            0,
            Evidence::of(b"first-value", false, 1, &other),
        );
        assert_eq!(one(0, b"first-value").id, again.id);
    }

    #[test]
    fn held_back_is_written_under_both_names_and_times_as_rfc3339() {
        let mut a = Alert::blank("r", FindingKind::Event, Severity::Low);
        a.held_back = 3;
        a.timestamp = EventTime::from_millis(0);
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).expect("json");
        assert_eq!(v["held_back"], 3);
        assert_eq!(v["suppressed"], 3);
        assert_eq!(v["timestamp"], "1970-01-01T00:00:00.000Z");
        a.timestamp = None;
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).expect("json");
        assert_eq!(v["timestamp"], "");
    }

    #[test]
    fn text_from_logs_cannot_write_into_what_the_soc_reads() {
        let mut a = Alert::blank("r", FindingKind::Threshold, Severity::High);
        a.title = "Failed logins by u-1\nSeverity: low <!channel>".into();
        a.group = Some(Group {
            field: "details.userId".into(),
            value: "x\r\n<@U123>".into(),
        });
        a.bound();
        assert!(!a.title.contains('\n') && !a.title.contains("<!channel>"));
        let g = a.group.as_ref().map(|g| g.value.as_str()).unwrap_or("");
        assert!(!g.contains('\n') && !g.contains("<@"), "{g}");
    }
}
