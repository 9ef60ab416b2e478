//! Incidents: one page for the SOC per intrusion instead of one alert per record.
//!
//! Every alert policy lets through or holds back (a held-back alert is still part of the
//! story) is filed under its principal, and joined to an open incident that shares the
//! principal or one of its access keys. An incident stands once its alerts show at least two
//! ATT&CK stages (from the rules' tags: discovery, privilege escalation, persistence,
//! credential access, exfiltration ...) and one of them is high or critical, and it holds two
//! alerts or one that is an intrusion on its own (compute credentials used away from home).
//! Its stages are listed in the order the intrusion reached them, with
//! the first and last event times and the alerts it holds; its severity is the highest of
//! theirs. At the end of an invocation every incident that stood up or grew is emitted as one
//! alert of kind `incident` with a deterministic id, so the SNS message, Security Hub finding
//! and OCSF finding of the same incident are updated as it grows. The single alerts stay in
//! the alert stream. State is bounded ([`MAX_INCIDENTS`], [`MAX_ALERTS_LISTED`]) and an
//! incident closes a day of event time after its last alert.

use std::collections::HashMap;

use crate::alert::{Alert, EventRef, IncidentFacts};
use crate::policy::Fate;
use crate::severity::{FindingKind, Severity};
use crate::time::EventTime;

/// The rule id of incidents.
pub const RULE_ID: &str = "logwarden-incident";
/// Most incidents open at once (past this the oldest close).
pub const MAX_INCIDENTS: usize = 10_000;
/// Most alert ids an incident lists (more are counted).
pub const MAX_ALERTS_LISTED: usize = 64;
/// An incident closes this long after its last alert (event time).
pub const SPAN_MS: i64 = 24 * 3_600_000;

/// The ATT&CK tactic a tag names, as an incident stage.
pub fn stage_of(tag: &str) -> Option<&'static str> {
    let t = tag.strip_prefix("attack.")?;
    Some(match t.replace('-', "_").as_str() {
        "reconnaissance" | "discovery" => "discovery",
        "initial_access" => "initial-access",
        "execution" => "execution",
        "persistence" => "persistence",
        "privilege_escalation" => "privilege-escalation",
        "defense_evasion" => "defense-evasion",
        "credential_access" => "credential-access",
        "lateral_movement" => "lateral-movement",
        "collection" => "collection",
        "command_and_control" => "command-and-control",
        "exfiltration" => "exfiltration",
        "impact" => "impact",
        _ => return None,
    })
}

#[derive(Debug, Clone)]
struct Incident {
    principal: String,
    keys: Vec<String>,
    stages: Vec<&'static str>,
    alert_ids: Vec<String>,
    /// The log events of its alerts (the last of each), bounded like an alert's.
    event_ids: Vec<String>,
    alerts: u64,
    severity: Severity,
    first: Option<EventTime>,
    last: Option<EventTime>,
    log_group: String,
    log_stream: String,
    /// Holds an alert that is an intrusion on its own.
    strong: bool,
    /// Grew since it was last emitted.
    dirty: bool,
}

impl Incident {
    fn stands(&self) -> bool {
        self.stages.len() >= 2
            && self.severity >= Severity::High
            && (self.alerts >= 2 || self.strong)
    }
}

/// The incidents of one process.
#[derive(Debug, Default)]
pub struct Incidents {
    open: HashMap<String, Incident>,
    /// Access key → the principal whose incident holds it.
    keys: HashMap<String, String>,
    /// Rule id → its tags.
    tags: HashMap<String, Vec<String>>,
}

impl Incidents {
    /// Incidents over rules with these tags (rule id → tags).
    pub fn new(tags: HashMap<String, Vec<String>>) -> Self {
        Incidents {
            tags,
            ..Incidents::default()
        }
    }

