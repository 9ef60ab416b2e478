//! Runs the full pipeline over the benchmark corpus in a loop, for profilers:
//! `CARGO_PROFILE_BENCH_DEBUG=line-tables-only cargo build --profile bench --example profile` and
//! `perf record --call-graph dwarf target/release/examples/profile 200`
//! (`profile N build` loops over building the detector set instead).
#[path = "../benches/corpus.rs"]
mod corpus;

use std::sync::Arc;
use std::time::Instant;

use logwarden::decode::TextSource;
use logwarden::{Config, DetectorSet, Pipeline};

fn main() {
    let iters: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    if std::env::args().nth(2).as_deref() == Some("build") {
        let start = Instant::now();
        for _ in 0..iters {
            let _ = DetectorSet::builtin().expect("built-in detectors");
        }
        eprintln!(
            "detector build: {:.2} ms",
            start.elapsed().as_secs_f64() * 1e3 / iters as f64
        );
        return;
    }
    let payload = corpus::payload(42, 1 << 20);
    let event = corpus::lambda_event(&payload);
    let detectors = Arc::new(DetectorSet::builtin().expect("built-in detectors"));
    let mut p = Pipeline::new(detectors, Config::default());
    let mut alerts = 0usize;
    let start = Instant::now();
    for _ in 0..iters {
        let _ = p.process_input(event.as_bytes(), &TextSource::default(), &mut |_| {
            alerts += 1
        });
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{iters} x {} bytes: {:.1} MB/s, {alerts} alerts",
        payload.len(),
        (iters * payload.len()) as f64 / secs / 1e6
    );
}
