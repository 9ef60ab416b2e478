//! One batch's events through the engine on several threads: the engine is stateless, so the
//! events are cut into contiguous stretches, taken in turn by whichever thread is free, and the
//! findings are put back in event order for the ordered driver. A Lambda with more than one
//! vCPU uses them for one CloudWatch Logs payload this way (`THREADS`).

use std::borrow::Cow;
use std::ops::Range;

use crate::decode::{self, Batch, DecodeError, LogEvent, MessageType, Origin, PayloadText};
use crate::engine::{Engine, Findings, Workspace};
use crate::record::{Record, Source};
use crate::time::EventTime;

/// Most message bytes per thread and batch whose parsed JSON is handed to the driver with the findings.
const KEEP_JSON_BYTES: usize = 256 << 10;
/// Most parsed records per thread and batch handed to the driver: a `serde_json::Value` takes tens of
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
) -> Vec<Option<Box<Findings>>> {
    // Each thread keeps the parsed JSON of the events whose record the driver reads, up to
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
        (findings.parsed || findings.session_read).then(|| Box::new(findings))
    };
    let threads = threads_for(events, threads);
    if threads == 1 {
        let kept = &mut (0, 0);
        return events.iter().map(|e| one(e, ws, kept)).collect();
    }
    // Stretches are taken in turn by whichever thread is free: events differ in cost (a
    // stretch of CloudTrail records with access keys runs several regexes per event), and
    // halves fixed in advance left one core idle for a third of a cold start's scan.
    let stretch = events
        .len()
        .div_ceil(threads * STRETCHES_PER_THREAD)
        .max(MIN_EVENTS_PER_STRETCH);
    let stretches: Vec<&[LogEvent<'_>]> = events.chunks(stretch).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Each thread first compiles the regexes a sample of the batch will need, every thread
    // starting at a different one (waiting for one another's on the first events had the
    // threads of a cold start compile one at a time: [`Engine::warm`]).
    let step = (events.len() / WARM_SAMPLE).max(1);
    let work = |ws: &mut Workspace, turn: usize| {
        let sample = events.iter().step_by(step).take(WARM_SAMPLE);
        engine.warm(sample.skip(turn).step_by(threads), (turn, threads), ws);
        let kept = &mut (0, 0);
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(s) = stretches.get(i) else {
                return done;
            };
            done.push((i, s.iter().map(|e| one(e, ws, kept)).collect::<Vec<_>>()));
        }
    };
    // This thread waits until the others have started: Linux puts a new thread on the CPU of
    // the thread that made it, and a busy spawner kept its helper waiting there for up to one
    // balancing interval (2-3 ms in a fifth of cold starts, a whole core idle meanwhile); woken
    // by a helper, the spawner moves to an idle CPU instead.
    let started = std::sync::Barrier::new(threads);
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads)
            .map(|turn| {
                let started = &started;
                scope.spawn(move || {
                    started.wait();
                    work(&mut Workspace::default(), turn)
                })
            })
            .collect();
        started.wait();
        let mut done = work(ws, 0);
        for h in others {
            match h.join() {
                Ok(found) => done.extend(found),
                // The engine panicked on some event: as it would have on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        // Back in event order.
        done.sort_unstable_by_key(|(i, _)| *i);
        let mut out = Vec::with_capacity(events.len());
        for (_, found) in done {
            out.extend(found);
        }
        out
    })
}

/// Events of a batch, spread over it, that its threads look at for the regexes to compile
/// first ([`Engine::warm`]): their keyword search is done twice (a few percent of the batch's).
const WARM_SAMPLE: usize = 64;

/// Stretches a batch is cut into per thread, taken in turn by whichever thread is free.
const STRETCHES_PER_THREAD: usize = 16;

/// Fewest events in a stretch (taking one is an atomic add; its events are scanned together).
const MIN_EVENTS_PER_STRETCH: usize = 8;

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
    /// The batches, each with per event what the engine found (`None`: nothing can come of
    /// it).
    pub(super) batches: Vec<(Held, Vec<Option<Box<Findings>>>)>,
    /// What decoding reported.
    pub(super) result: Result<decode::DecodeReport, DecodeError>,
    /// The input's size.
    pub(super) input_len: usize,
}

