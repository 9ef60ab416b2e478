//! Content detectors (secrets and PII): compiled rules and the scanning engine.
//!
//! One Aho-Corasick automaton over every rule's keywords finds candidate rules in a message;
//! keyword-less rules are gated by a digit-run scan. Only candidate rules' regexes run, and
//! only on a bounded window around each hit; validators, entropy floors and allowlists then
//! remove false positives. On the common no-hit path nothing is allocated: all per-message
//! state lives in a reusable [`Scratch`].

mod rule;

use std::borrow::Cow;

use regex_automata::meta::{self, Regex};
use regex_automata::{Input, MatchKind, PatternID, PatternSet};

pub use crate::detect::error::CompileError;
use crate::detect::literals::LiteralSearch;
use crate::detect::unescape::Haystack;
pub use rule::{
    AllowTarget, Allowlist, ContentRule, Gate, PatternShape, REGEX_SIZE_LIMIT, Reach, RuleRegex,
    Verdict, VerifyWith, WINDOW_AFTER, WINDOW_BEFORE, compile_regex, pattern_shape,
};
pub(crate) use rule::{ContentParts, StartedOnce, compile_checked};
use rule::{Groups, build_bytes_regex};

/// Bytes around a digit run that a gated rule's regex sees.
const GATE_CONTEXT: usize = 40;

/// A content match: which rule, and where the secret is in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentMatch {
    /// Index of the rule in [`ContentMatcher::rules`].
    pub rule: usize,
    /// Byte offset of the secret in the message.
    pub start: usize,
    /// End byte offset of the secret in the message.
    pub end: usize,
}

/// Reusable per-thread scanning state, so scanning allocates nothing on the no-hit path.
#[derive(Debug, Default)]
pub struct Scratch {
    windows: Vec<(u32, usize, usize)>,
    runs: Vec<(usize, usize)>,
    locs: Vec<Option<Groups>>,
    literal_hits: Vec<u64>,
    hay: Haystack,
}

impl Scratch {
    /// The text the last [`ContentMatcher::scan`] of `message` looked at (escapes decoded,
    /// see [`super::unescape`]): [`ContentMatch`] offsets point into it.
    pub fn text<'a>(&'a self, message: &'a [u8]) -> &'a [u8] {
        self.hay.text(message)
    }

    /// Which of the matcher's extra literals the last [`ContentMatcher::scan`] saw: a bitset
    /// indexed by literal id.
    pub fn literal_hits(&self) -> &[u64] {
        &self.literal_hits
    }
}

/// The compiled content rule set.
#[derive(Debug, Clone)]
pub struct ContentMatcher {
    rules: Vec<ContentRule>,
    keywords: Option<LiteralSearch>,
    /// Keyword pattern index → rules that own it.
    keyword_rules: Vec<Vec<u32>>,
    /// Keyword pattern index → extra literal id (`u32::MAX`: none).
    pattern_literal: Vec<u32>,
    literal_count: usize,
    /// Rules gated by digit runs: (rule, min digits).
    digit_rules: Vec<(u32, usize)>,
    /// All digit-gated regexes in one set (index = position in `digit_rules`), compiled on
    /// the first digit run: one pass over a run's window tells which rules can match there,
    /// instead of one search per rule. `None` if the set does not compile.
    digit_set: StartedOnce<Option<Regex>>,
    min_digit_gate: usize,
    /// Rules with no keyword and no gate.
    always_rules: Vec<u32>,
}

/// The literal automaton's patterns (lower case, each once) and what each one means.
struct Patterns<'a> {
    /// Borrowed from the rules and literals when they are in lower case already (as nearly all
    /// are: a copy of each was most of building this).
    patterns: Vec<Cow<'a, [u8]>>,
    /// Per pattern, the content rules it is a keyword of.
    keyword_rules: Vec<Vec<u32>>,
    /// Per pattern, the event rules' literal it is (`u32::MAX`: none).
    pattern_literal: Vec<u32>,
    digit_rules: Vec<(u32, usize)>,
    always_rules: Vec<u32>,
}

