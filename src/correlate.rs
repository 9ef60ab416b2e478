//! Stage 4: aggregation. Correlation rules count detection matches per group key per
//! event-time window; a threshold alert fires in the call whose update crosses the threshold,
//! so it fires once per (rule, group value, window) however the events arrive.
//!
//! Windows are tumbling and aligned to the epoch (`start = floor(t / timespan) * timespan`),
//! like SIEM backends' `bin span=`: counts depend only on which events fall in a window, never
//! on their order, so replays are deterministic and late events still count. Counts live behind
//! [`WindowStore`], so a shared store can replace the in-process one.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

/// Identifies one counter: rule, group value, window start.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowKey {
    /// Correlation rule name.
    pub rule: String,
    /// Group-by value(s), comma-joined.
    pub group: String,
    /// Window start, ms since the epoch.
    pub start_ms: i64,
}

/// What one matching event adds to a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// `event_count`: one event, identified (for de-duplication of re-delivered events) by a
    /// stable 64-bit id.
    Event(u64),
    /// `value_count`: one value, by its stable 64-bit hash.
    Value(u64),
}

/// Counts before and after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update {
    /// Count before.
    pub before: u64,
    /// Count after.
    pub after: u64,
}

/// Why a window store could not count.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backing service failed or throttled; the invocation must be retried.
    #[error("window store: {0}")]
    Backend(String),
}

/// Where window counts live. The in-process [`MemoryWindowStore`] keeps them across warm
/// Lambda invocations; a shared store makes them exact across instances.
pub trait WindowStore: Send {
    /// Adds an observation to a window and returns the counts before and after.
    fn observe(&mut self, key: &WindowKey, obs: Observation) -> Result<Update, StoreError>;
    /// Windows evicted to stay within bounds.
    fn evictions(&self) -> u64;
    /// Windows currently held.
    fn len(&self) -> usize;
    /// Whether no window is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A stable 64-bit hash (first 8 bytes of SHA-256), the same in every process and version.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The start of the window of length `span_ms` that holds `t_ms`.
pub fn window_start(t_ms: i64, span_ms: i64) -> i64 {
    t_ms.div_euclid(span_ms) * span_ms
}

#[derive(Debug, Default)]
struct Entry {
    count: u64,
    members: HashSet<u64>,
}

/// In-process window counts, bounded: at most `max_windows` windows (the oldest windows are
/// evicted first, and counted) and at most `max_members` remembered members per window (past
/// that, events are counted without de-duplication and new distinct values are not added).
#[derive(Debug)]
pub struct MemoryWindowStore {
    entries: HashMap<WindowKey, Entry>,
    max_windows: usize,
    max_members: usize,
    evictions: u64,
}

impl Default for MemoryWindowStore {
    fn default() -> Self {
        Self::new(50_000, 10_000)
    }
}

impl MemoryWindowStore {
    /// A store holding at most `max_windows` windows and `max_members` members per window.
    pub fn new(max_windows: usize, max_members: usize) -> Self {
        MemoryWindowStore {
            entries: HashMap::new(),
            max_windows: max_windows.max(1),
            max_members,
            evictions: 0,
        }
    }

    fn evict_oldest(&mut self) {
        // Drop the oldest tenth at once so eviction stays amortised O(1) per insert.
        let n = (self.entries.len() / 10).max(1);
        let mut starts: Vec<(i64, WindowKey)> = self
            .entries
            .keys()
            .map(|k| (k.start_ms, k.clone()))
            .collect();
        starts.sort();
        for (_, k) in starts.into_iter().take(n) {
            self.entries.remove(&k);
            self.evictions += 1;
        }
    }
}

impl WindowStore for MemoryWindowStore {
    fn observe(&mut self, key: &WindowKey, obs: Observation) -> Result<Update, StoreError> {
        if !self.entries.contains_key(key) && self.entries.len() >= self.max_windows {
            self.evict_oldest();
        }
        let max_members = self.max_members;
        let e = self.entries.entry(key.clone()).or_default();
        let before = e.count;
        match obs {
            Observation::Event(id) => {
                // Past the member cap, count without de-duplication.
                if e.members.len() >= max_members || e.members.insert(id) {
                    e.count += 1;
                }
            }
            Observation::Value(v) => {
                if e.members.len() < max_members && e.members.insert(v) {
                    e.count += 1;
                }
            }
        }
        Ok(Update {
            before,
            after: e.count,
        })
    }

    fn evictions(&self) -> u64 {
        self.evictions
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(start: i64) -> WindowKey {
        WindowKey {
            rule: "r".into(),
            group: "g".into(),
            start_ms: start,
        }
    }

    #[test]
    fn windows_align_to_the_epoch() {
        assert_eq!(window_start(1_795_600_899_999, 300_000), 1_795_600_800_000);
        assert_eq!(window_start(-1, 1000), -1000);
    }

    #[test]
    fn redelivered_events_and_repeated_values_count_once() {
        let mut s = MemoryWindowStore::default();
        let k = key(0);
        assert_eq!(
            s.observe(&k, Observation::Event(1)).ok(),
            Some(Update {
                before: 0,
                after: 1
            })
        );
        assert_eq!(
            s.observe(&k, Observation::Event(1)).ok(),
            Some(Update {
                before: 1,
                after: 1
            })
        );
        let v = key(1);
        s.observe(&v, Observation::Value(7)).ok();
        assert_eq!(
            s.observe(&v, Observation::Value(7)).ok().map(|u| u.after),
            Some(1)
        );
    }

    #[test]
    fn bounded_with_oldest_evicted_first() {
        let mut s = MemoryWindowStore::new(10, 100);
        for i in 0..25 {
            s.observe(&key(i * 1000), Observation::Event(1)).ok();
        }
        assert!(s.len() <= 10);
        assert!(s.evictions() >= 15);
        // The newest window is still there.
        assert_eq!(
            s.observe(&key(24_000), Observation::Event(2))
                .ok()
                .map(|u| u.before),
            Some(1)
        );
    }
}
