//! The analysis engine: the one place that decides what a log event matches.
//!
//! [`Engine::analyse`] takes one event and gives its [`Findings`]: the secrets and personal
//! data in it (one [`ContentFinding`] per rule and distinct value, masked and fingerprinted),
//! the event rules it matches ([`EventMatch`]), and what was set aside (identifiers AWS
//! issues, values past the per-event bound). It keeps no state between events, so it runs on
//! any thread; `replay`, the Lambda, `explain` and `detectors check` all call it, and what
//! becomes of the findings (minimum severity, grouping, suppressions, storm control) is
//! decided after it, by the policy stage, for all of them alike.

use std::sync::Arc;

pub mod reading;

use crate::decode::LogEvent;
use crate::detect::{ContentMatch, ContentRule, DetectorSet, Scratch};
use crate::mask::{Evidence, Fingerprinter, Key};
use crate::record::session::{SessionCall, carries_temporary_key};
use crate::record::{ParsedJson, Parser, Record, RecordKind, Source, SourceKind, Sources};
use crate::severity::{FindingKind, Severity};
use crate::time::EventTime;

/// Most distinct values one content rule reports for one event; more are counted
/// ([`Findings::values_over_bound`]).
pub const MAX_VALUES_PER_RULE: usize = 16;
/// Most content findings one event gives in all (each rule with a finding always gets its
/// first value, past this bound too; secrets are taken before personal data, so decoy
/// personal data cannot crowd a secret out).
pub const MAX_VALUES_PER_EVENT: usize = 64;

/// A content rule, by its index in the detector set's content rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentRuleId(pub u32);

/// An event (Sigma detection) rule, by its index in the detector set's event rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventRuleId(pub u32);

impl ContentRuleId {
    /// As an index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl EventRuleId {
    /// As an index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One distinct secret or personal value found by a content rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFinding {
    /// The rule.
    pub rule: ContentRuleId,
    /// Which distinct value of this rule in the event it is, in order of first occurrence
    /// (0 for the first): alert ids use it, so they do not depend on the fingerprint key.
    pub ordinal: usize,
    /// The value, masked and fingerprinted (`matches`: how often it occurred in the event).
    pub evidence: Evidence,
    /// The value itself, kept only when the engine keeps keys for `--verify` and the rule
    /// says how to verify it.
    pub key: Option<Key>,
}

/// An event rule the record matched, with the severity the record gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMatch {
    /// The rule.
    pub rule: EventRuleId,
    /// Its severity for this record (the rule's level, or the record's own severity field).
    pub severity: Severity,
}

/// What one event matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Secrets and personal data: one per rule and distinct value, in rule then value order.
    pub content: Vec<ContentFinding>,
    /// Event rules matched, in rule order.
    pub events: Vec<EventMatch>,
    /// Content matches set aside as identifiers AWS issues and logs by design.
    pub aws_issued: u64,
    /// Distinct values past [`MAX_VALUES_PER_RULE`] / [`MAX_VALUES_PER_EVENT`] (counted, not
    /// reported one by one).
    pub values_over_bound: u64,
    /// Whether the record passed the event rules' literal prefilter (and was evaluated).
    pub candidate: bool,
    /// Whether the event opens a multi-line block (a PEM header logged on its own).
    pub opens_block: bool,
    /// Whether the event was parsed into a record (something matched, the prefilter let it
    /// through, or it opens a block): it then counts as analysed.
    pub parsed: bool,
    /// The parsed record's event time ([`Record::time`]), when parsed (for the rules or for
    /// the session stage).
    pub time: Option<EventTime>,
    /// The record's JSON, when the events were analysed on other threads and something was
    /// found (the driver reads the record then): see [`Parser::parse_with`].
    pub json: Option<ParsedJson>,
    /// The call, when the record is a CloudTrail call made with temporary credentials (the
    /// session stage reads every one, whether or not a rule matched).
    pub session: Option<Box<SessionCall>>,
    /// Whether the record was read for the session stage (a CloudTrail record whose caller
    /// used temporary credentials), whether or not it was parsed for the rules.
    pub session_read: bool,
    /// What each correlation fed by the matched rules read of the record, in the order of
    /// [`Findings::events`] and then of each rule's correlations
    /// ([`crate::detect::sigma::EventDetectors::fed_by_rule`]).
    pub readings: Vec<reading::Reading>,
}

