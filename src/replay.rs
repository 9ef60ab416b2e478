//! Replay: local inputs through the invocation driver, on one thread or several.
//!
//! With one thread every piece of every input ([`crate::input::Pieces`]) goes through
//! [`Driver::analyse`] in order. With more, a reader thread reads the pieces in the same order
//! and hands them to worker threads that decode and scan them ([`pipeline::prepare`]: the part
//! of the work that needs no state); the driver then takes the prepared pieces in input order
//! ([`Driver::analyse_prepared`]). Correlation windows, the storm limiter, multi-line blocks
//! and alert ids live in the one driver and see the events in the same order either way, so
//! the output is the same whatever the number of threads. At most `4 × threads + 1` pieces are
//! in flight (`threads` being prepared, `3 × threads` prepared and waiting for the driver, each
//! holding its decompressed text rather than copies of its messages, and one the reader reads
//! ahead, to know which piece is the last), which bounds memory. The last piece, the only one
//! of a single payload, is analysed on the threads idle when it starts
//! ([`pipeline::prepare_wide`]). On the command line the reader and workers start before the
//! detector set is built ([`Replay::start`]): the first pieces are read at once and decoded
//! while the build finishes on one core, and wait for the engine only to be analysed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, mpsc};

use crate::alert::Alert;
use crate::decode::TextSource;
use crate::driver::{Driver, InputOutcome};
use crate::engine::Engine;
use crate::input::{Input, Pieces, open};
use crate::pipeline::{self, Config, Prepared};

/// How the text lines of replayed inputs are named (`--log-group`, `--log-stream`).
#[derive(Debug, Clone, Default)]
pub struct Naming {
    /// Log group of every input's text lines (default: its file name).
    pub log_group: Option<String>,
    /// Log stream of every input's text lines (default: its path).
    pub log_stream: Option<String>,
}

impl Naming {
    /// The text source of a piece of `input` starting at line `first_line`.
    fn source(&self, input: &Input, first_line: usize) -> TextSource {
        TextSource {
            log_group: self
                .log_group
                .clone()
                .unwrap_or_else(|| input.default_log_group()),
            log_stream: self
                .log_stream
                .clone()
                .unwrap_or_else(|| input.default_log_stream()),
            first_line,
        }
    }
}

/// Replays `inputs` through `driver` with `threads` threads (0 or 1: the calling thread
/// only): each input read in pieces, each piece analysed in input order (alerts go to `local`
/// at once), the alerts published after each input. Every problem (unreadable input,
/// undecodable record, failed flush or publish) goes to `error` as one line naming the input;
/// the other inputs are still processed.
pub async fn replay(
    driver: &mut Driver,
    inputs: &[Input],
    naming: &Naming,
    threads: usize,
    local: &mut (dyn FnMut(&Alert) + Send),
    error: &mut (dyn FnMut(String) + Send),
) {
    let config = driver.pipeline().config().clone();
    Replay::start(inputs, naming, threads, &config)
        .run(driver, local, error)
        .await;
}

/// A replay that may start before its driver exists: with several threads, [`Replay::start`]
/// sets the reader and the workers going; they read and decode the first pieces at once,
/// while the detector set is still being built (beside its parsing threads: a cold start's
/// payload was 1.5-1.8 ms sooner done than when decoding waited for the parsing to end), and
/// wait for the engine only to analyse. [`Replay::run`] hands them the
/// driver's engine and takes the results in input order. Dropped without running, it stops
/// its threads and waits for them.
pub struct Replay {
    inputs: Vec<Input>,
    naming: Naming,
    started: Option<Started>,
}

/// The threads of a parallel replay.
struct Started {
    gate: Arc<EngineGate>,
    workers: Vec<std::thread::JoinHandle<()>>,
    reader: std::thread::JoinHandle<()>,
    ordered: tokio::sync::mpsc::Receiver<Item>,
}

