//! Content detectors (secrets and PII): compiled rules and the scanning engine.
//!
//! One Aho-Corasick automaton over every rule's keywords finds candidate rules in a message;
//! keyword-less rules are gated by a digit-run scan. Only candidate rules' regexes run, and
//! only on a bounded window around each hit; validators, entropy floors and allowlists then
//! remove false positives. On the common no-hit path nothing is allocated: all per-message
//! state lives in a reusable [`Scratch`].

use std::sync::OnceLock;

use regex::bytes::{CaptureLocations, Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::literals::LiteralSearch;
use super::rules::RuleMeta;
use super::unescape::Haystack;
use super::validate::{Validator, shannon_entropy};

/// Bytes before a keyword hit that the rule's regex sees.
pub const WINDOW_BEFORE: usize = 256;
/// Bytes after a keyword hit that the rule's regex sees (room for a PEM block).
pub const WINDOW_AFTER: usize = 4096;
/// Bytes around a digit run that a gated rule's regex sees.
const GATE_CONTEXT: usize = 40;
/// Compiled size limit of one regex.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Slack added to a bounded regex's maximum match length when sizing its window.
const WINDOW_SLACK: usize = 64;

/// A rule regex, compiled at load (user files: errors must show at once) or on first use
/// (the built-in rules, which CI compiles and tests, so a cold start does not pay for ~180
/// regexes most logs never need).
#[derive(Debug, Clone)]
pub struct RuleRegex {
    pattern: String,
    cell: OnceLock<Option<Regex>>,
}

impl RuleRegex {
    /// An already compiled regex.
    pub fn compiled(pattern: &str, regex: Regex) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(Some(regex));
        RuleRegex {
            pattern: pattern.to_owned(),
            cell,
        }
    }

    /// A regex compiled on first use.
    pub fn lazy(pattern: &str) -> Self {
        RuleRegex {
            pattern: pattern.to_owned(),
            cell: OnceLock::new(),
        }
    }

    /// The compiled regex (`None` if it does not compile, which load-time checks prevent).
    pub fn get(&self) -> Option<&Regex> {
        self.cell
            .get_or_init(|| compile_regex(&self.pattern).ok())
            .as_ref()
    }

    /// The pattern.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

/// What a pattern's syntax tells without compiling it: capture groups and the longest match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternShape {
    /// Explicit capture groups.
    pub groups: usize,
    /// Longest possible match in bytes, if bounded.
    pub max_len: Option<usize>,
}

/// Parses a pattern (cheap, no compilation) for its [`PatternShape`].
pub fn pattern_shape(pattern: &str) -> Result<PatternShape, CompileError> {
    let parse = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(false)
            .build()
            .parse(pattern)
            .map_err(|e| CompileError::Regex(one_line(&e.to_string())))
    };
    // Unicode off first (as the compiler does), then on for patterns that need it.
    let hir = parse(false).or_else(|_| parse(true))?;
    let props = hir.properties();
    Ok(PatternShape {
        groups: props.explicit_captures_len(),
        max_len: props.maximum_len(),
    })
}

/// What a regex of an allowlist is tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowTarget {
    /// The secret (capture group).
    Secret,
    /// The whole regex match.
    Match,
    /// The whole log line.
    Line,
}

/// A compiled allowlist.
#[derive(Debug, Clone)]
pub struct Allowlist {
    /// Its description, for `explain`.
    pub description: Option<String>,
    pub(crate) target: AllowTarget,
    pub(crate) regexes: Vec<RuleRegex>,
    /// Lowercased stopwords.
    pub(crate) stopwords: Vec<Vec<u8>>,
    pub(crate) and: bool,
}

impl Allowlist {
    fn allows(&self, secret: &[u8], whole: &[u8], line: &[u8]) -> bool {
        let target = match self.target {
            AllowTarget::Secret => secret,
            AllowTarget::Match => whole,
            AllowTarget::Line => line,
        };
        let regex_hit = || {
            self.regexes
                .iter()
                .any(|r| r.get().is_some_and(|r| r.is_match(target)))
        };
        let stop_hit = || self.stopwords.iter().any(|w| contains_ascii_ci(secret, w));
        if self.and {
            (self.regexes.is_empty() || regex_hit()) && (self.stopwords.is_empty() || stop_hit())
        } else {
            regex_hit() || stop_hit()
        }
    }
}

fn contains_ascii_ci(hay: &[u8], needle_lower: &[u8]) -> bool {
    if needle_lower.is_empty() || needle_lower.len() > hay.len() {
        return needle_lower.is_empty();
    }
    hay.windows(needle_lower.len())
        .any(|w| w.eq_ignore_ascii_case(needle_lower))
}

