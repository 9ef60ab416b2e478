//! Bounds on what detector files may cost. Detector files from users are code: a few hundred
//! bytes of Sigma or regex can ask for gigabytes (a `|windash` over many dashed values, a
//! counted repetition of ten thousand, thousands of rules each with its own lazy DFA). Every
//! expansion and compiled size is bounded here, per rule and in total, and what exceeds a
//! bound is refused at load with the rule's name, so a cold start survives any
//! `DETECTORS_DIR` within the Lambda's memory.

use regex_syntax::hir::{Class, Hir, HirKind};

use super::error::{DetectorError, one_line};

/// Largest detector file read.
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// Most content rules in a set.
pub const MAX_CONTENT_RULES: usize = 4_000;
/// Most Sigma detection rules in a set.
pub const MAX_EVENT_RULES: usize = 10_000;
/// Most correlation rules in a set.
pub const MAX_CORRELATIONS: usize = 2_000;
/// Most digit-gated content rules (they share one regex set).
pub const MAX_DIGIT_GATED: usize = 256;
/// Largest counted repetition (`x{n}`) in a regex.
pub const MAX_REPEAT: u32 = 4_096;
/// Largest cost of the regex of a rule without keywords or gate (it runs over every line).
pub const MAX_UNGATED_COST: usize = 2_000;
/// Largest cost ([`regex_cost`]) of one regex.
pub const MAX_REGEX_COST: usize = 50_000;
/// Largest total cost of every user regex in a set.
pub const MAX_TOTAL_REGEX_COST: usize = 4_000_000;
/// Most values one Sigma rule may expand to (`|windash`, `|base64offset`, `|cased` ...).
pub const MAX_SIGMA_EXPANSION: usize = 4_096;
/// Deepest `[`/`{` nesting of a YAML file.
pub const MAX_YAML_DEPTH: usize = 64;
/// Deepest indentation of a YAML line, in columns.
pub const MAX_YAML_INDENT: usize = 512;

/// The cost of a regex: the size of its syntax tree with counted repetitions expanded (a
/// stand-in for its compiled size that takes microseconds to compute). Errors on a counted
/// repetition over [`MAX_REPEAT`] or a cost over [`MAX_REGEX_COST`].
pub fn regex_cost(pattern: &str) -> Result<usize, String> {
    let parse = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(false)
            .nest_limit(MAX_YAML_DEPTH as u32 * 2)
            .build()
            .parse(pattern)
            .map_err(|e| one_line(&e.to_string()))
    };
    let hir = parse(false).or_else(|_| parse(true))?;
    let cost = hir_cost(&hir)?;
    if cost > MAX_REGEX_COST {
        return Err(format!(
            "the regex is too large (cost {cost}, at most {MAX_REGEX_COST}): shorten counted repetitions or split the rule"
        ));
    }
    Ok(cost)
}

fn hir_cost(h: &Hir) -> Result<usize, String> {
    Ok(match h.kind() {
        HirKind::Empty | HirKind::Look(_) => 1,
        HirKind::Literal(l) => l.0.len(),
        HirKind::Class(Class::Unicode(c)) => 1 + c.ranges().len().min(64) / 8,
        HirKind::Class(Class::Bytes(c)) => 1 + c.ranges().len().min(64) / 8,
        HirKind::Repetition(r) => {
            let n = r.max.unwrap_or(r.min).max(r.min);
            if n > MAX_REPEAT {
                return Err(format!(
                    "counted repetition of {n} (at most {MAX_REPEAT} per repetition)"
                ));
            }
            hir_cost(&r.sub)?.saturating_mul(n.max(1) as usize)
        }
        HirKind::Capture(c) => hir_cost(&c.sub)?,
        HirKind::Concat(hs) | HirKind::Alternation(hs) => {
            let mut sum = 0usize;
            for x in hs {
                sum = sum.saturating_add(hir_cost(x)?);
            }
            sum
        }
    })
}

/// Refuses YAML nested deeper than [`MAX_YAML_DEPTH`] brackets or indented deeper than
/// [`MAX_YAML_INDENT`] columns, before the parser sees it (a 400k-deep flow takes the parser
/// minutes).
pub fn check_yaml(path: &str, text: &str) -> Result<(), DetectorError> {
    let err = |line: usize, msg: String| DetectorError::Syntax {
        path: path.to_owned(),
        msg: format!("line {line}: {msg}"),
    };
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if indent > MAX_YAML_INDENT {
            return Err(err(
                n + 1,
                format!("indented {indent} columns (at most {MAX_YAML_INDENT})"),
            ));
        }
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (None, '#') => break,
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_YAML_DEPTH {
                        return Err(err(
                            n + 1,
                            format!("nested deeper than {MAX_YAML_DEPTH} levels"),
                        ));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Counts of a whole set, checked against the bounds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    /// Content rules.
    pub content_rules: usize,
    /// Digit-gated content rules.
    pub digit_gated: usize,
    /// Cost of the user regexes.
    pub regex_cost: usize,
    /// Sigma detection rules.
    pub event_rules: usize,
    /// Correlation rules.
    pub correlations: usize,
}

impl Totals {
    /// Checks the set-wide bounds.
    pub fn check(&self) -> Result<(), DetectorError> {
        let over = |what: &str, n: usize, max: usize| {
            (n > max).then(|| DetectorError::Limit {
                msg: format!("{n} {what} (at most {max})"),
            })
        };
        let problems = [
            over("content rules", self.content_rules, MAX_CONTENT_RULES),
            over(
                "digit-gated content rules",
                self.digit_gated,
                MAX_DIGIT_GATED,
            ),
            over("regex cost in total", self.regex_cost, MAX_TOTAL_REGEX_COST),
            over("Sigma detection rules", self.event_rules, MAX_EVENT_RULES),
            over("correlation rules", self.correlations, MAX_CORRELATIONS),
        ];
        match problems.into_iter().flatten().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_repetitions_and_size_are_bounded() {
        assert!(regex_cost(r"\bAKIA[A-Z2-7]{16}\b").is_ok_and(|c| c < 100));
        let e = regex_cost(r"[ab]*a([ab]{10000})").err().unwrap_or_default();
        assert!(e.contains("counted repetition of 10000"), "{e}");
        let e = regex_cost(r"(?:(?:[ab]{100}){100}){100}")
            .err()
            .unwrap_or_default();
        assert!(e.contains("too large"), "{e}");
    }

    #[test]
    fn deep_yaml_is_refused_before_parsing() {
        let deep = format!("a: {}{}", "[".repeat(400_000), "]".repeat(400_000));
        let e = check_yaml("x.yml", &deep)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("nested deeper than 64"), "{e}");
        assert!(check_yaml("x.yml", "title: '[[[[[[ not nesting'\nlist: [a, [b]]\n").is_ok());
    }
}
