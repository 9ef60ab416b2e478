//! A compiled content rule: its regex (compiled at load or on first use), the window around a
//! keyword hit it needs, its validator, entropy floor and allowlists, and the verdict on one
//! regex match.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use regex_automata::meta::{self, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind};

use crate::detect::error::{CompileError, one_line};
use crate::detect::rules::RuleMeta;
use crate::detect::service::{Refusal, ServiceCheck, is_placeholder};
use crate::detect::validate::{Validator, shannon_entropy};
use crate::severity::FindingKind;

/// Bytes before a keyword hit that the rule's regex sees.
pub const WINDOW_BEFORE: usize = 256;
/// Bytes after a keyword hit that the rule's regex sees (room for a PEM block).
pub const WINDOW_AFTER: usize = 4096;
/// Compiled size limit of one regex.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Slack added to a bounded regex's maximum match length when sizing its window.
pub(super) const WINDOW_SLACK: usize = 64;

/// A rule regex, compiled at load (user files: errors must show at once) or on first use
/// (the built-in rules, which CI compiles and tests, so a cold start does not pay for ~180
/// regexes most logs never need).
#[derive(Debug, Clone)]
pub struct RuleRegex {
    pattern: String,
    cell: StartedOnce<Option<Regex>>,
}

/// Where a rule regex searches, which decides how it is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Small windows around a keyword or a digit run that the literal pass found: built
    /// without a literal prefilter of its own, which is of no use in a window and was half of
    /// a compile (a case-insensitive name's prefilter three quarters).
    Windows,
    /// Whole lines (a rule without keywords or gate, an allowlist on the line): with one.
    Lines,
}

/// A value made once, on first use, by whichever thread asks first (as [`OnceLock`]), that a
/// thread warming up can also make ahead, unless another thread has started making it: threads
/// starting on the same batch then compile different regexes side by side, where asking for
/// the same one had each wait for the other's (a cold start's regexes, ~20 of them at
/// 100-300 µs each, were compiled one after the other on two threads).
#[derive(Debug)]
pub(crate) struct StartedOnce<T> {
    cell: OnceLock<T>,
    started: AtomicBool,
}

impl<T> StartedOnce<T> {
    /// Not made yet.
    pub(crate) const fn new() -> Self {
        StartedOnce {
            cell: OnceLock::new(),
            started: AtomicBool::new(false),
        }
    }

    /// Made already.
    pub(crate) fn from(value: T) -> Self {
        StartedOnce {
            cell: OnceLock::from(value),
            started: AtomicBool::new(true),
        }
    }

    /// The value, made now by `make` if no thread has made it; a thread that asks while another
    /// makes it waits for that one.
    pub(crate) fn get_or_init(&self, make: impl FnOnce() -> T) -> &T {
        self.cell.get_or_init(|| {
            self.started.store(true, Ordering::Release);
            make()
        })
    }

    /// Makes the value now with `make`, unless it is made or another thread has started making
    /// it (then returns at once, where [`StartedOnce::get_or_init`] would wait).
    pub(crate) fn make_unless_started(&self, make: impl FnOnce() -> T) {
        if self.cell.get().is_none() && !self.started.swap(true, Ordering::AcqRel) {
            self.get_or_init(make);
        }
    }
}

impl<T: Clone> Clone for StartedOnce<T> {
    fn clone(&self) -> Self {
        match self.cell.get() {
            Some(v) => StartedOnce::from(v.clone()),
            None => StartedOnce::new(),
        }
    }
}

/// A regex is written as its pattern and read back to be compiled on first use (only the
/// built-in rules, whose regexes are lazy anyway, are written: `detect::prebuilt`).
impl Serialize for RuleRegex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.pattern.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RuleRegex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|pattern| RuleRegex {
            pattern,
            cell: StartedOnce::new(),
        })
    }
}

impl RuleRegex {
    /// An already compiled regex.
    pub fn compiled(pattern: &str, regex: Regex) -> Self {
        RuleRegex {
            pattern: pattern.to_owned(),
            cell: StartedOnce::from(Some(regex)),
        }
    }