    /// Files one decided alert (sent, held back or grouped; others are not part of a story).
    pub fn observe(&mut self, alert: &Alert, fate: &Fate) {
        if !matches!(fate, Fate::Sent | Fate::HeldBack | Fate::Grouped)
            || matches!(
                alert.kind,
                FindingKind::Secret | FindingKind::Pii | FindingKind::Incident
            )
            || alert.via_deployment
        {
            return;
        }
        let principal = match (&alert.principal, alert.kind) {
            (Some(p), _) => p.clone(),
            (None, FindingKind::Threshold) => match &alert.group {
                Some(g) => g.value.clone(),
                None => return,
            },
            _ => return,
        };
        if principal.is_empty() || principal.ends_with(".amazonaws.com") {
            return;
        }
        let stages: Vec<&'static str> = self
            .tags
            .get(&alert.rule_id)
            .map(|t| t.iter().filter_map(|t| stage_of(t)).collect())
            .unwrap_or_default();
        // The incident of this principal, or of one of its keys.
        let owner = if self.open.contains_key(&principal) {
            principal.clone()
        } else {
            alert
                .links
                .iter()
                .find_map(|k| self.keys.get(k).cloned())
                .unwrap_or_else(|| principal.clone())
        };
        if !self.open.contains_key(&owner) && self.open.len() >= MAX_INCIDENTS {
            self.close_oldest();
        }
        let inc = self.open.entry(owner.clone()).or_insert_with(|| Incident {
            principal: owner.clone(),
            keys: Vec::new(),
            stages: Vec::new(),
            alert_ids: Vec::new(),
            event_ids: Vec::new(),
            alerts: 0,
            severity: Severity::Low,
            first: None,
            last: None,
            log_group: alert.log_group.clone(),
            log_stream: alert.log_stream.clone(),
            strong: false,
            dirty: false,
        });
        inc.strong |= alert.rule_id == crate::correlate::sessions::RULE_ID;
        let grew_before = inc.stands();
        for s in stages {
            if !inc.stages.contains(&s) {
                inc.stages.push(s);
            }
        }
        inc.alerts += 1;
        if inc.alert_ids.len() < MAX_ALERTS_LISTED && !inc.alert_ids.contains(&alert.id) {
            inc.alert_ids.push(alert.id.clone());
        }
        inc.severity = inc.severity.max(alert.severity);
        if let Some(e) = alert.event_ids.last()
            && inc.event_ids.len() < crate::alert::MAX_EVENT_IDS
            && !inc.event_ids.contains(e)
        {
            inc.event_ids.push(e.clone());
        }
        if let Some(t) = alert.timestamp {
            inc.first = Some(inc.first.map_or(t, |f| f.min(t)));
            inc.last = Some(inc.last.map_or(t, |l| l.max(t)));
        }
        inc.dirty = inc.dirty || inc.stands() || grew_before;
        for k in &alert.links {
            if !inc.keys.contains(k) && inc.keys.len() < 16 {
                inc.keys.push(k.clone());
                self.keys.insert(k.clone(), owner.clone());
            }
        }
    }

    /// Adds what an intruder did next to the incident of `principal`, when there is one: a
    /// call with stolen credentials that raised no alert of its own, its event and its stage.
    pub fn follow_up(
        &mut self,
        principal: &str,
        event_id: &str,
        stage: Option<&'static str>,
        time: Option<EventTime>,
    ) {
        let Some(inc) = self.open.get_mut(principal) else {
            return;
        };
        if let Some(s) = stage
            && !inc.stages.contains(&s)
        {
            inc.stages.push(s);
            inc.dirty = true;
        }
        if inc.event_ids.len() < crate::alert::MAX_EVENT_IDS
            && !inc.event_ids.iter().any(|e| e == event_id)
        {
            inc.event_ids.push(event_id.to_owned());
            inc.dirty = true;
        }
        if let Some(t) = time {
            inc.last = Some(inc.last.map_or(t, |l| l.max(t)));
        }
    }

    fn close_oldest(&mut self) {
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, i)| i.last)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest
            && let Some(i) = self.open.remove(&k)
        {
            for key in i.keys {
                self.keys.remove(&key);
            }
        }
    }

    /// The incidents that stood up or grew since the last call, as alerts of kind
    /// `incident` (same id every time, so sinks update them); incidents quiet for a day of
    /// event time before `now` close.
    pub fn take_updates(&mut self, now: Option<EventTime>) -> Vec<Alert> {
        let mut out: Vec<Alert> = self
            .open
            .values_mut()
            .filter(|i| i.dirty && i.stands())
            .map(|i| {
                i.dirty = false;
                incident_alert(i)
            })
            .collect();
        if let Some(now) = now {
            let closed: Vec<String> = self
                .open
                .iter()
                .filter(|(_, i)| i.last.is_some_and(|l| now.millis_since(l) > SPAN_MS))
                .map(|(k, _)| k.clone())
                .collect();
            for k in closed {
                if let Some(i) = self.open.remove(&k) {
                    for key in i.keys {
                        self.keys.remove(&key);
                    }
                }
            }
        }
        out.sort_by(|a, b| (&a.timestamp, &a.id).cmp(&(&b.timestamp, &b.id)));
        out
    }
}

