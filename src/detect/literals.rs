//! Overlapping search for many literals (ASCII case-insensitive) over one Aho-Corasick
//! automaton.
//!
//! The fast automaton is a DFA, but building it is most of a cold start's matcher build (its
//! transition table is filled for every state and byte class) and it takes memory. A large set
//! is therefore searched with a contiguous NFA (built from the same trie in a fraction of that
//! time, and smaller) until it has searched 4 MiB; then the DFA is built on a
//! background thread and serves the searches once it is ready. Both report the same matches.
//! Small sets build their DFA at once.
//!
//! A DFA search is a chain of dependent table lookups: each step needs the state the previous
//! byte produced, so one search runs at the latency of a lookup per byte. Long lines are
//! therefore cut into four stretches that are stepped together in one loop: the lanes'
//! lookups are independent, and the processor overlaps them. Each lane starts `longest
//! pattern - 1` bytes before its stretch, so that it has seen the whole of any match that ends
//! inside the stretch, and reports only the matches that end there. The result is the same set
//! of matches as `aho_corasick`'s own overlapping search, in a different order. (The NFA's
//! step is a branchy loop, which lanes slow down: it searches in one stretch.)
//!
//! The built-in set's DFA is neither: `build.rs` builds it and embeds it as a flat table
//! (`table`), read in place, so a process that runs the built-in rules alone has the DFA from
//! its first byte without building anything. A set with a user's rules in it has other
//! patterns, and is built as above.

mod layout;
mod table;
#[cfg(test)]
mod table_build;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::nfa::{contiguous, noncontiguous};
use aho_corasick::{Anchored, MatchKind};

use table::Table;

/// The built-in set's table, written by `build.rs` (empty when it had no patterns to build
/// it from).
static BUILTIN_TABLE_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/literal_table.bin"));

/// [`BUILTIN_TABLE_BYTES`] read, once.
fn builtin_table() -> Option<&'static Table<'static>> {
    static READ: OnceLock<Option<Table<'static>>> = OnceLock::new();
    READ.get_or_init(|| Table::read(BUILTIN_TABLE_BYTES))
        .as_ref()
}

/// Stretches stepped together (the loop in [`run_lanes`] spells out four).
const LANES: usize = 4;
const _: () = assert!(LANES == 4);

/// Lines shorter than this are searched in one stretch (the lanes' warm-up would cost more
/// than it saves).
const MIN_SPLIT_LEN: usize = 128;

/// Sets with fewer patterns than this build their DFA at once (well under a millisecond).
const LAZY_FROM: usize = 512;

/// Bytes a large set searches with its NFA before its DFA is built. For a set the size of the
/// built-in one (which itself is embedded, never built) the DFA costs about 15 ms and 9 MB and
/// searches about 1.6 times as fast as the NFA (a whole replay runs in two thirds of the
/// time): a run of a payload or two, or a Lambda's first invocations, are done sooner without
/// it; a long replay has it after its first few payloads.
const DFA_AFTER: usize = 4 << 20;

/// The compiled literal set.
#[derive(Debug, Clone)]
pub struct LiteralSearch {
    /// The built-in set's embedded DFA, when these are its patterns (then nothing is built).
    table: Option<&'static Table<'static>>,
    /// Searched until the DFA is ready (`None` when the DFA was built at once).
    nfa: Option<Arc<contiguous::NFA>>,
    /// Set once built: by the constructor, or by the background thread.
    dfa: Arc<OnceLock<DFA>>,
    /// A DFA still to be built: what it is built from, and how much was searched without it.
    later: Option<Arc<Later>>,
}

/// A DFA built once enough was searched without it.
#[derive(Debug)]
struct Later {
    patterns: Vec<Vec<u8>>,
    after: usize,
    searched: AtomicUsize,
    started: AtomicBool,
}

/// When the DFA is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DfaBuild {
    /// By the constructor, before it returns.
    Now,
    /// On a background thread, once this many bytes were searched with the NFA.
    After(usize),
}

/// Each byte with ASCII letters in lower case: the automata are built over lower-case
/// patterns and step through the haystack's bytes mapped by this table, which is ASCII
/// case-insensitive matching at a third of the build cost of the automaton's own (that one adds
/// both cases of every letter to every state) and with fewer byte classes.
static LOWER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).to_ascii_lowercase();
        b += 1;
    }
    t
};