    /// A regex compiled on first use, for [`Reach::Windows`]: lazy regexes are the built-in
    /// rules', and each of those has keywords or a digit gate (a test checks); one used on
    /// whole lines would find the same, only slower.
    pub fn lazy(pattern: &str) -> Self {
        RuleRegex {
            pattern: pattern.to_owned(),
            cell: StartedOnce::new(),
        }
    }

    /// The compiled regex (`None` if it does not compile, which load-time checks prevent).
    pub fn get(&self) -> Option<&Regex> {
        self.cell
            .get_or_init(|| compile_regex(&self.pattern, Reach::Windows).ok())
            .as_ref()
    }

    /// Compiles the regex now unless it is compiled or another thread has started on it
    /// (then returns at once, where [`RuleRegex::get`] would wait).
    pub fn compile_unless_started(&self) {
        self.cell
            .make_unless_started(|| compile_regex(&self.pattern, Reach::Windows).ok());
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllowTarget {
    /// The secret (capture group).
    Secret,
    /// The whole regex match.
    Match,
    /// The whole log line.
    Line,
}

/// A compiled allowlist.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gate {
    /// The rule runs only near a run of at least this many digits (single ` ` or `-`
    /// separators allowed inside the run).
    Digits(usize),
    /// No gate: the regex runs on every message (only for user rules without keywords).
    Always,
}

/// One compiled content rule. Written (`prebuilt_content.jsonl`) without its empty lists,
/// zero cost and `false` flags: reading the built-in rules' heads is most of a cold start's
/// loading, and these were a third of their bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContentRule {
    /// Id, title (the description), severity, kind (secret or PII), tags, location.
    pub meta: RuleMeta,
    /// The keywords as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Gate for keyword-less rules.
    pub gate: Option<Gate>,
    /// Examples that must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Examples that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub negative_examples: Vec<String>,
    /// The regex and the checks on its matches, read on first use for a built-in rule.
    #[serde(skip)]
    body: LazyBody,
    /// [`super::limits::regex_cost`] of a user rule's regex (0 for built-ins).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) cost: usize,
    /// Required rules (resolved): index and the most bytes between the matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) required: Vec<(u32, Option<usize>)>,
    /// Required rule ids, before they are resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) required_ids: Vec<(String, Option<usize>)>,
    /// Also run over consecutive events of a stream joined (PEM keys logged line by line).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiline: bool,
    /// Bytes before / after a keyword hit the regex needs to see, from the pattern's longest
    /// match (worked out on first use for built-in rules, at load for the others).
    #[serde(skip)]
    window: OnceLock<(usize, usize)>,
    /// How `--verify` asks the provider whether a found key works.
    pub verify: Option<VerifyWith>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a scan needs of a content rule only once a keyword (or a digit run) makes it a
/// candidate: its regex and the checks on each match.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Body {
    pub(crate) regex: RuleRegex,
    pub(crate) secret_group: Option<usize>,
    pub(crate) entropy: Option<f64>,
    pub(crate) validator: Option<Validator>,
    #[serde(default)]
    pub(crate) allowlists: Vec<Allowlist>,
    /// A `[[service]]` entry's checks on every match.
    pub(crate) service: Option<ServiceCheck>,
}

impl Body {
    /// A body whose regex never runs: what a prepared body that does not read becomes.
    fn unusable() -> Body {
        Body {
            regex: RuleRegex {
                pattern: String::new(),
                cell: StartedOnce::from(None),
            },
            secret_group: None,
            entropy: None,
            validator: None,
            allowlists: Vec::new(),
            service: None,
        }
    }
}

/// A rule's [`Body`]: built with the rule (user files), or kept as its JSON in
/// `prebuilt_content.jsonl` and read when the rule first becomes a candidate (built-in files:
/// most of their ~1,100 rules never do in a given log, and reading every body was about half
/// of loading them).
#[derive(Clone, Default)]
pub(crate) struct LazyBody {
    cell: OnceLock<Body>,
    prepared: Option<&'static str>,
}

impl std::fmt::Debug for LazyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.cell.get(), self.prepared) {
            (Some(body), _) => body.fmt(f),
            (None, Some(json)) => write!(f, "LazyBody(prepared, {} bytes)", json.len()),
            (None, None) => f.write_str("LazyBody(none)"),
        }
    }
}