impl Replay {
    /// Starts replaying `inputs` with `threads` threads and the pipeline settings `config`
    /// (the driver's, given to [`Replay::run`]). With one thread nothing starts before `run`.
    pub fn start(inputs: &[Input], naming: &Naming, threads: usize, config: &Config) -> Self {
        let started =
            (threads > 1 && !inputs.is_empty()).then(|| start(inputs, naming, threads, config));
        Replay {
            inputs: inputs.to_vec(),
            naming: naming.clone(),
            started,
        }
    }

    /// Lets the workers analyse with `engine`, which must be the engine of the driver later
    /// given to [`Replay::run`] ([`crate::settings::Parts::driver_with`]): they start while
    /// the driver is still being built. Without it they start when `run` does.
    pub fn open(&self, engine: &Engine) {
        if let Some(started) = &self.started {
            started.gate.open(Some(engine.clone()));
        }
    }

    /// Runs the replay through `driver` (see [`replay`]).
    pub async fn run(
        mut self,
        driver: &mut Driver,
        local: &mut (dyn FnMut(&Alert) + Send),
        error: &mut (dyn FnMut(String) + Send),
    ) {
        match self.started.take() {
            Some(started) => drive(started, driver, local, error).await,
            None => serial(driver, &self.inputs, &self.naming, local, error).await,
        }
    }
}

impl Drop for Replay {
    /// A replay that never ran (its detector set did not build) stops its threads: the
    /// driver's queue goes first, so that the reader is not left waiting to hand on a piece;
    /// the workers finish the piece they hold, unanalysed, and find no more.
    fn drop(&mut self) {
        if let Some(Started {
            gate,
            workers,
            reader,
            ordered,
        }) = self.started.take()
        {
            drop(ordered);
            gate.open(None);
            for t in workers.into_iter().chain(std::iter::once(reader)) {
                let _ = t.join();
            }
        }
    }
}

/// The engine, once the driver that owns it exists: workers wait here to analyse.
#[derive(Default)]
struct EngineGate {
    engine: OnceLock<Engine>,
    /// Open: with the engine, or with none (the replay will not run).
    open: Mutex<bool>,
    changed: Condvar,
}

