//! What the pipeline saw and did, counted: the `--stats` summary, the Lambda's response and
//! its metrics come from these counters.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::alert::Alert;
use crate::policy::Fate;
use crate::severity::Severity;

/// What the pipeline saw. For events: `events_received == events_processed +
/// events_skipped_control + events_skipped_ignored_group` always holds. For alerts, every
/// candidate has one fate: `alerts` (sent) + `alerts_held_back` + `alerts_grouped` +
/// `alerts_suppressed` + `alerts_below_min_severity` candidates were decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Inputs (files, Lambda events) given.
    pub inputs: u64,
    /// Inputs that could not be decoded at all.
    pub inputs_failed: u64,
    /// Records inside an input (Kinesis records, array items) that could not be decoded.
    pub records_failed: u64,
    /// Inputs read as UTF-16 (they had a byte-order mark).
    pub inputs_utf16: u64,
    /// Bytes of input, as given (compressed where compressed).
    pub input_bytes: u64,
    /// Bytes of log messages scanned.
    pub message_bytes: u64,
    /// Data batches decoded.
    pub batches: u64,
    /// Log events received (including those skipped).
    pub events_received: u64,
    /// Log events scanned.
    pub events_processed: u64,
    /// Events in CONTROL_MESSAGE batches (skipped).
    pub events_skipped_control: u64,
    /// Events of ignored log groups (skipped).
    pub events_skipped_ignored_group: u64,
    /// Events scanned only up to the message limit.
    pub events_truncated: u64,
    /// Records that passed the event rules' literal prefilter (and were evaluated).
    pub event_rule_candidates: u64,
    /// Content matches dropped as identifiers AWS issues and logs by design.
    pub content_aws_issued: u64,
    /// Distinct values past the per-event bound (counted, not reported one by one).
    pub content_values_over_bound: u64,
    /// Found keys `--verify` could have checked, past the per-run bound (their alerts say
    /// nothing of `verified`).
    pub keys_not_kept_for_verify: u64,
    /// Event rule matches per rule (every matching record, grouped or not).
    pub event_matches_by_rule: BTreeMap<String, u64>,
    /// Correlation matches without an event time (not counted).
    pub correlation_untimed: u64,
    /// Correlation matches missing a group-by or value field (not counted).
    pub correlation_ungrouped: u64,
    /// Correlation matches later than the lateness bound (not counted).
    pub correlation_late: u64,
    /// Correlation keys evicted under pressure (a flood of distinct keys).
    pub window_evictions: u64,
    /// Correlation keys in an open episode at the end.
    pub open_episodes: u64,
    /// Correlation keys held at the end.
    pub window_keys: u64,
    /// Shared windows: requests sent to the shared store.
    pub window_store_requests: u64,
    /// Shared windows: keys updated in the shared store.
    pub window_store_keys: u64,
    /// Shared windows: batch parts the store had counted before (retries), not counted again.
    pub window_parts_already_counted: u64,
    /// Shared windows: parts not stored because their item was full (counted, not failed).
    pub window_store_overflow: u64,
    /// Alerts held back by storm control (reported in later alerts' `held_back`).
    pub alerts_held_back: u64,
    /// Matches grouped into a change burst's summary.
    pub alerts_grouped: u64,
    /// Alerts dropped by a suppression entry.
    pub alerts_suppressed: u64,
    /// Alerts dropped by a suppression entry, per rule.
    pub alerts_suppressed_by_rule: BTreeMap<String, u64>,
    /// Alerts dropped per suppression entry (`file: suppression #n`).
    pub alerts_suppressed_by_entry: BTreeMap<String, u64>,
    /// Alerts sent.
    pub alerts: u64,
    /// Alerts dropped by the minimum severity.
    pub alerts_below_min_severity: u64,
    /// Alerts sent per rule.
    pub alerts_by_rule: BTreeMap<String, u64>,
    /// Alerts sent per (rule, severity).
    #[serde(skip)]
    pub alerts_by_rule_severity: BTreeMap<(String, Severity), u64>,
}

impl Stats {
    /// Counts one decision of the policy.
    pub fn count_decision(&mut self, alert: &Alert, fate: &Fate) {
        match fate {
            Fate::Sent => {
                self.alerts += 1;
                *self
                    .alerts_by_rule
                    .entry(alert.rule_id.clone())
                    .or_default() += 1;
                *self
                    .alerts_by_rule_severity
                    .entry((alert.rule_id.clone(), alert.severity))
                    .or_default() += 1;
            }
            Fate::BelowMinimum => self.alerts_below_min_severity += 1,
            Fate::Suppressed(entry) => {
                self.alerts_suppressed += 1;
                *self
                    .alerts_suppressed_by_rule
                    .entry(alert.rule_id.clone())
                    .or_default() += 1;
                *self
                    .alerts_suppressed_by_entry
                    .entry(entry.clone())
                    .or_default() += 1;
            }
            Fate::HeldBack => self.alerts_held_back += 1,
            Fate::Grouped => self.alerts_grouped += 1,
        }
    }
}
