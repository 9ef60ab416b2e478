//! Overlapping search for many literals (ASCII case-insensitive) over one Aho-Corasick
//! automaton.
//!
//! The fast automaton is a DFA, but it takes most of a cold start's matcher build (its
//! transition table is filled for every state and byte class). A large set is therefore
//! searched with a contiguous NFA (built in a fraction of that time, from the same trie) until
//! the DFA, built on a background thread, is ready; both report the same matches. Small sets
//! build their DFA at once.
//!
//! A search is a chain of dependent table lookups: each step needs the state the previous
//! byte produced, so one search runs at the latency of a lookup per byte. Long lines are
//! therefore cut into [`LANES`] stretches that are stepped together in one loop: the lanes'
//! lookups are independent, and the processor overlaps them. Each lane starts `longest
//! pattern - 1` bytes before its stretch, so that it has seen the whole of any match that ends
//! inside the stretch, and reports only the matches that end there. The result is the same set
//! of matches as `aho_corasick`'s own overlapping search, in a different order.

use std::sync::{Arc, OnceLock};

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::nfa::{contiguous, noncontiguous};
use aho_corasick::{Anchored, MatchKind};

/// Stretches stepped together (the loop in [`run_lanes`] spells out four).
const LANES: usize = 4;
const _: () = assert!(LANES == 4);

/// Lines shorter than this are searched in one stretch (the lanes' warm-up would cost more
/// than it saves).
const MIN_SPLIT_LEN: usize = 128;

/// Sets with fewer patterns than this build their DFA at once (well under a millisecond);
/// larger ones build it in the background and use the NFA meanwhile.
const BACKGROUND_FROM: usize = 512;

/// The compiled literal set.
#[derive(Debug, Clone)]
pub struct LiteralSearch {
    /// Searched until the DFA is ready (`None` when the DFA was built at once).
    nfa: Option<Arc<contiguous::NFA>>,
    /// Set once built: by the constructor, or by the background thread.
    dfa: Arc<OnceLock<DFA>>,
}

/// When the DFA is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DfaBuild {
    /// By the constructor, before it returns.
    Now,
    /// On a background thread (at once if no thread can be had).
    Background,
    /// Never (tests of the NFA path).
    #[cfg(test)]
    Never,
}

impl LiteralSearch {
    /// Builds the automaton over `patterns` (matched ASCII case-insensitively). The error is
    /// the automaton builder's message.
    pub fn new(patterns: &[Vec<u8>]) -> Result<Self, String> {
        let when = if patterns.len() < BACKGROUND_FROM {
            DfaBuild::Now
        } else {
            DfaBuild::Background
        };
        Self::build(patterns, when)
    }

    fn build(patterns: &[Vec<u8>], when: DfaBuild) -> Result<Self, String> {
        let trie = noncontiguous::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)
            .map_err(|e| e.to_string())?;
        let dfa_of = |trie: &noncontiguous::NFA| {
            aho_corasick::dfa::Builder::new()
                .match_kind(MatchKind::Standard)
                .build_from_noncontiguous(trie)
                .map_err(|e| e.to_string())
        };
        let cell = Arc::new(OnceLock::new());
        if when == DfaBuild::Now {
            let _ = cell.set(dfa_of(&trie)?);
            return Ok(LiteralSearch {
                nfa: None,
                dfa: cell,
            });
        }
        let nfa = contiguous::Builder::new()
            .match_kind(MatchKind::Standard)
            .build_from_noncontiguous(&trie)
            .map_err(|e| e.to_string())?;
        #[cfg(test)]
        if when == DfaBuild::Never {
            return Ok(LiteralSearch {
                nfa: Some(Arc::new(nfa)),
                dfa: cell,
            });
        }
        let target = Arc::clone(&cell);
        // If no thread can be had, the NFA serves every search (slower, same matches); so it
        // does if the DFA goes over its size limit.
        let _ = std::thread::Builder::new()
            .name("literal-dfa".into())
            .spawn(move || {
                if let Ok(dfa) = dfa_of(&trie) {
                    let _ = target.set(dfa);
                }
            });
        Ok(LiteralSearch {
            nfa: Some(Arc::new(nfa)),
            dfa: cell,
        })
    }

    /// Calls `hit(pattern, start, end)` for every occurrence of every pattern in `hay`,
    /// overlapping ones included, in no particular order.
    pub fn for_each(&self, hay: &[u8], hit: &mut dyn FnMut(usize, usize, usize)) {
        match (self.dfa.get(), &self.nfa) {
            (Some(dfa), _) => search(dfa, hay, hit),
            (None, Some(nfa)) => search(&**nfa, hay, hit),
            // Unreachable: without an NFA the DFA was set before the constructor returned.
            (None, None) => {}
        }
    }
}