impl LazyBody {
    /// A body already built.
    pub(crate) fn ready(body: Body) -> Self {
        LazyBody {
            cell: OnceLock::from(body),
            prepared: None,
        }
    }

    /// A body read from `json` on first use.
    pub(crate) fn prepared(json: &'static str) -> Self {
        LazyBody {
            cell: OnceLock::new(),
            prepared: Some(json),
        }
    }

    /// The body; one that does not read (`prebuilt_content.jsonl`'s test forbids it) is
    /// logged once and never matches.
    fn get(&self, id: &str) -> &Body {
        self.cell.get_or_init(|| {
            match self.prepared.map(serde_json::from_str::<Body>) {
                Some(Ok(body)) => body,
                Some(Err(e)) => {
                    tracing::error!(rule = id, error = %e, "prepared content rule does not read: rule disabled");
                    Body::unusable()
                }
                None => {
                    tracing::error!(rule = id, "content rule without a body: rule disabled");
                    Body::unusable()
                }
            }
        })
    }
}

/// How a found key can be checked with its provider (a harmless read-only call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VerifyWith {
    /// An AWS access key id: checked with the secret key found in the same event (STS
    /// GetCallerIdentity).
    AwsKeyId,
    /// An AWS secret access key: checked with the key id found in the same event.
    AwsSecret,
    /// A GitHub token (`GET /user`).
    Github,
    /// A Slack token (`auth.test`).
    Slack,
    /// A Stripe key (`GET /v1/balance`).
    Stripe,
    /// An OpenAI key (`GET /v1/models`).
    Openai,
}

impl VerifyWith {
    /// Every way, with its name in detector files.
    pub const ALL: [(&'static str, VerifyWith); 6] = [
        ("aws-key-id", VerifyWith::AwsKeyId),
        ("aws-secret", VerifyWith::AwsSecret),
        ("github", VerifyWith::Github),
        ("slack", VerifyWith::Slack),
        ("stripe", VerifyWith::Stripe),
        ("openai", VerifyWith::Openai),
    ];

    /// The way named `name` in a detector file.
    pub fn from_name(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown verify `{name}` (one of {})", names.join(", "))
            })
    }

    /// Its name in detector files.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|&&(_, v)| v == self)
            .map_or("", |(n, _)| n)
    }
}

/// Compiles a rule regex: over bytes, Unicode off first (ASCII classes, faster), falling
/// back to Unicode on for patterns that need it; size-limited; for where it searches
/// ([`Reach`]). The same regex as `regex::bytes::RegexBuilder` builds (leftmost-first, empty
/// matches anywhere), through the meta API that can leave the prefilter out.
pub fn compile_regex(pattern: &str, reach: Reach) -> Result<Regex, CompileError> {
    let config = meta::Config::new()
        .match_kind(MatchKind::LeftmostFirst)
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid_cache_capacity(REGEX_SIZE_LIMIT)
        .auto_prefilter(reach == Reach::Lines);
    build_bytes_regex(&[pattern], config).map_err(|e| CompileError::Regex(one_line(&e)))
}

/// A regex of `patterns` over bytes (empty matches anywhere, as `regex::bytes`) with `config`:
/// Unicode off first (ASCII classes, faster), falling back to Unicode on for patterns that
/// need it. The error is worded as the `regex` crate words it.
pub(crate) fn build_bytes_regex(patterns: &[&str], config: meta::Config) -> Result<Regex, String> {
    let config = config.utf8_empty(false);
    let build = |unicode: bool| {
        meta::Builder::new()
            .configure(config.clone())
            .syntax(syntax::Config::new().unicode(unicode).utf8(false))
            .build_many(patterns)
            .map_err(|e| build_error(&e))
    };
    build(false).or_else(|_| build(true))
}

/// A build error as the `regex` crate words it: the size limit, or the syntax error itself
/// (the meta error's own text only names the pattern's index).
fn build_error(e: &meta::BuildError) -> String {
    if let Some(limit) = e.size_limit() {
        format!("Compiled regex exceeds size limit of {limit} bytes.")
    } else if let Some(syntax) = e.syntax_error() {
        syntax.to_string()
    } else {
        e.to_string()
    }
}

