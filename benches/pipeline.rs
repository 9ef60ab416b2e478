//! Throughput of decode, scan and the full pipeline over a generated ~1 MB payload, and the
//! cost of building the detector set. Throughput is per byte of uncompressed payload JSON.
//!
//! `cargo bench --bench pipeline` (add `-- --quick` for a fast pass). At the end it prints the
//! end-to-end / decode-only ratio measured in the same run.

mod corpus;
mod timing;

use std::hint::black_box;
use std::sync::Arc;
use timing::{median, time};

use criterion::{Criterion, Throughput};
use logwarden::decode::{Limits, TextSource, decode_input};
use logwarden::detect::Scratch;
use logwarden::{Config, DetectorSet, Pipeline};

struct Fixture {
    payload_len: usize,
    event: String,
    messages: Vec<String>,
    detectors: Arc<DetectorSet>,
    /// The built-in content rules alone (no Sigma event rules), for the before/after ratio.
    content_only: Arc<DetectorSet>,
    /// The built-in set with every content rule present twice (renamed copies): cost must
    /// stay flat in rule count.
    doubled: Arc<DetectorSet>,
    /// The built-in set with every event (Sigma) rule present twice (renamed copies).
    doubled_events: Arc<DetectorSet>,
}

/// The files directly under `dir` (relative to the crate) ending in `.ext`, sorted.
fn files(dir: &str, ext: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

/// The built-in content rule files (`detectors/*.toml`), sorted.
fn content_files() -> Vec<std::path::PathBuf> {
    files("detectors", "toml")
}

fn doubled() -> DetectorSet {
    let mut b = DetectorSet::builder().builtin();
    for f in content_files() {
        let text = std::fs::read_to_string(&f).expect("detector file");
        b = b.source(
            &format!("copy-of-{}", f.display()),
            &text.replace("id = \"", "id = \"copy-"),
        );
    }
    b.build().expect("doubled rules")
}

/// The built-in Sigma files (`detectors/events/*.yml`), sorted.
fn event_files() -> Vec<std::path::PathBuf> {
    files("detectors/events", "yml")
}

fn doubled_events() -> DetectorSet {
    let mut b = DetectorSet::builder().builtin();
    for f in event_files() {
        let text = std::fs::read_to_string(&f).expect("detector file");
        // Renamed copies: new names and ids (a correlation copy counts the original rules).
        let copy = text
            .replace("\nname: ", "\nname: copy-")
            .replace("\nid: ", "\nid: copy-");
        b = b.sigma_source(&format!("copy-of-{}", f.display()), &copy);
    }
    b.build().expect("doubled event rules")
}

fn content_only() -> DetectorSet {
    let mut b = DetectorSet::builder();
    for f in content_files() {
        b = b.path(&f).expect("detector file");
    }
    b.build().expect("content rules")
}

fn fixture() -> Fixture {
    let payload = corpus::payload(42, 1 << 20);
    let event = corpus::lambda_event(&payload);
    let v: serde_json::Value = serde_json::from_str(&payload).expect("corpus is JSON");
    let messages = v["logEvents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["message"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let f = Fixture {
        payload_len: payload.len(),
        event,
        messages,
        detectors: Arc::new(DetectorSet::builtin().expect("built-in detectors")),
        content_only: Arc::new(content_only()),
        doubled: Arc::new(doubled()),
        doubled_events: Arc::new(doubled_events()),
    };
    // A large literal set builds its DFA (in the background) once it has searched 4 MiB with
    // its NFA: every set searches that much first, so that the benchmarks time the steady
    // state. The cold-start line at the end times a fresh set.
    for set in [&f.detectors, &f.content_only, &f.doubled, &f.doubled_events] {
        let mut p = Pipeline::new(Arc::clone(set), Config::default());
        for _ in 0..(5 << 20) / f.payload_len.max(1) + 1 {
            black_box(end_to_end(&f, &mut p));
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    f
}

fn decode_only(f: &Fixture) -> usize {
    let mut n = 0;
    let src = TextSource::default();
    let _ = decode_input(f.event.as_bytes(), &src, &Limits::default(), &mut |b| {
        n += b.events.len();
    });
    n
}

fn end_to_end(f: &Fixture, p: &mut Pipeline) -> usize {
    let n = run_pipeline(f, p);
    p.finish(&mut |a| {
        black_box(a);
    });
    n
}

fn run_pipeline(f: &Fixture, p: &mut Pipeline) -> usize {
    let mut n = 0;
    let _ = p.process_input(f.event.as_bytes(), &TextSource::default(), &mut |a| {
        black_box(a);
        n += 1;
    });
    n
}

fn benches(c: &mut Criterion, f: &Fixture) {
    let mut g = c.benchmark_group("payload_1mb");
    g.throughput(Throughput::Bytes(f.payload_len as u64));
    g.bench_function("decode", |b| b.iter(|| black_box(decode_only(f))));
    g.bench_function("scan", |b| {
        let mut scratch = Scratch::default();
        let mut out = Vec::new();
        b.iter(|| {
            for m in &f.messages {
                out.clear();
                f.detectors
                    .content()
                    .scan(m.as_bytes(), &mut scratch, &mut out);
            }
            black_box(out.len())
        })
    });
    g.bench_function("pipeline", |b| {
        let mut p = Pipeline::new(Arc::clone(&f.detectors), Config::default());
        b.iter(|| black_box(end_to_end(f, &mut p)))
    });
    g.bench_function("pipeline_2x_content_rules", |b| {
        let mut p = Pipeline::new(Arc::clone(&f.doubled), Config::default());
        b.iter(|| black_box(end_to_end(f, &mut p)))
    });
    g.bench_function("pipeline_2x_event_rules", |b| {
        let mut p = Pipeline::new(Arc::clone(&f.doubled_events), Config::default());
        b.iter(|| black_box(end_to_end(f, &mut p)))
    });
    g.bench_function("pipeline_content_rules_only", |b| {
        let mut p = Pipeline::new(Arc::clone(&f.content_only), Config::default());
        b.iter(|| black_box(end_to_end(f, &mut p)))
    });
    g.finish();
    c.bench_function("detector_build", |b| {
        b.iter(|| black_box(DetectorSet::builtin().map(|s| s.rules().len())))
    });
}

fn main() {
    let f = fixture();
    // The bench is only worth its numbers if the pipeline still finds what the corpus plants.
    let mut check = Pipeline::new(Arc::clone(&f.detectors), Config::default());
    let mut alerts = Vec::new();
    let _ = check.process_input(f.event.as_bytes(), &TextSource::default(), &mut |a| {
        alerts.push(a.rule_id)
    });
    check.finish(&mut |a| alerts.push(a.rule_id));
    assert!(
        !alerts.is_empty(),
        "the corpus's planted secret produced no alert"
    );
    println!("corpus alerts: {alerts:?}");
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &f);
    c.final_summary();
    // The ratios the performance targets are stated in, measured in this run. The four
    // measurements are interleaved round by round, so that a change in the machine's load
    // (it is shared and noisy) hits all of them alike.
    let mut p = Pipeline::new(Arc::clone(&f.detectors), Config::default());
    let mut pc = Pipeline::new(Arc::clone(&f.content_only), Config::default());
    let mut pd = Pipeline::new(Arc::clone(&f.doubled), Config::default());
    let mut pe = Pipeline::new(Arc::clone(&f.doubled_events), Config::default());
    let mut rounds: [Vec<f64>; 5] = Default::default();
    for _ in 0..31 {
        rounds[0].push(time(|| {
            black_box(decode_only(&f));
        }));
        rounds[1].push(time(|| {
            black_box(end_to_end(&f, &mut p));
        }));
        rounds[2].push(time(|| {
            black_box(end_to_end(&f, &mut pc));
        }));
        rounds[3].push(time(|| {
            black_box(end_to_end(&f, &mut pd));
        }));
        rounds[4].push(time(|| {
            black_box(end_to_end(&f, &mut pe));
        }));
    }
    // Ratios are the medians of each round's own ratio: a round's measurements are taken one
    // after the other, so a burst of load from elsewhere skews a few rounds, not the ratio.
    let paired = |a: &[f64], b: &[f64]| median(a.iter().zip(b).map(|(x, y)| x / y).collect());
    let decode_per_e2e = paired(&rounds[0], &rounds[1]);
    let content_per_e2e = paired(&rounds[2], &rounds[1]);
    let e2e_per_doubled = paired(&rounds[1], &rounds[3]);
    let e2e_per_doubled_events = paired(&rounds[1], &rounds[4]);
    let [decode, e2e, content, doubled, doubled_events] = rounds.map(median);
    // Cold start: a fresh detector set (lazily compiled regexes included), then the first
    // payload through it.
    let mut build = Vec::new();
    let mut first = Vec::new();
    for _ in 0..7 {
        let mut set = None;
        build.push(time(|| {
            set = Some(DetectorSet::builtin().expect("built-in detectors"));
        }));
        let set = Arc::new(set.expect("built"));
        let mut fresh = Pipeline::new(set, Config::default());
        first.push(time(|| {
            black_box(end_to_end(&f, &mut fresh));
        }));
    }
    println!(
        "cold start: detector build {:.1} ms, then the first payload {:.1} ms (medians of 7)",
        median(build) * 1e3,
        median(first) * 1e3
    );
    let mb = f.payload_len as f64 / 1e6;
    println!(
        "ratio: decode-only {:.0} MB/s, end-to-end {:.0} MB/s, end-to-end/decode = {:.2} (payload {:.2} MB, {} events)",
        mb / decode,
        mb / e2e,
        decode_per_e2e,
        mb,
        f.messages.len()
    );
    println!(
        "ratio: content rules only {:.0} MB/s, with event rules {:.0} MB/s, with/without = {:.2}",
        mb / content,
        mb / e2e,
        content_per_e2e
    );
    println!(
        "ratio: {} rules {:.0} MB/s, {} rules {:.0} MB/s, 2x/1x = {:.2}",
        f.detectors.rules().len(),
        mb / e2e,
        f.doubled.rules().len(),
        mb / doubled,
        e2e_per_doubled
    );
    println!(
        "ratio: {} event rules {:.0} MB/s, {} event rules {:.0} MB/s, 2x/1x event rules = {:.2}",
        f.detectors.events().rules().len(),
        mb / e2e,
        f.doubled_events.events().rules().len(),
        mb / doubled_events,
        e2e_per_doubled_events
    );
}
