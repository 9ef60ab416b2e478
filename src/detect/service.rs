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

/// A set of bytes (a value's characters), as four 64-bit masks.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ByteSet([u64; 4]);

impl std::fmt::Debug for ByteSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let members: String = (0u8..=255)
            .filter(|b| self.contains(*b))
            .map(|b| b as char)
            .collect();
        write!(f, "ByteSet({members:?})")
    }
}

impl ByteSet {
    fn of(pred: impl Fn(u8) -> bool) -> Self {
        let mut s = [0u64; 4];
        for b in (0..=255u8).filter(|b| pred(*b)) {
            s[b as usize / 64] |= 1 << (b % 64);
        }
        ByteSet(s)
    }

    /// Whether `b` is in the set.
    pub fn contains(&self, b: u8) -> bool {
        self.0[b as usize / 64] >> (b % 64) & 1 != 0
    }
}

/// What the engine checks on every match of a service rule, beyond its regex.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ServiceCheck {
    /// The byte right before the value must not be one of these (the value's characters).
    pub(crate) before: ByteSet,
    /// The byte right after the value must not be one of these (its characters, and `=` for
    /// base64).
    pub(crate) after: ByteSet,
    /// The rule has keywords (else the match is the value alone).
    pub(crate) keyed: bool,
    /// The charset allows digits (a letters-only value of 16+ is then a word, not a key).
    pub(crate) allows_digits: bool,
    /// The entropy floor given, else [`DEFAULT_ENTROPY`] from [`ENTROPY_MIN_LEN`] bytes.
    pub(crate) entropy: Option<f64>,
    /// The entry's value is a UUID by its format (else a UUID-shaped value is an identifier).
    pub(crate) uuid_format: bool,
    /// The entry's keywords name an id (Vault's `role_id`): an id-named field is then its own.
    pub(crate) names_an_id: bool,
}

/// Why a service rule's match is not a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The value is part of a longer run of its characters.
    LongerToken,
    /// Between keyword and value, another assignment starts on a new line.
    OtherAssignment,
    /// A placeholder (`XXXX`, `EXAMPLE`, `<...>` ...).
    Placeholder,
    /// A word of letters where the key would have digits.
    Word,
    /// An identifier: a UUID where the service's keys are not UUIDs, a field named as an id,
    /// or a hash (`sha256:`, `.tgz#`).
    Identifier,
    /// Under the entropy floor.
    LowEntropy,
}

impl Refusal {
    /// A few words for `explain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::LongerToken => "the value is part of a longer token",
            Refusal::OtherAssignment => "another assignment starts between keyword and value",
            Refusal::Placeholder => "a placeholder, not a secret",
            Refusal::Word => "a word of letters, not a key",
            Refusal::Identifier => "an identifier or a hash, not a secret",
            Refusal::LowEntropy => "under the entropy floor",
        }
    }
}

