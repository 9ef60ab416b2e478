//! `[[service]]` entries: one compact, declarative entry per secret family ("this service's
//! keyword near a value of this shape"), compiled into an ordinary content rule so that
//! hundreds of them stay one literal pass.
//!
//! ```toml
//! [[service]]
//! id = "sonarqube-token"
//! service = "SonarQube"
//! what = "token"                 # the title is "SonarQube token"
//! keywords = ["sonar"]           # one must end at most `near` bytes before the value
//! prefix = "squ_"                # optional literal start of the value
//! charset = "hex"                # or an explicit class "[A-Za-z0-9_.-]"
//! length = 40                    # or "32..40"
//! # value = "..."                # or a whole regex instead of prefix/charset/length
//! prefix_unique = false          # true: the prefix alone names the service, no keyword needed
//! near = 40                      # at most 120
//! severity = "high"
//! entropy = 3.0                  # default 3.0 for values of 16+ characters
//! examples = ["sonar.login=squ_..."]
//! negative_examples = ["sonar.login=squ_short"]
//! ```
//!
//! What the engine adds to every entry (the [`ServiceCheck`] of its rule): a keyword starts a
//! word (no ASCII letter right before it); the value is not inside a longer run of its own
//! characters; the bytes between keyword and value hold no line break followed by another
//! assignment at the keyword's indentation or less (an empty `GITHUB_API_KEY=` does not take
//! the next line's `DYNATRACE_API_KEY=` value), and no placeholder (one repeated character,
//! `EXAMPLE`, `changeme`, `your_`, `xxxxx`, `<...>`, `${...}`, `{{...}}`), no word of letters
//! alone when the charset has digits, nothing under the entropy floor is a secret.

use super::rules::{Location, RuleMeta, ServiceSpec};
use crate::severity::{FindingKind, Severity};

/// Longest `near` an entry may ask for.
pub const MAX_NEAR: usize = 120;
/// `near` when an entry does not say.
pub const DEFAULT_NEAR: usize = 40;
/// Entropy floor (bits per byte) of values of [`ENTROPY_MIN_LEN`]+ characters when an entry
/// does not say.
pub const DEFAULT_ENTROPY: f64 = 3.0;
/// Shortest value the default entropy floor applies to.
pub const ENTROPY_MIN_LEN: usize = 16;
/// Longest value length an entry may ask for.
pub const MAX_LENGTH: usize = 1024;

/// A set of bytes (a value's characters).
#[derive(Clone, PartialEq, Eq)]
pub struct ByteSet([bool; 256]);

impl std::fmt::Debug for ByteSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let members: String = (0u8..=255)
            .filter(|b| self.0[*b as usize])
            .map(|b| b as char)
            .collect();
        write!(f, "ByteSet({members:?})")
    }
}

impl ByteSet {
    fn of(pred: impl Fn(u8) -> bool) -> Self {
        let mut s = [false; 256];
        for b in 0..=255u8 {
            s[b as usize] = pred(b);
        }
        ByteSet(s)
    }

    /// Whether `b` is in the set.
    pub fn contains(&self, b: u8) -> bool {
        self.0[b as usize]
    }
}

/// What the engine checks on every match of a service rule, beyond its regex.
#[derive(Debug, Clone)]
pub struct ServiceCheck {
    /// The value's characters: the bytes right before and after it must not be one.
    pub(crate) boundary: ByteSet,
    /// The rule has keywords (else the match is the value alone).
    pub(crate) keyed: bool,
    /// The charset allows digits (a letters-only value of 16+ is then a word, not a key).
    pub(crate) allows_digits: bool,
    /// The entropy floor given, else [`DEFAULT_ENTROPY`] from [`ENTROPY_MIN_LEN`] bytes.
    pub(crate) entropy: Option<f64>,
}