/// The capture groups of a rule regex's match, reused from one search to the next.
#[derive(Debug, Clone)]
pub(crate) struct Groups(Captures);

impl Groups {
    /// Room for `regex`'s groups.
    pub(crate) fn for_regex(regex: &Regex) -> Self {
        Groups(regex.create_captures())
    }

    /// The first match of `regex` in `hay` at or after `at` (the bytes before `at` still
    /// count for `^` and `\b`), with its groups kept here.
    pub(crate) fn find_at(
        &mut self,
        regex: &Regex,
        hay: &[u8],
        at: usize,
    ) -> Option<(usize, usize)> {
        regex.search_captures(&Input::new(hay).span(at..hay.len()), &mut self.0);
        self.0.get_match().map(|m| (m.start(), m.end()))
    }

    /// Groups in the regex, the whole match (group 0) included.
    pub(crate) fn len(&self) -> usize {
        self.0
            .group_info()
            .group_len(regex_automata::PatternID::ZERO)
    }

    /// Where group `i` matched in the last match, if it took part.
    pub(crate) fn get(&self, i: usize) -> Option<(usize, usize)> {
        self.0.get_group(i).map(|s| (s.start, s.end))
    }
}

/// Parses and compiles a rule's pattern and checks its `secret_group` against the pattern's
/// capture groups: what loading a rule requires. Errors are one-line messages.
pub(crate) fn compile_checked(
    pattern: &str,
    secret_group: Option<usize>,
    reach: Reach,
) -> Result<(Regex, PatternShape), String> {
    let shape = match pattern_shape(pattern) {
        Ok(shape) => shape,
        // The syntax parser's message is less clear than the compiler's: report that one.
        Err(e) => return Err(compile_regex(pattern, reach).err().unwrap_or(e).to_string()),
    };
    if let Some(g) = secret_group
        && g > shape.groups
    {
        return Err(format!(
            "secretGroup {g} but the regex has only {} capture group(s)",
            shape.groups
        ));
    }
    let regex = compile_regex(pattern, reach).map_err(|e| e.to_string())?;
    Ok((regex, shape))
}

/// Longest window a bounded rule's regex sees on either side of a keyword hit.
pub const MAX_WINDOW: usize = 16 * 1024;

/// The window around a keyword hit for a rule whose longest match is `max_len`: as long as
/// the match can be (a SAS URL's `sig=` may come 400 bytes after its `sv=`), up to
/// [`MAX_WINDOW`]; an unbounded regex sees the caps.
fn window_for(max_len: Option<usize>) -> (usize, usize) {
    match max_len {
        Some(n) => {
            let w = (n + WINDOW_SLACK).min(MAX_WINDOW);
            (w, w)
        }
        None => (WINDOW_BEFORE, WINDOW_AFTER),
    }
}