impl ServiceCheck {
    /// Checks one match: `gap` the bytes between keyword and value (keyed rules), `ss..se`
    /// the value, both in `message`. (The regex already holds the keyword to the start of a
    /// word and the value to its boundaries; what the window hid is checked again here.)
    pub(crate) fn refuse(
        &self,
        message: &[u8],
        gap: Option<(usize, usize)>,
        ss: usize,
        se: usize,
    ) -> Option<Refusal> {
        let before = ss.checked_sub(1).map(|i| message[i]);
        let after = message.get(se).copied();
        if before.is_some_and(|b| self.before.contains(b))
            || after.is_some_and(|b| self.after.contains(b))
        {
            return Some(Refusal::LongerToken);
        }
        if let Some((gs, ge)) = gap
            && assignment_after_break(message, gs, &message[gs..ge])
        {
            return Some(Refusal::OtherAssignment);
        }
        let value = &message[ss..se];
        if (!self.uuid_format && is_uuid(value))
            || hash_context(&message[..ss])
            || (!self.names_an_id && gap.is_some_and(|(gs, ge)| names_an_id(&message[gs..ge])))
        {
            return Some(Refusal::Identifier);
        }
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

/// Whether `v` is a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Whether the text right before a value marks it as a hash: `sha256:`, `sha512-` (an
/// integrity string), `md5=`, `.tgz#` (a lockfile), `commit `.
fn hash_context(before: &[u8]) -> bool {
    const MARKS: &[&[u8]] = &[
        b"sha1:", b"sha256:", b"sha384:", b"sha512:", b"md5:", b"sha1-", b"sha256-", b"sha384-",
        b"sha512-", b"sha1=", b"sha256=", b"md5=", b".tgz#", b"commit ",
    ];
    let tail = &before[before.len().saturating_sub(8)..];
    let tail = tail.to_ascii_lowercase();
    MARKS.iter().any(|m| tail.ends_with(m))
}

/// Whether the field named last before the value (the gap's trailing name, past `=`, `:`,
/// quotes and spaces) names an identifier: a word `id`, `uuid`, `guid` (split at non-letters
/// and camel case: `project_id`, `siteId`).
fn names_an_id(gap: &[u8]) -> bool {
    let end = gap
        .iter()
        .rposition(|b| b.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let start = gap[..end]
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .map_or(0, |i| i + 1);
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut cur = Vec::new();
    let mut prev_lower = false;
    for &b in &gap[start..end] {
        if b.is_ascii_alphabetic() {
            if b.is_ascii_uppercase() && prev_lower {
                words.push(std::mem::take(&mut cur));
            }
            cur.push(b.to_ascii_lowercase());
            prev_lower = b.is_ascii_lowercase();
        } else {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        }
    }
    words.push(cur);
    words
        .iter()
        .any(|w| matches!(w.as_slice(), b"id" | b"ids" | b"uuid" | b"guid"))
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
/// `"name":`) indented no deeper than the keyword's line (`keyword_at` is on it): the
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
/// `checked`: the entry is built in, and held to every check of a user's entry by a test
/// (`builtin_content_files_pass_a_user_files_checks`), so its `value` is not parsed again here.
pub(crate) fn compile(
    spec: ServiceSpec,
    location: Location,
    checked: bool,
) -> Result<CompiledService, String> {
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
    let prefix = spec.prefix.as_deref().filter(|p| !p.is_empty());
    let (value, before, after, allows_digits) = match (&spec.value, &spec.charset, &spec.length) {
        (Some(v), None, None) => {
            if !checked {
                let hir = regex_syntax::ParserBuilder::new()
                    .utf8(false)
                    .build()
                    .parse(v)
                    .map_err(|e| format!("value: {}", super::error::one_line(&e.to_string())))?;
                if hir.properties().explicit_captures_len() > 0 {
                    return Err("`value` must not have capture groups: use (?:...)".into());
                }
            }
            if prefix.is_some_and(|p| !v.starts_with(&regex::escape(p)) && !v.starts_with(p)) {
                return Err("`value` does not start with the `prefix`".into());
            }
            let digits = v.contains("0-9")
                || v.contains("\\d")
                || v.contains("\\w")
                || v.contains("[^")
                || v.bytes().any(|b| b.is_ascii_digit());
            let alnum = ByteSet::of(|b| b.is_ascii_alphanumeric());
            (v.clone(), alnum.clone(), alnum, digits)
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
            let class = class_set(&body).map_err(|e| format!("charset `{cs}`: {e}"))?;
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
            let after = ByteSet::of(|b| class.contains(b) || (base64 && b == b'='));
            let digits = class.contains(b'5');
            (value, class, after, digits)
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
    // A UUID is this entry's format when its value regex spells the 8-4-4-4-12 groups (a
    // run of a charset is never one). Read from the text: no regex is compiled at load.
    let uuid_format = spec.value.is_some() && value.contains("{8}-") && value.contains("{12}");
    // An entry about an id (a client id, Sumo Logic's access id) reads id-named fields.
    let names_an_id = spec.keywords.iter().any(|k| names_an_id(k.as_bytes()))
        || names_an_id(spec.what.as_bytes())
        || names_an_id(id.as_bytes());
    // The value is a whole run: no byte of its own before it (the gap ends with another, or
    // is empty) and none after it.
    let not_after = format!("(?:[^{}]|$)", class_body_of(&after));
    let pattern = if spec.prefix_unique {
        format!("(?:^|[^{}])({value}){not_after}", class_body_of(&before))
    } else {
        // A keyword that starts with a letter starts a word: `probably` holds no `ably`.
        let mut kws: Vec<&str> = spec.keywords.iter().map(String::as_str).collect();
        kws.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let (words, others): (Vec<&str>, Vec<&str>) = kws
            .into_iter()
            .partition(|k| k.as_bytes()[0].is_ascii_alphabetic());
        let alternation = |ks: &[&str]| {
            ks.iter()
                .map(|k| regex::escape(k))
                .collect::<Vec<_>>()
                .join("|")
        };
        let mut starts = Vec::new();
        if !words.is_empty() {
            starts.push(format!("(?:^|[^A-Za-z])(?i:{})", alternation(&words)));
        }
        if !others.is_empty() {
            starts.push(format!("(?i:{})", alternation(&others)));
        }
        // Group 1: the gap, lazily as short as it can be, ending at a byte that cannot start
        // the value's run, or empty; group 2: the value.
        format!(
            "(?:{})(?s:(.{{0,{near}}}?[^{}]|))({value}){not_after}",
            starts.join("|"),
            class_body_of(&before)
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
            before,
            after,
            keyed: !spec.prefix_unique,
            allows_digits,
            entropy: spec.entropy,
            uuid_format,
            names_an_id,
        },
        examples: spec.examples,
        negative_examples: spec.negative_examples,
    })
}

/// The bytes a regex class body (`A-Za-z0-9_.-`) admits, read with the regex parser (no
/// compilation). Bodies repeat across entries (the named charsets, `[A-Za-z0-9_-]`), so each
/// thread keeps what it has read: parsing them was a tenth of a cold start's TOML work.
fn class_set(body: &str) -> Result<ByteSet, String> {
    thread_local! {
        static READ: std::cell::RefCell<std::collections::HashMap<String, ByteSet>> =
            std::cell::RefCell::default();
    }
    if let Some(set) = READ.with_borrow(|m| m.get(body).cloned()) {
        return Ok(set);
    }
    let set = read_class(body)?;
    READ.with_borrow_mut(|m| {
        // A bound, for a user file of endless distinct bodies.
        if m.len() < 256 {
            m.insert(body.to_owned(), set.clone());
        }
    });
    Ok(set)
}

/// [`class_set`] without the memo.
fn read_class(body: &str) -> Result<ByteSet, String> {
    use regex_syntax::hir::{Class, HirKind};
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&format!("[{body}]"))
        .map_err(|e| super::error::one_line(&e.to_string()))?;
    let mut set = [false; 256];
    match hir.kind() {
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.iter() {
                for b in r.start()..=r.end() {
                    set[b as usize] = true;
                }
            }
        }
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.iter() {
                for ch in r.start()..=r.end().min('\u{ff}') {
                    set[ch as usize] = true;
                }
            }
        }
        HirKind::Literal(l) if l.0.len() == 1 => set[l.0[0] as usize] = true,
        _ => return Err("not a character class".into()),
    }
    Ok(ByteSet::of(|b| set[b as usize]))
}

/// A byte set's ASCII members as a regex class body: runs of three or more as ranges
/// (`0-9A-Za-z`), every other byte escaped. Short bodies keep the entries' patterns short,
/// which the regex parser reads when a rule is first used.
fn class_body_of(set: &ByteSet) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let mut b = 0u8;
    while b < 128 {
        if !set.contains(b) {
            b += 1;
            continue;
        }
        let mut end = b;
        while end < 127 && set.contains(end + 1) {
            end += 1;
        }
        let one = |s: &mut String, c: u8| {
            if c.is_ascii_alphanumeric() {
                s.push(c as char);
            } else {
                let _ = write!(s, "\\x{c:02X}");
            }
        };
        if end - b >= 2 {
            one(&mut s, b);
            s.push('-');
            one(&mut s, end);
        } else {
            (b..=end).for_each(|c| one(&mut s, c));
        }
        b = end + 1;
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
            before: ByteSet::of(|b| b.is_ascii_alphanumeric()),
            after: ByteSet::of(|b| b.is_ascii_alphanumeric()),
            keyed: true,
            allows_digits,
            entropy: None,
            uuid_format: false,
            names_an_id: false,
        }
    }

