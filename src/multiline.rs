//! Multi-line secrets: a PEM header logged on its own (a multi-line rule's keyword without
//! its match) opens a block that collects the next events of its log stream, across batches,
//! until **its own** end marker (`-----END RSA PRIVATE KEY-----` for a `BEGIN RSA PRIVATE
//! KEY` block: a certificate's end logged by a concurrent request does not close it) or a
//! bound. The joined text then goes through the multi-line rules, and a match that spans
//! several events is reported on the last one, listing them all.

use std::collections::{HashMap, VecDeque};

use crate::decode::LogEvent;
use crate::detect::unescape::Haystack;
use crate::engine::{ContentRuleId, Engine};
use crate::mask::Evidence;
use crate::record::{Record, Source};
use crate::severity::FindingKind;

/// Most log streams with a multi-line block open at once.
pub const MAX_BLOCKS: usize = 256;
/// Most events one block collects.
pub const MAX_BLOCK_EVENTS: usize = 200;
/// Most bytes one block collects.
pub const MAX_BLOCK_BYTES: usize = 32 * 1024;

/// A multi-line block being collected: the events' texts joined by newlines, where each
/// starts, their ids, and the end marker that closes it.
#[derive(Debug, Default)]
struct Block {
    text: Vec<u8>,
    starts: Vec<usize>,
    ids: Vec<String>,
    /// `-----END <label>-----` of the header that opened it (`-----END` when unknown).
    end_marker: Vec<u8>,
}

/// A secret found across several events of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockFinding {
    /// The multi-line rule.
    pub rule: ContentRuleId,
    /// The value, masked and fingerprinted.
    pub evidence: Evidence,
    /// The events it spans, in order (the last is the event that completed it).
    pub event_ids: Vec<String>,
}

/// The open blocks, per (log group, log stream), bounded.
#[derive(Debug, Default)]
pub struct Multiline {
    open: HashMap<(String, String), Block>,
    order: VecDeque<(String, String)>,
}

/// The end marker that closes a block opened by `text`: `-----END <label>-----` for the last
/// `-----BEGIN <label>-----` in it.
fn end_marker(text: &[u8]) -> Vec<u8> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let Some(at) = memchr::memmem::rfind(text, BEGIN) else {
        return b"-----END".to_vec();
    };
    let rest = &text[at + BEGIN.len()..];
    match memchr::memmem::find(rest, b"-----") {
        Some(n) if n <= 64 => {
            let mut m = b"-----END ".to_vec();
            m.extend_from_slice(&rest[..n]);
            m.extend_from_slice(b"-----");
            m
        }
        _ => b"-----END".to_vec(),
    }
}

impl Multiline {
    /// Whether no block is open (then only an opening event needs this stage).
    pub fn is_idle(&self) -> bool {
        self.open.is_empty()
    }

    /// Whether a block is open for this stream.
    pub fn is_open(&self, log_group: &str, log_stream: &str) -> bool {
        !self.open.is_empty()
            && self
                .open
                .contains_key(&(log_group.to_owned(), log_stream.to_owned()))
    }

    /// Feeds one event of `source` / `log_stream` (`opens`: it holds a multi-line rule's
    /// header without its match; `record`: its parsed record, when already made). Returns the
    /// finding of a block this event completes.
    pub fn feed(
        &mut self,
        engine: &Engine,
        source: &Source<'_>,
        log_stream: &str,
        event: &LogEvent<'_>,
        opens: bool,
        record: Option<&Record<'_>>,
    ) -> Option<BlockFinding> {
        if !opens && !self.is_open(source.log_group, log_stream) {
            return None;
        }
        let key = (source.log_group.to_owned(), log_stream.to_owned());
        // The logged text itself: a runtime line's or a JSON log line's message, else the line.
        let parsed;
        let record = match record {
            Some(r) => r,
            None => {
                parsed = engine.parse(event, source);
                &parsed
            }
        };
        let mut hay = Haystack::default();
        let text = match record.field("message").as_ref().and_then(|v| v.as_str()) {
            Some(m) if m.len() < event.message.len() => {
                hay.prepare(m.as_bytes());
                hay.text(m.as_bytes()).to_vec()
            }
            _ => {
                hay.prepare(event.message.as_bytes());
                hay.text(event.message.as_bytes()).to_vec()
            }
        };
        let block = self.add(key, &event.id, &text, opens)?;
        let mut found = Vec::new();
        let mut scratch = crate::detect::Scratch::default();
        let content = engine.detectors().content();
        content.scan_multiline(&block.text, &mut scratch, &mut found);
        let last_start = block.starts.last().copied().unwrap_or(0);
        let m = found.into_iter().find(|m| m.start < last_start)?;
        let event_ids = block
            .starts
            .iter()
            .zip(&block.ids)
            .filter(|(s, _)| **s < m.end)
            .map(|(_, id)| id.clone())
            .collect();
        let pii = content.rules()[m.rule].meta.kind == FindingKind::Pii;
        Some(BlockFinding {
            rule: ContentRuleId(m.rule as u32),
            evidence: Evidence::of(&block.text[m.start..m.end], pii, 1, engine.fingerprints()),
            event_ids,
        })
    }

    /// Adds an event's text to its stream's block (opening one when `opens`); returns the
    /// finished block when this event ends it (its end marker, or a bound reached).
    fn add(&mut self, key: (String, String), id: &str, text: &[u8], opens: bool) -> Option<Block> {
        if !self.open.contains_key(&key) {
            if !opens {
                return None;
            }
            if self.open.len() >= MAX_BLOCKS
                && let Some(old) = self.order.pop_front()
            {
                self.open.remove(&old);
            }
            self.order.push_back(key.clone());
        }
        let block = self.open.entry(key.clone()).or_default();
        if opens && !block.ids.is_empty() {
            // A new header: the old block ended without its end marker.
            *block = Block::default();
        }
        if opens {
            block.end_marker = end_marker(text);
        }
        block.starts.push(block.text.len());
        block
            .text
            .extend_from_slice(&text[..text.len().min(MAX_BLOCK_BYTES)]);
        block.text.push(b'\n');
        block.ids.push(id.to_owned());
        let ended = memchr::memmem::find(text, &block.end_marker).is_some()
            || block.ids.len() >= MAX_BLOCK_EVENTS
            || block.text.len() >= MAX_BLOCK_BYTES;
        if !ended {
            return None;
        }
        self.order.retain(|k| *k != key);
        self.open.remove(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_ends_only_at_its_own_end_marker() {
        assert_eq!(
            end_marker(b"key: -----BEGIN RSA PRIVATE KEY-----"),
            b"-----END RSA PRIVATE KEY-----".to_vec()
        );
        let mut m = Multiline::default();
        let key = || ("g".to_owned(), "s".to_owned());
        assert!(
            m.add(key(), "1", b"-----BEGIN RSA PRIVATE KEY-----", true)
                .is_none()
        );
        assert!(m.add(key(), "2", b"MIIEowIBAAKCAQEA", false).is_none());
        // A concurrent request's certificate ends: the key block stays open.
        assert!(
            m.add(key(), "3", b"-----END CERTIFICATE-----", false)
                .is_none()
        );
        let block = m.add(key(), "4", b"-----END RSA PRIVATE KEY-----", false);
        assert_eq!(block.map(|b| b.ids.len()), Some(4));
        assert!(m.is_idle());
    }
}
