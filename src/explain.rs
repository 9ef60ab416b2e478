//! `logwarden explain`: for each log event, why it did or did not alert.
//!
//! Explain runs **the same code it explains**: the inputs go through a replay (the same
//! driver, pipeline, engine and policy, one thread), with an [`Observer`] that records every
//! event's findings and every decision of the policy. For each event it then shows what
//! became of each candidate alert (sent, held back, grouped, suppressed, below the minimum
//! severity) at the severity replay would send it, which content rules its keywords made
//! candidates and what became of each regex match (entropy floor, validator, allowlist,
//! AWS-issued identifier), and which event rules matched and what they feed. Secrets are only
//! ever shown masked, as in alerts.
//!
//! `--format json` gives one object per event: `log_group`, `log_stream`, `event_id` (the id
//! replay lists in `event_ids`), `kind`, `alerts` (the alerts replay sends for it: `id`,
//! `rule_id`, `kind`, `severity`), `decisions` (every candidate with its fate and reason) and
//! `reasons` (the rule-by-rule trace).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::alert::{Alert, EventRef};
use crate::detect::unescape::Haystack;
use crate::detect::{DetectorSet, Verdict};
use crate::driver::Driver;
use crate::engine::Findings;
use crate::input::Input;
use crate::mask::{mask, mask_pii};
use crate::pipeline::{Observer, Pipeline};
use crate::policy::Fate;
use crate::record::Record;
use crate::replay::Naming;
use crate::severity::{FindingKind, Severity};

/// Most events explained one by one (explain is for people reading its output).
pub const MAX_EVENTS: usize = 100_000;

/// One decision of the policy about a candidate alert.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Decision {
    /// The alert id (as replay sends it, when sent).
    pub id: String,
    /// The rule.
    pub rule_id: String,
    /// secret, pii, event or threshold.
    pub kind: FindingKind,
    /// The severity the policy decided on.
    pub severity: Severity,
    /// What became of it: `sent`, `held back`, `grouped`, `suppressed`, `below minimum severity`.
    pub fate: &'static str,
    /// Why, in words (the suppression entry, the title).
    pub reason: String,
}

/// An alert replay sends for an event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SentAlert {
    /// The alert id.
    pub id: String,
    /// The rule.
    pub rule_id: String,
    /// secret, pii, event or threshold.
    pub kind: FindingKind,
    /// Its severity.
    pub severity: Severity,
}

/// What explain says of one event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Explained {
    /// Log group (as alerts show it).
    pub log_group: String,
    /// Log stream (as alerts show it).
    pub log_stream: String,
    /// The event id, as replay lists it in `event_ids`.
    pub event_id: String,
    /// The record kind (`cloudtrail`, `security-event`, ... or `not parsed`).
    pub kind: String,
    /// The alerts replay sends for this event.
    pub alerts: Vec<SentAlert>,
    /// Every candidate alert of this event and what became of it.
    pub decisions: Vec<Decision>,
    /// The rule-by-rule trace: keyword hits, regex verdicts, event rules matched.
    pub reasons: Vec<String>,
}

/// Collects what the pipeline does (the [`Observer`] of an explain run).
#[derive(Debug, Default)]
struct Collected {
    events: Vec<Explained>,
    /// (log group, event id) → index in `events`.
    index: HashMap<(String, String), usize>,
    /// The event being analysed (its decisions are made while it is current).
    current: Option<usize>,
    /// Decisions about no event listed (digests, summaries, events past the bound).
    other: Vec<Decision>,
    /// Alerts sent about no event listed.
    other_sent: Vec<SentAlert>,
    dropped_events: u64,
}

struct Recorder {
    set: Arc<DetectorSet>,
    into: Arc<Mutex<Collected>>,
}

impl Observer for Recorder {
    fn event(&mut self, ev: &EventRef<'_>, record: Option<&Record<'_>>, findings: &Findings) {
        let Ok(mut c) = self.into.lock() else { return };
        if c.events.len() >= MAX_EVENTS {
            c.dropped_events += 1;
            c.current = None;
            return;
        }
        let reasons = trace(&self.set, record, findings);
        let e = Explained {
            log_group: ev.log_group.to_owned(),
            log_stream: ev.log_stream.to_owned(),
            event_id: ev.id.to_owned(),
            kind: record.map_or("not parsed", |r| r.kind().name()).to_owned(),
            alerts: Vec::new(),
            decisions: Vec::new(),
            reasons,
        };
        let i = c.events.len();
        c.index.insert((e.log_group.clone(), e.event_id.clone()), i);
        c.events.push(e);
        c.current = Some(i);
    }

