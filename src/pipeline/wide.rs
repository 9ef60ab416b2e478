//! One batch's events through the engine on several threads: the engine is stateless, so the
//! events are cut into contiguous stretches, each analysed on its own thread, and the findings
//! are put back in event order for the ordered driver. A Lambda with more than one vCPU uses
//! them for one CloudWatch Logs payload this way (`THREADS`).

use crate::decode::LogEvent;
use crate::engine::{Engine, Findings, Workspace};
use crate::record::Source;

/// Fewest events worth a thread of their own (below it, one thread does the batch).
pub(super) const MIN_EVENTS_PER_THREAD: usize = 256;

/// What the engine found in each event of a batch (`None`: nothing can come of it), on up to
/// `threads` threads: the same result, in the same order, as on one. `keep` says whether an
/// event's findings must be kept though nothing was parsed (a CloudTrail record whose
/// session the driver reads).
pub(super) fn analyse_events(
    engine: &Engine,
    source: &Source<'_>,
    events: &[LogEvent<'_>],
    keep: &(dyn Fn(&LogEvent<'_>) -> bool + Sync),
    threads: usize,
    ws: &mut Workspace,
) -> Vec<Option<Findings>> {
    let one = |e: &LogEvent<'_>, ws: &mut Workspace| {
        let (_, findings) = engine.analyse(e, source, ws);
        (findings.parsed || keep(e)).then_some(findings)
    };
    let threads = threads.min(events.len() / MIN_EVENTS_PER_THREAD).max(1);
    if threads == 1 {
        return events.iter().map(|e| one(e, ws)).collect();
    }
    let stretch = events.len().div_ceil(threads);
    let mut stretches = events.chunks(stretch);
    let first = stretches.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = stretches
            .map(|s| {
                scope.spawn(move || {
                    let mut ws = Workspace::default();
                    s.iter().map(|e| one(e, &mut ws)).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out: Vec<Option<Findings>> = first.iter().map(|e| one(e, ws)).collect();
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