/// The trie both automata are built from (`patterns` in lower case).
fn trie<P: AsRef<[u8]>>(patterns: &[P]) -> Result<noncontiguous::NFA, String> {
    noncontiguous::Builder::new()
        .ascii_case_insensitive(false)
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(patterns)
        .map_err(|e| e.to_string())
}

fn dfa_of(trie: &noncontiguous::NFA) -> Result<DFA, String> {
    aho_corasick::dfa::Builder::new()
        .match_kind(MatchKind::Standard)
        .build_from_noncontiguous(trie)
        .map_err(|e| e.to_string())
}

impl LiteralSearch {
    /// Builds the automaton over `patterns` (matched ASCII case-insensitively). The error is
    /// the automaton builder's message.
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Self, String> {
        // Lower case already (as the content matcher gives them): used as they are.
        let lowered: Vec<Vec<u8>>;
        let upper = |p: &P| p.as_ref().iter().any(u8::is_ascii_uppercase);
        let patterns: Vec<&[u8]> = if patterns.iter().any(upper) {
            lowered = patterns
                .iter()
                .map(|p| p.as_ref().to_ascii_lowercase())
                .collect();
            lowered.iter().map(Vec::as_slice).collect()
        } else {
            patterns.iter().map(AsRef::as_ref).collect()
        };
        let patterns = &patterns[..];
        if let Some(table) = builtin_table().filter(|t| t.is_for(patterns)) {
            return Ok(LiteralSearch {
                table: Some(table),
                nfa: None,
                dfa: Arc::new(OnceLock::new()),
                later: None,
            });
        }
        let when = if patterns.len() < LAZY_FROM {
            DfaBuild::Now
        } else {
            DfaBuild::After(DFA_AFTER)
        };
        Self::build(patterns, when)
    }

    /// [`LiteralSearch::new`] with `patterns` in lower case, its DFA built `when` said.
    fn build<P: AsRef<[u8]>>(patterns: &[P], when: DfaBuild) -> Result<Self, String> {
        let trie = trie(patterns)?;
        let cell = Arc::new(OnceLock::new());
        let after = match when {
            DfaBuild::Now => {
                let _ = cell.set(dfa_of(&trie)?);
                return Ok(LiteralSearch {
                    table: None,
                    nfa: None,
                    dfa: cell,
                    later: None,
                });
            }
            DfaBuild::After(n) => n,
        };
        // Dense transitions for the states of depth under 2, not the default 3: for the
        // built-in set it builds in 1.8 instead of 2.1 ms with half the memory (0.38 against
        // 0.70 MB), and searches as fast (29-30 against 31 ms on 8.8 MB of log messages).
        let nfa = contiguous::Builder::new()
            .match_kind(MatchKind::Standard)
            .dense_depth(2)
            .build_from_noncontiguous(&trie)
            .map_err(|e| e.to_string())?;
        Ok(LiteralSearch {
            table: None,
            nfa: Some(Arc::new(nfa)),
            dfa: cell,
            later: Some(Arc::new(Later {
                patterns: patterns.iter().map(|p| p.as_ref().to_vec()).collect(),
                after,
                searched: AtomicUsize::new(0),
                started: AtomicBool::new(false),
            })),
        })
    }

    /// Calls `hit(pattern, start, end)` for every occurrence of every pattern in `hay`,
    /// overlapping ones included, in no particular order.
    pub fn for_each(&self, hay: &[u8], hit: &mut dyn FnMut(usize, usize, usize)) {
        if let Some(table) = self.table {
            search(table, hay, hit);
        } else if let Some(dfa) = self.dfa.get() {
            search(&Aho(dfa), hay, hit);
        } else if let Some(nfa) = &self.nfa {
            // In one stretch: an NFA's step is a loop with branches, not one lookup, and four
            // lanes of it run slower than one (36 against 28 ms on 8.8 MB of log messages).
            let nfa = Aho(&**nfa);
            if let Some(start) = nfa.start() {
                run_from(&nfa, hay, start, 0, hay.len(), 0, hit);
            }
            self.searched(hay.len());
        }
    }

    /// Whether this is the built-in set's embedded DFA (nothing was built).
    pub fn is_embedded(&self) -> bool {
        self.table.is_some()
    }