/// A batch kept for the driver. A subscription payload read in place keeps its text and where
/// each event lies in it: copying every message for the driver cost a tenth of the CPU of a
/// two-thread replay, and the copies were freed on another thread. Any other batch is copied.
pub(super) enum Held {
    /// Copied.
    Owned(Batch<'static>),
    /// The events as spans of the payload's text.
    InText(Spans),
}

/// A batch whose events lie in its payload's text.
pub(super) struct Spans {
    text: PayloadText,
    message_type: MessageType,
    /// Owner, log group and log stream.
    names: [String; 3],
    origin: Origin,
    events: Vec<EventSpan>,
}

/// An event of [`Spans`]: where its id and message lie in the text.
struct EventSpan {
    id: Range<usize>,
    timestamp: Option<EventTime>,
    message: Range<usize>,
    truncated: bool,
}

impl Held {
    /// Keeps `batch` for the driver: as spans of its text when every event lies in it (no copy),
    /// else copied.
    pub(super) fn new(batch: Batch<'_>) -> Held {
        if let Some(text) = &batch.text {
            let mut events = Vec::with_capacity(batch.events.len());
            for e in &batch.events {
                let (Some(id), Some(message)) = (text.span_of(&e.id), text.span_of(&e.message))
                else {
                    break;
                };
                events.push(EventSpan {
                    id,
                    timestamp: e.timestamp,
                    message,
                    truncated: e.truncated,
                });
            }
            if events.len() == batch.events.len() {
                return Held::InText(Spans {
                    text: text.clone(),
                    message_type: batch.message_type,
                    names: [batch.owner, batch.log_group, batch.log_stream].map(Cow::into_owned),
                    origin: batch.origin,
                    events,
                });
            }
        }
        Held::Owned(batch.into_owned())
    }

    /// Lends the batch to `f`.
    pub(super) fn with<R>(&self, f: impl FnOnce(&Batch<'_>) -> R) -> R {
        let s = match self {
            Held::Owned(b) => return f(b),
            Held::InText(s) => s,
        };
        // The spans were taken from this text, at character boundaries: `get` finds them (an
        // empty string otherwise, which cannot happen).
        let text = |r: &Range<usize>| Cow::Borrowed(s.text.get(r.clone()).unwrap_or_default());
        let [owner, log_group, log_stream] = &s.names;
        f(&Batch {
            message_type: s.message_type,
            owner: Cow::Borrowed(owner),
            log_group: Cow::Borrowed(log_group),
            log_stream: Cow::Borrowed(log_stream),
            events: s
                .events
                .iter()
                .map(|e| LogEvent {
                    id: text(&e.id),
                    timestamp: e.timestamp,
                    message: text(&e.message),
                    truncated: e.truncated,
                })
                .collect(),
            origin: s.origin.clone(),
            text: None,
        })
    }
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

    /// The batches `input` decodes to, each kept for the driver, with a copy to compare.
    fn held(input: &[u8]) -> Vec<(Held, Batch<'static>)> {
        let mut out = Vec::new();
        let (source, limits) = (decode::TextSource::default(), decode::Limits::default());
        decode::decode_input(input, &source, &limits, &mut |b| {
            let copy = b.clone().into_owned();
            out.push((Held::new(b), copy));
        })
        .unwrap();
        out
    }

    fn same(held: &Held, copy: &Batch<'_>) {
        held.with(|b| {
            assert_eq!(b.events, copy.events);
            assert_eq!(
                (&b.owner, &b.log_group, &b.log_stream, &b.origin),
                (&copy.owner, &copy.log_group, &copy.log_stream, &copy.origin)
            );
            assert_eq!(b.message_type, copy.message_type);
        });
    }

    #[test]
    fn a_payload_read_in_place_is_kept_as_spans_of_its_text_and_lent_whole() {
        use std::io::Write;
        let doc = serde_json::json!({
            "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/f",
            "logStream": "2026/12/07/[$LATEST]abc", "subscriptionFilters": ["all"],
            "logEvents": [
                {"id": "1", "timestamp": 1_765_000_000_000_i64, "message": "{\"user\":\"caf\u{e9}\",\"n\":1}\n"},
                {"id": "2", "timestamp": null, "message": ""},
                {"id": "3", "timestamp": 1_765_000_000_001_i64, "message": "tab\tquote\" \u{1F600}"},
            ],
        });
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(doc.to_string().as_bytes()).unwrap();
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let event = serde_json::json!({"awslogs": {"data": data}}).to_string();
        let batches = held(event.as_bytes());
        assert_eq!(batches.len(), 1);
        let (h, copy) = &batches[0];
        assert!(matches!(h, Held::InText(_)), "not copied");
        assert_eq!(copy.events.len(), 3);
        same(h, copy);
    }

    #[test]
    fn other_batches_are_copied_and_lent_the_same() {
        let batches = held(b"a line\nanother \xff line\n");
        assert_eq!(batches.len(), 1);
        assert!(matches!(batches[0].0, Held::Owned(_)));
        same(&batches[0].0, &batches[0].1);
        // A payload that is not read in place (an object in a key's value) is copied too.
        let doc = r#"{"logGroup":"g","extra":{"k":1},"logEvents":[{"id":"1","message":"m\"q"}]}"#;
        let batches = held(doc.as_bytes());
        assert!(matches!(batches[0].0, Held::Owned(_)));
        same(&batches[0].0, &batches[0].1);
    }
}