    fn decision(&mut self, alert: &Alert, fate: &Fate) {
        let Ok(mut c) = self.into.lock() else { return };
        let reason = match fate {
            Fate::Suppressed(entry) => {
                let s = self
                    .set
                    .suppressions()
                    .entries()
                    .iter()
                    .find(|s| s.location == *entry);
                match s {
                    Some(s) => format!(
                        "suppressed by {} (owner {}, until {}): {}",
                        s.location,
                        s.owner,
                        &s.expires.to_rfc3339()[..10],
                        s.reason
                    ),
                    None => format!("suppressed by {entry}"),
                }
            }
            _ => alert.title.clone(),
        };
        let d = Decision {
            id: alert.id.clone(),
            rule_id: alert.rule_id.clone(),
            kind: alert.kind,
            severity: alert.severity,
            fate: fate.as_str(),
            reason,
        };
        let sent = (*fate == Fate::Sent).then(|| SentAlert {
            id: alert.id.clone(),
            rule_id: alert.rule_id.clone(),
            kind: alert.kind,
            severity: alert.severity,
        });
        // A threshold alert or a summary is about its last event; others about the current.
        let by_id = alert
            .event_ids
            .iter()
            .rev()
            .find_map(|id| c.index.get(&(alert.log_group.clone(), id.clone())).copied());
        let at = match alert.kind {
            FindingKind::Threshold => by_id,
            _ => by_id.or(c.current),
        };
        match at {
            Some(i) => {
                let e = &mut c.events[i];
                e.decisions.push(d);
                e.alerts.extend(sent);
            }
            None => {
                c.other.push(d);
                c.other_sent.extend(sent);
            }
        }
    }
}

/// The rule-by-rule trace of one event.
fn trace(set: &DetectorSet, record: Option<&Record<'_>>, findings: &Findings) -> Vec<String> {
    let mut out = Vec::new();
    let Some(record) = record else {
        out.push(
            "no content rule keyword and no event rule literal occur: nothing evaluated".into(),
        );
        return out;
    };
    let msg = record.message().as_bytes();
    let mut hay = Haystack::default();
    hay.prepare(msg);
    let text = hay.text(msg);
    let rules = set.content().rules();
    for (r, verdicts) in set.content().trace(text) {
        let rule = &rules[r];
        for v in verdicts {
            let line = match v {
                Verdict::NoMatch => "keyword present, regex did not match".to_owned(),
                Verdict::NoSecretGroup => "regex matched without its secret group".to_owned(),
                Verdict::LowEntropy { entropy, min } => format!(
                    "regex matched, entropy {entropy:.2} under the floor {min}: not a secret"
                ),
                Verdict::Invalid => "regex matched, the validator refused it".to_owned(),
                Verdict::Refused(why) => format!("regex matched, not a secret: {}", why.as_str()),
                Verdict::Allowlisted(i) => format!(
                    "regex matched, allowlisted ({})",
                    rule.allowlist_description(i).unwrap_or("an allowlist")
                ),
                Verdict::Found(s, e) => {
                    let v = &text[s..e];
                    let shown = if rule.meta.kind == FindingKind::Pii {
                        mask_pii(v)
                    } else {
                        mask(v)
                    };
                    format!("found {shown}")
                }
            };
            out.push(format!("{}: {line}", rule.meta.id));
        }
    }
    if findings.aws_issued > 0 {
        out.push(format!(
            "{} match(es) set aside: identifiers AWS issues and logs by design (not a leak)",
            findings.aws_issued
        ));
    }
    if findings.values_over_bound > 0 {
        out.push(format!(
            "{} more distinct value(s) past the per-event bound (counted)",
            findings.values_over_bound
        ));
    }
    if !findings.candidate {
        out.push("event rules: no rule's literals occur (not evaluated)".into());
    }
    let events = set.events();
    for m in &findings.events {
        let r = m.rule.index();
        let rule = &events.rules()[r];
        let feeds: Vec<&str> = events
            .fed_by_rule(r)
            .iter()
            .map(|&(c, _)| events.correlations()[c].meta.id.as_str())
            .collect();
        let what = if rule.generate {
            format!("an alert candidate ({})", m.severity)
        } else {
            "no alert of its own".to_owned()
        };
        let fed = if feeds.is_empty() {
            String::new()
        } else {
            format!("; counted by {}", feeds.join(", "))
        };
        out.push(format!("event rule {}: matched, {what}{fed}", rule.meta.id));
    }
    out
}

