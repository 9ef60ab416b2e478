//! Built-in detector files prepared ahead of time, so that a cold start reads JSON instead of
//! parsing and compiling the files' TOML and YAML.
//!
//! A prepared file (`prebuilt_content.jsonl` here, `sigma/prebuilt.jsonl` for the Sigma
//! files) starts with a format line, then holds one line per built-in file in its run form:
//! `<hash as 16 hex digits> <path>\t<JSON>`. A line is used only when the file's run text still
//! has the hash `build.rs` gave it and the format line is the one the reader expects; else the
//! file is compiled as any other. Each file's test (`prebuilt_*_are_current`) regenerates it and
//! fails when it differs, so a rule or compiler change that forgets to regenerate it fails CI
//! rather than running stale rules: `LOGWARDEN_WRITE_PREBUILT=1 cargo test --lib prebuilt`
//! rewrites both.
//!
//! The content rules' TOML (parsing it and compiling the `[[service]]` entries) was two fifths
//! of a cold start's instructions once the Sigma files were prepared.

use std::sync::OnceLock;

use super::content::ContentRule;

/// A prepared file embedded in the binary, indexed on first use.
pub(crate) struct Prepared {
    format: &'static str,
    text: &'static str,
    index: OnceLock<Vec<(u64, &'static str, &'static str)>>,
}

impl Prepared {
    /// The prepared file `text`, whose first line must be `format`.
    pub(crate) const fn new(format: &'static str, text: &'static str) -> Self {
        Prepared {
            format,
            text,
            index: OnceLock::new(),
        }
    }

    /// The JSON of file `path` whose run text hashes to `hash`, if there is a current line.
    pub(crate) fn json(&self, path: &str, hash: u64) -> Option<&'static str> {
        let index = self.index.get_or_init(|| index(self.format, self.text));
        index
            .iter()
            .find(|(h, p, _)| *h == hash && *p == path)
            .map(|(_, _, json)| *json)
    }
}

/// `text`'s lines as (hash, path, JSON); none when its first line is not `format`.
pub(crate) fn index<'t>(format: &str, text: &'t str) -> Vec<(u64, &'t str, &'t str)> {
    let mut lines = text.lines();
    if lines.next() != Some(format) {
        return Vec::new();
    }
    lines
        .filter_map(|line| {
            let (head, json) = line.split_once('\t')?;
            let (h, p) = head.split_once(' ')?;
            Some((u64::from_str_radix(h, 16).ok()?, p, json))
        })
        .collect()
}

/// The first line of `prebuilt_content.jsonl`. Changed when a serialized type changes shape,
/// so an old file is ignored, not misread. From v2 a file's JSON is its rules without their
/// bodies (regex and checks), then a tab before each rule's body (JSON has no raw tab): a body
/// is read when its rule first becomes a candidate.
const CONTENT_FORMAT: &str = "# logwarden prebuilt content rules v2";

/// The built-in TOML files' content rules, as `toml_rules::compile_toml_file` makes them.
static CONTENT: Prepared = Prepared::new(CONTENT_FORMAT, include_str!("prebuilt_content.jsonl"));

/// The content rules of built-in TOML file `path` whose run text hashes to `hash`, if
/// `prebuilt_content.jsonl` has them and they read back (else `None`: compile the file).
pub(super) fn content_rules(path: &str, hash: u64) -> Option<Vec<ContentRule>> {
    rules_of(CONTENT.json(path, hash)?)
}

/// The rules of a prepared line's JSON, each with its body left as JSON; `None` unless the
/// rules read and there is one body per rule.
fn rules_of(json: &'static str) -> Option<Vec<ContentRule>> {
    let mut parts = json.split('\t');
    let mut rules: Vec<ContentRule> = serde_json::from_str(parts.next()?).ok()?;
    let mut bodies = parts;
    for rule in &mut rules {
        rule.set_prepared_body(bodies.next()?);
    }
    // As many bodies as rules, or the line is not used.
    bodies.next().is_none().then_some(rules)
}

#[cfg(test)]
impl Prepared {
    /// The whole file.
    pub(crate) fn text(&self) -> &'static str {
        self.text
    }
}