    #[test]
    fn identifiers_and_hashes_are_not_secrets() {
        let c = check(true);
        let m = b"netlify_site_key=0eee9409-7859-43b7-959e-a513fa4c5566";
        assert_eq!(c.refuse(m, None, 17, m.len()), Some(Refusal::Identifier));
        let m = b"scw_project_id=d2a5aA5x1b42X4663Yb15dZa2b3579c66a3";
        assert_eq!(
            c.refuse(m, Some((3, 15)), 15, m.len()),
            Some(Refusal::Identifier)
        );
        let m = b"sonar-2.5.0.tgz#ff704cbddf355d38a52c5e9479d6bb5c1ff28eac";
        assert_eq!(c.refuse(m, None, 16, m.len()), Some(Refusal::Identifier));
        assert!(names_an_id(b"siteId=") && names_an_id(b"_client_id\":\""));
        assert!(!names_an_id(b"_identity_token=") && !names_an_id(b"_api_key="));
        // Only the name right before the value counts.
        assert!(!names_an_id(
            b".io;Id=Zq1x-l1-s0:p0Ld8mQ3Ra6VbY2sTk4n;Secret="
        ));
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
        let m = b"ably_token=AbCdEfGhIjKlMnOpQrSt";
        assert_eq!(c.refuse(m, None, 11, m.len()), Some(Refusal::Word));
        let m = b"ably_token=Ab1dEfGh2jKlMnOpQrSt9";
        assert_eq!(
            c.refuse(m, None, 11, m.len() - 1),
            Some(Refusal::LongerToken)
        );
        assert_eq!(c.refuse(m, None, 11, m.len()), None);
        let m = b"ably_token=ab12ab12ab12ab12ab12";
        assert_eq!(c.refuse(m, None, 11, m.len()), Some(Refusal::LowEntropy));
    }

