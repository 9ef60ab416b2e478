//! Which event rules a line or record can reach, found without visiting every rule: a record's
//! cost does not grow with the number of rules.
//!
//! - A CloudTrail rule whose condition names its `eventName` values (in every branch) is found
//!   by a hash lookup on the record's `eventName`.
//! - Every other rule is found through one clause of its prefilter (its anchor: the clause
//!   with the fewest literals): a line in which none of the anchor's literals occurs cannot
//!   match it.
//! - A rule with no literal at all (an open prefilter) is always tried.
//!
//! Every rule found is then checked against its whole prefilter and its `logsource`, and
//! evaluated. The rules evaluated are exactly those the full scan would evaluate.

use std::collections::HashMap;

/// The index from literals and event names to the rules they can reach.
#[derive(Debug, Default)]
pub(super) struct Dispatch {
    /// Lowercase `eventName` → the CloudTrail rules that need that name (ascending).
    by_name: HashMap<Box<str>, Vec<u32>>,
    /// Per rule: reached through `by_name` on CloudTrail records.
    named: Vec<bool>,
    /// Per literal id: the rules whose anchor clause holds it (ascending).
    anchored: Vec<Vec<u32>>,
    /// Rules whose prefilter has no clause: every line may match them.
    open: Vec<u32>,
}

/// Longest `eventName` looked up (AWS's longest API names are under 80 bytes).
const MAX_NAME: usize = 128;

impl Dispatch {
    /// Builds the index. `clauses`: per rule, its prefilter clauses over literal ids (empty:
    /// open); `names`: per rule, the lowercase `eventName` values it needs, for CloudTrail-only
    /// rules whose condition says so; `literals`: how many literal ids there are.
    pub(super) fn new(
        clauses: &[Vec<Vec<u32>>],
        names: &[Option<Vec<String>>],
        literals: usize,
    ) -> Dispatch {
        let mut d = Dispatch {
            anchored: vec![Vec::new(); literals],
            named: vec![false; clauses.len()],
            ..Dispatch::default()
        };
        for (rule, cl) in clauses.iter().enumerate() {
            let r = rule as u32;
            if let Some(Some(list)) = names.get(rule) {
                d.named[rule] = true;
                for n in list {
                    d.by_name.entry(n.as_str().into()).or_default().push(r);
                }
            }
            // The anchor: the fewest literals; among equals the first (a conjunction's clauses
            // are sorted most selective first).
            match cl.iter().min_by_key(|c| c.len()) {
                None => d.open.push(r),
                Some(anchor) => {
                    for &l in anchor {
                        if let Some(list) = d.anchored.get_mut(l as usize)
                            && list.last() != Some(&r)
                        {
                            list.push(r);
                        }
                    }
                }
            }
        }
        d
    }

    /// Whether some rule can match a line with these literal `hits`, given the whole
    /// prefilter check `passes` (a rule's every clause has a hit).
    pub(super) fn any(&self, hits: &[u64], passes: impl Fn(u32) -> bool) -> bool {
        !self.open.is_empty() || each_hit(hits).any(|l| self.reached(l).iter().any(|&r| passes(r)))
    }

