//! `logwarden explain`: for each log event, why it did or did not alert.
//!
//! Per event it shows which content rules its keywords (or digit runs) made candidates and
//! what became of each regex match (the masked value, then the entropy floor, validator or
//! allowlist that dropped it, or the finding), which event rules matched and what they feed,
//! whether an AWS-issued identifier was set aside, and whether a suppression entry would drop
//! the alert. Secrets are only ever shown masked, as in alerts.

use std::io::Write;

use crate::alert::{Alert, EventRef, Fingerprinter, mask, mask_pii};
use crate::decode::{Limits, TextSource, decode_input};
use crate::detect::{DetectorSet, FindingKind, Scratch, Verdict};
use crate::record::{Parser, Record};

/// Explains every event of every input to `out`, each read in pieces like replay does;
/// returns how many events would alert.
pub fn explain_inputs(
    set: &DetectorSet,
    fp: &Fingerprinter,
    inputs: &[crate::input::Input],
    out: &mut dyn Write,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut alerting = 0;
    for inp in inputs {
        let mut pieces = crate::input::open(inp)?;
        while let Some(piece) = pieces.next_piece()? {
            let source = TextSource {
                log_group: inp.default_log_group(),
                log_stream: inp.default_log_stream(),
                first_line: piece.first_line,
            };
            alerting += explain(set, fp, &piece.bytes, &source, out)?;
        }
    }
    Ok(alerting)
}

/// Explains every event of `input` to `out`; returns how many events would alert.
pub fn explain(
    set: &DetectorSet,
    fp: &Fingerprinter,
    input: &[u8],
    source: &TextSource,
    out: &mut dyn Write,
) -> std::io::Result<usize> {
    let parser = Parser::new();
    let mut alerting = 0;
    let mut result = Ok(());
    let decoded = decode_input(input, source, &Limits::default(), &mut |batch| {
        for event in &batch.events {
            if result.is_err() {
                return;
            }
            let record = parser.parse(event, &batch.log_group);
            let ev = EventRef {
                log_group: &batch.log_group,
                log_stream: &batch.log_stream,
                id: &event.id,
                time: record.time(),
            };
            match explain_event(set, fp, event.message.as_bytes(), &record, &ev, out) {
                Ok(true) => alerting += 1,
                Ok(false) => {}
                Err(e) => result = Err(e),
            }
        }
    });
    result?;
    if let Err(e) = decoded {
        writeln!(out, "input could not be decoded: {e}")?;
    }
    Ok(alerting)
}

fn masked(kind: FindingKind, v: &[u8]) -> String {
    if kind == FindingKind::Pii {
        mask_pii(v)
    } else {
        mask(v)
    }
}

fn explain_event(
    set: &DetectorSet,
    fp: &Fingerprinter,
    msg: &[u8],
    record: &Record<'_>,
    ev: &EventRef<'_>,
    out: &mut dyn Write,
) -> std::io::Result<bool> {
    writeln!(out, "{} {} ({})", ev.log_group, ev.id, record.kind().name())?;
    let mut scratch = Scratch::default();
    let mut found = Vec::new();
    let candidate = set.scan(msg, &mut scratch, &mut found);
    let text = scratch.text(msg).to_vec();
    let mut kept = found.clone();
    let cloudtrail = record.kind() == crate::record::RecordKind::CloudTrail;
    set.drop_aws_issued(msg, &text, cloudtrail, &mut kept);
    let rules = set.content().rules();
    let mut alerts = Vec::new();
    for (r, verdicts) in set.content().trace(&text) {
        let rule = &rules[r];
        for v in verdicts {
            let line = match v {
                Verdict::NoMatch => "keyword present, regex did not match".to_owned(),
                Verdict::NoSecretGroup => "regex matched without its secret group".to_owned(),
                Verdict::LowEntropy { entropy, min } => {
                    format!(
                        "regex matched, entropy {entropy:.2} under the floor {min}: not a secret"
                    )
                }
                Verdict::Invalid => "regex matched, the validator refused it".to_owned(),
                Verdict::Allowlisted(i) => format!(
                    "regex matched, allowlisted ({})",
                    rule.allowlist_description(i).unwrap_or("an allowlist")
                ),
                Verdict::Found(s, e) => {
                    let shown = masked(rule.meta.kind, &text[s..e]);
                    if !kept.iter().any(|m| m.rule == r && m.start == s) {
                        format!("found {shown}, but it is an identifier AWS issues (not a leak)")
                    } else {
                        alerts.push(Alert::content(&rule.meta, ev, &text[s..e], 1, fp));
                        format!("found {shown}: alert ({})", rule.meta.severity)
                    }
                }
            };
            writeln!(out, "  {}: {line}", rule.meta.id)?;
        }
    }
    if candidate {
        explain_event_rules(set, record, ev, scratch.literal_hits(), &mut alerts, out)?;
    } else {
        writeln!(
            out,
            "  event rules: no rule's literals occur (not evaluated)"
        )?;
    }
    let sent = explain_suppressions(set, record, &alerts, out)?;
    Ok(sent > 0)
}

/// Which of `alerts` a suppression entry drops (named with its owner and expiry), and the
/// verdict; returns how many are sent.
fn explain_suppressions(
    set: &DetectorSet,
    record: &Record<'_>,
    alerts: &[Alert],
    out: &mut dyn Write,
) -> std::io::Result<usize> {
    let now = crate::suppress::wall_clock();
    let mut sent = 0;
    for a in alerts {
        match set.suppressions().matching(a, Some(record), now) {
            Some(s) => writeln!(
                out,
                "  {}: suppressed by {} (owner {}, until {}): {}",
                a.rule_id,
                s.location,
                s.owner,
                &s.expires.to_rfc3339()[..10],
                s.reason
            )?,
            None => sent += 1,
        }
    }
    writeln!(
        out,
        "  => {}",
        if sent > 0 {
            format!("{sent} alert(s)")
        } else {
            "no alert".to_owned()
        }
    )?;
    Ok(sent)
}

/// The event rules `record` matched, each with its alert (added to `alerts`) and the
/// correlations it feeds.
fn explain_event_rules(
    set: &DetectorSet,
    record: &Record<'_>,
    ev: &EventRef<'_>,
    hits: &[u64],
    alerts: &mut Vec<Alert>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let events = set.events();
    let mut matched = Vec::new();
    events.evaluate(record, Some(hits), &mut matched);
    for r in matched {
        let rule = &events.rules()[r];
        let feeds: Vec<&str> = events
            .fed_by_rule(r)
            .iter()
            .map(|&(c, _)| events.correlations()[c].meta.id.as_str())
            .collect();
        let what = if rule.generate {
            alerts.push(Alert::event(&rule.meta, events.severity(r, record), ev));
            format!("alert ({})", events.severity(r, record))
        } else {
            "no alert of its own".to_owned()
        };
        let fed = if feeds.is_empty() {
            String::new()
        } else {
            format!("; counted by {}", feeds.join(", "))
        };
        writeln!(out, "  event rule {}: matched, {what}{fed}", rule.meta.id)?;
    }
    Ok(())
}