/// Why a service rule's match is not a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The keyword is the end of a longer word.
    KeywordInWord,
    /// The value is part of a longer run of its characters.
    LongerToken,
    /// Between keyword and value, another assignment starts on a new line.
    OtherAssignment,
    /// A placeholder (`XXXX`, `EXAMPLE`, `<...>` ...).
    Placeholder,
    /// A word of letters where the key would have digits.
    Word,
    /// Under the entropy floor.
    LowEntropy,
}

impl Refusal {
    /// A few words for `explain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::KeywordInWord => "the keyword ends a longer word",
            Refusal::LongerToken => "the value is part of a longer token",
            Refusal::OtherAssignment => "another assignment starts between keyword and value",
            Refusal::Placeholder => "a placeholder, not a secret",
            Refusal::Word => "a word of letters, not a key",
            Refusal::LowEntropy => "under the entropy floor",
        }
    }
}

impl ServiceCheck {
    /// Checks one match: `ms..me` the whole match, `gap` the bytes between keyword and value
    /// (keyed rules), `ss..se` the value, all in `message`.
    pub(crate) fn refuse(
        &self,
        message: &[u8],
        ms: usize,
        gap: Option<(usize, usize)>,
        ss: usize,
        se: usize,
    ) -> Option<Refusal> {
        if self.keyed && ms > 0 && message[ms - 1].is_ascii_alphabetic() {
            return Some(Refusal::KeywordInWord);
        }
        let before = ss.checked_sub(1).map(|i| message[i]);
        let after = message.get(se).copied();
        if before.is_some_and(|b| self.boundary.contains(b))
            || after.is_some_and(|b| self.boundary.contains(b))
        {
            return Some(Refusal::LongerToken);
        }
        if let Some((gs, ge)) = gap
            && assignment_after_break(message, ms, &message[gs..ge])
        {
            return Some(Refusal::OtherAssignment);
        }
        let value = &message[ss..se];
        if is_placeholder(value) {
            return Some(Refusal::Placeholder);
        }
        if self.allows_digits
            && value.len() >= ENTROPY_MIN_LEN
            && value.iter().all(u8::is_ascii_alphabetic)
        {
            return Some(Refusal::Word);
        }
        let floor = self
            .entropy
            .or((value.len() >= ENTROPY_MIN_LEN).then_some(DEFAULT_ENTROPY));
        if floor.is_some_and(|f| super::validate::shannon_entropy(value) < f) {
            return Some(Refusal::LowEntropy);
        }
        None
    }
}

