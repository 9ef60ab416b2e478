//! The layout of a literal automaton's table (written by `table_build.rs`, read by
//! `table.rs`; `build.rs` includes this file too). Words are little-endian `u32`, states
//! little-endian `u16` (at most 65,536 of them):
//! - header ([`HEADER_WORDS`]): [`MAGIC`], states, classes per row, match states, the start
//!   state, patterns, the longest pattern's length, bytes of the patterns' text;
//! - per byte (256 words), its class's byte offset within a row (`class * 2`), ASCII upper
//!   case folded into lower case;
//! - the rows, as 16-bit numbers (zero-padded to a whole word): per state (match states
//!   last), per class, the next state;
//! - per match state and one more, where its pattern ids start in the list that follows;
//! - the pattern ids of the match states;
//! - per pattern, its length;
//! - the patterns' text (lower case), zero-padded to a whole word.

/// The first word of a table.
pub const MAGIC: u32 = u32::from_le_bytes(*b"LWL1");

/// Words before the byte classes.
pub const HEADER_WORDS: usize = 8;