/// A keyword-less rule's cheap precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The rule runs only near a run of at least this many digits (single ` ` or `-`
    /// separators allowed inside the run).
    Digits(usize),
    /// No gate: the regex runs on every message (only for user rules without keywords).
    Always,
}

/// One compiled content rule.
#[derive(Debug, Clone)]
pub struct ContentRule {
    /// Id, title (the description), severity, kind (secret or PII), tags, location.
    pub meta: RuleMeta,
    /// The keywords as written.
    pub keywords: Vec<String>,
    /// Gate for keyword-less rules.
    pub gate: Option<Gate>,
    /// Examples that must match.
    pub examples: Vec<String>,
    /// Examples that must not match.
    pub negative_examples: Vec<String>,
    pub(crate) regex: RuleRegex,
    /// [`super::limits::regex_cost`] of a user rule's regex (0 for built-ins).
    pub(crate) cost: usize,
    /// Required rules (resolved): index and the most bytes between the matches.
    pub(crate) required: Vec<(u32, Option<usize>)>,
    /// Required rule ids, before they are resolved.
    pub(crate) required_ids: Vec<(String, Option<usize>)>,
    /// Also run over consecutive events of a stream joined (PEM keys logged line by line).
    pub multiline: bool,
    /// Bytes before / after a keyword hit the regex needs to see, from the pattern's longest
    /// match (worked out on first use for built-in rules, at load for the others).
    window: OnceLock<(usize, usize)>,
    pub(crate) secret_group: Option<usize>,
    pub(crate) entropy: Option<f64>,
    pub(crate) validator: Option<Validator>,
    pub(crate) allowlists: Vec<Allowlist>,
}

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
    locs: Vec<Option<CaptureLocations>>,
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
    digit_set: OnceLock<Option<RegexSet>>,
    min_digit_gate: usize,
    /// Rules with no keyword and no gate.
    always_rules: Vec<u32>,
}

/// Why a content rule could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The rule's regex did not compile.
    #[error("invalid regex: {0}")]
    Regex(String),
    /// The keyword automaton could not be built.
    #[error("keyword automaton: {0}")]
    Keywords(String),
}

/// Compiles a rule regex: over bytes, Unicode off first (ASCII classes, faster), falling
/// back to Unicode on for patterns that need it; size-limited.
pub fn compile_regex(pattern: &str) -> Result<Regex, CompileError> {
    let build = |unicode: bool| {
        RegexBuilder::new(pattern)
            .unicode(unicode)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
    };
    build(false)
        .or_else(|_| build(true))
        .map_err(|e| CompileError::Regex(one_line(&e.to_string())))
}

/// Joins a multi-line message (compiler and parser errors) into one line.
pub(crate) fn one_line(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.join(" ")
}

/// Parses and compiles a rule's pattern and checks its `secret_group` against the pattern's
/// capture groups: what loading a rule requires. Errors are one-line messages.
pub(crate) fn compile_checked(
    pattern: &str,
    secret_group: Option<usize>,
) -> Result<(Regex, PatternShape), String> {
    let shape = match pattern_shape(pattern) {
        Ok(shape) => shape,
        // The syntax parser's message is less clear than the compiler's: report that one.
        Err(e) => return Err(compile_regex(pattern).err().unwrap_or(e).to_string()),
    };
    if let Some(g) = secret_group
        && g > shape.groups
    {
        return Err(format!(
            "secretGroup {g} but the regex has only {} capture group(s)",
            shape.groups
        ));
    }
    let regex = compile_regex(pattern).map_err(|e| e.to_string())?;
    Ok((regex, shape))
}

/// The window around a keyword hit for a rule whose longest match is `max_len` (unbounded:
/// the caps).
fn window_for(max_len: Option<usize>) -> (usize, usize) {
    match max_len {
        Some(n) => (
            (n + WINDOW_SLACK).min(WINDOW_BEFORE),
            (n + WINDOW_SLACK).min(WINDOW_AFTER),
        ),
        None => (WINDOW_BEFORE, WINDOW_AFTER),
    }
}

