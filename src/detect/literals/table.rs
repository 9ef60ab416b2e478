//! A literal automaton read in place from a flat table (written by `table_build.rs`): the
//! built-in set's is built by `build.rs` and embedded in the binary, so a cold start neither
//! builds an automaton nor searches its first payloads with the slower NFA. Nothing is
//! copied but the byte classes and the match lists; the transitions are read from the
//! table's bytes, so only the pages a search visits are ever loaded.

use super::layout::{HEADER_WORDS, MAGIC};

/// A DFA over a table's bytes.
#[derive(Debug)]
pub struct Table<'a> {
    /// Per byte, its class: the transition's place within a row (upper case folded into
    /// lower case).
    classes: [u32; 256],
    /// The rows, one per state, each transition the next state's number (16 bits).
    rows: &'a [[u8; 2]],
    /// The start state.
    start: u32,
    /// States numbered from this on are match states.
    first_match: u32,
    /// Transitions per row.
    stride: usize,
    /// Per match state and one more, where its pattern ids start in `ids`.
    match_starts: Vec<u32>,
    /// The match states' pattern ids.
    ids: Vec<u32>,
    /// Per pattern, its length.
    lens: Vec<u32>,
    /// The patterns' text (lower case), one after another.
    text: &'a [u8],
    /// The longest pattern's length.
    longest: usize,
}

/// Reads `bytes` as little-endian words from word `at`: `n` of them, or `None`.
fn words(bytes: &[u8], at: usize, n: usize) -> Option<Vec<u32>> {
    let slice = bytes.get(at.checked_mul(4)?..at.checked_add(n)?.checked_mul(4)?)?;
    Some(
        slice
            .chunks_exact(4)
            .map(|w| <[u8; 4]>::try_from(w).map_or(0, u32::from_le_bytes))
            .collect(),
    )
}

impl<'a> Table<'a> {
    /// Reads a table; `None` when `bytes` is not one (empty: no table was built), or its parts
    /// do not add up.
    pub fn read(bytes: &'a [u8]) -> Option<Table<'a>> {
        let head = words(bytes, 0, HEADER_WORDS)?;
        let [
            magic,
            states,
            stride,
            matches,
            start,
            patterns,
            longest,
            text_len,
        ] = head[..]
        else {
            return None;
        };
        if magic != MAGIC || stride == 0 {
            return None;
        }
        let us = |w: u32| usize::try_from(w).ok();
        let (states, stride, matches) = (us(states)?, us(stride)?, us(matches)?);
        let (patterns, text_len) = (us(patterns)?, us(text_len)?);
        let class_words = words(bytes, HEADER_WORDS, 256)?;
        let mut classes = [0u32; 256];
        for (c, w) in classes.iter_mut().zip(&class_words) {
            *c = w / 2;
        }
        let rows_at = (HEADER_WORDS + 256) * 4;
        let row_bytes = stride.checked_mul(2)?;
        let rows_len = states.checked_mul(row_bytes)?;
        let (rows, _) = bytes
            .get(rows_at..rows_at.checked_add(rows_len)?)?
            .as_chunks::<2>();
        let rows_end = (rows_at + rows_len).div_ceil(4);
        let match_starts = words(bytes, rows_end, matches.checked_add(1)?)?;
        let ids_at = rows_end + matches + 1;
        let id_count = us(*match_starts.last()?)?;
        let ids = words(bytes, ids_at, id_count)?;
        let lens_at = ids_at.checked_add(id_count)?;
        let lens = words(bytes, lens_at, patterns)?;
        let text_at = lens_at.checked_add(patterns)?.checked_mul(4)?;
        let text_end = text_at.checked_add(text_len)?;
        if bytes.len() != text_end.next_multiple_of(4) {
            return None;
        }
        let text = bytes.get(text_at..text_end)?;
        let table = Table {
            classes,
            rows,
            start,
            first_match: u32::try_from(states.checked_sub(matches)?).ok()?,
            stride,
            match_starts,
            ids,
            lens,
            text,
            longest: us(longest)?,
        };
        let lens_add_up = table.lens.iter().map(|&l| l as usize).sum::<usize>() == text_len;
        let ids_in_range = table.ids.iter().all(|&p| (p as usize) < patterns);
        let starts_rise = table.match_starts.windows(2).all(|w| w[0] <= w[1]);
        let classes_fit = table.classes.iter().all(|&c| (c as usize) < stride);
        let start_fits = (start as usize) < states;
        (lens_add_up && ids_in_range && starts_rise && classes_fit && start_fits).then_some(table)
    }

    /// Whether the table was built over exactly `patterns` (lower case), in this order.
    pub fn is_for<P: AsRef<[u8]>>(&self, patterns: &[P]) -> bool {
        if patterns.len() != self.lens.len() {
            return false;
        }
        let mut at = 0;
        patterns.iter().zip(&self.lens).all(|(p, &len)| {
            let theirs = self.text.get(at..at + len as usize);
            at += len as usize;
            theirs == Some(p.as_ref())
        })
    }

    /// The start state.
    pub fn start(&self) -> u32 {
        self.start
    }

    /// The longest pattern's length.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// The state after `s` reads byte `b`. (A state outside the table, which `table_build`
    /// never writes, goes back to the start.)
    #[inline(always)]
    pub fn next(&self, s: u32, b: u8) -> u32 {
        let at = s as usize * self.stride + self.classes[usize::from(b)] as usize;
        match self.rows.get(at) {
            Some(&pair) => u32::from(u16::from_le_bytes(pair)),
            None => self.start,
        }
    }

    /// Whether `s` is a match state.
    #[inline(always)]
    pub fn is_match(&self, s: u32) -> bool {
        s >= self.first_match
    }

    /// Calls `hit(pattern, start, end)` for each pattern that match state `s` reports, the
    /// match ending at `end`.
    pub fn matches(&self, s: u32, end: usize, hit: &mut dyn FnMut(usize, usize, usize)) {
        let n = s.wrapping_sub(self.first_match) as usize;
        let (Some(&from), Some(&to)) = (self.match_starts.get(n), self.match_starts.get(n + 1))
        else {
            return;
        };
        for &p in self.ids.get(from as usize..to as usize).unwrap_or_default() {
            let len = self.lens.get(p as usize).map_or(0, |&l| l as usize);
            hit(p as usize, end.saturating_sub(len), end);
        }
    }
}
