//! The literal prefilter: from each rule's lowered form, in conjunctive normal form, the
//! literals that must occur in the raw line (every clause needs one of its literals).

use std::collections::HashMap;

use rsigma_ir::{IrCondition, IrDetection, IrMatcher, IrPatternPart, IrRule, IrStrOp};
use rsigma_parser::Quantifier;

use crate::record::derived_value;

/// Which literals must occur in a raw line for a rule to possibly match, in conjunctive normal
/// form: every clause needs one of its literals in the line (ASCII case-insensitively). No
/// clause means nothing is known and every line is a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Cnf(pub(super) Vec<Vec<String>>);

/// Clauses kept per rule: the most selective ones (dropping a clause only widens the filter).
const MAX_CLAUSES: usize = 8;

/// How selective a clause is: its shortest literal is long, and it has few literals.
fn selectivity(clause: &[String]) -> (usize, usize) {
    (
        clause.iter().map(String::len).min().unwrap_or(0),
        usize::MAX - clause.len(),
    )
}

fn clause_union(a: &[String], b: &[String]) -> Vec<String> {
    let mut v: Vec<String> = a.iter().chain(b).cloned().collect();
    v.sort();
    v.dedup();
    v
}

impl Cnf {
    fn open() -> Cnf {
        Cnf(Vec::new())
    }

    pub(super) fn is_open(&self) -> bool {
        self.0.is_empty()
    }

    fn best_clause(&self) -> Option<&Vec<String>> {
        self.0.iter().max_by_key(|c| selectivity(c))
    }

    /// Conjunction: the clauses of every branch.
    fn and(items: impl IntoIterator<Item = Cnf>) -> Cnf {
        let mut clauses: Vec<Vec<String>> = Vec::new();
        for item in items {
            for c in item.0 {
                if !clauses.contains(&c) {
                    clauses.push(c);
                }
            }
        }
        clauses.sort_by_key(|c| std::cmp::Reverse(selectivity(c)));
        clauses.truncate(MAX_CLAUSES);
        Cnf(clauses)
    }

    /// Disjunction, distributed: `(a1 ∧ a2) ∨ b` is `(a1 ∨ b) ∧ (a2 ∨ b)`. When the product
    /// grows past [`MAX_CLAUSES`] it falls back to the union of each side's best clause, which
    /// every branch still implies.
    ///
    /// One-clause sides (a value list: `a ∨ b ∨ c ...`) are appended to one clause and sorted
    /// once at the end: a list of n values costs n, not n² (it was a sixth of the cold start).
    fn or(items: impl IntoIterator<Item = Cnf>) -> Cnf {
        let mut acc: Option<Cnf> = None;
        for mut item in items {
            if item.is_open() {
                return Cnf::open();
            }
            acc = Some(match acc {
                None => item,
                Some(mut a) if a.0.len() == 1 && item.0.len() == 1 => {
                    a.0[0].append(&mut item.0[0]);
                    a
                }
                Some(a) if a.0.len() * item.0.len() <= MAX_CLAUSES => Cnf::and(
                    a.0.iter()
                        .flat_map(|x| item.0.iter().map(move |y| clause_union(x, y)))
                        .map(|c| Cnf(vec![c])),
                ),
                Some(a) => match (a.best_clause(), item.best_clause()) {
                    (Some(x), Some(y)) => Cnf(vec![clause_union(x, y)]),
                    _ => return Cnf::open(),
                },
            });
        }
        let mut cnf = acc.unwrap_or_default();
        for clause in &mut cnf.0 {
            clause.sort();
            clause.dedup();
        }
        cnf
    }
}

/// A literal usable against raw JSON text: ASCII, no characters JSON would escape. `/` may be
/// escaped as `\/`, so both forms are returned.
fn literal(s: &str) -> Cnf {
    if s.is_empty()
        || !s.is_ascii()
        || s.bytes()
            .any(|b| b == b'"' || b == b'\\' || b.is_ascii_control())
    {
        return Cnf::open();
    }
    let lower = s.to_ascii_lowercase();
    let mut v = vec![lower.clone()];
    if s.contains('/') {
        v.push(lower.replace('/', "\\/"));
    }
    Cnf(vec![v])
}

