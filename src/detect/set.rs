//! The compiled detector set: what every scan shares.

use serde::Serialize;

use super::content::{ContentMatch, ContentMatcher, Scratch};
use super::issued;
use super::rules::RuleMeta;
use super::sigma::EventDetectors;
use super::suppressions::Suppressions;
use crate::severity::{FindingKind, Severity};

/// The compiled detector set, shared (read-only) by every scan.
#[derive(Debug)]
pub struct DetectorSet {
    content: ContentMatcher,
    events: EventDetectors,
    suppressions: Suppressions,
    warnings: Vec<String>,
}

/// A rule as listed by `detectors list`.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Secret, pii, event or threshold.
    pub kind: FindingKind,
    /// Severity.
    pub severity: Severity,
    /// Description.
    pub description: String,
    /// Source file.
    pub source: String,
    /// Number of examples.
    pub examples: usize,
    /// Number of negative examples.
    pub negative_examples: usize,
    /// How `--verify` checks a key this rule finds (`github`, `aws-key-id`, ...), if it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<&'static str>,
}

impl RuleInfo {
    fn of(meta: &RuleMeta, examples: usize, negative_examples: usize) -> Self {
        RuleInfo {
            id: meta.id.clone(),
            kind: meta.kind,
            severity: meta.severity,
            description: meta.title.clone(),
            source: meta.location.file.clone(),
            examples,
            negative_examples,
            verify: None,
        }
    }
}

impl DetectorSet {
    /// A set of compiled parts (see `DetectorSet::builder` to load one).
    pub(super) fn from_parts(
        content: ContentMatcher,
        events: EventDetectors,
        suppressions: Suppressions,
        warnings: Vec<String>,
    ) -> Self {
        DetectorSet {
            content,
            events,
            suppressions,
            warnings,
        }
    }

    /// Warnings produced while loading (unsupported keys, skipped rules).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The content matcher.
    pub fn content(&self) -> &ContentMatcher {
        &self.content
    }

    /// The event (Sigma) detectors and correlations.
    pub fn events(&self) -> &EventDetectors {
        &self.events
    }

    /// The suppressions loaded with the set.
    pub fn suppressions(&self) -> &Suppressions {
        &self.suppressions
    }

    /// Scans one line in a single automaton pass: content matches are appended to `out`, and
    /// the result says whether any event rule could match the line (its prefilter literals
    /// occur), so that only such lines are parsed and evaluated.
    pub fn scan(
        &self,
        message: &[u8],
        source: crate::record::SourceKind,
        scratch: &mut Scratch,
        out: &mut Vec<ContentMatch>,
    ) -> bool {
        self.content.scan(message, scratch, out);
        self.events.candidate(scratch.literal_hits(), source)
    }

    /// Drops the matches that are identifiers AWS issues and logs by design ([`issued`]): in
    /// a CloudTrail record (`cloudtrail`), its AWS-issued fields; anywhere, values inside an
    /// ARN and CloudTrail's `HIDDEN_DUE_TO_SECURITY_REASONS`. Returns how many were dropped.
    /// `text` is what the scan looked at ([`Scratch::text`]); the AWS-issued values are read
    /// from the record's own JSON `msg` and compared by value.
    pub fn drop_aws_issued(
        &self,
        msg: &[u8],
        text: &[u8],
        cloudtrail: bool,
        matches: &mut Vec<ContentMatch>,
    ) -> usize {
        if matches.is_empty() {
            return 0;
        }
        // The values AWS issued, by value (the scan's text is unescaped, the record's JSON not):
        // equal to an issued value, or inside one of the few long ones (session tokens).
        let mut spans = Vec::new();
        if cloudtrail {
            issued::issued_spans(msg, &mut spans);
        }
        let exact: std::collections::HashSet<&[u8]> =
            spans.iter().map(|&(s, e)| &msg[s..e]).collect();
        let long: Vec<&[u8]> = spans
            .iter()
            .map(|&(s, e)| &msg[s..e])
            .filter(|v| v.len() >= 64)
            .take(8)
            .collect();
        // Identifiers inside an ARN: only personal data (a user or session named after a
        // person), never a secret, whatever is glued to the ARN.
        let arns = if matches
            .iter()
            .any(|m| self.content.rules()[m.rule].meta.kind == FindingKind::Pii)
        {
            issued::arn_spans(text)
        } else {
            Vec::new()
        };
        let before = matches.len();
        matches.retain(|m| {
            let secret = &text[m.start..m.end];
            let pii = self.content.rules()[m.rule].meta.kind == FindingKind::Pii;
            !(secret == issued::HIDDEN.as_bytes()
                || exact.contains(secret)
                || long
                    .iter()
                    .any(|v| memchr::memmem::find(v, secret).is_some())
                || pii && issued::inside_arn(&arns, m.start, m.end))
        });
        before - matches.len()
    }