/// The indentation (spaces and tabs) of the line `message[at]` is on.
fn indent_of_line(message: &[u8], at: usize) -> usize {
    let start = message[..at]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |i| i + 1);
    message[start..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

/// Whether `gap` holds a line break followed by an assignment (`NAME=`, `name:`,
/// `"name":`) indented no deeper than the keyword's line (which starts at `keyword_at`): the
/// value after it belongs to that other name. A deeper line is the keyword's own block
/// (`github:` then `  token: ...`).
fn assignment_after_break(message: &[u8], keyword_at: usize, gap: &[u8]) -> bool {
    let own = indent_of_line(message, keyword_at);
    let mut i = 0;
    while let Some(j) = gap[i..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|j| i + j)
    {
        let line = &gap[j + 1..];
        let indent = line
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if indent <= own && starts_assignment(&line[indent..]) {
            return true;
        }
        i = j + 1;
    }
    false
}

/// Whether `s` starts with a name and `=` or `:` (the name bare, or quoted).
fn starts_assignment(s: &[u8]) -> bool {
    let name_end = match s.first() {
        Some(&q @ (b'"' | b'\'')) => match s[1..].iter().take(81).position(|&b| b == q) {
            Some(n) if n > 0 && !s[1..1 + n].iter().any(|&b| b == b'\n' || b == b'\r') => n + 2,
            _ => return false,
        },
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => s
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
            .unwrap_or(s.len()),
        _ => return false,
    };
    s[name_end..]
        .iter()
        .find(|&&b| b != b' ' && b != b'\t')
        .is_some_and(|&b| b == b'=' || b == b':')
}

/// A placeholder written where a secret goes: one character repeated, `EXAMPLE`, `changeme`,
/// `your_`, `xxxxx`, or a template (`<...>`, `${...}`, `{{...}}`).
pub fn is_placeholder(value: &[u8]) -> bool {
    let Some(&first) = value.first() else {
        return true;
    };
    if value.iter().all(|&b| b == first) {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    let has = |w: &[u8]| memchr::memmem::find(&lower, w).is_some();
    if memchr::memmem::find(value, b"EXAMPLE").is_some()
        || memchr::memmem::find(value, b"example").is_some()
        || has(b"changeme")
        || has(b"your_")
        || has(b"xxxxx")
    {
        return true;
    }
    let enclosed = |open: &[u8], close: &[u8]| {
        memchr::memmem::find(value, open)
            .is_some_and(|i| memchr::memmem::find(&value[i + open.len()..], close).is_some())
    };
    enclosed(b"<", b">") || enclosed(b"${", b"}") || enclosed(b"{{", b"}}")
}

/// A named charset as a regex class body.
fn named_charset(name: &str) -> Option<&'static str> {
    Some(match name {
        "hex" => "0-9a-f",
        "HEX" => "0-9A-F",
        "hexany" => "0-9a-fA-F",
        "alnum" => "A-Za-z0-9",
        "lower" => "a-z0-9",
        "upper" => "A-Z0-9",
        "base64" => "A-Za-z0-9+/",
        "base64url" => "A-Za-z0-9_\\-",
        "digits" => "0-9",
        _ => return None,
    })
}

/// A compiled entry: the rule's metadata and matching parts.
#[derive(Debug)]
pub(crate) struct CompiledService {
    pub meta: RuleMeta,
    pub keywords: Vec<String>,
    pub pattern: String,
    pub check: ServiceCheck,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
}

/// Compiles one entry into a content rule's parts; errors are one-line messages.
pub(crate) fn compile(spec: ServiceSpec, location: Location) -> Result<CompiledService, String> {
    let id = spec.id.get_ref().clone();
    if id.is_empty()
        || !id.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
    {
        return Err("id must be lowercase kebab-case ([a-z0-9-])".into());
    }
    if spec.service.trim().is_empty() || spec.what.trim().is_empty() {
        return Err("`service` and `what` must not be empty".into());
    }
    for k in &spec.keywords {
        if k.len() < 3
            || k.trim() != k
            || k.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase())
        {
            return Err(format!(
                "keyword `{k}`: lowercase ASCII, at least 3 characters, no spaces at the ends"
            ));
        }
    }
    let near = spec.near.unwrap_or(DEFAULT_NEAR);
    if near > MAX_NEAR {
        return Err(format!("near {near} is over {MAX_NEAR}"));
    }
    if let Some(e) = spec.entropy
        && !(0.0..=8.0).contains(&e)
    {
        return Err(format!("entropy {e} is outside 0..=8 bits per byte"));
    }
    if spec.examples.is_empty() || spec.negative_examples.is_empty() {
        return Err("needs at least one example and one negative example".into());
    }
    let prefix = spec.prefix.as_deref().filter(|p| !p.is_empty());
    let (value, boundary, allows_digits) = match (&spec.value, &spec.charset, &spec.length) {
        (Some(v), None, None) => {
            let hir = regex_syntax::ParserBuilder::new()
                .utf8(false)
                .build()
                .parse(v)
                .map_err(|e| format!("value: {}", super::error::one_line(&e.to_string())))?;
            if hir.properties().explicit_captures_len() > 0 {
                return Err("`value` must not have capture groups: use (?:...)".into());
            }
            if prefix.is_some_and(|p| !v.starts_with(&regex::escape(p)) && !v.starts_with(p)) {
                return Err("`value` does not start with the `prefix`".into());
            }
            let digits = v.contains("0-9")
                || v.contains("\\d")
                || v.contains("\\w")
                || v.contains("[^")
                || v.bytes().any(|b| b.is_ascii_digit());
            (
                v.clone(),
                ByteSet::of(|b| b.is_ascii_alphanumeric()),
                digits,
            )
        }
        (None, Some(cs), Some(len)) => {
            let body = match named_charset(cs) {
                Some(b) => b.to_owned(),
                None if cs.len() > 2
                    && cs.starts_with('[')
                    && cs.ends_with(']')
                    && !cs.starts_with("[^") =>
                {
                    cs[1..cs.len() - 1].to_owned()
                }
                None => return Err(format!("unknown charset `{cs}`")),
            };
            let class = regex::bytes::Regex::new(&format!("(?-u)^[{body}]$")).map_err(|e| {
                format!("charset `{cs}`: {}", super::error::one_line(&e.to_string()))
            })?;
            let (lo, hi) = length(len)?;
            let rep = if lo == hi {
                format!("{{{lo}}}")
            } else {
                format!("{{{lo},{hi}}}")
            };
            let pad = if cs == "base64" { "={0,2}" } else { "" };
            let value = format!(
                "{}[{body}]{rep}{pad}",
                prefix.map(regex::escape).unwrap_or_default()
            );
            let base64 = cs == "base64";
            let boundary = ByteSet::of(|b| class.is_match(&[b]) || (base64 && b == b'='));
            (value, boundary, class.is_match(b"5"))
        }
        _ => {
            return Err(
                "give either `value`, or `charset` and `length` (with an optional `prefix`)".into(),
            );
        }
    };
    let keywords = if spec.prefix_unique {
        let Some(p) = prefix.filter(|p| p.len() >= 3) else {
            return Err("prefix_unique needs a `prefix` of at least 3 characters".into());
        };
        vec![p.to_ascii_lowercase()]
    } else if spec.keywords.is_empty() {
        return Err("needs `keywords` (or `prefix_unique` with a distinctive `prefix`)".into());
    } else {
        spec.keywords.clone()
    };
    let pattern = if spec.prefix_unique {
        format!("({value})")
    } else {
        let mut kws: Vec<&str> = spec.keywords.iter().map(String::as_str).collect();
        kws.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let alternation: Vec<String> = kws.iter().map(|k| regex::escape(k)).collect();
        // Group 1: the gap, lazily as short as it can be (ending at a byte that is not one of
        // the value's, so the value starts a run), or empty; group 2: the value.
        format!(
            "(?i:{})(?s:(.{{0,{near}}}?[^{}]|))({value})",
            alternation.join("|"),
            class_body_of(&boundary)
        )
    };
    Ok(CompiledService {
        meta: RuleMeta {
            title: format!("{} {}", spec.service.trim(), spec.what.trim()),
            id,
            severity: spec.severity.unwrap_or(Severity::High),
            kind: FindingKind::Secret,
            tags: vec!["service".into()],
            location,
        },
        keywords,
        pattern,
        check: ServiceCheck {
            boundary,
            keyed: !spec.prefix_unique,
            allows_digits,
            entropy: spec.entropy,
        },
        examples: spec.examples,
        negative_examples: spec.negative_examples,
    })
}

