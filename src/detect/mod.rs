//! Stage 3: detection. A [`DetectorSet`] is compiled once per process from detector files
//! (the built-in ones embedded in the binary, plus any given at run time) and shared by
//! every scan.

pub mod content;
pub mod correlation;
pub mod error;
pub mod issued;
pub mod limits;
pub mod literals;
mod load;
mod parallel;
mod prebuilt;
pub mod re2;
pub mod rules;
pub mod service;
pub mod set;
pub mod sigma;
pub mod suppressions;
mod toml_rules;
pub mod unescape;
pub mod validate;

pub use crate::severity::{FindingKind, Severity};

pub use content::{
    AllowTarget, Allowlist, CompileError, ContentMatch, ContentMatcher, ContentRule, Gate,
    PatternShape, Reach, RuleRegex, Scratch, Verdict, VerifyWith, WINDOW_AFTER, WINDOW_BEFORE,
    compile_regex, digit_runs, pattern_shape,
};
pub use error::{DetectorError, one_line};
pub use load::{DetectorSetBuilder, builtin_files, builtin_run_files, builtin_run_hashes};
pub use rules::{AllowlistSpec, Location, RuleFile, RuleMeta, RuleSpec};
pub use set::{DetectorSet, RuleInfo};

/// `len` bytes drawn from `alphabet` by a xorshift generator (deterministic test input).
#[cfg(test)]
pub(crate) fn test_bytes(seed: &mut u64, len: usize, alphabet: &[u8]) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            alphabet[(*seed % alphabet.len() as u64) as usize]
        })
        .collect()
}
