//! Why detector files could not be loaded, and one-line messages from multi-line ones.

/// Why detector files could not be loaded. Every variant names the file, and the rule and
/// line where there is one.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// A detector file or directory could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or not the detector schema.
    #[error("{path}: invalid detector file: {msg}")]
    Syntax {
        /// The file.
        path: String,
        /// What the TOML parser said, with line and column.
        msg: String,
    },
    /// A rule is invalid.
    #[error("{path}:{line}: rule `{rule}`: {msg}")]
    Rule {
        /// The file.
        path: String,
        /// Line of the rule's id.
        line: usize,
        /// The rule id.
        rule: String,
        /// What is wrong.
        msg: String,
    },
    /// Two rules share an id.
    #[error("{path}:{line}: duplicate rule id `{rule}` (first defined at {first})")]
    DuplicateId {
        /// The file of the second definition.
        path: String,
        /// Its line.
        line: usize,
        /// The id.
        rule: String,
        /// `file:line` of the first definition.
        first: String,
    },
    /// A path was given that is not a detector file.
    #[error("{path}: not a detector file (expected .toml, .yml or .yaml)")]
    UnsupportedFile {
        /// The path.
        path: String,
    },
    /// The keyword automaton could not be built.
    #[error("building the keyword automaton: {0}")]
    Build(#[from] CompileError),
    /// The set as a whole exceeds a bound of [`limits`](super::limits).
    #[error("detector set too large: {msg}")]
    Limit {
        /// Which bound, and by how much.
        msg: String,
    },
}

/// Joins a multi-line message (compiler and parser errors) into one line.
pub fn one_line(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.join(" ")
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