/// A byte set as a regex class body (every member escaped).
fn class_body_of(set: &ByteSet) -> String {
    let mut s = String::new();
    for b in 0u8..=127 {
        if set.contains(b) {
            if b.is_ascii_alphanumeric() {
                s.push(b as char);
            } else {
                s.push_str(&format!("\\x{b:02X}"));
            }
        }
    }
    s
}

/// `length = 40` or `length = "32..40"`.
fn length(v: &toml::Value) -> Result<(usize, usize), String> {
    let bad = || format!("length {v}: a number or \"LOW..HIGH\"");
    let (lo, hi) = match v {
        toml::Value::Integer(n) => {
            let n = usize::try_from(*n).map_err(|_| bad())?;
            (n, n)
        }
        toml::Value::String(s) => {
            let (a, b) = s.split_once("..").ok_or_else(bad)?;
            (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            )
        }
        _ => return Err(bad()),
    };
    if lo == 0 || hi < lo || hi > MAX_LENGTH {
        return Err(format!("length {v}: 1..={MAX_LENGTH}, low at most high"));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(allows_digits: bool) -> ServiceCheck {
        ServiceCheck {
            boundary: ByteSet::of(|b| b.is_ascii_alphanumeric()),
            keyed: true,
            allows_digits,
            entropy: None,
        }
    }

    #[test]
    fn placeholders_are_not_secrets() {
        for p in [
            "XXXXXXXXXXXXXXXXXXXX",
            "0000000000000000",
            "AKIAIOSFODNN7EXAMPLE",
            "changeme-changeme",
            "your_api_key_here",
            "<api-key>",
            "${API_KEY}",
            "{{ api_key }}",
            "abcxxxxxdef",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in [
            "squ_5e3e9a9c0a1d4e8c",
            "ghp_2Bx9kLm4Qv7Rt1Zw",
            "a<b",
            "x{y}",
        ] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn an_empty_assignment_does_not_take_the_next_lines_value() {
        let m = b"GITHUB_API_KEY=\nDYNATRACE_API_KEY=dt0c01abc";
        assert!(assignment_after_break(
            m,
            0,
            b"_API_KEY=\nDYNATRACE_API_KEY="
        ));
        // A deeper line is the keyword's own block.
        let y = b"github:\n  token: abc";
        assert!(!assignment_after_break(y, 0, b":\n  token: "));
        let q = b"  \"sonar\":\n  \"login\": \"squ_1\"";
        assert!(assignment_after_break(q, 2, b"\":\n  \"login\": \""));
        // A value continued on the next line is no assignment.
        assert!(!assignment_after_break(b"sonar\n  abc", 0, b"\n  "));
    }

    #[test]
    fn the_engine_refuses_words_tokens_and_low_entropy() {
        let c = check(true);
        let m = b"probably_token=AbCdEfGhIjKlMnOpQrSt";
        // `ably` inside `probably`.
        assert_eq!(
            c.refuse(m, 4, None, 15, m.len()),
            Some(Refusal::KeywordInWord)
        );
        let m = b"ably_token=AbCdEfGhIjKlMnOpQrSt";
        assert_eq!(c.refuse(m, 0, None, 11, m.len()), Some(Refusal::Word));
        let m = b"ably_token=Ab1dEfGh2jKlMnOpQrSt9";
        assert_eq!(
            c.refuse(m, 0, None, 11, m.len() - 1),
            Some(Refusal::LongerToken)
        );
        assert_eq!(c.refuse(m, 0, None, 11, m.len()), None);
        let m = b"ably_token=ab12ab12ab12ab12ab12";
        assert_eq!(c.refuse(m, 0, None, 11, m.len()), Some(Refusal::LowEntropy));
    }

    #[test]
    fn entries_compile_to_a_keyword_gap_value_pattern() {
        let spec: ServiceSpec = toml::from_str(
            r#"
            id = "sonarqube-token"
            service = "SonarQube"
            what = "token"
            keywords = ["sonar"]
            prefix = "squ_"
            charset = "hex"
            length = 40
            examples = ["sonar.login=squ_5e3e9a9c0a1d4e8c9b7f6a5d4c3b2a1f0e9d8c7b"]
            negative_examples = ["sonar.login=squ_5e3e9a9c"]
            "#,
        )
        .expect("parses");
        let c = compile(
            spec,
            Location {
                file: "t.toml".into(),
                line: 1,
            },
        )
        .expect("compiles");
        assert_eq!(c.meta.title, "SonarQube token");
        let re = regex::bytes::Regex::new(&c.pattern).expect("regex");
        let caps = re
            .captures(b"cfg sonar.login=squ_5e3e9a9c0a1d4e8c9b7f6a5d4c3b2a1f0e9d8c7b")
            .expect("match");
        assert_eq!(&caps[1], b".login=");
        assert_eq!(&caps[2], b"squ_5e3e9a9c0a1d4e8c9b7f6a5d4c3b2a1f0e9d8c7b");
    }
}
