//! The built-in Sigma files as their parsing jobs leave them, prepared ahead of time (see
//! `detect::prebuilt` for the file's form and how it is kept current).
//!
//! Parsing the built-in rules' YAML and lowering them was the largest part of a cold start
//! (two fifths of its instructions). `prebuilt.jsonl` holds, per built-in file in its run
//! form, what [`prepare_file`] makes of it: each rule's names, compiled attributes, lowered
//! form and prefilter clauses, as JSON (which reads about five times faster than the YAML
//! parses and lowers), and its correlations as far as they can be compiled alone (they are
//! linked to the rules they count at each start).

use rsigma_ir::IrRule;
use serde::{Deserialize, Serialize};

use super::cnf::Cnf;
use super::compile::{EventSources, Lowered, ParsedFile, PreparedFile, PreparedRule, prepare_file};
use super::correlations::PreparedCorrelation;
use super::model::EventRule;
use crate::detect::prebuilt::Prepared;

/// The first line of `prebuilt.jsonl`. Changed when a serialized type changes shape, so an
/// old file is ignored, not misread.
const FORMAT: &str = "# logwarden prebuilt sigma v1 (rsigma 0.23.0)";

/// One line per built-in Sigma file, the JSON of an [`Entry`].
static PREBUILT: Prepared = Prepared::new(FORMAT, include_str!("prebuilt.jsonl"));

/// A file's prepared form.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    /// Whether the file had filter rules.
    filters: bool,
    rules: Vec<Rule>,
    /// Each correlation with its line, in order.
    correlations: Vec<(usize, PreparedCorrelation)>,
}

/// A detection rule's prepared form.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Rule {
    keys: [Option<String>; 3],
    detection: EventRule,
    ir: IrRule,
    lits: Vec<Vec<String>>,
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
    let entry: Entry = serde_json::from_str(PREBUILT.json(path, hash)?).ok()?;
    let rules = entry
        .rules
        .into_iter()
        .map(|r| PreparedRule {
            keys: r.keys,
            detection: Ok(r.detection),
            lowered: Ok(Lowered {
                ir: r.ir,
                lits: Cnf(r.lits),
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

    use super::*;
    use crate::detect::prebuilt::{builtin_run_files, line, rewrite};
    use crate::detect::rules::RuleIds;
    use crate::detect::sigma::{EventDetectors, ParsedSigma};

    /// The built-in Sigma files in their run form, with their hashes.
    fn run_files() -> Vec<(&'static str, &'static str, u64)> {
        builtin_run_files(&[".yml", ".yaml"])
    }

    /// What `prepare_file` makes of a built-in file, as an [`Entry`].
    fn entry(path: &str, text: &str) -> Entry {
        let prepared = prepare_file(path, text, true)
            .unwrap_or_else(|e| panic!("{path}: does not parse: {e}"));
        Entry {
            filters: prepared.filters,
            correlations: prepared.correlations,
            rules: prepared
                .rules
                .into_iter()
                .map(|r| {
                    let detection = r.detection.unwrap_or_else(|e| panic!("{path}: {e}"));
                    let lowered = r.lowered.unwrap_or_else(|e| panic!("{path}: {e}"));
                    Rule {
                        keys: r.keys,
                        detection,
                        ir: lowered.ir,
                        lits: lowered.lits.0,
                    }
                })
                .collect(),
        }
    }

    /// `prebuilt.jsonl` as the current rules and compiler make it. Keys are sorted (through
    /// `serde_json::Value`), so the text is the same on every run.
    fn generate() -> String {
        let mut out = format!("{FORMAT}\n");
        for (path, text, hash) in run_files() {
            let value = serde_json::to_value(entry(path, text)).expect("serializes");
            out.push_str(&line(hash, path, value));
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
            let read: Entry = serde_json::from_str(json).expect("reads back");
            assert_eq!(read, entry(path, text), "{path}");
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
            assert_eq!(ahead.compiled[r].ir, parsed.compiled[r].ir);
        }
    }

    #[test]
    fn a_file_whose_text_changed_is_parsed() {
        let (path, _, hash) = run_files()[0];
        assert!(load(path, hash).is_some());
        assert!(load(path, hash ^ 1).is_none());
    }
}