impl Findings {
    /// Whether nothing was found and nothing needs to follow (no multi-line block opens).
    pub fn is_empty(&self) -> bool {
        self.content.is_empty() && self.events.is_empty() && !self.opens_block
    }
}

/// Per-thread reusable buffers for [`Engine::analyse`] (nothing is allocated on the common
/// no-hit path).
#[derive(Debug, Default)]
pub struct Workspace {
    scratch: Scratch,
    matches: Vec<ContentMatch>,
    rules: Vec<usize>,
}

impl Workspace {
    /// The scan state of the last analysed event (its decoded text, literal hits).
    pub fn scratch(&self) -> &Scratch {
        &self.scratch
    }

    /// The scan buffers, for another scan (masking a value with [`DetectorSet::redact`]).
    pub fn scratch_mut(&mut self) -> &mut Scratch {
        &mut self.scratch
    }
}

/// The engine: the compiled detectors, the record parser, the fingerprint key and which log
/// groups are which kind of source. Build once, share across threads.
#[derive(Debug, Clone)]
pub struct Engine {
    set: Arc<DetectorSet>,
    parser: Parser,
    fingerprints: Arc<Fingerprinter>,
    sources: Arc<Sources>,
    keep_keys: bool,
}

impl Engine {
    /// An engine over `set`, fingerprinting with `fingerprints`, knowing `sources`.
    pub fn new(set: Arc<DetectorSet>, fingerprints: Arc<Fingerprinter>, sources: Sources) -> Self {
        Engine {
            set,
            parser: Parser::new(),
            fingerprints,
            sources: Arc::new(sources),
            keep_keys: false,
        }
    }

    /// The engine keeping the values of findings whose rule can be verified (`--verify`):
    /// [`ContentFinding::key`].
    pub fn keeping_keys(mut self, keep: bool) -> Self {
        self.keep_keys = keep;
        self
    }

    /// The detector set.
    pub fn detectors(&self) -> &Arc<DetectorSet> {
        &self.set
    }

    /// The fingerprint key in use.
    pub fn fingerprints(&self) -> &Arc<Fingerprinter> {
        &self.fingerprints
    }

    /// Which log groups are which kind of source (`sources().source(group, stream)`).
    pub fn sources(&self) -> &Arc<Sources> {
        &self.sources
    }

