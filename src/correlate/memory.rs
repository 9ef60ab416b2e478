//! The in-process window store: counts kept across warm invocations, bounded.

use std::collections::{HashMap, HashSet};

use super::{Observation, StoreError, Update, WindowKey, WindowStore};

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