impl ContentRule {
    /// What is wrong with the rule's regexes, if anything: the same checks as loading a user
    /// rule, for the built-in ones (compiled lazily), run by `detectors check`.
    pub fn regex_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = compile_checked(self.regex.pattern(), self.secret_group) {
            out.push(e);
        }
        for a in &self.allowlists {
            for r in &a.regexes {
                if let Err(e) = compile_regex(r.pattern()) {
                    out.push(format!("allowlist {e}"));
                }
            }
        }
        out
    }

    /// Bytes before / after a keyword hit that the rule's regex needs to see.
    pub(crate) fn window(&self) -> (usize, usize) {
        *self.window.get_or_init(|| {
            window_for(
                pattern_shape(self.regex.pattern())
                    .ok()
                    .and_then(|s| s.max_len),
            )
        })
    }

    /// Builds a rule from its metadata and already-checked matching parts.
    pub(crate) fn new(meta: RuleMeta, parts: ContentParts) -> Self {
        ContentRule {
            meta,
            keywords: parts.keywords,
            gate: parts.gate,
            examples: parts.examples,
            negative_examples: parts.negative_examples,
            regex: parts.regex,
            cost: parts.cost,
            required: Vec::new(),
            required_ids: parts.required,
            multiline: parts.multiline,
            window: match parts.max_len {
                Some(n) => OnceLock::from(window_for(n)),
                None => OnceLock::new(),
            },
            secret_group: parts.secret_group,
            entropy: parts.entropy,
            validator: parts.validator,
            allowlists: parts.allowlists,
        }
    }
}

