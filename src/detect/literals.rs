//! Overlapping search for many literals (ASCII case-insensitive) over one Aho-Corasick DFA.
//!
//! A DFA search is a chain of dependent table lookups: each step needs the state the previous
//! byte produced, so one search runs at the latency of a lookup per byte. Long lines are
//! therefore cut into [`LANES`] stretches that are stepped together in one loop: the lanes'
//! lookups are independent, and the processor overlaps them. Each lane starts `longest
//! pattern - 1` bytes before its stretch, so that it has seen the whole of any match that ends
//! inside the stretch, and reports only the matches that end there. The result is the same set
//! of matches as `aho_corasick`'s own overlapping search, in a different order.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

/// Stretches stepped together (the loop in [`LiteralSearch::for_each`] spells out four).
const LANES: usize = 4;
const _: () = assert!(LANES == 4);

/// Lines shorter than this are searched in one stretch (the lanes' warm-up would cost more
/// than it saves).
const MIN_SPLIT_LEN: usize = 128;

/// The compiled literal set.
#[derive(Debug, Clone)]
pub struct LiteralSearch {
    dfa: DFA,
    start: StateID,
}

impl LiteralSearch {
    /// Builds the automaton over `patterns` (matched ASCII case-insensitively). The error is
    /// the automaton builder's message.
    pub fn new(patterns: &[Vec<u8>]) -> Result<Self, String> {
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)
            .map_err(|e| e.to_string())?;
        let start = dfa.start_state(Anchored::No).map_err(|e| e.to_string())?;
        Ok(LiteralSearch { dfa, start })
    }

    /// Calls `hit(pattern, start, end)` for every occurrence of every pattern in `hay`,
    /// overlapping ones included, in no particular order.
    pub fn for_each(&self, hay: &[u8], hit: &mut dyn FnMut(usize, usize, usize)) {
        let n = hay.len();
        if n < MIN_SPLIT_LEN {
            self.run_from(hay, self.start, 0, n, 0, hit);
            return;
        }
        let overlap = self.dfa.max_pattern_len().saturating_sub(1);
        let seg = n.div_ceil(LANES);
        let own: [usize; LANES] = std::array::from_fn(|k| (k * seg).min(n));
        let pos: [usize; LANES] = std::array::from_fn(|k| own[k].saturating_sub(overlap));
        let end: [usize; LANES] = std::array::from_fn(|k| ((k + 1) * seg).min(n));
        let steps = (0..LANES).map(|k| end[k] - pos[k]).min().unwrap_or(0);
        // The lanes' states live in four locals (registers), not an array on the stack, so
        // that each lane's chain of lookups is not lengthened by stores and reloads.
        let (l0, l1, l2, l3) = (
            &hay[pos[0]..pos[0] + steps],
            &hay[pos[1]..pos[1] + steps],
            &hay[pos[2]..pos[2] + steps],
            &hay[pos[3]..pos[3] + steps],
        );
        let (mut s0, mut s1, mut s2, mut s3) = (self.start, self.start, self.start, self.start);
        let dfa = &self.dfa;
        for (i, (((&b0, &b1), &b2), &b3)) in l0.iter().zip(l1).zip(l2).zip(l3).enumerate() {
            s0 = dfa.next_state(Anchored::No, s0, b0);
            s1 = dfa.next_state(Anchored::No, s1, b1);
            s2 = dfa.next_state(Anchored::No, s2, b2);
            s3 = dfa.next_state(Anchored::No, s3, b3);
            if dfa.is_special(s0) | dfa.is_special(s1) | dfa.is_special(s2) | dfa.is_special(s3) {
                for (k, s) in [s0, s1, s2, s3].into_iter().enumerate() {
                    if dfa.is_special(s) {
                        self.report(s, pos[k] + i + 1, own[k], hit);
                    }
                }
            }
        }
        for (k, s) in [s0, s1, s2, s3].into_iter().enumerate() {
            self.run_from(hay, s, pos[k] + steps, end[k], own[k], hit);
        }
    }

    /// Steps from state `s` through `hay[from..to]`, reporting matches that end after `own`.
    fn run_from(
        &self,
        hay: &[u8],
        mut s: StateID,
        from: usize,
        to: usize,
        own: usize,
        hit: &mut dyn FnMut(usize, usize, usize),
    ) {
        for (p, &b) in hay.iter().enumerate().take(to).skip(from) {
            s = self.dfa.next_state(Anchored::No, s, b);
            if self.dfa.is_special(s) {
                self.report(s, p + 1, own, hit);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn report(
        &self,
        sid: StateID,
        end: usize,
        own: usize,
        hit: &mut dyn FnMut(usize, usize, usize),
    ) {
        if end <= own || !self.dfa.is_match(sid) {
            return;
        }
        for i in 0..self.dfa.match_len(sid) {
            let pid = self.dfa.match_pattern(sid, i);
            hit(pid.as_usize(), end - self.dfa.pattern_len(pid), end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasick;

    fn sorted(mut v: Vec<(usize, usize, usize)>) -> Vec<(usize, usize, usize)> {
        v.sort_unstable();
        v
    }

    /// Same matches as aho-corasick's overlapping search, across lane boundaries, for short
    /// and long lines, overlapping and nested patterns, and mixed case.
    #[test]
    fn agrees_with_the_overlapping_iterator() {
        let patterns: Vec<Vec<u8>> = [
            "@",
            "ab",
            "abc",
            "bca",
            "cab",
            "abcabcabcab",
            "aaaa",
            "a",
            "zz~",
            "accesskey",
        ]
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
        let ours = LiteralSearch::new(&patterns).expect("builds");
        let theirs = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .expect("builds");
        let check = |hay: &[u8], what: &str| {
            let mut got = Vec::new();
            ours.for_each(hay, &mut |p, s, e| got.push((p, s, e)));
            let want: Vec<_> = theirs
                .find_overlapping_iter(hay)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            assert_eq!(sorted(got), sorted(want), "{what}");
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for case in 0..3000 {
            let len = [0, 1, 7, 511, 512, 513, 700, 2049][case % 8] + case % 5;
            let hay = crate::detect::test_bytes(&mut seed, len, b"abcABCz~@ accesskeyZ");
            check(&hay, &format!("case {case}, len {len}"));
        }
        // Every pattern straddling every lane boundary at every offset.
        for len in [2048, 2051] {
            let seg = usize::div_ceil(len, LANES);
            for pat in &patterns {
                for k in 1..LANES {
                    for d in 0..=pat.len() {
                        let mut hay = vec![b'x'; len];
                        let at = k * seg - d;
                        hay[at..at + pat.len()].copy_from_slice(pat);
                        check(&hay, &format!("len {len}, at {at}"));
                    }
                }
            }
        }
    }
}