    /// Parses an event without analysing it (the multi-line stage reads a record's message).
    pub fn parse<'a>(&self, event: &'a LogEvent<'_>, source: &Source<'a>) -> Record<'a> {
        self.parser.parse_from(event, source)
    }

    /// The record parser ([`Parser::parse_with`] takes the JSON another thread parsed).
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// Analyses one event read from `source`: what it matched, and its record (parsed only
    /// when something matched, the prefilter let it through, or it opens a multi-line block:
    /// most lines need no parsing at all).
    pub fn analyse<'a>(
        &self,
        event: &'a LogEvent<'_>,
        source: &Source<'a>,
        ws: &mut Workspace,
    ) -> (Option<Record<'a>>, Findings) {
        let msg = event.message.as_bytes();
        ws.matches.clear();
        let candidate = self
            .set
            .scan(msg, source.kind, &mut ws.scratch, &mut ws.matches);
        let mut findings = Findings {
            candidate,
            opens_block: self.set.content().opens_block(&ws.scratch, &ws.matches),
            ..Findings::default()
        };
        findings.session_read =
            source.kind == SourceKind::CloudTrail && carries_temporary_key(&event.message);
        if !candidate && ws.matches.is_empty() && !findings.opens_block {
            if !findings.session_read {
                return (None, findings);
            }
            // Parsed for the session stage alone (not counted as parsed for the rules).
            let record = self.parser.parse_from(event, source);
            findings.time = record.time();
            findings.session = SessionCall::of(&record).map(Box::new);
            return (Some(record), findings);
        }
        let record = self.parser.parse_from(event, source);
        findings.parsed = true;
        findings.time = record.time();
        if findings.session_read {
            findings.session = SessionCall::of(&record).map(Box::new);
        }
        if !ws.matches.is_empty() {
            let cloudtrail = record.kind() == RecordKind::CloudTrail;
            let text = ws.scratch.text(msg);
            findings.aws_issued =
                self.set
                    .drop_aws_issued(msg, text, cloudtrail, &mut ws.matches) as u64;
            drop_doubles(self.set.content().rules(), &mut ws.matches);
            self.content_findings(text, &ws.matches, &mut findings);
        }
        if candidate {
            ws.rules.clear();
            let events = self.set.events();
            events.evaluate(&record, Some(ws.scratch.literal_hits()), &mut ws.rules);
            ws.rules.sort_unstable();
            findings.events = ws
                .rules
                .iter()
                .map(|&r| EventMatch {
                    rule: EventRuleId(r as u32),
                    severity: events.severity(r, &record),
                })
                .collect();
            for &r in &ws.rules {
                for &(c, pos) in events.fed_by_rule(r) {
                    let corr = &events.correlations()[c];
                    let read = reading::read(corr, &record, &findings.readings);
                    findings.readings.push(reading::Reading {
                        corr: c as u32,
                        pos,
                        read,
                    });
                }
            }
        }
        (Some(record), findings)
    }

    /// Compiles ahead the regexes that `events` make candidates and no other thread has
    /// started on ([`crate::detect::ContentMatcher::warm`]): what each thread analysing one batch with others
    /// does first, with a sample of the batch and its own `turn` (index, threads).
    pub fn warm<'e>(
        &self,
        events: impl Iterator<Item = &'e LogEvent<'e>>,
        turn: (usize, usize),
        ws: &mut Workspace,
    ) {
        self.set
            .content()
            .warm(events.map(|e| e.message.as_bytes()), turn, &mut ws.scratch);
    }

    /// Whether what follows the analysis reads `findings`' record itself: for a content
    /// finding, a multi-line block, or an event rule that raises alerts of its own. (The
    /// correlations fed by the other rules read it during the analysis: `readings`.)
    pub fn needs_record(&self, findings: &Findings) -> bool {
        let rules = self.set.events().rules();
        !findings.content.is_empty()
            || findings.opens_block
            || findings
                .events
                .iter()
                .any(|m| rules.get(m.rule.index()).is_some_and(|r| r.generate))
    }

    /// One finding per rule and distinct value (in order of first occurrence), bounded.
    fn content_findings(&self, text: &[u8], matches: &[ContentMatch], out: &mut Findings) {
        let rules = self.set.content().rules();
        let mut sorted: Vec<&ContentMatch> = matches.iter().collect();
        sorted.sort_by_key(|m| (rules[m.rule].meta.kind == FindingKind::Pii, m.rule, m.start));
        let mut i = 0;
        while i < sorted.len() {
            let rule = sorted[i].rule;
            let n = sorted[i..].iter().take_while(|m| m.rule == rule).count();
            // Distinct values of this rule: (value, occurrences), in order of first occurrence.
            let mut values: Vec<(&[u8], usize)> = Vec::new();
            for m in &sorted[i..i + n] {
                let v = &text[m.start..m.end];
                let room = values.is_empty()
                    || values.len() < MAX_VALUES_PER_RULE
                        && out.content.len() + values.len() < MAX_VALUES_PER_EVENT;
                match values.iter_mut().find(|(seen, _)| *seen == v) {
                    Some((_, count)) => *count += 1,
                    None if room => values.push((v, 1)),
                    None => out.values_over_bound += 1,
                }
            }
            i += n;
            let pii = rules[rule].meta.kind == FindingKind::Pii;
            for (ordinal, (v, count)) in values.into_iter().enumerate() {
                out.content.push(ContentFinding {
                    rule: ContentRuleId(rule as u32),
                    ordinal,
                    evidence: Evidence::of(v, pii, count, &self.fingerprints),
                    key: (self.keep_keys && rules[rule].verify.is_some()).then(|| Key::new(v)),
                });
            }
        }
    }
}

