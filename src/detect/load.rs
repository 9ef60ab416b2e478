//! Loading detector files: collecting sources (built-in, files, directories, suppressions),
//! then compiling them into a [`DetectorSet`] (content rules from TOML, Sigma rules from YAML,
//! gitleaks `[extend]`, `disabledRules` and `[[rules.required]]`).

use std::borrow::Cow;
use std::path::Path;

use super::content::{ContentMatcher, ContentRule};
use super::error::DetectorError;
use super::limits;
use super::parallel::map_largest_first;
use super::prebuilt;
use super::rules::{Claim, RuleIds};
use super::set::DetectorSet;
use super::sigma::{EventDetectors, EventSources, ParsedFile, ParsedSigma};
use super::suppressions::Suppressions;
use super::toml_rules::{CompiledFile, compile_toml_file};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_detectors.rs"));
}

/// The built-in detector files embedded in the binary: (path relative to the repository,
/// contents).
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    builtin::BUILTIN_FILES
}

/// The built-in detector files as a run loads them: [`builtin_files`] with the rules'
/// examples and tests, and the Sigma rules' prose and comments, blanked out at build time
/// (line breaks kept, so every rule keeps its line). A run has no use for them, and they were
/// most of the text to parse.
pub fn builtin_run_files() -> &'static [(&'static str, &'static str)] {
    builtin::BUILTIN_RUN_FILES
}

/// Per file of [`builtin_run_files`], the hash `build.rs` gave its text.
pub fn builtin_run_hashes() -> &'static [u64] {
    builtin::BUILTIN_RUN_HASHES
}

/// One detector file to compile.
#[derive(Debug)]
struct SourceFile {
    name: String,
    text: Cow<'static, str>,
    /// Embedded in the binary (checked in CI): its regexes are compiled on first use.
    builtin: bool,
    /// A built-in file in its run form: the hash `build.rs` gave its text, which finds its
    /// prepared form ([`prebuilt`]).
    hash: Option<u64>,
}

/// Collects detector sources, then compiles them into a [`DetectorSet`].
#[derive(Debug, Default)]
pub struct DetectorSetBuilder {
    toml: Vec<SourceFile>,
    sigma: Vec<SourceFile>,
    /// `suppressions.toml` files: (name, text).
    suppressions: Vec<(String, String)>,
    warnings: Vec<String>,
}