/// `value` as one line of JSON, with its objects' `null` members dropped (an absent `Option`
/// field reads back as `None`; each file's test checks that every line reads back to what
/// compiling the file makes). Keys are sorted (`serde_json::Value`), so a file is the same on
/// every run.
#[cfg(test)]
pub(crate) fn compact(mut value: serde_json::Value) -> String {
    fn drop_nulls(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.retain(|_, v| !v.is_null());
                map.values_mut().for_each(drop_nulls);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
            _ => {}
        }
    }
    drop_nulls(&mut value);
    value.to_string()
}

/// One line of a prepared file: `value` ([`compact`]).
#[cfg(test)]
pub(crate) fn line(hash: u64, path: &str, value: serde_json::Value) -> String {
    line_with(hash, path, value, &[])
}

/// One line of a prepared file whose rules keep a part for first use: `value` ([`compact`]),
/// then a tab before each of `parts` (JSON, which has no raw tab).
#[cfg(test)]
pub(crate) fn line_with(
    hash: u64,
    path: &str,
    value: serde_json::Value,
    parts: &[String],
) -> String {
    let mut l = format!("{hash:016x} {path}\t{}", compact(value));
    for part in parts {
        l.push('\t');
        l.push_str(part);
    }
    l.push('\n');
    l
}

/// The built-in files in their run form whose path ends with one of `ends`: (path, text, the
/// hash `build.rs` gave the text).
#[cfg(test)]
pub(crate) fn builtin_run_files(ends: &[&str]) -> Vec<(&'static str, &'static str, u64)> {
    super::load::builtin_run_files()
        .iter()
        .zip(super::load::builtin_run_hashes())
        .filter(|((p, _), _)| ends.iter().any(|e| p.ends_with(e)))
        .map(|((p, t), h)| (*p, *t, *h))
        .collect()
}