    #[test]
    fn class_bodies_read_back_as_the_same_bytes() {
        // Named charsets, a body with a dash and an underscore, and pseudo-random sets with
        // runs and single bytes next to the escapes (`-`, `]`, `\`, `^`).
        let mut sets: Vec<ByteSet> = ["hex", "alnum", "base64", "base64url", "digits"]
            .iter()
            .map(|n| read_class(named_charset(n).expect("named")).expect("class"))
            .collect();
        sets.push(read_class("A-Za-z0-9_.-").expect("class"));
        let mut x = 0x2545_f491_u32;
        for _ in 0..300 {
            let mut members = [false; 256];
            for (b, m) in members.iter_mut().enumerate().take(128) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *m = x.is_multiple_of(3) || ((91..=94).contains(&b) && x.is_multiple_of(2));
            }
            sets.push(ByteSet::of(|b| members[b as usize]));
        }
        for set in sets {
            let body = class_body_of(&set);
            if body.is_empty() {
                continue;
            }
            let back = class_set(&body).expect("reads");
            assert_eq!(back, set, "{body}");
            // Twice: the second read comes from the memo.
            assert_eq!(class_set(&body).expect("reads"), set, "{body}");
        }
        assert_eq!(
            class_body_of(&read_class("A-Za-z0-9").expect("class")),
            "0-9A-Za-z"
        );
        assert_eq!(class_body_of(&read_class("ab_").expect("class")), "\\x5Fab");
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
            false,
        )
        .expect("compiles");
        assert_eq!(c.meta.title, "SonarQube token");
        let re = regex::bytes::Regex::new(&c.pattern).expect("regex");
        let caps = re
            .captures(b"cfg sonar.login=squ_5e3e9a9c0a1d4e8c9b7f6a5d4c3b2a1f0e9d8c7b")
            .expect("match");
        assert_eq!(&caps[1], b".login=");
        assert_eq!(&caps[2], b"squ_5e3e9a9c0a1d4e8c9b7f6a5d4c3b2a1f0e9d8c7b");
        // A keyword inside a word is none; a longer run is no value.
        assert!(!re.is_match(b"personar.login=squ_5e3e9a9c0a1d4e8c9b7f6a5d4c3b2a1f0e9d8c7b"));
        assert!(!re.is_match(b"sonar.login=squ_5e3e9a9c0a1d4e8c9b7f6a5d4c3b2a1f0e9d8c7b0"));
    }
}