    /// Counts `n` bytes searched without the DFA; starts building it once there were enough.
    fn searched(&self, n: usize) {
        let Some(later) = &self.later else {
            return;
        };
        let total = later
            .searched
            .fetch_add(n, Ordering::Relaxed)
            .saturating_add(n);
        if total < later.after || later.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let (later, cell) = (Arc::clone(later), Arc::clone(&self.dfa));
        // If no thread can be had, the NFA serves every search (slower, same matches); so it
        // does if the DFA goes over its size limit.
        let _ = std::thread::Builder::new()
            .name("literal-dfa".into())
            .spawn(move || {
                if let Ok(dfa) = trie(&later.patterns).and_then(|t| dfa_of(&t)) {
                    let _ = cell.set(dfa);
                }
            });
    }
}

/// What the search loops ask of an automaton: `aho_corasick`'s (through [`Aho`]) or an
/// embedded [`Table`].
trait Step {
    /// A state.
    type State: Copy;
    /// The unanchored start state, if there is one.
    fn start(&self) -> Option<Self::State>;
    /// The state after `s` reads byte `b` (of the haystack, in any case).
    fn next(&self, s: Self::State, b: u8) -> Self::State;
    /// Whether `s` may be a match state (checked again in [`Step::report`]).
    fn is_special(&self, s: Self::State) -> bool;
    /// The longest pattern's length.
    fn longest(&self) -> usize;
    /// Calls `hit(pattern, start, end)` for each match that `s` reports ending at `end`,
    /// when `end` is past `own`.
    fn report(
        &self,
        s: Self::State,
        end: usize,
        own: usize,
        hit: &mut dyn FnMut(usize, usize, usize),
    );
}

/// An `aho_corasick` automaton built over lower-case patterns, stepped through [`LOWER`].
struct Aho<'a, A>(&'a A);

impl<A: Automaton> Step for Aho<'_, A> {
    type State = StateID;

    fn start(&self) -> Option<StateID> {
        self.0.start_state(Anchored::No).ok()
    }

    #[inline(always)]
    fn next(&self, s: StateID, b: u8) -> StateID {
        self.0.next_state(Anchored::No, s, LOWER[usize::from(b)])
    }

    #[inline(always)]
    fn is_special(&self, s: StateID) -> bool {
        self.0.is_special(s)
    }

    fn longest(&self) -> usize {
        self.0.max_pattern_len()
    }

    fn report(&self, s: StateID, end: usize, own: usize, hit: &mut dyn FnMut(usize, usize, usize)) {
        report(self.0, s, end, own, hit);
    }
}

impl Step for Table<'_> {
    type State = u32;

    fn start(&self) -> Option<u32> {
        Some(Table::start(self))
    }

    #[inline(always)]
    fn next(&self, s: u32, b: u8) -> u32 {
        Table::next(self, s, b)
    }

    #[inline(always)]
    fn is_special(&self, s: u32) -> bool {
        self.is_match(s)
    }

    fn longest(&self) -> usize {
        Table::longest(self)
    }

    #[cold]
    #[inline(never)]
    fn report(&self, s: u32, end: usize, own: usize, hit: &mut dyn FnMut(usize, usize, usize)) {
        if end > own {
            self.matches(s, end, hit);
        }
    }
}

/// [`LiteralSearch::for_each`] over one automaton.
fn search<A: Step>(aut: &A, hay: &[u8], hit: &mut dyn FnMut(usize, usize, usize)) {
    let Some(start) = aut.start() else {
        return;
    };
    let n = hay.len();
    if n < MIN_SPLIT_LEN {
        run_from(aut, hay, start, 0, n, 0, hit);
        return;
    }
    let overlap = aut.longest().saturating_sub(1);
    // Every lane steps the same number of bytes, its warm-up included: `len` each, lane k
    // owning the bytes from `k * len - (k - 1) * overlap`. (Equal stretches with the warm-up
    // on top left three warm-ups to step one lane at a time after the loop.)
    let len = (n + (LANES - 1) * overlap).div_ceil(LANES);
    if len <= overlap {
        run_from(aut, hay, start, 0, n, 0, hit);
        return;
    }
    let own: [usize; LANES] = std::array::from_fn(|k| {
        (k * len)
            .saturating_sub(k.saturating_sub(1) * overlap)
            .min(n)
    });
    let pos: [usize; LANES] = std::array::from_fn(|k| own[k].saturating_sub(overlap));
    let end: [usize; LANES] = std::array::from_fn(|k| own.get(k + 1).copied().unwrap_or(n));
    let steps = (0..LANES).map(|k| end[k] - pos[k]).min().unwrap_or(0);
    let states = run_lanes(aut, hay, start, &pos, &own, steps, hit);
    for (k, s) in states.into_iter().enumerate() {
        run_from(aut, hay, s, pos[k] + steps, end[k], own[k], hit);
    }
}