impl ContentRule {
    /// What is wrong with the rule's regexes, if anything: the same checks as loading a user
    /// rule, for the built-in ones (compiled lazily), run by `detectors check`.
    pub fn regex_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let body = self.body();
        if let Err(e) = compile_checked(body.regex.pattern(), body.secret_group, Reach::Windows) {
            out.push(e);
        }
        for a in &body.allowlists {
            for r in &a.regexes {
                if let Err(e) = compile_regex(r.pattern(), Reach::Windows) {
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
                pattern_shape(self.body().regex.pattern())
                    .ok()
                    .and_then(|s| s.max_len),
            )
        })
    }

    /// The regex and the checks on a match (read now if the rule is prepared and this is
    /// its first use).
    pub(crate) fn body(&self) -> &Body {
        self.body.get(&self.meta.id)
    }

    /// Makes the rule's body the one `json` holds, read on first use (a prepared rule, read
    /// without it).
    pub(crate) fn set_prepared_body(&mut self, json: &'static str) {
        self.body = LazyBody::prepared(json);
    }

    /// Whether the rule's body was read (or built with the rule).
    #[cfg(test)]
    pub(crate) fn body_read(&self) -> bool {
        self.body.cell.get().is_some()
    }

    /// Whether the rule's regex is compiled.
    #[cfg(test)]
    pub(crate) fn regex_compiled(&self) -> bool {
        self.body().regex.cell.cell.get().is_some()
    }

    /// Builds a rule from its metadata and already-checked matching parts.
    pub(crate) fn new(meta: RuleMeta, parts: ContentParts) -> Self {
        ContentRule {
            meta,
            keywords: parts.keywords,
            gate: parts.gate,
            examples: parts.examples,
            negative_examples: parts.negative_examples,
            body: LazyBody::ready(Body {
                regex: parts.regex,
                secret_group: parts.secret_group,
                entropy: parts.entropy,
                validator: parts.validator,
                allowlists: parts.allowlists,
                service: parts.service,
            }),
            cost: parts.cost,
            required: Vec::new(),
            required_ids: parts.required,
            multiline: parts.multiline,
            window: match parts.max_len {
                Some(n) => OnceLock::from(window_for(n)),
                None => OnceLock::new(),
            },
            verify: parts.verify,
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
    /// A `[[service]]` entry's checks on every match.
    pub service: Option<ServiceCheck>,
    /// How `--verify` checks a found key.
    pub verify: Option<VerifyWith>,
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
    /// A service entry's checks refused it (placeholder, word, another assignment ...).
    Refused(Refusal),
    /// An allowlist (by index in the rule's list) dropped it.
    Allowlisted(usize),
    /// A finding, at these offsets.
    Found(usize, usize),
}

impl ContentRule {
    /// The verdict on one regex match `ms..me` of `message` (captures in `locs`).
    pub(super) fn verdict(&self, locs: &Groups, message: &[u8], ms: usize, me: usize) -> Verdict {
        let body = self.body();
        let group = body
            .secret_group
            .or(if locs.len() > 1 { Some(1) } else { None });
        let (ss, se) = match group.and_then(|g| locs.get(g)) {
            Some(span) => span,
            None if body.secret_group.is_some() => return Verdict::NoSecretGroup,
            None => (ms, me),
        };
        if se <= ss {
            return Verdict::NoSecretGroup;
        }
        let secret = &message[ss..se];
        if let Some(check) = &body.service {
            let gap = if check.keyed { locs.get(1) } else { None };
            if let Some(why) = check.refuse(message, gap, ss, se) {
                return Verdict::Refused(why);
            }
        }
        // A placeholder is no secret whichever rule found it (`AKIAXXXXXXXXXXXXXXXX`,
        // `sk_live_<your key>`); personal data has no placeholders of this kind.
        if self.meta.kind == FindingKind::Secret && is_placeholder(secret) {
            return Verdict::Refused(Refusal::Placeholder);
        }
        if let Some(min) = body.entropy {
            let entropy = shannon_entropy(secret);
            if entropy < min {
                return Verdict::LowEntropy { entropy, min };
            }
        }
        if let Some(v) = body.validator
            && !v.check(secret)
        {
            return Verdict::Invalid;
        }
        let whole = &message[ms..me];
        if let Some(i) = body
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
        self.body()
            .allowlists
            .get(i)
            .and_then(|a| a.description.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::StartedOnce;
    use std::sync::mpsc;

    /// A thread warming up never waits for a value another thread is making (nor makes it
    /// again); one that asks for the value does wait, and gets the other's.
    #[test]
    fn made_once_and_left_to_the_thread_that_started_it() {
        let cell = StartedOnce::<u32>::new();
        let (go, wait) = mpsc::channel::<()>();
        let (started, has_started) = mpsc::channel::<()>();
        std::thread::scope(|s| {
            let cell = &cell;
            let maker = s.spawn(move || {
                *cell.get_or_init(|| {
                    started.send(()).expect("main thread listens");
                    wait.recv().expect("main thread lets it finish");
                    7
                })
            });
            has_started.recv().expect("the maker starts");
            // Returns while the other thread is still inside `get_or_init`.
            cell.make_unless_started(|| panic!("made twice"));
            go.send(()).expect("maker waits");
            assert_eq!(*cell.get_or_init(|| panic!("made twice")), 7);
            assert_eq!(maker.join().expect("maker returns"), 7);
        });
        let fresh = StartedOnce::<u32>::new();
        fresh.make_unless_started(|| 3);
        assert_eq!(*fresh.get_or_init(|| 4), 3);
        assert_eq!(*fresh.clone().get_or_init(|| 5), 3);
    }
}