/// The literals a matcher on `field` needs in the raw line. Values the parser can supply
/// itself ([`derived_value`]) are not required.
fn matcher_lits(m: &IrMatcher, field: Option<&str>) -> Cnf {
    match m {
        IrMatcher::Str { pattern, .. } => {
            if let Some(f) = field {
                let whole: String = pattern
                    .parts
                    .iter()
                    .map(|p| match p {
                        IrPatternPart::Literal(s) => s.as_str(),
                        _ => "*",
                    })
                    .collect();
                if derived_value(f, &whole) {
                    return Cnf::open();
                }
            }
            pattern
                .parts
                .iter()
                .filter_map(|p| match p {
                    IrPatternPart::Literal(s) => Some(s.as_str()),
                    _ => None,
                })
                .max_by_key(|s| s.len())
                .map(literal)
                .unwrap_or_default()
        }
        IrMatcher::AnyOf(ms) => Cnf::or(ms.iter().map(|m| matcher_lits(m, field))),
        IrMatcher::AllOf(ms) => Cnf::and(ms.iter().map(|m| matcher_lits(m, field))),
        _ => Cnf::open(),
    }
}

fn detection_lits(d: &IrDetection) -> Cnf {
    match d {
        IrDetection::AllOf(items) => Cnf::and(items.iter().map(|it| {
            if it.exists == Some(false) {
                Cnf::open()
            } else {
                matcher_lits(&it.matcher, it.field.as_deref())
            }
        })),
        IrDetection::AnyOf(ds) => Cnf::or(ds.iter().map(detection_lits)),
        IrDetection::Keywords(m) => matcher_lits(m, None),
        IrDetection::ArrayMatch { body, .. } => detection_lits(body),
        IrDetection::And(ds) => Cnf::and(ds.iter().map(detection_lits)),
        IrDetection::Conditional { named, condition } => {
            condition_need(condition, named, &detection_lits)
        }
    }
}

/// What a condition needs of a record, for one property (the literals of its line, the
/// `eventName` values it can have): combined alike over `and`, `or` and selectors, and
/// nothing known under a negation or `0 of`.
trait Need: Sized {
    /// Nothing known: every record may match.
    fn unknown() -> Self;
    /// A conjunction's need.
    fn all(items: impl Iterator<Item = Self>) -> Self;
    /// A disjunction's need.
    fn any(items: impl Iterator<Item = Self>) -> Self;
}

impl Need for Cnf {
    fn unknown() -> Self {
        Cnf::open()
    }
    fn all(items: impl Iterator<Item = Self>) -> Self {
        Cnf::and(items)
    }
    fn any(items: impl Iterator<Item = Self>) -> Self {
        Cnf::or(items)
    }
}

impl Need for Option<Vec<String>> {
    fn unknown() -> Self {
        None
    }
    fn all(items: impl Iterator<Item = Self>) -> Self {
        all_of(items)
    }
    fn any(items: impl Iterator<Item = Self>) -> Self {
        any_of(items)
    }
}

/// A condition's need, given each detection's (`det`).
fn condition_need<N: Need>(
    c: &IrCondition,
    dets: &HashMap<String, IrDetection>,
    det: &dyn Fn(&IrDetection) -> N,
) -> N {
    let each = |cs: &[IrCondition]| {
        cs.iter()
            .map(|c| condition_need(c, dets, det))
            .collect::<Vec<N>>()
    };
    match c {
        IrCondition::Detection(name) => dets.get(name).map(det).unwrap_or_else(N::unknown),
        IrCondition::And(cs) => N::all(each(cs).into_iter()),
        IrCondition::Or(cs) => N::any(each(cs).into_iter()),
        IrCondition::Not(_) => N::unknown(),
        IrCondition::Selector {
            quantifier,
            pattern,
        } => {
            // The detections the evaluator selects, by its own rule (`them`, `sel*`, `*_a`),
            // in name order: the map's order changes from run to run, and with it which
            // clauses a wide disjunction keeps.
            let mut names: Vec<&String> = dets
                .keys()
                .filter(|name| pattern.matches_detection_name(name))
                .collect();
            names.sort();
            let selected = names.into_iter().filter_map(|n| dets.get(n)).map(det);
            match quantifier {
                Quantifier::All => N::all(selected),
                // `0 of them` holds whatever the record says.
                Quantifier::Count(0) => N::unknown(),
                _ => N::any(selected),
            }
        }
    }
}