    /// `text` with every secret or personal value the content rules find in it masked as in
    /// evidence (group values and titles built from log content go through this).
    pub fn redact(&self, text: &str, scratch: &mut Scratch) -> String {
        let mut found = Vec::new();
        self.content.scan(text.as_bytes(), scratch, &mut found);
        if found.is_empty() {
            return text.to_owned();
        }
        found.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
        let bytes = scratch.text(text.as_bytes()).to_vec();
        let bytes = &bytes[..];
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for m in found {
            if m.start < at {
                continue;
            }
            out.push_str(&String::from_utf8_lossy(&bytes[at..m.start]));
            let secret = &bytes[m.start..m.end];
            out.push_str(&match self.content.rules()[m.rule].meta.kind {
                FindingKind::Pii => crate::mask::mask_pii(secret),
                _ => crate::mask::mask(secret),
            });
            at = m.end;
        }
        out.push_str(&String::from_utf8_lossy(&bytes[at..]));
        out
    }

    /// Every rule, for listing.
    pub fn rules(&self) -> Vec<RuleInfo> {
        let content = self.content.rules().iter().map(|r| RuleInfo {
            verify: r.verify.map(|v| v.name()),
            ..RuleInfo::of(&r.meta, r.examples.len(), r.negative_examples.len())
        });
        let events = self
            .events
            .rules()
            .iter()
            .map(|r| RuleInfo::of(&r.meta, r.examples.len(), r.negative_examples.len()));
        let correlations = self.events.correlations().iter().map(|c| {
            RuleInfo::of(
                &c.meta,
                c.tests.iter().filter(|t| t.expect > 0).count(),
                c.tests.iter().filter(|t| t.expect == 0).count(),
            )
        });
        content.chain(events).chain(correlations).collect()
    }

    /// Every rule's tags, by rule id (finding types and ATT&CK tactics for the findings sinks;
    /// a rule without tags is left out, which its readers take as no tags).
    pub fn tags_by_rule(&self) -> std::collections::HashMap<String, Vec<String>> {
        self.tags_kept(|_| true)
    }

    /// The tags `keep` keeps of every rule, by rule id; a rule with none kept is left out
    /// (the incident stages need a few hundred of the ~1,300 rules, and copying every rule's
    /// id and tags was on a cold start's serial path).
    pub fn tags_kept(
        &self,
        keep: impl Fn(&str) -> bool,
    ) -> std::collections::HashMap<String, Vec<String>> {
        self.metas()
            .filter_map(|m| {
                let kept: Vec<String> = m.tags.iter().filter(|t| keep(t)).cloned().collect();
                (!kept.is_empty()).then(|| (m.id.clone(), kept))
            })
            .collect()
    }

    /// The metadata of the rule with this id, of any kind.
    pub fn rule(&self, id: &str) -> Option<&RuleMeta> {
        self.metas().find(|m| m.id == id)
    }

    /// Every rule's metadata: content rules, event rules, correlations.
    fn metas(&self) -> impl Iterator<Item = &RuleMeta> {
        self.content
            .rules()
            .iter()
            .map(|r| &r.meta)
            .chain(self.events.rules().iter().map(|r| &r.meta))
            .chain(self.events.correlations().iter().map(|c| &c.meta))
    }
}

// The compiled set is shared by every invocation and thread.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync + std::panic::UnwindSafe>() {}
    assert_send_sync::<DetectorSet>();
};