/// Writes `fresh` over the prepared file at `path` (relative to the repository) when
/// `LOGWARDEN_WRITE_PREBUILT` is set, and says whether it did.
#[cfg(test)]
pub(crate) fn rewrite(path: &str, fresh: &str) -> bool {
    if std::env::var_os("LOGWARDEN_WRITE_PREBUILT").is_none() {
        return false;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    match std::fs::write(&path, fresh) {
        Ok(()) => true,
        // The test comparing the file then fails, showing it stale.
        Err(e) => {
            eprintln!("cannot write {}: {e}", path.display());
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::content::literal_patterns as literal_patterns_of;
    use crate::detect::toml_rules::compile_toml_file;

    /// The path of `prebuilt_content.jsonl`'s line that holds the literal automaton's patterns
    /// for the built-in set alone (its hash is [`set_hash`] of every run file's hash): `build.rs`
    /// builds the automaton's table from them and embeds it (`detect::literals`).
    const PATTERNS_PATH: &str = "(the built-in set's literal patterns)";

    /// The hash of the whole built-in set: its run files' hashes, in order.
    fn set_hash(hashes: &[u64]) -> u64 {
        hashes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
            (h ^ x).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// The built-in TOML files in their run form, with their hashes.
    fn run_files() -> Vec<(&'static str, &'static str, u64)> {
        builtin_run_files(&[".toml"])
    }

    /// Rules as JSON: without their bodies, then each one's body.
    fn as_json(rules: &[ContentRule]) -> (serde_json::Value, Vec<serde_json::Value>) {
        let bodies = rules
            .iter()
            .map(|r| serde_json::to_value(r.body()).expect("serializes"))
            .collect();
        (serde_json::to_value(rules).expect("serializes"), bodies)
    }

    /// What compiling a built-in TOML file makes, as JSON: the rules without their bodies,
    /// then each one's body.
    fn compiled(path: &str, text: &str) -> (serde_json::Value, Vec<serde_json::Value>) {
        let mut warnings = Vec::new();
        let file = compile_toml_file(path, text, true, &mut warnings)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(warnings.is_empty(), "{path}: {warnings:?}");
        assert!(
            file.disabled.is_empty() && file.extends.is_empty(),
            "{path}"
        );
        as_json(&file.rules)
    }

    #[test]
    fn prebuilt_content_rules_are_current() {
        let mut fresh = format!("{CONTENT_FORMAT}\n");
        for (path, text, hash) in run_files() {
            let (rules, bodies) = compiled(path, text);
            let bodies: Vec<String> = bodies.into_iter().map(compact).collect();
            fresh.push_str(&line_with(hash, path, rules, &bodies));
        }
        let set = crate::detect::DetectorSetBuilder::new()
            .builtin()
            .build()
            .expect("the built-in set builds");
        let patterns = literal_patterns_of(set.content().rules(), set.events().literals());
        let patterns: Vec<String> = patterns
            .into_iter()
            .map(|p| String::from_utf8(p).expect("patterns are text"))
            .collect();
        let hash = set_hash(crate::detect::load::builtin_run_hashes());
        let value = serde_json::to_value(patterns).expect("serializes");
        fresh.push_str(&line(hash, PATTERNS_PATH, value));
        if rewrite("src/detect/prebuilt_content.jsonl", &fresh) {
            return;
        }
        assert!(
            fresh == CONTENT.text(),
            "src/detect/prebuilt_content.jsonl is stale (a built-in TOML file or the content \
             rule compiler changed): rewrite it with `LOGWARDEN_WRITE_PREBUILT=1 cargo test \
             --lib prebuilt` and commit it"
        );
        // Every line reads back to the rules compiling the file makes, bodies included.
        for (path, text, hash) in run_files() {
            let read = content_rules(path, hash).unwrap_or_else(|| panic!("{path}: no line"));
            assert_eq!(as_json(&read), compiled(path, text), "{path}");
        }
    }

    #[test]
    fn a_prepared_body_is_read_on_first_use_and_one_that_does_not_read_disables_its_rule() {
        let (path, _, hash) = run_files()[0];
        let json = CONTENT.json(path, hash).expect("a line");
        let rules = rules_of(json).expect("reads");
        assert!(rules.len() > 1);
        assert!(rules.iter().all(|r| !r.body_read()), "read at load");
        assert!(!rules[0].body().regex.pattern().is_empty());
        assert!(rules[0].body_read() && !rules[1].body_read());
        // One body fewer or more than rules: the line is not used (the file is compiled).
        let (fewer, _) = json.rsplit_once('\t').expect("bodies");
        assert!(rules_of(fewer).is_none());
        let more: &'static str = format!("{json}\t{{}}").leak();
        assert!(rules_of(more).is_none());
        // A body that does not read: the rule never runs its regex; no panic, no other rule
        // touched.
        let mut bad = rules[0].clone();
        bad.set_prepared_body("{\"regex\": 5}");
        assert!(bad.body().regex.get().is_none());
        assert!(rules[1].body().regex.get().is_some());
    }

    #[test]
    fn a_prepared_line_is_used_only_for_its_file_hash_and_format() {
        let (path, _, hash) = run_files()[0];
        assert!(CONTENT.json(path, hash).is_some());
        assert!(CONTENT.json(path, hash ^ 1).is_none());
        assert!(CONTENT.json("detectors/none.toml", hash).is_none());
        let old = CONTENT
            .text
            .replacen(CONTENT_FORMAT, "# logwarden prebuilt content v0", 1);
        assert!(index(CONTENT_FORMAT, &old).is_empty());
        assert!(!index(CONTENT_FORMAT, CONTENT.text).is_empty());
    }

    #[test]
    fn the_built_in_set_alone_uses_the_embedded_automaton() {
        let set = crate::detect::DetectorSet::builtin().expect("builds");
        assert!(
            set.content().embedded_automaton(),
            "the built-in set's automaton is not the table build.rs embedded"
        );
        // A user's rule adds a pattern: the automaton is built for that set.
        let with_user_rules = crate::detect::DetectorSetBuilder::new()
            .builtin()
            .source(
                "mine",
                "[[rules]]\nid = \"x\"\nregex = \"x\"\nkeywords = [\"zq-mine\"]\n",
            )
            .build()
            .expect("builds");
        assert!(!with_user_rules.content().embedded_automaton());
    }
}