fn incident_alert(i: &Incident) -> Alert {
    let ev = EventRef {
        log_group: &i.log_group,
        log_stream: &i.log_stream,
        id: "",
        time: i.first,
    };
    let title = format!(
        "Incident: {} — {} ({} alert(s))",
        i.principal,
        i.stages.join(" → "),
        i.alerts
    );
    let mut a = Alert::at(RULE_ID, &title, i.severity, FindingKind::Incident, &ev);
    a.id = crate::hash::id(&[
        RULE_ID,
        &i.principal,
        i.alert_ids.first().map_or("", String::as_str),
    ]);
    a.principal = Some(i.principal.clone());
    a.count = Some(i.alerts);
    a.event_ids = i.event_ids.clone();
    a.incident = Some(IncidentFacts {
        stages: i.stages.iter().map(|s| (*s).to_owned()).collect(),
        first_seen: i.first,
        last_seen: i.last,
        alert_ids: i.alert_ids.clone(),
    });
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, rule: &str, principal: &str, secs: i64, sev: Severity) -> Alert {
        let mut a = Alert::blank(rule, FindingKind::Event, sev);
        a.id = id.into();
        a.principal = Some(principal.into());
        a.timestamp = EventTime::from_millis(1_795_600_800_000 + secs * 1000);
        a
    }

    fn tags() -> HashMap<String, Vec<String>> {
        [
            ("enum", vec!["attack.discovery"]),
            ("escalate", vec!["attack.privilege_escalation"]),
            ("key", vec!["attack.persistence"]),
            ("cis", vec![]),
        ]
        .into_iter()
        .map(|(r, t)| (r.to_owned(), t.into_iter().map(str::to_owned).collect()))
        .collect()
    }

    /// The pipeline gives incidents only the tags that name a stage: every built-in rule
    /// keeps the stages its whole tag list gives.
    #[test]
    fn only_stage_tags_are_kept_and_no_rule_loses_a_stage() {
        let set = crate::detect::DetectorSet::builtin().expect("builds");
        let kept = set.tags_kept(|t| stage_of(t).is_some());
        let stages = |tags: &[String]| -> Vec<&'static str> {
            tags.iter().filter_map(|t| stage_of(t)).collect()
        };
        let all = set.tags_by_rule();
        assert!(kept.len() < all.len(), "{} of {}", kept.len(), all.len());
        assert!(kept.len() > 100, "{}", kept.len());
        for (id, tags) in &all {
            let from_kept = kept.get(id).map(|t| stages(t)).unwrap_or_default();
            assert_eq!(stages(tags), from_kept, "{id}");
        }
    }

    #[test]
    fn one_intrusion_is_one_incident_in_the_order_it_happened() {
        let mut inc = Incidents::new(tags());
        let user = "arn:aws:iam::123456789012:user/dev-jim";
        inc.observe(&alert("a1", "enum", user, 0, Severity::Medium), &Fate::Sent);
        assert!(
            inc.take_updates(None).is_empty(),
            "one stage is no incident"
        );
        inc.observe(
            &alert("a2", "escalate", user, 60, Severity::High),
            &Fate::HeldBack,
        );
        inc.observe(&alert("a3", "key", user, 90, Severity::Medium), &Fate::Sent);
        inc.observe(
            &alert(
                "x",
                "enum",
                "arn:aws:iam::123456789012:user/other",
                0,
                Severity::Low,
            ),
            &Fate::Sent,
        );
        let out = inc.take_updates(None);
        assert_eq!(out.len(), 1, "{out:?}");
        let facts = out[0].incident.as_ref().expect("incident facts");
        assert_eq!(
            facts.stages,
            ["discovery", "privilege-escalation", "persistence"]
        );
        assert_eq!(facts.alert_ids, ["a1", "a2", "a3"]);
        assert_eq!(out[0].severity, Severity::High);
        assert_eq!(out[0].kind, FindingKind::Incident);
        let id = out[0].id.clone();
        // It grows: emitted again under the same id; unchanged: not again.
        inc.observe(&alert("a4", "cis", user, 120, Severity::Low), &Fate::Sent);
        let again = inc.take_updates(None);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, id);
        assert!(inc.take_updates(None).is_empty());
    }

    #[test]
    fn suppressed_and_below_minimum_alerts_are_not_part_of_a_story() {
        let mut inc = Incidents::new(tags());
        let user = "arn:aws:iam::123456789012:user/dev-jim";
        inc.observe(
            &alert("a1", "enum", user, 0, Severity::Medium),
            &Fate::Suppressed("s".into()),
        );
        inc.observe(
            &alert("a2", "escalate", user, 60, Severity::High),
            &Fate::BelowMinimum,
        );
        assert!(inc.take_updates(None).is_empty());
    }
}