/// What an explain run found.
#[derive(Debug, Default)]
pub struct Explanation {
    /// Every event, in input order.
    pub events: Vec<Explained>,
    /// Decisions about no listed event (the storm digest, burst summaries).
    pub other: Vec<Decision>,
    /// Alerts sent about no listed event.
    pub other_sent: Vec<SentAlert>,
    /// Events past [`MAX_EVENTS`], not listed.
    pub dropped_events: u64,
    /// Problems reading or decoding the inputs.
    pub errors: Vec<String>,
}

impl Explanation {
    /// How many alerts replay would send.
    pub fn alerts(&self) -> usize {
        self.events.iter().map(|e| e.alerts.len()).sum::<usize>() + self.other_sent.len()
    }

    /// Writes the explanation: text for people, or one JSON object per event.
    pub fn write(&self, json: bool, out: &mut dyn Write) -> std::io::Result<()> {
        for e in &self.events {
            if json {
                writeln!(out, "{}", serde_json::to_string(e).unwrap_or_default())?;
                continue;
            }
            writeln!(out, "{} {} ({})", e.log_group, e.event_id, e.kind)?;
            for r in &e.reasons {
                writeln!(out, "  {r}")?;
            }
            for d in &e.decisions {
                writeln!(
                    out,
                    "  {} ({}, {}): {}",
                    d.rule_id, d.severity, d.fate, d.reason
                )?;
            }
            let verdict = match e.alerts.len() {
                0 => "no alert".to_owned(),
                n => format!("{n} alert(s)"),
            };
            writeln!(out, "  => {verdict}")?;
        }
        if json {
            if !self.other.is_empty() {
                let v = serde_json::json!({"at_end_of_run": self.other, "alerts": self.other_sent});
                writeln!(out, "{v}")?;
            }
        } else if !self.other.is_empty() {
            writeln!(out, "at the end of the run")?;
            for d in &self.other {
                writeln!(
                    out,
                    "  {} ({}, {}): {}",
                    d.rule_id, d.severity, d.fate, d.reason
                )?;
            }
        }
        if self.dropped_events > 0 {
            let note = format!(
                "{} more event(s) analysed but not listed (explain lists {MAX_EVENTS})",
                self.dropped_events
            );
            if json {
                writeln!(out, "{}", serde_json::json!({"note": note}))?;
            } else {
                writeln!(out, "{note}")?;
            }
        }
        Ok(())
    }
}

/// Explains `inputs`: replays them through `pipeline` (the pipeline replay would build from
/// the same settings) on one thread, recording every event and decision.
pub async fn explain(mut pipeline: Pipeline, inputs: &[Input], naming: &Naming) -> Explanation {
    let into = Arc::new(Mutex::new(Collected::default()));
    pipeline.observe(Box::new(Recorder {
        set: Arc::clone(pipeline.engine().detectors()),
        into: Arc::clone(&into),
    }));
    let mut driver = Driver::new(pipeline, crate::driver::Outputs::default());
    let mut errors = Vec::new();
    {
        let mut local = |_: &Alert| {};
        let mut error = |e: String| errors.push(e);
        crate::replay::replay(&mut driver, inputs, naming, 1, &mut local, &mut error).await;
        if let Err(e) = driver.finish(&mut local).await {
            errors.push(e.to_string());
        }
    }
    drop(driver);
    let c = match Arc::try_unwrap(into) {
        Ok(m) => m.into_inner().unwrap_or_default(),
        Err(shared) => shared
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default(),
    };
    Explanation {
        events: c.events,
        other: c.other,
        other_sent: c.other_sent,
        dropped_events: c.dropped_events,
        errors,
    }
}