    /// Appends to `out` the rules a line with these literal `hits` can reach. `cloudtrail`:
    /// for a CloudTrail record, its `eventName` if it has one (rules that need a name are then
    /// found by it alone); `None` for another record (rules that need a name are CloudTrail
    /// rules and cannot match it). Unsorted, possibly repeated.
    pub(super) fn reach(
        &self,
        hits: &[u64],
        cloudtrail: Option<Option<&str>>,
        out: &mut Vec<usize>,
    ) {
        out.extend(ids(&self.open));
        let mut buf = [0u8; MAX_NAME];
        let key: Option<std::borrow::Cow<'_, str>> = match cloudtrail {
            None => None,
            Some(Some(n)) if n.len() <= MAX_NAME && n.is_ascii() => {
                let dst = &mut buf[..n.len()];
                for (d, s) in dst.iter_mut().zip(n.as_bytes()) {
                    *d = s.to_ascii_lowercase();
                }
                std::str::from_utf8(dst).ok().map(Into::into)
            }
            // Unicode lowercase, as the rules' values were.
            Some(Some(n)) if n.len() <= MAX_NAME => Some(n.to_lowercase().into()),
            // A CloudTrail record without a name (or with an absurd one): every rule through
            // the literals.
            Some(_) => {
                for l in each_hit(hits) {
                    out.extend(ids(self.reached(l)));
                }
                return;
            }
        };
        if let Some(named) = key.and_then(|k| self.by_name.get(k.as_ref())) {
            out.extend(ids(named));
        }
        for l in each_hit(hits) {
            out.extend(ids(self.reached(l)).filter(|&r| !self.named[r]));
        }
    }

    fn reached(&self, literal: u32) -> &[u32] {
        self.anchored
            .get(literal as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Rule ids as the evaluator indexes them.
fn ids(rules: &[u32]) -> impl Iterator<Item = usize> + '_ {
    rules.iter().map(|&r| r as usize)
}

/// The set bits of a literal bitset, ascending.
fn each_hit(hits: &[u64]) -> impl Iterator<Item = u32> + '_ {
    hits.iter().enumerate().flat_map(|(w, &word)| {
        let mut bits = word;
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                w as u32 * 64 + b
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(ids: &[u32]) -> Vec<u64> {
        let mut v = vec![0u64; 2];
        for &i in ids {
            v[i as usize / 64] |= 1 << (i % 64);
        }
        v
    }

    #[test]
    fn set_bits_come_out_ascending() {
        assert_eq!(
            each_hit(&bits(&[0, 5, 63, 64, 100])).collect::<Vec<_>>(),
            [0, 5, 63, 64, 100]
        );
    }

    #[test]
    fn a_named_rule_is_reached_by_its_name_and_others_by_their_anchor() {
        // Rule 0 needs eventName StopLogging (literal 0: "stoplogging", 1: "cloudtrail").
        // Rule 1 needs literal 1 or 2. Rule 2 is open.
        let clauses = vec![vec![vec![0], vec![1]], vec![vec![1, 2]], vec![]];
        let names = vec![Some(vec!["stoplogging".to_owned()]), None, None];
        let d = Dispatch::new(&clauses, &names, 3);
        let mut out = Vec::new();
        d.reach(&bits(&[1]), Some(Some("StopLogging")), &mut out);
        out.sort();
        assert_eq!(out, [0, 1, 2]);
        out.clear();
        // Another name: the named rule is not tried even though its literal occurs.
        d.reach(&bits(&[0, 1]), Some(Some("DeleteTrail")), &mut out);
        out.sort();
        assert_eq!(out, [1, 2]);
        out.clear();
        // A CloudTrail record without a name: through the literals.
        d.reach(&bits(&[0]), Some(None), &mut out);
        out.sort();
        assert_eq!(out, [0, 2]);
        out.clear();
        // Not CloudTrail: a rule that needs a name is not tried.
        d.reach(&bits(&[0, 1]), None, &mut out);
        out.sort();
        assert_eq!(out, [1, 2]);
    }
}

#[cfg(test)]
mod builtin {
    #[test]
    fn most_builtin_cloudtrail_rules_are_found_by_event_name() {
        let set = crate::DetectorSet::builtin().expect("built-in rules load");
        let events = set.events();
        let cloudtrail = events.rules().iter().filter(|r| r.for_cloudtrail()).count();
        let named = events.dispatch.named.iter().filter(|&&n| n).count();
        let names = events.dispatch.by_name.len();
        eprintln!(
            "{named} of {cloudtrail} CloudTrail rules by {names} names; {} open",
            events.dispatch.open.len()
        );
        assert!(named * 10 >= cloudtrail * 7, "{named} of {cloudtrail}");
        // No built-in rule is tried on every line.
        assert!(events.dispatch.open.is_empty());
    }
}