impl EngineGate {
    /// Opens the gate, with `engine` if there is one.
    fn open(&self, engine: Option<Engine>) {
        if let Some(e) = engine {
            let _ = self.engine.set(e);
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        *open = true;
        self.changed.notify_all();
    }

    /// The engine, once the gate is open (none if it opened without one).
    fn wait(&self) -> Option<&Engine> {
        if let Some(e) = self.engine.get() {
            return Some(e);
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            open = self
                .changed
                .wait(open)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(open);
        self.engine.get()
    }
}

/// Every piece through `driver` on the calling thread.
async fn serial(
    driver: &mut Driver,
    inputs: &[Input],
    naming: &Naming,
    local: &mut (dyn FnMut(&Alert) + Send),
    error: &mut (dyn FnMut(String) + Send),
) {
    for read in ReadPieces::new(inputs, naming) {
        match read {
            Read::Piece {
                name,
                bytes,
                source,
            } => {
                let outcome = driver.analyse(&bytes, &source, local).await;
                report(&name, outcome, error);
            }
            Read::Error(e) => error(e),
            Read::End { name, long_lines } => end_input(driver, &name, long_lines, error).await,
        }
    }
}

/// What reading the inputs gives, in input order: pieces (with their text source), what could
/// not be read, and the end of each input. One reader for both the serial and the parallel
/// replay, so they cannot differ in what they read.
enum Read {
    /// A piece of input `name`.
    Piece {
        name: String,
        bytes: Vec<u8>,
        source: TextSource,
    },
    /// An input, or the rest of one, that could not be read.
    Error(String),
    /// The end of input `name` (`long_lines`: lines scanned in part).
    End { name: String, long_lines: u64 },
}

/// Every piece of every input, in order (an unreadable input or piece is an error and the
/// next input follows).
struct ReadPieces<'a> {
    inputs: std::slice::Iter<'a, Input>,
    naming: &'a Naming,
    current: Option<(&'a Input, String, Pieces)>,
    /// The end of an input whose read error was just given.
    pending_end: Option<Read>,
}

impl<'a> ReadPieces<'a> {
    fn new(inputs: &'a [Input], naming: &'a Naming) -> Self {
        ReadPieces {
            inputs: inputs.iter(),
            naming,
            current: None,
            pending_end: None,
        }
    }
}

impl Iterator for ReadPieces<'_> {
    type Item = Read;

    fn next(&mut self) -> Option<Read> {
        if let Some(end) = self.pending_end.take() {
            return Some(end);
        }
        let Some((input, name, pieces)) = &mut self.current else {
            let input = self.inputs.next()?;
            match open(input) {
                Ok(pieces) => self.current = Some((input, input.display(), pieces)),
                Err(e) => return Some(Read::Error(e.to_string())),
            }
            return self.next();
        };
        // A read error ends the input (the pieces before it were given).
        let error = match pieces.next_piece() {
            Ok(Some(piece)) => {
                return Some(Read::Piece {
                    name: name.clone(),
                    source: self.naming.source(input, piece.first_line),
                    bytes: piece.bytes,
                });
            }
            Ok(None) => None,
            Err(e) => Some(Read::Error(e.to_string())),
        };
        let (_, name, pieces) = self.current.take()?;
        let end = Read::End {
            name,
            long_lines: pieces.stats().long_lines,
        };
        Some(match error {
            Some(error) => {
                self.pending_end = Some(end);
                error
            }
            None => end,
        })
    }
}

/// Reports what analysing a piece of input `name` found wrong.
fn report(name: &str, outcome: InputOutcome, error: &mut (dyn FnMut(String) + Send)) {
    for e in outcome.record_errors {
        error(format!(
            "{name}: record {}: {}",
            e.origin.index + 1,
            e.error
        ));
    }
    if let Some(e) = outcome.error {
        error(format!("{name}: {e}"));
    }
}

/// After the last piece of an input: warns about cut lines and publishes its alerts.
async fn end_input(
    driver: &mut Driver,
    name: &str,
    long_lines: u64,
    error: &mut (dyn FnMut(String) + Send),
) {
    if long_lines > 0 {
        tracing::warn!(input = %name, lines = long_lines, "lines longer than a block were scanned in part");
    }
    if let Err(e) = driver.publish_pending().await {
        error(format!("{name}: {e}"));
    }
}

/// What the reader thread hands on, in input order.
enum Item {
    /// A piece being prepared by a worker.
    Piece {
        name: String,
        prepared: tokio::sync::oneshot::Receiver<Prepared>,
    },
    /// An input or a piece that could not be read.
    Error(String),
    /// The end of an input.
    End { name: String, long_lines: u64 },
}

/// A piece for a worker: its bytes, its text source, whether it is the last piece of the
/// replay, and where to send the result.
type Job = (
    Vec<u8>,
    TextSource,
    bool,
    tokio::sync::oneshot::Sender<Prepared>,
);

/// Prepared pieces that may wait for the driver, per worker. With one, a worker that had
/// finished its piece while the driver was still on an earlier, slower one could take no other
/// (the reader waited for room): on the 69 MB corpus two threads ran 1.54–1.59× one thread;
/// with two, 1.70–1.71×; with three, 1.73–1.79× (interleaved, 9 and 11 rounds), at 1–2 MB
/// more peak RSS (20 million one-byte lines on two threads: 36.1 → 42.0 MB; bound 64 MB).
const WAITING_PER_WORKER: usize = 3;

/// Sets the reader and `threads` workers going; the workers analyse once the gate opens.
fn start(inputs: &[Input], naming: &Naming, threads: usize, config: &Config) -> Started {
    let gate = Arc::new(EngineGate::default());
    // A rendezvous: a piece is read only when a worker is free to take it, so at most
    // `threads` pieces are being prepared and `WAITING_PER_WORKER × threads` wait for the
    // driver (memory stays a few pieces whatever the input's size).
    let (jobs, job_queue) = mpsc::sync_channel::<Job>(0);
    let job_queue = Arc::new(Mutex::new(job_queue));
    // Workers with a piece. The last piece (the only one of a single payload, as in a cold
    // start) is analysed on the threads that are idle when it starts too; other pieces keep to
    // their worker, so that a long replay never has more threads at work than `threads`.
    let busy = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let queue = Arc::clone(&job_queue);
            let busy = Arc::clone(&busy);
            let gate = Arc::clone(&gate);
            let config = config.clone();
            std::thread::spawn(move || {
                loop {
                    // A poisoned queue means another worker panicked: stop too (the pieces
                    // left are reported as not analysed).
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    let Ok((bytes, source, last, reply)) = job else {
                        return;
                    };
                    let others = busy.fetch_add(1, Ordering::AcqRel).min(threads - 1);
                    let idle = if last { threads - others } else { 1 };
                    let prepared = pipeline::prepare_when_ready(
                        &|| gate.wait(),
                        &config,
                        &bytes,
                        &source,
                        idle,
                    );
                    busy.fetch_sub(1, Ordering::AcqRel);
                    let _ = reply.send(prepared);
                }
            })
        })
        .collect();
    let (items, ordered) = tokio::sync::mpsc::channel::<Item>(WAITING_PER_WORKER * threads);
    let reader = {
        let (inputs, naming) = (inputs.to_vec(), naming.clone());
        std::thread::spawn(move || read_all(&inputs, &naming, &jobs, &items))
    };
    Started {
        gate,
        workers,
        reader,
        ordered,
    }
}