impl DetectorSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the built-in detector files embedded in the binary, as a run needs them: without
    /// the rules' examples and tests ([`builtin_run_files`]).
    pub fn builtin(mut self) -> Self {
        let hashes = builtin::BUILTIN_RUN_HASHES;
        for ((path, text), hash) in builtin::BUILTIN_RUN_FILES.iter().zip(hashes) {
            self.push(Path::new(path), Cow::Borrowed(*text), true);
            let (toml, sigma) = (self.toml.last_mut(), self.sigma.last_mut());
            for f in toml.into_iter().chain(sigma) {
                if f.text.as_ptr() == text.as_ptr() {
                    f.hash = Some(*hash);
                }
            }
        }
        self
    }

    /// Adds the built-in detector files with the rules' examples and tests, for `detectors
    /// check` and `detectors list`.
    pub fn builtin_with_examples(mut self) -> Self {
        for (path, text) in builtin::BUILTIN_FILES {
            self.push(Path::new(path), Cow::Borrowed(*text), true);
        }
        self
    }

    /// Adds a detector file, or every `.toml` / `.yml` / `.yaml` file under a directory
    /// (recursively, sorted, through [`crate::fs::walk`]). TOML files hold content rules, YAML
    /// files Sigma rules.
    pub fn path(mut self, path: &Path) -> Result<Self, DetectorError> {
        let io = |path: &Path, source| DetectorError::Io {
            path: path.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        let files = if meta.is_dir() {
            let walk = crate::fs::walk(path);
            for issue in walk.issues {
                match issue {
                    crate::fs::WalkIssue::Unreadable { path, source } => {
                        return Err(io(&path, source));
                    }
                    other => self.warnings.push(other.to_string()),
                }
            }
            walk.files
                .into_iter()
                .filter(|f| is_toml(f) || is_sigma(f))
                .collect()
        } else if is_toml(path) || is_sigma(path) {
            vec![path.to_owned()]
        } else {
            return Err(DetectorError::UnsupportedFile {
                path: path.display().to_string(),
            });
        };
        for f in files {
            let text = read_bounded(&f).map_err(|e| io(&f, e))?;
            self.push(&f, Cow::Owned(text), false);
        }
        Ok(self)
    }

    /// Adds the files and directories `paths` ([`DetectorSetBuilder::path`]) and the
    /// suppressions files `suppressions`.
    pub fn files(
        mut self,
        paths: &[std::path::PathBuf],
        suppressions: &[std::path::PathBuf],
    ) -> Result<Self, DetectorError> {
        for p in paths {
            self = self.path(p)?;
        }
        for p in suppressions {
            self = self.suppressions_file(p)?;
        }
        Ok(self)
    }

    /// Adds a suppressions file (`--suppressions`).
    pub fn suppressions_file(mut self, path: &Path) -> Result<Self, DetectorError> {
        let text = read_bounded(path).map_err(|source| DetectorError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.suppressions.push((path.display().to_string(), text));
        Ok(self)
    }

    fn push(&mut self, path: &Path, text: Cow<'static, str>, builtin: bool) {
        if path.file_name().is_some_and(|n| n == "suppressions.toml") {
            self.suppressions
                .push((path.display().to_string(), text.into_owned()));
            return;
        }
        let file = SourceFile {
            name: path.display().to_string(),
            text,
            builtin,
            hash: None,
        };
        if is_sigma(path) {
            self.sigma.push(file);
        } else {
            self.toml.push(file);
        }
    }

    /// Adds the text of Sigma YAML rules (one or more documents), under a name used in
    /// messages.
    pub fn sigma_source(mut self, name: &str, text: &str) -> Self {
        self.push(
            Path::new(&format!("{name}.yml")),
            Cow::Owned(text.to_owned()),
            false,
        );
        if let Some(last) = self.sigma.last_mut() {
            last.name = name.to_owned();
        }
        self
    }

    /// Adds the text of a TOML detector file, under a name used in messages.
    pub fn source(mut self, name: &str, text: &str) -> Self {
        self.toml.push(SourceFile {
            name: name.to_owned(),
            text: Cow::Owned(text.to_owned()),
            builtin: false,
            hash: None,
        });
        self
    }

    /// Parses and compiles every source. Errors name the file, rule and line. A user rule
    /// whose id is a built-in rule's id replaces the built-in rule (with a warning); two user
    /// rules with one id are an error.
    pub fn build(mut self) -> Result<DetectorSet, DetectorError> {
        let mut sigma = EventSources::default();
        for file in std::mem::take(&mut self.sigma) {
            sigma.add(file.name, file.text, file.builtin, file.hash);
        }
        let toml = std::mem::take(&mut self.toml);
        let (compiled, parsed_sigma) = compile_and_parse(&toml, &sigma);
        let parsed = parsed_sigma;
        let (mut ids, rules) = self.link_content(toml, compiled)?;
        let events = if sigma.is_empty() {
            EventDetectors::empty()
        } else {
            sigma.compile(parsed, &mut self.warnings, &mut ids)?
        };
        limits::Totals {
            content_rules: rules.len(),
            digit_gated: rules.iter().filter(|r| r.keywords.is_empty()).count(),
            regex_cost: rules.iter().map(|r| r.cost).sum(),
            event_rules: events.rules().len(),
            correlations: events.correlations().len(),
        }
        .check()?;
        let content = ContentMatcher::with_literals(rules, events.literals())?;
        let mut suppressions = Suppressions::default();
        for (name, text) in &self.suppressions {
            suppressions.load(name, text)?;
        }
        Ok(DetectorSet::from_parts(
            content,
            events,
            suppressions,
            self.warnings,
        ))
    }

    /// Takes the TOML files' compiled forms in order, with the files they extend (compiled
    /// here): the rule ids claimed and the content rules.
    fn link_content(
        &mut self,
        files: Vec<SourceFile>,
        compiled: Vec<TomlJob>,
    ) -> Result<(RuleIds, Vec<ContentRule>), DetectorError> {
        let mut ids = RuleIds::default();
        let count = |c: &TomlJob| c.0.as_ref().map_or(0, |f| f.rules.len());
        let mut rules: Vec<ContentRule> = Vec::with_capacity(compiled.iter().map(count).sum());
        let mut disabled = Vec::new();
        let mut queue: std::collections::VecDeque<(SourceFile, usize, Option<TomlJob>)> = files
            .into_iter()
            .zip(compiled)
            .map(|(f, c)| (f, 0, Some(c)))
            .collect();
        while let Some((file, depth, done)) = queue.pop_front() {
            let (compiled, warnings) = done.unwrap_or_else(|| compile_toml_job(&file));
            self.warnings.extend(warnings);
            let compiled = compiled?;
            disabled.extend(compiled.disabled);
            for extended in compiled.extends {
                if depth >= 3 {
                    self.warnings.push(format!(
                        "{}: [extend] nested too deep: not followed",
                        file.name
                    ));
                    continue;
                }
                let text = read_bounded(&extended).map_err(|source| DetectorError::Io {
                    path: extended.display().to_string(),
                    source,
                })?;
                let name = extended.display().to_string();
                queue.push_back((
                    SourceFile {
                        name,
                        text: Cow::Owned(text),
                        builtin: false,
                        hash: None,
                    },
                    depth + 1,
                    None,
                ));
            }
            for rule in compiled.rules {
                match ids.claim(&rule.meta, file.builtin, &mut self.warnings)? {
                    Claim::New => rules.push(rule),
                    Claim::Replaces(id) => {
                        rules.retain(|r| r.meta.id != id);
                        rules.push(rule);
                    }
                    Claim::Shadowed => {}
                }
            }
        }
        if !disabled.is_empty() {
            rules.retain(|r| !disabled.contains(&r.meta.id));
        }
        link_required(&mut rules, &mut self.warnings);
        Ok((ids, rules))
    }
}

/// One TOML file compiled, and the warnings it gave.
type TomlJob = (Result<CompiledFile, DetectorError>, Vec<String>);

fn compile_toml_job(file: &SourceFile) -> TomlJob {
    let prepared = file
        .hash
        .and_then(|h| prebuilt::content_rules(&file.name, h));
    if let Some(rules) = prepared {
        let (disabled, extends) = (Vec::new(), Vec::new());
        return (
            Ok(CompiledFile {
                rules,
                disabled,
                extends,
            }),
            Vec::new(),
        );
    }
    let mut warnings = Vec::new();
    (
        compile_toml_file(&file.name, &file.text, file.builtin, &mut warnings),
        warnings,
    )
}

/// A file compiled ahead of claiming its rules.
enum Prepared {
    Toml(TomlJob),
    Sigma(ParsedFile),
}

/// Compiles every TOML file and parses every Sigma file's YAML on two threads. Nothing here
/// depends on another file: rules are claimed and compiled in file order afterwards, so ids,
/// replacements, warnings and errors are as on one thread.
fn compile_and_parse(toml: &[SourceFile], sigma: &EventSources) -> (Vec<TomlJob>, ParsedSigma) {
    let nt = toml.len();
    let sizes: Vec<usize> = (0..nt + sigma.len())
        .map(|j| match j.checked_sub(nt) {
            None => toml[j].text.len(),
            Some(i) => sigma.text_len(i),
        })
        .collect();
    let mut compiled = Vec::with_capacity(nt);
    let mut parsed = Vec::with_capacity(sigma.len());
    for done in map_largest_first(&sizes, |j| match j.checked_sub(nt) {
        None => Prepared::Toml(compile_toml_job(&toml[j])),
        Some(i) => Prepared::Sigma(sigma.parse_at(i)),
    }) {
        match done {
            Prepared::Toml(t) => compiled.push(t),
            Prepared::Sigma(p) => parsed.push(p),
        }
    }
    (compiled, ParsedSigma::new(parsed))
}

/// Reads a detector file, refusing files over [`limits::MAX_FILE_BYTES`].
fn read_bounded(path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if let Some(what) = crate::fs::special_kind(&meta) {
        return Err(std::io::Error::other(format!(
            "{what}, not a detector file"
        )));
    }
    if meta.len() > limits::MAX_FILE_BYTES as u64 {
        return Err(std::io::Error::other(format!(
            "{} bytes, over the {}-byte limit for a detector file",
            meta.len(),
            limits::MAX_FILE_BYTES
        )));
    }
    std::fs::read_to_string(path)
}

fn is_toml(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()) == Some("toml")
}

