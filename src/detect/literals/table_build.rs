//! Writes a literal automaton as the flat table `literals::table` reads. `aho_corasick`
//! builds the DFA; this walks it from its start state, numbers the match states first, folds
//! the bytes into classes (ASCII upper case into lower case) and writes every transition as
//! the next state's 16-bit number. `build.rs` includes this file to embed the
//! built-in set's table in the binary; the tests use it on their own pattern sets.
//! The layout is in `layout.rs`.

use std::collections::HashMap;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{Anchored, MatchKind};

use super::layout::MAGIC;

/// The table of the automaton that finds every occurrence of `patterns` (ASCII
/// case-insensitive; pattern `i` reported as `i`). The error is the builder's message.
pub fn table(patterns: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let lower: Vec<Vec<u8>> = patterns.iter().map(|p| p.to_ascii_lowercase()).collect();
    let dfa = aho_corasick::dfa::Builder::new()
        .match_kind(MatchKind::Standard)
        .build(&lower)
        .map_err(|e| e.to_string())?;
    // A class per byte that some pattern has (after folding), one for all the others.
    let mut used = [false; 256];
    lower
        .iter()
        .flatten()
        .for_each(|&b| used[usize::from(b)] = true);
    let mut class_of = [0u32; 256];
    let mut reps: Vec<u8> = Vec::new();
    let mut seen: HashMap<Option<u8>, u32> = HashMap::new();
    for b in 0..=255u8 {
        let folded = b.to_ascii_lowercase();
        let key = used[usize::from(folded)].then_some(folded);
        let next = u32::try_from(reps.len()).map_err(|e| e.to_string())?;
        let class = *seen.entry(key).or_insert_with(|| {
            reps.push(folded);
            next
        });
        class_of[usize::from(b)] = class;
    }
    let stride = reps.len();
    // Every state the search can reach, numbered in the order found.
    let start = dfa.start_state(Anchored::No).map_err(|e| e.to_string())?;
    let mut order: Vec<StateID> = vec![start];
    let mut found: HashMap<StateID, usize> = HashMap::from([(start, 0)]);
    let mut i = 0;
    while let Some(&s) = order.get(i) {
        for &b in &reps {
            let t = dfa.next_state(Anchored::No, s, b);
            if let std::collections::hash_map::Entry::Vacant(e) = found.entry(t) {
                e.insert(order.len());
                order.push(t);
            }
        }
        i += 1;
    }
    // Match states last: a state is one when its number is at least the first of theirs.
    // The others keep the order found (by depth), so the states most searches stay in share
    // the table's first pages.
    let (matches, others): (Vec<StateID>, Vec<StateID>) =
        order.iter().partition(|&&s| dfa.is_match(s));
    let renumbered: Vec<StateID> = others.iter().chain(&matches).copied().collect();
    let row_of: HashMap<StateID, usize> = renumbered
        .iter()
        .enumerate()
        .map(|(n, &s)| (s, n))
        .collect();
    let word = |n: usize| u32::try_from(n).map_err(|_| format!("{n} does not fit a table word"));
    let state = |s: StateID| {
        row_of
            .get(&s)
            .and_then(|&n| u16::try_from(n).ok())
            .ok_or_else(|| format!("{} states do not fit 16-bit state numbers", order.len()))
    };
    let mut words: Vec<u32> = vec![
        MAGIC,
        word(renumbered.len())?,
        word(stride)?,
        word(matches.len())?,
        u32::from(state(start)?),
        word(lower.len())?,
        word(lower.iter().map(Vec::len).max().unwrap_or(0))?,
        word(lower.iter().map(Vec::len).sum())?,
    ];
    words.extend(class_of.iter().map(|&c| c * 2));
    let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    for &s in &renumbered {
        for &b in &reps {
            out.extend(state(dfa.next_state(Anchored::No, s, b))?.to_le_bytes());
        }
    }
    out.resize(out.len().next_multiple_of(4), 0);
    let mut words = Vec::new();
    let mut ids = Vec::new();
    for &s in &matches {
        words.push(word(ids.len())?);
        ids.extend((0..dfa.match_len(s)).map(|k| dfa.match_pattern(s, k).as_u32()));
    }
    words.push(word(ids.len())?);
    words.extend(ids);
    for p in &lower {
        words.push(word(p.len())?);
    }
    out.extend(words.iter().flat_map(|w| w.to_le_bytes()));
    out.extend(lower.iter().flatten());
    out.resize(out.len().next_multiple_of(4), 0);
    Ok(out)
}