/// `bytes` in ASCII lower case: borrowed when they are already.
fn lower(bytes: &[u8]) -> Cow<'_, [u8]> {
    match bytes.iter().any(u8::is_ascii_uppercase) {
        true => Cow::Owned(bytes.to_ascii_lowercase()),
        false => Cow::Borrowed(bytes),
    }
}

impl<'a> Patterns<'a> {
    fn of(rules: &'a [ContentRule], literals: &'a [String]) -> Patterns<'a> {
        // Every keyword and literal in lower case, in order, with the rule or literal it is
        // for; then each distinct one numbered by its first place (a map of slices into this
        // list: no copy of a pattern is made, and a linear search per keyword was quadratic).
        let mut lowered: Vec<(Cow<'a, [u8]>, _, _)> = Vec::new();
        let mut digit_rules = Vec::new();
        let mut always_rules = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let i = i as u32;
            if rule.keywords.is_empty() {
                match rule.gate {
                    Some(Gate::Digits(n)) => digit_rules.push((i, n)),
                    _ => always_rules.push(i),
                }
                continue;
            }
            for kw in &rule.keywords {
                lowered.push((lower(kw.as_bytes()), Some(i), None));
            }
        }
        for (id, lit) in literals.iter().enumerate() {
            lowered.push((lower(lit.as_bytes()), None, Some(id as u32)));
        }
        let mut firsts: Vec<usize> = Vec::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        let mut pattern_literal: Vec<u32> = Vec::new();
        let mut index: foldhash::HashMap<&[u8], usize> =
            foldhash::HashMapExt::with_capacity(lowered.len());
        for (at, (lower, rule, literal)) in lowered.iter().enumerate() {
            if lower.is_empty() {
                continue;
            }
            let p = *index.entry(lower.as_ref()).or_insert_with(|| {
                firsts.push(at);
                keyword_rules.push(Vec::new());
                pattern_literal.push(u32::MAX);
                firsts.len() - 1
            });
            if let Some(r) = *rule
                && !keyword_rules[p].contains(&r)
            {
                keyword_rules[p].push(r);
            }
            if let Some(l) = *literal {
                pattern_literal[p] = l;
            }
        }
        drop(index);
        let patterns = firsts
            .iter()
            .map(|&at| std::mem::take(&mut lowered[at].0))
            .collect();
        Patterns {
            patterns,
            keyword_rules,
            pattern_literal,
            digit_rules,
            always_rules,
        }
    }
}

impl ContentMatcher {
    /// Builds the matcher over `rules` (the keyword automaton is built here, once).
    pub fn new(rules: Vec<ContentRule>) -> Result<Self, CompileError> {
        Self::with_literals(rules, &[])
    }

    /// Builds the matcher over `rules`, with `literals` (the event rules' prefilter strings)
    /// matched in the same automaton: one pass over a line finds both, and
    /// [`Scratch::literal_hits`] tells which literals occurred.
    pub fn with_literals(
        rules: Vec<ContentRule>,
        literals: &[String],
    ) -> Result<Self, CompileError> {
        let Patterns {
            patterns,
            keyword_rules,
            pattern_literal,
            digit_rules,
            always_rules,
        } = Patterns::of(&rules, literals);
        let keywords = match patterns.is_empty() {
            true => None,
            false => Some(LiteralSearch::new(&patterns).map_err(CompileError::Keywords)?),
        };
        let min_digit_gate = digit_rules.iter().map(|&(_, n)| n).min().unwrap_or(0);
        Ok(ContentMatcher {
            rules,
            keywords,
            keyword_rules,
            pattern_literal,
            literal_count: literals.len(),
            digit_rules,
            digit_set: StartedOnce::new(),
            min_digit_gate,
            always_rules,
        })
    }