pub(super) fn rule_lits(ir: &IrRule) -> Cnf {
    Cnf::or(
        ir.conditions
            .iter()
            .map(|c| condition_need(c, &ir.detections, &detection_lits)),
    )
}

/// The field a CloudTrail record is dispatched on.
pub(super) const NAME_FIELD: &str = "eventName";

/// The `eventName` values (lowercase) a rule can only match one of, when its condition says so
/// in every branch: `eventName` compared for equality with plain strings. `None`: the rule may
/// match any name (a wildcard, a modifier, a negation, or a branch without `eventName`).
pub(super) fn event_names(ir: &IrRule) -> Option<Vec<String>> {
    let mut names = any_of(
        ir.conditions
            .iter()
            .map(|c| condition_need(c, &ir.detections, &detection_names)),
    )?;
    names.sort();
    names.dedup();
    Some(names)
}

/// A disjunction's names: every branch must name its values.
fn any_of(items: impl IntoIterator<Item = Option<Vec<String>>>) -> Option<Vec<String>> {
    let mut out: Option<Vec<String>> = None;
    for item in items {
        out.get_or_insert_with(Vec::new).extend(item?);
    }
    out
}

/// A conjunction's names: any branch that names its values bounds the whole (the smallest
/// list is kept).
fn all_of(items: impl IntoIterator<Item = Option<Vec<String>>>) -> Option<Vec<String>> {
    items.into_iter().flatten().min_by_key(Vec::len)
}

fn matcher_names(m: &IrMatcher) -> Option<Vec<String>> {
    match m {
        IrMatcher::Str {
            op: IrStrOp::Exact,
            pattern,
            ..
        } => pattern
            .parts
            .iter()
            .map(|p| match p {
                IrPatternPart::Literal(s) => Some(s.as_str()),
                _ => None,
            })
            .collect::<Option<String>>()
            .map(|s| vec![s.to_lowercase()]),
        IrMatcher::AnyOf(ms) => any_of(ms.iter().map(matcher_names)),
        IrMatcher::AllOf(ms) => all_of(ms.iter().map(matcher_names)),
        _ => None,
    }
}

fn detection_names(d: &IrDetection) -> Option<Vec<String>> {
    match d {
        IrDetection::AllOf(items) => all_of(items.iter().map(|it| {
            (it.field.as_deref() == Some(NAME_FIELD) && it.exists != Some(false))
                .then(|| matcher_names(&it.matcher))
                .flatten()
        })),
        IrDetection::AnyOf(ds) => any_of(ds.iter().map(detection_names)),
        IrDetection::And(ds) => all_of(ds.iter().map(detection_names)),
        IrDetection::Conditional { named, condition } => {
            condition_need(condition, named, &detection_names)
        }
        IrDetection::Keywords(_) | IrDetection::ArrayMatch { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn a_value_list_is_one_sorted_clause_without_repeats() {
        let cnf = Cnf::or(["b", "a", "c", "a", "b"].map(literal));
        assert_eq!(cnf, Cnf(vec![clause(&["a", "b", "c"])]));
    }

    #[test]
    fn a_disjunction_of_conjunctions_is_distributed() {
        let ab = Cnf::and([literal("a"), literal("b")]);
        let cnf = Cnf::or([ab, literal("c")]);
        assert_eq!(cnf.0.len(), 2, "{cnf:?}");
        assert!(cnf.0.contains(&clause(&["a", "c"])), "{cnf:?}");
        assert!(cnf.0.contains(&clause(&["b", "c"])), "{cnf:?}");
        // A value list then a conjunction: each side's clauses joined pairwise.
        let cnf = Cnf::or([
            literal("x"),
            literal("y"),
            Cnf::and([literal("p"), literal("q")]),
        ]);
        assert!(cnf.0.contains(&clause(&["p", "x", "y"])), "{cnf:?}");
        assert!(cnf.0.contains(&clause(&["q", "x", "y"])), "{cnf:?}");
        assert!(Cnf::or([literal("x"), Cnf::open()]).is_open());
    }
}