/// Opens the gate with `driver`'s engine (unless [`Replay::open`] did) and takes the prepared
/// pieces in input order.
async fn drive(
    mut started: Started,
    driver: &mut Driver,
    local: &mut (dyn FnMut(&Alert) + Send),
    error: &mut (dyn FnMut(String) + Send),
) {
    started.gate.open(Some(driver.pipeline().engine().clone()));
    while let Some(item) = started.ordered.recv().await {
        match item {
            Item::Piece { name, prepared } => match prepared.await {
                Ok(p) => report(&name, driver.analyse_prepared(p, local).await, error),
                Err(_) => error(format!("{name}: internal error: a piece was not analysed")),
            },
            Item::Error(e) => error(e),
            Item::End { name, long_lines } => end_input(driver, &name, long_lines, error).await,
        }
    }
    let Started {
        workers, reader, ..
    } = started;
    for t in workers.into_iter().chain(std::iter::once(reader)) {
        if t.join().is_err() {
            error("internal error: a replay thread panicked".to_owned());
        }
    }
}

/// The reader thread: every piece of every input, in order, to the workers and (as a promise
/// of its result) to the driver. Stops when the driver stops listening.
fn read_all(
    inputs: &[Input],
    naming: &Naming,
    jobs: &mpsc::SyncSender<Job>,
    items: &tokio::sync::mpsc::Sender<Item>,
) {
    let mut reads = ReadPieces::new(inputs, naming);
    // What was read past the current piece to know whether another follows: ends and errors,
    // and at most the next piece.
    let mut ahead: VecDeque<Read> = VecDeque::new();
    let is_piece = |r: &Read| matches!(r, Read::Piece { .. });
    while let Some(read) = ahead.pop_front().or_else(|| reads.next()) {
        let item = match read {
            Read::Piece {
                name,
                bytes,
                source,
            } => {
                if !ahead.iter().any(is_piece) {
                    for r in reads.by_ref() {
                        let piece = is_piece(&r);
                        ahead.push_back(r);
                        if piece {
                            break;
                        }
                    }
                }
                let last = !ahead.iter().any(is_piece);
                let (reply, prepared) = tokio::sync::oneshot::channel();
                if jobs.send((bytes, source, last, reply)).is_err() {
                    return;
                }
                Item::Piece { name, prepared }
            }
            Read::Error(e) => Item::Error(e),
            Read::End { name, long_lines } => Item::End { name, long_lines },
        };
        if items.blocking_send(item).is_err() {
            return;
        }
    }
}