    /// Compiles ahead, on this thread, the regexes that `messages` make candidates (keyword
    /// rules, the digit-gated set, the rules that run on every line) and that no other thread
    /// has started on, without waiting for any: threads starting on one batch call it with a
    /// few of its messages each and a different `turn` (this thread's index, of `threads`), so
    /// that each starts at a different place in the list and they compile side by side what
    /// the scan would otherwise have each wait for.
    pub fn warm<'m>(
        &self,
        messages: impl Iterator<Item = &'m [u8]>,
        (turn, threads): (usize, usize),
        scratch: &mut Scratch,
    ) {
        let mut wanted = vec![0u64; self.rules.len().div_ceil(64)];
        let mut want = |r: u32| wanted[r as usize / 64] |= 1 << (r % 64);
        let mut digits = false;
        let mut hay = std::mem::take(&mut scratch.hay);
        for message in messages {
            hay.prepare(message);
            let text = hay.text(message);
            if let Some(ac) = &self.keywords {
                ac.for_each(text, &mut |p, _, _| {
                    self.keyword_rules[p].iter().for_each(|&r| want(r));
                });
            }
            if !digits && !self.digit_rules.is_empty() {
                scratch.runs.clear();
                digit_runs(text, self.min_digit_gate, &mut scratch.runs);
                digits = !scratch.runs.is_empty();
            }
        }
        scratch.hay = hay;
        self.always_rules.iter().for_each(|&r| want(r));
        let rules: Vec<usize> = (0..self.rules.len())
            .filter(|&r| wanted[r / 64] & (1 << (r % 64)) != 0)
            .collect();
        let first = rules.len() * turn / threads.max(1);
        // The digit set (one of the larger builds) is taken first by the last thread.
        let set_first = digits && turn + 1 == threads;
        if set_first {
            self.digit_set
                .make_unless_started(|| self.build_digit_set());
        }
        for &r in rules[first..].iter().chain(&rules[..first]) {
            self.rules[r].body().regex.compile_unless_started();
        }
        if digits && !set_first {
            self.digit_set
                .make_unless_started(|| self.build_digit_set());
        }
    }

    /// Whether the literal automaton is the built-in set's, embedded in the binary (the
    /// built-in rules alone: nothing was built).
    pub fn embedded_automaton(&self) -> bool {
        self.keywords
            .as_ref()
            .is_some_and(LiteralSearch::is_embedded)
    }

    /// The compiled rules.
    pub fn rules(&self) -> &[ContentRule] {
        &self.rules
    }

    /// Whether the last scan hit a keyword of a multi-line rule (a PEM header, say) without
    /// that rule matching: the rest of the block may follow in the next events.
    pub fn opens_block(&self, scratch: &Scratch, out: &[ContentMatch]) -> bool {
        scratch.windows.iter().any(|&(r, _, _)| {
            self.rules[r as usize].multiline && !out.iter().any(|m| m.rule == r as usize)
        })
    }

    /// Runs the multi-line rules over `text` (consecutive events joined), appending matches.
    pub fn scan_multiline(&self, text: &[u8], scratch: &mut Scratch, out: &mut Vec<ContentMatch>) {
        if scratch.locs.len() < self.rules.len() {
            scratch.locs.resize_with(self.rules.len(), || None);
        }
        for (r, rule) in self.rules.iter().enumerate() {
            if rule.multiline {
                self.run_rule(r, text, 0, text.len(), scratch, out);
            }
        }
    }

    /// Scans one message, appending matches to `out` (secret spans; at most one per distinct
    /// span and rule).
    pub fn scan(&self, message: &[u8], scratch: &mut Scratch, out: &mut Vec<ContentMatch>) {
        let mut hay = std::mem::take(&mut scratch.hay);
        hay.prepare(message);
        let first = out.len();
        self.scan_text(hay.text(message), scratch, out);
        if hay.decoded_from().is_some() {
            // A secret seen in the text and in its decoded copies counts once (the first
            // occurrence, in the text where it is there): matches are the same when their
            // values decode to the same bytes.
            let text = hay.text(message);
            let mut seen = std::collections::HashSet::new();
            let mut k = first;
            out.retain(|m| {
                let keep = k < first || {
                    let v = crate::detect::unescape::percent_decoded_fully(&text[m.start..m.end]);
                    seen.insert((m.rule, v))
                };
                k += 1;
                keep
            });
        }
        self.apply_required(first, out);
        scratch.hay = hay;
    }

    /// Drops the matches of composite rules whose required rules did not match (near
    /// enough) in the same message.
    fn apply_required(&self, first: usize, out: &mut Vec<ContentMatch>) {
        if out.len() == first
            || !out[first..]
                .iter()
                .any(|m| !self.rules[m.rule].required.is_empty())
        {
            return;
        }
        let found: Vec<ContentMatch> = out[first..].to_vec();
        let mut k = 0;
        out.retain(|m| {
            k += 1;
            if k <= first {
                return true;
            }
            self.rules[m.rule].required.iter().all(|&(r, within)| {
                found.iter().any(|o| {
                    o.rule == r as usize
                        && within.is_none_or(|w| {
                            o.start.abs_diff(m.start) <= w || o.end.abs_diff(m.end) <= w
                        })
                })
            })
        });
    }

    /// Scans the prepared text of a message (see [`ContentMatcher::scan`]).
    fn scan_text(&self, message: &[u8], scratch: &mut Scratch, out: &mut Vec<ContentMatch>) {
        scratch.windows.clear();
        scratch.literal_hits.clear();
        scratch
            .literal_hits
            .resize(self.literal_count.div_ceil(64), 0);
        if let Some(ac) = &self.keywords {
            let windows = &mut scratch.windows;
            let literal_hits = &mut scratch.literal_hits;
            ac.for_each(message, &mut |p, kw_start, kw_end| {
                let lit = self.pattern_literal[p];
                if lit != u32::MAX {
                    literal_hits[lit as usize / 64] |= 1 << (lit % 64);
                }
                for &r in &self.keyword_rules[p] {
                    // The keyword lies inside the match, so the match lies within the rule's
                    // longest match length on either side of it.
                    let (before, after) = self.rules[r as usize].window();
                    let start = kw_end.saturating_sub(before);
                    let end = (kw_start + after).min(message.len());
                    windows.push((r, start, end));
                }
            });
        }
        if !self.digit_rules.is_empty() {
            scratch.runs.clear();
            digit_runs(message, self.min_digit_gate, &mut scratch.runs);
            // Built at the first digit run, not at the first event: a run of events with no
            // long enough run of digits never pays for it.
            let set = if scratch.runs.is_empty() {
                &None
            } else {
                self.digit_set.get_or_init(|| self.build_digit_set())
            };
            for k in 0..scratch.runs.len() {
                let (rs, re) = scratch.runs[k];
                let digits = count_digits(&message[rs..re]);
                let start = rs.saturating_sub(GATE_CONTEXT);
                let end = (re + GATE_CONTEXT).min(message.len());
                // Most runs (account ids, epoch times) match no rule: the yes/no search stops
                // early and allocates nothing; only a yes asks which rules.
                let around = Input::new(&message[..end]).span(start..end);
                let hits = match set {
                    Some(s) if !s.is_match(around.clone()) => continue,
                    Some(s) => {
                        let mut hits = PatternSet::new(s.pattern_len());
                        s.which_overlapping_matches(&around, &mut hits);
                        Some(hits)
                    }
                    None => None,
                };
                for (j, &(r, n)) in self.digit_rules.iter().enumerate() {
                    let hit = |h: &PatternSet| PatternID::new(j).is_ok_and(|p| h.contains(p));
                    if digits >= n && hits.as_ref().is_none_or(hit) {
                        scratch.windows.push((r, start, end));
                    }
                }
            }
        }
        for &r in &self.always_rules {
            scratch.windows.push((r, 0, message.len()));
        }
        if scratch.windows.is_empty() {
            return;
        }
        scratch.windows.sort_unstable();
        if scratch.locs.len() < self.rules.len() {
            scratch.locs.resize_with(self.rules.len(), || None);
        }
        let mut i = 0;
        while i < scratch.windows.len() {
            let (rule, mut start, mut end) = scratch.windows[i];
            i += 1;
            // Merge overlapping windows of the same rule.
            while i < scratch.windows.len()
                && scratch.windows[i].0 == rule
                && scratch.windows[i].1 <= end
            {
                end = end.max(scratch.windows[i].2);
                i += 1;
            }
            start = start.min(end);
            self.run_rule(rule as usize, message, start, end, scratch, out);
        }
    }

    /// One regex of every digit-gated rule's pattern, asked which match around a run (as
    /// `regex::bytes::RegexSet` would be, without a prefilter: it searches a run's window).
    fn build_digit_set(&self) -> Option<Regex> {
        let patterns: Vec<&str> = self
            .digit_rules
            .iter()
            .map(|&(r, _)| self.rules[r as usize].body().regex.pattern())
            .collect();
        let config = meta::Config::new()
            .match_kind(MatchKind::All)
            .nfa_size_limit(Some(REGEX_SIZE_LIMIT * patterns.len().max(1)))
            .hybrid_cache_capacity(4 * REGEX_SIZE_LIMIT)
            .auto_prefilter(false);
        build_bytes_regex(&patterns, config).ok()
    }

    fn run_rule(
        &self,
        r: usize,
        message: &[u8],
        start: usize,
        end: usize,
        scratch: &mut Scratch,
        out: &mut Vec<ContentMatch>,
    ) {
        let rule = &self.rules[r];
        let Some(regex) = rule.body().regex.get() else {
            return;
        };
        let locs = scratch.locs[r].get_or_insert_with(|| Groups::for_regex(regex));
        let hay = &message[..end];
        let mut at = start;
        while at <= hay.len() {
            let Some((ms, me)) = locs.find_at(regex, hay, at) else {
                break;
            };
            at = if me > ms { me } else { me + 1 };
            let Verdict::Found(ss, se) = rule.verdict(locs, message, ms, me) else {
                continue;
            };
            let found = ContentMatch {
                rule: r,
                start: ss,
                end: se,
            };
            if !out.contains(&found) {
                out.push(found);
            }
        }
    }

    /// Why each rule did or did not find something in `text` (for `logwarden explain`): the
    /// rules a keyword (or digit run) makes candidates, each regex match's verdict, and the
    /// rules whose regex did not match. Candidates are found as [`Self::scan`] finds them, then
    /// each candidate's regex runs over the whole text (slower than a scan, which looks only
    /// around each keyword).
    pub fn trace(&self, text: &[u8]) -> Vec<(usize, Vec<Verdict>)> {
        // Candidates as the scan finds them: keywords by the automaton, digit-gated rules by
        // a long enough digit run, and the rules with neither.
        let mut candidate = vec![false; self.rules.len()];
        if let Some(ac) = &self.keywords {
            ac.for_each(text, &mut |p, _, _| {
                for &r in &self.keyword_rules[p] {
                    candidate[r as usize] = true;
                }
            });
        }
        if !self.digit_rules.is_empty() {
            let mut runs = Vec::new();
            digit_runs(text, self.min_digit_gate, &mut runs);
            let most = runs
                .iter()
                .map(|&(s, e)| count_digits(&text[s..e]))
                .max()
                .unwrap_or(0);
            for &(r, n) in &self.digit_rules {
                candidate[r as usize] |= most >= n;
            }
        }
        for &r in &self.always_rules {
            candidate[r as usize] = true;
        }
        let mut out = Vec::new();
        for (r, rule) in self.rules.iter().enumerate() {
            if !candidate[r] {
                continue;
            }
            let Some(regex) = rule.body().regex.get() else {
                continue;
            };
            let mut locs = Groups::for_regex(regex);
            let mut verdicts = Vec::new();
            let mut at = 0;
            while at <= text.len() && verdicts.len() < 16 {
                let Some((ms, me)) = locs.find_at(regex, text, at) else {
                    break;
                };
                at = if me > ms { me } else { me + 1 };
                verdicts.push(rule.verdict(&locs, text, ms, me));
            }
            if verdicts.is_empty() && !rule.keywords.is_empty() {
                verdicts.push(Verdict::NoMatch);
            }
            if !verdicts.is_empty() {
                out.push((r, verdicts));
            }
        }
        out
    }
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().filter(|c| c.is_ascii_digit()).count()
}

