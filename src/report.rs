//! The `--stats` summary: what a replay did, on stderr.

use std::fmt::Write as _;
use std::time::Duration;

use crate::driver::{DriverError, InvocationReport};
use crate::pipeline::Stats;

/// The process's peak resident set size (Linux `VmHWM`), in MB.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The summary of a run: counts, throughput over the log messages scanned, peak memory,
/// correlation state, alerts per rule.
pub fn summary(
    s: &Stats,
    finished: &Result<InvocationReport, DriverError>,
    elapsed: Duration,
) -> String {
    let secs = elapsed.as_secs_f64();
    let mb = s.message_bytes as f64 / 1e6;
    let rate = if secs > 0.0 { mb / secs } else { 0.0 };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "inputs: {} ({} failed, {} records failed, {} read as UTF-16)",
        s.inputs, s.inputs_failed, s.records_failed, s.inputs_utf16
    );
    let _ = writeln!(
        out,
        "events: {} received, {} processed, {} skipped (control), {} skipped (ignored group), {} truncated",
        s.events_received,
        s.events_processed,
        s.events_skipped_control,
        s.events_skipped_ignored_group,
        s.events_truncated
    );
    let _ = writeln!(
        out,
        "bytes: {} input, {} message",
        s.input_bytes, s.message_bytes
    );
    let _ = writeln!(
        out,
        "alerts: {} sent ({} below min severity, {} held back by storm control, {} grouped into burst summaries, {} suppressed)",
        s.alerts,
        s.alerts_below_min_severity,
        s.alerts_held_back,
        s.alerts_grouped,
        s.alerts_suppressed
    );
    let _ = writeln!(
        out,
        "correlation: {} keys held, {} in an open episode, {} evicted under pressure, {} late, {} untimed, {} missing a field",
        s.window_keys,
        s.open_episodes,
        s.window_evictions,
        s.correlation_late,
        s.correlation_untimed,
        s.correlation_ungrouped
    );
    if s.window_store_requests > 0 {
        let _ = writeln!(
            out,
            "window store: {} requests, {} keys updated, {} retried batch parts not counted again",
            s.window_store_requests, s.window_store_keys, s.window_parts_already_counted
        );
    }
    if let Ok(r) = finished
        && (r.published > 0 || r.undeliverable > 0)
    {
        let _ = writeln!(
            out,
            "published: {} ({} undeliverable)",
            r.published, r.undeliverable
        );
    }
    let _ = writeln!(out, "time: {secs:.3}s, {rate:.1} MB/s of messages");
    if let Some(mb) = peak_rss_mb() {
        let _ = writeln!(out, "peak RSS: {mb:.1} MB");
    }
    for (rule, n) in &s.alerts_by_rule {
        let _ = writeln!(out, "  {rule}: {n}");
    }
    out
}