/// Steps the four lanes `steps` bytes from `pos`; returns their states.
fn run_lanes<A: Step>(
    aut: &A,
    hay: &[u8],
    start: A::State,
    pos: &[usize; LANES],
    own: &[usize; LANES],
    steps: usize,
    hit: &mut dyn FnMut(usize, usize, usize),
) -> [A::State; LANES] {
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
        s0 = aut.next(s0, b0);
        s1 = aut.next(s1, b1);
        s2 = aut.next(s2, b2);
        s3 = aut.next(s3, b3);
        if aut.is_special(s0) | aut.is_special(s1) | aut.is_special(s2) | aut.is_special(s3) {
            for (k, s) in [s0, s1, s2, s3].into_iter().enumerate() {
                if aut.is_special(s) {
                    aut.report(s, pos[k] + i + 1, own[k], hit);
                }
            }
        }
    }
    [s0, s1, s2, s3]
}

/// Steps from state `s` through `hay[from..to]`, reporting matches that end after `own`.
fn run_from<A: Step>(
    aut: &A,
    hay: &[u8],
    mut s: A::State,
    from: usize,
    to: usize,
    own: usize,
    hit: &mut dyn FnMut(usize, usize, usize),
) {
    for (p, &b) in hay.iter().enumerate().take(to).skip(from) {
        s = aut.next(s, b);
        if aut.is_special(s) {
            aut.report(s, p + 1, own, hit);
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

    /// A search over the table `table_build` writes for `patterns` (as `build.rs` does for
    /// the built-in set), read in place.
    fn tabled(patterns: &[Vec<u8>]) -> LiteralSearch {
        let bytes = table_build::table(patterns).expect("builds");
        let table = Table::read(Box::leak(bytes.into_boxed_slice())).expect("reads");
        LiteralSearch {
            table: Some(Box::leak(Box::new(table))),
            nfa: None,
            dfa: Arc::new(OnceLock::new()),
            later: None,
        }
    }

    fn all(set: &LiteralSearch, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        set.for_each(hay, &mut |p, s, e| v.push((p, s, e)));
        sorted(v)
    }

    /// The table `build.rs` embedded is the built-in set's automaton: on every sample and
    /// fixture file (and each in capitals), the same matches as a DFA built now over the
    /// same patterns.
    #[test]
    fn the_embedded_table_finds_what_a_built_automaton_finds() {
        let set = crate::detect::DetectorSet::builtin().expect("builds");
        let patterns = crate::detect::content::literal_patterns(
            set.content().rules(),
            set.events().literals(),
        );
        let lower: Vec<Vec<u8>> = patterns.iter().map(|p| p.to_ascii_lowercase()).collect();
        let embedded = LiteralSearch::new(&patterns).expect("builds");
        assert!(
            embedded.is_embedded(),
            "no embedded table for the built-in set"
        );
        let built = LiteralSearch::build(&lower, DfaBuild::Now).expect("builds");
        let mut files = Vec::new();
        for dir in [
            "samples",
            "tests/fixtures/cloudtrail",
            "tests/fixtures/gitleaks",
        ] {
            for entry in std::fs::read_dir(dir).expect("a fixture directory") {
                files.push(entry.expect("an entry").path());
            }
        }
        files.push("tests/fixtures/planted.txt".into());
        let mut found = 0;
        for path in files.iter().filter(|p| p.is_file()) {
            let text = std::fs::read(path).expect("reads");
            for hay in [text.clone(), text.to_ascii_uppercase()] {
                for line in hay.split(|&b| b == b'\n') {
                    let want = all(&built, line);
                    found += want.len();
                    assert_eq!(all(&embedded, line), want, "{}", path.display());
                }
            }
        }
        assert!(
            found > 10_000,
            "only {found} matches: the fixtures were not read"
        );
    }

    proptest::proptest! {
        /// Tables of any pattern set (bytes of both cases, overlapping and nested patterns,
        /// bytes above ASCII) find exactly what aho-corasick's overlapping search finds.
        #[test]
        fn tables_agree_with_the_overlapping_iterator(
            patterns in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(b"aAbB:\"\xc3\xa9".to_vec()), 1..6),
                1..24,
            ),
            hay in proptest::collection::vec(proptest::sample::select(b"aAbB:\" \xc3\xa9".to_vec()), 0..700),
        ) {
            let table = tabled(&patterns);
            let theirs = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&patterns)
                .expect("builds");
            let want: Vec<_> = theirs
                .find_overlapping_iter(&hay)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            proptest::prop_assert_eq!(all(&table, &hay), sorted(want));
        }
    }

    /// A table that is cut short, or damaged, is refused or searched without a panic.
    #[test]
    fn a_damaged_table_is_refused_or_harmless() {
        let patterns: Vec<Vec<u8>> = ["abc", "bcd", "key", "@"]
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect();
        let bytes = table_build::table(&patterns).expect("builds");
        assert!(Table::read(&bytes).is_some());
        assert!(Table::read(&[]).is_none());
        for cut in 0..bytes.len() - 1 {
            assert!(Table::read(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let hay = crate::detect::test_bytes(&mut seed, 600, b"abcdkey@ xyz");
        for at in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[at] ^= flip;
                if let Some(table) = Table::read(&bad) {
                    search(&table, &hay, &mut |_, _, _| {});
                    search(&table, &hay[..100], &mut |_, _, _| {});
                }
            }
        }
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
            "KeyZ",
        ]
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
        let lower: Vec<Vec<u8>> = patterns.iter().map(|p| p.to_ascii_lowercase()).collect();
        let dfa = LiteralSearch::build(&lower, DfaBuild::Now).expect("builds");
        let nfa = LiteralSearch::build(&lower, DfaBuild::After(usize::MAX)).expect("builds");
        // As a caller builds it: patterns in any case.
        let new = LiteralSearch::new(&patterns).expect("builds");
        let table = tabled(&patterns);
        assert!(dfa.dfa.get().is_some() && dfa.nfa.is_none());
        let theirs = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .expect("builds");
        let check = |hay: &[u8], what: &str| {
            let want: Vec<_> = theirs
                .find_overlapping_iter(hay)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            for (ours, how) in [
                (&dfa, "DFA"),
                (&nfa, "NFA"),
                (&new, "new"),
                (&table, "table"),
            ] {
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
        let overlap = patterns.iter().map(Vec::len).max().unwrap_or(1) - 1;
        for len in [2048, 2051] {
            let lane = (len + (LANES - 1) * overlap).div_ceil(LANES);
            for pat in &patterns {
                for k in 1..LANES {
                    // Where lane k's own bytes start, and where its warm-up does.
                    for boundary in [k * lane - (k - 1) * overlap, k * lane - k * overlap] {
                        for d in 0..=pat.len() {
                            let mut hay = vec![b'x'; len];
                            let at = boundary - d;
                            hay[at..at + pat.len()].copy_from_slice(pat);
                            check(&hay, &format!("len {len}, at {at}"));
                        }
                    }
                }
            }
        }
    }

    /// A large set answers from its NFA, builds its DFA once enough bytes were searched, and
    /// then answers from the DFA, with the same matches.
    #[test]
    fn a_large_set_moves_to_its_dfa_after_enough_searching() {
        let patterns: Vec<Vec<u8>> = (0..LAZY_FROM + 10)
            .map(|i| format!("key{i:05}x").into_bytes())
            .collect();
        assert!(
            LiteralSearch::new(&patterns)
                .expect("builds")
                .dfa
                .get()
                .is_none()
        );
        let set = LiteralSearch::build(&patterns, DfaBuild::After(64)).expect("builds");
        let hay = b"..KEY00007x..key00511X..key9..";
        let found = |set: &LiteralSearch| {
            let mut v = Vec::new();
            set.for_each(hay, &mut |p, s, e| v.push((p, s, e)));
            sorted(v)
        };
        let first = found(&set);
        assert_eq!(first, vec![(7, 2, 11), (511, 13, 22)]);
        let later = set.later.as_ref().expect("a DFA to build");
        assert!(
            !later.started.load(Ordering::Acquire),
            "30 of 64 bytes: no DFA yet"
        );
        assert_eq!(found(&set), first);
        assert_eq!(found(&set), first);
        assert!(
            later.started.load(Ordering::Acquire),
            "90 of 64 bytes: the DFA is built"
        );
        let waited = std::time::Instant::now();
        while set.dfa.get().is_none() {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(60),
                "the DFA is never set"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(found(&set), first);
    }
}
