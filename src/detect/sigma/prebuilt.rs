//! The built-in Sigma files as their parsing jobs leave them, prepared ahead of time (see
//! `detect::prebuilt` for the file's form and how it is kept current).
//!
//! Parsing the built-in rules' YAML and lowering them was the largest part of a cold start
//! (two fifths of its instructions). `prebuilt.jsonl` holds, per built-in file in its run
//! form, what [`prepare_file`] makes of it: each rule's names, compiled attributes, prefilter
//! clauses and CloudTrail event names, as JSON (which reads about five times faster than the
//! YAML parses and lowers), and its correlations as far as they can be compiled alone (they
//! are linked to the rules they count at each start). Each rule's lowered form follows the
//! file's JSON on the same line, after a tab, one per rule in order: a run reads it only when
//! the rule is first compiled ([`RuleIr::Prepared`]). Reading every rule's lowered form at
//! start was four fifths of the Sigma build, and a payload compiles a few rules; even skipping
//! it as JSON cost 15 instructions a byte, where finding the tabs costs next to nothing.

use serde::Deserialize;
#[cfg(test)]
use serde::Serialize;

use super::cnf::Cnf;
use super::compile::{EventSources, Lowered, ParsedFile, PreparedFile, PreparedRule, prepare_file};
use super::correlations::PreparedCorrelation;
use super::model::{EventRule, RuleIr};
use crate::detect::prebuilt::Prepared;

/// The first line of `prebuilt.jsonl`. Changed when a serialized type changes shape, so an
/// old file is ignored, not misread.
const FORMAT: &str = "# logwarden prebuilt sigma v2 (rsigma 0.23.0)";

/// One line per built-in Sigma file: the JSON of an [`Entry`], then a tab before each rule's
/// lowered form.
static PREBUILT: Prepared = Prepared::new(FORMAT, include_str!("prebuilt.jsonl"));

/// A file's prepared form, without its rules' lowered forms.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq, Serialize))]
struct Entry {
    /// Whether the file had filter rules.
    filters: bool,
    rules: Vec<Rule>,
    /// Each correlation with its line, in order.
    correlations: Vec<(usize, PreparedCorrelation)>,
}

/// A detection rule's prepared form, without its lowered form.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq, Serialize))]
struct Rule {
    keys: [Option<String>; 3],
    detection: EventRule,
    lits: Vec<Vec<String>>,
    /// The CloudTrail event names it can match, when bounded.
    names: Option<Vec<String>>,
}

impl EventSources {
    /// Parses file `i`'s YAML and lowers its rules, or reads that from `prebuilt.jsonl` for a
    /// built-in file whose prepared form is current. It needs nothing else of the build, so
    /// the builder does it on two threads beside the TOML files.
    pub fn parse_at(&self, i: usize) -> ParsedFile {
        let (path, text, lazy, hash) = &self.files[i];
        if let Some(prepared) = hash.and_then(|h| load(path, h)) {
            return ParsedFile(Ok(prepared));
        }
        ParsedFile(prepare_file(path, text, *lazy))
    }
}

