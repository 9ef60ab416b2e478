//! One batch's events through the engine on several threads: the engine is stateless, so the
//! events are cut into contiguous stretches, each analysed on its own thread, and the findings
//! are put back in event order for the ordered driver. A Lambda with more than one vCPU uses
//! them for one CloudWatch Logs payload this way (`THREADS`).

use crate::decode::{self, Batch, DecodeError, LogEvent};
use crate::engine::{Engine, Findings, Workspace};
use crate::record::{Record, Source};

/// Most message bytes per stretch whose parsed JSON is handed to the driver with the findings.
const KEEP_JSON_BYTES: usize = 256 << 10;
/// Most parsed records per stretch handed to the driver: a `serde_json::Value` takes tens of
/// times the text of a small object (a map node each), and the driver frees what it is given.
const KEEP_JSON_RECORDS: usize = 128;

/// Fewest events worth a thread of their own (below it, one thread does the batch).
pub(super) const MIN_EVENTS_PER_THREAD: usize = 16;

/// Fewest message bytes worth a thread of their own: starting one costs tens of microseconds,
/// scanning this much several hundred.
pub(super) const MIN_BYTES_PER_THREAD: usize = 128 * 1024;

/// What the engine found in each event of a batch (`None`: nothing can come of it), on up to
/// `threads` threads: the same result, in the same order, as on one. An event's findings
/// are kept when its record was parsed, for the rules or for the session stage.
pub(super) fn analyse_events(
    engine: &Engine,
    source: &Source<'_>,
    events: &[LogEvent<'_>],
    threads: usize,
    ws: &mut Workspace,
) -> Vec<Option<Findings>> {
    // Each stretch keeps the parsed JSON of the events whose record the driver reads, up to
    // KEEP_JSON_RECORDS records and KEEP_JSON_BYTES of their messages: the driver reads those
    // records, and need not parse them again; past the bounds it does.
    let one = |e: &LogEvent<'_>, ws: &mut Workspace, kept: &mut (usize, usize)| {
        let (record, mut findings) = engine.analyse(e, source, ws);
        if engine.needs_record(&findings)
            && kept.0 + e.message.len() <= KEEP_JSON_BYTES
            && kept.1 < KEEP_JSON_RECORDS
        {
            *kept = (kept.0 + e.message.len(), kept.1 + 1);
            findings.json = record.and_then(Record::take_json);
        }
        (findings.parsed || findings.session_read).then_some(findings)
    };
    let threads = threads_for(events, threads);
    if threads == 1 {
        let kept = &mut (0, 0);
        return events.iter().map(|e| one(e, ws, kept)).collect();
    }
    let stretch = events.len().div_ceil(threads);
    let mut stretches = events.chunks(stretch);
    let first = stretches.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = stretches
            .map(|s| {
                scope.spawn(move || {
                    let (mut ws, kept) = (Workspace::default(), &mut (0, 0));
                    s.iter().map(|e| one(e, &mut ws, kept)).collect::<Vec<_>>()
                })
            })
            .collect();
        let kept = &mut (0, 0);
        let mut out: Vec<Option<Findings>> = first.iter().map(|e| one(e, ws, kept)).collect();
        for h in others {
            match h.join() {
                Ok(found) => out.extend(found),
                // The engine panicked on some event: as it would have on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// Threads worth using for `events`, at most `threads`: each gets at least
/// [`MIN_EVENTS_PER_THREAD`] events and [`MIN_BYTES_PER_THREAD`] bytes of messages.
fn threads_for(events: &[LogEvent<'_>], threads: usize) -> usize {
    if threads <= 1 {
        return 1;
    }
    let bytes: usize = events.iter().map(|e| e.message.len()).sum();
    threads
        .min(events.len() / MIN_EVENTS_PER_THREAD)
        .min(bytes / MIN_BYTES_PER_THREAD)
        .max(1)
}

/// An input decoded and scanned ahead of the pipeline, on any thread ([`crate::pipeline::prepare`]).
pub struct Prepared {
    /// The batches, owned, each with per event what the engine found (`None`: nothing can
    /// come of it).
    pub(super) batches: Vec<(Batch<'static>, Vec<Option<Findings>>)>,
    /// What decoding reported.
    pub(super) result: Result<decode::DecodeReport, DecodeError>,
    /// The input's size.
    pub(super) input_len: usize,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("batches", &self.batches.len())
            .field("input_len", &self.input_len)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(n: usize, len: usize) -> Vec<LogEvent<'static>> {
        (0..n)
            .map(|i| LogEvent {
                id: i.to_string().into(),
                timestamp: None,
                message: "x".repeat(len).into(),
                truncated: false,
            })
            .collect()
    }

    #[test]
    fn a_batch_is_split_by_its_bytes_and_events() {
        // A subscription payload of 1 MB in 280 events: both threads.
        assert_eq!(threads_for(&events(280, 4000), 2), 2);
        assert_eq!(threads_for(&events(280, 4000), 8), 8);
        // Too few bytes, or too few events, for a second thread.
        assert_eq!(threads_for(&events(5000, 20), 4), 1);
        assert_eq!(threads_for(&events(20, 100_000), 4), 1);
        assert_eq!(threads_for(&events(40, 100_000), 4), 2);
        assert_eq!(threads_for(&events(280, 4000), 1), 1);
        assert_eq!(threads_for(&[], 4), 1);
    }
}