/// [`LiteralSearch::for_each`] over one automaton.
fn search<A: Automaton>(aut: &A, hay: &[u8], hit: &mut dyn FnMut(usize, usize, usize)) {
    let Ok(start) = aut.start_state(Anchored::No) else {
        return;
    };
    let n = hay.len();
    if n < MIN_SPLIT_LEN {
        run_from(aut, hay, start, 0, n, 0, hit);
        return;
    }
    let overlap = aut.max_pattern_len().saturating_sub(1);
    let seg = n.div_ceil(LANES);
    let own: [usize; LANES] = std::array::from_fn(|k| (k * seg).min(n));
    let pos: [usize; LANES] = std::array::from_fn(|k| own[k].saturating_sub(overlap));
    let end: [usize; LANES] = std::array::from_fn(|k| ((k + 1) * seg).min(n));
    let steps = (0..LANES).map(|k| end[k] - pos[k]).min().unwrap_or(0);
    let states = run_lanes(aut, hay, start, &pos, &own, steps, hit);
    for (k, s) in states.into_iter().enumerate() {
        run_from(aut, hay, s, pos[k] + steps, end[k], own[k], hit);
    }
}

/// Steps the four lanes `steps` bytes from `pos`; returns their states.
fn run_lanes<A: Automaton>(
    aut: &A,
    hay: &[u8],
    start: StateID,
    pos: &[usize; LANES],
    own: &[usize; LANES],
    steps: usize,
    hit: &mut dyn FnMut(usize, usize, usize),
) -> [StateID; LANES] {
    // The lanes' states live in four locals (registers), not an array on the stack, so
    // that each lane's chain of lookups is not lengthened by stores and reloads.
    let (l0, l1, l2, l3) = (
        &hay[pos[0]..pos[0] + steps],
        &hay[pos[1]..pos[1] + steps],
        &hay[pos[2]..pos[2] + steps],
        &hay[pos[3]..pos[3] + steps],
    );
    let (mut s0, mut s1, mut s2, mut s3) = (start, start, start, start);
    for (i, (((&b0, &b1), &b2), &b3)) in l0.iter().zip(l1).zip(l2).zip(l3).enumerate() {
        s0 = aut.next_state(Anchored::No, s0, b0);
        s1 = aut.next_state(Anchored::No, s1, b1);
        s2 = aut.next_state(Anchored::No, s2, b2);
        s3 = aut.next_state(Anchored::No, s3, b3);
        if aut.is_special(s0) | aut.is_special(s1) | aut.is_special(s2) | aut.is_special(s3) {
            for (k, s) in [s0, s1, s2, s3].into_iter().enumerate() {
                if aut.is_special(s) {
                    report(aut, s, pos[k] + i + 1, own[k], hit);
                }
            }
        }
    }
    [s0, s1, s2, s3]
}

/// Steps from state `s` through `hay[from..to]`, reporting matches that end after `own`.
fn run_from<A: Automaton>(
    aut: &A,
    hay: &[u8],
    mut s: StateID,
    from: usize,
    to: usize,
    own: usize,
    hit: &mut dyn FnMut(usize, usize, usize),
) {
    for (p, &b) in hay.iter().enumerate().take(to).skip(from) {
        s = aut.next_state(Anchored::No, s, b);
        if aut.is_special(s) {
            report(aut, s, p + 1, own, hit);
        }
    }
}

#[cold]
#[inline(never)]
fn report<A: Automaton>(
    aut: &A,
    sid: StateID,
    end: usize,
    own: usize,
    hit: &mut dyn FnMut(usize, usize, usize),
) {
    if end <= own || !aut.is_match(sid) {
        return;
    }
    for i in 0..aut.match_len(sid) {
        let pid = aut.match_pattern(sid, i);
        hit(pid.as_usize(), end - aut.pattern_len(pid), end);
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
        let dfa = LiteralSearch::build(&patterns, DfaBuild::Now).expect("builds");
        let nfa = LiteralSearch::build(&patterns, DfaBuild::Never).expect("builds");
        assert!(dfa.dfa.get().is_some() && nfa.dfa.get().is_none());
        let theirs = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .expect("builds");
        let check = |hay: &[u8], what: &str| {
            let want: Vec<_> = theirs
                .find_overlapping_iter(hay)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            for (ours, how) in [(&dfa, "DFA"), (&nfa, "NFA")] {
                let mut got = Vec::new();
                ours.for_each(hay, &mut |p, s, e| got.push((p, s, e)));
                assert_eq!(sorted(got), sorted(want.clone()), "{how}, {what}");
            }
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

    /// A large set answers from its NFA at once and from its DFA once the background build is
    /// done, with the same matches.
    #[test]
    fn a_large_set_moves_to_its_background_dfa() {
        let patterns: Vec<Vec<u8>> = (0..BACKGROUND_FROM + 10)
            .map(|i| format!("key{i:05}x").into_bytes())
            .collect();
        let set = LiteralSearch::new(&patterns).expect("builds");
        assert!(
            set.nfa.is_some(),
            "a large set keeps an NFA for the first searches"
        );
        let hay = b"..KEY00007x..key00511X..key9..";
        let mut first = Vec::new();
        set.for_each(hay, &mut |p, s, e| first.push((p, s, e)));
        let waited = std::time::Instant::now();
        while set.dfa.get().is_none() {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(60),
                "the background DFA is never set"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut then = Vec::new();
        set.for_each(hay, &mut |p, s, e| then.push((p, s, e)));
        assert_eq!(sorted(first.clone()), vec![(7, 2, 11), (511, 13, 22)]);
        assert_eq!(sorted(first), sorted(then));
    }
}
