//! Change bursts: the matches of a grouped event rule (`logwarden.group_by`) by one principal
//! within a window make one alert at the first match, and a summary listing the rest
//! ("grouped") when the burst ends, when the table is full, or at the end of the invocation.
//!
//! Changes made through CloudFormation and changes made by hand are separate bursts, even by
//! one principal: a hand-made change never hides inside a summary labelled "via
//! CloudFormation". A summary carries the highest severity of the matches it holds.

use std::collections::{BTreeMap, HashMap};

use crate::alert::{Alert, EventRef, Group, MAX_EVENT_IDS};
use crate::detect::sigma::Grouping;
use crate::mask::bounded;
use crate::record::Record;
use crate::severity::Severity;
use crate::time::EventTime;

/// Most open groups kept (past this, every open group is summarised and closed).
pub const MAX_GROUPS: usize = 10_000;

/// Identifies a burst: the rule, the group value, and whether its changes came through
/// CloudFormation.
type BurstKey = (String, String, bool);

/// One open group of a grouped event rule: its first alert was sent; later matches are
/// counted and listed until the summary.
#[derive(Debug)]
struct OpenGroup {
    last: Option<EventTime>,
    held: u64,
    changes: BTreeMap<String, u64>,
    held_ids: Vec<String>,
    /// The first alert, the summary's template.
    template: Alert,
    /// The rule's title as the summary shows it.
    title: String,
    /// The group value as alerts show it (masked where it holds a secret).
    shown: String,
    /// The highest severity of the grouped matches.
    severity: Severity,
}

impl OpenGroup {
    /// The summary of the matches grouped since the first alert (none if there are none);
    /// the group starts counting again.
    fn summary(&mut self) -> Option<Alert> {
        if self.held == 0 {
            return None;
        }
        let mut a = self.template.clone();
        let list: Vec<String> = self
            .changes
            .iter()
            .filter(|(c, _)| !c.is_empty())
            .map(|(c, n)| format!("{c}×{n}"))
            .collect();
        a.title = format!(
            "{}: {} matching call(s) by {} in this burst, {} after the first alert{}",
            self.title,
            self.held + 1,
            self.shown,
            self.held,
            if list.is_empty() {
                String::new()
            } else {
                format!(" ({})", list.join(", "))
            }
        );
        a.severity = a.severity.max(self.severity);
        a.count = Some(self.held + 1);
        a.held_back = 0;
        a.event_ids = std::mem::take(&mut self.held_ids);
        a.timestamp = self.last;
        let time = self.last.map(EventTime::to_rfc3339).unwrap_or_default();
        a.id = crate::hash::id(&[&a.rule_id, &self.shown, &time, "summary"]);
        self.held = 0;
        self.severity = Severity::Low;
        self.changes.clear();
        Some(a)
    }
}

/// What became of a match of a grouped rule.
#[derive(Debug)]
pub enum Admitted {
    /// The first of a burst: this alert (its title naming the group) goes on.
    First(Alert),
    /// Joined an open burst: listed in its summary (the alert it would have been).
    Grouped(Alert),
}

/// Grouped event rules' open bursts, per (rule, group value, via CloudFormation).
#[derive(Debug, Default)]
pub struct Bursts {
    open: HashMap<BurstKey, OpenGroup>,
    /// Summaries due before the end of the invocation (a burst ended and a new one began, or
    /// the table was full).
    ready: Vec<Alert>,
}

impl Bursts {
    /// Admits a match of a rule grouped by `g`: the first of a burst goes on (its title naming
    /// the group), later ones are grouped. `redact` masks a group value that holds a secret.
    pub fn admit(
        &mut self,
        g: &Grouping,
        record: &Record<'_>,
        mut alert: Alert,
        via_cloudformation: bool,
        ev: &EventRef<'_>,
        redact: &mut dyn FnMut(&str) -> String,
    ) -> Admitted {
        let Some(value) = record.field(&g.field).and_then(|v| v.to_text()) else {
            return Admitted::First(alert);
        };
        let value = bounded(&value, 256);
        let change = g
            .list_field
            .as_deref()
            .and_then(|f| record.field(f))
            .and_then(|v| v.to_text())
            .map(|c| bounded(&c, 64))
            .unwrap_or_default();
        let key = (alert.rule_id.clone(), value.clone(), via_cloudformation);
        if let Some(open) = self.open.get_mut(&key) {
            let near = match (open.last, ev.time) {
                (Some(l), Some(t)) => t.millis_since(l).abs() <= g.window_ms,
                _ => true,
            };
            if near {
                open.held += 1;
                open.severity = open.severity.max(alert.severity);
                *open.changes.entry(change).or_default() += 1;
                if open.held_ids.len() < MAX_EVENT_IDS {
                    open.held_ids.push(ev.id.to_owned());
                }
                open.last = open.last.max(ev.time);
                return Admitted::Grouped(alert);
            }
            // The burst ended and a new one begins: the old one's summary now.
            self.ready.extend(open.summary());
        }
        if self.open.len() >= MAX_GROUPS {
            // Full (a flood of principals): every open group's summary now, none lost.
            let mut keys: Vec<_> = self.open.keys().cloned().collect();
            keys.sort();
            for k in keys {
                if let Some(mut g) = self.open.remove(&k) {
                    self.ready.extend(g.summary());
                }
            }
        }
        let shown = redact(&value);
        let title = alert.title.clone();
        alert.title = format!("{title} by {shown}");
        alert.group = Some(Group {
            field: g.field.clone(),
            value: shown.clone(),
        });
        let mut changes = BTreeMap::new();
        changes.insert(change, 1);
        self.open.insert(
            key,
            OpenGroup {
                last: ev.time,
                held: 0,
                changes,
                held_ids: Vec::new(),
                template: alert.clone(),
                title,
                shown,
                severity: Severity::Low,
            },
        );
        Admitted::First(alert)
    }

    /// Summaries of bursts that ended early (a new burst of the same key began, or the table
    /// filled), to send now.
    pub fn take_ready(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.ready)
    }

    /// At the end of an invocation: for every burst with matches since its alert, a summary
    /// listing them; bursts whose window has passed (a day after `now`) are closed.
    pub fn summaries(&mut self, now: Option<EventTime>) -> Vec<Alert> {
        let mut out = std::mem::take(&mut self.ready);
        out.extend(self.open.values_mut().filter_map(OpenGroup::summary));
        if let Some(now) = now {
            self.open.retain(|_, g| {
                g.last
                    .is_some_and(|l| now.millis_since(l) <= 24 * 3_600_000)
            });
        }
        // In a stable order (the map's is random per process): replays must repeat.
        out.sort_by(|a, b| {
            (&a.timestamp, &a.rule_id, &a.id).cmp(&(&b.timestamp, &b.rule_id, &b.id))
        });
        out
    }
}