/// Most matches of one event checked for doubles (past it, each is reported; the check is
/// quadratic).
const MAX_DOUBLE_CHECK: usize = 256;

/// One secret found twice is one finding: a `[[service]]` entry's match that overlaps a match
/// of another secret rule (a hand-written rule, or an entry listed earlier) is dropped. Distinct
/// values never overlap, so a decoy never hides another value.
fn drop_doubles(rules: &[ContentRule], matches: &mut Vec<ContentMatch>) {
    if matches.len() < 2 || matches.len() > MAX_DOUBLE_CHECK {
        return;
    }
    let secret = |m: &ContentMatch| rules[m.rule].meta.kind == FindingKind::Secret;
    let service = |m: &ContentMatch| rules[m.rule].body().service.is_some();
    let doubled: Vec<bool> = matches
        .iter()
        .map(|m| {
            secret(m)
                && service(m)
                && matches.iter().any(|o| {
                    o.rule != m.rule
                        && secret(o)
                        && o.start < m.end
                        && m.start < o.end
                        && (!service(o) || o.rule < m.rule)
                })
        })
        .collect();
    let mut i = 0;
    matches.retain(|_| {
        i += 1;
        !doubled[i - 1]
    });
}

// The engine is shared by every worker thread.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn engine() -> Engine {
        Engine::new(
            Arc::new(DetectorSet::builtin().expect("built-in")),
            Arc::new(Fingerprinter::new(b"engine test key")),
            Sources::default(),
        )
    }

    fn ev(msg: &str) -> LogEvent<'_> {
        LogEvent {
            id: Cow::Borrowed("1"),
            timestamp: None,
            message: Cow::Borrowed(msg),
            truncated: false,
        }
    }

    #[test]
    fn every_distinct_value_is_its_own_finding_and_repeats_are_counted() {
        let e = engine();
        let decoy = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
        let real = "sk_live_9fQ27LmNpXrTs8VbWc3Yz6Ad";
        let line = format!("retry {decoy} {decoy} {decoy} then {real}");
        let event = ev(&line);
        let (_, f) = e.analyse(
            &event,
            &e.sources().source("app", "s"),
            &mut Workspace::default(),
        );
        let stripe: Vec<&ContentFinding> = f
            .content
            .iter()
            .filter(|c| {
                e.detectors().content().rules()[c.rule.index()].meta.id == "stripe-secret-key"
            })
            .collect();
        assert_eq!(stripe.len(), 2, "{f:?}");
        let counts: Vec<usize> = stripe.iter().map(|c| c.evidence.matches).collect();
        assert!(counts.contains(&3) && counts.contains(&1), "{counts:?}");
        assert_ne!(
            stripe[0].evidence.fingerprint,
            stripe[1].evidence.fingerprint
        );
    }

    #[test]
    fn values_past_the_bound_are_counted_not_dropped_silently() {
        let e = engine();
        let mut line = String::from("keys:");
        for i in 0..40 {
            line.push_str(&format!(" sk_live_{i:02}aB3dE5gH7jK9mN1pQ3sT5v"));
        }
        let event = ev(&line);
        let (_, f) = e.analyse(
            &event,
            &e.sources().source("app", "s"),
            &mut Workspace::default(),
        );
        assert_eq!(f.content.len(), MAX_VALUES_PER_RULE);
        assert!(
            f.values_over_bound >= 40 - MAX_VALUES_PER_RULE as u64,
            "{f:?}"
        );
    }
}