/// The prepared form of built-in file `path` whose run text hashes to `hash`, if
/// `prebuilt.jsonl` has it and it reads back (else `None`, and the caller parses the file).
pub(super) fn load(path: &str, hash: u64) -> Option<PreparedFile> {
    let mut parts = PREBUILT.json(path, hash)?.split('\t');
    let entry: Entry = serde_json::from_str(parts.next()?).ok()?;
    let irs: Vec<&'static str> = parts.collect();
    if irs.len() != entry.rules.len() {
        return None;
    }
    let rules = entry
        .rules
        .into_iter()
        .zip(irs)
        .map(|(r, ir)| PreparedRule {
            keys: r.keys,
            detection: Ok(r.detection),
            lowered: Ok(Lowered {
                ir: RuleIr::Prepared(ir),
                lits: Cnf(r.lits),
                names: r.names,
                compiled: None,
            }),
        })
        .collect();
    Some(PreparedFile {
        filters: entry.filters,
        rules,
        correlations: entry.correlations,
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use rsigma_ir::IrRule;

    use super::*;
    use crate::detect::prebuilt::{builtin_run_files, line_with, rewrite};
    use crate::detect::rules::RuleIds;
    use crate::detect::sigma::{EventDetectors, ParsedSigma};

    /// The built-in Sigma files in their run form, with their hashes.
    fn run_files() -> Vec<(&'static str, &'static str, u64)> {
        builtin_run_files(&[".yml", ".yaml"])
    }

    /// What `prepare_file` makes of a built-in file: an [`Entry`] and its rules' lowered forms.
    fn entry(path: &str, text: &str) -> (Entry, Vec<IrRule>) {
        let prepared = prepare_file(path, text, true)
            .unwrap_or_else(|e| panic!("{path}: does not parse: {e}"));
        let (rules, irs) = prepared
            .rules
            .into_iter()
            .map(|r| {
                let detection = r.detection.unwrap_or_else(|e| panic!("{path}: {e}"));
                let lowered = r.lowered.unwrap_or_else(|e| panic!("{path}: {e}"));
                let ir = lowered.ir.get().map(Cow::into_owned);
                let rule = Rule {
                    keys: r.keys,
                    detection,
                    lits: lowered.lits.0,
                    names: lowered.names,
                };
                (rule, ir.unwrap_or_else(|e| panic!("{path}: {e}")))
            })
            .unzip();
        let entry = Entry {
            filters: prepared.filters,
            correlations: prepared.correlations,
            rules,
        };
        (entry, irs)
    }

    /// `prebuilt.jsonl` as the current rules and compiler make it. Keys are sorted (through
    /// `serde_json::Value`), so the text is the same on every run.
    fn generate() -> String {
        let mut out = format!("{FORMAT}\n");
        for (path, text, hash) in run_files() {
            let (entry, irs) = entry(path, text);
            let value = serde_json::to_value(entry).expect("serializes");
            let irs: Vec<String> = irs
                .iter()
                .map(|ir| serde_json::to_value(ir).expect("serializes").to_string())
                .collect();
            out.push_str(&line_with(hash, path, value, &irs));
        }
        out
    }

    #[test]
    fn prebuilt_rules_are_current() {
        let fresh = generate();
        if rewrite("src/detect/sigma/prebuilt.jsonl", &fresh) {
            return;
        }
        assert!(
            fresh == PREBUILT.text(),
            "src/detect/sigma/prebuilt.jsonl is stale (a built-in Sigma file or the Sigma \
             compiler changed): rewrite it with `LOGWARDEN_WRITE_PREBUILT=1 cargo test --lib \
             prebuilt` and commit it"
        );
        // Every line reads back to what parsing the file makes.
        for (path, text, hash) in run_files() {
            let json = PREBUILT.json(path, hash);
            let json = json.unwrap_or_else(|| panic!("{path}: no line"));
            let mut parts = json.split('\t');
            let read: Entry = serde_json::from_str(parts.next().unwrap()).expect("reads back");
            let irs: Vec<IrRule> = parts
                .map(|ir| serde_json::from_str(ir).expect("reads back"))
                .collect();
            assert_eq!((read, irs), entry(path, text), "{path}");
        }
    }

    /// Builds the event detectors of the built-in run files, with their prepared forms or by
    /// parsing every file.
    fn build(prebuilt: bool) -> EventDetectors {
        let mut sources = EventSources::default();
        for (path, text, hash) in run_files() {
            let hash = prebuilt.then_some(hash);
            sources.add(path.to_owned(), Cow::Borrowed(text), true, hash);
        }
        let parsed = ParsedSigma::new((0..sources.len()).map(|i| sources.parse_at(i)).collect());
        let mut warnings = Vec::new();
        let set = sources
            .compile(parsed, &mut warnings, &mut RuleIds::default())
            .expect("built-in rules compile");
        assert!(warnings.is_empty(), "{warnings:?}");
        set
    }

    #[test]
    fn prebuilt_rules_build_the_same_detectors_as_parsing() {
        let (ahead, parsed) = (build(true), build(false));
        assert!(!parsed.rules().is_empty());
        assert_eq!(ahead.rules(), parsed.rules());
        assert_eq!(ahead.literals(), parsed.literals());
        assert_eq!(ahead.clauses, parsed.clauses);
        assert_eq!(
            format!("{:?}", ahead.correlations()),
            format!("{:?}", parsed.correlations())
        );
        for r in 0..parsed.rules().len() {
            assert_eq!(ahead.fed_by_rule(r), parsed.fed_by_rule(r));
            assert_eq!(ahead.compiled[r].ir.get(), parsed.compiled[r].ir.get());
        }
    }

    #[test]
    fn a_file_whose_text_changed_is_parsed() {
        let (path, _, hash) = run_files()[0];
        assert!(load(path, hash).is_some());
        assert!(load(path, hash ^ 1).is_none());
    }

    #[test]
    fn a_prepared_lowered_form_is_left_as_json_until_first_use() {
        let (path, _, hash) = run_files()[0];
        let file = load(path, hash).expect("current line");
        let lowered = file.rules[0].lowered.as_ref().expect("lowered");
        assert!(matches!(lowered.ir, RuleIr::Prepared(_)));
        assert!(lowered.ir.get().is_ok());
        // JSON that is not a lowered form is an error (the rule is then disabled and logged),
        // not a panic.
        assert!(RuleIr::Prepared("{\"conditions\":7}").get().is_err());
    }
}