fn is_sigma(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
}

/// Resolves gitleaks `[[rules.required]]` ids to rule indices; an unknown id is warned about
/// and its requirement dropped.
fn link_required(rules: &mut [ContentRule], warnings: &mut Vec<String>) {
    let ids: Vec<String> = rules.iter().map(|r| r.meta.id.clone()).collect();
    for rule in rules.iter_mut() {
        let wanted = std::mem::take(&mut rule.required_ids);
        for (id, within) in wanted {
            match ids.iter().position(|i| *i == id) {
                Some(k) => rule.required.push((k as u32, within)),
                None => warnings.push(format!(
                    "{}: rule `{}` requires unknown rule `{id}`: requirement ignored",
                    rule.meta.location, rule.meta.id
                )),
            }
        }
    }
}

impl DetectorSet {
    /// A builder.
    pub fn builder() -> DetectorSetBuilder {
        DetectorSetBuilder::new()
    }

    /// The built-in set alone, as a run needs it (no examples: see
    /// [`DetectorSetBuilder::builtin`]).
    pub fn builtin() -> Result<Self, DetectorError> {
        Self::builder().builtin().build()
    }

    /// The built-in set alone, with every rule's examples and tests.
    pub fn builtin_with_examples() -> Result<Self, DetectorError> {
        Self::builder().builtin_with_examples().build()
    }

    /// The built-in set (unless `builtin` is false; as a run needs it) plus the files and
    /// directories `paths` and the suppressions files `suppressions`.
    pub fn load(
        paths: &[std::path::PathBuf],
        builtin: bool,
        suppressions: &[std::path::PathBuf],
    ) -> Result<Self, DetectorError> {
        let b = Self::builder();
        (if builtin { b.builtin() } else { b })
            .files(paths, suppressions)?
            .build()
    }
}