/// The matching parts of a content rule, checked at load.
#[derive(Debug)]
pub(crate) struct ContentParts {
    pub keywords: Vec<String>,
    pub gate: Option<Gate>,
    pub regex: RuleRegex,
    /// The regex's longest match, when worked out at load (`None`: on first use).
    pub max_len: Option<Option<usize>>,
    pub secret_group: Option<usize>,
    pub entropy: Option<f64>,
    pub validator: Option<Validator>,
    pub allowlists: Vec<Allowlist>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// [`super::limits::regex_cost`] of a user rule's regex (0 for built-ins).
    pub cost: usize,
    /// gitleaks `[[rules.required]]`: rule ids that must match too, within so many bytes.
    pub required: Vec<(String, Option<usize>)>,
    /// Also run over consecutive events of a stream joined.
    pub multiline: bool,
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
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
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
                let lower = kw.to_ascii_lowercase().into_bytes();
                if lower.is_empty() {
                    continue;
                }
                match patterns.iter().position(|p| *p == lower) {
                    Some(p) => {
                        if !keyword_rules[p].contains(&i) {
                            keyword_rules[p].push(i);
                        }
                    }
                    None => {
                        patterns.push(lower);
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let mut pattern_literal = vec![u32::MAX; patterns.len()];
        for (id, lit) in literals.iter().enumerate() {
            let lower = lit.to_ascii_lowercase().into_bytes();
            if lower.is_empty() {
                continue;
            }
            match patterns.iter().position(|p| *p == lower) {
                Some(p) => pattern_literal[p] = id as u32,
                None => {
                    patterns.push(lower);
                    keyword_rules.push(Vec::new());
                    pattern_literal.push(id as u32);
                }
            }
        }
        let keywords = if patterns.is_empty() {
            None
        } else {
            Some(LiteralSearch::new(&patterns).map_err(CompileError::Keywords)?)
        };
        let min_digit_gate = digit_rules.iter().map(|&(_, n)| n).min().unwrap_or(0);
        Ok(ContentMatcher {
            rules,
            keywords,
            keyword_rules,
            pattern_literal,
            literal_count: literals.len(),
            digit_rules,
            digit_set: OnceLock::new(),
            min_digit_gate,
            always_rules,
        })
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
        if let Some(from) = hay.decoded_from() {
            // A secret seen in both the text and its percent-decoded copy counts once.
            let text = hay.text(message);
            let seen: Vec<(usize, &[u8])> = out[first..]
                .iter()
                .filter(|m| m.start < from)
                .map(|m| (m.rule, &text[m.start..m.end]))
                .collect();
            let mut k = first;
            out.retain(|m| {
                let keep =
                    k < first || m.start < from || !seen.contains(&(m.rule, &text[m.start..m.end]));
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
            let set = self.digit_set.get_or_init(|| self.build_digit_set());
            for k in 0..scratch.runs.len() {
                let (rs, re) = scratch.runs[k];
                let digits = count_digits(&message[rs..re]);
                let start = rs.saturating_sub(GATE_CONTEXT);
                let end = (re + GATE_CONTEXT).min(message.len());
                // Most runs (account ids, epoch times) match no rule: the yes/no search stops
                // early and allocates nothing; only a yes asks which rules.
                let hits = match set {
                    Some(s) if !s.is_match_at(&message[..end], start) => continue,
                    Some(s) => Some(s.matches_at(&message[..end], start)),
                    None => None,
                };
                for (j, &(r, n)) in self.digit_rules.iter().enumerate() {
                    if digits >= n && hits.as_ref().is_none_or(|h| h.matched(j)) {
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

    fn build_digit_set(&self) -> Option<RegexSet> {
        let patterns: Vec<&str> = self
            .digit_rules
            .iter()
            .map(|&(r, _)| self.rules[r as usize].regex.pattern())
            .collect();
        let build = |unicode: bool| {
            RegexSetBuilder::new(&patterns)
                .unicode(unicode)
                .size_limit(REGEX_SIZE_LIMIT * patterns.len().max(1))
                .dfa_size_limit(4 * REGEX_SIZE_LIMIT)
                .build()
        };
        build(false).or_else(|_| build(true)).ok()
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
        let Some(regex) = rule.regex.get() else {
            return;
        };
        let locs = scratch.locs[r].get_or_insert_with(|| regex.capture_locations());
        let hay = &message[..end];
        let mut at = start;
        while at <= hay.len() {
            let Some(m) = regex.captures_read_at(locs, hay, at) else {
                break;
            };
            let (ms, me) = (m.start(), m.end());
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
    /// rules whose regex did not match. Slow: every candidate regex runs over the whole text.
    pub fn trace(&self, text: &[u8]) -> Vec<(usize, Vec<Verdict>)> {
        let lower = text.to_ascii_lowercase();
        let mut out = Vec::new();
        for (r, rule) in self.rules.iter().enumerate() {
            let candidate = if rule.keywords.is_empty() {
                true
            } else {
                rule.keywords.iter().any(|k| {
                    memchr::memmem::find(&lower, k.to_ascii_lowercase().as_bytes()).is_some()
                })
            };
            if !candidate {
                continue;
            }
            let Some(regex) = rule.regex.get() else {
                continue;
            };
            let mut locs = regex.capture_locations();
            let mut verdicts = Vec::new();
            let mut at = 0;
            while at <= text.len() && verdicts.len() < 16 {
                let Some(m) = regex.captures_read_at(&mut locs, text, at) else {
                    break;
                };
                let (ms, me) = (m.start(), m.end());
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

/// What became of one regex match of a content rule (or of a keyword hit without one).
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A keyword occurred but the regex did not match.
    NoMatch,
    /// The secret capture group did not take part in the match.
    NoSecretGroup,
    /// The secret's entropy was under the rule's floor.
    LowEntropy {
        /// Its entropy, bits per byte.
        entropy: f64,
        /// The floor.
        min: f64,
    },
    /// The validator (Luhn, IBAN, SSN) refused it.
    Invalid,
    /// An allowlist (by index in the rule's list) dropped it.
    Allowlisted(usize),
    /// A finding, at these offsets.
    Found(usize, usize),
}

impl ContentRule {
    /// The verdict on one regex match `ms..me` of `message` (captures in `locs`).
    fn verdict(&self, locs: &CaptureLocations, message: &[u8], ms: usize, me: usize) -> Verdict {
        let group = self
            .secret_group
            .or(if locs.len() > 1 { Some(1) } else { None });
        let (ss, se) = match group.and_then(|g| locs.get(g)) {
            Some(span) => span,
            None if self.secret_group.is_some() => return Verdict::NoSecretGroup,
            None => (ms, me),
        };
        if se <= ss {
            return Verdict::NoSecretGroup;
        }
        let secret = &message[ss..se];
        if let Some(min) = self.entropy {
            let entropy = shannon_entropy(secret);
            if entropy < min {
                return Verdict::LowEntropy { entropy, min };
            }
        }
        if let Some(v) = self.validator
            && !v.check(secret)
        {
            return Verdict::Invalid;
        }
        let whole = &message[ms..me];
        if let Some(i) = self
            .allowlists
            .iter()
            .position(|a| a.allows(secret, whole, message))
        {
            return Verdict::Allowlisted(i);
        }
        Verdict::Found(ss, se)
    }

    /// The description of allowlist `i`.
    pub fn allowlist_description(&self, i: usize) -> Option<&str> {
        self.allowlists
            .get(i)
            .and_then(|a| a.description.as_deref())
    }
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().filter(|c| c.is_ascii_digit()).count()
}

/// Finds runs of at least `min` digits, where one ` ` or `-` may separate two digits.
/// Pushes `(start, end)` byte ranges.
///
/// Such a run spans at least `min` bytes, so only every `min`-th byte is looked at until one
/// falls inside a run, which is then widened to its full extent: text without long numbers is
/// skipped `min` bytes at a time.
pub fn digit_runs(message: &[u8], min: usize, out: &mut Vec<(usize, usize)>) {
    let min = min.max(1);
    let n = message.len();
    let digit = |i: usize| message[i].is_ascii_digit();
    let sep = |i: usize| matches!(message[i], b' ' | b'-');
    let mut i = min - 1;
    while i < n {
        // A digit of the run this sample falls in, if any.
        let d = if digit(i) {
            i
        } else if sep(i) && i > 0 && i + 1 < n && digit(i - 1) && digit(i + 1) {
            i + 1
        } else {
            i += min;
            continue;
        };
        let mut start = d;
        while start > 0 && (digit(start - 1) || (start >= 2 && sep(start - 1) && digit(start - 2)))
        {
            start -= if digit(start - 1) { 1 } else { 2 };
        }
        let mut end = d + 1;
        while end < n && (digit(end) || (end + 1 < n && sep(end) && digit(end + 1))) {
            end += if digit(end) { 1 } else { 2 };
        }
        if count_digits(&message[start..end]) >= min {
            out.push((start, end));
        }
        i = end + min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_allow_single_separators() {
        let mut out = Vec::new();
        digit_runs(b"card 4111 1111 1111 1111 ok 12-34 5", 13, &mut out);
        assert_eq!(out, vec![(5, 24)]);
        out.clear();
        digit_runs(b"1234567890", 10, &mut out);
        assert_eq!(out, vec![(0, 10)]);
        out.clear();
        digit_runs(b"12  34", 3, &mut out);
        assert!(out.is_empty());
    }

    /// The straightforward left-to-right scan the sampling version must agree with.
    fn naive_runs(m: &[u8], min: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < m.len() {
            if !m[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let (start, mut end, mut digits) = (i, i, 0);
            while i < m.len() {
                if m[i].is_ascii_digit() {
                    digits += 1;
                    i += 1;
                    end = i;
                } else if matches!(m[i], b' ' | b'-')
                    && i + 1 < m.len()
                    && m[i + 1].is_ascii_digit()
                {
                    i += 1;
                } else {
                    break;
                }
            }
            if digits >= min {
                out.push((start, end));
            }
            i = end.max(i) + usize::from(i == end && i < m.len());
        }
        out
    }

    fn lazy_rule(pattern: &str, secret_group: Option<usize>) -> ContentRule {
        let meta = RuleMeta {
            id: "t".into(),
            title: "t".into(),
            severity: crate::detect::Severity::High,
            kind: crate::detect::FindingKind::Secret,
            tags: Vec::new(),
            location: crate::detect::rules::Location {
                file: "built-in".into(),
                line: 1,
            },
        };
        ContentRule::new(
            meta,
            ContentParts {
                keywords: vec!["k".into()],
                gate: None,
                regex: RuleRegex::lazy(pattern),
                max_len: None,
                secret_group,
                entropy: None,
                validator: None,
                allowlists: Vec::new(),
                examples: Vec::new(),
                negative_examples: Vec::new(),
                cost: 0,
                required: Vec::new(),
                multiline: false,
            },
        )
    }

    /// Built-in rules are compiled on first use, so the check must find what load would have.
    #[test]
    fn lazily_compiled_rules_report_their_regex_problems() {
        assert!(
            lazy_rule(r"k([a-z]{8})", Some(1))
                .regex_problems()
                .is_empty()
        );
        let bad = lazy_rule(r"k([a-z]{8}", None).regex_problems();
        assert!(bad.iter().any(|p| p.contains("unclosed group")), "{bad:?}");
        let group = lazy_rule(r"k[a-z]{8}", Some(2)).regex_problems();
        assert_eq!(
            group,
            ["secretGroup 2 but the regex has only 0 capture group(s)"]
        );
        // The window comes from the pattern on first use.
        assert_eq!(
            lazy_rule(r"k[a-z]{8}", None).window(),
            (9 + WINDOW_SLACK, 9 + WINDOW_SLACK)
        );
    }

    #[test]
    fn digit_runs_agree_with_a_naive_scan() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for case in 0..20_000 {
            let m = crate::detect::test_bytes(&mut seed, case % 60, b"0123456789 -x-1 2");
            for min in [1, 3, 9, 13] {
                let mut out = Vec::new();
                digit_runs(&m, min, &mut out);
                assert_eq!(
                    out,
                    naive_runs(&m, min),
                    "{:?} min {min}",
                    String::from_utf8_lossy(&m)
                );
            }
        }
    }
}