/// Finds runs of at least `min` digits, where a short gap may come between two digits: one
/// space or `-` (`4111 1111`, `078-05-1120`), or a parenthesis with at most a space on its
/// outer side (`+1 (415) 555-2671`, `(415)555-2671`). Not `.`: it would make a run of every
/// IPv4 address and decimal number, each then asked of the gated rules. Pushes `(start, end)`
/// byte ranges, from the run's first digit to just after its last.
///
/// Such a run spans at least `min` bytes, so only every `min`-th byte is looked at until one
/// falls inside a run, which is then widened to its full extent: text without long numbers is
/// skipped `min` bytes at a time.
pub fn digit_runs(message: &[u8], min: usize, out: &mut Vec<(usize, usize)>) {
    let min = min.max(1);
    let n = message.len();
    let digit = |i: usize| i < n && message[i].is_ascii_digit();
    // Every byte of a gap is one of these, and each alone is a gap.
    let gap_byte = |i: usize| i < n && matches!(message[i], b' ' | b'-' | b'(' | b')');
    // The two-byte gaps: `) ` and ` (`, starting at `i`.
    let pair =
        |i: usize| i + 1 < n && matches!((message[i], message[i + 1]), (b')', b' ') | (b' ', b'('));
    // The digit before the digit at `at`, across a gap that joins.
    let back = |at: usize| {
        if at >= 2 && gap_byte(at - 1) && digit(at - 2) {
            Some(at - 2)
        } else if at >= 3 && pair(at - 2) && digit(at - 3) {
            Some(at - 3)
        } else {
            None
        }
    };
    // The digit after the digit at `at`, across a gap that joins.
    let ahead = |at: usize| {
        if gap_byte(at + 1) && digit(at + 2) {
            Some(at + 2)
        } else if pair(at + 1) && digit(at + 3) {
            Some(at + 3)
        } else {
            None
        }
    };
    let mut i = min - 1;
    while i < n {
        // A digit of the run this sample falls in, if any: the sample itself, or the digit
        // after the gap it lies in.
        let d = if digit(i) {
            Some(i)
        } else if !gap_byte(i) || i == 0 {
            None
        } else if digit(i - 1) {
            // The gap's first byte.
            ahead(i - 1)
        } else if i >= 2 && pair(i - 1) && digit(i - 2) && digit(i + 1) {
            // The second byte of a two-byte gap.
            Some(i + 1)
        } else {
            None
        };
        let Some(d) = d else {
            i += min;
            continue;
        };
        let mut start = d;
        loop {
            if digit(start.wrapping_sub(1)) {
                start -= 1;
            } else if let Some(p) = back(start) {
                start = p;
            } else {
                break;
            }
        }
        let mut last = d;
        loop {
            if digit(last + 1) {
                last += 1;
            } else if let Some(q) = ahead(last) {
                last = q;
            } else {
                break;
            }
        }
        let end = last + 1;
        if count_digits(&message[start..end]) >= min {
            out.push((start, end));
        }
        i = end + min;
    }
}

/// The literal automaton's patterns for content `rules` and event rule `literals`, in the
/// order [`ContentMatcher::with_literals`] gives them (what an embedded table must match).
#[cfg(test)]
pub(crate) fn literal_patterns(rules: &[ContentRule], literals: &[String]) -> Vec<Vec<u8>> {
    let patterns = Patterns::of(rules, literals).patterns;
    patterns.into_iter().map(Cow::into_owned).collect()
}

#[cfg(test)]
mod tests;
